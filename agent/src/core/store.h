/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * The store service: the state machine and every operation on a store, each
 * one transaction that records intent, queues the task and writes the audit
 * event. Both the REST API and D-Bus call these; neither touches SQL itself.
 *
 * The operations a user asks for (store_create, _delete, _retry, _upgrade,
 * _rollback) return 0 on success, a positive Error (core/error.h) when the
 * request is refused (StoreError.message says why, in words for the user), or
 * a negative errno when the system failed. Each is one transaction: whatever
 * it returns but 0, nothing was written. A database whose file system is full
 * gives ERROR_STORAGE_FULL, logged here once with the database's path; a lock
 * held past the busy timeout gives ERROR_TRY_AGAIN.
 *
 * The reads and the runner's writes below keep plain negative errno (-ENOENT:
 * no such store).
 */

#include <jansson.h>
#include <stdint.h>

#include "core/account.h"
#include "core/config.h"
#include "core/db.h"
#include "core/error.h"

typedef enum StoreStatus {
        STORE_PROVISIONING,
        STORE_READY,
        STORE_FAILED,
        STORE_UPGRADING,
        STORE_DELETING,
        STORE_DELETED,
        _STORE_STATUS_MAX,
        _STORE_STATUS_INVALID = -EINVAL,
} StoreStatus;

/*
 * What a caller (REST, D-Bus) asks of a store's logs; the provisioning side reads them from the
 * cluster and hands them to a sink as they come.
 */
typedef struct StoreLogRequest {
        const char *pod;       /* a pod of the store's namespace */
        const char *container; /* NULL: the pod's only (or first) container */
        uint64_t tail_lines;   /* the last N lines; 0: all */
        uint64_t limit_bytes;  /* at most this many bytes of the log; 0: no limit */
        bool follow;           /* go on as the container writes, until cancelled */
} StoreLogRequest;
/* Takes a piece of the log (not split at lines); non-zero stops the reading. */
typedef int (*StoreLogSink)(const char *data, size_t n, void *userdata);
/*
 * Picks the pod and container a log request means from a store's pods ([{pod, component, containers,
 * init_containers}]): pod NULL means the web pod (or the first), container NULL the pod's first
 * container. The names are borrowed from pods (container's from the argument). -ENOENT: no such one.
 */
int store_log_source_find(json_t *pods, const char *pod, const char *container, const char **ret_pod,
                          const char **ret_container);

const char *store_status_to_string(StoreStatus s);
StoreStatus store_status_from_string(const char *s);
bool store_status_transition_allowed(StoreStatus from, StoreStatus to);

typedef struct Store {
        char *id;
        char *name;
        char *engine;
        char *owner;
        StoreStatus status;
        char *status_reason;
        char *step;
        int progress_current, progress_total; /* 0/0: none */
        char *url;
        char *chart_version;
        int64_t helm_revision; /* 0: none */
        uint64_t created_at, updated_at, deleted_at;
        int64_t seq;
        int64_t account_id; /* the owning account; 0 for stores the daemon itself made */
} Store;

Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);
json_t *store_to_json(const Store *s);

typedef struct StoreLimits {
        uint64_t max_stores;        /* active stores on the platform */
        uint64_t creates_per_hour;  /* per account, unless the account sets its own */
        uint64_t max_pending_tasks; /* queued or running tasks on the platform */
        uint64_t tenant_max_stores; /* active stores of a tenant account, unless the account sets its own */
        bool wait_for_capacity;     /* a store that does not fit waits (STORE_STEP_WAITING_FOR_CAPACITY) */
        uint64_t max_domains;       /* own domains of one store (stores.domains.max_per_store) */
        char base_domain[254];      /* stores.base_domain: hosts under it are the platform's */
        char own_hosts[1024];       /* listen.hostnames (space-separated): the daemon's own, no store's */
} StoreLimits;

/* The step of a created store that waits for room on the nodes; it reserves none until it leaves it. */
#define STORE_STEP_WAITING_FOR_CAPACITY "waiting for capacity"

/* Serializes the capacity question and what follows from it (a store written, a waiting store started). */
void store_admission_lock(void);
void store_admission_unlock(void);

