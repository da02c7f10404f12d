/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* storectl logs: a store's container log, read or followed through the daemon. */

#include <systemd/sd-bus.h>

int verb_logs(sd_bus *bus, char **args);
