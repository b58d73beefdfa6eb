/* output: tables, JSON strings, colour, glyphs and timestamps for berthctl; see output.h. */
#include <langinfo.h>
#include <locale.h>
#include <time.h>

#include "client/output.h"

static bool use_color = false;
static bool use_utf8 = false;

void output_init(bool no_color) {
        const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
        const char *cs;

        /* Only the character set: day names and numbers stay as systemctl prints them. */
        if (setlocale(LC_CTYPE, ""))
                cs = nl_langinfo(CODESET);
        else
                cs = NULL;
        use_utf8 = cs && (streq(cs, "UTF-8") || streq(cs, "utf8"));

        use_color = !no_color && !(nc && nc[0]) && !(term && streq(term, "dumb")) &&
                    isatty(STDOUT_FILENO);
}

const char *ansi(const char *seq) {
        return use_color && seq ? seq : "";
}

const char *glyph_dot(void) {
        return use_utf8 ? "\u25cf" : "*";
}

const char *glyph_tree_last(void) {
        return use_utf8 ? "\u2514\u2500" : "`-";
}

const char *glyph_tree_branch(void) {
        return use_utf8 ? "\u251c\u2500" : "|-";
}

void json_write_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\b':
                        fputs("\\b", f);
                        break;
                case '\f':
                        fputs("\\f", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        fputc('"', f);
}

const char *format_timestamp(char *buf, size_t buflen, usec_t t) {
        time_t sec = (time_t) (t / USEC_PER_SEC);
        struct tm tm;

        if (t == 0 || t == USEC_INFINITY || !localtime_r(&sec, &tm) ||
            strftime(buf, buflen, "%a %Y-%m-%d %H:%M:%S %Z", &tm) == 0)
                snprintf(buf, buflen, "n/a");
        return buf;
}

#define USEC_PER_WEEK (7ULL * USEC_PER_DAY)
#define USEC_PER_MONTH (2629800ULL * USEC_PER_SEC) /* 30.44 days, as systemd */
#define USEC_PER_YEAR (31557600ULL * USEC_PER_SEC) /* 365.25 days */

static const char *plural(unsigned long long n, const char *one, const char *many) {
        return n == 1 ? one : many;
}

const char *format_timestamp_relative(char *buf, size_t buflen, usec_t t, usec_t now) {
        const char *suffix = t <= now ? "ago" : "left";
        unsigned long long d = t <= now ? now - t : t - now;

        /* Two units at most, the larger ones first, as systemctl status prints them. */
        if (d >= USEC_PER_YEAR) {
                unsigned long long y = d / USEC_PER_YEAR, mo = (d % USEC_PER_YEAR) / USEC_PER_MONTH;
                snprintf(buf, buflen, "%llu %s %llu %s %s", y, plural(y, "year", "years"), mo,
                         plural(mo, "month", "months"), suffix);
        } else if (d >= USEC_PER_MONTH) {
                unsigned long long mo = d / USEC_PER_MONTH;
                unsigned long long dd = (d % USEC_PER_MONTH) / USEC_PER_DAY;
                snprintf(buf, buflen, "%llu %s %llu %s %s", mo, plural(mo, "month", "months"), dd,
                         plural(dd, "day", "days"), suffix);
        } else if (d >= USEC_PER_WEEK) {
                unsigned long long w = d / USEC_PER_WEEK, dd = (d % USEC_PER_WEEK) / USEC_PER_DAY;
                snprintf(buf, buflen, "%llu %s %llu %s %s", w, plural(w, "week", "weeks"), dd,
                         plural(dd, "day", "days"), suffix);
        } else if (d >= 2 * USEC_PER_DAY)
                snprintf(buf, buflen, "%llu days %s", d / USEC_PER_DAY, suffix);
        else if (d >= 25 * USEC_PER_HOUR)
                snprintf(buf, buflen, "1 day %lluh %s", (d - USEC_PER_DAY) / USEC_PER_HOUR, suffix);
        else if (d >= 6 * USEC_PER_HOUR)
                snprintf(buf, buflen, "%lluh %s", d / USEC_PER_HOUR, suffix);
        else if (d >= USEC_PER_HOUR)
                snprintf(buf, buflen, "%lluh %llumin %s", d / USEC_PER_HOUR,
                         (d % USEC_PER_HOUR) / USEC_PER_MINUTE, suffix);
        else if (d >= 5 * USEC_PER_MINUTE)
                snprintf(buf, buflen, "%llumin %s", d / USEC_PER_MINUTE, suffix);
        else if (d >= USEC_PER_MINUTE)
                snprintf(buf, buflen, "%llumin %llus %s", d / USEC_PER_MINUTE,
                         (d % USEC_PER_MINUTE) / USEC_PER_SEC, suffix);
        else if (d >= USEC_PER_SEC)
                snprintf(buf, buflen, "%llus %s", d / USEC_PER_SEC, suffix);
        else if (d >= USEC_PER_MSEC)
                snprintf(buf, buflen, "%llums %s", d / USEC_PER_MSEC, suffix);
        else if (d > 0)
                snprintf(buf, buflen, "%lluus %s", d, suffix);
        else
                snprintf(buf, buflen, "now");
        return buf;
}

