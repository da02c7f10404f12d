/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Waking the controllers of a store's workloads when the pods they were refused may be
 * created again.
 *
 * The StatefulSet, ReplicaSet and Job controllers retry a refused pod creation (a quota
 * too small, or a ResourceQuota whose usage is stale after the API server restarted) with
 * exponential backoff, so when the cause is gone their next try can be minutes away. Any
 * update to the object queues it at once; an annotation with the time is that update.
 * Only workloads that lack pods are touched; running pods are left alone.
 */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/store.h"
#include "provision/provision-internal.h"
#include "provision/quota.h"

static const struct {
        const char *group, *resource, *kind;
} workload_kinds[] = {
        { "apps/v1", "statefulsets", "StatefulSet" },
        { "apps/v1", "replicasets", "ReplicaSet" }, /* a Deployment's pods come from its ReplicaSet */
        { "batch/v1", "jobs", "Job" },
};

static json_int_t int_field(json_t *o, const char *section, const char *field, json_int_t def)
{
        json_t *v = json_object_get(json_object_get(o, section), field);
        return json_is_integer(v) ? json_integer_value(v) : def;
}

/* Whether a workload has fewer pods than it asks for (a Job: none running and not done). */
static bool lacks_pods(json_t *o, const char *kind)
{
        if (!streq(kind, "Job"))
                return int_field(o, "spec", "replicas", 1) > int_field(o, "status", "replicas", 0);
        if (int_field(o, "status", "succeeded", 0) > 0 || int_field(o, "status", "active", 0) > 0)
                return false;
        json_t *c;
        size_t i;
        json_array_foreach(json_object_get(json_object_get(o, "status"), "conditions"), i, c) {
                const char *type = json_string_value(json_object_get(c, "type"));
                if ((streq_ptr(type, "Complete") || streq_ptr(type, "Failed")) &&
                    streq_ptr(json_string_value(json_object_get(c, "status")), "True"))
                        return false;
        }
        return true;
}

int nudge_workloads(Job *j, char *ret_names, size_t n)
{
        _cleanup_free_ char *selector = NULL, *body = NULL;
        int count = 0;

        assert(j);
        if (ret_names && n > 0)
                ret_names[0] = '\0';
        /* Microseconds: two nudges within a second must still differ, or the second changes nothing. */
        if (asprintf(&selector, "app.kubernetes.io/instance=%s", j->store->name) < 0 ||
            asprintf(&body, "{\"metadata\":{\"annotations\":{\"storeagent.io/nudged-at\":\"%" PRIu64 "\"}}}",
                     now_usec()) < 0)
                return -ENOMEM;
        for (size_t k = 0; k < ELEMENTSOF(workload_kinds); k++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_(json_decrefp) json_t *list = NULL;
                json_t *o;
                size_t i;

                if (kube_path(&path, workload_kinds[k].group, workload_kinds[k].resource, j->ns, NULL) < 0 ||
                    kube_list(j->kube, path, selector, &list) < 0)
                        continue;
                json_array_foreach(json_object_get(list, "items"), i, o) {
                        _cleanup_free_ char *item = NULL;
                        const char *name = json_string_value(json_object_get(json_object_get(o, "metadata"), "name"));

                        if (!name || !lacks_pods(o, workload_kinds[k].kind) ||
                            kube_path(&item, workload_kinds[k].group, workload_kinds[k].resource, j->ns, name) < 0)
                                continue;
                        if (kube_request(j->kube, "PATCH", item, "application/merge-patch+json", body, NULL) < 0) {
                                log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id),
                                           "Could not nudge %s: %s", item, kube_client_last_error(j->kube));
                                continue;
                        }
                        count++;
                        if (ret_names && n > 0) {
                                size_t l = strlen(ret_names);
                                if (l < n)
                                        snprintf(ret_names + l, n - l, "%s%s %s", l ? ", " : "",
                                                 workload_kinds[k].kind, name);
                        }
                }
        }
        return count;
}

/*
 * A quota's usage can be wrong for minutes: after the API server restarted, kube-controller-manager
 * may count pods twice until its next full resync (--resource-quota-sync-period, 5 minutes by default),
 * and go on refusing the store's pods meanwhile. A change to a quota's spec.hard makes it count the
 * namespace again at once: a key no pod uses is added and taken away again.
 */
static int recount_quota(Job *j, json_t *quota, const QuotaRefusal *q)
{
        const char *name = json_string_value(json_object_get(json_object_get(quota, "metadata"), "name"));
        _cleanup_free_ char *path = NULL, *detail = NULL;
        int r;

        if (!name)
                return -EINVAL;
        r = kube_path(&path, "v1", "resourcequotas", j->ns, name);
        if (r < 0)
                return r;
        r = kube_request(j->kube, "PATCH", path, "application/merge-patch+json",
                         "{\"spec\":{\"hard\":{\"" QUOTA_RECOUNT_KEY "\":\"1\"}}}", NULL);
        if (r < 0)
                return r;
        r = kube_request(j->kube, "PATCH", path, "application/merge-patch+json",
                         "{\"spec\":{\"hard\":{\"" QUOTA_RECOUNT_KEY "\":null}}}", NULL);
        if (r < 0)
                return r;
        if (asprintf(&detail,
                     "The quota %s refused pods (requested: %s); asked the cluster to count its usage again, "
                     "in case its count is stale.",
                     name, q->requested) < 0)
                return -ENOMEM;
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id), "Store %s: %s",
                   j->store->name, detail);
        /* Once in the timeline per wait: a quota that is really too small is refused again and again. */
        if (!q->recounted[0])
                (void) store_add_event(j->db, j->store->id, "system", "quota.recounted", detail);
        return 0;
}

int nudge_if_quota_admits(Job *j, QuotaRefusal *q)
{
        _cleanup_(json_decrefp) json_t *quotas = NULL;
        _cleanup_free_ char *path = NULL, *detail = NULL;
        char names[400];
        json_t *o;
        size_t i;
        int r;

        assert(j);
        assert(q);
        if (!q->seen[0] || streq(q->seen, q->acted))
                return 0; /* no refusal, or none since the last nudge */
        r = kube_path(&path, "v1", "resourcequotas", j->ns, NULL);
        if (r < 0)
                return r;
        r = kube_list(j->kube, path, NULL, &quotas);
        if (r < 0)
                return r;
        json_array_foreach(json_object_get(quotas, "items"), i, o)
                if (!quota_admits(o, q->requested)) {
                        /* Too little room, or a stale count: have it counted again, once per refusal. */
                        if (!streq(q->seen, q->recounted) && recount_quota(j, o, q) >= 0)
                                snprintf(q->recounted, sizeof q->recounted, "%s", q->seen);
                        return 0; /* the controllers' own retries, or the next look's nudge, do the rest */
                }

        snprintf(q->acted, sizeof q->acted, "%s", q->seen);
        r = nudge_workloads(j, names, sizeof names);
        if (r <= 0)
                return r;
        if (asprintf(&detail, "The quota admits the pods it refused (requested: %s) again; nudged %s.", q->requested,
                     names) < 0)
                return -ENOMEM;
        (void) store_add_event(j->db, j->store->id, "system", "workloads.nudged", detail);
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id), "Store %s: %s",
                   j->store->name, detail);
        return r;
}
