/* service-handover: Handover=overlap (SPEC §4), the part of the state machine where two main
 * processes exist. RUNNING -> HANDOVER (a successor starts on the same sockets while the main
 * process serves) -> DRAINING (the successor is ready; the old process gets KillSignal= and
 * drains, SIGKILL after TimeoutStopSec=) -> RUNNING. A successor that exits before it is
 * ready leaves the old process serving; one that is not ready in time goes through
 * HANDOVER_ABORT, a graceful stop of its own, while the old process serves. */
#include <signal.h>
#include <stdio.h>

#include "common/log.h"
#include "daemon/service-internal.h"

void service_kill_one(Service *s, pid_t pid, pid_t pgid, int sig) {
        if (pid <= 0)
                return;
        if ((service_extra(s)->kill_mode == KILL_CONTROL_GROUP || sig == SIGKILL) && pgid > 0)
                service_send(s, -pgid, sig);
        else
                service_send(s, pid, sig);
        if (sig != SIGKILL)
                service_send(s, pid, SIGCONT);
}

/* RUNNING -> HANDOVER: a successor starts on the same sockets while the main process serves. */
void service_enter_handover(Service *s) {
        const ServiceConfig *c;
        pid_t pid;

        log_info("%s: handover (overlap): starting a new process while pid %d serves",
                 service_name(s), (int) s->run->main_pid);
        service_apply_next_unit(s);
        c = &s->unit->service;
        s->run->old_main_pid = s->run->main_pid;
        s->run->old_pgid = s->run->pgid;
        s->result = SERVICE_SUCCESS;
        s->run->exec_index = 0;
        s->run->watchdog_usec = service_extra(s)->watchdog_usec;
        if (s->ctx->ops->spawn(s, &c->exec_start[0], true, NULL, &pid) < 0) {
                char msg[256];
                snprintf(msg, sizeof msg, "handover failed: the new process could not be "
                         "started; pid %d serves on", (int) s->run->old_main_pid);
                log_warning("%s: %s", service_name(s), msg);
                s->run->old_main_pid = s->run->old_pgid = 0;
                service_report_restart(s, -EIO, msg);
                return;
        }
        s->run->main_pid = s->run->pgid = pid;
        service_set_state(s, SERVICE_HANDOVER);
        if (service_type_is_notify(c->type))
                service_arm(s, SERVICE_TIMER_STATE, c->timeout_start_usec);
        else
                service_enter_draining(s); /* simple and exec are ready once exec'ed */
}

/* HANDOVER -> DRAINING: the successor is ready; the old process gets KillSignal= and drains. */
void service_enter_draining(Service *s) {
        const ServiceConfig *c = &s->unit->service;

        log_info("%s: handover: pid %d is ready; sending SIG%s to pid %d so it drains "
                 "(SIGKILL after %llums)",
                 service_name(s), (int) s->run->main_pid,
                 sigabbrev_np(service_extra(s)->kill_signal) ?: "?",
                 (int) s->run->old_main_pid,
                 (unsigned long long) (c->timeout_stop_usec / USEC_PER_MSEC));
        service_kill_one(s, s->run->old_main_pid, s->run->old_pgid, service_extra(s)->kill_signal);
        service_set_state(s, SERVICE_DRAINING);
        service_arm(s, SERVICE_TIMER_STATE, c->timeout_stop_usec);
        service_report_restart(s, 0, NULL);
}

/* The handover failed: says why (also into msg, for the restart's caller), and makes the
 * process it was replacing the main one again. Returns the successor's process group. */
static pid_t handover_give_back(Service *s, const char *why, char *msg, size_t len) {
        pid_t successor_pgid = s->run->pgid;

        snprintf(msg, len, "handover failed: %s; pid %d serves on", why,
                 (int) s->run->old_main_pid);
        log_warning("%s: %s", service_name(s), msg);
        s->run->main_pid = s->run->old_main_pid;
        s->run->pgid = s->run->old_pgid;
        s->run->old_main_pid = s->run->old_pgid = 0;
        return successor_pgid;
}

