/* bind-plan: owns the mapping from socket units to concrete sockets (and to the FIFOs, special
 * files and message queues they open), the dual-stack decision for each IPv6 socket, and the
 * overlap check across all units (SPEC §3). Nothing here binds; listener.c does, after the
 * whole plan has been checked. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <sys/un.h>

#include "common/address.h"
#include "common/socket-util.h"
#include "common/strmap.h"
#include "common/strv.h"
#include "daemon/bind-plan.h"

#define BIND_PLAN_SPECS_MAX (1U << 20)

static int socktype_of(ListenType t) {
        switch (t) {
        case LISTEN_STREAM:
                return SOCK_STREAM;
        case LISTEN_DATAGRAM:
                return SOCK_DGRAM;
        case LISTEN_SEQPACKET:
                return SOCK_SEQPACKET;
        case LISTEN_NETLINK:
                return SOCK_RAW;
        case LISTEN_FIFO:
        case LISTEN_SPECIAL:
        case LISTEN_MQUEUE:
                return 0; /* not sockets */
        case _LISTEN_TYPE_MAX:
        case _LISTEN_TYPE_INVALID:
                break;
        }
        return -EINVAL;
}

static bool in6_is_v4mapped(const struct in6_addr *a) {
        return IN6_IS_ADDR_V4MAPPED(a);
}

static int plan_append(BindPlan *plan, const BindSpec *s) {
        if (plan->n_specs >= BIND_PLAN_SPECS_MAX)
                return -E2BIG;
        /* Grow geometrically: 10,000 listeners must not cost 10,000 reallocs. */
        if ((plan->n_specs & (plan->n_specs - 1)) == 0) {
                size_t cap = plan->n_specs ? plan->n_specs * 2 : 4;
                BindSpec *n = realloc(plan->specs, cap * sizeof *n);
                if (!n)
                        return -ENOMEM;
                plan->specs = n;
        }
        plan->specs[plan->n_specs++] = *s;
        return 0;
}

/* The IPV6_V6ONLY value for a wildcard IPv6 socket under the unit's policy. */
static int wildcard_v6only(BindIPv6Only policy, const HostInfo *host, bool *ret_from_sysctl) {
        *ret_from_sysctl = false;
        switch (policy) {
        case BIND_IPV6_ONLY_BOTH:
                return 0;
        case BIND_IPV6_ONLY_IPV6_ONLY:
        case BIND_IPV6_ONLY_SEPARATE:
                return 1;
        case BIND_IPV6_ONLY_DEFAULT:
                *ret_from_sysctl = true;
                return host->bindv6only == 1;
        case _BIND_IPV6_ONLY_MAX:
        case _BIND_IPV6_ONLY_INVALID:
                break;
        }
        return 0;
}

static void sockaddr_in4_any(SockAddrSmall *sa, uint16_t port) {
        memset(sa, 0, sizeof *sa);
        sa->in.sin_family = AF_INET;
        sa->in.sin_port = htons(port);
        sa->in.sin_addr.s_addr = htonl(INADDR_ANY);
        sa->len = sizeof sa->in;
}

static void sockaddr_in6_any(SockAddrSmall *sa, uint16_t port) {
        memset(sa, 0, sizeof *sa);
        sa->in6.sin6_family = AF_INET6;
        sa->in6.sin6_port = htons(port);
        sa->in6.sin6_addr = in6addr_any;
        sa->len = sizeof sa->in6;
}

bool bind_spec_addr(const BindSpec *spec, SockAddr *ret) {
        if (spec->family == AF_UNIX)
                *ret = *spec->listen->address.unix_addr;
        else if (spec->family == AF_UNSPEC)
                *ret = (SockAddr) { .sa.sa_family = AF_UNSPEC };
        else
                sockaddr_from_small(ret, &spec->addr);
        return spec->family != AF_UNSPEC;
}

