/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The webhook sender: one thread, with its own database connection and CURL handle, that drains
 * the durable queue of webhook deliveries (core/webhook.h). Each delivery is a POST of its JSON
 * body, signed with the webhook's secret (X-Storeagent-Signature: sha256=<HMAC-SHA256 of the body,
 * hex>). A 2xx answer delivers it; anything else is tried again later, with the wait doubling from
 * retry_initial up to retry_max, until max_attempts. Destinations on loopback, link-local,
 * private and other special-purpose addresses are refused unless allow_private says otherwise
 * (checked on the address connected to, after DNS, so a name cannot lead around it).
 */

#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"

typedef struct WebhookSender WebhookSender;

typedef struct WebhookSenderOptions {
        const char *db_path;
        uint64_t timeout_usec; /* a whole delivery: connect, send, answer */
        uint64_t max_attempts;
        uint64_t retry_initial_usec;
        uint64_t retry_max_usec;
        uint64_t keep;         /* deliveries kept in each webhook's log */
        uint64_t poll_usec;    /* how often the queue is looked at for deliveries queued by store events */
        bool allow_private;
} WebhookSenderOptions;

int webhook_sender_new(WebhookSender **ret, const WebhookSenderOptions *o);
int webhook_sender_start(WebhookSender *s);
void webhook_sender_wake(WebhookSender *s);
/* Stops the thread; a delivery on the way is given up and queued again. */
void webhook_sender_stop(WebhookSender *s);
WebhookSender *webhook_sender_free(WebhookSender *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(WebhookSender *, webhook_sender_free);

/* Whether an address (struct sockaddr_in or _in6) is one refused unless private destinations are allowed. */
struct sockaddr;
bool webhook_address_is_private(const struct sockaddr *sa);
