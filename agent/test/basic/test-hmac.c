/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/hmac.h"
#include "tests.h"

/* RFC 4231, section 4: the HMAC-SHA-256 of each test case (case 5 checks truncated output, left out). */

static void check(const void *key, size_t key_len, const void *data, size_t n, const char *expected)
{
        char hex[65];

        ASSERT_EQ(hmac_sha256_hex(key, key_len, data, n, hex), 0);
        ASSERT_STREQ(hex, expected);
}

static void repeat(uint8_t *buf, uint8_t byte, size_t n)
{
        memset(buf, byte, n);
}

TEST(test_rfc4231_case1)
{
        uint8_t key[20];

        repeat(key, 0x0b, sizeof key);
        check(key, sizeof key, "Hi There", 8, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(test_rfc4231_case2)
{
        check("Jefe", 4, "what do ya want for nothing?", 28,
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(test_rfc4231_case3)
{
        uint8_t key[20], data[50];

        repeat(key, 0xaa, sizeof key);
        repeat(data, 0xdd, sizeof data);
        check(key, sizeof key, data, sizeof data, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
}

TEST(test_rfc4231_case4)
{
        uint8_t key[25], data[50];

        for (size_t i = 0; i < sizeof key; i++)
                key[i] = (uint8_t) (i + 1);
        repeat(data, 0xcd, sizeof data);
        check(key, sizeof key, data, sizeof data, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
}

TEST(test_rfc4231_case6)
{
        static const char data[] = "Test Using Larger Than Block-Size Key - Hash Key First";
        uint8_t key[131];

        repeat(key, 0xaa, sizeof key);
        check(key, sizeof key, data, strlen(data), "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(test_rfc4231_case7)
{
        static const char data[] = "This is a test using a larger than block-size key and a larger than block-size "
                                   "data. The key needs to be hashed before being used by the HMAC algorithm.";
        uint8_t key[131];

        repeat(key, 0xaa, sizeof key);
        check(key, sizeof key, data, strlen(data), "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(test_empty)
{
        /* HMAC-SHA256 with an empty key of an empty message, as Python's hmac module computes it. */
        check("", 0, "", 0, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

DEFINE_TEST_MAIN(LOG_ERR)
