/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The SQLite state file: WAL, busy timeout, foreign keys, and schema
 * migrations keyed by PRAGMA user_version. Every thread opens its own
 * connection; db_open() on an up-to-date file only sets the pragmas.
 */

#include <sqlite3.h>
#include <stdint.h>

#include "basic/macro.h"

typedef struct Db Db;

#define DB_SCHEMA_VERSION 5

int db_open(const char *path, Db **ret);
Db *db_close(Db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(Db *, db_close);

sqlite3 *db_handle(Db *db);
const char *db_path(Db *db);
int db_schema_version(Db *db);

/* Writers take the lock up front (BEGIN IMMEDIATE) so they never deadlock on upgrade. */
int db_begin(Db *db);
int db_commit(Db *db);
void db_rollback(Db *db);

int db_exec(Db *db, const char *sql);
int db_prepare(Db *db, const char *sql, sqlite3_stmt **ret);

/* Maps an SQLite result code to a negative errno. */
int db_errno(int rc);

/* The text columns of the current row; NULL stays NULL. */
char *db_column_strdup(sqlite3_stmt *s, int col);

static inline void sqlite3_finalizep(sqlite3_stmt **s)
{
        if (*s)
                sqlite3_finalize(*s);
}
#define _cleanup_stmt_ _cleanup_(sqlite3_finalizep)

/* The SQL of schema version 1, exported so tests can build an old database file. */
/* The migrations, in order (tests build old files with them). */
extern const char db_schema_v1[];
extern const char db_schema_v2[];
extern const char db_schema_v3[];
extern const char db_schema_v4[];
extern const char db_schema_v5[];
