/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The backups table: the request (one transaction with its task, timeline event and audit
 * record), the reads the API serves, and the writes of the task that takes the backup.
 */

#include <dirent.h>
#include <fcntl.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/backup.h"
#include "core/queue.h"
#include "core/operation.h"
#include "core/store-internal.h"

#define BACKUP_COLUMNS                                                                                  \
        "id, store_id, status, actor, created_at, finished_at, path, size_bytes, manifest, reason, "   \
        "scheduled, safety_for, remote, remote_reason, remote_key"
#define BACKUP_REASON_MAX 1024

static BackupRemovedFunc removed_hook;
static void *removed_hook_userdata;

void backup_set_removed_hook(BackupRemovedFunc fn, void *userdata)
{
        removed_hook = fn;
        removed_hook_userdata = userdata;
}

/* After a backup's row is gone (outside any transaction): whoever keeps copies of it removes them. */
static void backup_removed_notify(json_t *row)
{
        if (removed_hook && row)
                removed_hook(row, removed_hook_userdata);
}

static json_t *row_to_json(sqlite3_stmt *q)
{
        _cleanup_free_ char *manifest = db_column_strdup(q, 8);
        json_t *m = manifest ? json_loads(manifest, 0, NULL) : NULL;
        bool scheduled = sqlite3_column_int(q, 10) != 0, safety = sqlite3_column_type(q, 11) != SQLITE_NULL;

        const char *remote = (const char *) sqlite3_column_text(q, 12);

        /* kind: who wanted it: a person (manual), the schedule, or a restore as its way back (safety). */
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:b, s:s, s:o, s:s, s:o, s:o}", "id",
                         db_column_json_string(q, 0),
                         "store_id", db_column_json_string(q, 1), "status", db_column_json_string(q, 2), "actor",
                         db_column_json_string(q, 3), "created_at", db_column_json_time(q, 4), "finished_at",
                         db_column_json_time(q, 5), "path", db_column_json_string(q, 6), "size_bytes",
                         (json_int_t) sqlite3_column_int64(q, 7), "manifest", m ?: json_null(), "reason",
                         db_column_json_string(q, 9), "scheduled", scheduled, "kind",
                         safety ? "safety" : scheduled ? "scheduled" : "manual", "safety_for",
                         db_column_json_string(q, 11), "remote", remote ?: "none", "remote_reason",
                         db_column_json_string(q, 13), "remote_key", db_column_json_string(q, 14));
}

static int select_one(Db *db, const char *sql, const char *a, const char *b, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *j;
        int r, rc;

        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, a, -1, SQLITE_TRANSIENT);
        if (b)
                sqlite3_bind_text(q, 2, b, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        j = row_to_json(q);
        if (!j)
                return -ENOMEM;
        *ret = j;
        return 0;
}

