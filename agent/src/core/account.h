/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Accounts: who owns stores and tokens. An admin sees and acts on every store and
 * account; a tenant only on its own stores and tokens, and another tenant's store is to
 * it exactly a store that does not exist. A disabled account's tokens and sessions stop
 * working at once (they are checked against the account on every request).
 *
 * A Caller is an authenticated request's identity, made by token_verify() or
 * session_verify() (REST), or from the peer's credentials (D-Bus). The store service
 * decides what a caller may see and do; the front ends only pass it along.
 */

#include <jansson.h>
#include <stdint.h>

#include "core/db.h"

typedef enum AccountRole {
        ACCOUNT_ADMIN,
        ACCOUNT_TENANT,
        _ACCOUNT_ROLE_MAX,
        _ACCOUNT_ROLE_INVALID = -EINVAL,
} AccountRole;

const char *account_role_to_string(AccountRole r);
AccountRole account_role_from_string(const char *s);

/* Account names: 1-64 of [a-z0-9_.@-], starting with a letter or digit (the actor in
 * events and the audit log). Accounts made from older tokens keep their token's name. */
#define ACCOUNT_NAME_MAX 64
bool account_name_is_valid(const char *name);

/* No per-account value: the configured default for the account's role applies. */
#define ACCOUNT_LIMIT_DEFAULT INT64_C(-1)

typedef struct Account {
        int64_t id;
        char *name;
        AccountRole role;
        int64_t max_stores;       /* ACCOUNT_LIMIT_DEFAULT or a value */
        int64_t creates_per_hour; /* ACCOUNT_LIMIT_DEFAULT or a value */
        uint64_t created_at;
        uint64_t disabled_at; /* 0: enabled */
} Account;

Account *account_free(Account *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(Account *, account_free);
/* {name, role, max_stores, creates_per_hour, disabled, created_at, disabled_at}; limits null when default. */
json_t *account_to_json(const Account *a);

typedef struct Caller {
        int64_t account_id; /* 0: the daemon itself (system work, the command line) */
        AccountRole role;
        char account[ACCOUNT_NAME_MAX + 1];
        int64_t token_id; /* 0: not through a token (D-Bus, command line) */
        char token[65];   /* the token's name, "" when none */
        /* Where the request came from, for the audit log: set by the front end that made the Caller. */
        const char *source;     /* the client's address, "dbus", "cli" */
        const char *request_id; /* the REST request's id */
} Caller;

static inline bool caller_is_admin(const Caller *c)
{
        return c && c->role == ACCOUNT_ADMIN;
}

/* The identity of work the daemon does by itself (and of the command line run as root): an admin. */
extern const Caller caller_system;

/* -EEXIST when the name is taken, -EINVAL for a bad name or role. */
int account_create(Db *db, const char *name, AccountRole role, Account **ret);
/* -ENOENT when there is none. */
int account_get(Db *db, int64_t id, Account **ret);
int account_get_by_name(Db *db, const char *name, Account **ret);
/* [{...account_to_json..., "stores": active stores, "tokens": live tokens}] by name. */
int account_list(Db *db, json_t **ret);
int account_set_disabled(Db *db, int64_t id, bool disabled);
/* ACCOUNT_LIMIT_DEFAULT returns a limit to the configured default. */
int account_set_limits(Db *db, int64_t id, int64_t max_stores, int64_t creates_per_hour);
/* The admin account named name, made if missing (the command line's `token create` without --account). */
int account_ensure_admin(Db *db, const char *name, Account **ret);
/* Fills a Caller for an account (D-Bus callers, the command line). */
void caller_from_account(const Account *a, Caller *ret);
