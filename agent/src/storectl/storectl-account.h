/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* storectl's commands about accounts, API tokens, who owns a store, and a store's credentials. */

#include <systemd/sd-bus.h>

int verb_account_list(sd_bus *bus, char **args);
int verb_account_create(sd_bus *bus, char **args);
int verb_account_set(sd_bus *bus, char **args);
int verb_account_disable(sd_bus *bus, char **args);
int verb_account_enable(sd_bus *bus, char **args);
int verb_token_create(sd_bus *bus, char **args);
int verb_token_list(sd_bus *bus, char **args);
int verb_token_revoke(sd_bus *bus, char **args);
int verb_transfer(sd_bus *bus, char **args);
int verb_credentials(sd_bus *bus, char **args);
