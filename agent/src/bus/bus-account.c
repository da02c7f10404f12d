/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The methods of org.storeagent.Agent1 about accounts, their tokens, who owns a
 * store and a store's credentials: the REST API's /accounts, /tokens,
 * /stores/{id}/transfer and /stores/{id}/credentials over D-Bus, with the same
 * rules. Admins manage every account; a tenant only its own tokens and the
 * credentials of its own stores. Every change, and every refusal, is a record
 * of the audit log with source "dbus".
 */

#include <inttypes.h>

#include <systemd/sd-bus.h>

#include "basic/dbus-names.h"
#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "bus/bus-internal.h"
#include "core/audit.h"
#include "core/token.h"

/* As the command line's account set: a limit is a count up to this, or -1 for the configured default. */
#define LIMIT_MAX INT64_C(1000000)
/* Ten years: longer is a token that never expires, which is 0. */
#define EXPIRES_IN_MAX (UINT64_C(10) * 366 * 24 * 3600)

/* The account name names, for an admin's method: refuses a tenant, and answers NotFound for an unknown one. */
static int admin_account(Bus *b, const Caller *c, const char *name, const char *action, Account **ret,
                         sd_bus_error *error)
{
        int r;

        if (!caller_is_admin(c))
                return bus_refuse_tenant(b, c, action, "account", name, error);
        r = account_name_is_valid(name) ? account_get_by_name(b->db, name, ret) : -ENOENT;
        if (r == -ENOENT) {
                bus_audit(b, c, action, "account", name, NULL, ERROR_ACCOUNT_NOT_FOUND);
                return bus_error_of(error, ERROR_ACCOUNT_NOT_FOUND, "No account named '%.*s'.", UTF8_PREFIX(name, 64));
        }
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return 0;
}

/*
 * The account whose tokens a call is about: "" (or the caller's own name) is the caller's own; any
 * other account is an admin's business.
 */
static int token_account(Bus *b, const Caller *c, const char *name, const char *action, Account **ret,
                         sd_bus_error *error)
{
        int r;

        if (isempty(name) || streq(name, c->account)) {
                r = account_get(b->db, c->account_id, ret);
                if (r < 0)
                        return bus_store_error(error, r, NULL);
                return 0;
        }
        return admin_account(b, c, name, action, ret, error);
}

static int reply_account(Bus *b, sd_bus_message *m, int64_t id, sd_bus_error *error)
{
        _cleanup_(account_freep) Account *a = NULL;
        int r;

        r = account_get(b->db, id, &a);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return bus_reply_json(m, account_to_json(a));
}

int bus_method_list_accounts(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        json_t *list = NULL;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        if (!caller_is_admin(&caller))
                return bus_refuse_tenant(b, &caller, "account.list", NULL, NULL, error);
        r = account_list(b->db, &list);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return bus_reply_json(m, list);
}

int bus_method_create_account(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(account_freep) Account *a = NULL;
        const char *name, *role_name;
        AccountRole role;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &name, &role_name);
        if (r < 0)
                return r;
        if (!caller_is_admin(&caller))
                return bus_refuse_tenant(b, &caller, "account.create", "account", name, error);
        /* A new account is a tenant unless asked otherwise: the safe default. */
        role = isempty(role_name) ? ACCOUNT_TENANT : account_role_from_string(role_name);
        if (role < 0)
                return bus_error_of(error, ERROR_INVALID_REQUEST, "Unknown role '%.*s': use tenant or admin.",
                                    UTF8_PREFIX(role_name, 32));
        if (!account_name_is_valid(name))
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                    "Invalid account name '%.*s': use 1-64 of a-z 0-9 _ . @ -, starting with a "
                                    "letter or digit.",
                                    UTF8_PREFIX(name, 64));
        r = account_create(b->db, name, role, &a);
        if (r == -EEXIST) {
                bus_audit(b, &caller, "account.create", "account", name, NULL, ERROR_ACCOUNT_TAKEN);
                return bus_error_of(error, ERROR_ACCOUNT_TAKEN, "An account named '%s' already exists.", name);
        }
        if (r < 0) {
                bus_audit(b, &caller, "account.create", "account", name, NULL, r);
                return bus_store_error(error, r, NULL);
        }
        bus_audit(b, &caller, "account.create", "account", name, NULL, 0);
        return bus_reply_json(m, account_to_json(a));
}

