/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The small parsers of names and values the API and the configuration take from users: store,
 * account and token names, chart versions, store statuses and roles, sizes and integers, and the
 * Host header check. Each is called on the whole input; the properties are the ones the rest of
 * the daemon relies on (a valid store name is a DNS label, a size fits in 64 bits, ...).
 */

#include <inttypes.h>

#include "api/api-internal.h"
#include "basic/names.h"
#include "basic/util.h"
#include "core/token.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_log_setup();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = fuzz_strndup(data, size);
        const char *why = NULL;
        uint64_t u;
        int i;

        if (store_name_validate(s, &why) >= 0) {
                /* It becomes "store-<name>", a namespace: a DNS label of at most 63 characters. */
                FUZZ_ASSERT(strlen(s) <= STORE_NAME_MAX && strlen("store-") + strlen(s) <= 63);
                FUZZ_ASSERT(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(s));
                FUZZ_ASSERT(s[0] != '-' && s[strlen(s) - 1] != '-');
        } else
                FUZZ_ASSERT(why);

        if (chart_version_is_valid(s))
                FUZZ_ASSERT(strlen(s) <= 64 && s[0] >= '0' && s[0] <= '9' && !strchr(s, '/'));

        if (account_name_is_valid(s))
                FUZZ_ASSERT(strlen(s) >= 1 && strlen(s) <= ACCOUNT_NAME_MAX);
        if (token_name_is_valid(s))
                FUZZ_ASSERT(strlen(s) >= 1 && strlen(s) <= 64);

        StoreStatus st = store_status_from_string(s);
        if (st >= 0)
                FUZZ_ASSERT(streq(store_status_to_string(st), s));
        AccountRole role = account_role_from_string(s);
        if (role >= 0)
                FUZZ_ASSERT(streq(account_role_to_string(role), s));

        if (parse_size(s, &u) >= 0)
                FUZZ_ASSERT(s[0] >= '0' && s[0] <= '9');
        if (safe_atou64(s, &u) >= 0) {
                char buf[32];
                /* Leading zeros aside, the number reads back as it was written. */
                xsprintf(buf, "%" PRIu64, u);
                FUZZ_ASSERT(streq(buf, s + strspn(s, "0")) || (u == 0 && strspn(s, "0") == strlen(s)));
        }
        (void) safe_atoi(s, &i);

        /* The Host header, with and without configured names. */
        ApiLimits lim = { .hostnames = "" };
        (void) api_host_allowed(s, &lim);
        lim.hostnames = "shop.example.com storeagent.internal";
        (void) api_host_allowed(s, &lim);
        return 0;
}
