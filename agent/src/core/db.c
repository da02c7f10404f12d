/* SPDX-License-Identifier: Apache-2.0 */

/*
 * This file is long because the text of every schema version stays here as it shipped, next to
 * the code that applies it (tests/api/schema_history.py reads each version's text from here).
 */

#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/db-internal.h"
#include "core/db.h"

/* How long a connection waits for another's write lock; one setting for every thread's connection. */
static atomic_uint busy_timeout_ms = DB_BUSY_TIMEOUT_MS_DEFAULT;

void db_set_busy_timeout(unsigned ms)
{
        atomic_store(&busy_timeout_ms, ms);
}

const char db_schema_v1[] =
        "CREATE TABLE stores ("
        "  id TEXT PRIMARY KEY,"
        "  name TEXT NOT NULL,"
        "  engine TEXT NOT NULL,"
        "  owner TEXT NOT NULL,"
        "  status TEXT NOT NULL,"
        "  status_reason TEXT,"
        "  url TEXT,"
        "  chart_version TEXT,"
        "  helm_revision INTEGER,"
        "  created_at INTEGER NOT NULL,"
        "  updated_at INTEGER NOT NULL,"
        "  deleted_at INTEGER"
        ");"
        "CREATE UNIQUE INDEX stores_active_name ON stores(name) WHERE deleted_at IS NULL;"
        "CREATE INDEX stores_status ON stores(status);"
        "CREATE TABLE tasks ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  store_id TEXT NOT NULL REFERENCES stores(id),"
        "  kind TEXT NOT NULL,"
        "  payload TEXT,"
        "  state TEXT NOT NULL DEFAULT 'queued',"
        "  attempts INTEGER NOT NULL DEFAULT 0,"
        "  lease_owner TEXT,"
        "  lease_expires_at INTEGER,"
        "  not_before INTEGER NOT NULL DEFAULT 0,"
        "  last_error TEXT,"
        "  created_at INTEGER NOT NULL,"
        "  updated_at INTEGER NOT NULL,"
        "  started_at INTEGER,"
        "  finished_at INTEGER"
        ");"
        "CREATE INDEX tasks_state ON tasks(state, not_before);"
        "CREATE INDEX tasks_store ON tasks(store_id, state);"
        "CREATE TABLE events ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  store_id TEXT NOT NULL REFERENCES stores(id),"
        "  time INTEGER NOT NULL,"
        "  actor TEXT NOT NULL,"
        "  action TEXT NOT NULL,"
        "  detail TEXT"
        ");"
        "CREATE INDEX events_store ON events(store_id, id);"
        "CREATE TABLE api_tokens ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  name TEXT NOT NULL UNIQUE,"
        "  hash TEXT NOT NULL UNIQUE,"
        "  created_at INTEGER NOT NULL,"
        "  last_used_at INTEGER,"
        "  revoked_at INTEGER"
        ");";

/* Version 2: progress shown while a task works, a change sequence for live views, idempotency keys. */
const char db_schema_v2[] =
        "ALTER TABLE stores ADD COLUMN step TEXT;"
        "ALTER TABLE stores ADD COLUMN progress_current INTEGER;"
        "ALTER TABLE stores ADD COLUMN progress_total INTEGER;"
        "ALTER TABLE stores ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;"
        "UPDATE stores SET seq = rowid;"
        "CREATE INDEX stores_seq ON stores(seq);"
        "CREATE TABLE idempotency_keys ("
        "  key TEXT NOT NULL,"
        "  actor TEXT NOT NULL,"
        "  request_hash TEXT NOT NULL,"
        "  store_id TEXT NOT NULL REFERENCES stores(id),"
        "  created_at INTEGER NOT NULL,"
        "  PRIMARY KEY (key, actor)"
        ");";

/* Version 3: dashboard sessions bound to a token; tasks record the actor. */
const char db_schema_v3[] =
        "CREATE TABLE sessions ("
        "  hash TEXT PRIMARY KEY,"
        "  token_id INTEGER NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,"
        "  csrf TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  expires_at INTEGER NOT NULL"
        ");"
        "ALTER TABLE tasks ADD COLUMN actor TEXT NOT NULL DEFAULT 'system';";

