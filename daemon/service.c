/* service: the supervision state machine (see service.h). Every transition goes through
 * service_set_state(), which logs it, applies the one watch rule and the watchdog rule, and
 * reports upward. Events are: a start (operator, boot, a client on a socket, a restart
 * timer), a stop or restart (operator, berthd's shutdown), a process exiting (split by its
 * role: main, the process being replaced, a failed successor, a control process), a timer,
 * and a notify message. Everything the machine does to the world goes through s->ctx->ops. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "common/log.h"
#include "common/string-table.h"
#include "daemon/service-internal.h"

DEFINE_STRING_TABLE(service_state, ServiceState,
                    [SERVICE_DEAD] = "dead",
                    [SERVICE_CONDITION] = "condition",
                    [SERVICE_START_PRE] = "start-pre",
                    [SERVICE_START] = "start",
                    [SERVICE_START_POST] = "start-post",
                    [SERVICE_RUNNING] = "running",
                    [SERVICE_RELOAD] = "reload",
                    [SERVICE_HANDOVER] = "handover",
                    [SERVICE_DRAINING] = "draining",
                    [SERVICE_HANDOVER_ABORT] = "handover-abort",
                    [SERVICE_STOP] = "stop",
                    [SERVICE_STOP_SIGTERM] = "stop-sigterm",
                    [SERVICE_STOP_SIGKILL] = "stop-sigkill",
                    [SERVICE_STOP_POST] = "stop-post",
                    [SERVICE_AUTO_RESTART] = "auto-restart",
                    [SERVICE_BACKOFF] = "backoff",
                    [SERVICE_FAILED] = "failed")

DEFINE_STRING_TABLE(service_result, ServiceResult,
                    [SERVICE_SUCCESS] = "success",
                    [SERVICE_FAILURE_EXIT_CODE] = "exit-code",
                    [SERVICE_FAILURE_SIGNAL] = "signal",
                    [SERVICE_FAILURE_CORE_DUMP] = "core-dump",
                    [SERVICE_FAILURE_TIMEOUT] = "timeout",
                    [SERVICE_FAILURE_RESOURCES] = "resources",
                    [SERVICE_FAILURE_PROTOCOL] = "protocol",
                    [SERVICE_FAILURE_WATCHDOG] = "watchdog",
                    [SERVICE_SKIP_CONDITION] = "exec-condition")

DEFINE_STRING_TABLE(service_intent, ServiceIntent,
                    [SERVICE_INTENT_NONE] = "none",
                    [SERVICE_INTENT_STOP] = "stop",
                    [SERVICE_INTENT_RESTART] = "restart")

DEFINE_STRING_TABLE_FROM_STRING(service_state, ServiceState)
DEFINE_STRING_TABLE_FROM_STRING(service_result, ServiceResult)
DEFINE_STRING_TABLE_FROM_STRING(service_intent, ServiceIntent)

DEFINE_STRING_TABLE(notify_role, NotifyRole,
                    [NOTIFY_ROLE_MAIN] = "the main process",
                    [NOTIFY_ROLE_CONTROL] = "a control process",
                    [NOTIFY_ROLE_OLD_MAIN] = "the process being replaced",
                    [NOTIFY_ROLE_FAILED] = "a successor that failed its handover",
                    [NOTIFY_ROLE_OTHER] = "another process of the service")

ServiceTimers *service_timers(Service *s) {
        if (!s->run->timers) {
                if (service_run_make(s) < 0)
                        return NULL;
                s->run->timers = malloc(sizeof *s->run->timers);
                if (!s->run->timers)
                        return NULL;
                *s->run->timers = (ServiceTimers) {};
                for (ServiceTimer t = 0; t < _SERVICE_TIMER_MAX; t++)
                        s->run->timers->due[t] = USEC_INFINITY;
        }
        return s->run->timers;
}

/* Arms a timer usec from now; USEC_INFINITY disarms it. */
void service_arm(Service *s, ServiceTimer t, usec_t usec) {
        if (usec == USEC_INFINITY && !s->run->timers)
                return; /* never armed */
        if (!service_timers(s)) {
                log_oom();
                log_error("%s: cannot arm its timer: it will not fire", s->unit->name);
                return;
        }
        s->run->timers->due[t] = usec == USEC_INFINITY ? USEC_INFINITY : service_now(s) + usec;
        s->ctx->ops->arm_timer(s, t, usec);
}

void service_disarm(Service *s) {
        service_arm(s, SERVICE_TIMER_STATE, USEC_INFINITY);
        if (s->run->bus_name_slot && s->ctx->ops->watch_bus_name)
                (void) s->ctx->ops->watch_bus_name(s, false);
}

void service_release_pids(Service *s) {
        if (s->ctx->ops->release)
                s->ctx->ops->release(s);
}

void service_send(Service *s, pid_t pid, int sig) {
        if (pid != 0)
                s->ctx->ops->kill(s, pid, sig);
}


static void service_spawn_main(Service *s);
static void service_run_next_control(Service *s);
static void service_enter_controls(Service *s, ServiceState st);
static const ExecCommand *service_control_commands(Service *s, ServiceState st, size_t *ret_n,
                                                   usec_t *ret_timeout);
static void service_control_done(Service *s, ServiceState st, ServiceResult r);

/* ---- the transition ---- */

/* The watch rule: a socket-activated service that is not running waits for a client. Its
 * sockets are not watched while it runs, or is about to: connections wait in the backlog. */
