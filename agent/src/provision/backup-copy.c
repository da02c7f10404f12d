/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The copy of a backup off the host, on S3-compatible storage (backups.s3.*): after a backup
 * succeeded its parts and its manifest are uploaded, one object each, under
 * <prefix><store>/<time>-<id>/; a restore or clone whose backup's directory is gone from the disk
 * downloads them again; retention and expiry delete them with the backup.
 *
 * A copy that fails leaves the backup as good as it was: the row says "remote": "failed" with the
 * reason (the HTTP status and S3's error Code), and the timeline backup.copy_failed. The keys come
 * from backups.s3.credentials_file, read at each copy; they are never logged or put in a reason.
 */

#include <fcntl.h>
#include <sys/stat.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "cluster/s3.h"
#include "core/backup.h"
#include "core/store.h"
#include "provision/provision-internal.h"

#define S3_CREDENTIALS_MAX 4096
#define S3_DELETE_TIMEOUT_SEC 30 /* a deletion is best effort: it does not hold the caller long */

/* A step the task's count may not include (a restore's safety backup, a backup fetched): counted now. */
static void extra_step(Job *j, const char *name)
{
        if (j->step >= j->steps)
                j->steps = j->step + 1;
        begin_step(j, name);
}

bool backup_s3_enabled(const ProvisionSettings *s)
{
        return !isempty(s->s3_endpoint);
}

int backup_s3_credentials(const char *path, char **ret_access_key, char **ret_secret_key, char *reason,
                          size_t n)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = read_file(path, S3_CREDENTIALS_MAX, &text, NULL);
        if (r < 0) {
                utf8_snprintf(reason, n, "cannot read backups.s3.credentials_file %s: %s", path,
                              strerror(-r));
                return r;
        }
        r = s3_credentials_parse(text, ret_access_key, ret_secret_key);
        explicit_bzero(text, strlen(text));
        if (r == -EINVAL)
                utf8_snprintf(reason, n,
                              "backups.s3.credentials_file %s has no aws_access_key_id and "
                              "aws_secret_access_key",
                              path);
        else if (r < 0)
                utf8_snprintf(reason, n, "cannot read backups.s3.credentials_file %s: %s", path,
                              strerror(-r));
        return r;
}

/* The S3 target of the settings, with the keys read now (free them with target_done()). */
static int target_open(const ProvisionSettings *s, S3Target *t, char *reason, size_t n)
{
        char *access = NULL, *secret = NULL;
        int r;

        r = backup_s3_credentials(s->s3_credentials_file, &access, &secret, reason, n);
        if (r < 0)
                return r;
        *t = (S3Target){
                .endpoint = s->s3_endpoint,
                .bucket = s->s3_bucket,
                .region = s->s3_region,
                .access_key = access,
                .secret_key = secret,
                .timeout_sec = s->s3_timeout_sec,
        };
        return 0;
}

static void target_done(S3Target *t)
{
        if (t->secret_key)
                explicit_bzero((char *) t->secret_key, strlen(t->secret_key));
        free((char *) t->access_key);
        free((char *) t->secret_key);
        *t = (S3Target){};
}

/* The key prefix of a backup's objects: <prefix>[/]<path>, path being "<store>/<time>-<id>". */
static int remote_key(const ProvisionSettings *s, const char *path, char **ret)
{
        size_t n = strlen(s->s3_prefix);
        const char *slash = n > 0 && s->s3_prefix[n - 1] != '/' ? "/" : "";

        return asprintf(ret, "%s%s%s", s->s3_prefix, slash, path) < 0 ? -ENOMEM : 0;
}

/* The files of a backup: its parts, then manifest.json (last: its object says the copy is whole). */
static int backup_files(json_t *row, const char ***ret, const char ***ret_sha)
{
        json_t *parts = json_object_get(json_object_get(row, "manifest"), "parts"), *part;
        size_t i, k = 0;
        const char **names = calloc(json_array_size(parts) + 2, sizeof(const char *));
        const char **shas = calloc(json_array_size(parts) + 2, sizeof(const char *));

        if (!names || !shas) {
                free(names);
                free(shas);
                return -ENOMEM;
        }
        json_array_foreach(parts, i, part) {
                const char *name = json_string_value(json_object_get(part, "name"));

                if (!name || strchr(name, '/') || streq(name, "manifest.json"))
                        continue;
                names[k] = name;
                shas[k++] = json_string_value(json_object_get(part, "sha256"));
        }
        names[k] = "manifest.json";
        *ret = names;
        *ret_sha = shas;
        return 0;
}

