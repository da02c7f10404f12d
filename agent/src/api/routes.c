/* SPDX-License-Identifier: Apache-2.0 */

/* The route table (dispatch, access log, metrics and the OpenAPI check all read it) and its matcher. */

#include "api/api-internal.h"
#include "basic/util.h"

const ApiRoute api_routes[] = {
        { "GET", "/healthz", API_ROUTE_PUBLIC | API_ROUTE_NO_RATELIMIT, h_healthz },
        { "GET", "/readyz", API_ROUTE_PUBLIC | API_ROUTE_NO_RATELIMIT, h_readyz },
        { "GET", "/metrics", API_ROUTE_NO_RATELIMIT | API_ROUTE_ADMIN, h_metrics },
        { "POST", "/api/v1/session", API_ROUTE_PUBLIC, h_session_create },
        { "GET", "/api/v1/session", 0, h_session_get },
        { "DELETE", "/api/v1/session", API_ROUTE_PUBLIC, h_session_delete },
        { "GET", "/api/v1/stores", 0, h_stores_list },
        { "POST", "/api/v1/stores", 0, h_stores_create },
        { "GET", "/api/v1/stores/{id}", 0, h_store_get },
        { "DELETE", "/api/v1/stores/{id}", 0, h_store_delete },
        { "GET", "/api/v1/stores/{id}/events", 0, h_store_events },
        { "GET", "/api/v1/stores/{id}/releases", 0, h_store_releases },
        { "POST", "/api/v1/stores/{id}/retry", 0, h_store_retry },
        { "POST", "/api/v1/stores/{id}/upgrade", 0, h_store_upgrade },
        { "POST", "/api/v1/stores/{id}/redeploy", 0, h_store_redeploy },
        { "GET", "/api/v1/stores/{id}/settings", 0, h_store_settings_get },
        { "PATCH", "/api/v1/stores/{id}/settings", 0, h_store_settings_patch },
        { "GET", "/api/v1/stores/{id}/domains", 0, h_store_domains_list },
        { "POST", "/api/v1/stores/{id}/domains", 0, h_store_domains_add },
        { "DELETE", "/api/v1/stores/{id}/domains/{domain}", 0, h_store_domain_delete },
        { "POST", "/api/v1/stores/{id}/primary-domain", 0, h_store_primary_domain_post },
        { "POST", "/api/v1/stores/{id}/rollback", 0, h_store_rollback },
        { "POST", "/api/v1/stores/{id}/transfer", API_ROUTE_ADMIN, h_store_transfer },
        { "GET", "/api/v1/stores/{id}/credentials", 0, h_store_credentials },
        { "POST", "/api/v1/stores/{id}/credentials/rotate", 0, h_store_credentials_rotate },
        { "GET", "/api/v1/stores/{id}/backups", 0, h_store_backups_list },
        { "POST", "/api/v1/stores/{id}/backups", 0, h_store_backups_create },
        { "DELETE", "/api/v1/stores/{id}/backups/{backup}", 0, h_store_backup_delete },
        { "GET", "/api/v1/stores/{id}/backups/{backup}/files/{file}", 0, h_store_backup_file },
        { "POST", "/api/v1/stores/{id}/restore", 0, h_store_restore },
        { "GET", "/api/v1/stores/{id}/backup-schedule", 0, h_store_backup_schedule_get },
        { "PATCH", "/api/v1/stores/{id}/backup-schedule", 0, h_store_backup_schedule_patch },
        { "GET", "/api/v1/stores/{id}/logs", 0, h_store_log_sources },
        { "GET", "/api/v1/stores/{id}/usage", 0, h_store_usage },
        { "GET", "/api/v1/stores/{id}/logs/{pod}", 0, h_store_logs },
        { "GET", "/api/v1/charts", 0, h_charts },
        { "GET", "/api/v1/platform", 0, h_platform },
        { "GET", "/api/v1/platform/stats", API_ROUTE_ADMIN, h_platform_stats },
        { "GET", "/api/v1/stream", API_ROUTE_NO_RATELIMIT, h_stream },
        { "GET", "/api/v1/accounts", API_ROUTE_ADMIN, h_accounts_list },
        { "POST", "/api/v1/accounts", API_ROUTE_ADMIN, h_accounts_create },
        { "GET", "/api/v1/accounts/{name}", API_ROUTE_ADMIN, h_account_get },
        { "PATCH", "/api/v1/accounts/{name}", API_ROUTE_ADMIN, h_account_patch },
        { "GET", "/api/v1/accounts/{name}/tokens", API_ROUTE_ADMIN, h_account_tokens_list },
        { "POST", "/api/v1/accounts/{name}/tokens", API_ROUTE_ADMIN, h_account_tokens_create },
        { "DELETE", "/api/v1/accounts/{name}/tokens/{token}", API_ROUTE_ADMIN, h_account_token_revoke },
        { "GET", "/api/v1/tokens", 0, h_tokens_list },
        { "POST", "/api/v1/tokens", 0, h_tokens_create },
        { "DELETE", "/api/v1/tokens/{name}", 0, h_token_revoke },
        { "GET", "/api/v1/audit", 0, h_audit },
        { "GET", "/api/v1/webhooks", 0, h_webhooks_list },
        { "POST", "/api/v1/webhooks", 0, h_webhooks_create },
        { "GET", "/api/v1/webhooks/{id}", 0, h_webhook_get },
        { "PATCH", "/api/v1/webhooks/{id}", 0, h_webhook_patch },
        { "DELETE", "/api/v1/webhooks/{id}", 0, h_webhook_delete },
        { "GET", "/api/v1/webhooks/{id}/deliveries", 0, h_webhook_deliveries },
        { "POST", "/api/v1/webhooks/{id}/test", 0, h_webhook_test },
};
const size_t api_routes_count = ELEMENTSOF(api_routes);

/* Matches path against pattern; "{x}" matches one non-empty segment of id (or name) characters. */
bool api_route_match(const char *pattern, const char *path, RequestContext *c)
{
        const char *p = pattern, *u = path;
        size_t n_params = 0;

        while (*p && *u) {
                if (*p == '{') {
                        const char *end = strchr(p, '}');
                        size_t len = strcspn(u, "/");
                        if (!end || len == 0 || len >= sizeof c->params[0] || n_params >= ELEMENTSOF(c->params))
                                return false;
                        /*
                         * Store ids are [a-z0-9-]; account and token names also have A-Z, '_', '.', '@', and
                         * account names ':' (account_name_is_valid), or an account made by POST could not be
                         * read, changed or given tokens by name.
                         */
                        bool is_id = strncmp(p, "{id}", 4) == 0;
                        for (size_t i = 0; i < len; i++)
                                if (!((u[i] >= 'a' && u[i] <= 'z') || (u[i] >= '0' && u[i] <= '9') || u[i] == '-' ||
                                      (!is_id && ((u[i] >= 'A' && u[i] <= 'Z') || u[i] == '_' || u[i] == '.' ||
                                                  u[i] == '@' || u[i] == ':'))))
                                        return false;
                        memcpy(c->params[n_params], u, len);
                        c->params[n_params][len] = '\0';
                        n_params++;
                        p = end + 1;
                        u += len;
                        continue;
                }
                if (*p != *u)
                        return false;
                p++;
                u++;
        }
        /* A trailing slash is tolerated. */
        if (*u == '/' && u[1] == '\0')
                u++;
        if (*p || *u)
                return false;
        c->n_params = n_params;
        return true;
}
