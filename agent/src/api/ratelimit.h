/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Fixed-window request limiter keyed by client: a key's window opens with its
 * first request and allows `limit` requests until it closes. Thread-safe.
 */

#include <stdint.h>

#include "basic/macro.h"

typedef struct RateLimiter RateLimiter;

int ratelimit_new(RateLimiter **ret, uint64_t limit, uint64_t window_usec);
RateLimiter *ratelimit_free(RateLimiter *rl);
DEFINE_TRIVIAL_CLEANUP_FUNC(RateLimiter *, ratelimit_free);

void ratelimit_configure(RateLimiter *rl, uint64_t limit, uint64_t window_usec);

/*
 * Counts one request for key at time now (usec). Returns true when allowed.
 * On refusal *ret_retry_after_sec says when the window closes (rounded up, at
 * least 1). *ret_used (optional) is the count in the current window, refused requests
 * included: the first refusal of a window sees limit + 1.
 */
bool ratelimit_hit(RateLimiter *rl, const char *key, uint64_t now, uint64_t *ret_retry_after_sec,
                   uint64_t *ret_used);

/* Requests counted for key in its current window, refused ones included (0 if none). */
uint64_t ratelimit_used(RateLimiter *rl, const char *key, uint64_t now);
