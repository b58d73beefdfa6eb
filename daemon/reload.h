/* reload: the daemon-reload transaction (SPEC §6), and the load bookkeeping it shares with the
 * first load. A Reload object lives for one call, is freed by a cleanup attribute, and runs in
 * named phases: load (read the directories), check until stable (a new version that fails
 * gives way to its old one), sockets (adopt unchanged listeners, bind the rest), swap (units,
 * listeners, plan and failures change hands at once) and relink (services get their new
 * units and listeners). The diffs (which unit version applies, which listener is kept) are
 * pure functions with unit tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/strmap.h"
#include "daemon/bind-plan.h"
#include "daemon/listener.h"
#include "daemon/unit-dir.h"
#include "daemon/unit-file.h"
#include "daemon/unit-index.h"

/* Units that failed to load or to bind, each with the message that explains it. */
typedef struct UnitFailure {
        char *name;
        char *message; /* "file:line: what is wrong" */
} UnitFailure;

typedef struct UnitFailures {
        UnitFailure *items; /* in the order they were added */
        size_t n, n_allocated;
        StrMap by_name;     /* name -> index + 1 */
} UnitFailures;

/* Adds name (once; a second add keeps the first message, or fills a missing one). message
 * may be NULL: load_diag_explain() fills it in. Returns 0 or -ENOMEM. */
int unit_failures_add(UnitFailures *f, const char *name, const char *message);
/* The failure of name, or NULL. */
const UnitFailure *unit_failures_find(const UnitFailures *f, const char *name);
void unit_failures_done(UnitFailures *f);

/* Whether a socket unit activates the service unit svc: one of the index's socket units whose
 * service it is (in *ret_unit, the first by name; x may be NULL), or, failing that, one that
 * failed to load (not among the units, so only its name tells: NAME.socket for NAME.service;
 * in *ret_failure). A service whose socket failed still waits for it: it is not started at
 * berthd's start without its socket. */
bool unit_socket_activated(const char *svc, const UnitIndex *x, const UnitFailures *f,
                           const Unit **ret_unit, const UnitFailure **ret_failure);

/* The unit a diagnostic's file belongs to: "web.socket" for ".../web.socket" and for
 * ".../web.socket.d/10-x.conf". Returns false when the path names no unit. */
bool unit_name_of_path(const char *path, char *buf, size_t buflen);

/* The diagnostics of one load: logged as they come (prefixed), counted, and kept as text so
 * that a failure can be explained and a reload's caller told. */
typedef struct LoadDiag {
        const char *log_prefix; /* "" or "daemon-reload: " */
        char **errors, **warnings; /* "file:line: message" */
        char **error_units;        /* per error: the unit it is about, or "" */
        unsigned n_errors, n_warnings;
        bool oom;
} LoadDiag;

/* A UnitDiagFunc: userdata is a LoadDiag. */
void load_diag_on_diag(int level, const char *file, unsigned line, const char *msg,
                       void *userdata);
void load_diag_done(LoadDiag *d);
/* Adds to f every unit an error was reported for that is not among units (it failed to
 * parse), and gives every failure in f without a message the first error about it. Returns 0
 * or -ENOMEM. */
int load_diag_explain(const LoadDiag *d, Unit **units, size_t n_units, UnitFailures *f);

/* ---- the transaction ---- */

typedef struct Reload Reload;

/* Checks a whole set of units (the manager's manager_check_units()). */
typedef int (*ReloadCheckFunc)(Unit **units, size_t n, BindPlan *plan, UnitFailures *failed,
                               UnitDiagFunc diag, void *diag_userdata, void *userdata);
/* Binds a new listener. Returns 0, or a negative errno with the reason in err. */
typedef int (*ReloadBindFunc)(Listener *l, char *err, size_t errlen, void *userdata);

int reload_new(Reload **ret);
Reload *reload_free(Reload *r);
static inline void reload_freep(Reload **r) {
        *r = reload_free(*r);
}
/* Its diagnostics: errors and warnings so far; log_prefix "daemon-reload: ". */
LoadDiag *reload_diag(Reload *r);

/* Phase 1: reads dirs (with the instances asked for, unit-dir.h) and decides which version
 * of each unit applies, against the units loaded now (old, borrowed). A unit whose files did
 * not change since old was read (unit_matches_entry()) is not read again: old stands for it,
 * unchanged. Returns 0 or a negative errno. */
int reload_load(Reload *r, char *const *dirs, char *const *instances, Unit **old,
                size_t n_old);
/* The same in steps, so that a reload of many units lets the event loop run in between:
 * reload_load_begin() lists the directories; each reload_load_step() reads at most max units
 * and returns 1 while some remain, then 0 once the diff is made (or a negative errno). old
 * must stay the same, and alive, from the first step to the last. */