/* safety_for: the backup whose restore this safety backup is taken for; NULL for other backups. */
static int insert_row(Db *db, const char *backup_id, const char *store_id, int64_t task_id, const char *actor,
                      uint64_t now, bool scheduled, const char *safety_for)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db,
                       "INSERT INTO backups (id, store_id, task_id, status, actor, created_at, scheduled, "
                       "safety_for) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, backup_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, store_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, task_id);
        sqlite3_bind_text(q, 4, actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 5, (sqlite3_int64) now);
        sqlite3_bind_int(q, 6, scheduled);
        if (safety_for)
                sqlite3_bind_text(q, 7, safety_for, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

/* The checks every backup operation makes inside its transaction: the store, idle, READY, the cap. */
static int check_operation(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, Store **ret,
                           StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        bool busy;
        int r;

        r = op_get_store(db, caller, id, &cur, err);
        if (r != 0)
                return r;
        r = store_has_active_task(db, id, &busy);
        if (r < 0)
                return r;
        if (busy)
                return op_fail(err, ERROR_BUSY, "Store '%s' is busy with another operation; wait until it is finished.",
                               cur->name);
        /* Backups are taken from, and restored into, the running pods. */
        if (cur->status != STORE_READY)
                return op_fail(err, ERROR_INVALID_STATE, "Store '%s' is %s; backups need it READY.", cur->name,
                               store_status_to_string(cur->status));
        r = op_check_pending_cap(db, limits, err);
        if (r != 0)
                return r;
        *ret = TAKE_PTR(cur);
        return 0;
}

/*
 * Queues a backup of cur inside the caller's transaction (checked by check_operation()), commits it
 * with its timeline event and audit record; *ret_id is the new backup's id.
 */
static int queue_backup(Db *db, const Caller *caller, const Store *cur, const char *action, uint64_t now,
                        bool scheduled, char **ret_id)
{
        _cleanup_(json_decrefp) json_t *payload = NULL;
        _cleanup_free_ char *backup_id = NULL, *detail = NULL;
        int64_t task_id = 0;
        int r;

        r = random_hex(8, &backup_id);
        if (r < 0)
                return r;
        payload = json_pack("{s:s}", "backup", backup_id);
        if (!payload)
                return -ENOMEM;
        r = queue_enqueue(db, cur->id, TASK_BACKUP, payload, caller->account, &task_id);
        if (r < 0)
                return r;
        r = insert_row(db, backup_id, cur->id, task_id, caller->account, now, scheduled, NULL);
        if (r < 0)
                return r;
        if (asprintf(&detail, scheduled ? "Scheduled backup %s queued." : "Backup %s requested.", backup_id) < 0)
                return -ENOMEM;
        r = store_add_event(db, cur->id, caller->account, action, detail);
        if (r >= 0)
                r = op_audit(db, caller, action, cur->name, cur->id, 0);
        if (r >= 0)
                r = db_commit(db);
        if (r < 0)
                return r;
        store_changed_notify();
        *ret_id = TAKE_PTR(backup_id);
        return 0;
}

int backup_request(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, json_t **ret,
                   StoreError *err)
{
        static const char action[] = "backup.create";
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_free_ char *backup_id = NULL;
        int r;

        assert(db);
        assert(limits);
        assert(caller);
        assert(id);
        assert(ret);

        r = db_begin(db);
        if (r < 0)
                return op_refuse(db, caller, action, id, NULL, r, err);
        r = check_operation(db, limits, caller, id, &cur, err);
        if (r != 0)
                return op_refuse(db, caller, action, cur ? cur->name : id, cur ? id : NULL, r, err);
        r = queue_backup(db, caller, cur, action, now_usec(), false, &backup_id);
        if (r < 0)
                return op_refuse(db, caller, action, cur->name, id, r, err);
        return op_outcome(db, backup_get_row(db, backup_id, ret), err);
}

int backup_schedule_queue(Db *db, const StoreLimits *limits, const char *id, uint64_t now, char **ret_id)
{
        static const char action[] = "backup.scheduled";
        static const Caller scheduler = { .role = ACCOUNT_ADMIN, .account = "scheduler", .source = "scheduler" };
        _cleanup_(store_freep) Store *cur = NULL;
        StoreError err = {};
        int r;

        assert(db);
        assert(limits);
        assert(id);
        assert(ret_id);

        r = db_begin(db);
        if (r < 0)
                return r;
        r = check_operation(db, limits, &scheduler, id, &cur, &err);
        if (r == 0)
                r = queue_backup(db, &scheduler, cur, action, now, true, ret_id);
        if (r != 0)
                db_rollback(db);
        /* A busy store or a full queue is asked again at the next look; only failures are audited. */
        if (r < 0)
                (void) op_audit(db, &scheduler, action, cur ? cur->name : id, id, r);
        return r;
}

int backup_restore_request(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                           const char *backup_id, json_t **ret, StoreError *err)
{
        static const char action[] = "backup.restore";
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_(json_decrefp) json_t *payload = NULL, *target = NULL, *safety = NULL;
        _cleanup_free_ char *safety_id = NULL, *detail = NULL;
        const char *status, *store_of;
        int64_t task_id = 0;
        int r;

        assert(db);
        assert(limits);
        assert(caller);
        assert(id);
        assert(backup_id);
        assert(ret);

        r = db_begin(db);
        if (r < 0)
                return op_refuse(db, caller, action, id, NULL, r, err);
        r = check_operation(db, limits, caller, id, &cur, err);
        if (r != 0)
                return op_refuse(db, caller, action, cur ? cur->name : id, cur ? id : NULL, r, err);
        r = backup_get_row(db, backup_id, &target);
        store_of = json_string_value(json_object_get(target, "store_id"));
        if (r == -ENOENT || (r >= 0 && !streq_ptr(store_of, id))) {
                /* The store is there: the request names a backup it does not have. */
                r = op_fail(err, ERROR_INVALID_REQUEST, "Store '%s' has no backup '%.*s'.", cur->name,
                            UTF8_PREFIX(backup_id, 64));
                goto fail;
        }
        if (r < 0)
                goto fail;
        status = json_string_value(json_object_get(target, "status"));
        if (!streq_ptr(status, "succeeded")) {
                r = op_fail(err, ERROR_INVALID_STATE, "Backup '%s' is %s; only a succeeded backup can be restored.",
                            backup_id, strna(status));
                goto fail;
        }

        /* The store as it is now is kept first: the restore returns to it when it fails. */
        r = random_hex(8, &safety_id);
        if (r < 0)
                goto fail;
        payload = json_pack("{s:s, s:s}", "backup", backup_id, "safety", safety_id);
        if (!payload) {
                r = -ENOMEM;
                goto fail;
        }
        r = queue_enqueue(db, id, TASK_RESTORE, payload, caller->account, &task_id);
        if (r >= 0)
                r = insert_row(db, safety_id, id, task_id, caller->account, now_usec(), false, backup_id);
        if (r >= 0 && asprintf(&detail, "Restore of backup %s requested; safety backup %s first.", backup_id,
                               safety_id) < 0) {
                detail = NULL;
                r = -ENOMEM;
        }
        if (r >= 0)
                r = store_add_event(db, cur->id, caller->account, action, detail);
        if (r >= 0)
                r = op_audit(db, caller, action, cur->name, cur->id, 0);
        if (r >= 0)
                r = db_commit(db);
        if (r < 0)
                goto fail;
        store_changed_notify();
        r = backup_get_row(db, safety_id, &safety);
        if (r < 0)
                return op_outcome(db, r, err);
        *ret = json_pack("{s:s, s:O}", "restore_of", backup_id, "safety_backup", safety);
        return *ret ? 0 : -ENOMEM;

fail:
        return op_refuse(db, caller, action, cur->name, id, r, err);
}

int backup_list(Db *db, const Caller *caller, const char *id, json_t **ret, StoreError *err)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *items = NULL;
        int r, rc;

        assert(db);
        assert(caller);
        assert(id);
        assert(ret);

        r = op_get_store(db, caller, id, &store, err);
        if (r != 0)
                return op_outcome(db, r, err);
        r = db_prepare(db,
                       "SELECT " BACKUP_COLUMNS " FROM backups WHERE store_id = ? "
                       "ORDER BY created_at DESC, id DESC LIMIT 100",
                       &q);
        if (r < 0)
                return op_outcome(db, r, err);
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        items = json_array();
        if (!items)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
                if (json_array_append_new(items, row_to_json(q)) < 0)
                        return -ENOMEM;
        if (rc != SQLITE_DONE)
                return op_outcome(db, db_errno(rc), err);
        *ret = json_pack("{s:O}", "items", items);
        return *ret ? 0 : -ENOMEM;
}

