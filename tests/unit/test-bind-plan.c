/* bind-plan: the dual-stack decision per socket, the overlap matrix across units (sockets,
 * FIFOs, special files, message queues, netlink), and what --check says of each spec. */
#include <check.h>
#include <stdio.h>
#include <syslog.h>

#include "common/address.h"
#include "daemon/bind-plan.h"
#include "tests/unit/test-util.h"

#define MAX_LISTENS 8

typedef struct TestUnit {
        Unit unit;
        SocketOptions options; /* the unit's */
        SocketListen listens[MAX_LISTENS];
        char file[64];
} TestUnit;

/* "ListenStream=127.0.0.1:80", "ListenFIFO=/run/x", "ListenNetlink=kobject-uevent 1", ... */
static void add_listen(TestUnit *t, const char *assignment) {
        SocketListen *l = &t->listens[t->unit.socket.n_listens];
        char err[ADDRESS_ERROR_MAX], family[32];
        const char *v;

        ck_assert_uint_lt(t->unit.socket.n_listens, MAX_LISTENS);
        if ((v = startswith(assignment, "ListenStream=")))
                l->type = LISTEN_STREAM;
        else if ((v = startswith(assignment, "ListenDatagram=")))
                l->type = LISTEN_DATAGRAM;
        else if ((v = startswith(assignment, "ListenSequentialPacket=")))
                l->type = LISTEN_SEQPACKET;
        else if ((v = startswith(assignment, "ListenFIFO=")))
                l->type = LISTEN_FIFO;
        else if ((v = startswith(assignment, "ListenSpecial=")))
                l->type = LISTEN_SPECIAL;
        else if ((v = startswith(assignment, "ListenMessageQueue=")))
                l->type = LISTEN_MQUEUE;
        else if ((v = startswith(assignment, "ListenNetlink=")))
                l->type = LISTEN_NETLINK;
        else
                ck_abort_msg("bad assignment %s", assignment);
        if (l->type == LISTEN_NETLINK) {
                ck_assert_int_ge(sscanf(v, "%31s %u", family, &l->netlink.group), 1);
                l->netlink.family = netlink_family_from_string(family);
                ck_assert_int_ge(l->netlink.family, 0);
        } else if (!listen_type_has_address(l->type))
                l->path = (char *) v;
        else
                ck_assert_msg(address_parse(v, &l->address, err, sizeof err) == 0, "%s: %s", v,
                              err);
        l->text = (char *) v;
        l->origin.file = t->file;
        l->origin.line = t->unit.socket.n_listens + 2;
        t->unit.socket.listens = t->listens;
        t->unit.socket.n_listens++;
}

static void test_unit_init(TestUnit *t, const char *name, BindIPv6Only policy, bool reuse) {
        memset(t, 0, sizeof *t);
        t->unit.name = (char *) name;
        t->unit.type = UNIT_SOCKET;
        t->unit.socket.bind_ipv6_only = policy;
        t->options = socket_options_defaults;
        t->options.reuse_port = reuse;
        t->unit.socket.options = &t->options;
        t->unit.socket.backlog = -1;
        snprintf(t->file, sizeof t->file, "/units/%s", name);
}

/* What the parser made for the addresses: a unix one is on the heap. */
static void test_unit_done(TestUnit *t) {
        for (size_t i = 0; i < t->unit.socket.n_listens; i++)
                address_done(&t->listens[i].address);
}

typedef struct Diags {
        char text[8192];
        unsigned errors;
        const char *last_file;
        unsigned last_line;
} Diags;

static void collect(int level, const char *file, unsigned line, const char *msg, void *ud) {
        Diags *d = ud;
        size_t n = strlen(d->text);

        if (level <= LOG_ERR)
                d->errors++;
        d->last_file = file;
        d->last_line = line;
        snprintf(d->text + n, sizeof d->text - n, "%s:%u: %s\n", strempty(file), line, msg);
}

