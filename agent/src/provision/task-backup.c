/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The backup task: a consistent dump of the store's database and an archive of its wp-content,
 * both streamed out of the running pods over pods/exec, compressed on the way to the disk, with a
 * manifest (chart and app version, sizes, SHA-256 of each part).
 *
 * The files go to <state_dir>/backups/<store>/<time>.partial/ and the directory takes its final
 * name only when every part and the manifest are on disk, so a directory without ".partial" is
 * always a whole backup. A task resumed after a crash starts its backup again from nothing.
 *
 * The database pod runs mysqldump (or mariadb-dump) with the root password read from the file
 * the pod's own environment names (MYSQL_ROOT_PASSWORD_FILE, as the chart sets it): the password
 * is never in the agent, on a command line or in the request. The WordPress pod runs tar in its
 * working directory (the image's /var/www/html).
 */

#include <fcntl.h>
#include <gnutls/crypto.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <zlib.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "cluster/kube-exec.h"
#include "core/backup-schedule.h"
#include "core/backup.h"
#include "core/store.h"
#include "provision/provision-internal.h"
#include "storeagent-build.h"

#define BACKUP_OUT_CHUNK (64U * 1024U)

/*
 * The dump, run by sh in the database container. Its password comes from the file the pod names;
 * MYSQL_PWD keeps it out of every argv. --single-transaction reads InnoDB tables at one point in
 * time without locking the shop; routines and triggers are part of the schema a restore needs.
 */
static const char DUMP_SCRIPT[] =
        "set -e; "
        "dump=$(command -v mysqldump || command -v mariadb-dump); "
        "MYSQL_PWD=$(cat \"$MYSQL_ROOT_PASSWORD_FILE\"); export MYSQL_PWD; "
        "exec \"$dump\" --user=root --single-transaction --routines --triggers --events --hex-blob "
        "--databases \"$MYSQL_DATABASE\"";

typedef struct Part {
        const char *name;      /* file name in the backup's directory */
        const char *kind;      /* what the manifest says it is */
        const char *component; /* the pod's app.kubernetes.io/component */
        const char *container;
        const char *step;
} Part;

static const Part parts[] = {
        { "database.sql.gz", "mysqldump", "database", "mysql", "dumping the database" },
        { "wp-content.tar.gz", "tar", "web", "wordpress", "archiving wp-content" },
};

/* The platform's disk budget for backups (backups.max_bytes), as one backup spends it. */
typedef struct Budget {
        uint64_t max;     /* 0: no budget */
        uint64_t used;    /* by the backups that succeeded before this one */
        uint64_t written; /* by this one so far, every part */
} Budget;

/* Where one part's bytes go: gzip, then the file, with the SHA-256 of what is written. */
typedef struct Sink {
        Budget *budget;
        int fd;
        z_stream z;
        bool z_ready;
        gnutls_hash_hd_t hash;
        uint64_t in_bytes, out_bytes;
        uint8_t *buf;
        int error;
} Sink;

static int sink_write(Sink *s, const uint8_t *p, size_t n)
{
        /* Refused before the write: the disk never holds more than the budget. */
        if (s->budget->max > 0 && s->budget->used + s->budget->written + n > s->budget->max)
                return -EDQUOT;
        while (n > 0) {
                ssize_t k = write(s->fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (gnutls_hash(s->hash, p, (size_t) k) < 0)
                        return -EIO;
                s->out_bytes += (uint64_t) k;
                s->budget->written += (uint64_t) k;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

static int sink_deflate(Sink *s, const void *p, size_t n, int flush)
{
        int r;

        s->z.next_in = (Bytef *) p;
        s->z.avail_in = (uInt) n;
        do {
                int zr;

                s->z.next_out = s->buf;
                s->z.avail_out = BACKUP_OUT_CHUNK;
                zr = deflate(&s->z, flush);
                if (zr == Z_STREAM_ERROR)
                        return -EIO;
                r = sink_write(s, s->buf, BACKUP_OUT_CHUNK - s->z.avail_out);
                if (r < 0)
                        return r;
        } while (s->z.avail_out == 0 || (flush == Z_FINISH && s->z.avail_in > 0));
        return 0;
}

static int sink_output(const void *p, size_t n, void *userdata)
{
        Sink *s = userdata;
        int r;

        /* The exec hands on at most one read; deflate takes a uInt. */
        r = sink_deflate(s, p, n, Z_NO_FLUSH);
        if (r < 0)
                return (s->error = r);
        s->in_bytes += n;
        return 0;
}

static int sink_open(Sink *s, Budget *budget, int dir_fd, const char *name)
{
        *s = (Sink){ .fd = -EBADF, .budget = budget };
        s->buf = malloc(BACKUP_OUT_CHUNK);
        if (!s->buf)
                return -ENOMEM;
        if (gnutls_hash_init(&s->hash, GNUTLS_DIG_SHA256) < 0) {
                s->hash = NULL;
                return -EIO;
        }
        /* windowBits 15 + 16: a gzip file, which gunzip and zcat read. */
        if (deflateInit2(&s->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
                return -ENOMEM;
        s->z_ready = true;
        s->fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        return s->fd < 0 ? -errno : 0;
}

/* Ends the gzip stream and syncs the file; *ret_sha256 gets the file's digest in hex. */
static int sink_finish(Sink *s, char ret_sha256[static 65])
{
        uint8_t digest[32];
        int r;

        r = sink_deflate(s, NULL, 0, Z_FINISH);
        if (r < 0)
                return r;
        if (fsync(s->fd) < 0)
                return -errno;
        gnutls_hash_output(s->hash, digest);
        hex_encode(digest, sizeof digest, ret_sha256);
        return 0;
}

static void sink_done(Sink *s)
{
        if (s->z_ready)
                (void) deflateEnd(&s->z);
        if (s->hash)
                gnutls_hash_deinit(s->hash, NULL);
        s->fd = safe_close(s->fd);
        free(s->buf);
        *s = (Sink){ .fd = -EBADF, .budget = s->budget };
}

/* Removes a backup's directory (its files, never anything below them); trouble is left as it is. */
void backup_remove_dir(const char *path)
{
        (void) backup_dir_remove(path);
}

/* Writes a file of the backup's directory whole or not at all, and syncs it. */
static int write_file_at(int dir_fd, const char *name, const char *data, size_t n)
{
        char tmp[64];
        int r = 0;

        xsprintf(tmp, "%s.tmp", name);
        _cleanup_close_ int fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        while (n > 0 && r == 0) {
                ssize_t k = write(fd, data, n);

                if (k < 0 && errno != EINTR)
                        r = -errno;
                else if (k > 0) {
                        data += k;
                        n -= (size_t) k;
                }
        }
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

/* A Running pod of the release's component, not being deleted. */
int backup_find_pod(Job *j, const char *component, char **ret)
{
        _cleanup_(json_decrefp) json_t *list = NULL;
        _cleanup_free_ char *path = NULL, *selector = NULL;
        json_t *pod;
        size_t i;
        int r;

        if (kube_path(&path, "v1", "pods", j->ns, NULL) < 0 ||
            asprintf(&selector, "app.kubernetes.io/instance=%s,app.kubernetes.io/component=%s", j->store->name,
                     component) < 0)
                return -ENOMEM;
        r = kube_list(j->kube, path, selector, &list);
        if (r < 0)
                return r;
        json_array_foreach(json_object_get(list, "items"), i, pod) {
                json_t *meta = json_object_get(pod, "metadata");
                const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));
                const char *name = json_string_value(json_object_get(meta, "name"));

                if (!name || !phase || !streq(phase, "Running") || json_object_get(meta, "deletionTimestamp"))
                        continue;
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }
        return -ENOENT;
}

/* The failure of a backup: the row says why, the timeline too; the store stays as it is. */
static int backup_failed(Job *j, const char *backup_id, const char *dir, const char *reason)
{
        _cleanup_free_ char *msg = NULL;
        int r;

        r = worker_fence(j->w);
        if (r < 0)
                return r;
        if (dir)
                backup_remove_dir(dir);
        if (asprintf(&msg, "Backup %s failed: %s", backup_id, reason) < 0)
                return -ENOMEM;
        (void) backup_set_failed(j->db, backup_id, reason);
        (void) store_add_event(j->db, j->store->id, "system", "backup.failed", msg);
        (void) store_set_reason(j->db, j->store->id, NULL);
        (void) store_set_progress(j->db, j->store->id, NULL, 0, 0);
        log_struct(LOG_WARNING, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "ACTION", "backup.failed"),
                   "Store %s: %s", j->store->name, msg);
        return 0;
}

/* Trouble with the cluster: wait and retry when it may pass, else the backup failed. */
static int backup_cluster_error(Job *j, const char *backup_id, const char *dir, int r, const char *doing)
{
        _cleanup_free_ char *reason = NULL;

        if (r == -ECANCELED || r == -ENOMEM || r == -ESTALE)
                return r;
        if (asprintf(&reason, "%s: %s", doing, kube_client_last_error(j->kube)) < 0)
                return -ENOMEM;
        if (cluster_error_is_transient(r)) {
                _cleanup_free_ char *waiting = NULL;

                if (dir)
                        backup_remove_dir(dir);
                if (asprintf(&waiting, "Backup %s waits for the cluster: %s", backup_id, reason) < 0)
                        return -ENOMEM;
                set_waiting_reason(j, waiting);
                return -EAGAIN;
        }
        return backup_failed(j, backup_id, dir, reason);
}

/* Takes one part into dir_fd; 0 with its manifest entry, >0 when the command failed (reason set). */
static int take_part(Job *j, const Part *part, Budget *budget, int dir_fd, json_t **ret_entry, char *reason,
                     size_t n)
{
        _cleanup_(kube_exec_result_done) KubeExecResult res = {};
        _cleanup_free_ char *pod = NULL;
        char *const dump_argv[] = { (char *) "sh", (char *) "-c", (char *) DUMP_SCRIPT, NULL };
        char *const tar_argv[] = { (char *) "tar", (char *) "-cf", (char *) "-", (char *) "wp-content", NULL };
        char sha[65];
        Sink s;
        int r;

        r = backup_find_pod(j, part->component, &pod);
        if (r == -ENOENT) {
                utf8_snprintf(reason, n, "no running %s pod", part->component);
                return 1;
        }
        if (r < 0)
                return r;

        r = sink_open(&s, budget, dir_fd, part->name);
        if (r < 0) {
                sink_done(&s);
                utf8_snprintf(reason, n, "cannot write %s: %s", part->name, strerror(-r));
                return 1;
        }
        r = kube_exec(j->kube, j->ns, pod, part->container, streq(part->kind, "tar") ? tar_argv : dump_argv,
                      (unsigned) j->set.backup_timeout_sec, sink_output, &s, &res);
        if (r < 0 && s.error == -EDQUOT) {
                utf8_snprintf(reason, n,
                              "writing %s stopped: the backups would take more than their disk budget "
                              "(backups.max_bytes: %" PRIu64 " bytes, %" PRIu64 " of them used by other backups)",
                              part->name, budget->max, budget->used);
                sink_done(&s);
                return 1;
        }
        if (r < 0 && s.error < 0) {
                utf8_snprintf(reason, n, "writing %s failed: %s", part->name, strerror(-s.error));
                sink_done(&s);
                return 1;
        }
        if (r < 0) {
                sink_done(&s);
                return r;
        }
        if (res.exit_code != 0) {
                const char *err = res.stderr_tail;
                char last[300] = "";

                last_line(err ?: "", last, sizeof last);
                if (res.exit_code > 0)
                        utf8_snprintf(reason, n, "%s in pod %s exited with code %d%s%s", part->kind, pod,
                                      res.exit_code, *last ? ": " : "", last);
                else
                        utf8_snprintf(reason, n, "%s in pod %s failed: %s%s%s", part->kind, pod,
                                      res.message ?: "no status", *last ? "; " : "", last);
                sink_done(&s);
                return 1;
        }
        r = sink_finish(&s, sha);
        if (r == -EDQUOT) {
                utf8_snprintf(reason, n,
                              "writing %s stopped: the backups would take more than their disk budget "
                              "(backups.max_bytes: %" PRIu64 " bytes, %" PRIu64 " of them used by other backups)",
                              part->name, budget->max, budget->used);
                sink_done(&s);
                return 1;
        }
        if (r < 0) {
                utf8_snprintf(reason, n, "writing %s failed: %s", part->name, strerror(-r));
                sink_done(&s);
                return 1;
        }
        *ret_entry = json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "name", part->name, "kind", part->kind, "pod", pod,
                               "size_bytes", (json_int_t) s.out_bytes, "uncompressed_bytes",
                               (json_int_t) s.in_bytes, "sha256", sha);
        sink_done(&s);
        return *ret_entry ? 0 : -ENOMEM;
}

/* The app version the release runs: the label the chart puts on its workloads. */
static char *release_app_version(Job *j)
{
        _cleanup_(json_decrefp) json_t *list = NULL;
        _cleanup_free_ char *path = NULL, *selector = NULL;
        const char *v;

        if (kube_path(&path, "apps/v1", "deployments", j->ns, NULL) < 0 ||
            asprintf(&selector, "app.kubernetes.io/instance=%s,app.kubernetes.io/component=web", j->store->name) < 0)
                return NULL;
        if (kube_list(j->kube, path, selector, &list) < 0)
                return NULL;
        v = json_string_value(json_object_get(
                json_object_get(json_object_get(json_array_get(json_object_get(list, "items"), 0), "metadata"),
                                "labels"),
                "app.kubernetes.io/version"));
        return v ? strdup(v) : NULL;
}

/*
 * Retention, after a backup succeeded: the scheduled backups the policy no longer keeps lose their
 * files, then their rows (a crash between the two leaves a row that the next pruning removes).
 * Trouble here is logged and left for the next backup: the one just taken stands.
 */
static void backup_prune(Job *j)
{
        _cleanup_(json_decrefp) json_t *drop = NULL;
        json_t *b;
        size_t i;
        int r;

        r = backup_retention_plan(j->db, j->store->id, &j->set.backups, &drop);
        if (r < 0) {
                log_warning_errno(r, "Store %s: cannot tell which backups retention removes: %m", j->store->name);
                return;
        }
        json_array_foreach(drop, i, b) {
                const char *id = json_string_value(json_object_get(b, "id"));
                const char *path = json_string_value(json_object_get(b, "path"));
                _cleanup_free_ char *dir = NULL, *msg = NULL;

                if (path && asprintf(&dir, "%s/backups/%s", j->set.state_dir, path) < 0)
                        return (void) log_oom();
                r = backup_remove(j->db, id, dir);
                if (r == -EBUSY)
                        continue; /* a clone queued since the plan reads it: kept until that is done */
                if (r < 0 && r != -ENOENT) {
                        log_warning_errno(r, "Store %s: cannot remove the row of backup %s: %m", j->store->name, id);
                        return;
                }
                if (asprintf(&msg,
                             "Backup %s removed by retention (keep the last %" PRIu64 ", daily %" PRIu64
                             ", weekly %" PRIu64 ").",
                             id, j->set.backups.keep_last, j->set.backups.keep_daily,
                             j->set.backups.keep_weekly) < 0)
                        return (void) log_oom();
                (void) store_add_event(j->db, j->store->id, "system", "backup.pruned", msg);
                log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "ACTION", "backup.pruned"), "Store %s: %s",
                           j->store->name, msg);
        }
}

/* Takes backup backup_id of the job's store: 0 once its row says succeeded or failed. */
int backup_take(Job *j, const char *backup_id)
{
        _cleanup_(json_decrefp) json_t *row = NULL, *manifest = NULL, *entries = NULL;
        _cleanup_free_ char *store_dir = NULL, *final = NULL, *partial = NULL, *text = NULL, *app = NULL;
        _cleanup_free_ char *rel = NULL, *msg = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        const char *status;
        Budget budget = {};
        char stamp[32], reason[1024] = "", when[32];
        uint64_t total = 0, now = now_usec();
        time_t secs = (time_t) (now / USEC_PER_SEC);
        struct tm tm;
        int r;

        r = backup_get_row(j->db, backup_id, &row);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        status = json_string_value(json_object_get(row, "status"));
        if (status && STR_IN_SET(status, "succeeded", "failed"))
                return 0;
        if (superseded(j, STORE_READY))
                return backup_failed(j, backup_id, NULL, "the store is no longer READY");

        /* A directory per backup, named by its time: 20261201T195100Z-<id>. */
        gmtime_r(&secs, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
        if (asprintf(&store_dir, "%s/backups/%s", j->set.state_dir, j->store->name) < 0 ||
            asprintf(&rel, "%s/%s-%s", j->store->name, stamp, backup_id) < 0 ||
            asprintf(&final, "%s/backups/%s", j->set.state_dir, rel) < 0 ||
            asprintf(&partial, "%s.partial", final) < 0)
                return -ENOMEM;
        /*
         * What an earlier attempt of this task left is not a backup: its .partial directory, or its
         * whole one when the daemon stopped between the rename and the row saying succeeded.
         */
        if (json_is_string(json_object_get(row, "path"))) {
                _cleanup_free_ char *old = NULL, *old_partial = NULL;

                if (asprintf(&old, "%s/backups/%s", j->set.state_dir,
                             json_string_value(json_object_get(row, "path"))) < 0 ||
                    asprintf(&old_partial, "%s.partial", old) < 0)
                        return -ENOMEM;
                backup_remove_dir(old_partial);
                backup_remove_dir(old);
        }
        r = mkdir_p(store_dir, 0700);
        if (r >= 0 && mkdir(partial, 0700) < 0 && errno != EEXIST)
                r = -errno;
        if (r < 0) {
                utf8_snprintf(reason, sizeof reason, "cannot create %s: %s", partial, strerror(-r));
                return backup_failed(j, backup_id, NULL, reason);
        }
        dir_fd = open(partial, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dir_fd < 0)
                return -errno;
        r = backup_set_running(j->db, backup_id, rel);
        if (r < 0)
                return r;
        budget.max = j->set.backup_max_bytes;
        if (budget.max > 0) {
                r = backup_bytes_used(j->db, &budget.used);
                if (r < 0)
                        return r;
                if (budget.used >= budget.max) {
                        utf8_snprintf(reason, sizeof reason,
                                      "the backups' disk budget is used up (backups.max_bytes: %" PRIu64
                                      " bytes, %" PRIu64 " used); delete backups or raise the budget",
                                      budget.max, budget.used);
                        return backup_failed(j, backup_id, partial, reason);
                }
        }
        (void) store_add_event(j->db, j->store->id, "system", "backup.started", backup_id);

        entries = json_array();
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                json_t *entry = NULL;

                r = job_checkpoint(j);
                if (r < 0)
                        return r;
                begin_step(j, parts[i].step);
                r = take_part(j, &parts[i], &budget, dir_fd, &entry, reason, sizeof reason);
                if (r < 0)
                        return backup_cluster_error(j, backup_id, partial, r, parts[i].step);
                if (r > 0)
                        return backup_failed(j, backup_id, partial, reason);
                total += (uint64_t) json_integer_value(json_object_get(entry, "size_bytes"));
                if (json_array_append_new(entries, entry) < 0)
                        return -ENOMEM;
        }

        begin_step(j, "writing the manifest");
        app = release_app_version(j);
        manifest = json_pack("{s:i, s:s, s:{s:s, s:s}, s:s, s:o, s:o, s:s, s:O}", "format", 1, "backup", backup_id,
                             "store", "id", j->store->id, "name", j->store->name, "created_at",
                             format_timestamp(when, now, false), "chart_version",
                             j->store->chart_version ? json_string(j->store->chart_version) : json_null(),
                             "app_version", app ? json_string(app) : json_null(), "agent_version", PACKAGE_VERSION,
                             "parts", entries);
        text = manifest ? json_dumps(manifest, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        if (!text)
                return -ENOMEM;
        r = write_file_at(dir_fd, "manifest.json", text, strlen(text));
        if (r >= 0 && fsync(dir_fd) < 0)
                r = -errno;
        /* The name says it is whole only now. */
        if (r >= 0 && rename(partial, final) < 0)
                r = -errno;
        if (r < 0) {
                utf8_snprintf(reason, sizeof reason, "writing the manifest failed: %s", strerror(-r));
                return backup_failed(j, backup_id, partial, reason);
        }

        r = worker_fence(j->w);
        if (r < 0)
                return r;
        r = backup_set_succeeded(j->db, backup_id, total, text);
        if (r < 0)
                return r;
        if (asprintf(&msg, "Backup %s: %" PRIu64 " bytes in %s.", backup_id, total, rel) < 0)
                return -ENOMEM;
        (void) store_add_event(j->db, j->store->id, "system", "backup.succeeded", msg);
        (void) store_set_reason(j->db, j->store->id, NULL);
        (void) store_set_progress(j->db, j->store->id, NULL, 0, 0);
        log_struct(LOG_INFO, LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "ACTION", "backup.succeeded"),
                   "Store %s: %s", j->store->name, msg);
        backup_copy(j, backup_id);
        backup_prune(j);
        return 0;
}

int task_backup(Job *j)
{
        const char *backup_id = json_string_value(json_object_get(j->t->payload, "backup"));

        j->steps = backup_s3_enabled(&j->set) ? 4 : 3;
        j->expected = STORE_READY;
        if (!backup_id)
                return -EINVAL;
        return backup_take(j, backup_id);
}
