/* ready: ReadyOn=accept, the half of libberth-bind.so that says READY=1 for a program that never
 * does. A program is ready when it first waits for a connection on one of the sockets berth
 * passed it: accept()/accept4() on one, or poll()/ppoll()/select()/pselect() with one in the
 * set, or epoll_wait()/epoll_pwait() on an epoll set one was added to. At that moment, once per
 * process, the library sends READY=1 to $NOTIFY_SOCKET; berthd then ends the start (or the
 * overlap handover) as for a program that sends it itself.
 *
 * berthd asks for it with BERTH_READY_ON=accept in the environment (removed at once, so that
 * programs this one executes do not inherit it, but with BindShim=inherit: bind.c). Berth's
 * sockets are known by their inode: the LISTEN_FDS fds at start, and any duplicate of them the
 * program (or the bind shim) makes.
 * Once READY=1 is sent, every wrapper is one flag test and the real call: the data path is
 * untouched. Nothing here allocates; errno is kept as the real call leaves it. */
/* The wrappers define poll() and ppoll(): glibc's fortified inline versions of them (clang with
 * _FORTIFY_SOURCE, which a release build sets) would come first. */
#undef _FORTIFY_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim/shim-fds.h"

#define EXPORT __attribute__((visibility("default")))
#define READY_EPOLLS_MAX 64

static atomic_bool armed;           /* BERTH_READY_ON=accept, and not sent yet */
static atomic_int epolls[READY_EPOLLS_MAX]; /* epoll fds holding one of them; 0: free */
static struct sockaddr_un notify_addr;
static socklen_t notify_len;

/* After shim-fds.c has read the sockets, before bind.c takes BERTH_BIND_SHIM away. */
__attribute__((constructor(SHIM_FDS_CONSTRUCTOR_PRIORITY + 1))) static void ready_init(void) {
        const char *on = getenv("BERTH_READY_ON"), *notify = getenv("NOTIFY_SOCKET");
        size_t len;

        if (!on)
                return;
        if (!shim_inherit())
                (void) unsetenv("BERTH_READY_ON");
        if (strcmp(on, "accept") != 0 || !notify || shim_fds_count() == 0)
                return;
        len = strlen(notify);
        if (len == 0 || len >= sizeof notify_addr.sun_path || (notify[0] != '/' && notify[0] != '@'))
                return;
        notify_addr.sun_family = AF_UNIX;
        memcpy(notify_addr.sun_path, notify, len);
        if (notify[0] == '@')
                notify_addr.sun_path[0] = '\0'; /* abstract */
        notify_len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len +
                                  (notify[0] == '/'));
        atomic_store(&armed, true);
}

static bool is_berth_socket(int fd) {
        return shim_fd_index(fd) >= 0;
}

/* Sends READY=1, once per process. */
static void ready_now(void) {
        int saved = errno, fd;

        if (!atomic_exchange(&armed, false))
                return;
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0) {
                (void) sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *) &notify_addr,
                              notify_len);
                close(fd);
        }
        errno = saved;
}

static void *real(const char *name) {
        return dlsym(RTLD_NEXT, name);
}

/* The real function, looked up once (a race only stores the same pointer twice). */
#define REAL(name) \
        static __typeof__(&name) real_##name; \
        if (!real_##name) \
                real_##name = (__typeof__(&name)) real(#name)

EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len) {
        REAL(accept);
        if (atomic_load(&armed) && is_berth_socket(fd))
                ready_now();
        return real_accept(fd, addr, len);
}

EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags) {
        REAL(accept4);
        if (atomic_load(&armed) && is_berth_socket(fd))
                ready_now();
        return real_accept4(fd, addr, len, flags);
}

static void check_pollfds(const struct pollfd *fds, nfds_t n) {
        for (nfds_t i = 0; fds && i < n && atomic_load(&armed); i++)
                if ((fds[i].events & POLLIN) && is_berth_socket(fds[i].fd))
                        ready_now();
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout) {
        REAL(poll);
        if (atomic_load(&armed))
                check_pollfds(fds, n);
        return real_poll(fds, n, timeout);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                 const sigset_t *mask) {
        REAL(ppoll);
        if (atomic_load(&armed))
                check_pollfds(fds, n);
        return real_ppoll(fds, n, timeout, mask);
}

static void check_fdset(int n, const fd_set *set) {
        for (int fd = 0; set && fd < n && fd < FD_SETSIZE && atomic_load(&armed); fd++)
                if (FD_ISSET(fd, set) && is_berth_socket(fd))
                        ready_now();
}

EXPORT int select(int n, fd_set *r, fd_set *w, fd_set *e, struct timeval *timeout) {
        REAL(select);
        if (atomic_load(&armed))
                check_fdset(n, r);
        return real_select(n, r, w, e, timeout);
}

EXPORT int pselect(int n, fd_set *r, fd_set *w, fd_set *e, const struct timespec *timeout,
                   const sigset_t *mask) {
        REAL(pselect);
        if (atomic_load(&armed))
                check_fdset(n, r);
        return real_pselect(n, r, w, e, timeout, mask);
}

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev) {
        REAL(epoll_ctl);
        int r = real_epoll_ctl(epfd, op, fd, ev);

        if (r == 0 && op == EPOLL_CTL_ADD && atomic_load(&armed) && is_berth_socket(fd) &&
            (!ev || (ev->events & EPOLLIN))) {
                int saved = errno;

                for (unsigned i = 0; i < READY_EPOLLS_MAX; i++) {
                        int expected = 0;

                        if (atomic_load(&epolls[i]) == epfd + 1 ||
                            atomic_compare_exchange_strong(&epolls[i], &expected, epfd + 1))
                                break;
                }
                errno = saved;
        }
        return r;
}

static void check_epoll(int epfd) {
        for (unsigned i = 0; i < READY_EPOLLS_MAX; i++)
                if (atomic_load(&epolls[i]) == epfd + 1) {
                        ready_now();
                        return;
                }
}

EXPORT int epoll_wait(int epfd, struct epoll_event *evs, int n, int timeout) {
        REAL(epoll_wait);
        if (atomic_load(&armed))
                check_epoll(epfd);
        return real_epoll_wait(epfd, evs, n, timeout);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *evs, int n, int timeout,
                       const sigset_t *mask) {
        REAL(epoll_pwait);
        if (atomic_load(&armed))
                check_epoll(epfd);
        return real_epoll_pwait(epfd, evs, n, timeout, mask);
}
