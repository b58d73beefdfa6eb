/* service: one supervised service, as an explicit state machine (SPEC §4). Every transition
 * goes through one service_set_state() that logs it; the watch rule (are its sockets watched
 * for a client?) is decided there and nowhere else. Overlap handover, draining, a failed
 * successor's graceful stop and the start-limit back-off are states of their own.
 *
 * The service does nothing to the world directly: it spawns, kills, arms timers, reads the
 * clock and watches its sockets through the ServiceOps it is given (service_ops_default for
 * the real thing, a recorder in tests/unit/test-service.c), and it reports upward through the
 * callback in its ServiceContext. It never sees the manager. Its sockets are Listener objects
 * owned by the manager and borrowed here. */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "common/ratelimit.h"
#include "daemon/accept.h"
#include "daemon/listener.h"
#include "daemon/unit-file.h"

struct NotifyMessage;
struct PidRef;
typedef struct Service Service;

typedef enum ServiceState {
        SERVICE_DEAD,           /* not running; its sockets are watched if it has any */
        SERVICE_CONDITION,      /* ExecCondition= running */
        SERVICE_START_PRE,      /* ExecStartPre= running */
        SERVICE_START,          /* the main process starts: until READY=1 (notify) or exit
                                 * (oneshot) */
        SERVICE_START_POST,     /* ExecStartPost= running; the main process is up */
        SERVICE_RUNNING,
        SERVICE_RELOAD,         /* Type=notify-reload: ReloadSignal= sent (or RELOADING=1
                                 * came unasked); until RELOADING=1 then READY=1 */
        SERVICE_HANDOVER,       /* Handover=overlap: a successor starts while the old main
                                 * process serves */
        SERVICE_DRAINING,       /* the successor is ready and serves; the old process got
                                 * KillSignal= and drains, SIGKILL after TimeoutStopSec= */
        SERVICE_HANDOVER_ABORT, /* the successor was not ready in time: it gets KillSignal=
                                 * (SIGKILL after TimeoutStopSec=) while the old one serves */
        SERVICE_STOP,           /* ExecStop= running */
        SERVICE_STOP_SIGTERM,   /* KillSignal= sent; SIGKILL after TimeoutStopSec= */
        SERVICE_STOP_SIGKILL,
        SERVICE_STOP_POST,      /* ExecStopPost= running; every other process is gone */
        SERVICE_AUTO_RESTART,   /* waiting RestartSec= before the next start */
        SERVICE_BACKOFF,        /* over the start limit: waiting, exponentially longer */
        SERVICE_FAILED,         /* ended in failure and Restart= says no; sockets watched */
        _SERVICE_STATE_MAX,
        _SERVICE_STATE_INVALID = -EINVAL,
} ServiceState;

typedef enum ServiceResult {
        SERVICE_SUCCESS,
        SERVICE_FAILURE_EXIT_CODE,
        SERVICE_FAILURE_SIGNAL,
        SERVICE_FAILURE_CORE_DUMP,
        SERVICE_FAILURE_TIMEOUT,
        SERVICE_FAILURE_RESOURCES, /* could not be spawned */
        SERVICE_FAILURE_PROTOCOL,  /* Type=notify: exited before READY=1 */
        SERVICE_FAILURE_WATCHDOG,  /* missed WATCHDOG=1 within WatchdogSec= */
        SERVICE_SKIP_CONDITION,    /* ExecCondition= exited 1..254: not started, not failed */
        _SERVICE_RESULT_MAX,
        _SERVICE_RESULT_INVALID = -EINVAL,
} ServiceResult;

/* What an operator (or berthd's own shutdown) asked for and the service has not done yet. */
typedef enum ServiceIntent {
        SERVICE_INTENT_NONE,
        SERVICE_INTENT_STOP,    /* an operator stop: no restart follows, the fd store goes */
        SERVICE_INTENT_RESTART, /* start again once stopped, or once the handover in progress
                                 * (draining, or a failed successor stopping) is over */
        _SERVICE_INTENT_MAX,
        _SERVICE_INTENT_INVALID = -EINVAL,
} ServiceIntent;

