/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/log.h"
#include "basic/util.h"
#include "core/token.h"

bool token_name_is_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-' || c == '.' || c == '@'))
                        return false;
        }
        return true;
}

int token_create(Db *db, int64_t account_id, const char *name, uint64_t expires_at, char **ret_token)
{
        assert(db);
        assert(ret_token);

        _cleanup_erase_free_ char *random = NULL, *token = NULL;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        char hash[65];
        int r, rc;

        if (!token_name_is_valid(name) || account_id <= 0)
                return -EINVAL;
        r = random_alnum(TOKEN_RANDOM_CHARS, &random);
        if (r < 0)
                return r;
        if (asprintf(&token, TOKEN_PREFIX "%s", random) < 0)
                return -ENOMEM;
        r = sha256_hex(token, strlen(token), hash);
        if (r < 0)
                return r;

        r = db_prepare(db, "INSERT INTO tokens (account_id, name, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, account_id);
        sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 3, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, (sqlite3_int64) now_usec());
        if (expires_at > 0)
                sqlite3_bind_int64(s, 5, (sqlite3_int64) expires_at);
        rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return db_errno(sqlite3_extended_errcode(db_handle(db)));
        *ret_token = TAKE_PTR(token);
        return 0;
}

/* The caller a token row stands for: columns token id, token name, expires_at, account id, account name,
 * role, disabled_at, starting at col. */
#define CALLER_COLUMNS "t.id, t.name, coalesce(t.expires_at, 0), a.id, a.name, a.role, coalesce(a.disabled_at, 0)"
#define CALLER_JOIN "tokens t JOIN accounts a ON a.id = t.account_id"

static int caller_from_row(sqlite3_stmt *s, int col, Caller *ret)
{
        uint64_t expires_at = (uint64_t) sqlite3_column_int64(s, col + 2);
        AccountRole role = account_role_from_string((const char *) sqlite3_column_text(s, col + 5));
        Caller c = {
                .token_id = sqlite3_column_int64(s, col),
                .account_id = sqlite3_column_int64(s, col + 3),
                .role = role,
        };

        if (role < 0)
                return -EBADMSG;
        if (!snprintf_ok(c.token, sizeof c.token, "%s", (const char *) sqlite3_column_text(s, col + 1)) ||
            !snprintf_ok(c.account, sizeof c.account, "%s", (const char *) sqlite3_column_text(s, col + 4)))
                return -EBADMSG;
        if (expires_at > 0 && expires_at <= now_usec())
                return -EKEYEXPIRED;
        if (sqlite3_column_int64(s, col + 6) > 0)
                return -EPERM;
        *ret = c;
        return 0;
}

int token_verify(Db *db, const char *token, Caller *ret)
{
        assert(db);
        assert(ret);

        _cleanup_stmt_ sqlite3_stmt *s = NULL, *u = NULL;
        char hash[65];
        int r;

        if (isempty(token) || strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 || strlen(token) > 256)
                return -EACCES;
        r = sha256_hex(token, strlen(token), hash);
        if (r < 0)
                return r;
        r = db_prepare(db,
                       "SELECT t.hash, coalesce(t.last_used_at, 0), " CALLER_COLUMNS " FROM " CALLER_JOIN
                       " WHERE t.hash = ? AND t.revoked_at IS NULL",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_ROW)
                return -EACCES;
        const char *stored = (const char *) sqlite3_column_text(s, 0);
        if (!stored || strlen(stored) != 64 || !memeq_consttime(stored, hash, 64))
                return -EACCES;
        r = caller_from_row(s, 2, ret);
        if (r < 0)
                return r;

        /*
         * Last use is informational, kept to the minute: writing it on every request would
         * serialize all readers behind the database's write lock.
         */
        uint64_t now = now_usec();
        if ((uint64_t) sqlite3_column_int64(s, 1) + 60 * USEC_PER_SEC > now)
                return 0;
        if (db_prepare(db, "UPDATE tokens SET last_used_at = ? WHERE id = ?", &u) >= 0) {
                sqlite3_bind_int64(u, 1, (sqlite3_int64) now);
                sqlite3_bind_int64(u, 2, ret->token_id);
                (void) sqlite3_step(u);
        }
        return 0;
}

int token_owner(Db *db, const char *token, int64_t *ret_account_id, char ret_account[static ACCOUNT_NAME_MAX + 1])
{
        assert(db);
        assert(ret_account_id);
        assert(ret_account);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        char hash[65];
        int r;

        if (isempty(token) || strncmp(token, TOKEN_PREFIX, strlen(TOKEN_PREFIX)) != 0 || strlen(token) > 256)
                return -ENOENT;
        r = sha256_hex(token, strlen(token), hash);
        if (r < 0)
                return r;
        r = db_prepare(db, "SELECT a.id, a.name FROM tokens t JOIN accounts a ON a.id = t.account_id WHERE t.hash = ?", &s);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_ROW)
                return -ENOENT;
        if (!snprintf_ok(ret_account, ACCOUNT_NAME_MAX + 1, "%s", (const char *) sqlite3_column_text(s, 1)))
                return -EBADMSG;
        *ret_account_id = sqlite3_column_int64(s, 0);
        return 0;
}

