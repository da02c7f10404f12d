/* SPDX-License-Identifier: Apache-2.0 */

/* The store handlers: list, create, read, delete, retry, upgrade, roll back, transfer, and the chart versions. */

#include <inttypes.h>

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/names.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/error.h"
#include "core/store-settings.h"
#include "core/usage.h"

int h_stores_list(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        const char *st = u_map_get(req->map_url, "status"), *cur = u_map_get(req->map_url, "cursor");
        char buf[STORE_CURSOR_MAX + 1];
        StoreCursor cursor, next;
        StoreListQuery q = {
                .owner = u_map_get(req->map_url, "owner"),
                .status = _STORE_STATUS_INVALID,
        };
        uint64_t total;
        json_t *items;
        bool more;
        int r;

        if (st) {
                q.status = store_status_from_string(st);
                if (q.status < 0)
                        return api_error(resp, 400, "invalid_parameter",
                                         "Unknown status '%.*s'; use PROVISIONING, READY, FAILED, UPGRADING, "
                                         "DELETING or DELETED.",
                                         UTF8_PREFIX(st, 40));
        }
        if (api_parse_query_u64(req, "limit", 50, 500, &q.limit, resp) < 0 ||
            api_parse_query_u64(req, "offset", 0, UINT32_MAX, &q.offset, resp) < 0)
                return 0;
        if (cur) {
                if (store_cursor_parse(cur, &cursor) < 0)
                        return api_error(resp, 400, "invalid_parameter",
                                         "Query parameter 'cursor' must be a next_cursor of an earlier page of this "
                                         "list, unchanged.");
                if (q.offset > 0)
                        return api_error(resp, 400, "invalid_parameter",
                                         "Query parameters 'cursor' and 'offset' cannot be used together.");
                q.cursor = &cursor;
        }
        r = store_list(api_db(s), &c->caller, &q, &items, &total, &next, &more);
        if (r < 0)
                return api_error(resp, 500, "internal", "Listing stores failed.");
        api_set_json(resp, 200,
                     json_pack("{s:o, s:I, s:I, s:I, s:o}", "items", items, "total", (json_int_t) total, "limit",
                               (json_int_t) q.limit, "offset", (json_int_t) q.offset, "next_cursor",
                               more ? json_string(store_cursor_format(&next, buf)) : json_null()));
        return 0;
}

int h_stores_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "name", "engine", "settings", "from_backup", NULL };
        static const char *const from_fields[] = { "store", "backup", NULL };
        RequestContext *c = ctx;
        json_t *from_json = json_object_get(c->body, "from_backup");
        StoreCloneSource from = {};
        _cleanup_(store_freep) Store *store = NULL;
        const char *name, *engine, *key;
        StoreError err = {};
        ApiLimits lim;
        bool replayed = false;
        Db *db = api_db(s);
        int r;

        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "name", &name) < 0 ||
            api_require_string(resp, c, "engine", &engine) < 0)
                return 0;
        if (from_json) {
                if (json_is_object(from_json) && api_check_fields(resp, from_json, from_fields) < 0)
                        return 0;
                if (!json_is_string(json_object_get(from_json, "store")) ||
                    !json_is_string(json_object_get(from_json, "backup")))
                        return api_error(resp, 400, "invalid_type",
                                         "Field 'from_backup' must be an object with the strings 'store' (a "
                                         "store's id or name) and 'backup' (the id of one of its backups).");
                from.store = json_string_value(json_object_get(from_json, "store"));
                from.backup = json_string_value(json_object_get(from_json, "backup"));
        }

        key = u_map_get_case(req->map_header, "Idempotency-Key");
        if (key && (strlen(key) == 0 || strlen(key) > 128))
                return api_error(resp, 400, "invalid_header", "Idempotency-Key must be 1 to 128 characters.");

        api_limits_get(s, &lim);
        r = store_create_with_settings(db, &lim.store, &c->caller, name, engine, NULL,
                                       json_object_get(c->body, "settings"), from_json ? &from : NULL, key,
                                       &store, &replayed, &err);
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
        api_set_json(resp, 202, store_to_json(store));
        return 0;
}

