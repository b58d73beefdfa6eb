/* status: berthctl's verbs that show (status, list-units, list-sockets), as text in
 * systemctl's layout or as JSON. They read berthd's replies through client/bus.h and know
 * nothing of berthctl.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-bus.h>

/* What the options of the command line say to these verbs. */
typedef struct StatusOptions {
        bool json;      /* --json */
        bool plain;     /* --plain, --no-legend: tables without header and footer */
        unsigned lines; /* -n: log lines under each unit (status) */
} StatusOptions;

/* Each returns its exit code (>= 0), or a negative errno after logging (exit 1). args are the
 * verb's arguments (n of them): unit names for status, none for the lists. */
int verb_status(sd_bus *bus, const StatusOptions *o, char **args, size_t n);
int verb_list_units(sd_bus *bus, const StatusOptions *o, char **args, size_t n);
int verb_list_sockets(sd_bus *bus, const StatusOptions *o, char **args, size_t n);
