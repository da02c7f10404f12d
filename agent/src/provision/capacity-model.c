/* SPDX-License-Identifier: Apache-2.0 */

/* The capacity model: pure functions of the objects the API server lists (provision/capacity-model.h). */

#include <math.h>

#include "basic/log.h"
#include "basic/util.h"
#include "provision/capacity-model.h"
#include "provision/quota.h"

static const char *const resource_names[_CAPACITY_RESOURCE_MAX] = {
        [CAPACITY_CPU] = "cpu",
        [CAPACITY_MEMORY] = "memory",
        [CAPACITY_PODS] = "pods",
};

const char *capacity_resource_to_string(CapacityResource r)
{
        return r >= 0 && r < _CAPACITY_RESOURCE_MAX ? resource_names[r] : NULL;
}

/* A quantity in the resource's unit (millicores, bytes, pods); 0 when absent or unparsable. */
static double quantity(CapacityResource r, const char *s)
{
        double v;

        if (!s || parse_quantity_milli(s, &v) < 0 || v < 0)
                return 0;
        return r == CAPACITY_CPU ? v : v / 1000.0;
}

static void amounts_from_list(json_t *list, CapacityAmounts *ret)
{
        for (int r = 0; r < _CAPACITY_RESOURCE_MAX; r++)
                ret->v[r] = quantity(r, json_string_value(json_object_get(list, resource_names[r])));
}

int capacity_store_needs(const ProvisionSettings *set, CapacityAmounts *ret)
{
        double cpu, mem, pods;

        assert(set);
        assert(ret);
        if (parse_quantity_milli(set->quota_cpu, &cpu) < 0 || parse_quantity_milli(set->quota_memory, &mem) < 0 ||
            parse_quantity_milli(set->quota_pods, &pods) < 0)
                return -EINVAL;
        ret->v[CAPACITY_CPU] = cpu;
        ret->v[CAPACITY_MEMORY] = mem / 1000.0;
        ret->v[CAPACITY_PODS] = pods / 1000.0;
        return 0;
}

void capacity_pod_requests(json_t *pod, CapacityAmounts *ret)
{
        json_t *spec = json_object_get(pod, "spec"), *c;
        CapacityAmounts sum = {}, init = {};
        size_t i;

        assert(ret);
        json_array_foreach(json_object_get(spec, "containers"), i, c) {
                CapacityAmounts a;
                amounts_from_list(json_object_get(json_object_get(c, "resources"), "requests"), &a);
                sum.v[CAPACITY_CPU] += a.v[CAPACITY_CPU];
                sum.v[CAPACITY_MEMORY] += a.v[CAPACITY_MEMORY];
        }
        json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
                CapacityAmounts a;
                amounts_from_list(json_object_get(json_object_get(c, "resources"), "requests"), &a);
                init.v[CAPACITY_CPU] = fmax(init.v[CAPACITY_CPU], a.v[CAPACITY_CPU]);
                init.v[CAPACITY_MEMORY] = fmax(init.v[CAPACITY_MEMORY], a.v[CAPACITY_MEMORY]);
        }
        ret->v[CAPACITY_CPU] = fmax(sum.v[CAPACITY_CPU], init.v[CAPACITY_CPU]);
        ret->v[CAPACITY_MEMORY] = fmax(sum.v[CAPACITY_MEMORY], init.v[CAPACITY_MEMORY]);
        ret->v[CAPACITY_PODS] = 1;
}

bool capacity_node_schedulable(json_t *node)
{
        json_t *spec = json_object_get(node, "spec"), *t, *cond;
        bool ready = false;
        size_t i;

        if (json_is_true(json_object_get(spec, "unschedulable")))
                return false;
        json_array_foreach(json_object_get(spec, "taints"), i, t) {
                const char *effect = json_string_value(json_object_get(t, "effect"));
                if (streq_ptr(effect, "NoSchedule") || streq_ptr(effect, "NoExecute"))
                        return false;
        }
        json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, cond)
                if (streq_ptr(json_string_value(json_object_get(cond, "type")), "Ready"))
                        ready = streq_ptr(json_string_value(json_object_get(cond, "status")), "True");
        return ready;
}

static json_t *amounts_json(const CapacityAmounts *a)
{
        return json_pack("{s:I, s:I, s:I}", "cpu", (json_int_t) llround(fmax(a->v[CAPACITY_CPU], 0)), "memory",
                         (json_int_t) llround(fmax(a->v[CAPACITY_MEMORY], 0)), "pods",
                         (json_int_t) llround(fmax(a->v[CAPACITY_PODS], 0)));
}

void capacity_format(CapacityResource r, double v, char *buf, size_t n)
{
        static const char *const units[] = { "", "Ki", "Mi", "Gi", "Ti" };
        size_t u = 0;

        v = fmax(v, 0);
        switch (r) {
        case CAPACITY_CPU:
                if (fmod(v, 1000) == 0)
                        snprintf(buf, n, "%.0f", v / 1000);
                else
                        snprintf(buf, n, "%.0fm", v);
                return;
        case CAPACITY_MEMORY:
                while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                        v /= 1024;
                        u++;
                }
                /* One decimal where it says something ("1.5Gi"), none where it would be noise. */
                if (fabs(v - round(v)) < 0.05)
                        snprintf(buf, n, "%.0f%s", v, units[u]);
                else
                        snprintf(buf, n, "%.1f%s", v, units[u]);
                return;
        default:
                snprintf(buf, n, "%.0f", v);
        }
}

