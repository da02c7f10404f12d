/* SPDX-License-Identifier: Apache-2.0 */

/*
 * What every handler uses: this thread's database connection, the current limits, JSON
 * replies and error bodies (domain errors through core/error.h's table), and the checks
 * on request bodies and query parameters.
 */

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <fcntl.h>

#include "api/api-internal.h"
#include "api/json-out.h"
#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/audit.h"
#include "core/error.h"

/*
 * This thread's connection. dispatch() opens it (answering 503 when it cannot) before any
 * handler runs, so handlers may use it without checking.
 */
static _Thread_local int db_open_error;

Db *api_db(ApiServer *s)
{
        Db *db = pthread_getspecific(s->db_key);
        int r;

        if (db)
                return db;
        r = db_open(s->db_path, &db);
        if (r < 0) {
                if (r != db_open_error) /* once per thread and cause: a flood of refusals is not a flood of lines */
                        log_struct_errno(LOG_ERR, r, LOG_FIELDS("DATABASE", s->db_path),
                                         "Failed to open database '%s' for a request: %m", s->db_path);
                db_open_error = r;
                return NULL;
        }
        db_open_error = 0;
        pthread_setspecific(s->db_key, db);
        return db;
}

/*
 * A pool thread keeps its connection to the database for every client it serves. On a file
 * system gone read-only since it was opened, a write through it fails with a bare EIO, where
 * opening the database says "read-only". Before a write, a read-only file system closes this
 * thread's connection, so the request opens it again and is refused as such (507).
 */
void api_db_check_writable(ApiServer *s)
{
        Db *db = pthread_getspecific(s->db_key);
        int fd;

        if (!db)
                return;
        /*
         * Opened, not statvfs(): ext4 after an error refuses writers (emergency_ro) before ST_RDONLY shows.
         * Never the database file itself: closing any descriptor of it drops every POSIX lock the
         * process's SQLite connections hold on it, and another process (sqlite3, a backup) may then
         * checkpoint and remove the WAL under their feet ("disk I/O error", SQLite 522, seen under load).
         * The lock file beside it is on the same file system, and its lock is flock(), per descriptor.
         */
        fd = open(s->db_lock_path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0 || errno != EROFS) {
                safe_close(fd);
                return;
        }
        (void) pthread_setspecific(s->db_key, NULL);
        db_close(db);
}

int api_db_open_error(void)
{
        return db_open_error;
}


void api_limits_get(ApiServer *s, ApiLimits *ret)
{
        pthread_mutex_lock(&s->limits_lock);
        *ret = s->limits;
        pthread_mutex_unlock(&s->limits_lock);
}

/* Said when a reply could not be built; plain ASCII, so it always serialises. */
#define SERIALISATION_FAILED_BODY                                                                            \
        "{\"error\":{\"code\":\"internal\",\"message\":\"The reply could not be built; see the daemon log.\"}}"

void api_set_json(struct _u_response *resp, int status, json_t *body)
{
        /*
         * A body that could not be built (jansson refuses a string that is not UTF-8, or memory ran
         * out) is a 500 with an error body, never the status meant for the body with nothing in it.
         */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;

        if (!body || json_out_compact(body, &text, &len) < 0) {
                log_error("Failed to serialise the reply to HTTP %d; answering 500.", status);
                ulfius_set_string_body_response(resp, 500, SERIALISATION_FAILED_BODY);
        } else {
                /* Handed over rather than copied (ulfius_set_binary_body_response() copies); ulfius frees it. */
                free(resp->binary_body);
                resp->binary_body = TAKE_PTR(text);
                resp->binary_body_length = len;
                resp->status = status;
        }
        u_map_put(resp->map_header, "Content-Type", "application/json");
        json_decref(body);
}

_printf_(4, 5) int api_error(struct _u_response *resp, int status, const char *code, const char *fmt, ...)
{
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        assert(resp);
        assert(code);
        va_start(ap, fmt);
        r = vasprintf(&message, fmt, ap);
        va_end(ap);
        /* A message that quotes the request may hold bytes that are not UTF-8; show them as U+FFFD. */
        if (r >= 0 && !utf8_is_valid(message)) {
                char *t = utf8_escape_invalid(message);
                free(message);
                message = t;
        }
        /* Out of memory: the code alone still tells the client what happened. */
        api_set_json(resp, status,
                     json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", r >= 0 && message ? message : code));
        return 0;
}

void api_set_retry_after(struct _u_response *resp, uint64_t sec)
{
        char buf[32];

        assert(resp);
        xsprintf(buf, "%" PRIu64, MAX(sec, (uint64_t) 1));
        u_map_put(resp->map_header, "Retry-After", buf);
}

/* Answers with a domain error's status and code (core/error.h), and a message about this request. */
_printf_(3, 4) int api_error_of(struct _u_response *resp, Error e, const char *fmt, ...)
{
        const ErrorInfo *info = error_info(e);
        _cleanup_free_ char *message = NULL;
        va_list ap;
        int r;

        assert(resp);
        assert(info);
        va_start(ap, fmt);
        r = vasprintf(&message, fmt, ap);
        va_end(ap);
        return api_error(resp, info->http_status, info->code, "%s", r >= 0 ? message : info->message);
}

/* Answers a store operation that did not return 0: its domain error from the table, or 500. */
int api_store_error(struct _u_response *resp, int r, const StoreError *err)
{
        const ErrorInfo *e = error_info(r);

        if (!e) {
                log_error_errno(r, "Store operation failed: %m");
                return api_error(resp, 500, "internal", "The request could not be completed; see the daemon log.");
        }
        if (e->retry_after)
                api_set_retry_after(resp, err->retry_after_sec);
        return api_error(resp, e->http_status, e->code, "%s", err->message[0] ? err->message : e->message);
}

void api_client_address(const struct _u_request *req, char *buf, size_t n)
{
        const struct sockaddr *sa = req->client_address;

        assert(req);
        assert(buf);
        /* Room for any address inet_ntop() writes, so neither it nor the /64 form below is ever cut. */
        assert(n >= INET6_ADDRSTRLEN);
        snprintf(buf, n, "unknown");
        if (!sa)
                return;
        if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, (socklen_t) n);
        else if (sa->sa_family == AF_INET6) {
                /*
                 * ulfius copies only sizeof(struct sockaddr) (16 bytes), which keeps the first
                 * half of an IPv6 address: its /64 prefix, what rate limits key on for IPv6 anyway.
                 */
                const uint8_t *a = (const uint8_t *) sa + offsetof(struct sockaddr_in6, sin6_addr);
                snprintf(buf, n, "%02x%02x:%02x%02x:%02x%02x:%02x%02x::/64", a[0], a[1], a[2], a[3], a[4], a[5],
                         a[6], a[7]);
        }
}

