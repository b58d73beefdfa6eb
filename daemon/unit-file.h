/* unit-file: text of one unit (main file plus drop-ins) to plain config structs (SPEC §1).
 * Pure: no sd-event, no logging. Diagnostics go to a caller-supplied sink with file:line.
 * The lexer follows systemd's rules on top of libinih (see unit-lexer.h). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/address.h"
#include "common/macro.h"
#include "daemon/cgroup-limits.h"
#include "daemon/condition.h"
#include "daemon/exec-dirs.h"
#include "daemon/ip-filter.h"

/* Caps on user-controlled sizes. */
#define UNIT_NAME_MAX 255
/* Listen entries per socket unit: as many fds as one service can be given (SPAWN_FDS_MAX);
 * each line past it is left out with a warning. */
#define UNIT_LISTEN_MAX 4096
#define UNIT_LIST_MAX 4096        /* entries in any other list key */
#define UNIT_VALUE_MAX (1U << 20) /* one logical line (after continuations) */

/* Positive, expected outcome of the loaders: the unit is invalid; the reasons were reported
 * through the diagnostic sink. */
#define UNIT_FILE_E_INVALID 1

/* A diagnostic: level is LOG_WARNING or LOG_ERR (syslog.h). file may be NULL and line 0 when
 * the message is not about one line. msg is one line, without the file:line prefix, and names
 * the key when there is one ("Invalid port in ListenStream='99999': ..."). */
typedef void (*UnitDiagFunc)(int level, const char *file, unsigned line, const char *msg,
                             void *userdata);

/* Formats a diagnostic and hands it to diag (which may be NULL: then nothing happens). The
 * message is never cut. */
void unit_diagf(UnitDiagFunc diag, void *userdata, int level, const char *file, unsigned line,
                const char *fmt, ...) _printf_(6, 7);

typedef enum UnitType {
        UNIT_SOCKET,
        UNIT_SERVICE,
        _UNIT_TYPE_MAX,
        _UNIT_TYPE_INVALID = -EINVAL,
} UnitType;

/* Every Listen type of systemd.socket(5). The first three take a listen address; the others
 * a path, a name or a netlink family (SocketListen). */
typedef enum ListenType {
        LISTEN_STREAM,
        LISTEN_DATAGRAM,
        LISTEN_SEQPACKET,
        LISTEN_FIFO,
        LISTEN_SPECIAL,
        LISTEN_NETLINK,
        LISTEN_MQUEUE,
        _LISTEN_TYPE_MAX,
        _LISTEN_TYPE_INVALID = -EINVAL,
} ListenType;

/* Whether entries of type t hold a ListenAddress (stream, datagram, seqpacket). */
static inline bool listen_type_has_address(ListenType t) {
        return t == LISTEN_STREAM || t == LISTEN_DATAGRAM || t == LISTEN_SEQPACKET;
}

typedef enum BindIPv6Only {
        BIND_IPV6_ONLY_BOTH,     /* absent key, or "both" */
        BIND_IPV6_ONLY_IPV6_ONLY,
        BIND_IPV6_ONLY_SEPARATE, /* berth's own */
        BIND_IPV6_ONLY_DEFAULT,  /* systemd's: follow the sysctl, explicitly */
        _BIND_IPV6_ONLY_MAX,
        _BIND_IPV6_ONLY_INVALID = -EINVAL,
} BindIPv6Only;

/* Where a setting came from, for messages. file is owned by the Unit (one of its paths). */
typedef struct UnitOrigin {
        const char *file;
        unsigned line;
} UnitOrigin;

typedef struct SocketListen {
        ListenType type;
        ListenAddress address;  /* stream, datagram, seqpacket */
        union {
                char *path;     /* FIFO, special: an absolute path, simplified; message queue:
                                 * "/name". Owned; NULL for the socket types (not netlink's:
                                 * read it through socket_listen_path()) */
                struct {
                        int family;     /* the protocol, NETLINK_ROUTE ... */
                        unsigned group; /* nl_groups as written (a bit mask, as in systemd) */
                } netlink;      /* netlink */
        };
        char *text;             /* as written, owned; NULL when it is what the address (or path)
                                 * formats back to: read it with socket_listen_text() */
        UnitOrigin origin;
} SocketListen;

/* The path or name of a FIFO, special file or message queue entry; NULL for any other. */
static inline const char *socket_listen_path(const SocketListen *l) {
        return l->type == LISTEN_NETLINK ? NULL : l->path;
}

