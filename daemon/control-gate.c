/* control-gate: see control-gate.h. The rules are those of the D-Bus specification's
 * "Message Format" and "Authentication Protocol": a NUL byte, then lines that end in "\r\n",
 * the last of which is "BEGIN"; then messages, each a 16-byte fixed header (endianness 'l' or
 * 'B', type, flags, protocol version 1, body length, serial, length of the header field
 * array), the header fields padded to 8 bytes, and the body. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon/control-gate.h"

static const char begin_line[] = "BEGIN\r\n";

void control_gate_init(ControlGate *g, uint64_t message_max) {
        *g = (ControlGate) { .message_max = message_max, .phase = CONTROL_GATE_AUTH };
}

static uint32_t header_u32(const uint8_t *h, size_t offset) {
        const uint8_t *p = h + offset;

        if (h[0] == 'l')
                return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
                       (uint32_t) p[3] << 24;
        return (uint32_t) p[3] | (uint32_t) p[2] << 8 | (uint32_t) p[1] << 16 |
               (uint32_t) p[0] << 24;
}

/* Checks a complete fixed header and sets how much of the message follows it. */
static int gate_check_header(ControlGate *g, char *why, size_t why_len) {
        const uint8_t *h = g->header;
        uint64_t fields, body, total;

        if (h[0] != 'l' && h[0] != 'B') {
                snprintf(why, why_len, "message %llu: bad endianness byte 0x%02x",
                         (unsigned long long) g->n_messages + 1, h[0]);
                return -EBADMSG;
        }
        if (h[3] != 1) {
                snprintf(why, why_len, "message %llu: protocol version %u, only 1 is spoken",
                         (unsigned long long) g->n_messages + 1, h[3]);
                return -EBADMSG;
        }
        body = header_u32(h, 4);
        fields = header_u32(h, 12);
        total = CONTROL_GATE_HEADER_SIZE + ((fields + 7) & ~(uint64_t) 7) + body;
        if (total > g->message_max) {
                snprintf(why, why_len, "message %llu claims %llu bytes, at most %llu",
                         (unsigned long long) g->n_messages + 1, (unsigned long long) total,
                         (unsigned long long) g->message_max);
                return -EMSGSIZE;
        }
        g->rest = total - CONTROL_GATE_HEADER_SIZE;
        g->n_messages++;
        return 0;
}

/* Follows authentication bytes until the line "BEGIN", and no further than one byte past
 * CONTROL_GATE_AUTH_MAX, so that the verdict does not depend on the reads' sizes; returns how
 * many it used. */
static size_t gate_auth(ControlGate *g, const uint8_t *p, size_t n) {
        size_t i, budget = CONTROL_GATE_AUTH_MAX + 1 - g->auth_bytes;

        if (n > budget)
                n = budget;

        for (i = 0; i < n; i++) {
                uint8_t b = p[i];

                g->auth_bytes++;
                if (g->auth_bytes == 1)
                        continue; /* the NUL byte before the first line */
                if (!g->line_other && g->line_pos < sizeof begin_line - 1 &&
                    b == (uint8_t) begin_line[g->line_pos]) {
                        if (++g->line_pos == sizeof begin_line - 1) {
                                g->phase = CONTROL_GATE_HEADER;
                                return i + 1;
                        }
                } else
                        g->line_other = 1;
                if (b == '\n' && g->prev_cr) {
                        g->line_pos = 0;
                        g->line_other = 0;
                }
                g->prev_cr = b == '\r';
        }
        return i;
}

int control_gate_feed(ControlGate *g, const void *data, size_t n, char *why, size_t why_len) {
        const uint8_t *p = data;

        while (n > 0) {
                size_t used;
                int r;

                switch (g->phase) {
                case CONTROL_GATE_AUTH:
                        used = gate_auth(g, p, n);
                        if (g->phase == CONTROL_GATE_AUTH &&
                            g->auth_bytes > CONTROL_GATE_AUTH_MAX) {
                                snprintf(why, why_len, "authentication goes on for more than "
                                         "%u bytes", CONTROL_GATE_AUTH_MAX);
                                return -E2BIG;
                        }
                        break;
                case CONTROL_GATE_HEADER:
                        used = CONTROL_GATE_HEADER_SIZE - g->header_len;
                        if (used > n)
                                used = n;
                        memcpy(g->header + g->header_len, p, used);
                        g->header_len += used;
                        if (g->header_len < CONTROL_GATE_HEADER_SIZE)
                                break;
                        g->header_len = 0;
                        r = gate_check_header(g, why, why_len);
                        if (r < 0)
                                return r;
                        g->phase = g->rest > 0 ? CONTROL_GATE_REST : CONTROL_GATE_HEADER;
                        break;
                case CONTROL_GATE_REST:
                default:
                        used = g->rest < n ? (size_t) g->rest : n;
                        g->rest -= used;
                        if (g->rest == 0)
                                g->phase = CONTROL_GATE_HEADER;
                        break;
                }
                p += used;
                n -= used;
        }
        return 0;
}
