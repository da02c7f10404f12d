/* SPDX-License-Identifier: Apache-2.0 */

/*
 * The account handlers (admins only; the route table says so): list, create, read, and change
 * an account's limits or disable and enable it. Every change is a record of the audit log.
 */

#include <inttypes.h>

#include "api/api-internal.h"
#include "basic/utf8.h"
#include "basic/util.h"
#include "core/audit.h"

/* The account as the API shows it: account_to_json() plus its active stores and live tokens. */
static int account_json(Db *db, const char *name, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *all = NULL;
        json_t *a;
        size_t i;
        int r;

        r = account_list(db, &all);
        if (r < 0)
                return r;
        json_array_foreach(all, i, a)
                if (streq_ptr(json_string_value(json_object_get(a, "name")), name)) {
                        *ret = json_incref(a);
                        return 0;
                }
        return -ENOENT;
}

static void audit_account(ApiServer *s, RequestContext *c, const char *action, const char *name, AuditResult result,
                          const char *error)
{
        (void) audit_record(api_db(s), &(AuditEntry) { .caller = &c->caller, .action = action,
                                                       .target_kind = "account", .target = name, .result = result,
                                                       .error = error, .source = c->client,
                                                       .request_id = c->request_id });
}

/* Answers a refused account change and records it. */
static int refuse(ApiServer *s, RequestContext *c, struct _u_response *resp, const char *action, const char *name,
                  Error e, const char *message)
{
        audit_account(s, c, action, name, AUDIT_DENIED, error_info(e)->code);
        return api_error_of(resp, e, "%s", message);
}

/*
 * A limit in a body: absent keeps *v, null is the configured default, else a count. Answers 400
 * itself and returns -EINVAL when the value is neither.
 */
static int parse_limit(struct _u_response *resp, json_t *body, const char *key, int64_t *v)
{
        json_t *j = json_object_get(body, key);

        if (!j)
                return 0;
        if (json_is_null(j)) {
                *v = ACCOUNT_LIMIT_DEFAULT;
                return 0;
        }
        if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > 1000000)
                return api_error(resp, 400, "invalid_type",
                                 "Field '%s' must be null (the default) or an integer from 0 to 1000000.", key),
                       -EINVAL;
        *v = json_integer_value(j);
        return 0;
}

int h_accounts_list(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        json_t *items = NULL;

        if (account_list(api_db(s), &items) < 0)
                return api_error(resp, 500, "internal", "Listing accounts failed.");
        api_set_json(resp, 200, json_pack("{s:o}", "items", items));
        return 0;
}

int h_accounts_create(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "name", "role", "max_stores", "creates_per_hour", NULL };
        RequestContext *c = ctx;
        _cleanup_(account_freep) Account *a = NULL;
        json_t *body = NULL;
        const char *name, *role_s;
        int64_t max_stores = ACCOUNT_LIMIT_DEFAULT, creates = ACCOUNT_LIMIT_DEFAULT;
        AccountRole role;
        Db *db = api_db(s);
        int r;

        if (api_check_fields(resp, c->body, fields) < 0 || api_require_string(resp, c, "name", &name) < 0 ||
            api_require_string(resp, c, "role", &role_s) < 0 ||
            parse_limit(resp, c->body, "max_stores", &max_stores) < 0 ||
            parse_limit(resp, c->body, "creates_per_hour", &creates) < 0)
                return 0;
        if (!account_name_is_valid(name))
                return api_error(resp, 400, "invalid_name",
                                 "Account names are 1 to 64 of a-z, 0-9, '_', '.', '@' and '-', starting with a "
                                 "letter or digit.");
        role = account_role_from_string(role_s);
        if (role < 0)
                return api_error(resp, 400, "invalid_parameter", "Field 'role' must be \"tenant\" or \"admin\".");

        r = db_begin(db);
        if (r < 0)
                return api_error(resp, 503, "busy", "The database is busy; try again.");
        r = account_create(db, name, role, &a);
        if (r == -EEXIST) {
                db_rollback(db);
                return refuse(s, c, resp, "account.create", name, ERROR_ACCOUNT_TAKEN,
                              "An account of that name exists.");
        }
        if (r >= 0 && (max_stores != ACCOUNT_LIMIT_DEFAULT || creates != ACCOUNT_LIMIT_DEFAULT))
                r = account_set_limits(db, a->id, max_stores, creates);
        if (r >= 0)
                r = db_commit(db);
        if (r < 0) {
                db_rollback(db);
                return api_error(resp, 500, "internal", "Creating the account failed.");
        }
        audit_account(s, c, "account.create", name, AUDIT_OK, NULL);
        if (account_json(db, name, &body) < 0)
                return api_error(resp, 500, "internal", "Reading the account failed.");
        api_set_json(resp, 201, body);
        return 0;
}