/* The socket address of s formatted (sockaddr_format()), into buf. */
static const char *spec_format(const BindSpec *s, char *buf, size_t len) {
        SockAddr sa;

        if (!bind_spec_addr(s, &sa))
                return snprintf(buf, len, "(none)"), buf;
        return sockaddr_format(&sa, buf, len);
}

/* Whether two socket specs have the same address (sockaddr_equal()). */
static bool specs_same_addr(const BindSpec *a, const BindSpec *b) {
        SockAddr sa, sb;

        return bind_spec_addr(a, &sa) && bind_spec_addr(b, &sb) && sockaddr_equal(&sa, &sb);
}

/* Adds the specs for one concrete inet address (not a wildcard). */
static int add_concrete(BindPlan *plan, const BindSpec *tmpl, const SockAddr *sa,
                        const HostInfo *host, bool *ret_skipped_v6) {
        BindSpec s = *tmpl;

        if (!sockaddr_to_small(&s.addr, sa))
                return -EAFNOSUPPORT; /* not inet: never from address_resolve() */
        s.family = sa->sa.sa_family;
        if (s.family == AF_INET6) {
                if (!host->ipv6) {
                        *ret_skipped_v6 = true;
                        return 0;
                }
                /* A specific IPv6 address never takes IPv4, except a v4-mapped one, which the
                 * kernel only binds with IPV6_V6ONLY off. Set it explicitly either way. */
                s.v6only = in6_is_v4mapped(&sa->in6.sin6_addr) ? 0 : 1;
        } else
                s.v6only = -1;
        return plan_append(plan, &s);
}

/* The spec of an entry without an address: a netlink socket, or what is not a socket. */
static void spec_of_entry(BindSpec *s, const SocketListen *l) {
        if (l->type == LISTEN_NETLINK) {
                s->family = AF_NETLINK;
                s->protocol = l->netlink.family;
                s->addr.nl = (struct sockaddr_nl) {
                        .nl_family = AF_NETLINK,
                        .nl_groups = l->netlink.group,
                };
                s->addr.len = sizeof(struct sockaddr_nl);
        } else
                s->family = AF_UNSPEC; /* the path is l's (bind_spec_path()) */
}