static const HostInfo host_v6 = { .ipv6 = true, .bindv6only = 0 };

/* One row of the matrix: unit a (first in lexical order) and unit b. */
typedef struct OverlapRow {
        const char *a;
        BindIPv6Only a_policy;
        bool a_reuse;
        const char *b;
        BindIPv6Only b_policy;
        bool b_reuse;
        int bindv6only;
        bool conflict;
        const char *why; /* substring of the message, when conflict */
} OverlapRow;

#define S(x) "ListenStream=" x
#define D(x) "ListenDatagram=" x
#define F(x) "ListenFIFO=" x
#define SP(x) "ListenSpecial=" x
#define MQ(x) "ListenMessageQueue=" x
#define NL(x) "ListenNetlink=" x
#define BOTH BIND_IPV6_ONLY_BOTH
#define V6ONLY BIND_IPV6_ONLY_IPV6_ONLY
#define SEP BIND_IPV6_ONLY_SEPARATE
#define DEF BIND_IPV6_ONLY_DEFAULT

static const OverlapRow rows[] = {
        /* v4 and v4 */
        { S("127.0.0.1:80"), BOTH, 0, S("127.0.0.1:80"), BOTH, 0, 0, true, "both bind TCP 127.0.0.1:80" },
        { S("127.0.0.1:80"), BOTH, 0, S("127.0.0.2:80"), BOTH, 0, 0, false, NULL },
        { S("127.0.0.1:80"), BOTH, 0, S("127.0.0.1:81"), BOTH, 0, 0, false, NULL },
        /* wildcard v4 and a specific v4, both orders */
        { S("0.0.0.0:80"), BOTH, 0, S("127.0.0.1:80"), BOTH, 0, 0, true, "TCP 0.0.0.0:80 takes every IPv4 address on TCP port 80: 127.0.0.1:80 among them" },
        { S("127.0.0.1:80"), BOTH, 0, S("0.0.0.0:80"), BOTH, 0, 0, true, "takes every IPv4 address" },
        /* dual-stack [::] and v4 */
        { S("[::]:80"), BOTH, 0, S("127.0.0.1:80"), BOTH, 0, 0, true, "TCP [::]:80 is dual-stack (IPV6_V6ONLY=0), so it also takes every IPv4 address on TCP port 80: 127.0.0.1:80 among them" },
        { S("[::]:80"), BOTH, 0, S("0.0.0.0:80"), BOTH, 0, 0, true, "dual-stack" },
        { S("80"), BOTH, 0, S("0.0.0.0:80"), BOTH, 0, 0, true, "dual-stack" },
        { S("*:80"), BOTH, 0, S("127.0.0.1:80"), BOTH, 0, 0, true, "dual-stack" },
        { S("127.0.0.1:80"), BOTH, 0, S(":80"), BOTH, 0, 0, true, "dual-stack" },
        /* v6-only and v4: no overlap */
        { S("[::]:80"), V6ONLY, 0, S("127.0.0.1:80"), BOTH, 0, 0, false, NULL },
        { S("[::]:80"), V6ONLY, 0, S("0.0.0.0:80"), BOTH, 0, 0, false, NULL },
        { S("80"), V6ONLY, 0, S("0.0.0.0:80"), BOTH, 0, 1, false, NULL },
        /* v6-only and v6 */
        { S("[::]:80"), V6ONLY, 0, S("[::1]:80"), BOTH, 0, 0, true, "takes every IPv6 address on TCP port 80: [::1]:80 among them" },
        { S("[::1]:80"), BOTH, 0, S("[::1]:80"), BOTH, 0, 0, true, "both bind TCP [::1]:80" },
        { S("[::1]:80"), BOTH, 0, S("127.0.0.1:80"), BOTH, 0, 0, false, NULL },
        /* separate and v4 / v6 */
        { S("*:80"), SEP, 0, S("127.0.0.1:80"), BOTH, 0, 0, true, "TCP 0.0.0.0:80 takes every IPv4 address" },
        { S("*:80"), SEP, 0, S("[::1]:80"), BOTH, 0, 0, true, "takes every IPv6 address" },
        { S("*:80"), SEP, 0, S("*:81"), SEP, 0, 0, false, NULL },
        /* localhost is two sockets */
        { S("localhost:80"), BOTH, 0, S("127.0.0.1:80"), BOTH, 0, 0, true, "both bind TCP 127.0.0.1:80" },
        { S("localhost:80"), BOTH, 0, S("[::1]:80"), BOTH, 0, 0, true, "both bind TCP [::1]:80" },
        /* BindIPv6Only=default follows the sysctl */
        { S("[::]:80"), DEF, 0, S("0.0.0.0:80"), BOTH, 0, 0, true, "dual-stack" },
        { S("[::]:80"), DEF, 0, S("0.0.0.0:80"), BOTH, 0, 1, false, NULL },
        /* TCP and UDP on the same port are separate; UDP and UDP are not */
        { S("127.0.0.1:53"), BOTH, 0, D("127.0.0.1:53"), BOTH, 0, 0, false, NULL },
        { S("[::]:53"), BOTH, 0, D("0.0.0.0:53"), BOTH, 0, 0, false, NULL },
        { D("127.0.0.1:53"), BOTH, 0, D("127.0.0.1:53"), BOTH, 0, 0, true, "both bind UDP 127.0.0.1:53" },
        { D("[::]:53"), BOTH, 0, D("127.0.0.1:53"), BOTH, 0, 0, true, "UDP [::]:53 is dual-stack" },
        /* unix and abstract duplicates, whatever the socket type */
        { S("/run/a.sock"), BOTH, 0, S("/run/a.sock"), BOTH, 0, 0, true, "both use the unix socket path /run/a.sock" },
        { S("/run/a.sock"), BOTH, 0, D("/run/a.sock"), BOTH, 0, 0, true, "path /run/a.sock" },
        { S("/run/a.sock"), BOTH, 0, S("/run/b.sock"), BOTH, 0, 0, false, NULL },
        { S("@berth"), BOTH, 0, S("@berth"), BOTH, 0, 0, true, "both use the unix socket abstract name @berth" },
        { S("@berth"), BOTH, 0, "ListenSequentialPacket=@berth", BOTH, 0, 0, true, "abstract name @berth" },
        { S("@berth"), BOTH, 0, S("@berth2"), BOTH, 0, 0, false, NULL },
        { S("@run/a.sock"), BOTH, 0, S("/run/a.sock"), BOTH, 0, 0, false, NULL },
        /* ReusePort=yes on both shares the port; on one side only it does not */
        { S("0.0.0.0:80"), BOTH, 1, S("0.0.0.0:80"), BOTH, 1, 0, false, NULL },
        { S("[::]:80"), BOTH, 1, S("127.0.0.1:80"), BOTH, 1, 0, false, NULL },
        { S("0.0.0.0:80"), BOTH, 1, S("0.0.0.0:80"), BOTH, 0, 0, true, "ReusePort=yes in both units" },
        /* two wildcards: the same addresses, not one among them (issue 10 item 10) */
        { S("[::]:80"), BOTH, 0, S("0.0.0.0:80"), BOTH, 0, 0, true, "takes every IPv4 address on TCP port 80: the addresses 0.0.0.0:80 takes. Fix:" },
        /* UDP: ReusePort= would split the datagrams between two services, so it is no fix */
        { D("127.0.0.1:53"), BOTH, 0, D("127.0.0.1:53"), BOTH, 0, 0, true, "both bind UDP 127.0.0.1:53. Fix: give one of them another port (ReusePort=yes in both would not fix it: the kernel would split the datagrams between them)" },
        /* the same [::], dual-stack and IPv6 only (dnss and rbldnsd on 53); BindIPv6Only=
         * is no fix there, nor for two dual-stack [::] */
        { D("[::]:53"), BOTH, 0, D("[::]:53"), V6ONLY, 0, 0, true, "both bind UDP [::]:53, one dual-stack (IPV6_V6ONLY=0) and one IPv6 only: each takes every IPv6 address on that port. Fix: give one of them another port (" },
        { S("[::]:22"), BOTH, 0, S("[::]:22"), BOTH, 0, 0, true, "both bind TCP [::]:22. Fix: give one of them another port, or set ReusePort=yes" },
        /* port 0: the kernel picks, never an overlap */
        { S("127.0.0.1:0"), BOTH, 0, S("127.0.0.1:0"), BOTH, 0, 0, false, NULL },
        /* one node per path in the file system, whatever makes or opens it */
        { F("/run/x"), BOTH, 0, F("/run/x"), BOTH, 0, 0, true, "both use the path /run/x (FIFO)" },
        { F("/run/x"), BOTH, 0, F("/run/y"), BOTH, 0, 0, false, NULL },
        { F("/run/x"), BOTH, 0, S("/run/x"), BOTH, 0, 0, true,
          "both use the path /run/x (FIFO and unix stream)" },
        { D("/run/x"), BOTH, 0, F("/run/x"), BOTH, 0, 0, true, "(unix datagram and FIFO)" },
        { SP("/dev/kmsg"), BOTH, 0, SP("/dev/kmsg"), BOTH, 0, 0, true,
          "both use the path /dev/kmsg (special file)" },
        { SP("/run/x"), BOTH, 0, F("/run/x"), BOTH, 0, 0, true, "(special file and FIFO)" },
        { F("/run/x"), BOTH, 0, S("@/run/x"), BOTH, 0, 0, false, NULL },
        { F("/run/x"), BOTH, 0, MQ("/x"), BOTH, 0, 0, false, NULL },
        /* message queues: one namespace of their own */
        { MQ("/q"), BOTH, 0, MQ("/q"), BOTH, 0, 0, true, "both use the message queue /q" },
        { MQ("/q"), BOTH, 0, MQ("/r"), BOTH, 0, 0, false, NULL },
        { MQ("/run"), BOTH, 0, F("/run"), BOTH, 0, 0, false, NULL },
        /* netlink: every socket gets its own port id, so never an overlap */
        { NL("kobject-uevent 1"), BOTH, 0, NL("kobject-uevent 1"), BOTH, 0, 0, false, NULL },
        { NL("route"), BOTH, 0, NL("route"), BOTH, 0, 0, false, NULL },
        { NL("route"), BOTH, 0, S("0.0.0.0:0"), BOTH, 0, 0, false, NULL },
};

