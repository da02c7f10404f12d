/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <pthread.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/account.h"
#include "core/queue.h"
#include "core/runner.h"
#include "core/store.h"
#include "tests.h"


/* The admin account NAME as a caller (made on first use), as the REST and D-Bus front ends make them. */
static const Caller *as(Db *db, const char *name)
{
        static Caller callers[8];
        static unsigned n;
        _cleanup_(account_freep) Account *a = NULL;

        ASSERT_EQ(account_ensure_admin(db, name, &a), 0);
        for (unsigned i = 0; i < n; i++)
                if (callers[i].account_id == a->id)
                        return &callers[i];
        ASSERT_TRUE(n < ELEMENTSOF(callers));
        caller_from_account(a, &callers[n]);
        return &callers[n++];
}

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
        ASSERT_EQ(store_create(db, &limits, as(db, "t"), name, "woocommerce", NULL, NULL, &s, NULL, &err), 0);
        return strdup(s->id);
}

/*
 * The lease functions take the time from their caller: these tests move a
 * clock of their own instead of sleeping until a lease runs out. It starts at
 * the real time, the clock store_create() stamps the tasks it queues with.
 */

TEST(test_lease_and_expiry)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a"), *b = new_store(db, "b");
        _cleanup_(task_freep) Task *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL;
        uint64_t now = now_usec();

        /* Two workers get the two stores' tasks; a third finds nothing. */
        ASSERT_EQ(queue_lease_at(db, now, "w/1", 30 * USEC_PER_SEC, &t1), 0);
        ASSERT_EQ(queue_lease_at(db, now, "w/2", 600 * USEC_PER_SEC, &t2), 0);
        ASSERT_STREQ(t1->store_id, a);
        ASSERT_STREQ(t2->store_id, b);
        ASSERT_EQ(t1->attempts, 1);
        ASSERT_EQ(queue_lease_at(db, now, "w/3", 60 * USEC_PER_SEC, &t3), -EAGAIN);

        /* Worker 1 "crashes". Until its lease runs out, its task is not handed to anyone else... */
        now += 29 * USEC_PER_SEC;
        ASSERT_EQ(queue_lease_at(db, now, "w/3", 60 * USEC_PER_SEC, &t3), -EAGAIN);

        /* ...and once it has, another worker resumes the task. */
        now += 2 * USEC_PER_SEC;
        ASSERT_EQ(queue_lease_at(db, now, "w/3", 30 * USEC_PER_SEC, &t3), 0);
        ASSERT_EQ(t3->id, t1->id);
        ASSERT_EQ(t3->attempts, 2);
        /* The old owner's lease is gone: it can neither heartbeat nor complete. */
        ASSERT_EQ(queue_heartbeat_at(db, now, t1, "w/1", USEC_PER_SEC), -ESTALE);
        ASSERT_EQ(queue_complete_at(db, now, t1, "w/1"), -ESTALE);

        /* A heartbeat counts from its own time: 20 s in, the lease now lasts until 50 s. */
        now += 20 * USEC_PER_SEC;
        ASSERT_EQ(queue_heartbeat_at(db, now, t3, "w/3", 30 * USEC_PER_SEC), 0);
        now += 20 * USEC_PER_SEC;
        ASSERT_EQ(queue_lease_at(db, now, "w/4", 60 * USEC_PER_SEC, &t4), -EAGAIN);
        ASSERT_EQ(queue_complete_at(db, now, t3, "w/3"), 0);
}

