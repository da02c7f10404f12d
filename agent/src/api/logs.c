/* SPDX-License-Identifier: Apache-2.0 */

/*
 * A store's logs: which pods and containers it has, and one container's log, read to its end or
 * followed as it grows (text/plain, as the cluster gives it). The store's owner and admins may
 * read them; another account's store answers exactly as one that does not exist.
 *
 * The cluster is read by a thread of the stream's own (the Kubernetes client blocks), into a
 * bounded buffer the connection drains. A connection with nothing to send does not hold an HTTP
 * thread: it is suspended until the reader brings more (as the live stream does, stream.c), and
 * a reader whose buffer is full waits for the client. Each log stream counts as a stream under
 * limits.streams_per_account and limits.max_streams, from its request until its reader is gone.
 */

#include <inttypes.h>
#include <poll.h>

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/audit.h"

#define LOG_TAIL_DEFAULT 200U
/* How often a reader waiting for room in a full buffer looks whether it should stop. */
#define LOG_FULL_WAIT_USEC (500 * USEC_PER_MSEC)

struct LogStream {
        ApiServer *server;
        struct MHD_Connection *connection;
        LogStream *prev, *next; /* in server->log_streams, under parked_lock */
        Store *store;
        char *pod, *container;
        StoreLogRequest req;
        int64_t account_id;

        pthread_mutex_t lock;
        pthread_cond_t cond; /* room in the buffer, or the end */
        char *buf;
        size_t cap, head, len; /* ring buffer: len bytes from head */
        bool parked;           /* the connection is suspended, waiting for data */
        bool done;             /* the reader has finished: what is in buf is all */
        bool closed;           /* the response is gone: no more resuming */
        unsigned refs;         /* the response and the reader thread */
        atomic_bool cancel;
};

static void audit_logs(ApiServer *s, RequestContext *c, const Store *store, AuditResult result,
                       const char *error)
{
        api_audit_store_read(s, c, "logs.read", store, result, error);
}

/* The store, if the caller may see it; answers (and audits) the refusal itself otherwise. */
static int visible_store(ApiServer *s, RequestContext *c, struct _u_response *resp, Store **ret)
{
        int r = store_get_visible(api_db(s), &c->caller, c->params[0], ret);

        if (r == -ENOENT) {
                audit_logs(s, c, NULL, AUDIT_DENIED, error_info(ERROR_NOT_FOUND)->code);
                api_error_of(resp, ERROR_NOT_FOUND, "No store with id '%.*s'.",
                             UTF8_PREFIX(c->params[0], 40));
                return r;
        }
        if (r < 0) {
                api_error(resp, 500, "internal", "Reading the store failed.");
                return r;
        }
        if (!s->hooks.store_log_sources || !s->hooks.store_logs) {
                api_error(resp, 503, "cluster_unavailable", "Reading logs needs the cluster connection.");
                return -EOPNOTSUPP;
        }
        return 0;
}

/* The store's pods, read now; answers the failure itself. */
static int read_sources(ApiServer *s, RequestContext *c, const Store *store, struct _u_response *resp,
                        json_t **ret)
{
        int r;

        if (!api_cluster_read_begin(s)) {
                api_set_retry_after(resp, 1);
                api_error(resp, 503, "cluster_unavailable",
                          "Too many requests are waiting on the cluster; try again in a second.");
                return -EBUSY;
        }
        r = s->hooks.store_log_sources(s->hooks.userdata, store, ret);
        api_cluster_read_end(s);
        if (r < 0) {
                log_struct_errno(LOG_WARNING, r,
                                 LOG_FIELDS("STORE_ID", store->id, "REQUEST_ID", c->request_id),
                                 "Listing the pods of store '%s' failed: %m", store->name);
                api_error(resp, 503, "cluster_unavailable",
                          "The cluster could not be asked for the pods of store '%s'; try again later.",
                          store->name);
        }
        return r;
}

int h_store_log_sources(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        json_t *pods = NULL;

        if (visible_store(s, c, resp, &store) < 0)
                return 0;
        if (read_sources(s, c, store, resp, &pods) < 0)
                return 0;
        api_set_json(resp, 200, json_pack("{s:s, s:o}", "store", store->id, "pods", pods));
        return 0;
}

