/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>

#include "basic/log.h"
#include "basic/names.h"
#include "basic/util.h"
#include "core/error.h"
#include "core/queue.h"
#include "core/store.h"

static const char *const store_status_table[_STORE_STATUS_MAX] = {
        [STORE_PROVISIONING] = "PROVISIONING", [STORE_READY] = "READY",       [STORE_FAILED] = "FAILED",
        [STORE_UPGRADING] = "UPGRADING",       [STORE_DELETING] = "DELETING", [STORE_DELETED] = "DELETED",
};

const char *store_status_to_string(StoreStatus s)
{
        return s >= 0 && s < _STORE_STATUS_MAX ? store_status_table[s] : NULL;
}

StoreStatus store_status_from_string(const char *s)
{
        for (size_t i = 0; i < _STORE_STATUS_MAX; i++)
                if (streq_ptr(store_status_table[i], s))
                        return (StoreStatus) i;
        return _STORE_STATUS_INVALID;
}

/*
 * The state machine. A store is PROVISIONING until the cluster says it is READY
 * or the task gives up (FAILED); upgrades and rollbacks pass through UPGRADING;
 * DELETING may start from anywhere but DELETED and ends in DELETED (or FAILED,
 * from where a retry deletes again). Same-state writes are progress updates.
 */
bool store_status_transition_allowed(StoreStatus from, StoreStatus to)
{
        static const bool allowed[_STORE_STATUS_MAX][_STORE_STATUS_MAX] = {
                [STORE_PROVISIONING] = { [STORE_PROVISIONING] = true, [STORE_READY] = true,
                                         [STORE_FAILED] = true, [STORE_DELETING] = true },
                [STORE_READY] = { [STORE_READY] = true, [STORE_UPGRADING] = true, [STORE_DELETING] = true,
                                  [STORE_FAILED] = true },
                [STORE_FAILED] = { [STORE_FAILED] = true, [STORE_PROVISIONING] = true,
                                   [STORE_UPGRADING] = true, [STORE_DELETING] = true },
                [STORE_UPGRADING] = { [STORE_UPGRADING] = true, [STORE_READY] = true, [STORE_FAILED] = true,
                                      [STORE_DELETING] = true },
                [STORE_DELETING] = { [STORE_DELETING] = true, [STORE_DELETED] = true, [STORE_FAILED] = true },
                [STORE_DELETED] = {},
        };

        if (from < 0 || from >= _STORE_STATUS_MAX || to < 0 || to >= _STORE_STATUS_MAX)
                return false;
        return allowed[from][to];
}

/* ---- change notification ---- */

static pthread_mutex_t changed_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed_cond = PTHREAD_COND_INITIALIZER;
static uint64_t changed_counter = 0;

void store_changed_notify(void)
{
        pthread_mutex_lock(&changed_lock);
        changed_counter++;
        pthread_cond_broadcast(&changed_cond);
        pthread_mutex_unlock(&changed_lock);
}

uint64_t store_changed_counter(void)
{
        uint64_t v;
        pthread_mutex_lock(&changed_lock);
        v = changed_counter;
        pthread_mutex_unlock(&changed_lock);
        return v;
}

bool store_changed_wait(uint64_t *seen, uint64_t timeout_usec)
{
        struct timespec deadline;
        bool changed;

        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += (time_t) (timeout_usec / USEC_PER_SEC);
        deadline.tv_nsec += (long) ((timeout_usec % USEC_PER_SEC) * NSEC_PER_USEC);
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }

        pthread_mutex_lock(&changed_lock);
        while (changed_counter == *seen)
                if (pthread_cond_timedwait(&changed_cond, &changed_lock, &deadline) != 0)
                        break;
        changed = changed_counter != *seen;
        *seen = changed_counter;
        pthread_mutex_unlock(&changed_lock);
        return changed;
}

/* ---- rows ---- */

Store *store_free(Store *s)
{
        if (!s)
                return NULL;
        free(s->id);
        free(s->name);
        free(s->engine);
        free(s->owner);
        free(s->status_reason);
        free(s->step);
        free(s->url);
        free(s->chart_version);
        free(s);
        return NULL;
}

