/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "api/api.h"
#include "basic/log.h"
#include "basic/util.h"
#include "bus/bus.h"
#include "core/backup-schedule.h"
#include "core/db.h"
#include "core/runner.h"
#include "core/store.h"
#include "daemon/daemon.h"
#include "notify/webhook-sender.h"
#include "provision/provision.h"

#define STATUS_INTERVAL_USEC (5 * USEC_PER_SEC)
#define STOP_TIMEOUT_SEC 20

typedef struct Daemon {
        Config *config; /* owned; replaced on reload */
        const char *config_path;
        bool config_explicit;
        char instance_id[40];
        sd_event *event;
        Db *db;
        Runner *runner;
        WebhookSender *webhooks;
        Provisioner *provisioner;
        ApiServer *api;
        Bus *bus;
        int listen_fd;
        bool socket_activated;
        uint64_t idle_since;
        uint64_t last_requests;
        uint64_t last_finished;
        Config **loaded; /* configurations read on reload; kept until exit since modules borrow from them */
        size_t n_loaded;
} Daemon;

int daemon_log_database_error(const char *path, int r, const char *detail)
{
        const char *why = db_strerror(r);

        assert(path);
        assert(r < 0);
        if (!why)
                return log_struct_errno(LOG_ERR, r, LOG_FIELDS("DATABASE", path), "Failed to open database '%s': %m%s%s",
                                        path, detail ? ": " : "", strempty(detail));
        return log_struct_errno(LOG_ERR, r, LOG_FIELDS("DATABASE", path),
                                "Refusing to use database '%s': %s%s%s%s.", path, why, detail ? " (" : "",
                                strempty(detail), detail ? ")" : "");
}

static int make_listen_socket(const Config *c, int *ret)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
        struct sockaddr_in a4 = { .sin_family = AF_INET };
        const struct sockaddr *sa;
        socklen_t len;
        int one = 1;

        if (inet_pton(AF_INET, c->listen_address, &a4.sin_addr) == 1) {
                a4.sin_port = htons((uint16_t) c->listen_port);
                sa = (const struct sockaddr *) &a4;
                len = sizeof a4;
        } else if (inet_pton(AF_INET6, c->listen_address, &a6.sin6_addr) == 1) {
                a6.sin6_port = htons((uint16_t) c->listen_port);
                sa = (const struct sockaddr *) &a6;
                len = sizeof a6;
        } else
                return log_error_errno(-EINVAL, "listen.address '%s' is not an IPv4 or IPv6 address.",
                                       c->listen_address);

        fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to create socket: %m");
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, sa, len) < 0)
                return log_error_errno(-errno, "Failed to bind %s:%" PRIu64 ": %m", c->listen_address,
                                       c->listen_port);
        if (listen(fd, SOMAXCONN) < 0)
                return log_error_errno(-errno, "Failed to listen on %s:%" PRIu64 ": %m", c->listen_address,
                                       c->listen_port);
        *ret = TAKE_FD(fd);
        return 0;
}

/* Takes the first inet stream socket systemd passed; closes anything else it does not recognise. */
static int take_activated_socket(int *ret)
{
        char **names = NULL;
        int n, found = -EBADF;

        n = sd_listen_fds_with_names(true, &names);
        if (n < 0)
                return log_error_errno(n, "Failed to read the sockets passed by systemd: %m");
        for (int i = 0; i < n; i++) {
                int fd = SD_LISTEN_FDS_START + i;
                if (found < 0 && sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) > 0) {
                        found = fd;
                        (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
                        log_debug("Using socket-activated fd %d (%s).", fd, names ? names[i] : "?");
                } else {
                        log_warning("Closing unexpected socket-activated fd %d (%s).", fd, names ? names[i] : "?");
                        safe_close(fd);
                }
        }
        strv_free(names);
        if (n > 0 && found < 0)
                return log_error_errno(-EBADF, "systemd passed %d socket(s), but no listening TCP socket.", n);
        *ret = found;
        return n > 0 ? 1 : 0;
}

