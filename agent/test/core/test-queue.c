/* SPDX-License-Identifier: Apache-2.0 */

#include <pthread.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/queue.h"
#include "core/runner.h"
#include "core/store.h"
#include "tests.h"

static const StoreLimits limits = { .max_stores = 100, .creates_per_hour = 100, .max_pending_tasks = 100 };

static Db *open_db(char **ret_path)
{
        _cleanup_free_ char *dir = test_tmpdir();
        char *path = strjoin_path(dir, "q.db");
        Db *db = NULL;

        ASSERT_EQ(db_open(path, &db), 0);
        *ret_path = path;
        return db;
}

static char *new_store(Db *db, const char *name)
{
        _cleanup_(store_freep) Store *s = NULL;
        StoreError err = {};
        ASSERT_EQ(store_create(db, &limits, "t", name, "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        return strdup(s->id);
}

TEST(test_lease_and_expiry)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a"), *b = new_store(db, "b");
        Task *t1 = NULL, *t2 = NULL, *t3 = NULL;

        /* Two workers get the two stores' tasks; a third finds nothing. */
        /* (Windows of 1.5 s: the checks in between must fit in them on a loaded machine.) */
        ASSERT_EQ(queue_lease(db, "w/1", 1500 * USEC_PER_MSEC, &t1), 0);
        ASSERT_EQ(queue_lease(db, "w/2", 60 * USEC_PER_SEC, &t2), 0);
        ASSERT_STREQ(t1->store_id, a);
        ASSERT_STREQ(t2->store_id, b);
        ASSERT_EQ(t1->attempts, 1);
        ASSERT_EQ(queue_lease(db, "w/3", 60 * USEC_PER_SEC, &t3), -EAGAIN);

        /* Worker 1 "crashes": once its lease runs out, another worker resumes the task. */
        usleep(1700 * 1000);
        ASSERT_EQ(queue_lease(db, "w/3", 60 * USEC_PER_SEC, &t3), 0);
        ASSERT_EQ(t3->id, t1->id);
        ASSERT_EQ(t3->attempts, 2);
        /* The old owner's lease is gone: it can neither heartbeat nor complete. */
        ASSERT_EQ(queue_heartbeat(db, t1->id, "w/1", USEC_PER_SEC), -ESTALE);
        ASSERT_EQ(queue_complete(db, t1->id, "w/1"), -ESTALE);
        ASSERT_EQ(queue_heartbeat(db, t3->id, "w/3", 60 * USEC_PER_SEC), 0);
        ASSERT_EQ(queue_complete(db, t3->id, "w/3"), 0);
        task_free(t1);
        task_free(t2);
        task_free(t3);
}

TEST(test_retry_later_and_one_per_store)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        Task *t = NULL, *u = NULL;
        uint64_t due = 0;

        ASSERT_EQ(queue_lease(db, "w", 60 * USEC_PER_SEC, &t), 0);
        /* A second task for the same store waits while the first runs. */
        ASSERT_EQ(queue_enqueue(db, a, TASK_DELETE, NULL, "t", NULL), 0);
        ASSERT_EQ(queue_lease(db, "w2", 60 * USEC_PER_SEC, &u), -EAGAIN);
        /* Handing the first back with a delay keeps order: still nothing runnable. */
        ASSERT_EQ(queue_retry_later(db, t->id, "w", 1500 * USEC_PER_MSEC, "cluster down"), 0);
        ASSERT_EQ(queue_lease(db, "w2", 60 * USEC_PER_SEC, &u), -EAGAIN);
        /* The delete is due but blocked behind the older task of its store. */
        ASSERT_EQ(queue_next_due(db, &due), 0);
        ASSERT_EQ(due, 0);
        usleep(1700 * 1000);
        ASSERT_EQ(queue_lease(db, "w2", 60 * USEC_PER_SEC, &u), 0);
        ASSERT_EQ(u->id, t->id);
        ASSERT_EQ(u->attempts, 2);
        ASSERT_EQ(queue_fail(db, u->id, "w2", "gave up"), 0);
        task_free(u);
        u = NULL;
        ASSERT_EQ(queue_lease(db, "w2", 60 * USEC_PER_SEC, &u), 0);
        ASSERT_EQ(u->kind, TASK_DELETE);
        task_free(t);
        task_free(u);
}

TEST(test_release_stale_on_start)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        Task *t = NULL, *u = NULL;

        ASSERT_EQ(queue_lease(db, "old-1/0", 600 * USEC_PER_SEC, &t), 0);
        /* A new daemon instance takes back what the killed one held, without waiting for the lease. */
        ASSERT_EQ(queue_release_stale(db, "new-2"), 1);
        ASSERT_EQ(queue_lease(db, "new-2/0", 60 * USEC_PER_SEC, &u), 0);
        ASSERT_EQ(u->id, t->id);
        task_free(t);
        task_free(u);
}

/* The runner end to end: a handler that fails transiently once, then succeeds. */
static atomic_int calls;
static int flaky_handler(Worker *w, Task *t, void *userdata)
{
        if (atomic_fetch_add(&calls, 1) == 0)
                return -EAGAIN;
        return store_set_status(worker_db(w), t->store_id, STORE_READY, NULL);
}

TEST(test_runner)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(runner_freep) Runner *r = NULL;
        RunnerOptions o = { .db_path = path, .n_workers = 2, .lease_usec = 30 * USEC_PER_SEC,
                            .max_backoff_usec = 100 * USEC_PER_MSEC, .instance_id = "test", .handler = flaky_handler };
        Store *s = NULL;

        ASSERT_EQ(runner_new(&r, &o), 0);
        ASSERT_EQ(runner_start(r), 0);
        for (int i = 0; i < 100; i++) {
                ASSERT_EQ(store_get(db, a, &s), 0);
                bool ready = s->status == STORE_READY;
                s = store_free(s);
                if (ready)
                        break;
                usleep(50 * 1000);
        }
        ASSERT_EQ(store_get(db, a, &s), 0);
        ASSERT_EQ(s->status, STORE_READY);
        ASSERT_EQ(atomic_load(&calls), 2);
        store_free(s);
        runner_stop(r);
        RunnerStats st;
        runner_get_stats(r, &st);
        ASSERT_EQ(st.count[TASK_CREATE], 1);
}

DEFINE_TEST_MAIN(LOG_ERR)
