/* SPDX-License-Identifier: Apache-2.0 */

#include <inttypes.h>
#include <pthread.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/runner.h"
#include "core/store.h"

const double runner_duration_buckets[RUNNER_DURATION_BUCKETS] = { 1, 5, 15, 30, 60, 120, 300, 600 };

struct Worker {
        Runner *runner;
        unsigned index;
        pthread_t thread;
        bool started;
        Db *db;
        char owner[128];
        /* The task and when its lease was last renewed (CLOCK_MONOTONIC): the heartbeat reads them, under runner->lock. */
        Task *task;
        uint64_t lease_renewed;
        /* Raised when the daemon stops or the lease is lost: helm and the Kubernetes client stop on it. */
        atomic_bool stop;
        atomic_bool lost;
        bool waits_for_cluster; /* this task's -EAGAIN is the cluster's absence */
        bool waits_for_capacity; /* this task's -EAGAIN is the nodes' lack of room */
        uint64_t recheck_usec;  /* when a task handed back with -EINPROGRESS is due again */
        void *data;
        WorkerDataFree data_free;
};

struct Runner {
        RunnerOptions o;
        char *db_path;
        char *instance_id;
        Worker *workers;
        atomic_bool cancel;
        atomic_uint busy;
        atomic_uint_fast64_t finished;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        uint64_t wake_counter;
        RunnerStats stats;
        /* Renews the leases of running tasks whatever their workers are doing (a helm run, a request). */
        pthread_t heartbeat;
        bool heartbeat_started;
        bool heartbeat_stop; /* under lock */
        pthread_cond_t heartbeat_cond;
        /* When the cluster may next be probed for tasks that wait for it (CLOCK_MONOTONIC). */
        atomic_uint_fast64_t next_probe;
};

int runner_new(Runner **ret, const RunnerOptions *o)
{
        Runner *r;

        assert(ret);
        assert(o);
        r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->o = *o;
        if (r->o.probe_interval_usec == 0)
                r->o.probe_interval_usec = 2 * USEC_PER_SEC;
        if (r->o.capacity_recheck_usec == 0)
                r->o.capacity_recheck_usec = 10 * USEC_PER_SEC;
        r->db_path = strdup(o->db_path);
        r->instance_id = strdup(o->instance_id);
        r->workers = calloc(o->n_workers, sizeof(Worker));
        if (!r->db_path || !r->instance_id || !r->workers) {
                runner_free(r);
                return -ENOMEM;
        }
        r->o.db_path = r->db_path;
        r->o.instance_id = r->instance_id;
        pthread_mutex_init(&r->lock, NULL);
        pthread_cond_init(&r->cond, NULL);
        pthread_cond_init(&r->heartbeat_cond, NULL);
        *ret = r;
        return 0;
}

Db *worker_db(Worker *w)
{
        assert(w);
        return w->db;
}

const char *worker_owner(Worker *w)
{
        assert(w);
        return w->owner;
}

const atomic_bool *worker_cancel_flag(Worker *w)
{
        assert(w);
        return &w->stop;
}

bool worker_cancelled(Worker *w)
{
        assert(w);
        return atomic_load(&w->stop);
}

bool worker_lost_lease(Worker *w)
{
        assert(w);
        return atomic_load(&w->lost);
}

/* Stops the worker's task for good: it no longer owns it. Logged once, where it is noticed. */
static void worker_mark_lost(Worker *w, const Task *t, int error)
{
        char task_id[32];

        if (atomic_exchange(&w->lost, true))
                return;
        atomic_store(&w->stop, true);
        xsprintf(task_id, "%" PRIi64, t->id);
        log_struct_errno(LOG_WARNING, error, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                         "Task %s lost its lease (%m); worker %u stops it, ends its helm and leaves the task to "
                         "its new owner.", task_id, w->index);
}

void *worker_get_data(Worker *w)
{
        assert(w);
        return w->data;
}

void worker_set_data(Worker *w, void *data, WorkerDataFree free_func)
{
        assert(w);
        if (w->data && w->data_free)
                w->data_free(w->data);
        w->data = data;
        w->data_free = free_func;
}

