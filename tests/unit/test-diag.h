/* Shared by the unit-loader tests: a diagnostics sink that keeps what the loaders report, and
 * temporary directory trees. Each test executable gets its own copy of the state. */
#pragma once

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/macro.h"

typedef struct Diag {
        int level;
        char *file;
        unsigned line;
        char *msg;
} Diag;

#define DIAGS_MAX 64
static Diag diags[DIAGS_MAX];
static size_t n_diags;

/* The UnitDiagFunc every test passes. */
static inline void collect(int level, const char *file, unsigned line, const char *msg,
                           void *userdata) {
        ck_assert(level == LOG_WARNING || level == LOG_ERR || level == LOG_DEBUG);
        ck_assert_ptr_nonnull(msg);
        /* House style: every warning says what berth does about it. */
        if (level == LOG_WARNING)
                ck_assert_msg(endswith(msg, ", ignoring"), "%s", msg);
        if (n_diags < DIAGS_MAX)
                diags[n_diags++] = (Diag) {
                        .level = level,
                        .file = file ? strdup(file) : NULL,
                        .line = line,
                        .msg = strdup(msg),
                };
}

static inline void diags_clear(void) {
        for (size_t i = 0; i < n_diags; i++) {
                free(diags[i].file);
                free(diags[i].msg);
        }
        n_diags = 0;
}

static inline size_t count_level(int level) {
        size_t n = 0;
        for (size_t i = 0; i < n_diags; i++)
                n += diags[i].level == level;
        return n;
}

/* The first diagnostic at level whose message contains piece. */
static inline const Diag *find_diag(int level, const char *piece) {
        for (size_t i = 0; i < n_diags; i++)
                if (diags[i].level == level && strstr(diags[i].msg, piece))
                        return &diags[i];
        return NULL;
}

static inline void dump_diags(void) {
        for (size_t i = 0; i < n_diags; i++)
                fprintf(stderr, "  diag %d %s:%u: %s\n", diags[i].level, strna(diags[i].file),
                        diags[i].line, diags[i].msg);
}

/* Asserts one diagnostic at level, file, line, containing piece. */
static inline void assert_diag(int level, const char *file, unsigned line, const char *piece) {
        const Diag *d = find_diag(level, piece);
        if (!d) {
                dump_diags();
                ck_abort_msg("no diagnostic at level %d containing '%s'", level, piece);
        }
        ck_assert_str_eq(strna(d->file), file);
        ck_assert_uint_eq(d->line, line);
}

/* ---- temporary trees ---- */

/* Makes /tmp/NAME-XXXXXX into buf (64 bytes). */
static inline void test_mkdtemp(char *buf, const char *name) {
        snprintf(buf, 64, "/tmp/%s-XXXXXX", name);
        ck_assert_ptr_nonnull(mkdtemp(buf));
}

static inline int test_rm_one(const char *path, const struct stat *st, int flag,
                              struct FTW *ftw) {
        return remove(path);
}

/* Removes dir and everything below it. */
static inline void test_rm_rf(const char *dir) {
        ck_assert_int_eq(nftw(dir, test_rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}
