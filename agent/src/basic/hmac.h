/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * HMAC-SHA256 (RFC 2104 over the SHA-256 that sha256_hex() uses, both from GnuTLS): what signs
 * a webhook's body with the webhook's secret, so that the receiver can tell it came from us.
 */

#include <stddef.h>
#include <stdint.h>

#define HMAC_SHA256_SIZE 32

int hmac_sha256(const void *key, size_t key_len, const void *data, size_t n, uint8_t out[static HMAC_SHA256_SIZE]);
/* The same as 64 lowercase hex digits and a NUL. */
int hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n, char out[static 65]);
