/* Listen addresses (SPEC §2): the one parser and the one formatter shared by berthd, --check
 * and berthctl. Pure: no logging, no sd-event. Only address_resolve() touches the outside
 * world (getaddrinfo for host names). */
#pragma once

#include <errno.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

/* A concrete socket address, as bound. */
typedef struct SockAddr {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
                struct sockaddr_un un;
                struct sockaddr_nl nl; /* ListenNetlink=; never parsed or formatted here */
                /* Room for any of them, for getsockname(), accept() and getaddrinfo() results:
                 * the largest, sockaddr_un (no sockaddr_storage: 20 bytes less in each copy). */
                uint8_t raw[sizeof(struct sockaddr_un)];
        };
        socklen_t len;
} SockAddr;

typedef enum AddressKind {
        ADDRESS_WILDCARD,  /* "8080", "*:8080", ":8080": every address, per dual-stack policy */
        ADDRESS_ANY_IPV4,  /* "0.0.0.0:8080" */
        ADDRESS_ANY_IPV6,  /* "[::]:8080" */
        ADDRESS_IP,        /* one literal address: "127.0.0.1:80", "[::1]:80", "[fe80::1%eth0]:80" */
        ADDRESS_LOCALHOST, /* "localhost:8080": 127.0.0.1 and [::1] */
        ADDRESS_HOSTNAME,  /* another host name, resolved by address_resolve() */
        ADDRESS_UNIX_PATH, /* "/run/app.sock" */
        ADDRESS_UNIX_ABSTRACT, /* "@name" */
        _ADDRESS_KIND_MAX,
        _ADDRESS_KIND_INVALID = -EINVAL,
} AddressKind;

/* The longest accepted input, host name part and unix path. */
#define ADDRESS_TEXT_MAX 1024
#define ADDRESS_HOST_MAX 253

/* An inet (or netlink) socket address, in the room those take: what is kept inline where a
 * unix path would be a waste of 80 bytes (a parsed listen address, a bound socket's spec). */
typedef struct SockAddrSmall {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
                struct sockaddr_nl nl;
        };
        socklen_t len;
} SockAddrSmall;

/* Copies a small address into a SockAddr. */
void sockaddr_from_small(SockAddr *ret, const SockAddrSmall *a);
/* Copies a into *ret when it fits (not a unix address): returns false, *ret untouched, if not. */
bool sockaddr_to_small(SockAddrSmall *ret, const SockAddr *a);

/* A parsed listen address. Fixed size and small: a host name (ADDRESS_HOSTNAME), a unix
 * address (ADDRESS_UNIX_*) and a scope's interface name are on the heap, owned, so that the
 * common inet kinds carry neither a 254-byte buffer nor a sockaddr_un: address_done() frees
 * them, and a copy by assignment borrows them. The kinds' parts share their bytes: read each
 * for its kinds only (address_sockaddr() gives the socket address of any kind, address_equal()
 * compares what is there). */
typedef struct ListenAddress {
        AddressKind kind;
        uint16_t port;          /* inet kinds; 0 means "the kernel picks" */
        union {
                struct {
                        /* The inet kinds but LOCALHOST and HOSTNAME: the address to bind. For
                         * ADDRESS_WILDCARD: [::]:port. LOCALHOST: AF_UNSPEC (see
                         * address_resolve()). */
                        SockAddrSmall sockaddr;
                        char *ifname; /* ADDRESS_IP with a scope named: the interface name
                                       * as written, owned; else NULL */
                };
                char *host; /* ADDRESS_HOSTNAME: the name, lower-cased, at most
                             * ADDRESS_HOST_MAX bytes; owned */
                SockAddr *unix_addr; /* ADDRESS_UNIX_PATH, ADDRESS_UNIX_ABSTRACT: owned */
        };
} ListenAddress;

/* The socket address of a: its one address to bind; for LOCALHOST and HOSTNAME, which have
 * more than one, AF_UNSPEC (address_resolve() gives those). */
void address_sockaddr(const ListenAddress *a, SockAddr *ret);

/* Frees what a parsed address owns (a host name, a unix address, an interface name) and
 * leaves it an ADDRESS_WILDCARD of port 0. NULL is fine. */
void address_done(ListenAddress *a);

/* Room for any message address_parse() writes. */
#define ADDRESS_ERROR_MAX 512

/* Parses one listen address as written in a unit file or on berthd's command line.
 * On success returns 0 and fills *ret. On a bad address returns -EINVAL and writes a one-line,
 * user-facing explanation to err (which names what is wrong and shows the right form, e.g.
 * "ambiguous IPv6 address '::1:8080': write '[::1]:8080'"). err may be NULL. *ret is set only
 * on success. */
int address_parse(const char *text, ListenAddress *ret, char *err, size_t errlen);

/* Formats a parsed address in canonical form into buf (at least ADDRESS_TEXT_MAX + 16 bytes):
 * "*:8080", "0.0.0.0:8080", "[::]:8080", "127.0.0.1:80", "[::1]:80", "[fe80::1%eth0]:80",
 * "localhost:8080", "example.com:443", "/run/app.sock", "@name". Parsing the result gives an
 * equal address. Returns buf. */
#define ADDRESS_FORMAT_MAX (ADDRESS_TEXT_MAX + 32)
const char *address_format(const ListenAddress *a, char *buf, size_t buflen);

/* Formats a concrete socket address: "127.0.0.1:80", "[::1]:80", "[::]:80",
 * "[fe80::1%eth0]:80", "/run/app.sock", "@name" (abstract, NULs shown as '@'). Returns buf. */
const char *sockaddr_format(const SockAddr *sa, char *buf, size_t buflen);

/* True when both are the same family, address, port (and scope id), or the same unix path or
 * abstract name. */
bool sockaddr_equal(const SockAddr *a, const SockAddr *b);

/* The name of a unix socket address, copied into buf: a path, NUL-terminated; or an abstract
 * name as its raw bytes, the leading NUL included, with a NUL after them. *ret_len (may be
 * NULL) counts the bytes before that last NUL. Returns false, with nothing set, for another
 * family, an unnamed socket, or a name that does not fit in buflen. */
bool sockaddr_unix_name(const SockAddr *a, char *buf, size_t buflen, size_t *ret_len,
                        bool *ret_abstract);

/* Expands a parsed inet address to the concrete addresses to bind:
 * ADDRESS_LOCALHOST gives 127.0.0.1 and [::1]; ADDRESS_HOSTNAME resolves with getaddrinfo
 * (AI_PASSIVE off, SOCK_STREAM, both families), de-duplicated, in getaddrinfo's order;
 * every other kind gives its one sockaddr. Returns the count (>= 1) and a malloc'ed array in
 * *ret, or a negative errno (-EADDRNOTAVAIL when a name does not resolve, with the resolver's
 * message in err). Caller frees *ret. */
int address_resolve(const ListenAddress *a, SockAddr **ret, char *err, size_t errlen);

/* The same kind, port, and address (or host name). */
bool address_equal(const ListenAddress *a, const ListenAddress *b);
bool address_is_inet(const ListenAddress *a);
bool address_is_unix(const ListenAddress *a);

const char *address_kind_to_string(AddressKind k);
