/* strpool: see strpool.h. */
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strpool.h"

struct StrPoolBlock {
        StrPoolBlock *next;
        size_t used, size;
        char data[];
};

/* Room for n bytes in p: in its current block, else in a new one. */
static char *strpool_alloc(StrPool *p, size_t n) {
        StrPoolBlock *b = p->head;

        if (!b || b->size - b->used < n) {
                size_t size = MAX(n, (size_t) STRPOOL_BLOCK_SIZE - sizeof(StrPoolBlock));

                b = malloc(sizeof(StrPoolBlock) + size);
                if (!b)
                        return NULL;
                *b = (StrPoolBlock) { .size = size };
                /* A string that fills a block of its own leaves the current one in front. */
                if (p->head && n > STRPOOL_BLOCK_SIZE / 2) {
                        b->next = p->head->next;
                        p->head->next = b;
                } else {
                        b->next = p->head;
                        p->head = b;
                }
        }
        b->used += n;
        return b->data + b->used - n;
}

char *strpool_dupn(StrPool *p, const char *s, size_t n) {
        char *d;

        if (n == SIZE_MAX)
                return NULL;
        d = strpool_alloc(p, n + 1);
        if (!d)
                return NULL;
        memcpy(d, s, n);
        d[n] = '\0';
        return d;
}

char *strpool_dup(StrPool *p, const char *s) {
        return strpool_dupn(p, s, strlen(s));
}

void strpool_done(StrPool *p) {
        while (p->head) {
                StrPoolBlock *b = p->head;

                p->head = b->next;
                free(b);
        }
}