#define STORE_COLUMNS                                                                                        \
        "id, name, engine, owner, status, status_reason, step, progress_current, progress_total, url, "       \
        "chart_version, helm_revision, created_at, updated_at, deleted_at, seq"

static int store_from_row(sqlite3_stmt *q, Store **ret)
{
        _cleanup_(store_freep) Store *s = NULL;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->id = db_column_strdup(q, 0);
        s->name = db_column_strdup(q, 1);
        s->engine = db_column_strdup(q, 2);
        s->owner = db_column_strdup(q, 3);
        if (!s->id || !s->name || !s->engine || !s->owner)
                return -ENOMEM;
        s->status = store_status_from_string((const char *) sqlite3_column_text(q, 4));
        s->status_reason = db_column_strdup(q, 5);
        s->step = db_column_strdup(q, 6);
        s->progress_current = sqlite3_column_int(q, 7);
        s->progress_total = sqlite3_column_int(q, 8);
        s->url = db_column_strdup(q, 9);
        s->chart_version = db_column_strdup(q, 10);
        s->helm_revision = sqlite3_column_int64(q, 11);
        s->created_at = (uint64_t) sqlite3_column_int64(q, 12);
        s->updated_at = (uint64_t) sqlite3_column_int64(q, 13);
        s->deleted_at = (uint64_t) sqlite3_column_int64(q, 14);
        s->seq = sqlite3_column_int64(q, 15);
        *ret = TAKE_PTR(s);
        return 0;
}

static json_t *json_string_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *json_time(uint64_t usec)
{
        char buf[32];
        return usec ? json_string(format_timestamp(buf, usec, false)) : json_null();
}

json_t *store_to_json(const Store *s)
{
        json_t *progress = s->progress_total > 0
                                   ? json_pack("{s:i, s:i}", "current", s->progress_current, "total",
                                               s->progress_total)
                                   : json_null();

        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", s->id,
                         "name", s->name, "engine", s->engine, "owner", s->owner, "status",
                         strna(store_status_to_string(s->status)), "status_reason",
                         json_string_or_null(s->status_reason), "step", json_string_or_null(s->step), "progress",
                         progress, "url", json_string_or_null(s->url), "chart_version",
                         json_string_or_null(s->chart_version), "helm_revision",
                         s->helm_revision > 0 ? json_integer(s->helm_revision) : json_null(), "created_at",
                         json_time(s->created_at), "updated_at", json_time(s->updated_at), "deleted_at",
                         json_time(s->deleted_at));
}

int store_get(Db *db, const char *id, Store **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE id = ?", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        return store_from_row(q, ret);
}

int store_get_by_name(Db *db, const char *name, Store **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE name = ? ORDER BY deleted_at IS NOT NULL, "
                           "created_at DESC LIMIT 1",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        return store_from_row(q, ret);
}

static int rows_to_json(sqlite3_stmt *q, json_t *items, int64_t *max_seq)
{
        int rc;

        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                _cleanup_(store_freep) Store *s = NULL;
                int r = store_from_row(q, &s);
                if (r < 0)
                        return r;
                if (max_seq && s->seq > *max_seq)
                        *max_seq = s->seq;
                if (json_array_append_new(items, store_to_json(s)) < 0)
                        return -ENOMEM;
        }
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int store_list(Db *db, StoreStatus status, uint64_t limit, uint64_t offset, json_t **ret_items,
               uint64_t *ret_total)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL, *c = NULL;
        json_t *items;
        int r;

        if (status >= 0) {
                r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE status = ? ORDER BY created_at DESC, id DESC "
                                   "LIMIT ? OFFSET ?",
                               &q);
                if (r >= 0)
                        r = db_prepare(db, "SELECT count(*) FROM stores WHERE status = ?", &c);
                if (r < 0)
                        return r;
                sqlite3_bind_text(q, 1, store_status_to_string(status), -1, SQLITE_STATIC);
                sqlite3_bind_text(c, 1, store_status_to_string(status), -1, SQLITE_STATIC);
                sqlite3_bind_int64(q, 2, (sqlite3_int64) limit);
                sqlite3_bind_int64(q, 3, (sqlite3_int64) offset);
        } else {
                r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE status <> 'DELETED' ORDER BY "
                                   "created_at DESC, id DESC LIMIT ? OFFSET ?",
                               &q);
                if (r >= 0)
                        r = db_prepare(db, "SELECT count(*) FROM stores WHERE status <> 'DELETED'", &c);
                if (r < 0)
                        return r;
                sqlite3_bind_int64(q, 1, (sqlite3_int64) limit);
                sqlite3_bind_int64(q, 2, (sqlite3_int64) offset);
        }

        items = json_array();
        if (!items)
                return -ENOMEM;
        r = rows_to_json(q, items, NULL);
        if (r < 0 || sqlite3_step(c) != SQLITE_ROW) {
                json_decref(items);
                return r < 0 ? r : -EIO;
        }
        *ret_total = (uint64_t) sqlite3_column_int64(c, 0);
        *ret_items = items;
        return 0;
}

