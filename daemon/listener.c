/* listener: the runtime socket object (see listener.h): a bound socket with its spec, its fd
 * name, and the watch that starts its service on demand (one epoll set per event loop, shared
 * by every listener), with the trigger and poll limits; and what RemoveOnStop= removes when it
 * goes. Also what the host offers (IPv6, bindv6only), reading a bound socket back from the
 * kernel, and the one log line per socket (SPEC §3). Binding itself is in listener-bind.c.
 * Only the watch (a trigger-limit pause, an fd epoll refuses) and the removal log; the rest
 * returns text. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <mqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
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
#include "common/string-table.h"
#include "common/strv.h"
#include "common/time-util.h"
#include "common/user-util.h"
#include "daemon/listener.h"
#include "daemon/sock-diag.h"

int listener_sysctl_bindv6only(void) {
        int v, r;

        r = proc_read_int("/proc/sys/net/ipv6/bindv6only", &v);
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


/* ---- reading back ---- */

int listener_read_back(int fd, ListenerInfo *ret) {
        int family, socktype, protocol, r;

        if (fd < 0 || !ret)
                return -EINVAL;
        r = getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &family);
        if (r >= 0)
                r = getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &socktype);
        if (r >= 0)
                r = getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &protocol);
        if (r < 0)
                return r;
        return listener_read_back_of(fd, family, socktype, protocol, ret);
}

int listener_read_back_of(int fd, int family, int socktype, int protocol, ListenerInfo *ret) {
        ListenerInfo info = { .family = family, .socktype = socktype, .protocol = protocol,
                              .v6only = -1, .backlog = -1 };
        socklen_t l = sizeof info.addr.raw;
        unsigned backlog;
        int r;

        if (fd < 0 || !ret)
                return -EINVAL;
        if (getsockname(fd, &info.addr.sa, &l) < 0)
                return -errno;
        info.addr.len = l;
        if (info.family == AF_INET6) {
                r = getsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &info.v6only);
                if (r < 0)
                        return r;
                info.v6only = info.v6only != 0;
        }
        info.reach = reach_from_sockaddr(&info.addr);
        if (sock_diag_queue_of(fd, family, socktype, NULL, &backlog) >= 0)
                info.backlog = backlog > INT_MAX ? INT_MAX : (int) backlog;

        *ret = info;
        return 0;
}

/* ---- describing ---- */

/* The host part to connect to, for a hint: a loopback address the socket accepts when it is a
 * wildcard, else its own address. url: brackets and %25 for IPv6 as in a URL. */
/* Ports that usually speak HTTP (IANA's http, https, http-alt and the common development
 * ports): a curl hint there; a plain nc hint elsewhere (ssh, smtp, databases...). */
static bool port_speaks_http(uint16_t port) {
        static const uint16_t ports[] = { 80, 443, 591, 3000, 4443, 5000, 8000, 8008, 8080,
                                          8081, 8082, 8083, 8088, 8443, 8888, 9000 };
        for (size_t i = 0; i < ELEMENTSOF(ports); i++)
                if (ports[i] == port)
                        return true;
        return false;
}