/* The listen entry as written: its text, or its address or path formatted (into buf, at least
 * ADDRESS_FORMAT_MAX bytes) when that is the same. Returns the text. */
const char *socket_listen_text(const SocketListen *l, char *buf, size_t len);
/* The same into a buffer of the enclosing block, for a message. */
#define LISTEN_TEXT(l) socket_listen_text((l), (char[ADDRESS_FORMAT_MAX]) { 0 }, ADDRESS_FORMAT_MAX)

/* Groups of keys most units never set live in allocations of their own, made by the loader
 * when one of their keys is assigned: a unit without any pays one pointer per group. Read
 * them through the accessors (socket_config_options(), service_config_hooks() ...), which
 * give the defaults when the group was never set. */

/* The socket options of a socket unit. Unset numbers are 0. */
typedef struct SocketOptions {
        char *socket_user, *socket_group;
        mode_t socket_mode;        /* default 0666; also FIFOs and message queues */
        mode_t directory_mode;     /* default 0755 */
        char **symlinks;           /* Symlinks=: absolute paths, to the one unix path or FIFO */
        unsigned mq_max_messages;  /* MessageQueueMaxMessages=; 0: unset */
        unsigned mq_message_size;  /* MessageQueueMessageSize=; 0: unset */
        bool remove_on_stop;
        bool writable;             /* Writable=: ListenSpecial= opens read-write */
        bool reuse_port, free_bind, transparent, no_delay, keep_alive, pass_credentials;
        unsigned keep_alive_probes;      /* 0: unset */
        usec_t keep_alive_time_usec;     /* 0: unset */
        usec_t keep_alive_interval_usec; /* 0: unset */
        usec_t defer_accept_usec;        /* 0: unset */
        uint64_t receive_buffer, send_buffer; /* 0: unset; bytes (K, M, G suffixes, 1024-based) */
        char *bind_to_device;
        char *service;             /* Service=, or NULL for the default NAME.service */
        char *fdname;              /* FileDescriptorName=, or NULL for the unit's name */
        /* IPAddressAllow=, IPAddressDeny=: a locked socket filter on its inet sockets. */
        IPPrefixList ip_address_allow, ip_address_deny;
} SocketOptions;

/* What a socket unit lets through: connections with Accept=yes, wake-ups of berthd, and how
 * long a connection may wait unaccepted. */
typedef struct SocketLimits {
        unsigned max_connections;            /* default 64 */
        unsigned max_connections_per_source; /* 0: unset (no limit) */
        unsigned trigger_limit_burst;        /* default 20 (200 with Accept=yes, as systemd) */
        unsigned poll_limit_burst;           /* default 150 */
        usec_t trigger_limit_interval_usec;  /* default 2s */
        usec_t poll_limit_interval_usec;     /* default 2s */
        usec_t accept_stall_usec;            /* AcceptStallSec= (berth's), default 10 s; 0 off */
} SocketLimits;

/* Unset numbers are 0 / USEC_INFINITY as noted; tristates are -1 when unset. */
typedef struct SocketConfig {
        SocketListen *listens;
        unsigned n_listens;        /* at most UNIT_LISTEN_MAX */
        BindIPv6Only bind_ipv6_only;
        int backlog;               /* -1: the kernel's somaxconn */
        bool accept;
        bool non_blocking;
        SocketOptions *options;    /* NULL: the defaults (socket_config_options()) */
        SocketLimits *limits;                /* NULL: the defaults (socket_config_limits()) */
        struct SocketHooks *hooks;           /* NULL: none (socket_config_hooks()) */
} SocketConfig;

/* ExecStartPre= before a socket unit's sockets are bound, ExecStartPost= after; ExecStopPre=
 * before they are closed, ExecStopPost= after; each within TimeoutSec=. */
typedef struct SocketHooks {
        struct ExecCommand *exec_start_pre, *exec_start_post, *exec_stop_pre, *exec_stop_post;
        size_t n_exec_start_pre, n_exec_start_post, n_exec_stop_pre, n_exec_stop_post;
        usec_t timeout_usec;                 /* default 90 s */
} SocketHooks;

