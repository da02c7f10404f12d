/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <ulfius.h>

#include "api/api.h"
#include "api/ratelimit.h"
#include "basic/log.h"
#include "basic/names.h"
#include "basic/util.h"
#include "core/db.h"
#include "core/error.h"
#include "core/token.h"

#define SESSION_COOKIE "sa_session"
#define STREAM_PING_USEC (15 * USEC_PER_SEC)

typedef struct ApiLimits {
        StoreLimits store;
        uint64_t max_body_bytes;
        uint64_t max_json_depth;
        uint64_t session_ttl_usec;
        uint64_t requests_per_window;
        uint64_t window_sec;
} ApiLimits;

struct ApiServer {
        struct _u_instance instance;
        bool instance_initialized;
        bool started;
        Config *config_ref; /* borrowed; only immutable keys are read through it */
        char *db_path;
        char *web_root;
        int web_root_fd;
        Runner *runner;
        ApiHooks hooks;
        RateLimiter *ratelimit;
        Metrics *metrics;
        pthread_mutex_t limits_lock;
        ApiLimits limits;
        pthread_key_t db_key;
        atomic_uint in_flight;
        atomic_uint_fast64_t requests_total;
        atomic_uint_fast64_t streams;
        atomic_bool stopping;
        uint64_t started_at;
        size_t connection_memory;
        unsigned max_connections;
        bool db_key_created;
};

/* Per-request state shared by the dispatcher and handlers. */
typedef struct RequestContext {
        char request_id[17];
        const ApiRoute *route;
        char params[2][128]; /* {id} and friends, in pattern order */
        size_t n_params;
        char actor[128];
        int64_t token_id;
        bool via_session;
        json_t *body; /* parsed JSON object for POST routes with a body */
        const char *store_id; /* for the access log */
        char client[64];
} RequestContext;

/* ---- helpers ---- */

/*
 * This thread's connection. dispatch() opens it (answering 503 when it cannot) before any
 * handler runs, so handlers may use it without checking.
 */
static Db *api_db(ApiServer *s)
{
        Db *db = pthread_getspecific(s->db_key);
        if (db)
                return db;
        if (db_open(s->db_path, &db) < 0)
                return NULL;
        pthread_setspecific(s->db_key, db);
        return db;
}

static void db_key_destroy(void *p)
{
        db_close(p);
}

static void api_limits_get(ApiServer *s, ApiLimits *ret)
{
        pthread_mutex_lock(&s->limits_lock);
        *ret = s->limits;
        pthread_mutex_unlock(&s->limits_lock);
}

static void set_json(struct _u_response *resp, int status, json_t *body)
{
        ulfius_set_json_body_response(resp, (unsigned) status, body);
        u_map_put(resp->map_header, "Content-Type", "application/json");
        json_decref(body);
}

_printf_(4, 5) static int api_error(struct _u_response *resp, int status, const char *code, const char *fmt, ...)
{
        char message[600];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        set_json(resp, status, json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", message));
        return 0;
}

static void set_retry_after(struct _u_response *resp, uint64_t sec)
{
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu64, MAX(sec, (uint64_t) 1));
        u_map_put(resp->map_header, "Retry-After", buf);
}

/* Answers with a domain error's status and code (core/error.h), and a message about this request. */
_printf_(3, 4) static int api_error_of(struct _u_response *resp, Error e, const char *fmt, ...)
{
        const ErrorInfo *info = error_info(e);
        char message[600];
        va_list ap;
        int n;

        assert(info);
        va_start(ap, fmt);
        n = vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        return api_error(resp, info->http_status, info->code, "%s", n >= 0 ? message : info->message);
}

/* Answers a store operation that did not return 0: its domain error from the table, or 500. */
static int api_store_error(struct _u_response *resp, int r, const StoreError *err)
{
        const ErrorInfo *e = error_info(r);

        if (!e) {
                log_error_errno(r, "Store operation failed: %m");
                return api_error(resp, 500, "internal", "The request could not be completed; see the daemon log.");
        }
        if (e->retry_after)
                set_retry_after(resp, err->retry_after_sec);
        return api_error(resp, e->http_status, e->code, "%s", err->message[0] ? err->message : e->message);
}

static void client_address(const struct _u_request *req, char *buf, size_t n)
{
        const struct sockaddr *sa = req->client_address;

        snprintf(buf, n, "unknown");
        if (!sa)
                return;
        if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, (socklen_t) n);
        else if (sa->sa_family == AF_INET6) {
                /*
                 * ulfius copies only sizeof(struct sockaddr) (16 bytes), which keeps the first
                 * half of an IPv6 address: its /64 prefix, what rate limits key on for IPv6 anyway.
                 */
                const uint8_t *a = (const uint8_t *) sa + offsetof(struct sockaddr_in6, sin6_addr);
                snprintf(buf, n, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", a[0], a[1], a[2], a[3], a[4], a[5],
                         a[6], a[7]);
        }
}

/* Depth of nested arrays/objects, counted outside strings; stops early past max. */
static size_t json_depth(const char *p, size_t n, size_t max)
{
        size_t depth = 0, deepest = 0;
        bool in_string = false;

        for (size_t i = 0; i < n; i++) {
                char c = p[i];
                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c == '"')
                        in_string = true;
                else if (c == '{' || c == '[') {
                        depth++;
                        if (depth > deepest)
                                deepest = depth;
                        if (deepest > max)
                                return deepest;
                } else if ((c == '}' || c == ']') && depth > 0)
                        depth--;
        }
        return deepest;
}

/* Rejects members the route does not know; allowed is NULL-terminated. */
static int check_fields(struct _u_response *resp, json_t *body, const char *const *allowed)
{
        const char *key;
        json_t *v;

        json_object_foreach(body, key, v) {
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        ok = ok || streq(*a, key);
                if (!ok) {
                        api_error(resp, 400, "unknown_field", "Unknown field '%.100s'.", key);
                        return -EINVAL;
                }
        }
        return 0;
}


