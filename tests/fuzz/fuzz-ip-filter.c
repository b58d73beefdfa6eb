/* Fuzzes the IPAddressAllow=/IPAddressDeny= parser and the socket filter compiler. The input is
 * text: the lines before a line that is exactly "----" are IPAddressAllow= assignments, the rest
 * IPAddressDeny= ones. Whatever the lists become, they must be within IP_FILTER_PREFIXES_MAX,
 * masked, without duplicates, and read back the same from their formatted form. The compiled
 * program must be one the kernel takes (at most BPF_MAXINSNS instructions, every jump inside it,
 * ending in a return, loads only from the network header) and must decide as ip_filter_allows()
 * does: a small interpreter runs it on packets from each rule's own address, its neighbour past
 * the prefix, and addresses made of the input's bytes. */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/macro.h"
#include "daemon/ip-filter.h"
#include "tests/fuzz/fuzz-util.h"

static void check_list(const IPPrefixList *l) {
        CHECK(l->n <= IP_FILTER_PREFIXES_MAX);
        for (size_t i = 0; i < l->n; i++) {
                const IPPrefix *p = &l->items[i];
                IPPrefixList one = {};
                char buf[IP_PREFIX_FORMAT_MAX];

                CHECK(p->family == AF_INET || p->family == AF_INET6);
                CHECK(p->prefixlen <= (p->family == AF_INET ? 32 : 128));
                CHECK(ip_prefix_list_parse(&one, ip_prefix_format(p, buf, sizeof buf), NULL,
                                           NULL) == 0);
                CHECK(one.n == 1 && ip_prefix_list_equal(&one, &(IPPrefixList) { (IPPrefix *) p,
                                                                                   1 }));
                ip_prefix_list_clear(&one);
                for (size_t j = 0; j < i; j++)
                        CHECK(!ip_prefix_list_equal(&(IPPrefixList) { (IPPrefix *) p, 1 },
                                                    &(IPPrefixList) { &l->items[j], 1 }));
        }
}

static void check_program(const struct sock_filter *prog, size_t n) {
        CHECK(n > 0 && n <= BPF_MAXINSNS);
        CHECK(BPF_CLASS(prog[n - 1].code) == BPF_RET);
        for (size_t i = 0; i < n; i++) {
                const struct sock_filter *f = &prog[i];

                if (BPF_CLASS(f->code) == BPF_JMP) {
                        if (BPF_OP(f->code) == BPF_JA)
                                CHECK(i + 1 + f->k < n);
                        else
                                CHECK(i + 1 + f->jt < n && i + 1 + f->jf < n);
                }
                if (BPF_CLASS(f->code) == BPF_LD)
                        CHECK(BPF_MODE(f->code) == BPF_ABS && (int32_t) f->k >= SKF_NET_OFF &&
                              (int32_t) f->k < SKF_NET_OFF + 40);
        }
}

/* Runs prog on a network header (the IP header and nothing else): what the kernel would return. */
static uint32_t run(const struct sock_filter *prog, size_t n, const uint8_t *net, size_t len) {
        uint32_t a = 0, x = 0;

        for (size_t pc = 0, steps = 0; pc < n && steps <= n; pc++, steps++) {
                const struct sock_filter *f = &prog[pc];
                size_t off = (size_t) ((int32_t) f->k - SKF_NET_OFF);

                switch (f->code) {
                case BPF_LD | BPF_B | BPF_ABS:
                        if (off + 1 > len)
                                return 0;
                        a = net[off];
                        break;
                case BPF_LD | BPF_W | BPF_ABS:
                        if (off + 4 > len)
                                return 0;
                        a = (uint32_t) net[off] << 24 | (uint32_t) net[off + 1] << 16 |
                            (uint32_t) net[off + 2] << 8 | net[off + 3];
                        break;
                case BPF_ALU | BPF_RSH | BPF_K:
                        a >>= f->k;
                        break;
                case BPF_ALU | BPF_AND | BPF_K:
                        a &= f->k;
                        break;
                case BPF_MISC | BPF_TAX:
                        x = a;
                        break;
                case BPF_MISC | BPF_TXA:
                        a = x;
                        break;
                case BPF_JMP | BPF_JA:
                        pc += f->k;
                        break;
                case BPF_JMP | BPF_JEQ | BPF_K:
                        pc += a == f->k ? f->jt : f->jf;
                        break;
                case BPF_RET | BPF_K:
                        return f->k;
                default:
                        CHECK(!"an instruction the compiler does not emit");
                }
        }
        CHECK(!"ran off the end");
        return 0;
}

static void check_address(const struct sock_filter *prog, size_t n, const IPPrefixList *allow,
                          const IPPrefixList *deny, int family, const uint8_t *addr) {
        uint8_t net[40] = {};
        size_t len;

        if (family == AF_INET) {
                net[0] = 0x45;
                memcpy(net + 12, addr, 4);
                len = 20;
        } else {
                net[0] = 0x60;
                memcpy(net + 8, addr, 16);
                len = 40;
        }
        CHECK((run(prog, n, net, len) != 0) == ip_filter_allows(allow, deny, family, addr));
}

/* A rule's address, and the one just past its prefix (its last prefix bit flipped). */
static void check_rules(const struct sock_filter *prog, size_t n, const IPPrefixList *allow,
                        const IPPrefixList *deny, const IPPrefixList *l) {
        for (size_t i = 0; i < l->n; i++) {
                const IPPrefix *p = &l->items[i];
                uint8_t a[16];
                size_t len = p->family == AF_INET ? 4 : 16;

                memcpy(a, &p->addr, len);
                check_address(prog, n, allow, deny, p->family, a);
                if (p->prefixlen > 0) {
                        unsigned bit = p->prefixlen - 1u;
                        a[bit / 8] ^= (uint8_t) (0x80 >> (bit % 8));
                        check_address(prog, n, allow, deny, p->family, a);
                }
                /* The IPv4 address a mapped rule stands for. */
                if (p->family == AF_INET6)
                        check_address(prog, n, allow, deny, AF_INET, (const uint8_t *) &p->addr + 12);
        }
}

static void parse_lines(IPPrefixList *l, char *text) {
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                CHECK(ip_prefix_list_parse(l, line, NULL, NULL) == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        IPPrefixList allow = {}, deny = {};
        struct sock_filter *prog = NULL;
        char *text, *sep;
        size_t n;

        if (size > 64 * 1024)
                return 0;
        text = malloc(size + 1);
        CHECK(text);
        memcpy(text, data, size);
        text[size] = 0;
        if (strlen(text) != size) { /* a NUL inside: not a unit file line */
                free(text);
                return 0;
        }
        sep = strstr(text, "\n----\n");
        if (sep) {
                *sep = 0;
                parse_lines(&deny, sep + 6);
        }
        parse_lines(&allow, text);
        check_list(&allow);
        check_list(&deny);

        CHECK(ip_filter_compile(&allow, &deny, &prog, &n) == 0);
        check_program(prog, n);
        check_rules(prog, n, &allow, &deny, &allow);
        check_rules(prog, n, &allow, &deny, &deny);
        /* Addresses from the input's own bytes. */
        for (size_t off = 0; off + 16 <= size && off < 256; off += 16) {
                check_address(prog, n, &allow, &deny, AF_INET, data + off);
                check_address(prog, n, &allow, &deny, AF_INET6, data + off);
        }

        free(prog);
        ip_prefix_list_clear(&allow);
        ip_prefix_list_clear(&deny);
        free(text);
        return 0;
}