extern const SocketOptions socket_options_defaults;
extern const SocketHooks socket_hooks_none;
extern const SocketLimits socket_limits_defaults;
static inline const SocketOptions *socket_config_options(const SocketConfig *c) {
        return c->options ?: &socket_options_defaults;
}
static inline const SocketLimits *socket_config_limits(const SocketConfig *c) {
        return c->limits ?: &socket_limits_defaults;
}
static inline const SocketHooks *socket_config_hooks(const SocketConfig *c) {
        return c->hooks ?: &socket_hooks_none;
}

typedef enum _packed_ ServiceType {
        SERVICE_SIMPLE,
        SERVICE_EXEC,
        SERVICE_NOTIFY,
        SERVICE_FORKING, /* started once its first process exits; main: PIDFile= or a guess */
        SERVICE_DBUS,    /* started once BusName= appears on the system bus */
        SERVICE_ONESHOT,
        SERVICE_NOTIFY_RELOAD, /* notify, and a reload is ReloadSignal= then RELOADING=1 and
                                * READY=1 */
        _SERVICE_TYPE_MAX,
        _SERVICE_TYPE_INVALID = -EINVAL,
} ServiceType;

typedef enum _packed_ ServiceRestart {
        SERVICE_RESTART_NO,
        SERVICE_RESTART_ON_SUCCESS,
        SERVICE_RESTART_ON_FAILURE,
        SERVICE_RESTART_ON_ABNORMAL,
        SERVICE_RESTART_ON_ABORT,
        SERVICE_RESTART_ALWAYS,
        _SERVICE_RESTART_MAX,
        _SERVICE_RESTART_INVALID = -EINVAL,
} ServiceRestart;

typedef enum KillMode {
        KILL_CONTROL_GROUP, /* berth: the whole process group */
        KILL_MIXED,
        KILL_PROCESS,
        KILL_NONE,
        _KILL_MODE_MAX,
        _KILL_MODE_INVALID = -EINVAL,
} KillMode;

typedef enum NotifyAccess {
        NOTIFY_ACCESS_NONE,
        NOTIFY_ACCESS_MAIN,
        NOTIFY_ACCESS_EXEC,
        NOTIFY_ACCESS_ALL,
        _NOTIFY_ACCESS_MAX,
        _NOTIFY_ACCESS_INVALID = -EINVAL,
} NotifyAccess;

typedef enum Handover {
        HANDOVER_STOP_FIRST,
        HANDOVER_OVERLAP,
        _HANDOVER_MAX,
        _HANDOVER_INVALID = -EINVAL,
} Handover;

typedef enum StdInput {
        STD_INPUT_NULL,
        STD_INPUT_SOCKET,
        _STD_INPUT_MAX,
        _STD_INPUT_INVALID = -EINVAL,
} StdInput;

typedef enum _packed_ StdOutput {
        STD_OUTPUT_LOG,     /* default: berthd's log, "unit[pid]: line" ("journal" maps here) */
        STD_OUTPUT_INHERIT,
        STD_OUTPUT_NULL,
        STD_OUTPUT_SOCKET,
        STD_OUTPUT_FILE,     /* file:PATH, written from its start */
        STD_OUTPUT_APPEND,   /* append:PATH */
        STD_OUTPUT_TRUNCATE, /* truncate:PATH, emptied first */
        STD_OUTPUT_TTY,      /* TTYPath= (default /dev/console), write-only */
        _STD_OUTPUT_MAX,
        _STD_OUTPUT_INVALID = -EINVAL,
} StdOutput;

/* One command line: ExecStart= and friends. argv is split with systemd's quoting rules;
 * $VAR and ${VAR} are kept verbatim for expansion at spawn time. */
typedef struct ExecCommand {
        char *path;       /* argv[0] after prefixes; absolute, or a bare name looked up in PATH */
        char **argv;      /* NULL-terminated, owned: one block (strv_pack()), free() it */
        bool ignore_failure; /* "-" prefix */
        bool no_env_expand;  /* ":" prefix: $VAR and ${VAR} are passed as written */
        bool full_privileges; /* "+": no User=, Group=, SupplementaryGroups=, NoNewPrivileges= */
        bool no_setuid;       /* "!": no User=, Group=, SupplementaryGroups=; the rest applies */
        bool path_is_argv0;   /* path is argv[0] (the same string), not an allocation of its own */
        UnitOrigin origin;
} ExecCommand;

/* A set of exit statuses (0..255) and signals (1..64), as SuccessExitStatus= and friends hold
 * them. Bits: status[n / 64] >> (n % 64), signals >> (sig - 1). */
