/* Tests for common/env-util.c: tables for exec_expand() (systemd.service(5)'s documented
 * examples first), env_file_parse() (quotes, continuations, comments, errors with path:line)
 * and env_merge(). Expected string arrays are written joined by '\n'. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/env-util.h"
#include "common/macro.h"

#define STRV(...) ((char *const *) (const char *const[]) { __VA_ARGS__, NULL })

/* Joins l with '\n' ("" for an empty list). Caller frees. */
static char *join_lines(char *const *l) {
        size_t len = 1;
        char *s, *p;

        for (size_t i = 0; l && l[i]; i++)
                len += strlen(l[i]) + 1;
        p = s = calloc(1, len);
        ck_assert_ptr_nonnull(s);
        for (size_t i = 0; l && l[i]; i++)
                p += sprintf(p, "%s%s", i ? "\n" : "", l[i]);
        return s;
}

/* ---- exec_expand ---- */

typedef struct ExpandRow {
        const char *argv[12];
        const char *env[8];
        int ret;
        const char *expect; /* on success: the argv joined by '\n' */
} ExpandRow;

static const ExpandRow expand_rows[] = {
        /* systemd.service(5), "Command lines": Environment="ONE=one" 'TWO=two two' */
        { { "echo", "$ONE", "$TWO", "${TWO}" }, { "ONE=one", "TWO=two two" }, 0,
          "echo\none\ntwo\ntwo\ntwo two" },
        /* Environment=ONE='one' "TWO='two two' too" THREE= */
        { { "/bin/echo", "${ONE}", "${TWO}", "${THREE}" },
          { "ONE=one", "TWO='two two' too", "THREE=" }, 0,
          "/bin/echo\none\n'two two' too\n" },
        { { "/bin/echo", "$ONE", "$TWO", "$THREE" },
          { "ONE=one", "TWO='two two' too", "THREE=" }, 0,
          "/bin/echo\none\ntwo two\ntoo" },
        /* "$$" is a literal dollar. */
        { { "sh", "-c", "echo $$HOME $${X}" }, { "HOME=/root" }, 0, "sh\n-c\necho $HOME ${X}" },
        { { "a", "$$" }, {}, 0, "a\n$" },
        { { "a", "$$$$" }, {}, 0, "a\n$$" },
        /* ${VAR} inside a word, as is; unset is empty. */
        { { "cmd", "--port=${PORT}", "x${A}y${B}z" }, { "PORT=80 81", "A=1" }, 0,
          "cmd\n--port=80 81\nx1yz" },
        { { "cmd", "${UNSET}" }, {}, 0, "cmd\n" },
        /* $VAR alone: split, zero words when unset or blank. */
        { { "cmd", "$UNSET", "end" }, {}, 0, "cmd\nend" },
        { { "cmd", "$BLANK", "end" }, { "BLANK= \t " }, 0, "cmd\nend" },
        { { "cmd", "$V" }, { "V=  a\tb\n c  " }, 0, "cmd\na\nb\nc" },
        { { "cmd", "$V" }, { "V=a\\ b \"c d\"e 'f \"g' \"\"" }, 0, "cmd\na b\nc de\nf \"g\n" },
        { { "cmd", "$V" }, { "V='unterminated quote" }, 0, "cmd\nunterminated quote" },
        /* EXTRACT_RELAX: a trailing backslash goes; a backslash escapes in quotes too. */
        { { "cmd", "$V" }, { "V=trailing\\" }, 0, "cmd\ntrailing" },
        { { "cmd", "$V" }, { "V='a\\'b' \"c\\\"d\"" }, 0, "cmd\na'b\nc\"d" },
        /* The last assignment wins. */
        { { "cmd", "$V", "${V}" }, { "V=1", "V=2" }, 0, "cmd\n2\n2" },
        /* Kept as written: braceless inside a word, "${A:-x}", an unclosed "${". */
        { { "cmd", "a$ONE", "${ONE:-x}", "${", "x$", "a$$b$" }, { "ONE=one" }, 0,
          "cmd\na$ONE\n${ONE:-x}\n${\nx$\na$b$" },
        { { "cmd", "${ONE}${ONE", "${ONE}}" }, { "ONE=one" }, 0, "cmd\none${ONE\none}" },
        /* systemd 252's replace_env_argv() table (issue 11, item 15b). A word that starts
         * with '$' (not "${" or "$$") is one variable: no word when it is not a valid name. */
        { { "cmd", "$A$B", "$A.x", "$", "$1", "$-x", "end" }, { "A=a", "B=b" }, 0, "cmd\nend" },
        /* ${...} inside a word: substituted, what follows stays. */
        { { "cmd", "${A}x", "${A}$B", "${A}.${B}", "x${A}" }, { "A=a b", "B=b" }, 0,
          "cmd\na bx\na b$B\na b.b\nxa b" },
        /* ${...} that is not a name: looked up all the same, so empty. */
        { { "cmd", "<${}>", "<${bad name}>", "<${A${B}}>" }, { "A=a", "B=b" }, 0,
          "cmd\n<>\n<>\n<}>" },
        /* A ':' leaves "${...:" as written and reads on after it. */
        { { "cmd", "${A:-x}${B}", "${A:}" }, { "A=a", "B=b" }, 0, "cmd\n${A:-x}b\n${A:}" },
        /* argv[0] is never split. */
        { { "$PROG", "$PROG" }, { "PROG=/bin/my prog" }, 0, "/bin/my prog\n/bin/my\nprog" },
        { { "$UNSET", "x" }, {}, 0, "\nx" },
        { { "${PROG}" }, { "PROG=/bin/true" }, 0, "/bin/true" },
        /* Nothing in, nothing out. */
        { {}, { "A=1" }, 0, "" },
};

