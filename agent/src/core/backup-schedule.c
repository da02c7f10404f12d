/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Scheduled backups and their retention. The daemon looks every backups.scheduler_interval and
 * queues a backup of each store that is due, through the same queue and the same checks as a
 * backup someone asks for (READY, no other operation on the store, the cap on queued tasks); a
 * store that cannot have one now is asked again at the next look. The task of a backup that
 * succeeded asks backup_retention_plan() which scheduled backups to remove.
 */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/backup-schedule.h"
#include "core/backup.h"
#include "core/operation.h"
#include "core/store-internal.h"

#define USEC_PER_DAY (24ULL * 3600 * USEC_PER_SEC)
#define SCHEDULE_BATCH 1000 /* stores looked at per look; the rest, due longest, at the next */

/*
 * A store's interval (?1: the platform's) and the time its schedule counts from: the last
 * scheduled backup whatever became of it (a failing one is not retried at once), the last
 * backup that succeeded, or the store's creation.
 */
#define SCHEDULE_COLUMNS                                                                                 \
        "s.id, COALESCE(s.backup_every, ?1), s.backup_every, "                                          \
        "MAX(s.created_at, COALESCE((SELECT MAX(b.created_at) FROM backups b WHERE b.store_id = s.id "  \
        "  AND (b.scheduled = 1 OR b.status = 'succeeded')), 0)), "                                      \
        "(SELECT MAX(b.created_at) FROM backups b WHERE b.store_id = s.id AND b.status = 'succeeded') "

void backup_retention_select(const uint64_t *times, size_t n, const BackupPolicy *p, bool *keep)
{
        uint64_t days = 0, weeks = 0, last_day = UINT64_MAX, last_week = UINT64_MAX;

        assert(times || n == 0);
        assert(p);
        assert(keep || n == 0);

        for (size_t i = 0; i < n; i++) {
                uint64_t day = times[i] / USEC_PER_DAY;
                /* 1970-01-01 was a Thursday: three days more start the weeks on Mondays. */
                uint64_t week = (day + 3) / 7;

                keep[i] = i == 0 || i < p->keep_last;
                if (day != last_day && days < p->keep_daily) {
                        keep[i] = true;
                        days++;
                        last_day = day;
                }
                if (week != last_week && weeks < p->keep_weekly) {
                        keep[i] = true;
                        weeks++;
                        last_week = week;
                }
        }
}

int backup_schedule_run(Db *db, const BackupPolicy *p, const StoreLimits *limits, uint64_t now,
                        unsigned *ret_queued)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *due = NULL;
        unsigned queued = 0;
        json_t *v;
        size_t i;
        int r, rc;

        assert(db);
        assert(p);
        assert(limits);

        r = db_prepare(db,
                       "SELECT " SCHEDULE_COLUMNS "FROM stores s WHERE s.status = 'READY' AND s.deleted_at IS NULL "
                       "AND COALESCE(s.backup_every, ?1) > 0 ORDER BY 4 LIMIT ?2",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) p->every_sec);
        sqlite3_bind_int(q, 2, SCHEDULE_BATCH);
        due = json_array();
        if (!due)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                uint64_t every = (uint64_t) sqlite3_column_int64(q, 1);
                uint64_t since = (uint64_t) sqlite3_column_int64(q, 3);

                if (now >= since && now - since >= every * USEC_PER_SEC &&
                    json_array_append_new(due, db_column_json_string(q, 0)) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        db_stmt_release(TAKE_PTR(q));

        json_array_foreach(due, i, v) {
                _cleanup_free_ char *backup_id = NULL;

                r = backup_schedule_queue(db, limits, json_string_value(v), now, &backup_id);
                if (r < 0)
                        return r;
                /* The queue is full: the others wait for the next look. */
                if (r == ERROR_TASK_CAP)
                        break;
                if (r > 0)
                        continue;
                log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", json_string_value(v), "ACTION", "backup.scheduled"),
                           "Scheduled backup %s of store %s queued.", backup_id, json_string_value(v));
                queued++;
        }
        if (ret_queued)
                *ret_queued = queued;
        return 0;
}

