/* unit-values: the value parsers the key table points at, one per kind of value rather than
 * per key: strings, booleans, time spans, numbers, sizes, modes, signals, the enums, user,
 * interface and fd names, lists of words, and Environment= assignments. Each reports what is
 * wrong with a value through the load context and writes the field only when the value is
 * valid; an empty value restores the default or empties the list. Pure: no logging. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/cgroup-limits.h"
#include "daemon/unit-file.h"
#include "daemon/unit-load.h"
#include "daemon/unit-values.h"

int value_string(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data) {
        char **s = data;
        char *t = NULL;

        if (*value) {
                t = strdup(value);
                if (!t)
                        return -ENOMEM;
        }
        free(*s);
        *s = t;
        return 0;
}

int value_bool(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data) {
        bool b;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        if (parse_boolean(value, &b) < 0) {
                load_invalid(c, line, it->key, value, "yes or no");
                return 0;
        }
        *(bool *) data = b;
        return 0;
}

int value_sec(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data) {
        usec_t t;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        if (parse_sec(value, &t) < 0 || (it->arg == SEC_FINITE && t == USEC_INFINITY)) {
                load_invalid(c, line, it->key, value,
                             it->arg == SEC_FINITE ? "a time span such as 30s or 5min"
                                                   : "a time span such as 30s, 5min or infinity");
                return 0;
        }
        if (it->arg == SEC_ZERO_IS_INFINITY && t == 0)
                t = USEC_INFINITY;
        if (it->arg == SEC_INFINITY_IS_ZERO && t == USEC_INFINITY)
                t = 0;
        *(usec_t *) data = t;
        return 0;
}

int value_cgroup(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data) {
        int r;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        switch (it->arg) {
        case CGROUP_VALUE_BYTES:
        case CGROUP_VALUE_TASKS:
                r = cgroup_limit_parse(value, it->arg == CGROUP_VALUE_BYTES, data);
                if (r < 0)
                        load_invalid(c, line, it->key, value,
                                     it->arg == CGROUP_VALUE_BYTES
                                             ? "bytes (such as 512M or 2G), a percentage of "
                                               "the memory, or infinity"
                                             : "a number of tasks, a percentage of the "
                                               "system's, or infinity");
                return 0;
        case CGROUP_VALUE_QUOTA:
                if (cgroup_cpu_quota_parse(value, data) < 0)
                        load_invalid(c, line, it->key, value,
                                     "a percentage above 0 (such as 20% or 150%)");
                return 0;
        default:
                if (cgroup_weight_parse(value, data) < 0)
                        load_invalid(c, line, it->key, value, "a weight from 1 to 10000");
                return 0;
        }
}

/* Unsigned int; arg is the minimum (0 or 1). */
int value_unsigned(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                   void *data) {
        unsigned v;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        if (parse_unsigned(value, &v) < 0 || v < (unsigned) it->arg) {
                load_invalid(c, line, it->key, value,
                             it->arg > 0 ? "a positive integer" : "a non-negative integer");
                return 0;
        }
        *(unsigned *) data = v;
        return 0;
}

int value_fd_store_max(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                       void *data) {
        char expected[64];
        unsigned v;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        if (parse_unsigned(value, &v) < 0 || v > FD_STORE_MAX_MAX) {
                snprintf(expected, sizeof expected, "a number from 0 to %u", FD_STORE_MAX_MAX);
                load_invalid(c, line, it->key, value, expected);
                return 0;
        }
        *(unsigned *) data = v;
        return 0;
}

int value_backlog(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                  void *data) {
        unsigned v;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        if (parse_unsigned(value, &v) < 0 || v > INT_MAX) {
                load_invalid(c, line, it->key, value, "a number from 0 to 2147483647");
                return 0;
        }
        *(int *) data = (int) v;
        return 0;
}

int value_buffer_size(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                      void *data) {
        uint64_t v;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        if (parse_size(value, &v) < 0 || v == 0 || v > INT_MAX) {
                load_invalid(c, line, it->key, value,
                             "a size in bytes up to 2G, with an optional K, M or G suffix");
                return 0;
        }
        *(uint64_t *) data = v;
        return 0;
}