static void hint_host(const ListenerInfo *info, bool url, char *buf, size_t buflen) {
        char ip[INET6_ADDRSTRLEN] = "", scope[IF_NAMESIZE + 8] = "";

        if (info->addr.sa.sa_family == AF_INET) {
                if (info->reach == REACH_ALL)
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
                if (info->reach == REACH_ALL)
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
        const char *reach = reach_describe(info->reach) ?: "unknown reach";
        const char *p = socket_type_describe(info->family, info->socktype);

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

        if (socket_family_is_inet(info->family)) {
                uint16_t port = info->family == AF_INET ? ntohs(info->addr.in.sin_port)
                                                        : ntohs(info->addr.in6.sin6_port);

                if (info->socktype == SOCK_STREAM && port_speaks_http(port)) {
                        bool tls = port == 443 || port == 8443;

                        hint_host(info, /* url= */ true, host, sizeof host);
                        snprintf(hint, sizeof hint, "curl %shttp%s://%s:%u/", tls ? "-k " : "",
                                 tls ? "s" : "", host, port);
                } else if (info->socktype == SOCK_STREAM) {
                        hint_host(info, /* url= */ false, host, sizeof host);
                        snprintf(hint, sizeof hint, "nc %s %u", host, port);
                } else if (info->socktype == SOCK_DGRAM) {
                        hint_host(info, /* url= */ false, host, sizeof host);
                        snprintf(hint, sizeof hint, "nc -u %s %u", host, port);
                }
        } else if (info->family == AF_UNIX) {
                char name[sizeof(info->addr.un.sun_path) + 1], q[2 * sizeof name + 8];
                size_t n;
                bool abstract;

                if (sockaddr_unix_name(&info->addr, name, sizeof name, &n, &abstract)) {
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

DEFINE_STRING_TABLE(listener_watch, ListenerWatch,
                    [LISTENER_IDLE] = "idle",
                    [LISTENER_WATCHING] = "watching",
                    [LISTENER_PAUSED] = "paused")

/* AcceptStallSec='s watch of a serving listener: a duplicate of its fd watched once for the
 * first waiting connection, a timer, and the connections waiting at the last check. */
struct ListenerStall {
        int fd;
        sd_event_source *io_source, *timer_source;
        uint64_t seen[LISTENER_STALL_MAX];
        size_t n_seen;
};

static ListenerStall *listener_stall_free(ListenerStall *st) {
        if (!st)
                return NULL;
        sd_event_source_disable_unref(st->io_source);
        sd_event_source_disable_unref(st->timer_source);
        safe_close(st->fd);
        free(st);
        return NULL;
}

static ListenerRetry *listener_retry_free(ListenerRetry *x) {
        if (!x)
                return NULL;
        sd_event_source_disable_unref(x->source);
        free(x->error);
        free(x);
        return NULL;
}

int listener_set_spec(Listener *l, const BindSpec *spec) {
        l->spec = *spec;
        return 0;
}

const char *listener_fdname(const Listener *l) {
        /* As unit_socket_fdname(), without a copy: the unit outlives its listeners. */
        return socket_config_options(&l->spec.unit->socket)->fdname ?: l->spec.unit->name;
}

int listener_new(Listener **ret, const BindSpec *spec) {
        Listener *l = calloc(1, sizeof *l);

        if (!l)
                return -ENOMEM;
        l->fd = -1;
        if (listener_set_spec(l, spec) < 0)
                return listener_free(l), -ENOMEM;
        *ret = l;
        return 0;
}

static void listener_unwatch(Listener *l);

const Unit *listener_array_unit(const void *listeners, size_t i) {
        return (*((Listener *const *) listeners + i))->spec.unit;
}

Listener *listener_free(Listener *l) {
        if (!l)
                return NULL;
        listener_unwatch(l);
        if (l->limits) {
                sd_event_source_disable_unref(l->limits->pause_source);
                listener_stall_free(l->limits->stall);
                free(l->limits);
        }
        listener_retry_free(l->retry);
        safe_close(l->fd);
        free(l);
        return NULL;
}

static uint16_t sockaddr_port(const SockAddr *a) {
        return a->sa.sa_family == AF_INET ? ntohs(a->in.sin_port) :
               a->sa.sa_family == AF_INET6 ? ntohs(a->in6.sin6_port) : 0;
}

/* l's address as the spec has it, with port. */
static SockAddr listener_addr(const Listener *l, uint16_t port) {
        SockAddr a;

        (void) bind_spec_addr(&l->spec, &a);
        if (a.sa.sa_family == AF_INET)
                a.in.sin_port = htons(port);
        else if (a.sa.sa_family == AF_INET6)
                a.in6.sin6_port = htons(port);
        return a;
}

/* Reads l back once bound, and keeps what the kernel decided. The family, type and protocol
 * are what the socket was made with; the address is the spec's but for the port, and the
 * stack and the backlog are what the kernel made of the bind and the listen(). An address
 * that is not the spec's (never seen) is read back each time it is asked for instead. */
static void listener_keep_info(Listener *l) {
        ListenerInfo info;
        SockAddr expect;

        l->have_info = false;
        if (!bind_spec_has_address(&l->spec) ||
            listener_read_back_of(l->fd, l->spec.family, l->spec.socktype, l->spec.protocol,
                                  &info) < 0)
                return;
        expect = listener_addr(l, sockaddr_port(&info.addr));
        if (!sockaddr_equal(&expect, &info.addr))
                return;
        l->have_info = true;
        l->info_port = sockaddr_port(&info.addr);
        l->info_v6only = (int8_t) info.v6only;
        l->info_backlog = info.backlog;
}

int listener_info(const Listener *l, ListenerInfo *ret) {
        if (l->fd < 0 || !bind_spec_has_address(&l->spec))
                return -ENOTCONN;
        if (!l->have_info)
                return listener_read_back_of(l->fd, l->spec.family, l->spec.socktype,
                                             l->spec.protocol, ret);
        *ret = (ListenerInfo) {
                .addr = listener_addr(l, l->info_port),
                .family = l->spec.family,
                .socktype = l->spec.socktype,
                .protocol = l->spec.protocol,
                .v6only = l->info_v6only,
                .backlog = l->info_backlog,
        };
        ret->reach = reach_from_sockaddr(&ret->addr);
        return 0;
}

int listener_open(Listener *l, char *err, size_t errlen) {
        int fd, r;

        r = listener_bind(&l->spec, &fd, err, errlen);
        if (r < 0)
                return r;
        listener_adopt(l, fd);
        return 0;
}

void listener_adopt(Listener *l, int fd) {
        int r;

        l->fd = fd;
        /* A new socket has a filter only when the bind attached one: read back what the
         * kernel holds then, and spare the call for every other socket. */
        r = socket_config_has_ip_filter(&l->spec.unit->socket) ? listener_read_filter(fd) : 0;
        l->filter_insns = r > 0 ? (uint16_t) MIN(r, UINT16_MAX) : 0;
        listener_keep_info(l);
}

int listener_read_filter(int fd) {
        socklen_t len = 0;

        /* With no room for the program, the kernel reports its length in optlen. */
        if (getsockopt(fd, SOL_SOCKET, SO_GET_FILTER, NULL, &len) < 0)
                return -errno;
        return (int) MIN(len, (socklen_t) INT_MAX);
}

const char *listener_describe_bound(const Listener *l, char *buf, size_t buflen) {
        char a[BIND_SPEC_DESCRIBE_MAX];
        ListenerInfo info;

        if (listener_info(l, &info) >= 0)
                return listener_describe(l->spec.unit->name, &info, buf, buflen);
        snprintf(buf, buflen, "%s: listening on %s", l->spec.unit->name,
                 bind_spec_has_address(&l->spec) ? bind_spec_name(&l->spec, a, sizeof a)
                                                  : bind_spec_describe(&l->spec, a, sizeof a));
        return buf;
}

const char *listener_name(const Listener *l, char *buf, size_t buflen) {
        ListenerInfo info;

        if (listener_info(l, &info) >= 0)
                return sockaddr_format(&info.addr, buf, buflen);
        return bind_spec_name(&l->spec, buf, buflen);
}

static bool socket_options_equal(const SocketConfig *x, const SocketConfig *y) {
        const SocketOptions *a = socket_config_options(x), *b = socket_config_options(y);

        return x->backlog == y->backlog && a->reuse_port == b->reuse_port &&
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
               a->directory_mode == b->directory_mode && a->writable == b->writable &&
               a->mq_max_messages == b->mq_max_messages &&
               a->mq_message_size == b->mq_message_size && strv_equal(a->symlinks, b->symlinks);
}

/* The socket filter of an inet socket is locked: other rules need another socket. */
static bool ip_filters_equal(const BindSpec *a, const BindSpec *b) {
        const SocketOptions *x = socket_config_options(&a->unit->socket),
                            *y = socket_config_options(&b->unit->socket);

        return !socket_family_is_inet(a->family) ||
               (ip_prefix_list_equal(&x->ip_address_allow, &y->ip_address_allow) &&
                ip_prefix_list_equal(&x->ip_address_deny, &y->ip_address_deny));
}

bool listener_same(const Listener *l, const BindSpec *s) {
        return streq(l->spec.unit->name, s->unit->name) && l->spec.v6only == s->v6only &&
               bind_spec_same_address(&l->spec, s) &&
               socket_options_equal(&l->spec.unit->socket, &s->unit->socket) &&
               ip_filters_equal(&l->spec, s);
}

/* ---- RemoveOnStop= ---- */

/* The path l made in the file system: its unix socket path or FIFO, into buf; else NULL. */
static const char *listener_file(const Listener *l, char *buf, size_t buflen) {
        bool abstract;

        if (l->spec.listen->type == LISTEN_FIFO)
                return bind_spec_path(&l->spec);
        if (l->spec.family == AF_UNIX &&
            sockaddr_unix_name(l->spec.listen->address.unix_addr, buf, buflen, NULL,
                               &abstract) && !abstract)
                return buf;
        return NULL;
}

/* Whether k (bound) has path as its unix path, FIFO or one of its Symlinks=, or name as its
 * message queue (mqueue). */
static bool listener_has_node(const Listener *k, const char *path, bool mqueue) {
        char buf[sizeof(((struct sockaddr_un *) NULL)->sun_path) + 1];
        const char *f;

        if (k->fd < 0)
                return false;
        if (mqueue)
                return k->spec.listen->type == LISTEN_MQUEUE &&
                       streq(bind_spec_path(&k->spec), path);
        f = listener_file(k, buf, sizeof buf);
        if (!f)
                return false;
        return streq(f, path) ||
               (unit_socket_symlink_target(k->spec.unit) == k->spec.listen &&
                strv_contains(socket_config_options(&k->spec.unit->socket)->symlinks, path));
}

static bool node_in_use(const Listener *l, Listener *const *live, size_t n_live,
                        const char *path, bool mqueue) {
        for (size_t i = 0; i < n_live; i++)
                if (live[i] != l && listener_has_node(live[i], path, mqueue))
                        return true;
        return false;
}

/* Whether the file at path is the one l's fd (borrowed) was made as: for a FIFO the same inode,
 * for a unix socket the inode sock_diag names (else at least a socket). */
static bool file_is_ours(const Listener *l, const char *path) {
        struct stat st, mine;
        dev_t dev;
        ino_t ino;

        if (lstat(path, &st) < 0)
                return false;
        if (l->spec.listen->type == LISTEN_FIFO)
                return S_ISFIFO(st.st_mode) && fstat(l->fd, &mine) >= 0 &&
                       mine.st_dev == st.st_dev && mine.st_ino == st.st_ino;
        if (sock_diag_unix_file(l->fd, &dev, &ino) >= 0)
                return dev == st.st_dev && ino == st.st_ino;
        return S_ISSOCK(st.st_mode);
}

void listener_remove_nodes(const Listener *l, Listener *const *live, size_t n_live) {
        const SocketOptions *sc = socket_config_options(&l->spec.unit->socket);
        char buf[sizeof(((struct sockaddr_un *) NULL)->sun_path) + 1], now[PATH_MAX];
        const char *file, *name = l->spec.unit->name, *mq = bind_spec_path(&l->spec);

        if (!sc->remove_on_stop || l->fd < 0)
                return;
        if (l->spec.listen->type == LISTEN_MQUEUE && !node_in_use(l, live, n_live, mq, true)) {
                if (mq_unlink(mq) >= 0)
                        log_info("%s: removed message queue %s (RemoveOnStop=yes)", name, mq);
                else if (errno != ENOENT)
                        log_warning_errno(errno, "%s: cannot remove message queue %s: %m, "
                                          "ignoring", name, mq);
                return;
        }
        file = listener_file(l, buf, sizeof buf);
        if (!file)
                return;
        if (!node_in_use(l, live, n_live, file, false) && file_is_ours(l, file)) {
                if (unlink(file) >= 0)
                        log_info("%s: removed %s (RemoveOnStop=yes)", name, file);
                else if (errno != ENOENT)
                        log_warning_errno(errno, "%s: cannot remove %s: %m, ignoring", name,
                                          file);
        }
        if (unit_socket_symlink_target(l->spec.unit) != l->spec.listen)
                return;
        STRV_FOREACH(link, sc->symlinks) {
                ssize_t n = readlink(*link, now, sizeof now - 1);

                /* Only a link that still points to the node: anything else is someone's. */
                if (n < 0 || (size_t) n != strlen(file) || memcmp(now, file, (size_t) n) != 0 ||
                    node_in_use(l, live, n_live, *link, false))
                        continue;
                if (unlink(*link) >= 0)
                        log_info("%s: removed symlink %s (RemoveOnStop=yes)", name, *link);
                else if (errno != ENOENT)
                        log_warning_errno(errno, "%s: cannot remove symlink %s: %m, ignoring",
                                          name, *link);
        }
}

/* ---- the watch ---- */

/* One epoll instance of our own per event loop holds the fd of every listener waiting for a
 * client, and one sd-event source watches it: a listener costs no event source of its own
 * (an sd_event_source is some 300 bytes; SPEC §8 allows a kilobyte per socket). Each wakeup
 * dispatches one listener, so a callback that frees another listener never leaves a stale
 * event behind; the epoll instance is level-triggered and wakes again for the rest. A
 * listener is in the epoll set exactly while WATCHING, as sd-event would have it. */
typedef struct ListenerWatcher {
        sd_event *event;         /* borrowed */
        int epoll_fd;
        sd_event_source *source;
        unsigned n_listeners;    /* that joined: the watcher goes with the last */
        struct ListenerWatcher *next;
} ListenerWatcher;

static ListenerWatcher *listener_watchers;

static void listener_on_io(Listener *l);

static int listener_watcher_on_event(sd_event_source *es, int fd, uint32_t revents,
                                     void *userdata) {
        struct epoll_event ev;

        if (epoll_wait(fd, &ev, 1, 0) == 1)
                listener_on_io(ev.data.ptr);
        return 0;
}

static ListenerWatcher *listener_watcher_find(sd_event *event) {
        for (ListenerWatcher *w = listener_watchers; w; w = w->next)
                if (w->event == event)
                        return w;
        return NULL;
}

/* The watcher of l's event loop, made when l is the first to join it. */
static int listener_watcher_join(Listener *l, ListenerWatcher **ret) {
        ListenerWatcher *w = listener_watcher_find(l->event);
        int r;

        if (l->joined) {
                *ret = w;
                return 0;
        }
        if (!w) {
                w = calloc(1, sizeof *w);
                if (!w)
                        return -ENOMEM;
                w->event = l->event;
                w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
                if (w->epoll_fd < 0) {
                        r = -errno;
                        free(w);
                        return r;
                }
                r = sd_event_add_io(l->event, &w->source, w->epoll_fd, EPOLLIN,
                                    listener_watcher_on_event, w);
                if (r < 0) {
                        safe_close(w->epoll_fd);
                        free(w);
                        return r;
                }
                w->next = listener_watchers;
                listener_watchers = w;
        }
        w->n_listeners++;
        l->joined = true;
        *ret = w;
        return 0;
}

/* Puts l's fd in its watcher's epoll set (on) or takes it out. Returns 0 or a negative errno
 * (-EPERM: epoll takes no file the kernel cannot poll). */
static int listener_epoll(Listener *l, bool on) {
        ListenerWatcher *w = NULL;
        int r;

        if (on == l->in_epoll)
                return 0;
        if (on) {
                struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };

                r = listener_watcher_join(l, &w);
                if (r < 0)
                        return r;
                if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, l->fd, &ev) < 0)
                        return -errno;
        } else {
                w = listener_watcher_find(l->event);
                if (w && epoll_ctl(w->epoll_fd, EPOLL_CTL_DEL, l->fd, NULL) < 0)
                        return -errno;
        }
        l->in_epoll = on;
        return 0;
}

/* Leaves the watcher for good (l goes): its fd out of the epoll set first, before it is
 * closed (a duplicate of it, AcceptStallSec='s, would keep it there). */
static void listener_unwatch(Listener *l) {
        ListenerWatcher *w;

        (void) listener_epoll(l, false);
        if (!l->joined)
                return;
        l->joined = false;
        w = listener_watcher_find(l->event);
        if (!w || --w->n_listeners > 0)
                return;
        for (ListenerWatcher **p = &listener_watchers; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        sd_event_source_disable_unref(w->source);
        safe_close(w->epoll_fd);
        free(w);
}

/* The one place the watch is switched: in the epoll set while WATCHING. Returns what
 * listener_epoll() does. */
static int listener_set_state(Listener *l, ListenerWatch w) {
        l->watch = w;
        if (!l->event || l->fd < 0 || l->unpollable)
                return 0;
        return listener_epoll(l, w == LISTENER_WATCHING);
}

static int listener_on_pause_end(sd_event_source *es, uint64_t usec, void *userdata) {
        Listener *l = userdata;

        l->limits->trigger_count = 0;
        (void) listener_set_state(l, l->want_watch ? LISTENER_WATCHING : LISTENER_IDLE);
        return 0;
}

/* At most burst events within interval (a window from the first): true, with the time left
 * in the window, once more come. */
static bool listener_window_full(usec_t *start, unsigned *count, usec_t interval,
                                 unsigned burst, usec_t *ret_left) {
        usec_t now = time_now(CLOCK_MONOTONIC);

        if (now - *start >= interval) {
                *start = now;
                *count = 0;
        }
        if (burst == 0 || ++*count <= burst)
                return false;
        *ret_left = interval - (now - *start);
        return true;
}

static usec_t listener_accept_stall_usec(const Listener *l) {
        return socket_config_limits(&l->spec.unit->socket)->accept_stall_usec;
}

/* TriggerLimitBurst= within TriggerLimitIntervalSec=: past it, the socket pauses for the rest
 * of the interval and recovers by itself (systemd would leave it dead). */
static bool listener_trigger_limited(Listener *l) {
        const SocketLimits *sc = socket_config_limits(&l->spec.unit->socket);
        usec_t interval = sc->trigger_limit_interval_usec, left;
        unsigned burst = sc->trigger_limit_burst;

        if (!listener_window_full(&l->limits->trigger_window_start, &l->limits->trigger_count,
                                  interval, burst, &left))
                return false;
        log_warning("%s: triggered %u times within %llums (TriggerLimitBurst=, "
                    "TriggerLimitIntervalSec=): pausing for %llums; connections wait",
                    l->spec.unit->name, burst, (unsigned long long) (interval / USEC_PER_MSEC),
                    (unsigned long long) (left / USEC_PER_MSEC));
        if (listener_pause(l, left) < 0) {
                log_warning("%s: cannot arm the trigger-limit pause; not pausing",
                            l->spec.unit->name);
                return false;
        }
        return true;
}

ListenerLimits *listener_limits(Listener *l) {
        if (!l->limits)
                l->limits = calloc(1, sizeof *l->limits);
        return l->limits;
}

int listener_pause(Listener *l, usec_t usec) {
        ListenerLimits *x = listener_limits(l);
        int r;

        if (!x)
                return -ENOMEM;
        r = x->pause_source ? sd_event_source_set_time_relative(x->pause_source, usec) :
                              sd_event_add_time_relative(l->event, &x->pause_source,
                                                         CLOCK_MONOTONIC, usec,
                                                         10 * USEC_PER_MSEC,
                                                         listener_on_pause_end, l);
        if (r >= 0)
                r = sd_event_source_set_enabled(x->pause_source, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        (void) listener_set_state(l, LISTENER_PAUSED);
        return 0;
}

/* PollLimitIntervalSec=, PollLimitBurst=: past them the socket pauses for the rest of the
 * interval, as sd-event's rate limit of an event source would have it (not logged). */
static bool listener_poll_limited(Listener *l) {
        const SocketLimits *sc = socket_config_limits(&l->spec.unit->socket);
        usec_t left;

        if (sc->poll_limit_interval_usec == 0 ||
            !listener_window_full(&l->limits->poll_window_start, &l->limits->poll_count,
                                  sc->poll_limit_interval_usec, sc->poll_limit_burst, &left))
                return false;
        return listener_pause(l, left) >= 0;
}

static void listener_on_io(Listener *l) {
        /* Without room for the windows the limits do not apply: the start goes on. */
        if (listener_limits(l) && (listener_poll_limited(l) || listener_trigger_limited(l)))
                return;
        (void) listener_set_state(l, LISTENER_IDLE);
        if (l->on_trigger)
                l->on_trigger(l, l->owner);
}

bool listener_bind_error_is_transient(const BindSpec *spec, int error) {
        return bind_spec_has_address(spec) && IN_SET(error, -EADDRINUSE, -EADDRNOTAVAIL);
}

static int listener_on_retry(sd_event_source *es, uint64_t usec, void *userdata);

/* 1 s, doubling with each failed try, up to 30 s. */
static usec_t listener_retry_delay(const Listener *l) {
        usec_t delay = LISTENER_RETRY_BASE_USEC;

        for (unsigned i = 0; i < l->retry->n && delay < LISTENER_RETRY_CAP_USEC; i++)
                delay *= 2;
        return MIN(delay, LISTENER_RETRY_CAP_USEC);
}

int listener_arm_retry(Listener *l, sd_event *event) {
        ListenerRetry *x = l->retry;
        usec_t delay = listener_retry_delay(l);
        int r;

        r = x->source ? sd_event_source_set_time_relative(x->source, delay) :
                        sd_event_add_time_relative(event, &x->source, CLOCK_MONOTONIC, delay,
                                                   10 * USEC_PER_MSEC, listener_on_retry, l);
        if (r >= 0)
                r = sd_event_source_set_enabled(x->source, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "%s: cannot arm the bind retry: %m; %s stays unbound "
                                       "until a daemon-reload", l->spec.unit->name,
                                       LISTEN_TEXT(l->spec.listen));
        return 0;
}

int listener_set_bind_error(Listener *l, const char *err) {
        char *e = strdup(err);

        if (!e)
                return -ENOMEM;
        if (!l->retry) {
                l->retry = calloc(1, sizeof *l->retry);
                if (!l->retry) {
                        free(e);
                        return -ENOMEM;
                }
        }
        free(l->retry->error);
        l->retry->error = e;
        return 0;
}

static int listener_on_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        Listener *l = userdata;
        char err[LISTENER_ERROR_MAX] = "", line[ADDRESS_FORMAT_MAX + 512];
        int r;

        r = listener_open(l, err, sizeof err);
        if (r < 0) {
                if (l->retry->n < UINT16_MAX)
                        l->retry->n++;
                if (listener_set_bind_error(l, err) >= 0)
                        (void) listener_arm_retry(l, sd_event_source_get_event(es));
                log_warning("%s: %s; trying again in %llus", l->spec.unit->name, err,
                            (unsigned long long) (listener_retry_delay(l) / USEC_PER_SEC));
                return 0;
        }
        if (err[0])
                log_warning("%s: %s", l->spec.unit->name, err);
        /* The first try was at berthd's start, then each failed retry, then this one. */
        log_info("%s (bound at try %u)", listener_describe_bound(l, line, sizeof line),
                 (unsigned) l->retry->n + 2);
        l->retry = listener_retry_free(l->retry);
        return listener_set_watch(l, l->want_watch);
}

/* ---- AcceptStallSec= ---- */

static int listener_on_stall_io(sd_event_source *es, int fd, uint32_t revents, void *userdata);
static int listener_on_stall_timer(sd_event_source *es, uint64_t usec, void *userdata);

static ListenerStall *listener_stall_new(void) {
        ListenerStall *st = calloc(1, sizeof *st);

        if (st)
                st->fd = -1;
        return st;
}

static bool listener_stall_applies(const Listener *l) {
        return listener_accept_stall_usec(l) > 0 && l->spec.socktype == SOCK_STREAM &&
               IN_SET(l->spec.family, AF_INET, AF_INET6) && l->fd >= 0 && l->event;
}

/* Waits for the first connection left in the queue: one wakeup, then the timer. */
static void listener_stall_watch(Listener *l) {
        ListenerLimits *x = listener_limits(l);
        ListenerStall *st;
        int r = 0;

        if (x && !x->stall)
                x->stall = listener_stall_new();
        st = x ? x->stall : NULL;
        if (!st)
                r = -ENOMEM;
        if (r >= 0 && !st->io_source) {
                st->fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 3);
                if (st->fd < 0)
                        r = -errno;
                if (r >= 0)
                        r = sd_event_add_io(l->event, &st->io_source, st->fd, EPOLLIN,
                                            listener_on_stall_io, l);
        }
        if (r >= 0)
                r = sd_event_source_set_enabled(st->io_source, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "%s: cannot watch %s for connections left waiting: %m, "
                                  "ignoring", l->spec.unit->name, LISTEN_TEXT(l->spec.listen));
}

/* Looks at the queue usec from now. */
static void listener_stall_check_in(Listener *l, usec_t usec) {
        ListenerStall *st = l->limits->stall;
        int r = st->timer_source ?
                        sd_event_source_set_time_relative(st->timer_source, usec) :
                        sd_event_add_time_relative(l->event, &st->timer_source,
                                                   CLOCK_MONOTONIC, usec,
                                                   MIN(usec, USEC_PER_SEC),
                                                   listener_on_stall_timer, l);
        if (r >= 0)
                r = sd_event_source_set_enabled(st->timer_source, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "%s: cannot arm the AcceptStallSec= check: %m, ignoring",
                                  l->spec.unit->name);
}

/* The first look at who waits comes a tenth of AcceptStallSec= after the wakeup, not at once:
 * the look walks the kernel's whole TCP table (a millisecond and more on a busy host), and the
 * wakeup comes as the service that the connection starts is on its way up, which the look
 * would hold back. A connection is still told only once it has waited AcceptStallSec=. */
static int listener_on_stall_io(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Listener *l = userdata;

        l->limits->stall->n_seen = 0;
        listener_stall_check_in(l, listener_accept_stall_usec(l) / 10);
        return 0;
}

static int listener_on_stall_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        Listener *l = userdata;
        ListenerStall *st = l->limits->stall;
        uint64_t now[LISTENER_STALL_MAX];
        unsigned waiting = 1;
        /* An empty queue needs no look at who waits (TCP_INFO is one system call). */
        int n = sock_diag_queue(l->fd, &waiting, NULL) >= 0 && waiting == 0 ?
                        0 : sock_diag_unaccepted(l->fd, now, LISTENER_STALL_MAX);
        bool still = false;
        char a[BIND_SPEC_NAME_MAX];

        for (int i = 0; i < n && !still; i++)
                for (size_t k = 0; k < st->n_seen && !still; k++)
                        still = now[i] == st->seen[k];
        listener_name(l, a, sizeof a);
        if (still && !l->stalled)
                log_warning("%s: a connection to %s has waited %llus and its service has not "
                            "accepted it (AcceptStallSec=): is it stuck, or not accepting on "
                            "this socket?",
                            l->spec.unit->name, a,
                            (unsigned long long) (listener_accept_stall_usec(l) /
                                                  USEC_PER_SEC));
        else if (!still && l->stalled)
                log_info("%s: connections to %s are accepted again", l->spec.unit->name, a);
        l->stalled = still;
        if (n <= 0) {
                st->n_seen = 0;
                listener_stall_watch(l);
                return 0;
        }
        memcpy(st->seen, now, (size_t) n * sizeof now[0]);
        st->n_seen = (size_t) n;
        listener_stall_check_in(l, listener_accept_stall_usec(l));
        return 0;
}

