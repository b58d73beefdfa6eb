/* listener: the runtime socket object (see listener.h): a bound socket with its spec, its
 * read-back, its fd name, and the watch that starts its service on demand, with the trigger
 * and poll limits; and what RemoveOnStop= removes when it goes. Also what the host offers
 * (IPv6, bindv6only), reading a bound socket back from the kernel, and the one log line per
 * socket (SPEC §3). Binding itself is in listener-bind.c. Only the watch (a trigger-limit
 * pause, an fd epoll refuses) and the removal log; the rest returns text. */

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
        ListenerInfo info = { .v6only = -1, .backlog = -1 };
        socklen_t l = sizeof info.addr.storage;
        unsigned backlog;
        int r;

        if (fd < 0 || !ret)
                return -EINVAL;
        if (getsockname(fd, &info.addr.sa, &l) < 0)
                return -errno;
        info.addr.len = l;

        r = getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &info.family);
        if (r < 0)
                return r;
        r = getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &info.socktype);
        if (r < 0)
                return r;
        r = getsockopt_int(fd, SOL_SOCKET, SO_PROTOCOL, &info.protocol);
        if (r < 0)
                return r;
        if (info.family == AF_INET6) {
                r = getsockopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, &info.v6only);
                if (r < 0)
                        return r;
                info.v6only = info.v6only != 0;
        }
        info.reach = reach_from_sockaddr(&info.addr);
        if (sock_diag_queue(fd, NULL, &backlog) >= 0)
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

int listener_set_spec(Listener *l, const BindSpec *spec) {
        char *fdname = unit_socket_fdname(spec->unit);

        if (!fdname)
                return -ENOMEM;
        free(l->fdname);
        l->fdname = fdname;
        l->spec = *spec;
        return 0;
}

int listener_new(Listener **ret, const BindSpec *spec) {
        Listener *l = calloc(1, sizeof *l);

        if (!l)
                return -ENOMEM;
        l->fd = -1;
        l->stall_fd = -1;
        if (listener_set_spec(l, spec) < 0)
                return listener_free(l), -ENOMEM;
        *ret = l;
        return 0;
}

Listener *listener_free(Listener *l) {
        if (!l)
                return NULL;
        sd_event_source_disable_unref(l->io_source);
        sd_event_source_disable_unref(l->pause_source);
        sd_event_source_disable_unref(l->retry_source);
        sd_event_source_disable_unref(l->stall_io_source);
        sd_event_source_disable_unref(l->stall_timer_source);
        safe_close(l->stall_fd);
        free(l->bind_error);
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
        r = listener_read_filter(fd);
        l->filter_insns = r > 0 ? (unsigned) r : 0;
        /* getsockname() and sock_diag say something of inet and unix sockets only. */
        l->have_info = bind_spec_has_address(&l->spec) && listener_read_back(fd, &l->info) >= 0;
        return 0;
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

        if (l->have_info)
                return listener_describe(l->spec.unit->name, &l->info, buf, buflen);
        snprintf(buf, buflen, "%s: listening on %s", l->spec.unit->name,
                 bind_spec_has_address(&l->spec) ? bind_spec_name(&l->spec, a, sizeof a)
                                                  : bind_spec_describe(&l->spec, a, sizeof a));
        return buf;
}

const char *listener_name(const Listener *l, char *buf, size_t buflen) {
        if (l->have_info)
                return sockaddr_format(&l->info.addr, buf, buflen);
        return bind_spec_name(&l->spec, buf, buflen);
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
               a->directory_mode == b->directory_mode && a->writable == b->writable &&
               a->mq_max_messages == b->mq_max_messages &&
               a->mq_message_size == b->mq_message_size && strv_equal(a->symlinks, b->symlinks);
}

/* The socket filter of an inet socket is locked: other rules need another socket. */
static bool ip_filters_equal(const BindSpec *a, const BindSpec *b) {
        const SocketConfig *x = &a->unit->socket, *y = &b->unit->socket;

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
                return l->spec.path;
        if (l->spec.family == AF_UNIX &&
            sockaddr_unix_name(&l->spec.addr, buf, buflen, NULL, &abstract) && !abstract)
                return buf;
        return NULL;
}

/* Whether k (bound) has path as its unix path, FIFO or one of its Symlinks=, or name as its
 * message queue (mqueue). */
