/* socket-hook: see socket-hook.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/socket-hook.h"

/* Waits for pid within timeout (USEC_INFINITY: none); kills it past that. Returns the wait
 * status, or a negative errno (-ETIMEDOUT when it was killed for time). */
static int wait_within(pid_t pid, usec_t timeout) {
        int pidfd = (int) syscall(SYS_pidfd_open, pid, 0), status = 0, r = 0;

        if (pidfd >= 0) {
                struct pollfd p = { .fd = pidfd, .events = POLLIN };
                int ms = timeout == USEC_INFINITY ? -1 :
                         (int) MIN(timeout / USEC_PER_MSEC, (usec_t) INT32_MAX);

                for (;;) {
                        int k = poll(&p, 1, ms);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k == 0) {
                                (void) kill(pid, SIGKILL);
                                r = -ETIMEDOUT;
                        }
                        break;
                }
                close(pidfd);
        }
        /* Without pidfd_open() (Linux before 5.3), just wait. */
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return r < 0 ? r : status;
}

int socket_hook_run(const Unit *u, const char *key, const ExecCommand *cmds, size_t n,
                    char *err, size_t errlen) {
        for (size_t i = 0; i < n; i++) {
                const ExecCommand *c = &cmds[i];
                pid_t pid;
                int status;

                pid = fork();
                if (pid < 0) {
                        snprintf(err, errlen, "%s=%s: cannot fork: %s", key, c->path,
                                 strerror(errno));
                        return -errno;
                }
                if (pid == 0) {
                        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                        sigset_t all;

                        /* berthd blocks the signals its loop reads: the command gets none
                         * blocked, and a stdin of its own. */
                        sigfillset(&all);
                        (void) sigprocmask(SIG_UNBLOCK, &all, NULL);
                        if (null >= 0)
                                (void) dup2(null, STDIN_FILENO);
                        if (c->path[0] == '/')
                                execv(c->path, c->argv);
                        else
                                execvp(c->path, c->argv);
                        fprintf(stderr, "%s: %s=%s: cannot execute: %s\n", u->name, key,
                                c->path, strerror(errno));
                        _exit(127);
                }
                status = wait_within(pid, socket_config_hooks(&u->socket)->timeout_usec);
                if (status == -ETIMEDOUT) {
                        if (c->ignore_failure)
                                continue;
                        snprintf(err, errlen, "%s=%s did not finish within TimeoutSec= and was "
                                 "killed", key, c->path);
                        return -ETIMEDOUT;
                }
                if (status < 0) {
                        snprintf(err, errlen, "%s=%s: %s", key, c->path, strerror(-status));
                        return status;
                }
                if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                        continue;
                if (c->ignore_failure)
                        continue;
                if (WIFEXITED(status))
                        snprintf(err, errlen, "%s=%s exited with status %d", key, c->path,
                                 WEXITSTATUS(status));
                else
                        snprintf(err, errlen, "%s=%s was killed by signal %s", key, c->path,
                                 strsignal(WTERMSIG(status)));
                return -EPROTO;
        }
        return 0;
}
