/* listener: owns the path from a BindSpec to a bound, listening fd (SPEC §3). It creates the
 * socket, sets every option of the unit before bind() (IPV6_V6ONLY always explicitly, so the
 * sysctl never decides), creates unix socket paths safely (no symlink is ever followed for what
 * we create or replace, a path is removed only when it is a stale socket, mode and owner are in
 * place before anyone can connect), and explains failures: which step, which address, which
 * errno, and for EADDRINUSE which process holds the port (sock_diag netlink, then /proc).
 * It reads a bound socket back from the kernel and formats the one log line for it.
 * Nothing here logs: messages go back to the caller as text. */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/address.h"
#include "common/macro.h"
#include "common/errbuf.h"
#include "common/log.h"
#include "common/user-util.h"
#include "daemon/listener.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
/* TCP_BOUND_INACTIVE (Linux 6.8+): bound but not listening; older kernels ignore the bit. */
#define DIAG_TCP_BOUND_INACTIVE 13

/* Bounds on the holder search: nothing user-controlled may make it unbounded. */
#define HOLDER_MAX_PIDS 65536
#define HOLDER_MAX_FDS_PER_PID 65536
#define HOLDER_MAX_CANDIDATES 256
#define DIAG_MAX_MESSAGES (1U << 20)
#define DIAG_BUFFER_SIZE (64U * 1024U)

#define HOLDER_NOT_FOUND                                                                           \
        "(the holder could not be found: it may be in another network namespace or owned by "     \
        "another user)"

static int read_int_file(const char *path, int *ret) {
        _cleanup_close_ int fd = -1;
        char buf[64];
        ssize_t n;
        char *end;
        long v;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof buf - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        errno = 0;
        v = strtol(buf, &end, 10);
        if (errno != 0 || end == buf || (*end != '\0' && *end != '\n') || v < INT_MIN ||
            v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int listener_sysctl_bindv6only(void) {
        int v, r;

        r = read_int_file("/proc/sys/net/ipv6/bindv6only", &v);
        if (r < 0)
                return r;
        return v != 0;
}

void listener_probe_host(HostInfo *ret) {
        int fd, r;

        fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        /* Only EAFNOSUPPORT says "no IPv6"; EMFILE and friends say nothing about the host. */
        ret->ipv6 = fd >= 0 || errno != EAFNOSUPPORT;
        safe_close(fd);

        r = listener_sysctl_bindv6only();
        ret->bindv6only = r < 0 ? -1 : r;
}

static const char *proto_name(int family, int socktype) {
        if (family == AF_UNIX)
                return socktype == SOCK_STREAM ? "unix stream"
                       : socktype == SOCK_DGRAM ? "unix datagram"
                       : socktype == SOCK_SEQPACKET ? "unix seqpacket"
                                                    : "unix";
        return socktype == SOCK_STREAM ? "TCP"
               : socktype == SOCK_DGRAM ? "UDP"
               : socktype == SOCK_SEQPACKET ? "SEQPACKET"
                                            : "socket";
}

static bool is_inet(int family) {
        return family == AF_INET || family == AF_INET6;
}

/* Extracts a unix socket's name: a NUL-terminated path, or for an abstract name the raw bytes
 * (ret_len counts them, the leading NUL included). Returns false for unnamed sockets. */
static bool unix_name(const SockAddr *a, char *buf, size_t buflen, size_t *ret_len,
                      bool *ret_abstract) {
        const size_t base = offsetof(struct sockaddr_un, sun_path);
        size_t n;

        if (a->sa.sa_family != AF_UNIX || a->len <= base)
                return false;
        n = MIN((size_t) a->len - base, sizeof(a->un.sun_path));
        *ret_abstract = a->un.sun_path[0] == '\0';
        if (!*ret_abstract)
                n = strnlen(a->un.sun_path, n);
        if (n == 0 || n + 1 > buflen)
                return false;
        memcpy(buf, a->un.sun_path, n);
        buf[n] = '\0';
        if (ret_len)
                *ret_len = n;
        return true;
}

/* ---- netlink sock_diag ---- */

typedef int (*DiagFunc)(const struct nlmsghdr *h, void *userdata);

/* Handles one answer of ours. Returns 1 to read on, 0 when the answer is complete, or a
 * negative errno. */
static int diag_dispatch(const struct nlmsghdr *h, bool dump, DiagFunc f, void *userdata,
                         unsigned *count) {
        int r;

        if (h->nlmsg_type == NLMSG_DONE)
                return 0;
        if (h->nlmsg_type == NLMSG_ERROR) {
                const struct nlmsgerr *e = NLMSG_DATA(h);

                if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e))
                        return -EBADMSG;
                return e->error < 0 ? e->error : 0;
        }
        if (++*count > DIAG_MAX_MESSAGES)
                return -E2BIG;
        r = f(h, userdata);
        if (r != 0)
                return r < 0 ? r : 0;
        return dump ? 1 : 0;
}

/* Sends one sock_diag request and feeds each answer to f until NLMSG_DONE (dump) or the first
 * answer (single get). f returns < 0 to abort, > 0 to stop early, 0 to go on. */
static int diag_query(void *req, size_t reqlen, bool dump, DiagFunc f, void *userdata) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ void *buf = NULL;
        struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
        struct timeval tv = { .tv_sec = 2 };
        struct nlmsghdr *req_h = req;
        unsigned count = 0;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
        if (fd < 0)
                return -errno;
        /* The kernel always answers; the timeout only keeps a broken kernel from hanging us. */
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);

        req_h->nlmsg_seq = 1;
        if (sendto(fd, req, reqlen, 0, (struct sockaddr *) &nl, sizeof nl) < 0)
                return -errno;

        buf = malloc(DIAG_BUFFER_SIZE);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                struct sockaddr_nl from;
                socklen_t fromlen = sizeof from;
                ssize_t n;
                size_t left;

                n = recvfrom(fd, buf, DIAG_BUFFER_SIZE, MSG_TRUNC, (struct sockaddr *) &from,
                             &fromlen);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EPIPE;
                if ((size_t) n > DIAG_BUFFER_SIZE)
                        return -EMSGSIZE;
                if (from.nl_pid != 0)
                        continue; /* not from the kernel */

                left = (size_t) n;
                for (struct nlmsghdr *h = buf; left >= sizeof *h;) {
                        size_t len = h->nlmsg_len;

                        if (len < sizeof *h || len > left)
                                return -EBADMSG;
                        if (h->nlmsg_seq == 1) {
                                int r = diag_dispatch(h, dump, f, userdata, &count);
                                if (r <= 0)
                                        return r;
                        }
                        len = NLMSG_ALIGN(len);
                        if (len >= left)
                                break;
                        left -= len;
                        h = (struct nlmsghdr *) ((uint8_t *) h + len);
                }
        }
}

/* A unix_diag request: about the socket with inode ino, or with dump about every unix socket.
 * show: the UDIAG_SHOW_* attributes wanted. */
static int unix_diag_query(uint32_t ino, uint32_t show, bool dump, DiagFunc f, void *userdata) {
        struct {
                struct nlmsghdr h;
                struct unix_diag_req r;
        } req = {
                .h = {
                        .nlmsg_len = sizeof req,
                        .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                        .nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0),
                },
                .r = {
                        .sdiag_family = AF_UNIX,
                        .udiag_states = ~0U,
                        .udiag_ino = ino,
                        .udiag_show = show,
                        .udiag_cookie = { INET_DIAG_NOCOOKIE, INET_DIAG_NOCOOKIE },
                },
        };

        return diag_query(&req, sizeof req, dump, f, userdata);
}

/* Walks the attributes after a fixed-size diag header. */
#define FOREACH_NLATTR(a, h, hdrsize)                                                              \
        for (const struct nlattr *a = (const void *) ((const uint8_t *) NLMSG_DATA(h) +           \
                                                      NLMSG_ALIGN(hdrsize)),                       \
                                 *a##_end = (const void *) ((const uint8_t *) (h) +               \
                                                            (h)->nlmsg_len);                       \
             (const uint8_t *) a + NLA_HDRLEN <= (const uint8_t *) a##_end &&                      \
             a->nla_len >= NLA_HDRLEN &&                                                           \
             (const uint8_t *) a + a->nla_len <= (const uint8_t *) a##_end;                        \
             a = (const void *) ((const uint8_t *) a + NLA_ALIGN(a->nla_len)))

#define NLATTR_DATA(a) ((const void *) ((const uint8_t *) (a) + NLA_HDRLEN))
#define NLATTR_LEN(a) ((size_t) (a)->nla_len - NLA_HDRLEN)

/* ---- holder lookup ---- */

typedef struct Candidate {
        uint64_t inode;
        int score;      /* higher is a better explanation of the conflict */
        bool listening; /* TCP LISTEN / unix listener; else merely bound */
        bool dual;      /* AF_INET6 wildcard that takes IPv4 */
        bool has_uid;
        uid_t uid;
        SockAddr addr;
} Candidate;

typedef struct Candidates {
        Candidate items[HOLDER_MAX_CANDIDATES];
        size_t n;
} Candidates;

