/* SPDX-License-Identifier: Apache-2.0 */

/* Watching a release's workloads until the store is ready, and marking it so. */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/store.h"
#include "core/store-domains.h"
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

/*
 * Keeps the latest Event about each volume claim (RFC 3339 times in one format compare as text): name ->
 * {"at": time, "said": "reason: message"}, "said" only when that Event is a Warning.
 */
static void note_claim_event(json_t *claims, json_t *e, json_t *obj, const char *type, const char *reason,
                             const char *message)
{
        const char *name = json_string_value(json_object_get(obj, "name"));
        const char *at = json_string_value(json_object_get(e, "lastTimestamp"))
                                 ?: json_string_value(json_object_get(e, "eventTime"))
                                            ?: json_string_value(json_object_get(
                                                       json_object_get(e, "metadata"), "creationTimestamp"));
        const char *seen = json_string_value(json_object_get(json_object_get(claims, name ?: ""), "at"));
        char said[600];

        if (!name || !at || (seen && strcmp(seen, at) > 0))
                return;
        utf8_snprintf(said, sizeof said, "%s: %s", strna(reason), strna(message));
        json_object_set_new(claims, name,
                            json_pack("{ss ss*}", "at", at, "said", streq_ptr(type, "Warning") ? said : NULL));
}

/*
 * Copies new cluster Events of the namespace into the store's timeline; remembers the latest warning, and
 * the latest Event about each volume claim in claim_warnings (see note_claim_event()).
 */
static void collect_events(Job *j, char *last_warning, size_t n, QuotaRefusal *refusal,
                           json_t *claim_warnings)
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
                if (claim_warnings &&
                    streq_ptr(json_string_value(json_object_get(obj, "kind")), "PersistentVolumeClaim"))
                        note_claim_event(claim_warnings, e, obj, type, reason, message);
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

/*
 * Whether the scheduler's words say only that the pod waits for another pod to run beside: the setup Job
 * follows the web pod to its node (pod affinity, for the ReadWriteOnce volume they share), and the web pod
 * may come later (its ReplicaSet backing off after a quota refusal). That is not a lack of room; if the web
 * pod never comes, its own reason or the provision timeout says why.
 */
static bool waits_for_a_sibling(const char *message)
{
        return message && strstr(message, "didn't match pod affinity rules") && !strstr(message, "Insufficient") &&
               !strstr(message, "taint") && !strstr(message, "node affinity/selector") &&
               !strstr(message, "volume");
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
                        if (waits_for_a_sibling(json_string_value(json_object_get(cond, "message"))))
                                return NULL;
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
 * Why a volume claim cannot be bound until something outside the store changes: it is Pending and the
 * cluster's last word about it is a warning (a StorageClass that does not exist, a provisioner that
 * fails). NULL when it is bound or no warning was said of it.
 */
static const char *claim_stuck_reason(json_t *pvc, json_t *claim_warnings, char *buf, size_t n)
{
        const char *name = json_string_value(json_object_get(json_object_get(pvc, "metadata"), "name"));
        const char *phase = json_string_value(json_object_get(json_object_get(pvc, "status"), "phase"));
        const char *said;

        if (!name || !streq_ptr(phase, "Pending"))
                return NULL;
        said = json_string_value(json_object_get(json_object_get(claim_warnings, name), "said"));
        if (!said)
                return NULL;
        utf8_snprintf(buf, n, "Volume claim %s cannot be bound: %s", name, said);
        return buf;
}

/* Appends [uid, why] for each claim and pod that is stuck now; claims first, as their pods wait on them. */
static void stuck_now(json_t *claims, json_t *claim_warnings, json_t *pods, json_t *ret)
{
        json_t *o;
        size_t i;

        json_array_foreach(json_object_get(claims, "items"), i, o) {
                const char *uid = json_string_value(json_object_get(json_object_get(o, "metadata"), "uid"));
                char why[700];
                if (uid && claim_stuck_reason(o, claim_warnings, why, sizeof why))
                        json_array_append_new(ret, json_pack("[ss]", uid, why));
        }
        json_array_foreach(json_object_get(pods, "items"), i, o) {
                const char *uid = json_string_value(json_object_get(json_object_get(o, "metadata"), "uid"));
                char why[512];
                if (uid && pod_stuck_reason(o, why, sizeof why))
                        json_array_append_new(ret, json_pack("[ss]", uid, why));
        }
}

/*
 * Notes when each claim and pod was first seen stuck (since: uid -> µs of now_usec(), rebuilt from those
 * stuck now, so one that got going is forgotten; kept with the wait, so it survives a hand-back and a
 * restart) and writes the reason of one stuck for longer than grace_usec.
 */
