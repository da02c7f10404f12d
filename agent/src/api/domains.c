/* SPDX-License-Identifier: Apache-2.0 */

/* A store's own domains: list, add, remove, and which one is primary. */

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/util.h"
#include "core/error.h"
#include "core/store-domains.h"

/* A change was queued as a redeploy of the store: 202 with the store, as settings changes answer. */
static int finish(ApiServer *s, RequestContext *c, struct _u_response *resp, int r, Store *store,
                  const StoreError *err, const char *action, const char *domain)
{
        if (r != 0)
                return api_store_error(resp, r, err);
        log_struct(LOG_INFO,
                   LOG_FIELDS("STORE_ID", store->id, "REQUEST_ID", c->request_id, "ACTOR", c->actor,
                              "ACTION", action),
                   "%s of store '%s' (%s) requested by %s.", action, store->name, strna(domain), c->actor);
        if (s->runner)
                runner_wake(s->runner);
        api_set_json(resp, 202, store_to_json(store));
        return 0;
}

int h_store_domains_list(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *domains = NULL;
        StoreError err = {};
        int r;

        r = store_domains_get(api_db(s), &c->caller, c->params[0], &domains, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        api_set_json(resp, 200, domains);
        return 0;
}

/* {"domain": "shop.example.com", "primary": false} */
int h_store_domains_add(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "domain", "primary", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        const char *domain;
        json_t *primary;
        ApiLimits lim;
        int r;

        if (api_check_fields(resp, c->body, fields) < 0 ||
            api_require_string(resp, c, "domain", &domain) < 0)
                return 0;
        primary = json_object_get(c->body, "primary");
        if (primary && !json_is_boolean(primary))
                return api_error(resp, 400, "invalid_type", "Field 'primary' must be true or false.");
        api_limits_get(s, &lim);
        r = store_domain_add(api_db(s), &lim.store, &c->caller, c->params[0], domain, json_is_true(primary),
                             &store, &err);
        return finish(s, c, resp, r, store, &err, "store.domain.add", domain);
}

int h_store_domain_delete(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        ApiLimits lim;
        int r;

        api_limits_get(s, &lim);
        r = store_domain_remove(api_db(s), &lim.store, &c->caller, c->params[0], c->params[1], &store, &err);
        return finish(s, c, resp, r, store, &err, "store.domain.remove", c->params[1]);
}

/* {"domain": "shop.example.com"}, or {"domain": null} for the store's own host. */
int h_store_primary_domain_post(ApiServer *s, const struct _u_request *req, struct _u_response *resp,
                                void *ctx)
{
        static const char *const fields[] = { "domain", NULL };
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        StoreError err = {};
        json_t *domain;
        ApiLimits lim;
        int r;

        if (api_check_fields(resp, c->body, fields) < 0)
                return 0;
        domain = json_object_get(c->body, "domain");
        if (!domain)
                return api_error(resp, 400, "missing_field",
                                 "Field 'domain' is required (null: the store's own host).");
        if (!json_is_string(domain) && !json_is_null(domain))
                return api_error(resp, 400, "invalid_type", "Field 'domain' must be a string or null.");
        api_limits_get(s, &lim);
        r = store_domain_set_primary(api_db(s), &lim.store, &c->caller, c->params[0],
                                     json_string_value(domain), &store, &err);
        return finish(s, c, resp, r, store, &err, "store.domain.primary", json_string_value(domain));
}
