/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* storectl's commands about webhooks: your own account's, as the dashboard's Webhooks page. */

#include <systemd/sd-bus.h>

int verb_webhook_list(sd_bus *bus, char **args);
int verb_webhook_create(sd_bus *bus, char **args);
int verb_webhook_delete(sd_bus *bus, char **args);
int verb_webhook_test(sd_bus *bus, char **args);
int verb_webhook_pause(sd_bus *bus, char **args);
int verb_webhook_resume(sd_bus *bus, char **args);
int verb_webhook_deliveries(sd_bus *bus, char **args);
