/* SPDX-License-Identifier: Apache-2.0 */

/*
 * storectl logs: GetLogs hands back the read end of a pipe that the daemon fills with the log (and,
 * followed, goes on filling); this copies it to standard output until the daemon closes it.
 */

#include <errno.h>
#include <unistd.h>

#include "basic/dbus-names.h"
#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-logs.h"

int verb_logs(sd_bus *bus, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        char buf[16384];
        int fd, r;

        r = sd_bus_call_method(bus, STOREAGENT_BUS_NAME, STOREAGENT_BUS_PATH, STOREAGENT_BUS_INTERFACE,
                               "GetLogs", &error, &reply, "ssstb", args[0], args[1] ?: "",
                               arg_container ?: "", arg_tail, (int) arg_follow);
        if (r < 0)
                return report_error(&error, r);
        r = sd_bus_message_read(reply, "h", &fd);
        if (r < 0) {
                fprintf(stderr, "The daemon's answer carried no log: %s\n", strerror(-r));
                return EXIT_FAIL;
        }
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "Reading the log failed: %m\n");
                        return EXIT_FAIL;
                }
                if (n == 0)
                        break;
                if (fwrite(buf, 1, (size_t) n, stdout) != (size_t) n)
                        return EXIT_FAIL;
                (void) fflush(stdout);
        }
        return EXIT_OK;
}