int worker_checkpoint(Worker *w)
{
        assert(w);
        if (atomic_load(&w->lost))
                return -ESTALE;
        if (atomic_load(&w->stop))
                return -ECANCELED;
        return 0;
}

void worker_wait_for_cluster(Worker *w)
{
        assert(w);
        w->waits_for_cluster = true;
}

void worker_wait_for_capacity(Worker *w)
{
        assert(w);
        w->waits_for_capacity = true;
}

void worker_recheck_in(Worker *w, uint64_t delay_usec)
{
        assert(w);
        w->recheck_usec = delay_usec;
}

int worker_fence(Worker *w)
{
        Runner *r;
        int k;

        assert(w);
        r = w->runner;
        if (atomic_load(&w->lost))
                return -ECANCELED;
        if (!w->task)
                return 0;
        /* Renewing is the check: the UPDATE matches only while our owner name and token are on the row. */
        k = queue_heartbeat(w->db, w->task, w->owner, r->o.lease_usec);
        if (k == -ESTALE) {
                worker_mark_lost(w, w->task, k);
                return -ECANCELED;
        }
        if (k < 0)
                return k; /* the database is busy (-EAGAIN): the step is tried again later */
        pthread_mutex_lock(&r->lock);
        w->lease_renewed = mono_usec();
        pthread_mutex_unlock(&r->lock);
        return 0;
}

int worker_sleep(Worker *w, uint64_t usec)
{
        Runner *r;
        uint64_t end = mono_usec() + usec;

        assert(w);
        r = w->runner;
        /* Short naps keep the reaction to SIGTERM and to a lost lease quick. */
        while (mono_usec() < end) {
                int k = worker_checkpoint(w);
                if (k < 0)
                        return k;
                uint64_t left = end - mono_usec();
                struct timespec ts = { .tv_sec = 0, .tv_nsec = (long) (MIN(left, 200 * USEC_PER_MSEC) * 1000) };
                if (left > end)
                        break;
                nanosleep(&ts, NULL);
                if (atomic_load(&r->cancel))
                        return -ECANCELED;
        }
        return 0;
}

static void record_duration(Runner *r, TaskKind kind, double seconds, bool failed)
{
        if (kind < 0 || kind >= _TASK_KIND_MAX)
                return;
        pthread_mutex_lock(&r->lock);
        r->stats.count[kind]++;
        r->stats.sum[kind] += seconds;
        for (size_t i = 0; i < RUNNER_DURATION_BUCKETS; i++)
                if (seconds <= runner_duration_buckets[i])
                        r->stats.bucket[kind][i]++;
        if (failed)
                r->stats.failed[kind]++;
        pthread_mutex_unlock(&r->lock);
}

void runner_get_stats(Runner *r, RunnerStats *ret)
{
        assert(r);
        assert(ret);
        pthread_mutex_lock(&r->lock);
        *ret = r->stats;
        pthread_mutex_unlock(&r->lock);
}

static uint64_t backoff_usec(const Runner *r, int attempts)
{
        uint64_t d = 2 * USEC_PER_SEC;
        for (int i = 1; i < attempts && d < r->o.max_backoff_usec; i++)
                d *= 2;
        return MIN(d, r->o.max_backoff_usec);
}

/* Room may have appeared (a store deleted): tasks waiting for it are due at once, not at their recheck. */
static void wake_waiting_for_capacity(Worker *w, const char *why)
{
        uint64_t woken = 0;
        int k;

        k = queue_wake_waiting(w->db, now_usec(), QUEUE_WAITING_FOR_CAPACITY, &woken);
        if (k < 0) {
                log_warning_errno(k, "Failed to wake the tasks that wait for room: %m");
                return;
        }
        if (woken == 0)
                return;
        log_info("Room may have appeared (%s): %" PRIu64 " task(s) that waited for it are due now.", why,
                 woken);
        runner_wake(w->runner);
}

