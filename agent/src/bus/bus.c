/* SPDX-License-Identifier: Apache-2.0 */

#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>

#include <systemd/sd-bus.h>

#include "basic/log.h"
#include "bus/bus.h"
#include "core/db.h"
#include "core/error.h"
#include "core/store.h"
#include "core/token.h"

/* How often the main loop looks at the store change counter; StoreChanged lags a change by at most this. */
#define CHANGE_POLL_USEC (250 * USEC_PER_MSEC)
#define RECONNECT_USEC (2 * USEC_PER_SEC)
#define RECONNECT_MAX_USEC (60 * USEC_PER_SEC)
#define LIST_PAGE 500
#define EVENTS_MAX 1000
#define EVENTS_DEFAULT 100

struct Bus {
        sd_event *event;
        sd_bus *bus;
        sd_event_source *change_timer;
        sd_event_source *reconnect_timer;
        uint64_t reconnect_delay;
        Db *db; /* the main thread's own connection */
        StoreLimits limits;
        void (*on_queued)(void *userdata);
        void *userdata;
        uint64_t seen_counter;
        int64_t last_seq;
        uint64_t calls;
        uint64_t calls_reported;
};

static void limits_from_config(StoreLimits *l, const Config *c)
{
        *l = (StoreLimits){
                .max_stores = c->max_stores,
                .creates_per_hour = c->creates_per_hour,
                .max_pending_tasks = c->max_pending_tasks,
        };
}

/* ---- who is calling ---- */

static int user_in_admin_group(const struct passwd *pw, bool *ret)
{
        struct group grp, *g = NULL;
        char buf[4096];
        gid_t groups[256];
        int n = (int) ELEMENTSOF(groups), r;

        r = getgrnam_r(STOREAGENT_ADMIN_GROUP, &grp, buf, sizeof buf, &g);
        if (r != 0)
                return -r;
        if (!g) {
                *ret = false;
                return 0;
        }
        if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
                return -E2BIG;
        for (int i = 0; i < n; i++)
                if (groups[i] == g->gr_gid) {
                        *ret = true;
                        return 0;
                }
        *ret = false;
        return 0;
}

/*
 * Identifies the caller from the bus credentials and decides whether it may
 * call us: root, our own user (tests on a private bus), or a member of the
 * admin group. The D-Bus policy already says the same; this holds when a
 * policy file is missing or too wide. The actor is the plain user name.
 */
static int caller_authorize(sd_bus_message *m, char *ret_actor, size_t n, sd_bus_error *error)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        struct passwd pw, *p = NULL;
        char buf[4096];
        uid_t uid;
        bool admin = false;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_UID, &creds);
        if (r < 0) {
                log_warning_errno(r, "Failed to read the credentials of a D-Bus caller: %m");
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Cannot determine who is calling.");
        }

        /* Only what the bus vouched for counts; values read later from /proc could belong to another process. */
        uint64_t augmented = sd_bus_creds_get_augmented_mask(creds);
        r = -ENODATA;
        if (!(augmented & SD_BUS_CREDS_EUID))
                r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0 && !(augmented & SD_BUS_CREDS_UID))
                r = sd_bus_creds_get_uid(creds, &uid);
        if (r < 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, "Cannot determine who is calling.");

        r = getpwuid_r(uid, &pw, buf, sizeof buf, &p);
        if (r == 0 && p)
                snprintf(ret_actor, n, "%s", p->pw_name);
        else
                snprintf(ret_actor, n, "uid:%u", (unsigned) uid);

        if (uid == 0 || uid == geteuid())
                return 0;
        if (p) {
                r = user_in_admin_group(p, &admin);
                if (r < 0)
                        log_warning_errno(r, "Failed to read the members of group '%s': %m", STOREAGENT_ADMIN_GROUP);
        }
        if (admin)
                return 0;

        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", ret_actor, "ACTION", "bus.denied", "BUS_MEMBER",
                                          sd_bus_message_get_member(m)),
                   "D-Bus call %s from %s refused: not root and not in group %s.", sd_bus_message_get_member(m),
                   ret_actor, STOREAGENT_ADMIN_GROUP);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Only root and members of group '%s' may manage stores.", STOREAGENT_ADMIN_GROUP);
}

/* ---- answers ---- */

/*
 * Answers a store-service result that is not 0 with the D-Bus error of the table in core/error.h.
 * The database's own failures that callers can act on (full, locked) map the same way; anything
 * else is the daemon's fault, logged here and answered as Failed.
 */
static int bus_store_error(sd_bus_error *error, int r, const StoreError *err)
{
        const ErrorInfo *e = error_info(error_from_errno(r));

        if (!e) {
                log_error_errno(r, "D-Bus request failed: %m");
                return sd_bus_error_set(error, SD_BUS_ERROR_FAILED,
                                        "The request could not be completed; see the daemon log.");
        }
        return sd_bus_error_set(error, e->bus_name, err && err->message[0] ? err->message : e->message);
}

