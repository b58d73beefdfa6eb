/* Tests for common/address.c: one table of inputs with the expected result, the canonical form
 * or a piece of the message, and a round trip through the formatter for every accepted input;
 * then sockaddr_format(), sockaddr_equal(), sockaddr_unix_name() and address_resolve(). No
 * network traffic: names resolve through /etc/hosts or are under ".invalid". */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/address.h"
#include "tests/unit/test-util.h"
#include "common/macro.h"

typedef struct ParseRow {
        const char *input;
        int ret;          /* 0 or -EINVAL */
        AddressKind kind; /* on success */
        const char *expect; /* on success the canonical form, else a piece of the message */
} ParseRow;

#define OK(in, k, out) { in, 0, k, out }
#define BAD(in, msg) { in, -EINVAL, _ADDRESS_KIND_INVALID, msg }

#define S10 "abcdefghij"
#define S50 S10 S10 S10 S10 S10
#define D10 "0123456789"
#define D50 D10 D10 D10 D10 D10
#define LABEL63 S50 S10 "abc"
#define LABEL61 S50 S10 "a"
#define PATH107 "/" S50 S50 "abcdef"    /* 107 bytes: the longest unix path */
#define NAME107 "@" S50 S50 "abcdefg"   /* '@' + 107 bytes: the longest abstract name */

