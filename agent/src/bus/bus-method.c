/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The methods of org.storeagent.Agent1: who may call them, the store methods
 * and what they answer (the store service's JSON, or a D-Bus error from
 * core/error.h's table), and the vtable. Accounts, tokens, transfers and
 * credentials are in bus-account.c, backups in bus-backup.c.
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
#include "core/audit.h"

#define EVENTS_MAX 1000
#define EVENTS_DEFAULT 100

/* ---- who is calling ---- */

static int user_in_group(const struct passwd *pw, const char *group, bool *ret)
{
        struct group grp, *g = NULL;
        char buf[4096];
        gid_t groups[256];
        int n = (int) ELEMENTSOF(groups), r;

        r = getgrnam_r(group, &grp, buf, sizeof buf, &g);
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

typedef enum Peer {
        PEER_ADMIN,  /* root, our own user, the admin group */
        PEER_TENANT, /* the tenant group: only as an existing tenant account of the user's name */
} Peer;

/*
 * Identifies the caller from the bus credentials and decides whether it may
 * call us at all: root, our own user (tests on a private bus), a member of the
 * admin group, or a member of the tenant group. The D-Bus policy already says
 * the same; this holds when a policy file is missing or too wide. The actor is
 * the plain user name.
 */
static int caller_authorize(sd_bus_message *m, char *ret_actor, size_t n, Peer *ret_peer, sd_bus_error *error)
{
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        struct passwd pw, *p = NULL;
        char buf[4096];
        uid_t uid;
        bool admin = false, tenant = false;
        int r;

        assert(m);
        assert(ret_actor);
        assert(n >= 32);
        assert(ret_peer);

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

        *ret_peer = PEER_ADMIN;
        if (uid == 0 || uid == geteuid())
                return 0;
        if (p) {
                r = user_in_group(p, STOREAGENT_ADMIN_GROUP, &admin);
                if (r < 0)
                        log_warning_errno(r, "Failed to read the members of group '%s': %m", STOREAGENT_ADMIN_GROUP);
                if (!admin) {
                        r = user_in_group(p, STOREAGENT_TENANT_GROUP, &tenant);
                        if (r < 0)
                                log_warning_errno(r, "Failed to read the members of group '%s': %m",
                                                  STOREAGENT_TENANT_GROUP);
                }
        }
        if (admin)
                return 0;
        if (tenant) {
                *ret_peer = PEER_TENANT;
                return 0;
        }

        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", ret_actor, "ACTION", "bus.denied", "BUS_MEMBER",
                                          sd_bus_message_get_member(m)),
                   "D-Bus call %s from %s refused: not root and not in group %s or %s.",
                   sd_bus_message_get_member(m), ret_actor, STOREAGENT_ADMIN_GROUP, STOREAGENT_TENANT_GROUP);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "Only root and members of groups '%s' and '%s' may use storeagent.",
                                 STOREAGENT_ADMIN_GROUP, STOREAGENT_TENANT_GROUP);
}

/* A caller the bus let in but who has no usable account; recorded like any refusal. */
static int refuse_peer(Bus *b, const char *actor, const char *message, sd_bus_error *error)
{
        AuditEntry e = { .actor = actor, .action = "bus.denied", .target_kind = "account", .target = actor,
                         .result = AUDIT_DENIED, .error = "forbidden", .source = "dbus" };

        (void) audit_record(b->db, &e);
        return sd_bus_error_set(error, SD_BUS_ERROR_ACCESS_DENIED, message);
}

/*
 * The account a D-Bus caller acts as. Root, our own user and the admin group act as the admin
 * account named after the user (made on first use), unless an operator made an account of that
 * name a tenant (`storeagentd account create NAME --role tenant`): then as that tenant. Members of
 * the tenant group act only as an existing tenant account of their name: nothing is made for
 * them, and an admin account of their name (one an old token left behind) is not theirs to use.
 * A disabled account is refused.
 */