/*
 * Version 4: accounts own stores and tokens; the platform's audit log. Every token that
 * existed becomes the token of an admin account of the same name (token names were unique),
 * and every store belongs to the account named by its owner (made as an admin account when
 * no token had that name: a D-Bus caller's user name). Token names are unique per account
 * now, which needs a new table; sessions point at it, so they are dropped (a signed-in
 * dashboard signs in again once).
 */
const char db_schema_v4[] =
        "CREATE TABLE accounts ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  name TEXT NOT NULL UNIQUE,"
        "  role TEXT NOT NULL CHECK (role IN ('admin', 'tenant')),"
        "  max_stores INTEGER,"
        "  creates_per_hour INTEGER,"
        "  created_at INTEGER NOT NULL,"
        "  disabled_at INTEGER"
        ");"
        "CREATE TABLE tokens ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
        "  name TEXT NOT NULL,"
        "  hash TEXT NOT NULL UNIQUE,"
        "  created_at INTEGER NOT NULL,"
        "  expires_at INTEGER,"
        "  last_used_at INTEGER,"
        "  revoked_at INTEGER,"
        "  UNIQUE (account_id, name)"
        ");"
        "INSERT INTO accounts (name, role, created_at) SELECT name, 'admin', created_at FROM api_tokens;"
        "INSERT OR IGNORE INTO accounts (name, role, created_at) "
        "  SELECT owner, 'admin', min(created_at) FROM stores GROUP BY owner;"
        "INSERT INTO tokens (id, account_id, name, hash, created_at, last_used_at, revoked_at) "
        "  SELECT t.id, a.id, t.name, t.hash, t.created_at, t.last_used_at, t.revoked_at "
        "  FROM api_tokens t JOIN accounts a ON a.name = t.name;"
        "DROP TABLE sessions;"
        "DROP TABLE api_tokens;"
        "CREATE TABLE sessions ("
        "  hash TEXT PRIMARY KEY,"
        "  token_id INTEGER NOT NULL REFERENCES tokens(id) ON DELETE CASCADE,"
        "  csrf TEXT NOT NULL,"
        "  created_at INTEGER NOT NULL,"
        "  expires_at INTEGER NOT NULL"
        ");"
        "ALTER TABLE stores ADD COLUMN account_id INTEGER REFERENCES accounts(id);"
        "UPDATE stores SET account_id = (SELECT id FROM accounts a WHERE a.name = stores.owner);"
        "CREATE INDEX stores_account ON stores(account_id, status);"
        "CREATE TABLE audit ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  time INTEGER NOT NULL,"
        "  actor TEXT NOT NULL,"
        "  account_id INTEGER,"
        "  token_name TEXT,"
        "  action TEXT NOT NULL,"
        "  target_kind TEXT,"
        "  target TEXT,"
        "  store_id TEXT,"
        "  result TEXT NOT NULL CHECK (result IN ('ok', 'denied', 'failed')),"
        "  error TEXT,"
        "  source TEXT,"
        "  request_id TEXT"
        ");"
        "CREATE INDEX audit_time ON audit(time);"
        "CREATE INDEX audit_account ON audit(account_id, id);";

/*
 * Version 5: a store's Helm release history as the agent last read it, when a task on the store
 * ended (a JSON array; NULL: never read). GET /stores/{id}/releases answers from it, so reading
 * the history never starts helm.
 */
const char db_schema_v5[] = "ALTER TABLE stores ADD COLUMN releases TEXT;";

/*
 * Version 6: fencing and orphaned helm children. Every lease gets a new token, and a worker's
 * writes compare it, so a worker whose lease ran out and was handed on cannot act as the owner
 * even when the new lease went to a worker of the same name. The helm child a task runs is
 * recorded (pid and start time, the pair that names a process for good) so that the next start
 * can find one that outlived a killed daemon.
 */
const char db_schema_v6[] =
        "ALTER TABLE tasks ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;"
        "ALTER TABLE tasks ADD COLUMN child_pid INTEGER;"
        "ALTER TABLE tasks ADD COLUMN child_start INTEGER;";

