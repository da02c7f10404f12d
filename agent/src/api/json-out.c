/* SPDX-License-Identifier: Apache-2.0 */

/* Compact JSON text, as json_dumps(JSON_COMPACT) writes it; see json-out.h for why. */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json-out.h"
#include "basic/macro.h"

typedef struct Out {
        char *buf;
        size_t len, size;
} Out;

static int out_reserve(Out *o, size_t n)
{
        size_t want;
        char *p;

        if (o->size - o->len >= n)
                return 0;
        want = MAX(o->size * 2, o->len + n + 1024);
        p = realloc(o->buf, want);
        if (!p)
                return -ENOMEM;
        o->buf = p;
        o->size = want;
        return 0;
}

static int out_put(Out *o, const char *s, size_t n)
{
        if (out_reserve(o, n) < 0)
                return -ENOMEM;
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        return 0;
}

static int out_string(Out *o, const char *s, size_t n)
{
        /* Worst case every byte becomes \u00XX. */
        if (out_reserve(o, n * 6 + 2) < 0)
                return -ENOMEM;
        char *w = o->buf + o->len;

        *w++ = '"';
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];

                /* jansson's strings are valid UTF-8; it escapes only these, and writes the rest as they are. */
                if (c >= 0x20 && c != '"' && c != '\\') {
                        *w++ = (char) c;
                        continue;
                }
                *w++ = '\\';
                switch (c) {
                case '"': *w++ = '"'; break;
                case '\\': *w++ = '\\'; break;
                case '\b': *w++ = 'b'; break;
                case '\f': *w++ = 'f'; break;
                case '\n': *w++ = 'n'; break;
                case '\r': *w++ = 'r'; break;
                case '\t': *w++ = 't'; break;
                default: {
                        static const char hex[] = "0123456789ABCDEF";
                        *w++ = 'u';
                        *w++ = '0';
                        *w++ = '0';
                        *w++ = hex[c >> 4];
                        *w++ = hex[c & 0xf];
                }
                }
        }
        *w++ = '"';
        o->len = (size_t) (w - o->buf);
        return 0;
}

static int out_value(Out *o, const json_t *j)
{
        char num[64];
        int k, r;

        switch (json_typeof(j)) {
        case JSON_OBJECT: {
                const char *key;
                json_t *v;
                bool first = true;

                if (out_put(o, "{", 1) < 0)
                        return -ENOMEM;
                /* Insertion order, as jansson (2.8 and later) dumps without JSON_SORT_KEYS. */
                json_object_foreach((json_t *) j, key, v) {
                        if ((!first && out_put(o, ",", 1) < 0) || out_string(o, key, strlen(key)) < 0 ||
                            out_put(o, ":", 1) < 0)
                                return -ENOMEM;
                        r = out_value(o, v);
                        if (r < 0)
                                return r;
                        first = false;
                }
                return out_put(o, "}", 1);
        }
        case JSON_ARRAY: {
                size_t i;
                json_t *v;

                if (out_put(o, "[", 1) < 0)
                        return -ENOMEM;
                json_array_foreach((json_t *) j, i, v) {
                        if (i > 0 && out_put(o, ",", 1) < 0)
                                return -ENOMEM;
                        r = out_value(o, v);
                        if (r < 0)
                                return r;
                }
                return out_put(o, "]", 1);
        }
        case JSON_STRING:
                return out_string(o, json_string_value(j), json_string_length(j));
        case JSON_INTEGER:
                k = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(j));
                return out_put(o, num, (size_t) k);
        case JSON_REAL: {
                double d = json_real_value(j);

                if (!isfinite(d))
                        return -EINVAL;
                /* jansson: 17 significant digits, and a ".0" where that alone would read as an integer. */
                k = snprintf(num, sizeof num, "%.17g", d);
                if (k < 0 || (size_t) k >= sizeof num - 3)
                        return -EINVAL;
                if (!strpbrk(num, ".eE")) {
                        memcpy(num + k, ".0", 3);
                        k += 2;
                }
                /* ... and an exponent without '+' or leading zeros ("1e20", "1e-7"). */
                char *e = strchr(num, 'e');
                if (e) {
                        char *from = e + 1, *to = e + 1;
                        if (*from == '-')
                                from++, to++;
                        else if (*from == '+')
                                from++;
                        while (*from == '0' && from[1] != '\0')
                                from++;
                        memmove(to, from, strlen(from) + 1);
                        k = (int) strlen(num);
                }
                return out_put(o, num, (size_t) k);
        }
        case JSON_TRUE:
                return out_put(o, "true", 4);
        case JSON_FALSE:
                return out_put(o, "false", 5);
        case JSON_NULL:
                return out_put(o, "null", 4);
        }
        return -EINVAL;
}

int json_out_compact(const json_t *j, char **ret, size_t *ret_len)
{
        Out o = {};
        int r;

        assert(j);
        assert(ret);
        assert(ret_len);

        r = out_value(&o, j);
        if (r >= 0)
                r = out_put(&o, "", 1); /* a terminating NUL, not counted */
        if (r < 0) {
                free(o.buf);
                return r;
        }
        *ret = o.buf;
        *ret_len = o.len - 1;
        return 0;
}