int backup_get_row(Db *db, const char *backup_id, json_t **ret)
{
        assert(db);
        assert(backup_id);
        assert(ret);
        return select_one(db, "SELECT " BACKUP_COLUMNS " FROM backups WHERE id = ?", backup_id, NULL, ret);
}

/* One row's status change: ?1 the id, ?2 text (at most max bytes), ?3 a number, ?4 the time. */
static int update(Db *db, const char *sql, const char *backup_id, const char *text, size_t max,
                  int64_t number)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, backup_id, -1, SQLITE_TRANSIENT);
        r = db_bind_text_utf8(q, 2, text, max);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 3, number);
        sqlite3_bind_int64(q, 4, (sqlite3_int64) now_usec());
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        store_changed_notify();
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ENOENT;
}

int backup_set_running(Db *db, const char *backup_id, const char *path)
{
        assert(db);
        assert(backup_id);
        return update(db,
                      "UPDATE backups SET status = 'running', path = ?2 "
                      "WHERE id = ?1 AND status IN ('queued', 'running') AND ?3 = ?3 AND ?4 = ?4",
                      backup_id, path, BACKUP_REASON_MAX, 0);
}

int backup_set_succeeded(Db *db, const char *backup_id, uint64_t size, const char *manifest)
{
        assert(db);
        assert(backup_id);
        assert(manifest);
        /* The manifest is JSON the task wrote; it is not cut like a reason. */
        return update(db,
                      "UPDATE backups SET status = 'succeeded', manifest = ?2, size_bytes = ?3, finished_at = ?4, "
                      "reason = NULL WHERE id = ?1 AND status = 'running'",
                      backup_id, manifest, SIZE_MAX, (int64_t) size);
}