typedef struct ExitStatusSet {
        uint64_t status[4];
        uint64_t signals;
} ExitStatusSet;

/* Whether a process that ended with code (CLD_EXITED, CLD_KILLED, CLD_DUMPED) and status is in
 * the set: an exit status for CLD_EXITED, a signal for the others (as systemd's
 * exit_status_set_test()). */
bool exit_status_set_test(const ExitStatusSet *x, int code, int status);
bool exit_status_set_is_empty(const ExitStatusSet *x);

/* Type=notify and Type=notify-reload: started at READY=1. */
static inline bool service_type_is_notify(ServiceType t) {
        return t == SERVICE_NOTIFY || t == SERVICE_NOTIFY_RELOAD;
}

typedef struct EnvironmentFile {
        char *path;
        bool optional; /* "-" prefix */
} EnvironmentFile;

/* The commands of a service besides ExecStart=. */
typedef struct ServiceHooks {
        ExecCommand *exec_start_pre;
        size_t n_exec_start_pre;
        ExecCommand *exec_reload;
        size_t n_exec_reload;
        ExecCommand *exec_stop;
        size_t n_exec_stop;
        ExecCommand *exec_condition;  /* before ExecStartPre=; exit 1..254 skips the start */
        size_t n_exec_condition;
        ExecCommand *exec_start_post; /* after the main process started; then it is running */
        size_t n_exec_start_post;
        ExecCommand *exec_stop_post;  /* after it stopped, also after a failure */
        size_t n_exec_stop_post;
} ServiceHooks;

/* The exit status keys; empty sets by default. */
typedef struct ServiceExitStatus {
        ExitStatusSet success;         /* SuccessExitStatus=: clean, besides 0 */
        ExitStatusSet restart_prevent; /* RestartPreventExitStatus=: never restart */
        ExitStatusSet restart_force;   /* RestartForceExitStatus=: always restart */
} ServiceExitStatus;

/* How the processes of a service run besides their commands: identity, working directory,
 * environment files, limits, output files and the like. */
typedef struct ServiceProcess {
        char **environment;         /* Environment=: "VAR=value" entries, in order; later ones
                                     * win */
        char *user, *group;
        char **supplementary_groups;
        char *working_directory;    /* "~" allowed; "-" prefix sets working_directory_optional */
        EnvironmentFile *environment_files;
        size_t n_environment_files;
        uint64_t limit_nofile_soft, limit_nofile_hard; /* UINT64_MAX: unset or infinity */
        usec_t log_rate_limit_interval_usec; /* LogRateLimitIntervalSec=; 0: no limit */
        unsigned log_rate_limit_burst;       /* LogRateLimitBurst=; 0: no limit */
        mode_t umask;               /* default 0022 */
        char *std_output_path, *std_error_path; /* for file:, append:, truncate: */
        char *tty_path;             /* TTYPath=, for tty; NULL: /dev/console */
        char *pid_file;             /* PIDFile=, for Type=forking */
        char *bus_name;             /* BusName=, for Type=dbus */
        UnitOrigin dynamic_user_origin;
        bool working_directory_optional;
        bool limit_nofile_set;
        bool no_new_privileges;
        bool dynamic_user;          /* DynamicUser=: a uid of its own, allocated per run */
} ServiceProcess;

/* The keys of a service that most have none of: how it is stopped and reloaded past the
 * defaults, who may notify, the handover, the sockets it names, the watchdog, the fd store,
 * its standard input, berth's ReadyOn= and BindShim=, and a few switches. */
typedef struct ServiceExtra {
        char **sockets;             /* Sockets=: socket unit names */
        usec_t watchdog_usec;       /* 0: off */
        int kill_signal;            /* default SIGTERM */
        KillMode kill_mode;         /* default control-group */
        int reload_signal;          /* default SIGHUP */
        Handover handover;          /* default stop-first */
        NotifyAccess notify_access;
        unsigned fd_store_max;
        StdInput std_input;         /* default null */
        bool notify_access_set;     /* else: main for Type=notify, none otherwise */
        bool guess_main_pid;        /* GuessMainPID=, default yes */
        bool remain_after_exit;     /* RemainAfterExit=: running once its main process exited
                                     * cleanly, until stopped */
        bool ignore_sigpipe;        /* IgnoreSIGPIPE=, default yes */
        bool non_blocking;          /* NonBlocking= may sit in [Service] as in systemd */
        bool non_blocking_set;
        bool ready_on_accept;       /* ReadyOn=accept (berth's): READY=1 when it first waits
                                     * for a client on one of its sockets (shim/ready.c) */
        bool bind_shim;             /* BindShim=: libberth-bind.so preloaded in the main process */
        bool bind_shim_inherit;     /* BindShim=inherit: what it executes keeps the library */
} ServiceExtra;

