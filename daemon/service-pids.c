/* service-pids: the processes a service names, held by pidfd, so that berthd never signals a
 * process that only got the number of one of them, and never takes one for the other.
 *
 * What it owns: Service.pidfds, a small table (pid, pidfd) made when the service first names a
 * process and freed when it names none, so a service that does not run holds no fd and no
 * memory for it. A pidfd is opened when its pid becomes known: by the kernel as spawn creates
 * the process (CLONE_PIDFD), at MAINPID= (ServiceOps.track), and at PIDFile= or GuessMainPID=
 * (service_pids_adopt_member()). It is closed when the state machine forgets the pid, after a
 * reap or otherwise (ServiceOps.release, after every transition and child event).
 *
 * Signals (ServiceOps.kill): a process through its pidfd, or not at all when none is held
 * (with pidfd support, every pid the state machine signals is one it holds). A process group
 * through kill(-g) only while its leader's pidfd is held and not reaped: a pid number is never
 * given out while its process is unreaped, so group g is the one that leader started. A group
 * whose leader is gone may still have members (a daemon's strays): those are signalled one by
 * one, each a member of the service (its cgroup, or its INVOCATION_ID=) that is in group g,
 * through a pidfd opened before its group is read and checked unreaped after.
 *
 * Reaping stays one waitid(P_ALL) for every child (manager.c): berthd is a subreaper and must
 * reap orphans it never knew, and a child event source per process (sd_event_add_child_pidfd)
 * would cost an sd-event source and its memory for every running process, on top of the pidfd.
 * Before reaping, the manager asks ServiceOps.is_current whether the zombie is the process the
 * service named: our pidfd still refers to an unreaped process exactly when it is that zombie.
 *
 * Without pidfd support (pidref.h) nothing is held: pids and kill(2), as before. */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "daemon/cgroup.h"
#include "daemon/service-pids.h"

/* How many processes of a service a group kill or an adoption looks at. */
#define MEMBERS_MAX 256

const PidRef *service_pids_find(const Service *s, pid_t pid) {
        if (!s->run->pidfds || pid <= 0)
                return NULL;
        for (size_t i = 0; i < SERVICE_PIDFDS_MAX; i++)
                if (s->run->pidfds[i].pid == pid)
                        return &s->run->pidfds[i];
        return NULL;
}

/* Whether the state machine names pid now: one of its processes, or while any of those runs,
 * the leader of one of their groups. */
static bool service_pids_named(const Service *s, pid_t pid) {
        const ServiceRun *r = s->run;

        if (IN_SET(pid, r->main_pid, r->control_pid, r->old_main_pid, r->failed_pid))
                return true;
        return service_is_active(s) && IN_SET(pid, r->pgid, r->old_pgid, r->failed_pgid);
}

void service_pids_release(Service *s) {
        bool any = false;

        if (!s->run->pidfds)
                return;
        for (size_t i = 0; i < SERVICE_PIDFDS_MAX; i++) {
                if (s->run->pidfds[i].pid > 0 && !service_pids_named(s, s->run->pidfds[i].pid))
                        pidref_done(&s->run->pidfds[i]);
                any = any || s->run->pidfds[i].pid > 0;
        }
        if (!any) {
                free(s->run->pidfds);
                s->run->pidfds = NULL;
        }
}

void service_pids_clear(Service *s) {
        if (!s->run->pidfds)
                return;
        for (size_t i = 0; i < SERVICE_PIDFDS_MAX; i++)
                pidref_done(&s->run->pidfds[i]);
        free(s->run->pidfds);
        s->run->pidfds = NULL;
}

int service_pids_add(Service *s, PidRef *ref) {
        PidRef *slot = NULL;

        if (ref->fd < 0) {
                *ref = PIDREF_NULL; /* no pidfds: nothing to hold */
                return 0;
        }
        service_pids_release(s); /* room from pids forgotten since */
        if (!s->run->pidfds) {
                s->run->pidfds = malloc(SERVICE_PIDFDS_MAX * sizeof *s->run->pidfds);
                if (!s->run->pidfds) {
                        pidref_done(ref);
                        return -ENOMEM;
                }
                for (size_t i = 0; i < SERVICE_PIDFDS_MAX; i++)
                        s->run->pidfds[i] = PIDREF_NULL;
        }
        for (size_t i = 0; i < SERVICE_PIDFDS_MAX && !slot; i++)
                if (s->run->pidfds[i].pid == ref->pid) {
                        pidref_done(&s->run->pidfds[i]); /* an older one, reaped: the new wins */
                        slot = &s->run->pidfds[i];
                } else if (s->run->pidfds[i].pid == 0)
                        slot = &s->run->pidfds[i];
        if (!slot) {
                pidref_done(ref);
                return -ENOSPC;
        }
        *slot = *ref;
        *ref = PIDREF_NULL;
        return 0;
}

