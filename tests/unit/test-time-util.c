/* Tests for common/time-util.c: timespec_load() at its edges, and time_now() on both clocks. */
#include <check.h>
#include <stdlib.h>
#include <time.h>

#include "common/time-util.h"
#include "tests/unit/test-util.h"

START_TEST(test_timespec_load) {
        static const struct {
                struct timespec ts;
                usec_t usec;
        } rows[] = {
                { { 0, 0 }, 0 },
                { { 0, 999 }, 0 }, /* below a microsecond */
                { { 0, 1000 }, 1 },
                { { 1, 500000000 }, 1500000 },
                { { 1700000000, 123456789 }, 1700000000123456ULL },
                { { -1, 0 }, USEC_INFINITY },
                { { 0, -1 }, USEC_INFINITY },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                ck_assert_msg(timespec_load(&rows[i].ts) == rows[i].usec, "row %zu", i);

        /* The largest second that fits, and the first that does not. */
        struct timespec ts = { .tv_sec = (time_t) (UINT64_MAX / USEC_PER_SEC) };
        ck_assert(timespec_load(&ts) == (UINT64_MAX / USEC_PER_SEC) * USEC_PER_SEC);
        ts.tv_sec++;
        ck_assert(timespec_load(&ts) == USEC_INFINITY);
}
END_TEST

START_TEST(test_time_now) {
        struct timespec ts;
        usec_t a, b, real;

        a = time_now(CLOCK_MONOTONIC);
        b = time_now(CLOCK_MONOTONIC);
        ck_assert(a > 0);
        ck_assert(b >= a);

        ck_assert_int_eq(clock_gettime(CLOCK_REALTIME, &ts), 0);
        real = time_now(CLOCK_REALTIME);
        ck_assert(real >= timespec_load(&ts));
        ck_assert(real - timespec_load(&ts) < 60 * USEC_PER_SEC);
}
END_TEST

static Suite *time_util_suite(void) {
        Suite *s = suite_create("time-util");
        TCase *tc = tcase_create("time");

        tcase_add_test(tc, test_timespec_load);
        tcase_add_test(tc, test_time_now);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(time_util_suite());
}
