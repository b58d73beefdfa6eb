/* Fuzzes daemon-reload's diffs (reload.c): an old and a new set of socket units are loaded
 * from the input, checked and planned as the manager does, and diffed unit by unit
 * (reload_diff_units) and socket by socket (reload_diff_sockets), then a failure is explained
 * (load_diag_explain). Input: up to four unit texts for the old set, then a line "====", then
 * up to four for the new set, texts separated by lines "----". The n-th text of a set is
 * s<n>.socket; an empty text means the unit is not on disk. The invariants are what the
 * manager relies on when it hands sockets over: every new spec gets one action, a kept or
 * rebound spec names a distinct old listener, KEEP only for the very same socket, and each
 * unit's change matches the versions that exist. Host names are not resolved: the target
 * runs in a network namespace of its own, or does nothing. */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <syslog.h>
#include <unistd.h>

#include "common/macro.h"
#include "daemon/bind-plan.h"
#include "daemon/listener.h"
#include "daemon/reload.h"
#include "daemon/unit-dir.h"
#include "daemon/unit-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SET_MAX 4
#define FUZZ_INPUT_MAX (64U * 1024U)

static const char *const names[SET_MAX] = { "s0.socket", "s1.socket", "s2.socket", "s3.socket" };

/* Splits text (modified) at lines equal to sep; returns how many pieces, at most max. */
static size_t split(char *text, const char *sep, char **pieces, size_t max) {
        size_t n = 0, k = strlen(sep);
        char *p = text;

        pieces[n++] = text;
        while (n < max && (p = strstr(p, sep))) {
                if ((p == text || p[-1] == '\n') && (p[k] == '\n' || p[k] == '\0')) {
                        *p = '\0';
                        p += k + (p[k] == '\n');
                        pieces[n++] = p;
                } else
                        p += k;
        }
        return n;
}

/* Loads the set: units sorted by name (the names are), NULL where not on disk or invalid. */
static size_t load_set(char *text, Unit **units, UnitFileEntry *entries, size_t *n_entries) {
        char *pieces[SET_MAX] = {};
        size_t n = split(text, "----", pieces, SET_MAX), k = 0;

        *n_entries = 0;
        for (size_t i = 0; i < n; i++) {
                const char *path = names[i];
                const char *t = pieces[i];
                Unit *u = NULL;

                if (t[0] == '\0')
                        continue;
                entries[(*n_entries)++] = (UnitFileEntry) { .name = (char *) names[i] };
                if (unit_file_load_strings(names[i], &path, &t, 1, NULL, NULL, &u) == 0)
                        units[k++] = u;
        }
        return k;
}

static void plan_set(Unit **units, size_t n, BindPlan *plan) {
        HostInfo host = { .ipv6 = true, .bindv6only = 0 };
        _cleanup_strv_free_ char **conflicts = NULL;

        for (size_t i = 0; i < n; i++)
                (void) bind_plan_add_unit(plan, units[i], &host, NULL, NULL);
        if (bind_plan_check_overlap(plan, NULL, NULL, &conflicts) > 0)
                STRV_FOREACH(c, conflicts)
                        bind_plan_remove_unit(plan, *c);
}

static void check_units(Unit **old, size_t n_old, Unit **loaded, size_t n_loaded,
                        const UnitFileList *list) {
        _cleanup_free_ ReloadUnit *d = NULL;
        size_t n = 0;

        if (reload_diff_units(old, n_old, loaded, n_loaded, list, &d, &n) < 0)
                abort();
        for (size_t i = 0; i < n; i++) {
                Unit *nu = unit_array_find(loaded, n_loaded, d[i].name);
                Unit *ou = unit_array_find(old, n_old, d[i].name);
                ReloadUnitChange want = d[i].change == RELOAD_UNIT_REMOVED ? RELOAD_UNIT_REMOVED :
                                        !ou ? RELOAD_UNIT_NEW :
                                        nu  ? RELOAD_UNIT_UPDATED :
                                              RELOAD_UNIT_KEPT;
                if (!d[i].name || d[i].change != want || d[i].old != ou)
                        abort();
                if (d[i].unit != (want == RELOAD_UNIT_REMOVED ? NULL : nu ?: ou))
                        abort();
                if (reload_unit_fall_back(&d[i]) != (want == RELOAD_UNIT_UPDATED))
                        abort();
        }
}

static void check_sockets(const BindPlan *old_plan, const BindPlan *plan) {
        Listener *old[64] = {};
        size_t n_old = MIN(old_plan->n_specs, ELEMENTSOF(old));
        _cleanup_free_ ReloadSocketAction *actions = NULL;
        _cleanup_free_ ssize_t *index = NULL;
        bool taken[64] = {};

        for (size_t i = 0; i < n_old; i++)
                if (listener_new(&old[i], &old_plan->specs[i]) < 0)
                        abort();
        if (reload_diff_sockets(old, n_old, plan, &actions, &index) < 0)
                abort();
        for (size_t j = 0; j < plan->n_specs; j++) {
                if (actions[j] == RELOAD_SOCKET_BIND) {
                        if (index[j] != -1)
                                abort();
                        continue;
                }
                if (index[j] < 0 || (size_t) index[j] >= n_old || taken[index[j]])
                        abort();
                taken[index[j]] = true;
                if ((actions[j] == RELOAD_SOCKET_KEEP) != listener_same(old[index[j]],
                                                                        &plan->specs[j]))
                        abort();
        }
        for (size_t i = 0; i < n_old; i++)
                listener_free(old[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static int isolated = -1;
        _cleanup_free_ char *text = NULL;
        char *sets[2] = {};
        Unit *old[SET_MAX] = {}, *loaded[SET_MAX] = {};
        UnitFileEntry old_entries[SET_MAX], entries[SET_MAX];
        size_t n_old, n_loaded, n_old_entries, n_entries;
        BindPlan old_plan = {}, plan = {};

        if (isolated < 0) {
                isolated = geteuid() == 0 && unshare(CLONE_NEWNET) == 0;
                if (!isolated)
                        fprintf(stderr, "fuzz-reload: not root: no private network namespace, "
                                        "so no input runs (host names would be resolved)\n");
        }
        if (!isolated || size > FUZZ_INPUT_MAX)
                return 0;
        text = strndup((const char *) data, size);
        if (!text)
                abort();
        if (split(text, "====", sets, 2) < 2)
                return 0;
        n_old = load_set(sets[0], old, old_entries, &n_old_entries);
        n_loaded = load_set(sets[1], loaded, entries, &n_entries);
        UnitFileList list = { .entries = entries, .n_entries = n_entries };

        check_units(old, n_old, loaded, n_loaded, &list);
        plan_set(old, n_old, &old_plan);
        plan_set(loaded, n_loaded, &plan);
        check_sockets(&old_plan, &plan);

        bind_plan_done(&old_plan);
        bind_plan_done(&plan);
        for (size_t i = 0; i < SET_MAX; i++) {
                unit_free(old[i]);
                unit_free(loaded[i]);
        }
        return 0;
}
