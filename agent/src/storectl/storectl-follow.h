/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Following a store after a command queued an operation on it (--wait). */

#include <jansson.h>
#include <systemd/sd-bus.h>

/* With --wait, follows the store until it settles; else says what was queued (or prints the JSON). */
int finish_operation(sd_bus *bus, const json_t *store, const char *what);
