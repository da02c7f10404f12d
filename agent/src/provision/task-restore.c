/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The restore task: puts a backup back into its store.
 *
 *   1. every part of the backup is checked against its SHA-256 in the manifest: a damaged
 *      backup is refused before anything changes;
 *   2. a safety backup of the store as it is now (a backup of its own, listed like any other);
 *      if it fails, nothing changes;
 *   3. the shop goes into WordPress's maintenance mode (a .maintenance file in /var/www/html);
 *   4. the dump is fed to mysql in the database pod, the archive to tar in the WordPress pod
 *      (into a new directory that then takes wp-content's place);
 *   5. if 4 fails, the safety backup goes back the same way, and the restore is failed with the
 *      reason; if that fails too, the store is FAILED with both reasons (and stays in maintenance);
 *   6. the transients (WordPress's cache in its database) are deleted, and maintenance mode ends.
 *
 * A task resumed after a crash starts again from 1: a safety backup that succeeded is kept, and the
 * backup is restored whole again, so the store never stays half restored.
 *
 * Each part streams from its file through zlib into the exec's standard input. The commands read
 * exactly the uncompressed size the manifest gives (`head -c N`), so they do not depend on the
 * stream's close reaching them. The database's password comes from the pod, as for the dump.
 */

#include <fcntl.h>
#include <gnutls/crypto.h>
#include <inttypes.h>
#include <zlib.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "cluster/kube-exec.h"
#include "core/backup.h"
#include "core/store.h"
#include "provision/provision-internal.h"

#define RESTORE_READ_CHUNK (64U * 1024U)

static const char LOAD_SCRIPT[] =
        "cli=$(command -v mysql || command -v mariadb); "
        "MYSQL_PWD=$(cat \"$MYSQL_ROOT_PASSWORD_FILE\") || exit 1; export MYSQL_PWD; "
        "head -c \"$1\" | \"$cli\" --user=root";

/* In the WordPress pod's working directory (/var/www/html): the new wp-content replaces the old whole. */
static const char UNPACK_SCRIPT[] =
        "set -e; rm -rf .wp-content.restore .wp-content.old; mkdir .wp-content.restore; "
        "head -c \"$1\" | tar -xf - -C .wp-content.restore; "
        "test -d .wp-content.restore/wp-content; "
        "if test -e wp-content; then mv wp-content .wp-content.old; fi; "
        "mv .wp-content.restore/wp-content wp-content; rm -rf .wp-content.old .wp-content.restore";

/*
 * Maintenance mode: WordPress answers every request with "Briefly unavailable for scheduled
 * maintenance" (503) while /var/www/html/.maintenance exists and the time it sets in $upgrading is
 * less than 10 minutes old. WordPress includes the file as PHP at each request; this one says
 * min(time(), DEADLINE), DEADLINE the time by which the step that comes next must end (now +
 * backups.timeout, each part's bound): the mode holds however long a part takes, and a shop whose
 * agent died mid-restore and never came back opens by itself 10 minutes after DEADLINE. It is
 * written again before each part, replacing the old file whole.
 */
static const char MAINTENANCE_ON_SCRIPT[] =
        "set -e; printf '<?php $upgrading = min(time(), %s); ?>\\n' \"$1\" > .maintenance.storeagent; "
        "mv -f .maintenance.storeagent .maintenance";
static const char MAINTENANCE_OFF_SCRIPT[] = "rm -f .maintenance .maintenance.storeagent";

/*
 * The cache a restore flushes: the official WordPress image has no persistent object cache and no
 * WP-CLI, so WordPress's cache across requests is its transients, rows of wp_options (the chart's
 * table prefix). A restored dump brings back the transients of its time, which no longer match.
 */
static const char FLUSH_SCRIPT[] =
        "cli=$(command -v mysql || command -v mariadb); "
        "MYSQL_PWD=$(cat \"$MYSQL_ROOT_PASSWORD_FILE\") || exit 1; export MYSQL_PWD; "
        "exec \"$cli\" --user=root --database=\"$MYSQL_DATABASE\" -e \"$1\"";
static const char FLUSH_SQL[] =
        "DELETE FROM wp_options WHERE option_name LIKE '\\_transient\\_%' "
        "OR option_name LIKE '\\_site\\_transient\\_%'";

typedef struct Source {
        gzFile gz;
        int error;
} Source;

static ssize_t source_read(void *buf, size_t n, void *userdata)
{
        Source *s = userdata;
        int k = gzread(s->gz, buf, (unsigned) MIN(n, (size_t) RESTORE_READ_CHUNK));

        if (k < 0) {
                s->error = -EIO;
                return -EIO;
        }
        return k;
}

static int discard_output(const void *p, size_t n, void *userdata)
{
        return 0;
}

/* The SHA-256 of a file as 64 hex digits. */
static int file_sha256(const char *path, char ret[static 65])
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ uint8_t *buf = NULL;
        gnutls_hash_hd_t h;
        uint8_t digest[32];
        int r = 0;

        if (fd < 0)
                return -errno;
        buf = malloc(RESTORE_READ_CHUNK);
        if (!buf)
                return -ENOMEM;
        if (gnutls_hash_init(&h, GNUTLS_DIG_SHA256) < 0)
                return -EIO;
        for (;;) {
                ssize_t k = read(fd, buf, RESTORE_READ_CHUNK);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                if (k == 0)
                        break;
                if (gnutls_hash(h, buf, (size_t) k) < 0) {
                        r = -EIO;
                        break;
                }
        }
        gnutls_hash_deinit(h, digest);
        if (r < 0)
                return r;
        hex_encode(digest, sizeof digest, ret);
        return 0;
}

/* The backup's directory; a reason when the backup cannot be used. */
static int backup_dir(Job *j, json_t *row, char **ret, char *reason, size_t n)
{
        const char *path = json_string_value(json_object_get(row, "path"));

        if (!streq_ptr(json_string_value(json_object_get(row, "status")), "succeeded") || !path ||
            !json_is_array(json_object_get(json_object_get(row, "manifest"), "parts"))) {
                utf8_snprintf(reason, n, "backup %s is not a succeeded backup",
                              strna(json_string_value(json_object_get(row, "id"))));
                return 1;
        }
        if (asprintf(ret, "%s/backups/%s", j->set.state_dir, path) < 0)
                return -ENOMEM;
        return 0;
}

int restore_verify_dir(json_t *row, const char *dir, char *reason, size_t n)
{
        json_t *part;
        size_t i;
        int r;

        json_array_foreach(json_object_get(json_object_get(row, "manifest"), "parts"), i, part) {
                _cleanup_free_ char *path = NULL;
                const char *name = json_string_value(json_object_get(part, "name"));
                const char *want = json_string_value(json_object_get(part, "sha256"));
                char have[65];

                if (!name || !want || strchr(name, '/') || asprintf(&path, "%s/%s", dir, name) < 0) {
                        utf8_snprintf(reason, n, "the manifest of backup %s is damaged",
                                      json_string_value(json_object_get(row, "id")));
                        return 1;
                }
                r = file_sha256(path, have);
                if (r < 0) {
                        utf8_snprintf(reason, n, "%s of backup %s cannot be read: %s", name,
                                      json_string_value(json_object_get(row, "id")), strerror(-r));
                        return 1;
                }
                if (!streq(have, want)) {
                        utf8_snprintf(reason, n, "%s of backup %s does not match its SHA-256 (damaged)", name,
                                      json_string_value(json_object_get(row, "id")));
                        return 1;
                }
        }
        return 0;
}

int restore_verify(Job *j, json_t *row, char *reason, size_t n)
{
        _cleanup_free_ char *dir = NULL;
        int r;

        r = backup_dir(j, row, &dir, reason, n);
        if (r != 0)
                return r;
        /* A backup whose directory is gone comes back from its copy on S3, checked on the way. */
        r = backup_fetch(j, row, dir, reason, n);
        if (r != 0)
                return r;
        return restore_verify_dir(row, dir, reason, n);
}

/* Feeds one part into its pod. 0, 1 with a reason when the command failed, or a cluster error. */
static int load_part(Job *j, const char *dir, json_t *part, char *reason, size_t n)
{
        _cleanup_(kube_exec_result_done) KubeExecResult res = {};
        _cleanup_free_ char *path = NULL, *pod = NULL;
        const char *name = json_string_value(json_object_get(part, "name"));
        const char *kind = json_string_value(json_object_get(part, "kind"));
        bool tar = streq_ptr(kind, "tar");
        char size[32];
        Source src = {};
        int fd, r;

        xsprintf(size, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(part, "uncompressed_bytes")));
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) (tar ? UNPACK_SCRIPT : LOAD_SCRIPT),
                               (char *) "sh", size, NULL };

        r = backup_find_pod(j, tar ? "web" : "database", &pod);
        if (r == -ENOENT) {
                utf8_snprintf(reason, n, "no running %s pod", tar ? "web" : "database");
                return 1;
        }
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%s", dir, strna(name)) < 0)
                return -ENOMEM;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || !(src.gz = gzdopen(fd, "rb"))) {
                if (fd >= 0)
                        close(fd);
                utf8_snprintf(reason, n, "cannot read %s", path);
                return 1;
        }
        r = kube_exec_stdin(j->kube, j->ns, pod, tar ? "wordpress" : "mysql", argv,
                            (unsigned) j->set.backup_timeout_sec, source_read, discard_output, &src, &res);
        (void) gzclose(src.gz);
        if (r < 0 && src.error < 0) {
                utf8_snprintf(reason, n, "%s cannot be uncompressed", strna(name));
                return 1;
        }
        if (r < 0)
                return r;
        if (res.exit_code != 0) {
                char last[300] = "";

                last_line(res.stderr_tail ?: "", last, sizeof last);
                utf8_snprintf(reason, n, "%s of %s in pod %s failed: %s%s%s", tar ? "tar" : "mysql", strna(name),
                              pod, *last ? last : "", *last ? "; " : "", res.message ?: "no status");
                return 1;
        }
        return 0;
}

