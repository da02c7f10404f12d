/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What storectl prints about stores and events; tables follow --no-legend and colour. */

#include <jansson.h>
#include <stdbool.h>

#include "basic/macro.h"

#define ANSI_RED "\x1b[31m"
#define ANSI_GREEN "\x1b[32m"
#define ANSI_YELLOW "\x1b[33m"
#define ANSI_GREY "\x1b[90m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_RESET "\x1b[0m"

/* A string member of a JSON object, NULL when missing or not a string. */
const char *jstr(const json_t *o, const char *key);
const char *status_color(const char *status);
/* READY, FAILED and DELETED: nothing more happens to the store on its own. */
bool status_is_final(const char *status);
/* "5s", "12m", "3h", "4d": how long ago, for tables. */
char *format_age(char buf[static 32], const char *iso);
/* "helm-install (2/5)" from step and progress; NULL when the store is not working on anything. */
char *format_progress(char buf[static 128], const json_t *store);
void print_json(const json_t *v);

/* "       Label: value", the value stripped of control characters; nothing when value is NULL. */
void print_field(const char *label, const char *value, const char *color);
int print_store_table(const json_t *stores);
void print_store(const json_t *s);
int print_events_table(const json_t *events);
