/* notify: receives sd_notify() datagrams; see notify.h. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "common/log.h"
#include "common/parse-util.h"
#include "common/proc-util.h"
#include "common/ratelimit.h"
#include "common/time-util.h"
#include "daemon/notify-parse.h"
#include "daemon/notify.h"
#include "daemon/service.h"

/* At most this many datagrams per wakeup, so a flood cannot starve the rest of the loop. */
#define NOTIFY_BATCH_MAX 64
/* The kernel passes at most SCM_MAX_FD (253) fds in one message. */
#define NOTIFY_FDS_MAX 253

/* Dropped or refused datagrams berthd reads per interval. Past that it stops reading the
 * socket until the interval ends: a local user who floods it costs berthd a bounded share of
 * a CPU, and the services' own messages wait (their senders block on the full queue) for at
 * most the rest of the interval, behind the queued datagrams. */
#define NOTIFY_DROPS_BURST 1000
#define NOTIFY_DROPS_INTERVAL_USEC USEC_PER_SEC

/* Warnings about dropped or refused datagrams: at most this many per interval, then one line
 * when the limit is hit and a count when the next interval begins, so that a flood from a
 * local user costs a few lines, not one per datagram. */
#define NOTIFY_WARN_BURST 100
#define NOTIFY_WARN_INTERVAL_USEC (10 * USEC_PER_SEC)

_printf_(2, 3) static void notify_warn(Notify *n, const char *fmt, ...) {
        char buf[1024];
        unsigned suppressed;
        va_list ap;

        if (!ratelimit_below(&n->warn_limit, time_now(CLOCK_MONOTONIC), &suppressed)) {
                if (n->warn_limit.suppressed == 1)
                        log_warning("notify: more than %d warnings within %llus: not logging more "
                                    "until the interval ends (dropped datagrams are still "
                                    "counted)", NOTIFY_WARN_BURST,
                                    (unsigned long long) (NOTIFY_WARN_INTERVAL_USEC /
                                                          USEC_PER_SEC));
                return;
        }
        if (suppressed > 0)
                log_warning("notify: %u warnings were not logged", suppressed);
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        log_warning("%s", buf);
}

/* Counts a dropped datagram; past the budget, rests the socket. */
static void notify_count_drop(Notify *n) {
        usec_t now = time_now(CLOCK_MONOTONIC);
        unsigned unused;
        int r;

        n->n_dropped++;
        if (!n->io_source || !n->resume_source ||
            ratelimit_below(&n->drop_limit, now, &unused))
                return;
        /* Its own limit: the warnings it rests for have used theirs up. */
        if (ratelimit_below(&n->rest_log_limit, now, &unused))
                log_warning("notify: more than %d datagrams dropped within %llums: not reading "
                            "the notify socket for %llums (said at most once per %llus)",
                            NOTIFY_DROPS_BURST,
                    (unsigned long long) (NOTIFY_DROPS_INTERVAL_USEC / USEC_PER_MSEC),
                            (unsigned long long) ((ratelimit_end(&n->drop_limit) - now) /
                                                  USEC_PER_MSEC),
                            (unsigned long long) (NOTIFY_WARN_INTERVAL_USEC / USEC_PER_SEC));
        r = sd_event_source_set_time(n->resume_source, ratelimit_end(&n->drop_limit));
        if (r >= 0)
                r = sd_event_source_set_enabled(n->resume_source, SD_EVENT_ONESHOT);
        if (r >= 0)
                r = sd_event_source_set_enabled(n->io_source, SD_EVENT_OFF);
        if (r < 0)
                log_warning_errno(r, "notify: cannot rest the socket: %m, reading on");
}

static int notify_on_resume(sd_event_source *s, uint64_t usec, void *userdata) {
        Notify *n = userdata;
        int r = sd_event_source_set_enabled(n->io_source, SD_EVENT_ON);

        if (r < 0)
                log_error_errno(r, "notify: cannot watch the socket again: %m");
        return 0;
}

static void close_fds(int *fds, size_t n) {
        for (size_t i = 0; i < n; i++)
                safe_close(fds[i]);
}