static void candidates_add(Candidates *c, const Candidate *x) {
        size_t worst = 0;

        if (c->n < ELEMENTSOF(c->items)) {
                c->items[c->n++] = *x;
                return;
        }
        /* Full: replace the worst one if this one is better. */
        for (size_t i = 1; i < c->n; i++)
                if (c->items[i].score < c->items[worst].score)
                        worst = i;
        if (c->items[worst].score < x->score)
                c->items[worst] = *x;
}

/* The set of addresses a socket covers on its port. */
typedef struct AddrSet {
        bool any4, any6;
        bool has4, has6;
        struct in_addr a4;
        struct in6_addr a6;
} AddrSet;

static AddrSet addr_set(int family, const void *addr, bool v6only) {
        AddrSet s = {};

        if (family == AF_INET) {
                memcpy(&s.a4, addr, sizeof s.a4);
                if (s.a4.s_addr == htonl(INADDR_ANY))
                        s.any4 = true;
                else
                        s.has4 = true;
        } else {
                memcpy(&s.a6, addr, sizeof s.a6);
                if (IN6_IS_ADDR_UNSPECIFIED(&s.a6)) {
                        s.any6 = true;
                        s.any4 = !v6only;
                } else if (IN6_IS_ADDR_V4MAPPED(&s.a6)) {
                        memcpy(&s.a4, &s.a6.s6_addr[12], sizeof s.a4);
                        if (s.a4.s_addr == htonl(INADDR_ANY))
                                s.any4 = true;
                        else
                                s.has4 = true;
                } else
                        s.has6 = true;
        }
        return s;
}

static bool addr_sets_intersect(const AddrSet *a, const AddrSet *b) {
        bool v4 = (a->any4 && (b->any4 || b->has4)) || (b->any4 && a->has4) ||
                  (a->has4 && b->has4 && a->a4.s_addr == b->a4.s_addr);
        bool v6 = (a->any6 && (b->any6 || b->has6)) || (b->any6 && a->has6) ||
                  (a->has6 && b->has6 && memcmp(&a->a6, &b->a6, sizeof a->a6) == 0);
        return v4 || v6;
}

typedef struct InetMatch {
        const SockAddr *want;
        AddrSet want_set;
        uint16_t port; /* network order */
        int protocol;
        Candidates *cands;
} InetMatch;

static int inet_diag_on_message(const struct nlmsghdr *h, void *userdata) {
        InetMatch *m = userdata;
        const struct inet_diag_msg *d = NLMSG_DATA(h);
        bool v6only = false;
        Candidate c = {};
        AddrSet s;

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *d))
                return 0;
        if (d->id.idiag_sport != m->port || d->idiag_inode == 0)
                return 0;
        if (d->idiag_family != AF_INET && d->idiag_family != AF_INET6)
                return 0;

        FOREACH_NLATTR(a, h, sizeof *d)
                if (a->nla_type == INET_DIAG_SKV6ONLY && NLATTR_LEN(a) >= 1)
                        v6only = *(const uint8_t *) NLATTR_DATA(a) != 0;

        s = addr_set(d->idiag_family, d->id.idiag_src, v6only);
        if (!addr_sets_intersect(&m->want_set, &s))
                return 0;

        c.inode = d->idiag_inode;
        c.listening = d->idiag_state == TCP_LISTEN;
        c.has_uid = true;
        c.uid = d->idiag_uid;
        c.dual = d->idiag_family == AF_INET6 && s.any6 && s.any4;
        if (d->idiag_family == AF_INET) {
                c.addr.in.sin_family = AF_INET;
                c.addr.in.sin_port = d->id.idiag_sport;
                memcpy(&c.addr.in.sin_addr, d->id.idiag_src, sizeof c.addr.in.sin_addr);
                c.addr.len = sizeof c.addr.in;
        } else {
                c.addr.in6.sin6_family = AF_INET6;
                c.addr.in6.sin6_port = d->id.idiag_sport;
                memcpy(&c.addr.in6.sin6_addr, d->id.idiag_src, sizeof c.addr.in6.sin6_addr);
                if (IN6_IS_ADDR_LINKLOCAL(&c.addr.in6.sin6_addr))
                        c.addr.in6.sin6_scope_id = d->id.idiag_if;
                c.addr.len = sizeof c.addr.in6;
        }

        /* Same family and same address explains the conflict best, then same family, then a
         * dual-stack socket of the other family. Listeners beat merely bound sockets. */
        if (d->idiag_family == m->want->sa.sa_family)
                c.score = sockaddr_equal(&c.addr, m->want) ? 30 : 20;
        else
                c.score = 10;
        if (c.listening)
                c.score += 1;
        candidates_add(m->cands, &c);
        return 0;
}

static int inet_candidates(const SockAddr *addr, int socktype, Candidates *cands) {
        static const int families[] = { AF_INET, AF_INET6 };
        InetMatch m = {
                .want = addr,
                .protocol = socktype == SOCK_DGRAM ? IPPROTO_UDP : IPPROTO_TCP,
                .cands = cands,
        };
        int r = -ESRCH;

        if (addr->sa.sa_family == AF_INET) {
                m.port = addr->in.sin_port;
                m.want_set = addr_set(AF_INET, &addr->in.sin_addr, false);
        } else {
                m.port = addr->in6.sin6_port;
                /* We cannot know whether the asker meant dual-stack; a wider set only adds
                 * candidates, and the score prefers the same family. */
                m.want_set = addr_set(AF_INET6, &addr->in6.sin6_addr, false);
        }

        for (size_t i = 0; i < ELEMENTSOF(families); i++) {
                struct {
                        struct nlmsghdr h;
                        struct inet_diag_req_v2 r;
                } req = {
                        .h = {
                                .nlmsg_len = sizeof req,
                                .nlmsg_type = SOCK_DIAG_BY_FAMILY,
                                .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
                        },
                        .r = {
                                .sdiag_family = (uint8_t) families[i],
                                .sdiag_protocol = (uint8_t) m.protocol,
                                .idiag_states = m.protocol == IPPROTO_UDP
                                                        ? ~0U
                                                        : (1U << TCP_LISTEN) |
                                                                  (1U << DIAG_TCP_BOUND_INACTIVE),
                        },
                };
                int k = diag_query(&req, sizeof req, /* dump= */ true, inet_diag_on_message, &m);
                if (k >= 0)
                        r = 0;
        }
        return r;
}

typedef struct UnixMatch {
        dev_t dev;
        ino_t ino;
        int socktype;
        const SockAddr *want;
        Candidates *cands;
} UnixMatch;

static int unix_diag_on_message(const struct nlmsghdr *h, void *userdata) {
        UnixMatch *m = userdata;
        const struct unix_diag_msg *d = NLMSG_DATA(h);
        Candidate c = {};

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *d))
                return 0;
        if (d->udiag_type != m->socktype)
                return 0;

        FOREACH_NLATTR(a, h, sizeof *d) {
                if (a->nla_type == UNIX_DIAG_VFS && NLATTR_LEN(a) >= sizeof(struct unix_diag_vfs)) {
                        const struct unix_diag_vfs *v = NLATTR_DATA(a);

                        /* The kernel's dev_t: 12 bits major, 20 bits minor. */
                        if (v->udiag_vfs_ino == m->ino &&
                            major(m->dev) == (v->udiag_vfs_dev >> 20) &&
                            minor(m->dev) == (v->udiag_vfs_dev & 0xfffff)) {
                                c.inode = d->udiag_ino;
                                c.listening = d->udiag_state == TCP_LISTEN;
                                c.score = c.listening ? 2 : 1;
                                c.addr = *m->want;
                                candidates_add(m->cands, &c);
                        }
                }
        }
        return 0;
}

/* /proc/net/unix: "Num RefCount Protocol Flags Type St Inode Path", abstract names as "@..". */
static int unix_candidates_proc(const char *name, int socktype, const SockAddr *want,
                                Candidates *cands) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        FILE *f;
        unsigned lines = 0;
        bool found = false;

        f = fopen("/proc/net/unix", "re");
        if (!f)
                return -errno;
        while (getline(&line, &cap, f) > 0 && lines++ < DIAG_MAX_MESSAGES) {
                unsigned long refcount, protocol, flags, type, st;
                uint64_t inode;
                char *path;
                size_t l;
                int pos = 0;

                if (sscanf(line, "%*[0-9a-fA-F]: %lx %lx %lx %lx %lx %" SCNu64 " %n", &refcount,
                           &protocol, &flags, &type, &st, &inode, &pos) < 6 ||
                    pos == 0)
                        continue;
                if ((int) type != socktype)
                        continue;
                path = line + pos;
                l = strlen(path);
                if (l > 0 && path[l - 1] == '\n')
                        path[--l] = '\0';
                if (!streq(path, name))
                        continue;

                Candidate c = {
                        .inode = inode,
                        .listening = (flags & 0x10000) != 0, /* __SO_ACCEPTCON */
                        .addr = *want,
                };
                c.score = c.listening ? 2 : 1;
                candidates_add(cands, &c);
                found = true;
        }
        fclose(f);
        return found ? 0 : -ESRCH;
}

