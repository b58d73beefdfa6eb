/* Tests for daemon/unit-lexer.c and daemon/unit-file.c: systemd's lexing (comments, quoting,
 * continuations, long lines that must never be cut), every key into its field, drop-in order,
 * list resets, and diagnostics that carry the right file and line. Texts load from memory
 * through unit_file_load_strings(); the file tests write under a mkdtemp() directory. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/unit-file.h"
#include "daemon/unit-lexer.h"
#include "tests/unit/test-diag.h"


/* The socket unit u's limits, set or default. */
static const SocketLimits *socket_limits(const Unit *u) {
        return socket_config_limits(&u->socket);
}
static void setup(void) {
        diags_clear();
}

static void teardown(void) {
        diags_clear();
}

/* ---- loading helpers ---- */

static int load_n(const char *name, const char *const *texts, size_t n, Unit **ret) {
        static const char *const paths[] = {
                "/test/main", "/test/10-first.conf", "/test/20-second.conf", "/test/30-third.conf",
        };
        ck_assert_uint_le(n, ELEMENTSOF(paths));
        return unit_file_load_strings(name, (const char *const *) paths, texts, n, collect, NULL,
                                      ret);
}

static int load(const char *name, const char *text, Unit **ret) {
        return load_n(name, &text, 1, ret);
}

/* Loads text that must be valid, with no diagnostics at all. */
static Unit *load_ok(const char *name, const char *text) {
        Unit *u = NULL;
        int r = load(name, text, &u);
        if (r != 0 || n_diags > 0)
                dump_diags();
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_ptr_nonnull(u);
        return u;
}

/* Loads text that must be invalid. */
static void load_bad(const char *name, const char *text) {
        Unit *u = (Unit *) 0x1;
        int r = load(name, text, &u);
        ck_assert_int_eq(r, UNIT_FILE_E_INVALID);
        ck_assert_ptr_eq(u, (Unit *) 0x1); /* untouched */
        ck_assert_uint_ge(count_level(LOG_ERR), 1);
}

static void assert_argv(char **argv, const char *const *expect) {
        size_t i = 0;
        for (; expect[i]; i++) {
                ck_assert_ptr_nonnull(argv[i]);
                ck_assert_str_eq(argv[i], expect[i]);
        }
        ck_assert_ptr_null(argv[i]);
}

static char *repeat(char c, size_t n) {
        char *s = malloc(n + 1);
        ck_assert_ptr_nonnull(s);
        memset(s, c, n);
        s[n] = '\0';
        return s;
}

/* ---- temporary files ---- */

static char tmpdir[64];

static void tmp_setup(void) {
        setup();
        test_mkdtemp(tmpdir, "test-unit-file");
}

static void tmp_teardown(void) {
        test_rm_rf(tmpdir);
        teardown();
}

static char *write_file(const char *name, const char *text) {
        char *path;
        FILE *f;

        ck_assert_int_ge(asprintf(&path, "%s/%s", tmpdir, name), 0);
        f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
        ck_assert_int_eq(fclose(f), 0);
        return path;
}

/* ---- acceptance: values are never cut ---- */

START_TEST(test_long_line_10k) {
        _cleanup_free_ char *arg = repeat('a', 10 * 1024), *text = NULL;
        _cleanup_(unit_freep) Unit *u = NULL;

        arg[0] = 'B';
        arg[10 * 1024 - 1] = 'E';
        ck_assert_int_ge(asprintf(&text, "[Service]\nExecStart=/bin/echo %s tail\n", arg), 0);
        u = load_ok("web.service", text);
        ck_assert_uint_eq(u->service.n_exec_start, 1);
        assert_argv(u->service.exec_start[0].argv,
                    (const char *const[]) { "/bin/echo", arg, "tail", NULL });
}
END_TEST

START_TEST(test_long_line_10k_file) {
        /* The same through a real file, so the FILE reader is the one under test. */
        _cleanup_free_ char *arg = repeat('z', 10 * 1024), *text = NULL, *path = NULL;
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_ge(asprintf(&text, "[Unit]\nDescription=%s ; # not a comment\n"
                                         "[Service]\nExecStart=/bin/echo \"%s\"\n", arg, arg), 0);
        path = write_file("web.service", text);
        ck_assert_int_eq(unit_file_load("web.service", path, NULL, collect, NULL, &u), 0);
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(strlen(u->description), 10 * 1024 + strlen(" ; # not a comment"));
        ck_assert(strncmp(u->description, arg, 10 * 1024) == 0);
        assert_argv(u->service.exec_start[0].argv,
                    (const char *const[]) { "/bin/echo", arg, NULL });
}
END_TEST

START_TEST(test_line_over_1mib_is_error) {
        _cleanup_free_ char *value = repeat('x', UNIT_VALUE_MAX), *text = NULL, *path = NULL;
        Unit *u = NULL;

        /* Line 3 is "Description=" + 1 MiB: longer than UNIT_VALUE_MAX. */
        ck_assert_int_ge(asprintf(&text, "[Unit]\n# c\nDescription=%s\n[Service]\n"
                                         "ExecStart=/bin/true\nAccept=maybe\n", value), 0);
        path = write_file("web.service", text);
        ck_assert_int_eq(unit_file_load("web.service", path, NULL, collect, NULL, &u),
                         UNIT_FILE_E_INVALID);
        ck_assert_ptr_null(u);
        assert_diag(LOG_ERR, path, 3, "too long");
        /* Lexing went on after it: the unknown key on line 6 is reported with its number. */
        assert_diag(LOG_WARNING, path, 6, "Accept");

        /* The same from memory. */
        diags_clear();
        ck_assert_int_eq(load("web.service", text, &u), UNIT_FILE_E_INVALID);
        assert_diag(LOG_ERR, "/test/main", 3, "too long");
}
END_TEST

START_TEST(test_line_of_exactly_1mib_is_intact) {
        /* A physical line of exactly UNIT_VALUE_MAX bytes is the longest accepted. */
        size_t n = UNIT_VALUE_MAX - strlen("Description=");
        _cleanup_free_ char *value = repeat('y', n), *text = NULL;
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_ge(asprintf(&text, "[Unit]\nDescription=%s\n[Service]\nExecStart=/bin/true\n",
                                  value), 0);
        u = load_ok("web.service", text);
        ck_assert_str_eq(u->description, value);
}
END_TEST

START_TEST(test_continued_line_over_1mib_is_error) {
        _cleanup_free_ char *half = repeat('h', UNIT_VALUE_MAX / 2 + 10), *text = NULL;
        Unit *u = NULL;

        ck_assert_int_ge(asprintf(&text, "[Unit]\nDescription=%s\\\n%s\\\n%s\n[Service]\n"
                                         "ExecStart=/bin/true\nBogus=1\n", half, half, half), 0);
        ck_assert_int_eq(load("web.service", text, &u), UNIT_FILE_E_INVALID);
        assert_diag(LOG_ERR, "/test/main", 2, "too long");
        /* The rest of the continuation was skipped, not lexed as new lines. */
        ck_assert_uint_eq(count_level(LOG_ERR), 1);
        assert_diag(LOG_WARNING, "/test/main", 7, "Bogus");
}
END_TEST

START_TEST(test_inih_traps) {
        /* Things libinih alone would mangle: " ;" inline comments, lines over its 200-byte
         * buffer, indented lines taken as continuations, values that look like sections. */
        _cleanup_free_ char *pad = repeat('p', 300), *text = NULL;
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_ge(asprintf(&text,
                                  "[Unit]\n"
                                  "Description=%s ; tail\n"
                                  "[Socket]\n"
                                  "    ListenStream=8080\n"
                                  "\tListenStream=9090\n"
                                  "FileDescriptorName=[Socket]\n"
                                  "BindToDevice=eth0 ;comment\n",
                                  pad), 0);
        ck_assert_int_eq(load("web.socket", text, &u), UNIT_FILE_E_INVALID);
        /* The value arrived whole (libinih would have cut it at " ;"), so it is refused. */
        assert_diag(LOG_ERR, "/test/main", 7, "'eth0 ;comment'");
        unit_freep(&u);

        diags_clear();
        free(text);
        ck_assert_int_ge(asprintf(&text,
                                  "[Unit]\n"
                                  "Description=%s ; tail\n"
                                  "[Socket]\n"
                                  "    ListenStream=8080\n"
                                  "\tListenStream=9090\n"
                                  "FileDescriptorName=[Socket] ;x\n",
                                  pad), 0);
        u = load_ok("web.socket", text);
        ck_assert_uint_eq(strlen(u->description), 300 + strlen(" ; tail"));
        ck_assert(endswith(u->description, " ; tail"));
        ck_assert_uint_eq(u->socket.n_listens, 2);
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[0]), "8080");
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[1]), "9090");
        ck_assert_str_eq(socket_config_options(&u->socket)->fdname, "[Socket] ;x");
}
END_TEST

/* ---- acceptance: quoting and comments ---- */

START_TEST(test_exec_quoted_semicolon) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.service", "[Service]\nExecStart=/bin/sh -c \"echo a ; echo b\"\n");
        ck_assert_uint_eq(u->service.n_exec_start, 1);
        ck_assert_str_eq(u->service.exec_start[0].path, "/bin/sh");
        assert_argv(u->service.exec_start[0].argv,
                    (const char *const[]) { "/bin/sh", "-c", "echo a ; echo b", NULL });
}
END_TEST

START_TEST(test_exec_lone_semicolon_refused) {
        _cleanup_(unit_freep) Unit *u = NULL;

        load_bad("web.service", "[Service]\nExecStart=/bin/echo a ; /bin/echo b\n");
        assert_diag(LOG_ERR, "/test/main", 2, "lone ';'");

        /* Escaped or quoted, it is an ordinary word; inside a word it is literal. */
        diags_clear();
        u = load_ok("web.service", "[Service]\nExecStart=/bin/echo a \\; ';' b;c\n");
        assert_argv(u->service.exec_start[0].argv,
                    (const char *const[]) { "/bin/echo", "a", ";", ";", "b;c", NULL });
}
END_TEST

START_TEST(test_hash_and_semicolon_in_values) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.service", "[Unit]\n"
                                   "Description=a # b\n"
                                   "[Service]\n"
                                   "ExecStart=/bin/echo #x ;y a;b\n"
                                   "Environment=A=1;2 B=#3\n");
        ck_assert_str_eq(u->description, "a # b");
        assert_argv(u->service.exec_start[0].argv,
                    (const char *const[]) { "/bin/echo", "#x", ";y", "a;b", NULL });
        assert_argv(service_config_process(&u->service)->environment,
                    (const char *const[]) { "A=1;2", "B=#3", NULL });
}
END_TEST

START_TEST(test_semicolon_value) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.service", "[Unit]\nDescription=x ; y;z\n[Service]\nExecStart=/bin/true\n");
        ck_assert_str_eq(u->description, "x ; y;z");
}
END_TEST

START_TEST(test_comment_lines) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.socket", "; a semicolon comment\n"
                                  "# a hash comment\n"
                                  "   # an indented comment\n"
                                  "[Socket]\n"
                                  ";ListenStream=1\n"
                                  "#ListenStream=2\n"
                                  "ListenStream=3\n"
                                  "\n"
                                  "   \n");
        ck_assert_uint_eq(u->socket.n_listens, 1);
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[0]), "3");
        ck_assert_uint_eq(u->socket.listens[0].origin.line, 7);
}
END_TEST

START_TEST(test_continuation) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.service", "[Unit]\n"
                                   "Description=first\\\n"
                                   "second\n"
                                   "[Service]\n"
                                   "ExecStart=/bin/echo one \\\n"
                                   "# a comment inside the continuation\n"
                                   "   two \\\n"
                                   "; another one\n"
                                   "  \"three four\"\n"
                                   "ExecStartPre=/bin/true\n");
        /* The backslash becomes a space; the next line is appended as it is. */
        ck_assert_str_eq(u->description, "first second");
        assert_argv(u->service.exec_start[0].argv,
                    (const char *const[]) { "/bin/echo", "one", "two", "three four", NULL });
        ck_assert_uint_eq(u->service.exec_start[0].origin.line, 5); /* where it starts */
        ck_assert_uint_eq(service_config_hooks(&u->service)->exec_start_pre[0].origin.line, 10);
}
END_TEST