int bus_caller(Bus *b, sd_bus_message *m, Caller *ret, sd_bus_error *error)
{
        _cleanup_(account_freep) Account *a = NULL;
        char actor[128], message[512];
        Peer peer;
        int r;

        assert(b);
        assert(m);
        assert(ret);

        r = caller_authorize(m, actor, sizeof actor, &peer, error);
        if (r < 0)
                return r;
        if (peer == PEER_TENANT) {
                r = account_name_is_valid(actor) ? account_get_by_name(b->db, actor, &a) : -ENOENT;
                if (r == -ENOENT || (r >= 0 && a->role != ACCOUNT_TENANT)) {
                        xsprintf(message,
                                 "User '%s' has no tenant account; an operator makes one with "
                                 "'storeagentd account create %s --role tenant'.",
                                 actor, actor);
                        return refuse_peer(b, actor, message, error);
                }
        } else
                r = account_ensure_admin(b->db, actor, &a);
        if (r == -EINVAL)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "User '%s' cannot have an account (its name is not a valid account name).",
                                         actor);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        if (a->disabled_at > 0) {
                xsprintf(message, "Account '%s' is disabled.", a->name);
                return refuse_peer(b, actor, message, error);
        }
        caller_from_account(a, ret);
        ret->source = "dbus";
        return 0;
}

int bus_refuse_tenant(Bus *b, const Caller *c, const char *action, const char *target_kind, const char *target,
                      sd_bus_error *error)
{
        assert(b);
        assert(c);
        assert(action);

        bus_audit(b, c, action, target_kind, target, NULL, ERROR_FORBIDDEN);
        return bus_error_of(error, ERROR_FORBIDDEN, "Only an admin may do this (%s); account '%s' is a tenant.",
                            action, c->account);
}

void bus_audit(Bus *b, const Caller *c, const char *action, const char *target_kind, const char *target,
               const char *store_id, int r)
{
        const ErrorInfo *info = r > 0 ? error_info(error_from_errno(r)) : NULL;
        AuditEntry e = {
                .caller = c,
                .action = action,
                .target_kind = target_kind,
                .target = target,
                .store_id = store_id,
                .result = r == 0 ? AUDIT_OK : r > 0 ? AUDIT_DENIED : AUDIT_FAILED,
                .error = info ? info->code : r != 0 ? "internal_error" : NULL,
                .source = "dbus",
        };

        assert(b);
        assert(action);
        /* A record that cannot be written is still in the journal (audit_record logs it). */
        (void) audit_record(b->db, &e);
}

/* ---- answers ---- */

/*
 * Answers a store-service result that is not 0 with the D-Bus error of the table in core/error.h.
 * The database's own failures that callers can act on (full, locked) map the same way; anything
 * else is the daemon's fault, logged here and answered as Failed.
 */
int bus_store_error(sd_bus_error *error, int r, const StoreError *err)
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
int bus_error_of(sd_bus_error *error, Error e, const char *fmt, ...)
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
int bus_reply_json(sd_bus_message *m, json_t *v)
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
int bus_resolve_store(Bus *b, const Caller *caller, const char *id_or_name, Store **ret, sd_bus_error *error)
{
        int r;

        if (isempty(id_or_name) || strlen(id_or_name) > 128)
                return bus_error_of(error, ERROR_INVALID_REQUEST, "A store id or name is required.");
        r = store_get_visible(b->db, caller, id_or_name, ret);
        if (r == -ENOENT)
                r = store_get_visible_by_name(b->db, caller, id_or_name, ret);
        if (r == -ENOENT)
                return bus_error_of(error, ERROR_NOT_FOUND, "No store with id or name '%s'.", id_or_name);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return 0;
}

