/* strmap: see strmap.h. One open-addressing table serves both key kinds: strings by content,
 * pointers by identity. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strmap.h"

uint64_t strmap_hash(const char *s) {
        uint64_t h = UINT64_C(14695981039346656037);

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= UINT64_C(1099511628211);
        }
        return h;
}

static uint64_t ptr_hash(const void *p) {
        uint64_t h = (uint64_t) (uintptr_t) p;

        /* A 64-bit finaliser: the low bits of heap pointers are mostly equal. */
        h ^= h >> 33;
        h *= UINT64_C(0xff51afd7ed558ccd);
        h ^= h >> 33;
        return h;
}

static size_t key_home(const char *key, bool by_ptr, size_t mask) {
        return (size_t) (by_ptr ? ptr_hash(key) : strmap_hash(key)) & mask;
}

static bool key_eq(const char *a, const char *b, bool by_ptr) {
        return by_ptr ? a == b : streq(a, b);
}

/* The slot of key, or the empty slot where it would go. n_slots > 0. */
static size_t slot_of(const StrMapEntry *slots, size_t n_slots, const char *key, bool by_ptr) {
        size_t mask = n_slots - 1, i = key_home(key, by_ptr, mask);

        while (slots[i].key && !key_eq(slots[i].key, key, by_ptr))
                i = (i + 1) & mask;
        return i;
}

static int map_resize(StrMap *m, size_t n_slots, bool by_ptr) {
        StrMapEntry *slots = calloc(n_slots, sizeof *slots);

        if (!slots)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_slots; i++)
                if (m->slots[i].key)
                        slots[slot_of(slots, n_slots, m->slots[i].key, by_ptr)] = m->slots[i];
        free(m->slots);
        m->slots = slots;
        m->n_slots = n_slots;
        return 0;
}

static int map_reserve(StrMap *m, size_t n, bool by_ptr) {
        size_t want = 16;

        while (want < SIZE_MAX / 4 && 3 * want < 4 * n)
                want *= 2;
        return want > m->n_slots ? map_resize(m, want, by_ptr) : 0;
}

static int map_put(StrMap *m, const char *key, void *value, bool by_ptr) {
        int r;

        if (4 * (m->n + 1) > 3 * m->n_slots) {
                r = map_reserve(m, m->n + 1, by_ptr);
                if (r < 0)
                        return r;
        }
        size_t i = slot_of(m->slots, m->n_slots, key, by_ptr);
        if (!m->slots[i].key)
                m->n++;
        m->slots[i] = (StrMapEntry) { .key = key, .value = value };
        return 0;
}

static const StrMapEntry *map_find(const StrMap *m, const char *key, bool by_ptr) {
        if (m->n == 0)
                return NULL;
        const StrMapEntry *e = &m->slots[slot_of(m->slots, m->n_slots, key, by_ptr)];
        return e->key ? e : NULL;
}

int strmap_reserve(StrMap *m, size_t n) {
        return map_reserve(m, n, false);
}

int strmap_put(StrMap *m, const char *key, void *value) {
        return map_put(m, key, value, false);
}

void *strmap_get(const StrMap *m, const char *key) {
        const StrMapEntry *e = map_find(m, key, false);
        return e ? e->value : NULL;
}

bool strmap_contains(const StrMap *m, const char *key) {
        return map_find(m, key, false) != NULL;
}

void *strmap_remove(StrMap *m, const char *key) {
        const StrMapEntry *e = map_find(m, key, false);
        if (!e)
                return NULL;
        size_t mask = m->n_slots - 1, i = (size_t) (e - m->slots);
        void *value = e->value;

        m->slots[i] = (StrMapEntry) {};
        m->n--;
        /* Move back every entry of the chain after i that may not stay behind the hole. */
        for (size_t j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
                size_t home = key_home(m->slots[j].key, false, mask);
                /* It may stay when its home lies cyclically in (i, j]. */
                if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                        continue;
                m->slots[i] = m->slots[j];
                m->slots[j] = (StrMapEntry) {};
                i = j;
        }
        return value;
}

void strmap_done(StrMap *m) {
        free(m->slots);
        *m = (StrMap) {};
}

int ptrmap_put(PtrMap *m, const void *key, void *value) {
        return map_put(&m->map, key, value, true);
}

void *ptrmap_get(const PtrMap *m, const void *key) {
        const StrMapEntry *e = map_find(&m->map, key, true);
        return e ? e->value : NULL;
}

bool ptrmap_contains(const PtrMap *m, const void *key) {
        return map_find(&m->map, key, true) != NULL;
}

int ptrmap_reserve(PtrMap *m, size_t n) {
        return map_reserve(&m->map, n, true);
}

void ptrmap_done(PtrMap *m) {
        strmap_done(&m->map);
}
