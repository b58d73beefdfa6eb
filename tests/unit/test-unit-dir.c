/* Tests for daemon/unit-dir.c: which files are units, which directory wins, drop-in order and
 * masking across directories, and a bad unit that never stops the others. Every test builds its
 * directories under a mkdtemp() directory and removes them. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/strv.h"
#include "daemon/unit-dir.h"
#include "daemon/unit-file.h"
#include "tests/unit/test-diag.h"

/* ---- temporary tree ---- */

static char root[64];

static void setup(void) {
        diags_clear();
        test_mkdtemp(root, "test-unit-dir");
}

static void teardown(void) {
        test_rm_rf(root);
        diags_clear();
}

/* The scale test's 100,000 files: on tmpfs where it has room (creating and removing them on a
 * disk file system costs ten seconds and more of system time), else where the others go. */
static void setup_scale(void) {
        struct statvfs st;

        diags_clear();
        if (statvfs("/dev/shm", &st) == 0 && (uint64_t) st.f_bavail * st.f_frsize >= (2ULL << 30)) {
                snprintf(root, sizeof root, "/dev/shm/test-unit-dir-XXXXXX");
                ck_assert_ptr_nonnull(mkdtemp(root));
                return;
        }
        test_mkdtemp(root, "test-unit-dir");
}

/* root/rel; the caller frees. */
static char *at(const char *rel) {
        char *p;
        ck_assert_int_ge(asprintf(&p, "%s/%s", root, rel), 0);
        return p;
}

static void mkdir_rel(const char *rel) {
        _cleanup_free_ char *p = at(rel);
        ck_assert_int_eq(mkdir(p, 0755), 0);
}

static void write_rel(const char *rel, const char *text) {
        _cleanup_free_ char *p = at(rel);
        FILE *f = fopen(p, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(text, 1, strlen(text), f), strlen(text));
        ck_assert_int_eq(fclose(f), 0);
}

/* n drop-ins dir_rel/00.conf, 01.conf, ... with text. */
static void write_confs(const char *dir_rel, unsigned n, const char *text) {
        for (unsigned i = 0; i < n; i++) {
                char rel[128];
                snprintf(rel, sizeof rel, "%s/%04u.conf", dir_rel, i);
                write_rel(rel, text);
        }
}

static void assert_strv(char **l, const char *const *expect) {
        size_t i = 0;
        for (; expect[i]; i++) {
                ck_assert_ptr_nonnull(l);
                ck_assert_ptr_nonnull(l[i]);
                ck_assert_str_eq(l[i], expect[i]);
        }
        ck_assert(!l || !l[i]);
}

#define GOOD_SOCKET "[Socket]\nListenStream=127.0.0.1:8080\n"
#define GOOD_SERVICE "[Service]\nExecStart=/bin/true\n"

/* ---- tests ---- */