/* Answers with a domain error's D-Bus name and a message about this call. */
_printf_(3, 4) static int bus_error_of(sd_bus_error *error, Error e, const char *fmt, ...)
{
        va_list ap;
        int r;

        assert(error_info(e));
        va_start(ap, fmt);
        r = sd_bus_error_setfv(error, error_info(e)->bus_name, fmt, ap);
        va_end(ap);
        return r;
}

/* Replies with one JSON value as a string; takes the reference. */
static int reply_json(sd_bus_message *m, json_t *v)
{
        _cleanup_free_ char *s = NULL;

        if (!v)
                return -ENOMEM;
        s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(v);
        if (!s)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "s", s);
}

/* Store ids come first; a name finds the newest store of that name. */
static int resolve_store(Bus *b, const char *id_or_name, Store **ret, sd_bus_error *error)
{
        int r;

        if (isempty(id_or_name) || strlen(id_or_name) > 128)
                return bus_error_of(error, ERROR_INVALID_REQUEST, "A store id or name is required.");
        r = store_get(b->db, id_or_name, ret);
        if (r == -ENOENT)
                r = store_get_by_name(b->db, id_or_name, ret);
        if (r == -ENOENT)
                return bus_error_of(error, ERROR_NOT_FOUND, "No store with id or name '%s'.", id_or_name);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return 0;
}

static void queued(Bus *b, const Store *s, const char *actor, const char *action)
{
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", s->id, "ACTOR", actor, "ACTION", action, "VIA", "dbus"),
                   "%s of store '%s' (%s) requested by %s over D-Bus.", action, s->name, s->id, actor);
        if (b->on_queued)
                b->on_queued(b->userdata);
}

/* ---- methods ---- */

static int method_list_stores(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(json_decrefp) json_t *all = NULL;
        const char *filter;
        char actor[128];
        StoreStatus status = _STORE_STATUS_INVALID;
        uint64_t total = 0;
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &filter);
        if (r < 0)
                return r;
        if (!isempty(filter)) {
                status = store_status_from_string(filter);
                if (status < 0)
                        return bus_error_of(error, ERROR_INVALID_REQUEST,
                                                 "Unknown status '%s'; use PROVISIONING, READY, FAILED, UPGRADING, "
                                                 "DELETING or DELETED.",
                                                 filter);
        }

        all = json_array();
        if (!all)
                return -ENOMEM;
        for (uint64_t offset = 0;; offset += LIST_PAGE) {
                _cleanup_(json_decrefp) json_t *page = NULL;

                r = store_list(b->db, status, LIST_PAGE, offset, &page, &total);
                if (r < 0)
                        return bus_store_error(error, r, NULL);
                if (json_array_extend(all, page) < 0)
                        return -ENOMEM;
                if (json_array_size(page) < LIST_PAGE || offset + LIST_PAGE >= total)
                        break;
        }
        return reply_json(m, TAKE_PTR(all));
}

static int method_get_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        const char *id;
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = resolve_store(b, id, &s, error);
        if (r < 0)
                return r;
        return reply_json(m, store_to_json(s));
}

static int method_create_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        const char *name, *engine;
        StoreError err = {};
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &name, &engine);
        if (r < 0)
                return r;
        r = store_create(b->db, &b->limits, actor, name, isempty(engine) ? "woocommerce" : engine, NULL, NULL, &s,
                         NULL, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        queued(b, s, actor, "store.create");
        return reply_json(m, store_to_json(s));
}

static int method_delete_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        StoreError err = {};
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = resolve_store(b, id, &cur, error);
        if (r < 0)
                return r;
        r = store_delete(b->db, actor, cur->id, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        if (cur->status != STORE_DELETED && cur->status != STORE_DELETING)
                queued(b, s, actor, "store.delete");
        return reply_json(m, store_to_json(s));
}

static int method_retry_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        StoreError err = {};
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = resolve_store(b, id, &cur, error);
        if (r < 0)
                return r;
        r = store_retry(b->db, &b->limits, actor, cur->id, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        queued(b, s, actor, "store.retry");
        return reply_json(m, store_to_json(s));
}

static int method_upgrade_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id, *version;
        StoreError err = {};
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &id, &version);
        if (r < 0)
                return r;
        r = resolve_store(b, id, &cur, error);
        if (r < 0)
                return r;
        r = store_upgrade(b->db, &b->limits, actor, cur->id, version, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        queued(b, s, actor, "store.upgrade");
        return reply_json(m, store_to_json(s));
}

static int method_rollback_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        int64_t revision;
        StoreError err = {};
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "sx", &id, &revision);
        if (r < 0)
                return r;
        r = resolve_store(b, id, &cur, error);
        if (r < 0)
                return r;
        r = store_rollback(b->db, &b->limits, actor, cur->id, revision, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        queued(b, s, actor, "store.rollback");
        return reply_json(m, store_to_json(s));
}

