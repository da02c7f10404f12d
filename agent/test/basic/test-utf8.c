/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/utf8.h"
#include "tests.h"

/* "é" is two bytes, "€" three, "😀" four. */

TEST(test_prefix_len)
{
        ASSERT_EQ(utf8_prefix_len("", 10), 0);
        ASSERT_EQ(utf8_prefix_len("abc", 0), 0);
        ASSERT_EQ(utf8_prefix_len("abc", 2), 2);
        ASSERT_EQ(utf8_prefix_len("abc", 10), 3);
        ASSERT_EQ(utf8_prefix_len("aé", 2), 1);
        ASSERT_EQ(utf8_prefix_len("aé", 3), 3);
        ASSERT_EQ(utf8_prefix_len("€€", 4), 3);
        ASSERT_EQ(utf8_prefix_len("€€", 5), 3);
        ASSERT_EQ(utf8_prefix_len("€€", 6), 6);
        ASSERT_EQ(utf8_prefix_len("x😀", 4), 1);
        ASSERT_EQ(utf8_prefix_len("x😀", 5), 5);
        /* A character the end of the string cuts short (a truncating snprintf) is left out. */
        ASSERT_EQ(utf8_prefix_len("ab\xc3", 10), 2);
        ASSERT_EQ(utf8_prefix_len("ab\xe2\x82", 10), 2);
        ASSERT_EQ(utf8_prefix_len("ab\xf0\x9f\x98", 10), 2);
        /* Invalid bytes are single characters here; utf8_escape_invalid() repairs them. */
        ASSERT_EQ(utf8_prefix_len("a\xff" "b", 2), 2);
        ASSERT_EQ(utf8_prefix_len("a\x80\x80", 10), 3);
}

TEST(test_truncate)
{
        char buf[32];

        strcpy(buf, "caf\xc3\xa9");
        ASSERT_STREQ(utf8_truncate(buf, 4), "caf");
        strcpy(buf, "caf\xc3\xa9");
        ASSERT_STREQ(utf8_truncate(buf, 5), "café");
        strcpy(buf, "caf\xc3\xa9");
        ASSERT_STREQ(utf8_truncate(buf, 100), "café");
        strcpy(buf, "abc");
        ASSERT_STREQ(utf8_truncate(buf, 0), "");
}

TEST(test_suffix)
{
        const char *s = "aéé€";

        ASSERT_STREQ(utf8_suffix(s, 100), s);
        ASSERT_STREQ(utf8_suffix(s, 3), "€");
        ASSERT_STREQ(utf8_suffix(s, 4), "€");
        ASSERT_STREQ(utf8_suffix(s, 5), "é€");
        ASSERT_STREQ(utf8_suffix(s, 2), "");
        ASSERT_STREQ(utf8_suffix("abc", 0), "");
}

TEST(test_prefix_format)
{
        char buf[64];

        xsprintf(buf, "'%.*s'", UTF8_PREFIX("ééé", 5));
        ASSERT_STREQ(buf, "'éé'");
        xsprintf(buf, "'%.*s'", UTF8_PREFIX("abc", 40));
        ASSERT_STREQ(buf, "'abc'");
}

TEST(test_snprintf)
{
        char buf[6];

        /* "x" + "é" + "é" fits in 5 bytes; the third "é" would be cut after one byte. */
        ASSERT_STREQ(utf8_snprintf(buf, sizeof buf, "x%s", "ééé"), "xéé");
        ASSERT_TRUE(utf8_is_valid(buf));
        ASSERT_STREQ(utf8_snprintf(buf, sizeof buf, "%s", "€€"), "€");
        ASSERT_STREQ(utf8_snprintf(buf, sizeof buf, "%d", 42), "42");
        ASSERT_STREQ(utf8_snprintf(buf, 1, "%s", "abc"), "");
}

TEST(test_is_valid)
{
        ASSERT_TRUE(utf8_is_valid(""));
        ASSERT_TRUE(utf8_is_valid("plain"));
        ASSERT_TRUE(utf8_is_valid("café € 😀 \xef\xbf\xbd"));
        ASSERT_TRUE(utf8_is_valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
        ASSERT_TRUE(!utf8_is_valid("\xff"));
        ASSERT_TRUE(!utf8_is_valid("caf\xe9"));           /* Latin-1 */
        ASSERT_TRUE(!utf8_is_valid("\xc3"));              /* cut short */
        ASSERT_TRUE(!utf8_is_valid("\xc0\xaf"));          /* overlong '/' */
        ASSERT_TRUE(!utf8_is_valid("\xe0\x80\xaf"));      /* overlong */
        ASSERT_TRUE(!utf8_is_valid("\xed\xa0\x80"));      /* surrogate U+D800 */
        ASSERT_TRUE(!utf8_is_valid("\xf4\x90\x80\x80"));  /* past U+10FFFF */
        ASSERT_TRUE(!utf8_is_valid("\x80"));              /* a stray continuation byte */
}

TEST(test_escape_invalid)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL;

        ASSERT_STREQ(a = utf8_escape_invalid("café 😀"), "café 😀");
        ASSERT_STREQ(b = utf8_escape_invalid("caf\xe9!"), "caf\xef\xbf\xbd!");
        /* One replacement for the bad run a lead byte starts, as many for stray bytes. */
        ASSERT_STREQ(c = utf8_escape_invalid("a\xe2\x82z\xff\xfe"), "a\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd");
        ASSERT_STREQ(d = utf8_escape_invalid("end\xf0\x9f\x98"), "end\xef\xbf\xbd");
        ASSERT_STREQ(e = utf8_escape_invalid(""), "");
        ASSERT_TRUE(utf8_is_valid(c));
}

TEST(test_strndup_valid)
{
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        ASSERT_STREQ(a = utf8_strndup_valid("x\xff", 3), "x");
        ASSERT_STREQ(b = utf8_strndup_valid("x\xff", 4), "x\xef\xbf\xbd");
        ASSERT_STREQ(c = utf8_strndup_valid("éé", 3), "é");
}

DEFINE_TEST_MAIN(LOG_ERR)