int store_changes_since(Db *db, int64_t seq, json_t **ret_items, int64_t *ret_max_seq)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *items;
        int64_t max = seq;
        int r;

        r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE seq > ? ORDER BY seq LIMIT 500", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, seq);
        items = json_array();
        if (!items)
                return -ENOMEM;
        r = rows_to_json(q, items, &max);
        if (r < 0) {
                json_decref(items);
                return r;
        }
        *ret_items = items;
        *ret_max_seq = max;
        return 0;
}

static int query_u64(Db *db, const char *sql, const char *arg, uint64_t arg2, uint64_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r;

        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        if (arg)
                sqlite3_bind_text(q, 1, arg, -1, SQLITE_TRANSIENT);
        if (arg2)
                sqlite3_bind_int64(q, arg ? 2 : 1, (sqlite3_int64) arg2);
        if (sqlite3_step(q) != SQLITE_ROW)
                return -EIO;
        *ret = (uint64_t) sqlite3_column_int64(q, 0);
        return 0;
}

int store_max_seq(Db *db, int64_t *ret)
{
        uint64_t v;
        int r = query_u64(db, "SELECT coalesce(max(seq), 0) FROM stores", NULL, 0, &v);
        if (r < 0)
                return r;
        *ret = (int64_t) v;
        return 0;
}

int store_count_active(Db *db, uint64_t *ret)
{
        return query_u64(db, "SELECT count(*) FROM stores WHERE deleted_at IS NULL", NULL, 0, ret);
}

int store_creates_in_last_hour(Db *db, const char *actor, uint64_t *ret)
{
        return query_u64(db, "SELECT count(*) FROM stores WHERE owner = ? AND created_at > ?", actor,
                         now_usec() - 3600 * USEC_PER_SEC, ret);
}

int store_count_by_status(Db *db, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *o;
        int r, rc;

        r = db_prepare(db, "SELECT status, count(*) FROM stores GROUP BY status", &q);
        if (r < 0)
                return r;
        o = json_object();
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < _STORE_STATUS_MAX; i++)
                json_object_set_new(o, store_status_table[i], json_integer(0));
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
                json_object_set_new(o, (const char *) sqlite3_column_text(q, 0),
                                    json_integer(sqlite3_column_int64(q, 1)));
        if (rc != SQLITE_DONE) {
                json_decref(o);
                return db_errno(rc);
        }
        *ret = o;
        return 0;
}

int store_events(Db *db, const char *id, uint64_t limit, int64_t after_id, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *items;
        int r, rc;

        /* The newest `limit` events after after_id, returned oldest first. */
        r = db_prepare(db,
                       "SELECT id, time, actor, action, detail FROM (SELECT * FROM events WHERE store_id = ? AND "
                       "id > ? ORDER BY id DESC LIMIT ?) ORDER BY id",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, after_id);
        sqlite3_bind_int64(q, 3, (sqlite3_int64) limit);
        items = json_array();
        if (!items)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                char buf[32];
                json_array_append_new(
                        items, json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t) sqlite3_column_int64(q, 0),
                                         "time",
                                         format_timestamp(buf, (uint64_t) sqlite3_column_int64(q, 1), true),
                                         "actor", sqlite3_column_text(q, 2), "action", sqlite3_column_text(q, 3),
                                         "detail", json_string_or_null((const char *) sqlite3_column_text(q, 4))));
        }
        if (rc != SQLITE_DONE) {
                json_decref(items);
                return db_errno(rc);
        }
        *ret = items;
        return 0;
}

