/* SPDX-License-Identifier: Apache-2.0 */

#include "api/ratelimit.h"
#include "tests.h"

#define SEC USEC_PER_SEC

TEST(test_window)
{
        _cleanup_(ratelimit_freep) RateLimiter *rl = NULL;
        uint64_t retry = 0, used = 0, t0 = 1000 * SEC;

        ASSERT_EQ(ratelimit_new(&rl, 3, 900 * SEC), 0);
        ASSERT_TRUE(ratelimit_hit(rl, "a", t0, &retry, &used));
        ASSERT_EQ(used, 1);
        ASSERT_TRUE(ratelimit_hit(rl, "a", t0 + 10 * SEC, &retry, &used));
        ASSERT_TRUE(ratelimit_hit(rl, "a", t0 + 20 * SEC, &retry, &used));
        ASSERT_EQ(used, 3);
        /* The fourth request in the window is refused until the window (opened at t0) closes. */
        ASSERT_TRUE(!ratelimit_hit(rl, "a", t0 + 30 * SEC, &retry, &used));
        ASSERT_EQ(retry, 870);
        /* Refusals count: the first one of a window is limit + 1, so it alone is audited. */
        ASSERT_EQ(used, 4);
        ASSERT_TRUE(!ratelimit_hit(rl, "a", t0 + 899 * SEC + 1, &retry, &used));
        ASSERT_EQ(retry, 1);
        ASSERT_EQ(used, 5);
        /* Other clients have their own windows. */
        ASSERT_TRUE(ratelimit_hit(rl, "b", t0 + 30 * SEC, NULL, NULL));
        ASSERT_EQ(ratelimit_used(rl, "b", t0 + 31 * SEC), 1);
        /* A new window opens at the first request after the old one closed. */
        ASSERT_TRUE(ratelimit_hit(rl, "a", t0 + 900 * SEC, &retry, &used));
        ASSERT_EQ(used, 1);
        ASSERT_EQ(ratelimit_used(rl, "a", t0 + 1800 * SEC), 0);
}

TEST(test_retry_rounds_up)
{
        _cleanup_(ratelimit_freep) RateLimiter *rl = NULL;
        uint64_t retry = 0;

        ASSERT_EQ(ratelimit_new(&rl, 1, 60 * SEC), 0);
        ASSERT_TRUE(ratelimit_hit(rl, "x", 0 + 5, NULL, NULL));
        ASSERT_TRUE(!ratelimit_hit(rl, "x", 500 * USEC_PER_MSEC, &retry, NULL));
        ASSERT_EQ(retry, 60); /* 59.5 s left rounds up */
}

TEST(test_reconfigure_and_sweep)
{
        _cleanup_(ratelimit_freep) RateLimiter *rl = NULL;
        char key[32];

        ASSERT_EQ(ratelimit_new(&rl, 2, 10 * SEC), 0);
        for (int i = 0; i < 5000; i++) {
                snprintf(key, sizeof key, "client-%d", i);
                ASSERT_TRUE(ratelimit_hit(rl, key, (uint64_t) i, NULL, NULL));
        }
        ratelimit_configure(rl, 1, 10 * SEC);
        ASSERT_TRUE(!ratelimit_hit(rl, "client-4999", 6000, NULL, NULL));
        /* Long after, old buckets are swept and everyone starts fresh. */
        ASSERT_TRUE(ratelimit_hit(rl, "client-4999", 100 * SEC, NULL, NULL));
        ASSERT_EQ(ratelimit_used(rl, "client-1", 100 * SEC), 0);
}

DEFINE_TEST_MAIN(LOG_ERR)