static void log_stream_unref(LogStream *ls)
{
        bool last;

        pthread_mutex_lock(&ls->lock);
        last = --ls->refs == 0;
        pthread_mutex_unlock(&ls->lock);
        if (!last)
                return;
        api_stream_release(ls->server, ls->account_id);
        pthread_mutex_destroy(&ls->lock);
        pthread_cond_destroy(&ls->cond);
        store_free(ls->store);
        free(ls->pod);
        free(ls->container);
        free(ls->buf);
        free(ls);
}

/* Called with ls->lock held: a suspended connection is resumed to read what came (or the end). */
static void log_stream_wake(LogStream *ls)
{
        if (ls->parked && !ls->closed) {
                ls->parked = false;
                MHD_resume_connection(ls->connection);
        }
}

/* The reader's sink: copies into the ring buffer, waiting for room while the client is slow. */
static int log_sink(const char *data, size_t n, void *userdata)
{
        LogStream *ls = userdata;
        int r = 0;

        pthread_mutex_lock(&ls->lock);
        while (n > 0) {
                size_t room, tail, k;

                if (ls->closed || atomic_load(&ls->cancel)) {
                        r = 1;
                        break;
                }
                room = ls->cap - ls->len;
                if (room == 0) {
                        struct timespec ts;
                        uint64_t until = now_usec() + LOG_FULL_WAIT_USEC;

                        log_stream_wake(ls);
                        ts.tv_sec = (time_t) (until / USEC_PER_SEC);
                        ts.tv_nsec = (long) ((until % USEC_PER_SEC) * NSEC_PER_USEC);
                        (void) pthread_cond_timedwait(&ls->cond, &ls->lock, &ts);
                        continue;
                }
                tail = (ls->head + ls->len) % ls->cap;
                k = MIN(MIN(n, room), ls->cap - tail);
                memcpy(ls->buf + tail, data, k);
                ls->len += k;
                data += k;
                n -= k;
        }
        log_stream_wake(ls);
        pthread_mutex_unlock(&ls->lock);
        return r;
}

/* Appends a line of our own (why the log ended) when it fits. */
static void log_note(LogStream *ls, const char *text)
{
        _cleanup_free_ char *line = NULL;

        if (asprintf(&line, "\n[storeagent] %s\n", text) < 0)
                return;
        pthread_mutex_lock(&ls->lock);
        if (ls->cap - ls->len >= strlen(line))
                for (const char *p = line; *p; p++) {
                        ls->buf[(ls->head + ls->len) % ls->cap] = *p;
                        ls->len++;
                }
        pthread_mutex_unlock(&ls->lock);
}

static void *log_reader_main(void *userdata)
{
        LogStream *ls = userdata;
        ApiServer *s = ls->server;
        int r;

        r = s->hooks.store_logs(s->hooks.userdata, ls->store, &ls->req, &ls->cancel, log_sink, ls);
        if (r < 0 && r != -ECANCELED && !atomic_load(&ls->cancel))
                log_note(ls, r == -ENOENT ? "The container has no log (any more)."
                                          : "Reading the log from the cluster failed; see the journal.");
        pthread_mutex_lock(&ls->lock);
        ls->done = true;
        log_stream_wake(ls);
        pthread_mutex_unlock(&ls->lock);
        log_stream_unref(ls);

        pthread_mutex_lock(&s->parked_lock);
        s->log_threads--;
        pthread_cond_broadcast(&s->log_threads_cond);
        pthread_mutex_unlock(&s->parked_lock);
        return NULL;
}

static ssize_t log_read(void *userdata, uint64_t pos, char *out, size_t max)
{
        LogStream *ls = userdata;
        ssize_t k = 0;

        pthread_mutex_lock(&ls->lock);
        if (ls->len > 0) {
                size_t n = MIN(MIN(max, ls->len), ls->cap - ls->head);
                memcpy(out, ls->buf + ls->head, n);
                ls->head = (ls->head + n) % ls->cap;
                ls->len -= n;
                k = (ssize_t) n;
                pthread_cond_signal(&ls->cond);
        } else if (ls->done || atomic_load(&ls->cancel) || atomic_load(&ls->server->stopping))
                k = U_STREAM_END;
        else {
                /* Nothing yet: libmicrohttpd asks again once the reader resumes the connection. */
                ls->parked = true;
                MHD_suspend_connection(ls->connection);
        }
        pthread_mutex_unlock(&ls->lock);
        return k;
}

