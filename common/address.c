/* Listen addresses (SPEC §2): parsing, the canonical format, comparison and the expansion of a
 * parsed address to the concrete socket addresses to bind.
 *
 * Pure: no logging, no event loop, no heap except the array address_resolve() returns. The
 * outside world is touched in three places only: if_nametoindex() for "[fe80::1%eth0]",
 * if_indextoname() when sockaddr_format() prints a bare scope id, and getaddrinfo() for host
 * names in address_resolve().
 *
 * Every refusal writes one line that says what is wrong and shows the right form. User input is
 * always quoted with single quotes, bytes that are not printable ASCII are escaped as \xNN, and
 * a quoted piece too long for the message ends in a visible "..." rather than being cut
 * silently. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <net/if.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/address.h"
#include "common/errbuf.h"
#include "common/macro.h"
#include "common/string-table.h"

/* Room for one quoted piece of user input inside a message. Three pieces plus the fixed text of
 * any message stay below ADDRESS_ERROR_MAX, so messages are never cut by snprintf(). */
#define QUOTE_MAX 120
#define QUOTE_SIZE (QUOTE_MAX + 4)

/* A unix path needs its terminating NUL in sun_path; an abstract name needs the leading NUL. */
#define UNIX_NAME_MAX (sizeof(((struct sockaddr_un *) NULL)->sun_path) - 1)

#define HOST_LABEL_MAX 63

/* A host name may resolve to many addresses; each becomes a socket, so there is a cap. */
#define ADDRESS_RESOLVE_MAX 64

static bool ascii_digit(char c) {
        return c >= '0' && c <= '9';
}

static bool ascii_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static char ascii_lower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c - 'A' + 'a') : c;
}

static bool ascii_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

static bool all_digits(const char *s, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!ascii_digit(s[i]))
                        return false;
        return true;
}

/* Writes the first n bytes of s into out (QUOTE_SIZE bytes) for use inside '...': printable
 * ASCII as is, a backslash doubled, anything else as \xNN. Ends in "..." when it does not fit.
 * Returns out. */
static const char *quote_n(char out[static QUOTE_SIZE], const char *s, size_t n) {
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                char piece[4];
                size_t k;

                if (c == '\\') {
                        piece[0] = piece[1] = '\\';
                        k = 2;
                } else if (c < 0x20 || c >= 0x7f) {
                        piece[0] = '\\';
                        piece[1] = 'x';
                        piece[2] = hex[c >> 4];
                        piece[3] = hex[c & 0xf];
                        k = 4;
                } else {
                        piece[0] = (char) c;
                        k = 1;
                }
                if (o + k > QUOTE_MAX) {
                        memcpy(out + o, "...", 3);
                        o += 3;
                        break;
                }
                memcpy(out + o, piece, k);
                o += k;
        }
        out[o] = '\0';
        return out;
}

static const char *quote(char out[static QUOTE_SIZE], const char *s) {
        return quote_n(out, s, strlen(s));
}

/* State for one address_parse() call: the input and where its message goes. */
typedef struct Parser {
        const char *text;
        size_t len;
        char qtext[QUOTE_SIZE]; /* the whole input, quoted, for messages */
        char *err;
        size_t errlen;
} Parser;

#define parser_fail(p, ...) errbuf_set((p)->err, (p)->errlen, -EINVAL, __VA_ARGS__)

/* Common service names, only to suggest the number in the refusal. */
static const struct {
        const char *name;
        uint16_t port;
} service_table[] = {
        { "ftp", 21 },    { "ssh", 22 },  { "smtp", 25 },  { "domain", 53 },
        { "http", 80 },   { "pop3", 110 }, { "imap", 143 }, { "https", 443 },
};

static int service_lookup(const char *s, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(service_table); i++)
                if (strlen(service_table[i].name) == n &&
                    strncasecmp(service_table[i].name, s, n) == 0)
                        return service_table[i].port;
        return -ENOENT;
}

/* Digits that could be a port: what a suggested correction may repeat; anything longer is out
 * of range anyway, so the suggestion says PORT. */
static bool is_port_text(const char *s, size_t n) {
        return n <= 5 && all_digits(s, n);
}

/* Parses the port text s (n bytes). host is the host as it should appear in a suggested
 * correction ("*", "localhost", "[::1]"). */
static int parse_port(Parser *p, const char *s, size_t n, const char *host, uint16_t *ret) {
        char qport[QUOTE_SIZE], qhost[QUOTE_SIZE];
        uint32_t v = 0;
        int service;

        quote(qhost, host);
        if (n == 0)
                return parser_fail(p, "missing port in '%s': write '%s:PORT'", p->qtext, qhost);

        quote_n(qport, s, n);
        if (!all_digits(s, n)) {
                service = service_lookup(s, n);
                if (service >= 0)
                        return parser_fail(p,
                                           "'%s' is a service name, not a port: write the number, "
                                           "e.g. '%s:%d'",
                                           qport, qhost, service);
                return parser_fail(p,
                                   "port '%s' in '%s' is not a number: write a decimal port from 0 "
                                   "to 65535",
                                   qport, p->qtext);
        }

        for (size_t i = 0; i < n; i++) {
                v = v * 10 + (uint32_t) (s[i] - '0');
                if (v > UINT16_MAX)
                        return parser_fail(p, "port %s is out of range: ports are 0 to 65535",
                                           qport);
        }
        *ret = (uint16_t) v;
        return 0;
}

