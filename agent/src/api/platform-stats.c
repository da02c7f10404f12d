/* SPDX-License-Identifier: Apache-2.0 */

/* The platform page's numbers over time (admins): stores by status, provisioning times, room left. */

#include <inttypes.h>

#include "api/api-internal.h"
#include "basic/util.h"
#include "core/store-stats.h"

#define STATS_WINDOW_MIN 3600U
#define STATS_WINDOW_MAX 31622400U
#define STATS_POINTS_DEFAULT 48U
#define STATS_CREATES_DEFAULT 50U

static int query_in_range(const struct _u_request *req, struct _u_response *resp, const char *key,
                          uint64_t def, uint64_t min, uint64_t max, uint64_t *ret)
{
        if (api_parse_query_u64(req, key, def, max, ret, resp) < 0)
                return -EINVAL;
        if (*ret < min) {
                api_error(resp, 400, "invalid_parameter",
                          "Query parameter '%s' must be an integer from %" PRIu64 " to %" PRIu64 ".",
                          key, min, max);
                return -EINVAL;
        }
        return 0;
}

int h_platform_stats(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_(json_decrefp) json_t *history = NULL, *times = NULL;
        json_t *capacity = NULL, *body;
        uint64_t window, points, creates, now = now_usec();
        ApiLimits lim;
        Db *db = api_db(s);

        (void) ctx;
        api_limits_get(s, &lim);
        if (query_in_range(req, resp, "window", 86400, STATS_WINDOW_MIN, STATS_WINDOW_MAX, &window) < 0 ||
            query_in_range(req, resp, "points", STATS_POINTS_DEFAULT, 2, STORE_STATS_POINTS_MAX,
                           &points) < 0 ||
            query_in_range(req, resp, "creates", MIN(STATS_CREATES_DEFAULT, lim.stats_max_creates), 1,
                           lim.stats_max_creates, &creates) < 0)
                return 0;
        if (store_status_history(db, now - MIN(window * USEC_PER_SEC, now - 1), now, (unsigned) points,
                                 now - MIN(lim.history_keep_sec * USEC_PER_SEC, now),
                                 lim.history_max_changes, &history) < 0 ||
            store_provision_times(db, creates, &times) < 0)
                return api_error(resp, 500, "internal", "Reading the platform's history failed.");
        json_object_set_new(history, "window_seconds", json_integer((json_int_t) window));
        json_object_set_new(times, "requested", json_integer((json_int_t) creates));
        body = json_pack("{s:O, s:O}", "stores_by_status", history, "provisioning", times);
        if (!body)
                return api_error(resp, 500, "internal", "Out of memory.");
        /* Room left: the nodes' allocatable less what the active stores' quotas reserve. */
        if (s->hooks.capacity && s->hooks.capacity(s->hooks.userdata, db, true, &capacity) >= 0)
                json_object_set_new(body, "capacity", capacity);
        else
                json_object_set_new(body, "capacity", json_pack("{s:b, s:s}", "known", 0, "detail",
                                                                "No cluster connection is configured."));
        api_set_json(resp, 200, body);
        return 0;
}
