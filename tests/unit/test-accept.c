/* Tests for daemon/accept.c's pure part: instance names as systemd 252's
 * instance_from_socket() writes them (IPv4, IPv6, IPv4-mapped, unix with and without
 * credentials), REMOTE_ADDR=/REMOTE_PORT=, and the keys MaxConnectionsPerSource= counts by. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/accept.h"

static SockAddr sa4(const char *ip, unsigned port) {
        SockAddr a = { .len = sizeof(struct sockaddr_in) };
        a.in.sin_family = AF_INET;
        a.in.sin_port = htons((uint16_t) port);
        ck_assert_int_eq(inet_pton(AF_INET, ip, &a.in.sin_addr), 1);
        return a;
}

static SockAddr sa6(const char *ip, unsigned port) {
        SockAddr a = { .len = sizeof(struct sockaddr_in6) };
        a.in6.sin6_family = AF_INET6;
        a.in6.sin6_port = htons((uint16_t) port);
        ck_assert_int_eq(inet_pton(AF_INET6, ip, &a.in6.sin6_addr), 1);
        return a;
}

typedef struct NameRow {
        bool v6;
        const char *local, *remote;
        unsigned nr;
        const char *name, *addr;
} NameRow;

static const NameRow name_rows[] = {
        { false, "127.0.0.1", "127.0.0.2", 0, "0-127.0.0.1:80-127.0.0.2:4711", "127.0.0.2" },
        { false, "10.0.0.1", "192.168.1.254", 4294967295u,
          "4294967295-10.0.0.1:80-192.168.1.254:4711", "192.168.1.254" },
        { true, "::1", "::1", 7, "7-::1:80-::1:4711", "::1" },
        { true, "2001:db8::1", "fe80::aa:bb", 12, "12-2001:db8::1:80-fe80::aa:bb:4711",
          "fe80::aa:bb" },
        /* a dual-stack socket: IPv4-mapped ends are named and shown as IPv4 */
        { true, "::ffff:127.0.0.1", "::ffff:127.0.0.3", 3, "3-127.0.0.1:80-127.0.0.3:4711",
          "127.0.0.3" },
};

START_TEST(test_name_row) {
        const NameRow *row = &name_rows[_i];
        AcceptPeer p = {
                .local = row->v6 ? sa6(row->local, 80) : sa4(row->local, 80),
                .remote = row->v6 ? sa6(row->remote, 4711) : sa4(row->remote, 4711),
        };
        char buf[ACCEPT_INSTANCE_MAX], addr[ACCEPT_REMOTE_ADDR_MAX], port[ACCEPT_REMOTE_PORT_MAX];
        char want[128];

        ck_assert_int_eq(accept_instance_name(row->nr, &p, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, row->name);
        ck_assert_int_eq(accept_remote_env(&p, addr, port), 2);
        snprintf(want, sizeof want, "REMOTE_ADDR=%s", row->addr);
        ck_assert_str_eq(addr, want);
        ck_assert_str_eq(port, "REMOTE_PORT=4711");
        /* too small a buffer is an error, never a cut name */
        ck_assert_int_eq(accept_instance_name(row->nr, &p, buf, strlen(row->name)),
                         -ENAMETOOLONG);
}
END_TEST

START_TEST(test_unix) {
        AcceptPeer p = {};
        char buf[ACCEPT_INSTANCE_MAX], addr[ACCEPT_REMOTE_ADDR_MAX], port[ACCEPT_REMOTE_PORT_MAX];
        AcceptSourceKey k, k2;

        p.local.un.sun_family = p.remote.un.sun_family = AF_UNIX;
        ck_assert_int_eq(accept_instance_name(5, &p, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, "5-unknown");
        ck_assert(!accept_source_key(&p, &k));
        p.have_cred = true;
        p.cred = (struct ucred) { .pid = 1234, .uid = 1000, .gid = 100 };
        ck_assert_int_eq(accept_instance_name(6, &p, buf, sizeof buf), 0);
        ck_assert_str_eq(buf, "6-1234-1000");
        /* no REMOTE_* for unix peers, as systemd */
        ck_assert_int_eq(accept_remote_env(&p, addr, port), 0);
        ck_assert_str_eq(addr, "");
        ck_assert_str_eq(port, "");
        /* per uid: another process of the same user is the same source */
        ck_assert(accept_source_key(&p, &k));
        p.cred.pid = 99;
        ck_assert(accept_source_key(&p, &k2));
        ck_assert(accept_source_key_equal(&k, &k2));
        p.cred.uid = 0;
        ck_assert(accept_source_key(&p, &k2));
        ck_assert(!accept_source_key_equal(&k, &k2));
}
END_TEST

START_TEST(test_source_keys) {
        AcceptPeer a = { .remote = sa4("127.0.0.1", 1) },
                   b = { .remote = sa6("::ffff:127.0.0.1", 2) },
                   c = { .remote = sa4("127.0.0.2", 1) }, d = { .remote = sa6("::1", 1) };
        AcceptSourceKey ka, kb, kc, kd;

        ck_assert(accept_source_key(&a, &ka));
        ck_assert(accept_source_key(&b, &kb));
        ck_assert(accept_source_key(&c, &kc));
        ck_assert(accept_source_key(&d, &kd));
        /* the port does not count; a mapped address is its IPv4 one */
        ck_assert(accept_source_key_equal(&ka, &kb));
        ck_assert(!accept_source_key_equal(&ka, &kc));
        ck_assert(!accept_source_key_equal(&ka, &kd));
}
END_TEST

static Suite *accept_suite(void) {
        Suite *s = suite_create("accept");
        TCase *tc = tcase_create("names");

        tcase_add_loop_test(tc, test_name_row, 0, (int) ELEMENTSOF(name_rows));
        tcase_add_test(tc, test_unix);
        tcase_add_test(tc, test_source_keys);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(accept_suite());
        int failures;

        srunner_run_all(sr, CK_NORMAL);
        failures = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
