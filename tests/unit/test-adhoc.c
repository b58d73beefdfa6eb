/* Tests for daemon/adhoc.c: the unit name made from CMD, the exact text of both units, and the
 * loaded units, whose ExecStart= must give back CMD word for word, as spawn expands it, however
 * it is quoted; then what is refused, and how it is reported. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/env-util.h"
#include "common/macro.h"
#include "daemon/adhoc.h"
#include "daemon/unit-dir.h"
#include "daemon/unit-file.h"
#include "tests/unit/test-diag.h"
#include "tests/unit/test-util.h"

static const struct {
        const char *command;
        int ret;
        const char *name;
} name_rows[] = {
        { "/usr/bin/python3", 0, "python3" },
        { "python3", 0, "python3" },
        { "./my server", 0, "my_server" },
        { "/opt/app/run.sh", 0, "run_sh" },
        { "a@b:c%d", 0, "a_b_c_d" },
        { "snake_case-and-dash", 0, "snake_case-and-dash" },
        { "/", -EINVAL, NULL },
        { "", -EINVAL, NULL },
        { "/usr/bin/", -EINVAL, NULL },
};

START_TEST(test_unit_name_row) {
        char *name = (char *) "untouched";

        ck_assert_int_eq(adhoc_unit_name(name_rows[_i].command, &name), name_rows[_i].ret);
        if (name_rows[_i].ret < 0) {
                ck_assert_str_eq(name, "untouched");
                return;
        }
        ck_assert_str_eq(name, name_rows[_i].name);
        free(name);
}
END_TEST

START_TEST(test_unit_name_long) {
        char command[301], *name = NULL;

        memset(command, 'x', 300);
        command[300] = '\0';
        ck_assert_int_eq(adhoc_unit_name(command, &name), 0);
        ck_assert_uint_eq(strlen(name), 200);
        free(name);
}
END_TEST

START_TEST(test_socket_text) {
        const char *listen[] = { "127.0.0.1:8080", "[::1]:8080" };
        char *command[] = { (char *) "srv", NULL };
        AdhocArgs a = { .listen = listen, .n_listen = 2, .command = command };
        _cleanup_free_ char *text = NULL, *named = NULL;

        ck_assert_int_eq(adhoc_socket_text(&a, &text), 0);
        ck_assert_str_eq(text, "[Socket]\n"
                               "ListenStream=127.0.0.1:8080\n"
                               "ListenStream=[::1]:8080\n");
        a.fdname = "web";
        ck_assert_int_eq(adhoc_socket_text(&a, &named), 0);
        ck_assert_str_eq(named, "[Socket]\n"
                                "ListenStream=127.0.0.1:8080\n"
                                "ListenStream=[::1]:8080\n"
                                "FileDescriptorName=web\n");
}
END_TEST

START_TEST(test_service_text) {
        const char *listen[] = { "8080" };
        const char *setenv[] = { "GREETING=hi $there", "Q=\"a\\b\"" };
        char *command[] = { (char *) "/usr/bin/python3", (char *) "-c",
                            (char *) "print(\"$HOME\")\n", NULL };
        AdhocArgs a = {
                .listen = listen,
                .n_listen = 1,
                .setenv = setenv,
                .n_setenv = 2,
                .command = command,
        };
        _cleanup_free_ char *text = NULL;

        ck_assert_int_eq(adhoc_service_text(&a, &text), 0);
        ck_assert_str_eq(text, "[Service]\n"
                               "Restart=on-failure\n"
                               "ExecStart=\"/usr/bin/python3\" \"-c\" "
                               "\"print(\\\"$$HOME\\\")\\n\"\n"
                               "Environment=\"GREETING=hi $there\"\n"
                               "Environment=\"Q=\\\"a\\\\b\\\"\"\n"
                               "[Install]\n"
                               "WantedBy=multi-user.target\n");
}
END_TEST

/* The units load, and hold exactly what the command line said. */
START_TEST(test_units) {
        const char *listen[] = { "127.0.0.1:8080", "[::1]:8080" };
        const char *setenv[] = { "GREETING=hi $there", "EMPTY=" };
        char *command[] = { (char *) "/usr/bin/python3", (char *) "-c",
                            (char *) "import os; print(\"$HOME\", 'a\\\\b')",
                            (char *) "two words", (char *) "", (char *) "$HOME", NULL };
        AdhocArgs a = {
                .listen = listen,
                .n_listen = 2,
                .setenv = setenv,
                .n_setenv = 2,
                .fdname = "web",
                .command = command,
        };
        Unit **units = NULL;
        size_t n = 0;

        diags_clear();
        ck_assert_int_eq(adhoc_units(&a, collect, NULL, &units, &n), 0);
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 2);

        const Unit *svc = units[0], *sock = units[1];
        ck_assert_str_eq(svc->name, "python3.service");
        ck_assert_str_eq(sock->name, "python3.socket");

        /* ExecStart= keeps "$$" for spawn time: expanded as spawn expands it, it is CMD. */
        _cleanup_strv_free_ char **argv = NULL;
        char **env = service_config_process(&svc->service)->environment;
        ck_assert_uint_eq(svc->service.n_exec_start, 1);
        ck_assert_int_eq(exec_expand(svc->service.exec_start[0].argv, env, &argv), 0);
        ck_assert_uint_eq(strv_length(argv), strv_length(command));
        for (size_t i = 0; command[i]; i++)
                ck_assert_str_eq(argv[i], command[i]);
        ck_assert_int_eq(svc->service.restart, SERVICE_RESTART_ON_FAILURE);
        ck_assert_uint_eq(strv_length(env), 2);
        ck_assert_str_eq(env[0], "GREETING=hi $there");
        ck_assert_str_eq(env[1], "EMPTY=");
        ck_assert_uint_eq(strv_length(svc->wanted_by), 1);
        ck_assert_str_eq(svc->wanted_by[0], "multi-user.target");

        ck_assert_uint_eq(sock->socket.n_listens, 2);
        ck_assert_int_eq(sock->socket.listens[0].type, LISTEN_STREAM);
        ck_assert_str_eq(LISTEN_TEXT(&sock->socket.listens[0]), "127.0.0.1:8080");
        ck_assert_str_eq(LISTEN_TEXT(&sock->socket.listens[1]), "[::1]:8080");
        ck_assert_str_eq(sock->socket.listens[0].origin.file, ADHOC_PATH);
        ck_assert_str_eq(socket_config_options(&sock->socket)->fdname, "web");

        unit_array_free(units, n);
}
END_TEST

