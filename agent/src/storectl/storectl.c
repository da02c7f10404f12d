/* SPDX-License-Identifier: Apache-2.0 */

/*
 * storectl: the command line for storeagentd, over its D-Bus interface
 * (org.storeagent.Agent1 on the system bus). Human tables by default, the
 * daemon's JSON with --json; exit codes are documented in storectl(1).
 */

#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <locale.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "basic/dbus-names.h"
#include "storectl/storectl-table.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_NOT_FOUND 3
#define EXIT_REFUSED 4
#define EXIT_DENIED 5

#define WAIT_POLL_USEC (5 * USEC_PER_SEC)
#define STATUS_EVENTS 5

#define ANSI_RED "\x1b[31m"
#define ANSI_GREEN "\x1b[32m"
#define ANSI_YELLOW "\x1b[33m"
#define ANSI_GREY "\x1b[90m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_RESET "\x1b[0m"

/* Which options a verb takes. */
enum {
        OPT_WAIT = 1 << 0,
        OPT_STATUS = 1 << 1,
        OPT_LIMIT = 1 << 2,
        OPT_ENGINE = 1 << 3,
        OPT_ALL = 1 << 4,
};

static bool arg_json = false;
static bool arg_legend = true;
static bool arg_wait = false;
static bool arg_help = false;
static bool arg_all = false;
static const char *arg_bus_address = NULL;
static const char *arg_status = NULL;
static const char *arg_engine = "woocommerce";
static uint32_t arg_limit = 0;
static uint64_t arg_timeout_sec = 1200;
static unsigned arg_given = 0;
static bool arg_color = false;

typedef struct Verb {
        const char *name;
        const char *args; /* for the usage line */
        unsigned min_args, max_args;
        unsigned options;
        int (*run)(sd_bus *bus, char **args);
        const char *summary;
        const char *description;
} Verb;

/* ---- small helpers ---- */

static uint64_t now_mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static const char *jstr(const json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static const char *status_color(const char *status)
{
        if (streq_ptr(status, "READY"))
                return ANSI_GREEN;
        if (streq_ptr(status, "FAILED"))
                return ANSI_RED;
        if (streq_ptr(status, "DELETED"))
                return ANSI_GREY;
        return ANSI_YELLOW;
}

static bool status_is_final(const char *status)
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
static char *format_age(char buf[static 32], const char *iso)
{
        time_t t = parse_time(iso), now = time(NULL);
        int64_t d;

        if (t == 0)
                return strcpy(buf, "-");
        d = (int64_t) (now - t);
        if (d < 0)
                d = 0;
        if (d < 120)
                snprintf(buf, 32, "%" PRIi64 "s", d);
        else if (d < 7200)
                snprintf(buf, 32, "%" PRIi64 "m", d / 60);
        else if (d < 3 * 86400)
                snprintf(buf, 32, "%" PRIi64 "h", d / 3600);
        else
                snprintf(buf, 32, "%" PRIi64 "d", d / 86400);
        return buf;
}

/* "helm-install (2/5)" from step and progress; NULL when the store is not working on anything. */
static char *format_progress(char buf[static 128], const json_t *store)
{
        const char *step = jstr(store, "step");
        json_t *p = json_object_get(store, "progress");

        if (!step)
                return NULL;
        if (json_is_object(p))
                snprintf(buf, 128, "%.80s (%" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT ")", step,
                         json_integer_value(json_object_get(p, "current")),
                         json_integer_value(json_object_get(p, "total")));
        else
                snprintf(buf, 128, "%.120s", step);
        return buf;
}

static void print_json(const json_t *v)
{
        _cleanup_free_ char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
        if (s)
                printf("%s\n", s);
}

/* ---- the bus ---- */

static int bus_connect(sd_bus **ret)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        if (!arg_bus_address) {
                r = sd_bus_open_system(&bus);
                if (r < 0)
                        return r;
        } else {
                r = sd_bus_new(&bus);
                if (r < 0)
                        return r;
                r = sd_bus_set_address(bus, arg_bus_address);
                if (r < 0)
                        return r;
                r = sd_bus_set_bus_client(bus, true);
                if (r < 0)
                        return r;
                r = sd_bus_start(bus);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(bus);
        return 0;
}

/* Prints what went wrong, in words for a person, and returns the exit code that says it to a script. */
static int report_error(const sd_bus_error *e, int r)
{
        const char *m = e && e->message ? e->message : strerror(-r);

        if (sd_bus_error_has_name(e, STOREAGENT_ERROR_NOT_FOUND)) {
                fprintf(stderr, "%s\n", m);
                return EXIT_NOT_FOUND;
        }
        if (sd_bus_error_has_name(e, STOREAGENT_ERROR_INVALID_ARGUMENT)) {
                fprintf(stderr, "%s\n", m);
                return EXIT_USAGE;
        }
        if (sd_bus_error_has_name(e, STOREAGENT_ERROR_NAME_TAKEN) || sd_bus_error_has_name(e, STOREAGENT_ERROR_BUSY) ||
            sd_bus_error_has_name(e, STOREAGENT_ERROR_INVALID_STATE) ||
            sd_bus_error_has_name(e, STOREAGENT_ERROR_LIMIT_REACHED)) {
                fprintf(stderr, "%s\n", m);
                return EXIT_REFUSED;
        }
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) || r == -EACCES || r == -EPERM) {
                fprintf(stderr,
                        "Permission denied: only root and members of group '%s' may manage stores.\n",
                        STOREAGENT_ADMIN_GROUP);
                return EXIT_DENIED;
        }
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
            sd_bus_error_has_name(e, SD_BUS_ERROR_NAME_HAS_NO_OWNER) || sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) ||
            sd_bus_error_has_name(e, SD_BUS_ERROR_TIMEOUT) || sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT)) {
                fprintf(stderr,
                        "storeagentd is not answering on the system bus (%s).\n"
                        "Is it running? Try 'systemctl status storeagent.service'.\n",
                        m);
                return EXIT_FAIL;
        }
        fprintf(stderr, "%s\n", m);
        return EXIT_FAIL;
}

