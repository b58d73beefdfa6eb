/* notify-parse: checks an sd_notify datagram as a whole (size, NUL bytes), then line by line;
 * each known key has one value parser in key_table. The accepted syntax and the meaning of
 * every key are documented in notify-parse.h. Pure: no logging, no I/O. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/notify-parse.h"

/* Error messages quote at most this many bytes of user text, each byte as at most 4 chars. */
#define QUOTE_MAX 40
#define QUOTE_SIZE (4 * QUOTE_MAX + sizeof("..."))

#define PID_T_MAX ((uint64_t) INT32_MAX)
_Static_assert(sizeof(pid_t) == sizeof(int32_t), "pid_t is not 32 bits wide");

typedef struct ErrorBuffer {
        char *text;
        size_t size;
} ErrorBuffer;

typedef struct KeyParser KeyParser;
struct KeyParser {
        const char *key;
        /* Parses the n bytes of value v (not NUL-terminated, no NUL, '\n' or '\r' in it) into m.
         * Returns 0, or a negative errno with a message in e. */
        int (*parse)(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                     ErrorBuffer *e);
        size_t offset; /* of the field in NotifyMessage, for parsers shared by several keys */
};

_printf_(2, 3) static int fail(ErrorBuffer *e, const char *fmt, ...) {
        va_list ap;

        if (e->text && e->size > 0) {
                va_start(ap, fmt);
                (void) vsnprintf(e->text, e->size, fmt, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

static int fail_oom(ErrorBuffer *e) {
        (void) fail(e, "out of memory");
        return -ENOMEM;
}

/* Writes the n bytes at p into buf (QUOTE_SIZE bytes) for quoting in a one-line message: bytes
 * outside 0x20..0x7e, the backslash and the single quote as \xNN, so the quoted text is
 * unambiguous; more than QUOTE_MAX bytes are cut and marked with "...". Returns buf. */
static const char *quote(const char *p, size_t n, char *buf) {
        static const char hex[] = "0123456789abcdef";
        size_t k = 0;

        for (size_t i = 0; i < MIN(n, (size_t) QUOTE_MAX); i++) {
                unsigned char c = (unsigned char) p[i];

                if (c < 0x20 || c > 0x7e || c == '\\' || c == '\'') {
                        buf[k++] = '\\';
                        buf[k++] = 'x';
                        buf[k++] = hex[c >> 4];
                        buf[k++] = hex[c & 0xf];
                } else
                        buf[k++] = (char) c;
        }
        if (n > QUOTE_MAX)
                for (int i = 0; i < 3; i++)
                        buf[k++] = '.';
        buf[k] = '\0';
        return buf;
}

/* Plain decimal digits, at least one. -EINVAL when anything else is there, -ERANGE when the
 * digits do not fit uint64_t. */
static int parse_decimal(const char *v, size_t n, uint64_t *ret) {
        uint64_t x = 0;
        bool overflow = false;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                unsigned d;

                if (v[i] < '0' || v[i] > '9')
                        return -EINVAL;
                d = (unsigned) (v[i] - '0');
                if (x > (UINT64_MAX - d) / 10)
                        overflow = true;
                else
                        x = x * 10 + d;
        }
        if (overflow)
                return -ERANGE;
        *ret = x;
        return 0;
}

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

static int parse_flag(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                      ErrorBuffer *e) {
        /* Only "1" means anything, as in systemd; "0" and the rest are ignored, not refused. */
        if (n == 1 && v[0] == '1')
                *(bool *) ((char *) m + kp->offset) = true;
        return 0;
}

static int parse_watchdog(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                          ErrorBuffer *e) {
        char q[QUOTE_SIZE];

        if (n == 1 && v[0] == '1') {
                m->watchdog = true;
                m->watchdog_trigger = false;
        } else if (n == strlen("trigger") && memcmp(v, "trigger", n) == 0) {
                m->watchdog = false;
                m->watchdog_trigger = true;
        } else
                return fail(e, "WATCHDOG='%s' is neither '1' nor 'trigger'", quote(v, n, q));
        return 0;
}

static int parse_fdpoll(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                        ErrorBuffer *e) {
        char q[QUOTE_SIZE];

        if (n != 1 || (v[0] != '0' && v[0] != '1'))
                return fail(e, "FDPOLL='%s' is neither '0' nor '1'", quote(v, n, q));
        m->fdpoll = v[0] - '0';
        return 0;
}

static int parse_status(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                        ErrorBuffer *e) {
        bool cut = n > NOTIFY_STATUS_MAX;
        size_t keep = n;
        char *s;

        if (cut) {
                size_t k;

                /* Leave room for "...", and when the cut falls inside a UTF-8 sequence (a lead
                 * byte 11xxxxxx followed by at most 3 bytes 10xxxxxx), cut before its lead byte.
                 * Text that is not UTF-8 is cut where the count says. */
                keep = k = NOTIFY_STATUS_MAX - 3;
                while (k > 0 && keep - k < 3 && ((unsigned char) v[k] & 0xc0) == 0x80)
                        k--;
                if (k < keep && ((unsigned char) v[k] & 0xc0) == 0xc0)
                        keep = k;
        }
        s = malloc(keep + (cut ? 3 : 0) + 1);
        if (!s)
                return fail_oom(e);
        for (size_t i = 0; i < keep; i++)
                s[i] = v[i] != '\t' && is_control((unsigned char) v[i]) ? '?' : v[i];
        if (cut)
                memcpy(s + keep, "...", 3);
        s[keep + (cut ? 3 : 0)] = '\0';

        free(m->status);
        m->status = s;
        m->status_truncated = cut;
        return 0;
}

static int parse_mainpid(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                         ErrorBuffer *e) {
        char q[QUOTE_SIZE];
        uint64_t pid;
        int r;

        r = parse_decimal(v, n, &pid);
        if (r == -EINVAL || (r == 0 && pid == 0))
                return fail(e, "MAINPID='%s' is not a pid", quote(v, n, q));
        if (r == -ERANGE || pid > PID_T_MAX)
                return fail(e, "MAINPID='%s' is out of range for a pid", quote(v, n, q));
        if (pid == 1)
                return fail(e, "MAINPID='%s' is PID 1, which is never a service's main process",
                            quote(v, n, q));
        m->mainpid = (pid_t) pid;
        return 0;
}

static int parse_errno_value(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                             ErrorBuffer *e) {
        char q[QUOTE_SIZE];
        uint64_t x;
        int r;

        r = parse_decimal(v, n, &x);
        if (r == -EINVAL)
                return fail(e, "ERRNO='%s' is not a decimal errno number", quote(v, n, q));
        if (r == -ERANGE || x > NOTIFY_ERRNO_MAX)
                return fail(e, "ERRNO='%s' is out of range 0..%u", quote(v, n, q),
                            NOTIFY_ERRNO_MAX);
        m->errno_value = (int) x;
        return 0;
}

static int parse_usec(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                      ErrorBuffer *e) {
        char q[QUOTE_SIZE];
        uint64_t x;
        int r;

        r = parse_decimal(v, n, &x);
        if (r == -EINVAL)
                return fail(e, "%s='%s' is not a decimal number of microseconds", kp->key,
                            quote(v, n, q));
        /* UINT64_MAX marks the field unset, so it cannot be a value. */
        if (r == -ERANGE || x == UINT64_MAX)
                return fail(e, "%s='%s' is out of range (at most %llu)", kp->key, quote(v, n, q),
                            (unsigned long long) (UINT64_MAX - 1));
        *(uint64_t *) ((char *) m + kp->offset) = x;
        return 0;
}

/* MONOTONIC_USEC=: systemd warns about a bad value and reads the rest of the message, so a
 * bad value is dropped here (the field stays unset), never the datagram. */
static int parse_monotonic(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                           ErrorBuffer *e) {
        uint64_t x;

        m->monotonic_usec = parse_decimal(v, n, &x) >= 0 && x != UINT64_MAX ? x : UINT64_MAX;
        return 0;
}

static int parse_fdname(const KeyParser *kp, const char *v, size_t n, NotifyMessage *m,
                        ErrorBuffer *e) {
        char q[QUOTE_SIZE];
        char *s;

        if (n == 0)
                return fail(e, "FDNAME= is empty");
        if (n > NOTIFY_FDNAME_MAX)
                return fail(e, "FDNAME='%s' is longer than %u bytes", quote(v, n, q),
                            NOTIFY_FDNAME_MAX);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) v[i];

                if (c == ':')
                        return fail(e, "FDNAME='%s' contains ':'", quote(v, n, q));
                if (c < 0x20 || c > 0x7e)
                        return fail(e, "FDNAME='%s' contains the non-printable byte 0x%02x",
                                    quote(v, n, q), c);
        }
        s = strndup(v, n);
        if (!s)
                return fail_oom(e);
        free(m->fdname);
        m->fdname = s;
        return 0;
}

