/* strpool: strings that are made and freed together (the paths of a list of unit files),
 * packed one after the other into large blocks. They go in one free per block, and leave no
 * hole in the heap between the objects that stay when they go: a string freed on its own
 * between two live objects is room malloc keeps but can seldom use again. Strings never move.
 * Pure: no I/O. */
#pragma once

#include <stddef.h>

#define STRPOOL_BLOCK_SIZE (64 * 1024) /* bytes per block; a longer string gets its own */

typedef struct StrPoolBlock StrPoolBlock;

typedef struct StrPool {
        StrPoolBlock *head; /* the block strings are added to; the older ones follow it */
} StrPool;

/* A copy of the n bytes at s, NUL-terminated, in p. Returns it, or NULL on allocation
 * failure. */
char *strpool_dupn(StrPool *p, const char *s, size_t n);
/* A copy of s in p, or NULL on allocation failure. */
char *strpool_dup(StrPool *p, const char *s);
/* Frees every string of p; p is empty after, and may be used again. */
void strpool_done(StrPool *p);
