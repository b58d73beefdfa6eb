/* Tests for daemon/ip-filter.c: the IPAddressAllow=/IPAddressDeny= parser as a table (input,
 * canonical list, warnings), and the compiled socket filter run by the kernel: attached and
 * locked on loopback TCP listeners (IPv4, IPv6 only, and dual-stack bound to an IPv4-mapped
 * address), with clients bound to 127.0.0.1, 127.0.0.2 and ::1 before they connect. A client
 * the filter drops never completes its handshake (its SYN is dropped); one it lets through
 * connects at once. Each case is also checked against ip_filter_allows(), the reference. The
 * same on a dual-stack UDP socket: denied datagrams never arrive. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/ip-filter.h"
#include "tests/unit/test-socket.h"
#include "tests/unit/test-util.h"

/* ---- the parser ---- */

typedef struct Warnings {
        unsigned n;
        char last[256];
} Warnings;

static void count_warning(const char *word, const char *why, void *userdata) {
        Warnings *w = userdata;

        w->n++;
        snprintf(w->last, sizeof w->last, "%s: %s", word, why);
}

static const struct {
        const char *lines[3]; /* applied in order, as several assignments */
        const char *expected; /* the list, formatted */
        unsigned warnings;
} parse_table[] = {
        { { "127.0.0.2" }, "127.0.0.2/32", 0 },
        { { "10.1.2.3/8" }, "10.0.0.0/8", 0 },
        { { "10.1.2.3/08" }, "10.0.0.0/8", 0 },
        { { "::1/128" }, "::1/128", 0 },
        { { "::1" }, "::1/128", 0 },
        { { "fe80::1234/10" }, "fe80::/10", 0 },
        { { "2001:db8::ff/127" }, "2001:db8::fe/127", 0 },
        { { "any" }, "0.0.0.0/0 ::/0", 0 },
        { { "localhost" }, "127.0.0.0/8 ::1/128", 0 },
        { { "LOCALHOST.localdomain" }, "127.0.0.0/8 ::1/128", 0 },
        { { "web.localhost" }, "127.0.0.0/8 ::1/128", 0 },
        { { "link-local" }, "169.254.0.0/16 fe80::/64", 0 },
        { { "multicast" }, "224.0.0.0/4 ff00::/8", 0 },
        { { "::ffff:127.0.0.2" }, "::ffff:127.0.0.2/128", 0 },
        { { "  1.2.3.4\t5.6.7.8  " }, "1.2.3.4/32 5.6.7.8/32", 0 },
        { { "1.2.3.4 bogus 5.6.7.8/33 ::1" }, "1.2.3.4/32 ::1/128", 2 },
        { { "1.2.3.4/ /8 1.2.3.4/x 1.2.3.4/-1 1.2.3.4/1234 \"1.2.3.4\"" }, "", 6 },
        { { "::1/129 1.2.3.4.5 localhost.com" }, "", 3 },
        { { "1.2.3.4 1.2.3.4/32 1.2.3.5/24 1.2.3.0/24" }, "1.2.3.4/32 1.2.3.0/24", 0 },
        { { "any", "", "::1" }, "::1/128", 0 },
        { { "127.0.0.1", "127.0.0.2" }, "127.0.0.1/32 127.0.0.2/32", 0 },
        { { "any", "" }, "", 0 },
};

START_TEST(test_parse_table) {
        for (size_t i = 0; i < ELEMENTSOF(parse_table); i++) {
                IPPrefixList l = {};
                Warnings w = {};
                char buf[1024];

                for (size_t k = 0; k < ELEMENTSOF(parse_table[i].lines) && parse_table[i].lines[k];
                     k++)
                        ck_assert_int_eq(ip_prefix_list_parse(&l, parse_table[i].lines[k],
                                                              count_warning, &w), 0);
                ck_assert_msg(streq(ip_prefix_list_format(&l, buf, sizeof buf),
                                    parse_table[i].expected),
                              "row %zu: got '%s', expected '%s'", i, buf,
                              parse_table[i].expected);
                ck_assert_msg(w.n == parse_table[i].warnings, "row %zu: %u warnings (last: %s)",
                              i, w.n, w.last);

                /* Round trip: the formatted list reads back as the same list. */
                IPPrefixList again = {};
                ck_assert_int_eq(ip_prefix_list_parse(&again, buf, NULL, NULL), 0);
                ck_assert(ip_prefix_list_equal(&l, &again) || !buf[0]);
                ip_prefix_list_clear(&again);
                ip_prefix_list_clear(&l);
        }
}
END_TEST

