/* SPDX-License-Identifier: Apache-2.0 */

/*
 * Accounts, API tokens, transfers and credentials: the D-Bus methods of the same
 * names, printed as tables (or the daemon's JSON with --json). Who may do what
 * is the daemon's decision; a refusal comes back as an error and an exit code.
 */

#include <inttypes.h>
#include <jansson.h>

#include "storectl/storectl-account.h"
#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-output.h"
#include "storectl/storectl-table.h"

/* A limit as a table shows it: null (the configured default) is "default". */
static const char *limit_cell(char buf[static 32], const json_t *account, const char *key)
{
        json_t *v = json_object_get(account, key);

        if (!json_is_integer(v))
                return "default";
        xsnprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return buf;
}

static const char *count_cell(char buf[static 32], const json_t *o, const char *key)
{
        xsnprintf(buf, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(json_object_get(o, key)));
        return buf;
}

static int print_account(const json_t *a)
{
        char buf[32];

        if (arg_json) {
                print_json(a);
                return EXIT_OK;
        }
        print_field("Account", jstr(a, "name"), NULL);
        print_field("Role", jstr(a, "role"), NULL);
        print_field("Max stores", limit_cell(buf, a, "max_stores"), NULL);
        print_field("Creates/hour", limit_cell(buf, a, "creates_per_hour"), NULL);
        print_field("State", json_is_true(json_object_get(a, "disabled")) ? "disabled" : "enabled",
                    json_is_true(json_object_get(a, "disabled")) ? ANSI_RED : NULL);
        return EXIT_OK;
}

int verb_account_list(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *accounts = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_t *a;
        size_t i;
        int r;

        r = CALL_JSON(bus, "ListAccounts", &accounts, NULL);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(accounts);
                return EXIT_OK;
        }
        if (table_new(&t, 8, "NAME", "ROLE", "STORES", "MAX STORES", "CREATES/H", "TOKENS", "STATE", "AGE") < 0)
                return EXIT_FAIL;
        json_array_foreach(accounts, i, a) {
                bool disabled = json_is_true(json_object_get(a, "disabled"));
                char b1[32], b2[32], b3[32], b4[32], age[32];

                if (table_add(t, jstr(a, "name")) < 0 || table_add(t, jstr(a, "role")) < 0 ||
                    table_add(t, count_cell(b1, a, "stores")) < 0 || table_add(t, limit_cell(b2, a, "max_stores")) < 0 ||
                    table_add(t, limit_cell(b3, a, "creates_per_hour")) < 0 ||
                    table_add(t, count_cell(b4, a, "tokens")) < 0 ||
                    table_add_colored(t, disabled ? "disabled" : "enabled", disabled ? ANSI_RED : NULL) < 0 ||
                    table_add(t, format_age(age, jstr(a, "created_at"))) < 0)
                        return EXIT_FAIL;
        }
        table_print(t, stdout, arg_legend, arg_color);
        if (arg_legend)
                printf("\n%zu accounts listed.\n", table_rows(t));
        return EXIT_OK;
}

/* Looks up one account in ListAccounts (for the limit that `account set` leaves as it is). */
static int get_account(sd_bus *bus, const char *name, json_t **ret)
{
        _cleanup_(json_decrefp) json_t *accounts = NULL;
        json_t *a;
        size_t i;
        int r;

        r = CALL_JSON(bus, "ListAccounts", &accounts, NULL);
        if (r != EXIT_OK)
                return r;
        json_array_foreach(accounts, i, a)
                if (streq_ptr(jstr(a, "name"), name)) {
                        *ret = json_incref(a);
                        return EXIT_OK;
                }
        fprintf(stderr, "No account named '%s'.\n", name);
        return EXIT_NOT_FOUND;
}

static int64_t current_limit(const json_t *a, const char *key)
{
        json_t *v = json_object_get(a, key);
        return json_is_integer(v) ? (int64_t) json_integer_value(v) : -1;
}

static int set_limits(sd_bus *bus, const char *name, json_t **ret)
{
        int64_t max_stores = arg_max_stores, per_hour = arg_creates_per_hour;
        int r;

        if (max_stores == LIMIT_UNSET || per_hour == LIMIT_UNSET) {
                _cleanup_(json_decrefp) json_t *cur = NULL;
                r = get_account(bus, name, &cur);
                if (r != EXIT_OK)
                        return r;
                if (max_stores == LIMIT_UNSET)
                        max_stores = current_limit(cur, "max_stores");
                if (per_hour == LIMIT_UNSET)
                        per_hour = current_limit(cur, "creates_per_hour");
        }
        return CALL_JSON(bus, "SetAccountLimits", ret, "sxx", name, max_stores, per_hour);
}

int verb_account_create(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *a = NULL;
        int r;

        r = CALL_JSON(bus, "CreateAccount", &a, "ss", args[0], arg_role);
        if (r != EXIT_OK)
                return r;
        if (arg_given & OPT_LIMITS) {
                json_decref(a);
                a = NULL;
                r = set_limits(bus, args[0], &a);
                if (r != EXIT_OK)
                        return r;
        }
        return print_account(a);
}

