/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The durable task queue: a task is a row in SQLite. A worker leases one with
 * an expiry and a new token, and extends the lease while it works; a crash leaves
 * the lease to run out and another worker resumes the task. Only one task per store runs at
 * a time: a store with a live lease is skipped.
 */

#include <jansson.h>
#include <stdint.h>

#include "core/db.h"

typedef enum TaskKind {
        TASK_CREATE,
        TASK_DELETE,
        TASK_UPGRADE,
        TASK_ROLLBACK,
        TASK_ROTATE_CREDENTIALS,
        TASK_BACKUP,
        TASK_RESTORE,
        _TASK_KIND_MAX,
        _TASK_KIND_INVALID = -EINVAL,
} TaskKind;

const char *task_kind_to_string(TaskKind k);
TaskKind task_kind_from_string(const char *s);

typedef struct Task {
        int64_t id;
        char *store_id;
        TaskKind kind;
        json_t *payload;
        char *actor;
        int attempts;
        uint64_t created_at;
        uint64_t started_at;  /* its first lease (now_usec()), kept across hand-backs and retries */
        int64_t lease_token; /* new with every lease; the worker's writes compare it */
        int child_pid;        /* a helm child an earlier attempt recorded and did not clear, or 0 */
        uint64_t child_start; /* its start time in clock ticks after boot (/proc/PID/stat field 22) */
} Task;

Task *task_free(Task *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Task *, task_free);

int queue_enqueue(Db *db, const char *store_id, TaskKind kind, json_t *payload, const char *actor, int64_t *ret_id);

/* Leases the oldest runnable task; -EAGAIN when there is none. */
int queue_lease(Db *db, const char *owner, uint64_t lease_usec, Task **ret);
/*
 * Extends a lease we hold to now + lease_usec; -ESTALE if it is no longer ours (another worker
 * took it over, or it was handed back). Doubles as the fencing check before a
 * step that changes the cluster.
 */
int queue_heartbeat(Db *db, const Task *t, const char *owner, uint64_t lease_usec);
int queue_complete(Db *db, const Task *t, const char *owner);
int queue_fail(Db *db, const Task *t, const char *owner, const char *error);
/* Gives the task back to the queue, runnable again after delay. */
int queue_retry_later(Db *db, const Task *t, const char *owner, uint64_t delay_usec, const char *error);
/*
 * Writes the task's payload (t->payload) back to its row, for a task that keeps where it is between
 * attempts (the wait for a store's workloads); -ESTALE when the lease is no longer ours.
 */
int queue_set_payload(Db *db, const Task *t, const char *owner);
/* Records the child process the task runs now (pid and start time), or clears it (pid 0). */
int queue_set_child(Db *db, const Task *t, const char *owner, int pid, uint64_t start_time);

/*
 * The same at a given time (now_usec()'s clock, CLOCK_REALTIME): the calls
 * above pass the real time, a test passes a clock it moves itself, so that a
 * lease or a delay can run out without the test waiting for it.
 */
int queue_lease_at(Db *db, uint64_t now, const char *owner, uint64_t lease_usec, Task **ret);
int queue_heartbeat_at(Db *db, uint64_t now, const Task *t, const char *owner, uint64_t lease_usec);
int queue_complete_at(Db *db, uint64_t now, const Task *t, const char *owner);
int queue_fail_at(Db *db, uint64_t now, const Task *t, const char *owner, const char *error);
int queue_retry_later_at(Db *db, uint64_t now, const Task *t, const char *owner, uint64_t delay_usec,
                         const char *error);

/* Marks queued (not running) tasks of a store cancelled. */
int queue_cancel_queued(Db *db, const char *store_id);
/* At start: leases held by a previous instance of this daemon are released at once. Returns how many. */
int queue_release_stale(Db *db, const char *owner_prefix_to_keep);
/* Number of tasks queued or running. */
int queue_count_active(Db *db, uint64_t *ret);
/* Microseconds until the next queued task becomes runnable (0 if one is runnable now, -ENODATA if none). */
int queue_next_due(Db *db, uint64_t *ret_usec);

/*
 * The last_error of a task handed back because the cluster could not be reached
 * (worker_wait_for_cluster()). Such tasks need not sit out their backoff once the cluster
 * answers again: the runner probes it and makes them due at once.
 */
#define QUEUE_WAITING_FOR_CLUSTER "waiting for the cluster"
/*
 * The last_error of a task handed back between two looks at its store's workloads (a handler's
 * -EINPROGRESS, see runner.h). It is leased after the tasks that are not waiting.
 */
#define QUEUE_WAITING_FOR_WORKLOADS "waiting for workloads"
/* How many tasks wait for the cluster with their next attempt still ahead. */
int queue_count_waiting_for_cluster(Db *db, uint64_t now, uint64_t *ret);
/* Makes every task that waits for the cluster due now; *ret_woken (may be NULL) says how many. */
int queue_wake_waiting_for_cluster(Db *db, uint64_t now, uint64_t *ret_woken);
/*
 * The last_error of a task handed back while the nodes have no room for its store
 * (worker_wait_for_capacity(), stores.capacity.when_full: wait). It is looked at again every
 * stores.capacity.recheck, and at once when a store's delete ends (room may have appeared).
 */
#define QUEUE_WAITING_FOR_CAPACITY "waiting for capacity"
/* Makes every task queued with last_error due now; *ret_woken (may be NULL) says how many. */
int queue_wake_waiting(Db *db, uint64_t now, const char *last_error, uint64_t *ret_woken);
/* The same, seen at now. */
int queue_next_due_at(Db *db, uint64_t now, uint64_t *ret_usec);
