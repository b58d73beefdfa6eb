/* Tests for daemon/fd-reserve.c: the soft RLIMIT_NOFILE lowered by the reserve and raised
 * back, and the explanation EMFILE and ENFILE failures get. Each test runs in its own process
 * (check's fork mode), so the limits it sets go with it. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "daemon/fd-reserve.h"

static rlim_t soft_limit(void) {
        struct rlimit rl;

        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
        return rl.rlim_cur;
}

static void set_soft_limit(rlim_t soft) {
        struct rlimit rl;

        ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
        ck_assert_uint_ge(rl.rlim_max, soft);
        rl.rlim_cur = soft;
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
}

START_TEST(test_begin_end) {
        char err[512] = "cannot create TCP socket for 127.0.0.1:80: Too many open files";

        set_soft_limit(1024);
        ck_assert_int_eq(fd_reserve_begin(), 0);
        ck_assert_uint_eq(soft_limit(), 1024 - FD_RESERVE_MAX);
        ck_assert_uint_eq(fd_reserve_size(), FD_RESERVE_MAX);
        ck_assert_uint_eq(fd_reserve_limit(), 1024);
        /* Twice is once. */
        ck_assert_int_eq(fd_reserve_begin(), 0);
        ck_assert_uint_eq(soft_limit(), 1024 - FD_RESERVE_MAX);

        fd_reserve_explain(-EMFILE, err, sizeof err);
        ck_assert_str_eq(err, "cannot create TCP socket for 127.0.0.1:80: Too many open files "
                              "(EMFILE: berthd may open 1024 files, RLIMIT_NOFILE, and keeps 128 "
                              "of them for itself; raise its hard limit, LimitNOFILE= of "
                              "berthd.service)");
        fd_reserve_explain(-EMFILE, NULL, 0);
        ck_assert_uint_eq(fd_reserve_end(), 2);
        ck_assert_uint_eq(soft_limit(), 1024);
        ck_assert_uint_eq(fd_reserve_size(), 0);
        ck_assert_uint_eq(fd_reserve_end(), 0);
}
END_TEST

START_TEST(test_small_limit_keeps_a_quarter) {
        set_soft_limit(200);
        ck_assert_int_eq(fd_reserve_begin(), 0);
        ck_assert_uint_eq(soft_limit(), 150);
        ck_assert_uint_eq(fd_reserve_size(), 50);
        ck_assert_uint_eq(fd_reserve_end(), 0);
        ck_assert_uint_eq(soft_limit(), 200);
}
END_TEST

START_TEST(test_explain) {
        char err[512] = "x", small[8] = "1234567";

        /* Outside begin ... end: the limit in force, no reserve. */
        set_soft_limit(300);
        fd_reserve_explain(-EMFILE, err, sizeof err);
        ck_assert_str_eq(err, "x (EMFILE: berthd may open 300 files, RLIMIT_NOFILE; raise its "
                              "hard limit, LimitNOFILE= of berthd.service)");
        strcpy(err, "y");
        fd_reserve_explain(-ENFILE, err, sizeof err);
        ck_assert_str_eq(err, "y (ENFILE: the system's limit on open files, fs.file-max, is "
                              "reached)");
        strcpy(err, "z");
        fd_reserve_explain(-EACCES, err, sizeof err);
        ck_assert_str_eq(err, "z");
        /* A full buffer stays as it is; one with a little room is cut, never overrun. */
        fd_reserve_explain(-EMFILE, small, sizeof small);
        ck_assert_str_eq(small, "1234567");
        strcpy(small, "12");
        fd_reserve_explain(-EMFILE, small, sizeof small);
        ck_assert_str_eq(small, "12 (EMF");
}
END_TEST

int main(void) {
        Suite *s = suite_create("fd-reserve");
        TCase *tc = tcase_create("limits");
        SRunner *sr;
        int failed;

        tcase_add_test(tc, test_begin_end);
        tcase_add_test(tc, test_small_limit_keeps_a_quarter);
        tcase_add_test(tc, test_explain);
        suite_add_tcase(s, tc);
        sr = srunner_create(s);
        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
