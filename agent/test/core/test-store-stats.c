/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/util.h"
#include "core/db.h"
#include "core/store-stats.h"
#include "tests.h"

#define SEC USEC_PER_SEC

/* Three stores made and moved the way the daemon does (the triggers of schema 15 keep the changes). */
static Db *open_with_history(const char *dir)
{
        _cleanup_free_ char *path = strjoin_path(dir, "s.db");
        Db *db = NULL;

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_exec(db,
                          "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq)"
                          " VALUES ('00000000000000a1', 'one', 'woocommerce', 'ops', 'PROVISIONING',"
                          " 100000000, 100000000, 1),"
                          " ('00000000000000a2', 'two', 'woocommerce', 'ops', 'PROVISIONING',"
                          " 200000000, 200000000, 2),"
                          " ('00000000000000a3', 'three', 'woocommerce', 'ops', 'PROVISIONING',"
                          " 300000000, 300000000, 3);"
                          /* one READY at 150 s, two FAILED at 260 s, one DELETING at 400 s and
                           * DELETED at 450 s */
                          "UPDATE stores SET status = 'READY', updated_at = 150000000"
                          " WHERE id = '00000000000000a1';"
                          "UPDATE stores SET status = 'FAILED', updated_at = 260000000"
                          " WHERE id = '00000000000000a2';"
                          "UPDATE stores SET status = 'DELETING', updated_at = 400000000"
                          " WHERE id = '00000000000000a1';"
                          "UPDATE stores SET status = 'DELETED', updated_at = 450000000"
                          " WHERE id = '00000000000000a1';"
                          /* not a change of status: not kept */
                          "UPDATE stores SET step = 'x', updated_at = 460000000"
                          " WHERE id = '00000000000000a3';"
                          "INSERT INTO events (store_id, time, actor, action) VALUES"
                          " ('00000000000000a1', 150000000, 'system', 'store.ready'),"
                          " ('00000000000000a1', 170000000, 'system', 'store.ready'),"
                          " ('00000000000000a3', 342000000, 'system', 'store.ready');"),
                  0);
        return db;
}

static json_t *point(json_t *h, size_t i)
{
        return json_array_get(json_object_get(h, "points"), i);
}

static int64_t at(json_t *h, size_t i, const char *status)
{
        return json_integer_value(json_object_get(json_object_get(point(h, i), "counts"), status));
}

/* Each point counts the stores of each status at its time, counted back from today through the changes. */
TEST(test_status_history)
{
        _cleanup_free_ char *dir = test_tmpdir();
        _cleanup_(db_closep) Db *db = open_with_history(dir);
        _cleanup_(json_decrefp) json_t *h = NULL;

        /* points at 0, 125, 250, 375, 500 s */
        ASSERT_EQ(store_status_history(db, 0, 500 * SEC, 5, 0, 1000, &h), 0);
        ASSERT_EQ(json_array_size(json_object_get(h, "points")), 5u);
        ASSERT_EQ(at(h, 0, "PROVISIONING"), 0);
        ASSERT_EQ(at(h, 0, "READY"), 0);
        ASSERT_EQ(at(h, 1, "PROVISIONING"), 1);
        ASSERT_EQ(at(h, 2, "PROVISIONING"), 1);
        ASSERT_EQ(at(h, 2, "READY"), 1);
        ASSERT_EQ(at(h, 3, "READY"), 1);
        ASSERT_EQ(at(h, 3, "FAILED"), 1);
        ASSERT_EQ(at(h, 3, "PROVISIONING"), 1);
        ASSERT_EQ(at(h, 4, "READY"), 0);
        ASSERT_EQ(at(h, 4, "DELETING"), 0);
        ASSERT_EQ(at(h, 4, "FAILED"), 1);
        ASSERT_TRUE(!json_object_get(json_object_get(point(h, 4), "counts"), "DELETED"));
        CHECK_STREQ(json_string_value(json_object_get(point(h, 1), "at")), "1970-01-01T00:02:05Z");
        ASSERT_TRUE(json_is_null(json_object_get(h, "complete_since")));
        /* The table at its bound: before its oldest change the counts are not known. */
        json_decref(TAKE_PTR(h));
        ASSERT_EQ(store_transitions_prune(db, 140 * SEC, 1000), 0);
        ASSERT_EQ(store_status_history(db, 0, 500 * SEC, 5, 0, 5, &h), 0);
        ASSERT_TRUE(json_is_null(json_object_get(point(h, 1), "counts")));
        ASSERT_EQ(at(h, 2, "READY"), 1);
        CHECK_STREQ(json_string_value(json_object_get(h, "complete_since")), "1970-01-01T00:02:30Z");
        /* Older than what is kept by age: not known either. */
        json_decref(TAKE_PTR(h));
        ASSERT_EQ(store_status_history(db, 0, 500 * SEC, 5, 300 * SEC, 1000, &h), 0);
        ASSERT_TRUE(json_is_null(json_object_get(point(h, 2), "counts")));
        ASSERT_EQ(at(h, 3, "FAILED"), 1);
        CHECK_STREQ(json_string_value(json_object_get(h, "complete_since")), "1970-01-01T00:05:00Z");
        ASSERT_EQ(store_status_history(db, 10, 10, 5, 0, 5, &h), -EINVAL);
        ASSERT_EQ(store_status_history(db, 0, 10, 1, 0, 5, &h), -EINVAL);
}

/* The seconds from each create to its first READY, newest first, and their p50 and p95. */
TEST(test_provision_times)
{
        _cleanup_free_ char *dir = test_tmpdir();
        _cleanup_(db_closep) Db *db = open_with_history(dir);
        _cleanup_(json_decrefp) json_t *t = NULL;
        json_t *c;

        ASSERT_EQ(store_provision_times(db, 10, &t), 0);
        c = json_object_get(t, "creates");
        ASSERT_EQ(json_array_size(c), 2u);
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(c, 0), "name")), "three");
        ASSERT_EQ(json_integer_value(json_object_get(json_array_get(c, 0), "seconds")), 42);
        ASSERT_EQ(json_integer_value(json_object_get(json_array_get(c, 1), "seconds")), 50);
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(c, 1), "ready_at")),
                    "1970-01-01T00:02:30Z");
        ASSERT_EQ(json_integer_value(json_object_get(t, "p50_seconds")), 42);
        ASSERT_EQ(json_integer_value(json_object_get(t, "p95_seconds")), 50);
        json_decref(TAKE_PTR(t));
        ASSERT_EQ(store_provision_times(db, 1, &t), 0);
        ASSERT_EQ(json_array_size(json_object_get(t, "creates")), 1u);
        ASSERT_EQ(json_integer_value(json_object_get(t, "p95_seconds")), 42);
}

/* Pruned by age, then to the newest keep_max. */
TEST(test_prune)
{
        _cleanup_free_ char *dir = test_tmpdir();
        _cleanup_(db_closep) Db *db = open_with_history(dir);
        _cleanup_(json_decrefp) json_t *h = NULL;

        /* 7 changes: 3 creates and 4 status changes */
        ASSERT_EQ(store_transitions_prune(db, 200 * SEC, 1000), 0);
        ASSERT_EQ(store_transitions_prune(db, 0, 2), 0);
        ASSERT_EQ(store_status_history(db, 0, 500 * SEC, 2, 0, 2, &h), 0);
        CHECK_STREQ(json_string_value(json_object_get(h, "complete_since")), "1970-01-01T00:06:40Z");
}

DEFINE_TEST_MAIN(LOG_INFO);
