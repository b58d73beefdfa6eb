/* Tests for common/parse-util.c: one table per parser (input, expected return, expected value),
 * as systemd's table-driven parser tests. */
#include <check.h>
#include <limits.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/parse-util.h"

START_TEST(test_parse_boolean) {
        static const struct {
                const char *in;
                int ret;
                bool value;
        } rows[] = {
                { "1", 0, true },      { "yes", 0, true },   { "y", 0, true },
                { "true", 0, true },   { "t", 0, true },     { "on", 0, true },
                { "YES", 0, true },    { "True", 0, true },  { "ON", 0, true },
                { "0", 0, false },     { "no", 0, false },   { "n", 0, false },
                { "false", 0, false }, { "f", 0, false },    { "off", 0, false },
                { "NO", 0, false },    { "Off", 0, false },
                { "", -EINVAL },       { "maybe", -EINVAL }, { "2", -EINVAL },
                { " yes", -EINVAL },   { "yes ", -EINVAL },  { "yess", -EINVAL },
                { "enable", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                bool b = !rows[i].value;
                int r = parse_boolean(rows[i].in, &b);
                ck_assert_msg(r == rows[i].ret, "'%s': %d", rows[i].in, r);
                if (r == 0)
                        ck_assert_msg(b == rows[i].value, "'%s'", rows[i].in);
                else
                        ck_assert_msg(b == !rows[i].value, "'%s' changed the output", rows[i].in);
        }
}
END_TEST

START_TEST(test_parse_sec) {
        static const struct {
                const char *in;
                int ret;
                usec_t value;
        } rows[] = {
                { "0", 0, 0 },
                { "5", 0, 5 * USEC_PER_SEC },
                { "5s", 0, 5 * USEC_PER_SEC },
                { "5 s", 0, 5 * USEC_PER_SEC },
                { " 5s ", 0, 5 * USEC_PER_SEC },
                { "5sec", 0, 5 * USEC_PER_SEC },
                { "5seconds", 0, 5 * USEC_PER_SEC },
                { "500ms", 0, 500 * USEC_PER_MSEC },
                { "500msec", 0, 500 * USEC_PER_MSEC },
                { "7us", 0, 7 },
                { "7usec", 0, 7 },
                { "7\xc2\xb5s", 0, 7 },
                { "1min", 0, USEC_PER_MINUTE },
                { "2m", 0, 2 * USEC_PER_MINUTE },
                { "1min 30s", 0, 90 * USEC_PER_SEC },
                { "1min30s", 0, 90 * USEC_PER_SEC },
                { "2h", 0, 2 * USEC_PER_HOUR },
                { "1hr", 0, USEC_PER_HOUR },
                { "1d", 0, USEC_PER_DAY },
                { "1w", 0, 7 * USEC_PER_DAY },
                { "1d 2h 3min 4s 5ms 6us", 0,
                  USEC_PER_DAY + 2 * USEC_PER_HOUR + 3 * USEC_PER_MINUTE + 4 * USEC_PER_SEC +
                          5 * USEC_PER_MSEC + 6 },
                { "1.5s", 0, 1500 * USEC_PER_MSEC },
                { "0.5", 0, 500 * USEC_PER_MSEC },
                { ".5s", 0, 500 * USEC_PER_MSEC },
                { "1.25min", 0, 75 * USEC_PER_SEC },
                { "0.000001s", 0, 1 },
                { "1M", 0, 2629800ULL * USEC_PER_SEC },
                { "1y", 0, 31557600ULL * USEC_PER_SEC },
                { "infinity", 0, USEC_INFINITY },
                { " infinity ", 0, USEC_INFINITY },
                { "", -EINVAL },
                { " ", -EINVAL },
                { "s", -EINVAL },
                { "us", -EINVAL },
                { "5x", -EINVAL },
                { "5 parsecs", -EINVAL },
                { "5sx", -EINVAL },
                { "1.2.3", -EINVAL },
                { "3.", -EINVAL },
                { "3.s", -EINVAL },
                { ".", -EINVAL },
                { "-5s", -ERANGE },
                { "5s -1s", -ERANGE },
                { "infinity 5s", -EINVAL },
                { "18446744073709551615us", -ERANGE }, /* that is USEC_INFINITY */
                { "18446744073709551616", -ERANGE },
                { "100000000000000000000s", -ERANGE },
                { "600000y", -ERANGE },
                { "18446744073709551614us 1us", -ERANGE },
                { "18446744073709551614us", 0, 18446744073709551614ULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                usec_t t = 4242;
                int r = parse_sec(rows[i].in, &t);
                ck_assert_msg(r == rows[i].ret, "'%s': %d", rows[i].in, r);
                ck_assert_msg(t == (r == 0 ? rows[i].value : 4242), "'%s': %llu", rows[i].in,
                              (unsigned long long) t);
        }
}
END_TEST

START_TEST(test_parse_size) {
        static const struct {
                const char *in;
                int ret;
                uint64_t value;
        } rows[] = {
                { "0", 0, 0 },
                { "4096", 0, 4096 },
                { "1K", 0, 1024 },
                { "1k", 0, 1024 },
                { "64K", 0, 65536 },
                { "4M", 0, 4 << 20 },
                { "2G", 0, 2ULL << 30 },
                { "1T", 0, 1ULL << 40 },
                { "1P", 0, 1ULL << 50 },
                { "1E", 0, 1ULL << 60 },
                { "1.5K", 0, 1536 },
                { "0.5M", 0, 512 << 10 },
                { "1G 512M", 0, (1ULL << 30) + (512ULL << 20) },
                { "12B", 0, 12 },
                { "4 K", 0, 4096 },
                { "", -EINVAL },
                { "K", -EINVAL },
                { "4KB", -EINVAL },
                { "4X", -EINVAL },
                { "-1", -ERANGE },
                { "16E", -ERANGE },
                { "18446744073709551616", -ERANGE },
                { "1.", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uint64_t v = 4242;
                int r = parse_size(rows[i].in, &v);
                ck_assert_msg(r == rows[i].ret, "'%s': %d", rows[i].in, r);
                ck_assert_msg(v == (r == 0 ? rows[i].value : 4242), "'%s': %llu", rows[i].in,
                              (unsigned long long) v);
        }
}
END_TEST

START_TEST(test_parse_unsigned) {
        static const struct {
                const char *in;
                int ret;
                unsigned value;
        } rows[] = {
                { "0", 0, 0 },           { "42", 0, 42 },        { "007", 0, 7 },
                { "4294967295", 0, 4294967295U },
                { "4294967296", -ERANGE }, { "99999999999999999999999", -ERANGE },
                { "", -EINVAL },         { "-1", -EINVAL },      { "+1", -EINVAL },
                { " 1", -EINVAL },       { "1 ", -EINVAL },      { "0x10", -EINVAL },
                { "1e3", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                unsigned v = 4242;
                int r = parse_unsigned(rows[i].in, &v);
                ck_assert_msg(r == rows[i].ret, "'%s': %d", rows[i].in, r);
                ck_assert_msg(v == (r == 0 ? rows[i].value : 4242), "'%s'", rows[i].in);
        }
}
END_TEST

START_TEST(test_parse_mode) {
        static const struct {
                const char *in;
                int ret;
                mode_t value;
        } rows[] = {
                { "0", 0, 0 },        { "644", 0, 0644 },   { "0644", 0, 0644 },
                { "0666", 0, 0666 },  { "7777", 0, 07777 }, { "07777", 0, 07777 },
                { "00000600", 0, 0600 },
                { "17777", -ERANGE }, { "8", -EINVAL },     { "0o644", -EINVAL },
                { "", -EINVAL },      { "-1", -EINVAL },   { "rw", -EINVAL },
                { "644 ", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                mode_t m = 01;
                int r = parse_mode(rows[i].in, &m);
                ck_assert_msg(r == rows[i].ret, "'%s': %d", rows[i].in, r);
                ck_assert_msg(m == (r == 0 ? rows[i].value : 01), "'%s': %o", rows[i].in, m);
        }
}
END_TEST

START_TEST(test_parse_signal) {
        const struct {
                const char *in;
                int ret;
                int value;
        } rows[] = {
                { "SIGTERM", 0, SIGTERM },  { "TERM", 0, SIGTERM },   { "SIGKILL", 0, SIGKILL },
                { "HUP", 0, SIGHUP },       { "SIGUSR1", 0, SIGUSR1 }, { "USR2", 0, SIGUSR2 },
                { "SIGINT", 0, SIGINT },    { "WINCH", 0, SIGWINCH }, { "SIGIOT", 0, SIGABRT },
                { "15", 0, 15 },            { "1", 0, 1 },            { "64", 0, 64 },
                { "SIGRTMIN", 0, SIGRTMIN }, { "RTMIN+2", 0, SIGRTMIN + 2 },
                { "SIGRTMAX", 0, SIGRTMAX }, { "RTMAX-1", 0, SIGRTMAX - 1 },
                { "0", -ERANGE },           { "65", -ERANGE },        { "", -EINVAL },
                { "sigterm", -EINVAL },     { "term", -EINVAL },      { "SIGFOO", -EINVAL },
                { "SIG", -EINVAL },         { "RTMIN-1", -EINVAL },   { "RTMAX+1", -EINVAL },
                { "RTMIN+99", -EINVAL },    { "-15", -EINVAL },       { "SIG15", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int sig = -1;
                int r = parse_signal(rows[i].in, &sig);
                ck_assert_msg(r == rows[i].ret, "'%s': %d", rows[i].in, r);
                ck_assert_msg(sig == (r == 0 ? rows[i].value : -1), "'%s': %d", rows[i].in, sig);
        }
        ck_assert_str_eq(signal_to_string(SIGTERM), "SIGTERM");
        ck_assert_str_eq(signal_to_string(SIGKILL), "SIGKILL");
        ck_assert_ptr_null(signal_to_string(0));
        ck_assert_ptr_null(signal_to_string(200));
        /* Every name round-trips. */
        for (int s = 1; s < 32; s++) {
                const char *n = signal_to_string(s);
                int back = 0;
                if (!n)
                        continue;
                ck_assert_int_eq(parse_signal(n, &back), 0);
                ck_assert_int_eq(back, s);
        }
}
END_TEST

START_TEST(test_parse_rlimit) {
        static const struct {
                const char *in;
                int ret;
                uint64_t soft, hard;
        } rows[] = {
                { "1024", 0, 1024, 1024 },
                { "1024:4096", 0, 1024, 4096 },
                { "infinity", 0, UINT64_MAX, UINT64_MAX },
                { "1024:infinity", 0, 1024, UINT64_MAX },
                { "infinity:infinity", 0, UINT64_MAX, UINT64_MAX },
                { "0", 0, 0, 0 },
                { "4096:1024", -EINVAL },
                { "infinity:5", -EINVAL },
                { "", -EINVAL },
                { ":", -EINVAL },
                { "1:", -EINVAL },
                { ":1", -EINVAL },
                { "1:2:3", -EINVAL },
                { "lots", -EINVAL },
                { "-1", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                uint64_t soft = 7, hard = 7;
                int r = parse_rlimit(rows[i].in, &soft, &hard);
                ck_assert_msg(r == rows[i].ret, "'%s': %d", rows[i].in, r);
                if (r == 0) {
                        ck_assert_msg(soft == rows[i].soft && hard == rows[i].hard, "'%s'",
                                      rows[i].in);
                } else
                        ck_assert(soft == 7 && hard == 7);
        }
}
END_TEST

#define W(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* Splits all of in; returns the final return code (0 at a clean end). */
static int split_all(const char *in, ExtractFlags flags, char ***ret) {
        const char *p = in;
        char **words = calloc(1, sizeof(char *));
        size_t n = 0;

        ck_assert_ptr_nonnull(words);
        for (;;) {
                char *w = (char *) 0x1;
                int r = extract_word(&p, &w, flags);
                if (r != 1) {
                        ck_assert_ptr_null(w == (char *) 0x1 ? NULL : w);
                        *ret = words;
                        return r;
                }
                words = reallocarray(words, n + 2, sizeof(char *));
                ck_assert_ptr_nonnull(words);
                words[n++] = w;
                words[n] = NULL;
        }
}

START_TEST(test_extract_word) {
        const struct {
                const char *in;
                ExtractFlags flags;
                int ret;                  /* after the words */
                const char *const *words; /* the words before ret */
        } rows[] = {
                { "", 0, 0, W(NULL) },
                { "   \t ", 0, 0, W(NULL) },
                { "a", 0, 0, W("a") },
                { "  a  b\tc  ", 0, 0, W("a", "b", "c") },
                { "\"a b\" c", 0, 0, W("a b", "c") },
                { "'a b' c", 0, 0, W("a b", "c") },
                { "a\"b c\"d", 0, 0, W("ab cd") },
                { "\"\" x", 0, 0, W("", "x") },
                { "''", 0, 0, W("") },
                { "\"it's\"", 0, 0, W("it's") },
                { "'say \"hi\"'", 0, 0, W("say \"hi\"") },
                /* Only cunescape_one()'s escapes: "\\ " is a bad one, as in systemd. */
                { "a\\ b", 0, -EINVAL, W(NULL) },
                { "x \\;", 0, -EINVAL, W("x") },
                { "\"a\\\"b\"", 0, 0, W("a\"b") },
                { "'a\\'b'", 0, 0, W("a'b") },
                { "\\n\\t\\\\", 0, 0, W("\n\t\\") },
                { "\"x\\ny\"", 0, 0, W("x\ny") },
                { "\\x41\\x62", 0, 0, W("Ab") },
                { "\\101", 0, 0, W("A") },
                { "\\u00e9", 0, 0, W("\xc3\xa9") },
                { "\\U0001F600", 0, 0, W("\xf0\x9f\x98\x80") },
                { "\\s", 0, 0, W(" ") },
                { "$VAR ${VAR} $$", 0, 0, W("$VAR", "${VAR}", "$$") },
                { "a ; b", 0, 0, W("a", ";", "b") },
                { "a ; b", EXTRACT_SEPARATOR, EXTRACT_WORD_SEPARATOR, W("a") },
                { ";", EXTRACT_SEPARATOR, EXTRACT_WORD_SEPARATOR, W(NULL) },
                { "a \\; b", EXTRACT_SEPARATOR, 0, W("a", ";", "b") },
                { "a \";\" b", EXTRACT_SEPARATOR, 0, W("a", ";", "b") },
                { "a ';' b", EXTRACT_SEPARATOR, 0, W("a", ";", "b") },
                { "a;b ;x x;", EXTRACT_SEPARATOR, 0, W("a;b", ";x", "x;") },
                { "echo \"a ; b\"", EXTRACT_SEPARATOR, 0, W("echo", "a ; b") },
                { "\"open", 0, -EINVAL, W(NULL) },
                { "ok 'open", 0, -EINVAL, W("ok") },
                { "trailing\\", 0, -EINVAL, W(NULL) },
                { "\\q", 0, -EINVAL, W(NULL) },
                { "\\x00", 0, -EINVAL, W(NULL) },
                { "\\x4", 0, -EINVAL, W(NULL) },
                { "\\000", 0, -EINVAL, W(NULL) },
                { "\\400", 0, -EINVAL, W(NULL) },
                { "\\u0000", 0, -EINVAL, W(NULL) },
                { "\\ud800", 0, -EINVAL, W(NULL) },
                { "\\U00110000", 0, -EINVAL, W(NULL) },
                /* EXTRACT_UNESCAPE_RELAX: bad escapes kept as written (systemd's retry). */
                { "e\\ f g", EXTRACT_UNESCAPE_RELAX, 0, W("e\\ f", "g") },
                { "\\q \\x4 \\d+", EXTRACT_UNESCAPE_RELAX, 0, W("\\q", "\\x4", "\\d+") },
                { "\\x00 a\\;b", EXTRACT_UNESCAPE_RELAX, 0, W("\\x00", "a\\;b") },
                { "'a\\ b' \\n", EXTRACT_UNESCAPE_RELAX, 0, W("a\\ b", "\n") },
                { "trailing\\", EXTRACT_UNESCAPE_RELAX, 0, W("trailing\\") },
                { "\"open\\", EXTRACT_UNESCAPE_RELAX, -EINVAL, W(NULL) },
                { "\"open", EXTRACT_UNESCAPE_RELAX, -EINVAL, W(NULL) },
                /* A lone "\\;" with EXTRACT_SEPARATOR is the word ";", nothing else is. */
                { "a \\;", EXTRACT_SEPARATOR, 0, W("a", ";") },
                { "\\;x", EXTRACT_SEPARATOR, -EINVAL, W(NULL) },
                { "\\;x", EXTRACT_SEPARATOR | EXTRACT_UNESCAPE_RELAX, 0, W("\\;x") },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char **words = NULL;
                size_t n = 0;
                int r = split_all(rows[i].in, rows[i].flags, &words);

                ck_assert_msg(r == rows[i].ret, "'%s': %d", rows[i].in, r);
                for (; rows[i].words[n]; n++) {
                        ck_assert_msg(words[n] != NULL, "'%s': too few words", rows[i].in);
                        ck_assert_msg(streq(words[n], rows[i].words[n]), "'%s': word %zu is '%s'",
                                      rows[i].in, n, words[n]);
                }
                ck_assert_msg(words[n] == NULL, "'%s': too many words", rows[i].in);
                strv_free(words);
        }
}
END_TEST

START_TEST(test_names) {
        ck_assert(env_name_is_valid("A"));
        ck_assert(env_name_is_valid("_x1"));
        ck_assert(env_name_is_valid("PATH"));
        ck_assert(!env_name_is_valid(""));
        ck_assert(!env_name_is_valid("1A"));
        ck_assert(!env_name_is_valid("A-B"));
        ck_assert(!env_name_is_valid("A B"));
        ck_assert(!env_name_is_valid("\xc3\xa9"));
        ck_assert(!env_name_is_valid(NULL));

        ck_assert(user_group_name_is_valid("root"));
        ck_assert(user_group_name_is_valid("www-data"));
        ck_assert(user_group_name_is_valid("first.last"));
        ck_assert(user_group_name_is_valid("0"));
        ck_assert(user_group_name_is_valid("65534"));
        ck_assert(user_group_name_is_valid("4294967294"));
        ck_assert(!user_group_name_is_valid("4294967295"));
        ck_assert(!user_group_name_is_valid(""));
        ck_assert(!user_group_name_is_valid("-x"));
        ck_assert(!user_group_name_is_valid("a:b"));
        ck_assert(!user_group_name_is_valid("a b"));
        ck_assert(!user_group_name_is_valid("a/b"));
        ck_assert(!user_group_name_is_valid(".."));

        ck_assert(utf8_is_valid("plain"));
        ck_assert(utf8_is_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
        ck_assert(!utf8_is_valid("\xff"));
        ck_assert(!utf8_is_valid("\xc3"));
        ck_assert(!utf8_is_valid("\xc0\xaf"));         /* overlong */
        ck_assert(!utf8_is_valid("\xed\xa0\x80"));     /* surrogate */
        ck_assert(!utf8_is_valid("\xf4\x90\x80\x80")); /* above U+10FFFF */

        ck_assert(path_is_absolute("/x"));
        ck_assert(!path_is_absolute("x"));
        ck_assert(!path_is_absolute(NULL));
}
END_TEST

START_TEST(test_parse_absolute_path) {
        static const struct {
                const char *in, *out; /* out NULL: -EINVAL */
        } rows[] = {
                { "/run/x", "/run/x" },
                { "//run///x//", "/run/x" },
                { "/run/./x/.", "/run/x" },
                { "/./run", "/run" },
                { "/run/.x/..y", "/run/.x/..y" },
                { "/run/../x", NULL },
                { "/..", NULL },
                { "/", NULL },
                { "//./", NULL },
                { "run/x", NULL },
                { "", NULL },
                { "./x", NULL },
        };
        _cleanup_free_ char *toolong = malloc(PATH_MAX + 1);

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char *p = (char *) 0x1;
                int r = parse_absolute_path(rows[i].in, &p);

                if (!rows[i].out) {
                        ck_assert_msg(r == -EINVAL, "%s: %d", rows[i].in, r);
                        ck_assert_ptr_eq(p, (char *) 0x1); /* untouched */
                        continue;
                }
                ck_assert_msg(r == 0, "%s: %d", rows[i].in, r);
                ck_assert_str_eq(p, rows[i].out);
                free(p);
        }
        ck_assert_ptr_nonnull(toolong);
        memset(toolong, 'a', PATH_MAX);
        toolong[0] = '/';
        toolong[PATH_MAX] = '\0';
        ck_assert_int_eq(parse_absolute_path(toolong, &(char *) { NULL }), -EINVAL);
        ck_assert_int_eq(parse_absolute_path(NULL, &(char *) { NULL }), -EINVAL);
}
END_TEST

START_TEST(test_message_quote) {
        static const struct {
                const char *in;
                size_t max;
                const char *out;
        } rows[] = {
                { "plain", 80, "plain" },
                { "", 80, "" },
                { "a\nb\tc\x1b[0m\x7f", 80, "a\\nb\\tc\\x1b[0m\\x7f" },
                { "abcdef", 3, "abc..." },
                { "abc", 3, "abc" },
                /* Cut before a multi-byte character, never inside it. */
                { "ab\xc3\xa9z", 3, "ab..." },
                { "ab\xc3\xa9z", 4, "ab\xc3\xa9..." },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                char buf[MESSAGE_QUOTE_SIZE(80)];
                ck_assert_str_eq(message_quote(rows[i].in, rows[i].max, buf, sizeof buf),
                                 rows[i].out);
        }
}
END_TEST

static Suite *parse_util_suite(void) {
        Suite *s = suite_create("parse-util");
        TCase *tc = tcase_create("tables");

        tcase_add_test(tc, test_parse_boolean);
        tcase_add_test(tc, test_parse_sec);
        tcase_add_test(tc, test_parse_size);
        tcase_add_test(tc, test_parse_unsigned);
        tcase_add_test(tc, test_parse_mode);
        tcase_add_test(tc, test_parse_signal);
        tcase_add_test(tc, test_parse_rlimit);
        tcase_add_test(tc, test_extract_word);
        tcase_add_test(tc, test_names);
        tcase_add_test(tc, test_parse_absolute_path);
        tcase_add_test(tc, test_message_quote);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(parse_util_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