TEST(test_retry_later_and_one_per_store)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(task_freep) Task *t = NULL, *u = NULL;
        uint64_t now = now_usec(), due = 0;

        ASSERT_EQ(queue_lease_at(db, now, "w", 60 * USEC_PER_SEC, &t), 0);
        /* A second task for the same store waits while the first runs. */
        ASSERT_EQ(queue_enqueue(db, a, TASK_DELETE, NULL, "t", NULL), 0);
        ASSERT_EQ(queue_lease_at(db, now, "w2", 60 * USEC_PER_SEC, &u), -EAGAIN);
        /* Handing the first back with a delay keeps order: still nothing runnable. */
        ASSERT_EQ(queue_retry_later_at(db, now, t, "w", 30 * USEC_PER_SEC, "cluster down"), 0);
        ASSERT_EQ(queue_lease_at(db, now, "w2", 60 * USEC_PER_SEC, &u), -EAGAIN);
        /* The delete is due but blocked behind the older task of its store. */
        ASSERT_EQ(queue_next_due_at(db, now, &due), 0);
        ASSERT_EQ(due, 0);
        /* Not before its delay has passed. */
        now += 29 * USEC_PER_SEC;
        ASSERT_EQ(queue_lease_at(db, now, "w2", 60 * USEC_PER_SEC, &u), -EAGAIN);
        now += 2 * USEC_PER_SEC;
        ASSERT_EQ(queue_lease_at(db, now, "w2", 60 * USEC_PER_SEC, &u), 0);
        ASSERT_EQ(u->id, t->id);
        ASSERT_EQ(u->attempts, 2);
        ASSERT_EQ(queue_fail_at(db, now, u, "w2", "gave up"), 0);
        u = task_free(u);
        ASSERT_EQ(queue_lease_at(db, now, "w2", 60 * USEC_PER_SEC, &u), 0);
        ASSERT_EQ(u->kind, TASK_DELETE);
}

TEST(test_next_due)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(task_freep) Task *t = NULL;
        uint64_t now = now_usec(), due = 0;

        ASSERT_EQ(queue_lease_at(db, now, "w", 60 * USEC_PER_SEC, &t), 0);
        ASSERT_EQ(queue_next_due_at(db, now, &due), -ENODATA);
        ASSERT_EQ(queue_retry_later_at(db, now, t, "w", 30 * USEC_PER_SEC, "cluster down"), 0);
        ASSERT_EQ(queue_next_due_at(db, now + 10 * USEC_PER_SEC, &due), 0);
        ASSERT_EQ(due, 20 * USEC_PER_SEC);
        ASSERT_EQ(queue_next_due_at(db, now + 40 * USEC_PER_SEC, &due), 0);
        ASSERT_EQ(due, 0);
}

TEST(test_release_stale_on_start)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(task_freep) Task *t = NULL, *u = NULL;
        uint64_t now = now_usec();

        ASSERT_EQ(queue_lease_at(db, now, "old-1/0", 600 * USEC_PER_SEC, &t), 0);
        /* A new daemon instance takes back what the killed one held, without waiting for the lease. */
        ASSERT_EQ(queue_release_stale(db, "new-2"), 1);
        ASSERT_EQ(queue_lease_at(db, now, "new-2/0", 60 * USEC_PER_SEC, &u), 0);
        ASSERT_EQ(u->id, t->id);
}

/*
 * A worker whose lease ran out and went to another worker, then back to a worker of the same
 * name, cannot act on the task with its old lease: the token differs.
 */
TEST(test_token_fences_a_stale_lease)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(task_freep) Task *t1 = NULL, *t2 = NULL;
        uint64_t now = now_usec();

        ASSERT_EQ(queue_lease_at(db, now, "w/0", 10 * USEC_PER_SEC, &t1), 0);
        now += 11 * USEC_PER_SEC;
        ASSERT_EQ(queue_lease_at(db, now, "w/0", 10 * USEC_PER_SEC, &t2), 0);
        ASSERT_EQ(t2->id, t1->id);
        ASSERT_TRUE(t2->lease_token > t1->lease_token);
        ASSERT_EQ(queue_heartbeat_at(db, now, t1, "w/0", USEC_PER_SEC), -ESTALE);
        ASSERT_EQ(queue_fail_at(db, now, t1, "w/0", "stale"), -ESTALE);
        ASSERT_EQ(queue_retry_later_at(db, now, t1, "w/0", 0, "stale"), -ESTALE);
        ASSERT_EQ(queue_heartbeat_at(db, now, t2, "w/0", USEC_PER_SEC), 0);
        ASSERT_EQ(queue_complete_at(db, now, t2, "w/0"), 0);
}