void listener_set_serving(Listener *l, bool serving) {
        if (serving == l->serving)
                return;
        l->serving = serving;
        if (serving && listener_stall_applies(l)) {
                listener_stall_watch(l);
                return;
        }
        /* The duplicate goes too: it would keep the kernel socket after l closes its fd (a
         * daemon-reload binding it again with new options would find its port held). */
        if (l->limits)
                l->limits->stall = listener_stall_free(l->limits->stall);
        l->stalled = false;
}

void listener_set_owner(Listener *l, sd_event *event, ListenerTriggerFunc f, void *owner) {
        if (l->event != event)
                listener_unwatch(l); /* it joins the new loop's watch when watched */
        l->event = event;
        l->on_trigger = f;
        l->owner = owner;
}

int listener_set_watch(Listener *l, bool on) {
        int r;

        l->want_watch = on;
        if (l->watch == LISTENER_PAUSED)
                return 0; /* the pause's end decides */
        if (on && (!l->event || l->fd < 0 || l->unpollable))
                return 0;
        r = listener_set_state(l, on ? LISTENER_WATCHING : LISTENER_IDLE);
        if (r == -EPERM) {
                char a[BIND_SPEC_NAME_MAX];

                /* epoll takes no file the kernel cannot poll (a regular file on ext4,
                 * /dev/null): nothing there can wake berthd. */
                l->unpollable = true;
                l->watch = LISTENER_IDLE;
                log_warning("%s: %s cannot be watched (the kernel cannot poll it: a file on an "
                            "ordinary file system, or a device such as /dev/null), so it does "
                            "not start the service, ignoring",
                            l->spec.unit->name, listener_name(l, a, sizeof a));
                return 0;
        }
        if (r < 0) {
                l->watch = LISTENER_IDLE;
                return log_error_errno(r, "%s: cannot watch its socket fd %d: %m",
                                       l->spec.unit->name, l->fd);
        }
        return 0;
}
