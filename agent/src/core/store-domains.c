/* SPDX-License-Identifier: Apache-2.0 */

/* A store's own domains: checked, kept, listed, and applied by a redeploy. */

#include <inttypes.h>
#include <string.h>
#include <strings.h>

#include "basic/names.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/error.h"
#include "core/operation.h"
#include "core/store-domains.h"
#include "core/store-internal.h"

static bool label_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

int store_domain_check(const char *domain, char *msg, size_t msg_len)
{
        size_t n, labels = 0;
        char tld_first = 0;

        assert(domain);
        n = strlen(domain);
        if (n == 0 || n > STORE_DOMAIN_MAX) {
                utf8_snprintf(msg, msg_len, "domain must be 1 to %u characters.", STORE_DOMAIN_MAX);
                return ERROR_INVALID_REQUEST;
        }
        if (strchr(domain, '*')) {
                utf8_snprintf(msg, msg_len,
                              "domain must name one host; wildcards such as *.example.com are not served.");
                return ERROR_INVALID_REQUEST;
        }
        for (const char *p = domain; *p; p++)
                if (*p >= 'A' && *p <= 'Z') {
                        utf8_snprintf(msg, msg_len, "domain must be lowercase, such as shop.example.com.");
                        return ERROR_INVALID_REQUEST;
                }
        for (const char *label = domain;;) {
                size_t len = strcspn(label, ".");

                if (len == 0 || len > 63) {
                        utf8_snprintf(msg, msg_len,
                                      "domain must be dot-separated labels of 1 to 63 characters, such as "
                                      "shop.example.com.");
                        return ERROR_INVALID_REQUEST;
                }
                tld_first = label[0];
                for (size_t i = 0; i < len; i++) {
                        if (!label_char(label[i])) {
                                utf8_snprintf(msg, msg_len, "domain may have only a-z, 0-9, '-' and '.' (an "
                                              "internationalized name in its xn-- form).");
                                return ERROR_INVALID_REQUEST;
                        }
                }
                if (label[0] == '-' || label[len - 1] == '-') {
                        utf8_snprintf(msg, msg_len, "A label of domain may not begin or end with '-'.");
                        return ERROR_INVALID_REQUEST;
                }
                labels++;
                if (label[len] == '\0')
                        break;
                label += len + 1;
        }
        if (labels < 2) {
                utf8_snprintf(msg, msg_len, "domain must be a full host name such as shop.example.com.");
                return ERROR_INVALID_REQUEST;
        }
        /* Every top-level domain begins with a letter: one that does not is an IPv4 address, or no host. */
        if (!(tld_first >= 'a' && tld_first <= 'z')) {
                utf8_snprintf(msg, msg_len,
                              "domain must be a host name ending in a top-level domain such as .com, not an "
                              "IP address.");
                return ERROR_INVALID_REQUEST;
        }
        return 0;
}

/* Whether host is suffix or ends in ".suffix". */
static bool host_is_under(const char *host, const char *suffix)
{
        size_t n = strlen(host), k = strlen(suffix);

        if (k == 0 || n < k)
                return false;
        if (n == k)
                return streq(host, suffix);
        return host[n - k - 1] == '.' && streq(host + n - k, suffix);
}

int store_domains_of(Db *db, const char *id, json_t **ret_items, char **ret_primary)
{
        _cleanup_(json_decrefp) json_t *items = json_array();
        _cleanup_free_ char *primary = NULL;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        assert(db);
        assert(id);

        if (!items)
                return -ENOMEM;
        r = db_prepare(db,
                       "SELECT domain, is_primary, created_at FROM store_domains WHERE store_id = ?1 "
                       "ORDER BY created_at, domain",
                       &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
                bool is_primary = sqlite3_column_int(q, 1) != 0;

                json_t *item = json_pack("{s:o, s:b, s:o}", "domain", db_column_json_string(q, 0), "primary",
                                         is_primary, "created_at", db_column_json_time(q, 2));

                if (json_array_append_new(items, item) < 0)
                        return -ENOMEM;
                if (is_primary && !primary) {
                        primary = db_column_strdup_utf8(q, 0);
                        if (!primary)
                                return -ENOMEM;
                }
        }
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        if (ret_items)
                *ret_items = TAKE_PTR(items);
        if (ret_primary)
                *ret_primary = TAKE_PTR(primary);
        return 0;
}

