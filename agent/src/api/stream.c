/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The live stream: server-sent events carrying the changes of the stores the caller sees, with
 * a ping when quiet. The stream checks its credential again every few seconds and on every
 * wake-up (revoking a token and disabling an account wake every stream), and ends when the
 * token is revoked or expired, the account disabled, or the session signed out or expired.
 * Event ids count this stream's events: the store sequence numbers would show how busy other
 * accounts are. Each account may hold limits.streams_per_account streams at once, the platform
 * limits.max_streams.
 *
 * A stream with nothing to send does not hold a thread: its connection is suspended (parked)
 * and the waker thread resumes it when a store changes, when its credential is due for a check
 * or its ping for sending, and when the daemon stops. The HTTP threads are a small pool shared
 * by every connection (api_server_start()), so a stream that waited in one would stall them.
 */

#include <inttypes.h>
#include <stdatomic.h>

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/util.h"
#include "core/token.h"

#define STREAM_PING_USEC (15 * USEC_PER_SEC)
#define STREAM_RECHECK_USEC (5 * USEC_PER_SEC)
/* How often the waker looks at parked streams when nothing changes: pings and checks hold to within this. */
#define STREAM_WAKER_TICK_USEC (250 * USEC_PER_MSEC)

struct Stream {
        ApiServer *server;
        struct MHD_Connection *connection;
        Stream *parked_prev, *parked_next;
        bool parked;
        uint64_t wake_at;    /* monotonic: when a parked stream is resumed even if nothing changed */
        uint64_t sent_at;    /* monotonic: the last time it sent anything, for the ping */
        Caller caller; /* whose view of the stores the stream carries */
        char *credential; /* the bearer token or session cookie it was opened with, checked again */
        bool via_session;
        uint64_t checked_at;
        uint64_t event_id;
        bool ended;
        int64_t seq;
        uint64_t seen;
        char *pending;
        size_t pending_len, pending_off;
        bool greeted;
        bool read_failing; /* the last read of changes failed: said once, and tried again at the next change */
};

/*
 * Counts a stream of the account, unless the account holds per_account already (-EDQUOT) or
 * the platform max_total (-EUSERS): every stream holds a connection, and without a platform
 * cap many accounts' streams could take every one of them.
 */
int api_stream_acquire(ApiServer *s, int64_t account_id, uint64_t per_account, uint64_t max_total,
                       unsigned *ret_open)
{
        StreamCount *slot = NULL;
        unsigned total = 0;
        int r;

        pthread_mutex_lock(&s->streams_lock);
        for (size_t i = 0; i < s->n_stream_counts; i++) {
                total += s->stream_counts[i].n;
                if (s->stream_counts[i].account_id == account_id)
                        slot = &s->stream_counts[i];
        }
        if (!slot) {
                StreamCount *n = reallocarray(s->stream_counts, s->n_stream_counts + 1, sizeof *n);
                if (n) {
                        s->stream_counts = n;
                        slot = &n[s->n_stream_counts++];
                        *slot = (StreamCount) { .account_id = account_id };
                }
        }
        if (!slot) {
                r = -ENOMEM;
                *ret_open = total;
        } else if (slot->n >= per_account) {
                r = -EDQUOT;
                *ret_open = slot->n;
        } else if (total >= max_total) {
                r = -EUSERS;
                *ret_open = total;
        } else {
                slot->n++;
                r = 0;
        }
        pthread_mutex_unlock(&s->streams_lock);
        return r;
}

void api_stream_release(ApiServer *s, int64_t account_id)
{
        pthread_mutex_lock(&s->streams_lock);
        for (size_t i = 0; i < s->n_stream_counts; i++)
                if (s->stream_counts[i].account_id == account_id && s->stream_counts[i].n > 0) {
                        s->stream_counts[i].n--;
                        break;
                }
        pthread_mutex_unlock(&s->streams_lock);
}

/* Whether the stream's token or session still stands; the reason it ends otherwise. */
static const char *stream_check(Stream *st, Db *db)
{
        Caller now;
        int r;

        st->checked_at = mono_usec();
        if (!db)
                return NULL; /* cannot tell now; the next check will */
        r = st->via_session ? session_verify(db, st->credential, &now, NULL) : token_verify(db, st->credential, &now);
        if (r == -ENOMEM || r == -EIO)
                return NULL;
        if (r < 0)
                return r == -EKEYEXPIRED ? "token_expired"
                       : r == -EPERM     ? "account_disabled"
                       : st->via_session ? "signed_out"
                                         : "token_revoked";
        return NULL;
}

