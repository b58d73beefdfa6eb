/* strv: see strv.h. Appending counts the list each time: the lists berth builds are short
 * (argv, a unit's list keys, the names of failed units), capped where the user controls them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strv.h"

char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i])))
                        return strv_free(c);
        return c;
}

/* The n strings of l, each with its NUL, one after the other at out. */
static void strv_join_nul(char *const *l, size_t n, char *out) {
        for (size_t i = 0; i < n; i++) {
                size_t len = strlen(l[i]) + 1;

                memcpy(out, l[i], len);
                out += len;
        }
}

int strv_pack(char ***l) {
        size_t n = strv_length(*l), head = (n + 1) * sizeof(char *), len = 0;
        char scratch[4096], *block, *s;
        bool small;

        for (size_t i = 0; i < n; i++)
                len += strlen((*l)[i]) + 1;
        /* Strings that fit in scratch wait there, and the list goes before the block is made. */
        small = len <= sizeof scratch;
        if (small) {
                strv_join_nul(*l, n, scratch);
                *l = strv_free(*l);
        }
        block = malloc(head + len);
        if (!block) {
                *l = strv_free(*l);
                return -ENOMEM;
        }
        s = block + head;
        if (small)
                memcpy(s, scratch, len);
        else
                strv_join_nul(*l, n, s);
        strv_free(*l); /* NULL when small */

        char **c = (char **) block;

        for (size_t i = 0; i < n; i++) {
                c[i] = s;
                s += strlen(s) + 1;
        }
        c[n] = NULL;
        *l = c;
        return 0;
}

bool strv_contains(char *const *l, const char *s) {
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

bool strv_equal(char *const *a, char *const *b) {
        size_t n = strv_length(a);

        if (strv_length(b) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

int strv_consume(char ***l, char *s) {
        size_t n = strv_length(*l);
        char **t;

        if (!s)
                return -ENOMEM;
        t = reallocarray(*l, n + 2, sizeof(char *));
        if (!t) {
                free(s);
                return -ENOMEM;
        }
        t[n] = s;
        t[n + 1] = NULL;
        *l = t;
        return 0;
}

int strv_extend(char ***l, const char *s) {
        return strv_consume(l, strdup(s));
}

int strv_extend_unique(char ***l, const char *s) {
        return strv_contains(*l, s) ? 0 : strv_extend(l, s);
}

void strv_remove(char **l, const char *s) {
        char **w = l;

        if (!l)
                return;
        for (char **r = l; *r; r++) {
                if (streq(*r, s))
                        free(*r);
                else
                        *w++ = *r;
        }
        *w = NULL;
}