/* The helm child a task runs is on its row, and the next lease of the task (after a crash) sees it. */
TEST(test_child_recorded_with_the_task)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(task_freep) Task *t = NULL, *u = NULL;
        uint64_t now = now_usec();

        ASSERT_EQ(queue_lease_at(db, now, "old/0", 60 * USEC_PER_SEC, &t), 0);
        ASSERT_EQ(t->child_pid, 0);
        ASSERT_EQ(queue_set_child(db, t, "old/0", 4242, 987654), 0);
        ASSERT_EQ(queue_release_stale(db, "new"), 1);
        ASSERT_EQ(queue_lease_at(db, now, "new/0", 60 * USEC_PER_SEC, &u), 0);
        ASSERT_EQ(u->id, t->id);
        ASSERT_EQ(u->child_pid, 4242);
        ASSERT_EQ(u->child_start, 987654u);
        ASSERT_EQ(queue_set_child(db, u, "new/0", 0, 0), 0);
        u = task_free(u);
        ASSERT_EQ(queue_retry_later_at(db, now, t, "old/0", 0, NULL), -ESTALE);
}

/*
 * A task handed back between two looks at its store's workloads keeps its payload (the wait it is in),
 * keeps its store's turn, and is leased after work that has not started yet, so stores that keep
 * waiting never hold up another store's first step.
 */
TEST(test_waiting_task_keeps_its_payload_and_goes_after_fresh_work)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(task_freep) Task *t = NULL, *u = NULL, *v = NULL;
        uint64_t now = now_usec();

        ASSERT_EQ(queue_lease_at(db, now, "w", 60 * USEC_PER_SEC, &t), 0);
        t->payload = json_pack("{s{ss}}", "wait", "phase", "workloads");
        ASSERT_EQ(queue_set_payload(db, t, "w"), 0);
        ASSERT_EQ(queue_set_payload(db, t, "other"), -ESTALE);
        ASSERT_EQ(queue_enqueue(db, a, TASK_DELETE, NULL, "t", NULL), 0);
        ASSERT_EQ(queue_retry_later_at(db, now, t, "w", USEC_PER_SEC, QUEUE_WAITING_FOR_WORKLOADS), 0);

        _cleanup_free_ char *b = new_store(db, "b");
        now += 2 * USEC_PER_SEC;
        /* Both creates are due: b's, not started yet, goes first although a's is older. */
        ASSERT_EQ(queue_lease_at(db, now, "w", 60 * USEC_PER_SEC, &u), 0);
        ASSERT_STREQ(u->store_id, b);
        /* Then a's create, with its wait; the delete of a waits behind it. */
        ASSERT_EQ(queue_lease_at(db, now, "w", 60 * USEC_PER_SEC, &v), 0);
        ASSERT_EQ(v->id, t->id);
        ASSERT_STREQ(json_string_value(json_object_get(json_object_get(v->payload, "wait"), "phase")),
                     "workloads");
        task_free(u);
        u = NULL;
        ASSERT_EQ(queue_lease_at(db, now, "w", 60 * USEC_PER_SEC, &u), -EAGAIN);
}

/* Waits for store id to be READY, polling every 50 ms at most `polls` times (the caller asserts). */
static void wait_ready(Db *db, const char *id, int polls)
{
        for (int i = 0; i < polls; i++) {
                Store *s = NULL;
                bool ready;

                ASSERT_EQ(store_get(db, id, &s), 0);
                ready = s->status == STORE_READY;
                store_free(s);
                if (ready)
                        return;
                usleep(50 * 1000);
        }
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
        wait_ready(db, a, 100);
        ASSERT_EQ(store_get(db, a, &s), 0);
        ASSERT_EQ(s->status, STORE_READY);
        ASSERT_EQ(atomic_load(&calls), 2);
        store_free(s);
        runner_stop(r);
        RunnerStats st;
        runner_get_stats(r, &st);
        ASSERT_EQ(st.count[TASK_CREATE], 1);
}

/*
 * Tasks handed back because the cluster could not be reached wait out no backoff once it
 * answers: an idle worker probes it and makes them due. A task that failed for another reason
 * keeps its backoff. The test pushes both tasks' next attempt an hour away, so only the wake can
 * bring the first one back.
 */
