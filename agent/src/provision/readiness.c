/* SPDX-License-Identifier: Apache-2.0 */

/* Watching a release's workloads until the store is ready, and marking it so. */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"

/* ---- readiness ---- */

typedef struct Readiness {
        int total, ready;
        bool job_failed;
        char waiting_on[128];
        char failure[512];
} Readiness;

/* The label selector for the release's objects (the chart's app.kubernetes.io/instance). */
static int instance_selector(const Job *j, char **ret)
{
        return asprintf(ret, "app.kubernetes.io/instance=%s", j->store->name) < 0 ? -ENOMEM : 0;
}

/* spec.replicas of a Deployment, StatefulSet or ReplicaSet; the API server's default is 1. */
static json_int_t spec_replicas(json_t *o)
{
        json_t *v = json_object_get(json_object_get(o, "spec"), "replicas");
        return json_is_integer(v) ? json_integer_value(v) : 1;
}

static void check_workloads(json_t *list, const char *kind, Readiness *rd)
{
        json_t *items = json_object_get(list, "items"), *o;
        size_t i;

        json_array_foreach(items, i, o) {
                json_t *status = json_object_get(o, "status");
                const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));
                bool ok = false;

                if (streq(kind, "Deployment")) {
                        json_int_t want = spec_replicas(o);
                        json_int_t avail = json_integer_value(json_object_get(status, "availableReplicas"));
                        json_int_t updated = json_integer_value(json_object_get(status, "updatedReplicas"));
                        json_int_t gen = json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
                        json_int_t observed = json_integer_value(json_object_get(status, "observedGeneration"));
                        ok = observed >= gen && avail >= want && updated >= want;
                } else if (streq(kind, "StatefulSet")) {
                        json_int_t want = spec_replicas(o);
                        json_int_t ready = json_integer_value(json_object_get(status, "readyReplicas"));
                        json_int_t updated = json_integer_value(json_object_get(status, "updatedReplicas"));
                        json_int_t gen = json_integer_value(json_object_get(json_object_get(o, "metadata"), "generation"));
                        json_int_t observed = json_integer_value(json_object_get(status, "observedGeneration"));
                        ok = observed >= gen && ready >= want && (updated >= want || updated == 0);
                } else {
                        json_t *conds = json_object_get(status, "conditions"), *c;
                        size_t k;
                        json_array_foreach(conds, k, c) {
                                const char *type = json_string_value(json_object_get(c, "type"));
                                bool is_true = streq_ptr(json_string_value(json_object_get(c, "status")), "True");
                                if (streq_ptr(type, "Complete") && is_true)
                                        ok = true;
                                if (streq_ptr(type, "Failed") && is_true) {
                                        rd->job_failed = true;
                                        utf8_snprintf(rd->failure, sizeof rd->failure,
                                                      "Setup Job %s failed: %s", strna(name),
                                                      strna(json_string_value(json_object_get(c, "message"))));
                                }
                        }
                        if (json_integer_value(json_object_get(status, "succeeded")) > 0)
                                ok = true;
                }
                rd->total++;
                if (ok)
                        rd->ready++;
                else if (!rd->waiting_on[0])
                        utf8_snprintf(rd->waiting_on, sizeof rd->waiting_on, "%s %s", kind, strna(name));
        }
}

/* Copies new cluster Events of the namespace into the store's timeline; remembers the latest warning. */
static void collect_events(Job *j, char *last_warning, size_t n, QuotaRefusal *refusal)
{
        _cleanup_(json_decrefp) json_t *list = NULL;
        _cleanup_free_ char *path = NULL;
        json_t *e;
        size_t i;

        if (kube_path(&path, "v1", "events", j->ns, NULL) < 0 || kube_list(j->kube, path, NULL, &list) < 0)
                return;
        json_array_foreach(json_object_get(list, "items"), i, e) {
                const char *uid = json_string_value(json_object_get(json_object_get(e, "metadata"), "uid"));
                json_int_t count = json_integer_value(json_object_get(e, "count"));
                const char *type = json_string_value(json_object_get(e, "type"));
                const char *reason = json_string_value(json_object_get(e, "reason"));
                const char *message = json_string_value(json_object_get(e, "message"));
                json_t *obj = json_object_get(e, "involvedObject");
                char key[160], detail[1024];

                if (!uid)
                        continue;
                snprintf(key, sizeof key, "%s/%" JSON_INTEGER_FORMAT, uid, count);
                if (streq_ptr(type, "Warning"))
                        quota_refusal_note(refusal, key, reason, message);
                utf8_snprintf(detail, sizeof detail, "%s %s/%s: %s: %s", strna(type),
                              strna(json_string_value(json_object_get(obj, "kind"))),
                              strna(json_string_value(json_object_get(obj, "name"))), strna(reason), strna(message));
                if (streq_ptr(type, "Warning") && last_warning)
                        utf8_snprintf(last_warning, n, "%s/%s: %s: %s",
                                      strna(json_string_value(json_object_get(obj, "kind"))),
                                      strna(json_string_value(json_object_get(obj, "name"))), strna(reason),
                                      strna(message));
                if (json_object_get(j->seen_events, key) || json_object_size(j->seen_events) > 500)
                        continue;
                json_object_set_new(j->seen_events, key, json_true());
                (void) store_add_event(j->db, j->store->id, "cluster", "k8s.event", detail);
        }
}