/* arg: the largest mode allowed. */
int value_mode(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data) {
        mode_t m;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        if (parse_mode(value, &m) < 0 || m > (mode_t) it->arg) {
                load_invalid(c, line, it->key, value,
                             it->arg == 0777 ? "an octal mask such as 0022"
                                             : "an octal mode such as 0660");
                return 0;
        }
        *(mode_t *) data = m;
        return 0;
}

int value_signal(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data) {
        int sig;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        if (parse_signal(value, &sig) < 0) {
                load_invalid(c, line, it->key, value,
                             "a signal such as SIGTERM, or a number 1..64");
                return 0;
        }
        *(int *) data = sig;
        return 0;
}

/* systemd's names of exit statuses (src/shared/exit-status.c): libc, LSB, BSD (sysexits.h)
 * and systemd's own. */
static const struct {
        const char *name;
        uint8_t status;
} exit_status_names[] = {
        { "SUCCESS", 0 }, { "FAILURE", 1 },
        { "INVALIDARGUMENT", 2 }, { "NOTIMPLEMENTED", 3 }, { "NOPERMISSION", 4 },
        { "NOTINSTALLED", 5 }, { "NOTCONFIGURED", 6 }, { "NOTRUNNING", 7 },
        { "USAGE", 64 }, { "DATAERR", 65 }, { "NOINPUT", 66 }, { "NOUSER", 67 },
        { "NOHOST", 68 }, { "UNAVAILABLE", 69 }, { "SOFTWARE", 70 }, { "OSERR", 71 },
        { "OSFILE", 72 }, { "CANTCREAT", 73 }, { "IOERR", 74 }, { "TEMPFAIL", 75 },
        { "PROTOCOL", 76 }, { "NOPERM", 77 }, { "CONFIG", 78 },
        { "CHDIR", 200 }, { "NICE", 201 }, { "FDS", 202 }, { "EXEC", 203 }, { "MEMORY", 204 },
        { "LIMITS", 205 }, { "OOM_ADJUST", 206 }, { "SIGNAL_MASK", 207 }, { "STDIN", 208 },
        { "STDOUT", 209 }, { "CHROOT", 210 }, { "IOPRIO", 211 }, { "TIMERSLACK", 212 },
        { "SECUREBITS", 213 }, { "SETSCHEDULER", 214 }, { "CPUAFFINITY", 215 },
        { "GROUP", 216 }, { "USER", 217 }, { "CAPABILITIES", 218 }, { "CGROUP", 219 },
        { "SETSID", 220 }, { "CONFIRM", 221 }, { "STDERR", 222 }, { "PAM", 224 },
        { "NETWORK", 225 }, { "NAMESPACE", 226 }, { "NO_NEW_PRIVILEGES", 227 },
        { "SECCOMP", 228 }, { "SELINUX_CONTEXT", 229 }, { "PERSONALITY", 230 },
        { "APPARMOR", 231 }, { "ADDRESS_FAMILIES", 232 }, { "RUNTIME_DIRECTORY", 233 },
        { "CHOWN", 235 }, { "SMACK_PROCESS_LABEL", 236 }, { "KEYRING", 237 },
        { "STATE_DIRECTORY", 238 }, { "CACHE_DIRECTORY", 239 }, { "LOGS_DIRECTORY", 240 },
        { "CONFIGURATION_DIRECTORY", 241 }, { "NUMA_POLICY", 242 }, { "CREDENTIALS", 243 },
        { "BPF", 245 }, { "EXCEPTION", 255 },
};

/* An exit status: a number 0..255 or one of systemd's names. Returns it, or -EINVAL. */
static int exit_status_from_string(const char *s) {
        unsigned v;

        for (size_t i = 0; i < ELEMENTSOF(exit_status_names); i++)
                if (streq(s, exit_status_names[i].name))
                        return exit_status_names[i].status;
        if (parse_unsigned(s, &v) < 0 || v > 255)
                return -EINVAL;
        return (int) v;
}

/* SuccessExitStatus=, RestartPreventExitStatus=, RestartForceExitStatus=: words, each an exit
 * status (a number or a name) or a signal (SIGTERM, TERM); a number is an exit status, as in
 * systemd. An empty value empties the set. A word that is neither is skipped with a warning,
 * as systemd does (config_parse_set_status()). */
