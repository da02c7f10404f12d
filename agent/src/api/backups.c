/* SPDX-License-Identifier: Apache-2.0 */

/*
 * A store's backups: POST queues one (202, the backup as queued), GET lists them newest first,
 * POST .../restore {"backup"} puts one back (after a safety backup), DELETE .../backups/{backup}
 * removes one, GET .../backups/{backup}/files/{file} streams one of its files from the disk.
 * The store service decides who may: the owner and admins; another account's store answers as
 * one that does not exist.
 */

#include <fcntl.h>
#include <sys/stat.h>

#include "api/api-internal.h"
#include "basic/log.h"
#include "basic/util.h"
#include "core/backup.h"

#define BACKUP_DOWNLOAD_BLOCK (64U * 1024U) /* what one read of a download holds in memory */

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

int h_store_backup_delete(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        StoreError err = {};
        int r;

        r = backup_delete(api_db(s), &c->caller, c->params[0], c->params[1], s->state_dir, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        log_struct(LOG_INFO,
                   LOG_FIELDS("STORE_ID", c->params[0], "REQUEST_ID", c->request_id, "ACTOR", c->actor, "ACTION",
                              "backup.delete"),
                   "Backup %s of store %s deleted by %s.", c->params[1], c->params[0], c->actor);
        ulfius_set_empty_body_response(resp, 204);
        return 0;
}

/* One file of a backup on its way to a client: read from the disk as the client takes it. */
typedef struct BackupDownload {
        int fd;
} BackupDownload;

static ssize_t download_read(void *userdata, uint64_t pos, char *out, size_t max)
{
        BackupDownload *dl = userdata;
        ssize_t k;

        do
                k = pread(dl->fd, out, MIN(max, (size_t) BACKUP_DOWNLOAD_BLOCK), (off_t) pos);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return U_STREAM_ERROR;
        return k == 0 ? U_STREAM_END : k;
}

static void download_free(void *userdata)
{
        BackupDownload *dl = userdata;

        safe_close(dl->fd);
        free(dl);
}

/* GET .../backups/{backup}/files/{file}: a part (or the manifest) as it is on disk, streamed. */
int h_store_backup_file(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        _cleanup_(store_freep) Store *store = NULL;
        _cleanup_free_ char *rel = NULL, *path = NULL, *disposition = NULL;
        _cleanup_close_ int fd = -EBADF;
        BackupDownload *dl;
        StoreError err = {};
        struct stat st;
        int r;

        r = backup_file_path(api_db(s), &c->caller, c->params[0], c->params[1], c->params[2], &store, &rel, &err);
        if (r != 0)
                return api_store_error(resp, r, &err);
        if (asprintf(&path, "%s/backups/%s", s->state_dir, rel) < 0)
                return api_error(resp, 500, "internal", "Out of memory.");
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                log_struct_errno(LOG_WARNING, fd < 0 ? -errno : -EBADF, LOG_FIELDS("STORE_ID", c->params[0]),
                                 "Backup file %s cannot be read: %m", path);
                api_audit_store_read(s, c, "backup.download", store, AUDIT_FAILED, "gone");
                return api_error(resp, 410, "gone", "Backup '%s' no longer has its file '%s' on disk.", c->params[1],
                                 c->params[2]);
        }
        dl = malloc(sizeof *dl);
        if (!dl)
                return api_error(resp, 500, "internal", "Out of memory.");
        dl->fd = TAKE_FD(fd);
        if (asprintf(&disposition, "attachment; filename=\"%s-%s-%s\"", store->name, c->params[1], c->params[2]) < 0)
                disposition = NULL;
        api_audit_store_read(s, c, "backup.download", store, AUDIT_OK, NULL);
        ulfius_set_stream_response(resp, 200, download_read, download_free, (uint64_t) st.st_size,
                                   BACKUP_DOWNLOAD_BLOCK, dl);
        u_map_put(resp->map_header, "Content-Type",
                  streq(c->params[2], "manifest.json") ? "application/json" : "application/gzip");
        u_map_put(resp->map_header, "Cache-Control", "no-store");
        if (disposition)
                u_map_put(resp->map_header, "Content-Disposition", disposition);
        return 0;
}
