/* SPDX-License-Identifier: Apache-2.0 */

/* The store service's reads: one store, pages of them, changes since a sequence number, counts, events. */

#include <inttypes.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/store-internal.h"
#include "core/store.h"

int store_get(Db *db, const char *id, Store **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(id);
        assert(ret);

        r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE id = ?", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                /* Seen once in thousands of reads under load (an answer 500): say what SQLite said, and read again. */
                log_warning("Reading store %s: %s (SQLite %d); reading again.", id,
                            sqlite3_errmsg(db_handle(db)), sqlite3_extended_errcode(db_handle(db)));
                (void) sqlite3_reset(q);
                rc = sqlite3_step(q);
        }
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        return store_from_row(q, ret);
}

int store_get_by_name(Db *db, const char *name, Store **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(name);
        assert(ret);

        r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE name = ? ORDER BY deleted_at IS NOT NULL, "
                           "created_at DESC LIMIT 1",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        return store_from_row(q, ret);
}

/* Hands *st over to *ret when the caller may see it; -ENOENT (and *st kept for its cleanup) otherwise. */
static int hand_over_if_visible(const Caller *caller, Store **st, Store **ret)
{
        int64_t visible = store_visible_account(caller);

        if (visible != 0 && (*st)->account_id != visible)
                return -ENOENT;
        *ret = TAKE_PTR(*st);
        return 0;
}

int store_get_visible(Db *db, const Caller *caller, const char *id, Store **ret)
{
        _cleanup_(store_freep) Store *st = NULL;
        int r;

        assert(db);
        assert(caller);
        assert(id);
        assert(ret);

        r = store_get(db, id, &st);
        if (r < 0)
                return r;
        return hand_over_if_visible(caller, &st, ret);
}

int store_get_visible_by_name(Db *db, const Caller *caller, const char *name, Store **ret)
{
        _cleanup_(store_freep) Store *st = NULL;
        int r;

        assert(db);
        assert(caller);
        assert(name);
        assert(ret);

        r = store_get_by_name(db, name, &st);
        if (r < 0)
                return r;
        return hand_over_if_visible(caller, &st, ret);
}

/* The account whose stores a list shows: the tenant's own, an admin's owner filter (-1: no such
 * account, so nothing), or 0 for all. */
