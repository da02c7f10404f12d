/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/db.h"
#include "core/store.h"
#include "tests.h"

TEST(test_fresh)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "fresh.db");
        _cleanup_(db_closep) Db *db = NULL;
        sqlite3_stmt *s = NULL;

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(db_prepare(db, "PRAGMA journal_mode", &s), 0);
        ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
        ASSERT_STREQ((const char *) sqlite3_column_text(s, 0), "wal");
        sqlite3_finalize(s);
        ASSERT_EQ(db_prepare(db, "PRAGMA foreign_keys", &s), 0);
        ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int(s, 0), 1);
        sqlite3_finalize(s);
        /* Foreign keys hold: an event for a store that does not exist is refused. */
        ASSERT_TRUE(db_exec(db, "INSERT INTO events (store_id, time, actor, action) VALUES ('nope', 1, 'x', 'y')") < 0);
}

TEST(test_upgrade_v1_file)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "old.db");
        _cleanup_(db_closep) Db *db = NULL;
        sqlite3 *raw = NULL;
        Store *s = NULL;

        /* A database written by the first release: schema 1, one READY store and its event. */
        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v1, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO stores (id, name, engine, owner, status, url, chart_version, helm_revision, "
                               "created_at, updated_at) VALUES ('00000000000000aa', 'legacy', 'woocommerce', 'admin', "
                               "'READY', 'http://legacy.example.com', '0.1.0', 3, 1000000, 2000000);"
                               "INSERT INTO events (store_id, time, actor, action, detail) VALUES "
                               "('00000000000000aa', 1000000, 'admin', 'store.create', 'old');"
                               "PRAGMA user_version = 1;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(store_get(db, "00000000000000aa", &s), 0);
        ASSERT_STREQ(s->name, "legacy");
        ASSERT_EQ(s->status, STORE_READY);
        ASSERT_EQ(s->helm_revision, 3);
        ASSERT_STREQ(s->url, "http://legacy.example.com");
        ASSERT_TRUE(s->seq > 0); /* v2 numbered existing rows */
        store_free(s);
        /* New tables exist and work. */
        ASSERT_EQ(db_exec(db, "SELECT count(*) FROM sessions; SELECT count(*) FROM idempotency_keys;"), 0);
        /* Opening again is a no-op. */
        db = db_close(db);
        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
}

TEST(test_newer_schema_refused)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "new.db");
        Db *db = NULL;
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
        ASSERT_EQ(db_open(path, &db), -EPROTONOSUPPORT);
}

DEFINE_TEST_MAIN(LOG_CRIT)
