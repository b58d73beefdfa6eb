/* sock-diag: asks the kernel about sockets through sock_diag netlink (inet_diag, unix_diag)
 * and, where netlink says too little, through /proc. Every request is one netlink round trip
 * with a receive timeout, and every scan is bounded (messages, candidates, processes, fds per
 * process), so nothing a user controls makes it unbounded. Nothing here logs. */

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/address.h"
#include "common/errbuf.h"
#include "common/macro.h"
#include "common/proc-util.h"
#include "common/socket-util.h"
#include "daemon/sock-diag.h"

/* TCP_BOUND_INACTIVE (Linux 6.8+): bound but not listening; older kernels ignore the bit. */
#define DIAG_TCP_BOUND_INACTIVE 13

/* Bounds on the holder search: nothing user-controlled may make it unbounded. */
#define HOLDER_MAX_PIDS 65536
#define HOLDER_MAX_FDS_PER_PID 65536
#define HOLDER_MAX_CANDIDATES 256
#define DIAG_MAX_MESSAGES (1U << 20)
#define DIAG_BUFFER_SIZE (64U * 1024U)

/* unix_diag reports the kernel's dev_t: 12 bits major, 20 bits minor. */
static dev_t dev_of_kernel(uint32_t kdev) {
        return makedev(kdev >> 20, kdev & 0xfffff);
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

/* Dumps every inet socket of family and protocol in states (a bit per TCP state) to f. */
static int inet_diag_dump(int family, int protocol, uint32_t states, DiagFunc f, void *userdata) {
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
                        .sdiag_family = (uint8_t) family,
                        .sdiag_protocol = (uint8_t) protocol,
                        .idiag_states = states,
                },
        };

        return diag_query(&req, sizeof req, /* dump= */ true, f, userdata);
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
                int k = inet_diag_dump(families[i], m.protocol,
                                       m.protocol == IPPROTO_UDP ?
                                               ~0U :
                                               (1U << TCP_LISTEN) | (1U << DIAG_TCP_BOUND_INACTIVE),
                                       inet_diag_on_message, &m);
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

                        if (v->udiag_vfs_ino == m->ino &&
                            dev_of_kernel(v->udiag_vfs_dev) == m->dev) {
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

        if (!sockaddr_unix_name(addr, name, sizeof name, &n, &abstract))
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

int sock_diag_find_holder(const SockAddr *addr, int socktype, char *buf, size_t buflen) {
        _cleanup_free_ Candidates *cands = NULL;
        char a[ADDRESS_FORMAT_MAX], comm[PROC_COMM_MAX];
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
        (void) proc_read_comm(pid, comm, sizeof comm);
        sockaddr_format(&c->addr, a, sizeof a);
        (void) errbuf_set(buf, buflen, 0, "pid %d (%s), %s %s%s", (int) pid, comm[0] ? comm : "?",
                    c->listening ? "listening on" : "bound to", a,
                    c->dual ? " (dual-stack: takes IPv4 too)" : "");
        return 0;
}

/* ---- the accept queue ---- */

typedef struct RqLen {
        bool found;
        bool listening;
        uint32_t rqueue, wqueue;
} RqLen;

/* ---- every TCP listener's queue ---- */

typedef struct TcpQueue {
        uint8_t family;
        uint16_t port;    /* network order */
        uint8_t addr[16]; /* 4 bytes for AF_INET */
        unsigned waiting, backlog;
        unsigned count;   /* listeners with this address */
} TcpQueue;

struct TcpQueues {
        TcpQueue *items; /* sorted by tcp_queue_cmp() once dumped */
        size_t n, allocated;
        bool oom;
};

static int tcp_queue_cmp(const void *a, const void *b) {
        const TcpQueue *x = a, *y = b;
        if (x->family != y->family)
                return x->family < y->family ? -1 : 1;
        if (x->port != y->port)
                return x->port < y->port ? -1 : 1;
        return memcmp(x->addr, y->addr, sizeof x->addr);
}

static int tcp_queue_on_message(const struct nlmsghdr *h, void *userdata) {
        TcpQueues *q = userdata;
        const struct inet_diag_msg *d = NLMSG_DATA(h);

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *d) || d->idiag_state != TCP_LISTEN ||
            (d->idiag_family != AF_INET && d->idiag_family != AF_INET6))
                return 0;
        if (ARRAY_RESERVE(q->items, q->allocated, q->n + 1) < 0) {
                q->oom = true;
                return 0;
        }
        TcpQueue *t = &q->items[q->n++];
        /* For a listener the kernel reports the accept queue and the backlog here. */
        *t = (TcpQueue) { .family = d->idiag_family, .port = d->id.idiag_sport,
                          .waiting = d->idiag_rqueue, .backlog = d->idiag_wqueue, .count = 1 };
        memcpy(t->addr, d->id.idiag_src, d->idiag_family == AF_INET ? 4 : 16);
        return 0;
}