int table_new(Table **ret, size_t n_columns, const char *const *headers) {
        Table *t;

        if (n_columns == 0 || n_columns > TABLE_COLUMNS_MAX)
                return -EINVAL;
        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->n_columns = n_columns;
        for (size_t i = 0; i < n_columns; i++) {
                t->right[i] = headers[i][0] == '>';
                t->headers[i] = headers[i] + t->right[i];
        }
        *ret = t;
        return 0;
}

Table *table_free(Table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i].text);
        free(t->cells);
        free(t);
        return NULL;
}

int table_add(Table *t, const char *text, const char *color) {
        char *copy;

        if (t->n_cells >= TABLE_CELLS_MAX)
                return -E2BIG;
        if (t->n_cells == t->n_allocated) {
                size_t n = MAX(t->n_allocated * 2, (size_t) 64);
                TableCell *c = realloc(t->cells, n * sizeof *c);
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->n_allocated = n;
        }
        copy = strdup(text ?: "-");
        if (!copy)
                return -ENOMEM;
        /* A cell is one line: a newline or tab would break the columns. */
        for (char *p = copy; *p; p++)
                if (*p == '\n' || *p == '\t' || *p == '\r')
                        *p = ' ';
        t->cells[t->n_cells++] = (TableCell) { .text = copy, .color = color };
        return 0;
}

int table_add_u64(Table *t, uint64_t v) {
        char buf[32];

        snprintf(buf, sizeof buf, "%llu", (unsigned long long) v);
        return table_add(t, buf, NULL);
}

size_t table_rows(const Table *t) {
        return t->n_cells / t->n_columns;
}

/* Characters, not bytes: UTF-8 continuation bytes do not count. */
static size_t text_width(const char *s) {
        size_t w = 0;

        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p & 0xc0) != 0x80)
                        w++;
        return w;
}

/* n spaces, without a format to parse: a table of 10,000 rows has 100,000 cells. */
static void put_spaces(FILE *f, size_t n) {
        static const char spaces[] = "                                                        ";

        while (n > 0) {
                size_t k = MIN(n, sizeof spaces - 1);
                fwrite(spaces, 1, k, f);
                n -= k;
        }
}

static void print_cell(FILE *f, const char *text, const char *color, size_t width, bool right,
                       bool last) {
        size_t pad = width - MIN(width, text_width(text));

        if (right)
                put_spaces(f, pad);
        if (text[0]) {
                fputs(ansi(color), f);
                fputs(text, f);
                if (color)
                        fputs(ansi(ANSI_NORMAL), f);
        }
        if (!right && !last)
                put_spaces(f, pad);
}

void table_print(const Table *t, FILE *f, bool header) {
        size_t width[TABLE_COLUMNS_MAX] = {}, rows = table_rows(t);

        for (size_t c = 0; c < t->n_columns; c++)
                if (header)
                        width[c] = text_width(t->headers[c]);
        for (size_t i = 0; i < rows * t->n_columns; i++)
                width[i % t->n_columns] = MAX(width[i % t->n_columns],
                                              text_width(t->cells[i].text));

        if (header) {
                for (size_t c = 0; c < t->n_columns; c++) {
                        if (c > 0)
                                fputs("  ", f);
                        print_cell(f, t->headers[c], ANSI_HIGHLIGHT, width[c], t->right[c],
                                   c + 1 == t->n_columns);
                }
                fputc('\n', f);
        }
        for (size_t r = 0; r < rows; r++) {
                const TableCell *row = &t->cells[r * t->n_columns];
                size_t end = t->n_columns;

                /* Empty cells at the end of a row print nothing, not even their separator. */
                while (end > 1 && !row[end - 1].text[0])
                        end--;
                for (size_t c = 0; c < end; c++) {
                        if (c > 0)
                                fputs("  ", f);
                        print_cell(f, row[c].text, row[c].color, width[c], t->right[c],
                                   c + 1 == end);
                }
                fputc('\n', f);
        }
}