int value_exit_status(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                      void *data) {
        ExitStatusSet *x = data;
        const char *p = value;
        char q[QUOTE_SIZE];

        if (!*value) {
                *x = (ExitStatusSet) {};
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *w = NULL;
                int r = extract_word(&p, &w, 0), sig;

                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        report(c, LOG_WARNING, line, "Invalid value for %s=: '%s' (bad quoting), "
                               "ignoring", it->key, cut(value, q));
                        return 0;
                }
                if (r == 0)
                        return 0;
                r = exit_status_from_string(w);
                if (r >= 0)
                        x->status[r / 64] |= UINT64_C(1) << (r % 64);
                else if (parse_signal(w, &sig) >= 0 && sig <= 64)
                        x->signals |= UINT64_C(1) << (sig - 1);
                else
                        report(c, LOG_WARNING, line, "Invalid word in %s=: '%s' (expected an exit "
                               "status 0..255, a name such as TEMPFAIL, or a signal such as "
                               "SIGTERM), ignoring", it->key, cut(w, q));
        }
}

/* Values systemd knows but berth does not implement, per key. */
typedef struct Unsupported {
        const char *key;
        const char *value; /* exact, or a prefix when it ends in ':' */
} Unsupported;

static const Unsupported unsupported_values[] = {
        { "Type", "idle" },
        { "Restart", "on-watchdog" },
        { "StandardInput", "tty" },
        { "StandardInput", "tty-force" },
        { "StandardInput", "tty-fail" },
        { "StandardInput", "data" },
        { "StandardInput", "file:" },
        { "StandardInput", "fd:" },
        { "StandardOutput", "fd:" },
        { "StandardError", "fd:" },
};

/* Reports an invalid enum value, saying so when it is a systemd value berth lacks. */
static void invalid_enum(LoadContext *c, unsigned line, const char *key, const char *value,
                         const char *expected) {
        char q[QUOTE_SIZE];

        for (size_t i = 0; i < ELEMENTSOF(unsupported_values); i++) {
                const Unsupported *x = &unsupported_values[i];
                bool prefix = endswith(x->value, ":") != NULL;
                if (streq(x->key, key) &&
                    (prefix ? startswith(value, x->value) != NULL : streq(value, x->value))) {
                        report(c, LOG_ERR, line,
                               "%s=%s is not supported by berth (expected %s)", key,
                               cut(value, q), expected);
                        return;
                }
        }
        load_invalid(c, line, key, value, expected);
}

typedef struct EnumSpec {
        int (*from_string)(const char *s);
        const char *expected;
} EnumSpec;

static int bind_ipv6_only_from_string_int(const char *s) {
        return (int) bind_ipv6_only_from_string(s);
}
static int service_type_from_string_int(const char *s) {
        return (int) service_type_from_string(s);
}
static int service_restart_from_string_int(const char *s) {
        return (int) service_restart_from_string(s);
}
static int kill_mode_from_string_int(const char *s) {
        return (int) kill_mode_from_string(s);
}
static int notify_access_from_string_int(const char *s) {
        return (int) notify_access_from_string(s);
}
static int handover_from_string_int(const char *s) {
        return (int) handover_from_string(s);
}
static int std_input_from_string_int(const char *s) {
        if (streq(s, "null"))
                return STD_INPUT_NULL;
        if (streq(s, "socket"))
                return STD_INPUT_SOCKET;
        return -EINVAL;
}
static int std_output_from_string_int(const char *s) {
        /* Everything that means "a log" goes to berthd's log. */
        static const char *const log[] = { "journal", "journal+console", "kmsg", "kmsg+console",
                                           "syslog", "syslog+console" };
        for (size_t i = 0; i < ELEMENTSOF(log); i++)
                if (streq(s, log[i]))
                        return STD_OUTPUT_LOG;
        if (streq(s, "inherit"))
                return STD_OUTPUT_INHERIT;
        if (streq(s, "null"))
                return STD_OUTPUT_NULL;
        if (streq(s, "socket"))
                return STD_OUTPUT_SOCKET;
        if (streq(s, "tty"))
                return STD_OUTPUT_TTY;
        return -EINVAL;
}

