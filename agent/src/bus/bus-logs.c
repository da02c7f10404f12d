/* SPDX-License-Identifier: Apache-2.0 */

/*
 * GetLogs: a container's log for storectl, handed over as the read end of a pipe. The store's pods are
 * listed off the main loop (bus-offload.c), then a thread of the
 * call's own reads the log from the cluster (the Kubernetes client blocks) into the pipe, to the
 * end of the log or, followed, until the reader goes away or the daemon stops; a watcher thread
 * notices readers that went away while the log was quiet. At most limits.max_streams at once.
 */

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include "basic/dbus-names.h"
#include "basic/log.h"
#include "basic/util.h"
#include "bus/bus-internal.h"

#define WATCH_TICK_MSEC 250

struct BusLog {
        BusLogs *logs;
        BusLog *next;
        BusHooks hooks;
        Store *store;
        char *pod, *container;
        StoreLogRequest req;
        int fd; /* the pipe's write end */
        atomic_bool cancel;
};

static void bus_log_free(BusLog *l)
{
        if (!l)
                return;
        store_free(l->store);
        free(l->pod);
        free(l->container);
        safe_close(l->fd);
        free(l);
}

static int bus_log_sink(const char *data, size_t n, void *userdata)
{
        BusLog *l = userdata;

        while (n > 0) {
                ssize_t k = write(l->fd, data, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return 1; /* the reader is gone */
                data += k;
                n -= (size_t) k;
        }
        return 0;
}

static void *bus_log_main(void *userdata)
{
        BusLog *l = userdata;
        BusLogs *logs = l->logs;
        int r;

        r = l->hooks.store_logs(l->hooks.userdata, l->store, &l->req, &l->cancel, bus_log_sink, l);
        if (r < 0 && r != -ECANCELED && !atomic_load(&l->cancel)) {
                const char *note = "\n[storeagent] Reading the log from the cluster failed.\n";
                (void) bus_log_sink(note, strlen(note), l);
        }

        pthread_mutex_lock(&logs->lock);
        for (BusLog **p = &logs->list; *p; p = &(*p)->next)
                if (*p == l) {
                        *p = l->next;
                        break;
                }
        logs->n--;
        pthread_cond_broadcast(&logs->cond);
        pthread_mutex_unlock(&logs->lock);
        bus_log_free(l);
        return NULL;
}

/* Ends the logs whose readers closed their end: a quiet log would not notice until it next wrote. */
static void *bus_log_watch_main(void *userdata)
{
        BusLogs *logs = userdata;

        pthread_mutex_lock(&logs->lock);
        while (!logs->stopping) {
                struct timespec ts;
                uint64_t until = now_usec() + WATCH_TICK_MSEC * USEC_PER_MSEC;

                for (BusLog *l = logs->list; l; l = l->next) {
                        struct pollfd pfd = { .fd = l->fd, .events = 0 };
                        if (poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLERR | POLLHUP | POLLNVAL)))
                                atomic_store(&l->cancel, true);
                }
                ts.tv_sec = (time_t) (until / USEC_PER_SEC);
                ts.tv_nsec = (long) ((until % USEC_PER_SEC) * NSEC_PER_USEC);
                (void) pthread_cond_timedwait(&logs->cond, &logs->lock, &ts);
        }
        pthread_mutex_unlock(&logs->lock);
        return NULL;
}

void bus_logs_init(BusLogs *logs, uint64_t max)
{
        assert(logs);
        *logs = (BusLogs) { .max = max };
        pthread_mutex_init(&logs->lock, NULL);
        pthread_cond_init(&logs->cond, NULL);
}

void bus_logs_done(BusLogs *logs)
{
        assert(logs);
        pthread_mutex_lock(&logs->lock);
        logs->stopping = true;
        for (BusLog *l = logs->list; l; l = l->next)
                atomic_store(&l->cancel, true);
        while (logs->n > 0)
                pthread_cond_wait(&logs->cond, &logs->lock);
        pthread_cond_broadcast(&logs->cond);
        pthread_mutex_unlock(&logs->lock);
        if (logs->watcher_started)
                (void) pthread_join(logs->watcher, NULL);
        pthread_mutex_destroy(&logs->lock);
        pthread_cond_destroy(&logs->cond);
}

/* What GetLogs takes to the thread that lists the store's pods, and back (bus-offload.c). */
typedef struct LogCall {
        BusHooks hooks;
        Caller caller;
        Store *store;
        char *pod, *container; /* as asked: NULL for the default */
        uint64_t tail;
        bool follow;
} LogCall;

static void log_call_free(void *userdata)
{
        LogCall *c = userdata;

        if (!c)
                return;
        store_free(c->store);
        free(c->pod);
        free(c->container);
        free(c);
}

static int log_sources_work(Db *db, void *userdata, json_t **ret)
{
        LogCall *c = userdata;

        return c->hooks.store_log_sources(c->hooks.userdata, c->store, ret);
}