static bool is_store_namespace(json_t *store_names, const char *ns)
{
        json_t *name;
        size_t i;

        if (!ns || strncmp(ns, "store-", strlen("store-")) != 0)
                return false;
        json_array_foreach(store_names, i, name)
                if (streq_ptr(json_string_value(name), ns + strlen("store-")))
                        return true;
        return false;
}

int capacity_model(json_t *nodes, json_t *pods, json_t *store_names, const CapacityAmounts *need,
                   const CapacityAmounts *reserved_extra, uint64_t overcommit_percent, json_t **ret,
                   char **ret_reason)
{
        _cleanup_(json_decrefp) json_t *node_list = json_array(), *model = NULL;
        CapacityAmounts alloc = {}, other = {}, reserved = {}, free_ = {};
        size_t n_stores = json_array_size(store_names), i;
        double fit = INFINITY;
        int short_of = -1;
        json_t *node, *pod;

        assert(need);
        assert(ret);
        if (!node_list)
                return -ENOMEM;

        json_array_foreach(json_object_get(nodes, "items"), i, node) {
                const char *name = json_string_value(json_object_get(json_object_get(node, "metadata"), "name"));
                bool schedulable = capacity_node_schedulable(node);
                CapacityAmounts a, requested = {};
                size_t k;

                amounts_from_list(json_object_get(json_object_get(node, "status"), "allocatable"), &a);
                json_array_foreach(json_object_get(pods, "items"), k, pod) {
                        const char *on = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
                        const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
                        const char *ns = json_string_value(
                                json_object_get(json_object_get(pod, "metadata"), "namespace"));
                        CapacityAmounts pr;

                        if (!streq_ptr(on, name) || streq_ptr(phase, "Succeeded") || streq_ptr(phase, "Failed"))
                                continue;
                        capacity_pod_requests(pod, &pr);
                        for (int r = 0; r < _CAPACITY_RESOURCE_MAX; r++) {
                                requested.v[r] += pr.v[r];
                                /* An active store's pods are inside its reservation, counted below. */
                                if (schedulable && !is_store_namespace(store_names, ns))
                                        other.v[r] += pr.v[r];
                        }
                }
                if (schedulable)
                        for (int r = 0; r < _CAPACITY_RESOURCE_MAX; r++)
                                alloc.v[r] += a.v[r] * (double) overcommit_percent / 100.0;
                if (json_array_append_new(node_list,
                                          json_pack("{s:s, s:b, s:o, s:o}", "name", strna(name), "schedulable",
                                                    schedulable, "allocatable", amounts_json(&a), "requested",
                                                    amounts_json(&requested))) < 0)
                        return -ENOMEM;
        }

        for (int r = 0; r < _CAPACITY_RESOURCE_MAX; r++) {
                double extra = reserved_extra ? reserved_extra->v[r] : 0;
                reserved.v[r] = fmax(need->v[r] * (double) n_stores + extra, 0);
                free_.v[r] = fmax(alloc.v[r] - other.v[r] - reserved.v[r], 0);
                if (need->v[r] > 0) {
                        double f = floor(free_.v[r] / need->v[r]);
                        if (f < fit)
                                fit = f;
                        if (free_.v[r] < need->v[r] && short_of < 0)
                                short_of = r;
                }
        }
        if (isinf(fit))
                fit = 0;

        model = json_pack("{s:b, s:b, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:I, s:O}", "known", 1, "fits", short_of < 0,
                          "stores_that_fit", (json_int_t) fit, "overcommit_percent", (json_int_t) overcommit_percent,
                          "store_needs", amounts_json(need), "allocatable", amounts_json(&alloc),
                          "used_by_other_pods", amounts_json(&other), "reserved_by_stores", amounts_json(&reserved),
                          "free", amounts_json(&free_), "active_stores", (json_int_t) n_stores, "nodes", node_list);
        if (!model)
                return -ENOMEM;

        if (ret_reason && short_of >= 0) {
                char needs[32], has[32];
                capacity_format(short_of, need->v[short_of], needs, sizeof needs);
                capacity_format(short_of, free_.v[short_of], has, sizeof has);
                if (asprintf(ret_reason,
                             "The cluster has no room for another store: a store needs %s %s, %s is free on the "
                             "schedulable nodes. Delete a store, add a node, or raise "
                             "stores.capacity.overcommit_percent.",
                             needs, short_of == CAPACITY_PODS ? "pods" : resource_names[short_of], has) < 0)
                        return -ENOMEM;
        } else if (ret_reason)
                *ret_reason = NULL;
        *ret = TAKE_PTR(model);
        return 0;
}
