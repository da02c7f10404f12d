/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* storectl platform: stores by status over the last day and the last creates' provisioning times
 * (the D-Bus method GetPlatformStats, admins). */

#include <systemd/sd-bus.h>

int verb_platform(sd_bus *bus, char **args);
