/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Tiny assertion helpers for the unit tests: print where and what, then abort. */

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"
#include "basic/util.h"

#define ASSERT_TRUE(expr)                                                                                    \
        do {                                                                                                 \
                if (!(expr)) {                                                                               \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr);        \
                        abort();                                                                             \
                }                                                                                            \
        } while (0)

#define ASSERT_EQ(a, b)                                                                                      \
        do {                                                                                                 \
                long long _a = (long long) (a), _b = (long long) (b);                                        \
                if (_a != _b) {                                                                              \
                        fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b, \
                                _a, _b);                                                                     \
                        abort();                                                                             \
                }                                                                                            \
        } while (0)

#define ASSERT_STREQ(a, b)                                                                                   \
        do {                                                                                                 \
                const char *_a = (a), *_b = (b);                                                             \
                if (!streq_ptr(_a, _b)) {                                                                    \
                        fprintf(stderr, "%s:%d: %s == %s failed: '%s' != '%s'\n", __FILE__, __LINE__, #a, #b, \
                                strna(_a), strna(_b));                                                       \
                        abort();                                                                             \
                }                                                                                            \
        } while (0)

#define ASSERT_CONTAINS(haystack, needle)                                                                    \
        do {                                                                                                 \
                const char *_h = (haystack), *_n = (needle);                                                 \
                if (!_h || !strstr(_h, _n)) {                                                                \
                        fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, strna(_h), \
                                _n);                                                                         \
                        abort();                                                                             \
                }                                                                                            \
        } while (0)

/*
 * Checks that count a failure and go on, for tests that report every problem of a run at
 * once; main() returns non-zero when failures > 0.
 */
static unsigned failures __attribute__((unused));

#define CHECK(expr)                                                                                          \
        do {                                                                                                 \
                if (!(expr)) {                                                                               \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr);             \
                        failures++;                                                                          \
                }                                                                                            \
        } while (0)

#define CHECK_STREQ(a, b)                                                                                    \
        do {                                                                                                 \
                const char *_a = (a), *_b = (b);                                                             \
                if (!streq_ptr(_a, _b)) {                                                                    \
                        fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,    \
                                strna(_a), strna(_b));                                                       \
                        failures++;                                                                          \
                }                                                                                            \
        } while (0)

#define CHECK_CONTAINS(s, sub)                                                                               \
        do {                                                                                                 \
                const char *_s = (s);                                                                        \
                if (!_s || !strstr(_s, (sub))) {                                                             \
                        fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,       \
                                strna(_s), (sub));                                                           \
                        failures++;                                                                          \
                }                                                                                            \
        } while (0)

/*
 * Tests register themselves: TEST(name) { ... } defines a test, DEFINE_TEST_MAIN
 * runs every test of the file in the order written (or only those named on the
 * command line) and prints "ok - name" for each. A test fails by a failed ASSERT
 * (abort) or CHECK (counted; main() then returns non-zero).
 */
typedef struct TestCase {
        const char *name;
        void (*func)(void);
        struct TestCase *next;
} TestCase;

static TestCase *test_cases_head __attribute__((unused)), **test_cases_tail __attribute__((unused)) = &test_cases_head;

#define TEST(name)                                                                                           \
        static void name(void);                                                                              \
        static TestCase test_case_##name = { #name, name, NULL };                                            \
        __attribute__((constructor)) static void test_register_##name(void)                                  \
        {                                                                                                    \
                *test_cases_tail = &test_case_##name;                                                        \
                test_cases_tail = &test_case_##name.next;                                                    \
        }                                                                                                    \
        static void name(void)

/* Set by TEST_SKIP: the test could not run here (why is printed); the program then exits 77,
 * which meson shows as SKIP, never as OK. */
static unsigned test_skips __attribute__((unused));

#define TEST_SKIP(...)                                                                                       \
        do {                                                                                                 \
                printf("skip - ");                                                                           \
                printf(__VA_ARGS__);                                                                         \
                printf("\n");                                                                                \
                test_skips++;                                                                                \
                return;                                                                                      \
        } while (0)

