/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the files of the HTTP side share and nothing outside it sees: the server
 * object, the per-request context, the helpers that build replies, and the
 * handlers the route table names. The public interface is api/api.h.
 */

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <ulfius.h>

#include "api/api.h"
#include "core/account.h"
#include "api/metrics.h"
#include "api/ratelimit.h"
#include "basic/macro.h"
#include "core/db.h"
#include "core/error.h"
#include "core/audit.h"
#include "core/backup-schedule.h"
#include "core/store.h"

typedef struct ApiLimits {
        StoreLimits store;
        BackupPolicy backups;
        uint64_t max_body_bytes;
        uint64_t max_json_depth;
        uint64_t session_ttl_usec;
        uint64_t requests_per_window;
        uint64_t window_sec;
        uint64_t signin_failures; /* failed sign-ins per client address and window */
        uint64_t signin_window_sec;
        uint64_t streams_per_account;
        uint64_t max_streams; /* live streams open at once on the platform */
        uint64_t max_log_lines;    /* the most lines a log request may ask for (tail) */
        uint64_t max_log_bytes;    /* the most bytes a log read without follow returns */
        uint64_t log_buffer_bytes; /* what one log stream holds for a slow client */
        uint64_t webhook_max_url_bytes;
        uint64_t webhook_max_per_account;
        uint64_t history_keep_sec;    /* platform.history_keep */
        uint64_t history_max_changes; /* platform.history_max_changes: the status history's bound */
        uint64_t stats_max_creates;   /* platform.max_creates */
        /* Borrowed from the configuration, which the daemon keeps alive across reloads. */
        const char *hostnames;       /* names (besides addresses and localhost) Host may give */
        const char *trusted_proxies; /* peers whose X-Forwarded-Proto is believed */
        const char *secure_cookies;  /* "auto", "always" or "never" */
} ApiLimits;

/* A connection, as conn.c tracks it for the per-address and total caps and the request deadline. */
typedef struct ApiConn ApiConn;

/* Live streams open per account, for the per-account cap. */
typedef struct StreamCount {
        int64_t account_id;
        unsigned n;
} StreamCount;

/* A live stream (stream.c). */
typedef struct Stream Stream;
/* A container's log on its way to a client (logs.c). */
typedef struct LogStream LogStream;

struct ApiServer {
        struct _u_instance instance;
        bool instance_initialized;
        bool started;
        Config *config_ref; /* borrowed; only immutable keys are read through it */
        char *db_path;
        char *db_lock_path; /* the daemon's "<database>.lock", beside the database: probed for writes */
        char *state_dir; /* backups are under its backups/ (a change needs a restart) */
        char *web_root;
        int web_root_fd;
        Runner *runner;
        ApiHooks hooks;
        RateLimiter *ratelimit;        /* authenticated requests, per account */
        RateLimiter *ratelimit_anon;   /* unauthenticated requests, per client address */
        RateLimiter *signin_failures;  /* failed sign-ins, per client address */
        pthread_mutex_t streams_lock;
        StreamCount *stream_counts;
        size_t n_stream_counts;
        Metrics *metrics;
        pthread_mutex_t limits_lock;
        ApiLimits limits;
        pthread_key_t db_key;
        atomic_uint in_flight;
        atomic_uint cluster_reads;    /* handlers waiting on the cluster or helm now */
        unsigned cluster_reads_max;   /* half the HTTP threads: the rest keep answering */
        atomic_uint_fast64_t requests_total;
        atomic_uint_fast64_t streams;
        atomic_bool stopping;
        uint64_t started_at;
        size_t connection_memory;
        bool db_key_created;

