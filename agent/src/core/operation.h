/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * operation: the frame every operation on a store shares (store-operation.c, backup.c), inside
 * the store service. Nothing outside core/ includes this.
 */

#include "core/account.h"
#include "core/db.h"
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

/*
 * An operation that changes what a store's release is made of (its settings, its domains) and applies
 * it with an upgrade to the chart version the store runs, as a redeploy does. apply runs inside the
 * transaction after the store's state allowed it: 0, a domain error (with err filled) or a negative
 * errno; anything but 0 rolls everything back. payload is the upgrade task's: apply may keep there
 * what the task needs, such as what to put back when the upgrade fails and is rolled back.
 */
typedef int (*StoreApplyFn)(Db *db, const Store *cur, json_t *payload, void *userdata, StoreError *err);
int store_redeploy_with(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                        const char *action, const char *detail, StoreApplyFn apply, void *userdata,
                        Store **ret, StoreError *err);
