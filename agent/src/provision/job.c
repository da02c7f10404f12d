/* SPDX-License-Identifier: Apache-2.0 */

/* The context of one task: its settings and clients, progress, steps, events and outcome. */

#include <inttypes.h>
#include <stdarg.h>

#include "basic/log.h"
#include "basic/process.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"

typedef struct WorkerState {
        KubeClient *kube;
        uint64_t generation;
} WorkerState;

static void worker_state_free(void *p)
{
        WorkerState *ws = p;
        if (!ws)
                return;
        kube_client_free(ws->kube);
        free(ws);
}

static void job_done(Job *j)
{
        settings_done(&j->set);
        free(j->ns);
        free(j->helm_dir);
        free(j->values_path);
        store_free(j->store);
        json_decref(j->seen_events);
}
void progress(Job *j, const char *fmt, ...)
{
        _cleanup_free_ char *step = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&step, fmt, ap);
        va_end(ap);
        if (r < 0)
                return; /* progress is a courtesy; the task goes on without it */
        (void) store_set_progress(j->db, j->store->id, step, j->step, j->steps);
}

void begin_step(Job *j, const char *name)
{
        j->step++;
        progress(j, "%s", name);
        (void) store_add_event(j->db, j->store->id, "system", "step", name);
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "STEP", name),
                   "Store %s: %s (step %d of %d).", j->store->name, name, j->step, j->steps);
}

void set_waiting_reason(Job *j, const char *reason)
{
        (void) store_set_reason(j->db, j->store->id, reason);
}

bool superseded(Job *j, StoreStatus expected)
{
        _cleanup_(store_freep) Store *cur = NULL;
        return store_get(j->db, j->store->id, &cur) >= 0 && cur->status != expected;
}

void job_record_releases(Job *j)
{
        _cleanup_(json_decrefp) json_t *items = NULL;
        HelmContext h = j->helm;
        int r;

        h.timeout_sec = MIN(h.timeout_sec, 30u);
        r = release_history_read(&h, j->store->name, j->ns, &items);
        if (r >= 0)
                r = store_set_releases(j->db, j->store->id, items);
        if (r < 0)
                log_struct_errno(LOG_NOTICE, r, LOG_FIELDS("STORE_ID", j->store->id),
                                 "Could not keep the release history of store '%s' (the previous one is served): %m",
                                 j->store->name);
}

int fail_store(Job *j, const char *action, const char *reason)
{
        int r;

        /* A worker that lost the task's lease leaves the store to the task's new owner. */
        r = worker_fence(j->w);
        if (r < 0)
                return r;

        job_record_releases(j);
        /* Written only while the store is still in the status this task works under: a delete asked for
         * meanwhile (even between a check and this write) wins, and the failure of the work it replaces
         * is moot. */
        if (store_set_status_if(j->db, j->store->id, j->expected, STORE_FAILED, reason) == -ESTALE) {
                (void) store_add_event(j->db, j->store->id, "system", "task.superseded", reason);
                return 0;
        }
        (void) store_add_event(j->db, j->store->id, "system", action, reason);
        log_struct(LOG_WARNING,
                   LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_STORE_FAILED, "STORE_ID", j->store->id, "TASK_ID", j->task_id,
                              "REASON", reason),
                   "Store %s failed: %s", j->store->name, reason);
        return -EIO;
}

bool cluster_error_is_transient(int r)
{
        return r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ETIMEDOUT || r == -EAGAIN || r == -ECONNRESET ||
               r == -ENETUNREACH || r == -EPROTO || r == -ENOTCONN;
}

/*
 * The API server was not reached at all (as opposed to answering with an error): once its
 * /readyz answers, another attempt is worth making at once.
 */
bool cluster_error_is_unreachable(int r)
{
        return r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ENETUNREACH || r == -ETIMEDOUT ||
               r == -ECONNRESET || r == -ENOTCONN;
}

/*
 * A refusal (403) is for good: the agent's identity lacks a right, and waiting would only hold
 * a task slot until the pending-task cap refuses every create. Two refusals pass by themselves:
 * a namespace being terminated, and the first moments after the task bound the store role in a
 * new namespace, before the API server's authorizer has seen the binding (the first attempt is
 * retried once, two seconds later).
 */