static int unix_candidates(const SockAddr *addr, int socktype, Candidates *cands) {
        char name[sizeof(addr->un.sun_path) + 1], shown[sizeof(addr->un.sun_path) + 1];
        size_t n;
        bool abstract;

        if (!unix_name(addr, name, sizeof name, &n, &abstract))
                return -EINVAL;

        if (!abstract) {
                struct stat st;

                if (fstatat(AT_FDCWD, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (!S_ISSOCK(st.st_mode))
                        return -ENOTSOCK;

                /* By file identity, so any spelling of the path that bound it matches. */
                UnixMatch m = {
                        .dev = st.st_dev,
                        .ino = st.st_ino,
                        .socktype = socktype,
                        .want = addr,
                        .cands = cands,
                };
                if (unix_diag_query(0, UDIAG_SHOW_VFS, /* dump= */ true, unix_diag_on_message,
                                    &m) >= 0 &&
                    cands->n > 0)
                        return 0;
                return unix_candidates_proc(name, socktype, addr, cands);
        }

        /* /proc/net/unix shows an abstract name with '@' for every NUL. */
        for (size_t i = 0; i < n; i++)
                shown[i] = name[i] == '\0' ? '@' : name[i];
        shown[n] = '\0';
        return unix_candidates_proc(shown, socktype, addr, cands);
}

static bool parse_socket_link(const char *s, uint64_t *ret) {
        const char *p = startswith(s, "socket:[");
        char *end;
        unsigned long long v;

        if (!p)
                return false;
        errno = 0;
        v = strtoull(p, &end, 10);
        if (errno != 0 || end == p || !streq(end, "]"))
                return false;
        *ret = v;
        return true;
}

static void read_comm(pid_t pid, char *buf, size_t buflen) {
        char path[64];
        _cleanup_close_ int fd = -1;
        ssize_t n;

        snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
        buf[0] = '\0';
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        n = read(fd, buf, buflen - 1);
        if (n <= 0) {
                buf[0] = '\0';
                return;
        }
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
}

/* Scans /proc/[0-9]* /fd for the candidates' inodes. Returns the index of the best candidate
 * found, with its pid, or -ESRCH. */
static int find_pid(const Candidates *cands, size_t *ret_index, pid_t *ret_pid) {
        DIR *proc;
        struct dirent *de;
        unsigned n_pids = 0;
        int best_score = -1, max_score = -1;
        size_t best = 0;
        pid_t best_pid = 0;

        if (cands->n == 0)
                return -ESRCH;
        for (size_t i = 0; i < cands->n; i++)
                max_score = MAX(max_score, cands->items[i].score);

        proc = opendir("/proc");
        if (!proc)
                return -errno;

        while ((de = readdir(proc)) && n_pids < HOLDER_MAX_PIDS && best_score < max_score) {
                char path[64], link[64];
                unsigned n_fds = 0;
                struct dirent *fe;
                DIR *fds;
                int dfd;
                char *end;
                long pid;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                errno = 0;
                pid = strtol(de->d_name, &end, 10);
                if (errno != 0 || *end != '\0' || pid <= 0 || pid > INT_MAX)
                        continue;
                n_pids++;

                snprintf(path, sizeof path, "%ld/fd", pid);
                dfd = openat(dirfd(proc), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        continue; /* gone, or not ours to look at */
                fds = fdopendir(dfd);
                if (!fds) {
                        safe_close(dfd);
                        continue;
                }
                while ((fe = readdir(fds)) && n_fds++ < HOLDER_MAX_FDS_PER_PID) {
                        ssize_t k;
                        uint64_t inode;

                        if (fe->d_name[0] < '0' || fe->d_name[0] > '9')
                                continue;
                        k = readlinkat(dirfd(fds), fe->d_name, link, sizeof link - 1);
                        if (k <= 0)
                                continue;
                        link[k] = '\0';
                        if (!parse_socket_link(link, &inode))
                                continue;
                        for (size_t i = 0; i < cands->n; i++)
                                if (cands->items[i].inode == inode &&
                                    cands->items[i].score > best_score) {
                                        best_score = cands->items[i].score;
                                        best = i;
                                        best_pid = (pid_t) pid;
                                }
                }
                closedir(fds);
        }
        closedir(proc);

        if (best_score < 0)
                return -ESRCH;
        *ret_index = best;
        *ret_pid = best_pid;
        return 0;
}

int listener_find_holder(const SockAddr *addr, int socktype, char *buf, size_t buflen) {
        _cleanup_free_ Candidates *cands = NULL;
        char a[ADDRESS_FORMAT_MAX], comm[64];
        const Candidate *c;
        size_t idx = 0;
        pid_t pid = 0;
        int r;

        if (!addr)
                return -EINVAL;
        if (buf && buflen > 0)
                buf[0] = '\0';

        cands = calloc(1, sizeof *cands);
        if (!cands)
                return -ENOMEM;

        switch (addr->sa.sa_family) {
        case AF_INET:
        case AF_INET6:
                r = inet_candidates(addr, socktype, cands);
                break;
        case AF_UNIX:
                r = unix_candidates(addr, socktype, cands);
                break;
        default:
                return -EAFNOSUPPORT;
        }
        if (r < 0 || cands->n == 0)
                return -ESRCH;

        r = find_pid(cands, &idx, &pid);
        if (r < 0) {
                /* Seen by sock_diag, but no fd of it is visible to us. */
                c = &cands->items[0];
                for (size_t i = 1; i < cands->n; i++)
                        if (cands->items[i].score > c->score)
                                c = &cands->items[i];
                if (!c->has_uid)
                        return -ESRCH;
                sockaddr_format(&c->addr, a, sizeof a);
                (void) errbuf_set(buf, buflen, 0, "a process of uid %u whose pid is not visible to us, "
                                            "%s %s%s",
                            (unsigned) c->uid, c->listening ? "listening on" : "bound to", a,
                            c->dual ? " (dual-stack: takes IPv4 too)" : "");
                return 0;
        }

        c = &cands->items[idx];
        read_comm(pid, comm, sizeof comm);
        sockaddr_format(&c->addr, a, sizeof a);
        (void) errbuf_set(buf, buflen, 0, "pid %d (%s), %s %s%s", (int) pid, comm[0] ? comm : "?",
                    c->listening ? "listening on" : "bound to", a,
                    c->dual ? " (dual-stack: takes IPv4 too)" : "");
        return 0;
}

/* ---- binding ---- */

typedef struct BindCtx {
        const BindSpec *spec;
        const SocketConfig *cfg;
        const char *proto;
        char addr[ADDRESS_FORMAT_MAX];
        char *err;
        size_t errlen;
        /* A non-fatal note for the caller, returned in err on success. */
        char warning[ADDRESS_FORMAT_MAX + 512];
} BindCtx;

static int set_int(BindCtx *c, int fd, int level, int name, int value, const char *what) {
        int r;

        if (setsockopt(fd, level, name, &value, sizeof value) >= 0)
                return 0;
        r = -errno;
        return errbuf_set(c->err, c->errlen, r, "cannot set %s on %s %s: %s", what, c->proto, c->addr,
                    strerror(-r));
}

static int seconds_of(usec_t u) {
        uint64_t s = u / USEC_PER_SEC + (u % USEC_PER_SEC != 0);

        return s == 0 ? 1 : s > INT_MAX ? INT_MAX : (int) s;
}

static int set_seconds(BindCtx *c, int fd, int name, usec_t u, const char *key, const char *opt) {
        char what[128];

        snprintf(what, sizeof what, "%s=%ds (%s)", key, seconds_of(u), opt);
        return set_int(c, fd, IPPROTO_TCP, name, seconds_of(u), what);
}

static int set_buffer(BindCtx *c, int fd, int opt, int opt_force, uint64_t size, const char *key,
                      const char *optname, const char *sysctl) {
        char what[128];
        socklen_t l;
        int got = 0, r;

        if (size > INT_MAX / 2)
                return errbuf_set(c->err, c->errlen, -EINVAL,
                            "cannot set %s=%" PRIu64 " on %s %s: the kernel allows at most %d "
                            "bytes",
                            key, size, c->proto, c->addr, INT_MAX / 2);

        snprintf(what, sizeof what, "%s=%" PRIu64 " (%s)", key, size, optname);
        r = set_int(c, fd, SOL_SOCKET, opt, (int) size, what);
        if (r < 0)
                return r;

        /* The kernel doubles the value (for its bookkeeping) after capping it at the sysctl. */
        l = sizeof got;
        if (getsockopt(fd, SOL_SOCKET, opt, &got, &l) < 0 || (uint64_t) got / 2 >= size)
                return 0;

        if (setsockopt(fd, SOL_SOCKET, opt_force, &(int) { (int) size }, sizeof(int)) >= 0)
                return 0;
        if (errno != EPERM) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot set %s on %s %s: %s", what, c->proto,
                            c->addr, strerror(-r));
        }
        snprintf(c->warning, sizeof c->warning,
                 "%s=%" PRIu64 " on %s %s: the kernel capped the buffer at %d bytes (%s); raise "
                 "%s or give berthd CAP_NET_ADMIN to exceed it, ignoring",
                 key, size, c->proto, c->addr, got / 2, sysctl, sysctl);
        return 0;
}

static int apply_options(BindCtx *c, int fd) {
        const BindSpec *s = c->spec;
        const SocketConfig *cfg = c->cfg;
        bool inet = is_inet(s->family), v6 = s->family == AF_INET6;
        bool tcp = inet && s->socktype == SOCK_STREAM;
        char what[128];
        int r;

        if (v6) {
                /* Always explicit: net.ipv6.bindv6only must never decide silently. */
                if (s->v6only != 0 && s->v6only != 1)
                        return errbuf_set(c->err, c->errlen, -EINVAL,
                                    "no IPV6_V6ONLY value planned for %s %s", c->proto, c->addr);
                snprintf(what, sizeof what, "IPV6_V6ONLY=%d", s->v6only);
                r = set_int(c, fd, IPPROTO_IPV6, IPV6_V6ONLY, s->v6only, what);
                if (r < 0)
                        return r;
        }

        if (tcp) {
                r = set_int(c, fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
                if (r < 0)
                        return r;
        }

        if (inet && cfg->reuse_port) {
                r = set_int(c, fd, SOL_SOCKET, SO_REUSEPORT, 1, "ReusePort=yes (SO_REUSEPORT)");
                if (r < 0)
                        return r;
        }

        if (inet && cfg->free_bind) {
                int one = 1;

                /* IP_FREEBIND works on IPv6 sockets too, on kernels before IPV6_FREEBIND. */
                if (!v6 || setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one) < 0) {
                        r = set_int(c, fd, IPPROTO_IP, IP_FREEBIND, 1,
                                    v6 ? "FreeBind=yes (IPV6_FREEBIND)"
                                       : "FreeBind=yes (IP_FREEBIND)");
                        if (r < 0)
                                return r;
                }
        }

        if (inet && cfg->transparent) {
                int one = 1;

                if (setsockopt(fd, v6 ? IPPROTO_IPV6 : IPPROTO_IP,
                               v6 ? IPV6_TRANSPARENT : IP_TRANSPARENT, &one, sizeof one) < 0) {
                        r = -errno;
                        if (r == -EPERM)
                                return errbuf_set(c->err, c->errlen, r,
                                            "cannot set Transparent=yes (%s) on %s %s: "
                                            "Transparent=yes needs CAP_NET_ADMIN (or CAP_NET_RAW)",
                                            v6 ? "IPV6_TRANSPARENT" : "IP_TRANSPARENT", c->proto,
                                            c->addr);
                        return errbuf_set(c->err, c->errlen, r,
                                    "cannot set Transparent=yes (%s) on %s %s: %s",
                                    v6 ? "IPV6_TRANSPARENT" : "IP_TRANSPARENT", c->proto, c->addr,
                                    strerror(-r));
                }
        }

        if (inet && cfg->bind_to_device && cfg->bind_to_device[0]) {
                const char *dev = cfg->bind_to_device;

                /* The kernel silently truncates longer names: refuse them here. */
                if (strlen(dev) >= IFNAMSIZ)
                        return errbuf_set(c->err, c->errlen, -EINVAL,
                                    "cannot set BindToDevice=%s on %s %s: interface names are at "
                                    "most %d characters",
                                    dev, c->proto, c->addr, IFNAMSIZ - 1);
                if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t) strlen(dev)) < 0) {
                        r = -errno;
                        if (r == -ENODEV)
                                return errbuf_set(c->err, c->errlen, r,
                                            "cannot set BindToDevice=%s (SO_BINDTODEVICE) on %s "
                                            "%s: no interface named '%s'",
                                            dev, c->proto, c->addr, dev);
                        if (r == -EPERM)
                                return errbuf_set(c->err, c->errlen, r,
                                            "cannot set BindToDevice=%s (SO_BINDTODEVICE) on %s "
                                            "%s: BindToDevice= needs CAP_NET_RAW",
                                            dev, c->proto, c->addr);
                        return errbuf_set(c->err, c->errlen, r,
                                    "cannot set BindToDevice=%s (SO_BINDTODEVICE) on %s %s: %s",
                                    dev, c->proto, c->addr, strerror(-r));
                }
        }

        if (cfg->receive_buffer > 0) {
                r = set_buffer(c, fd, SO_RCVBUF, SO_RCVBUFFORCE, cfg->receive_buffer,
                               "ReceiveBuffer", "SO_RCVBUF", "net.core.rmem_max");
                if (r < 0)
                        return r;
        }
        if (cfg->send_buffer > 0) {
                r = set_buffer(c, fd, SO_SNDBUF, SO_SNDBUFFORCE, cfg->send_buffer, "SendBuffer",
                               "SO_SNDBUF", "net.core.wmem_max");
                if (r < 0)
                        return r;
        }

        if (s->family == AF_UNIX && cfg->pass_credentials) {
                r = set_int(c, fd, SOL_SOCKET, SO_PASSCRED, 1,
                            "PassCredentials=yes (SO_PASSCRED)");
                if (r < 0)
                        return r;
        }

        if (!tcp)
                return 0;

        if (cfg->keep_alive) {
                r = set_int(c, fd, SOL_SOCKET, SO_KEEPALIVE, 1, "KeepAlive=yes (SO_KEEPALIVE)");
                if (r < 0)
                        return r;
        }
        if (cfg->keep_alive_time_usec > 0) {
                r = set_seconds(c, fd, TCP_KEEPIDLE, cfg->keep_alive_time_usec,
                                "KeepAliveTimeSec", "TCP_KEEPIDLE");
                if (r < 0)
                        return r;
        }
        if (cfg->keep_alive_interval_usec > 0) {
                r = set_seconds(c, fd, TCP_KEEPINTVL, cfg->keep_alive_interval_usec,
                                "KeepAliveIntervalSec", "TCP_KEEPINTVL");
                if (r < 0)
                        return r;
        }
        if (cfg->keep_alive_probes > 0) {
                snprintf(what, sizeof what, "KeepAliveProbes=%u (TCP_KEEPCNT)",
                         cfg->keep_alive_probes);
                r = set_int(c, fd, IPPROTO_TCP, TCP_KEEPCNT,
                            (int) MIN(cfg->keep_alive_probes, (unsigned) INT_MAX), what);
                if (r < 0)
                        return r;
        }
        if (cfg->no_delay) {
                r = set_int(c, fd, IPPROTO_TCP, TCP_NODELAY, 1, "NoDelay=yes (TCP_NODELAY)");
                if (r < 0)
                        return r;
        }
        if (cfg->defer_accept_usec > 0) {
                r = set_seconds(c, fd, TCP_DEFER_ACCEPT, cfg->defer_accept_usec, "DeferAcceptSec",
                                "TCP_DEFER_ACCEPT");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int backlog_of(const SocketConfig *cfg) {
        int v;

        if (cfg->backlog >= 0)
                return cfg->backlog;
        if (read_int_file("/proc/sys/net/core/somaxconn", &v) >= 0 && v > 0)
                return v;
        return SOMAXCONN;
}

static int do_listen(BindCtx *c, int fd) {
        int backlog, r;

        if (c->spec->socktype == SOCK_DGRAM)
                return 0;
        backlog = backlog_of(c->cfg);
        if (listen(fd, backlog) >= 0)
                return 0;
        r = -errno;
        return errbuf_set(c->err, c->errlen, r, "cannot listen on %s %s (Backlog=%d): %s", c->proto,
                    c->addr, backlog, strerror(-r));
}

/* Formats the failure of bind() with what the user can do about it. */
static int bind_failed(BindCtx *c, int r) {
        char holder[ADDRESS_FORMAT_MAX + 128];
        const char *hint = "";
        uint16_t port = 0;

        if (r == -EADDRINUSE) {
                if (listener_find_holder(&c->spec->addr, c->spec->socktype, holder,
                                         sizeof holder) >= 0)
                        return errbuf_set(c->err, c->errlen, r, "cannot bind %s %s: %s — held by %s",
                                    c->proto, c->addr, strerror(-r), holder);
                return errbuf_set(c->err, c->errlen, r, "cannot bind %s %s: %s " HOLDER_NOT_FOUND,
                            c->proto, c->addr, strerror(-r));
        }

        if (c->spec->family == AF_INET)
                port = ntohs(c->spec->addr.in.sin_port);
        else if (c->spec->family == AF_INET6)
                port = ntohs(c->spec->addr.in6.sin6_port);

        if (r == -EADDRNOTAVAIL && is_inet(c->spec->family))
                hint = " — no interface of this host has that address (FreeBind=yes binds it "
                       "before it appears)";
        else if (r == -EACCES && is_inet(c->spec->family) && port > 0 && port < 1024)
                hint = " — ports below 1024 need CAP_NET_BIND_SERVICE (or a lower "
                       "net.ipv4.ip_unprivileged_port_start)";
        else if (r == -EACCES && c->spec->family == AF_UNIX)
                hint = " — no permission to create it in its directory";

        return errbuf_set(c->err, c->errlen, r, "cannot bind %s %s: %s%s", c->proto, c->addr,
                    strerror(-r), hint);
}

/* ---- unix socket paths ---- */

static int resolve_owner(BindCtx *c, uid_t *ret_uid, gid_t *ret_gid) {
        const char *user = c->cfg->socket_user, *group = c->cfg->socket_group;
        uid_t uid = (uid_t) -1;
        gid_t gid = (gid_t) -1, primary = (gid_t) -1;
        int r;

        if (user && user[0]) {
                r = user_resolve(user, &uid, &primary);
                if (r == -ESRCH)
                        return errbuf_set(c->err, c->errlen, r, "SocketUser=%s for %s: no such user",
                                          user, c->addr);
                if (r < 0)
                        return errbuf_set(c->err, c->errlen, r,
                                          "cannot look up SocketUser=%s for %s: %m", user,
                                          c->addr);
                gid = primary; /* as systemd: the user's primary group, unless SocketGroup= */
        }
        if (group && group[0]) {
                r = group_resolve(group, &gid);
                if (r == -ESRCH)
                        return errbuf_set(c->err, c->errlen, r,
                                          "SocketGroup=%s for %s: no such group", group, c->addr);
                if (r < 0)
                        return errbuf_set(c->err, c->errlen, r,
                                          "cannot look up SocketGroup=%s for %s: %m", group,
                                          c->addr);
        }
        *ret_uid = uid;
        *ret_gid = gid;
        return 0;
}

/* Opens the directory that will hold path (O_PATH), creating missing components with
 * DirectoryMode=. Existing components before the last may be symlinks (/var/run is one on most
 * hosts); a component we create is opened with O_NOFOLLOW, so a symlink swapped in after our
 * mkdir is refused; the final parent may never be a symlink. On success *ret_base points into
 * path. */
static int open_parent(BindCtx *c, const char *path, int *ret_dirfd, const char **ret_base) {
        _cleanup_close_ int fd = -1;
        char dir[sizeof(((struct sockaddr_un *) NULL)->sun_path) + 1];
        char shown[sizeof dir];
        const char *slash = strrchr(path, '/'), *p;
        size_t dirlen, shown_len = 0;

        if (path[0] != '/' || !slash)
                return errbuf_set(c->err, c->errlen, -EINVAL,
                            "unix socket path '%s' is not absolute", path);
        if (slash[1] == '\0')
                return errbuf_set(c->err, c->errlen, -EINVAL,
                            "unix socket path '%s' names a directory, not a socket", path);
        dirlen = (size_t) (slash - path);
        memcpy(dir, path, dirlen);
        dir[dirlen] = '\0';
        shown[0] = '\0';

        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errbuf_set(c->err, c->errlen, -errno, "cannot open '/': %s", strerror(errno));

        p = dir;
        for (;;) {
                char comp[sizeof dir];
                size_t n;
                bool last, created = false;
                int nfd, r;

                p += strspn(p, "/");
                if (!*p)
                        break;
                n = strcspn(p, "/");
                memcpy(comp, p, n);
                comp[n] = '\0';
                p += n;
                last = p[strspn(p, "/")] == '\0';
                shown_len += (size_t) snprintf(shown + shown_len, sizeof shown - shown_len, "/%s",
                                               comp);
                shown_len = MIN(shown_len, sizeof shown - 1);

                nfd = openat(fd, comp, O_PATH | O_DIRECTORY | O_CLOEXEC | (last ? O_NOFOLLOW : 0));
                if (nfd < 0 && errno == ENOENT) {
                        if (mkdirat(fd, comp, c->cfg->directory_mode & 07777) >= 0)
                                created = true;
                        else if (errno != EEXIST) {
                                r = -errno;
                                return errbuf_set(c->err, c->errlen, r,
                                            "cannot create directory '%s' for %s: %s", shown,
                                            c->addr, strerror(-r));
                        }
                        if (created) {
                                /* mkdir's mode went through the umask: set it exactly. */
                                nfd = openat(fd, comp,
                                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                                if (nfd >= 0 && fchmod(nfd, c->cfg->directory_mode & 07777) < 0) {
                                        r = -errno;
                                        safe_close(nfd);
                                        return errbuf_set(c->err, c->errlen, r,
                                                    "cannot set DirectoryMode=%04o on '%s': %s",
                                                    (unsigned) (c->cfg->directory_mode & 07777),
                                                    shown, strerror(-r));
                                }
                        } else
                                nfd = openat(fd, comp,
                                             O_PATH | O_DIRECTORY | O_CLOEXEC |
                                                     (last ? O_NOFOLLOW : 0));
                }
                if (nfd < 0) {
                        struct stat st;

                        r = -errno;
                        if ((r == -ELOOP || r == -ENOTDIR) &&
                            fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) >= 0 &&
                            S_ISLNK(st.st_mode))
                                return errbuf_set(c->err, c->errlen, -ELOOP,
                                            "'%s' is a symlink, refusing to create %s in it "
                                            "(write the real directory in the unit)",
                                            shown, c->addr);
                        if (r == -ENOTDIR)
                                return errbuf_set(c->err, c->errlen, r,
                                            "'%s' is not a directory, cannot create %s", shown,
                                            c->addr);
                        return errbuf_set(c->err, c->errlen, r, "cannot open directory '%s' for %s: %s",
                                    shown, c->addr, strerror(-r));
                }
                safe_close(fd);
                fd = nfd;
        }

        *ret_dirfd = TAKE_FD(fd);
        *ret_base = slash + 1;
        return 0;
}

static const char *file_type_name(mode_t m) {
        return S_ISREG(m) ? "a regular file"
               : S_ISDIR(m) ? "a directory"
               : S_ISLNK(m) ? "a symlink"
               : S_ISFIFO(m) ? "a FIFO"
               : S_ISCHR(m) ? "a character device"
               : S_ISBLK(m) ? "a block device"
                            : "of an unknown type";
}

/* Fills sa with a name for dirfd/base that works for connect(): through /proc/self/fd when it
 * fits (no path walk, no race), else the full path. */
static void path_in_dir(int dirfd, const char *base, const char *path, struct sockaddr_un *sa) {
        int k;

        *sa = (struct sockaddr_un) { .sun_family = AF_UNIX };
        k = snprintf(sa->sun_path, sizeof sa->sun_path, "/proc/self/fd/%d/%s", dirfd, base);
        if (k < 0 || (size_t) k >= sizeof sa->sun_path || access("/proc/self/fd", F_OK) < 0)
                snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path);
}

