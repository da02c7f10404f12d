/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The platform's audit log: who (an account and the token it used, or the daemon
 * itself: system, helm, cluster), did what (an action such as store.create or
 * credentials.read), to what (a store, an account, a token), with what result
 * (ok, denied, failed and the error code), when, from where, in which request.
 * Every mutation, every credentials read, every denied request and every failed
 * sign-in is one record, kept in the database and sent to the journal with
 * ACTOR=, ACTION=, RESULT= fields. Admins read all of it; tenants their own.
 */

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/db.h"

typedef enum AuditResult {
        AUDIT_OK,
        AUDIT_DENIED,
        AUDIT_FAILED,
        _AUDIT_RESULT_MAX,
        _AUDIT_RESULT_INVALID = -EINVAL,
} AuditResult;

const char *audit_result_to_string(AuditResult r);
AuditResult audit_result_from_string(const char *s);

typedef struct AuditEntry {
        const Caller *caller;    /* NULL: nobody authenticated */
        const char *actor;       /* instead of the caller's account ("anonymous", the name a failed sign-in gave) */
        const char *action;      /* store.create, credentials.read, auth.failed, account.disable, ... */
        const char *target_kind; /* "store", "account", "token" or NULL */
        const char *target;      /* its name */
        const char *store_id;
        AuditResult result;
        const char *error;      /* the error code when denied or failed */
        const char *source;     /* the client's address, "dbus", "cli" */
        const char *request_id;
} AuditEntry;

/* Writes the record (inside the caller's transaction when there is one) and logs it once. */
int audit_record(Db *db, const AuditEntry *e);

typedef struct AuditFilter {
        int64_t account_id; /* > 0: only this account's records (a tenant's view) */
        const char *actor;
        const char *action; /* exact, or a prefix ending in '.' ("store.") */
        const char *store;  /* a store id or name */
        AuditResult result; /* < 0: any */
        uint64_t since, until; /* microseconds; 0: open */
        int64_t before_id;     /* paging: records older than this id; 0: from the newest */
        uint64_t limit;
} AuditFilter;

/* Newest first; *ret_next is the before_id of the next page, 0 when this was the last. */
int audit_query(Db *db, const AuditFilter *f, json_t **ret_items, int64_t *ret_next);
