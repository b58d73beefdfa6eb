/* libberth-bind.so: the preload library of BindShim=yes (berth.service(5)). In the main process
 * of a service (LISTEN_PID is its pid) it reads back the sockets berthd passed (LISTEN_FDS, at
 * fds 3...), then takes itself and berth's variables (BERTH_BIND_SHIM, BERTH_READY_ON) out of
 * the environment, so that what the program executes runs without it; BindShim=inherit
 * (BERTH_BIND_SHIM=inherit) keeps them, for a wrapper that execs the server. A bind() of an
 * address berth holds (shim/shim-match.h has the rule) gets berth's socket, dup3()ed over the
 * program's fd; listen() on it succeeds (it listens already), and the socket options berth set
 * are kept. Everything else goes to libc.
 *
 * The wrappers allocate nothing: a fixed table, filled before main() and read-only after, but
 * for the "taken" marks and the once-only log marks, which a small spinlock guards. Only the
 * wrapped calls are exported (-fvisibility=hidden). Links libc only. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/shim-fds.h"
#include "shim/shim-match.h"

#define EXPORT __attribute__((visibility("default")))
#define SHIM_SOCKETS_MAX SHIM_FDS_MAX
#define SHIM_LOGGED_MAX 64
#define LIB_NAME "libberth-bind"

typedef int (*BindFunc)(int, const struct sockaddr *, socklen_t);
typedef int (*ListenFunc)(int, int);
typedef int (*SetsockoptFunc)(int, int, int, const void *, socklen_t);

static struct {
        BindFunc bind;
        ListenFunc listen;
        SetsockoptFunc setsockopt;
        bool active;                      /* LISTEN_PID was ours */
        size_t n;
        ShimSocket sockets[SHIM_SOCKETS_MAX];
        int fds[SHIM_SOCKETS_MAX];        /* the inherited fd */
        bool taken[SHIM_SOCKETS_MAX];
        uint32_t logged[SHIM_LOGGED_MAX]; /* hashes of addresses told about */
        size_t n_logged;
        bool told_reuseaddr, told_reuseport, told_v6only;
        atomic_flag lock;
} shim = { .lock = ATOMIC_FLAG_INIT };

static void shim_lock(void) {
        while (atomic_flag_test_and_set_explicit(&shim.lock, memory_order_acquire))
                ;
}

static void shim_unlock(void) {
        atomic_flag_clear_explicit(&shim.lock, memory_order_release);
}

static void resolve(void) {
        if (!shim.bind)
                shim.bind = (BindFunc) dlsym(RTLD_NEXT, "bind");
        if (!shim.listen)
                shim.listen = (ListenFunc) dlsym(RTLD_NEXT, "listen");
        if (!shim.setsockopt)
                shim.setsockopt = (SetsockoptFunc) dlsym(RTLD_NEXT, "setsockopt");
}

/* One line to stderr, with write(2) only. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
        char line[512];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(line, sizeof line - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t) n > sizeof line - 2)
                n = sizeof line - 2;
        line[n++] = '\n';
        (void) !write(STDERR_FILENO, line, n);
}

/* LD_PRELOAD without its libberth-bind entries (separated by blanks or colons, as ld.so
 * reads them); removed altogether when nothing else is left. */
static void env_drop_self(void) {
        const char *v = getenv("LD_PRELOAD");
        char out[4096];
        size_t o = 0;

        if (!v || strlen(v) >= sizeof out)
                return;
        for (const char *p = v; *p;) {
                size_t n = strcspn(p, " :\t");

                if (n > 0 && !memmem(p, n, LIB_NAME, strlen(LIB_NAME))) {
                        if (o > 0)
                                out[o++] = ':';
                        memcpy(out + o, p, n);
                        o += n;
                }
                p += n;
                p += strspn(p, " :\t");
        }
        out[o] = '\0';
        if (o == 0)
                (void) unsetenv("LD_PRELOAD");
        else
                (void) setenv("LD_PRELOAD", out, 1);
}

