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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <syslog.h>
#include <time.h>

#include "common/macro.h"
#include "common/strpool.h"
#include "common/strv.h"
#include "daemon/unit-dir.h"

/* Files (unit files and drop-ins) collected per unit allowed, before picking winners: bounds
 * the memory for huge directories. Past it a file is not kept, and the unit it belongs to (or,
 * for a template's or prefix's drop-in, every unit it applies to) is refused by name: loading
 * it without that file would load something else than what is on disk. */
#define UNIT_DIR_FILES_PER_UNIT 8

/* Its strings are the collector's (pool): a unit file's name is the last part of its path. */
typedef struct Record {
        char *unit; /* "web.socket" */
        char *conf; /* drop-in file name ("10-port.conf"), NULL for the main file */
        char *path;
        size_t dir; /* priority: index in dirs */
        bool masked;
        uint64_t stamp; /* of a main file (unit_entry_stamp()) */
} Record;

typedef struct Collector {
        bool stamps;         /* stat() every file, for the stamps */
        struct timespec now; /* when the listing began, for the stamps */
        UnitDiagFunc diag;
        void *userdata;
        /* Every string of the listing: the paths, names and drop-in file names. The list
         * takes it over: at start-up it goes once every unit is loaded, and strings freed one
         * by one then would be as many holes in the heap between the units. */
        StrPool pool;
        Record *records;
        size_t n_records, cap_records, max_records;
        /* names of units with a file past max_records (the pool's); sorted after collecting */
        const char **refused;
        size_t n_refused, cap_refused;
} Collector;

static void collector_done(Collector *c) {
        free(c->records);
        free(c->refused);
        strpool_done(&c->pool);
}

/* A file past the cap: reported by path, and its unit remembered to be refused. Returns 0 or
 * -ENOMEM. */