static bool refusal_is_transient(Job *j)
{
        const char *text = j->kube ? kube_client_last_error(j->kube) : "";
        return strstr(text, "because it is being terminated") || j->t->attempts <= 1;
}

int cluster_error(Job *j, int r, const char *doing)
{
        _cleanup_free_ char *reason = NULL, *waiting = NULL;

        if (r == -ECANCELED)
                return r;
        if (r == -EACCES)
                /* Expired or revoked credentials do not come back by waiting: fail and say what to do. */
                return fail_store(j, "cluster.unauthorized", KUBE_UNAUTHORIZED_MESSAGE ".");
        if (asprintf(&reason, "%s: %s", doing, j->kube ? kube_client_last_error(j->kube) : strerror(-r)) < 0)
                return -ENOMEM;
        if (r == -EPERM && !refusal_is_transient(j)) {
                _cleanup_free_ char *refused = NULL;
                if (asprintf(&refused, "The cluster refused the agent (HTTP 403): %s", reason) < 0)
                        return -ENOMEM;
                return fail_store(j, "cluster.forbidden", refused);
        }
        if (cluster_error_is_transient(r) || r == -EPERM) {
                if (asprintf(&waiting, "Waiting for the cluster: %s", reason) < 0)
                        return -ENOMEM;
                set_waiting_reason(j, waiting);
                if (cluster_error_is_unreachable(r))
                        worker_wait_for_cluster(j->w); /* woken when it answers, not after the backoff */
                (void) store_add_event(j->db, j->store->id, "system", "cluster.unreachable", reason);
                return -EAGAIN;
        }
        return fail_store(j, "store.failed", reason);
}

int job_checkpoint(Job *j)
{
        return worker_checkpoint(j->w);
}

static int fence(void *userdata)
{
        return worker_fence(userdata);
}

static int fence_job(void *userdata)
{
        Job *j = userdata;
        return worker_fence(j->w);
}

/* Every helm the task runs is on its row while it runs: a start after a crash finds one that outlived us. */
static void record_child(void *userdata, pid_t pid, uint64_t start_time)
{
        Job *j = userdata;
        int r;

        r = queue_set_child(j->db, j->t, worker_owner(j->w), pid, start_time);
        if (r < 0)
                log_struct_errno(LOG_WARNING, r, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id),
                                 "Failed to record helm (pid %d) with the task: %m", (int) pid);
}

/*
 * An earlier attempt of this task recorded a helm it never saw end: the daemon was killed and
 * the helm was not (a helm run by hand, a unit that does not kill its whole control group).
 * While that helm runs, any helm of ours on the release races it ("release: already exists",
 * "another operation is in progress"), and a repair would uninstall what it is installing. So
 * it is waited for until the end of its own timeout (helm marks the release failed itself
 * then), and ended past that; the release is repaired by the task's usual path afterwards.
 */
static int settle_orphan(Job *j)
{
        uint64_t age = 0, limit = (uint64_t) j->set.helm_timeout_sec * USEC_PER_SEC, wait;
        ProcessSettled how;
        char detail[300];
        int r;

        if (j->t->child_pid <= 0)
                return 0;
        (void) process_age(j->t->child_start, &age);
        wait = age < limit ? limit - age : 0;
        log_struct(LOG_NOTICE, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id),
                   "Task %s: looking for helm (pid %d) of an earlier attempt; waiting up to %" PRIu64 " s for it.",
                   j->task_id, j->t->child_pid, wait / USEC_PER_SEC);
        r = process_settle(j->t->child_pid, j->t->child_start, wait, HELM_KILL_GRACE_SEC * USEC_PER_SEC,
                           worker_cancel_flag(j->w), &how);
        if (r == -ECANCELED)
                return worker_checkpoint(j->w);
        if (r < 0) {
                log_struct_errno(LOG_WARNING, r, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id),
                                 "Task %s: could not end helm (pid %d) of an earlier attempt: %m", j->task_id,
                                 j->t->child_pid);
                return -EAGAIN;
        }
        if (how != PROCESS_GONE) {
                snprintf(detail, sizeof detail,
                         "helm (pid %d) started by an earlier run of the daemon was still running; %s.",
                         j->t->child_pid,
                         how == PROCESS_EXITED ? "waited for it to finish" : "it ran past its timeout and was ended");
                (void) store_add_event(j->db, j->store->id, "system", "helm.orphan", detail);
                log_struct(LOG_NOTICE, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id), "%s", detail);
        }
        r = queue_set_child(j->db, j->t, worker_owner(j->w), 0, 0);
        if (r < 0)
                return -EAGAIN;
        j->t->child_pid = 0;
        return 0;
}