int bind_plan_add_unit(BindPlan *plan, const Unit *u, const HostInfo *host, UnitDiagFunc diag,
                       void *userdata) {
        const SocketConfig *c = &u->socket;
        size_t start = plan->n_specs;
        int r = 0;

        for (size_t i = 0; i < c->n_listens; i++) {
                const SocketListen *l = &c->listens[i];
                const ListenAddress *a = &l->address;
                BindSpec tmpl = {
                        .unit = u,
                        .listen = l,
                        .socktype = socktype_of(l->type),
                        .v6only = -1,
                };
                bool from_sysctl, skipped_v6 = false;

                if (!listen_type_has_address(l->type)) {
                        spec_of_entry(&tmpl, l);
                        r = plan_append(plan, &tmpl);
                        if (r != 0)
                                break;
                        continue;
                }
                switch (a->kind) {
                case ADDRESS_UNIX_PATH:
                case ADDRESS_UNIX_ABSTRACT:
                        tmpl.addr.sa.sa_family = AF_UNIX; /* the address is a's */
                        tmpl.family = AF_UNIX;
                        r = plan_append(plan, &tmpl);
                        break;

                case ADDRESS_ANY_IPV4:
                        tmpl.family = AF_INET;
                        sockaddr_in4_any(&tmpl.addr, a->port);
                        r = plan_append(plan, &tmpl);
                        break;

                case ADDRESS_WILDCARD:
                case ADDRESS_ANY_IPV6: {
                        int v6only = wildcard_v6only(c->bind_ipv6_only, host, &from_sysctl);

                        if (!host->ipv6) {
                                if (a->kind == ADDRESS_ANY_IPV6) {
                                        unit_diagf(diag, userdata, LOG_ERR, l->origin.file,
                                              l->origin.line,
                                              "%s=%s: this host has no IPv6, so [::] cannot be "
                                              "bound; write '0.0.0.0:%u' or '*:%u'",
                                              listen_type_to_string(l->type), LISTEN_TEXT(l),
                                              a->port, a->port);
                                        r = UNIT_FILE_E_INVALID;
                                        break;
                                }
                                tmpl.family = AF_INET;
                                tmpl.ipv6_fallback = true;
                                sockaddr_in4_any(&tmpl.addr, a->port);
                                r = plan_append(plan, &tmpl);
                                break;
                        }
                        if (c->bind_ipv6_only == BIND_IPV6_ONLY_SEPARATE) {
                                BindSpec v4 = tmpl;
                                v4.family = AF_INET;
                                sockaddr_in4_any(&v4.addr, a->port);
                                r = plan_append(plan, &v4);
                                if (r < 0)
                                        break;
                        }
                        tmpl.family = AF_INET6;
                        tmpl.v6only = v6only;
                        tmpl.v6only_from_sysctl = from_sysctl;
                        sockaddr_in6_any(&tmpl.addr, a->port);
                        r = plan_append(plan, &tmpl);
                        break;
                }

                case ADDRESS_IP:
                case ADDRESS_LOCALHOST:
                case ADDRESS_HOSTNAME: {
                        _cleanup_free_ SockAddr *addrs = NULL;
                        char err[ADDRESS_ERROR_MAX];
                        int n;

                        if (a->kind == ADDRESS_IP && a->sockaddr.sa.sa_family == AF_INET6 &&
                            !host->ipv6) {
                                unit_diagf(diag, userdata, LOG_ERR, l->origin.file, l->origin.line,
                                      "%s=%s: this host has no IPv6, so this address cannot be "
                                      "bound", listen_type_to_string(l->type), LISTEN_TEXT(l));
                                r = UNIT_FILE_E_INVALID;
                                break;
                        }
                        n = address_resolve(a, &addrs, err, sizeof err);
                        if (n == -ENOMEM) {
                                r = n;
                                break;
                        }
                        if (n < 0) {
                                unit_diagf(diag, userdata, LOG_ERR, l->origin.file, l->origin.line,
                                      "%s=%s: %s", listen_type_to_string(l->type), LISTEN_TEXT(l),
                                      err);
                                r = UNIT_FILE_E_INVALID;
                                break;
                        }
                        for (int k = 0; k < n && r >= 0; k++)
                                r = add_concrete(plan, &tmpl, &addrs[k], host, &skipped_v6);
                        if (r >= 0 && plan->n_specs == start) {
                                unit_diagf(diag, userdata, LOG_ERR, l->origin.file, l->origin.line,
                                      "%s=%s: every address is IPv6 and this host has no IPv6",
                                      listen_type_to_string(l->type), LISTEN_TEXT(l));
                                r = UNIT_FILE_E_INVALID;
                        }
                        break;
                }

                case _ADDRESS_KIND_MAX:
                case _ADDRESS_KIND_INVALID:
                        r = -EINVAL;
                        break;
                }
                if (r != 0)
                        break;
        }

        if (r != 0)
                plan->n_specs = start; /* all or nothing for a unit */
        return r;
}

/* What a spec covers, as sets of addresses per family. */
typedef enum Cover { COVER_NONE, COVER_ALL, COVER_ONE } Cover;

typedef struct Coverage {
        Cover v4, v6;
        struct in_addr a4;
        struct in6_addr a6;
        uint32_t scope;
} Coverage;

