/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/account.h"
#include "core/backup.h"
#include "core/db.h"
#include "core/store-domains.h"
#include "core/store-settings.h"
#include "core/queue.h"
#include "core/store.h"
#include "core/token.h"
#include "core/usage.h"
#include "core/webhook.h"
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
        db_stmt_release(s);
        ASSERT_EQ(db_prepare(db, "PRAGMA foreign_keys", &s), 0);
        ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int(s, 0), 1);
        db_stmt_release(s);
        /* Foreign keys hold: an event for a store that does not exist is refused. */
        ASSERT_TRUE(db_exec(db, "INSERT INTO events (store_id, time, actor, action) VALUES ('nope', 1, 'x', 'y')") < 0);
}

/*
 * db_prepare() hands out a kept statement again once it is released, reset and with its bindings
 * cleared; SQL whose statement is in use (a nested query) gets a statement of its own; a released
 * statement holds no read snapshot, so another connection's write is seen at once.
 */
TEST(test_statement_cache)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "cache.db");
        _cleanup_(db_closep) Db *db = NULL, *other = NULL;
        sqlite3_stmt *a = NULL, *b = NULL, *c = NULL;
        const char *sql = "SELECT count(*), ? FROM stores";

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_open(path, &other), 0);

        ASSERT_EQ(db_prepare(db, sql, &a), 0);
        ASSERT_EQ(sqlite3_bind_int(a, 1, 7), SQLITE_OK);
        ASSERT_EQ(sqlite3_step(a), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int(a, 0), 0);
        ASSERT_EQ(sqlite3_column_int(a, 1), 7);

        /* In use: the same SQL gets another statement. */
        ASSERT_EQ(db_prepare(db, sql, &b), 0);
        ASSERT_TRUE(a != b);
        db_stmt_release(b);

        /* Released while on its row: the snapshot ends, so the other connection's store is counted. */
        db_stmt_release(a);
        ASSERT_EQ(db_exec(other, "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at) "
                                 "VALUES ('s1', 'one', 'woocommerce', 'x', 'READY', 1, 1)"), 0);
        ASSERT_EQ(db_prepare(db, sql, &c), 0);
        ASSERT_TRUE(c == a || c == b);
        ASSERT_EQ(sqlite3_step(c), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int(c, 0), 1);
        /* The binding of the earlier use was cleared. */
        ASSERT_EQ(sqlite3_column_type(c, 1), SQLITE_NULL);
        db_stmt_release(c);

        /* A write transaction right after: no statement of this connection holds a read snapshot. */
        ASSERT_EQ(db_begin(db), 0);
        ASSERT_EQ(db_commit(db), 0);
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

/*
 * A database of the release before accounts (schema 3) with what a busy platform has in it: two
 * tokens (one revoked), stores created through each token and one over D-Bus by root, their
 * events, tasks, an idempotency key and a signed-in session. After the migration every token
 * works as before and belongs to an admin account of its name, every store to the account named
 * by its owner, and the first sign-in after it starts a new session.
 */