/* Who sent a notify message, relative to a service. */
typedef enum NotifyRole {
        NOTIFY_ROLE_MAIN,
        NOTIFY_ROLE_CONTROL,
        NOTIFY_ROLE_OLD_MAIN, /* the process an overlap handover is replacing */
        NOTIFY_ROLE_FAILED,   /* a successor that failed its handover and is being stopped */
        NOTIFY_ROLE_OTHER,    /* another member of one of its process groups */
        _NOTIFY_ROLE_MAX,
        _NOTIFY_ROLE_INVALID = -EINVAL,
} NotifyRole;

typedef enum ServiceTimer {
        SERVICE_TIMER_STATE,    /* the current state's timeout */
        SERVICE_TIMER_WATCHDOG, /* WATCHDOG=1 must come before it fires */
        _SERVICE_TIMER_MAX,
        _SERVICE_TIMER_INVALID = -EINVAL,
} ServiceTimer;

#define SERVICE_LOG_LINES 200
#define SERVICE_LINE_MAX 4096
#define SERVICE_BACKOFF_BASE_USEC (1 * USEC_PER_SEC)
#define SERVICE_BACKOFF_CAP_USEC (30 * USEC_PER_SEC)

/* How the service acts on the world. Each op gets the service; none may call back into the
 * state machine synchronously. */
typedef struct ServiceOps {
        /* Starts cmd. main: the main process, with the sockets and the fd store; else a
         * control process. extra_env: more VAR=VALUE (NULL-terminated) or NULL. Returns 0
         * with the pid, or a negative errno (already logged). */
        int (*spawn)(Service *s, const ExecCommand *cmd, bool main, char *const *extra_env,
                     pid_t *ret_pid);
        /* As kill(2): pid > 0 a process, pid < 0 a process group; but only a process the
         * service names, by its pidfd, and a group while it is known to be the service's
         * (service-pids.c): a recycled pid is never signalled. */
        void (*kill)(Service *s, pid_t pid, int sig);
        /* The service is about to name pid (MAINPID=): hold it from now (its pidfd), before
         * anything is asked about it. Returns 0, -ESRCH when it is gone, or a negative errno.
         * NULL: nothing to hold. */
        int (*track)(Service *s, pid_t pid);
        /* Lets go of what is held for the processes the service no longer names (after each
         * transition, each child event and each MAINPID=). NULL: nothing held. */
        void (*release)(Service *s);
        /* Whether the process the service names by pid is still the one it named (not reaped
         * by another, its number reused): asked of an exited child before it is reaped.
         * NULL: always. */
        bool (*is_current)(Service *s, pid_t pid);
        /* sig to every process of the service, also those that left its session: its cgroup,
         * or the processes with its INVOCATION_ID=. */
        void (*kill_all)(Service *s, int sig);
        /* Arms a timer usec from now, or disarms it with USEC_INFINITY. It fires into
         * service_on_timer(). */
        void (*arm_timer)(Service *s, ServiceTimer t, usec_t usec);
        /* CLOCK_MONOTONIC and CLOCK_REALTIME, in µs. */
        usec_t (*now)(Service *s, clockid_t clock);
        /* Watch the sockets it is activated by (on), or stop watching them. */
        void (*watch)(Service *s, bool on);
        /* The process group of pid, or a negative errno: -ESRCH also when the process held
         * for pid (track, spawn) is gone, whatever has that number now. */
        pid_t (*pgid_of)(Service *s, pid_t pid);
        /* Type=forking, once its first process exited: the daemon it left, from PIDFile= or
         * (GuessMainPID=) the one process of the service left; or a negative errno with why.
         * NULL: not supported. */
        pid_t (*forking_main_pid)(Service *s, char *why, size_t whylen);
        /* Type=dbus: watch the system bus for BusName= (on), calling service_on_bus_name()
         * when it has an owner, or stop watching. Returns 1 when watching, 0 when there is no
         * system bus to watch (the service is then treated as simple), or a negative errno.
         * NULL: no bus. */
        int (*watch_bus_name)(Service *s, bool on);
        /* A run is over (dead, failed, or about to start again when restarting): removes its
         * RuntimeDirectory= unless RuntimeDirectoryPreserve= keeps it, and gives back its
         * DynamicUser= uid. NULL: nothing to do. */
        void (*run_over)(Service *s, bool restarting);
        /* Frees what the ops keep in the service (event sources). */
        void (*done)(Service *s);
} ServiceOps;

/* The real ops: spawn (service-exec.c), kill(2), sd-event timers on ctx->event. */
extern const ServiceOps service_ops_default;
/* Drops what the real ops share between services (the system bus of Type=dbus). */
void service_exec_shutdown(void);

