/* Tests for common/strpool.c: copies that stay where they are while the pool grows, strings
 * longer than a block, and a pool used again after strpool_done(). */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strpool.h"
#include "tests/unit/test-util.h"

/* Many short strings, over several blocks: every copy keeps its bytes and its address. */
START_TEST(test_many) {
        enum { N = 20000 };
        StrPool p = {};
        char **copies = calloc(N, sizeof(char *));
        char buf[64];

        ck_assert_ptr_nonnull(copies);
        for (size_t i = 0; i < N; i++) {
                snprintf(buf, sizeof buf, "/etc/berth/units/s%06zu.service", i);
                copies[i] = strpool_dup(&p, buf);
                ck_assert_ptr_nonnull(copies[i]);
                ck_assert_ptr_ne(copies[i], buf);
        }
        for (size_t i = 0; i < N; i++) {
                snprintf(buf, sizeof buf, "/etc/berth/units/s%06zu.service", i);
                ck_assert_str_eq(copies[i], buf);
        }
        /* Packed: the copies of one block follow each other. */
        ck_assert_ptr_eq(copies[1], copies[0] + strlen(copies[0]) + 1);
        strpool_done(&p);
        ck_assert_ptr_null(p.head);
        free(copies);
}
END_TEST

/* A string longer than a block gets one of its own; the block being filled stays in use. */
START_TEST(test_long) {
        StrPool p = {};
        size_t n = STRPOOL_BLOCK_SIZE * 2;
        char *big = malloc(n + 1), *a, *b, *c;

        ck_assert_ptr_nonnull(big);
        memset(big, 'x', n);
        big[n] = '\0';
        a = strpool_dup(&p, "before");
        b = strpool_dup(&p, big);
        c = strpool_dup(&p, "after");
        ck_assert_ptr_nonnull(a);
        ck_assert_ptr_nonnull(b);
        ck_assert_ptr_nonnull(c);
        ck_assert_str_eq(a, "before");
        ck_assert_uint_eq(strlen(b), n);
        ck_assert_str_eq(c, "after");
        ck_assert_ptr_eq(c, a + sizeof("before"));
        strpool_done(&p);
        free(big);
}
END_TEST

/* strpool_dupn() copies exactly n bytes and ends them; an empty string is a string too. */
START_TEST(test_dupn_and_reuse) {
        StrPool p = {};
        char *s = strpool_dupn(&p, "web.socket.d", strlen("web.socket"));

        ck_assert_str_eq(s, "web.socket");
        ck_assert_str_eq(strpool_dup(&p, ""), "");
        ck_assert_ptr_null(strpool_dupn(&p, "x", SIZE_MAX));
        strpool_done(&p);
        strpool_done(&p); /* twice: nothing left */
        s = strpool_dup(&p, "again");
        ck_assert_str_eq(s, "again");
        strpool_done(&p);
}
END_TEST

static Suite *strpool_suite(void) {
        Suite *s = suite_create("strpool");
        TCase *tc = tcase_create("strpool");

        tcase_add_test(tc, test_many);
        tcase_add_test(tc, test_long);
        tcase_add_test(tc, test_dupn_and_reuse);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(strpool_suite());
}