static int require_string(struct _u_response *resp, RequestContext *c, const char *key, const char **ret)
{
        json_t *v = c->body ? json_object_get(c->body, key) : NULL;

        if (!v)
                return api_error(resp, 400, "missing_field", "Field '%s' is required.", key), -EINVAL;
        if (!json_is_string(v))
                return api_error(resp, 400, "invalid_type", "Field '%s' must be a string.", key), -EINVAL;
        *ret = json_string_value(v);
        return 0;
}

static int parse_query_u64(const struct _u_request *req, const char *key, uint64_t def, uint64_t max,
                           uint64_t *ret, struct _u_response *resp)
{
        const char *v = u_map_get(req->map_url, key);
        uint64_t n;

        if (!v) {
                *ret = def;
                return 0;
        }
        if (safe_atou64(v, &n) < 0 || n > max) {
                api_error(resp, 400, "invalid_parameter", "Query parameter '%s' must be an integer from 0 to %" PRIu64 ".",
                          key, max);
                return -EINVAL;
        }
        *ret = n;
        return 0;
}

/* ---- handlers ---- */

static int h_healthz(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        set_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        return 0;
}

static int h_readyz(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        json_t *checks = json_object(), *cluster = NULL, *orphans = NULL;
        bool ready = true;
        Db *db = api_db(s);

        if (db && db_exec(db, "SELECT 1 FROM stores LIMIT 1") >= 0)
                json_object_set_new(checks, "database", json_pack("{s:b}", "ok", 1));
        else {
                json_object_set_new(checks, "database",
                                    json_pack("{s:b, s:s}", "ok", 0, "detail", "the database cannot be read"));
                ready = false;
        }

        if (s->hooks.cluster_status && s->hooks.cluster_status(s->hooks.userdata, &cluster) >= 0) {
                json_t *ok = json_object_get(cluster, "reachable");
                ready = ready && json_is_true(ok);
                json_object_set_new(checks, "cluster",
                                    json_pack("{s:b, s:O}", "ok", json_is_true(ok), "detail",
                                              json_object_get(cluster, "detail") ?: json_null()));
                json_decref(cluster);
        }
        if (s->hooks.orphans && s->hooks.orphans(s->hooks.userdata, &orphans) >= 0)
                json_object_set_new(checks, "orphan_namespaces", orphans);

        set_json(resp, ready ? 200 : 503, json_pack("{s:s, s:o}", "status", ready ? "ready" : "not ready", "checks",
                                                    checks));
        return 0;
}

static int h_metrics(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_free_ char *buf = NULL;
        json_t *by_status = NULL;
        size_t n = 0;
        FILE *f;
        Db *db = api_db(s);

        f = open_memstream(&buf, &n);
        if (!f)
                return api_error(resp, 500, "internal", "Out of memory.");
        metrics_write_requests(s->metrics, f);

        fputs("# HELP storeagent_stores Stores by status.\n# TYPE storeagent_stores gauge\n", f);
        if (db && store_count_by_status(db, &by_status) >= 0) {
                const char *k;
                json_t *v;
                json_object_foreach(by_status, k, v)
                        fprintf(f, "storeagent_stores{status=\"%s\"} %" JSON_INTEGER_FORMAT "\n", k,
                                json_integer_value(v));
                json_decref(by_status);
        }

        if (s->runner) {
                RunnerStats st;
                runner_get_stats(s->runner, &st);
                fputs("# HELP storeagent_task_duration_seconds Time a task took from lease to finish.\n"
                      "# TYPE storeagent_task_duration_seconds histogram\n",
                      f);
                for (int k = 0; k < _TASK_KIND_MAX; k++) {
                        const char *kind = task_kind_to_string((TaskKind) k);
                        for (size_t i = 0; i < RUNNER_DURATION_BUCKETS; i++)
                                fprintf(f, "storeagent_task_duration_seconds_bucket{kind=\"%s\",le=\"%g\"} %" PRIu64 "\n",
                                        kind, runner_duration_buckets[i], st.bucket[k][i]);
                        fprintf(f, "storeagent_task_duration_seconds_bucket{kind=\"%s\",le=\"+Inf\"} %" PRIu64 "\n",
                                kind, st.count[k]);
                        fprintf(f, "storeagent_task_duration_seconds_sum{kind=\"%s\"} %.3f\n", kind, st.sum[k]);
                        fprintf(f, "storeagent_task_duration_seconds_count{kind=\"%s\"} %" PRIu64 "\n", kind,
                                st.count[k]);
                }
                fputs("# HELP storeagent_tasks_failed_total Tasks that failed for good.\n"
                      "# TYPE storeagent_tasks_failed_total counter\n",
                      f);
                for (int k = 0; k < _TASK_KIND_MAX; k++)
                        fprintf(f, "storeagent_tasks_failed_total{kind=\"%s\"} %" PRIu64 "\n",
                                task_kind_to_string((TaskKind) k), st.failed[k]);
                fprintf(f, "# HELP storeagent_tasks_running Tasks being worked on.\n"
                           "# TYPE storeagent_tasks_running gauge\nstoreagent_tasks_running %u\n",
                        runner_busy(s->runner));
        }
        fclose(f);
        ulfius_set_binary_body_response(resp, 200, buf, n);
        u_map_put(resp->map_header, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        return 0;
}

static int h_stores_list(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        const char *st = u_map_get(req->map_url, "status");
        StoreStatus status = _STORE_STATUS_INVALID;
        uint64_t limit, offset, total;
        json_t *items;
        Db *db = api_db(s);
        int r;

        if (st) {
                status = store_status_from_string(st);
                if (status < 0)
                        return api_error(resp, 400, "invalid_parameter",
                                         "Unknown status '%.40s'; use PROVISIONING, READY, FAILED, UPGRADING, "
                                         "DELETING or DELETED.",
                                         st);
        }
        if (parse_query_u64(req, "limit", 50, 500, &limit, resp) < 0 ||
            parse_query_u64(req, "offset", 0, UINT32_MAX, &offset, resp) < 0)
                return 0;
        r = store_list(db, status, limit, offset, &items, &total);
        if (r < 0)
                return api_error(resp, 500, "internal", "Listing stores failed.");
        set_json(resp, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total", (json_int_t) total, "limit",
                                      (json_int_t) limit, "offset", (json_int_t) offset));
        return 0;
}