/* Makes base in dirfd free for our bind: absent is fine; a stale socket (connect() refused) is
 * removed; anything else is refused and left alone. */
static int clear_existing(BindCtx *c, int dirfd, const char *base, const char *path) {
        _cleanup_close_ int probe = -1;
        struct sockaddr_un sa;
        struct stat st;
        int r;

        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot check '%s': %s", path, strerror(-r));
        }
        if (!S_ISSOCK(st.st_mode))
                return errbuf_set(c->err, c->errlen, -EEXIST,
                            "'%s' exists and is not a socket (it is %s), refusing to replace it",
                            path, file_type_name(st.st_mode));

        probe = socket(AF_UNIX, c->spec->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (probe < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot check whether '%s' is stale: %s", path,
                            strerror(-r));
        }
        path_in_dir(dirfd, base, path, &sa);
        if (connect(probe, (struct sockaddr *) &sa, sizeof sa) < 0)
                r = -errno;
        else
                r = 0;

        if (r == -ECONNREFUSED) {
                /* Nobody is bound to it: a leftover from a process that is gone. */
                if (unlinkat(dirfd, base, 0) < 0 && errno != ENOENT) {
                        r = -errno;
                        return errbuf_set(c->err, c->errlen, r, "cannot remove stale socket '%s': %s",
                                    path, strerror(-r));
                }
                return 0;
        }
        if (r == 0 || r == -EAGAIN || r == -EINPROGRESS || r == -EPROTOTYPE) {
                static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
                char holder[ADDRESS_FORMAT_MAX + 128];
                bool found;

                /* EPROTOTYPE: alive, but a socket of another type. */
                found = listener_find_holder(&c->spec->addr, c->spec->socktype, holder,
                                             sizeof holder) >= 0;
                for (size_t i = 0; !found && r == -EPROTOTYPE && i < ELEMENTSOF(types); i++)
                        found = types[i] != c->spec->socktype &&
                                listener_find_holder(&c->spec->addr, types[i], holder,
                                                     sizeof holder) >= 0;
                if (found)
                        return errbuf_set(c->err, c->errlen, -EADDRINUSE,
                                    "'%s' is in use by another process — held by %s", path,
                                    holder);
                return errbuf_set(c->err, c->errlen, -EADDRINUSE,
                            "'%s' is in use by another process " HOLDER_NOT_FOUND, path);
        }
        return errbuf_set(c->err, c->errlen, r, "cannot check whether '%s' is a stale socket: %s", path,
                    strerror(-r));
}