START_TEST(test_overlap_matrix) {
        const OverlapRow *r = &rows[_i];
        _cleanup_(test_unit_done) TestUnit a, b;
        BindPlan plan = {};
        HostInfo host = { .ipv6 = true, .bindv6only = r->bindv6only };
        Diags d = {};
        char **failed = NULL;
        int k;

        test_unit_init(&a, "a.socket", r->a_policy, r->a_reuse);
        test_unit_init(&b, "b.socket", r->b_policy, r->b_reuse);
        add_listen(&a, r->a);
        add_listen(&b, r->b);
        ck_assert_int_eq(bind_plan_add_unit(&plan, &a.unit, &host, collect, &d), 0);
        ck_assert_int_eq(bind_plan_add_unit(&plan, &b.unit, &host, collect, &d), 0);

        k = bind_plan_check_overlap(&plan, collect, &d, &failed);
        ck_assert_msg(k == (r->conflict ? 1 : 0), "row %d (%s / %s): %d conflicts:\n%s", _i,
                      r->a, r->b, k, d.text);
        if (r->conflict) {
                /* the later unit fails, the message names both units, files, lines */
                ck_assert_ptr_nonnull(failed);
                ck_assert_str_eq(failed[0], "b.socket");
                ck_assert_ptr_null(failed[1]);
                ck_assert_msg(strstr(d.text, r->why), "row %d: no '%s' in:\n%s", _i, r->why,
                              d.text);
                ck_assert_msg(strstr(d.text, "/units/b.socket:2: "), "%s", d.text);
                ck_assert_msg(strstr(d.text, "in a.socket (/units/a.socket:2)"), "%s", d.text);
                ck_assert_msg(strstr(d.text, "Fix: "), "%s", d.text);
                ck_assert_msg(strstr(d.text, "b.socket is not loaded; a.socket keeps"), "%s",
                              d.text);
                if (strchr("/@", strchr(r->a, '=')[1]))
                        ck_assert_msg(strstr(d.text, "give one of them another path or name"),
                                      "%s", d.text);
        } else
                ck_assert_ptr_null(failed);

        for (char **i = failed; i && *i; i++)
                free(*i);
        free(failed);
        bind_plan_done(&plan);
}
END_TEST

