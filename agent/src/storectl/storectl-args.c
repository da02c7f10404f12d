/* SPDX-License-Identifier: Apache-2.0 */

/* The command line: the options, their defaults, and parsing them. */

#include <getopt.h>

#include "storectl/storectl-args.h"

bool arg_json = false;
bool arg_legend = true;
bool arg_wait = false;
bool arg_help = false;
bool arg_all = false;
const char *arg_bus_address = NULL;
const char *arg_status = NULL;
const char *arg_engine = "woocommerce";
uint32_t arg_limit = 0;
uint64_t arg_timeout_sec = 1200;
const char *arg_role = "tenant";
int64_t arg_max_stores = LIMIT_UNSET;
int64_t arg_creates_per_hour = LIMIT_UNSET;
const char *arg_account = NULL;
uint64_t arg_expires_in = 0;
bool arg_follow = false;
const char *arg_title = NULL, *arg_currency = NULL, *arg_country = NULL, *arg_admin_email = NULL;
const char *arg_container = NULL;
uint64_t arg_tail = 200;
unsigned arg_given = 0;
bool arg_color = false;

/* A limit: a count up to a million, or "default" (-1). */
static int parse_limit(const char *opt, const char *s, int64_t *ret)
{
        unsigned long long v;
        char *end;

        if (streq(s, "default")) {
                *ret = -1;
                return 0;
        }
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end || s[0] == '-' || v > 1000000) {
                fprintf(stderr, "%s takes a number from 0 to 1000000, or 'default', not '%s'.\n", opt, s);
                return -EINVAL;
        }
        *ret = (int64_t) v;
        return 0;
}

