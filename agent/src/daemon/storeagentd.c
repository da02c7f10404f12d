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
               "  storeagentd [--config PATH] token create --name NAME\n"
               "  storeagentd [--config PATH] token list\n"
               "  storeagentd [--config PATH] token revoke NAME\n"
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
        _cleanup_free_ char *dir = strdup(config->database);
        int r;

        if (!dir)
                return log_oom();
        r = mkdir_p(dirname(dir), 0750);
        if (r < 0)
                return log_error_errno(r, "Failed to create the database directory for '%s': %m", config->database);
        r = db_open(config->database, ret);
        if (r < 0)
                return log_error_errno(r, "Failed to open database '%s': %m", config->database);
        return 0;
}

static int verb_token(const Config *config, int argc, char *argv[])
{
        _cleanup_(db_closep) Db *db = NULL;
        const char *verb = argc > 1 ? argv[1] : NULL;
        int r;

        r = open_state(config, &db);
        if (r < 0)
                return r;

        if (streq_ptr(verb, "create")) {
                _cleanup_erase_free_ char *token = NULL;
                const char *name = NULL;

                for (int i = 2; i < argc; i++) {
                        if (streq(argv[i], "--name") && i + 1 < argc)
                                name = argv[++i];
                        else if (strncmp(argv[i], "--name=", 7) == 0)
                                name = argv[i] + 7;
                        else {
                                fprintf(stderr, "Unknown argument '%s'. Usage: token create --name NAME\n", argv[i]);
                                return -EINVAL;
                        }
                }
                if (!name) {
                        fprintf(stderr, "Usage: token create --name NAME\n");
                        return -EINVAL;
                }
                if (!token_name_is_valid(name)) {
                        fprintf(stderr, "Invalid token name '%s': use 1-64 of A-Z a-z 0-9 _ . @ -\n", name);
                        return -EINVAL;
                }
                r = token_create(db, name, &token);
                if (r == -EEXIST) {
                        fprintf(stderr, "A token named '%s' already exists.\n", name);
                        return r;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to create token: %m");
                /* The clear text exists only here; it is printed once and never logged. */
                printf("%s\n", token);
                log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", "cli", "ACTION", "token.create", "TOKEN_NAME", name),
                           "API token '%s' created.", name);
                return 0;
        }
        if (streq_ptr(verb, "list")) {
                _cleanup_(json_decrefp) json_t *list = NULL;
                json_t *t;
                size_t i;

                r = token_list(db, &list);
                if (r < 0)
                        return log_error_errno(r, "Failed to list tokens: %m");
                printf("%-24s %-22s %-22s %s\n", "NAME", "CREATED", "LAST USED", "REVOKED");
                json_array_foreach(list, i, t)
                        printf("%-24s %-22s %-22s %s\n", json_string_value(json_object_get(t, "name")),
                               json_string_value(json_object_get(t, "created_at")) ?: "-",
                               json_string_value(json_object_get(t, "last_used_at")) ?: "-",
                               json_string_value(json_object_get(t, "revoked_at")) ?: "-");
                return 0;
        }
        if (streq_ptr(verb, "revoke") && argc == 3) {
                r = token_revoke(db, argv[2]);
                if (r == -ENOENT) {
                        fprintf(stderr, "No active token named '%s'.\n", argv[2]);
                        return r;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to revoke token: %m");
                log_struct(LOG_NOTICE, LOG_FIELDS("ACTOR", "cli", "ACTION", "token.revoke", "TOKEN_NAME", argv[2]),
                           "API token '%s' revoked.", argv[2]);
                return 0;
        }
        fprintf(stderr, "Usage: token create --name NAME | token list | token revoke NAME\n");
        return -EINVAL;
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
