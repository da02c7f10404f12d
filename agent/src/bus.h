/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The D-Bus interface (org.storeagent.Manager1 on the system bus), served on
 * the main thread's sd-event loop. storectl is its client.
 */

#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"

typedef struct Bus Bus;

/* on_queued is called after a method queued a task, so the runner wakes up at once. */
int bus_new(Bus **ret, sd_event *event, const Config *config, void (*on_queued)(void *userdata), void *userdata);
Bus *bus_free(Bus *b);
/* True while a method call is being handled (idle exit waits for it). */
bool bus_busy(Bus *b);
