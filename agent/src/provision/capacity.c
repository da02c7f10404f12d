/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The capacity model (pure, from the objects the API server lists) and the provisioner's answers built on
 * it: the admission of a new store and what GET /api/v1/platform and /metrics show.
 */

#include <math.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/error.h"
#include "provision/capacity.h"
#include "provision/provision-internal.h"

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
                   uint64_t overcommit_percent, json_t **ret, char **ret_reason)
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
                reserved.v[r] = need->v[r] * (double) n_stores;
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

/* ---- the provisioner's answers ---- */

/* Reads the model now. The caller holds capacity_lock. */
static int read_model(Provisioner *p, Db *db, json_t **ret, char **ret_reason)
{
        _cleanup_(json_decrefp) json_t *nodes = NULL, *pods = NULL, *names = NULL;
        _cleanup_free_ char *kubeconfig = NULL, *error = NULL;
        _cleanup_(settings_done) ProvisionSettings set = {};
        uint64_t generation;
        int r;

        r = settings_copy(p, &set, &generation);
        if (r < 0)
                return r;
        kubeconfig = strdup(set.kubeconfig);
        if (!kubeconfig)
                return -ENOMEM;
        /* The chart is rendered once per configuration: a reload may change the quota, the chart or its values. */
        if (!p->capacity_need_source || p->capacity_need_generation != generation) {
                free(p->capacity_need_source);
                p->capacity_need_source = NULL;
                r = read_store_needs(&set, &p->capacity_need, &p->capacity_need_source);
                if (r < 0)
                        return r;
                if (!p->capacity_need_source)
                        return -ENOMEM;
                p->capacity_need_generation = generation;
        }

        if (p->capacity_client && p->capacity_generation != generation)
                p->capacity_client = kube_client_free(p->capacity_client);
        if (!p->capacity_client) {
                r = make_client(kubeconfig, &p->capacity_client, &error);
                if (r < 0)
                        return r;
                kube_client_set_cancel(p->capacity_client, &p->stopping);
                p->capacity_generation = generation;
        }
        r = kube_list(p->capacity_client, "/api/v1/nodes", NULL, &nodes);
        if (r >= 0)
                /* Only pods that hold room: Pending ones bound to a node too, finished ones not. */
                r = kube_list(p->capacity_client,
                              "/api/v1/pods?fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed", NULL,
                              &pods);
        if (r < 0)
                return r;
        r = store_active_names(db, &names);
        if (r < 0)
                return r;
        r = capacity_model(nodes, pods, names, &p->capacity_need, set.overcommit_percent, ret, ret_reason);
        if (r >= 0)
                json_object_set_new(*ret, "store_needs_from", json_string(p->capacity_need_source));
        return r;
}

int provisioner_admit(Provisioner *p, Db *db, char *reason, size_t reason_len)
{
        _cleanup_(json_decrefp) json_t *model = NULL;
        _cleanup_free_ char *why = NULL;
        int r;

        assert(p);
        assert(db);
        pthread_mutex_lock(&p->capacity_lock);
        r = read_model(p, db, &model, &why);
        pthread_mutex_unlock(&p->capacity_lock);
        if (r < 0) {
                log_warning_errno(r, "Cannot tell whether the cluster has room for a new store, admitting it: %m");
                return r;
        }
        if (!why)
                return 0;
        log_info("New store refused: %s", why);
        snprintf(reason, reason_len, "%s", why);
        return ERROR_NO_CAPACITY;
}

int provisioner_capacity(Provisioner *p, Db *db, bool details, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *model = NULL;
        int r;

        assert(p);
        assert(db);
        assert(ret);
        pthread_mutex_lock(&p->capacity_lock);
        r = read_model(p, db, &model, NULL);
        pthread_mutex_unlock(&p->capacity_lock);
        if (r < 0) {
                char detail[512];
                pthread_mutex_lock(&p->capacity_lock);
                snprintf(detail, sizeof detail, "The nodes and pods could not be read: %s",
                         p->capacity_client ? strna(kube_client_last_error(p->capacity_client)) : strerror(-r));
                pthread_mutex_unlock(&p->capacity_lock);
                *ret = json_pack("{s:b, s:s}", "known", 0, "detail", detail);
                return *ret ? 0 : -ENOMEM;
        }
        if (!details) {
                *ret = json_pack("{s:b, s:O}", "known", 1, "fits", json_object_get(model, "fits"));
                return *ret ? 0 : -ENOMEM;
        }
        *ret = TAKE_PTR(model);
        return 0;
}