static int load_store(ApiServer *s, RequestContext *c, struct _u_response *resp, Store **ret)
{
        Db *db = api_db(s);
        int r;

        /* Another account's store is refused exactly as one that does not exist. */
        r = store_get_visible(db, &c->caller, c->params[0], ret);
        if (r == -ENOENT)
                return api_error_of(resp, ERROR_NOT_FOUND, "No store with id '%.*s'.", UTF8_PREFIX(c->params[0], 40)), r;
        if (r < 0)
                return api_error(resp, 500, "internal", "Reading the store failed."), r;
        return 0;
}

int h_store_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_(store_freep) Store *store = NULL;

        if (load_store(s, ctx, resp, &store) < 0)
                return 0;
        api_set_json(resp, 200, store_to_json(store));
        return 0;
}

int h_store_events(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        uint64_t limit, after;
        json_t *items;

        if (api_parse_query_u64(req, "limit", 100, 1000, &limit, resp) < 0 ||
            api_parse_query_u64(req, "after", 0, INT64_MAX, &after, resp) < 0)
                return 0;
        if (load_store(s, c, resp, &store) < 0)
                return 0;
        if (store_events(api_db(s), store->id, limit, (int64_t) after, &items) < 0)
                return api_error(resp, 500, "internal", "Reading events failed.");
        api_set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

/*
 * The store's resource use over the last window seconds (the samples the provisioner keeps), and
 * whether CPU and memory can be known at all: without the metrics API they are null, never zero.
 */
int h_store_usage(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_(store_freep) Store *store = NULL;
        json_t *status = NULL, *answer = NULL;
        uint64_t window, now = now_usec();

        if (api_parse_query_u64(req, "window", 3600, 31622400, &window, resp) < 0)
                return 0;
        if (load_store(s, ctx, resp, &store) < 0)
                return 0;
        if (!s->hooks.usage_status || s->hooks.usage_status(s->hooks.userdata, &status) < 0)
                status = usage_status_unavailable();
        if (!status)
                return api_error(resp, 500, "internal", "Out of memory.");
        if (usage_answer(api_db(s), store->id, status, window, now, &answer) < 0)
                return api_error(resp, 500, "internal", "Reading the usage samples failed.");
        api_set_json(resp, 200, answer);
        return 0;
}

int h_store_releases(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_(store_freep) Store *store = NULL;
        json_t *items = NULL;
        Db *db = api_db(s);
        int r;

        if (load_store(s, ctx, resp, &store) < 0)
                return 0;
        /* Kept by the task that last ran on the store; read with helm only for a store that predates that. */
        r = store_get_releases(db, store->id, &items);
        if (r == -ENODATA) {
                if (!s->hooks.release_history)
                        return api_error(resp, 503, "cluster_unavailable",
                                         "Release history needs the cluster connection.");
                if (!api_cluster_read_begin(s)) {
                        api_set_retry_after(resp, 1);
                        return api_error(resp, 503, "cluster_unavailable",
                                         "Too many requests are waiting on the cluster; try again in a second.");
                }
                r = s->hooks.release_history(s->hooks.userdata, store, &items);
                api_cluster_read_end(s);
                if (r < 0)
                        return api_error(resp, 502, "helm_failed", "Reading the Helm history failed: %s",
                                         strerror(-r));
                (void) store_set_releases(db, store->id, items);
        } else if (r < 0)
                return api_error(resp, 500, "internal", "Reading the release history failed.");
        api_set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

int h_store_delete(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        Db *db = api_db(s);
        int r;

        r = store_delete(db, &c->caller, c->params[0], &store, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", store->id, "REQUEST_ID", c->request_id, "ACTOR", c->actor, "ACTION",
                                        "store.delete"),
                   "Delete of store '%s' requested by %s.", store->name, c->actor);
        if (s->runner)
                runner_wake(s->runner);
        api_set_json(resp, 202, store_to_json(store));
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
        api_set_json(resp, 202, store_to_json(store));
        return 0;
}

int h_store_retry(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        ApiLimits lim;
        Db *db = api_db(s);

        if (c->body && api_check_fields(resp, c->body, fields) < 0)
                return 0;
        api_limits_get(s, &lim);
        int r = store_retry(db, &lim.store, &c->caller, c->params[0], &store, &err);
        return finish_operation(s, c, resp, r, store, &err, "store.retry");
}

int h_store_upgrade(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "chart_version", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        const char *version;
        ApiLimits lim;
        Db *db = api_db(s);

        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "chart_version", &version) < 0)
                return 0;
        if (!chart_version_is_valid(version))
                return api_error_of(resp, ERROR_INVALID_REQUEST, "chart_version must be a version such as 0.2.0.");
        /* A store the caller cannot see is a 404 before anything is said about the version. */
        if (load_store(s, c, resp, &store) < 0)
                return 0;
        store = store_free(store);
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
        int r = store_upgrade(db, &lim.store, &c->caller, c->params[0], version, &store, &err);
        return finish_operation(s, c, resp, r, store, &err, "store.upgrade");
}