typedef struct VfsMatch {
        bool found;
        uint64_t ino;
        uint32_t dev;
} VfsMatch;

static int vfs_on_message(const struct nlmsghdr *h, void *userdata) {
        VfsMatch *m = userdata;
        const struct unix_diag_msg *d = NLMSG_DATA(h);

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *d))
                return 0;
        FOREACH_NLATTR(a, h, sizeof *d)
                if (a->nla_type == UNIX_DIAG_VFS && NLATTR_LEN(a) >= sizeof(struct unix_diag_vfs)) {
                        const struct unix_diag_vfs *v = NLATTR_DATA(a);

                        m->found = true;
                        m->ino = v->udiag_vfs_ino;
                        m->dev = v->udiag_vfs_dev;
                }
        return 1;
}

/* Asks the kernel which file our bound socket (borrowed fd) lives at. -EOPNOTSUPP when unix_diag
 * is not available. */
static int socket_vfs(int fd, VfsMatch *ret) {
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        *ret = (VfsMatch) {};
        r = unix_diag_query((uint32_t) st.st_ino, UDIAG_SHOW_VFS, /* dump= */ false,
                            vfs_on_message, ret);
        if (r < 0)
                return r;
        return ret->found ? 0 : -EOPNOTSUPP;
}

/* After bind(): checks that dirfd/base is the file our socket was bound to (nobody swapped a
 * directory on the way), then gives it its owner and mode. Returns an O_PATH fd of the file. */