int store_domains_get(Db *db, const Caller *caller, const char *id, json_t **ret, StoreError *err)
{
        _cleanup_(store_freep) Store *cur = NULL;
        _cleanup_free_ char *primary = NULL;
        json_t *items = NULL;
        int r;

        assert(caller);
        assert(ret);
        r = store_get_visible(db, caller, id, &cur);
        if (r == -ENOENT)
                return op_fail(err, ERROR_NOT_FOUND, "No store with id '%.*s'.", UTF8_PREFIX(id, 64));
        if (r < 0)
                return r;
        r = store_domains_of(db, id, &items, &primary);
        if (r < 0)
                return r;
        *ret = json_pack("{s:o, s:o}", "items", items, "primary",
                         primary ? json_string(primary) : json_null());
        return *ret ? 0 : -ENOMEM;
}

static int count_domains(Db *db, const char *id, uint64_t *ret)
{
        return store_query_u64(db, "SELECT count(*) FROM store_domains WHERE store_id = ?", id, 0, ret);
}

/* The store that has domain: 0 and its id, -ENOENT when no store has it. */
static int domain_owner(Db *db, const char *domain, char **ret_id)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db, "SELECT store_id FROM store_domains WHERE domain = ?1", &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, domain, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return db_errno(rc);
        *ret_id = db_column_strdup_utf8(q, 0);
        return *ret_id ? 0 : -ENOMEM;
}

static int exec_domain(Db *db, const char *sql, const char *id, const char *domain)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r, rc;

        r = db_prepare(db, sql, &q);
        if (r < 0)
                return r;
        sqlite3_bind_text(q, 1, id, -1, SQLITE_TRANSIENT);
        if (domain)
                sqlite3_bind_text(q, 2, domain, -1, SQLITE_TRANSIENT);
        rc = sqlite3_step(q);
        if (rc != SQLITE_DONE)
                return db_errno(rc);
        return sqlite3_changes(db_handle(db));
}

typedef struct DomainChange {
        const StoreLimits *limits;
        const char *domain;
        bool primary;
} DomainChange;