int h_account_get(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        RequestContext *c = ctx;
        json_t *body = NULL;
        int r;

        r = account_json(api_db(s), c->params[0], &body);
        if (r == -ENOENT)
                return api_error_of(resp, ERROR_ACCOUNT_NOT_FOUND, "No account named '%.*s'.", UTF8_PREFIX(c->params[0], 64));
        if (r < 0)
                return api_error(resp, 500, "internal", "Reading the account failed.");
        api_set_json(resp, 200, body);
        return 0;
}

int h_account_patch(ApiServer *s, const struct _u_request *req, struct _u_response *resp, void *ctx)
{
        static const char *const fields[] = { "disabled", "max_stores", "creates_per_hour", NULL };
        RequestContext *c = ctx;
        _cleanup_(account_freep) Account *a = NULL;
        json_t *body = NULL, *disabled;
        int64_t max_stores, creates;
        Db *db = api_db(s);
        int r;

        if (!c->body)
                return api_error(resp, 400, "missing_field", "Send at least one of disabled, max_stores, creates_per_hour.");
        if (api_check_fields(resp, c->body, fields) < 0)
                return 0;
        disabled = json_object_get(c->body, "disabled");
        if (disabled && !json_is_boolean(disabled))
                return api_error(resp, 400, "invalid_type", "Field 'disabled' must be true or false.");

        r = account_get_by_name(db, c->params[0], &a);
        if (r == -ENOENT)
                return api_error_of(resp, ERROR_ACCOUNT_NOT_FOUND, "No account named '%.*s'.", UTF8_PREFIX(c->params[0], 64));
        if (r < 0)
                return api_error(resp, 500, "internal", "Reading the account failed.");
        max_stores = a->max_stores;
        creates = a->creates_per_hour;
        if (parse_limit(resp, c->body, "max_stores", &max_stores) < 0 ||
            parse_limit(resp, c->body, "creates_per_hour", &creates) < 0)
                return 0;
        if (json_is_true(disabled) && a->id == c->caller.account_id)
                return refuse(s, c, resp, "account.disable", a->name, ERROR_INVALID_REQUEST,
                              "An admin cannot disable its own account; another admin may.");

        if (max_stores != a->max_stores || creates != a->creates_per_hour) {
                r = account_set_limits(db, a->id, max_stores, creates);
                if (r < 0)
                        return api_error(resp, 500, "internal", "Changing the account's limits failed.");
                audit_account(s, c, "account.update", a->name, AUDIT_OK, NULL);
        }
        if (disabled && json_is_true(disabled) != (a->disabled_at > 0)) {
                r = account_set_disabled(db, a->id, json_is_true(disabled));
                if (r < 0)
                        return api_error(resp, 500, "internal", "Changing the account failed.");
                audit_account(s, c, json_is_true(disabled) ? "account.disable" : "account.enable", a->name, AUDIT_OK,
                              NULL);
                /* Wakes the live streams, which check their credentials again and end the account's. */
                store_changed_notify();
        }
        if (account_json(db, a->name, &body) < 0)
                return api_error(resp, 500, "internal", "Reading the account failed.");
        api_set_json(resp, 200, body);
        return 0;
}
