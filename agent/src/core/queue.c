/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/queue.h"

static const char *const task_kind_table[_TASK_KIND_MAX] = {
        [TASK_CREATE] = "create",
        [TASK_DELETE] = "delete",
        [TASK_UPGRADE] = "upgrade",
        [TASK_ROLLBACK] = "rollback",
        [TASK_ROTATE_CREDENTIALS] = "rotate-credentials",
        [TASK_BACKUP] = "backup",
        [TASK_RESTORE] = "restore",
};

const char *task_kind_to_string(TaskKind k)
{
        return k >= 0 && k < _TASK_KIND_MAX ? task_kind_table[k] : NULL;
}

TaskKind task_kind_from_string(const char *s)
{
        for (size_t i = 0; i < _TASK_KIND_MAX; i++)
                if (streq_ptr(task_kind_table[i], s))
                        return (TaskKind) i;
        return _TASK_KIND_INVALID;
}

Task *task_free(Task *t)
{
        if (!t)
                return NULL;
        free(t->store_id);
        free(t->actor);
        json_decref(t->payload);
        free(t);
        return NULL;
}

int queue_enqueue(Db *db, const char *store_id, TaskKind kind, json_t *payload, const char *actor, int64_t *ret_id)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *p = NULL;
        uint64_t now = now_usec();
        int r, rc;

        assert(db);
        assert(store_id);
        if (payload) {
                p = json_dumps(payload, JSON_COMPACT);
                if (!p)
                        return -ENOMEM;
        }
        r = db_prepare(db,
                       "INSERT INTO tasks (store_id, kind, payload, actor, state, created_at, updated_at) "
                       "VALUES (?, ?, ?, ?, 'queued', ?, ?)",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, store_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, task_kind_to_string(kind), -1, SQLITE_STATIC);
        if (p)
                sqlite3_bind_text(q, 3, p, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, actor ?: "system", -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 5, (sqlite3_int64) now);
        sqlite3_bind_int64(q, 6, (sqlite3_int64) now);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        if (ret_id)
                *ret_id = sqlite3_last_insert_rowid(db_handle(db));
        return 0;
}

int queue_lease_at(Db *db, uint64_t now, const char *owner, uint64_t lease_usec, Task **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(task_freep) Task *t = NULL;
        int r, rc;

        assert(db);
        assert(owner);
        assert(ret);

        /*
         * One statement, so two workers can never lease the same row: runnable
         * means queued and due, or running with a lease that ran out, and no
         * other task of the same store holds a live lease.
         */
        r = db_prepare(db,
                       "UPDATE tasks SET state = 'running', lease_owner = ?1, lease_expires_at = ?2, "
                       "lease_token = lease_token + 1, "
                       "attempts = attempts + 1, started_at = coalesce(started_at, ?3), updated_at = ?3 "
                       "WHERE id = (SELECT t.id FROM tasks t "
                       "  WHERE ((t.state = 'queued' AND t.not_before <= ?3) "
                       "         OR (t.state = 'running' AND t.lease_expires_at < ?3)) "
                       "    AND NOT EXISTS (SELECT 1 FROM tasks o WHERE o.store_id = t.store_id AND o.id <> t.id "
                       "                    AND o.state = 'running' AND o.lease_expires_at >= ?3) "
                       "    AND NOT EXISTS (SELECT 1 FROM tasks o WHERE o.store_id = t.store_id AND o.id < t.id "
                       "                    AND o.state IN ('queued', 'running')) "
                       /* A task back for another look at its store's workloads goes after work not started
                        * yet, so that stores that keep waiting never keep a new task from its first step. */
                       "  ORDER BY t.state = 'queued' AND t.last_error IS ?4, t.id LIMIT 1) "
                       "RETURNING id, store_id, kind, payload, actor, attempts, created_at, lease_token, child_pid, child_start, "
                       "started_at",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) (now + lease_usec));
        sqlite3_bind_int64(q, 3, (sqlite3_int64) now);
        sqlite3_bind_text(q, 4, QUEUE_WAITING_FOR_WORKLOADS, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -EAGAIN;
        if (rc != SQLITE_ROW)
                return db_errno(rc);

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->id = sqlite3_column_int64(q, 0);
        t->store_id = db_column_strdup(q, 1);
        t->kind = task_kind_from_string((const char *) sqlite3_column_text(q, 2));
        if (sqlite3_column_type(q, 3) != SQLITE_NULL)
                t->payload = json_loads((const char *) sqlite3_column_text(q, 3), 0, NULL);
        t->actor = db_column_strdup(q, 4);
        t->attempts = sqlite3_column_int(q, 5);
        t->created_at = (uint64_t) sqlite3_column_int64(q, 6);
        t->lease_token = sqlite3_column_int64(q, 7);
        t->child_pid = sqlite3_column_int(q, 8);
        t->child_start = (uint64_t) sqlite3_column_int64(q, 9);
        t->started_at = (uint64_t) sqlite3_column_int64(q, 10);
        if (!t->store_id || !t->actor)
                return -ENOMEM;
        /* Let the statement finish so the row update commits; a commit that fails (a read-only or full disk) is no lease. */
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
                ;
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(t);
        return 0;
}