static int apply_add(Db *db, const Store *cur, json_t *payload, void *userdata, StoreError *err)
{
        const DomainChange *c = userdata;
        _cleanup_free_ char *own = NULL, *owner = NULL;
        uint64_t n;
        int r;

        if (!isempty(c->limits->base_domain)) {
                if (asprintf(&own, "%s.%s", cur->name, c->limits->base_domain) < 0)
                        return -ENOMEM;
                if (streq(c->domain, own))
                        return op_fail(err, ERROR_INVALID_REQUEST,
                                       "%s is the store's own host; it is always served.", own);
                /* Hosts under the store's own host are its own; any other under the platform's domain is
                 * another store's, or may become one. */
                if (host_is_under(c->domain, c->limits->base_domain) && !host_is_under(c->domain, own))
                        return op_fail(err, ERROR_INVALID_REQUEST,
                                       "%s is under the platform's domain %s; only hosts under the store's "
                                       "own host %s may be added.",
                                       c->domain, c->limits->base_domain, own);
        }
        if (host_name_listed(c->limits->own_hosts, c->domain, strlen(c->domain)))
                return op_fail(err, ERROR_DOMAIN_TAKEN,
                               "%s is this platform's own host (listen.hostnames); no store may serve it.",
                               c->domain);
        r = domain_owner(db, c->domain, &owner);
        if (r >= 0 && streq(owner, cur->id))
                return op_fail(err, ERROR_DOMAIN_TAKEN, "Store '%s' already has the domain %s.", cur->name,
                               c->domain);
        if (r >= 0)
                return op_fail(err, ERROR_DOMAIN_TAKEN, "Another store serves %s.", c->domain);
        if (r != -ENOENT)
                return r;
        r = count_domains(db, cur->id, &n);
        if (r < 0)
                return r;
        if (n >= c->limits->max_domains)
                return op_fail(err, ERROR_DOMAIN_CAP,
                               "Store '%s' has %" PRIu64 " domain(s), the most it may (stores.domains."
                               "max_per_store); remove one first.",
                               cur->name, n);
        if (c->primary) {
                r = exec_domain(db, "UPDATE store_domains SET is_primary = 0 WHERE store_id = ?1", cur->id,
                                NULL);
                if (r < 0)
                        return r;
        }
        {
                _cleanup_stmt_ sqlite3_stmt *q = NULL;
                int rc;

                r = db_prepare(db,
                               "INSERT INTO store_domains (domain, store_id, is_primary, created_at) "
                               "VALUES (?1, ?2, ?3, ?4)",
                               &q);
                if (r < 0)
                        return r;
                sqlite3_bind_text(q, 1, c->domain, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(q, 2, cur->id, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int(q, 3, c->primary);
                sqlite3_bind_int64(q, 4, (sqlite3_int64) now_usec());
                rc = sqlite3_step(q);
                if ((rc & 0xff) == SQLITE_CONSTRAINT)
                        return op_fail(err, ERROR_DOMAIN_TAKEN, "Another store serves %s.", c->domain);
                if (rc != SQLITE_DONE)
                        return db_errno(rc);
        }
        return 0;
}

static int apply_remove(Db *db, const Store *cur, json_t *payload, void *userdata, StoreError *err)
{
        const DomainChange *c = userdata;
        int r;

        r = exec_domain(db, "DELETE FROM store_domains WHERE store_id = ?1 AND domain = ?2", cur->id,
                        c->domain);
        if (r < 0)
                return r;
        if (r == 0)
                return op_fail(err, ERROR_DOMAIN_NOT_FOUND, "Store '%s' has no domain %.*s.", cur->name,
                               UTF8_PREFIX(c->domain, STORE_DOMAIN_MAX));
        return 0;
}

static int apply_primary(Db *db, const Store *cur, json_t *payload, void *userdata, StoreError *err)
{
        const DomainChange *c = userdata;
        int r;

        r = exec_domain(db, "UPDATE store_domains SET is_primary = 0 WHERE store_id = ?1", cur->id, NULL);
        if (r < 0 || !c->domain)
                return r < 0 ? r : 0;
        r = exec_domain(db, "UPDATE store_domains SET is_primary = 1 WHERE store_id = ?1 AND domain = ?2",
                        cur->id, c->domain);
        if (r < 0)
                return r;
        if (r == 0)
                return op_fail(err, ERROR_DOMAIN_NOT_FOUND,
                               "Store '%s' has no domain %.*s; add it before making it the primary one.",
                               cur->name, UTF8_PREFIX(c->domain, STORE_DOMAIN_MAX));
        return 0;
}

/* The syntax is checked before the store is looked at: what is wrong with the request comes first. */
static int refuse_bad_domain(Db *db, const Caller *caller, const char *action, const char *id,
                             const char *domain, StoreError *err)
{
        char msg[sizeof err->message];
        int r;

        r = store_domain_check(domain, msg, sizeof msg);
        if (r == 0)
                return 0;
        return op_refuse(db, caller, action, id, NULL, op_fail(err, r, "%s", msg), err);
}

int store_domain_add(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                     const char *domain, bool primary, Store **ret, StoreError *err)
{
        DomainChange c = { .limits = limits, .domain = domain, .primary = primary };
        _cleanup_free_ char *detail = NULL;
        int r;

        assert(limits);
        assert(domain);
        r = refuse_bad_domain(db, caller, "store.domain.add", id, domain, err);
        if (r != 0)
                return r;
        if (asprintf(&detail, "Domain %s added%s; applying it with the current chart version.", domain,
                     primary ? " as the primary one" : "") < 0)
                return -ENOMEM;
        return store_redeploy_with(db, limits, caller, id, "store.domain.add", detail, apply_add, &c, ret,
                                   err);
}

int store_domain_remove(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                        const char *domain, Store **ret, StoreError *err)
{
        DomainChange c = { .limits = limits, .domain = domain };
        _cleanup_free_ char *detail = NULL;
        int r;

        assert(domain);
        r = refuse_bad_domain(db, caller, "store.domain.remove", id, domain, err);
        if (r != 0)
                return r;
        if (asprintf(&detail, "Domain %s removed; applying it with the current chart version.", domain) < 0)
                return -ENOMEM;
        return store_redeploy_with(db, limits, caller, id, "store.domain.remove", detail, apply_remove, &c,
                                   ret, err);
}

int store_domain_set_primary(Db *db, const StoreLimits *limits, const Caller *caller, const char *id,
                             const char *domain, Store **ret, StoreError *err)
{
        DomainChange c = { .limits = limits, .domain = domain };
        _cleanup_free_ char *detail = NULL;
        int r;

        if (domain) {
                r = refuse_bad_domain(db, caller, "store.domain.primary", id, domain, err);
                if (r != 0)
                        return r;
        }
        if (asprintf(&detail, "Primary domain set to %s; applying it with the current chart version.",
                     domain ?: "the store's own host") < 0)
                return -ENOMEM;
        return store_redeploy_with(db, limits, caller, id, "store.domain.primary", detail, apply_primary,
                                   &c, ret, err);
}
