/* Tests for daemon/unit-dir.c: which files are units, which directory wins, drop-in order and
 * masking across directories, and a bad unit that never stops the others. Every test builds its
 * directories under a mkdtemp() directory and removes them. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/unit-dir.h"
#include "daemon/unit-file.h"
#include "tests/unit/test-diag.h"

/* ---- temporary tree ---- */

static char root[64];

static void setup(void) {
        diags_clear();
        test_mkdtemp(root, "test-unit-dir");
}

static void teardown(void) {
        test_rm_rf(root);
        diags_clear();
}

/* root/rel; the caller frees. */
static char *at(const char *rel) {
        char *p;
        ck_assert_int_ge(asprintf(&p, "%s/%s", root, rel), 0);
        return p;
}

static void mkdir_rel(const char *rel) {
        _cleanup_free_ char *p = at(rel);
        ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void write_rel(const char *rel, const char *text) {
        _cleanup_free_ char *p = at(rel);
        FILE *f = fopen(p, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
        ck_assert_int_eq(fclose(f), 0);
}

static void assert_strv(char **l, const char *const *expect) {
        size_t i = 0;
        for (; expect[i]; i++) {
                ck_assert_ptr_nonnull(l);
                ck_assert_ptr_nonnull(l[i]);
                ck_assert_str_eq(l[i], expect[i]);
        }
        ck_assert(!l || !l[i]);
}

#define GOOD_SOCKET "[Socket]\nListenStream=127.0.0.1:8080\n"
#define GOOD_SERVICE "[Service]\nExecStart=/bin/true\n"

/* ---- tests ---- */

START_TEST(test_bad_unit_does_not_stop_others) {
        _cleanup_free_ char *d = at("units"), *bad = at("units/b.socket");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;
        const Diag *e;

        mkdir_rel("units");
        write_rel("units/a.socket", GOOD_SOCKET);
        write_rel("units/b.socket", "[Socket]\nListenStream=9090\nAccept=maybe\n");
        write_rel("units/c.service", GOOD_SERVICE);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(n_failed, 1);
        ck_assert_str_eq(units[0]->name, "a.socket");
        ck_assert_str_eq(units[1]->name, "c.service");
        ck_assert_uint_eq(units[0]->socket.n_listens, 1);
        ck_assert_uint_eq(units[1]->service.n_exec_start, 1);

        e = find_diag(LOG_ERR, "Accept=");
        if (!e)
                dump_diags();
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->file, bad);
        ck_assert_uint_eq(e->line, 3);
        ck_assert_uint_eq(n_diags, 1);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_masking_first_dir_wins) {
        _cleanup_free_ char *d1 = at("etc"), *d2 = at("lib"), *p1 = at("etc/web.socket");
        char *dirs[] = { d1, d2, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("etc");
        mkdir_rel("lib");
        write_rel("etc/web.socket", "[Socket]\nListenStream=1111\n");
        write_rel("lib/web.socket", "[Socket]\nListenStream=2222\n");
        write_rel("lib/other.socket", "[Socket]\nListenStream=3333\n");

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_str_eq(units[0]->name, "other.socket");
        ck_assert_str_eq(units[1]->name, "web.socket");
        ck_assert_str_eq(units[1]->path, p1);
        ck_assert_uint_eq(units[1]->socket.n_listens, 1);
        ck_assert_str_eq(units[1]->socket.listens[0].text, "1111");
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_template_and_instance) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("u");
        write_rel("u/echo.socket", "[Socket]\nListenStream=7777\nAccept=yes\n");
        write_rel("u/echo@.service", "[Service]\nExecStart=/bin/cat\nStandardInput=socket\n");
        write_rel("u/echo@special.service", GOOD_SERVICE);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        if (n_diags)
                dump_diags();
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(units[0]->name, "echo.socket");
        ck_assert_str_eq(units[1]->name, "echo@.service");
        ck_assert(units[1]->is_template);
        ck_assert_int_eq(units[1]->service.std_input, STD_INPUT_SOCKET);
        ck_assert_str_eq(units[2]->name, "echo@special.service");
        ck_assert(!units[2]->is_template);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_dropins_across_dirs) {
        _cleanup_free_ char *d1 = at("etc"), *d2 = at("lib");
        _cleanup_free_ char *a = at("lib/web.socket.d/10-a.conf");
        _cleanup_free_ char *b = at("etc/web.socket.d/20-b.conf");
        _cleanup_free_ char *c = at("lib/web.socket.d/30-c.conf");
        char *dirs[] = { d1, d2, NULL };
        UnitFileList l = {};
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("etc");
        mkdir_rel("lib");
        mkdir_rel("etc/web.socket.d");
        mkdir_rel("lib/web.socket.d");
        write_rel("lib/web.socket", "[Socket]\nListenStream=80\nBacklog=1\n");
        write_rel("lib/web.socket.d/10-a.conf", "[Socket]\nBacklog=10\nListenStream=81\n");
        write_rel("lib/web.socket.d/20-b.conf", "[Socket]\nBacklog=999\n"); /* masked by etc */
        write_rel("etc/web.socket.d/20-b.conf", "[Socket]\nBacklog=20\n");
        write_rel("lib/web.socket.d/30-c.conf", "[Socket]\nListenStream=\nListenStream=82\n");
        write_rel("lib/web.socket.d/README", "not a drop-in\n");
        write_rel("lib/web.socket.d/40-d.conf~", "[Socket]\nBacklog=40\n");

        ck_assert_int_eq(unit_dir_enumerate(dirs, collect, NULL, &l), 0);
        ck_assert_uint_eq(l.n_entries, 1);
        ck_assert(!l.entries[0].invalid);
        assert_strv(l.entries[0].dropins, (const char *const[]) { a, b, c, NULL });
        unit_file_list_done(&l);
        ck_assert_uint_eq(l.n_entries, 0);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        if (n_diags)
                dump_diags();
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(units[0]->socket.backlog, 20); /* 20-b.conf from etc, the last applied */
        ck_assert_uint_eq(units[0]->socket.n_listens, 1);
        ck_assert_str_eq(units[0]->socket.listens[0].text, "82");
        assert_strv(units[0]->dropins, (const char *const[]) { a, b, c, NULL });
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_dev_null_masks) {
        _cleanup_free_ char *d1 = at("etc"), *d2 = at("lib"), *m1 = at("etc/web.socket"),
                            *m2 = at("etc/keep.socket.d/10-x.conf");
        char *dirs[] = { d1, d2, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("etc");
        mkdir_rel("lib");
        mkdir_rel("etc/keep.socket.d");
        mkdir_rel("lib/keep.socket.d");
        ck_assert_int_eq(symlink("/dev/null", m1), 0);
        ck_assert_int_eq(symlink("/dev/null", m2), 0);
        write_rel("lib/web.socket", GOOD_SOCKET);
        write_rel("lib/keep.socket", "[Socket]\nListenStream=80\n");
        write_rel("lib/keep.socket.d/10-x.conf", "[Socket]\nAccept=maybe\n");

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        if (n_diags)
                dump_diags();
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_str_eq(units[0]->name, "keep.socket");
        ck_assert_ptr_null(units[0]->dropins);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_other_files) {
        _cleanup_free_ char *d = at("u"), *missing = at("missing"), *timer = at("u/foo.timer"),
                            *readme = at("u/README"), *bad = at("u/bad name.service");
        char *dirs[] = { missing, d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;
        const Diag *e;

        mkdir_rel("u");
        mkdir_rel("u/multi-user.target.wants");
        write_rel("u/web.service", GOOD_SERVICE);
        write_rel("u/foo.timer", "[Timer]\nOnCalendar=daily\n");
        write_rel("u/web.service~", "backup\n");
        write_rel("u/web.socket.bak", "backup\n");
        write_rel("u/.hidden.service", GOOD_SERVICE);
        write_rel("u/README", "hello\n");
        write_rel("u/bad name.service", GOOD_SERVICE);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_str_eq(units[0]->name, "web.service");

        /* Exactly two warnings: the timer and the bad name. Nothing for the missing
         * directory, backups, hidden files, .wants directories, or other files (the README:
         * a unit directory may hold the programs its units run). */
        if (n_diags != 2)
                dump_diags();
        ck_assert_uint_eq(n_diags, 2);
        e = find_diag(LOG_WARNING, "Not a unit berth runs");
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->file, timer);
        ck_assert(endswith(e->msg, ", ignoring"));
        ck_assert_ptr_null(find_diag(LOG_WARNING, "Not a unit file"));
        (void) readme;
        e = find_diag(LOG_WARNING, "Invalid unit name");
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->file, bad);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_dropin_without_unit) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("u");
        mkdir_rel("u/ghost.service.d");
        write_rel("u/ghost.service.d/x.conf", "[Service]\nUser=nobody\n");

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_ptr_nonnull(find_diag(LOG_WARNING, "no unit file"));
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_too_many_dropins) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("u");
        mkdir_rel("u/big.socket.d");
        write_rel("u/big.socket", GOOD_SOCKET);
        write_rel("u/small.socket", GOOD_SOCKET);
        for (unsigned i = 0; i <= UNIT_DIR_DROPINS_MAX; i++) {
                char rel[64];
                snprintf(rel, sizeof rel, "u/big.socket.d/%04u.conf", i);
                write_rel(rel, "[Socket]\nBacklog=1\n");
        }

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(n_failed, 1);
        ck_assert_str_eq(units[0]->name, "small.socket");
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "Too many drop-ins"));
        unit_array_free(units, n);
}
END_TEST

