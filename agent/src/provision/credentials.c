/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The store administrator's credentials: read for the API from the store's Secret, and a new
 * password applied to WordPress by a Job before the Secret learns it. Nothing here logs a
 * password, nor puts one in an event, a reason or a Job's spec.
 */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"

/* ---- the API's read ---- */

/*
 * MHD serves requests on many threads and a KubeClient is one thread's: whoever takes creds_lock
 * uses the cached client, and a reader that finds it taken makes a client of its own rather than
 * wait behind a slow cluster.
 */
int provisioner_store_credentials(Provisioner *p, const Store *s, json_t **ret)
{
        _cleanup_(kube_client_freep) KubeClient *own = NULL;
        _cleanup_(json_decrefp) json_t *secret = NULL;
        _cleanup_free_ char *ns = NULL, *path = NULL, *kubeconfig = NULL;
        uint64_t generation;
        KubeClient *c;
        bool locked;
        int r;

        assert(p);
        assert(s);
        assert(ret);
        if (!s->url)
                return -ENOENT; /* never installed: nothing to sign in to */
        r = store_namespace_name(s->name, &ns);
        if (r < 0)
                return r;
        r = kube_path(&path, "v1", "secrets", ns, CREDENTIALS_SECRET);
        if (r < 0)
                return r;

        pthread_mutex_lock(&p->lock);
        kubeconfig = strdup(p->set.kubeconfig);
        generation = p->generation;
        pthread_mutex_unlock(&p->lock);
        if (!kubeconfig)
                return -ENOMEM;

        locked = pthread_mutex_trylock(&p->creds_lock) == 0;
        if (locked) {
                if (p->creds_client && p->creds_generation != generation)
                        p->creds_client = kube_client_free(p->creds_client);
                if (!p->creds_client) {
                        r = make_client(kubeconfig, &p->creds_client, NULL);
                        if (r < 0) {
                                pthread_mutex_unlock(&p->creds_lock);
                                return r;
                        }
                        kube_client_set_cancel(p->creds_client, &p->stopping);
                        p->creds_generation = generation;
                }
                c = p->creds_client;
        } else {
                r = make_client(kubeconfig, &own, NULL);
                if (r < 0)
                        return r;
                kube_client_set_cancel(own, &p->stopping);
                c = own;
        }
        r = kube_get(c, path, &secret);
        if (locked)
                pthread_mutex_unlock(&p->creds_lock);
        if (r < 0)
                return r;
        return store_credentials_from_secret(secret, s->url, ret);
}

/* ---- the rotate task ---- */

/* The rotation did not happen: the old password stays, the store stays READY, and it says why. */
static int rotation_failed(Job *j, const char *object, const char *reason)
{
        _cleanup_free_ char *path = NULL, *msg = NULL;
        int r;

        /* A worker that lost the task's lease leaves the store and the cluster to the task's new owner. */
        r = worker_fence(j->w);
        if (r < 0)
                return r;
        /* The new password is of no use now; it leaves the cluster (the Job, kept for its record, names it only). */
        if (object && kube_path(&path, "v1", "secrets", j->ns, object) >= 0)
                (void) kube_delete(j->kube, path, NULL);
        if (asprintf(&msg, "The administrator password was not changed: %s", reason) < 0)
                return -ENOMEM;
        (void) store_add_event(j->db, j->store->id, "system", "credentials.rotate_failed", msg);
        (void) store_set_reason(j->db, j->store->id, msg);
        (void) store_set_progress(j->db, j->store->id, NULL, 0, 0);
        log_struct(LOG_WARNING, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "REASON", reason),
                   "Store %s: %s", j->store->name, msg);
        return -EIO;
}