START_TEST(test_continuation_line_numbers) {
        Unit *u = NULL;

        ck_assert_int_eq(load("web.service", "[Service]\n"
                                             "ExecStart=/bin/true\n"
                                             "Frob=a\\\n"
                                             "b\\\n"
                                             "c\n"
                                             "Accept=\\\n"
                                             "maybe\n", &u), 0);
        assert_diag(LOG_WARNING, "/test/main", 3, "'Frob='");
        assert_diag(LOG_WARNING, "/test/main", 6, "'Accept='");
        unit_freep(&u);
}
END_TEST

START_TEST(test_escaped_backslash_is_not_continuation) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.service", "[Unit]\n"
                                   "Description=ends in a backslash\\\\\n"
                                   "[Service]\n"
                                   "ExecStart=/bin/true\n");
        ck_assert_str_eq(u->description, "ends in a backslash\\\\");
}
END_TEST

START_TEST(test_continuation_at_eof) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.service", "[Service]\nExecStart=/bin/echo a \\\n");
        assert_argv(u->service.exec_start[0].argv,
                    (const char *const[]) { "/bin/echo", "a", NULL });
}
END_TEST

START_TEST(test_crlf_bom_and_blanks) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.socket", "\xef\xbb\xbf[Socket]\r\n"
                                  "  ListenStream  =   8080   \r\n"
                                  "Backlog=\t12\t\r"
                                  "Accept=yes\n");
        ck_assert_uint_eq(u->socket.n_listens, 1);
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[0]), "8080");
        ck_assert_int_eq(u->socket.backlog, 12);
        ck_assert(u->socket.accept);
        ck_assert_uint_eq(u->socket.listens[0].origin.line, 2);
}
END_TEST

/* ---- acceptance: lists, drop-ins, diagnostics ---- */

START_TEST(test_list_reset) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.socket", "[Socket]\n"
                                  "ListenStream=8080\n"
                                  "ListenDatagram=8081\n"
                                  "ListenStream=\n"
                                  "ListenStream=9090\n");
        ck_assert_uint_eq(u->socket.n_listens, 1);
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[0]), "9090");
        ck_assert_int_eq(u->socket.listens[0].type, LISTEN_STREAM);
        ck_assert_uint_eq(u->socket.listens[0].address.port, 9090);
}
END_TEST

START_TEST(test_dropin_order) {
        const char *texts[] = {
                "[Socket]\nListenStream=8080\nBacklog=10\nAccept=no\n",
                "[Socket]\nBacklog=20\nListenStream=8081\n",
                "[Socket]\nBacklog=30\nListenStream=8082\n",
        };
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load_n("web.socket", texts, 3, &u), 0);
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_int_eq(u->socket.backlog, 30); /* the last drop-in wins */
        ck_assert_uint_eq(u->socket.n_listens, 3); /* lists append */
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[0]), "8080");
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[1]), "8081");
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[2]), "8082");
        ck_assert_str_eq(u->socket.listens[0].origin.file, "/test/main");
        ck_assert_str_eq(u->socket.listens[1].origin.file, "/test/10-first.conf");
        ck_assert_str_eq(u->socket.listens[2].origin.file, "/test/20-second.conf");
        ck_assert_uint_eq(u->socket.listens[2].origin.line, 3);
        ck_assert_str_eq(unit_path(u), "/test/main");
        assert_argv(unit_extra(u)->dropins, (const char *const[]) { "/test/10-first.conf",
                                                        "/test/20-second.conf", NULL });
}
END_TEST

START_TEST(test_dropin_reset) {
        const char *texts[] = {
                "[Service]\nExecStart=/bin/old\nEnvironment=A=1\n",
                "[Service]\nExecStart=\nExecStart=/bin/new --flag\nEnvironment=B=2\n",
                "[Service]\nEnvironment=\nEnvironment=C=3\n",
        };
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load_n("web.service", texts, 3, &u), 0);
        ck_assert_uint_eq(u->service.n_exec_start, 1);
        assert_argv(u->service.exec_start[0].argv,
                    (const char *const[]) { "/bin/new", "--flag", NULL });
        ck_assert_str_eq(u->service.exec_start[0].origin.file, "/test/10-first.conf");
        assert_argv(service_config_process(&u->service)->environment,
                    (const char *const[]) { "C=3", NULL });
}
END_TEST

START_TEST(test_unknown_key_warning) {
        const char *texts[] = {
                "[Unit]\n"
                "Description=x\n"
                "\n"
                "Frobnicate=1\n"
                "[Service]\n"
                "ExecStart=/bin/true\n",
                "# drop-in\n[Service]\nWibble=2\n",
        };
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load_n("web.service", texts, 2, &u), 0);
        ck_assert_ptr_nonnull(u);
        ck_assert_uint_eq(n_diags, 2);
        assert_diag(LOG_WARNING, "/test/main", 4, "'Frobnicate='");
        assert_diag(LOG_WARNING, "/test/10-first.conf", 3, "'Wibble='");
        ck_assert(endswith(diags[0].msg, ", ignoring"));
        ck_assert(endswith(diags[1].msg, ", ignoring"));
}
END_TEST

START_TEST(test_unknown_section_warning) {
        _cleanup_(unit_freep) Unit *u = NULL;
        int r;

        r = load("web.socket", "[Socket]\n"
                               "ListenStream=80\n"
                               "[X-Berth-Extra]\n"
                               "Anything=goes\n"
                               "[Foo]\n"
                               "Bar=1\n"
                               "[Service]\n"
                               "ExecStart=/bin/true\n"
                               "[Install]\n"
                               "WantedBy=sockets.target multi-user.target\n"
                               "Alias=www.socket\n", &u);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(n_diags, 2); /* [Foo], and [Service] in a socket; nothing for X- */
        assert_diag(LOG_WARNING, "/test/main", 5, "'[Foo]'");
        assert_diag(LOG_WARNING, "/test/main", 7, "'[Service]'");
        ck_assert(endswith(find_diag(LOG_WARNING, "[Foo]")->msg, ", ignoring"));
        assert_argv(u->wanted_by, (const char *const[]) { "sockets.target", "multi-user.target",
                                                          NULL });
}
END_TEST

START_TEST(test_bad_value_error) {
        load_bad("web.socket", "[Socket]\n"
                               "ListenStream=80\n"
                               "Accept=maybe\n"
                               "Backlog=-1\n"
                               "ListenStream=99999\n");
        assert_diag(LOG_ERR, "/test/main", 3,
                    "Invalid value for Accept=: 'maybe' (expected yes or no)");
        /* Every error is reported, not only the first. */
        assert_diag(LOG_ERR, "/test/main", 4, "Backlog=");
        assert_diag(LOG_ERR, "/test/main", 5, "ListenStream='99999'");
        ck_assert_uint_eq(count_level(LOG_ERR), 3);
}
END_TEST

START_TEST(test_unsupported_key_warning) {
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load("web.socket", "[Socket]\nListenStream=80\nListenUSBFunction=/x\n"
                                            "IPTTL=4\nPassSecurity=yes\n"
                                            "[Unit]\nConditionFirstBoot=yes\n"
                                            "ConditionPathExists=/x\n", &u), 0);
        assert_diag(LOG_WARNING, "/test/main", 3,
                    "ListenUSBFunction= is not supported by berth, ignoring");
        assert_diag(LOG_WARNING, "/test/main", 4, "IPTTL= is not supported by berth");
        assert_diag(LOG_WARNING, "/test/main", 5, "PassSecurity= is not supported by berth");
        assert_diag(LOG_WARNING, "/test/main", 7, "ConditionFirstBoot= is not supported by berth "
                    "(it counts as met), ignoring");
        ck_assert_ptr_null(find_diag(LOG_WARNING, "ConditionPathExists"));
        ck_assert_uint_eq(unit_extra(u)->n_conditions, 1);
        ck_assert_int_eq(unit_extra(u)->conditions[0].type, CONDITION_PATH_EXISTS);
        ck_assert_uint_eq(unit_extra(u)->conditions[0].line, 8);
        ck_assert_ptr_null(find_diag(LOG_WARNING, "Unknown"));
}
END_TEST

START_TEST(test_dependencies_warn) {
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load("web.service", "[Unit]\nDocumentation=man:x(1)\nAfter=a.service\n"
                                             "Requires=b.service\n[Service]\nExecStart=/bin/x\n",
                              &u), 0);
        /* Accepted quietly: only berthd -v shows them. */
        ck_assert_uint_eq(n_diags, 2);
        ck_assert_uint_eq(count_level(LOG_WARNING), 0);
        assert_diag(LOG_DEBUG, "/test/main", 3, "After= accepted; it has no effect");
        assert_diag(LOG_DEBUG, "/test/main", 4, "Requires=");
}
END_TEST

/* Sandboxing keys: one warning per unit, naming them all, at the first one's line; other
 * unsupported keys say what berth does instead. */
START_TEST(test_sandboxing_once) {
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load("web.service", "[Service]\nExecStart=/bin/x\n"
                                             "ProtectSystem=strict\nPrivateTmp=yes\n"
                                             "SystemCallFilter=@system-service\n"
                                             "ProtectSystem=full\nRuntimeMaxSec=5\n", &u), 0);
        ck_assert_uint_eq(count_level(LOG_WARNING), 2);
        assert_diag(LOG_WARNING, "/test/main", 3, "Sandboxing not supported by berth: "
                    "ProtectSystem=, PrivateTmp=, SystemCallFilter= (the service runs with less "
                    "protection than the unit asks for)");
        assert_diag(LOG_WARNING, "/test/main", 7, "RuntimeMaxSec= is not supported by berth");
}
END_TEST

/* ---- lexical errors ---- */

START_TEST(test_lexical_errors) {
        _cleanup_free_ char *longkey = repeat('K', 129), *longsec = repeat('S', 129), *text = NULL;

        ck_assert_int_ge(asprintf(&text, "[Socket]\n"              /* 1 */
                                         "ListenStream=80\n"       /* 2 */
                                         "no equals sign here\n"   /* 3 */
                                         "=value\n"                /* 4 */
                                         "Bad.Key=1\n"             /* 5 */
                                         "%s=1\n"                  /* 6 */
                                         "[%s]\n"                  /* 7 */
                                         "Ignored=1\n"             /* 8 */
                                         "[Unclosed\n"             /* 9 */
                                         "[Socket]\n"              /* 10 */
                                         "Description=\xff\xfe\n"  /* 11 */
                                         "[]\n",                   /* 12 */
                                  longkey, longsec), 0);
        load_bad("web.socket", text);
        assert_diag(LOG_ERR, "/test/main", 3, "Missing '='");
        assert_diag(LOG_ERR, "/test/main", 4, "Missing key name");
        assert_diag(LOG_ERR, "/test/main", 5, "Invalid key name 'Bad.Key'");
        assert_diag(LOG_ERR, "/test/main", 6, "Key name");
        assert_diag(LOG_ERR, "/test/main", 7, "Section name");
        assert_diag(LOG_ERR, "/test/main", 9, "Invalid section header");
        assert_diag(LOG_ERR, "/test/main", 11, "UTF-8");
        assert_diag(LOG_ERR, "/test/main", 12, "Empty section name");
        ck_assert_uint_eq(count_level(LOG_ERR), 8);
        ck_assert_uint_eq(count_level(LOG_WARNING), 0); /* line 8 is dropped silently */
}
END_TEST

START_TEST(test_assignment_outside_section) {
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load("web.socket", "ListenStream=1\n[Socket]\nListenStream=2\n", &u), 0);
        assert_diag(LOG_WARNING, "/test/main", 1, "outside of any section");
        ck_assert_uint_eq(u->socket.n_listens, 1);
}
END_TEST