static void small_set_in(SockAddrSmall *sa, struct in_addr addr, uint16_t port) {
        *sa = (SockAddrSmall) {};
        sa->in.sin_family = AF_INET;
        sa->in.sin_addr = addr;
        sa->in.sin_port = htons(port);
        sa->len = sizeof(struct sockaddr_in);
}

static void small_set_in6(SockAddrSmall *sa, const struct in6_addr *addr, uint16_t port,
                          uint32_t scope_id) {
        *sa = (SockAddrSmall) {};
        sa->in6.sin6_family = AF_INET6;
        sa->in6.sin6_addr = *addr;
        sa->in6.sin6_port = htons(port);
        sa->in6.sin6_scope_id = scope_id;
        sa->len = sizeof(struct sockaddr_in6);
}

/* inet_pton() on the first n bytes of s. */
static bool parse_ipv4(const char *s, size_t n, struct in_addr *ret) {
        char buf[INET_ADDRSTRLEN];

        if (n == 0 || n >= sizeof(buf))
                return false;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return inet_pton(AF_INET, buf, ret) == 1;
}

/* inet_pton() on the first n bytes of s; with allow_scope, a non-empty "%scope" suffix is
 * accepted (and not checked). */
static bool parse_ipv6(const char *s, size_t n, bool allow_scope, struct in6_addr *ret) {
        char buf[INET6_ADDRSTRLEN];
        const char *pct;
        struct in6_addr addr;

        pct = memchr(s, '%', n);
        if (pct) {
                if (!allow_scope || (size_t) (pct - s) + 1 == n)
                        return false;
                n = (size_t) (pct - s);
        }
        if (n == 0 || n >= sizeof(buf))
                return false;
        memcpy(buf, s, n);
        buf[n] = '\0';
        if (inet_pton(AF_INET6, buf, &addr) != 1)
                return false;
        if (ret)
                *ret = addr;
        return true;
}

/* Digits and dots only, like "1.2.3" or "256.1.1.1": meant as an IPv4 address, never as a host
 * name (getaddrinfo() would read "1.2.3" as 1.2.0.3). */
static bool looks_like_ipv4(const char *s, size_t n) {
        bool digit = false;

        for (size_t i = 0; i < n; i++) {
                if (!ascii_digit(s[i]) && s[i] != '.')
                        return false;
                digit = digit || ascii_digit(s[i]);
        }
        return digit;
}

/* RFC 1123 host names: labels of letters, digits and '-', not starting or ending with '-', at
 * most 63 bytes, joined by dots; an optional final dot. Returns NULL when valid, else why not. */
static const char *hostname_invalid_reason(const char *s, size_t n) {
        size_t label = 0;

        if (n > ADDRESS_HOST_MAX)
                return "host names are at most 253 bytes";
        for (size_t i = 0; i < n; i++) {
                char c = s[i];

                if (c == '.') {
                        if (label == 0)
                                return "a label between dots is empty";
                        if (s[i - 1] == '-')
                                return "a label ends with '-'";
                        label = 0;
                        continue;
                }
                if (!ascii_alpha(c) && !ascii_digit(c) && c != '-')
                        return "host names use only letters, digits, '-' and '.'";
                if (c == '-' && label == 0)
                        return "a label starts with '-'";
                if (++label > HOST_LABEL_MAX)
                        return "a label is longer than 63 bytes";
        }
        if (n == 0 || (label == 0 && n == 1))
                return "it is empty";
        if (s[n - 1] == '-')
                return "a label ends with '-'";
        return NULL;
}

static bool is_localhost(const char *s, size_t n) {
        return n == strlen("localhost") && strncasecmp(s, "localhost", n) == 0;
}

static int parse_unix_path(Parser *p, ListenAddress *a) {
        if (p->len > UNIX_NAME_MAX)
                return parser_fail(p, "unix socket path '%s' is too long: the limit is %zu bytes",
                                   p->qtext, UNIX_NAME_MAX);
        if (p->text[p->len - 1] == '/')
                return parser_fail(p,
                                   "unix socket path '%s' names a directory: write the socket "
                                   "file's path, e.g. '/run/app.sock'",
                                   p->qtext);

        SockAddr *u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        u->un.sun_family = AF_UNIX;
        memcpy(u->un.sun_path, p->text, p->len);
        u->len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + p->len + 1);
        *a = (ListenAddress) { .kind = ADDRESS_UNIX_PATH, .unix_addr = u };
        return 0;
}

