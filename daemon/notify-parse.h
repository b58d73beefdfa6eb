/* notify-parse: the pure parser of sd_notify(3) datagram payloads. It turns the text a service
 * sends to $NOTIFY_SOCKET into a NotifyMessage; what the message means for the service (and
 * whether the sender may send it) is decided by notify.c. Pure: no logging, no sd-event, no I/O.
 *
 * The payload is a list of KEY=VALUE assignments, one per line, as systemd reads it:
 *  - At most NOTIFY_BUFFER_MAX bytes; one trailing NUL byte is tolerated and dropped (systemd
 *    permits it too), any other NUL refuses the datagram.
 *  - Lines end at '\n' or '\r' ("\r\n" counts as one line end for line numbers). systemd splits
 *    on both characters, so "READY=1\r\n" means READY=1 there and here, and a value can never
 *    contain '\r'. Empty lines are ignored, a trailing line end is optional.
 *  - Each other line must be KEY=VALUE with a non-empty KEY made of A-Z, 0-9 and '_'; the value
 *    runs to the end of the line and may contain '=' and blanks, which are kept.
 *  - A key given twice: the last assignment wins. (systemd reads the first one of a valued key;
 *    berth's choice lets a client correct itself within one datagram.)
 *  - Unknown keys (NOTIFYACCESS=, X_FOO=...) are allowed: their names are
 *    collected for a debug log and otherwise ignored.
 *
 * The known keys, and what happens to their values:
 *   READY, RELOADING, STOPPING, FDSTORE, FDSTOREREMOVE, BARRIER
 *           "1" sets the flag. Any other value (READY=0, READY=yes, READY=1 with a blank) is
 *           ignored, not refused, and does not clear a flag set by an earlier line: systemd only
 *           ever looks for the exact line "READY=1", so these mean "not set" there too.
 *   WATCHDOG
 *           "1" sets watchdog (a keep-alive ping), "trigger" sets watchdog_trigger (fail the
 *           service now); the last assignment decides which one is set. Anything else is
 *           refused (systemd warns "Passed WATCHDOG= field is invalid").
 *   FDPOLL  "0" or "1", anything else is refused. Unset: -1.
 *   STATUS  any text, UTF-8 not required, may be empty ("" clears the status; NULL means the
 *           message had no STATUS=). Control characters other than tab become '?', so a status
 *           logged or shown stays one line and carries no terminal escapes. A value longer than
 *           NOTIFY_STATUS_MAX bytes is cut to at most that many bytes, ending in "...", never in
 *           the middle of a UTF-8 sequence, and status_truncated is set. This is the only value
 *           the parser ever shortens.
 *   MAINPID decimal digits, a pid > 1 that fits pid_t. PID 1 is refused, as systemd refuses a
 *           main PID that is the manager or PID 1. Unset: 0.
 *   ERRNO   decimal digits, 0..NOTIFY_ERRNO_MAX (systemd's range; errno names such as "EIO",
 *           which systemd also takes, are refused). Unset: -1.
 *   EXTEND_TIMEOUT_USEC, WATCHDOG_USEC
 *           decimal digits, a uint64_t below UINT64_MAX (UINT64_MAX means unset here, so it is
 *           refused rather than silently read as "unset"). Unset: UINT64_MAX.
 *   MONOTONIC_USEC
 *           decimal digits, CLOCK_MONOTONIC in µs, sent with RELOADING=1 (Type=notify-reload).
 *           A value that is not a number below UINT64_MAX leaves it unset and is not refused:
 *           systemd ignores such a value with a warning and reads the rest. Unset: UINT64_MAX.
 *   FDNAME  1..NOTIFY_FDNAME_MAX printable ASCII bytes (0x20..0x7e), no ':' (the separator of
 *           $LISTEN_FDNAMES). Refused otherwise; systemd also takes an empty name, berth does
 *           not. Unset: NULL.
 * Numbers are plain decimal digits (leading zeros allowed): no sign, blanks or base prefix. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"

/* Largest datagram payload read, as systemd's NOTIFY_BUFFER_MAX. */
#define NOTIFY_BUFFER_MAX 4096
/* Longest STATUS= kept; longer ones are cut with "..." (status_truncated). */
#define NOTIFY_STATUS_MAX 1024
/* Longest FDNAME=, as systemd's FDNAME_MAX. */
#define NOTIFY_FDNAME_MAX 255
/* Largest ERRNO=, as systemd's ERRNO_MAX. */
#define NOTIFY_ERRNO_MAX 4095
/* Most distinct unknown key names collected; later ones are dropped. */
#define NOTIFY_UNKNOWN_MAX 16
/* An err buffer of this size always holds the whole error message. */
#define NOTIFY_ERROR_MAX 256

typedef struct NotifyMessage {
        bool ready, reloading, stopping, watchdog, watchdog_trigger, fdstore, fdstoreremove,
                barrier;
        int fdpoll;                   /* FDPOLL=: -1 unset, 0 or 1 */
        char *status;                 /* STATUS=, owned, or NULL */
        bool status_truncated;
        pid_t mainpid;                /* MAINPID=, 0 unset */
        int errno_value;              /* ERRNO=, -1 unset */
        uint64_t extend_timeout_usec; /* EXTEND_TIMEOUT_USEC=, UINT64_MAX unset */
        uint64_t watchdog_usec;       /* WATCHDOG_USEC=, UINT64_MAX unset */
        uint64_t monotonic_usec;      /* MONOTONIC_USEC=, UINT64_MAX unset */
        char *fdname;                 /* FDNAME=, owned, or NULL */
        char **unknown;               /* names of unknown keys, owned strv, or NULL */
} NotifyMessage;

/* Every field unset. notify_message_done() may be called on a message so initialized. */
#define NOTIFY_MESSAGE_INIT                                                                        \
        {                                                                                          \
                .fdpoll = -1, .errno_value = -1, .extend_timeout_usec = UINT64_MAX,                \
                .watchdog_usec = UINT64_MAX, .monotonic_usec = UINT64_MAX,                         \
        }

/* Parses the len bytes at buf (not NUL-terminated; buf may be NULL when len is 0).
 * Returns 0 and fills *ret, which the caller then owns and releases with notify_message_done().
 * Returns -EBADMSG when the datagram is refused, with a one-line message naming the problem in
 * err (user text quoted, non-printable bytes as \xNN, long text cut with "..."), or -ENOMEM.
 * On failure *ret is not touched. err may be NULL when errlen is 0; a message longer than
 * errlen is cut (NOTIFY_ERROR_MAX is always enough). */
int notify_parse(const char *buf, size_t len, NotifyMessage *ret, char *err, size_t errlen);

/* Frees what m owns and resets every field to unset; m itself is not freed. Safe to call
 * twice, and usable as _cleanup_(notify_message_done). */
void notify_message_done(NotifyMessage *m);
