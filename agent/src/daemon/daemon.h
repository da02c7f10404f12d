/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "core/config.h"

/* Runs the daemon until SIGTERM/SIGINT (or idle exit); config is borrowed. */
int daemon_run(Config *config, const char *config_path, bool config_explicit);
