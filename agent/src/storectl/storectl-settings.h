/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* storectl settings, domain and redeploy. */

#include <systemd/sd-bus.h>

int verb_settings(sd_bus *bus, char **args);
int verb_redeploy(sd_bus *bus, char **args);
int verb_domain(sd_bus *bus, char **args);