/* The limits of a configuration. */
void store_limits_from_config(const Config *c, StoreLimits *ret);

/* Filled when an operation refuses a request (returns an Error). */
typedef struct StoreError {
        char message[512];
        uint64_t retry_after_sec; /* for the errors whose ErrorInfo.retry_after is set */
} StoreError;

/*
 * Who may do what is decided here, for every front end: a caller sees and acts on the
 * stores of its own account, an admin on every store. A store the caller may not see is
 * refused exactly as one that does not exist (ERROR_NOT_FOUND, same message). Every
 * operation, done or refused, is a record of the audit log.
 */
int store_create(Db *db, const StoreLimits *limits, const Caller *caller, const char *name, const char *engine,
                 const char *chart_version, const char *idempotency_key, Store **ret, bool *ret_replayed,
                 StoreError *err);

/*
 * Capacity admission, asked by store_create() before it writes a new store (not for an Idempotency-Key
 * replay): 0 when the cluster has room for one more store, ERROR_NO_CAPACITY when it has not (reason
 * says which resource, what a store needs and what is free), a negative errno when it cannot tell (the
 * store is admitted: the cluster's scheduler keeps the last word). Creates are serialized around the
 * question and the insert, so of two creates racing for the last room exactly one gets it. The daemon
 * sets it once, before any thread creates a store; NULL admits every store. chart_version is the version
 * the create names (NULL: the configured chart's), whose need is asked for.
 */
typedef int (*StoreAdmitFn)(void *userdata, Db *db, const char *chart_version, char *reason,
                            size_t reason_len);
void store_set_admission(StoreAdmitFn fn, void *userdata);
/*
 * The same question for an upgrade of store s to chart_version: 0 when the nodes have the room the new
 * version needs beyond what the store holds now (an upgrade that needs no more is always 0),
 * ERROR_NO_CAPACITY with the reason when they have not. Set like the create's; NULL admits every upgrade.
 */
typedef int (*StoreUpgradeAdmitFn)(void *userdata, Db *db, const Store *s, const char *chart_version,
                                   char *reason, size_t reason_len);
void store_set_upgrade_admission(StoreUpgradeAdmitFn fn, void *userdata);
int store_delete(Db *db, const Caller *caller, const char *id, Store **ret, StoreError *err);
int store_retry(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, Store **ret,
                StoreError *err);
int store_upgrade(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, const char *chart_version,
                  Store **ret, StoreError *err);
int store_rollback(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, int64_t revision,
                   Store **ret, StoreError *err);
/* Queues a new WordPress admin password for a READY store; the store stays READY while a task applies it. */
int store_rotate_credentials(Db *db, const StoreLimits *limits, const Caller *caller, const char *id, Store **ret,
                             StoreError *err);
/* Gives a store to another account (admins only: ERROR_FORBIDDEN for a tenant). */
int store_transfer(Db *db, const Caller *caller, const char *id, const char *account, Store **ret, StoreError *err);

/* Without a caller: the daemon's own reads (provisioning, the reconciler). */
int store_get(Db *db, const char *id, Store **ret);
int store_get_by_name(Db *db, const char *name, Store **ret);
/* A store as the caller may see it: -ENOENT when there is none or it is another account's. */
int store_get_visible(Db *db, const Caller *caller, const char *id, Store **ret);
/* The same by name: the active store of that name, else the newest deleted one. */
int store_get_visible_by_name(Db *db, const Caller *caller, const char *name, Store **ret);
/*
 * Where a page of the store list starts: after the store created at created_at with this id, in the
 * list's order (newest first, then the larger id). Clients see it as an opaque string: "1", created_at as 16
 * hex digits, the id (1 to 64 characters of [0-9a-f]).
 */
#define STORE_CURSOR_MAX (1 + 16 + 64)
typedef struct StoreCursor {
        uint64_t created_at;
        char id[64 + 1];
} StoreCursor;
/* -EINVAL for anything store_cursor_format() does not make. */
int store_cursor_parse(const char *s, StoreCursor *ret);
char *store_cursor_format(const StoreCursor *c, char buf[static STORE_CURSOR_MAX + 1]);

