/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The usage sampler thread: every usage.sample_interval it reads, for each READY store, its pods'
 * CPU and memory from the metrics.k8s.io API (PodMetrics, served by metrics-server), its quota and
 * its volume claims, and keeps a sample (core/usage.c). Whether the metrics API answers is kept for
 * the API to say, so that a missing metrics-server shows as such and never as zero use.
 */

#include <math.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/store.h"
#include "core/store-stats.h"
#include "core/usage.h"
#include "provision/provision-internal.h"

#define METRICS_GROUP_PATH "/apis/metrics.k8s.io/v1beta1"

static void usage_set_state(Provisioner *p, const char *state, const char *reason)
{
        char *st = strdup(state), *why = reason ? strdup(reason) : NULL;

        pthread_mutex_lock(&p->status_lock);
        free(p->usage_state);
        free(p->usage_reason);
        p->usage_state = st;
        p->usage_reason = why;
        pthread_mutex_unlock(&p->status_lock);
}

/* A quantity in thousandths rounded to units of scale thousandths; -1 when absent or not one. */
static int64_t quantity(json_t *v, double scale)
{
        double milli;

        if (!json_is_string(v) || parse_quantity_milli(json_string_value(v), &milli) < 0 || milli < 0)
                return -1;
        /* Past 2^52 units no amount is meant: refused, before llround() or a sum overflows. */
        if (!isfinite(milli) || milli / scale >= 0x1p52)
                return -1;
        return (int64_t) llround(milli / scale);
}