static Coverage coverage_of(const BindSpec *s) {
        Coverage c = { .v4 = COVER_NONE, .v6 = COVER_NONE };

        if (s->family == AF_INET) {
                c.a4 = s->addr.in.sin_addr;
                c.v4 = c.a4.s_addr == htonl(INADDR_ANY) ? COVER_ALL : COVER_ONE;
        } else if (s->family == AF_INET6) {
                const struct in6_addr *a = &s->addr.in6.sin6_addr;
                if (IN6_IS_ADDR_UNSPECIFIED(a)) {
                        c.v6 = COVER_ALL;
                        if (s->v6only == 0)
                                c.v4 = COVER_ALL;
                } else if (in6_is_v4mapped(a)) {
                        c.v4 = COVER_ONE;
                        memcpy(&c.a4, &a->s6_addr[12], 4);
                } else {
                        c.v6 = COVER_ONE;
                        c.a6 = *a;
                        c.scope = s->addr.in6.sin6_scope_id;
                }
        }
        return c;
}

static bool cover_intersects(Cover x, Cover y, bool same_one) {
        if (x == COVER_NONE || y == COVER_NONE)
                return false;
        if (x == COVER_ALL || y == COVER_ALL)
                return true;
        return same_one;
}

static bool coverage_intersects(const Coverage *a, const Coverage *b) {
        return cover_intersects(a->v4, b->v4, a->a4.s_addr == b->a4.s_addr) ||
               cover_intersects(a->v6, b->v6,
                                memcmp(&a->a6, &b->a6, sizeof a->a6) == 0 && a->scope == b->scope);
}

static uint16_t spec_port(const BindSpec *s) {
        if (s->family == AF_INET)
                return ntohs(s->addr.in.sin_port);
        if (s->family == AF_INET6)
                return ntohs(s->addr.in6.sin6_port);
        return 0;
}

#define SUN_PATH_BUF (sizeof(((struct sockaddr_un *) NULL)->sun_path) + 1)

/* The path in the file system a spec creates or opens: a unix socket path, a FIFO, a special
 * file; NULL for anything else. buf holds a unix socket path. */
static const char *spec_file(const BindSpec *s, char buf[static SUN_PATH_BUF]) {
        bool abstract;

        if (s->family == AF_UNIX)
                return sockaddr_unix_name(s->listen->address.unix_addr, buf, SUN_PATH_BUF, NULL,
                                          &abstract) && !abstract ? buf : NULL;
        if (s->family == AF_UNSPEC && s->listen->type != LISTEN_MQUEUE)
                return bind_spec_path(s);
        return NULL;
}

static bool specs_overlap(const BindSpec *a, const BindSpec *b) {
        char ba[SUN_PATH_BUF], bb[SUN_PATH_BUF];
        const char *fa = spec_file(a, ba), *fb = spec_file(b, bb);

        if (fa || fb)
                return fa && fb && streq(fa, fb); /* one node per path, whatever its type */
        if (a->family == AF_UNSPEC || b->family == AF_UNSPEC)
                return a->family == b->family && /* message queues */
                       streq(bind_spec_path(a), bind_spec_path(b));
        if (a->family == AF_NETLINK || b->family == AF_NETLINK)
                return false; /* each netlink socket gets its own port id */
        if ((a->family == AF_UNIX) != (b->family == AF_UNIX))
                return false;
        if (a->family == AF_UNIX)
                /* One name per abstract name, whatever the socket type. */
                return specs_same_addr(a, b);
        if (a->socktype != b->socktype)
                return false; /* TCP and UDP ports are separate */
        if (spec_port(a) == 0 || spec_port(b) == 0 || spec_port(a) != spec_port(b))
                return false; /* port 0: the kernel picks a free one */
        if (socket_config_options(&a->unit->socket)->reuse_port &&
            socket_config_options(&b->unit->socket)->reuse_port)
                return false;
        Coverage ca = coverage_of(a), cb = coverage_of(b);
        return coverage_intersects(&ca, &cb);
}

static const char *proto_name(const BindSpec *s) {
        return socket_protocol_describe(bind_spec_protocol(s)) ?: "socket";
}