static const ParseRow parse_rows[] = {
        /* Every address, per the dual-stack policy. */
        OK("8080", ADDRESS_WILDCARD, "*:8080"),
        OK("*:8080", ADDRESS_WILDCARD, "*:8080"),
        OK(":8080", ADDRESS_WILDCARD, "*:8080"),
        OK("0", ADDRESS_WILDCARD, "*:0"),
        OK("*:0", ADDRESS_WILDCARD, "*:0"),
        OK("65535", ADDRESS_WILDCARD, "*:65535"),
        OK("00080", ADDRESS_WILDCARD, "*:80"),
        OK("*:1", ADDRESS_WILDCARD, "*:1"),

        /* One family's wildcard. */
        OK("0.0.0.0:8080", ADDRESS_ANY_IPV4, "0.0.0.0:8080"),
        OK("0.0.0.0:0", ADDRESS_ANY_IPV4, "0.0.0.0:0"),
        OK("[::]:8080", ADDRESS_ANY_IPV6, "[::]:8080"),
        OK("[0:0:0:0:0:0:0:0]:80", ADDRESS_ANY_IPV6, "[::]:80"),

        /* One literal address. */
        OK("127.0.0.1:8080", ADDRESS_IP, "127.0.0.1:8080"),
        OK("192.168.1.10:0", ADDRESS_IP, "192.168.1.10:0"),
        OK("255.255.255.255:65535", ADDRESS_IP, "255.255.255.255:65535"),
        OK("[::1]:8080", ADDRESS_IP, "[::1]:8080"),
        OK("[0:0::1]:80", ADDRESS_IP, "[::1]:80"),
        OK("[2001:DB8::1]:443", ADDRESS_IP, "[2001:db8::1]:443"),
        OK("[2001:0db8:0000:0000:0000:0000:0000:0001]:443", ADDRESS_IP, "[2001:db8::1]:443"),
        OK("[::ffff:1.2.3.4]:80", ADDRESS_IP, "[::ffff:1.2.3.4]:80"),
        OK("[::ffff:0.0.0.0]:80", ADDRESS_IP, "[::ffff:0.0.0.0]:80"),
        OK("[fe80::1%lo]:80", ADDRESS_IP, "[fe80::1%lo]:80"),
        OK("[FE80::ABCD%lo]:8080", ADDRESS_IP, "[fe80::abcd%lo]:8080"),
        OK("[fe80::1%1]:80", ADDRESS_IP, "[fe80::1%1]:80"),
        OK("[fe80::1%0042]:80", ADDRESS_IP, "[fe80::1%42]:80"),
        OK("[ff02::1%lo]:80", ADDRESS_IP, "[ff02::1%lo]:80"),

        /* Loopback in both families. */
        OK("localhost:8080", ADDRESS_LOCALHOST, "localhost:8080"),
        OK("LocalHost:80", ADDRESS_LOCALHOST, "localhost:80"),
        OK("localhost:0", ADDRESS_LOCALHOST, "localhost:0"),

        /* Other host names: kept, lower-cased, resolved later. */
        OK("example.com:443", ADDRESS_HOSTNAME, "example.com:443"),
        OK("Example.COM:443", ADDRESS_HOSTNAME, "example.com:443"),
        OK("a:1", ADDRESS_HOSTNAME, "a:1"),
        OK("my-host.example.org:8080", ADDRESS_HOSTNAME, "my-host.example.org:8080"),
        OK("1host:80", ADDRESS_HOSTNAME, "1host:80"),
        OK("example.com.:80", ADDRESS_HOSTNAME, "example.com.:80"),
        OK("localhost.:80", ADDRESS_HOSTNAME, "localhost.:80"),
        OK("xn--bcher-kva.example:80", ADDRESS_HOSTNAME, "xn--bcher-kva.example:80"),
        OK("http:80", ADDRESS_HOSTNAME, "http:80"),
        OK(LABEL63 ".example:80", ADDRESS_HOSTNAME, LABEL63 ".example:80"),
        OK(LABEL63 "." LABEL63 "." LABEL63 "." LABEL61 ":80", ADDRESS_HOSTNAME,
           LABEL63 "." LABEL63 "." LABEL63 "." LABEL61 ":80"),

        /* Unix sockets. */
        OK("/run/app.sock", ADDRESS_UNIX_PATH, "/run/app.sock"),
        OK("/run/my app.sock", ADDRESS_UNIX_PATH, "/run/my app.sock"),
        OK("/run/caf\xc3\xa9.sock", ADDRESS_UNIX_PATH, "/run/caf\xc3\xa9.sock"),
        OK("/run/a:b.sock", ADDRESS_UNIX_PATH, "/run/a:b.sock"),
        OK("/a", ADDRESS_UNIX_PATH, "/a"),
        OK(PATH107, ADDRESS_UNIX_PATH, PATH107),
        OK("@name", ADDRESS_UNIX_ABSTRACT, "@name"),
        OK("@with space", ADDRESS_UNIX_ABSTRACT, "@with space"),
        OK("@@x", ADDRESS_UNIX_ABSTRACT, "@@x"),
        OK("@/run/x:80", ADDRESS_UNIX_ABSTRACT, "@/run/x:80"),
        OK(NAME107, ADDRESS_UNIX_ABSTRACT, NAME107),

        /* Empty, blank, control characters. */
        BAD("", "empty address"),
        BAD(" 80", "address ' 80' starts or ends with a space"),
        BAD("80 ", "starts or ends with a space"),
        BAD("/run/app.sock ", "starts or ends with a space"),
        BAD("8080 # web", "has a comment after it: '#' and ';' start a comment only at the start of a line"),
        BAD("127.0.0.1:80 ; admin", "has a comment after it"),
        OK("/run/a #b.sock", ADDRESS_UNIX_PATH, "/run/a #b.sock"),
        BAD("*:80\n", "address '*:80\\x0a' contains a control character"),
        BAD("\tlocalhost:80", "'\\x09localhost:80' contains a control character"),
        BAD("local\x7fhost:80", "'local\\x7fhost:80'"),
        BAD("/run/a\x1b.sock", "'/run/a\\x1b.sock' contains a control character"),

        /* Missing ports. */
        BAD("127.0.0.1", "missing port in '127.0.0.1': write '127.0.0.1:PORT'"),
        BAD("0.0.0.0", "missing port in '0.0.0.0': write '0.0.0.0:PORT'"),
        BAD("example.com", "missing port in 'example.com': write 'example.com:PORT'"),
        BAD("localhost", "missing port in 'localhost': write 'localhost:PORT'"),
        BAD("*", "missing port in '*': write '*:PORT'"),
        BAD(":", "missing port in ':': write '*:PORT'"),
        BAD("*:", "missing port in '*:': write '*:PORT'"),
        BAD("127.0.0.1:", "missing port in '127.0.0.1:': write '127.0.0.1:PORT'"),
        BAD("localhost:", "write 'localhost:PORT'"),
        BAD("::1", "missing port in '::1': write '[::1]:PORT'"),
        BAD("::", "missing port in '::': write '[::]:PORT'"),
        BAD("[::1]", "missing port in '[::1]': write '[::1]:PORT'"),
        BAD("[::1]:", "missing port in '[::1]:': write '[::1]:PORT'"),

        /* Ambiguous IPv6 without brackets. */
        BAD("::1:8080", "ambiguous IPv6 address '::1:8080': write '[::1]:8080'"),
        BAD(":::8080", "write '[::]:8080'"),
        BAD("::1:123456", "ambiguous IPv6 address '::1:123456': write '[::1]:PORT'"),
        BAD("fe80::1:80", "write '[fe80::1]:80'"),
        BAD("fe80::1%lo:80", "write '[fe80::1%lo]:80'"),
        BAD("2001:db8::1:443", "write '[2001:db8::1]:443'"),
        BAD("1:2:3:4:5:6:7:8:80", "write '[1:2:3:4:5:6:7:8]:80'"),
        BAD(":::", "write '[::]:PORT'"),
        BAD("::1:http", "write '[::1]:PORT'"),
        BAD("a:b:c", "IPv6 addresses go in brackets"),

        /* Ports. */
        BAD("99999", "port 99999 is out of range: ports are 0 to 65535"),
        BAD("65536", "port 65536 is out of range"),
        BAD("*:65536", "port 65536 is out of range"),
        BAD("127.0.0.1:99999", "port 99999 is out of range"),
        BAD("[::1]:70000", "port 70000 is out of range"),
        BAD("99999999999999999999999", "port 99999999999999999999999 is out of range"),
        BAD("http", "'http' is a service name, not a port: write the number, e.g. '*:80'"),
        BAD("*:https", "'https' is a service name, not a port: write the number, e.g. '*:443'"),
        BAD(":ssh", "e.g. '*:22'"),
        BAD("localhost:http", "e.g. 'localhost:80'"),
        BAD("Example.com:domain", "e.g. 'example.com:53'"),
        BAD("[::1]:ssh", "e.g. '[::1]:22'"),
        BAD("127.0.0.1:SMTP", "'SMTP' is a service name, not a port: write the number, "
                              "e.g. '127.0.0.1:25'"),
        BAD("*:foo", "port 'foo' in '*:foo' is not a number"),
        BAD("+80", "port '+80' in '+80' is not a number"),
        BAD("-1", "port '-1' in '-1' is not a number"),
        BAD("*:0x50", "port '0x50' in '*:0x50' is not a number"),
        BAD("*:8 0", "port '8 0' in '*:8 0' is not a number"),
        BAD("*:-0", "is not a number"),
        BAD("*:+1", "is not a number"),

        /* Brackets. */
        BAD("[]:80", "empty IPv6 address in '[]:80': write '[::]:80' for every IPv6 address or "
                     "'*:80' for every address"),
        BAD("[]", "write '[::]:PORT'"),
        BAD("[]:", "write '[::]:PORT'"),
        BAD("[]:123456", "write '[::]:PORT' for every IPv6 address or '*:PORT'"),
        /* Found by fuzzing: three long quoted pieces once overflowed the message buffer. */
        BAD("[]:29" D50 D50 D50 D50, "write '[::]:PORT'"),
        BAD("[" LABEL63 "." LABEL63 "." LABEL63 "]:80", "brackets are only for IPv6"),
        BAD("fe80::1%" S50 S50 S50 S50 ":80", "ambiguous IPv6 address"),
        BAD("::1:" D50 D50 D50 D50, "write '[::1]:PORT'"),
        BAD("[::1]80", "unexpected text after ']' in '[::1]80': write '[::1]:PORT'"),
        BAD("[::1]]:80", "unexpected text after ']'"),
        BAD("[::1:80", "missing ']' in '[::1:80'"),
        BAD("[", "missing ']'"),
        BAD("[127.0.0.1]:80", "IPv4 address '127.0.0.1' in brackets: brackets are only for "
                              "IPv6, write '127.0.0.1:PORT'"),
        BAD("[localhost]:80", "brackets are only for IPv6, write 'localhost:PORT'"),
        BAD("[::g]:80", "invalid IPv6 address '::g' in '[::g]:80'"),
        BAD("[1:2:3:4:5:6:7:8:9]:80", "invalid IPv6 address"),
        BAD("[[::1]]:80", "invalid IPv6 address"),

        /* Scopes. */
        BAD("[fe80::1%]:80", "missing interface after '%' in '[fe80::1%]:80'"),
        BAD("[fe80::1%nosuchif0]:80", "unknown network interface 'nosuchif0' in"),
        BAD("[fe80::1%0]:80", "interface index 0"),
        BAD("[fe80::1%99999999999]:80", "interface index 99999999999 in"),
        BAD("[fe80::1%averyveryverylongname]:80", "is too long: the limit is 15 bytes"),
        BAD("[fe80::1%lo:0]:80", "invalid interface name 'lo:0'"),
        BAD("[::1%lo]:80", "only meaningful on a link-local address (fe80::/10), not in "
                           "'[::1%lo]:80': write '[::1]:PORT'"),
        BAD("[::%lo]:80", "only meaningful on a link-local"),
        BAD("[2001:db8::1%1]:80", "only meaningful on a link-local"),
        BAD("[fe80::g%lo]:80", "invalid IPv6 address 'fe80::g'"),

        /* IPv4 look-alikes and bad host names. */
        BAD("256.1.1.1:80", "invalid IPv4 address '256.1.1.1' in '256.1.1.1:80'"),
        BAD("1.2.3:80", "invalid IPv4 address '1.2.3'"),
        BAD("01.2.3.4:80", "invalid IPv4 address '01.2.3.4'"),
        BAD("123:80", "invalid IPv4 address '123'"),
        BAD("80.5", "invalid address '80.5'"),
        BAD("foo_bar:80", "invalid host name 'foo_bar' in 'foo_bar:80': host names use only "
                          "letters, digits, '-' and '.'"),
        BAD("foo_bar", "invalid address 'foo_bar'"),
        BAD("-foo:80", "a label starts with '-'"),
        BAD("foo-:80", "a label ends with '-'"),
        BAD("foo-.bar:80", "a label ends with '-'"),
        BAD("foo..bar:80", "a label between dots is empty"),
        BAD(".foo:80", "a label between dots is empty"),
        BAD(".:80", "invalid host name '.'"),
        BAD("*.example.com:80", "host names use only letters"),
        BAD("caf\xc3\xa9:80", "invalid host name 'caf\\xc3\\xa9'"),
        BAD("127.0.0.1%lo:80", "invalid host name '127.0.0.1%lo'"),
        BAD(LABEL63 "d.example:80", "a label is longer than 63 bytes"),
        BAD(LABEL63 "." LABEL63 "." LABEL63 "." LABEL61 "b:80",
            "host names are at most 253 bytes"),

        /* Unix socket refusals. */
        BAD("run/app.sock", "unix socket path 'run/app.sock' is relative: unix socket paths "
                            "must be absolute"),
        BAD("./app.sock", "unix socket paths must be absolute"),
        BAD("~/app.sock", "unix socket paths must be absolute"),
        BAD("/", "names a directory"),
        BAD("/run/", "unix socket path '/run/' names a directory"),
        BAD(PATH107 "x", "is too long: the limit is 107 bytes"),
        BAD("@", "empty abstract socket name in '@': write '@NAME'"),
        BAD(NAME107 "x", "abstract socket name"),
};