/* The lexer on its own: every section and assignment, in order, with line numbers. */
typedef struct LexRecord {
        char buf[4096];
        size_t len;
} LexRecord;

static int lex_cb(const char *section, const char *key, const char *value, unsigned line,
                  void *userdata) {
        LexRecord *r = userdata;
        int k;

        if (key)
                k = snprintf(r->buf + r->len, sizeof r->buf - r->len, "%u:[%s]%s=%s|", line,
                             section, key, value);
        else
                k = snprintf(r->buf + r->len, sizeof r->buf - r->len, "%u:[%s]|", line, section);
        ck_assert_int_lt(k, (int) (sizeof r->buf - r->len));
        r->len += (size_t) k;
        return 0;
}

START_TEST(test_lexer_stream) {
        LexRecord rec = {};
        int r;

        r = unit_lexer_parse("/t", NULL, "[A]\n"
                                         "[B]\n"
                                         "k=v\n"
                                         " k2 = v 2 \\\n"
                                         "  more\n"
                                         "[C]\n"
                                         "[D]\n",
                             lex_cb, collect, &rec);
        ck_assert_int_eq(r, 0);
        /* Empty sections are reported too, in order, with the first line of each logical
         * line. */
        ck_assert_str_eq(rec.buf, "1:[A]|2:[B]|3:[B]k=v|4:[B]k2=v 2    more|6:[C]|7:[D]|");
}
END_TEST

static int lex_fail_cb(const char *section, const char *key, const char *value, unsigned line,
                       void *userdata) {
        unsigned *n = userdata;
        return ++*n == 3 ? -ENOTRECOVERABLE : 0;
}

START_TEST(test_lexer_callback_error) {
        unsigned n = 0;

        ck_assert_int_eq(unit_lexer_parse("/t", NULL, "[A]\na=1\nb=2\nc=3\nd=4\n", lex_fail_cb,
                                          NULL, &n),
                         -ENOTRECOVERABLE);
        ck_assert_uint_eq(n, 3);
}
END_TEST

START_TEST(test_lexer_many_entries) {
        /* Far more entries than would fit in any fixed buffer of indexes. */
        size_t n = 20000, len = 0;
        _cleanup_free_ char *text = malloc(n * 16 + 16);
        unsigned count = 0;

        ck_assert_ptr_nonnull(text);
        len += (size_t) sprintf(text, "[S]\n");
        for (size_t i = 0; i < n; i++)
                len += (size_t) sprintf(text + len, "k%zu=%zu\n", i, i);
        ck_assert_int_eq(unit_lexer_parse("/t", NULL, text, lex_fail_cb, NULL, &count),
                         -ENOTRECOVERABLE);
        ck_assert_uint_eq(count, 3);
}
END_TEST

static int lex_count_cb(const char *section, const char *key, const char *value, unsigned line,
                        void *userdata) {
        size_t *n = userdata;
        if (key) {
                char expect[64];
                snprintf(expect, sizeof expect, "k%zu", *n);
                ck_assert_str_eq(key, expect);
                ck_assert_uint_eq(line, *n + 2);
                ++*n;
        }
        return 0;
}

START_TEST(test_lexer_many_entries_in_order) {
        size_t n = 20000, len = 0, seen = 0;
        _cleanup_free_ char *text = malloc(n * 16 + 16);

        ck_assert_ptr_nonnull(text);
        len += (size_t) sprintf(text, "[S]\n");
        for (size_t i = 0; i < n; i++)
                len += (size_t) sprintf(text + len, "k%zu=%zu\n", i, i);
        ck_assert_int_eq(unit_lexer_parse("/t", NULL, text, lex_count_cb, NULL, &seen), 0);
        ck_assert_uint_eq(seen, n);
}
END_TEST

/* ---- every Listen type ---- */

START_TEST(test_listen_types) {
        _cleanup_(unit_freep) Unit *u = NULL;
        const SocketListen *l;

        /* Every type, interleaved: the entries (and so the fds) keep the order of the lines. */
        u = load_ok("dm.socket", "[Socket]\n"
                                 "ListenFIFO=/run/dm//server.fifo\n"            /* 2 */
                                 "ListenStream=127.0.0.1:8080\n"                /* 3 */
                                 "ListenSpecial=/dev/./kmsg\n"                  /* 4 */
                                 "ListenNetlink=kobject-uevent 1\n"             /* 5 */
                                 "ListenMessageQueue=/dm-queue\n"               /* 6 */
                                 "ListenNetlink=route\n"                        /* 7 */
                                 "ListenNetlink=31 4\n"                         /* 8 */
                                 "ListenDatagram=@dm.dgram\n"                   /* 9 */
                                 "Writable=yes\n"
                                 "MessageQueueMaxMessages=10\n"
                                 "MessageQueueMessageSize=128\n"
                                 "Symlinks=/run/dm-link //run/./dm-alias/\n"
                                 "Symlinks=/dev/dm\n"
                                 "RemoveOnStop=yes\n");
        ck_assert_uint_eq(u->socket.n_listens, 8);
        l = u->socket.listens;
        ck_assert_int_eq(l[0].type, LISTEN_FIFO);
        ck_assert_str_eq(l[0].path, "/run/dm/server.fifo"); /* simplified, as systemd does */
        ck_assert_str_eq(LISTEN_TEXT(&l[0]), "/run/dm//server.fifo");
        ck_assert_uint_eq(l[0].origin.line, 2);
        ck_assert_int_eq(l[1].type, LISTEN_STREAM);
        ck_assert_ptr_null(l[1].path);
        ck_assert_int_eq(l[2].type, LISTEN_SPECIAL);
        ck_assert_str_eq(l[2].path, "/dev/kmsg");
        ck_assert_int_eq(l[3].type, LISTEN_NETLINK);
        ck_assert_int_eq(l[3].netlink.family, 15); /* NETLINK_KOBJECT_UEVENT */
        ck_assert_uint_eq(l[3].netlink.group, 1);
        ck_assert_int_eq(l[4].type, LISTEN_MQUEUE);
        ck_assert_str_eq(l[4].path, "/dm-queue");
        ck_assert_uint_eq(l[4].origin.line, 6);
        ck_assert_int_eq(l[5].netlink.family, 0); /* NETLINK_ROUTE */
        ck_assert_uint_eq(l[5].netlink.group, 0);
        ck_assert_int_eq(l[6].netlink.family, 31);
        ck_assert_uint_eq(l[6].netlink.group, 4);
        ck_assert_int_eq(l[7].type, LISTEN_DATAGRAM);
        ck_assert_uint_eq(l[7].origin.line, 9);
        ck_assert(socket_config_options(&u->socket)->writable);
        ck_assert_uint_eq(socket_config_options(&u->socket)->mq_max_messages, 10);
        ck_assert_uint_eq(socket_config_options(&u->socket)->mq_message_size, 128);
        ck_assert(socket_config_options(&u->socket)->remove_on_stop);
        assert_argv(socket_config_options(&u->socket)->symlinks,
                    (const char *const[]) { "/run/dm-link", "/run/dm-alias", "/dev/dm", NULL });
        /* The one node in the file system is the FIFO: what Symlinks= links to. */
        ck_assert_ptr_eq(unit_socket_symlink_target(u), &l[0]);
        ck_assert_str_eq(listen_type_to_string(LISTEN_MQUEUE), "ListenMessageQueue");
}
END_TEST

START_TEST(test_listen_types_reset) {
        _cleanup_(unit_freep) Unit *u = NULL;

        /* An empty assignment of any Listen key resets the entries of every type. */
        u = load_ok("x.socket", "[Socket]\nListenFIFO=/run/a\nListenStream=80\n"
                                "ListenMessageQueue=\nListenNetlink=audit 1\nSymlinks=/run/l\n"
                                "Symlinks=\nMessageQueueMaxMessages=5\n"
                                "MessageQueueMaxMessages=\n");
        ck_assert_uint_eq(u->socket.n_listens, 1);
        ck_assert_int_eq(u->socket.listens[0].type, LISTEN_NETLINK);
        ck_assert_int_eq(u->socket.listens[0].netlink.family, 9); /* NETLINK_AUDIT */
        ck_assert_ptr_null(socket_config_options(&u->socket)->symlinks);
        ck_assert_uint_eq(socket_config_options(&u->socket)->mq_max_messages, 0);
}
END_TEST

/* A unit made of one line, that must fail at line 2 with a message containing piece. */
static const struct {
        const char *line, *piece;
} listen_errors[] = {
        { "ListenFIFO=run/x", "Invalid value for ListenFIFO=: 'run/x' (expected an absolute path" },
        { "ListenFIFO=/run/../x", "ListenFIFO=: '/run/../x'" },
        { "ListenFIFO=/", "ListenFIFO=: '/'" },
        { "ListenSpecial=dev/kmsg", "ListenSpecial=: 'dev/kmsg' (expected the absolute path of" },
        { "ListenMessageQueue=queue", "ListenMessageQueue=: 'queue' (expected a message queue" },
        { "ListenMessageQueue=/a/b", "ListenMessageQueue=: '/a/b'" },
        { "ListenMessageQueue=/", "ListenMessageQueue=: '/'" },
        { "ListenMessageQueue=/..", "ListenMessageQueue=: '/..'" },
        { "ListenNetlink=nosuchfamily", "ListenNetlink=: 'nosuchfamily' (expected a netlink" },
        { "ListenNetlink=route x", "ListenNetlink=: 'route x'" },
        { "ListenNetlink=route 1 2", "ListenNetlink=: 'route 1 2'" },
        { "ListenNetlink=32", "ListenNetlink=: '32'" },
        { "ListenNetlink=route -1", "ListenNetlink=: 'route -1'" },
        { "Symlinks=/run/a relative", "Symlinks=: '/run/a relative' (expected absolute paths" },
        { "MessageQueueMaxMessages=0", "MessageQueueMaxMessages=: '0' (expected a positive" },
        { "MessageQueueMessageSize=big", "MessageQueueMessageSize=: 'big'" },
        { "Writable=maybe", "Writable=: 'maybe' (expected yes or no)" },
};

START_TEST(test_listen_types_errors) {
        _cleanup_free_ char *text = NULL;

        ck_assert_int_ge(asprintf(&text, "[Socket]\n%s\nListenStream=80\n",
                                  listen_errors[_i].line), 0);
        load_bad("x.socket", text);
        assert_diag(LOG_ERR, "/test/main", 2, listen_errors[_i].piece);
}
END_TEST

START_TEST(test_listen_types_unit_checks) {
        _cleanup_(unit_freep) Unit *u = NULL;

        /* Symlinks= links to the one unix socket path or FIFO; inet sockets do not count. */
        u = load_ok("log.socket", "[Socket]\nListenDatagram=/run/log.sock\nListenStream=514\n"
                                  "ListenNetlink=audit 1\nSymlinks=/dev/log\n");
        ck_assert_ptr_eq(unit_socket_symlink_target(u), &u->socket.listens[0]);
        u = unit_free(u);
        u = load_ok("f.socket", "[Socket]\nListenFIFO=/run/f\nListenStream=@abstract\n"
                                "Symlinks=/run/g\n");
        ck_assert_ptr_eq(unit_socket_symlink_target(u), &u->socket.listens[0]);

        load_bad("n.socket", "[Socket]\nListenStream=80\nSymlinks=/dev/log\n");
        assert_diag(LOG_ERR, "/test/main", 3, "Symlinks= needs exactly one unix socket path or "
                                              "FIFO");
        diags_clear();
        load_bad("t.socket", "[Socket]\nListenFIFO=/run/a\nSymlinks=/run/l\n"
                             "ListenStream=/run/b.sock\n");
        assert_diag(LOG_ERR, "/test/main", 3, "none or more than one");

        /* Accept=yes takes stream and seqpacket sockets only, as systemd. */
        diags_clear();
        load_bad("a.socket", "[Socket]\nListenStream=80\nListenFIFO=/run/a\nAccept=yes\n");
        assert_diag(LOG_ERR, "/test/main", 3, "ListenFIFO=/run/a cannot accept connections");

        /* What applies to one type only, without it: a warning that says so. */
        diags_clear();
        u = unit_free(u);
        ck_assert_int_eq(load("w.socket", "[Socket]\nListenStream=80\nWritable=yes\n"
                                          "MessageQueueMessageSize=64\n", &u), 0);
        assert_diag(LOG_WARNING, "/test/main", 3, "Writable= applies to ListenSpecial= only");
        assert_diag(LOG_WARNING, "/test/main", 4, "take effect only together");
        diags_clear();
        u = unit_free(u);
        ck_assert_int_eq(load("m.socket", "[Socket]\nListenStream=80\n"
                                          "MessageQueueMaxMessages=8\n"
                                          "MessageQueueMessageSize=64\n", &u), 0);
        assert_diag(LOG_WARNING, "/test/main", 4, "apply to ListenMessageQueue= only");
        ck_assert_uint_eq(n_diags, 1);
}
END_TEST

