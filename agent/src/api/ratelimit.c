/* SPDX-License-Identifier: Apache-2.0 */

#include <pthread.h>
#include <stdint.h>

#include "api/ratelimit.h"

typedef struct Bucket {
        struct Bucket *next;
        uint64_t window_start;
        uint64_t count;
        char key[];
} Bucket;

#define RATELIMIT_SLOTS 1024

struct RateLimiter {
        pthread_mutex_t lock;
        uint64_t limit;
        uint64_t window;
        size_t n_buckets;
        uint64_t last_sweep;
        Bucket *slots[RATELIMIT_SLOTS];
};

static size_t hash_key(const char *s)
{
        /* FNV-1a */
        uint64_t h = 1469598103934665603ULL;
        for (; *s; s++)
                h = (h ^ (uint8_t) *s) * 1099511628211ULL;
        return (size_t) (h % RATELIMIT_SLOTS);
}

int ratelimit_new(RateLimiter **ret, uint64_t limit, uint64_t window_usec)
{
        RateLimiter *rl = calloc(1, sizeof *rl);
        if (!rl)
                return -ENOMEM;
        pthread_mutex_init(&rl->lock, NULL);
        rl->limit = limit;
        rl->window = window_usec;
        *ret = rl;
        return 0;
}

RateLimiter *ratelimit_free(RateLimiter *rl)
{
        if (!rl)
                return NULL;
        for (size_t i = 0; i < RATELIMIT_SLOTS; i++)
                for (Bucket *b = rl->slots[i], *next; b; b = next) {
                        next = b->next;
                        free(b);
                }
        pthread_mutex_destroy(&rl->lock);
        free(rl);
        return NULL;
}

void ratelimit_configure(RateLimiter *rl, uint64_t limit, uint64_t window_usec)
{
        pthread_mutex_lock(&rl->lock);
        rl->limit = limit;
        rl->window = window_usec;
        pthread_mutex_unlock(&rl->lock);
}

/* Drops buckets whose window closed, so memory stays bounded by active clients. */
static void sweep(RateLimiter *rl, uint64_t now)
{
        if (now - rl->last_sweep < rl->window)
                return;
        rl->last_sweep = now;
        for (size_t i = 0; i < RATELIMIT_SLOTS; i++)
                for (Bucket **b = &rl->slots[i]; *b;) {
                        if (now >= (*b)->window_start + rl->window) {
                                Bucket *dead = *b;
                                *b = dead->next;
                                free(dead);
                                rl->n_buckets--;
                        } else
                                b = &(*b)->next;
                }
}

static Bucket *lookup(RateLimiter *rl, const char *key, bool create)
{
        size_t h = hash_key(key);
        for (Bucket *b = rl->slots[h]; b; b = b->next)
                if (streq(b->key, key))
                        return b;
        if (!create)
                return NULL;
        size_t n = strlen(key);
        Bucket *b = calloc(1, sizeof *b + n + 1);
        if (!b)
                return NULL;
        memcpy(b->key, key, n + 1);
        b->next = rl->slots[h];
        rl->slots[h] = b;
        rl->n_buckets++;
        return b;
}

bool ratelimit_hit(RateLimiter *rl, const char *key, uint64_t now, uint64_t *ret_retry_after_sec,
                   uint64_t *ret_used)
{
        bool allowed;
        Bucket *b;

        pthread_mutex_lock(&rl->lock);
        sweep(rl, now);
        b = lookup(rl, key, true);
        if (!b) {
                /* Out of memory: fail open rather than lock every client out. */
                pthread_mutex_unlock(&rl->lock);
                return true;
        }
        if (b->count == 0 || now >= b->window_start + rl->window) {
                b->window_start = now;
                b->count = 0;
        }
        allowed = b->count < rl->limit;
        /* Refused requests count too, so a caller can tell the first refusal of a window (limit + 1). */
        if (b->count < UINT64_MAX)
                b->count++;
        if (!allowed && ret_retry_after_sec) {
                uint64_t left = b->window_start + rl->window - now;
                *ret_retry_after_sec = MAX((left + USEC_PER_SEC - 1) / USEC_PER_SEC, (uint64_t) 1);
        }
        if (ret_used)
                *ret_used = b->count;
        pthread_mutex_unlock(&rl->lock);
        return allowed;
}

uint64_t ratelimit_used(RateLimiter *rl, const char *key, uint64_t now)
{
        uint64_t used = 0;
        Bucket *b;

        pthread_mutex_lock(&rl->lock);
        b = lookup(rl, key, false);
        if (b && now < b->window_start + rl->window)
                used = b->count;
        pthread_mutex_unlock(&rl->lock);
        return used;
}
