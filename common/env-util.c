/* env-util: environment blocks, EnvironmentFile= parsing and ExecStart= expansion. See
 * env-util.h for the exact syntax; it follows systemd's env-file.c and replace_env_argv()
 * behaviour, except where the header says otherwise. Pure: no logging, no I/O. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/env-util.h"
#include "common/errbuf.h"
#include "common/macro.h"

#define BLANKS " \t"
#define WHITESPACE " \t\n\r"

/* Length of the name part of an assignment, or SIZE_MAX when there is no '='. */
static size_t assignment_name_len(const char *a) {
        const char *eq = strchr(a, '=');

        return eq ? (size_t) (eq - a) : SIZE_MAX;
}

/* Index of the entry of l[0..n) that assigns the n-byte name, or SIZE_MAX. */
static size_t env_find(char *const *l, size_t n, const char *name, size_t len) {
        for (size_t i = 0; i < n; i++)
                if (strncmp(l[i], name, len) == 0 && l[i][len] == '=')
                        return i;
        return SIZE_MAX;
}

/* Stores the assignment a (consumed) into l, which has n entries and room for one more plus
 * the NULL: replaces the entry with the same name in place or appends. */
static void env_put_consume(char **l, size_t *n, char *a) {
        size_t len = assignment_name_len(a);
        size_t i = env_find(l, *n, a, len);

        if (i != SIZE_MAX) {
                free(l[i]);
                l[i] = a;
        } else {
                l[(*n)++] = a;
                l[*n] = NULL;
        }
}

const char *env_get(char *const *env, const char *name) {
        size_t len = strlen(name);
        const char *found = NULL;

        if (!env)
                return NULL;
        for (char *const *e = env; *e; e++)
                if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
                        found = *e + len + 1;
        return found;
}

