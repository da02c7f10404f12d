/* SPDX-License-Identifier: Apache-2.0 */

#include <errno.h>
#include <stdlib.h>

#include "basic/util.h"
#include "core/store-stats.h"
#include "core/store.h"

static json_t *json_time_of(uint64_t usec)
{
        char buf[32];
        return json_string(format_timestamp(buf, usec, false));
}

static void count(int64_t counts[static _STORE_STATUS_MAX], const unsigned char *status, int64_t by)
{
        StoreStatus s;

        if (!status)
                return;
        s = store_status_from_string((const char *) status);
        if (s >= 0 && s < _STORE_STATUS_MAX)
                counts[s] += by;
}

static json_t *counts_json(const int64_t counts[static _STORE_STATUS_MAX])
{
        json_t *o = json_object();

        if (!o)
                return NULL;
        for (StoreStatus s = 0; s < _STORE_STATUS_MAX; s++)
                if (s != STORE_DELETED &&
                    json_object_set_new(o, store_status_to_string(s), json_integer(MAX(counts[s], 0))) < 0) {
                        json_decref(o);
                        return NULL;
                }
        return o;
}

int store_status_history(Db *db, uint64_t from_usec, uint64_t to_usec, unsigned points,
                         uint64_t kept_since_usec, uint64_t keep_max, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *now = NULL, *kept = NULL, *q = NULL;
        _cleanup_(json_decrefp) json_t *out = NULL;
        int64_t counts[_STORE_STATUS_MAX] = {};
        uint64_t complete_since = 0;
        _cleanup_free_ uint64_t *times = NULL;
        _cleanup_free_ json_t **slots = NULL;
        int r, rc;

        assert(db);
        assert(ret);

        if (points < 2 || points > STORE_STATS_POINTS_MAX || from_usec >= to_usec)
                return -EINVAL;
        times = calloc(points, sizeof *times);
        out = json_array();
        if (!times || !out)
                return -ENOMEM;
        for (unsigned i = 0; i < points; i++)
                times[i] = from_usec + (to_usec - from_usec) / (points - 1) * i;
        times[points - 1] = to_usec;

        /* Today's stores, the starting point counted back from. */
        r = db_prepare(db, "SELECT status, count(*) FROM stores GROUP BY status", &now);
        if (r < 0)
                return r;
        while ((rc = sqlite3_step(now)) == SQLITE_ROW)
                count(counts, sqlite3_column_text(now, 0), sqlite3_column_int64(now, 1));
        if (rc != SQLITE_DONE)
                return db_errno(rc);

        /* With the table at its bound, what came before its oldest row is lost. */
        r = db_prepare(db, "SELECT count(*), min(at) FROM store_transitions", &kept);
        if (r < 0)
                return r;
        rc = sqlite3_step(kept);
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        if (keep_max > 0 && (uint64_t) sqlite3_column_int64(kept, 0) >= keep_max)
                complete_since = (uint64_t) sqlite3_column_int64(kept, 1);
        complete_since = MAX(complete_since, kept_since_usec);

        /* Newest first: each change after a point is undone before that point is counted. */
        r = db_prepare(db,
                       "SELECT at, old_status, new_status FROM store_transitions WHERE at > ?1 "
                       "ORDER BY at DESC, rowid DESC",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) from_usec);
        slots = calloc(points, sizeof *slots);
        if (!slots)
                return -ENOMEM;
        rc = sqlite3_step(q);
        for (unsigned k = points; k-- > 0;) {
                for (; rc == SQLITE_ROW && (uint64_t) sqlite3_column_int64(q, 0) > times[k];
                     rc = sqlite3_step(q)) {
                        count(counts, sqlite3_column_text(q, 2), -1);
                        count(counts, sqlite3_column_text(q, 1), +1);
                }
                if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                        break;
                slots[k] = json_pack("{s:o, s:o}", "at", json_time_of(times[k]), "counts",
                                     times[k] < complete_since ? json_null() : counts_json(counts));
                if (!slots[k]) {
                        rc = SQLITE_NOMEM;
                        break;
                }
        }
        for (unsigned k = 0; k < points; k++)
                if (slots[k] && (rc == SQLITE_ROW || rc == SQLITE_DONE))
                        json_array_append_new(out, slots[k]);
                else
                        json_decref(slots[k]);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return rc == SQLITE_NOMEM ? -ENOMEM : db_errno(rc);
        *ret = json_pack("{s:O, s:o}", "points", out, "complete_since",
                         complete_since > from_usec ? json_time_of(complete_since) : json_null());
        return *ret ? 0 : -ENOMEM;
}