START_TEST(test_expand_row) {
        const ExpandRow *row = &expand_rows[_i];
        _cleanup_strv_free_ char **out = NULL;
        _cleanup_free_ char *joined = NULL;
        int r;

        r = exec_expand((char *const *) row->argv, (char *const *) row->env, &out);
        ck_assert_msg(r == row->ret, "row %d: got %d, expected %d", _i, r, row->ret);
        if (r < 0)
                return;
        ck_assert_ptr_nonnull(out);
        joined = join_lines(out);
        ck_assert_msg(streq(joined, row->expect), "row %d: got\n%s\nexpected\n%s", _i, joined,
                      row->expect);
}
END_TEST

START_TEST(test_expand_caps) {
        _cleanup_free_ char *words = NULL, *big = NULL;
        _cleanup_strv_free_ char **out = NULL;
        char *const argv[] = { (char *) "cmd", (char *) "$W", NULL };
        char *const argv_big[] = { (char *) "cmd", (char *) "${B}", (char *) "${B}", NULL };
        char *env[2] = { NULL, NULL };
        size_t n = EXEC_EXPAND_ARGS_MAX + 1;

        /* One word too many. */
        words = malloc(strlen("W=") + 2 * n + 1);
        ck_assert_ptr_nonnull(words);
        {
                char *q = stpcpy(words, "W=");

                for (size_t i = 0; i < n; i++)
                        q = stpcpy(q, "x ");
        }
        env[0] = words;
        ck_assert_int_eq(exec_expand(argv, env, &out), -E2BIG);
        ck_assert_ptr_null(out);

        /* Exactly the cap: accepted (cmd plus n - 2 words). */
        words[2 + 2 * (n - 2)] = '\0';
        ck_assert_int_eq(exec_expand(argv, env, &out), 0);
        ck_assert_uint_eq(strv_length(out), EXEC_EXPAND_ARGS_MAX);
        out = strv_free(out);

        /* Too many bytes: two copies of a value just over half the cap. */
        big = malloc(EXEC_EXPAND_BYTES_MAX / 2 + 16);
        ck_assert_ptr_nonnull(big);
        memset(big, 'b', EXEC_EXPAND_BYTES_MAX / 2 + 15);
        memcpy(big, "B=", 2);
        big[EXEC_EXPAND_BYTES_MAX / 2 + 15] = '\0';
        env[0] = big;
        ck_assert_int_eq(exec_expand(argv_big, env, &out), -E2BIG);
        ck_assert_ptr_null(out);
}
END_TEST