static bool limit_is_valid(int64_t v)
{
        return v == ACCOUNT_LIMIT_DEFAULT || (v >= 0 && v <= LIMIT_MAX);
}

int bus_method_set_account_limits(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(account_freep) Account *a = NULL;
        const char *name;
        int64_t max_stores, per_hour;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "sxx", &name, &max_stores, &per_hour);
        if (r < 0)
                return r;
        r = admin_account(b, &caller, name, "account.update", &a, error);
        if (r < 0)
                return r;
        if (!limit_is_valid(max_stores) || !limit_is_valid(per_hour))
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                    "A limit is a number from 0 to %" PRIi64 ", or -1 for the configured default.",
                                    LIMIT_MAX);
        r = account_set_limits(b->db, a->id, max_stores, per_hour);
        bus_audit(b, &caller, "account.update", "account", a->name, NULL, r);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", caller.account, "ACTION", "account.update", "ACCOUNT", a->name,
                                          "VIA", "dbus"),
                   "Limits of account '%s' set to %" PRIi64 " stores, %" PRIi64 " creations an hour by %s over "
                   "D-Bus (-1: the default).",
                   a->name, max_stores, per_hour, caller.account);
        return reply_account(b, m, a->id, error);
}

int bus_method_set_account_disabled(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(account_freep) Account *a = NULL;
        const char *name, *action;
        int disabled;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "sb", &name, &disabled);
        if (r < 0)
                return r;
        action = disabled ? "account.disable" : "account.enable";
        r = admin_account(b, &caller, name, action, &a, error);
        if (r < 0)
                return r;
        /* Its tokens, sessions and streams are checked against the account on every use: they stop now. */
        r = account_set_disabled(b->db, a->id, disabled);
        bus_audit(b, &caller, action, "account", a->name, NULL, r);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return reply_account(b, m, a->id, error);
}

/* ---- tokens ---- */

static int create_token(Bus *b, sd_bus_message *m, const Caller *caller, const Account *owner, const char *name,
                        uint64_t expires_in, bool as_json, sd_bus_error *error)
{
        _cleanup_erase_free_ char *token = NULL;
        uint64_t expires_at = expires_in > 0 ? now_usec() + expires_in * USEC_PER_SEC : 0;
        int r;

        r = token_create(b->db, owner->id, name, expires_at, &token);
        if (r == -EEXIST) {
                bus_audit(b, caller, "token.create", "token", name, NULL, ERROR_TOKEN_TAKEN);
                return bus_error_of(error, ERROR_TOKEN_TAKEN, "Account '%s' has a token named '%s' already.",
                                    owner->name, name);
        }
        bus_audit(b, caller, "token.create", "token", name, NULL, r);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        /* The clear text goes to the caller once and is never logged. */
        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", caller->account, "ACTION", "token.create", "TOKEN_NAME", name,
                                          "ACCOUNT", owner->name, "VIA", "dbus"),
                   "API token '%s' of account '%s' created by %s over D-Bus.", name, owner->name, caller->account);
        if (!as_json)
                return sd_bus_reply_method_return(m, "s", token);

        _cleanup_(json_decrefp) json_t *o = NULL;
        char ts[32];
        o = json_pack("{s:s, s:s, s:s, s:o}", "token", token, "name", name, "account", owner->name, "expires_at",
                      expires_at > 0 ? json_string(format_timestamp(ts, expires_at, false)) : json_null());
        if (!o)
                return -ENOMEM;
        {
                /* The reply's copy of the secret is wiped too. */
                _cleanup_erase_free_ char *s = json_dumps(o, JSON_COMPACT);
                if (!s)
                        return -ENOMEM;
                return sd_bus_reply_method_return(m, "s", s);
        }
}

