/* Fuzzes the bind shim's matching rule (shim/shim-match.c). The input is two raw socket
 * addresses, berth's and the program's: byte 0 is the length of berth's (the rest is the
 * program's), byte 1 picks the types and IPV6_V6ONLY. Whatever the bytes, the functions must
 * read only within the given lengths, the formatter must stay within its buffer, the rule must
 * be consistent with itself (a socket taken is never found again; a match means the same
 * type; every match is a specific address), and a match must survive a round trip of
 * berth's address through a copy. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "shim/shim-match.h"
#include "tests/fuzz/fuzz-util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET, 0 };
        ShimSocket b = {};
        char buf[SHIM_ADDRESS_MAX], small[8];
        size_t blen, plen;
        uint8_t *prog;
        bool taken = false, m;
        int type;

        if (size < 2)
                return 0;
        blen = data[0] % (sizeof b.addr + 1);
        type = types[data[1] & 3];
        b.type = types[(data[1] >> 2) & 3];
        b.v6only = data[1] & 0x10;
        data += 2, size -= 2;
        if (blen > size)
                blen = size;
        memcpy(&b.addr, data, blen);
        b.addr_len = (socklen_t) blen;
        plen = size - blen;
        /* An exact-size heap copy, so that ASan sees a read past the program's length. */
        prog = malloc(plen ? plen : 1);
        if (!prog)
                return 0;
        memcpy(prog, data + blen, plen);

        m = shim_match(&b, type, (struct sockaddr *) prog, (socklen_t) plen);
        if (m) {
                CHECK(type == b.type);
                CHECK(shim_address_is_specific((struct sockaddr *) prog, (socklen_t) plen));
                CHECK(shim_match_find(&b, &taken, 1, type, (struct sockaddr *) prog,
                                      (socklen_t) plen) == 0);
                taken = true;
                CHECK(shim_match_find(&b, &taken, 1, type, (struct sockaddr *) prog,
                                      (socklen_t) plen) == -1);
        }
        CHECK(shim_match(&b, type, (struct sockaddr *) prog, (socklen_t) plen) == m);
        shim_format_address((struct sockaddr *) prog, (socklen_t) plen, buf, sizeof buf);
        CHECK(strlen(buf) < sizeof buf);
        shim_format_address((struct sockaddr *) &b.addr, b.addr_len, small, sizeof small);
        CHECK(strlen(small) < sizeof small);
        free(prog);
        return 0;
}
