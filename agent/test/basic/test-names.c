/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/names.h"
#include "tests.h"

TEST(test_store_names)
{
        const char *why = NULL;

        ASSERT_EQ(store_name_validate("shop1", NULL), 0);
        ASSERT_EQ(store_name_validate("a", NULL), 0);
        ASSERT_EQ(store_name_validate("my-shop-2", NULL), 0);
        ASSERT_EQ(store_name_validate("abcdefghijabcdefghijabcdefghijabcdefghij", NULL), 0); /* 40 */

        ASSERT_EQ(store_name_validate("", &why), -EINVAL);
        ASSERT_CONTAINS(why, "empty");
        ASSERT_EQ(store_name_validate(NULL, &why), -EINVAL);
        ASSERT_EQ(store_name_validate("abcdefghijabcdefghijabcdefghijabcdefghijk", &why), -EINVAL); /* 41 */
        ASSERT_CONTAINS(why, "at most 40");
        ASSERT_EQ(store_name_validate("Shop", &why), -EINVAL);
        ASSERT_CONTAINS(why, "start with a lowercase letter");
        ASSERT_EQ(store_name_validate("1shop", &why), -EINVAL);
        ASSERT_EQ(store_name_validate("-shop", &why), -EINVAL);
        ASSERT_EQ(store_name_validate("shop-", &why), -EINVAL);
        ASSERT_CONTAINS(why, "end with");
        ASSERT_EQ(store_name_validate("sh_op", &why), -EINVAL);
        ASSERT_CONTAINS(why, "only lowercase letters");
        ASSERT_EQ(store_name_validate("shop.one", &why), -EINVAL);
        ASSERT_EQ(store_name_validate("shop one", &why), -EINVAL);
        ASSERT_EQ(store_name_validate("shöp", &why), -EINVAL);
}

TEST(test_chart_versions)
{
        ASSERT_TRUE(chart_version_is_valid("0.1.0"));
        ASSERT_TRUE(chart_version_is_valid("10.20.30"));
        ASSERT_TRUE(chart_version_is_valid("1.0.0-rc.1"));
        ASSERT_TRUE(!chart_version_is_valid(""));
        ASSERT_TRUE(!chart_version_is_valid("1.0"));
        ASSERT_TRUE(!chart_version_is_valid("1.0.0.0"));
        ASSERT_TRUE(!chart_version_is_valid("v1.0.0"));
        ASSERT_TRUE(!chart_version_is_valid("1.0.0-"));
        ASSERT_TRUE(!chart_version_is_valid("1.0.0/../x"));
        ASSERT_TRUE(!chart_version_is_valid("1.0.0-a b"));
}

TEST(test_object_names)
{
        const char *good[] = { "a", "letsencrypt-prod", "ca.shops.example", "0x", "a-b.c-d" };
        const char *bad[] = { "", "A", "-a", "a-", ".a", "a.", "a..b", "a-.b", "a.-b", "a_b", "a b" };
        char long_name[255];

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                CHECK(object_name_is_valid(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                CHECK(!object_name_is_valid(bad[i]));
        memset(long_name, 'a', sizeof long_name - 1);
        long_name[253] = '\0';
        CHECK(object_name_is_valid(long_name));
        long_name[253] = 'a';
        long_name[254] = '\0';
        CHECK(!object_name_is_valid(long_name));
}

/* A host is listed by its name in any case, also where the list writes it fully qualified; a name is
 * matched whole, never as a prefix or a part of one entry. */
TEST(test_host_name_listed)
{
        const char *list = "agent.example.com Shop-Admin.example.org fqdn.example.net.";

        ASSERT_TRUE(host_name_listed(list, "agent.example.com", strlen("agent.example.com")));
        ASSERT_TRUE(host_name_listed(list, "shop-admin.EXAMPLE.org", strlen("shop-admin.example.org")));
        ASSERT_TRUE(host_name_listed(list, "fqdn.example.net", strlen("fqdn.example.net")));
        /* len bounds the name: a Host with its port cut off. */
        ASSERT_TRUE(host_name_listed(list, "agent.example.com:8080", strlen("agent.example.com")));
        ASSERT_TRUE(!host_name_listed(list, "agent.example", strlen("agent.example")));
        ASSERT_TRUE(!host_name_listed(list, "agent.example.com.evil", strlen("agent.example.com.evil")));
        ASSERT_TRUE(!host_name_listed(list, "example.com", strlen("example.com")));
        ASSERT_TRUE(!host_name_listed(list, "fqdn.example.net.", strlen("fqdn.example.net.")));
        ASSERT_TRUE(!host_name_listed(list, "", 0));
        ASSERT_TRUE(!host_name_listed("", "agent.example.com", strlen("agent.example.com")));
        ASSERT_TRUE(!host_name_listed(NULL, "agent.example.com", strlen("agent.example.com")));
        ASSERT_TRUE(host_name_listed("  a.example   b.example ", "b.example", strlen("b.example")));
        ASSERT_TRUE(!host_name_listed("  a.example   b.example ", "", 0));
}

DEFINE_TEST_MAIN(LOG_ERR)
