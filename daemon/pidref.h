/* pidref: a process named by its pid and held by a pidfd, so that a signal or a question
 * about it can never reach another process that got the same pid number later.
 *
 * A pidfd refers to one process for good: once that process is reaped (by us, or by its own
 * parent when it is not our child) the pidfd refers to nothing, and pidfd_send_signal(2) says
 * ESRCH, whatever process has the number now. While it is not reaped (alive, or a zombie) its
 * pid number stays its own, so a question asked by number (getpgid(), /proc/PID/...) between
 * opening the pidfd and checking that it is still unreaped was answered by that process.
 *
 * Where the kernel has no pidfds (pidfd_open(2) says ENOSYS: Linux before 5.3, or a seccomp
 * filter that hides it), or BERTH_PIDFD=0 asks for the fallback (tests), that is said once and
 * a PidRef holds the pid alone (fd -1): signals then go through kill(2), as before pidfds. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

typedef struct PidRef {
        pid_t pid; /* 0: none */
        int fd;    /* a pidfd of pid (owned, CLOEXEC), or -1 without pidfd support */
} PidRef;

#define PIDREF_NULL ((PidRef) { .pid = 0, .fd = -1 })

/* Whether pidfds are used: false once pidfd_open() said ENOSYS (logged once), or with
 * BERTH_PIDFD=0. Cheap after the first call. */
bool pidref_supported(void);

/* Opens a pidfd for pid into *ret (which it overwrites: done with it before). Returns 0 (fd -1
 * when pidfds are not supported), -ESRCH when no process has that pid, or another negative
 * errno (then *ret is left alone). */
int pidref_open(PidRef *ret, pid_t pid);
/* Closes the pidfd and forgets the pid. Accepts PIDREF_NULL. */
void pidref_done(PidRef *ref);

/* Sends sig to the process: through its pidfd, or kill(2) without one. Returns 0, -ESRCH when
 * it is gone (reaped: with a pidfd, never another process of the same pid), or another negative
 * errno. */
int pidref_kill(const PidRef *ref, int sig);

/* Whether the process it holds is not reaped yet (alive, or a zombie), so that pid still
 * names it: 1 yes, 0 no. Without a pidfd it can only say whether some process has the pid. */
int pidref_alive(const PidRef *ref);

/* Sends sig to process group g, as kill(-g, sig), but only while group g is known to be the
 * one the process leader started: leader, when it holds a pidfd of process g that is not
 * reaped (a pid number is never reused while its process is unreaped, and a group id is a pid
 * number that was its leader's). Otherwise (leader NULL, another pid, or reaped) it returns
 * -ESRCH and signals nothing; without pidfd support, kill(-g) as before. Returns 0, -ESRCH or
 * another negative errno. */
int pidref_kill_group(const PidRef *leader, pid_t g, int sig);