/* Re-applies the store's current chart version with its current settings. */
int h_store_redeploy(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        ApiLimits lim;

        if (c->body && api_check_fields(resp, c->body, fields) < 0)
                return 0;
        api_limits_get(s, &lim);
        int r = store_redeploy(api_db(s), &lim.store, &c->caller, c->params[0], &store, &err);
        return finish_operation(s, c, resp, r, store, &err, "store.redeploy");
}

int h_store_settings_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *settings = NULL;
        StoreError err = {};
        int r;

        r = store_settings_get(api_db(s), &c->caller, c->params[0], &settings, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        api_set_json(resp, 200, settings);
        return 0;
}

/* {"title", "currency", "country", "admin_email"}: each a string, or null for the chart's default; the
 * members not given stay as they are. Applied by an upgrade to the current chart version. */
int h_store_settings_patch(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "title", "currency", "country", "admin_email", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        ApiLimits lim;
        int r;

        if (api_check_fields(resp, c->body, fields) < 0)
                return 0;
        if (json_object_size(c->body) == 0)
                return api_error(resp, 400, "missing_field",
                                 "Give at least one of title, currency, country, admin_email.");
        api_limits_get(s, &lim);
        r = store_change_settings(api_db(s), &lim.store, &c->caller, c->params[0], c->body, &store, &err);
        return finish_operation(s, c, resp, r, store, &err, "store.settings");
}

int h_store_rollback(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "revision", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        json_t *rev;
        ApiLimits lim;
        Db *db = api_db(s);

        if (api_check_fields(resp, c->body, fields) < 0)
                return 0;
        rev = json_object_get(c->body, "revision");
        if (!rev)
                return api_error(resp, 400, "missing_field", "Field 'revision' is required.");
        if (!json_is_integer(rev))
                return api_error(resp, 400, "invalid_type", "Field 'revision' must be an integer.");
        api_limits_get(s, &lim);
        int r = store_rollback(db, &lim.store, &c->caller, c->params[0], json_integer_value(rev), &store, &err);
        return finish_operation(s, c, resp, r, store, &err, "store.rollback");
}

int h_store_transfer(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "account", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        const char *account;
        Db *db = api_db(s);
        int r;

        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "account", &account) < 0)
                return 0;
        r = store_transfer(db, &c->caller, c->params[0], account, &store, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        api_set_json(resp, 200, store_to_json(store));
        return 0;
}

int h_charts(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        json_t *items = NULL;

        if (!s->hooks.chart_versions || s->hooks.chart_versions(s->hooks.userdata, &items) < 0)
                items = json_array();
        api_set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}