static int list_account(Db *db, const Caller *caller, const char *owner, int64_t *ret)
{
        _cleanup_(account_freep) Account *a = NULL;
        int r;

        *ret = store_visible_account(caller);
        if (*ret != 0 || !owner)
                return 0;
        r = account_get_by_name(db, owner, &a);
        if (r == -ENOENT) {
                *ret = -1;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = a->id;
        return 0;
}

/* Rows to JSON; with visible != 0, only that account's rows, though max_seq counts every row read. */
static int rows_to_json(sqlite3_stmt *q, json_t *items, int64_t visible, int64_t *max_seq)
{
        int rc;

        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                _cleanup_(store_freep) Store *s = NULL;
                int r = store_from_row(q, &s);
                if (r < 0)
                        return r;
                if (max_seq && s->seq > *max_seq)
                        *max_seq = s->seq;
                if (visible != 0 && s->account_id != visible)
                        continue;
                if (json_array_append_new(items, store_to_json(s)) < 0)
                        return -ENOMEM;
        }
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int store_cursor_parse(const char *s, StoreCursor *ret)
{
        size_t n;

        assert(ret);

        /* Strict, so that a cursor that is not ours is a clear 400 rather than a page from somewhere. */
        if (!s || s[0] != '1')
                return -EINVAL;
        n = strlen(s);
        if (n < 1 + 16 + 1 || n > STORE_CURSOR_MAX || strspn(s + 1, "0123456789abcdef") != n - 1)
                return -EINVAL;
        ret->created_at = 0;
        for (size_t i = 1; i < 1 + 16; i++)
                ret->created_at = ret->created_at << 4 | (uint64_t) (s[i] <= '9' ? s[i] - '0' : s[i] - 'a' + 10);
        if (ret->created_at > INT64_MAX)
                return -EINVAL;
        memcpy(ret->id, s + 1 + 16, n - 1 - 16 + 1);
        return 0;
}

char *store_cursor_format(const StoreCursor *c, char buf[static STORE_CURSOR_MAX + 1])
{
        assert(c);
        assert(buf);

        snprintf(buf, STORE_CURSOR_MAX + 1, "1%016" PRIx64 "%.64s", c->created_at, c->id);
        return buf;
}

/*
 * The page's statement, one per combination of filters, so that each is a plain condition the planner
 * matches with its index from db.c (a "?1 = 0 OR ..." would make every list a scan of the whole table).
 * Parameters: ?1 account, ?2 status, ?3 ?4 the cursor, ?5 limit, ?6 offset.
 */
static int list_prepare(Db *db, bool account, bool status, bool cursor, const char *what, const char *tail,
                        sqlite3_stmt **ret)
{
        char sql[512];
        int n;

        n = snprintf(sql, sizeof sql, "SELECT %s FROM stores WHERE %s%s%s%s", what,
                     account ? "account_id = ?1 AND " : "", status ? "status = ?2" : "status <> 'DELETED'",
                     cursor ? " AND (created_at, id) < (?3, ?4)" : "", tail);
        assert(n > 0 && (size_t) n < sizeof sql);
        return db_prepare(db, sql, ret);
}

/* The total from the counts the triggers keep: a row per account and status, whatever the table holds. */
static int list_total(Db *db, int64_t account, const char *status, uint64_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *c = NULL;
        int r;

        r = db_prepare(db,
                       "SELECT coalesce(sum(n), 0) FROM store_counts WHERE (?1 = 0 OR account_id = ?1) AND "
                       "(?2 IS NULL AND status <> 'DELETED' OR status = ?2)",
                       &c);
        if (r < 0)
                return r;
        sqlite3_bind_int64(c, 1, account);
        sqlite3_bind_text(c, 2, status, -1, SQLITE_STATIC);
        if (sqlite3_step(c) != SQLITE_ROW)
                return db_errno(sqlite3_errcode(db_handle(db)));
        *ret = (uint64_t) sqlite3_column_int64(c, 0);
        return 0;
}

int store_list(Db *db, const Caller *caller, const StoreListQuery *query, json_t **ret_items, uint64_t *ret_total,
               StoreCursor *ret_next, bool *ret_has_next)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *items = NULL;
        const char *st = query->status >= 0 ? store_status_to_string(query->status) : NULL;
        StoreCursor next = {};
        uint64_t n = 0;
        int64_t account;
        bool more = false;
        int r, rc;

        assert(db);
        assert(caller);
        assert(query);
        assert(ret_items);
        assert(ret_total);

        r = list_account(db, caller, query->owner, &account);
        if (r < 0)
                return r;
        /* One row more than asked for says whether there is a next page. */
        r = list_prepare(db, account != 0, st, query->cursor, STORE_COLUMNS,
                         " ORDER BY created_at DESC, id DESC LIMIT ?5 OFFSET ?6", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, account);
        sqlite3_bind_text(q, 2, st, -1, SQLITE_STATIC);
        if (query->cursor) {
                sqlite3_bind_int64(q, 3, (sqlite3_int64) query->cursor->created_at);
                sqlite3_bind_text(q, 4, query->cursor->id, -1, SQLITE_STATIC);
        }
        sqlite3_bind_int64(q, 5, (sqlite3_int64) MIN(query->limit, (uint64_t) INT64_MAX - 1) + 1);
        sqlite3_bind_int64(q, 6, (sqlite3_int64) MIN(query->offset, (uint64_t) INT64_MAX));

        items = json_array();
        if (!items)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                _cleanup_(store_freep) Store *s = NULL;

                if (n++ == query->limit) {
                        more = true;
                        break;
                }
                r = store_from_row(q, &s);
                if (r < 0)
                        return r;
                next.created_at = s->created_at;
                snprintf(next.id, sizeof next.id, "%s", s->id);
                if (json_array_append_new(items, store_to_json(s)) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return db_errno(rc);
        r = list_total(db, account, st, ret_total);
        if (r < 0)
                return r;
        if (ret_next)
                *ret_next = next;
        if (ret_has_next)
                *ret_has_next = more && query->limit > 0;
        *ret_items = TAKE_PTR(items);
        return 0;
}

int store_changes_since(Db *db, const Caller *caller, int64_t seq, json_t **ret_items, int64_t *ret_max_seq)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *items;
        int64_t max = seq, visible;
        int r;

        assert(db);
        assert(caller);
        assert(ret_items);
        assert(ret_max_seq);

        /*
         * At most 500 changes a call. One statement reads the window, so the end of the window and the rows in it
         * come from the same snapshot: a tenant's next call starts past what it cannot see, and never past a
         * change of its own that was written between two reads.
         */
        visible = store_visible_account(caller);
        r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE seq > ? ORDER BY seq LIMIT 500", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, seq);
        items = json_array();
        if (!items)
                return -ENOMEM;
        r = rows_to_json(q, items, visible, &max);
        if (r < 0) {
                json_decref(items);
                return r;
        }
        *ret_items = items;
        *ret_max_seq = max;
        return 0;
}

