/* unit-lexer: systemd's lexing rules on top of libinih. The design is described in
 * unit-lexer.h: the reader lexes physical lines itself and feeds libinih synthetic lines that
 * index a side table, so libinih's short line buffer and comment rules can never cut a value. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <ini.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/unit-lexer.h"

#define WHITESPACE " \t\n\r"
#define KEY_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
#define UTF8_BOM "\xef\xbb\xbf"
/* How much of a line to quote in a message. */
#define QUOTE_MAX 64

typedef enum EntryKind {
        ENTRY_SECTION,
        ENTRY_ASSIGNMENT,
} EntryKind;

/* One row of the side table. */
typedef struct Entry {
        EntryKind kind;
        char *section;       /* the section's name (both kinds) */
        size_t section_index; /* ENTRY_ASSIGNMENT: table index of its section's entry */
        char *key;           /* ENTRY_ASSIGNMENT */
        char *value;         /* ENTRY_ASSIGNMENT */
        unsigned line;       /* where the logical line starts */
} Entry;

typedef struct Lexer {
        const char *path;
        FILE *f;             /* borrowed; or NULL and text */
        const char *text;
        size_t text_pos;
        UnitLexerFunc fn;
        UnitDiagFunc diag;
        void *userdata;

        unsigned line;       /* physical lines read so far */
        size_t total;        /* bytes read so far */
        bool stop;           /* file too large: behave as at its end */

        char *phys;          /* the current physical line, NUL-terminated */
        size_t phys_len, phys_cap;
        bool phys_continues; /* it ends in an unescaped backslash */

        char *logical;       /* the logical line being joined */
        size_t logical_len, logical_cap;
        unsigned logical_line;
        bool continuing;     /* the last line ended in a backslash */
        bool skipping;       /* dropping the rest of a continuation that grew too long */

        bool have_section;
        bool section_bad;    /* the last header was invalid: drop its assignments silently */
        size_t section_index;
        char *section_name;

        /* The side table is a queue: entries [base, base + n) are not yet handed to fn.
         * libinih consumes each synthetic line before it asks for the next, so it stays tiny;
         * indexes keep counting up over the whole file. */
        Entry *queue;
        size_t n_queue, cap_queue;
        size_t base;         /* table index of queue[0] */
        size_t delivered;    /* table index of the next entry to hand to fn */

        unsigned n_errors;
        int error;           /* first fatal error, a negative errno */
} Lexer;

_printf_(4, 5) static void lexer_report(Lexer *l, int level, unsigned line, const char *fmt, ...) {
        char buf[1024];
        va_list ap;

        if (level <= LOG_ERR)
                l->n_errors++;
        if (!l->diag)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        l->diag(level, l->path, line, buf, l->userdata);
}

static const char *quote_cut(const char *s, char *buf, size_t size) {
        return message_quote(s, QUOTE_MAX, buf, size);
}

static void entry_done(Entry *e) {
        free(e->section);
        free(e->key);
        free(e->value);
        *e = (Entry) {};
}

static void lexer_done(Lexer *l) {
        for (size_t i = 0; i < l->n_queue; i++)
                entry_done(&l->queue[i]);
        free(l->queue);
        free(l->phys);
        free(l->logical);
        free(l->section_name);
}

static int grow(char **buf, size_t *cap, size_t need) {
        size_t ncap;
        char *t;

        if (need <= *cap)
                return 0;
        ncap = MAX(MAX(*cap * 2, need), (size_t) 128);
        t = realloc(*buf, ncap);
        if (!t)
                return -ENOMEM;
        *buf = t;
        *cap = ncap;
        return 0;
}

static int lexer_getc(Lexer *l) {
        if (l->f)
                return getc_unlocked(l->f);
        if (l->text[l->text_pos] == '\0')
                return EOF;
        return (unsigned char) l->text[l->text_pos++];
}

static int lexer_peekc(Lexer *l) {
        int c;

        if (!l->f)
                return l->text[l->text_pos] == '\0' ? EOF : (unsigned char) l->text[l->text_pos];
        c = getc_unlocked(l->f);
        if (c != EOF)
                ungetc(c, l->f);
        return c;
}

/* Reads one physical line into l->phys. As systemd's read_line(), "\n", "\r\n", "\r" and NUL
 * end a line. Returns 1, 0 at the end, -E2BIG when the line is longer than UNIT_VALUE_MAX (it
 * was reported and skipped; l->phys_continues still tells whether it ended in a backslash), or
 * -EIO. */