/* Two entries of one unit that overlap: the unit fails, and the message names both lines. */
static const struct {
        const char *listens[3];
        const char *why;
} within_rows[] = {
        { { S("127.0.0.1:80"), S("0.0.0.0:80"), NULL },
          "/units/dup.socket:3: ListenStream=0.0.0.0:80 in dup.socket overlaps "
          "ListenStream=127.0.0.1:80 at line 2 of the same unit" },
        { { F("/run/dm"), MQ("/dm"), F("/run/dm") },
          "/units/dup.socket:4: ListenFIFO=/run/dm in dup.socket overlaps ListenFIFO=/run/dm at "
          "line 2 of the same unit: both use the path /run/dm (FIFO)" },
};

START_TEST(test_overlap_within_one_unit) {
        _cleanup_(test_unit_done) TestUnit a;
        BindPlan plan = {};
        Diags d = {};
        char **failed = NULL;

        test_unit_init(&a, "dup.socket", BOTH, false);
        for (size_t i = 0; i < 3 && within_rows[_i].listens[i]; i++)
                add_listen(&a, within_rows[_i].listens[i]);
        ck_assert_int_eq(bind_plan_add_unit(&plan, &a.unit, &host_v6, collect, &d), 0);
        ck_assert_int_eq(bind_plan_check_overlap(&plan, collect, &d, &failed), 1);
        ck_assert_str_eq(failed[0], "dup.socket");
        ck_assert_msg(strstr(d.text, within_rows[_i].why), "%s", d.text);
        free(failed[0]);
        free(failed);
        bind_plan_done(&plan);
}
END_TEST