/* A cluster error while rotating: wait and retry when it may pass, else the rotation failed. */
static int rotation_error(Job *j, int r, const char *object, const char *doing)
{
        _cleanup_free_ char *reason = NULL;

        if (r == -ECANCELED)
                return r;
        if (asprintf(&reason, "%s: %s", doing, j->kube ? kube_client_last_error(j->kube) : strerror(-r)) < 0)
                return -ENOMEM;
        if (cluster_error_is_transient(r)) {
                _cleanup_free_ char *waiting = NULL;
                if (asprintf(&waiting, "Waiting for the cluster to change the administrator password: %s", reason) < 0)
                        return -ENOMEM;
                set_waiting_reason(j, waiting);
                if (cluster_error_is_unreachable(r))
                        worker_wait_for_cluster(j->w);
                (void) store_add_event(j->db, j->store->id, "system", "cluster.unreachable", reason);
                return -EAGAIN;
        }
        return rotation_failed(j, object, reason);
}

/* The chart's setup Job of the release: the image, environment and volume the password Job borrows. */
static int find_setup_job(Job *j, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *list = NULL;
        _cleanup_free_ char *path = NULL, *selector = NULL;
        json_t *item, *best = NULL;
        long best_rev = -1;
        size_t i;
        int r;

        if (kube_path(&path, "batch/v1", "jobs", j->ns, NULL) < 0 ||
            asprintf(&selector, "app.kubernetes.io/instance=%s,%s=setup", j->store->name, LABEL_COMPONENT) < 0)
                return -ENOMEM;
        r = kube_list(j->kube, path, selector, &list);
        if (r < 0)
                return r;
        json_array_foreach(json_object_get(list, "items"), i, item) {
                const char *rev = json_string_value(json_object_get(
                        json_object_get(json_object_get(item, "metadata"), "annotations"), "storeagent.io/release-revision"));
                long n = rev ? strtol(rev, NULL, 10) : 0;
                if (n > best_rev) {
                        best_rev = n;
                        best = item;
                }
        }
        if (!best)
                return -ENOENT;
        *ret = json_incref(best);
        return 0;
}

typedef enum JobOutcome {
        JOB_RUNNING,
        JOB_SUCCEEDED,
        JOB_FAILED,
} JobOutcome;

static JobOutcome job_outcome(json_t *job, char *why, size_t n)
{
        json_t *c;
        size_t i;

        json_array_foreach(json_object_get(json_object_get(job, "status"), "conditions"), i, c) {
                const char *type = json_string_value(json_object_get(c, "type"));
                if (!streq_ptr(json_string_value(json_object_get(c, "status")), "True"))
                        continue;
                if (streq_ptr(type, "Complete"))
                        return JOB_SUCCEEDED;
                if (streq_ptr(type, "Failed")) {
                        utf8_snprintf(why, n, "%s", strna(json_string_value(json_object_get(c, "message"))));
                        return JOB_FAILED;
                }
        }
        return JOB_RUNNING;
}

static int on_pod_change(const char *type, json_t *object, void *userdata)
{
        return 1; /* any change: go and look at the Job again */
}

/* Waits for the Job to finish; a change of its pods (or a second) wakes the next look. */
static int wait_for_job(Job *j, const char *object, JobOutcome *ret, char *why, size_t n)
{
        _cleanup_free_ char *path = NULL, *pods = NULL;
        /* The Job's own deadline ends it first; this bounds a Job controller that never says so. */
        uint64_t deadline = mono_usec() + (ROTATE_JOB_DEADLINE_SEC + 60) * USEC_PER_SEC;
        int r;

        if (kube_path(&path, "batch/v1", "jobs", j->ns, object) < 0 || kube_path(&pods, "v1", "pods", j->ns, NULL) < 0)
                return -ENOMEM;
        for (;;) {
                _cleanup_(json_decrefp) json_t *job = NULL, *pl = NULL;
                const char *rv = NULL;

                r = job_checkpoint(j);
                if (r < 0)
                        return r;
                if (superseded(j, STORE_READY))
                        return -ECONNABORTED;
                r = kube_get(j->kube, path, &job);
                if (r < 0)
                        return r;
                *ret = job_outcome(job, why, n);
                if (*ret != JOB_RUNNING)
                        return 0;
                if (mono_usec() > deadline) {
                        utf8_snprintf(why, n, "Job %s did not finish within %d s", object,
                                      ROTATE_JOB_DEADLINE_SEC + 60);
                        *ret = JOB_FAILED;
                        return 0;
                }
                if (kube_list(j->kube, pods, NULL, &pl) >= 0)
                        rv = json_string_value(json_object_get(json_object_get(pl, "metadata"), "resourceVersion"));
                r = kube_watch(j->kube, pods, NULL, rv, 1, on_pod_change, NULL);
                if (r == -ECANCELED)
                        return r;
                if (r < 0 && r != -ESTALE)
                        (void) worker_sleep(j->w, USEC_PER_SEC);
        }
}

