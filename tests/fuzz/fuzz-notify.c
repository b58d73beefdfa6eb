/* Fuzzes the sd_notify payload parser with the datagram exactly as received (not
 * NUL-terminated, any size). Whatever it accepts must keep the promises of notify-parse.h: a
 * status of at most NOTIFY_STATUS_MAX bytes without control characters but tab, a valid FDNAME,
 * every number in range; written back as a datagram it must parse to the same message. Whatever
 * it refuses must come with a printable one-line message that was not cut short. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/notify-parse.h"
#include "tests/fuzz/fuzz-util.h"


static bool is_key_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

static void check_message(const NotifyMessage *m) {
        CHECK(m->fdpoll >= -1 && m->fdpoll <= 1);
        CHECK(!(m->watchdog && m->watchdog_trigger));
        CHECK(m->mainpid == 0 || m->mainpid > 1);
        CHECK(m->errno_value >= -1 && m->errno_value <= NOTIFY_ERRNO_MAX);
        if (m->status) {
                size_t n = strlen(m->status);

                CHECK(n <= NOTIFY_STATUS_MAX);
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char) m->status[i];
                        CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
                }
                CHECK(!m->status_truncated || endswith(m->status, "..."));
        } else
                CHECK(!m->status_truncated);
        if (m->fdname) {
                size_t n = strlen(m->fdname);

                CHECK(n >= 1 && n <= NOTIFY_FDNAME_MAX);
                for (size_t i = 0; i < n; i++)
                        CHECK(m->fdname[i] >= 0x20 && m->fdname[i] <= 0x7e &&
                              m->fdname[i] != ':');
        }
        CHECK(strv_length(m->unknown) <= NOTIFY_UNKNOWN_MAX);
        STRV_FOREACH(k, m->unknown) {
                CHECK(**k != '\0');
                for (const char *c = *k; *c; c++)
                        CHECK(is_key_char(*c));
                for (char **j = m->unknown; j < k; j++)
                        CHECK(!streq(*j, *k));
        }
}

static void check_error(const char *err) {
        size_t n = strnlen(err, NOTIFY_ERROR_MAX);

        if (n == 0 || n >= NOTIFY_ERROR_MAX - 1) {
                fprintf(stderr, "error message empty or cut: \"%.*s\"\n", (int) n, err);
                abort();
        }
        for (size_t i = 0; i < n; i++)
                if (err[i] < 0x20 || err[i] > 0x7e) {
                        fprintf(stderr, "unprintable byte in error message: \"%s\"\n", err);
                        abort();
                }
}

/* Writes m back as a datagram, one line per set field. Returns its length, or -1 when it does
 * not fit. */
static long message_write(const NotifyMessage *m, char *buf, size_t size) {
        FILE *f = fmemopen(buf, size, "w");
        long n;

        CHECK(f);
        if (m->ready)
                fputs("READY=1\n", f);
        if (m->reloading)
                fputs("RELOADING=1\n", f);
        if (m->stopping)
                fputs("STOPPING=1\n", f);
        if (m->watchdog)
                fputs("WATCHDOG=1\n", f);
        if (m->watchdog_trigger)
                fputs("WATCHDOG=trigger\n", f);
        if (m->fdstore)
                fputs("FDSTORE=1\n", f);
        if (m->fdstoreremove)
                fputs("FDSTOREREMOVE=1\n", f);
        if (m->barrier)
                fputs("BARRIER=1\n", f);
        if (m->fdpoll >= 0)
                fprintf(f, "FDPOLL=%d\n", m->fdpoll);
        if (m->status)
                fprintf(f, "STATUS=%s\n", m->status);
        if (m->mainpid > 0)
                fprintf(f, "MAINPID=%d\n", (int) m->mainpid);
        if (m->errno_value >= 0)
                fprintf(f, "ERRNO=%d\n", m->errno_value);
        if (m->extend_timeout_usec != UINT64_MAX)
                fprintf(f, "EXTEND_TIMEOUT_USEC=%llu\n",
                        (unsigned long long) m->extend_timeout_usec);
        if (m->watchdog_usec != UINT64_MAX)
                fprintf(f, "WATCHDOG_USEC=%llu\n", (unsigned long long) m->watchdog_usec);
        if (m->fdname)
                fprintf(f, "FDNAME=%s\n", m->fdname);
        STRV_FOREACH(k, m->unknown)
                fprintf(f, "%s=\n", *k);
        n = ftell(f);
        if (fclose(f) != 0 || n < 0 || (size_t) n >= size)
                return -1;
        return n;
}

static void check_same(const NotifyMessage *a, const NotifyMessage *b) {
        CHECK(a->ready == b->ready && a->reloading == b->reloading && a->stopping == b->stopping);
        CHECK(a->watchdog == b->watchdog && a->watchdog_trigger == b->watchdog_trigger);
        CHECK(a->fdstore == b->fdstore && a->fdstoreremove == b->fdstoreremove);
        CHECK(a->barrier == b->barrier && a->fdpoll == b->fdpoll);
        CHECK(streq_ptr(a->status, b->status));
        CHECK(!b->status_truncated); /* a status already cut fits */
        CHECK(a->mainpid == b->mainpid && a->errno_value == b->errno_value);
        CHECK(a->extend_timeout_usec == b->extend_timeout_usec);
        CHECK(a->watchdog_usec == b->watchdog_usec);
        CHECK(streq_ptr(a->fdname, b->fdname));
        CHECK(strv_length(a->unknown) == strv_length(b->unknown));
        for (size_t i = 0; i < strv_length(a->unknown); i++)
                CHECK(streq(a->unknown[i], b->unknown[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(notify_message_done) NotifyMessage m = NOTIFY_MESSAGE_INIT;
        _cleanup_(notify_message_done) NotifyMessage again = NOTIFY_MESSAGE_INIT;
        static char out[2 * NOTIFY_BUFFER_MAX];
        char err[NOTIFY_ERROR_MAX];
        long n;
        int r;

        memset(err, 'E', sizeof(err));
        r = notify_parse((const char *) data, size, &m, err, sizeof(err));
        if (r < 0) {
                CHECK(r == -EBADMSG || r == -ENOMEM);
                check_error(err);
                return 0;
        }
        CHECK(r == 0);
        CHECK(err[0] == '\0');
        check_message(&m);

        /* Every written line stands for a distinct input line at least as long (numbers lose
         * leading zeros, a cut status is shorter); only the last line may gain its '\n'. */
        n = message_write(&m, out, sizeof(out));
        CHECK(n >= 0 && (size_t) n <= size + 1);
        if (n > NOTIFY_BUFFER_MAX)
                return 0;
        r = notify_parse(out, (size_t) n, &again, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "written form \"%.*s\" does not parse: %s\n", (int) n, out, err);
                abort();
        }
        check_same(&m, &again);
        return 0;
}
