/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Who is calling: a bearer token, or the dashboard's cookie session (signed in with a token,
 * guarded against cross-site requests by its CSRF token); and the sign-in and sign-out handlers.
 */

#include <inttypes.h>

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/util.h"
#include "core/audit.h"
#include "core/token.h"

/* Secure when the browser came over HTTPS (a trusted proxy says so, or listen.secure_cookies is
 * "always"): over plain HTTP a Secure cookie would never be sent back. */
static void set_session_cookie(ApiServer *s, const struct _u_request *req, struct _u_response *resp,
                               const char *value, unsigned max_age)
{
        ApiLimits lim;

        api_limits_get(s, &lim);
        ulfius_add_same_site_cookie_to_response(resp, API_SESSION_COOKIE, value, NULL, max_age, NULL, "/",
                                                api_request_is_https(req, &lim), 1, U_COOKIE_SAME_SITE_STRICT);
}

/* Who a session or token is: {name (the account), role, token, csrf_token}. */
static json_t *whoami(const Caller *t, const char *csrf)
{
        return json_pack("{s:s, s:s, s:s, s:s?}", "name", t->account, "role", account_role_to_string(t->role), "token",
                         t->token, "csrf_token", csrf);
}

int h_session_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "token", NULL };
        RequestContext *c = ctx;
        _cleanup_erase_free_ char *cookie = NULL;
        _cleanup_free_ char *csrf = NULL;
        const char *token;
        char key[96];
        Caller t;
        ApiLimits lim;
        uint64_t now = now_usec(), retry = 0;
        Db *db = api_db(s);
        int r;

        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "token", &token) < 0)
                return 0;
        api_limits_get(s, &lim);

        /*
         * Only failed sign-ins count, and against whom they were aimed: a token the daemon knows
         * (revoked, expired, of a disabled account) counts against its account, so guessing from many
         * addresses gains nothing; anything else against the client's address. Anonymous requests to
         * other routes have their own limiter, so no flood of them keeps a valid token from signing in.
         */
        Caller target = { .role = ACCOUNT_TENANT, .source = c->client, .request_id = c->request_id };
        bool known = token_owner(db, token, &target.account_id, target.account) >= 0;
        if (known)
                xsprintf(key, "account:%" PRIi64, target.account_id);
        else
                xsprintf(key, "addr:%s", c->client);
        if (ratelimit_used(s->signin_failures, key, now) >= lim.signin_failures) {
                (void) ratelimit_hit(s->signin_failures, key, now, &retry, NULL);
                if (known)
                        (void) audit_record(db, &(AuditEntry) { .caller = &target, .action = "session.create",
                                                                .target_kind = "account", .target = target.account,
                                                                .result = AUDIT_DENIED, .error = "rate_limited",
                                                                .source = c->client, .request_id = c->request_id });
                else
                        api_audit_denied(s, c, "anonymous", "session.create", NULL, NULL, "rate_limited");
                api_set_retry_after(resp, retry);
                if (known)
                        return api_error(resp, 429, "rate_limited",
                                         "Too many failed sign-ins for account '%s': %" PRIu64 " per %" PRIu64
                                         " seconds; try again in %" PRIu64 " seconds.",
                                         target.account, lim.signin_failures, lim.signin_window_sec,
                                         MAX(retry, (uint64_t) 1));
                return api_error(resp, 429, "rate_limited",
                                 "Too many failed sign-ins from this address: %" PRIu64 " per %" PRIu64
                                 " seconds; try again in %" PRIu64 " seconds.",
                                 lim.signin_failures, lim.signin_window_sec, MAX(retry, (uint64_t) 1));
        }

        r = token_verify(db, token, &t);
        if (r < 0) {
                (void) ratelimit_hit(s->signin_failures, key, now, NULL, NULL);
                if (known) /* on the account's own audit trail: someone tried one of its old tokens */
                        (void) audit_record(db, &(AuditEntry) { .caller = &target, .action = "session.create",
                                                                .target_kind = "account", .target = target.account,
                                                                .result = AUDIT_DENIED, .error = api_auth_reason(r),
                                                                .source = c->client, .request_id = c->request_id });
                else
                        api_audit_denied(s, c, "anonymous", "session.create", NULL, NULL, api_auth_reason(r));
                return api_error(resp, 401, "invalid_token", "That API token is not valid: %s",
                                 api_auth_message(r));
        }
        r = session_create(db, &t, lim.session_ttl_usec, &cookie, &csrf);
        if (r < 0)
                return api_error(resp, 500, "internal", "Creating the session failed.");
        xsprintf(c->actor, "%s", t.account);
        t.source = c->client;
        t.request_id = c->request_id;
        (void) audit_record(db, &(AuditEntry) { .caller = &t, .action = "session.create", .target_kind = "token",
                                                .target = t.token, .result = AUDIT_OK, .source = c->client,
                                                .request_id = c->request_id });
        set_session_cookie(s, req, resp, cookie, (unsigned) (lim.session_ttl_usec / USEC_PER_SEC));
        api_set_json(resp, 200, whoami(&t, csrf));
        return 0;
}