static int notify_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Notify *n = userdata;

        for (unsigned batch = 0; batch < NOTIFY_BATCH_MAX; batch++) {
                usec_t now = time_now(CLOCK_MONOTONIC);
                char buf[NOTIFY_BUFFER_MAX + 1], err[512], comm[PROC_COMM_MAX];
                union {
                        struct cmsghdr align;
                        char raw[CMSG_SPACE(sizeof(struct ucred)) +
                                 CMSG_SPACE(sizeof(int) * NOTIFY_FDS_MAX)];
                } control;
                struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf - 1 };
                struct msghdr mh = {
                        .msg_iov = &iov,
                        .msg_iovlen = 1,
                        .msg_control = &control,
                        .msg_controllen = sizeof control,
                };
                struct ucred *cred = NULL;
                int fds[NOTIFY_FDS_MAX];
                size_t n_fds = 0;
                NotifyMessage msg;
                ssize_t k;

                k = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC | MSG_TRUNC);
                if (k < 0) {
                        if (errno != EAGAIN && errno != EINTR)
                                log_warning_errno(errno, "notify: recvmsg() failed: %m, ignoring");
                        break;
                }
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                        if (c->cmsg_level != SOL_SOCKET)
                                continue;
                        if (c->cmsg_type == SCM_CREDENTIALS &&
                            c->cmsg_len == CMSG_LEN(sizeof(struct ucred)))
                                cred = (struct ucred *) CMSG_DATA(c);
                        else if (c->cmsg_type == SCM_RIGHTS) {
                                size_t m = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                for (size_t i = 0; i < m && n_fds < NOTIFY_FDS_MAX; i++)
                                        memcpy(&fds[n_fds++], CMSG_DATA(c) + i * sizeof(int),
                                               sizeof(int));
                        }
                }

                pid_t pid = cred ? cred->pid : 0;
                /* The name is for a warning: not read when none would be logged. */
                if (ratelimit_exhausted(&n->warn_limit, now) ||
                    proc_read_comm(pid, comm, sizeof comm) < 0)
                        snprintf(comm, sizeof comm, "?");
                if (!cred || pid <= 0) {
                        /* pid 0: the sender is in a PID namespace we cannot see into. */
                        notify_warn(n, "notify: dropped a datagram without usable credentials "
                                    "(SO_PASSCRED pid %d): it cannot be attributed to a service",
                                    (int) pid);
                        goto drop;
                }
                if ((mh.msg_flags & MSG_TRUNC) || (size_t) k > NOTIFY_BUFFER_MAX) {
                        notify_warn(n, "notify: dropped a datagram from pid %d (%s): %zd bytes, "
                                    "more than the %d allowed",
                                    (int) pid, comm, k, NOTIFY_BUFFER_MAX);
                        goto drop;
                }
                if (mh.msg_flags & MSG_CTRUNC) {
                        /* The kernel also truncates when berthd has no fd left to receive
                         * into: say which it was. */
                        int probe = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                        if (probe < 0 && errno == EMFILE)
                                notify_warn(n, "notify: dropped a datagram from pid %d (%s): "
                                            "berthd is out of file descriptors (EMFILE) and "
                                            "could not receive the fds it carried",
                                            (int) pid, comm);
                        else
                                notify_warn(n, "notify: dropped a datagram from pid %d (%s): more "
                                            "fds than one message may carry",
                                            (int) pid, comm);
                        safe_close(probe);
                        goto drop;
                }
                if (notify_parse(buf, k, &msg, err, sizeof err) < 0) {
                        notify_warn(n, "notify: dropped a datagram from pid %d (%s): %s",
                                    (int) pid, comm, err);
                        goto drop;
                }
                notify_dispatch(n, pid, &msg, fds, n_fds);
                notify_message_done(&msg);
                goto next;
        drop:
                notify_count_drop(n);
                close_fds(fds, n_fds);
        next:
                if (sd_event_source_get_enabled(n->io_source, NULL) == 0)
                        break; /* resting */
        }
        return 0;
}

bool notify_access_allows(NotifyAccess access, NotifyRole role) {
        switch (access) {
        case NOTIFY_ACCESS_ALL:
                return true;
        case NOTIFY_ACCESS_EXEC:
                return role != NOTIFY_ROLE_OTHER;
        case NOTIFY_ACCESS_MAIN:
                return IN_SET(role, NOTIFY_ROLE_MAIN, NOTIFY_ROLE_OLD_MAIN);
        case NOTIFY_ACCESS_NONE:
        case _NOTIFY_ACCESS_MAX:
        case _NOTIFY_ACCESS_INVALID:
                break;
        }
        return false;
}