static int parse_unix_abstract(Parser *p, ListenAddress *a) {
        size_t n = p->len - 1;

        if (n == 0)
                return parser_fail(p, "empty abstract socket name in '@': write '@NAME'");
        if (n > UNIX_NAME_MAX)
                return parser_fail(p,
                                   "abstract socket name '%s' is too long: the limit is %zu bytes",
                                   p->qtext, UNIX_NAME_MAX);

        SockAddr *u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        u->un.sun_family = AF_UNIX;
        memcpy(u->un.sun_path + 1, p->text + 1, n);
        u->len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + n);
        *a = (ListenAddress) { .kind = ADDRESS_UNIX_ABSTRACT, .unix_addr = u };
        return 0;
}

/* Parses the interface after '%' in a bracketed IPv6 address: a decimal index, or a name that
 * must exist now. A name is kept in ret_name (IF_NAMESIZE bytes) so the address formats back
 * as written; for an index ret_name is empty. */
static int parse_scope(Parser *p, const char *s, size_t n, uint32_t *ret_index,
                       char ret_name[static IF_NAMESIZE]) {
        char qscope[QUOTE_SIZE], name[IF_NAMESIZE];
        unsigned idx;

        quote_n(qscope, s, n);
        if (n == 0)
                return parser_fail(p,
                                   "missing interface after '%%' in '%s': write "
                                   "'[fe80::1%%eth0]:PORT'",
                                   p->qtext);

        if (all_digits(s, n)) {
                uint64_t v = 0;

                for (size_t i = 0; i < n; i++) {
                        v = v * 10 + (uint64_t) (s[i] - '0');
                        if (v > UINT32_MAX)
                                return parser_fail(p, "interface index %s in '%s' is out of range",
                                                   qscope, p->qtext);
                }
                if (v == 0)
                        return parser_fail(p, "interface index 0 in '%s' names no interface",
                                           p->qtext);
                *ret_index = (uint32_t) v;
                ret_name[0] = '\0';
                return 0;
        }

        if (n >= IF_NAMESIZE)
                return parser_fail(p, "interface name '%s' is too long: the limit is %d bytes",
                                   qscope, IF_NAMESIZE - 1);
        for (size_t i = 0; i < n; i++)
                if (s[i] == '/' || s[i] == ':' || s[i] == '%' || s[i] == ' ' ||
                    (unsigned char) s[i] >= 0x7f)
                        return parser_fail(p, "invalid interface name '%s' in '%s'", qscope,
                                           p->qtext);
        memcpy(name, s, n);
        name[n] = '\0';
        idx = if_nametoindex(name);
        if (idx == 0)
                return parser_fail(p, "unknown network interface '%s' in '%s'", qscope, p->qtext);

        *ret_index = idx;
        memcpy(ret_name, name, n + 1);
        return 0;
}

/* "[" IPV6 ["%" SCOPE] "]:" PORT */
static int parse_bracketed(Parser *p, ListenAddress *a) {
        char qinside[QUOTE_SIZE], qaddr[QUOTE_SIZE], bracketed[QUOTE_SIZE + 2];
        char ifname[IF_NAMESIZE] = "";
        const char *inside = p->text + 1, *close, *after, *pct;
        size_t n, addr_len;
        struct in6_addr addr;
        struct in_addr addr4;
        uint32_t scope_id = 0;
        uint16_t port;
        int r;

        close = memchr(p->text, ']', p->len);
        if (!close)
                return parser_fail(p, "missing ']' in '%s': write '[IPV6-ADDRESS]:PORT'",
                                   p->qtext);
        n = (size_t) (close - inside);
        after = close + 1;
        quote_n(qinside, inside, n);

        if (n == 0) {
                char qp[QUOTE_SIZE] = "PORT";

                if (after[0] == ':' && is_port_text(after + 1, strlen(after + 1)))
                        quote(qp, after + 1);
                return parser_fail(p,
                                   "empty IPv6 address in '%s': write '[::]:%s' for every IPv6 "
                                   "address or '*:%s' for every address",
                                   p->qtext, qp, qp);
        }

        pct = memchr(inside, '%', n);
        addr_len = pct ? (size_t) (pct - inside) : n;
        quote_n(qaddr, inside, addr_len);
        if (!parse_ipv6(inside, addr_len, /* allow_scope= */ false, &addr)) {
                if (!pct && parse_ipv4(inside, n, &addr4))
                        return parser_fail(p,
                                           "IPv4 address '%s' in brackets: brackets are only for "
                                           "IPv6, write '%s:PORT'",
                                           qinside, qinside);
                if (!pct && !looks_like_ipv4(inside, n) &&
                    !hostname_invalid_reason(inside, n))
                        return parser_fail(p,
                                           "host name '%s' in brackets: brackets are only for "
                                           "IPv6, write '%s:PORT'",
                                           qinside, qinside);
                return parser_fail(p, "invalid IPv6 address '%s' in '%s'", qaddr, p->qtext);
        }

        if (pct) {
                r = parse_scope(p, pct + 1, n - addr_len - 1, &scope_id, ifname);
                if (r < 0)
                        return r;
                if (!IN6_IS_ADDR_LINKLOCAL(&addr) && !IN6_IS_ADDR_MC_LINKLOCAL(&addr))
                        return parser_fail(p,
                                           "an interface scope is only meaningful on a link-local "
                                           "address (fe80::/10), not in '%s': write '[%s]:PORT'",
                                           p->qtext, qaddr);
        }

        (void) snprintf(bracketed, sizeof(bracketed), "[%s]", qinside);
        if (*after == '\0')
                return parser_fail(p, "missing port in '%s': write '%s:PORT'", p->qtext,
                                   bracketed);
        if (*after != ':')
                return parser_fail(p, "unexpected text after ']' in '%s': write '%s:PORT'",
                                   p->qtext, bracketed);
        r = parse_port(p, after + 1, strlen(after + 1), bracketed, &port);
        if (r < 0)
                return r;

        if (IN6_IS_ADDR_UNSPECIFIED(&addr) && !pct) {
                *a = (ListenAddress) { .kind = ADDRESS_ANY_IPV6, .port = port };
        } else {
                *a = (ListenAddress) { .kind = ADDRESS_IP, .port = port };
                if (ifname[0]) {
                        a->ifname = strdup(ifname);
                        if (!a->ifname)
                                return -ENOMEM;
                }
        }
        small_set_in6(&a->sockaddr, &addr, port, scope_id);
        return 0;
}

