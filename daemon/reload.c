/* reload: the daemon-reload transaction and the load bookkeeping; see reload.h. */
#include <stdio.h>

#include "common/log.h"
#include "common/string-table.h"
#include "common/strv.h"
#include "daemon/reload.h"

/* ---- failures and diagnostics ---- */

int unit_failures_add(UnitFailures *f, const char *name, const char *message) {
        UnitFailure *x = (UnitFailure *) unit_failures_find(f, name), *a;

        if (x) {
                if (!x->message && message && !(x->message = strdup(message)))
                        return -ENOMEM;
                return 0;
        }
        if (f->n == f->n_allocated) {
                size_t k = MAX(f->n_allocated * 2, (size_t) 8);
                a = reallocarray(f->items, k, sizeof *a);
                if (!a)
                        return -ENOMEM;
                f->items = a;
                f->n_allocated = k;
        }
        a = f->items;
        a[f->n] = (UnitFailure) { .name = strdup(name),
                                  .message = message ? strdup(message) : NULL };
        if (!a[f->n].name || (message && !a[f->n].message) ||
            strmap_put(&f->by_name, a[f->n].name, (void *) (uintptr_t) (f->n + 1)) < 0) {
                free(a[f->n].name);
                free(a[f->n].message);
                return -ENOMEM;
        }
        f->n++;
        return 0;
}

const UnitFailure *unit_failures_find(const UnitFailures *f, const char *name) {
        uintptr_t i = (uintptr_t) strmap_get(&f->by_name, name);
        return i > 0 ? &f->items[i - 1] : NULL;
}

void unit_failures_done(UnitFailures *f) {
        for (size_t i = 0; i < f->n; i++) {
                free(f->items[i].name);
                free(f->items[i].message);
        }
        free(f->items);
        strmap_done(&f->by_name);
        *f = (UnitFailures) {};
}

bool unit_socket_activated(const char *svc, const UnitIndex *x, const UnitFailures *f,
                           const Unit **ret_unit, const UnitFailure **ret_failure) {
        const char *suffix = endswith(svc, ".service");
        Unit *const *sockets;

        *ret_unit = NULL;
        *ret_failure = NULL;
        if (unit_index_activators(x, svc, &sockets) > 0) {
                *ret_unit = sockets[0];
                return true;
        }
        if (suffix && f && f->n > 0) {
                /* NAME.socket for NAME.service: one lookup, no walk. */
                char socket[UNIT_NAME_MAX + sizeof ".socket"];
                size_t len = (size_t) (suffix - svc);
                if (len <= UNIT_NAME_MAX) {
                        memcpy(socket, svc, len);
                        strcpy(socket + len, ".socket");
                        *ret_failure = unit_failures_find(f, socket);
                }
        }
        return *ret_failure != NULL;
}

static bool unit_suffix(const char *s, size_t len) {
        static const char *const suffixes[] = { ".socket", ".service" };

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t k = strlen(suffixes[i]);
                if (len > k && strncmp(s + len - k, suffixes[i], k) == 0)
                        return true;
        }
        return false;
}

bool unit_name_of_path(const char *path, char *buf, size_t buflen) {
        const char *base, *slash;
        size_t len;

        if (!path)
                return false;
        slash = strrchr(path, '/');
        base = slash ? slash + 1 : path;
        len = strlen(base);
        if (!unit_suffix(base, len)) {
                /* A drop-in: ".../NAME.d/FILE.conf" belongs to NAME. */
                if (!slash || slash == path)
                        return false;
                const char *dir_end = slash;
                const char *dir = dir_end;
                while (dir > path && dir[-1] != '/')
                        dir--;
                len = dir_end - dir;
                if (len < 3 || strncmp(dir_end - 2, ".d", 2) != 0)
                        return false;
                len -= 2;
                base = dir;
                if (!unit_suffix(base, len))
                        return false;
        }
        if (len >= buflen)
                return false;
        memcpy(buf, base, len);
        buf[len] = 0;
        return true;
}