int store_query_u64(Db *db, const char *sql, const char *arg, uint64_t arg2, uint64_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r;

        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        if (arg)
                sqlite3_bind_text(q, 1, arg, -1, SQLITE_TRANSIENT);
        if (arg2)
                sqlite3_bind_int64(q, arg ? 2 : 1, (sqlite3_int64) arg2);
        if (sqlite3_step(q) != SQLITE_ROW)
                return -EIO;
        *ret = (uint64_t) sqlite3_column_int64(q, 0);
        return 0;
}

int store_max_seq(Db *db, int64_t *ret)
{
        uint64_t v;
        int r;

        assert(db);
        assert(ret);

        r = store_query_u64(db, "SELECT coalesce(max(seq), 0) FROM stores", NULL, 0, &v);
        if (r < 0)
                return r;
        *ret = (int64_t) v;
        return 0;
}

static int query_account_u64(Db *db, const char *sql, int64_t account_id, uint64_t since, uint64_t *ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r;

        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, account_id);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) since);
        if (sqlite3_step(q) != SQLITE_ROW)
                return db_errno(sqlite3_errcode(db_handle(db)));
        *ret = (uint64_t) sqlite3_column_int64(q, 0);
        return 0;
}

int store_count_active(Db *db, int64_t account_id, uint64_t *ret)
{
        assert(db);
        assert(ret);

        return query_account_u64(db,
                                 "SELECT count(*) FROM stores WHERE deleted_at IS NULL AND "
                                 "(?1 = 0 OR coalesce(account_id, 0) = ?1) AND ?2 = 0",
                                 account_id, 0, ret);
}