int h_session_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_free_ char *csrf = NULL;
        Caller t;
        const char *cookie = u_map_get(req->map_cookie, API_SESSION_COOKIE);
        Db *db = api_db(s);

        if (!db || session_verify(db, cookie, &t, &csrf) < 0) {
                if (c->token_id > 0) { /* a bearer token asked: answer who it is, without a CSRF token */
                        json_t *o = whoami(&c->caller, NULL);
                        if (o)
                                json_object_set_new(o, "csrf_token", json_null());
                        return api_set_json(resp, 200, o), 0;
                }
                return api_error(resp, 401, "unauthorized", "Not signed in.");
        }
        api_set_json(resp, 200, whoami(&t, csrf));
        return 0;
}

int h_session_delete(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        const char *cookie = u_map_get(req->map_cookie, API_SESSION_COOKIE);
        Db *db = api_db(s);

        if (db && cookie)
                (void) session_delete(db, cookie);
        set_session_cookie(s, req, resp, "", 0);
        ulfius_set_empty_body_response(resp, 204);
        return 0;
}

const char *api_auth_reason(int r)
{
        switch (r) {
        case -ENOKEY:
                return "no_credentials";
        case -EKEYEXPIRED:
                return "token_expired";
        case -EPERM:
                return "account_disabled";
        case -EBADR:
                return "csrf_failed";
        default:
                return "token_unknown_or_revoked";
        }
}

const char *api_auth_message(int r)
{
        switch (r) {
        case -ENOKEY:
                return "Authentication required: send 'Authorization: Bearer <token>'.";
        case -EKEYEXPIRED:
                return "The token has expired.";
        case -EPERM:
                return "The account is disabled.";
        default:
                return "The token or session is unknown, revoked or signed out.";
        }
}

/* Establishes who is calling; the errors are listed in api-internal.h. */
int api_authenticate(ApiServer *s, const struct _u_request *req, RequestContext *c, bool mutating)
{
        const char *auth = u_map_get_case(req->map_header, "Authorization");
        const char *cookie = u_map_get(req->map_cookie, API_SESSION_COOKIE);
        Caller t;
        Db *db = api_db(s);
        int r;

        if (!db)
                return -EIO;
        if (auth) {
                if (strncasecmp(auth, "Bearer ", 7) != 0)
                        return -EACCES;
                r = token_verify(db, auth + 7, &t);
                if (r < 0)
                        return r == -EKEYEXPIRED || r == -EPERM ? r : -EACCES;
        } else if (cookie) {
                _cleanup_free_ char *csrf = NULL;
                r = session_verify(db, cookie, &t, &csrf);
                if (r < 0)
                        return r == -EKEYEXPIRED || r == -EPERM ? r : -EACCES;
                if (mutating) {
                        const char *sent = u_map_get_case(req->map_header, "X-CSRF-Token");
                        if (!sent || strlen(sent) != strlen(csrf) || !memeq_consttime(sent, csrf, strlen(csrf)))
                                return -EBADR;
                }
                c->via_session = true;
        } else
                return -ENOKEY;

        t.source = c->client;
        t.request_id = c->request_id;
        c->caller = t;
        c->token_id = t.token_id;
        xsprintf(c->actor, "%s", t.account);
        return 0;
}