static int revoke_token(Bus *b, sd_bus_message *m, const Caller *caller, const Account *owner, const char *name,
                        sd_bus_error *error)
{
        int r;

        r = token_revoke(b->db, owner->id, name);
        if (r == -ENOENT) {
                bus_audit(b, caller, "token.revoke", "token", name, NULL, ERROR_TOKEN_NOT_FOUND);
                return bus_error_of(error, ERROR_TOKEN_NOT_FOUND, "Account '%s' has no active token named '%.*s'.",
                                    owner->name, UTF8_PREFIX(name, 64));
        }
        bus_audit(b, caller, "token.revoke", "token", name, NULL, r);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", caller->account, "ACTION", "token.revoke", "TOKEN_NAME", name,
                                          "ACCOUNT", owner->name, "VIA", "dbus"),
                   "API token '%s' of account '%s' revoked by %s over D-Bus.", name, owner->name, caller->account);
        return sd_bus_reply_method_return(m, NULL);
}

/*
 * CreateToken(name) and RevokeToken(name), the interface's first token methods, keep their
 * meaning for admins: the token NAME of the admin account NAME (made if missing), as
 * `storeagentd token create --name NAME`, which is what every token became when accounts came.
 * A tenant has only its own account, so for it they are about its own token NAME.
 */
int bus_method_create_token(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(account_freep) Account *owner = NULL;
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
                                    "Invalid token name '%.*s': use 1-64 of A-Z a-z 0-9 _ . @ -",
                                    UTF8_PREFIX(name, 64));
        r = caller_is_admin(&caller) ? account_ensure_admin(b->db, name, &owner)
                                     : account_get(b->db, caller.account_id, &owner);
        if (r == -EINVAL)
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                    "'%s' cannot name an account; use CreateAccountToken with an account.", name);
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return create_token(b, m, &caller, owner, name, 0, false, error);
}

int bus_method_revoke_token(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(account_freep) Account *owner = NULL;
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
        r = caller_is_admin(&caller) ? (account_name_is_valid(name) ? account_get_by_name(b->db, name, &owner) : -ENOENT)
                                     : account_get(b->db, caller.account_id, &owner);
        if (r == -ENOENT) {
                bus_audit(b, &caller, "token.revoke", "token", name, NULL, ERROR_TOKEN_NOT_FOUND);
                return bus_error_of(error, ERROR_TOKEN_NOT_FOUND, "No active token named '%.*s'.", UTF8_PREFIX(name, 64));
        }
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return revoke_token(b, m, &caller, owner, name, error);
}

/* Every account's tokens for an admin, a tenant's own for a tenant. */
int bus_method_list_tokens(sd_bus_message *m, void *userdata, sd_bus_error *error)
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
        return bus_reply_json(m, list);
}

/* "": as ListTokens; an account's name: that account's tokens (a tenant may name only its own). */
int bus_method_list_account_tokens(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(account_freep) Account *a = NULL;
        json_t *list = NULL;
        const char *account;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &account);
        if (r < 0)
                return r;
        if (isempty(account))
                r = token_list(b->db, caller_is_admin(&caller) ? 0 : caller.account_id, &list);
        else {
                r = token_account(b, &caller, account, "token.list", &a, error);
                if (r < 0)
                        return r;
                r = token_list(b->db, a->id, &list);
        }
        if (r < 0)
                return bus_store_error(error, r, NULL);
        return bus_reply_json(m, list);
}

int bus_method_create_account_token(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(account_freep) Account *owner = NULL;
        const char *account, *name;
        uint64_t expires_in;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "sst", &account, &name, &expires_in);
        if (r < 0)
                return r;
        r = token_account(b, &caller, account, "token.create", &owner, error);
        if (r < 0)
                return r;
        if (!token_name_is_valid(name))
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                    "Invalid token name '%.*s': use 1-64 of A-Z a-z 0-9 _ . @ -",
                                    UTF8_PREFIX(name, 64));
        if (expires_in > EXPIRES_IN_MAX)
                return bus_error_of(error, ERROR_INVALID_REQUEST,
                                    "expires_in_sec is at most %" PRIu64 " (ten years); 0 means never.",
                                    EXPIRES_IN_MAX);
        return create_token(b, m, &caller, owner, name, expires_in, true, error);
}

int bus_method_revoke_account_token(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(account_freep) Account *owner = NULL;
        const char *account, *name;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &account, &name);
        if (r < 0)
                return r;
        r = token_account(b, &caller, account, "token.revoke", &owner, error);
        if (r < 0)
                return r;
        return revoke_token(b, m, &caller, owner, name, error);
}

/* ---- stores ---- */