        /* conn.c: the connections libmicrohttpd holds, and the watchdog that enforces their deadlines. */
        unsigned max_connections;         /* beyond this, requests are answered 503 */
        unsigned connections_per_address; /* beyond this, an address's requests are answered 429 */
        uint64_t request_timeout_usec;
        unsigned idle_timeout_sec;
        bool conns_initialized;
        pthread_mutex_t conns_lock;
        ApiConn *conns;
        unsigned n_conns;
        unsigned conns_refused; /* since the watchdog last logged */
        char *timeout_reply;    /* the 408 a connection cut mid-request gets */
        pthread_t watchdog;
        pthread_cond_t watchdog_cond;
        bool watchdog_started;
        bool watchdog_stop;

        /* stream.c: live streams with nothing to send, their connections suspended off the pool threads. */
        pthread_mutex_t parked_lock;
        Stream *parked;
        bool streams_closing; /* no stream parks any more: the server is stopping */
        pthread_t stream_waker;
        bool stream_waker_started;
        bool stream_waker_stop;

        /* logs.c: log streams (their reader threads and connections), under parked_lock. */
        LogStream *log_streams;
        unsigned log_threads; /* reader threads still running */
        pthread_cond_t log_threads_cond;
};

/* Per-request state shared by the dispatcher and handlers. */
typedef struct RequestContext {
        char request_id[17];
        const ApiRoute *route;
        char params[3][128]; /* {id} and friends, in pattern order */
        size_t n_params;
        char actor[128];   /* the account's name, or "anonymous": the access log's ACTOR */
        int64_t token_id;  /* 0 until authenticated */
        Caller caller;     /* who is calling, once authenticated; what the store service decides on */
        bool via_session;
        json_t *body; /* parsed JSON object for POST routes with a body */
        const char *store_id; /* for the access log */
        char client[64];
} RequestContext;

/* ---- http.c: replies, errors, input checks ---- */

/*
 * This thread's connection. dispatch opens it (answering 503 when it cannot) before any
 * handler runs, so handlers may use it without checking.
 */
Db *api_db(ApiServer *s);
/* Why api_db() last failed on this thread (negative errno), 0 when it did not. */
int api_db_open_error(void);
/* Before a write: drops this thread's database connection if its file system went read-only. */
void api_db_check_writable(ApiServer *s);
void api_limits_get(ApiServer *s, ApiLimits *ret);
/* Sets a JSON body and status; takes the reference to body. */
void api_set_json(struct _u_response *resp, int status, json_t *body);
/* {"error": {"code": code, "message": ...}}; returns 0 so handlers can `return api_error(...)`. */
_printf_(4, 5) int api_error(struct _u_response *resp, int status, const char *code, const char *fmt, ...);
/* The status and code of a domain error (core/error.h), with a message about this request. */
_printf_(3, 4) int api_error_of(struct _u_response *resp, Error e, const char *fmt, ...);
/* Answers a store operation that did not return 0: its domain error from the table, or 500. */
int api_store_error(struct _u_response *resp, int r, const StoreError *err);
/*
 * A handler that waits on the cluster or helm (a Secret read, a release history) holds its HTTP thread
 * and every connection that thread serves. At most cluster_reads_max of them wait at once; the next is
 * refused (false: answer 503 with Retry-After), so a slow cluster cannot take every thread.
 */
bool api_cluster_read_begin(ApiServer *s);
void api_cluster_read_end(ApiServer *s);

void api_set_retry_after(struct _u_response *resp, uint64_t sec);
void api_client_address(const struct _u_request *req, char *buf, size_t n);
size_t api_json_depth(const char *p, size_t n, size_t max);
/* Checks and parses a request body into a JSON object: -ELOOP too deep, -EBADMSG not JSON, -EINVAL not an object. */
int api_body_parse(const void *data, size_t n, uint64_t max_depth, json_t **ret, json_error_t *ret_error);
/* These answer 400 themselves and return -EINVAL when the input is refused. */
int api_check_fields(struct _u_response *resp, json_t *body, const char *const *allowed);
int api_require_string(struct _u_response *resp, RequestContext *c, const char *key, const char **ret);
int api_parse_query_u64(const struct _u_request *req, const char *key, uint64_t def, uint64_t max, uint64_t *ret,
                        struct _u_response *resp);

