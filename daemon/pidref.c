/* pidref: a pid with its pidfd (see pidref.h). The system calls go through syscall(): glibc
 * wraps pidfd_open() and pidfd_send_signal() only since 2.36. */
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "daemon/pidref.h"

#ifndef SYS_pidfd_open
#  define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#  define SYS_pidfd_send_signal 424
#endif

/* -1: not decided yet; then 0 or 1. */
static int supported = -1;

static void pidref_unsupported(const char *why) {
        if (supported == 0)
                return;
        supported = 0;
        log_warning("Processes are tracked by pid, not by pidfd (%s): a pid that is reused "
                    "before berthd sees its process exit may be signalled.", why);
}

bool pidref_supported(void) {
        if (supported < 0) {
                const char *e = getenv("BERTH_PIDFD");

                if (e && streq(e, "0"))
                        pidref_unsupported("BERTH_PIDFD=0");
                else
                        supported = 1; /* until pidfd_open() says otherwise */
        }
        return supported > 0;
}

int pidref_open(PidRef *ret, pid_t pid) {
        int fd;

        if (pid <= 0)
                return -EINVAL;
        if (!pidref_supported()) {
                *ret = (PidRef) { .pid = pid, .fd = -1 };
                return kill(pid, 0) < 0 && errno == ESRCH ? -ESRCH : 0;
        }
        fd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (fd < 0) {
                if (errno == ENOSYS) {
                        pidref_unsupported("the kernel has no pidfd_open()");
                        return pidref_open(ret, pid);
                }
                return -errno;
        }
        /* pidfd_open() gives CLOEXEC pidfds already. */
        *ret = (PidRef) { .pid = pid, .fd = fd };
        return 0;
}

void pidref_done(PidRef *ref) {
        if (ref->fd >= 0)
                close(ref->fd);
        *ref = PIDREF_NULL;
}

int pidref_kill(const PidRef *ref, int sig) {
        if (ref->pid <= 0)
                return -ESRCH;
        if (ref->fd >= 0)
                return syscall(SYS_pidfd_send_signal, ref->fd, sig, NULL, 0) < 0 ? -errno : 0;
        return kill(ref->pid, sig) < 0 ? -errno : 0;
}

int pidref_alive(const PidRef *ref) {
        /* Signal 0 checks without sending; a zombie counts as there (kill(2) as well). */
        int r = pidref_kill(ref, 0);

        return r >= 0 || r == -EPERM;
}

int pidref_kill_group(const PidRef *leader, pid_t g, int sig) {
        if (g <= 0)
                return -EINVAL;
        if (!pidref_supported())
                return kill(-g, sig) < 0 ? -errno : 0;
        /* Between the check and kill() only a reap of the leader could free the number g: we
         * reap our children on this thread, so that is only ever a leader that is not our
         * child, reaped in that instant by its own parent, with g then given to a new process
         * that made itself a group leader before our kill(). */
        if (!leader || leader->pid != g || leader->fd < 0 || !pidref_alive(leader))
                return -ESRCH;
        return kill(-g, sig) < 0 ? -errno : 0;
}