int env_merge(char *const *base, char *const *overrides, char ***ret) {
        size_t nb = strv_length(base), no = strv_length(overrides), n = 0;
        _cleanup_strv_free_ char **l = NULL;

        l = calloc(nb + no + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (size_t pass = 0; pass < 2; pass++) {
                char *const *src = pass == 0 ? base : overrides;

                for (size_t i = 0; src && src[i]; i++) {
                        size_t len = assignment_name_len(src[i]);
                        char *copy;

                        if (len == SIZE_MAX || len == 0)
                                return -EINVAL;
                        copy = strdup(src[i]);
                        if (!copy)
                                return -ENOMEM;
                        env_put_consume(l, &n, copy);
                }
        }

        *ret = TAKE_PTR(l);
        return 0;
}

/* ---- EnvironmentFile= ---- */

/* systemd's NEWLINE: a carriage return ends a line too. */
#define NEWLINES "\n\r"

typedef struct EnvFileParser {
        const char *p;          /* next character */
        unsigned line;          /* line of *p */
        const char *path;
        char *value;            /* scratch, as large as the whole text */
        size_t n_value;
        EnvWarnFunc warn;
        void *userdata;
} EnvFileParser;

_printf_(3, 4) static void env_file_warn(EnvFileParser *f, unsigned line, const char *fmt, ...) {
        char msg[ENV_ERROR_MAX], body[ENV_ERROR_MAX - 64];
        va_list ap;

        if (!f->warn)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(body, sizeof body, fmt, ap);
        va_end(ap);
        (void) snprintf(msg, sizeof msg, "%s:%u: %s", f->path, line, body);
        f->warn(msg, f->userdata);
}

/* Reads a quoted string whose opening quote was just consumed, appending to f->value. In double
 * quotes, a backslash escapes as in the shell. The end of the text ends the string, as in
 * systemd, which keeps what it read. Returns false when the text ended first. */
static bool env_file_read_quoted(EnvFileParser *f, char quote) {
        for (;;) {
                char c = *f->p;

                if (c == '\0')
                        return false;
                f->p++;
                if (c == quote)
                        return true;
                if (c == '\n')
                        f->line++;
                if (quote == '\'' || c != '\\') {
                        f->value[f->n_value++] = c;
                        continue;
                }

                c = *f->p;
                if (c == '\0')
                        return false; /* the backslash goes */
                f->p++;
                if (c == '\n') {
                        /* A continuation: both characters go. */
                        f->line++;
                        continue;
                }
                /* As the shell: only these lose their backslash. The escaped pair never
                 * outgrows the two input bytes it came from. */
                if (!strchr("\"\\`$", c))
                        f->value[f->n_value++] = '\\';
                f->value[f->n_value++] = c;
        }
}

/* Reads the value that starts at f->p into f->value, up to the end of its (logical) line.
 * Returns false when a quote was still open at the end of the text. */
static bool env_file_read_value(EnvFileParser *f) {
        /* Where the trailing run of unquoted, unescaped whitespace begins, if one is open. */
        size_t trailing = SIZE_MAX;
        bool quotes_allowed = true; /* at the value's start, or right after a closing quote */

        f->n_value = 0;

        for (;;) {
                char c = *f->p;

                if (c == '\0' || strchr(NEWLINES, c))
                        break;
                f->p++;

                if (quotes_allowed && strchr(BLANKS, c))
                        continue;

                if (quotes_allowed && (c == '\'' || c == '"')) {
                        trailing = SIZE_MAX;
                        if (!env_file_read_quoted(f, c)) {
                                f->value[f->n_value] = '\0';
                                return false;
                        }
                        continue;
                }

                if (c == '\\') {
                        /* An escaped character is never trailing whitespace; an escaped line
                         * end (\n or \r) goes with its backslash. */
                        trailing = SIZE_MAX;
                        c = *f->p;
                        if (c == '\0')
                                break;
                        f->p++;
                        if (c == '\n')
                                f->line++;
                        else if (c != '\r')
                                f->value[f->n_value++] = c;
                        quotes_allowed = false;
                        continue;
                }

                quotes_allowed = false;
                if (strchr(BLANKS, c)) {
                        if (trailing == SIZE_MAX)
                                trailing = f->n_value;
                } else
                        trailing = SIZE_MAX;
                f->value[f->n_value++] = c;
        }

        if (trailing != SIZE_MAX)
                f->n_value = trailing;
        f->value[f->n_value] = '\0';
        return true;
}

int env_file_parse(const char *text, const char *path, EnvWarnFunc warn, void *userdata,
                   char ***ret_env, char *err, size_t errlen) {
        _cleanup_free_ char *value = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t size, n = 0;
        EnvFileParser f;

        if (!path)
                path = "<environment>";

        size = strlen(text);
        if (size > ENV_FILE_SIZE_MAX)
                return errbuf_set(err, errlen, -E2BIG, "%s: file is larger than %u bytes", path,
                                 ENV_FILE_SIZE_MAX);

        /* A value never holds more bytes than the text, so one scratch buffer does. */
        value = malloc(size + 1);
        l = calloc(1, sizeof(char *));
        if (!value || !l)
                return -ENOMEM;

        f = (EnvFileParser) {
                .p = text,
                .line = 1,
                .path = path,
                .value = value,
                .warn = warn,
                .userdata = userdata,
        };

        for (;;) {
                const char *key, *end;
                unsigned start_line;
                size_t key_len;
                char *a;

                /* Blanks and empty lines. */
                for (;;) {
                        f.p += strspn(f.p, BLANKS "\r");
                        if (*f.p != '\n')
                                break;
                        f.p++;
                        f.line++;
                }
                if (*f.p == '\0')
                        break;

                /* A comment runs to the end of its line, backslash or not (systemd >= 254). */
                if (*f.p == '#' || *f.p == ';') {
                        f.p += strcspn(f.p, NEWLINES);
                        continue;
                }

                /* The name runs to the first '=' on the line; as in systemd, its first
                 * character belongs to it whatever it is, so "=x" has no '=' to split at. */
                start_line = f.line;
                key = f.p;
                end = key + 1 + strcspn(key + 1, "=" NEWLINES);
                if (*end != '=') {
                        /* systemd skips such a line silently; berth says so. */
                        env_file_warn(&f, start_line, "expected NAME=value, got \"%.*s\", "
                                      "ignoring", (int) MIN((size_t) (end - key), (size_t) 200),
                                      key);
                        f.p = end;
                        continue;
                }
                f.p = end + 1;
                while (end > key && strchr(BLANKS, end[-1]))
                        end--;
                key_len = (size_t) (end - key);

                /* The value is read whatever the name, so a bad line is skipped whole. */
                f.p += strspn(f.p, BLANKS);
                if (!env_file_read_value(&f))
                        env_file_warn(&f, start_line, "unterminated quote in the value of "
                                      "\"%.*s\", taking the rest of the file",
                                      (int) MIN(key_len, (size_t) 200), key);

                /* As systemd: text that is not UTF-8 fails the whole file. */
                if (!utf8_is_valid(value))
                        return errbuf_set(err, errlen, -EINVAL,
                                         "%s:%u: the value of %.*s is not valid UTF-8", path,
                                         start_line, (int) MIN(key_len, (size_t) 200), key);
                if (asprintf(&a, "%.*s=%s", (int) key_len, key, value) < 0)
                        return -ENOMEM;
                a[key_len] = '\0';
                if (!utf8_is_valid(a)) {
                        free(a);
                        return errbuf_set(err, errlen, -EINVAL,
                                         "%s:%u: a variable name is not valid UTF-8", path,
                                         start_line);
                }
                if (!env_name_is_valid(a)) {
                        const char *rest = NULL;

                        if (key_len > 7 && strncmp(a, "export", 6) == 0 && strchr(BLANKS, a[6]))
                                rest = a + 6 + strspn(a + 6, BLANKS);
                        if (rest && env_name_is_valid(rest))
                                env_file_warn(&f, start_line, "\"export\" is shell syntax, not "
                                              "supported in environment files (write "
                                              "\"%s=...\"), ignoring", rest);
                        else
                                env_file_warn(&f, start_line, "invalid variable name \"%.*s\" "
                                              "(allowed: letters, digits and '_', not "
                                              "starting with a digit), ignoring",
                                              (int) MIN(key_len, (size_t) 200), a);
                        free(a);
                        continue;
                }
                a[key_len] = '=';

                if (env_find(l, n, a, key_len) == SIZE_MAX) {
                        char **grown;

                        if (n >= ENV_ENTRIES_MAX) {
                                free(a);
                                return errbuf_set(err, errlen, -E2BIG,
                                                 "%s:%u: more than %u variables", path,
                                                 start_line, ENV_ENTRIES_MAX);
                        }
                        grown = reallocarray(l, n + 2, sizeof(char *));
                        if (!grown) {
                                free(a);
                                return -ENOMEM;
                        }
                        l = grown;
                }
                env_put_consume(l, &n, a);
        }

        *ret_env = TAKE_PTR(l);
        return 0;
}

/* ---- ExecStart= expansion ---- */

typedef struct Argv {
        char **l;
        size_t n, allocated;
        size_t bytes;
} Argv;

/* Appends the word w (consumed, even on failure). */
static int argv_push_consume(Argv *a, char *w) {
        size_t len = strlen(w) + 1;

        if (a->n >= EXEC_EXPAND_ARGS_MAX || a->bytes + len > EXEC_EXPAND_BYTES_MAX) {
                free(w);
                return -E2BIG;
        }
        if (a->n + 2 > a->allocated) {
                size_t want = MAX(a->allocated * 2, (size_t) 8);
                char **grown = reallocarray(a->l, want, sizeof(char *));

                if (!grown) {
                        free(w);
                        return -ENOMEM;
                }
                a->l = grown;
                a->allocated = want;
        }
        a->l[a->n++] = w;
        a->l[a->n] = NULL;
        a->bytes += len;
        return 0;
}

/* Splits value at whitespace as systemd's extract_first_word(EXTRACT_UNQUOTE|EXTRACT_RELAX):
 * quotes group and are removed, a backslash makes the next character literal (inside either
 * kind of quotes too), an unterminated quote ends the word at the end of the value, and a
 * trailing backslash goes. */
static int argv_push_split(Argv *a, const char *value) {
        const char *p = value;

        for (;;) {
                _cleanup_free_ char *w = NULL;
                size_t n = 0;
                char quote = 0;
                int r;

                p += strspn(p, WHITESPACE);
                if (*p == '\0')
                        return 0;

                /* A word never outgrows the rest of the value. */
                w = malloc(strlen(p) + 1);
                if (!w)
                        return -ENOMEM;

                for (; *p; p++) {
                        char c = *p;

                        if (!quote && strchr(WHITESPACE, c))
                                break;
                        if (c == '\\') {
                                if (p[1] != '\0')
                                        w[n++] = *++p;
                        } else if (quote && c == quote)
                                quote = 0;
                        else if (!quote && (c == '\'' || c == '"'))
                                quote = c;
                        else
                                w[n++] = c;
                }
                w[n] = '\0';

                r = argv_push_consume(a, TAKE_PTR(w));
                if (r < 0)
                        return r;
        }
}

/* The value of the len-byte name in env (the last entry wins), or NULL, as systemd's
 * strv_env_get_n(): the name is not checked, so one that cannot be set finds nothing. */
static const char *env_get_n(char *const *env, const char *name, size_t len) {
        const char *found = NULL;

        if (len == 0 || !env)
                return NULL;
        for (char *const *e = env; *e; e++)
                if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
                        found = *e + len + 1;
        return found;
}

/* Expands word as systemd's replace_env() without its extensions: "$$" is '$'; "${" up to the
 * first '}' is replaced by the value of what it encloses (nothing when unset, whatever it
 * holds), but a ':' before that '}' leaves "${...:" as written (systemd's "${A:-x}" is not
 * supported there), as does an unclosed "${"; any other '$' stays. Returns a new string in
 * *ret. */
static int expand_braces(const char *word, char *const *env, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *s;

        s = open_memstream(&buf, &size);
        if (!s)
                return -ENOMEM;

        for (const char *p = word; *p;) {
                size_t len;

                if (p[0] == '$' && p[1] == '$') {
                        fputc('$', s);
                        p += 2;
                        continue;
                }
                if (p[0] != '$' || p[1] != '{') {
                        /* A '$' before anything else stays, and so does that character. */
                        fputc(*p++, s);
                        if (p[-1] == '$' && *p)
                                fputc(*p++, s);
                        continue;
                }
                len = strcspn(p + 2, "}:");
                if (p[2 + len] == '}') {
                        fputs(strempty(env_get_n(env, p + 2, len)), s);
                        p += 2 + len + 1;
                } else {
                        /* ':' (kept, and what follows is read afresh) or the end. */
                        len += p[2 + len] == ':';
                        fwrite(p, 1, 2 + len, s);
                        p += 2 + len;
                }
        }

        if (fclose(s) != 0 || !buf) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

int exec_expand(char *const *argv, char *const *env, char ***ret_argv) {
        _cleanup_(strv_freep) char **l = NULL;
        Argv a = {};
        int r = 0;

        for (size_t i = 0; argv && argv[i]; i++) {
                const char *word = argv[i];
                char *w;

                /* A word that starts with '$' but not "${" or "$$" is one variable: split into
                 * words, or none when unset or not a valid name ("$A.x", "$A$B", "$1"), as
                 * systemd's replace_env_argv(). */
                if (word[0] == '$' && word[1] != '{' && word[1] != '$') {
                        const char *value = env_name_is_valid(word + 1) ? env_get(env, word + 1)
                                                                        : NULL;

                        if (i > 0) {
                                r = value ? argv_push_split(&a, value) : 0;
                                if (r < 0)
                                        break;
                                continue;
                        }
                        w = strdup(strempty(value));
                        r = w ? 0 : -ENOMEM;
                } else
                        r = expand_braces(word, env, &w);
                if (r < 0)
                        break;
                r = argv_push_consume(&a, w);
                if (r < 0)
                        break;
        }

        l = a.l; /* freed on every path but success */
        if (r < 0)
                return r;
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }

        *ret_argv = TAKE_PTR(l);
        return 0;
}
