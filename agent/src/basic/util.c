/* SPDX-License-Identifier: Apache-2.0 */

#include <ctype.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "basic/util.h"

uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

char *format_timestamp(char buf[static 32], uint64_t usec, bool ms)
{
        time_t t = (time_t) (usec / USEC_PER_SEC);
        struct tm tm;

        assert(buf);
        gmtime_r(&t, &tm);
        if (ms) {
                char base[24];
                strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
                xsnprintf(buf, 32, "%s.%03uZ", base, (unsigned) ((usec / USEC_PER_MSEC) % 1000));
        } else
                strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
}

int random_bytes(void *buf, size_t n)
{
        uint8_t *p = buf;

        assert(buf || n == 0);
        while (n > 0) {
                ssize_t k = getrandom(p, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

void hex_encode(const uint8_t *data, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";

        assert(data || n == 0);
        assert(out);
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 15];
        }
        out[2 * n] = '\0';
}

int random_hex(size_t n, char **ret)
{
        _cleanup_free_ uint8_t *b = NULL;
        _cleanup_free_ char *s = NULL;
        int r;

        assert(ret);
        b = malloc(n);
        s = malloc(2 * n + 1);
        if (!b || !s)
                return -ENOMEM;
        r = random_bytes(b, n);
        if (r < 0)
                return r;
        hex_encode(b, n, s);
        explicit_bzero(b, n);
        *ret = TAKE_PTR(s);
        return 0;
}

int random_alnum(size_t n, char **ret)
{
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        _cleanup_free_ char *s = NULL;
        size_t i = 0;

        assert(ret);
        s = malloc(n + 1);
        if (!s)
                return -ENOMEM;
        /* Rejection sampling keeps every character equally likely. */
        while (i < n) {
                uint8_t b[64];
                int r = random_bytes(b, sizeof b);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < sizeof b && i < n; j++)
                        if (b[j] < 248)
                                s[i++] = alphabet[b[j] % 62];
                explicit_bzero(b, sizeof b);
        }
        s[n] = '\0';
        *ret = TAKE_PTR(s);
        return 0;
}

int sha256_hex(const void *data, size_t n, char out[static 65])
{
        uint8_t digest[32];
        int r;

        assert(data || n == 0);
        assert(out);
        r = gnutls_hash_fast(GNUTLS_DIG_SHA256, data, n, digest);
        if (r < 0)
                return -EIO;
        hex_encode(digest, sizeof digest, out);
        return 0;
}

bool memeq_consttime(const void *a, const void *b, size_t n)
{
        const volatile uint8_t *x = a, *y = b;
        uint8_t d = 0;

        assert(a || n == 0);
        assert(b || n == 0);
        for (size_t i = 0; i < n; i++)
                d |= x[i] ^ y[i];
        return d == 0;
}

int safe_atou64(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        assert(ret);
        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

int safe_atoi(const char *s, int *ret)
{
        char *end;
        long v;

        assert(ret);
        if (isempty(s))
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || v < INT_MIN || v > INT_MAX)
                return -ERANGE;
        if (*end != '\0')
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
        static const struct {
                const char *suffix;
                uint64_t factor;
        } table[] = {
                { "Ki", 1ULL << 10 }, { "Mi", 1ULL << 20 }, { "Gi", 1ULL << 30 }, { "Ti", 1ULL << 40 },
                { "K", 1000ULL },     { "M", 1000000ULL },  { "G", 1000000000ULL }, { "T", 1000000000000ULL },
                { "", 1 },
        };
        char *end;
        unsigned long long v;

        assert(ret);
        if (isempty(s) || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0)
                return -ERANGE;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(end, table[i].suffix)) {
                        if (v > UINT64_MAX / table[i].factor)
                                return -ERANGE;
                        *ret = v * table[i].factor;
                        return 0;
                }
        return -EINVAL;
}

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = NULL;

        assert(path);
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(p, mode) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int write_file_atomic(const char *path, const char *data, size_t n, mode_t mode)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;

        assert(path);
        assert(data || n == 0);
        if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
                return -ENOMEM;
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fchmod(fd, mode) < 0)
                goto fail;
        while (n > 0) {
                ssize_t k = write(fd, data, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        goto fail;
                }
                data += k;
                n -= (size_t) k;
        }
        if (fsync(fd) < 0 || rename(tmp, path) < 0)
                goto fail;
        return 0;
fail:;
        int r = -errno;
        (void) unlink(tmp);
        return r;
}

int read_file(const char *path, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, alloc = 0;

        assert(path);
        assert(ret);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        for (;;) {
                if (size + 4096 + 1 > alloc) {
                        size_t n = MAX(alloc * 2, (size_t) 8192);
                        char *b = realloc(buf, n);
                        if (!b)
                                return -ENOMEM;
                        buf = b;
                        alloc = n;
                }
                ssize_t k = read(fd, buf + size, alloc - size - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                size += (size_t) k;
                if (size > max)
                        return -EFBIG;
        }
        if (!buf && !(buf = malloc(1)))
                return -ENOMEM;
        buf[size] = '\0';
        if (ret_size)
                *ret_size = size;
        *ret = TAKE_PTR(buf);
        return 0;
}

char *strjoin_path(const char *a, const char *b)
{
        char *s;
        size_t la;

        assert(a);
        assert(b);
        la = strlen(a);
        if (asprintf(&s, "%s%s%s", a, la > 0 && a[la - 1] == '/' ? "" : "/", b) < 0)
                return NULL;
        return s;
}

/* The length of the UTF-8 sequence at p and its code point, or 0 when it is not one. */
static size_t utf8_decode(const unsigned char *p, uint32_t *ret)
{
        size_t n = p[0] > 0xf4 ? 0 : p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
        uint32_t cp;

        if (n == 0)
                return 0;
        cp = p[0] & (0x7f >> n);
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms and surrogates are not UTF-8. */
        if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret = cp;
        return n;
}

/*
 * What YAML takes as it is inside double quotes (its "printable" set), less the line breaks NEL,
 * LS and PS, which it would fold, and the byte order mark.
 */
static bool yaml_plain_char(uint32_t cp)
{
        return (cp >= 0x20 && cp <= 0x7e) || (cp >= 0xa0 && cp <= 0xd7ff && cp != 0x2028 && cp != 0x2029) ||
               (cp >= 0xe000 && cp <= 0xfffd && cp != 0xfeff) || cp >= 0x10000;
}

void fputs_yaml_quoted(const char *s, FILE *f)
{
        assert(s);
        assert(f);
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p;) {
                uint32_t cp = *p;
                size_t n = *p < 0x80 ? 1 : utf8_decode(p, &cp);

                if (n == 0) /* not UTF-8: no YAML string holds it; the byte as a character is closest */
                        fprintf(f, "\\x%02x", *p++);
                else if (cp == '"' || cp == '\\')
                        fprintf(f, "\\%c", (char) cp);
                else if (yaml_plain_char(cp))
                        fwrite(p, 1, n, f);
                else if (cp <= 0xff)
                        fprintf(f, "\\x%02x", (unsigned) cp);
                else
                        fprintf(f, "\\u%04x", (unsigned) cp); /* everything escaped above 0xff is below 0x10000 */
                p += n;
        }
        fputc('"', f);
}