static bool service_watch_wanted(const Service *s) {
        switch (s->state) {
        case SERVICE_DEAD:
        case SERVICE_FAILED:
                return s->socket_activated && !s->shutting_down && !s->condition_failed;
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_START_POST:
        case SERVICE_RUNNING:
        case SERVICE_RELOAD:
        case SERVICE_HANDOVER:
        case SERVICE_DRAINING:
        case SERVICE_HANDOVER_ABORT:
        case SERVICE_STOP:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
        case SERVICE_STOP_POST:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
                return false;
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
        assert_not_reached();
}

/* States in which a ready main process serves, and so owes WATCHDOG=1. */
bool service_state_serves(ServiceState st) {
        return IN_SET(st, SERVICE_RUNNING, SERVICE_RELOAD, SERVICE_DRAINING,
                      SERVICE_HANDOVER_ABORT);
}

void service_arm_watchdog(Service *s) {
        bool on = service_state_serves(s->state) && s->run->main_pid > 0 &&
                  s->run->watchdog_usec > 0;
        service_arm(s, SERVICE_TIMER_WATCHDOG, on ? s->run->watchdog_usec : USEC_INFINITY);
}

void service_update_watch(Service *s) {
        s->ctx->ops->watch(s, service_watch_wanted(s));
}

void service_set_state(Service *s, ServiceState st) {
        ServiceState old = s->state;

        s->state = st;
        service_update_watch(s);
        if (service_state_serves(st) != service_state_serves(old))
                service_arm_watchdog(s);
        /* Before the line that tells the new state: who reads it finds the pidfds of the
         * processes it no longer names closed. */
        service_release_pids(s);

        if (old != st) {
                const char *from = service_state_to_string(old), *to = service_state_to_string(st);
                pid_t pid = s->run->main_pid ?: s->run->control_pid;

                if (pid > 0)
                        log_info("%s: %s -> %s (pid %d)", service_name(s), from, to, (int) pid);
                else if (st == SERVICE_FAILED || (st == SERVICE_DEAD && s->result != SERVICE_SUCCESS))
                        log_info("%s: %s -> %s (result: %s)", service_name(s), from, to,
                                 service_result_to_string(s->result));
                else
                        log_info("%s: %s -> %s", service_name(s), from, to);
        }
        /* A reload ends with the service: whoever waits for it learns it failed. */
        if (s->run->waiters && s->run->waiters->reload.done && !service_state_serves(st)) {
                char msg[128];
                snprintf(msg, sizeof msg, "%s stopped before its reload completed (%s)",
                         service_name(s), service_state_to_string(st));
                service_report_reload(s, -EIO, msg);
        }
        if (s->ctx->on_state)
                s->ctx->on_state(s, s->ctx->userdata);
}

bool service_is_active(const Service *s) {
        const ServiceRun *r = s->run;

        return r->main_pid > 0 || r->control_pid > 0 || r->old_main_pid > 0 || r->failed_pid > 0;
}

bool service_is_serving(const Service *s) {
        return service_state_serves(s->state) && s->run->main_pid > 0;
}

bool service_is_inactive(const Service *s) {
        return !service_is_active(s) && IN_SET(s->state, SERVICE_DEAD, SERVICE_FAILED);
}

static void waiter_report(Service *s, bool reload, int error, const char *message) {
        ServiceWaiter *w, x;

        if (!s->run->waiters)
                return;
        w = reload ? &s->run->waiters->reload : &s->run->waiters->restart;
        x = *w;
        if (!x.done)
                return;
        *w = (ServiceWaiter) {};
        x.done(s, error, message, x.userdata);
}

static int waiter_set(Service *s, bool reload, ServiceRestartDone done, void *userdata) {
        ServiceWaiter *w;

        if (!s->run->waiters) {
                if (!done)
                        return 0;
                if (service_run_make(s) < 0)
                        return -ENOMEM;
                s->run->waiters = calloc(1, sizeof *s->run->waiters);
                if (!s->run->waiters)
                        return -ENOMEM;
        }
        w = reload ? &s->run->waiters->reload : &s->run->waiters->restart;
        if (w->done && done)
                return -EBUSY;
        *w = (ServiceWaiter) { done, userdata };
        return 0;
}

void service_report_restart(Service *s, int error, const char *message) {
        waiter_report(s, false, error, message);
}

void service_report_reload(Service *s, int error, const char *message) {
        waiter_report(s, true, error, message);
}

int service_set_restart_done(Service *s, ServiceRestartDone done, void *userdata) {
        return waiter_set(s, false, done, userdata);
}

int service_set_reload_done(Service *s, ServiceRestartDone done, void *userdata) {
        return waiter_set(s, true, done, userdata);
}

/* ---- start ---- */

int service_start_times_add(Service *s, usec_t t) {
        unsigned burst = unit_extra(s->unit)->start_limit_burst;
        ServiceRun *r = s->run;

        if (burst == 0)
                return 0;
        if (!r->start_times) {
                /* Made at the first start: a service never started keeps none. */
                r->start_times = calloc(burst, sizeof(usec_t));
                if (!r->start_times)
                        return -ENOMEM;
                r->n_start_times = r->start_times_head = 0;
        }
        if (r->n_start_times == burst) {
                r->start_times[r->start_times_head] = t;
                r->start_times_head = (r->start_times_head + 1) % burst;
        } else
                r->start_times[(r->start_times_head + r->n_start_times++) % burst] = t;
        return 0;
}

/* Records a start and says whether it is over StartLimitBurst= in StartLimitIntervalSec=. */
static bool service_start_limit_hit(Service *s, usec_t now) {
        const UnitExtra *x = unit_extra(s->unit);
        unsigned burst = x->start_limit_burst;
        usec_t interval = x->start_limit_interval_usec;

        if (burst == 0 || interval == 0)
                return false;
        if (s->run->start_times && s->run->n_start_times == burst &&
            now - s->run->start_times[s->run->start_times_head] < interval)
                return true;
        if (service_start_times_add(s, now) < 0)
                log_oom();
        return false;
}

static void service_enter_backoff(Service *s) {
        const UnitExtra *x = unit_extra(s->unit);
        usec_t delay = SERVICE_BACKOFF_BASE_USEC;

        for (unsigned i = 0; i < s->run->backoff_level && delay < SERVICE_BACKOFF_CAP_USEC; i++)
                delay *= 2;
        delay = MIN(delay, SERVICE_BACKOFF_CAP_USEC);
        if (s->run->backoff_level < 32)
                s->run->backoff_level++;
        log_warning("%s: started %u times within %llus (StartLimitBurst=, "
                    "StartLimitIntervalSec=): backing off for %llu.%03llus; the socket stays "
                    "bound and connections wait",
                    service_name(s), x->start_limit_burst,
                    (unsigned long long) (x->start_limit_interval_usec / USEC_PER_SEC),
                    (unsigned long long) (delay / USEC_PER_SEC),
                    (unsigned long long) (delay % USEC_PER_SEC / USEC_PER_MSEC));
        service_set_state(s, SERVICE_BACKOFF);
        service_arm(s, SERVICE_TIMER_STATE, delay);
}

/* limited: automatic starts (a client, Restart=, boot) count against the start limit; an
 * operator's start or restart is recorded but never held back: the limit tames crash loops,
 * not people. */
static void service_enter_start(Service *s, bool limited) {
        usec_t now = service_now(s);

        if (service_run_make(s) < 0) {
                log_oom();
                s->result = SERVICE_FAILURE_RESOURCES;
                service_set_state(s, SERVICE_FAILED);
                return;
        }
        service_apply_next_unit(s);
        if (service_start_limit_hit(s, now) && limited) {
                service_enter_backoff(s);
                return;
        }
        s->intent = SERVICE_INTENT_NONE;
        s->result = SERVICE_SUCCESS;
        s->run->invocation_id[0] = 0; /* a new run: its processes get a new INVOCATION_ID= */
        s->run->active_since = now;
        s->run->since_realtime = s->ctx->ops->now(s, CLOCK_REALTIME);
        s->run->exec_index = 0;
        s->run->pgid = 0;
        s->run->main_exited = false;
        s->run->stop_post_ran = false;
        service_enter_controls(s, service_config_hooks(&s->unit->service)->n_exec_condition > 0 ?
                                          SERVICE_CONDITION : SERVICE_START_PRE);
}

/* Runs the control commands of state st (CONDITION, START_PRE, START_POST, STOP or
 * STOP_POST) in that state; with none, goes straight on to what follows them. */
static void service_enter_controls(Service *s, ServiceState st) {
        size_t n;
        usec_t timeout;

        (void) service_control_commands(s, st, &n, &timeout);
        s->run->control_index = 0;
        if (n == 0) {
                service_control_done(s, st, SERVICE_SUCCESS);
                return;
        }
        service_set_state(s, st);
        service_run_next_control(s);
}

/* The main process started (exec'ed, READY=1, forked, its bus name, or a oneshot done):
 * ExecStartPost=, then running. Until ExecStartPost= succeeded it has not started. */
void service_enter_start_post(Service *s) {
        service_disarm(s);
        service_enter_controls(s, SERVICE_START_POST);
}

/* The main process is ready. */
void service_enter_running(Service *s) {
        service_disarm(s);
        service_set_state(s, SERVICE_RUNNING);
        service_report_restart(s, 0, NULL);
}

/* Type=dbus: watches for BusName=; false when there is no system bus (then it is simple). */
static bool service_watch_bus_name(Service *s) {
        int r = s->ctx->ops->watch_bus_name ? s->ctx->ops->watch_bus_name(s, true) : 0;

        if (r < 0)
                log_warning_errno(r, "%s: cannot watch the system bus for %s: %m; treating it "
                                  "as Type=simple", service_name(s),
                                  service_config_process(&s->unit->service)->bus_name);
        return r > 0;
}

void service_on_bus_name(Service *s) {
        if (s->state != SERVICE_START || s->unit->service.type != SERVICE_DBUS)
                return;
        log_info("%s: %s appeared on the system bus", service_name(s),
                 service_config_process(&s->unit->service)->bus_name);
        service_enter_running(s);
}

/* Spawns ExecStart= number exec_index, or ends a oneshot that ran them all. */
static void service_spawn_main(Service *s) {
        const ServiceConfig *c = &s->unit->service;
        pid_t pid;

        if (s->run->exec_index >= c->n_exec_start) {
                service_enter_start_post(s); /* a oneshot ran them all */
                return;
        }
        s->run->watchdog_usec = service_extra(s)->watchdog_usec;
        if (s->ctx->ops->spawn(s, &c->exec_start[s->run->exec_index], true, NULL, &pid) < 0) {
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_RESOURCES);
                return;
        }
        s->run->main_pid = s->run->pgid = pid;
        if (c->type == SERVICE_DBUS && !service_watch_bus_name(s)) {
                service_enter_start_post(s);
                return;
        }
        if (c->type == SERVICE_ONESHOT || service_type_is_notify(c->type) ||
            c->type == SERVICE_FORKING || c->type == SERVICE_DBUS) {
                /* oneshot: until it exits; notify: until READY=1; forking: until the first
                 * process exits, having left its daemon. */
                service_set_state(s, SERVICE_START);
                service_arm(s, SERVICE_TIMER_STATE, c->timeout_start_usec);
        } else
                /* simple and exec: spawn returns once execve() succeeded. */
                service_enter_start_post(s);
}

