/* service: one supervised service. Owns its state machine (one service_set_state() that logs
 * every transition), its processes (main and control), its restart and back-off timers, the
 * watch on its sockets while it is not running (on-demand start), and its output. The
 * sockets themselves belong to the manager; a service borrows their fds. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "daemon/unit-file.h"

typedef struct Manager Manager;
struct NotifyMessage;

typedef enum ServiceState {
        SERVICE_DEAD,         /* not running; its sockets are watched if it has any */
        SERVICE_START_PRE,    /* ExecStartPre= running */
        SERVICE_START,        /* Type=oneshot: the main process runs until it exits */
        SERVICE_RUNNING,
        SERVICE_STOP,         /* ExecStop= running */
        SERVICE_STOP_SIGTERM, /* KillSignal= sent; SIGKILL after TimeoutStopSec= */
        SERVICE_STOP_SIGKILL,
        SERVICE_AUTO_RESTART, /* waiting RestartSec= before the next start */
        SERVICE_BACKOFF,      /* over the start limit: waiting, exponentially longer */
        SERVICE_FAILED,       /* ended in failure and Restart= says no; sockets watched */
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
        _SERVICE_RESULT_MAX,
        _SERVICE_RESULT_INVALID = -EINVAL,
} ServiceResult;

#define SERVICE_LOG_LINES 200
#define SERVICE_LINE_MAX 4096
#define SERVICE_BACKOFF_CAP_USEC (30 * USEC_PER_SEC)

/* Who sent a notify message, relative to a service. */
typedef enum NotifyRole {
        NOTIFY_ROLE_MAIN,
        NOTIFY_ROLE_CONTROL,
        NOTIFY_ROLE_OLD_MAIN, /* the process an overlap handover is replacing */
        NOTIFY_ROLE_OTHER,    /* another member of one of its process groups */
        _NOTIFY_ROLE_MAX,
        _NOTIFY_ROLE_INVALID = -EINVAL,
} NotifyRole;

/* One fd a service stored with FDSTORE=1. */
typedef struct StoredFd {
        struct Service *service; /* borrowed: the owner */
        int fd;
        char *name;
        sd_event_source *poll_source; /* EPOLLHUP/EPOLLERR drop it, unless FDPOLL=0 */
} StoredFd;

/* The output of one process (its stdout and stderr), read line by line. It lives until every
 * holder of the pipe's write end has closed it: the process, and anything it left behind. */
typedef struct OutputStream {
        struct Service *service; /* borrowed: the owner */
        pid_t pid;               /* the process whose lines these are */
        int fd;
        sd_event_source *source;
        char buf[SERVICE_LINE_MAX];
        size_t len;
        struct OutputStream *next;
} OutputStream;

typedef struct ServiceLogLine {
        uint64_t seq; /* 1, 2, ... per service, never reused */
        pid_t pid;
        char *line;
} ServiceLogLine;

