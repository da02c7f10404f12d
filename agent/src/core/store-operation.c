/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The operations users ask for on a store that exists: delete, retry, upgrade, roll back and
 * a new administrator password.
 * Each is one transaction that checks the request against the state machine
 * and the limits, records the intent, queues the task and writes the audit
 * event; a refusal is a domain error (core/error.h) and writes nothing.
 */

#include <inttypes.h>
#include <stdarg.h>

#include "basic/log.h"
#include "basic/names.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/audit.h"
#include "core/error.h"
#include "core/queue.h"
#include "core/operation.h"
#include "core/store-internal.h"
#include "core/store-settings.h"
#include "core/store.h"

/* Common shape of retry/upgrade/rollback: check state, queue one task, move status, record. */
/* With apply (settings and domain operations), what the release is made of changes in the same
 * transaction, after the state checks. */
static int store_operation_full(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                                TaskKind kind, json_t *payload, StoreStatus to, const char *action,
                                const char *detail, const char *waiting, StoreApplyFn apply, void *userdata,
                                Store **ret, StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        bool busy;
        int r;

        r = db_begin(db);
        if (r < 0)
                return op_refuse(db, caller, action, id, NULL, r, err);
        r = op_get_store(db, caller, id, &cur, err);
        if (r != 0)
                return op_refuse(db, caller, action, id, NULL, r, err);
        r = store_has_active_task(db, id, &busy);
        if (r < 0)
                goto fail;
        if (busy) {
                r = op_fail(err, ERROR_BUSY, "Store '%s' is busy with another operation; wait until it is %s.", cur->name,
                         "finished");
                goto fail;
        }
        if (!store_status_transition_allowed(cur->status, to) || cur->status == to) {
                r = op_fail(err, ERROR_INVALID_STATE, "Store '%s' is %s; %s is not possible now.", cur->name,
                         store_status_to_string(cur->status), action);
                goto fail;
        }
        r = op_check_pending_cap(db, limits, err);
        if (r != 0)
                goto fail;
        /* A redeploy: an upgrade to the version the store runs. */
        if (kind == TASK_UPGRADE && !json_object_get(payload, "chart_version")) {
                if (isempty(cur->chart_version)) {
                        r = op_fail(err, ERROR_INVALID_STATE, "Store '%s' has no chart version installed yet.",
                                    cur->name);
                        goto fail;
                }
                if (json_object_set_new(payload, "chart_version", json_string(cur->chart_version)) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        if (apply) {
                r = apply(db, cur, payload, userdata, err);
                if (r != 0)
                        goto fail;
        }
        r = queue_enqueue(db, id, kind, payload, caller->account, NULL);
        if (r < 0)
                goto fail;
        /* Waiting for room (an upgrade when the nodes are full and stores.capacity.when_full is wait): the
         * task finds the step and waits without a worker until there is room. */
        r = store_set_status(db, id, to, waiting);
        if (r < 0)
                goto fail;
        r = store_set_progress(db, id, waiting ? STORE_STEP_WAITING_FOR_CAPACITY : "queued", 0, 0);
        if (r < 0)
                goto fail;
        return op_commit(db, caller, cur, action, detail, ret, err);

fail:
        return op_refuse(db, caller, action, cur->name, id, r, err);
}

static int store_operation(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, TaskKind kind,
                           json_t *payload, StoreStatus to, const char *action, const char *detail,
                           const char *waiting, Store **ret, StoreError *err)
{
        return store_operation_full(db, limits, caller, id, kind, payload, to, action, detail, waiting, NULL,
                                    NULL, ret, err);
}

int store_redeploy(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, Store **ret,
                   StoreError *err)
{
        _cleanup_(json_decrefp) json_t *payload = json_object();

        assert(db);
        assert(caller);
        assert(id);
        assert(ret);

        if (!payload)
                return -ENOMEM;
        /* The same chart version: it takes the room it has, so no capacity question. */
        return store_operation_full(db, limits, caller, id, TASK_UPGRADE, payload, STORE_UPGRADING,
                                    "store.redeploy", "Redeploy of the current chart version requested.", NULL,
                                    NULL, NULL, ret, err);
}

int store_redeploy_with(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                        const char *action, const char *detail, StoreApplyFn apply, void *userdata,
                        Store **ret, StoreError *err)
{
        _cleanup_(json_decrefp) json_t *payload = json_object();

        assert(db);
        assert(caller);
        assert(id);
        assert(apply);
        assert(ret);

        if (!payload)
                return -ENOMEM;
        return store_operation_full(db, limits, caller, id, TASK_UPGRADE, payload, STORE_UPGRADING, action,
                                    detail, NULL, apply, userdata, ret, err);
}

int store_retry(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, Store **ret,
                StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_free_ char *last_kind = NULL, *clone = NULL;
        _cleanup_(json_decrefp) json_t *payload = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r;

        assert(db);
        assert(limits);
        assert(caller);
        assert(id);
        assert(ret);

        r = store_get_visible(db, caller, id, &cur);
        if (r == -ENOENT)
                r = op_fail(err, ERROR_NOT_FOUND, "No store with id '%.*s'.", UTF8_PREFIX(id, 64));
        if (r != 0)
                return op_refuse(db, caller, "store.retry", id, NULL, r, err);
        if (cur->status != STORE_FAILED) {
                r = op_fail(err, ERROR_INVALID_STATE, "Store '%s' is %s; only a FAILED store can be retried.", cur->name,
                         store_status_to_string(cur->status));
                return op_refuse(db, caller, "store.retry", cur->name, id, r, err);
        }

        /* A failed delete is retried as a delete; anything else provisions again. */
        /* A clone provisions again as the clone it is: its create's source goes with the retry. */
        r = db_prepare(db,
                       "SELECT kind, (SELECT json_extract(c.payload, '$.clone') FROM tasks c "
                       "WHERE c.store_id = ?1 AND c.kind = 'create' AND json_valid(c.payload) "
                       "ORDER BY c.id LIMIT 1) "
                       "FROM tasks WHERE store_id = ?1 ORDER BY id DESC LIMIT 1",
                       &q);
        if (r < 0)
                return op_outcome(db, r, err);
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(q) == SQLITE_ROW) {
                last_kind = db_column_strdup(q, 0);
                clone = db_column_strdup(q, 1);
        }
        /*
         * Finished before the operation's transaction: a statement left on its row holds a read
         * snapshot, and SQLite answers BEGIN IMMEDIATE on such a connection with SQLITE_BUSY at once,
         * without waiting (it could deadlock), so a retry that met another writer was 503 busy.
         */
        db_stmt_release(TAKE_PTR(q));

        if (streq_ptr(last_kind, "delete"))
                return store_operation(db, limits, caller, id, TASK_DELETE, NULL, STORE_DELETING, "store.retry",
                                       "Retrying the delete.", NULL, ret, err);
        if (clone) {
                payload = json_pack("{s:o}", "clone", json_loads(clone, 0, NULL) ?: json_null());
                if (!payload)
                        return op_outcome(db, -ENOMEM, err);
        }
        return store_operation(db, limits, caller, id, TASK_CREATE, payload, STORE_PROVISIONING,
                               "store.retry",
                               clone ? "Retrying provisioning (of a clone: its backup is restored again)."
                                     : "Retrying provisioning.",
                               NULL, ret, err);
}

int store_upgrade(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, const char *chart_version,
                  Store **ret, StoreError *err)
{
        _cleanup_(json_decrefp) json_t *payload = NULL;
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_free_ char *detail = NULL;
        char waiting[sizeof err->message] = "";
        int r;

        assert(db);
        assert(limits);
        assert(caller);
        assert(id);
        assert(ret);

        if (!chart_version_is_valid(chart_version))
                return op_refuse(db, caller, "store.upgrade", id, NULL,
                              op_fail(err, ERROR_INVALID_REQUEST, "chart_version must be a version such as 0.2.0."), err);
        payload = json_pack("{s:s}", "chart_version", chart_version);
        if (!payload || asprintf(&detail, "Upgrade to chart version %s requested.", chart_version) < 0)
                return -ENOMEM;

        /* Under the creates' lock: an upgrade and a create racing for the last room never both get it.
         * The question reads the cluster, so it is asked outside the transaction, of a store that may
         * upgrade. */
        store_admission_lock();
        if (store_get_visible(db, caller, id, &cur) == 0 && cur->status != STORE_UPGRADING &&
            store_status_transition_allowed(cur->status, STORE_UPGRADING)) {
                r = store_upgrade_admission_ask(db, cur, chart_version, waiting, sizeof waiting);
                if (r == ERROR_NO_CAPACITY && !limits->wait_for_capacity) {
                        store_admission_unlock();
                        return op_refuse(db, caller, "store.upgrade", cur->name, id,
                                         op_fail(err, ERROR_NO_CAPACITY, "%s", waiting), err);
                }
                if (r != ERROR_NO_CAPACITY)
                        waiting[0] = 0;
        }
        r = store_operation(db, limits, caller, id, TASK_UPGRADE, payload, STORE_UPGRADING, "store.upgrade",
                            detail, waiting[0] ? waiting : NULL, ret, err);
        store_admission_unlock();
        return r;
}

int store_rollback(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, int64_t revision,
                   Store **ret, StoreError *err)
{
        _cleanup_(json_decrefp) json_t *payload = NULL;
        _cleanup_free_ char *detail = NULL;

        assert(db);
        assert(limits);
        assert(caller);
        assert(id);
        assert(ret);

        if (revision < 1 || revision > 1000000)
                return op_refuse(db, caller, "store.rollback", id, NULL,
                              op_fail(err, ERROR_INVALID_REQUEST, "revision must be a positive Helm revision number."),
                              err);
        payload = json_pack("{s:I}", "revision", (json_int_t) revision);
        if (!payload || asprintf(&detail, "Rollback to revision %" PRIi64 " requested.", revision) < 0)
                return -ENOMEM;
        return store_operation(db, limits, caller, id, TASK_ROLLBACK, payload, STORE_UPGRADING, "store.rollback",
                               detail, NULL, ret, err);
}

int store_rotate_credentials(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, Store **ret,
                             StoreError *err)
{
        static const char action[] = "credentials.rotate";
        _cleanup_(store_freep) Store *cur = NULL;
        bool busy;
        int r;

        assert(db);
        assert(limits);
        assert(caller);
        assert(id);
        assert(ret);

        r = db_begin(db);
        if (r < 0)
                return op_refuse(db, caller, action, id, NULL, r, err);
        r = op_get_store(db, caller, id, &cur, err);
        if (r != 0)
                return op_refuse(db, caller, action, id, NULL, r, err);
        r = store_has_active_task(db, id, &busy);
        if (r < 0)
                goto fail;
        if (busy) {
                r = op_fail(err, ERROR_BUSY, "Store '%s' is busy with another operation; wait until it is finished.",
                         cur->name);
                goto fail;
        }
        /* Only a running shop has an administrator whose password a Job can change. */
        if (cur->status != STORE_READY) {
                r = op_fail(err, ERROR_INVALID_STATE, "Store '%s' is %s; its password can be changed once it is READY.",
                         cur->name, store_status_to_string(cur->status));
                goto fail;
        }
        r = op_check_pending_cap(db, limits, err);
        if (r != 0)
                goto fail;
        r = queue_enqueue(db, id, TASK_ROTATE_CREDENTIALS, NULL, caller->account, NULL);
        if (r < 0)
                goto fail;
        /* The status stays READY: the shop keeps serving, and its old password stays valid until the new one is. */
        r = store_set_progress(db, id, "queued", 0, 0);
        if (r < 0)
                goto fail;
        return op_commit(db, caller, cur, action, "A new administrator password was requested.", ret, err);

fail:
        return op_refuse(db, caller, action, cur->name, id, r, err);
}

int store_delete(Db *db, const Caller *caller, const char *id, Store **ret, StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        uint64_t n;
        int r;

        assert(db);
        assert(caller);
        assert(id);
        assert(ret);

        r = db_begin(db);
        if (r < 0)
                return op_refuse(db, caller, "store.delete", id, NULL, r, err);
        r = op_get_store(db, caller, id, &cur, err);
        if (r != 0)
                return op_refuse(db, caller, "store.delete", id, NULL, r, err);
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
                r = queue_enqueue(db, id, TASK_DELETE, NULL, caller->account, NULL);
                if (r < 0)
                        goto fail;
        }
        r = store_set_status(db, id, STORE_DELETING, NULL);
        if (r < 0)
                goto fail;
        r = store_set_progress(db, id, "queued", 0, 0);
        if (r < 0)
                goto fail;
        return op_commit(db, caller, cur, "store.delete", "Delete requested.", ret, err);

fail:
        return op_refuse(db, caller, "store.delete", cur->name, id, r, err);
}

