/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * How much room the cluster has for stores, read from it now: the schedulable nodes' allocatable,
 * what the pods placed on them request, and what every active store reserves (its ResourceQuota's
 * requests, the most its pods may ask for). A new store is admitted when what is free covers its
 * quota in every resource.
 */

#include <jansson.h>
#include <stdbool.h>

#include "provision/settings.h"

typedef enum CapacityResource {
        CAPACITY_CPU,    /* millicores */
        CAPACITY_MEMORY, /* bytes */
        CAPACITY_PODS,
        _CAPACITY_RESOURCE_MAX,
} CapacityResource;

const char *capacity_resource_to_string(CapacityResource r);

typedef struct CapacityAmounts {
        double v[_CAPACITY_RESOURCE_MAX];
} CapacityAmounts;

/* A store's reservation: its quota's requests.cpu, requests.memory and pods. -EINVAL for a quantity that does
 * not parse. */
int capacity_store_needs(const ProvisionSettings *set, CapacityAmounts *ret);

/* The documents of `helm template` output as JSON objects (scalars as strings). */
int capacity_parse_manifests(const char *text, json_t **ret);
/* What the pods of those manifests request together: Deployments and StatefulSets times their replicas, Jobs
 * times their parallelism, Pods; a container that names no request gets limit_range's defaultRequest. */
int capacity_manifests_needs(json_t *docs, json_t *limit_range, CapacityAmounts *ret);

/* A pod's requests: its containers' summed, or its largest init container's where that is more. */
void capacity_pod_requests(json_t *pod, CapacityAmounts *ret);

/* Whether a node takes new pods: not cordoned, no NoSchedule/NoExecute taint, Ready. */
bool capacity_node_schedulable(json_t *node);

/*
 * The model from a NodeList, a PodList and the names of the active stores ("store-<name>" is each one's
 * namespace): {"known": true, "fits": bool, "stores_that_fit": n, "overcommit_percent": p,
 * "store_needs": {...}, "allocatable": {...}, "used_by_other_pods": {...}, "reserved_by_stores": {...},
 * "free": {...}, "active_stores": n, "nodes": [{name, schedulable, allocatable, requested, pods}]}, each
 * {...} being {"cpu": millicores, "memory": bytes, "pods": n}. When it does not fit, *ret_reason (may be
 * NULL) says which resource, what a store needs and what is free. reserved_extra (may be NULL) is what the
 * stores that run (or upgrade to) another chart version reserve beyond `need` each.
 */
int capacity_model(json_t *nodes, json_t *pods, json_t *store_names, const CapacityAmounts *need,
                   const CapacityAmounts *reserved_extra, uint64_t overcommit_percent, json_t **ret,
                   char **ret_reason);

/* "768Mi", "1.5Gi"; "250m", "2" (CPU); pods as a number. */
void capacity_format(CapacityResource r, double v, char *buf, size_t n);