/* Runs a short command without input in the store's pod; 0, 1 with a reason when it failed, or a cluster error. */
static int run_in_pod(Job *j, const char *component, const char *container, char *const *argv, char *reason,
                      size_t n)
{
        _cleanup_(kube_exec_result_done) KubeExecResult res = {};
        _cleanup_free_ char *pod = NULL;
        int r;

        r = backup_find_pod(j, component, &pod);
        if (r == -ENOENT) {
                utf8_snprintf(reason, n, "no running %s pod", component);
                return 1;
        }
        if (r < 0)
                return r;
        r = kube_exec(j->kube, j->ns, pod, container, argv, (unsigned) j->set.backup_timeout_sec, discard_output,
                      NULL, &res);
        if (r < 0)
                return r;
        if (res.exit_code != 0) {
                char last[300] = "";

                last_line(res.stderr_tail ?: "", last, sizeof last);
                utf8_snprintf(reason, n, "%s in pod %s failed: %s%s%s", argv[0], pod, *last ? last : "",
                              *last ? "; " : "", res.message ?: "no status");
                return 1;
        }
        return 0;
}

/* A cluster error as the reason of a step that failed: 1, or what the task returns at once. */
static int step_error(Job *j, int r, char *reason, size_t n)
{
        if (r == -ECANCELED || r == -ESTALE || r == -ENOMEM)
                return r;
        if (r < 0)
                utf8_snprintf(reason, n, "%s", kube_client_last_error(j->kube));
        return r == 0 ? 0 : 1;
}