/*
 * Backups of stores: one row per backup asked for, from queued to succeeded or failed. The files
 * are under the state directory (path, relative to its backups/); a failed backup keeps no files,
 * only its reason.
 */
const char db_schema_v7[] =
        "CREATE TABLE backups ("
        " id TEXT PRIMARY KEY,"
        " store_id TEXT NOT NULL REFERENCES stores(id),"
        " task_id INTEGER,"
        " status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),"
        " actor TEXT NOT NULL,"
        " created_at INTEGER NOT NULL,"
        " finished_at INTEGER,"
        " path TEXT,"
        " size_bytes INTEGER NOT NULL DEFAULT 0,"
        " manifest TEXT,"
        " reason TEXT);"
        "CREATE INDEX backups_store ON backups(store_id, created_at DESC, id DESC);";

/*
 * Version 8: webhooks. An account's webhooks, and their deliveries: a durable queue of its own that
 * the webhook sender drains (state, attempts, the time of the next attempt, the last response).
 * Store and backup events enqueue their deliveries by trigger, in the same transaction that
 * changes the store or the backup, so no path that changes a status can forget to, and no event
 * is lost to a crash between the change and the enqueue. The body is taken at that moment. A
 * store's events go to its account's webhooks and to admins' webhooks that take every store's.
 */
#define WEBHOOK_EVENT_ROWS(event, store_id, account_id, body)                                                \
        "  INSERT INTO webhook_deliveries (webhook_id, event, store_id, payload, created_at, updated_at)"  \
        "  SELECT w.id, " event ", " store_id ", " body ", " WEBHOOK_NOW ", " WEBHOOK_NOW                       \
        "  FROM webhooks w JOIN accounts a ON a.id = w.account_id"                                         \
        "  WHERE w.deleted_at IS NULL AND w.enabled AND a.disabled_at IS NULL"                              \
        "    AND (w.account_id = " account_id " OR (w.all_stores AND a.role = 'admin'))"                   \
        "    AND EXISTS (SELECT 1 FROM json_each(w.events) WHERE value = " event ");"
/* Microseconds since the epoch, as the daemon writes times. */
#define WEBHOOK_NOW "CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)"
#define WEBHOOK_TIME "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"

const char db_schema_v8[] =
        "CREATE TABLE webhooks ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " account_id INTEGER NOT NULL REFERENCES accounts(id),"
        " url TEXT NOT NULL,"
        " secret TEXT NOT NULL,"
        " events TEXT NOT NULL," /* a JSON array of event names */
        " all_stores INTEGER NOT NULL DEFAULT 0,"
        " enabled INTEGER NOT NULL DEFAULT 1,"
        " created_at INTEGER NOT NULL,"
        " deleted_at INTEGER);"
        "CREATE INDEX webhooks_account ON webhooks(account_id) WHERE deleted_at IS NULL;"
        "CREATE TABLE webhook_deliveries ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " webhook_id INTEGER NOT NULL REFERENCES webhooks(id),"
        " event TEXT NOT NULL,"
        " store_id TEXT,"
        " payload TEXT NOT NULL,"
        " state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sending', 'delivered', 'failed')),"
        " attempts INTEGER NOT NULL DEFAULT 0,"
        " not_before INTEGER NOT NULL DEFAULT 0,"
        " response_code INTEGER,"
        " last_error TEXT,"
        " created_at INTEGER NOT NULL,"
        " updated_at INTEGER NOT NULL);"
        "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(state, not_before);"
        "CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id DESC);"
        "CREATE TRIGGER webhook_store_event AFTER UPDATE OF status ON stores"
        "  WHEN old.status IS NOT new.status AND new.status IN ('READY', 'FAILED', 'DELETED') BEGIN"
        WEBHOOK_EVENT_ROWS("'store.' || lower(new.status)", "new.id", "new.account_id",
                           "json_object('event', 'store.' || lower(new.status), 'time', " WEBHOOK_TIME ","
                           " 'store', json_object('id', new.id, 'name', new.name, 'owner', new.owner,"
                           " 'status', new.status, 'reason', new.status_reason, 'url', new.url))")
        " END;"
        "CREATE TRIGGER webhook_backup_event AFTER UPDATE OF status ON backups"
        "  WHEN old.status IS NOT new.status AND new.status IN ('succeeded', 'failed') BEGIN"
        WEBHOOK_EVENT_ROWS("'backup.' || new.status", "new.store_id",
                           "(SELECT account_id FROM stores WHERE id = new.store_id)",
                           "json_object('event', 'backup.' || new.status, 'time', " WEBHOOK_TIME ","
                           " 'store', json((SELECT json_object('id', s.id, 'name', s.name, 'owner', s.owner,"
                           " 'status', s.status) FROM stores s WHERE s.id = new.store_id)),"
                           " 'backup', json_object('id', new.id, 'status', new.status, 'size_bytes', new.size_bytes,"
                           " 'reason', new.reason))")
        " END;";

