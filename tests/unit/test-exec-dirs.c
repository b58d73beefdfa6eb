/* exec-dirs: the names RuntimeDirectory= and its siblings take (as systemd 252 checks them),
 * the roots in system and user mode, the variables, RuntimeDirectoryPreserve='s rule, the keys
 * through the real unit loader, and DynamicUser='s names and uid candidates. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/macro.h"
#include "common/strv.h"
#include "daemon/exec-dirs.h"
#include "daemon/unit-file.h"
#include "tests/unit/test-util.h"

static const struct {
        const char *word;
        int code;
        const char *canonical; /* or a part of the reason, for errors */
} names[] = {
        { "sshd", 0, "sshd" },
        { "a/b", 0, "a/b" },
        { "a//b/", 0, "a/b" },
        { "./a/./b", 0, "a/b" },
        { "privateer", 0, "privateer" },
        { "/run/sshd", -EINVAL, "relative" },
        { "../x", -EINVAL, ".." },
        { "a/../b", -EINVAL, ".." },
        { "..", -EINVAL, ".." },
        { ".", -EINVAL, ".." },
        { "private", -EINVAL, "DynamicUser" },
        { "private/x", -EINVAL, "DynamicUser" },
        { "a\tb", -EINVAL, "control" },
        { "a:b", -EOPNOTSUPP, "NAME:LINK" },
};

START_TEST(test_name_parse) {
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char *out = NULL;
                const char *why = NULL;
                int r = exec_dir_name_parse(names[i].word, &out, &why);

                ck_assert_msg(r == names[i].code, "'%s': %d, want %d", names[i].word, r,
                              names[i].code);
                if (r == 0) {
                        ck_assert_str_eq(out, names[i].canonical);
                        /* canonical in, canonical out */
                        char *again = NULL;
                        ck_assert_int_eq(exec_dir_name_parse(out, &again, &why), 0);
                        ck_assert_str_eq(again, out);
                        free(again);
                } else {
                        ck_assert_ptr_null(out);
                        ck_assert_msg(why && strstr(why, names[i].canonical), "'%s': %s",
                                      names[i].word, why);
                }
                free(out);
        }
}
END_TEST

