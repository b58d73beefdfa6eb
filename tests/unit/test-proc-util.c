/* Tests for common/proc-util.c: the command name of this process as we set it, cut to the
 * caller's buffer, and the errors for a bad pid, a gone process and no room; then integers as
 * /proc/sys writes them. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/proc-util.h"
#include "tests/unit/test-util.h"

START_TEST(test_read_comm) {
        char buf[PROC_COMM_MAX], small[4];

        ck_assert_int_eq(prctl(PR_SET_NAME, "berth-test", 0, 0, 0), 0);
        ck_assert_int_eq(proc_read_comm(getpid(), buf, sizeof buf), 0);
        ck_assert_str_eq(buf, "berth-test");

        /* The longest name the kernel keeps fits PROC_COMM_MAX, without the newline. */
        ck_assert_int_eq(prctl(PR_SET_NAME, "abcdefghijklmnopqrstuvwxyz", 0, 0, 0), 0);
        ck_assert_int_eq(proc_read_comm(getpid(), buf, sizeof buf), 0);
        ck_assert_str_eq(buf, "abcdefghijklmno");

        /* A small buffer gets the start of it. */
        ck_assert_int_eq(proc_read_comm(getpid(), small, sizeof small), 0);
        ck_assert_str_eq(small, "abc");
}
END_TEST

START_TEST(test_read_comm_errors) {
        char buf[PROC_COMM_MAX] = "x";
        int status;
        pid_t pid;

        ck_assert_int_eq(proc_read_comm(0, buf, sizeof buf), -EINVAL);
        ck_assert_str_eq(buf, "");
        ck_assert_int_eq(proc_read_comm(-1, buf, sizeof buf), -EINVAL);
        ck_assert_int_eq(proc_read_comm(getpid(), buf, 0), -EINVAL);
        ck_assert_int_eq(proc_read_comm(getpid(), NULL, 16), -EINVAL);

        /* A process that is gone (and reaped). */
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                _exit(0);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        buf[0] = 'x';
        ck_assert_int_eq(proc_read_comm(pid, buf, sizeof buf), -ENOENT);
        ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_read_int) {
        static const struct {
                const char *text;
                int ret;
                int value;
        } rows[] = {
                { "4096\n", 0, 4096 },
                { "0", 0, 0 },
                { "-1\n", 0, -1 },
                { "1\nsecond line\n", 0, 1 },
                { "", -EINVAL, 0 },
                { "\n", -EINVAL, 0 },
                { "12 34\n", -EINVAL, 0 },
                { "x\n", -EINVAL, 0 },
                { "99999999999\n", -EINVAL, 0 },
        };
        char path[] = "/tmp/berth-test-proc-util.XXXXXX";
        int fd = mkstemp(path);

        ck_assert_int_ge(fd, 0);
        close(fd);
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                FILE *f = fopen(path, "we");
                int v = 12345;

                ck_assert_ptr_nonnull(f);
                fputs(rows[i].text, f);
                fclose(f);
                ck_assert_msg(proc_read_int(path, &v) == rows[i].ret, "row %zu", i);
                ck_assert_int_eq(v, rows[i].ret == 0 ? rows[i].value : 12345);
        }
        unlink(path);
        ck_assert_int_eq(proc_read_int("/nonexistent/berth", &(int) { 0 }), -ENOENT);

        /* A real one: somaxconn is a positive int on every kernel. */
        int v = 0;
        ck_assert_int_eq(proc_read_int("/proc/sys/net/core/somaxconn", &v), 0);
        ck_assert_int_gt(v, 0);
}
END_TEST

START_TEST(test_starttime) {
        static const struct {
                const char *text;
                int ret;
                unsigned long long value;
        } rows[] = {
                { "1234 (sleep) S 1 1234 1234 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 98765 "
                  "1000 100 18446744073709551615\n", 0, 98765 },
                /* A name with spaces and parentheses: the fields count from the last ')'. */
                { "7 (a) b) c) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0", 0, 42 },
                { "7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 18446744073709551615", 0,
                  18446744073709551615ULL },
                { "7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0", -EINVAL, 0 },
                { "7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 1", -EINVAL, 0 },
                { "7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 12x 1", -EINVAL, 0 },
                { "7 (x) R 1 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99999999999999999999", -EINVAL,
                  0 },
                { "no parenthesis at all", -EINVAL, 0 },
                { "", -EINVAL, 0 },
        };
        unsigned long long a = 0, b = 0;
        int status;
        pid_t pid;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                unsigned long long v = 7;
                ck_assert_msg(proc_parse_starttime(rows[i].text, &v) == rows[i].ret, "row %zu", i);
                ck_assert_msg(v == (rows[i].ret == 0 ? rows[i].value : 7), "row %zu", i);
        }
        ck_assert_int_eq(proc_parse_starttime(NULL, &a), -EINVAL);

        /* Our own start time is stable, a child started after us no earlier; a reaped one is
         * gone. */
        ck_assert_int_eq(proc_read_starttime(getpid(), &a), 0);
        ck_assert_int_eq(proc_read_starttime(getpid(), &b), 0);
        ck_assert(a == b);
        pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0)
                pause();
        ck_assert_int_eq(proc_read_starttime(pid, &b), 0);
        ck_assert(b >= a);
        kill(pid, SIGKILL);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_int_eq(proc_read_starttime(pid, &b), -ENOENT);
        ck_assert_int_eq(proc_read_starttime(0, &b), -EINVAL);
}
END_TEST

static Suite *proc_util_suite(void) {
        Suite *s = suite_create("proc-util");
        TCase *tc = tcase_create("comm");

        tcase_add_test(tc, test_read_comm);
        tcase_add_test(tc, test_read_comm_errors);
        suite_add_tcase(s, tc);

        tc = tcase_create("int");
        tcase_add_test(tc, test_read_int);
        suite_add_tcase(s, tc);

        tc = tcase_create("starttime");
        tcase_add_test(tc, test_starttime);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(proc_util_suite());
}
