/* manager: the composition root. Owns the event loop, the loaded units, the bind plan, the
 * listeners (bound sockets), the services, the notify receiver and the control socket, and
 * wires them together: services and notify report back through callbacks the manager gives
 * them, and nothing below includes this header. Only main.c, reload.c and the control files
 * do. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include <systemd/sd-event.h>

#include "common/strmap.h"
#include "daemon/bind-plan.h"
#include "daemon/listener.h"
#include "daemon/notify.h"
#include "daemon/reload.h"
#include "daemon/service.h"
#include "daemon/unit-file.h"

/* A listener a daemon-reload removed while a running service still had it: closed once that
 * service stops. */
typedef struct RetiredListener {
        Listener *listener; /* owned */
        Service *holder;    /* borrowed */
} RetiredListener;

typedef struct Manager {
        sd_event *event;
        sd_event_source *sigterm_source, *sigint_source, *sighup_source, *sigchld_source;

        char **unit_dirs;
        char **instances; /* NAME@INST.socket/.service asked for by name: made from templates */
        char *runtime_dir;
        bool user_mode;
        bool units_given; /* manager_set_units(): no directories to read */

        Unit **units; /* sorted by name; owned */
        size_t n_units;
        UnitFailures failures; /* units that failed to load or to bind, and why */

        HostInfo host;
        BindPlan plan; /* from the load until the bind (and --check); empty afterwards */
        Listener **listeners; /* bound, in plan order; owned */
        size_t n_listeners;

        Notify *notify;          /* the NOTIFY_SOCKET receiver; owned */
        char *cgroup_root;       /* where services' cgroups go, or NULL (cgroup.h) */
        struct ProcState *proc_state; /* RUNTIME/processes (proc-state.h); owned, or NULL */
        FdStoreBudget fdstore_budget; /* the fd stores' share of RLIMIT_NOFILE */
        struct Control *control; /* the control socket and its clients; owned */
        ServiceContext service_ctx; /* what every service is given (borrowed by each) */
        Service **services;      /* one per loaded, non-template service unit, and one per
                                  * live Accept=yes instance; owned */
        size_t n_services, n_services_allocated;
        AcceptSocket **accepts;  /* one per Accept=yes socket unit ever set up; owned */
        size_t n_accepts, n_accepts_allocated;
        StrMap accepts_by_name;  /* their names -> AcceptSocket */
        /* Services by unit name, the first in array order for each: rebuilt on the next
         * lookup after the array or a service's unit may have changed. */
        StrMap services_by_name;
        bool services_by_name_stale;
        /* Ad-hoc mode's template (--accept): no file to read again for each instance. */
        char *given_template_name, *given_template_text;

        /* What a daemon-reload replaced but something still uses: units a running service
         * was started with, and listeners a running service still holds. Freed by the gc. */
        Unit **graveyard;
        size_t n_graveyard;
        RetiredListener *retired;
        size_t n_retired;
        sd_event_source *gc_source;
        unsigned n_reloads;
        struct ReloadJob *reload_job; /* the daemon-reload that runs in steps, or NULL */

        /* daemon-reexec (manager-state.c). */
        char *self_exe;          /* the path berthd was started from, resolved at its start */
        char **self_argv;        /* its arguments */
        unsigned generation;     /* daemon-reexecs behind this berthd */
        struct ManagerState *reexec_state; /* the predecessor's, while it is taken back */
        bool reexec_salvage;     /* its state was lost: sockets by address, services anew */
        char *reexec_binary;     /* a daemon-reexec under way: what it executes */
        int reexec_memfd;        /* and the state it hands over; -1 */
        int *reexec_keep;        /* the fds the state names */
        size_t n_reexec_keep;
        sd_event_source *reexec_source;

        unsigned n_errors, n_warnings; /* diagnostics seen while loading */
        bool exiting;                  /* stopping every service, then exit */
        int exit_code;
} Manager;

/* Takes copies of unit_dirs (NULL-terminated) and runtime_dir. Returns 0 or -ENOMEM. */
int manager_new(Manager **ret, char *const *unit_dirs, const char *runtime_dir, bool user_mode);
Manager *manager_free(Manager *m);
static inline void manager_freep(Manager **m) {
        *m = manager_free(*m);
}

/* Gives the manager units made elsewhere (ad-hoc mode) instead of unit directories: takes
 * ownership of the array and the units. manager_load() then checks and plans them. */