/* The audit record of a request refused before or in its handler: who asked (or actor when nobody
 * authenticated), the action, the error code; source and request id from the request. */
void api_audit_denied(ApiServer *s, RequestContext *c, const char *actor, const char *action, const char *target_kind,
                      const char *target, const char *error);
/* The limiter key of an authenticated caller: its account, whichever token or session it uses. */
void api_ratelimit_key(const Caller *caller, char *buf, size_t n);

/* ---- audit.c ---- */
/*
 * The audit record of a read of a store's data (its credentials, its logs) by the request's caller:
 * the store when it was found (else the id asked for), the result and the error code.
 */
void api_audit_store_read(ApiServer *s, RequestContext *c, const char *action, const Store *store,
                          AuditResult result, const char *error);

/* ---- routes.c ---- */
bool api_route_match(const char *pattern, const char *path, RequestContext *c);

/* ---- session.c ---- */
/*
 * Establishes who is calling. 0: authenticated; -ENOKEY: no credentials; -EACCES: unknown or
 * revoked token or session; -EKEYEXPIRED: expired token; -EPERM: the account is disabled;
 * -EBADR: CSRF check failed; -EIO: the database cannot be opened.
 */
int api_authenticate(ApiServer *s, const struct _u_request *req, RequestContext *c, bool mutating);
/* The reason an api_authenticate() failure gives in the audit log and the 401's message. */
const char *api_auth_reason(int r);
const char *api_auth_message(int r);
/* The session cookie's name. */
#define API_SESSION_COOKIE "sa_session"

/* ---- origin.c ---- */
/* MHD's URI log callback: remembers the peer's full address for this request's thread. */
void *api_uri_logger(void *cls, const char *uri, struct MHD_Connection *connection);
/* The full address of this thread's current peer ("127.0.0.1", "::1"; IPv4 for v4-mapped peers). */
void api_peer_address(char *buf, size_t n);
/* Whether the Host header names this daemon: an address, localhost, or a name in listen.hostnames. */
bool api_host_allowed(const char *host, const ApiLimits *lim);
/* Whether the browser reached us over HTTPS, per listen.secure_cookies and a trusted proxy's header. */
bool api_request_is_https(const struct _u_request *req, const ApiLimits *lim);

/* ---- conn.c ---- */
int api_conn_init(ApiServer *s, const Config *config);
void api_conn_done(ApiServer *s);
int api_conn_watchdog_start(ApiServer *s);
void api_conn_watchdog_stop(ApiServer *s);
/* MHD_OPTION_NOTIFY_CONNECTION: counts a connection in, marks it refused when over a limit, counts it out. */
void api_conn_notify(void *cls, struct MHD_Connection *connection, void **socket_context,
                     enum MHD_ConnectionNotificationCode code);
/* MHD_OPTION_NOTIFY_COMPLETED (wraps ulfius's): the connection idles until its next request's first byte. */
void api_request_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                           enum MHD_RequestTerminationCode toe);
/* From the URI log callback: notes the connection whose request line this thread just parsed. */
void api_conn_request_started(struct MHD_Connection *connection);
/* Finds the connection of the request this thread runs, for what follows until api_conn_leave(). */
void api_conn_enter(ApiServer *s, const struct _u_request *req);
void api_conn_leave(void);
/* The running request's connection (NULL if untracked), and its peer's full address. */
struct MHD_Connection *api_conn_current(void);
bool api_conn_peer(struct sockaddr_storage *ret);
/*
 * The request has arrived: its deadline no longer applies. Returns 0, or the status a connection
 * over a limit gets (429 per address, 503 overall) with the count of connections open that it
 * was measured against.
 */
int api_conn_admit(ApiServer *s, unsigned *ret_open);

/* ---- static.c ---- */
/* Decodes a request path into out (n bytes): -EINVAL when malformed, -EPERM for a '.' or '..' segment. */
int api_static_path(const char *url_path, char *out, size_t n);
bool api_accepts_encoding(const char *header, const char *coding);
int api_serve_static(ApiServer *s, const struct _u_request *req, struct _u_response *resp);

