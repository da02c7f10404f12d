/* SPDX-License-Identifier: Apache-2.0 */

#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/socket.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "api/api.h"
#include "basic/log.h"
#include "basic/names.h"
#include "basic/util.h"
#include "core/config.h"
#include "core/db.h"
#include "core/account.h"
#include "core/audit.h"
#include "core/token.h"
#include "daemon/daemon.h"
#include "provision/render.h"

static const char *arg_config = NULL;
static bool arg_check_config = false;
static bool arg_list_routes = false;

static void help(void)
{
        printf("storeagentd %s: provisions WooCommerce stores on the local Kubernetes cluster.\n\n"
               "Usage:\n"
               "  storeagentd [--config PATH]              run the daemon\n"
               "  storeagentd [--config PATH] --check-config\n"
               "                                            validate the configuration and print it\n"
               "  storeagentd [--config PATH] account create NAME [--role admin|tenant]\n"
               "                                            [--max-stores N] [--creates-per-hour N]\n"
               "  storeagentd [--config PATH] account list | set NAME ... | disable NAME | enable NAME\n"
               "  storeagentd [--config PATH] token create --name NAME [--account ACCOUNT] [--expires-in SECONDS]\n"
               "  storeagentd [--config PATH] token list [--account ACCOUNT]\n"
               "  storeagentd [--config PATH] token revoke NAME [--account ACCOUNT]\n"
               "  storeagentd [--config PATH] render --name NAME [--id ID]\n"
               "                                            print the objects and Helm values a new store\n"
               "                                            would get, as YAML; touches no cluster\n\n"
               "Options:\n"
               "  -c, --config PATH   configuration file (default %s)\n"
               "      --check-config  parse and validate the configuration, print the effective values\n"
               "      --list-routes   print the HTTP routes the daemon serves (METHOD PATH)\n"
               "  -h, --help          this text\n"
               "      --version       print the version\n",
               PACKAGE_VERSION, CONFIG_DEFAULT_PATH);
}