/* ---- env_file_parse ---- */

typedef struct FileRow {
        const char *text;
        int ret;
        const char *expect;   /* on success: the block joined by '\n'; else the exact message */
        const char *warnings; /* the warnings joined by '\n' ("" for none) */
} FileRow;

#define NAME_RULE "(allowed: letters, digits and '_', not starting with a digit), ignoring"

static const FileRow file_rows[] = {
        { "", 0, "", "" },
        { "\n\n  \n", 0, "", "" },
        { "A=1\nB=2\n", 0, "A=1\nB=2", "" },
        { "A=1", 0, "A=1", "" },
        { "A=", 0, "A=", "" },
        { "A=\nB=x", 0, "A=\nB=x", "" },
        /* Comments only at the start of a line; blanks around names and values. */
        { "# comment\n; another\n  # indented\nA=1 # not a comment\nB=x;y", 0,
          "A=1 # not a comment\nB=x;y", "" },
        { "  A = spaced value  \t\n", 0, "A=spaced value", "" },
        { "\tA\t=\tv", 0, "A=v", "" },
        /* Single quotes: literal, newlines too. */
        { "A='x y  '\nB='a\\nb\\'", 0, "A=x y  \nB=a\\nb\\", "" },
        { "A='multi\nline'\nB=2", 0, "A=multi\nline\nB=2", "" },
        /* Double quotes: \" \\ \` \$ unescaped, others kept, backslash-newline removed. */
        { "A=\"say \\\"hi\\\" \\\\ \\` \\$HOME \\n \\x\"", 0, "A=say \"hi\" \\ ` $HOME \\n \\x",
          "" },
        { "A=\"line1 \\\nline2\"", 0, "A=line1 line2", "" },
        { "A=\"a\nb\"", 0, "A=a\nb", "" },
        { "A=\"\"", 0, "A=", "" },
        /* Quotes only at the start of the value or right after a closing quote. */
        { "A=\"a\" 'b'  \"c\"", 0, "A=abc", "" },
        { "A=x \"y\" 'z'", 0, "A=x \"y\" 'z'", "" },
        { "A=\"x\"y z", 0, "A=xy z", "" },
        { "A=\\\"q\\\"", 0, "A=\"q\"", "" },
        /* Outside quotes: backslash escapes and continues. */
        { "A=a\\\nb\nB=c", 0, "A=ab\nB=c", "" },
        { "A=one \\\n  two", 0, "A=one   two", "" },
        { "A=\\ x\\ ", 0, "A= x ", "" },
        { "A=x\\", 0, "A=x", "" },
        { "A=x \\", 0, "A=x ", "" },
        /* A comment never continues, backslash or not (systemd >= 254). */
        { "# comment \\\nA=1", 0, "A=1", "" },
        /* CRLF line ends; a lone CR ends a line too, as systemd's NEWLINE. */
        { "A=1\r\nB=\"2\"\r\n", 0, "A=1\nB=2", "" },
        { "A=1\rB=2\r# c\rC=3", 0, "A=1\nB=2\nC=3", "" },
        { "A=x\\\r\nB=1", 0, "A=x\nB=1", "" },
        /* One entry per name: first position, last value. */
        { "A=1\nB=2\nA=3", 0, "A=3\nB=2", "" },
        { "_x9=ok\nlower=yes", 0, "_x9=ok\nlower=yes", "" },
        { "U=h\xc3\xa9llo", 0, "U=h\xc3\xa9llo", "" },
        { "A=a=b=c", 0, "A=a=b=c", "" },
        /* "export" alone is a fine name. */
        { "export=1", 0, "export=1", "" },

        /* Lines systemd skips: skipped, with one warning each naming path:line. */
        { "1A=x\nB=1", 0, "B=1", "/etc/app.env:1: invalid variable name \"1A\" " NAME_RULE },
        { "A=1\n\n# c\nB-C=2", 0, "A=1",
          "/etc/app.env:4: invalid variable name \"B-C\" " NAME_RULE },
        { "A B=1", 0, "", "/etc/app.env:1: invalid variable name \"A B\" " NAME_RULE },
        { "BAD LINE\nA=1\nFOO\n", 0, "A=1",
          "/etc/app.env:1: expected NAME=value, got \"BAD LINE\", ignoring\n"
          "/etc/app.env:3: expected NAME=value, got \"FOO\", ignoring" },
        /* The first character is part of the name, '=' or not (systemd's PRE_KEY). */
        { "=1\nA=2", 0, "A=2", "/etc/app.env:1: expected NAME=value, got \"=1\", ignoring" },
        { "==1", 0, "", "/etc/app.env:1: invalid variable name \"=\" " NAME_RULE },
        { "export A=1\nB=2", 0, "B=2",
          "/etc/app.env:1: \"export\" is shell syntax, not supported in environment files "
          "(write \"A=...\"), ignoring" },
        { "A=1\nexport\tB=\"x\ny\"\r\nC=3", 0, "A=1\nC=3",
          "/etc/app.env:2: \"export\" is shell syntax, not supported in environment files "
          "(write \"B=...\"), ignoring" },
        { "export 1B=2", 0, "", "/etc/app.env:1: invalid variable name \"export 1B\" " NAME_RULE },
        /* A bad line's quoted value is skipped whole, and lines still count. */
        { "A='a\nb'\nB C=1\nD=4", 0, "A=a\nb\nD=4",
          "/etc/app.env:3: invalid variable name \"B C\" " NAME_RULE },
        { "X Y=\"a\\\nb\"\nB C=1", 0, "",
          "/etc/app.env:1: invalid variable name \"X Y\" " NAME_RULE "\n"
          "/etc/app.env:3: invalid variable name \"B C\" " NAME_RULE },
        { "A=x\\\ny\nB C=1", 0, "A=xy", "/etc/app.env:3: invalid variable name \"B C\" " NAME_RULE },
        /* A quote open at the end takes the rest of the file, as systemd. */
        { "B=1\nA='open\nC=2", 0, "B=1\nA=open\nC=2",
          "/etc/app.env:2: unterminated quote in the value of \"A\", taking the rest of the "
          "file" },
        { "A=\"open\\", 0, "A=open",
          "/etc/app.env:1: unterminated quote in the value of \"A\", taking the rest of the "
          "file" },

        /* Not UTF-8: the file fails, as in systemd. */
        { "A=\xff", -EINVAL, "/etc/app.env:1: the value of A is not valid UTF-8", "" },
        { "B=1\n\xff=1", -EINVAL, "/etc/app.env:2: a variable name is not valid UTF-8", "" },
};

