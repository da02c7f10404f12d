/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/util.h"
#include "core/account.h"

static const char *const account_role_table[_ACCOUNT_ROLE_MAX] = {
        [ACCOUNT_ADMIN] = "admin",
        [ACCOUNT_TENANT] = "tenant",
};

const char *account_role_to_string(AccountRole r)
{
        return r >= 0 && r < _ACCOUNT_ROLE_MAX ? account_role_table[r] : NULL;
}

AccountRole account_role_from_string(const char *s)
{
        for (size_t i = 0; i < _ACCOUNT_ROLE_MAX; i++)
                if (streq_ptr(account_role_table[i], s))
                        return (AccountRole) i;
        return _ACCOUNT_ROLE_INVALID;
}

const Caller caller_system = {
        .account_id = 0,
        .role = ACCOUNT_ADMIN,
        .account = "system",
};

bool account_name_is_valid(const char *name)
{
        size_t n = name ? strlen(name) : 0;

        if (n == 0 || n > ACCOUNT_NAME_MAX)
                return false;
        if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= 'A' && name[0] <= 'Z') ||
              (name[0] >= '0' && name[0] <= '9')))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
                      c == '-' || c == '.' || c == '@' || c == ':'))
                        return false;
        }
        /* Names the daemon uses for itself and for callers it could not identify. */
        return !streq(name, "system") && !streq(name, "anonymous") && !streq(name, "helm") &&
               !streq(name, "cluster");
}

Account *account_free(Account *a)
{
        if (!a)
                return NULL;
        free(a->name);
        free(a);
        return NULL;
}

static json_t *limit_json(int64_t v)
{
        return v == ACCOUNT_LIMIT_DEFAULT ? json_null() : json_integer(v);
}

json_t *account_to_json(const Account *a)
{
        char created[32], disabled[32];

        assert(a);

        return json_pack("{s:s, s:s, s:o, s:o, s:b, s:s, s:o}", "name", a->name, "role",
                         account_role_to_string(a->role), "max_stores", limit_json(a->max_stores),
                         "creates_per_hour", limit_json(a->creates_per_hour), "disabled", a->disabled_at > 0,
                         "created_at", format_timestamp(created, a->created_at, false), "disabled_at",
                         a->disabled_at > 0 ? json_string(format_timestamp(disabled, a->disabled_at, false))
                                            : json_null());
}

#define ACCOUNT_COLUMNS "id, name, role, coalesce(max_stores, -1), coalesce(creates_per_hour, -1), created_at, coalesce(disabled_at, 0)"

static int account_from_row(sqlite3_stmt *q, Account **ret)
{
        _cleanup_(account_freep) Account *a = calloc(1, sizeof(Account));

        if (!a)
                return -ENOMEM;
        a->id = sqlite3_column_int64(q, 0);
        a->name = db_column_strdup(q, 1);
        if (!a->name)
                return -ENOMEM;
        a->role = account_role_from_string((const char *) sqlite3_column_text(q, 2));
        if (a->role < 0)
                return -EBADMSG;
        a->max_stores = sqlite3_column_int64(q, 3);
        a->creates_per_hour = sqlite3_column_int64(q, 4);
        a->created_at = (uint64_t) sqlite3_column_int64(q, 5);
        a->disabled_at = (uint64_t) sqlite3_column_int64(q, 6);
        *ret = TAKE_PTR(a);
        return 0;
}

static int account_get_where(Db *db, const char *where, int64_t id, const char *name, Account **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *sql = NULL;
        int r, rc;

        if (asprintf(&sql, "SELECT " ACCOUNT_COLUMNS " FROM accounts WHERE %s", where) < 0)
                return -ENOMEM;
        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        if (name)
                sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_int64(q, 1, id);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        return account_from_row(q, ret);
}

int account_get(Db *db, int64_t id, Account **ret)
{
        assert(db);
        assert(ret);
        return account_get_where(db, "id = ?", id, NULL, ret);
}