/* ---- writes ---- */

int store_add_event(Db *db, const char *id, const char *actor, const char *action, const char *detail)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db, "INSERT INTO events (store_id, time, actor, action, detail) VALUES (?, ?, ?, ?, ?)", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 3, actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, action, -1, SQLITE_TRANSIENT);
        if (detail)
                sqlite3_bind_text(q, 5, detail, (int) MIN(strlen(detail), (size_t) 8192), SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

#define SEQ_NEXT "(SELECT coalesce(max(seq), 0) + 1 FROM stores)"

int store_set_status(Db *db, const char *id, StoreStatus status, const char *reason)
{
        _cleanup_(store_freep) Store *cur = NULL;
        int r;

        r = store_get(db, id, &cur);
        if (r < 0)
                return r;
        return store_set_status_if(db, id, cur->status, status, reason);
}

int store_set_status_if(Db *db, const char *id, StoreStatus expected, StoreStatus status, const char *reason)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        if (!store_status_transition_allowed(expected, status)) {
                log_struct(LOG_WARNING, LOG_FIELDS("STORE_ID", id), "Refusing store transition %s -> %s.",
                           store_status_to_string(expected), store_status_to_string(status));
                return -EPERM;
        }

        r = db_prepare(db,
                       "UPDATE stores SET status = ?, status_reason = ?, updated_at = ?, seq = " SEQ_NEXT ", "
                       "deleted_at = CASE WHEN ? = 'DELETED' THEN ? ELSE deleted_at END, "
                       "step = CASE WHEN ? IN ('READY', 'FAILED', 'DELETED') THEN NULL ELSE step END, "
                       "progress_current = CASE WHEN ? IN ('READY', 'FAILED', 'DELETED') THEN NULL ELSE "
                       "progress_current END, "
                       "progress_total = CASE WHEN ? IN ('READY', 'FAILED', 'DELETED') THEN NULL ELSE "
                       "progress_total END "
                       "WHERE id = ? AND status = ?",
                       &q);
        if (r < 0)
                return r;
        uint64_t now = now_usec();
        const char *st = store_status_to_string(status);
        sqlite3_bind_text(q, 1, st, -1, SQLITE_STATIC);
        if (reason)
                sqlite3_bind_text(q, 2, reason, (int) MIN(strlen(reason), (size_t) 1024), SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, (sqlite3_int64) now);
        sqlite3_bind_text(q, 4, st, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 5, (sqlite3_int64) now);
        sqlite3_bind_text(q, 6, st, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 7, st, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 8, st, -1, SQLITE_STATIC);
        sqlite3_bind_text(q, 9, id, -1, SQLITE_TRANSIENT);
        /* Compare and set: a status written since the caller looked (a delete) is never overwritten. */
        sqlite3_bind_text(q, 10, store_status_to_string(expected), -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        if (sqlite3_changes(db_handle(db)) == 0) {
                log_struct(LOG_NOTICE, LOG_FIELDS("STORE_ID", id), "Store is no longer %s; not moved to %s.",
                           store_status_to_string(expected), store_status_to_string(status));
                return -ESTALE;
        }
        store_changed_notify();
        return 0;
}

int store_set_progress(Db *db, const char *id, const char *step, int current, int total)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db,
                       "UPDATE stores SET step = ?, progress_current = ?, progress_total = ?, updated_at = ?, "
                       "seq = " SEQ_NEXT " WHERE id = ? AND (step IS NOT ? OR progress_current IS NOT ? OR "
                       "progress_total IS NOT ?)",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, step, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 2, current);
        sqlite3_bind_int(q, 3, total);
        sqlite3_bind_int64(q, 4, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 5, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 6, step, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(q, 7, current);
        sqlite3_bind_int(q, 8, total);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        if (sqlite3_changes(db_handle(db)) > 0)
                store_changed_notify();
        return 0;
}