START_TEST(test_bad_unit_does_not_stop_others) {
        _cleanup_free_ char *d = at("units"), *bad = at("units/b.socket");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;
        const Diag *e;

        mkdir_rel("units");
        write_rel("units/a.socket", GOOD_SOCKET);
        write_rel("units/b.socket", "[Socket]\nListenStream=9090\nAccept=maybe\n");
        write_rel("units/c.service", GOOD_SERVICE);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(n_failed, 1);
        ck_assert_str_eq(units[0]->name, "a.socket");
        ck_assert_str_eq(units[1]->name, "c.service");
        ck_assert_uint_eq(units[0]->socket.n_listens, 1);
        ck_assert_uint_eq(units[1]->service.n_exec_start, 1);

        e = find_diag(LOG_ERR, "Accept=");
        if (!e)
                dump_diags();
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->file, bad);
        ck_assert_uint_eq(e->line, 3);
        ck_assert_uint_eq(n_diags, 1);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_masking_first_dir_wins) {
        _cleanup_free_ char *d1 = at("etc"), *d2 = at("lib"), *p1 = at("etc/web.socket");
        char *dirs[] = { d1, d2, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("etc");
        mkdir_rel("lib");
        write_rel("etc/web.socket", "[Socket]\nListenStream=1111\n");
        write_rel("lib/web.socket", "[Socket]\nListenStream=2222\n");
        write_rel("lib/other.socket", "[Socket]\nListenStream=3333\n");

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_str_eq(units[0]->name, "other.socket");
        ck_assert_str_eq(units[1]->name, "web.socket");
        ck_assert_str_eq(unit_path(units[1]), p1);
        ck_assert_uint_eq(units[1]->socket.n_listens, 1);
        ck_assert_str_eq(LISTEN_TEXT(&units[1]->socket.listens[0]), "1111");
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_template_and_instance) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("u");
        write_rel("u/echo.socket", "[Socket]\nListenStream=7777\nAccept=yes\n");
        write_rel("u/echo@.service", "[Service]\nExecStart=/bin/cat\nStandardInput=socket\n");
        write_rel("u/echo@special.service", GOOD_SERVICE);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        if (n_diags)
                dump_diags();
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(units[0]->name, "echo.socket");
        ck_assert_str_eq(units[1]->name, "echo@.service");
        ck_assert(units[1]->is_template);
        ck_assert_int_eq(service_config_extra(&units[1]->service)->std_input, STD_INPUT_SOCKET);
        ck_assert_str_eq(units[2]->name, "echo@special.service");
        ck_assert(!units[2]->is_template);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_dropins_across_dirs) {
        _cleanup_free_ char *d1 = at("etc"), *d2 = at("lib");
        _cleanup_free_ char *a = at("lib/web.socket.d/10-a.conf");
        _cleanup_free_ char *b = at("etc/web.socket.d/20-b.conf");
        _cleanup_free_ char *c = at("lib/web.socket.d/30-c.conf");
        char *dirs[] = { d1, d2, NULL };
        UnitFileList l = {};
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("etc");
        mkdir_rel("lib");
        mkdir_rel("etc/web.socket.d");
        mkdir_rel("lib/web.socket.d");
        write_rel("lib/web.socket", "[Socket]\nListenStream=80\nBacklog=1\n");
        write_rel("lib/web.socket.d/10-a.conf", "[Socket]\nBacklog=10\nListenStream=81\n");
        write_rel("lib/web.socket.d/20-b.conf", "[Socket]\nBacklog=999\n"); /* masked by etc */
        write_rel("etc/web.socket.d/20-b.conf", "[Socket]\nBacklog=20\n");
        write_rel("lib/web.socket.d/30-c.conf", "[Socket]\nListenStream=\nListenStream=82\n");
        write_rel("lib/web.socket.d/README", "not a drop-in\n");
        write_rel("lib/web.socket.d/40-d.conf~", "[Socket]\nBacklog=40\n");

        ck_assert_int_eq(unit_dir_enumerate(dirs, collect, NULL, &l), 0);
        ck_assert_uint_eq(l.n_entries, 1);
        ck_assert(!l.entries[0].invalid);
        assert_strv(l.entries[0].dropins, (const char *const[]) { a, b, c, NULL });
        unit_file_list_done(&l);
        ck_assert_uint_eq(l.n_entries, 0);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        if (n_diags)
                dump_diags();
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(units[0]->socket.backlog, 20); /* 20-b.conf from etc, the last applied */
        ck_assert_uint_eq(units[0]->socket.n_listens, 1);
        ck_assert_str_eq(LISTEN_TEXT(&units[0]->socket.listens[0]), "82");
        assert_strv(unit_extra(units[0])->dropins, (const char *const[]) { a, b, c, NULL });
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_dev_null_masks) {
        _cleanup_free_ char *d1 = at("etc"), *d2 = at("lib"), *m1 = at("etc/web.socket"),
                            *m2 = at("etc/keep.socket.d/10-x.conf");
        char *dirs[] = { d1, d2, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("etc");
        mkdir_rel("lib");
        mkdir_rel("etc/keep.socket.d");
        mkdir_rel("lib/keep.socket.d");
        ck_assert_int_eq(symlink("/dev/null", m1), 0);
        ck_assert_int_eq(symlink("/dev/null", m2), 0);
        write_rel("lib/web.socket", GOOD_SOCKET);
        write_rel("lib/keep.socket", "[Socket]\nListenStream=80\n");
        write_rel("lib/keep.socket.d/10-x.conf", "[Socket]\nAccept=maybe\n");

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        if (n_diags)
                dump_diags();
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_str_eq(units[0]->name, "keep.socket");
        ck_assert_ptr_null(unit_extra(units[0])->dropins);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_other_files) {
        _cleanup_free_ char *d = at("u"), *missing = at("missing"), *timer = at("u/foo.timer"),
                            *readme = at("u/README"), *bad = at("u/bad name.service");
        char *dirs[] = { missing, d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;
        const Diag *e;

        mkdir_rel("u");
        mkdir_rel("u/multi-user.target.wants");
        write_rel("u/web.service", GOOD_SERVICE);
        write_rel("u/foo.timer", "[Timer]\nOnCalendar=daily\n");
        write_rel("u/web.service~", "backup\n");
        write_rel("u/web.socket.bak", "backup\n");
        write_rel("u/.hidden.service", GOOD_SERVICE);
        write_rel("u/README", "hello\n");
        write_rel("u/bad name.service", GOOD_SERVICE);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_str_eq(units[0]->name, "web.service");

        /* Exactly two warnings: the timer and the bad name. Nothing for the missing
         * directory, backups, hidden files, .wants directories, or other files (the README:
         * a unit directory may hold the programs its units run). */
        if (n_diags != 2)
                dump_diags();
        ck_assert_uint_eq(n_diags, 2);
        e = find_diag(LOG_WARNING, "Not a unit berth runs");
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->file, timer);
        ck_assert(endswith(e->msg, ", ignoring"));
        ck_assert_ptr_null(find_diag(LOG_WARNING, "Not a unit file"));
        (void) readme;
        e = find_diag(LOG_WARNING, "Invalid unit name");
        ck_assert_ptr_nonnull(e);
        ck_assert_str_eq(e->file, bad);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_dropin_without_unit) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("u");
        mkdir_rel("u/ghost.service.d");
        write_rel("u/ghost.service.d/x.conf", "[Service]\nUser=nobody\n");

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_ptr_nonnull(find_diag(LOG_WARNING, "no unit file"));
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_too_many_dropins) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("u");
        mkdir_rel("u/big.socket.d");
        write_rel("u/big.socket", GOOD_SOCKET);
        write_rel("u/small.socket", GOOD_SOCKET);
        write_confs("u/big.socket.d", UNIT_DIR_DROPINS_MAX + 1, "[Socket]\nBacklog=1\n");

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(n_failed, 1);
        ck_assert_str_eq(units[0]->name, "small.socket");
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "Too many drop-ins"));
        unit_array_free(units, n);
}
END_TEST

