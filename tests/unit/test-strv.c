/* Tests for common/strv.c: lengths, copies, membership and appending, with NULL as the empty
 * list throughout, and what a failed append leaves behind. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strv.h"
#include "tests/unit/test-util.h"

/* Asserts that l holds exactly the strings of expect (NULL-terminated). */
static void assert_strv(char *const *l, const char *const *expect) {
        size_t n = 0;

        while (expect[n])
                n++;
        ck_assert_uint_eq(strv_length(l), n);
        for (size_t i = 0; i < n; i++)
                ck_assert_str_eq(l[i], expect[i]);
}

START_TEST(test_length) {
        char *three[] = { (char *) "a", (char *) "", (char *) "c", NULL };
        char *none[] = { NULL };

        ck_assert_uint_eq(strv_length(NULL), 0);
        ck_assert_uint_eq(strv_length(none), 0);
        ck_assert_uint_eq(strv_length(three), 3);
}
END_TEST

START_TEST(test_free) {
        char **l = calloc(3, sizeof(char *));

        ck_assert_ptr_nonnull(l);
        l[0] = strdup("x");
        l[1] = strdup("y");
        ck_assert_ptr_null(strv_free(l));
        ck_assert_ptr_null(strv_free(NULL));

        /* The cleanup attribute frees on scope exit. */
        {
                _cleanup_strv_free_ char **c = NULL;

                ck_assert_int_eq(strv_extend(&c, "z"), 0);
        }
}
END_TEST

START_TEST(test_copy) {
        char *src[] = { (char *) "one", (char *) "two", NULL };
        _cleanup_strv_free_ char **c = NULL, **e = NULL;

        c = strv_copy(src);
        ck_assert_ptr_nonnull(c);
        assert_strv(c, (const char *const[]) { "one", "two", NULL });
        ck_assert_ptr_ne(c[0], src[0]); /* deep */

        /* NULL copies to an empty list, not to NULL: NULL means out of memory here. */
        e = strv_copy(NULL);
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_null(e[0]);
}
END_TEST

/* One block: the strings follow the pointers, and a plain free() frees it all (ASan's leak
 * check holds the test to that); a list too long for the scratch space packs the same. */
START_TEST(test_pack) {
        _cleanup_free_ char **p = NULL, **big = NULL, **e = NULL;
        char word[1000];

        ck_assert_int_eq(strv_extend(&p, "/bin/true"), 0);
        ck_assert_int_eq(strv_extend(&p, ""), 0);
        ck_assert_int_eq(strv_extend(&p, "x y"), 0);
        ck_assert_int_eq(strv_pack(&p), 0);
        assert_strv(p, (const char *const[]) { "/bin/true", "", "x y", NULL });
        ck_assert_ptr_eq(p[0], (char *) (p + 4));
        ck_assert_ptr_eq(p[1], p[0] + strlen("/bin/true") + 1);
        ck_assert_ptr_eq(p[2], p[1] + 1);

        memset(word, 'w', sizeof word - 1);
        word[sizeof word - 1] = 0;
        for (unsigned i = 0; i < 10; i++)
                ck_assert_int_eq(strv_extend(&big, word), 0);
        ck_assert_int_eq(strv_pack(&big), 0);
        ck_assert_uint_eq(strv_length(big), 10);
        ck_assert_str_eq(big[9], word);
        ck_assert_ptr_eq(big[9], big[0] + 9 * sizeof word);

        ck_assert_int_eq(strv_pack(&e), 0); /* NULL packs to an empty list */
        ck_assert_ptr_nonnull(e);
        ck_assert_ptr_null(e[0]);
}
END_TEST

START_TEST(test_contains) {
        char *l[] = { (char *) "web.socket", (char *) "db.socket", NULL };

        ck_assert(strv_contains(l, "db.socket"));
        ck_assert(!strv_contains(l, "db"));
        ck_assert(!strv_contains(l, ""));
        ck_assert(!strv_contains(NULL, "x"));

        ck_assert(STR_IN_SET("running", "running", "listening"));
        ck_assert(STR_IN_SET("listening", "running", "listening"));
        ck_assert(!STR_IN_SET("dead", "running", "listening"));
}
END_TEST

START_TEST(test_equal) {
        char *ab[] = { (char *) "a", (char *) "b", NULL };
        char *ab2[] = { (char *) "a", (char *) "b", NULL };
        char *ba[] = { (char *) "b", (char *) "a", NULL };
        char *a[] = { (char *) "a", NULL };
        char *none[] = { NULL };

        ck_assert(strv_equal(ab, ab2));
        ck_assert(!strv_equal(ab, ba)); /* order counts */
        ck_assert(!strv_equal(ab, a));
        ck_assert(!strv_equal(a, ab));
        ck_assert(strv_equal(NULL, none)); /* NULL is the empty list */
        ck_assert(strv_equal(NULL, NULL));
        ck_assert(!strv_equal(NULL, a));
}
END_TEST

START_TEST(test_extend) {
        _cleanup_strv_free_ char **l = NULL;
        char word[] = "b";

        ck_assert_int_eq(strv_extend(&l, "a"), 0);
        ck_assert_int_eq(strv_extend(&l, word), 0);
        word[0] = 'x'; /* a copy was appended */
        ck_assert_int_eq(strv_extend(&l, "a"), 0);
        assert_strv(l, (const char *const[]) { "a", "b", "a", NULL });

        ck_assert_int_eq(strv_extend_unique(&l, "a"), 0);
        ck_assert_int_eq(strv_extend_unique(&l, "c"), 0);
        assert_strv(l, (const char *const[]) { "a", "b", "a", "c", NULL });
}
END_TEST

START_TEST(test_consume) {
        _cleanup_strv_free_ char **l = NULL;
        char *s = strdup("taken");

        ck_assert_ptr_nonnull(s);
        ck_assert_int_eq(strv_consume(&l, s), 0);
        ck_assert_ptr_eq(l[0], s); /* the string itself, not a copy */

        /* A failed strdup() passed straight in: -ENOMEM, the list as it was. */
        ck_assert_int_eq(strv_consume(&l, NULL), -ENOMEM);
        assert_strv(l, (const char *const[]) { "taken", NULL });
}
END_TEST

static Suite *strv_suite(void) {
        Suite *s = suite_create("strv");
        TCase *tc = tcase_create("strv");

        tcase_add_test(tc, test_length);
        tcase_add_test(tc, test_free);
        tcase_add_test(tc, test_copy);
        tcase_add_test(tc, test_pack);
        tcase_add_test(tc, test_contains);
        tcase_add_test(tc, test_equal);
        tcase_add_test(tc, test_extend);
        tcase_add_test(tc, test_consume);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(strv_suite());
}