/*
 * Version 9: backup schedules. A store's own interval between scheduled backups (NULL: the
 * platform's backups.schedule; 0: none), and which backups the scheduler took: retention prunes
 * those, and leaves the ones a person asked for (and the safety backups of restores) alone.
 */
const char db_schema_v9[] =
        "ALTER TABLE stores ADD COLUMN backup_every INTEGER;"
        "ALTER TABLE backups ADD COLUMN scheduled INTEGER NOT NULL DEFAULT 0;"
        "CREATE INDEX backups_status ON backups(status, store_id);";

/*
 * Version 10: a store's own settings (title, currency, country, administrator e-mail), a JSON
 * object; NULL: the chart's defaults.
 */
const char db_schema_v10[] = "ALTER TABLE stores ADD COLUMN settings TEXT;";

/*
 * Version 11: a store's own domains, extra hosts of its Ingress. A domain belongs to one store at a
 * time (the primary key); at most one of a store's domains is its primary one, the host its URLs use
 * (none: <name>.<base_domain>). A deleted store lets go of its domains.
 */
const char db_schema_v11[] =
        "CREATE TABLE store_domains ("
        " domain TEXT PRIMARY KEY,"
        " store_id TEXT NOT NULL REFERENCES stores(id),"
        " is_primary INTEGER NOT NULL DEFAULT 0,"
        " created_at INTEGER NOT NULL);"
        "CREATE INDEX store_domains_store ON store_domains(store_id);"
        "CREATE UNIQUE INDEX store_domains_primary ON store_domains(store_id) WHERE is_primary;"
        "CREATE TRIGGER store_domains_released AFTER UPDATE OF status ON stores"
        "  WHEN new.status = 'DELETED' BEGIN"
        "  DELETE FROM store_domains WHERE store_id = new.id;"
        " END;";

/*
 * Version 12: samples of a store's resource use (core/usage.c), one row per store and time; an
 * amount is NULL when it was not known (no metrics API, no quota on it). Pruned by age and count.
 */
const char db_schema_v12[] =
        "CREATE TABLE store_usage ("
        " store_id TEXT NOT NULL REFERENCES stores(id),"
        " at INTEGER NOT NULL,"
        " cpu_millicores INTEGER,"
        " memory_bytes INTEGER,"
        " cpu_quota_millicores INTEGER,"
        " memory_quota_bytes INTEGER,"
        " storage_requested_bytes INTEGER,"
        " storage_quota_bytes INTEGER,"
        " pods TEXT,"
        " UNIQUE (store_id, at));"
        "CREATE INDEX store_usage_at ON store_usage(at);";

/*
 * Version 13: which backups are the safety backups of restores, by the id of the backup whose
 * restore each was taken for (NULL: not a safety backup). Those taken before the column are found
 * by their restore task, whose payload names both.
 */
const char db_schema_v13[] =
        "ALTER TABLE backups ADD COLUMN safety_for TEXT;"
        "UPDATE backups SET safety_for = (SELECT json_extract(t.payload, '$.backup') FROM tasks t"
        "  WHERE t.id = backups.task_id AND t.kind = 'restore' AND json_extract(t.payload, '$.safety') = backups.id);";

