/* service-notify: what a service does with an sd_notify() message that notify attributed to
 * it and NotifyAccess= allowed (SPEC §4 "Readiness"): READY=1 moves START and HANDOVER on,
 * STATUS=, ERRNO=, MAINPID=, WATCHDOG=, EXTEND_TIMEOUT_USEC= and the fd store. Messages from
 * the process being replaced, or from a successor that failed, never move the state. */
#include <stdio.h>

#include "common/log.h"
#include "daemon/notify-parse.h"
#include "daemon/service-internal.h"

NotifyAccess service_notify_access(const Service *s) {
        const ServiceExtra *x = service_extra(s);

        if (x->notify_access_set)
                return x->notify_access;
        /* A unit that asks for readiness, a watchdog or an fd store means to notify. */
        return service_type_is_notify(s->unit->service.type) || x->watchdog_usec > 0 ||
                               x->fd_store_max > 0 ?
                       NOTIFY_ACCESS_MAIN :
                       NOTIFY_ACCESS_NONE;
}

bool service_is_pid_of(const Service *s, pid_t pid, NotifyRole *ret_role) {
        NotifyRole role;

        if (pid <= 0)
                return false;
        if (pid == s->run->main_pid)
                role = NOTIFY_ROLE_MAIN;
        else if (pid == s->run->control_pid)
                role = NOTIFY_ROLE_CONTROL;
        else if (pid == s->run->old_main_pid)
                role = NOTIFY_ROLE_OLD_MAIN;
        else if (pid == s->run->failed_pid)
                role = NOTIFY_ROLE_FAILED;
        else
                return false;
        /* By number, then by what the ops hold: not a process that only got the number of
         * one the service named, after its own parent reaped that one. */
        if (s->ctx->ops->is_current && !s->ctx->ops->is_current((Service *) s, pid))
                return false;
        *ret_role = role;
        return true;
}

bool service_owns_pgid(const Service *s, pid_t g) {
        return g > 0 && service_is_active(s) &&
               IN_SET(g, s->run->pgid, s->run->old_pgid, s->run->failed_pgid, s->run->control_pid);
}

bool service_owns_pid(const Service *s, pid_t pid, NotifyRole *ret_role) {
        if (service_is_pid_of(s, pid, ret_role))
                return true;
        if (pid <= 0 || !service_is_active(s) ||
            !service_owns_pgid(s, s->ctx->ops->pgid_of((Service *) s, pid)))
                return false;
        *ret_role = NOTIFY_ROLE_OTHER;
        return true;
}

/* READY=1 from the process in charge. */
static void service_on_ready(Service *s, pid_t pid) {
        service_on_reload_ready(s, pid); /* any type: a reload it announced is over */
        if (!service_type_is_notify(s->unit->service.type))
                return;
        if (s->state == SERVICE_START) {
                log_info("%s: READY=1 from pid %d", service_name(s), (int) pid);
                service_enter_start_post(s);
        } else if (s->state == SERVICE_HANDOVER) {
                log_info("%s: READY=1 from pid %d", service_name(s), (int) pid);
                service_enter_draining(s);
        }
}

static void service_on_mainpid(Service *s, pid_t pid, pid_t mainpid) {
        /* Held (by its pidfd) before its group is asked: the answer is then that process's,
         * or it is gone. */
        int r = s->ctx->ops->track ? s->ctx->ops->track(s, mainpid) : 0;
        pid_t g = r < 0 ? r : s->ctx->ops->pgid_of(s, mainpid);

        if (g > 0 && g == s->run->pgid) {
                log_info("%s: MAINPID=%d: the main process is now pid %d", service_name(s),
                         (int) mainpid, (int) mainpid);
                s->run->main_pid = mainpid;
        } else if (g == -ESRCH)
                log_warning("%s: MAINPID=%d from pid %d names no running process, ignoring",
                            service_name(s), (int) mainpid, (int) pid);
        else
                log_warning("%s: MAINPID=%d from pid %d is not a process of this service, "
                            "ignoring",
                            service_name(s), (int) mainpid, (int) pid);
        service_release_pids(s); /* the main process it replaced, or the one refused */
}

static void service_extend_timeout(Service *s, usec_t usec) {
        if (!IN_SET(s->state, SERVICE_CONDITION, SERVICE_START_PRE, SERVICE_START,
                    SERVICE_START_POST, SERVICE_RELOAD, SERVICE_HANDOVER, SERVICE_STOP,
                    SERVICE_STOP_SIGTERM, SERVICE_STOP_POST))
                return;
        /* Only ever later: EXTEND_TIMEOUT_USEC= never shortens the timeout in force. */
        if (service_timer_due(s, SERVICE_TIMER_STATE) < service_now(s) + usec)
                service_arm(s, SERVICE_TIMER_STATE, usec);
}

void service_on_notify(Service *s, NotifyRole role, pid_t pid, const NotifyMessage *m, int *fds,
                       size_t n_fds) {
        /* Only the process in charge moves the state machine: not the one being replaced,
         * nor a successor that failed. */
        bool in_charge = !IN_SET(role, NOTIFY_ROLE_OLD_MAIN, NOTIFY_ROLE_FAILED);

        if (m->status) {
                char *t = strdup(m->status);
                if (t) {
                        free(s->run->status_text);
                        s->run->status_text = t;
                        log_debug("%s: STATUS=%s", service_name(s), t);
                }
        }
        if (m->errno_value >= 0)
                s->run->status_errno = m->errno_value;
        if (m->mainpid > 0 && in_charge)
                service_on_mainpid(s, pid, m->mainpid);
        if (m->reloading && in_charge)
                service_on_reloading(s, pid, m->monotonic_usec == UINT64_MAX ? USEC_INFINITY :
                                                                                m->monotonic_usec,
                                     m->ready);
        if (m->stopping)
                log_info("%s: stopping (STOPPING=1 from pid %d)", service_name(s), (int) pid);
        if (m->ready && in_charge)
                service_on_ready(s, pid);
        if (m->watchdog_usec != UINT64_MAX && in_charge) {
                s->run->watchdog_usec = m->watchdog_usec;
                service_arm_watchdog(s);
        }
        if (m->watchdog && in_charge)
                service_arm_watchdog(s);
        if (m->watchdog_trigger && in_charge)
                service_on_watchdog(s);
        if (m->extend_timeout_usec != UINT64_MAX && in_charge)
                service_extend_timeout(s, m->extend_timeout_usec);
        if (m->fdstoreremove && m->fdname)
                service_fdstore_remove(s, m->fdname);
        if (m->fdstore && n_fds > 0) {
                if (service_extra(s)->fd_store_max > 0) {
                        service_fdstore_add(s, fds, n_fds, m->fdname ?: "stored", m->fdpoll != 0);
                        return;
                }
                log_warning("%s: FDSTORE=1 from pid %d, but FileDescriptorStoreMax=0; closing %zu "
                            "fd%s",
                            service_name(s), (int) pid, n_fds, n_fds == 1 ? "" : "s");
        }
        /* Anything else that came with fds (BARRIER=1's pipe among them) is closed: that is
         * what a barrier waits for. */
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
}

