/* SPDX-License-Identifier: Apache-2.0 */

#include "provision/capacity-model.h"
#include "provision/provision-internal.h"
#include "tests.h"

#define GI (1024.0 * 1024 * 1024)
#define MI (1024.0 * 1024)

static json_t *node(const char *name, const char *memory, bool ready, bool cordoned, const char *taint_effect)
{
        json_t *n = json_pack("{s:{s:s}, s:{s:b}, s:{s:{s:s, s:s, s:s}, s:[{s:s, s:s}]}}", "metadata", "name", name,
                              "spec", "unschedulable", cordoned, "status", "allocatable", "cpu", "4", "memory",
                              memory, "pods", "110", "conditions", "type", "Ready", "status",
                              ready ? "True" : "False");
        if (taint_effect)
                json_object_set_new(json_object_get(n, "spec"), "taints",
                                    json_pack("[{s:s, s:s}]", "key", "k", "effect", taint_effect));
        return n;
}

static json_t *pod(const char *ns, const char *on, const char *memory, const char *phase)
{
        return json_pack("{s:{s:s}, s:{s:s, s:[{s:{s:{s:s, s:s}}}]}, s:{s:s}}", "metadata", "namespace", ns, "spec",
                         "nodeName", on, "containers", "resources", "requests", "cpu", "100m", "memory", memory,
                         "status", "phase", phase);
}

static const CapacityAmounts need = { .v = { [CAPACITY_CPU] = 250, [CAPACITY_MEMORY] = 768 * MI, [CAPACITY_PODS] = 3 } };

TEST(model_counts_schedulable_nodes_only)
{
        _cleanup_(json_decrefp) json_t *nodes = json_pack(
                "{s:[o, o, o, o]}", "items", node("a", "4Gi", true, false, NULL), node("cordoned", "8Gi", true, true, NULL),
                node("tainted", "8Gi", true, false, "NoSchedule"), node("notready", "8Gi", false, false, NULL));
        _cleanup_(json_decrefp) json_t *pods = json_pack(
                "{s:[o, o, o, o]}", "items", pod("kube-system", "a", "512Mi", "Running"),
                pod("store-shop", "a", "768Mi", "Running"), pod("kube-system", "cordoned", "4Gi", "Running"),
                pod("default", "a", "1Gi", "Succeeded"));
        _cleanup_(json_decrefp) json_t *names = json_pack("[s]", "shop");
        _cleanup_(json_decrefp) json_t *m = NULL;
        _cleanup_free_ char *why = NULL;
        json_t *free_;

        ASSERT_TRUE(capacity_model(nodes, pods, names, &need, NULL, 100, &m, &why) == 0);
        ASSERT_TRUE(json_is_true(json_object_get(m, "fits")));
        ASSERT_TRUE(!(why));
        /* 4Gi allocatable - 512Mi of another pod - 768Mi reserved by the one store (its pod is inside it). */
        free_ = json_object_get(m, "free");
        ASSERT_EQ(json_integer_value(json_object_get(free_, "memory")), (json_int_t) (4 * GI - 512 * MI - 768 * MI));
        ASSERT_EQ(json_integer_value(json_object_get(m, "stores_that_fit")), 3);
        ASSERT_EQ(json_array_size(json_object_get(m, "nodes")), 4u);
        ASSERT_TRUE(json_is_false(json_object_get(json_array_get(json_object_get(m, "nodes"), 1), "schedulable")));
}

TEST(model_refuses_with_resource_need_and_free)
{
        _cleanup_(json_decrefp) json_t *nodes = json_pack("{s:[o]}", "items", node("a", "2Gi", true, false, NULL));
        _cleanup_(json_decrefp) json_t *pods = json_pack("{s:[]}", "items");
        _cleanup_(json_decrefp) json_t *names = json_pack("[s, s]", "one", "two");
        _cleanup_(json_decrefp) json_t *m = NULL, *m2 = NULL;
        _cleanup_free_ char *why = NULL, *why2 = NULL;

        ASSERT_TRUE(capacity_model(nodes, pods, names, &need, NULL, 100, &m, &why) == 0);
        ASSERT_TRUE(json_is_false(json_object_get(m, "fits")));
        ASSERT_EQ(json_integer_value(json_object_get(m, "stores_that_fit")), 0);
        ASSERT_TRUE(why);
        ASSERT_CONTAINS(why, "a store needs 768Mi memory, 512Mi is free");
        ASSERT_CONTAINS(why, "add a node");

        /* Twice the allocatable counts as room: the third store fits. */
        ASSERT_TRUE(capacity_model(nodes, pods, names, &need, NULL, 200, &m2, &why2) == 0);
        ASSERT_TRUE(json_is_true(json_object_get(m2, "fits")));
        ASSERT_TRUE(!(why2));
}

TEST(pod_requests_take_the_larger_of_containers_and_init)
{
        _cleanup_(json_decrefp) json_t *p = json_pack(
                "{s:{s:[{s:{s:{s:s}}}, {s:{s:{s:s}}}], s:[{s:{s:{s:s, s:s}}}]}}", "spec", "containers", "resources",
                "requests", "memory", "100Mi", "resources", "requests", "memory", "100Mi", "initContainers",
                "resources", "requests", "memory", "300Mi", "cpu", "1");
        CapacityAmounts a;

        capacity_pod_requests(p, &a);
        ASSERT_TRUE(a.v[CAPACITY_MEMORY] == 300 * MI);
        ASSERT_TRUE(a.v[CAPACITY_CPU] == 1000);
        ASSERT_TRUE(a.v[CAPACITY_PODS] == 1);
}