/* The last words of a failed setup pod (the chart uses FallbackToLogsOnError: "setup: ERROR: ..."). */
static void job_pod_message(Job *j, const char *selector, char *buf, size_t n)
{
        _cleanup_(json_decrefp) json_t *pods = NULL;
        _cleanup_free_ char *path = NULL, *sel = NULL;
        json_t *pod;
        size_t i;

        if (kube_path(&path, "v1", "pods", j->ns, NULL) < 0 ||
            asprintf(&sel, "%s,app.kubernetes.io/component=setup", selector) < 0 ||
            kube_list(j->kube, path, sel, &pods) < 0)
                return;
        json_array_foreach(json_object_get(pods, "items"), i, pod) {
                json_t *cs, *c;
                size_t k;
                cs = json_object_get(json_object_get(pod, "status"), "containerStatuses");
                json_array_foreach(cs, k, c) {
                        const char *msg = json_string_value(
                                json_object_get(json_object_get(json_object_get(c, "state"), "terminated"), "message"));
                        if (!msg || !*msg)
                                continue;
                        /* The last line is where the script says what failed. */
                        last_line(msg, buf, n);
                }
        }
}

/* Why a pod cannot start until something outside the store changes; NULL when it is not stuck. */
const char *pod_stuck_reason(json_t *pod, char *buf, size_t n)
{
        json_t *status = json_object_get(pod, "status"), *cond, *cs;
        const char *name = json_string_value(json_object_get(json_object_get(pod, "metadata"), "name"));
        const char *lists[] = { "initContainerStatuses", "containerStatuses" };
        size_t i;

        json_array_foreach(json_object_get(status, "conditions"), i, cond)
                if (streq_ptr(json_string_value(json_object_get(cond, "type")), "PodScheduled") &&
                    streq_ptr(json_string_value(json_object_get(cond, "status")), "False") &&
                    streq_ptr(json_string_value(json_object_get(cond, "reason")), "Unschedulable")) {
                        utf8_snprintf(buf, n, "Pod %s cannot be scheduled: %s", strna(name),
                                      strna(json_string_value(json_object_get(cond, "message"))));
                        return buf;
                }
        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                json_array_foreach(json_object_get(status, lists[l]), i, cs) {
                        json_t *w = json_object_get(json_object_get(cs, "state"), "waiting");
                        const char *reason = json_string_value(json_object_get(w, "reason"));
                        if (streq_ptr(reason, "ErrImagePull") || streq_ptr(reason, "ImagePullBackOff") ||
                            streq_ptr(reason, "InvalidImageName")) {
                                utf8_snprintf(buf, n, "Pod %s cannot pull its image (%s): %s", strna(name), reason,
                                              strna(json_string_value(json_object_get(w, "message"))));
                                return buf;
                        }
                }
        return NULL;
}

/*
 * Notes when each pod was first seen stuck (since: uid -> monotonic µs, rebuilt from the pods listed now, so
 * a pod that got going is forgotten) and writes the reason of one stuck for longer than grace_usec.
 */
