/* proc-recover: what berthd does at start, before it binds, about the services of a berthd that
 * was killed outright (SIGKILL, the OOM killer) on the same runtime directory. Their processes
 * were orphaned, not stopped: they hold the ports and would run on, unsupervised, beside the
 * copies the new berthd starts. RUNTIME/processes (proc-record.h, written by proc-state.h)
 * names them. Each one that still exists with the start time written there (so that a reused
 * pid is never touched), and each process of the same run (its INVOCATION_ID=, its cgroup), is
 * stopped: SIGTERM (the unit's KillSignal=) to it and its process group, SIGKILL after its
 * TimeoutStopSec= (capped). Logs. Adopting them instead (pidfd_getfd() could even fetch their
 * sockets back) is not done. */
#pragma once

#include <signal.h>
#include <stdbool.h>

#include "common/macro.h"

/* The longest berthd waits at start for a predecessor's processes to go after SIGTERM, and then
 * after SIGKILL: every port waits for them. */
#define PROC_RECOVER_TERM_MAX_USEC (10 * USEC_PER_SEC)
#define PROC_RECOVER_KILL_MAX_USEC (5 * USEC_PER_SEC)
/* Processes stopped at most (more are not looked for). */
#define PROC_RECOVER_MAX 4096u

/* How to stop the processes of a unit: from the loaded unit, or the defaults. */
typedef struct ProcRecoverStop {
        int kill_signal; /* SIGTERM */
        usec_t timeout;  /* TimeoutStopSec=; capped to PROC_RECOVER_TERM_MAX_USEC */
} ProcRecoverStop;
/* Fills in *stop for unit (the name as written in the file); leaves it alone for a unit it does
 * not know. */
typedef void (*ProcRecoverLookup)(const char *unit, ProcRecoverStop *stop, void *userdata);

/* Reads runtime_dir/processes and stops what it names, as above; waits until they are gone or
 * the time is up. Returns how many processes it stopped (0: no file, nothing left, or the file
 * is this berthd's own after a daemon-reexec), or -EBUSY when the berthd that wrote the file is
 * still running (logged as an error: two berthds must not share a runtime directory). even_own:
 * this berthd's own file too (a daemon-reexec whose state was lost). Any other
 * trouble is logged as a warning and ignored: it never keeps berthd from starting. */
int proc_recover(const char *runtime_dir, bool even_own, ProcRecoverLookup lookup,
                 void *userdata);
