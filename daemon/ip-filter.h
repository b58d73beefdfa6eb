/* ip-filter: IPAddressAllow= and IPAddressDeny= (systemd.resource-control(5) syntax) and the
 * classic BPF socket filter that enforces them on a listening socket (SO_ATTACH_FILTER, then
 * SO_LOCK_FILTER in listener-bind.c). Pure: no event loop, no logging; warnings go back
 * through a callback. */
#pragma once

#include <linux/filter.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* At most this many prefixes per list (allow or deny): with both lists full, the compiled
 * program stays under the kernel's BPF_MAXINSNS. */
#define IP_FILTER_PREFIXES_MAX 100U

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and a NUL. */
#define IP_PREFIX_FORMAT_MAX 64

typedef struct IPPrefix {
        int family; /* AF_INET or AF_INET6 */
        union {
                struct in_addr in;
                struct in6_addr in6;
        } addr;     /* host bits are zero */
        uint8_t prefixlen;
} IPPrefix;

typedef struct IPPrefixList {
        IPPrefix *items;
        size_t n;
} IPPrefixList;

/* Called for each word of a value that is skipped: why is a short phrase. */
typedef void (*IPFilterWarnFunc)(const char *word, const char *why, void *userdata);

/* Reads one IPAddressAllow=/IPAddressDeny= value into list, as systemd's
 * config_parse_in_addr_prefixes() does: an empty value empties the list; otherwise each
 * whitespace-separated word is an address, an address/prefix length, or one of "any"
 * (0.0.0.0/0 ::/0), "localhost" (127.0.0.0/8 ::1/128; also "localhost.localdomain" and names
 * under .localhost), "link-local" (169.254.0.0/16 fe80::/64) or "multicast" (224.0.0.0/4
 * ff00::/8). Host bits are cleared and duplicates dropped. An invalid word, or one over
 * IP_FILTER_PREFIXES_MAX, is skipped with warn (may be NULL). Returns 0 or -ENOMEM (list then
 * holds what was added so far). */
int ip_prefix_list_parse(IPPrefixList *list, const char *value, IPFilterWarnFunc warn,
                         void *userdata);
void ip_prefix_list_clear(IPPrefixList *list);
bool ip_prefix_list_equal(const IPPrefixList *a, const IPPrefixList *b);

/* "10.0.0.0/8", "::1/128". Returns buf (at least IP_PREFIX_FORMAT_MAX bytes). */
const char *ip_prefix_format(const IPPrefix *p, char *buf, size_t buflen);
/* The list as one line, "127.0.0.2/32 ::1/128", cut to buflen. Returns buf. */
const char *ip_prefix_list_format(const IPPrefixList *list, char *buf, size_t buflen);

/* Whether an incoming packet from addr (AF_INET or AF_INET6) passes, by systemd's rule: allowed
 * if it matches allow, else dropped if it matches deny, else allowed. An IPv6 rule for an
 * IPv4-mapped prefix (::ffff:0:0/96 and longer) also matches the IPv4 address it maps (the
 * compiled filter does the same; systemd's does not). The reference for the compiled filter. */
bool ip_filter_allows(const IPPrefixList *allow, const IPPrefixList *deny, int family,
                      const void *addr);

/* Compiles allow and deny into a classic BPF socket filter for an AF_INET or AF_INET6 socket
 * (dual-stack ones too: it reads the IP version of each packet). It reads the source address
 * from the network header (SKF_NET_OFF), so it works on TCP and UDP sockets, where a filter sees
 * the packet from the transport header on. A packet it drops returns 0: a TCP SYN is dropped
 * and the client retries until it times out. Returns 0 and a malloc'ed program of *ret_n
 * instructions, -E2BIG when it would exceed BPF_MAXINSNS, or -ENOMEM. */
int ip_filter_compile(const IPPrefixList *allow, const IPPrefixList *deny,
                      struct sock_filter **ret, size_t *ret_n);
