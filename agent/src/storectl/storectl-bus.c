/* SPDX-License-Identifier: Apache-2.0 */

/* The daemon on the bus: connecting, calling its methods, and its errors in words and exit codes. */

#include <stdarg.h>

#include "basic/dbus-names.h"
#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-table.h"

int bus_connect(sd_bus **ret)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        assert(ret);
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
int report_error(const sd_bus_error *e, int r)
{
        /* The daemon's messages quote names that users chose: no control characters reach the terminal. */
        _cleanup_free_ char *copy = strdup(e && e->message ? e->message : strerror(-r));
        const char *m = copy ? strip_control(copy) : "(out of memory)";

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
        if (sd_bus_error_has_name(e, STOREAGENT_ERROR_ACCESS_DENIED)) {
                fprintf(stderr, "Permission denied: %s\n", m);
                return EXIT_DENIED;
        }
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED) || r == -EACCES || r == -EPERM) {
                /* The daemon says why (no tenant account, account disabled); the bus's own refusal does not. */
                if (e && e->message && strncmp(e->message, "Rejected", 8) != 0)
                        fprintf(stderr, "Permission denied: %s\n", m);
                else
                        fprintf(stderr,
                                "Permission denied: only root and members of groups '%s' and '%s' may use "
                                "storeagent.\n",
                                STOREAGENT_ADMIN_GROUP, STOREAGENT_TENANT_GROUP);
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
int call_string(sd_bus *bus, const char *method, char **ret, sd_bus_error *error, const char *types, ...)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *s;
        va_list ap;
        int r;

        assert(bus);
        assert(method);
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

int parse_reply(const char *s, json_t **ret)
{
        json_error_t jerr;
        json_t *v = json_loads(s, JSON_DECODE_ANY, &jerr);

        assert(s);
        assert(ret);
        if (!v) {
                fprintf(stderr, "The daemon sent a reply that is not JSON: %s\n", jerr.text);
                return -EBADMSG;
        }
        *ret = v;
        return 0;
}