int tcp_queues_dump(TcpQueues **ret) {
        TcpQueues *q = calloc(1, sizeof *q);
        int r = 0;

        if (!q)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < 2; i++)
                r = inet_diag_dump(i == 0 ? AF_INET : AF_INET6, IPPROTO_TCP, 1U << TCP_LISTEN,
                                   tcp_queue_on_message, q);
        if (r >= 0 && q->oom)
                r = -ENOMEM;
        if (r < 0) {
                tcp_queues_free(q);
                return r;
        }
        qsort(q->items, q->n, sizeof *q->items, tcp_queue_cmp);
        /* One entry per address, counting the listeners that share it. */
        size_t k = 0;
        for (size_t i = 0; i < q->n; i++) {
                if (k > 0 && tcp_queue_cmp(&q->items[k - 1], &q->items[i]) == 0) {
                        q->items[k - 1].count++;
                        continue;
                }
                q->items[k++] = q->items[i];
        }
        q->n = k;
        *ret = q;
        return 0;
}

int tcp_queues_find(const TcpQueues *q, const SockAddr *addr, unsigned *ret_waiting,
                    unsigned *ret_backlog) {
        TcpQueue key = { .family = (uint8_t) addr->sa.sa_family };

        if (addr->sa.sa_family == AF_INET) {
                key.port = addr->in.sin_port;
                memcpy(key.addr, &addr->in.sin_addr, 4);
        } else if (addr->sa.sa_family == AF_INET6) {
                key.port = addr->in6.sin6_port;
                memcpy(key.addr, &addr->in6.sin6_addr, 16);
        } else
                return -ENOENT;
        const TcpQueue *t = q->n > 0 ? bsearch(&key, q->items, q->n, sizeof *q->items,
                                               tcp_queue_cmp) : NULL;
        if (!t)
                return -ENOENT;
        if (t->count > 1)
                return -ENOTUNIQ;
        *ret_waiting = t->waiting;
        *ret_backlog = t->backlog;
        return 0;
}

TcpQueues *tcp_queues_free(TcpQueues *q) {
        if (q) {
                free(q->items);
                free(q);
        }
        return NULL;
}

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

typedef struct Unaccepted {
        int family;
        uint16_t port;      /* network order */
        uint8_t addr[16];   /* the listener's address; all zero for a wildcard */
        bool wildcard;
        uint64_t *out;
        size_t n, max;
} Unaccepted;

static int unaccepted_on_message(const struct nlmsghdr *h, void *userdata) {
        Unaccepted *u = userdata;
        const struct inet_diag_msg *d = NLMSG_DATA(h);
        size_t alen = u->family == AF_INET ? 4 : 16;
        uint64_t fp = 1469598103934665603ULL; /* FNV-1a over the remote address and port */

        if (h->nlmsg_len < NLMSG_LENGTH(sizeof *d))
                return 0;
        if (d->idiag_family != u->family || d->id.idiag_sport != u->port || d->idiag_inode != 0)
                return 0;
        if (!u->wildcard && memcmp(d->id.idiag_src, u->addr, alen) != 0)
                return 0;
        if (u->n >= u->max)
                return 0;
        for (size_t i = 0; i < alen; i++)
                fp = (fp ^ ((const uint8_t *) d->id.idiag_dst)[i]) * 1099511628211ULL;
        fp = (fp ^ d->id.idiag_dport) * 1099511628211ULL;
        u->out[u->n++] = fp;
        return 0;
}

int sock_diag_unaccepted(int fd, uint64_t *ret, size_t max) {
        SockAddr sa = {};
        socklen_t len = sizeof sa;
        Unaccepted u = { .out = ret, .max = max };
        int r;

        if (getsockname(fd, &sa.sa, &len) < 0)
                return -errno;
        u.family = sa.sa.sa_family;
        if (u.family == AF_INET) {
                u.port = sa.in.sin_port;
                memcpy(u.addr, &sa.in.sin_addr, 4);
                u.wildcard = sa.in.sin_addr.s_addr == htonl(INADDR_ANY);
        } else if (u.family == AF_INET6) {
                u.port = sa.in6.sin6_port;
                memcpy(u.addr, &sa.in6.sin6_addr, 16);
                u.wildcard = IN6_IS_ADDR_UNSPECIFIED(&sa.in6.sin6_addr);
        } else
                return -EOPNOTSUPP;

        /* Queued: established, or closed by the client meanwhile. */
        r = inet_diag_dump(u.family, IPPROTO_TCP, (1U << TCP_ESTABLISHED) | (1U << TCP_CLOSE_WAIT),
                           unaccepted_on_message, &u);
        return r < 0 ? r : (int) u.n;
}

int sock_diag_queue(int fd, unsigned *ret_waiting, unsigned *ret_backlog) {
        int family, type, r;

        r = getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &family);
        if (r < 0)
                return r;
        r = getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &type);
        if (r < 0)
                return r;
        return sock_diag_queue_of(fd, family, type, ret_waiting, ret_backlog);
}

int sock_diag_queue_of(int fd, int family, int type, unsigned *ret_waiting,
                       unsigned *ret_backlog) {
        int r;

        if ((family == AF_INET || family == AF_INET6) && type == SOCK_STREAM) {
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


/* ---- the file of a bound unix socket ---- */

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

int sock_diag_unix_file(int fd, dev_t *ret_dev, ino_t *ret_ino) {
        VfsMatch m = {};
        struct stat st;
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        r = unix_diag_query((uint32_t) st.st_ino, UDIAG_SHOW_VFS, /* dump= */ false,
                            vfs_on_message, &m);
        if (r < 0)
                return r;
        if (!m.found)
                return -EOPNOTSUPP;
        if (ret_dev)
                *ret_dev = dev_of_kernel(m.dev);
        if (ret_ino)
                *ret_ino = (ino_t) m.ino;
        return 0;
}
