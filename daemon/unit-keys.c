/* unit-keys: the sections and keys a unit may have, and what each key does. config_items is
 * the table of every [Unit], [Socket], [Service] and [Install] key berth reads, with its parser
 * (a value_*() kind of value, exec_command_parse(), or a key_*() handler here for keys with side
 * effects or their own checks), its field in Unit, and the parser's argument. Keys of systemd's
 * that berth lacks are in the table too, or in unsupported_prefixes by family, so they get a
 * warning saying so instead of "unknown key". Sections not for the unit's type and unknown ones
 * are skipped whole with a warning, X- sections silently. Pure: no logging. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/address.h"
#include "common/macro.h"
#include "common/parse-util.h"
#include "common/socket-util.h"
#include "daemon/specifier.h"
#include "daemon/unit-exec.h"
#include "daemon/unit-file.h"
#include "daemon/unit-keys.h"
#include "daemon/unit-load.h"
#include "daemon/unit-values.h"

/* ---- the lists the keys fill ---- */

/* Frees what a listen entry owns: its path (not a netlink entry's numbers), text and address. */
static void socket_listen_done(SocketListen *l) {
        free((char *) socket_listen_path(l));
        free(l->text);
        address_done(&l->address);
}

void socket_config_listens_free(SocketConfig *s) {
        for (size_t i = 0; i < s->n_listens; i++)
                socket_listen_done(&s->listens[i]);
        free(s->listens);
        s->listens = NULL;
        s->n_listens = 0;
}

void service_process_environment_files_free(ServiceProcess *s) {
        for (size_t i = 0; i < s->n_environment_files; i++)
                free(s->environment_files[i].path);
        free(s->environment_files);
        s->environment_files = NULL;
        s->n_environment_files = 0;
}

/* ---- keys with side effects or their own checks ---- */

static int key_trigger_limit_burst(LoadContext *c, const ConfigItem *it, const char *value,
                                   unsigned line, void *data) {
        c->trigger_limit_burst_set = *value != '\0';
        return value_unsigned(c, it, value, line, data);
}

/* Also a boolean, as systemd reads it: yes is ipv6-only, no is both. */
static int key_bind_ipv6_only(LoadContext *c, const ConfigItem *it, const char *value,
                              unsigned line, void *data) {
        bool b;

        if (bind_ipv6_only_from_string(value) < 0 && parse_boolean(value, &b) >= 0) {
                *(BindIPv6Only *) data = b ? BIND_IPV6_ONLY_IPV6_ONLY : BIND_IPV6_ONLY_BOTH;
                return 0;
        }
        return value_enum(c, it, value, line, data);
}

/* The process keys' group of the service being loaded, made on first use (unit-load.h's
 * field()); NULL on OOM. */
static ServiceProcess *service_process_of(LoadContext *c) {
        return field(c, UNIT_GROUP_SERVICE_PROCESS, 0);
}

/* StandardOutput=/StandardError=: an enum, or file:, append:, truncate: and an absolute
 * path, as in systemd.exec(5). */
static int key_std_output(LoadContext *c, const ConfigItem *it, const char *value,
                          unsigned line, void *data) {
        static const struct { const char *prefix; StdOutput kind; } files[] = {
                { "file:", STD_OUTPUT_FILE },
                { "append:", STD_OUTPUT_APPEND },
                { "truncate:", STD_OUTPUT_TRUNCATE },
        };
        bool err = streq(it->key, "StandardError");
        ServiceProcess *sp;
        char q[QUOTE_SIZE];

        *(err ? &c->std_error_set : &c->std_output_set) = *value != '\0';

        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                const char *p = startswith(value, files[i].prefix);
                char *copy;

                if (!p)
                        continue;
                if (p[0] != '/') {
                        report(c, LOG_ERR, line, "Invalid value for %s=: '%s' (expected an "
                               "absolute path after the colon)", it->key, cut(value, q));
                        return 0;
                }
                /* Only a file makes the group: StandardOutput=journal and the like do not. */
                sp = service_process_of(c);
                copy = strdup(p);
                if (!sp || !copy) {
                        free(copy);
                        return -ENOMEM;
                }
                free(*(err ? &sp->std_error_path : &sp->std_output_path));
                *(err ? &sp->std_error_path : &sp->std_output_path) = copy;
                *(StdOutput *) data = files[i].kind;
                return 0;
        }
        return value_enum(c, it, value, line, data);
}

/* PIDFile=: an absolute path, specifiers expanded (as systemd; a relative one is under
 * /run). */
static int key_pid_file(LoadContext *c, const ConfigItem *it, const char *value,
                        unsigned line, void *data) {
        char **p = data;
        char *v;

        if (!*value) {
                free(*p);
                *p = NULL;
                return 0;
        }
        if (value[0] == '/')
                v = strdup(value);
        else if (asprintf(&v, "/run/%s", value) < 0)
                v = NULL;
        if (!v)
                return -ENOMEM;
        free(*p);
        *p = v;
        return 0;
}

/* TTYPath=: an absolute path (systemd's default, /dev/console, when empty). */
static int key_tty_path(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                        void *data) {
        if (*value && !path_is_absolute(value)) {
                load_invalid(c, line, it->key, value, "an absolute path, such as /dev/tty1");
                return 0;
        }
        return value_string(c, it, value, line, data);
}

static int key_notify_access(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                             void *data) {
        unsigned before = c->n_errors;
        int r = value_enum(c, it, value, line, data);

        if (r >= 0 && c->n_errors == before) {
                ServiceExtra *x = field(c, UNIT_GROUP_SERVICE_EXTRA, 0);

                if (!x)
                        return -ENOMEM;
                x->notify_access_set = *value != '\0';
        }
        return r;
}

/* ReadyOn=accept, or empty for the default (the service's own readiness). */
static int key_ready_on(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                        void *data) {
        if (*value && !streq(value, "accept")) {
                load_invalid(c, line, it->key, value, "accept (or empty)");
                return 0;
        }
        ServiceExtra *x = field(c, UNIT_GROUP_SERVICE_EXTRA, 0);

        if (!x)
                return -ENOMEM;
        x->ready_on_accept = *value != '\0';
        return 0;
}

/* BindShim=yes|no|inherit: inherit is yes, and the programs the service executes keep the
 * library and berth's variables (a wrapper that execs the server, shim/bind.c). */
static int key_bind_shim(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                         void *data) {
        ServiceExtra *s;
        bool b = false;

        if (streq(value, "inherit"))
                b = true;
        else if (*value && parse_boolean(value, &b) < 0) {
                load_invalid(c, line, it->key, value, "yes, no or inherit");
                return 0;
        }
        s = field(c, UNIT_GROUP_SERVICE_EXTRA, 0);
        if (!s)
                return -ENOMEM;
        s->bind_shim = b;
        s->bind_shim_inherit = streq(value, "inherit");
        return 0;
}

static int key_service_non_blocking(LoadContext *c, const ConfigItem *it, const char *value,
                                    unsigned line, void *data) {
        unsigned before = c->n_errors;
        int r = value_bool(c, it, value, line, data);

        if (r >= 0 && c->n_errors == before) {
                ServiceExtra *x = field(c, UNIT_GROUP_SERVICE_EXTRA, 0);

                if (!x)
                        return -ENOMEM;
                x->non_blocking_set = *value != '\0';
        }
        return r;
}