static int h_stores_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "name", "engine", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        const char *name, *engine, *key;
        StoreError err = {};
        ApiLimits lim;
        bool replayed = false;
        Db *db = api_db(s);
        int r;

        if (check_fields(resp, c->body, fields) < 0 || require_string(resp, c, "name", &name) < 0 ||
            require_string(resp, c, "engine", &engine) < 0)
                return 0;

        key = u_map_get_case(req->map_header, "Idempotency-Key");
        if (key && (strlen(key) == 0 || strlen(key) > 128))
                return api_error(resp, 400, "invalid_header", "Idempotency-Key must be 1 to 128 characters.");

        api_limits_get(s, &lim);
        r = store_create(db, &lim.store, c->actor, name, engine, NULL, key, &store, &replayed, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);

        c->store_id = NULL;
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", store->id, "REQUEST_ID", c->request_id, "ACTOR", c->actor,
                                        "ACTION", replayed ? "store.create.replayed" : "store.create"),
                   "Store '%s' (%s) %s by %s.", store->name, store->id, replayed ? "create replayed" : "requested",
                   c->actor);
        if (s->runner)
                runner_wake(s->runner);
        if (replayed)
                u_map_put(resp->map_header, "Idempotent-Replayed", "true");
        set_json(resp, 202, store_to_json(store));
        return 0;
}

static int load_store(ApiServer *s, RequestContext *c, struct _u_response *resp, Store **ret)
{
        Db *db = api_db(s);
        int r;

        r = store_get(db, c->params[0], ret);
        if (r == -ENOENT)
                return api_error_of(resp, ERROR_NOT_FOUND, "No store with id '%.40s'.", c->params[0]), r;
        if (r < 0)
                return api_error(resp, 500, "internal", "Reading the store failed."), r;
        return 0;
}

static int h_store_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_(store_freep) Store *store = NULL;

        if (load_store(s, ctx, resp, &store) < 0)
                return 0;
        set_json(resp, 200, store_to_json(store));
        return 0;
}

static int h_store_events(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        uint64_t limit, after;
        json_t *items;

        if (parse_query_u64(req, "limit", 100, 1000, &limit, resp) < 0 ||
            parse_query_u64(req, "after", 0, INT64_MAX, &after, resp) < 0)
                return 0;
        if (load_store(s, c, resp, &store) < 0)
                return 0;
        if (store_events(api_db(s), store->id, limit, (int64_t) after, &items) < 0)
                return api_error(resp, 500, "internal", "Reading events failed.");
        set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

static int h_store_releases(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_(store_freep) Store *store = NULL;
        json_t *items = NULL;
        int r;

        if (load_store(s, ctx, resp, &store) < 0)
                return 0;
        if (!s->hooks.release_history)
                return api_error(resp, 503, "cluster_unavailable", "Release history needs the cluster connection.");
        r = s->hooks.release_history(s->hooks.userdata, store, &items);
        if (r == -ENOENT)
                items = json_array();
        else if (r < 0)
                return api_error(resp, 502, "helm_failed", "Reading the Helm history failed: %s", strerror(-r));
        set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

static int h_store_delete(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        Db *db = api_db(s);
        int r;

        r = store_delete(db, c->actor, c->params[0], &store, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", store->id, "REQUEST_ID", c->request_id, "ACTOR", c->actor, "ACTION",
                                        "store.delete"),
                   "Delete of store '%s' requested by %s.", store->name, c->actor);
        if (s->runner)
                runner_wake(s->runner);
        set_json(resp, 202, store_to_json(store));
        return 0;
}

static int finish_operation(ApiServer *s, RequestContext *c, struct _u_response *resp, int r, Store *store,
                            const StoreError *err, const char *action)
{
        if (r != 0)
                return api_store_error(resp, r, err);
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", store->id, "REQUEST_ID", c->request_id, "ACTOR", c->actor, "ACTION",
                                        action),
                   "%s of store '%s' requested by %s.", action, store->name, c->actor);
        if (s->runner)
                runner_wake(s->runner);
        set_json(resp, 202, store_to_json(store));
        return 0;
}

static int h_store_retry(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        ApiLimits lim;
        Db *db = api_db(s);

        if (c->body && check_fields(resp, c->body, fields) < 0)
                return 0;
        api_limits_get(s, &lim);
        int r = store_retry(db, &lim.store, c->actor, c->params[0], &store, &err);
        return finish_operation(s, c, resp, r, store, &err, "store.retry");
}

