/* unit-dir: finds units and drop-ins across unit directories and loads them (SPEC §1).
 * Every file found becomes a record; the records are sorted once (unit name, main file before
 * drop-ins, drop-in file name, directory priority) and one pass picks the winners: the first
 * directory's main file, and per drop-in file name the first directory's file. A file that is
 * /dev/null (usually a symlink to it) masks, as in systemd: a masked main file hides the unit,
 * a masked drop-in hides that drop-in. Pure: diagnostics go to the sink. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>

#include "common/macro.h"
#include "daemon/unit-dir.h"

/* Files of any kind collected before picking winners; bounds the work for huge directories. */
#define UNIT_DIR_RECORDS_MAX (UNIT_DIR_UNITS_MAX * 8)

typedef struct Record {
        char *unit; /* "web.socket" */
        char *conf; /* drop-in file name ("10-port.conf"), NULL for the main file */
        char *path;
        size_t dir; /* priority: index in dirs */
        bool masked;
} Record;

typedef struct Collector {
        UnitDiagFunc diag;
        void *userdata;
        Record *records;
        size_t n_records, cap_records;
} Collector;

static void record_done(Record *r) {
        free(r->unit);
        free(r->conf);
        free(r->path);
}

static void collector_done(Collector *c) {
        for (size_t i = 0; i < c->n_records; i++)
                record_done(&c->records[i]);
        free(c->records);
}

static char *path_join(const char *dir, const char *name) {
        size_t n = strlen(dir);
        char *s;

        while (n > 1 && dir[n - 1] == '/')
                n--;
        if (asprintf(&s, "%.*s/%s", (int) n, dir, name) < 0)
                return NULL;
        return s;
}

static bool stat_is_null(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(1, 3);
}

static bool is_backup_name(const char *name) {
        static const char *const suffixes[] = {
                "~", ".bak", ".orig", ".swp", ".swo", ".tmp", ".old", ".dpkg-old", ".dpkg-new",
                ".dpkg-dist", ".dpkg-tmp", ".dpkg-bak", ".ucf-old", ".ucf-new", ".ucf-dist",
                ".rpmnew", ".rpmsave", ".rpmorig", "#",
        };
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (endswith(name, suffixes[i]))
                        return true;
        return false;
}

static bool is_other_unit_type(const char *name) {
        static const char *const suffixes[] = {
                ".timer", ".target", ".path", ".mount", ".automount", ".swap", ".slice",
                ".scope", ".device", ".timer.d", ".target.d", ".path.d", ".mount.d",
                ".automount.d", ".swap.d", ".slice.d", ".scope.d", ".device.d",
        };
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (endswith(name, suffixes[i]))
                        return true;
        return false;
}

