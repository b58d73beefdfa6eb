/* unit-exec: ExecStart= and the other command-line keys, to ExecCommand lists. A command line
 * is split into words with systemd's quoting and escapes (common/parse-util's extract_word());
 * the first word may carry systemd's prefixes ("-", "@", ":", "+", "!", "!!"), which become
 * flags of the ExecCommand; $VAR and ${VAR} stay verbatim for spawn time. A lone ";", systemd's separator of several commands on one line, is an error. Pure: no
 * logging. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/specifier.h"
#include "daemon/unit-exec.h"
#include "daemon/unit-file.h"
#include "daemon/unit-load.h"

void exec_command_list_free(ExecCommand **list, size_t *n) {
        for (size_t i = 0; i < *n; i++) {
                if (!(*list)[i].path_is_argv0)
                        free((*list)[i].path);
                free((*list)[i].argv); /* one block (strv_pack()) */
        }
        free(*list);
        *list = NULL;
        *n = 0;
}

/* The prefixes of a command line's first word. */
typedef struct ExecPrefixes {
        bool ignore; /* "-": the command's failure is ignored */
        bool argv0;  /* "@": the second word is argv[0] */
        bool noenv;  /* ":": no $VAR expansion */
        bool plus;   /* "+": full privileges */
        bool excl;   /* "!": no User=, Group=, SupplementaryGroups= */
        bool excl2;  /* "!!": "!" where ambient capabilities are missing, which berth, like
                      * systemd on any kernel since 4.3, takes as never: no effect */
} ExecPrefixes;

/* Reads the prefixes at the start of word, as systemd: each at most once, in any order.
 * Returns where the command starts in word. */
static const char *exec_prefixes_parse(const char *word, ExecPrefixes *ret) {
        ExecPrefixes x = {};
        const char *f;

        for (f = word;; f++) {
                if (*f == '-' && !x.ignore)
                        x.ignore = true;
                else if (*f == '@' && !x.argv0)
                        x.argv0 = true;
                else if (*f == ':' && !x.noenv)
                        x.noenv = true;
                else if (*f == '+' && !x.plus && !x.excl && !x.excl2)
                        x.plus = true;
                else if (*f == '!' && !x.plus && !x.excl && !x.excl2)
                        x.excl = true;
                else if (*f == '!' && x.excl && !x.excl2) {
                        x.excl = false;
                        x.excl2 = true;
                } else
                        break;
        }
        *ret = x;
        return f;
}

/* One word of a command line, as systemd's extract_first_word_and_warn(): a word with a bad
 * escape ("e\ f", "\d") is read again keeping the escape as written, with a warning, so
 * ExecStart=/bin/echo e\ f passes the one word "e\ f", as systemd does. Returns what
 * extract_word() returns; bad quoting stays -EINVAL. */
static int exec_extract_word(LoadContext *c, const ConfigItem *it, unsigned line, const char **p,
                             char **ret) {
        char q[QUOTE_SIZE];
        int r;

        r = extract_word(p, ret, EXTRACT_SEPARATOR);
        if (r != -EINVAL)
                return r;
        r = extract_word(p, ret, EXTRACT_SEPARATOR | EXTRACT_UNESCAPE_RELAX);
        if (r == 1)
                report(c, LOG_WARNING, line, "Unknown escape sequence in %s= word '%s' (kept as "
                       "written), ignoring", it->key, cut(*ret, q));
        return r;
}

/* Appends the words left at *p (the rest of the command line value) to *argv, which has
 * *n_argv words. Returns 0; UNIT_FILE_E_INVALID when the line is invalid (reported, and *argv
 * may hold some of the words); or -ENOMEM. */
static int exec_words_append(LoadContext *c, const ConfigItem *it, const char *value,
                             unsigned line, const char **p, char ***argv, size_t *n_argv) {
        char q[QUOTE_SIZE];
        int r;

        for (;;) {
                char *w;

                r = exec_extract_word(c, it, line, p, &w);
                if (r == 0)
                        break;
                if (r == -ENOMEM)
                        return r;
                if (r == EXTRACT_WORD_SEPARATOR) {
                        report(c, LOG_ERR, line,
                               "Invalid command line in %s=: '%s' (a lone ';' separates "
                               "commands in systemd, which berth does not support: write one "
                               "command per %s= line, or '\\;' or \";\" for a literal ';')",
                               it->key, cut(value, q), it->key);
                        return UNIT_FILE_E_INVALID;
                }
                if (r < 0) {
                        report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (bad quoting "
                               "or escape)", it->key, cut(value, q));
                        return UNIT_FILE_E_INVALID;
                }
                if (*n_argv >= UNIT_LIST_MAX) {
                        free(w);
                        report(c, LOG_ERR, line, "Too many arguments in %s= (more than %u)",
                               it->key, UNIT_LIST_MAX);
                        return UNIT_FILE_E_INVALID;
                }
                r = strv_consume(argv, w);
                if (r < 0)
                        return r;
                (*n_argv)++;
        }
        return 0;
}

