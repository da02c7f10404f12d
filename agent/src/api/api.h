/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The HTTP side: the REST API under /api/v1, health checks, metrics, the live
 * stream and the dashboard's static files, served by ulfius/libmicrohttpd on a
 * listening socket we own (bound here or passed by systemd).
 *
 * Routing is ours, not ulfius's: one table (api_routes) drives dispatch, the
 * access log's route names, the metrics, and the test that compares the routes
 * with docs/api/openapi.yaml.
 */

#include <jansson.h>
#include <stdatomic.h>
#include <ulfius.h>

#include "api/metrics.h"
#include "basic/macro.h"
#include "core/config.h"
#include "core/runner.h"
#include "core/store.h"

typedef struct ApiServer ApiServer;

/* What the HTTP side asks of the provisioning side. All optional. */
typedef struct ApiHooks {
        /* {"reachable": bool, "detail": "..."}; must answer quickly (cached). */
        int (*cluster_status)(void *userdata, json_t **ret);
        /* Helm revision history of a store: [{revision, status, chart, app_version, updated, description}]. */
        int (*release_history)(void *userdata, const Store *s, json_t **ret);
        /* [{"version": "0.1.0"}, ...] chart versions available for upgrades. */
        int (*chart_versions)(void *userdata, json_t **ret);
        /* Namespaces labelled as ours without a store row, for /readyz. */
        int (*orphans)(void *userdata, json_t **ret);
        /*
         * A store's administrator credentials, read from the cluster now: {url, admin_url, username,
         * password}. Called from any request thread. -ENOENT when the store has none; another negative
         * errno when the cluster could not be asked. *ret is a secret: never logged.
         */
        int (*store_credentials)(void *userdata, const Store *s, json_t **ret);
        /* The store's pods and their containers: [{pod, component, phase, containers, init_containers}]. */
        int (*store_log_sources)(void *userdata, const Store *s, json_t **ret);
        /*
         * Reads a container's log into sink, blocking the calling thread (a thread of logs.c) until the
         * log ends, or with follow until *cancel or the sink stops it. -ENOENT: no such pod or container.
         */
        int (*store_logs)(void *userdata, const Store *s, const StoreLogRequest *req,
                          const atomic_bool *cancel, StoreLogSink sink, void *sink_userdata);
        /*
         * The cluster's room for stores, read now (GET /api/v1/platform, /metrics): with details the whole
         * model, else only {"known", "fits"}. Called from any request thread.
         */
        int (*capacity)(void *userdata, Db *db, bool details, json_t **ret);
        /* Whether resource use can be sampled: {"metrics", "reason"?, "interval_seconds"}; quickly (cached). */
        int (*usage_status)(void *userdata, json_t **ret);
        void *userdata;
} ApiHooks;

typedef struct ApiRoute {
        const char *method;
        const char *pattern; /* "/api/v1/stores/{id}" */
        unsigned flags;
        int (*handler)(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx);
} ApiRoute;

enum {
        API_ROUTE_PUBLIC = 1u << 0,    /* no token needed (health checks, sign-in) */
        API_ROUTE_NO_RATELIMIT = 1u << 1,
        API_ROUTE_ADMIN = 1u << 2, /* admins only: a tenant gets 403 forbidden before the handler runs */
};

extern const ApiRoute api_routes[];
extern const size_t api_routes_count;

int api_server_new(ApiServer **ret, const Config *config, Runner *runner, const ApiHooks *hooks);
ApiServer *api_server_free(ApiServer *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ApiServer *, api_server_free);

/* Starts serving on fd (a bound, listening TCP socket; ownership stays with the caller). */
int api_server_start(ApiServer *s, int fd);
/* Stops accepting (quiesce: the listening socket is left intact for systemd), then drains and stops. */
void api_server_stop(ApiServer *s);

/* Applies reloadable settings (limits, log level) from a new configuration. */
void api_server_reload(ApiServer *s, const Config *config);

/* Requests currently being served (for idle exit). */
unsigned api_server_in_flight(ApiServer *s);
uint64_t api_server_requests_total(ApiServer *s);
uint64_t api_server_streams(ApiServer *s);
