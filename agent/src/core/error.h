/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The store service's domain errors and the one table that says how each one
 * reaches a user: its HTTP status, its machine-readable code (the "error.code"
 * of a REST reply) and its D-Bus error name. The REST API and D-Bus use this
 * table and nothing else, so the two can no longer disagree.
 *
 * The convention is dbus-broker's: a function that can refuse a request
 * returns 0 on success, a positive Error when the request is refused for a
 * reason the caller should see (name taken, limit reached, disk full), and a
 * negative errno when the system failed in a way no user can act on (out of
 * memory, a corrupt database). Callers test `r != 0`, then `r < 0`.
 */

#include <stdbool.h>

typedef enum Error {
        _ERROR_NONE = 0,
        ERROR_INVALID_REQUEST,  /* bad input that is not one of the kinds below */
        ERROR_INVALID_NAME,     /* the store name breaks the naming rules */
        ERROR_INVALID_ENGINE,   /* an engine we do not provision */
        ERROR_NOT_FOUND,        /* no such store */
        ERROR_NAME_TAKEN,       /* an active store already has the name */
        ERROR_BUSY,             /* another operation on this store is queued or running */
        ERROR_INVALID_STATE,    /* the store's status does not allow the operation */
        ERROR_STORE_CAP,        /* the global cap on active stores is reached */
        ERROR_CREATION_LIMITED, /* creations per hour for this actor reached */
        ERROR_TASK_CAP,         /* the cap on pending tasks is reached */
        ERROR_KEY_REUSED,       /* an Idempotency-Key reused for a different request */
        ERROR_TRY_AGAIN,        /* the database stayed locked past its busy timeout; nothing changed */
        ERROR_STORAGE_FULL,     /* the database's file system is full; nothing changed */
        ERROR_ACCOUNT_STORE_CAP, /* the account's cap on active stores is reached */
        ERROR_FORBIDDEN,        /* an admin's operation asked by a tenant */
        ERROR_ACCOUNT_NOT_FOUND, /* no such account (or not one the caller may see) */
        ERROR_ACCOUNT_TAKEN,    /* an account of that name exists */
        ERROR_TOKEN_NOT_FOUND,  /* no such live token */
        ERROR_TOKEN_TAKEN,      /* the account has a token of that name */
        ERROR_CREDENTIALS_UNAVAILABLE, /* the store has no credentials to show (yet, or any more) */
        ERROR_STORAGE_READ_ONLY, /* the database's file system went read-only; nothing changed */
        ERROR_NO_CAPACITY,      /* the cluster's schedulable nodes have no room for the store */
        ERROR_WEBHOOK_NOT_FOUND, /* no such webhook of the caller's account */
        ERROR_WEBHOOK_CAP,      /* the account has webhooks.max_per_account webhooks */
        ERROR_DOMAIN_TAKEN,     /* another store serves the domain */
        ERROR_DOMAIN_NOT_FOUND, /* the store has no such domain of its own */
        ERROR_DOMAIN_CAP,       /* the store has stores.domains.max_per_store domains */
        _ERROR_MAX,
} Error;

typedef struct ErrorInfo {
        int http_status;
        const char *code;      /* REST "error.code"; clients branch on it, so it never changes */
        const char *bus_name;  /* D-Bus error name (basic/dbus-names.h) */
        const char *message;   /* said when the store service gave no better message */
        bool retry_after;      /* the REST reply carries Retry-After */
} ErrorInfo;

/* The row of a domain error; NULL for anything that is not one (0, negative errno, out of range). */
const ErrorInfo *error_info(int e);

/*
 * The system errors of the database that have a meaning for the caller: a full
 * file system (SQLITE_FULL, -ENOSPC), a read-only one (-EROFS) and a lock held
 * past the busy timeout (-EAGAIN). Returns the domain error for those and r itself for anything else.
 */
int error_from_errno(int r);