static void assert_same_address(const ListenAddress *a, const ListenAddress *b, const char *in) {
        ck_assert_msg(a->kind == b->kind, "'%s': kind %d != %d", in, a->kind, b->kind);
        ck_assert_msg(a->port == b->port, "'%s': port %u != %u", in, a->port, b->port);
        if (a->kind == ADDRESS_HOSTNAME) {
                ck_assert_msg(streq(a->host, b->host), "'%s': host '%s' != '%s'", in, a->host,
                              b->host);
                return;
        }
        SockAddr x, y;

        address_sockaddr(a, &x);
        address_sockaddr(b, &y);
        ck_assert_msg(x.len == y.len, "'%s': sockaddr length differs", in);
        ck_assert_msg(sockaddr_equal(&x, &y), "'%s': sockaddr differs", in);
        ck_assert_msg(streq(strempty(a->ifname), strempty(b->ifname)),
                      "'%s': interface '%s' != '%s'", in, strempty(a->ifname),
                      strempty(b->ifname));
        ck_assert(address_equal(a, b));
}

static bool all_printable(const char *s) {
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f)
                        return false;
        return true;
}

START_TEST(test_parse_row) {
        const ParseRow *row = &parse_rows[_i];
        char err[ADDRESS_ERROR_MAX] = "", buf[ADDRESS_FORMAT_MAX], buf2[ADDRESS_FORMAT_MAX];
        ListenAddress a, b, untouched;
        int r;

        memset(&a, 0x5a, sizeof(a));
        untouched = a;
        r = address_parse(row->input, &a, err, sizeof(err));
        ck_assert_msg(r == row->ret, "'%s': returned %d, expected %d (%s)", row->input, r,
                      row->ret, err);

        if (row->ret < 0) {
                ck_assert_msg(memcmp(&a, &untouched, sizeof(a)) == 0,
                              "'%s': *ret written on failure", row->input);
                ck_assert_msg(strstr(err, row->expect), "'%s': message \"%s\" lacks \"%s\"",
                              row->input, err, row->expect);
                ck_assert_msg(all_printable(err), "'%s': message not printable", row->input);
                ck_assert_msg(strlen(err) < sizeof(err) - 1, "'%s': message cut", row->input);
                /* Without an error buffer, and without *ret, the answer is the same. */
                ck_assert_int_eq(address_parse(row->input, NULL, NULL, 0), row->ret);
                return;
        }

        ck_assert_msg(a.kind == row->kind, "'%s': kind %s, expected %s", row->input,
                      address_kind_to_string(a.kind), address_kind_to_string(row->kind));
        address_format(&a, buf, sizeof(buf));
        ck_assert_msg(streq(buf, row->expect), "'%s' formats as '%s', expected '%s'", row->input,
                      buf, row->expect);

        /* Round trip: the canonical form parses to the same address and formats identically. */
        r = address_parse(buf, &b, err, sizeof(err));
        ck_assert_msg(r == 0, "'%s': canonical '%s' does not parse: %s", row->input, buf, err);
        address_format(&b, buf2, sizeof(buf2));
        ck_assert_str_eq(buf, buf2);
        assert_same_address(&a, &b, row->input);

        ck_assert(address_is_inet(&a) != address_is_unix(&a));
        ck_assert_int_eq(address_parse(row->input, NULL, NULL, 0), 0);
        address_done(&a);
        address_done(&b);
        ck_assert_int_eq(a.kind, ADDRESS_WILDCARD);
}
END_TEST