static int parse_argv(int argc, char *argv[])
{
        enum { ARG_CHECK_CONFIG = 0x100, ARG_VERSION, ARG_LIST_ROUTES };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "check-config", no_argument, NULL, ARG_CHECK_CONFIG },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "list-routes", no_argument, NULL, ARG_LIST_ROUTES },
                {},
        };
        int c;

        /* "+" stops at the first verb so "token create --name x" keeps its own options. */
        while ((c = getopt_long(argc, argv, "+c:h", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        arg_config = optarg;
                        break;
                case ARG_CHECK_CONFIG:
                        arg_check_config = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_LIST_ROUTES:
                        arg_list_routes = true;
                        break;
                case ARG_VERSION:
                        printf("storeagentd %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        return 1;
}

static int load_config(Config **ret)
{
        _cleanup_free_ char *error = NULL;
        const char *path = arg_config ?: CONFIG_DEFAULT_PATH;
        int r;

        /* The default file may be absent (all defaults); a file named on the command line must exist. */
        r = config_load(path, !arg_config, ret, &error);
        if (r < 0) {
                fprintf(stderr, "Invalid configuration: %s\n", error ?: strerror(-r));
                return r;
        }
        return 0;
}

static int open_state(const Config *config, Db **ret)
{
        _cleanup_free_ char *dir = strdup(config->database), *problem = NULL;
        int r;

        if (!dir)
                return log_oom();
        r = mkdir_p(dirname(dir), 0750);
        if (r < 0)
                return log_error_errno(r, "Failed to create the database directory for '%s': %m", config->database);
        r = db_check(config->database, &problem);
        if (r < 0)
                return daemon_log_database_error(config->database, r, problem);
        db_set_busy_timeout((unsigned) config->database_busy_timeout_ms);
        r = db_open(config->database, ret);
        if (r < 0)
                return daemon_log_database_error(config->database, r, NULL);
        return 0;
}

/* The value of --OPT VALUE or --OPT=VALUE at argv[*i] (advancing *i), or NULL when argv[*i] is not --OPT. */
static const char *option_value(int argc, char *argv[], int *i, const char *opt)
{
        size_t n = strlen(opt);

        if (streq(argv[*i], opt) && *i + 1 < argc)
                return argv[++*i];
        if (strncmp(argv[*i], opt, n) == 0 && argv[*i][n] == '=')
                return argv[*i] + n + 1;
        return NULL;
}

/* Parses a limit: a number, or "default" for the configured default of the account's role. */
static int parse_limit(const char *s, int64_t *ret)
{
        uint64_t v;

        if (streq(s, "default")) {
                *ret = ACCOUNT_LIMIT_DEFAULT;
                return 0;
        }
        if (safe_atou64(s, &v) < 0 || v > 1000000)
                return -EINVAL;
        *ret = (int64_t) v;
        return 0;
}

static void print_account_row(json_t *a)
{
        json_t *ms = json_object_get(a, "max_stores"), *cph = json_object_get(a, "creates_per_hour");
        char max_stores[24] = "default", per_hour[24] = "default";

        if (json_is_integer(ms))
                xsprintf(max_stores, "%" JSON_INTEGER_FORMAT, json_integer_value(ms));
        if (json_is_integer(cph))
                xsprintf(per_hour, "%" JSON_INTEGER_FORMAT, json_integer_value(cph));
        printf("%-24s %-7s %-9s %-7" JSON_INTEGER_FORMAT " %-7" JSON_INTEGER_FORMAT " %-10s %s\n",
               json_string_value(json_object_get(a, "name")), json_string_value(json_object_get(a, "role")),
               json_is_true(json_object_get(a, "disabled")) ? "disabled" : "enabled",
               json_integer_value(json_object_get(a, "stores")), json_integer_value(json_object_get(a, "tokens")),
               max_stores, per_hour);
}

#define ACCOUNT_USAGE                                                                                        \
        "Usage: account create NAME [--role admin|tenant] [--max-stores N|default] [--creates-per-hour N|default]\n" \
        "       account list\n"                                                                              \
        "       account set NAME [--max-stores N|default] [--creates-per-hour N|default]\n"                  \
        "       account disable NAME | account enable NAME\n"

/* Accounts without a running daemon (bootstrap, recovery). Runs as the daemon's user. */
static int verb_account(const Config *config, int argc, char *argv[])
{
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(account_freep) Account *a = NULL;
        const char *verb = argc > 1 ? argv[1] : NULL, *name = argc > 2 ? argv[2] : NULL;
        AccountRole role = ACCOUNT_TENANT;
        int64_t max_stores = ACCOUNT_LIMIT_DEFAULT, per_hour = ACCOUNT_LIMIT_DEFAULT;
        bool set_limits = false;
        int r;

        if (streq_ptr(verb, "list") && argc == 2) {
                _cleanup_(json_decrefp) json_t *list = NULL;
                json_t *it;
                size_t i;

                r = open_state(config, &db);
                if (r < 0)
                        return r;
                r = account_list(db, &list);
                if (r < 0)
                        return log_error_errno(r, "Failed to list accounts: %m");
                printf("%-24s %-7s %-9s %-7s %-7s %-10s %s\n", "NAME", "ROLE", "STATE", "STORES", "TOKENS",
                       "MAX STORES", "CREATES/H");
                json_array_foreach(list, i, it)
                        print_account_row(it);
                return 0;
        }
        if (!STR_IN_SET(verb, "create", "set", "disable", "enable") || !name) {
                fputs(ACCOUNT_USAGE, stderr);
                return -EINVAL;
        }
        for (int i = 3; i < argc; i++) {
                const char *v;
                if ((v = option_value(argc, argv, &i, "--role")) && streq(verb, "create")) {
                        role = account_role_from_string(v);
                        if (role < 0) {
                                fprintf(stderr, "Unknown role '%s': use admin or tenant.\n", v);
                                return -EINVAL;
                        }
                } else if ((v = option_value(argc, argv, &i, "--max-stores")) && STR_IN_SET(verb, "create", "set")) {
                        if (parse_limit(v, &max_stores) < 0) {
                                fprintf(stderr, "Invalid --max-stores '%s': a number up to 1000000, or default.\n", v);
                                return -EINVAL;
                        }
                        set_limits = true;
                } else if ((v = option_value(argc, argv, &i, "--creates-per-hour")) &&
                           STR_IN_SET(verb, "create", "set")) {
                        if (parse_limit(v, &per_hour) < 0) {
                                fprintf(stderr, "Invalid --creates-per-hour '%s': a number up to 1000000, or default.\n",
                                        v);
                                return -EINVAL;
                        }
                        set_limits = true;
                } else {
                        fprintf(stderr, "Unknown argument '%s'.\n" ACCOUNT_USAGE, argv[i]);
                        return -EINVAL;
                }
        }
        if (streq(verb, "create") && !account_name_is_valid(name)) {
                fprintf(stderr, "Invalid account name '%s': use 1-64 of A-Z a-z 0-9 _ . @ : -, starting with a letter "
                                "or digit.\n", name);
                return -EINVAL;
        }

        r = open_state(config, &db);
        if (r < 0)
                return r;
        if (streq(verb, "create")) {
                r = account_create(db, name, role, &a);
                if (r == -EEXIST) {
                        fprintf(stderr, "An account named '%s' already exists.\n", name);
                        return r;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to create account '%s': %m", name);
        } else {
                r = account_get_by_name(db, name, &a);
                if (r == -ENOENT) {
                        fprintf(stderr, "No account named '%s'.\n", name);
                        return r;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to read account '%s': %m", name);
        }
        if (set_limits || streq(verb, "set")) {
                if (streq(verb, "set") && !set_limits) {
                        fputs(ACCOUNT_USAGE, stderr);
                        return -EINVAL;
                }
                r = account_set_limits(db, a->id, max_stores, per_hour);
                if (r < 0)
                        return log_error_errno(r, "Failed to set the limits of account '%s': %m", name);
        }
        if (STR_IN_SET(verb, "disable", "enable")) {
                r = account_set_disabled(db, a->id, streq(verb, "disable"));
                if (r < 0)
                        return log_error_errno(r, "Failed to %s account '%s': %m", verb, name);
        }
        {
                AuditEntry e = { .actor = "cli", .action = streq(verb, "create") ? "account.create"
                                                       : streq(verb, "set")      ? "account.update"
                                                       : streq(verb, "disable")  ? "account.disable"
                                                                                 : "account.enable",
                                 .target_kind = "account", .target = name, .result = AUDIT_OK, .source = "cli" };
                (void) audit_record(db, &e);
        }
        return 0;
}

#define TOKEN_USAGE                                                                                          \
        "Usage: token create --name NAME [--account ACCOUNT] [--expires-in SECONDS]\n"                       \
        "       token list [--account ACCOUNT]\n"                                                            \
        "       token revoke NAME [--account ACCOUNT]\n"                                                     \
        "Without --account, the account is the admin account named NAME (made if missing).\n"

static int token_account(Db *db, const char *account, const char *name, bool make, Account **ret)
{
        int r;

        if (!account) {
                if (!make)
                        return account_get_by_name(db, name, ret);
                return account_ensure_admin(db, name, ret);
        }
        r = account_get_by_name(db, account, ret);
        if (r == -ENOENT)
                fprintf(stderr, "No account named '%s'.\n", account);
        return r;
}

static int verb_token(const Config *config, int argc, char *argv[])
{
        _cleanup_(db_closep) Db *db = NULL;
        _cleanup_(account_freep) Account *a = NULL;
        const char *verb = argc > 1 ? argv[1] : NULL, *name = NULL, *account = NULL, *expires = NULL;
        int first = 2, r;

        if (streq_ptr(verb, "revoke") && argc > 2 && argv[2][0] != '-') {
                name = argv[2];
                first = 3;
        }
        for (int i = first; i < argc; i++) {
                const char *v;
                if ((v = option_value(argc, argv, &i, "--name")) && streq_ptr(verb, "create"))
                        name = v;
                else if ((v = option_value(argc, argv, &i, "--account")))
                        account = v;
                else if ((v = option_value(argc, argv, &i, "--expires-in")) && streq_ptr(verb, "create"))
                        expires = v;
                else {
                        fprintf(stderr, "Unknown argument '%s'.\n" TOKEN_USAGE, argv[i]);
                        return -EINVAL;
                }
        }
        if (!STR_IN_SET(verb, "create", "list", "revoke") || (!streq(verb, "list") && !name)) {
                fputs(TOKEN_USAGE, stderr);
                return -EINVAL;
        }

        r = open_state(config, &db);
        if (r < 0)
                return r;

        if (streq(verb, "create")) {
                _cleanup_erase_free_ char *token = NULL;
                uint64_t expires_at = 0, secs;

                if (!token_name_is_valid(name)) {
                        fprintf(stderr, "Invalid token name '%s': use 1-64 of A-Z a-z 0-9 _ . @ -\n", name);
                        return -EINVAL;
                }
                if (expires) {
                        if (safe_atou64(expires, &secs) < 0 || secs == 0 || secs > 10 * 366 * 24 * 3600ULL) {
                                fprintf(stderr, "Invalid --expires-in '%s': seconds, at most ten years.\n", expires);
                                return -EINVAL;
                        }
                        expires_at = now_usec() + secs * USEC_PER_SEC;
                }
                r = token_account(db, account, name, true, &a);
                if (r == -EINVAL) {
                        fprintf(stderr, "'%s' cannot name an account; use --account.\n", name);
                        return r;
                }
                if (r < 0)
                        return r == -ENOENT ? r : log_error_errno(r, "Failed to find the token's account: %m");
                r = token_create(db, a->id, name, expires_at, &token);
                if (r == -EEXIST) {
                        fprintf(stderr, "A token named '%s' already exists in account '%s'.\n", name, a->name);
                        return r;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to create token: %m");
                /* The clear text exists only here; it is printed once and never logged. */
                printf("%s\n", token);
                AuditEntry e = { .actor = "cli", .action = "token.create", .target_kind = "token", .target = name,
                                 .result = AUDIT_OK, .source = "cli" };
                (void) audit_record(db, &e);
                return 0;
        }
        if (streq(verb, "list")) {
                _cleanup_(json_decrefp) json_t *list = NULL;
                json_t *t;
                size_t i;

                if (account) {
                        r = token_account(db, account, NULL, false, &a);
                        if (r < 0)
                                return r == -ENOENT ? r : log_error_errno(r, "Failed to read account: %m");
                }
                r = token_list(db, a ? a->id : 0, &list);
                if (r < 0)
                        return log_error_errno(r, "Failed to list tokens: %m");
                printf("%-20s %-24s %-22s %-22s %-22s %s\n", "ACCOUNT", "NAME", "CREATED", "EXPIRES", "LAST USED",
                       "REVOKED");
                json_array_foreach(list, i, t)
                        printf("%-20s %-24s %-22s %-22s %-22s %s\n", json_string_value(json_object_get(t, "account")),
                               json_string_value(json_object_get(t, "name")),
                               json_string_value(json_object_get(t, "created_at")) ?: "-",
                               json_string_value(json_object_get(t, "expires_at")) ?: "-",
                               json_string_value(json_object_get(t, "last_used_at")) ?: "-",
                               json_string_value(json_object_get(t, "revoked_at")) ?: "-");
                return 0;
        }
        r = token_account(db, account, name, false, &a);
        if (r == -ENOENT && !account) {
                fprintf(stderr, "No active token named '%s'.\n", name);
                return r;
        }
        if (r < 0)
                return r == -ENOENT ? r : log_error_errno(r, "Failed to read account: %m");
        r = token_revoke(db, a->id, name);
        if (r == -ENOENT) {
                fprintf(stderr, "No active token named '%s'.\n", name);
                return r;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to revoke token: %m");
        AuditEntry e = { .actor = "cli", .action = "token.revoke", .target_kind = "token", .target = name,
                         .result = AUDIT_OK, .source = "cli" };
        (void) audit_record(db, &e);
        return 0;
}

/* Prints, instead of applying, what a create task would put into the cluster for a new store. */
static int verb_render(const Config *config, int argc, char *argv[])
{
        const char *name = NULL, *id = "<store-id>", *why = NULL;
        int r;

        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--name") && i + 1 < argc)
                        name = argv[++i];
                else if (strncmp(argv[i], "--name=", 7) == 0)
                        name = argv[i] + 7;
                else if (streq(argv[i], "--id") && i + 1 < argc)
                        id = argv[++i];
                else if (strncmp(argv[i], "--id=", 5) == 0)
                        id = argv[i] + 5;
                else {
                        fprintf(stderr, "Unknown argument '%s'. Usage: render --name NAME [--id ID]\n", argv[i]);
                        return -EINVAL;
                }
        }
        if (!name) {
                fprintf(stderr, "Usage: render --name NAME [--id ID]\n");
                return -EINVAL;
        }
        /* The same rule as POST /api/v1/stores, so what is shown is what could be created. */
        if (store_name_validate(name, &why) < 0) {
                fprintf(stderr, "Invalid store name '%s': %s\n", name, why);
                return -EINVAL;
        }
        if (isempty(id) || strlen(id) > 63) {
                fprintf(stderr, "Invalid store id '%s': use 1-63 characters.\n", id);
                return -EINVAL;
        }
        r = provision_render(config, name, id, stdout);
        if (r < 0)
                return log_error_errno(r, "Failed to render store '%s': %m", name);
        return 0;
}

int main(int argc, char *argv[])
{
        _cleanup_(config_freep) Config *config = NULL;
        int r;

        /* Until the configuration says otherwise, logs go where systemd or the terminal expect them. */
        log_setup(LOG_TARGET_AUTO, LOG_INFO);

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        if (arg_list_routes) {
                for (size_t i = 0; i < api_routes_count; i++)
                        printf("%s %s\n", api_routes[i].method, api_routes[i].pattern);
                return EXIT_SUCCESS;
        }

        r = load_config(&config);
        if (r < 0)
                return EXIT_FAILURE;
        log_setup(log_target_from_string(config->log_format), log_level_from_string(config->log_level));

        if (arg_check_config) {
                printf("# effective configuration (%s)\n", arg_config ?: CONFIG_DEFAULT_PATH);
                config_dump(config, stdout);
                return EXIT_SUCCESS;
        }

        if (optind < argc) {
                if (streq(argv[optind], "account"))
                        return verb_account(config, argc - optind, argv + optind) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
                if (streq(argv[optind], "token"))
                        return verb_token(config, argc - optind, argv + optind) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
                if (streq(argv[optind], "render"))
                        return verb_render(config, argc - optind, argv + optind) < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
                fprintf(stderr, "Unknown command '%s'; see --help.\n", argv[optind]);
                return EXIT_FAILURE;
        }

        r = daemon_run(config, arg_config ?: CONFIG_DEFAULT_PATH, !!arg_config);
        return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
