/* listener-bind: the path from a BindSpec to a bound, listening fd (SPEC §3), for the listener
 * module. It creates the socket, sets every option of the unit before bind() (IPV6_V6ONLY
 * always explicitly, so the sysctl never decides), creates unix socket paths safely (no
 * symlink is ever followed for what we create or replace, a path is removed only when it is a
 * stale socket, mode and owner are in place before anyone can connect), and explains
 * failures: which step, which address, which errno, and for EADDRINUSE which process holds
 * the port (asked of sock-diag). It also opens what a socket unit holds that is not an inet or
 * unix socket, as systemd's socket.c does: FIFOs (made with the same care as unix paths),
 * special files, POSIX message queues and netlink sockets; and it makes the Symlinks= of a
 * unit. Nothing here logs: messages go back to the caller as text. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <mqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/address.h"
#include "common/errbuf.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/proc-util.h"
#include "common/socket-util.h"
#include "common/strv.h"
#include "common/time-util.h"
#include "common/user-util.h"
#include "daemon/fd-reserve.h"
#include "daemon/ip-filter.h"
#include "daemon/listener.h"
#include "daemon/sock-diag.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif
#ifndef IPV6_TRANSPARENT
#define IPV6_TRANSPARENT 75
#endif
#define HOLDER_NOT_FOUND                                                                           \
        "(the holder could not be found: it may be in another network namespace or owned by "     \
        "another user)"


/* ---- binding ---- */

typedef struct BindCtx {
        const BindSpec *spec;
        SockAddr sa;              /* its socket address (bind_spec_addr()); AF_UNSPEC: none */
        const SocketOptions *cfg; /* its unit's (socket_config_options()) */
        const char *proto;
        char addr[BIND_SPEC_NAME_MAX];
        char *err;
        size_t errlen;
        /* Non-fatal notes for the caller, returned in err on success. */
        char warning[LISTENER_ERROR_MAX];
} BindCtx;

/* Adds a non-fatal note (each ends in ", ignoring") to what the caller gets back. */
_printf_(2, 3) static void add_warning(BindCtx *c, const char *fmt, ...) {
        size_t n = strlen(c->warning);
        va_list ap;

        if (n > 0 && n + 2 < sizeof c->warning) {
                memcpy(c->warning + n, "; ", 3);
                n += 2;
        }
        va_start(ap, fmt);
        (void) vsnprintf(c->warning + n, sizeof c->warning - n, fmt, ap);
        va_end(ap);
}

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
        add_warning(c, "%s=%" PRIu64 " on %s %s: the kernel capped the buffer at %d bytes (%s); "
                    "raise %s or give berthd CAP_NET_ADMIN to exceed it, ignoring",
                    key, size, c->proto, c->addr, got / 2, sysctl, sysctl);
        return 0;
}

/* Transparent=yes: IP_TRANSPARENT or IPV6_TRANSPARENT. */
static int set_transparent(BindCtx *c, int fd, bool v6) {
        int one = 1, r;

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
        return 0;
}

/* BindToDevice=: SO_BINDTODEVICE, with the interface name checked first. */
static int set_bind_to_device(BindCtx *c, int fd) {
        const char *dev = c->cfg->bind_to_device;
        int r;

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
        return 0;
}

/* IPAddressAllow=, IPAddressDeny=: the compiled filter, attached before bind() so that no
 * packet arrives unfiltered, then locked (SO_LOCK_FILTER) so that the service the socket is
 * passed to cannot detach or replace it. Connections accepted from the socket inherit it. */