typedef struct Warnings {
        char buf[2048];
        size_t n;
} Warnings;

static void collect_warning(const char *msg, void *userdata) {
        Warnings *w = userdata;

        w->n += (size_t) snprintf(w->buf + w->n, sizeof w->buf - w->n, "%s%s", w->n ? "\n" : "",
                                  msg);
        ck_assert_uint_lt(w->n, sizeof w->buf);
}

START_TEST(test_file_row) {
        const FileRow *row = &file_rows[_i];
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *joined = NULL;
        char err[ENV_ERROR_MAX] = "";
        Warnings w = {};
        int r;

        r = env_file_parse(row->text, "/etc/app.env", collect_warning, &w, &env, err,
                           sizeof err);
        ck_assert_msg(r == row->ret, "row %d: got %d (%s), expected %d", _i, r, err, row->ret);
        ck_assert_msg(streq(w.buf, row->warnings), "row %d: warnings\n%s\nexpected\n%s", _i,
                      w.buf, row->warnings);
        if (r < 0) {
                ck_assert_ptr_null(env);
                ck_assert_msg(streq(err, row->expect), "row %d: got\n%s\nexpected\n%s", _i, err,
                              row->expect);
                return;
        }
        ck_assert_ptr_nonnull(env);
        joined = join_lines(env);
        ck_assert_msg(streq(joined, row->expect), "row %d: got\n%s\nexpected\n%s", _i, joined,
                      row->expect);
}
END_TEST

