/* SPDX-License-Identifier: Apache-2.0 */

/*
 * A clone: a new store made from a backup of another. The create task provisions it as any store
 * (its own namespace, Secrets with new passwords, release, host); once its workloads are ready this
 * puts the backup into it the way a restore does (every part checked against its SHA-256, the new
 * store's fresh database emptied, the dump fed to mysql in the database pod, the archive to tar in
 * the WordPress pod), then makes the site
 * its own, in its database pod, over pods/exec as well:
 *
 *   - home and siteurl, and the links in posts (content and guid), from the source's home to the new
 *     store's URL: the search-replace WordPress's own tools do for plain text. Serialized values
 *     (widgets, some plugins' options) keep the old URL; docs/backups.md says how to finish by hand.
 *   - the administrator ("admin-user" of the store's Secret) gets the new store's generated
 *     password (as an MD5 hash, which WordPress accepts and rehashes at the first sign-in), and the
 *     sessions the dump carried are ended.
 *
 * The statements go to mysql on its standard input, never on a command line; the password of the
 * database comes from the pod, as for the dump. The source store is only read from its backup.
 */

#include <gnutls/crypto.h>

#include "basic/log.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "cluster/kube-exec.h"
#include "core/backup.h"
#include "core/store.h"
#include "provision/objects.h"
#include "provision/provision-internal.h"

#define CLONE_OUTPUT_MAX 1024U

static const char REWRITE_SCRIPT[] =
        "cli=$(command -v mysql || command -v mariadb); "
        "MYSQL_PWD=$(cat \"$MYSQL_ROOT_PASSWORD_FILE\") || exit 1; export MYSQL_PWD; "
        "head -c \"$1\" | \"$cli\" --user=root --batch --skip-column-names \"$MYSQL_DATABASE\"";

/* The new store's database, as its setup made it, goes: the clone's is the backup's, table for table. */
static const char EMPTY_SCRIPT[] =
        "cli=$(command -v mysql || command -v mariadb); "
        "MYSQL_PWD=$(cat \"$MYSQL_ROOT_PASSWORD_FILE\") || exit 1; export MYSQL_PWD; "
        "exec \"$cli\" --user=root -e \"DROP DATABASE IF EXISTS \\`$MYSQL_DATABASE\\`; "
        "CREATE DATABASE \\`$MYSQL_DATABASE\\`\"";

/* What the statements read from: a buffer in memory. */
typedef struct Text {
        const char *p;
        size_t left;
        char out[CLONE_OUTPUT_MAX]; /* the first bytes mysql printed */
        size_t out_len;
} Text;

static ssize_t text_read(void *buf, size_t n, void *userdata)
{
        Text *t = userdata;
        size_t k = MIN(n, t->left);

        memcpy(buf, t->p, k);
        t->p += k;
        t->left -= k;
        return (ssize_t) k;
}

static int text_output(const void *p, size_t n, void *userdata)
{
        Text *t = userdata;
        size_t k = MIN(n, sizeof t->out - 1 - t->out_len);

        memcpy(t->out + t->out_len, p, k);
        t->out_len += k;
        t->out[t->out_len] = 0;
        return 0;
}

/* Only characters that need no quoting in SQL: a URL (a store name and the base domain), a user name. */
static bool sql_plain(const char *s)
{
        if (isempty(s))
                return false;
        for (; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:/_@-", *s))
                        return false;
        return true;
}

/* The new store's administrator and the MD5 (hex) of its password, from the store's Secret. */
static int admin_of_secret(Job *j, char **ret_user, char ret_md5[static 33])
{
        _cleanup_(json_decrefp) json_t *secret = NULL;
        _cleanup_erase_free_ char *password = NULL;
        _cleanup_free_ char *path = NULL, *user = NULL;
        uint8_t digest[16];
        int r;

        r = kube_path(&path, "v1", "secrets", j->ns, CREDENTIALS_SECRET);
        if (r < 0)
                return r;
        r = kube_get(j->kube, path, &secret);
        if (r < 0)
                return r;
        r = secret_value(secret, "admin-user", &user);
        if (r >= 0)
                r = secret_value(secret, "admin-password", &password);
        if (r < 0)
                return r;
        if (gnutls_hash_fast(GNUTLS_DIG_MD5, password, strlen(password), digest) < 0)
                return -EIO;
        hex_encode(digest, sizeof digest, ret_md5);
        *ret_user = TAKE_PTR(user);
        return 0;
}

static int discard(const void *p, size_t n, void *userdata)
{
        return 0;
}

/* Empties the new store's database (EMPTY_SCRIPT). 0, 1 with a reason, or a cluster error. */
static int empty_database(Job *j, char *reason, size_t n)
{
        _cleanup_(kube_exec_result_done) KubeExecResult res = {};
        _cleanup_free_ char *pod = NULL;
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) EMPTY_SCRIPT, NULL };
        int r;

        r = backup_find_pod(j, "database", &pod);
        if (r == -ENOENT) {
                utf8_snprintf(reason, n, "no running database pod");
                return 1;
        }
        if (r < 0)
                return r;
        r = kube_exec(j->kube, j->ns, pod, "mysql", argv, (unsigned) j->set.backup_timeout_sec, discard,
                      NULL, &res);
        if (r < 0)
                return r;
        if (res.exit_code != 0) {
                char last[300] = "";

                last_line(res.stderr_tail ?: "", last, sizeof last);
                utf8_snprintf(reason, n, "emptying the new store's database in pod %s failed: %s%s%s", pod,
                              *last ? last : "", *last ? "; " : "", res.message ?: "no status");
                return 1;
        }
        return 0;
}

