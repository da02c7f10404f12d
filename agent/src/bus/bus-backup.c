/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The methods of org.storeagent.Agent1 about a store's backups: take one, list them, put one
 * back, delete one, read and set its schedule; the REST API's /stores/{id}/backups with the same rules (the owner and
 * admins; another tenant's store does not exist).
 */

#include <systemd/sd-bus.h>

#include "basic/log.h"
#include "basic/util.h"
#include "bus/bus-internal.h"
#include "core/backup.h"
#include "core/store-settings.h"

int bus_method_backup_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        json_t *backup = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        r = backup_request(b->db, &b->limits, &caller, cur->id, &backup, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        bus_queued(b, cur, caller.account, "backup.create");
        return bus_reply_json(m, backup);
}

int bus_method_restore_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        json_t *answer = NULL;
        const char *id, *backup;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "ss", &id, &backup);
        if (r < 0)
                return r;
        r = backup_restore_request(b->db, &b->limits, &caller, cur->id, backup, &answer, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        bus_queued(b, cur, caller.account, "backup.restore");
        return bus_reply_json(m, answer);
}

/* A new store made from a backup of a store the caller sees (POST /stores with from_backup). */
int bus_method_clone_store(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *s = NULL;
        StoreCloneSource from = {};
        const char *name;
        StoreError err = {};
        Caller caller;
        int r;

        b->calls++;
        r = bus_caller(b, m, &caller, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "sss", &name, &from.store, &from.backup);
        if (r < 0)
                return r;
        r = store_create_with_settings(b->db, &b->limits, &caller, name, "woocommerce", NULL, NULL, &from,
                                       NULL, &s, NULL, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        bus_queued(b, s, caller.account, "store.create");
        return bus_reply_json(m, store_to_json(s));
}

int bus_method_delete_backup(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        const char *id, *backup;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "ss", &id, &backup);
        if (r < 0)
                return r;
        r = backup_delete(b->db, &caller, cur->id, backup, b->state_dir, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        return sd_bus_reply_method_return(m, NULL);
}

int bus_method_list_backups(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_(json_decrefp) json_t *list = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        r = backup_list(b->db, &caller, cur->id, &list, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        return bus_reply_json(m, json_incref(json_object_get(list, "items")));
}

int bus_method_get_backup_schedule(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        json_t *schedule = NULL;
        const char *id;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "s", &id);
        if (r < 0)
                return r;
        r = backup_schedule_get(b->db, &caller, cur->id, &b->backups, now_usec(), &schedule, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        return bus_reply_json(m, schedule);
}

/* every_sec as the REST API takes it, with -1 for null (the platform's schedule). */
int bus_method_set_backup_schedule(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
        Bus *b = userdata;
        _cleanup_(store_freep) Store *cur = NULL;
        json_t *schedule = NULL;
        const char *id;
        int64_t every;
        StoreError err = {};
        Caller caller;
        int r;

        r = bus_store_method_begin(b, m, error, &caller, &cur, "sx", &id, &every);
        if (r < 0)
                return r;
        r = backup_schedule_set(b->db, &caller, cur->id, every, &b->backups, now_usec(), &schedule, &err);
        if (r != 0)
                return bus_store_error(error, r, &err);
        return bus_reply_json(m, schedule);
}
