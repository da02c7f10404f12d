/* SPDX-License-Identifier: Apache-2.0 */

#include <pthread.h>

#include "basic/log.h"
#include "basic/util.h"
#include "core/webhook.h"

#define WEBHOOK_SECRET_RANDOM_CHARS 32
#define WEBHOOK_ERROR_MAX 512

const char *const webhook_events[] = {
        "store.ready", "store.failed", "store.deleted", "backup.succeeded", "backup.failed", NULL,
};

static pthread_mutex_t waker_lock = PTHREAD_MUTEX_INITIALIZER;
static void (*waker)(void *userdata);
static void *waker_userdata;

void webhook_set_waker(void (*wake)(void *userdata), void *userdata)
{
        pthread_mutex_lock(&waker_lock);
        waker = wake;
        waker_userdata = userdata;
        pthread_mutex_unlock(&waker_lock);
}

void webhook_wake(void)
{
        pthread_mutex_lock(&waker_lock);
        if (waker)
                waker(waker_userdata);
        pthread_mutex_unlock(&waker_lock);
}

bool webhook_url_is_valid(const char *url, size_t max_len, const char **ret_why)
{
        const char *why = NULL, *host;
        size_t n, authority;

        if (!url || (n = strlen(url)) == 0)
                why = "The URL is empty.";
        else if (n > max_len)
                why = "The URL is longer than webhooks.max_url_bytes.";
        else if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
                why = "The URL must start with http:// or https://.";
        if (!why)
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char) url[i] <= ' ' || url[i] == 0x7f) {
                                why = "The URL holds a space or a control character.";
                                break;
                        }
        if (!why) {
                host = url + (url[4] == 's' ? 8 : 7);
                authority = strcspn(host, "/?#");
                if (memchr(host, '@', authority))
                        why = "The URL must not hold a user name or password.";
                else if (authority == 0 || host[0] == ':')
                        why = "The URL has no host.";
                else if (strchr(url, '#'))
                        why = "The URL must not have a fragment.";
        }
        if (why && ret_why)
                *ret_why = why;
        return !why;
}

static bool event_is_known(const char *name)
{
        for (size_t i = 0; webhook_events[i]; i++)
                if (streq(webhook_events[i], name))
                        return true;
        return false;
}

static json_t *json_or_null(sqlite3_stmt *s, int col)
{
        const char *text = (const char *) sqlite3_column_text(s, col);
        json_t *j = text ? json_loads(text, 0, NULL) : NULL;
        return j ?: json_null();
}