void manager_set_units(Manager *m, Unit **units, size_t n);
/* With manager_set_units(): the text of the template service name (a copy), that each
 * Accept=yes instance is made from. Returns 0 or -ENOMEM. */
int manager_set_template_text(Manager *m, const char *name, const char *text);

/* Loads every unit, links sockets to services and checks the plan for overlaps. Logs every
 * diagnostic as "file:line: message". Bad units are left out, with the reason kept; the rest
 * stay. Returns 0, or a negative errno on a fatal error (allocation). m->n_errors counts the
 * errors reported. */
int manager_load(Manager *m);

/* Writes the plan for --check: every socket, how it will be bound and which service it feeds,
 * then a summary line. */
void manager_print_plan(Manager *m, FILE *f);

/* Before the first bind: stops what a berthd that was killed on the same runtime directory
 * left running (proc-recover.h), each unit by its KillSignal= and TimeoutStopSec= where it is
 * loaded. Returns how many processes it stopped, or -EBUSY when that berthd still runs. */
int manager_stop_leftovers(Manager *m);

/* Binds every planned socket and logs one line per socket. A unit whose socket fails to bind
 * is closed and marked failed; the others stay bound. Returns the number of units that
 * failed, or a negative errno. */
int manager_bind(Manager *m);

/* Runs the event loop until SIGTERM or SIGINT. The signals must be blocked already (main()).
 * Sends READY=1 once every service has begun (each socket watched, or its service
 * started). Returns the exit code. */
int manager_run(Manager *m);

/* Why a unit failed to load or to bind ("file:line: message"), or NULL when it did not. */
const char *manager_unit_load_error(Manager *m, const char *name);
bool manager_unit_failed(Manager *m, const char *name);

Service *manager_find_service(Manager *m, const char *name);

/* A loaded unit by full name, or NULL. Borrowed. */
Unit *manager_get_unit(Manager *m, const char *name);

/* The service a name acts on: a service by name, or a socket unit's service. NULL (and
 * -ENOENT from the operations below) when there is none. */
Service *manager_resolve_service(Manager *m, const char *name);


/* daemon-reload (SPEC §6, reload.c): re-reads the unit directories, checks the whole new
 * set, and applies it: unchanged sockets keep their fds, new ones are bound, removed ones
 * closed once their service stops, changed ones rebound; running services keep their process
 * and their new unit applies at the next start. A unit with an error keeps its old
 * configuration. Returns 0, UNIT_FILE_E_INVALID when some unit had an error (then
 * *ret_errors holds every "file:line: message"), or a negative errno. *ret_warnings likewise
 * for warnings. Both strvs are malloc'ed (possibly empty, never NULL on return >= 0). */
int manager_daemon_reload(Manager *m, char ***ret_errors, char ***ret_warnings);

/* The same in steps (the event loop serves accepts, notify messages and control calls between
 * them), telling done() once it is over with what manager_daemon_reload() returns and its
 * errors and warnings (borrowed for the call). A reload asked for while one runs is done
 * after it, once for all who asked meanwhile. done may be NULL (SIGHUP): the outcome is only
 * logged. Without an event loop it runs at once. Returns 0 or -ENOMEM (done not called). */
typedef void (*ManagerReloadDone)(Manager *m, int r, char **errors, char **warnings,
                                  void *userdata);
int manager_daemon_reload_async(Manager *m, ManagerReloadDone done, void *userdata);

/* Operator actions by unit name. Return 0, or a negative errno with a one-line message in
 * err: -ENOENT no such unit, -EBUSY, -ENOTCONN not running, ... */
int manager_unit_start(Manager *m, const char *name, char *err, size_t errlen);
int manager_unit_stop(Manager *m, const char *name, char *err, size_t errlen);
int manager_unit_restart(Manager *m, const char *name, char *err, size_t errlen);

/* Restarts and tells done() once the new process is ready (error 0), or has failed (a negative
 * errno and a message; with Handover=overlap the old process then serves on). done() is not
 * called when this returns an error. At most one restart report may be pending per service:
 * -EBUSY otherwise. */
int manager_unit_restart_async(Manager *m, const char *name, ServiceRestartDone done,
                               void *userdata, char *err, size_t errlen);
/* Reloads and tells done() once the reload is over: ExecReload= ran, READY=1 ended a
 * Type=notify-reload reload, or at once for a bare ReloadSignal=; or it failed. As above:
 * done() is not called when this returns an error; one report pending per service. */
int manager_unit_reload_async(Manager *m, const char *name, ServiceRestartDone done,
                              void *userdata, char *err, size_t errlen);
