/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The methods of org.storeagent.Agent1 about a store's settings and its redeploy: the REST API's
 * /stores/{id}/settings and /stores/{id}/redeploy with the same rules (the owner and admins;
 * another tenant's store does not exist).
 */

#include <systemd/sd-bus.h>

#include "basic/util.h"
#include "bus/bus-internal.h"
#include "core/store-settings.h"

int bus_method_redeploy_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = bus_resolve_store(b, &caller, id, &cur, error);
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

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = bus_resolve_store(b, &caller, id, &cur, error);
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

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &id, &text);
        if (r < 0)
                return r;
        r = bus_resolve_store(b, &caller, id, &cur, error);
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
