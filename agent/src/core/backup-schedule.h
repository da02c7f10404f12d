/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * backup-schedule: when a store is due for a scheduled backup, which scheduled backups retention
 * keeps, what the platform's backups take on disk, and a store's own schedule.
 *
 * Every function takes the time it works at (now, in µs since the epoch), so the tests move the
 * clock instead of waiting for it. A store is due when its last backup (a scheduled one, whatever
 * became of it, or any that succeeded; the store's creation when there is none) is at least its
 * interval old: a backup missed while the daemon was stopped is taken once at the next look.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/db.h"
#include "core/store.h"

#define BACKUP_EVERY_MAX_SEC (366ULL * 24 * 3600)

typedef struct BackupPolicy {
        uint64_t every_sec;     /* the platform's interval between scheduled backups; 0: none */
        uint64_t min_every_sec; /* the shortest interval a store's owner may set */
        uint64_t keep_last;     /* the newest N scheduled backups */
        uint64_t keep_daily;    /* and the newest of each of the last N days (UTC) that have one */
        uint64_t keep_weekly;   /* and the newest of each of the last N weeks (Monday to Sunday, UTC) */
        uint64_t overdue_grace_sec; /* a store's last backup may be its interval and this old */
} BackupPolicy;

static inline void backup_policy_from_config(const Config *c, BackupPolicy *ret)
{
        *ret = (BackupPolicy){
                .every_sec = c->backup_every_sec,
                .min_every_sec = c->backup_min_every_sec,
                .keep_last = c->backup_keep_last,
                .keep_daily = c->backup_keep_daily,
                .keep_weekly = c->backup_keep_weekly,
                .overdue_grace_sec = c->backup_overdue_grace_sec,
        };
}

/*
 * Retention over n backup times, newest first: keep[i] says whether the i-th is kept. The newest is
 * always kept, whatever the policy says.
 */
void backup_retention_select(const uint64_t *times, size_t n, const BackupPolicy *p, bool *keep);

/* Queues a scheduled backup of every store due at now; *ret_queued (optional) counts them. */
int backup_schedule_run(Db *db, const BackupPolicy *p, const StoreLimits *limits, uint64_t now,
                        unsigned *ret_queued);

/* The succeeded scheduled backups of a store that retention drops: [{"id", "path"}], oldest last. */
int backup_retention_plan(Db *db, const char *store_id, const BackupPolicy *p, json_t **ret);
/*
 * Per store that is not deleted, by name: [{"id", "name", "last_success" (µs, 0: none), "bytes" (its
 * succeeded backups), "overdue"}]. A READY store with a schedule is overdue when its last backup
 * that succeeded (or, with none, its creation) is older than its interval and the grace.
 */
int backup_store_stats(Db *db, const BackupPolicy *p, uint64_t now, json_t **ret);
/*
 * Removes the backups (files, then rows) of stores deleted at least keep_sec before now: what a
 * deletion leaves so that it can be undone, for that long. *ret_removed (optional) counts them.
 */
int backup_expire(Db *db, const char *state_dir, uint64_t keep_sec, uint64_t now, unsigned *ret_removed);
/* Bytes that the succeeded backups of every store take on disk. */
int backup_bytes_used(Db *db, uint64_t *ret);

/*
 * A store's schedule as the API shows it: its interval ("every_sec", the store's own or the
 * platform's), "store_every_sec" (null: the platform's), the retention policy, the last backup and
 * when the next is due (null: none scheduled).
 */
int backup_schedule_get(Db *db, const Caller *caller, const char *id, const BackupPolicy *p, uint64_t now,
                        json_t **ret, StoreError *err);
/* Sets a store's own interval (seconds; 0: no scheduled backups; -1: the platform's). */
int backup_schedule_set(Db *db, const Caller *caller, const char *id, int64_t every_sec, const BackupPolicy *p,
                        uint64_t now, json_t **ret, StoreError *err);