int webhook_create(Db *db, int64_t account_id, const WebhookSpec *spec, uint64_t max_per_account,
                   int64_t *ret_id, char **ret_secret)
{
        assert(db);
        assert(spec);
        assert(ret_secret);

        _cleanup_erase_free_ char *random = NULL, *secret = NULL;
        _cleanup_free_ char *events_text = NULL;
        _cleanup_(json_decrefp) json_t *events = json_array();
        int r, rc;

        if (!events)
                return -ENOMEM;
        if (spec->events) {
                size_t i;
                json_t *e;
                json_array_foreach(spec->events, i, e) {
                        if (!json_is_string(e) || !event_is_known(json_string_value(e)))
                                return -EINVAL;
                        bool seen = false;
                        for (size_t j = 0; j < json_array_size(events); j++)
                                seen = seen || json_equal(json_array_get(events, j), e);
                        if (!seen && json_array_append(events, e) < 0)
                                return -ENOMEM;
                }
                if (json_array_size(events) == 0)
                        return -EINVAL;
        } else
                for (size_t i = 0; webhook_events[i]; i++)
                        if (json_array_append_new(events, json_string(webhook_events[i])) < 0)
                                return -ENOMEM;
        events_text = json_dumps(events, JSON_COMPACT);
        if (!events_text)
                return -ENOMEM;

        r = random_alnum(WEBHOOK_SECRET_RANDOM_CHARS, &random);
        if (r < 0)
                return r;
        if (asprintf(&secret, WEBHOOK_SECRET_PREFIX "%s", random) < 0)
                return -ENOMEM;

        r = db_begin(db);
        if (r < 0)
                return r;
        {
                _cleanup_stmt_ sqlite3_stmt *count = NULL;
                r = db_prepare(db, "SELECT count(*) FROM webhooks WHERE account_id = ? AND deleted_at IS NULL",
                               &count);
                if (r < 0)
                        goto fail;
                sqlite3_bind_int64(count, 1, account_id);
                rc = sqlite3_step(count);
                if (rc != SQLITE_ROW) {
                        r = db_errno(rc);
                        goto fail;
                }
                if ((uint64_t) sqlite3_column_int64(count, 0) >= max_per_account) {
                        r = -EDQUOT;
                        goto fail;
                }
        }
        {
                _cleanup_stmt_ sqlite3_stmt *s = NULL;
                r = db_prepare(db,
                               "INSERT INTO webhooks (account_id, url, secret, events, all_stores, created_at) "
                               "VALUES (?, ?, ?, ?, ?, ?)",
                               &s);
                if (r < 0)
                        goto fail;
                sqlite3_bind_int64(s, 1, account_id);
                sqlite3_bind_text(s, 2, spec->url, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(s, 3, secret, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(s, 4, events_text, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int(s, 5, spec->all_stores);
                sqlite3_bind_int64(s, 6, (sqlite3_int64) now_usec());
                rc = sqlite3_step(s);
                if (rc != SQLITE_DONE) {
                        r = db_errno(sqlite3_extended_errcode(db_handle(db)));
                        goto fail;
                }
        }
        if (ret_id)
                *ret_id = sqlite3_last_insert_rowid(db_handle(db));
        r = db_commit(db);
        if (r < 0)
                goto fail;
        *ret_secret = TAKE_PTR(secret);
        return 0;
fail:
        db_rollback(db);
        return r;
}

#define WEBHOOK_COLUMNS "w.id, a.name, w.url, w.events, w.all_stores, w.enabled, w.created_at"

static json_t *webhook_row_to_json(sqlite3_stmt *s)
{
        return json_pack("{s:I, s:o, s:o, s:o, s:b, s:b, s:o}", "id", (json_int_t) sqlite3_column_int64(s, 0),
                         "account", db_column_json_string(s, 1), "url", db_column_json_string(s, 2), "events",
                         json_or_null(s, 3), "all_stores", sqlite3_column_int(s, 4), "enabled",
                         sqlite3_column_int(s, 5), "created_at", db_column_json_time(s, 6));
}

static int webhook_query(Db *db, int64_t account_id, int64_t id, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        _cleanup_(json_decrefp) json_t *a = json_array();
        int r, rc;

        if (!a)
                return -ENOMEM;
        r = db_prepare(db,
                       "SELECT " WEBHOOK_COLUMNS " FROM webhooks w JOIN accounts a ON a.id = w.account_id "
                       "WHERE w.account_id = ?1 AND w.deleted_at IS NULL AND (?2 = 0 OR w.id = ?2) ORDER BY w.id",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, account_id);
        sqlite3_bind_int64(s, 2, id);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                json_t *o = webhook_row_to_json(s);
                if (!o || json_array_append_new(a, o) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(a);
        return 0;
}

int webhook_list(Db *db, int64_t account_id, json_t **ret)
{
        assert(db);
        assert(ret);
        return webhook_query(db, account_id, 0, ret);
}

int webhook_get(Db *db, int64_t account_id, int64_t id, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *a = NULL;
        int r;

        assert(db);
        if (id <= 0)
                return -ENOENT;
        r = webhook_query(db, account_id, id, &a);
        if (r < 0)
                return r;
        if (json_array_size(a) == 0)
                return -ENOENT;
        if (ret)
                *ret = json_incref(json_array_get(a, 0));
        return 0;
}

int webhook_delete(Db *db, int64_t account_id, int64_t id)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        assert(db);
        r = db_prepare(db, "UPDATE webhooks SET deleted_at = ? WHERE id = ? AND account_id = ? AND deleted_at IS NULL",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, (sqlite3_int64) now_usec());
        sqlite3_bind_int64(s, 2, id);
        sqlite3_bind_int64(s, 3, account_id);
        if (sqlite3_step(s) != SQLITE_DONE)
                return db_errno(sqlite3_extended_errcode(db_handle(db)));
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ENOENT;
}

int webhook_set_enabled(Db *db, int64_t account_id, int64_t id, bool enabled)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        assert(db);
        r = db_prepare(db, "UPDATE webhooks SET enabled = ? WHERE id = ? AND account_id = ? AND deleted_at IS NULL",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int(s, 1, enabled);
        sqlite3_bind_int64(s, 2, id);
        sqlite3_bind_int64(s, 3, account_id);
        if (sqlite3_step(s) != SQLITE_DONE)
                return db_errno(sqlite3_extended_errcode(db_handle(db)));
        return sqlite3_changes(db_handle(db)) > 0 ? 0 : -ENOENT;
}

#define DELIVERY_COLUMNS                                                                                     \
        "d.id, d.event, d.store_id, d.state, d.attempts, d.response_code, d.last_error, d.created_at, "      \
        "d.updated_at, CASE WHEN d.state = 'queued' THEN d.not_before END"

static json_t *delivery_row_to_json(sqlite3_stmt *s)
{
        return json_pack("{s:I, s:o, s:o, s:o, s:i, s:o, s:o, s:o, s:o, s:o}", "id",
                         (json_int_t) sqlite3_column_int64(s, 0), "event", db_column_json_string(s, 1), "store_id",
                         db_column_json_string(s, 2), "state", db_column_json_string(s, 3), "attempts",
                         sqlite3_column_int(s, 4), "response_code",
                         sqlite3_column_type(s, 5) == SQLITE_NULL ? json_null()
                                                                   : json_integer(sqlite3_column_int(s, 5)),
                         "last_error", db_column_json_string(s, 6), "created_at", db_column_json_time(s, 7),
                         "updated_at", db_column_json_time(s, 8), "next_attempt_at", db_column_json_time(s, 9));
}

static int delivery_query(Db *db, int64_t webhook_id, int64_t delivery_id, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        _cleanup_(json_decrefp) json_t *a = json_array();
        int r, rc;

        if (!a)
                return -ENOMEM;
        r = db_prepare(db,
                       "SELECT " DELIVERY_COLUMNS " FROM webhook_deliveries d "
                       "WHERE d.webhook_id = ?1 AND (?2 = 0 OR d.id = ?2) ORDER BY d.id DESC LIMIT ?3",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, webhook_id);
        sqlite3_bind_int64(s, 2, delivery_id);
        sqlite3_bind_int(s, 3, WEBHOOK_DELIVERIES_LISTED);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
                json_t *o = delivery_row_to_json(s);
                if (!o || json_array_append_new(a, o) < 0)
                        return -ENOMEM;
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        *ret = TAKE_PTR(a);
        return 0;
}

int webhook_deliveries(Db *db, int64_t account_id, int64_t id, json_t **ret)
{
        int r;

        assert(db);
        assert(ret);
        r = webhook_get(db, account_id, id, NULL);
        if (r < 0)
                return r;
        return delivery_query(db, id, 0, ret);
}

int webhook_send_test(Db *db, int64_t account_id, int64_t id, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        _cleanup_(json_decrefp) json_t *a = NULL;
        uint64_t now = now_usec();
        int64_t delivery_id;
        int r;

        assert(db);
        if (id <= 0)
                return -ENOENT;
        r = db_prepare(db,
                       "INSERT INTO webhook_deliveries (webhook_id, event, payload, created_at, updated_at) "
                       "SELECT w.id, '" WEBHOOK_EVENT_TEST "', json_object('event', '" WEBHOOK_EVENT_TEST "', "
                       "'time', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'webhook', json_object('id', w.id)), ?3, ?3 "
                       "FROM webhooks w WHERE w.id = ?1 AND w.account_id = ?2 AND w.deleted_at IS NULL",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, account_id);
        sqlite3_bind_int64(s, 3, (sqlite3_int64) now);
        if (sqlite3_step(s) != SQLITE_DONE)
                return db_errno(sqlite3_extended_errcode(db_handle(db)));
        if (sqlite3_changes(db_handle(db)) == 0)
                return -ENOENT;
        delivery_id = sqlite3_last_insert_rowid(db_handle(db));
        webhook_wake();
        if (!ret)
                return 0;
        r = delivery_query(db, id, delivery_id, &a);
        if (r < 0)
                return r;
        if (json_array_size(a) == 0)
                return -ENOENT;
        *ret = json_incref(json_array_get(a, 0));
        return 0;
}

WebhookDelivery *webhook_delivery_free(WebhookDelivery *d)
{
        if (!d)
                return NULL;
        free(d->event);
        free(d->url);
        erase_and_freep(&d->secret);
        free(d->payload);
        free(d);
        return NULL;
}

static int fail_unsendable(Db *db, uint64_t now)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r;

        r = db_prepare(db,
                       "UPDATE webhook_deliveries SET state = 'failed', updated_at = ?1, last_error = ("
                       "  SELECT CASE WHEN a.disabled_at IS NOT NULL THEN 'The account is disabled.'"
                       "    WHEN w.deleted_at IS NOT NULL THEN 'The webhook was deleted.'"
                       "    ELSE 'The webhook is disabled.' END"
                       "  FROM webhooks w JOIN accounts a ON a.id = w.account_id WHERE w.id = webhook_id) "
                       "WHERE state = 'queued' AND not_before <= ?1 AND webhook_id IN ("
                       "  SELECT w.id FROM webhooks w JOIN accounts a ON a.id = w.account_id"
                       "  WHERE w.deleted_at IS NOT NULL OR NOT w.enabled OR a.disabled_at IS NOT NULL)",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, (sqlite3_int64) now);
        if (sqlite3_step(s) != SQLITE_DONE)
                return db_errno(sqlite3_extended_errcode(db_handle(db)));
        return 0;
}

static int take_next(Db *db, uint64_t now, WebhookDelivery **ret)
{
        _cleanup_(webhook_delivery_freep) WebhookDelivery *d = NULL;
        int r, rc;

        {
                _cleanup_stmt_ sqlite3_stmt *s = NULL;
                r = db_prepare(db,
                               "SELECT d.id, d.webhook_id, d.event, w.url, w.secret, d.payload, d.attempts "
                               "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
                               "WHERE d.state = 'queued' AND d.not_before <= ? ORDER BY d.not_before, d.id LIMIT 1",
                               &s);
                if (r < 0)
                        return r;
                sqlite3_bind_int64(s, 1, (sqlite3_int64) now);
                rc = sqlite3_step(s);
                if (rc == SQLITE_DONE)
                        return -EAGAIN;
                if (rc != SQLITE_ROW)
                        return db_errno(rc);
                d = calloc(1, sizeof *d);
                if (!d)
                        return -ENOMEM;
                d->id = sqlite3_column_int64(s, 0);
                d->webhook_id = sqlite3_column_int64(s, 1);
                d->event = db_column_strdup(s, 2);
                d->url = db_column_strdup(s, 3);
                d->secret = db_column_strdup(s, 4);
                d->payload = db_column_strdup(s, 5);
                d->attempts = sqlite3_column_int(s, 6) + 1;
                if (!d->event || !d->url || !d->secret || !d->payload)
                        return -ENOMEM;
        }
        {
                _cleanup_stmt_ sqlite3_stmt *s = NULL;
                r = db_prepare(db,
                               "UPDATE webhook_deliveries SET state = 'sending', attempts = ?, updated_at = ? "
                               "WHERE id = ?",
                               &s);
                if (r < 0)
                        return r;
                sqlite3_bind_int(s, 1, d->attempts);
                sqlite3_bind_int64(s, 2, (sqlite3_int64) now);
                sqlite3_bind_int64(s, 3, d->id);
                if (sqlite3_step(s) != SQLITE_DONE)
                        return db_errno(sqlite3_extended_errcode(db_handle(db)));
        }
        *ret = TAKE_PTR(d);
        return 0;
}

int webhook_delivery_next(Db *db, uint64_t now, WebhookDelivery **ret)
{
        int r;

        assert(db);
        assert(ret);
        r = db_begin(db);
        if (r < 0)
                return r;
        r = fail_unsendable(db, now);
        if (r >= 0)
                r = take_next(db, now, ret);
        if (r < 0 && r != -EAGAIN) {
                db_rollback(db);
                return r;
        }
        int k = db_commit(db);
        if (k < 0) {
                if (r >= 0)
                        *ret = webhook_delivery_free(*ret);
                db_rollback(db);
                return k;
        }
        return r;
}

int webhook_delivery_finish(Db *db, const WebhookDelivery *d, bool delivered, long response_code,
                            const char *error, uint64_t retry_at, uint64_t keep)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL, *prune = NULL;
        int r;

        assert(db);
        assert(d);
        r = db_prepare(db,
                       "UPDATE webhook_deliveries SET state = ?2, response_code = ?3, last_error = ?4, "
                       "not_before = ?5, updated_at = ?6 WHERE id = ?1",
                       &s);
        if (r < 0)
                return r;
        sqlite3_bind_int64(s, 1, d->id);
        sqlite3_bind_text(s, 2, delivered ? "delivered" : retry_at > 0 ? "queued" : "failed", -1, SQLITE_STATIC);
        if (response_code > 0)
                sqlite3_bind_int64(s, 3, response_code);
        if (!delivered) {
                r = db_bind_text_utf8(s, 4, error, WEBHOOK_ERROR_MAX);
                if (r < 0)
                        return r;
        }
        sqlite3_bind_int64(s, 5, (sqlite3_int64) retry_at);
        sqlite3_bind_int64(s, 6, (sqlite3_int64) now_usec());
        if (sqlite3_step(s) != SQLITE_DONE)
                return db_errno(sqlite3_extended_errcode(db_handle(db)));

        /* The log is bounded: a webhook keeps its newest deliveries, and every one still to be sent. */
        r = db_prepare(db,
                       "DELETE FROM webhook_deliveries WHERE webhook_id = ?1 AND state IN ('delivered', 'failed') "
                       "AND id < (SELECT min(id) FROM (SELECT id FROM webhook_deliveries WHERE webhook_id = ?1 "
                       "ORDER BY id DESC LIMIT ?2))",
                       &prune);
        if (r < 0)
                return r;
        sqlite3_bind_int64(prune, 1, d->webhook_id);
        sqlite3_bind_int64(prune, 2, (sqlite3_int64) keep);
        if (sqlite3_step(prune) != SQLITE_DONE)
                return db_errno(sqlite3_extended_errcode(db_handle(db)));
        return 0;
}

int webhook_delivery_next_due(Db *db, uint64_t now, uint64_t *ret_usec)
{
        _cleanup_stmt_ sqlite3_stmt *s = NULL;
        int r, rc;

        assert(db);
        assert(ret_usec);
        r = db_prepare(db, "SELECT min(not_before) FROM webhook_deliveries WHERE state = 'queued'", &s);
        if (r < 0)
                return r;
        rc = sqlite3_step(s);
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        if (sqlite3_column_type(s, 0) == SQLITE_NULL)
                return -ENODATA;
        uint64_t due = (uint64_t) sqlite3_column_int64(s, 0);
        *ret_usec = due > now ? due - now : 0;
        return 0;
}

int webhook_delivery_release_stale(Db *db)
{
        assert(db);
        int r = db_exec(db, "UPDATE webhook_deliveries SET state = 'queued' WHERE state = 'sending'");
        if (r < 0)
                return r;
        return sqlite3_changes(db_handle(db));
}