/* Calls a method whose reply is one string. */
static int call_string(sd_bus *bus, const char *method, char **ret, sd_bus_error *error, const char *types, ...)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *s;
        va_list ap;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, STOREAGENT_BUS_NAME, STOREAGENT_BUS_PATH,
                                           STOREAGENT_BUS_INTERFACE, method);
        if (r < 0)
                return r;
        if (types) {
                va_start(ap, types);
                r = sd_bus_message_appendv(m, types, ap);
                va_end(ap);
                if (r < 0)
                        return r;
        }
        r = sd_bus_call(bus, m, 0, error, &reply);
        if (r < 0)
                return r;
        if (!ret)
                return 0;
        r = sd_bus_message_read(reply, "s", &s);
        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_reply(const char *s, json_t **ret)
{
        json_error_t jerr;
        json_t *v = json_loads(s, JSON_DECODE_ANY, &jerr);

        if (!v) {
                fprintf(stderr, "The daemon sent a reply that is not JSON: %s\n", jerr.text);
                return -EBADMSG;
        }
        *ret = v;
        return 0;
}

/* Calls a method whose reply is a JSON document; on failure prints why and returns the exit code (> 0). */
#define CALL_JSON(bus, method, ret, ...)                                                                             \
        ({                                                                                                           \
                _cleanup_(sd_bus_error_free) sd_bus_error _e = SD_BUS_ERROR_NULL;                                    \
                _cleanup_free_ char *_s = NULL;                                                                      \
                int _r = call_string((bus), (method), &_s, &_e, __VA_ARGS__);                                        \
                _r < 0 ? report_error(&_e, _r) : parse_reply(_s, (ret)) < 0 ? EXIT_FAIL : EXIT_OK;                   \
        })

/* ---- printing stores ---- */

