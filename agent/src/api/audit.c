/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The audit log's query: filters, pages (newest first, "next" is the before= of the next
 * page), and an export as JSON lines. Admins read every record; a tenant its own account's.
 */

#include <inttypes.h>
#include <time.h>

#include "api/api-internal.h"
#include "basic/util.h"
#include "core/audit.h"

/* "YYYY-MM-DDTHH:MM:SS", a fraction of digits or none, then "Z". */
static bool time_shape_ok(const char *v)
{
        static const char shape[] = "dddd-dd-ddTdd:dd:dd";
        size_t i;

        for (i = 0; shape[i]; i++)
                if (shape[i] == 'd' ? !(v[i] >= '0' && v[i] <= '9') : v[i] != shape[i])
                        return false;
        if (v[i] == '.') {
                size_t digits = strspn(v + i + 1, "0123456789");
                if (digits == 0)
                        return false;
                i += 1 + digits;
        }
        return streq(v + i, "Z");
}

/* since= and until=: seconds since the epoch, or an RFC 3339 UTC time ("2024-05-01T12:00:00Z"). */
static int parse_time(const struct _u_request *req, struct _u_response *resp, const char *key, uint64_t *ret)
{
        const char *v = u_map_get(req->map_url, key);
        struct tm tm = {};
        uint64_t sec;
        const char *end;

        *ret = 0;
        if (!v)
                return 0;
        /* At most 13 digits (beyond the year 300000), so the microseconds never overflow. */
        if (strlen(v) <= 13 && safe_atou64(v, &sec) >= 0) {
                *ret = sec * USEC_PER_SEC;
                return 0;
        }
        /*
         * strptime() alone takes one-digit fields and leading blanks; the shape is checked first, so
         * what is accepted is exactly what docs/api/openapi.yaml's AuditTime pattern says.
         */
        end = time_shape_ok(v) ? strptime(v, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
        if (end && (streq(end, "Z") || (end[0] == '.' && end[strspn(end + 1, "0123456789") + 1] == 'Z'))) {
                time_t t = timegm(&tm);
                if (t >= 0) {
                        *ret = (uint64_t) t * USEC_PER_SEC;
                        return 0;
                }
        }
        api_error(resp, 400, "invalid_parameter",
                  "Query parameter '%s' must be seconds since the epoch or a UTC time such as 2024-05-01T12:00:00Z.",
                  key);
        return -EINVAL;
}

int h_audit(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(json_decrefp) json_t *items = NULL;
        const char *result = u_map_get(req->map_url, "result"), *format = u_map_get(req->map_url, "format");
        AuditFilter f = {
                /* A tenant reads only its own account's records, whatever it asks for. */
                .account_id = caller_is_admin(&c->caller) ? 0 : c->caller.account_id,
                .actor = u_map_get(req->map_url, "actor"),
                .action = u_map_get(req->map_url, "action"),
                .store = u_map_get(req->map_url, "store"),
                .result = _AUDIT_RESULT_INVALID,
        };
        uint64_t before, limit;
        int64_t next = 0;

        if (format && !streq(format, "json") && !streq(format, "jsonl"))
                return api_error(resp, 400, "invalid_parameter", "Query parameter 'format' must be json or jsonl.");
        if (result) {
                f.result = audit_result_from_string(result);
                if (f.result < 0)
                        return api_error(resp, 400, "invalid_parameter",
                                         "Query parameter 'result' must be ok, denied or failed.");
        }
        if (parse_time(req, resp, "since", &f.since) < 0 || parse_time(req, resp, "until", &f.until) < 0 ||
            api_parse_query_u64(req, "before", 0, INT64_MAX, &before, resp) < 0 ||
            api_parse_query_u64(req, "limit", 100, 1000, &limit, resp) < 0)
                return 0;
        f.before_id = (int64_t) before;
        f.limit = MAX(limit, (uint64_t) 1);

        if (audit_query(api_db(s), &f, &items, &next) < 0)
                return api_error(resp, 500, "internal", "Reading the audit log failed.");

        if (format && streq(format, "jsonl")) {
                _cleanup_free_ char *buf = NULL;
                size_t n = 0, i;
                json_t *item;
                FILE *out = open_memstream(&buf, &n);

                if (!out)
                        return api_error(resp, 500, "internal", "Out of memory.");
                json_array_foreach(items, i, item) {
                        _cleanup_free_ char *line = json_dumps(item, JSON_COMPACT);
                        if (line)
                                fprintf(out, "%s\n", line);
                }
                fclose(out);
                if (next > 0) {
                        char v[32];
                        xsprintf(v, "%" PRIi64, next);
                        u_map_put(resp->map_header, "X-Next-Before", v);
                }
                ulfius_set_binary_body_response(resp, 200, buf, n);
                u_map_put(resp->map_header, "Content-Type", "application/x-ndjson");
                return 0;
        }
        api_set_json(resp, 200,
                     json_pack("{s:O, s:o}", "items", items, "next",
                               next > 0 ? json_integer((json_int_t) next) : json_null()));
        return 0;
}

void api_audit_store_read(ApiServer *s, RequestContext *c, const char *action, const Store *store,
                          AuditResult result, const char *error)
{
        AuditEntry e = {
                .caller = &c->caller,
                .action = action,
                .target_kind = "store",
                .target = store ? store->name : c->params[0],
                .store_id = store ? store->id : NULL,
                .result = result,
                .error = error,
                .source = c->client,
                .request_id = c->request_id,
        };
        (void) audit_record(api_db(s), &e);
}