static int h_store_upgrade(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "chart_version", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        const char *version;
        ApiLimits lim;
        Db *db = api_db(s);

        if (check_fields(resp, c->body, fields) < 0 || require_string(resp, c, "chart_version", &version) < 0)
                return 0;
        if (!chart_version_is_valid(version))
                return api_error_of(resp, ERROR_INVALID_REQUEST, "chart_version must be a version such as 0.2.0.");
        if (s->hooks.chart_versions) {
                _cleanup_(json_decrefp) json_t *versions = NULL;
                json_t *v;
                size_t i;
                bool found = false;

                if (s->hooks.chart_versions(s->hooks.userdata, &versions) >= 0)
                        json_array_foreach(versions, i, v)
                                found = found || streq_ptr(json_string_value(json_object_get(v, "version")), version);
                if (!found)
                        return api_error(resp, 422, "chart_version_unavailable",
                                         "Chart version %s is not available; GET /api/v1/charts lists those that are.",
                                         version);
        }
        api_limits_get(s, &lim);
        int r = store_upgrade(db, &lim.store, c->actor, c->params[0], version, &store, &err);
        return finish_operation(s, c, resp, r, store, &err, "store.upgrade");
}

static int h_store_rollback(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "revision", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        json_t *rev;
        ApiLimits lim;
        Db *db = api_db(s);

        if (check_fields(resp, c->body, fields) < 0)
                return 0;
        rev = json_object_get(c->body, "revision");
        if (!rev)
                return api_error(resp, 400, "missing_field", "Field 'revision' is required.");
        if (!json_is_integer(rev))
                return api_error(resp, 400, "invalid_type", "Field 'revision' must be an integer.");
        api_limits_get(s, &lim);
        int r = store_rollback(db, &lim.store, c->actor, c->params[0], json_integer_value(rev), &store, &err);
        return finish_operation(s, c, resp, r, store, &err, "store.rollback");
}

static int h_charts(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        json_t *items = NULL;

        if (!s->hooks.chart_versions || s->hooks.chart_versions(s->hooks.userdata, &items) < 0)
                items = json_array();
        set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

static int h_platform(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *by_status = NULL, *cluster = NULL;
        uint64_t active = 0, creates = 0, pending = 0, used;
        char key[64];
        ApiLimits lim;
        Db *db = api_db(s);

        api_limits_get(s, &lim);
        if (store_count_by_status(db, &by_status) < 0)
                by_status = json_object();
        (void) store_count_active(db, &active);
        (void) store_creates_in_last_hour(db, c->actor, &creates);
        (void) queue_count_active(db, &pending);
        snprintf(key, sizeof key, "token:%" PRIi64, c->token_id);
        used = ratelimit_used(s->ratelimit, key, now_usec());

        if (!s->hooks.cluster_status || s->hooks.cluster_status(s->hooks.userdata, &cluster) < 0)
                cluster = json_pack("{s:b, s:s}", "reachable", 0, "detail", "no cluster connection configured");

        set_json(resp, 200,
                 json_pack("{s:s, s:o, s:{s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I, s:I}, s:{s:I, s:I}}, s:o}",
                           "version", PACKAGE_VERSION, "stores_by_status", by_status, "limits", "max_stores",
                           "limit", (json_int_t) lim.store.max_stores, "used", (json_int_t) active,
                           "creates_per_hour", "limit", (json_int_t) lim.store.creates_per_hour, "used",
                           (json_int_t) creates, "requests_per_window", "limit",
                           (json_int_t) lim.requests_per_window, "used", (json_int_t) used, "window_seconds",
                           (json_int_t) lim.window_sec, "max_pending_tasks", "limit",
                           (json_int_t) lim.store.max_pending_tasks, "used", (json_int_t) pending, "cluster",
                           cluster));
        return 0;
}

static void set_session_cookie(struct _u_response *resp, const char *value, unsigned max_age)
{
        ulfius_add_same_site_cookie_to_response(resp, SESSION_COOKIE, value, NULL, max_age, NULL, "/", 0, 1,
                                                U_COOKIE_SAME_SITE_STRICT);
}

static int h_session_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "token", NULL };
        RequestContext *c = ctx;
        _cleanup_erase_free_ char *cookie = NULL;
        _cleanup_free_ char *csrf = NULL;
        const char *token;
        TokenInfo t;
        ApiLimits lim;
        Db *db = api_db(s);
        int r;

        if (check_fields(resp, c->body, fields) < 0 || require_string(resp, c, "token", &token) < 0)
                return 0;
        r = token_verify(db, token, &t);
        if (r < 0) {
                log_struct(LOG_NOTICE, LOG_FIELDS("REQUEST_ID", c->request_id, "CLIENT", c->client),
                           "Sign-in with an unknown or revoked token refused.");
                return api_error(resp, 401, "invalid_token", "That API token is not valid.");
        }
        api_limits_get(s, &lim);
        r = session_create(db, &t, lim.session_ttl_usec, &cookie, &csrf);
        if (r < 0)
                return api_error(resp, 500, "internal", "Creating the session failed.");
        snprintf(c->actor, sizeof c->actor, "%s", t.name);
        set_session_cookie(resp, cookie, (unsigned) (lim.session_ttl_usec / USEC_PER_SEC));
        set_json(resp, 200, json_pack("{s:s, s:s}", "name", t.name, "csrf_token", csrf));
        return 0;
}

static int h_session_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_free_ char *csrf = NULL;
        TokenInfo t;
        const char *cookie = u_map_get(req->map_cookie, SESSION_COOKIE);
        Db *db = api_db(s);

        if (!db || session_verify(db, cookie, &t, &csrf) < 0) {
                if (c->token_id > 0) /* a bearer token asked: answer who it is, without a CSRF token */
                        return set_json(resp, 200, json_pack("{s:s, s:n}", "name", c->actor, "csrf_token")), 0;
                return api_error(resp, 401, "unauthorized", "Not signed in.");
        }
        set_json(resp, 200, json_pack("{s:s, s:s}", "name", t.name, "csrf_token", csrf));
        return 0;
}

