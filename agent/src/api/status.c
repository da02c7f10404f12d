/* SPDX-License-Identifier: Apache-2.0 */

/* Health and readiness checks, Prometheus metrics, and the platform summary the dashboard shows. */

#include <inttypes.h>

#include "api/api-internal.h"
#include "api/ratelimit.h"
#include "basic/util.h"
#include "core/backup-schedule.h"
#include "core/queue.h"

int h_healthz(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        api_set_json(resp, 200, json_pack("{s:s}", "status", "ok"));
        return 0;
}

/*
 * Anyone may ask whether the daemon is ready; only an admin learns why not. The details name
 * the kubeconfig's path, the cluster's own error text and other merchants' store ids, none of
 * which the internet or a tenant should read.
 */
int h_readyz(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *checks = json_object(), *cluster = NULL, *orphans = NULL, *warnings = NULL;
        bool ready = true;
        bool details = c->token_id > 0 && caller_is_admin(&c->caller);
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
        /* A store whose backups are late is a warning, not a reason to take the daemon out of service. */
        if (db) {
                ApiLimits lim;
                _cleanup_(json_decrefp) json_t *stats = NULL;

                api_limits_get(s, &lim);
                if (backup_store_stats(db, &lim.backups, now_usec(), &stats) >= 0) {
                        json_t *st, *late = json_array();
                        size_t i;

                        json_array_foreach(stats, i, st)
                                if (json_is_true(json_object_get(st, "overdue")))
                                        json_array_append(late, json_object_get(st, "name"));
                        if (json_array_size(late) > 0)
                                warnings = json_pack("[s]", "backups");
                        json_object_set_new(checks, "backups",
                                            json_pack("{s:b, s:o}", "ok", json_array_size(late) == 0, "overdue",
                                                      late));
                }
        }
        if (details && s->hooks.orphans && s->hooks.orphans(s->hooks.userdata, &orphans) >= 0)
                json_object_set_new(checks, "orphan_namespaces", orphans);

        if (!details) {
                json_decref(checks);
                api_set_json(resp, ready ? 200 : 503,
                             json_pack("{s:s, s:o*}", "status", ready ? "ready" : "not ready", "warnings", warnings));
                return 0;
        }
        api_set_json(resp, ready ? 200 : 503,
                     json_pack("{s:s, s:o, s:o*}", "status", ready ? "ready" : "not ready", "checks", checks,
                               "warnings", warnings));
        return 0;
}

/* The capacity gauges, when the cluster could be read (cpu in millicores, memory in bytes). */
static void write_capacity(ApiServer *s, Db *db, FILE *f)
{
        static const char *const gauges[][2] = {
                { "allocatable", "What the schedulable nodes offer (times the overcommit)." },
                { "used_by_other_pods", "Requests of placed pods that are not an active store's." },
                { "reserved_by_stores", "Quota requests of the active stores." },
                { "free", "Room left for new stores." },
                { "store_needs", "What one new store reserves (its quota's requests)." },
        };
        _cleanup_(json_decrefp) json_t *cap = NULL;

        if (!db || !s->hooks.capacity || s->hooks.capacity(s->hooks.userdata, db, true, &cap) < 0 ||
            !json_is_true(json_object_get(cap, "known")))
                return;
        for (size_t i = 0; i < ELEMENTSOF(gauges); i++) {
                json_t *amounts = json_object_get(cap, gauges[i][0]), *v;
                const char *res;
                fprintf(f, "# HELP storeagent_capacity_%s %s\n# TYPE storeagent_capacity_%s gauge\n", gauges[i][0],
                        gauges[i][1], gauges[i][0]);
                json_object_foreach(amounts, res, v)
                        fprintf(f, "storeagent_capacity_%s{resource=\"%s\"} %" JSON_INTEGER_FORMAT "\n", gauges[i][0],
                                res, json_integer_value(v));
        }
        fprintf(f,
                "# HELP storeagent_capacity_stores_that_fit New stores the free room holds.\n"
                "# TYPE storeagent_capacity_stores_that_fit gauge\nstoreagent_capacity_stores_that_fit %" JSON_INTEGER_FORMAT
                "\n",
                json_integer_value(json_object_get(cap, "stores_that_fit")));
}

/* Per store: the age of its last backup that succeeded, what its backups take, whether it is late. */
static void write_backups(ApiServer *s, Db *db, FILE *f)
{
        _cleanup_(json_decrefp) json_t *stats = NULL;
        ApiLimits lim;
        uint64_t now = now_usec();
        json_t *st;
        size_t i;

        api_limits_get(s, &lim);
        if (!db || backup_store_stats(db, &lim.backups, now, &stats) < 0)
                return;
        fputs("# HELP storeagent_backup_last_success_age_seconds Seconds since the store's last backup that "
              "succeeded (stores with one).\n# TYPE storeagent_backup_last_success_age_seconds gauge\n",
              f);
        json_array_foreach(stats, i, st) {
                uint64_t last = (uint64_t) json_integer_value(json_object_get(st, "last_success"));
                if (last > 0)
                        fprintf(f, "storeagent_backup_last_success_age_seconds{store=\"%s\"} %.3f\n",
                                json_string_value(json_object_get(st, "name")),
                                now > last ? (double) (now - last) / USEC_PER_SEC : 0.0);
        }
        fputs("# HELP storeagent_backup_bytes Bytes the store's succeeded backups take on disk.\n"
              "# TYPE storeagent_backup_bytes gauge\n",
              f);
        json_array_foreach(stats, i, st)
                fprintf(f, "storeagent_backup_bytes{store=\"%s\"} %" JSON_INTEGER_FORMAT "\n",
                        json_string_value(json_object_get(st, "name")), json_integer_value(json_object_get(st, "bytes")));
        fputs("# HELP storeagent_backup_overdue 1 when the store's last backup is older than its schedule allows.\n"
              "# TYPE storeagent_backup_overdue gauge\n",
              f);
        json_array_foreach(stats, i, st)
                fprintf(f, "storeagent_backup_overdue{store=\"%s\"} %d\n", json_string_value(json_object_get(st, "name")),
                        json_is_true(json_object_get(st, "overdue")));
}