/* Past UNIT_LISTEN_MAX entries each further line is left out with a warning naming it, and the
 * rest of the unit loads: the entries within the cap and every other key, even after them. */
START_TEST(test_listen_cap) {
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        char last[64];

        ck_assert_ptr_nonnull(f);
        fputs("[Socket]\n", f);
        for (unsigned i = 0; i < UNIT_LISTEN_MAX; i++)
                fprintf(f, "ListenStream=127.0.0.1:%u\n", 10000 + i);
        /* Lines UNIT_LISTEN_MAX + 2 and + 3: one too many of each kind. */
        fputs("ListenStream=127.0.0.1:9\nListenDatagram=/run/over.sock\nBacklog=7\n", f);
        ck_assert_int_eq(fclose(f), 0);

        ck_assert_int_eq(load("many.socket", text, &u), 0);
        ck_assert_uint_eq(u->socket.n_listens, UNIT_LISTEN_MAX);
        snprintf(last, sizeof last, "127.0.0.1:%u", 10000 + UNIT_LISTEN_MAX - 1);
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[UNIT_LISTEN_MAX - 1]), last);
        ck_assert_int_eq(u->socket.backlog, 7);
        ck_assert_uint_eq(count_level(LOG_ERR), 0);
        ck_assert_uint_eq(count_level(LOG_WARNING), 2);
        assert_diag(LOG_WARNING, "/test/main", UNIT_LISTEN_MAX + 2,
                    "ListenStream=127.0.0.1:9 is not bound");
        assert_diag(LOG_WARNING, "/test/main", UNIT_LISTEN_MAX + 3,
                    "ListenDatagram=/run/over.sock is not bound");
        ck_assert_ptr_nonnull(find_diag(LOG_WARNING, "more than 4096"));
}
END_TEST

/* ---- keys into fields ---- */

START_TEST(test_socket_defaults) {
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ char *svc = NULL, *fdname = NULL;

        u = load_ok("web.socket", "[Socket]\nListenStream=8080\n");
        ck_assert_int_eq(u->type, UNIT_SOCKET);
        ck_assert_str_eq(u->name, "web.socket");
        ck_assert(!u->is_template);
        ck_assert_int_eq(u->socket.bind_ipv6_only, BIND_IPV6_ONLY_BOTH);
        ck_assert_int_eq(u->socket.backlog, -1);
        ck_assert(!u->socket.accept);
        ck_assert_uint_eq(socket_config_options(&u->socket)->socket_mode, 0666);
        ck_assert_uint_eq(socket_config_options(&u->socket)->directory_mode, 0755);
        ck_assert_ptr_null(u->socket.limits); /* none set: no group (issue 13) */
        ck_assert_ptr_null(u->extra);
        ck_assert_uint_eq(socket_limits(u)->max_connections, 64);
        ck_assert_uint_eq(socket_limits(u)->max_connections_per_source, 0);
        ck_assert_uint_eq(socket_limits(u)->trigger_limit_interval_usec, 2 * USEC_PER_SEC);
        ck_assert_uint_eq(socket_limits(u)->trigger_limit_burst, 20);
        ck_assert_uint_eq(socket_limits(u)->poll_limit_interval_usec, 2 * USEC_PER_SEC);
        ck_assert_uint_eq(socket_limits(u)->poll_limit_burst, 150);
        ck_assert_uint_eq(unit_extra(u)->start_limit_interval_usec, 10 * USEC_PER_SEC);
        ck_assert_uint_eq(unit_extra(u)->start_limit_burst, 5);
        svc = unit_socket_service_name(u);
        fdname = unit_socket_fdname(u);
        ck_assert_str_eq(svc, "web.service");
        ck_assert_str_eq(fdname, "web.socket"); /* systemd's default: the full name */
}
END_TEST

START_TEST(test_socket_keys) {
        const SocketOptions *o;
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ char *svc = NULL, *fdname = NULL;

        u = load_ok("web.socket", "[Unit]\n"
                                  "Description=The web socket\n"
                                  "StartLimitIntervalSec=1min\n"
                                  "StartLimitBurst=9\n"
                                  "[Socket]\n"
                                  "ListenStream=[::1]:8080\n"
                                  "ListenDatagram=/run/web.dgram\n"
                                  "ListenSequentialPacket=@web-seq\n"
                                  "BindIPv6Only=ipv6-only\n"
                                  "Backlog=2048\n"
                                  "Service=other.service\n"
                                  "FileDescriptorName=http\n"
                                  "SocketUser=www-data\n"
                                  "SocketGroup=1000\n"
                                  "SocketMode=0600\n"
                                  "DirectoryMode=0750\n"
                                  "RemoveOnStop=yes\n"
                                  "ReusePort=true\n"
                                  "FreeBind=on\n"
                                  "Transparent=1\n"
                                  "NoDelay=y\n"
                                  "KeepAlive=t\n"
                                  "KeepAliveTimeSec=2min\n"
                                  "KeepAliveIntervalSec=75\n"
                                  "KeepAliveProbes=9\n"
                                  "DeferAcceptSec=3s\n"
                                  "ReceiveBuffer=4M\n"
                                  "SendBuffer=65536\n"
                                  "BindToDevice=eth0\n"
                                  "PassCredentials=YES\n"
                                  "MaxConnections=100\n"
                                  "MaxConnectionsPerSource=10\n"
                                  "TriggerLimitIntervalSec=5s\n"
                                  "TriggerLimitBurst=7\n"
                                  "PollLimitIntervalSec=500ms\n"
                                  "PollLimitBurst=50\n"
                                  "NonBlocking=yes\n");
        ck_assert_str_eq(u->description, "The web socket");
        ck_assert_uint_eq(unit_extra(u)->start_limit_interval_usec, 60 * USEC_PER_SEC);
        ck_assert_uint_eq(unit_extra(u)->start_limit_burst, 9);
        ck_assert_uint_eq(u->socket.n_listens, 3);
        ck_assert_int_eq(u->socket.listens[0].type, LISTEN_STREAM);
        ck_assert_int_eq(u->socket.listens[0].address.kind, ADDRESS_IP);
        ck_assert_int_eq(u->socket.listens[1].type, LISTEN_DATAGRAM);
        ck_assert_int_eq(u->socket.listens[1].address.kind, ADDRESS_UNIX_PATH);
        ck_assert_int_eq(u->socket.listens[2].type, LISTEN_SEQPACKET);
        ck_assert_int_eq(u->socket.listens[2].address.kind, ADDRESS_UNIX_ABSTRACT);
        ck_assert_uint_eq(u->socket.listens[2].origin.line, 8);
        ck_assert_int_eq(u->socket.bind_ipv6_only, BIND_IPV6_ONLY_IPV6_ONLY);
        ck_assert_int_eq(u->socket.backlog, 2048);
        ck_assert_str_eq(socket_config_options(&u->socket)->service, "other.service");
        ck_assert_str_eq(socket_config_options(&u->socket)->fdname, "http");
        o = socket_config_options(&u->socket);
        ck_assert_str_eq(o->socket_user, "www-data");
        ck_assert_str_eq(o->socket_group, "1000");
        ck_assert_uint_eq(o->socket_mode, 0600);
        ck_assert_uint_eq(o->directory_mode, 0750);
        ck_assert(o->remove_on_stop && o->reuse_port && o->free_bind);
        ck_assert(o->transparent && o->no_delay && o->keep_alive);
        ck_assert_uint_eq(o->keep_alive_time_usec, 120 * USEC_PER_SEC);
        ck_assert_uint_eq(o->keep_alive_interval_usec, 75 * USEC_PER_SEC);
        ck_assert_uint_eq(o->keep_alive_probes, 9);
        ck_assert_uint_eq(o->defer_accept_usec, 3 * USEC_PER_SEC);
        ck_assert_uint_eq(o->receive_buffer, 4 << 20);
        ck_assert_uint_eq(o->send_buffer, 65536);
        ck_assert_str_eq(o->bind_to_device, "eth0");
        ck_assert(o->pass_credentials);
        ck_assert_uint_eq(socket_limits(u)->max_connections, 100);
        ck_assert_uint_eq(socket_limits(u)->max_connections_per_source, 10);
        ck_assert_uint_eq(socket_limits(u)->trigger_limit_interval_usec, 5 * USEC_PER_SEC);
        ck_assert_uint_eq(socket_limits(u)->trigger_limit_burst, 7);
        ck_assert_uint_eq(socket_limits(u)->poll_limit_interval_usec, 500 * USEC_PER_MSEC);
        ck_assert_uint_eq(socket_limits(u)->poll_limit_burst, 50);
        ck_assert(u->socket.non_blocking);
        svc = unit_socket_service_name(u);
        fdname = unit_socket_fdname(u);
        ck_assert_str_eq(svc, "other.service");
        ck_assert_str_eq(fdname, "http");
}
END_TEST

START_TEST(test_socket_accept) {
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ char *svc = NULL;

        u = load_ok("echo.socket", "[Socket]\nListenStream=7\nAccept=yes\n");
        ck_assert(u->socket.accept);
        /* systemd's default with Accept=yes */
        ck_assert_uint_eq(socket_limits(u)->trigger_limit_burst, 200);
        svc = unit_socket_service_name(u);
        ck_assert_str_eq(svc, "echo@.service");

        load_bad("echo.socket", "[Socket]\nListenStream=7\nService=x.service\nAccept=yes\n");
        assert_diag(LOG_ERR, "/test/main", 3, "Accept=yes");

        diags_clear();
        load_bad("echo.socket", "[Socket]\nListenStream=7\nListenDatagram=8\nAccept=yes\n");
        assert_diag(LOG_ERR, "/test/main", 3, "ListenDatagram=8");
}
END_TEST

START_TEST(test_socket_errors) {
        load_bad("web.socket", "[Socket]\nAccept=no\n");
        assert_diag(LOG_ERR, "/test/main", 0, "no Listen setting (ListenStream=");

        diags_clear();
        load_bad("web.socket", "[Socket]\nListenSequentialPacket=127.0.0.1:80\n");
        assert_diag(LOG_ERR, "/test/main", 2, "unix only");

        diags_clear();
        load_bad("web.socket", "[Socket]\n"
                               "ListenStream=::1:8080\n"                /* 2 */
                               "Service=web.socket\n"                   /* 3 */
                               "Service=t@.service\n"                   /* 4 */
                               "FileDescriptorName=a:b\n"               /* 5 */
                               "SocketUser=bad:user\n"                  /* 6 */
                               "SocketMode=0999\n"                      /* 7 */
                               "DirectoryMode=17777\n"                  /* 8 */
                               "BindToDevice=a-very-long-ifname0\n"     /* 9 */
                               "BindToDevice=eth/0\n"                   /* 10 */
                               "MaxConnections=0\n"                     /* 11 */
                               "KeepAliveTimeSec=infinity\n"            /* 12 */
                               "ReceiveBuffer=3X\n"                     /* 13 */
                               "BindIPv6Only=sometimes\n"               /* 14 */
                               "Backlog=2147483648\n");                 /* 15 */
        for (unsigned line = 2; line <= 15; line++) {
                bool found = false;
                for (size_t i = 0; i < n_diags; i++)
                        found = found || (diags[i].level == LOG_ERR && diags[i].line == line);
                if (!found)
                        dump_diags();
                ck_assert_msg(found, "no error for line %u", line);
        }
        assert_diag(LOG_ERR, "/test/main", 2, "[::1]:8080"); /* the address parser's advice */
}
END_TEST