/* Depth of nested arrays/objects, counted outside strings; stops early past max. */
size_t api_json_depth(const char *p, size_t n, size_t max)
{
        size_t depth = 0, deepest = 0;
        bool in_string = false;

        for (size_t i = 0; i < n; i++) {
                char c = p[i];
                if (in_string) {
                        if (c == '\\')
                                i++;
                        else if (c == '"')
                                in_string = false;
                        continue;
                }
                if (c == '"')
                        in_string = true;
                else if (c == '{' || c == '[') {
                        depth++;
                        if (depth > deepest)
                                deepest = depth;
                        if (deepest > max)
                                return deepest;
                } else if ((c == '}' || c == ']') && depth > 0)
                        depth--;
        }
        return deepest;
}

/*
 * A request body as the handlers get it: nested at most max_depth deep (counted before jansson
 * recurses into it), valid JSON without duplicate keys, and an object. -ELOOP: too deep;
 * -EBADMSG: not JSON (*ret_error says where); -EINVAL: not an object.
 */
int api_body_parse(const void *data, size_t n, uint64_t max_depth, json_t **ret, json_error_t *ret_error)
{
        _cleanup_(json_decrefp) json_t *body = NULL;

        assert(data || n == 0);
        assert(ret);
        assert(ret_error);
        if (api_json_depth(data, n, max_depth) > max_depth)
                return -ELOOP;
        body = json_loadb(data, n, JSON_REJECT_DUPLICATES, ret_error);
        if (!body)
                return -EBADMSG;
        if (!json_is_object(body))
                return -EINVAL;
        *ret = TAKE_PTR(body);
        return 0;
}

/* Rejects members the route does not know; allowed is NULL-terminated. */
int api_check_fields(struct _u_response *resp, json_t *body, const char *const *allowed)
{
        const char *key;
        json_t *v;

        json_object_foreach(body, key, v) {
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        ok = ok || streq(*a, key);
                if (!ok) {
                        api_error(resp, 400, "unknown_field", "Unknown field '%.*s'.", UTF8_PREFIX(key, 100));
                        return -EINVAL;
                }
        }
        return 0;
}


int api_require_string(struct _u_response *resp, RequestContext *c, const char *key, const char **ret)
{
        json_t *v = c->body ? json_object_get(c->body, key) : NULL;

        if (!v)
                return api_error(resp, 400, "missing_field", "Field '%s' is required.", key), -EINVAL;
        if (!json_is_string(v))
                return api_error(resp, 400, "invalid_type", "Field '%s' must be a string.", key), -EINVAL;
        *ret = json_string_value(v);
        return 0;
}

int api_parse_query_u64(const struct _u_request *req, const char *key, uint64_t def, uint64_t max,
                        uint64_t *ret, struct _u_response *resp)
{
        const char *v = u_map_get(req->map_url, key);
        uint64_t n;

        if (!v) {
                *ret = def;
                return 0;
        }
        if (safe_atou64(v, &n) < 0 || n > max) {
                api_error(resp, 400, "invalid_parameter", "Query parameter '%s' must be an integer from 0 to %" PRIu64 ".",
                          key, max);
                return -EINVAL;
        }
        *ret = n;
        return 0;
}

void api_audit_denied(ApiServer *s, RequestContext *c, const char *actor, const char *action, const char *target_kind,
                      const char *target, const char *error)
{
        Db *db = api_db(s);

        assert(c);
        assert(action);
        if (!db)
                return;
        (void) audit_record(db, &(AuditEntry) { .caller = c->caller.account_id > 0 ? &c->caller : NULL,
                                                .actor = c->caller.account_id > 0 ? NULL : (actor ?: "anonymous"),
                                                .action = action, .target_kind = target_kind, .target = target,
                                                .store_id = c->store_id, .result = AUDIT_DENIED, .error = error,
                                                .source = c->client, .request_id = c->request_id });
}

void api_ratelimit_key(const Caller *caller, char *buf, size_t n)
{
        assert(caller);
        assert(buf);
        (void) snprintf_ok(buf, n, "account:%" PRIi64, caller->account_id);
}