static int print_store_table(const json_t *stores)
{
        _cleanup_(table_freep) Table *t = NULL;
        json_t *s;
        size_t i;
        int r;

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

static void print_field(const char *label, const char *value, const char *color)
{
        if (!value)
                return;
        if (color && arg_color)
                printf("%12s: %s%s%s\n", label, color, value, ANSI_RESET);
        else
                printf("%12s: %s\n", label, value);
}

static void print_store(const json_t *s)
{
        const char *status = jstr(s, "status");
        json_t *rev = json_object_get(s, "helm_revision");
        char progress[128], chart[128];

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
                if (json_is_integer(rev))
                        snprintf(chart, sizeof chart, "%s (Helm revision %" JSON_INTEGER_FORMAT ")",
                                 jstr(s, "chart_version"), json_integer_value(rev));
                else
                        snprintf(chart, sizeof chart, "%s", jstr(s, "chart_version"));
                print_field("Chart", chart, NULL);
        }
        print_field("Owner", jstr(s, "owner"), NULL);
        print_field("Created", jstr(s, "created_at"), NULL);
        print_field("Updated", jstr(s, "updated_at"), NULL);
        print_field("Deleted", jstr(s, "deleted_at"), NULL);
}

static int print_events_table(const json_t *events)
{
        _cleanup_(table_freep) Table *t = NULL;
        json_t *e;
        size_t i;
        int r;

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

/* ---- following a store ---- */

static int on_store_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        *(bool *) userdata = true;
        return 0;
}

/*
 * Follows a store until it is READY, FAILED or DELETED: every StoreChanged for
 * it (and a slow poll, in case a signal is missed) fetches the store again and
 * prints what moved. Returns the exit code: 0 for READY/DELETED, 1 otherwise.
 */
static int wait_for_store(sd_bus *bus, const char *id)
{
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(json_decrefp) json_t *last = NULL;
        _cleanup_free_ char *match = NULL;
        uint64_t start = now_mono(), deadline = start + arg_timeout_sec * USEC_PER_SEC, next_poll = 0;
        bool changed = true;
        int r;

        if (asprintf(&match,
                     "type='signal',sender='%s',path='%s',interface='%s',member='StoreChanged',arg0='%s'",
                     STOREAGENT_BUS_NAME, STOREAGENT_BUS_PATH, STOREAGENT_BUS_INTERFACE, id) < 0)
                return EXIT_FAIL;
        /* The match is in place before the first look, so no change between the two is missed. */
        r = sd_bus_add_match(bus, &slot, match, on_store_changed, &changed);
        if (r < 0) {
                fprintf(stderr, "Failed to subscribe to store changes: %s\n", strerror(-r));
                return EXIT_FAIL;
        }

        for (;;) {
                uint64_t now = now_mono();

                if (changed || now >= next_poll) {
                        _cleanup_(json_decrefp) json_t *s = NULL;
                        char progress[128], old_progress[128];
                        const char *status;

                        changed = false;
                        next_poll = now + WAIT_POLL_USEC;
                        r = CALL_JSON(bus, "GetStore", &s, "s", id);
                        if (r != EXIT_OK)
                                return r;
                        status = jstr(s, "status");
                        if (!arg_json &&
                            (!last || !streq_ptr(status, jstr(last, "status")) ||
                             !streq_ptr(format_progress(progress, s), format_progress(old_progress, last)))) {
                                const char *p = format_progress(progress, s);
                                printf("[%4" PRIu64 "s] %s%-12s%s %s\n", (now - start) / USEC_PER_SEC,
                                       arg_color ? status_color(status) : "", strna(status),
                                       arg_color ? ANSI_RESET : "", p ?: jstr(s, "status_reason") ?: "");
                                fflush(stdout);
                        }
                        json_decref(last);
                        last = json_incref(s);
                        if (status_is_final(status)) {
                                if (arg_json)
                                        print_json(s);
                                else if (streq(status, "READY") && jstr(s, "url"))
                                        printf("Store '%s' is ready at %s\n", jstr(s, "name"), jstr(s, "url"));
                                if (streq(status, "FAILED")) {
                                        fprintf(stderr, "Store '%s' failed: %s\n", jstr(s, "name"),
                                                jstr(s, "status_reason") ?: "no reason recorded");
                                        return EXIT_FAIL;
                                }
                                return EXIT_OK;
                        }
                }

                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        fprintf(stderr, "Lost the connection to the bus: %s\n", strerror(-r));
                        return EXIT_FAIL;
                }
                if (r > 0)
                        continue;
                now = now_mono();
                if (now >= deadline) {
                        fprintf(stderr, "Timed out after %" PRIu64 " s; the store is still %s. "
                                        "Follow it with 'storectl status %s'.\n",
                                arg_timeout_sec, strna(jstr(last, "status")), id);
                        return EXIT_FAIL;
                }
                r = sd_bus_wait(bus, MIN(deadline, next_poll) - now);
                if (r < 0 && r != -EINTR) {
                        fprintf(stderr, "Waiting for the bus failed: %s\n", strerror(-r));
                        return EXIT_FAIL;
                }
        }
}