/* A fake environment for the user mode roots. */
static const char *const *fake_env;
static const char *fake_getenv(const char *name) {
        size_t n = strlen(name);

        for (const char *const *e = fake_env; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

static void expect_root(ExecDirType t, bool user, const char *want) {
        _cleanup_free_ char *root = NULL;
        int r = exec_dir_root(t, user, fake_getenv, &root);

        if (!want) {
                ck_assert_int_eq(r, -ENXIO);
                return;
        }
        ck_assert_msg(r == 0, "%s: %d", exec_dir_type_to_string(t), r);
        ck_assert_str_eq(root, want);
}

START_TEST(test_roots) {
        static const char *const home_only[] = { "HOME=/home/u", NULL };
        static const char *const xdg[] = { "HOME=/home/u", "XDG_RUNTIME_DIR=/run/user/7",
                                           "XDG_CONFIG_HOME=/cfg", "XDG_CACHE_HOME=/cache",
                                           "XDG_STATE_HOME=/state", NULL };
        static const char *const relative[] = { "HOME=/home/u", "XDG_CONFIG_HOME=cfg", NULL };

        fake_env = NULL;
        expect_root(EXEC_DIR_RUNTIME, false, "/run");
        expect_root(EXEC_DIR_STATE, false, "/var/lib");
        expect_root(EXEC_DIR_CACHE, false, "/var/cache");
        expect_root(EXEC_DIR_LOGS, false, "/var/log");
        expect_root(EXEC_DIR_CONFIGURATION, false, "/etc");
        /* User mode without a place: refused, never a guess. */
        expect_root(EXEC_DIR_RUNTIME, true, NULL);
        expect_root(EXEC_DIR_STATE, true, NULL);
        /* systemd 252's user manager: state and logs in the configuration directory. */
        fake_env = home_only;
        expect_root(EXEC_DIR_RUNTIME, true, NULL);
        expect_root(EXEC_DIR_STATE, true, "/home/u/.config");
        expect_root(EXEC_DIR_CACHE, true, "/home/u/.cache");
        expect_root(EXEC_DIR_LOGS, true, "/home/u/.config/log");
        expect_root(EXEC_DIR_CONFIGURATION, true, "/home/u/.config");
        fake_env = xdg;
        expect_root(EXEC_DIR_RUNTIME, true, "/run/user/7");
        expect_root(EXEC_DIR_STATE, true, "/cfg");
        expect_root(EXEC_DIR_CACHE, true, "/cache");
        expect_root(EXEC_DIR_LOGS, true, "/cfg/log");
        expect_root(EXEC_DIR_CONFIGURATION, true, "/cfg");
        fake_env = relative; /* a relative $XDG_* does not count, as in the spec */
        expect_root(EXEC_DIR_CONFIGURATION, true, "/home/u/.config");
        fake_env = NULL;
}
END_TEST

START_TEST(test_env_and_paths) {
        ExecDirs d = {};
        char *var = NULL, *p;

        exec_dirs_defaults(&d);
        ck_assert(!exec_dirs_any(&d));
        ck_assert_int_eq(exec_dirs_env(&d, EXEC_DIR_RUNTIME, "/run", &var), 0);
        ck_assert_ptr_null(var);
        ck_assert_int_eq(exec_dirs_add(&d, EXEC_DIR_RUNTIME, strdup("a")), 0);
        ck_assert_int_eq(exec_dirs_add(&d, EXEC_DIR_RUNTIME, strdup("b/c")), 0);
        ck_assert_int_eq(exec_dirs_add(&d, EXEC_DIR_RUNTIME, strdup("a")), 0); /* once */
        ck_assert(exec_dirs_any(&d));
        ck_assert_int_eq(exec_dirs_env(&d, EXEC_DIR_RUNTIME, "/run/", &var), 0);
        ck_assert_str_eq(var, "RUNTIME_DIRECTORY=/run/a:/run/b/c");
        free(var);
        ck_assert_int_eq(exec_dirs_add(&d, EXEC_DIR_CONFIGURATION, strdup("x")), 0);
        ck_assert_int_eq(exec_dirs_env(&d, EXEC_DIR_CONFIGURATION, "/etc", &var), 0);
        ck_assert_str_eq(var, "CONFIGURATION_DIRECTORY=/etc/x");
        free(var);
        p = exec_dir_path("/", "x");
        ck_assert_str_eq(p, "/x");
        free(p);
        exec_dirs_clear(&d, EXEC_DIR_RUNTIME);
        ck_assert_ptr_null(d.names[EXEC_DIR_RUNTIME]);
        for (unsigned i = 0; i < EXEC_DIRS_MAX; i++) {
                char *n = NULL;
                ck_assert_int_ge(asprintf(&n, "d%u", i), 0);
                ck_assert_int_eq(exec_dirs_add(&d, EXEC_DIR_STATE, n), 0);
        }
        ck_assert_int_eq(exec_dirs_add(&d, EXEC_DIR_STATE, strdup("one-more")), -E2BIG);
        exec_dirs_done(&d);
        for (ExecDirType t = 0; t < _EXEC_DIR_TYPE_MAX; t++)
                ck_assert_int_eq(exec_dir_type_from_string(exec_dir_type_to_string(t)), t);
        ck_assert_str_eq(exec_dir_env_name(EXEC_DIR_LOGS), "LOGS_DIRECTORY");
}
END_TEST

START_TEST(test_preserve) {
        static const struct {
                const char *s;
                ExecPreserve p;
                bool removed_on_stop, removed_on_restart;
        } t[] = {
                { "no", EXEC_PRESERVE_NO, true, true },
                { "false", EXEC_PRESERVE_NO, true, true },
                { "yes", EXEC_PRESERVE_YES, false, false },
                { "1", EXEC_PRESERVE_YES, false, false },
                { "restart", EXEC_PRESERVE_RESTART, true, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                ck_assert_int_eq(exec_preserve_from_string(t[i].s), t[i].p);
                ck_assert(exec_dirs_remove_runtime(t[i].p, false) == t[i].removed_on_stop);
                ck_assert(exec_dirs_remove_runtime(t[i].p, true) == t[i].removed_on_restart);
        }
        ck_assert_int_eq(exec_preserve_from_string("maybe"), _EXEC_PRESERVE_INVALID);
        ck_assert_str_eq(exec_preserve_to_string(EXEC_PRESERVE_RESTART), "restart");
}
END_TEST

/* ---- through the unit loader ---- */

static char diags[4096];
static unsigned n_errors;

static void collect(int level, const char *file, unsigned line, const char *msg, void *ud) {
        size_t n = strlen(diags);

        snprintf(diags + n, sizeof diags - n, "%s:%u: %s\n", file ? file : "-", line, msg);
        if (level == LOG_ERR)
                n_errors++;
}

static int load(const char *text, Unit **ret) {
        const char *paths[] = { "/u/x.service" };
        const char *texts[] = { text };

        diags[0] = '\0';
        n_errors = 0;
        return unit_file_load_strings("x.service", paths, texts, 1, collect, NULL, ret);
}

START_TEST(test_keys) {
        Unit *u = NULL;

        ck_assert_int_eq(load("[Service]\nExecStart=/bin/true\n"
                              "RuntimeDirectory=sshd /abs a/../b other\n"
                              "RuntimeDirectory=more\n"
                              "RuntimeDirectoryMode=0700\n"
                              "RuntimeDirectoryPreserve=restart\n"
                              "StateDirectory=%N\n"
                              "CacheDirectory=c\nCacheDirectory=\nCacheDirectory=c2\n"
                              "LogsDirectoryMode=0750\n"
                              "ConfigurationDirectory=cfg\n", &u), 0);
        ck_assert_msg(n_errors == 0, "%s", diags);
        /* invalid names are left out with a warning naming file:line, as in systemd */
        ck_assert_msg(strstr(diags, "/u/x.service:3: Invalid name '/abs' in RuntimeDirectory="),
                      "%s", diags);
        ck_assert_msg(strstr(diags, "/u/x.service:3: Invalid name 'a/../b'"), "%s", diags);
        ck_assert_msg(strstr(diags, "ignoring"), "%s", diags);
        const ExecDirs *d = service_config_dirs(&u->service);
        const char *runtime[] = { "sshd", "other", "more", NULL };
        ck_assert(strv_equal(d->names[EXEC_DIR_RUNTIME], (char **) runtime));
        ck_assert_str_eq(d->names[EXEC_DIR_STATE][0], "x");
        ck_assert_str_eq(d->names[EXEC_DIR_CACHE][0], "c2");
        ck_assert_ptr_null(d->names[EXEC_DIR_CACHE][1]);
        ck_assert_ptr_null(d->names[EXEC_DIR_LOGS]);
        ck_assert_int_eq(d->mode[EXEC_DIR_RUNTIME], 0700);
        ck_assert_int_eq(d->mode[EXEC_DIR_STATE], 0755);
        ck_assert_int_eq(d->mode[EXEC_DIR_LOGS], 0750);
        ck_assert_int_eq(d->runtime_preserve, EXEC_PRESERVE_RESTART);
        u = unit_free(u);

        /* A bad Preserve= value is ignored with a warning, as in systemd. */
        ck_assert_int_eq(load("[Service]\nExecStart=/bin/true\nRuntimeDirectoryPreserve=sometimes\n",
                              &u), 0);
        ck_assert_msg(strstr(diags, "/u/x.service:3: Invalid value for RuntimeDirectoryPreserve="),
                      "%s", diags);
        ck_assert_int_eq(service_config_dirs(&u->service)->runtime_preserve, EXEC_PRESERVE_NO);
        u = unit_free(u);

        /* DynamicUser= is read (no "not supported" warning), with its line for messages. */
        ck_assert_int_eq(load("[Service]\nExecStart=/bin/true\nDynamicUser=yes\n"
                              "StateDirectory=s\n", &u), 0);
        ck_assert_msg(diags[0] == '\0', "%s", diags);
        ck_assert(service_config_process(&u->service)->dynamic_user);
        ck_assert_str_eq(service_config_process(&u->service)->dynamic_user_origin.file,
                         "/u/x.service");
        ck_assert_uint_eq(service_config_process(&u->service)->dynamic_user_origin.line, 3);
        u = unit_free(u);
        ck_assert_ptr_null(u);
}
END_TEST

START_TEST(test_dynamic_user) {
        static const struct { const char *unit, *name; } t[] = {
                { "web.service", "web" },
                { "web@1.service", "web" },
                { "my-app_2.service", "my-app_2" },
        };
        char *n;

        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                n = dynamic_user_name_from_unit(t[i].unit);
                ck_assert_str_eq(n, t[i].name);
                free(n);
        }
        /* Not a user name: "_du" and a hash, stable. */
        n = dynamic_user_name_from_unit("9lives.service");
        ck_assert_msg(strncmp(n, "_du", 3) == 0 && strlen(n) == 19, "%s", n);
        ck_assert(dynamic_user_name_is_valid(n));
        char *again = dynamic_user_name_from_unit("9lives.service");
        ck_assert_str_eq(n, again);
        free(again);
        free(n);
        ck_assert(!dynamic_user_name_is_valid(""));
        ck_assert(!dynamic_user_name_is_valid("a b"));
        ck_assert(!dynamic_user_name_is_valid("abcdefghijklmnopqrstuvwxyz0123456"));

        /* Candidates: in the range, the first stable per name, others spread. */
        ck_assert_int_eq(dynamic_uid_candidate("web", 0, 1), dynamic_uid_candidate("web", 0, 2));
        ck_assert_int_ne(dynamic_uid_candidate("web", 0, 1), dynamic_uid_candidate("db", 0, 1));
        unsigned distinct = 0;
        uid_t prev = dynamic_uid_candidate("web", 0, 7);
        for (unsigned i = 0; i < 1000; i++) {
                uid_t u = dynamic_uid_candidate("web", i, 7);
                ck_assert_uint_ge(u, DYNAMIC_UID_MIN);
                ck_assert_uint_le(u, DYNAMIC_UID_MAX);
                distinct += u != prev;
                prev = u;
        }
        ck_assert_uint_gt(distinct, 900);
}
END_TEST

int main(void) {
        Suite *s = suite_create("exec-dirs");
        TCase *tc = tcase_create("core");

        tcase_add_test(tc, test_name_parse);
        tcase_add_test(tc, test_roots);
        tcase_add_test(tc, test_env_and_paths);
        tcase_add_test(tc, test_preserve);
        tcase_add_test(tc, test_keys);
        tcase_add_test(tc, test_dynamic_user);
        suite_add_tcase(s, tc);
        return test_run_suite(s);
}
