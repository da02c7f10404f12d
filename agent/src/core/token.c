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

int token_create(Db *db, const char *name, char **ret_token)
{
        assert(db);
        assert(ret_token);

        _cleanup_erase_free_ char *random = NULL, *token = NULL;
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        char hash[65];
        int r, rc;

        if (!token_name_is_valid(name))
                return -EINVAL;
        r = random_alnum(TOKEN_RANDOM_CHARS, &random);
        if (r < 0)
                return r;
        if (asprintf(&token, TOKEN_PREFIX "%s", random) < 0)
                return -ENOMEM;
        r = sha256_hex(token, strlen(token), hash);
        if (r < 0)
                return r;

        r = db_prepare(db, "INSERT INTO api_tokens (name, hash, created_at) VALUES (?, ?, ?)", &s);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 3, (sqlite3_int64) now_usec());
        rc = sqlite3_step(s);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret_token = TAKE_PTR(token);
        return 0;
}

int token_verify(Db *db, const char *token, TokenInfo *ret)
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
        r = db_prepare(db, "SELECT id, name, hash, coalesce(last_used_at, 0) FROM api_tokens WHERE hash = ? AND revoked_at IS NULL",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_ROW)
                return -EACCES;
        const char *stored = (const char *) sqlite3_column_text(s, 2);
        if (!stored || strlen(stored) != 64 || !memeq_consttime(stored, hash, 64))
                return -EACCES;

        ret->id = sqlite3_column_int64(s, 0);
        snprintf(ret->name, sizeof ret->name, "%s", (const char *) sqlite3_column_text(s, 1));

        /*
         * Last use is informational, kept to the minute: writing it on every request would
         * serialize all readers behind the database's write lock.
         */
        uint64_t now = now_usec();
        if ((uint64_t) sqlite3_column_int64(s, 3) + 60 * USEC_PER_SEC > now)
                return 0;
        if (db_prepare(db, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", &u) >= 0) {
                sqlite3_bind_int64(u, 1, (sqlite3_int64) now);
                sqlite3_bind_int64(u, 2, ret->id);
                (void) sqlite3_step(u);
        }
        return 0;
}

int token_revoke(Db *db, const char *name)
{
        assert(db);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        r = db_prepare(db, "UPDATE api_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL", &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, (sqlite3_int64) now_usec());
        sqlite3_bind_text(s, 2, name, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_DONE)
                return -EIO;
        if (sqlite3_changes(db_handle(db)) == 0)
                return -ENOENT;
        (void) db_exec(db, "DELETE FROM sessions WHERE token_id IN (SELECT id FROM api_tokens WHERE revoked_at "
                           "IS NOT NULL)");
        return 0;
}

static json_t *json_time_or_null(sqlite3_stmt *s, int col)
{
        char buf[32];
        if (sqlite3_column_type(s, col) == SQLITE_NULL)
                return json_null();
        return json_string(format_timestamp(buf, (uint64_t) sqlite3_column_int64(s, col), false));
}

int token_list(Db *db, json_t **ret)
{
        assert(db);
        assert(ret);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        json_t *a;
        int r, rc;

        r = db_prepare(db, "SELECT name, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id", &s);
        if (r < 0)
                return r;
        a = json_array();
        if (!a)
                return -ENOMEM;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW)
                json_array_append_new(a, json_pack("{s:s, s:o, s:o, s:o}", "name", sqlite3_column_text(s, 0),
                                                   "created_at", json_time_or_null(s, 1), "last_used_at",
                                                   json_time_or_null(s, 2), "revoked_at",
                                                   json_time_or_null(s, 3)));
        if (rc != SQLITE_DONE) {
                json_decref(a);
                return db_errno(rc);
        }
        *ret = a;
        return 0;
}

int token_count_active(Db *db, int64_t *ret)
{
        assert(db);
        assert(ret);

        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        r = db_prepare(db, "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL", &s);
        if (r < 0)
                return r;
        if (sqlite3_step(s) != SQLITE_ROW)
                return -EIO;
        *ret = sqlite3_column_int64(s, 0);
        return 0;
}

int session_create(Db *db, const TokenInfo *t, uint64_t ttl_usec, char **ret_cookie, char **ret_csrf)
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
        sqlite3_bind_int64(s, 2, t->id);
        sqlite3_bind_text(s, 3, csrf, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 4, (sqlite3_int64) now);
        sqlite3_bind_int64(s, 5, (sqlite3_int64) (now + ttl_usec));
        if (sqlite3_step(s) != SQLITE_DONE)
                return -EIO;
        *ret_cookie = TAKE_PTR(cookie);
        *ret_csrf = TAKE_PTR(csrf);
        return 0;
}

int session_verify(Db *db, const char *cookie, TokenInfo *ret, char **ret_csrf)
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
                       "SELECT t.id, t.name, s.csrf FROM sessions s JOIN api_tokens t ON t.id = s.token_id "
                       "WHERE s.hash = ? AND s.expires_at > ? AND t.revoked_at IS NULL",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_text(s, 1, hash, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 2, (sqlite3_int64) now_usec());
        if (sqlite3_step(s) != SQLITE_ROW)
                return -EACCES;
        ret->id = sqlite3_column_int64(s, 0);
        snprintf(ret->name, sizeof ret->name, "%s", (const char *) sqlite3_column_text(s, 1));
        if (ret_csrf) {
                *ret_csrf = db_column_strdup(s, 2);
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