static int key_timeout_sec(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                           void *data) {
        /* TimeoutSec= sets both, as in systemd. */
        unsigned before = c->n_errors;
        int r = value_sec(c, it, value, line, &c->u->service.timeout_start_usec);

        if (r >= 0 && c->n_errors == before)
                c->u->service.timeout_stop_usec = c->u->service.timeout_start_usec;
        return r;
}

/* ListenNetlink=: "FAMILY [GROUP]", the family by name or number, as systemd's
 * socket_address_parse_netlink() reads it. */
static int parse_netlink(const char *value, int *ret_family, unsigned *ret_group) {
        size_t n = strcspn(value, " \t");
        const char *rest = value + n + strspn(value + n, " \t");
        unsigned group = 0;
        char family[32];
        int f;

        if (n == 0 || n >= sizeof family)
                return -EINVAL;
        memcpy(family, value, n);
        family[n] = '\0';
        f = netlink_family_from_string(family);
        if (f < 0 || (*rest && parse_unsigned(rest, &group) < 0))
                return -EINVAL;
        *ret_family = f;
        *ret_group = group;
        return 0;
}

/* A POSIX message queue name: one leading '/', and a name mq_open() takes. */
static bool mqueue_name_is_valid(const char *s) {
        size_t n = strlen(s);

        return s[0] == '/' && n >= 2 && n <= NAME_MAX + 1 && !strchr(s + 1, '/') &&
               !streq(s, "/.") && !streq(s, "/..");
}

/* Parses value as an entry of it->arg's type into *l (l->path malloc'ed). Returns 0, 1 when
 * the value is invalid (reported), or -ENOMEM. */
static int listen_parse(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                        SocketListen *l) {
        char err[ADDRESS_ERROR_MAX] = "", q[QUOTE_SIZE];
        int r;

        switch (l->type) {
        case LISTEN_STREAM:
        case LISTEN_DATAGRAM:
        case LISTEN_SEQPACKET:
                r = address_parse(value, &l->address, err, sizeof err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        report(c, LOG_ERR, line, "Invalid address in %s='%s': %s", it->key,
                               cut(value, q), err[0] ? err : "not a listen address");
                        return 1;
                }
                if (l->type == LISTEN_SEQPACKET && !address_is_unix(&l->address)) {
                        report(c, LOG_ERR, line,
                               "Invalid address in %s='%s': sequential packet sockets are unix "
                               "only; write a path such as /run/app.sock or an abstract name "
                               "such as @app", it->key, cut(value, q));
                        return 1;
                }
                return 0;
        case LISTEN_FIFO:
        case LISTEN_SPECIAL:
                r = parse_absolute_path(value, &l->path);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        load_invalid(c, line, it->key, value,
                                     l->type == LISTEN_FIFO
                                             ? "an absolute path without '..', such as "
                                               "/run/app.fifo"
                                             : "the absolute path of an existing file, such as "
                                               "/dev/kmsg");
                        return 1;
                }
                return 0;
        case LISTEN_MQUEUE:
                if (!mqueue_name_is_valid(value)) {
                        load_invalid(c, line, it->key, value,
                                     "a message queue name: '/' and then up to 255 characters "
                                     "without '/', such as /app");
                        return 1;
                }
                l->path = strdup(value);
                return l->path ? 0 : -ENOMEM;
        case LISTEN_NETLINK:
                if (parse_netlink(value, &l->netlink.family, &l->netlink.group) < 0) {
                        load_invalid(c, line, it->key, value,
                                     "a netlink family (route, audit, kobject-uevent, generic, "
                                     "..., or a number below 32) and an optional multicast "
                                     "group number, such as 'kobject-uevent 1'");
                        return 1;
                }
                return 0;
        case _LISTEN_TYPE_MAX:
        case _LISTEN_TYPE_INVALID:
                break;
        }
        return -EINVAL;
}

static int key_listen(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                      void *data) {
        SocketConfig *s = &c->u->socket;
        SocketListen l = {
                .type = (ListenType) it->arg,
                .origin = { c->file, line },
        };
        char q[QUOTE_SIZE];
        int r;

        if (!*value) {
                /* As systemd: an empty Listen*= resets every listen entry, of all types. */
                socket_config_listens_free(s);
                return 0;
        }
        /* As systemd treats a line it cannot use: this line is left out and the rest of the
         * unit loads. The entries within the cap are bound, so the unit is not lost for one
         * line too many; each line past it is named. */
        if (s->n_listens >= UNIT_LISTEN_MAX) {
                report(c, LOG_WARNING, line, "Too many listen entries in this unit (more than "
                       "%u), %s=%s is not bound, ignoring", UNIT_LISTEN_MAX, it->key,
                       cut(value, q));
                return 0;
        }
        r = listen_parse(c, it, value, line, &l);
        if (r == 0) {
                char buf[ADDRESS_FORMAT_MAX];

                /* Mostly the text is what the entry formats back to: no copy then. */
                if (!streq(socket_listen_text(&l, buf, sizeof buf), value)) {
                        l.text = strdup(value);
                        if (!l.text)
                                r = -ENOMEM;
                }
                if (r == 0 &&
                    array_reserve_one(&s->listens, s->n_listens, sizeof(SocketListen)) < 0)
                        r = -ENOMEM;
        }
        if (r != 0) {
                socket_listen_done(&l);
                return r < 0 ? r : 0;
        }
        s->listens[s->n_listens++] = l;
        return 0;
}

/* Symlinks=, Writable= and MessageQueue*=: their lines, for the checks of the whole unit. */
static int key_symlinks(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                        void *data) {
        c->symlinks_origin = (UnitOrigin) { c->file, line };
        return value_word_list(c, it, value, line, data);
}

static int key_writable(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                        void *data) {
        c->writable_origin = (UnitOrigin) { c->file, line };
        return value_bool(c, it, value, line, data);
}

static int key_mq_attribute(LoadContext *c, const ConfigItem *it, const char *value,
                            unsigned line, void *data) {
        c->mq_origin = (UnitOrigin) { c->file, line };
        return value_unsigned(c, it, value, line, data);
}

static int key_socket_service(LoadContext *c, const ConfigItem *it, const char *value,
                              unsigned line, void *data) {
        char q[QUOTE_SIZE];

        if (*value) {
                if (unit_name_to_type(value) != UNIT_SERVICE) {
                        load_invalid(c, line, it->key, value,
                                     "a service unit name such as web.service");
                        return 0;
                }
                if (endswith(value, "@.service")) {
                        report(c, LOG_ERR, line,
                               "Invalid value for %s=: '%s' is a template; name a service, "
                               "or use Accept=yes to start NAME@.service per connection",
                               it->key, cut(value, q));
                        return 0;
                }
        }
        c->service_origin = *value ? (UnitOrigin) { c->file, line } : (UnitOrigin) {};
        return value_string(c, it, value, line, data);
}