/* Past the cap on units, the first ones in lexical order are listed for loading and every
 * other one is refused by name; nothing else is lost. */
START_TEST(test_too_many_units) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        UnitFileList l = {};

        mkdir_rel("u");
        for (unsigned i = 0; i < 5; i++) {
                char rel[64];
                snprintf(rel, sizeof rel, "u/s%u.service", i);
                write_rel(rel, GOOD_SERVICE);
        }
        ck_assert_int_eq(unit_dir_enumerate_max(dirs, 3, collect, NULL, &l), 0);
        ck_assert_uint_eq(l.n_entries, 5);
        for (size_t i = 0; i < 5; i++)
                ck_assert(l.entries[i].invalid == (i >= 3));
        ck_assert_uint_eq(count_level(LOG_ERR), 2);
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "s3.service is not loaded: the unit directories "
                                                 "hold more than 3 units"));
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "s4.service is not loaded"));
        unit_file_list_done(&l);
}
END_TEST

START_TEST(test_empty_and_missing) {
        _cleanup_free_ char *missing = at("nope");
        char *dirs[] = { missing, NULL };
        char *none[] = { NULL };
        Unit **units = NULL;
        size_t n = 7, n_failed = 7;

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_uint_eq(n_diags, 0);
        unit_array_free(units, n);

        ck_assert_int_eq(unit_dir_load(none, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 0);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_not_a_directory) {
        _cleanup_free_ char *f = at("file");
        char *dirs[] = { f, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        write_rel("file", "x\n");
        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_nonnull(find_diag(LOG_WARNING, "Cannot open unit directory"));
        unit_array_free(units, n);
}
END_TEST

/* at() into a buffer: nothing to free. */
static const char *ab(char buf[static 256], const char *rel) {
        snprintf(buf, 256, "%s/%s", root, rel);
        return buf;
}

/* Drop-ins of a template apply to its instances, and those of a name's prefixes ending in '-'
 * to every unit of that prefix, the more specific first; a masked one hides the file name. */
START_TEST(test_template_and_prefix_dropins) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        UnitFileList l = {};
        char i1[] = "web@one.socket", i2[] = "web@two.socket", i3[] = "nope@x.socket";
        char *instances[] = { i1, i2, i3, NULL };
        char b[6][256];

        mkdir_rel("u");
        write_rel("u/foo-bar-baz.service", GOOD_SERVICE);
        write_rel("u/web@.socket", GOOD_SOCKET);
        write_rel("u/web@.service", GOOD_SERVICE);
        write_rel("u/web@two.socket", GOOD_SOCKET);
        mkdir_rel("u/foo-.service.d");
        write_rel("u/foo-.service.d/10-a.conf", "");
        write_rel("u/foo-.service.d/30-c.conf", "");
        mkdir_rel("u/foo-bar-.service.d");
        write_rel("u/foo-bar-.service.d/10-a.conf", "");
        write_rel("u/foo-bar-.service.d/20-b.conf", "");
        mkdir_rel("u/foo-bar-baz.service.d");
        ck_assert_int_eq(symlink("/dev/null", ab(b[0], "u/foo-bar-baz.service.d/30-c.conf")), 0);
        mkdir_rel("u/web@.socket.d");
        write_rel("u/web@.socket.d/10-t.conf", "");
        mkdir_rel("u/web@one.socket.d");
        write_rel("u/web@one.socket.d/20-i.conf", "");

        ck_assert_int_eq(unit_dir_enumerate_full(dirs, instances, 100, collect, NULL, &l), 0);
        ck_assert_uint_eq(l.n_entries, 7);
        ck_assert_str_eq(l.entries[0].name, "foo-bar-baz.service");
        assert_strv(l.entries[0].dropins, (const char *const[]) {
                ab(b[1], "u/foo-bar-.service.d/10-a.conf"),
                ab(b[2], "u/foo-bar-.service.d/20-b.conf"),
                NULL });
        ck_assert_str_eq(l.entries[1].name, "web@.service");
        ck_assert_str_eq(l.entries[2].name, "web@.socket");
        assert_strv(l.entries[2].dropins, (const char *const[]) {
                ab(b[3], "u/web@.socket.d/10-t.conf"), NULL });
        /* made from the template, with its own drop-ins after the template's */
        ck_assert_str_eq(l.entries[3].name, "web@one.service");
        ck_assert_str_eq(l.entries[3].path, ab(b[4], "u/web@.service"));
        ck_assert_str_eq(l.entries[4].name, "web@one.socket");
        ck_assert_str_eq(l.entries[4].path, ab(b[5], "u/web@.socket"));
        assert_strv(l.entries[4].dropins, (const char *const[]) {
                ab(b[0], "u/web@.socket.d/10-t.conf"),
                ab(b[1], "u/web@one.socket.d/20-i.conf"), NULL });
        ck_assert_str_eq(l.entries[5].name, "web@two.service");
        /* a file of its own wins over the template */
        ck_assert_str_eq(l.entries[6].name, "web@two.socket");
        ck_assert_str_eq(l.entries[6].path, ab(b[2], "u/web@two.socket"));
        ck_assert_ptr_null(find_diag(LOG_WARNING, "no unit file"));
        unit_file_list_done(&l);
}
END_TEST

static Suite *unit_dir_suite(void) {
        Suite *s = suite_create("unit-dir");
        TCase *tc = tcase_create("dirs");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_bad_unit_does_not_stop_others);
        tcase_add_test(tc, test_masking_first_dir_wins);
        tcase_add_test(tc, test_template_and_instance);
        tcase_add_test(tc, test_dropins_across_dirs);
        tcase_add_test(tc, test_dev_null_masks);
        tcase_add_test(tc, test_other_files);
        tcase_add_test(tc, test_dropin_without_unit);
        tcase_add_test(tc, test_too_many_dropins);
        tcase_add_test(tc, test_too_many_units);
        tcase_add_test(tc, test_empty_and_missing);
        tcase_add_test(tc, test_not_a_directory);
        tcase_add_test(tc, test_template_and_prefix_dropins);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(unit_dir_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