TEST(manifests_needs_from_rendered_chart)
{
        const char *yaml = "---\n# Source: x\napiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 2\n"
                           "  template:\n    spec:\n      containers:\n      - name: web\n        resources:\n"
                           "          requests: {cpu: 100m, memory: 256Mi}\n"
                           "---\napiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers:\n"
                           "      - name: setup\n"
                           "---\napiVersion: v1\nkind: Service\nspec: {type: ClusterIP}\n";
        _cleanup_(json_decrefp) json_t *docs = NULL;
        _cleanup_(json_decrefp) json_t *lr = json_pack("{s:{s:[{s:s, s:{s:s, s:s}}]}}", "spec", "limits", "type",
                                                       "Container", "defaultRequest", "cpu", "50m", "memory", "64Mi");
        CapacityAmounts a;

        ASSERT_TRUE(capacity_parse_manifests(yaml, &docs) == 0);
        ASSERT_EQ(json_array_size(docs), 3u);
        ASSERT_TRUE(capacity_manifests_needs(docs, lr, &a) == 0);
        /* Two web pods, and the Job's pod with the LimitRange's default request. */
        ASSERT_TRUE(a.v[CAPACITY_MEMORY] == 2 * 256 * MI + 64 * MI);
        ASSERT_TRUE(a.v[CAPACITY_CPU] == 250);
        ASSERT_TRUE(a.v[CAPACITY_PODS] == 3);
        ASSERT_TRUE(capacity_parse_manifests("a: [", &docs) < 0);
}

TEST(format)
{
        char b[32];

        capacity_format(CAPACITY_MEMORY, 768 * MI, b, sizeof b);
        ASSERT_STREQ(b, "768Mi");
        capacity_format(CAPACITY_MEMORY, 1.5 * GI, b, sizeof b);
        ASSERT_STREQ(b, "1.5Gi");
        capacity_format(CAPACITY_CPU, 250, b, sizeof b);
        ASSERT_STREQ(b, "250m");
        capacity_format(CAPACITY_CPU, 4000, b, sizeof b);
        ASSERT_STREQ(b, "4");
        capacity_format(CAPACITY_MEMORY, -5, b, sizeof b);
        ASSERT_STREQ(b, "0");
}

TEST(stuck_pods)
{
        _cleanup_(json_decrefp) json_t *unsched = json_pack(
                "{s:{s:s}, s:{s:[{s:s, s:s, s:s, s:s}]}}", "metadata", "name", "web", "status", "conditions", "type",
                "PodScheduled", "status", "False", "reason", "Unschedulable", "message",
                "0/1 nodes are available: 1 Insufficient memory.");
        _cleanup_(json_decrefp) json_t *pull = json_pack(
                "{s:{s:s}, s:{s:[{s:{s:{s:s, s:s}}}]}}", "metadata", "name", "db", "status", "containerStatuses", "state",
                "waiting", "reason", "ImagePullBackOff", "message", "Back-off pulling image \"mysql:none\"");
        _cleanup_(json_decrefp) json_t *follows = json_pack(
                "{s:{s:s}, s:{s:[{s:s, s:s, s:s, s:s}]}}", "metadata", "name", "setup", "status", "conditions", "type",
                "PodScheduled", "status", "False", "reason", "Unschedulable", "message",
                "0/1 nodes are available: 1 node(s) didn't match pod affinity rules. preemption: 0/1 nodes are "
                "available: 1 Preemption is not helpful for scheduling.");
        _cleanup_(json_decrefp) json_t *follows_full = json_pack(
                "{s:{s:s}, s:{s:[{s:s, s:s, s:s, s:s}]}}", "metadata", "name", "setup", "status", "conditions", "type",
                "PodScheduled", "status", "False", "reason", "Unschedulable", "message",
                "0/2 nodes are available: 1 Insufficient memory, 1 node(s) didn't match pod affinity rules.");
        _cleanup_(json_decrefp) json_t *fine = json_pack("{s:{s:s}, s:{s:s}}", "metadata", "name", "ok", "status",
                                                         "phase", "Pending");
        char b[512];

        ASSERT_STREQ(pod_stuck_reason(unsched, b, sizeof b),
                     "Pod web cannot be scheduled: 0/1 nodes are available: 1 Insufficient memory.");
        ASSERT_STREQ(pod_stuck_reason(pull, b, sizeof b),
                     "Pod db cannot pull its image (ImagePullBackOff): Back-off pulling image \"mysql:none\"");
        ASSERT_TRUE(!(pod_stuck_reason(fine, b, sizeof b)));
        /* Waiting for the pod it follows (the setup Job's affinity to the web pod) is not stuck; with too little
         * room besides, it is. */
        ASSERT_TRUE(!(pod_stuck_reason(follows, b, sizeof b)));
        ASSERT_TRUE(!!pod_stuck_reason(follows_full, b, sizeof b));
}

DEFINE_TEST_MAIN(LOG_ERR);
