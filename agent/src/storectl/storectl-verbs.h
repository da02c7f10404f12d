/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* storectl's commands ("verbs"): what each takes, its help text, and the function that runs it. */

#include <systemd/sd-bus.h>

#include "basic/macro.h"

typedef struct Verb {
        const char *name;
        const char *args; /* for the usage line */
        unsigned min_args, max_args;
        unsigned options;
        int (*run)(sd_bus *bus, char **args);
        const char *summary;
        const char *description;
} Verb;

extern const Verb verbs[];
extern const size_t n_verbs;

/* The verb argv starts with ("list", or "token create" over two words); *ret_consumed gets how many words. */
const Verb *find_verb(int argc, char *argv[], int *ret_consumed);
