/* ratelimit: burst per interval, the count held back, and a new interval. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/ratelimit.h"
#include "tests/unit/test-util.h"

START_TEST(test_burst_then_summary) {
        RateLimit rl = { .interval = 10 * USEC_PER_SEC, .burst = 3 };
        usec_t t = 1000 * USEC_PER_SEC;
        unsigned s = 99;

        for (unsigned i = 0; i < 3; i++) {
                ck_assert(ratelimit_below(&rl, t + i, &s));
                ck_assert_uint_eq(s, 0);
        }
        for (unsigned i = 0; i < 5; i++)
                ck_assert(!ratelimit_below(&rl, t + 100 + i, &s));
        /* still the same interval */
        ck_assert(!ratelimit_below(&rl, t + 10 * USEC_PER_SEC - 1, &s));
        /* the next one passes and tells what was held back */
        ck_assert(ratelimit_below(&rl, t + 10 * USEC_PER_SEC, &s));
        ck_assert_uint_eq(s, 6);
        ck_assert(ratelimit_below(&rl, t + 10 * USEC_PER_SEC + 1, &s));
        ck_assert_uint_eq(s, 0);
}
END_TEST

START_TEST(test_budget) {
        RateLimit rl = { .interval = USEC_PER_SEC, .burst = 100 };
        usec_t t = 50 * USEC_PER_SEC;
        unsigned s;

        ck_assert(!ratelimit_exhausted(&rl, t));
        ck_assert(ratelimit_below_n(&rl, t, 60, &s));
        ck_assert(!ratelimit_exhausted(&rl, t + 1));
        /* room for 40: 60 more pass, and fill it */
        ck_assert(ratelimit_below_n(&rl, t + 2, 60, &s));
        ck_assert(ratelimit_exhausted(&rl, t + 3));
        ck_assert(!ratelimit_below_n(&rl, t + 4, 1, &s));
        ck_assert_uint_eq(ratelimit_end(&rl), t + USEC_PER_SEC);
        ck_assert(!ratelimit_exhausted(&rl, t + USEC_PER_SEC));
        ck_assert(ratelimit_below_n(&rl, t + USEC_PER_SEC, 1000, &s));
        ck_assert_uint_eq(s, 1);
        ck_assert(ratelimit_exhausted(&rl, t + USEC_PER_SEC + 1));
}
END_TEST

START_TEST(test_take_and_off) {
        RateLimit rl = { .interval = USEC_PER_SEC, .burst = 1 };
        RateLimit off = { .interval = 0, .burst = 1 };
        unsigned s;

        ck_assert(ratelimit_below(&rl, 5, &s));
        ck_assert(!ratelimit_below(&rl, 6, &s));
        ck_assert(!ratelimit_below(&rl, 7, &s));
        ck_assert_uint_eq(ratelimit_take_suppressed(&rl), 2);
        ck_assert_uint_eq(ratelimit_take_suppressed(&rl), 0);
        for (unsigned i = 0; i < 1000; i++)
                ck_assert(ratelimit_below(&off, i, &s));
        /* a clock that goes back starts a new interval rather than holding back forever */
        ck_assert(!ratelimit_below(&rl, 8, &s));
        ck_assert(ratelimit_below(&rl, 1, &s));
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("ratelimit");
        TCase *tc = tcase_create("ratelimit");

        tcase_add_test(tc, test_burst_then_summary);
        tcase_add_test(tc, test_take_and_off);
        tcase_add_test(tc, test_budget);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