static bool stuck_too_long(json_t *stuck, json_t *since, uint64_t now, uint64_t grace_usec, char *buf,
                           size_t n)
{
        _cleanup_(json_decrefp) json_t *next = json_object();
        json_t *pair;
        bool found = false;
        size_t i;

        if (!next)
                return false;
        json_array_foreach(stuck, i, pair) {
                const char *uid = json_string_value(json_array_get(pair, 0));
                const char *why = json_string_value(json_array_get(pair, 1));
                json_t *t;
                uint64_t first;

                if (!uid || !why)
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

int wait_begin(Job *j, const char *phase, json_t *extra)
{
        _cleanup_(json_decrefp) json_t *w = extra ?: json_object();
        int r;

        assert(j);
        assert(phase);
        if (!w || json_object_set_new(w, "phase", json_string(phase)) < 0 ||
            json_object_set_new(w, "since", json_integer((json_int_t) now_usec())) < 0)
                return -ENOMEM;
        if (!j->t->payload) {
                j->t->payload = json_object();
                if (!j->t->payload)
                        return -ENOMEM;
        }
        if (json_object_set(j->t->payload, "wait", w) < 0)
                return -ENOMEM;
        j->wait = w;
        r = queue_set_payload(j->db, j->t, worker_owner(j->w));
        if (r == -ESTALE)
                return worker_fence(j->w) < 0 ? -ECANCELED : -EAGAIN;
        return r < 0 ? -EAGAIN : 0;
}

const char *wait_resuming(Job *j)
{
        assert(j);
        return json_string_value(json_object_get(j->wait, "phase"));
}

/* Keeps what this look learnt with the wait, for the next one (after a hand-back or a restart). */
static int wait_save(Job *j, json_t *since, const QuotaRefusal *refusal, bool unreachable)
{
        if (json_object_set(j->wait, "stuck", since) < 0 ||
            json_object_set_new(j->wait, "nudged", json_string(refusal->acted)) < 0 ||
            json_object_set_new(j->wait, "refused", json_string(refusal->seen)) < 0 ||
            json_object_set_new(j->wait, "recounted", json_string(refusal->recounted)) < 0 ||
            json_object_set_new(j->wait, "refused_requested", json_string(refusal->requested)) < 0 ||
            json_object_set_new(j->wait, "unreachable", json_boolean(unreachable)) < 0 ||
            json_object_set(j->wait, "seen", j->seen_events) < 0)
                return -ENOMEM;
        return queue_set_payload(j->db, j->t, worker_owner(j->w));
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
 * Watches until every Deployment is available, every StatefulSet ready and the setup Job complete, as the
 * API server reports them, for at most stores.readiness_watch: then the task hands its worker back and is
 * brought back after stores.readiness_recheck. Pods are watched so a change wakes us at once; workloads are
 * then listed afresh.
 */
int wait_for_workloads(Job *j, StoreStatus expected, char *reason, size_t reason_len)
{
        _cleanup_free_ char *deploy = NULL, *sts = NULL, *jobs = NULL, *pods = NULL, *claims = NULL,
                            *selector = NULL;
        char last_warning[512] = "";
        QuotaRefusal refusal = {};
        _cleanup_(json_decrefp) json_t *stuck_since = json_object();
        uint64_t since, deadline, hold_end = mono_usec() + j->set.readiness_watch_sec * USEC_PER_SEC;
        bool unreachable;
        int r;

        assert(j->wait); /* wait_begin() first */
        since = (uint64_t) json_integer_value(json_object_get(j->wait, "since"));
        deadline = since + j->set.provision_timeout_sec * USEC_PER_SEC;
        unreachable = json_is_true(json_object_get(j->wait, "unreachable"));
        if (!stuck_since)
                return -ENOMEM;
        if (json_is_object(json_object_get(j->wait, "stuck")))
                json_object_update(stuck_since, json_object_get(j->wait, "stuck"));
        if (json_is_object(json_object_get(j->wait, "seen")))
                json_object_update(j->seen_events, json_object_get(j->wait, "seen"));
        snprintf(refusal.acted, sizeof refusal.acted, "%s",
                 strempty(json_string_value(json_object_get(j->wait, "nudged"))));
        /* A refusal noted by an earlier look is not in this look's new events (they were seen): keep it, or the
         * nudge it waits for would never come while the controllers back off. */
        snprintf(refusal.seen, sizeof refusal.seen, "%s",
                 strempty(json_string_value(json_object_get(j->wait, "refused"))));
        snprintf(refusal.requested, sizeof refusal.requested, "%s",
                 strempty(json_string_value(json_object_get(j->wait, "refused_requested"))));
        snprintf(refusal.recounted, sizeof refusal.recounted, "%s",
                 strempty(json_string_value(json_object_get(j->wait, "recounted"))));

        if (instance_selector(j, &selector) < 0 || kube_path(&deploy, "apps/v1", "deployments", j->ns, NULL) < 0 ||
            kube_path(&sts, "apps/v1", "statefulsets", j->ns, NULL) < 0 ||
            kube_path(&jobs, "batch/v1", "jobs", j->ns, NULL) < 0 || kube_path(&pods, "v1", "pods", j->ns, NULL) < 0 ||
            kube_path(&claims, "v1", "persistentvolumeclaims", j->ns, NULL) < 0)
                return -ENOMEM;

        for (;;) {
                _cleanup_(json_decrefp) json_t *d = NULL, *s = NULL, *jb = NULL, *pl = NULL, *cl = NULL,
                                                *claim_warnings = json_object(), *stuck = json_array();
                Readiness rd = {};

                r = job_checkpoint(j);
                if (r < 0)
                        return r;
                if (superseded(j, expected))
                        return -ECONNABORTED;
                if (!claim_warnings || !stuck)
                        return -ENOMEM;

                r = kube_list(j->kube, deploy, selector, &d);
                if (r >= 0)
                        r = kube_list(j->kube, sts, selector, &s);
                if (r >= 0)
                        r = kube_list(j->kube, jobs, selector, &jb);
                if (r < 0 && (!cluster_error_is_transient(r) || now_usec() > deadline))
                        return cluster_error(j, r, "Reading the store's workloads failed");
                if (r < 0) {
                        /* The API server is away (restarting, or etcd is): look again soon rather than sit out
                         * the queue's backoff after it returns. Said once per outage, in the timeline and as
                         * the reason. */
                        if (!unreachable)
                                (void) cluster_error(j, r, "Reading the store's workloads failed");
                        unreachable = true;
                        if (mono_usec() >= hold_end)
                                goto hand_back;
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
                collect_events(j, last_warning, sizeof last_warning, &refusal, claim_warnings);

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
                        if (kube_list(j->kube, claims, NULL, &cl) < 0)
                                cl = NULL; /* the pods alone, this time */
                        stuck_now(cl, claim_warnings, pl, stuck);
                        if (stuck_too_long(stuck, stuck_since, now_usec(),
                                           j->set.unschedulable_timeout_sec * USEC_PER_SEC, reason, reason_len))
                                return -EIO;
                }

                if (now_usec() > deadline) {
                        utf8_snprintf(reason, reason_len, "Not ready after %" PRIu64 " s: %s%s%s",
                                      j->set.provision_timeout_sec, rd.waiting_on[0] ? rd.waiting_on : "no workloads found",
                                      last_warning[0] ? " is not ready; last cluster warning: " : " is not ready",
                                      last_warning);
                        return -ETIMEDOUT;
                }
                if (mono_usec() >= hold_end)
                        goto hand_back;

                /* Block until a pod in the namespace changes, or a second passes (workload status follows pods). */
                WatchWake ww = {};
                r = kube_watch(j->kube, pods, NULL, rv, 1, on_watch_event, &ww);
                if (r == -ECANCELED)
                        return r;
                if (r < 0 && r != -ESTALE)
                        (void) worker_sleep(j->w, USEC_PER_SEC);
        }

hand_back:
        /* Not ready yet: give the worker back to the other stores' tasks, and come back for another look. */
        r = wait_save(j, stuck_since, &refusal, unreachable);
        if (r == -ESTALE)
                return worker_fence(j->w) < 0 ? -ECANCELED : -EAGAIN;
        if (r < 0)
                return -EAGAIN;
        worker_recheck_in(j->w, j->set.readiness_recheck_sec * USEC_PER_SEC);
        return -EINPROGRESS;
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
        _cleanup_free_ char *url = NULL, *version = NULL, *primary = NULL;
        int64_t revision = 0;

        /* A worker that lost the task's lease leaves the store to the task's new owner. */
        if (worker_fence(j->w) < 0)
                return;
        /* The host the shop's URLs use: its primary domain, or its own host. */
        (void) store_domains_of(j->db, j->store->id, NULL, &primary);
        if (primary ? asprintf(&url, "%s://%s", j->set.url_scheme, primary) < 0
                    : asprintf(&url, "%s://%s.%s", j->set.url_scheme, j->store->name,
                               j->set.base_domain) < 0)
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
        if (r == -EAGAIN || r == -ECANCELED || r == -ESTALE || r == -EINPROGRESS)
                return r;
        return 1;
}