static atomic_bool cluster_up;
static atomic_int probes;
static char *plain_store;
static int cluster_handler(Worker *w, Task *t, void *userdata)
{
        if (streq(t->store_id, plain_store))
                return -EAGAIN;
        if (!atomic_load(&cluster_up)) {
                worker_wait_for_cluster(w);
                return -EAGAIN;
        }
        return store_set_status(worker_db(w), t->store_id, STORE_READY, NULL);
}

static int cluster_probe(void *userdata)
{
        atomic_fetch_add(&probes, 1);
        return atomic_load(&cluster_up) ? 0 : -ECONNREFUSED;
}

static int64_t task_column(Db *db, const char *store_id, const char *sql)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;

        ASSERT_EQ(db_prepare(db, sql, &q), 0);
        sqlite3_bind_text(q, 1, store_id, -1, SQLITE_TRANSIENT);
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        return sqlite3_column_int64(q, 0);
}

TEST(test_tasks_waiting_for_the_cluster_wake_when_it_answers)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "waits-for-cluster");
        _cleanup_(runner_freep) Runner *r = NULL;
        RunnerOptions o = { .db_path = path, .n_workers = 2, .lease_usec = 30 * USEC_PER_SEC,
                            .max_backoff_usec = 60 * USEC_PER_SEC, .instance_id = "test", .handler = cluster_handler,
                            .cluster_probe = cluster_probe, .probe_interval_usec = 50 * USEC_PER_MSEC };
        const char *waiting = "SELECT count(*) FROM tasks WHERE store_id = ? AND state = 'queued' AND "
                              "last_error = '" QUEUE_WAITING_FOR_CLUSTER "'";
        const char *plain_waiting = "SELECT count(*) FROM tasks WHERE store_id = ? AND state = 'queued' AND "
                                    "last_error = 'transient failure'";
        int64_t later = (int64_t) (now_usec() + 3600 * USEC_PER_SEC);
        Store *s = NULL;

        plain_store = new_store(db, "plain-failure");
        ASSERT_EQ(runner_new(&r, &o), 0);
        ASSERT_EQ(runner_start(r), 0);
        for (int i = 0; i < 200 && (task_column(db, a, waiting) == 0 || task_column(db, plain_store, plain_waiting) == 0);
             i++)
                usleep(50 * 1000);
        ASSERT_EQ(task_column(db, a, waiting), 1);
        ASSERT_EQ(task_column(db, plain_store, plain_waiting), 1);

        /* Both an hour away; while the cluster refuses, the probe asks and nothing is woken. */
        _cleanup_free_ char *sql = NULL;
        ASSERT_TRUE(asprintf(&sql, "UPDATE tasks SET not_before = %" PRIi64 " WHERE state = 'queued'", later) > 0);
        ASSERT_EQ(db_exec(db, sql), 0);
        int seen = atomic_load(&probes);
        for (int i = 0; i < 200 && atomic_load(&probes) < seen + 2; i++)
                usleep(50 * 1000);
        ASSERT_TRUE(atomic_load(&probes) >= seen + 2);
        ASSERT_EQ(task_column(db, a, "SELECT max(not_before) FROM tasks WHERE store_id = ?"), later);

        /* The cluster answers: the waiting task runs at once, the other keeps its hour. */
        atomic_store(&cluster_up, true);
        wait_ready(db, a, 200);
        ASSERT_EQ(store_get(db, a, &s), 0);
        ASSERT_EQ(s->status, STORE_READY);
        s = store_free(s);
        ASSERT_EQ(task_column(db, plain_store, "SELECT max(not_before) FROM tasks WHERE store_id = ?"), later);
        runner_stop(r);
        free(plain_store);
        plain_store = NULL;
}

/*
 * A task that waits for room comes back after capacity_recheck_usec (here an hour: not the doubling
 * backoff), and at once when a delete task ends: the delete may have made the room.
 */
static atomic_bool room;
static int capacity_handler(Worker *w, Task *t, void *userdata)
{
        if (t->kind == TASK_DELETE)
                return 0;
        if (!atomic_load(&room)) {
                worker_wait_for_capacity(w);
                return -EAGAIN;
        }
        return store_set_status(worker_db(w), t->store_id, STORE_READY, NULL);
}

