/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The operations users ask for: create, delete, retry, upgrade and roll back.
 * Each is one transaction that checks the request against the state machine
 * and the limits, records the intent, queues the task and writes the audit
 * event; a refusal is a domain error (core/error.h) and writes nothing.
 */

#include <inttypes.h>
#include <stdarg.h>

#include "basic/log.h"
#include "basic/names.h"
#include "basic/util.h"
#include "core/error.h"
#include "core/queue.h"
#include "core/store-internal.h"
#include "core/store.h"

/* Refuses a request: returns the domain error e with the message the caller shows. */
_printf_(3, 4) static int fail(StoreError *err, Error e, const char *fmt, ...)
{
        va_list ap;

        assert(e > 0);
        if (err) {
                va_start(ap, fmt);
                /*
                 * Every message bounds what the caller sent (names are validated, other input is cut
                 * with %.Ns), so it fits; the assert says so in the tests.
                 */
                int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
                assert(n >= 0 && (size_t) n < sizeof err->message);
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
                            "Idempotency-Key '%.128s' was already used for a different request.", key);
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

        assert(db);
        assert(limits);
        assert(actor);
        assert(name);
        assert(ret);

        if (store_name_validate(name, &why) < 0)
                return fail(err, ERROR_INVALID_NAME, "%s", why);
        if (!streq_ptr(engine, "woocommerce"))
                return fail(err, ERROR_INVALID_ENGINE, "Unsupported engine '%.64s'; supported engines: woocommerce.",
                            strna(engine));

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

        r = store_query_u64(db, "SELECT count(*) FROM stores WHERE name = ? AND deleted_at IS NULL", name, 0, &n);
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
                r = store_query_u64(db,
                                    "SELECT coalesce(min(created_at), 0) FROM stores WHERE owner = ? AND "
                                    "created_at > ?",
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
                        r = fail(err, ERROR_NOT_FOUND, "No store with id '%.64s'.", id);
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

        assert(db);
        assert(limits);
        assert(actor);
        assert(id);
        assert(ret);

        r = store_get(db, id, &cur);
        if (r < 0)
                return r == -ENOENT ? fail(err, ERROR_NOT_FOUND, "No store with id '%.64s'.", id) : outcome(db, r, err);
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

        assert(db);
        assert(limits);
        assert(actor);
        assert(id);
        assert(ret);

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

        assert(db);
        assert(limits);
        assert(actor);
        assert(id);
        assert(ret);

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

        assert(db);
        assert(actor);
        assert(id);
        assert(ret);

        r = db_begin(db);
        if (r < 0)
                return outcome(db, r, err);
        r = store_get(db, id, &cur);
        if (r < 0) {
                if (r == -ENOENT)
                        r = fail(err, ERROR_NOT_FOUND, "No store with id '%.64s'.", id);
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
        r = store_query_u64(db,
                            "SELECT count(*) FROM tasks WHERE store_id = ? AND state = 'queued' AND kind = 'delete'",
                            id, 0, &n);
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
