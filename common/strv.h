/* strv: NULL-terminated arrays of malloc'ed strings, as systemd calls them. Each list owns its
 * strings; NULL is the empty list everywhere. strv_free(), strv_length(), STRV_FOREACH() and
 * _cleanup_strv_free_ are in macro.h, beside the other cleanup helpers; what builds and
 * searches lists is here. Pure: no logging, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/macro.h"

/* A deep copy of l: an empty list (not NULL) for NULL or empty. Returns NULL on OOM. */
char **strv_copy(char *const *l);
/* Replaces *l (NULL-terminated, owned) with a copy in one allocation, the pointers and then the
 * strings, made after *l is freed when it is small, so that it takes their room instead of
 * leaving them as holes in the heap. Free the result with free(), never strv_free(). For lists
 * kept long and never changed (a command's argv). Returns 0, or -ENOMEM (*l freed, NULL). */
int strv_pack(char ***l);

/* True when one of l's strings equals s. */
bool strv_contains(char *const *l, const char *s);
/* True when a and b hold equal strings in the same order (NULL and empty are equal). */
bool strv_equal(char *const *a, char *const *b);

/* True when s equals one of the following string literals: STR_IN_SET(state, "a", "b"). */
#define STR_IN_SET(s, ...)                                                                         \
        strv_contains((char *const *) (const char *const[]) { __VA_ARGS__, NULL }, s)

/* Appends a copy of s to *l (which may be NULL). Returns 0 or -ENOMEM; on failure *l is
 * unchanged (still a valid list). */
int strv_extend(char ***l, const char *s);

/* Appends s itself to *l, which takes it: also on failure, when s is freed. s NULL (a failed
 * strdup() passed straight in) gives -ENOMEM. Returns 0 or -ENOMEM. */
int strv_consume(char ***l, char *s);

/* strv_extend() unless *l already contains s. Returns 0 or -ENOMEM. */
int strv_extend_unique(char ***l, const char *s);
/* Removes (and frees) every entry equal to s; keeps the order of the rest. */
void strv_remove(char **l, const char *s);