static int method_get_events(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        json_t *items = NULL;
        const char *id;
        uint32_t limit;
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "su", &id, &limit);
        if (r < 0)
                return r;
        if (limit > EVENTS_MAX)
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                         "limit must be at most %d (0 means %d).", EVENTS_MAX, EVENTS_DEFAULT);
        r = resolve_store(b, id, &s, error);
        if (r < 0)
                return r;
        r = store_events(b->db, s->id, limit > 0 ? limit : EVENTS_DEFAULT, 0, &items);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return reply_json(m, items);
}

static int method_create_token(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_erase_free_ char *token = NULL;
        const char *name;
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!token_name_is_valid(name))
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                         "Invalid token name '%.64s': use 1-64 of A-Z a-z 0-9 _ . @ -", name);
        r = token_create(b->db, name, &token);
        if (r == -EEXIST)
                return bus_error_of(error, ERROR_NAME_TAKEN, "A token named '%s' already exists.",
                                         name);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        /* The clear text goes to the caller once and is never logged. */
        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", actor, "ACTION", "token.create", "TOKEN_NAME", name, "VIA", "dbus"),
                   "API token '%s' created by %s over D-Bus.", name, actor);
        return sd_bus_reply_method_return(m, "s", token);
}

static int method_list_tokens(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        json_t *list = NULL;
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = token_list(b->db, &list);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return reply_json(m, list);
}

static int method_revoke_token(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        const char *name;
        char actor[128];
        int r;

        b->calls++;
        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = token_revoke(b->db, name);
        if (r == -ENOENT)
                return bus_error_of(error, ERROR_NOT_FOUND, "No active token named '%.64s'.", name);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", actor, "ACTION", "token.revoke", "TOKEN_NAME", name, "VIA", "dbus"),
                   "API token '%s' revoked by %s over D-Bus.", name, actor);
        return sd_bus_reply_method_return(m, NULL);
}

static int property_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                            sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

/*
 * Every member is UNPRIVILEGED as far as sd-bus is concerned: its default check
 * (CAP_SYS_ADMIN or our own uid) would refuse the admin group. caller_authorize()
 * decides instead.
 */
static const sd_bus_vtable agent_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("ListStores", SD_BUS_ARGS("s", status_filter), SD_BUS_RESULT("s", stores_json),
                                method_list_stores, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStore", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", store_json),
                                method_get_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateStore", SD_BUS_ARGS("s", name, "s", engine), SD_BUS_RESULT("s", store_json),
                                method_create_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteStore", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", store_json),
                                method_delete_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RetryStore", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", store_json),
                                method_retry_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("UpgradeStore", SD_BUS_ARGS("s", id_or_name, "s", chart_version),
                                SD_BUS_RESULT("s", store_json), method_upgrade_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RollbackStore", SD_BUS_ARGS("s", id_or_name, "x", revision),
                                SD_BUS_RESULT("s", store_json), method_rollback_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetEvents", SD_BUS_ARGS("s", id_or_name, "u", limit), SD_BUS_RESULT("s", events_json),
                                method_get_events, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateToken", SD_BUS_ARGS("s", name), SD_BUS_RESULT("s", token), method_create_token,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTokens", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", tokens_json), method_list_tokens,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RevokeToken", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, method_revoke_token,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("StoreChanged", SD_BUS_ARGS("s", id, "s", status), 0),
        SD_BUS_VTABLE_END,
};

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

                r = store_changes_since(b->db, b->last_seq, &items, &max);
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
                if (r < 0)
                        log_warning_errno(r, "Failed to read store changes for D-Bus signals: %m");
                else
                        b->seen_counter = c;
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
        r = sd_bus_add_object_vtable(bus, NULL, STOREAGENT_BUS_PATH, STOREAGENT_BUS_INTERFACE, agent_vtable, b);
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

int bus_new(Bus **ret, sd_event *event, const Config *config, void (*on_queued)(void *userdata), void *userdata)
{
        _cleanup_(bus_freep) Bus *b = NULL;
        int r;

        *ret = NULL;
        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->event = sd_event_ref(event);
        b->on_queued = on_queued;
        b->userdata = userdata;
        limits_from_config(&b->limits, config);

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
        sd_event_source_disable_unref(b->change_timer);
        sd_event_source_disable_unref(b->reconnect_timer);
        if (b->bus) {
                /* Closing the connection gives the name back; no blocking ReleaseName call on the way out. */
                sd_bus_detach_event(b->bus);
                sd_bus_flush_close_unref(b->bus);
        }
        db_close(b->db);
        sd_event_unref(b->event);
        free(b);
        return NULL;
}

void bus_reload(Bus *b, const Config *config)
{
        if (b)
                limits_from_config(&b->limits, config);
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
