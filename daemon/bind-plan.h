/* bind-plan: turns socket units into the concrete sockets to bind (and the FIFOs, special files
 * and message queues to open), and checks every pair for overlap before anything is bound
 * (SPEC §3). Pure apart from name resolution: no sd-event, no logging; diagnostics go to the
 * sink. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/address.h"
#include "common/socket-util.h"
#include "daemon/unit-file.h"

/* What the host offers, read once by the caller (listener_probe_host()) so the plan stays
 * pure and testable. */
typedef struct HostInfo {
        bool ipv6;          /* an AF_INET6 socket can be created */
        int bindv6only;     /* net.ipv6.bindv6only: 0 or 1 (-1 unknown, treated as 0) */
} HostInfo;

/* One socket to bind, or one FIFO, special file or message queue to open: what the listen entry
 * becomes. unit and listen are borrowed from the Unit; a FIFO's, special file's or message
 * queue's path or name is the listen entry's (bind_spec_path()). */
typedef struct BindSpec {
        const Unit *unit;
        const SocketListen *listen;
        /* inet: the address; netlink: nl_groups; unix: sa_family only, the address is the
         * listen entry's (address.unix_addr): read any through bind_spec_addr() */
        SockAddrSmall addr;
        /* The small fields in as few bytes as they need: a Listener holds a BindSpec, and
         * berthd holds a Listener per socket. */
        sa_family_t family; /* AF_INET, AF_INET6, AF_UNIX, AF_NETLINK; AF_UNSPEC for what is
                             * not a socket: a FIFO, a special file, a message queue */
        uint16_t protocol;  /* netlink: its family (NETLINK_ROUTE ...); else 0 */
        uint8_t socktype;   /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, SOCK_RAW (netlink); 0 */
        int8_t v6only;      /* AF_INET6: 0 or 1, set explicitly; -1 for other families */
        bool ipv6_fallback; /* a wildcard that fell back to IPv4 (no IPv6 on the host) */
        bool v6only_from_sysctl; /* BindIPv6Only=default read the sysctl */
} BindSpec;

/* The socket address of spec into *ret: for a unix socket its listen entry's, else spec's own.
 * Returns false, with AF_UNSPEC in *ret, for what is not a socket. */
bool bind_spec_addr(const BindSpec *spec, SockAddr *ret);

/* A FIFO's or special file's path, a message queue's name; NULL for a socket. */
static inline const char *bind_spec_path(const BindSpec *spec) {
        return spec->family == AF_UNSPEC ? socket_listen_path(spec->listen) : NULL;
}

typedef struct BindPlan {
        BindSpec *specs;
        size_t n_specs;
} BindPlan;

/* Appends the sockets of one socket unit to plan. Host names are resolved here.
 * Returns 0, UNIT_FILE_E_INVALID (reported through diag; nothing appended) or -ENOMEM. */
int bind_plan_add_unit(BindPlan *plan, const Unit *u, const HostInfo *host, UnitDiagFunc diag,
                       void *userdata);

/* Checks every pair of specs from different units (and within one unit) for overlap.
 * Two sockets overlap when they have the same family class (inet / unix), the same protocol
 * class (TCP: stream; UDP: datagram; seqpacket), the same port, and address sets that
 * intersect (a dual-stack [::] covers every IPv4 address; 0.0.0.0 covers every IPv4 address;
 * [::] v6-only covers every IPv6 address), unless both set ReusePort=yes. Unix paths and
 * abstract names overlap when equal. A path in the file system is one node: unix socket
 * paths, FIFOs and special files overlap when their paths are equal; message queues when their
 * names are. Netlink sockets never overlap (the kernel gives each its own port id).
 * For each conflict the later unit (in the plan's order, which is lexical) is reported
 * through diag with both units, files, lines and addresses, why, and how to fix it, and its
 * name is added to *ret_failed (a NULL-terminated, malloc'ed strv; may be NULL when none).
 * Returns the number of conflicts, or -ENOMEM. */
int bind_plan_check_overlap(const BindPlan *plan, UnitDiagFunc diag, void *userdata,
                            char ***ret_failed);

/* Removes every spec of the named unit. */
void bind_plan_remove_unit(BindPlan *plan, const char *unit_name);

void bind_plan_done(BindPlan *plan);

/* Describes how a spec will be bound, for --check and the log: "TCP [::]:8080, dual-stack: IPv4
 * and IPv6 (IPV6_V6ONLY=0)", "FIFO /run/x (mode 0666)", "special file /dev/kmsg, read-only",
 * "netlink kobject-uevent, group 1", "message queue /name (mode 0666)". Returns buf. */
#define BIND_SPEC_DESCRIBE_MAX (PATH_MAX + 128)
const char *bind_spec_describe(const BindSpec *s, char *buf, size_t buflen);

/* What a spec is bound to, in one word: its address ("[::]:8080", "/run/app.sock"), the path of
 * a FIFO or special file, the name of a message queue, or a netlink family and group as a unit
 * writes them ("kobject-uevent 1"). Returns buf. */
#define BIND_SPEC_NAME_MAX PATH_MAX
const char *bind_spec_name(const BindSpec *s, char *buf, size_t buflen);

/* Whether a spec is a socket (not a FIFO, special file or message queue). */
static inline bool bind_spec_is_socket(const BindSpec *s) {
        return s->family != AF_UNSPEC;
}
/* Whether a spec is an inet or unix socket: one with an address to read back and ask
 * sock_diag about. */
static inline bool bind_spec_has_address(const BindSpec *s) {
        return socket_family_is_inet(s->family) || s->family == AF_UNIX;
}
/* The protocol of a spec, for the control interface: TCP ... netlink, fifo, special, mqueue. */
SocketProtocol bind_spec_protocol(const BindSpec *s);
/* Whether a and b are bound to the same thing: family, type, protocol and address, or the same
 * kind of entry with the same path or name. (Not the dual-stack state or options.) */
bool bind_spec_same_address(const BindSpec *a, const BindSpec *b);