static int lexer_read_line(Lexer *l) {
        bool any = false, too_long = false, escaped = false;
        int r;

        l->phys_len = 0;
        l->phys_continues = false;
        if (l->stop)
                return 0;

        for (;;) {
                int c = lexer_getc(l);

                if (c == EOF) {
                        if (l->f && ferror(l->f))
                                return -EIO;
                        if (!any)
                                return 0;
                        break;
                }
                any = true;
                if (++l->total > UNIT_LEXER_FILE_MAX) {
                        lexer_report(l, LOG_ERR, l->line + 1, "File is larger than %u bytes",
                                     UNIT_LEXER_FILE_MAX);
                        l->stop = true;
                        return 0;
                }
                if (c == '\n' || c == '\0')
                        break;
                if (c == '\r') {
                        if (lexer_peekc(l) == '\n')
                                (void) lexer_getc(l);
                        break;
                }
                escaped = !escaped && c == '\\';
                if (too_long)
                        continue;
                if (l->phys_len >= UNIT_VALUE_MAX) {
                        too_long = true;
                        continue;
                }
                r = grow(&l->phys, &l->phys_cap, l->phys_len + 2);
                if (r < 0)
                        return r;
                l->phys[l->phys_len++] = (char) c;
        }

        l->line++;
        l->phys_continues = escaped;
        if (too_long) {
                lexer_report(l, LOG_ERR, l->line,
                             "Line is too long (more than %u bytes), refusing to cut it",
                             UNIT_VALUE_MAX);
                return -E2BIG;
        }
        r = grow(&l->phys, &l->phys_cap, l->phys_len + 1);
        if (r < 0)
                return r;
        l->phys[l->phys_len] = '\0';
        return 1;
}

static Entry *lexer_entry(Lexer *l, size_t index) {
        if (index < l->base || index - l->base >= l->n_queue)
                return NULL;
        return &l->queue[index - l->base];
}

/* Adds a row to the side table; takes ownership of the strings (also on failure). Returns its
 * index in *ret_index. A section row is its own section; an assignment belongs to the current
 * one. */
static int lexer_push(Lexer *l, EntryKind kind, char *section, char *key, char *value,
                      unsigned line, size_t *ret_index) {
        size_t index = l->n_queue == 0 ? l->delivered : l->base + l->n_queue;
        Entry e = {
                .kind = kind,
                .section = section,
                .section_index = kind == ENTRY_SECTION ? index : l->section_index,
                .key = key,
                .value = value,
                .line = line,
        };

        if (!section || (kind == ENTRY_ASSIGNMENT && (!key || !value))) {
                entry_done(&e);
                return -ENOMEM;
        }
        if (l->n_queue == 0)
                l->base = l->delivered;
        if (l->n_queue >= l->cap_queue) {
                size_t ncap = MAX(l->cap_queue * 2, (size_t) 4);
                Entry *t = reallocarray(l->queue, ncap, sizeof(Entry));
                if (!t) {
                        entry_done(&e);
                        return -ENOMEM;
                }
                l->queue = t;
                l->cap_queue = ncap;
        }
        l->queue[l->n_queue++] = e;
        *ret_index = index;
        return 0;
}

static char *strip(char *s) {
        size_t n;

        s += strspn(s, WHITESPACE);
        n = strlen(s);
        while (n > 0 && strchr(WHITESPACE, s[n - 1]))
                s[--n] = '\0';
        return s;
}

/* Lexes the joined logical line. Returns 1 and the new row's index when it produced one, 0 when
 * it produced none (blank, or an error reported), or a negative errno. */
