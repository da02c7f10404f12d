/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The store service's core: the status names and the state machine, change
 * notification, rows and their JSON, and the writes the task runner makes as it
 * works. The reads are in store-query.c, the operations users ask for in
 * store-operation.c.
 */

#include <inttypes.h>
#include <pthread.h>

#include "basic/log.h"
#include "basic/names.h"
#include "basic/util.h"
#include "core/store-internal.h"
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

        assert(seen);

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

void store_limits_from_config(const Config *c, StoreLimits *ret)
{
        assert(c);
        assert(ret);

        *ret = (StoreLimits) {
                .max_stores = c->max_stores,
                .creates_per_hour = c->creates_per_hour,
                .max_pending_tasks = c->max_pending_tasks,
                .tenant_max_stores = c->tenant_max_stores,
                .wait_for_capacity = streq_ptr(c->when_full, "wait"),
                .max_domains = c->max_domains,
        };
        snprintf(ret->base_domain, sizeof ret->base_domain, "%s", c->base_domain ? c->base_domain : "");
        snprintf(ret->own_hosts, sizeof ret->own_hosts, "%s", c->listen_hostnames ? c->listen_hostnames : "");
}

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

int store_from_row(sqlite3_stmt *q, Store **ret)
{
        _cleanup_(store_freep) Store *s = NULL;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->id = db_column_strdup_utf8(q, 0);
        s->name = db_column_strdup_utf8(q, 1);
        s->engine = db_column_strdup_utf8(q, 2);
        s->owner = db_column_strdup_utf8(q, 3);
        if (!s->id || !s->name || !s->engine || !s->owner)
                return -ENOMEM;
        s->status = store_status_from_string((const char *) sqlite3_column_text(q, 4));
        s->status_reason = db_column_strdup_utf8(q, 5);
        s->step = db_column_strdup_utf8(q, 6);
        s->progress_current = sqlite3_column_int(q, 7);
        s->progress_total = sqlite3_column_int(q, 8);
        s->url = db_column_strdup_utf8(q, 9);
        s->chart_version = db_column_strdup_utf8(q, 10);
        s->helm_revision = sqlite3_column_int64(q, 11);
        s->created_at = (uint64_t) sqlite3_column_int64(q, 12);
        s->updated_at = (uint64_t) sqlite3_column_int64(q, 13);
        s->deleted_at = (uint64_t) sqlite3_column_int64(q, 14);
        s->seq = sqlite3_column_int64(q, 15);
        s->account_id = sqlite3_column_int64(q, 16);
        *ret = TAKE_PTR(s);
        return 0;
}

static json_t *json_time(uint64_t usec)
{
        char buf[32];
        return usec ? json_string(format_timestamp(buf, usec, false)) : json_null();
}

json_t *store_to_json(const Store *s)
{
        json_t *progress;

        assert(s);

        progress = s->progress_total > 0
                           ? json_pack("{s:i, s:i}", "current", s->progress_current, "total", s->progress_total)
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

/* ---- writes ---- */

int store_add_event(Db *db, const char *id, const char *actor, const char *action, const char *detail)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(id);
        assert(actor);
        assert(action);

        r = db_prepare(db, "INSERT INTO events (store_id, time, actor, action, detail) VALUES (?, ?, ?, ?, ?)", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 3, actor, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 4, action, -1, SQLITE_TRANSIENT);
        r = db_bind_text_utf8(q, 5, detail, STORE_EVENT_DETAIL_MAX);
        if (r < 0)
                return r;
        rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int store_set_status(Db *db, const char *id, StoreStatus status, const char *reason)
{
        _cleanup_(store_freep) Store *cur = NULL;
        int r;

        assert(db);
        assert(id);

        r = store_get(db, id, &cur);
        if (r < 0)
                return r;
        return store_set_status_if(db, id, cur->status, status, reason);
}

int store_set_status_if(Db *db, const char *id, StoreStatus expected, StoreStatus status, const char *reason)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(id);

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
        r = db_bind_text_utf8(q, 2, reason, STORE_REASON_MAX);
        if (r < 0)
                return r;
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

        assert(db);
        assert(id);

        r = db_prepare(db,
                       "UPDATE stores SET step = ?, progress_current = ?, progress_total = ?, updated_at = ?, "
                       "seq = " SEQ_NEXT " WHERE id = ? AND (step IS NOT ? OR progress_current IS NOT ? OR "
                       "progress_total IS NOT ?)",
                       &q);
        if (r < 0)
                return r;
        r = db_bind_text_utf8(q, 1, step, STORE_STEP_MAX);
        if (r >= 0)
                r = db_bind_text_utf8(q, 6, step, STORE_STEP_MAX);
        if (r < 0)
                return r;
        sqlite3_bind_int(q, 2, current);
        sqlite3_bind_int(q, 3, total);
        sqlite3_bind_int64(q, 4, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 5, id, -1, SQLITE_TRANSIENT);
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
        /* Bound twice the same way, so a reason that only differs past the limit is no change. */
        r = db_bind_text_utf8(q, 1, reason, STORE_REASON_MAX);
        if (r >= 0)
                r = db_bind_text_utf8(q, 4, reason, STORE_REASON_MAX);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 2, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 3, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        if (sqlite3_changes(db_handle(db)) > 0)
                store_changed_notify();
        return 0;
}

int store_set_releases(Db *db, const char *id, json_t *items)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *text = NULL;
        int r, rc;

        assert(db);
        assert(id);
        assert(items);
        text = json_dumps(items, JSON_COMPACT);
        if (!text)
                return -EINVAL; /* not representable as JSON text (invalid UTF-8 from helm, say) */
        r = db_prepare(db, "UPDATE stores SET releases = ? WHERE id = ?", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ENOENT;
}

int store_get_releases(Db *db, const char *id, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        const char *text;
        json_t *items;
        int r, rc;

        assert(db);
        assert(id);
        assert(ret);
        r = db_prepare(db, "SELECT releases FROM stores WHERE id = ?", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        text = (const char *) sqlite3_column_text(q, 0);
        if (!text)
                return -ENODATA;
        items = json_loads(text, 0, NULL);
        if (!json_is_array(items)) {
                json_decref(items);
                return -ENODATA; /* unreadable: as if never read, so the next read replaces it */
        }
        *ret = items;
        return 0;
}

int store_set_release(Db *db, const char *id, const char *chart_version, int64_t revision, const char *url)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(id);

        r = db_prepare(db,
                       "UPDATE stores SET chart_version = coalesce(?, chart_version), helm_revision = CASE WHEN ? > "
                       "0 THEN ? ELSE helm_revision END, url = coalesce(?, url), updated_at = ?, seq = " SEQ_NEXT
                       " WHERE id = ?",
                       &q);
        if (r < 0)
                return r;
        r = db_bind_text_utf8(q, 1, chart_version, STORE_STEP_MAX);
        if (r >= 0)
                r = db_bind_text_utf8(q, 4, url, STORE_REASON_MAX);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 2, revision);
        sqlite3_bind_int64(q, 3, revision);
        sqlite3_bind_int64(q, 5, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 6, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        store_changed_notify();
        return 0;
}

