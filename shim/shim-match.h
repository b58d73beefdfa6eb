/* shim-match: which of berth's inherited sockets a program's bind() means. Pure: no libc
 * wrappers, no globals, no allocation; used by libberth-bind.so (shim/bind.c), its unit test
 * and its fuzz target.
 *
 * The matching rule (berth.service(5), BindShim=), for a program binding (type, address):
 * - the socket types are the same (SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET);
 * - IP: the ports are the same and not 0, and, after an IPv4-mapped IPv6 address
 *   (::ffff:a.b.c.d) on either side is taken as the IPv4 address a.b.c.d,
 *     - the addresses are equal (an IPv6 one with the same scope id), or
 *     - the program binds 0.0.0.0:P, and berth holds 0.0.0.0:P or a dual-stack [::]:P
 *       (IPV6_V6ONLY off), or
 *     - the program binds [::]:P, and berth holds [::]:P (dual-stack or IPv6-only);
 * - unix: the same path (the bytes up to the first NUL), or the same abstract name (all of
 *   its bytes); an unnamed (autobind) address matches nothing.
 * Anything else (another family, port 0, a malformed address) matches nothing. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* One inherited socket, as the shim reads it back at load. */
typedef struct ShimSocket {
        int type;                    /* SOCK_STREAM, ... (SO_TYPE) */
        bool v6only;                 /* AF_INET6: IPV6_V6ONLY */
        struct sockaddr_storage addr; /* getsockname(); its family is the socket's */
        socklen_t addr_len;
} ShimSocket;

/* Whether a program's bind(type, addr, addr_len) is served by berth's socket b (rule above).
 * addr may be anything the program passed: it is checked against addr_len. */
bool shim_match(const ShimSocket *b, int type, const struct sockaddr *addr, socklen_t addr_len);

/* The first socket of table[0..n) that matches and whose taken[i] is false; -1 when none. */
int shim_match_find(const ShimSocket *table, const bool *taken, size_t n, int type,
                    const struct sockaddr *addr, socklen_t addr_len);

/* Whether a bind of addr asks for something berth could hold: an IP address with a port, or a
 * named unix socket. Port 0 and autobind are the program's own business (no log line). */
bool shim_address_is_specific(const struct sockaddr *addr, socklen_t addr_len);

/* Enough for "[ffff:...%4294967295]:65535" and a unix path ("@" for abstract names, bytes
 * that are not printable as "\xNN", cut with "..." past the buffer). */
#define SHIM_ADDRESS_MAX 128

/* Formats addr for a log line into buf (always NUL-terminated; size >= 8). Returns buf. */
const char *shim_format_address(const struct sockaddr *addr, socklen_t addr_len, char *buf,
                                size_t size);