__attribute__((constructor)) static void shim_init(void) {
        const char *flag = getenv("BERTH_BIND_SHIM");
        bool inherit = shim_inherit();
        bool wanted = inherit || (flag && strcmp(flag, "1") == 0);

        /* BindShim=yes says BERTH_BIND_SHIM=1; the library may be here for ReadyOn=accept
         * alone (ready.c), and then bind() is left as it is. With inherit, every process it
         * executes gets the library again: one that runs as LISTEN_PID (exec'd in its place)
         * has its bind() redirected, any other leaves it alone. */
        if (!inherit)
                (void) unsetenv("BERTH_BIND_SHIM");
        resolve();
        shim.active = wanted && shim_is_main(); /* LISTEN_PID is ours (shim-fds.c) */
        if (!shim.active) {
                if (!inherit)
                        env_drop_self();
                return;
        }
        for (size_t i = 0; i < shim_fds_count(); i++) {
                ShimSocket *s = &shim.sockets[shim.n];
                int fd = shim_fds_get(i)->fd, family = 0, on = 0;
                socklen_t len = sizeof family;

                if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
                        continue;
                len = sizeof s->type;
                if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &s->type, &len) < 0)
                        continue;
                s->addr_len = sizeof s->addr;
                if (getsockname(fd, (struct sockaddr *) &s->addr, &s->addr_len) < 0)
                        continue;
                len = sizeof on;
                if (family == AF_INET6 &&
                    getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, &len) >= 0)
                        s->v6only = on;
                shim.fds[shim.n] = fd;
                shim.n++;
        }
        /* What the program executes runs without the shim, unless inherit; LISTEN_* stay for
         * the program. */
        if (!inherit)
                env_drop_self();
}

/* Whether fd is a copy of one of berth's sockets, for a program under BindShim=. */
static bool berth_socket(int fd) {
        return shim.active && shim_fd_index(fd) >= 0;
}

static uint32_t hash_bytes(const void *p, size_t n) {
        const unsigned char *c = p;
        uint32_t h = 2166136261u;

        for (size_t i = 0; i < n; i++)
                h = (h ^ c[i]) * 16777619u;
        return h;
}

/* Whether this address was told about already (and from now on it is). */
static bool logged_once(const char *text) {
        uint32_t h = hash_bytes(text, strlen(text));
        bool seen = false;

        shim_lock();
        for (size_t i = 0; i < shim.n_logged && !seen; i++)
                seen = shim.logged[i] == h;
        if (!seen && shim.n_logged < SHIM_LOGGED_MAX)
                shim.logged[shim.n_logged++] = h;
        shim_unlock();
        return seen;
}

static bool told_once(bool *flag) {
        bool was;

        shim_lock();
        was = *flag;
        *flag = true;
        shim_unlock();
        return was;
}

static int sockopt_int(int fd, int level, int opt) {
        int v = 0;
        socklen_t len = sizeof v;

        return getsockopt(fd, level, opt, &v, &len) < 0 ? -1 : v;
}

/* The program's fd becomes a copy of berth's socket i, keeping its fd number, its FD_CLOEXEC
 * and its O_NONBLOCK. Returns 0 or -errno. */