/* The fds every service together may keep in the fd store: a share of berthd's RLIMIT_NOFILE,
 * so that one service's store cannot leave berthd unable to start the others. */
typedef struct FdStoreBudget {
        unsigned used, max;
} FdStoreBudget;

typedef struct ServiceContext {
        const ServiceOps *ops;
        sd_event *event;          /* borrowed: for the default ops; NULL in tests */
        const char *notify_path;  /* borrowed: $NOTIFY_SOCKET for its processes, or NULL */
        const char *cgroup_root;  /* borrowed: where its cgroup goes (cgroup.h), or NULL */
        FdStoreBudget *fdstore_budget; /* borrowed, shared by all services; NULL: no cap */
        /* Called after every transition, and when a process of it is gone. */
        void (*on_state)(Service *s, void *userdata);
        /* Called when a process of it started (its pid is not yet in the Service). May be
         * NULL. */
        void (*on_process)(Service *s, void *userdata);
        void *userdata;
} ServiceContext;

/* One fd a service stored with FDSTORE=1 (service-fdstore.c). */
typedef struct StoredFd {
        Service *service; /* borrowed: the owner */
        int fd;
        char *name;
        sd_event_source *poll_source; /* EPOLLHUP/EPOLLERR drop it, unless FDPOLL=0 */
} StoredFd;

/* The output of one process, read line by line (service-output.c). */
typedef struct OutputStream OutputStream;

typedef struct ServiceLogLine {
        uint64_t seq; /* 1, 2, ... per service, never reused */
        pid_t pid;
        char *line;
} ServiceLogLine;

typedef void (*ServiceRestartDone)(Service *s, int error, const char *message, void *userdata);

/* Accept=yes: the instance of one connection, with a unit of its own (owned), made from the
 * template. The connection is its fd 3 (LISTEN_FDNAMES=connection), and its stdin/stdout with
 * StandardInput=socket; closed once the instance is over. */
typedef struct ServiceInstance {
        int connection_fd;     /* owned; -1 once the instance is over */
        Unit *own_unit;
        AcceptSocket *accept;  /* the socket it came from (manager's); NULL once over */
        AcceptPeer *peer;      /* both ends of the connection (owned), or NULL */
} ServiceInstance;

/* A service's timers: when each fires (CLOCK_MONOTONIC), USEC_INFINITY when disarmed, and the
 * default ops' event sources. Made when one is first armed: a service that never started
 * carries none. */
typedef struct ServiceTimers {
        usec_t due[_SERVICE_TIMER_MAX];
        sd_event_source *sources[_SERVICE_TIMER_MAX];
} ServiceTimers;

/* A caller waiting for a restart or a reload to be over: told once, then forgotten. */
typedef struct ServiceWaiter {
        ServiceRestartDone done; /* NULL: nobody waits */
        void *userdata;
} ServiceWaiter;

/* The callers waiting for a service, made when the first one waits. */
typedef struct ServiceWaiters {
        ServiceWaiter restart, reload;
} ServiceWaiters;

/* What a service keeps of its output (service-output.c): made with its first line, so a
 * quiet service costs nothing. */
typedef struct ServiceLog {
        RateLimit limit;       /* LogRateLimit*=: lines written to berthd's log */
        unsigned head, n;      /* the ring: the oldest kept line, and how many */
        unsigned n_alloc;      /* room in lines[], grown as lines come up to
                                * SERVICE_LOG_LINES; head stays 0 until the ring wraps */
        ServiceLogLine lines[];
} ServiceLog;

/* What a service has once it started: its processes, its run's counters and status, its output
 * and fd store, its start-limit ring. Made at its first start (service_run_make()) and kept
 * until the service is freed, so that status shows the last run; a service that never started
 * reads service_run_idle through s->run, which is never NULL and is read-only until then:
 * everything that writes here runs after a start (or a daemon-reexec's restore). */