typedef struct Service {
        Manager *manager; /* borrowed */
        Unit *unit;       /* borrowed from the manager */
        ServiceState state;
        ServiceResult result;

        pid_t main_pid, control_pid;
        pid_t pgid;       /* the main process's group: its pid, kept after it exits */
        size_t control_index; /* which ExecStartPre=/ExecStop= runs */
        size_t exec_index;    /* which ExecStart= runs (Type=oneshot may have several) */
        size_t reload_index;  /* which ExecReload= runs */
        int last_exit_code, last_exit_status; /* CLD_EXITED/KILLED/DUMPED and status */
        usec_t active_since;  /* CLOCK_MONOTONIC of the last start */
        unsigned n_restarts;

        /* Sockets, borrowed from the manager, in unit order. */
        int *fds;
        char **fd_names;
        size_t n_fds;
        bool non_blocking;
        sd_event_source **watch_sources; /* one per fd, enabled while waiting for a client */
        bool socket_activated; /* a socket unit names it */
        bool start_at_boot;    /* no socket, or [Install] WantedBy= */

        bool stop_requested;   /* an operator stop: no restart */
        bool restart_pending;  /* the back-off ends in a start, not in a watch */
        sd_event_source *timer_source;

        /* Start limit and back-off. */
        usec_t *start_times;   /* ring of the last StartLimitBurst= starts */
        size_t n_start_times, start_times_head;
        unsigned backoff_level;
        /* Trigger limit on socket activation. */
        usec_t trigger_window_start;
        unsigned trigger_count;

        /* Output: a pipe per process for its stdout and stderr, read line by line into the
         * log as unit[pid]: line. */
        OutputStream *streams;
        unsigned n_streams;
        ServiceLogLine log_lines[SERVICE_LOG_LINES];
        size_t log_head, n_log_lines;
        uint64_t log_seq;

        bool restart_after_stop; /* an operator restart: start again once dead */

        /* Readiness and status (notify). */
        char *status_text;       /* STATUS=, or NULL */
        int status_errno;        /* ERRNO=, or -1 */
        usec_t watchdog_usec;    /* in force: WatchdogSec=, or WATCHDOG_USEC= */
        sd_event_source *watchdog_source;

        /* Handover=overlap: the process being replaced, while the new one gets ready. */
        pid_t old_main_pid, old_pgid;
        bool overlap_queued;     /* a handover waits for the previous one to drain */
        sd_event_source *old_timer_source;
        /* A restart's caller, told once the new process is ready or has failed. */
        void (*restart_done)(struct Service *s, int error, const char *message, void *userdata);
        void *restart_done_userdata;

        /* The fd store. */
        StoredFd **fd_store;
        size_t n_fd_store;
        Unit *next_unit;         /* after a daemon-reload: applies at the next start */
        bool removed;            /* its unit is gone: freed once it is inactive */
        usec_t since_realtime;   /* CLOCK_REALTIME of the last start, for status */
} Service;

/* Creates the runtime object of a service unit. fds and names are borrowed and must outlive
 * the service. Returns 0 or a negative errno. */
int service_new(Service **ret, Manager *m, Unit *u);
Service *service_free(Service *s);
static inline void service_freep(Service **s) {
        *s = service_free(*s);
}

/* Adds one socket fd (borrowed) with its name. Before service_begin(). */
int service_add_socket(Service *s, int fd, const char *name, bool non_blocking);

/* Drops every socket and watch (daemon-reload gives the new set with service_add_socket(),
 * then service_begin_watch()). */
void service_clear_sockets(Service *s);
/* (Re)creates the watches on the sockets and applies the state's watch decision. */
int service_begin_watch(Service *s);
/* Switches to the unit a daemon-reload loaded: now when not running, else at the next start. */
void service_set_next_unit(Service *s, Unit *u);

/* Called once after the sockets are added: starts a boot-time service, or watches the sockets
 * of an on-demand one. */
int service_begin(Service *s);

/* Starts it now (operator or boot). Returns 0, or a negative errno. */
int service_start(Service *s);
/* Stops it: ExecStop=, KillSignal=, SIGKILL after TimeoutStopSec=; no restart follows. */
int service_stop(Service *s);

/* Stops it if it runs, then starts it (Handover=stop-first). */
int service_restart(Service *s);
/* ExecReload= as a control process, or ReloadSignal= to the main process. -ENOTCONN when it
 * is not running, -EBUSY when a control process already runs. */
int service_reload(Service *s, char *err, size_t errlen);

/* The kept output lines with seq > after, oldest first: calls fn for each, at most max
 * (0: all). Returns the seq to ask with next. */
uint64_t service_log_foreach(const Service *s, uint64_t after, unsigned max,
                             void (*fn)(const ServiceLogLine *l, void *userdata), void *userdata);

/* Whether pid is one of this service's processes, and as what. */
bool service_owns_pid(const Service *s, pid_t pid, NotifyRole *ret_role);
/* A notify message from pid, already parsed and allowed by NotifyAccess=. Consumes fds. */
void service_on_notify(Service *s, NotifyRole role, pid_t pid, const struct NotifyMessage *m,
                       int *fds, size_t n_fds);
/* The NotifyAccess= in force: the unit's, else main for Type=notify or a watchdog, else none. */
NotifyAccess service_notify_access(const Service *s);
/* Drops every stored fd (an explicit stop). */
void service_release_fd_store(Service *s);

/* A child of ours changed state: returns true when pid was this service's. */
bool service_on_child(Service *s, const siginfo_t *si);

bool service_is_active(const Service *s); /* processes exist */

const char *service_state_to_string(ServiceState st);
const char *service_result_to_string(ServiceResult r);
