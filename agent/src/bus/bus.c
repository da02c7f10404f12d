/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The D-Bus side's connection and lifecycle: connect (and reconnect after the
 * bus goes away), take the name, and turn store changes into StoreChanged
 * signals. The methods are in bus-method.c.
 */

#include <inttypes.h>

#include <systemd/sd-bus.h>

#include "basic/log.h"
#include "bus/bus-internal.h"
#include "bus/bus.h"
#include "core/db.h"
#include "core/store.h"

/* How often the main loop looks at the store change counter; StoreChanged lags a change by at most this. */
#define CHANGE_POLL_USEC (250 * USEC_PER_MSEC)
#define RECONNECT_USEC (2 * USEC_PER_SEC)
#define RECONNECT_MAX_USEC (60 * USEC_PER_SEC)

static void limits_from_config(Bus *b, const Config *c)
{
        store_limits_from_config(c, &b->limits);
        backup_policy_from_config(c, &b->backups);
}

/* ---- change signals ---- */

/* Emits StoreChanged for every store whose seq moved past the last one announced. */
static int emit_changes(Bus *b)
{
        for (;;) {
                _cleanup_(json_decrefp) json_t *items = NULL;
                int64_t max = b->last_seq;
                json_t *it;
                size_t i;
                int r;

                r = store_changes_since(b->db, &caller_system, b->last_seq, &items, &max);
                if (r < 0)
                        return r;
                json_array_foreach(items, i, it) {
                        const char *id = json_string_value(json_object_get(it, "id"));
                        const char *status = json_string_value(json_object_get(it, "status"));

                        if (!b->bus || !id || !status)
                                continue;
                        r = sd_bus_emit_signal(b->bus, STOREAGENT_BUS_PATH, STOREAGENT_BUS_INTERFACE, "StoreChanged",
                                               "ss", id, status);
                        if (r < 0)
                                log_debug_errno(r, "Failed to emit StoreChanged for %s: %m", id);
                }
                b->last_seq = max;
                if (json_array_size(items) < LIST_PAGE)
                        return 0;
        }
}

static int on_change_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Bus *b = userdata;
        uint64_t c = store_changed_counter();
        int r;

        if (c != b->seen_counter) {
                r = emit_changes(b);
                if (r < 0) {
                        /* Tried again every poll until it works; one line says so, not four a second. */
                        if (!b->changes_failing)
                                log_warning_errno(r, "Failed to read store changes for D-Bus signals, retrying: %m");
                        b->changes_failing = true;
                } else {
                        if (b->changes_failing)
                                log_info("Store changes for D-Bus signals are read again.");
                        b->changes_failing = false;
                        b->seen_counter = c;
                }
        }
        /* A time source is one-shot: it is switched off before this runs, so arm it again. */
        r = sd_event_source_set_time(s, usec + CHANGE_POLL_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* ---- connection ---- */

static int bus_connect(Bus *b);

/* Tries again after a delay that doubles up to a minute, so a bus that is gone for long costs nothing. */
static int schedule_reconnect(Bus *b);

static int on_reconnect_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
        Bus *b = userdata;
        int r;

        if (b->bus) {
                sd_bus_detach_event(b->bus);
                b->bus = sd_bus_flush_close_unref(b->bus);
        }
        r = bus_connect(b);
        if (r < 0) {
                log_debug_errno(r, "Connecting to the system bus failed, trying again: %m");
                return schedule_reconnect(b);
        }
        b->reconnect_delay = 0;
        log_info("Connected to the system bus as %s.", STOREAGENT_BUS_NAME);
        return 0;
}