START_TEST(test_parse_cap) {
        IPPrefixList l = {};
        Warnings w = {};
        char word[32];

        for (unsigned i = 0; i < IP_FILTER_PREFIXES_MAX + 5; i++) {
                snprintf(word, sizeof word, "10.0.%u.%u", i / 256, i % 256);
                ck_assert_int_eq(ip_prefix_list_parse(&l, word, count_warning, &w), 0);
        }
        ck_assert_uint_eq(l.n, IP_FILTER_PREFIXES_MAX);
        ck_assert_uint_eq(w.n, 5);
        ck_assert_ptr_nonnull(strstr(w.last, "more than 100 prefixes"));

        /* Both lists full compile within BPF_MAXINSNS, IPv6 rules being the longest. */
        IPPrefixList v6 = {};
        for (unsigned i = 0; i < IP_FILTER_PREFIXES_MAX; i++) {
                snprintf(word, sizeof word, "::ffff:10.1.%u.%u/127", i / 256, i % 256);
                ck_assert_int_eq(ip_prefix_list_parse(&v6, word, NULL, NULL), 0);
        }
        struct sock_filter *prog = NULL;
        size_t n = 0;
        ck_assert_int_eq(ip_filter_compile(&v6, &v6, &prog, &n), 0);
        ck_assert_uint_le(n, BPF_MAXINSNS);
        free(prog);
        ip_prefix_list_clear(&v6);
        ip_prefix_list_clear(&l);
}
END_TEST

/* ---- the compiled filter, run by the kernel ---- */

enum { SRC_V4_1, SRC_V4_2, SRC_MAPPED_1, SRC_MAPPED_2, SRC_V6_1, _SRC_MAX };

/* Each client: its source address and the listener it connects to. */
static const struct {
        const char *source;
        int listener; /* 0: 127.0.0.1, 1: ::1 (IPv6 only), 2: ::ffff:127.0.0.1 (dual-stack) */
        int family;   /* of the packet the filter sees */
        const char *packet_source;
} clients[_SRC_MAX] = {
        [SRC_V4_1] = { "127.0.0.1", 0, AF_INET, "127.0.0.1" },
        [SRC_V4_2] = { "127.0.0.2", 0, AF_INET, "127.0.0.2" },
        [SRC_MAPPED_1] = { "::ffff:127.0.0.1", 2, AF_INET, "127.0.0.1" },
        [SRC_MAPPED_2] = { "::ffff:127.0.0.2", 2, AF_INET, "127.0.0.2" },
        [SRC_V6_1] = { "::1", 1, AF_INET6, "::1" },
};

static const struct {
        const char *allow, *deny;
        bool allowed[_SRC_MAX]; /* 127.0.0.1, .2, mapped .1, mapped .2, ::1 */
} kernel_table[] = {
        { "127.0.0.2", "any", { false, true, false, true, false } },
        { "", "127.0.0.0/8", { false, false, false, false, true } },
        { "::ffff:127.0.0.2", "localhost", { false, true, false, true, false } },
        { "127.0.0.1", "", { true, true, true, true, true } },
        { "", "::1/128", { true, true, true, true, false } },
        { "::/0", "any", { false, false, false, false, true } },
        { "", "127.0.0.2/31", { true, false, true, false, true } },
        { "", "::/127", { true, true, true, true, false } },
        { "::/127", "::/1 127.0.0.1", { false, true, false, true, true } },
        { "link-local multicast", "0.0.0.0/1", { false, false, false, false, true } },
        { "", "", { true, true, true, true, true } },
};

static int listen_on(const char *ip, int v6only, struct sock_filter *prog, size_t n) {
        SockAddr a = make_inet(ip, 0);
        struct sock_fprog fprog = { .len = (unsigned short) n, .filter = prog };
        int fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

        ck_assert_int_ge(fd, 0);
        if (a.sa.sa_family == AF_INET6)
                ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
                                            sizeof v6only), 0);
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog), 0);
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one), 0);
        ck_assert_int_eq(bind(fd, &a.sa, a.len), 0);
        ck_assert_int_eq(listen(fd, 64), 0);
        return fd;
}