START_TEST(test_scalar_reset) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.socket", "[Socket]\nListenStream=1\nBacklog=10\nBacklog=\n"
                                  "SocketMode=0600\nSocketMode=\nFileDescriptorName=x\n"
                                  "FileDescriptorName=\nMaxConnections=5\nMaxConnections=\n");
        ck_assert_int_eq(u->socket.backlog, -1);
        ck_assert_uint_eq(socket_config_options(&u->socket)->socket_mode, 0666);
        ck_assert_ptr_null(socket_config_options(&u->socket)->fdname);
        ck_assert_uint_eq(socket_limits(u)->max_connections, 64);
}
END_TEST

/* The groups of keys most units never set (unit-file.h): a unit without them has none
 * allocated and reads the defaults; one key of a group brings the whole group, with the
 * defaults for the rest, and an empty assignment restores the default. */
START_TEST(test_key_groups) {
        _cleanup_(unit_freep) Unit *plain = NULL, *sock = NULL, *svc = NULL, *svc2 = NULL;

        plain = load_ok("a.socket", "[Socket]\nListenStream=1\nAccept=yes\nBacklog=4\n");
        ck_assert_ptr_null(plain->socket.options);
        ck_assert_ptr_null(plain->socket.hooks);
        ck_assert_uint_eq(socket_config_hooks(&plain->socket)->timeout_usec, 90 * USEC_PER_SEC);
        ck_assert_uint_eq(socket_config_options(&plain->socket)->socket_mode, 0666);
        ck_assert_uint_eq(socket_config_options(&plain->socket)->directory_mode, 0755);
        ck_assert(!socket_config_has_ip_filter(&plain->socket));
        unit_free(plain);
        plain = load_ok("a.service", "[Service]\nExecStart=/bin/a\nUser=nobody\n"
                                     "Restart=always\n");
        ck_assert_ptr_null(plain->service.hooks);
        ck_assert_ptr_null(plain->service.exit_status);
        ck_assert_ptr_null(plain->service.limits);
        ck_assert_ptr_null(plain->service.dirs);
        ck_assert_uint_eq(service_config_hooks(&plain->service)->n_exec_stop, 0);
        ck_assert_uint_eq(service_config_dirs(&plain->service)->mode[EXEC_DIR_STATE], 0755);
        ck_assert(!cgroup_limits_any(service_config_limits(&plain->service)));

        sock = load_ok("b.socket", "[Socket]\nListenStream=1\nReusePort=yes\nSocketMode=0600\n"
                                   "SocketMode=\n");
        ck_assert_ptr_nonnull(sock->socket.options);
        ck_assert(sock->socket.options->reuse_port);
        ck_assert_uint_eq(sock->socket.options->socket_mode, 0666);
        ck_assert_uint_eq(sock->socket.options->directory_mode, 0755);
        ck_assert_ptr_null(sock->socket.hooks);
        unit_free(sock);
        sock = load_ok("c.socket", "[Socket]\nListenStream=1\nExecStopPost=/bin/x\n");
        ck_assert_ptr_null(sock->socket.options);
        ck_assert_uint_eq(sock->socket.hooks->n_exec_stop_post, 1);
        ck_assert_uint_eq(sock->socket.hooks->n_exec_start_pre, 0);
        ck_assert_uint_eq(sock->socket.hooks->timeout_usec, 90 * USEC_PER_SEC);

        svc = load_ok("b.service", "[Service]\nExecStart=/bin/b\nExecStop=/bin/stop\n"
                                   "RuntimeDirectoryMode=0700\nTasksMax=10\n"
                                   "SuccessExitStatus=3\n");
        ck_assert_uint_eq(svc->service.hooks->n_exec_stop, 1);
        ck_assert_uint_eq(svc->service.hooks->n_exec_start_pre, 0);
        ck_assert_uint_eq(svc->service.dirs->mode[EXEC_DIR_RUNTIME], 0700);
        ck_assert_uint_eq(svc->service.dirs->mode[EXEC_DIR_STATE], 0755);
        ck_assert_int_eq(svc->service.limits->tasks_max.kind, CGROUP_LIMIT_VALUE);
        ck_assert_int_eq(svc->service.limits->memory_max.kind, CGROUP_LIMIT_UNSET);
        ck_assert(exit_status_set_test(&svc->service.exit_status->success, CLD_EXITED, 3));
        ck_assert(exit_status_set_is_empty(&svc->service.exit_status->restart_force));

        /* The groups of a unit that fails to load go with it. */
        svc2 = (Unit *) 0x1;
        ck_assert_int_eq(load("c.service", "[Service]\nExecStart=/bin/c\nExecStop=/bin/d\n"
                                           "TasksMax=x\n", &svc2),
                         UNIT_FILE_E_INVALID);
        svc2 = NULL;
}
END_TEST

START_TEST(test_service_defaults) {
        _cleanup_(unit_freep) Unit *u = NULL;
        const ServiceConfig *s;

        u = load_ok("web.service", "[Service]\nExecStart=/usr/bin/web\n");
        s = &u->service;
        ck_assert_int_eq(u->type, UNIT_SERVICE);
        ck_assert_int_eq(s->type, SERVICE_SIMPLE);
        ck_assert_int_eq(s->restart, SERVICE_RESTART_NO);
        ck_assert_uint_eq(s->restart_usec, 100 * USEC_PER_MSEC);
        ck_assert_uint_eq(s->timeout_start_usec, 90 * USEC_PER_SEC);
        ck_assert_uint_eq(s->timeout_stop_usec, 90 * USEC_PER_SEC);
        ck_assert_int_eq(service_config_extra(s)->kill_signal, SIGTERM);
        ck_assert_int_eq(service_config_extra(s)->kill_mode, KILL_CONTROL_GROUP);
        ck_assert_int_eq(service_config_extra(s)->reload_signal, SIGHUP);
        /* None of the process keys: their group is not made (issue 13). */
        ck_assert_ptr_null(s->process);
        /* Nor the unit's own: no drop-in, condition or start limit of its own; nor the rarer
         * service keys (KillSignal=, Sockets=, WatchdogSec= ...). */
        ck_assert_ptr_null(u->extra);
        ck_assert_ptr_null(s->extra);
        ck_assert_uint_eq(unit_extra(u)->start_limit_burst, 5);
        u = unit_free(u);
        u = load_ok("web.service", "[Unit]\nStartLimitBurst=9\n[Service]\nExecStart=/usr/bin/web\n");
        ck_assert_ptr_nonnull(u->extra);
        ck_assert_uint_eq(unit_extra(u)->start_limit_burst, 9);
        ck_assert_uint_eq(unit_extra(u)->start_limit_interval_usec, 10 * USEC_PER_SEC);
        u = unit_free(u);
        u = load_ok("web.service", "[Service]\nExecStart=/usr/bin/web\nStandardOutput=journal\n"
                                   "StandardError=inherit\n");
        s = &u->service;
        ck_assert_ptr_null(s->process); /* only a file: output makes it */
        ck_assert_int_eq(s->std_output, STD_OUTPUT_LOG);
        ck_assert_int_eq(s->std_error, STD_OUTPUT_INHERIT);
        u = unit_free(u);
        u = load_ok("web.service", "[Service]\nExecStart=/usr/bin/web\n"
                                   "StandardOutput=append:/var/log/web\n");
        s = &u->service;
        ck_assert_ptr_nonnull(s->process);
        ck_assert_str_eq(service_config_process(s)->std_output_path, "/var/log/web");
        ck_assert_ptr_null(service_config_process(s)->std_error_path);
        u = unit_free(u);
        u = load_ok("web.service", "[Service]\nExecStart=/usr/bin/web\n");
        s = &u->service;
        ck_assert_uint_eq(service_config_process(s)->umask, 0022);
        ck_assert(!service_config_process(s)->limit_nofile_set);
        ck_assert_uint_eq(service_config_process(s)->limit_nofile_soft, UINT64_MAX);
        ck_assert(!service_config_extra(s)->notify_access_set);
        ck_assert_int_eq(service_config_extra(s)->std_input, STD_INPUT_NULL);
        ck_assert_int_eq(s->std_output, STD_OUTPUT_LOG);
        ck_assert_int_eq(s->std_error, STD_OUTPUT_LOG);
        ck_assert_int_eq(service_config_extra(s)->handover, HANDOVER_STOP_FIRST);
        ck_assert_uint_eq(service_config_extra(s)->watchdog_usec, 0);
        ck_assert(!service_config_extra(s)->non_blocking_set);
        ck_assert_ptr_null(service_config_process(s)->environment);
        ck_assert_str_eq(s->exec_start[0].path, "/usr/bin/web");
        ck_assert(!s->exec_start[0].ignore_failure);
}
END_TEST

