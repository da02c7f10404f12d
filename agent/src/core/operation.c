/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The frame every operation on a store shares (store-operation.c, backup.c): the refusal with
 * its domain error and words, the audit record of the outcome, the visible store inside the
 * operation's transaction, the commit with the timeline event, the cap on queued tasks.
 */

#include <inttypes.h>
#include <stdarg.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "core/audit.h"
#include "core/error.h"
#include "core/queue.h"
#include "core/operation.h"
#include "core/store-internal.h"
#include "core/store.h"

/* Refuses a request: returns the domain error e with the message the caller shows. */
int op_fail(StoreError *err, Error e, const char *fmt, ...)
{
        va_list ap;

        assert(e > 0);
        if (err) {
                va_start(ap, fmt);
                /*
                 * Every message bounds what the caller sent (names are validated, other input is cut
                 * with UTF8_PREFIX()), so it fits; the assert says so in the tests.
                 */
                int n = vsnprintf(err->message, sizeof err->message, fmt, ap);
                assert(n >= 0 && (size_t) n < sizeof err->message);
                va_end(ap);
                /* What the caller sent need not be UTF-8 (a path segment is any bytes); the reply must be. */
                if (!utf8_is_valid(err->message)) {
                        _cleanup_free_ char *t = utf8_strndup_valid(err->message, sizeof err->message - 1);
                        if (t)
                                strcpy(err->message, t);
                        else
                                utf8_snprintf(err->message, sizeof err->message, "%s", error_info(e)->message);
                }
        }
        return (int) e;
}

/*
 * What an operation returns for r: domain errors (> 0) as they are, and the database's failures the
 * caller can act on turned into theirs (error_from_errno). A full or read-only disk is logged here, once,
 * with the file that could not be written: only this layer knows it, and the callers above just answer.
 */
int op_outcome(Db *db, int r, StoreError *err)
{
        int e;

        if (r >= 0)
                return r;
        e = error_from_errno(r);
        if (e == ERROR_STORAGE_FULL)
                log_struct_errno(LOG_ERR, r, LOG_FIELDS("DATABASE", db_path(db)),
                                 "Database '%s' has no space left, request refused: %m", db_path(db));
        else if (e == ERROR_STORAGE_READ_ONLY)
                log_struct_errno(LOG_ERR, r, LOG_FIELDS("DATABASE", db_path(db)),
                                 "Database '%s' cannot be written (its file system is read-only), request refused: %m",
                                 db_path(db));
        else if (e == ERROR_TRY_AGAIN && err)
                err->retry_after_sec = 1;
        return e;
}

/*
 * The audit record of an operation's outcome r (0, a domain error, or a system error). A success is
 * recorded inside the operation's transaction, so that it stands or falls with the change; a refusal
 * after the rollback, in a write of its own (which may itself fail on a full disk: then the journal
 * still has it).
 */
int op_audit(Db *db, const Caller *caller, const char *action, const char *target, const char *store_id,
                         int r)
{
        const ErrorInfo *info = r > 0 ? error_info(r) : NULL;
        AuditEntry e = {
                .caller = caller,
                .action = action,
                .target_kind = "store",
                .target = target,
                .store_id = store_id,
                .result = r == 0 ? AUDIT_OK : r > 0 ? AUDIT_DENIED : AUDIT_FAILED,
                .error = info ? info->code : r < 0 ? "internal_error" : NULL,
                .source = caller->source,
                .request_id = caller->request_id,
        };
        return audit_record(db, &e);
}

/* Ends a refused or failed operation: rolls back, records the refusal, returns what the caller sees. */
int op_refuse(Db *db, const Caller *caller, const char *action, const char *target, const char *store_id, int r,
                  StoreError *err)
{
        db_rollback(db);
        r = op_outcome(db, r, err);
        (void) op_audit(db, caller, action, target, store_id, r);
        return r;
}

/* A store the caller may see, inside the operation's transaction; ERROR_NOT_FOUND otherwise, the same
 * words for one that does not exist and one of another account. */
int op_get_store(Db *db, const Caller *caller, const char *id, Store **ret, StoreError *err)
{
        int r = store_get_visible(db, caller, id, ret);
        if (r == -ENOENT)
                return op_fail(err, ERROR_NOT_FOUND, "No store with id '%.*s'.", UTF8_PREFIX(id, 64));
        return r;
}

/*
 * The end every accepted operation shares, inside its transaction: the store's timeline event and
 * the audit record, the commit, the wake-up of live views, and the store as it now is. A failure
 * on the way rolls all of it back and is answered as the operation's refusal.
 */
int op_commit(Db *db, const Caller *caller, const Store *cur, const char *action,
                            const char *detail, Store **ret, StoreError *err)
{
        int r;

        r = store_add_event(db, cur->id, caller->account, action, detail);
        if (r >= 0)
                r = op_audit(db, caller, action, cur->name, cur->id, 0);
        if (r >= 0)
                r = db_commit(db);
        if (r < 0)
                return op_refuse(db, caller, action, cur->name, cur->id, r, err);
        store_changed_notify();
        return op_outcome(db, store_get(db, cur->id, ret), err);
}

/* Checks the caps that bound what the cluster is asked to do. Called inside the write transaction. */
int op_check_pending_cap(Db *db, const StoreLimits *limits, StoreError *err)
{
        uint64_t pending;
        int r;

        r = queue_count_active(db, &pending);
        if (r < 0)
                return r;
        if (pending >= limits->max_pending_tasks) {
                if (err)
                        err->retry_after_sec = 30;
                return op_fail(err, ERROR_TASK_CAP,
                            "Too many operations are queued (%" PRIu64 " of %" PRIu64
                            " allowed); try again when some have finished.",
                            pending, limits->max_pending_tasks);
        }
        return 0;
}