int store_active_reservations(Db *db, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *list = json_array();
        int r, rc;

        assert(db);
        assert(ret);
        if (!list)
                return -ENOMEM;
        /* A store created while the nodes were full holds nothing yet; one whose upgrade waits for room
         * holds what it runs now, and only an upgrade admitted holds its target's room too. */
        r = db_prepare(db,
                       "SELECT s.name, s.chart_version, "
                       "  CASE WHEN coalesce(s.step, '') <> '" STORE_STEP_WAITING_FOR_CAPACITY "' THEN "
                       "    (SELECT json_extract(t.payload, '$.chart_version') FROM tasks t "
                       "      WHERE t.store_id = s.id AND t.kind = 'upgrade' "
                       "        AND t.state IN ('queued', 'running') "
                       "      ORDER BY t.id DESC LIMIT 1) END "
                       "FROM stores s WHERE s.deleted_at IS NULL AND NOT (s.status = 'PROVISIONING' AND "
                       "  coalesce(s.step, '') = '" STORE_STEP_WAITING_FOR_CAPACITY "')",
                       &q);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                const char *version = (const char *) sqlite3_column_text(q, 1),
                           *to = (const char *) sqlite3_column_text(q, 2);
                json_t *e = json_pack("{s:s}", "name", (const char *) sqlite3_column_text(q, 0));
                if (!e || (version && json_object_set_new(e, "chart_version", json_string(version)) < 0) ||
                    (to && json_object_set_new(e, "upgrade_to", json_string(to)) < 0) ||
                    json_array_append_new(list, e) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(list);
        return 0;
}

int store_creates_in_last_hour(Db *db, int64_t account_id, uint64_t *ret)
{
        assert(db);
        assert(ret);

        return query_account_u64(db, "SELECT count(*) FROM stores WHERE coalesce(account_id, 0) = ?1 AND created_at > ?2",
                                 account_id, now_usec() - 3600 * USEC_PER_SEC, ret);
}

void store_account_limits(const StoreLimits *limits, const Account *a, uint64_t *ret_max_stores,
                          uint64_t *ret_creates_per_hour)
{
        assert(limits);
        assert(ret_max_stores);
        assert(ret_creates_per_hour);

        *ret_max_stores = a && a->max_stores >= 0       ? (uint64_t) a->max_stores
                          : a && a->role == ACCOUNT_TENANT ? limits->tenant_max_stores
                                                           : UINT64_MAX;
        *ret_creates_per_hour = a && a->creates_per_hour >= 0 ? (uint64_t) a->creates_per_hour : limits->creates_per_hour;
}

int store_count_by_status(Db *db, const Caller *caller, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *o;
        int r, rc;

        assert(db);
        assert(caller);
        assert(ret);

        r = db_prepare(db,
                       "SELECT status, sum(n) FROM store_counts WHERE (?1 = 0 OR account_id = ?1) GROUP BY status",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, store_visible_account(caller));
        o = json_object();
        if (!o)
                return -ENOMEM;
        for (size_t i = 0; i < _STORE_STATUS_MAX; i++)
                json_object_set_new(o, store_status_to_string((StoreStatus) i), json_integer(0));
        while ((rc = sqlite3_step(q)) == SQLITE_ROW)
                json_object_set_new(o, (const char *) sqlite3_column_text(q, 0),
                                    json_integer(sqlite3_column_int64(q, 1)));
        if (rc != SQLITE_DONE) {
                json_decref(o);
                return db_errno(rc);
        }
        *ret = o;
        return 0;
}

int store_events(Db *db, const char *id, uint64_t limit, int64_t after_id, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *items;
        int r, rc;

        assert(db);
        assert(id);
        assert(ret);

        /* The newest `limit` events after after_id, returned oldest first. */
        r = db_prepare(db,
                       "SELECT id, time, actor, action, detail FROM (SELECT * FROM events WHERE store_id = ? AND "
                       "id > ? ORDER BY id DESC LIMIT ?) ORDER BY id",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, after_id);
        sqlite3_bind_int64(q, 3, (sqlite3_int64) limit);
        items = json_array();
        if (!items)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                char buf[32];
                json_array_append_new(
                        items, json_pack("{s:I, s:s, s:s, s:s, s:o}", "id", (json_int_t) sqlite3_column_int64(q, 0),
                                         "time",
                                         format_timestamp(buf, (uint64_t) sqlite3_column_int64(q, 1), true),
                                         "actor", sqlite3_column_text(q, 2), "action", sqlite3_column_text(q, 3),
                                         "detail", db_column_json_string(q, 4)));
        }
        if (rc != SQLITE_DONE) {
                json_decref(items);
                return db_errno(rc);
        }
        *ret = items;
        return 0;
}

int store_has_active_task(Db *db, const char *id, bool *ret)
{
        uint64_t n;
        int r;

        assert(db);
        assert(id);
        assert(ret);

        r = store_query_u64(db, "SELECT count(*) FROM tasks WHERE store_id = ? AND state IN ('queued', 'running')",
                            id, 0, &n);
        if (r < 0)
                return r;
        *ret = n > 0;
        return 0;
}
