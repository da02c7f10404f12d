/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The token handlers: an account's own tokens (any caller), and any account's (admins; the
 * route table says so). A new token's secret is in the reply once and nowhere else: not in
 * the database (its hash is), not in any log.
 */

#include <inttypes.h>

#include "api/api-internal.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/audit.h"
#include "core/token.h"

#define TOKEN_EXPIRES_IN_MAX (10 * 366 * 24 * 3600ULL)

static void audit_token(ApiServer *s, RequestContext *c, const char *action, const char *account, const char *name,
                        AuditResult result, const char *error)
{
        _cleanup_free_ char *target = NULL;

        /* The target names the account too: an admin acts on other accounts' tokens. */
        if (asprintf(&target, "%s/%s", account, name) < 0)
                target = NULL;
        (void) audit_record(api_db(s), &(AuditEntry) { .caller = &c->caller, .action = action, .target_kind = "token",
                                                       .target = target ?: name, .result = result, .error = error,
                                                       .source = c->client, .request_id = c->request_id });
}

/* The account an admin route names; answers 404 account_not_found itself. */
static int named_account(ApiServer *s, RequestContext *c, struct _u_response *resp, Account **ret)
{
        int r = account_get_by_name(api_db(s), c->params[0], ret);
        if (r == -ENOENT)
                return api_error_of(resp, ERROR_ACCOUNT_NOT_FOUND, "No account named '%.*s'.", UTF8_PREFIX(c->params[0], 64)), r;
        if (r < 0)
                return api_error(resp, 500, "internal", "Reading the account failed."), r;
        return 0;
}

static int list_tokens(ApiServer *s, struct _u_response *resp, int64_t account_id)
{
        json_t *items = NULL;

        if (token_list(api_db(s), account_id, &items) < 0)
                return api_error(resp, 500, "internal", "Listing tokens failed.");
        api_set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

static int create_token(ApiServer *s, RequestContext *c, struct _u_response *resp, int64_t account_id,
                        const char *account)
{
        static const char *const fields[] = { "name", "expires_in", NULL };
        _cleanup_erase_free_ char *clear = NULL;
        const char *name;
        json_t *expires_in;
        uint64_t expires_at = 0;
        char ts[32];
        int r;

        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "name", &name) < 0)
                return 0;
        expires_in = json_object_get(c->body, "expires_in");
        if (expires_in && !json_is_null(expires_in)) {
                if (!json_is_integer(expires_in) || json_integer_value(expires_in) < 1 ||
                    (uint64_t) json_integer_value(expires_in) > TOKEN_EXPIRES_IN_MAX)
                        return api_error(resp, 400, "invalid_type",
                                         "Field 'expires_in' must be seconds, from 1 to ten years.");
                expires_at = now_usec() + (uint64_t) json_integer_value(expires_in) * USEC_PER_SEC;
        }
        if (!token_name_is_valid(name))
                return api_error(resp, 400, "invalid_name",
                                 "Token names are 1 to 64 of A-Z, a-z, 0-9, '_', '.', '@' and '-'.");

        r = token_create(api_db(s), account_id, name, expires_at, &clear);
        if (r == -EEXIST) {
                audit_token(s, c, "token.create", account, name, AUDIT_DENIED, error_info(ERROR_TOKEN_TAKEN)->code);
                return api_error_of(resp, ERROR_TOKEN_TAKEN, "Account '%s' has a token named '%s'.", account, name);
        }
        if (r < 0)
                return api_error(resp, 500, "internal", "Creating the token failed.");
        audit_token(s, c, "token.create", account, name, AUDIT_OK, NULL);

        u_map_put(resp->map_header, "Cache-Control", "no-store");
        api_set_json(resp, 201,
                     json_pack("{s:s, s:s, s:s, s:o}", "token", clear, "name", name, "account", account, "expires_at",
                               expires_at > 0 ? json_string(format_timestamp(ts, expires_at, false)) : json_null()));
        return 0;
}

static int revoke_token(ApiServer *s, RequestContext *c, struct _u_response *resp, int64_t account_id,
                        const char *account, const char *name)
{
        int r = token_revoke(api_db(s), account_id, name);
        if (r == -ENOENT) {
                audit_token(s, c, "token.revoke", account, name, AUDIT_DENIED,
                            error_info(ERROR_TOKEN_NOT_FOUND)->code);
                return api_error_of(resp, ERROR_TOKEN_NOT_FOUND, "No live token named '%.*s'.", UTF8_PREFIX(name, 64));
        }
        if (r < 0)
                return api_error(resp, 500, "internal", "Revoking the token failed.");
        audit_token(s, c, "token.revoke", account, name, AUDIT_OK, NULL);
        /* Wakes the live streams, which check their credentials again and end the token's. */
        store_changed_notify();
        ulfius_set_empty_body_response(resp, 204);
        return 0;
}

int h_tokens_list(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        return list_tokens(s, resp, c->caller.account_id);
}

int h_tokens_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        return create_token(s, c, resp, c->caller.account_id, c->caller.account);
}

int h_token_revoke(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        return revoke_token(s, c, resp, c->caller.account_id, c->caller.account, c->params[0]);
}

int h_account_tokens_list(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_(account_freep) Account *a = NULL;

        if (named_account(s, ctx, resp, &a) < 0)
                return 0;
        return list_tokens(s, resp, a->id);
}

int h_account_tokens_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        _cleanup_(account_freep) Account *a = NULL;

        if (named_account(s, ctx, resp, &a) < 0)
                return 0;
        return create_token(s, ctx, resp, a->id, a->name);
}

int h_account_token_revoke(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(account_freep) Account *a = NULL;

        if (named_account(s, c, resp, &a) < 0)
                return 0;
        return revoke_token(s, c, resp, a->id, a->name, c->params[1]);
}