/* A fails nothing, B overlaps A and fails, C overlaps only B: C must load, because B is not
 * bound. */
START_TEST(test_failed_unit_does_not_block_later_ones) {
        _cleanup_(test_unit_done) TestUnit a, b, c;
        BindPlan plan = {};
        Diags d = {};
        char **failed = NULL;

        test_unit_init(&a, "a.socket", BOTH, false);
        test_unit_init(&b, "b.socket", BOTH, false);
        test_unit_init(&c, "c.socket", BOTH, false);
        add_listen(&a, S("127.0.0.1:80"));
        add_listen(&b, S("127.0.0.1:80"));
        add_listen(&b, S("127.0.0.1:81"));
        add_listen(&c, S("127.0.0.1:81"));
        ck_assert_int_eq(bind_plan_add_unit(&plan, &a.unit, &host_v6, collect, &d), 0);
        ck_assert_int_eq(bind_plan_add_unit(&plan, &b.unit, &host_v6, collect, &d), 0);
        ck_assert_int_eq(bind_plan_add_unit(&plan, &c.unit, &host_v6, collect, &d), 0);
        ck_assert_int_eq(bind_plan_check_overlap(&plan, collect, &d, &failed), 1);
        ck_assert_str_eq(failed[0], "b.socket");
        ck_assert_ptr_null(failed[1]);

        bind_plan_remove_unit(&plan, "b.socket");
        ck_assert_uint_eq(plan.n_specs, 2);
        free(failed[0]);
        free(failed);
        bind_plan_done(&plan);
}
END_TEST

