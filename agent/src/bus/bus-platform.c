/* SPDX-License-Identifier: Apache-2.0 */

/*
 * GetPlatformStats of org.storeagent.Agent1 (admins): the stores of each status over the last window
 * and the provisioning times of the last creates, as GET /api/v1/platform/stats gives them (the room
 * on the nodes is GetCapacity's).
 */

#include <inttypes.h>
#include <systemd/sd-bus.h>

#include "basic/util.h"
#include "bus/bus-internal.h"
#include "core/store-stats.h"

#define STATS_POINTS 24U

int bus_method_get_platform_stats(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(json_decrefp) json_t *history = NULL, *times = NULL;
        uint64_t window, creates, now = now_usec();
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "tt", &window, &creates);
        if (r < 0)
                return r;
        if (!caller_is_admin(&caller))
                return bus_refuse_tenant(b, &caller, "platform.stats", "platform", "stats", error);
        if (window < 3600 || window > 31622400 || creates < 1 || creates > b->limits_stats.max_creates)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                         "The window must be 3600 to 31622400 seconds, creates 1 to %" PRIu64
                                         ".",
                                         b->limits_stats.max_creates);
        r = store_status_history(b->db, now - MIN(window * USEC_PER_SEC, now - 1), now, STATS_POINTS,
                                 now - MIN(b->limits_stats.history_keep_sec * USEC_PER_SEC, now),
                                 b->limits_stats.history_max_changes, &history);
        if (r >= 0)
                r = store_provision_times(b->db, creates, &times);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Reading the platform's history failed: %m");
        json_object_set_new(history, "window_seconds", json_integer((json_int_t) window));
        json_object_set_new(times, "requested", json_integer((json_int_t) creates));
        return bus_reply_json(m,
                              json_pack("{s:O, s:O}", "stores_by_status", history, "provisioning", times));
}
