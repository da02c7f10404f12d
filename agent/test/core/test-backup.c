/* SPDX-License-Identifier: Apache-2.0 */

/*
 * core/backup: who may ask for a backup or a restore of which store, in which state, and what
 * the rows say along the way (queued, running, succeeded with its manifest, failed with its
 * reason); the safety backup a restore queues; one operation per store at a time; a store made from
 * a backup (a clone): which source it may name, and that its backup stays while it is made.
 */

#include "basic/util.h"
#include "core/account.h"
#include "core/backup-schedule.h"
#include "core/backup.h"
#include "core/queue.h"
#include "core/store-settings.h"
#include "core/store.h"
#include "tests.h"

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

/* Runs the queue's next task to its end, as a worker would. */
static TaskKind finish_next_task(Db *db)
{
        _cleanup_(task_freep) Task *t = NULL;

        ASSERT_EQ(queue_lease(db, "test-worker", 60 * USEC_PER_SEC, &t), 0);
        ASSERT_EQ(queue_complete(db, t, "test-worker"), 0);
        return t->kind;
}

static const char *str(json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

TEST(backup_rules_and_rows)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "state.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(json_decrefp) json_t *b = NULL, *list = NULL, *row = NULL, *restore = NULL;
        StoreError err = {};
        Caller acme, globex;

        ASSERT_EQ(db_open(path, &db), 0);
        acme = tenant(db, "acme");
        globex = tenant(db, "globex");
        ASSERT_EQ(store_create(db, &limits, &acme, "shop1", "woocommerce", NULL, NULL, &s, NULL, &err), 0);

        /* Provisioning: not yet (the create task is also still queued). */
        ASSERT_EQ(backup_request(db, &limits, &acme, s->id, &b, &err), ERROR_BUSY);
        ASSERT_EQ(finish_next_task(db), TASK_CREATE);
        ASSERT_EQ(backup_request(db, &limits, &acme, s->id, &b, &err), ERROR_INVALID_STATE);
        ASSERT_CONTAINS(err.message, "READY");
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_PROVISIONING, STORE_READY, NULL), 0);

        /* Another tenant: the store does not exist, for asking and for listing. */
        ASSERT_EQ(backup_request(db, &limits, &globex, s->id, &b, &err), ERROR_NOT_FOUND);
        ASSERT_EQ(backup_list(db, &globex, s->id, &list, &err), ERROR_NOT_FOUND);

        ASSERT_EQ(backup_request(db, &limits, &acme, s->id, &b, &err), 0);
        ASSERT_STREQ(str(b, "status"), "queued");
        ASSERT_STREQ(str(b, "actor"), "acme");
        ASSERT_STREQ(str(b, "kind"), "manual");
        ASSERT_TRUE(json_is_null(json_object_get(b, "safety_for")));
        ASSERT_TRUE(json_is_null(json_object_get(b, "manifest")));
        /* One operation at a time. */
        ASSERT_EQ(backup_request(db, &limits, &acme, s->id, &row, &err), ERROR_BUSY);
        ASSERT_EQ(backup_restore_request(db, &limits, &acme, s->id, str(b, "id"), &restore, &err), ERROR_BUSY);

        /* The task's writes: running, then succeeded with its manifest. */
        ASSERT_EQ(backup_set_running(db, str(b, "id"), "shop1/t-1"), 0);
        ASSERT_EQ(backup_set_succeeded(db, str(b, "id"), 1234, "{\"format\": 1}"), 0);
        ASSERT_EQ(finish_next_task(db), TASK_BACKUP);
        /* A final row does not change again. */
        ASSERT_EQ(backup_set_failed(db, str(b, "id"), "late"), -ENOENT);
        ASSERT_EQ(backup_list(db, &acme, s->id, &list, &err), 0);
        row = json_incref(json_array_get(json_object_get(list, "items"), 0));
        ASSERT_STREQ(str(row, "status"), "succeeded");
        ASSERT_STREQ(str(row, "path"), "shop1/t-1");
        ASSERT_EQ(json_integer_value(json_object_get(row, "size_bytes")), 1234);
        ASSERT_EQ(json_integer_value(json_object_get(json_object_get(row, "manifest"), "format")), 1);

        /* Restores: a backup the store does not have, another tenant, then the real one. */
        ASSERT_EQ(backup_restore_request(db, &limits, &acme, s->id, "0000000000000000", &restore, &err),
                  ERROR_INVALID_REQUEST);
        ASSERT_EQ(backup_restore_request(db, &limits, &globex, s->id, str(b, "id"), &restore, &err), ERROR_NOT_FOUND);
        ASSERT_EQ(backup_restore_request(db, &limits, &acme, s->id, str(b, "id"), &restore, &err), 0);
        ASSERT_STREQ(str(restore, "restore_of"), str(b, "id"));
        ASSERT_STREQ(str(json_object_get(restore, "safety_backup"), "status"), "queued");
        /* The safety backup says it is one, and for which restore. */
        ASSERT_STREQ(str(json_object_get(restore, "safety_backup"), "kind"), "safety");
        ASSERT_STREQ(str(json_object_get(restore, "safety_backup"), "safety_for"), str(b, "id"));
        ASSERT_EQ(finish_next_task(db), TASK_RESTORE);

        /* A failed backup keeps its reason, and cannot be restored. */
        json_decref(TAKE_PTR(b));
        ASSERT_EQ(backup_request(db, &limits, &acme, s->id, &b, &err), 0);
        ASSERT_EQ(backup_set_failed(db, str(b, "id"), "mysqldump exited with code 2"), 0);
        ASSERT_EQ(finish_next_task(db), TASK_BACKUP);
        json_decref(TAKE_PTR(restore));
        ASSERT_EQ(backup_restore_request(db, &limits, &acme, s->id, str(b, "id"), &restore, &err),
                  ERROR_INVALID_STATE);
        json_decref(TAKE_PTR(list));
        ASSERT_EQ(backup_list(db, &acme, s->id, &list, &err), 0);
        ASSERT_EQ(json_array_size(json_object_get(list, "items")), 3u);
}