/* After an operation was queued: the store, or its progress until it settles with --wait. */
static int finish_operation(sd_bus *bus, const json_t *store, const char *what)
{
        if (arg_wait)
                return wait_for_store(bus, jstr(store, "id"));
        if (arg_json)
                print_json(store);
        else
                printf("%s of store '%s' (%s) queued; it is %s. Follow it with 'storectl status %s' or use --wait.\n",
                       what, jstr(store, "name"), jstr(store, "id"), jstr(store, "status"), jstr(store, "name"));
        return EXIT_OK;
}

/* ---- verbs ---- */

static int verb_list(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *stores = NULL;
        int r;

        r = CALL_JSON(bus, "ListStores", &stores, "s", arg_all ? "" : (arg_status ?: ""));
        if (r != EXIT_OK)
                return r;
        if (arg_all) {
                /* Everything, the deleted ones too: the default list leaves those out. */
                _cleanup_(json_decrefp) json_t *deleted = NULL;
                r = CALL_JSON(bus, "ListStores", &deleted, "s", "DELETED");
                if (r != EXIT_OK)
                        return r;
                json_array_extend(stores, deleted);
        }
        if (arg_json) {
                print_json(stores);
                return EXIT_OK;
        }
        return print_store_table(stores) < 0 ? EXIT_FAIL : EXIT_OK;
}

static int verb_status(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL, *events = NULL;
        int r;

        r = CALL_JSON(bus, "GetStore", &store, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(store);
                return EXIT_OK;
        }
        print_store(store);
        r = CALL_JSON(bus, "GetEvents", &events, "su", jstr(store, "id"), (uint32_t) STATUS_EVENTS);
        if (r == EXIT_OK && json_array_size(events) > 0) {
                printf("\nLatest events:\n");
                bool legend = arg_legend;
                arg_legend = false;
                print_events_table(events);
                arg_legend = legend;
        }
        return EXIT_OK;
}

static int verb_create(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "CreateStore", &store, "ss", args[0], arg_engine);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Creation");
}

static int verb_delete(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "DeleteStore", &store, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Deletion");
}

static int verb_retry(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "RetryStore", &store, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Retry");
}

static int verb_upgrade(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "UpgradeStore", &store, "ss", args[0], args[1]);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Upgrade");
}

static int verb_rollback(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        char *end;
        long long rev;
        int r;

        errno = 0;
        rev = strtoll(args[1], &end, 10);
        if (errno != 0 || end == args[1] || *end || rev < 1) {
                fprintf(stderr, "REVISION must be a positive Helm revision number, not '%s'.\n", args[1]);
                return EXIT_USAGE;
        }
        r = CALL_JSON(bus, "RollbackStore", &store, "sx", args[0], (int64_t) rev);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Rollback");
}

static int verb_events(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *events = NULL;
        int r;

        r = CALL_JSON(bus, "GetEvents", &events, "su", args[0], arg_limit);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(events);
                return EXIT_OK;
        }
        return print_events_table(events) < 0 ? EXIT_FAIL : EXIT_OK;
}

static int verb_token_create(sd_bus *bus, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_erase_free_ char *token = NULL;
        int r;

        r = call_string(bus, "CreateToken", &token, &e, "s", args[0]);
        if (r < 0)
                return report_error(&e, r);
        if (arg_json) {
                _cleanup_(json_decrefp) json_t *o = json_pack("{s:s, s:s}", "name", args[0], "token", token);
                print_json(o);
        } else {
                printf("%s\n", token);
                if (isatty(STDOUT_FILENO))
                        fprintf(stderr, "Keep this token now: it is shown once and cannot be read back.\n");
        }
        return EXIT_OK;
}

