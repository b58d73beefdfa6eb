/* Tests for common/socket-util.c: the protocol and reach tables, each name round-tripping
 * through its from_string(), the reach of addresses by rule, and getsockopt_int(). */
#include <check.h>
#include <errno.h>
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
        /* Every value has both names; the two forms differ only for unix sockets. */
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