static const KeyParser key_table[] = {
        { "READY", parse_flag, offsetof(NotifyMessage, ready) },
        { "RELOADING", parse_flag, offsetof(NotifyMessage, reloading) },
        { "STOPPING", parse_flag, offsetof(NotifyMessage, stopping) },
        { "FDSTORE", parse_flag, offsetof(NotifyMessage, fdstore) },
        { "FDSTOREREMOVE", parse_flag, offsetof(NotifyMessage, fdstoreremove) },
        { "BARRIER", parse_flag, offsetof(NotifyMessage, barrier) },
        { "WATCHDOG", parse_watchdog, 0 },
        { "FDPOLL", parse_fdpoll, 0 },
        { "STATUS", parse_status, 0 },
        { "MAINPID", parse_mainpid, 0 },
        { "ERRNO", parse_errno_value, 0 },
        { "EXTEND_TIMEOUT_USEC", parse_usec, offsetof(NotifyMessage, extend_timeout_usec) },
        { "WATCHDOG_USEC", parse_usec, offsetof(NotifyMessage, watchdog_usec) },
        { "FDNAME", parse_fdname, 0 },
        { "MONOTONIC_USEC", parse_monotonic, 0 },
};

static const KeyParser *key_parser_find(const char *k, size_t n) {
        for (size_t i = 0; i < ELEMENTSOF(key_table); i++)
                if (strlen(key_table[i].key) == n && memcmp(key_table[i].key, k, n) == 0)
                        return &key_table[i];
        return NULL;
}

