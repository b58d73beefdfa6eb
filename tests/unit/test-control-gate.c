/* control-gate: where authentication ends, message sizes against the maximum, whatever the
 * reads' boundaries, and the refusals. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control-gate.h"
#include "tests/unit/test-util.h"

static const char auth[] = "\0AUTH EXTERNAL 30\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n";
#define AUTH_LEN (sizeof auth - 1)

/* A little-endian header with the given body and field lengths. */
static void header(uint8_t h[16], char endian, uint8_t version, uint32_t body, uint32_t fields) {
        memset(h, 0, 16);
        h[0] = (uint8_t) endian;
        h[1] = 1;
        h[3] = version;
        for (int i = 0; i < 4; i++) {
                int shift = endian == 'l' ? 8 * i : 8 * (3 - i);
                h[4 + i] = (uint8_t) (body >> shift);
                h[12 + i] = (uint8_t) (fields >> shift);
        }
}

static int feed(ControlGate *g, const void *p, size_t n, char *why) {
        return control_gate_feed(g, p, n, why, 256);
}

START_TEST(test_exact_maximum_passes) {
        ControlGate g;
        char why[256];
        uint8_t h[16];
        static uint8_t rest[1000];

        control_gate_init(&g, 1024);
        ck_assert_int_eq(feed(&g, auth, AUTH_LEN, why), 0);
        ck_assert_int_eq(g.phase, CONTROL_GATE_HEADER);
        /* 16 + fields 13 padded to 16 + body 992 = 1024 */
        header(h, 'l', 1, 992, 13);
        ck_assert_int_eq(feed(&g, h, 16, why), 0);
        ck_assert_uint_eq(g.rest, 1008);
        ck_assert_int_eq(feed(&g, rest, sizeof rest, why), 0);
        ck_assert_int_eq(feed(&g, rest, 8, why), 0);
        ck_assert_int_eq(g.phase, CONTROL_GATE_HEADER);
        ck_assert_uint_eq(g.n_messages, 1);
        /* one byte more: refused before any of it passes */
        header(h, 'B', 1, 993, 13);
        ck_assert_int_eq(feed(&g, h, 16, why), -EMSGSIZE);
        ck_assert_str_eq(why, "message 2 claims 1025 bytes, at most 1024");
}
END_TEST

START_TEST(test_byte_by_byte) {
        ControlGate g;
        char why[256];
        uint8_t h[16];

        control_gate_init(&g, 1 << 20);
        for (size_t i = 0; i < AUTH_LEN; i++) {
                ck_assert_int_eq(g.phase, CONTROL_GATE_AUTH);
                ck_assert_int_eq(feed(&g, auth + i, 1, why), 0);
        }
        ck_assert_int_eq(g.phase, CONTROL_GATE_HEADER);
        header(h, 'l', 1, UINT32_MAX, UINT32_MAX); /* no overflow: about 8 GiB */
        for (size_t i = 0; i < 15; i++)
                ck_assert_int_eq(feed(&g, h + i, 1, why), 0);
        ck_assert_int_eq(feed(&g, h + 15, 1, why), -EMSGSIZE);
        ck_assert_str_eq(why, "message 1 claims 8589934607 bytes, at most 1048576");
}
END_TEST

START_TEST(test_begin_is_a_whole_line) {
        static const char lines[] = "\0AUTH\r\nXBEGIN\r\nBEGINX\r\nBEG\rIN\r\nBEGIN\r";
        ControlGate g;
        char why[256];

        control_gate_init(&g, 64);
        ck_assert_int_eq(feed(&g, lines, sizeof lines - 1, why), 0);
        ck_assert_int_eq(g.phase, CONTROL_GATE_AUTH);
        /* the rest of the line and a header of messages in the same read */
        uint8_t buf[1 + 16];
        buf[0] = '\n';
        header(buf + 1, 'l', 1, 0, 0);
        ck_assert_int_eq(feed(&g, buf, sizeof buf, why), 0);
        ck_assert_int_eq(g.phase, CONTROL_GATE_HEADER);
        ck_assert_uint_eq(g.n_messages, 1);
}
END_TEST

START_TEST(test_refusals) {
        ControlGate g;
        char why[256];
        uint8_t h[16];
        char *longline = malloc(CONTROL_GATE_AUTH_MAX + 2);

        ck_assert_ptr_nonnull(longline);
        memset(longline, 'A', CONTROL_GATE_AUTH_MAX + 2);
        control_gate_init(&g, 1 << 20);
        ck_assert_int_eq(feed(&g, longline, CONTROL_GATE_AUTH_MAX, why), 0);
        ck_assert_int_eq(feed(&g, longline, 1, why), -E2BIG);
        ck_assert_str_eq(why, "authentication goes on for more than 16384 bytes");
        free(longline);

        control_gate_init(&g, 1 << 20);
        ck_assert_int_eq(feed(&g, auth, AUTH_LEN, why), 0);
        header(h, 'l', 1, 0, 0);
        h[0] = 'x';
        ck_assert_int_eq(feed(&g, h, 16, why), -EBADMSG);
        ck_assert_str_eq(why, "message 1: bad endianness byte 0x78");

        control_gate_init(&g, 1 << 20);
        ck_assert_int_eq(feed(&g, auth, AUTH_LEN, why), 0);
        header(h, 'l', 2, 0, 0);
        ck_assert_int_eq(feed(&g, h, 16, why), -EBADMSG);
        ck_assert_str_eq(why, "message 1: protocol version 2, only 1 is spoken");
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("control-gate");
        TCase *tc = tcase_create("control-gate");

        tcase_add_test(tc, test_exact_maximum_passes);
        tcase_add_test(tc, test_byte_by_byte);
        tcase_add_test(tc, test_begin_is_a_whole_line);
        tcase_add_test(tc, test_refusals);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
