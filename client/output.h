/* output: what berthctl prints, apart from the verbs themselves: aligned tables, JSON strings,
 * colour (on a tty only, never with NO_COLOR), glyphs (UTF-8 only in a UTF-8 locale) and
 * systemctl's timestamps. Pure apart from the FILE it writes to and the environment it reads
 * once in output_init(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/macro.h"

#define ANSI_NORMAL "\x1b[0m"
#define ANSI_HIGHLIGHT "\x1b[0;1;39m"
#define ANSI_GREEN "\x1b[0;1;32m"
#define ANSI_RED "\x1b[0;1;31m"
#define ANSI_YELLOW "\x1b[0;1;33m"
#define ANSI_GREY "\x1b[0;38;5;245m"

/* Decides colour and glyphs once: colour when no_color is false, NO_COLOR is unset or empty,
 * TERM is not "dumb" and stdout is a tty; UTF-8 glyphs when the locale's charset is UTF-8. */
void output_init(bool no_color);

/* The escape sequence when colour is on, else "". Never NULL. */
const char *ansi(const char *seq);

/* "●" or "*"; "└─" or "`-"; "├─" or "|-". */
const char *glyph_dot(void);
const char *glyph_tree_last(void);
const char *glyph_tree_branch(void);

/* Writes s as a JSON string with its quotes. Escapes '"', '\\' and every control character;
 * s is valid UTF-8 (D-Bus guarantees it), written through unchanged. NULL writes null. */
void json_write_string(FILE *f, const char *s);

/* "Sat 2026-11-21 00:55:39 UTC" in the local time zone, for a CLOCK_REALTIME time in usec.
 * Returns buf, or "n/a" for 0. */
#define TIMESTAMP_MAX 64
const char *format_timestamp(char *buf, size_t buflen, usec_t t);
/* systemctl's relative time for the distance between t and now: "3min 2s ago", "2h 5min ago",
 * "3 days ago", "now"; "left" instead of "ago" for the future. Returns buf. */
const char *format_timestamp_relative(char *buf, size_t buflen, usec_t t, usec_t now);

/* A table of text cells: aligned columns, a header row, no trailing spaces. Cells are
 * copied. At most TABLE_CELLS_MAX cells; table_add() returns -E2BIG past it. */
#define TABLE_COLUMNS_MAX 16
#define TABLE_CELLS_MAX (1U << 22)

typedef struct TableCell {
        char *text;
        const char *color; /* an ANSI_* sequence or NULL; applied only when colour is on */
} TableCell;

typedef struct Table {
        size_t n_columns;
        const char *headers[TABLE_COLUMNS_MAX]; /* borrowed: string literals */
        bool right[TABLE_COLUMNS_MAX];          /* right-aligned (numbers) */
        TableCell *cells;
        size_t n_cells, n_allocated;
} Table;

/* headers: n_columns string literals, borrowed. A header that starts with '>' is the name of a
 * right-aligned column (the '>' is not printed). Returns 0, -EINVAL or -ENOMEM. */
int table_new(Table **ret, size_t n_columns, const char *const *headers);
Table *table_free(Table *t);
static inline void table_freep(Table **t) {
        *t = table_free(*t);
}

/* Appends one cell (rows fill left to right). text NULL is shown as "-". */
int table_add(Table *t, const char *text, const char *color);
/* Appends a number. */
int table_add_u64(Table *t, uint64_t v);

/* Prints the rows, with the header row when header is true. Columns are two spaces apart,
 * padded to the widest cell (in characters, not bytes); the last column is not padded. */
void table_print(const Table *t, FILE *f, bool header);
size_t table_rows(const Table *t);