START_TEST(test_parse_too_long) {
        char text[ADDRESS_TEXT_MAX + 2], err[ADDRESS_ERROR_MAX];

        memset(text, '9', sizeof(text) - 1);
        text[sizeof(text) - 1] = '\0';
        ck_assert_int_eq(address_parse(text, NULL, err, sizeof(err)), -EINVAL);
        ck_assert_str_eq(err, "address is longer than 1024 bytes");

        /* 1024 bytes is within the limit; the quoted input is shortened visibly. */
        text[ADDRESS_TEXT_MAX] = '\0';
        ck_assert_int_eq(address_parse(text, NULL, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, "is out of range") && strstr(err, "..."), "%s", err);
        ck_assert_uint_lt(strlen(err), sizeof(err) - 1);

        memset(text, 'x', ADDRESS_TEXT_MAX);
        text[0] = '/';
        ck_assert_int_eq(address_parse(text, NULL, err, sizeof(err)), -EINVAL);
        ck_assert_msg(strstr(err, "the limit is 107 bytes") && strstr(err, "..."), "%s", err);
}
END_TEST

START_TEST(test_parse_small_error_buffer) {
        char err[8];
        ListenAddress a;

        ck_assert_int_eq(address_parse("::1:8080", &a, err, sizeof(err)), -EINVAL);
        ck_assert_uint_eq(strlen(err), sizeof(err) - 1);
        ck_assert_int_eq(address_parse(NULL, &a, err, sizeof(err)), -EINVAL);
        ck_assert_int_eq(address_parse("80", &a, err, 0), 0);
}
END_TEST