TEST(backup_delete_and_files)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "state.db");
        _cleanup_free_ char *bdir = NULL, *file = NULL, *rel = NULL;
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(json_decrefp) json_t *b = NULL, *list = NULL;
        StoreError err = {};
        Caller acme, globex;
        FILE *f;

        ASSERT_EQ(db_open(path, &db), 0);
        acme = tenant(db, "acme");
        globex = tenant(db, "globex");
        ASSERT_EQ(store_create(db, &limits, &acme, "shop1", "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        ASSERT_EQ(finish_next_task(db), TASK_CREATE);
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_PROVISIONING, STORE_READY, NULL), 0);

        /* A backup on disk, as the task leaves it. */
        ASSERT_EQ(backup_request(db, &limits, &acme, s->id, &b, &err), 0);
        ASSERT_TRUE(asprintf(&bdir, "%s/backups/shop1/t-1", dir) > 0);
        ASSERT_EQ(mkdir_p(bdir, 0700), 0);
        ASSERT_TRUE(asprintf(&file, "%s/database.sql.gz", bdir) > 0);
        ASSERT_TRUE((f = fopen(file, "w")));
        fputs("dump", f);
        fclose(f);
        ASSERT_EQ(backup_set_running(db, str(b, "id"), "shop1/t-1"), 0);
        ASSERT_EQ(backup_set_succeeded(db, str(b, "id"), 4, "{\"parts\": [{\"name\": \"database.sql.gz\"}]}"), 0);

        /* Its files: the ones the manifest names, to the owner; nothing else, to nobody else. */
        ASSERT_EQ(backup_file_path(db, &acme, s->id, str(b, "id"), "database.sql.gz", NULL, &rel, &err), 0);
        ASSERT_STREQ(rel, "shop1/t-1/database.sql.gz");
        ASSERT_EQ(backup_file_path(db, &acme, s->id, str(b, "id"), "../../state.db", NULL, &rel, &err),
                  ERROR_NOT_FOUND);
        ASSERT_EQ(backup_file_path(db, &globex, s->id, str(b, "id"), "database.sql.gz", NULL, &rel, &err),
                  ERROR_NOT_FOUND);

        /* Not while its task still holds the store; then its files and row go. */
        ASSERT_EQ(backup_delete(db, &acme, s->id, str(b, "id"), dir, &err), ERROR_BUSY);
        ASSERT_EQ(finish_next_task(db), TASK_BACKUP);
        ASSERT_EQ(backup_delete(db, &globex, s->id, str(b, "id"), dir, &err), ERROR_NOT_FOUND);
        ASSERT_EQ(access(bdir, F_OK), 0);
        ASSERT_EQ(backup_delete(db, &acme, s->id, str(b, "id"), dir, &err), 0);
        ASSERT_TRUE(access(bdir, F_OK) < 0 && errno == ENOENT);
        ASSERT_EQ(backup_list(db, &acme, s->id, &list, &err), 0);
        ASSERT_EQ(json_array_size(json_object_get(list, "items")), 0u);
        ASSERT_EQ(backup_delete(db, &acme, s->id, str(b, "id"), dir, &err), ERROR_NOT_FOUND);
}

