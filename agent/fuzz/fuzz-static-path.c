/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The static-file path decoder (api/static.c): percent escapes, dot segments, backslashes, length.
 * Whatever it accepts must be a path that stays beneath the web root. The same input, read as an
 * Accept-Encoding header, goes to api_accepts_encoding(): a coding the header does not name (nor
 * "*") is never taken.
 */

#include "api/api-internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *url = fuzz_strndup(data, size);
        char out[1100];
        int r;

        /* Neither "gzip" nor "br" nor "*" in it, in any case: neither coding may be taken. */
        if (!strcasestr(url, "gzip") && !strchr(url, '*'))
                FUZZ_ASSERT(!api_accepts_encoding(url, "gzip"));
        if (!strcasestr(url, "br") && !strchr(url, '*'))
                FUZZ_ASSERT(!api_accepts_encoding(url, "br"));
        (void) api_accepts_encoding(url, "gzip");

        r = api_static_path(url, out, sizeof out);
        if (r < 0) {
                FUZZ_ASSERT(r == -EINVAL || r == -EPERM || r == -ENAMETOOLONG);
                return 0;
        }
        FUZZ_ASSERT(strlen(out) <= 1024);
        FUZZ_ASSERT(!strchr(out, '\\'));
        /* No '.' or '..' segment survives decoding, whichever way it was spelled. */
        for (const char *seg = out; *seg;) {
                size_t len;

                while (*seg == '/')
                        seg++;
                len = strcspn(seg, "/");
                FUZZ_ASSERT(!(len == 1 && seg[0] == '.'));
                FUZZ_ASSERT(!(len == 2 && seg[0] == '.' && seg[1] == '.'));
                seg += len;
        }
        return 0;
}