/* Past the cap on units, the first ones in lexical order are listed for loading and every
 * other one is refused by name; nothing else is lost. */
START_TEST(test_too_many_units) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        UnitFileList l = {};

        mkdir_rel("u");
        for (unsigned i = 0; i < 5; i++) {
                char rel[64];
                snprintf(rel, sizeof rel, "u/s%u.service", i);
                write_rel(rel, GOOD_SERVICE);
        }
        ck_assert_int_eq(unit_dir_enumerate_max(dirs, 3, collect, NULL, &l), 0);
        ck_assert_uint_eq(l.n_entries, 5);
        for (size_t i = 0; i < 5; i++)
                ck_assert(l.entries[i].invalid == (i >= 3));
        ck_assert_uint_eq(count_level(LOG_ERR), 2);
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "s3.service is not loaded: the unit directories "
                                                 "hold more than 3 units"));
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "s4.service is not loaded"));
        unit_file_list_done(&l);
}
END_TEST

/* Past the cap on files (UNIT_DIR_FILES_PER_UNIT per unit allowed: 24 here), each further file
 * is refused by path with its unit's name, and so is every unit it belongs or applies to;
 * the units whose files all fit load. The directories are read in order, so which files fit
 * is known: etc's 23, then one of lib's. */
START_TEST(test_too_many_files) {
        _cleanup_free_ char *d1 = at("etc"), *d2 = at("lib"), *d3 = at("usr");
        _cleanup_free_ char *late = at("usr/c.service");
        char *dirs[] = { d1, d2, d3, NULL };
        UnitFileList l = {};
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        mkdir_rel("etc");
        mkdir_rel("lib");
        mkdir_rel("usr");
        mkdir_rel("etc/a.socket.d");
        mkdir_rel("lib/t@.service.d");
        write_rel("etc/a.socket", GOOD_SOCKET);
        write_confs("etc/a.socket.d", 20, "[Socket]\nBacklog=3\n");
        write_rel("etc/t@.service", GOOD_SERVICE);
        write_rel("etc/t@one.service", GOOD_SERVICE);
        write_confs("lib/t@.service.d", 4, "[Service]\nUser=nobody\n");
        write_rel("usr/c.service", GOOD_SERVICE);

        ck_assert_int_eq(unit_dir_enumerate_max(dirs, 3, collect, NULL, &l), 0);
        ck_assert_uint_eq(l.n_entries, 3);
        ck_assert_str_eq(l.entries[0].name, "a.socket");
        ck_assert(!l.entries[0].invalid);
        ck_assert_uint_eq(strv_length(l.entries[0].dropins), 20);
        ck_assert_str_eq(l.entries[1].name, "t@.service");
        ck_assert(l.entries[1].invalid);
        ck_assert_str_eq(l.entries[2].name, "t@one.service");
        ck_assert(l.entries[2].invalid);
        /* Three drop-ins of lib, c.service, and the instance the template's drop-in applies
         * to. */
        if (count_level(LOG_ERR) != 5 || n_diags != 5)
                dump_diags();
        ck_assert_uint_eq(count_level(LOG_ERR), 5);
        ck_assert_uint_eq(n_diags, 5);
        assert_diag(LOG_ERR, late, 0, "c.service is not loaded: the unit directories hold more "
                                      "than 24 files");
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "t@.service is not loaded"));
        ck_assert_ptr_nonnull(find_diag(LOG_ERR, "t@one.service is not loaded: a drop-in of "
                                                 "t@.service"));

        ck_assert_int_eq(unit_file_list_load(&l, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_uint_eq(n_failed, 2);
        ck_assert_str_eq(units[0]->name, "a.socket");
        ck_assert_int_eq(units[0]->socket.backlog, 3);
        unit_array_free(units, n);
        unit_file_list_done(&l);
}
END_TEST

/* The acceptance test of SPEC §8's scale: 50,000 socket+service pairs, 100,000 units, written
 * to a temporary directory and loaded through the code berthd loads with (unit_dir_load()),
 * every one of them, with no diagnostic. */
#define SCALE_PAIRS 50000U

/* Writes s<i>.socket and s<i>.service into dfd. Returns whether both were written: check's
 * assertions each cost a write to the test runner, so the loops assert once, at the end. */
static bool write_pair(int dfd, unsigned i) {
        static const char *const kinds[] = { "socket", "service" };
        bool ok = true;

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                char name[64], text[128];
                int fd, len;

                snprintf(name, sizeof name, "s%06u.%s", i, kinds[k]);
                if (k == 0)
                        len = snprintf(text, sizeof text, "[Socket]\nListenStream=127.0.0.1:%u\n",
                                       10000 + i);
                else
                        len = snprintf(text, sizeof text, "%s", GOOD_SERVICE);
                fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                ok = ok && fd >= 0 && write(fd, text, (size_t) len) == len;
                ok = fd >= 0 && close(fd) == 0 && ok;
        }
        return ok;
}

