/* service-internal: the state machine's own steps, shared by service.c (lifecycle),
 * service-handover.c (overlap) and service-notify.c (notify messages). Nothing outside the
 * service-*.c files includes this. */
#pragma once

#include "daemon/service.h"

/* KillSignal=, KillMode=, Sockets= ... of its unit (the defaults where none is set). */
static inline const ServiceExtra *service_extra(const Service *s) {
        return service_config_extra(&s->unit->service);
}
static inline const char *service_name(const Service *s) {
        return s->unit->name;
}

static inline usec_t service_now(Service *s) {
        return s->ctx->ops->now(s, CLOCK_MONOTONIC);
}

/* service.c */
void service_set_state(Service *s, ServiceState st);
/* States in which a ready main process serves, and so owes WATCHDOG=1. */
bool service_state_serves(ServiceState st);
void service_arm(Service *s, ServiceTimer t, usec_t usec); /* USEC_INFINITY disarms */
/* Adds a start at t to the StartLimitBurst= ring (made at its first use); once the ring is
 * full, the oldest start gives way. Returns 0 (also with StartLimitBurst=0: none kept) or
 * -ENOMEM. */
int service_start_times_add(Service *s, usec_t t);
/* When timer t fires (CLOCK_MONOTONIC), or USEC_INFINITY when it is disarmed. */
static inline usec_t service_timer_due(const Service *s, ServiceTimer t) {
        return s->run->timers ? s->run->timers->due[t] : USEC_INFINITY;
}
/* The timers, made (all disarmed) on first use; NULL on OOM. */
ServiceTimers *service_timers(Service *s);
void service_disarm(Service *s);                            /* the state timer */
void service_arm_watchdog(Service *s);
void service_send(Service *s, pid_t pid, int sig);          /* pid < 0: a group */
/* Lets the ops drop what they hold for the processes it no longer names. */
void service_release_pids(Service *s);
/* KillSignal= (or sig) to one process, or its group under KillMode=control-group or for
 * SIGKILL; SIGCONT after anything but SIGKILL. */
void service_kill_one(Service *s, pid_t pid, pid_t pgid, int sig);
void service_enter_start_post(Service *s);
void service_enter_running(Service *s);
void service_enter_signal(Service *s, ServiceState st, ServiceResult r);
void service_enter_stop(Service *s, ServiceResult r);
void service_enter_dead(Service *s, ServiceResult r);
void service_on_watchdog(Service *s);
void service_report_restart(Service *s, int error, const char *message);
void service_report_reload(Service *s, int error, const char *message);
/* Type=notify-reload and RELOADING=1 (monotonic_usec: its MONOTONIC_USEC=, or USEC_INFINITY;
 * ready: READY=1 came with it), and READY=1 ending a reload. */
void service_on_reloading(Service *s, pid_t pid, usec_t monotonic_usec, bool ready);
void service_on_reload_ready(Service *s, pid_t pid);
/* The unit a daemon-reload left for the next start, if any, from now on. */
void service_apply_next_unit(Service *s);

/* service-handover.c */
void service_enter_handover(Service *s);
void service_enter_draining(Service *s);
void service_handover_failed(Service *s, const char *why);
void service_enter_handover_abort(Service *s, const char *why);
void service_handover_settled(Service *s);
void service_on_old_exit(Service *s);
void service_on_failed_exit(Service *s);