/* Makes the site's URL and administrator the new store's: 0 with the old URL, 1 with a reason, or error. */
static int rewrite(Job *j, const char *url, char **ret_old, char *reason, size_t n)
{
        _cleanup_(kube_exec_result_done) KubeExecResult res = {};
        _cleanup_erase_free_ char *sql = NULL;
        _cleanup_free_ char *pod = NULL, *user = NULL;
        char md5[33], size[32];
        Text t = {};
        int r;

        if (!sql_plain(url)) {
                utf8_snprintf(reason, n, "the store's URL '%s' cannot be written into its database", url);
                return 1;
        }
        r = admin_of_secret(j, &user, md5);
        if (r == -ENOENT || r == -EBADMSG || (r >= 0 && !sql_plain(user))) {
                utf8_snprintf(reason, n, "the store's Secret %s has no usable administrator",
                              CREDENTIALS_SECRET);
                return 1;
        }
        if (r < 0)
                return r;
        r = backup_find_pod(j, "database", &pod);
        if (r == -ENOENT) {
                utf8_snprintf(reason, n, "no running database pod");
                return 1;
        }
        if (r < 0)
                return r;

        /* @old is the source's home as its database says; nothing is replaced when it has none. */
        if (asprintf(&sql,
                     "SET @new = '%s';\n"
                     "SET @old = (SELECT option_value FROM wp_options WHERE option_name = 'home' LIMIT 1);\n"
                     "UPDATE wp_options SET option_value = REPLACE(option_value, @old, @new)\n"
                     "  WHERE option_name IN ('home', 'siteurl') AND @old <> '';\n"
                     "UPDATE wp_posts SET guid = REPLACE(guid, @old, @new),\n"
                     "  post_content = REPLACE(post_content, @old, @new) WHERE @old <> '';\n"
                     "UPDATE wp_users SET user_pass = '%s' WHERE user_login = '%s';\n"
                     "DELETE FROM wp_usermeta WHERE meta_key = 'session_tokens';\n"
                     "SELECT coalesce(@old, '');\n",
                     url, md5, user) < 0)
                return -ENOMEM;
        explicit_bzero(md5, sizeof md5);
        t.p = sql;
        t.left = strlen(sql);
        xsprintf(size, "%zu", t.left);
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) REWRITE_SCRIPT, (char *) "sh", size,
                               NULL };

        r = kube_exec_stdin(j->kube, j->ns, pod, "mysql", argv, (unsigned) j->set.backup_timeout_sec,
                            text_read, text_output, &t, &res);
        if (r < 0)
                return r;
        if (res.exit_code != 0) {
                char last[300] = "";

                last_line(res.stderr_tail ?: "", last, sizeof last);
                utf8_snprintf(reason, n, "rewriting the site URL with mysql in pod %s failed: %s%s%s", pod,
                              *last ? last : "", *last ? "; " : "", res.message ?: "no status");
                return 1;
        }
        t.out[strcspn(t.out, "\r\n")] = 0;
        *ret_old = strdup(t.out);
        return *ret_old ? 0 : -ENOMEM;
}

int clone_restore(Job *j, json_t *clone, char **ret_detail, char *reason, size_t n)
{
        _cleanup_(json_decrefp) json_t *row = NULL;
        _cleanup_free_ char *url = NULL, *old = NULL;
        const char *backup_id = json_string_value(json_object_get(clone, "backup"));
        const char *source = json_string_value(json_object_get(clone, "store_name"));
        const char *source_id = json_string_value(json_object_get(clone, "store"));
        int r;

        assert(j);
        assert(ret_detail);

        if (!backup_id) {
                utf8_snprintf(reason, n, "the task names no backup to clone");
                return 1;
        }
        begin_step(j, "restoring the backup");
        r = backup_get_row(j->db, backup_id, &row);
        if (r == -ENOENT) {
                utf8_snprintf(reason, n, "backup %s is gone", backup_id);
                return 1;
        }
        if (r < 0)
                return r;
        if (!streq_ptr(json_string_value(json_object_get(row, "store_id")), source_id)) {
                utf8_snprintf(reason, n, "backup %s is not of store %s", backup_id, strna(source_id));
                return 1;
        }
        r = restore_verify(j, row, reason, n);
        if (r != 0)
                return r;
        r = empty_database(j, reason, n);
        if (r != 0)
                return r;
        r = restore_load(j, row, reason, n);
        if (r != 0)
                return r;

        r = job_checkpoint(j);
        if (r < 0)
                return r;
        begin_step(j, "rewriting the site URL");
        if (asprintf(&url, "%s://%s.%s", j->set.url_scheme, j->store->name, j->set.base_domain) < 0)
                return -ENOMEM;
        r = rewrite(j, url, &old, reason, n);
        if (r != 0)
                return r;
        if (isempty(old))
                r = asprintf(ret_detail,
                             "Cloned from store '%s' (%s), backup %s: its database and wp-content restored, "
                             "the site URL left as it was (the backup's database has no home option), a new "
                             "administrator password.",
                             strna(source), strna(source_id), backup_id);
        else
                r = asprintf(ret_detail,
                             "Cloned from store '%s' (%s), backup %s: its database and wp-content restored, "
                             "the site URL rewritten from %s to %s, a new administrator password.",
                             strna(source), strna(source_id), backup_id, old, url);
        if (r < 0)
                return -ENOMEM;
        return 0;
}