START_TEST(test_parse_sockaddr) {
        const size_t base = offsetof(struct sockaddr_un, sun_path);
        ListenAddress a, b;

        SockAddr sa;

        /* A unix address is on the heap, owned; an inet one inline, in a small sockaddr. */
        ck_assert_uint_le(sizeof(ListenAddress), 64);
        ck_assert_int_eq(address_parse("/run/app.sock", &a, NULL, 0), 0);
        ck_assert_int_eq(a.unix_addr->un.sun_family, AF_UNIX);
        ck_assert_uint_eq(a.unix_addr->len, base + strlen("/run/app.sock") + 1);
        ck_assert_str_eq(a.unix_addr->un.sun_path, "/run/app.sock");
        address_sockaddr(&a, &sa);
        ck_assert_str_eq(sa.un.sun_path, "/run/app.sock");
        address_done(&a);
        ck_assert_ptr_null(a.unix_addr);

        ck_assert_int_eq(address_parse("@name", &a, NULL, 0), 0);
        ck_assert_uint_eq(a.unix_addr->len, base + 1 + strlen("name"));
        ck_assert_int_eq(a.unix_addr->un.sun_path[0], '\0');
        ck_assert_int_eq(memcmp(a.unix_addr->un.sun_path + 1, "name", 4), 0);
        address_done(&a);

        ck_assert_int_eq(address_parse("8080", &a, NULL, 0), 0);
        ck_assert_int_eq(a.sockaddr.sa.sa_family, AF_INET6);
        ck_assert(IN6_IS_ADDR_UNSPECIFIED(&a.sockaddr.in6.sin6_addr));
        ck_assert_uint_eq(ntohs(a.sockaddr.in6.sin6_port), 8080);
        ck_assert_uint_eq(a.port, 8080);

        ck_assert_int_eq(address_parse("0.0.0.0:81", &a, NULL, 0), 0);
        ck_assert_int_eq(a.sockaddr.sa.sa_family, AF_INET);
        ck_assert_uint_eq(a.sockaddr.in.sin_addr.s_addr, htonl(INADDR_ANY));
        ck_assert_uint_eq(a.sockaddr.len, sizeof(struct sockaddr_in));

        ck_assert_int_eq(address_parse("[fe80::1%lo]:80", &a, NULL, 0), 0);
        ck_assert_uint_eq(a.sockaddr.in6.sin6_scope_id, if_nametoindex("lo"));
        ck_assert_str_eq(a.ifname, "lo"); /* on the heap, owned */
        address_done(&a);

        ck_assert_int_eq(address_parse("Example.COM:443", &a, NULL, 0), 0);
        ck_assert_str_eq(a.host, "example.com");
        ck_assert_uint_eq(a.port, 443);
        ck_assert_int_eq(address_parse("example.com:443", &b, NULL, 0), 0);
        ck_assert(address_equal(&a, &b));
        address_done(&b);
        ck_assert_int_eq(address_parse("example.org:443", &b, NULL, 0), 0);
        ck_assert(!address_equal(&a, &b));
        address_done(&b);
        ck_assert_int_eq(address_parse("example.com:444", &b, NULL, 0), 0);
        ck_assert(!address_equal(&a, &b));
        address_done(&b);
        address_done(&a);
        ck_assert_ptr_null(a.host);
}
END_TEST