int store_set_reason(Db *db, const char *id, const char *reason)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(id);
        r = db_prepare(db, "UPDATE stores SET status_reason = ?, updated_at = ?, seq = " SEQ_NEXT " WHERE id = ? "
                           "AND status_reason IS NOT ?",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, reason, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 3, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, reason, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        if (sqlite3_changes(db_handle(db)) > 0)
                store_changed_notify();
        return 0;
}

int store_set_release(Db *db, const char *id, const char *chart_version, int64_t revision, const char *url)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db,
                       "UPDATE stores SET chart_version = coalesce(?, chart_version), helm_revision = CASE WHEN ? > "
                       "0 THEN ? ELSE helm_revision END, url = coalesce(?, url), updated_at = ?, seq = " SEQ_NEXT
                       " WHERE id = ?",
                       &q);
        if (r < 0)
                return r;
        if (chart_version)
                sqlite3_bind_text(q, 1, chart_version, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, revision);
        sqlite3_bind_int64(q, 3, revision);
        if (url)
                sqlite3_bind_text(q, 4, url, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 5, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 6, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        store_changed_notify();
        return 0;
}

/* Refuses a request: returns the domain error e with the message the caller shows. */
_printf_(3, 4) static int fail(StoreError *err, Error e, const char *fmt, ...)
{
        va_list ap;

        assert(e > 0);
        if (err) {
                va_start(ap, fmt);
                /* The messages are short; one cut at the buffer's end still reads, so truncation is fine. */
                (void) vsnprintf(err->message, sizeof err->message, fmt, ap);
                va_end(ap);
        }
        return (int) e;
}

/*
 * What an operation returns for r: domain errors (> 0) as they are, and the database's failures the
 * caller can act on turned into theirs (error_from_errno). A full disk is logged here, once, with the
 * file that could not grow: only this layer knows it, and the callers above just answer.
 */
static int outcome(Db *db, int r, StoreError *err)
{
        int e;

        if (r >= 0)
                return r;
        e = error_from_errno(r);
        if (e == ERROR_STORAGE_FULL)
                log_struct_errno(LOG_ERR, r, LOG_FIELDS("DATABASE", db_path(db)),
                                 "Database '%s' has no space left, request refused: %m", db_path(db));
        else if (e == ERROR_TRY_AGAIN && err)
                err->retry_after_sec = 1;
        return e;
}

/* Checks the caps that bound what the cluster is asked to do. Called inside the write transaction. */
static int check_pending_cap(Db *db, const StoreLimits *limits, StoreError *err)
{
        uint64_t pending;
        int r;

        r = queue_count_active(db, &pending);
        if (r < 0)
                return r;
        if (pending >= limits->max_pending_tasks) {
                if (err)
                        err->retry_after_sec = 30;
                return fail(err, ERROR_TASK_CAP,
                            "Too many operations are queued (%" PRIu64 " of %" PRIu64
                            " allowed); try again when some have finished.",
                            pending, limits->max_pending_tasks);
        }
        return 0;
}

int store_has_active_task(Db *db, const char *id, bool *ret)
{
        uint64_t n;
        int r = query_u64(db, "SELECT count(*) FROM tasks WHERE store_id = ? AND state IN ('queued', 'running')", id,
                          0, &n);
        if (r < 0)
                return r;
        *ret = n > 0;
        return 0;
}

static int write_status_in_tx(Db *db, const char *id, StoreStatus status, const char *reason)
{
        return store_set_status(db, id, status, reason);
}