/* Why a and b overlap, in words. */
static void explain(const BindSpec *a, const BindSpec *b, char *buf, size_t len) {
        char sa[ADDRESS_FORMAT_MAX], sb[ADDRESS_FORMAT_MAX];
        Coverage ca = coverage_of(a), cb = coverage_of(b);
        const BindSpec *wide = NULL, *narrow = NULL;

        char fa[SUN_PATH_BUF];
        const char *file = spec_file(a, fa);

        if (a->family == AF_UNIX && b->family == AF_UNIX) {
                spec_format(a, sa, sizeof sa);
                snprintf(buf, len, "both use the unix socket %s%s",
                         sa[0] == '@' ? "abstract name " : "path ", sa);
                return;
        }
        if (file) {
                if (bind_spec_protocol(a) == bind_spec_protocol(b))
                        snprintf(buf, len, "both use the path %s (%s)", file, proto_name(a));
                else
                        snprintf(buf, len, "both use the path %s (%s and %s)", file,
                                 proto_name(a), proto_name(b));
                return;
        }
        if (a->family == AF_UNSPEC) {
                snprintf(buf, len, "both use the message queue %s", bind_spec_path(a));
                return;
        }
        spec_format(a, sa, sizeof sa);
        spec_format(b, sb, sizeof sb);
        if (specs_same_addr(a, b) && a->v6only == b->v6only) {
                snprintf(buf, len, "both bind %s %s", proto_name(a), sa);
                return;
        }
        if (specs_same_addr(a, b)) {
                snprintf(buf, len, "both bind %s %s, one dual-stack (IPV6_V6ONLY=0) and one "
                         "IPv6 only: each takes every IPv6 address on that port",
                         proto_name(a), sa);
                return;
        }
        /* One side is a wildcard that covers the other; of two wildcards, the wider is the
         * dual-stack one. */
        int wa = (ca.v4 == COVER_ALL) + (ca.v6 == COVER_ALL);
        int wb = (cb.v4 == COVER_ALL) + (cb.v6 == COVER_ALL);
        if (wa > wb || (wa == wb && ((ca.v4 == COVER_ALL && cb.v4 != COVER_NONE) ||
                                     (ca.v6 == COVER_ALL && cb.v6 != COVER_NONE))))
                wide = a, narrow = b;
        else
                wide = b, narrow = a;
        spec_format(wide, sa, sizeof sa);
        spec_format(narrow, sb, sizeof sb);
        /* The narrow side may be a wildcard itself (0.0.0.0 beside a dual-stack [::]): then
         * it is no single address the wide one includes, but the same ones. */
        Coverage cn = coverage_of(narrow);
        bool narrow_wild = cn.v4 == COVER_ALL || cn.v6 == COVER_ALL;
        char tail[ADDRESS_FORMAT_MAX + 64];

        snprintf(tail, sizeof tail, narrow_wild ? "the addresses %s takes" : "%s among them",
                 sb);
        if (wide->family == AF_INET6 && wide->v6only == 0 &&
            (narrow->family == AF_INET || cn.v4 != COVER_NONE))
                snprintf(buf, len,
                         "%s %s is dual-stack (IPV6_V6ONLY=0), so it also takes every IPv4 "
                         "address on %s port %u: %s",
                         proto_name(wide), sa, proto_name(wide), spec_port(wide), tail);
        else
                snprintf(buf, len, "%s %s takes every %s address on %s port %u: %s",
                         proto_name(wide), sa, wide->family == AF_INET ? "IPv4" : "IPv6",
                         proto_name(wide), spec_port(wide), tail);
}

