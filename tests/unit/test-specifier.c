/* specifier: the name specifiers of systemd.unit(5), the directories in system and user
 * mode, %%, and the errors. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/specifier.h"
#include "tests/unit/test-util.h"

static void expect(const char *unit, const char *text, const char *want) {
        _cleanup_free_ char *out = NULL;
        char why[256] = "";

        ck_assert_msg(specifier_expand(text, unit, &out, why, sizeof why) == 0, "%s: %s", text,
                      why);
        ck_assert_str_eq(out, want);
}

static void expect_error(const char *text, const char *reason) {
        char *out = NULL, why[256] = "";

        ck_assert_int_eq(specifier_expand(text, "web.socket", &out, why, sizeof why), -EBADMSG);
        ck_assert_ptr_null(out);
        ck_assert_msg(strstr(why, reason), "%s", why);
}

START_TEST(test_names) {
        expect("web@one.socket", "%n %N %p %i %P %I", "web@one.socket web@one web one web one");
        expect("web.socket", "%n|%N|%p|%i|%f", "web.socket|web|web||/web");
        expect("foo-bar@a-b\\x2dc.service", "%i %I %f", "a-b\\x2dc a/b-c /a/b-c");
        expect("foo-bar-baz@x.service", "%p %P %j %J", "foo-bar-baz foo/bar/baz baz baz");
        expect("web@.socket", "[%i]", "[]");
        expect("web.socket", "100%% %%n", "100% %n");
        expect("web.socket", "no specifiers", "no specifiers");
}
END_TEST

START_TEST(test_directories) {
        SpecifierEnv user = { .user_mode = true };

        specifier_set_env(NULL);
        expect("a.socket", "%t %S %C %L %E", "/run /var/lib /var/cache /var/log /etc");
        ck_assert_int_eq(setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1), 0);
        ck_assert_int_eq(setenv("HOME", "/home/u", 1), 0);
        ck_assert_int_eq(unsetenv("XDG_CONFIG_HOME"), 0);
        ck_assert_int_eq(unsetenv("XDG_STATE_HOME"), 0);
        specifier_set_env(&user);
        expect("a.socket", "%t/mpd/socket", "/run/user/1000/mpd/socket");
        /* systemd 252's user manager: state and logs under $XDG_CONFIG_HOME */
        expect("a.socket", "%E %S %L %C", "/home/u/.config /home/u/.config /home/u/.config/log "
               "/home/u/.cache");
        ck_assert_int_eq(unsetenv("XDG_RUNTIME_DIR"), 0);
        expect_error("%t/x", "$XDG_RUNTIME_DIR is not set");
        specifier_set_env(NULL);
        ck_assert_int_eq(unsetenv("TMPDIR"), 0);
        expect("a.socket", "%T %V", "/tmp /var/tmp");
}
END_TEST

START_TEST(test_machine) {
        _cleanup_free_ char *out = NULL;
        char why[256], host[256];

        ck_assert_int_eq(gethostname(host, sizeof host), 0);
        expect("a.socket", "%H", host);
        ck_assert_int_eq(specifier_expand("%v %a %U %u %g", "a.socket", &out, why, sizeof why),
                         0);
        ck_assert_int_gt(strlen(out), 8);
}
END_TEST

START_TEST(test_errors) {
        expect_error("%q", "unknown specifier '%q'");
        expect_error("50%", "a '%' at the end");
        expect_error("%Z/x", "unknown specifier '%Z'");
        /* A byte that is not printable is escaped: the message stays one line of text. */
        expect_error("x%\x0e", "unknown specifier '%\\x0e'");
        expect_error("%\xc3\xa9", "unknown specifier '%\\xc3'");
        expect_error("% ", "unknown specifier '%\\x20'");
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("specifier");
        TCase *tc = tcase_create("specifier");

        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_directories);
        tcase_add_test(tc, test_machine);
        tcase_add_test(tc, test_errors);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