static int key_environment_file(LoadContext *c, const ConfigItem *it, const char *value,
                                unsigned line, void *data) {
        ServiceProcess *s = service_process_of(c);
        const char *path = value;
        bool optional = false;
        char *t;

        if (!s)
                return -ENOMEM;
        if (!*value) {
                service_process_environment_files_free(s);
                return 0;
        }
        if (*path == '-') {
                optional = true;
                path++;
        }
        if (!path_is_absolute(path)) {
                load_invalid(c, line, it->key, value, "an absolute path, optionally after '-'");
                return 0;
        }
        if (s->n_environment_files >= UNIT_LIST_MAX) {
                report(c, LOG_ERR, line, "Too many %s= entries (more than %u)", it->key,
                       UNIT_LIST_MAX);
                return 0;
        }
        t = strdup(path);
        if (!t)
                return -ENOMEM;
        if (array_reserve_one(&s->environment_files, s->n_environment_files,
                              sizeof(EnvironmentFile)) < 0) {
                free(t);
                return -ENOMEM;
        }
        s->environment_files[s->n_environment_files++] = (EnvironmentFile) {
                .path = t,
                .optional = optional,
        };
        return 0;
}

static int key_working_directory(LoadContext *c, const ConfigItem *it, const char *value,
                                 unsigned line, void *data) {
        ServiceProcess *s = service_process_of(c);
        const char *path = value;
        bool optional = false;
        int r;

        if (!s)
                return -ENOMEM;

        if (*path == '-') {
                optional = true;
                path++;
        }
        if (*value && !streq(path, "~") && !path_is_absolute(path)) {
                load_invalid(c, line, it->key, value,
                             "an absolute path or '~', optionally after '-'");
                return 0;
        }
        r = value_string(c, it, path, line, data);
        if (r < 0)
                return r;
        s->working_directory_optional = *value ? optional : false;
        return 0;
}

/* RuntimeDirectory= and its siblings (arg: the ExecDirType): blank-separated names, each
 * checked as systemd checks it. As in systemd, an invalid name is left out with a warning and
 * the others are kept. */
static int key_exec_directory(LoadContext *c, const ConfigItem *it, const char *value,
                              unsigned line, void *data) {
        ExecDirs *d = data;
        ExecDirType t = (ExecDirType) it->arg;
        const char *p = value;
        char q[QUOTE_SIZE];
        int r;

        if (!*value) {
                exec_dirs_clear(d, t);
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *w = NULL;
                const char *why;
                char *name;

                r = extract_word(&p, &w, 0);
                if (r == 0)
                        return 0;
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        report(c, LOG_WARNING, line, "Invalid syntax in %s='%s', ignoring",
                               it->key, cut(value, q));
                        return 0;
                }
                r = exec_dir_name_parse(w, &name, &why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        report(c, LOG_WARNING, line, "Invalid name '%s' in %s=: %s, ignoring",
                               cut(w, q), it->key, why);
                        continue;
                }
                r = exec_dirs_add(d, t, name);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        report(c, LOG_ERR, line, "Too many entries in %s= (more than %u)",
                               it->key, EXEC_DIRS_MAX);
                        return 0;
                }
        }
}

/* RuntimeDirectoryPreserve=: no, yes or restart; an invalid value is ignored with a warning,
 * as in systemd. */
static int key_exec_preserve(LoadContext *c, const ConfigItem *it, const char *value,
                             unsigned line, void *data) {
        ExecPreserve p = *value ? exec_preserve_from_string(value) : EXEC_PRESERVE_NO;
        char q[QUOTE_SIZE];

        if (p < 0) {
                report(c, LOG_WARNING, line, "Invalid value for %s=: '%s' (expected no, yes or "
                       "restart), ignoring", it->key, cut(value, q));
                return 0;
        }
        *(ExecPreserve *) data = p;
        return 0;
}

static int key_dynamic_user(LoadContext *c, const ConfigItem *it, const char *value,
                            unsigned line, void *data) {
        ServiceProcess *s = service_process_of(c);

        if (!s)
                return -ENOMEM;
        s->dynamic_user_origin = (UnitOrigin) { c->file, line };
        return value_bool(c, it, value, line, data);
}

static int key_limit_nofile(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                            void *data) {
        ServiceProcess *s = service_process_of(c);
        uint64_t soft, hard;
        int r;

        if (!s)
                return -ENOMEM;

        if (!*value) {
                s->limit_nofile_soft = s->limit_nofile_hard = UINT64_MAX;
                s->limit_nofile_set = false;
                return 0;
        }
        r = parse_rlimit(value, &soft, &hard);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                load_invalid(c, line, it->key, value,
                             "a number, SOFT:HARD with SOFT <= HARD, or infinity");
                return 0;
        }
        s->limit_nofile_soft = soft;
        s->limit_nofile_hard = hard;
        s->limit_nofile_set = true;
        return 0;
}

/* IPAddressAllow=, IPAddressDeny=: a word that is not an address, a prefix or a keyword is
 * skipped with a warning, as systemd's config_parse_in_addr_prefixes() does. */
typedef struct IPWordWarning {
        LoadContext *c;
        const char *key;
        unsigned line;
} IPWordWarning;

static void ip_word_warning(const char *word, const char *why, void *userdata) {
        IPWordWarning *w = userdata;
        char q[QUOTE_SIZE];

        report(w->c, LOG_WARNING, w->line, "Invalid prefix in %s=: '%s' (%s), ignoring", w->key,
               cut(word, q), why);
}

static int key_ip_address_access(LoadContext *c, const ConfigItem *it, const char *value,
                                 unsigned line, void *data) {
        IPWordWarning w = { c, it->key, line };

        return ip_prefix_list_parse(data, value, ip_word_warning, &w);
}

static int key_ignore(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                      void *data) {
        return 0;
}

/* Quiet (berthd -v shows it): with every socket bound before any service runs and each
 * service started on demand, there is nothing to order and nothing to pull in. */
static int key_dependency(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                          void *data) {
        report(c, LOG_DEBUG, line,
               "%s= accepted; it has no effect: berth binds every socket before any service "
               "runs and starts each service on demand, so there is nothing to order",
               it->key);
        return 0;
}

/* Keys that protect the system from the service: berth runs it without them, which its author
 * did not mean, so this is said, once per unit, naming them all. */
static const char *const sandboxing_prefixes[] = {
        "Protect", "Private", "Restrict", "SystemCall", "Capability", "AmbientCapabilities",
        "SecureBits", "ReadWritePaths", "ReadOnlyPaths", "InaccessiblePaths", "ExecPaths",
        "NoExecPaths", "LockPersonality", "MemoryDenyWriteExecute",
        "RootDirectory", "RootImage", "DevicePolicy", "DeviceAllow", "SELinuxContext",
        "AppArmorProfile", "SmackProcessLabel", "KeyringMode", "Personality",
        "TemporaryFileSystem", "BindPaths", "BindReadOnlyPaths", "IPAddressDeny",
        "IPAddressAllow", "RemoveIPC", "ProcSubset", "NetworkNamespacePath",
};