/* Sums the PodMetrics of the store's namespace into s; the pods' own amounts into s->pods. */
static int read_pod_metrics(KubeClient *c, const char *ns, UsageSample *s)
{
        _cleanup_(json_decrefp) json_t *list = NULL;
        _cleanup_free_ char *path = NULL;
        json_t *item, *ctr;
        size_t i, j;
        int r;

        if (asprintf(&path, METRICS_GROUP_PATH "/namespaces/%s/pods", ns) < 0)
                return -ENOMEM;
        r = kube_get(c, path, &list);
        if (r < 0)
                return r;
        s->cpu_millicores = s->memory_bytes = 0;
        json_array_foreach(json_object_get(list, "items"), i, item) {
                json_t *meta = json_object_get(item, "metadata");
                const char *name = json_string_value(json_object_get(meta, "name"));
                int64_t cpu = 0, mem = 0;

                json_array_foreach(json_object_get(item, "containers"), j, ctr) {
                        json_t *u = json_object_get(ctr, "usage");
                        cpu += MAX(quantity(json_object_get(u, "cpu"), 1), 0);
                        mem += MAX(quantity(json_object_get(u, "memory"), 1000), 0);
                }
                s->cpu_millicores += cpu;
                s->memory_bytes += mem;
                if (name && json_array_append_new(s->pods, json_pack("{s:s, s:I, s:I}", "name", name,
                                                                     "cpu_millicores", (json_int_t) cpu,
                                                                     "memory_bytes", (json_int_t) mem)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The quota's CPU and memory limits and storage, and what the claims request. */
static int read_quota_and_claims(KubeClient *c, const char *ns, UsageSample *s)
{
        _cleanup_(json_decrefp) json_t *quota = NULL, *claims = NULL;
        _cleanup_free_ char *qpath = NULL, *cpath = NULL;
        json_t *hard, *pvc;
        size_t i;
        int r;

        if (kube_path(&qpath, "v1", "resourcequotas", ns, "store-quota") < 0 ||
            kube_path(&cpath, "v1", "persistentvolumeclaims", ns, NULL) < 0)
                return -ENOMEM;
        r = kube_get(c, qpath, &quota);
        if (r < 0 && r != -ENOENT)
                return r;
        hard = json_object_get(json_object_get(quota, "spec"), "hard");
        s->cpu_quota_millicores = quantity(json_object_get(hard, "limits.cpu"), 1);
        if (s->cpu_quota_millicores < 0)
                s->cpu_quota_millicores = quantity(json_object_get(hard, "requests.cpu"), 1);
        s->memory_quota_bytes = quantity(json_object_get(hard, "limits.memory"), 1000);
        if (s->memory_quota_bytes < 0)
                s->memory_quota_bytes = quantity(json_object_get(hard, "requests.memory"), 1000);
        s->storage_quota_bytes = quantity(json_object_get(hard, "requests.storage"), 1000);

        r = kube_get(c, cpath, &claims);
        if (r < 0)
                return r;
        s->storage_requested_bytes = 0;
        json_array_foreach(json_object_get(claims, "items"), i, pvc) {
                json_t *res = json_object_get(json_object_get(pvc, "spec"), "resources");
                json_t *req = json_object_get(res, "requests");

                s->storage_requested_bytes += MAX(quantity(json_object_get(req, "storage"), 1000), 0);
        }
        return 0;
}

/* Whether the metrics API is served; false with the reason in words when not. */
static bool metrics_api_served(KubeClient *c, char *reason, size_t n)
{
        int r = kube_get(c, METRICS_GROUP_PATH, NULL);

        if (r >= 0)
                return true;
        /* The reason reaches tenants: it names no address of the cluster; the log has the details. */
        if (r == -ENOENT)
                snprintf(reason, n, "The cluster does not serve the metrics.k8s.io API (is metrics-server "
                                    "installed?).");
        else if (kube_client_last_status(c) > 0)
                snprintf(reason, n, "The metrics.k8s.io API answered HTTP %ld.", kube_client_last_status(c));
        else
                snprintf(reason, n, "The metrics.k8s.io API could not be reached.");
        log_debug("The metrics.k8s.io API is not served: %s", kube_client_last_error(c));
        return false;
}

static void sample_once(Provisioner *p, Db *db, const ProvisionSettings *set)
{
        _cleanup_(kube_client_freep) KubeClient *c = NULL;
        _cleanup_(json_decrefp) json_t *stores = NULL;
        char reason[512] = "";
        bool served;
        json_t *st;
        size_t i;
        int r;

        if (make_client(set->kubeconfig, &c, NULL) < 0)
                return;
        kube_client_set_cancel(c, &p->stopping);
        served = metrics_api_served(c, reason, sizeof reason);
        usage_set_state(p, served ? "available" : "unavailable", served ? NULL : reason);
        if (usage_stores_to_sample(db, &stores) < 0)
                return;
        json_array_foreach(stores, i, st) {
                const char *id = json_string_value(json_object_get(st, "id"));
                const char *name = json_string_value(json_object_get(st, "name"));
                _cleanup_(json_decrefp) json_t *pods = json_array();
                _cleanup_free_ char *ns = NULL;
                UsageSample s = { .at_usec = now_usec(), .cpu_millicores = -1, .memory_bytes = -1,
                                  .pods = pods };

                if (!pods || store_namespace_name(name, &ns) < 0)
                        return;
                if (served) {
                        r = read_pod_metrics(c, ns, &s);
                        if (r < 0) {
                                s.cpu_millicores = s.memory_bytes = -1;
                                s.pods = NULL;
                        }
                }
                r = read_quota_and_claims(c, ns, &s);
                if (r < 0) {
                        log_struct_errno(LOG_DEBUG, r, LOG_FIELDS("STORE_ID", id),
                                         "Reading the quota of store '%s' failed: %s", name,
                                         kube_client_last_error(c));
                        continue;
                }
                r = usage_record(db, id, &s);
                if (r < 0)
                        log_struct_errno(LOG_WARNING, r, LOG_FIELDS("STORE_ID", id),
                                         "Keeping a usage sample of store '%s' failed: %m", name);
        }
        r = usage_prune(db, now_usec() - MIN(set->usage_keep_sec * USEC_PER_SEC, now_usec()),
                        set->usage_max_samples);
        if (r < 0)
                log_warning_errno(r, "Pruning usage samples failed: %m");
}

static void *sampler_main(void *arg)
{
        Provisioner *p = arg;
        _cleanup_(db_closep) Db *db = NULL;

        if (db_open(p->db_path, &db) < 0)
                return NULL;
        while (!atomic_load(&p->stopping)) {
                ProvisionSettings set;
                uint64_t interval, keep;
                int r;

                if (settings_copy(p, &set, NULL) < 0)
                        return NULL;
                interval = set.usage_interval_sec;
                if (interval == 0) {
                        usage_set_state(p, "disabled", "Sampling is off (usage.sample_interval is 0).");
                        interval = 5; /* a reload may turn it on */
                } else {
                        json_t *cs = NULL;
                        bool reachable = provisioner_cluster_status(p, &cs) >= 0 &&
                                         json_is_true(json_object_get(cs, "reachable"));
                        json_decref(cs);
                        if (reachable)
                                sample_once(p, db, &set);
                }
                /* The stores' status changes, which the platform page counts back through. */
                keep = MIN(set.history_keep_sec * USEC_PER_SEC, now_usec());
                r = store_transitions_prune(db, now_usec() - keep, set.history_max_changes);
                if (r < 0)
                        log_warning_errno(r, "Pruning the stores' status changes failed: %m");
                settings_done(&set);
                for (uint64_t t = 0; t < interval * 5 && !atomic_load(&p->stopping); t++)
                        usleep(200 * 1000);
        }
        return NULL;
}

int usage_sampler_start(Provisioner *p)
{
        int r;

        assert(p);
        assert(p->db_path);
        r = pthread_create(&p->usage_sampler, NULL, sampler_main, p);
        if (r != 0)
                return -r;
        p->usage_sampler_started = true;
        return 0;
}

int provisioner_usage_status(Provisioner *p, json_t **ret)
{
        ProvisionSettings set;
        json_t *o;
        int r;

        assert(p);
        assert(ret);
        r = settings_copy(p, &set, NULL);
        if (r < 0)
                return r;
        pthread_mutex_lock(&p->status_lock);
        o = json_pack("{s:s, s:s?, s:I}", "metrics", p->usage_state ?: "unavailable", "reason",
                      p->usage_state ? p->usage_reason : "The metrics API has not been asked yet.",
                      "interval_seconds", (json_int_t) set.usage_interval_sec);
        pthread_mutex_unlock(&p->status_lock);
        settings_done(&set);
        if (!o)
                return -ENOMEM;
        *ret = o;
        return 0;
}
