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

typedef struct EnvFileParser {
        const char *p;          /* next character */
        unsigned line;          /* line of *p */
        const char *path;
        char *value;            /* scratch, as large as the whole text */
        size_t n_value;
        char *err;
        size_t errlen;
} EnvFileParser;

/* Reads the value that starts at f->p into f->value, up to the end of its (logical) line.
 * start_line names the line of the assignment in messages. */
static int env_file_read_value(EnvFileParser *f, unsigned start_line) {
        /* Where the trailing run of unquoted, unescaped whitespace begins, if one is open. */
        size_t trailing = SIZE_MAX;
        bool quotes_allowed = true; /* at the value's start, or right after a closing quote */

        f->n_value = 0;
        f->p += strspn(f->p, BLANKS "\r");

        for (;;) {
                char c = *f->p;

                if (c == '\0' || c == '\n')
                        break;
                f->p++;

                if (quotes_allowed && strchr(BLANKS "\r", c))
                        continue;

                if (quotes_allowed && c == '\'') {
                        for (;;) {
                                c = *f->p;
                                if (c == '\0')
                                        return errbuf_set(f->err, f->errlen, -EINVAL,
                                                         "%s:%u: unterminated single quote",
                                                         f->path, start_line);
                                f->p++;
                                if (c == '\'')
                                        break;
                                if (c == '\n')
                                        f->line++;
                                f->value[f->n_value++] = c;
                        }
                        trailing = SIZE_MAX;
                        continue;
                }

                if (quotes_allowed && c == '"') {
                        for (;;) {
                                c = *f->p;
                                if (c == '\0')
                                        return errbuf_set(f->err, f->errlen, -EINVAL,
                                                         "%s:%u: unterminated double quote",
                                                         f->path, start_line);
                                f->p++;
                                if (c == '"')
                                        break;
                                if (c == '\n')
                                        f->line++;
                                if (c != '\\') {
                                        f->value[f->n_value++] = c;
                                        continue;
                                }

                                c = *f->p;
                                if (c == '\0')
                                        return errbuf_set(f->err, f->errlen, -EINVAL,
                                                         "%s:%u: unterminated double quote",
                                                         f->path, start_line);
                                f->p++;
                                if (c == '\n') {
                                        /* A continuation: both characters go. */
                                        f->line++;
                                        continue;
                                }
                                /* As the shell: only these lose their backslash. The escaped
                                 * pair never outgrows the two input bytes it came from. */
                                if (!strchr("\"\\`$", c))
                                        f->value[f->n_value++] = '\\';
                                f->value[f->n_value++] = c;
                        }
                        trailing = SIZE_MAX;
                        continue;
                }

                quotes_allowed = false;

                if (c == '\\') {
                        c = *f->p;
                        if (c == '\0')
                                break; /* A backslash at the very end: nothing to escape. */
                        f->p++;
                        if (c == '\n') {
                                f->line++;
                                continue;
                        }
                        f->value[f->n_value++] = c;
                        trailing = SIZE_MAX;
                        continue;
                }

                if (strchr(BLANKS "\r", c)) {
                        if (trailing == SIZE_MAX)
                                trailing = f->n_value;
                } else
                        trailing = SIZE_MAX;
                f->value[f->n_value++] = c;
        }

        if (trailing != SIZE_MAX)
                f->n_value = trailing;
        f->value[f->n_value] = '\0';
        return 0;
}