static int maintenance_on(Job *j, char *reason, size_t n)
{
        char deadline[32];
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) MAINTENANCE_ON_SCRIPT, (char *) "sh", deadline,
                               NULL };

        xsprintf(deadline, "%" PRIu64, now_usec() / USEC_PER_SEC + j->set.backup_timeout_sec);
        return step_error(j, run_in_pod(j, "web", "wordpress", argv, reason, n), reason, n);
}

static int maintenance_off(Job *j, char *reason, size_t n)
{
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) MAINTENANCE_OFF_SCRIPT, NULL };

        return step_error(j, run_in_pod(j, "web", "wordpress", argv, reason, n), reason, n);
}

static int flush_caches(Job *j, char *reason, size_t n)
{
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) FLUSH_SCRIPT, (char *) "sh", (char *) FLUSH_SQL,
                               NULL };

        return step_error(j, run_in_pod(j, "database", "mysql", argv, reason, n), reason, n);
}

/* Feeds every part of a backup into its pod; with maintenance, the maintenance file is written anew first. */
static int load_parts(Job *j, json_t *row, bool maintenance, char *reason, size_t n)
{
        _cleanup_free_ char *dir = NULL;
        json_t *part;
        size_t i;
        int r;

        r = backup_dir(j, row, &dir, reason, n);
        if (r != 0)
                return r;
        json_array_foreach(json_object_get(json_object_get(row, "manifest"), "parts"), i, part) {
                r = job_checkpoint(j);
                if (r < 0)
                        return r;
                if (maintenance) {
                        char why[512] = "";

                        r = maintenance_on(j, why, sizeof why);
                        if (r > 0)
                                utf8_snprintf(reason, n, "cannot keep the shop in maintenance mode: %s", why);
                        if (r != 0)
                                return r;
                }
                r = load_part(j, dir, part, reason, n);
                if (r != 0)
                        return r;
        }
        return 0;
}

int restore_load(Job *j, json_t *row, char *reason, size_t n)
{
        return load_parts(j, row, false, reason, n);
}

static int restore_done(Job *j, const char *action, const char *msg)
{
        int r = worker_fence(j->w);

        if (r < 0)
                return r;
        (void) store_add_event(j->db, j->store->id, "system", action, msg);
        (void) store_set_reason(j->db, j->store->id, NULL);
        (void) store_set_progress(j->db, j->store->id, NULL, 0, 0);
        log_struct(streq(action, "backup.restored") ? LOG_INFO : LOG_WARNING,
                   LOG_FIELDS("STORE_ID", j->store->id, "TASK_ID", j->task_id, "ACTION", action), "Store %s: %s",
                   j->store->name, msg);
        return 0;
}

