/* SPDX-License-Identifier: Apache-2.0 */

/* The commands: one function each, the table that names them, and following a store with --wait. */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <jansson.h>
#include <time.h>

#include "basic/dbus-names.h"
#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-follow.h"
#include "storectl/storectl-output.h"
#include "storectl/storectl-table.h"
#include "storectl/storectl-verbs.h"
#include "storectl/storectl-account.h"
#include "storectl/storectl-webhook.h"
#include "storectl/storectl-logs.h"
#include "storectl/storectl-settings.h"
#include "storectl/storectl-platform.h"
#include "storectl/storectl-usage.h"

#define BACKUP_POLL_USEC USEC_PER_SEC
#define STATUS_EVENTS 5

static uint64_t now_mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / NSEC_PER_USEC;
}

static int verb_list(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *stores = NULL;
        int r;

        r = CALL_JSON(bus, "ListStores", &stores, "s", arg_all ? "" : (arg_status ?: ""));
        if (r != EXIT_OK)
                return r;
        if (arg_all) {
                /* Everything, the deleted ones too: the default list leaves those out. */
                _cleanup_(json_decrefp) json_t *deleted = NULL;
                r = CALL_JSON(bus, "ListStores", &deleted, "s", "DELETED");
                if (r != EXIT_OK)
                        return r;
                json_array_extend(stores, deleted);
        }
        if (arg_json) {
                print_json(stores);
                return EXIT_OK;
        }
        return print_store_table(stores) < 0 ? EXIT_FAIL : EXIT_OK;
}

/* "768Mi", "1.5Gi" for memory; "250m", "4" for CPU (millicores); pods as they are. */
static void format_amount(const char *resource, json_int_t v, char *buf, size_t n)
{
        static const char *const units[] = { "", "Ki", "Mi", "Gi", "Ti" };
        double d = (double) v;
        size_t u = 0;

        if (streq(resource, "memory")) {
                while (d >= 1024 && u + 1 < ELEMENTSOF(units)) {
                        d /= 1024;
                        u++;
                }
                snprintf(buf, n, d - (double) (json_int_t) d < 0.05 ? "%.0f%s" : "%.1f%s", d, units[u]);
        } else if (streq(resource, "cpu"))
                snprintf(buf, n, v % 1000 == 0 ? "%.0f" : "%.0fm", v % 1000 == 0 ? d / 1000 : d);
        else
                snprintf(buf, n, "%" JSON_INTEGER_FORMAT, v);
}

static const char *amount(json_t *amounts, const char *resource, char *buf, size_t n)
{
        format_amount(resource, json_integer_value(json_object_get(amounts, resource)), buf, n);
        return buf;
}