/* HANDOVER -> RUNNING on the old process, when the successor is already gone. */
void service_handover_failed(Service *s, const char *why) {
        char msg[256];
        pid_t pgid = handover_give_back(s, why, msg, sizeof msg);

        if (pgid > 0 && service_extra(s)->kill_mode != KILL_NONE)
                service_send(s, -pgid, SIGKILL); /* its strays; reaped as orphans */
        service_disarm(s);
        service_set_state(s, SERVICE_RUNNING);
        service_report_restart(s, -EIO, msg);
}

/* HANDOVER -> HANDOVER_ABORT: the successor was not ready in time. It is stopped like any
 * stop, KillSignal= then SIGKILL after TimeoutStopSec=, so the connections it accepted are
 * finished, not reset; the old process serves throughout. */
void service_enter_handover_abort(Service *s, const char *why) {
        const ServiceConfig *c = &s->unit->service;
        char msg[256];

        s->run->failed_pid = s->run->main_pid;
        s->run->failed_pgid = handover_give_back(s, why, msg, sizeof msg);
        log_info("%s: stopping the failed successor %d with SIG%s (SIGKILL after %llums)",
                 service_name(s), (int) s->run->failed_pid,
                 sigabbrev_np(service_extra(s)->kill_signal) ?: "?",
                 (unsigned long long) (c->timeout_stop_usec / USEC_PER_MSEC));
        service_kill_one(s, s->run->failed_pid, s->run->failed_pgid, service_extra(s)->kill_signal);
        service_set_state(s, SERVICE_HANDOVER_ABORT);
        service_arm(s, SERVICE_TIMER_STATE, c->timeout_stop_usec);
        service_report_restart(s, -EIO, msg);
}

/* DRAINING or HANDOVER_ABORT is over: the main process serves alone, or the queued restart
 * begins. */
void service_handover_settled(Service *s) {
        service_disarm(s);
        if (s->intent == SERVICE_INTENT_RESTART) {
                s->intent = SERVICE_INTENT_NONE;
                service_set_state(s, SERVICE_RUNNING);
                service_enter_handover(s);
                return;
        }
        service_set_state(s, SERVICE_RUNNING);
}

/* The process a handover replaced (or is replacing) is gone. */
void service_on_old_exit(Service *s) {
        if (service_extra(s)->kill_mode != KILL_NONE && s->run->old_pgid > 0)
                service_send(s, -s->run->old_pgid, SIGKILL); /* its strays go with it */
        s->run->old_main_pid = s->run->old_pgid = 0;
        switch (s->state) {
        case SERVICE_HANDOVER:
                /* Nothing serves but the successor: an ordinary start from here. */
                service_set_state(s, SERVICE_START);
                break;
        case SERVICE_DRAINING:
                service_handover_settled(s);
                break;
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
                service_enter_signal(s, s->state, s->result);
                break;
        case SERVICE_DEAD:
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_START_POST:
        case SERVICE_RUNNING:
        case SERVICE_RELOAD:
        case SERVICE_STOP_POST:
        case SERVICE_HANDOVER_ABORT:
        case SERVICE_STOP:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
        case SERVICE_FAILED:
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
}

/* A successor that failed its handover is gone. */
void service_on_failed_exit(Service *s) {
        if (service_extra(s)->kill_mode != KILL_NONE && s->run->failed_pgid > 0)
                service_send(s, -s->run->failed_pgid, SIGKILL);
        s->run->failed_pid = s->run->failed_pgid = 0;
        switch (s->state) {
        case SERVICE_HANDOVER_ABORT:
                service_handover_settled(s);
                break;
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
                service_enter_signal(s, s->state, s->result);
                break;
        case SERVICE_DEAD:
        case SERVICE_CONDITION:
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_START_POST:
        case SERVICE_RUNNING:
        case SERVICE_RELOAD:
        case SERVICE_STOP_POST:
        case SERVICE_HANDOVER:
        case SERVICE_DRAINING:
        case SERVICE_STOP:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
        case SERVICE_FAILED:
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
}

