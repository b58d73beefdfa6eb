/* Tests for shim/shim-match.c: the matching rule of libberth-bind.so as a table (berth's
 * socket, the program's bind, matched or not), the once-only hand-out of shim_match_find(),
 * and the address formatter. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>
#include <sys/un.h>

#include "common/macro.h"
#include "shim/shim-match.h"
#include "tests/unit/test-util.h"

/* "1.2.3.4:80", "[::1]:80", "/path", "@abstract" to a sockaddr. */
static socklen_t make_addr(const char *text, struct sockaddr_storage *ss) {
        memset(ss, 0, sizeof *ss);
        if (text[0] == '/' || text[0] == '@') {
                struct sockaddr_un *un = (struct sockaddr_un *) ss;
                size_t n = strlen(text);

                un->sun_family = AF_UNIX;
                memcpy(un->sun_path, text, n);
                if (text[0] == '@') {
                        un->sun_path[0] = '\0';
                        return offsetof(struct sockaddr_un, sun_path) + n;
                }
                return offsetof(struct sockaddr_un, sun_path) + n + 1;
        }
        char host[64];
        const char *colon = strrchr(text, ':');
        size_t hl = colon - text;
        unsigned port = atoi(colon + 1);

        if (text[0] == '[') {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) ss;
                memcpy(host, text + 1, hl - 2);
                host[hl - 2] = '\0';
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                ck_assert_int_eq(inet_pton(AF_INET6, host, &in6->sin6_addr), 1);
                return sizeof *in6;
        }
        struct sockaddr_in *in = (struct sockaddr_in *) ss;
        memcpy(host, text, hl);
        host[hl] = '\0';
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        ck_assert_int_eq(inet_pton(AF_INET, host, &in->sin_addr), 1);
        return sizeof *in;
}

static ShimSocket berth_socket(const char *text, int type, bool v6only) {
        ShimSocket s = { .type = type, .v6only = v6only };

        s.addr_len = make_addr(text, &s.addr);
        return s;
}

#define S SOCK_STREAM
#define D SOCK_DGRAM
static const struct {
        const char *berth;
        int berth_type;
        bool v6only;
        const char *program;
        int type;
        bool match;
} cases[] = {
        { "127.0.0.1:80", S, false, "127.0.0.1:80", S, true },
        { "127.0.0.1:80", S, false, "127.0.0.1:81", S, false },
        { "127.0.0.1:80", S, false, "127.0.0.2:80", S, false },
        { "127.0.0.1:80", S, false, "127.0.0.1:80", D, false },
        { "127.0.0.1:80", D, false, "127.0.0.1:80", D, true },
        { "127.0.0.1:80", S, false, "[::ffff:127.0.0.1]:80", S, true },
        { "[::ffff:127.0.0.1]:80", S, false, "127.0.0.1:80", S, true },
        { "127.0.0.1:80", S, false, "0.0.0.0:80", S, false },
        { "0.0.0.0:80", S, false, "127.0.0.1:80", S, false },
        { "0.0.0.0:80", S, false, "0.0.0.0:80", S, true },
        { "[::]:80", S, false, "0.0.0.0:80", S, true },       /* dual-stack serves IPv4 */
        { "[::]:80", S, true, "0.0.0.0:80", S, false },       /* v6-only does not */
        { "[::]:80", S, false, "[::]:80", S, true },
        { "[::]:80", S, true, "[::]:80", S, true },
        { "0.0.0.0:80", S, false, "[::]:80", S, false },
        { "[::]:80", S, false, "[::ffff:0.0.0.0]:80", S, true },
        { "[::1]:80", S, true, "[::1]:80", S, true },
        { "[::1]:80", S, true, "[::]:80", S, false },
        { "[::1]:80", S, true, "127.0.0.1:80", S, false },
        { "[::]:80", S, false, "[::]:81", S, false },
        { "127.0.0.1:0", S, false, "127.0.0.1:0", S, false }, /* port 0: the program's own */
        { "/run/a.sock", S, false, "/run/a.sock", S, true },
        { "/run/a.sock", S, false, "/run/b.sock", S, false },
        { "/run/a.sock", S, false, "/run/a.soc", S, false },
        { "/run/a.sock", S, false, "/run/a.sock", D, false },
        { "/run/a.sock", SOCK_SEQPACKET, false, "/run/a.sock", SOCK_SEQPACKET, true },
        { "@abs", S, false, "@abs", S, true },
        { "@abs", S, false, "@ab", S, false },
        { "@abs", S, false, "/abs", S, false },
        { "/abs", S, false, "@abs", S, false },
        { "/run/a.sock", S, false, "127.0.0.1:80", S, false },
};

