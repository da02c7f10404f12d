/* SPDX-License-Identifier: Apache-2.0 */

#include <assert.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <string.h>

#include "basic/hmac.h"

int hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[static HMAC_SHA256_SIZE])
{
        assert(key || key_len == 0);
        assert(data || n == 0);
        assert(out);

        /* GnuTLS reads the key even when it is empty; give it a valid pointer. */
        if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key_len > 0 ? key : "", key_len, n > 0 ? data : "", n, out) < 0)
                return -EIO;
        return 0;
}

int hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n, char out[static 65])
{
        static const char digits[] = "0123456789abcdef";
        uint8_t mac[HMAC_SHA256_SIZE];
        int r;

        r = hmac_sha256(key, key_len, data, n, mac);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof mac; i++) {
                out[2 * i] = digits[mac[i] >> 4];
                out[2 * i + 1] = digits[mac[i] & 15];
        }
        out[64] = '\0';
        return 0;
}
