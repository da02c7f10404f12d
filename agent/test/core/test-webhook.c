/* SPDX-License-Identifier: Apache-2.0 */

#include "basic/util.h"
#include "core/db.h"
#include "core/webhook.h"
#include "tests.h"

TEST(test_url_checks)
{
        const char *why = NULL;

        ASSERT_TRUE(webhook_url_is_valid("https://hooks.example.com/in?k=v", 64, NULL));
        ASSERT_TRUE(webhook_url_is_valid("http://127.0.0.1:8080/hook", 64, NULL));
        ASSERT_TRUE(webhook_url_is_valid("http://[::1]:8080/", 64, NULL));
        ASSERT_TRUE(!webhook_url_is_valid("ftp://example.com/", 64, &why));
        ASSERT_CONTAINS(why, "http:// or https://");
        ASSERT_TRUE(!webhook_url_is_valid("https://user@example.com/", 64, &why));
        ASSERT_CONTAINS(why, "user name or password");
        ASSERT_TRUE(!webhook_url_is_valid("https://a:b@example.com/", 64, NULL));
        /* An '@' after the host is part of the path, not credentials. */
        ASSERT_TRUE(webhook_url_is_valid("https://example.com/a@b", 64, NULL));
        ASSERT_TRUE(!webhook_url_is_valid("https:///x", 64, &why));
        ASSERT_CONTAINS(why, "no host");
        ASSERT_TRUE(!webhook_url_is_valid("https://:443/x", 64, NULL));
        ASSERT_TRUE(!webhook_url_is_valid("https://example.com/#frag", 64, &why));
        ASSERT_TRUE(!webhook_url_is_valid("https://example.com/a\tb", 64, NULL));
        ASSERT_TRUE(!webhook_url_is_valid("https://example.com/", 10, &why));
        ASSERT_CONTAINS(why, "max_url_bytes");
        ASSERT_TRUE(!webhook_url_is_valid("", 64, NULL));
        ASSERT_TRUE(!webhook_url_is_valid("HTTPS://example.com/", 64, NULL));
}

/* A delivery's life in the queue, on a clock the test moves: due, taken, retried later, failed. */
TEST(test_delivery_queue)
{
        _cleanup_free_ char *dir = test_tmpdir(), *path = strjoin_path(dir, "q.db");
        _cleanup_erase_free_ char *secret = NULL;
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(json_decrefp) json_t *log = NULL, *test = NULL;
        WebhookDelivery *d = NULL;
        uint64_t due, now;
        int64_t id;

        ASSERT_EQ(db_open(path, &db), 0);
        ASSERT_EQ(db_exec(db, "INSERT INTO accounts (id, name, role, created_at) VALUES (2, 'acme', 'tenant', 1)"), 0);
        ASSERT_EQ(webhook_create(db, 2, &(WebhookSpec) { .url = "https://h.example/" }, 1, &id, &secret), 0);
        ASSERT_EQ(webhook_create(db, 2, &(WebhookSpec) { .url = "https://h.example/2" }, 1, NULL, &secret), -EDQUOT);
        ASSERT_EQ(webhook_delivery_next_due(db, now_usec(), &due), -ENODATA);
        ASSERT_EQ(webhook_send_test(db, 3, id, NULL), -ENOENT); /* another account's */
        ASSERT_EQ(webhook_send_test(db, 2, id, &test), 0);
        ASSERT_STREQ(json_string_value(json_object_get(test, "state")), "queued");

        now = now_usec();
        ASSERT_EQ(webhook_delivery_next_due(db, now, &due), 0);
        ASSERT_EQ(due, 0);
        ASSERT_EQ(webhook_delivery_next(db, now, &d), 0);
        ASSERT_EQ(d->attempts, 1);
        ASSERT_EQ(webhook_delivery_next(db, now, &(WebhookDelivery *) { NULL }), -EAGAIN); /* it is taken */
        ASSERT_EQ(webhook_delivery_finish(db, d, false, 503, "The receiver answered HTTP 503.", now + 60 * USEC_PER_SEC,
                                          10),
                  0);
        ASSERT_EQ(webhook_delivery_next_due(db, now, &due), 0);
        ASSERT_EQ(due, 60 * USEC_PER_SEC);
        ASSERT_EQ(webhook_delivery_next(db, now, &(WebhookDelivery *) { NULL }), -EAGAIN); /* not due yet */
        d = webhook_delivery_free(d);

        ASSERT_EQ(webhook_delivery_next(db, now + 61 * USEC_PER_SEC, &d), 0);
        ASSERT_EQ(d->attempts, 2);
        ASSERT_EQ(webhook_delivery_finish(db, d, false, 0, "Connection refused", 0, 10), 0);
        d = webhook_delivery_free(d);
        ASSERT_EQ(webhook_deliveries(db, 2, id, &log), 0);
        ASSERT_EQ(json_array_size(log), 1);
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(log, 0), "state")), "failed");
        ASSERT_STREQ(json_string_value(json_object_get(json_array_get(log, 0), "last_error")), "Connection refused");
        ASSERT_EQ(webhook_delivery_next_due(db, now, &due), -ENODATA);

        /* A deleted webhook's queued deliveries fail instead of going out. */
        ASSERT_EQ(webhook_send_test(db, 2, id, NULL), 0);
        ASSERT_EQ(webhook_delete(db, 2, id), 0);
        ASSERT_EQ(webhook_delete(db, 2, id), -ENOENT);
        ASSERT_EQ(webhook_delivery_next(db, now_usec(), &(WebhookDelivery *) { NULL }), -EAGAIN);
}

DEFINE_TEST_MAIN(LOG_ERR)
