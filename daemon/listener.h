/* listener: creates and binds one socket per BindSpec with every option of its unit, reads the
 * result back from the kernel, and formats the one log line for it (SPEC §3). On EADDRINUSE it
 * names the holder, found by sock-diag. No event loop here: the caller owns the fds it returns
 * (the services watch them). No logging either: errors come back as text for the caller to
 * log with the unit's name. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/address.h"
#include "common/socket-util.h"
#include "daemon/bind-plan.h"
#include "daemon/sock-diag.h"

#define LISTENER_ERROR_MAX 1024

/* Reads what the host offers: whether AF_INET6 sockets work, and net.ipv6.bindv6only. */
void listener_probe_host(HostInfo *ret);

/* net.ipv6.bindv6only of the caller's network namespace: 0 or 1, or a negative errno when it
 * cannot be read (no IPv6, no /proc). */
int listener_sysctl_bindv6only(void);

/* Creates a CLOEXEC, non-blocking socket for spec, applies every option from the spec's unit
 * (IPV6_V6ONLY explicitly for AF_INET6, SO_REUSEADDR for inet stream, ReusePort=, FreeBind=,
 * Transparent=, NoDelay=, KeepAlive*, DeferAcceptSec=, ReceiveBuffer=, SendBuffer=,
 * BindToDevice=, PassCredentials=), binds and, for stream and seqpacket, listens with Backlog=.
 * Unix paths: parent directories created with DirectoryMode=, symlinks never followed, an
 * existing path removed only when it is a stale socket (connect() gets ECONNREFUSED), owner
 * (SocketUser=/SocketGroup=) and mode (SocketMode=) applied without a race.
 * Returns 0 and the new fd in *ret_fd (owned by the caller), or a negative errno with a
 * one-line message in err: which step failed and why; for an option that needs a privilege,
 * which option and which capability; for EADDRINUSE, the holder from sock_diag_find_holder()
 * when it can be found ("... — held by pid 1234 (nginx), listening on 0.0.0.0:8080").
 * On success err is either empty or holds one non-fatal warning for the caller to log (for
 * example a ReceiveBuffer= the kernel capped at net.core.rmem_max without CAP_NET_ADMIN).
 * Unix paths are bound under a temporary umask(0777): call it from one thread only. */
int listener_bind(const BindSpec *spec, int *ret_fd, char *err, size_t errlen);

/* Information read back from a bound socket (borrowed fd). */
typedef struct ListenerInfo {
        SockAddr addr;   /* getsockname() */
        int family, socktype, protocol;
        int v6only;      /* IPV6_V6ONLY read back, -1 if not AF_INET6 */
        int backlog;     /* the listen() backlog the kernel applies; -1 unknown */
        Reach reach;
} ListenerInfo;

/* The old names of the Reach values, for control.c until it uses common/socket-util.h's; to be
 * removed once none is left. */
#define LISTENER_REACH_ALL REACH_ALL
#define LISTENER_REACH_LOOPBACK REACH_LOOPBACK
#define LISTENER_REACH_ONE REACH_ONE
#define LISTENER_REACH_LOCAL REACH_LOCAL

/* Fills *ret from the kernel (borrowed fd). backlog is the listen() backlog the kernel applied
 * (TCP and unix stream/seqpacket listeners), else -1. Returns 0 or a negative errno. */
int listener_read_back(int fd, ListenerInfo *ret);

/* The one log line for a bound socket:
 * "web.socket: listening on [::]:8080 (TCP, dual-stack: takes IPv4 and IPv6, IPV6_V6ONLY=0) —
 *  all interfaces, reachable from other machines — try: curl http://127.0.0.1:8080/"
 * The protocol part reads "(TCP, IPv4)", "(TCP, IPv6 only, IPV6_V6ONLY=1)", "(UDP, ...)",
 * "(unix stream)" (socket_protocol_describe()), the reach part is reach_describe(); the hint
 * is curl for TCP, nc -u for UDP, nc -U / socat for unix.
 * Returns buf. */
const char *listener_describe(const char *unit, const ListenerInfo *info, char *buf,
                              size_t buflen);

/* The old names of sock_diag_queue() and sock_diag_find_holder(), for the callers not yet
 * switched over (control.c); to be removed once none is left. */
static inline int listener_queue(int fd, unsigned *ret_waiting, unsigned *ret_backlog) {
        return sock_diag_queue(fd, ret_waiting, ret_backlog);
}
static inline int listener_find_holder(const SockAddr *addr, int socktype, char *buf,
                                       size_t buflen) {
        return sock_diag_find_holder(addr, socktype, buf, buflen);
}