TEST(test_upgrade_v3_to_accounts)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v3.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(account_freep) Account *ops = NULL, *ci = NULL, *root = NULL;
        _cleanup_(json_decrefp) json_t *tokens = NULL;
        const char *clear = "sa_0123456789abcdefghijklmnopqrstuvwxyzABCD";
        char hash[65], sql[4096];
        sqlite3 *raw = NULL;
        Caller c;

        ASSERT_EQ(sha256_hex(clear, strlen(clear), hash), 0);
        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v1, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v2, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v3, NULL, NULL, NULL), SQLITE_OK);
        xsprintf(sql,
                 "INSERT INTO api_tokens (id, name, hash, created_at, last_used_at) VALUES (1, 'ops', '%s', 100, 200);"
                 "INSERT INTO api_tokens (id, name, hash, created_at, revoked_at) VALUES (2, 'ci', '%064d', 150, 300);"
                 "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq) VALUES "
                 "  ('00000000000000a1', 'one', 'woocommerce', 'ops', 'READY', 1000, 1000, 1),"
                 "  ('00000000000000a2', 'two', 'woocommerce', 'ci', 'FAILED', 2000, 2000, 2),"
                 "  ('00000000000000a3', 'three', 'woocommerce', 'root', 'DELETED', 3000, 3000, 3);"
                 "UPDATE stores SET deleted_at = 3500 WHERE id = '00000000000000a3';"
                 "INSERT INTO events (store_id, time, actor, action) VALUES ('00000000000000a1', 1000, 'ops', 'store.create');"
                 "INSERT INTO tasks (store_id, kind, state, created_at, updated_at, actor) VALUES "
                 "  ('00000000000000a2', 'create', 'failed', 2000, 2000, 'ci');"
                 "INSERT INTO idempotency_keys VALUES ('k1', 'ops', 'h', '00000000000000a1', 1000);"
                 "INSERT INTO sessions VALUES ('%064d', 1, 'csrf', 100, 9999999999999999);"
                 "PRAGMA user_version = 3;",
                 hash, 7, 9);
        ASSERT_EQ(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);

        /* Every token's name is now an admin account; the D-Bus user who created a store too. */
        ASSERT_EQ(account_get_by_name(db, "ops", &ops), 0);
        ASSERT_EQ(account_get_by_name(db, "ci", &ci), 0);
        ASSERT_EQ(account_get_by_name(db, "root", &root), 0);
        ASSERT_EQ(ops->role, ACCOUNT_ADMIN);
        ASSERT_EQ(ci->role, ACCOUNT_ADMIN);
        ASSERT_EQ(root->role, ACCOUNT_ADMIN);

        /* The live token still works, as a token of account ops; the revoked one stays revoked. */
        ASSERT_EQ(token_verify(db, clear, &c), 0);
        ASSERT_STREQ(c.account, "ops");
        ASSERT_STREQ(c.token, "ops");
        ASSERT_EQ(c.token_id, 1);
        ASSERT_EQ(token_list(db, 0, &tokens), 0);
        ASSERT_EQ(json_array_size(tokens), 2);
        ASSERT_TRUE(json_is_string(json_object_get(json_array_get(tokens, 0), "revoked_at"))); /* ci, by name */

        /* Each store belongs to its owner's account and keeps everything else. */
        const struct { const char *id; int64_t account; StoreStatus status; } want[] = {
                { "00000000000000a1", ops->id, STORE_READY },
                { "00000000000000a2", ci->id, STORE_FAILED },
                { "00000000000000a3", root->id, STORE_DELETED },
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                _cleanup_(store_freep) Store *s = NULL;
                ASSERT_EQ(store_get(db, want[i].id, &s), 0);
                ASSERT_EQ(s->account_id, want[i].account);
                ASSERT_EQ(s->status, want[i].status);
        }
        uint64_t n;
        ASSERT_EQ(store_count_active(db, ops->id, &n), 0);
        ASSERT_EQ(n, 1);

        /* Old sessions are gone (they pointed at the old table); new ones work. */
        ASSERT_EQ(session_verify(db, "0000000000000000000000000000000000000000000000000000000000000009", &c, NULL),
                  -EACCES);
        ASSERT_EQ(db_exec(db, "SELECT count(*) FROM audit; SELECT count(*) FROM idempotency_keys;"), 0);
}

/*
 * A database of the release before fencing (schema 4) with a task running when it was stopped:
 * the task keeps its lease, gets token 0 and no child, and is leased again with a new token.
 */
TEST(test_upgrade_v4_tasks_get_tokens)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v4.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(task_freep) Task *t = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v1, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v2, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v3, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v4, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO accounts (id, name, role, created_at) VALUES (1, 'ops', 'admin', 1);"
                               "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq, "
                               "  account_id) VALUES ('00000000000000b1', 'busy', 'woocommerce', 'ops', "
                               "  'PROVISIONING', 1000, 1000, 1, 1);"
                               "INSERT INTO tasks (store_id, kind, state, attempts, lease_owner, lease_expires_at, "
                               "  created_at, updated_at, actor) VALUES ('00000000000000b1', 'create', 'running', 1, "
                               "  'old-1/0', 99999999999999999, 1000, 1000, 'ops');"
                               "INSERT INTO tasks (store_id, kind, state, created_at, updated_at, actor) VALUES "
                               "  ('00000000000000b1', 'delete', 'queued', 2000, 2000, 'ops');"
                               "PRAGMA user_version = 4;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(db_prepare(db, "SELECT lease_owner, lease_token, child_pid IS NULL FROM tasks ORDER BY id", &q), 0);
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        ASSERT_STREQ((const char *) sqlite3_column_text(q, 0), "old-1/0");
        ASSERT_EQ(sqlite3_column_int(q, 1), 0);
        ASSERT_EQ(sqlite3_column_int(q, 2), 1);
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int(q, 1), 0);

        /* The next start takes the running task back and leases it with a new token. */
        ASSERT_EQ(queue_release_stale(db, "new-2"), 1);
        ASSERT_EQ(queue_lease(db, "new-2/0", 60 * USEC_PER_SEC, &t), 0);
        ASSERT_EQ(t->kind, TASK_CREATE);
        ASSERT_EQ(t->attempts, 2);
        ASSERT_EQ(t->lease_token, 1);
        ASSERT_EQ(t->child_pid, 0);
        ASSERT_EQ(queue_complete(db, t, "new-2/0"), 0);
}