static int collector_refuse(Collector *c, const Record *rec) {
        unit_diagf(c->diag, c->userdata, LOG_ERR, rec->path, 0,
                "%s is not loaded: the unit directories hold more than %zu files, and this "
                "one is past that cap", rec->unit, c->max_records);
        if (c->n_refused >= c->cap_refused) {
                size_t ncap = MAX(c->cap_refused * 2, (size_t) 16);
                const char **t = reallocarray(c->refused, ncap, sizeof(char *));
                if (!t)
                        return -ENOMEM;
                c->refused = t;
                c->cap_refused = ncap;
        }
        c->refused[c->n_refused++] = rec->unit;
        return 0;
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

static struct timespec realtime_now(void) {
        struct timespec now = {};
        (void) clock_gettime(CLOCK_REALTIME, &now);
        return now;
}

uint64_t unit_entry_stamp(const UnitFileEntry *e) {
        struct timespec now = realtime_now();
        uint64_t h = e->main_stamp;

        if (h == 0)
                return 0;
        STRV_FOREACH(d, e->dropins) {
                struct stat st;
                uint64_t x;

                if (h == 0 || stat(*d, &st) < 0 || (x = unit_stamp_file(&st, &now)) == 0)
                        return 0;
                h = unit_stamp_mix(h, x);
        }
        return h != 0 ? h : 1;
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

/* unit, conf and path are the pool's (NULL: out of memory, but conf is NULL for a main file). */
static int collector_add(Collector *c, char *unit, char *conf, char *path,
                         size_t dir, bool masked, bool want_conf) {
        Record rec = { unit, conf, path, dir, masked };

        if (!unit || !path || (want_conf && !conf))
                return -ENOMEM;
        if (c->n_records >= c->max_records)
                return collector_refuse(c, &rec);
        if (c->n_records >= c->cap_records) {
                size_t ncap = MAX(c->cap_records * 2, (size_t) 32);
                Record *t = reallocarray(c->records, ncap, sizeof(Record));
                if (!t)
                        return -ENOMEM;
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
                r = collector_add(c, strpool_dup(&c->pool, unit),
                                  strpool_dup(&c->pool, de->d_name),
                                  strpool_dup(&c->pool, path), prio, stat_is_null(&st), true);
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
                /* The directory tells a regular file or a directory: without stamps to take,
                 * that is all there is to know now (the file is looked at when it is read). */
                if (!c->stamps && (de->d_type == DT_REG || de->d_type == DT_DIR))
                        st = (struct stat) { .st_mode = de->d_type == DT_REG ? S_IFREG
                                                                             : S_IFDIR };
                else if (fstatat(dirfd(d), name, &st, 0) < 0) {
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
                                /* The name is the path's last part (path_join()). */
                                char *p = strpool_dup(&c->pool, path);

                                r = collector_add(c, p ? p + strlen(p) - strlen(name) : NULL,
                                                  NULL, p, prio, masked, false);
                                if (r < 0)
                                        return r;
                                if (c->stamps)
                                        c->records[c->n_records - 1].stamp =
                                                unit_stamp_file(&st, &c->now);
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

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool collector_refused(const Collector *c, const char *unit) {
        return c->n_refused > 0 &&
               bsearch(&unit, c->refused, c->n_refused, sizeof(char *), name_cmp);
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
        free(e->dropins);
}

void unit_file_list_done(UnitFileList *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_entries; i++)
                entry_done(&l->entries[i]);
        free(l->entries);
        l->entries = NULL;
        l->n_entries = 0;
        strpool_done(&l->pool);
}

/* One name's drop-ins: per file name, the highest-priority directory's (NULL when that one
 * masks it). Drop-in directories of names that have no unit file of their own apply to
 * others: NAME@.socket.d/ to every instance, foo-.service.d/ to every foo-*.service. */
typedef struct DropinSet {
        const char *unit; /* its strings are the records' */
        char **confs, **paths;
        size_t n;
} DropinSet;

static void dropin_set_done(DropinSet *d) {
        free(d->confs);
        free(d->paths);
}

/* The drop-ins of the records [0, n) of one unit (sorted: main file first). */
static int dropin_set_make(Record *rec, size_t n, DropinSet *d) {
        *d = (DropinSet) { .unit = rec[0].unit };
        d->confs = calloc(n + 1, sizeof(char *));
        d->paths = calloc(n + 1, sizeof(char *));
        if (!d->confs || !d->paths)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (!rec[i].conf || (i > 0 && streq_ptr(rec[i].conf, rec[i - 1].conf)))
                        continue;
                /* The first of each file name is the highest-priority directory's. */
                d->confs[d->n] = rec[i].conf;
                d->paths[d->n++] = rec[i].masked ? NULL : rec[i].path;
        }
        return 0;
}

static int dropin_set_cmp(const void *key, const void *elem) {
        return strcmp(key, ((const DropinSet *) elem)->unit);
}

/* Whether a drop-in directory without a unit file of its own applies to other units: a
 * template's or an instance's (NAME@.socket.d, NAME@INST.socket.d), or a prefix's
 * (foo-.service.d). */
static bool dropin_name_applies_to_others(const char *unit) {
        const char *dot = strrchr(unit, '.');

        return strchr(unit, '@') || (dot && dot > unit && dot[-1] == '-');
}

/* The names whose drop-ins apply to unit, most specific first: itself, its template, then
 * the prefixes of its name that end in '-', longest first. Returns how many (at most max). */
static size_t dropin_names(const char *unit, char **names, size_t max) {
        const char *dot = strrchr(unit, '.'), *at = strchr(unit, '@');
        size_t n = 0, stem = dot ? (size_t) (dot - unit) : strlen(unit);
        size_t prefix = at && (size_t) (at - unit) < stem ? (size_t) (at - unit) : stem;

        if (!dot)
                return 0;
        names[n++] = strdup(unit);
        if (at && at + 1 < dot && n < max &&
            asprintf(&names[n], "%.*s%s", (int) (at - unit + 1), unit, dot) >= 0)
                n++;
        for (size_t k = prefix; k > 0 && n < max; k--)
                if (unit[k - 1] == '-' && k < stem &&
                    asprintf(&names[n], "%.*s%s", (int) k, unit, dot) >= 0)
                        n++;
        return n;
}

/* Gives e its drop-ins: of every name that applies, by file name, the most specific name's
 * (and there the highest-priority directory's); a masked one hides the file name from the
 * less specific names too. Sorted by file name, as systemd applies them. */
static int entry_merge_dropins(UnitFileEntry *e, const DropinSet *sets, size_t n_sets,
                               const Collector *coll, UnitDiagFunc diag, void *userdata) {
        char *names[64] = {}, **confs = NULL, **paths = NULL;
        size_t n_names = dropin_names(e->name, names, ELEMENTSOF(names)), n = 0, cap = 0;
        int r = 0;

        /* A file of its own past the cap was reported with the unit's name already. */
        for (size_t i = 0; i < n_names && !e->invalid; i++)
                if (names[i] && collector_refused(coll, names[i])) {
                        if (i > 0)
                                unit_diagf(diag, userdata, LOG_ERR, e->path, 0,
                                        "%s is not loaded: a drop-in of %s that applies to it "
                                        "is past the cap on files", e->name, names[i]);
                        e->invalid = true;
                }
        for (size_t i = 0; i < n_names && r >= 0 && !e->invalid; i++) {
                const DropinSet *d = names[i] ? bsearch(names[i], sets, n_sets,
                                                        sizeof(DropinSet), dropin_set_cmp)
                                              : NULL;
                for (size_t k = 0; d && k < d->n; k++) {
                        bool seen = false;
                        for (size_t j = 0; j < n && !seen; j++)
                                seen = streq(confs[j], d->confs[k]);
                        if (seen)
                                continue;
                        if (n >= cap) {
                                size_t ncap = MAX(cap * 2, (size_t) 8);
                                char **c = reallocarray(confs, ncap, sizeof(char *));
                                char **p = c ? reallocarray(paths, ncap, sizeof(char *)) : NULL;
                                if (c)
                                        confs = c;
                                if (!p) {
                                        r = -ENOMEM;
                                        break;
                                }
                                paths = p;
                                cap = ncap;
                        }
                        confs[n] = d->confs[k];
                        paths[n++] = d->paths[k];
                }
        }
        for (size_t i = 0; i < n_names; i++)
                free(names[i]);
        if (r < 0 || e->invalid)
                goto finish;
        /* Sorted by file name; a simple insertion sort: at most a few hundred. */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(confs[j - 1], confs[j]) > 0; j--) {
                        char *t = confs[j];
                        confs[j] = confs[j - 1];
                        confs[j - 1] = t;
                        t = paths[j];
                        paths[j] = paths[j - 1];
                        paths[j - 1] = t;
                }
        size_t n_live = 0;
        for (size_t i = 0; i < n; i++)
                n_live += paths[i] != NULL;
        if (n_live > UNIT_DIR_DROPINS_MAX) {
                unit_diagf(diag, userdata, LOG_ERR, e->path, 0,
                        "Too many drop-ins for %s (%zu, at most %u)", e->name, n_live,
                        UNIT_DIR_DROPINS_MAX);
                e->invalid = true;
                goto finish;
        }
        e->dropins = calloc(n_live + 1, sizeof(char *));
        if (!e->dropins) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0, k = 0; i < n; i++)
                if (paths[i])
                        e->dropins[k++] = paths[i];
finish:
        free(confs);
        free(paths);
        return r;
}

static int entry_add(UnitFileList *l, size_t *cap, UnitFileEntry *e) {
        if (l->n_entries >= *cap) {
                size_t ncap = MAX(*cap * 2, (size_t) 16);
                UnitFileEntry *t = reallocarray(l->entries, ncap, sizeof(UnitFileEntry));
                if (!t) {
                        entry_done(e);
                        return -ENOMEM;
                }
                l->entries = t;
                *cap = ncap;
        }
        l->entries[l->n_entries++] = *e;
        return 0;
}

static int entry_cmp(const void *key, const void *elem) {
        return strcmp(key, ((const UnitFileEntry *) elem)->name);
}

static int entry_sort_cmp(const void *a, const void *b) {
        return strcmp(((const UnitFileEntry *) a)->name, ((const UnitFileEntry *) b)->name);
}

/* NAME@INST.TYPE -> NAME@.TYPE, or NULL when name is no instance. */
static char *template_of(const char *name) {
        const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
        char *t;

        if (!at || !dot || dot <= at + 1)
                return NULL;
        if (asprintf(&t, "%.*s%s", (int) (at - name + 1), name, dot) < 0)
                return NULL;
        return t;
}

/* Adds the instance name, made from its template's file, unless it has a file of its own or
 * no template. l is sorted on entry. Returns 1 when added, 0 when not, or -ENOMEM. */
static int entry_add_instance(UnitFileList *l, size_t *cap, StrPool *pool, const char *name) {
        _cleanup_free_ char *template = template_of(name);
        const UnitFileEntry *t;
        UnitFileEntry e = {};

        if (!template || unit_name_to_type(name) < 0 ||
            bsearch(name, l->entries, l->n_entries, sizeof(UnitFileEntry), entry_cmp))
                return 0;
        t = bsearch(template, l->entries, l->n_entries, sizeof(UnitFileEntry), entry_cmp);
        if (!t || t->invalid)
                return 0;
        e.name = strpool_dup(pool, name);
        e.path = t->path;
        e.main_stamp = t->main_stamp;
        if (!e.name)
                return -ENOMEM;
        return entry_add(l, cap, &e) < 0 ? -ENOMEM : 1;
}

int unit_dir_enumerate(char *const *dirs, UnitDiagFunc diag, void *userdata, UnitFileList *ret) {
        return unit_dir_enumerate_full(dirs, NULL, UNIT_DIR_UNITS_MAX, diag, userdata, ret);
}

int unit_dir_enumerate_max(char *const *dirs, size_t max_units, UnitDiagFunc diag, void *userdata,
                           UnitFileList *ret) {
        return unit_dir_enumerate_full(dirs, NULL, max_units, diag, userdata, ret);
}

static int enumerate(char *const *dirs, char *const *instances, size_t max_units, bool stamps,
                     UnitDiagFunc diag, void *userdata, UnitFileList *ret);

int unit_dir_enumerate_full(char *const *dirs, char *const *instances, size_t max_units,
                            UnitDiagFunc diag, void *userdata, UnitFileList *ret) {
        return enumerate(dirs, instances, max_units, false, diag, userdata, ret);
}

int unit_dir_enumerate_stamped(char *const *dirs, char *const *instances, size_t max_units,
                               UnitDiagFunc diag, void *userdata, UnitFileList *ret) {
        return enumerate(dirs, instances, max_units, true, diag, userdata, ret);
}

static int enumerate(char *const *dirs, char *const *instances, size_t max_units, bool stamps,
                     UnitDiagFunc diag, void *userdata, UnitFileList *ret) {
        Collector c = {
                .stamps = stamps,
                .now = realtime_now(),
                .diag = diag,
                .userdata = userdata,
                .max_records = max_units < SIZE_MAX / UNIT_DIR_FILES_PER_UNIT
                                       ? max_units * UNIT_DIR_FILES_PER_UNIT
                                       : SIZE_MAX,
        };
        UnitFileList l = {};
        DropinSet *sets = NULL;
        size_t cap = 0, n_sets = 0;
        int r = 0;

        for (size_t i = 0; dirs && dirs[i]; i++) {
                r = collect_dir(&c, dirs[i], i);
                if (r < 0)
                        goto fail;
        }
        if (c.n_records > 0)
                qsort(c.records, c.n_records, sizeof(Record), record_cmp);
        if (c.n_refused > 0)
                qsort(c.refused, c.n_refused, sizeof(char *), name_cmp);
        sets = calloc(c.n_records + 1, sizeof(DropinSet));
        if (!sets) {
                r = -ENOMEM;
                goto fail;
        }

        for (size_t i = 0, j; i < c.n_records; i = j) {
                Record *rec = &c.records[i];
                UnitFileEntry e = {};

                for (j = i + 1; j < c.n_records && streq(c.records[j].unit, rec->unit); j++)
                        ;
                if (rec->conf && !dropin_name_applies_to_others(rec->unit))
                        unit_diagf(diag, userdata, LOG_WARNING, rec->path, 0,
                                "Drop-in for '%s', which has no unit file, ignoring",
                                rec->unit);
                bool has_main = !rec->conf;
                r = dropin_set_make(rec, j - i, &sets[n_sets++]);
                if (r < 0)
                        goto fail;
                if (!has_main)
                        continue;
                if (rec->masked)
                        continue;
                e.name = rec->unit;
                e.path = rec->path;
                e.main_stamp = rec->stamp;
                if (l.n_entries >= max_units) {
                        /* Listed, so that it is refused by name, never silently left out. */
                        unit_diagf(diag, userdata, LOG_ERR, e.path, 0,
                                "%s is not loaded: the unit directories hold more than %zu "
                                "units, and it is past that cap in lexical order", e.name,
                                max_units);
                        e.invalid = true;
                }
                r = entry_add(&l, &cap, &e);
                if (r < 0)
                        goto fail;
        }

        /* Instances asked for by name (berthctl start NAME@INST.socket), from their
         * templates, with the service each one activates by default. */
        for (size_t i = 0; instances && instances[i]; i++) {
                const char *const *name = (const char *const *) &instances[i];
                _cleanup_free_ char *svc = NULL;
                const char *suffix = endswith(*name, ".socket");

                r = entry_add_instance(&l, &cap, &c.pool, *name);
                if (r > 0)
                        qsort(l.entries, l.n_entries, sizeof(UnitFileEntry), entry_sort_cmp);
                if (r < 0 || !suffix)
                        continue;
                if (asprintf(&svc, "%.*s.service", (int) (suffix - *name), *name) < 0) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = entry_add_instance(&l, &cap, &c.pool, svc);
                if (r > 0)
                        qsort(l.entries, l.n_entries, sizeof(UnitFileEntry), entry_sort_cmp);
                if (r < 0)
                        goto fail;
        }
        if (r < 0)
                goto fail;
        /* Socket instances with a file of their own activate their service instance too,
         * made from its template where it has no file. */
        {
                _cleanup_strv_free_ char **services = NULL;

                for (size_t i = 0; i < l.n_entries; i++) {
                        const char *name = l.entries[i].name;
                        const char *suffix = endswith(name, ".socket");
                        char *svc;

                        if (!suffix || !strchr(name, '@') || endswith(name, "@.socket"))
                                continue;
                        if (asprintf(&svc, "%.*s.service", (int) (suffix - name), name) < 0 ||
                            strv_consume(&services, svc) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
                STRV_FOREACH(svc, services) {
                        r = entry_add_instance(&l, &cap, &c.pool, *svc);
                        if (r < 0)
                                goto fail;
                        if (r > 0) /* bsearch() needs them sorted for the next one */
                                qsort(l.entries, l.n_entries, sizeof(UnitFileEntry),
                                      entry_sort_cmp);
                }
        }

        for (size_t i = 0; i < l.n_entries; i++) {
                if (l.entries[i].invalid)
                        continue;
                r = entry_merge_dropins(&l.entries[i], sets, n_sets, &c, diag, userdata);
                if (r < 0)
                        goto fail;
        }

        for (size_t i = 0; i < n_sets; i++)
                dropin_set_done(&sets[i]);
        free(sets);
        l.pool = c.pool;
        c.pool = (StrPool) {};
        collector_done(&c);
        *ret = l;
        return 0;

fail:
        for (size_t i = 0; i < n_sets; i++)
                dropin_set_done(&sets[i]);
        free(sets);
        collector_done(&c);
        unit_file_list_done(&l);
        return r;
}

static int unit_name_cmp(const void *key, const void *elem) {
        return strcmp(key, (*(Unit *const *) elem)->name);
}

bool unit_matches_entry(const Unit *u, const UnitFileEntry *e, uint64_t stamp) {
        return stamp != 0 && u->files_stamp == stamp && streq_ptr(unit_path(u), e->path) &&
               strv_equal(unit_extra(u)->dropins, e->dropins);
}

static int entry_name_cmp(const void *key, const void *e) {
        return strcmp(key, ((const UnitFileEntry *) e)->name);
}

const UnitFileEntry *unit_file_list_find(const UnitFileList *l, const char *name) {
        return l->n_entries > 0 ? bsearch(name, l->entries, l->n_entries, sizeof *l->entries,
                                          entry_name_cmp) : NULL;
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

int unit_file_list_load(UnitFileList *l, UnitDiagFunc diag, void *userdata,
                        Unit ***ret_units, size_t *ret_n, size_t *ret_n_failed) {
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;
        int r;

        units = calloc(l->n_entries + 1, sizeof(Unit *));
        if (!units)
                return -ENOMEM;
        for (size_t i = 0; i < l->n_entries; i++) {
                UnitFileEntry *e = &l->entries[i];
                Unit *u;

                if (e->invalid) {
                        n_failed++;
                        continue;
                }
                /* A bad unit is reported and counted; it never stops the others. */
                r = unit_file_load(e->name, e->path, e->dropins, diag, userdata, &u);
                if (r < 0) {
                        unit_array_free(units, n);
                        return r;
                }
                if (r == UNIT_FILE_E_INVALID) {
                        n_failed++;
                        continue;
                }
                units[n++] = u;
        }
        *ret_units = units;
        *ret_n = n;
        *ret_n_failed = n_failed;
        return 0;
}

int unit_dir_load(char *const *dirs, UnitDiagFunc diag, void *userdata, Unit ***ret_units,
                  size_t *ret_n, size_t *ret_n_failed) {
        UnitFileList l = {};
        int r;

        r = unit_dir_enumerate(dirs, diag, userdata, &l);
        if (r >= 0)
                r = unit_file_list_load(&l, diag, userdata, ret_units, ret_n, ret_n_failed);
        unit_file_list_done(&l);
        return r;
}