/* The platform's room for stores: what an admin needs to decide (delete, add a node, overcommit). */
static int print_capacity(sd_bus *bus)
{
        static const char *const resources[] = { "memory", "cpu", "pods" };
        _cleanup_(json_decrefp) json_t *cap = NULL;
        json_t *node;
        char a[32], b[32], c[32], d[32];
        size_t i;
        int r;

        r = CALL_JSON(bus, "GetCapacity", &cap, "");
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(cap);
                return EXIT_OK;
        }
        if (!json_is_true(json_object_get(cap, "known"))) {
                printf("Capacity unknown: %s\nNew stores are admitted; the scheduler decides.\n",
                       strna(jstr(cap, "detail")));
                return EXIT_OK;
        }
        if (!json_object_get(cap, "nodes")) {
                printf(json_is_true(json_object_get(cap, "fits")) ? "A new store fits.\n"
                                                                    : "No room for a new store now.\n");
                return EXIT_OK;
        }
        printf("Room for %" JSON_INTEGER_FORMAT " more store(s); a store needs %s memory, %s CPU, %s pods "
               "(%" JSON_INTEGER_FORMAT " active, overcommit %" JSON_INTEGER_FORMAT "%%).\n\n",
               json_integer_value(json_object_get(cap, "stores_that_fit")),
               amount(json_object_get(cap, "store_needs"), "memory", a, sizeof a),
               amount(json_object_get(cap, "store_needs"), "cpu", b, sizeof b),
               amount(json_object_get(cap, "store_needs"), "pods", c, sizeof c),
               json_integer_value(json_object_get(cap, "active_stores")),
               json_integer_value(json_object_get(cap, "overcommit_percent")));
        printf("%-8s %12s %12s %12s %12s\n", "", "ALLOCATABLE", "OTHER PODS", "STORES", "FREE");
        for (i = 0; i < ELEMENTSOF(resources); i++)
                printf("%-8s %12s %12s %12s %12s\n", resources[i],
                       amount(json_object_get(cap, "allocatable"), resources[i], a, sizeof a),
                       amount(json_object_get(cap, "used_by_other_pods"), resources[i], b, sizeof b),
                       amount(json_object_get(cap, "reserved_by_stores"), resources[i], c, sizeof c),
                       amount(json_object_get(cap, "free"), resources[i], d, sizeof d));
        printf("\n%-32s %-11s %20s %16s %12s\n", "NODE", "SCHEDULABLE", "MEMORY REQ/ALLOC", "CPU REQ/ALLOC",
               "PODS");
        json_array_foreach(json_object_get(cap, "nodes"), i, node) {
                char mem[48], cpu[48], pods[48];
                snprintf(mem, sizeof mem, "%s/%s", amount(json_object_get(node, "requested"), "memory", a, sizeof a),
                         amount(json_object_get(node, "allocatable"), "memory", b, sizeof b));
                snprintf(cpu, sizeof cpu, "%s/%s", amount(json_object_get(node, "requested"), "cpu", a, sizeof a),
                         amount(json_object_get(node, "allocatable"), "cpu", b, sizeof b));
                snprintf(pods, sizeof pods, "%s/%s", amount(json_object_get(node, "requested"), "pods", a, sizeof a),
                         amount(json_object_get(node, "allocatable"), "pods", b, sizeof b));
                printf("%-32s %-11s %20s %16s %12s\n", strna(jstr(node, "name")),
                       json_is_true(json_object_get(node, "schedulable")) ? "yes" : "no", mem, cpu, pods);
        }
        if (!json_is_true(json_object_get(cap, "fits")))
                printf("\nFull: delete stores, add or uncordon a node, or raise stores.capacity.overcommit_percent.\n");
        return EXIT_OK;
}

static int verb_status(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL, *events = NULL;
        int r;

        if (!args[0])
                return print_capacity(bus);
        r = CALL_JSON(bus, "GetStore", &store, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(store);
                return EXIT_OK;
        }
        print_store(store);
        r = CALL_JSON(bus, "GetEvents", &events, "su", jstr(store, "id"), (uint32_t) STATUS_EVENTS);
        if (r == EXIT_OK && json_array_size(events) > 0) {
                printf("\nLatest events:\n");
                bool legend = arg_legend;
                arg_legend = false;
                print_events_table(events);
                arg_legend = legend;
        }
        return EXIT_OK;
}

static int verb_create(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "CreateStore", &store, "ss", args[0], arg_engine);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Creation");
}

static int verb_clone(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "CloneStore", &store, "sss", args[2], args[0], args[1]);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Clone");
}

static int verb_delete(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "DeleteStore", &store, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Deletion");
}

static int verb_retry(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "RetryStore", &store, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Retry");
}

static int verb_upgrade(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "UpgradeStore", &store, "ss", args[0], args[1]);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Upgrade");
}

static int verb_rollback(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        char *end;
        long long rev;
        int r;

        errno = 0;
        rev = strtoll(args[1], &end, 10);
        if (errno != 0 || end == args[1] || *end || rev < 1) {
                fprintf(stderr, "REVISION must be a positive Helm revision number, not '%s'.\n", args[1]);
                return EXIT_USAGE;
        }
        r = CALL_JSON(bus, "RollbackStore", &store, "sx", args[0], (int64_t) rev);
        if (r != EXIT_OK)
                return r;
        return finish_operation(bus, store, "Rollback");
}