/*
 * A database of the release before webhooks (schema 7) with stores of two tenants and a backup
 * running: after the upgrade, the status changes the agent writes queue deliveries for exactly
 * the webhooks that should hear of them (the owner's, and an admin's that takes every store's).
 */
TEST(test_upgrade_v7_store_events_queue_webhook_deliveries)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v7.db");
        _cleanup_erase_free_ char *s1 = NULL, *s2 = NULL, *s3 = NULL;
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(webhook_delivery_freep) WebhookDelivery *d = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *ready_only = json_pack("[s]", "store.ready"), *body = NULL;
        int64_t acme_hook, admin_hook, other_hook;
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v1, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v2, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v3, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v4, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v5, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v6, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v7, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO accounts (id, name, role, created_at) VALUES (1, 'ops', 'admin', 1),"
                               "  (2, 'acme', 'tenant', 1), (3, 'other', 'tenant', 1);"
                               "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq, "
                               "  account_id) VALUES ('00000000000000c1', 'shop', 'woocommerce', 'acme', "
                               "  'PROVISIONING', 1000, 1000, 1, 2);"
                               "INSERT INTO backups (id, store_id, status, actor, created_at) VALUES "
                               "  ('b1', '00000000000000c1', 'running', 'acme', 1000);"
                               "PRAGMA user_version = 7;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(webhook_create(db, 2, &(WebhookSpec) { .url = "https://acme.example/h" }, 10, &acme_hook, &s1), 0);
        ASSERT_EQ(webhook_create(db, 1, &(WebhookSpec) { .url = "https://ops.example/h", .events = ready_only,
                                                         .all_stores = true },
                                 10, &admin_hook, &s2),
                  0);
        ASSERT_EQ(webhook_create(db, 3, &(WebhookSpec) { .url = "https://other.example/h" }, 10, &other_hook, &s3), 0);
        ASSERT_TRUE(strncmp(s1, WEBHOOK_SECRET_PREFIX, strlen(WEBHOOK_SECRET_PREFIX)) == 0);

        ASSERT_EQ(db_exec(db, "UPDATE stores SET status = 'READY' WHERE id = '00000000000000c1'"), 0);
        ASSERT_EQ(db_exec(db, "UPDATE stores SET status_reason = 'same status, no event' WHERE id = '00000000000000c1'"),
                  0);
        ASSERT_EQ(db_exec(db, "UPDATE backups SET status = 'succeeded' WHERE id = 'b1'"), 0);
        ASSERT_EQ(db_prepare(db, "SELECT webhook_id, event FROM webhook_deliveries ORDER BY event DESC, webhook_id", &q), 0);
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int64(q, 0), acme_hook);
        ASSERT_STREQ((const char *) sqlite3_column_text(q, 1), "store.ready");
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int64(q, 0), admin_hook);
        ASSERT_STREQ((const char *) sqlite3_column_text(q, 1), "store.ready");
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int64(q, 0), acme_hook);
        ASSERT_STREQ((const char *) sqlite3_column_text(q, 1), "backup.succeeded");
        ASSERT_EQ(sqlite3_step(q), SQLITE_DONE);

        /* The sender takes the oldest, with its body as the event left it, and the webhook's secret. */
        ASSERT_EQ(webhook_delivery_next(db, now_usec(), &d), 0);
        ASSERT_TRUE(d->webhook_id == acme_hook || d->webhook_id == admin_hook);
        ASSERT_EQ(d->attempts, 1);
        ASSERT_STREQ(d->secret, d->webhook_id == acme_hook ? s1 : s2);
        body = json_loads(d->payload, 0, NULL);
        ASSERT_TRUE(body);
        ASSERT_STREQ(json_string_value(json_object_get(body, "event")), "store.ready");
        ASSERT_STREQ(json_string_value(json_object_get(json_object_get(body, "store"), "name")), "shop");
        ASSERT_STREQ(json_string_value(json_object_get(json_object_get(body, "store"), "owner")), "acme");
}