static int take_over(int fd, size_t i, bool any6) {
        int fdflags = fcntl(fd, F_GETFD), flflags = fcntl(fd, F_GETFL), cur;

        if (fdflags < 0 || flflags < 0)
                return -errno;
        /* What the program set that berth's socket keeps as berth set it: said once. Only a
         * wildcard [::] bind cares for IPV6_V6ONLY. */
        if (any6) {
                int v6 = sockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY);
                if (v6 >= 0 && !v6 != !shim.sockets[i].v6only && !told_once(&shim.told_v6only))
                        say("berth-bind: %s's socket has IPV6_V6ONLY=%d, kept as berth set it "
                            "(%d)", program_invocation_short_name, v6, shim.sockets[i].v6only);
        }
        int rp = sockopt_int(fd, SOL_SOCKET, SO_REUSEPORT);
        if (rp > 0 && sockopt_int(shim.fds[i], SOL_SOCKET, SO_REUSEPORT) == 0 &&
            !told_once(&shim.told_reuseport))
                say("berth-bind: %s sets SO_REUSEPORT, kept as berth set it (off)",
                    program_invocation_short_name);
        if (dup3(shim.fds[i], fd, (fdflags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0)
                return -errno;
        /* O_NONBLOCK is shared with berth's copies: set it as the program's socket had it. */
        cur = fcntl(fd, F_GETFL);
        if (cur >= 0 && (cur & O_NONBLOCK) != (flflags & O_NONBLOCK))
                (void) fcntl(fd, F_SETFL, (cur & ~O_NONBLOCK) | (flflags & O_NONBLOCK));
        return 0;
}

EXPORT int bind(int fd, __CONST_SOCKADDR_ARG addr_arg, socklen_t len) {
        const struct sockaddr *addr = addr_arg.__sockaddr__;
        int type = 0, i, r, saved = errno;
        socklen_t tlen = sizeof type;
        char text[SHIM_ADDRESS_MAX];

        resolve();
        if (!shim.bind) {
                errno = ENOSYS;
                return -1;
        }
        if (!shim.active || !shim_address_is_specific(addr, len))
                return shim.bind(fd, addr, len);
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tlen) < 0)
                return shim.bind(fd, addr, len);
        errno = saved;

        shim_lock();
        i = shim_match_find(shim.sockets, shim.taken, shim.n, type, addr, len);
        if (i >= 0)
                shim.taken[i] = true;
        shim_unlock();
        if (i >= 0) {
                r = take_over(fd, (size_t) i, addr->sa_family == AF_INET6 &&
                              len >= (socklen_t) sizeof(struct sockaddr_in6) &&
                              IN6_IS_ADDR_UNSPECIFIED(
                                      &((const struct sockaddr_in6 *) addr)->sin6_addr));
                if (r == 0)
                        return 0;
                shim_lock();
                shim.taken[i] = false;
                shim_unlock();
                errno = -r;
                return -1;
        }
        shim_format_address(addr, len, text, sizeof text);
        if (!logged_once(text))
                say("berth-bind: %s binds %s, which berth does not hold (no ListenStream= for "
                    "it)", program_invocation_short_name, text);
        errno = saved;
        return shim.bind(fd, addr, len);
}

EXPORT int listen(int fd, int backlog) {
        resolve();
        if (berth_socket(fd))
                return 0; /* listening already, with berth's backlog */
        if (!shim.listen) {
                errno = ENOSYS;
                return -1;
        }
        return shim.listen(fd, backlog);
}

EXPORT int setsockopt(int fd, int level, int opt, const void *val, socklen_t len) {
        bool *told = NULL;
        const char *name = NULL;

        resolve();
        if (!shim.setsockopt) {
                errno = ENOSYS;
                return -1;
        }
        if (level == SOL_SOCKET && opt == SO_REUSEADDR)
                told = &shim.told_reuseaddr, name = "SO_REUSEADDR";
        else if (level == SOL_SOCKET && opt == SO_REUSEPORT)
                told = &shim.told_reuseport, name = "SO_REUSEPORT";
        else if (level == IPPROTO_IPV6 && opt == IPV6_V6ONLY)
                told = &shim.told_v6only, name = "IPV6_V6ONLY";
        if (told && berth_socket(fd)) {
                if (!told_once(told))
                        say("berth-bind: %s sets %s on berth's socket, kept as berth set it",
                            program_invocation_short_name, name);
                return 0;
        }
        return shim.setsockopt(fd, level, opt, val, len);
}