START_TEST(test_service_keys) {
        _cleanup_(unit_freep) Unit *u = NULL;
        const ServiceConfig *s;

        u = load_ok("web.service", "[Service]\n"
                                   "Type=notify\n"
                                   "ExecStartPre=-/bin/mkdir -p /run/web\n"
                                   "ExecStart=web --port=${PORT} $OPTS\n"
                                   "ExecReload=/bin/kill -HUP $MAINPID\n"
                                   "ExecStop=/bin/true\n"
                                   "Restart=on-failure\n"
                                   "RestartSec=1.5s\n"
                                   "TimeoutStartSec=infinity\n"
                                   "TimeoutStopSec=0\n"
                                   "KillSignal=SIGINT\n"
                                   "KillMode=mixed\n"
                                   "ReloadSignal=USR1\n"
                                   "User=www-data\n"
                                   "Group=www\n"
                                   "SupplementaryGroups=old\n"
                                   "SupplementaryGroups=\n"
                                   "SupplementaryGroups=a b\n"
                                   "SupplementaryGroups=c\n"
                                   "WorkingDirectory=-/srv/web\n"
                                   "Environment=\"GREETING=hello world\" PORT=80\n"
                                   "Environment=PORT=8080 'X=a\\tb'\n"
                                   "EnvironmentFile=-/etc/default/web\n"
                                   "EnvironmentFile=/etc/web.env\n"
                                   "UMask=0077\n"
                                   "LimitNOFILE=1024:4096\n"
                                   "NoNewPrivileges=yes\n"
                                   "Sockets=web.socket admin.socket\n"
                                   "NotifyAccess=all\n"
                                   "FileDescriptorStoreMax=8\n"
                                   "WatchdogSec=10s\n"
                                   "StandardInput=socket\n"
                                   "StandardOutput=journal+console\n"
                                   "StandardError=null\n"
                                   "NonBlocking=yes\n"
                                   "Handover=overlap\n");
        s = &u->service;
        ck_assert_int_eq(s->type, SERVICE_NOTIFY);
        ck_assert_uint_eq(service_config_hooks(s)->n_exec_start_pre, 1);
        ck_assert(service_config_hooks(s)->exec_start_pre[0].ignore_failure);
        ck_assert_str_eq(service_config_hooks(s)->exec_start_pre[0].path, "/bin/mkdir");
        assert_argv(service_config_hooks(s)->exec_start_pre[0].argv,
                    (const char *const[]) { "/bin/mkdir", "-p", "/run/web", NULL });
        ck_assert_str_eq(s->exec_start[0].path, "web");
        assert_argv(s->exec_start[0].argv,
                    (const char *const[]) { "web", "--port=${PORT}", "$OPTS", NULL });
        assert_argv(service_config_hooks(s)->exec_reload[0].argv,
                    (const char *const[]) { "/bin/kill", "-HUP", "$MAINPID", NULL });
        ck_assert_uint_eq(service_config_hooks(s)->n_exec_stop, 1);
        ck_assert_int_eq(s->restart, SERVICE_RESTART_ON_FAILURE);
        ck_assert_uint_eq(s->restart_usec, 1500 * USEC_PER_MSEC);
        ck_assert_uint_eq(s->timeout_start_usec, USEC_INFINITY);
        ck_assert_uint_eq(s->timeout_stop_usec, USEC_INFINITY);
        ck_assert_int_eq(service_config_extra(s)->kill_signal, SIGINT);
        ck_assert_int_eq(service_config_extra(s)->kill_mode, KILL_MIXED);
        ck_assert_int_eq(service_config_extra(s)->reload_signal, SIGUSR1);
        ck_assert_ptr_nonnull(s->process);
        ck_assert_str_eq(service_config_process(s)->user, "www-data");
        ck_assert_str_eq(service_config_process(s)->group, "www");
        assert_argv(service_config_process(s)->supplementary_groups,
                    (const char *const[]) { "a", "b", "c", NULL });
        ck_assert_str_eq(service_config_process(s)->working_directory, "/srv/web");
        ck_assert(service_config_process(s)->working_directory_optional);
        assert_argv(service_config_process(s)->environment,
                    (const char *const[]) { "GREETING=hello world", "PORT=8080", "X=a\tb",
                                            NULL });
        ck_assert_uint_eq(service_config_process(s)->n_environment_files, 2);
        ck_assert_str_eq(service_config_process(s)->environment_files[0].path, "/etc/default/web");
        ck_assert(service_config_process(s)->environment_files[0].optional);
        ck_assert_str_eq(service_config_process(s)->environment_files[1].path, "/etc/web.env");
        ck_assert(!service_config_process(s)->environment_files[1].optional);
        ck_assert_uint_eq(service_config_process(s)->umask, 0077);
        ck_assert(service_config_process(s)->limit_nofile_set);
        ck_assert_uint_eq(service_config_process(s)->limit_nofile_soft, 1024);
        ck_assert_uint_eq(service_config_process(s)->limit_nofile_hard, 4096);
        ck_assert(service_config_process(s)->no_new_privileges);
        assert_argv(service_config_extra(s)->sockets,
                    (const char *const[]) { "web.socket", "admin.socket", NULL });
        ck_assert_int_eq(service_config_extra(s)->notify_access, NOTIFY_ACCESS_ALL);
        ck_assert(service_config_extra(s)->notify_access_set);
        ck_assert_uint_eq(service_config_extra(s)->fd_store_max, 8);
        ck_assert_uint_eq(service_config_extra(s)->watchdog_usec, 10 * USEC_PER_SEC);
        ck_assert_int_eq(service_config_extra(s)->std_input, STD_INPUT_SOCKET);
        ck_assert_int_eq(s->std_output, STD_OUTPUT_LOG);
        ck_assert_int_eq(s->std_error, STD_OUTPUT_NULL);
        ck_assert(service_config_extra(s)->non_blocking);
        ck_assert(service_config_extra(s)->non_blocking_set);
        ck_assert_int_eq(service_config_extra(s)->handover, HANDOVER_OVERLAP);
}
END_TEST

START_TEST(test_exec_prefixes) {
        _cleanup_(unit_freep) Unit *u = NULL;
        const ServiceConfig *s;
        int r;

        r = load("web.service", "[Service]\n"
                                "Type=oneshot\n"
                                "ExecStart=-/bin/false\n"
                                "ExecStart=@/bin/busybox sh -c true\n"
                                "ExecStart=-@/bin/busybox echo x\n"
                                "ExecStart=+/bin/true\n"
                                "ExecStart=!!/bin/true\n"
                                "ExecStart=:/bin/echo $X\n"
                                "ExecStart=\"/bin/with space\" 'a b'\n"
                                "ExecStart=!/bin/true\n"
                                "ExecStart=:-+/bin/true\n", &u);
        ck_assert_int_eq(r, 0);
        s = &u->service;
        ck_assert_uint_eq(s->n_exec_start, 9);
        ck_assert(s->exec_start[0].ignore_failure);
        ck_assert_str_eq(s->exec_start[0].path, "/bin/false");
        ck_assert_str_eq(s->exec_start[1].path, "/bin/busybox");
        assert_argv(s->exec_start[1].argv, (const char *const[]) { "sh", "-c", "true", NULL });
        ck_assert(s->exec_start[2].ignore_failure);
        assert_argv(s->exec_start[2].argv, (const char *const[]) { "echo", "x", NULL });
        ck_assert_str_eq(s->exec_start[3].path, "/bin/true");
        ck_assert_str_eq(s->exec_start[4].path, "/bin/true");
        assert_argv(s->exec_start[5].argv, (const char *const[]) { "/bin/echo", "$X", NULL });
        assert_argv(s->exec_start[6].argv,
                    (const char *const[]) { "/bin/with space", "a b", NULL });
        /* The prefixes are flags, without a word about them. */
        ck_assert(s->exec_start[3].full_privileges && !s->exec_start[3].no_setuid);
        /* "!!": ambient capabilities exist, so it has no effect (as in systemd). */
        ck_assert(!s->exec_start[4].full_privileges && !s->exec_start[4].no_setuid);
        ck_assert(s->exec_start[5].no_env_expand && !s->exec_start[5].ignore_failure);
        ck_assert(!s->exec_start[6].no_env_expand);
        ck_assert(s->exec_start[7].no_setuid && !s->exec_start[7].full_privileges);
        ck_assert(s->exec_start[8].no_env_expand && s->exec_start[8].ignore_failure &&
                  s->exec_start[8].full_privileges);
        ck_assert_uint_eq(n_diags, 0);
}
END_TEST

START_TEST(test_exec_errors) {
        load_bad("web.service", "[Service]\n"
                                "ExecStart=./relative\n"      /* 2 */
                                "ExecStart=bin/x\n"           /* 3 */
                                "ExecStart=-\n"               /* 4 */
                                "ExecStart=/bin/echo \"open\n" /* 5 */
                                "ExecStart=/bin/echo \"x\\\\\n" /* 6 */
                                "ExecStart=@/bin/x\n"         /* 7 */
                                "ExecStart=--/bin/x\n");      /* 8 */
        for (unsigned line = 2; line <= 8; line++) {
                bool found = false;
                for (size_t i = 0; i < n_diags; i++)
                        found = found || (diags[i].level == LOG_ERR && diags[i].line == line);
                if (!found)
                        dump_diags();
                ck_assert_msg(found, "no error for line %u", line);
        }
        /* Nothing valid was left, so the missing ExecStart= is reported too. */
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "no ExecStart="));
}
END_TEST

START_TEST(test_exec_start_count) {
        _cleanup_(unit_freep) Unit *u = NULL;

        load_bad("web.service", "[Service]\nExecStart=/bin/a\nExecStart=/bin/b\n");
        assert_diag(LOG_ERR, "/test/main", 3, "More than one ExecStart=");

        diags_clear();
        load_bad("web.service", "[Service]\nExecStartPre=/bin/a\n");
        assert_diag(LOG_ERR, "/test/main", 0, "no ExecStart=");

        diags_clear();
        load_bad("web.service", "[Service]\nType=oneshot\nRestart=always\nExecStart=/bin/a\n");
        assert_diag(LOG_ERR, "/test/main", 0, "oneshot");

        diags_clear();
        u = load_ok("web.service", "[Service]\nType=oneshot\nExecStart=/bin/a\nExecStart=/bin/b\n");
        ck_assert_uint_eq(u->service.n_exec_start, 2);
}
END_TEST

START_TEST(test_service_errors) {
        load_bad("web.service", "[Service]\n"
                                "ExecStart=/bin/x\n"
                                "Type=idle\n"                     /* 3 */
                                "Restart=sometimes\n"             /* 4 */
                                "RestartSec=5 parsecs\n"          /* 5 */
                                "KillSignal=SIGFOO\n"             /* 6 */
                                "KillMode=all\n"                  /* 7 */
                                "User=bad user\n"                 /* 8 */
                                "WorkingDirectory=relative\n"     /* 9 */
                                "Environment=1X=2\n"              /* 10 */
                                "Environment=NOEQUALS\n"          /* 11 */
                                "EnvironmentFile=relative.env\n"  /* 12 */
                                "UMask=0800\n"                    /* 13 */
                                "LimitNOFILE=10:5\n"              /* 14 */
                                "Sockets=web.service\n"           /* 15 */
                                "NotifyAccess=some\n"             /* 16 */
                                "StandardInput=tty\n"             /* 17 */
                                "StandardOutput=file:var/log/x\n" /* 18 */
                                "Handover=later\n"                /* 19 */
                                "FileDescriptorStoreMax=2000000\n" /* 20 */
                                "ReloadSignal=65\n"               /* 21 */
                                "NoNewPrivileges=perhaps\n");     /* 22 */
        for (unsigned line = 3; line <= 22; line++) {
                bool found = false;

                if (line == 10 || line == 11)
                        continue; /* Environment=: warnings, as in systemd */
                for (size_t i = 0; i < n_diags; i++)
                        found = found || (diags[i].level == LOG_ERR && diags[i].line == line);
                if (!found)
                        dump_diags();
                ck_assert_msg(found, "no error for line %u", line);
        }
        assert_diag(LOG_WARNING, "/test/main", 10, "'1X=2' (expected VAR=value");
        assert_diag(LOG_WARNING, "/test/main", 11, "'NOEQUALS' (expected VAR=value");
        assert_diag(LOG_ERR, "/test/main", 3, "Type=idle is not supported by berth");
        assert_diag(LOG_ERR, "/test/main", 17, "StandardInput=tty is not supported by berth");
        assert_diag(LOG_ERR, "/test/main", 18, "'file:var/log/x' (expected an absolute path after "
                    "the colon)");
}
END_TEST

START_TEST(test_bind_shim) {
        /* BindShim=yes|no|inherit; the last assignment wins, an empty one is the default. */
        static const struct {
                const char *text;
                bool shim, inherit;
        } rows[] = {
                { "BindShim=yes\n", true, false },
                { "BindShim=no\n", false, false },
                { "BindShim=inherit\n", true, true },
                { "BindShim=inherit\nBindShim=yes\n", true, false },
                { "BindShim=inherit\nBindShim=\n", false, false },
        };

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(unit_freep) Unit *u = NULL;

                ck_assert_int_ge(asprintf(&text, "[Service]\nExecStart=/bin/x\n%s", rows[i].text),
                                 0);
                diags_clear();
                ck_assert_int_eq(load("web.service", text, &u), 0);
                ck_assert_uint_eq(n_diags, 0);
                const ServiceExtra *x = service_config_extra(&u->service);

                ck_assert_msg(x->bind_shim == rows[i].shim, "%s", rows[i].text);
                ck_assert_msg(x->bind_shim_inherit == rows[i].inherit, "%s", rows[i].text);
        }
        diags_clear();
        load_bad("web.service", "[Service]\nExecStart=/bin/x\nBindShim=always\n");
        assert_diag(LOG_ERR, "/test/main", 3, "(expected yes, no or inherit)");
}
END_TEST

START_TEST(test_word_list_bad_quoting) {
        /* Found by fuzzing: a bad quote after a good word freed that word twice. */
        load_bad("web.service", "[Service]\n"
                                "ExecStart=/bin/x\n"
                                "SupplementaryGroups=wheel 'open\n"
                                "Sockets=a.socket \"b.socket\n"
                                "[Install]\n"
                                "WantedBy=sockets.tingle q' arget\n");
        assert_diag(LOG_ERR, "/test/main", 3, "SupplementaryGroups=");
        assert_diag(LOG_ERR, "/test/main", 4, "Sockets=");
        assert_diag(LOG_ERR, "/test/main", 6, "WantedBy=");
        ck_assert_uint_eq(count_level(LOG_ERR), 3);
}
END_TEST