static void log_free(void *userdata)
{
        LogStream *ls = userdata;
        ApiServer *s = ls->server;

        pthread_mutex_lock(&s->parked_lock);
        if (ls->prev)
                ls->prev->next = ls->next;
        else if (s->log_streams == ls)
                s->log_streams = ls->next;
        if (ls->next)
                ls->next->prev = ls->prev;
        ls->prev = ls->next = NULL;
        pthread_mutex_unlock(&s->parked_lock);

        pthread_mutex_lock(&ls->lock);
        ls->closed = true;
        atomic_store(&ls->cancel, true);
        pthread_cond_broadcast(&ls->cond);
        pthread_mutex_unlock(&ls->lock);
        log_stream_unref(ls);
}

void api_log_streams_close(ApiServer *s)
{
        assert(s);
        pthread_mutex_lock(&s->parked_lock);
        for (LogStream *ls = s->log_streams; ls; ls = ls->next) {
                pthread_mutex_lock(&ls->lock);
                atomic_store(&ls->cancel, true);
                pthread_cond_broadcast(&ls->cond);
                log_stream_wake(ls);
                pthread_mutex_unlock(&ls->lock);
        }
        pthread_mutex_unlock(&s->parked_lock);
}

/*
 * A suspended connection is out of libmicrohttpd's sight: a client that goes away while its log is
 * quiet would hold its stream (and its place under the limits) until the container next writes. The
 * waker looks at the sockets of parked log streams instead, and ends those whose peer hung up.
 */
void api_log_streams_check(ApiServer *s)
{
        assert(s);
        pthread_mutex_lock(&s->parked_lock);
        for (LogStream *ls = s->log_streams; ls; ls = ls->next) {
                const union MHD_ConnectionInfo *info;
                struct pollfd pfd = { .events = POLLRDHUP };

                pthread_mutex_lock(&ls->lock);
                if (ls->parked && !ls->closed) {
                        info = MHD_get_connection_info(ls->connection, MHD_CONNECTION_INFO_CONNECTION_FD);
                        pfd.fd = info ? info->connect_fd : -1;
                        if (pfd.fd >= 0 && poll(&pfd, 1, 0) > 0 &&
                            (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))) {
                                atomic_store(&ls->cancel, true);
                                pthread_cond_broadcast(&ls->cond);
                                log_stream_wake(ls);
                        }
                }
                pthread_mutex_unlock(&ls->lock);
        }
        pthread_mutex_unlock(&s->parked_lock);
}

void api_log_streams_wait(ApiServer *s)
{
        assert(s);
        pthread_mutex_lock(&s->parked_lock);
        while (s->log_threads > 0)
                pthread_cond_wait(&s->log_threads_cond, &s->parked_lock);
        pthread_mutex_unlock(&s->parked_lock);
}

static int query_bool(const struct _u_request *req, const char *key, bool *ret, struct _u_response *resp)
{
        const char *v = u_map_get(req->map_url, key);

        if (!v || streq(v, "false") || streq(v, "0"))
                *ret = false;
        else if (streq(v, "true") || streq(v, "1") || streq(v, ""))
                *ret = true;
        else {
                api_error(resp, 400, "invalid_parameter", "Query parameter '%s' must be true or false.",
                          key);
                return -EINVAL;
        }
        return 0;
}

