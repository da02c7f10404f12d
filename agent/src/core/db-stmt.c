/* SPDX-License-Identifier: Apache-2.0 */

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/db-internal.h"
#include "core/db.h"

/*
 * Which Db a statement belongs to, found from its connection when it is released. A slot is
 * written only by the thread that opens or closes its Db; the scan compares connection pointers
 * and never follows one, so a Db closing on another thread cannot be touched through here.
 */
#define DB_REGISTRY_MAX 256

static struct {
        _Atomic(sqlite3 *) handle;
        _Atomic(Db *) db;
} db_registry[DB_REGISTRY_MAX];

void db_register(Db *db)
{
        for (size_t i = 0; i < DB_REGISTRY_MAX; i++) {
                sqlite3 *expected = NULL;

                if (atomic_compare_exchange_strong(&db_registry[i].handle, &expected, db->handle)) {
                        atomic_store(&db_registry[i].db, db);
                        return;
                }
        }
        /* Full: this connection prepares every statement afresh, which is only slower. */
}

void db_unregister(Db *db)
{
        for (size_t i = 0; i < DB_REGISTRY_MAX; i++)
                if (atomic_load(&db_registry[i].handle) == db->handle) {
                        atomic_store(&db_registry[i].db, NULL);
                        atomic_store(&db_registry[i].handle, NULL);
                        return;
                }
}

static Db *db_lookup(sqlite3 *handle)
{
        for (size_t i = 0; i < DB_REGISTRY_MAX; i++)
                if (atomic_load(&db_registry[i].handle) == handle)
                        return atomic_load(&db_registry[i].db);
        return NULL;
}

void db_stmt_release(sqlite3_stmt *s)
{
        Db *db;

        if (!s)
                return;
        db = db_lookup(sqlite3_db_handle(s));
        if (db)
                for (unsigned i = 0; i < db->n_cache; i++)
                        if (db->cache[i].stmt == s) {
                                assert(db->cache[i].busy);
                                /* Ends its read snapshot, as finalizing did; the error is the caller's to have seen. */
                                (void) sqlite3_reset(s);
                                (void) sqlite3_clear_bindings(s);
                                db->cache[i].busy = false;
                                return;
                        }
        sqlite3_finalize(s);
}

int db_prepare(Db *db, const char *sql, sqlite3_stmt **ret)
{
        assert(db);
        assert(sql);
        assert(ret);

        _cleanup_free_ char *copy = NULL;
        sqlite3_stmt *s = NULL;
        bool keep;
        int rc;

        for (unsigned i = 0; i < db->n_cache; i++) {
                DbStmt *c = db->cache + i;

                if (!c->busy && streq(c->sql, sql)) {
                        c->busy = true;
                        *ret = c->stmt;
                        return 0;
                }
        }

        /* A full cache, or SQL with a statement already in use (a nested query), prepares afresh. */
        keep = db->n_cache < DB_STMT_CACHE_MAX;
        if (keep) {
                copy = strdup(sql);
                if (!copy)
                        return -ENOMEM;
        }
        rc = sqlite3_prepare_v3(db->handle, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL);
        if (rc != SQLITE_OK) {
                log_error("Failed to prepare SQL '%s': %s", sql, sqlite3_errmsg(db->handle));
                return db_errno(rc);
        }
        if (keep)
                db->cache[db->n_cache++] = (DbStmt) { .sql = TAKE_PTR(copy), .stmt = s, .busy = true };
        *ret = s;
        return 0;
}