START_TEST(test_match_table) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                ShimSocket b = berth_socket(cases[i].berth, cases[i].berth_type, cases[i].v6only);
                struct sockaddr_storage ss;
                socklen_t len = make_addr(cases[i].program, &ss);

                ck_assert_msg(shim_match(&b, cases[i].type, (struct sockaddr *) &ss, len) ==
                              cases[i].match, "case %zu: berth %s, program %s: expected %s", i,
                              cases[i].berth, cases[i].program, cases[i].match ? "a match" : "none");
        }
}
END_TEST

START_TEST(test_malformed) {
        ShimSocket b = berth_socket("127.0.0.1:80", S, false), u = berth_socket("/a", S, false);
        struct sockaddr_storage ss;
        socklen_t len = make_addr("127.0.0.1:80", &ss);
        struct sockaddr_un un = { .sun_family = AF_UNIX };

        ck_assert(shim_match(&b, S, (struct sockaddr *) &ss, len));
        ck_assert(!shim_match(&b, S, (struct sockaddr *) &ss, len - 1)); /* short */
        ck_assert(!shim_match(&b, S, NULL, len));
        ck_assert(!shim_match(&b, S, (struct sockaddr *) &ss, 1));
        /* autobind and a lone NUL: unnamed */
        ck_assert(!shim_match(&u, S, (struct sockaddr *) &un, sizeof(sa_family_t)));
        ck_assert(!shim_match(&u, S, (struct sockaddr *) &un, sizeof(sa_family_t) + 1));
        ck_assert(!shim_match(&u, S, (struct sockaddr *) &un, sizeof un + 1));
        ck_assert(!shim_address_is_specific((struct sockaddr *) &un, sizeof(sa_family_t)));
        ck_assert(shim_address_is_specific((struct sockaddr *) &ss, len));
        len = make_addr("0.0.0.0:0", &ss);
        ck_assert(!shim_address_is_specific((struct sockaddr *) &ss, len));
        len = make_addr("/x", &ss);
        ck_assert(shim_address_is_specific((struct sockaddr *) &ss, len));
}
END_TEST

START_TEST(test_find_once) {
        ShimSocket t[3] = { berth_socket("127.0.0.1:80", S, false),
                            berth_socket("[::]:80", S, false),
                            berth_socket("0.0.0.0:80", S, false) };
        bool taken[3] = {};
        struct sockaddr_storage ss;
        socklen_t len = make_addr("0.0.0.0:80", &ss);
        int i;

        i = shim_match_find(t, taken, 3, S, (struct sockaddr *) &ss, len);
        ck_assert_int_eq(i, 1); /* the first that matches, in LISTEN_FDS order */
        taken[i] = true;
        i = shim_match_find(t, taken, 3, S, (struct sockaddr *) &ss, len);
        ck_assert_int_eq(i, 2);
        taken[i] = true;
        ck_assert_int_eq(shim_match_find(t, taken, 3, S, (struct sockaddr *) &ss, len), -1);
        ck_assert_int_eq(shim_match_find(t, taken, 0, S, (struct sockaddr *) &ss, len), -1);
}
END_TEST

START_TEST(test_format) {
        static const struct {
                const char *in, *out;
        } f[] = {
                { "127.0.0.1:80", "127.0.0.1:80" },
                { "[::1]:8080", "[::1]:8080" },
                { "[::ffff:10.0.0.1]:5", "10.0.0.1:5" },
                { "/run/x.sock", "/run/x.sock" },
                { "@abs", "@abs" },
        };
        char buf[SHIM_ADDRESS_MAX], small[12];
        struct sockaddr_storage ss;

        for (size_t i = 0; i < ELEMENTSOF(f); i++) {
                socklen_t len = make_addr(f[i].in, &ss);
                ck_assert_str_eq(shim_format_address((struct sockaddr *) &ss, len, buf,
                                                     sizeof buf), f[i].out);
        }
        socklen_t len = make_addr("/a/very/long/path/name", &ss);
        shim_format_address((struct sockaddr *) &ss, len, small, sizeof small);
        ck_assert_uint_lt(strlen(small), sizeof small);
        ck_assert_ptr_nonnull(strstr(small, "..."));
}
END_TEST

int main(void) {
        Suite *s = suite_create("shim-match");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_match_table);
        tcase_add_test(tc, test_malformed);
        tcase_add_test(tc, test_find_once);
        tcase_add_test(tc, test_format);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
