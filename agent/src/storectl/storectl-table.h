/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Column-aligned tables for storectl's human output: cells are added row by
 * row, widths come from the content, and an optional colour applies to one
 * cell without counting towards its width.
 */

#include <stdio.h>

#include "basic/macro.h"

typedef struct Table Table;

/*
 * Replaces, in place, what a terminal would obey instead of print (C0 and C1 control characters,
 * DEL) with '?': names, reasons and credentials come from users and the cluster, and an escape
 * sequence in one must not reach the terminal. Returns s.
 */
char *strip_control(char *s);

int table_new(Table **ret, size_t n_columns, ...);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);

/* Adds one cell to the current row (a new row starts after n_columns cells); NULL prints as "-". */
int table_add(Table *t, const char *cell);
/* Like table_add(), with an ANSI colour sequence ("" for none) used when the table is printed in colour. */
int table_add_colored(Table *t, const char *cell, const char *color);
size_t table_rows(const Table *t);
/* The last column is never padded; a row that would be wider than the terminal is left as it is. */
void table_print(const Table *t, FILE *f, bool header, bool color);