/* The dual-stack decision for each policy, read from the spec. */
typedef struct PolicyRow {
        const char *listen;
        BindIPv6Only policy;
        HostInfo host;
        const char *expect; /* descriptions joined with " | " */
} PolicyRow;

static const PolicyRow policy_rows[] = {
        { S("8080"), BOTH, { true, 1 }, "TCP [::]:8080, dual-stack: IPv4 and IPv6 (IPV6_V6ONLY=0)" },
        { S("8080"), V6ONLY, { true, 0 }, "TCP [::]:8080, IPv6 only (IPV6_V6ONLY=1)" },
        { S("8080"), SEP, { true, 0 }, "TCP 0.0.0.0:8080, IPv4 | TCP [::]:8080, IPv6 only (IPV6_V6ONLY=1)" },
        { S("8080"), DEF, { true, 1 }, "TCP [::]:8080, IPv6 only (IPV6_V6ONLY=1), from net.ipv6.bindv6only" },
        { S("8080"), DEF, { true, 0 }, "TCP [::]:8080, dual-stack: IPv4 and IPv6 (IPV6_V6ONLY=0), from net.ipv6.bindv6only" },
        { S("[::]:8080"), BOTH, { true, 1 }, "TCP [::]:8080, dual-stack: IPv4 and IPv6 (IPV6_V6ONLY=0)" },
        { S("[::]:8080"), SEP, { true, 0 }, "TCP 0.0.0.0:8080, IPv4 | TCP [::]:8080, IPv6 only (IPV6_V6ONLY=1)" },
        { S("0.0.0.0:8080"), BOTH, { true, 0 }, "TCP 0.0.0.0:8080, IPv4" },
        { S("[::1]:8080"), BOTH, { true, 0 }, "TCP [::1]:8080, IPv6 (IPV6_V6ONLY=1)" },
        { S("localhost:8080"), BOTH, { true, 0 }, "TCP 127.0.0.1:8080, IPv4 | TCP [::1]:8080, IPv6 (IPV6_V6ONLY=1)" },
        { D("127.0.0.1:53"), BOTH, { true, 0 }, "UDP 127.0.0.1:53, IPv4" },
        { S("/run/x.sock"), BOTH, { true, 0 }, "unix stream /run/x.sock, unix" },
        { "ListenSequentialPacket=@x", BOTH, { true, 0 }, "unix seqpacket @x, unix" },
        /* a host without IPv6: the wildcard falls back to IPv4, and says so */
        { S("8080"), BOTH, { false, -1 }, "TCP 0.0.0.0:8080, IPv4 only: this host has no IPv6" },
        { S("localhost:8080"), BOTH, { false, -1 }, "TCP 127.0.0.1:8080, IPv4" },
        /* what is not a socket, and netlink: no address, no dual-stack state */
        { F("/run/x"), BOTH, { true, 0 }, "FIFO /run/x (mode 0666)" },
        { SP("/dev/kmsg"), BOTH, { true, 0 }, "special file /dev/kmsg, read-only" },
        { NL("kobject-uevent 1"), BOTH, { true, 0 }, "netlink kobject-uevent, group 1" },
        { NL("route"), BOTH, { true, 0 }, "netlink route" },
        { NL("31 4"), BOTH, { true, 0 }, "netlink 31, group 4" },
        { MQ("/name"), BOTH, { true, 0 }, "message queue /name (mode 0666)" },
};

