/* ip-filter: the IPAddressAllow=/IPAddressDeny= rule lists and their compilation to a classic
 * BPF socket filter. The program reads the IP version from the network header, then the source
 * address, and tests the allow prefixes (return the whole packet), then the deny prefixes
 * (return 0: drop), then accepts. Each prefix is one short block ending in its own return, so
 * every conditional jump stays within a block (classic BPF jumps reach 255 instructions); the
 * two families' sections are reached with BPF_JA, whose offset is 32 bits. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "common/macro.h"
#include "daemon/ip-filter.h"

#define ACCEPT_ALL UINT32_MAX
#define WHITESPACE " \t\n\r"
#define PREFIXES_MAX_TEXT "100"
_Static_assert(IP_FILTER_PREFIXES_MAX == 100U, "PREFIXES_MAX_TEXT");

/* ---- the lists ---- */

void ip_prefix_list_clear(IPPrefixList *list) {
        free(list->items);
        list->items = NULL;
        list->n = 0;
}

static bool prefix_equal(const IPPrefix *a, const IPPrefix *b) {
        if (a->family != b->family || a->prefixlen != b->prefixlen)
                return false;
        return a->family == AF_INET ? a->addr.in.s_addr == b->addr.in.s_addr
                                    : memcmp(&a->addr.in6, &b->addr.in6, sizeof a->addr.in6) == 0;
}

bool ip_prefix_list_equal(const IPPrefixList *a, const IPPrefixList *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (!prefix_equal(&a->items[i], &b->items[i]))
                        return false;
        return true;
}

/* The network-order mask of the first bits of a 32-bit word (0 <= bits <= 32). */
static uint32_t word_mask(unsigned bits) {
        return bits == 0 ? 0 : bits >= 32 ? UINT32_MAX : UINT32_MAX << (32 - bits);
}

/* How many of the prefix's bits fall in its 32-bit word w. */
static unsigned word_bits(unsigned prefixlen, unsigned w) {
        unsigned start = 32 * w;

        return prefixlen <= start ? 0 : MIN(prefixlen - start, 32U);
}

static void prefix_mask(IPPrefix *p) {
        if (p->family == AF_INET) {
                p->addr.in.s_addr &= htonl(word_mask(p->prefixlen));
                return;
        }
        for (unsigned w = 0; w < 4; w++) {
                uint32_t v;

                memcpy(&v, &p->addr.in6.s6_addr[4 * w], 4);
                v &= htonl(word_mask(word_bits(p->prefixlen, w)));
                memcpy(&p->addr.in6.s6_addr[4 * w], &v, 4);
        }
}

/* Adds p (host bits cleared) unless it is there already. Returns 0, 1 when the list is full,
 * or -ENOMEM. */
