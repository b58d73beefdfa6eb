/* Tests for daemon/notify-parse.c. One table of datagrams (with explicit lengths, so NULs can be
 * in them), each with the expected return and either the parsed message, written in one
 * canonical line by format_message(), or a substring of the error. Then the limits that do not
 * fit a row, and a round of random datagrams that must not crash or break an invariant. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/notify-parse.h"

/* A datagram: head (len bytes), then fill times 'x', then tail (tail_len bytes). */
#define IN(s) .in = (s), .len = sizeof(s) - 1
#define TAIL(s) .tail = (s), .tail_len = sizeof(s) - 1
/* Accepted, and parsed to what format_message() writes as s. */
#define OK(s) .ret = 0, .want = (s)
/* Refused, with s in the error message. */
#define BAD(s) .ret = -EBADMSG, .want = (s)

typedef struct Row {
        const char *in;
        size_t len;
        size_t fill;
        const char *tail;
        size_t tail_len;
        int ret;
        /* On success, the message as format_message() writes it; on failure, a substring of the
         * error message. */
        const char *want;
} Row;

static const Row rows[] = {
        /* Empty datagrams and lines. */
        { IN(""), OK("") },
        { IN("\n"), OK("") },
        { IN("\n\r\n\n"), OK("") },
        { IN("\0"), OK("") }, /* the one trailing NUL systemd tolerates */

        /* The flags: "1" sets, anything else is ignored as systemd does. */
        { IN("READY=1"), OK("READY") },
        { IN("READY=1\n"), OK("READY") },
        { IN("\n\nREADY=1\n\n"), OK("READY") },
        { IN("RELOADING=1"), OK("RELOADING") },
        { IN("STOPPING=1"), OK("STOPPING") },
        { IN("FDSTORE=1"), OK("FDSTORE") },
        { IN("FDSTOREREMOVE=1\nFDNAME=conn"), OK("FDSTOREREMOVE FDNAME='conn'") },
        { IN("BARRIER=1"), OK("BARRIER") },
        { IN("READY=0"), OK("") },
        { IN("READY=yes"), OK("") },
        { IN("READY=11"), OK("") },
        { IN("READY= 1"), OK("") },
        { IN("READY="), OK("") },
        { IN("READY=1\nREADY=0"), OK("READY") },
        { IN("STOPPING=true\nBARRIER=2"), OK("") },
        { IN("READY=1\nRELOADING=1\nSTOPPING=1\nFDSTORE=1\nFDSTOREREMOVE=1\nBARRIER=1"),
          OK("READY RELOADING STOPPING FDSTORE FDSTOREREMOVE BARRIER") },

        /* WATCHDOG and FDPOLL: the last assignment decides. */
        { IN("WATCHDOG=1"), OK("WATCHDOG") },
        { IN("WATCHDOG=trigger"), OK("WATCHDOG=trigger") },
        { IN("WATCHDOG=1\nWATCHDOG=trigger"), OK("WATCHDOG=trigger") },
        { IN("WATCHDOG=trigger\nWATCHDOG=1"), OK("WATCHDOG") },
        { IN("WATCHDOG=0"), BAD("WATCHDOG='0' is neither '1' nor 'trigger'") },
        { IN("WATCHDOG=TRIGGER"), BAD("WATCHDOG='TRIGGER' is neither") },
        { IN("WATCHDOG="), BAD("WATCHDOG='' is neither") },
        { IN("FDPOLL=0"), OK("FDPOLL=0") },
        { IN("FDPOLL=1"), OK("FDPOLL=1") },
        { IN("FDPOLL=0\nFDPOLL=1"), OK("FDPOLL=1") },
        { IN("FDPOLL=2"), BAD("FDPOLL='2' is neither '0' nor '1'") },
        { IN("FDPOLL=yes"), BAD("FDPOLL='yes' is neither") },
        { IN("FDPOLL="), BAD("FDPOLL='' is neither") },

        /* STATUS: any text, control characters but tab become '?', the last one wins. */
        { IN("STATUS=Serving 3 clients"), OK("STATUS='Serving 3 clients'") },
        { IN("STATUS="), OK("STATUS=''") },
        { IN("STATUS=a=b c "), OK("STATUS='a=b c '") },
        { IN("STATUS=tab\there"), OK("STATUS='tab\\there'") },
        { IN("STATUS=esc\x1b[31mred\x7f\x01"), OK("STATUS='esc?[31mred?" "?'") },
        { IN("STATUS=caf\xc3\xa9"), OK("STATUS='caf\\xc3\\xa9'") },
        { IN("STATUS=\xff\xfe not UTF-8"), OK("STATUS='\\xff\\xfe not UTF-8'") },
        { IN("STATUS=one\nSTATUS=two"), OK("STATUS='two'") },
        { IN("STATUS=one\nSTATUS="), OK("STATUS=''") },

        /* MAINPID: a pid > 1 that fits pid_t. */
        { IN("MAINPID=4242"), OK("MAINPID=4242") },
        { IN("MAINPID=2"), OK("MAINPID=2") },
        { IN("MAINPID=007"), OK("MAINPID=7") },
        { IN("MAINPID=2147483647"), OK("MAINPID=2147483647") },
        { IN("MAINPID=10\nMAINPID=20"), OK("MAINPID=20") },
        { IN("MAINPID=abc"), BAD("MAINPID='abc' is not a pid") },
        { IN("MAINPID="), BAD("MAINPID='' is not a pid") },
        { IN("MAINPID=0"), BAD("MAINPID='0' is not a pid") },
        { IN("MAINPID=1"), BAD("MAINPID='1' is PID 1") },
        { IN("MAINPID=01"), BAD("MAINPID='01' is PID 1") },
        { IN("MAINPID=-5"), BAD("MAINPID='-5' is not a pid") },
        { IN("MAINPID=+5"), BAD("MAINPID='+5' is not a pid") },
        { IN("MAINPID= 5"), BAD("MAINPID=' 5' is not a pid") },
        { IN("MAINPID=5 "), BAD("MAINPID='5 ' is not a pid") },
        { IN("MAINPID=0x10"), BAD("MAINPID='0x10' is not a pid") },
        { IN("MAINPID=2147483648"), BAD("MAINPID='2147483648' is out of range") },
        { IN("MAINPID=99999999999999999999999"), BAD("is out of range for a pid") },
        { IN("MAINPID=99999999999999999999999x"), BAD("is not a pid") },

        /* ERRNO: 0..4095. */
        { IN("ERRNO=0"), OK("ERRNO=0") },
        { IN("ERRNO=2"), OK("ERRNO=2") },
        { IN("ERRNO=4095"), OK("ERRNO=4095") },
        { IN("ERRNO=4096"), BAD("ERRNO='4096' is out of range 0..4095") },
        { IN("ERRNO=-1"), BAD("ERRNO='-1' is not a decimal errno number") },
        { IN("ERRNO=EIO"), BAD("ERRNO='EIO' is not a decimal errno number") },
        { IN("ERRNO="), BAD("ERRNO='' is not") },
        { IN("ERRNO=18446744073709551616"), BAD("is out of range 0..4095") },

        /* EXTEND_TIMEOUT_USEC and WATCHDOG_USEC: uint64 below UINT64_MAX. */
        { IN("EXTEND_TIMEOUT_USEC=5000000"), OK("EXTEND_TIMEOUT_USEC=5000000") },
        { IN("EXTEND_TIMEOUT_USEC=0"), OK("EXTEND_TIMEOUT_USEC=0") },
        { IN("WATCHDOG_USEC=30000000"), OK("WATCHDOG_USEC=30000000") },
        { IN("WATCHDOG_USEC=18446744073709551614"), OK("WATCHDOG_USEC=18446744073709551614") },
        { IN("EXTEND_TIMEOUT_USEC=5s"),
          BAD("EXTEND_TIMEOUT_USEC='5s' is not a decimal number of microseconds") },
        { IN("EXTEND_TIMEOUT_USEC=18446744073709551615"),
          BAD("EXTEND_TIMEOUT_USEC='18446744073709551615' is out of range (at most "
              "18446744073709551614)") },
        { IN("WATCHDOG_USEC=18446744073709551616"),
          BAD("WATCHDOG_USEC='18446744073709551616' is out of range") },
        { IN("WATCHDOG_USEC="), BAD("WATCHDOG_USEC='' is not a decimal number") },
        { IN("WATCHDOG_USEC=-1"), BAD("WATCHDOG_USEC='-1' is not a decimal") },

        /* FDNAME: 1..255 printable ASCII, no ':'. */
        { IN("FDSTORE=1\nFDNAME=conn"), OK("FDSTORE FDNAME='conn'") },
        { IN("FDNAME=a"), OK("FDNAME='a'") },
        { IN("FDNAME=with space~!"), OK("FDNAME='with space~!'") },
        { IN("FDNAME=a\nFDNAME=b"), OK("FDNAME='b'") },
        { IN("FDNAME="), .fill = 255, OK("FDNAME='x*255'") },
        { IN("FDNAME="), .fill = 256, BAD("is longer than 255 bytes") },
        { IN("FDNAME="), BAD("FDNAME= is empty") },
        { IN("FDNAME=a:b"), BAD("FDNAME='a:b' contains ':'") },
        { IN("FDNAME=tab\there"),
          BAD("FDNAME='tab\\x09here' contains the non-printable byte 0x09") },
        { IN("FDNAME=caf\xc3\xa9"), BAD("contains the non-printable byte 0xc3") },
        { IN("FDNAME=del\x7f"), BAD("contains the non-printable byte 0x7f") },

        /* Unknown keys: collected once each, in order. */
        { IN("X_CUSTOM=1\nMONOTONIC_USEC=123"), OK("MONOTONIC_USEC=123 UNKNOWN=X_CUSTOM") },
        /* A bad MONOTONIC_USEC= is dropped, not the datagram (systemd warns and reads on). */
        { IN("RELOADING=1\nMONOTONIC_USEC=soon"), OK("RELOADING") },
        { IN("X=1\nX=2\nY2=\nX=3"), OK("UNKNOWN=X,Y2") },
        { IN("READY=1\nNOTIFYACCESS=all"), OK("READY UNKNOWN=NOTIFYACCESS") },
        { IN("0=1\n_=2"), OK("UNKNOWN=0,_") },

        /* Line ends: '\r' ends a line as in systemd; "\r\n" counts as one for line numbers. */
        { IN("READY=1\r\nSTATUS=ok\r\n"), OK("READY STATUS='ok'") },
        { IN("READY=1\rSTATUS=ok"), OK("READY STATUS='ok'") },
        { IN("STATUS=a\r"), OK("STATUS='a'") },
        { IN("READY=1\r\nbad"), BAD("line 2 is not KEY=VALUE: 'bad'") },
        { IN("A=1\r\rbad"), BAD("line 3 is not KEY=VALUE") },
        { IN("A=1\n\r\nbad"), BAD("line 3 is not KEY=VALUE") },

        /* Lines that are not KEY=VALUE and bad keys. */
        { IN("READY=1\nhello"), BAD("line 2 is not KEY=VALUE: 'hello'") },
        { IN("READY"), BAD("line 1 is not KEY=VALUE: 'READY'") },
        { IN(" "), BAD("line 1 is not KEY=VALUE: ' '") },
        { IN("=1"), BAD("line 1 has an empty key: '=1'") },
        { IN("READY=1\n="), BAD("line 2 has an empty key") },
        { IN("ready=1"), BAD("line 1: key 'ready' may contain only A-Z, 0-9 and '_'") },
        { IN("READY =1"), BAD("key 'READY ' may contain only") },
        { IN(" READY=1"), BAD("key ' READY' may contain only") },
        { IN("X-Y=1"), BAD("key 'X-Y' may contain only") },
        { IN("\xc3\x89T\xc3\x89=1"), BAD("key '\\xc3\\x89T\\xc3\\x89' may") },
        { IN("\x1b[2J=1"), BAD("key '\\x1b[2J' may") },

        /* NUL bytes: only one, at the very end, is tolerated. */
        { IN("READY=1\0"), OK("READY") },
        { IN("READY=1\n\0"), OK("READY") },
        { IN("READY=1\0STATUS=x"), BAD("datagram contains a NUL byte at offset 7") },
        { IN("\0\0"), BAD("NUL byte at offset 0") },
        { IN("STATUS=a\0\0"), BAD("NUL byte at offset 8") },

        /* Quoting in errors: \xNN for the quote, the backslash and non-printables; cut long. */
        { IN("MAINPID=a'b\\c\td"), BAD("MAINPID='a\\x27b\\x5cc\\x09d' is not") },
        { IN("MAINPID=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
          BAD("MAINPID='aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not a pid") },
        { IN("MAINPID="), .fill = 4000, BAD("xxxxxxxxxx...' is not a pid") },

        /* Size limits: 4096 bytes are read, 4097 refused; a trailing NUL counts. */
        { IN("STATUS="), .fill = 4089, OK("STATUS='x*1021...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 4088, TAIL("\0"), OK("STATUS='x*1021...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 4090, BAD("datagram is 4097 bytes, more than the 4096 allowed") },
        { IN("STATUS="), .fill = 4089, TAIL("\0"), BAD("datagram is 4097 bytes") },
        { IN("READY=1\n"), .fill = 4088, BAD("line 2 is not KEY=VALUE: 'xxxx") },
        { IN(""), .fill = 5000, BAD("datagram is 5000 bytes") },

        /* STATUS truncation: 1024 bytes are kept whole, 1025 cut, never inside UTF-8. */
        { IN("STATUS="), .fill = 1024, OK("STATUS='x*1024'") },
        { IN("STATUS="), .fill = 1025, OK("STATUS='x*1021...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 1020, TAIL("\xc3\xa9 and more"),
          OK("STATUS='x*1020...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 1019, TAIL("\xe2\x82\xac and more"),
          OK("STATUS='x*1019...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 1018, TAIL("\xf0\x9f\x98\x80 and more"),
          OK("STATUS='x*1018...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 1021, TAIL("\x80\x80\x80\x80\x80"),
          OK("STATUS='x*1021...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 1021, TAIL("\xc3\xa9yy"),
          OK("STATUS='x*1021...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 1021, TAIL("\x1b\x1b\x1b\x1b"),
          OK("STATUS='x*1021...' STATUS_TRUNCATED") },
        { IN("STATUS="), .fill = 2000, TAIL("\nSTATUS=short"), OK("STATUS='short'") },

        /* Realistic messages, and refusals that leave nothing behind. */
        { IN("READY=1\nSTATUS=Processing requests...\nMAINPID=4711\n"),
          OK("READY STATUS='Processing requests...' MAINPID=4711") },
        { IN("FDSTORE=1\nFDNAME=conn-7\nFDPOLL=0\n"), OK("FDSTORE FDPOLL=0 FDNAME='conn-7'") },
        { IN("WATCHDOG=1\nWATCHDOG_USEC=20000000"), OK("WATCHDOG WATCHDOG_USEC=20000000") },
        { IN("STATUS=Failed to bind: Address in use\nERRNO=98"),
          OK("STATUS='Failed to bind: Address in use' ERRNO=98") },
        { IN("RELOADING=1\nMONOTONIC_USEC=123456\nEXTEND_TIMEOUT_USEC=10000000"),
          OK("RELOADING EXTEND_TIMEOUT_USEC=10000000 MONOTONIC_USEC=123456") },
        { IN("BARRIER=1\n"), OK("BARRIER") },
        { IN("READY=1\nSTATUS=ok\nFDNAME=x\nX_A=1\nMAINPID=x"), BAD("MAINPID='x' is not a pid") },
};

/* Appends text to f: tab as \t, other bytes outside 0x20..0x7e as \xNN, and a run of 16 or more
 * equal bytes as c*N, so rows can spell out long values. */
static void put_text(FILE *f, const char *s) {
        size_t n = strlen(s);

        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) s[i];
                size_t run = 1;

                while (i + run < n && s[i + run] == s[i])
                        run++;
                if (run >= 16 && c > 0x20 && c <= 0x7e) {
                        fprintf(f, "%c*%zu", c, run);
                        i += run;
                        continue;
                }
                if (c == '\t')
                        fputs("\\t", f);
                else if (c < 0x20 || c > 0x7e)
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
                i++;
        }
}

/* The message as one line: its set fields, in struct order, separated by blanks. Returns a
 * malloc'ed string. */
static char *format_message(const NotifyMessage *m) {
        char *s = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);

        ck_assert_ptr_nonnull(f);
#define FLAG(cond, name) if (cond) fputs(" " name, f)
        FLAG(m->ready, "READY");
        FLAG(m->reloading, "RELOADING");
        FLAG(m->stopping, "STOPPING");
        FLAG(m->watchdog, "WATCHDOG");
        FLAG(m->watchdog_trigger, "WATCHDOG=trigger");
        FLAG(m->fdstore, "FDSTORE");
        FLAG(m->fdstoreremove, "FDSTOREREMOVE");
        FLAG(m->barrier, "BARRIER");
#undef FLAG
        if (m->fdpoll != -1)
                fprintf(f, " FDPOLL=%d", m->fdpoll);
        if (m->status) {
                fputs(" STATUS='", f);
                put_text(f, m->status);
                fputc('\'', f);
        }
        if (m->status_truncated)
                fputs(" STATUS_TRUNCATED", f);
        if (m->mainpid != 0)
                fprintf(f, " MAINPID=%d", (int) m->mainpid);
        if (m->errno_value != -1)
                fprintf(f, " ERRNO=%d", m->errno_value);
        if (m->extend_timeout_usec != UINT64_MAX)
                fprintf(f, " EXTEND_TIMEOUT_USEC=%llu",
                        (unsigned long long) m->extend_timeout_usec);
        if (m->watchdog_usec != UINT64_MAX)
                fprintf(f, " WATCHDOG_USEC=%llu", (unsigned long long) m->watchdog_usec);
        if (m->monotonic_usec != UINT64_MAX)
                fprintf(f, " MONOTONIC_USEC=%llu", (unsigned long long) m->monotonic_usec);
        if (m->fdname) {
                fputs(" FDNAME='", f);
                put_text(f, m->fdname);
                fputc('\'', f);
        }
        if (m->unknown) {
                fputs(" UNKNOWN=", f);
                STRV_FOREACH(k, m->unknown)
                        fprintf(f, "%s%s", k == m->unknown ? "" : ",", *k);
        }
        ck_assert_int_eq(fclose(f), 0);
        /* Drop the leading blank. */
        memmove(s, s + (n > 0), n + (n == 0));
        return s;
}

/* What every parsed message must satisfy, whatever the input. Each property is one assertion
 * (in fork mode every check assertion is a write to the parent, too slow per byte). */
static void check_message_invariants(const NotifyMessage *m) {
        bool status_ok = true, fdname_ok = true, unknown_ok = true;

        ck_assert(m->fdpoll >= -1 && m->fdpoll <= 1);
        ck_assert(!(m->watchdog && m->watchdog_trigger));
        ck_assert(m->mainpid == 0 || m->mainpid > 1);
        ck_assert(m->errno_value >= -1 && m->errno_value <= NOTIFY_ERRNO_MAX);
        if (m->status) {
                size_t n = strlen(m->status);

                status_ok = n <= NOTIFY_STATUS_MAX &&
                            (!m->status_truncated || endswith(m->status, "..."));
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char) m->status[i];
                        if (c != '\t' && (c < 0x20 || c == 0x7f))
                                status_ok = false;
                }
        } else
                status_ok = !m->status_truncated;
        ck_assert_msg(status_ok, "bad status: '%s'", strna(m->status));
        if (m->fdname) {
                size_t n = strlen(m->fdname);

                fdname_ok = n >= 1 && n <= NOTIFY_FDNAME_MAX;
                for (size_t i = 0; i < n; i++)
                        if (m->fdname[i] < 0x20 || m->fdname[i] > 0x7e || m->fdname[i] == ':')
                                fdname_ok = false;
        }
        ck_assert_msg(fdname_ok, "bad fdname: '%s'", m->fdname);
        unknown_ok = strv_length(m->unknown) <= NOTIFY_UNKNOWN_MAX;
        STRV_FOREACH(k, m->unknown) {
                if (**k == '\0')
                        unknown_ok = false;
                for (const char *c = *k; *c; c++)
                        if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
                                unknown_ok = false;
        }
        ck_assert(unknown_ok);
}

/* What every error message must satisfy: one line of printable ASCII, not empty, not cut. */
static void check_error_invariants(const char *err) {
        size_t n = strnlen(err, NOTIFY_ERROR_MAX);
        bool printable = true;

        ck_assert_msg(n > 0 && n < NOTIFY_ERROR_MAX - 1, "error empty or cut: '%s'", err);
        for (size_t i = 0; i < n; i++)
                if (err[i] < 0x20 || err[i] > 0x7e)
                        printable = false;
        ck_assert_msg(printable, "unprintable byte in '%s'", err);
}

static size_t row_build(const Row *row, char **ret) {
        size_t n = row->len + row->fill + row->tail_len;
        char *buf = malloc(n ?: 1);

        ck_assert_ptr_nonnull(buf);
        memcpy(buf, row->in, row->len);
        memset(buf + row->len, 'x', row->fill);
        if (row->tail_len > 0)
                memcpy(buf + row->len + row->fill, row->tail, row->tail_len);
        *ret = buf;
        return n;
}

/* The head of a row's input, printable, for failure messages. Returns a malloc'ed string. */
static char *row_name(const Row *row) {
        char *s = NULL, *head = strndup(row->in, MIN(row->len, (size_t) 40));
        size_t n = 0;
        FILE *f = open_memstream(&s, &n);

        ck_assert_ptr_nonnull(f);
        ck_assert_ptr_nonnull(head);
        put_text(f, head);
        if (row->fill > 0)
                fprintf(f, "x*%zu", row->fill);
        ck_assert_int_eq(fclose(f), 0);
        free(head);
        return s;
}

START_TEST(test_table) {
        const Row *row = &rows[_i];
        _cleanup_free_ char *buf = NULL, *name = row_name(row);
        char err[NOTIFY_ERROR_MAX];
        NotifyMessage m, canary;
        size_t n;
        int r;

        n = row_build(row, &buf);
        memset(&m, 0xaa, sizeof(m));
        memset(&canary, 0xaa, sizeof(canary));
        memset(err, 'E', sizeof(err));

        r = notify_parse(buf, n, &m, err, sizeof(err));
        ck_assert_msg(r == row->ret, "row %d (\"%s\"): returned %d, not %d: %s", _i, name, r,
                      row->ret, r < 0 ? err : "");
        if (r == 0) {
                _cleanup_free_ char *got = NULL;

                check_message_invariants(&m);
                got = format_message(&m);
                ck_assert_msg(streq(got, row->want), "row %d (\"%s\"): got \"%s\", not \"%s\"",
                              _i, name, got, row->want);
                notify_message_done(&m);
        } else {
                check_error_invariants(err);
                ck_assert_msg(strstr(err, row->want),
                              "row %d (\"%s\"): error \"%s\" lacks \"%s\"", _i, name, err,
                              row->want);
                ck_assert_msg(memcmp(&m, &canary, sizeof(m)) == 0, "row %d changed *ret", _i);
        }
}
END_TEST

START_TEST(test_unknown_cap) {
        _cleanup_free_ char *buf = NULL;
        NotifyMessage m;
        char err[NOTIFY_ERROR_MAX];
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);

        ck_assert_ptr_nonnull(f);
        for (int i = 0; i < 40; i++)
                fprintf(f, "X_%d=%d\nX_0=again\n", i, i);
        fputs("READY=1\n", f);
        ck_assert_int_eq(fclose(f), 0);

        ck_assert_int_eq(notify_parse(buf, n, &m, err, sizeof(err)), 0);
        ck_assert(m.ready);
        ck_assert_uint_eq(strv_length(m.unknown), NOTIFY_UNKNOWN_MAX);
        for (int i = 0; i < NOTIFY_UNKNOWN_MAX; i++) {
                char want[16];
                snprintf(want, sizeof want, "X_%d", i);
                ck_assert_str_eq(m.unknown[i], want);
        }
        notify_message_done(&m);
}
END_TEST

START_TEST(test_done) {
        NotifyMessage m = NOTIFY_MESSAGE_INIT;
        char err[NOTIFY_ERROR_MAX];
        static const char msg[] = "STATUS=x\nFDNAME=y\nZ=1\nREADY=1\nMAINPID=5\nFDPOLL=0";

        notify_message_done(&m);
        notify_message_done(NULL);
        ck_assert_int_eq(notify_parse(msg, strlen(msg), &m, err, sizeof(err)), 0);
        notify_message_done(&m);
        /* Back to unset, and safe to release again. */
        ck_assert(!m.ready && !m.status && !m.fdname && !m.unknown);
        ck_assert(m.fdpoll == -1 && m.mainpid == 0 && m.errno_value == -1);
        ck_assert(m.extend_timeout_usec == UINT64_MAX && m.watchdog_usec == UINT64_MAX);
        notify_message_done(&m);

        {
                _cleanup_(notify_message_done) NotifyMessage c = NOTIFY_MESSAGE_INIT;
                ck_assert_int_eq(notify_parse(msg, strlen(msg), &c, NULL, 0), 0);
        }
}
END_TEST

START_TEST(test_error_buffer) {
        static const char bad[] = "MAINPID=abc";
        NotifyMessage m;
        char small[8], one[1] = { 'Z' };
        int r;

        /* No buffer at all. */
        ck_assert_int_eq(notify_parse(bad, strlen(bad), &m, NULL, 0), -EBADMSG);

        /* A short buffer gets a cut, terminated message and nothing past its end. */
        char guard[sizeof(small) + 8];
        memset(guard, 'G', sizeof(guard));
        r = notify_parse(bad, strlen(bad), &m, guard, sizeof(small));
        ck_assert_int_eq(r, -EBADMSG);
        ck_assert_uint_eq(strlen(guard), sizeof(small) - 1);
        ck_assert(strncmp(guard, "MAINPID='abc'", sizeof(small) - 1) == 0);
        for (size_t i = sizeof(small); i < sizeof(guard); i++)
                ck_assert_int_eq(guard[i], 'G');

        r = notify_parse(bad, strlen(bad), &m, one, sizeof(one));
        ck_assert_int_eq(r, -EBADMSG);
        ck_assert_int_eq(one[0], '\0');

        /* Success clears a stale message. */
        memcpy(small, "stale", 6);
        ck_assert_int_eq(notify_parse("READY=1", 7, &m, small, sizeof(small)), 0);
        ck_assert_str_eq(small, "");
        notify_message_done(&m);

        /* A NULL buffer with length 0 is the empty datagram. */
        ck_assert_int_eq(notify_parse(NULL, 0, &m, NULL, 0), 0);
        notify_message_done(&m);
}
END_TEST

/* xorshift64: a fixed seed keeps failures reproducible. */
static uint64_t rnd_next(uint64_t *s) {
        *s ^= *s << 13;
        *s ^= *s >> 7;
        *s ^= *s << 17;
        return *s;
}

START_TEST(test_random) {
        static const char *const pieces[] = {
                "READY=", "RELOADING=", "STOPPING=", "WATCHDOG=", "FDSTORE=", "FDSTOREREMOVE=",
                "BARRIER=", "FDPOLL=", "STATUS=", "MAINPID=", "ERRNO=", "EXTEND_TIMEOUT_USEC=",
                "WATCHDOG_USEC=", "FDNAME=", "X_", "1", "0", "trigger", "\n", "\r", "\r\n", "=",
                ":", "\t", "\xc3\xa9", "\xe2\x82", "4294967296", "18446744073709551615", "abc",
                "\x1b", "\x7f", "'", "\\",
        };
        uint64_t seed = 0x9e3779b97f4a7c15ULL;
        char *buf = malloc(NOTIFY_BUFFER_MAX + 200);

        ck_assert_ptr_nonnull(buf);
        for (int round = 0; round < 20000; round++) {
                size_t want = rnd_next(&seed) % (round % 10 == 0 ? NOTIFY_BUFFER_MAX + 100 : 200);
                size_t n = 0;
                char err[NOTIFY_ERROR_MAX];
                NotifyMessage m;
                int r;

                while (n < want) {
                        uint64_t x = rnd_next(&seed);

                        if (x % 4 == 0)
                                buf[n++] = (char) (x >> 8);
                        else if (x % 4 == 1) {
                                size_t k = MIN((size_t) (x >> 8) % 1200, want - n);
                                memset(buf + n, 'a' + (int) ((x >> 20) % 3), k);
                                n += k;
                        } else {
                                const char *p = pieces[(x >> 8) % ELEMENTSOF(pieces)];
                                size_t k = MIN(strlen(p), want - n);
                                memcpy(buf + n, p, k);
                                n += k;
                        }
                }
                err[0] = '\0';
                r = notify_parse(buf, n, &m, err, sizeof(err));
                if (r == 0) {
                        check_message_invariants(&m);
                        notify_message_done(&m);
                } else {
                        ck_assert_msg(r == -EBADMSG, "round %d returned %d", round, r);
                        check_error_invariants(err);
                }
        }
        free(buf);
}
END_TEST

static Suite *notify_parse_suite(void) {
        Suite *s = suite_create("notify-parse");
        TCase *tc = tcase_create("tables");

        tcase_add_loop_test(tc, test_table, 0, (int) ELEMENTSOF(rows));
        tcase_add_test(tc, test_unknown_cap);
        tcase_add_test(tc, test_done);
        tcase_add_test(tc, test_error_buffer);
        suite_add_tcase(s, tc);

        tc = tcase_create("random");
        tcase_add_test(tc, test_random);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(notify_parse_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