int token_revoke(Db *db, int64_t account_id, const char *name)
{
        assert(db);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        r = db_prepare(db, "UPDATE tokens SET revoked_at = ? WHERE account_id = ? AND name = ? AND revoked_at IS NULL",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, (sqlite3_int64) now_usec());
        sqlite3_bind_int64(s, 2, account_id);
        sqlite3_bind_text(s, 3, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_DONE)
                return db_errno(sqlite3_errcode(db_handle(db)));
        if (sqlite3_changes(db_handle(db)) == 0)
                return -ENOENT;
        (void) db_exec(db, "DELETE FROM sessions WHERE token_id IN (SELECT id FROM tokens WHERE revoked_at "
                           "IS NOT NULL)");
        return 0;
}

int token_list(Db *db, int64_t account_id, json_t **ret)
{
        assert(db);
        assert(ret);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        _cleanup_(json_decrefp) json_t *a = json_array();
        uint64_t now = now_usec();
        int r, rc;

        if (!a)
                return -ENOMEM;
        r = db_prepare(db,
                       "SELECT a.name, t.name, t.created_at, t.expires_at, t.last_used_at, t.revoked_at "
                       "FROM tokens t JOIN accounts a ON a.id = t.account_id "
                       "WHERE ?1 = 0 OR t.account_id = ?1 ORDER BY a.name, t.id",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, account_id);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                bool expired = sqlite3_column_type(s, 3) != SQLITE_NULL &&
                               (uint64_t) sqlite3_column_int64(s, 3) <= now;
                json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:b}", "account", sqlite3_column_text(s, 0),
                                      "name", sqlite3_column_text(s, 1), "created_at",
                                      db_column_json_time(s, 2), "expires_at", db_column_json_time(s, 3),
                                      "last_used_at", db_column_json_time(s, 4), "revoked_at",
                                      db_column_json_time(s, 5), "expired", expired);
                if (!o || json_array_append_new(a, o) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(a);
        return 0;
}

int token_count_active(Db *db, int64_t *ret)
{
        assert(db);
        assert(ret);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        r = db_prepare(db, "SELECT count(*) FROM tokens WHERE revoked_at IS NULL", &s);
        if (r < 0)
                return r;
        if (sqlite3_step(s) != SQLITE_ROW)
                return -EIO;
        *ret = sqlite3_column_int64(s, 0);
        return 0;
}

int session_create(Db *db, const Caller *t, uint64_t ttl_usec, char **ret_cookie, char **ret_csrf)
{
        assert(db);
        assert(t);
        assert(ret_cookie);
        assert(ret_csrf);

        _cleanup_erase_free_ char *cookie = NULL, *csrf = NULL;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        char hash[65];
        uint64_t now = now_usec();
        int r;

        r = random_hex(32, &cookie);
        if (r < 0)
                return r;
        r = random_hex(16, &csrf);
        if (r < 0)
                return r;
        r = sha256_hex(cookie, strlen(cookie), hash);
        if (r < 0)
                return r;

        (void) db_exec(db, "DELETE FROM sessions WHERE expires_at < strftime('%s','now') * 1000000");
        r = db_prepare(db, "INSERT INTO sessions (hash, token_id, csrf, created_at, expires_at) VALUES (?,?,?,?,?)",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, t->token_id);
        sqlite3_bind_text(s, 3, csrf, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, (sqlite3_int64) now);
        sqlite3_bind_int64(s, 5, (sqlite3_int64) (now + ttl_usec));
        if (sqlite3_step(s) != SQLITE_DONE)
                return -EIO;
        *ret_cookie = TAKE_PTR(cookie);
        *ret_csrf = TAKE_PTR(csrf);
        return 0;
}

int session_verify(Db *db, const char *cookie, Caller *ret, char **ret_csrf)
{
        assert(db);
        assert(ret);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        char hash[65];
        int r;

        if (isempty(cookie) || strlen(cookie) != 64)
                return -EACCES;
        r = sha256_hex(cookie, strlen(cookie), hash);
        if (r < 0)
                return r;
        r = db_prepare(db,
                       "SELECT s.csrf, " CALLER_COLUMNS " FROM sessions s JOIN tokens t ON t.id = s.token_id "
                       "JOIN accounts a ON a.id = t.account_id WHERE s.hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, (sqlite3_int64) now_usec());
        if (sqlite3_step(s) != SQLITE_ROW)
                return -EACCES;
        r = caller_from_row(s, 1, ret);
        if (r < 0)
                return r;
        if (ret_csrf) {
                *ret_csrf = db_column_strdup(s, 0);
                if (!*ret_csrf)
                        return -ENOMEM;
        }
        return 0;
}

int session_delete(Db *db, const char *cookie)
{
        assert(db);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        char hash[65];
        int r;

        if (isempty(cookie))
                return 0;
        r = sha256_hex(cookie, strlen(cookie), hash);
        if (r < 0)
                return r;
        r = db_prepare(db, "DELETE FROM sessions WHERE hash = ?", &s);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
        return sqlite3_step(s) == SQLITE_DONE ? 0 : -EIO;
}