/* ---- control processes ---- */

/* The control commands each state runs: where its list and their number are in
 * ServiceHooks (count 0: none), and whether TimeoutStopSec= bounds each (else
 * TimeoutStartSec=). */
static const struct {
        size_t list, count;
        bool stop;
} control_lists[_SERVICE_STATE_MAX] = {
        [SERVICE_CONDITION] = { offsetof(ServiceHooks, exec_condition),
                                offsetof(ServiceHooks, n_exec_condition), false },
        [SERVICE_START_PRE] = { offsetof(ServiceHooks, exec_start_pre),
                                offsetof(ServiceHooks, n_exec_start_pre), false },
        [SERVICE_START_POST] = { offsetof(ServiceHooks, exec_start_post),
                                 offsetof(ServiceHooks, n_exec_start_post), false },
        [SERVICE_STOP] = { offsetof(ServiceHooks, exec_stop),
                           offsetof(ServiceHooks, n_exec_stop), true },
        [SERVICE_STOP_POST] = { offsetof(ServiceHooks, exec_stop_post),
                                offsetof(ServiceHooks, n_exec_stop_post), true },
};

/* The control commands of state st, how many, and the timeout of each. */
static const ExecCommand *service_control_commands(Service *s, ServiceState st, size_t *ret_n,
                                                   usec_t *ret_timeout) {
        const ServiceConfig *c = &s->unit->service;
        const uint8_t *base = (const uint8_t *) service_config_hooks(c);

        *ret_timeout = control_lists[st].stop ? c->timeout_stop_usec : c->timeout_start_usec;
        if (control_lists[st].count == 0) {
                *ret_n = 0;
                return NULL;
        }
        *ret_n = *(const size_t *) (base + control_lists[st].count);
        return *(ExecCommand *const *) (base + control_lists[st].list);
}

/* The control commands of state st are done, with r (a failure stops the list, unless "-"):
 * what follows them. */
static void service_control_done(Service *s, ServiceState st, ServiceResult r) {
        s->run->control_pid = 0;
        switch (st) {
        case SERVICE_CONDITION:
                if (r == SERVICE_SUCCESS) {
                        service_enter_controls(s, SERVICE_START_PRE);
                        return;
                }
                /* As Condition*=: its sockets are not watched until an operator's start, or
                 * a client would run the check again and again. */
                if (r == SERVICE_SKIP_CONDITION)
                        s->condition_failed = true;
                service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                return;
        case SERVICE_START_PRE:
                if (r == SERVICE_SUCCESS)
                        service_spawn_main(s);
                else
                        service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                return;
        case SERVICE_START_POST:
                if (r != SERVICE_SUCCESS)
                        service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                else if (s->unit->service.type == SERVICE_ONESHOT &&
                         !service_extra(s)->remain_after_exit)
                        service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_SUCCESS);
                else
                        service_enter_running(s); /* RemainAfterExit=: with no main process */
                return;
        case SERVICE_STOP:
        case SERVICE_STOP_POST: /* stop_post_ran: this ends the run */
                service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                return;
        case SERVICE_DEAD:
        case SERVICE_START:
        case SERVICE_RUNNING:
        case SERVICE_RELOAD:
        case SERVICE_HANDOVER:
        case SERVICE_DRAINING:
        case SERVICE_HANDOVER_ABORT:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
        case SERVICE_FAILED:
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
}

/* What a control command gets on top of the service's environment, as systemd's
 * service_spawn() sets it: $MAINPID while there is a main process; in ExecStopPost=,
 * $SERVICE_RESULT, and $EXIT_CODE and $EXIT_STATUS of the main process when it exited. */
typedef struct ControlEnv {
        char vars[4][64];
        char *list[5]; /* NULL-terminated, into vars */
} ControlEnv;

static char *const *service_control_env(Service *s, ControlEnv *e) {
        size_t n = 0;

        if (s->run->main_pid > 0)
                snprintf(e->vars[n++], sizeof e->vars[0], "MAINPID=%d", (int) s->run->main_pid);
        if (s->state == SERVICE_STOP_POST) {
                snprintf(e->vars[n++], sizeof e->vars[0], "SERVICE_RESULT=%s",
                         service_result_to_string(s->result));
                if (s->run->main_exited && s->run->last_exit_code == CLD_EXITED) {
                        snprintf(e->vars[n++], sizeof e->vars[0], "EXIT_CODE=exited");
                        snprintf(e->vars[n++], sizeof e->vars[0], "EXIT_STATUS=%d",
                                 s->run->last_exit_status);
                } else if (s->run->main_exited) {
                        snprintf(e->vars[n++], sizeof e->vars[0], "EXIT_CODE=%s",
                                 s->run->last_exit_code == CLD_DUMPED ? "dumped" : "killed");
                        snprintf(e->vars[n++], sizeof e->vars[0], "EXIT_STATUS=%s",
                                 sigabbrev_np(s->run->last_exit_status) ?: "?");
                }
        }
        for (size_t i = 0; i < n; i++)
                e->list[i] = e->vars[i];
        e->list[n] = NULL;
        return n > 0 ? e->list : NULL;
}