/* Finds the store an Idempotency-Key created: *ret_store_id stays NULL when the key is new. */
static int idempotency_lookup(Db *db, const char *key, const char *actor, const char *request_hash,
                              char **ret_store_id, StoreError *err)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db, "SELECT store_id, request_hash FROM idempotency_keys WHERE key = ? AND actor = ?", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, key, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, actor, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        if (!streq_ptr((const char *) sqlite3_column_text(q, 1), request_hash))
                return fail(err, ERROR_KEY_REUSED,
                            "Idempotency-Key '%s' was already used for a different request.", key);
        *ret_store_id = db_column_strdup(q, 0);
        return *ret_store_id ? 0 : -ENOMEM;
}

int store_create(Db *db, const StoreLimits *limits, const char *actor, const char *name, const char *engine,
                 const char *chart_version, const char *idempotency_key, Store **ret, bool *ret_replayed,
                 StoreError *err)
{
        _cleanup_free_ char *id = NULL, *existing = NULL, *request = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        const char *why;
        char request_hash[65];
        uint64_t n, now = now_usec();
        int r, rc;

        if (store_name_validate(name, &why) < 0)
                return fail(err, ERROR_INVALID_NAME, "%s", why);
        if (!streq_ptr(engine, "woocommerce"))
                return fail(err, ERROR_INVALID_ENGINE, "Unsupported engine '%s'; supported engines: woocommerce.", strna(engine));

        if (asprintf(&request, "%s\n%s", name, engine) < 0)
                return -ENOMEM;
        r = sha256_hex(request, strlen(request), request_hash);
        if (r < 0)
                return r;

        r = db_begin(db);
        if (r < 0)
                return outcome(db, r, err);

        if (idempotency_key) {
                r = idempotency_lookup(db, idempotency_key, actor, request_hash, &existing, err);
                if (r != 0)
                        goto fail;
                if (existing) {
                        db_rollback(db);
                        if (ret_replayed)
                                *ret_replayed = true;
                        return outcome(db, store_get(db, existing, ret), err);
                }
        }

        r = query_u64(db, "SELECT count(*) FROM stores WHERE name = ? AND deleted_at IS NULL", name, 0, &n);
        if (r < 0)
                goto fail;
        if (n > 0) {
                r = fail(err, ERROR_NAME_TAKEN, "A store named '%s' already exists.", name);
                goto fail;
        }

        r = store_count_active(db, &n);
        if (r < 0)
                goto fail;
        if (n >= limits->max_stores) {
                if (err)
                        err->retry_after_sec = 3600;
                r = fail(err, ERROR_STORE_CAP,
                         "This platform already runs %" PRIu64 " of at most %" PRIu64
                         " stores; delete one before creating another.",
                         n, limits->max_stores);
                goto fail;
        }

        r = store_creates_in_last_hour(db, actor, &n);
        if (r < 0)
                goto fail;
        if (n >= limits->creates_per_hour) {
                uint64_t oldest;
                /* The window slides: the oldest creation in the last hour leaves it first. */
                r = query_u64(db, "SELECT coalesce(min(created_at), 0) FROM stores WHERE owner = ? AND created_at > ?",
                              actor, now - 3600 * USEC_PER_SEC, &oldest);
                if (r < 0)
                        goto fail;
                uint64_t wait = oldest + 3600 * USEC_PER_SEC > now ? oldest + 3600 * USEC_PER_SEC - now : 0;
                if (err)
                        err->retry_after_sec = MAX((wait + USEC_PER_SEC - 1) / USEC_PER_SEC, (uint64_t) 1);
                r = fail(err, ERROR_CREATION_LIMITED,
                         "Creation limit reached: %" PRIu64 " stores per hour; try again in %" PRIu64 " seconds.",
                         limits->creates_per_hour, err ? err->retry_after_sec : 0);
                goto fail;
        }

        r = check_pending_cap(db, limits, err);
        if (r != 0)
                goto fail;

        r = random_hex(8, &id);
        if (r < 0)
                goto fail;

        r = db_prepare(db,
                       "INSERT INTO stores (id, name, engine, owner, status, chart_version, created_at, updated_at, "
                       "seq, step) VALUES (?, ?, ?, ?, 'PROVISIONING', ?, ?, ?, " SEQ_NEXT ", 'queued')",
                       &q);
        if (r < 0)
                goto fail;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 3, engine, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, actor, -1, SQLITE_TRANSIENT);
        if (chart_version)
                sqlite3_bind_text(q, 5, chart_version, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 6, (sqlite3_int64) now);
        sqlite3_bind_int64(q, 7, (sqlite3_int64) now);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE) {
                r = db_errno(rc);
                goto fail;
        }

        if (idempotency_key) {
                _cleanup_stmt_ sqlite3_stmt *k = NULL;
                r = db_prepare(db,
                               "INSERT INTO idempotency_keys (key, actor, request_hash, store_id, created_at) "
                               "VALUES (?, ?, ?, ?, ?)",
                               &k);
                if (r < 0)
                        goto fail;
                sqlite3_bind_text(k, 1, idempotency_key, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(k, 2, actor, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(k, 3, request_hash, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(k, 4, id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(k, 5, (sqlite3_int64) now);
                rc = sqlite3_step(k);
                if (rc != SQLITE_DONE) {
                        r = db_errno(rc);
                        goto fail;
                }
        }

        r = queue_enqueue(db, id, TASK_CREATE, NULL, actor, NULL);
        if (r < 0)
                goto fail;
        r = store_add_event(db, id, actor, "store.create", "Store requested (engine woocommerce).");
        if (r < 0)
                goto fail;
        r = db_commit(db);
        if (r < 0)
                goto fail;

        store_changed_notify();
        if (ret_replayed)
                *ret_replayed = false;
        return outcome(db, store_get(db, id, ret), err);

fail:
        db_rollback(db);
        return outcome(db, r, err);
}

/* Common shape of retry/upgrade/rollback: check state, queue one task, move status, record. */
static int store_operation(Db *db, const StoreLimits *limits, const char *actor, const char *id, TaskKind kind,
                           json_t *payload, StoreStatus to, const char *action, const char *detail, Store **ret,
                           StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        bool busy;
        int r;

        r = db_begin(db);
        if (r < 0)
                return outcome(db, r, err);
        r = store_get(db, id, &cur);
        if (r < 0) {
                if (r == -ENOENT)
                        r = fail(err, ERROR_NOT_FOUND, "No store with id '%s'.", id);
                goto fail;
        }
        r = store_has_active_task(db, id, &busy);
        if (r < 0)
                goto fail;
        if (busy) {
                r = fail(err, ERROR_BUSY, "Store '%s' is busy with another operation; wait until it is %s.", cur->name,
                         "finished");
                goto fail;
        }
        if (!store_status_transition_allowed(cur->status, to) || cur->status == to) {
                r = fail(err, ERROR_INVALID_STATE, "Store '%s' is %s; %s is not possible now.", cur->name,
                         store_status_to_string(cur->status), action);
                goto fail;
        }
        r = check_pending_cap(db, limits, err);
        if (r != 0)
                goto fail;
        r = queue_enqueue(db, id, kind, payload, actor, NULL);
        if (r < 0)
                goto fail;
        r = write_status_in_tx(db, id, to, NULL);
        if (r < 0)
                goto fail;
        r = store_set_progress(db, id, "queued", 0, 0);
        if (r < 0)
                goto fail;
        r = store_add_event(db, id, actor, action, detail);
        if (r < 0)
                goto fail;
        r = db_commit(db);
        if (r < 0)
                goto fail;
        store_changed_notify();
        return outcome(db, store_get(db, id, ret), err);

fail:
        db_rollback(db);
        return outcome(db, r, err);
}

int store_retry(Db *db, const StoreLimits *limits, const char *actor, const char *id, Store **ret,
                StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_free_ char *last_kind = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r;

        r = store_get(db, id, &cur);
        if (r < 0)
                return r == -ENOENT ? fail(err, ERROR_NOT_FOUND, "No store with id '%s'.", id) : outcome(db, r, err);
        if (cur->status != STORE_FAILED)
                return fail(err, ERROR_INVALID_STATE, "Store '%s' is %s; only a FAILED store can be retried.", cur->name,
                            store_status_to_string(cur->status));

        /* A failed delete is retried as a delete; anything else provisions again. */
        r = db_prepare(db, "SELECT kind FROM tasks WHERE store_id = ? ORDER BY id DESC LIMIT 1", &q);
        if (r < 0)
                return outcome(db, r, err);
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(q) == SQLITE_ROW)
                last_kind = db_column_strdup(q, 0);

        if (streq_ptr(last_kind, "delete"))
                return store_operation(db, limits, actor, id, TASK_DELETE, NULL, STORE_DELETING, "store.retry",
                                       "Retrying the delete.", ret, err);
        return store_operation(db, limits, actor, id, TASK_CREATE, NULL, STORE_PROVISIONING, "store.retry",
                               "Retrying provisioning.", ret, err);
}

int store_upgrade(Db *db, const StoreLimits *limits, const char *actor, const char *id, const char *chart_version,
                  Store **ret, StoreError *err)
{
        _cleanup_(json_decrefp) json_t *payload = NULL;
        _cleanup_free_ char *detail = NULL;

        if (!chart_version_is_valid(chart_version))
                return fail(err, ERROR_INVALID_REQUEST, "chart_version must be a version such as 0.2.0.");
        payload = json_pack("{s:s}", "chart_version", chart_version);
        if (!payload || asprintf(&detail, "Upgrade to chart version %s requested.", chart_version) < 0)
                return -ENOMEM;
        return store_operation(db, limits, actor, id, TASK_UPGRADE, payload, STORE_UPGRADING, "store.upgrade",
                               detail, ret, err);
}

int store_rollback(Db *db, const StoreLimits *limits, const char *actor, const char *id, int64_t revision,
                   Store **ret, StoreError *err)
{
        _cleanup_(json_decrefp) json_t *payload = NULL;
        _cleanup_free_ char *detail = NULL;

        if (revision < 1 || revision > 1000000)
                return fail(err, ERROR_INVALID_REQUEST, "revision must be a positive Helm revision number.");
        payload = json_pack("{s:I}", "revision", (json_int_t) revision);
        if (!payload || asprintf(&detail, "Rollback to revision %" PRIi64 " requested.", revision) < 0)
                return -ENOMEM;
        return store_operation(db, limits, actor, id, TASK_ROLLBACK, payload, STORE_UPGRADING, "store.rollback",
                               detail, ret, err);
}

int store_delete(Db *db, const char *actor, const char *id, Store **ret, StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        uint64_t n;
        int r;

        r = db_begin(db);
        if (r < 0)
                return outcome(db, r, err);
        r = store_get(db, id, &cur);
        if (r < 0) {
                if (r == -ENOENT)
                        r = fail(err, ERROR_NOT_FOUND, "No store with id '%s'.", id);
                goto fail;
        }
        if (cur->status == STORE_DELETED || cur->status == STORE_DELETING) {
                /* Deleting twice is not an error: the caller gets the store as it is. */
                db_rollback(db);
                *ret = TAKE_PTR(cur);
                return 0;
        }

        /* Whatever was queued is moot now; a running task sees DELETING and stops at its next step. */
        r = queue_cancel_queued(db, id);
        if (r < 0)
                goto fail;
        r = query_u64(db, "SELECT count(*) FROM tasks WHERE store_id = ? AND state = 'queued' AND kind = 'delete'", id,
                      0, &n);
        if (r < 0)
                goto fail;
        if (n == 0) {
                r = queue_enqueue(db, id, TASK_DELETE, NULL, actor, NULL);
                if (r < 0)
                        goto fail;
        }
        r = write_status_in_tx(db, id, STORE_DELETING, NULL);
        if (r < 0)
                goto fail;
        r = store_set_progress(db, id, "queued", 0, 0);
        if (r < 0)
                goto fail;
        r = store_add_event(db, id, actor, "store.delete", "Delete requested.");
        if (r < 0)
                goto fail;
        r = db_commit(db);
        if (r < 0)
                goto fail;
        store_changed_notify();
        return outcome(db, store_get(db, id, ret), err);

fail:
        db_rollback(db);
        return outcome(db, r, err);
}
