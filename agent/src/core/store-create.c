/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Creating a store: the name, the limits (platform, account, creations per hour, pending
 * tasks), capacity admission, the Idempotency-Key, and the store's first task; a store made
 * from a backup (a clone) names its source here, and the create task restores it.
 */

#include <inttypes.h>
#include <stdarg.h>

#include "basic/log.h"
#include "basic/names.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/audit.h"
#include "core/backup.h"
#include "core/error.h"
#include "core/queue.h"
#include "core/operation.h"
#include "core/store-internal.h"
#include "core/store-settings.h"
#include "core/store.h"

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
                return op_fail(err, ERROR_KEY_REUSED,
                            "Idempotency-Key '%.*s' was already used for a different request.", UTF8_PREFIX(key, 128));
        *ret_store_id = db_column_strdup(q, 0);
        return *ret_store_id ? 0 : -ENOMEM;
}

/* The account's own caps: active stores and creations in the last hour. Inside the write transaction. */
static int check_account_caps(Db *db, const StoreLimits *limits, const Caller *caller, uint64_t now, StoreError *err)
{
        _cleanup_(account_freep) Account *a = NULL;
        uint64_t max_stores, per_hour, n;
        int r;

        if (caller->account_id <= 0)
                return 0; /* the daemon itself */
        r = account_get(db, caller->account_id, &a);
        if (r < 0)
                return r;
        store_account_limits(limits, a, &max_stores, &per_hour);

        r = store_count_active(db, a->id, &n);
        if (r < 0)
                return r;
        if (n >= max_stores) {
                if (err)
                        err->retry_after_sec = 3600;
                return op_fail(err, ERROR_ACCOUNT_STORE_CAP,
                            "Account '%s' already has %" PRIu64 " of at most %" PRIu64
                            " active stores; delete one before creating another.",
                            a->name, n, max_stores);
        }

        r = store_creates_in_last_hour(db, a->id, &n);
        if (r < 0)
                return r;
        if (n >= per_hour) {
                _cleanup_stmt_ sqlite3_stmt *q = NULL;
                uint64_t oldest = now;
                /* The window slides: the oldest creation in the last hour leaves it first. */
                r = db_prepare(db, "SELECT coalesce(min(created_at), 0) FROM stores WHERE account_id = ? AND created_at > ?",
                               &q);
                if (r < 0)
                        return r;
                sqlite3_bind_int64(q, 1, a->id);
                sqlite3_bind_int64(q, 2, (sqlite3_int64) (now - 3600 * USEC_PER_SEC));
                if (sqlite3_step(q) == SQLITE_ROW)
                        oldest = (uint64_t) sqlite3_column_int64(q, 0);
                uint64_t wait = oldest + 3600 * USEC_PER_SEC > now ? oldest + 3600 * USEC_PER_SEC - now : 0;
                if (err)
                        err->retry_after_sec = MAX((wait + USEC_PER_SEC - 1) / USEC_PER_SEC, (uint64_t) 1);
                return op_fail(err, ERROR_CREATION_LIMITED,
                            "Creation limit reached: %" PRIu64 " stores per hour for account '%s'; try again in %" PRIu64
                            " seconds.",
                            per_hour, a->name, err ? err->retry_after_sec : 0);
        }
        return 0;
}

/*
 * The source of a clone: a store the caller sees (by id, else by name; a deleted one's backups are
 * kept for a while) and one of its succeeded backups. Another account's store or backup is refused
 * as one that does not exist. On 0, *ret_payload is the create task's payload and *ret_detail the
 * timeline's words.
 */
static int clone_source(Db *db, const Caller *caller, const StoreCloneSource *from, json_t **ret_payload,
                        char **ret_detail, StoreError *err)
{
        _cleanup_(store_freep) Store *src = NULL;
        _cleanup_(json_decrefp) json_t *row = NULL;
        const char *status;
        int r;

        if (isempty(from->store) || isempty(from->backup))
                return op_fail(err, ERROR_INVALID_REQUEST,
                               "from_backup needs both 'store' (a store's id or name) and 'backup' (its "
                               "backup's id).");
        r = store_get_visible(db, caller, from->store, &src);
        if (r == -ENOENT)
                r = store_get_visible_by_name(db, caller, from->store, &src);
        if (r == -ENOENT)
                return op_fail(err, ERROR_NOT_FOUND, "No store '%.*s' to clone from.",
                               UTF8_PREFIX(from->store, 64));
        if (r < 0)
                return r;
        r = backup_get_row(db, from->backup, &row);
        if (r >= 0 && !streq_ptr(json_string_value(json_object_get(row, "store_id")), src->id))
                r = -ENOENT; /* another store's backup: not one of this store's */
        if (r == -ENOENT)
                return op_fail(err, ERROR_NOT_FOUND, "Store '%s' has no backup '%.*s'.", src->name,
                               UTF8_PREFIX(from->backup, 64));
        if (r < 0)
                return r;
        status = json_string_value(json_object_get(row, "status"));
        if (!streq_ptr(status, "succeeded"))
                return op_fail(err, ERROR_INVALID_STATE,
                               "Backup '%s' of store '%s' is %s; a store can be made only from a succeeded "
                               "backup.",
                               from->backup, src->name, strna(status));
        *ret_payload = json_pack("{s:{s:s, s:s, s:s}}", "clone", "store", src->id, "store_name", src->name,
                                 "backup", from->backup);
        if (!*ret_payload || asprintf(ret_detail,
                                      "Store requested as a clone of store '%s' (%s) from its backup %s "
                                      "(engine woocommerce).",
                                      src->name, src->id, from->backup) < 0)
                return -ENOMEM;
        return 0;
}

