/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What the libFuzzer targets share: the entry point's prototype, a NUL-terminated copy of the
 * input for the parsers that take C strings, and a scratch directory for those that read a file.
 * A target calls the daemon's own functions (linked from the layer libraries), never a copy.
 */

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

/*
 * A directory of this process's own for the inputs that must be files (and fuzz-request's
 * database); made once, in memory where /dev/shm exists, since every input writes there.
 */
static char fuzz_scratch[64];

static inline int fuzz_scratch_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) remove(path);
        return 0;
}

/* Memory in /dev/shm outlives the process: leave nothing behind on a normal exit. */
static inline void fuzz_scratch_remove(void)
{
        (void) nftw(fuzz_scratch, fuzz_scratch_remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline const char *fuzz_scratch_dir(void)
{
        char *dir = fuzz_scratch;

        if (!dir[0]) {
                snprintf(dir, sizeof fuzz_scratch, "%s/storeagent-fuzz-XXXXXX",
                         access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
                if (!mkdtemp(dir))
                        abort();
                atexit(fuzz_scratch_remove);
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