static int lexer_process_logical(Lexer *l, size_t *ret_index) {
        unsigned line = l->logical_line;
        char q[MESSAGE_QUOTE_SIZE(QUOTE_MAX)];
        char *s, *eq, *key, *value;
        size_t n;

        s = strip(l->logical);
        if (*s == '\0')
                return 0;
        if (!utf8_is_valid(s)) {
                lexer_report(l, LOG_ERR, line, "Line is not valid UTF-8");
                return 0;
        }

        if (*s == '[') {
                char *name;
                size_t index;
                int r;

                n = strlen(s);
                if (s[n - 1] != ']') {
                        lexer_report(l, LOG_ERR, line,
                                     "Invalid section header '%s': expected '[Name]'",
                                     quote_cut(s, q, sizeof q));
                        goto bad_section;
                }
                s[n - 1] = '\0';
                name = s + 1;
                n = strlen(name);
                if (n == 0) {
                        lexer_report(l, LOG_ERR, line, "Empty section name '[]'");
                        goto bad_section;
                }
                if (n > UNIT_LEXER_SECTION_MAX) {
                        lexer_report(l, LOG_ERR, line,
                                     "Section name '%s' is too long (more than %d bytes)",
                                     quote_cut(name, q, sizeof q), UNIT_LEXER_SECTION_MAX);
                        goto bad_section;
                }
                for (const char *p = name; *p; p++)
                        if ((unsigned char) *p < 0x20 || *p == 0x7f || *p == '[' || *p == ']') {
                                lexer_report(l, LOG_ERR, line, "Invalid section name '[%s]'",
                                             quote_cut(name, q, sizeof q));
                                goto bad_section;
                        }

                free(l->section_name);
                l->section_name = strdup(name);
                if (!l->section_name)
                        return -ENOMEM;
                r = lexer_push(l, ENTRY_SECTION, strdup(name), NULL, NULL, line, &index);
                if (r < 0)
                        return r;
                l->section_index = index;
                l->have_section = true;
                l->section_bad = false;
                *ret_index = index;
                return 1;

        bad_section:
                l->have_section = false;
                l->section_bad = true;
                return 0;
        }

        eq = strchr(s, '=');
        if (!eq) {
                lexer_report(l, LOG_ERR, line, "Missing '=' in '%s': expected Key=Value",
                             quote_cut(s, q, sizeof q));
                return 0;
        }
        *eq = '\0';
        key = strip(s);
        value = strip(eq + 1);
        n = strlen(key);
        if (n == 0) {
                lexer_report(l, LOG_ERR, line, "Missing key name before '='");
                return 0;
        }
        if (n > UNIT_LEXER_KEY_MAX) {
                lexer_report(l, LOG_ERR, line, "Key name '%s' is too long (more than %d bytes)",
                             quote_cut(key, q, sizeof q), UNIT_LEXER_KEY_MAX);
                return 0;
        }
        if (strspn(key, KEY_CHARS) != n) {
                lexer_report(l, LOG_ERR, line,
                             "Invalid key name '%s': keys use letters, digits, '_' and '-'",
                             quote_cut(key, q, sizeof q));
                return 0;
        }
        if (!l->have_section) {
                if (!l->section_bad)
                        lexer_report(l, LOG_WARNING, line,
                                     "Assignment '%s=' outside of any section, ignoring", key);
                return 0;
        }
        {
                size_t index;
                int r = lexer_push(l, ENTRY_ASSIGNMENT, strdup(l->section_name), strdup(key),
                                   strdup(value), line, &index);
                if (r < 0)
                        return r;
                *ret_index = index;
        }
        return 1;
}

/* Produces the next row of the side table. Returns 1 and its index, 0 at the end of the file,
 * or a negative errno. */
static int lexer_next(Lexer *l, size_t *ret_index) {
        for (;;) {
                const char *p, *c;
                size_t n;
                int r;

                r = lexer_read_line(l);
                if (r == -E2BIG) {
                        /* Reported. Drop the whole logical line it belongs to. */
                        l->continuing = false;
                        l->skipping = l->phys_continues;
                        continue;
                }
                if (r < 0)
                        return r;
                if (r == 0) {
                        if (!l->continuing)
                                return 0;
                        /* The file ends in a backslash: the joined line still counts, as in
                         * systemd. */
                        l->continuing = false;
                        r = lexer_process_logical(l, ret_index);
                        if (r != 0)
                                return r;
                        continue;
                }

                p = l->phys;
                if (l->line == 1 && startswith(p, UTF8_BOM))
                        p += strlen(UTF8_BOM);

                /* '#' and ';' start a comment only at the start of a line; comment lines inside
                 * a continuation are skipped, as systemd does. */
                c = p + strspn(p, WHITESPACE);
                if (*c == '#' || *c == ';')
                        continue;

                if (l->skipping) {
                        l->skipping = l->phys_continues;
                        continue;
                }

                if (!l->continuing) {
                        l->logical_len = 0;
                        l->logical_line = l->line;
                }
                n = strlen(p);
                if (l->logical_len + n > UNIT_VALUE_MAX) {
                        lexer_report(l, LOG_ERR, l->logical_line,
                                     "Continued line is too long (more than %u bytes), refusing "
                                     "to cut it", UNIT_VALUE_MAX);
                        l->continuing = false;
                        l->skipping = l->phys_continues;
                        continue;
                }
                r = grow(&l->logical, &l->logical_cap, l->logical_len + n + 1);
                if (r < 0)
                        return r;
                memcpy(l->logical + l->logical_len, p, n + 1);
                l->logical_len += n;

                if (l->phys_continues) {
                        /* systemd replaces the backslash with a space and appends the next line
                         * as it is. */
                        l->logical[l->logical_len - 1] = ' ';
                        l->continuing = true;
                        continue;
                }
                l->continuing = false;
                r = lexer_process_logical(l, ret_index);
                if (r != 0)
                        return r;
        }
}