/* Whether units[2i] and units[2i + 1] are pair i as write_pair() wrote it: in name order,
 * the service before the socket ('e' < 'o'). */
static bool pair_loaded(Unit **units, unsigned i) {
        const Unit *svc = units[2 * i], *sock = units[2 * i + 1];
        char name[64], port[32];

        snprintf(name, sizeof name, "s%06u.socket", i);
        snprintf(port, sizeof port, "127.0.0.1:%u", 10000 + i);
        return svc->type == UNIT_SERVICE && svc->service.n_exec_start == 1 &&
               sock->type == UNIT_SOCKET && streq(sock->name, name) &&
               sock->socket.n_listens == 1 && streq(LISTEN_TEXT(&sock->socket.listens[0]), port);
}

START_TEST(test_load_100000_units) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;
        unsigned n_written = 0, n_right = 0;
        int dfd;

        mkdir_rel("u");
        dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dfd, 0);
        for (unsigned i = 0; i < SCALE_PAIRS; i++)
                n_written += write_pair(dfd, i);
        ck_assert_int_eq(close(dfd), 0);
        ck_assert_uint_eq(n_written, SCALE_PAIRS);

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        if (n_diags)
                dump_diags();
        ck_assert_uint_eq(n_diags, 0);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_uint_eq(n, 2 * SCALE_PAIRS);
        for (unsigned i = 0; i < SCALE_PAIRS; i++)
                n_right += pair_loaded(units, i);
        ck_assert_uint_eq(n_right, SCALE_PAIRS);
        unit_array_free(units, n);
}
END_TEST