/* Runs the next control command of the current state, or moves on. */
static void service_run_next_control(Service *s) {
        const ExecCommand *cmds;
        ControlEnv env;
        usec_t timeout;
        size_t n;
        pid_t pid;

        cmds = service_control_commands(s, s->state, &n, &timeout);
        for (;;) {
                if (s->run->control_index >= n) {
                        service_control_done(s, s->state, SERVICE_SUCCESS);
                        return;
                }
                if (s->ctx->ops->spawn(s, &cmds[s->run->control_index], false,
                                      service_control_env(s, &env), &pid) >= 0)
                        break;
                if (!cmds[s->run->control_index].ignore_failure) {
                        service_control_done(s, s->state, SERVICE_FAILURE_RESOURCES);
                        return;
                }
                s->run->control_index++;
        }
        s->run->control_pid = pid;
        service_arm(s, SERVICE_TIMER_STATE, timeout);
}

static int service_spawn_reload(Service *s) {
        const ServiceConfig *c = &s->unit->service;
        ControlEnv env;
        pid_t pid;
        int r;

        r = s->ctx->ops->spawn(s, &service_config_hooks(c)->exec_reload[s->run->reload_index],
                               false, service_control_env(s, &env), &pid);
        if (r < 0)
                return r;
        s->run->control_pid = pid;
        /* Each within TimeoutStartSec=; in the handover states the timer is theirs. */
        if (s->state == SERVICE_RUNNING)
                service_arm(s, SERVICE_TIMER_STATE, c->timeout_start_usec);
        return 0;
}

/* ---- stop ---- */

static void service_kill(Service *s, int sig) {
        KillMode mode = service_extra(s)->kill_mode;

        if (mode == KILL_NONE && sig != SIGKILL)
                return;
        service_kill_one(s, s->run->old_main_pid, s->run->old_pgid, sig);
        service_kill_one(s, s->run->failed_pid, s->run->failed_pgid, sig);
        if (s->run->control_pid > 0)
                service_send(s, -s->run->control_pid, sig);
        if (s->run->pgid > 0 && (mode == KILL_CONTROL_GROUP || sig == SIGKILL) &&
            mode != KILL_PROCESS)
                service_send(s, -s->run->pgid, sig);
        else if (s->run->main_pid > 0)
                service_send(s, s->run->main_pid, sig);
        if (sig != SIGKILL && sig != SIGCONT) {
                if (s->run->pgid > 0 && mode == KILL_CONTROL_GROUP)
                        service_send(s, -s->run->pgid, SIGCONT);
                else if (s->run->main_pid > 0)
                        service_send(s, s->run->main_pid, SIGCONT);
        }
        /* The control group is every process of the service, not only its process groups:
         * those that called setsid() too. */
        if (mode == KILL_CONTROL_GROUP)
                s->ctx->ops->kill_all(s, sig);
}

void service_enter_signal(Service *s, ServiceState st, ServiceResult r) {
        const ServiceConfig *c = &s->unit->service;

        if (s->result == SERVICE_SUCCESS)
                s->result = r;
        if (!service_is_active(s)) {
                /* Nothing left but maybe stray members of its process group, or of its
                 * control group (KillMode=mixed kills those only now). */
                if (s->run->pgid > 0 && service_extra(s)->kill_mode != KILL_NONE)
                        service_send(s, -s->run->pgid, SIGKILL);
                if (IN_SET(service_extra(s)->kill_mode, KILL_CONTROL_GROUP, KILL_MIXED))
                        s->ctx->ops->kill_all(s, SIGKILL);
                /* ExecStopPost= once per run, after a stop or a failure alike; then what it
                 * left is killed too, on the way here again. */
                if (!s->run->stop_post_ran && service_config_hooks(c)->n_exec_stop_post > 0) {
                        s->run->stop_post_ran = true;
                        service_enter_controls(s, SERVICE_STOP_POST);
                        return;
                }
                service_enter_dead(s, s->result);
                return;
        }
        service_kill(s, st == SERVICE_STOP_SIGTERM ? service_extra(s)->kill_signal : SIGKILL);
        service_set_state(s, st);
        service_arm(s, SERVICE_TIMER_STATE, c->timeout_stop_usec);
}

void service_enter_stop(Service *s, ServiceResult r) {
        const ServiceConfig *c = &s->unit->service;

        if (s->result == SERVICE_SUCCESS)
                s->result = r;
        /* As systemd: a service that started runs its ExecStop= also when its main process
         * ended on its own (with no $MAINPID then), or remained after it (RemainAfterExit=). */
        if (service_config_hooks(c)->n_exec_stop > 0 &&
            (s->run->main_pid > 0 || s->state == SERVICE_RUNNING)) {
                service_enter_controls(s, SERVICE_STOP);
                return;
        }
        service_enter_signal(s, SERVICE_STOP_SIGTERM, s->result);
}

/* Stops whatever runs, for a stop or a stop-first restart (s->intent says which). */
static int service_stop_now(Service *s) {
        switch (s->state) {
        case SERVICE_DEAD:
        case SERVICE_FAILED:
                service_update_watch(s);
                return 0;
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
                service_disarm(s);
                service_set_state(s, SERVICE_DEAD);
                return 0;
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_START_POST:
                /* As systemd: a start in progress is killed, without ExecStop=. */
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_SUCCESS);
                return 0;
        case SERVICE_START:
        case SERVICE_RUNNING:
        case SERVICE_RELOAD:
        case SERVICE_HANDOVER:
        case SERVICE_DRAINING:
        case SERVICE_HANDOVER_ABORT:
                service_enter_stop(s, SERVICE_SUCCESS);
                return 0;
        case SERVICE_STOP:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
        case SERVICE_STOP_POST:
                return 0;
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
        return -EINVAL;
}

int service_stop(Service *s) {
        s->intent = SERVICE_INTENT_STOP;
        return service_stop_now(s);
}

void service_shutdown(Service *s) {
        s->shutting_down = true;
        (void) service_stop(s);
}

/* Condition*= skips a start, as in systemd; Assert*= fails it. While they do not hold, a
 * socket-activated service's sockets are not watched (a client would trigger it again and
 * again); an explicit start tests them again. Returns 1 to go on, 0 skipped, or -EBADMSG. */
static int service_conditions(Service *s) {
        char why[1024];
        int r = unit_conditions_test(s->unit, why, sizeof why);

        s->condition_failed = r <= 0;
        if (r == 0)
                log_info("%s: skipped, not started: %s%s", service_name(s), why,
                         s->socket_activated ? "; its sockets stay bound, and clients wait "
                                               "until `berthctl start` finds it met" : "");
        else if (r < 0)
                log_error("%s: cannot start: %s", service_name(s), why);
        if (r <= 0)
                service_update_watch(s);
        return r;
}