int bus_method_transfer_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL, *s = NULL;
        const char *id, *account;
        StoreError err = {};
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &id, &account);
        if (r < 0)
                return r;
        /* The store service refuses a tenant (and records it) before it looks at the store. */
        if (caller_is_admin(&caller)) {
                r = bus_resolve_store(b, &caller, id, &cur, error);
                if (r < 0)
                        return r;
                id = cur->id;
        }
        r = store_transfer(b->db, &caller, id, account, &s, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        return bus_reply_json(m, store_to_json(s));
}

/* What a call that reads the cluster takes to its thread and back (bus-offload.c). */
typedef struct ClusterCall {
        BusHooks hooks;
        Caller caller;
        Store *store;
} ClusterCall;

static void cluster_call_free(void *userdata)
{
        ClusterCall *c = userdata;

        if (!c)
                return;
        store_free(c->store);
        free(c);
}

static int credentials_work(Db *db, void *userdata, json_t **ret)
{
        ClusterCall *c = userdata;

        return c->hooks.store_credentials(c->hooks.userdata, c->store, ret);
}

static int credentials_reply(Bus *b, sd_bus_message *m, int r, json_t *creds, void *userdata)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ClusterCall *c = userdata;
        const Store *s = c->store;

        bus_audit(b, &c->caller, "credentials.read", "store", s->name, s->id, r == -ENOENT ? ERROR_INVALID_STATE : r);
        if (r == -ENOENT)
                r = bus_error_of(&error, ERROR_INVALID_STATE, "Store '%s' has no credentials (yet).", s->name);
        else if (r < 0)
                r = bus_store_error(&error, r, NULL);
        else {
                /* Wiped after the reply is sent: the password is in this copy too. */
                _cleanup_erase_free_ char *text = json_dumps(creds, JSON_COMPACT);
                if (!text)
                        return -ENOMEM;
                return sd_bus_reply_method_return(m, "s", text);
        }
        return sd_bus_error_is_set(&error) ? sd_bus_reply_method_error(m, &error) : r;
}

/*
 * A store's URL and WordPress admin credentials, read from its Secret in the cluster at call time (on a
 * thread of the call's own: bus-offload.c): for its owner and admins. The read is recorded; the secret
 * is never logged.
 */
int bus_method_get_credentials(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        ClusterCall *c;
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
        r = bus_resolve_store(b, &caller, id, &s, error);
        if (r < 0) {
                if (sd_bus_error_has_name(error, STOREAGENT_ERROR_NOT_FOUND))
                        bus_audit(b, &caller, "credentials.read", "store", id, NULL, ERROR_NOT_FOUND);
                return r;
        }
        if (!b->hooks.store_credentials) {
                bus_audit(b, &caller, "credentials.read", "store", s->name, s->id, -EOPNOTSUPP);
                return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED,
                                        "This storeagentd cannot read store credentials.");
        }
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (ClusterCall) { .hooks = b->hooks, .caller = caller, .store = TAKE_PTR(s) };
        return bus_offload(b, m, credentials_work, credentials_reply, c, cluster_call_free, error);
}

static int capacity_work(Db *db, void *userdata, json_t **ret)
{
        ClusterCall *c = userdata;

        return c->hooks.capacity(c->hooks.userdata, db, caller_is_admin(&c->caller), ret);
}

static int capacity_reply(Bus *b, sd_bus_message *m, int r, json_t *cap, void *userdata)
{
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *text = NULL;

        if (r < 0) {
                r = bus_store_error(&error, r, NULL);
                return sd_bus_error_is_set(&error) ? sd_bus_reply_method_error(m, &error) : r;
        }
        text = json_dumps(cap, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        return sd_bus_reply_method_return(m, "s", text);
}

/* The room for stores on the cluster: an admin gets the whole model, a tenant whether a store fits. The
 * model is read on a thread of the call's own (bus-offload.c). */
int bus_method_get_capacity(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        ClusterCall *c;
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        if (!b->hooks.capacity)
                return sd_bus_error_set(error, SD_BUS_ERROR_NOT_SUPPORTED, "This storeagentd cannot read the cluster.");
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (ClusterCall) { .hooks = b->hooks, .caller = caller };
        return bus_offload(b, m, capacity_work, capacity_reply, c, cluster_call_free, error);
}
