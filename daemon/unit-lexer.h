/* unit-lexer: systemd's unit-file lexing on top of libinih (SPEC §1).
 *
 * libinih is the parser, but its own line handling (a 200-byte line buffer in Debian's build,
 * " ;" inline comments, indented lines as continuations) does not match systemd's rules and
 * could cut a value silently. So the lexer's ini_reader does the real work on the physical
 * lines: it strips a UTF-8 BOM, skips '#' and ';' comment lines (also inside a continuation),
 * joins lines ending in an unescaped backslash (the backslash becomes a space), trims the key
 * and value, and checks lengths, section names and keys. It keeps each section header and
 * assignment in a side table with the number of the line it starts on, and hands libinih only
 * a short synthetic line that libinih cannot mangle: "[N]" for a section and "a=N" for an
 * assignment, N being the entry's index in the table. The ini_handler looks the entry up by
 * index and checks that every entry arrives exactly once and in order, so nothing is ever
 * dropped, cut or reordered without an error.
 *
 * Pure: no logging. Problems go to the caller's UnitDiagFunc with the file and the original
 * line number. */
#pragma once

#include <stdio.h>

#include "daemon/unit-file.h"

#define UNIT_LEXER_KEY_MAX 128          /* bytes in a key */
#define UNIT_LEXER_SECTION_MAX 128      /* bytes in a section name */
#define UNIT_LEXER_FILE_MAX (16U << 20) /* bytes in one file */

/* Called for each section header (key and value NULL) and each assignment, in file order.
 * section is the name without brackets. line is the number of the physical line the logical
 * line starts on (1-based). The strings are valid for the call only. Return 0 to go on, or a
 * negative errno to stop parsing (unit_lexer_parse() then returns it). Assignments before the
 * first section header are not passed on: the lexer warns about them. */
typedef int (*UnitLexerFunc)(const char *section, const char *key, const char *value,
                             unsigned line, void *userdata);

/* Lexes one file: from f (borrowed, read to its end) when text is NULL, else from the
 * NUL-terminated text. path names the file in diagnostics. Every lexical problem is reported
 * through diag (may be NULL) with path and line, and lexing goes on to report the rest.
 * Returns 0 when the file lexed cleanly; UNIT_FILE_E_INVALID when an error was reported (the
 * callback was still called for every good line); or a negative errno: -ENOMEM, -EIO on a read
 * error, a negative value returned by fn, or -EBADMSG if libinih did not hand every entry
 * back exactly once (it cannot with the synthetic lines; the check makes sure). */
int unit_lexer_parse(const char *path, FILE *f, const char *text, UnitLexerFunc fn,
                     UnitDiagFunc diag, void *userdata);
