/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The methods of org.storeagent.Agent1: who may call them, what they answer
 * (the store service's JSON, or a D-Bus error from core/error.h's table).
 */

#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>

#include <systemd/sd-bus.h>

#include "basic/dbus-names.h"
#include "basic/log.h"
#include "bus/bus-internal.h"
#include "core/db.h"
#include "core/error.h"
#include "core/store.h"
#include "core/token.h"

#define EVENTS_MAX 1000
#define EVENTS_DEFAULT 100

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

        assert(m);
        assert(ret_actor);
        assert(n >= 32);

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

        /*
         * A user name too long for the audit fields is not cut (it could read as someone
         * else's): the uid stands in.
         */
        r = getpwuid_r(uid, &pw, buf, sizeof buf, &p);
        if (r != 0 || !p || strlen(p->pw_name) >= n) {
                int k = snprintf(ret_actor, n, "uid:%u", (unsigned) uid);
                assert(k >= 0 && (size_t) k < n); /* "uid:" and ten digits */
        } else
                strcpy(ret_actor, p->pw_name);

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

/*
 * The account a D-Bus caller acts as: the admin account named after its user (made on first
 * use; root and the admin group are admins, as the policy says). An operator may instead make
 * an account of that name a tenant (`storeagentd account create NAME --role tenant`): the
 * caller then acts as that tenant. A disabled account is refused.
 */
static int bus_store_error(sd_bus_error *error, int r, const StoreError *err);

static int bus_caller(Bus *b, sd_bus_message *m, Caller *ret, sd_bus_error *error)
{
        _cleanup_(account_freep) Account *a = NULL;
        char actor[128];
        int r;

        r = caller_authorize(m, actor, sizeof actor, error);
        if (r < 0)
                return r;
        r = account_ensure_admin(b->db, actor, &a);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "User '%s' cannot have an account (its name is not a valid account name).",
                                         actor);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        if (a->disabled_at > 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Account '%s' is disabled.", a->name);
        caller_from_account(a, ret);
        ret->source = "dbus";
        return 0;
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
static int resolve_store(Bus *b, const Caller *caller, const char *id_or_name, Store **ret, sd_bus_error *error)
{
        int r;

        if (isempty(id_or_name) || strlen(id_or_name) > 128)
                return bus_error_of(error, ERROR_INVALID_REQUEST, "A store id or name is required.");
        r = store_get_visible(b->db, caller, id_or_name, ret);
        if (r == -ENOENT) {
                _cleanup_(store_freep) Store *byname = NULL;
                r = store_get_by_name(b->db, id_or_name, &byname);
                if (r >= 0 && caller_is_admin(caller) == false && byname->account_id != caller->account_id)
                        r = -ENOENT;
                if (r >= 0)
                        *ret = TAKE_PTR(byname);
        }
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
        Caller caller;
        StoreStatus status = _STORE_STATUS_INVALID;
        uint64_t total = 0;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
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

                r = store_list(b->db, &caller, NULL, status, LIST_PAGE, offset, &page, &total);
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
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = resolve_store(b, &caller, id, &s, error);
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
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &name, &engine);
        if (r < 0)
                return r;
        r = store_create(b->db, &b->limits, &caller, name, isempty(engine) ? "woocommerce" : engine, NULL, NULL, &s,
                         NULL, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        queued(b, s, caller.account, "store.create");
        return reply_json(m, store_to_json(s));
}

static int method_delete_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = resolve_store(b, &caller, id, &cur, error);
        if (r < 0)
                return r;
        r = store_delete(b->db, &caller, cur->id, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        if (cur->status != STORE_DELETED && cur->status != STORE_DELETING)
                queued(b, s, caller.account, "store.delete");
        return reply_json(m, store_to_json(s));
}

static int method_retry_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        r = resolve_store(b, &caller, id, &cur, error);
        if (r < 0)
                return r;
        r = store_retry(b->db, &b->limits, &caller, cur->id, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        queued(b, s, caller.account, "store.retry");
        return reply_json(m, store_to_json(s));
}

static int method_upgrade_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id, *version;
        StoreError err = {};
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &id, &version);
        if (r < 0)
                return r;
        r = resolve_store(b, &caller, id, &cur, error);
        if (r < 0)
                return r;
        r = store_upgrade(b->db, &b->limits, &caller, cur->id, version, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        queued(b, s, caller.account, "store.upgrade");
        return reply_json(m, store_to_json(s));
}

static int method_rollback_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        int64_t revision;
        StoreError err = {};
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "sx", &id, &revision);
        if (r < 0)
                return r;
        r = resolve_store(b, &caller, id, &cur, error);
        if (r < 0)
                return r;
        r = store_rollback(b->db, &b->limits, &caller, cur->id, revision, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        queued(b, s, caller.account, "store.rollback");
        return reply_json(m, store_to_json(s));
}

static int method_get_events(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        json_t *items = NULL;
        const char *id;
        uint32_t limit;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "su", &id, &limit);
        if (r < 0)
                return r;
        if (limit > EVENTS_MAX)
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                         "limit must be at most %d (0 means %d).", EVENTS_MAX, EVENTS_DEFAULT);
        r = resolve_store(b, &caller, id, &s, error);
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
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        if (!token_name_is_valid(name))
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                         "Invalid token name '%.64s': use 1-64 of A-Z a-z 0-9 _ . @ -", name);
        {
                /* As the command line's `token create --name NAME`: a token of the admin account NAME. */
                _cleanup_(account_freep) Account *owner = NULL;
                r = account_ensure_admin(b->db, name, &owner);
                if (r >= 0)
                        r = token_create(b->db, owner->id, name, 0, &token);
        }
        if (r == -EEXIST)
                return bus_error_of(error, ERROR_NAME_TAKEN, "A token named '%s' already exists.",
                                         name);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        /* The clear text goes to the caller once and is never logged. */
        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", caller.account, "ACTION", "token.create", "TOKEN_NAME", name, "VIA", "dbus"),
                   "API token '%s' created by %s over D-Bus.", name, caller.account);
        return sd_bus_reply_method_return(m, "s", token);
}

static int method_list_tokens(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        json_t *list = NULL;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = token_list(b->db, caller_is_admin(&caller) ? 0 : caller.account_id, &list);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return reply_json(m, list);
}

static int method_revoke_token(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        const char *name;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        {
                _cleanup_(account_freep) Account *owner = NULL;
                r = account_get_by_name(b->db, name, &owner);
                if (r >= 0)
                        r = token_revoke(b->db, owner->id, name);
        }
        if (r == -ENOENT)
                return bus_error_of(error, ERROR_NOT_FOUND, "No active token named '%.64s'.", name);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", caller.account, "ACTION", "token.revoke", "TOKEN_NAME", name, "VIA", "dbus"),
                   "API token '%s' revoked by %s over D-Bus.", name, caller.account);
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
const sd_bus_vtable bus_agent_vtable[] = {
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
