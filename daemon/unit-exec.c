/* unit-exec: ExecStart= and the other command-line keys, to ExecCommand lists. A command line
 * is split into words with systemd's quoting and escapes (common/parse-util's extract_word());
 * the first word may carry systemd's prefixes ("-", "@", ":", "+", "!", "!!"), of which berth
 * implements "-" and "@" and warns about the rest; $VAR and ${VAR} stay verbatim for spawn
 * time. A lone ";", systemd's separator of several commands on one line, is an error. Pure: no
 * logging. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/unit-exec.h"
#include "daemon/unit-file.h"
#include "daemon/unit-load.h"

void exec_command_list_free(ExecCommand **list, size_t *n) {
        for (size_t i = 0; i < *n; i++) {
                free((*list)[i].path);
                strv_free((*list)[i].argv);
        }
        free(*list);
        *list = NULL;
        *n = 0;
}

int exec_command_parse(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                       void *data) {
        ExecCommand **list = data;
        size_t *n = field(c, (size_t) it->arg);
        _cleanup_free_ char *first = NULL, *path = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        bool ignore = false, argv0 = false, noenv = false, plus = false, excl = false,
             excl2 = false;
        char q[QUOTE_SIZE];
        const char *p = value, *f;
        size_t n_argv = 0;
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

        r = extract_word(&p, &first, EXTRACT_SEPARATOR);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || r == 0 || r == EXTRACT_WORD_SEPARATOR) {
                report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (%s)", it->key,
                       cut(value, q), r < 0 ? "bad quoting or escape" : "no command");
                return 0;
        }

        /* Prefixes, as systemd: each at most once, in any order. */
        for (f = first;; f++) {
                if (*f == '-' && !ignore)
                        ignore = true;
                else if (*f == '@' && !argv0)
                        argv0 = true;
                else if (*f == ':' && !noenv)
                        noenv = true;
                else if (*f == '+' && !plus && !excl && !excl2)
                        plus = true;
                else if (*f == '!' && !plus && !excl && !excl2)
                        excl = true;
                else if (*f == '!' && excl && !excl2) {
                        excl = false;
                        excl2 = true;
                } else
                        break;
        }
        if (*f == '\0') {
                report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (no command after "
                       "the prefixes)", it->key, cut(value, q));
                return 0;
        }
        if (!path_is_absolute(f) && strchr(f, '/')) {
                report(c, LOG_ERR, line,
                       "Invalid command in %s=: '%s' (expected an absolute path, or a bare "
                       "name looked up in PATH)", it->key, cut(f, q));
                return 0;
        }
        if (noenv)
                report(c, LOG_WARNING, line, "The ':' prefix in %s= is not supported by berth "
                       "($VAR will be expanded), ignoring", it->key);
        if (plus)
                report(c, LOG_WARNING, line,
                       "The '+' prefix in %s= is not supported by berth, ignoring", it->key);
        if (excl)
                report(c, LOG_WARNING, line,
                       "The '!' prefix in %s= is not supported by berth, ignoring", it->key);
        if (excl2)
                report(c, LOG_WARNING, line,
                       "The '!!' prefix in %s= is not supported by berth, ignoring", it->key);

        path = strdup(f);
        if (!path)
                return -ENOMEM;
        if (!argv0) {
                r = strv_append_take(&argv, strdup(f));
                if (r < 0)
                        return r;
                n_argv++;
        }

        for (;;) {
                char *w;

                r = extract_word(&p, &w, EXTRACT_SEPARATOR);
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
                        return 0;
                }
                if (r < 0) {
                        report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (bad quoting "
                               "or escape)", it->key, cut(value, q));
                        return 0;
                }
                if (n_argv >= UNIT_LIST_MAX) {
                        free(w);
                        report(c, LOG_ERR, line, "Too many arguments in %s= (more than %u)",
                               it->key, UNIT_LIST_MAX);
                        return 0;
                }
                r = strv_append_take(&argv, w);
                if (r < 0)
                        return r;
                n_argv++;
        }
        if (n_argv == 0) {
                report(c, LOG_ERR, line, "Invalid command line in %s=: '%s' (the '@' prefix needs "
                       "the argv[0] word after the path)", it->key, cut(value, q));
                return 0;
        }

        r = array_reserve_one(list, *n, sizeof(ExecCommand));
        if (r < 0)
                return r;
        (*list)[(*n)++] = (ExecCommand) {
                .path = TAKE_PTR(path),
                .argv = TAKE_PTR(argv),
                .ignore_failure = ignore,
                .origin = { c->file, line },
        };
        return 0;
}