static int finish_path(BindCtx *c, int fd, int dirfd, const char *base, const char *path,
                       uid_t uid, gid_t gid, bool *ret_ours) {
        _cleanup_close_ int opath = -1;
        mode_t mode = c->cfg->socket_mode & 07777;
        char proc[64];
        struct stat st;
        VfsMatch vfs;
        int r;

        *ret_ours = false;
        opath = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (opath < 0 || fstat(opath, &st) < 0 || !S_ISSOCK(st.st_mode))
                return errbuf_set(c->err, c->errlen, -ESTALE,
                            "'%s' is not the socket just bound (was a directory on its path "
                            "replaced?), refusing to go on",
                            path);
        if (socket_vfs(fd, &vfs) >= 0) {
                if (vfs.ino != st.st_ino || major(st.st_dev) != (vfs.dev >> 20) ||
                    minor(st.st_dev) != (vfs.dev & 0xfffff))
                        return errbuf_set(c->err, c->errlen, -ESTALE,
                                    "'%s' is not the socket just bound (was a directory on its "
                                    "path replaced?), refusing to go on",
                                    path);
        } else if (st.st_uid != geteuid())
                return errbuf_set(c->err, c->errlen, -ESTALE,
                            "'%s' is not owned by us right after bind, refusing to go on", path);
        *ret_ours = true;

        if (uid != (uid_t) -1 || gid != (gid_t) -1) {
                if (fchownat(opath, "", uid, gid, AT_EMPTY_PATH) < 0) {
                        r = -errno;
                        return errbuf_set(c->err, c->errlen, r,
                                    "cannot give '%s' to SocketUser=%s SocketGroup=%s: %s%s",
                                    path, strna(c->cfg->socket_user), strna(c->cfg->socket_group),
                                    strerror(-r),
                                    r == -EPERM ? " (changing the owner needs CAP_CHOWN)" : "");
                }
        }

        /* chmod() has no "do not follow" form on Linux; through the O_PATH fd it cannot be
         * redirected. Fall back to the name (just verified) when /proc is not mounted. */
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", opath);
        if (chmod(proc, mode) < 0) {
                r = -errno;
                if (r == -ENOENT && fchmodat(dirfd, base, mode, 0) >= 0)
                        return 0;
                return errbuf_set(c->err, c->errlen, r, "cannot set SocketMode=%04o on '%s': %s",
                            (unsigned) mode, path, strerror(-r));
        }
        return 0;
}

static int bind_unix_path(BindCtx *c, const char *path, int *ret_fd) {
        _cleanup_close_ int dirfd = -1, fd = -1;
        const char *base = NULL;
        uid_t uid = (uid_t) -1;
        gid_t gid = (gid_t) -1;
        mode_t old;
        bool ours = false;
        int r;

        /* Before creating anything, so an unknown user leaves no directory behind. */
        r = resolve_owner(c, &uid, &gid);
        if (r < 0)
                return r;

        r = open_parent(c, path, &dirfd, &base);
        if (r < 0)
                return r;

        r = clear_existing(c, dirfd, base, path);
        if (r < 0)
                return r;

        fd = socket(AF_UNIX, c->spec->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot create %s socket for %s: %s", c->proto,
                            c->addr, strerror(-r));
        }
        r = apply_options(c, fd);
        if (r < 0)
                return r;

        /* The file is created with mode 0000 (umask 0777), so nobody but root can connect until
         * owner and mode are in place; a stream socket takes no connection before listen()
         * anyway. umask is per process: berthd binds from its one thread. */
        old = umask(0777);
        r = bind(fd, &c->spec->addr.sa, c->spec->addr.len) < 0 ? -errno : 0;
        umask(old);
        if (r < 0)
                return bind_failed(c, r);

        r = finish_path(c, fd, dirfd, base, path, uid, gid, &ours);
        if (r >= 0)
                r = do_listen(c, fd);
        if (r < 0) {
                if (ours)
                        (void) unlinkat(dirfd, base, 0);
                return r;
        }

        *ret_fd = TAKE_FD(fd);
        return 0;
}

int listener_bind(const BindSpec *spec, int *ret_fd, char *err, size_t errlen) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ BindCtx *c = NULL;
        char name[sizeof(spec->addr.un.sun_path) + 1];
        bool abstract = false;
        int r;

        if (err && errlen > 0)
                err[0] = '\0';
        if (!spec || !spec->unit || !ret_fd)
                return errbuf_set(err, errlen, -EINVAL, "invalid bind request");

        c = calloc(1, sizeof *c);
        if (!c)
                return errbuf_set(err, errlen, -ENOMEM, "out of memory");
        c->spec = spec;
        c->cfg = &spec->unit->socket;
        c->err = err;
        c->errlen = errlen;
        c->proto = proto_name(spec->family, spec->socktype);
        sockaddr_format(&spec->addr, c->addr, sizeof c->addr);

        if (spec->addr.sa.sa_family != spec->family ||
            (spec->family != AF_INET && spec->family != AF_INET6 && spec->family != AF_UNIX))
                return errbuf_set(err, errlen, -EAFNOSUPPORT, "cannot bind %s %s: address family %d",
                            c->proto, c->addr, spec->family);
        if (spec->socktype != SOCK_STREAM && spec->socktype != SOCK_DGRAM &&
            spec->socktype != SOCK_SEQPACKET)
                return errbuf_set(err, errlen, -EPROTONOSUPPORT, "cannot bind %s: socket type %d",
                            c->addr, spec->socktype);
        if (spec->socktype == SOCK_SEQPACKET && spec->family != AF_UNIX)
                return errbuf_set(err, errlen, -EPROTONOSUPPORT,
                            "cannot bind %s: ListenSequentialPacket= is for unix sockets only",
                            c->addr);

        if (spec->family == AF_UNIX) {
                if (!unix_name(&spec->addr, name, sizeof name, NULL, &abstract))
                        return errbuf_set(err, errlen, -EINVAL, "cannot bind an unnamed unix socket");
                if (!abstract) {
                        r = bind_unix_path(c, name, ret_fd);
                        if (r >= 0 && err && errlen > 0)
                                snprintf(err, errlen, "%s", c->warning);
                        return r;
                }
        }

        fd = socket(spec->family, spec->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                return errbuf_set(err, errlen, r, "cannot create %s socket for %s: %s%s", c->proto,
                            c->addr, strerror(-r),
                            r == -EAFNOSUPPORT ? " (IPv6 is disabled on this host)" : "");
        }

        r = apply_options(c, fd);
        if (r < 0)
                return r;

        if (bind(fd, &spec->addr.sa, spec->addr.len) < 0)
                return bind_failed(c, -errno);

        r = do_listen(c, fd);
        if (r < 0)
                return r;

        if (err && errlen > 0)
                snprintf(err, errlen, "%s", c->warning);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ---- reading back ---- */

static int get_int(int fd, int level, int name, int *ret) {
        socklen_t l = sizeof *ret;

        if (getsockopt(fd, level, name, ret, &l) < 0)
                return -errno;
        return 0;
}

static int reach_of(const SockAddr *a) {
        switch (a->sa.sa_family) {
        case AF_INET: {
                uint32_t v = ntohl(a->in.sin_addr.s_addr);

                if (v == INADDR_ANY)
                        return LISTENER_REACH_ALL;
                if ((v >> 24) == 127)
                        return LISTENER_REACH_LOOPBACK;
                return LISTENER_REACH_ONE;
        }
        case AF_INET6: {
                const struct in6_addr *x = &a->in6.sin6_addr;

                if (IN6_IS_ADDR_UNSPECIFIED(x))
                        return LISTENER_REACH_ALL;
                if (IN6_IS_ADDR_LOOPBACK(x))
                        return LISTENER_REACH_LOOPBACK;
                if (IN6_IS_ADDR_V4MAPPED(x)) {
                        if (x->s6_addr[12] == 127)
                                return LISTENER_REACH_LOOPBACK;
                        if (memcmp(&x->s6_addr[12], "\0\0\0\0", 4) == 0)
                                return LISTENER_REACH_ALL;
                }
                return LISTENER_REACH_ONE;
        }
        default:
                return LISTENER_REACH_LOCAL;
        }
}