START_TEST(test_messages_are_one_line) {
        /* Found by fuzzing: a decoded "\n" in a quoted value went into a message as is. */
        load_bad("web.service", "[Service]\n"
                                "ExecStart=/bin/x\n"
                                "Environment=\"1\\nX=2\"\n"
                                "User=a\x1b[31m\n");
        for (size_t i = 0; i < n_diags; i++)
                for (const char *p = diags[i].msg; *p; p++)
                        ck_assert_msg((unsigned char) *p >= 0x20 && *p != 0x7f, "%s", diags[i].msg);
        assert_diag(LOG_WARNING, "/test/main", 3, "'1\\nX=2'");
        assert_diag(LOG_ERR, "/test/main", 4, "'a\\x1b[31m'");
}
END_TEST

/* Environment= as systemd's config_parse_environ() (issue 11, item 5): an invalid word is
 * skipped with a warning naming file:line, bad quoting skips the rest of the line, and the unit
 * loads. " ;notcomment" reaches the parser whole (libinih would cut it as a comment). */
START_TEST(test_environment_invalid_words) {
        _cleanup_(unit_freep) Unit *u = NULL;
        int r;

        r = load("web.service", "[Service]\n"
                                "ExecStart=/bin/x\n"
                                "Environment=X=1 ;notcomment =x 1A=2 NOEQ Y=2 \"Z=a b\"\n"
                                "Environment=W=1 X=3 'open\n"
                                "Environment=V=a\\ b U=4\n", &u);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(count_level(LOG_ERR), 0);
        ck_assert_uint_eq(count_level(LOG_WARNING), 6);
        assert_diag(LOG_WARNING, "/test/main", 3, "';notcomment'");
        assert_diag(LOG_WARNING, "/test/main", 3, "'=x'");
        assert_diag(LOG_WARNING, "/test/main", 3, "'1A=2'");
        assert_diag(LOG_WARNING, "/test/main", 3, "'NOEQ'");
        assert_diag(LOG_WARNING, "/test/main", 4, "'open'");
        /* "\ " is no escape in systemd: invalid syntax, the rest of the line goes. */
        assert_diag(LOG_WARNING, "/test/main", 5, " b U=4'");
        assert_argv(service_config_process(&u->service)->environment,
                    (const char *const[]) { "X=3", "Y=2", "Z=a b", "W=1", NULL });
}
END_TEST

/* IPAddressAllow=/IPAddressDeny=: lists that add up, an empty value resets, invalid words are
 * skipped with a warning naming file:line (systemd's config_parse_in_addr_prefixes()); in
 * [Service] they are sandboxing berth does not do. */
START_TEST(test_ip_address_access) {
        const SocketOptions *o;
        _cleanup_(unit_freep) Unit *u = NULL, *s = NULL;
        char buf[256];
        int r;

        r = load("web.socket", "[Socket]\n"
                               "ListenStream=80\n"
                               "IPAddressDeny=10.0.0.0/8\n"
                               "IPAddressDeny=\n"
                               "IPAddressDeny=any\n"
                               "IPAddressAllow=127.0.0.2 bad/8 ::1 1.2.3.4/40\n"
                               "IPAddressAllow=localhost\n", &u);
        ck_assert_int_eq(r, 0);
        ck_assert_uint_eq(count_level(LOG_ERR), 0);
        ck_assert_uint_eq(count_level(LOG_WARNING), 2);
        assert_diag(LOG_WARNING, "/test/main", 6, "Invalid prefix in IPAddressAllow=: 'bad/8'");
        assert_diag(LOG_WARNING, "/test/main", 6, "'1.2.3.4/40'");
        o = socket_config_options(&u->socket);
        ck_assert_str_eq(ip_prefix_list_format(&o->ip_address_deny, buf, sizeof buf),
                         "0.0.0.0/0 ::/0");
        ck_assert_str_eq(ip_prefix_list_format(&o->ip_address_allow, buf, sizeof buf),
                         "127.0.0.2/32 ::1/128 127.0.0.0/8");
        ck_assert(socket_config_has_ip_filter(&u->socket));

        r = load("web.service", "[Service]\nExecStart=/bin/x\nIPAddressDeny=any\n", &s);
        ck_assert_int_eq(r, 0);
        assert_diag(LOG_WARNING, "/test/main", 3, "Sandboxing not supported by berth: "
                    "IPAddressDeny=");
}
END_TEST

/* Values systemd accepts that Debian's units use (issue 10, item 5). */
START_TEST(test_systemd_value_forms) {
        _cleanup_(unit_freep) Unit *a = NULL, *b = NULL, *c = NULL, *d = NULL;

        /* gpsd.socket */
        a = load_ok("a.socket", "[Socket]\nListenStream=[::1]:1\nBindIPv6Only=yes\n");
        ck_assert_int_eq(a->socket.bind_ipv6_only, BIND_IPV6_ONLY_IPV6_ONLY);
        b = load_ok("b.socket", "[Socket]\nListenStream=[::1]:1\nBindIPv6Only=false\n");
        ck_assert_int_eq(b->socket.bind_ipv6_only, BIND_IPV6_ONLY_BOTH);
        /* systemd-journald.service: 4224; docker.service: the limits in [Service] */
        c = load_ok("c.service", "[Service]\nExecStart=/bin/x\nFileDescriptorStoreMax=4224\n"
                                 "StartLimitBurst=3\nStartLimitInterval=60s\n");
        ck_assert_uint_eq(service_config_extra(&c->service)->fd_store_max, 4224);
        ck_assert_uint_eq(unit_extra(c)->start_limit_burst, 3);
        ck_assert_uint_eq(unit_extra(c)->start_limit_interval_usec, 60 * USEC_PER_SEC);
        /* the old name in [Unit] */
        d = load_ok("d.service", "[Unit]\nStartLimitInterval=7\n[Service]\nExecStart=/bin/x\n"
                                 "StartLimitIntervalSec=9\n");
        ck_assert_uint_eq(unit_extra(d)->start_limit_interval_usec, 9 * USEC_PER_SEC);
        ck_assert_uint_eq(count_level(LOG_WARNING), 0);
}
END_TEST

/* Specifiers expand where systemd expands them: each command word, Environment=, listen
 * addresses; an unknown one is an error at its line. */
START_TEST(test_specifiers) {
        _cleanup_(unit_freep) Unit *u = NULL, *s = NULL;

        u = load_ok("web@one.service", "[Service]\nExecStart=/bin/echo %n %i '%p x' %%\n"
                                       "Environment=NAME=%N\n");
        ck_assert_str_eq(u->service.exec_start[0].argv[1], "web@one.service");
        ck_assert_str_eq(u->service.exec_start[0].argv[2], "one");
        ck_assert_str_eq(u->service.exec_start[0].argv[3], "web x");
        ck_assert_str_eq(u->service.exec_start[0].argv[4], "%");
        ck_assert_str_eq(service_config_process(&u->service)->environment[0], "NAME=web@one");
        s = load_ok("web.socket", "[Socket]\nListenStream=%t/web.sock\n");
        ck_assert_str_eq(LISTEN_TEXT(&s->socket.listens[0]), "/run/web.sock");
        load_bad("x.service", "[Service]\nExecStart=/bin/echo %q\n");
        assert_diag(LOG_ERR, "/test/main", 2, "unknown specifier '%q'");
}
END_TEST

/* SuccessExitStatus= and friends, as systemd's config_parse_set_status(): input, then the
 * statuses and signals it must hold, and the number of warnings (a bad word is skipped). */
static const struct {
        const char *value;
        int statuses[4], signals[4]; /* -1 ends each list */
        unsigned warnings;
} exit_status_rows[] = {
        { "143", { 143, -1 }, { -1 }, 0 },
        { "1 2 SIGKILL", { 1, 2, -1 }, { SIGKILL, -1 }, 0 },
        { "TEMPFAIL SIGUSR1 USR2", { 75, -1 }, { SIGUSR1, SIGUSR2, -1 }, 0 },
        { "EXCEPTION INVALIDARGUMENT", { 255, 2, -1 }, { -1 }, 0 },
        { "0 255", { 0, 255, -1 }, { -1 }, 0 },
        { "256 nope SIGNOPE", { -1 }, { -1 }, 3 }, /* not a status, not a signal */
        { "9 bad 15", { 9, 15, -1 }, { -1 }, 1 },  /* numbers are statuses, not signals */
        { "RTMIN+1", { -1 }, { 35, -1 }, 0 }, /* glibc's SIGRTMIN is 34 */
};

START_TEST(test_exit_status_sets) {
        for (size_t i = 0; i < ELEMENTSOF(exit_status_rows); i++) {
                _cleanup_(unit_freep) Unit *u = NULL;
                _cleanup_free_ char *text = NULL;
                const ExitStatusSet *x;
                unsigned n_status = 0, n_sig = 0;

                diags_clear();
                ck_assert_int_ge(asprintf(&text, "[Service]\nExecStart=/bin/true\n"
                                          "SuccessExitStatus=%s\n", exit_status_rows[i].value),
                                 0);
                ck_assert_int_eq(load("web.service", text, &u), 0);
                ck_assert_msg(n_diags == exit_status_rows[i].warnings, "row %zu: %zu warnings", i,
                              (size_t) n_diags);
                x = &service_config_exit_status(&u->service)->success;
                for (const int *v = exit_status_rows[i].statuses; *v >= 0; v++, n_status++)
                        ck_assert_msg(exit_status_set_test(x, CLD_EXITED, *v), "row %zu: %d", i,
                                      *v);
                for (const int *v = exit_status_rows[i].signals; *v >= 0; v++, n_sig++) {
                        ck_assert(exit_status_set_test(x, CLD_KILLED, *v));
                        ck_assert(exit_status_set_test(x, CLD_DUMPED, *v));
                }
                /* Nothing else is in it. */
                for (int v = 0, k = 0; v < 256; v++, k = 0) {
                        for (const int *w = exit_status_rows[i].statuses; *w >= 0; w++)
                                k += *w == v;
                        ck_assert_msg(exit_status_set_test(x, CLD_EXITED, v) == (k > 0),
                                      "row %zu: status %d", i, v);
                }
                ck_assert_int_eq(__builtin_popcountll(x->signals), n_sig);
                ck_assert_int_eq(exit_status_set_is_empty(x), n_status + n_sig == 0);
        }
}
END_TEST

/* Words add up over lines; an empty value empties the set; each key has its own set. */
START_TEST(test_exit_status_reset) {
        const ServiceExitStatus *x;
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load("web.service", "[Service]\nExecStart=/bin/true\n"
                                             "SuccessExitStatus=1\n"
                                             "SuccessExitStatus=\n"
                                             "SuccessExitStatus=2 SIGTERM\n"
                                             "SuccessExitStatus=3\n"
                                             "RestartPreventExitStatus=255\n"
                                             "RestartForceExitStatus=SIGABRT\n", &u),
                         0);
        ck_assert_uint_eq(n_diags, 0);
        x = service_config_exit_status(&u->service);
        ck_assert(!exit_status_set_test(&x->success, CLD_EXITED, 1));
        ck_assert(exit_status_set_test(&x->success, CLD_EXITED, 2));
        ck_assert(exit_status_set_test(&x->success, CLD_EXITED, 3));
        ck_assert(exit_status_set_test(&x->success, CLD_KILLED, SIGTERM));
        ck_assert(!exit_status_set_test(&x->success, CLD_EXITED, SIGTERM));
        ck_assert(exit_status_set_test(&x->restart_prevent, CLD_EXITED, 255));
        ck_assert(!exit_status_set_test(&x->restart_prevent, CLD_EXITED, 2));
        ck_assert(exit_status_set_test(&x->restart_force, CLD_DUMPED, SIGABRT));
        ck_assert(exit_status_set_is_empty(&x->restart_force) == false);
}
END_TEST

START_TEST(test_timeout_sec_sets_both) {
        _cleanup_(unit_freep) Unit *u = NULL;

        u = load_ok("web.service", "[Service]\nExecStart=/bin/x\nTimeoutSec=5\nTimeoutStopSec=7\n");
        ck_assert_uint_eq(u->service.timeout_start_usec, 5 * USEC_PER_SEC);
        ck_assert_uint_eq(u->service.timeout_stop_usec, 7 * USEC_PER_SEC);
}
END_TEST

