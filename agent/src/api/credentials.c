/* SPDX-License-Identifier: Apache-2.0 */

/*
 * A store's administrator credentials: read (from the cluster, at the time of the request, never
 * cached or logged) and rotated (a task). Both are for the store's owner and for admins; another
 * account's store is answered as one that does not exist.
 */

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/audit.h"
#include "core/error.h"

/* Every read, shown or not, is a record of the audit log. */
static void audit_read(ApiServer *s, RequestContext *c, const Store *store, AuditResult result,
                       const char *error)
{
        api_audit_store_read(s, c, "credentials.read", store, result, error);
}

int h_store_credentials(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(json_decrefp) json_t *creds = NULL;
        int r;

        r = store_get_visible(api_db(s), &c->caller, c->params[0], &store);
        if (r == -ENOENT) {
                audit_read(s, c, NULL, AUDIT_DENIED, error_info(ERROR_NOT_FOUND)->code);
                return api_error_of(resp, ERROR_NOT_FOUND, "No store with id '%.*s'.", UTF8_PREFIX(c->params[0], 40));
        }
        if (r < 0) {
                audit_read(s, c, NULL, AUDIT_FAILED, "internal");
                return api_error(resp, 500, "internal", "Reading the store failed.");
        }
        if (store->status != STORE_READY) {
                audit_read(s, c, store, AUDIT_FAILED, error_info(ERROR_INVALID_STATE)->code);
                return api_error_of(resp, ERROR_INVALID_STATE,
                                    "Store '%s' is %s; its credentials can be read once it is READY.", store->name,
                                    store_status_to_string(store->status));
        }
        if (!s->hooks.store_credentials) {
                audit_read(s, c, store, AUDIT_FAILED, "cluster_unavailable");
                return api_error(resp, 503, "cluster_unavailable", "Reading credentials needs the cluster connection.");
        }

        if (!api_cluster_read_begin(s)) {
                audit_read(s, c, store, AUDIT_FAILED, "cluster_unavailable");
                api_set_retry_after(resp, 1);
                return api_error(resp, 503, "cluster_unavailable",
                                 "Too many requests are waiting on the cluster; try again in a second.");
        }
        r = s->hooks.store_credentials(s->hooks.userdata, store, &creds);
        api_cluster_read_end(s);
        if (r == -ENOENT) {
                audit_read(s, c, store, AUDIT_FAILED, error_info(ERROR_CREDENTIALS_UNAVAILABLE)->code);
                return api_error_of(resp, ERROR_CREDENTIALS_UNAVAILABLE,
                                    "Store '%s' has no credentials Secret in the cluster.", store->name);
        }
        if (r < 0) {
                audit_read(s, c, store, AUDIT_FAILED, "cluster_unavailable");
                log_struct_errno(LOG_WARNING, r,
                                 LOG_FIELDS("STORE_ID", store->id, "REQUEST_ID", c->request_id),
                                 "Reading the credentials of store '%s' from the cluster failed: %m", store->name);
                return api_error(resp, 503, "cluster_unavailable",
                                 "The cluster could not be asked for the credentials of store '%s'; try again later.",
                                 store->name);
        }

        audit_read(s, c, store, AUDIT_OK, NULL);
        /* A password: no cache, shared or private, may keep this answer. */
        u_map_put(resp->map_header, "Cache-Control", "no-store");
        u_map_put(resp->map_header, "Pragma", "no-cache");
        api_set_json(resp, 200, TAKE_PTR(creds));
        return 0;
}

int h_store_credentials_rotate(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        ApiLimits lim;
        int r;

        if (c->body && api_check_fields(resp, c->body, fields) < 0)
                return 0;
        api_limits_get(s, &lim);
        r = store_rotate_credentials(api_db(s), &lim.store, &c->caller, c->params[0], &store, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        log_struct(LOG_INFO,
                   LOG_FIELDS("STORE_ID", store->id, "REQUEST_ID", c->request_id, "ACTOR", c->actor, "ACTION",
                              "credentials.rotate"),
                   "New administrator password for store '%s' requested by %s.", store->name, c->actor);
        if (s->runner)
                runner_wake(s->runner);
        api_set_json(resp, 202, store_to_json(store));
        return 0;
}