/* Adds the key name to m->unknown unless it is there already or the list is full. */
static int unknown_add(NotifyMessage *m, const char *k, size_t n, ErrorBuffer *e) {
        size_t count = 0;

        if (m->unknown)
                for (; m->unknown[count]; count++)
                        if (strlen(m->unknown[count]) == n && memcmp(m->unknown[count], k, n) == 0)
                                return 0;
        if (count >= NOTIFY_UNKNOWN_MAX)
                return 0;
        if (!m->unknown) {
                m->unknown = calloc(NOTIFY_UNKNOWN_MAX + 1, sizeof(char *));
                if (!m->unknown)
                        return fail_oom(e);
        }
        m->unknown[count] = strndup(k, n);
        if (!m->unknown[count])
                return fail_oom(e);
        return 0;
}

static int parse_line(const char *p, size_t n, unsigned line, NotifyMessage *m, ErrorBuffer *e) {
        const KeyParser *kp;
        const char *eq;
        char q[QUOTE_SIZE];
        size_t klen;

        eq = memchr(p, '=', n);
        if (!eq)
                return fail(e, "line %u is not KEY=VALUE: '%s'", line, quote(p, n, q));
        klen = (size_t) (eq - p);
        if (klen == 0)
                return fail(e, "line %u has an empty key: '%s'", line, quote(p, n, q));
        for (size_t i = 0; i < klen; i++)
                if (!((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '_'))
                        return fail(e, "line %u: key '%s' may contain only A-Z, 0-9 and '_'", line,
                                    quote(p, klen, q));

        kp = key_parser_find(p, klen);
        if (!kp)
                return unknown_add(m, p, klen, e);
        return kp->parse(kp, eq + 1, n - klen - 1, m, e);
}

int notify_parse(const char *buf, size_t len, NotifyMessage *ret, char *err, size_t errlen) {
        _cleanup_(notify_message_done) NotifyMessage m = NOTIFY_MESSAGE_INIT;
        ErrorBuffer e = { err, errlen };
        const char *nul;
        unsigned line = 1;
        size_t i = 0;
        int r;

        if (err && errlen > 0)
                err[0] = '\0';
        if (len > NOTIFY_BUFFER_MAX)
                return fail(&e, "datagram is %zu bytes, more than the %u allowed", len,
                            NOTIFY_BUFFER_MAX);
        /* Like systemd, tolerate one NUL at the very end (some clients send the C string's). */
        if (len > 0 && buf[len - 1] == '\0')
                len--;
        nul = len > 0 ? memchr(buf, '\0', len) : NULL;
        if (nul)
                return fail(&e, "datagram contains a NUL byte at offset %zu", (size_t) (nul - buf));

        while (i < len) {
                size_t end = i;

                while (end < len && buf[end] != '\n' && buf[end] != '\r')
                        end++;
                if (end > i) {
                        r = parse_line(buf + i, end - i, line, &m, &e);
                        if (r < 0)
                                return r;
                }
                /* "\r\n" is one line end; a lone '\r' or '\n' is one too. */
                if (end + 1 < len && buf[end] == '\r' && buf[end + 1] == '\n')
                        end++;
                i = end + 1;
                line++;
        }

        *ret = m;
        m = (NotifyMessage) NOTIFY_MESSAGE_INIT;
        return 0;
}

void notify_message_done(NotifyMessage *m) {
        if (!m)
                return;
        free(m->status);
        free(m->fdname);
        strv_free(m->unknown);
        *m = (NotifyMessage) NOTIFY_MESSAGE_INIT;
}