static int connect_from(const char *source, const char *to, uint16_t port) {
        SockAddr s = make_inet(source, 0), d = make_inet(to, port);
        int fd = socket(s.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, &s.sa, s.len), 0);
        ck_assert(connect(fd, &d.sa, d.len) == 0 || errno == EINPROGRESS);
        return fd;
}

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until every client that should connect has, up to 10 s, then 300 ms more for any that
 * should not (a SYN the filter let through completes on loopback at once; a dropped one is
 * retried only after a second). Sets connected[i]. */
static void wait_clients(const int *fds, const bool *expected, bool *connected) {
        long long start = now_ms(), settled = -1;

        for (unsigned round = 0; round < 1000; round++) {
                struct pollfd p[_SRC_MAX];
                bool all = true;
                long long t = now_ms();

                for (size_t i = 0; i < _SRC_MAX; i++)
                        p[i] = (struct pollfd) { .fd = connected[i] ? -1 : fds[i],
                                                 .events = POLLOUT };
                for (size_t i = 0; i < _SRC_MAX; i++)
                        all = all && (!expected[i] || connected[i]);
                if (all && settled < 0)
                        settled = t;
                if ((settled >= 0 && t - settled >= 300) || t - start >= 10000)
                        return;
                if (poll(p, _SRC_MAX, 50) < 0)
                        continue;
                for (size_t i = 0; i < _SRC_MAX; i++) {
                        int err = 0;
                        socklen_t l = sizeof err;

                        if (p[i].fd < 0 || !(p[i].revents & POLLOUT))
                                continue;
                        ck_assert_int_eq(getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &l), 0);
                        ck_assert_msg(err == 0, "client %zu: %s", i, strerror(err));
                        connected[i] = true;
                }
        }
}

START_TEST(test_kernel_table) {
        if (!have_ipv6()) {
                printf("SKIP: no IPv6 on this host\n");
                return;
        }
        for (size_t row = 0; row < ELEMENTSOF(kernel_table); row++) {
                IPPrefixList allow = {}, deny = {};
                struct sock_filter *prog = NULL;
                int lfd[3], cfd[_SRC_MAX];
                bool connected[_SRC_MAX] = {};
                size_t n;

                ck_assert_int_eq(ip_prefix_list_parse(&allow, kernel_table[row].allow, NULL,
                                                      NULL), 0);
                ck_assert_int_eq(ip_prefix_list_parse(&deny, kernel_table[row].deny, NULL, NULL),
                                 0);
                ck_assert_int_eq(ip_filter_compile(&allow, &deny, &prog, &n), 0);

                lfd[0] = listen_on("127.0.0.1", -1, prog, n);
                lfd[1] = listen_on("::1", 1, prog, n);
                lfd[2] = listen_on("::ffff:127.0.0.1", 0, prog, n);
                for (size_t i = 0; i < _SRC_MAX; i++) {
                        static const char *const to[] = { "127.0.0.1", "::1",
                                                          "::ffff:127.0.0.1" };
                        int l = clients[i].listener;
                        union { struct in_addr in; struct in6_addr in6; } a;

                        /* The reference agrees with the table. */
                        ck_assert_int_eq(inet_pton(clients[i].family, clients[i].packet_source,
                                                   &a), 1);
                        ck_assert_msg(ip_filter_allows(&allow, &deny, clients[i].family, &a) ==
                                              kernel_table[row].allowed[i],
                                      "row %zu client %s: reference disagrees", row,
                                      clients[i].source);
                        cfd[i] = connect_from(clients[i].source, to[l], port_of(lfd[l]));
                }
                wait_clients(cfd, kernel_table[row].allowed, connected);
                for (size_t i = 0; i < _SRC_MAX; i++)
                        ck_assert_msg(connected[i] == kernel_table[row].allowed[i],
                                      "row %zu (allow '%s', deny '%s'): client from %s %s", row,
                                      kernel_table[row].allow, kernel_table[row].deny,
                                      clients[i].source,
                                      connected[i] ? "connected" : "did not connect");

                /* SO_LOCK_FILTER: whoever gets the listening socket cannot remove the filter. */
                ck_assert_int_eq(setsockopt(lfd[0], SOL_SOCKET, SO_DETACH_FILTER, &(int) { 0 },
                                            sizeof(int)), -1);
                ck_assert_int_eq(errno, EPERM);

                for (size_t i = 0; i < _SRC_MAX; i++)
                        close(cfd[i]);
                for (size_t i = 0; i < 3; i++)
                        close(lfd[i]);
                free(prog);
                ip_prefix_list_clear(&allow);
                ip_prefix_list_clear(&deny);
        }
}
END_TEST

