/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What db.c and db-stmt.c share: the connection and its kept statements. */

#include <sqlite3.h>
#include <stdbool.h>

typedef struct Db Db;

/*
 * Prepared statements kept for reuse, per connection: preparing is a fifth of what a list
 * request costs (docs/benchmarks.md). db_prepare() hands out a kept statement whose SQL matches
 * and is not in use; db_stmt_release() (what _cleanup_stmt_ calls) resets it for the next caller.
 */
#define DB_STMT_CACHE_MAX 48

typedef struct DbStmt {
        char *sql;
        sqlite3_stmt *stmt;
        bool busy;
} DbStmt;

struct Db {
        sqlite3 *handle;
        char *path;
        DbStmt cache[DB_STMT_CACHE_MAX];
        unsigned n_cache;
};

void db_register(Db *db);
void db_unregister(Db *db);