static bool key_is_sandboxing(const char *key) {
        for (size_t i = 0; i < ELEMENTSOF(sandboxing_prefixes); i++)
                if (startswith(key, sandboxing_prefixes[i]))
                        return true;
        return false;
}

/* What berth does instead of what an unsupported key asks for; NULL: nothing to say. */
static const struct {
        const char *key;
        const char *instead;
} unsupported_instead[] = {
        { "RuntimeMaxSec", "the service runs without a time limit" },
        { "TimeoutAbortSec", "a watchdog timeout is handled as a stop, TimeoutStopSec=" },
        { "OOMScoreAdjust", "the service keeps berthd's OOM score" },
        { "Nice", "the service runs at berthd's priority" },
        { "CPUAffinity", "the service may run on any CPU" },
        { "SyslogIdentifier", "lines are logged under the unit's name" },
        { "LogLevelMax", "every line of output is logged" },
        { "PAMName", "no PAM session is opened" },
        { "UtmpIdentifier", "no utmp record is written" },
};

static int key_unsupported(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                           void *data) {
        const char *key = it->key;

        if (key_is_sandboxing(key)) {
                size_t n = strlen(c->sandboxing);

                if (n == 0)
                        c->sandboxing_origin = (UnitOrigin) { c->file, line };
                if (!strstr(c->sandboxing, key) && n + strlen(key) + 8 < sizeof c->sandboxing)
                        snprintf(c->sandboxing + n, sizeof c->sandboxing - n, "%s%s=",
                                 n ? ", " : "", key);
                else if (!endswith(c->sandboxing, ", ...") && !strstr(c->sandboxing, key))
                        strcpy(c->sandboxing + sizeof c->sandboxing - 6, ", ...");
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(unsupported_instead); i++)
                if (streq(unsupported_instead[i].key, key)) {
                        report(c, LOG_WARNING, line, "%s= is not supported by berth (%s), "
                               "ignoring", key, unsupported_instead[i].instead);
                        return 0;
                }
        report(c, LOG_WARNING, line, "%s= is not supported by berth, ignoring", key);
        return 0;
}

void unit_keys_finish(LoadContext *c) {
        if (c->sandboxing[0])
                load_report(c, LOG_WARNING, c->sandboxing_origin.file,
                            c->sandboxing_origin.line,
                            "Sandboxing not supported by berth: %s (the service runs with less "
                            "protection than the unit asks for), ignoring",
                            c->sandboxing);
}

/* ---- the table ---- */

#define FIELD(f) UNIT_GROUP_NONE, offsetof(Unit, f), sizeof(((Unit *) 0)->f)
#define NOFIELD UNIT_GROUP_NONE, 0, 0
/* A field of a group (unit-load.h), and the count of a list in the same place. */
#define GFIELD(g, T, f) g, offsetof(T, f), sizeof(((T *) 0)->f)
#define SOCKET_OPTION(f) GFIELD(UNIT_GROUP_SOCKET_OPTIONS, SocketOptions, f)
#define HOOK(f) GFIELD(UNIT_GROUP_SERVICE_HOOKS, ServiceHooks, f), offsetof(ServiceHooks, n_##f)
#define SOCKET_HOOK_FIELD(f) GFIELD(UNIT_GROUP_SOCKET_HOOKS, SocketHooks, f)
#define SOCKET_HOOK(f) SOCKET_HOOK_FIELD(f), offsetof(SocketHooks, n_##f)
#define EXIT_STATUS(f) GFIELD(UNIT_GROUP_EXIT_STATUS, ServiceExitStatus, f)
#define LIMIT(f) GFIELD(UNIT_GROUP_LIMITS, CGroupLimits, f)
#define DIRS(f) GFIELD(UNIT_GROUP_DIRS, ExecDirs, f)
#define PROCESS(f) GFIELD(UNIT_GROUP_SERVICE_PROCESS, ServiceProcess, f)
#define EXTRA(f) GFIELD(UNIT_GROUP_UNIT_EXTRA, UnitExtra, f)
#define SERVICE_EXTRA(f) GFIELD(UNIT_GROUP_SERVICE_EXTRA, ServiceExtra, f)
#define SOCKET_LIMIT(f) GFIELD(UNIT_GROUP_SOCKET_LIMITS, SocketLimits, f)
#define GROUP(g) g, 0, 0 /* the group itself */
#define U SECTION_UNIT
#define SO SECTION_SOCKET
#define SE SECTION_SERVICE
#define I SECTION_INSTALL

