/* unit-index: the lookups that tie units to each other, built once per load so that linking,
 * checking, planning and reloading cost about N for N units (SPEC §8), never a walk over every
 * unit for each unit. Pure: no sd-event, no logging. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "common/strmap.h"
#include "daemon/unit-file.h"

/* Which socket units activate which service: each socket unit's service name
 * (unit_socket_service_name()) is made once, here. */
typedef struct UnitIndex {
        char **services; /* sorted; services[i] is what sockets[i] activates (in names) */
        Unit **sockets;  /* borrowed; in name order among those of one service */
        size_t n;
        char *names;     /* every name, one after the other: one allocation for all */
} UnitIndex;

/* From units (sorted by name, borrowed: they must outlive the index), every socket unit,
 * templates included. Returns 0 or -ENOMEM. */
int unit_index_build(UnitIndex *x, Unit *const *units, size_t n);
/* The socket units whose service is name, in name order, in *ret (borrowed); returns how many
 * (0 with *ret NULL when none). */
size_t unit_index_activators(const UnitIndex *x, const char *service, Unit *const **ret);
void unit_index_done(UnitIndex *x);

/* Items (specs of a plan, listeners...) grouped by the unit each belongs to, by the unit's
 * name, in item order within a unit, for "the listeners of this unit" without a walk over all
 * of them. By name, so that another version of the unit (a daemon-reload's) finds them too;
 * the units' names (borrowed) must outlive the groups. */
typedef struct UnitItems {
        StrMap head;  /* unit name -> index + 1 of its first item */
        size_t *next; /* per item: index + 1 of the next item of the same unit, 0 at the end */
} UnitItems;

typedef const Unit *(*UnitOfFunc)(const void *items, size_t i);
int unit_items_build(UnitItems *g, const void *items, size_t n, UnitOfFunc unit_of);
/* The first item of u's name, or SIZE_MAX; the one after item i, or SIZE_MAX. */
size_t unit_items_first(const UnitItems *g, const Unit *u);
size_t unit_items_next(const UnitItems *g, size_t i);
void unit_items_done(UnitItems *g);

#define UNIT_ITEMS_FOREACH(i, g, u)                                                                \
        for (size_t i = unit_items_first((g), (u)); i != SIZE_MAX; i = unit_items_next((g), i))