START_TEST(test_file_caps) {
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_ char **env = NULL;
        char err[ENV_ERROR_MAX];
        size_t len = 0;

        /* Over the size cap. */
        text = malloc(ENV_FILE_SIZE_MAX + 2);
        ck_assert_ptr_nonnull(text);
        memset(text, '#', ENV_FILE_SIZE_MAX + 1);
        text[ENV_FILE_SIZE_MAX + 1] = '\0';
        ck_assert_int_eq(env_file_parse(text, "/big.env", NULL, NULL, &env, err, sizeof err), -E2BIG);
        ck_assert_str_eq(err, "/big.env: file is larger than 1048576 bytes");
        /* At the cap: a comment, fine. */
        text[ENV_FILE_SIZE_MAX] = '\0';
        ck_assert_int_eq(env_file_parse(text, "/big.env", NULL, NULL, &env, err, sizeof err), 0);
        ck_assert_uint_eq(strv_length(env), 0);
        env = strv_free(env);

        /* Exactly ENV_ENTRIES_MAX names, then one more; repeating a name costs nothing. */
        for (unsigned i = 0; i < ENV_ENTRIES_MAX; i++)
                len += (size_t) sprintf(text + len, "V%u=%u\n", i, i);
        len += (size_t) sprintf(text + len, "V0=again\n");
        ck_assert_int_eq(env_file_parse(text, "/many.env", NULL, NULL, &env, err, sizeof err), 0);
        ck_assert_uint_eq(strv_length(env), ENV_ENTRIES_MAX);
        ck_assert_str_eq(env[0], "V0=again");
        env = strv_free(env);
        sprintf(text + len, "EXTRA=1\n");
        ck_assert_int_eq(env_file_parse(text, "/many.env", NULL, NULL, &env, err, sizeof err), -E2BIG);
        ck_assert_str_eq(err, "/many.env:4098: more than 4096 variables");
        ck_assert_ptr_null(env);
}
END_TEST

START_TEST(test_file_path_and_err) {
        _cleanup_strv_free_ char **env = NULL;
        char err[ENV_ERROR_MAX];
        Warnings w = {};
        char tiny[8];

        ck_assert_int_eq(env_file_parse("1=x", NULL, collect_warning, &w, &env, err, sizeof err),
                         0);
        ck_assert_ptr_nonnull(strstr(w.buf, "<environment>:1: invalid variable name"));
        env = strv_free(env);
        /* Without a warn function: still skipped. */
        ck_assert_int_eq(env_file_parse("1=x\nA=1", "/p", NULL, NULL, &env, NULL, 0), 0);
        ck_assert_str_eq(env[0], "A=1");
        ck_assert_ptr_null(env[1]);
        env = strv_free(env);
        /* err may be NULL or small: still the right code, and a terminated string. */
        ck_assert_int_eq(env_file_parse("A=\xff", "/p", NULL, NULL, &env, NULL, 0), -EINVAL);
        ck_assert_int_eq(env_file_parse("A=\xff", "/p", NULL, NULL, &env, tiny, sizeof tiny),
                         -EINVAL);
        ck_assert_str_eq(tiny, "/p:1: t");
        ck_assert_ptr_null(env);
}
END_TEST