void load_diag_on_diag(int level, const char *file, unsigned line, const char *msg,
                       void *userdata) {
        LoadDiag *d = userdata;
        _cleanup_free_ char *text = NULL;
        char unit[UNIT_NAME_MAX + 1];
        int r;

        if (file && line > 0)
                r = asprintf(&text, "%s:%u: %s", file, line, msg);
        else if (file)
                r = asprintf(&text, "%s: %s", file, msg);
        else
                r = asprintf(&text, "%s", msg);
        if (r < 0) {
                d->oom = true;
                return;
        }
        log_full_errno(level, 0, "%s%s", strempty(d->log_prefix), text);
        if (level <= LOG_ERR) {
                d->n_errors++;
                if (!unit_name_of_path(file, unit, sizeof unit))
                        unit[0] = 0;
                if (strv_extend(&d->errors, text) < 0 || strv_extend(&d->error_units, unit) < 0)
                        d->oom = true;
        } else if (level == LOG_WARNING) {
                d->n_warnings++;
                if (strv_extend(&d->warnings, text) < 0)
                        d->oom = true;
        }
}

void load_diag_done(LoadDiag *d) {
        d->errors = strv_free(d->errors);
        d->warnings = strv_free(d->warnings);
        d->error_units = strv_free(d->error_units);
}