static int verb_token_list(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *tokens = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_t *tok;
        size_t i;
        int r;

        r = CALL_JSON(bus, "ListTokens", &tokens, NULL);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(tokens);
                return EXIT_OK;
        }
        if (table_new(&t, 4, "NAME", "CREATED", "LAST USED", "REVOKED") < 0)
                return EXIT_FAIL;
        json_array_foreach(tokens, i, tok)
                if (table_add(t, jstr(tok, "name")) < 0 || table_add(t, jstr(tok, "created_at")) < 0 ||
                    table_add(t, jstr(tok, "last_used_at")) < 0 ||
                    table_add_colored(t, jstr(tok, "revoked_at"), jstr(tok, "revoked_at") ? ANSI_GREY : NULL) < 0)
                        return EXIT_FAIL;
        table_print(t, stdout, arg_legend, arg_color);
        return EXIT_OK;
}

static int verb_token_revoke(sd_bus *bus, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = call_string(bus, "RevokeToken", NULL, &e, "s", args[0]);
        if (r < 0)
                return report_error(&e, r);
        if (arg_json) {
                _cleanup_(json_decrefp) json_t *o = json_pack("{s:s, s:b}", "name", args[0], "revoked", 1);
                print_json(o);
        }
        return EXIT_OK;
}

static const Verb verbs[] = {
        { "list", "", 0, 0, OPT_STATUS | OPT_ALL, verb_list, "List stores",
          "Lists the stores that are not deleted: id, name, status, the step a store is at, its URL and age.\n"
          "--status shows only stores in one status (DELETED included); --all shows deleted stores too.\n" },
        { "status", "ID|NAME", 1, 1, 0, verb_status, "Show a store and its latest events",
          "Shows one store: status, the reason for it, progress, URL, chart version and Helm revision,\n"
          "owner and times, followed by its latest events. A name finds the newest store of that name.\n" },
        { "create", "NAME", 1, 1, OPT_WAIT | OPT_ENGINE, verb_create, "Create a store",
          "Queues the creation of a store. NAME becomes part of the namespace, the Helm release and the\n"
          "host name: 1-40 of a-z 0-9 and -, starting with a letter and ending with a letter or digit.\n"
          "With --wait, follows the store until it is READY (exit 0) or FAILED (exit 1).\n" },
        { "delete", "ID|NAME", 1, 1, OPT_WAIT, verb_delete, "Delete a store and everything it owns",
          "Queues the deletion of a store: its Helm release, namespace, volumes and secrets. Deleting a\n"
          "store that is already being deleted is not an error. With --wait, follows it until DELETED.\n" },
        { "retry", "ID|NAME", 1, 1, OPT_WAIT, verb_retry, "Retry a FAILED store",
          "Runs the last operation of a FAILED store again: provisioning, or the delete when a delete\n"
          "failed. With --wait, follows the store until it settles.\n" },
        { "upgrade", "ID|NAME VERSION", 2, 2, OPT_WAIT, verb_upgrade, "Upgrade a store to a chart version",
          "Queues a Helm upgrade of the store to chart VERSION (such as 0.2.0). Passwords are kept.\n"
          "With --wait, follows the store until it is READY or FAILED.\n" },
        { "rollback", "ID|NAME REVISION", 2, 2, OPT_WAIT, verb_rollback, "Roll a store back to a Helm revision",
          "Queues a Helm rollback of the store to REVISION (see 'storectl status' for the current one).\n"
          "With --wait, follows the store until it is READY or FAILED.\n" },
        { "events", "ID|NAME", 1, 1, OPT_LIMIT, verb_events, "Show a store's event timeline",
          "Prints the audit trail and progress events of a store, oldest first: the newest --limit\n"
          "events (default 100, at most 1000).\n" },
        { "token create", "NAME", 1, 1, 0, verb_token_create, "Create an API token",
          "Creates a REST API token called NAME and prints it once; only its hash is stored.\n"
          "NAME is 1-64 of A-Z a-z 0-9 _ . @ -\n" },
        { "token list", "", 0, 0, 0, verb_token_list, "List API tokens",
          "Lists API tokens by name with their creation, last use and revocation times.\n" },
        { "token revoke", "NAME", 1, 1, 0, verb_token_revoke, "Revoke an API token",
          "Revokes the API token called NAME; requests and dashboard sessions using it stop working.\n" },
};