static inline int test_run_all(int argc, char **argv, int (*intro)(void))
{
        unsigned n = 0;

        if (intro && intro() < 0)
                return EXIT_FAILURE;
        for (TestCase *t = test_cases_head; t; t = t->next) {
                bool wanted = argc <= 1;
                for (int i = 1; i < argc; i++)
                        if (streq(argv[i], t->name))
                                wanted = true;
                if (!wanted)
                        continue;
                unsigned failed = failures, skipped = test_skips;
                t->func();
                printf("%s - %s\n", failures != failed ? "not ok" : test_skips != skipped ? "skipped" : "ok", t->name);
                n++;
        }
        if (n == 0) {
                fprintf(stderr, "no test ran\n");
                return EXIT_FAILURE;
        }
        if (failures > 0) {
                fprintf(stderr, "%u check(s) failed\n", failures);
                return EXIT_FAILURE;
        }
        return test_skips > 0 ? 77 : EXIT_SUCCESS;
}

/* main(): logs at log_level (JSON to stderr), runs intro (may be NULL) and then the tests. */
#define DEFINE_TEST_MAIN_WITH_INTRO(log_level, intro)                                                        \
        int main(int argc, char **argv)                                                                      \
        {                                                                                                    \
                log_setup(LOG_TARGET_JSON, log_level);                                                       \
                return test_run_all(argc, argv, intro);                                                      \
        }
#define DEFINE_TEST_MAIN(log_level) DEFINE_TEST_MAIN_WITH_INTRO(log_level, NULL)

/* Directories made by test_tmpdir(). They are removed when the test exits
 * cleanly; a failed ASSERT aborts (no atexit), and a failed CHECK or
 * STOREAGENT_TEST_KEEP=1 keeps them, so the files are there to look at. */
static char *test_tmpdirs[64];
static unsigned n_test_tmpdirs;

static inline int test_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path) < 0 ? -errno : 0;
}

static inline void test_tmpdirs_remove(void)
{
        bool keep = failures > 0 || getenv("STOREAGENT_TEST_KEEP");

        for (unsigned i = 0; i < n_test_tmpdirs; i++) {
                if (keep)
                        fprintf(stderr, "kept %s\n", test_tmpdirs[i]);
                else
                        (void) nftw(test_tmpdirs[i], test_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
                free(test_tmpdirs[i]);
        }
        n_test_tmpdirs = 0;
}

static inline void sleep_msec(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
        (void) nanosleep(&ts, NULL);
}

/* Milliseconds since a mono_usec() reading. */
static inline uint64_t elapsed_msec(uint64_t since)
{
        return (mono_usec() - since) / USEC_PER_MSEC;
}

/* A thread body that raises the atomic_bool it is given (a cancel flag) after 300 ms. */
static inline void *raise_after_300ms(void *flag)
{
        sleep_msec(300);
        atomic_store((atomic_bool *) flag, true);
        return NULL;
}

/* DIR/NAME (the caller frees it). */
static inline char *test_path(const char *dir, const char *name)
{
        char *p = strjoin_path(dir, name);
        if (!p)
                abort();
        return p;
}

/* Writes DIR/NAME from a format, with MODE; returns the path (the caller frees it). */
_printf_(4, 5) static inline char *test_write_file(const char *dir, const char *name, mode_t mode,
                                                    const char *format, ...)
{
        _cleanup_free_ char *text = NULL;
        char *p = test_path(dir, name);
        va_list ap;
        int r;

        va_start(ap, format);
        r = vasprintf(&text, format, ap);
        va_end(ap);
        if (r < 0 || write_file_atomic(p, text, strlen(text), mode) < 0)
                abort();
        return p;
}

/* A fresh temporary directory for the test's files (the caller frees the string). */
static inline char *test_tmpdir(void)
{
        char *d = strdup("/tmp/storeagent-test-XXXXXX");
        if (!d || !mkdtemp(d))
                abort();
        if (n_test_tmpdirs >= ELEMENTSOF(test_tmpdirs))
                abort();
        if (n_test_tmpdirs == 0)
                (void) atexit(test_tmpdirs_remove);
        test_tmpdirs[n_test_tmpdirs] = strdup(d);
        if (!test_tmpdirs[n_test_tmpdirs])
                abort();
        n_test_tmpdirs++;
        return d;
}
