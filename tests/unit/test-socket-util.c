/* Tests for common/socket-util.c: the protocol, netlink family and reach tables, each name
 * round-tripping through its from_string(), the reach of addresses by rule, and
 * getsockopt_int(). */
#include <check.h>
#include <errno.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/socket-util.h"
#include "tests/unit/test-socket.h"
#include "tests/unit/test-util.h"

static const struct {
        int family, socktype;
        SocketProtocol protocol;
        const char *name;        /* socket_protocol_to_string() */
        const char *description; /* socket_protocol_describe() */
} protocol_rows[] = {
        { AF_INET, SOCK_STREAM, SOCKET_PROTOCOL_TCP, "TCP", "TCP" },
        { AF_INET6, SOCK_STREAM, SOCKET_PROTOCOL_TCP, "TCP", "TCP" },
        { AF_INET, SOCK_DGRAM, SOCKET_PROTOCOL_UDP, "UDP", "UDP" },
        { AF_INET6, SOCK_DGRAM, SOCKET_PROTOCOL_UDP, "UDP", "UDP" },
        { AF_UNIX, SOCK_STREAM, SOCKET_PROTOCOL_UNIX_STREAM, "unix-stream", "unix stream" },
        { AF_UNIX, SOCK_DGRAM, SOCKET_PROTOCOL_UNIX_DGRAM, "unix-dgram", "unix datagram" },
        { AF_UNIX, SOCK_SEQPACKET, SOCKET_PROTOCOL_UNIX_SEQPACKET, "unix-seqpacket",
          "unix seqpacket" },
        { AF_NETLINK, SOCK_RAW, SOCKET_PROTOCOL_NETLINK, "netlink", "netlink" },
        /* What berth does not bind. */
        { AF_INET, SOCK_SEQPACKET, _SOCKET_PROTOCOL_INVALID, NULL, NULL },
        { AF_INET, SOCK_RAW, _SOCKET_PROTOCOL_INVALID, NULL, NULL },
        { AF_UNIX, SOCK_RAW, _SOCKET_PROTOCOL_INVALID, NULL, NULL },
        { AF_NETLINK, SOCK_DGRAM, _SOCKET_PROTOCOL_INVALID, NULL, NULL },
};

START_TEST(test_protocol_row) {
        const __typeof__(protocol_rows[0]) *row = &protocol_rows[_i];
        SocketProtocol p = socket_protocol_from_type(row->family, row->socktype);

        ck_assert_int_eq(p, row->protocol);
        ck_assert_pstr_eq(socket_protocol_to_string(p), row->name);
        ck_assert_pstr_eq(socket_protocol_describe(p), row->description);
        ck_assert_str_eq(socket_type_describe(row->family, row->socktype),
                         row->description ?: "socket");
        if (row->name)
                ck_assert_int_eq(socket_protocol_from_string(row->name), p);
}
END_TEST

START_TEST(test_protocol_tables) {
        /* Every value has both names. Those of what is not a socket come from the listen type
         * (bind_spec_protocol()), never from a family and type. */
        for (SocketProtocol p = 0; p < _SOCKET_PROTOCOL_MAX; p++) {
                ck_assert_ptr_nonnull(socket_protocol_to_string(p));
                ck_assert_ptr_nonnull(socket_protocol_describe(p));
                ck_assert_int_eq(socket_protocol_from_string(socket_protocol_to_string(p)), p);
        }
        ck_assert_ptr_null(socket_protocol_to_string(_SOCKET_PROTOCOL_MAX));
        ck_assert_ptr_null(socket_protocol_to_string(_SOCKET_PROTOCOL_INVALID));
        ck_assert_ptr_null(socket_protocol_describe(_SOCKET_PROTOCOL_INVALID));
        ck_assert_int_eq(socket_protocol_from_string("tcp"), _SOCKET_PROTOCOL_INVALID);
        ck_assert_int_eq(socket_protocol_from_string("unix stream"), _SOCKET_PROTOCOL_INVALID);
        ck_assert_int_eq(socket_protocol_from_string(""), _SOCKET_PROTOCOL_INVALID);
        ck_assert_int_eq(socket_protocol_from_string(NULL), _SOCKET_PROTOCOL_INVALID);
        ck_assert_str_eq(socket_protocol_to_string(SOCKET_PROTOCOL_FIFO), "fifo");
        ck_assert_str_eq(socket_protocol_describe(SOCKET_PROTOCOL_FIFO), "FIFO");
        ck_assert_str_eq(socket_protocol_to_string(SOCKET_PROTOCOL_SPECIAL), "special");
        ck_assert_str_eq(socket_protocol_describe(SOCKET_PROTOCOL_SPECIAL), "special file");
        ck_assert_str_eq(socket_protocol_to_string(SOCKET_PROTOCOL_MQUEUE), "mqueue");
        ck_assert_str_eq(socket_protocol_describe(SOCKET_PROTOCOL_MQUEUE), "message queue");
}
END_TEST

/* systemd's names (socket-netlink.c), the kernel's numbers (linux/netlink.h). */
static const struct {
        const char *name;
        int family;
} netlink_rows[] = {
        { "route", NETLINK_ROUTE },
        { "firewall", NETLINK_FIREWALL },
        { "inet-diag", NETLINK_INET_DIAG },
        { "nflog", NETLINK_NFLOG },
        { "xfrm", NETLINK_XFRM },
        { "selinux", NETLINK_SELINUX },
        { "iscsi", NETLINK_ISCSI },
        { "audit", NETLINK_AUDIT },
        { "fib-lookup", NETLINK_FIB_LOOKUP },
        { "connector", NETLINK_CONNECTOR },
        { "netfilter", NETLINK_NETFILTER },
        { "ip6-fw", NETLINK_IP6_FW },
        { "dnrtmsg", NETLINK_DNRTMSG },
        { "kobject-uevent", NETLINK_KOBJECT_UEVENT },
        { "generic", NETLINK_GENERIC },
        { "scsitransport", NETLINK_SCSITRANSPORT },
        { "ecryptfs", NETLINK_ECRYPTFS },
        { "rdma", NETLINK_RDMA },
        { "crypto", NETLINK_CRYPTO },
        { "smc", NETLINK_SMC },
};