/* Called with parked_lock held. */
static void stream_unpark(ApiServer *s, Stream *st)
{
        if (st->parked_prev)
                st->parked_prev->parked_next = st->parked_next;
        else
                s->parked = st->parked_next;
        if (st->parked_next)
                st->parked_next->parked_prev = st->parked_prev;
        st->parked_prev = st->parked_next = NULL;
        st->parked = false;
}

static void stream_free(void *p)
{
        Stream *st = p;
        if (!st)
                return;
        pthread_mutex_lock(&st->server->parked_lock);
        if (st->parked)
                stream_unpark(st->server, st);
        pthread_mutex_unlock(&st->server->parked_lock);
        atomic_fetch_sub(&st->server->streams, 1);
        api_stream_release(st->server, st->caller.account_id);
        erase_and_freep(&st->credential);
        free(st->pending);
        free(st);
}

/* Fills st->pending with what is due now: > 0 something, 0 nothing yet (park), < 0 the end. */
static int stream_fill(Stream *st)
{
        ApiServer *s = st->server;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        uint64_t now = mono_usec();
        FILE *f;

        if (st->ended)
                return -ECONNRESET;
        if (atomic_load(&s->stopping))
                return -ECANCELED;
        f = open_memstream(&buf, &n);
        if (!f)
                return -ENOMEM;
        if (!st->greeted) {
                fputs("retry: 3000\n: storeagent live stream\n\n", f);
                st->greeted = true;
        } else {
                uint64_t counter = store_changed_counter();
                bool changed = counter != st->seen;
                const char *ended = NULL;
                Db *db = api_db(s);

                st->seen = counter;
                if (changed || now - st->checked_at >= STREAM_RECHECK_USEC)
                        ended = stream_check(st, db);
                if (ended) {
                        fprintf(f, "event: end\ndata: {\"reason\":\"%s\"}\n\n", ended);
                        st->ended = true;
                } else if (changed) {
                        json_t *items = NULL, *item;
                        size_t i;
                        int r = db ? store_changes_since(db, &st->caller, st->seq, &items, &st->seq) : -ENOTCONN;

                        if (r < 0 && !st->read_failing)
                                log_warning_errno(r, "Live stream: failed to read store changes, retrying: %m");
                        st->read_failing = r < 0;
                        if (r >= 0) {
                                json_array_foreach(items, i, item) {
                                        _cleanup_free_ char *data = json_dumps(item, JSON_COMPACT);
                                        if (data)
                                                fprintf(f, "id: %" PRIu64 "\nevent: store\ndata: %s\n\n",
                                                        ++st->event_id, data);
                                }
                                json_decref(items);
                        }
                }
                if (ftell(f) == 0 && now - st->sent_at >= STREAM_PING_USEC)
                        fputs("event: ping\ndata: {}\n\n", f);
        }
        fclose(f);
        if (n == 0)
                return 0;
        st->sent_at = now;
        free(st->pending);
        st->pending = TAKE_PTR(buf);
        st->pending_len = n;
        st->pending_off = 0;
        return 1;
}

/* Suspends the stream's connection until the waker resumes it; from the content reader, as libmicrohttpd allows. */
static int stream_park(Stream *st)
{
        ApiServer *s = st->server;

        pthread_mutex_lock(&s->parked_lock);
        if (s->streams_closing) {
                pthread_mutex_unlock(&s->parked_lock);
                return -ECANCELED;
        }
        st->wake_at = MIN(st->sent_at + STREAM_PING_USEC, st->checked_at + STREAM_RECHECK_USEC);
        st->parked_prev = NULL;
        st->parked_next = s->parked;
        if (s->parked)
                s->parked->parked_prev = st;
        s->parked = st;
        st->parked = true;
        /* Under the lock, so the waker cannot resume it before it is suspended. */
        MHD_suspend_connection(st->connection);
        pthread_mutex_unlock(&s->parked_lock);
        return 0;
}

static ssize_t stream_read(void *p, uint64_t pos, char *out, size_t max)
{
        Stream *st = p;

        if (st->pending_off >= st->pending_len) {
                int r = stream_fill(st);
                if (r < 0)
                        return U_STREAM_END;
                if (r == 0)
                        /* Nothing to send: libmicrohttpd asks again once the connection is resumed. */
                        return stream_park(st) < 0 ? U_STREAM_END : 0;
        }
        size_t k = MIN(max, st->pending_len - st->pending_off);
        memcpy(out, st->pending + st->pending_off, k);
        st->pending_off += k;
        return (ssize_t) k;
}

