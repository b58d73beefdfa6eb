/* See exec-dirs.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "common/string-table.h"
#include "common/strv.h"
#include "daemon/exec-dirs.h"

DEFINE_STRING_TABLE(exec_dir_type, ExecDirType,
        [EXEC_DIR_RUNTIME] = "RuntimeDirectory",
        [EXEC_DIR_STATE] = "StateDirectory",
        [EXEC_DIR_CACHE] = "CacheDirectory",
        [EXEC_DIR_LOGS] = "LogsDirectory",
        [EXEC_DIR_CONFIGURATION] = "ConfigurationDirectory",
);
DEFINE_STRING_TABLE_FROM_STRING(exec_dir_type, ExecDirType)

const char *exec_dir_env_name(ExecDirType t) {
        static const char *const names[_EXEC_DIR_TYPE_MAX] = {
                [EXEC_DIR_RUNTIME] = "RUNTIME_DIRECTORY",
                [EXEC_DIR_STATE] = "STATE_DIRECTORY",
                [EXEC_DIR_CACHE] = "CACHE_DIRECTORY",
                [EXEC_DIR_LOGS] = "LOGS_DIRECTORY",
                [EXEC_DIR_CONFIGURATION] = "CONFIGURATION_DIRECTORY",
        };
        return string_table_get(names, ELEMENTSOF(names), (int) t);
}

DEFINE_STRING_TABLE(exec_preserve, ExecPreserve,
        [EXEC_PRESERVE_NO] = "no",
        [EXEC_PRESERVE_YES] = "yes",
        [EXEC_PRESERVE_RESTART] = "restart",
);

/* As systemd's exec_preserve_mode_from_string(): any boolean, or "restart". */
ExecPreserve exec_preserve_from_string(const char *s) {
        bool b;

        if (s && streq(s, "restart"))
                return EXEC_PRESERVE_RESTART;
        if (!s || parse_boolean(s, &b) < 0)
                return _EXEC_PRESERVE_INVALID;
        return b ? EXEC_PRESERVE_YES : EXEC_PRESERVE_NO;
}

const ExecDirs exec_dirs_none = {
        .mode = { [0 ... _EXEC_DIR_TYPE_MAX - 1] = 0755 },
        .runtime_preserve = EXEC_PRESERVE_NO,
};

void exec_dirs_defaults(ExecDirs *d) {
        *d = exec_dirs_none;
}

void exec_dirs_clear(ExecDirs *d, ExecDirType t) {
        strv_free(d->names[t]);
        d->names[t] = NULL;
}

void exec_dirs_done(ExecDirs *d) {
        for (ExecDirType t = 0; t < _EXEC_DIR_TYPE_MAX; t++)
                exec_dirs_clear(d, t);
}

bool exec_dirs_any(const ExecDirs *d) {
        for (ExecDirType t = 0; t < _EXEC_DIR_TYPE_MAX; t++)
                if (d->names[t] && d->names[t][0])
                        return true;
        return false;
}

int exec_dir_name_parse(const char *word, char **ret, const char **ret_why) {
        _cleanup_free_ char *abs = NULL, *simple = NULL;
        int r;

        *ret_why = NULL;
        if (strchr(word, ':')) {
                *ret_why = "the NAME:LINK form (a symlink to the directory) is not supported by "
                           "berth";
                return -EOPNOTSUPP;
        }
        if (word[0] == '/') {
                *ret_why = "it must be a relative path, such as 'NAME' or 'NAME/SUB'; the root "
                           "(/run, /var/lib, ...) is implied";
                return -EINVAL;
        }
        if (strlen(word) > EXEC_DIR_NAME_MAX || !utf8_is_valid(word)) {
                *ret_why = "it is too long or not valid UTF-8";
                return -EINVAL;
        }
        for (const char *p = word; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                        *ret_why = "it holds a control character";
                        return -EINVAL;
                }
        if (asprintf(&abs, "/%s", word) < 0)
                return -ENOMEM;
        /* The absolute path parser simplifies "//" and "." and refuses "..", as systemd's
         * path_simplify_and_warn() does for a relative one. */
        r = parse_absolute_path(abs, &simple);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *ret_why = "it must not contain '..' and must name a directory below the root";
                return -EINVAL;
        }
        if (streq(simple, "/private") || startswith(simple, "/private/")) {
                *ret_why = "'private' is where DynamicUser= keeps its directories";
                return -EINVAL;
        }
        *ret = strdup(simple + 1);
        return *ret ? 0 : -ENOMEM;
}

int exec_dirs_add(ExecDirs *d, ExecDirType t, char *name) {
        if (strv_contains(d->names[t], name)) {
                free(name);
                return 0;
        }
        if (strv_length(d->names[t]) >= EXEC_DIRS_MAX) {
                free(name);
                return -E2BIG;
        }
        return strv_consume(&d->names[t], name);
}