static int list_add(IPPrefixList *list, IPPrefix p) {
        IPPrefix *n;

        prefix_mask(&p);
        for (size_t i = 0; i < list->n; i++)
                if (prefix_equal(&list->items[i], &p))
                        return 0;
        if (list->n >= IP_FILTER_PREFIXES_MAX)
                return 1;
        n = realloc(list->items, (list->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        list->items = n;
        list->items[list->n++] = p;
        return 0;
}

static IPPrefix prefix4(uint32_t host_order, uint8_t len) {
        return (IPPrefix) { .family = AF_INET, .addr.in.s_addr = htonl(host_order),
                            .prefixlen = len };
}

static IPPrefix prefix6(uint8_t first, uint8_t second, uint8_t last, uint8_t len) {
        IPPrefix p = { .family = AF_INET6, .prefixlen = len };

        p.addr.in6.s6_addr[0] = first;
        p.addr.in6.s6_addr[1] = second;
        p.addr.in6.s6_addr[15] = last;
        return p;
}

/* systemd's is_localhost(): the names that always mean this machine. */
static bool is_localhost(const char *w) {
        static const char *const suffixes[] = {
                ".localhost", ".localhost.", ".localhost.localdomain", ".localhost.localdomain.",
        };
        size_t n = strlen(w);

        if (strcasecmp(w, "localhost") == 0 || strcasecmp(w, "localhost.") == 0 ||
            strcasecmp(w, "localhost.localdomain") == 0 ||
            strcasecmp(w, "localhost.localdomain.") == 0)
                return true;
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t k = strlen(suffixes[i]);

                if (n > k && strcasecmp(w + n - k, suffixes[i]) == 0)
                        return true;
        }
        return false;
}

/* "ADDR" or "ADDR/LEN" (decimal, at most the family's width). Returns 0 or -EINVAL. */
static int prefix_parse(const char *w, IPPrefix *ret) {
        char buf[INET6_ADDRSTRLEN + 8];
        const char *slash = strchr(w, '/');
        size_t alen = slash ? (size_t) (slash - w) : strlen(w);
        IPPrefix p = {};
        unsigned len = 0, max;

        if (alen == 0 || alen >= sizeof buf)
                return -EINVAL;
        memcpy(buf, w, alen);
        buf[alen] = 0;
        if (inet_pton(AF_INET, buf, &p.addr.in) == 1)
                p.family = AF_INET;
        else if (inet_pton(AF_INET6, buf, &p.addr.in6) == 1)
                p.family = AF_INET6;
        else
                return -EINVAL;
        max = p.family == AF_INET ? 32 : 128;
        if (!slash)
                len = max;
        else {
                const char *d = slash + 1;

                if (*d == 0 || strlen(d) > 3)
                        return -EINVAL;
                for (; *d; d++) {
                        if (*d < '0' || *d > '9')
                                return -EINVAL;
                        len = len * 10 + (unsigned) (*d - '0');
                }
                if (len > max)
                        return -EINVAL;
        }
        p.prefixlen = (uint8_t) len;
        *ret = p;
        return 0;
}

/* What one word of a value names: up to two prefixes. Returns how many, or -EINVAL. */
static int word_prefixes(const char *w, IPPrefix ret[static 2]) {
        if (streq(w, "any")) {
                ret[0] = prefix4(0, 0);
                ret[1] = prefix6(0, 0, 0, 0);
                return 2;
        }
        if (is_localhost(w)) {
                ret[0] = prefix4(UINT32_C(127) << 24, 8);
                ret[1] = prefix6(0, 0, 1, 128);
                return 2;
        }
        if (streq(w, "link-local")) {
                ret[0] = prefix4(UINT32_C(169) << 24 | UINT32_C(254) << 16, 16);
                ret[1] = prefix6(0xfe, 0x80, 0, 64);
                return 2;
        }
        if (streq(w, "multicast")) {
                ret[0] = prefix4(UINT32_C(224) << 24, 4);
                ret[1] = prefix6(0xff, 0, 0, 8);
                return 2;
        }
        return prefix_parse(w, &ret[0]) < 0 ? -EINVAL : 1;
}

int ip_prefix_list_parse(IPPrefixList *list, const char *value, IPFilterWarnFunc warn,
                         void *userdata) {
        const char *p = value;

        if (!*value) {
                ip_prefix_list_clear(list);
                return 0;
        }
        for (;;) {
                char word[256];
                IPPrefix ps[2];
                size_t n;
                int k, r = 0;

                p += strspn(p, WHITESPACE);
                if (!*p)
                        return 0;
                n = strcspn(p, WHITESPACE);
                snprintf(word, sizeof word, "%.*s", (int) MIN(n, sizeof word - 1), p);
                p += n;

                k = n >= sizeof word ? -EINVAL : word_prefixes(word, ps);
                if (k < 0) {
                        if (warn)
                                warn(word, "not an address, address/prefix length, \"any\", "
                                     "\"localhost\", \"link-local\" or \"multicast\"", userdata);
                        continue;
                }
                for (int i = 0; i < k && r == 0; i++)
                        r = list_add(list, ps[i]);
                if (r < 0)
                        return r;
                if (r > 0 && warn)
                        warn(word, "more than " PREFIXES_MAX_TEXT " prefixes",
                             userdata);
        }
}

const char *ip_prefix_format(const IPPrefix *p, char *buf, size_t buflen) {
        char a[INET6_ADDRSTRLEN];

        if (!inet_ntop(p->family, &p->addr, a, sizeof a))
                snprintf(a, sizeof a, "?");
        snprintf(buf, buflen, "%s/%u", a, p->prefixlen);
        return buf;
}

const char *ip_prefix_list_format(const IPPrefixList *list, char *buf, size_t buflen) {
        size_t o = 0;

        if (buflen == 0)
                return buf;
        buf[0] = 0;
        for (size_t i = 0; i < list->n && o + 1 < buflen; i++) {
                char one[IP_PREFIX_FORMAT_MAX];
                int k = snprintf(buf + o, buflen - o, "%s%s", i ? " " : "",
                                 ip_prefix_format(&list->items[i], one, sizeof one));
                if (k < 0)
                        break;
                o += (size_t) k;
        }
        return buf;
}

/* ---- matching ---- */

/* An IPv6 rule for an IPv4-mapped prefix, as the IPv4 prefix it maps: returns true and *ret. */
static bool prefix_unmap(const IPPrefix *p, IPPrefix *ret) {
        static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

        if (p->family != AF_INET6 || p->prefixlen < 96 ||
            memcmp(p->addr.in6.s6_addr, mapped, sizeof mapped) != 0)
                return false;
        *ret = (IPPrefix) { .family = AF_INET, .prefixlen = (uint8_t) (p->prefixlen - 96) };
        memcpy(&ret->addr.in, &p->addr.in6.s6_addr[12], 4);
        return true;
}

static bool prefix_matches(const IPPrefix *p, int family, const void *addr) {
        IPPrefix a = { .family = family, .prefixlen = p->prefixlen }, v4;

        if (p->family != family)
                return family == AF_INET && prefix_unmap(p, &v4) && prefix_matches(&v4, family, addr);
        memcpy(&a.addr, addr, family == AF_INET ? 4 : 16);
        prefix_mask(&a);
        return prefix_equal(&a, p);
}

static bool list_matches(const IPPrefixList *l, int family, const void *addr) {
        for (size_t i = 0; i < l->n; i++)
                if (prefix_matches(&l->items[i], family, addr))
                        return true;
        return false;
}

bool ip_filter_allows(const IPPrefixList *allow, const IPPrefixList *deny, int family,
                      const void *addr) {
        return list_matches(allow, family, addr) || !list_matches(deny, family, addr);
}

/* ---- compiling ---- */

typedef struct Program {
        struct sock_filter *insns;
        size_t n;
} Program;

/* Longest block: four words of an IPv6 address (load, mask, compare) and the return. */
#define BLOCK_MAX 13

/* Appends the block for one prefix p: the tests, each jumping past the block on a mismatch,
 * then "return ret". IPv4 tests compare X (the source address, loaded once); IPv6 tests load
 * each word of the address they need. */
static int emit_block(Program *prog, const IPPrefix *p, uint32_t ret) {
        struct sock_filter b[BLOCK_MAX];
        size_t m = 0, words = p->family == AF_INET ? 1 : 4;
        struct sock_filter *n;

        for (unsigned w = 0; w < words; w++) {
                unsigned bits = word_bits(p->prefixlen, w);
                uint32_t v;

                if (bits == 0)
                        break;
                if (p->family == AF_INET) {
                        v = p->addr.in.s_addr;
                        b[m++] = (struct sock_filter) BPF_STMT(BPF_MISC | BPF_TXA, 0);
                } else {
                        memcpy(&v, &p->addr.in6.s6_addr[4 * w], 4);
                        b[m++] = (struct sock_filter) BPF_STMT(
                                BPF_LD | BPF_W | BPF_ABS, (uint32_t) (SKF_NET_OFF + 8 + 4 * w));
                }
                if (bits < 32)
                        b[m++] = (struct sock_filter) BPF_STMT(BPF_ALU | BPF_AND | BPF_K,
                                                               word_mask(bits));
                /* jf is patched below, once the block's length is known. */
                b[m++] = (struct sock_filter) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ntohl(v), 0, 0);
        }
        for (size_t i = 0; i < m; i++)
                if (BPF_CLASS(b[i].code) == BPF_JMP)
                        b[i].jf = (uint8_t) (m - i); /* past the return that follows */
        b[m++] = (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, ret);

        if (prog->n + m > BPF_MAXINSNS)
                return -E2BIG;
        n = realloc(prog->insns, (prog->n + m) * sizeof *n);
        if (!n)
                return -ENOMEM;
        memcpy(n + prog->n, b, m * sizeof *b);
        prog->insns = n;
        prog->n += m;
        return 0;
}

