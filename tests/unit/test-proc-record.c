/* Tests for daemon/proc-record.c. One table of files, each with the expected return and either
 * the file as proc_file_write() writes it back (the round trip) or a substring of the error;
 * then what proc_file_add() refuses, and the caps. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/proc-record.h"
#include "tests/unit/test-util.h"

#define HEAD "berth-processes 1\nberthd 812 120345\n"
#define INV "0123456789abcdef0123456789abcdef"

typedef struct Row {
        const char *in;
        int ret;
        const char *want; /* ret 0: the written file (NULL: in itself); else part of the error */
} Row;

static const Row rows[] = {
        { HEAD, 0, NULL },
        { HEAD "process web.service 1301 120990 main " INV " /sys/fs/cgroup/berth-1-812/web.service\n",
          0, NULL },
        { HEAD "process echo@3.service 1402 121002 control - -\n", 0, NULL },
        /* Blanks between words do not count; the cgroup is the rest of the line. */
        { "berth-processes  1\nberthd  812   120345\nprocess  a.service 5 6  main  -  /x y \n", 0,
          HEAD "process a.service 5 6 main - /x y \n" },
        /* No final newline, empty lines, and lines of a newer berthd are fine. */
        { "berth-processes 1\n\nberthd 812 120345\nfuture thing 1 2\nprocess a.service 5 6 main - -",
          0, HEAD "process a.service 5 6 main - -\n" },
        { "berthd 812 120345\nberth-processes 1\n", -EBADMSG, "line 1" },
        { "berth-processes 2\nberthd 812 120345\n", -EPROTONOSUPPORT, "newer version" },
        { "berth-processes 0\nberthd 812 120345\n", -EBADMSG, "line 1" },
        { "berth-processes 1 x\nberthd 812 120345\n", -EBADMSG, "line 1" },
        { "berth-processes\n", -EBADMSG, "line 1" },
        { "", -EBADMSG, "line 1" },
        { "berth-processes 1\n", -EBADMSG, "no \"berthd" },
        { "berth-processes 1\nberthd 0 5\n", -EBADMSG, "line 2" },
        { "berth-processes 1\nberthd 5\n", -EBADMSG, "line 2" },
        { "berth-processes 1\nberthd 5 6 7\n", -EBADMSG, "line 2" },
        { "berth-processes 1\nberthd -5 6\n", -EBADMSG, "line 2" },
        { "berth-processes 1\nberthd 5 6\nberthd 5 6\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 5 6 main -\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 5 6 main\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 0 6 main - -\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 2147483648 6 main - -\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 5 x main - -\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 5 6 other - -\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 5 6 main XYZ -\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 5 6 main " INV "0 -\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 5 6 main - relative/path\n", -EBADMSG, "line 3" },
        { HEAD "process - 5 6 main - -\n", -EBADMSG, "line 3" },
        { HEAD "process a/b 5 6 main - -\n", -EBADMSG, "line 3" },
        { HEAD "process a.service 5 6 main - /x\ty\n", -EBADMSG, "line 3" },
};

START_TEST(test_rows) {
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                const Row *row = &rows[i];
                ProcFile f = {};
                char err[256] = "", *out = NULL;
                size_t outlen = 0;
                FILE *mem;
                int r;

                r = proc_file_parse(&f, row->in, strlen(row->in), err, sizeof err);
                ck_assert_msg(r == row->ret, "row %zu: %d (%s)", i, r, err);
                if (r < 0) {
                        ck_assert_msg(strstr(err, row->want), "row %zu: error '%s'", i, err);
                        ck_assert_int_eq(f.n, 0);
                        ck_assert_ptr_null(f.records);
                        continue;
                }
                ck_assert_int_eq(f.owner, 812);
                ck_assert(f.owner_starttime == 120345);
                mem = open_memstream(&out, &outlen);
                ck_assert_ptr_nonnull(mem);
                ck_assert_int_eq(proc_file_write(&f, mem), 0);
                fclose(mem);
                ck_assert_msg(streq(out, row->want ?: row->in), "row %zu: wrote '%s'", i, out);
                free(out);
                proc_file_done(&f);
        }
}
END_TEST