/*
 * A database of the release before schedules (schema 8) with a store and a backup of it: the
 * store follows the platform's schedule (no interval of its own), the backup is not a scheduled
 * one (retention leaves it), and both read as before.
 */
TEST(test_upgrade_v8_backups_not_scheduled)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v8.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v1, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v2, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v3, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v4, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v5, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v6, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v7, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw, db_schema_v8, NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO accounts (id, name, role, created_at) VALUES (1, 'ops', 'admin', 1);"
                               "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq, "
                               "  account_id) VALUES ('00000000000000c1', 'kept', 'woocommerce', 'ops', "
                               "  'READY', 1000, 1000, 1, 1);"
                               "INSERT INTO backups (id, store_id, status, actor, created_at, finished_at, path, "
                               "  size_bytes, manifest) VALUES ('00000000000000d1', '00000000000000c1', "
                               "  'succeeded', 'ops', 2000, 3000, 'kept/x', 4096, '{}');"
                               "PRAGMA user_version = 8;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(db_prepare(db,
                             "SELECT s.backup_every IS NULL, b.scheduled, b.size_bytes, b.path FROM stores s "
                             "JOIN backups b ON b.store_id = s.id",
                             &q),
                  0);
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        ASSERT_EQ(sqlite3_column_int(q, 0), 1);
        ASSERT_EQ(sqlite3_column_int(q, 1), 0);
        ASSERT_EQ(sqlite3_column_int(q, 2), 4096);
        ASSERT_STREQ((const char *) sqlite3_column_text(q, 3), "kept/x");
}

/*
 * A database of the release before store settings (schema 9) with a store: it has no settings of
 * its own (the chart's defaults), reads as {} and takes settings after the migration.
 */