int service_start(Service *s) {
        int r;

        switch (s->state) {
        case SERVICE_DEAD:
        case SERVICE_FAILED:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
                /* Condition*= skips the start, as in systemd; Assert*= fails it. */
                r = service_conditions(s);
                if (r <= 0)
                        return r;
                service_disarm(s);
                service_enter_start(s, false);
                return 0;
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_START_POST:
        case SERVICE_RUNNING:
        case SERVICE_RELOAD:
        case SERVICE_HANDOVER:
        case SERVICE_DRAINING:
        case SERVICE_HANDOVER_ABORT:
                return 0; /* already on its way */
        case SERVICE_STOP:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
        case SERVICE_STOP_POST:
                return -EBUSY;
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
        return -EINVAL;
}

int service_restart(Service *s) {
        const Unit *u = s->run->next_unit ?: s->unit;
        bool overlap = service_config_extra(&u->service)->handover == HANDOVER_OVERLAP &&
                       u->service.type != SERVICE_ONESHOT;

        switch (s->state) {
        case SERVICE_RUNNING:
        case SERVICE_RELOAD: /* the reload is cut short: its caller is told it failed */
                if (overlap && s->run->main_pid > 0) {
                        service_enter_handover(s);
                        return 0;
                }
                break;
        case SERVICE_HANDOVER:
        case SERVICE_DRAINING:
        case SERVICE_HANDOVER_ABORT:
                if (overlap) {
                        /* One handover at a time: this one follows the one in progress. */
                        log_info("%s: handover queued until pid %d has %s", service_name(s),
                                 (int) (s->run->old_main_pid ?: s->run->failed_pid ?:
                                        s->run->main_pid),
                                 s->state == SERVICE_HANDOVER_ABORT ? "stopped" : "drained");
                        s->intent = SERVICE_INTENT_RESTART;
                        return 0;
                }
                break;
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_START_POST:
        case SERVICE_STOP:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
        case SERVICE_STOP_POST:
                break;
        case SERVICE_DEAD:
        case SERVICE_FAILED:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
                return service_start(s);
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                return -EINVAL;
        }
        /* Stop-first: start again once everything is gone. */
        s->intent = SERVICE_INTENT_RESTART;
        return service_stop_now(s);
}

/* Type=notify-reload: ReloadSignal= to the main process, then RELOADING=1 (stamped after
 * reload_begin_usec) and READY=1 within TimeoutStartSec=, as systemd 253 times it. */
static void service_enter_reload_signal(Service *s) {
        const ServiceConfig *c = &s->unit->service;

        log_info("%s: reloading with SIG%s to pid %d, waiting for RELOADING=1 and READY=1",
                 service_name(s), sigabbrev_np(service_extra(s)->reload_signal) ?: "?",
                 (int) s->run->main_pid);
        s->run->reload_notified = false;
        s->ctx->ops->kill(s, s->run->main_pid, service_extra(s)->reload_signal);
        service_set_state(s, SERVICE_RELOAD);
        service_arm(s, SERVICE_TIMER_STATE, c->timeout_start_usec);
}

/* The reload is over: back to running, and its caller told. */
static void service_reload_finish(Service *s, int error, const char *message) {
        if (s->state == SERVICE_RELOAD) {
                service_disarm(s);
                service_set_state(s, SERVICE_RUNNING);
        }
        service_report_reload(s, error, message);
}

int service_reload(Service *s, char *err, size_t errlen) {
        const ServiceConfig *c = &s->unit->service;
        int r;

        if (!service_state_serves(s->state) || s->run->main_pid <= 0) {
                snprintf(err, errlen, "%s is not running (%s)", service_name(s),
                         service_state_to_string(s->state));
                return -ENOTCONN;
        }
        if (s->state == SERVICE_RELOAD) {
                snprintf(err, errlen, "%s: a reload is in progress", service_name(s));
                return -EBUSY;
        }
        if (s->run->control_pid > 0) {
                snprintf(err, errlen, "%s: a control process (pid %d) is still running",
                         service_name(s), (int) s->run->control_pid);
                return -EBUSY;
        }
        if (c->type == SERVICE_NOTIFY_RELOAD && s->state != SERVICE_RUNNING) {
                snprintf(err, errlen, "%s: a handover is in progress (%s)", service_name(s),
                         service_state_to_string(s->state));
                return -EBUSY;
        }
        /* Before ExecReload=, as systemd: RELOADING=1 must come from a reload begun since. */
        s->run->reload_begin_usec = service_now(s);
        if (service_config_hooks(c)->n_exec_reload > 0) {
                s->run->reload_index = 0;
                log_info("%s: reloading with ExecReload=", service_name(s));
                r = service_spawn_reload(s);
                if (r < 0)
                        snprintf(err, errlen, "%s: ExecReload= could not be started",
                                 service_name(s));
                return r;
        }
        if (c->type == SERVICE_NOTIFY_RELOAD) {
                service_enter_reload_signal(s);
                return 0;
        }
        log_info("%s: reloading with SIG%s to pid %d", service_name(s),
                 sigabbrev_np(service_extra(s)->reload_signal) ?: "?", (int) s->run->main_pid);
        s->ctx->ops->kill(s, s->run->main_pid, service_extra(s)->reload_signal);
        service_report_reload(s, 0, NULL);
        return 0;
}

/* RELOADING=1 from the process in charge: in RELOAD, the answer to our signal when it is
 * stamped after the reload began; while running, a reload of its own, until READY=1. */
void service_on_reloading(Service *s, pid_t pid, usec_t monotonic_usec, bool ready) {
        if (s->state == SERVICE_RELOAD && !s->run->reload_notified &&
            monotonic_usec != USEC_INFINITY && monotonic_usec >= s->run->reload_begin_usec) {
                log_info("%s: reloading (RELOADING=1 from pid %d)", service_name(s), (int) pid);
                s->run->reload_notified = true;
                return;
        }
        if (s->state == SERVICE_RELOAD && !s->run->reload_notified) {
                log_warning("%s: RELOADING=1 from pid %d without a MONOTONIC_USEC= since the "
                            "reload began, ignoring", service_name(s), (int) pid);
                return;
        }
        log_info("%s: reloading (RELOADING=1 from pid %d)", service_name(s), (int) pid);
        if (s->state == SERVICE_RUNNING && !ready) {
                s->run->reload_notified = true;
                service_set_state(s, SERVICE_RELOAD);
                service_arm(s, SERVICE_TIMER_STATE, s->unit->service.timeout_start_usec);
        }
}

/* READY=1 from the process in charge, in RELOAD: the reload is done, if it said RELOADING=1. */
void service_on_reload_ready(Service *s, pid_t pid) {
        if (s->state != SERVICE_RELOAD || !s->run->reload_notified)
                return;
        log_info("%s: reloaded (READY=1 from pid %d)", service_name(s), (int) pid);
        service_reload_finish(s, 0, NULL);
}

/* ---- the end of a run: dead, failed, or a restart ---- */

static bool service_should_restart(Service *s, ServiceResult r) {
        const ServiceConfig *c = &s->unit->service;

        /* An instance serves one connection: there is nothing to restart it for. */
        if (s->intent != SERVICE_INTENT_NONE || s->shutting_down || r == SERVICE_SKIP_CONDITION ||
            service_accept(s))
                return false;
        /* As systemd's service_shall_restart(): the main process's exit decides first,
         * whatever Restart= says. RestartForceExitStatus= still counts toward the start
         * limit, as every automatic start does. */
        if (s->run->main_exited &&
            exit_status_set_test(&service_config_exit_status(c)->restart_prevent,
                                 s->run->last_exit_code, s->run->last_exit_status)) {
                log_info("%s: not restarted: its exit is in RestartPreventExitStatus=",
                         service_name(s));
                return false;
        }
        if (s->run->main_exited &&
            exit_status_set_test(&service_config_exit_status(c)->restart_force,
                                 s->run->last_exit_code, s->run->last_exit_status)) {
                log_info("%s: restarted whatever Restart= says: its exit is in "
                         "RestartForceExitStatus=", service_name(s));
                return true;
        }
        switch (c->restart) {
        case SERVICE_RESTART_NO:
                return false;
        case SERVICE_RESTART_ON_SUCCESS:
                return r == SERVICE_SUCCESS;
        case SERVICE_RESTART_ON_FAILURE:
                return r != SERVICE_SUCCESS;
        case SERVICE_RESTART_ON_ABNORMAL:
                return r == SERVICE_FAILURE_SIGNAL || r == SERVICE_FAILURE_CORE_DUMP ||
                       r == SERVICE_FAILURE_TIMEOUT || r == SERVICE_FAILURE_WATCHDOG;
        case SERVICE_RESTART_ON_ABORT:
                return r == SERVICE_FAILURE_SIGNAL || r == SERVICE_FAILURE_CORE_DUMP;
        case SERVICE_RESTART_ALWAYS:
                return true;
        case _SERVICE_RESTART_MAX:
        case _SERVICE_RESTART_INVALID:
                break;
        }
        return false;
}

/* The run is over: what it set up for itself goes (ServiceOps.run_over). */
static void service_run_over(Service *s, bool restarting) {
        if (s->ctx->ops->run_over)
                s->ctx->ops->run_over(s, restarting);
}

void service_enter_dead(Service *s, ServiceResult r) {
        bool stopped = s->intent == SERVICE_INTENT_STOP;

        if (s->result == SERVICE_SUCCESS)
                s->result = r;
        s->run->main_pid = s->run->control_pid = 0;
        s->run->old_main_pid = s->run->old_pgid = 0;
        s->run->failed_pid = s->run->failed_pgid = 0;

        /* A run that lasted a whole start-limit interval proves the service works again. */
        if (s->run->active_since > 0 &&
            service_now(s) - s->run->active_since >= unit_extra(s->unit)->start_limit_interval_usec)
                s->run->backoff_level = 0;

        if (s->intent == SERVICE_INTENT_RESTART && !s->shutting_down) {
                s->result = SERVICE_SUCCESS;
                service_run_over(s, true);
                service_set_state(s, SERVICE_DEAD);
                service_enter_start(s, false);
                return;
        }
        if (service_should_restart(s, s->result)) {
                service_run_over(s, true);
                service_set_state(s, SERVICE_AUTO_RESTART);
                service_arm(s, SERVICE_TIMER_STATE, s->unit->service.restart_usec);
                return;
        }
        service_disarm(s);
        service_run_over(s, false);
        if (s->result == SERVICE_SKIP_CONDITION)
                service_report_restart(s, 0, NULL); /* done, as systemd's job is */
        if (s->run->waiters && s->run->waiters->restart.done) {
                char msg[128];
                snprintf(msg, sizeof msg, "%s did not start: %s", service_name(s),
                         service_result_to_string(s->result));
                service_report_restart(s, -EIO, msg);
        }
        /* An explicit stop releases the fd store; restarts and crashes keep it. */
        if (stopped && !s->shutting_down)
                service_release_fd_store(s);
        service_set_state(s, IN_SET(s->result, SERVICE_SUCCESS, SERVICE_SKIP_CONDITION) ||
                                             s->intent != SERVICE_INTENT_NONE ?
                                     SERVICE_DEAD :
                                     SERVICE_FAILED);
}

/* ---- processes exiting, by role ---- */

bool service_exit_is_clean(const Service *s, int code, int status) {
        const ServiceConfig *c = &s->unit->service;
        const ExitStatusSet *success = &service_config_exit_status(c)->success;

        switch (code) {
        case CLD_EXITED:
                return status == 0 || exit_status_set_test(success, code, status);
        case CLD_KILLED:
                /* A daemon without handlers for them dies of these when asked to stop; a
                 * oneshot command killed by them did not finish (systemd's EXIT_CLEAN_DAEMON
                 * and EXIT_CLEAN_COMMAND). */
                return (c->type != SERVICE_ONESHOT &&
                        IN_SET(status, SIGHUP, SIGINT, SIGTERM, SIGPIPE)) ||
                       exit_status_set_test(success, code, status);
        default:
                return false; /* a core dump never is */
        }
}

static ServiceResult result_of(const Service *s, const siginfo_t *si) {
        if (service_exit_is_clean(s, si->si_code, si->si_status))
                return SERVICE_SUCCESS;
        switch (si->si_code) {
        case CLD_EXITED:
                return SERVICE_FAILURE_EXIT_CODE;
        case CLD_DUMPED:
                return SERVICE_FAILURE_CORE_DUMP;
        default:
                return SERVICE_FAILURE_SIGNAL;
        }
}

static void log_exit(Service *s, const char *what, const siginfo_t *si) {
        if (si->si_code == CLD_EXITED)
                log_full_errno(si->si_status == 0 ? LOG_INFO : LOG_WARNING, 0,
                               "%s: %s process %d exited with status %d", service_name(s), what,
                               (int) si->si_pid, si->si_status);
        else
                log_warning("%s: %s process %d was killed by SIG%s%s", service_name(s), what,
                            (int) si->si_pid, sigabbrev_np(si->si_status) ?: "?",
                            si->si_code == CLD_DUMPED ? " (core dumped)" : "");
}

/* Type=forking: the first process exited. Success, and a daemon left to follow, is
 * readiness. */
static void service_on_forked(Service *s, ServiceResult r) {
        char why[512] = "";
        pid_t m, g;

        if (r != SERVICE_SUCCESS) {
                service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                return;
        }
        m = s->ctx->ops->forking_main_pid ? s->ctx->ops->forking_main_pid(s, why, sizeof why)
                                         : -EOPNOTSUPP;
        if (m <= 0) {
                log_warning("%s: its first process exited, but its main process is unknown: %s",
                            service_name(s), why[0] ? why : "not supported here");
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_PROTOCOL);
                return;
        }
        s->run->main_pid = m;
        g = s->ctx->ops->pgid_of(s, m);
        if (g > 0)
                s->run->pgid = g;
        log_info("%s: the main process is now pid %d (%s)", service_name(s), (int) m, why);
        service_enter_running(s);
}

