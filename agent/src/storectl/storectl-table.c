/* SPDX-License-Identifier: Apache-2.0 */

#include <stdarg.h>
#include <wchar.h>

#include "storectl/storectl-table.h"

#define ANSI_RESET "\x1b[0m"
#define ANSI_BOLD "\x1b[1m"

typedef struct Cell {
        char *text;
        const char *color;
} Cell;

struct Table {
        size_t n_columns;
        Cell *cells; /* header row first */
        size_t n_cells, allocated;
};

Table *table_free(Table *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i].text);
        free(t->cells);
        free(t);
        return NULL;
}

char *strip_control(char *s)
{
        char *w = s;

        assert(s);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        *w++ = '?';
                else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                        /* U+0080..U+009F in UTF-8: C1 controls such as CSI. */
                        *w++ = '?';
                        p++;
                } else
                        *w++ = (char) *p;
        }
        *w = '\0';
        return s;
}

static int table_push(Table *t, const char *text, const char *color)
{
        char *s;

        if (t->n_cells == t->allocated) {
                size_t n = t->allocated ? t->allocated * 2 : 32;
                Cell *c = reallocarray(t->cells, n, sizeof *c);
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->allocated = n;
        }
        s = strdup(text ?: "-");
        if (!s)
                return -ENOMEM;
        /* One line per row: a newline in a reason would break the columns. */
        for (char *p = s; *p; p++)
                if (*p == '\n' || *p == '\t' || *p == '\r')
                        *p = ' ';
        strip_control(s);
        t->cells[t->n_cells++] = (Cell){ .text = s, .color = color };
        return 0;
}

int table_new(Table **ret, size_t n_columns, ...)
{
        _cleanup_(table_freep) Table *t = NULL;
        va_list ap;
        int r = 0;

        assert(ret);
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->n_columns = n_columns;
        va_start(ap, n_columns);
        for (size_t i = 0; i < n_columns && r >= 0; i++)
                r = table_push(t, va_arg(ap, const char *), ANSI_BOLD);
        va_end(ap);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int table_add(Table *t, const char *cell)
{
        assert(t);
        return table_push(t, cell, NULL);
}

int table_add_colored(Table *t, const char *cell, const char *color)
{
        assert(t);
        return table_push(t, cell, isempty(color) ? NULL : color);
}

size_t table_rows(const Table *t)
{
        assert(t);
        return t->n_cells / t->n_columns - 1;
}

/* Display width of UTF-8 text; names and details may hold any Unicode. */
static size_t text_width(const char *s)
{
        mbstate_t st = {};
        size_t w = 0;
        wchar_t wc;

        while (*s) {
                size_t n = mbrtowc(&wc, s, MB_CUR_MAX, &st);
                if (n == (size_t) -1 || n == (size_t) -2 || n == 0) {
                        /* Not valid in this locale: count bytes. */
                        return w + strlen(s);
                }
                int cw = wcwidth(wc);
                w += cw > 0 ? (size_t) cw : 0;
                s += n;
        }
        return w;
}

void table_print(const Table *t, FILE *f, bool header, bool color)
{
        size_t widths[16] = {};
        size_t nc;

        assert(t);
        assert(f);
        nc = MIN(t->n_columns, ELEMENTSOF(widths));
        for (size_t i = header ? 0 : nc; i < t->n_cells; i++)
                widths[i % t->n_columns] = MAX(widths[i % t->n_columns], text_width(t->cells[i].text));

        for (size_t i = header ? 0 : t->n_columns; i < t->n_cells; i++) {
                size_t col = i % t->n_columns;
                const Cell *c = &t->cells[i];
                bool last = col == t->n_columns - 1;

                if (color && c->color)
                        fprintf(f, "%s%s%s", c->color, c->text, ANSI_RESET);
                else
                        fputs(c->text, f);
                if (last)
                        fputc('\n', f);
                else
                        fprintf(f, "%*s", (int) (widths[col] - text_width(c->text) + 2), "");
        }
}