static const ConfigItem config_items[] = {
        /* [Unit] */
        { U, "Description", value_string, FIELD(description), 0 },
        { U, "StartLimitIntervalSec", value_sec, EXTRA(start_limit_interval_usec), SEC_ANY },
        { U, "StartLimitBurst", value_unsigned, EXTRA(start_limit_burst), 0 },
        /* systemd's older name, and the older place in [Service]; all still read */
        { U, "StartLimitInterval", value_sec, EXTRA(start_limit_interval_usec), SEC_ANY },
        { SE, "StartLimitIntervalSec", value_sec, EXTRA(start_limit_interval_usec), SEC_ANY },
        { SE, "StartLimitInterval", value_sec, EXTRA(start_limit_interval_usec), SEC_ANY },
        { SE, "StartLimitBurst", value_unsigned, EXTRA(start_limit_burst), 0 },
        { U, "Documentation", key_ignore, NOFIELD, 0 },
        { U, "After", key_dependency, NOFIELD, 0 },
        { U, "Before", key_dependency, NOFIELD, 0 },
        { U, "Requires", key_dependency, NOFIELD, 0 },
        { U, "Wants", key_dependency, NOFIELD, 0 },
        { U, "Conflicts", key_dependency, NOFIELD, 0 },
        { U, "BindsTo", key_dependency, NOFIELD, 0 },
        { U, "PartOf", key_dependency, NOFIELD, 0 },
        { U, "Requisite", key_dependency, NOFIELD, 0 },
        { U, "Upholds", key_dependency, NOFIELD, 0 },
        { U, "OnFailure", key_dependency, NOFIELD, 0 },
        { U, "OnSuccess", key_dependency, NOFIELD, 0 },
        { U, "PropagatesReloadTo", key_dependency, NOFIELD, 0 },
        { U, "ReloadPropagatedFrom", key_dependency, NOFIELD, 0 },
        { U, "PropagatesStopTo", key_dependency, NOFIELD, 0 },
        { U, "StopPropagatedFrom", key_dependency, NOFIELD, 0 },
        { U, "JoinsNamespaceOf", key_dependency, NOFIELD, 0 },
        { U, "DefaultDependencies", key_dependency, NOFIELD, 0 },
        { U, "RequiresMountsFor", key_dependency, NOFIELD, 0 },
        { U, "WantsMountsFor", key_dependency, NOFIELD, 0 },
        { U, "StartLimitAction", key_unsupported, NOFIELD, 0 },
        { U, "FailureAction", key_unsupported, NOFIELD, 0 },
        { U, "SuccessAction", key_unsupported, NOFIELD, 0 },
        { U, "FailureActionExitStatus", key_unsupported, NOFIELD, 0 },
        { U, "SuccessActionExitStatus", key_unsupported, NOFIELD, 0 },
        { U, "RebootArgument", key_unsupported, NOFIELD, 0 },
        { U, "RefuseManualStart", key_unsupported, NOFIELD, 0 },
        { U, "RefuseManualStop", key_unsupported, NOFIELD, 0 },
        { U, "AllowIsolate", key_unsupported, NOFIELD, 0 },
        { U, "IgnoreOnIsolate", key_unsupported, NOFIELD, 0 },
        { U, "StopWhenUnneeded", key_unsupported, NOFIELD, 0 },
        { U, "CollectMode", key_unsupported, NOFIELD, 0 },
        { U, "JobTimeoutSec", key_unsupported, NOFIELD, 0 },
        { U, "JobRunningTimeoutSec", key_unsupported, NOFIELD, 0 },
        { U, "JobTimeoutAction", key_unsupported, NOFIELD, 0 },
        { U, "OnFailureJobMode", key_unsupported, NOFIELD, 0 },
        { U, "SourcePath", key_unsupported, NOFIELD, 0 },
        { U, "SurviveFinalKillSignal", key_unsupported, NOFIELD, 0 },

        /* [Socket] */
        { SO, "ListenStream", key_listen, NOFIELD, LISTEN_STREAM },
        { SO, "ListenDatagram", key_listen, NOFIELD, LISTEN_DATAGRAM },
        { SO, "ListenSequentialPacket", key_listen, NOFIELD, LISTEN_SEQPACKET },
        { SO, "ListenFIFO", key_listen, NOFIELD, LISTEN_FIFO },
        { SO, "ListenSpecial", key_listen, NOFIELD, LISTEN_SPECIAL },
        { SO, "ListenNetlink", key_listen, NOFIELD, LISTEN_NETLINK },
        { SO, "ListenMessageQueue", key_listen, NOFIELD, LISTEN_MQUEUE },
        { SO, "BindIPv6Only", key_bind_ipv6_only, FIELD(socket.bind_ipv6_only),
          ENUM_BIND_IPV6_ONLY },
        { SO, "Backlog", value_backlog, FIELD(socket.backlog), 0 },
        { SO, "Accept", value_bool, FIELD(socket.accept), 0 },
        { SO, "Service", key_socket_service, SOCKET_OPTION(service), 0 },
        { SO, "FileDescriptorName", value_fdname, SOCKET_OPTION(fdname), 0 },
        { SO, "SocketUser", value_user, SOCKET_OPTION(socket_user), 0 },
        { SO, "SocketGroup", value_user, SOCKET_OPTION(socket_group), 0 },
        { SO, "SocketMode", value_mode, SOCKET_OPTION(socket_mode), 07777 },
        { SO, "DirectoryMode", value_mode, SOCKET_OPTION(directory_mode), 07777 },
        { SO, "RemoveOnStop", value_bool, SOCKET_OPTION(remove_on_stop), 0 },
        { SO, "Symlinks", key_symlinks, SOCKET_OPTION(symlinks), WORDS_PATHS },
        { SO, "Writable", key_writable, SOCKET_OPTION(writable), 0 },
        { SO, "MessageQueueMaxMessages", key_mq_attribute, SOCKET_OPTION(mq_max_messages), 1 },
        { SO, "MessageQueueMessageSize", key_mq_attribute, SOCKET_OPTION(mq_message_size), 1 },
        { SO, "ReusePort", value_bool, SOCKET_OPTION(reuse_port), 0 },
        { SO, "FreeBind", value_bool, SOCKET_OPTION(free_bind), 0 },
        { SO, "Transparent", value_bool, SOCKET_OPTION(transparent), 0 },
        { SO, "NoDelay", value_bool, SOCKET_OPTION(no_delay), 0 },
        { SO, "KeepAlive", value_bool, SOCKET_OPTION(keep_alive), 0 },
        { SO, "KeepAliveTimeSec", value_sec, SOCKET_OPTION(keep_alive_time_usec), SEC_FINITE },
        { SO, "KeepAliveIntervalSec", value_sec, SOCKET_OPTION(keep_alive_interval_usec),
          SEC_FINITE },
        { SO, "KeepAliveProbes", value_unsigned, SOCKET_OPTION(keep_alive_probes), 0 },
        { SO, "DeferAcceptSec", value_sec, SOCKET_OPTION(defer_accept_usec), SEC_FINITE },
        { SO, "ReceiveBuffer", value_buffer_size, SOCKET_OPTION(receive_buffer), 0 },
        { SO, "SendBuffer", value_buffer_size, SOCKET_OPTION(send_buffer), 0 },
        { SO, "BindToDevice", value_ifname, SOCKET_OPTION(bind_to_device), 0 },
        { SO, "PassCredentials", value_bool, SOCKET_OPTION(pass_credentials), 0 },
        { SO, "MaxConnections", value_unsigned, SOCKET_LIMIT(max_connections), 1 },
        { SO, "MaxConnectionsPerSource", value_unsigned,
          SOCKET_LIMIT(max_connections_per_source), 0 },
        { SO, "TriggerLimitIntervalSec", value_sec, SOCKET_LIMIT(trigger_limit_interval_usec),
          SEC_ANY },
        { SO, "TriggerLimitBurst", key_trigger_limit_burst, SOCKET_LIMIT(trigger_limit_burst), 0 },
        { SO, "PollLimitIntervalSec", value_sec, SOCKET_LIMIT(poll_limit_interval_usec), SEC_ANY },
        { SO, "PollLimitBurst", value_unsigned, SOCKET_LIMIT(poll_limit_burst), 0 },
        { SO, "AcceptStallSec", value_sec, SOCKET_LIMIT(accept_stall_usec), SEC_INFINITY_IS_ZERO },
        { SO, "NonBlocking", value_bool, FIELD(socket.non_blocking), 0 },
        { SO, "IPAddressAllow", key_ip_address_access, SOCKET_OPTION(ip_address_allow), 0 },
        { SO, "IPAddressDeny", key_ip_address_access, SOCKET_OPTION(ip_address_deny), 0 },
        /* systemd.socket(5) keys berth does not implement. */
        { SO, "ListenUSBFunction", key_unsupported, NOFIELD, 0 },
        { SO, "SocketProtocol", key_unsupported, NOFIELD, 0 },
        { SO, "FlushPending", key_unsupported, NOFIELD, 0 },
        { SO, "Priority", key_unsupported, NOFIELD, 0 },
        { SO, "Mark", key_unsupported, NOFIELD, 0 },
        { SO, "IPTOS", key_unsupported, NOFIELD, 0 },
        { SO, "IPTTL", key_unsupported, NOFIELD, 0 },
        { SO, "Broadcast", key_unsupported, NOFIELD, 0 },
        { SO, "PassSecurity", key_unsupported, NOFIELD, 0 },
        { SO, "PassPacketInfo", key_unsupported, NOFIELD, 0 },
        { SO, "PassFileDescriptorsToExec", key_unsupported, NOFIELD, 0 },
        { SO, "AcceptFileDescriptors", key_unsupported, NOFIELD, 0 },
        { SO, "Timestamping", key_unsupported, NOFIELD, 0 },
        { SO, "TCPCongestion", key_unsupported, NOFIELD, 0 },
        { SO, "PipeSize", key_unsupported, NOFIELD, 0 },
        { SO, "SmackLabel", key_unsupported, NOFIELD, 0 },
        { SO, "SmackLabelIPIn", key_unsupported, NOFIELD, 0 },
        { SO, "SmackLabelIPOut", key_unsupported, NOFIELD, 0 },
        { SO, "SELinuxContextFromNet", key_unsupported, NOFIELD, 0 },
        { SO, "ExecStartPre", exec_command_parse, SOCKET_HOOK(exec_start_pre) },
        { SO, "ExecStartPost", exec_command_parse, SOCKET_HOOK(exec_start_post) },
        { SO, "ExecStopPre", exec_command_parse, SOCKET_HOOK(exec_stop_pre) },
        { SO, "ExecStopPost", exec_command_parse, SOCKET_HOOK(exec_stop_post) },
        { SO, "TimeoutSec", value_sec, SOCKET_HOOK_FIELD(timeout_usec), SEC_ZERO_IS_INFINITY },
        { SO, "DeferTrigger", key_unsupported, NOFIELD, 0 },
        { SO, "DeferTriggerMaxSec", key_unsupported, NOFIELD, 0 },
        { SO, "User", key_unsupported, NOFIELD, 0 },
        { SO, "Group", key_unsupported, NOFIELD, 0 },
        { SO, "Slice", key_unsupported, NOFIELD, 0 },

        /* [Service] */
        { SE, "ExecStart", exec_command_parse, FIELD(service.exec_start),
          offsetof(Unit, service.n_exec_start) },
        { SE, "ExecStartPre", exec_command_parse, HOOK(exec_start_pre) },
        { SE, "ExecReload", exec_command_parse, HOOK(exec_reload) },
        { SE, "ExecStop", exec_command_parse, HOOK(exec_stop) },
        { SE, "ExecCondition", exec_command_parse, HOOK(exec_condition) },
        { SE, "ExecStartPost", exec_command_parse, HOOK(exec_start_post) },
        { SE, "ExecStopPost", exec_command_parse, HOOK(exec_stop_post) },
        { SE, "Type", value_enum, FIELD(service.type), ENUM_SERVICE_TYPE },
        { SE, "Restart", value_enum, FIELD(service.restart), ENUM_RESTART },
        { SE, "RestartSec", value_sec, FIELD(service.restart_usec), SEC_ANY },
        { SE, "TimeoutStartSec", value_sec, FIELD(service.timeout_start_usec),
          SEC_ZERO_IS_INFINITY },
        { SE, "TimeoutStopSec", value_sec, FIELD(service.timeout_stop_usec), SEC_ZERO_IS_INFINITY },
        { SE, "TimeoutSec", key_timeout_sec, FIELD(service.timeout_start_usec),
          SEC_ZERO_IS_INFINITY },
        { SE, "KillSignal", value_signal, SERVICE_EXTRA(kill_signal), 0 },
        { SE, "KillMode", value_enum, SERVICE_EXTRA(kill_mode), ENUM_KILL_MODE },
        { SE, "ReloadSignal", value_signal, SERVICE_EXTRA(reload_signal), 0 },
        { SE, "SuccessExitStatus", value_exit_status, EXIT_STATUS(success), 0 },
        { SE, "RestartPreventExitStatus", value_exit_status,
          EXIT_STATUS(restart_prevent), 0 },
        { SE, "RestartForceExitStatus", value_exit_status, EXIT_STATUS(restart_force),
          0 },
        { SE, "User", value_user, PROCESS(user), 0 },
        { SE, "Group", value_user, PROCESS(group), 0 },
        { SE, "SupplementaryGroups", value_word_list, PROCESS(supplementary_groups),
          WORDS_GROUPS },
        { SE, "WorkingDirectory", key_working_directory, PROCESS(working_directory), 0 },
        { SE, "Environment", value_environment, PROCESS(environment), 0 },
        { SE, "EnvironmentFile", key_environment_file, NOFIELD, 0 },
        { SE, "UMask", value_mode, PROCESS(umask), 0777 },
        { SE, "LimitNOFILE", key_limit_nofile, NOFIELD, 0 },
        { SE, "NoNewPrivileges", value_bool, PROCESS(no_new_privileges), 0 },
        { SE, "Sockets", value_word_list, SERVICE_EXTRA(sockets), WORDS_SOCKETS },
        { SE, "NotifyAccess", key_notify_access, SERVICE_EXTRA(notify_access), ENUM_NOTIFY_ACCESS },
        { SE, "ReadyOn", key_ready_on, 0, 0 },
        { SE, "FileDescriptorStoreMax", value_fd_store_max, SERVICE_EXTRA(fd_store_max), 0 },
        { SE, "WatchdogSec", value_sec, SERVICE_EXTRA(watchdog_usec), SEC_INFINITY_IS_ZERO },
        { SE, "LogRateLimitIntervalSec", value_sec, PROCESS(log_rate_limit_interval_usec),
          SEC_INFINITY_IS_ZERO },
        { SE, "LogRateLimitBurst", value_unsigned, PROCESS(log_rate_limit_burst), 0 },
        /* systemd.resource-control(5): applied where the service's cgroup has the controller */
        { SE, "TasksMax", value_cgroup, LIMIT(tasks_max), CGROUP_VALUE_TASKS },
        { SE, "MemoryMax", value_cgroup, LIMIT(memory_max), CGROUP_VALUE_BYTES },
        { SE, "MemoryHigh", value_cgroup, LIMIT(memory_high),
          CGROUP_VALUE_BYTES },
        { SE, "CPUQuota", value_cgroup, LIMIT(cpu_quota_per_sec_usec),
          CGROUP_VALUE_QUOTA },
        { SE, "CPUWeight", value_cgroup, LIMIT(cpu_weight), CGROUP_VALUE_WEIGHT },
        { SE, "IOWeight", value_cgroup, LIMIT(io_weight), CGROUP_VALUE_WEIGHT },
        { SE, "StandardInput", value_enum, SERVICE_EXTRA(std_input), ENUM_STD_INPUT },
        { SE, "StandardOutput", key_std_output, FIELD(service.std_output), ENUM_STD_OUTPUT },
        { SE, "StandardError", key_std_output, FIELD(service.std_error), ENUM_STD_OUTPUT },
        { SE, "NonBlocking", key_service_non_blocking, SERVICE_EXTRA(non_blocking), 0 },
        { SE, "Handover", value_enum, SERVICE_EXTRA(handover), ENUM_HANDOVER },
        { SE, "BindShim", key_bind_shim, 0, 0 },
        /* systemd.service(5) and systemd.exec(5) keys berth does not implement; more by prefix
         * below. */
        { SE, "PIDFile", key_pid_file, PROCESS(pid_file), 0 },
        { SE, "RemainAfterExit", value_bool, SERVICE_EXTRA(remain_after_exit), 0 },
        { SE, "GuessMainPID", value_bool, SERVICE_EXTRA(guess_main_pid), 0 },
        { SE, "BusName", value_string, PROCESS(bus_name), 0 },
        { SE, "RestartSteps", key_unsupported, NOFIELD, 0 },
        { SE, "RestartMaxDelaySec", key_unsupported, NOFIELD, 0 },
        { SE, "TimeoutAbortSec", key_unsupported, NOFIELD, 0 },
        { SE, "TimeoutStartFailureMode", key_unsupported, NOFIELD, 0 },
        { SE, "TimeoutStopFailureMode", key_unsupported, NOFIELD, 0 },
        { SE, "RuntimeMaxSec", key_unsupported, NOFIELD, 0 },
        { SE, "RuntimeRandomizedExtraSec", key_unsupported, NOFIELD, 0 },
        { SE, "FileDescriptorStorePreserve", key_unsupported, NOFIELD, 0 },
        { SE, "USBFunctionDescriptors", key_unsupported, NOFIELD, 0 },
        { SE, "USBFunctionStrings", key_unsupported, NOFIELD, 0 },
        { SE, "OOMPolicy", key_unsupported, NOFIELD, 0 },
        { SE, "OOMScoreAdjust", key_unsupported, NOFIELD, 0 },
        { SE, "OpenFile", key_unsupported, NOFIELD, 0 },
        { SE, "ExitType", key_unsupported, NOFIELD, 0 },
        { SE, "RootDirectory", key_unsupported, NOFIELD, 0 },
        { SE, "RootImage", key_unsupported, NOFIELD, 0 },
        { SE, "DynamicUser", key_dynamic_user, PROCESS(dynamic_user), 0 },
        { SE, "PassEnvironment", key_unsupported, NOFIELD, 0 },
        { SE, "UnsetEnvironment", key_unsupported, NOFIELD, 0 },
        { SE, "SyslogIdentifier", key_unsupported, NOFIELD, 0 },
        { SE, "SyslogFacility", key_unsupported, NOFIELD, 0 },
        { SE, "SyslogLevel", key_unsupported, NOFIELD, 0 },
        { SE, "SyslogLevelPrefix", key_unsupported, NOFIELD, 0 },
        { SE, "LogLevelMax", key_unsupported, NOFIELD, 0 },
        { SE, "StandardInputText", key_unsupported, NOFIELD, 0 },
        { SE, "StandardInputData", key_unsupported, NOFIELD, 0 },
        { SE, "TTYPath", key_tty_path, PROCESS(tty_path), 0 },
        { SE, "Nice", key_unsupported, NOFIELD, 0 },
        { SE, "CPUAffinity", key_unsupported, NOFIELD, 0 },
        { SE, "CapabilityBoundingSet", key_unsupported, NOFIELD, 0 },
        { SE, "AmbientCapabilities", key_unsupported, NOFIELD, 0 },
        { SE, "SecureBits", key_unsupported, NOFIELD, 0 },
        { SE, "ReadWritePaths", key_unsupported, NOFIELD, 0 },
        { SE, "ReadOnlyPaths", key_unsupported, NOFIELD, 0 },
        { SE, "InaccessiblePaths", key_unsupported, NOFIELD, 0 },
        { SE, "SystemCallFilter", key_unsupported, NOFIELD, 0 },
        { SE, "SystemCallArchitectures", key_unsupported, NOFIELD, 0 },
        { SE, "SystemCallErrorNumber", key_unsupported, NOFIELD, 0 },
        { SE, "LockPersonality", key_unsupported, NOFIELD, 0 },
        { SE, "Slice", key_unsupported, NOFIELD, 0 },
        { SE, "Delegate", key_unsupported, NOFIELD, 0 },
        { SE, "PAMName", key_unsupported, NOFIELD, 0 },
        { SE, "KillSignal2", key_unsupported, NOFIELD, 0 },
        { SE, "FinalKillSignal", key_unsupported, NOFIELD, 0 },
        { SE, "RestartKillSignal", key_unsupported, NOFIELD, 0 },
        { SE, "SendSIGKILL", key_unsupported, NOFIELD, 0 },
        { SE, "SendSIGHUP", key_unsupported, NOFIELD, 0 },
        { SE, "WatchdogSignal", key_unsupported, NOFIELD, 0 },
        { SE, "KeyringMode", key_unsupported, NOFIELD, 0 },
        { SE, "IgnoreSIGPIPE", value_bool, SERVICE_EXTRA(ignore_sigpipe), 0 },
        { SE, "RuntimeDirectory", key_exec_directory, GROUP(UNIT_GROUP_DIRS), EXEC_DIR_RUNTIME },
        { SE, "StateDirectory", key_exec_directory, GROUP(UNIT_GROUP_DIRS), EXEC_DIR_STATE },
        { SE, "CacheDirectory", key_exec_directory, GROUP(UNIT_GROUP_DIRS), EXEC_DIR_CACHE },
        { SE, "LogsDirectory", key_exec_directory, GROUP(UNIT_GROUP_DIRS), EXEC_DIR_LOGS },
        { SE, "ConfigurationDirectory", key_exec_directory, GROUP(UNIT_GROUP_DIRS),
          EXEC_DIR_CONFIGURATION },
        { SE, "RuntimeDirectoryMode", value_mode, DIRS(mode[EXEC_DIR_RUNTIME]),
          07777 },
        { SE, "StateDirectoryMode", value_mode, DIRS(mode[EXEC_DIR_STATE]), 07777 },
        { SE, "CacheDirectoryMode", value_mode, DIRS(mode[EXEC_DIR_CACHE]), 07777 },
        { SE, "LogsDirectoryMode", value_mode, DIRS(mode[EXEC_DIR_LOGS]), 07777 },
        { SE, "ConfigurationDirectoryMode", value_mode,
          DIRS(mode[EXEC_DIR_CONFIGURATION]), 07777 },
        { SE, "RuntimeDirectoryPreserve", key_exec_preserve,
          DIRS(runtime_preserve), 0 },
        { SE, "UtmpIdentifier", key_unsupported, NOFIELD, 0 },
        { SE, "UtmpMode", key_unsupported, NOFIELD, 0 },
        { SE, "SetCredential", key_unsupported, NOFIELD, 0 },
        { SE, "LoadCredential", key_unsupported, NOFIELD, 0 },

        /* [Install] */
        { I, "WantedBy", value_word_list, FIELD(wanted_by), WORDS_UNITS },
        { I, "Alias", key_ignore, NOFIELD, 0 },
        { I, "RequiredBy", key_ignore, NOFIELD, 0 },
        { I, "UpheldBy", key_ignore, NOFIELD, 0 },
        { I, "Also", key_ignore, NOFIELD, 0 },
        { I, "DefaultInstance", key_ignore, NOFIELD, 0 },
};