int store_transfer(Db *db, const Caller *caller, const char *id, const char *account, Store **ret, StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_(account_freep) Account *to = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *detail = NULL;
        int r, rc;

        assert(db);
        assert(caller);
        assert(id);
        assert(account);
        assert(ret);

        if (!caller_is_admin(caller))
                return op_refuse(db, caller, "store.transfer", id, NULL,
                              op_fail(err, ERROR_FORBIDDEN, "Only an admin may give a store to another account."), err);
        r = db_begin(db);
        if (r < 0)
                return op_refuse(db, caller, "store.transfer", id, NULL, r, err);
        r = op_get_store(db, caller, id, &cur, err);
        if (r != 0)
                return op_refuse(db, caller, "store.transfer", id, NULL, r, err);
        r = account_get_by_name(db, account, &to);
        if (r == -ENOENT)
                r = op_fail(err, ERROR_ACCOUNT_NOT_FOUND, "No account named '%.*s'.", UTF8_PREFIX(account, 64));
        if (r != 0)
                goto fail;
        if (cur->status == STORE_DELETED) {
                r = op_fail(err, ERROR_INVALID_STATE, "Store '%s' is DELETED; it cannot change hands.", cur->name);
                goto fail;
        }
        r = db_prepare(db, "UPDATE stores SET account_id = ?, owner = ?, updated_at = ?, seq = " SEQ_NEXT " WHERE id = ?",
                       &q);
        if (r < 0)
                goto fail;
        sqlite3_bind_int64(q, 1, to->id);
        sqlite3_bind_text(q, 2, to->name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 3, (sqlite3_int64) now_usec());
        sqlite3_bind_text(q, 4, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE) {
                r = db_errno(rc);
                goto fail;
        }
        if (asprintf(&detail, "Store given from account '%s' to account '%s'.", cur->owner, to->name) < 0) {
                r = -ENOMEM;
                goto fail;
        }
        return op_commit(db, caller, cur, "store.transfer", detail, ret, err);

fail:
        return op_refuse(db, caller, "store.transfer", cur->name, id, r, err);
}
