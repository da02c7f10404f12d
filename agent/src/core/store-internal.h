/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the files of the store service share (store.c, store-query.c, store-operation.c); no one else. */

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/db.h"

typedef struct Store Store;

#define STORE_COLUMNS                                                                                        \
        "id, name, engine, owner, status, status_reason, step, progress_current, progress_total, url, "       \
        "chart_version, helm_revision, created_at, updated_at, deleted_at, seq, coalesce(account_id, 0)"

/* The next change sequence number, inside the statement that takes it (the write lock orders them). */
#define SEQ_NEXT "(SELECT coalesce(max(seq), 0) + 1 FROM stores)"

/* Which account's stores a caller sees: its own (a tenant), or all (0, an admin). */
static inline int64_t store_visible_account(const Caller *c)
{
        return c->role == ACCOUNT_ADMIN ? 0 : c->account_id;
}

/* A Store from a row selected with STORE_COLUMNS. */
int store_from_row(sqlite3_stmt *q, Store **ret);

/* One number from sql, with an optional text first and integer second parameter (0: not bound). */
int store_query_u64(Db *db, const char *sql, const char *arg, uint64_t arg2, uint64_t *ret);

/* Every Store string is valid UTF-8 (store_from_row() repairs what is not), so this never fails for text. */
static inline json_t *json_string_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

/* ---- operation.c: the frame of every operation (store-operation.c, backup.c) ---- */

#include "core/error.h"
#include "core/store.h"

/* Refuses a request: returns the domain error e with the message the caller shows. */
_printf_(3, 4) int op_fail(StoreError *err, Error e, const char *fmt, ...);
/* What an operation returns for r: domain errors as they are, the database's failures turned into theirs. */
int op_outcome(Db *db, int r, StoreError *err);
/* The audit record of an operation's outcome r (0, a domain error, or a system error). */
int op_audit(Db *db, const Caller *caller, const char *action, const char *target, const char *store_id, int r);
/* Ends a refused or failed operation: rolls back, records the refusal, returns what the caller sees. */
int op_refuse(Db *db, const Caller *caller, const char *action, const char *target, const char *store_id, int r,
              StoreError *err);
/* A store the caller may see, inside the operation's transaction; ERROR_NOT_FOUND otherwise. */
int op_get_store(Db *db, const Caller *caller, const char *id, Store **ret, StoreError *err);
/* Timeline event, audit record, commit, wake-up, and the store as it now is. */
int op_commit(Db *db, const Caller *caller, const Store *cur, const char *action, const char *detail, Store **ret,
              StoreError *err);
/* The cap on queued tasks; inside the write transaction. */
int op_check_pending_cap(Db *db, const StoreLimits *limits, StoreError *err);