static int h_session_delete(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        const char *cookie = u_map_get(req->map_cookie, SESSION_COOKIE);
        Db *db = api_db(s);

        if (db && cookie)
                (void) session_delete(db, cookie);
        set_session_cookie(resp, "", 0);
        ulfius_set_empty_body_response(resp, 204);
        return 0;
}

/* ---- server-sent events ---- */

typedef struct Stream {
        ApiServer *server;
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

                        if (db && store_changes_since(db, st->seq, &items, &st->seq) >= 0) {
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

static int h_stream(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        Stream *st;
        Db *db = api_db(s);

        st = calloc(1, sizeof *st);
        if (!st || !db) {
                free(st);
                return api_error(resp, 503, "unavailable", "The live stream is not available.");
        }
        st->server = s;
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

/* ---- the route table ---- */

const ApiRoute api_routes[] = {
        { "GET", "/healthz", API_ROUTE_PUBLIC | API_ROUTE_NO_RATELIMIT, h_healthz },
        { "GET", "/readyz", API_ROUTE_PUBLIC | API_ROUTE_NO_RATELIMIT, h_readyz },
        { "GET", "/metrics", API_ROUTE_NO_RATELIMIT, h_metrics },
        { "POST", "/api/v1/session", API_ROUTE_PUBLIC, h_session_create },
        { "GET", "/api/v1/session", 0, h_session_get },
        { "DELETE", "/api/v1/session", API_ROUTE_PUBLIC, h_session_delete },
        { "GET", "/api/v1/stores", 0, h_stores_list },
        { "POST", "/api/v1/stores", 0, h_stores_create },
        { "GET", "/api/v1/stores/{id}", 0, h_store_get },
        { "DELETE", "/api/v1/stores/{id}", 0, h_store_delete },
        { "GET", "/api/v1/stores/{id}/events", 0, h_store_events },
        { "GET", "/api/v1/stores/{id}/releases", 0, h_store_releases },
        { "POST", "/api/v1/stores/{id}/retry", 0, h_store_retry },
        { "POST", "/api/v1/stores/{id}/upgrade", 0, h_store_upgrade },
        { "POST", "/api/v1/stores/{id}/rollback", 0, h_store_rollback },
        { "GET", "/api/v1/charts", 0, h_charts },
        { "GET", "/api/v1/platform", 0, h_platform },
        { "GET", "/api/v1/stream", API_ROUTE_NO_RATELIMIT, h_stream },
};
const size_t api_routes_count = ELEMENTSOF(api_routes);

/* Matches path against pattern; "{x}" matches one non-empty segment of id characters. */
static bool route_match(const char *pattern, const char *path, RequestContext *c)
{
        const char *p = pattern, *u = path;
        size_t n_params = 0;

        while (*p && *u) {
                if (*p == '{') {
                        const char *end = strchr(p, '}');
                        size_t len = strcspn(u, "/");
                        if (!end || len == 0 || len >= sizeof c->params[0] || n_params >= ELEMENTSOF(c->params))
                                return false;
                        for (size_t i = 0; i < len; i++)
                                if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= '0' && u[i] <= '9') || u[i] == '-'))
                                        return false;
                        memcpy(c->params[n_params], u, len);
                        c->params[n_params][len] = '\0';
                        n_params++;
                        p = end + 1;
                        u += len;
                        continue;
                }
                if (*p != *u)
                        return false;
                p++;
                u++;
        }
        /* A trailing slash is tolerated. */
        if (*u == '/' && u[1] == '\0')
                u++;
        if (*p || *u)
                return false;
        c->n_params = n_params;
        return true;
}

/* ---- static files ---- */

static const char *mime_type(const char *path)
{
        static const struct {
                const char *ext, *type;
        } table[] = {
                { ".html", "text/html; charset=utf-8" },
                { ".js", "text/javascript; charset=utf-8" },
                { ".mjs", "text/javascript; charset=utf-8" },
                { ".css", "text/css; charset=utf-8" },
                { ".json", "application/json" },
                { ".svg", "image/svg+xml" },
                { ".png", "image/png" },
                { ".jpg", "image/jpeg" },
                { ".ico", "image/x-icon" },
                { ".webp", "image/webp" },
                { ".woff2", "font/woff2" },
                { ".woff", "font/woff" },
                { ".txt", "text/plain; charset=utf-8" },
                { ".map", "application/json" },
                { ".webmanifest", "application/manifest+json" },
        };
        const char *dot = strrchr(path, '.');

        if (dot && !strchr(dot, '/'))
                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (strcasecmp(dot, table[i].ext) == 0)
                                return table[i].type;
        return "application/octet-stream";
}

static int open_beneath(int dirfd, const char *rel)
{
        struct open_how how = {
                .flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS,
        };
        long fd = syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
        if (fd >= 0)
                return (int) fd;
        if (errno != ENOSYS && errno != EPERM)
                return -errno;

        /* No openat2() (kernels before 5.6, or a seccomp filter): walk one component at a time, no symlinks. */
        _cleanup_close_ int cur = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (cur < 0)
                return -errno;
        for (const char *p = rel;;) {
                char comp[256];
                size_t n;
                bool last;
                int next;

                while (*p == '/')
                        p++;
                n = strcspn(p, "/");
                if (n == 0 || n >= sizeof comp)
                        return -ENOENT;
                memcpy(comp, p, n);
                comp[n] = '\0';
                if (streq(comp, "..") || streq(comp, "."))
                        return -EACCES;
                p += n;
                while (*p == '/')
                        p++;
                last = *p == '\0';
                next = openat(cur, comp, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? 0 : O_DIRECTORY));
                if (next < 0)
                        return -errno;
                safe_close(cur);
                cur = next;
                if (last)
                        return TAKE_FD(cur);
        }
}