/* Two or more colons without brackets: always refused, with the bracketed form suggested. */
static int refuse_unbracketed_ipv6(Parser *p) {
        const char *last = memrchr(p->text, ':', p->len);
        size_t before = (size_t) (last - p->text), after = p->len - before - 1;
        char qbefore[QUOTE_SIZE], qafter[QUOTE_SIZE];

        quote_n(qbefore, p->text, before);
        quote_n(qafter, last + 1, after);

        if (parse_ipv6(p->text, before, true, NULL) && is_port_text(last + 1, after))
                return parser_fail(p, "ambiguous IPv6 address '%s': write '[%s]:%s'", p->qtext,
                                   qbefore, qafter);
        if (parse_ipv6(p->text, p->len, true, NULL))
                return parser_fail(p, "missing port in '%s': write '[%s]:PORT'", p->qtext,
                                   p->qtext);
        if (parse_ipv6(p->text, before, true, NULL))
                return parser_fail(p, "ambiguous IPv6 address '%s': write '[%s]:PORT'", p->qtext,
                                   qbefore);
        return parser_fail(p,
                           "invalid address '%s': IPv6 addresses go in brackets, e.g. "
                           "'[::1]:8080'",
                           p->qtext);
}

/* A host name or IPv4 literal (host_len bytes at p->text, may be 0) and a port text. */
static int parse_host_port(Parser *p, size_t host_len, const char *port_text, ListenAddress *a) {
        const char *host = p->text;
        char hostbuf[ADDRESS_HOST_MAX + 1], qhost[QUOTE_SIZE];
        const char *reason;
        struct in_addr addr4;
        uint16_t port;
        int r;

        if (host_len == 0 || (host_len == 1 && host[0] == '*')) {
                r = parse_port(p, port_text, strlen(port_text), "*", &port);
                if (r < 0)
                        return r;
                *a = (ListenAddress) { .kind = ADDRESS_WILDCARD, .port = port };
                small_set_in6(&a->sockaddr, &in6addr_any, port, 0);
                return 0;
        }

        quote_n(qhost, host, host_len);
        if (parse_ipv4(host, host_len, &addr4)) {
                r = parse_port(p, port_text, strlen(port_text), qhost, &port);
                if (r < 0)
                        return r;
                *a = (ListenAddress) {
                        .kind = addr4.s_addr == htonl(INADDR_ANY) ? ADDRESS_ANY_IPV4 : ADDRESS_IP,
                        .port = port,
                };
                small_set_in(&a->sockaddr, addr4, port);
                return 0;
        }
        if (looks_like_ipv4(host, host_len))
                return parser_fail(p, "invalid IPv4 address '%s' in '%s'", qhost, p->qtext);
        reason = hostname_invalid_reason(host, host_len);
        if (reason)
                return parser_fail(p, "invalid host name '%s' in '%s': %s", qhost, p->qtext,
                                   reason);

        for (size_t i = 0; i < host_len; i++)
                hostbuf[i] = ascii_lower(host[i]);
        hostbuf[host_len] = '\0';

        r = parse_port(p, port_text, strlen(port_text), hostbuf, &port);
        if (r < 0)
                return r;
        if (is_localhost(host, host_len)) {
                *a = (ListenAddress) { .kind = ADDRESS_LOCALHOST, .port = port };
                a->sockaddr.sa.sa_family = AF_UNSPEC;
        } else {
                char *h = strdup(hostbuf);

                if (!h)
                        return -ENOMEM;
                *a = (ListenAddress) { .kind = ADDRESS_HOSTNAME, .port = port, .host = h };
        }
        return 0;
}