typedef struct ServiceRun {
        Unit *next_unit;      /* after a daemon-reload: applies at the next start (a service
                               * that is not running takes its new unit at once) */
        pid_t main_pid, control_pid;
        pid_t pgid;           /* the main process's group: its pid, kept after it exits */
        pid_t old_main_pid, old_pgid;       /* HANDOVER, DRAINING: the process replaced */
        pid_t failed_pid, failed_pgid;      /* HANDOVER_ABORT: the successor that failed */
        int last_exit_code, last_exit_status; /* CLD_EXITED/KILLED/DUMPED and status */
        int status_errno;                   /* ERRNO=, or -1 (with status_text) */
        char *cgroup;                       /* its cgroup's directory, or NULL */
        /* The real ops' pidfds of the processes above and of their group leaders
         * (service-pids.h: SERVICE_PIDFDS_MAX slots, pid 0 free), NULL while it names none:
         * a service that does not run holds no fd. */
        struct PidRef *pidfds;
        void *bus_name_slot;                /* the ops' watch of BusName= (an sd_bus_slot) */
        struct DynamicUser *dynamic_user;   /* the ops' DynamicUser= uid of this run, or NULL */
        unsigned control_index; /* which command of the state's list (ExecCondition=,
                                 * ExecStartPre=, ExecStartPost=, ExecStop=, ExecStopPost=)
                                 * runs */
        unsigned exec_index;    /* which ExecStart= runs (Type=oneshot may have several) */
        unsigned reload_index;  /* which ExecReload= runs */
        unsigned n_restarts;
        bool limits_told;       /* resource keys it could not apply, said once */
        bool stop_post_ran;     /* ExecStopPost= ran in this run (or is running) */
        bool main_exited;       /* the main process of this run exited: last_exit_* are its */
        bool reload_notified;   /* RELOAD: RELOADING=1 came; READY=1 ends the reload */
        char invocation_id[33]; /* INVOCATION_ID= of this run; "" before a start */
        usec_t reload_begin_usec; /* CLOCK_MONOTONIC when the reload in progress was asked */
        usec_t active_since;  /* CLOCK_MONOTONIC of the last start */
        usec_t since_realtime; /* CLOCK_REALTIME of the last start, for status */

        /* Start limit and back-off. */
        unsigned n_start_times, start_times_head;
        unsigned backoff_level;
        usec_t *start_times;   /* ring of the last StartLimitBurst= starts; NULL before the
                                * first */

        /* Output (service-output.c). */
        OutputStream *streams;
        unsigned n_streams;
        ServiceLog *log;         /* NULL before its first line */
        uint64_t log_seq;        /* the last line's: 1, 2, ... */

        /* Readiness and status (notify). */
        char *status_text;       /* STATUS=, or NULL */
        usec_t watchdog_usec;    /* in force: WatchdogSec=, or WATCHDOG_USEC= */

        /* The fd store (service-fdstore.c). */
        StoredFd **fd_store;
        size_t n_fd_store;

        /* Its timers and the default ops' event sources for them. */
        ServiceTimers *timers;   /* NULL until one is first armed (service_timer_due()) */

        /* A restart's caller, told once the new process is ready or has failed; a reload's,
         * once ExecReload= ran, READY=1 ended a notify-reload, or the reload failed. Also for
         * a service that has yet to start: a caller waits for its first. */
        ServiceWaiters *waiters; /* NULL until one first waits */
} ServiceRun;

/* What s->run is before a service's first start: no processes, nothing kept. */
extern const ServiceRun service_run_idle;

struct Service {
        const ServiceContext *ctx; /* borrowed: one for every service of a manager */
        Unit *unit;       /* borrowed from the manager; its next one is in run->next_unit */
        ServiceState state;
        ServiceResult result;
        ServiceIntent intent;
        bool shutting_down; /* berthd exits: stop, never start again */
        bool removed;       /* the manager's: its unit is gone, freed once inactive */
        bool non_blocking;
        bool socket_activated; /* a socket unit names it */
        bool start_at_boot;    /* no socket, or [Install] WantedBy= */
        bool condition_failed; /* its Condition*= or Assert*= did not hold */
        unsigned n_listeners;  /* of listeners, below */

        /* Its run (above): &service_run_idle until the first start. Never NULL. */
        ServiceRun *run;

        ServiceInstance *instance; /* Accept=yes: what an instance has; NULL for any other */

        /* Its sockets, borrowed from the manager, in unit order. It is activated by those
         * whose owner it is. Mostly one: then listeners points to listener_one, no array. */
        Listener **listeners;
        Listener *listener_one;
};

/* Gives s a run of its own (s->run no longer service_run_idle), for a start, a restore, a
 * timer or a caller that waits. Returns 0 or -ENOMEM. */
