/* SPDX-License-Identifier: Apache-2.0 */

/*
 * core/backup-schedule: when stores are due (with the clock moved by the test, never waited for),
 * one scheduled backup per store at a time, a missed schedule taken once, a store's own interval,
 * and which backups retention keeps.
 */

#include "basic/util.h"
#include "core/account.h"
#include "core/backup-schedule.h"
#include "core/backup.h"
#include "core/queue.h"
#include "core/store.h"
#include "tests.h"

#define HOUR (3600ULL * USEC_PER_SEC)
#define DAY (24 * HOUR)

static const StoreLimits limits = {
        .max_stores = 10, .creates_per_hour = 100, .max_pending_tasks = 100, .tenant_max_stores = 10
};

static Caller tenant(Db *db, const char *name)
{
        _cleanup_(account_freep) Account *a = NULL;
        Caller c;

        ASSERT_EQ(account_create(db, name, ACCOUNT_TENANT, &a), 0);
        caller_from_account(a, &c);
        return c;
}

/* Runs the queue's next task to its end, as a worker would, and returns its backup's id. */
static char *finish_next_task(Db *db, TaskKind kind)
{
        _cleanup_(task_freep) Task *t = NULL;
        const char *id;

        ASSERT_EQ(queue_lease(db, "test-worker", 60 * USEC_PER_SEC, &t), 0);
        ASSERT_EQ(t->kind, kind);
        ASSERT_EQ(queue_complete(db, t, "test-worker"), 0);
        id = json_string_value(json_object_get(t->payload, "backup"));
        return id ? strdup(id) : NULL;
}

/* A READY store of caller's, created now (real time: the tests' clock starts from it). */
static Store *ready_store(Db *db, const Caller *caller, const char *name)
{
        Store *s = NULL;
        StoreError err = {};

        ASSERT_EQ(store_create(db, &limits, caller, name, "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        free(finish_next_task(db, TASK_CREATE));
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_PROVISIONING, STORE_READY, NULL), 0);
        return s;
}

/* Takes the next scheduled backup to the end its task would give it. */
static char *take_scheduled(Db *db, bool ok, uint64_t size)
{
        char *id = finish_next_task(db, TASK_BACKUP);

        ASSERT_TRUE(id);
        ASSERT_EQ(backup_set_running(db, id, "x"), 0);
        if (ok)
                ASSERT_EQ(backup_set_succeeded(db, id, size, "{}"), 0);
        else
                ASSERT_EQ(backup_set_failed(db, id, "mysqldump exited with code 2"), 0);
        return id;
}

static unsigned run(Db *db, const BackupPolicy *p, uint64_t now)
{
        unsigned n = 99;

        ASSERT_EQ(backup_schedule_run(db, p, &limits, now, &n), 0);
        return n;
}

TEST(retention_keeps_last_daily_weekly)
{
        /* Newest first: two a day for ten days, from Wednesday 2026-12-02 back (2026-11-23 was a Monday). */
        uint64_t t0 = 1796212800ULL * USEC_PER_SEC; /* 2026-12-02T12:00:00Z, a Wednesday */
        uint64_t times[20];
        bool keep[20];
        BackupPolicy p = { .keep_daily = 3 };
        size_t kept = 0;

        for (size_t i = 0; i < 20; i++)
                times[i] = t0 - (i / 2) * DAY - (i % 2) * HOUR;

        backup_retention_select(times, 20, &p, keep);
        /* The newest of each of the three newest days. */
        for (size_t i = 0; i < 20; i++)
                ASSERT_EQ(keep[i], i == 0 || i == 2 || i == 4);

        p = (BackupPolicy){ .keep_last = 3 };
        backup_retention_select(times, 20, &p, keep);
        for (size_t i = 0; i < 20; i++)
                ASSERT_EQ(keep[i], i < 3);

        /* Weeks: this one (Mon 11-30..), the one before (11-23..29), and 11-16..22 (day 9 is 11-23). */
        p = (BackupPolicy){ .keep_weekly = 2 };
        backup_retention_select(times, 20, &p, keep);
        for (size_t i = 0; i < 20; i++) {
                kept += keep[i];
                /* 2026-11-30 is day 2 back; day 3 back (11-29, a Sunday) starts the week before. */
                ASSERT_EQ(keep[i], i == 0 || i == 6);
        }
        ASSERT_EQ(kept, 2u);

        /* Nothing asked: the newest still stays. */
        p = (BackupPolicy){};
        backup_retention_select(times, 20, &p, keep);
        for (size_t i = 0; i < 20; i++)
                ASSERT_EQ(keep[i], i == 0);
}

