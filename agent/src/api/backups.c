/* SPDX-License-Identifier: Apache-2.0 */

/*
 * A store's backups: POST queues one (202, the backup as queued), GET lists them newest first,
 * POST .../restore {"backup"} puts one back (after a safety backup).
 * The store service decides who may: the owner and admins; another account's store answers as
 * one that does not exist.
 */

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/util.h"
#include "core/backup.h"

int h_store_backups_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { NULL };
        RequestContext *c = ctx;
        _cleanup_(json_decrefp) json_t *backup = NULL;
        StoreError err = {};
        ApiLimits lim;
        int r;

        if (c->body && api_check_fields(resp, c->body, fields) < 0)
                return 0;
        api_limits_get(s, &lim);
        r = backup_request(api_db(s), &lim.store, &c->caller, c->params[0], &backup, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        log_struct(LOG_INFO,
                   LOG_FIELDS("STORE_ID", c->params[0], "REQUEST_ID", c->request_id, "ACTOR", c->actor, "ACTION",
                              "backup.create"),
                   "Backup %s of store %s requested by %s.", json_string_value(json_object_get(backup, "id")),
                   c->params[0], c->actor);
        if (s->runner)
                runner_wake(s->runner);
        api_set_json(resp, 202, TAKE_PTR(backup));
        return 0;
}

int h_store_backups_list(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *list = NULL;
        StoreError err = {};
        int r;

        r = backup_list(api_db(s), &c->caller, c->params[0], &list, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        api_set_json(resp, 200, list);
        return 0;
}

int h_store_restore(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "backup", NULL };
        RequestContext *c = ctx;
        _cleanup_(json_decrefp) json_t *answer = NULL;
        const char *backup;
        StoreError err = {};
        ApiLimits lim;
        int r;

        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "backup", &backup) < 0)
                return 0;
        api_limits_get(s, &lim);
        r = backup_restore_request(api_db(s), &lim.store, &c->caller, c->params[0], backup, &answer, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        log_struct(LOG_INFO,
                   LOG_FIELDS("STORE_ID", c->params[0], "REQUEST_ID", c->request_id, "ACTOR", c->actor, "ACTION",
                              "backup.restore"),
                   "Restore of backup %s into store %s requested by %s.", backup, c->params[0], c->actor);
        if (s->runner)
                runner_wake(s->runner);
        api_set_json(resp, 202, TAKE_PTR(answer));
        return 0;
}

int h_store_backup_schedule_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *schedule = NULL;
        StoreError err = {};
        ApiLimits lim;
        int r;

        api_limits_get(s, &lim);
        r = backup_schedule_get(api_db(s), &c->caller, c->params[0], &lim.backups, now_usec(), &schedule, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        api_set_json(resp, 200, schedule);
        return 0;
}

/* {"every_sec": N}: the store's own interval; 0: no scheduled backups; null: the platform's. */
int h_store_backup_schedule_patch(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "every_sec", NULL };
        RequestContext *c = ctx;
        _cleanup_(json_decrefp) json_t *schedule = NULL;
        json_t *v = c->body ? json_object_get(c->body, "every_sec") : NULL;
        int64_t every;
        StoreError err = {};
        ApiLimits lim;
        int r;

        if (api_check_fields(resp, c->body, fields) < 0)
                return 0;
        if (!v)
                return api_error(resp, 400, "missing_field", "Field 'every_sec' is required.");
        if (json_is_null(v))
                every = -1;
        else if (json_is_integer(v) && json_integer_value(v) >= 0 &&
                 (uint64_t) json_integer_value(v) <= BACKUP_EVERY_MAX_SEC)
                every = json_integer_value(v);
        else
                return api_error(resp, 400, "invalid_type",
                                 "Field 'every_sec' must be null (the platform's schedule) or an integer from 0 "
                                 "(no scheduled backups) to %llu.",
                                 BACKUP_EVERY_MAX_SEC);
        api_limits_get(s, &lim);
        r = backup_schedule_set(api_db(s), &c->caller, c->params[0], every, &lim.backups, now_usec(), &schedule,
                                &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        log_struct(LOG_INFO,
                   LOG_FIELDS("STORE_ID", c->params[0], "REQUEST_ID", c->request_id, "ACTOR", c->actor, "ACTION",
                              "backup.schedule"),
                   "Backup schedule of store %s set to %s by %s.", c->params[0],
                   every < 0 ? "the platform's" : every == 0 ? "none" : "its own interval", c->actor);
        api_set_json(resp, 200, TAKE_PTR(schedule));
        return 0;
}
