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
                if (!quota_admits(o, q->requested))
                        return 0; /* still too little room: the controllers' own retries are right */

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