/*
 * Version 14: where a backup's copy off the host is (core/backup.c, provision/backup-copy.c): NULL
 * when there is none, "copied" or "failed" with the reason, and the object key prefix it went to.
 */
const char db_schema_v14[] =
        "ALTER TABLE backups ADD COLUMN remote TEXT;"
        "ALTER TABLE backups ADD COLUMN remote_reason TEXT;"
        "ALTER TABLE backups ADD COLUMN remote_key TEXT;";

/*
 * Version 15: every change of a store's status, written by triggers at the time the stores row
 * says it happened (created_at for a new store, updated_at for a change), so that the platform
 * page can count the stores of each status at any time since (core/store-stats.c). Pruned by age
 * and count.
 */
const char db_schema_v15[] =
        "CREATE TABLE store_transitions ("
        " at INTEGER NOT NULL,"
        " store_id TEXT NOT NULL,"
        " old_status TEXT,"
        " new_status TEXT NOT NULL);"
        "CREATE INDEX store_transitions_at ON store_transitions(at);"
        "CREATE TRIGGER store_transitions_insert AFTER INSERT ON stores BEGIN"
        "  INSERT INTO store_transitions VALUES (new.created_at, new.id, NULL, new.status);"
        " END;"
        "CREATE TRIGGER store_transitions_update AFTER UPDATE OF status ON stores"
        "  WHEN old.status IS NOT new.status BEGIN"
        "  INSERT INTO store_transitions VALUES (new.updated_at, new.id, old.status, new.status);"
        " END;";

static const char *const migrations[DB_SCHEMA_VERSION] = {
        db_schema_v1,
        db_schema_v2,
        db_schema_v3,
        db_schema_v4,
        db_schema_v5,
        db_schema_v6,
        db_schema_v7,
        db_schema_v8,
        db_schema_v9,
        db_schema_v10,
        db_schema_v11,
        db_schema_v12,
        db_schema_v13,
        db_schema_v14,
        db_schema_v15,
};

/*
 * What the store list needs to cost the same at any size: an index for each filter in the list's
 * order (newest first), and a count per account and status kept by triggers, so a page and its
 * total read a few dozen rows whatever the table holds. Not a schema version: every statement is
 * idempotent and is applied at open after the migrations, so a later migration (one that rebuilds
 * the stores table, say) and this step do not have to know about each other; the triggers missing
 * is the sign that the counts must be taken again.
 */
static const char db_list_indexes[] =
        /* The default list (everything but DELETED): an admin's, and a tenant's or an owner's. */
        "CREATE INDEX IF NOT EXISTS stores_list ON stores(created_at, id) WHERE status <> 'DELETED';"
        "CREATE INDEX IF NOT EXISTS stores_list_account ON stores(account_id, created_at, id) "
        "  WHERE status <> 'DELETED';"
        /* One status: an admin's, and a tenant's or an owner's. */
        "CREATE INDEX IF NOT EXISTS stores_list_status ON stores(status, created_at, id);"
        "CREATE INDEX IF NOT EXISTS stores_list_account_status ON stores(account_id, status, created_at, id);";

static const char db_list_counts[] =
        "CREATE TABLE IF NOT EXISTS store_counts ("
        "  account_id INTEGER NOT NULL," /* 0: the stores of no account */
        "  status TEXT NOT NULL,"
        "  n INTEGER NOT NULL,"
        "  PRIMARY KEY (account_id, status)"
        ") WITHOUT ROWID;"
        "DELETE FROM store_counts;"
        "INSERT INTO store_counts SELECT coalesce(account_id, 0), status, count(*) FROM stores GROUP BY 1, 2;"
        "CREATE TRIGGER IF NOT EXISTS store_counts_insert AFTER INSERT ON stores BEGIN"
        "  INSERT INTO store_counts VALUES (coalesce(new.account_id, 0), new.status, 1)"
        "    ON CONFLICT DO UPDATE SET n = n + 1;"
        " END;"
        "CREATE TRIGGER IF NOT EXISTS store_counts_update AFTER UPDATE OF status, account_id ON stores"
        "  WHEN old.status IS NOT new.status OR old.account_id IS NOT new.account_id BEGIN"
        "  UPDATE store_counts SET n = n - 1 WHERE account_id = coalesce(old.account_id, 0) AND status = old.status;"
        "  INSERT INTO store_counts VALUES (coalesce(new.account_id, 0), new.status, 1)"
        "    ON CONFLICT DO UPDATE SET n = n + 1;"
        " END;"
        "CREATE TRIGGER IF NOT EXISTS store_counts_delete AFTER DELETE ON stores BEGIN"
        "  UPDATE store_counts SET n = n - 1 WHERE account_id = coalesce(old.account_id, 0) AND status = old.status;"
        " END;";