/* The backup a leased create task restores, or NULL. */
static const char *clone_backup_of(Task *t)
{
        return json_string_value(json_object_get(json_object_get(t->payload, "clone"), "backup"));
}

TEST(clone_from_backup)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "state.db");
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(store_freep) Store *s = NULL, *c = NULL, *again = NULL;
        _cleanup_(json_decrefp) json_t *b = NULL, *f = NULL, *events = NULL, *plan = NULL;
        _cleanup_(task_freep) Task *t = NULL, *retry = NULL;
        _cleanup_free_ char *older = NULL, *newer = NULL;
        const BackupPolicy keep_none = { .keep_last = 0 };
        StoreError err = {};
        Caller acme, globex;
        uint64_t n;

        ASSERT_EQ(db_open(path, &db), 0);
        acme = tenant(db, "acme");
        globex = tenant(db, "globex");
        ASSERT_EQ(store_create(db, &limits, &acme, "shop1", "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        ASSERT_EQ(finish_next_task(db), TASK_CREATE);
        ASSERT_EQ(store_set_status_if(db, s->id, STORE_PROVISIONING, STORE_READY, NULL), 0);
        /* Two scheduled backups: the older is the clone's, which retention would remove. */
        ASSERT_EQ(backup_schedule_queue(db, &limits, s->id, now_usec() - 60 * USEC_PER_SEC, &older), 0);
        ASSERT_EQ(backup_set_running(db, older, "shop1/t-1"), 0);
        ASSERT_EQ(backup_set_succeeded(db, older, 4, "{\"parts\": []}"), 0);
        ASSERT_EQ(finish_next_task(db), TASK_BACKUP);
        ASSERT_EQ(backup_schedule_queue(db, &limits, s->id, now_usec(), &newer), 0);
        ASSERT_EQ(backup_set_running(db, newer, "shop1/t-2"), 0);
        ASSERT_EQ(backup_set_succeeded(db, newer, 4, "{\"parts\": []}"), 0);
        ASSERT_EQ(finish_next_task(db), TASK_BACKUP);
        ASSERT_EQ(backup_get_row(db, older, &b), 0);
        ASSERT_EQ(backup_request(db, &limits, &acme, s->id, &f, &err), 0);
        ASSERT_EQ(backup_set_failed(db, str(f, "id"), "mysqldump exited with code 2"), 0);
        ASSERT_EQ(finish_next_task(db), TASK_BACKUP);

        /* Refused before anything is made: another tenant's (as if absent), a failed backup, none. */
        const StoreCloneSource theirs = { s->id, str(b, "id") }, failed = { "shop1", str(f, "id") },
                               missing = { "shop1", "0000000000000000" },
                               nostore = { "shop9", str(b, "id") };
        ASSERT_EQ(store_create_with_settings(db, &limits, &globex, "shop2", "woocommerce", NULL, NULL,
                                             &theirs, NULL, &c, NULL, &err),
                  ERROR_NOT_FOUND);
        ASSERT_EQ(store_create_with_settings(db, &limits, &acme, "shop2", "woocommerce", NULL, NULL,
                                             &failed, NULL, &c, NULL, &err),
                  ERROR_INVALID_STATE);
        ASSERT_CONTAINS(err.message, "succeeded");
        ASSERT_EQ(store_create_with_settings(db, &limits, &acme, "shop2", "woocommerce", NULL, NULL,
                                             &missing, NULL, &c, NULL, &err),
                  ERROR_NOT_FOUND);
        ASSERT_EQ(store_create_with_settings(db, &limits, &acme, "shop2", "woocommerce", NULL, NULL,
                                             &nostore, NULL, &c, NULL, &err),
                  ERROR_NOT_FOUND);
        ASSERT_EQ(store_count_active(db, 0, &n), 0);
        ASSERT_EQ(n, 1u);

        /* The clone: its create task names the source; its timeline says so. */
        const StoreCloneSource ours = { s->id, str(b, "id") };
        ASSERT_EQ(store_create_with_settings(db, &limits, &acme, "shop2", "woocommerce", NULL, NULL, &ours,
                                             NULL, &c, NULL, &err),
                  0);
        ASSERT_EQ(store_events(db, c->id, 10, 0, &events), 0);
        ASSERT_CONTAINS(str(json_array_get(events, 0), "detail"), "clone of store 'shop1'");
        ASSERT_EQ(queue_lease(db, "test-worker", 60 * USEC_PER_SEC, &t), 0);
        ASSERT_EQ(t->kind, TASK_CREATE);
        ASSERT_STREQ(clone_backup_of(t), str(b, "id"));

        /* While it is made, its backup stays: not deleted, not pruned. */
        ASSERT_EQ(backup_delete(db, &acme, s->id, str(b, "id"), dir, &err), ERROR_BUSY);
        ASSERT_CONTAINS(err.message, "made from it");
        ASSERT_EQ(backup_retention_plan(db, s->id, &keep_none, &plan), 0);
        ASSERT_EQ(json_array_size(plan), 0u);
        json_decref(TAKE_PTR(plan));

        /* A failed clone is retried as the clone it is. */
        ASSERT_EQ(queue_complete(db, t, "test-worker"), 0);
        ASSERT_EQ(store_set_status_if(db, c->id, STORE_PROVISIONING, STORE_FAILED, "restore failed"), 0);
        ASSERT_EQ(store_retry(db, &limits, &acme, c->id, &again, &err), 0);
        ASSERT_EQ(queue_lease(db, "test-worker", 60 * USEC_PER_SEC, &retry), 0);
        ASSERT_STREQ(clone_backup_of(retry), str(b, "id"));
        ASSERT_EQ(queue_complete(db, retry, "test-worker"), 0);
        /* Once it is done, retention takes the older backup again, and it can be deleted. */
        ASSERT_EQ(backup_retention_plan(db, s->id, &keep_none, &plan), 0);
        ASSERT_EQ(json_array_size(plan), 1u);
        ASSERT_STREQ(str(json_array_get(plan, 0), "id"), older);
        ASSERT_EQ(backup_delete(db, &acme, s->id, older, dir, &err), 0);
}

DEFINE_TEST_MAIN(LOG_INFO);