int bus_store_method_begin(Bus *b, sd_bus_message *m, sd_bus_error *error, Caller *ret_caller,
                           Store **ret_store, const char *types, ...)
{
        const char **id;
        va_list ap;
        int r;

        assert(b);
        assert(m);
        assert(ret_caller);
        assert(ret_store);
        assert(types && types[0] == 's');

        b->calls++;
        r = bus_caller(b, m, ret_caller, error);
        if (r < 0)
                return r;
        va_start(ap, types);
        r = sd_bus_message_readv(m, types, ap);
        va_end(ap);
        if (r < 0)
                return r;
        va_start(ap, types);
        id = va_arg(ap, const char **);
        va_end(ap);
        return bus_resolve_store(b, ret_caller, *id, ret_store, error);
}

void bus_queued(Bus *b, const Store *s, const char *actor, const char *action)
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
        /* Page by page along the cursor: a store changed in between is neither listed twice nor missed. */
        for (StoreCursor cursor = {};;) {
                _cleanup_(json_decrefp) json_t *page = NULL;
                StoreListQuery q = { .status = status, .limit = LIST_PAGE };
                bool more;

                if (json_array_size(all) > 0)
                        q.cursor = &cursor;
                r = store_list(b->db, &caller, &q, &page, &total, &cursor, &more);
                if (r < 0)
                        return bus_store_error(error, r, NULL);
                if (json_array_extend(all, page) < 0)
                        return -ENOMEM;
                if (!more)
                        break;
        }
        return bus_reply_json(m, TAKE_PTR(all));
}

static int method_get_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        const char *id;
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &s, "s", &id);
        if (r < 0)
                return r;
        return bus_reply_json(m, store_to_json(s));
}

/* A create or an upgrade asks the cluster for room (admission): on a thread of its own (bus-offload.c). */
typedef struct StoreCall {
        StoreLimits limits;
        Caller caller;
        char *name_or_id, *engine, *version;
        bool upgrade;
        Store *store;
        StoreError err;
} StoreCall;

static void store_call_free(void *userdata)
{
        StoreCall *c = userdata;

        if (!c)
                return;
        free(c->name_or_id);
        free(c->engine);
        free(c->version);
        store_free(c->store);
        free(c);
}

static int store_call_work(Db *db, void *userdata, json_t **ret)
{
        StoreCall *c = userdata;

        if (c->upgrade)
                return store_upgrade(db, &c->limits, &c->caller, c->name_or_id, c->version, &c->store, &c->err);
        return store_create(db, &c->limits, &c->caller, c->name_or_id, c->engine, NULL, NULL, &c->store, NULL,
                            &c->err);
}

static int store_call_reply(Bus *b, sd_bus_message *m, int r, json_t *result, void *userdata)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        StoreCall *c = userdata;

        if (r != 0) {
                r = bus_store_error(&error, r, &c->err);
                return sd_bus_error_is_set(&error) ? sd_bus_reply_method_error(m, &error) : r;
        }
        bus_queued(b, c->store, c->caller.account, c->upgrade ? "store.upgrade" : "store.create");
        return bus_reply_json(m, store_to_json(c->store));
}

static int store_call(Bus *b, sd_bus_message *m, const Caller *caller, bool upgrade, const char *name_or_id,
                      const char *engine, const char *version, sd_bus_error *error)
{
        StoreCall *c = calloc(1, sizeof *c);

        if (!c)
                return -ENOMEM;
        *c = (StoreCall) { .limits = b->limits, .caller = *caller, .upgrade = upgrade,
                           .name_or_id = strdup(name_or_id), .engine = strdup(strempty(engine)),
                           .version = strdup(strempty(version)) };
        if (!c->name_or_id || !c->engine || !c->version) {
                store_call_free(c);
                return -ENOMEM;
        }
        return bus_offload(b, m, store_call_work, store_call_reply, c, store_call_free, error);
}

static int method_create_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        const char *name, *engine;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &name, &engine);
        if (r < 0)
                return r;
        return store_call(b, m, &caller, false, name, isempty(engine) ? "woocommerce" : engine, NULL, error);
}

