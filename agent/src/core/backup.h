/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * backup: the rows of a store's backups (table backups) and the request that queues one.
 *
 * A backup is asked for by the store's owner or an admin (another account's store is
 * ERROR_NOT_FOUND, as everywhere), for a READY store that no other operation works on; it is a
 * row (queued) and a task of kind "backup" in the same transaction. The task's worker marks it
 * running, then succeeded (with its size and manifest) or failed (with the reason). The store
 * keeps its status throughout: the shop serves while it is backed up.
 */

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/db.h"
#include "core/store.h"

#define BACKUP_LIST_MAX 100 /* the LIMIT of backup_list()'s statement */

/*
 * SQL: whether a clone being made (a create task queued or running, payload "clone") reads the backup
 * whose id is the expression b. Such a backup is not deleted, expired or pruned until it is done.
 */
#define BACKUP_CLONING_SQL(b)                                                                             \
        "EXISTS (SELECT 1 FROM tasks t WHERE t.state IN ('queued', 'running') AND t.kind = 'create' "    \
        "AND json_valid(t.payload) AND json_extract(t.payload, '$.clone.backup') = " b ")"

/* Queues a backup of store id. On 0, *ret is the backup as the API shows it. */
int backup_request(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, json_t **ret,
                   StoreError *err);
/*
 * Queues a restore of backup_id into store id (same rules as a backup; the backup must be the
 * store's and have succeeded). The task first takes a safety backup (a new row, queued now) and
 * returns to it if the restore fails. On 0, *ret is {"restore_of": id, "safety_backup": {...}}.
 */
int backup_restore_request(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                           const char *backup_id, json_t **ret, StoreError *err);
/*
 * Queues a scheduled backup of store id at time now (the scheduler's, no caller checks): 0 with the
 * new backup's id, a domain error when the store cannot have one now (not READY, busy, the queue
 * full), which the scheduler leaves for its next look.
 */
int backup_schedule_queue(Db *db, const StoreLimits *limits, const char *id, uint64_t now, char **ret_id);
/* The store's backups, newest first (at most BACKUP_LIST_MAX), as {"items": [...]}. */
int backup_list(Db *db, const Caller *caller, const char *id, json_t **ret, StoreError *err);

/*
 * Deletes backup backup_id of store id, its files (under state_dir/backups) and its row; not
 * while an operation works on the store (ERROR_BUSY). Audited as backup.delete.
 */
int backup_delete(Db *db, const Caller *caller, const char *id, const char *backup_id, const char *state_dir,
                  StoreError *err);
/*
 * Where file (a part its manifest names, or manifest.json) of a succeeded backup is, relative to
 * state_dir/backups; the store too when ret_store is given.
 */
int backup_file_path(Db *db, const Caller *caller, const char *id, const char *backup_id, const char *file,
                     Store **ret_store, char **ret_path, StoreError *err);
/*
 * Called with a backup's row (as backup_get_row() gives it) once a delete, retention or expiry removed it:
 * the copy off the host goes too (provision/backup-copy.c). Set once at the start, before any thread.
 */
typedef void (*BackupRemovedFunc)(json_t *row, void *userdata);
void backup_set_removed_hook(BackupRemovedFunc fn, void *userdata);

/* Removes a backup's directory: the files in it (nothing below them), then the directory. */
int backup_dir_remove(const char *path);

/* ---- the task's writes (no caller checks) ---- */

/* The backup a task works on: its row as JSON (id, store_id, status, path, ...); -ENOENT if none. */
int backup_get_row(Db *db, const char *backup_id, json_t **ret);
/* queued (or running, for a task resumed after a crash) -> running, with its directory. */
int backup_set_running(Db *db, const char *backup_id, const char *path);
int backup_set_succeeded(Db *db, const char *backup_id, uint64_t size, const char *manifest);
int backup_set_failed(Db *db, const char *backup_id, const char *reason);
/*
 * The copy of a backup off the host: key is the object key prefix it went to, reason NULL when it
 * was copied, else why not ("remote": "copied" or "failed" in the backup's JSON; "none" before).
 */
int backup_set_remote(Db *db, const char *backup_id, const char *key, const char *reason);
/*
 * Removes a backup's directory (when dir is given) and then its row, unless a clone being made reads it
 * (-EBUSY: nothing is removed); -ENOENT if there is no row. For retention and expiry.
 */
int backup_remove(Db *db, const char *backup_id, const char *dir);
/* Removes a backup's row (its files are gone first); -ENOENT if there is none. */
int backup_delete_row(Db *db, const char *backup_id);
