/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Who is calling: a bearer token, or the dashboard's cookie session (signed in with a token,
 * guarded against cross-site requests by its CSRF token); and the sign-in and sign-out handlers.
 */

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/util.h"
#include "core/token.h"

#define SESSION_COOKIE "sa_session"

static void set_session_cookie(struct _u_response *resp, const char *value, unsigned max_age)
{
        ulfius_add_same_site_cookie_to_response(resp, SESSION_COOKIE, value, NULL, max_age, NULL, "/", 0, 1,
                                                U_COOKIE_SAME_SITE_STRICT);
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
        Caller t;
        ApiLimits lim;
        Db *db = api_db(s);
        int r;

        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "token", &token) < 0)
                return 0;
        r = token_verify(db, token, &t);
        if (r < 0) {
                log_struct(LOG_NOTICE, LOG_FIELDS("REQUEST_ID", c->request_id, "CLIENT", c->client),
                           "Sign-in with an unknown or revoked token refused.");
                return api_error(resp, 401, "invalid_token", "That API token is not valid.");
        }
        api_limits_get(s, &lim);
        r = session_create(db, &t, lim.session_ttl_usec, &cookie, &csrf);
        if (r < 0)
                return api_error(resp, 500, "internal", "Creating the session failed.");
        xsprintf(c->actor, "%s", t.account);
        set_session_cookie(resp, cookie, (unsigned) (lim.session_ttl_usec / USEC_PER_SEC));
        api_set_json(resp, 200, whoami(&t, csrf));
        return 0;
}

int h_session_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_free_ char *csrf = NULL;
        Caller t;
        const char *cookie = u_map_get(req->map_cookie, SESSION_COOKIE);
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
        const char *cookie = u_map_get(req->map_cookie, SESSION_COOKIE);
        Db *db = api_db(s);

        if (db && cookie)
                (void) session_delete(db, cookie);
        set_session_cookie(resp, "", 0);
        ulfius_set_empty_body_response(resp, 204);
        return 0;
}

/* Establishes who is calling. 0: authenticated; -EACCES: no or bad credentials; -EPERM: CSRF check failed. */
int api_authenticate(ApiServer *s, const struct _u_request *req, RequestContext *c, bool mutating)
{
        const char *auth = u_map_get_case(req->map_header, "Authorization");
        const char *cookie = u_map_get(req->map_cookie, SESSION_COOKIE);
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
                        return -EACCES;
        } else if (cookie) {
                _cleanup_free_ char *csrf = NULL;
                r = session_verify(db, cookie, &t, &csrf);
                if (r < 0)
                        return -EACCES;
                if (mutating) {
                        const char *sent = u_map_get_case(req->map_header, "X-CSRF-Token");
                        if (!sent || strlen(sent) != strlen(csrf) || !memeq_consttime(sent, csrf, strlen(csrf)))
                                return -EPERM;
                }
                c->via_session = true;
        } else
                return -EACCES;

        t.source = c->client;
        t.request_id = c->request_id;
        c->caller = t;
        c->token_id = t.token_id;
        xsprintf(c->actor, "%s", t.account);
        return 0;
}
