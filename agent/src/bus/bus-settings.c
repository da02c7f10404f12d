/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The methods of org.storeagent.Agent1 about a store's settings, its own domains and its redeploy: the
 * REST API's /stores/{id}/settings, /domains, /primary-domain and /redeploy with the same rules (the
 * owner and admins; another tenant's store does not exist).
 */

#include <systemd/sd-bus.h>

#include "basic/util.h"
#include "bus/bus-internal.h"
#include "core/store-domains.h"
#include "core/store-settings.h"

int bus_method_redeploy_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        r = store_redeploy(b->db, &b->limits, &caller, cur->id, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        bus_queued(b, s, caller.account, "store.redeploy");
        return bus_reply_json(m, store_to_json(s));
}

int bus_method_get_store_settings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        json_t *settings = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        r = store_settings_get(b->db, &caller, cur->id, &settings, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        return bus_reply_json(m, settings);
}

/* settings_json: as PATCH /api/v1/stores/{id}/settings takes it. */
int bus_method_set_store_settings(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        _cleanup_(json_decrefp) json_t *changes = NULL;
        const char *id, *text;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "ss", &id, &text);
        if (r < 0)
                return r;
        /* Not JSON, or not an object: store_change_settings() says so. */
        changes = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        r = store_change_settings(b->db, &b->limits, &caller, cur->id, changes, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        bus_queued(b, s, caller.account, "store.settings");
        return bus_reply_json(m, store_to_json(s));
}

/* The store's own domains: {"items": [...], "primary"} as GET /api/v1/stores/{id}/domains answers. */
int bus_method_get_store_domains(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        json_t *domains = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        r = store_domains_get(b->db, &caller, cur->id, &domains, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        return bus_reply_json(m, domains);
}

/* AddStoreDomain(s id_or_name, s domain, b primary), RemoveStoreDomain(s id_or_name, s domain) and
 * SetStorePrimaryDomain(s id_or_name, s domain; "": the store's own host), as the REST API's
 * POST/DELETE /stores/{id}/domains and POST /stores/{id}/primary-domain. */
static int domain_method(sd_bus_message *m, Bus *b, const char *action, sd_bus_error *error)
{
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id, *domain;
        StoreError err = {};
        Caller caller;
        int primary = 0, r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &id, &domain);
        if (r >= 0 && streq(action, "store.domain.add"))
                r = sd_bus_message_read(m, "b", &primary);
        if (r < 0)
                return r;
        r = bus_resolve_store(b, &caller, id, &cur, error);
        if (r < 0)
                return r;
        if (streq(action, "store.domain.add"))
                r = store_domain_add(b->db, &b->limits, &caller, cur->id, domain, primary, &s, &err);
        else if (streq(action, "store.domain.remove"))
                r = store_domain_remove(b->db, &b->limits, &caller, cur->id, domain, &s, &err);
        else
                r = store_domain_set_primary(b->db, &b->limits, &caller, cur->id,
                                             isempty(domain) ? NULL : domain, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        bus_queued(b, s, caller.account, action);
        return bus_reply_json(m, store_to_json(s));
}

int bus_method_add_store_domain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        return domain_method(m, userdata, "store.domain.add", error);
}

int bus_method_remove_store_domain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        return domain_method(m, userdata, "store.domain.remove", error);
}

int bus_method_set_store_primary_domain(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        return domain_method(m, userdata, "store.domain.primary", error);
}
