/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * What bus.c (connection, signals, lifecycle), bus-method.c (who calls, the
 * store methods and the vtable) and bus-account.c (accounts, tokens, transfer,
 * credentials) share. It does not include bus/bus.h, which only declares the
 * type, so the two modules do not include each other.
 */

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "basic/macro.h"
#include "bus/bus-hooks.h"
#include "core/account.h"
#include "core/db.h"
#include "core/error.h"
#include "core/backup-schedule.h"
#include "core/store.h"

/* Pages of stores read at a time, for ListStores and for the StoreChanged signals. */
#define LIST_PAGE 500

typedef struct Bus Bus;

/* The logs GetLogs hands out (bus-logs.c): their threads, counted under limits.max_streams. */
typedef struct BusLog BusLog;
typedef struct BusLogs {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        BusLog *list;
        unsigned n;
        uint64_t max;
        bool stopping;
        pthread_t watcher;
        bool watcher_started;
} BusLogs;

/* The calls whose work asks the cluster, on threads of their own (bus-offload.c). */
typedef struct BusCall BusCall;
typedef struct BusOffloads {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        BusCall *done; /* ended, waiting for the main loop to reply */
        uint64_t running;
        uint64_t max;
        int efd;
        sd_event_source *source;
} BusOffloads;

struct Bus {
        sd_event *event;
        sd_bus *bus;
        sd_event_source *change_timer;
        sd_event_source *reconnect_timer;
        uint64_t reconnect_delay;
        Db *db; /* the main thread's own connection */
        StoreLimits limits;
        char *state_dir; /* backups are under its backups/ (a change needs a restart) */
        BackupPolicy backups;
        BusHooks hooks;
        void (*on_queued)(void *userdata);
        void *userdata;
        uint64_t seen_counter;
        int64_t last_seq;
        bool changes_failing; /* reading changes failed last time: said once, not every poll */
        uint64_t calls;
        uint64_t calls_reported;
        BusLogs logs;
        BusOffloads offloads;
        char *database; /* for the offloaded calls' own connections */
        struct {
                uint64_t max_url_bytes;
                uint64_t max_per_account;
        } limits_webhooks;
        struct {
                uint64_t max_log_lines;
                uint64_t max_log_bytes;
        } limits_logs;
        struct {
                uint64_t history_keep_sec;
                uint64_t history_max_changes;
                uint64_t max_creates;
        } limits_stats;
};

/* The org.storeagent.Agent1 interface: methods, the Version property and the StoreChanged signal. */
extern const sd_bus_vtable bus_agent_vtable[];

/*
 * Who is calling, as an account (see bus_caller() in bus-method.c and storeagentd(8)): root, our own
 * user and the admin group act as the account named after the user; members of the tenant group only
 * as an existing tenant account of their name. Anyone else, and a disabled account, is refused with
 * org.freedesktop.DBus.Error.AccessDenied.
 */
int bus_caller(Bus *b, sd_bus_message *m, Caller *ret, sd_bus_error *error);
/* A tenant asking for an admin's method: records the refusal and answers org.storeagent.Error.AccessDenied. */
int bus_refuse_tenant(Bus *b, const Caller *c, const char *action, const char *target_kind, const char *target,
                      sd_bus_error *error);
/* Records one audit entry of a D-Bus call: r is 0, a domain Error (denied) or a negative errno (failed). */
void bus_audit(Bus *b, const Caller *c, const char *action, const char *target_kind, const char *target,
               const char *store_id, int r);

/* Answers a store-service result that is not 0 with the D-Bus error of core/error.h's table. */
int bus_store_error(sd_bus_error *error, int r, const StoreError *err);
/* Answers with a domain error's D-Bus name and a message about this call. */
_printf_(3, 4) int bus_error_of(sd_bus_error *error, Error e, const char *fmt, ...);
/* Replies with one JSON value as a string; takes the reference. */
int bus_reply_json(sd_bus_message *m, json_t *v);
/* The store id_or_name names, as the caller may see it; answers NotFound for another account's store. */
int bus_resolve_store(Bus *b, const Caller *caller, const char *id_or_name, Store **ret, sd_bus_error *error);
/*
 * How a method on one store begins: counts the call, finds the caller (bus_caller()), reads the arguments
 * (types and a pointer for each, as sd_bus_message_read() takes them; the first a string, the store's id or
 * name) and resolves the store as the caller may see it (bus_resolve_store()).
 */
int bus_store_method_begin(Bus *b, sd_bus_message *m, sd_bus_error *error, Caller *ret_caller,
                           Store **ret_store, const char *types, ...);

/* bus-logs.c */
void bus_logs_init(BusLogs *logs, uint64_t max);
/* Ends every log being read and waits for their threads. */
void bus_logs_done(BusLogs *logs);
int bus_method_get_logs(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* bus-webhook.c */
int bus_method_list_webhooks(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_create_webhook(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_delete_webhook(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_test_webhook(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_set_webhook_enabled(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_list_webhook_deliveries(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* bus-account.c */
int bus_method_list_accounts(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_create_account(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_set_account_limits(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* Logs a queued operation and wakes the workers. */
void bus_queued(Bus *b, const Store *s, const char *actor, const char *action);

/* bus-backup.c */
int bus_method_backup_store(sd_bus_message *m, void *userdata, sd_bus_error *error);
/* bus-settings.c */
int bus_method_redeploy_store(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_get_store_settings(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_get_store_usage(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_get_platform_stats(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_set_store_settings(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_get_store_domains(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_add_store_domain(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_remove_store_domain(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_set_store_primary_domain(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_restore_store(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_clone_store(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_delete_backup(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_list_backups(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_get_backup_schedule(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_set_backup_schedule(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_set_account_disabled(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_create_token(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_list_tokens(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_revoke_token(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_list_account_tokens(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_create_account_token(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_revoke_account_token(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_transfer_store(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_get_credentials(sd_bus_message *m, void *userdata, sd_bus_error *error);
int bus_method_get_capacity(sd_bus_message *m, void *userdata, sd_bus_error *error);

/*
 * Runs work(db, userdata, &result) on a thread of its own, with a database connection of its own, and
 * then reply(b, m, r, result, userdata) on the main loop, where r is work's return (or the opening's).
 * A negative return of reply becomes the error reply. Returns 1 (the method's reply comes later), or a
 * negative errno / an error set (TryAgain beyond limits.max_cluster_calls); userdata is freed with
 * free_userdata in every case.
 */
typedef int (*BusWorkFn)(Db *db, void *userdata, json_t **ret);
typedef int (*BusReplyFn)(Bus *b, sd_bus_message *m, int r, json_t *result, void *userdata);
int bus_offload(Bus *b, sd_bus_message *m, BusWorkFn work, BusReplyFn reply, void *userdata,
                void (*free_userdata)(void *userdata), sd_bus_error *error);
int bus_offloads_init(Bus *b, uint64_t max);
void bus_offloads_done(Bus *b);