/* No colon at all: a bare port means every address; anything else lacks its port. */
static int parse_no_colon(Parser *p, ListenAddress *a) {
        char qhost[QUOTE_SIZE];
        struct in_addr addr4;
        uint16_t port;
        int r;

        if (all_digits(p->text, p->len) || service_lookup(p->text, p->len) >= 0 ||
            p->text[0] == '+' || p->text[0] == '-') {
                r = parse_port(p, p->text, p->len, "*", &port);
                if (r < 0)
                        return r;
                *a = (ListenAddress) { .kind = ADDRESS_WILDCARD, .port = port };
                small_set_in6(&a->sockaddr, &in6addr_any, port, 0);
                return 0;
        }

        if (streq(p->text, "*") || parse_ipv4(p->text, p->len, &addr4) ||
            (!looks_like_ipv4(p->text, p->len) && !hostname_invalid_reason(p->text, p->len)))
                return parser_fail(p, "missing port in '%s': write '%s:PORT'", p->qtext,
                                   quote(qhost, p->text));

        return parser_fail(p,
                           "invalid address '%s': write PORT, HOST:PORT, [IPV6-ADDRESS]:PORT, an "
                           "absolute unix socket path or @NAME",
                           p->qtext);
}

int address_parse(const char *text, ListenAddress *ret, char *err, size_t errlen) {
        Parser p = { .text = text, .err = err, .errlen = errlen };
        ListenAddress a = {};
        const char *colon;
        int r;

        if (!text || text[0] == '\0')
                return errbuf_set(err, errlen, -EINVAL,
                                 "empty address: write a port such as '8080', 'HOST:PORT', an "
                                 "absolute unix socket path or '@NAME'");
        p.len = strnlen(text, ADDRESS_TEXT_MAX + 1);
        if (p.len > ADDRESS_TEXT_MAX)
                return errbuf_set(err, errlen, -EINVAL, "address is longer than %d bytes",
                                 ADDRESS_TEXT_MAX);
        quote_n(p.qtext, text, p.len);

        for (size_t i = 0; i < p.len; i++)
                if (ascii_control((unsigned char) text[i]))
                        return parser_fail(&p, "address '%s' contains a control character",
                                           p.qtext);
        /* The unit file lexer strips blanks; one left here is a quoting mistake, so refuse it
         * rather than guess. Spaces inside a unix path are fine. */
        if (text[0] == ' ' || text[p.len - 1] == ' ')
                return parser_fail(&p, "address '%s' starts or ends with a space", p.qtext);
        /* "8080 # web": an INI habit. In unit files, as in systemd, '#' and ';' start a
         * comment only at the start of a line. (A unix path may hold them: not refused.) */
        if (text[0] != '/' && text[0] != '@' &&
            (strstr(text, " #") || strstr(text, " ;")))
                return parser_fail(&p,
                                   "address '%s' has a comment after it: '#' and ';' start a "
                                   "comment only at the start of a line; put the comment on a "
                                   "line of its own",
                                   p.qtext);

        if (text[0] == '/')
                r = parse_unix_path(&p, &a);
        else if (text[0] == '@')
                r = parse_unix_abstract(&p, &a);
        else if (memchr(text, '/', p.len))
                r = parser_fail(&p,
                                "unix socket path '%s' is relative: unix socket paths must be "
                                "absolute, e.g. '/run/app.sock'",
                                p.qtext);
        else if (text[0] == '[')
                r = parse_bracketed(&p, &a);
        else if (!(colon = strchr(text, ':')))
                r = parse_no_colon(&p, &a);
        else if (strchr(colon + 1, ':'))
                r = refuse_unbracketed_ipv6(&p);
        else
                r = parse_host_port(&p, (size_t) (colon - text), colon + 1, &a);
        if (r < 0)
                return r;

        if (ret)
                *ret = a;
        else
                address_done(&a);
        return 0;
}

void address_done(ListenAddress *a) {
        if (!a)
                return;
        if (a->kind == ADDRESS_HOSTNAME)
                free(a->host);
        else if (address_is_unix(a))
                free(a->unix_addr);
        else if (a->kind == ADDRESS_IP)
                free(a->ifname);
        *a = (ListenAddress) {};
}

void sockaddr_from_small(SockAddr *ret, const SockAddrSmall *a) {
        *ret = (SockAddr) { .len = MIN(a->len, (socklen_t) sizeof a->in6) };
        memcpy(ret->raw, &a->in6, ret->len);
}

bool sockaddr_to_small(SockAddrSmall *ret, const SockAddr *a) {
        if (a->len > sizeof ret->in6)
                return false;
        *ret = (SockAddrSmall) { .len = a->len };
        memcpy(&ret->in6, a->raw, a->len);
        return true;
}