static int method_delete_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        r = store_delete(b->db, &caller, cur->id, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        if (cur->status != STORE_DELETED && cur->status != STORE_DELETING)
                bus_queued(b, s, caller.account, "store.delete");
        return bus_reply_json(m, store_to_json(s));
}

static int method_retry_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        r = store_retry(b->db, &b->limits, &caller, cur->id, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        bus_queued(b, s, caller.account, "store.retry");
        return bus_reply_json(m, store_to_json(s));
}

static int method_upgrade_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        const char *id, *version;
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "ss", &id, &version);
        if (r < 0)
                return r;
        return store_call(b, m, &caller, true, cur->id, NULL, version, error);
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

        r = bus_store_method_begin(b, m, error, &caller, &cur, "sx", &id, &revision);
        if (r < 0)
                return r;
        r = store_rollback(b->db, &b->limits, &caller, cur->id, revision, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        bus_queued(b, s, caller.account, "store.rollback");
        return bus_reply_json(m, store_to_json(s));
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
        r = bus_resolve_store(b, &caller, id, &s, error);
        if (r < 0)
                return r;
        r = store_events(b->db, s->id, limit > 0 ? limit : EVENTS_DEFAULT, 0, &items);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return bus_reply_json(m, items);
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
        SD_BUS_METHOD_WITH_ARGS("RedeployStore", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", store_json),
                                bus_method_redeploy_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStoreSettings", SD_BUS_ARGS("s", id_or_name),
                                SD_BUS_RESULT("s", settings_json), bus_method_get_store_settings,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStoreUsage", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", usage_json),
                                bus_method_get_store_usage, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetStoreSettings", SD_BUS_ARGS("s", id_or_name, "s", settings_json),
                                SD_BUS_RESULT("s", store_json), bus_method_set_store_settings,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStoreDomains", SD_BUS_ARGS("s", id_or_name),
                                SD_BUS_RESULT("s", domains_json), bus_method_get_store_domains,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddStoreDomain", SD_BUS_ARGS("s", id_or_name, "s", domain, "b", primary),
                                SD_BUS_RESULT("s", store_json), bus_method_add_store_domain,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveStoreDomain", SD_BUS_ARGS("s", id_or_name, "s", domain),
                                SD_BUS_RESULT("s", store_json), bus_method_remove_store_domain,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetStorePrimaryDomain", SD_BUS_ARGS("s", id_or_name, "s", domain),
                                SD_BUS_RESULT("s", store_json), bus_method_set_store_primary_domain,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RollbackStore", SD_BUS_ARGS("s", id_or_name, "x", revision),
                                SD_BUS_RESULT("s", store_json), method_rollback_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetEvents", SD_BUS_ARGS("s", id_or_name, "u", limit), SD_BUS_RESULT("s", events_json),
                                method_get_events, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("BackupStore", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", backup_json),
                                bus_method_backup_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListBackups", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", backups_json),
                                bus_method_list_backups, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetBackupSchedule", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", schedule_json),
                                bus_method_get_backup_schedule, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetBackupSchedule", SD_BUS_ARGS("s", id_or_name, "x", every_sec),
                                SD_BUS_RESULT("s", schedule_json), bus_method_set_backup_schedule,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteBackup", SD_BUS_ARGS("s", id_or_name, "s", backup), SD_BUS_NO_RESULT,
                                bus_method_delete_backup, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestoreStore", SD_BUS_ARGS("s", id_or_name, "s", backup),
                                SD_BUS_RESULT("s", restore_json), bus_method_restore_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CloneStore", SD_BUS_ARGS("s", name, "s", source_id_or_name, "s", backup),
                                SD_BUS_RESULT("s", store_json), bus_method_clone_store,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        /* One argument: as `storeagentd token create --name NAME` for admins; see storeagentd(8). */
        SD_BUS_METHOD_WITH_ARGS("CreateToken", SD_BUS_ARGS("s", name), SD_BUS_RESULT("s", token),
                                bus_method_create_token, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTokens", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", tokens_json),
                                bus_method_list_tokens, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RevokeToken", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT, bus_method_revoke_token,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        /* Accounts and their tokens, as the REST API's /accounts and /tokens. */
        SD_BUS_METHOD_WITH_ARGS("ListAccounts", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", accounts_json),
                                bus_method_list_accounts, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateAccount", SD_BUS_ARGS("s", name, "s", role), SD_BUS_RESULT("s", account_json),
                                bus_method_create_account, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAccountLimits", SD_BUS_ARGS("s", name, "x", max_stores, "x", creates_per_hour),
                                SD_BUS_RESULT("s", account_json), bus_method_set_account_limits,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetAccountDisabled", SD_BUS_ARGS("s", name, "b", disabled),
                                SD_BUS_RESULT("s", account_json), bus_method_set_account_disabled,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListAccountTokens", SD_BUS_ARGS("s", account), SD_BUS_RESULT("s", tokens_json),
                                bus_method_list_account_tokens, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateAccountToken", SD_BUS_ARGS("s", account, "s", name, "t", expires_in_sec),
                                SD_BUS_RESULT("s", token_json), bus_method_create_account_token,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RevokeAccountToken", SD_BUS_ARGS("s", account, "s", name), SD_BUS_NO_RESULT,
                                bus_method_revoke_account_token, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("TransferStore", SD_BUS_ARGS("s", id_or_name, "s", account),
                                SD_BUS_RESULT("s", store_json), bus_method_transfer_store, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetCredentials", SD_BUS_ARGS("s", id_or_name), SD_BUS_RESULT("s", credentials_json),
                                bus_method_get_credentials, SD_BUS_VTABLE_UNPRIVILEGED),
        /* A container's log as the read end of a pipe; pod "" is the web pod, container "" its first. */
        SD_BUS_METHOD_WITH_ARGS("GetLogs",
                                SD_BUS_ARGS("s", id_or_name, "s", pod, "s", container, "t", tail, "b",
                                            follow),
                                SD_BUS_RESULT("h", log), bus_method_get_logs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetCapacity", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", capacity_json),
                                bus_method_get_capacity, SD_BUS_VTABLE_UNPRIVILEGED),
        /* Admins: GET /api/v1/platform/stats (window in seconds, the last `creates` creates) without capacity. */
        SD_BUS_METHOD_WITH_ARGS("GetPlatformStats", SD_BUS_ARGS("t", window_sec, "t", creates),
                                SD_BUS_RESULT("s", stats_json), bus_method_get_platform_stats,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        /* The caller's own account's webhooks, as the REST API's /webhooks; events: comma-separated, "": all. */
        SD_BUS_METHOD_WITH_ARGS("ListWebhooks", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", webhooks_json),
                                bus_method_list_webhooks, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CreateWebhook", SD_BUS_ARGS("s", url, "s", events, "b", all_stores),
                                SD_BUS_RESULT("s", webhook_json), bus_method_create_webhook,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("DeleteWebhook", SD_BUS_ARGS("x", id), SD_BUS_NO_RESULT, bus_method_delete_webhook,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("SetWebhookEnabled", SD_BUS_ARGS("x", id, "b", enabled),
                                SD_BUS_RESULT("s", webhook_json), bus_method_set_webhook_enabled,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("TestWebhook", SD_BUS_ARGS("x", id), SD_BUS_RESULT("s", delivery_json),
                                bus_method_test_webhook, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListWebhookDeliveries", SD_BUS_ARGS("x", id), SD_BUS_RESULT("s", deliveries_json),
                                bus_method_list_webhook_deliveries, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL_WITH_ARGS("StoreChanged", SD_BUS_ARGS("s", id, "s", status), 0),
        SD_BUS_VTABLE_END,
};