TEST(test_tasks_waiting_for_room_wake_when_a_delete_ends)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "waits-for-room"), *b = new_store(db, "deleted");
        _cleanup_(runner_freep) Runner *r = NULL;
        RunnerOptions o = { .db_path = path, .n_workers = 1, .lease_usec = 30 * USEC_PER_SEC,
                            .max_backoff_usec = 60 * USEC_PER_SEC, .instance_id = "test", .handler = capacity_handler,
                            .capacity_recheck_usec = 3600 * USEC_PER_SEC };
        const char *waiting = "SELECT count(*) FROM tasks WHERE store_id = ? AND state = 'queued' AND "
                              "last_error = '" QUEUE_WAITING_FOR_CAPACITY "'";
        Store *s = NULL;

        /* b's create waits for room too until room comes; its delete is what frees it. */
        ASSERT_EQ(runner_new(&r, &o), 0);
        ASSERT_EQ(runner_start(r), 0);
        for (int i = 0; i < 200 && (task_column(db, a, waiting) == 0 || task_column(db, b, waiting) == 0); i++)
                usleep(50 * 1000);
        ASSERT_EQ(task_column(db, a, waiting), 1);
        ASSERT_TRUE(task_column(db, a, "SELECT max(not_before) FROM tasks WHERE store_id = ?") >
                    (int64_t) (now_usec() + 1800 * USEC_PER_SEC));

        /* b's create is done with (as a delete supersedes it), then its delete runs and ends. */
        ASSERT_EQ(db_exec(db, "UPDATE tasks SET state = 'done' WHERE last_error = '" QUEUE_WAITING_FOR_CAPACITY
                              "' AND store_id <> (SELECT id FROM stores WHERE name = 'waits-for-room')"), 0);
        atomic_store(&room, true);
        ASSERT_EQ(queue_enqueue(db, b, TASK_DELETE, NULL, "t", NULL), 0);
        runner_wake(r);
        wait_ready(db, a, 200);
        ASSERT_EQ(store_get(db, a, &s), 0);
        ASSERT_EQ(s->status, STORE_READY);
        s = store_free(s);
        runner_stop(r);
}

/*
 * A handler that blocks far longer than the lease without one checkpoint, as a worker does
 * while helm runs: the heartbeat keeps the lease, so the other worker never starts the task
 * a second time. Without it the second worker leases the task after 300 ms.
 */
static atomic_int slow_calls;
static int slow_handler(Worker *w, Task *t, void *userdata)
{
        atomic_fetch_add(&slow_calls, 1);
        sleep_msec(1500);
        return store_set_status(worker_db(w), t->store_id, STORE_READY, NULL);
}

static StoreStatus wait_status(Db *db, const char *id, StoreStatus want)
{
        StoreStatus st = _STORE_STATUS_INVALID;
        for (int i = 0; i < 200; i++) {
                _cleanup_(store_freep) Store *s = NULL;
                ASSERT_EQ(store_get(db, id, &s), 0);
                st = s->status;
                if (st == want)
                        break;
                sleep_msec(50);
        }
        return st;
}

TEST(test_heartbeat_keeps_the_lease_while_a_step_blocks)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(runner_freep) Runner *r = NULL;
        RunnerOptions o = { .db_path = path, .n_workers = 2, .lease_usec = 300 * USEC_PER_MSEC,
                            .max_backoff_usec = 100 * USEC_PER_MSEC, .instance_id = "test", .handler = slow_handler };

        ASSERT_EQ(runner_new(&r, &o), 0);
        ASSERT_EQ(runner_start(r), 0);
        ASSERT_EQ(wait_status(db, a, STORE_READY), STORE_READY);
        runner_stop(r);
        ASSERT_EQ(atomic_load(&slow_calls), 1);
}

/*
 * Someone takes the lease away (simulated in the database, as another worker's lease would
 * after an expiry): the worker's stop flag rises, which ends its helm, the handler's fenced
 * write is refused, and the row stays the new owner's.
 */
static atomic_bool stolen_seen, stolen_write_refused, handler_entered;
static int stolen_handler(Worker *w, Task *t, void *userdata)
{
        atomic_store(&handler_entered, true);
        for (int i = 0; i < 200 && !atomic_load(worker_cancel_flag(w)); i++)
                sleep_msec(50);
        atomic_store(&stolen_seen, worker_lost_lease(w));
        atomic_store(&stolen_write_refused, worker_fence(w) == -ECANCELED);
        return 0;
}

