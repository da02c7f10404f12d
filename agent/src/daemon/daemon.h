/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "core/config.h"

/* Runs the daemon until SIGTERM/SIGINT (or idle exit); config is borrowed. */
int daemon_run(Config *config, const char *config_path, bool config_explicit);

/*
 * Logs why the database at path cannot be used (r from db_open() or db_check(), detail what SQLite
 * or the file system said, or NULL) in words an operator can act on; returns r.
 */
int daemon_log_database_error(const char *path, int r, const char *detail);