typedef struct RqLen {
        bool found;
        bool listening;
        uint32_t rqueue, wqueue;
} RqLen;

static int rqlen_on_message(const struct nlmsghdr *h, void *userdata) {
        RqLen *q = userdata;
        const struct unix_diag_msg *d = NLMSG_DATA(h);

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *d))
                return 0;
        q->listening = d->udiag_state == TCP_LISTEN;
        FOREACH_NLATTR(a, h, sizeof *d)
                if (a->nla_type == UNIX_DIAG_RQLEN &&
                    NLATTR_LEN(a) >= sizeof(struct unix_diag_rqlen)) {
                        const struct unix_diag_rqlen *r = NLATTR_DATA(a);

                        q->found = true;
                        q->rqueue = r->udiag_rqueue;
                        q->wqueue = r->udiag_wqueue;
                }
        return 1;
}

int listener_queue(int fd, unsigned *ret_waiting, unsigned *ret_backlog) {
        int family, type, r;

        r = get_int(fd, SOL_SOCKET, SO_DOMAIN, &family);
        if (r < 0)
                return r;
        r = get_int(fd, SOL_SOCKET, SO_TYPE, &type);
        if (r < 0)
                return r;

        if (is_inet(family) && type == SOCK_STREAM) {
                struct tcp_info ti = {};
                socklen_t l = sizeof ti;

                if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) < 0)
                        return -errno;
                if (ti.tcpi_state != TCP_LISTEN)
                        return -EINVAL;
                /* For a listener the kernel reports the accept queue in these two fields. */
                if (ret_waiting)
                        *ret_waiting = ti.tcpi_unacked;
                if (ret_backlog)
                        *ret_backlog = ti.tcpi_sacked;
                return 0;
        }

        if (family == AF_UNIX && type != SOCK_DGRAM) {
                struct stat st;
                RqLen q = {};

                if (fstat(fd, &st) < 0)
                        return -errno;
                r = unix_diag_query((uint32_t) st.st_ino, UDIAG_SHOW_RQLEN, /* dump= */ false,
                                    rqlen_on_message, &q);
                if (r < 0)
                        return r;
                if (!q.found)
                        return -EOPNOTSUPP;
                if (!q.listening)
                        return -EINVAL;
                if (ret_waiting)
                        *ret_waiting = q.rqueue;
                if (ret_backlog)
                        *ret_backlog = q.wqueue;
                return 0;
        }

        return -EOPNOTSUPP;
}

int listener_read_back(int fd, ListenerInfo *ret) {
        ListenerInfo info = { .v6only = -1, .backlog = -1 };
        socklen_t l = sizeof info.addr.storage;
        unsigned backlog;
        int r;

        if (fd < 0 || !ret)
                return -EINVAL;
        if (getsockname(fd, &info.addr.sa, &l) < 0)
                return -errno;
        info.addr.len = l;

        r = get_int(fd, SOL_SOCKET, SO_DOMAIN, &info.family);
        if (r < 0)
                return r;
        r = get_int(fd, SOL_SOCKET, SO_TYPE, &info.socktype);
        if (r < 0)
                return r;
        r = get_int(fd, SOL_SOCKET, SO_PROTOCOL, &info.protocol);
        if (r < 0)
                return r;
        if (info.family == AF_INET6) {
                r = get_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &info.v6only);
                if (r < 0)
                        return r;
                info.v6only = info.v6only != 0;
        }
        info.reach = reach_of(&info.addr);
        if (listener_queue(fd, NULL, &backlog) >= 0)
                info.backlog = backlog > INT_MAX ? INT_MAX : (int) backlog;

        *ret = info;
        return 0;
}

/* ---- describing ---- */

const char *listener_reach_to_string(int reach) {
        switch (reach) {
        case LISTENER_REACH_ALL:
                return "all interfaces, reachable from other machines";
        case LISTENER_REACH_LOOPBACK:
                return "loopback only, this machine only";
        case LISTENER_REACH_ONE:
                return "one interface";
        case LISTENER_REACH_LOCAL:
                return "this machine only, by path";
        default:
                return "unknown reach";
        }
}

/* The host part to connect to, for a hint: a loopback address the socket accepts when it is a
 * wildcard, else its own address. url: brackets and %25 for IPv6 as in a URL. */
static void hint_host(const ListenerInfo *info, bool url, char *buf, size_t buflen) {
        char ip[INET6_ADDRSTRLEN] = "", scope[IF_NAMESIZE + 8] = "";

        if (info->addr.sa.sa_family == AF_INET) {
                if (info->reach == LISTENER_REACH_ALL)
                        snprintf(buf, buflen, "127.0.0.1");
                else
                        snprintf(buf, buflen, "%s",
                                 inet_ntop(AF_INET, &info->addr.in.sin_addr, ip, sizeof ip) ?: "");
                return;
        }

        const struct in6_addr *x = &info->addr.in6.sin6_addr;
        if (IN6_IS_ADDR_UNSPECIFIED(x)) {
                if (info->v6only == 1)
                        snprintf(buf, buflen, url ? "[::1]" : "::1");
                else
                        snprintf(buf, buflen, "127.0.0.1");
                return;
        }
        if (IN6_IS_ADDR_V4MAPPED(x)) {
                if (info->reach == LISTENER_REACH_ALL)
                        snprintf(buf, buflen, "127.0.0.1");
                else
                        snprintf(buf, buflen, "%s",
                                 inet_ntop(AF_INET, &x->s6_addr[12], ip, sizeof ip) ?: "");
                return;
        }
        if (!inet_ntop(AF_INET6, x, ip, sizeof ip))
                ip[0] = '\0';
        if (info->addr.in6.sin6_scope_id != 0) {
                char name[IF_NAMESIZE];

                if (if_indextoname(info->addr.in6.sin6_scope_id, name))
                        snprintf(scope, sizeof scope, "%s%s", url ? "%25" : "%", name);
                else
                        snprintf(scope, sizeof scope, "%s%" PRIu32, url ? "%25" : "%",
                                 info->addr.in6.sin6_scope_id);
        }
        snprintf(buf, buflen, url ? "[%s%s]" : "%s%s", ip, scope);
}

/* Quotes a path for a shell when it needs it. */
static void shell_quote(const char *s, char *buf, size_t buflen) {
        size_t pos = 0;

        static const char safe[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                   "0123456789/._-+@:,";

        if (s[strspn(s, safe)] == '\0') {
                snprintf(buf, buflen, "%s", s);
                return;
        }
        if (buflen < 3) {
                if (buflen > 0)
                        buf[0] = '\0';
                return;
        }
        buf[pos++] = '\'';
        for (; *s && pos + 5 < buflen; s++) {
                if (*s == '\'') {
                        memcpy(buf + pos, "'\\''", 4);
                        pos += 4;
                } else
                        buf[pos++] = *s;
        }
        buf[pos++] = '\'';
        buf[pos] = '\0';
}

const char *listener_describe(const char *unit, const ListenerInfo *info, char *buf,
                              size_t buflen) {
        char addr[ADDRESS_FORMAT_MAX], proto[128], hint[ADDRESS_FORMAT_MAX + 64] = "";
        char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 16];
        const char *reach = listener_reach_to_string((int) info->reach);
        const char *p = proto_name(info->family, info->socktype);

        if (!buf || buflen == 0)
                return buf;

        sockaddr_format(&info->addr, addr, sizeof addr);

        if (info->family == AF_INET)
                snprintf(proto, sizeof proto, "%s, IPv4", p);
        else if (info->family == AF_INET6) {
                const struct in6_addr *x = &info->addr.in6.sin6_addr;

                if (IN6_IS_ADDR_V4MAPPED(x))
                        snprintf(proto, sizeof proto, "%s, IPv4 through a mapped IPv6 address, "
                                                      "IPV6_V6ONLY=%d",
                                 p, info->v6only);
                else if (!IN6_IS_ADDR_UNSPECIFIED(x))
                        snprintf(proto, sizeof proto, "%s, IPv6, IPV6_V6ONLY=%d", p, info->v6only);
                else if (info->v6only == 0)
                        snprintf(proto, sizeof proto,
                                 "%s, dual-stack: takes IPv4 and IPv6, IPV6_V6ONLY=0", p);
                else if (info->v6only == 1)
                        snprintf(proto, sizeof proto, "%s, IPv6 only, IPV6_V6ONLY=1", p);
                else
                        snprintf(proto, sizeof proto, "%s, IPv6", p);
        } else
                snprintf(proto, sizeof proto, "%s", p);

        if (is_inet(info->family)) {
                uint16_t port = info->family == AF_INET ? ntohs(info->addr.in.sin_port)
                                                        : ntohs(info->addr.in6.sin6_port);

                if (info->socktype == SOCK_STREAM) {
                        bool tls = port == 443 || port == 8443;

                        hint_host(info, /* url= */ true, host, sizeof host);
                        snprintf(hint, sizeof hint, "curl %shttp%s://%s:%u/", tls ? "-k " : "",
                                 tls ? "s" : "", host, port);
                } else if (info->socktype == SOCK_DGRAM) {
                        hint_host(info, /* url= */ false, host, sizeof host);
                        snprintf(hint, sizeof hint, "nc -u %s %u", host, port);
                }
        } else if (info->family == AF_UNIX) {
                char name[sizeof(info->addr.un.sun_path) + 1], q[2 * sizeof name + 8];
                size_t n;
                bool abstract;

                if (unix_name(&info->addr, name, sizeof name, &n, &abstract)) {
                        if (abstract) {
                                reach = "this machine only, by abstract name";
                                if (memchr(name + 1, '\0', n - 1) == NULL) {
                                        shell_quote(name + 1, q, sizeof q);
                                        snprintf(hint, sizeof hint,
                                                 info->socktype == SOCK_STREAM
                                                         ? "socat - ABSTRACT-CONNECT:%s"
                                                         : info->socktype == SOCK_DGRAM
                                                                   ? "socat - ABSTRACT-SENDTO:%s"
                                                                   : "socat - "
                                                                     "ABSTRACT-CONNECT:%s",
                                                 q);
                                }
                        } else {
                                shell_quote(name, q, sizeof q);
                                snprintf(hint, sizeof hint,
                                         info->socktype == SOCK_STREAM  ? "nc -U %s"
                                         : info->socktype == SOCK_DGRAM ? "nc -uU %s"
                                                                        : "socat - UNIX-CONNECT:%s",
                                         q);
                        }
                }
        }

        snprintf(buf, buflen, "%s%slistening on %s (%s) — %s%s%s", unit ?: "", unit ? ": " : "",
                 addr, proto, reach, hint[0] ? " — try: " : "", hint);
        return buf;
}