START_TEST(test_netlink_families) {
        for (size_t i = 0; i < ELEMENTSOF(netlink_rows); i++) {
                ck_assert_int_eq(netlink_family_from_string(netlink_rows[i].name),
                                 netlink_rows[i].family);
                ck_assert_str_eq(netlink_family_to_string(netlink_rows[i].family),
                                 netlink_rows[i].name);
        }
        /* A number, as systemd takes one, up to the kernel's MAX_LINKS. */
        ck_assert_int_eq(netlink_family_from_string("15"), NETLINK_KOBJECT_UEVENT);
        ck_assert_int_eq(netlink_family_from_string("31"), 31);
        ck_assert_ptr_null(netlink_family_to_string(31));
        ck_assert_int_eq(netlink_family_from_string("32"), -EINVAL);
        ck_assert_int_eq(netlink_family_from_string("-1"), -EINVAL);
        ck_assert_int_eq(netlink_family_from_string("Route"), -EINVAL);
        ck_assert_int_eq(netlink_family_from_string(""), -EINVAL);
        ck_assert_int_eq(netlink_family_from_string(NULL), -EINVAL);
        ck_assert_ptr_null(netlink_family_to_string(-1));
}
END_TEST

static const struct {
        const char *address;
        Reach reach;
} reach_rows[] = {
        { "0.0.0.0", REACH_ALL },
        { "127.0.0.1", REACH_LOOPBACK },
        { "127.255.0.9", REACH_LOOPBACK },
        { "192.0.2.10", REACH_ONE },
        { "::", REACH_ALL },
        { "::1", REACH_LOOPBACK },
        { "::ffff:127.0.0.1", REACH_LOOPBACK },
        { "::ffff:0.0.0.0", REACH_ALL },
        { "::ffff:192.0.2.10", REACH_ONE },
        { "fe80::1", REACH_ONE },
        { "2001:db8::1", REACH_ONE },
        { "/run/app.sock", REACH_LOCAL },
        { "@abstract", REACH_LOCAL },
};

START_TEST(test_reach_row) {
        const char *text = reach_rows[_i].address;
        SockAddr a = text[0] == '/' || text[0] == '@' ? make_unix(text) : make_inet(text, 80);

        ck_assert_msg(reach_from_sockaddr(&a) == reach_rows[_i].reach, "%s", text);
}
END_TEST

START_TEST(test_reach_tables) {
        static const struct {
                Reach reach;
                const char *name, *description;
        } rows[] = {
                { REACH_ALL, "all interfaces", "all interfaces, reachable from other machines" },
                { REACH_LOOPBACK, "loopback only", "loopback only, this machine only" },
                { REACH_ONE, "one interface", "one interface" },
                { REACH_LOCAL, "local", "this machine only, by path" },
        };

        ck_assert_uint_eq(ELEMENTSOF(rows), (size_t) _REACH_MAX);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                ck_assert_str_eq(reach_to_string(rows[i].reach), rows[i].name);
                ck_assert_str_eq(reach_describe(rows[i].reach), rows[i].description);
                ck_assert_int_eq(reach_from_string(rows[i].name), rows[i].reach);
        }
        ck_assert_ptr_null(reach_to_string(_REACH_MAX));
        ck_assert_ptr_null(reach_describe(_REACH_INVALID));
        ck_assert_int_eq(reach_from_string("loopback only, this machine only"), _REACH_INVALID);
        ck_assert_int_eq(reach_from_string(NULL), _REACH_INVALID);
}
END_TEST

START_TEST(test_getsockopt_int) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), v = -1, p[2];

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(getsockopt_int(fd, SOL_SOCKET, SO_TYPE, &v), 0);
        ck_assert_int_eq(v, SOCK_STREAM);
        ck_assert_int_eq(getsockopt_int(fd, SOL_SOCKET, SO_DOMAIN, &v), 0);
        ck_assert_int_eq(v, AF_INET);
        close(fd);

        /* Not a socket: the errno, and the value untouched. */
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        v = 42;
        ck_assert_int_eq(getsockopt_int(p[0], SOL_SOCKET, SO_TYPE, &v), -ENOTSOCK);
        ck_assert_int_eq(v, 42);
        close(p[0]);
        close(p[1]);
}
END_TEST

static Suite *socket_util_suite(void) {
        Suite *s = suite_create("socket-util");
        TCase *tc;

        tc = tcase_create("protocol");
        tcase_add_loop_test(tc, test_protocol_row, 0, (int) ELEMENTSOF(protocol_rows));
        tcase_add_test(tc, test_protocol_tables);
        tcase_add_test(tc, test_netlink_families);
        suite_add_tcase(s, tc);

        tc = tcase_create("reach");
        tcase_add_loop_test(tc, test_reach_row, 0, (int) ELEMENTSOF(reach_rows));
        tcase_add_test(tc, test_reach_tables);
        suite_add_tcase(s, tc);

        tc = tcase_create("getsockopt");
        tcase_add_test(tc, test_getsockopt_int);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        return test_run_suite(socket_util_suite());
}