/* Expands the specifiers of one word of a command, in place, as systemd does word by word.
 * Returns 0, 1 when reported as invalid, or -ENOMEM. */
static int exec_word_expand(LoadContext *c, const ConfigItem *it, unsigned line, char **word) {
        char why[256], q[QUOTE_SIZE];
        char *expanded;
        int r;

        if (!specifier_any(*word))
                return 0;
        r = specifier_expand(*word, c->u->name, &expanded, why, sizeof why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (%s)", it->key,
                       cut(*word, q), why);
                return 1;
        }
        free(*word);
        *word = expanded;
        return 0;
}

int exec_command_parse(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                       void *data) {
        ExecCommand **list = data;
        size_t *n = field(c, it->group, (size_t) it->arg); /* there: data is */
        _cleanup_free_ char *first = NULL, *path = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        ExecPrefixes x;
        char q[QUOTE_SIZE];
        const char *p = value, *f;
        size_t n_argv = 0;
        char *cmd_path;
        bool same;
        int r;

        if (!*value) {
                exec_command_list_free(list, n);
                return 0;
        }
        if (*n >= UNIT_LIST_MAX) {
                report(c, LOG_ERR, line, "Too many %s= commands (more than %u)", it->key,
                       UNIT_LIST_MAX);
                return 0;
        }

        r = exec_extract_word(c, it, line, &p, &first);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || r == 0 || r == EXTRACT_WORD_SEPARATOR) {
                report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (%s)", it->key,
                       cut(value, q), r < 0 ? "bad quoting or escape" : "no command");
                return 0;
        }

        f = exec_prefixes_parse(first, &x);
        if (*f == '\0') {
                report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (no command after "
                       "the prefixes)", it->key, cut(value, q));
                return 0;
        }

        path = strdup(f);
        if (!path)
                return -ENOMEM;
        if (!x.argv0) {
                r = strv_consume(&argv, strdup(f));
                if (r < 0)
                        return r;
                n_argv++;
        }
        free(first); /* f is no more */
        first = NULL;
        r = exec_words_append(c, it, value, line, &p, &argv, &n_argv);
        if (r != 0)
                return r < 0 ? r : 0; /* UNIT_FILE_E_INVALID: reported and counted */
        if (n_argv == 0) {
                report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (the '@' prefix needs "
                       "the argv[0] word after the path)", it->key, cut(value, q));
                return 0;
        }

        r = exec_word_expand(c, it, line, &path);
        for (size_t i = 0; r == 0 && argv[i]; i++)
                r = exec_word_expand(c, it, line, &argv[i]);
        if (r != 0)
                return r < 0 ? r : 0;
        if (!path_is_absolute(path) && strchr(path, '/')) {
                report(c, LOG_ERR, line,
                       "Invalid command in %s=: '%s' (expected an absolute path, or a bare "
                       "name looked up in PATH)", it->key, cut(path, q));
                return 0;
        }

        /* Mostly the path is argv[0] too: one string serves both. */
        same = streq(path, argv[0]);
        if (same) {
                free(path);
                path = NULL;
        }
        /* Kept as long as the unit: one block, which takes the room of what it is made of. */
        r = strv_pack(&argv);
        if (r < 0)
                return r;
        r = array_reserve_one(list, *n, sizeof(ExecCommand));
        if (r < 0) {
                free(argv); /* one block now, not a list of strings */
                argv = NULL;
                return r;
        }
        cmd_path = same ? argv[0] : TAKE_PTR(path);
        (*list)[(*n)++] = (ExecCommand) {
                .path = cmd_path,
                .path_is_argv0 = same,
                .argv = TAKE_PTR(argv),
                .ignore_failure = x.ignore,
                .no_env_expand = x.noenv,
                .full_privileges = x.plus,
                .no_setuid = x.excl,
                .origin = { c->file, line },
        };
        return 0;
}