int backup_retention_plan(Db *db, const char *store_id, const BackupPolicy *p, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *rows = NULL, *drop = NULL;
        _cleanup_free_ uint64_t *times = NULL;
        _cleanup_free_ bool *keep = NULL;
        size_t n;
        int r, rc;

        assert(db);
        assert(store_id);
        assert(p);
        assert(ret);

        r = db_prepare(db,
                       "SELECT id, path, created_at, " BACKUP_CLONING_SQL("backups.id") " FROM backups "
                       "WHERE store_id = ? AND scheduled = 1 AND status = 'succeeded' "
                       "ORDER BY created_at DESC, id DESC",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, store_id, -1, SQLITE_TRANSIENT);
        rows = json_array();
        drop = json_array();
        if (!rows || !drop)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
                if (json_array_append_new(rows, json_pack("{s:o, s:o, s:I, s:b}", "id",
                                                          db_column_json_string(q, 0), "path",
                                                          db_column_json_string(q, 1), "at",
                                                          (json_int_t) sqlite3_column_int64(q, 2), "cloning",
                                                          sqlite3_column_int(q, 3))) < 0)
                        return -ENOMEM;
        if (rc != SQLITE_DONE)
                return db_errno(rc);

        n = json_array_size(rows);
        times = calloc(n + 1, sizeof *times);
        keep = calloc(n + 1, sizeof *keep);
        if (!times || !keep)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                times[i] = (uint64_t) json_integer_value(json_object_get(json_array_get(rows, i), "at"));
        backup_retention_select(times, n, p, keep);
        /* A backup a clone is being made from stays for now; a later prune takes it. */
        for (size_t i = 0; i < n; i++)
                if (!keep[i] && !json_is_true(json_object_get(json_array_get(rows, i), "cloning")) &&
                    json_array_append(drop, json_array_get(rows, i)) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(drop);
        return 0;
}

int backup_store_stats(Db *db, const BackupPolicy *p, uint64_t now, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *items = NULL;
        int r, rc;

        assert(db);
        assert(p);
        assert(ret);

        r = db_prepare(db,
                       "SELECT s.id, s.name, s.status, COALESCE(s.backup_every, ?1), s.created_at, "
                       "COALESCE((SELECT MAX(b.created_at) FROM backups b WHERE b.store_id = s.id "
                       "  AND b.status = 'succeeded'), 0), "
                       "COALESCE((SELECT SUM(b.size_bytes) FROM backups b WHERE b.store_id = s.id "
                       "  AND b.status = 'succeeded'), 0) "
                       "FROM stores s WHERE s.deleted_at IS NULL ORDER BY s.name, s.id",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) p->every_sec);
        items = json_array();
        if (!items)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                const char *status = (const char *) sqlite3_column_text(q, 2);
                uint64_t every = (uint64_t) sqlite3_column_int64(q, 3);
                uint64_t last = (uint64_t) sqlite3_column_int64(q, 5);
                uint64_t since = MAX(last, (uint64_t) sqlite3_column_int64(q, 4));
                bool overdue = streq_ptr(status, "READY") && every > 0 && now > since &&
                               now - since > (every + p->overdue_grace_sec) * USEC_PER_SEC;

                if (json_array_append_new(items, json_pack("{s:o, s:o, s:I, s:I, s:b}", "id",
                                                           db_column_json_string(q, 0), "name",
                                                           db_column_json_string(q, 1), "last_success",
                                                           (json_int_t) last, "bytes",
                                                           (json_int_t) sqlite3_column_int64(q, 6), "overdue",
                                                           overdue)) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(items);
        return 0;
}

int backup_expire(Db *db, const char *state_dir, uint64_t keep_sec, uint64_t now, unsigned *ret_removed)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *gone = NULL;
        unsigned removed = 0;
        json_t *b;
        size_t i;
        int r, rc;

        assert(db);
        assert(state_dir);

        if (ret_removed)
                *ret_removed = 0;
        if (now < keep_sec * USEC_PER_SEC)
                return 0;
        /* Not a backup still being taken: a store is DELETED only once its tasks are done. */
        r = db_prepare(db,
                       "SELECT b.id, b.path, s.id, s.name FROM backups b JOIN stores s ON s.id = b.store_id "
                       "WHERE s.deleted_at IS NOT NULL AND s.deleted_at <= ?1 "
                       "AND b.status IN ('succeeded', 'failed') AND NOT " BACKUP_CLONING_SQL("b.id")
                       " LIMIT ?2",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) (now - keep_sec * USEC_PER_SEC));
        sqlite3_bind_int(q, 2, SCHEDULE_BATCH);
        gone = json_array();
        if (!gone)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
                if (json_array_append_new(gone, json_pack("{s:o, s:o, s:o, s:o}", "id", db_column_json_string(q, 0),
                                                          "path", db_column_json_string(q, 1), "store_id",
                                                          db_column_json_string(q, 2), "name",
                                                          db_column_json_string(q, 3))) < 0)
                        return -ENOMEM;
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        db_stmt_release(TAKE_PTR(q));

        json_array_foreach(gone, i, b) {
                const char *id = json_string_value(json_object_get(b, "id"));
                const char *path = json_string_value(json_object_get(b, "path"));
                const char *store_id = json_string_value(json_object_get(b, "store_id"));
                _cleanup_free_ char *dir = NULL, *msg = NULL;

                if (path && asprintf(&dir, "%s/backups/%s", state_dir, path) < 0)
                        return -ENOMEM;
                r = backup_remove(db, id, dir);
                if (r == -EBUSY)
                        continue; /* a clone queued since the look reads it: kept until that is done */
                if (r < 0 && r != -ENOENT) {
                        /* The row stays and says where the files are; the next look tries again. */
                        log_struct_errno(LOG_WARNING, r, LOG_FIELDS("STORE_ID", store_id),
                                         "Cannot remove backup %s (%s): %m", id, strna(dir));
                        continue;
                }
                if (asprintf(&msg, "Backup %s removed: the store was deleted more than %" PRIu64 " s ago.", id,
                             keep_sec) < 0)
                        return -ENOMEM;
                (void) store_add_event(db, store_id, "system", "backup.expired", msg);
                log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", store_id, "ACTION", "backup.expired"), "Store %s: %s",
                           json_string_value(json_object_get(b, "name")), msg);
                removed++;
        }
        if (ret_removed)
                *ret_removed = removed;
        return 0;
}

