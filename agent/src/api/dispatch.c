/* SPDX-License-Identifier: Apache-2.0 */

/*
 * One request, from arrival to the access log: find the route, establish the caller, apply
 * the rate limit, check and parse the body, run the handler, add the security headers.
 */

#include <inttypes.h>
#include <stdatomic.h>

#include "api/api-internal.h"
#include "api/ratelimit.h"
#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"

static void security_headers(struct _u_response *resp)
{
        u_map_put(resp->map_header, "X-Content-Type-Options", "nosniff");
        u_map_put(resp->map_header, "X-Frame-Options", "DENY");
        u_map_put(resp->map_header, "Referrer-Policy", "no-referrer");
        u_map_put(resp->map_header, "Content-Security-Policy",
                  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src "
                  "'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
}

static int dispatch(ApiServer *s, const struct _u_request *req, struct _u_response *resp, RequestContext *c)
{
        const char *method = req->http_verb;
        const char *path = req->url_path;
        bool path_matched = false;
        char allow[128] = "";
        ApiLimits lim;
        int r;

        for (size_t i = 0; i < api_routes_count; i++) {
                RequestContext probe = {};
                if (!api_route_match(api_routes[i].pattern, path, &probe))
                        continue;
                path_matched = true;
                if (!streq(api_routes[i].method, method) &&
                    !(streq(method, "HEAD") && streq(api_routes[i].method, "GET"))) {
                        size_t l = strlen(allow);
                        int k = snprintf(allow + l, sizeof allow - l, "%s%s", l ? ", " : "", api_routes[i].method);
                        /* The table has a handful of methods per path; an Allow header cut short would lie. */
                        assert(k >= 0 && (size_t) k < sizeof allow - l);
                        continue;
                }
                c->route = &api_routes[i];
                memcpy(c->params, probe.params, sizeof c->params);
                c->n_params = probe.n_params;
                break;
        }

        if (!c->route) {
                if (path_matched) {
                        u_map_put(resp->map_header, "Allow", allow);
                        return api_error(resp, 405, "method_not_allowed", "Method %s is not allowed here; use %s.",
                                         method, allow);
                }
                if (strncmp(path, "/api/", 5) == 0 || streq(path, "/api"))
                        return api_error(resp, 404, "not_found", "No such API endpoint: %.*s", UTF8_PREFIX(path, 200));
                return api_serve_static(s, req, resp);
        }

        const ApiRoute *route = c->route;
        bool mutating = !streq(route->method, "GET");
        api_limits_get(s, &lim);
        if (mutating)
                api_db_check_writable(s);

        /* Who is calling: a token, a session, or (for public routes) possibly nobody. */
        r = api_authenticate(s, req, c, mutating);
        if (r == -EIO) {
                /* A disk gone read-only or full is said as such (507, as the operations say it); else 503. */
                Error e = error_from_errno(api_db_open_error());
                if (error_info(e)) {
                        if (error_info(e)->retry_after)
                                api_set_retry_after(resp, 1);
                        return api_error_of(resp, e, "%s", error_info(e)->message);
                }
                return api_error(resp, 503, "database_unavailable", "The database cannot be opened.");
        }

        /*
         * Reads by a signed-in dashboard are not counted: the live view polls when its stream
         * drops, and the session was itself created through the limited sign-in route. Sign-in
         * has its own limit on failures (session.c), so it never waits behind anonymous traffic.
         */
        bool signin = (route->flags & API_ROUTE_PUBLIC) && streq(method, "POST");
        bool exempt = (route->flags & API_ROUTE_NO_RATELIMIT) || (r >= 0 && c->via_session && !mutating) ||
                      (r < 0 && signin);
        if (!exempt) {
                char key[96];
                uint64_t retry = 0, used = 0;
                RateLimiter *rl = r >= 0 ? s->ratelimit : s->ratelimit_anon;

                /* The budget is the account's, whichever of its tokens asks; nobody's is per address. */
                if (r >= 0)
                        api_ratelimit_key(&c->caller, key, sizeof key);
                else
                        xsprintf(key, "addr:%s", c->client);
                if (!ratelimit_hit(rl, key, now_usec(), &retry, &used)) {
                        /* One record per window and key: a flood must not become a flood of records. */
                        if (used == lim.requests_per_window + 1)
                                api_audit_denied(s, c, NULL, "request.rate_limited", "route", route->pattern,
                                                 "rate_limited");
                        api_set_retry_after(resp, retry);
                        return api_error(resp, 429, "rate_limited",
                                         "Rate limit exceeded: %" PRIu64 " requests per %" PRIu64
                                         " seconds; try again in %" PRIu64 " seconds.",
                                         lim.requests_per_window, lim.window_sec, retry);
                }
        }

        if (!(route->flags & API_ROUTE_PUBLIC)) {
                if (r == -EBADR) {
                        api_audit_denied(s, c, NULL, "auth.failed", "route", route->pattern, "csrf_failed");
                        return api_error(resp, 403, "csrf_failed",
                                         "Missing or wrong X-CSRF-Token header for a session request.");
                }
                if (r < 0) {
                        api_audit_denied(s, c, NULL, "auth.failed", "route", route->pattern, api_auth_reason(r));
                        u_map_put(resp->map_header, "WWW-Authenticate", "Bearer realm=\"storeagent\"");
                        return api_error(resp, 401, "unauthorized", "%s", api_auth_message(r));
                }
                if ((route->flags & API_ROUTE_ADMIN) && !caller_is_admin(&c->caller)) {
                        api_audit_denied(s, c, NULL, "auth.forbidden", "route", route->pattern, "forbidden");
                        return api_error_of(resp, ERROR_FORBIDDEN, "Only an admin may %s %s.", method,
                                            route->pattern);
                }
        } else if (r == -EBADR && streq(method, "DELETE")) /* signing out of a session needs its CSRF token */
                return api_error(resp, 403, "csrf_failed", "Missing or wrong X-CSRF-Token header.");

        if (streq(method, "POST") || streq(method, "PATCH")) {
                const char *ctype = u_map_get_case(req->map_header, "Content-Type");
                const char *clen = u_map_get_case(req->map_header, "Content-Length");
                uint64_t declared;

                if ((clen && safe_atou64(clen, &declared) >= 0 && declared > lim.max_body_bytes) ||
                    req->binary_body_length > lim.max_body_bytes)
                        return api_error(resp, 413, "payload_too_large",
                                         "Request body larger than %" PRIu64 " bytes.", lim.max_body_bytes);
                if (req->binary_body_length > 0) {
                        json_error_t jerr;

                        if (!ctype || strncasecmp(ctype, "application/json", 16) != 0)
                                return api_error(resp, 415, "unsupported_media_type",
                                                 "Send the body as 'Content-Type: application/json'.");
                        r = api_body_parse(req->binary_body, req->binary_body_length, lim.max_json_depth, &c->body,
                                           &jerr);
                        if (r == -ELOOP)
                                return api_error(resp, 400, "json_too_deep",
                                                 "JSON nested deeper than %" PRIu64 " levels.", lim.max_json_depth);
                        if (r == -EBADMSG)
                                return api_error(resp, 400, "invalid_json", "Invalid JSON at line %d: %s", jerr.line,
                                                 jerr.text);
                        if (r < 0)
                                return api_error(resp, 400, "invalid_json", "The body must be a JSON object.");
                }
        }

        if (c->n_params > 0 && strncmp(route->pattern, "/api/v1/stores/", 15) == 0)
                c->store_id = c->params[0];
        return route->handler(s, req, resp, c);
}

int api_on_request(const struct _u_request *req, struct _u_response *resp, void *userdata)
{
        ApiServer *s = userdata;
        RequestContext c = { .token_id = 0 };
        const char *rid = u_map_get_case(req->map_header, "X-Request-Id");
        uint64_t start = mono_usec();
        char status_buf[24], ms_buf[32]; /* any long; ms of a uint64_t usec span has at most 17 digits */

        atomic_fetch_add(&s->in_flight, 1);
        atomic_fetch_add(&s->requests_total, 1);
        api_conn_enter(s, req);

        /* A caller's request id is kept when it is short and plain; otherwise we make one. */
        bool rid_ok = rid && strlen(rid) >= 8 && strlen(rid) <= 16;
        for (const char *p = rid; rid_ok && *p; p++)
                rid_ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '-';
        if (rid_ok)
                xsprintf(c.request_id, "%s", rid);
        else {
                _cleanup_free_ char *h = NULL;
                if (random_hex(8, &h) >= 0)
                        xsprintf(c.request_id, "%s", h);
        }
        api_client_address(req, c.client, sizeof c.client);
        xsprintf(c.actor, "%s", "anonymous");

        ApiLimits lim;
        api_limits_get(s, &lim);
        const char *host = u_map_get_case(req->map_header, "Host");
        unsigned open = 0;
        int refused = api_conn_admit(s, &open);
        if (refused != 0) {
                /* Let in over a limit only to say so; the connection closes with the answer. */
                if (refused == 429)
                        api_error(resp, 429, "too_many_connections",
                                  "This address holds %u connections; listen.connections_per_address is %u. Close "
                                  "some, or try again later.",
                                  open, s->connections_per_address);
                else
                        api_error(resp, 503, "too_many_connections",
                                  "The daemon holds %u connections; listen.max_connections is %u. Try again later.",
                                  open, s->max_connections);
                api_set_retry_after(resp, 1);
                u_map_put(resp->map_header, "Connection", "close");
        } else if (!api_host_allowed(host, &lim))
                /* Before any route, health checks too: nothing is answered to a name we do not serve. */
                api_error(resp, 421, "misdirected_request",
                          "This daemon does not serve the host '%.*s'. If that name is really this daemon's, "
                          "add it to listen.hostnames in storeagent.yaml.",
                          UTF8_PREFIX(host, 200));
        else if (dispatch(s, req, resp, &c) < 0 && resp->status == 0)
                api_error(resp, 500, "internal", "Internal error.");
        json_decref(c.body);

        security_headers(resp);
        u_map_put(resp->map_header, "X-Request-Id", c.request_id);

        double seconds = (double) (mono_usec() - start) / (double) USEC_PER_SEC;
        const char *route = c.route ? c.route->pattern : (strncmp(req->url_path, "/api/", 5) == 0 ? "unmatched" : "static");
        metrics_observe_request(s->metrics, req->http_verb, route, (int) resp->status, seconds);

        xsprintf(status_buf, "%ld", resp->status);
        xsprintf(ms_buf, "%.3f", seconds * 1000.0);
        log_struct(resp->status >= 500 ? LOG_WARNING : LOG_INFO,
                   LOG_FIELDS("REQUEST_ID", c.request_id, "HTTP_METHOD", req->http_verb, "HTTP_PATH", req->url_path,
                              "HTTP_ROUTE", route, "HTTP_STATUS", status_buf, "DURATION_MS", ms_buf, "ACTOR", c.actor,
                              "STORE_ID", c.store_id, "CLIENT", c.client),
                   "%s %s -> %ld (%s ms)", req->http_verb, req->url_path, resp->status, ms_buf);

        api_conn_leave();
        atomic_fetch_sub(&s->in_flight, 1);
        return U_CALLBACK_COMPLETE;
}
