/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * A store's own settings: the shop title, currency, country and administrator e-mail the chart
 * takes (store.title, store.currency, store.country, admin.email). Kept with the store as a JSON
 * object {"title", "currency", "country", "admin_email"} (absent: the chart's default) and applied
 * by an upgrade to the store's current chart version.
 */

#include <jansson.h>
#include <stddef.h>

#include "core/db.h"
#include "core/store.h"

/* The longest title, in characters (the chart's store.title maxLength). */
#define STORE_TITLE_MAX 200U
#define STORE_EMAIL_MAX 254U

/* 0 when every member of changes is a known setting with a valid value or null (back to the chart's
 * default); ERROR_INVALID_REQUEST with a message saying which is not. */
int store_settings_check(json_t *changes, char *msg, size_t msg_len);

/* The settings of a store, {} when it has none of its own. No visibility check: for the provisioner. */
int store_settings_of(Db *db, const char *id, json_t **ret);

/* The settings of a store the caller can see (ERROR_NOT_FOUND otherwise). */
int store_settings_get(Db *db, const Caller *caller, const char *id, json_t **ret, StoreError *err);

/* A copy of cur with changes applied: a null member removes the setting. */
json_t *store_settings_merge(json_t *cur, json_t *changes);

/* Applies changes (already checked) to the store's kept settings; inside the caller's transaction. */
int store_settings_store(Db *db, const char *id, json_t *changes);

/* Replaces the store's kept settings with settings (an object) as a whole. */
int store_settings_replace(Db *db, const char *id, json_t *settings);

/* Stores the changes (checked as store_settings_check() does) and queues an upgrade to the store's
 * current chart version that applies them. */
int store_change_settings(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                          json_t *changes, Store **ret, StoreError *err);

/* Queues an upgrade to the store's current chart version (re-applies the release as it is now). */
int store_redeploy(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, Store **ret,
                   StoreError *err);

/*
 * The backup a new store is made from (a clone): store is the id or name of a store the caller
 * sees, backup the id of one of its succeeded backups.
 */
typedef struct StoreCloneSource {
        const char *store;
        const char *backup;
} StoreCloneSource;

/*
 * store_create() with settings of its own from the start (checked as store_settings_check() does;
 * NULL: none) and, with from, made from a backup: the source is checked before anything else is
 * asked (ERROR_NOT_FOUND for a store or backup the caller does not see, ERROR_INVALID_STATE for a
 * backup that has not succeeded), and the create task restores it into the new store.
 */
int store_create_with_settings(Db *db, const StoreLimits *limits, const Caller *caller, const char *name,
                               const char *engine, const char *chart_version, json_t *settings,
                               const StoreCloneSource *from, const char *idempotency_key, Store **ret,
                               bool *ret_replayed, StoreError *err);