int service_pids_track(Service *s, pid_t pid) {
        const PidRef *held = service_pids_find(s, pid);
        PidRef ref;
        int r;

        if (held)
                return pidref_alive(held) ? 0 : -ESRCH;
        r = pidref_open(&ref, pid);
        if (r < 0)
                return r;
        return service_pids_add(s, &ref);
}

bool service_pids_is_current(Service *s, pid_t pid) {
        const PidRef *ref = service_pids_find(s, pid);

        return !ref || pidref_alive(ref);
}

pid_t service_pids_pgid_of(Service *s, pid_t pid) {
        const PidRef *ref = service_pids_find(s, pid);
        pid_t g = getpgid(pid);

        if (g < 0)
                return -errno;
        /* Read by number: the answer was the held process's only if it is still unreaped. */
        if (ref && !pidref_alive(ref))
                return -ESRCH;
        return g;
}

/* The service's processes now: its cgroup's, or those with its INVOCATION_ID=. */
static int service_pids_members(Service *s, pid_t *pids, size_t max) {
        if (s->run->cgroup)
                return cgroup_pids(s->run->cgroup, pids, max);
        if (s->run->invocation_id[0])
                return invocation_pids(s->run->invocation_id, pids, max);
        return 0;
}

static bool pid_listed(const pid_t *pids, int n, pid_t pid) {
        for (int i = 0; i < n && i < MEMBERS_MAX; i++)
                if (pids[i] == pid)
                        return true;
        return false;
}

int service_pids_adopt_member(Service *s, pid_t pid) {
        pid_t pids[MEMBERS_MAX];
        PidRef ref;
        int n, r;

        r = pidref_open(&ref, pid);
        if (r < 0)
                return r;
        /* Looked at after the pidfd is open, and checked unreaped after: the listed pid was
         * this process. */
        n = service_pids_members(s, pids, ELEMENTSOF(pids));
        if (n < 0 || !pid_listed(pids, n, pid) || !pidref_alive(&ref)) {
                pidref_done(&ref);
                return n < 0 ? n : -ESRCH;
        }
        return service_pids_add(s, &ref);
}

/* The members of the service in group g, each by its pidfd. */
static int service_pids_kill_members(Service *s, pid_t g, int sig) {
        pid_t pids[MEMBERS_MAX];
        int n = service_pids_members(s, pids, ELEMENTSOF(pids)), k = 0;

        for (int i = 0; i < n && i < MEMBERS_MAX; i++) {
                PidRef ref;

                if (pidref_open(&ref, pids[i]) < 0)
                        continue;
                if (getpgid(pids[i]) == g && pidref_alive(&ref) && pidref_kill(&ref, sig) >= 0)
                        k++;
                pidref_done(&ref);
        }
        return n < 0 ? n : k > 0 ? 0 : -ESRCH;
}

void service_pids_kill(Service *s, pid_t pid, int sig) {
        pid_t g = pid < 0 ? -pid : 0;
        int r;

        if (pid > 0) {
                const PidRef *ref = service_pids_find(s, pid);

                if (!ref && pidref_supported()) {
                        log_warning("%s: holds no pidfd of pid %d, not sending it SIG%s",
                                    s->unit->name, (int) pid, sigabbrev_np(sig) ?: "?");
                        return;
                }
                r = ref ? pidref_kill(ref, sig) : (kill(pid, sig) < 0 ? -errno : 0);
        } else {
                r = pidref_kill_group(service_pids_find(s, g), g, sig);
                if (r == -ESRCH && pidref_supported())
                        r = service_pids_kill_members(s, g, sig);
        }
        if (r < 0 && r != -ESRCH)
                log_warning_errno(r, "%s: cannot send SIG%s to %s %d: %m, ignoring",
                                  s->unit->name, sigabbrev_np(sig) ?: "?",
                                  g ? "process group" : "pid", (int) (g ?: pid));
}
