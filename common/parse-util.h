/* parse-util: pure parsers for the value syntaxes systemd's unit files use (booleans, time
 * spans, sizes, modes, signals, resource limits) and its word splitting with quoting.
 * Pure: no logging, no I/O. Each parser returns 0 and sets its out-parameter, or returns
 * -EINVAL (malformed) or -ERANGE (well-formed but out of range); out-parameters are set only on
 * success. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/macro.h"

/* 1, yes, y, true, t, on / 0, no, n, false, f, off; case-insensitive. */
int parse_boolean(const char *s, bool *ret);

/* A time span as systemd.time(7) writes it: "5" (seconds), "5s", "500ms", "1min 30s", "1min30s",
 * "1.5h", "2 d", "infinity" (USEC_INFINITY). Units: us/usec/µs, ms/msec, s/sec/second(s),
 * m/min/minute(s), h/hr/hour(s), d/day(s), w/week(s), M/month(s), y/year(s). Negative numbers and
 * sums that overflow give -ERANGE. */
int parse_sec(const char *s, usec_t *ret);

/* Bytes: "4096", "64K", "1.5M", "2G", "1T" (1024-based; K, M, G, T, P, E, either case, and an
 * optional B for bytes); components add up ("1G 512M"). */
int parse_size(const char *s, uint64_t *ret);

/* The value of a hex digit, or -EINVAL. */
int unhex(char c);

/* Decimal, digits only (no sign, no blanks). */
int parse_unsigned(const char *s, unsigned *ret);
int parse_uint64(const char *s, uint64_t *ret);

/* Octal file mode, at most 07777 ("0644", "644"). */
int parse_mode(const char *s, mode_t *ret);

/* A signal: "SIGTERM", "TERM", "SIGRTMIN+3", "RTMAX-1", or a number 1..64 (case-sensitive,
 * as systemd). */
int parse_signal(const char *s, int *ret);
/* "SIGTERM"-style name of a signal (without number fallback), or NULL. */
const char *signal_to_string(int sig);

/* A resource limit: "N", "N:M" (soft:hard, soft <= hard) or "infinity" in either place;
 * infinity is UINT64_MAX. A single value sets both. */
int parse_rlimit(const char *s, uint64_t *ret_soft, uint64_t *ret_hard);

/* Word splitting as systemd's extract_first_word(EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE):
 * words are separated by blanks; double and single quotes group (and may start or end mid-word:
 * a"b c"d is one word); backslash escapes \a \b \f \n \r \t \v \\ \" \' \s \xNN \NNN (octal)
 * \uXXXX \UXXXXXXXX are decoded inside and outside quotes (systemd's cunescape_one(): nothing
 * else, so "\ " and "\;" are bad escapes). $VAR and ${VAR} are left as written.
 * With EXTRACT_UNESCAPE_RELAX (systemd's retry in extract_first_word_and_warn()), a bad escape
 * is kept as written, backslash and all, and so is a trailing backslash outside quotes.
 * With EXTRACT_SEPARATOR, a lone "\;" is the word ";" (systemd's config_parse_exec()).
 * Returns 1 and a malloc'ed word in *ret (advancing *p), 0 at the end of the input (*ret is set
 * to NULL), EXTRACT_WORD_SEPARATOR when flags has EXTRACT_SEPARATOR and the word is a lone,
 * unquoted, unescaped ';' (systemd's command separator; *ret is NULL), -EINVAL on an unfinished
 * quote, a trailing backslash or a bad escape (including ones decoding to NUL), or -ENOMEM. On
 * failure *p is left where it was. */
typedef enum ExtractFlags {
        EXTRACT_SEPARATOR = 1 << 0,
        EXTRACT_UNESCAPE_RELAX = 1 << 1,
} ExtractFlags;
#define EXTRACT_WORD_SEPARATOR 2
int extract_word(const char **p, char **ret, ExtractFlags flags);

/* Copies s into buf for quoting in a one-line message: at most max bytes of it, cut at a UTF-8
 * character boundary and marked with "..." when cut; control characters are written as \n,
 * \t, \xNN, so a message never spans lines or carries terminal escapes. buf must hold
 * MESSAGE_QUOTE_SIZE(max) bytes. Returns buf. */
#define MESSAGE_QUOTE_SIZE(max) (4 * (max) + 4)
const char *message_quote(const char *s, size_t max, char *buf, size_t size);

/* Name checks. */
bool env_name_is_valid(const char *s);           /* [A-Za-z_][A-Za-z0-9_]*, at most 255 bytes */
bool user_group_name_is_valid(const char *s);    /* a user/group name or a numeric id */
bool path_is_absolute(const char *s);
/* An absolute path as systemd reads a path in a unit (path_simplify_and_warn() with
 * PATH_CHECK_ABSOLUTE): runs of "/" become one, "." components and a trailing "/" go; a ".."
 * component, a relative path, "/" itself and a path of PATH_MAX bytes or more are -EINVAL.
 * Returns 0 and the simplified copy in *ret (malloc'ed), -EINVAL, or -ENOMEM. */
int parse_absolute_path(const char *s, char **ret);
bool utf8_is_valid(const char *s);