static void fix_hint(const BindSpec *earlier, const BindSpec *later, char *buf, size_t len) {
        if (!socket_family_is_inet(earlier->family)) {
                snprintf(buf, len, "give one of them another path or name");
                return;
        }
        /* IPv6 alone helps only when the other side is IPv4: two [::] share IPv6 anyway. */
        bool dual = (earlier->family == AF_INET6 && earlier->v6only == 0 &&
                     later->family == AF_INET) ||
                    (later->family == AF_INET6 && later->v6only == 0 &&
                     earlier->family == AF_INET);
        const Unit *du = earlier->family == AF_INET6 && earlier->v6only == 0 ? earlier->unit :
                                                                                later->unit;
        int n = snprintf(buf, len, "give one of them another port");
        if (n < 0 || (size_t) n >= len)
                return;
        if (dual)
                n += snprintf(buf + n, len - n,
                              ", or set BindIPv6Only=ipv6-only in %s so [::] takes IPv6 alone",
                              du->name);
        if (n < 0 || (size_t) n >= len)
                return;
        if (earlier->socktype == SOCK_DGRAM)
                /* SO_REUSEPORT would let both bind, and then the kernel hands each datagram to
                 * one of them: two services would each see some of the traffic. */
                snprintf(buf + n, len - n, " (ReusePort=yes in both would not fix it: the "
                         "kernel would split the datagrams between them)");
        else
                snprintf(buf + n, len - n,
                         ", or set ReusePort=yes in both units if they are the same program "
                         "meant to share the connections");
}

/* Specs that may overlap share a key: the same path or name, or for inet sockets the same
 * socket type and port. Different keys never overlap; equal keys (or a hash collision) are
 * compared in full. No key: a spec that overlaps nothing (netlink, port 0). */
typedef struct SpecKey {
        uint64_t key;
        size_t index;
} SpecKey;

static bool spec_key(const BindSpec *s, uint64_t *ret) {
        char buf[SUN_PATH_BUF];
        const char *file = spec_file(s, buf);
        bool abstract;

        if (file)
                *ret = strmap_hash(file) ^ 'F';
        else if (s->family == AF_UNSPEC)
                *ret = strmap_hash(bind_spec_path(s)) ^ 'Q';
        else if (s->family == AF_NETLINK)
                return false;
        else if (s->family == AF_UNIX)
                /* Abstract or unnamed: by name when it has one, else all together. */
                *ret = strmap_hash(sockaddr_unix_name(s->listen->address.unix_addr, buf,
                                                      sizeof buf, NULL, &abstract) ? buf : "") ^
                       'A';
        else if (spec_port(s) == 0)
                return false;
        else
                *ret = ((uint64_t) s->socktype << 16 | spec_port(s)) * UINT64_C(0x9e3779b97f4a7c15);
        return true;
}

static int spec_key_cmp(const void *a, const void *b) {
        const SpecKey *x = a, *y = b;
        if (x->key != y->key)
                return x->key < y->key ? -1 : 1;
        return x->index < y->index ? -1 : x->index > y->index;
}