static int ensure_client(Job *j, uint64_t generation)
{
        WorkerState *ws = worker_get_data(j->w);
        _cleanup_free_ char *error = NULL;
        int r;

        if (!ws) {
                ws = calloc(1, sizeof *ws);
                if (!ws)
                        return -ENOMEM;
                worker_set_data(j->w, ws, worker_state_free);
        }
        if (ws->kube && ws->generation == generation) {
                j->kube = ws->kube;
                return 0;
        }
        ws->kube = kube_client_free(ws->kube);
        r = make_client(j->set.kubeconfig, &ws->kube, &error);
        if (r < 0) {
                _cleanup_free_ char *reason = NULL;
                if (asprintf(&reason, "Waiting for the cluster: kubeconfig '%s': %s", j->set.kubeconfig,
                             error ?: strerror(-r)) < 0)
                        return -ENOMEM;
                set_waiting_reason(j, reason);
                log_struct(LOG_WARNING, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id), "%s", reason);
                return -EAGAIN;
        }
        kube_client_set_cancel(ws->kube, worker_cancel_flag(j->w));
        kube_client_set_fence(ws->kube, fence, j->w);
        ws->generation = generation;
        j->kube = ws->kube;
        return 0;
}

static int job_init(Job *j, Provisioner *p, Worker *w, Task *t)
{
        uint64_t generation;
        int r;

        *j = (Job){ .p = p, .w = w, .t = t, .db = worker_db(w) };
        snprintf(j->task_id, sizeof j->task_id, "%" PRIi64, t->id);
        r = settings_copy(p, &j->set, &generation);
        if (r < 0)
                return r;
        r = store_get(j->db, t->store_id, &j->store);
        if (r < 0)
                return r;
        r = store_namespace_name(j->store->name, &j->ns);
        if (r < 0)
                return r;
        if (asprintf(&j->helm_dir, "%s/helm", j->set.state_dir) < 0) {
                j->helm_dir = NULL;
                return -ENOMEM;
        }
        if (asprintf(&j->values_path, "%s/values/%s.yaml", j->set.state_dir, j->store->id) < 0) {
                j->values_path = NULL;
                return -ENOMEM;
        }
        j->helm = (HelmContext){
                .binary = j->set.helm_binary,
                .kubeconfig = j->set.kubeconfig,
                .state_dir = j->helm_dir,
                .timeout_sec = (unsigned) j->set.helm_timeout_sec,
                .cancel = worker_cancel_flag(w),
                .may_start = fence_job,
                .child = record_child,
                .userdata = j,
        };
        j->seen_events = json_object();
        if (!j->seen_events)
                return -ENOMEM;
        j->wait = json_object_get(t->payload, "wait");
        if (!json_is_object(j->wait))
                j->wait = NULL;
        return ensure_client(j, generation);
}

int provisioner_run_task(Worker *w, Task *t, void *userdata)
{
        Provisioner *p = userdata;
        Job j;
        int r;

        assert(w);
        assert(t);
        assert(p);
        r = job_init(&j, p, w, t);
        if (r < 0) {
                if (j.store)
                        goto done;
                job_done(&j);
                return r == -ENOENT ? 0 : r;
        }
        if (j.store->status == STORE_DELETED) {
                r = 0;
                goto done;
        }
        r = settle_orphan(&j);
        if (r < 0)
                goto done;

        switch (t->kind) {
        case TASK_CREATE:
                r = task_create(&j);
                break;
        case TASK_DELETE:
                r = task_delete(&j);
                break;
        case TASK_UPGRADE:
                r = task_upgrade(&j);
                break;
        case TASK_ROLLBACK:
                r = task_rollback(&j);
                break;
        case TASK_ROTATE_CREDENTIALS:
                r = task_rotate_credentials(&j);
                break;
        case TASK_BACKUP:
                r = task_backup(&j);
                break;
        case TASK_RESTORE:
                r = task_restore(&j);
                break;
        default:
                r = -EINVAL;
        }
done:
        job_done(&j);
        return r;
}