static int create(Db *db, const StoreLimits *limits, const Caller *caller, const char *name, const char *engine,
                  const char *chart_version, const char *settings, json_t *payload, const char *detail,
                  const char *idempotency_key, Store **ret, bool *ret_replayed, StoreError *err)
{
        _cleanup_free_ char *id = NULL, *existing = NULL, *request = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        const char *why, *clone_backup, *actor = caller->account;
        char request_hash[65], waiting[sizeof err->message] = "";
        uint64_t n, now = now_usec();
        int r, rc;

        if (store_name_validate(name, &why) < 0)
                return op_fail(err, ERROR_INVALID_NAME, "%s", why);
        if (!streq_ptr(engine, "woocommerce"))
                return op_fail(err, ERROR_INVALID_ENGINE, "Unsupported engine '%.*s'; supported engines: woocommerce.",
                            UTF8_PREFIX(strna(engine), 64));

        /* A clone's backup is part of what a replay must match; a plain create's hash is as it was. */
        clone_backup = json_string_value(json_object_get(json_object_get(payload, "clone"), "backup"));
        if (asprintf(&request, "%s\n%s%s%s", name, engine, clone_backup ? "\nclone " : "",
                     clone_backup ?: "") < 0)
                return -ENOMEM;
        r = sha256_hex(request, strlen(request), request_hash);
        if (r < 0)
                return r;

        /*
         * A taken name is refused as such before the cluster is asked for room: on a full platform the
         * answer would otherwise be "no room" for a name that could never be created. (With an
         * Idempotency-Key the name may be the replayed store's own; the transaction below decides.)
         */
        if (!idempotency_key) {
                r = store_query_u64(db, "SELECT count(*) FROM stores WHERE name = ? AND deleted_at IS NULL", name, 0,
                                    &n);
                if (r < 0)
                        return op_outcome(db, r, err);
                if (n > 0)
                        return op_fail(err, ERROR_NAME_TAKEN, "A store named '%s' already exists.", name);
        }

        /* Outside the write transaction: the question reads the cluster. */
        r = store_admission_ask(db, idempotency_key, actor, chart_version, waiting, sizeof waiting);
        if (r == ERROR_NO_CAPACITY && !limits->wait_for_capacity)
                return op_fail(err, ERROR_NO_CAPACITY, "%s", waiting);
        if (r != ERROR_NO_CAPACITY)
                waiting[0] = 0; /* admitted: it reserves its room from now on */

        r = db_begin(db);
        if (r < 0)
                return op_outcome(db, r, err);

        if (idempotency_key) {
                r = idempotency_lookup(db, idempotency_key, actor, request_hash, &existing, err);
                if (r != 0)
                        goto fail;
                if (existing) {
                        db_rollback(db);
                        if (ret_replayed)
                                *ret_replayed = true;
                        return op_outcome(db, store_get(db, existing, ret), err);
                }
        }

        r = store_query_u64(db, "SELECT count(*) FROM stores WHERE name = ? AND deleted_at IS NULL", name, 0, &n);
        if (r < 0)
                goto fail;
        if (n > 0) {
                r = op_fail(err, ERROR_NAME_TAKEN, "A store named '%s' already exists.", name);
                goto fail;
        }

        if (clone_backup) {
                /* Checked again in this transaction: a delete or a prune may have come since clone_source().
                 * Once the task is queued, BACKUP_CLONING_SQL keeps the backup until the clone is done. */
                r = store_query_u64(db, "SELECT count(*) FROM backups WHERE id = ? AND status = 'succeeded'",
                                    clone_backup, 0, &n);
                if (r < 0)
                        goto fail;
                if (n == 0) {
                        r = op_fail(err, ERROR_NOT_FOUND, "Backup '%s' is gone; nothing was created.", clone_backup);
                        goto fail;
                }
        }

        r = store_count_active(db, 0, &n);
        if (r < 0)
                goto fail;
        if (n >= limits->max_stores) {
                if (err)
                        err->retry_after_sec = 3600;
                /* Only an admin learns how many stores the platform runs. */
                if (caller_is_admin(caller))
                        r = op_fail(err, ERROR_STORE_CAP,
                                 "This platform already runs %" PRIu64 " of at most %" PRIu64
                                 " stores; delete one before creating another.",
                                 n, limits->max_stores);
                else
                        r = op_fail(err, ERROR_STORE_CAP,
                                 "This platform runs as many stores as it may; try again later or ask its operator.");
                goto fail;
        }

        r = check_account_caps(db, limits, caller, now, err);
        if (r != 0)
                goto fail;

        r = op_check_pending_cap(db, limits, err);
        if (r != 0)
                goto fail;

        r = random_hex(8, &id);
        if (r < 0)
                goto fail;

        r = db_prepare(db,
                       "INSERT INTO stores (id, name, engine, owner, status, chart_version, created_at, updated_at, "
                       "seq, step, account_id, releases, status_reason, settings) VALUES (?, ?, ?, ?, 'PROVISIONING', "
                       "?, ?, ?, " SEQ_NEXT ", ?, ?, '[]', nullif(?, ''), ?)",
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
        sqlite3_bind_text(q, 8, waiting[0] ? STORE_STEP_WAITING_FOR_CAPACITY : "queued", -1, SQLITE_STATIC);
        if (caller->account_id > 0)
                sqlite3_bind_int64(q, 9, caller->account_id);
        sqlite3_bind_text(q, 10, waiting, -1, SQLITE_TRANSIENT);
        if (settings)
                sqlite3_bind_text(q, 11, settings, -1, SQLITE_TRANSIENT);
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

        r = queue_enqueue(db, id, TASK_CREATE, payload, actor, NULL);
        if (r < 0)
                goto fail;
        r = store_add_event(db, id, actor, "store.create",
                            detail ?: "Store requested (engine woocommerce).");
        if (r < 0)
                goto fail;
        r = op_audit(db, caller, "store.create", name, id, 0);
        if (r < 0)
                goto fail;
        r = db_commit(db);
        if (r < 0)
                goto fail;

        store_changed_notify();
        if (ret_replayed)
                *ret_replayed = false;
        return op_outcome(db, store_get(db, id, ret), err);

fail:
        db_rollback(db);
        return r;
}

int store_create(Db *db, const StoreLimits *limits, const Caller *caller, const char *name, const char *engine,
                 const char *chart_version, const char *idempotency_key, Store **ret, bool *ret_replayed,
                 StoreError *err)
{
        return store_create_with_settings(db, limits, caller, name, engine, chart_version, NULL, NULL,
                                          idempotency_key, ret, ret_replayed, err);
}

int store_create_with_settings(Db *db, const StoreLimits *limits, const Caller *caller, const char *name,
                               const char *engine, const char *chart_version, json_t *settings,
                               const StoreCloneSource *from, const char *idempotency_key, Store **ret,
                               bool *ret_replayed, StoreError *err)
{
        _cleanup_(json_decrefp) json_t *kept = NULL, *payload = NULL;
        _cleanup_free_ char *text = NULL, *detail = NULL;
        char msg[sizeof err->message];
        int r;

        assert(db);
        assert(limits);
        assert(caller);
        assert(name);
        assert(ret);

        if (json_is_object(settings) && json_object_size(settings) == 0)
                settings = NULL;
        if (settings) {
                r = store_settings_check(settings, msg, sizeof msg);
                if (r != 0) {
                        r = op_fail(err, ERROR_INVALID_REQUEST, "%s", msg);
                        (void) op_audit(db, caller, "store.create", name, NULL, r);
                        return r;
                }
                /* A null (the chart's default) is what a new store has anyway. */
                kept = store_settings_merge(NULL, settings);
                text = kept ? json_dumps(kept, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
                if (!text)
                        return -ENOMEM;
        }
        /* Before anything is asked of the cluster or written: a clone's backup must be there and whole. */
        if (from) {
                r = clone_source(db, caller, from, &payload, &detail, err);
                if (r != 0) {
                        r = op_outcome(db, r, err);
                        (void) op_audit(db, caller, "store.create", name, NULL, r);
                        return r;
                }
        }
        store_admission_lock();
        r = create(db, limits, caller, name, engine, chart_version, text, payload, detail, idempotency_key,
                   ret, ret_replayed, err);
        store_admission_unlock();
        if (r != 0) {
                r = op_outcome(db, r, err);
                (void) op_audit(db, caller, "store.create", name, NULL, r);
        }
        return r;
}