#define DB_LIST_OBJECTS                                                                                      \
        "SELECT count(*) FROM sqlite_master WHERE name IN ('stores_list', 'stores_list_account', "        \
        "'stores_list_status', 'stores_list_account_status', 'store_counts', 'store_counts_insert', "     \
        "'store_counts_update', 'store_counts_delete')"
#define DB_LIST_OBJECTS_N 8
#define DB_LIST_TRIGGERS                                                                                     \
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('store_counts_insert', "  \
        "'store_counts_update', 'store_counts_delete')"

static int db_count(Db *db, const char *sql)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        r = db_prepare(db, sql, &s);
        if (r < 0)
                return r;
        if (sqlite3_step(s) != SQLITE_ROW)
                return db_errno(sqlite3_errcode(db->handle));
        return sqlite3_column_int(s, 0);
}

static int db_ensure_list_support(Db *db)
{
        int n, r;

        /* As for the migrations: a file that has it all needs no write lock. */
        n = db_count(db, DB_LIST_OBJECTS);
        if (n < 0)
                return n;
        if (n == DB_LIST_OBJECTS_N)
                return 0;

        r = db_begin(db);
        if (r < 0)
                return r;
        r = db_exec(db, db_list_indexes);
        if (r >= 0) {
                n = db_count(db, DB_LIST_TRIGGERS);
                r = n < 0 ? n : n == 3 ? 0 : db_exec(db, db_list_counts);
        }
        if (r < 0) {
                db_rollback(db);
                return log_error_errno(r, "Failed to add the store list's indexes and counts to '%s': %s", db->path,
                                       sqlite3_errmsg(db->handle));
        }
        return db_commit(db);
}

int db_errno(int rc)
{
        /* Uniqueness is the only constraint callers branch on; other violations are bugs or bad input. */
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                return -EEXIST;
        switch (rc & 0xff) {
        case SQLITE_OK:
        case SQLITE_ROW:
        case SQLITE_DONE:
                return 0;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EAGAIN; /* the busy timeout ran out: retryable, not "another operation" */
        case SQLITE_CONSTRAINT:
                return -EINVAL;
        case SQLITE_READONLY:
                return -EROFS;
        case SQLITE_PERM:
        case SQLITE_AUTH:
                return -EACCES;
        case SQLITE_CANTOPEN:
                return -ENOENT;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
                return -EBADMSG;
        default:
                return -EIO;
        }
}

sqlite3 *db_handle(Db *db)
{
        assert(db);
        return db->handle;
}

const char *db_path(Db *db)
{
        assert(db);
        return db->path;
}

/*
 * Like db_errno(), but a write that failed in the file system (SQLITE_IOERR) says why when the
 * kernel's answer means something to the caller: a file system gone read-only, or full.
 */
static int db_handle_errno(Db *db, int rc)
{
        if ((rc & 0xff) == SQLITE_IOERR)
                switch (sqlite3_system_errno(db->handle)) {
                case EROFS:
                        return -EROFS;
                case ENOSPC:
                case EDQUOT:
                        return -ENOSPC;
                }
        return db_errno(rc);
}