/*
 * Every write of a worker names the lease it holds: the owner and the token this lease got.
 * A worker whose lease ran out and went to someone else (even a worker of the same name, which
 * leased the task again later) matches neither and gets -ESTALE.
 */
static int update_owned(Db *db, uint64_t now, const char *sql, const Task *t, const char *owner, int64_t a,
                        const char *text)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(t);
        assert(owner);
        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, t->id);
        sqlite3_bind_text(q, 2, owner, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, (sqlite3_int64) now);
        sqlite3_bind_int64(q, 4, a);
        r = db_bind_text_utf8(q, 5, text, 4096);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 6, t->lease_token);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ESTALE;
}

#define OWNED "id = ?1 AND lease_owner = ?2 AND lease_token = ?6 AND state = 'running'"

int queue_heartbeat_at(Db *db, uint64_t now, const Task *t, const char *owner, uint64_t lease_usec)
{
        /* A lease that ran out but was not taken yet may be extended: taking it changes the token. */
        return update_owned(db, now,
                            "UPDATE tasks SET lease_expires_at = ?3 + ?4, updated_at = ?3 "
                            "WHERE " OWNED,
                            t, owner, (int64_t) lease_usec, NULL);
}

int queue_complete_at(Db *db, uint64_t now, const Task *t, const char *owner)
{
        return update_owned(db, now,
                            "UPDATE tasks SET state = 'done', lease_owner = NULL, lease_expires_at = NULL, "
                            "finished_at = ?3, updated_at = ?3, last_error = NULL "
                            "WHERE " OWNED,
                            t, owner, 0, NULL);
}

int queue_fail_at(Db *db, uint64_t now, const Task *t, const char *owner, const char *error)
{
        return update_owned(db, now,
                            "UPDATE tasks SET state = 'failed', lease_owner = NULL, lease_expires_at = NULL, "
                            "finished_at = ?3, updated_at = ?3, last_error = ?5 "
                            "WHERE " OWNED,
                            t, owner, 0, error);
}

int queue_retry_later_at(Db *db, uint64_t now, const Task *t, const char *owner, uint64_t delay_usec,
                         const char *error)
{
        return update_owned(db, now,
                            "UPDATE tasks SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, "
                            "not_before = ?3 + ?4, updated_at = ?3, last_error = ?5 "
                            "WHERE " OWNED,
                            t, owner, (int64_t) delay_usec, error);
}

int queue_set_child(Db *db, const Task *t, const char *owner, int pid, uint64_t start_time)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(t);
        assert(owner);
        /* Not fenced by the lease: a child we started is ours to record (and clear) whoever holds the
         * task now, or a later start could not find it. */
        r = db_prepare(db, "UPDATE tasks SET child_pid = ?2, child_start = ?3 WHERE id = ?1", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, t->id);
        if (pid > 0) {
                sqlite3_bind_int(q, 2, pid);
                sqlite3_bind_int64(q, 3, (sqlite3_int64) start_time);
        }
        rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int queue_set_payload(Db *db, const Task *t, const char *owner)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *p = NULL;
        int r, rc;

        assert(db);
        assert(t);
        assert(owner);
        if (t->payload) {
                p = json_dumps(t->payload, JSON_COMPACT);
                if (!p)
                        return -ENOMEM;
        }
        r = db_prepare(db,
                       "UPDATE tasks SET payload = ?3, updated_at = ?4 "
                       "WHERE id = ?1 AND lease_owner = ?2 AND lease_token = ?5 AND state = 'running'",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, t->id);
        sqlite3_bind_text(q, 2, owner, -1, SQLITE_TRANSIENT);
        if (p)
                sqlite3_bind_text(q, 3, p, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 4, (sqlite3_int64) now_usec());
        sqlite3_bind_int64(q, 5, t->lease_token);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ESTALE;
}