void address_sockaddr(const ListenAddress *a, SockAddr *ret) {
        if (address_is_unix(a))
                *ret = *a->unix_addr;
        else if (a->kind == ADDRESS_HOSTNAME)
                *ret = (SockAddr) { .sa.sa_family = AF_UNSPEC };
        else
                sockaddr_from_small(ret, &a->sockaddr);
}

/* Appends printf output at *pos, never past size; *pos tracks what was written. */
_printf_(4, 5) static void buf_append(char *buf, size_t size, size_t *pos, const char *fmt, ...) {
        va_list ap;
        int k;

        if (*pos + 1 >= size)
                return;
        va_start(ap, fmt);
        k = vsnprintf(buf + *pos, size - *pos, fmt, ap);
        va_end(ap);
        if (k > 0)
                *pos = MIN(*pos + (size_t) k, size - 1);
}

/* Formats an AF_INET or AF_INET6 sockaddr. A scope prints as ifname when given, else (with
 * lookup) as the interface's current name, else as the number. */
static const char *format_inet(const SockAddr *sa, const char *ifname, bool lookup, char *buf,
                               size_t buflen) {
        char ip[INET6_ADDRSTRLEN], name[IF_NAMESIZE];
        size_t pos = 0;

        if (sa->sa.sa_family == AF_INET) {
                if (!inet_ntop(AF_INET, &sa->in.sin_addr, ip, sizeof(ip)))
                        ip[0] = '\0';
                buf_append(buf, buflen, &pos, "%s:%u", ip, ntohs(sa->in.sin_port));
                return buf;
        }

        if (!inet_ntop(AF_INET6, &sa->in6.sin6_addr, ip, sizeof(ip)))
                ip[0] = '\0';
        buf_append(buf, buflen, &pos, "[%s", ip);
        if (sa->in6.sin6_scope_id != 0) {
                if (ifname && ifname[0])
                        buf_append(buf, buflen, &pos, "%%%s", ifname);
                else if (lookup && if_indextoname(sa->in6.sin6_scope_id, name))
                        buf_append(buf, buflen, &pos, "%%%s", name);
                else
                        buf_append(buf, buflen, &pos, "%%%" PRIu32, sa->in6.sin6_scope_id);
        }
        buf_append(buf, buflen, &pos, "]:%u", ntohs(sa->in6.sin6_port));
        return buf;
}

/* Formats a unix sockaddr. With raw, bytes are copied (so the result parses back); without,
 * control bytes are escaped for display. Abstract NULs show as '@' either way. */
static const char *format_unix(const SockAddr *sa, bool raw, char *buf, size_t buflen) {
        const size_t base = offsetof(struct sockaddr_un, sun_path);
        const char *path = sa->un.sun_path;
        size_t pos = 0, n;
        bool abstract;

        if (sa->len <= base) {
                buf_append(buf, buflen, &pos, "(unnamed)");
                return buf;
        }
        n = MIN((size_t) sa->len - base, sizeof(sa->un.sun_path));
        abstract = path[0] == '\0';
        if (!abstract)
                n = strnlen(path, n);

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) path[i];

                if (c == '\0')
                        buf_append(buf, buflen, &pos, "@");
                else if (!raw && ascii_control(c))
                        buf_append(buf, buflen, &pos, "\\x%02x", c);
                else
                        buf_append(buf, buflen, &pos, "%c", c);
        }
        return buf;
}

const char *address_format(const ListenAddress *a, char *buf, size_t buflen) {
        size_t pos = 0;

        if (!buf || buflen == 0)
                return buf;
        buf[0] = '\0';

        switch (a->kind) {
        case ADDRESS_WILDCARD:
                buf_append(buf, buflen, &pos, "*:%u", a->port);
                break;
        case ADDRESS_ANY_IPV4:
                buf_append(buf, buflen, &pos, "0.0.0.0:%u", a->port);
                break;
        case ADDRESS_ANY_IPV6:
                buf_append(buf, buflen, &pos, "[::]:%u", a->port);
                break;
        case ADDRESS_IP:
                if (a->sockaddr.sa.sa_family != AF_INET && a->sockaddr.sa.sa_family != AF_INET6)
                        buf_append(buf, buflen, &pos, "(invalid)");
                else {
                        SockAddr sa;

                        sockaddr_from_small(&sa, &a->sockaddr);
                        format_inet(&sa, a->ifname, /* lookup= */ false, buf, buflen);
                }
                break;
        case ADDRESS_LOCALHOST:
                buf_append(buf, buflen, &pos, "localhost:%u", a->port);
                break;
        case ADDRESS_HOSTNAME:
                buf_append(buf, buflen, &pos, "%s:%u", a->host ?: "(invalid)", a->port);
                break;
        case ADDRESS_UNIX_PATH:
        case ADDRESS_UNIX_ABSTRACT:
                if (a->unix_addr)
                        format_unix(a->unix_addr, /* raw= */ true, buf, buflen);
                else
                        buf_append(buf, buflen, &pos, "(invalid)");
                break;
        case _ADDRESS_KIND_MAX:
        case _ADDRESS_KIND_INVALID:
        default:
                buf_append(buf, buflen, &pos, "(invalid)");
                break;
        }
        return buf;
}