static void *stream_waker_main(void *p)
{
        ApiServer *s = p;
        uint64_t seen = store_changed_counter();

        for (;;) {
                uint64_t now, counter;

                (void) store_changed_wait(&seen, STREAM_WAKER_TICK_USEC);
                now = mono_usec();
                counter = store_changed_counter();
                pthread_mutex_lock(&s->parked_lock);
                if (s->stream_waker_stop) {
                        pthread_mutex_unlock(&s->parked_lock);
                        break;
                }
                for (Stream *st = s->parked, *next; st; st = next) {
                        next = st->parked_next;
                        /* A stream's own counter: a change between its last look and parking still wakes it. */
                        if (counter == st->seen && now < st->wake_at)
                                continue;
                        stream_unpark(s, st);
                        MHD_resume_connection(st->connection);
                }
                pthread_mutex_unlock(&s->parked_lock);
                api_log_streams_check(s);
        }
        return NULL;
}

int api_streams_start(ApiServer *s)
{
        int r;

        assert(s);
        s->streams_closing = s->stream_waker_stop = false;
        r = pthread_create(&s->stream_waker, NULL, stream_waker_main, s);
        if (r != 0)
                return -r;
        s->stream_waker_started = true;
        return 0;
}

void api_streams_close(ApiServer *s)
{
        assert(s);
        pthread_mutex_lock(&s->parked_lock);
        s->streams_closing = true;
        /* libmicrohttpd refuses to stop while a connection is suspended; resumed, each reads its end. */
        while (s->parked) {
                Stream *st = s->parked;
                stream_unpark(s, st);
                MHD_resume_connection(st->connection);
        }
        pthread_mutex_unlock(&s->parked_lock);
        api_log_streams_close(s);
}

void api_streams_stop(ApiServer *s)
{
        assert(s);
        if (!s->stream_waker_started)
                return;
        pthread_mutex_lock(&s->parked_lock);
        s->stream_waker_stop = true;
        pthread_mutex_unlock(&s->parked_lock);
        store_changed_notify();
        (void) pthread_join(s->stream_waker, NULL);
        s->stream_waker_started = false;
        api_log_streams_wait(s);
}

int h_stream(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        const char *auth = u_map_get_case(req->map_header, "Authorization");
        const char *cookie = u_map_get(req->map_cookie, API_SESSION_COOKIE);
        Stream *st;
        ApiLimits lim;
        unsigned open = 0;
        Db *db = api_db(s);
        struct MHD_Connection *connection = api_conn_current();
        int r;

        api_limits_get(s, &lim);
        /* A stream must be able to park (its connection known) rather than hold a pool thread. */
        if (!connection)
                return api_error(resp, 503, "unavailable", "The live stream is not available.");
        r = api_stream_acquire(s, c->caller.account_id, lim.streams_per_account, lim.max_streams, &open);
        if (r == -EDQUOT) {
                api_audit_denied(s, c, NULL, "stream.open", NULL, NULL, "stream_limited");
                api_set_retry_after(resp, STREAM_PING_USEC / USEC_PER_SEC);
                return api_error(resp, 429, "stream_limited",
                                 "This account has %u live streams open; limits.streams_per_account is %" PRIu64
                                 ". Close one, or try again later.",
                                 open, lim.streams_per_account);
        }
        if (r == -EUSERS) {
                api_set_retry_after(resp, STREAM_PING_USEC / USEC_PER_SEC);
                return api_error(resp, 503, "streams_full",
                                 "%u live streams are open on this platform; limits.max_streams is %" PRIu64
                                 ". Try again later.",
                                 open, lim.max_streams);
        }
        if (r < 0)
                return api_error(resp, 503, "unavailable", "The live stream is not available.");
        st = calloc(1, sizeof *st);
        if (st)
                st->credential = strdup(c->via_session ? strempty(cookie) : strempty(auth ? auth + 7 : NULL));
        if (!st || !st->credential || !db) {
                if (st)
                        free(st->credential);
                free(st);
                api_stream_release(s, c->caller.account_id);
                return api_error(resp, 503, "unavailable", "The live stream is not available.");
        }
        st->server = s;
        st->connection = connection;
        st->caller = c->caller;
        st->caller.source = st->caller.request_id = NULL; /* they live in the request, which ends first */
        st->via_session = c->via_session;
        st->checked_at = mono_usec();
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
