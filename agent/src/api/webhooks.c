/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The webhook handlers: the caller's account's webhooks, and nobody else's (another account's
 * webhook is one that does not exist). A new webhook's secret is in the create reply once; it
 * is kept to sign deliveries and never shown or logged again.
 */

#include <inttypes.h>

#include "api/api-internal.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/audit.h"
#include "core/webhook.h"

static void audit_webhook(ApiServer *s, RequestContext *c, const char *action, const char *target, AuditResult result,
                          const char *error)
{
        (void) audit_record(api_db(s), &(AuditEntry) { .caller = &c->caller, .action = action, .target_kind = "webhook",
                                                       .target = target, .result = result, .error = error,
                                                       .source = c->client, .request_id = c->request_id });
}

/* The {id} of the route as a webhook id; 0 when it is not one (no webhook has it). */
static int64_t webhook_id_param(RequestContext *c)
{
        uint64_t id;

        if (safe_atou64(c->params[0], &id) < 0 || id > INT64_MAX)
                return 0;
        return (int64_t) id;
}

static int not_found(struct _u_response *resp, RequestContext *c)
{
        return api_error_of(resp, ERROR_WEBHOOK_NOT_FOUND, "No webhook %.*s.", UTF8_PREFIX(c->params[0], 32));
}

int h_webhooks_list(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *items = NULL;

        if (webhook_list(api_db(s), c->caller.account_id, &items) < 0)
                return api_error(resp, 500, "internal", "Listing webhooks failed.");
        api_set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

int h_webhooks_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "url", "events", "all_stores", NULL };
        RequestContext *c = ctx;
        _cleanup_erase_free_ char *secret = NULL;
        _cleanup_(json_decrefp) json_t *hook = NULL;
        const char *url, *why = NULL;
        json_t *events, *all_stores;
        char target[32];
        int64_t id;
        ApiLimits lim;
        int r;

        if (!c->body)
                return api_error(resp, 400, "missing_field", "Field 'url' is required.");
        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "url", &url) < 0)
                return 0;
        api_limits_get(s, &lim);
        if (!webhook_url_is_valid(url, lim.webhook_max_url_bytes, &why))
                return api_error(resp, 400, "invalid_url", "%s", why);
        events = json_object_get(c->body, "events");
        if (events && !json_is_array(events))
                return api_error(resp, 400, "invalid_type", "Field 'events' must be an array of event names.");
        all_stores = json_object_get(c->body, "all_stores");
        if (all_stores && !json_is_boolean(all_stores))
                return api_error(resp, 400, "invalid_type", "Field 'all_stores' must be true or false.");
        if (json_is_true(all_stores) && !caller_is_admin(&c->caller)) {
                audit_webhook(s, c, "webhook.create", NULL, AUDIT_DENIED, error_info(ERROR_FORBIDDEN)->code);
                return api_error_of(resp, ERROR_FORBIDDEN, "Only an admin's webhook may hear of every store.");
        }

        api_db_check_writable(s);
        r = webhook_create(api_db(s), c->caller.account_id,
                           &(WebhookSpec) { .url = url, .events = events, .all_stores = json_is_true(all_stores) },
                           lim.webhook_max_per_account, &id, &secret);
        if (r == -EINVAL)
                return api_error(resp, 400, "invalid_event",
                                 "Field 'events' takes one or more of store.ready, store.failed, store.deleted, "
                                 "backup.succeeded and backup.failed.");
        if (r == -EDQUOT) {
                audit_webhook(s, c, "webhook.create", NULL, AUDIT_DENIED, error_info(ERROR_WEBHOOK_CAP)->code);
                return api_error_of(resp, ERROR_WEBHOOK_CAP, "Account '%s' has %" PRIu64 " webhook(s), the most it may.",
                                    c->caller.account, lim.webhook_max_per_account);
        }
        if (r != 0 && error_info(error_from_errno(r)))
                return api_error_of(resp, error_from_errno(r), "Creating the webhook failed.");
        if (r < 0 || webhook_get(api_db(s), c->caller.account_id, id, &hook) < 0)
                return api_error(resp, 500, "internal", "Creating the webhook failed.");
        snprintf(target, sizeof target, "%" PRIi64, id);
        audit_webhook(s, c, "webhook.create", target, AUDIT_OK, NULL);

        if (json_object_set_new(hook, "secret", json_string(secret)) < 0)
                return api_error(resp, 500, "internal", "Creating the webhook failed.");
        u_map_put(resp->map_header, "Cache-Control", "no-store");
        api_set_json(resp, 201, TAKE_PTR(hook));
        return 0;
}

