/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Webhooks: the D-Bus methods ListWebhooks, CreateWebhook, DeleteWebhook, TestWebhook and
 * ListWebhookDeliveries, printed as tables (or the daemon's JSON with --json).
 */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>

#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-output.h"
#include "storectl/storectl-table.h"
#include "storectl/storectl-webhook.h"

static int parse_id(const char *s, int64_t *ret)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v <= 0) {
                fprintf(stderr, "'%s' is not a webhook id (see 'storectl webhook list').\n", s);
                return EXIT_USAGE;
        }
        *ret = (int64_t) v;
        return EXIT_OK;
}

static const char *int_cell(char buf[static 32], const json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                return NULL;
        xsnprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
}

int verb_webhook_list(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *hooks = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_t *h, *e;
        size_t i, j;
        int r;

        r = CALL_JSON(bus, "ListWebhooks", &hooks, NULL);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(hooks);
                return EXIT_OK;
        }
        if (table_new(&t, 4, "ID", "URL", "EVENTS", "CREATED") < 0)
                return EXIT_FAIL;
        json_array_foreach(hooks, i, h) {
                char id[32], events[256] = "";
                size_t n = 0;
                json_array_foreach(json_object_get(h, "events"), j, e)
                        n += (size_t) snprintf(events + n, n < sizeof events ? sizeof events - n : 0, "%s%s",
                                               j > 0 ? "," : "", json_string_value(e));
                if (table_add(t, int_cell(id, h, "id")) < 0 || table_add(t, jstr(h, "url")) < 0 ||
                    table_add(t, events) < 0 || table_add(t, jstr(h, "created_at")) < 0)
                        return EXIT_FAIL;
        }
        table_print(t, stdout, arg_legend, arg_color);
        return EXIT_OK;
}

int verb_webhook_create(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *o = NULL;
        char id[32];
        int r;

        r = CALL_JSON(bus, "CreateWebhook", &o, "ssb", args[0], args[1] ?: "", 0);
        if (r != EXIT_OK)
                return r;
        if (arg_json)
                print_json(o);
        else {
                printf("Webhook %s created. Its signing secret:\n%s\n", strna(int_cell(id, o, "id")),
                       strna(jstr(o, "secret")));
                if (isatty(STDOUT_FILENO))
                        fprintf(stderr, "Keep the secret now: it is shown once and cannot be read back.\n");
        }
        json_t *secret = json_object_get(o, "secret");
        if (json_is_string(secret))
                explicit_bzero((char *) json_string_value(secret), json_string_length(secret));
        return EXIT_OK;
}

int verb_webhook_delete(sd_bus *bus, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int64_t id;
        int r;

        r = parse_id(args[0], &id);
        if (r != EXIT_OK)
                return r;
        r = call_string(bus, "DeleteWebhook", NULL, &e, "x", id);
        if (r < 0)
                return report_error(&e, r);
        return EXIT_OK;
}

static int set_enabled(sd_bus *bus, const char *arg, bool enabled)
{
        _cleanup_(json_decrefp) json_t *o = NULL;
        int64_t id;
        int r;

        r = parse_id(arg, &id);
        if (r != EXIT_OK)
                return r;
        r = CALL_JSON(bus, "SetWebhookEnabled", &o, "xb", id, (int) enabled);
        if (r != EXIT_OK)
                return r;
        if (arg_json)
                print_json(o);
        return EXIT_OK;
}

int verb_webhook_pause(sd_bus *bus, char **args)
{
        return set_enabled(bus, args[0], false);
}

int verb_webhook_resume(sd_bus *bus, char **args)
{
        return set_enabled(bus, args[0], true);
}

int verb_webhook_test(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *o = NULL;
        char buf[32];
        int64_t id;
        int r;

        r = parse_id(args[0], &id);
        if (r != EXIT_OK)
                return r;
        r = CALL_JSON(bus, "TestWebhook", &o, "x", id);
        if (r != EXIT_OK)
                return r;
        if (arg_json)
                print_json(o);
        else
                printf("Test delivery %s queued. Follow it with 'storectl webhook deliveries %s'.\n",
                       strna(int_cell(buf, o, "id")), args[0]);
        return EXIT_OK;
}

int verb_webhook_deliveries(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *items = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_t *d;
        int64_t id;
        size_t i;
        int r;

        r = parse_id(args[0], &id);
        if (r != EXIT_OK)
                return r;
        r = CALL_JSON(bus, "ListWebhookDeliveries", &items, "x", id);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(items);
                return EXIT_OK;
        }
        if (table_new(&t, 7, "ID", "EVENT", "STATE", "ATTEMPTS", "CODE", "UPDATED", "LAST ERROR") < 0)
                return EXIT_FAIL;
        json_array_foreach(items, i, d) {
                char idb[32], att[32], code[32];
                const char *state = jstr(d, "state");
                if (table_add(t, int_cell(idb, d, "id")) < 0 || table_add(t, jstr(d, "event")) < 0 ||
                    table_add_colored(t, state,
                                      streq_ptr(state, "failed")      ? ANSI_RED
                                      : streq_ptr(state, "delivered") ? ANSI_GREEN
                                                                      : NULL) < 0 ||
                    table_add(t, int_cell(att, d, "attempts")) < 0 || table_add(t, int_cell(code, d, "response_code")) < 0 ||
                    table_add(t, jstr(d, "updated_at")) < 0 || table_add(t, jstr(d, "last_error")) < 0)
                        return EXIT_FAIL;
        }
        table_print(t, stdout, arg_legend, arg_color);
        return EXIT_OK;
}