/* Starts the Job unless an earlier attempt of this task did: the password it got stays the one it applies. */
static int start_job(Job *j, const char *object, const char *admin_user)
{
        _cleanup_erase_free_ char *password = NULL;
        _cleanup_(json_decrefp) json_t *setup = NULL, *secret = NULL, *job = NULL, *policies = NULL;
        _cleanup_free_ char *path = NULL, *jobs = NULL, *body = NULL;
        int r;

        r = kube_path(&path, "batch/v1", "jobs", j->ns, object);
        if (r < 0)
                return r;
        r = kube_get(j->kube, path, NULL);
        if (r >= 0)
                return 0;
        if (r != -ENOENT)
                return rotation_error(j, r, NULL, "Reading the password Job failed");

        r = find_setup_job(j, &setup);
        if (r == -ENOENT)
                return rotation_failed(j, NULL, "the release has no setup Job to take the WordPress image from");
        if (r < 0)
                return rotation_error(j, r, NULL, "Reading the release's setup Job failed");
        job = store_rotate_job_new(j->store->name, j->store->id, object, admin_user, setup);
        if (!job)
                return rotation_failed(j, NULL, "the release's setup Job has no WordPress image or volume");

        /* Stores made before the password Job existed let only web and setup pods reach the database. */
        policies = store_network_policies_new(j->store->name, j->store->id);
        if (!policies)
                return -ENOMEM;
        r = kube_apply(j->kube, json_array_get(policies, 2), NULL);
        if (r < 0)
                return rotation_error(j, r, NULL, "Applying the database NetworkPolicy failed");

        r = random_alnum(24, &password);
        if (r < 0)
                return r;
        secret = store_rotate_secret_new(j->store->name, j->store->id, object, password);
        if (!secret)
                return -ENOMEM;
        r = kube_apply(j->kube, secret, NULL);
        if (r < 0)
                return rotation_error(j, r, object, "Creating the Secret of the new password failed");

        body = json_dumps(job, JSON_COMPACT);
        if (!body || kube_path(&jobs, "batch/v1", "jobs", j->ns, NULL) < 0)
                return -ENOMEM;
        r = kube_request(j->kube, "POST", jobs, "application/json", body, NULL);
        if (r < 0 && r != -EEXIST)
                return rotation_error(j, r, object, "Creating the password Job failed");
        return 0;
}

/* After the Job succeeded the new password is WordPress's: until it is stored, the task keeps trying. */
static int storing_error(Job *j, int r, const char *doing)
{
        _cleanup_free_ char *waiting = NULL;

        if (r == -ECANCELED || r == -ENOMEM)
                return r;
        if (asprintf(&waiting, "The new administrator password is set in WordPress; %s: %s", doing,
                     kube_client_last_error(j->kube)) < 0)
                return -ENOMEM;
        set_waiting_reason(j, waiting);
        log_struct(LOG_WARNING, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id), "Store %s: %s",
                   j->store->name, waiting);
        return -EAGAIN;
}