START_TEST(test_fields) {
        static const char text[] =
                HEAD "process web.service 1301 18446744073709551615 main " INV " /cg/web.service\n"
                "process web.service 1302 7 control - -\n";
        ProcFile f = {};

        ck_assert_int_eq(proc_file_parse(&f, text, sizeof text - 1, NULL, 0), 0);
        ck_assert_int_eq(f.n, 2);
        ck_assert_str_eq(f.records[0].unit, "web.service");
        ck_assert_int_eq(f.records[0].pid, 1301);
        ck_assert(f.records[0].starttime == 18446744073709551615ULL);
        ck_assert_int_eq(f.records[0].role, PROC_ROLE_MAIN);
        ck_assert_str_eq(f.records[0].invocation, INV);
        ck_assert_str_eq(f.records[0].cgroup, "/cg/web.service");
        ck_assert_int_eq(f.records[1].role, PROC_ROLE_CONTROL);
        ck_assert_str_eq(f.records[1].invocation, "");
        ck_assert_ptr_null(f.records[1].cgroup);
        proc_file_done(&f);

        /* A NUL inside, and a file cut at a length. */
        ck_assert_int_eq(proc_file_parse(&f, "berth-processes 1\0x", 19, NULL, 0), -EBADMSG);
        ck_assert_int_eq(proc_file_parse(&f, text, 10, NULL, 0), -EBADMSG);
        ck_assert_int_eq(proc_file_parse(&f, text, PROC_RECORD_FILE_MAX + 1, NULL, 0), -EFBIG);
}
END_TEST

START_TEST(test_add) {
        ProcFile f = {};

        ck_assert_int_eq(proc_file_add(&f, "a.service", 1, 2, PROC_ROLE_MAIN, NULL, NULL), 0);
        ck_assert_int_eq(proc_file_add(&f, "a.service", 1, 2, PROC_ROLE_MAIN, "", ""), 0);
        ck_assert_int_eq(proc_file_add(&f, "a b", 1, 2, PROC_ROLE_MAIN, NULL, NULL), -EINVAL);
        ck_assert_int_eq(proc_file_add(&f, "", 1, 2, PROC_ROLE_MAIN, NULL, NULL), -EINVAL);
        ck_assert_int_eq(proc_file_add(&f, NULL, 1, 2, PROC_ROLE_MAIN, NULL, NULL), -EINVAL);
        ck_assert_int_eq(proc_file_add(&f, "a", 0, 2, PROC_ROLE_MAIN, NULL, NULL), -EINVAL);
        ck_assert_int_eq(proc_file_add(&f, "a", 1, 2, _PROC_ROLE_MAX, NULL, NULL), -EINVAL);
        ck_assert_int_eq(proc_file_add(&f, "a", 1, 2, PROC_ROLE_MAIN, "ABC", NULL), -EINVAL);
        ck_assert_int_eq(proc_file_add(&f, "a", 1, 2, PROC_ROLE_MAIN, NULL, "/x\ny"), -EINVAL);
        ck_assert_int_eq(proc_file_add(&f, "a", 1, 2, PROC_ROLE_MAIN, NULL, "-"), -EINVAL);
        ck_assert_int_eq(f.n, 2);
        proc_file_done(&f);

        /* The cap. */
        for (unsigned i = 0; i < PROC_RECORD_MAX; i++)
                ck_assert_int_eq(proc_file_add(&f, "a", (pid_t) i + 1, 2, PROC_ROLE_MAIN, NULL,
                                               NULL), 0);
        ck_assert_int_eq(proc_file_add(&f, "a", 1, 2, PROC_ROLE_MAIN, NULL, NULL), -E2BIG);
        proc_file_done(&f);

        ck_assert_str_eq(proc_role_to_string(PROC_ROLE_CONTROL), "control");
        ck_assert_ptr_null(proc_role_to_string(_PROC_ROLE_INVALID));
        ck_assert_int_eq(proc_role_from_string("main"), PROC_ROLE_MAIN);
        ck_assert_int_eq(proc_role_from_string("Main"), _PROC_ROLE_INVALID);
        ck_assert_int_eq(proc_role_from_string(NULL), _PROC_ROLE_INVALID);
}
END_TEST

static Suite *proc_record_suite(void) {
        Suite *s = suite_create("proc-record");
        TCase *tc = tcase_create("parse");

        tcase_add_test(tc, test_rows);
        tcase_add_test(tc, test_fields);
        tcase_add_test(tc, test_add);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(proc_record_suite());
}
