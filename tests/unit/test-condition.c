/* condition: each kind against what the test sets up, '!' and '|', and assertions. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/condition.h"
#include "tests/unit/test-util.h"

static Condition cond(ConditionType t, const char *param, bool negate, bool trigger) {
        return (Condition) { .type = t, .param = (char *) param, .negate = negate,
                             .trigger = trigger };
}

START_TEST(test_kinds) {
        char dir[] = "/tmp/test-condition-XXXXXX", file[128], empty[128], why[256];

        ck_assert_ptr_nonnull(mkdtemp(dir));
        snprintf(file, sizeof file, "%s/full", dir);
        snprintf(empty, sizeof empty, "%s/empty", dir);
        FILE *f = fopen(file, "we");
        ck_assert_ptr_nonnull(f);
        fputs("x", f);
        fclose(f);
        f = fopen(empty, "we");
        ck_assert_ptr_nonnull(f);
        fclose(f);

        Condition c = cond(CONDITION_PATH_EXISTS, file, false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 1);
        c.negate = true;
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 0);
        c = cond(CONDITION_FILE_NOT_EMPTY, empty, false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 0);
        ck_assert_str_eq(why, "missing, empty or not a file");
        c = cond(CONDITION_DIRECTORY_NOT_EMPTY, dir, false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 1);
        c = cond(CONDITION_PATH_IS_DIRECTORY, file, false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 0);
        char glob_pattern[160];
        snprintf(glob_pattern, sizeof glob_pattern, "%s/f*", dir);
        c = cond(CONDITION_PATH_EXISTS_GLOB, glob_pattern, false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 1);
        c = cond(CONDITION_PATH_IS_READ_WRITE, dir, false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 1);
        c = cond(CONDITION_PATH_IS_MOUNT_POINT, "/", false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 1);
        c = cond(CONDITION_PATH_IS_MOUNT_POINT, dir, false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 0);

        ck_assert_int_eq(setenv("BERTH_TEST_CONDITION", "on", 1), 0);
        c = cond(CONDITION_ENVIRONMENT, "BERTH_TEST_CONDITION", false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 1);
        c = cond(CONDITION_ENVIRONMENT, "BERTH_TEST_CONDITION=off", false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 0);
        char host[256];
        ck_assert_int_eq(gethostname(host, sizeof host), 0);
        c = cond(CONDITION_HOST, host, false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 1);
        c = cond(CONDITION_USER, getuid() == 0 ? "root" : "0", false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), getuid() == 0);
        c = cond(CONDITION_KERNEL_COMMAND_LINE, "berth.no.such.option", false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 0);
        c = cond(CONDITION_CAPABILITY, "CAP_NO_SUCH", false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), 0);
        /* whatever this machine is, yes and no disagree */
        c = cond(CONDITION_VIRTUALIZATION, "yes", false, false);
        int yes = condition_test(&c, why, sizeof why);
        c = cond(CONDITION_VIRTUALIZATION, "no", false, false);
        ck_assert_int_eq(condition_test(&c, why, sizeof why), !yes);

        snprintf(why, sizeof why, "rm -rf '%s'", dir);
        ck_assert_int_eq(system(why), 0);
}
END_TEST

START_TEST(test_lists) {
        char why[1024];
        Condition l[4];

        ck_assert_int_eq(conditions_test(NULL, 0, why, sizeof why), 1);
        l[0] = cond(CONDITION_PATH_EXISTS, "/", false, false);
        l[1] = cond(CONDITION_PATH_EXISTS, "/berth/no/such/path", false, false);
        ck_assert_int_eq(conditions_test(l, 2, why, sizeof why), 0);
        ck_assert_str_eq(why, "ConditionPathExists=/berth/no/such/path is not met (no such file)");
        /* '|': one of them is enough; none of them is not */
        l[1].trigger = true;
        l[2] = cond(CONDITION_PATH_EXISTS, "/", false, true);
        ck_assert_int_eq(conditions_test(l, 3, why, sizeof why), 1);
        l[2].negate = true;
        ck_assert_int_eq(conditions_test(l, 3, why, sizeof why), 0);
        ck_assert_ptr_nonnull(strstr(why, "none of the '|' conditions holds"));
        /* an assertion fails the start */
        l[3] = cond(CONDITION_PATH_EXISTS, "/berth/no/such/path", false, false);
        l[3].assertion = true;
        ck_assert_int_eq(conditions_test(&l[3], 1, why, sizeof why), -EBADMSG);
        ck_assert_str_eq(why, "AssertPathExists=/berth/no/such/path is not met (no such file)");
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("condition");
        TCase *tc = tcase_create("condition");

        tcase_add_test(tc, test_kinds);
        tcase_add_test(tc, test_lists);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
