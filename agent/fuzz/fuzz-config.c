/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The configuration parser (core/config.c): storeagent.yaml of any shape. A configuration it
 * accepts must also survive its own dump (`storeagentd --check-config` prints it, operators keep
 * the output as their file): loading what config_dump() wrote gives the same configuration.
 */

#include "core/config.h"
#include "fuzz.h"

static char *dump(const Config *c, size_t *ret_size)
{
        char *text = NULL;
        FILE *f = open_memstream(&text, ret_size);

        if (!f)
                abort();
        config_dump(c, f);
        if (fclose(f) != 0)
                abort();
        return text;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_log_setup();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(config_freep) Config *c = NULL, *again = NULL;
        _cleanup_free_ char *error = NULL, *error_again = NULL, *first = NULL, *second = NULL;
        size_t n_first, n_second;
        const char *path;
        int r;

        path = fuzz_write_file("storeagent.yaml", data, size);
        r = config_load(path, false, &c, &error);
        if (r < 0) {
                FUZZ_ASSERT(!c);
                return 0;
        }

        first = dump(c, &n_first);
        path = fuzz_write_file("dumped.yaml", (const uint8_t *) first, n_first);
        r = config_load(path, false, &again, &error_again);
        if (r < 0)
                fprintf(stderr, "the dump does not load: %s\n--- dump ---\n%s", strna(error_again), first);
        FUZZ_ASSERT(r >= 0);
        second = dump(again, &n_second);
        FUZZ_ASSERT(n_first == n_second && memcmp(first, second, n_first) == 0);
        return 0;
}
