/* SPDX-License-Identifier: Apache-2.0 */

/* The store service's reads: one store, pages of them, changes since a sequence number, counts, events. */

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

static int rows_to_json(sqlite3_stmt *q, json_t *items, int64_t *max_seq)
{
        int rc;

        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                _cleanup_(store_freep) Store *s = NULL;
                int r = store_from_row(q, &s);
                if (r < 0)
                        return r;
                if (max_seq && s->seq > *max_seq)
                        *max_seq = s->seq;
                if (json_array_append_new(items, store_to_json(s)) < 0)
                        return -ENOMEM;
        }
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int store_list(Db *db, StoreStatus status, uint64_t limit, uint64_t offset, json_t **ret_items,
               uint64_t *ret_total)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL, *c = NULL;
        json_t *items;
        int r;

        assert(db);
        assert(ret_items);
        assert(ret_total);

        if (status >= 0) {
                r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE status = ? ORDER BY created_at DESC, id DESC "
                                   "LIMIT ? OFFSET ?",
                               &q);
                if (r >= 0)
                        r = db_prepare(db, "SELECT count(*) FROM stores WHERE status = ?", &c);
                if (r < 0)
                        return r;
                sqlite3_bind_text(q, 1, store_status_to_string(status), -1, SQLITE_STATIC);
                sqlite3_bind_text(c, 1, store_status_to_string(status), -1, SQLITE_STATIC);
                sqlite3_bind_int64(q, 2, (sqlite3_int64) limit);
                sqlite3_bind_int64(q, 3, (sqlite3_int64) offset);
        } else {
                r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE status <> 'DELETED' ORDER BY "
                                   "created_at DESC, id DESC LIMIT ? OFFSET ?",
                               &q);
                if (r >= 0)
                        r = db_prepare(db, "SELECT count(*) FROM stores WHERE status <> 'DELETED'", &c);
                if (r < 0)
                        return r;
                sqlite3_bind_int64(q, 1, (sqlite3_int64) limit);
                sqlite3_bind_int64(q, 2, (sqlite3_int64) offset);
        }

        items = json_array();
        if (!items)
                return -ENOMEM;
        r = rows_to_json(q, items, NULL);
        if (r < 0 || sqlite3_step(c) != SQLITE_ROW) {
                json_decref(items);
                return r < 0 ? r : -EIO;
        }
        *ret_total = (uint64_t) sqlite3_column_int64(c, 0);
        *ret_items = items;
        return 0;
}

int store_changes_since(Db *db, int64_t seq, json_t **ret_items, int64_t *ret_max_seq)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *items;
        int64_t max = seq;
        int r;

        assert(db);
        assert(ret_items);
        assert(ret_max_seq);

        r = db_prepare(db, "SELECT " STORE_COLUMNS " FROM stores WHERE seq > ? ORDER BY seq LIMIT 500", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, seq);
        items = json_array();
        if (!items)
                return -ENOMEM;
        r = rows_to_json(q, items, &max);
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

int store_count_active(Db *db, uint64_t *ret)
{
        assert(db);
        assert(ret);

        return store_query_u64(db, "SELECT count(*) FROM stores WHERE deleted_at IS NULL", NULL, 0, ret);
}

int store_creates_in_last_hour(Db *db, const char *actor, uint64_t *ret)
{
        assert(db);
        assert(actor);
        assert(ret);

        return store_query_u64(db, "SELECT count(*) FROM stores WHERE owner = ? AND created_at > ?", actor,
                               now_usec() - 3600 * USEC_PER_SEC, ret);
}

int store_count_by_status(Db *db, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *o;
        int r, rc;

        assert(db);
        assert(ret);

        r = db_prepare(db, "SELECT status, count(*) FROM stores GROUP BY status", &q);
        if (r < 0)
                return r;
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
                                         "detail", json_string_or_null((const char *) sqlite3_column_text(q, 4))));
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