int backup_set_failed(Db *db, const char *backup_id, const char *reason)
{
        assert(db);
        assert(backup_id);
        return update(db,
                      "UPDATE backups SET status = 'failed', reason = ?2, path = NULL, size_bytes = ?3, "
                      "finished_at = ?4 WHERE id = ?1 AND status IN ('queued', 'running')",
                      backup_id, reason, BACKUP_REASON_MAX, 0);
}

int backup_set_remote(Db *db, const char *backup_id, const char *key, const char *reason)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(backup_id);
        assert(key);
        r = db_prepare(db,
                       "UPDATE backups SET remote = CASE WHEN ?3 IS NULL THEN 'copied' ELSE 'failed' END, "
                       "remote_key = ?2, remote_reason = ?3 WHERE id = ?1",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, backup_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, key, -1, SQLITE_TRANSIENT);
        if (reason) {
                r = db_bind_text_utf8(q, 3, reason, BACKUP_REASON_MAX);
                if (r < 0)
                        return r;
        } else
                sqlite3_bind_null(q, 3);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        store_changed_notify();
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ENOENT;
}

int backup_dir_remove(const char *path)
{
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        struct dirent *de;
        int r = 0;

        assert(path);

        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -EBADF; /* the DIR has it now */
        /* A backup's directory holds its files only: nothing below it is followed or descended into. */
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..") &&
                    unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
                        r = -errno;
        closedir(d);
        if (rmdir(path) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

/* The caller's store id and its backup backup_id, inside a transaction when one is open. */
static int visible_backup(Db *db, const Caller *caller, const char *id, const char *backup_id, Store **ret_store,
                          json_t **ret_row, StoreError *err)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(json_decrefp) json_t *row = NULL;
        int r;

        r = op_get_store(db, caller, id, &store, err);
        if (r != 0)
                return r;
        r = backup_get_row(db, backup_id, &row);
        if (r == -ENOENT || (r >= 0 && !streq_ptr(json_string_value(json_object_get(row, "store_id")), id)))
                r = op_fail(err, ERROR_NOT_FOUND, "Store '%s' has no backup '%.*s'.", store->name,
                            UTF8_PREFIX(backup_id, 64));
        if (r != 0)
                return r;
        *ret_store = TAKE_PTR(store);
        *ret_row = TAKE_PTR(row);
        return 0;
}

int backup_delete(Db *db, const Caller *caller, const char *id, const char *backup_id, const char *state_dir,
                  StoreError *err)
{
        static const char action[] = "backup.delete";
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_(json_decrefp) json_t *row = NULL;
        _cleanup_free_ char *dir = NULL, *detail = NULL;
        const char *path;
        uint64_t cloning = 0;
        bool busy;
        int r;

        assert(db);
        assert(caller);
        assert(id);
        assert(backup_id);
        assert(state_dir);

        r = db_begin(db);
        if (r < 0)
                return op_refuse(db, caller, action, id, NULL, r, err);
        r = visible_backup(db, caller, id, backup_id, &cur, &row, err);
        if (r != 0)
                return op_refuse(db, caller, action, cur ? cur->name : id, cur ? id : NULL, r, err);
        /* A backup being taken, or read by a restore, stays until that operation ends. */
        r = store_has_active_task(db, id, &busy);
        if (r >= 0 && busy)
                r = op_fail(err, ERROR_BUSY, "Store '%s' is busy with another operation; wait until it is finished.",
                            cur->name);
        if (r != 0)
                return op_refuse(db, caller, action, cur->name, id, r, err);
        r = store_query_u64(db, "SELECT " BACKUP_CLONING_SQL("?"), backup_id, 0, &cloning);
        if (r >= 0 && cloning > 0)
                r = op_fail(err, ERROR_BUSY,
                            "Backup '%s' is being restored into a store made from it; wait until that "
                            "store is ready or failed.",
                            backup_id);
        if (r != 0)
                return op_refuse(db, caller, action, cur->name, id, r, err);

        path = json_string_value(json_object_get(row, "path"));
        if (path && asprintf(&dir, "%s/backups/%s", state_dir, path) < 0)
                return op_refuse(db, caller, action, cur->name, id, -ENOMEM, err);
        if (asprintf(&detail, "Backup %s deleted.", backup_id) < 0) {
                detail = NULL;
                return op_refuse(db, caller, action, cur->name, id, -ENOMEM, err);
        }
        r = backup_delete_row(db, backup_id);
        if (r >= 0)
                r = store_add_event(db, cur->id, caller->account, action, detail);
        if (r >= 0)
                r = op_audit(db, caller, action, cur->name, cur->id, 0);
        if (r < 0)
                return op_refuse(db, caller, action, cur->name, id, r, err);
        /*
         * The files go before the commit: should their removal fail, the row stays and says where
         * they are. A commit that fails after it leaves a row whose files are gone, which a restore
         * refuses (its parts do not match their SHA-256) and a second delete removes.
         */
        if (dir) {
                r = backup_dir_remove(dir);
                if (r < 0) {
                        log_struct_errno(LOG_ERR, r, LOG_FIELDS("STORE_ID", id), "Cannot remove backup directory %s: %m",
                                         dir);
                        return op_refuse(db, caller, action, cur->name, id, r, err);
                }
        }
        r = db_commit(db);
        if (r < 0)
                return op_refuse(db, caller, action, cur->name, id, r, err);
        store_changed_notify();
        backup_removed_notify(row);
        return 0;
}

int backup_file_path(Db *db, const Caller *caller, const char *id, const char *backup_id, const char *file,
                     Store **ret_store, char **ret_path, StoreError *err)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_(json_decrefp) json_t *row = NULL;
        json_t *part;
        size_t i;
        bool known;
        int r;

        assert(db);
        assert(caller);
        assert(id);
        assert(backup_id);
        assert(file);
        assert(ret_path);

        r = visible_backup(db, caller, id, backup_id, &store, &row, err);
        if (r != 0)
                return op_outcome(db, r, err);
        if (!streq_ptr(json_string_value(json_object_get(row, "status")), "succeeded"))
                return op_fail(err, ERROR_INVALID_STATE, "Backup '%s' is %s; only a succeeded backup has files.",
                               backup_id, strna(json_string_value(json_object_get(row, "status"))));
        /* Only the names its manifest gives: the request never names a path of its own. */
        known = streq(file, "manifest.json");
        json_array_foreach(json_object_get(json_object_get(row, "manifest"), "parts"), i, part)
                known = known || streq_ptr(json_string_value(json_object_get(part, "name")), file);
        if (!known)
                return op_fail(err, ERROR_NOT_FOUND, "Backup '%s' has no file '%.*s'.", backup_id,
                               UTF8_PREFIX(file, 64));
        if (asprintf(ret_path, "%s/%s", json_string_value(json_object_get(row, "path")), file) < 0)
                return -ENOMEM;
        if (ret_store)
                *ret_store = TAKE_PTR(store);
        return 0;
}