/* The real clock, for the daemon; tests call the _at() forms with a clock of their own. */

int queue_lease(Db *db, const char *owner, uint64_t lease_usec, Task **ret)
{
        return queue_lease_at(db, now_usec(), owner, lease_usec, ret);
}

int queue_heartbeat(Db *db, const Task *t, const char *owner, uint64_t lease_usec)
{
        return queue_heartbeat_at(db, now_usec(), t, owner, lease_usec);
}

int queue_complete(Db *db, const Task *t, const char *owner)
{
        return queue_complete_at(db, now_usec(), t, owner);
}

int queue_fail(Db *db, const Task *t, const char *owner, const char *error)
{
        return queue_fail_at(db, now_usec(), t, owner, error);
}

int queue_retry_later(Db *db, const Task *t, const char *owner, uint64_t delay_usec, const char *error)
{
        return queue_retry_later_at(db, now_usec(), t, owner, delay_usec, error);
}

int queue_cancel_queued(Db *db, const char *store_id)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(store_id);
        r = db_prepare(db,
                       "UPDATE tasks SET state = 'cancelled', updated_at = ?2, finished_at = ?2 "
                       "WHERE store_id = ?1 AND state = 'queued' AND kind <> 'delete'",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, store_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) now_usec());
        rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int queue_release_stale(Db *db, const char *owner_prefix_to_keep)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(owner_prefix_to_keep);
        r = db_prepare(db,
                       "UPDATE tasks SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL, "
                       "updated_at = ?2, not_before = 0 "
                       "WHERE state = 'running' AND (lease_owner IS NULL OR substr(lease_owner, 1, length(?1)) <> ?1)",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, owner_prefix_to_keep, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) now_usec());
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        return sqlite3_changes(db_handle(db));
}

int queue_count_active(Db *db, uint64_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r;

        assert(db);
        assert(ret);
        r = db_prepare(db, "SELECT count(*) FROM tasks WHERE state IN ('queued', 'running')", &q);
        if (r < 0)
                return r;
        if (sqlite3_step(q) != SQLITE_ROW)
                return db_errno(sqlite3_errcode(db_handle(db)));
        *ret = (uint64_t) sqlite3_column_int64(q, 0);
        return 0;
}

int queue_next_due_at(Db *db, uint64_t now, uint64_t *ret_usec)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        uint64_t due;
        int r;

        assert(db);
        assert(ret_usec);
        r = db_prepare(db, "SELECT min(not_before) FROM tasks WHERE state = 'queued'", &q);
        if (r < 0)
                return r;
        if (sqlite3_step(q) != SQLITE_ROW || sqlite3_column_type(q, 0) == SQLITE_NULL)
                return -ENODATA;
        due = (uint64_t) sqlite3_column_int64(q, 0);
        *ret_usec = due > now ? due - now : 0;
        return 0;
}

int queue_next_due(Db *db, uint64_t *ret_usec)
{
        return queue_next_due_at(db, now_usec(), ret_usec);
}

int queue_count_waiting_for_cluster(Db *db, uint64_t now, uint64_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(ret);
        r = db_prepare(db, "SELECT count(*) FROM tasks WHERE state = 'queued' AND not_before > ? AND last_error = ?",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) now);
        sqlite3_bind_text(q, 2, QUEUE_WAITING_FOR_CLUSTER, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        *ret = (uint64_t) sqlite3_column_int64(q, 0);
        return 0;
}

int queue_wake_waiting(Db *db, uint64_t now, const char *last_error, uint64_t *ret_woken)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(last_error);
        r = db_prepare(db,
                       "UPDATE tasks SET not_before = ?1 WHERE state = 'queued' AND not_before > ?1 AND last_error = ?2",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) now);
        sqlite3_bind_text(q, 2, last_error, -1, SQLITE_STATIC);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        if (ret_woken)
                *ret_woken = (uint64_t) sqlite3_changes(db_handle(db));
        return 0;
}

int queue_wake_waiting_for_cluster(Db *db, uint64_t now, uint64_t *ret_woken)
{
        return queue_wake_waiting(db, now, QUEUE_WAITING_FOR_CLUSTER, ret_woken);
}