typedef struct StoreListQuery {
        const char *owner;          /* an account name to list only its stores (admins; a tenant always gets its own) */
        StoreStatus status;         /* < 0: every status but DELETED */
        uint64_t limit;
        uint64_t offset;            /* rows skipped after the cursor (or the newest): costs as many index steps */
        const StoreCursor *cursor;  /* NULL: from the newest */
} StoreListQuery;

/*
 * A page of the stores the caller sees, newest first. *ret_total counts every store that matches the
 * filters (not only those after the cursor), from counts kept per account and status. ret_next (may be NULL)
 * is where the next page starts, and *ret_has_next false when this page is the last.
 */
int store_list(Db *db, const Caller *caller, const StoreListQuery *query, json_t **ret_items, uint64_t *ret_total,
               StoreCursor *ret_next, bool *ret_has_next);
/* Stores the caller sees changed after seq, oldest change first; *ret_max_seq is the newest change of any
 * store (so a tenant's next call starts past other accounts' changes too). */
int store_changes_since(Db *db, const Caller *caller, int64_t seq, json_t **ret_items, int64_t *ret_max_seq);
int store_max_seq(Db *db, int64_t *ret);
int store_events(Db *db, const char *id, uint64_t limit, int64_t after_id, json_t **ret);
/* {"PROVISIONING": n, ...} of the stores the caller sees. */
int store_count_by_status(Db *db, const Caller *caller, json_t **ret);
/* Active stores of the platform (account_id 0) or of one account. */
int store_count_active(Db *db, int64_t account_id, uint64_t *ret);
int store_creates_in_last_hour(Db *db, int64_t account_id, uint64_t *ret);
/* What holds room on the cluster: [{"name", "chart_version", "upgrade_to"}, ...] of every active (not
 * deleted) store but those created while the nodes were full and still waiting; upgrade_to is the chart
 * version of an admitted upgrade not yet finished (absent when none). */
int store_active_reservations(Db *db, json_t **ret);
/* The caps that apply to an account: its own values, or the configured defaults for its role
 * (UINT64_MAX: none beyond the platform's). */
void store_account_limits(const StoreLimits *limits, const Account *a, uint64_t *ret_max_stores,
                          uint64_t *ret_creates_per_hour);
/* Whether a task of this store is queued or running. */
int store_has_active_task(Db *db, const char *id, bool *ret);

/*
 * Used by the task runner while it works. These do not validate actors. The text they
 * store comes from helm and the cluster: it is kept to these many bytes, cut on a character
 * boundary, with invalid UTF-8 replaced by U+FFFD, so every row reads back into JSON.
 */
#define STORE_REASON_MAX 1024
#define STORE_STEP_MAX 256
#define STORE_EVENT_DETAIL_MAX 8192

int store_set_status(Db *db, const char *id, StoreStatus status, const char *reason);
/* Compare and set: moves the store to status only while it is still in expected. -ESTALE (nothing
 * written) when it has moved on, -EPERM when expected -> status is not a transition the machine has. */
int store_set_status_if(Db *db, const char *id, StoreStatus expected, StoreStatus status, const char *reason);
int store_set_progress(Db *db, const char *id, const char *step, int current, int total);
/* The reason shown on the store, without a change of status (a task that keeps trying says why). */
int store_set_reason(Db *db, const char *id, const char *reason);

/*
 * The store's Helm release history as a task last read it: [{revision, status, chart, app_version,
 * updated, description}]. store_get_releases() returns -ENODATA for a store whose history was
 * never read (made before the history was kept), -ENOENT for no such store.
 */
int store_set_releases(Db *db, const char *id, json_t *items);
int store_get_releases(Db *db, const char *id, json_t **ret);
int store_set_release(Db *db, const char *id, const char *chart_version, int64_t revision, const char *url);
int store_add_event(Db *db, const char *id, const char *actor, const char *action, const char *detail);

/* Change notification for live views: bumped on every store write, waited on by streams. */
void store_changed_notify(void);
/* Waits until the change counter moves past *seen or timeout passes; returns true on change. */
bool store_changed_wait(uint64_t *seen, uint64_t timeout_usec);
uint64_t store_changed_counter(void);
