/* SPDX-License-Identifier: Apache-2.0 */

/*
 * A store's backups: POST queues one (202, the backup as queued), GET lists them newest first,
 * POST .../restore {"backup"} puts one back (after a safety backup).
 * The store service decides who may: the owner and admins; another account's store answers as
 * one that does not exist.
 */

#include "api/api-internal.h"
#include "basic/log.h"
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
