/* string-table: the name tables of enums (STYLE: every enum has foo_to_string() and
 * foo_from_string()). A table is an array of names indexed by the enum's values; a gap (NULL)
 * is a value without a name. Pure. */
#pragma once

#include <errno.h>
#include <stddef.h>

#include "common/macro.h"

/* table[i], or NULL when i is outside the n entries. */
static inline const char *string_table_get(const char *const *table, size_t n, int i) {
        return i >= 0 && (size_t) i < n ? table[i] : NULL;
}

/* The index of s in the n entries of table, or -EINVAL (also for s NULL). */
static inline int string_table_find(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

/* Defines name##_table from the designated initializers that follow, and
 * const char *name##_to_string(type v) on it. */
#define DEFINE_STRING_TABLE(name, type, ...)                                                       \
        static const char *const name##_table[] = { __VA_ARGS__ };                                 \
        const char *name##_to_string(type v) {                                                     \
                return string_table_get(name##_table, ELEMENTSOF(name##_table), (int) v);          \
        }

/* Defines type name##_from_string(const char *s) on name##_table: the value, or -EINVAL. */
#define DEFINE_STRING_TABLE_FROM_STRING(name, type)                                                \
        type name##_from_string(const char *s) {                                                   \
                int i = string_table_find(name##_table, ELEMENTSOF(name##_table), s);              \
                return i < 0 ? (type) -EINVAL : (type) i;                                          \
        }