static int udp_from(const char *source) {
        SockAddr s = make_inet(source, 0);
        int fd = socket(s.sa.sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, &s.sa, s.len), 0);
        return fd;
}

/* On UDP the filter sees the datagram from its UDP header on too: the source address must come
 * from the network header. Denied datagrams never arrive; a last allowed one fences the rest. */
START_TEST(test_kernel_udp) {
        static const struct { const char *source, *to, *payload; } sends[] = {
                { "127.0.0.1", "127.0.0.1", "denied-v4" },
                { "::ffff:127.0.0.2", "::ffff:127.0.0.1", "allowed-mapped" },
                { "::1", "::1", "denied-v6" },
                { "127.0.0.2", "127.0.0.1", "fence" },
        };
        IPPrefixList allow = {}, deny = {};
        struct sock_filter *prog = NULL;
        struct sock_fprog fprog;
        int fd, one = 1, zero = 0;
        SockAddr any = make_inet("::", 0);
        size_t n;
        char got[4][32] = {};
        size_t n_got = 0;

        if (!have_ipv6() || geteuid() != 0) {
                printf("SKIP: test_kernel_udp: needs root and IPv6 for a network namespace\n");
                return;
        }
        /* In a namespace of its own (loopback up): the dual-stack socket may be bound to [::]. */
        ck_assert_int_eq(enter_netns(), 0);
        ck_assert_int_eq(ip_prefix_list_parse(&allow, "127.0.0.2", NULL, NULL), 0);
        ck_assert_int_eq(ip_prefix_list_parse(&deny, "any", NULL, NULL), 0);
        ck_assert_int_eq(ip_filter_compile(&allow, &deny, &prog, &n), 0);
        fprog = (struct sock_fprog) { .len = (unsigned short) n, .filter = prog };
        fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero), 0);
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, sizeof fprog), 0);
        ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one), 0);
        ck_assert_int_eq(bind(fd, &any.sa, any.len), 0);

        for (size_t i = 0; i < ELEMENTSOF(sends); i++) {
                SockAddr to = make_inet(sends[i].to, port_of(fd));
                int c = udp_from(sends[i].source);

                ck_assert_int_eq(sendto(c, sends[i].payload, strlen(sends[i].payload), 0,
                                        &to.sa, to.len),
                                 (ssize_t) strlen(sends[i].payload));
                close(c);
        }
        /* Everything that arrives, up to the fence (5 s at most). */
        while (n_got < ELEMENTSOF(got)) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                ssize_t k;

                ck_assert_int_eq(poll(&p, 1, 5000), 1);
                k = recv(fd, got[n_got], sizeof got[n_got] - 1, MSG_DONTWAIT);
                ck_assert_int_gt(k, 0);
                if (streq(got[n_got++], "fence"))
                        break;
        }
        ck_assert_uint_eq(n_got, 2);
        ck_assert_str_eq(got[0], "allowed-mapped");
        ck_assert_str_eq(got[1], "fence");
        close(fd);
        free(prog);
        ip_prefix_list_clear(&allow);
        ip_prefix_list_clear(&deny);
}
END_TEST

static Suite *ip_filter_suite(void) {
        Suite *s = suite_create("ip-filter");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_parse_table);
        tcase_add_test(tc, test_parse_cap);
        tcase_add_test(tc, test_kernel_table);
        tcase_add_test(tc, test_kernel_udp);
        tcase_set_timeout(tc, 120);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(ip_filter_suite());
}