typedef struct ServiceConfig {
        ExecCommand *exec_start;
        size_t n_exec_start;       /* 1, or more for Type=oneshot */
        ServiceHooks *hooks;             /* NULL: none (service_config_hooks()) */
        ServiceExitStatus *exit_status;  /* NULL: empty sets (service_config_exit_status()) */
        CGroupLimits *limits;       /* TasksMax=, MemoryMax=, ... (cgroup-limits.h); NULL: none
                                     * (service_config_limits()) */
        ExecDirs *dirs;             /* RuntimeDirectory= and its siblings (exec-dirs.h); NULL:
                                     * none (service_config_dirs()) */
        struct ServiceProcess *process; /* Environment=, User=, LimitNOFILE=, PIDFile= ...;
                                         * NULL: the defaults (service_config_process()) */
        usec_t restart_usec;        /* default 100ms */
        usec_t timeout_start_usec;  /* default 90s; USEC_INFINITY for "infinity" or 0 */
        usec_t timeout_stop_usec;   /* default 90s */
        ServiceExtra *extra;        /* KillSignal=, Sockets=, WatchdogSec= ...; NULL: the
                                     * defaults (service_config_extra()) */
        /* A byte each (packed enums): a unit of every service holds them. */
        ServiceType type;
        ServiceRestart restart;
        StdOutput std_output, std_error;
} ServiceConfig;

extern const ServiceHooks service_hooks_none;
extern const ServiceExitStatus service_exit_status_none;
extern const CGroupLimits cgroup_limits_none;
extern const ServiceProcess service_process_defaults;
extern const ServiceExtra service_extra_defaults;
static inline const ServiceHooks *service_config_hooks(const ServiceConfig *c) {
        return c->hooks ?: &service_hooks_none;
}
static inline const ServiceExitStatus *service_config_exit_status(const ServiceConfig *c) {
        return c->exit_status ?: &service_exit_status_none;
}
static inline const CGroupLimits *service_config_limits(const ServiceConfig *c) {
        return c->limits ?: &cgroup_limits_none;
}
static inline const ServiceProcess *service_config_process(const ServiceConfig *c) {
        return c->process ?: &service_process_defaults;
}
static inline const ServiceExtra *service_config_extra(const ServiceConfig *c) {
        return c->extra ?: &service_extra_defaults;
}
static inline const ExecDirs *service_config_dirs(const ServiceConfig *c) {
        return c->dirs ?: &exec_dirs_none;
}

/* What most units have none of: drop-ins, conditions and a start limit of their own. */
typedef struct UnitExtra {
        char **dropins; /* drop-in paths, in the order applied; NULL when none */
        /* [Unit] Condition*=, Assert*= (condition.h), in file order */
        Condition *conditions;
        size_t n_conditions;
        usec_t start_limit_interval_usec; /* default 10s */
        unsigned start_limit_burst;       /* default 5 */
} UnitExtra;

extern const UnitExtra unit_extra_defaults;

typedef struct Unit {
        char *name;     /* "web.socket", "web.service", "echo@.service" */
        UnitType type;
        bool is_template; /* "NAME@.service" */
        bool name_in_path; /* name is the last part of path, not an allocation of its own */
        uint64_t files_stamp; /* what its files were when read (unit_files_stamp()); 0: unknown,
                               * so a daemon-reload reads them again */
        /* [Unit] */
        char *description;
        /* [Install] */
        char **wanted_by;
        UnitExtra *extra; /* NULL: none (unit_extra()) */
        /* The configuration of its type, and only that one: a Unit is allocated with room for
         * its own type's (unit_size()), so the other one must never be touched. Last. */
        union {
                SocketConfig socket;   /* UNIT_SOCKET */
                ServiceConfig service; /* UNIT_SERVICE */
        };
} Unit;

static inline const UnitExtra *unit_extra(const Unit *u) {
        return u->extra ?: &unit_extra_defaults;
}

