/* bus: berthctl's side of berthd's control interface (common/control-interface.h): the
 * connection, the calls, the exit codes a failed call maps to, and the replies more than one
 * verb reads. Used by berthctl.c and status.c; it uses neither. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "common/macro.h"

/* systemctl's exit codes (LSB's for status). */
enum {
        BERTHCTL_EXIT_SUCCESS = 0,
        BERTHCTL_EXIT_FAILURE = 1,
        BERTHCTL_EXIT_NOT_RUNNING = 3, /* status: a unit is inactive, dead or failed */
        BERTHCTL_EXIT_NO_SUCH_UNIT = 4,
};

/* Timeouts: queries answer at once; actions may wait for a service to stop. */
#define BERTHCTL_QUERY_TIMEOUT_USEC (25 * USEC_PER_SEC)
#define BERTHCTL_ACTION_TIMEOUT_USEC (300 * USEC_PER_SEC)

/* Connects to berthd on its control socket at path (origin says what chose the path, for the
 * message). Returns 0 with the connection in *ret (the caller owns it), or a negative errno
 * after printing why not ("berthd is not running: no control socket at ..."), and how to
 * reach another berthd. */
int bus_connect(const char *path, const char *origin, sd_bus **ret);
/* The same without a word: a negative errno when it cannot connect. */
int bus_connect_quiet(const char *path, sd_bus **ret);

/* Calls member on berthd's manager object with the arguments of types. Returns >= 0 with the
 * reply in *ret_reply (the caller owns it), or a negative errno with *error set. */
int bus_call(sd_bus *bus, const char *member, uint64_t timeout, sd_bus_error *error,
             sd_bus_message **ret_reply, const char *types, ...);

/* True when a call failed (error, r) because the connection to berthd broke. */
bool bus_error_is_disconnect(const sd_bus_error *e, int r);

/* Prints a failed call's error as "<what>: <message>" (and "Unit X could not be found." for
 * NoSuchUnit, "permission denied: ..." for AccessDenied, "berthd went away" when the
 * connection broke). Returns BERTHCTL_EXIT_NO_SUCH_UNIT for NoSuchUnit, else a negative
 * errno (exit 1). */
int bus_report_error(const char *what, const char *unit, const sd_bus_error *error, int r);

/* True for a full unit name: "web.service", "web.socket". */
bool unit_name_has_suffix(const char *name);

/* Resolves a name as systemctl does: a full name ("web.service", "web.socket") as it is, a
 * name without a suffix as NAME.service, else NAME.socket. Returns 0 with the full name in
 * *ret_name (malloc'ed) and the GetUnit reply in *ret_reply (optional; the caller owns it);
 * else, after printing the error, BERTHCTL_EXIT_NO_SUCH_UNIT or a negative errno. */
int unit_resolve(sd_bus *bus, const char *name, char **ret_name, sd_bus_message **ret_reply);

/* One value of a reply, whatever its D-Bus type. */
#define BUS_STRV_MAX 4096

/* One value; which member holds it, type says (16 bytes: a list of 10,000 rows holds 100,000
 * of them). */
typedef struct BusValue {
        char type;                  /* a D-Bus basic type code, or 'a' for an array of strings */
        union {
                const char *str;    /* 's', 'o', 'g' */
                uint64_t u;         /* unsigned types and 'b' */
                int64_t i;          /* signed types */
                double d;           /* 'd' */
                const char **strv;  /* 'a': owned array (NULL-terminated) of borrowed strings */
        };
} BusValue;

/* Frees what v owns (the array of an 'a'), and empties it. */
void bus_value_done(BusValue *v);

/* True for the type codes of D-Bus basic types. */
bool bus_type_is_basic(char t);
/* Reads one basic value of type t (strings borrowed from m). Returns 1, 0 at the end of the
 * container, or a negative errno (-EBADMSG for a type that is not basic). */
int bus_value_read_basic(sd_bus_message *m, char t, BusValue *ret);

static inline bool bus_value_is_unsigned(const BusValue *v) {
        return v->type && strchr("yqut", v->type);
}
static inline bool bus_value_is_signed(const BusValue *v) {
        return v->type && strchr("nix", v->type);
}
static inline bool bus_value_is_string(const BusValue *v) {
        return v->type && strchr("sog", v->type);
}

/* A GetUnit reply: the a{sv} entries. Strings and lists are borrowed from the reply, which
 * must outlive this. */
#define UNIT_PROPERTIES_MAX 128

typedef struct UnitProperty {
        const char *key; /* borrowed */
        BusValue value;
} UnitProperty;

typedef struct UnitProperties {
        UnitProperty props[UNIT_PROPERTIES_MAX];
        size_t n;
} UnitProperties;

/* Reads an a{sv} reply (GetUnit). Unknown value types are skipped. Returns 0 or a negative
 * errno. unit_properties_done() frees the lists. */
int unit_properties_read(sd_bus_message *m, UnitProperties *ret);
void unit_properties_done(UnitProperties *p);
/* The value of key: a string ("" when absent or not a string), a number (0), a list (NULL). */
const char *unit_prop_str(const UnitProperties *p, const char *key);
uint64_t unit_prop_u64(const UnitProperties *p, const char *key);
const char *const *unit_prop_strv(const UnitProperties *p, const char *key);

/* One entry of GetLogs. line is borrowed from the reply. */
typedef struct LogEntry {
        uint64_t seq;
        uint32_t pid;
        const char *line;
} LogEntry;

/* GetLogs(name, after, max): calls fn for each entry, oldest first, and returns the sequence
 * number to ask with next in *ret_next. Returns 0, or a negative errno with *error set. */
int logs_fetch(sd_bus *bus, const char *name, uint64_t after, unsigned max, sd_bus_error *error,
               uint64_t *ret_next, void (*fn)(const LogEntry *e, void *userdata), void *userdata);