int load_diag_explain(const LoadDiag *d, Unit **units, size_t n_units, UnitFailures *f) {
        size_t n = strv_length(d->errors);
        int r;

        for (size_t i = 0; i < n; i++) {
                const char *name = d->error_units[i];
                if (!name[0] || unit_array_find(units, n_units, name))
                        continue;
                r = unit_failures_add(f, name, d->errors[i]);
                if (r < 0)
                        return r;
        }
        /* The first error about each unit. */
        _cleanup_(strmap_done) StrMap first = {};
        for (size_t i = n; i > 0; i--)
                if (strmap_put(&first, d->error_units[i - 1], d->errors[i - 1]) < 0)
                        return -ENOMEM;
        for (size_t k = 0; k < f->n; k++) {
                const char *e = f->items[k].message ? NULL : strmap_get(&first, f->items[k].name);
                if (e && !(f->items[k].message = strdup(e)))
                        return -ENOMEM;
                if (!f->items[k].message &&
                    asprintf(&f->items[k].message, "%s failed to load; see berthd's log",
                             f->items[k].name) < 0) {
                        f->items[k].message = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

/* ---- the diffs ---- */

DEFINE_STRING_TABLE(reload_unit_change, ReloadUnitChange,
                    [RELOAD_UNIT_NEW] = "new",
                    [RELOAD_UNIT_UPDATED] = "updated",
                    [RELOAD_UNIT_KEPT] = "kept",
                    [RELOAD_UNIT_UNCHANGED] = "unchanged",
                    [RELOAD_UNIT_REMOVED] = "removed")

DEFINE_STRING_TABLE(reload_socket_action, ReloadSocketAction,
                    [RELOAD_SOCKET_KEEP] = "keep",
                    [RELOAD_SOCKET_REBIND] = "rebind",
                    [RELOAD_SOCKET_BIND] = "bind")

int reload_diff_units(Unit **old, size_t n_old, Unit **loaded, size_t n_loaded,
                      const UnitFileList *list, ReloadUnit **ret, size_t *ret_n) {
        ReloadUnit *a = calloc(list->n_entries + n_old + 1, sizeof *a);
        size_t n = 0;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < list->n_entries; i++) {
                const char *name = list->entries[i].name;
                Unit *nu = unit_array_find(loaded, n_loaded, name);
                Unit *ou = unit_array_find(old, n_old, name);

                if (!nu && !ou)
                        continue; /* failed to load, and never loaded before */
                a[n++] = (ReloadUnit) {
                        .name = (nu ?: ou)->name,
                        .unit = nu ?: ou,
                        .old = ou,
                        .change = !ou       ? RELOAD_UNIT_NEW :
                                  nu == ou  ? RELOAD_UNIT_UNCHANGED :
                                  nu        ? RELOAD_UNIT_UPDATED :
                                              RELOAD_UNIT_KEPT,
                };
        }
        for (size_t i = 0; i < n_old; i++) {
                if (!unit_file_list_find(list, old[i]->name))
                        a[n++] = (ReloadUnit) { .name = old[i]->name, .old = old[i],
                                                .change = RELOAD_UNIT_REMOVED };
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

bool reload_unit_fall_back(ReloadUnit *u) {
        if (u->change != RELOAD_UNIT_UPDATED)
                return false;
        u->unit = u->old;
        u->change = RELOAD_UNIT_KEPT;
        return true;
}

int reload_diff_sockets(Listener *const *old, size_t n_old, const BindPlan *plan,
                        ReloadSocketAction **ret_actions, ssize_t **ret_old_index) {
        _cleanup_free_ ReloadSocketAction *actions = calloc(plan->n_specs + 1, sizeof *actions);
        _cleanup_free_ ssize_t *index = calloc(plan->n_specs + 1, sizeof *index);
        _cleanup_free_ bool *taken = calloc(n_old + 1, sizeof *taken);
        /* A listener is kept or rebound only by its own unit: the old listeners by unit name. */
        _cleanup_(unit_items_done) UnitItems by_unit = {};

        if (!actions || !index || !taken ||
            unit_items_build(&by_unit, old, n_old, listener_array_unit) < 0)
                return -ENOMEM;
        for (size_t j = 0; j < plan->n_specs; j++) {
                const BindSpec *sp = &plan->specs[j];

                actions[j] = RELOAD_SOCKET_BIND;
                index[j] = -1;
                UNIT_ITEMS_FOREACH(k, &by_unit, sp->unit)
                        if (!taken[k] && listener_same(old[k], sp)) {
                                actions[j] = RELOAD_SOCKET_KEEP;
                                index[j] = k;
                                taken[k] = true;
                                break;
                        }
        }
        /* Same unit and address with other options: the kernel will not hold both. */
        for (size_t j = 0; j < plan->n_specs; j++) {
                const BindSpec *sp = &plan->specs[j];

                if (actions[j] != RELOAD_SOCKET_BIND)
                        continue;
                UNIT_ITEMS_FOREACH(k, &by_unit, sp->unit)
                        if (!taken[k] && bind_spec_same_address(&old[k]->spec, sp)) {
                                actions[j] = RELOAD_SOCKET_REBIND;
                                index[j] = k;
                                taken[k] = true;
                                break;
                        }
        }
        *ret_actions = TAKE_PTR(actions);
        *ret_old_index = TAKE_PTR(index);
        return 0;
}

/* ---- the transaction ---- */

struct Reload {
        LoadDiag diag;
        UnitFileList list;
        Unit **loaded; /* the new versions read from disk; those not used are freed; and the
                        * unchanged units (borrowed from old), sorted by name together */
        bool *reused;  /* per loaded: an unchanged unit, borrowed */
        size_t n_loaded, n_read, n_bad, next_entry;
        ReloadUnit *units; /* the set that applies, with removed units last */
        size_t n_units;
        BindPlan plan;
        UnitFailures failed;
        Listener **listeners; /* per plan spec: kept (the caller's), bound anew (owned), or
                               * NULL (its unit failed) */
        bool *bound_new;
};

int reload_new(Reload **ret) {
        Reload *r = calloc(1, sizeof *r);

        if (!r)
                return -ENOMEM;
        r->diag.log_prefix = "daemon-reload: ";
        *ret = r;
        return 0;
}

Reload *reload_free(Reload *r) {
        if (!r)
                return NULL;
        for (size_t j = 0; r->listeners && j < r->plan.n_specs; j++)
                if (r->bound_new[j]) /* kept ones are the caller's */
                        listener_free(r->listeners[j]);
        free(r->listeners);
        free(r->bound_new);
        for (size_t i = 0; i < r->n_loaded; i++)
                if (!r->reused[i])
                        unit_free(r->loaded[i]);
        free(r->loaded);
        free(r->reused);
        free(r->units);
        bind_plan_done(&r->plan);
        unit_failures_done(&r->failed);
        unit_file_list_done(&r->list);
        load_diag_done(&r->diag);
        free(r);
        return NULL;
}

LoadDiag *reload_diag(Reload *r) {
        return &r->diag;
}

int reload_load_begin(Reload *r, char *const *dirs, char *const *instances) {
        int k = unit_dir_enumerate_stamped(dirs, instances, UNIT_DIR_UNITS_MAX, load_diag_on_diag,
                                        &r->diag, &r->list);
        if (k < 0)
                return k;
        r->loaded = calloc(r->list.n_entries + 1, sizeof(Unit *));
        r->reused = calloc(r->list.n_entries + 1, sizeof(bool));
        return r->loaded && r->reused ? 0 : -ENOMEM;
}

int reload_load_step(Reload *r, Unit **old, size_t n_old, size_t max) {
        size_t done = 0;
        int k;

        for (; r->next_entry < r->list.n_entries && done < max; r->next_entry++, done++) {
                const UnitFileEntry *e = &r->list.entries[r->next_entry];
                Unit *ou, *u;

                if (e->invalid) {
                        r->n_bad++;
                        continue;
                }
                /* Its files now, against what they were when ou was read (the load stamps
                 * each unit from the fstat() before its read: a change during the read
                 * shows next time). */
                uint64_t stamp = unit_entry_stamp(e);
                ou = unit_array_find(old, n_old, e->name);
                if (ou && unit_matches_entry(ou, e, stamp)) {
                        r->reused[r->n_loaded] = true;
                        r->loaded[r->n_loaded++] = ou;
                        continue;
                }
                k = unit_file_load(e->name, e->path, e->dropins, load_diag_on_diag, &r->diag, &u);
                if (k < 0)
                        return k;
                r->n_read++;
                if (k == UNIT_FILE_E_INVALID) {
                        r->n_bad++;
                        continue;
                }
                r->loaded[r->n_loaded++] = u;
        }
        if (r->next_entry < r->list.n_entries)
                return 1;
        return reload_diff_units(old, n_old, r->loaded, r->n_loaded, &r->list, &r->units,
                                 &r->n_units);
}

size_t reload_n_read(Reload *r) {
        return r->n_read;
}

int reload_load(Reload *r, char *const *dirs, char *const *instances, Unit **old,
                size_t n_old) {
        int k = reload_load_begin(r, dirs, instances);
        return k < 0 ? k : reload_load_step(r, old, n_old, SIZE_MAX);
}

/* The units that apply, as an array sorted by name; removed units are not in it. */
static int reload_unit_array(Reload *r, Unit ***ret, size_t *ret_n) {
        Unit **a = calloc(r->n_units + 1, sizeof(Unit *));
        size_t n = 0;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < r->n_units; i++)
                if (r->units[i].unit)
                        a[n++] = r->units[i].unit;
        *ret = a;
        *ret_n = n;
        return 0;
}

int reload_check(Reload *r, ReloadCheckFunc check, void *userdata) {
        _cleanup_(strmap_done) StrMap by_name = {}; /* name -> index + 1 in r->units */

        for (size_t j = 0; j < r->n_units; j++)
                if (strmap_put(&by_name, r->units[j].name, (void *) (uintptr_t) (j + 1)) < 0)
                        return -ENOMEM;
        /* Bounded: each round but the last falls back at least one unit. */
        for (size_t round = 0; round <= r->n_units; round++) {
                _cleanup_free_ Unit **units = NULL;
                size_t n = 0;
                bool changed = false;
                int k;

                bind_plan_done(&r->plan);
                unit_failures_done(&r->failed);
                k = reload_unit_array(r, &units, &n);
                if (k >= 0)
                        k = check(units, n, &r->plan, &r->failed,
                                  round == 0 ? load_diag_on_diag : NULL, &r->diag, userdata);
                if (k < 0)
                        return k;
                for (size_t i = 0; i < r->failed.n; i++) {
                        uintptr_t j = (uintptr_t) strmap_get(&by_name, r->failed.items[i].name);
                        if (j > 0)
                                changed = reload_unit_fall_back(&r->units[j - 1]) || changed;
                }
                if (!changed)
                        break;
        }
        if (r->diag.errors)
                log_warning("daemon-reload: units with errors keep their old configuration");
        return 0;
}

/* A new spec's listener failed to bind: its unit fails, with the reason. */
static int reload_bind_failed(Reload *r, size_t j, const char *err) {
        const BindSpec *sp = &r->plan.specs[j];
        _cleanup_free_ char *msg = NULL;

        if (asprintf(&msg, "%s: %s; the unit is not loaded", sp->unit->name, err) < 0)
                return -ENOMEM;
        load_diag_on_diag(LOG_ERR, sp->listen->origin.file, sp->listen->origin.line, msg,
                          &r->diag);
        r->listeners[j] = listener_free(r->listeners[j]);
        r->bound_new[j] = false;
        return unit_failures_add(&r->failed, sp->unit->name, NULL);
}

void reload_foreach_change(Reload *r, int change, ReloadUnitFunc fn, void *userdata) {
        for (size_t i = 0; i < r->n_units; i++)
                if ((int) r->units[i].change == change)
                        fn(r, r->units[i].unit ?: r->units[i].old, userdata);
}

int reload_fail_unit(Reload *r, const char *name, const char *message) {
        load_diag_on_diag(LOG_ERR, NULL, 0, message, &r->diag);
        return unit_failures_add(&r->failed, name, message);
}

int reload_sockets(Reload *r, Listener *const *old, size_t n_old, ReloadBindFunc bind,
                   void *userdata) {
        _cleanup_free_ ReloadSocketAction *actions = NULL;
        _cleanup_free_ ssize_t *old_index = NULL;
        int k;

        r->listeners = calloc(r->plan.n_specs + 1, sizeof(Listener *));
        r->bound_new = calloc(r->plan.n_specs + 1, sizeof(bool));
        if (!r->listeners || !r->bound_new)
                return -ENOMEM;
        k = reload_diff_sockets(old, n_old, &r->plan, &actions, &old_index);
        if (k < 0)
                return k;
        for (size_t j = 0; j < r->plan.n_specs; j++) {
                const BindSpec *sp = &r->plan.specs[j];
                char err[LISTENER_ERROR_MAX] = "", a[BIND_SPEC_NAME_MAX];

                if (unit_failures_find(&r->failed, sp->unit->name))
                        continue;
                if (actions[j] == RELOAD_SOCKET_KEEP) {
                        r->listeners[j] = old[old_index[j]];
                        continue;
                }
                k = listener_new(&r->listeners[j], sp);
                if (k < 0)
                        return k;
                r->bound_new[j] = true;
                k = bind(r->listeners[j], err, sizeof err, userdata);
                if (k == -EADDRINUSE && actions[j] == RELOAD_SOCKET_REBIND) {
                        /* Same address, new options: the kernel will not hold both. */
                        Listener *o = old[old_index[j]];
                        log_info("daemon-reload: %s: the options of %s changed; closing the old "
                                 "socket to bind the new one",
                                 sp->unit->name, bind_spec_name(sp, a, sizeof a));
                        o->fd = safe_close(o->fd);
                        err[0] = 0;
                        k = bind(r->listeners[j], err, sizeof err, userdata);
                }
                if (k < 0 && reload_bind_failed(r, j, err) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int reload_take_units(Reload *r, Unit ***ret_units, size_t *ret_n, UnitFailures *ret_failed) {
        _cleanup_free_ Unit **units = NULL;
        size_t n = 0;
        int k;

        k = reload_unit_array(r, &units, &n);
        if (k >= 0)
                k = load_diag_explain(&r->diag, units, n, &r->failed);
        if (k < 0)
                return k;
        /* The new versions that do not apply (their old ones do) go now. */
        for (size_t i = 0; i < r->n_loaded; i++)
                if (!r->reused[i] && unit_array_find(units, n, r->loaded[i]->name) != r->loaded[i])
                        unit_free(r->loaded[i]);
        free(r->loaded);
        r->loaded = NULL;
        r->n_loaded = 0;
        *ret_units = TAKE_PTR(units);
        *ret_n = n;
        *ret_failed = r->failed;
        r->failed = (UnitFailures) {};
        return 0;
}

int reload_take_listeners(Reload *r, const UnitFailures *failed, Listener ***ret, size_t *ret_n,
                          BindPlan *ret_plan) {
        Listener **ls = calloc(r->plan.n_specs + 1, sizeof(Listener *));
        size_t n = 0;
        int k = 0;

        if (!ls)
                return -ENOMEM;
        for (size_t j = 0; j < r->plan.n_specs; j++) {
                Listener *l = r->listeners[j];
                char line[ADDRESS_FORMAT_MAX + 512];

                /* A unit that failed to bind gives back what it had: kept listeners stay the
                 * caller's to close or retire, new ones are closed. */
                if (!l || unit_failures_find(failed, l->spec.unit->name))
                        continue;
                /* A kept listener now belongs to the new version of its unit. */
                if (!r->bound_new[j] && listener_set_spec(l, &r->plan.specs[j]) < 0)
                        k = -ENOMEM;
                if (r->bound_new[j])
                        log_info("%s", listener_describe_bound(l, line, sizeof line));
                ls[n++] = l;
                r->listeners[j] = NULL;
                r->bound_new[j] = false;
        }
        *ret = ls;
        *ret_n = n;
        *ret_plan = r->plan;
        r->plan = (BindPlan) {};
        return k;
}
