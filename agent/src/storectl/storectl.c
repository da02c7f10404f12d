/* SPDX-License-Identifier: Apache-2.0 */

/*
 * storectl: the command line for storeagentd, over its D-Bus interface
 * (org.storeagent.Agent1 on the system bus). Human tables by default, the
 * daemon's JSON with --json; exit codes are documented in storectl(1).
 *
 * This file is main(): the help texts and picking the verb. The options are
 * in storectl-args.c, the commands in storectl-verbs.c, the bus calls in
 * storectl-bus.c and what is printed in storectl-output.c.
 */

#include <inttypes.h>
#include <locale.h>

#include "storectl/storectl-args.h"
#include "storectl/storectl-bus.h"
#include "storectl/storectl-verbs.h"

static void help_verb(const Verb *v)
{
        printf("storectl %s%s%s%s\n\n%s.\n\n%s", v->name, isempty(v->args) ? "" : " ", v->args,
               v->options ? " [OPTIONS]" : "", v->summary, v->description);
        printf("\nOptions:\n");
        if (v->options & OPT_WAIT)
                printf("  -w, --wait             follow the store until READY, FAILED or DELETED\n"
                       "      --timeout SEC      give up waiting after SEC seconds (default %" PRIu64 ")\n",
                       arg_timeout_sec);
        if (v->options & OPT_ENGINE)
                printf("      --engine ENGINE    the shop engine (default woocommerce; the only one so far)\n");
        if (v->options & OPT_STATUS)
                printf("      --status STATUS    only stores in STATUS: PROVISIONING, READY, FAILED, UPGRADING,\n"
                       "                         DELETING or DELETED\n");
        if (v->options & OPT_ALL)
                printf("  -a, --all              include deleted stores\n");
        if (v->options & OPT_LIMIT)
                printf("  -n, --limit N          the newest N events (default 100, at most 1000)\n");
        if (v->options & OPT_ROLE)
                printf("      --role ROLE        tenant (the default) or admin\n");
        if (v->options & OPT_LIMITS)
                printf("      --max-stores N     the cap on the account's active stores, or 'default'\n"
                       "      --creates-per-hour N\n"
                       "                         the cap on its store creations an hour, or 'default'\n");
        if (v->options & OPT_ACCOUNT)
                printf("      --account ACCOUNT  another account's tokens (admins only)\n");
        if (v->options & OPT_EXPIRES)
                printf("      --expires-in SEC   the token stops working after SEC seconds (default: never)\n");
        if (v->options & OPT_SETTINGS)
                printf("      --title TITLE      the shop's title\n"
                       "      --currency CODE    its currency, an ISO 4217 code such as EUR\n"
                       "      --country C[:S]    its base location, such as DE or US:CA\n"
                       "      --admin-email ADDR the administrator's e-mail address\n"
                       "                         (an empty value returns a setting to the chart's default)\n");
        printf("      --json             print the daemon's JSON instead of a table\n"
               "      --no-legend        leave out column headers and footers\n"
               "      --bus-address ADDR talk to the daemon on this D-Bus address instead of the system bus\n"
               "  -h, --help             this text\n");
}

static void help(void)
{
        printf("storectl %s: manage the WooCommerce stores of storeagentd.\n\n"
               "Usage: storectl [OPTIONS] COMMAND ...\n\nCommands:\n",
               PACKAGE_VERSION);
        for (size_t i = 0; i < n_verbs; i++) {
                char left[64];
                xsprintf(left, "%s %s", verbs[i].name, verbs[i].args);
                printf("  %-30s %s\n", left, verbs[i].summary);
        }
        printf("\nOptions:\n"
               "      --json             print the daemon's JSON instead of tables\n"
               "      --no-legend        leave out column headers and footers\n"
               "  -w, --wait             (create, delete, retry, upgrade, redeploy, settings, domain,\n"
               "                         rollback)\n"
               "                         follow the store until it settles\n"
               "      --timeout SEC      give up waiting after SEC seconds (default %" PRIu64 ")\n"
               "      --bus-address ADDR D-Bus address of the daemon (default: the system bus,\n"
               "                         or $DBUS_SYSTEM_BUS_ADDRESS)\n"
               "  -h, --help             this text; 'storectl COMMAND --help' explains one command\n"
               "      --version          print the version\n\n"
               "Exit status: 0 success, 1 failure, 2 usage error or invalid argument, 3 no such store,\n"
               "account or token, 4 refused (name taken, busy, wrong state, limit reached), 5 permission\n"
               "denied (not allowed to call, or an admin's command asked by a tenant).\n"
               "See storectl(1).\n",
               arg_timeout_sec);
}