START_TEST(test_kind_to_string) {
        ck_assert_str_eq(address_kind_to_string(ADDRESS_WILDCARD), "wildcard");
        ck_assert_str_eq(address_kind_to_string(ADDRESS_UNIX_ABSTRACT), "unix-abstract");
        for (int k = 0; k < _ADDRESS_KIND_MAX; k++) {
                ck_assert_ptr_nonnull(address_kind_to_string(k));
                for (int j = 0; j < k; j++)
                        ck_assert_str_ne(address_kind_to_string(k), address_kind_to_string(j));
        }
        ck_assert_ptr_null(address_kind_to_string(_ADDRESS_KIND_MAX));
        ck_assert_ptr_null(address_kind_to_string(_ADDRESS_KIND_INVALID));
}
END_TEST

START_TEST(test_is_inet_unix) {
        ListenAddress a = {};

        for (int k = 0; k < _ADDRESS_KIND_MAX; k++) {
                a.kind = k;
                ck_assert(address_is_inet(&a) ==
                          (k != ADDRESS_UNIX_PATH && k != ADDRESS_UNIX_ABSTRACT));
                ck_assert(address_is_unix(&a) == !address_is_inet(&a));
        }
        a.kind = _ADDRESS_KIND_INVALID;
        ck_assert(!address_is_inet(&a) && !address_is_unix(&a));
}
END_TEST

static SockAddr make_in(const char *ip, uint16_t port) {
        SockAddr sa = { .len = sizeof(struct sockaddr_in) };

        sa.in.sin_family = AF_INET;
        sa.in.sin_port = htons(port);
        ck_assert_int_eq(inet_pton(AF_INET, ip, &sa.in.sin_addr), 1);
        return sa;
}

static SockAddr make_in6(const char *ip, uint16_t port, uint32_t scope) {
        SockAddr sa = { .len = sizeof(struct sockaddr_in6) };

        sa.in6.sin6_family = AF_INET6;
        sa.in6.sin6_port = htons(port);
        sa.in6.sin6_scope_id = scope;
        ck_assert_int_eq(inet_pton(AF_INET6, ip, &sa.in6.sin6_addr), 1);
        return sa;
}

/* A unix sockaddr holding n bytes of name; with_nul counts a terminating NUL in len. */
static SockAddr make_un(const char *name, size_t n, bool with_nul) {
        SockAddr sa = {};

        sa.un.sun_family = AF_UNIX;
        memcpy(sa.un.sun_path, name, n);
        sa.len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + with_nul);
        return sa;
}

START_TEST(test_sockaddr_format) {
        char buf[ADDRESS_FORMAT_MAX], small[4], lo[IF_NAMESIZE + 32];
        unsigned lo_index = if_nametoindex("lo");
        SockAddr sa;

        sa = make_in("10.0.0.1", 80);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "10.0.0.1:80");
        sa = make_in6("::1", 80, 0);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "[::1]:80");
        sa = make_in6("0:0::0", 443, 0);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "[::]:443");
        sa = make_in6("::ffff:1.2.3.4", 8080, 0);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "[::ffff:1.2.3.4]:8080");

        ck_assert_uint_gt(lo_index, 0);
        sa = make_in6("fe80::1", 80, lo_index);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "[fe80::1%lo]:80");
        /* An index with no interface prints as the number. */
        sa = make_in6("fe80::1", 80, 4000000000U);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "[fe80::1%4000000000]:80");

        sa = make_un("/run/app.sock", strlen("/run/app.sock"), true);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "/run/app.sock");
        sa = make_un("/run/app.sock", strlen("/run/app.sock"), false);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "/run/app.sock");
        sa = make_un("\0name", 5, false);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "@name");
        sa = make_un("\0a\0b", 4, false);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "@a@b");
        sa = make_un("/run/a\nb", 8, true);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "/run/a\\x0ab");
        sa = make_un("", 0, false);
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "(unnamed)");
        sa.len = 0;
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "(unnamed)");
        /* A length beyond sun_path is clamped, never read past. */
        sa = make_un("\0x", 2, false);
        sa.len = sizeof(sa.raw) + 8;
        ck_assert_uint_eq(strlen(sockaddr_format(&sa, buf, sizeof(buf))),
                          sizeof(sa.un.sun_path));

        sa = (SockAddr) {};
        ck_assert_str_eq(sockaddr_format(&sa, buf, sizeof(buf)), "(unspecified)");

        /* A short buffer is cut but stays terminated. */
        sa = make_in("127.0.0.1", 80);
        ck_assert_str_eq(sockaddr_format(&sa, small, sizeof(small)), "127");

        /* The parser's own sockaddrs print as the canonical forms. */
        {
                static const char *const forms[] = { "127.0.0.1:80", "[::1]:80", "[::]:80",
                                                     "0.0.0.0:0", "/run/app.sock", "@name" };
                ListenAddress a;

                SockAddr x;

                for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                        ck_assert_int_eq(address_parse(forms[i], &a, NULL, 0), 0);
                        address_sockaddr(&a, &x);
                        ck_assert_str_eq(sockaddr_format(&x, buf, sizeof(buf)), forms[i]);
                        address_done(&a);
                }
                ck_assert_int_eq(address_parse("*:8080", &a, NULL, 0), 0);
                address_sockaddr(&a, &x);
                ck_assert_str_eq(sockaddr_format(&x, buf, sizeof(buf)), "[::]:8080");
                snprintf(lo, sizeof(lo), "[fe80::1%%%u]:80", lo_index);
                ck_assert_int_eq(address_parse(lo, &a, NULL, 0), 0);
                address_sockaddr(&a, &x);
                ck_assert_str_eq(sockaddr_format(&x, buf, sizeof(buf)), "[fe80::1%lo]:80");
                ck_assert_str_eq(address_format(&a, buf, sizeof(buf)), lo);
        }
}
END_TEST