const char *sockaddr_format(const SockAddr *sa, char *buf, size_t buflen) {
        size_t pos = 0;

        if (!buf || buflen == 0)
                return buf;
        buf[0] = '\0';

        switch (sa->sa.sa_family) {
        case AF_INET:
        case AF_INET6:
                return format_inet(sa, NULL, /* lookup= */ true, buf, buflen);
        case AF_UNIX:
                return format_unix(sa, /* raw= */ false, buf, buflen);
        case AF_UNSPEC:
                buf_append(buf, buflen, &pos, "(unspecified)");
                return buf;
        default:
                buf_append(buf, buflen, &pos, "(address family %d)", sa->sa.sa_family);
                return buf;
        }
}

bool sockaddr_equal(const SockAddr *a, const SockAddr *b) {
        const size_t base = offsetof(struct sockaddr_un, sun_path);

        if (!a || !b)
                return a == b;
        if (a->sa.sa_family != b->sa.sa_family)
                return false;

        switch (a->sa.sa_family) {
        case AF_INET:
                return a->in.sin_port == b->in.sin_port &&
                       a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
        case AF_INET6:
                return a->in6.sin6_port == b->in6.sin6_port &&
                       a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
                       memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, sizeof(struct in6_addr)) == 0;
        case AF_UNIX: {
                size_t na, nb;

                na = a->len > base ? MIN((size_t) a->len - base, sizeof(a->un.sun_path)) : 0;
                nb = b->len > base ? MIN((size_t) b->len - base, sizeof(b->un.sun_path)) : 0;
                if (na == 0 || nb == 0)
                        return na == nb; /* both unnamed */
                if ((a->un.sun_path[0] == '\0') != (b->un.sun_path[0] == '\0'))
                        return false;
                if (a->un.sun_path[0] != '\0') {
                        /* A path, with or without its NUL counted in len. */
                        na = strnlen(a->un.sun_path, na);
                        nb = strnlen(b->un.sun_path, nb);
                }
                return na == nb && memcmp(a->un.sun_path, b->un.sun_path, na) == 0;
        }
        case AF_UNSPEC:
                return true;
        default:
                return a->len == b->len && a->len <= sizeof(a->raw) &&
                       memcmp(a->raw, b->raw, a->len) == 0;
        }
}

bool sockaddr_unix_name(const SockAddr *a, char *buf, size_t buflen, size_t *ret_len,
                        bool *ret_abstract) {
        const size_t base = offsetof(struct sockaddr_un, sun_path);
        bool abstract;
        size_t n;

        if (!a || a->sa.sa_family != AF_UNIX || a->len <= base)
                return false;
        n = MIN((size_t) a->len - base, sizeof(a->un.sun_path));
        abstract = a->un.sun_path[0] == '\0';
        if (!abstract)
                n = strnlen(a->un.sun_path, n);
        if (n == 0 || n + 1 > buflen)
                return false;
        memcpy(buf, a->un.sun_path, n);
        buf[n] = '\0';
        if (ret_len)
                *ret_len = n;
        if (ret_abstract)
                *ret_abstract = abstract;
        return true;
}

static void sockaddr_set_port(SockAddr *sa, uint16_t port) {
        if (sa->sa.sa_family == AF_INET)
                sa->in.sin_port = htons(port);
        else if (sa->sa.sa_family == AF_INET6)
                sa->in6.sin6_port = htons(port);
}

static int resolve_hostname(const ListenAddress *a, SockAddr **ret, char *err, size_t errlen) {
        const struct addrinfo hints = {
                .ai_family = AF_UNSPEC,
                .ai_socktype = SOCK_STREAM,
                .ai_flags = 0, /* no AI_ADDRCONFIG: a name must not depend on today's routes */
        };
        _cleanup_free_ SockAddr *list = NULL;
        struct addrinfo *res = NULL;
        char qhost[QUOTE_SIZE];
        size_t n = 0;
        int r;

        if (!a->host || a->host[0] == '\0' ||
            strnlen(a->host, ADDRESS_HOST_MAX + 1) > ADDRESS_HOST_MAX)
                return errbuf_set(err, errlen, -EINVAL, "invalid host name in address");
        quote(qhost, a->host);

        r = getaddrinfo(a->host, NULL, &hints, &res);
        if (r == EAI_MEMORY)
                return -ENOMEM;
        if (r == EAI_SYSTEM) {
                (void) errbuf_set(err, errlen, -EINVAL, "cannot resolve '%s': %m", qhost);
                return -EADDRNOTAVAIL;
        }
        if (r != 0) {
                (void) errbuf_set(err, errlen, -EINVAL, "cannot resolve '%s': %s", qhost, gai_strerror(r));
                return -EADDRNOTAVAIL;
        }

        list = calloc(ADDRESS_RESOLVE_MAX, sizeof(SockAddr));
        if (!list) {
                freeaddrinfo(res);
                return -ENOMEM;
        }
        r = 0;
        for (const struct addrinfo *i = res; i; i = i->ai_next) {
                SockAddr sa = {};
                bool dup = false;

                if ((i->ai_family != AF_INET && i->ai_family != AF_INET6) ||
                    i->ai_addrlen > sizeof(sa.raw) || !i->ai_addr)
                        continue;
                memcpy(sa.raw, i->ai_addr, i->ai_addrlen);
                sa.len = i->ai_addrlen;
                sockaddr_set_port(&sa, a->port);
                for (size_t j = 0; j < n && !dup; j++)
                        dup = sockaddr_equal(&list[j], &sa);
                if (dup)
                        continue;
                if (n == ADDRESS_RESOLVE_MAX) {
                        (void) errbuf_set(err, errlen, -EINVAL,
                                         "'%s' resolves to more than %d addresses, the limit",
                                         qhost, ADDRESS_RESOLVE_MAX);
                        r = -E2BIG;
                        break;
                }
                list[n++] = sa;
        }
        freeaddrinfo(res);
        if (r < 0)
                return r;
        if (n == 0) {
                (void) errbuf_set(err, errlen, -EINVAL, "cannot resolve '%s': no IPv4 or IPv6 address",
                                 qhost);
                return -EADDRNOTAVAIL;
        }

        *ret = TAKE_PTR(list);
        return (int) n;
}

