/* SPDX-License-Identifier: Apache-2.0 */

/* A store's settings (title, currency, country, administrator e-mail): checked, kept, read. */

#include <string.h>

#include "basic/util.h"
#include "basic/utf8.h"
#include "core/error.h"
#include "core/operation.h"
#include "core/store-settings.h"

static bool is_upper(char c)
{
        return c >= 'A' && c <= 'Z';
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* ^[A-Z]{3}$ */
static bool currency_is_valid(const char *s)
{
        return strlen(s) == 3 && is_upper(s[0]) && is_upper(s[1]) && is_upper(s[2]);
}

/* ^[A-Z]{2}(:[A-Z0-9-]{1,10})?$ */
static bool country_is_valid(const char *s)
{
        size_t n = strlen(s);

        if (n < 2 || !is_upper(s[0]) || !is_upper(s[1]))
                return false;
        if (n == 2)
                return true;
        if (s[2] != ':' || n < 4 || n > 13)
                return false;
        for (size_t i = 3; i < n; i++)
                if (!is_upper(s[i]) && !is_digit(s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool is_space(char c)
{
        return strchr(" \t\n\r\f\v", c) != NULL;
}

/* ^([^@\s]+@[^@\s]+\.[^@\s]+)?$ of the chart, in printable ASCII. */
static bool email_is_valid(const char *s)
{
        const char *at = strchr(s, '@'), *domain;
        size_t n;

        if (isempty(s))
                return true;
        if (strlen(s) > STORE_EMAIL_MAX)
                return false;
        for (const char *p = s; *p; p++)
                if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f || is_space(*p))
                        return false;
        if (!at || at == s || strchr(at + 1, '@'))
                return false;
        /* A dot with something on both sides. */
        domain = at + 1;
        n = strlen(domain);
        for (size_t i = 1; i + 1 < n; i++)
                if (domain[i] == '.')
                        return true;
        return false;
}

/* No control characters (they would end up in the shop's HTML head and in e-mails), at most
 * STORE_TITLE_MAX characters. */
static bool title_is_valid(const char *s)
{
        size_t chars = 0;

        if (!utf8_is_valid(s))
                return false;
        for (const char *p = s; *p; p++) {
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return false;
                if (((unsigned char) *p & 0xc0) != 0x80)
                        chars++;
        }
        return chars <= STORE_TITLE_MAX;
}

static const struct {
        const char *key;
        bool (*valid)(const char *s);
        const char *why;
} checks[] = {
        { "title", title_is_valid, "title must be at most 200 characters, without control characters." },
        { "currency", currency_is_valid, "currency must be an ISO 4217 code such as USD." },
        { "country", country_is_valid, "country must be COUNTRY or COUNTRY:STATE, such as DE or US:CA." },
        { "admin_email", email_is_valid,
          "admin_email must be an e-mail address such as owner@example.com." },
};

int store_settings_check(json_t *changes, char *msg, size_t msg_len)
{
        const char *key;
        json_t *v;

        if (!json_is_object(changes)) {
                utf8_snprintf(msg, msg_len, "settings must be an object.");
                return ERROR_INVALID_REQUEST;
        }
        if (json_object_size(changes) == 0) {
                utf8_snprintf(msg, msg_len, "Give at least one of title, currency, country, admin_email.");
                return ERROR_INVALID_REQUEST;
        }
        json_object_foreach(changes, key, v) {
                size_t i = 0;

                while (i < ELEMENTSOF(checks) && !streq(checks[i].key, key))
                        i++;
                if (i == ELEMENTSOF(checks)) {
                        utf8_snprintf(msg, msg_len,
                                      "Unknown setting '%.*s'; known: title, currency, country, "
                                      "admin_email.", UTF8_PREFIX(key, 64));
                        return ERROR_INVALID_REQUEST;
                }
                if (json_is_null(v))
                        continue;
                if (!json_is_string(v)) {
                        utf8_snprintf(msg, msg_len, "Setting '%s' must be a string or null.", key);
                        return ERROR_INVALID_REQUEST;
                }
                if (!checks[i].valid(json_string_value(v))) {
                        utf8_snprintf(msg, msg_len, "%s", checks[i].why);
                        return ERROR_INVALID_REQUEST;
                }
        }
        return 0;
}

json_t *store_settings_merge(json_t *cur, json_t *changes)
{
        _cleanup_(json_decrefp) json_t *m = cur ? json_deep_copy(cur) : json_object();
        const char *key;
        json_t *v;

        if (!m)
                return NULL;
        json_object_foreach(changes, key, v) {
                if (json_is_null(v))
                        (void) json_object_del(m, key);
                else if (json_object_set(m, key, v) < 0)
                        return NULL;
        }
        return TAKE_PTR(m);
}

int store_settings_of(Db *db, const char *id, json_t **ret)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        json_t *v = NULL;
        int r, rc;

        assert(db);
        assert(id);
        assert(ret);

        r = db_prepare(db, "SELECT settings FROM stores WHERE id = ?1", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        if (sqlite3_column_type(q, 0) != SQLITE_NULL)
                v = json_loads((const char *) sqlite3_column_text(q, 0), 0, NULL);
        if (!json_is_object(v)) {
                json_decref(v);
                v = json_object();
        }
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

int store_settings_get(Db *db, const Caller *caller, const char *id, json_t **ret, StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        int r;

        assert(caller);
        r = store_get_visible(db, caller, id, &cur);
        if (r == -ENOENT)
                return op_fail(err, ERROR_NOT_FOUND, "No store with id '%.*s'.", UTF8_PREFIX(id, 64));
        if (r < 0)
                return r;
        return store_settings_of(db, id, ret);
}

int store_settings_replace(Db *db, const char *id, json_t *settings)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(id);

        text = json_is_object(settings) ? json_dumps(settings, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!text)
                return json_is_object(settings) ? -ENOMEM : -EINVAL;
        r = db_prepare(db, "UPDATE stores SET settings = ?2 WHERE id = ?1", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(q, 2, text, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        return rc == SQLITE_DONE ? 0 : db_errno(rc);
}

int store_settings_store(Db *db, const char *id, json_t *changes)
{
        _cleanup_(json_decrefp) json_t *old = NULL, *settings = NULL;
        int r;

        r = store_settings_of(db, id, &old);
        if (r < 0)
                return r;
        settings = store_settings_merge(old, changes);
        if (!settings)
                return -ENOMEM;
        return store_settings_replace(db, id, settings);
}

/* The settings before the change go with the upgrade: a failed one that is rolled back puts them back. */
static int apply_settings(Db *db, const Store *cur, json_t *payload, void *userdata, StoreError *err)
{
        json_t *before = NULL;
        int r;

        r = store_settings_of(db, cur->id, &before);
        if (r < 0)
                return r;
        if (json_object_set_new(payload, "settings_before", before) < 0)
                return -ENOMEM;
        return store_settings_store(db, cur->id, userdata);
}

int store_change_settings(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                          json_t *changes, Store **ret, StoreError *err)
{
        char msg[sizeof err->message];
        int r;

        assert(db);
        assert(caller);
        assert(id);
        assert(ret);

        r = store_settings_check(changes, msg, sizeof msg);
        if (r != 0)
                return op_refuse(db, caller, "store.settings", id, NULL,
                                 op_fail(err, ERROR_INVALID_REQUEST, "%s", msg), err);
        return store_redeploy_with(db, limits, caller, id, "store.settings",
                                   "Settings changed; applying them with the current chart version.",
                                   apply_settings, changes, ret, err);
}