int account_get_by_name(Db *db, const char *name, Account **ret)
{
        assert(db);
        assert(name);
        assert(ret);
        return account_get_where(db, "name = ?", 0, name, ret);
}

int account_create(Db *db, const char *name, AccountRole role, Account **ret)
{
        assert(db);

        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        if (!account_name_is_valid(name) || !account_role_to_string(role))
                return -EINVAL;
        r = db_prepare(db, "INSERT INTO accounts (name, role, created_at) VALUES (?, ?, ?)", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, account_role_to_string(role), -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, (sqlite3_int64) now_usec());
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(sqlite3_extended_errcode(db_handle(db)));
        if (!ret)
                return 0;
        return account_get(db, sqlite3_last_insert_rowid(db_handle(db)), ret);
}

int account_ensure_admin(Db *db, const char *name, Account **ret)
{
        assert(db);
        assert(name);
        assert(ret);

        int r = account_get_by_name(db, name, ret);
        if (r != -ENOENT)
                return r;
        r = account_create(db, name, ACCOUNT_ADMIN, NULL);
        if (r < 0 && r != -EEXIST)
                return r;
        return account_get_by_name(db, name, ret);
}

int account_list(Db *db, json_t **ret)
{
        assert(db);
        assert(ret);

        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *list = json_array();
        int r, rc;

        if (!list)
                return -ENOMEM;
        r = db_prepare(db,
                       "SELECT " ACCOUNT_COLUMNS ", "
                       "(SELECT count(*) FROM stores s WHERE s.account_id = a.id AND s.deleted_at IS NULL), "
                       "(SELECT count(*) FROM tokens t WHERE t.account_id = a.id AND t.revoked_at IS NULL "
                       "   AND (t.expires_at IS NULL OR t.expires_at > ?)) "
                       "FROM accounts a ORDER BY name",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) now_usec());
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                _cleanup_(account_freep) Account *a = NULL;
                json_t *o;

                r = account_from_row(q, &a);
                if (r < 0)
                        return r;
                o = account_to_json(a);
                if (!o || json_array_append_new(list, o) < 0)
                        return -ENOMEM;
                json_object_set_new(o, "stores", json_integer(sqlite3_column_int64(q, 7)));
                json_object_set_new(o, "tokens", json_integer(sqlite3_column_int64(q, 8)));
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(list);
        return 0;
}

static int account_update(Db *db, const char *sql, int64_t id, int64_t a, int64_t b, int n_values)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        for (int i = 0; i < n_values; i++) {
                int64_t v = i == 0 ? a : b;
                if (v < 0)
                        sqlite3_bind_null(q, i + 1);
                else
                        sqlite3_bind_int64(q, i + 1, v);
        }
        sqlite3_bind_int64(q, n_values + 1, id);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ENOENT;
}

int account_set_disabled(Db *db, int64_t id, bool disabled)
{
        assert(db);
        /* Disabling keeps the first time it was disabled; enabling clears it. */
        return account_update(db,
                              disabled ? "UPDATE accounts SET disabled_at = coalesce(disabled_at, ?) WHERE id = ?"
                                       : "UPDATE accounts SET disabled_at = ? WHERE id = ?",
                              id, disabled ? (int64_t) now_usec() : -1, 0, 1);
}

int account_set_limits(Db *db, int64_t id, int64_t max_stores, int64_t creates_per_hour)
{
        assert(db);
        return account_update(db, "UPDATE accounts SET max_stores = ?, creates_per_hour = ? WHERE id = ?", id,
                              max_stores, creates_per_hour, 2);
}

void caller_from_account(const Account *a, Caller *ret)
{
        assert(a);
        assert(ret);

        *ret = (Caller) {
                .account_id = a->id,
                .role = a->role,
        };
        xsprintf(ret->account, "%s", a->name);
}