/* Families of systemd keys berth does not implement, by prefix. */
static const struct {
        SectionKind section;
        const char *prefix;
} unsupported_prefixes[] = {
        { SE, "Limit" }, { SE, "Protect" }, { SE, "Private" }, { SE, "Restrict" },
        { SE, "Memory" }, { SE, "CPU" }, { SE, "IO" }, { SE, "Startup" }, { SE, "Device" },
        { SE, "IP" }, { SE, "Socket" }, { SE, "Bind" }, { SE, "Temporary" }, { SE, "Mount" },
        { SE, "Log" }, { SE, "Personality" }, { SE, "Managed" }, { SE, "Tasks" },
        { SE, "Environment" }, { SE, "Import" }, { SE, "Extension" }, { SE, "Root" },
        { SE, "Coredump" }, { SE, "Timer" }, { SE, "NUMA" }, { SE, "Network" },
        { SE, "Selinux" }, { SE, "SELinux" }, { SE, "AppArmor" }, { SE, "Smack" },
        { SE, "Keyring" }, { SE, "Nice" }, { SE, "OOM" },
};

#undef U
#undef SO
#undef SE
#undef I

/* ---- sections and assignments ---- */

static const char *section_name(SectionKind s) {
        switch (s) {
        case SECTION_UNIT:
                return "Unit";
        case SECTION_SOCKET:
                return "Socket";
        case SECTION_SERVICE:
                return "Service";
        case SECTION_INSTALL:
                return "Install";
        case SECTION_NONE:
        case SECTION_IGNORED:
                break;
        }
        return "?";
}

