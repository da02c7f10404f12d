/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Small helpers every module uses: cleanup attributes, ownership transfer,
 * and array sizing. Modelled on systemd's macro.h, trimmed to what we use.
 */

#include "storeagent-build.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _sentinel_ __attribute__((sentinel))
#define _pure_ __attribute__((pure))
#define _likely_(x) (__builtin_expect(!!(x), 1))
#define _unlikely_(x) (__builtin_expect(!!(x), 0))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Returns the pointer and leaves NULL behind, so a cleanup attribute no longer frees it. */
#define TAKE_PTR(p)                                                                                          \
        ({                                                                                                   \
                __typeof__(p) _ptr_ = (p);                                                                   \
                (p) = NULL;                                                                                  \
                _ptr_;                                                                                       \
        })

#define TAKE_FD(fd)                                                                                          \
        ({                                                                                                   \
                int _fd_ = (fd);                                                                             \
                (fd) = -EBADF;                                                                               \
                _fd_;                                                                                        \
        })

#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                              \
        static inline void func##p(type *p)                                                                  \
        {                                                                                                    \
                if (*p)                                                                                      \
                        func(*p);                                                                            \
        }

static inline void freep(void *p)
{
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd)
{
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Wipes a secret before freeing it, so it does not linger in freed heap memory. */
static inline void erase_and_freep(void *p)
{
        char *s = *(char **) p;
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}
#define _cleanup_erase_free_ _cleanup_(erase_and_freep)

static inline bool streq_ptr(const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)
#define isempty(s) (!(s) || (s)[0] == '\0')

/* Whether s equals one of the strings listed (s may be NULL). */
#define STR_IN_SET(s, ...)                                                                                   \
        ({                                                                                                   \
                const char *_s_ = (s);                                                                       \
                const char *const _l_[] = { __VA_ARGS__ };                                                   \
                bool _f_ = false;                                                                            \
                for (size_t _i_ = 0; _s_ && _i_ < ELEMENTSOF(_l_); _i_++)                                     \
                        if (streq(_s_, _l_[_i_]))                                                             \
                                _f_ = true;                                                                  \
                _f_;                                                                                         \
        })

static inline const char *strempty(const char *s)
{
        return s ?: "";
}

static inline const char *strna(const char *s)
{
        return s ?: "n/a";
}

/* Frees a NULL-terminated array of strings. */
static inline char **strv_free(char **l)
{
        if (!l)
                return NULL;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/*
 * snprintf() that says whether everything fit: buf, or NULL when the output
 * was cut short (or could not be formatted), so a truncation is never silent.
 */
_printf_(3, 4) static inline char *snprintf_ok(char *buf, size_t len, const char *format, ...)
{
        va_list ap;
        int r;

        va_start(ap, format);
        r = vsnprintf(buf, len, format, ap);
        va_end(ap);
        return r >= 0 && (size_t) r < len ? buf : NULL;
}

/*
 * For a buffer sized so that the output always fits (numbers, fixed formats):
 * aborts if that ever stops being true, instead of going on with a cut string.
 * xsprintf() takes the size from the array itself.
 */
#define xsnprintf(buf, len, format, ...)                                                                     \
        do {                                                                                                 \
                if (!snprintf_ok((buf), (len), format, ##__VA_ARGS__)) {                                     \
                        fprintf(stderr, "%s:%d: %s is too small for what is written to it\n", __FILE__,      \
                                __LINE__, #buf);                                                             \
                        abort();                                                                             \
                }                                                                                            \
        } while (0)
#define xsprintf(buf, format, ...)                                                                           \
        do {                                                                                                 \
                _Static_assert(!__builtin_types_compatible_p(__typeof__(buf), __typeof__(&(buf)[0])),        \
                               "xsprintf() needs an array, not a pointer");                                  \
                xsnprintf(buf, sizeof(buf), format, ##__VA_ARGS__);                                          \
        } while (0)

#define RET_NERRNO(expr)                                                                                     \
        ({                                                                                                   \
                int _r_ = (expr);                                                                            \
                _r_ < 0 ? -errno : _r_;                                                                      \
        })

#define USEC_PER_SEC ((uint64_t) 1000000ULL)
#define USEC_PER_MSEC ((uint64_t) 1000ULL)
#define NSEC_PER_USEC ((uint64_t) 1000ULL)
