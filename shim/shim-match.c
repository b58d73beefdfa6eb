/* shim-match: the address matching rule of libberth-bind.so (shim-match.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "shim/shim-match.h"

/* An IP address reduced to what the rule compares: a family (an IPv4-mapped IPv6 address
 * becomes AF_INET), 16 address bytes (IPv4 in the first 4), a scope id and a port. */
typedef struct IPKey {
        int family;
        uint8_t bytes[16];
        uint32_t scope;
        uint16_t port;
} IPKey;

static bool ip_key(const struct sockaddr *sa, socklen_t len, IPKey *ret) {
        static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

        memset(ret, 0, sizeof *ret);
        if (!sa || len < (socklen_t) sizeof(sa_family_t))
                return false;
        if (sa->sa_family == AF_INET && len >= (socklen_t) sizeof(struct sockaddr_in)) {
                struct sockaddr_in in;

                memcpy(&in, sa, sizeof in);
                ret->family = AF_INET;
                memcpy(ret->bytes, &in.sin_addr, 4);
                ret->port = ntohs(in.sin_port);
                return true;
        }
        if (sa->sa_family == AF_INET6 && len >= (socklen_t) sizeof(struct sockaddr_in6)) {
                struct sockaddr_in6 in6;

                memcpy(&in6, sa, sizeof in6);
                ret->port = ntohs(in6.sin6_port);
                if (memcmp(in6.sin6_addr.s6_addr, mapped, sizeof mapped) == 0) {
                        ret->family = AF_INET;
                        memcpy(ret->bytes, in6.sin6_addr.s6_addr + 12, 4);
                        return true;
                }
                ret->family = AF_INET6;
                memcpy(ret->bytes, in6.sin6_addr.s6_addr, 16);
                ret->scope = in6.sin6_scope_id;
                return true;
        }
        return false;
}

static bool ip_key_is_any(const IPKey *k) {
        static const uint8_t zero[16];

        return memcmp(k->bytes, zero, sizeof zero) == 0;
}

/* The name of a unix address: its bytes (a path up to its first NUL; an abstract name all
 * of them, its leading NUL included) and their number; false when unnamed or malformed. */
static bool unix_name(const struct sockaddr *sa, socklen_t len, const char **ret,
                      size_t *ret_n) {
        size_t off = offsetof(struct sockaddr_un, sun_path), n;
        const char *p;

        /* The length first: the family is read only from an address that holds one. */
        if (!sa || len <= (socklen_t) off || len > (socklen_t) sizeof(struct sockaddr_un) ||
            sa->sa_family != AF_UNIX)
                return false;
        p = (const char *) sa + off;
        n = (size_t) len - off;
        if (p[0] != '\0') {
                const char *nul = memchr(p, '\0', n);
                if (nul)
                        n = (size_t) (nul - p);
        } else if (n == 1)
                return false; /* a lone NUL: not a name */
        *ret = p;
        *ret_n = n;
        return true;
}

bool shim_match(const ShimSocket *b, int type, const struct sockaddr *addr, socklen_t addr_len) {
        const struct sockaddr *baddr = (const struct sockaddr *) &b->addr;
        IPKey want, have;

        if (!addr || b->type != type)
                return false;
        if (addr_len >= (socklen_t) sizeof(sa_family_t) && addr->sa_family == AF_UNIX) {
                const char *p, *q;
                size_t n, m;

                return unix_name(addr, addr_len, &p, &n) &&
                       unix_name(baddr, b->addr_len, &q, &m) && n == m && memcmp(p, q, n) == 0;
        }
        if (!ip_key(addr, addr_len, &want) || !ip_key(baddr, b->addr_len, &have))
                return false;
        if (want.port == 0 || want.port != have.port)
                return false;
        if (want.family == have.family && want.scope == have.scope &&
            memcmp(want.bytes, have.bytes, sizeof want.bytes) == 0)
                return true;
        /* 0.0.0.0:P: berth's dual-stack [::]:P serves IPv4 too. */
        if (want.family == AF_INET && ip_key_is_any(&want))
                return have.family == AF_INET6 && ip_key_is_any(&have) && !b->v6only;
        return false;
}

int shim_match_find(const ShimSocket *table, const bool *taken, size_t n, int type,
                    const struct sockaddr *addr, socklen_t addr_len) {
        for (size_t i = 0; i < n; i++)
                if (!taken[i] && shim_match(&table[i], type, addr, addr_len))
                        return (int) i;
        return -1;
}

bool shim_address_is_specific(const struct sockaddr *addr, socklen_t addr_len) {
        const char *p;
        size_t n;
        IPKey k;

        if (ip_key(addr, addr_len, &k))
                return k.port != 0;
        return unix_name(addr, addr_len, &p, &n);
}

const char *shim_format_address(const struct sockaddr *addr, socklen_t addr_len, char *buf,
                                size_t size) {
        const char *p;
        size_t n, o = 0;
        IPKey k;

        buf[0] = '\0';
        if (ip_key(addr, addr_len, &k)) {
                char ip[INET6_ADDRSTRLEN];

                if (!inet_ntop(k.family, k.bytes, ip, sizeof ip))
                        snprintf(ip, sizeof ip, "?");
                if (k.family == AF_INET)
                        snprintf(buf, size, "%s:%u", ip, (unsigned) k.port);
                else if (k.scope)
                        snprintf(buf, size, "[%s%%%u]:%u", ip, (unsigned) k.scope,
                                 (unsigned) k.port);
                else
                        snprintf(buf, size, "[%s]:%u", ip, (unsigned) k.port);
                return buf;
        }
        if (!unix_name(addr, addr_len, &p, &n)) {
                snprintf(buf, size, "(an address of family %d)",
                         addr && addr_len >= (socklen_t) sizeof(sa_family_t) ? addr->sa_family : -1);
                return buf;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) p[i];
                char one[5];

                if (i == 0 && c == '\0')
                        snprintf(one, sizeof one, "@");
                else if (c >= 0x20 && c < 0x7f && c != '\\')
                        snprintf(one, sizeof one, "%c", c);
                else
                        snprintf(one, sizeof one, "\\x%02x", c);
                if (o + strlen(one) + 4 > size) {
                        snprintf(buf + o, size - o, "...");
                        return buf;
                }
                memcpy(buf + o, one, strlen(one) + 1);
                o += strlen(one);
        }
        return buf;
}