int service_run_make(Service *s);
/* Whether s has started at least once (or was restored running). */
static inline bool service_has_run(const Service *s) {
        return s->run != &service_run_idle;
}

/* An Accept=yes instance's connection, or -1; its own unit, or NULL (not an instance). */
static inline int service_connection_fd(const Service *s) {
        return s->instance ? s->instance->connection_fd : -1;
}
static inline Unit *service_own_unit(const Service *s) {
        return s->instance ? s->instance->own_unit : NULL;
}
/* The socket of an instance whose connection is still open, or NULL. */
static inline AcceptSocket *service_accept(const Service *s) {
        return s->instance ? s->instance->accept : NULL;
}

/* Creates the runtime object of a service unit (borrowed). ctx is borrowed too, and must
 * outlive the service. Returns 0 or a
 * negative errno. */
int service_new(Service **ret, const ServiceContext *ctx, Unit *u);
Service *service_free(Service *s);
static inline void service_freep(Service **s) {
        *s = service_free(*s);
}

/* Adds one socket (borrowed) in unit order. Before service_begin(). */
int service_add_listener(Service *s, Listener *l);
/* Drops every socket (daemon-reload gives the new set with service_add_listener(), then
 * service_update_watch()). */
void service_clear_listeners(Service *s);
/* The same without touching their watch: a daemon-reload gives back the same listeners,
 * mostly, and a watch turned off and on again costs two epoll_ctl() calls per socket. The
 * caller settles the watch of each listener afterwards (service_update_watch()). */
void service_forget_listeners(Service *s);
/* Applies the watch rule for the current state (after the sockets changed). */
void service_update_watch(Service *s);
/* Switches to the unit a daemon-reload loaded: now when not running, else at the next start. */
void service_set_next_unit(Service *s, Unit *u);

/* Called once after the sockets are added: starts a boot-time service, or watches the sockets
 * of an on-demand one. */
int service_begin(Service *s);

/* A client is waiting on one of its sockets: an automatic start (counts against the start
 * limit). */
void service_on_trigger(Service *s, Listener *l);
/* Starts it now (operator). Returns 0, or -EBUSY while it stops. */
int service_start(Service *s);
/* Stops it: ExecStop=, KillSignal=, SIGKILL after TimeoutStopSec=; no restart follows. */
int service_stop(Service *s);
/* berthd exits: stops it for good (the fd store is left alone, it goes with berthd). */
void service_shutdown(Service *s);
/* Handover=overlap on a running service: a successor, then the old one drains; else stops it
 * if it runs, then starts it. */
int service_restart(Service *s);
/* ExecReload= as a control process, then (Type=notify-reload) ReloadSignal= to the main
 * process and RELOADING=1 and READY=1 from it; or ReloadSignal= alone. -ENOTCONN when it is
 * not running, -EBUSY when a control process or another reload already runs. */
int service_reload(Service *s, char *err, size_t errlen);
/* Asks to be told when the reload about to be requested is over (at once for a bare
 * ReloadSignal=). -EBUSY when another caller waits already. */
int service_set_reload_done(Service *s, ServiceRestartDone done, void *userdata);
/* Asks to be told when the restart about to be requested is over. -EBUSY when another one
 * waits already. */
int service_set_restart_done(Service *s, ServiceRestartDone done, void *userdata);

/* Whether a process of the service that ended with code (CLD_EXITED, CLD_KILLED, CLD_DUMPED)
 * and status ended cleanly, as systemd 252's is_clean_exit() decides it with the service's
 * SuccessExitStatus=: status 0 or one listed; a signal listed; or for any type but oneshot
 * SIGHUP, SIGINT, SIGTERM or SIGPIPE. A core dump never is. The one place this is decided. */
bool service_exit_is_clean(const Service *s, int code, int status);
/* A child of ours exited and is not reaped yet: whether it is a process this service names
 * (main, control, replaced or failed), and the very one it named. */
bool service_names_child(Service *s, pid_t pid);
/* A child of ours changed state: returns true when pid was this service's. */
bool service_on_child(Service *s, const siginfo_t *si);
/* Type=dbus: its BusName= has an owner on the system bus. */
void service_on_bus_name(Service *s);
/* One of its timers fired. */
void service_on_timer(Service *s, ServiceTimer t);