int h_webhook_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *hook = NULL;
        int r;

        r = webhook_get(api_db(s), c->caller.account_id, webhook_id_param(c), &hook);
        if (r == -ENOENT)
                return not_found(resp, c);
        if (r < 0)
                return api_error(resp, 500, "internal", "Reading the webhook failed.");
        api_set_json(resp, 200, hook);
        return 0;
}

int h_webhook_patch(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "enabled", NULL };
        RequestContext *c = ctx;
        json_t *enabled, *hook = NULL;
        int64_t id = webhook_id_param(c);
        int r;

        if (!c->body)
                return api_error(resp, 400, "missing_field", "Field 'enabled' is required.");
        if (api_check_fields(resp, c->body, fields) < 0)
                return 0;
        enabled = json_object_get(c->body, "enabled");
        if (!enabled)
                return api_error(resp, 400, "missing_field", "Field 'enabled' is required.");
        if (!json_is_boolean(enabled))
                return api_error(resp, 400, "invalid_type", "Field 'enabled' must be true or false.");
        api_db_check_writable(s);
        r = webhook_set_enabled(api_db(s), c->caller.account_id, id, json_is_true(enabled));
        if (r == -ENOENT) {
                audit_webhook(s, c, "webhook.update", c->params[0], AUDIT_DENIED,
                              error_info(ERROR_WEBHOOK_NOT_FOUND)->code);
                return not_found(resp, c);
        }
        if (r != 0 && error_info(error_from_errno(r)))
                return api_error_of(resp, error_from_errno(r), "Changing the webhook failed.");
        if (r < 0 || webhook_get(api_db(s), c->caller.account_id, id, &hook) < 0)
                return api_error(resp, 500, "internal", "Changing the webhook failed.");
        audit_webhook(s, c, "webhook.update", c->params[0], AUDIT_OK, NULL);
        api_set_json(resp, 200, hook);
        return 0;
}

int h_webhook_delete(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        int r;

        api_db_check_writable(s);
        r = webhook_delete(api_db(s), c->caller.account_id, webhook_id_param(c));
        if (r == -ENOENT) {
                audit_webhook(s, c, "webhook.delete", c->params[0], AUDIT_DENIED,
                              error_info(ERROR_WEBHOOK_NOT_FOUND)->code);
                return not_found(resp, c);
        }
        if (r != 0 && error_info(error_from_errno(r)))
                return api_error_of(resp, error_from_errno(r), "Deleting the webhook failed.");
        if (r < 0)
                return api_error(resp, 500, "internal", "Deleting the webhook failed.");
        audit_webhook(s, c, "webhook.delete", c->params[0], AUDIT_OK, NULL);
        ulfius_set_empty_body_response(resp, 204);
        return 0;
}

int h_webhook_deliveries(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *items = NULL;
        int r;

        r = webhook_deliveries(api_db(s), c->caller.account_id, webhook_id_param(c), &items);
        if (r == -ENOENT)
                return not_found(resp, c);
        if (r < 0)
                return api_error(resp, 500, "internal", "Reading the deliveries failed.");
        api_set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

int h_webhook_test(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { NULL };
        RequestContext *c = ctx;
        json_t *delivery = NULL;
        int r;

        if (c->body && api_check_fields(resp, c->body, fields) < 0)
                return 0;
        api_db_check_writable(s);
        r = webhook_send_test(api_db(s), c->caller.account_id, webhook_id_param(c), &delivery);
        if (r == -ENOENT) {
                audit_webhook(s, c, "webhook.test", c->params[0], AUDIT_DENIED,
                              error_info(ERROR_WEBHOOK_NOT_FOUND)->code);
                return not_found(resp, c);
        }
        if (r != 0 && error_info(error_from_errno(r)))
                return api_error_of(resp, error_from_errno(r), "Queueing the test delivery failed.");
        if (r < 0)
                return api_error(resp, 500, "internal", "Queueing the test delivery failed.");
        audit_webhook(s, c, "webhook.test", c->params[0], AUDIT_OK, NULL);
        api_set_json(resp, 202, delivery);
        return 0;
}
