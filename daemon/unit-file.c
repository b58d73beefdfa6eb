/* unit-file: one unit's main file and drop-ins to a Unit (SPEC §1), with systemd's semantics:
 * the last assignment of a scalar key wins, list keys append and an empty assignment resets
 * them, unknown sections and keys are warnings, an invalid value is an error that fails the
 * unit after every other problem in it has been reported too. The lexing is unit-lexer's.
 * Pure: no logging; everything goes to the caller's UnitDiagFunc. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "common/address.h"
#include "common/macro.h"
#include "common/parse-util.h"
#include "daemon/unit-file.h"
#include "daemon/unit-exec.h"
#include "daemon/unit-lexer.h"
#include "daemon/unit-load.h"
#include "daemon/unit-values.h"

/* ---- enum tables ---- */

static int table_find(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

static const char *table_get(const char *const *table, size_t n, int i) {
        return i >= 0 && (size_t) i < n ? table[i] : NULL;
}

#define DEFINE_TABLE(name, type, ...)                                                              \
        static const char *const name##_table[] = { __VA_ARGS__ };                                 \
        const char *name##_to_string(type v) {                                                     \
                return table_get(name##_table, ELEMENTSOF(name##_table), (int) v);                 \
        }
#define DEFINE_TABLE_FROM_STRING(name, type)                                                       \
        type name##_from_string(const char *s) {                                                   \
                int i = table_find(name##_table, ELEMENTSOF(name##_table), s);                     \
                return i < 0 ? (type) -EINVAL : (type) i;                                          \
        }

DEFINE_TABLE(unit_type, UnitType, [UNIT_SOCKET] = "socket", [UNIT_SERVICE] = "service")
DEFINE_TABLE(listen_type, ListenType,
             [LISTEN_STREAM] = "ListenStream",
             [LISTEN_DATAGRAM] = "ListenDatagram",
             [LISTEN_SEQPACKET] = "ListenSequentialPacket")
DEFINE_TABLE(bind_ipv6_only, BindIPv6Only,
             [BIND_IPV6_ONLY_BOTH] = "both",
             [BIND_IPV6_ONLY_IPV6_ONLY] = "ipv6-only",
             [BIND_IPV6_ONLY_SEPARATE] = "separate",
             [BIND_IPV6_ONLY_DEFAULT] = "default")
DEFINE_TABLE_FROM_STRING(bind_ipv6_only, BindIPv6Only)
DEFINE_TABLE(service_type, ServiceType,
             [SERVICE_SIMPLE] = "simple",
             [SERVICE_EXEC] = "exec",
             [SERVICE_NOTIFY] = "notify",
             [SERVICE_ONESHOT] = "oneshot")
DEFINE_TABLE_FROM_STRING(service_type, ServiceType)
DEFINE_TABLE(service_restart, ServiceRestart,
             [SERVICE_RESTART_NO] = "no",
             [SERVICE_RESTART_ON_SUCCESS] = "on-success",
             [SERVICE_RESTART_ON_FAILURE] = "on-failure",
             [SERVICE_RESTART_ON_ABNORMAL] = "on-abnormal",
             [SERVICE_RESTART_ON_ABORT] = "on-abort",
             [SERVICE_RESTART_ALWAYS] = "always")
DEFINE_TABLE_FROM_STRING(service_restart, ServiceRestart)
DEFINE_TABLE(kill_mode, KillMode,
             [KILL_CONTROL_GROUP] = "control-group",
             [KILL_MIXED] = "mixed",
             [KILL_PROCESS] = "process",
             [KILL_NONE] = "none")
DEFINE_TABLE_FROM_STRING(kill_mode, KillMode)
DEFINE_TABLE(notify_access, NotifyAccess,
             [NOTIFY_ACCESS_NONE] = "none",
             [NOTIFY_ACCESS_MAIN] = "main",
             [NOTIFY_ACCESS_EXEC] = "exec",
             [NOTIFY_ACCESS_ALL] = "all")
DEFINE_TABLE_FROM_STRING(notify_access, NotifyAccess)
DEFINE_TABLE(handover, Handover,
             [HANDOVER_STOP_FIRST] = "stop-first",
             [HANDOVER_OVERLAP] = "overlap")
DEFINE_TABLE_FROM_STRING(handover, Handover)

/* ---- names ---- */

UnitType unit_name_to_type(const char *name) {
        const char *suffix, *at;
        UnitType t;
        size_t n, prefix;

        if (!name)
                return _UNIT_TYPE_INVALID;
        n = strlen(name);
        if (n == 0 || n > UNIT_NAME_MAX)
                return _UNIT_TYPE_INVALID;
        if ((suffix = endswith(name, ".socket")))
                t = UNIT_SOCKET;
        else if ((suffix = endswith(name, ".service")))
                t = UNIT_SERVICE;
        else
                return _UNIT_TYPE_INVALID;
        prefix = (size_t) (suffix - name);
        if (prefix == 0)
                return _UNIT_TYPE_INVALID;

        at = memchr(name, '@', prefix);
        if (at) {
                /* NAME@.service (template) or NAME@INSTANCE.service; berth instantiates only
                 * services. */
                if (t != UNIT_SERVICE || at == name ||
                    memchr(at + 1, '@', (size_t) (suffix - at - 1)))
                        return _UNIT_TYPE_INVALID;
        }
        for (size_t i = 0; i < prefix; i++)
                if (name[i] != '@' && !strchr(UNIT_NAME_CHARS, name[i]))
                        return _UNIT_TYPE_INVALID;
        return t;
}

char *unit_socket_service_name(const Unit *u) {
        const char *suffix;
        char *s;

        if (u->socket.service)
                return strdup(u->socket.service);
        suffix = endswith(u->name, ".socket");
        if (!suffix)
                return NULL;
        if (asprintf(&s, "%.*s%s", (int) (suffix - u->name), u->name,
                     u->socket.accept ? "@.service" : ".service") < 0)
                return NULL;
        return s;
}

char *unit_socket_fdname(const Unit *u) {
        const char *suffix;

        if (u->socket.fdname)
                return strdup(u->socket.fdname);
        suffix = endswith(u->name, ".socket");
        return strndup(u->name, suffix ? (size_t) (suffix - u->name) : strlen(u->name));
}

/* ---- construction and destruction ---- */

static void listens_free(SocketConfig *s) {
        for (size_t i = 0; i < s->n_listens; i++)
                free(s->listens[i].text);
        free(s->listens);
        s->listens = NULL;
        s->n_listens = 0;
}

static void environment_files_free(ServiceConfig *s) {
        for (size_t i = 0; i < s->n_environment_files; i++)
                free(s->environment_files[i].path);
        free(s->environment_files);
        s->environment_files = NULL;
        s->n_environment_files = 0;
}

Unit *unit_free(Unit *u) {
        if (!u)
                return NULL;

        free(u->name);
        free(u->path);
        strv_free(u->dropins);
        free(u->description);
        strv_free(u->wanted_by);

        listens_free(&u->socket);
        free(u->socket.service);
        free(u->socket.fdname);
        free(u->socket.socket_user);
        free(u->socket.socket_group);
        free(u->socket.bind_to_device);

        exec_command_list_free(&u->service.exec_start, &u->service.n_exec_start);
        exec_command_list_free(&u->service.exec_start_pre, &u->service.n_exec_start_pre);
        exec_command_list_free(&u->service.exec_reload, &u->service.n_exec_reload);
        exec_command_list_free(&u->service.exec_stop, &u->service.n_exec_stop);
        free(u->service.user);
        free(u->service.group);
        strv_free(u->service.supplementary_groups);
        free(u->service.working_directory);
        strv_free(u->service.environment);
        environment_files_free(&u->service);
        strv_free(u->service.sockets);

        free(u);
        return NULL;
}

/* ---- parsers ---- */

static int p_trigger_limit_burst(LoadContext *c, const ConfigItem *it, const char *value,
                                 unsigned line, void *data) {
        c->trigger_limit_burst_set = *value != '\0';
        return value_unsigned(c, it, value, line, data);
}

static int p_bind_ipv6_only(LoadContext *c, const ConfigItem *it, const char *value,
                            unsigned line, void *data) {
        unsigned before = c->n_errors;
        int r = value_enum(c, it, value, line, data);

        if (r >= 0 && c->n_errors == before)
                c->u->socket.bind_ipv6_only_origin = *value ? (UnitOrigin) { c->file, line }
                                                             : (UnitOrigin) {};
        return r;
}

static int p_notify_access(LoadContext *c, const ConfigItem *it, const char *value,
                           unsigned line, void *data) {
        unsigned before = c->n_errors;
        int r = value_enum(c, it, value, line, data);

        if (r >= 0 && c->n_errors == before)
                c->u->service.notify_access_set = *value != '\0';
        return r;
}

static int p_service_non_blocking(LoadContext *c, const ConfigItem *it, const char *value,
                                  unsigned line, void *data) {
        unsigned before = c->n_errors;
        int r = value_bool(c, it, value, line, data);

        if (r >= 0 && c->n_errors == before)
                c->u->service.non_blocking_set = *value != '\0';
        return r;
}

static int p_timeout_sec(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                         void *data) {
        /* TimeoutSec= sets both, as in systemd. */
        unsigned before = c->n_errors;
        int r = value_sec(c, it, value, line, &c->u->service.timeout_start_usec);

        if (r >= 0 && c->n_errors == before)
                c->u->service.timeout_stop_usec = c->u->service.timeout_start_usec;
        return r;
}

static int p_listen(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                    void *data) {
        SocketConfig *s = &c->u->socket;
        char err[ADDRESS_ERROR_MAX] = "", q[QUOTE_SIZE];
        ListenAddress a;
        char *text;
        int r;

        if (!*value) {
                /* As systemd: an empty Listen*= resets every listen entry, of all types. */
                listens_free(s);
                return 0;
        }
        if (s->n_listens >= UNIT_LISTEN_MAX) {
                report(c, LOG_ERR, line, "Too many listen entries (more than %u) at %s=",
                       UNIT_LISTEN_MAX, it->key);
                return 0;
        }
        r = address_parse(value, &a, err, sizeof err);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                report(c, LOG_ERR, line, "Invalid address in %s='%s': %s", it->key,
                       cut(value, q), err[0] ? err : "not a listen address");
                return 0;
        }
        if (it->arg == LISTEN_SEQPACKET && !address_is_unix(&a)) {
                report(c, LOG_ERR, line,
                       "Invalid address in %s='%s': sequential packet sockets are unix only; "
                       "write a path such as /run/app.sock or an abstract name such as @app",
                       it->key, cut(value, q));
                return 0;
        }
        text = strdup(value);
        if (!text)
                return -ENOMEM;
        if (array_reserve_one(&s->listens, s->n_listens, sizeof(SocketListen)) < 0) {
                free(text);
                return -ENOMEM;
        }
        s->listens[s->n_listens++] = (SocketListen) {
                .type = (ListenType) it->arg,
                .address = a,
                .text = text,
                .origin = { c->file, line },
        };
        return 0;
}

