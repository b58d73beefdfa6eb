/* strmap: a hash table from strings to pointers, for the lookups by name that must not cost a
 * walk over every unit (SPEC §8: load, link, check, plan and reload cost about N). Keys are
 * borrowed: each must outlive its entry and not change while in the table. Open addressing
 * with linear probing, grown at three quarters full (a slot is 16 bytes, and berthd keeps a
 * few tables over all its units); removal keeps probe chains intact by shifting. Pure: no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct StrMapEntry {
        const char *key; /* NULL: empty slot */
        void *value;
} StrMapEntry;

typedef struct StrMap {
        StrMapEntry *slots;
        size_t n_slots; /* 0 or a power of two */
        size_t n;
} StrMap;

/* FNV-1a of s, 64 bits (also for callers that bucket other keys). */
uint64_t strmap_hash(const char *s);

/* Sets key to value, replacing a value it had. Returns 0 or -ENOMEM (then the map is as it
 * was). */
int strmap_put(StrMap *m, const char *key, void *value);
/* The value of key, or NULL (also for a key whose value is NULL: use strmap_contains()). */
void *strmap_get(const StrMap *m, const char *key);
bool strmap_contains(const StrMap *m, const char *key);
/* Removes key; returns its value, or NULL. */
void *strmap_remove(StrMap *m, const char *key);
/* Makes room for n entries at once (no growth while they are added). 0 or -ENOMEM. */
int strmap_reserve(StrMap *m, size_t n);
/* Frees the table (not keys or values). */
void strmap_done(StrMap *m);

/* The same table keyed by identity: a pointer (never NULL) to a value, for "which service
 * holds this listener" and "is this unit still used" without a walk per question. */
typedef struct PtrMap {
        StrMap map; /* keys compared and hashed as pointers */
} PtrMap;

int ptrmap_put(PtrMap *m, const void *key, void *value);
void *ptrmap_get(const PtrMap *m, const void *key);
bool ptrmap_contains(const PtrMap *m, const void *key);
int ptrmap_reserve(PtrMap *m, size_t n);
void ptrmap_done(PtrMap *m);