START_TEST(test_sockaddr_equal) {
        SockAddr a, b;

        a = make_in("127.0.0.1", 80);
        b = make_in("127.0.0.1", 80);
        ck_assert(sockaddr_equal(&a, &b));
        b = make_in("127.0.0.1", 81);
        ck_assert(!sockaddr_equal(&a, &b));
        b = make_in("127.0.0.2", 80);
        ck_assert(!sockaddr_equal(&a, &b));
        b = make_in6("::ffff:127.0.0.1", 80, 0);
        ck_assert(!sockaddr_equal(&a, &b));

        a = make_in6("fe80::1", 80, 1);
        b = make_in6("fe80::1", 80, 1);
        b.in6.sin6_flowinfo = htonl(7); /* not part of the address */
        ck_assert(sockaddr_equal(&a, &b));
        b = make_in6("fe80::1", 80, 2);
        ck_assert(!sockaddr_equal(&a, &b));
        b = make_in6("fe80::2", 80, 1);
        ck_assert(!sockaddr_equal(&a, &b));

        a = make_un("/run/a", 6, true);
        b = make_un("/run/a", 6, false);
        ck_assert(sockaddr_equal(&a, &b));
        b = make_un("/run/b", 6, true);
        ck_assert(!sockaddr_equal(&a, &b));
        b = make_un("/run/ab", 7, true);
        ck_assert(!sockaddr_equal(&a, &b));
        b = make_un("\0/run/a", 7, false);
        ck_assert(!sockaddr_equal(&a, &b));
        a = make_un("\0x", 2, false);
        b = make_un("\0x", 2, false);
        ck_assert(sockaddr_equal(&a, &b));
        b = make_un("\0x\0", 3, false);
        ck_assert(!sockaddr_equal(&a, &b));
        a = make_un("", 0, false);
        b = make_un("", 0, false);
        ck_assert(sockaddr_equal(&a, &b));
        b = make_un("/x", 2, true);
        ck_assert(!sockaddr_equal(&a, &b));

        ck_assert(sockaddr_equal(NULL, NULL));
        ck_assert(!sockaddr_equal(&a, NULL));
}
END_TEST

/* sockaddr_unix_name(): the name as bytes, its length, and whether it is abstract. */
START_TEST(test_sockaddr_unix_name) {
        static const struct {
                const char *name;
                size_t n;
                bool with_nul;
                size_t buflen;
                bool ok;
                size_t len;
                bool abstract;
        } rows[] = {
                { "/run/a.sock", 11, true, 64, true, 11, false },
                { "/run/a.sock", 11, false, 64, true, 11, false },
                { "\0name", 5, false, 64, true, 5, true },
                { "\0a\0b", 4, false, 64, true, 4, true },
                { "", 0, false, 64, false, 0, false },          /* unnamed */
                { "/run/a.sock", 11, true, 11, false, 0, false }, /* no room for the NUL */
                { "/run/a.sock", 11, true, 12, true, 11, false },
        };
        char buf[sizeof(((struct sockaddr_un *) NULL)->sun_path) + 1];

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                SockAddr sa = make_un(rows[i].name, rows[i].n, rows[i].with_nul);
                size_t len = 999;
                bool abstract = !rows[i].abstract;

                memset(buf, 'x', sizeof buf);
                ck_assert_msg(sockaddr_unix_name(&sa, buf, rows[i].buflen, &len, &abstract) ==
                                      rows[i].ok,
                              "row %zu", i);
                if (!rows[i].ok) {
                        ck_assert_uint_eq(len, 999); /* untouched */
                        continue;
                }
                ck_assert_uint_eq(len, rows[i].len);
                ck_assert(abstract == rows[i].abstract);
                ck_assert_mem_eq(buf, rows[i].name, len);
                ck_assert_int_eq(buf[len], '\0');
        }

        /* Not a unix address. */
        SockAddr in = make_in("127.0.0.1", 80);
        ck_assert(!sockaddr_unix_name(&in, buf, sizeof buf, NULL, NULL));
        ck_assert(!sockaddr_unix_name(NULL, buf, sizeof buf, NULL, NULL));
}
END_TEST