/* ---- dispatch.c ---- */
/* ulfius's default endpoint: every request comes through here. */
int api_on_request(const struct _u_request *req, struct _u_response *resp, void *userdata);

/* ---- the handlers the route table names (status.c, stores.c, session.c, stream.c, accounts.c, tokens.c, audit.c) ---- */
#define API_HANDLER(name)                                                                                    \
        int name(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
API_HANDLER(h_healthz);
API_HANDLER(h_readyz);
API_HANDLER(h_metrics);
API_HANDLER(h_platform);
API_HANDLER(h_platform_stats);
API_HANDLER(h_stores_list);
API_HANDLER(h_stores_create);
API_HANDLER(h_store_get);
API_HANDLER(h_store_delete);
API_HANDLER(h_store_events);
API_HANDLER(h_store_releases);
API_HANDLER(h_store_retry);
API_HANDLER(h_store_upgrade);
API_HANDLER(h_store_redeploy);
API_HANDLER(h_store_settings_get);
API_HANDLER(h_store_settings_patch);
API_HANDLER(h_store_domains_list);
API_HANDLER(h_store_domains_add);
API_HANDLER(h_store_domain_delete);
API_HANDLER(h_store_primary_domain_post);
API_HANDLER(h_store_rollback);
API_HANDLER(h_charts);
API_HANDLER(h_session_create);
API_HANDLER(h_session_get);
API_HANDLER(h_session_delete);
API_HANDLER(h_stream);
/* The thread that resumes parked live streams when stores change or their time comes. */
int api_streams_start(ApiServer *s);
/* Resumes every parked stream to end, and keeps new ones from parking: before libmicrohttpd stops. */
void api_streams_close(ApiServer *s);
void api_streams_stop(ApiServer *s);
/*
 * A stream's place under limits.streams_per_account and limits.max_streams (live and log streams
 * alike): 0, -EDQUOT (the account's), -EUSERS (the platform's), with the count it was measured against.
 */
int api_stream_acquire(ApiServer *s, int64_t account_id, uint64_t per_account, uint64_t max_total,
                       unsigned *ret_open);
void api_stream_release(ApiServer *s, int64_t account_id);
/* logs.c: ends every log stream (their connections resumed to finish), then waits for their threads. */
void api_log_streams_close(ApiServer *s);
void api_log_streams_wait(ApiServer *s);
/* From the waker: ends the parked log streams whose clients went away. */
void api_log_streams_check(ApiServer *s);
API_HANDLER(h_store_log_sources);
API_HANDLER(h_store_usage);
API_HANDLER(h_store_logs);
API_HANDLER(h_store_transfer);
API_HANDLER(h_accounts_list);
API_HANDLER(h_accounts_create);
API_HANDLER(h_account_get);
API_HANDLER(h_account_patch);
API_HANDLER(h_account_tokens_list);
API_HANDLER(h_account_tokens_create);
API_HANDLER(h_account_token_revoke);
API_HANDLER(h_tokens_list);
API_HANDLER(h_tokens_create);
API_HANDLER(h_token_revoke);
API_HANDLER(h_audit);
API_HANDLER(h_webhooks_list);
API_HANDLER(h_webhooks_create);
API_HANDLER(h_webhook_get);
API_HANDLER(h_webhook_delete);
API_HANDLER(h_webhook_patch);
API_HANDLER(h_webhook_deliveries);
API_HANDLER(h_webhook_test);
API_HANDLER(h_store_credentials);
API_HANDLER(h_store_credentials_rotate);
API_HANDLER(h_store_backups_list);
API_HANDLER(h_store_backups_create);
API_HANDLER(h_store_backup_schedule_get);
API_HANDLER(h_store_backup_delete);
API_HANDLER(h_store_backup_file);
API_HANDLER(h_store_backup_schedule_patch);
API_HANDLER(h_store_restore);