int verb_account_set(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *a = NULL;
        int r;

        if (!(arg_given & OPT_LIMITS)) {
                fprintf(stderr, "Give --max-stores, --creates-per-hour or both. See 'storectl account set --help'.\n");
                return EXIT_USAGE;
        }
        r = set_limits(bus, args[0], &a);
        if (r != EXIT_OK)
                return r;
        return print_account(a);
}

static int set_disabled(sd_bus *bus, const char *name, bool disabled)
{
        _cleanup_(json_decrefp) json_t *a = NULL;
        int r;

        r = CALL_JSON(bus, "SetAccountDisabled", &a, "sb", name, (int) disabled);
        if (r != EXIT_OK)
                return r;
        return print_account(a);
}

int verb_account_disable(sd_bus *bus, char **args)
{
        return set_disabled(bus, args[0], true);
}

int verb_account_enable(sd_bus *bus, char **args)
{
        return set_disabled(bus, args[0], false);
}

int verb_token_create(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *o = NULL;
        int r;

        /* The account is the caller's own unless --account names another; the daemon decides who may. */
        r = CALL_JSON(bus, "CreateAccountToken", &o, "sst", arg_account ?: "", args[0], arg_expires_in);
        if (r != EXIT_OK)
                return r;
        if (arg_json)
                print_json(o);
        else {
                printf("%s\n", strna(jstr(o, "token")));
                if (isatty(STDOUT_FILENO))
                        fprintf(stderr, "Keep this token now: it is shown once and cannot be read back.\n");
        }
        /* The secret is in the reply's JSON too: wipe it before it is freed. */
        json_t *tok = json_object_get(o, "token");
        if (json_is_string(tok))
                explicit_bzero((char *) json_string_value(tok), json_string_length(tok));
        return EXIT_OK;
}

int verb_token_list(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *tokens = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        json_t *tok;
        size_t i;
        int r;

        r = arg_account ? CALL_JSON(bus, "ListAccountTokens", &tokens, "s", arg_account)
                        : CALL_JSON(bus, "ListTokens", &tokens, NULL);
        if (r != EXIT_OK)
                return r;
        if (arg_json) {
                print_json(tokens);
                return EXIT_OK;
        }
        if (table_new(&t, 6, "ACCOUNT", "NAME", "CREATED", "EXPIRES", "LAST USED", "REVOKED") < 0)
                return EXIT_FAIL;
        json_array_foreach(tokens, i, tok) {
                bool gone = jstr(tok, "revoked_at") || json_is_true(json_object_get(tok, "expired"));
                if (table_add(t, jstr(tok, "account")) < 0 || table_add(t, jstr(tok, "name")) < 0 ||
                    table_add(t, jstr(tok, "created_at")) < 0 ||
                    table_add_colored(t, jstr(tok, "expires_at"),
                                      json_is_true(json_object_get(tok, "expired")) ? ANSI_GREY : NULL) < 0 ||
                    table_add(t, jstr(tok, "last_used_at")) < 0 ||
                    table_add_colored(t, jstr(tok, "revoked_at"), gone ? ANSI_GREY : NULL) < 0)
                        return EXIT_FAIL;
        }
        table_print(t, stdout, arg_legend, arg_color);
        return EXIT_OK;
}

int verb_token_revoke(sd_bus *bus, char **args)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = call_string(bus, "RevokeAccountToken", NULL, &e, "ss", arg_account ?: "", args[0]);
        if (r < 0)
                return report_error(&e, r);
        if (arg_json) {
                _cleanup_(json_decrefp) json_t *o = json_pack("{s:s, s:b}", "name", args[0], "revoked", 1);
                print_json(o);
        }
        return EXIT_OK;
}

int verb_transfer(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *store = NULL;
        int r;

        r = CALL_JSON(bus, "TransferStore", &store, "ss", args[0], args[1]);
        if (r != EXIT_OK)
                return r;
        if (arg_json)
                print_json(store);
        else
                printf("Store '%s' (%s) now belongs to account '%s'.\n", jstr(store, "name"), jstr(store, "id"),
                       strna(jstr(store, "owner")));
        return EXIT_OK;
}

int verb_credentials(sd_bus *bus, char **args)
{
        _cleanup_(json_decrefp) json_t *c = NULL;
        int r;

        r = CALL_JSON(bus, "GetCredentials", &c, "s", args[0]);
        if (r != EXIT_OK)
                return r;
        if (arg_json)
                print_json(c);
        else {
                print_field("URL", jstr(c, "url"), NULL);
                print_field("Admin URL", jstr(c, "admin_url"), NULL);
                print_field("Username", jstr(c, "username"), NULL);
                print_field("Password", jstr(c, "password"), NULL);
        }
        json_t *pw = json_object_get(c, "password");
        if (json_is_string(pw))
                explicit_bzero((char *) json_string_value(pw), json_string_length(pw));
        return EXIT_OK;
}
