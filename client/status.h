/* status: berthctl's verbs that show (status, list-units, list-sockets), as text in
 * systemctl's layout or as JSON. They read berthd's replies through client/bus.h and know
 * nothing of berthctl.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-bus.h>

#include "common/time-util.h"

/* What the options of the command line say to these verbs. */
typedef struct StatusOptions {
        bool json;      /* --json */
        bool plain;     /* --plain, --no-legend: tables without header and footer */
        unsigned lines; /* -n: log lines under each unit (status) */
        bool quiet;     /* -q: is-active prints nothing */
        usec_t wait_until; /* --wait-ready: until when (CLOCK_MONOTONIC) status and is-active
                            * wait for each UNIT to be active; 0: they do not wait */
} StatusOptions;

/* Each returns its exit code (>= 0), or a negative errno after logging (exit 1). args are the
 * verb's arguments (n of them): unit names for status, none for the lists. */
int verb_status(sd_bus *bus, const StatusOptions *o, char **args, size_t n);
int verb_list_units(sd_bus *bus, const StatusOptions *o, char **args, size_t n);
int verb_list_sockets(sd_bus *bus, const StatusOptions *o, char **args, size_t n);
/* is-active UNIT...: prints each unit's active state (active, activating, inactive, failed...)
 * and exits 0 when every one is active, 3 when one is not, 4 when one does not exist. */
int verb_is_active(sd_bus *bus, const StatusOptions *o, char **args, size_t n);
