/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* storectl usage: a store's resource use now and the last hour's peak (the D-Bus method GetStoreUsage). */

#include <systemd/sd-bus.h>

int verb_usage(sd_bus *bus, char **args);