int backup_remove(Db *db, const char *backup_id, const char *dir)
{
        _cleanup_(json_decrefp) json_t *row = NULL;
        uint64_t cloning = 0;
        int r;

        assert(db);
        assert(backup_id);

        /* One write transaction: a clone queued meanwhile (store-create.c checks the backup in its own) either
         * came first, and the backup stays, or finds it gone. */
        r = db_begin(db);
        if (r < 0)
                return r;
        r = store_query_u64(db, "SELECT " BACKUP_CLONING_SQL("?"), backup_id, 0, &cloning);
        if (r >= 0 && cloning)
                r = -EBUSY;
        if (r >= 0)
                r = backup_get_row(db, backup_id, &row);
        if (r >= 0 && dir)
                r = backup_dir_remove(dir);
        if (r >= 0)
                r = backup_delete_row(db, backup_id);
        if (r < 0 && r != -ENOENT) {
                db_rollback(db);
                return r;
        }
        if (db_commit(db) < 0)
                return -EIO;
        if (r >= 0)
                backup_removed_notify(row);
        return r;
}

int backup_delete_row(Db *db, const char *backup_id)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(backup_id);

        r = db_prepare(db, "DELETE FROM backups WHERE id = ?", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, backup_id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        store_changed_notify();
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ENOENT;
}