int h_metrics(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
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
        if (db && store_count_by_status(db, &((RequestContext *) ctx)->caller, &by_status) >= 0) {
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
                fputs("# HELP storeagent_task_duration_seconds Time a task took from its first lease to its end (waits for its store's workloads and retries included).\n"
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
        write_capacity(s, db, f);
        write_backups(s, db, f);
        fclose(f);
        ulfius_set_binary_body_response(resp, 200, buf, n);
        u_map_put(resp->map_header, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        return 0;
}

static json_t *limit_json(uint64_t limit, uint64_t used)
{
        return json_pack("{s:o, s:I}", "limit", limit == UINT64_MAX ? json_null() : json_integer((json_int_t) limit),
                         "used", (json_int_t) used);
}

/* The caller's own account: its limits and what it uses of them. */
static json_t *account_usage(ApiServer *s, RequestContext *c, const ApiLimits *lim, uint64_t requests_used)
{
        _cleanup_(account_freep) Account *a = NULL;
        uint64_t max_stores = UINT64_MAX, creates_per_hour = UINT64_MAX, active = 0, creates = 0;
        Db *db = api_db(s);

        if (account_get(db, c->caller.account_id, &a) >= 0)
                store_account_limits(&lim->store, a, &max_stores, &creates_per_hour);
        (void) store_count_active(db, c->caller.account_id, &active);
        (void) store_creates_in_last_hour(db, c->caller.account_id, &creates);
        return json_pack("{s:s, s:s, s:{s:o, s:o, s:o}}", "name", c->caller.account, "role",
                         account_role_to_string(c->caller.role), "limits", "max_stores",
                         limit_json(max_stores, active), "creates_per_hour", limit_json(creates_per_hour, creates),
                         "requests_per_window", limit_json(lim->requests_per_window, requests_used));
}

/*
 * What the dashboard shows: for everyone, the caller's own account, its limits and use; for
 * admins also the platform's numbers. A tenant sees no platform-wide count, nor another
 * account's: its stores_by_status counts its own stores.
 */
int h_platform(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *by_status = NULL, *cluster = NULL, *capacity = NULL, *body;
        uint64_t active = 0, creates = 0, pending = 0, used;
        char key[96];
        ApiLimits lim;
        Db *db = api_db(s);

        api_limits_get(s, &lim);
        if (store_count_by_status(db, &c->caller, &by_status) < 0)
                by_status = json_object();
        api_ratelimit_key(&c->caller, key, sizeof key);
        used = MIN(ratelimit_used(s->ratelimit, key, now_usec()), lim.requests_per_window);

        if (!s->hooks.cluster_status || s->hooks.cluster_status(s->hooks.userdata, &cluster) < 0)
                cluster = json_pack("{s:b, s:s}", "reachable", 0, "detail", "no cluster connection configured");

        body = json_pack("{s:s, s:o, s:o, s:o}", "version", PACKAGE_VERSION, "stores_by_status", by_status, "cluster",
                         cluster, "account", account_usage(s, c, &lim, used));
        if (!body)
                return api_error(resp, 500, "internal", "Out of memory.");
        /* Room for stores: an admin sees the nodes and the numbers, a tenant only whether a store fits. */
        if (s->hooks.capacity && s->hooks.capacity(s->hooks.userdata, db, caller_is_admin(&c->caller), &capacity) >= 0)
                json_object_set_new(body, "capacity", capacity);
        if (caller_is_admin(&c->caller)) {
                (void) store_count_active(db, 0, &active);
                (void) store_creates_in_last_hour(db, c->caller.account_id, &creates);
                (void) queue_count_active(db, &pending);
                json_object_set_new(
                        body, "limits",
                        json_pack("{s:{s:I, s:I}, s:{s:I, s:I}, s:{s:I, s:I, s:I}, s:{s:I, s:I}}", "max_stores",
                                  "limit", (json_int_t) lim.store.max_stores, "used", (json_int_t) active,
                                  "creates_per_hour", "limit", (json_int_t) lim.store.creates_per_hour, "used",
                                  (json_int_t) creates, "requests_per_window", "limit",
                                  (json_int_t) lim.requests_per_window, "used", (json_int_t) used, "window_seconds",
                                  (json_int_t) lim.window_sec, "max_pending_tasks", "limit",
                                  (json_int_t) lim.store.max_pending_tasks, "used", (json_int_t) pending));
        }
        api_set_json(resp, 200, body);
        return 0;
}