static int serve_file(struct _u_response *resp, int fd, const char *name, bool immutable)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, cap = 0;
        struct stat st;

        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > 32 * 1024 * 1024)
                return -ENOENT;
        cap = (size_t) st.st_size + 1;
        buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + size, cap - size);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size == cap)
                        break;
        }
        ulfius_set_binary_body_response(resp, 200, buf, size);
        u_map_put(resp->map_header, "Content-Type", mime_type(name));
        u_map_put(resp->map_header, "Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
        return 0;
}

/* Decodes %XX escapes; refuses malformed escapes and NUL bytes. */
static int percent_decode(const char *in, char *out, size_t n)
{
        size_t o = 0;

        for (const char *p = in; *p; p++) {
                char c = *p;
                if (c == '%') {
                        unsigned v;
                        if (!isxdigit((unsigned char) p[1]) || !isxdigit((unsigned char) p[2]) ||
                            sscanf(p + 1, "%2x", &v) != 1 || v == 0)
                                return -EINVAL;
                        c = (char) v;
                        p += 2;
                }
                if (o + 1 >= n)
                        return -ENAMETOOLONG;
                out[o++] = c;
        }
        out[o] = '\0';
        return 0;
}

static int serve_static(ApiServer *s, const struct _u_request *req, struct _u_response *resp)
{
        char path[1100];
        _cleanup_close_ int fd = -EBADF;
        const char *rel;
        int r;

        if (!streq(req->http_verb, "GET") && !streq(req->http_verb, "HEAD")) {
                u_map_put(resp->map_header, "Allow", "GET, HEAD");
                return api_error(resp, 405, "method_not_allowed", "Only GET and HEAD are served here.");
        }

        /* Decode first, so "%2e%2e" is seen for what it is; then refuse every dot segment. */
        if (percent_decode(req->url_path, path, sizeof path) < 0)
                return api_error(resp, 400, "invalid_path", "Invalid path.");
        for (const char *seg = path; seg && *seg;) {
                while (*seg == '/')
                        seg++;
                size_t len = strcspn(seg, "/");
                if ((len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.'))
                        return api_error(resp, 400, "invalid_path", "Path segments '.' and '..' are not allowed.");
                seg += len;
        }
        if (strchr(path, '\\') || strlen(path) > 1024)
                return api_error(resp, 400, "invalid_path", "Invalid path.");

        if (s->web_root_fd < 0)
                return api_error(resp, 404, "not_found",
                                 "The dashboard is not installed (web_root '%s' is missing); the API is under /api/v1.",
                                 strna(s->web_root));

        rel = path;
        while (*rel == '/')
                rel++;
        if (*rel == '\0')
                rel = "index.html";

        fd = open_beneath(s->web_root_fd, rel);
        if (fd >= 0) {
                r = serve_file(resp, fd, rel, strncmp(rel, "assets/", 7) == 0);
                if (r >= 0)
                        return 0;
        }

        /* Client-side routes get the app shell; missing assets stay 404. */
        const char *last = strrchr(rel, '/');
        last = last ? last + 1 : rel;
        if (strncmp(rel, "assets/", 7) != 0 && !strchr(last, '.')) {
                safe_close(fd);
                fd = open_beneath(s->web_root_fd, "index.html");
                if (fd >= 0 && serve_file(resp, fd, "index.html", false) >= 0)
                        return 0;
        }
        return api_error(resp, 404, "not_found", "Not found.");
}

/* ---- dispatch ---- */

static void security_headers(struct _u_response *resp)
{
        u_map_put(resp->map_header, "X-Content-Type-Options", "nosniff");
        u_map_put(resp->map_header, "X-Frame-Options", "DENY");
        u_map_put(resp->map_header, "Referrer-Policy", "no-referrer");
        u_map_put(resp->map_header, "Content-Security-Policy",
                  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src "
                  "'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
}

/* Establishes who is calling. 0: authenticated; -EACCES: no or bad credentials; -EPERM: CSRF check failed. */
static int authenticate(ApiServer *s, const struct _u_request *req, RequestContext *c, bool mutating)
{
        const char *auth = u_map_get_case(req->map_header, "Authorization");
        const char *cookie = u_map_get(req->map_cookie, SESSION_COOKIE);
        TokenInfo t;
        Db *db = api_db(s);
        int r;

        if (!db)
                return -EIO;
        if (auth) {
                if (strncasecmp(auth, "Bearer ", 7) != 0)
                        return -EACCES;
                r = token_verify(db, auth + 7, &t);
                if (r < 0)
                        return -EACCES;
        } else if (cookie) {
                _cleanup_free_ char *csrf = NULL;
                r = session_verify(db, cookie, &t, &csrf);
                if (r < 0)
                        return -EACCES;
                if (mutating) {
                        const char *sent = u_map_get_case(req->map_header, "X-CSRF-Token");
                        if (!sent || strlen(sent) != strlen(csrf) || !memeq_consttime(sent, csrf, strlen(csrf)))
                                return -EPERM;
                }
                c->via_session = true;
        } else
                return -EACCES;

        c->token_id = t.id;
        snprintf(c->actor, sizeof c->actor, "%s", t.name);
        return 0;
}

static int dispatch(ApiServer *s, const struct _u_request *req, struct _u_response *resp, RequestContext *c)
{
        const char *method = req->http_verb;
        const char *path = req->url_path;
        bool path_matched = false;
        char allow[128] = "";
        ApiLimits lim;
        int r;

        for (size_t i = 0; i < api_routes_count; i++) {
                RequestContext probe = {};
                if (!route_match(api_routes[i].pattern, path, &probe))
                        continue;
                path_matched = true;
                if (!streq(api_routes[i].method, method) &&
                    !(streq(method, "HEAD") && streq(api_routes[i].method, "GET"))) {
                        size_t l = strlen(allow);
                        snprintf(allow + l, sizeof allow - l, "%s%s", l ? ", " : "", api_routes[i].method);
                        continue;
                }
                c->route = &api_routes[i];
                memcpy(c->params, probe.params, sizeof c->params);
                c->n_params = probe.n_params;
                break;
        }

        if (!c->route) {
                if (path_matched) {
                        u_map_put(resp->map_header, "Allow", allow);
                        return api_error(resp, 405, "method_not_allowed", "Method %s is not allowed here; use %s.",
                                         method, allow);
                }
                if (strncmp(path, "/api/", 5) == 0 || streq(path, "/api"))
                        return api_error(resp, 404, "not_found", "No such API endpoint: %.200s", path);
                return serve_static(s, req, resp);
        }

        const ApiRoute *route = c->route;
        bool mutating = !streq(route->method, "GET");
        api_limits_get(s, &lim);

        /* Who is calling: a token, a session, or (for public routes) possibly nobody. */
        r = authenticate(s, req, c, mutating);
        if (r == -EIO)
                return api_error(resp, 503, "database_unavailable", "The database cannot be opened.");

        /*
         * Reads by a signed-in dashboard are not counted: the live view polls when its stream
         * drops, and the session was itself created through the limited sign-in route.
         */
        bool exempt = (route->flags & API_ROUTE_NO_RATELIMIT) || (r >= 0 && c->via_session && !mutating);
        if (!exempt) {
                char key[96];
                uint64_t retry = 0;

                if (r >= 0)
                        snprintf(key, sizeof key, "token:%" PRIi64, c->token_id);
                else
                        snprintf(key, sizeof key, "addr:%s", c->client);
                if (!ratelimit_hit(s->ratelimit, key, now_usec(), &retry, NULL)) {
                        set_retry_after(resp, retry);
                        return api_error(resp, 429, "rate_limited",
                                         "Rate limit exceeded: %" PRIu64 " requests per %" PRIu64
                                         " seconds; try again in %" PRIu64 " seconds.",
                                         lim.requests_per_window, lim.window_sec, retry);
                }
        }

        if (!(route->flags & API_ROUTE_PUBLIC)) {
                if (r == -EPERM)
                        return api_error(resp, 403, "csrf_failed",
                                         "Missing or wrong X-CSRF-Token header for a session request.");
                if (r < 0) {
                        u_map_put(resp->map_header, "WWW-Authenticate", "Bearer realm=\"storeagent\"");
                        return api_error(resp, 401, "unauthorized",
                                         "Authentication required: send 'Authorization: Bearer <token>'.");
                }
        } else if (r == -EPERM && streq(method, "DELETE")) /* signing out of a session needs its CSRF token */
                return api_error(resp, 403, "csrf_failed", "Missing or wrong X-CSRF-Token header.");

        if (streq(method, "POST")) {
                const char *ctype = u_map_get_case(req->map_header, "Content-Type");
                const char *clen = u_map_get_case(req->map_header, "Content-Length");
                uint64_t declared;

                if ((clen && safe_atou64(clen, &declared) >= 0 && declared > lim.max_body_bytes) ||
                    req->binary_body_length > lim.max_body_bytes)
                        return api_error(resp, 413, "payload_too_large",
                                         "Request body larger than %" PRIu64 " bytes.", lim.max_body_bytes);
                if (req->binary_body_length > 0) {
                        json_error_t jerr;

                        if (!ctype || strncasecmp(ctype, "application/json", 16) != 0)
                                return api_error(resp, 415, "unsupported_media_type",
                                                 "Send the body as 'Content-Type: application/json'.");
                        if (json_depth(req->binary_body, req->binary_body_length, lim.max_json_depth) >
                            lim.max_json_depth)
                                return api_error(resp, 400, "json_too_deep",
                                                 "JSON nested deeper than %" PRIu64 " levels.", lim.max_json_depth);
                        c->body = json_loadb(req->binary_body, req->binary_body_length, JSON_REJECT_DUPLICATES,
                                             &jerr);
                        if (!c->body)
                                return api_error(resp, 400, "invalid_json", "Invalid JSON at line %d: %s", jerr.line,
                                                 jerr.text);
                        if (!json_is_object(c->body))
                                return api_error(resp, 400, "invalid_json", "The body must be a JSON object.");
                }
        }

        if (c->n_params > 0)
                c->store_id = c->params[0];
        return route->handler(s, req, resp, c);
}

static int on_request(const struct _u_request *req, struct _u_response *resp, void *userdata)
{
        ApiServer *s = userdata;
        RequestContext c = { .token_id = 0 };
        const char *rid = u_map_get_case(req->map_header, "X-Request-Id");
        uint64_t start = mono_usec();
        char status_buf[8], ms_buf[32];

        atomic_fetch_add(&s->in_flight, 1);
        atomic_fetch_add(&s->requests_total, 1);

        /* A caller's request id is kept when it is short and plain; otherwise we make one. */
        bool rid_ok = rid && strlen(rid) >= 8 && strlen(rid) <= 16;
        for (const char *p = rid; rid_ok && *p; p++)
                rid_ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-';
        if (rid_ok)
                snprintf(c.request_id, sizeof c.request_id, "%s", rid);
        else {
                _cleanup_free_ char *h = NULL;
                if (random_hex(8, &h) >= 0)
                        snprintf(c.request_id, sizeof c.request_id, "%s", h);
        }
        client_address(req, c.client, sizeof c.client);
        snprintf(c.actor, sizeof c.actor, "anonymous");

        if (dispatch(s, req, resp, &c) < 0 && resp->status == 0)
                api_error(resp, 500, "internal", "Internal error.");
        json_decref(c.body);

        security_headers(resp);
        u_map_put(resp->map_header, "X-Request-Id", c.request_id);

        double seconds = (double) (mono_usec() - start) / (double) USEC_PER_SEC;
        const char *route = c.route ? c.route->pattern : (strncmp(req->url_path, "/api/", 5) == 0 ? "unmatched" : "static");
        metrics_observe_request(s->metrics, req->http_verb, route, (int) resp->status, seconds);

        snprintf(status_buf, sizeof status_buf, "%ld", resp->status);
        snprintf(ms_buf, sizeof ms_buf, "%.3f", seconds * 1000.0);
        log_struct(resp->status >= 500 ? LOG_WARNING : LOG_INFO,
                   LOG_FIELDS("REQUEST_ID", c.request_id, "HTTP_METHOD", req->http_verb, "HTTP_PATH", req->url_path,
                              "HTTP_ROUTE", route, "HTTP_STATUS", status_buf, "DURATION_MS", ms_buf, "ACTOR", c.actor,
                              "STORE_ID", c.store_id, "CLIENT", c.client),
                   "%s %s -> %ld (%s ms)", req->http_verb, req->url_path, resp->status, ms_buf);

        atomic_fetch_sub(&s->in_flight, 1);
        return U_CALLBACK_COMPLETE;
}

/* ---- lifecycle ---- */

static void apply_limits(ApiServer *s, const Config *config)
{
        pthread_mutex_lock(&s->limits_lock);
        s->limits = (ApiLimits){
                .store = { .max_stores = config->max_stores,
                           .creates_per_hour = config->creates_per_hour,
                           .max_pending_tasks = config->max_pending_tasks },
                .max_body_bytes = config->max_body_bytes,
                .max_json_depth = config->max_json_depth,
                .session_ttl_usec = config->session_ttl_sec * USEC_PER_SEC,
                .requests_per_window = config->requests_per_window,
                .window_sec = config->window_sec,
        };
        pthread_mutex_unlock(&s->limits_lock);
        ratelimit_configure(s->ratelimit, config->requests_per_window, config->window_sec * USEC_PER_SEC);
        /* ulfius truncates bodies at this size; one byte over the limit tells "too large" apart. */
        if (s->instance_initialized)
                s->instance.max_post_body_size = config->max_body_bytes + 1;
}

int api_server_new(ApiServer **ret, const Config *config, Runner *runner, const ApiHooks *hooks)
{
        _cleanup_(api_server_freep) ApiServer *s = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->web_root_fd = -EBADF;
        pthread_mutex_init(&s->limits_lock, NULL);
        if (pthread_key_create(&s->db_key, db_key_destroy) != 0)
                return -ENOMEM;
        s->db_key_created = true;
        s->db_path = strdup(config->database);
        s->web_root = strdup(config->web_root);
        if (!s->db_path || !s->web_root)
                return -ENOMEM;
        s->runner = runner;
        /* Headers plus MHD's read and write buffers; never below what a normal request needs. */
        s->connection_memory = MAX((size_t) config->max_header_bytes * 2, (size_t) 32 * 1024);
        s->max_connections = (unsigned) config->http_threads_max;
        if (hooks)
                s->hooks = *hooks;
        s->started_at = now_usec();

        r = ratelimit_new(&s->ratelimit, config->requests_per_window, config->window_sec * USEC_PER_SEC);
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
        if (ulfius_set_default_endpoint(&s->instance, on_request, s) != U_OK)
                return -ENOMEM;

        *ret = TAKE_PTR(s);
        return 0;
}

int api_server_start(ApiServer *s, int fd)
{
        struct MHD_OptionItem options[] = {
                { MHD_OPTION_NOTIFY_COMPLETED, (intptr_t) mhd_request_completed, NULL },
                { MHD_OPTION_URI_LOG_CALLBACK, (intptr_t) ulfius_uri_logger, NULL },
                { MHD_OPTION_LISTEN_SOCKET, fd, NULL },
                { MHD_OPTION_CONNECTION_LIMIT, (intptr_t) s->max_connections, NULL },
                { MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t) 0, NULL },
                { MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t) 60, NULL },
                /* The per-connection pool holds the request line and headers: this is the header limit. */
                { MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t) s->connection_memory, NULL },
                { MHD_OPTION_END, 0, NULL },
        };

        /*
         * One thread per connection: the live stream blocks its reader while it
         * waits for changes, which would stall every other connection sharing a
         * pool thread. MHD_USE_ITC lets us quiesce (stop accepting without
         * shutting the socket systemd owns) before stopping.
         */
        if (ulfius_start_framework_with_mhd_options(&s->instance,
                                                    MHD_USE_INTERNAL_POLLING_THREAD |
                                                            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC |
                                                            MHD_USE_POLL | MHD_USE_ERROR_LOG,
                                                    options) != U_OK)
                return -EIO;
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
        store_changed_notify();
        ulfius_stop_framework(&s->instance);
        s->started = false;
}

void api_server_reload(ApiServer *s, const Config *config)
{
        apply_limits(s, config);
}

unsigned api_server_in_flight(ApiServer *s)
{
        return atomic_load(&s->in_flight);
}

uint64_t api_server_requests_total(ApiServer *s)
{
        return atomic_load(&s->requests_total);
}

uint64_t api_server_streams(ApiServer *s)
{
        return atomic_load(&s->streams);
}

ApiServer *api_server_free(ApiServer *s)
{
        if (!s)
                return NULL;
        api_server_stop(s);
        if (s->instance_initialized)
                ulfius_clean_instance(&s->instance);
        ratelimit_free(s->ratelimit);
        metrics_free(s->metrics);
        safe_close(s->web_root_fd);
        free(s->db_path);
        free(s->web_root);
        if (s->db_key_created)
                pthread_key_delete(s->db_key);
        pthread_mutex_destroy(&s->limits_lock);
        free(s);
        return NULL;
}