int bind_plan_check_overlap(const BindPlan *plan, UnitDiagFunc diag, void *userdata,
                            char ***ret_failed) {
        _cleanup_strv_free_ char **failed = NULL;
        _cleanup_free_ SpecKey *keys = calloc(plan->n_specs + 1, sizeof *keys);
        _cleanup_free_ size_t *pos = calloc(plan->n_specs + 1, sizeof *pos);
        _cleanup_free_ size_t *start = calloc(plan->n_specs + 1, sizeof *start);
        _cleanup_(ptrmap_done) PtrMap failed_units = {};
        size_t n_keys = 0;
        int conflicts = 0;

        if (!keys || !pos || !start)
                return -ENOMEM;
        for (size_t j = 0; j < plan->n_specs; j++) {
                pos[j] = SIZE_MAX;
                if (spec_key(&plan->specs[j], &keys[n_keys].key))
                        keys[n_keys++].index = j;
        }
        qsort(keys, n_keys, sizeof *keys, spec_key_cmp);
        for (size_t p = 0; p < n_keys; p++) {
                pos[keys[p].index] = p;
                start[p] = p > 0 && keys[p - 1].key == keys[p].key ? start[p - 1] : p;
        }

        /* Units are contiguous in the plan and in lexical order, so a unit's fate is decided
         * by earlier units only: walk it in order and compare each spec with the earlier
         * specs of its key (in plan order too) whose units are still loaded. */
        for (size_t j = 0; j < plan->n_specs; j++) {
                const BindSpec *b = &plan->specs[j];

                if (pos[j] == SIZE_MAX || ptrmap_contains(&failed_units, b->unit))
                        continue;
                for (size_t p = start[pos[j]]; p < pos[j]; p++) {
                        const BindSpec *a = &plan->specs[keys[p].index];
                        char why[BIND_SPEC_NAME_MAX + 2 * ADDRESS_FORMAT_MAX + 256];
                        char fix[2 * UNIT_NAME_MAX + 256], sa[BIND_SPEC_NAME_MAX];

                        if (!specs_overlap(a, b))
                                continue;
                        if (a->unit != b->unit && ptrmap_contains(&failed_units, a->unit))
                                continue;

                        explain(a, b, why, sizeof why);
                        fix_hint(a, b, fix, sizeof fix);
                        bind_spec_name(a, sa, sizeof sa);
                        if (a->unit == b->unit)
                                unit_diagf(diag, userdata, LOG_ERR, b->listen->origin.file,
                                      b->listen->origin.line,
                                      "%s=%s in %s overlaps %s=%s at line %u of the same unit: "
                                      "%s. Fix: remove one of them. %s is not loaded.",
                                      listen_type_to_string(b->listen->type),
                                      LISTEN_TEXT(b->listen), b->unit->name,
                                      listen_type_to_string(a->listen->type),
                                      LISTEN_TEXT(a->listen), a->listen->origin.line, why,
                                      b->unit->name);
                        else
                                unit_diagf(diag, userdata, LOG_ERR, b->listen->origin.file,
                                      b->listen->origin.line,
                                      "%s=%s in %s overlaps %s=%s in %s (%s:%u): %s. Fix: %s. "
                                      "%s is not loaded; %s keeps %s.",
                                      listen_type_to_string(b->listen->type),
                                      LISTEN_TEXT(b->listen), b->unit->name,
                                      listen_type_to_string(a->listen->type),
                                      LISTEN_TEXT(a->listen), a->unit->name,
                                      strempty(a->listen->origin.file), a->listen->origin.line,
                                      why, fix, b->unit->name, a->unit->name, sa);
                        if (strv_extend(&failed, b->unit->name) < 0 ||
                            ptrmap_put(&failed_units, b->unit, NULL) < 0)
                                return -ENOMEM;
                        conflicts++;
                        break;
                }
        }

        if (ret_failed)
                *ret_failed = TAKE_PTR(failed);
        return conflicts;
}

void bind_plan_remove_unit(BindPlan *plan, const char *unit_name) {
        size_t k = 0;

        for (size_t i = 0; i < plan->n_specs; i++)
                if (!streq(plan->specs[i].unit->name, unit_name))
                        plan->specs[k++] = plan->specs[i];
        plan->n_specs = k;
}

void bind_plan_done(BindPlan *plan) {
        free(plan->specs);
        plan->specs = NULL;
        plan->n_specs = 0;
}

/* "kobject-uevent", or the number of a family without a name. */
static const char *netlink_name(int family, char *buf, size_t len) {
        const char *n = netlink_family_to_string(family);

        if (n)
                return n;
        snprintf(buf, len, "%d", family);
        return buf;
}

const char *bind_spec_name(const BindSpec *s, char *buf, size_t buflen) {
        char nl[16];

        if (s->family == AF_UNSPEC)
                snprintf(buf, buflen, "%s", bind_spec_path(s));
        else if (s->family == AF_NETLINK && s->addr.nl.nl_groups != 0)
                snprintf(buf, buflen, "%s %u", netlink_name(s->protocol, nl, sizeof nl),
                         s->addr.nl.nl_groups);
        else if (s->family == AF_NETLINK)
                snprintf(buf, buflen, "%s", netlink_name(s->protocol, nl, sizeof nl));
        else
                spec_format(s, buf, buflen);
        return buf;
}

