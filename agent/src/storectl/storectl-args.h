/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * storectl's command line as the user wrote it: the options and their
 * defaults, and the exit codes that answer a script (both documented in
 * storectl(1)). Everything else in storectl reads these; they are set once,
 * by parse_argv(), before any command runs.
 */

#include <stdbool.h>
#include <stdint.h>

#include "basic/macro.h"

#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_NOT_FOUND 3
#define EXIT_REFUSED 4
#define EXIT_DENIED 5

/* Which options a verb takes. */
enum {
        OPT_WAIT = 1 << 0,
        OPT_STATUS = 1 << 1,
        OPT_LIMIT = 1 << 2,
        OPT_ENGINE = 1 << 3,
        OPT_ALL = 1 << 4,
        OPT_ROLE = 1 << 5,
        OPT_LIMITS = 1 << 6,
        OPT_ACCOUNT = 1 << 7,
        OPT_EXPIRES = 1 << 8,
        OPT_LOGS = 1 << 9, /* --follow, --container, --tail */
        OPT_SETTINGS = 1 << 10, /* --title, --currency, --country, --admin-email */
};

/* --max-stores and --creates-per-hour not given; -1 is "default" (the configured value). */
#define LIMIT_UNSET INT64_MIN

extern bool arg_json;
extern bool arg_legend;
extern bool arg_wait;
extern bool arg_help;
extern bool arg_all;
extern const char *arg_bus_address;
extern const char *arg_status;
extern const char *arg_engine;
extern uint32_t arg_limit;
extern uint64_t arg_timeout_sec;
extern const char *arg_role;
extern int64_t arg_max_stores;
extern int64_t arg_creates_per_hour;
extern const char *arg_account;
extern uint64_t arg_expires_in;
extern bool arg_follow;
/* The store settings given ("" for the chart's default), NULL for those not given. */
extern const char *arg_title, *arg_currency, *arg_country, *arg_admin_email;
extern const char *arg_container;
extern uint64_t arg_tail;
extern unsigned arg_given; /* OPT_* of the options given, to refuse those a verb does not take */
extern bool arg_color;

/* 1 to go on, 0 when done (--version), -EINVAL after printing what is wrong. */
int parse_argv(int argc, char *argv[]);
