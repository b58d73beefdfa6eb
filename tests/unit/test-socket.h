/* Helpers shared by the socket tests (listener, sock-diag): addresses built by hand, children
 * that run a check in a new network namespace or without root, and a process that holds a
 * port. */
#pragma once

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/address.h"

static inline SockAddr make_inet(const char *ip, uint16_t port) {
        SockAddr a = {};

        if (inet_pton(AF_INET, ip, &a.in.sin_addr) == 1) {
                a.in.sin_family = AF_INET;
                a.in.sin_port = htons(port);
                a.len = sizeof a.in;
        } else if (inet_pton(AF_INET6, ip, &a.in6.sin6_addr) == 1) {
                a.in6.sin6_family = AF_INET6;
                a.in6.sin6_port = htons(port);
                a.len = sizeof a.in6;
        } else
                abort();
        return a;
}

static inline SockAddr make_unix(const char *path) {
        SockAddr a = { .un.sun_family = AF_UNIX };

        size_t n = strlen(path);

        /* '@' stands for the leading NUL of an abstract name; a path keeps its NUL. */
        if (n >= sizeof a.un.sun_path)
                abort();
        if (path[0] == '@') {
                memcpy(a.un.sun_path + 1, path + 1, n - 1);
                a.len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n);
        } else {
                memcpy(a.un.sun_path, path, n + 1);
                a.len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);
        }
        return a;
}

static inline uint16_t port_of(int fd) {
        SockAddr a = {};
        socklen_t l = sizeof a.raw;

        if (getsockname(fd, &a.sa, &l) < 0)
                return 0;
        return ntohs(a.sa.sa_family == AF_INET ? a.in.sin_port : a.in6.sin6_port);
}

/* Whether this host has IPv6: only EAFNOSUPPORT says no. */
static inline bool have_ipv6(void) {
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return errno != EAFNOSUPPORT;
        close(fd);
        return true;
}

/* ---- children: forked helpers report through their exit status ---- */

#define CHILD_CHECK(x)                                                                             \
        do {                                                                                       \
                if (!(x)) {                                                                        \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #x);      \
                        return 1;                                                                  \
                }                                                                                  \
        } while (0)

static inline int enter_netns(void) {
        struct ifreq ifr = {};
        int fd;

        if (unshare(CLONE_NEWNET) < 0) {
                fprintf(stderr, "unshare(CLONE_NEWNET): %s\n", strerror(errno));
                return 1;
        }
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return 1;
        snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return 1;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
                fprintf(stderr, "bringing up lo: %s\n", strerror(errno));
                close(fd);
                return 1;
        }
        close(fd);
        return 0;
}

static inline int drop_privileges(void) {
        if (setgroups(0, NULL) < 0 || setresgid(65534, 65534, 65534) < 0 ||
            setresuid(65534, 65534, 65534) < 0)
                return 1;
        return 0;
}

typedef int (*ChildFunc)(void *userdata);

/* Runs fn in a forked child, in a new network namespace or with root dropped when asked.
 * Returns its exit status (0: passed). */
static inline int run_child(ChildFunc fn, void *userdata, bool netns, bool unprivileged) {
        int status;
        pid_t pid;

        fflush(stdout);
        fflush(stderr);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int r = 0;

                if (netns)
                        r = enter_netns();
                if (r == 0 && unprivileged)
                        r = drop_privileges();
                if (r == 0)
                        r = fn(userdata);
                fflush(stderr);
                _exit(r);
        }
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + WTERMSIG(status);
}

/* Forks a child that binds ip:0 (socktype; v6only for IPv6 when >= 0) and holds it in pause().
 * Returns the pid and the port it got. */
static inline pid_t spawn_holder(const char *ip, int socktype, int v6only, uint16_t *ret_port) {
        int pfd[2];
        pid_t pid;
        uint16_t port = 0;

        ck_assert_int_eq(pipe2(pfd, O_CLOEXEC), 0);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                SockAddr a = make_inet(ip, 0);
                int fd = socket(a.sa.sa_family, socktype | SOCK_CLOEXEC, 0);

                if (fd < 0)
                        _exit(1);
                if (v6only >= 0)
                        (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
                if (bind(fd, &a.sa, a.len) < 0)
                        _exit(1);
                if (socktype == SOCK_STREAM && listen(fd, 8) < 0)
                        _exit(1);
                port = port_of(fd);
                if (write(pfd[1], &port, sizeof port) != sizeof port)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(pfd[1]);
        ck_assert_int_eq(read(pfd[0], &port, sizeof port), (ssize_t) sizeof port);
        close(pfd[0]);
        ck_assert_uint_ne(port, 0);
        *ret_port = port;
        return pid;
}

static inline void reap(pid_t pid) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

/* Runs fn(uint16_t *port) in an unprivileged child while root holds 0.0.0.0:port (TCP), so that
 * the child sees the socket through sock_diag but not the holder's /proc/PID/fd. Skips, after
 * saying so, when the test does not run as root. */
static inline void run_beside_hidden_holder(ChildFunc fn) {
        uint16_t port;
        pid_t pid;

        if (geteuid() != 0) {
                printf("SKIP: needs root (a holder the test cannot see)\n");
                return;
        }
        pid = spawn_holder("0.0.0.0", SOCK_STREAM, -1, &port);
        ck_assert_int_eq(run_child(fn, &port, false, true), 0);
        reap(pid);
}