/* Takes unit, conf and path (also on failure). */
static int collector_add(Collector *c, char *unit, char *conf, char *path, size_t dir,
                         bool masked, bool want_conf) {
        Record rec = { unit, conf, path, dir, masked };

        if (!unit || !path || (want_conf && !conf)) {
                record_done(&rec);
                return -ENOMEM;
        }
        if (c->n_records >= UNIT_DIR_RECORDS_MAX) {
                record_done(&rec);
                unit_diagf(c->diag, c->userdata, LOG_ERR, NULL, 0,
                        "Too many files in the unit directories (more than %u)",
                        UNIT_DIR_RECORDS_MAX);
                return -E2BIG;
        }
        if (c->n_records >= c->cap_records) {
                size_t ncap = MAX(c->cap_records * 2, (size_t) 32);
                Record *t = reallocarray(c->records, ncap, sizeof(Record));
                if (!t) {
                        record_done(&rec);
                        return -ENOMEM;
                }
                c->records = t;
                c->cap_records = ncap;
        }
        c->records[c->n_records++] = rec;
        return 0;
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

/* Reads the drop-in directory dpath: every *.conf file in it is a drop-in for unit. */
static int collect_dropins(Collector *c, const char *dpath, const char *unit, size_t prio) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        d = opendir(dpath);
        if (!d) {
                if (errno == ENOMEM)
                        return -ENOMEM;
                unit_diagf(c->diag, c->userdata, LOG_WARNING, dpath, 0,
                        "Cannot open drop-in directory: %s, ignoring", strerror(errno));
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *path = NULL;
                struct dirent *de;
                struct stat st;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                unit_diagf(c->diag, c->userdata, LOG_WARNING, dpath, 0,
                                        "Cannot read the rest of the drop-in directory: %s, "
                                        "ignoring",
                                        strerror(errno));
                        break;
                }
                /* Hidden files, backups and anything else that is not *.conf: silently, as
                 * systemd. */
                if (de->d_name[0] == '.' || !endswith(de->d_name, ".conf"))
                        continue;
                path = path_join(dpath, de->d_name);
                if (!path)
                        return -ENOMEM;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0) {
                        unit_diagf(c->diag, c->userdata, LOG_WARNING, path, 0,
                                "Cannot read drop-in: %s, ignoring", strerror(errno));
                        continue;
                }
                if (!S_ISREG(st.st_mode) && !stat_is_null(&st)) {
                        unit_diagf(c->diag, c->userdata, LOG_WARNING, path, 0,
                                "Drop-in is not a regular file, ignoring");
                        continue;
                }
                r = collector_add(c, strdup(unit), strdup(de->d_name), TAKE_PTR(path), prio,
                                  stat_is_null(&st), true);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int collect_dir(Collector *c, const char *dir, size_t prio) {
        _cleanup_(closedirp) DIR *d = NULL;
        int r;

        d = opendir(dir);
        if (!d) {
                if (errno == ENOENT)
                        return 0; /* missing directories are normal */
                if (errno == ENOMEM)
                        return -ENOMEM;
                unit_diagf(c->diag, c->userdata, LOG_WARNING, dir, 0,
                        "Cannot open unit directory: %s, ignoring", strerror(errno));
                return 0;
        }
        for (;;) {
                _cleanup_free_ char *path = NULL;
                const char *name;
                struct dirent *de;
                struct stat st;
                bool masked;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                unit_diagf(c->diag, c->userdata, LOG_WARNING, dir, 0,
                                        "Cannot read the rest of the unit directory: %s, ignoring",
                                        strerror(errno));
                        break;
                }
                name = de->d_name;
                if (name[0] == '.' || is_backup_name(name))
                        continue;
                path = path_join(dir, name);
                if (!path)
                        return -ENOMEM;
                if (fstatat(dirfd(d), name, &st, 0) < 0) {
                        unit_diagf(c->diag, c->userdata, LOG_WARNING, path, 0,
                                "Cannot read unit file: %s, ignoring", strerror(errno));
                        continue;
                }
                masked = stat_is_null(&st);

                if (endswith(name, ".socket.d") || endswith(name, ".service.d")) {
                        _cleanup_free_ char *unit = strndup(name, strlen(name) - 2);
                        if (!unit)
                                return -ENOMEM;
                        if (unit_name_to_type(unit) < 0)
                                unit_diagf(c->diag, c->userdata, LOG_WARNING, path, 0,
                                        "Drop-in directory for an invalid unit name, ignoring");
                        else if (!S_ISDIR(st.st_mode))
                                unit_diagf(c->diag, c->userdata, LOG_WARNING, path, 0,
                                        "Not a directory, ignoring");
                        else {
                                r = collect_dropins(c, path, unit, prio);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if (endswith(name, ".socket") || endswith(name, ".service")) {
                        if (unit_name_to_type(name) < 0)
                                unit_diagf(c->diag, c->userdata, LOG_WARNING, path, 0,
                                        "Invalid unit name (expected NAME.socket, NAME.service or "
                                        "NAME@.service), ignoring");
                        else if (!S_ISREG(st.st_mode) && !masked)
                                unit_diagf(c->diag, c->userdata, LOG_WARNING, path, 0,
                                        "Unit file is not a regular file, ignoring");
                        else {
                                r = collector_add(c, strdup(name), NULL, TAKE_PTR(path), prio,
                                                  masked, false);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                if (S_ISDIR(st.st_mode) && (endswith(name, ".wants") ||
                                            endswith(name, ".requires") ||
                                            endswith(name, ".upholds")))
                        continue; /* systemd's install symlinks: nothing for berth */
                /* Other files (a unit directory may hold the programs its units run) are
                 * skipped silently, as systemd does; only a unit berth cannot run is named. */
                if (is_other_unit_type(name))
                        unit_diagf(c->diag, c->userdata, LOG_WARNING, path, 0,
                                "Not a unit berth runs (only .socket and .service units), "
                                "ignoring");
        }
        return 0;
}

static int record_cmp(const void *a, const void *b) {
        const Record *x = a, *y = b;
        int r;

        r = strcmp(x->unit, y->unit);
        if (r != 0)
                return r;
        if (!x->conf != !y->conf)
                return x->conf ? 1 : -1; /* the main file first */
        if (x->conf) {
                r = strcmp(x->conf, y->conf);
                if (r != 0)
                        return r;
        }
        return x->dir < y->dir ? -1 : x->dir > y->dir;
}

static void entry_done(UnitFileEntry *e) {
        free(e->name);
        free(e->path);
        strv_free(e->dropins);
}

void unit_file_list_done(UnitFileList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_entries; i++)
                entry_done(&l->entries[i]);
        free(l->entries);
        l->entries = NULL;
        l->n_entries = 0;
}

/* Picks the winners of one unit's records [i, j) (sorted) into e. Returns 1 when the unit is
 * listed, 0 when it is masked or has no main file, or -ENOMEM. */
static int pick_unit(Collector *c, Record *rec, size_t n, UnitFileEntry *e) {
        size_t n_dropins = 0, k = 0;

        if (rec[0].conf) {
                unit_diagf(c->diag, c->userdata, LOG_WARNING, rec[0].path, 0,
                        "Drop-in for '%s', which has no unit file, ignoring", rec[0].unit);
                return 0;
        }
        if (rec[0].masked)
                return 0;

        for (size_t i = 1; i < n; i++)
                if (rec[i].conf && !streq_ptr(rec[i].conf, rec[i - 1].conf) && !rec[i].masked)
                        n_dropins++;

        *e = (UnitFileEntry) {};
        e->name = TAKE_PTR(rec[0].unit);
        e->path = TAKE_PTR(rec[0].path);
        if (n_dropins > UNIT_DIR_DROPINS_MAX) {
                unit_diagf(c->diag, c->userdata, LOG_ERR, e->path, 0,
                        "Too many drop-ins for %s (%zu, at most %u)", e->name, n_dropins,
                        UNIT_DIR_DROPINS_MAX);
                e->invalid = true;
                return 1;
        }
        e->dropins = calloc(n_dropins + 1, sizeof(char *));
        if (!e->dropins)
                return -ENOMEM;
        for (size_t i = 1; i < n; i++)
                /* The first of each file name is the highest-priority directory's. */
                if (rec[i].conf && !streq_ptr(rec[i].conf, rec[i - 1].conf) && !rec[i].masked)
                        e->dropins[k++] = TAKE_PTR(rec[i].path);
        return 1;
}

int unit_dir_enumerate(char *const *dirs, UnitDiagFunc diag, void *userdata, UnitFileList *ret) {
        return unit_dir_enumerate_max(dirs, UNIT_DIR_UNITS_MAX, diag, userdata, ret);
}

int unit_dir_enumerate_max(char *const *dirs, size_t max_units, UnitDiagFunc diag, void *userdata,
                           UnitFileList *ret) {
        Collector c = {
                .diag = diag,
                .userdata = userdata,
        };
        UnitFileList l = {};
        size_t cap = 0;
        int r = 0;

        for (size_t i = 0; dirs && dirs[i]; i++) {
                r = collect_dir(&c, dirs[i], i);
                if (r < 0)
                        goto fail;
        }
        if (c.n_records > 0)
                qsort(c.records, c.n_records, sizeof(Record), record_cmp);

        for (size_t i = 0, j; i < c.n_records; i = j) {
                UnitFileEntry e;

                for (j = i + 1; j < c.n_records && streq(c.records[j].unit, c.records[i].unit); j++)
                        ;
                r = pick_unit(&c, &c.records[i], j - i, &e);
                if (r < 0)
                        goto fail;
                if (r == 0)
                        continue;
                if (l.n_entries >= max_units && !e.invalid) {
                        /* Listed, so that it is refused by name, never silently left out. */
                        unit_diagf(diag, userdata, LOG_ERR, e.path, 0,
                                "%s is not loaded: the unit directories hold more than %zu "
                                "units, and it is past that cap in lexical order", e.name,
                                max_units);
                        e.invalid = true;
                }
                if (l.n_entries >= cap) {
                        size_t ncap = MAX(cap * 2, (size_t) 16);
                        UnitFileEntry *t = reallocarray(l.entries, ncap, sizeof(UnitFileEntry));
                        if (!t) {
                                entry_done(&e);
                                r = -ENOMEM;
                                goto fail;
                        }
                        l.entries = t;
                        cap = ncap;
                }
                l.entries[l.n_entries++] = e;
        }

        collector_done(&c);
        *ret = l;
        return 0;

fail:
        collector_done(&c);
        unit_file_list_done(&l);
        return r;
}

static int unit_name_cmp(const void *key, const void *elem) {
        return strcmp(key, (*(Unit *const *) elem)->name);
}

Unit *unit_array_find(Unit **units, size_t n, const char *name) {
        Unit **u = n > 0 ? bsearch(name, units, n, sizeof(Unit *), unit_name_cmp) : NULL;
        return u ? *u : NULL;
}

void unit_array_free(Unit **units, size_t n) {
        if (!units)
                return;
        for (size_t i = 0; i < n; i++)
                unit_free(units[i]);
        free(units);
}

int unit_dir_load(char *const *dirs, UnitDiagFunc diag, void *userdata, Unit ***ret_units,
                  size_t *ret_n, size_t *ret_n_failed) {
        UnitFileList l = {};
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;
        int r;

        r = unit_dir_enumerate(dirs, diag, userdata, &l);
        if (r < 0)
                return r;
        units = calloc(l.n_entries + 1, sizeof(Unit *));
        if (!units) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < l.n_entries; i++) {
                const UnitFileEntry *e = &l.entries[i];
                Unit *u;

                if (e->invalid) {
                        n_failed++;
                        continue;
                }
                /* A bad unit is reported and counted; it never stops the others. */
                r = unit_file_load(e->name, e->path, e->dropins, diag, userdata, &u);
                if (r < 0)
                        goto finish;
                if (r == UNIT_FILE_E_INVALID) {
                        n_failed++;
                        continue;
                }
                units[n++] = u;
        }

        *ret_units = TAKE_PTR(units);
        *ret_n = n;
        *ret_n_failed = n_failed;
        r = 0;

finish:
        unit_array_free(units, n);
        unit_file_list_done(&l);
        return r;
}
