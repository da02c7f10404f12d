/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Request-body validation (api/http.c): the depth count done before jansson recurses, duplicate
 * keys, non-objects; then the field checks every handler runs on what was accepted (unknown
 * members, required strings). The first byte picks the depth limit, the rest is the body.
 */

#include "api/api-internal.h"
#include "fuzz.h"

/* Depth of a parsed value, counted as api_json_depth() counts the text. */
static size_t json_depth(json_t *v)
{
        size_t deepest = 0;
        const char *key;
        json_t *item;
        size_t i;

        if (json_is_object(v))
                json_object_foreach(v, key, item)
                        deepest = MAX(deepest, json_depth(item));
        else if (json_is_array(v))
                json_array_foreach(v, i, item)
                        deepest = MAX(deepest, json_depth(item));
        else
                return 0;
        return deepest + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        /* The field lists of store create, account create and token create. */
        static const char *const store_fields[] = { "name", "engine", NULL };
        static const char *const account_fields[] = { "name", "role", "max_stores", "creates_per_hour",
                                                      NULL };
        static const char *const token_fields[] = { "name", "expires_in", NULL };
        static const char *const *const lists[] = { store_fields, account_fields, token_fields };
        _cleanup_(json_decrefp) json_t *body = NULL;
        json_error_t jerr;
        uint64_t max_depth;
        int r;

        if (size < 1)
                return 0;
        /* The configuration allows limits.max_json_depth from 2 to 256. */
        max_depth = 2 + data[0] % 255;
        r = api_body_parse(data + 1, size - 1, max_depth, &body, &jerr);
        if (r < 0) {
                FUZZ_ASSERT(r == -ELOOP || r == -EBADMSG || r == -EINVAL);
                FUZZ_ASSERT(!body);
                return 0;
        }
        FUZZ_ASSERT(json_is_object(body));
        /* The count on the text never lets through what jansson then nests deeper. */
        FUZZ_ASSERT(json_depth(body) <= max_depth);

        for (size_t l = 0; l < ELEMENTSOF(lists); l++) {
                struct _u_response resp;
                RequestContext c = { .body = body };
                const char *v;

                FUZZ_ASSERT(ulfius_init_response(&resp) == U_OK);
                r = api_check_fields(&resp, body, lists[l]);
                FUZZ_ASSERT(r == 0 || (r == -EINVAL && resp.status == 400));
                for (const char *const *f = lists[l]; *f; f++) {
                        r = api_require_string(&resp, &c, *f, &v);
                        FUZZ_ASSERT(r == 0 || r == -EINVAL);
                        if (r == 0)
                                FUZZ_ASSERT(v && json_is_string(json_object_get(body, *f)));
                }
                ulfius_clean_response(&resp);
        }
        return 0;
}