static bool stuck_too_long(json_t *pods, json_t *since, uint64_t now, uint64_t grace_usec, char *buf, size_t n)
{
        _cleanup_(json_decrefp) json_t *next = json_object();
        json_t *pod;
        bool found = false;
        size_t i;

        if (!next)
                return false;
        json_array_foreach(json_object_get(pods, "items"), i, pod) {
                const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
                char why[512];
                json_t *t;
                uint64_t first;

                if (!uid || !pod_stuck_reason(pod, why, sizeof why))
                        continue;
                t = json_object_get(since, uid);
                first = t ? (uint64_t) json_integer_value(t) : now;
                json_object_set_new(next, uid, json_integer((json_int_t) first));
                if (!found && now - first >= grace_usec) {
                        utf8_snprintf(buf, n, "%s", why);
                        found = true;
                }
        }
        json_object_clear(since);
        json_object_update(since, next);
        return found;
}

typedef struct WatchWake {
        int events;
} WatchWake;

static int on_watch_event(const char *type, json_t *object, void *userdata)
{
        WatchWake *ww = userdata;
        ww->events++;
        return 1; /* any change: go and look again */
}

/*
 * Waits until every Deployment is available, every StatefulSet ready and the
 * setup Job complete, as the API server reports them. Pods are watched so a
 * change wakes us at once; workloads are then listed afresh.
 */
