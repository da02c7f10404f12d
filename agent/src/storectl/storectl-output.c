/* SPDX-License-Identifier: Apache-2.0 */

/* What storectl prints: stores, events, ages and progress, in tables or as the daemon's JSON. */

#include <inttypes.h>
#include <time.h>

#include "storectl/storectl-args.h"
#include "storectl/storectl-output.h"
#include "storectl/storectl-table.h"

const char *jstr(const json_t *o, const char *key)
{
        assert(key);
        return json_string_value(json_object_get(o, key));
}

const char *status_color(const char *status)
{
        if (streq_ptr(status, "READY"))
                return ANSI_GREEN;
        if (streq_ptr(status, "FAILED"))
                return ANSI_RED;
        if (streq_ptr(status, "DELETED"))
                return ANSI_GREY;
        return ANSI_YELLOW;
}

bool status_is_final(const char *status)
{
        return streq_ptr(status, "READY") || streq_ptr(status, "FAILED") || streq_ptr(status, "DELETED");
}

/* "2026-11-27T20:12:39Z" -> seconds since the epoch, 0 when it does not parse. */
static time_t parse_time(const char *s)
{
        struct tm tm = {};
        const char *end;

        if (!s)
                return 0;
        end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!end)
                return 0;
        return timegm(&tm);
}

/* "5s", "12m", "3h", "4d": how long ago, for tables. */
char *format_age(char buf[static 32], const char *iso)
{
        time_t t = parse_time(iso), now = time(NULL);
        int64_t d;

        assert(buf);
        if (t == 0)
                return strcpy(buf, "-");
        d = (int64_t) (now - t);
        if (d < 0)
                d = 0;
        if (d < 120)
                xsnprintf(buf, 32, "%" PRIi64 "s", d);
        else if (d < 7200)
                xsnprintf(buf, 32, "%" PRIi64 "m", d / 60);
        else if (d < 3 * 86400)
                xsnprintf(buf, 32, "%" PRIi64 "h", d / 3600);
        else
                xsnprintf(buf, 32, "%" PRIi64 "d", d / 86400);
        return buf;
}

/* "helm-install (2/5)" from step and progress; NULL when the store is not working on anything. */
char *format_progress(char buf[static 128], const json_t *store)
{
        const char *step = jstr(store, "step");
        json_t *p = json_object_get(store, "progress");

        assert(buf);
        if (!step)
                return NULL;
        if (json_is_object(p))
                xsnprintf(buf, 128, "%.80s (%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT ")", step,
                         json_integer_value(json_object_get(p, "current")),
                         json_integer_value(json_object_get(p, "total")));
        else
                xsnprintf(buf, 128, "%.120s", step);
        return buf;
}

void print_json(const json_t *v)
{
        /* v may be NULL (a json_pack() that ran out of memory): then nothing is printed. */
        _cleanup_free_ char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
        if (s)
                printf("%s\n", s);
}

int print_store_table(const json_t *stores)
{
        _cleanup_(table_freep) Table *t = NULL;
        json_t *s;
        size_t i;
        int r;

        assert(stores);
        r = table_new(&t, 6, "ID", "NAME", "STATUS", "PROGRESS", "URL", "AGE");
        if (r < 0)
                return r;
        json_array_foreach(stores, i, s) {
                char age[32], progress[128];
                const char *status = jstr(s, "status");

                if ((r = table_add(t, jstr(s, "id"))) < 0 || (r = table_add(t, jstr(s, "name"))) < 0 ||
                    (r = table_add_colored(t, status, status_color(status))) < 0 ||
                    (r = table_add(t, format_progress(progress, s))) < 0 || (r = table_add(t, jstr(s, "url"))) < 0 ||
                    (r = table_add(t, format_age(age, jstr(s, "created_at")))) < 0)
                        return r;
        }
        if (table_rows(t) > 0 || !arg_legend)
                table_print(t, stdout, arg_legend, arg_color);
        if (arg_legend)
                printf("%s%zu store%s listed.\n", table_rows(t) > 0 ? "\n" : "", table_rows(t),
                       table_rows(t) == 1 ? "" : "s");
        return 0;
}

void print_field(const char *label, const char *value, const char *color)
{
        _cleanup_free_ char *v = NULL;

        assert(label);
        if (!value)
                return;
        v = strdup(value);
        if (!v)
                return;
        strip_control(v);
        if (color && arg_color)
                printf("%12s: %s%s%s\n", label, color, v, ANSI_RESET);
        else
                printf("%12s: %s\n", label, v);
}

void print_store(const json_t *s)
{
        const char *status = jstr(s, "status");
        json_t *rev = json_object_get(s, "helm_revision");
        char progress[128];

        assert(s);
        if (arg_color)
                printf("%s●%s %s%s%s (%s)\n", status_color(status), ANSI_RESET, ANSI_BOLD, jstr(s, "name"), ANSI_RESET,
                       jstr(s, "id"));
        else
                printf("● %s (%s)\n", jstr(s, "name"), jstr(s, "id"));
        print_field("Status", status, status_color(status));
        print_field("Reason", jstr(s, "status_reason"), NULL);
        print_field("Step", format_progress(progress, s), NULL);
        print_field("URL", jstr(s, "url"), NULL);
        print_field("Engine", jstr(s, "engine"), NULL);
        if (jstr(s, "chart_version")) {
                _cleanup_free_ char *chart = NULL;

                /* The version comes from the daemon and may be long: no fixed buffer to cut it. */
                if (json_is_integer(rev) &&
                    asprintf(&chart, "%s (Helm revision %" JSON_INTEGER_FORMAT ")", jstr(s, "chart_version"),
                             json_integer_value(rev)) < 0)
                        chart = NULL;
                print_field("Chart", chart ?: jstr(s, "chart_version"), NULL);
        }
        print_field("Owner", jstr(s, "owner"), NULL);
        print_field("Created", jstr(s, "created_at"), NULL);
        print_field("Updated", jstr(s, "updated_at"), NULL);
        print_field("Deleted", jstr(s, "deleted_at"), NULL);
}

int print_events_table(const json_t *events)
{
        _cleanup_(table_freep) Table *t = NULL;
        json_t *e;
        size_t i;
        int r;

        assert(events);
        r = table_new(&t, 4, "TIME", "ACTOR", "ACTION", "DETAIL");
        if (r < 0)
                return r;
        json_array_foreach(events, i, e)
                if ((r = table_add(t, jstr(e, "time"))) < 0 || (r = table_add(t, jstr(e, "actor"))) < 0 ||
                    (r = table_add(t, jstr(e, "action"))) < 0 || (r = table_add(t, jstr(e, "detail"))) < 0)
                        return r;
        table_print(t, stdout, arg_legend, arg_color);
        return 0;
}