int unit_keys_section(LoadContext *c, const char *name, unsigned line) {
        char q[QUOTE_SIZE];

        if (streq(name, "Unit"))
                c->section = SECTION_UNIT;
        else if (streq(name, "Install"))
                c->section = SECTION_INSTALL;
        else if (streq(name, "Socket") || streq(name, "Service")) {
                SectionKind k = streq(name, "Socket") ? SECTION_SOCKET : SECTION_SERVICE;
                if ((k == SECTION_SOCKET) != (c->u->type == UNIT_SOCKET)) {
                        report(c, LOG_WARNING, line,
                               "Section '[%s]' does not belong in a .%s unit, ignoring", name,
                               unit_type_to_string(c->u->type));
                        c->section = SECTION_IGNORED;
                } else
                        c->section = k;
        } else if (startswith(name, "X-"))
                c->section = SECTION_IGNORED;
        else {
                report(c, LOG_WARNING, line, "Unknown section '[%s]', ignoring", cut(name, q));
                c->section = SECTION_IGNORED;
        }
        return 0;
}

/* The keys whose values systemd expands specifiers in before it reads them (load-fragment.c;
 * the Exec*= commands expand theirs word by word, in unit-exec.c). */
static const char *const specifier_keys[] = {
        "Description", "ListenStream", "ListenDatagram", "ListenSequentialPacket", "ListenFIFO",
        "ListenSpecial", "ListenNetlink", "ListenMessageQueue", "Service", "FileDescriptorName",
        "SocketUser", "SocketGroup", "Symlinks", "User", "Group", "SupplementaryGroups",
        "WorkingDirectory", "Environment", "EnvironmentFile", "Sockets", "BindToDevice",
        "PIDFile", "TTYPath", "StandardOutput", "StandardError", "RuntimeDirectory", "StateDirectory",
        "CacheDirectory", "LogsDirectory", "ConfigurationDirectory",
};