int wait_for_workloads(Job *j, StoreStatus expected, char *reason, size_t reason_len)
{
        _cleanup_free_ char *deploy = NULL, *sts = NULL, *jobs = NULL, *pods = NULL, *selector = NULL;
        char last_warning[512] = "";
        QuotaRefusal refusal = {};
        _cleanup_(json_decrefp) json_t *stuck_since = json_object();
        uint64_t deadline = mono_usec() + j->set.provision_timeout_sec * USEC_PER_SEC;
        bool unreachable = false;
        int r;

        if (instance_selector(j, &selector) < 0 || kube_path(&deploy, "apps/v1", "deployments", j->ns, NULL) < 0 ||
            kube_path(&sts, "apps/v1", "statefulsets", j->ns, NULL) < 0 ||
            kube_path(&jobs, "batch/v1", "jobs", j->ns, NULL) < 0 || kube_path(&pods, "v1", "pods", j->ns, NULL) < 0)
                return -ENOMEM;

        for (;;) {
                _cleanup_(json_decrefp) json_t *d = NULL, *s = NULL, *jb = NULL, *pl = NULL;
                Readiness rd = {};

                r = job_checkpoint(j);
                if (r < 0)
                        return r;
                if (superseded(j, expected))
                        return -ECONNABORTED;

                r = kube_list(j->kube, deploy, selector, &d);
                if (r >= 0)
                        r = kube_list(j->kube, sts, selector, &s);
                if (r >= 0)
                        r = kube_list(j->kube, jobs, selector, &jb);
                if (r < 0 && (!cluster_error_is_transient(r) || mono_usec() > deadline))
                        return cluster_error(j, r, "Reading the store's workloads failed");
                if (r < 0) {
                        /* The API server is away (restarting, or etcd is): keep watching here rather
                         * than go back to the queue, whose backoff would add to the wait after it
                         * returns. Said once per outage, in the timeline and as the reason. */
                        if (!unreachable)
                                (void) cluster_error(j, r, "Reading the store's workloads failed");
                        unreachable = true;
                        r = worker_sleep(j->w, USEC_PER_SEC);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (unreachable) {
                        unreachable = false;
                        set_waiting_reason(j, NULL);
                        (void) store_add_event(j->db, j->store->id, "system", "cluster.reachable",
                                               "The cluster answers again; still waiting for the workloads.");
                }

                check_workloads(d, "Deployment", &rd);
                check_workloads(s, "StatefulSet", &rd);
                check_workloads(jb, "Job", &rd);
                check_certificate(j, &rd.total, &rd.ready, rd.waiting_on, sizeof rd.waiting_on);
                collect_events(j, last_warning, sizeof last_warning, &refusal);

                if (rd.job_failed) {
                        char detail[400] = "";
                        job_pod_message(j, selector, detail, sizeof detail);
                        utf8_snprintf(reason, reason_len, "%s%s%s", rd.failure, detail[0] ? ": " : "",
                                      detail);
                        return -EIO;
                }
                if (rd.total > 0 && rd.ready == rd.total)
                        return 0;

                /* Pods a quota refused, that it admits now: the controllers may be backing off. */
                (void) nudge_if_quota_admits(j, &refusal);

                progress(j, "waiting for workloads: %d of %d ready%s%s", rd.ready, rd.total,
                         rd.waiting_on[0] ? ", waiting on " : "", rd.waiting_on);

                /* What waiting cannot fix fails now, not when the provision timeout runs out. */
                const char *rv = NULL;
                if (kube_list(j->kube, pods, NULL, &pl) >= 0) {
                        rv = json_string_value(json_object_get(json_object_get(pl, "metadata"), "resourceVersion"));
                        if (stuck_since && stuck_too_long(pl, stuck_since, mono_usec(),
                                                          j->set.unschedulable_timeout_sec * USEC_PER_SEC, reason,
                                                          reason_len))
                                return -EIO;
                }

                if (mono_usec() > deadline) {
                        utf8_snprintf(reason, reason_len, "Not ready after %" PRIu64 " s: %s%s%s",
                                      j->set.provision_timeout_sec, rd.waiting_on[0] ? rd.waiting_on : "no workloads found",
                                      last_warning[0] ? " is not ready; last cluster warning: " : " is not ready",
                                      last_warning);
                        return -ETIMEDOUT;
                }

                /* Block until a pod in the namespace changes, or a second passes (workload status follows pods). */
                WatchWake ww = {};
                r = kube_watch(j->kube, pods, NULL, rv, 1, on_watch_event, &ww);
                if (r == -ECANCELED)
                        return r;
                if (r < 0 && r != -ESTALE)
                        (void) worker_sleep(j->w, USEC_PER_SEC);
        }
}

void kept_claim_sizes(Job *j, char *buf, size_t n)
{
        _cleanup_(json_decrefp) json_t *claims = NULL;
        _cleanup_free_ char *path = NULL, *sel = NULL;
        size_t i;
        json_t *pvc;

        assert(n > 0);
        buf[0] = '\0';
        if (kube_path(&path, "v1", "persistentvolumeclaims", j->ns, NULL) < 0 ||
            asprintf(&sel, "app.kubernetes.io/instance=%s", j->store->name) < 0 ||
            kube_list(j->kube, path, sel, &claims) < 0)
                return;
        json_array_foreach(json_object_get(claims, "items"), i, pvc) {
                json_t *meta = json_object_get(pvc, "metadata");
                const char *name = json_string_value(json_object_get(meta, "name"));
                const char *note = json_string_value(
                        json_object_get(json_object_get(meta, "annotations"), "storeagent.io/size-kept"));
                size_t used = strlen(buf);

                if (!name || isempty(note) || used >= n - 1)
                        continue;
                /* Cut at a character boundary when it does not fit. */
                utf8_snprintf(buf + used, n - used, " Volume %s %s.", name, note);
        }
}

void mark_ready(Job *j, const char *action, const char *detail, const char *reason)
{
        _cleanup_free_ char *url = NULL, *version = NULL;
        int64_t revision = 0;

        /* A worker that lost the task's lease leaves the store to the task's new owner. */
        if (worker_fence(j->w) < 0)
                return;
        if (asprintf(&url, "%s://%s.%s", j->set.url_scheme, j->store->name, j->set.base_domain) < 0)
                url = NULL;
        (void) read_release(j, &revision, &version);
        (void) store_set_release(j->db, j->store->id, version, revision, url);
        job_record_releases(j);
        (void) store_add_event(j->db, j->store->id, "system", action, detail);
        (void) store_set_status(j->db, j->store->id, STORE_READY, reason);
        char rev[24];
        snprintf(rev, sizeof rev, "%" PRIi64, revision);
        log_struct(LOG_INFO,
                   LOG_FIELDS("MESSAGE_ID", SA_MESSAGE_STORE_READY, "STORE_ID", j->store->id, "TASK_ID", j->task_id,
                              "HELM_REVISION", rev, "URL", url),
                   "Store %s is ready at %s (revision %s).", j->store->name, strna(url), rev);
}

/* ---- task kinds ---- */

/*
 * What a task does with the outcome of wait_for_workloads() when it is not a plain failure:
 * superseded by a delete (done, 0), or interrupted (back to the queue, the error itself).
 * Returns 1 when the caller should go on and judge success or failure.
 */
int wait_interrupted(int r)
{
        if (r == -ECONNABORTED)
                return 0;
        if (r == -EAGAIN || r == -ECANCELED || r == -ESTALE)
                return r;
        return 1;
}
