/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The D-Bus interface: org.storeagent.Agent1 on the system bus, served on the
 * main thread's sd-event loop. storectl is its client; docs/man/storeagentd.8
 * describes the interface. Results are the same JSON objects the REST API
 * returns, carried as one string, so every front end prints the same fields.
 */

#include <systemd/sd-event.h>

#include "basic/dbus-names.h"
#include "basic/macro.h"
#include "bus/bus-hooks.h"
#include "core/config.h"

typedef struct Bus Bus;

/*
 * Connects to the system bus ($DBUS_SYSTEM_BUS_ADDRESS is honoured), serves the
 * object and takes the name. Fails when there is no bus or the policy does not
 * let us own the name; the daemon then runs without D-Bus. A later disconnect
 * is survived: the connection is retried every few seconds.
 * on_queued is called after a method queued a task, so the runner wakes up at once.
 * hooks may be NULL; it is copied.
 */
int bus_new(Bus **ret, sd_event *event, const Config *config, const BusHooks *hooks,
            void (*on_queued)(void *userdata), void *userdata);
Bus *bus_free(Bus *b);
DEFINE_TRIVIAL_CLEANUP_FUNC(Bus *, bus_free);
/* Takes the limits of a reloaded configuration; config is only read during the call. */
void bus_reload(Bus *b, const Config *config);
/* True when a method call was handled since the previous bus_busy() call (idle exit waits for quiet). */
bool bus_busy(Bus *b);