static bool listener_has_node(const Listener *k, const char *path, bool mqueue) {
        char buf[sizeof(k->spec.addr.un.sun_path) + 1];
        const char *f;

        if (k->fd < 0)
                return false;
        if (mqueue)
                return k->spec.listen->type == LISTEN_MQUEUE && streq(k->spec.path, path);
        f = listener_file(k, buf, sizeof buf);
        if (!f)
                return false;
        return streq(f, path) ||
               (unit_socket_symlink_target(k->spec.unit) == k->spec.listen &&
                strv_contains(k->spec.unit->socket.symlinks, path));
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
        const SocketConfig *sc = &l->spec.unit->socket;
        char buf[sizeof(l->spec.addr.un.sun_path) + 1], now[PATH_MAX];
        const char *file, *name = l->spec.unit->name;

        if (!sc->remove_on_stop || l->fd < 0)
                return;
        if (l->spec.listen->type == LISTEN_MQUEUE &&
            !node_in_use(l, live, n_live, l->spec.path, true)) {
                if (mq_unlink(l->spec.path) >= 0)
                        log_info("%s: removed message queue %s (RemoveOnStop=yes)", name,
                                 l->spec.path);
                else if (errno != ENOENT)
                        log_warning_errno(errno, "%s: cannot remove message queue %s: %m, "
                                          "ignoring", name, l->spec.path);
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
        usec_t now = time_now(CLOCK_MONOTONIC), interval = sc->trigger_limit_interval_usec;
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
        if (listener_pause(l, left) < 0) {
                log_warning("%s: cannot arm the trigger-limit pause; not pausing",
                            l->spec.unit->name);
                return false;
        }
        return true;
}

int listener_pause(Listener *l, usec_t usec) {
        int r = l->pause_source ? sd_event_source_set_time_relative(l->pause_source, usec) :
                                  sd_event_add_time_relative(l->event, &l->pause_source,
                                                             CLOCK_MONOTONIC, usec,
                                                             10 * USEC_PER_MSEC,
                                                             listener_on_pause_end, l);
        if (r >= 0)
                r = sd_event_source_set_enabled(l->pause_source, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        listener_set_state(l, LISTENER_PAUSED);
        return 0;
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

bool listener_bind_error_is_transient(const BindSpec *spec, int error) {
        return bind_spec_has_address(spec) && IN_SET(error, -EADDRINUSE, -EADDRNOTAVAIL);
}

static int listener_on_retry(sd_event_source *es, uint64_t usec, void *userdata);

/* 1 s, doubling with each failed try, up to 30 s. */
static usec_t listener_retry_delay(const Listener *l) {
        usec_t delay = LISTENER_RETRY_BASE_USEC;

        for (unsigned i = 0; i < l->n_retries && delay < LISTENER_RETRY_CAP_USEC; i++)
                delay *= 2;
        return MIN(delay, LISTENER_RETRY_CAP_USEC);
}

static int listener_arm_retry(Listener *l, sd_event *event) {
        usec_t delay = listener_retry_delay(l);
        int r;

        r = l->retry_source ? sd_event_source_set_time_relative(l->retry_source, delay) :
                              sd_event_add_time_relative(event, &l->retry_source,
                                                         CLOCK_MONOTONIC, delay,
                                                         10 * USEC_PER_MSEC, listener_on_retry,
                                                         l);
        if (r >= 0)
                r = sd_event_source_set_enabled(l->retry_source, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "%s: cannot arm the bind retry: %m; %s stays unbound "
                                       "until a daemon-reload", l->spec.unit->name,
                                       l->spec.listen->text);
        return 0;
}

int listener_retry_bind(Listener *l, sd_event *event, const char *err) {
        char *e = strdup(err);

        if (!e)
                return -ENOMEM;
        free(l->bind_error);
        l->bind_error = e;
        return listener_arm_retry(l, event);
}

static int listener_on_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        Listener *l = userdata;
        char err[LISTENER_ERROR_MAX] = "", line[ADDRESS_FORMAT_MAX + 512];
        int r;

        r = listener_open(l, err, sizeof err);
        if (r < 0) {
                l->n_retries++;
                (void) listener_retry_bind(l, sd_event_source_get_event(es), err);
                log_warning("%s: %s; trying again in %llus", l->spec.unit->name, err,
                            (unsigned long long) (listener_retry_delay(l) / USEC_PER_SEC));
                return 0;
        }
        if (err[0])
                log_warning("%s: %s", l->spec.unit->name, err);
        /* The first try was at berthd's start, then each failed retry, then this one. */
        log_info("%s (bound at try %u)", listener_describe_bound(l, line, sizeof line),
                 l->n_retries + 2);
        l->n_retries = 0;
        free(l->bind_error);
        l->bind_error = NULL;
        return listener_set_watch(l, l->want_watch);
}

/* ---- AcceptStallSec= ---- */

static int listener_on_stall_io(sd_event_source *es, int fd, uint32_t revents, void *userdata);
static int listener_on_stall_timer(sd_event_source *es, uint64_t usec, void *userdata);

static bool listener_stall_applies(const Listener *l) {
        return l->spec.unit->socket.accept_stall_usec > 0 && l->spec.socktype == SOCK_STREAM &&
               IN_SET(l->spec.family, AF_INET, AF_INET6) && l->fd >= 0 && l->event;
}

/* Waits for the first connection left in the queue: one wakeup, then the timer. */
static void listener_stall_watch(Listener *l) {
        int r = 0;

        if (!l->stall_io_source) {
                l->stall_fd = fcntl(l->fd, F_DUPFD_CLOEXEC, 3);
                if (l->stall_fd < 0)
                        r = -errno;
                if (r >= 0)
                        r = sd_event_add_io(l->event, &l->stall_io_source, l->stall_fd, EPOLLIN,
                                            listener_on_stall_io, l);
        }
        if (r >= 0)
                r = sd_event_source_set_enabled(l->stall_io_source, SD_EVENT_ONESHOT);
        if (r < 0)
                log_warning_errno(r, "%s: cannot watch %s for connections left waiting: %m, "
                                  "ignoring", l->spec.unit->name, l->spec.listen->text);
}

/* Looks at the queue usec from now. */
static void listener_stall_check_in(Listener *l, usec_t usec) {
        int r = l->stall_timer_source ?
                        sd_event_source_set_time_relative(l->stall_timer_source, usec) :
                        sd_event_add_time_relative(l->event, &l->stall_timer_source,
                                                   CLOCK_MONOTONIC, usec,
                                                   MIN(usec, USEC_PER_SEC),
                                                   listener_on_stall_timer, l);
        if (r >= 0)
                r = sd_event_source_set_enabled(l->stall_timer_source, SD_EVENT_ONESHOT);
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

        l->n_stall_seen = 0;
        listener_stall_check_in(l, l->spec.unit->socket.accept_stall_usec / 10);
        return 0;
}

static int listener_on_stall_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        Listener *l = userdata;
        uint64_t now[LISTENER_STALL_MAX];
        unsigned waiting = 1;
        /* An empty queue needs no look at who waits (TCP_INFO is one system call). */
        int n = sock_diag_queue(l->fd, &waiting, NULL) >= 0 && waiting == 0 ?
                        0 : sock_diag_unaccepted(l->fd, now, LISTENER_STALL_MAX);
        bool still = false;
        char a[BIND_SPEC_NAME_MAX];

        for (int i = 0; i < n && !still; i++)
                for (size_t k = 0; k < l->n_stall_seen && !still; k++)
                        still = now[i] == l->stall_seen[k];
        listener_name(l, a, sizeof a);
        if (still && !l->stalled)
                log_warning("%s: a connection to %s has waited %llus and its service has not "
                            "accepted it (AcceptStallSec=): is it stuck, or not accepting on "
                            "this socket?",
                            l->spec.unit->name, a,
                            (unsigned long long) (l->spec.unit->socket.accept_stall_usec /
                                                  USEC_PER_SEC));
        else if (!still && l->stalled)
                log_info("%s: connections to %s are accepted again", l->spec.unit->name, a);
        l->stalled = still;
        if (n <= 0) {
                l->n_stall_seen = 0;
                listener_stall_watch(l);
                return 0;
        }
        memcpy(l->stall_seen, now, (size_t) n * sizeof now[0]);
        l->n_stall_seen = (size_t) n;
        listener_stall_check_in(l, l->spec.unit->socket.accept_stall_usec);
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
        l->stall_io_source = sd_event_source_disable_unref(l->stall_io_source);
        l->stall_fd = safe_close(l->stall_fd);
        if (l->stall_timer_source)
                (void) sd_event_source_set_enabled(l->stall_timer_source, SD_EVENT_OFF);
        l->stalled = false;
        l->n_stall_seen = 0;
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
                if (!l->event || l->fd < 0 || l->unpollable)
                        return 0;
                r = sd_event_add_io(l->event, &l->io_source, l->fd, EPOLLIN, listener_on_io, l);
                if (r == -EPERM) {
                        char a[BIND_SPEC_NAME_MAX];

                        /* epoll takes no file the kernel cannot poll (a regular file on
                         * ext4, /dev/null): nothing there can wake berthd. */
                        l->unpollable = true;
                        log_warning("%s: %s cannot be watched (the kernel cannot poll it: a "
                                    "file on an ordinary file system, or a device such as "
                                    "/dev/null), so it does not start the service, ignoring",
                                    l->spec.unit->name, listener_name(l, a, sizeof a));
                        return 0;
                }
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