static void help_verb(const Verb *v)
{
        printf("storectl %s%s%s%s\n\n%s.\n\n%s", v->name, isempty(v->args) ? "" : " ", v->args,
               v->options ? " [OPTIONS]" : "", v->summary, v->description);
        printf("\nOptions:\n");
        if (v->options & OPT_WAIT)
                printf("  -w, --wait             follow the store until READY, FAILED or DELETED\n"
                       "      --timeout SEC      give up waiting after SEC seconds (default %" PRIu64 ")\n",
                       arg_timeout_sec);
        if (v->options & OPT_ENGINE)
                printf("      --engine ENGINE    the shop engine (default woocommerce; the only one so far)\n");
        if (v->options & OPT_STATUS)
                printf("      --status STATUS    only stores in STATUS: PROVISIONING, READY, FAILED, UPGRADING,\n"
                       "                         DELETING or DELETED\n");
        if (v->options & OPT_ALL)
                printf("  -a, --all              include deleted stores\n");
        if (v->options & OPT_LIMIT)
                printf("  -n, --limit N          the newest N events (default 100, at most 1000)\n");
        printf("      --json             print the daemon's JSON instead of a table\n"
               "      --no-legend        leave out column headers and footers\n"
               "      --bus-address ADDR talk to the daemon on this D-Bus address instead of the system bus\n"
               "  -h, --help             this text\n");
}

static void help(void)
{
        printf("storectl %s: manage the WooCommerce stores of storeagentd.\n\n"
               "Usage: storectl [OPTIONS] COMMAND ...\n\nCommands:\n",
               PACKAGE_VERSION);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                char left[64];
                snprintf(left, sizeof left, "%s %s", verbs[i].name, verbs[i].args);
                printf("  %-30s %s\n", left, verbs[i].summary);
        }
        printf("\nOptions:\n"
               "      --json             print the daemon's JSON instead of tables\n"
               "      --no-legend        leave out column headers and footers\n"
               "  -w, --wait             (create, delete, retry, upgrade, rollback) follow the store until it settles\n"
               "      --timeout SEC      give up waiting after SEC seconds (default %" PRIu64 ")\n"
               "      --bus-address ADDR D-Bus address of the daemon (default: the system bus,\n"
               "                         or $DBUS_SYSTEM_BUS_ADDRESS)\n"
               "  -h, --help             this text; 'storectl COMMAND --help' explains one command\n"
               "      --version          print the version\n\n"
               "Exit status: 0 success, 1 failure, 2 usage error or invalid argument, 3 no such store or\n"
               "token, 4 refused (name taken, busy, wrong state, limit reached), 5 permission denied.\n"
               "See storectl(1).\n",
               arg_timeout_sec);
}