/* After the parts went in: caches flushed, maintenance mode ended; what went wrong is added to msg. */
static void restore_finish(Job *j, char *msg, size_t n)
{
        char why[512] = "";
        size_t k;

        begin_step(j, "flushing caches");
        if (flush_caches(j, why, sizeof why) > 0) {
                k = strlen(msg);
                utf8_snprintf(msg + k, n - k, " The transients could not be deleted: %s.", why);
        }
        begin_step(j, "ending maintenance mode");
        if (maintenance_off(j, why, sizeof why) > 0) {
                k = strlen(msg);
                utf8_snprintf(msg + k, n - k,
                              " The maintenance file could not be removed (%s): WordPress ignores it from 10 minutes "
                              "after the restore's deadline.",
                              why);
        }
}

int task_restore(Job *j)
{
        _cleanup_(json_decrefp) json_t *target = NULL, *safety = NULL;
        const char *backup_id = json_string_value(json_object_get(j->t->payload, "backup"));
        const char *safety_id = json_string_value(json_object_get(j->t->payload, "safety"));
        char reason[1024] = "", again[1024] = "", msg[3400];
        int r;

        j->steps = 9;
        j->expected = STORE_READY;
        if (!backup_id || !safety_id)
                return -EINVAL;
        if (superseded(j, STORE_READY))
                return 0;

        begin_step(j, "checking the backup");
        r = backup_get_row(j->db, backup_id, &target);
        if (r < 0 && r != -ENOENT)
                return r;
        r = r == -ENOENT ? (utf8_snprintf(reason, sizeof reason, "backup %s is gone", backup_id), 1)
                         : restore_verify(j, target, reason, sizeof reason);
        if (r < 0)
                return r; /* -ENOMEM, or -ECANCELED during a download: the task runs again */
        if (r != 0) {
                (void) backup_set_failed(j->db, safety_id, "not taken: the restore was refused");
                utf8_snprintf(msg, sizeof msg, "Restore of backup %s refused, the store is unchanged: %s", backup_id,
                              reason);
                return restore_done(j, "backup.restore_failed", msg);
        }

        /* The safety backup: its own row, its own steps (database, wp-content, manifest). */
        r = backup_take(j, safety_id);
        if (r < 0)
                return r;
        r = backup_get_row(j->db, safety_id, &safety);
        if (r < 0)
                return r;
        if (!streq_ptr(json_string_value(json_object_get(safety, "status")), "succeeded")) {
                utf8_snprintf(msg, sizeof msg,
                              "Restore of backup %s not started, the store is unchanged: its safety backup %s "
                              "failed: %s",
                              backup_id, safety_id, strna(json_string_value(json_object_get(safety, "reason"))));
                return restore_done(j, "backup.restore_failed", msg);
        }

        /* Visitors see WordPress's maintenance page from here until the end, not a shop half restored. */
        begin_step(j, "putting the shop in maintenance mode");
        r = maintenance_on(j, reason, sizeof reason);
        if (r < 0)
                return r;
        if (r > 0) {
                (void) maintenance_off(j, again, sizeof again);
                utf8_snprintf(msg, sizeof msg,
                              "Restore of backup %s not started, the store is unchanged: cannot put the shop in "
                              "maintenance mode: %s",
                              backup_id, reason);
                return restore_done(j, "backup.restore_failed", msg);
        }

        begin_step(j, "restoring the database and wp-content");
        r = step_error(j, load_parts(j, target, true, reason, sizeof reason), reason, sizeof reason);
        if (r < 0)
                return r;
        if (r == 0) {
                utf8_snprintf(msg, sizeof msg, "Restored from backup %s (safety backup %s).", backup_id, safety_id);
                restore_finish(j, msg, sizeof msg);
                return restore_done(j, "backup.restored", msg);
        }

        /* Back to where the store was. */
        begin_step(j, "returning to the safety backup");
        r = step_error(j, load_parts(j, safety, true, again, sizeof again), again, sizeof again);
        if (r < 0)
                return r;
        if (r == 0) {
                utf8_snprintf(msg, sizeof msg,
                              "Restore of backup %s failed, the store is back as it was (safety backup %s): %s",
                              backup_id, safety_id, reason);
                restore_finish(j, msg, sizeof msg);
                return restore_done(j, "backup.restore_failed", msg);
        }
        /* Half restored: the maintenance page stays until someone puts the store right (or it lapses). */
        utf8_snprintf(msg, sizeof msg,
                      "Restore of backup %s failed (%s), and returning to safety backup %s failed too (%s); the shop "
                      "stays in maintenance mode",
                      backup_id, reason, safety_id, again);
        return fail_store(j, "backup.restore_failed", msg);
}
