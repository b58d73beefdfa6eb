/* control-gate: what a control client may send before sd-bus reads it. sd-bus buffers a whole
 * message, up to its own limit of 128 MiB, before a handler can look at it; so berthd reads
 * the client's bytes itself, passes them through this gate, and gives sd-bus only what passed
 * (control-bus.c). The gate follows the stream as sd-bus will read it: the authentication
 * lines up to "BEGIN", then D-Bus messages, whose fixed header states the length of the header
 * fields and of the body. A message that claims more than the gate's maximum is refused
 * before any of it reaches sd-bus, so what one connection can make berthd hold is bounded by
 * that maximum. Pure: no sd-event, no sd-bus, so that it is easy to test and to fuzz. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define CONTROL_GATE_AUTH_MAX (16U * 1024U)    /* bytes of authentication lines */
#define CONTROL_GATE_HEADER_SIZE 16U           /* the D-Bus fixed header */

typedef enum ControlGatePhase {
        CONTROL_GATE_AUTH,   /* before and in the authentication lines */
        CONTROL_GATE_HEADER, /* at or in a message's fixed header */
        CONTROL_GATE_REST,   /* in the rest of a message */
} ControlGatePhase;

typedef struct ControlGate {
        uint64_t message_max; /* the largest message that passes, fixed header included */
        ControlGatePhase phase;
        size_t auth_bytes;    /* authentication bytes seen */
        size_t line_pos;      /* how much of "BEGIN\r\n" the current line matches so far */
        int line_other;       /* the current line is not "BEGIN" */
        int prev_cr;          /* the last byte was '\r' */
        uint8_t header[CONTROL_GATE_HEADER_SIZE];
        size_t header_len;
        uint64_t rest;        /* bytes left of the current message after its fixed header */
        uint64_t n_messages;  /* messages whose header passed */
} ControlGate;

void control_gate_init(ControlGate *g, uint64_t message_max);

/* Follows n more bytes of the stream. Returns 0 when all of them may pass, or a negative errno
 * (-EMSGSIZE for a message over the maximum, -E2BIG for authentication that goes on too long,
 * -EBADMSG for a header no D-Bus peer sends) with a one-line reason in why: the connection is
 * then to be dropped, and nothing of these n bytes passed. */
int control_gate_feed(ControlGate *g, const void *data, size_t n, char *why, size_t why_len);
