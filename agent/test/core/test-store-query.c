/* SPDX-License-Identifier: Apache-2.0 */

/* core/store-query: the store list's pages along a cursor, and the counts its totals come from. */

#include "basic/log.h"
#include "basic/util.h"
#include "core/account.h"
#include "core/store.h"
#include "tests.h"

static const StoreLimits limits = {
        .max_stores = 1000, .creates_per_hour = 1000, .max_pending_tasks = 1000, .tenant_max_stores = 1000
};

static Db *open_db(char **ret_dir)
{
        char *dir = test_tmpdir();
        _cleanup_free_ char *path = strjoin_path(dir, "state.db");
        Db *db = NULL;

        ASSERT_EQ(db_open(path, &db), 0);
        *ret_dir = dir;
        return db;
}

static void caller_of(Db *db, const char *name, AccountRole role, Caller *ret)
{
        _cleanup_(account_freep) Account *a = NULL;

        if (account_get_by_name(db, name, &a) == -ENOENT)
                ASSERT_EQ(account_create(db, name, role, &a), 0);
        caller_from_account(a, ret);
}

static uint64_t count_sql(Db *db, const char *sql)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;

        ASSERT_EQ(db_prepare(db, sql, &q), 0);
        ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
        return (uint64_t) sqlite3_column_int64(q, 0);
}