/* Sets rel's mtime (and atime) to ago seconds before now: a file last written long enough ago
 * that its times can be trusted (UNIT_STAMP_RACY_USEC). */
static void age_rel(const char *rel, time_t ago) {
        _cleanup_free_ char *p = at(rel);
        struct timespec ts[2] = { { .tv_sec = time(NULL) - ago }, { .tv_sec = time(NULL) - ago } };
        ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
}

/* Loads the one unit of root, with its entry and stamp. */
static Unit *load_one(UnitFileList *l, uint64_t *ret_stamp) {
        char *dirs[] = { root, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        unit_file_list_done(l);
        ck_assert_int_eq(unit_dir_enumerate_stamped(dirs, NULL, UNIT_DIR_UNITS_MAX, collect, NULL, l), 0);
        ck_assert_uint_eq(l->n_entries, 1);
        *ret_stamp = unit_entry_stamp(&l->entries[0]);
        ck_assert_int_eq(unit_file_list_load(l, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 1);
        Unit *u = units[0];
        free(units);
        return u;
}

/* What lets a daemon-reload trust a unit unread: its files, as stat() sees them, and only
 * once they are old enough that a change within the clock's granularity cannot hide. */
START_TEST(test_stamps) {
        _cleanup_(unit_file_list_done) UnitFileList l = {};
        _cleanup_(unit_freep) Unit *u = NULL, *v = NULL;
        uint64_t stamp, again;

        /* Just written: racy, never trusted. */
        write_rel("a.service", GOOD_SERVICE);
        u = load_one(&l, &stamp);
        ck_assert_uint_eq(stamp, 0);
        ck_assert_uint_eq(u->files_stamp, 0);
        ck_assert(!unit_matches_entry(u, &l.entries[0], unit_entry_stamp(&l.entries[0])));
        unit_free(u);

        /* A minute old: stamped, and the same while nothing changes. */
        age_rel("a.service", 60);
        u = load_one(&l, &stamp);
        ck_assert_uint_ne(stamp, 0);
        ck_assert_uint_eq(u->files_stamp, stamp);
        unit_file_list_done(&l);
        char *dirs[] = { root, NULL };
        ck_assert_int_eq(unit_dir_enumerate_stamped(dirs, NULL, UNIT_DIR_UNITS_MAX, collect, NULL, &l), 0);
        again = unit_entry_stamp(&l.entries[0]);
        ck_assert_uint_eq(again, stamp);
        ck_assert(unit_matches_entry(u, &l.entries[0], again));
        /* A plain listing (a load, --check) looks at no file before it reads it: no stamp. */
        unit_file_list_done(&l);
        ck_assert_int_eq(unit_dir_enumerate(dirs, collect, NULL, &l), 0);
        ck_assert_uint_eq(unit_entry_stamp(&l.entries[0]), 0);
        unit_file_list_done(&l);
        ck_assert_int_eq(unit_dir_enumerate_stamped(dirs, NULL, UNIT_DIR_UNITS_MAX, collect, NULL,
                                                    &l), 0);

        /* Rewritten with the same size and its old mtime put back: the ctime tells. */
        struct stat st;
        _cleanup_free_ char *p = at("a.service");
        ck_assert_int_eq(stat(p, &st), 0);
        write_rel("a.service", "[Service]\nExecStart=/bin/tru2\n");
        ck_assert_int_eq(utimensat(AT_FDCWD, p, (struct timespec[]) { st.st_atim, st.st_mtim }, 0),
                         0);
        v = load_one(&l, &again);
        ck_assert_uint_ne(again, 0);
        ck_assert_uint_ne(again, stamp);
        ck_assert(!unit_matches_entry(u, &l.entries[0], again));

        /* A drop-in appears (old enough): other files, so not the same unit. */
        mkdir_rel("a.service.d");
        write_rel("a.service.d/10-x.conf", "[Service]\nUMask=0077\n");
        age_rel("a.service.d/10-x.conf", 60);
        unit_file_list_done(&l);
        ck_assert_int_eq(unit_dir_enumerate_stamped(dirs, NULL, UNIT_DIR_UNITS_MAX, collect, NULL, &l), 0);
        again = unit_entry_stamp(&l.entries[0]);
        ck_assert_uint_ne(again, 0);
        ck_assert(!unit_matches_entry(v, &l.entries[0], again));
        /* ... and a fresh drop-in makes the whole unit racy. */
        write_rel("a.service.d/10-x.conf", "[Service]\nUMask=0022\n");
        ck_assert_uint_eq(unit_entry_stamp(&l.entries[0]), 0);
}
END_TEST

START_TEST(test_empty_and_missing) {
        _cleanup_free_ char *missing = at("nope");
        char *dirs[] = { missing, NULL };
        char *none[] = { NULL };
        Unit **units = NULL;
        size_t n = 7, n_failed = 7;

        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_uint_eq(n_failed, 0);
        ck_assert_uint_eq(n_diags, 0);
        unit_array_free(units, n);

        ck_assert_int_eq(unit_dir_load(none, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 0);
        unit_array_free(units, n);
}
END_TEST

START_TEST(test_not_a_directory) {
        _cleanup_free_ char *f = at("file");
        char *dirs[] = { f, NULL };
        Unit **units = NULL;
        size_t n = 0, n_failed = 0;

        write_rel("file", "x\n");
        ck_assert_int_eq(unit_dir_load(dirs, collect, NULL, &units, &n, &n_failed), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_ptr_nonnull(find_diag(LOG_WARNING, "Cannot open unit directory"));
        unit_array_free(units, n);
}
END_TEST

/* at() into a buffer: nothing to free. */
static const char *ab(char buf[static 256], const char *rel) {
        snprintf(buf, 256, "%s/%s", root, rel);
        return buf;
}

/* Drop-ins of a template apply to its instances, and those of a name's prefixes ending in '-'
 * to every unit of that prefix, the more specific first; a masked one hides the file name. */
START_TEST(test_template_and_prefix_dropins) {
        _cleanup_free_ char *d = at("u");
        char *dirs[] = { d, NULL };
        UnitFileList l = {};
        char i1[] = "web@one.socket", i2[] = "web@two.socket", i3[] = "nope@x.socket";
        char *instances[] = { i1, i2, i3, NULL };
        char b[6][256];

        mkdir_rel("u");
        write_rel("u/foo-bar-baz.service", GOOD_SERVICE);
        write_rel("u/web@.socket", GOOD_SOCKET);
        write_rel("u/web@.service", GOOD_SERVICE);
        write_rel("u/web@two.socket", GOOD_SOCKET);
        mkdir_rel("u/foo-.service.d");
        write_rel("u/foo-.service.d/10-a.conf", "");
        write_rel("u/foo-.service.d/30-c.conf", "");
        mkdir_rel("u/foo-bar-.service.d");
        write_rel("u/foo-bar-.service.d/10-a.conf", "");
        write_rel("u/foo-bar-.service.d/20-b.conf", "");
        mkdir_rel("u/foo-bar-baz.service.d");
        ck_assert_int_eq(symlink("/dev/null", ab(b[0], "u/foo-bar-baz.service.d/30-c.conf")), 0);
        mkdir_rel("u/web@.socket.d");
        write_rel("u/web@.socket.d/10-t.conf", "");
        mkdir_rel("u/web@one.socket.d");
        write_rel("u/web@one.socket.d/20-i.conf", "");

        ck_assert_int_eq(unit_dir_enumerate_full(dirs, instances, 100, collect, NULL, &l), 0);
        ck_assert_uint_eq(l.n_entries, 7);
        ck_assert_str_eq(l.entries[0].name, "foo-bar-baz.service");
        assert_strv(l.entries[0].dropins, (const char *const[]) {
                ab(b[1], "u/foo-bar-.service.d/10-a.conf"),
                ab(b[2], "u/foo-bar-.service.d/20-b.conf"),
                NULL });
        ck_assert_str_eq(l.entries[1].name, "web@.service");
        ck_assert_str_eq(l.entries[2].name, "web@.socket");
        assert_strv(l.entries[2].dropins, (const char *const[]) {
                ab(b[3], "u/web@.socket.d/10-t.conf"), NULL });
        /* made from the template, with its own drop-ins after the template's */
        ck_assert_str_eq(l.entries[3].name, "web@one.service");
        ck_assert_str_eq(l.entries[3].path, ab(b[4], "u/web@.service"));
        ck_assert_str_eq(l.entries[4].name, "web@one.socket");
        ck_assert_str_eq(l.entries[4].path, ab(b[5], "u/web@.socket"));
        assert_strv(l.entries[4].dropins, (const char *const[]) {
                ab(b[0], "u/web@.socket.d/10-t.conf"),
                ab(b[1], "u/web@one.socket.d/20-i.conf"), NULL });
        ck_assert_str_eq(l.entries[5].name, "web@two.service");
        /* a file of its own wins over the template */
        ck_assert_str_eq(l.entries[6].name, "web@two.socket");
        ck_assert_str_eq(l.entries[6].path, ab(b[2], "u/web@two.socket"));
        ck_assert_ptr_null(find_diag(LOG_WARNING, "no unit file"));
        unit_file_list_done(&l);
}
END_TEST

static Suite *unit_dir_suite(void) {
        Suite *s = suite_create("unit-dir");
        TCase *tc = tcase_create("dirs");

        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_bad_unit_does_not_stop_others);
        tcase_add_test(tc, test_masking_first_dir_wins);
        tcase_add_test(tc, test_template_and_instance);
        tcase_add_test(tc, test_dropins_across_dirs);
        tcase_add_test(tc, test_dev_null_masks);
        tcase_add_test(tc, test_other_files);
        tcase_add_test(tc, test_dropin_without_unit);
        tcase_add_test(tc, test_too_many_dropins);
        tcase_add_test(tc, test_too_many_units);
        tcase_add_test(tc, test_too_many_files);
        tcase_add_test(tc, test_empty_and_missing);
        tcase_add_test(tc, test_not_a_directory);
        tcase_add_test(tc, test_template_and_prefix_dropins);
        tcase_add_test(tc, test_stamps);
        suite_add_tcase(s, tc);

        /* Writing, loading and removing 100,000 files: seconds, more under the sanitizers. */
        tc = tcase_create("scale");
        tcase_add_checked_fixture(tc, setup_scale, teardown);
        tcase_set_timeout(tc, 240);
        tcase_add_test(tc, test_load_100000_units);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        SRunner *sr = srunner_create(unit_dir_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