static void service_on_main_exit(Service *s, ServiceResult r) {
        switch (s->state) {
        case SERVICE_START:
                if (s->unit->service.type == SERVICE_FORKING)
                        service_on_forked(s, r);
                else if (s->unit->service.type != SERVICE_ONESHOT)
                        service_enter_signal(s, SERVICE_STOP_SIGTERM,
                                             r == SERVICE_SUCCESS ? SERVICE_FAILURE_PROTOCOL : r);
                else if (r == SERVICE_SUCCESS) {
                        s->run->exec_index++; /* the next ExecStart=, or done */
                        service_spawn_main(s);
                } else
                        service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                break;
        case SERVICE_HANDOVER:
                service_handover_failed(s, "the new process exited before READY=1");
                break;
        case SERVICE_RUNNING:
                /* RemainAfterExit=: a clean exit leaves it running (systemd's "exited"), what
                 * the process left behind too, until it is stopped. */
                if (r == SERVICE_SUCCESS && service_extra(s)->remain_after_exit) {
                        log_info("%s: the main process exited; the service remains active "
                                 "(RemainAfterExit=yes)", service_name(s));
                        break;
                }
                service_enter_stop(s, r);
                break;
        case SERVICE_START_POST:
        case SERVICE_RELOAD:
        case SERVICE_DRAINING:
        case SERVICE_HANDOVER_ABORT:
                /* Stray members of its group, a hook, and any other process go with it. */
                service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                break;
        case SERVICE_STOP:
                break; /* ExecStop= still runs; it ends the stop */
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
                if (s->result == SERVICE_SUCCESS && s->intent == SERVICE_INTENT_NONE)
                        s->result = r;
                service_enter_signal(s, s->state, s->result);
                break;
        case SERVICE_DEAD:
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_STOP_POST:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
        case SERVICE_FAILED:
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
}

/* ExecReload= number reload_index exited with r. */
static void service_on_reload_exit(Service *s, ServiceResult r) {
        const ServiceConfig *c = &s->unit->service;
        char msg[128];

        if (s->state == SERVICE_RUNNING)
                service_arm(s, SERVICE_TIMER_STATE, USEC_INFINITY);
        if (r == SERVICE_SUCCESS &&
            s->run->reload_index + 1 < service_config_hooks(c)->n_exec_reload) {
                s->run->reload_index++;
                if (service_spawn_reload(s) >= 0)
                        return;
                r = SERVICE_FAILURE_RESOURCES;
        }
        if (r == SERVICE_SUCCESS && c->type == SERVICE_NOTIFY_RELOAD &&
            s->state == SERVICE_RUNNING && s->run->main_pid > 0) {
                service_enter_reload_signal(s);
                return;
        }
        snprintf(msg, sizeof msg, "%s: ExecReload= failed (%s)", service_name(s),
                 service_result_to_string(r));
        service_report_reload(s, r == SERVICE_SUCCESS ? 0 : -EIO,
                              r == SERVICE_SUCCESS ? NULL : msg);
}

static void service_on_control_exit(Service *s, ServiceResult r, const siginfo_t *si) {
        const ExecCommand *cmds;
        usec_t timeout;
        size_t n;

        s->run->control_pid = 0;
        switch (s->state) {
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_START_POST:
        case SERVICE_STOP_POST:
                cmds = service_control_commands(s, s->state, &n, &timeout);
                if (s->run->control_index < n && cmds[s->run->control_index].ignore_failure)
                        r = SERVICE_SUCCESS;
                /* ExecCondition= exiting 1..254 skips the start; 255 and signals fail it. */
                if (s->state == SERVICE_CONDITION && r == SERVICE_FAILURE_EXIT_CODE &&
                    si->si_status < 255) {
                        log_info("%s: skipped, not started: ExecCondition= exited with status "
                                 "%d%s", service_name(s), si->si_status,
                                 s->socket_activated ? "; its sockets stay bound, and clients "
                                 "wait until `berthctl start` finds it met" : "");
                        r = SERVICE_SKIP_CONDITION;
                }
                if (r != SERVICE_SUCCESS) {
                        service_control_done(s, s->state, r);
                        break;
                }
                s->run->control_index++;
                service_run_next_control(s);
                break;
        case SERVICE_STOP:
                s->run->control_index++;
                service_run_next_control(s);
                break;
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
                service_enter_signal(s, s->state, s->result);
                break;
        case SERVICE_RUNNING:
        case SERVICE_DRAINING:
        case SERVICE_HANDOVER_ABORT:
                service_on_reload_exit(s, r);
                break;
        case SERVICE_DEAD:
        case SERVICE_START:
        case SERVICE_RELOAD:
        case SERVICE_HANDOVER:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
        case SERVICE_FAILED:
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
}

bool service_names_child(Service *s, pid_t pid) {
        NotifyRole role;

        return service_is_pid_of(s, pid, &role);
}

bool service_on_child(Service *s, const siginfo_t *si) {
        ServiceResult r = result_of(s, si);
        pid_t pid = si->si_pid;

        if (pid <= 0)
                return false;
        if (pid == s->run->main_pid) {
                const ServiceConfig *c = &s->unit->service;

                log_exit(s, "main", si);
                /* "-": its failure is ignored (for forking, the prefix of the first process
                 * holds for the daemon it left, as in systemd). */
                if (c->exec_start[MIN(s->run->exec_index, c->n_exec_start - 1)].ignore_failure)
                        r = SERVICE_SUCCESS;
                s->run->main_pid = 0;
                s->run->last_exit_code = si->si_code;
                s->run->last_exit_status = si->si_status;
                s->run->main_exited = true;
                service_on_main_exit(s, r);
        } else if (pid == s->run->old_main_pid) {
                log_exit(s, "replaced", si);
                service_on_old_exit(s);
        } else if (pid == s->run->failed_pid) {
                log_exit(s, "failed successor", si);
                service_on_failed_exit(s);
        } else if (pid == s->run->control_pid) {
                log_exit(s, "control", si);
                service_on_control_exit(s, r, si);
        } else
                return false;
        service_release_pids(s);
        if (s->ctx->on_state)
                s->ctx->on_state(s, s->ctx->userdata);
        return true;
}

/* ---- timers ---- */

void service_on_watchdog(Service *s) {
        if (!service_state_serves(s->state) || s->run->main_pid <= 0)
                return;
        log_warning("%s: watchdog timeout: no WATCHDOG=1 within %llums; sending SIGABRT to "
                    "pid %d",
                    service_name(s), (unsigned long long) (s->run->watchdog_usec / USEC_PER_MSEC),
                    (int) s->run->main_pid);
        s->result = SERVICE_FAILURE_WATCHDOG;
        service_send(s, s->run->main_pid, SIGABRT);
        service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_WATCHDOG);
}

void service_on_timer(Service *s, ServiceTimer t) {
        const ServiceConfig *c = &s->unit->service;

        if (t == SERVICE_TIMER_WATCHDOG) {
                service_on_watchdog(s);
                return;
        }
        switch (s->state) {
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_START_POST:
                log_warning("%s: start timed out after TimeoutStartSec= (%s), stopping",
                            service_name(s), service_state_to_string(s->state));
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_RELOAD: {
                char msg[160];
                /* As systemd: the reload failed, the service serves on. */
                snprintf(msg, sizeof msg, "%s: no %s within TimeoutStartSec= of the reload",
                         service_name(s), s->run->reload_notified ? "READY=1" : "RELOADING=1");
                log_warning("%s, it runs on", msg);
                service_reload_finish(s, -ETIMEDOUT, msg);
                break;
        }
        case SERVICE_HANDOVER:
                if (service_type_is_notify(c->type))
                        service_enter_handover_abort(s, "the new process was not ready within "
                                                        "TimeoutStartSec=");
                else
                        service_enter_draining(s); /* not reached: exec'ed is ready at once */
                break;
        case SERVICE_DRAINING:
                log_warning("%s: the replaced process %d is still draining after "
                            "TimeoutStopSec=, sending SIGKILL",
                            service_name(s), (int) s->run->old_main_pid);
                service_kill_one(s, s->run->old_main_pid, s->run->old_pgid, SIGKILL);
                break;
        case SERVICE_HANDOVER_ABORT:
                log_warning("%s: the failed successor %d is still running after "
                            "TimeoutStopSec=, sending SIGKILL",
                            service_name(s), (int) s->run->failed_pid);
                service_kill_one(s, s->run->failed_pid, s->run->failed_pgid, SIGKILL);
                break;
        case SERVICE_STOP:
                log_warning("%s: ExecStop= timed out, sending KillSignal=", service_name(s));
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_STOP_SIGTERM:
                log_warning("%s: still running %llums after SIG%s (TimeoutStopSec=), sending "
                            "SIGKILL",
                            service_name(s),
                            (unsigned long long) (c->timeout_stop_usec / USEC_PER_MSEC),
                            sigabbrev_np(service_extra(s)->kill_signal) ?: "?");
                service_enter_signal(s, SERVICE_STOP_SIGKILL, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_STOP_SIGKILL:
                log_error("%s: still running after SIGKILL (uninterruptible?), abandoning it",
                          service_name(s));
                service_enter_dead(s, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_STOP_POST:
                log_warning("%s: ExecStopPost= timed out after TimeoutStopSec=, sending SIGKILL",
                            service_name(s));
                service_enter_signal(s, SERVICE_STOP_SIGKILL, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_AUTO_RESTART:
                s->run->n_restarts++;
                log_info("%s: restarting (restart %u, Restart=%s)", service_name(s),
                         s->run->n_restarts, service_restart_to_string(c->restart));
                service_enter_start(s, true);
                break;
        case SERVICE_BACKOFF:
                /* The back-off ended: the start it held back goes ahead, unlimited this once
                 * (the limit is what delayed it). */
                s->run->n_start_times = 0;
                s->run->active_since = 0;
                service_enter_start(s, true);
                break;
        case SERVICE_RUNNING:
                /* ExecReload= took longer than TimeoutStartSec=, as systemd times it: it is
                 * killed and the reload fails; the service runs on. */
                if (s->run->control_pid > 0) {
                        char msg[160];
                        snprintf(msg, sizeof msg, "%s: ExecReload= (pid %d) timed out after "
                                 "TimeoutStartSec=", service_name(s), (int) s->run->control_pid);
                        log_warning("%s; killing it, the service runs on", msg);
                        service_send(s, -s->run->control_pid, SIGKILL);
                        service_report_reload(s, -ETIMEDOUT, msg);
                }
                break;
        case SERVICE_DEAD:
        case SERVICE_FAILED:
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
}

/* ---- sockets and activation ---- */

void service_on_trigger(Service *s, Listener *l) {
        char a[BIND_SPEC_NAME_MAX];

        if (!IN_SET(s->state, SERVICE_DEAD, SERVICE_FAILED) || s->shutting_down)
                return;
        log_info("%s: a client is waiting on %s, starting", service_name(s),
                 l ? listener_name(l, a, sizeof a) : "its socket");
        if (service_conditions(s) <= 0)
                return;
        service_enter_start(s, true);
}

int service_add_listener(Service *s, Listener *l) {
        Listener **a;

        for (size_t i = 0; i < s->n_listeners; i++)
                if (s->listeners[i] == l)
                        return 0;
        if (s->n_listeners == 0) {
                s->listener_one = l;
                a = &s->listener_one;
        } else {
                a = malloc((s->n_listeners + 1) * sizeof(Listener *));
                if (!a)
                        return -ENOMEM;
                memcpy(a, s->listeners, s->n_listeners * sizeof(Listener *));
                if (s->listeners != &s->listener_one)
                        free(s->listeners);
                a[s->n_listeners] = l;
        }
        s->listeners = a;
        s->n_listeners++;
        s->non_blocking = s->non_blocking || l->spec.unit->socket.non_blocking;
        return 0;
}

void service_clear_listeners(Service *s) {
        s->ctx->ops->watch(s, false);
        service_forget_listeners(s);
}

void service_forget_listeners(Service *s) {
        if (s->listeners != &s->listener_one)
                free(s->listeners);
        s->listener_one = NULL;
        s->listeners = NULL;
        s->n_listeners = 0;
        s->non_blocking = false;
}

/* ---- lifetime ---- */

/* s runs with u from now on. */
static void service_take_unit(Service *s, Unit *u) {
        if (unit_extra(u)->start_limit_burst != unit_extra(s->unit)->start_limit_burst &&
            service_has_run(s)) {
                free(s->run->start_times);
                s->run->start_times = NULL; /* made again, its new size, at the next start */
                s->run->n_start_times = s->run->start_times_head = 0;
        }
        log_info("%s: now running with its reloaded unit", u->name);
        s->unit = u;
        if (service_has_run(s))
                s->run->next_unit = NULL;
}

void service_apply_next_unit(Service *s) {
        if (s->run->next_unit)
                service_take_unit(s, s->run->next_unit);
}

void service_set_next_unit(Service *s, Unit *u) {
        if (u == s->unit) {
                if (service_has_run(s))
                        s->run->next_unit = NULL;
                return;
        }
        if (service_is_inactive(s)) {
                service_take_unit(s, u);
                return;
        }
        if (service_run_make(s) < 0) {
                log_oom(); /* it keeps its unit */
                return;
        }
        s->run->next_unit = u;
}

const ServiceRun service_run_idle = { .status_errno = -1 };

int service_run_make(Service *s) {
        ServiceRun *r;

        if (service_has_run(s))
                return 0;
        r = malloc(sizeof *r);
        if (!r)
                return -ENOMEM;
        *r = service_run_idle;
        s->run = r;
        return 0;
}

int service_new(Service **ret, const ServiceContext *ctx, Unit *u) {
        _cleanup_(service_freep) Service *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->ctx = ctx;
        s->unit = u;
        s->state = SERVICE_DEAD;
        s->run = (ServiceRun *) &service_run_idle; /* read only: see service_run_make() */
        *ret = TAKE_PTR(s);
        return 0;
}

Service *service_free(Service *s) {
        if (!s)
                return NULL;
        service_report_restart(s, -ECANCELED, "the service was removed");
        service_report_reload(s, -ECANCELED, "the service was removed");
        service_forget_listeners(s);
        if (service_has_run(s))
                service_release_fd_store(s);
        if (s->ctx->ops->done)
                s->ctx->ops->done(s);
        if (service_has_run(s)) {
                free(s->run->timers);
                free(s->run->waiters);
                free(s->run->status_text);
                service_log_done(s);
                free(s->run->start_times);
                free(s->run);
        }
        if (s->instance) {
                safe_close(s->instance->connection_fd);
                free(s->instance->peer);
                unit_free(s->instance->own_unit);
                free(s->instance);
        }
        free(s);
        return NULL;
}

int service_begin(Service *s) {
        if (s->start_at_boot && service_conditions(s) > 0)
                service_enter_start(s, true);
        else
                service_update_watch(s);
        return 0;
}
