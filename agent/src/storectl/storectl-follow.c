/* SPDX-License-Identifier: Apache-2.0 */

/* Following a store after a command queued an operation on it (--wait). */

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <time.h>

#include "basic/dbus-names.h"
#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-follow.h"
#include "storectl/storectl-output.h"
#include "storectl/storectl-table.h"

/* How often a follower asks too, in case a signal was missed. */
#define WAIT_POLL_USEC (5 * USEC_PER_SEC)

static uint64_t now_mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

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
                                _cleanup_free_ char *what = strdup(p ?: jstr(s, "status_reason") ?: "");
                                printf("[%4" PRIu64 "s] %s%-12s%s %s\n", (now - start) / USEC_PER_SEC,
                                       arg_color ? status_color(status) : "", strna(status),
                                       arg_color ? ANSI_RESET : "", what ? strip_control(what) : "");
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
                                        _cleanup_free_ char *why = strdup(jstr(s, "status_reason") ?:
                                                                                  "no reason recorded");
                                        fprintf(stderr, "Store '%s' failed: %s\n", jstr(s, "name"),
                                                why ? strip_control(why) : "");
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
int finish_operation(sd_bus *bus, const json_t *store, const char *what)
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
