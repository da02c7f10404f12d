/* SPDX-License-Identifier: Apache-2.0 */

#include <stdint.h>

#include "basic/utf8.h"

typedef enum Utf8Char {
        UTF8_CHAR_VALID,
        UTF8_CHAR_INVALID,
        UTF8_CHAR_CUT, /* a valid start that ends (the string, or the room for it) too early */
} Utf8Char;

/*
 * Classifies the character at p, of which at most avail bytes may be looked at. *ret_len is
 * its length when valid, otherwise the length of the bad run (the lead byte and the
 * continuation bytes that still fitted it), which one U+FFFD replaces. The ranges are those
 * of Unicode's table 3-7, so overlong forms, surrogates and code points past U+10FFFF are
 * invalid, as jansson has them.
 */
static Utf8Char utf8_char(const uint8_t *p, size_t avail, size_t *ret_len)
{
        uint8_t c = p[0], lo = 0x80, hi = 0xbf;
        size_t n;

        *ret_len = 1;
        if (c < 0x80)
                return UTF8_CHAR_VALID;
        if (c >= 0xc2 && c <= 0xdf)
                n = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                n = 3;
                if (c == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (c == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
                n = 4;
                if (c == 0xf0)
                        lo = 0x90; /* overlong */
                else if (c == 0xf4)
                        hi = 0x8f; /* past U+10FFFF */
        } else
                return UTF8_CHAR_INVALID;

        for (size_t i = 1; i < n; i++) {
                if (i >= avail || p[i] == '\0')
                        return UTF8_CHAR_CUT;
                if (p[i] < lo || p[i] > hi)
                        return UTF8_CHAR_INVALID;
                lo = 0x80;
                hi = 0xbf;
                *ret_len = i + 1;
        }
        *ret_len = n;
        return UTF8_CHAR_VALID;
}

size_t utf8_prefix_len(const char *s, size_t max)
{
        size_t i = 0, n;

        assert(s);
        while (i < max && s[i] != '\0') {
                Utf8Char k = utf8_char((const uint8_t *) s + i, max - i, &n);
                if (k == UTF8_CHAR_CUT)
                        break;
                i += k == UTF8_CHAR_VALID ? n : 1;
        }
        return i;
}

const char *utf8_suffix(const char *s, size_t max)
{
        size_t n;

        assert(s);
        n = strlen(s);
        if (n <= max)
                return s;
        s += n - max;
        /* At most three continuation bytes follow a lead byte; more are invalid, and start nothing. */
        for (unsigned i = 0; i < 3 && ((uint8_t) *s & 0xc0) == 0x80; i++)
                s++;
        return s;
}

char *utf8_truncate(char *s, size_t max)
{
        assert(s);
        s[utf8_prefix_len(s, max)] = '\0';
        return s;
}

char *utf8_snprintf(char *buf, size_t n, const char *format, ...)
{
        va_list ap;
        int r;

        assert(buf);
        assert(n > 0);
        va_start(ap, format);
        r = vsnprintf(buf, n, format, ap);
        va_end(ap);
        if (r < 0)
                buf[0] = '\0';
        else if ((size_t) r >= n)
                utf8_truncate(buf, n - 1);
        return buf;
}

bool utf8_is_valid(const char *s)
{
        size_t n;

        assert(s);
        for (const uint8_t *p = (const uint8_t *) s; *p; p += n)
                if (utf8_char(p, SIZE_MAX, &n) != UTF8_CHAR_VALID)
                        return false;
        return true;
}

char *utf8_escape_invalid(const char *s)
{
        size_t len, n;
        char *ret, *o;

        assert(s);
        len = strlen(s);
        /* Each bad byte grows to at most three. */
        ret = malloc(len * 3 + 1);
        if (!ret)
                return NULL;
        o = ret;
        for (const uint8_t *p = (const uint8_t *) s; *p; p += n) {
                if (utf8_char(p, SIZE_MAX, &n) == UTF8_CHAR_VALID)
                        o = mempcpy(o, p, n);
                else
                        o = mempcpy(o, UTF8_REPLACEMENT, strlen(UTF8_REPLACEMENT));
        }
        *o = '\0';
        return ret;
}

char *utf8_strndup_valid(const char *s, size_t max)
{
        char *ret;

        assert(s);
        ret = utf8_escape_invalid(s);
        return ret ? utf8_truncate(ret, max) : NULL;
}