TEST(schedule_due_once_per_interval)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "state.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(store_freep) Store *s = NULL, *idle = NULL;
        _cleanup_(json_decrefp) json_t *list = NULL, *sched = NULL;
        _cleanup_free_ char *b1 = NULL, *b2 = NULL;
        BackupPolicy p = { .every_sec = 3600, .min_every_sec = 60 };
        StoreError err = {};
        Caller acme;
        uint64_t t0;

        ASSERT_EQ(db_open(path, &db), 0);
        acme = tenant(db, "acme");
        s = ready_store(db, &acme, "shop1");
        t0 = now_usec();

        /* Not yet an hour since the store was made. */
        ASSERT_EQ(run(db, &p, t0 + HOUR / 2), 0u);
        ASSERT_EQ(run(db, &p, t0 + HOUR + USEC_PER_SEC), 1u);
        /* One at a time: queued, the store is busy; the next look adds none. */
        ASSERT_EQ(run(db, &p, t0 + 2 * HOUR + USEC_PER_SEC), 0u);
        b1 = take_scheduled(db, true, 1000);

        ASSERT_EQ(backup_list(db, &acme, s->id, &list, &err), 0);
        ASSERT_EQ(json_array_size(json_object_get(list, "items")), 1u);
        ASSERT_TRUE(json_is_true(json_object_get(json_array_get(json_object_get(list, "items"), 0), "scheduled")));
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(list, "items"), 0), "kind")),
                     "scheduled");
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(list, "items"), 0), "actor")),
                     "scheduler");

        /* The schedule counts from the backup's time: half an interval later, nothing. */
        ASSERT_EQ(run(db, &p, t0 + HOUR + HOUR / 2), 0u);
        /* The daemon was stopped for five intervals: one backup, not five. */
        ASSERT_EQ(run(db, &p, t0 + 6 * HOUR), 1u);
        b2 = take_scheduled(db, false, 0);
        /* A failed scheduled backup is tried again after an interval, not at every look. */
        ASSERT_EQ(run(db, &p, t0 + 6 * HOUR + HOUR / 2), 0u);
        ASSERT_EQ(run(db, &p, t0 + 7 * HOUR + USEC_PER_SEC), 1u);
        free(take_scheduled(db, true, 500));

        /* The store's own interval: none, then every two hours; only the owner may set it. */
        ASSERT_EQ(backup_schedule_set(db, &acme, s->id, 30, &p, t0, &sched, &err), ERROR_INVALID_REQUEST);
        ASSERT_CONTAINS(err.message, "60..");
        {
                Caller globex = tenant(db, "globex");
                ASSERT_EQ(backup_schedule_set(db, &globex, s->id, 0, &p, t0, &sched, &err), ERROR_NOT_FOUND);
                ASSERT_EQ(backup_schedule_get(db, &globex, s->id, &p, t0, &sched, &err), ERROR_NOT_FOUND);
        }
        ASSERT_EQ(backup_schedule_set(db, &acme, s->id, 0, &p, t0, &sched, &err), 0);
        ASSERT_EQ(json_integer_value(json_object_get(sched, "every_sec")), 0);
        ASSERT_TRUE(json_is_null(json_object_get(sched, "next_backup_at")));
        ASSERT_EQ(run(db, &p, t0 + 100 * HOUR), 0u);
        json_decref(TAKE_PTR(sched));
        ASSERT_EQ(backup_schedule_set(db, &acme, s->id, 7200, &p, t0, &sched, &err), 0);
        ASSERT_EQ(json_integer_value(json_object_get(sched, "store_every_sec")), 7200);
        ASSERT_EQ(json_integer_value(json_object_get(sched, "default_every_sec")), 3600);
        ASSERT_EQ(run(db, &p, t0 + 8 * HOUR + USEC_PER_SEC), 0u);
        ASSERT_EQ(run(db, &p, t0 + 9 * HOUR + USEC_PER_SEC), 1u);
        free(take_scheduled(db, true, 500));
        json_decref(TAKE_PTR(sched));
        ASSERT_EQ(backup_schedule_set(db, &acme, s->id, -1, &p, t0, &sched, &err), 0);
        ASSERT_TRUE(json_is_null(json_object_get(sched, "store_every_sec")));
        ASSERT_EQ(json_integer_value(json_object_get(sched, "every_sec")), 3600);

        /* A store that is not READY is not backed up; the platform's 0 turns the schedule off. */
        idle = ready_store(db, &acme, "shop2");
        ASSERT_EQ(store_set_status_if(db, idle->id, STORE_READY, STORE_FAILED, "broken"), 0);
        ASSERT_EQ(run(db, &p, t0 + 20 * HOUR), 1u);
        free(take_scheduled(db, true, 500));
        p.every_sec = 0;
        ASSERT_EQ(run(db, &p, t0 + 40 * HOUR), 0u);
}

