/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Webhooks: an account's HTTP endpoints that hear of its stores' events (store.ready,
 * store.failed, store.deleted, backup.succeeded, backup.failed), and the durable queue of their
 * deliveries. The deliveries of store and backup events are queued by triggers of the schema
 * (db.c, version 8) in the transaction that changes the status; a test delivery is queued here.
 * The sender (notify/) leases due deliveries, posts them, and records the outcome.
 *
 * Ownership: every call takes the caller's account id, and a webhook of another account is one
 * that does not exist (-ENOENT). A webhook's secret signs its deliveries; it is given out once,
 * at create, and kept so the sender can sign.
 */

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/db.h"

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_DELIVERIES_LISTED 50

/* The event names a webhook may ask for, NULL-terminated; "webhook.test" is sent on request only. */
extern const char *const webhook_events[];
#define WEBHOOK_EVENT_TEST "webhook.test"

/*
 * Whether url may be a webhook's: http or https, a host, no user name or password in it, no
 * fragment, no spaces or control characters, at most max_len bytes. On refusal *ret_why (when
 * given) points to a sentence saying why.
 */
bool webhook_url_is_valid(const char *url, size_t max_len, const char **ret_why);

typedef struct WebhookSpec {
        const char *url;
        json_t *events;  /* array of names from webhook_events; NULL: all of them */
        bool all_stores; /* every store's events, not only the account's (admins only; the caller checks) */
} WebhookSpec;

/* -EDQUOT when the account has max_per_account webhooks already; -EINVAL for an unknown event. */
int webhook_create(Db *db, int64_t account_id, const WebhookSpec *spec, uint64_t max_per_account,
                   int64_t *ret_id, char **ret_secret);
int webhook_list(Db *db, int64_t account_id, json_t **ret);
int webhook_get(Db *db, int64_t account_id, int64_t id, json_t **ret);
int webhook_delete(Db *db, int64_t account_id, int64_t id);
/* A disabled webhook gets no new deliveries, and those it has queued fail. */
int webhook_set_enabled(Db *db, int64_t account_id, int64_t id, bool enabled);
/* The webhook's latest deliveries, newest first. */
int webhook_deliveries(Db *db, int64_t account_id, int64_t id, json_t **ret);
/* Queues a webhook.test delivery; *ret (may be NULL) is the delivery as the log shows it. */
int webhook_send_test(Db *db, int64_t account_id, int64_t id, json_t **ret);

/* ---- the sender's side ---- */

typedef struct WebhookDelivery {
        int64_t id;
        int64_t webhook_id;
        char *event;
        char *url;
        char *secret;
        char *payload;
        int attempts; /* this one included */
} WebhookDelivery;

WebhookDelivery *webhook_delivery_free(WebhookDelivery *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(WebhookDelivery *, webhook_delivery_free);

/*
 * Takes the oldest due delivery (state 'sending', attempts counted); -EAGAIN when none is due.
 * Deliveries of a webhook deleted or disabled, or of a disabled account, are failed on the way
 * with that reason instead of being sent.
 */
int webhook_delivery_next(Db *db, uint64_t now, WebhookDelivery **ret);
/*
 * Records an attempt: delivered, or (when retry_at is not 0) queued again for then, or failed
 * for good. response_code 0: no HTTP response. Keeps the webhook's newest keep deliveries.
 */
int webhook_delivery_finish(Db *db, const WebhookDelivery *d, bool delivered, long response_code,
                            const char *error, uint64_t retry_at, uint64_t keep);
/* Microseconds from now until the next delivery is due (0: one is); -ENODATA when none is queued. */
int webhook_delivery_next_due(Db *db, uint64_t now, uint64_t *ret_usec);
/* At start: deliveries a stopped sender was sending go back to the queue. Returns how many. */
int webhook_delivery_release_stale(Db *db);

/*
 * Who to wake when a delivery was queued outside a store transaction (a test event): the sender
 * registers itself; without one this does nothing.
 */
void webhook_set_waker(void (*wake)(void *userdata), void *userdata);
void webhook_wake(void);