START_TEST(test_template) {
        _cleanup_(unit_freep) Unit *u = NULL, *v = NULL;

        u = load_ok("echo@.service", "[Service]\nExecStart=/bin/cat\nStandardInput=socket\n");
        ck_assert(u->is_template);
        v = load_ok("echo@conn1.service", "[Service]\nExecStart=/bin/cat\n");
        ck_assert(!v->is_template);
}
END_TEST

START_TEST(test_wrong_section_for_type) {
        _cleanup_(unit_freep) Unit *u = NULL;

        ck_assert_int_eq(load("web.service", "[Socket]\nListenStream=80\n[Service]\n"
                                             "ExecStart=/bin/x\n", &u), 0);
        assert_diag(LOG_WARNING, "/test/main", 1, "'[Socket]'");
        ck_assert_uint_eq(n_diags, 1);
}
END_TEST

START_TEST(test_load_failures) {
        Unit *u = NULL;
        char *path;

        /* A main file that cannot be opened. */
        ck_assert_int_eq(unit_file_load("web.socket", "/nonexistent/berth/web.socket", NULL,
                                        collect, NULL, &u), UNIT_FILE_E_INVALID);
        assert_diag(LOG_ERR, "/nonexistent/berth/web.socket", 0, "Failed to open");
        ck_assert_ptr_null(u);

        /* Not a regular file: a directory and a FIFO (which must not block). */
        diags_clear();
        ck_assert_int_eq(unit_file_load("web.socket", tmpdir, NULL, collect, NULL, &u),
                         UNIT_FILE_E_INVALID);
        assert_diag(LOG_ERR, tmpdir, 0, "Not a regular file");

        diags_clear();
        ck_assert_int_ge(asprintf(&path, "%s/fifo.socket", tmpdir), 0);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        ck_assert_int_eq(unit_file_load("fifo.socket", path, NULL, collect, NULL, &u),
                         UNIT_FILE_E_INVALID);
        assert_diag(LOG_ERR, path, 0, "Not a regular file");
        free(path);

        /* No main file; a bad name. */
        diags_clear();
        ck_assert_int_eq(unit_file_load("web.socket", NULL, NULL, collect, NULL, &u),
                         UNIT_FILE_E_INVALID);
        ck_assert_uint_eq(count_level(LOG_ERR), 1);
        diags_clear();
        ck_assert_int_eq(load("web.timer", "[Timer]\n", &u), UNIT_FILE_E_INVALID);
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "Invalid unit name"));
}
END_TEST

START_TEST(test_load_files_with_dropins) {
        _cleanup_(unit_freep) Unit *u = NULL;
        char *main_path, *d1, *d2;
        char *dropins[3];

        main_path = write_file("web.socket", "[Socket]\nListenStream=80\nBacklog=1\n");
        d1 = write_file("10-a.conf", "[Socket]\nBacklog=2\nFrob=1\n");
        d2 = write_file("20-b.conf", "[Socket]\nListenStream=\nListenStream=81\n");
        dropins[0] = d1;
        dropins[1] = d2;
        dropins[2] = NULL;
        ck_assert_int_eq(unit_file_load("web.socket", main_path, dropins, collect, NULL, &u), 0);
        ck_assert_int_eq(u->socket.backlog, 2);
        ck_assert_uint_eq(u->socket.n_listens, 1);
        ck_assert_str_eq(LISTEN_TEXT(&u->socket.listens[0]), "81");
        ck_assert_str_eq(u->socket.listens[0].origin.file, d2);
        assert_diag(LOG_WARNING, d1, 3, "'Frob='");
        ck_assert_str_eq(unit_path(u), main_path);
        assert_argv(unit_extra(u)->dropins, (const char *const[]) { d1, d2, NULL });
        free(main_path);
        free(d1);
        free(d2);
}
END_TEST

/* ---- names and tables ---- */

START_TEST(test_unit_names) {
        static const struct {
                const char *name;
                UnitType type;
        } rows[] = {
                { "web.socket", UNIT_SOCKET },
                { "web.service", UNIT_SERVICE },
                { "echo@.service", UNIT_SERVICE },
                { "echo@inst.service", UNIT_SERVICE },
                { "a-b_c:d.e\\x2d.service", UNIT_SERVICE },
                { "x.timer", _UNIT_TYPE_INVALID },
                { ".socket", _UNIT_TYPE_INVALID },
                { "@.service", _UNIT_TYPE_INVALID },
                { "a@b@.service", _UNIT_TYPE_INVALID },
                { "echo@.socket", UNIT_SOCKET },
                { "echo@one.socket", UNIT_SOCKET },
                { "has space.service", _UNIT_TYPE_INVALID },
                { "slash/x.service", _UNIT_TYPE_INVALID },
                { "web", _UNIT_TYPE_INVALID },
                { "", _UNIT_TYPE_INVALID },
        };
        _cleanup_free_ char *longname = repeat('n', UNIT_NAME_MAX);

        for (size_t i = 0; i < ELEMENTSOF(rows); i++)
                ck_assert_msg(unit_name_to_type(rows[i].name) == rows[i].type, "%s", rows[i].name);
        ck_assert_int_eq(unit_name_to_type(NULL), _UNIT_TYPE_INVALID);
        memcpy(longname + UNIT_NAME_MAX - strlen(".socket"), ".socket", strlen(".socket"));
        ck_assert_int_eq(unit_name_to_type(longname), UNIT_SOCKET); /* exactly 255 */
        free(longname);
        longname = repeat('n', UNIT_NAME_MAX + 1);
        memcpy(longname + UNIT_NAME_MAX + 1 - strlen(".socket"), ".socket", strlen(".socket"));
        ck_assert_int_eq(unit_name_to_type(longname), _UNIT_TYPE_INVALID);
}
END_TEST

START_TEST(test_tables) {
        ck_assert_str_eq(unit_type_to_string(UNIT_SOCKET), "socket");
        ck_assert_str_eq(unit_type_to_string(UNIT_SERVICE), "service");
        ck_assert_ptr_null(unit_type_to_string(_UNIT_TYPE_MAX));
        ck_assert_str_eq(listen_type_to_string(LISTEN_SEQPACKET), "ListenSequentialPacket");
        for (int i = 0; i < _BIND_IPV6_ONLY_MAX; i++)
                ck_assert_int_eq(bind_ipv6_only_from_string(bind_ipv6_only_to_string(i)), i);
        for (int i = 0; i < _SERVICE_TYPE_MAX; i++)
                ck_assert_int_eq(service_type_from_string(service_type_to_string(i)), i);
        for (int i = 0; i < _SERVICE_RESTART_MAX; i++)
                ck_assert_int_eq(service_restart_from_string(service_restart_to_string(i)), i);
        for (int i = 0; i < _KILL_MODE_MAX; i++)
                ck_assert_int_eq(kill_mode_from_string(kill_mode_to_string(i)), i);
        for (int i = 0; i < _NOTIFY_ACCESS_MAX; i++)
                ck_assert_int_eq(notify_access_from_string(notify_access_to_string(i)), i);
        for (int i = 0; i < _HANDOVER_MAX; i++)
                ck_assert_int_eq(handover_from_string(handover_to_string(i)), i);
        ck_assert_str_eq(service_restart_to_string(SERVICE_RESTART_ON_ABNORMAL), "on-abnormal");
        ck_assert_str_eq(handover_to_string(HANDOVER_STOP_FIRST), "stop-first");
        ck_assert_int_eq(service_type_from_string("forking"), SERVICE_FORKING);
        ck_assert_int_eq(service_type_from_string("dbus"), SERVICE_DBUS);
        ck_assert_int_eq(service_type_from_string("idle"), _SERVICE_TYPE_INVALID);
        ck_assert_int_eq(handover_from_string(NULL), _HANDOVER_INVALID);
        ck_assert_ptr_null(kill_mode_to_string(-1));
}
END_TEST

static Suite *unit_file_suite(void) {
        Suite *s = suite_create("unit-file");
        TCase *tc;

        tc = tcase_create("never-cut");
        tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_long_line_10k);
        tcase_add_test(tc, test_long_line_10k_file);
        tcase_add_test(tc, test_line_over_1mib_is_error);
        tcase_add_test(tc, test_line_of_exactly_1mib_is_intact);
        tcase_add_test(tc, test_continued_line_over_1mib_is_error);
        tcase_add_test(tc, test_inih_traps);
        suite_add_tcase(s, tc);

        tc = tcase_create("lexing");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_exec_quoted_semicolon);
        tcase_add_test(tc, test_exec_lone_semicolon_refused);
        tcase_add_test(tc, test_hash_and_semicolon_in_values);
        tcase_add_test(tc, test_semicolon_value);
        tcase_add_test(tc, test_comment_lines);
        tcase_add_test(tc, test_continuation);
        tcase_add_test(tc, test_continuation_line_numbers);
        tcase_add_test(tc, test_escaped_backslash_is_not_continuation);
        tcase_add_test(tc, test_continuation_at_eof);
        tcase_add_test(tc, test_crlf_bom_and_blanks);
        tcase_add_test(tc, test_lexical_errors);
        tcase_add_test(tc, test_assignment_outside_section);
        tcase_add_test(tc, test_lexer_stream);
        tcase_add_test(tc, test_lexer_callback_error);
        tcase_add_test(tc, test_lexer_many_entries);
        tcase_add_test(tc, test_lexer_many_entries_in_order);
        suite_add_tcase(s, tc);

        tc = tcase_create("semantics");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_list_reset);
        tcase_add_test(tc, test_dropin_order);
        tcase_add_test(tc, test_dropin_reset);
        tcase_add_test(tc, test_unknown_key_warning);
        tcase_add_test(tc, test_unknown_section_warning);
        tcase_add_test(tc, test_bad_value_error);
        tcase_add_test(tc, test_unsupported_key_warning);
        tcase_add_test(tc, test_dependencies_warn);
        tcase_add_test(tc, test_socket_defaults);
        tcase_add_test(tc, test_socket_keys);
        tcase_add_test(tc, test_socket_accept);
        tcase_add_test(tc, test_socket_errors);
        tcase_add_test(tc, test_listen_types);
        tcase_add_test(tc, test_listen_types_reset);
        tcase_add_loop_test(tc, test_listen_types_errors, 0, ELEMENTSOF(listen_errors));
        tcase_add_test(tc, test_listen_types_unit_checks);
        tcase_add_test(tc, test_listen_cap);
        tcase_add_test(tc, test_scalar_reset);
        tcase_add_test(tc, test_key_groups);
        tcase_add_test(tc, test_service_defaults);
        tcase_add_test(tc, test_service_keys);
        tcase_add_test(tc, test_exec_prefixes);
        tcase_add_test(tc, test_exec_errors);
        tcase_add_test(tc, test_exec_start_count);
        tcase_add_test(tc, test_service_errors);
        tcase_add_test(tc, test_bind_shim);
        tcase_add_test(tc, test_word_list_bad_quoting);
        tcase_add_test(tc, test_messages_are_one_line);
        tcase_add_test(tc, test_exit_status_sets);
        tcase_add_test(tc, test_exit_status_reset);
        tcase_add_test(tc, test_environment_invalid_words);
        tcase_add_test(tc, test_ip_address_access);
        tcase_add_test(tc, test_timeout_sec_sets_both);
        tcase_add_test(tc, test_systemd_value_forms);
        tcase_add_test(tc, test_specifiers);
        tcase_add_test(tc, test_sandboxing_once);
        tcase_add_test(tc, test_template);
        tcase_add_test(tc, test_wrong_section_for_type);
        tcase_add_test(tc, test_unit_names);
        tcase_add_test(tc, test_tables);
        suite_add_tcase(s, tc);

        tc = tcase_create("files");
        tcase_add_checked_fixture(tc, tmp_setup, tmp_teardown);
        tcase_add_test(tc, test_load_failures);
        tcase_add_test(tc, test_load_files_with_dropins);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(unit_file_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