START_TEST(test_resolve_localhost) {
        _cleanup_free_ SockAddr *list = NULL;
        char buf[ADDRESS_FORMAT_MAX];
        ListenAddress a;

        ck_assert_int_eq(address_parse("localhost:8080", &a, NULL, 0), 0);
        ck_assert_int_eq(address_resolve(&a, &list, NULL, 0), 2);
        ck_assert_str_eq(sockaddr_format(&list[0], buf, sizeof(buf)), "127.0.0.1:8080");
        ck_assert_str_eq(sockaddr_format(&list[1], buf, sizeof(buf)), "[::1]:8080");
}
END_TEST

START_TEST(test_resolve_one) {
        static const struct {
                const char *in, *out;
        } rows[] = {
                { "*:8080", "[::]:8080" },        { "0.0.0.0:80", "0.0.0.0:80" },
                { "[::]:80", "[::]:80" },         { "127.0.0.1:0", "127.0.0.1:0" },
                { "[::1]:443", "[::1]:443" },     { "/run/app.sock", "/run/app.sock" },
                { "@name", "@name" },
        };
        char buf[ADDRESS_FORMAT_MAX];

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ SockAddr *list = NULL;
                ListenAddress a;

                ck_assert_int_eq(address_parse(rows[i].in, &a, NULL, 0), 0);
                SockAddr x;

                ck_assert_int_eq(address_resolve(&a, &list, NULL, 0), 1);
                address_sockaddr(&a, &x);
                ck_assert(sockaddr_equal(&list[0], &x));
                ck_assert_str_eq(sockaddr_format(&list[0], buf, sizeof(buf)), rows[i].out);
                address_done(&a);
        }
}
END_TEST

START_TEST(test_resolve_hostname) {
        /* "localhost" parses as ADDRESS_LOCALHOST; build a host name by hand to exercise
         * getaddrinfo() on a name /etc/hosts answers. */
        _cleanup_free_ SockAddr *list = NULL;
        char host[] = "localhost";
        ListenAddress a = { .kind = ADDRESS_HOSTNAME, .port = 9090, .host = host };
        char buf[ADDRESS_FORMAT_MAX];
        bool seen_v4 = false;
        int n;

        n = address_resolve(&a, &list, NULL, 0);
        ck_assert_int_ge(n, 1);
        for (int i = 0; i < n; i++) {
                sockaddr_format(&list[i], buf, sizeof(buf));
                ck_assert_msg(endswith(buf, ":9090"), "%s", buf);
                seen_v4 = seen_v4 || streq(buf, "127.0.0.1:9090");
                for (int j = 0; j < i; j++)
                        ck_assert(!sockaddr_equal(&list[i], &list[j]));
        }
        ck_assert(seen_v4);
}
END_TEST

START_TEST(test_resolve_unresolvable) {
        SockAddr *list = (SockAddr *) &list; /* must stay untouched */
        SockAddr *const sentinel = list;
        char err[ADDRESS_ERROR_MAX] = "";
        ListenAddress a;

        ck_assert_int_eq(address_parse("nonexistent.invalid:80", &a, NULL, 0), 0);
        ck_assert_int_eq(a.kind, ADDRESS_HOSTNAME);
        if (test_isolate_network("unresolvable host name")) {
                ck_assert_int_eq(address_resolve(&a, &list, err, sizeof(err)), -EADDRNOTAVAIL);
                ck_assert_msg(startswith(err, "cannot resolve 'nonexistent.invalid': "), "%s",
                              err);
                ck_assert_ptr_eq(list, sentinel);
        }

        address_done(&a);
        a.kind = _ADDRESS_KIND_INVALID;
        ck_assert_int_eq(address_resolve(&a, &list, err, sizeof(err)), -EINVAL);
        ck_assert_ptr_eq(list, sentinel);
}
END_TEST

static Suite *address_suite(void) {
        Suite *s = suite_create("address");
        TCase *tc;

        tc = tcase_create("parse-table");
        tcase_add_loop_test(tc, test_parse_row, 0, (int) ELEMENTSOF(parse_rows));
        suite_add_tcase(s, tc);

        tc = tcase_create("parse");
        tcase_add_test(tc, test_parse_too_long);
        tcase_add_test(tc, test_parse_small_error_buffer);
        tcase_add_test(tc, test_parse_sockaddr);
        tcase_add_test(tc, test_kind_to_string);
        tcase_add_test(tc, test_is_inet_unix);
        suite_add_tcase(s, tc);

        tc = tcase_create("sockaddr");
        tcase_add_test(tc, test_sockaddr_format);
        tcase_add_test(tc, test_sockaddr_equal);
        tcase_add_test(tc, test_sockaddr_unix_name);
        suite_add_tcase(s, tc);

        tc = tcase_create("resolve");
        tcase_add_test(tc, test_resolve_localhost);
        tcase_add_test(tc, test_resolve_one);
        tcase_add_test(tc, test_resolve_hostname);
        tcase_add_test(tc, test_resolve_unresolvable);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(address_suite());
        int failures;

        srunner_run_all(sr, CK_NORMAL);
        failures = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
