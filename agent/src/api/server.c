/* SPDX-License-Identifier: Apache-2.0 */

/* The server's lifecycle: build it from the configuration, start, quiesce and stop, reload limits. */

#include <fcntl.h>
#include <unistd.h>
#include <stdatomic.h>

#include "api/api-internal.h"
#include "api/ratelimit.h"
#include "basic/log.h"
#include "basic/util.h"

static void db_key_destroy(void *p)
{
        db_close(p);
}

static void apply_limits(ApiServer *s, const Config *config)
{
        pthread_mutex_lock(&s->limits_lock);
        s->limits = (ApiLimits){
                .max_body_bytes = config->max_body_bytes,
                .max_json_depth = config->max_json_depth,
                .session_ttl_usec = config->session_ttl_sec * USEC_PER_SEC,
                .requests_per_window = config->requests_per_window,
                .window_sec = config->window_sec,
                .signin_failures = config->signin_failures,
                .signin_window_sec = config->signin_window_sec,
                .streams_per_account = config->streams_per_account,
                .max_streams = config->max_streams,
                .max_log_lines = config->max_log_lines,
                .history_keep_sec = config->history_keep_sec,
                .history_max_changes = config->history_max_changes,
                .stats_max_creates = config->stats_max_creates,
                .max_log_bytes = config->max_log_bytes,
                .log_buffer_bytes = config->log_buffer_bytes,
                .webhook_max_url_bytes = config->webhook_max_url_bytes,
                .webhook_max_per_account = config->webhook_max_per_account,
                .hostnames = config->listen_hostnames,
                .trusted_proxies = config->trusted_proxies,
                .secure_cookies = config->secure_cookies,
        };
        store_limits_from_config(config, &s->limits.store);
        backup_policy_from_config(config, &s->limits.backups);
        pthread_mutex_unlock(&s->limits_lock);
        ratelimit_configure(s->ratelimit, config->requests_per_window, config->window_sec * USEC_PER_SEC);
        ratelimit_configure(s->ratelimit_anon, config->requests_per_window, config->window_sec * USEC_PER_SEC);
        ratelimit_configure(s->signin_failures, config->signin_failures, config->signin_window_sec * USEC_PER_SEC);
        /* ulfius truncates bodies at this size; one byte over the limit tells "too large" apart. */
        if (s->instance_initialized)
                s->instance.max_post_body_size = config->max_body_bytes + 1;
}

int api_server_new(ApiServer **ret, const Config *config, Runner *runner, const ApiHooks *hooks)
{
        _cleanup_(api_server_freep) ApiServer *s = NULL;
        int r;

        assert(ret);
        assert(config);
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->web_root_fd = -EBADF;
        pthread_mutex_init(&s->limits_lock, NULL);
        pthread_mutex_init(&s->streams_lock, NULL);
        pthread_mutex_init(&s->parked_lock, NULL);
        pthread_cond_init(&s->log_threads_cond, NULL);
        if (pthread_key_create(&s->db_key, db_key_destroy) != 0)
                return -ENOMEM;
        s->db_key_created = true;
        s->db_path = strdup(config->database);
        s->state_dir = strdup(config->state_dir);
        s->web_root = strdup(config->web_root);
        if (!s->db_path || !s->web_root || !s->state_dir || asprintf(&s->db_lock_path, "%s.lock", config->database) < 0)
                return -ENOMEM;
        s->runner = runner;
        /* Headers plus MHD's read and write buffers; never below what a normal request needs. */
        s->connection_memory = MAX((size_t) config->max_header_bytes * 2, (size_t) 32 * 1024);
        r = api_conn_init(s, config);
        if (r < 0)
                return r;
        if (hooks)
                s->hooks = *hooks;
        s->started_at = now_usec();

        r = ratelimit_new(&s->ratelimit, config->requests_per_window, config->window_sec * USEC_PER_SEC);
        if (r < 0)
                return r;
        r = ratelimit_new(&s->ratelimit_anon, config->requests_per_window, config->window_sec * USEC_PER_SEC);
        if (r < 0)
                return r;
        r = ratelimit_new(&s->signin_failures, config->signin_failures, config->signin_window_sec * USEC_PER_SEC);
        if (r < 0)
                return r;
        r = metrics_new(&s->metrics);
        if (r < 0)
                return r;
        apply_limits(s, config);

        s->web_root_fd = open(s->web_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->web_root_fd < 0) {
                s->web_root_fd = -errno;
                log_notice("Dashboard files not found in '%s'; serving the API only.", s->web_root);
        }

        /* ulfius wants a non-zero port even though we hand it a socket. */
        if (ulfius_init_instance(&s->instance, 1, NULL, NULL) != U_OK)
                return -ENOMEM;
        s->instance_initialized = true;
        /* One byte over the limit tells "too large" apart from "exactly the limit" (ulfius truncates). */
        s->instance.max_post_body_size = config->max_body_bytes + 1;
        s->instance.check_utf8 = 1;
        s->instance.allowed_post_processor = U_POST_PROCESS_NONE;
        if (ulfius_set_default_endpoint(&s->instance, api_on_request, s) != U_OK)
                return -ENOMEM;

        *ret = TAKE_PTR(s);
        return 0;
}

/*
 * Connections over listen.max_connections or listen.connections_per_address are let in, a few
 * at a time, to be answered 503 or 429 (conn.c); beyond these spares libmicrohttpd closes them
 * at accept, before they cost a thread, and no HTTP answer is possible.
 */