int backup_bytes_used(Db *db, uint64_t *ret)
{
        assert(db);
        assert(ret);
        return store_query_u64(db, "SELECT COALESCE(SUM(size_bytes), 0) FROM backups WHERE status = 'succeeded'",
                               NULL, 0, ret);
}

static json_t *json_time_or_null(uint64_t usec)
{
        char buf[32];

        return usec > 0 ? json_string(format_timestamp(buf, usec, false)) : json_null();
}

int backup_schedule_get(Db *db, const Caller *caller, const char *id, const BackupPolicy *p, uint64_t now,
                        json_t **ret, StoreError *err)
{
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        uint64_t every, since, last_ok, next = 0;
        json_t *own;
        int r, rc;

        assert(db);
        assert(caller);
        assert(id);
        assert(p);
        assert(ret);

        r = op_get_store(db, caller, id, &store, err);
        if (r != 0)
                return op_outcome(db, r, err);
        r = db_prepare(db, "SELECT " SCHEDULE_COLUMNS "FROM stores s WHERE s.id = ?2", &q);
        if (r < 0)
                return op_outcome(db, r, err);
        sqlite3_bind_int64(q, 1, (sqlite3_int64) p->every_sec);
        sqlite3_bind_text(q, 2, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return op_outcome(db, rc == SQLITE_DONE ? -ENOENT : db_errno(rc), err);
        every = (uint64_t) sqlite3_column_int64(q, 1);
        own = sqlite3_column_type(q, 2) == SQLITE_NULL ? json_null() : json_integer(sqlite3_column_int64(q, 2));
        since = (uint64_t) sqlite3_column_int64(q, 3);
        last_ok = (uint64_t) sqlite3_column_int64(q, 4);
        if (every > 0 && store->status == STORE_READY)
                next = MAX(since + every * USEC_PER_SEC, now);

        *ret = json_pack("{s:I, s:o, s:I, s:I, s:{s:I, s:I, s:I}, s:o, s:o}", "every_sec", (json_int_t) every,
                         "store_every_sec", own, "default_every_sec", (json_int_t) p->every_sec, "min_every_sec",
                         (json_int_t) p->min_every_sec, "keep", "last", (json_int_t) p->keep_last, "daily",
                         (json_int_t) p->keep_daily, "weekly", (json_int_t) p->keep_weekly, "last_backup_at",
                         json_time_or_null(last_ok), "next_backup_at", json_time_or_null(next));
        return *ret ? 0 : -ENOMEM;
}

int backup_schedule_set(Db *db, const Caller *caller, const char *id, int64_t every_sec, const BackupPolicy *p,
                        uint64_t now, json_t **ret, StoreError *err)
{
        static const char action[] = "backup.schedule";
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        char detail[128];
        int r, rc;

        assert(db);
        assert(caller);
        assert(id);
        assert(p);
        assert(ret);

        r = db_begin(db);
        if (r < 0)
                return op_refuse(db, caller, action, id, NULL, r, err);
        r = op_get_store(db, caller, id, &cur, err);
        if (r != 0)
                return op_refuse(db, caller, action, cur ? cur->name : id, cur ? id : NULL, r, err);
        if (cur->status == STORE_DELETING || cur->status == STORE_DELETED) {
                r = op_fail(err, ERROR_INVALID_STATE, "Store '%s' is %s.", cur->name,
                            store_status_to_string(cur->status));
                return op_refuse(db, caller, action, cur->name, id, r, err);
        }
        if (every_sec < -1 || (every_sec > 0 && ((uint64_t) every_sec < p->min_every_sec ||
                                                 (uint64_t) every_sec > BACKUP_EVERY_MAX_SEC))) {
                r = op_fail(err, ERROR_INVALID_REQUEST,
                            "every_sec must be null (the platform's schedule), 0 (none) or %" PRIu64 "..%llu.",
                            p->min_every_sec, BACKUP_EVERY_MAX_SEC);
                return op_refuse(db, caller, action, cur->name, id, r, err);
        }
        r = db_prepare(db, "UPDATE stores SET backup_every = ?2 WHERE id = ?1", &q);
        if (r < 0)
                return op_refuse(db, caller, action, cur->name, id, r, err);
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        if (every_sec >= 0)
                sqlite3_bind_int64(q, 2, every_sec);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return op_refuse(db, caller, action, cur->name, id, db_errno(rc), err);

        if (every_sec < 0)
                xsprintf(detail, "Backups on the platform's schedule (every %" PRIu64 " s).", p->every_sec);
        else if (every_sec == 0)
                xsprintf(detail, "No scheduled backups.");
        else
                xsprintf(detail, "A backup every %" PRIi64 " s.", every_sec);
        r = store_add_event(db, cur->id, caller->account, action, detail);
        if (r >= 0)
                r = op_audit(db, caller, action, cur->name, cur->id, 0);
        if (r >= 0)
                r = db_commit(db);
        if (r < 0)
                return op_refuse(db, caller, action, cur->name, id, r, err);
        store_changed_notify();
        return backup_schedule_get(db, caller, id, p, now, ret, err);
}