/* An invalid address is the parser's error, named as in a file, under ADHOC_PATH. */
START_TEST(test_units_bad_address) {
        const char *listen[] = { "::1:8080" };
        char *command[] = { (char *) "/bin/true", NULL };
        AdhocArgs a = { .listen = listen, .n_listen = 1, .command = command };
        Unit **units = (Unit **) &units;
        size_t n = 99;

        diags_clear();
        ck_assert_int_eq(adhoc_units(&a, collect, NULL, &units, &n), UNIT_FILE_E_INVALID);
        ck_assert_ptr_eq(units, (Unit **) &units);
        ck_assert_uint_eq(n, 99);
        ck_assert_uint_ge(count_level(LOG_ERR), 1);
        const Diag *d = find_diag(LOG_ERR, "[::1]:8080");
        ck_assert_ptr_nonnull(d);
        ck_assert_str_eq(d->file, ADHOC_PATH);
}
END_TEST

/* A line break in a value written into a unit line as it is would add a line of its own. */
START_TEST(test_units_line_break) {
        const char *listen[] = { "127.0.0.1:8080\nListenStream=127.0.0.1:9090" };
        char *command[] = { (char *) "/bin/true", NULL };
        AdhocArgs a = {
                .listen = listen,
                .n_listen = 1,
                .fdname = "web\nService=other.service",
                .command = command,
        };
        Unit **units = NULL;
        size_t n = 0;

        diags_clear();
        ck_assert_int_eq(adhoc_units(&a, collect, NULL, &units, &n), UNIT_FILE_E_INVALID);
        ck_assert_ptr_null(units);
        ck_assert_uint_eq(count_level(LOG_ERR), 2);
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "Invalid -l value: it contains a line break"));
        ck_assert_ptr_nonnull(
                find_diag(LOG_ERR, "Invalid --fdname value: it contains a line break"));
}
END_TEST

START_TEST(test_units_no_name) {
        const char *listen[] = { "8080" };
        char *command[] = { (char *) "/", NULL };
        AdhocArgs a = { .listen = listen, .n_listen = 1, .command = command };
        Unit **units = NULL;
        size_t n = 0;

        diags_clear();
        ck_assert_int_eq(adhoc_units(&a, collect, NULL, &units, &n), -EINVAL);
        ck_assert_ptr_null(units);
        ck_assert_uint_eq(n_diags, 0);
}
END_TEST

static Suite *adhoc_suite(void) {
        Suite *s = suite_create("adhoc");
        TCase *tc;

        tc = tcase_create("name");
        tcase_add_loop_test(tc, test_unit_name_row, 0, (int) ELEMENTSOF(name_rows));
        tcase_add_test(tc, test_unit_name_long);
        suite_add_tcase(s, tc);

        tc = tcase_create("text");
        tcase_add_test(tc, test_socket_text);
        tcase_add_test(tc, test_service_text);
        suite_add_tcase(s, tc);

        tc = tcase_create("units");
        tcase_add_test(tc, test_units);
        tcase_add_test(tc, test_units_bad_address);
        tcase_add_test(tc, test_units_line_break);
        tcase_add_test(tc, test_units_no_name);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        return test_run_suite(adhoc_suite());
}
