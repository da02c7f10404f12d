/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The SQLite state file: WAL, busy timeout, foreign keys, and schema
 * migrations keyed by PRAGMA user_version. Every thread opens its own
 * connection; db_open() on an up-to-date file only sets the pragmas.
 */

#include <jansson.h>
#include <sqlite3.h>
#include <stdint.h>

#include "basic/macro.h"

typedef struct Db Db;

#define DB_SCHEMA_VERSION 15
#define DB_BUSY_TIMEOUT_MS_DEFAULT 5000U

/*
 * Opens (creating and migrating) the database. A file SQLite may only read is -EROFS, one that
 * is not a database or is damaged in its header -EBADMSG, a lock held past the busy timeout -EAGAIN.
 */
int db_open(const char *path, Db **ret);
Db *db_close(Db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(Db *, db_close);

sqlite3 *db_handle(Db *db);
const char *db_path(Db *db);
int db_schema_version(Db *db);

/* The busy timeout of connections opened from now on (the configuration's database_busy_timeout_ms). */
void db_set_busy_timeout(unsigned ms);

/*
 * Reads the whole file at path once, without writing anything (PRAGMA quick_check on a read-only
 * connection): 0 when it is sound or not there yet, -EBADMSG with SQLite's first finding in
 * *ret_problem (when given) when it is damaged. Run once at start, before db_open().
 */
int db_check(const char *path, char **ret_problem);

/* What r from db_open() or db_check() means for an operator, or NULL when %m says it. */
const char *db_strerror(int r);

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

/*
 * Text as it leaves the database for a JSON reply, a D-Bus reply or the live stream: a
 * column's text, with invalid UTF-8 (a row an older agent wrote) replaced by U+FFFD, so
 * one bad row can never fail the whole reply. NULL stays NULL; NULL also when out of memory.
 */
char *db_column_strdup_utf8(sqlite3_stmt *s, int col);
/* The same as a JSON string (null for NULL); NULL only when out of memory. */
json_t *db_column_json_string(sqlite3_stmt *s, int col);
/* A column of microseconds since the epoch as an RFC 3339 JSON string; JSON null for SQL NULL. */
json_t *db_column_json_time(sqlite3_stmt *s, int col);

/*
 * Binds text people read (reasons, steps, event details, errors) to parameter i: at most
 * max bytes of it, cut on a character boundary, invalid UTF-8 replaced by U+FFFD; NULL binds
 * NULL (by leaving it unbound). Everything written through here reads back into JSON.
 */
int db_bind_text_utf8(sqlite3_stmt *s, int i, const char *text, size_t max);

/*
 * Gives back a statement from db_prepare(): a kept one is reset (its read snapshot ends, its
 * bindings are cleared) for the next db_prepare() of the same SQL, any other is finalized.
 */
void db_stmt_release(sqlite3_stmt *s);

static inline void db_stmt_releasep(sqlite3_stmt **s)
{
        db_stmt_release(*s);
}
#define _cleanup_stmt_ _cleanup_(db_stmt_releasep)

/* The SQL of schema version 1, exported so tests can build an old database file. */
/* The migrations, in order (tests build old files with them). */
extern const char db_schema_v1[];
extern const char db_schema_v2[];
extern const char db_schema_v3[];
extern const char db_schema_v4[];
extern const char db_schema_v5[];
extern const char db_schema_v6[];
extern const char db_schema_v7[];
extern const char db_schema_v8[];
extern const char db_schema_v9[];
extern const char db_schema_v10[];
extern const char db_schema_v11[];
extern const char db_schema_v12[];
extern const char db_schema_v13[];
extern const char db_schema_v14[];
extern const char db_schema_v15[];