/* The ini_reader: returns one synthetic line per row, or NULL at the end or on error. */
static char *lexer_reader(char *str, int num, void *stream) {
        Lexer *l = stream;
        size_t index;
        Entry *e;
        int r, k;

        if (l->error < 0)
                return NULL;
        r = lexer_next(l, &index);
        if (r <= 0) {
                if (r < 0)
                        l->error = r;
                return NULL;
        }
        e = lexer_entry(l, index);
        if (!e) {
                l->error = -EBADMSG;
                return NULL;
        }
        /* At most 24 bytes; libinih's buffer is 200 in Debian's build. The newline keeps a
         * reallocating libinih build from asking for the "rest" of the line. */
        if (e->kind == ENTRY_SECTION)
                k = snprintf(str, (size_t) MAX(num, 0), "[%zu]\n", index);
        else
                k = snprintf(str, (size_t) MAX(num, 0), "a=%zu\n", index);
        if (k < 0 || k >= num) {
                l->error = -ENOBUFS;
                return NULL;
        }
        return str;
}

static int parse_index(const char *s, size_t *ret) {
        uint64_t v;

        if (!s || parse_uint64(s, &v) < 0 || v > SIZE_MAX)
                return -EBADMSG;
        *ret = (size_t) v;
        return 0;
}

/* Hands rows [delivered, index] to fn, in order. Only section rows may come before index
 * without their own synthetic line having been handled (libinih does not report sections);
 * a skipped assignment means a line was lost, and that must never pass silently. */
static int lexer_deliver_through(Lexer *l, size_t index, EntryKind kind) {
        if (index < l->delivered || !lexer_entry(l, index))
                return -EBADMSG;

        while (l->delivered <= index) {
                Entry *e = lexer_entry(l, l->delivered);
                int r;

                if (!e)
                        return -EBADMSG;
                if (l->delivered < index && e->kind != ENTRY_SECTION)
                        return -EBADMSG;
                if (l->delivered == index && e->kind != kind)
                        return -EBADMSG;
                if (e->kind == ENTRY_SECTION)
                        r = l->fn(e->section, NULL, NULL, e->line, l->userdata);
                else
                        r = l->fn(e->section, e->key, e->value, e->line, l->userdata);
                entry_done(e);
                l->delivered++;
                if (r < 0)
                        return r;
        }
        if (l->delivered == l->base + l->n_queue)
                l->n_queue = 0;
        return 0;
}

static int lexer_handler(void *user, const char *section, const char *name, const char *value) {
        Lexer *l = user;
        size_t index, section_index;
        Entry *e;
        int r;

        if (l->error < 0)
                return 0;

        if (!name) {
                /* A libinih built to report new sections: "[N]". */
                r = parse_index(section, &index);
                if (r >= 0)
                        r = lexer_deliver_through(l, index, ENTRY_SECTION);
                if (r < 0) {
                        l->error = r;
                        return 0;
                }
                return 1;
        }

        if (!streq(name, "a") || parse_index(value, &index) < 0 ||
            parse_index(section, &section_index) < 0) {
                l->error = -EBADMSG;
                return 0;
        }
        e = lexer_entry(l, index);
        if (!e || e->kind != ENTRY_ASSIGNMENT || e->section_index != section_index) {
                l->error = -EBADMSG;
                return 0;
        }
        r = lexer_deliver_through(l, index, ENTRY_ASSIGNMENT);
        if (r < 0) {
                l->error = r;
                return 0;
        }
        return 1;
}

int unit_lexer_parse(const char *path, FILE *f, const char *text, UnitLexerFunc fn,
                     UnitDiagFunc diag, void *userdata) {
        Lexer l = {
                .path = path,
                .f = f,
                .text = text,
                .fn = fn,
                .diag = diag,
                .userdata = userdata,
        };
        int r;

        if ((!f) == (!text) || !fn)
                return -EINVAL;

        r = ini_parse_stream(lexer_reader, &l, lexer_handler, &l);
        if (l.error < 0) {
                r = l.error;
                goto finish;
        }
        if (r == -2) {
                r = -ENOMEM;
                goto finish;
        }
        if (r != 0) {
                /* libinih refused one of our synthetic lines: cannot happen by design. */
                r = -EBADMSG;
                goto finish;
        }
        /* Sections with no assignments after them are still owed to fn. */
        if (l.n_queue > 0) {
                r = lexer_deliver_through(&l, l.base + l.n_queue - 1, ENTRY_SECTION);
                if (r < 0)
                        goto finish;
        }
        r = l.n_errors > 0 ? UNIT_FILE_E_INVALID : 0;

finish:
        lexer_done(&l);
        return r;
}