START_TEST(test_policy) {
        const PolicyRow *r = &policy_rows[_i];
        _cleanup_(test_unit_done) TestUnit a;
        BindPlan plan = {};
        Diags d = {};
        char got[1024] = "", buf[512];

        test_unit_init(&a, "p.socket", r->policy, false);
        add_listen(&a, r->listen);
        ck_assert_int_eq(bind_plan_add_unit(&plan, &a.unit, &r->host, collect, &d), 0);
        for (size_t i = 0; i < plan.n_specs; i++) {
                size_t n = strlen(got);
                snprintf(got + n, sizeof got - n, "%s%s", i ? " | " : "",
                         bind_spec_describe(&plan.specs[i], buf, sizeof buf));
                if (plan.specs[i].family == AF_INET6)
                        ck_assert(plan.specs[i].v6only == 0 || plan.specs[i].v6only == 1);
                else
                        ck_assert_int_eq(plan.specs[i].v6only, -1);
        }
        ck_assert_str_eq(got, r->expect);
        bind_plan_done(&plan);
}
END_TEST

/* Each entry becomes one spec, in the order of the lines, whatever its type: so the fds reach
 * the service in that order, as from systemd. */
START_TEST(test_listen_types_in_order) {
        static const struct {
                const char *listen;
                int family, socktype, protocol;
                SocketProtocol proto;
                const char *name;
        } want[] = {
                { F("/run/a"), AF_UNSPEC, 0, 0, SOCKET_PROTOCOL_FIFO, "/run/a" },
                { S("127.0.0.1:80"), AF_INET, SOCK_STREAM, 0, SOCKET_PROTOCOL_TCP, "127.0.0.1:80" },
                { MQ("/q"), AF_UNSPEC, 0, 0, SOCKET_PROTOCOL_MQUEUE, "/q" },
                { SP("/dev/rfkill"), AF_UNSPEC, 0, 0, SOCKET_PROTOCOL_SPECIAL, "/dev/rfkill" },
                { NL("kobject-uevent 1"), AF_NETLINK, SOCK_RAW, 15, SOCKET_PROTOCOL_NETLINK,
                  "kobject-uevent 1" },
                { NL("audit"), AF_NETLINK, SOCK_RAW, 9, SOCKET_PROTOCOL_NETLINK, "audit" },
                { D("/run/d"), AF_UNIX, SOCK_DGRAM, 0, SOCKET_PROTOCOL_UNIX_DGRAM, "/run/d" },
        };
        _cleanup_(test_unit_done) TestUnit a;
        BindPlan plan = {};
        Diags d = {};
        char buf[BIND_SPEC_NAME_MAX];

        test_unit_init(&a, "all.socket", BOTH, false);
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                add_listen(&a, want[i].listen);
        ck_assert_int_eq(bind_plan_add_unit(&plan, &a.unit, &host_v6, collect, &d), 0);
        ck_assert_uint_eq(plan.n_specs, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                const BindSpec *sp = &plan.specs[i];

                ck_assert_ptr_eq(sp->listen, &a.listens[i]);
                ck_assert_int_eq(sp->family, want[i].family);
                ck_assert_int_eq(sp->socktype, want[i].socktype);
                ck_assert_int_eq(sp->protocol, want[i].protocol);
                ck_assert_int_eq(bind_spec_protocol(sp), want[i].proto);
                ck_assert_str_eq(bind_spec_name(sp, buf, sizeof buf), want[i].name);
                ck_assert(bind_spec_is_socket(sp) == (want[i].family != AF_UNSPEC));
                ck_assert(bind_spec_has_address(sp) ==
                          (want[i].family == AF_INET || want[i].family == AF_UNIX));
                ck_assert(bind_spec_same_address(sp, sp));
        }
        ck_assert_uint_eq(plan.specs[4].addr.nl.nl_groups, 1);
        /* Same kind, other path, name or family: another thing. */
        ck_assert(!bind_spec_same_address(&plan.specs[0], &plan.specs[2]));
        ck_assert(!bind_spec_same_address(&plan.specs[4], &plan.specs[5]));
        ck_assert_int_eq(bind_plan_check_overlap(&plan, collect, &d, NULL), 0);
        bind_plan_done(&plan);
}
END_TEST

