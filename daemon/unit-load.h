/* unit-load: what the loader (unit-file), the key table (unit-keys) and the value parsers
 * (unit-values, unit-exec) share while one unit loads. It owns the LoadContext, the contract of
 * a key parser (ConfigItem, ParseFunc), the diagnostics that count the unit's errors, the
 * defaults an empty assignment restores, and small helpers that grow the Unit's lists.
 * Internal to those modules: callers use unit-file.h. Pure: no logging. */
#pragma once

#include <time.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/macro.h"
#include "common/strv.h"
#include "common/parse-util.h"
#include "daemon/unit-file.h"

/* How much of a value to quote in a message. */
#define QUOTE_MAX 80
#define QUOTE_SIZE MESSAGE_QUOTE_SIZE(QUOTE_MAX)

/* The characters systemd allows in a unit name, besides '@'. */
#define UNIT_NAME_CHARS                                                                            \
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:-_.\\"

typedef enum SectionKind {
        SECTION_NONE,
        SECTION_UNIT,
        SECTION_SOCKET,
        SECTION_SERVICE,
        SECTION_INSTALL,
        SECTION_IGNORED, /* X-*, unknown, or not for this unit type: already reported */
} SectionKind;

/* State while one unit loads. */
typedef struct LoadContext {
        Unit *u;
        UnitDiagFunc diag;
        void *userdata;
        const char *file; /* the file being read; owned by u */
        SectionKind section;
        unsigned n_errors;
        UnitOrigin service_origin; /* Service=, for the Accept=yes check */
        UnitOrigin symlinks_origin, writable_origin, mq_origin; /* for unit_verify() */
        bool trigger_limit_burst_set;
        bool std_output_set, std_error_set; /* for StandardInput=socket's default */
        /* Sandboxing keys berth does not apply, told once per unit (unit_keys_finish()). */
        char sandboxing[256];
        UnitOrigin sandboxing_origin;
        /* The unit's stamp (unit-file.h), from each file's fstat() before it is read. */
        struct timespec now;
        uint64_t stamp;
        bool stamp_racy;
} LoadContext;

typedef struct ConfigItem ConfigItem;
/* Parses value into the field at data. Returns 0 (also when an error was reported: the
 * context counts it) or a negative errno. value is never NULL; "" is an empty assignment. */
typedef int (*ParseFunc)(LoadContext *c, const ConfigItem *it, const char *value,
                         unsigned line, void *data);

/* Where a key's field is: in the Unit itself, or in one of the groups of keys most units never
 * set (unit-file.h), allocated when one of its keys is assigned. */
typedef enum UnitGroup {
        UNIT_GROUP_NONE,
        UNIT_GROUP_UNIT_EXTRA,
        UNIT_GROUP_SOCKET_OPTIONS,
        UNIT_GROUP_SOCKET_HOOKS,
        UNIT_GROUP_SOCKET_LIMITS,
        UNIT_GROUP_SERVICE_HOOKS,
        UNIT_GROUP_EXIT_STATUS,
        UNIT_GROUP_LIMITS,
        UNIT_GROUP_DIRS,
        UNIT_GROUP_SERVICE_PROCESS,
        UNIT_GROUP_SERVICE_EXTRA,
        _UNIT_GROUP_MAX,
} UnitGroup;

struct ConfigItem {
        SectionKind section;
        const char *key;
        ParseFunc parse;
        UnitGroup group;
        size_t offset; /* of the field in Unit, or in its group */
        size_t size;   /* of the field, to reset it to its default */
        long arg;      /* parser-specific */
};

/* Hands a diagnostic about file:line to the context's sink; an error (LOG_ERR) counts against
 * the unit, so it will fail to load. */
void load_report(LoadContext *c, int level, const char *file, unsigned line, const char *fmt,
                 ...) _printf_(5, 6);
/* The same, about a line of the file being read. */
#define report(c, level, line, ...) load_report((c), (level), (c)->file, (line), __VA_ARGS__)

/* Reports an invalid value for key, saying what was expected. */
void load_invalid(LoadContext *c, unsigned line, const char *key, const char *value,
                  const char *expected);

/* At most QUOTE_MAX bytes of s for a message, on one line. */
static inline const char *cut(const char *s, char buf[static QUOTE_SIZE]) {
        return message_quote(s, QUOTE_MAX, buf, QUOTE_SIZE);
}

/* The field at offset in group g of the unit being loaded (UNIT_GROUP_NONE: the Unit itself).
 * The group is allocated with its defaults when it is not there yet. Returns NULL on OOM. */
void *field(LoadContext *c, UnitGroup g, size_t offset);

/* Sets every field of u to its default: what a unit without the key gets. u->type is set
 * already: only its type's configuration is touched. */
void unit_defaults(Unit *u);
/* An empty assignment sets a scalar back to its default. Its group is there already (the
 * key's parser got its field). */
void load_reset_default(LoadContext *c, const ConfigItem *it);


/* Grows an array of elements of size sz so that one more fits. */
static inline int array_reserve_one(void *array, size_t n, size_t sz) {
        void **p = array;
        void *t;

        t = reallocarray(*p, n + 1, sz);
        if (!t)
                return -ENOMEM;
        *p = t;
        return 0;
}