int reload_load_begin(Reload *r, char *const *dirs, char *const *instances);
int reload_load_step(Reload *r, Unit **old, size_t n_old, size_t max);
/* Units read from disk in this reload so far (the others were unchanged). */
size_t reload_n_read(Reload *r);
/* Phase 2: checks the whole set with check; a new version that fails gives way to its old
 * one and the set is checked again, until it is stable. */
int reload_check(Reload *r, ReloadCheckFunc check, void *userdata);
/* Between phases 2 and 3: the units of this reload that changed as change says (the unit
 * that applies, or for a removed one the old), to fn in name order. */
typedef void (*ReloadUnitFunc)(Reload *r, const Unit *u, void *userdata);
void reload_foreach_change(Reload *r, int change, ReloadUnitFunc fn, void *userdata);
/* Fails a unit of the new set before its sockets are bound (a socket unit's ExecStartPre=
 * failed): its sockets are not bound, and message is its reason. Returns 0 or -ENOMEM. */
int reload_fail_unit(Reload *r, const char *name, const char *message);
/* Phase 3: keeps each listener of old (borrowed) that is the same socket, binds the rest
 * with bind; a unit whose socket fails to bind fails. */
int reload_sockets(Reload *r, Listener *const *old, size_t n_old, ReloadBindFunc bind,
                   void *userdata);
/* Phase 4: hands over the units that apply (a malloc'ed array sorted by name; new versions
 * are the caller's now, old ones stay where they are) and the failures, each explained. */
int reload_take_units(Reload *r, Unit ***ret_units, size_t *ret_n, UnitFailures *ret_failed);
/* And the listeners of the new set, in plan order, and the plan. Kept listeners (from old)
 * are updated to their unit's new version; those of a unit in failed are left out (a kept
 * one stays the caller's to close, a new one is freed). */
int reload_take_listeners(Reload *r, const UnitFailures *failed, Listener ***ret, size_t *ret_n,
                          BindPlan *ret_plan);

/* ---- the diffs ---- */

typedef enum ReloadUnitChange {
        RELOAD_UNIT_NEW,      /* on disk now, not loaded before */
        RELOAD_UNIT_UPDATED,  /* loaded before, and its new version loaded */
        RELOAD_UNIT_KEPT,     /* its new version has an error: the old one stays */
        RELOAD_UNIT_REMOVED,  /* loaded before, gone from disk */
        RELOAD_UNIT_UNCHANGED, /* its files are as they were: the loaded unit itself, unread */
        _RELOAD_UNIT_CHANGE_MAX,
        _RELOAD_UNIT_CHANGE_INVALID = -EINVAL,
} ReloadUnitChange;

typedef struct ReloadUnit {
        const char *name; /* borrowed from unit or old */
        Unit *unit;       /* the version that applies; NULL when removed */
        Unit *old;        /* the version loaded before, or NULL */
        ReloadUnitChange change;
} ReloadUnit;

/* Which version of each unit applies: every unit on disk (list) in its new version (loaded)
 * or, when that failed to load, its old one; then every old unit no longer on disk, as
 * removed. All arrays sorted by name. Returns 0 with a malloc'ed array, or -ENOMEM. */
int reload_diff_units(Unit **old, size_t n_old, Unit **loaded, size_t n_loaded,
                      const UnitFileList *list, ReloadUnit **ret, size_t *ret_n);
/* A unit whose new version failed a check of the whole set falls back to its old version.
 * Returns true when it did (and so the set must be checked again). */
bool reload_unit_fall_back(ReloadUnit *u);

typedef enum ReloadSocketAction {
        RELOAD_SOCKET_KEEP,   /* the same socket: the kernel socket is kept, fd and all */
        RELOAD_SOCKET_REBIND, /* same unit and address, other options: bind anew */
        RELOAD_SOCKET_BIND,   /* a new socket */
        _RELOAD_SOCKET_ACTION_MAX,
        _RELOAD_SOCKET_ACTION_INVALID = -EINVAL,
} ReloadSocketAction;

/* For each spec of plan: what happens to it, and for KEEP and REBIND which old listener it
 * takes or replaces (an index into old, else -1). Old listeners that no spec keeps are closed
 * or retired by the caller. Returns 0 with two malloc'ed arrays of plan->n_specs, or
 * -ENOMEM. */
int reload_diff_sockets(Listener *const *old, size_t n_old, const BindPlan *plan,
                        ReloadSocketAction **ret_actions, ssize_t **ret_old_index);

const char *reload_unit_change_to_string(ReloadUnitChange c);
const char *reload_socket_action_to_string(ReloadSocketAction a);