int db_exec(Db *db, const char *sql)
{
        assert(db);
        assert(sql);

        char *err = NULL;
        int rc = sqlite3_exec(db->handle, sql, NULL, NULL, &err);

        if (rc != SQLITE_OK) {
                log_debug("SQL failed: %s", strna(err));
                sqlite3_free(err);
                return db_handle_errno(db, rc);
        }
        return 0;
}

int db_begin(Db *db)
{
        assert(db);
        return db_exec(db, "BEGIN IMMEDIATE");
}

int db_commit(Db *db)
{
        assert(db);
        return db_exec(db, "COMMIT");
}

void db_rollback(Db *db)
{
        assert(db);
        if (!sqlite3_get_autocommit(db->handle))
                (void) db_exec(db, "ROLLBACK");
}

char *db_column_strdup(sqlite3_stmt *s, int col)
{
        assert(s);

        const unsigned char *t = sqlite3_column_text(s, col);
        return t ? strdup((const char *) t) : NULL;
}

char *db_column_strdup_utf8(sqlite3_stmt *s, int col)
{
        const char *t;

        assert(s);
        t = (const char *) sqlite3_column_text(s, col);
        if (!t)
                return NULL;
        return utf8_is_valid(t) ? strdup(t) : utf8_escape_invalid(t);
}

json_t *db_column_json_string(sqlite3_stmt *s, int col)
{
        _cleanup_free_ char *t = NULL;

        assert(s);
        if (sqlite3_column_type(s, col) == SQLITE_NULL)
                return json_null();
        t = db_column_strdup_utf8(s, col);
        return t ? json_string(t) : NULL;
}

json_t *db_column_json_time(sqlite3_stmt *s, int col)
{
        char buf[32];

        assert(s);
        if (sqlite3_column_type(s, col) == SQLITE_NULL)
                return json_null();
        return json_string(format_timestamp(buf, (uint64_t) sqlite3_column_int64(s, col), false));
}

int db_bind_text_utf8(sqlite3_stmt *s, int i, const char *text, size_t max)
{
        char *t;
        int rc;

        assert(s);
        if (!text)
                return 0; /* a parameter never bound is NULL */
        t = utf8_strndup_valid(text, max);
        if (!t)
                return -ENOMEM;
        /* SQLite frees t, also when binding fails. */
        rc = sqlite3_bind_text(s, i, t, -1, free);
        return rc == SQLITE_OK ? 0 : rc == SQLITE_NOMEM ? -ENOMEM : -EINVAL;
}

int db_schema_version(Db *db)
{
        assert(db);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        r = db_prepare(db, "PRAGMA user_version", &s);
        if (r < 0)
                return r;
        if (sqlite3_step(s) != SQLITE_ROW)
                return -EIO;
        return sqlite3_column_int(s, 0);
}

static int db_migrate(Db *db)
{
        int version, r;

        /* The common case, an up-to-date file, needs no write lock. */
        version = db_schema_version(db);
        if (version == DB_SCHEMA_VERSION)
                return 0;

        r = db_begin(db);
        if (r < 0)
                return r;
        version = db_schema_version(db);
        if (version < 0) {
                db_rollback(db);
                return version;
        }
        if (version > DB_SCHEMA_VERSION) {
                db_rollback(db);
                log_error("Database '%s' has schema version %d, newer than this daemon understands (%d).",
                          db->path, version, DB_SCHEMA_VERSION);
                return -EPROTONOSUPPORT;
        }
        for (int v = version; v < DB_SCHEMA_VERSION; v++) {
                char pragma[64];

                r = db_exec(db, migrations[v]);
                if (r < 0) {
                        db_rollback(db);
                        return log_error_errno(r, "Failed to migrate database '%s' to schema version %d: %s",
                                               db->path, v + 1, sqlite3_errmsg(db->handle));
                }
                snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", v + 1);
                r = db_exec(db, pragma);
                if (r < 0) {
                        db_rollback(db);
                        return r;
                }
        }
        r = db_commit(db);
        if (r < 0)
                return r;
        if (version < DB_SCHEMA_VERSION)
                log_info("Database '%s' migrated from schema version %d to %d.", db->path, version,
                         DB_SCHEMA_VERSION);
        return 0;
}