/* Copies the applied password into the store's Secret: from now on it is the one the merchant reads. */
static int store_new_password(Job *j, const char *object)
{
        _cleanup_erase_free_ char *password = NULL, *patch = NULL;
        _cleanup_(json_decrefp) json_t *secret = NULL, *p = NULL;
        _cleanup_free_ char *path = NULL, *creds = NULL;
        int r;

        if (kube_path(&path, "v1", "secrets", j->ns, object) < 0 ||
            kube_path(&creds, "v1", "secrets", j->ns, CREDENTIALS_SECRET) < 0)
                return -ENOMEM;
        r = kube_get(j->kube, path, &secret);
        if (r == -ENOENT)
                return 0; /* an earlier attempt stored it and cleaned up */
        if (r < 0)
                return storing_error(j, r, "reading the Secret of the new password failed");
        r = secret_value(secret, "admin-password", &password);
        if (r < 0)
                return rotation_failed(j, NULL, "the Secret of the new password has no admin-password");
        /* Only this key changes: the database passwords stay as they are. */
        p = json_pack("{s:{s:s}}", "stringData", "admin-password", password);
        patch = p ? json_dumps(p, JSON_COMPACT) : NULL;
        if (!patch)
                return -ENOMEM;
        r = kube_request(j->kube, "PATCH", creds, "application/merge-patch+json", patch, NULL);
        if (r < 0)
                return storing_error(j, r, "storing it in the credentials Secret failed");
        (void) kube_delete(j->kube, path, NULL);
        return 0;
}

int task_rotate_credentials(Job *j)
{
        _cleanup_(json_decrefp) json_t *creds = NULL;
        _cleanup_free_ char *creds_path = NULL, *admin_user = NULL;
        char object[64], why[512] = "", msg[700];
        JobOutcome outcome;
        int r;

        j->steps = 3;
        j->expected = STORE_READY;
        if (superseded(j, STORE_READY))
                return 0; /* deleted (or failed) meanwhile: there is no shop to change */
        /* Named after the task: a retry of this task finds its own Job and Secret again. */
        snprintf(object, sizeof object, "credentials-rotate-%s", j->task_id);

        begin_step(j, "preparing the password change");
        r = kube_path(&creds_path, "v1", "secrets", j->ns, CREDENTIALS_SECRET);
        if (r < 0)
                return r;
        r = kube_get(j->kube, creds_path, &creds);
        if (r == -ENOENT)
                return rotation_failed(j, NULL, "the store has no credentials Secret");
        if (r < 0)
                return rotation_error(j, r, NULL, "Reading the credentials Secret failed");
        r = secret_value(creds, "admin-user", &admin_user);
        if (r < 0)
                return rotation_failed(j, NULL, "the credentials Secret has no admin-user");

        r = start_job(j, object, admin_user);
        if (r < 0)
                return r;

        begin_step(j, "changing the password in WordPress");
        r = wait_for_job(j, object, &outcome, why, sizeof why);
        if (r == -ECONNABORTED)
                return 0;
        if (r < 0)
                return rotation_error(j, r, object, "Watching the password Job failed");
        if (outcome == JOB_FAILED) {
                utf8_snprintf(msg, sizeof msg, "Job %s failed: %s", object, why);
                return rotation_failed(j, object, msg);
        }

        begin_step(j, "storing the new password");
        r = store_new_password(j, object);
        if (r < 0)
                return r;

        utf8_snprintf(msg, sizeof msg, "The administrator password of user %s was changed (Job %s).",
                      admin_user, object);
        (void) store_add_event(j->db, j->store->id, "system", "credentials.rotated", msg);
        (void) store_set_reason(j->db, j->store->id, NULL);
        (void) store_set_progress(j->db, j->store->id, NULL, 0, 0);
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "ACTION", "credentials.rotated"),
                   "Store %s: %s", j->store->name, msg);
        return 0;
}