static const EnumSpec enum_specs[] = {
        [ENUM_BIND_IPV6_ONLY] = { bind_ipv6_only_from_string_int,
                                  "both, ipv6-only, separate or default" },
        [ENUM_SERVICE_TYPE] = { service_type_from_string_int,
                                "simple, exec, notify, notify-reload, oneshot, forking or dbus" },
        [ENUM_RESTART] = { service_restart_from_string_int,
                           "no, on-success, on-failure, on-abnormal, on-abort or always" },
        [ENUM_KILL_MODE] = { kill_mode_from_string_int, "control-group, mixed, process or none" },
        [ENUM_NOTIFY_ACCESS] = { notify_access_from_string_int, "none, main, exec or all" },
        [ENUM_HANDOVER] = { handover_from_string_int, "stop-first or overlap" },
        [ENUM_STD_INPUT] = { std_input_from_string_int, "null or socket" },
        [ENUM_STD_OUTPUT] = { std_output_from_string_int,
                              "journal, journal+console, inherit, null, socket, file:PATH, "
                              "append:PATH or truncate:PATH" },
};

/* Enum fields are stored as the enum type, which is int-sized. */
int value_enum(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data) {
        const EnumSpec *e = &enum_specs[it->arg];
        int v;

        if (!*value) {
                load_reset_default(c, it);
                return 0;
        }
        v = e->from_string(value);
        if (v < 0) {
                invalid_enum(c, line, it->key, value, e->expected);
                return 0;
        }
        /* A packed enum (_packed_) takes one byte. */
        if (it->size == sizeof(int8_t)) {
                int8_t b = (int8_t) v;
                memcpy(data, &b, sizeof b);
        } else
                memcpy(data, &v, sizeof v);
        return 0;
}

int value_fdname(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data) {
        size_t n = strlen(value);

        for (const char *p = value; *p; p++)
                if ((unsigned char) *p < ' ' || (unsigned char) *p >= 127 || *p == ':') {
                        load_invalid(c, line, it->key, value,
                                     "up to 255 printable ASCII characters, without ':'");
                        return 0;
                }
        if (n > 255) {
                load_invalid(c, line, it->key, value,
                             "up to 255 printable ASCII characters, without ':'");
                return 0;
        }
        return value_string(c, it, value, line, data);
}

int value_user(LoadContext *c, const ConfigItem *it, const char *value, unsigned line, void *data) {
        if (*value && !user_group_name_is_valid(value)) {
                load_invalid(c, line, it->key, value, "a user or group name, or a numeric id");
                return 0;
        }
        return value_string(c, it, value, line, data);
}

int value_ifname(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                 void *data) {
        size_t n = strlen(value);
        bool ok = n <= 15 && !streq(value, ".") && !streq(value, "..");

        for (const char *p = value; ok && *p; p++)
                if ((unsigned char) *p <= ' ' || *p == '/' || *p == ':' || *p == '%' ||
                    (unsigned char) *p >= 127)
                        ok = false;
        if (!ok) {
                load_invalid(c, line, it->key, value,
                             "a network interface name of at most 15 characters, "
                             "without '/' or blanks");
                return 0;
        }
        return value_string(c, it, value, line, data);
}

/* Checks one word of a list: returns 0 (it may replace *w with its canonical form), -EINVAL
 * when the word is not valid, or -ENOMEM. */
typedef int (*WordCheck)(char **w);

/* Any unit name, of any type (WantedBy=multi-user.target). */
static bool unit_name_is_valid_any(const char *name) {
        const char *dot;
        size_t n = strlen(name);

        if (n == 0 || n > UNIT_NAME_MAX)
                return false;
        dot = strrchr(name, '.');
        if (!dot || dot == name || dot[1] == '\0')
                return false;
        for (const char *p = name; *p; p++)
                if (*p != '@' && !strchr(UNIT_NAME_CHARS, *p))
                        return false;
        return true;
}