static bool want_color(void)
{
        const char *term = getenv("TERM");

        if (getenv("NO_COLOR") || !isatty(STDOUT_FILENO))
                return false;
        return !(term && streq(term, "dumb"));
}

int main(int argc, char *argv[])
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        const Verb *v;
        int consumed = 0, n, r;

        setlocale(LC_ALL, "");
        arg_color = want_color();

        r = parse_argv(argc, argv);
        if (r < 0)
                return EXIT_USAGE;
        if (r == 0)
                return EXIT_OK;

        n = argc - optind;
        if (n == 0) {
                if (arg_help) {
                        help();
                        return EXIT_OK;
                }
                fprintf(stderr, "No command given. See 'storectl --help'.\n");
                return EXIT_USAGE;
        }
        v = find_verb(n, argv + optind, &consumed);
        if (!v) {
                if (STR_IN_SET(argv[optind], "token", "account", "webhook")) {
                        size_t len = strlen(argv[optind]);
                        if (arg_help) {
                                for (size_t i = 0; i < n_verbs; i++)
                                        if (strncmp(verbs[i].name, argv[optind], len) == 0 &&
                                            verbs[i].name[len] == ' ') {
                                                help_verb(&verbs[i]);
                                                printf("\n");
                                        }
                                return EXIT_OK;
                        }
                        if (streq(argv[optind], "token"))
                                fprintf(stderr, "Usage: storectl token create NAME | token list | token revoke NAME\n");
                        else if (streq(argv[optind], "webhook"))
                                fprintf(stderr, "Usage: storectl webhook list | webhook create URL [EVENT,...] |\n"
                                                "       webhook delete|pause|resume|test|deliveries ID\n");
                        else
                                fprintf(stderr, "Usage: storectl account list | account create NAME | account set NAME |\n"
                                                "       account disable NAME | account enable NAME\n");
                } else
                        fprintf(stderr, "Unknown command '%s'. See 'storectl --help'.\n", argv[optind]);
                return EXIT_USAGE;
        }
        if (arg_help) {
                help_verb(v);
                return EXIT_OK;
        }
        n -= consumed;
        if ((unsigned) n < v->min_args || (unsigned) n > v->max_args) {
                fprintf(stderr, "Usage: storectl %s %s\nSee 'storectl %s --help'.\n", v->name, v->args, v->name);
                return EXIT_USAGE;
        }
        if (arg_given & ~v->options) {
                fprintf(stderr, "'storectl %s' does not take %s. See 'storectl %s --help'.\n", v->name,
                        arg_given & ~v->options & OPT_WAIT      ? "--wait or --timeout"
                        : arg_given & ~v->options & OPT_STATUS  ? "--status"
                        : arg_given & ~v->options & OPT_ALL     ? "--all"
                        : arg_given & ~v->options & OPT_LIMIT   ? "--limit"
                        : arg_given & ~v->options & OPT_ROLE    ? "--role"
                        : arg_given & ~v->options & OPT_LIMITS  ? "--max-stores or --creates-per-hour"
                        : arg_given & ~v->options & OPT_ACCOUNT ? "--account"
                        : arg_given & ~v->options & OPT_EXPIRES ? "--expires-in"
                        : arg_given & ~v->options & OPT_SETTINGS ? "--title, --currency, --country or --admin-email"
                        : arg_given & ~v->options & OPT_LOGS    ? "--follow, --container or --tail"
                                                                : "--engine",
                        v->name);
                return EXIT_USAGE;
        }
        if (arg_all && arg_status) {
                fprintf(stderr, "--all and --status do not go together.\n");
                return EXIT_USAGE;
        }

        r = bus_connect(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to %s: %s\n", arg_bus_address ?: "the system bus", strerror(-r));
                return r == -EACCES || r == -EPERM ? EXIT_DENIED : EXIT_FAIL;
        }
        return v->run(bus, argv + optind + consumed);
}