/* $var when absolute, else $HOME/rest, into *ret. */
static int xdg_or_home(ExecDirGetenv get, const char *var, const char *rest, char **ret) {
        const char *v = var ? get(var) : NULL, *home;

        if (v && v[0] == '/')
                *ret = strdup(v);
        else {
                home = get("HOME");
                if (!home || home[0] != '/')
                        return -ENXIO;
                if (asprintf(ret, "%s/%s", home, rest) < 0)
                        *ret = NULL;
        }
        return *ret ? 0 : -ENOMEM;
}

int exec_dir_root(ExecDirType t, bool user_mode, ExecDirGetenv get, char **ret) {
        static const char *const system_roots[_EXEC_DIR_TYPE_MAX] = {
                [EXEC_DIR_RUNTIME] = "/run",
                [EXEC_DIR_STATE] = "/var/lib",
                [EXEC_DIR_CACHE] = "/var/cache",
                [EXEC_DIR_LOGS] = "/var/log",
                [EXEC_DIR_CONFIGURATION] = "/etc",
        };
        _cleanup_free_ char *base = NULL;
        const char *v;
        int r;

        if (t < 0 || t >= _EXEC_DIR_TYPE_MAX)
                return -EINVAL;
        if (!user_mode) {
                *ret = strdup(system_roots[t]);
                return *ret ? 0 : -ENOMEM;
        }
        switch (t) {
        case EXEC_DIR_RUNTIME:
                v = get("XDG_RUNTIME_DIR");
                if (!v || v[0] != '/')
                        return -ENXIO;
                *ret = strdup(v);
                return *ret ? 0 : -ENOMEM;
        case EXEC_DIR_CACHE:
                return xdg_or_home(get, "XDG_CACHE_HOME", ".cache", ret);
        case EXEC_DIR_STATE:
        case EXEC_DIR_CONFIGURATION:
                /* systemd 252's user manager keeps state in the configuration directory
                 * (newer ones moved it to $XDG_STATE_HOME). */
                return xdg_or_home(get, "XDG_CONFIG_HOME", ".config", ret);
        case EXEC_DIR_LOGS:
                r = xdg_or_home(get, "XDG_CONFIG_HOME", ".config", &base);
                if (r < 0)
                        return r;
                *ret = exec_dir_path(base, "log");
                return *ret ? 0 : -ENOMEM;
        case _EXEC_DIR_TYPE_MAX:
        case _EXEC_DIR_TYPE_INVALID:
                break;
        }
        return -EINVAL;
}

char *exec_dir_path(const char *root, const char *name) {
        char *p;
        size_t n = strlen(root);

        while (n > 0 && root[n - 1] == '/')
                n--;
        if (asprintf(&p, "%.*s/%s", (int) n, root, name) < 0)
                return NULL;
        return p;
}

int exec_dirs_env(const ExecDirs *d, ExecDirType t, const char *root, char **ret) {
        size_t len = strlen(exec_dir_env_name(t)) + 2;
        char *s, *e;

        *ret = NULL;
        if (!d->names[t] || !d->names[t][0])
                return 0;
        for (char **n = d->names[t]; *n; n++)
                len += strlen(root) + 1 + strlen(*n) + 1;
        s = malloc(len);
        if (!s)
                return -ENOMEM;
        e = s + sprintf(s, "%s=", exec_dir_env_name(t));
        for (char **n = d->names[t]; *n; n++) {
                _cleanup_free_ char *p = exec_dir_path(root, *n);
                if (!p) {
                        free(s);
                        return -ENOMEM;
                }
                e += sprintf(e, "%s%s", n == d->names[t] ? "" : ":", p);
        }
        *ret = s;
        return 0;
}

bool exec_dirs_remove_runtime(ExecPreserve p, bool restarting) {
        switch (p) {
        case EXEC_PRESERVE_NO:
                return true;
        case EXEC_PRESERVE_RESTART:
                return !restarting;
        case EXEC_PRESERVE_YES:
        case _EXEC_PRESERVE_MAX:
        case _EXEC_PRESERVE_INVALID:
                break;
        }
        return false;
}

/* ---- DynamicUser= ---- */

/* 64-bit FNV-1a: stable across runs and builds, so a service keeps its uid while it is free. */
static uint64_t hash_name(const char *s) {
        uint64_t h = 0xcbf29ce484222325ULL;

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 0x100000001b3ULL;
        }
        return h;
}

bool dynamic_user_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 31)
                return false;
        if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

char *dynamic_user_name_from_unit(const char *unit) {
        size_t n = strcspn(unit, "@.");
        char *s;

        s = strndup(unit, n);
        if (!s)
                return NULL;
        if (dynamic_user_name_is_valid(s))
                return s;
        free(s);
        if (asprintf(&s, "_du%016llx", (unsigned long long) hash_name(unit)) < 0)
                return NULL;
        return s;
}

uid_t dynamic_uid_candidate(const char *name, unsigned attempt, unsigned long seed) {
        uint64_t h = hash_name(name);

        if (attempt > 0)
                h ^= (uint64_t) seed * 0x9e3779b97f4a7c15ULL + attempt;
        return (uid_t) (DYNAMIC_UID_MIN + h % (DYNAMIC_UID_MAX - DYNAMIC_UID_MIN + 1));
}