/* ---- env_merge, env_get, env_name_is_valid ---- */

START_TEST(test_merge) {
        _cleanup_strv_free_ char **out = NULL;
        _cleanup_free_ char *joined = NULL;

        ck_assert_int_eq(env_merge(STRV("A=1", "B=2", "A=3", "PATH=/bin"),
                                   STRV("C=4", "B=5", "AB=6", "B=7"), &out), 0);
        joined = join_lines(out);
        ck_assert_str_eq(joined, "A=3\nB=7\nPATH=/bin\nC=4\nAB=6");
        out = strv_free(out);

        ck_assert_int_eq(env_merge(NULL, NULL, &out), 0);
        ck_assert_ptr_nonnull(out);
        ck_assert_ptr_null(out[0]);
        out = strv_free(out);

        ck_assert_int_eq(env_merge(STRV("A=1"), NULL, &out), 0);
        ck_assert_str_eq(out[0], "A=1");
        ck_assert_ptr_null(out[1]);
        out = strv_free(out);

        ck_assert_int_eq(env_merge(NULL, STRV("A="), &out), 0);
        ck_assert_str_eq(out[0], "A=");
        out = strv_free(out);

        ck_assert_int_eq(env_merge(STRV("A=1"), STRV("NOEQUALS"), &out), -EINVAL);
        ck_assert_ptr_null(out);
        ck_assert_int_eq(env_merge(STRV("=1"), NULL, &out), -EINVAL);
        ck_assert_ptr_null(out);
}
END_TEST

START_TEST(test_get) {
        char *const env[] = { (char *) "AB=1", (char *) "A=2", (char *) "A=3", (char *) "E=",
                              NULL };

        ck_assert_str_eq(env_get(env, "A"), "3");
        ck_assert_str_eq(env_get(env, "AB"), "1");
        ck_assert_str_eq(env_get(env, "E"), "");
        ck_assert_ptr_null(env_get(env, "ABC"));
        ck_assert_ptr_null(env_get(env, "B"));
        ck_assert_ptr_null(env_get(NULL, "A"));
}
END_TEST

START_TEST(test_name_is_valid) {
        char long_name[300];

        ck_assert(env_name_is_valid("A"));
        ck_assert(env_name_is_valid("_"));
        ck_assert(env_name_is_valid("a_B9"));
        ck_assert(!env_name_is_valid(""));
        ck_assert(!env_name_is_valid("9A"));
        ck_assert(!env_name_is_valid("A-B"));
        ck_assert(!env_name_is_valid("A B"));
        ck_assert(!env_name_is_valid("A=B"));
        ck_assert(!env_name_is_valid("\xc3\xa9"));
        ck_assert(!env_name_is_valid(NULL));
        memset(long_name, 'A', sizeof long_name);
        long_name[255] = '\0';
        ck_assert(env_name_is_valid(long_name));
        long_name[255] = 'A';
        long_name[256] = '\0';
        ck_assert(!env_name_is_valid(long_name));
}
END_TEST

static Suite *env_util_suite(void) {
        Suite *s = suite_create("env-util");
        TCase *tc;

        tc = tcase_create("exec-expand");
        tcase_add_loop_test(tc, test_expand_row, 0, (int) ELEMENTSOF(expand_rows));
        tcase_add_test(tc, test_expand_caps);
        suite_add_tcase(s, tc);

        tc = tcase_create("env-file");
        tcase_add_loop_test(tc, test_file_row, 0, (int) ELEMENTSOF(file_rows));
        tcase_add_test(tc, test_file_caps);
        tcase_add_test(tc, test_file_path_and_err);
        suite_add_tcase(s, tc);

        tc = tcase_create("env");
        tcase_add_test(tc, test_merge);
        tcase_add_test(tc, test_get);
        tcase_add_test(tc, test_name_is_valid);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(env_util_suite());
        int failures;

        srunner_run_all(sr, CK_NORMAL);
        failures = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