static int cmp_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least pct percent of the values at or below it. */
static uint64_t percentile(const uint64_t *sorted, size_t n, unsigned pct)
{
        size_t rank = (pct * n + 99) / 100;
        return sorted[rank > 0 ? rank - 1 : 0];
}

int store_provision_times(Db *db, uint64_t n, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        _cleanup_(json_decrefp) json_t *creates = NULL;
        _cleanup_free_ uint64_t *secs = NULL;
        size_t k = 0;
        int r, rc;

        assert(db);
        assert(ret);

        n = MIN(n, (uint64_t) STORE_STATS_CREATES_MAX);
        /* A store's first READY after its create: the store.ready event of its create task. */
        r = db_prepare(db,
                       "SELECT id, name, created_at, ready FROM (SELECT s.id, s.name, s.created_at, "
                       " (SELECT min(e.time) FROM events e"
                       "  WHERE e.store_id = s.id AND e.action = 'store.ready')"
                       " AS ready FROM stores s ORDER BY s.created_at DESC, s.id DESC) "
                       "WHERE ready IS NOT NULL LIMIT ?1",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) n);
        creates = json_array();
        secs = calloc(MAX(n, 1u), sizeof *secs);
        if (!creates || !secs)
                return -ENOMEM;
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                uint64_t created = (uint64_t) sqlite3_column_int64(q, 2);
                uint64_t ready = (uint64_t) sqlite3_column_int64(q, 3);
                uint64_t s = ready > created ? (ready - created + USEC_PER_SEC / 2) / USEC_PER_SEC : 0;

                if (json_array_append_new(creates,
                                          json_pack("{s:s, s:s, s:o, s:o, s:I}", "id",
                                                    sqlite3_column_text(q, 0), "name",
                                                    sqlite3_column_text(q, 1), "created_at",
                                                    json_time_of(created), "ready_at", json_time_of(ready),
                                                    "seconds", (json_int_t) s)) < 0)
                        return -ENOMEM;
                secs[k++] = s;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        qsort(secs, k, sizeof *secs, cmp_u64);
        *ret = json_pack("{s:O, s:o, s:o}", "creates", creates, "p50_seconds",
                         k ? json_integer((json_int_t) percentile(secs, k, 50)) : json_null(), "p95_seconds",
                         k ? json_integer((json_int_t) percentile(secs, k, 95)) : json_null());
        return *ret ? 0 : -ENOMEM;
}

int store_transitions_prune(Db *db, uint64_t before_usec, uint64_t keep_max)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL, *k = NULL;
        int r, rc;

        assert(db);

        r = db_prepare(db, "DELETE FROM store_transitions WHERE at < ?1", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, (sqlite3_int64) before_usec);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        r = db_prepare(db,
                       "DELETE FROM store_transitions WHERE rowid IN (SELECT rowid FROM store_transitions"
                       " ORDER BY at DESC, rowid DESC LIMIT -1 OFFSET ?1)",
                       &k);
        if (r < 0)
                return r;
        sqlite3_bind_int64(k, 1, (sqlite3_int64) MIN(keep_max, (uint64_t) INT64_MAX));
        rc = sqlite3_step(k);
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}
