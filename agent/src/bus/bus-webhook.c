/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The methods of org.storeagent.Agent1 about webhooks: the REST API's /webhooks over D-Bus, with
 * the same rules. A caller manages its own account's webhooks only; another account's is
 * NotFound. Every change, and every refusal, is a record of the audit log with source "dbus".
 */

#include <inttypes.h>

#include <systemd/sd-bus.h>

#include "basic/log.h"
#include "basic/util.h"
#include "bus/bus-internal.h"
#include "core/webhook.h"

static int webhook_not_found(Bus *b, const Caller *c, const char *action, int64_t id, sd_bus_error *error)
{
        char target[24];

        snprintf(target, sizeof target, "%" PRIi64, id);
        bus_audit(b, c, action, "webhook", target, NULL, ERROR_WEBHOOK_NOT_FOUND);
        return bus_error_of(error, ERROR_WEBHOOK_NOT_FOUND, "No webhook %" PRIi64 ".", id);
}

int bus_method_list_webhooks(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        json_t *list = NULL;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = webhook_list(b->db, caller.account_id, &list);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return bus_reply_json(m, list);
}

/* events: comma-separated event names, "" for all of them. */
int bus_method_create_webhook(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_erase_free_ char *secret = NULL, *reply = NULL;
        _cleanup_(json_decrefp) json_t *events = NULL, *hook = NULL;
        const char *url, *events_csv, *why = NULL;
        char target[24];
        int all_stores;
        int64_t id;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ssb", &url, &events_csv, &all_stores);
        if (r < 0)
                return r;
        if (!webhook_url_is_valid(url, b->limits_webhooks.max_url_bytes, &why))
                return bus_error_of(error, ERROR_INVALID_REQUEST, "%s", why);
        if (all_stores && !caller_is_admin(&caller))
                return bus_refuse_tenant(b, &caller, "webhook.create", "webhook", NULL, error);
        if (!isempty(events_csv)) {
                _cleanup_free_ char *copy = strdup(events_csv);
                char *save = NULL;

                events = json_array();
                if (!copy || !events)
                        return -ENOMEM;
                for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save))
                        if (json_array_append_new(events, json_string(e)) < 0)
                                return -ENOMEM;
        }
        r = webhook_create(b->db, caller.account_id,
                           &(WebhookSpec) { .url = url, .events = events, .all_stores = all_stores },
                           b->limits_webhooks.max_per_account, &id, &secret);
        if (r == -EINVAL)
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                    "Events are one or more of store.ready, store.failed, store.deleted, "
                                    "backup.succeeded and backup.failed, separated by commas.");
        if (r == -EDQUOT) {
                bus_audit(b, &caller, "webhook.create", "webhook", NULL, NULL, ERROR_WEBHOOK_CAP);
                return bus_error_of(error, ERROR_WEBHOOK_CAP,
                                    "Account '%s' has %" PRIu64 " webhook(s), the most it may.", caller.account,
                                    b->limits_webhooks.max_per_account);
        }
        snprintf(target, sizeof target, "%" PRIi64, r < 0 ? INT64_C(0) : id);
        bus_audit(b, &caller, "webhook.create", "webhook", target, NULL, r);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        r = webhook_get(b->db, caller.account_id, id, &hook);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        if (json_object_set_new(hook, "secret", json_string(secret)) < 0)
                return -ENOMEM;
        /* The secret goes to the caller once, and the reply's copy is wiped too. */
        reply = json_dumps(hook, JSON_COMPACT);
        if (!reply)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "s", reply);
}

int bus_method_delete_webhook(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        char target[24];
        Caller caller;
        int64_t id;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "x", &id);
        if (r < 0)
                return r;
        r = webhook_delete(b->db, caller.account_id, id);
        if (r == -ENOENT)
                return webhook_not_found(b, &caller, "webhook.delete", id, error);
        snprintf(target, sizeof target, "%" PRIi64, id);
        bus_audit(b, &caller, "webhook.delete", "webhook", target, NULL, r);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return sd_bus_reply_method_return(m, NULL);
}

int bus_method_set_webhook_enabled(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        json_t *hook = NULL;
        char target[24];
        Caller caller;
        int64_t id;
        int enabled, r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "xb", &id, &enabled);
        if (r < 0)
                return r;
        r = webhook_set_enabled(b->db, caller.account_id, id, enabled);
        if (r == -ENOENT)
                return webhook_not_found(b, &caller, "webhook.update", id, error);
        snprintf(target, sizeof target, "%" PRIi64, id);
        bus_audit(b, &caller, "webhook.update", "webhook", target, NULL, r);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        r = webhook_get(b->db, caller.account_id, id, &hook);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return bus_reply_json(m, hook);
}

int bus_method_test_webhook(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        json_t *delivery = NULL;
        char target[24];
        Caller caller;
        int64_t id;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "x", &id);
        if (r < 0)
                return r;
        r = webhook_send_test(b->db, caller.account_id, id, &delivery);
        if (r == -ENOENT)
                return webhook_not_found(b, &caller, "webhook.test", id, error);
        snprintf(target, sizeof target, "%" PRIi64, id);
        bus_audit(b, &caller, "webhook.test", "webhook", target, NULL, r);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return bus_reply_json(m, delivery);
}

int bus_method_list_webhook_deliveries(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        json_t *list = NULL;
        Caller caller;
        int64_t id;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "x", &id);
        if (r < 0)
                return r;
        r = webhook_deliveries(b->db, caller.account_id, id, &list);
        if (r == -ENOENT)
                return bus_error_of(error, ERROR_WEBHOOK_NOT_FOUND, "No webhook %" PRIi64 ".", id);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return bus_reply_json(m, list);
}