int parse_argv(int argc, char *argv[])
{
        enum {
                ARG_JSON = 0x100,
                ARG_NO_LEGEND,
                ARG_BUS_ADDRESS,
                ARG_TIMEOUT,
                ARG_STATUS,
                ARG_ENGINE,
                ARG_VERSION,
                ARG_ROLE,
                ARG_MAX_STORES,
                ARG_CREATES_PER_HOUR,
                ARG_ACCOUNT,
                ARG_EXPIRES_IN,
                ARG_CONTAINER,
                ARG_TAIL,
                ARG_TITLE,
                ARG_CURRENCY,
                ARG_COUNTRY,
                ARG_ADMIN_EMAIL,
        };
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "no-legend", no_argument, NULL, ARG_NO_LEGEND },
                { "wait", no_argument, NULL, 'w' },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "status", required_argument, NULL, ARG_STATUS },
                { "all", no_argument, NULL, 'a' },
                { "engine", required_argument, NULL, ARG_ENGINE },
                { "limit", required_argument, NULL, 'n' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "role", required_argument, NULL, ARG_ROLE },
                { "max-stores", required_argument, NULL, ARG_MAX_STORES },
                { "creates-per-hour", required_argument, NULL, ARG_CREATES_PER_HOUR },
                { "account", required_argument, NULL, ARG_ACCOUNT },
                { "expires-in", required_argument, NULL, ARG_EXPIRES_IN },
                { "follow", no_argument, NULL, 'f' },
                { "container", required_argument, NULL, ARG_CONTAINER },
                { "tail", required_argument, NULL, ARG_TAIL },
                { "title", required_argument, NULL, ARG_TITLE },
                { "currency", required_argument, NULL, ARG_CURRENCY },
                { "country", required_argument, NULL, ARG_COUNTRY },
                { "admin-email", required_argument, NULL, ARG_ADMIN_EMAIL },
                {},
        };
        char *end;
        int c;

        assert(argv);
        while ((c = getopt_long(argc, argv, "hwafn:", options, NULL)) >= 0)
                switch (c) {
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_NO_LEGEND:
                        arg_legend = false;
                        break;
                case 'w':
                        arg_wait = true;
                        arg_given |= OPT_WAIT;
                        break;
                case ARG_TIMEOUT:
                        errno = 0;
                        arg_timeout_sec = strtoull(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || arg_timeout_sec == 0 || arg_timeout_sec > 86400) {
                                fprintf(stderr, "--timeout takes seconds from 1 to 86400, not '%s'.\n", optarg);
                                return -EINVAL;
                        }
                        arg_given |= OPT_WAIT;
                        break;
                case ARG_BUS_ADDRESS:
                        arg_bus_address = optarg;
                        break;
                case ARG_STATUS:
                        arg_status = optarg;
                        arg_given |= OPT_STATUS;
                        break;
                case 'a':
                        arg_all = true;
                        arg_given |= OPT_ALL;
                        break;
                case ARG_ENGINE:
                        arg_engine = optarg;
                        arg_given |= OPT_ENGINE;
                        break;
                case 'n': {
                        unsigned long v;
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || v == 0 || v > 1000) {
                                fprintf(stderr, "--limit takes a number from 1 to 1000, not '%s'.\n", optarg);
                                return -EINVAL;
                        }
                        arg_limit = (uint32_t) v;
                        arg_given |= OPT_LIMIT;
                        break;
                }
                case 'h':
                        arg_help = true;
                        break;
                case ARG_ROLE:
                        if (!STR_IN_SET(optarg, "tenant", "admin")) {
                                fprintf(stderr, "--role is tenant or admin, not '%s'.\n", optarg);
                                return -EINVAL;
                        }
                        arg_role = optarg;
                        arg_given |= OPT_ROLE;
                        break;
                case ARG_MAX_STORES:
                        if (parse_limit("--max-stores", optarg, &arg_max_stores) < 0)
                                return -EINVAL;
                        arg_given |= OPT_LIMITS;
                        break;
                case ARG_CREATES_PER_HOUR:
                        if (parse_limit("--creates-per-hour", optarg, &arg_creates_per_hour) < 0)
                                return -EINVAL;
                        arg_given |= OPT_LIMITS;
                        break;
                case ARG_ACCOUNT:
                        arg_account = optarg;
                        arg_given |= OPT_ACCOUNT;
                        break;
                case ARG_EXPIRES_IN:
                        errno = 0;
                        arg_expires_in = strtoull(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || optarg[0] == '-' || arg_expires_in == 0 ||
                            arg_expires_in > UINT64_C(10) * 366 * 24 * 3600) {
                                fprintf(stderr, "--expires-in takes seconds, from 1 to ten years, not '%s'.\n",
                                        optarg);
                                return -EINVAL;
                        }
                        arg_given |= OPT_EXPIRES;
                        break;
                case 'f':
                        arg_follow = true;
                        arg_given |= OPT_LOGS;
                        break;
                case ARG_CONTAINER:
                        arg_container = optarg;
                        arg_given |= OPT_LOGS;
                        break;
                case ARG_TAIL:
                        errno = 0;
                        arg_tail = strtoull(optarg, &end, 10);
                        if (errno != 0 || end == optarg || *end || optarg[0] == '-' || arg_tail > 1000000) {
                                fprintf(stderr, "--tail takes a number of lines (0: all), not '%s'.\n",
                                        optarg);
                                return -EINVAL;
                        }
                        arg_given |= OPT_LOGS;
                        break;
                case ARG_TITLE:
                        arg_title = optarg;
                        arg_given |= OPT_SETTINGS;
                        break;
                case ARG_CURRENCY:
                        arg_currency = optarg;
                        arg_given |= OPT_SETTINGS;
                        break;
                case ARG_COUNTRY:
                        arg_country = optarg;
                        arg_given |= OPT_SETTINGS;
                        break;
                case ARG_ADMIN_EMAIL:
                        arg_admin_email = optarg;
                        arg_given |= OPT_SETTINGS;
                        break;
                case ARG_VERSION:
                        printf("storectl %s\n", PACKAGE_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        return 1;
}
