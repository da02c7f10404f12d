/* SPDX-License-Identifier: Apache-2.0 */

#include "core/store.h"
#include "tests.h"

static json_t *pods(void)
{
        return json_pack("[{s:s, s:s, s:[s], s:[]}, {s:s, s:s, s:[s], s:[s]}, {s:s, s:s, s:[s,s], s:[]}]",
                         "pod", "shop-mysql-0", "component", "database", "containers", "mysql", "init_containers",
                         "pod", "shop-setup-x1", "component", "setup", "containers", "setup", "init_containers",
                         "wait-for-db", "pod", "shop-web-abc", "component", "web", "containers", "wordpress",
                         "exporter", "init_containers");
}

/* Without a pod, the web pod and its first container: what a merchant means by "the shop's log". */
TEST(test_default_is_the_web_pod)
{
        _cleanup_(json_decrefp) json_t *p = pods();
        const char *pod = NULL, *container = NULL;

        ASSERT_EQ(store_log_source_find(p, NULL, NULL, &pod, &container), 0);
        CHECK_STREQ(pod, "shop-web-abc");
        CHECK_STREQ(container, "wordpress");
        ASSERT_EQ(store_log_source_find(p, NULL, "exporter", &pod, &container), 0);
        CHECK_STREQ(container, "exporter");
}

/* A named pod, its containers and init containers; nothing that is not the store's. */
TEST(test_named_pod_and_container)
{
        _cleanup_(json_decrefp) json_t *p = pods();
        const char *pod = NULL, *container = NULL;

        ASSERT_EQ(store_log_source_find(p, "shop-setup-x1", NULL, &pod, &container), 0);
        CHECK_STREQ(container, "setup");
        ASSERT_EQ(store_log_source_find(p, "shop-setup-x1", "wait-for-db", &pod, &container), 0);
        CHECK_STREQ(container, "wait-for-db");
        CHECK(store_log_source_find(p, "shop-setup-x1", "mysql", &pod, &container) == -ENOENT);
        CHECK(store_log_source_find(p, "other-store-web", NULL, &pod, &container) == -ENOENT);
        CHECK(store_log_source_find(p, "shop-web", NULL, &pod, &container) == -ENOENT);
}

/* A store without pods (not created yet, or deleted) has no log to pick. */
TEST(test_no_pods)
{
        _cleanup_(json_decrefp) json_t *p = json_array();
        const char *pod = NULL, *container = NULL;

        CHECK(store_log_source_find(p, NULL, NULL, &pod, &container) == -ENOENT);
        CHECK(store_log_source_find(p, "x", NULL, &pod, &container) == -ENOENT);
}

DEFINE_TEST_MAIN(LOG_ERR)