TEST(test_stolen_lease_stops_the_worker)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(runner_freep) Runner *r = NULL;
        RunnerOptions o = { .db_path = path, .n_workers = 1, .lease_usec = 400 * USEC_PER_MSEC,
                            .max_backoff_usec = 100 * USEC_PER_MSEC, .instance_id = "test",
                            .handler = stolen_handler };
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        uint64_t began;

        ASSERT_EQ(runner_new(&r, &o), 0);
        ASSERT_EQ(runner_start(r), 0);
        for (int i = 0; i < 200 && !atomic_load(&handler_entered); i++)
                sleep_msec(20);
        ASSERT_TRUE(atomic_load(&handler_entered));
        began = mono_usec();
        ASSERT_EQ(db_exec(db, "UPDATE tasks SET lease_owner = 'thief', lease_token = lease_token + 1, "
                              "lease_expires_at = lease_expires_at + 3600000000"),
                  0);
        while (runner_finished(r) == 0 && mono_usec() - began < 10 * USEC_PER_SEC)
                sleep_msec(20);
        ASSERT_EQ(runner_finished(r), 1u);
        /* Noticed by the heartbeat within about a quarter of the lease. */
        ASSERT_TRUE(mono_usec() - began < 2 * USEC_PER_SEC);
        ASSERT_TRUE(atomic_load(&stolen_seen));
        ASSERT_TRUE(atomic_load(&stolen_write_refused));
        runner_stop(r);
        ASSERT_EQ(db_prepare(db, "SELECT state, lease_owner FROM tasks", &q), 0);
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        ASSERT_STREQ((const char *) sqlite3_column_text(q, 0), "running");
        ASSERT_STREQ((const char *) sqlite3_column_text(q, 1), "thief");
}

/*
 * A handler that waits (-EINPROGRESS) gives its worker back: with a single worker, the task of another
 * store runs to its end while the first keeps coming back for another look.
 */
static char *waiting_store;
static atomic_int looks;
static atomic_bool other_done;
static int waiting_handler(Worker *w, Task *t, void *userdata)
{
        if (!streq(t->store_id, waiting_store)) {
                atomic_store(&other_done, true);
                return store_set_status(worker_db(w), t->store_id, STORE_READY, NULL);
        }
        atomic_fetch_add(&looks, 1);
        if (!atomic_load(&other_done)) {
                worker_recheck_in(w, 20 * USEC_PER_MSEC);
                return -EINPROGRESS;
        }
        return store_set_status(worker_db(w), t->store_id, STORE_READY, NULL);
}

TEST(test_waiting_handler_frees_its_worker)
{
        _cleanup_free_ char *path = NULL;
        _cleanup_(db_closep) Db *db = open_db(&path);
        _cleanup_free_ char *a = new_store(db, "a");
        _cleanup_(runner_freep) Runner *r = NULL;
        RunnerOptions o = { .db_path = path, .n_workers = 1, .lease_usec = 30 * USEC_PER_SEC,
                            .max_backoff_usec = 100 * USEC_PER_MSEC, .instance_id = "test",
                            .handler = waiting_handler };

        waiting_store = a;
        ASSERT_EQ(runner_new(&r, &o), 0);
        ASSERT_EQ(runner_start(r), 0);
        for (int i = 0; i < 200 && atomic_load(&looks) < 2; i++)
                sleep_msec(10);
        ASSERT_TRUE(atomic_load(&looks) >= 2);
        _cleanup_free_ char *b = new_store(db, "b");
        runner_wake(r);
        wait_ready(db, b, 200);
        wait_ready(db, a, 200);
        runner_stop(r);
        ASSERT_TRUE(atomic_load(&other_done));
        ASSERT_EQ(task_column(db, a, "SELECT state = 'done' FROM tasks WHERE store_id = ?"), 1);
        ASSERT_EQ(task_column(db, b, "SELECT state = 'done' FROM tasks WHERE store_id = ?"), 1);
}

DEFINE_TEST_MAIN(LOG_ERR)