/* ---- the runtime object ---- */

static const char *const watch_names[_LISTENER_WATCH_MAX] = {
        [LISTENER_IDLE] = "idle",
        [LISTENER_WATCHING] = "watching",
        [LISTENER_PAUSED] = "paused",
};

const char *listener_watch_to_string(ListenerWatch w) {
        return w >= 0 && w < _LISTENER_WATCH_MAX ? watch_names[w] : NULL;
}

int listener_new(Listener **ret, const BindSpec *spec, const char *fdname) {
        Listener *l = calloc(1, sizeof *l);

        if (!l)
                return -ENOMEM;
        l->spec = *spec;
        l->fd = -1;
        l->fdname = strdup(fdname);
        if (!l->fdname)
                return listener_free(l), -ENOMEM;
        *ret = l;
        return 0;
}

Listener *listener_free(Listener *l) {
        if (!l)
                return NULL;
        sd_event_source_disable_unref(l->io_source);
        sd_event_source_disable_unref(l->pause_source);
        safe_close(l->fd);
        free(l->fdname);
        free(l);
        return NULL;
}

int listener_open(Listener *l, char *err, size_t errlen) {
        int fd, r;

        r = listener_bind(&l->spec, &fd, err, errlen);
        if (r < 0)
                return r;
        l->fd = fd;
        l->have_info = listener_read_back(fd, &l->info) >= 0;
        return 0;
}

void listener_adopt(Listener *l, Listener *old) {
        l->fd = TAKE_FD(old->fd);
        l->info = old->info;
        l->have_info = old->have_info;
}

const char *listener_describe_bound(const Listener *l, char *buf, size_t buflen) {
        if (!l->have_info) {
                char a[ADDRESS_FORMAT_MAX];
                snprintf(buf, buflen, "%s: listening on %s", l->spec.unit->name,
                         sockaddr_format(&l->spec.addr, a, sizeof a));
                return buf;
        }
        return listener_describe(l->spec.unit->name, &l->info, buf, buflen);
}

static bool socket_options_equal(const SocketConfig *a, const SocketConfig *b) {
        return a->backlog == b->backlog && a->reuse_port == b->reuse_port &&
               a->free_bind == b->free_bind && a->transparent == b->transparent &&
               a->no_delay == b->no_delay && a->keep_alive == b->keep_alive &&
               a->pass_credentials == b->pass_credentials &&
               a->keep_alive_time_usec == b->keep_alive_time_usec &&
               a->keep_alive_interval_usec == b->keep_alive_interval_usec &&
               a->keep_alive_probes == b->keep_alive_probes &&
               a->defer_accept_usec == b->defer_accept_usec &&
               a->receive_buffer == b->receive_buffer && a->send_buffer == b->send_buffer &&
               streq_ptr(a->bind_to_device, b->bind_to_device) &&
               streq_ptr(a->socket_user, b->socket_user) &&
               streq_ptr(a->socket_group, b->socket_group) && a->socket_mode == b->socket_mode &&
               a->directory_mode == b->directory_mode;
}

bool listener_same(const Listener *l, const BindSpec *s) {
        return streq(l->spec.unit->name, s->unit->name) && l->spec.family == s->family &&
               l->spec.socktype == s->socktype && l->spec.v6only == s->v6only &&
               sockaddr_equal(&l->spec.addr, &s->addr) &&
               socket_options_equal(&l->spec.unit->socket, &s->unit->socket);
}

static usec_t now_monotonic(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

/* The one place the io source is switched: on while WATCHING. */
static void listener_set_state(Listener *l, ListenerWatch w) {
        l->watch = w;
        if (l->io_source)
                (void) sd_event_source_set_enabled(l->io_source,
                                                   w == LISTENER_WATCHING ? SD_EVENT_ON :
                                                                            SD_EVENT_OFF);
}

static int listener_on_pause_end(sd_event_source *es, uint64_t usec, void *userdata) {
        Listener *l = userdata;

        l->trigger_count = 0;
        listener_set_state(l, l->want_watch ? LISTENER_WATCHING : LISTENER_IDLE);
        return 0;
}

/* TriggerLimitBurst= within TriggerLimitIntervalSec=: past it, the socket pauses for the rest
 * of the interval and recovers by itself (systemd would leave it dead). */
static bool listener_trigger_limited(Listener *l) {
        const SocketConfig *sc = &l->spec.unit->socket;
        usec_t now = now_monotonic(), interval = sc->trigger_limit_interval_usec;
        unsigned burst = sc->trigger_limit_burst;

        if (now - l->trigger_window_start >= interval) {
                l->trigger_window_start = now;
                l->trigger_count = 0;
        }
        if (burst == 0 || ++l->trigger_count <= burst)
                return false;

        usec_t left = interval - (now - l->trigger_window_start);
        log_warning("%s: triggered %u times within %llums (TriggerLimitBurst=, "
                    "TriggerLimitIntervalSec=): pausing for %llums; connections wait",
                    l->spec.unit->name, burst, (unsigned long long) (interval / USEC_PER_MSEC),
                    (unsigned long long) (left / USEC_PER_MSEC));
        int r = l->pause_source ? sd_event_source_set_time_relative(l->pause_source, left) :
                                  sd_event_add_time_relative(l->event, &l->pause_source,
                                                             CLOCK_MONOTONIC, left,
                                                             10 * USEC_PER_MSEC,
                                                             listener_on_pause_end, l);
        if (r >= 0)
                r = sd_event_source_set_enabled(l->pause_source, SD_EVENT_ONESHOT);
        if (r < 0) {
                log_warning_errno(r, "%s: cannot arm the trigger-limit pause: %m; not pausing",
                                  l->spec.unit->name);
                return false;
        }
        listener_set_state(l, LISTENER_PAUSED);
        return true;
}

static int listener_on_io(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Listener *l = userdata;

        if (listener_trigger_limited(l))
                return 0;
        listener_set_state(l, LISTENER_IDLE);
        if (l->on_trigger)
                l->on_trigger(l, l->owner);
        return 0;
}

void listener_set_owner(Listener *l, sd_event *event, ListenerTriggerFunc f, void *owner) {
        l->event = event;
        l->on_trigger = f;
        l->owner = owner;
}

int listener_set_watch(Listener *l, bool on) {
        const SocketConfig *sc = &l->spec.unit->socket;
        int r;

        l->want_watch = on;
        if (l->watch == LISTENER_PAUSED)
                return 0; /* the pause's end decides */
        if (on && !l->io_source) {
                if (!l->event || l->fd < 0)
                        return 0;
                r = sd_event_add_io(l->event, &l->io_source, l->fd, EPOLLIN, listener_on_io, l);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot watch its socket fd %d: %m",
                                               l->spec.unit->name, l->fd);
                if (sc->poll_limit_interval_usec > 0 && sc->poll_limit_burst > 0)
                        (void) sd_event_source_set_ratelimit(l->io_source,
                                                             sc->poll_limit_interval_usec,
                                                             sc->poll_limit_burst);
        }
        listener_set_state(l, on ? LISTENER_WATCHING : LISTENER_IDLE);
        return 0;
}