static void run_one(Worker *w, Task *t)
{
        Runner *r = w->runner;
        char task_id[32];
        uint64_t start = mono_usec();
        int k;

        xsprintf(task_id, "%" PRIi64, t->id);
        log_struct(LOG_INFO,
                   LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id, "TASK_KIND", task_kind_to_string(t->kind),
                              "ACTOR", t->actor),
                   "Task %s %s for store %s started (attempt %d).", task_id, task_kind_to_string(t->kind),
                   t->store_id, t->attempts);

        pthread_mutex_lock(&r->lock);
        w->task = t;
        w->waits_for_cluster = false;
        w->waits_for_capacity = false;
        w->recheck_usec = 2 * USEC_PER_SEC;
        w->lease_renewed = mono_usec();
        atomic_store(&w->lost, false);
        atomic_store(&w->stop, atomic_load(&r->cancel));
        pthread_mutex_unlock(&r->lock);
        atomic_fetch_add(&r->busy, 1);
        k = r->o.handler(w, t, r->o.userdata);
        atomic_fetch_sub(&r->busy, 1);
        pthread_mutex_lock(&r->lock);
        w->task = NULL;
        pthread_mutex_unlock(&r->lock);

        double seconds = (double) (mono_usec() - start) / (double) USEC_PER_SEC;
        /* What /metrics counts is the task's whole time, the waits between its attempts included. */
        uint64_t wall = now_usec();
        double total = t->started_at > 0 && wall > t->started_at
                               ? (double) (wall - t->started_at) / (double) USEC_PER_SEC
                               : seconds;
        if (atomic_load(&w->lost)) {
                /* Whatever the handler returned, the task is someone else's now: leave its row alone. */
                log_struct(LOG_NOTICE, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                           "Task %s stopped after %.1f s without its lease.", task_id, seconds);
        } else if (k >= 0) {
                k = queue_complete(w->db, t, w->owner);
                record_duration(r, t->kind, total, false);
                log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                           "Task %s finished in %.1f s.", task_id, seconds);
                if (t->kind == TASK_DELETE)
                        wake_waiting_for_capacity(w, "a store was deleted");
        } else if (k == -ECANCELED) {
                /* Stopping: hand the task back so the next start resumes it at once. */
                (void) queue_retry_later(w->db, t, w->owner, 0, "interrupted by shutdown");
                log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                           "Task %s interrupted by shutdown; it resumes on the next start.", task_id);
        } else if (k == -EINPROGRESS) {
                /* Waiting is not work: the worker is free for other stores until the task is due again. */
                (void) queue_retry_later(w->db, t, w->owner, w->recheck_usec, QUEUE_WAITING_FOR_WORKLOADS);
                log_struct(LOG_DEBUG, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                           "Task %s waits; looked at again in %.1f s.", task_id,
                           (double) w->recheck_usec / (double) USEC_PER_SEC);
                store_changed_notify();
                return;
        } else if (k == -EAGAIN && w->waits_for_capacity) {
                uint64_t delay = r->o.capacity_recheck_usec;
                (void) queue_retry_later(w->db, t, w->owner, delay, QUEUE_WAITING_FOR_CAPACITY);
                log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                           "Task %s waits for room on the nodes; looked at again in %.1f s.", task_id,
                           (double) delay / (double) USEC_PER_SEC);
        } else if (k == -EAGAIN) {
                uint64_t delay = backoff_usec(r, t->attempts);
                (void) queue_retry_later(w->db, t, w->owner, delay,
                                         w->waits_for_cluster ? QUEUE_WAITING_FOR_CLUSTER : "transient failure");
                log_struct(LOG_NOTICE, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                           "Task %s will be retried in %" PRIu64 " s.", task_id, delay / USEC_PER_SEC);
        } else if (k == -ESTALE) {
                log_struct(LOG_WARNING, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                           "Task %s lost its lease; another worker owns it now.", task_id);
        } else {
                (void) queue_fail(w->db, t, w->owner, strerror(-k));
                record_duration(r, t->kind, total, true);
                log_struct_errno(LOG_WARNING, k, LOG_FIELDS("STORE_ID", t->store_id, "TASK_ID", task_id),
                                 "Task %s failed: %m", task_id);
        }
        atomic_fetch_add(&r->finished, 1);
        store_changed_notify();
}

