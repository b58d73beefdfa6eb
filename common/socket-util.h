/* socket-util: how berth names sockets, once for the daemon (log lines, messages, the control
 * interface) and the client: the protocol of a family and type (and of the FIFOs, special files
 * and message queues a socket unit opens), netlink family names, and the reach of a bound
 * address. Pure: no logging, no sd-event. */
#pragma once

#include <errno.h>

#include "common/address.h"

typedef enum SocketProtocol {
        SOCKET_PROTOCOL_TCP,            /* AF_INET or AF_INET6, SOCK_STREAM */
        SOCKET_PROTOCOL_UDP,            /* AF_INET or AF_INET6, SOCK_DGRAM */
        SOCKET_PROTOCOL_UNIX_STREAM,
        SOCKET_PROTOCOL_UNIX_DGRAM,
        SOCKET_PROTOCOL_UNIX_SEQPACKET,
        SOCKET_PROTOCOL_NETLINK,        /* AF_NETLINK, SOCK_RAW */
        /* Not sockets: what ListenFIFO=, ListenSpecial= and ListenMessageQueue= open. */
        SOCKET_PROTOCOL_FIFO,
        SOCKET_PROTOCOL_SPECIAL,
        SOCKET_PROTOCOL_MQUEUE,
        _SOCKET_PROTOCOL_MAX,
        _SOCKET_PROTOCOL_INVALID = -EINVAL,
} SocketProtocol;

/* The protocol of a socket of family and socktype; _SOCKET_PROTOCOL_INVALID for a combination
 * berth does not bind (inet seqpacket, raw inet sockets, other families). */
SocketProtocol socket_protocol_from_type(int family, int socktype);
/* "TCP", "UDP", "unix-stream", "unix-dgram", "unix-seqpacket", "netlink", "fifo", "special",
 * "mqueue": the protocol field of the control interface (ListSockets). NULL for an invalid
 * value. */
const char *socket_protocol_to_string(SocketProtocol p);
SocketProtocol socket_protocol_from_string(const char *s);
/* "TCP", "UDP", "unix stream", "unix datagram", "unix seqpacket", "netlink", "FIFO", "special
 * file", "message queue": the protocol in messages and log lines ("cannot bind unix stream
 * /run/a.sock: ..."). NULL for an invalid value. */
const char *socket_protocol_describe(SocketProtocol p);
/* socket_protocol_describe() of the protocol of family and socktype, or "socket" for a
 * combination berth does not bind. Never NULL. */
const char *socket_type_describe(int family, int socktype);

/* Who can reach a bound socket. */
typedef enum Reach {
        REACH_ALL,      /* a wildcard address: every interface, other machines too */
        REACH_LOOPBACK, /* 127.0.0.0/8, ::1 or ::ffff:127.x.y.z: this machine only */
        REACH_ONE,      /* one address of one interface */
        REACH_LOCAL,    /* a unix socket: this machine only, by path or abstract name */
        _REACH_MAX,
        _REACH_INVALID = -EINVAL,
} Reach;

/* The reach of a bound (or planned) address: inet by its address, unix always REACH_LOCAL. */
Reach reach_from_sockaddr(const SockAddr *a);
/* "all interfaces", "loopback only", "one interface", "local": the reach field of the control
 * interface (ListSockets). NULL for an invalid value. */
const char *reach_to_string(Reach r);
Reach reach_from_string(const char *s);
/* "all interfaces, reachable from other machines", "loopback only, this machine only", "one
 * interface", "this machine only, by path": the reach in the log line of a bound socket. NULL
 * for an invalid value. */
const char *reach_describe(Reach r);

/* Netlink families by systemd's names (ListenNetlink=): "route", "kobject-uevent", ... The
 * name of a family, or NULL for one without a name. */
const char *netlink_family_to_string(int family);
/* A name, or a number below NETLINK_FAMILY_MAX (the kernel's MAX_LINKS); -EINVAL otherwise. */
#define NETLINK_FAMILY_MAX 32
int netlink_family_from_string(const char *s);

/* getsockopt() of an int option on fd (borrowed). Returns 0 with the value in *ret, or a
 * negative errno. */
int getsockopt_int(int fd, int level, int name, int *ret);

/* Whether family is AF_INET or AF_INET6. */
static inline bool socket_family_is_inet(int family) {
        return family == AF_INET || family == AF_INET6;
}