#define CONNECTIONS_SPARE 16
#define CONNECTIONS_PER_ADDRESS_SPARE 4

/*
 * The HTTP threads: two per core, at least eight. A handler that waits (credentials are read from a
 * Secret in the cluster, a write may wait out the database's busy timeout) stalls the connections of
 * its own thread; api_cluster_read_begin() keeps half of the threads free of cluster waits. More
 * threads cost memory under load (each opens its own SQLite connection) and buy no throughput.
 */
static unsigned pool_threads(void)
{
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        return (unsigned) MIN(MAX(2 * n, 8L), 64L);
}

bool api_cluster_read_begin(ApiServer *s)
{
        unsigned n = atomic_fetch_add(&s->cluster_reads, 1);

        if (n < s->cluster_reads_max)
                return true;
        atomic_fetch_sub(&s->cluster_reads, 1);
        return false;
}

void api_cluster_read_end(ApiServer *s)
{
        atomic_fetch_sub(&s->cluster_reads, 1);
}

int api_server_start(ApiServer *s, int fd)
{
        unsigned threads = pool_threads();
        int r;
        struct MHD_OptionItem options[] = {
                { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) api_request_completed, s },
                { MHD_OPTION_NOTIFY_CONNECTION, (intptr_t) api_conn_notify, s },
                { MHD_OPTION_URI_LOG_CALLBACK, (intptr_t) api_uri_logger, NULL },
                { MHD_OPTION_LISTEN_SOCKET, fd, NULL },
                { MHD_OPTION_CONNECTION_LIMIT, (intptr_t) (s->max_connections + CONNECTIONS_SPARE), NULL },
                { MHD_OPTION_PER_IP_CONNECTION_LIMIT,
                  (intptr_t) (s->connections_per_address + CONNECTIONS_PER_ADDRESS_SPARE), NULL },
                /* Restarted by every byte, so it only ends silent connections; conn.c bounds a request's time. */
                { MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t) s->idle_timeout_sec, NULL },
                /* The per-connection pool holds the request line and headers: this is the header limit. */
                { MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t) s->connection_memory, NULL },
                { MHD_OPTION_THREAD_POOL_SIZE, (intptr_t) threads, NULL },
                { MHD_OPTION_END, 0, NULL },
        };

        assert(fd >= 0);

        s->cluster_reads_max = MAX(threads / 2, 1u);
        r = api_conn_watchdog_start(s);
        if (r < 0)
                return r;
        r = api_streams_start(s);
        if (r < 0) {
                api_conn_watchdog_stop(s);
                return r;
        }
        /*
         * A small pool of threads, each polling its share of the connections: a thread per
         * connection cost a stack, an allocator arena and a SQLite connection for every client,
         * and the switching between them. Live streams do not wait in a thread; they suspend
         * their connections (MHD_ALLOW_SUSPEND_RESUME, stream.c). MHD_USE_ITC lets us quiesce
         * (stop accepting without shutting the socket systemd owns) before stopping. poll(), not epoll:
         * with epoll, a worker of the pool and MHD_quiesce_daemon() may both take the listening socket out
         * of the epoll set, and the loser's ENOENT is an MHD_PANIC (abort) at shutdown.
         */
        if (ulfius_start_framework_with_mhd_options(&s->instance,
                                                    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                                                            MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ITC |
                                                            MHD_USE_ERROR_LOG,
                                                    options) != U_OK) {
                api_streams_stop(s);
                api_conn_watchdog_stop(s);
                return -EIO;
        }
        s->started = true;
        return 0;
}

void api_server_stop(ApiServer *s)
{
        if (!s || !s->started)
                return;
        atomic_store(&s->stopping, true);
        /* Quiesce first: MHD gives the listening socket back instead of shutting it down. */
        if (s->instance.mhd_daemon)
                (void) MHD_quiesce_daemon(s->instance.mhd_daemon);
        api_streams_close(s);
        store_changed_notify();
        ulfius_stop_framework(&s->instance);
        api_streams_stop(s);
        api_conn_watchdog_stop(s);
        s->started = false;
}

void api_server_reload(ApiServer *s, const Config *config)
{
        assert(s);
        assert(config);
        apply_limits(s, config);
}

unsigned api_server_in_flight(ApiServer *s)
{
        assert(s);
        return atomic_load(&s->in_flight);
}

uint64_t api_server_requests_total(ApiServer *s)
{
        assert(s);
        return atomic_load(&s->requests_total);
}

uint64_t api_server_streams(ApiServer *s)
{
        assert(s);
        return atomic_load(&s->streams);
}

ApiServer *api_server_free(ApiServer *s)
{
        if (!s)
                return NULL;
        api_server_stop(s);
        if (s->instance_initialized)
                ulfius_clean_instance(&s->instance);
        api_conn_done(s);
        ratelimit_free(s->ratelimit);
        ratelimit_free(s->ratelimit_anon);
        ratelimit_free(s->signin_failures);
        free(s->stream_counts);
        pthread_mutex_destroy(&s->streams_lock);
        pthread_mutex_destroy(&s->parked_lock);
        pthread_cond_destroy(&s->log_threads_cond);
        metrics_free(s->metrics);
        safe_close(s->web_root_fd);
        free(s->db_path);
        free(s->db_lock_path);
        free(s->state_dir);
        free(s->web_root);
        if (s->db_key_created)
                pthread_key_delete(s->db_key);
        pthread_mutex_destroy(&s->limits_lock);
        free(s);
        return NULL;
}