/*
 * From an idle worker: when tasks wait for the cluster and it answers again, make them due at
 * once. One worker probes at a time, at most every probe_interval_usec.
 */
static void probe_for_waiting_tasks(Worker *w)
{
        Runner *r = w->runner;
        uint64_t now = mono_usec(), next = atomic_load(&r->next_probe), waiting = 0, woken = 0;
        int k;

        if (!r->o.cluster_probe || now < next)
                return;
        if (!atomic_compare_exchange_strong(&r->next_probe, &next, now + r->o.probe_interval_usec))
                return; /* another worker probes */
        k = queue_count_waiting_for_cluster(w->db, now_usec(), &waiting);
        if (k < 0 || waiting == 0)
                return;
        if (r->o.cluster_probe(r->o.userdata) < 0)
                return;
        k = queue_wake_waiting_for_cluster(w->db, now_usec(), &woken);
        if (k < 0) {
                log_warning_errno(k, "Failed to wake the tasks that wait for the cluster: %m");
                return;
        }
        if (woken > 0) {
                log_info("The cluster answers again: %" PRIu64 " task(s) that waited for it are due now.", woken);
                runner_wake(r);
        }
}

static void *worker_main(void *p)
{
        Worker *w = p;
        Runner *r = w->runner;
        int k;

        k = db_open(r->o.db_path, &w->db);
        if (k < 0) {
                log_error_errno(k, "Worker %u failed to open database '%s': %m", w->index, r->o.db_path);
                return NULL;
        }

        while (!atomic_load(&r->cancel)) {
                _cleanup_(task_freep) Task *t = NULL;
                uint64_t seen;

                pthread_mutex_lock(&r->lock);
                seen = r->wake_counter;
                pthread_mutex_unlock(&r->lock);

                k = queue_lease(w->db, w->owner, r->o.lease_usec, &t);
                if (k >= 0) {
                        run_one(w, t);
                        continue;
                }
                if (k != -EAGAIN)
                        log_warning_errno(k, "Worker %u failed to lease a task: %m", w->index);
                probe_for_waiting_tasks(w);

                /* Nothing to do: sleep until woken, or a second passes (backoffs come due). */
                struct timespec deadline;
                clock_gettime(CLOCK_REALTIME, &deadline);
                deadline.tv_sec += 1;
                pthread_mutex_lock(&r->lock);
                while (r->wake_counter == seen && !atomic_load(&r->cancel))
                        if (pthread_cond_timedwait(&r->cond, &r->lock, &deadline) != 0)
                                break;
                pthread_mutex_unlock(&r->lock);
        }

        worker_set_data(w, NULL, NULL);
        w->db = db_close(w->db);
        return NULL;
}

/*
 * Renews the lease of every running task four times per lease, on a connection of its own, so
 * a lease outlives any single step however long (a slow helm, a request retried for its whole
 * timeout). A renewal refused (-ESTALE: another worker took the task) or not achieved for three
 * quarters of a lease (the database unusable: the lease may run out before we can prove it is
 * ours) stops the worker: its helm is ended and it writes nothing more.
 */
static void heartbeat_once(Runner *r, Db *db)
{
        for (unsigned i = 0; i < r->o.n_workers; i++) {
                Worker *w = &r->workers[i];
                Task copy;
                uint64_t renewed;
                int k;

                pthread_mutex_lock(&r->lock);
                if (!w->task || atomic_load(&w->lost)) {
                        pthread_mutex_unlock(&r->lock);
                        continue;
                }
                copy = (Task){ .id = w->task->id, .lease_token = w->task->lease_token };
                pthread_mutex_unlock(&r->lock);

                k = queue_heartbeat(db, &copy, w->owner, r->o.lease_usec);

                pthread_mutex_lock(&r->lock);
                /* The worker may have finished (and completed the row) meanwhile: then nothing is lost. */
                if (w->task && w->task->id == copy.id && w->task->lease_token == copy.lease_token) {
                        if (k >= 0)
                                w->lease_renewed = mono_usec();
                        renewed = w->lease_renewed;
                        if (k == -ESTALE || (k < 0 && mono_usec() - renewed > r->o.lease_usec / 4 * 3))
                                worker_mark_lost(w, w->task, k);
                        else if (k < 0)
                                log_warning_errno(k, "Failed to renew the lease of task %" PRIi64 ": %m", copy.id);
                }
                pthread_mutex_unlock(&r->lock);
        }
}