START_TEST(test_describe_options) {
        _cleanup_(test_unit_done) TestUnit a;
        BindPlan plan = {};
        Diags d = {};
        char buf[BIND_SPEC_DESCRIBE_MAX];

        test_unit_init(&a, "o.socket", BOTH, false);
        a.options.socket_mode = 0600;
        a.options.writable = true;
        a.options.mq_max_messages = 10;
        a.options.mq_message_size = 128;
        add_listen(&a, F("/run/o"));
        add_listen(&a, SP("/dev/o"));
        add_listen(&a, MQ("/o"));
        ck_assert_int_eq(bind_plan_add_unit(&plan, &a.unit, &host_v6, collect, &d), 0);
        ck_assert_str_eq(bind_spec_describe(&plan.specs[0], buf, sizeof buf),
                         "FIFO /run/o (mode 0600)");
        ck_assert_str_eq(bind_spec_describe(&plan.specs[1], buf, sizeof buf),
                         "special file /dev/o, read-write");
        ck_assert_str_eq(bind_spec_describe(&plan.specs[2], buf, sizeof buf),
                         "message queue /o (mode 0600, at most 10 messages of 128 bytes)");
        bind_plan_done(&plan);
}
END_TEST

START_TEST(test_no_ipv6_refuses_explicit_v6) {
        _cleanup_(test_unit_done) TestUnit a;
        BindPlan plan = {};
        Diags d = {};
        HostInfo host = { .ipv6 = false, .bindv6only = -1 };

        test_unit_init(&a, "p.socket", BOTH, false);
        add_listen(&a, S("127.0.0.1:80"));
        add_listen(&a, S("[::]:80"));
        ck_assert_int_eq(bind_plan_add_unit(&plan, &a.unit, &host, collect, &d),
                         UNIT_FILE_E_INVALID);
        ck_assert_uint_eq(plan.n_specs, 0); /* all or nothing */
        ck_assert_msg(strstr(d.text, "/units/p.socket:3: ListenStream=[::]:80: this host has no "
                                     "IPv6"),
                      "%s", d.text);
        bind_plan_done(&plan);
}
END_TEST

START_TEST(test_unresolvable_host) {
        _cleanup_(test_unit_done) TestUnit a;
        BindPlan plan = {};
        Diags d = {};

        if (!test_isolate_network("unresolvable host name"))
                return;
        test_unit_init(&a, "h.socket", BOTH, false);
        add_listen(&a, S("no-such-host.invalid:80"));
        ck_assert_int_eq(bind_plan_add_unit(&plan, &a.unit, &host_v6, collect, &d),
                         UNIT_FILE_E_INVALID);
        ck_assert_msg(strstr(d.text, "/units/h.socket:2: ListenStream=no-such-host.invalid:80"),
                      "%s", d.text);
        bind_plan_done(&plan);
        address_done(&a.listens[0].address);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("bind-plan");
        TCase *tc = tcase_create("overlap");

        tcase_add_loop_test(tc, test_overlap_matrix, 0, ELEMENTSOF(rows));
        tcase_add_loop_test(tc, test_overlap_within_one_unit, 0, ELEMENTSOF(within_rows));
        tcase_add_test(tc, test_failed_unit_does_not_block_later_ones);
        suite_add_tcase(s, tc);

        tc = tcase_create("policy");
        tcase_add_loop_test(tc, test_policy, 0, ELEMENTSOF(policy_rows));
        tcase_add_test(tc, test_listen_types_in_order);
        tcase_add_test(tc, test_describe_options);
        tcase_add_test(tc, test_no_ipv6_refuses_explicit_v6);
        tcase_add_test(tc, test_unresolvable_host);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
