/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>

#include "basic/util.h"
#include "core/usage.h"

static void bind_amount(sqlite3_stmt *q, int i, int64_t v)
{
        if (v >= 0)
                sqlite3_bind_int64(q, i, v);
}

int usage_record(Db *db, const char *store_id, const UsageSample *s)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_free_ char *pods = NULL;
        int r, rc;

        assert(db);
        assert(store_id);
        assert(s);

        if (s->pods) {
                pods = json_dumps(s->pods, JSON_COMPACT);
                if (!pods)
                        return -ENOMEM;
        }
        r = db_prepare(db,
                       "INSERT OR REPLACE INTO store_usage (store_id, at, cpu_millicores, memory_bytes,"
                       " cpu_quota_millicores, memory_quota_bytes, storage_requested_bytes,"
                       " storage_quota_bytes, pods) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, store_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) s->at_usec);
        bind_amount(q, 3, s->cpu_millicores);
        bind_amount(q, 4, s->memory_bytes);
        bind_amount(q, 5, s->cpu_quota_millicores);
        bind_amount(q, 6, s->memory_quota_bytes);
        bind_amount(q, 7, s->storage_requested_bytes);
        bind_amount(q, 8, s->storage_quota_bytes);
        if (pods)
                sqlite3_bind_text(q, 9, pods, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

static json_t *column_amount(sqlite3_stmt *q, int col)
{
        if (sqlite3_column_type(q, col) == SQLITE_NULL)
                return json_null();
        return json_integer(sqlite3_column_int64(q, col));
}

int usage_history(Db *db, const char *store_id, uint64_t since_usec, uint64_t max, json_t **ret)
{
        static const char *const names[] = { "cpu_millicores",     "memory_bytes",
                                             "cpu_quota_millicores", "memory_quota_bytes",
                                             "storage_requested_bytes", "storage_quota_bytes" };
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *out = NULL;
        int r, rc;

        assert(db);
        assert(store_id);
        assert(ret);

        /* The newest max, then oldest first for the chart. */
        r = db_prepare(db,
                       "SELECT * FROM (SELECT at, cpu_millicores, memory_bytes, cpu_quota_millicores,"
                       " memory_quota_bytes, storage_requested_bytes, storage_quota_bytes, pods"
                       " FROM store_usage WHERE store_id = ?1 AND at >= ?2 ORDER BY at DESC LIMIT ?3) ORDER BY at",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, store_id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(q, 2, (sqlite3_int64) since_usec);
        sqlite3_bind_int64(q, 3, (sqlite3_int64) MIN(max, (uint64_t) INT64_MAX));
        out = json_array();
        if (!out)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                json_t *row = json_pack("{s:o}", "at", db_column_json_time(q, 0)), *pods = NULL;

                if (!row)
                        return -ENOMEM;
                for (size_t i = 0; i < ELEMENTSOF(names); i++)
                        json_object_set_new(row, names[i], column_amount(q, (int) i + 1));
                if (sqlite3_column_type(q, 7) != SQLITE_NULL)
                        pods = json_loads((const char *) sqlite3_column_text(q, 7), 0, NULL);
                json_object_set_new(row, "pods", json_is_array(pods) ? pods : json_array());
                if (pods && !json_is_array(pods))
                        json_decref(pods);
                if (json_array_append_new(out, row) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(out);
        return 0;
}

json_t *usage_status_unavailable(void)
{
        return json_pack("{s:s, s:s, s:i}", "metrics", "unavailable", "reason",
                         "The agent has no cluster connection.", "interval_seconds", 0);
}

int usage_answer(Db *db, const char *store_id, json_t *status, uint64_t window_sec, uint64_t now_usec,
                 json_t **ret)
{
        _cleanup_(json_decrefp) json_t *out = status;
        json_t *samples = NULL;
        uint64_t since;
        int r;

        assert(db);
        assert(store_id);
        assert(status);
        assert(ret);

        since = now_usec - MIN(window_sec * USEC_PER_SEC, now_usec);
        r = usage_history(db, store_id, since, USAGE_SAMPLES_MAX, &samples);
        if (r < 0)
                return r;
        json_object_set_new(out, "store", json_string(store_id));
        json_object_set_new(out, "window_seconds", json_integer((json_int_t) window_sec));
        json_object_set_new(out, "samples", samples);
        *ret = TAKE_PTR(out);
        return 0;
}

int usage_prune(Db *db, uint64_t before_usec, uint64_t keep_per_store)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL, *k = NULL;
        int r, rc;

        assert(db);

        r = db_prepare(db, "DELETE FROM store_usage WHERE at < ?1", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) before_usec);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        /* Store by store along the (store_id, at) index: one short write each, not one sort of the whole table. */
        _cleanup_(json_decrefp) json_t *ids = json_array();
        if (!ids)
                return -ENOMEM;
        r = db_prepare(db, "SELECT DISTINCT store_id FROM store_usage", &k);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(k)) == SQLITE_ROW)
                if (json_array_append_new(ids, json_string((const char *) sqlite3_column_text(k, 0))) < 0)
                        return -ENOMEM;
        if (rc != SQLITE_DONE)
                return db_errno(rc);

        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id) {
                _cleanup_stmt_ sqlite3_stmt *d = NULL;

                r = db_prepare(db,
                               "DELETE FROM store_usage WHERE store_id = ?1 AND at <= (SELECT at FROM store_usage"
                               " WHERE store_id = ?1 ORDER BY at DESC LIMIT 1 OFFSET ?2)",
                               &d);
                if (r < 0)
                        return r;
                sqlite3_bind_text(d, 1, json_string_value(id), -1, SQLITE_TRANSIENT);
                sqlite3_bind_int64(d, 2, (sqlite3_int64) MIN(keep_per_store, (uint64_t) INT64_MAX));
                rc = sqlite3_step(d);
                if (rc != SQLITE_DONE)
                        return db_errno(rc);
        }
        return 0;
}

int usage_stores_to_sample(Db *db, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *out = NULL;
        int r, rc;

        assert(db);
        assert(ret);

        r = db_prepare(db, "SELECT id, name FROM stores WHERE status = 'READY' ORDER BY name", &q);
        if (r < 0)
                return r;
        out = json_array();
        if (!out)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                const char *id = (const char *) sqlite3_column_text(q, 0);
                const char *name = (const char *) sqlite3_column_text(q, 1);

                if (json_array_append_new(out, json_pack("{s:s, s:s}", "id", id, "name", name)) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(out);
        return 0;
}