static int emit(Program *prog, struct sock_filter insn) {
        struct sock_filter *n;

        if (prog->n + 1 > BPF_MAXINSNS)
                return -E2BIG;
        n = realloc(prog->insns, (prog->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        n[prog->n++] = insn;
        prog->insns = n;
        return 0;
}

/* The tests of one family's section: the allow blocks, then the deny blocks, then accept. In
 * the IPv4 section, IPv6 rules for IPv4-mapped prefixes count as the IPv4 prefixes they map. */
static int emit_section(Program *prog, int family, const IPPrefixList *allow,
                        const IPPrefixList *deny) {
        const IPPrefixList *lists[2] = { allow, deny };
        int r;

        for (size_t l = 0; l < 2; l++)
                for (size_t i = 0; i < lists[l]->n; i++) {
                        const IPPrefix *p = &lists[l]->items[i];
                        IPPrefix v4;

                        if (p->family != family && !(family == AF_INET && prefix_unmap(p, &v4)))
                                continue;
                        r = emit_block(prog, p->family == family ? p : &v4,
                                       l == 0 ? ACCEPT_ALL : 0);
                        if (r < 0)
                                return r;
                }
        return emit(prog, (struct sock_filter) BPF_STMT(BPF_RET | BPF_K, ACCEPT_ALL));
}

int ip_filter_compile(const IPPrefixList *allow, const IPPrefixList *deny,
                      struct sock_filter **ret, size_t *ret_n) {
        /* The version from the first byte of the IP header, then a jump to its section. */
        static const struct sock_filter head[] = {
                BPF_STMT(BPF_LD | BPF_B | BPF_ABS, (uint32_t) SKF_NET_OFF),
                BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 4),
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 1),
                BPF_STMT(BPF_JMP | BPF_JA, 0), /* HEAD_JA4: to the IPv4 section */
                BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 1),
                BPF_STMT(BPF_JMP | BPF_JA, 0), /* HEAD_JA6: to the IPv6 section */
                BPF_STMT(BPF_RET | BPF_K, ACCEPT_ALL),
                /* HEAD_V4: the IPv4 section starts with the source address into X, once. */
                BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t) (SKF_NET_OFF + 12)),
                BPF_STMT(BPF_MISC | BPF_TAX, 0),
        };
        enum { HEAD_JA4 = 3, HEAD_JA6 = 5, HEAD_V4 = 7 };
        Program prog = {};
        int r = 0;

        for (size_t i = 0; i < ELEMENTSOF(head) && r >= 0; i++)
                r = emit(&prog, head[i]);
        if (r >= 0) {
                /* BPF_JA jumps k instructions past the next one. */
                prog.insns[HEAD_JA4].k = HEAD_V4 - (HEAD_JA4 + 1);
                r = emit_section(&prog, AF_INET, allow, deny);
        }
        if (r >= 0) {
                prog.insns[HEAD_JA6].k = (uint32_t) (prog.n - (HEAD_JA6 + 1));
                r = emit_section(&prog, AF_INET6, allow, deny);
        }
        if (r < 0) {
                free(prog.insns);
                return r;
        }
        *ret = prog.insns;
        *ret_n = prog.n;
        return 0;
}