int db_check(const char *path, char **ret_problem)
{
        assert(path);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        sqlite3 *handle = NULL;
        struct stat st;
        const char *first;
        int rc, r = 0;

        /* Nothing there yet: db_open() makes a new database. */
        if (stat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (st.st_size == 0)
                return 0;

        /* Read-only, so that a file this refuses is left exactly as it was found. */
        rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
        if (rc == SQLITE_OK)
                /* quick_check reads every page once (not the indexes against the tables): O(file). */
                rc = sqlite3_prepare_v2(handle, "PRAGMA quick_check(1)", -1, &s, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
                first = (const char *) sqlite3_column_text(s, 0);
                if (!first || !streq(first, "ok")) {
                        r = -EBADMSG;
                        if (ret_problem)
                                *ret_problem = strdup(strna(first));
                }
        } else {
                r = db_errno(rc);
                if (ret_problem && handle)
                        *ret_problem = strdup(sqlite3_errmsg(handle));
        }
        sqlite3_finalize(TAKE_PTR(s));
        sqlite3_close_v2(handle);
        return r;
}

const char *db_strerror(int r)
{
        switch (r) {
        case -EBADMSG:
                return "the file is damaged or is not an SQLite database";
        case -EROFS:
                return "the file, its directory or its file system is read-only (the daemon writes the database, "
                       "its -wal and -shm files and its .lock file next to it)";
        case -EACCES:
                return "permission denied (the daemon must be able to read and write the file and create files in "
                       "its directory)";
        case -ENOSPC:
                return "no space left on its file system";
        case -EPROTONOSUPPORT:
                return "its schema is newer than this daemon understands";
        default:
                return NULL;
        }
}

Db *db_close(Db *db)
{
        if (!db)
                return NULL;
        if (db->handle)
                db_unregister(db);
        for (unsigned i = 0; i < db->n_cache; i++) {
                /* A statement still handed out at close is a caller's bug; close_v2 then waits for it. */
                if (!db->cache[i].busy)
                        sqlite3_finalize(db->cache[i].stmt);
                free(db->cache[i].sql);
        }
        sqlite3_close_v2(db->handle);
        free(db->path);
        free(db);
        return NULL;
}

/*
 * SQLite counts every allocation under one process-wide mutex unless told not to; with a
 * connection per HTTP thread that mutex is where concurrent requests queue (perf showed it
 * as the daemon's largest source of futex wake-ups). Nothing reads the counters.
 */
static void db_configure_once(void)
{
        (void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int db_open(const char *path, Db **ret)
{
        static pthread_once_t once = PTHREAD_ONCE_INIT;

        assert(path);
        assert(ret);

        _cleanup_(db_closep) Db *db = NULL;
        int rc, r;

        (void) pthread_once(&once, db_configure_once);

        db = calloc(1, sizeof *db);
        if (!db)
                return -ENOMEM;
        db->path = strdup(path);
        if (!db->path)
                return -ENOMEM;

        rc = sqlite3_open_v2(path, &db->handle,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                     SQLITE_OPEN_EXRESCODE,
                             NULL);
        if (rc != SQLITE_OK)
                return db_errno(rc);
        /* SQLite falls back to reading when it may not write; the daemon must write, so that is an error. */
        if (sqlite3_db_readonly(db->handle, "main") > 0)
                return -EROFS;

        db_register(db);
        sqlite3_busy_timeout(db->handle, (int) atomic_load(&busy_timeout_ms));
        sqlite3_extended_result_codes(db->handle, 1);

        r = db_exec(db, "PRAGMA journal_mode = WAL");
        if (r < 0)
                return r;
        /*
         * FULL: every commit is on the disk before the client hears 202. With NORMAL a WAL commit waits
         * for the next checkpoint, and a file system that fails (remounted read-only on a disk error)
         * or a power cut took accepted requests with it (test_database.py shows both behaviours).
         */
        r = db_exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;");
        if (r < 0)
                return r;

        r = db_migrate(db);
        if (r < 0)
                return r;
        r = db_ensure_list_support(db);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(db);
        return 0;
}
