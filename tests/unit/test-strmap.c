/* Tests for common/strmap.c: put, get, replace and remove, against a plain array as the
 * reference, with enough keys to grow the table several times and removals that must keep the
 * probe chains of the other keys intact. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strmap.h"
#include "tests/unit/test-util.h"

START_TEST(test_empty) {
        StrMap m = {};

        ck_assert_ptr_null(strmap_get(&m, "a"));
        ck_assert(!strmap_contains(&m, "a"));
        ck_assert_ptr_null(strmap_remove(&m, "a"));
        strmap_done(&m);
        strmap_done(&m);
}
END_TEST

START_TEST(test_put_get_replace) {
        StrMap m = {};
        int one = 1, two = 2;

        ck_assert_int_eq(strmap_put(&m, "web.socket", &one), 0);
        ck_assert_int_eq(strmap_put(&m, "web.service", NULL), 0);
        ck_assert_uint_eq(m.n, 2);
        ck_assert_ptr_eq(strmap_get(&m, "web.socket"), &one);
        ck_assert(strmap_contains(&m, "web.service"));
        ck_assert_ptr_null(strmap_get(&m, "web.service"));
        ck_assert(!strmap_contains(&m, "web"));
        /* The same key again replaces the value, the count stays. */
        ck_assert_int_eq(strmap_put(&m, "web.socket", &two), 0);
        ck_assert_uint_eq(m.n, 2);
        ck_assert_ptr_eq(strmap_get(&m, "web.socket"), &two);
        strmap_done(&m);
}
END_TEST

/* 20,000 keys, every third removed, then half of those put back: each lookup agrees with the
 * reference after every phase. */
START_TEST(test_many) {
        enum { N = 20000 };
        StrMap m = {};
        char (*keys)[16] = malloc(N * sizeof *keys);
        bool *present = calloc(N, sizeof(bool));

        ck_assert_ptr_nonnull(keys);
        ck_assert_ptr_nonnull(present);
        for (size_t i = 0; i < N; i++) {
                snprintf(keys[i], sizeof keys[i], "u%zu.socket", i);
                ck_assert_int_eq(strmap_put(&m, keys[i], keys[i]), 0);
                present[i] = true;
        }
        ck_assert_uint_eq(m.n, N);
        for (size_t i = 0; i < N; i += 3) {
                ck_assert_ptr_eq(strmap_remove(&m, keys[i]), keys[i]);
                present[i] = false;
        }
        for (size_t i = 0; i < N; i += 6) {
                ck_assert_int_eq(strmap_put(&m, keys[i], keys[i]), 0);
                present[i] = true;
        }
        size_t n = 0;
        for (size_t i = 0; i < N; i++) {
                char probe[16];
                memcpy(probe, keys[i], sizeof probe); /* by content, not by address */
                ck_assert_int_eq(strmap_contains(&m, probe), present[i]);
                ck_assert_ptr_eq(strmap_get(&m, probe), present[i] ? keys[i] : NULL);
                n += present[i];
        }
        ck_assert_uint_eq(m.n, n);
        ck_assert_ptr_null(strmap_remove(&m, "absent"));
        strmap_done(&m);
        free(keys);
        free(present);
}
END_TEST

START_TEST(test_reserve) {
        StrMap m = {};

        ck_assert_int_eq(strmap_reserve(&m, 1000), 0);
        size_t slots = m.n_slots;
        ck_assert_uint_ge(slots, 2000);
        for (int i = 0; i < 1000; i++) {
                char *k;
                ck_assert_int_ge(asprintf(&k, "%d", i), 0);
                ck_assert_int_eq(strmap_put(&m, k, k), 0);
        }
        ck_assert_uint_eq(m.n_slots, slots); /* no growth while they went in */
        for (size_t i = 0; i < m.n_slots; i++)
                free((char *) m.slots[i].key);
        strmap_done(&m);
}
END_TEST

static Suite *strmap_suite(void) {
        Suite *s = suite_create("strmap");
        TCase *tc = tcase_create("strmap");

        tcase_add_test(tc, test_empty);
        tcase_add_test(tc, test_put_get_replace);
        tcase_add_test(tc, test_many);
        tcase_add_test(tc, test_reserve);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(strmap_suite());
}