static void *heartbeat_main(void *p)
{
        Runner *r = p;
        _cleanup_(db_closep) Db *db = NULL;
        uint64_t interval = MAX(r->o.lease_usec / 4, 50 * USEC_PER_MSEC);
        int k;

        k = db_open(r->o.db_path, &db);
        if (k < 0) {
                log_error_errno(k, "The lease heartbeat failed to open database '%s': %m", r->o.db_path);
                return NULL;
        }
        pthread_mutex_lock(&r->lock);
        while (!r->heartbeat_stop) {
                struct timespec deadline;
                uint64_t at = now_usec() + interval;

                deadline = (struct timespec){ .tv_sec = (time_t) (at / USEC_PER_SEC),
                                              .tv_nsec = (long) (at % USEC_PER_SEC) * 1000 };
                (void) pthread_cond_timedwait(&r->heartbeat_cond, &r->lock, &deadline);
                if (r->heartbeat_stop)
                        break;
                pthread_mutex_unlock(&r->lock);
                heartbeat_once(r, db);
                pthread_mutex_lock(&r->lock);
        }
        pthread_mutex_unlock(&r->lock);
        return NULL;
}

int runner_start(Runner *r)
{
        int k;

        assert(r);
        k = pthread_create(&r->heartbeat, NULL, heartbeat_main, r);
        if (k != 0)
                return -k;
        r->heartbeat_started = true;
        for (unsigned i = 0; i < r->o.n_workers; i++) {
                Worker *w = &r->workers[i];

                w->runner = r;
                w->index = i;
                /* A cut owner would no longer start with the instance id that queue_release_stale() keeps. */
                if (!snprintf_ok(w->owner, sizeof w->owner, "%s/%u", r->o.instance_id, i))
                        return -ENAMETOOLONG;
                k = pthread_create(&w->thread, NULL, worker_main, w);
                if (k != 0)
                        return -k;
                w->started = true;
        }
        return 0;
}

void runner_wake(Runner *r)
{
        assert(r);
        pthread_mutex_lock(&r->lock);
        r->wake_counter++;
        pthread_cond_broadcast(&r->cond);
        pthread_mutex_unlock(&r->lock);
}

void runner_stop(Runner *r)
{
        assert(r);
        if (!r || !r->workers)
                return;
        /* Under the lock run_one() takes to reset a worker's stop flag, so the reset cannot undo this. */
        pthread_mutex_lock(&r->lock);
        atomic_store(&r->cancel, true);
        for (unsigned i = 0; i < r->o.n_workers; i++)
                atomic_store(&r->workers[i].stop, true);
        pthread_mutex_unlock(&r->lock);
        runner_wake(r);
        for (unsigned i = 0; i < r->o.n_workers; i++)
                if (r->workers[i].started) {
                        pthread_join(r->workers[i].thread, NULL);
                        r->workers[i].started = false;
                }
        /* Last: tasks still being handed back keep their leases until their workers are done. */
        if (r->heartbeat_started) {
                pthread_mutex_lock(&r->lock);
                r->heartbeat_stop = true;
                pthread_cond_broadcast(&r->heartbeat_cond);
                pthread_mutex_unlock(&r->lock);
                pthread_join(r->heartbeat, NULL);
                r->heartbeat_started = false;
        }
}

unsigned runner_busy(Runner *r)
{
        assert(r);
        return atomic_load(&r->busy);
}

uint64_t runner_finished(Runner *r)
{
        assert(r);
        return atomic_load(&r->finished);
}

Runner *runner_free(Runner *r)
{
        if (!r)
                return NULL;
        runner_stop(r);
        free(r->workers);
        free(r->db_path);
        free(r->instance_id);
        pthread_mutex_destroy(&r->lock);
        pthread_cond_destroy(&r->cond);
        pthread_cond_destroy(&r->heartbeat_cond);
        free(r);
        return NULL;
}
