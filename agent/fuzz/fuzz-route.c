/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Route matching (api/routes.c) against every pattern of the real route table: a request path of
 * any shape either matches with parameters that are plain, NUL-terminated ids and names, or not.
 */

#include "api/api-internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *path = fuzz_strndup(data, size);
        const char *matched = NULL;

        for (size_t i = 0; i < api_routes_count; i++) {
                RequestContext c = {};

                if (!api_route_match(api_routes[i].pattern, path, &c))
                        continue;
                /* One path has one shape: the routes it matches differ only in their method. */
                FUZZ_ASSERT(!matched || streq(matched, api_routes[i].pattern));
                matched = api_routes[i].pattern;
                FUZZ_ASSERT(c.n_params <= ELEMENTSOF(c.params));
                for (size_t k = 0; k < c.n_params; k++) {
                        size_t len = strnlen(c.params[k], sizeof c.params[k]);

                        FUZZ_ASSERT(len > 0 && len < sizeof c.params[k]);
                        FUZZ_ASSERT(strspn(c.params[k], "abcdefghijklmnopqrstuvwxyz0123456789-"
                                                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ_.@:") == len);
                }
        }
        return 0;
}
