/* unit-dir: finds unit files and their drop-ins in unit directories, and loads them in lexical
 * order, skipping bad units (SPEC §1). Pure: no sd-event, no logging; diagnostics go to the
 * sink. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "common/strpool.h"
#include "daemon/unit-file.h"

/* Units across all directories: SPEC §8 asks for 10,000 listeners, so ten times that. Past
 * the cap the first UNIT_DIR_UNITS_MAX in lexical order load and each other one is refused by
 * name. Files (unit files and drop-ins) are capped at 8 per unit allowed (1,048,576): past
 * that, each further file is refused by path and its unit by name, and the others load. */
#define UNIT_DIR_UNITS_MAX 131072
#define UNIT_DIR_DROPINS_MAX 256 /* drop-ins per unit */

/* One unit found on disk. Its strings are the list's (pool). */
typedef struct UnitFileEntry {
        char *name;     /* "web.socket" */
        char *path;     /* main file: the first directory that has it wins */
        char **dropins; /* NAME.d/ *.conf across all directories, sorted by file name; a
                         * file name in an earlier directory masks the same name later */
        bool invalid;   /* found but unusable (e.g. too many drop-ins): already reported as an
                         * error; unit_dir_load() counts it as failed without loading it */
        uint64_t main_stamp; /* the main file's part of its stamp when listed, or 0 */
} UnitFileEntry;

typedef struct UnitFileList {
        UnitFileEntry *entries; /* sorted by name (strcmp) */
        size_t n_entries;
        StrPool pool;           /* every path and name of the entries */
} UnitFileList;

/* Lists the units in dirs (a NULL-terminated list, highest priority first). Missing
 * directories are skipped silently; unreadable ones and files with names that are not units
 * are reported as warnings. Returns 0 and fills *ret, or a negative errno. */
int unit_dir_enumerate(char *const *dirs, UnitDiagFunc diag, void *userdata, UnitFileList *ret);
/* The same with another cap on the number of units (tests). */
int unit_dir_enumerate_max(char *const *dirs, size_t max_units, UnitDiagFunc diag, void *userdata,
                           UnitFileList *ret);
/* The same, with instances: names (NAME@INST.socket, NAME@INST.service) made from their
 * templates' files where they have none of their own; for a socket instance also the
 * service instance it activates by default. Drop-ins of the template (NAME@.socket.d/) apply
 * to each instance before its own, and so do those of the name's prefixes (foo-.service.d/
 * to foo-bar.service), as in systemd. */
int unit_dir_enumerate_full(char *const *dirs, char *const *instances, size_t max_units,
                            UnitDiagFunc diag, void *userdata, UnitFileList *ret);
/* The same, and each entry gets its main file's stamp (a stat() of every file; without, a file
 * the directory says is regular is not looked at until it is read): what a daemon-reload
 * compares with the loaded units. */
int unit_dir_enumerate_stamped(char *const *dirs, char *const *instances, size_t max_units,
                               UnitDiagFunc diag, void *userdata, UnitFileList *ret);
void unit_file_list_done(UnitFileList *l);
/* The entry called name in l, or NULL (a binary search). */
const UnitFileEntry *unit_file_list_find(const UnitFileList *l, const char *name);
/* What the files of e are now (unit-file.h's stamp): the main file's part as it was listed
 * (by unit_dir_enumerate_stamped()), the drop-ins' now. 0 when one is racy or cannot be
 * stat'ed, or when the listing took no stamps. */
uint64_t unit_entry_stamp(const UnitFileEntry *e);
/* Whether u can stand for the entry e unread: the same files, unchanged since u was read
 * (stamp: unit_entry_stamp(e)). */
bool unit_matches_entry(const Unit *u, const UnitFileEntry *e, uint64_t stamp);

/* Loads every unit of l, as unit_dir_load() does. Each unit takes its entry's path (then NULL):
 * l is good for unit_file_list_done() only. */
int unit_file_list_load(UnitFileList *l, UnitDiagFunc diag, void *userdata,
                        Unit ***ret_units, size_t *ret_n, size_t *ret_n_failed);

/* Enumerates and loads every unit. Bad units are reported and left out; the rest load.
 * Returns 0 with a malloc'ed array of Unit* in name order (*ret_units, *ret_n), and the number
 * of units that failed to load in *ret_n_failed, or a negative errno. */
int unit_dir_load(char *const *dirs, UnitDiagFunc diag, void *userdata, Unit ***ret_units,
                  size_t *ret_n, size_t *ret_n_failed);
void unit_array_free(Unit **units, size_t n);
/* The unit called name in units (sorted by name, as unit_dir_load() returns them), or NULL. */
Unit *unit_array_find(Unit **units, size_t n, const char *name);
