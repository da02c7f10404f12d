/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/util.h"
#include "core/db.h"
#include "core/usage.h"
#include "tests.h"

#define SEC USEC_PER_SEC

static Db *open_with_stores(const char *dir)
{
        _cleanup_free_ char *path = strjoin_path(dir, "u.db");
        Db *db = NULL;

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_exec(db,
                          "INSERT INTO accounts (id, name, role, created_at) VALUES (7, 'ops', 'admin', 1);"
                          "INSERT INTO stores (id, name, engine, owner, status, created_at, updated_at, seq,"
                          " account_id) VALUES"
                          " ('00000000000000a1', 'one', 'woocommerce', 'ops', 'READY', 1, 1, 1, 7),"
                          " ('00000000000000a2', 'two', 'woocommerce', 'ops', 'FAILED', 1, 1, 2, 7);"),
                  0);
        return db;
}

/* A sample comes back as it was kept; an unknown amount is null, never 0; only READY stores are sampled. */
TEST(test_record_and_read)
{
        _cleanup_free_ char *dir = test_tmpdir();
        _cleanup_(db_closep) Db *db = open_with_stores(dir);
        _cleanup_(json_decrefp) json_t *pods = json_pack("[{s:s, s:i, s:i}]", "name", "one-web",
                                                          "cpu_millicores", 150, "memory_bytes", 1000);
        _cleanup_(json_decrefp) json_t *h = NULL, *ready = NULL;
        UsageSample s = { .at_usec = 100 * SEC, .cpu_millicores = 150, .memory_bytes = 1000,
                          .cpu_quota_millicores = 4000, .memory_quota_bytes = 2000,
                          .storage_requested_bytes = 5, .storage_quota_bytes = -1, .pods = pods };
        json_t *row;

        ASSERT_EQ(usage_record(db, "00000000000000a1", &s), 0);
        s.at_usec = 130 * SEC;
        s.cpu_millicores = s.memory_bytes = -1;
        s.pods = NULL;
        ASSERT_EQ(usage_record(db, "00000000000000a1", &s), 0);
        ASSERT_EQ(usage_history(db, "00000000000000a1", 0, 100, &h), 0);
        ASSERT_EQ(json_array_size(h), 2u);
        row = json_array_get(h, 0);
        CHECK_STREQ(json_string_value(json_object_get(row, "at")), "1970-01-01T00:01:40Z");
        ASSERT_EQ(json_integer_value(json_object_get(row, "cpu_millicores")), 150);
        ASSERT_EQ(json_integer_value(json_object_get(row, "cpu_quota_millicores")), 4000);
        ASSERT_TRUE(json_is_null(json_object_get(row, "storage_quota_bytes")));
        row = json_array_get(json_object_get(row, "pods"), 0);
        CHECK_STREQ(json_string_value(json_object_get(row, "name")), "one-web");
        row = json_array_get(h, 1);
        ASSERT_TRUE(json_is_null(json_object_get(row, "cpu_millicores")));
        ASSERT_TRUE(json_is_null(json_object_get(row, "memory_bytes")));
        ASSERT_EQ(json_array_size(json_object_get(row, "pods")), 0u);
        /* since and max: the newest within the window. */
        json_decref(TAKE_PTR(h));
        ASSERT_EQ(usage_history(db, "00000000000000a1", 120 * SEC, 100, &h), 0);
        ASSERT_EQ(json_array_size(h), 1u);
        ASSERT_EQ(usage_stores_to_sample(db, &ready), 0);
        ASSERT_EQ(json_array_size(ready), 1u);
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(ready, 0), "name")), "one");
}

/* Pruning drops what is older than the cut and, per store, all but the newest keep. */
TEST(test_prune_by_age_and_count)
{
        _cleanup_free_ char *dir = test_tmpdir();
        _cleanup_(db_closep) Db *db = open_with_stores(dir);
        _cleanup_(json_decrefp) json_t *one = NULL, *two = NULL;
        json_t *row;
        UsageSample s = { .cpu_millicores = 1, .memory_bytes = 1, .cpu_quota_millicores = -1,
                          .memory_quota_bytes = -1, .storage_requested_bytes = -1,
                          .storage_quota_bytes = -1 };

        for (uint64_t t = 1; t <= 10; t++) {
                s.at_usec = t * SEC;
                ASSERT_EQ(usage_record(db, "00000000000000a1", &s), 0);
                ASSERT_EQ(usage_record(db, "00000000000000a2", &s), 0);
        }
        ASSERT_EQ(usage_prune(db, 3 * SEC, 5), 0);
        ASSERT_EQ(usage_history(db, "00000000000000a1", 0, 100, &one), 0);
        ASSERT_EQ(usage_history(db, "00000000000000a2", 0, 100, &two), 0);
        ASSERT_EQ(json_array_size(one), 5u);
        ASSERT_EQ(json_array_size(two), 5u);
        row = json_array_get(one, 0);
        CHECK_STREQ(json_string_value(json_object_get(row, "at")), "1970-01-01T00:00:06Z");
        json_decref(TAKE_PTR(one));
        ASSERT_EQ(usage_prune(db, 9 * SEC, 5), 0);
        ASSERT_EQ(usage_history(db, "00000000000000a1", 0, 100, &one), 0);
        ASSERT_EQ(json_array_size(one), 2u);
}

/* The answer is the status with the store, the window and the samples within it (the whole history when the
 * window reaches back before the epoch); without a provisioner the metrics are unavailable. */
TEST(test_answer)
{
        _cleanup_free_ char *dir = test_tmpdir();
        _cleanup_(db_closep) Db *db = open_with_stores(dir);
        _cleanup_(json_decrefp) json_t *a = NULL;
        UsageSample s = { .cpu_millicores = 1, .memory_bytes = 1, .cpu_quota_millicores = -1,
                          .memory_quota_bytes = -1, .storage_requested_bytes = -1,
                          .storage_quota_bytes = -1 };

        for (uint64_t t = 1; t <= 3; t++) {
                s.at_usec = t * 1000 * SEC;
                ASSERT_EQ(usage_record(db, "00000000000000a1", &s), 0);
        }
        ASSERT_EQ(usage_answer(db, "00000000000000a1", json_pack("{s:s}", "metrics", "available"), 1500,
                               3000 * SEC, &a), 0);
        CHECK_STREQ(json_string_value(json_object_get(a, "metrics")), "available");
        CHECK_STREQ(json_string_value(json_object_get(a, "store")), "00000000000000a1");
        ASSERT_EQ(json_integer_value(json_object_get(a, "window_seconds")), 1500);
        ASSERT_EQ(json_array_size(json_object_get(a, "samples")), 2u);
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(json_object_get(a, "samples"), 0), "at")),
                    "1970-01-01T00:33:20Z");
        json_decref(TAKE_PTR(a));
        ASSERT_EQ(usage_answer(db, "00000000000000a1", usage_status_unavailable(), 31622400, 3000 * SEC, &a),
                  0);
        CHECK_STREQ(json_string_value(json_object_get(a, "metrics")), "unavailable");
        CHECK_STREQ(json_string_value(json_object_get(a, "reason")), "The agent has no cluster connection.");
        ASSERT_EQ(json_integer_value(json_object_get(a, "interval_seconds")), 0);
        ASSERT_EQ(json_array_size(json_object_get(a, "samples")), 3u);
}

DEFINE_TEST_MAIN(LOG_INFO);
