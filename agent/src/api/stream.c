/* SPDX-License-Identifier: Apache-2.0 */

/* The live stream: server-sent events carrying every store change, with a ping when quiet. */

#include <stdatomic.h>

#include "api/api-internal.h"
#include "basic/util.h"

#define STREAM_PING_USEC (15 * USEC_PER_SEC)

typedef struct Stream {
        ApiServer *server;
        Caller caller; /* whose view of the stores the stream carries */
        int64_t seq;
        uint64_t seen;
        char *pending;
        size_t pending_len, pending_off;
        bool greeted;
} Stream;

static void stream_free(void *p)
{
        Stream *st = p;
        if (!st)
                return;
        atomic_fetch_sub(&st->server->streams, 1);
        free(st->pending);
        free(st);
}

static int stream_fill(Stream *st)
{
        ApiServer *s = st->server;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        FILE *f;

        f = open_memstream(&buf, &n);
        if (!f)
                return -ENOMEM;
        if (!st->greeted) {
                fputs("retry: 3000\n: storeagent live stream\n\n", f);
                st->greeted = true;
        } else {
                uint64_t waited = 0;
                bool changed = false;

                /* Wait in short slices so a stopping daemon ends the stream promptly. */
                while (!atomic_load(&s->stopping) && waited < STREAM_PING_USEC) {
                        if (store_changed_wait(&st->seen, USEC_PER_SEC)) {
                                changed = true;
                                break;
                        }
                        waited += USEC_PER_SEC;
                }
                if (atomic_load(&s->stopping)) {
                        fclose(f);
                        return -ECANCELED;
                }
                if (changed) {
                        json_t *items = NULL, *item;
                        size_t i;
                        Db *db = api_db(s);

                        if (db && store_changes_since(db, &st->caller, st->seq, &items, &st->seq) >= 0) {
                                json_array_foreach(items, i, item) {
                                        _cleanup_free_ char *data = json_dumps(item, JSON_COMPACT);
                                        if (data)
                                                fprintf(f, "event: store\ndata: %s\n\n", data);
                                }
                                json_decref(items);
                        }
                }
                if (ftell(f) == 0)
                        fputs("event: ping\ndata: {}\n\n", f);
        }
        fclose(f);
        free(st->pending);
        st->pending = TAKE_PTR(buf);
        st->pending_len = n;
        st->pending_off = 0;
        return 0;
}

static ssize_t stream_read(void *p, uint64_t pos, char *out, size_t max)
{
        Stream *st = p;

        if (st->pending_off >= st->pending_len && stream_fill(st) < 0)
                return U_STREAM_END;
        size_t k = MIN(max, st->pending_len - st->pending_off);
        memcpy(out, st->pending + st->pending_off, k);
        st->pending_off += k;
        return (ssize_t) k;
}

int h_stream(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        Stream *st;
        Db *db = api_db(s);

        st = calloc(1, sizeof *st);
        if (!st || !db) {
                free(st);
                return api_error(resp, 503, "unavailable", "The live stream is not available.");
        }
        st->server = s;
        st->caller = c->caller;
        st->caller.source = st->caller.request_id = NULL; /* they live in the request, which ends first */
        st->seen = store_changed_counter();
        if (store_max_seq(db, &st->seq) < 0)
                st->seq = 0;
        atomic_fetch_add(&s->streams, 1);
        ulfius_set_stream_response(resp, 200, stream_read, stream_free, U_STREAM_SIZE_UNKNOWN, 4096, st);
        u_map_put(resp->map_header, "Content-Type", "text/event-stream");
        u_map_put(resp->map_header, "Cache-Control", "no-cache");
        u_map_put(resp->map_header, "X-Accel-Buffering", "no");
        return 0;
}
