/* accept: per-connection services (Accept=yes). See accept.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/time-util.h"
#include "daemon/accept.h"
#include "daemon/unit-file.h"

/* ---- pure: names, environment, sources ---- */

static bool in6_is_mapped(const struct in6_addr *a) {
        return IN6_IS_ADDR_V4MAPPED(a);
}

/* The address of sa, IPv4-mapped IPv6 as IPv4, and its port. */
static int peer_format(const SockAddr *sa, char buf[static INET6_ADDRSTRLEN], unsigned *port) {
        const void *a;
        int family = sa->sa.sa_family;

        switch (family) {
        case AF_INET:
                a = &sa->in.sin_addr;
                *port = ntohs(sa->in.sin_port);
                break;
        case AF_INET6:
                *port = ntohs(sa->in6.sin6_port);
                a = &sa->in6.sin6_addr;
                if (in6_is_mapped(&sa->in6.sin6_addr)) {
                        family = AF_INET;
                        a = &sa->in6.sin6_addr.s6_addr[12];
                }
                break;
        default:
                return -EAFNOSUPPORT;
        }
        if (!inet_ntop(family, a, buf, INET6_ADDRSTRLEN))
                return -errno;
        return 0;
}

int accept_instance_name(unsigned nr, const AcceptPeer *p, char *buf, size_t len) {
        char l[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
        unsigned lport, rport;
        int n;

        switch (p->remote.sa.sa_family) {
        case AF_INET:
        case AF_INET6:
                /* As systemd: the IPv4 form only when both ends are IPv4 (or mapped). */
                if (p->local.sa.sa_family == AF_INET6 && p->remote.sa.sa_family == AF_INET6 &&
                    in6_is_mapped(&p->local.in6.sin6_addr) !=
                            in6_is_mapped(&p->remote.in6.sin6_addr)) {
                        lport = ntohs(p->local.in6.sin6_port);
                        rport = ntohs(p->remote.in6.sin6_port);
                        if (!inet_ntop(AF_INET6, &p->local.in6.sin6_addr, l, sizeof l) ||
                            !inet_ntop(AF_INET6, &p->remote.in6.sin6_addr, r, sizeof r))
                                return -errno;
                } else if (peer_format(&p->local, l, &lport) < 0 ||
                           peer_format(&p->remote, r, &rport) < 0)
                        return -EAFNOSUPPORT;
                n = snprintf(buf, len, "%u-%s:%u-%s:%u", nr, l, lport, r, rport);
                break;
        case AF_UNIX:
                if (p->have_cred)
                        n = snprintf(buf, len, "%u-%d-%u", nr, (int) p->cred.pid,
                                     (unsigned) p->cred.uid);
                else
                        n = snprintf(buf, len, "%u-unknown", nr);
                break;
        default:
                return -EAFNOSUPPORT;
        }
        return n < 0 || (size_t) n >= len ? -ENAMETOOLONG : 0;
}

int accept_remote_env(const AcceptPeer *p, char addr[static ACCEPT_REMOTE_ADDR_MAX],
                      char port[static ACCEPT_REMOTE_PORT_MAX]) {
        char a[INET6_ADDRSTRLEN];
        unsigned n;

        addr[0] = port[0] = '\0';
        if (peer_format(&p->remote, a, &n) < 0)
                return 0;
        snprintf(addr, ACCEPT_REMOTE_ADDR_MAX, "REMOTE_ADDR=%s", a);
        snprintf(port, ACCEPT_REMOTE_PORT_MAX, "REMOTE_PORT=%u", n);
        return 2;
}

bool accept_source_key(const AcceptPeer *p, AcceptSourceKey *ret) {
        *ret = (AcceptSourceKey) { .family = p->remote.sa.sa_family };
        switch (p->remote.sa.sa_family) {
        case AF_INET:
                memcpy(ret->addr, &p->remote.in.sin_addr, 4);
                return true;
        case AF_INET6:
                if (in6_is_mapped(&p->remote.in6.sin6_addr)) {
                        ret->family = AF_INET;
                        memcpy(ret->addr, &p->remote.in6.sin6_addr.s6_addr[12], 4);
                } else
                        memcpy(ret->addr, &p->remote.in6.sin6_addr, 16);
                return true;
        case AF_UNIX:
                ret->uid = p->cred.uid;
                return p->have_cred;
        default:
                return false;
        }
}

bool accept_source_key_equal(const AcceptSourceKey *a, const AcceptSourceKey *b) {
        return a->family == b->family && a->uid == b->uid &&
               memcmp(a->addr, b->addr, sizeof a->addr) == 0;
}

/* ---- runtime ---- */

int accept_socket_new(AcceptSocket **ret, const char *name, const SocketConfig *cfg,
                      AcceptSpawnFunc spawn, void *userdata) {
        AcceptSocket *a = calloc(1, sizeof *a);

        if (!a)
                return -ENOMEM;
        a->name = strdup(name);
        if (!a->name) {
                free(a);
                return -ENOMEM;
        }
        a->cfg = cfg;
        a->spawn = spawn;
        a->userdata = userdata;
        a->refuse_limit = (RateLimit) { .interval = 10 * USEC_PER_SEC, .burst = 5 };
        a->pause_limit = (RateLimit) { .interval = 10 * USEC_PER_SEC, .burst = 2 };
        *ret = a;
        return 0;
}

AcceptSocket *accept_socket_free(AcceptSocket *a) {
        if (!a)
                return NULL;
        free(a->sources);
        free(a->name);
        free(a);
        return NULL;
}

static AcceptSource *accept_find_source(AcceptSocket *a, const AcceptSourceKey *k) {
        for (size_t i = 0; i < a->n_sources; i++)
                if (accept_source_key_equal(&a->sources[i].key, k))
                        return &a->sources[i];
        return NULL;
}

static int accept_count_source(AcceptSocket *a, const AcceptSourceKey *k) {
        AcceptSource *s = accept_find_source(a, k), *n;

        if (s) {
                s->n++;
                return 0;
        }
        n = realloc(a->sources, (a->n_sources + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        a->sources = n;
        n[a->n_sources++] = (AcceptSource) { .key = *k, .n = 1 };
        return 0;
}

void accept_connection_done(AcceptSocket *a, const AcceptPeer *peer) {
        AcceptSourceKey k;
        AcceptSource *s;

        if (a->n_connections > 0)
                a->n_connections--;
        if (!accept_source_key(peer, &k) || !(s = accept_find_source(a, &k)))
                return;
        if (--s->n == 0)
                *s = a->sources[--a->n_sources];
}

/* The peer, for a log line: "127.0.0.1:5000", "[::1]:5000", "pid 12 uid 1000". */
static const char *peer_describe(const AcceptPeer *p, char *buf, size_t len) {
        char a[INET6_ADDRSTRLEN];
        unsigned port;

        if (peer_format(&p->remote, a, &port) >= 0)
                snprintf(buf, len, strchr(a, ':') ? "[%s]:%u" : "%s:%u", a, port);
        else if (p->have_cred)
                snprintf(buf, len, "pid %d uid %u", (int) p->cred.pid, (unsigned) p->cred.uid);
        else
                snprintf(buf, len, "an unknown peer");
        return buf;
}

/* A connection over a limit: closed now, and said (a few lines per interval, then how many
 * were not). */
static void accept_refuse(AcceptSocket *a, int fd, const AcceptPeer *p, const char *why) {
        unsigned suppressed = 0;
        char who[INET6_ADDRSTRLEN + 32];

        safe_close(fd);
        a->n_refused++;
        if (!ratelimit_below(&a->refuse_limit, time_now(CLOCK_MONOTONIC), &suppressed))
                return;
        if (suppressed > 0)
                log_warning("%s: %u more connections refused (log lines suppressed)", a->name,
                            suppressed);
        log_warning("%s: refused the connection from %s: %s", a->name,
                    peer_describe(p, who, sizeof who), why);
}

/* Whether the connection may have an instance: MaxConnections=, MaxConnectionsPerSource=. */
static bool accept_admit(AcceptSocket *a, int fd, const AcceptPeer *p, AcceptSourceKey *k,
                         bool *ret_keyed) {
        const SocketLimits *lim = socket_config_limits(a->cfg);
        char why[128];
        AcceptSource *s;

        *ret_keyed = accept_source_key(p, k);
        if (a->n_connections >= lim->max_connections) {
                snprintf(why, sizeof why, "%u connections already (MaxConnections=%u)",
                         a->n_connections, lim->max_connections);
                accept_refuse(a, fd, p, why);
                return false;
        }
        if (*ret_keyed && lim->max_connections_per_source > 0 &&
            (s = accept_find_source(a, k)) && s->n >= lim->max_connections_per_source) {
                snprintf(why, sizeof why, "%u connections from there already "
                         "(MaxConnectionsPerSource=%u)", s->n,
                         lim->max_connections_per_source);
                accept_refuse(a, fd, p, why);
                return false;
        }
        return true;
}

/* Out of fds (or kernel memory): the queued connections wait, and this listener is not
 * watched for a moment, so berthd does not spin on a socket it cannot accept from. */
static void accept_pause(AcceptSocket *a, Listener *l, int error) {
        unsigned suppressed = 0;

        if (ratelimit_below(&a->pause_limit, time_now(CLOCK_MONOTONIC), &suppressed))
                log_warning_errno(error, "%s: cannot accept connections: %m; pausing for "
                                  "%llums%s", a->name,
                                  (unsigned long long) (ACCEPT_PAUSE_USEC / USEC_PER_MSEC),
                                  suppressed ? " (more such pauses not logged)" : "");
        if (listener_pause(l, ACCEPT_PAUSE_USEC) < 0)
                (void) listener_set_watch(l, true); /* without the timer, keep going */
}

static void accept_read_peer(int fd, int family, AcceptPeer *p) {
        p->local.len = sizeof p->local.raw;
        if (getsockname(fd, &p->local.sa, &p->local.len) < 0)
                p->local.sa.sa_family = (sa_family_t) family;
        if (family == AF_UNIX) {
                socklen_t n = sizeof p->cred;
                p->have_cred = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &p->cred, &n) >= 0 &&
                               n == sizeof p->cred;
        }
}

void accept_connection_adopt(AcceptSocket *a, int fd, AcceptPeer *ret) {
        AcceptSourceKey k;
        AcceptPeer p = {};

        p.remote.len = sizeof p.remote.raw;
        if (getpeername(fd, &p.remote.sa, &p.remote.len) < 0 || p.remote.len == 0) {
                p.local.len = sizeof p.local.raw;
                (void) getsockname(fd, &p.local.sa, &p.local.len);
                p.remote.sa.sa_family = p.local.sa.sa_family;
        }
        accept_read_peer(fd, p.remote.sa.sa_family, &p);
        a->n_connections++;
        if (accept_source_key(&p, &k) && accept_count_source(a, &k) < 0)
                log_oom();
        *ret = p;
}

/* Whether berthd has the fds to start an instance (the connection, the output pipe, what
 * spawning takes for a moment): tried by taking them and giving them back. Without them a
 * connection is better left waiting in the queue than accepted only to be dropped. Returns 0
 * or the errno (EMFILE, ENFILE). */
static int accept_fd_headroom(int fd) {
        int spare[ACCEPT_FD_HEADROOM], n = 0, r = 0;

        for (; n < ACCEPT_FD_HEADROOM; n++) {
                spare[n] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                if (spare[n] < 0) {
                        r = errno;
                        break;
                }
        }
        while (n > 0)
                safe_close(spare[--n]);
        return r;
}

void accept_on_trigger(Listener *l, void *owner) {
        AcceptSocket *a = owner;

        for (unsigned n = 0; n < ACCEPT_BATCH; n++) {
                AcceptPeer p = {};
                char instance[ACCEPT_INSTANCE_MAX];
                AcceptSourceKey k;
                bool keyed;
                int fd, r;

                r = accept_fd_headroom(l->fd);
                if (r != 0) {
                        accept_pause(a, l, r);
                        return;
                }
                p.remote.len = sizeof p.remote.raw;
                fd = accept4(l->fd, &p.remote.sa, &p.remote.len, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) {
                        if (IN_SET(errno, EMFILE, ENFILE, ENOBUFS, ENOMEM)) {
                                accept_pause(a, l, errno);
                                return;
                        }
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        if (IN_SET(errno, EINTR, ECONNABORTED, EPROTO, EPERM, ENETDOWN,
                                   ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP,
                                   ENETUNREACH))
                                continue; /* that connection is gone; the next may not be */
                        log_warning_errno(errno, "%s: accept() failed: %m", a->name);
                        break;
                }
                if (p.remote.len == 0 || p.remote.sa.sa_family == AF_UNSPEC)
                        p.remote.sa.sa_family = (sa_family_t) l->spec.family;
                accept_read_peer(fd, p.remote.sa.sa_family, &p);
                if (!accept_admit(a, fd, &p, &k, &keyed))
                        continue;
                r = accept_instance_name(a->n_accepted, &p, instance, sizeof instance);
                if (r < 0) {
                        log_warning_errno(r, "%s: cannot name an instance for a connection: "
                                          "%m; closing it", a->name);
                        safe_close(fd);
                        continue;
                }
                if (a->spawn(a, fd, &p, instance, a->userdata) < 0)
                        continue;
                a->n_accepted++;
                a->n_connections++;
                if (keyed && accept_count_source(a, &k) < 0)
                        log_oom();
        }
        (void) listener_set_watch(l, true);
}
