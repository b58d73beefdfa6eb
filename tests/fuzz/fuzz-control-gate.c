/* Fuzzes the control gate with a client's byte stream. Its verdict must not depend on how the
 * stream is cut into reads: fed whole, and fed in pieces whose sizes the input's first byte
 * picks, it must pass or refuse the same bytes with the same errno and count the same
 * messages. A refusal comes with a printable one-line reason. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control-gate.h"
#include "tests/fuzz/fuzz-util.h"

#define MESSAGE_MAX 4096U

static void check_why(int r, const char *why) {
        size_t n = strlen(why);

        CHECK(r == -EMSGSIZE || r == -E2BIG || r == -EBADMSG);
        CHECK(n > 0 && n < 255);
        for (size_t i = 0; i < n; i++)
                CHECK(why[i] >= 0x20 && why[i] <= 0x7e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        ControlGate whole, pieces;
        char why[256] = "", why2[256] = "";
        size_t step, off = 0;
        int r, r2 = 0;

        if (size < 1)
                return 0;
        step = (size_t) data[0] % 17 + 1;
        data++;
        size--;

        control_gate_init(&whole, MESSAGE_MAX);
        r = control_gate_feed(&whole, data, size, why, sizeof why);
        if (r < 0)
                check_why(r, why);
        else
                CHECK(r == 0);

        control_gate_init(&pieces, MESSAGE_MAX);
        while (off < size) {
                size_t n = size - off < step ? size - off : step;

                r2 = control_gate_feed(&pieces, data + off, n, why2, sizeof why2);
                if (r2 < 0)
                        break;
                off += n;
        }
        CHECK(r == r2);
        if (r < 0) {
                CHECK(strcmp(why, why2) == 0);
                return 0;
        }
        CHECK(whole.n_messages == pieces.n_messages);
        CHECK(whole.phase == pieces.phase && whole.rest == pieces.rest);
        CHECK(whole.rest <= MESSAGE_MAX);
        CHECK(whole.phase != CONTROL_GATE_AUTH || whole.auth_bytes <= CONTROL_GATE_AUTH_MAX);
        return 0;
}
