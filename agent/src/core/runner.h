/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The task runner: worker threads that lease tasks from the durable queue and
 * hand them to a TaskHandler, and a heartbeat thread that renews the leases of
 * running tasks while their handlers work. Each worker owns its own database connection
 * (and, through worker_set_data(), whatever per-thread client the handler
 * needs). Handlers return:
 *   0            done
 *   -EAGAIN      transient trouble (cluster unreachable...): run again later with backoff
 *   -ECANCELED   the daemon is stopping: the task goes back to the queue untouched
 *   -EINPROGRESS not done, nothing wrong: the task waits for the cluster to move (a store's workloads to
 *                become ready) and gives its worker back meanwhile; it is queued again, runnable after
 *                the delay given with worker_recheck_in() (2 s if none), behind the tasks that do not
 *                wait, and keeps its store's turn: no other task of the store starts before it ends
 *   other < 0    the task failed for good (the handler has recorded why on the store)
 */

#include <stdatomic.h>
#include <stdint.h>

#include "core/db.h"
#include "core/queue.h"

typedef struct Runner Runner;
typedef struct Worker Worker;

typedef int (*TaskHandler)(Worker *w, Task *t, void *userdata);
typedef void (*WorkerDataFree)(void *data);

typedef struct RunnerOptions {
        const char *db_path;
        unsigned n_workers;
        uint64_t lease_usec;
        uint64_t max_backoff_usec;
        const char *instance_id; /* lease owners are "<instance_id>/<n>" */
        TaskHandler handler;
        void *userdata;
        /*
         * Optional: whether the cluster answers (0) or not (a negative errno). While tasks wait for
         * the cluster (worker_wait_for_cluster()), an idle worker asks every probe_interval_usec
         * (default 2 s) and, when it answers, makes them due at once instead of after their backoff.
         */
        int (*cluster_probe)(void *userdata);
        uint64_t probe_interval_usec;
        /* How often a task waiting for room (worker_wait_for_capacity()) is looked at again (10 s if 0). */
        uint64_t capacity_recheck_usec;
} RunnerOptions;

int runner_new(Runner **ret, const RunnerOptions *o);
int runner_start(Runner *r);
/* Wakes idle workers, e.g. right after a task was queued. */
void runner_wake(Runner *r);
/* Asks every worker to stop and joins them; running handlers see the cancel flag. */
void runner_stop(Runner *r);
Runner *runner_free(Runner *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Runner *, runner_free);
/* How many workers hold a task right now. */
unsigned runner_busy(Runner *r);
/* Bumped each time a task finishes (for metrics and idle tracking). */
uint64_t runner_finished(Runner *r);

Db *worker_db(Worker *w);
const char *worker_owner(Worker *w);
/* Raised when the daemon stops or the task's lease is lost; for helm and the Kubernetes client. */
const atomic_bool *worker_cancel_flag(Worker *w);
bool worker_cancelled(Worker *w);
/* True once the running task's lease went to someone else: the handler must change nothing more. */
bool worker_lost_lease(Worker *w);
/* -ECANCELED when stopping, -ESTALE when the lease was lost; the heartbeat renews the lease. */
int worker_checkpoint(Worker *w);
/*
 * Says that the task the handler is about to hand back (-EAGAIN) failed because the cluster
 * could not be reached: it is queued as QUEUE_WAITING_FOR_CLUSTER, and woken when the cluster
 * probe answers.
 */
void worker_wait_for_cluster(Worker *w);
/*
 * Says that the task the handler is about to hand back (-EAGAIN) waits for room on the nodes: it is
 * queued as QUEUE_WAITING_FOR_CAPACITY, due again after capacity_recheck_usec (not the doubling
 * backoff), and at once when a delete task ends.
 */
void worker_wait_for_capacity(Worker *w);
/* Says when the task the handler is about to hand back with -EINPROGRESS should be looked at again. */
void worker_recheck_in(Worker *w, uint64_t delay_usec);
/*
 * The fencing check before a step that changes the cluster or the store: renews the lease in
 * the database, matching our owner name and lease token. 0 when the task is still ours;
 * -ECANCELED when it is not (the worker is marked lost and stopped); -EAGAIN when the database
 * could not be asked.
 */
int worker_fence(Worker *w);
/* Sleeps up to usec, returning early with -ECANCELED when the daemon stops. */
int worker_sleep(Worker *w, uint64_t usec);
void *worker_get_data(Worker *w);
void worker_set_data(Worker *w, void *data, WorkerDataFree free_func);

/* Task durations by kind for /metrics: count, sum and histogram buckets in seconds. */
#define RUNNER_DURATION_BUCKETS 8
extern const double runner_duration_buckets[RUNNER_DURATION_BUCKETS];
typedef struct RunnerStats {
        uint64_t count[_TASK_KIND_MAX];
        double sum[_TASK_KIND_MAX];
        uint64_t bucket[_TASK_KIND_MAX][RUNNER_DURATION_BUCKETS];
        uint64_t failed[_TASK_KIND_MAX];
} RunnerStats;
void runner_get_stats(Runner *r, RunnerStats *ret);