static int parse_argv(int argc, char *argv[])
{
        enum {
                ARG_JSON = 0x100,
                ARG_NO_LEGEND,
                ARG_BUS_ADDRESS,
                ARG_TIMEOUT,
                ARG_STATUS,
                ARG_ENGINE,
                ARG_VERSION,
        };
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "wait", no_argument, NULL, 'w' },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "status", required_argument, NULL, ARG_STATUS },
                { "all", no_argument, NULL, 'a' },
                { "engine", required_argument, NULL, ARG_ENGINE },
                { "limit", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        char *end;
        int c;

        while ((c = getopt_long(argc, argv, "hwan:", options, NULL)) >= 0)
                switch (c) {
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case 'w':
                        arg_wait = true;
                        arg_given |= OPT_WAIT;
                        break;
                case ARG_TIMEOUT:
                        errno = 0;
                        arg_timeout_sec = strtoull(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || arg_timeout_sec == 0 || arg_timeout_sec > 86400) {
                                fprintf(stderr, "--timeout takes seconds from 1 to 86400, not '%s'.\n", optarg);
                                return -EINVAL;
                        }
                        arg_given |= OPT_WAIT;
                        break;
                case ARG_BUS_ADDRESS:
                        arg_bus_address = optarg;
                        break;
                case ARG_STATUS:
                        arg_status = optarg;
                        arg_given |= OPT_STATUS;
                        break;
                case 'a':
                        arg_all = true;
                        arg_given |= OPT_ALL;
                        break;
                case ARG_ENGINE:
                        arg_engine = optarg;
                        arg_given |= OPT_ENGINE;
                        break;
                case 'n': {
                        unsigned long v;
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || v == 0 || v > 1000) {
                                fprintf(stderr, "--limit takes a number from 1 to 1000, not '%s'.\n", optarg);
                                return -EINVAL;
                        }
                        arg_limit = (uint32_t) v;
                        arg_given |= OPT_LIMIT;
                        break;
                }
                case 'h':
                        arg_help = true;
                        break;
                case ARG_VERSION:
                        printf("storectl %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        return 1;
}

static const Verb *find_verb(int argc, char *argv[], int *ret_consumed)
{
        char name[64];

        if (argc <= 0)
                return NULL;
        if (streq(argv[0], "token") && argc >= 2)
                snprintf(name, sizeof name, "token %s", argv[1]);
        else
                snprintf(name, sizeof name, "%s", argv[0]);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name)) {
                        *ret_consumed = strchr(name, ' ') ? 2 : 1;
                        return &verbs[i];
                }
        return NULL;
}

static bool want_color(void)
{
        const char *term = getenv("TERM");

        if (getenv("NO_COLOR") || !isatty(STDOUT_FILENO))
                return false;
        return !(term && streq(term, "dumb"));
}

int main(int argc, char *argv[])
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const Verb *v;
        int consumed = 0, n, r;

        setlocale(LC_ALL, "");
        arg_color = want_color();

        r = parse_argv(argc, argv);
        if (r < 0)
                return EXIT_USAGE;
        if (r == 0)
                return EXIT_OK;

        n = argc - optind;
        if (n == 0) {
                if (arg_help) {
                        help();
                        return EXIT_OK;
                }
                fprintf(stderr, "No command given. See 'storectl --help'.\n");
                return EXIT_USAGE;
        }
        v = find_verb(n, argv + optind, &consumed);
        if (!v) {
                if (streq(argv[optind], "token")) {
                        if (arg_help) {
                                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                                        if (strncmp(verbs[i].name, "token ", 6) == 0) {
                                                help_verb(&verbs[i]);
                                                printf("\n");
                                        }
                                return EXIT_OK;
                        }
                        fprintf(stderr, "Usage: storectl token create NAME | token list | token revoke NAME\n");
                } else
                        fprintf(stderr, "Unknown command '%s'. See 'storectl --help'.\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (arg_help) {
                help_verb(v);
                return EXIT_OK;
        }
        n -= consumed;
        if ((unsigned) n < v->min_args || (unsigned) n > v->max_args) {
                fprintf(stderr, "Usage: storectl %s %s\nSee 'storectl %s --help'.\n", v->name, v->args, v->name);
                return EXIT_USAGE;
        }
        if (arg_given & ~v->options) {
                fprintf(stderr, "'storectl %s' does not take %s. See 'storectl %s --help'.\n", v->name,
                        arg_given & ~v->options & OPT_WAIT     ? "--wait or --timeout"
                        : arg_given & ~v->options & OPT_STATUS ? "--status"
                        : arg_given & ~v->options & OPT_ALL    ? "--all"
                        : arg_given & ~v->options & OPT_LIMIT  ? "--limit"
                                                               : "--engine",
                        v->name);
                return EXIT_USAGE;
        }
        if (arg_all && arg_status) {
                fprintf(stderr, "--all and --status do not go together.\n");
                return EXIT_USAGE;
        }

        r = bus_connect(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to %s: %s\n", arg_bus_address ?: "the system bus", strerror(-r));
                return r == -EACCES || r == -EPERM ? EXIT_DENIED : EXIT_FAIL;
        }
        return v->run(bus, argv + optind + consumed);
}
