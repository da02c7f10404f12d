/* SPDX-License-Identifier: Apache-2.0 */

#include <math.h>

#include "provision/quota.h"
#include "tests.h"

#define REFUSAL                                                                                              \
        "pods \"shop-mysql-0\" is forbidden: exceeded quota: store-quota, requested: "                      \
        "limits.memory=512Mi,requests.memory=512Mi, used: limits.memory=1792Mi,requests.memory=1792Mi, "     \
        "limited: limits.memory=2Gi,requests.memory=2Gi"

static json_t *quota(const char *hard_memory, const char *used_memory)
{
        return json_pack("{s:{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}}}", "status", "hard", "limits.memory", hard_memory,
                         "requests.memory", hard_memory, "limits.cpu", "2", "used", "limits.memory", used_memory,
                         "requests.memory", used_memory, "limits.cpu", "1500m");
}

TEST(parse_quantity)
{
        double v;

        ASSERT_TRUE(parse_quantity_milli("500m", &v) == 0 && v == 500);
        ASSERT_TRUE(parse_quantity_milli("2", &v) == 0 && v == 2000);
        ASSERT_TRUE(parse_quantity_milli("1.5", &v) == 0 && v == 1500);
        /* metrics.k8s.io gives CPU use in nanocores (and sometimes microcores). */
        ASSERT_TRUE(parse_quantity_milli("250002477n", &v) == 0 && fabs(v - 250.002477) < 1e-6);
        ASSERT_TRUE(parse_quantity_milli("1500u", &v) == 0 && fabs(v - 1.5) < 1e-9);
        ASSERT_TRUE(parse_quantity_milli("512Mi", &v) == 0 && v == 512.0 * 1024 * 1024 * 1000);
        ASSERT_TRUE(parse_quantity_milli("1G", &v) == 0 && v == 1e12);
        ASSERT_TRUE(parse_quantity_milli("", &v) < 0);
        ASSERT_TRUE(parse_quantity_milli("Mi", &v) < 0);
        ASSERT_TRUE(parse_quantity_milli("5Qi", &v) < 0);
        ASSERT_TRUE(parse_quantity_milli(NULL, &v) < 0);
}

TEST(refusal_noted_from_failed_create_only)
{
        QuotaRefusal q = {};

        quota_refusal_note(&q, "uid/1", "FailedScheduling", REFUSAL);
        ASSERT_STREQ(q.seen, "");
        quota_refusal_note(&q, "uid/1", "FailedCreate", "pods \"x\" is forbidden: violates PodSecurity");
        ASSERT_STREQ(q.seen, "");
        quota_refusal_note(&q, "uid/2", "FailedCreate", REFUSAL);
        ASSERT_STREQ(q.seen, "uid/2");
        ASSERT_STREQ(q.requested, "limits.memory=512Mi,requests.memory=512Mi");
}

TEST(quota_admits_what_fits)
{
        _cleanup_(json_decrefp) json_t *stale = quota("2Gi", "1792Mi"), *fixed = quota("2Gi", "1Gi"),
                                       *exact = quota("2Gi", "1536Mi");

        ASSERT_TRUE(!quota_admits(stale, "limits.memory=512Mi,requests.memory=512Mi"));
        ASSERT_TRUE(quota_admits(fixed, "limits.memory=512Mi,requests.memory=512Mi"));
        ASSERT_TRUE(quota_admits(exact, "limits.memory=512Mi,requests.memory=512Mi"));
        /* cpu: 1500m used of 2 */
        ASSERT_TRUE(quota_admits(fixed, "limits.cpu=500m"));
        ASSERT_TRUE(!quota_admits(fixed, "limits.cpu=501m"));
        /* A resource this quota does not limit is another quota's business. */
        ASSERT_TRUE(quota_admits(fixed, "pods=1,limits.memory=1Gi"));
        /* A quantity it cannot read: do not claim it fits. */
        ASSERT_TRUE(!quota_admits(fixed, "limits.memory=lots"));
}

DEFINE_TEST_MAIN(LOG_ERR);
