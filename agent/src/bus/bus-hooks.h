/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the D-Bus side needs from the daemon, given to bus_new(); kept apart so bus-internal.h need not
 * include bus/bus.h. */

#include <jansson.h>
#include <stdatomic.h>

#include "core/store.h"

/* What the D-Bus side asks of the provisioning side, as ApiHooks does for the HTTP side. All optional. */
typedef struct BusHooks {
        /*
         * {url, admin_url, username, password} of a store, read from the cluster at call time; never logged.
         * -EOPNOTSUPP when this daemon cannot read them.
         */
        int (*store_credentials)(void *userdata, const Store *s, json_t **ret);
        /* As ApiHooks: the store's pods, and one container's log read into sink on the calling thread. */
        int (*store_log_sources)(void *userdata, const Store *s, json_t **ret);
        int (*store_logs)(void *userdata, const Store *s, const StoreLogRequest *req,
                          const atomic_bool *cancel, StoreLogSink sink, void *sink_userdata);
        /* The cluster's room for stores, read now: with details the whole model, else {"known", "fits"}. */
        int (*capacity)(void *userdata, Db *db, bool details, json_t **ret);
        /* As ApiHooks: whether resource use can be sampled, {"metrics", "reason", "interval_seconds"}. */
        int (*usage_status)(void *userdata, json_t **ret);
        void *userdata;
} BusHooks;