static int schedule_reconnect(Bus *b)
{
        int r;

        b->reconnect_delay = b->reconnect_delay == 0 ? RECONNECT_USEC : MIN(b->reconnect_delay * 2, RECONNECT_MAX_USEC);
        if (!b->reconnect_timer)
                r = sd_event_add_time_relative(b->event, &b->reconnect_timer, CLOCK_MONOTONIC, b->reconnect_delay, 0,
                                               on_reconnect_timer, b);
        else {
                /* A time source is one-shot: it is off after it ran, so arm it again. */
                r = sd_event_source_set_time_relative(b->reconnect_timer, b->reconnect_delay);
                if (r >= 0)
                        r = sd_event_source_set_enabled(b->reconnect_timer, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to schedule connecting to the system bus: %m");
        return 0;
}

static int on_disconnected(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;

        /* The connection is dropped from the timer, not here: sd-bus is still dispatching this message. */
        log_warning("Lost the system bus connection; storectl is unavailable until it is back.");
        b->reconnect_delay = 0;
        return schedule_reconnect(b);
}

static int bus_connect(Bus *b)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_add_object_vtable(bus, NULL, STOREAGENT_BUS_PATH, STOREAGENT_BUS_INTERFACE, bus_agent_vtable, b);
        if (r < 0)
                return r;
        /* sd-bus turns the end of the connection into this local signal; without a match it would be dropped. */
        r = sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_disconnected, b);
        if (r < 0)
                return r;
        r = sd_bus_request_name(bus, STOREAGENT_BUS_NAME, 0);
        if (r < 0)
                return r;
        r = sd_bus_attach_event(bus, b->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return r;
        b->bus = TAKE_PTR(bus);
        return 0;
}

int bus_new(Bus **ret, sd_event *event, const Config *config, const BusHooks *hooks,
            void (*on_queued)(void *userdata), void *userdata)
{
        _cleanup_(bus_freep) Bus *b = NULL;
        int r;

        assert(ret);
        assert(event);
        assert(config);
        *ret = NULL;
        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->event = sd_event_ref(event);
        bus_logs_init(&b->logs, config->max_streams);
        b->limits_logs.max_log_lines = config->max_log_lines;
        b->limits_logs.max_log_bytes = config->max_log_bytes;
        b->limits_stats.history_keep_sec = config->history_keep_sec;
        b->limits_stats.history_max_changes = config->history_max_changes;
        b->limits_stats.max_creates = config->stats_max_creates;
        b->limits_webhooks.max_url_bytes = config->webhook_max_url_bytes;
        b->limits_webhooks.max_per_account = config->webhook_max_per_account;
        b->on_queued = on_queued;
        if (hooks)
                b->hooks = *hooks;
        b->userdata = userdata;
        limits_from_config(b, config);
        b->state_dir = strdup(config->state_dir);
        b->database = strdup(config->database);
        if (!b->state_dir || !b->database)
                return -ENOMEM;
        r = bus_offloads_init(b, config->max_cluster_calls);
        if (r < 0)
                return r;

        r = db_open(config->database, &b->db);
        if (r < 0)
                return r;
        b->seen_counter = store_changed_counter();
        r = store_max_seq(b->db, &b->last_seq);
        if (r < 0)
                return r;

        r = sd_event_add_time_relative(event, &b->change_timer, CLOCK_MONOTONIC, CHANGE_POLL_USEC,
                                       CHANGE_POLL_USEC / 5, on_change_timer, b);
        if (r < 0)
                return r;

        /* Without a bus (a container, CI) or before the policy knows our user, keep trying in the background. */
        r = bus_connect(b);
        if (r < 0) {
                log_warning_errno(r, "D-Bus interface unavailable for now (storectl cannot reach the daemon), "
                                     "retrying in the background: %m");
                r = schedule_reconnect(b);
                if (r < 0)
                        return r;
        } else
                log_debug("Serving %s on the system bus.", STOREAGENT_BUS_NAME);

        *ret = TAKE_PTR(b);
        return 0;
}

Bus *bus_free(Bus *b)
{
        if (!b)
                return NULL;
        bus_logs_done(&b->logs);
        if (b->offloads.source)
                bus_offloads_done(b);
        sd_event_source_disable_unref(b->change_timer);
        sd_event_source_disable_unref(b->reconnect_timer);
        if (b->bus) {
                /* Closing the connection gives the name back; no blocking ReleaseName call on the way out. */
                sd_bus_detach_event(b->bus);
                sd_bus_flush_close_unref(b->bus);
        }
        db_close(b->db);
        free(b->state_dir);
        free(b->database);
        sd_event_unref(b->event);
        free(b);
        return NULL;
}

void bus_reload(Bus *b, const Config *config)
{
        if (b)
                limits_from_config(b, config);
}

bool bus_busy(Bus *b)
{
        bool busy;

        if (!b)
                return false;
        busy = b->calls != b->calls_reported;
        b->calls_reported = b->calls;
        return busy;
}
