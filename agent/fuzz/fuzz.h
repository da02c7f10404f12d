/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the libFuzzer targets share: the entry point's prototype, a NUL-terminated copy of the
 * input for the parsers that take C strings, and a scratch directory for those that read a file.
 * A target calls the daemon's own functions (linked from the layer libraries), never a copy.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/log.h"
#include "basic/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property the input broke: abort(), so libFuzzer keeps the input as a crash. */
#define FUZZ_ASSERT(expr)                                                                                    \
        do {                                                                                                 \
                if (!(expr)) {                                                                               \
                        fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, #expr);          \
                        abort();                                                                             \
                }                                                                                            \
        } while (0)

/* A step of a target's setup that must work; says which one did not. */
#define FUZZ_SETUP(expr)                                                                                     \
        do {                                                                                                 \
                if (!(expr)) {                                                                               \
                        fprintf(stderr, "%s:%d: setup failed: %s\n", __FILE__, __LINE__, #expr);             \
                        abort();                                                                             \
                }                                                                                            \
        } while (0)

/* The input as a C string; an embedded NUL ends it, as it would for the daemon. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = strndup((const char *) data, size);
        if (!s)
                abort();
        return s;
}

/*
 * Every level, as JSON lines: what the daemon logs about hostile input (a path, a key) is part of
 * what is fuzzed. contrib/run-fuzzers passes -close_fd_mask=3, which keeps libFuzzer's and the
 * sanitizers' reports but drops these lines.
 */
static inline void fuzz_log_setup(void)
{
        log_setup(LOG_TARGET_JSON, LOG_DEBUG);
}

/* A directory of this process's own for the inputs that must be files; made once. */
static inline const char *fuzz_scratch_dir(void)
{
        static char dir[] = "/tmp/storeagent-fuzz-XXXXXX";
        static bool made = false;

        if (!made) {
                if (!mkdtemp(dir))
                        abort();
                made = true;
        }
        return dir;
}

/* Writes the input to a file named name in the scratch directory and returns its path (static). */
static inline const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size)
{
        static char path[512];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", fuzz_scratch_dir(), name);
        f = fopen(path, "we");
        if (!f)
                abort();
        if (size > 0 && fwrite(data, 1, size, f) != size)
                abort();
        if (fclose(f) != 0)
                abort();
        return path;
}