static int verb_events(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *events = NULL;
        int r;

        r = CALL_JSON(bus, "GetEvents", &events, "su", args[0], arg_limit);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(events);
                return EXIT_OK;
        }
        return print_events_table(events) < 0 ? EXIT_FAIL : EXIT_OK;
}

/* Follows a backup until it succeeded (EXIT_OK) or failed (EXIT_FAIL), by asking once a poll interval. */
static int wait_for_backup(sd_bus *bus, const char *store, const char *id)
{
        uint64_t deadline = now_mono() + arg_timeout_sec * USEC_PER_SEC;

        for (;;) {
                _cleanup_(json_decrefp) json_t *items = NULL;
                const json_t *found = NULL, *b;
                size_t i;
                int r;

                r = CALL_JSON(bus, "ListBackups", &items, "s", store);
                if (r != EXIT_OK)
                        return r;
                json_array_foreach(items, i, b)
                        if (streq_ptr(jstr(b, "id"), id))
                                found = b;
                if (found && STR_IN_SET(strempty(jstr(found, "status")), "succeeded", "failed")) {
                        if (arg_json)
                                print_json(found);
                        else if (streq(jstr(found, "status"), "succeeded"))
                                printf("Backup %s succeeded: %" JSON_INTEGER_FORMAT " bytes in %s.\n", id,
                                       json_integer_value(json_object_get(found, "size_bytes")), jstr(found, "path"));
                        else
                                printf("Backup %s failed: %s\n", id, strna(jstr(found, "reason")));
                        return streq(jstr(found, "status"), "succeeded") ? EXIT_OK : EXIT_FAIL;
                }
                if (now_mono() >= deadline) {
                        fprintf(stderr, "Backup %s did not finish within %" PRIu64 " s.\n", id, arg_timeout_sec);
                        return EXIT_FAIL;
                }
                (void) usleep(BACKUP_POLL_USEC);
        }
}

static int verb_backup(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *backup = NULL;
        int r;

        r = CALL_JSON(bus, "BackupStore", &backup, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        if (arg_wait)
                return wait_for_backup(bus, args[0], jstr(backup, "id"));
        if (arg_json)
                print_json(backup);
        else
                printf("Backup %s of store '%s' queued. Follow it with 'storectl backups %s' or use --wait.\n",
                       jstr(backup, "id"), args[0], args[0]);
        return EXIT_OK;
}

static int verb_restore(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *answer = NULL;
        int r;

        r = CALL_JSON(bus, "RestoreStore", &answer, "ss", args[0], args[1]);
        if (r != EXIT_OK)
                return r;
        if (arg_json)
                print_json(answer);
        else
                printf("Restore of backup %s into store '%s' queued, after safety backup %s. Follow it with "
                       "'storectl events %s'.\n",
                       args[1], args[0], strna(jstr(json_object_get(answer, "safety_backup"), "id")), args[0]);
        return EXIT_OK;
}

static int verb_backup_delete(sd_bus *bus, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = call_string(bus, "DeleteBackup", NULL, &e, "ss", args[0], args[1]);
        if (r < 0)
                return report_error(&e, r);
        if (!arg_json)
                printf("Backup %s of store '%s' deleted.\n", args[1], args[0]);
        return EXIT_OK;
}

/* backup-schedule STORE [SECONDS|default|off]: shows the store's schedule, after setting it when asked. */
static int verb_backup_schedule(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *s = NULL;
        const char *last, *next;
        int64_t every;
        int r;

        if (!args[1])
                r = CALL_JSON(bus, "GetBackupSchedule", &s, "s", args[0]);
        else {
                if (streq(args[1], "default"))
                        every = -1;
                else if (streq(args[1], "off"))
                        every = 0;
                else {
                        char *end = NULL;
                        unsigned long long v;

                        errno = 0;
                        v = strtoull(args[1], &end, 10);
                        if (errno != 0 || end == args[1] || *end || args[1][0] == '-' || v == 0 || v > INT64_MAX) {
                                fprintf(stderr, "'%s' is not a number of seconds, 'default' or 'off'.\n", args[1]);
                                return EXIT_USAGE;
                        }
                        every = (int64_t) v;
                }
                r = CALL_JSON(bus, "SetBackupSchedule", &s, "sx", args[0], every);
        }
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(s);
                return EXIT_OK;
        }
        every = json_integer_value(json_object_get(s, "every_sec"));
        last = jstr(s, "last_backup_at");
        next = jstr(s, "next_backup_at");
        if (every > 0)
                printf("Every %" PRIi64 " s (%s).\n", every,
                       json_is_null(json_object_get(s, "store_every_sec")) ? "the platform's" : "the store's own");
        else
                printf("No scheduled backups.\n");
        printf("Keep the last %" JSON_INTEGER_FORMAT ", daily %" JSON_INTEGER_FORMAT ", weekly %" JSON_INTEGER_FORMAT
               ".\nLast good backup: %s\nNext backup: %s\n",
               json_integer_value(json_object_get(json_object_get(s, "keep"), "last")),
               json_integer_value(json_object_get(json_object_get(s, "keep"), "daily")),
               json_integer_value(json_object_get(json_object_get(s, "keep"), "weekly")), last ?: "none",
               next ?: "none");
        return EXIT_OK;
}

