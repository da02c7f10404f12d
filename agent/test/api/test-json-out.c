/* SPDX-License-Identifier: Apache-2.0 */

#include <string.h>

#include "api/json-out.h"
#include "tests.h"

/* The text must be jansson's own, byte for byte: clients and tests saw that before. */
static void assert_as_jansson(json_t *j)
{
        _cleanup_free_ char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY), *have = NULL;
        size_t len = 0;

        ASSERT_TRUE(want);
        ASSERT_EQ(json_out_compact(j, &have, &len), 0);
        ASSERT_STREQ(have, want);
        ASSERT_EQ(len, strlen(want));
        json_decref(j);
}

TEST(test_same_as_jansson)
{
        assert_as_jansson(json_object());
        assert_as_jansson(json_array());
        assert_as_jansson(json_pack("{s:s, s:i, s:n, s:b, s:b, s:[i, s, {}], s:{s:I}}", "b", "x", "a", -42, "n", "t",
                                    1, "f", 0, "list", 1, "two", "o", "big", (json_int_t) INT64_MIN));
        /* Escapes: quotes, backslash, every control character, and UTF-8 (kept as it is), slash kept. */
        char ctl[40];
        for (int i = 0; i < 32; i++)
                ctl[i] = (char) (i + 1 == 32 ? 0x1f : i + 1);
        ctl[31] = '\0';
        assert_as_jansson(json_pack("{s:s, s:s, s:s, s:s}", "q\"k\\", "a \"quoted\" \\ path/to", "ctl", ctl, "utf8",
                                    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9b\x92 \xe2\x80\xa8", "del", "\x7f"));
        assert_as_jansson(json_stringn("nul\0inside", 10));
        /* Reals: digits, the ".0" of an integral value, exponents as jansson spells them. */
        assert_as_jansson(json_pack("[f, f, f, f, f, f, f]", 0.1, 3.0, -2.5, 1e20, 1.5e-7, 123456789012345678.0,
                                    1e300));
}

DEFINE_TEST_MAIN(LOG_INFO)