static int check_user_group(char **w) {
        return user_group_name_is_valid(*w) ? 0 : -EINVAL;
}
static int check_socket_name(char **w) {
        return unit_name_to_type(*w) == UNIT_SOCKET ? 0 : -EINVAL;
}
static int check_unit_name(char **w) {
        return unit_name_is_valid_any(*w) ? 0 : -EINVAL;
}
/* Simplified as systemd simplifies paths ("//" and "/./" go), so that equal paths compare
 * equal. */
static int check_absolute_path(char **w) {
        char *p;
        int r = parse_absolute_path(*w, &p);

        if (r < 0)
                return r;
        free(*w);
        *w = p;
        return 0;
}

static const struct {
        WordCheck check;
        const char *expected;
} word_checks[] = {
        [WORDS_GROUPS] = { check_user_group, "group names or numeric ids, separated by blanks" },
        [WORDS_SOCKETS] = { check_socket_name,
                            "socket unit names such as web.socket, separated by blanks" },
        [WORDS_UNITS] = { check_unit_name,
                          "unit names such as multi-user.target, separated by blanks" },
        [WORDS_PATHS] = { check_absolute_path,
                          "absolute paths without '..', separated by blanks" },
};

/* A list of words (arg: index into word_checks); empty resets. */
int value_word_list(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                    void *data) {
        _cleanup_strv_free_ char **words = NULL;
        char ***l = data;
        const char *p = value;
        size_t n = strv_length(*l);
        int r;

        if (!*value) {
                *l = strv_free(*l);
                return 0;
        }
        for (;;) {
                char *w;

                r = extract_word(&p, &w, 0);
                if (r == 0)
                        break;
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        /* w is untouched on failure */
                        load_invalid(c, line, it->key, value, word_checks[it->arg].expected);
                        return 0;
                }
                r = word_checks[it->arg].check(&w);
                if (r < 0) {
                        free(w);
                        if (r == -ENOMEM)
                                return r;
                        load_invalid(c, line, it->key, value, word_checks[it->arg].expected);
                        return 0;
                }
                if (++n > UNIT_LIST_MAX) {
                        free(w);
                        report(c, LOG_ERR, line, "Too many entries in %s= (more than %u)",
                               it->key, UNIT_LIST_MAX);
                        return 0;
                }
                r = strv_consume(&words, w);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(w, words) {
                r = strv_consume(l, TAKE_PTR(*w));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Environment=, as systemd's config_parse_environ(): word by word, a word that is not a valid
 * assignment is skipped with a warning, and bad quoting skips the rest of the line with a
 * warning (the words before it stay). Neither fails the unit. A later assignment of a variable
 * replaces the earlier one in place. */
int value_environment(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                      void *data) {
        char ***env = data;
        const char *p = value;
        char q[QUOTE_SIZE];
        int r;

        if (!*value) {
                *env = strv_free(*env);
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *w = NULL;
                bool replaced = false;
                char *eq;
                size_t k;

                r = extract_word(&p, &w, 0);
                if (r == 0)
                        return 0;
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        report(c, LOG_WARNING, line, "Invalid quoting or escape in %s= (the rest of "
                               "the line is skipped): '%s', ignoring", it->key, cut(p, q));
                        return 0;
                }
                eq = strchr(w, '=');
                if (eq)
                        *eq = '\0';
                if (!eq || !env_name_is_valid(w) || !utf8_is_valid(eq + 1)) {
                        if (eq)
                                *eq = '=';
                        report(c, LOG_WARNING, line,
                               "Invalid environment assignment in %s=: '%s' (expected VAR=value, "
                               "VAR made of letters, digits and '_'), ignoring", it->key,
                               cut(w, q));
                        continue;
                }
                *eq = '=';
                k = (size_t) (eq - w) + 1;

                STRV_FOREACH(e, *env)
                        if (strncmp(*e, w, k) == 0) {
                                free(*e);
                                *e = TAKE_PTR(w);
                                replaced = true;
                                break;
                        }
                if (replaced)
                        continue;
                if (strv_length(*env) >= UNIT_LIST_MAX) {
                        report(c, LOG_ERR, line, "Too many variables in %s= (more than %u)",
                               it->key, UNIT_LIST_MAX);
                        return 0;
                }
                r = strv_consume(env, TAKE_PTR(w));
                if (r < 0)
                        return r;
        }
}