static int attach_ip_filter(BindCtx *c, int fd) {
        const SocketOptions *cfg = c->cfg;
        _cleanup_free_ struct sock_filter *prog = NULL;
        struct sock_fprog fprog;
        size_t n;
        int r;

        r = ip_filter_compile(&cfg->ip_address_allow, &cfg->ip_address_deny, &prog, &n);
        if (r < 0)
                return errbuf_set(c->err, c->errlen, r,
                                  "cannot compile the IPAddressAllow=/IPAddressDeny= filter for "
                                  "%s %s: %s", c->proto, c->addr, strerror(-r));
        fprog = (struct sock_fprog) { .len = (unsigned short) n, .filter = prog };
        if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog) < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r,
                                  "cannot attach the IPAddressAllow=/IPAddressDeny= filter "
                                  "(SO_ATTACH_FILTER) to %s %s: %s", c->proto, c->addr,
                                  strerror(-r));
        }
        return set_int(c, fd, SOL_SOCKET, SO_LOCK_FILTER, 1,
                       "SO_LOCK_FILTER (for IPAddressAllow=/IPAddressDeny=)");
}

/* The TCP options: keep-alive, TCP_NODELAY, TCP_DEFER_ACCEPT. */
static int apply_tcp_options(BindCtx *c, int fd) {
        const SocketOptions *cfg = c->cfg;
        char what[128];
        int r;

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

static int apply_options(BindCtx *c, int fd) {
        const BindSpec *s = c->spec;
        const SocketOptions *cfg = c->cfg;
        bool inet = socket_family_is_inet(s->family), v6 = s->family == AF_INET6;
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
                r = set_transparent(c, fd, v6);
                if (r < 0)
                        return r;
        }

        if (inet && cfg->bind_to_device && cfg->bind_to_device[0]) {
                r = set_bind_to_device(c, fd);
                if (r < 0)
                        return r;
        }

        if (inet && socket_config_has_ip_filter(&c->spec->unit->socket)) {
                r = attach_ip_filter(c, fd);
                if (r < 0)
                        return r;
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

        if ((s->family == AF_UNIX || s->family == AF_NETLINK) && cfg->pass_credentials) {
                r = set_int(c, fd, SOL_SOCKET, SO_PASSCRED, 1,
                            "PassCredentials=yes (SO_PASSCRED)");
                if (r < 0)
                        return r;
        }

        return tcp ? apply_tcp_options(c, fd) : 0;
}

/* Without Backlog=: as many as the kernel allows. listen() caps the value at the network
 * namespace's net.core.somaxconn as it is then (systemd passes INT_MAX too), which spares a
 * read of /proc per socket. */
static int backlog_of(const SocketConfig *cfg) {
        return cfg->backlog >= 0 ? cfg->backlog : INT_MAX;
}

static int do_listen(BindCtx *c, int fd) {
        int backlog, r;

        if (c->spec->socktype == SOCK_DGRAM)
                return 0;
        backlog = backlog_of(&c->spec->unit->socket);
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
                if (sock_diag_find_holder(&c->sa, c->spec->socktype, holder,
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

        if (r == -EADDRNOTAVAIL && socket_family_is_inet(c->spec->family))
                hint = " — no interface of this host has that address (FreeBind=yes binds it "
                       "before it appears)";
        else if (r == -EACCES && socket_family_is_inet(c->spec->family) && port > 0 && port < 1024)
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
 * mkdir is refused; the final parent may never be a symlink. what names the node in messages
 * (a socket, a FIFO, a symlink). On success *ret_base points into path. */
static int open_parent(BindCtx *c, const char *path, const char *what, int *ret_dirfd,
                       const char **ret_base) {
        _cleanup_close_ int fd = -1;
        char dir[PATH_MAX], shown[PATH_MAX];
        const char *slash = strrchr(path, '/'), *p;
        size_t dirlen, shown_len = 0;

        if (path[0] != '/' || !slash || strlen(path) >= sizeof dir)
                return errbuf_set(c->err, c->errlen, -EINVAL,
                            "'%s' is not an absolute path", path);
        if (slash[1] == '\0')
                return errbuf_set(c->err, c->errlen, -EINVAL,
                            "'%s' names a directory, not a file for %s", path, what);
        dirlen = (size_t) (slash - path);
        memcpy(dir, path, dirlen);
        dir[dirlen] = '\0';
        shown[0] = '\0';

        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errbuf_set(c->err, c->errlen, -errno, "cannot open '/': %s", strerror(errno));

        p = dir;
        for (;;) {
                char comp[NAME_MAX + 1];
                size_t n;
                bool last, created = false;
                int nfd, r;

                p += strspn(p, "/");
                if (!*p)
                        break;
                n = strcspn(p, "/");
                if (n >= sizeof comp)
                        return errbuf_set(c->err, c->errlen, -ENAMETOOLONG,
                                          "'%s' has a component longer than %d bytes", path,
                                          NAME_MAX);
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
                                            what, strerror(-r));
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
                                            shown, what);
                        if (r == -ENOTDIR)
                                return errbuf_set(c->err, c->errlen, r,
                                            "'%s' is not a directory, cannot create %s", shown,
                                            what);
                        return errbuf_set(c->err, c->errlen, r, "cannot open directory '%s' for %s: %s",
                                    shown, what, strerror(-r));
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
                found = sock_diag_find_holder(&c->sa, c->spec->socktype, holder,
                                             sizeof holder) >= 0;
                for (size_t i = 0; !found && r == -EPROTOTYPE && i < ELEMENTSOF(types); i++)
                        found = types[i] != c->spec->socktype &&
                                sock_diag_find_holder(&c->sa, types[i], holder,
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

/* A chown() of path to SocketUser=/SocketGroup= failed with r. */
static int owner_failed(BindCtx *c, const char *path, int r) {
        return errbuf_set(c->err, c->errlen, r,
                          "cannot give '%s' to SocketUser=%s SocketGroup=%s: %s%s", path,
                          strna(c->cfg->socket_user), strna(c->cfg->socket_group), strerror(-r),
                          r == -EPERM ? " (changing the owner needs CAP_CHOWN)" : "");
}

/* After bind(): checks that dirfd/base is the file our socket (borrowed fd) was bound to (nobody
 * swapped a directory on the way), then gives it its owner and mode. *ret_ours says whether the
 * file was found to be ours, so that the caller may remove it on failure. Returns 0 or a
 * negative errno with the message in c->err. */
static int finish_path(BindCtx *c, int fd, int dirfd, const char *base, const char *path,
                       uid_t uid, gid_t gid, bool *ret_ours) {
        _cleanup_close_ int opath = -1;
        mode_t mode = c->cfg->socket_mode & 07777;
        char proc[64];
        struct stat st;
        dev_t vfs_dev;
        ino_t vfs_ino;
        int r;

        *ret_ours = false;
        opath = openat(dirfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (opath < 0 && IN_SET(errno, EMFILE, ENFILE, ENOMEM)) {
                /* Out of fds, not a swapped path: say so (fd_reserve_explain() adds which
                 * limit). */
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot open '%s' to check it after "
                                  "bind: %s", path, strerror(-r));
        }
        if (opath < 0 || fstat(opath, &st) < 0 || !S_ISSOCK(st.st_mode))
                return errbuf_set(c->err, c->errlen, -ESTALE,
                            "'%s' is not the socket just bound (was a directory on its path "
                            "replaced?), refusing to go on",
                            path);
        if (sock_diag_unix_file(fd, &vfs_dev, &vfs_ino) >= 0) {
                if (vfs_ino != st.st_ino || vfs_dev != st.st_dev)
                        return errbuf_set(c->err, c->errlen, -ESTALE,
                                    "'%s' is not the socket just bound (was a directory on its "
                                    "path replaced?), refusing to go on",
                                    path);
        } else if (st.st_uid != geteuid())
                return errbuf_set(c->err, c->errlen, -ESTALE,
                            "'%s' is not owned by us right after bind, refusing to go on", path);
        *ret_ours = true;

        if (uid != (uid_t) -1 || gid != (gid_t) -1) {
                if (fchownat(opath, "", uid, gid, AT_EMPTY_PATH) < 0)
                        return owner_failed(c, path, -errno);
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

        r = open_parent(c, path, c->addr, &dirfd, &base);
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
        r = bind(fd, &c->sa.sa, c->sa.len) < 0 ? -errno : 0;
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

/* ---- what is not an inet or unix socket ---- */

/* A FIFO or message queue that berthd did not create now is used only when it is berthd's or
 * SocketUser='s: systemd refuses one that another user made. */
static int check_owner(BindCtx *c, const struct stat *st, uid_t uid) {
        if (st->st_uid == geteuid() || (uid != (uid_t) -1 && st->st_uid == uid))
                return 0;
        return errbuf_set(c->err, c->errlen, -EPERM,
                          "%s %s exists and belongs to uid %u, neither berthd's nor "
                          "SocketUser=, refusing to use it",
                          c->proto, c->addr, (unsigned) st->st_uid);
}

/* Gives fd (borrowed: a FIFO or message queue) SocketUser=/SocketGroup= (uid, gid; -1 to keep)
 * and SocketMode=. */
static int set_owner_mode(BindCtx *c, int fd, uid_t uid, gid_t gid, mode_t mode) {
        int r;

        if ((uid != (uid_t) -1 || gid != (gid_t) -1) && fchown(fd, uid, gid) < 0)
                return owner_failed(c, c->addr, -errno);
        if (fchmod(fd, mode) < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot set SocketMode=%04o on %s %s: %s",
                                  (unsigned) mode, c->proto, c->addr, strerror(-r));
        }
        return 0;
}

/* ListenFIFO=: parents made with DirectoryMode=, the FIFO made (or an existing one reused, never
 * anything else at the path), opened read-write so that it never sees end-of-file, owner and
 * mode applied. It is made with mode 0600 and given SocketMode= once its owner is in place, so
 * that nobody opens it in between (systemd makes it with SocketMode= at once). */
static int open_fifo(BindCtx *c, int *ret_fd) {
        _cleanup_close_ int dirfd = -1, fd = -1;
        const char *path = bind_spec_path(c->spec), *base = NULL;
        uid_t uid = (uid_t) -1;
        gid_t gid = (gid_t) -1;
        struct stat st, opened;
        bool created;
        mode_t old;
        int r;

        r = resolve_owner(c, &uid, &gid);
        if (r >= 0)
                r = open_parent(c, path, c->addr, &dirfd, &base);
        if (r < 0)
                return r;

        old = umask(0077);
        created = mkfifoat(dirfd, base, 0600) >= 0;
        r = created || errno == EEXIST ? 0 : -errno;
        umask(old);
        if (r < 0)
                return errbuf_set(c->err, c->errlen, r, "cannot create FIFO %s: %s", path,
                                  strerror(-r));
        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot check FIFO %s: %s", path,
                                  strerror(-r));
        }
        if (!S_ISFIFO(st.st_mode))
                return errbuf_set(c->err, c->errlen, -EEXIST,
                                  "'%s' exists and is not a FIFO (it is %s), refusing to replace "
                                  "it", path, file_type_name(st.st_mode));
        if (!created) {
                r = check_owner(c, &st, uid);
                if (r < 0)
                        return r;
        }

        fd = openat(dirfd, base, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &opened) < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot open FIFO %s: %s", path,
                                  strerror(-r));
        }
        if (opened.st_dev != st.st_dev || opened.st_ino != st.st_ino)
                return errbuf_set(c->err, c->errlen, -ESTALE,
                                  "FIFO %s was replaced while berthd opened it, refusing to go on",
                                  path);
        r = set_owner_mode(c, fd, uid, gid, c->cfg->socket_mode & 07777);
        if (r < 0) {
                if (created)
                        (void) unlinkat(dirfd, base, 0);
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ListenSpecial=: an existing character device or file (in /proc or /sys, say), opened as
 * systemd opens it: read-only unless Writable=yes, and never through a symlink. */
static int open_special(BindCtx *c, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        const char *path = bind_spec_path(c->spec);
        struct stat st;
        int r;

        fd = open(path, (c->cfg->writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
                                O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT)
                        return errbuf_set(c->err, c->errlen, r,
                                          "cannot open special file %s: it does not exist "
                                          "(ListenSpecial= opens a file, it creates none)", path);
                if (r == -ELOOP)
                        return errbuf_set(c->err, c->errlen, r,
                                          "special file %s is a symlink, refusing to follow it "
                                          "(write the real path in the unit)", path);
                return errbuf_set(c->err, c->errlen, r, "cannot open special file %s %s: %s",
                                  path, c->cfg->writable ? "read-write" : "read-only",
                                  strerror(-r));
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot check special file %s: %s", path,
                                  strerror(-r));
        }
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
                return errbuf_set(c->err, c->errlen, -EEXIST,
                                  "special file %s is %s: ListenSpecial= opens character devices "
                                  "and files such as those in /proc and /sys%s",
                                  path, file_type_name(st.st_mode),
                                  S_ISFIFO(st.st_mode) ? " (a FIFO wants ListenFIFO=)" : "");
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ListenMessageQueue=: a POSIX message queue, made with SocketMode= and, when both are set,
 * MessageQueueMaxMessages= and MessageQueueMessageSize= (an existing queue keeps its own).
 * Opened read-only, as systemd opens it: the service receives. */
static int open_mqueue(BindCtx *c, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        const char *name = bind_spec_path(c->spec);
        const int flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC;
        struct mq_attr attr = {
                .mq_maxmsg = c->cfg->mq_max_messages,
                .mq_msgsize = c->cfg->mq_message_size,
        };
        bool with_attr = attr.mq_maxmsg > 0 && attr.mq_msgsize > 0, created = true;
        struct stat st;
        mode_t old;
        int r;

        /* Made with mode 0600 and given SocketMode= after, as a FIFO is. */
        old = umask(0077);
        fd = mq_open(name, flags | O_CREAT | O_EXCL, 0600, with_attr ? &attr : NULL);
        umask(old);
        if (fd < 0 && errno == EEXIST) {
                created = false;
                fd = mq_open(name, flags);
        }
        if (fd < 0) {
                r = -errno;
                if (r == -EINVAL && with_attr)
                        return errbuf_set(c->err, c->errlen, r,
                                          "cannot create message queue %s with "
                                          "MessageQueueMaxMessages=%u and "
                                          "MessageQueueMessageSize=%u: more than the kernel "
                                          "allows (fs.mqueue.msg_max and "
                                          "fs.mqueue.msgsize_max without CAP_SYS_RESOURCE)",
                                          name, c->cfg->mq_max_messages,
                                          c->cfg->mq_message_size);
                if (r == -ENOSYS)
                        return errbuf_set(c->err, c->errlen, r,
                                          "cannot create message queue %s: this kernel has no "
                                          "POSIX message queues", name);
                return errbuf_set(c->err, c->errlen, r, "cannot open message queue %s: %s%s",
                                  name, strerror(-r),
                                  r == -ENOSPC || r == -EMFILE ? " (fs.mqueue.queues_max, or "
                                                                 "RLIMIT_MSGQUEUE)" : "");
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot check message queue %s: %s",
                                  name, strerror(-r));
        }
        if (!created) {
                r = check_owner(c, &st, (uid_t) -1);
                if (r < 0)
                        return r;
        }
        /* SocketUser= and SocketGroup= are for file system nodes, as in systemd. */
        r = set_owner_mode(c, fd, (uid_t) -1, (gid_t) -1, c->cfg->socket_mode & 0777);
        if (r < 0) {
                if (created)
                        (void) mq_unlink(name);
                return r;
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ListenNetlink=: a raw netlink socket of the family, bound to its multicast groups, with the
 * options that apply to it (ReceiveBuffer=, SendBuffer=, PassCredentials=). */
static int bind_netlink(BindCtx *c, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        int r;

        fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, c->spec->protocol);
        if (fd < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot create netlink socket %s: %s%s",
                                  c->addr, strerror(-r),
                                  r == -EPROTONOSUPPORT ? " (this kernel has no such netlink "
                                                          "family, or its module is not loaded)"
                                                        : "");
        }
        r = apply_options(c, fd);
        if (r < 0)
                return r;
        if (bind(fd, &c->sa.sa, c->sa.len) < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot bind netlink socket %s: %s%s",
                                  c->addr, strerror(-r),
                                  r == -EPERM ? " (joining these multicast groups needs a "
                                                "capability, such as CAP_NET_ADMIN, or "
                                                "CAP_AUDIT_READ for audit)" : "");
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ---- Symlinks= ---- */

/* Makes link a symlink to target: an existing symlink is made to point there (atomically,
 * through a temporary name and rename()), anything else is left alone. Parents are made with
 * DirectoryMode=. Returns 0, or a negative errno with the message in c->err. */
static int make_symlink(BindCtx *c, const char *target, const char *link) {
        _cleanup_close_ int dirfd = -1;
        char now[PATH_MAX], tmp[NAME_MAX + 1];
        const char *base = NULL;
        struct stat st;
        ssize_t n;
        int r;

        r = open_parent(c, link, link, &dirfd, &base);
        if (r < 0)
                return r;
        if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT || symlinkat(target, dirfd, base) < 0) {
                        r = -errno;
                        return errbuf_set(c->err, c->errlen, r, "cannot create it: %s",
                                          strerror(-r));
                }
                return 0;
        }
        if (!S_ISLNK(st.st_mode))
                return errbuf_set(c->err, c->errlen, -EEXIST,
                                  "'%s' exists and is not a symlink (it is %s), refusing to "
                                  "replace it", link, file_type_name(st.st_mode));
        n = readlinkat(dirfd, base, now, sizeof now - 1);
        if (n >= 0 && (size_t) n == strlen(target) && memcmp(now, target, (size_t) n) == 0)
                return 0; /* already ours */

        /* Another target, or a dangling link left behind: replace it, never leaving the name
         * missing in between. */
        snprintf(tmp, sizeof tmp, ".#berth-%d-%.200s", (int) getpid(), base);
        (void) unlinkat(dirfd, tmp, 0);
        if (symlinkat(target, dirfd, tmp) < 0 || renameat(dirfd, tmp, dirfd, base) < 0) {
                r = -errno;
                (void) unlinkat(dirfd, tmp, 0);
                return errbuf_set(c->err, c->errlen, r, "cannot replace the old symlink: %s",
                                  strerror(-r));
        }
        return 0;
}

/* Symlinks= of the unit, when spec is what they link to (the unit's one unix socket path or
 * FIFO, at target). A failure is a warning, as in systemd: the socket works without them. */
static void make_symlinks(BindCtx *c, const char *target) {
        if (!c->cfg->symlinks || unit_socket_symlink_target(c->spec->unit) != c->spec->listen)
                return;
        STRV_FOREACH(link, c->cfg->symlinks) {
                char why[LISTENER_ERROR_MAX] = "";
                BindCtx l = *c;

                l.err = why;
                l.errlen = sizeof why;
                if (make_symlink(&l, target, *link) < 0)
                        add_warning(c, "Symlinks=: cannot make %s point to %s: %s, ignoring",
                                    *link, target, why);
        }
}

/* ---- binding ---- */

/* Checks that spec is an inet or unix socket berth binds, and binds it. */
static int bind_socket(BindCtx *c, int *ret_fd) {
        _cleanup_close_ int fd = -1;
        const BindSpec *spec = c->spec;
        char name[sizeof c->sa.un.sun_path + 1];
        bool abstract = false;
        int r;

        if (spec->addr.sa.sa_family != spec->family ||
            (spec->family != AF_INET && spec->family != AF_INET6 && spec->family != AF_UNIX))
                return errbuf_set(c->err, c->errlen, -EAFNOSUPPORT,
                                  "cannot bind %s %s: address family %d", c->proto, c->addr,
                                  spec->family);
        if (spec->socktype != SOCK_STREAM && spec->socktype != SOCK_DGRAM &&
            spec->socktype != SOCK_SEQPACKET)
                return errbuf_set(c->err, c->errlen, -EPROTONOSUPPORT,
                                  "cannot bind %s: socket type %d", c->addr, spec->socktype);
        if (spec->socktype == SOCK_SEQPACKET && spec->family != AF_UNIX)
                return errbuf_set(c->err, c->errlen, -EPROTONOSUPPORT,
                                  "cannot bind %s: ListenSequentialPacket= is for unix sockets "
                                  "only", c->addr);

        if (spec->family == AF_UNIX) {
                if (!sockaddr_unix_name(&c->sa, name, sizeof name, NULL, &abstract))
                        return errbuf_set(c->err, c->errlen, -EINVAL,
                                          "cannot bind an unnamed unix socket");
                if (!abstract) {
                        r = bind_unix_path(c, name, ret_fd);
                        if (r >= 0)
                                make_symlinks(c, name);
                        return r;
                }
        }

        fd = socket(spec->family, spec->socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = -errno;
                return errbuf_set(c->err, c->errlen, r, "cannot create %s socket for %s: %s%s",
                                  c->proto, c->addr, strerror(-r),
                                  r == -EAFNOSUPPORT ? " (IPv6 is disabled on this host)" : "");
        }

        r = apply_options(c, fd);
        if (r < 0)
                return r;

        if (bind(fd, &c->sa.sa, c->sa.len) < 0)
                return bind_failed(c, -errno);

        r = do_listen(c, fd);
        if (r < 0)
                return r;

        *ret_fd = TAKE_FD(fd);
        return 0;
}

int listener_bind(const BindSpec *spec, int *ret_fd, char *err, size_t errlen) {
        _cleanup_free_ BindCtx *c = NULL;
        int fd = -1, r = -EINVAL;

        if (err && errlen > 0)
                err[0] = '\0';
        if (!spec || !spec->unit || !spec->listen || !ret_fd)
                return errbuf_set(err, errlen, -EINVAL, "invalid bind request");

        c = calloc(1, sizeof *c);
        if (!c)
                return errbuf_set(err, errlen, -ENOMEM, "out of memory");
        c->spec = spec;
        (void) bind_spec_addr(spec, &c->sa);
        c->cfg = socket_config_options(&spec->unit->socket);
        c->err = err;
        c->errlen = errlen;
        c->proto = socket_protocol_describe(bind_spec_protocol(spec)) ?: "socket";
        bind_spec_name(spec, c->addr, sizeof c->addr);

        switch (spec->listen->type) {
        case LISTEN_FIFO:
                r = open_fifo(c, &fd);
                if (r >= 0)
                        make_symlinks(c, bind_spec_path(spec));
                break;
        case LISTEN_SPECIAL:
                r = open_special(c, &fd);
                break;
        case LISTEN_MQUEUE:
                r = open_mqueue(c, &fd);
                break;
        case LISTEN_NETLINK:
                r = bind_netlink(c, &fd);
                break;
        case LISTEN_STREAM:
        case LISTEN_DATAGRAM:
        case LISTEN_SEQPACKET:
                r = bind_socket(c, &fd);
                break;
        case _LISTEN_TYPE_MAX:
        case _LISTEN_TYPE_INVALID:
                r = errbuf_set(err, errlen, -EINVAL, "invalid listen type %d",
                               (int) spec->listen->type);
                break;
        }
        if (r < 0) {
                /* Which limit, so that running out of fds at start says what to raise. */
                fd_reserve_explain(r, err, errlen);
                return r;
        }
        if (err && errlen > 0)
                snprintf(err, errlen, "%s", c->warning);
        *ret_fd = fd;
        return 0;
}