static int p_socket_service(LoadContext *c, const ConfigItem *it, const char *value,
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

static int p_environment_file(LoadContext *c, const ConfigItem *it, const char *value,
                              unsigned line, void *data) {
        ServiceConfig *s = &c->u->service;
        const char *path = value;
        bool optional = false;
        char *t;

        if (!*value) {
                environment_files_free(s);
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

static int p_working_directory(LoadContext *c, const ConfigItem *it, const char *value,
                               unsigned line, void *data) {
        ServiceConfig *s = &c->u->service;
        const char *path = value;
        bool optional = false;
        int r;

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

static int p_limit_nofile(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                          void *data) {
        ServiceConfig *s = &c->u->service;
        uint64_t soft, hard;
        int r;

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

static int p_ignore(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                    void *data) {
        return 0;
}

static int p_dependency(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                        void *data) {
        report(c, LOG_WARNING, line,
               "%s= has no effect in berth (it has no unit dependencies or ordering), ignoring",
               it->key);
        return 0;
}

static int p_unsupported(LoadContext *c, const ConfigItem *it, const char *value,
                         unsigned line, void *data) {
        report(c, LOG_WARNING, line, "%s= is not supported by berth, ignoring", it->key);
        return 0;
}

#define FIELD(f) offsetof(Unit, f), sizeof(((Unit *) 0)->f)
#define NOFIELD 0, 0
#define U SECTION_UNIT
#define SO SECTION_SOCKET
#define SE SECTION_SERVICE
#define I SECTION_INSTALL

static const ConfigItem config_items[] = {
        /* [Unit] */
        { U, "Description", value_string, FIELD(description), 0 },
        { U, "StartLimitIntervalSec", value_sec, FIELD(start_limit_interval_usec), SEC_ANY },
        { U, "StartLimitBurst", value_unsigned, FIELD(start_limit_burst), 0 },
        { U, "Documentation", p_ignore, NOFIELD, 0 },
        { U, "After", p_dependency, NOFIELD, 0 },
        { U, "Before", p_dependency, NOFIELD, 0 },
        { U, "Requires", p_dependency, NOFIELD, 0 },
        { U, "Wants", p_dependency, NOFIELD, 0 },
        { U, "Conflicts", p_dependency, NOFIELD, 0 },
        { U, "BindsTo", p_dependency, NOFIELD, 0 },
        { U, "PartOf", p_dependency, NOFIELD, 0 },
        { U, "Requisite", p_dependency, NOFIELD, 0 },
        { U, "Upholds", p_dependency, NOFIELD, 0 },
        { U, "OnFailure", p_dependency, NOFIELD, 0 },
        { U, "OnSuccess", p_dependency, NOFIELD, 0 },
        { U, "PropagatesReloadTo", p_dependency, NOFIELD, 0 },
        { U, "ReloadPropagatedFrom", p_dependency, NOFIELD, 0 },
        { U, "PropagatesStopTo", p_dependency, NOFIELD, 0 },
        { U, "StopPropagatedFrom", p_dependency, NOFIELD, 0 },
        { U, "JoinsNamespaceOf", p_dependency, NOFIELD, 0 },
        { U, "DefaultDependencies", p_dependency, NOFIELD, 0 },
        { U, "RequiresMountsFor", p_dependency, NOFIELD, 0 },
        { U, "WantsMountsFor", p_dependency, NOFIELD, 0 },
        { U, "StartLimitAction", p_unsupported, NOFIELD, 0 },
        { U, "FailureAction", p_unsupported, NOFIELD, 0 },
        { U, "SuccessAction", p_unsupported, NOFIELD, 0 },
        { U, "FailureActionExitStatus", p_unsupported, NOFIELD, 0 },
        { U, "SuccessActionExitStatus", p_unsupported, NOFIELD, 0 },
        { U, "RebootArgument", p_unsupported, NOFIELD, 0 },
        { U, "RefuseManualStart", p_unsupported, NOFIELD, 0 },
        { U, "RefuseManualStop", p_unsupported, NOFIELD, 0 },
        { U, "AllowIsolate", p_unsupported, NOFIELD, 0 },
        { U, "IgnoreOnIsolate", p_unsupported, NOFIELD, 0 },
        { U, "StopWhenUnneeded", p_unsupported, NOFIELD, 0 },
        { U, "CollectMode", p_unsupported, NOFIELD, 0 },
        { U, "JobTimeoutSec", p_unsupported, NOFIELD, 0 },
        { U, "JobRunningTimeoutSec", p_unsupported, NOFIELD, 0 },
        { U, "JobTimeoutAction", p_unsupported, NOFIELD, 0 },
        { U, "OnFailureJobMode", p_unsupported, NOFIELD, 0 },
        { U, "SourcePath", p_unsupported, NOFIELD, 0 },
        { U, "SurviveFinalKillSignal", p_unsupported, NOFIELD, 0 },

        /* [Socket] */
        { SO, "ListenStream", p_listen, NOFIELD, LISTEN_STREAM },
        { SO, "ListenDatagram", p_listen, NOFIELD, LISTEN_DATAGRAM },
        { SO, "ListenSequentialPacket", p_listen, NOFIELD, LISTEN_SEQPACKET },
        { SO, "BindIPv6Only", p_bind_ipv6_only, FIELD(socket.bind_ipv6_only), ENUM_BIND_IPV6_ONLY },
        { SO, "Backlog", value_backlog, FIELD(socket.backlog), 0 },
        { SO, "Accept", value_bool, FIELD(socket.accept), 0 },
        { SO, "Service", p_socket_service, FIELD(socket.service), 0 },
        { SO, "FileDescriptorName", value_fdname, FIELD(socket.fdname), 0 },
        { SO, "SocketUser", value_user, FIELD(socket.socket_user), 0 },
        { SO, "SocketGroup", value_user, FIELD(socket.socket_group), 0 },
        { SO, "SocketMode", value_mode, FIELD(socket.socket_mode), 07777 },
        { SO, "DirectoryMode", value_mode, FIELD(socket.directory_mode), 07777 },
        { SO, "RemoveOnStop", value_bool, FIELD(socket.remove_on_stop), 0 },
        { SO, "ReusePort", value_bool, FIELD(socket.reuse_port), 0 },
        { SO, "FreeBind", value_bool, FIELD(socket.free_bind), 0 },
        { SO, "Transparent", value_bool, FIELD(socket.transparent), 0 },
        { SO, "NoDelay", value_bool, FIELD(socket.no_delay), 0 },
        { SO, "KeepAlive", value_bool, FIELD(socket.keep_alive), 0 },
        { SO, "KeepAliveTimeSec", value_sec, FIELD(socket.keep_alive_time_usec), SEC_FINITE },
        { SO, "KeepAliveIntervalSec", value_sec, FIELD(socket.keep_alive_interval_usec),
          SEC_FINITE },
        { SO, "KeepAliveProbes", value_unsigned, FIELD(socket.keep_alive_probes), 0 },
        { SO, "DeferAcceptSec", value_sec, FIELD(socket.defer_accept_usec), SEC_FINITE },
        { SO, "ReceiveBuffer", value_buffer_size, FIELD(socket.receive_buffer), 0 },
        { SO, "SendBuffer", value_buffer_size, FIELD(socket.send_buffer), 0 },
        { SO, "BindToDevice", value_ifname, FIELD(socket.bind_to_device), 0 },
        { SO, "PassCredentials", value_bool, FIELD(socket.pass_credentials), 0 },
        { SO, "MaxConnections", value_unsigned, FIELD(socket.max_connections), 1 },
        { SO, "MaxConnectionsPerSource", value_unsigned,
          FIELD(socket.max_connections_per_source), 0 },
        { SO, "TriggerLimitIntervalSec", value_sec, FIELD(socket.trigger_limit_interval_usec),
          SEC_ANY },
        { SO, "TriggerLimitBurst", p_trigger_limit_burst, FIELD(socket.trigger_limit_burst), 0 },
        { SO, "PollLimitIntervalSec", value_sec, FIELD(socket.poll_limit_interval_usec), SEC_ANY },
        { SO, "PollLimitBurst", value_unsigned, FIELD(socket.poll_limit_burst), 0 },
        { SO, "NonBlocking", value_bool, FIELD(socket.non_blocking), 0 },
        /* systemd.socket(5) keys berth does not implement. */
        { SO, "ListenFIFO", p_unsupported, NOFIELD, 0 },
        { SO, "ListenSpecial", p_unsupported, NOFIELD, 0 },
        { SO, "ListenNetlink", p_unsupported, NOFIELD, 0 },
        { SO, "ListenMessageQueue", p_unsupported, NOFIELD, 0 },
        { SO, "ListenUSBFunction", p_unsupported, NOFIELD, 0 },
        { SO, "SocketProtocol", p_unsupported, NOFIELD, 0 },
        { SO, "Symlinks", p_unsupported, NOFIELD, 0 },
        { SO, "Writable", p_unsupported, NOFIELD, 0 },
        { SO, "FlushPending", p_unsupported, NOFIELD, 0 },
        { SO, "Priority", p_unsupported, NOFIELD, 0 },
        { SO, "Mark", p_unsupported, NOFIELD, 0 },
        { SO, "IPTOS", p_unsupported, NOFIELD, 0 },
        { SO, "IPTTL", p_unsupported, NOFIELD, 0 },
        { SO, "Broadcast", p_unsupported, NOFIELD, 0 },
        { SO, "PassSecurity", p_unsupported, NOFIELD, 0 },
        { SO, "PassPacketInfo", p_unsupported, NOFIELD, 0 },
        { SO, "PassFileDescriptorsToExec", p_unsupported, NOFIELD, 0 },
        { SO, "AcceptFileDescriptors", p_unsupported, NOFIELD, 0 },
        { SO, "Timestamping", p_unsupported, NOFIELD, 0 },
        { SO, "TCPCongestion", p_unsupported, NOFIELD, 0 },
        { SO, "PipeSize", p_unsupported, NOFIELD, 0 },
        { SO, "MessageQueueMaxMessages", p_unsupported, NOFIELD, 0 },
        { SO, "MessageQueueMessageSize", p_unsupported, NOFIELD, 0 },
        { SO, "SmackLabel", p_unsupported, NOFIELD, 0 },
        { SO, "SmackLabelIPIn", p_unsupported, NOFIELD, 0 },
        { SO, "SmackLabelIPOut", p_unsupported, NOFIELD, 0 },
        { SO, "SELinuxContextFromNet", p_unsupported, NOFIELD, 0 },
        { SO, "ExecStartPre", p_unsupported, NOFIELD, 0 },
        { SO, "ExecStartPost", p_unsupported, NOFIELD, 0 },
        { SO, "ExecStopPre", p_unsupported, NOFIELD, 0 },
        { SO, "ExecStopPost", p_unsupported, NOFIELD, 0 },
        { SO, "TimeoutSec", p_unsupported, NOFIELD, 0 },
        { SO, "DeferTrigger", p_unsupported, NOFIELD, 0 },
        { SO, "DeferTriggerMaxSec", p_unsupported, NOFIELD, 0 },
        { SO, "User", p_unsupported, NOFIELD, 0 },
        { SO, "Group", p_unsupported, NOFIELD, 0 },
        { SO, "Slice", p_unsupported, NOFIELD, 0 },

        /* [Service] */
        { SE, "ExecStart", exec_command_parse, FIELD(service.exec_start),
          offsetof(Unit, service.n_exec_start) },
        { SE, "ExecStartPre", exec_command_parse, FIELD(service.exec_start_pre),
          offsetof(Unit, service.n_exec_start_pre) },
        { SE, "ExecReload", exec_command_parse, FIELD(service.exec_reload),
          offsetof(Unit, service.n_exec_reload) },
        { SE, "ExecStop", exec_command_parse, FIELD(service.exec_stop),
          offsetof(Unit, service.n_exec_stop) },
        { SE, "Type", value_enum, FIELD(service.type), ENUM_SERVICE_TYPE },
        { SE, "Restart", value_enum, FIELD(service.restart), ENUM_RESTART },
        { SE, "RestartSec", value_sec, FIELD(service.restart_usec), SEC_ANY },
        { SE, "TimeoutStartSec", value_sec, FIELD(service.timeout_start_usec),
          SEC_ZERO_IS_INFINITY },
        { SE, "TimeoutStopSec", value_sec, FIELD(service.timeout_stop_usec), SEC_ZERO_IS_INFINITY },
        { SE, "TimeoutSec", p_timeout_sec, FIELD(service.timeout_start_usec),
          SEC_ZERO_IS_INFINITY },
        { SE, "KillSignal", value_signal, FIELD(service.kill_signal), 0 },
        { SE, "KillMode", value_enum, FIELD(service.kill_mode), ENUM_KILL_MODE },
        { SE, "ReloadSignal", value_signal, FIELD(service.reload_signal), 0 },
        { SE, "User", value_user, FIELD(service.user), 0 },
        { SE, "Group", value_user, FIELD(service.group), 0 },
        { SE, "SupplementaryGroups", value_word_list, FIELD(service.supplementary_groups),
          WORDS_GROUPS },
        { SE, "WorkingDirectory", p_working_directory, FIELD(service.working_directory), 0 },
        { SE, "Environment", value_environment, FIELD(service.environment), 0 },
        { SE, "EnvironmentFile", p_environment_file, NOFIELD, 0 },
        { SE, "UMask", value_mode, FIELD(service.umask), 0777 },
        { SE, "LimitNOFILE", p_limit_nofile, NOFIELD, 0 },
        { SE, "NoNewPrivileges", value_bool, FIELD(service.no_new_privileges), 0 },
        { SE, "Sockets", value_word_list, FIELD(service.sockets), WORDS_SOCKETS },
        { SE, "NotifyAccess", p_notify_access, FIELD(service.notify_access), ENUM_NOTIFY_ACCESS },
        { SE, "FileDescriptorStoreMax", value_fd_store_max, FIELD(service.fd_store_max), 0 },
        { SE, "WatchdogSec", value_sec, FIELD(service.watchdog_usec), SEC_INFINITY_IS_ZERO },
        { SE, "StandardInput", value_enum, FIELD(service.std_input), ENUM_STD_INPUT },
        { SE, "StandardOutput", value_enum, FIELD(service.std_output), ENUM_STD_OUTPUT },
        { SE, "StandardError", value_enum, FIELD(service.std_error), ENUM_STD_OUTPUT },
        { SE, "NonBlocking", p_service_non_blocking, FIELD(service.non_blocking), 0 },
        { SE, "Handover", value_enum, FIELD(service.handover), ENUM_HANDOVER },
        /* systemd.service(5) and systemd.exec(5) keys berth does not implement; more by prefix
         * below. */
        { SE, "ExecStartPost", p_unsupported, NOFIELD, 0 },
        { SE, "ExecStopPost", p_unsupported, NOFIELD, 0 },
        { SE, "ExecCondition", p_unsupported, NOFIELD, 0 },
        { SE, "PIDFile", p_unsupported, NOFIELD, 0 },
        { SE, "RemainAfterExit", p_unsupported, NOFIELD, 0 },
        { SE, "GuessMainPID", p_unsupported, NOFIELD, 0 },
        { SE, "BusName", p_unsupported, NOFIELD, 0 },
        { SE, "RestartSteps", p_unsupported, NOFIELD, 0 },
        { SE, "RestartMaxDelaySec", p_unsupported, NOFIELD, 0 },
        { SE, "RestartPreventExitStatus", p_unsupported, NOFIELD, 0 },
        { SE, "RestartForceExitStatus", p_unsupported, NOFIELD, 0 },
        { SE, "SuccessExitStatus", p_unsupported, NOFIELD, 0 },
        { SE, "TimeoutAbortSec", p_unsupported, NOFIELD, 0 },
        { SE, "TimeoutStartFailureMode", p_unsupported, NOFIELD, 0 },
        { SE, "TimeoutStopFailureMode", p_unsupported, NOFIELD, 0 },
        { SE, "RuntimeMaxSec", p_unsupported, NOFIELD, 0 },
        { SE, "RuntimeRandomizedExtraSec", p_unsupported, NOFIELD, 0 },
        { SE, "FileDescriptorStorePreserve", p_unsupported, NOFIELD, 0 },
        { SE, "USBFunctionDescriptors", p_unsupported, NOFIELD, 0 },
        { SE, "USBFunctionStrings", p_unsupported, NOFIELD, 0 },
        { SE, "OOMPolicy", p_unsupported, NOFIELD, 0 },
        { SE, "OOMScoreAdjust", p_unsupported, NOFIELD, 0 },
        { SE, "OpenFile", p_unsupported, NOFIELD, 0 },
        { SE, "ExitType", p_unsupported, NOFIELD, 0 },
        { SE, "RootDirectory", p_unsupported, NOFIELD, 0 },
        { SE, "RootImage", p_unsupported, NOFIELD, 0 },
        { SE, "DynamicUser", p_unsupported, NOFIELD, 0 },
        { SE, "PassEnvironment", p_unsupported, NOFIELD, 0 },
        { SE, "UnsetEnvironment", p_unsupported, NOFIELD, 0 },
        { SE, "SyslogIdentifier", p_unsupported, NOFIELD, 0 },
        { SE, "SyslogFacility", p_unsupported, NOFIELD, 0 },
        { SE, "SyslogLevel", p_unsupported, NOFIELD, 0 },
        { SE, "SyslogLevelPrefix", p_unsupported, NOFIELD, 0 },
        { SE, "LogLevelMax", p_unsupported, NOFIELD, 0 },
        { SE, "StandardInputText", p_unsupported, NOFIELD, 0 },
        { SE, "StandardInputData", p_unsupported, NOFIELD, 0 },
        { SE, "TTYPath", p_unsupported, NOFIELD, 0 },
        { SE, "Nice", p_unsupported, NOFIELD, 0 },
        { SE, "CPUAffinity", p_unsupported, NOFIELD, 0 },
        { SE, "CapabilityBoundingSet", p_unsupported, NOFIELD, 0 },
        { SE, "AmbientCapabilities", p_unsupported, NOFIELD, 0 },
        { SE, "SecureBits", p_unsupported, NOFIELD, 0 },
        { SE, "ReadWritePaths", p_unsupported, NOFIELD, 0 },
        { SE, "ReadOnlyPaths", p_unsupported, NOFIELD, 0 },
        { SE, "InaccessiblePaths", p_unsupported, NOFIELD, 0 },
        { SE, "SystemCallFilter", p_unsupported, NOFIELD, 0 },
        { SE, "SystemCallArchitectures", p_unsupported, NOFIELD, 0 },
        { SE, "SystemCallErrorNumber", p_unsupported, NOFIELD, 0 },
        { SE, "LockPersonality", p_unsupported, NOFIELD, 0 },
        { SE, "Slice", p_unsupported, NOFIELD, 0 },
        { SE, "Delegate", p_unsupported, NOFIELD, 0 },
        { SE, "TasksMax", p_unsupported, NOFIELD, 0 },
        { SE, "RuntimeDirectory", p_unsupported, NOFIELD, 0 },
        { SE, "StateDirectory", p_unsupported, NOFIELD, 0 },
        { SE, "CacheDirectory", p_unsupported, NOFIELD, 0 },
        { SE, "LogsDirectory", p_unsupported, NOFIELD, 0 },
        { SE, "ConfigurationDirectory", p_unsupported, NOFIELD, 0 },
        { SE, "RuntimeDirectoryMode", p_unsupported, NOFIELD, 0 },
        { SE, "RuntimeDirectoryPreserve", p_unsupported, NOFIELD, 0 },
        { SE, "StateDirectoryMode", p_unsupported, NOFIELD, 0 },
        { SE, "PAMName", p_unsupported, NOFIELD, 0 },
        { SE, "KillSignal2", p_unsupported, NOFIELD, 0 },
        { SE, "FinalKillSignal", p_unsupported, NOFIELD, 0 },
        { SE, "RestartKillSignal", p_unsupported, NOFIELD, 0 },
        { SE, "SendSIGKILL", p_unsupported, NOFIELD, 0 },
        { SE, "SendSIGHUP", p_unsupported, NOFIELD, 0 },
        { SE, "WatchdogSignal", p_unsupported, NOFIELD, 0 },
        { SE, "KeyringMode", p_unsupported, NOFIELD, 0 },
        { SE, "IgnoreSIGPIPE", p_unsupported, NOFIELD, 0 },
        { SE, "UtmpIdentifier", p_unsupported, NOFIELD, 0 },
        { SE, "UtmpMode", p_unsupported, NOFIELD, 0 },
        { SE, "SetCredential", p_unsupported, NOFIELD, 0 },
        { SE, "LoadCredential", p_unsupported, NOFIELD, 0 },

        /* [Install] */
        { I, "WantedBy", value_word_list, FIELD(wanted_by), WORDS_UNITS },
        { I, "Alias", p_ignore, NOFIELD, 0 },
        { I, "RequiredBy", p_ignore, NOFIELD, 0 },
        { I, "UpheldBy", p_ignore, NOFIELD, 0 },
        { I, "Also", p_ignore, NOFIELD, 0 },
        { I, "DefaultInstance", p_ignore, NOFIELD, 0 },
};

/* Families of systemd keys berth does not implement, by prefix. */
static const struct {
        SectionKind section;
        const char *prefix;
} unsupported_prefixes[] = {
        { U, "Condition" }, { U, "Assert" },
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

static int on_section(LoadContext *c, const char *name, unsigned line) {
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

static int on_assignment(LoadContext *c, const char *key, const char *value, unsigned line) {
        if (c->section == SECTION_IGNORED || c->section == SECTION_NONE)
                return 0;

        for (size_t i = 0; i < ELEMENTSOF(config_items); i++) {
                const ConfigItem *it = &config_items[i];
                if (it->section == c->section && streq(it->key, key))
                        return it->parse(c, it, value, line, field(c, it->offset));
        }
        for (size_t i = 0; i < ELEMENTSOF(unsupported_prefixes); i++)
                if (unsupported_prefixes[i].section == c->section &&
                    startswith(key, unsupported_prefixes[i].prefix)) {
                        report(c, LOG_WARNING, line, "%s= is not supported by berth, ignoring",
                               key);
                        return 0;
                }
        report(c, LOG_WARNING, line, "Unknown key '%s=' in section [%s], ignoring", key,
               section_name(c->section));
        return 0;
}

static int on_lexer_item(const char *section, const char *key, const char *value, unsigned line,
                         void *userdata) {
        LoadContext *c = userdata;

        if (!key)
                return on_section(c, section, line);
        return on_assignment(c, key, value, line);
}

/* Relays the lexer's diagnostics, counting errors. */
static void on_lexer_diag(int level, const char *file, unsigned line, const char *msg,
                          void *userdata) {
        LoadContext *c = userdata;

        load_report(c, level, file, line, "%s", msg);
}

/* ---- loading ---- */

/* Reads one file into the unit. file is owned by the unit; exactly one of f and text. */
static int load_one(LoadContext *c, const char *file, FILE *f, const char *text) {
        int r;

        c->file = file;
        c->section = SECTION_NONE;
        r = unit_lexer_parse(file, f, text, on_lexer_item, on_lexer_diag, c);
        if (r < 0)
                return r;
        /* UNIT_FILE_E_INVALID: already counted through on_lexer_diag(). */
        return 0;
}

static int load_path(LoadContext *c, const char *file) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        FILE *f;
        int r;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                if (r == -ENOMEM)
                        return r;
                load_report(c, LOG_ERR, file, 0, "Failed to open unit file: %s", strerror(-r));
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                load_report(c, LOG_ERR, file, 0, "Not a regular file, refusing to read it");
                return 0;
        }
        f = fdopen(fd, "r");
        if (!f)
                return -errno;
        fd = -1; /* owned by f now */
        r = load_one(c, file, f, NULL);
        fclose(f);
        if (r == -EIO) {
                load_report(c, LOG_ERR, file, 0, "Failed to read unit file");
                return 0;
        }
        return r;
}

static int unit_new(const char *name, UnitType type, Unit **ret) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = calloc(1, sizeof(Unit));
        if (!u)
                return -ENOMEM;
        unit_defaults(u);
        u->type = type;
        u->name = strdup(name);
        if (!u->name)
                return -ENOMEM;
        u->is_template = type == UNIT_SERVICE && endswith(name, "@.service") != NULL;
        *ret = TAKE_PTR(u);
        return 0;
}

/* Checks that need every file read: what a whole unit must have. */
static void unit_verify(LoadContext *c) {
        Unit *u = c->u;

        if (u->type == UNIT_SOCKET) {
                SocketConfig *s = &u->socket;

                if (s->n_listens == 0)
                        load_report(c, LOG_ERR, u->path, 0,
                                    "Socket unit has no ListenStream=, ListenDatagram= or "
                                    "ListenSequentialPacket= setting");
                if (s->accept && s->service)
                        load_report(c, LOG_ERR, c->service_origin.file, c->service_origin.line,
                                    "Service= cannot be used with Accept=yes: each connection "
                                    "starts an instance of the template NAME@.service");
                if (s->accept)
                        for (size_t i = 0; i < s->n_listens; i++)
                                if (s->listens[i].type == LISTEN_DATAGRAM) {
                                        char q[QUOTE_SIZE];
                                        load_report(c, LOG_ERR, s->listens[i].origin.file,
                                                    s->listens[i].origin.line,
                                                    "Accept=yes needs stream or sequential "
                                                    "packet sockets, but ListenDatagram=%s "
                                                    "cannot accept connections",
                                                    cut(s->listens[i].text, q));
                                        break;
                                }
                if (!c->trigger_limit_burst_set)
                        s->trigger_limit_burst = s->accept ? 200 : 20;
        } else {
                ServiceConfig *s = &u->service;

                if (s->n_exec_start == 0)
                        load_report(c, LOG_ERR, u->path, 0, "Service has no ExecStart= setting");
                else if (s->n_exec_start > 1 && s->type != SERVICE_ONESHOT)
                        load_report(c, LOG_ERR, s->exec_start[1].origin.file,
                                    s->exec_start[1].origin.line,
                                    "More than one ExecStart= command, which only Type=oneshot "
                                    "services may have (an empty ExecStart= resets the list)");
                if (s->type == SERVICE_ONESHOT &&
                    (s->restart == SERVICE_RESTART_ALWAYS ||
                     s->restart == SERVICE_RESTART_ON_SUCCESS))
                        load_report(c, LOG_ERR, u->path, 0,
                                    "Restart=%s is not allowed for Type=oneshot services",
                                    service_restart_to_string(s->restart));
        }
}

/* Shared by both loaders: texts is NULL to read the files at the paths. */
static int unit_load(const char *name, const char *const *paths, const char *const *texts,
                     size_t n, UnitDiagFunc diag, void *userdata, Unit **ret) {
        _cleanup_(unit_freep) Unit *u = NULL;
        LoadContext c = {
                .diag = diag,
                .userdata = userdata,
        };
        UnitType type;
        int r;

        type = unit_name_to_type(name);
        if (type < 0) {
                char q[QUOTE_SIZE];
                load_report(&c, LOG_ERR, n > 0 ? paths[0] : NULL, 0,
                            "Invalid unit name '%s': expected NAME.socket, NAME.service or "
                            "NAME@.service", cut(strna(name), q));
                return UNIT_FILE_E_INVALID;
        }
        if (n == 0 || !paths[0]) {
                load_report(&c, LOG_ERR, NULL, 0, "Unit %s has no unit file", name);
                return UNIT_FILE_E_INVALID;
        }
        if (n - 1 > UNIT_LIST_MAX) {
                load_report(&c, LOG_ERR, paths[0], 0, "Too many drop-ins (more than %u)",
                            UNIT_LIST_MAX);
                return UNIT_FILE_E_INVALID;
        }

        r = unit_new(name, type, &u);
        if (r < 0)
                return r;
        c.u = u;
        u->path = strdup(paths[0]);
        if (!u->path)
                return -ENOMEM;
        u->dropins = calloc(n, sizeof(char *));
        if (!u->dropins)
                return -ENOMEM;
        for (size_t i = 1; i < n; i++) {
                u->dropins[i - 1] = strdup(paths[i] ?: "");
                if (!u->dropins[i - 1])
                        return -ENOMEM;
        }

        for (size_t i = 0; i < n; i++) {
                const char *file = i == 0 ? u->path : u->dropins[i - 1];
                if (texts)
                        r = load_one(&c, file, NULL, texts[i] ?: "");
                else
                        r = load_path(&c, file);
                if (r < 0)
                        return r;
        }

        unit_verify(&c);
        if (c.n_errors > 0)
                return UNIT_FILE_E_INVALID;
        *ret = TAKE_PTR(u);
        return 0;
}

int unit_file_load(const char *name, const char *path, char *const *dropins, UnitDiagFunc diag,
                   void *userdata, Unit **ret) {
        _cleanup_free_ const char **paths = NULL;
        size_t n = strv_length(dropins);

        if (n > UNIT_LIST_MAX)
                n = UNIT_LIST_MAX + 1; /* unit_load() refuses it */
        paths = calloc(n + 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        paths[0] = path;
        for (size_t i = 0; i < n; i++)
                paths[i + 1] = dropins[i];
        if (!path)
                return unit_load(name, paths, NULL, 0, diag, userdata, ret);
        return unit_load(name, paths, NULL, n + 1, diag, userdata, ret);
}

int unit_file_load_strings(const char *name, const char *const *paths, const char *const *texts,
                           size_t n_texts, UnitDiagFunc diag, void *userdata, Unit **ret) {
        _cleanup_free_ const char **p = NULL;

        if (!texts)
                n_texts = 0;
        p = calloc(n_texts + 1, sizeof(char *));
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < n_texts; i++)
                p[i] = paths && paths[i] ? paths[i] : name;
        return unit_load(name, p, texts, n_texts, diag, userdata, ret);
}
