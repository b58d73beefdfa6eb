/* env-util: environment blocks ("NAME=value" string arrays) as services see them: parsing
 * EnvironmentFile= text, merging blocks, and systemd's ExecStart= variable expansion.
 * Pure: no logging, no I/O. Every function returns 0 (or a documented positive value) or a
 * negative errno; out-parameters are set only on success and are owned by the caller
 * (free with strv_free()). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* env_name_is_valid() ([A-Za-z_][A-Za-z0-9_]*, at most 255 bytes) lives in parse-util, which
 * unit-file shares; it is declared there so the library has one definition. */
#include "common/parse-util.h"

/* Caps on what an EnvironmentFile= may hold. */
#define ENV_FILE_SIZE_MAX (1024U * 1024U)
#define ENV_ENTRIES_MAX 4096U

/* Caps on the argv exec_expand() may produce: words, and bytes summed over all words (each
 * counted with its NUL). The kernel refuses more than this anyway (MAX_ARG_STRLEN, ARG_MAX). */
#define EXEC_EXPAND_ARGS_MAX 16384U
#define EXEC_EXPAND_BYTES_MAX (1024U * 1024U)

/* Room for any message env_file_parse() writes, plus the path. */
#define ENV_ERROR_MAX 512

/* Receives one warning of env_file_parse(), "PATH:LINE: ...", borrowed for the call. */
typedef void (*EnvWarnFunc)(const char *msg, void *userdata);

/* Parses the text of an EnvironmentFile= as systemd 252's load_env_file() and the
 * strv_env_clean_with_callback() that execute.c runs on its result:
 *   - "NAME=value" assignments, one per line; blanks around NAME and before the value are
 *     ignored, and so is trailing whitespace of an unquoted value; a carriage return ends a
 *     line as a newline does;
 *   - blank lines, and comments: '#' or ';' as the first non-blank character of a line;
 *   - 'single quotes' keep everything literally (newlines too);
 *   - "double quotes" keep everything but \" \\ \` \$ (unescaped) and backslash-newline
 *     (removed); other backslashes stay, as in the shell;
 *   - outside quotes, a backslash makes the next character literal, and a trailing backslash
 *     continues the value on the next line;
 *   - quotes are recognized at the start of the value and right after a closing quote, so
 *     "a" 'b' gives ab and x "y" gives x "y" (as systemd);
 *   - a quote still open at the end of the text takes the rest of the text (as systemd), with
 *     a warning.
 * Lines systemd skips are skipped, each with one warning through warn (which may be NULL):
 * a line without '=' (systemd skips it silently), an invalid name such as "1A" or "A B", and
 * shell's "export NAME=value" (systemd 252 has no "export": the name "export NAME" is
 * invalid). Text that is not UTF-8 fails the file, as in systemd: -EINVAL with
 * "PATH:LINE: ..." in err.
 * A name assigned twice keeps its first position and its last value.
 * text is NUL-terminated; path is only used in messages (NULL reads "<environment>"). Returns
 * 0 and the block in *ret_env (possibly empty, never NULL), -E2BIG when text exceeds
 * ENV_FILE_SIZE_MAX or holds more than ENV_ENTRIES_MAX names, -EINVAL as above, or -ENOMEM.
 * err may be NULL. */
int env_file_parse(const char *text, const char *path, EnvWarnFunc warn, void *userdata,
                   char ***ret_env, char *err, size_t errlen);

/* Returns a new block holding base and then overrides, where a later assignment of a name
 * replaces the earlier one in place: one entry per name, in order of first appearance.
 * Either input may be NULL. Entries are copied. Returns 0, -EINVAL when an entry has no '=' or
 * an empty name, or -ENOMEM. */
int env_merge(char *const *base, char *const *overrides, char ***ret);

/* The value of name in env (the last entry wins), or NULL. Borrowed from env. */
const char *env_get(char *const *env, const char *name);

/* systemd 252's ExecStart= expansion (replace_env_argv()) over an already split argv, with
 * values from env:
 *   - a word that starts with '$' but not with "${" or "$$" is one variable: "$NAME" (valid
 *     name) becomes the value split at whitespace into zero or more words (quotes in the value
 *     group, 'a b' "c d", and a backslash makes the next character literal, in quotes too; an
 *     open quote ends at the end, a trailing backslash goes); an unset or blank variable gives
 *     no word at all, and so does a word that is no valid name: "$A.x", "$A$B", "$1", "$";
 *   - elsewhere, "${" up to the first '}' is replaced by the value of what it encloses, as-is
 *     (unset, or not a name: empty), so "${A}x" is A's value then x;
 *   - "$$" is a literal '$';
 *   - anything else is kept as written: "a$NAME" (braceless inside a word), "${NAME:-x}" (a
 *     ':' before the '}'), an unclosed "${".
 * argv[0] is never split: "$NAME" there is replaced by the value as one word.
 * Returns 0 and a new argv in *ret_argv (caller frees), -E2BIG past EXEC_EXPAND_ARGS_MAX words
 * or EXEC_EXPAND_BYTES_MAX bytes, or -ENOMEM. */
int exec_expand(char *const *argv, char *const *env, char ***ret_argv);