void backup_copy(Job *j, const char *backup_id)
{
        _cleanup_(json_decrefp) json_t *row = NULL;
        _cleanup_free_ const char **files = NULL, **shas = NULL;
        _cleanup_free_ char *key = NULL, *msg = NULL, *dir = NULL;
        S3Target t = {};
        const char *path;
        char reason[1024] = "";
        int r;

        if (!backup_s3_enabled(&j->set))
                return;
        r = backup_get_row(j->db, backup_id, &row);
        path = json_string_value(json_object_get(row, "path"));
        if (r < 0 || !path)
                return (void) log_warning_errno(r, "Store %s: cannot read backup %s to copy it: %m",
                                                j->store->name, backup_id);
        if (remote_key(&j->set, path, &key) < 0 ||
            asprintf(&dir, "%s/backups/%s", j->set.state_dir, path) < 0 ||
            backup_files(row, &files, &shas) < 0)
                return (void) log_oom();

        extra_step(j, "copying the backup to S3");
        r = target_open(&j->set, &t, reason, sizeof reason);
        t.cancel = worker_cancel_flag(j->w);
        for (size_t i = 0; r >= 0 && files[i]; i++) {
                _cleanup_free_ char *object = NULL, *file = NULL;

                if (asprintf(&object, "%s/%s", key, files[i]) < 0 ||
                    asprintf(&file, "%s/%s", dir, files[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = s3_put_file(&t, object, file, shas[i], reason, sizeof reason);
                if (r == -ECANCELED)
                        utf8_snprintf(reason, sizeof reason, "the agent stopped during the copy");
                else if (r > 0) {
                        char detail[1024];

                        utf8_snprintf(detail, sizeof detail, "%s: %s", files[i], reason);
                        memcpy(reason, detail, sizeof reason);
                        r = -EREMOTEIO;
                } else if (r < 0)
                        utf8_snprintf(reason, sizeof reason, "cannot read %s: %s", file, strerror(-r));
        }
        target_done(&t);

        if (r < 0) {
                if (asprintf(&msg,
                             "Backup %s was not copied to s3://%s/%s/: %s (the backup on this host is good)",
                             backup_id, j->set.s3_bucket, key, reason) < 0)
                        return (void) log_oom();
                (void) backup_set_remote(j->db, backup_id, key, reason);
                (void) store_add_event(j->db, j->store->id, "system", "backup.copy_failed", msg);
                log_struct(LOG_WARNING,
                           LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "ACTION",
                                      "backup.copy_failed"),
                           "Store %s: %s", j->store->name, msg);
                return;
        }
        if (asprintf(&msg, "Backup %s copied to s3://%s/%s/.", backup_id, j->set.s3_bucket, key) < 0)
                return (void) log_oom();
        (void) backup_set_remote(j->db, backup_id, key, NULL);
        (void) store_add_event(j->db, j->store->id, "system", "backup.copied", msg);
        log_struct(LOG_INFO,
                   LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "ACTION", "backup.copied"),
                   "Store %s: %s", j->store->name, msg);
}

int backup_fetch(Job *j, json_t *row, const char *dir, char *reason, size_t n)
{
        _cleanup_free_ const char **files = NULL, **shas = NULL;
        _cleanup_free_ char *partial = NULL, *parent = NULL;
        const char *id = json_string_value(json_object_get(row, "id"));
        const char *key = json_string_value(json_object_get(row, "remote_key"));
        struct stat st;
        S3Target t = {};
        char *slash;
        int r;

        if (stat(dir, &st) >= 0 || errno != ENOENT)
                return 0; /* there: restore_verify() checks what is in it */
        if (!streq_ptr(json_string_value(json_object_get(row, "remote")), "copied") || !key) {
                utf8_snprintf(reason, n, "backup %s is no longer on this host (%s) and has no copy on S3",
                              strna(id), dir);
                return 1;
        }
        if (!backup_s3_enabled(&j->set)) {
                utf8_snprintf(reason, n,
                              "backup %s is no longer on this host and its copy is on S3, which "
                              "backups.s3.endpoint no longer names",
                              strna(id));
                return 1;
        }
        if (asprintf(&partial, "%s.partial", dir) < 0 || !(parent = strdup(dir)) ||
            backup_files(row, &files, &shas) < 0)
                return -ENOMEM;
        slash = strrchr(parent, '/');
        if (slash)
                *slash = 0;
        extra_step(j, "downloading the backup from S3");
        backup_remove_dir(partial);
        r = mkdir_p(parent, 0700);
        if (r >= 0 && mkdir(partial, 0700) < 0)
                r = -errno;
        if (r < 0) {
                utf8_snprintf(reason, n, "cannot create %s: %s", partial, strerror(-r));
                return 1;
        }
        r = target_open(&j->set, &t, reason, n);
        t.cancel = worker_cancel_flag(j->w);
        for (size_t i = 0; r >= 0 && files[i]; i++) {
                _cleanup_free_ char *object = NULL, *file = NULL;
                char why[1024];

                if (asprintf(&object, "%s/%s", key, files[i]) < 0 ||
                    asprintf(&file, "%s/%s", partial, files[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                r = s3_get_file(&t, object, file, why, sizeof why);
                if (r > 0) {
                        utf8_snprintf(reason, n, "backup %s: downloading s3://%s/%s failed: %s", strna(id),
                                      j->set.s3_bucket, object, why);
                        r = -EREMOTEIO;
                } else if (r < 0)
                        utf8_snprintf(reason, n, "backup %s: cannot write %s: %s", strna(id), file,
                                      strerror(-r));
        }
        target_done(&t);
        if (r == -ENOMEM || r == -ECANCELED) {
                backup_remove_dir(partial);
                return r; /* a task stopped with the agent starts again */
        }
        /* The SHA-256 of each part is checked before the directory takes its name. */
        if (r >= 0) {
                r = restore_verify_dir(row, partial, reason, n);
                if (r == 0 && rename(partial, dir) < 0) {
                        utf8_snprintf(reason, n, "cannot rename %s: %s", partial, strerror(errno));
                        r = 1;
                }
        }
        if (r != 0) {
                backup_remove_dir(partial);
                return r == -ENOMEM ? r : 1; /* every other trouble has its reason */
        }
        (void) store_add_event(j->db, j->store->id, "system", "backup.fetched",
                               json_string_value(json_object_get(row, "id")));
        return 0;
}

void backup_remote_remove(const ProvisionSettings *s, json_t *row, const atomic_bool *cancel)
{
        _cleanup_free_ const char **files = NULL, **shas = NULL;
        const char *id = json_string_value(json_object_get(row, "id"));
        const char *key = json_string_value(json_object_get(row, "remote_key"));
        S3Target t = {};
        char reason[1024] = "";
        int r;

        if (!key || !backup_s3_enabled(s))
                return;
        if (backup_files(row, &files, &shas) < 0)
                return (void) log_oom();
        r = target_open(s, &t, reason, sizeof reason);
        if (r >= 0)
                t.timeout_sec = MIN(t.timeout_sec, (uint64_t) S3_DELETE_TIMEOUT_SEC);
        t.cancel = cancel;
        for (size_t i = 0; r >= 0 && files[i]; i++) {
                _cleanup_free_ char *object = NULL;

                if (asprintf(&object, "%s/%s", key, files[i]) < 0) {
                        r = log_oom();
                        break;
                }
                r = s3_delete(&t, object, reason, sizeof reason);
                if (r > 0) {
                        log_warning("Backup %s: cannot delete its copy s3://%s/%s: %s", strna(id),
                                    s->s3_bucket, object, reason);
                        r = 0; /* the other objects still go */
                }
        }
        target_done(&t);
        if (r < 0)
                log_warning("Backup %s: its copy on S3 (s3://%s/%s/) stays: %s", strna(id), s->s3_bucket,
                            key, *reason ? reason : strerror(-r));
        else
                log_info("Backup %s: its copy s3://%s/%s/ deleted.", strna(id), s->s3_bucket, key);
}