int env_file_parse(const char *text, const char *path, char ***ret_env, char *err, size_t errlen) {
        _cleanup_free_ char *value = NULL;
        _cleanup_strv_free_ char **l = NULL;
        size_t size, n = 0;
        EnvFileParser f;
        int r;

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
                .err = err,
                .errlen = errlen,
        };

        for (;;) {
                const char *key, *eq, *end;
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
                        f.p += strcspn(f.p, "\n");
                        continue;
                }

                start_line = f.line;
                key = f.p;
                end = key + strcspn(key, "=\n");
                eq = *end == '=' ? end : NULL;
                while (end > key && strchr(BLANKS "\r", end[-1]))
                        end--;
                key_len = (size_t) (end - key);

                if (key_len > 7 && strncmp(key, "export", 6) == 0 && strchr(BLANKS, key[6])) {
                        const char *rest = key + 6 + strspn(key + 6, BLANKS);

                        return errbuf_set(err, errlen, -EINVAL,
                                         "%s:%u: \"export\" is shell syntax, not supported in "
                                         "environment files: write \"%.*s\"",
                                         path, start_line,
                                         (int) MIN(strcspn(rest, "\r\n"), (size_t) 200), rest);
                }
                if (!eq)
                        return errbuf_set(err, errlen, -EINVAL,
                                         "%s:%u: expected NAME=value, got \"%.*s\"", path,
                                         start_line, (int) MIN(key_len, (size_t) 200), key);

                /* Check the name in place, without copying it. */
                memcpy(value, key, key_len);
                value[key_len] = '\0';
                if (!env_name_is_valid(value))
                        return errbuf_set(err, errlen, -EINVAL,
                                         "%s:%u: invalid variable name \"%.*s\" (allowed: letters, "
                                         "digits and '_', not starting with a digit)",
                                         path, start_line, (int) MIN(key_len, (size_t) 200), key);

                f.p = eq + 1;
                r = env_file_read_value(&f, start_line);
                if (r < 0)
                        return r;
                if (!utf8_is_valid(value))
                        return errbuf_set(err, errlen, -EINVAL,
                                         "%s:%u: the value of %.*s is not valid UTF-8", path,
                                         start_line, (int) key_len, key);

                if (asprintf(&a, "%.*s=%s", (int) key_len, key, value) < 0)
                        return -ENOMEM;
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
 * quotes group and are removed, a backslash makes the next character literal, and an
 * unterminated quote or a trailing backslash is accepted as written. */
static int argv_push_split(Argv *a, const char *value) {
        const char *p = value;

        for (;;) {
                _cleanup_free_ char *w = NULL;
                size_t n = 0;
                bool started = false;
                char quote = 0;

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
                        started = true;
                        if (quote == '\'') {
                                if (c == '\'')
                                        quote = 0;
                                else
                                        w[n++] = c;
                        } else if (c == '\\') {
                                if (p[1] == '\0')
                                        w[n++] = c;
                                else
                                        w[n++] = *++p;
                        } else if (quote == '"' && c == '"')
                                quote = 0;
                        else if (!quote && (c == '\'' || c == '"'))
                                quote = c;
                        else
                                w[n++] = c;
                }
                if (!started)
                        return 0;
                w[n] = '\0';

                int r = argv_push_consume(a, TAKE_PTR(w));
                if (r < 0)
                        return r;
        }
}

/* Expands ${NAME} and $$ in word; everything else is copied. Returns a new string in *ret. */
static int expand_braces(const char *word, char *const *env, char **ret) {
        char *buf = NULL;
        size_t size = 0;
        FILE *s;

        s = open_memstream(&buf, &size);
        if (!s)
                return -ENOMEM;

        for (const char *p = word; *p;) {
                if (p[0] == '$' && p[1] == '$') {
                        fputc('$', s);
                        p += 2;
                        continue;
                }
                if (p[0] == '$' && p[1] == '{') {
                        const char *close = strchr(p + 2, '}');
                        size_t len = close ? (size_t) (close - p - 2) : 0;

                        if (close && len > 0 && len <= 255) {
                                char name[256];

                                memcpy(name, p + 2, len);
                                name[len] = '\0';
                                if (env_name_is_valid(name)) {
                                        fputs(strempty(env_get(env, name)), s);
                                        p = close + 1;
                                        continue;
                                }
                        }
                        /* Not ours: keep "${" and go on after it. */
                        fputs("${", s);
                        p += 2;
                        continue;
                }
                fputc(*p++, s);
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

                if (word[0] == '$' && env_name_is_valid(word + 1)) {
                        const char *value = env_get(env, word + 1);

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