SocketProtocol bind_spec_protocol(const BindSpec *s) {
        switch (s->listen->type) {
        case LISTEN_FIFO:
                return SOCKET_PROTOCOL_FIFO;
        case LISTEN_SPECIAL:
                return SOCKET_PROTOCOL_SPECIAL;
        case LISTEN_MQUEUE:
                return SOCKET_PROTOCOL_MQUEUE;
        case LISTEN_STREAM:
        case LISTEN_DATAGRAM:
        case LISTEN_SEQPACKET:
        case LISTEN_NETLINK:
        case _LISTEN_TYPE_MAX:
        case _LISTEN_TYPE_INVALID:
                break;
        }
        return socket_protocol_from_type(s->family, s->socktype);
}

bool bind_spec_same_address(const BindSpec *a, const BindSpec *b) {
        if (a->family != b->family || a->socktype != b->socktype || a->protocol != b->protocol)
                return false;
        if (a->family == AF_UNSPEC)
                return a->listen->type == b->listen->type &&
                       streq(bind_spec_path(a), bind_spec_path(b));
        return specs_same_addr(a, b);
}

/* The dual-stack state of an inet socket, for --check. */
static const char *stack_describe(const BindSpec *s) {
        if (s->family == AF_INET6)
                return s->v6only ? (IN6_IS_ADDR_UNSPECIFIED(&s->addr.in6.sin6_addr) ?
                                            "IPv6 only (IPV6_V6ONLY=1)" :
                                            "IPv6 (IPV6_V6ONLY=1)") :
                                   (IN6_IS_ADDR_UNSPECIFIED(&s->addr.in6.sin6_addr) ?
                                            "dual-stack: IPv4 and IPv6 (IPV6_V6ONLY=0)" :
                                            "IPv4-mapped (IPV6_V6ONLY=0)");
        if (s->family == AF_INET)
                return s->ipv6_fallback ? "IPv4 only: this host has no IPv6" : "IPv4";
        return "unix";
}

const char *bind_spec_describe(const BindSpec *s, char *buf, size_t buflen) {
        const SocketOptions *c = socket_config_options(&s->unit->socket);
        char a[ADDRESS_FORMAT_MAX], nl[16];

        switch (s->listen->type) {
        case LISTEN_FIFO:
                snprintf(buf, buflen, "FIFO %s (mode %04o)", bind_spec_path(s),
                         (unsigned) (c->socket_mode & 07777));
                return buf;
        case LISTEN_SPECIAL:
                snprintf(buf, buflen, "special file %s, %s", bind_spec_path(s),
                         c->writable ? "read-write" : "read-only");
                return buf;
        case LISTEN_MQUEUE:
                if (c->mq_max_messages > 0 && c->mq_message_size > 0)
                        snprintf(buf, buflen, "message queue %s (mode %04o, at most %u messages "
                                 "of %u bytes)", bind_spec_path(s),
                                 (unsigned) (c->socket_mode & 0777), c->mq_max_messages,
                                 c->mq_message_size);
                else
                        snprintf(buf, buflen, "message queue %s (mode %04o)", bind_spec_path(s),
                                 (unsigned) (c->socket_mode & 0777));
                return buf;
        case LISTEN_NETLINK:
                if (s->addr.nl.nl_groups != 0)
                        snprintf(buf, buflen, "netlink %s, group %u",
                                 netlink_name(s->protocol, nl, sizeof nl), s->addr.nl.nl_groups);
                else
                        snprintf(buf, buflen, "netlink %s",
                                 netlink_name(s->protocol, nl, sizeof nl));
                return buf;
        case LISTEN_STREAM:
        case LISTEN_DATAGRAM:
        case LISTEN_SEQPACKET:
        case _LISTEN_TYPE_MAX:
        case _LISTEN_TYPE_INVALID:
                break;
        }
        spec_format(s, a, sizeof a);
        snprintf(buf, buflen, "%s %s, %s%s", proto_name(s), a, stack_describe(s),
                 s->v6only_from_sysctl ? ", from net.ipv6.bindv6only" : "");
        return buf;
}