int h_store_logs(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(json_decrefp) json_t *pods = NULL;
        struct MHD_Connection *connection = api_conn_current();
        const char *container = u_map_get(req->map_url, "container"), *pod = NULL, *which = NULL;
        uint64_t tail;
        bool follow;
        ApiLimits lim;
        unsigned open = 0;
        LogStream *ls;
        pthread_t thread;
        int r;

        api_limits_get(s, &lim);
        if (api_parse_query_u64(req, "tail", MIN((uint64_t) LOG_TAIL_DEFAULT, lim.max_log_lines),
                                lim.max_log_lines, &tail, resp) < 0 ||
            query_bool(req, "follow", &follow, resp) < 0)
                return 0;
        if (container && (isempty(container) || strlen(container) > 63)) {
                api_error(resp, 400, "invalid_parameter",
                          "Query parameter 'container' must name a container.");
                return 0;
        }
        if (visible_store(s, c, resp, &store) < 0)
                return 0;
        /* The pod must be one of the store's now, and the container one of the pod's. */
        if (read_sources(s, c, store, resp, &pods) < 0)
                return 0;
        if (store_log_source_find(pods, c->params[1], container, &pod, &which) < 0) {
                audit_logs(s, c, store, AUDIT_FAILED, error_info(ERROR_NOT_FOUND)->code);
                return api_error_of(resp, ERROR_NOT_FOUND, "Store '%s' has no pod '%s'%s%s%s.",
                                    store->name, c->params[1], container ? " with a container '" : "",
                                    strempty(container), container ? "'" : "");
        }
        if (!connection)
                return api_error(resp, 503, "unavailable", "Log streams are not available.");

        r = api_stream_acquire(s, c->caller.account_id, lim.streams_per_account, lim.max_streams, &open);
        if (r == -EDQUOT) {
                api_audit_denied(s, c, NULL, "logs.read", "store", store->name, "stream_limited");
                api_set_retry_after(resp, 15);
                return api_error(resp, 429, "stream_limited",
                                 "This account has %u streams open (live and logs); "
                                 "limits.streams_per_account is %" PRIu64 ". Close one, or try again later.",
                                 open, lim.streams_per_account);
        }
        if (r == -EUSERS) {
                api_set_retry_after(resp, 15);
                return api_error(resp, 503, "streams_full",
                                 "%u streams are open on this platform; limits.max_streams is %" PRIu64
                                 ". Try again later.", open, lim.max_streams);
        }
        if (r < 0)
                return api_error(resp, 503, "unavailable", "Log streams are not available.");

        ls = calloc(1, sizeof *ls);
        if (ls) {
                ls->cap = lim.log_buffer_bytes;
                ls->buf = malloc(ls->cap);
                ls->pod = strdup(c->params[1]);
                ls->container = strdup(which);
        }
        if (!ls || !ls->buf || !ls->pod || !ls->container) {
                if (ls) {
                        free(ls->buf);
                        free(ls->pod);
                        free(ls->container);
                }
                free(ls);
                api_stream_release(s, c->caller.account_id);
                return api_error(resp, 503, "unavailable", "Log streams are not available.");
        }
        ls->server = s;
        ls->connection = connection;
        ls->account_id = c->caller.account_id;
        ls->store = TAKE_PTR(store);
        ls->req = (StoreLogRequest) {
                .pod = ls->pod,
                .container = ls->container,
                .tail_lines = tail,
                /* A read to the end is bounded; a followed log is bounded by the buffer and its reader. */
                .limit_bytes = follow ? 0 : lim.max_log_bytes,
                .follow = follow,
        };
        ls->refs = 2;
        pthread_mutex_init(&ls->lock, NULL);
        pthread_cond_init(&ls->cond, NULL);

        pthread_mutex_lock(&s->parked_lock);
        if (atomic_load(&s->stopping)) {
                pthread_mutex_unlock(&s->parked_lock);
                ls->refs = 1;
                log_stream_unref(ls);
                return api_error(resp, 503, "unavailable", "The server is stopping.");
        }
        r = -pthread_create(&thread, NULL, log_reader_main, ls);
        if (r == 0) {
                (void) pthread_detach(thread);
                s->log_threads++;
                ls->next = s->log_streams;
                if (s->log_streams)
                        s->log_streams->prev = ls;
                s->log_streams = ls;
        }
        pthread_mutex_unlock(&s->parked_lock);
        if (r < 0) {
                ls->refs = 1;
                log_stream_unref(ls);
                return api_error(resp, 503, "unavailable", "Log streams are not available.");
        }

        audit_logs(s, c, ls->store, AUDIT_OK, NULL);
        ulfius_set_stream_response(resp, 200, log_read, log_free, U_STREAM_SIZE_UNKNOWN, 4096, ls);
        u_map_put(resp->map_header, "Content-Type", "text/plain; charset=utf-8");
        u_map_put(resp->map_header, "Cache-Control", "no-store");
        u_map_put(resp->map_header, "X-Accel-Buffering", "no");
        u_map_put(resp->map_header, "X-Content-Type-Options", "nosniff");
        return 0;
}