TEST(test_upgrade_v9_stores_without_settings)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v9.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(json_decrefp) json_t *settings = NULL;
        const char *const schemas[] = { db_schema_v1, db_schema_v2, db_schema_v3, db_schema_v4, db_schema_v5,
                                        db_schema_v6, db_schema_v7, db_schema_v8, db_schema_v9 };
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        for (size_t i = 0; i < ELEMENTSOF(schemas); i++)
                ASSERT_EQ(sqlite3_exec(raw, schemas[i], NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO accounts (id, name, role, created_at) VALUES (1, 'ops', 'admin', 1);"
                               "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq, "
                               "  account_id, backup_every) VALUES ('00000000000000c1', 'kept', 'woocommerce', "
                               "  'ops', 'READY', 1000, 1000, 1, 1, 3600);"
                               "PRAGMA user_version = 9;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(store_settings_of(db, "00000000000000c1", &settings), 0);
        ASSERT_EQ(json_object_size(settings), 0u);
        ASSERT_EQ(db_exec(db, "UPDATE stores SET settings = '{\"currency\":\"EUR\"}' WHERE backup_every = 3600"),
                  0);
        json_decref(TAKE_PTR(settings));
        ASSERT_EQ(store_settings_of(db, "00000000000000c1", &settings), 0);
        ASSERT_STREQ(json_string_value(json_object_get(settings, "currency")), "EUR");
}

/*
 * A database of the release before store domains (schema 10) with a store: it has no domains (its own
 * host is its URL's), and takes domains after the migration; deleting the store lets go of them.
 */
TEST(test_upgrade_v10_stores_without_domains)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v10.db");
        _cleanup_free_ char *primary = NULL;
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(json_decrefp) json_t *items = NULL;
        const char *const schemas[] = { db_schema_v1, db_schema_v2, db_schema_v3, db_schema_v4,
                                        db_schema_v5, db_schema_v6, db_schema_v7, db_schema_v8,
                                        db_schema_v9, db_schema_v10 };
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        for (size_t i = 0; i < ELEMENTSOF(schemas); i++)
                ASSERT_EQ(sqlite3_exec(raw, schemas[i], NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO accounts (id, name, role, created_at) "
                               "  VALUES (1, 'ops', 'admin', 1);"
                               "INSERT INTO stores (id, name, engine, owner, status, created_at, "
                               "  updated_at, seq, account_id, settings) VALUES ('00000000000000c1', "
                               "  'kept', 'woocommerce', 'ops', 'READY', 1000, 1000, 1, 1, "
                               "  '{\"currency\":\"EUR\"}');"
                               "PRAGMA user_version = 10;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(store_domains_of(db, "00000000000000c1", &items, &primary), 0);
        ASSERT_EQ(json_array_size(items), 0u);
        ASSERT_TRUE(!primary);
        ASSERT_EQ(db_exec(db, "INSERT INTO store_domains (domain, store_id, is_primary, created_at) VALUES "
                              "('kept.example.com', '00000000000000c1', 1, 2000)"),
                  0);
        /* One store per domain, one primary domain per store. */
        ASSERT_TRUE(db_exec(db, "INSERT INTO store_domains (domain, store_id, is_primary, created_at) "
                                "VALUES ('kept.example.com', '00000000000000c1', 0, 2000)") < 0);
        ASSERT_TRUE(db_exec(db, "INSERT INTO store_domains (domain, store_id, is_primary, created_at) "
                                "VALUES ('www.example.com', '00000000000000c1', 1, 2000)") < 0);
        json_decref(TAKE_PTR(items));
        ASSERT_EQ(store_domains_of(db, "00000000000000c1", &items, &primary), 0);
        ASSERT_EQ(json_array_size(items), 1u);
        ASSERT_STREQ(primary, "kept.example.com");
        ASSERT_EQ(db_exec(db, "UPDATE stores SET status = 'DELETED' WHERE id = '00000000000000c1'"), 0);
        json_decref(TAKE_PTR(items));
        free(TAKE_PTR(primary));
        ASSERT_EQ(store_domains_of(db, "00000000000000c1", &items, &primary), 0);
        ASSERT_EQ(json_array_size(items), 0u);
}

/* A v11 database gets the usage samples table, empty, and its stores can be sampled at once. */
TEST(test_upgrade_v11_usage_samples)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v11.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(json_decrefp) json_t *h = NULL;
        const char *const schemas[] = { db_schema_v1, db_schema_v2, db_schema_v3, db_schema_v4, db_schema_v5,
                                        db_schema_v6, db_schema_v7, db_schema_v8, db_schema_v9, db_schema_v10,
                                        db_schema_v11 };
        UsageSample s = { .at_usec = 5000000, .cpu_millicores = 10, .memory_bytes = 20,
                          .cpu_quota_millicores = -1, .memory_quota_bytes = -1,
                          .storage_requested_bytes = -1, .storage_quota_bytes = -1 };
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        for (size_t i = 0; i < ELEMENTSOF(schemas); i++)
                ASSERT_EQ(sqlite3_exec(raw, schemas[i], NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO accounts (id, name, role, created_at) VALUES (1, 'ops', 'admin', 1);"
                               "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq, "
                               "  account_id, settings) VALUES ('00000000000000c1', 'kept', 'woocommerce', "
                               "  'ops', 'READY', 1000, 1000, 1, 1, NULL);"
                               "PRAGMA user_version = 11;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(usage_history(db, "00000000000000c1", 0, 10, &h), 0);
        ASSERT_EQ(json_array_size(h), 0u);
        ASSERT_EQ(usage_record(db, "00000000000000c1", &s), 0);
        json_decref(TAKE_PTR(h));
        ASSERT_EQ(usage_history(db, "00000000000000c1", 0, 10, &h), 0);
        ASSERT_EQ(json_integer_value(json_object_get(json_array_get(h, 0), "memory_bytes")), 20);
        /* Samples of a store that does not exist are refused. */
        ASSERT_TRUE(usage_record(db, "nope", &s) < 0);
}

/*
 * A v12 database with a restore done before the column that marks safety backups: its safety
 * backup (found by the restore task's payload) reads as kind "safety" for the backup it guarded;
 * a backup taken by hand and a scheduled one read as before.
 */
TEST(test_upgrade_v12_safety_backups)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v12.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(json_decrefp) json_t *manual = NULL, *safety = NULL, *scheduled = NULL;
        const char *const schemas[] = { db_schema_v1, db_schema_v2, db_schema_v3, db_schema_v4, db_schema_v5,
                                        db_schema_v6, db_schema_v7, db_schema_v8, db_schema_v9, db_schema_v10,
                                        db_schema_v11, db_schema_v12 };
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        for (size_t i = 0; i < ELEMENTSOF(schemas); i++)
                ASSERT_EQ(sqlite3_exec(raw, schemas[i], NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO accounts (id, name, role, created_at) VALUES (1, 'ops', 'admin', 1);"
                               "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq, "
                               "  account_id) VALUES ('00000000000000c1', 'kept', 'woocommerce', 'ops', "
                               "  'READY', 1000, 1000, 1, 1);"
                               "INSERT INTO tasks (id, store_id, kind, payload, state, created_at, updated_at) "
                               "  VALUES (7, '00000000000000c1', 'restore', "
                               "  '{\"backup\":\"00000000000000d1\",\"safety\":\"00000000000000d2\"}', 'done', 1, 1);"
                               "INSERT INTO backups (id, store_id, task_id, status, actor, created_at, scheduled) "
                               "  VALUES ('00000000000000d1', '00000000000000c1', 5, 'succeeded', 'ops', 2000, 0),"
                               "  ('00000000000000d2', '00000000000000c1', 7, 'succeeded', 'ops', 3000, 0),"
                               "  ('00000000000000d3', '00000000000000c1', 8, 'succeeded', 'scheduler', 4000, 1);"
                               "PRAGMA user_version = 12;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(backup_get_row(db, "00000000000000d1", &manual), 0);
        ASSERT_EQ(backup_get_row(db, "00000000000000d2", &safety), 0);
        ASSERT_EQ(backup_get_row(db, "00000000000000d3", &scheduled), 0);
        ASSERT_STREQ(json_string_value(json_object_get(manual, "kind")), "manual");
        ASSERT_TRUE(json_is_null(json_object_get(manual, "safety_for")));
        ASSERT_STREQ(json_string_value(json_object_get(safety, "kind")), "safety");
        ASSERT_STREQ(json_string_value(json_object_get(safety, "safety_for")), "00000000000000d1");
        ASSERT_STREQ(json_string_value(json_object_get(scheduled, "kind")), "scheduled");
        ASSERT_TRUE(json_is_null(json_object_get(scheduled, "safety_for")));
}

/* A v13 database's backups get no copy state ("remote": "none"), and can be given one. */
TEST(test_upgrade_v13_backup_remote)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "v13.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(json_decrefp) json_t *row = NULL;
        const char *const schemas[] = { db_schema_v1, db_schema_v2, db_schema_v3, db_schema_v4, db_schema_v5,
                                        db_schema_v6, db_schema_v7, db_schema_v8, db_schema_v9, db_schema_v10,
                                        db_schema_v11, db_schema_v12, db_schema_v13 };
        sqlite3 *raw = NULL;

        ASSERT_EQ(sqlite3_open(path, &raw), SQLITE_OK);
        for (size_t i = 0; i < ELEMENTSOF(schemas); i++)
                ASSERT_EQ(sqlite3_exec(raw, schemas[i], NULL, NULL, NULL), SQLITE_OK);
        ASSERT_EQ(sqlite3_exec(raw,
                               "INSERT INTO accounts (id, name, role, created_at) VALUES (1, 'ops', 'admin', 1);"
                               "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq, "
                               "  account_id, settings) VALUES ('00000000000000c1', 'kept', 'woocommerce', "
                               "  'ops', 'READY', 1000, 1000, 1, 1, NULL);"
                               "INSERT INTO backups (id, store_id, status, actor, created_at, path, size_bytes) "
                               "  VALUES ('00000000000000b1', '00000000000000c1', 'succeeded', 'ops', 1000, "
                               "  'kept/20261201T000000Z-00000000000000b1', 10);"
                               "PRAGMA user_version = 13;",
                               NULL, NULL, NULL),
                  SQLITE_OK);
        sqlite3_close(raw);

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_schema_version(db), DB_SCHEMA_VERSION);
        ASSERT_EQ(backup_get_row(db, "00000000000000b1", &row), 0);
        ASSERT_STREQ(json_string_value(json_object_get(row, "remote")), "none");
        ASSERT_TRUE(json_is_null(json_object_get(row, "remote_key")));
        ASSERT_EQ(backup_set_remote(db, "00000000000000b1", "p/kept/x", "HTTP 403 AccessDenied"), 0);
        json_decref(TAKE_PTR(row));
        ASSERT_EQ(backup_get_row(db, "00000000000000b1", &row), 0);
        ASSERT_STREQ(json_string_value(json_object_get(row, "remote")), "failed");
        ASSERT_STREQ(json_string_value(json_object_get(row, "remote_reason")), "HTTP 403 AccessDenied");
        ASSERT_EQ(backup_set_remote(db, "00000000000000b1", "p/kept/x", NULL), 0);
        json_decref(TAKE_PTR(row));
        ASSERT_EQ(backup_get_row(db, "00000000000000b1", &row), 0);
        ASSERT_STREQ(json_string_value(json_object_get(row, "remote")), "copied");
        ASSERT_TRUE(json_is_null(json_object_get(row, "remote_reason")));
        ASSERT_STREQ(json_string_value(json_object_get(row, "remote_key")), "p/kept/x");
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
