/* socket-util: the name tables, and the reach rule: a wildcard reaches every interface, a
 * loopback address only this machine, any other address one interface. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "common/macro.h"
#include "common/parse-util.h"
#include "common/socket-util.h"
#include "common/string-table.h"

DEFINE_STRING_TABLE(socket_protocol, SocketProtocol,
                    [SOCKET_PROTOCOL_TCP] = "TCP",
                    [SOCKET_PROTOCOL_UDP] = "UDP",
                    [SOCKET_PROTOCOL_UNIX_STREAM] = "unix-stream",
                    [SOCKET_PROTOCOL_UNIX_DGRAM] = "unix-dgram",
                    [SOCKET_PROTOCOL_UNIX_SEQPACKET] = "unix-seqpacket",
                    [SOCKET_PROTOCOL_NETLINK] = "netlink",
                    [SOCKET_PROTOCOL_FIFO] = "fifo",
                    [SOCKET_PROTOCOL_SPECIAL] = "special",
                    [SOCKET_PROTOCOL_MQUEUE] = "mqueue")
DEFINE_STRING_TABLE_FROM_STRING(socket_protocol, SocketProtocol)

static const char *const socket_protocol_descriptions[] = {
        [SOCKET_PROTOCOL_TCP] = "TCP",
        [SOCKET_PROTOCOL_UDP] = "UDP",
        [SOCKET_PROTOCOL_UNIX_STREAM] = "unix stream",
        [SOCKET_PROTOCOL_UNIX_DGRAM] = "unix datagram",
        [SOCKET_PROTOCOL_UNIX_SEQPACKET] = "unix seqpacket",
        [SOCKET_PROTOCOL_NETLINK] = "netlink",
        [SOCKET_PROTOCOL_FIFO] = "FIFO",
        [SOCKET_PROTOCOL_SPECIAL] = "special file",
        [SOCKET_PROTOCOL_MQUEUE] = "message queue",
};

/* systemd's names (socket-netlink.c), so that a unit reads the same in both. */
DEFINE_STRING_TABLE(netlink_family, int,
                    [NETLINK_ROUTE] = "route",
                    [NETLINK_FIREWALL] = "firewall",
                    [NETLINK_INET_DIAG] = "inet-diag",
                    [NETLINK_NFLOG] = "nflog",
                    [NETLINK_XFRM] = "xfrm",
                    [NETLINK_SELINUX] = "selinux",
                    [NETLINK_ISCSI] = "iscsi",
                    [NETLINK_AUDIT] = "audit",
                    [NETLINK_FIB_LOOKUP] = "fib-lookup",
                    [NETLINK_CONNECTOR] = "connector",
                    [NETLINK_NETFILTER] = "netfilter",
                    [NETLINK_IP6_FW] = "ip6-fw",
                    [NETLINK_DNRTMSG] = "dnrtmsg",
                    [NETLINK_KOBJECT_UEVENT] = "kobject-uevent",
                    [NETLINK_GENERIC] = "generic",
                    [NETLINK_SCSITRANSPORT] = "scsitransport",
                    [NETLINK_ECRYPTFS] = "ecryptfs",
                    [NETLINK_RDMA] = "rdma",
                    [NETLINK_CRYPTO] = "crypto",
                    [NETLINK_SMC] = "smc")

int netlink_family_from_string(const char *s) {
        int i = string_table_find(netlink_family_table, ELEMENTSOF(netlink_family_table), s);
        unsigned n;

        if (i >= 0)
                return i;
        if (s && parse_unsigned(s, &n) >= 0 && n < NETLINK_FAMILY_MAX)
                return (int) n;
        return -EINVAL;
}

DEFINE_STRING_TABLE(reach, Reach,
                    [REACH_ALL] = "all interfaces",
                    [REACH_LOOPBACK] = "loopback only",
                    [REACH_ONE] = "one interface",
                    [REACH_LOCAL] = "local")
DEFINE_STRING_TABLE_FROM_STRING(reach, Reach)

static const char *const reach_descriptions[] = {
        [REACH_ALL] = "all interfaces, reachable from other machines",
        [REACH_LOOPBACK] = "loopback only, this machine only",
        [REACH_ONE] = "one interface",
        [REACH_LOCAL] = "this machine only, by path",
};

SocketProtocol socket_protocol_from_type(int family, int socktype) {
        switch (family) {
        case AF_INET:
        case AF_INET6:
                return socktype == SOCK_STREAM ? SOCKET_PROTOCOL_TCP :
                       socktype == SOCK_DGRAM  ? SOCKET_PROTOCOL_UDP :
                                                 _SOCKET_PROTOCOL_INVALID;
        case AF_UNIX:
                return socktype == SOCK_STREAM    ? SOCKET_PROTOCOL_UNIX_STREAM :
                       socktype == SOCK_DGRAM     ? SOCKET_PROTOCOL_UNIX_DGRAM :
                       socktype == SOCK_SEQPACKET ? SOCKET_PROTOCOL_UNIX_SEQPACKET :
                                                    _SOCKET_PROTOCOL_INVALID;
        case AF_NETLINK:
                return socktype == SOCK_RAW ? SOCKET_PROTOCOL_NETLINK : _SOCKET_PROTOCOL_INVALID;
        default:
                return _SOCKET_PROTOCOL_INVALID;
        }
}

const char *socket_protocol_describe(SocketProtocol p) {
        return string_table_get(socket_protocol_descriptions,
                                ELEMENTSOF(socket_protocol_descriptions), (int) p);
}

const char *socket_type_describe(int family, int socktype) {
        return socket_protocol_describe(socket_protocol_from_type(family, socktype)) ?: "socket";
}

Reach reach_from_sockaddr(const SockAddr *a) {
        switch (a->sa.sa_family) {
        case AF_INET: {
                uint32_t v = ntohl(a->in.sin_addr.s_addr);

                if (v == INADDR_ANY)
                        return REACH_ALL;
                if ((v >> 24) == 127)
                        return REACH_LOOPBACK;
                return REACH_ONE;
        }
        case AF_INET6: {
                const struct in6_addr *x = &a->in6.sin6_addr;

                if (IN6_IS_ADDR_UNSPECIFIED(x))
                        return REACH_ALL;
                if (IN6_IS_ADDR_LOOPBACK(x))
                        return REACH_LOOPBACK;
                if (IN6_IS_ADDR_V4MAPPED(x)) {
                        if (x->s6_addr[12] == 127)
                                return REACH_LOOPBACK;
                        if (memcmp(&x->s6_addr[12], "\0\0\0\0", 4) == 0)
                                return REACH_ALL;
                }
                return REACH_ONE;
        }
        default:
                return REACH_LOCAL;
        }
}

const char *reach_describe(Reach r) {
        return string_table_get(reach_descriptions, ELEMENTSOF(reach_descriptions), (int) r);
}

int getsockopt_int(int fd, int level, int name, int *ret) {
        int v = 0;
        socklen_t l = sizeof v;

        if (getsockopt(fd, level, name, &v, &l) < 0)
                return -errno;
        *ret = v;
        return 0;
}