/* conditions_test() of u's Condition*= and Assert*=. */
static inline int unit_conditions_test(const Unit *u, char *why, size_t len) {
        return conditions_test(unit_extra(u)->conditions, unit_extra(u)->n_conditions, why, len);
}

/* The bytes a Unit of type t takes: its common part and its type's configuration. */
static inline size_t unit_size(UnitType t) {
        return offsetof(Unit, socket) +
               (t == UNIT_SOCKET ? sizeof(SocketConfig) : sizeof(ServiceConfig));
}

/* The path of u's main file: kept in the unit's own allocation, after its type's
 * configuration (unit_size()). */
static inline const char *unit_path(const Unit *u) {
        return (const char *) u + unit_size(u->type);
}

/* Stamps: what a unit's files were when it was read, so that a daemon-reload can keep a unit
 * whose files did not change without reading it again. A file's part is a hash of its device,
 * inode, size, mtime and ctime, never 0; 0 when it was modified less than
 * UNIT_STAMP_RACY_USEC before now: a file changed again within the clock's granularity could
 * keep its times, so such a unit is read again by the next daemon-reload (git's "racy" rule).
 * A unit's stamp is its main file's part mixed with each drop-in's, in order. */
#define UNIT_STAMP_RACY_USEC (2 * USEC_PER_SEC)
struct stat;
struct timespec;
uint64_t unit_stamp_file(const struct stat *st, const struct timespec *now);
uint64_t unit_stamp_mix(uint64_t h, uint64_t part);

/* Loads the unit NAME from the main file at path (may be NULL: drop-ins only is an error) and
 * the drop-ins, applied in the order given. Every problem is reported through diag.
 * Returns 0 and *ret on success; UNIT_FILE_E_INVALID when the unit has an invalid value or
 * cannot be read (*ret untouched); or a negative errno on allocation failure. */
int unit_file_load(const char *name, const char *path, char *const *dropins, UnitDiagFunc diag,
                   void *userdata, Unit **ret);

/* Same, from text in memory (tests and fuzzing). path is used in messages only.
 * n_texts texts, the first the main file, the rest drop-ins with their paths. */
int unit_file_load_strings(const char *name, const char *const *paths, const char *const *texts,
                           size_t n_texts, UnitDiagFunc diag, void *userdata, Unit **ret);

Unit *unit_free(Unit *u);
static inline void unit_freep(Unit **u) {
        *u = unit_free(*u);
}

/* "web.socket" -> UNIT_SOCKET; "x.timer" -> _UNIT_TYPE_INVALID. Also validates the name
 * (characters systemd allows, length, template form). */
UnitType unit_name_to_type(const char *name);
/* The service a socket unit activates: Service=, else NAME.service (NAME@.service when
 * Accept=yes). Returns a malloc'ed string or NULL on OOM. */
char *unit_socket_service_name(const Unit *u);
/* Whether the unit has IPAddressAllow= or IPAddressDeny= rules for its inet sockets. */
static inline bool socket_config_has_ip_filter(const SocketConfig *c) {
        return c->options &&
               (c->options->ip_address_allow.n > 0 || c->options->ip_address_deny.n > 0);
}
/* The fd name a socket unit's fds carry: FileDescriptorName=, else the unit's full name
 * ("web.socket"), as systemd does. Returns a malloc'ed string or NULL. */
char *unit_socket_fdname(const Unit *u);

/* The entry Symlinks= links to: the unit's one unix socket path or FIFO (borrowed), or NULL when
 * it has none or more than one (then Symlinks= is an error). */
const SocketListen *unit_socket_symlink_target(const Unit *u);

const char *unit_type_to_string(UnitType t);
const char *listen_type_to_string(ListenType t);    /* "ListenStream" ... "ListenFIFO" ... */
const char *bind_ipv6_only_to_string(BindIPv6Only b);
BindIPv6Only bind_ipv6_only_from_string(const char *s);
const char *service_type_to_string(ServiceType t);
ServiceType service_type_from_string(const char *s);
const char *service_restart_to_string(ServiceRestart r);
ServiceRestart service_restart_from_string(const char *s);
const char *kill_mode_to_string(KillMode k);
KillMode kill_mode_from_string(const char *s);
const char *notify_access_to_string(NotifyAccess n);
NotifyAccess notify_access_from_string(const char *s);
const char *handover_to_string(Handover h);
Handover handover_from_string(const char *s);