static void update_status(Daemon *d)
{
        _cleanup_(json_decrefp) json_t *counts = NULL;
        uint64_t pending = 0;

        if (store_count_by_status(d->db, &caller_system, &counts) < 0)
                return;
        (void) queue_count_active(d->db, &pending);
        (void) sd_notifyf(false,
                          "STATUS=%" JSON_INTEGER_FORMAT " ready, %" JSON_INTEGER_FORMAT " provisioning, %" JSON_INTEGER_FORMAT
                          " failed, %" JSON_INTEGER_FORMAT " deleting; %" PRIu64 " task(s) queued or running",
                          json_integer_value(json_object_get(counts, "READY")),
                          json_integer_value(json_object_get(counts, "PROVISIONING")) +
                                  json_integer_value(json_object_get(counts, "UPGRADING")),
                          json_integer_value(json_object_get(counts, "FAILED")),
                          json_integer_value(json_object_get(counts, "DELETING")), pending);
}

/* The daemon may leave when nothing happens for idle_exit seconds and systemd can start it again. */
static bool idle_exit_due(Daemon *d)
{
        uint64_t pending = 0, now = mono_usec();
        uint64_t requests = api_server_requests_total(d->api);
        uint64_t finished = d->runner ? runner_finished(d->runner) : 0;

        if (!d->socket_activated || d->config->idle_exit_sec == 0)
                return false;
        (void) queue_count_active(d->db, &pending);
        if (pending > 0 || api_server_in_flight(d->api) > 0 || api_server_streams(d->api) > 0 ||
            (d->runner && runner_busy(d->runner) > 0) || (d->bus && bus_busy(d->bus)) || requests != d->last_requests ||
            finished != d->last_finished) {
                d->idle_since = now;
                d->last_requests = requests;
                d->last_finished = finished;
                return false;
        }
        return now - d->idle_since >= d->config->idle_exit_sec * USEC_PER_SEC;
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Daemon *d = userdata;

        update_status(d);
        if (idle_exit_due(d)) {
                log_info("Idle for %" PRIu64 " s with nothing queued; exiting until the socket is used again.",
                         d->config->idle_exit_sec);
                return sd_event_exit(d->event, 0);
        }
        /* Time sources fire once; arm it again for the next interval. */
        int r = sd_event_source_set_time(s, usec + STATUS_INTERVAL_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/*
 * The backup scheduler's look: queues a backup of every store that is due, and removes the backups
 * of stores deleted longer ago than backups.keep_after_delete. The first look comes right after
 * the start, so a backup missed while the daemon was stopped is taken then (once).
 */
static int on_backup_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Daemon *d = userdata;
        BackupPolicy policy;
        StoreLimits limits;
        unsigned queued = 0;
        int r;

        backup_policy_from_config(d->config, &policy);
        store_limits_from_config(d->config, &limits);
        r = backup_schedule_run(d->db, &policy, &limits, now_usec(), &queued);
        if (r < 0)
                log_warning_errno(r, "Failed to queue scheduled backups, trying again at the next look: %m");
        if (queued > 0 && d->runner)
                runner_wake(d->runner);
        r = backup_expire(d->db, d->config->state_dir, d->config->backup_keep_after_delete_sec, now_usec(), NULL);
        if (r < 0)
                log_warning_errno(r, "Failed to remove the backups of deleted stores, trying again at the next look: %m");
        r = sd_event_source_set_time(s, mono_usec() + d->config->backup_scheduler_interval_sec * USEC_PER_SEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Daemon *d = userdata;

        log_info("Received %s; stopping.", strsignal((int) si->ssi_signo));
        return sd_event_exit(d->event, 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
        Daemon *d = userdata;
        _cleanup_free_ char *error = NULL;
        Config *fresh = NULL;
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%" PRIu64, mono_usec());
        r = config_load(d->config_path, !d->config_explicit, &fresh, &error);
        if (r < 0) {
                log_error("Reload refused, keeping the running configuration: %s", error ?: strerror(-r));
                (void) sd_notify(false, "READY=1");
                return 0;
        }
        /* Limits and logging apply at once; addresses, paths and worker counts need a restart. */
        log_set_max_level(log_level_from_string(fresh->log_level));
        api_server_reload(d->api, fresh);
        if (d->provisioner)
                provisioner_reload(d->provisioner, fresh);
        if (d->bus)
                bus_reload(d->bus, fresh);
        if (!streq(fresh->listen_address, d->config->listen_address) || fresh->listen_port != d->config->listen_port ||
            !streq(fresh->database, d->config->database) || fresh->workers != d->config->workers)
                log_notice("listen, database and workers changes take effect after a restart.");
        /* The old config stays alive: other modules borrowed strings from it. */
        Config **l = realloc(d->loaded, (d->n_loaded + 1) * sizeof *l);
        if (!l) {
                config_free(fresh);
                (void) sd_notify(false, "READY=1");
                return log_oom();
        }
        d->loaded = l;
        d->loaded[d->n_loaded++] = fresh;
        d->config = fresh;
        log_info("Configuration reloaded from %s.", d->config_path);
        (void) sd_notify(false, "READY=1");
        return 0;
}

static void on_task_queued(void *userdata)
{
        Daemon *d = userdata;
        if (d->runner)
                runner_wake(d->runner);
}

/* "127.0.0.1:8080" or "[::1]:8080": where fd listens, as the kernel says (a socket from
 * systemd may differ from the configuration); "?" when it cannot tell. */
static void socket_address(int fd, char *buf, size_t n)
{
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        char host[INET6_ADDRSTRLEN] = "";

        snprintf(buf, n, "?");
        if (getsockname(fd, (struct sockaddr *) &ss, &sl) < 0)
                return;
        if (ss.ss_family == AF_INET) {
                const struct sockaddr_in *a = (const struct sockaddr_in *) &ss;
                inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
                snprintf(buf, n, "%s:%u", host, ntohs(a->sin_port));
        } else if (ss.ss_family == AF_INET6) {
                const struct sockaddr_in6 *a = (const struct sockaddr_in6 *) &ss;
                inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
                snprintf(buf, n, "[%s]:%u", host, ntohs(a->sin6_port));
        }
}

/* The API's questions about the cluster, answered by the provisioner. */
static int hook_cluster_status(void *userdata, json_t **ret)
{
        return provisioner_cluster_status(userdata, ret);
}

static int hook_release_history(void *userdata, const Store *s, json_t **ret)
{
        return provisioner_release_history(userdata, s, ret);
}

static int hook_chart_versions(void *userdata, json_t **ret)
{
        return provisioner_chart_versions(userdata, ret);
}

static int hook_orphans(void *userdata, json_t **ret)
{
        return provisioner_orphans(userdata, ret);
}

static int hook_store_credentials(void *userdata, const Store *s, json_t **ret)
{
        return provisioner_store_credentials(userdata, s, ret);
}

static int hook_usage_status(void *userdata, json_t **ret)
{
        return provisioner_usage_status(userdata, ret);
}

static int hook_store_log_sources(void *userdata, const Store *s, json_t **ret)
{
        return provisioner_store_log_sources(userdata, s, ret);
}

static int hook_store_logs(void *userdata, const Store *s, const StoreLogRequest *req,
                           const atomic_bool *cancel, StoreLogSink sink, void *sink_userdata)
{
        return provisioner_store_logs(userdata, s, req, cancel, sink, sink_userdata);
}

static int hook_capacity(void *userdata, Db *db, bool details, json_t **ret)
{
        return provisioner_capacity(userdata, db, details, ret);
}

static int admit_store(void *userdata, Db *db, const char *chart_version, char *reason, size_t reason_len)
{
        return provisioner_admit(userdata, db, chart_version, reason, reason_len);
}

static int admit_upgrade(void *userdata, Db *db, const Store *s, const char *chart_version, char *reason,
                         size_t reason_len)
{
        return provisioner_admit_upgrade(userdata, db, s, chart_version, false, reason, reason_len);
}

int daemon_run(Config *config, const char *config_path, bool config_explicit)
{
        assert(config);

        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_close_ int lock_fd = -EBADF;
        _cleanup_free_ char *lock_path = NULL, *dir = NULL, *rid = NULL, *problem = NULL;
        Daemon d = { .config = config, .config_path = config_path, .config_explicit = config_explicit,
                     .listen_fd = -EBADF };
        ApiHooks hooks = {};
        int r;

        dir = strdup(config->database);
        if (!dir)
                return log_oom();
        r = mkdir_p(dirname(dir), 0750);
        if (r < 0)
                return log_error_errno(r, "Failed to create the database directory for '%s': %m", config->database);

        /* One daemon per database: the queue's lease recovery assumes nobody else works it. */
        if (asprintf(&lock_path, "%s.lock", config->database) < 0)
                return log_oom();
        lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock_fd < 0 && (errno == EROFS || errno == EACCES))
                return daemon_log_database_error(config->database, -errno, lock_path);
        if (lock_fd < 0)
                return log_error_errno(-errno, "Failed to open lock file '%s': %m", lock_path);
        if (flock(lock_fd, LOCK_EX | LOCK_NB) < 0)
                return log_error_errno(-errno, "Another storeagentd is using database '%s'.", config->database);

        /* A damaged page deep in the file would otherwise surface later, as 500s on some stores only. */
        r = db_check(config->database, &problem);
        if (r < 0)
                return daemon_log_database_error(config->database, r, problem);
        db_set_busy_timeout((unsigned) config->database_busy_timeout_ms);
        r = db_open(config->database, &db);
        if (r < 0)
                return daemon_log_database_error(config->database, r, NULL);
        d.db = db;

        r = random_hex(6, &rid);
        if (r < 0)
                return log_error_errno(r, "Failed to generate an instance id: %m");
        snprintf(d.instance_id, sizeof d.instance_id, "%d-%s", getpid(), rid);

        r = queue_release_stale(db, d.instance_id);
        if (r > 0)
                log_notice("Resuming %d task(s) interrupted by the previous run.", r);

        r = provisioner_new(&d.provisioner, config);
        if (r < 0)
                return log_error_errno(r, "Failed to set up provisioning: %m");

        RunnerOptions ro = {
                .db_path = config->database,
                .n_workers = (unsigned) config->workers,
                /* Renewed while the task runs (helm runs included), so it needs to outlast no single step. */
                .lease_usec = config->task_lease_sec * USEC_PER_SEC,
                .max_backoff_usec = 60 * USEC_PER_SEC,
                .instance_id = d.instance_id,
                .handler = provisioner_run_task,
                .userdata = d.provisioner,
                .cluster_probe = provisioner_probe_cluster,
                .capacity_recheck_usec = config->capacity_recheck_sec * USEC_PER_SEC,
        };
        r = runner_new(&d.runner, &ro);
        if (r < 0)
                return log_error_errno(r, "Failed to create the task runner: %m");

        r = webhook_sender_new(&d.webhooks, &(WebhookSenderOptions) {
                .db_path = config->database,
                .timeout_usec = config->webhook_timeout_sec * USEC_PER_SEC,
                .max_attempts = config->webhook_max_attempts,
                .retry_initial_usec = config->webhook_retry_initial_ms * USEC_PER_MSEC,
                .retry_max_usec = config->webhook_retry_max_sec * USEC_PER_SEC,
                .keep = config->webhook_log_keep,
                .poll_usec = config->webhook_poll_interval_ms * USEC_PER_MSEC,
                .allow_private = streq(config->webhook_private_destinations, "allow"),
        });
        if (r < 0)
                return log_error_errno(r, "Failed to create the webhook sender: %m");

        hooks = (ApiHooks) {
                .cluster_status = hook_cluster_status,
                .release_history = hook_release_history,
                .chart_versions = hook_chart_versions,
                .orphans = hook_orphans,
                .store_credentials = hook_store_credentials,
                .store_log_sources = hook_store_log_sources,
                .store_logs = hook_store_logs,
                .capacity = hook_capacity,
                .usage_status = hook_usage_status,
                .userdata = d.provisioner,
        };
        /* Before the API and D-Bus take requests: every create asks the cluster for room. */
        store_set_admission(admit_store, d.provisioner);
        store_set_upgrade_admission(admit_upgrade, d.provisioner);
        r = api_server_new(&d.api, config, d.runner, &hooks);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the HTTP server: %m");

        r = take_activated_socket(&d.listen_fd);
        if (r < 0)
                return r;
        d.socket_activated = r > 0;
        if (!d.socket_activated) {
                r = make_listen_socket(config, &d.listen_fd);
                if (r < 0)
                        return r;
        }

        r = sd_event_default(&event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        d.event = event;

        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        /* Block before any thread starts so no worker or MHD thread takes these signals. */
        pthread_sigmask(SIG_BLOCK, &mask, NULL);
        signal(SIGPIPE, SIG_IGN);
        (void) sd_event_add_signal(event, NULL, SIGTERM, on_sigterm, &d);
        (void) sd_event_add_signal(event, NULL, SIGINT, on_sigterm, &d);
        (void) sd_event_add_signal(event, NULL, SIGHUP, on_sighup, &d);
        r = sd_event_set_watchdog(event, true);
        if (r < 0)
                log_warning_errno(r, "Failed to enable the watchdog: %m");
        r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, STATUS_INTERVAL_USEC, 0, on_status_timer, &d);
        if (r < 0)
                return log_error_errno(r, "Failed to add the status timer: %m");
        r = sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, 0, 0, on_backup_timer, &d);
        if (r < 0)
                return log_error_errno(r, "Failed to add the backup scheduler's timer: %m");

        BusHooks bus_hooks = {
                .store_credentials = hook_store_credentials,
                .store_log_sources = hook_store_log_sources,
                .store_logs = hook_store_logs,
                .capacity = hook_capacity,
                .usage_status = hook_usage_status,
                .userdata = d.provisioner,
        };
        r = bus_new(&d.bus, event, config, &bus_hooks, on_task_queued, &d);
        if (r < 0)
                log_warning_errno(r, "D-Bus interface unavailable (storectl will not work): %m");

        r = provisioner_start(d.provisioner, config->database);
        if (r < 0)
                return log_error_errno(r, "Failed to start the reconciler: %m");

        r = runner_start(d.runner);
        if (r < 0)
                return log_error_errno(r, "Failed to start workers: %m");

        r = webhook_sender_start(d.webhooks);
        if (r < 0)
                return log_error_errno(r, "Failed to start the webhook sender: %m");

        r = api_server_start(d.api, d.listen_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to start the HTTP server: %m");

        d.idle_since = mono_usec();
        update_status(&d);
        (void) sd_notify(false, "READY=1");
        char where[INET6_ADDRSTRLEN + 16];
        socket_address(d.listen_fd, where, sizeof where);
        log_struct(LOG_INFO, LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_STARTED),
                   "storeagentd %s serving on %s (%s), %" PRIu64 " worker(s), database %s.", PACKAGE_VERSION, where,
                   d.socket_activated ? "a socket from systemd" : "its own socket", config->workers,
                   config->database);

        r = sd_event_loop(event);
        if (r < 0)
                log_error_errno(r, "Event loop failed: %m");

        (void) sd_notifyf(false, "STOPPING=1\nSTATUS=Stopping: draining requests and tasks (up to %d s)",
                          STOP_TIMEOUT_SEC);
        /* Stop taking requests first, then let workers finish or hand their tasks back. */
        api_server_stop(d.api);
        runner_stop(d.runner);
        d.webhooks = webhook_sender_free(d.webhooks);
        /* A D-Bus call still reading the cluster ends now, not at the client's timeout. */
        provisioner_cancel(d.provisioner);
        d.bus = bus_free(d.bus);
        d.api = api_server_free(d.api);
        d.runner = runner_free(d.runner);
        store_set_admission(NULL, NULL);
        store_set_upgrade_admission(NULL, NULL);
        d.provisioner = provisioner_free(d.provisioner);
        if (!d.socket_activated)
                safe_close(d.listen_fd);
        for (size_t i = 0; i < d.n_loaded; i++)
                config_free(d.loaded[i]);
        free(d.loaded);
        log_info("storeagentd stopped.");
        return r;
}
