/* bind-plan: turns socket units into the concrete sockets to bind, and checks every pair for
 * overlap before anything is bound (SPEC §3). Pure apart from name resolution: no sd-event,
 * no logging; diagnostics go to the sink. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/address.h"
#include "daemon/unit-file.h"

/* What the host offers, read once by the caller (listener_probe_host()) so the plan stays
 * pure and testable. */
typedef struct HostInfo {
        bool ipv6;          /* an AF_INET6 socket can be created */
        int bindv6only;     /* net.ipv6.bindv6only: 0 or 1 (-1 unknown, treated as 0) */
} HostInfo;

/* One socket to bind. unit, listen and config are borrowed from the Unit. */
typedef struct BindSpec {
        const Unit *unit;
        const SocketListen *listen;
        SockAddr addr;
        int family;       /* AF_INET, AF_INET6, AF_UNIX */
        int socktype;     /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET */
        int v6only;       /* AF_INET6: 0 or 1, set explicitly; -1 for other families */
        bool ipv6_fallback; /* a wildcard that fell back to IPv4 (no IPv6 on the host) */
        bool v6only_from_sysctl; /* BindIPv6Only=default read the sysctl */
} BindSpec;

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
 * abstract names overlap when equal.
 * For each conflict the later unit (in the plan's order, which is lexical) is reported
 * through diag with both units, files, lines and addresses, why, and how to fix it, and its
 * name is added to *ret_failed (a NULL-terminated, malloc'ed strv; may be NULL when none).
 * Returns the number of conflicts, or -ENOMEM. */
int bind_plan_check_overlap(const BindPlan *plan, UnitDiagFunc diag, void *userdata,
                            char ***ret_failed);

/* Removes every spec of the named unit. */
void bind_plan_remove_unit(BindPlan *plan, const char *unit_name);

void bind_plan_done(BindPlan *plan);

/* Describes how a spec will be bound, for --check: "TCP [::]:8080 dual-stack (IPV6_V6ONLY=0)".
 * Returns buf. */
const char *bind_spec_describe(const BindSpec *s, char *buf, size_t buflen);