void notify_dispatch(Notify *n, pid_t pid, const NotifyMessage *msg, int *fds, size_t n_fds) {
        NotifyRole role = NOTIFY_ROLE_OTHER;
        Service *s = n->find ? n->find(pid, &role, n->userdata) : NULL;

        if (!s)
                notify_warn(n, "notify: ignoring a message from pid %d, which belongs to no "
                            "service", (int) pid);
        else {
                NotifyAccess access = service_notify_access(s);
                if (notify_access_allows(access, role)) {
                        service_on_notify(s, role, pid, msg, fds, n_fds);
                        return;
                }
                notify_warn(n, "%s: ignoring a notify message from pid %d, %s: NotifyAccess=%s "
                            "does not allow it%s",
                            s->unit->name, (int) pid, notify_role_to_string(role),
                            notify_access_to_string(access),
                            access == NOTIFY_ACCESS_NONE ? " (set NotifyAccess=main in the unit)"
                                                         : "");
        }
        notify_count_drop(n);
        close_fds(fds, n_fds);
}

/* The socket at path: a stale one there is replaced, never a file of another kind. */
static int notify_bind(Notify *n, const struct sockaddr_un *sa, const char *path) {
        struct stat st;
        int one = 1;

        /* Replace only a stale socket: never a file of another kind, never through a link. */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return log_error_errno(EEXIST, "notify: '%s' exists and is not a socket, "
                                               "refusing to replace it", path);
                (void) unlink(path);
        }
        n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (n->fd < 0)
                return log_error_errno(errno, "notify: cannot create a socket: %m");
        /* Not SUN_LEN(): it takes the offset through a null pointer, which clang's UBSan
         * rightly calls undefined. */
        if (bind(n->fd, (const struct sockaddr *) sa,
                 (socklen_t) (offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1)) < 0)
                return log_error_errno(errno, "notify: cannot bind '%s': %m", path);
        /* Services may run as other users: they must be able to send. */
        if (chmod(path, 0666) < 0)
                return log_error_errno(errno, "notify: cannot chmod '%s': %m", path);
        if (setsockopt(n->fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one) < 0)
                return log_error_errno(errno, "notify: cannot set SO_PASSCRED: %m");
        return 0;
}

int notify_new(Notify **ret, sd_event *event, const char *path, int fd, NotifyFindFunc find,
               void *userdata) {
        _cleanup_(notify_freep) Notify *n = calloc(1, sizeof *n);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int r;

        if (!n)
                return log_oom();
        n->fd = -1;
        n->warn_limit = (RateLimit) { .interval = NOTIFY_WARN_INTERVAL_USEC,
                                      .burst = NOTIFY_WARN_BURST };
        n->drop_limit = (RateLimit) { .interval = NOTIFY_DROPS_INTERVAL_USEC,
                                      .burst = NOTIFY_DROPS_BURST };
        n->rest_log_limit = (RateLimit) { .interval = NOTIFY_WARN_INTERVAL_USEC, .burst = 1 };
        n->find = find;
        n->userdata = userdata;
        if (strlen(path) >= sizeof sa.sun_path)
                return log_error_errno(ENAMETOOLONG, "notify: socket path '%s' is too long",
                                       path);
        n->path = strdup(path);
        if (!n->path)
                return log_oom();
        strcpy(sa.sun_path, path);

        if (fd >= 0)
                n->fd = fd; /* a daemon-reexec's, bound and set up */
        else {
                r = notify_bind(n, &sa, path);
                if (r < 0)
                        return r;
        }
        r = sd_event_add_io(event, &n->io_source, n->fd, EPOLLIN, notify_on_io, n);
        if (r < 0)
                return log_error_errno(r, "notify: cannot watch the socket: %m");
        /* Readiness before output and children: READY=1 then exit must be seen in order. */
        (void) sd_event_source_set_priority(n->io_source, SD_EVENT_PRIORITY_IMPORTANT - 1);
        r = sd_event_add_time(event, &n->resume_source, CLOCK_MONOTONIC, 0, 0, notify_on_resume,
                              n);
        if (r >= 0)
                r = sd_event_source_set_enabled(n->resume_source, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "notify: cannot make its timer: %m");
        *ret = TAKE_PTR(n);
        return 0;
}

Notify *notify_free(Notify *n) {
        if (!n)
                return NULL;
        sd_event_source_disable_unref(n->io_source);
        sd_event_source_disable_unref(n->resume_source);
        safe_close(n->fd);
        if (n->path)
                (void) unlink(n->path);
        free(n->path);
        free(n);
        return NULL;
}