TEST(schedule_respects_the_queue_cap)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "state.db");
        _cleanup_(db_closep) Db *db = NULL;
        BackupPolicy p = { .every_sec = 60 };
        StoreLimits small = limits;
        unsigned n = 0;
        Caller acme;

        ASSERT_EQ(db_open(path, &db), 0);
        acme = tenant(db, "acme");
        for (int i = 0; i < 3; i++) {
                char name[16];
                xsprintf(name, "shop%d", i);
                store_free(ready_store(db, &acme, name));
        }
        small.max_pending_tasks = 2;
        ASSERT_EQ(backup_schedule_run(db, &p, &small, now_usec() + HOUR, &n), 0);
        ASSERT_EQ(n, 2u);
        free(take_scheduled(db, true, 1));
        ASSERT_EQ(backup_schedule_run(db, &p, &small, now_usec() + HOUR, &n), 0);
        ASSERT_EQ(n, 1u);
}

TEST(retention_plan_and_budget)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "state.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(json_decrefp) json_t *manual = NULL, *drop = NULL, *list = NULL;
        _cleanup_free_ char *first = NULL, *second = NULL;
        BackupPolicy p = { .every_sec = 3600, .keep_last = 2 };
        StoreError err = {};
        uint64_t t0, used = 0;
        Caller acme;

        ASSERT_EQ(db_open(path, &db), 0);
        acme = tenant(db, "acme");
        s = ready_store(db, &acme, "shop1");
        t0 = now_usec();

        ASSERT_EQ(run(db, &p, t0 + HOUR + 1), 1u);
        first = take_scheduled(db, true, 100);
        ASSERT_EQ(run(db, &p, t0 + 2 * HOUR + 2), 1u);
        second = take_scheduled(db, true, 200);
        /* A backup someone asked for is not the scheduler's to remove. */
        ASSERT_EQ(backup_request(db, &limits, &acme, s->id, &manual, &err), 0);
        free(take_scheduled(db, true, 400));
        ASSERT_EQ(backup_retention_plan(db, s->id, &p, &drop), 0);
        ASSERT_EQ(json_array_size(drop), 0u);
        json_decref(TAKE_PTR(drop));

        ASSERT_EQ(run(db, &p, t0 + 4 * HOUR), 1u);
        free(take_scheduled(db, true, 800));
        ASSERT_EQ(backup_bytes_used(db, &used), 0);
        ASSERT_EQ(used, 1500u);
        ASSERT_EQ(backup_retention_plan(db, s->id, &p, &drop), 0);
        ASSERT_EQ(json_array_size(drop), 1u);
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(drop, 0), "id")), first);
        ASSERT_EQ(backup_delete_row(db, first), 0);
        ASSERT_EQ(backup_bytes_used(db, &used), 0);
        ASSERT_EQ(used, 1400u);
        ASSERT_EQ(backup_list(db, &acme, s->id, &list, &err), 0);
        ASSERT_EQ(json_array_size(json_object_get(list, "items")), 3u);
}

static json_t *stats_of(Db *db, const BackupPolicy *p, uint64_t now)
{
        _cleanup_(json_decrefp) json_t *all = NULL;

        ASSERT_EQ(backup_store_stats(db, p, now, &all), 0);
        ASSERT_EQ(json_array_size(all), 1u);
        return json_incref(json_array_get(all, 0));
}

