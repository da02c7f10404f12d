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

/*
 * store-admission.c: the capacity question store_create() asks (store_set_admission()). The lock is held
 * from the question to the commit of the new store, so that the next create counts it. ask returns 0 when
 * there is room, no hook, or idempotency_key was used before (a replay, or a reuse the transaction refuses);
 * ERROR_NO_CAPACITY with why in reason; a negative errno when it cannot tell.
 */
int store_admission_ask(Db *db, const char *idempotency_key, const char *actor, const char *chart_version,
                        char *reason, size_t reason_len);
/* The upgrade hook's answer (store_set_upgrade_admission()), asked under store_admission_lock(). */
int store_upgrade_admission_ask(Db *db, const Store *s, const char *chart_version, char *reason,
                                size_t reason_len);