static int verb_backups(sd_bus *bus, char **args)
{
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_(json_decrefp) json_t *items = NULL;
        json_t *b;
        size_t i;
        int r;

        r = CALL_JSON(bus, "ListBackups", &items, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(items);
                return EXIT_OK;
        }
        if (table_new(&t, 7, "ID", "STATUS", "KIND", "CREATED", "SIZE", "COPY", "PATH/REASON") < 0)
                return EXIT_FAIL;
        json_array_foreach(items, i, b) {
                char size[32];
                const char *status = jstr(b, "status");
                _cleanup_free_ char *kind = NULL;

                /* A restore's safety backup names the backup whose restore it guards. */
                if (streq_ptr(jstr(b, "kind"), "safety") && jstr(b, "safety_for"))
                        r = asprintf(&kind, "safety for %s", jstr(b, "safety_for"));
                else
                        r = (kind = strdup(jstr(b, "kind") ?: "-")) ? 0 : -ENOMEM;
                if (r < 0)
                        return EXIT_FAIL;
                xsprintf(size, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(b, "size_bytes")));
                if (table_add(t, jstr(b, "id")) < 0 ||
                    table_add_colored(t, status, streq_ptr(status, "failed") ? ANSI_RED
                                                 : streq_ptr(status, "succeeded") ? ANSI_GREEN : "") < 0 ||
                    table_add(t, kind) < 0 || table_add(t, jstr(b, "created_at")) < 0 || table_add(t, size) < 0 ||
                    table_add_colored(t, jstr(b, "remote") ?: "none",
                                      streq_ptr(jstr(b, "remote"), "failed") ? ANSI_RED : "") < 0 ||
                    table_add(t, jstr(b, "path") ?: jstr(b, "reason")) < 0)
                        return EXIT_FAIL;
        }
        table_print(t, stdout, arg_legend, arg_color);
        return EXIT_OK;
}