/* Whether pid is one of this service's processes, and as what. */
bool service_owns_pid(const Service *s, pid_t pid, NotifyRole *ret_role);
/* The two halves of it: pid is one the service knows by number (main, control, ...), and
 * still the process it named (ServiceOps.is_current); or the process group g is one of the
 * active service's (then as NOTIFY_ROLE_OTHER). */
bool service_is_pid_of(const Service *s, pid_t pid, NotifyRole *ret_role);
bool service_owns_pgid(const Service *s, pid_t g);
/* A notify message from pid, already parsed and allowed by NotifyAccess=. Consumes fds. */
void service_on_notify(Service *s, NotifyRole role, pid_t pid, const struct NotifyMessage *m,
                       int *fds, size_t n_fds);
/* The NotifyAccess= in force: the unit's, else main for Type=notify or a watchdog, else none. */
NotifyAccess service_notify_access(const Service *s);

bool service_is_active(const Service *s); /* processes exist */
/* Whether a ready main process serves (running, draining, or during a failed handover). */
bool service_is_serving(const Service *s);
/* Whether the state is DEAD or FAILED with no process left. */
bool service_is_inactive(const Service *s);

const char *service_state_to_string(ServiceState st);
const char *service_result_to_string(ServiceResult r);
const char *service_intent_to_string(ServiceIntent i);
const char *notify_role_to_string(NotifyRole r);
ServiceState service_state_from_string(const char *s);
ServiceResult service_result_from_string(const char *s);
ServiceIntent service_intent_from_string(const char *s);

/* service-output.c: a pipe for the output of the process about to be spawned. Returns the
 * write end (for the child; the caller closes it) and the stream, or a negative errno. */
int service_output_new(Service *s, OutputStream **ret_stream);
void service_output_set_pid(OutputStream *o, pid_t pid);
void service_output_free(OutputStream *o);
/* Logs a line as "unit[pid]: line" and keeps it for status. */
void service_log_line(Service *s, pid_t pid, const char *line, size_t len);
/* The kept output lines with seq > after, oldest first: calls fn for each, at most max
 * (0: all). Returns the seq to ask with next. */
uint64_t service_log_foreach(const Service *s, uint64_t after, unsigned max,
                             void (*fn)(const ServiceLogLine *l, void *userdata), void *userdata);
void service_log_done(Service *s);
/* daemon-reexec: keeps a line of the predecessor's log as number seq (not logged again); takes
 * an output pipe's read end (owned on success) with the partial line it had read; and lists
 * the streams (their fd stays the service's). */
void service_log_restore(Service *s, uint64_t seq, pid_t pid, const char *line);
int service_output_adopt(Service *s, int fd, pid_t pid, const char *pending, size_t len);
void service_output_foreach(Service *s, void (*fn)(int fd, pid_t pid, const char *pending,
                                                   size_t len, void *userdata),
                            void *userdata);

/* service-fdstore.c: the fd store. Takes the fds (consumed in every case). */
void service_fdstore_add(Service *s, int *fds, size_t n_fds, const char *name, bool poll);
void service_fdstore_remove(Service *s, const char *name);
/* service-state.c, daemon-reexec: writes the runtime state of s as a "@KIND NAME" section
 * (state.h), adding every fd it keeps to keep (their CLOEXEC is cleared by the caller); and
 * puts a service made from the same unit by the new berthd back into that state, taking the
 * fds (each fd must be one the caller vouched for: take_fd() says so and takes it, once).
 * Fields named in own_keys (NULL-terminated, or NULL) are the caller's; other unknown fields
 * are logged and skipped. Returns 0 or a negative errno. */
struct StateSection;
/* The DynamicUser= uid of its run (its lock fd: -1 for a user that exists), if it has one;
 * shares one another service took back already (true), or takes one back (lock_fd owned). */
bool service_dynamic_user_share(Service *s, const char *name, uid_t uid);
bool service_dynamic_user_get(const Service *s, const char **ret_name, uid_t *ret_uid,
                              gid_t *ret_gid, int *ret_lock_fd);
int service_dynamic_user_adopt(Service *s, const char *name, uid_t uid, gid_t gid,
                               int lock_fd);
int service_serialize(Service *s, FILE *f, const char *kind, int **keep, size_t *n_keep);
int service_deserialize(Service *s, const struct StateSection *sec, const char *const *own_keys,
                        bool (*take_fd)(int fd, void *userdata), void *userdata);

/* Drops every stored fd (an explicit stop). */
void service_release_fd_store(Service *s);