static bool key_expands_specifiers(const LoadContext *c, const char *key) {
        if (c->section == SECTION_UNIT &&
            (startswith(key, "Condition") || startswith(key, "Assert")))
                return true;
        for (size_t i = 0; i < ELEMENTSOF(specifier_keys); i++)
                if (streq(specifier_keys[i], key))
                        return true;
        return false;
}

/* Condition*= and Assert*= in [Unit]: "|" (triggering), then "!" (negated), then the
 * parameter (specifiers already expanded); an empty value drops the conditions set so far. A kind
 * berth does not know counts as met, with a warning. Returns 1 when key was one. */
static int key_condition(LoadContext *c, const char *key, const char *value, unsigned line) {
        const char *kind = startswith(key, "Condition");
        bool assertion = false;
        char q[QUOTE_SIZE];
        Condition cond = {};
        UnitExtra *u;
        int r;

        if (!kind) {
                kind = startswith(key, "Assert");
                assertion = true;
        }
        if (!kind || c->section != SECTION_UNIT)
                return 0;
        cond.type = condition_type_from_string(kind);
        if (cond.type < 0) {
                report(c, LOG_WARNING, line, "%s= is not supported by berth (it counts as met), "
                       "ignoring", key);
                return 1;
        }
        u = field(c, UNIT_GROUP_UNIT_EXTRA, 0);
        if (!u)
                return -ENOMEM;
        if (!*value) {
                condition_list_free(&u->conditions, &u->n_conditions);
                return 1;
        }
        if (*value == '|') {
                cond.trigger = true;
                value++;
        }
        if (*value == '!') {
                cond.negate = true;
                value++;
        }
        if (!*value) {
                report(c, LOG_ERR, line, "Invalid value for %s=: '%s' (expected a value)", key,
                       cut(value, q));
                return 1;
        }
        if (u->n_conditions >= UNIT_LIST_MAX) {
                report(c, LOG_ERR, line, "Too many conditions (more than %u)", UNIT_LIST_MAX);
                return 1;
        }
        r = array_reserve_one(&u->conditions, u->n_conditions, sizeof(Condition));
        if (r < 0)
                return r;
        cond.assertion = assertion;
        cond.param = strdup(value);
        if (!cond.param)
                return -ENOMEM;
        cond.file = c->file;
        cond.line = line;
        u->conditions[u->n_conditions++] = cond;
        return 1;
}

int unit_keys_assign(LoadContext *c, const char *key, const char *value, unsigned line) {
        _cleanup_free_ char *expanded = NULL;
        char why[256], q[QUOTE_SIZE];
        int r;

        if (c->section == SECTION_IGNORED || c->section == SECTION_NONE)
                return 0;
        if (key_expands_specifiers(c, key) && specifier_any(value)) {
                if (c->u->is_template)
                        return 0; /* it means something only in an instance: read there */
                r = specifier_expand(value, c->u->name, &expanded, why, sizeof why);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        report(c, LOG_ERR, line, "Invalid value for %s=: '%s' (%s)", key,
                               cut(value, q), why);
                        return 0;
                }
                value = expanded;
        }
        r = key_condition(c, key, value, line);
        if (r != 0)
                return r < 0 ? r : 0;

        for (size_t i = 0; i < ELEMENTSOF(config_items); i++) {
                const ConfigItem *it = &config_items[i];

                void *data;

                if (it->section != c->section || !streq(it->key, key))
                        continue;
                data = field(c, it->group, it->offset);
                if (!data)
                        return -ENOMEM;
                return it->parse(c, it, value, line, data);
        }
        for (size_t i = 0; i < ELEMENTSOF(unsupported_prefixes); i++)
                if (unsupported_prefixes[i].section == c->section &&
                    startswith(key, unsupported_prefixes[i].prefix)) {
                        const ConfigItem it = { .section = c->section, .key = key };
                        return key_unsupported(c, &it, value, line, NULL);
                }
        report(c, LOG_WARNING, line, "Unknown key '%s=' in section [%s], ignoring", key,
               section_name(c->section));
        return 0;
}