/* On the main loop, once the pods are known: the pipe, and the thread that fills it. */
static int log_start(Bus *b, sd_bus_message *m, LogCall *c, json_t *pods, sd_bus_error *error)
{
        BusLogs *logs = &b->logs;
        _cleanup_close_ int rfd = -EBADF;
        const char *pod, *container;
        int fds[2], r;
        BusLog *l;
        pthread_t thread;

        r = store_log_source_find(pods, c->pod, c->container, &pod, &container);
        bus_audit(b, &c->caller, "logs.read", "store", c->store->name, c->store->id,
                  r == -ENOENT ? ERROR_NOT_FOUND : r);
        if (r == -ENOENT)
                return bus_error_of(error, ERROR_NOT_FOUND,
                                    "Store '%s' has no pod or container of that name.", c->store->name);

        pthread_mutex_lock(&logs->lock);
        if (logs->n >= logs->max || logs->stopping) {
                pthread_mutex_unlock(&logs->lock);
                return bus_error_of(error, ERROR_TRY_AGAIN,
                                    "%u logs are being read; limits.max_streams is %" PRIu64 ".", logs->n,
                                    logs->max);
        }
        logs->n++;
        pthread_mutex_unlock(&logs->lock);

        l = calloc(1, sizeof *l);
        if (!l || pipe2(fds, O_CLOEXEC) < 0) {
                r = l ? -errno : -ENOMEM;
                free(l);
                goto undo;
        }
        rfd = fds[0];
        l->fd = fds[1];
        l->logs = logs;
        l->hooks = b->hooks;
        l->store = TAKE_PTR(c->store);
        l->pod = strdup(pod);
        l->container = strdup(container);
        if (!l->pod || !l->container) {
                bus_log_free(l);
                r = -ENOMEM;
                goto undo;
        }
        l->req = (StoreLogRequest) {
                .pod = l->pod,
                .container = l->container,
                .tail_lines = c->tail,
                .limit_bytes = c->follow ? 0 : b->limits_logs.max_log_bytes,
                .follow = c->follow,
        };

        pthread_mutex_lock(&logs->lock);
        if (!logs->watcher_started) {
                r = -pthread_create(&logs->watcher, NULL, bus_log_watch_main, logs);
                logs->watcher_started = r == 0;
        }
        r = -pthread_create(&thread, NULL, bus_log_main, l);
        if (r == 0) {
                (void) pthread_detach(thread);
                l->next = logs->list;
                logs->list = l;
        }
        pthread_mutex_unlock(&logs->lock);
        if (r < 0) {
                bus_log_free(l);
                goto undo;
        }
        return sd_bus_reply_method_return(m, "h", rfd);

undo:
        pthread_mutex_lock(&logs->lock);
        logs->n--;
        pthread_mutex_unlock(&logs->lock);
        return r;
}

static int log_sources_reply(Bus *b, sd_bus_message *m, int r, json_t *pods, void *userdata)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (r < 0)
                r = bus_store_error(&error, r, NULL);
        else
                r = log_start(b, m, userdata, pods, &error);
        if (sd_bus_error_is_set(&error))
                return sd_bus_reply_method_error(m, &error);
        return r;
}

/* The store's pods are listed on a thread of the call's own (bus-offload.c): the cluster may be slow. */
int bus_method_get_logs(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        const char *id, *pod_arg, *container_arg;
        uint64_t tail;
        int follow, r;
        LogCall *c;
        Caller caller;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ssstb", &id, &pod_arg, &container_arg, &tail, &follow);
        if (r < 0)
                return r;
        r = bus_resolve_store(b, &caller, id, &s, error);
        if (r < 0) {
                if (sd_bus_error_has_name(error, STOREAGENT_ERROR_NOT_FOUND))
                        bus_audit(b, &caller, "logs.read", "store", id, NULL, ERROR_NOT_FOUND);
                return r;
        }
        if (!b->hooks.store_log_sources || !b->hooks.store_logs)
                return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
                                        "This storeagentd cannot read logs.");
        if (tail > b->limits_logs.max_log_lines)
                return bus_error_of(error, ERROR_INVALID_REQUEST, "tail must be at most %" PRIu64 " lines.",
                                    b->limits_logs.max_log_lines);
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (LogCall) { .hooks = b->hooks, .caller = caller, .store = TAKE_PTR(s), .tail = tail,
                         .follow = follow, .pod = isempty(pod_arg) ? NULL : strdup(pod_arg),
                         .container = isempty(container_arg) ? NULL : strdup(container_arg) };
        if ((!isempty(pod_arg) && !c->pod) || (!isempty(container_arg) && !c->container)) {
                log_call_free(c);
                return -ENOMEM;
        }
        return bus_offload(b, m, log_sources_work, log_sources_reply, c, log_call_free, error);
}
