/* proc-state: keeps RUNTIME/processes (proc-record.h) naming every service process this berthd
 * started, for the next berthd should this one be killed outright (proc-recover.h). A change
 * only marks the file stale; it is written later, from an idle-priority event, at most once
 * per PROC_STATE_SPACING_USEC, with every change since in one write (temp file + rename), so an
 * on-demand start never waits for it. The owner lists the processes when asked (collect). */
#pragma once

#include <sys/types.h>

#include <systemd/sd-event.h>

#include "daemon/proc-record.h"

#define PROC_STATE_SPACING_USEC (10 * USEC_PER_MSEC)

typedef struct ProcState ProcState;
/* Calls proc_state_add() for every process of every service, now. */
typedef void (*ProcStateCollect)(ProcState *p, void *userdata);

/* Writes runtime_dir/processes at once (this berthd, no process yet). Returns 0, or a negative
 * errno (logged) when the event source cannot be made; a file that cannot be written is only
 * warned about. */
int proc_state_new(ProcState **ret, sd_event *e, const char *runtime_dir,
                   ProcStateCollect collect, void *userdata);
/* Writes what is left (proc_state_flush()), removes the file when no process is, frees. */
ProcState *proc_state_free(ProcState *p);
static inline void proc_state_freep(ProcState **p) {
        *p = proc_state_free(*p);
}

/* A process started or was reaped: the file is written soon. */
void proc_state_changed(ProcState *p);
/* Writes the file now. Returns how many processes it names, or a negative errno (logged). */
int proc_state_flush(ProcState *p);

/* From collect: one process. invocation and cgroup may be NULL. A process that is gone already
 * (its start time cannot be read) is left out. */
void proc_state_add(ProcState *p, const char *unit, pid_t pid, ProcRole role,
                    const char *invocation, const char *cgroup);