int address_resolve(const ListenAddress *a, SockAddr **ret, char *err, size_t errlen) {
        SockAddr *list;

        switch (a->kind) {
        case ADDRESS_LOCALHOST:
                list = calloc(2, sizeof(SockAddr));
                if (!list)
                        return -ENOMEM;
                SockAddrSmall lo4, lo6;

                small_set_in(&lo4, (struct in_addr) { htonl(INADDR_LOOPBACK) }, a->port);
                small_set_in6(&lo6, &in6addr_loopback, a->port, 0);
                sockaddr_from_small(&list[0], &lo4);
                sockaddr_from_small(&list[1], &lo6);
                *ret = list;
                return 2;
        case ADDRESS_HOSTNAME:
                return resolve_hostname(a, ret, err, errlen);
        case ADDRESS_WILDCARD:
        case ADDRESS_ANY_IPV4:
        case ADDRESS_ANY_IPV6:
        case ADDRESS_IP:
        case ADDRESS_UNIX_PATH:
        case ADDRESS_UNIX_ABSTRACT:
                list = malloc(sizeof(SockAddr));
                if (!list)
                        return -ENOMEM;
                address_sockaddr(a, list);
                *ret = list;
                return 1;
        case _ADDRESS_KIND_MAX:
        case _ADDRESS_KIND_INVALID:
        default:
                return errbuf_set(err, errlen, -EINVAL, "invalid address kind %d", (int) a->kind);
        }
}

bool address_equal(const ListenAddress *a, const ListenAddress *b) {
        if (a->kind != b->kind || a->port != b->port)
                return false;
        if (a->kind == ADDRESS_HOSTNAME)
                return a->host && b->host && streq(a->host, b->host);
        if (address_is_unix(a))
                return a->unix_addr && b->unix_addr && a->unix_addr->len == b->unix_addr->len &&
                       sockaddr_equal(a->unix_addr, b->unix_addr);

        SockAddr x, y;

        sockaddr_from_small(&x, &a->sockaddr);
        sockaddr_from_small(&y, &b->sockaddr);
        return x.len == y.len && sockaddr_equal(&x, &y) &&
               (a->kind != ADDRESS_IP || streq(strempty(a->ifname), strempty(b->ifname)));
}

bool address_is_inet(const ListenAddress *a) {
        switch (a->kind) {
        case ADDRESS_WILDCARD:
        case ADDRESS_ANY_IPV4:
        case ADDRESS_ANY_IPV6:
        case ADDRESS_IP:
        case ADDRESS_LOCALHOST:
        case ADDRESS_HOSTNAME:
                return true;
        case ADDRESS_UNIX_PATH:
        case ADDRESS_UNIX_ABSTRACT:
        case _ADDRESS_KIND_MAX:
        case _ADDRESS_KIND_INVALID:
        default:
                return false;
        }
}

bool address_is_unix(const ListenAddress *a) {
        return a->kind == ADDRESS_UNIX_PATH || a->kind == ADDRESS_UNIX_ABSTRACT;
}

DEFINE_STRING_TABLE(address_kind, AddressKind,
                    [ADDRESS_WILDCARD] = "wildcard",
                    [ADDRESS_ANY_IPV4] = "any-ipv4",
                    [ADDRESS_ANY_IPV6] = "any-ipv6",
                    [ADDRESS_IP] = "ip",
                    [ADDRESS_LOCALHOST] = "localhost",
                    [ADDRESS_HOSTNAME] = "hostname",
                    [ADDRESS_UNIX_PATH] = "unix-path",
                    [ADDRESS_UNIX_ABSTRACT] = "unix-abstract")