TEST(overdue_after_interval_and_grace)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "state.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(json_decrefp) json_t *st = NULL, *sched = NULL;
        BackupPolicy p = { .every_sec = 3600, .min_every_sec = 60, .overdue_grace_sec = 1800 };
        StoreError err = {};
        Caller acme;
        uint64_t t0;

        ASSERT_EQ(db_open(path, &db), 0);
        acme = tenant(db, "acme");
        s = ready_store(db, &acme, "shop1");
        t0 = now_usec();

        /* Never backed up: counted from the store's creation. */
        st = stats_of(db, &p, t0 + HOUR);
        ASSERT_TRUE(json_is_false(json_object_get(st, "overdue")));
        ASSERT_EQ(json_integer_value(json_object_get(st, "last_success")), 0);
        json_decref(TAKE_PTR(st));
        st = stats_of(db, &p, t0 + HOUR + HOUR / 2 + USEC_PER_SEC);
        ASSERT_TRUE(json_is_true(json_object_get(st, "overdue")));
        json_decref(TAKE_PTR(st));

        /* A backup that failed does not count; one that succeeded does. */
        ASSERT_EQ(run(db, &p, t0 + 2 * HOUR), 1u);
        free(take_scheduled(db, false, 0));
        st = stats_of(db, &p, t0 + 2 * HOUR);
        ASSERT_TRUE(json_is_true(json_object_get(st, "overdue")));
        json_decref(TAKE_PTR(st));
        ASSERT_EQ(run(db, &p, t0 + 3 * HOUR + USEC_PER_SEC), 1u);
        free(take_scheduled(db, true, 777));
        st = stats_of(db, &p, t0 + 4 * HOUR);
        ASSERT_TRUE(json_is_false(json_object_get(st, "overdue")));
        ASSERT_EQ(json_integer_value(json_object_get(st, "bytes")), 777);
        ASSERT_EQ(json_integer_value(json_object_get(st, "last_success")), (json_int_t) (t0 + 3 * HOUR + USEC_PER_SEC));
        json_decref(TAKE_PTR(st));

        /* No schedule, nothing late. */
        ASSERT_EQ(backup_schedule_set(db, &acme, s->id, 0, &p, t0, &sched, &err), 0);
        st = stats_of(db, &p, t0 + 100 * HOUR);
        ASSERT_TRUE(json_is_false(json_object_get(st, "overdue")));
}

TEST(deleted_stores_backups_kept_then_removed)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "state.db");
        _cleanup_free_ char *gone_dir = NULL, *kept = NULL;
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(store_freep) Store *s = NULL, *other = NULL;
        _cleanup_(json_decrefp) json_t *list = NULL;
        BackupPolicy p = { .every_sec = 3600 };
        StoreError err = {};
        unsigned n = 99;
        Caller acme;
        uint64_t t0;

        ASSERT_EQ(db_open(path, &db), 0);
        acme = tenant(db, "acme");
        s = ready_store(db, &acme, "shop1");
        other = ready_store(db, &acme, "shop2");
        t0 = now_usec();
        ASSERT_EQ(run(db, &p, t0 + HOUR + USEC_PER_SEC), 2u);
        free(take_scheduled(db, true, 10));
        free(take_scheduled(db, true, 10));
        ASSERT_EQ(backup_list(db, &acme, other->id, &list, &err), 0);
        kept = strdup(json_string_value(json_object_get(json_array_get(json_object_get(list, "items"), 0), "id")));
        json_decref(TAKE_PTR(list));
        ASSERT_TRUE(asprintf(&gone_dir, "%s/backups/x", dir) > 0);
        ASSERT_EQ(mkdir_p(gone_dir, 0700), 0);
        /* Both rows say "x" (take_scheduled's path); the deleted store's is removed, the other's row stays. */
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_READY, STORE_DELETING, NULL), 0);
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_DELETING, STORE_DELETED, NULL), 0);

        /* Within backups.keep_after_delete: nothing goes. */
        ASSERT_EQ(backup_expire(db, dir, 3600, now_usec() + HOUR / 2, &n), 0);
        ASSERT_EQ(n, 0u);
        ASSERT_EQ(access(gone_dir, F_OK), 0);
        ASSERT_EQ(backup_list(db, &acme, s->id, &list, &err), 0);
        ASSERT_EQ(json_array_size(json_object_get(list, "items")), 1u);
        json_decref(TAKE_PTR(list));

        /* After it: the deleted store's backup, files and row; the other store's stays. */
        ASSERT_EQ(backup_expire(db, dir, 3600, now_usec() + 2 * HOUR, &n), 0);
        ASSERT_EQ(n, 1u);
        ASSERT_TRUE(access(gone_dir, F_OK) < 0 && errno == ENOENT);
        ASSERT_EQ(backup_list(db, &acme, s->id, &list, &err), 0);
        ASSERT_EQ(json_array_size(json_object_get(list, "items")), 0u);
        json_decref(TAKE_PTR(list));
        ASSERT_EQ(backup_list(db, &acme, other->id, &list, &err), 0);
        ASSERT_EQ(json_array_size(json_object_get(list, "items")), 1u);
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(list, "items"), 0), "id")), kept);
}

DEFINE_TEST_MAIN(LOG_INFO);