const Verb verbs[] = {
        { "list", "", 0, 0, OPT_STATUS | OPT_ALL, verb_list, "List stores",
          "Lists the stores that are not deleted: id, name, status, the step a store is at, its URL and age.\n"
          "--status shows only stores in one status (DELETED included); --all shows deleted stores too.\n" },
        { "status", "[ID|NAME]", 0, 1, 0, verb_status, "Show a store, or the platform's room for stores",
          "Shows one store: status, the reason for it, progress, URL, chart version and Helm revision,\n"
          "owner and times, followed by its latest events. A name finds the newest store of that name.\n"
          "Without a store: how many more stores fit on the cluster's schedulable nodes, what a store\n"
          "needs, and per node what its pods request of what it has (a tenant: only whether one fits).\n" },
        { "platform", "", 0, 0, OPT_LIMIT, verb_platform, "Show stores by status and provisioning times",
          "Admins: how many stores are in each status now and the most there were over the last 24 hours,\n"
          "and the provisioning time (create to READY) of the last --limit creates (default 20, at most\n"
          "platform.max_creates) with their p50 and p95, as the dashboard's Platform page shows them.\n" },
        { "create", "NAME", 1, 1, OPT_WAIT | OPT_ENGINE, verb_create, "Create a store",
          "Queues the creation of a store. NAME becomes part of the namespace, the Helm release and the\n"
          "host name: 1-40 of a-z 0-9 and -, starting with a letter and ending with a letter or digit.\n"
          "With --wait, follows the store until it is READY (exit 0) or FAILED (exit 1).\n" },
        { "clone", "ID|NAME BACKUP NEW-NAME", 3, 3, OPT_WAIT, verb_clone, "Create a store from a backup",
          "Queues the creation of store NEW-NAME from backup BACKUP (an id from 'storectl backups') of\n"
          "store ID|NAME: provisioned as any new store (its own host and passwords), then the backup's\n"
          "database and wp-content restored into it and its site URL rewritten to its own. The source\n"
          "store is only read. With --wait, follows the new store until it is READY or FAILED.\n" },
        { "delete", "ID|NAME", 1, 1, OPT_WAIT, verb_delete, "Delete a store and everything it owns",
          "Queues the deletion of a store: its Helm release, namespace, volumes and secrets. Deleting a\n"
          "store that is already being deleted is not an error. With --wait, follows it until DELETED.\n" },
        { "retry", "ID|NAME", 1, 1, OPT_WAIT, verb_retry, "Retry a FAILED store",
          "Runs the last operation of a FAILED store again: provisioning, or the delete when a delete\n"
          "failed. With --wait, follows the store until it settles.\n" },
        { "upgrade", "ID|NAME VERSION", 2, 2, OPT_WAIT, verb_upgrade, "Upgrade a store to a chart version",
          "Queues a Helm upgrade of the store to chart VERSION (such as 0.2.0). Passwords are kept.\n"
          "With --wait, follows the store until it is READY or FAILED.\n" },
        { "redeploy", "ID|NAME", 1, 1, OPT_WAIT, verb_redeploy, "Re-apply a store's current chart version",
          "Queues a Helm upgrade of the store to the chart version it runs, with its current settings\n"
          "(as after 'storectl settings', or to repair drift). With --wait, follows it until it settles.\n" },
        { "settings", "ID|NAME", 1, 1, OPT_SETTINGS | OPT_WAIT, verb_settings, "Show or change a store's settings",
          "Without options, shows the store's title, currency, country and administrator e-mail (those\n"
          "not set are the chart's defaults). With options, stores the changes and queues a redeploy\n"
          "that applies them (an upgrade to the same chart version). With --wait, follows the store\n"
          "until it is READY or FAILED.\n" },
        { "domain", "list|add|rm|primary ID|NAME [DOMAIN]", 2, 3, OPT_WAIT, verb_domain,
          "Show or change a store's own domains",
          "list: the store's own domains and which one is primary. add DOMAIN: serve the store at DOMAIN\n"
          "too (another host of its Ingress, with its own certificate when stores are https). rm DOMAIN:\n"
          "stop serving it. primary DOMAIN: the host the shop's URLs use ('-': the store's own host).\n"
          "Each change queues a redeploy; with --wait, follows the store until it is READY or FAILED.\n" },
        { "usage", "ID|NAME", 1, 1, 0, verb_usage, "Show a store's CPU, memory and storage use",
          "Shows the latest sample of the store's resource use against its namespace's quota, each\n"
          "pod's use and the last hour's peak, as the dashboard's charts do. Without the cluster's\n"
          "metrics API (metrics-server) it says so, and CPU and memory are shown as '-'.\n" },
        { "backup", "ID|NAME", 1, 1, OPT_WAIT, verb_backup, "Take a backup of a store",
          "Queues a backup of a READY store: a dump of its database and an archive of its wp-content,\n"
          "written under the agent's state directory (backups/NAME/TIME-ID/) with a manifest of sizes and\n"
          "SHA-256 sums. With --wait, follows it until it succeeded (exit 0) or failed (exit 1).\n" },
        { "restore", "ID|NAME BACKUP", 2, 2, 0, verb_restore, "Put a backup back into its store",
          "Queues a restore of backup BACKUP (an id from 'storectl backups') into the store: the backup's\n"
          "SHA-256 sums are checked, a safety backup of the store is taken, then the database and\n"
          "wp-content are replaced; if that fails the store returns to the safety backup. The events\n"
          "end with backup.restored or backup.restore_failed.\n" },
        { "backup-delete", "ID|NAME BACKUP", 2, 2, 0, verb_backup_delete, "Delete one of a store's backups",
          "Deletes backup BACKUP (an id from 'storectl backups') of the store: its files and its row. Not\n"
          "while an operation works on the store.\n" },
        { "backup-schedule", "ID|NAME [SECONDS|default|off]", 1, 2, 0, verb_backup_schedule,
          "Show or set a store's backup schedule",
          "Shows the store's interval between scheduled backups, the retention policy, its last good\n"
          "backup and when the next is due. SECONDS gives the store an interval of its own (at least the\n"
          "platform's backups.min_schedule), 'off' no scheduled backups, 'default' the platform's.\n" },
        { "backups", "ID|NAME", 1, 1, 0, verb_backups, "List a store's backups",
          "Lists the store's backups, newest first: id, status, kind (manual, scheduled, or the safety\n"
          "backup of a restore, with the backup restored), time, size, and the directory (or why it failed).\n" },
        { "rollback", "ID|NAME REVISION", 2, 2, OPT_WAIT, verb_rollback, "Roll a store back to a Helm revision",
          "Queues a Helm rollback of the store to REVISION (see 'storectl status' for the current one).\n"
          "With --wait, follows the store until it is READY or FAILED.\n" },
        { "events", "ID|NAME", 1, 1, OPT_LIMIT, verb_events, "Show a store's event timeline",
          "Prints the audit trail and progress events of a store, oldest first: the newest --limit\n"
          "events (default 100, at most 1000).\n" },
        { "transfer", "ID|NAME ACCOUNT", 2, 2, 0, verb_transfer, "Give a store to another account",
          "Makes ACCOUNT the owner of the store (admins only): its tenant sees and manages it from now\n"
          "on, the previous owner no longer does. The store's event timeline records the change.\n" },
        { "credentials", "ID|NAME", 1, 1, 0, verb_credentials, "Show a store's URL and admin credentials",
          "Prints the store's URL, its WordPress admin URL, user name and password, read from the\n"
          "cluster now (for the store's owner and admins). The read is recorded in the audit log.\n" },
        { "logs", "ID|NAME [POD]", 1, 2, OPT_LOGS, verb_logs, "Show a store's logs",
          "Prints the last --tail lines (default 200, 0 for all) of a container of the store: POD (the\n"
          "web pod when not given), its first container or --container. --follow keeps printing as the\n"
          "container writes, until interrupted. Read from the cluster now, for the owner and admins.\n" },
        { "account list", "", 0, 0, 0, verb_account_list, "List accounts",
          "Lists accounts (admins only): role, active stores, their limits ('default' is the configured\n"
          "value), live tokens, and whether the account is disabled.\n" },
        { "account create", "NAME", 1, 1, OPT_ROLE | OPT_LIMITS, verb_account_create, "Create an account",
          "Creates an account (admins only), a tenant unless --role admin. A tenant sees and manages only\n"
          "its own stores and tokens. A local user of the same name in group storeagent-tenant acts as it\n"
          "over D-Bus. NAME is 1-64 of a-z 0-9 _ . @ -, starting with a letter or digit.\n" },
        { "account set", "NAME", 1, 1, OPT_LIMITS, verb_account_set, "Set an account's limits",
          "Sets the cap on the account's active stores and its store creations an hour (admins only).\n"
          "'default' returns a limit to the configured value; a limit not given is left as it is.\n" },
        { "account disable", "NAME", 1, 1, 0, verb_account_disable, "Disable an account",
          "Disables an account (admins only): its tokens, dashboard sessions and live streams stop\n"
          "working at once and its local user can no longer call storectl. Its stores keep running.\n" },
        { "account enable", "NAME", 1, 1, 0, verb_account_enable, "Enable a disabled account",
          "Enables a disabled account again (admins only); tokens that were not revoked work again.\n" },
        { "token create", "NAME", 1, 1, OPT_ACCOUNT | OPT_EXPIRES, verb_token_create, "Create an API token",
          "Creates a REST API token called NAME of your own account, or of --account (admins only), and\n"
          "prints it once; only its hash is stored. --expires-in SECONDS makes it stop working after that\n"
          "long. NAME is 1-64 of A-Z a-z 0-9 _ . @ -\n" },
        { "token list", "", 0, 0, OPT_ACCOUNT, verb_token_list, "List API tokens",
          "Lists API tokens with their account, creation, expiry, last use and revocation times: every\n"
          "account's for admins, your own for tenants; --account lists one account's.\n" },
        { "token revoke", "NAME", 1, 1, OPT_ACCOUNT, verb_token_revoke, "Revoke an API token",
          "Revokes the API token called NAME of your own account, or of --account (admins only);\n"
          "requests and dashboard sessions using it stop working. A token made before accounts existed\n"
          "belongs to the account of its own name: 'storectl token revoke ci --account ci'.\n" },
        { "webhook list", "", 0, 0, 0, verb_webhook_list, "List your webhooks",
          "Lists your own account's webhooks: id, URL, the events they get, creation time.\n" },
        { "webhook create", "URL [EVENT,...]", 1, 2, 0, verb_webhook_create, "Create a webhook",
          "Creates a webhook of your own account and prints its signing secret once. EVENTs (comma-\n"
          "separated; default: all) are store.ready, store.failed, store.deleted, backup.succeeded and\n"
          "backup.failed. Each delivery is a POST of JSON signed in X-Storeagent-Signature.\n" },
        { "webhook delete", "ID", 1, 1, 0, verb_webhook_delete, "Delete a webhook",
          "Deletes one of your webhooks; its deliveries still queued fail.\n" },
        { "webhook pause", "ID", 1, 1, 0, verb_webhook_pause, "Pause a webhook",
          "Pauses one of your webhooks: it gets no new events, and its deliveries still queued fail.\n" },
        { "webhook resume", "ID", 1, 1, 0, verb_webhook_resume, "Resume a paused webhook",
          "Resumes a paused webhook for the events from now on.\n" },
        { "webhook test", "ID", 1, 1, 0, verb_webhook_test, "Send a test event to a webhook",
          "Queues a webhook.test delivery to the webhook now.\n" },
        { "webhook deliveries", "ID", 1, 1, 0, verb_webhook_deliveries, "Show a webhook's delivery log",
          "Lists the webhook's latest deliveries, newest first: event, state, attempts, the last HTTP\n"
          "status and error.\n" },
};

const Verb *find_verb(int argc, char *argv[], int *ret_consumed)
{
        char name[64];

        assert(argv);
        assert(ret_consumed);
        if (argc <= 0)
                return NULL;
        /* A word too long to fit is no verb's name: every name is much shorter. */
        if (!(STR_IN_SET(argv[0], "token", "account", "webhook") && argc >= 2
                      ? snprintf_ok(name, sizeof name, "%s %s", argv[0], argv[1])
                      : snprintf_ok(name, sizeof name, "%s", argv[0])))
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name)) {
                        *ret_consumed = strchr(name, ' ') ? 2 : 1;
                        return &verbs[i];
                }
        return NULL;
}

const size_t n_verbs = ELEMENTSOF(verbs);
