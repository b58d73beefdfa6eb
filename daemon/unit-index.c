/* unit-index: see unit-index.h. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "daemon/unit-index.h"

typedef struct Pair {
        char *service;
        Unit *socket;
} Pair;

static int pair_cmp(const void *a, const void *b) {
        const Pair *x = a, *y = b;
        int c = strcmp(x->service, y->service);
        return c != 0 ? c : strcmp(x->socket->name, y->socket->name);
}

int unit_index_build(UnitIndex *x, Unit *const *units, size_t n) {
        _cleanup_free_ Pair *pairs = calloc(n + 1, sizeof *pairs);
        size_t k = 0, room = 0, used = 0;

        *x = (UnitIndex) {};
        if (!pairs)
                return -ENOMEM;
        /* The names in one block: made one by one, they would leave a hole in the heap for
         * each once the index goes. */
        for (size_t i = 0; i < n; i++)
                if (units[i]->type == UNIT_SOCKET) {
                        const char *service = socket_config_options(&units[i]->socket)->service;

                        room += strlen(service ?: units[i]->name) + sizeof("@.service");
                }
        x->names = malloc(room + 1);
        if (!x->names)
                goto oom;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *name = NULL;
                size_t len;

                if (units[i]->type != UNIT_SOCKET)
                        continue;
                name = unit_socket_service_name(units[i]);
                if (!name)
                        goto oom;
                len = strlen(name) + 1;
                assert(used + len <= room);
                pairs[k].socket = units[i];
                pairs[k].service = memcpy(x->names + used, name, len);
                used += len;
                k++;
        }
        qsort(pairs, k, sizeof *pairs, pair_cmp);
        x->services = calloc(k + 1, sizeof(char *));
        x->sockets = calloc(k + 1, sizeof(Unit *));
        if (!x->services || !x->sockets)
                goto oom;
        for (size_t i = 0; i < k; i++) {
                x->services[i] = pairs[i].service;
                x->sockets[i] = pairs[i].socket;
        }
        x->n = k;
        return 0;
oom:
        unit_index_done(x);
        return -ENOMEM;
}

size_t unit_index_activators(const UnitIndex *x, const char *service, Unit *const **ret) {
        size_t lo = 0, hi = x ? x->n : 0;

        /* The first entry not below service. */
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (strcmp(x->services[mid], service) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        size_t end = lo;
        while (x && end < x->n && streq(x->services[end], service))
                end++;
        *ret = end > lo ? &x->sockets[lo] : NULL;
        return end - lo;
}

void unit_index_done(UnitIndex *x) {
        free(x->names);
        free(x->services);
        free(x->sockets);
        *x = (UnitIndex) {};
}

int unit_items_build(UnitItems *g, const void *items, size_t n, UnitOfFunc unit_of) {
        *g = (UnitItems) {};
        g->next = calloc(n + 1, sizeof(size_t));
        if (!g->next || strmap_reserve(&g->head, n) < 0)
                goto oom;
        /* Backwards, so that each unit's list ends up in item order. */
        for (size_t i = n; i > 0; i--) {
                const char *name = unit_of(items, i - 1)->name;
                g->next[i - 1] = (size_t) (uintptr_t) strmap_get(&g->head, name);
                if (strmap_put(&g->head, name, (void *) (uintptr_t) i) < 0)
                        goto oom;
        }
        return 0;
oom:
        unit_items_done(g);
        return -ENOMEM;
}

size_t unit_items_first(const UnitItems *g, const Unit *u) {
        size_t i = (size_t) (uintptr_t) strmap_get(&g->head, u->name);
        return i > 0 ? i - 1 : SIZE_MAX;
}

size_t unit_items_next(const UnitItems *g, size_t i) {
        return g->next[i] > 0 ? g->next[i] - 1 : SIZE_MAX;
}

void unit_items_done(UnitItems *g) {
        strmap_done(&g->head);
        free(g->next);
        *g = (UnitItems) {};
}