TEST(test_cursor_parse)
{
        StoreCursor c = { .created_at = 1764600000123456 }, back;
        char buf[STORE_CURSOR_MAX + 1];

        snprintf(c.id, sizeof c.id, "0123456789abcdef");
        ASSERT_EQ(store_cursor_parse(store_cursor_format(&c, buf), &back), 0);
        ASSERT_EQ(back.created_at, c.created_at);
        ASSERT_STREQ(back.id, c.id);

        /* Only what store_cursor_format() makes. */
        static const char *const bad[] = {
                "",
                "1",
                "10000000000000001",                                 /* no id */
                "20000000000000001abc",                              /* another version */
                "10000000000000001ABC",                              /* upper case */
                "10000000000000001ab-c",                             /* not hex */
                "1000000000000000 1abc",                             /* a space */
                "18000000000000000abc",                              /* past INT64_MAX */
                "1000000000000000100000000000000000000000000000000000000000000000000000000000000000", /* too long */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                ASSERT_EQ(store_cursor_parse(bad[i], &back), -EINVAL);
        ASSERT_EQ(store_cursor_parse(NULL, &back), -EINVAL);
}

/* Every page of the list along the cursor, as ids in order; the totals every page reported must agree. */
static json_t *walk(Db *db, const Caller *caller, StoreStatus status, uint64_t limit, uint64_t *ret_total)
{
        json_t *ids = json_array();
        StoreCursor cursor = {};
        bool more = true, first = true;

        for (unsigned pages = 0; more; pages++) {
                _cleanup_(json_decrefp) json_t *page = NULL;
                StoreListQuery q = { .status = status, .limit = limit, .cursor = first ? NULL : &cursor };
                uint64_t total;
                size_t i;
                json_t *s;

                ASSERT_TRUE(pages < 1000); /* a cursor that does not move on */
                ASSERT_EQ(store_list(db, caller, &q, &page, &total, &cursor, &more), 0);
                ASSERT_TRUE(json_array_size(page) <= limit);
                ASSERT_TRUE(!more || json_array_size(page) == limit);
                if (!first)
                        ASSERT_EQ(total, *ret_total);
                *ret_total = total;
                json_array_foreach(page, i, s)
                        json_array_append(ids, json_object_get(s, "id"));
                first = false;
        }
        return ids;
}

TEST(test_pages_and_counts)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_(db_closep) Db *db = open_db(&dir);
        Caller admin, acme, globex;
        uint64_t total, all_total;

        caller_of(db, "root", ACCOUNT_ADMIN, &admin);
        caller_of(db, "acme", ACCOUNT_TENANT, &acme);
        caller_of(db, "globex", ACCOUNT_TENANT, &globex);

        for (int i = 0; i < 30; i++) {
                _cleanup_(store_freep) Store *s = NULL;
                StoreError err = {};
                char name[16];

                snprintf(name, sizeof name, "shop%02d", i);
                ASSERT_EQ(store_create(db, &limits, i % 3 == 0 ? &globex : &acme, name, "woocommerce", NULL, NULL, &s,
                                       NULL, &err),
                          0);
                if (i % 5 == 0)
                        ASSERT_EQ(store_set_status(db, s->id, STORE_FAILED, "broken"), 0);
                else if (i % 7 == 0) {
                        ASSERT_EQ(store_set_status(db, s->id, STORE_DELETING, NULL), 0);
                        ASSERT_EQ(store_set_status(db, s->id, STORE_DELETED, NULL), 0);
                }
                else
                        ASSERT_EQ(store_set_status(db, s->id, STORE_READY, NULL), 0);
        }
        /* Ties on the creation time are ordered by id, and the cursor steps over them one by one. */
        ASSERT_EQ(db_exec(db, "UPDATE stores SET created_at = 1000 WHERE name IN ('shop10', 'shop11', 'shop12', "
                              "'shop13', 'shop14')"),
                  0);
        /* A transfer moves a store's count to the other account. */
        ASSERT_EQ(db_exec(db, "UPDATE stores SET account_id = (SELECT id FROM accounts WHERE name = 'acme') "
                              "WHERE name = 'shop03'"),
                  0);

        /* Along the cursor, in pages of every size, the admin sees the whole list in the order of one page. */
        _cleanup_(json_decrefp) json_t *all = walk(db, &admin, _STORE_STATUS_INVALID, 500, &all_total);
        ASSERT_EQ(json_array_size(all), all_total);
        ASSERT_EQ(all_total, count_sql(db, "SELECT count(*) FROM stores WHERE status <> 'DELETED'"));
        for (uint64_t limit = 1; limit <= 8; limit++) {
                _cleanup_(json_decrefp) json_t *paged = walk(db, &admin, _STORE_STATUS_INVALID, limit, &total);
                ASSERT_TRUE(json_equal(paged, all));
                ASSERT_EQ(total, all_total);
        }
        /* The order is the documented one. */
        _cleanup_(json_decrefp) json_t *order = json_array();
        {
                _cleanup_stmt_ sqlite3_stmt *q = NULL;
                ASSERT_EQ(db_prepare(db,
                                     "SELECT id FROM stores WHERE status <> 'DELETED' ORDER BY created_at DESC, id DESC",
                                     &q),
                          0);
                while (sqlite3_step(q) == SQLITE_ROW)
                        json_array_append_new(order, json_string((const char *) sqlite3_column_text(q, 0)));
        }
        ASSERT_TRUE(json_equal(order, all));

        /* Each filter's total is the count of its rows, kept by the triggers through every change above. */
        _cleanup_(json_decrefp) json_t *failed = walk(db, &admin, STORE_FAILED, 2, &total);
        ASSERT_EQ(total, json_array_size(failed));
        ASSERT_EQ(total, count_sql(db, "SELECT count(*) FROM stores WHERE status = 'FAILED'"));
        _cleanup_(json_decrefp) json_t *deleted = walk(db, &admin, STORE_DELETED, 2, &total);
        ASSERT_EQ(total, count_sql(db, "SELECT count(*) FROM stores WHERE status = 'DELETED'"));
        ASSERT_TRUE(total > 0);

        /* A tenant walks its own stores only. */
        _cleanup_(json_decrefp) json_t *mine = walk(db, &acme, _STORE_STATUS_INVALID, 3, &total);
        ASSERT_EQ(json_array_size(mine), total);
        ASSERT_EQ(total, count_sql(db, "SELECT count(*) FROM stores s JOIN accounts a ON a.id = s.account_id "
                                       "WHERE a.name = 'acme' AND status <> 'DELETED'"));
        for (size_t i = 0; i < json_array_size(mine); i++) {
                _cleanup_(store_freep) Store *s = NULL;
                ASSERT_EQ(store_get(db, json_string_value(json_array_get(mine, i)), &s), 0);
                ASSERT_EQ(s->account_id, acme.account_id);
        }
        _cleanup_(json_decrefp) json_t *theirs = walk(db, &globex, STORE_READY, 3, &total);
        ASSERT_EQ(total, count_sql(db, "SELECT count(*) FROM stores s JOIN accounts a ON a.id = s.account_id "
                                       "WHERE a.name = 'globex' AND status = 'READY'"));
        ASSERT_EQ(json_array_size(theirs), total);

        /* The counts are taken again when the triggers are missing (a rebuilt table, say). */
        ASSERT_EQ(db_exec(db, "DROP TRIGGER store_counts_insert; UPDATE store_counts SET n = 0"), 0);
        db = db_close(db);
        {
                _cleanup_free_ char *path = strjoin_path(dir, "state.db");
                ASSERT_EQ(db_open(path, &db), 0);
        }
        _cleanup_(json_decrefp) json_t *again = walk(db, &admin, _STORE_STATUS_INVALID, 7, &total);
        ASSERT_EQ(total, all_total);
        ASSERT_TRUE(json_equal(again, all));
}

DEFINE_TEST_MAIN(LOG_ERR)
