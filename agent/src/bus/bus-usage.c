/* SPDX-License-Identifier: Apache-2.0 */

/*
 * GetStoreUsage of org.storeagent.Agent1: a store's resource use over the last hour, as the REST API's
 * GET /stores/{id}/usage gives it, with the same rules (the owner and admins; another tenant's store
 * does not exist).
 */

#include <systemd/sd-bus.h>

#include "basic/util.h"
#include "bus/bus-internal.h"
#include "core/usage.h"

int bus_method_get_store_usage(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        json_t *status = NULL, *answer = NULL;
        uint64_t now = now_usec();
        const char *id;
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        if (!b->hooks.usage_status || b->hooks.usage_status(b->hooks.userdata, &status) < 0)
                status = usage_status_unavailable();
        if (!status)
                return -ENOMEM;
        r = usage_answer(b->db, cur->id, status, 3600, now, &answer);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Reading the usage samples failed: %m");
        return bus_reply_json(m, answer);
}
