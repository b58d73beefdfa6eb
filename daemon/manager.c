/* manager: the composition root (see manager.h). It loads and checks units, binds their
 * listeners, creates a service per service unit and links it to its listeners, and runs the
 * event loop: signals, children, the gc of what a daemon-reload left behind. Loading is
 * all-or-nothing per unit: a bad unit is reported, its reason kept, and the others go on. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <systemd/sd-daemon.h>

#include "common/control-interface.h"
#include "common/log.h"
#include "common/strv.h"
#include "common/time-util.h"
#include "daemon/cgroup.h"
#include "daemon/control.h"
#include "daemon/manager.h"
#include "daemon/manager-state.h"
#include "daemon/socket-hook.h"
#include "daemon/state.h"
#include "daemon/notify-parse.h"
#include "daemon/plan-print.h"
#include "daemon/proc-recover.h"
#include "daemon/proc-state.h"
#include "daemon/unit-dir.h"
#include "daemon/unit-index.h"

static void manager_reload_job_complete(Manager *m);
static void manager_reload_job_cancel(Manager *m);

int manager_new(Manager **ret, char *const *unit_dirs, const char *runtime_dir, bool user_mode) {
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof *m);

        if (!m)
                return -ENOMEM;
        m->unit_dirs = strv_copy(unit_dirs);
        m->runtime_dir = strdup(runtime_dir);
        if (!m->unit_dirs || !m->runtime_dir)
                return -ENOMEM;
        m->user_mode = user_mode;
        m->reexec_memfd = -1;
        *ret = TAKE_PTR(m);
        return 0;
}

static void manager_free_listeners(Manager *m) {
        for (size_t i = 0; i < m->n_listeners; i++)
                listener_free(m->listeners[i]);
        free(m->listeners);
        m->listeners = NULL;
        m->n_listeners = 0;
}

/* berthd stops, and every socket with it: RemoveOnStop= removes what they made. */
static void manager_remove_nodes(Manager *m) {
        for (size_t i = 0; i < m->n_listeners; i++)
                listener_remove_nodes(m->listeners[i], NULL, 0);
        for (size_t i = 0; i < m->n_retired; i++)
                listener_remove_nodes(m->retired[i].listener, NULL, 0);
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        /* While the services it lists are there. */
        m->proc_state = proc_state_free(m->proc_state);
        sd_event_source_disable_unref(m->sigterm_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_event_source_disable_unref(m->sigchld_source);
        sd_event_source_disable_unref(m->gc_source);
        sd_event_source_disable_unref(m->reexec_source);
        manager_state_done(m);
        safe_close(m->reexec_memfd);
        free(m->reexec_keep);
        free(m->reexec_binary);
        free(m->self_exe);
        strv_free(m->self_argv);
        /* A reload in steps is cancelled first, while its callers can still be answered. */
        manager_reload_job_cancel(m);
        control_free(m->control);
        /* Services borrow the listeners and the units: they go first. */
        for (size_t i = 0; i < m->n_services; i++)
                service_free(m->services[i]);
        free(m->services);
        for (size_t i = 0; i < m->n_accepts; i++)
                accept_socket_free(m->accepts[i]);
        free(m->accepts);
        strmap_done(&m->accepts_by_name);
        strmap_done(&m->services_by_name);
        free(m->given_template_name);
        free(m->given_template_text);
        service_exec_shutdown(); /* before the event loop it is attached to goes */
        notify_free(m->notify);
        if (m->cgroup_root)
                (void) cgroup_remove(m->cgroup_root); /* empty once every service is gone */
        free(m->cgroup_root);
        manager_remove_nodes(m);
        manager_free_listeners(m);
        for (size_t i = 0; i < m->n_retired; i++)
                listener_free(m->retired[i].listener);
        free(m->retired);
        unit_array_free(m->graveyard, m->n_graveyard);
        bind_plan_done(&m->plan);
        unit_array_free(m->units, m->n_units);
        unit_failures_done(&m->failures);
        strv_free(m->unit_dirs);
        strv_free(m->instances);
        free(m->runtime_dir);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

int manager_set_template_text(Manager *m, const char *name, const char *text) {
        char *n = strdup(name), *t = strdup(text);

        if (!n || !t) {
                free(n);
                free(t);
                return -ENOMEM;
        }
        free(m->given_template_name);
        free(m->given_template_text);
        m->given_template_name = n;
        m->given_template_text = t;
        return 0;
}

void manager_set_units(Manager *m, Unit **units, size_t n) {
        unit_array_free(m->units, m->n_units);
        m->units = units;
        m->n_units = n;
        m->units_given = true;
}

const char *manager_unit_load_error(Manager *m, const char *name) {
        const UnitFailure *f = unit_failures_find(&m->failures, name);
        return f ? f->message ?: "failed to load" : NULL;
}

bool manager_unit_failed(Manager *m, const char *name) {
        return unit_failures_find(&m->failures, name) != NULL;
}

Unit *manager_get_unit(Manager *m, const char *name) {
        return unit_array_find(m->units, m->n_units, name);
}

static int manager_check_units(Manager *m, Unit **units, size_t n, BindPlan *plan,
                        UnitFailures *failed, UnitDiagFunc diag, void *userdata) {
        _cleanup_strv_free_ char **conflicts = NULL;
        int r;

        for (size_t i = 0; i < n; i++) {
                Unit *u = units[i];
                _cleanup_free_ char *svc = NULL;
                char msg[2 * UNIT_NAME_MAX + 256];

                if (u->type != UNIT_SOCKET || u->is_template)
                        continue; /* a template binds nothing: its instances do */
                svc = unit_socket_service_name(u);
                if (!svc)
                        return -ENOMEM;
                if (unit_array_find(units, n, svc))
                        continue;
                /* The diagnostics of this load name the units that failed to parse. */
                const LoadDiag *ld = diag == load_diag_on_diag ? userdata : NULL;
                if (ld && strv_contains(ld->error_units, svc))
                        snprintf(msg, sizeof msg,
                                 "its service %s failed to load (its error is above), so "
                                 "%s is not loaded either", svc, u->name);
                else
                        snprintf(msg, sizeof msg,
                                 "its service %s does not exist (expected %s in a unit "
                                 "directory%s); %s is not loaded", svc, svc,
                                 u->socket.accept ? ", a template for Accept=yes"
                                                  : ", or set Service=",
                                 u->name);
                if (diag)
                        diag(LOG_ERR, unit_path(u), 0, msg, userdata);
                if (unit_failures_add(failed, u->name, NULL) < 0)
                        return -ENOMEM;
        }

        for (size_t i = 0; i < n; i++) {
                Unit *u = units[i];

                char why[1024], msg[UNIT_NAME_MAX + 1100];

                if (u->type != UNIT_SOCKET || u->is_template ||
                    unit_failures_find(failed, u->name))
                        continue;
                /* A socket whose conditions fail is skipped: not bound, as systemd leaves it
                 * inactive; a failed assertion is an error. */
                r = unit_conditions_test(u, why, sizeof why);
                if (r <= 0) {
                        snprintf(msg, sizeof msg, "%s: %s", r == 0 ? "skipped, not bound" :
                                 "cannot start", why);
                        if (diag)
                                diag(r == 0 ? LOG_NOTICE : LOG_ERR, unit_path(u), 0, msg, userdata);
                        if (r < 0 && unit_failures_add(failed, u->name, msg) < 0)
                                return -ENOMEM;
                        continue;
                }
                r = bind_plan_add_unit(plan, u, &m->host, diag, userdata);
                if (r < 0)
                        return r;
                if (r == UNIT_FILE_E_INVALID && unit_failures_add(failed, u->name, NULL) < 0)
                        return -ENOMEM;
        }

        r = bind_plan_check_overlap(plan, diag, userdata, &conflicts);
        if (r < 0)
                return r;
        STRV_FOREACH(c, conflicts) {
                bind_plan_remove_unit(plan, *c);
                if (unit_failures_add(failed, *c, NULL) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int manager_load(Manager *m) {
        LoadDiag d = {};
        size_t n_failed = 0;
        int r;

        listener_probe_host(&m->host);

        if (!m->units_given) {
                r = unit_dir_load(m->unit_dirs, load_diag_on_diag, &d, &m->units, &m->n_units,
                                  &n_failed);
                if (r < 0) {
                        load_diag_done(&d);
                        return log_error_errno(r, "Failed to load units: %m");
                }
        }
        r = manager_check_units(m, m->units, m->n_units, &m->plan, &m->failures,
                                load_diag_on_diag, &d);
        if (r >= 0)
                r = load_diag_explain(&d, m->units, m->n_units, &m->failures);
        if (r >= 0 && d.oom)
                r = -ENOMEM;
        m->n_errors = d.n_errors;
        m->n_warnings = d.n_warnings;
        load_diag_done(&d);
        if (r < 0)
                return log_error_errno(r, "Failed to check the units: %m");

        if (n_failed > 0)
                log_warning("%zu unit%s failed to load; the other %zu loaded", n_failed,
                            n_failed == 1 ? "" : "s", m->n_units);
        return 0;
}

void manager_print_plan(Manager *m, FILE *f) {
        plan_print(f, m->units, m->n_units, &m->plan, &m->failures, m->n_errors, m->n_warnings);
}

/* Logs the dual-stack decision that BindIPv6Only=default took from the sysctl. */
static void manager_log_sysctl_choice(Manager *m, const BindSpec *s) {
        char a[ADDRESS_FORMAT_MAX];

        if (!s->v6only_from_sysctl)
                return;
        bind_spec_name(s, a, sizeof a);
        if (s->v6only)
                log_warning("%s: BindIPv6Only=default follows net.ipv6.bindv6only=1: %s takes IPv6 "
                            "only and IPv4 clients are refused; set BindIPv6Only=both or "
                            "separate to take IPv4 too",
                            s->unit->name, a);
        else
                log_info("%s: BindIPv6Only=default follows net.ipv6.bindv6only=%d: %s is "
                         "dual-stack and takes IPv4 too",
                         s->unit->name, m->host.bindv6only < 0 ? 0 : m->host.bindv6only, a);
}


static int manager_open_listener(Manager *m, Listener *l, char *err, size_t errlen) {
        int r;

        manager_log_sysctl_choice(m, &l->spec);
        err[0] = 0;
        r = listener_open(l, err, errlen);
        if (r >= 0 && err[0]) {
                log_warning("%s: %s", l->spec.unit->name, err);
                err[0] = 0;
        }
        return r;
}

/* Drops the listeners of a unit that failed midway (and with RemoveOnStop=yes what they made,
 * as systemd does when a socket unit fails to start). */
static void manager_drop_listeners_of(Manager *m, const Unit *u) {
        size_t k = 0;

        for (size_t i = 0; i < m->n_listeners; i++) {
                if (m->listeners[i]->spec.unit == u) {
                        listener_remove_nodes(m->listeners[i], NULL, 0);
                        listener_free(m->listeners[i]);
                        continue;
                }
                m->listeners[k++] = m->listeners[i];
        }
        m->n_listeners = k;
}

/* A socket unit's ExecStartPre= (before its first socket is bound) or ExecStartPost= (after
 * its last); a failure leaves the unit unbound and failed. Returns 0, or -EPROTO after
 * logging and recording it. */
static int manager_socket_hook(Manager *m, const Unit *u, bool post) {
        const SocketHooks *c = socket_config_hooks(&u->socket);
        const char *key = post ? "ExecStartPost" : "ExecStartPre";
        char err[1024], msg[UNIT_NAME_MAX + 1100];
        int r;

        if ((post ? c->n_exec_start_post : c->n_exec_start_pre) == 0)
                return 0;
        r = socket_hook_run(u, key, post ? c->exec_start_post : c->exec_start_pre,
                            post ? c->n_exec_start_post : c->n_exec_start_pre, err, sizeof err);
        if (r >= 0)
                return 0;
        log_error("%s: %s; its sockets are not bound, the other units go on", u->name, err);
        snprintf(msg, sizeof msg, "%s: %s", unit_path(u), err);
        if (unit_failures_add(&m->failures, u->name, msg) < 0)
                log_oom();
        manager_drop_listeners_of(m, u);
        return -EPROTO;
}

/* A socket unit's ExecStopPre= or ExecStopPost=, as berthd closes its sockets. */
static void manager_socket_stop_hook(const Unit *u, bool post) {
        const SocketHooks *c = socket_config_hooks(&u->socket);
        const char *key = post ? "ExecStopPost" : "ExecStopPre";
        char err[1024];

        if ((post ? c->n_exec_stop_post : c->n_exec_stop_pre) > 0 &&
            socket_hook_run(u, key, post ? c->exec_stop_post : c->exec_stop_pre,
                            post ? c->n_exec_stop_post : c->n_exec_stop_pre, err,
                            sizeof err) < 0)
                log_warning("%s: %s", u->name, err);
}

/* The manager's listeners grouped by unit, for the walks over every unit that need each
 * unit's own. */
static int manager_listener_items(Manager *m, UnitItems *ret) {
        return unit_items_build(ret, m->listeners, m->n_listeners, listener_array_unit);
}

/* At exit: each socket unit's ExecStopPre=, its sockets closed, then its ExecStopPost=. */
static void manager_close_sockets(Manager *m) {
        _cleanup_(unit_items_done) UnitItems items = {};

        if (manager_listener_items(m, &items) < 0) {
                log_oom();
                return;
        }
        for (size_t i = 0; i < m->n_units; i++) {
                const Unit *u = m->units[i];

                if (u->type != UNIT_SOCKET || unit_items_first(&items, u) == SIZE_MAX)
                        continue;
                manager_socket_stop_hook(u, false);
                UNIT_ITEMS_FOREACH(k, &items, u) {
                        listener_remove_nodes(m->listeners[k], NULL, 0);
                        m->listeners[k] = listener_free(m->listeners[k]);
                }
                manager_socket_stop_hook(u, true);
        }
        size_t k = 0;
        for (size_t i = 0; i < m->n_listeners; i++)
                if (m->listeners[i])
                        m->listeners[k++] = m->listeners[i];
        m->n_listeners = k;
}

/* The unit an Accept=yes instance (NAME@N.service) was made from, when the unit itself is not
 * loaded. */
static void manager_leftover_lookup(const char *unit, ProcRecoverStop *stop, void *userdata) {
        Manager *m = userdata;
        Unit *u = manager_get_unit(m, unit);
        const char *at = strchr(unit, '@'), *dot = strrchr(unit, '.');

        if (!u && at && dot && dot > at) {
                _cleanup_free_ char *template = NULL;
                if (asprintf(&template, "%.*s%s", (int) (at - unit + 1), unit, dot) >= 0)
                        u = manager_get_unit(m, template);
        }
        if (!u || u->type != UNIT_SERVICE)
                return;
        stop->kill_signal = service_config_extra(&u->service)->kill_signal;
        stop->timeout = u->service.timeout_stop_usec;
}

int manager_stop_leftovers(Manager *m) {
        return proc_recover(m->runtime_dir, m->reexec_salvage, manager_leftover_lookup, m);
}

int manager_bind(Manager *m) {
        unsigned failed = 0;

        manager_free_listeners(m);
        m->listeners = calloc(m->plan.n_specs + 1, sizeof(Listener *));
        if (!m->listeners)
                return log_oom();

        for (size_t i = 0; i < m->plan.n_specs; i++) {
                const BindSpec *s = &m->plan.specs[i];
                char err[LISTENER_ERROR_MAX] = "";
                Listener *l = NULL;
                int r;

                if (manager_unit_failed(m, s->unit->name))
                        continue;
                /* After a daemon-reexec: the socket berthd had, already bound, hooks run. */
                if (m->reexec_state) {
                        r = listener_new(&l, s);
                        if (r < 0)
                                return log_oom();
                        int fd = manager_state_listener_fd(m, l);
                        if (fd >= 0) {
                                listener_adopt(l, fd);
                                m->listeners[m->n_listeners++] = l;
                                continue;
                        }
                        l = listener_free(l);
                }
                /* The unit's first socket: its ExecStartPre= runs first. */
                if ((i == 0 || m->plan.specs[i - 1].unit != s->unit) &&
                    manager_socket_hook(m, s->unit, false) < 0) {
                        failed++;
                        continue;
                }
                r = listener_new(&l, s);
                if (r < 0)
                        return log_oom();
                r = manager_open_listener(m, l, err, sizeof err);
                if (r < 0 && listener_bind_error_is_transient(s, r)) {
                        /* The port may be freed (orphans of an earlier berthd, a server being
                         * moved over): try again once the loop runs, and keep the unit. */
                        log_error("%s:%u: %s: %s; trying again in %llus, the other units go on",
                                  strempty(s->listen->origin.file), s->listen->origin.line,
                                  s->unit->name, err,
                                  (unsigned long long) (LISTENER_RETRY_BASE_USEC / USEC_PER_SEC));
                        if (listener_set_bind_error(l, err) < 0)
                                return log_oom();
                        failed++;
                        m->listeners[m->n_listeners++] = l;
                        continue;
                }
                if (r < 0) {
                        _cleanup_free_ char *msg = NULL;
                        log_error("%s:%u: %s: %s; %s is not started, the other units go on",
                                  strempty(s->listen->origin.file), s->listen->origin.line,
                                  s->unit->name, err, s->unit->name);
                        listener_free(l);
                        failed++;
                        if (asprintf(&msg, "%s:%u: %s", strempty(s->listen->origin.file),
                                     s->listen->origin.line, err) < 0 ||
                            unit_failures_add(&m->failures, s->unit->name, msg) < 0)
                                return log_oom();
                        manager_drop_listeners_of(m, s->unit);
                        continue;
                }
                m->listeners[m->n_listeners++] = l;
                /* Its last: ExecStartPost=. */
                if ((i + 1 == m->plan.n_specs || m->plan.specs[i + 1].unit != s->unit) &&
                    manager_socket_hook(m, s->unit, true) < 0)
                        failed++;
        }
        for (size_t i = 0; i < m->n_listeners; i++) {
                char line[ADDRESS_FORMAT_MAX + 512];
                if (m->listeners[i]->fd >= 0)
                        log_info("%s", listener_describe_bound(m->listeners[i], line,
                                                               sizeof line));
        }
        /* Each listener has its own copy of its spec: the plan served its purpose. */
        bind_plan_done(&m->plan);
        return failed;
}

Service *manager_find_service(Manager *m, const char *name) {
        if (m->services_by_name_stale || m->services_by_name.n == 0) {
                strmap_done(&m->services_by_name);
                m->services_by_name_stale = false;
                /* Backwards: the first in array order wins. */
                for (size_t i = m->n_services; i > 0; i--)
                        if (strmap_put(&m->services_by_name, m->services[i - 1]->unit->name,
                                       m->services[i - 1]) < 0) {
                                strmap_done(&m->services_by_name);
                                m->services_by_name_stale = true;
                                for (size_t k = 0; k < m->n_services; k++)
                                        if (streq(m->services[k]->unit->name, name))
                                                return m->services[k];
                                return NULL;
                        }
        }
        return strmap_get(&m->services_by_name, name);
}

Service *manager_resolve_service(Manager *m, const char *name) {
        Unit *u = manager_get_unit(m, name);
        _cleanup_free_ char *svc = NULL;

        if (!u || u->type == UNIT_SERVICE)
                return manager_find_service(m, name);
        svc = unit_socket_service_name(u);
        return svc ? manager_find_service(m, svc) : NULL;
}

typedef enum UnitAction { ACTION_START, ACTION_STOP, ACTION_RESTART, ACTION_RELOAD } UnitAction;
static const char *const verbs[] = { "start", "stop", "restart", "reload" };

/* NAME@INST.socket or .service, not loaded, whose template is: made from it by a
 * daemon-reload that includes it from now on. Returns 1 when the instance is loaded now, 0
 * when name is no such instance, or a negative errno with err set. */
static int manager_instantiate(Manager *m, const char *name, char *err, size_t errlen) {
        _cleanup_strv_free_ char **errors = NULL, **warnings = NULL;
        const char *at = strchr(name, '@'), *dot = strrchr(name, '.');
        _cleanup_free_ char *template = NULL;
        Unit *t;
        int r;

        if (!at || !dot || dot <= at + 1 || manager_get_unit(m, name) ||
            unit_name_to_type(name) < 0 ||
            asprintf(&template, "%.*s%s", (int) (at - name + 1), name, dot) < 0)
                return 0;
        t = manager_get_unit(m, template);
        if (!t || !t->is_template || (t->type == UNIT_SOCKET && t->socket.accept))
                return 0;
        if (strv_extend_unique(&m->instances, name) < 0) {
                snprintf(err, errlen, "out of memory");
                return -ENOMEM;
        }
        log_info("%s: made from %s", name, template);
        r = manager_daemon_reload(m, &errors, &warnings);
        if (!manager_get_unit(m, name)) {
                const char *why = manager_unit_load_error(m, name);
                strv_remove(m->instances, name);
                snprintf(err, errlen, "%s: cannot be made from %s: %s", name, template,
                         why ?: errors && errors[0] ? errors[0] :
                         r < 0 ? strerror(-r) : "it did not load");
                return -EINVAL;
        }
        return 1;
}

static AcceptSocket *manager_find_accept(Manager *m, const char *name);

/* berthctl stop of an Accept=yes socket, or of its template: every live instance of it stops
 * (the socket stays bound, and a new connection gets a new instance). Returns the number of
 * instances told to stop, or -ENOENT when name is no such socket or template. */
static int manager_stop_instances(Manager *m, const char *name) {
        AcceptSocket *a = manager_find_accept(m, name);
        unsigned n = 0;

        for (size_t i = 0; !a && i < m->n_accepts; i++) {
                const Unit *su = manager_get_unit(m, m->accepts[i]->name);
                _cleanup_free_ char *tname = su ? unit_socket_service_name(su) : NULL;

                if (tname && streq(tname, name))
                        a = m->accepts[i];
        }
        if (!a)
                return -ENOENT;
        for (size_t i = 0; i < m->n_services; i++) {
                Service *svc = m->services[i];

                if (service_accept(svc) == a && !service_is_inactive(svc) && service_stop(svc) >= 0)
                        n++;
        }
        log_info("%s: stop requested: %u instance%s told to stop; the socket stays bound",
                 a->name, n, n == 1 ? "" : "s");
        return (int) n;
}

static int manager_unit_action(Manager *m, const char *name, UnitAction a, char *err,
                               size_t errlen) {
        Service *s = manager_resolve_service(m, name);
        int r;

        if (!s && a == ACTION_STOP && manager_stop_instances(m, name) >= 0)
                return 0;

        if (!s && a == ACTION_START) {
                r = manager_instantiate(m, name, err, errlen);
                if (r < 0)
                        return r;
                if (r > 0) {
                        Unit *u = manager_get_unit(m, name);
                        if (u && u->type == UNIT_SOCKET)
                                return 0; /* listening: its service starts on demand */
                        s = manager_resolve_service(m, name);
                }
        }
        if (!s) {
                Unit *u = manager_get_unit(m, name);
                const char *why = manager_unit_load_error(m, name) ?:
                                  u ? manager_unit_load_error(m, u->name) : NULL;
                if (u && u->is_template)
                        snprintf(err, errlen, "%s is a template: %s an instance of it "
                                 "(NAME@INSTANCE%s)", name,
                                 a == ACTION_START ? "start" : "name",
                                 u->type == UNIT_SOCKET ? ".socket" : ".service");
                else if (why)
                        snprintf(err, errlen, "%s failed to load: %s", name, why);
                else
                        snprintf(err, errlen, "no unit named '%s'", name);
                return u || why ? -EINVAL : -ENOENT;
        }
        if (m->exiting) {
                snprintf(err, errlen, "berthd is shutting down");
                return -ESHUTDOWN;
        }
        log_info("%s: %s requested", s->unit->name, verbs[a]);
        switch (a) {
        case ACTION_START:
                r = service_start(s);
                break;
        case ACTION_STOP:
                r = service_stop(s);
                break;
        case ACTION_RESTART:
                r = service_restart(s);
                break;
        case ACTION_RELOAD:
                return service_reload(s, err, errlen);
        default:
                r = -EINVAL;
        }
        if (r < 0)
                snprintf(err, errlen, "cannot %s %s (%s): %s", verbs[a], s->unit->name,
                         service_state_to_string(s->state),
                         r == -EBUSY ? "it is stopping; try again once it has stopped" :
                                       strerror(-r));
        return r;
}

int manager_unit_start(Manager *m, const char *name, char *err, size_t errlen) {
        return manager_unit_action(m, name, ACTION_START, err, errlen);
}

int manager_unit_stop(Manager *m, const char *name, char *err, size_t errlen) {
        return manager_unit_action(m, name, ACTION_STOP, err, errlen);
}

int manager_unit_restart(Manager *m, const char *name, char *err, size_t errlen) {
        return manager_unit_action(m, name, ACTION_RESTART, err, errlen);
}

/* An action whose caller is told when it is over, through set_done. */
static int manager_unit_action_async(Manager *m, const char *name, UnitAction a,
                                     int (*set_done)(Service *s, ServiceRestartDone done,
                                                     void *userdata),
                                     ServiceRestartDone done, void *userdata, char *err,
                                     size_t errlen) {
        Service *s = manager_resolve_service(m, name);
        int r;

        r = s ? set_done(s, done, userdata) : 0;
        if (r == -ENOMEM) {
                snprintf(err, errlen, "%s: out of memory", s->unit->name);
                return log_oom();
        }
        if (r < 0) {
                snprintf(err, errlen, "%s: a %s is already in progress", s->unit->name,
                         verbs[a]);
                return -EBUSY;
        }
        r = manager_unit_action(m, name, a, err, errlen);
        if (r < 0 && s)
                (void) set_done(s, NULL, NULL);
        return r;
}

int manager_unit_restart_async(Manager *m, const char *name, ServiceRestartDone done,
                               void *userdata, char *err, size_t errlen) {
        return manager_unit_action_async(m, name, ACTION_RESTART, service_set_restart_done, done,
                                         userdata, err, errlen);
}

int manager_unit_reload_async(Manager *m, const char *name, ServiceRestartDone done,
                              void *userdata, char *err, size_t errlen) {
        return manager_unit_action_async(m, name, ACTION_RELOAD, service_set_reload_done, done,
                                         userdata, err, errlen);
}

/* ---- the gc of what a daemon-reload left behind ---- */

/* Every unit something uses: services (their unit and the next), listeners (retired too) and
 * the loaded set. One pass, so that the gc costs about N, not N per old unit. */
static int units_in_use(Manager *m, PtrMap *used) {
        int r = ptrmap_reserve(used, 2 * m->n_services + m->n_listeners + m->n_retired +
                                     m->n_units);

        for (size_t i = 0; r >= 0 && i < m->n_services; i++) {
                r = ptrmap_put(used, m->services[i]->unit, NULL);
                if (r >= 0 && m->services[i]->run->next_unit)
                        r = ptrmap_put(used, m->services[i]->run->next_unit, NULL);
        }
        for (size_t i = 0; r >= 0 && i < m->n_listeners; i++)
                r = ptrmap_put(used, m->listeners[i]->spec.unit, NULL);
        for (size_t i = 0; r >= 0 && i < m->n_retired; i++)
                r = ptrmap_put(used, m->retired[i].listener->spec.unit, NULL);
        for (size_t i = 0; r >= 0 && i < m->n_units; i++)
                r = ptrmap_put(used, m->units[i], NULL);
        return r;
}

/* Frees what a reload left behind once nothing uses it: retired listeners whose services no
 * longer run, services whose units are gone and which stopped, and old units. Runs from a
 * deferred event, never inside a service's own callback. */
static void manager_gc(Manager *m) {
        size_t k = 0, freed = 0;

        for (size_t i = 0; i < m->n_retired; i++) {
                RetiredListener *r = &m->retired[i];
                if (r->holder && service_is_active(r->holder)) {
                        m->retired[k++] = *r;
                        continue;
                }
                char a[BIND_SPEC_NAME_MAX];
                log_info("%s: closed %s, removed by daemon-reload", r->listener->spec.unit->name,
                         listener_name(r->listener, a, sizeof a));
                listener_remove_nodes(r->listener, m->listeners, m->n_listeners);
                listener_free(r->listener);
        }
        m->n_retired = k;

        k = 0;
        for (size_t i = 0; i < m->n_services; i++) {
                Service *svc = m->services[i];
                if (svc->removed && service_is_inactive(svc)) {
                        if (!service_own_unit(svc))
                                log_info("%s: removed by daemon-reload", svc->unit->name);
                        service_free(svc);
                        continue;
                }
                m->services[k++] = svc;
        }
        if (k < m->n_services)
                m->services_by_name_stale = true;
        m->n_services = k;

        _cleanup_(ptrmap_done) PtrMap used = {};
        if (m->n_graveyard > 0 && units_in_use(m, &used) < 0) {
                log_oom(); /* the graveyard waits for the next gc */
                return;
        }
        m->services_by_name_stale = m->services_by_name_stale || m->n_graveyard > 0;
        k = 0;
        for (size_t i = 0; i < m->n_graveyard; i++) {
                if (ptrmap_contains(&used, m->graveyard[i])) {
                        m->graveyard[k++] = m->graveyard[i];
                        continue;
                }
                unit_free(m->graveyard[i]);
                freed++;
        }
        m->n_graveyard = k;
        /* A reload's old units leave free holes all over the heap, which malloc keeps:
         * give those pages back (2 MB of 5 with 1,000 units). */
        if (freed > 0)
                (void) malloc_trim(0);
}

static int manager_on_gc(sd_event_source *es, void *userdata) {
        manager_gc(userdata);
        return 0;
}

static void manager_gc_later(Manager *m) {
        if (!m->event)
                return;
        if (!m->gc_source &&
            sd_event_add_defer(m->event, &m->gc_source, manager_on_gc, m) < 0) {
                log_oom();
                return;
        }
        (void) sd_event_source_set_enabled(m->gc_source, SD_EVENT_ONESHOT);
}

/* ---- what services and notify report ---- */

static bool manager_all_inactive(Manager *m) {
        for (size_t i = 0; i < m->n_services; i++)
                if (!service_is_inactive(m->services[i]))
                        return false;
        return true;
}

/* After every transition of a service: finish a shutdown, or collect what it let go. */
static void manager_instance_over(Manager *m, Service *s);

static void manager_on_service_state(Service *s, void *userdata) {
        Manager *m = userdata;

        proc_state_changed(m->proc_state); /* a process may have started or gone */
        if (s && service_accept(s) && service_is_inactive(s))
                manager_instance_over(m, s);

        if (m->exiting && m->event && manager_all_inactive(m))
                (void) sd_event_exit(m->event, m->exit_code);
        else if (s && !service_is_active(s) && (m->n_retired > 0 || m->n_graveyard > 0 ||
                                                s->removed))
                manager_gc_later(m);
}

static void manager_on_service_process(Service *s, void *userdata) {
        Manager *m = userdata;

        proc_state_changed(m->proc_state);
}

/* Every process of every service, for RUNTIME/processes. */
static void manager_collect_processes(ProcState *p, void *userdata) {
        Manager *m = userdata;

        for (size_t i = 0; i < m->n_services; i++) {
                const Service *s = m->services[i];
                const ServiceRun *run = s->run;
                const pid_t mains[] = { run->main_pid, run->old_main_pid, run->failed_pid };

                for (size_t k = 0; k < ELEMENTSOF(mains); k++)
                        proc_state_add(p, s->unit->name, mains[k], PROC_ROLE_MAIN,
                                       s->run->invocation_id, s->run->cgroup);
                proc_state_add(p, s->unit->name, s->run->control_pid, PROC_ROLE_CONTROL,
                               s->run->invocation_id, s->run->cgroup);
        }
}

/* The service pid belongs to, for notify. */
/* A pid known by number first; else its process group, looked up once (a sender that
 * belongs to no service costs one getpgid(), not one per service). */
static Service *manager_find_pid(pid_t pid, NotifyRole *ret_role, void *userdata) {
        Manager *m = userdata;
        pid_t g;

        for (size_t i = 0; i < m->n_services; i++)
                if (service_is_pid_of(m->services[i], pid, ret_role))
                        return m->services[i];
        g = pid > 0 ? getpgid(pid) : -1;
        for (size_t i = 0; g > 0 && i < m->n_services; i++)
                if (service_owns_pgid(m->services[i], g)) {
                        *ret_role = NOTIFY_ROLE_OTHER;
                        return m->services[i];
                }
        return NULL;
}

static void manager_on_trigger(Listener *l, void *owner) {
        service_on_trigger(owner, l);
}

/* ---- services and their listeners ---- */

/* Adds the listeners of one socket unit to a service, in listen order. owner: the socket
 * unit activates this service, so a client on them starts it. */
static int manager_give_listeners(Manager *m, const UnitItems *items, Service *svc,
                                  const Unit *socket_unit, bool owner) {
        UNIT_ITEMS_FOREACH(k, items, socket_unit) {
                Listener *l = m->listeners[k];

                if (service_add_listener(svc, l) < 0)
                        return log_oom();
                if (owner)
                        listener_set_owner(l, m->event, manager_on_trigger, svc);
        }
        return 0;
}

/* What links services to sockets, built once per (re)link of every service. */
typedef struct LinkIndex {
        UnitIndex units;     /* which socket units activate which service */
        UnitItems listeners; /* the manager's listeners by unit */
} LinkIndex;

static void link_index_done(LinkIndex *x) {
        unit_index_done(&x->units);
        unit_items_done(&x->listeners);
}

static int link_index_build(Manager *m, LinkIndex *x) {
        *x = (LinkIndex) {};
        if (unit_index_build(&x->units, m->units, m->n_units) < 0 ||
            manager_listener_items(m, &x->listeners) < 0) {
                link_index_done(x);
                return log_oom();
        }
        return 0;
}

static int manager_link_service(Manager *m, const LinkIndex *x, Service *svc, Unit *u) {
        const UnitFailure *socket_failed;
        const Unit *socket_unit;
        Unit *const *sockets;
        size_t n;
        int r;

        /* A socket unit that failed to load is not among the units; its service waits all
         * the same (the loop below finds those that loaded). */
        svc->socket_activated = unit_socket_activated(u->name, NULL, &m->failures,
                                                      &socket_unit, &socket_failed);
        if (socket_failed)
                log_warning("%s: not started: its socket unit %s failed to load.", u->name,
                            socket_failed->name);
        n = unit_index_activators(&x->units, u->name, &sockets);
        for (size_t k = 0; k < n; k++) {
                Unit *su = sockets[k];

                /* A service that a socket unit names is socket-activated even when that
                 * socket failed: it waits, and is not started at boot without its socket. */
                svc->socket_activated = true;
                if (manager_unit_failed(m, su->name))
                        continue;
                r = manager_give_listeners(m, &x->listeners, svc, su, true);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(name, service_config_extra(&u->service)->sockets) {
                Unit *su = manager_get_unit(m, *name);
                if (!su || su->type != UNIT_SOCKET || manager_unit_failed(m, su->name)) {
                        log_warning("%s: Sockets=%s names no loaded socket unit, ignoring",
                                    u->name, *name);
                        continue;
                }
                r = manager_give_listeners(m, &x->listeners, svc, su, false);
                if (r < 0)
                        return r;
        }
        if (service_config_extra(&u->service)->non_blocking_set)
                svc->non_blocking = service_config_extra(&u->service)->non_blocking;
        svc->start_at_boot = !svc->socket_activated || u->wanted_by;
        return 0;
}

static int manager_add_service(Manager *m, Unit *u, Service **ret) {
        Service *svc;

        if (ARRAY_RESERVE(m->services, m->n_services_allocated, m->n_services + 1) < 0)
                return log_oom();
        if (service_new(&svc, &m->service_ctx, u) < 0)
                return log_oom();
        m->services[m->n_services++] = svc;
        /* The first service of a name stays the one found by it. */
        if (!m->services_by_name_stale && !strmap_contains(&m->services_by_name, u->name) &&
            strmap_put(&m->services_by_name, u->name, svc) < 0)
                m->services_by_name_stale = true;
        *ret = svc;
        return 0;
}

/* ---- Accept=yes: an instance per connection (accept.c) ---- */

static AcceptSocket *manager_find_accept(Manager *m, const char *name) {
        return strmap_get(&m->accepts_by_name, name);
}

static void manager_instance_diag(int level, const char *file, unsigned line, const char *msg,
                                  void *userdata) {
        log_full_errno(level, 0, "%s:%u: %s", strempty(file), line, msg);
}

/* The connection's instance is over: its slot at the socket is free, the connection closed,
 * and the service goes at the next gc. Once. */
static void manager_instance_over(Manager *m, Service *s) {
        accept_connection_done(s->instance->accept, s->instance->peer);
        s->instance->accept = NULL;
        s->instance->connection_fd = safe_close(s->instance->connection_fd);
        s->removed = true;
        manager_gc_later(m);
}

/* The unit of NAME@INSTANCE.service (name), an instance of a's template: its files read
 * again, since keys with specifiers mean something only in an instance. Returns 0, or a
 * negative errno (logged). */
static int manager_make_instance(Manager *m, AcceptSocket *a, const char *name, Unit **ret) {
        _cleanup_free_ char *tname = NULL;
        const Unit *su = manager_get_unit(m, a->name), *t;
        int r;

        tname = su ? unit_socket_service_name(su) : NULL;
        if (!tname)
                return log_oom();
        t = manager_get_unit(m, tname);
        if (!t)
                return log_error_errno(ENOENT, "%s: its template %s is not loaded", a->name,
                                       tname);
        if (m->given_template_text && streq(m->given_template_name, tname))
                r = unit_file_load_strings(name, (const char *const[]) { unit_path(t) },
                                           (const char *const[]) { m->given_template_text }, 1,
                                           manager_instance_diag, NULL, ret);
        else
                r = unit_file_load(name, unit_path(t), unit_extra(t)->dropins,
                                   manager_instance_diag, NULL, ret);
        if (r == -ENOMEM)
                return log_oom();
        if (r != 0)
                return log_error_errno(EINVAL, "%s: cannot make %s from %s (see above)", a->name,
                                       name, tname);
        return 0;
}

/* Adds the service of an instance (u, taken) with its connection (cfd, taken). */
static int manager_add_instance(Manager *m, AcceptSocket *a, Unit **u, int *cfd,
                                AcceptPeer **peer, Service **ret) {
        ServiceInstance *inst = malloc(sizeof *inst);
        Service *svc;
        int r;

        if (!inst)
                return -ENOMEM;
        r = manager_add_service(m, *u, &svc);
        if (r < 0) {
                free(inst);
                return r;
        }
        *inst = (ServiceInstance) {
                .own_unit = TAKE_PTR(*u),
                .connection_fd = TAKE_FD(*cfd),
                .accept = a,
                .peer = TAKE_PTR(*peer),
        };
        svc->instance = inst;
        *ret = svc;
        return 0;
}

/* Makes NAME@INSTANCE.service from the template and starts it with the connection. */
static int manager_accept_spawn(AcceptSocket *a, int fd, const AcceptPeer *peer,
                                const char *instance, void *userdata) {
        Manager *m = userdata;
        _cleanup_close_ int cfd = fd;
        _cleanup_free_ char *tname = NULL, *name = NULL;
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ AcceptPeer *p = NULL;
        const Unit *su = manager_get_unit(m, a->name);
        Service *svc = NULL;
        int r;

        p = malloc(sizeof *p);
        tname = su ? unit_socket_service_name(su) : NULL;
        if (!tname || !p)
                return log_oom();
        *p = *peer;
        if (asprintf(&name, "%.*s%s.service", (int) (strchr(tname, '@') - tname + 1), tname,
                     instance) < 0)
                return log_oom();
        r = manager_make_instance(m, a, name, &u);
        if (r < 0) {
                log_error("%s: closing the connection of %s", a->name, name);
                return r;
        }
        r = manager_add_instance(m, a, &u, &cfd, &p, &svc);
        if (r < 0)
                return r;
        r = service_start(svc);
        if (r < 0)
                log_warning_errno(r, "%s: cannot start: %m", svc->unit->name);
        /* Skipped by a condition, or failed at once: over already. */
        if (service_accept(svc) && service_is_inactive(svc) && svc->state == SERVICE_DEAD &&
            svc->run->invocation_id[0] == 0)
                manager_instance_over(m, svc);
        return 0;
}

/* daemon-reexec: an instance as the state has it, with its connection (the state's fd). */
static void manager_restore_instance(Manager *m, const StateSection *sec) {
        const char *sock = state_get(sec, "socket"), *v = state_get(sec, "connection-fd");
        _cleanup_(unit_freep) Unit *u = NULL;
        _cleanup_free_ AcceptPeer *p = NULL;
        _cleanup_close_ int cfd = -1;
        AcceptSocket *a = sock ? manager_find_accept(m, sock) : NULL;
        Service *svc;
        int fd;

        if (!a || !v || state_value_int(v, &fd) < 0 || !manager_state_take_fd(m, fd)) {
                log_warning("daemon-reexec: state line %u: %s: its socket or connection is "
                            "gone; berthd no longer follows it", sec->line, sec->name);
                return;
        }
        cfd = fd;
        p = calloc(1, sizeof *p);
        if (!p) {
                log_oom();
                return;
        }
        if (manager_make_instance(m, a, sec->name, &u) < 0)
                return;
        accept_connection_adopt(a, cfd, p);
        if (manager_add_instance(m, a, &u, &cfd, &p, &svc) < 0)
                return;
        (void) manager_state_deserialize_service(m, svc, sec);
}


/* Every Accept=yes socket unit accepts on its listeners; after a daemon-reload, with its new
 * configuration (its live instances stay counted). */
static int manager_setup_accepts(Manager *m) {
        _cleanup_(unit_items_done) UnitItems items = {};

        if (manager_listener_items(m, &items) < 0)
                return log_oom();
        for (size_t i = 0; i < m->n_units; i++) {
                const Unit *u = m->units[i];
                AcceptSocket *a;

                if (u->type != UNIT_SOCKET || !u->socket.accept || u->is_template ||
                    manager_unit_failed(m, u->name))
                        continue;
                a = manager_find_accept(m, u->name);
                if (!a) {
                        if (ARRAY_RESERVE(m->accepts, m->n_accepts_allocated,
                                          m->n_accepts + 1) < 0)
                                return log_oom();
                        if (accept_socket_new(&a, u->name, &u->socket, manager_accept_spawn,
                                              m) < 0)
                                return log_oom();
                        if (strmap_put(&m->accepts_by_name, a->name, a) < 0) {
                                accept_socket_free(a);
                                return log_oom();
                        }
                        m->accepts[m->n_accepts++] = a;
                }
                a->cfg = &u->socket;
                UNIT_ITEMS_FOREACH(k, &items, u) {
                        Listener *l = m->listeners[k];
                        listener_set_owner(l, m->event, accept_on_trigger, a);
                        (void) listener_set_watch(l, true);
                }
        }
        return 0;
}

/* Creates the runtime service of every loaded service unit and gives it its listeners. */
static int manager_setup_services(Manager *m) {
        _cleanup_(link_index_done) LinkIndex x = {};

        if (link_index_build(m, &x) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                Service *svc = NULL;
                int r;

                if (u->type != UNIT_SERVICE || u->is_template || manager_unit_failed(m, u->name))
                        continue;
                r = manager_add_service(m, u, &svc);
                if (r < 0)
                        return r;
                r = manager_link_service(m, &x, svc, u);
                if (r < 0)
                        return r;
        }
        return manager_setup_accepts(m);
}

/* ---- daemon-reload: the transaction runs in reload.c; the hand-over is here ---- */

static int manager_reload_check(Unit **units, size_t n, BindPlan *plan, UnitFailures *failed,
                                UnitDiagFunc diag, void *diag_userdata, void *userdata) {
        return manager_check_units(userdata, units, n, plan, failed, diag, diag_userdata);
}

static int manager_reload_bind(Listener *l, char *err, size_t errlen, void *userdata) {
        return manager_open_listener(userdata, l, err, errlen);
}

/* The running service that still has l, if any. */
/* Which active service has each listener (the first in array order), in one pass. */
static int manager_listener_holders(Manager *m, PtrMap *ret) {
        for (size_t i = 0; i < m->n_services; i++) {
                Service *s = m->services[i];
                if (!service_is_active(s))
                        continue;
                for (size_t k = 0; k < s->n_listeners; k++)
                        if (!ptrmap_contains(ret, s->listeners[k]) &&
                            ptrmap_put(ret, s->listeners[k], s) < 0)
                                return -ENOMEM;
        }
        return 0;
}

/* A listener nothing takes any more: closed now, or retired until the running service that
 * has it (holder) stops. What it made in the file system goes with it (RemoveOnStop=), unless
 * a listener of the new set (m->listeners) has it too. Consumes l. */
static int manager_retire_listener(Manager *m, Listener *l, Service *holder) {
        char a[BIND_SPEC_NAME_MAX];

        if (!holder || l->fd < 0) {
                if (l->fd >= 0)
                        log_info("%s: closed %s, removed or changed by daemon-reload",
                                 l->spec.unit->name, listener_name(l, a, sizeof a));
                listener_remove_nodes(l, m->listeners, m->n_listeners);
                listener_free(l);
                return 0;
        }
        RetiredListener *rl = realloc(m->retired, (m->n_retired + 1) * sizeof *rl);
        if (!rl) {
                listener_free(l);
                return -ENOMEM;
        }
        m->retired = rl;
        (void) listener_set_watch(l, false);
        rl[m->n_retired++] = (RetiredListener) { .listener = l, .holder = holder };
        return 0;
}

/* The new units and failures take the place of the old; old units stay in the graveyard
 * while something uses them. */
static int manager_swap_units(Manager *m, Reload *r) {
        _cleanup_free_ Unit **units = NULL;
        UnitFailures failed = {};
        size_t n = 0;
        Unit **g;
        int k;

        g = realloc(m->graveyard, (m->n_graveyard + m->n_units + 1) * sizeof(Unit *));
        if (!g)
                return -ENOMEM;
        m->graveyard = g;
        k = reload_take_units(r, &units, &n, &failed);
        if (k < 0)
                return k;
        for (size_t i = 0; i < m->n_units; i++)
                if (unit_array_find(units, n, m->units[i]->name) != m->units[i])
                        m->graveyard[m->n_graveyard++] = m->units[i];
        free(m->units);
        m->units = TAKE_PTR(units);
        m->n_units = n;
        m->services_by_name_stale = true;
        unit_failures_done(&m->failures);
        m->failures = failed;
        return 0;
}

/* The new listeners take the place of the old; old ones nobody kept are closed, or retired
 * while a running service has them. */
static int manager_swap_listeners(Manager *m, Reload *r) {
        _cleanup_free_ Service **holders = calloc(m->n_listeners + 1, sizeof(Service *));
        _cleanup_(ptrmap_done) PtrMap held = {}, kept = {};
        Listener **old = m->listeners, **ls = NULL;
        size_t n_old = m->n_listeners, n = 0;
        BindPlan plan = {};
        int k;

        if (!holders || manager_listener_holders(m, &held) < 0)
                return -ENOMEM;
        k = reload_take_listeners(r, &m->failures, &ls, &n, &plan);
        bool by_map = true;
        for (size_t j = 0; by_map && j < n; j++)
                by_map = ptrmap_put(&kept, ls[j], NULL) >= 0;
        for (size_t i = 0; i < n_old; i++) {
                bool is_kept = by_map && ptrmap_contains(&kept, old[i]);
                for (size_t j = 0; !by_map && !is_kept && j < n; j++) /* short of memory */
                        is_kept = ls[j] == old[i];
                if (is_kept)
                        old[i] = NULL;
                else
                        holders[i] = ptrmap_get(&held, old[i]);
        }
        /* Services let go of every old listener before any is freed; relink gives them the
         * new set. The new set is in place first: what it has, a retired listener keeps.
         * Watches stay as they are (most listeners go back to the same service): an old
         * listener is closed or, held by a running service, not watched anyway; a kept one
         * has no owner until relink gives it one, and one that gets none stops being watched
         * (manager_reload_end()). */
        for (size_t i = 0; i < m->n_services; i++)
                service_forget_listeners(m->services[i]);
        for (size_t j = 0; j < n; j++)
                listener_set_owner(ls[j], m->event, NULL, NULL);
        m->listeners = ls;
        m->n_listeners = n;
        for (size_t i = 0; i < n_old; i++) {
                if (!old[i])
                        continue;
                (void) listener_set_watch(old[i], false); /* nobody's any more */
                listener_set_owner(old[i], m->event, NULL, NULL);
                if (manager_retire_listener(m, old[i], holders[i]) < 0)
                        k = -ENOMEM;
        }
        free(old);
        bind_plan_done(&plan); /* as after the first bind: the listeners have their specs */
        return k;
}

/* The same service object keeps its process and gets its new unit at its next start; new
 * units get a service; services whose unit is gone stop and go. */
static int manager_relink(Manager *m) {
        _cleanup_(link_index_done) LinkIndex x = {};
        size_t n_old = m->n_services;
        int k;

        if (link_index_build(m, &x) < 0)
                return -ENOMEM;

        for (size_t i = 0; i < n_old; i++) {
                Service *svc = m->services[i];
                Unit *u = manager_get_unit(m, svc->unit->name);

                if (service_own_unit(svc)) {
                        AcceptSocket *a = service_accept(svc);

                        /* An instance runs with the unit it was made with, while its socket
                         * stays. */
                        if (a && (!manager_get_unit(m, a->name) ||
                                  manager_unit_failed(m, a->name))) {
                                svc->removed = true;
                                (void) service_stop(svc);
                        }
                        continue;
                }
                if (!u || u->type != UNIT_SERVICE || manager_unit_failed(m, u->name)) {
                        if (!svc->removed)
                                log_info("%s: its unit is gone, stopping it", svc->unit->name);
                        svc->removed = true;
                        (void) service_stop(svc);
                        continue;
                }
                svc->removed = false;
                service_set_next_unit(svc, u);
                k = manager_link_service(m, &x, svc, u);
                if (k < 0)
                        return k;
                service_update_watch(svc);
        }
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                Service *svc = NULL;

                if (u->type != UNIT_SERVICE || u->is_template || manager_unit_failed(m, u->name) ||
                    manager_find_service(m, u->name))
                        continue;
                k = manager_add_service(m, u, &svc);
                if (k >= 0)
                        k = manager_link_service(m, &x, svc, u);
                if (k >= 0)
                        k = service_begin(svc);
                if (k < 0)
                        return k;
        }
        return 0;
}

/* Runs the phases; returns < 0 on a failure before the swap (nothing changed) and sets
 * *swapped once the manager holds the new set. */
/* The hooks of the socket units a reload adds or removes (those it keeps, or changes, keep
 * running: their sockets are the same objects, or rebound in place). */
typedef struct ReloadHooks {
        Manager *m;
        char **started; /* new socket units whose ExecStartPre= passed: ExecStartPost= next */
        bool oom;
} ReloadHooks;

static void reload_hook_start_pre(Reload *r, const Unit *u, void *userdata) {
        ReloadHooks *h = userdata;
        char err[1024], msg[UNIT_NAME_MAX + 1100];

        if (u->type != UNIT_SOCKET || u->is_template)
                return;
        if (socket_config_hooks(&u->socket)->n_exec_start_pre > 0 &&
            socket_hook_run(u, "ExecStartPre", socket_config_hooks(&u->socket)->exec_start_pre,
                            socket_config_hooks(&u->socket)->n_exec_start_pre, err,
                            sizeof err) < 0) {
                snprintf(msg, sizeof msg, "%s: %s; its sockets are not bound", u->name, err);
                h->oom = h->oom || reload_fail_unit(r, u->name, msg) < 0;
                return;
        }
        if (socket_config_hooks(&u->socket)->n_exec_start_post > 0)
                h->oom = h->oom || strv_extend(&h->started, u->name) < 0;
}

static void reload_hook_stop_pre(Reload *r, const Unit *u, void *userdata) {
        if (u->type == UNIT_SOCKET && !u->is_template)
                manager_socket_stop_hook(u, false);
}

static void reload_hook_stop_post(Reload *r, const Unit *u, void *userdata) {
        if (u->type == UNIT_SOCKET && !u->is_template)
                manager_socket_stop_hook(u, true);
}

/* The first phase: lists the directories. Returns 1 when the units are to be read, 0 when
 * there is nothing to reload (ad-hoc mode), or a negative errno. */
static int manager_reload_begin(Manager *m, Reload *r) {
        if (m->units_given) {
                load_diag_on_diag(LOG_ERR, NULL, 0,
                                  "ad-hoc mode has no unit files to reload; nothing changed",
                                  reload_diag(r));
                return 0;
        }
        log_info("daemon-reload: reading %s%s", m->unit_dirs[0],
                 m->unit_dirs[0] && m->unit_dirs[1] ? " and more" : "");
        listener_probe_host(&m->host);
        int k = reload_load_begin(r, m->unit_dirs, m->instances);
        return k < 0 ? k : 1;
}

/* Once the units are read: checks, binds and hands over. Returns < 0 on a failure before the
 * swap (nothing changed) and sets *swapped once the manager holds the new set. */
static int manager_reload_apply(Manager *m, Reload *r, bool *swapped) {
        ReloadHooks hooks = { .m = m };
        int k;

        k = reload_check(r, manager_reload_check, m);
        if (k >= 0) {
                reload_foreach_change(r, RELOAD_UNIT_NEW, reload_hook_start_pre, &hooks);
                /* Removed units: ExecStopPre= while their sockets are still open. */
                reload_foreach_change(r, RELOAD_UNIT_REMOVED, reload_hook_stop_pre, NULL);
                k = hooks.oom ? -ENOMEM : 0;
        }
        if (k >= 0)
                k = reload_sockets(r, m->listeners, m->n_listeners, manager_reload_bind, m);
        if (k >= 0)
                k = manager_swap_units(m, r);
        if (k < 0) {
                strv_free(hooks.started);
                return k;
        }
        *swapped = true;
        k = manager_swap_listeners(m, r);
        if (k >= 0)
                k = manager_relink(m);
        /* After the swap: ExecStopPost= of the removed (their old units live until the gc),
         * ExecStartPost= of the added. */
        reload_foreach_change(r, RELOAD_UNIT_REMOVED, reload_hook_stop_post, NULL);
        STRV_FOREACH(name, hooks.started) {
                Unit *u = manager_get_unit(m, *name);
                if (u && !manager_unit_failed(m, *name))
                        (void) manager_socket_hook(m, u, true);
        }
        strv_free(hooks.started);
        return k;
}

/* The outcome of a reload that ran (k: what the phases returned), as manager_daemon_reload()
 * returns it. */
static int manager_reload_end(Manager *m, Reload *r, int k, bool swapped, char ***ret_errors,
                              char ***ret_warnings) {
        LoadDiag *d = reload_diag(r);

        *ret_errors = *ret_warnings = NULL;
        if (swapped) {
                if (manager_setup_accepts(m) < 0)
                        k = k < 0 ? k : -ENOMEM;
                for (size_t i = 0; i < m->n_listeners; i++)
                        if (!m->listeners[i]->owner)
                                (void) listener_set_watch(m->listeners[i], false);
                manager_gc_later(m);
                m->n_reloads++;
        }
        if (k >= 0 && d->oom)
                k = -ENOMEM;
        if (k < 0)
                return k;
        k = d->errors ? UNIT_FILE_E_INVALID : 0;
        if (swapped)
                log_info("daemon-reload: done, %zu unit%s (%zu read again, the others "
                         "unchanged), %zu socket%s%s", m->n_units, m->n_units == 1 ? "" : "s",
                         reload_n_read(r), m->n_listeners, m->n_listeners == 1 ? "" : "s",
                         k ? "; some units kept their old configuration" : "");
        *ret_errors = d->errors ?: calloc(1, sizeof(char *));
        *ret_warnings = d->warnings ?: calloc(1, sizeof(char *));
        d->errors = d->warnings = NULL;
        if (!*ret_errors || !*ret_warnings) {
                *ret_errors = strv_free(*ret_errors);
                *ret_warnings = strv_free(*ret_warnings);
                return -ENOMEM;
        }
        return k;
}

/* ---- daemon-reload in steps ---- */

#define RELOAD_STEP_UNITS 64                      /* units read between two looks at the clock */
#define RELOAD_STEP_USEC (5 * USEC_PER_MSEC)      /* then the loop runs */

typedef struct ReloadWaiter {
        ManagerReloadDone done;
        void *userdata;
} ReloadWaiter;

typedef struct ReloadJob {
        Reload *r;
        sd_event_source *step_source;
        ReloadWaiter *waiters, *next_waiters; /* told at the end of this one; of the next */
        size_t n_waiters, n_next_waiters, n_next_allocated;
        bool again;                            /* another reload was asked for meanwhile */
} ReloadJob;

static int manager_reload_job_start(Manager *m, ReloadWaiter *waiters, size_t n_waiters);

static void reload_job_free(ReloadJob *j) {
        if (!j)
                return;
        sd_event_source_disable_unref(j->step_source);
        reload_free(j->r);
        free(j->waiters);
        free(j->next_waiters);
        free(j);
}

static void reload_waiters_tell(Manager *m, const ReloadWaiter *w, size_t n, int k,
                                char **errors, char **warnings) {
        bool told = false;

        for (size_t i = 0; i < n; i++)
                if (w[i].done) {
                        w[i].done(m, k, errors, warnings, w[i].userdata);
                        told = true;
                }
        if (told)
                return;
        /* Nobody asks for the outcome (SIGHUP): the log says it. */
        if (k < 0)
                log_error_errno(k, "daemon-reload failed: %m; the old configuration stays");
        else if (k > 0)
                log_warning("daemon-reload: %zu error%s; those units keep their old "
                            "configuration", strv_length(errors),
                            strv_length(errors) == 1 ? "" : "s");
}

/* The job's units are read (k >= 0), or it failed (k < 0): the rest runs now, in one go. */
static void manager_reload_job_finish(Manager *m, int k) {
        ReloadJob *j = TAKE_PTR(m->reload_job);
        _cleanup_strv_free_ char **errors = NULL, **warnings = NULL;
        bool swapped = false;

        if (k >= 0 && !m->units_given)
                k = manager_reload_apply(m, j->r, &swapped);
        k = manager_reload_end(m, j->r, k, swapped, &errors, &warnings);
        reload_waiters_tell(m, j->waiters, j->n_waiters, k, errors, warnings);
        if (j->again && manager_reload_job_start(m, j->next_waiters, j->n_next_waiters) >= 0)
                j->next_waiters = NULL; /* the new job has them */
        else if (j->again)
                reload_waiters_tell(m, j->next_waiters, j->n_next_waiters, -ENOMEM, NULL, NULL);
        reload_job_free(j);
}

/* Reads the next units; the rest of the reload once they are all read. */
static int manager_on_reload_step(sd_event_source *es, void *userdata) {
        Manager *m = userdata;
        ReloadJob *j = m->reload_job;
        usec_t start = time_now(CLOCK_MONOTONIC);
        int k;

        if (m->exiting) {
                manager_reload_job_cancel(m);
                return 0;
        }
        do
                k = reload_load_step(j->r, m->units, m->n_units, RELOAD_STEP_UNITS);
        while (k > 0 && time_now(CLOCK_MONOTONIC) - start < RELOAD_STEP_USEC);
        if (k <= 0)
                manager_reload_job_finish(m, k);
        return 0;
}

/* Starts a job for waiters (taken, also on failure: then they are told). */
static int manager_reload_job_start(Manager *m, ReloadWaiter *waiters, size_t n_waiters) {
        ReloadJob *j = calloc(1, sizeof *j);
        int k;

        if (!j || reload_new(&j->r) < 0) {
                reload_job_free(j);
                reload_waiters_tell(m, waiters, n_waiters, -ENOMEM, NULL, NULL);
                free(waiters);
                return -ENOMEM;
        }
        j->waiters = waiters;
        j->n_waiters = n_waiters;
        m->reload_job = j;
        k = manager_reload_begin(m, j->r);
        if (k > 0) {
                /* Below every other event: a client, a notify message or a trigger goes
                 * first. */
                k = sd_event_add_defer(m->event, &j->step_source, manager_on_reload_step, m);
                if (k >= 0)
                        k = sd_event_source_set_priority(j->step_source, SD_EVENT_PRIORITY_IDLE);
                if (k >= 0) /* a defer source fires once unless told otherwise */
                        k = sd_event_source_set_enabled(j->step_source, SD_EVENT_ON);
                if (k >= 0)
                        return 0;
        }
        manager_reload_job_finish(m, k); /* ad-hoc mode (k == 0), or a failure */
        return 0;
}

int manager_daemon_reload_async(Manager *m, ManagerReloadDone done, void *userdata) {
        ReloadJob *j = m->reload_job;

        if (!m->event) {
                _cleanup_strv_free_ char **errors = NULL, **warnings = NULL;
                int k = manager_daemon_reload(m, &errors, &warnings);
                reload_waiters_tell(m, &(ReloadWaiter) { done, userdata }, 1, k, errors,
                                    warnings);
                return 0;
        }
        if (j) {
                if (ARRAY_RESERVE(j->next_waiters, j->n_next_allocated, j->n_next_waiters + 1) < 0)
                        return -ENOMEM;
                j->next_waiters[j->n_next_waiters++] = (ReloadWaiter) { done, userdata };
                j->again = true;
                return 0;
        }
        ReloadWaiter *w = malloc(sizeof *w);
        if (!w)
                return -ENOMEM;
        *w = (ReloadWaiter) { done, userdata };
        return manager_reload_job_start(m, w, 1);
}

/* A reload in steps that must be over now (a synchronous reload comes): its steps run at
 * once. */
static void manager_reload_job_complete(Manager *m) {
        int k = 1;

        while (m->reload_job && k > 0)
                k = reload_load_step(m->reload_job->r, m->units, m->n_units, SIZE_MAX);
        if (m->reload_job)
                manager_reload_job_finish(m, k);
}

/* berthd exits: nothing more is applied, and whoever waits is told. */
static void manager_reload_job_cancel(Manager *m) {
        ReloadJob *j = TAKE_PTR(m->reload_job);

        if (!j)
                return;
        log_info("daemon-reload: cancelled, berthd is stopping");
        reload_waiters_tell(m, j->waiters, j->n_waiters, -ECANCELED, NULL, NULL);
        reload_waiters_tell(m, j->next_waiters, j->n_next_waiters, -ECANCELED, NULL, NULL);
        reload_job_free(j);
}

int manager_daemon_reload(Manager *m, char ***ret_errors, char ***ret_warnings) {
        _cleanup_(reload_freep) Reload *r = NULL;
        bool swapped = false;
        int k;

        /* One reload at a time: a stepped one in progress is finished first. */
        manager_reload_job_complete(m);
        if (reload_new(&r) < 0)
                return -ENOMEM;
        k = manager_reload_begin(m, r);
        if (k > 0)
                k = reload_load_step(r, m->units, m->n_units, SIZE_MAX);
        if (k >= 0 && !m->units_given)
                k = manager_reload_apply(m, r, &swapped);
        return manager_reload_end(m, r, k, swapped, ret_errors, ret_warnings);
}

/* ---- the event loop ---- */

static int manager_on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si,
                                  void *userdata) {
        Manager *m = userdata;

        if (m->exiting) {
                log_info("Received SIG%s again, still stopping.", sigabbrev_np(si->ssi_signo) ?: "?");
                return 0;
        }
        log_info("Received SIG%s, stopping every service.", sigabbrev_np(si->ssi_signo) ?: "?");
        (void) sd_notify(0, "STOPPING=1");
        m->exiting = true;
        m->exit_code = 0;
        for (size_t i = 0; i < m->n_services; i++)
                service_shutdown(m->services[i]);
        manager_on_service_state(NULL, m);
        return 0;
}

static int manager_on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si,
                                    void *userdata) {
        Manager *m = userdata;

        log_info("Received SIGHUP: daemon-reload.");
        if (manager_daemon_reload_async(m, NULL, NULL) < 0)
                log_oom();
        return 0;
}

/* Reaps every child that exited: our services' processes, and as a subreaper every orphan
 * below them. Bounded per wakeup; SIGCHLD comes again for the rest. */
static int manager_on_sigchld(sd_event_source *es, const struct signalfd_siginfo *ssi,
                              void *userdata) {
        Manager *m = userdata;

        for (unsigned n = 0; n < 4096; n++) {
                siginfo_t si = {};
                Service *owner = NULL;

                /* Looked at before it is reaped: while it is a zombie, a service's pidfd of
                 * that pid is alive only if it is this very process (service_names_child()),
                 * not one its own parent reaped before this one got the number. */
                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
                        if (errno != ECHILD)
                                log_warning_errno(errno, "waitid() failed: %m, ignoring");
                        break;
                }
                if (si.si_pid == 0)
                        break;
                for (size_t i = 0; i < m->n_services && !owner; i++)
                        if (service_names_child(m->services[i], si.si_pid))
                                owner = m->services[i];
                if (waitid(P_PID, si.si_pid, &si, WEXITED | WNOHANG) < 0) {
                        log_warning_errno(errno, "waitid() failed: %m, ignoring");
                        break;
                }
                if (si.si_pid == 0)
                        break;
                if (!owner || !service_on_child(owner, &si))
                        log_debug("Reaped orphan process %d.", (int) si.si_pid);
        }
        return 0;
}

/* Half of the fds berthd may open may be kept in fd stores: the rest is for sockets, pipes,
 * clients and starting services. */
static unsigned fdstore_share(void) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
                return UINT32_MAX;
        return (unsigned) MIN(rl.rlim_cur / 2, (rlim_t) UINT32_MAX);
}

/* A cgroup per service where berthd can make them, so a stop stops every process; said once
 * either way. BERTH_CGROUPS=0 turns them off (tests of the fallback). */
static void manager_setup_cgroups(Manager *m) {
        const char *e = getenv("BERTH_CGROUPS");
        char err[512];
        int r;

        if (e && streq(e, "0")) {
                log_info("BERTH_CGROUPS=0: no cgroups; a service's processes are found by their "
                         "INVOCATION_ID=");
                return;
        }
        r = cgroup_setup(&m->cgroup_root, err, sizeof err);
        if (r < 0)
                log_warning("No cgroups for the services (%s): a stop finds their processes by "
                            "INVOCATION_ID=, which a process that clears its environment escapes",
                            err);
        else
                log_info("Each service runs in its own cgroup under %s.", m->cgroup_root);
}

static int manager_watch_signals(Manager *m) {
        int r;

        r = sd_event_add_signal(m->event, &m->sigterm_source, SIGTERM, manager_on_exit_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigint_source, SIGINT,
                                        manager_on_exit_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sighup_source, SIGHUP,
                                        manager_on_reload_signal, m);
        if (r >= 0)
                r = sd_event_add_signal(m->event, &m->sigchld_source, SIGCHLD, manager_on_sigchld,
                                        m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        /* Children are reaped after their output is read and after other events. */
        (void) sd_event_source_set_priority(m->sigchld_source, SD_EVENT_PRIORITY_IDLE);
        /* A reload asked for begins before the events that came with it; its steps then run
         * below them all (manager_on_reload_step()). */
        (void) sd_event_source_set_priority(m->sighup_source, SD_EVENT_PRIORITY_IMPORTANT);
        return 0;
}

int manager_run(Manager *m) {
        _cleanup_free_ char *notify_path = NULL, *control_path = NULL;
        int r;

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        r = manager_watch_signals(m);
        if (r < 0)
                return r;

        if (asprintf(&notify_path, "%s/notify", m->runtime_dir) < 0 ||
            asprintf(&control_path, "%s/" BERTH_CONTROL_SOCKET, m->runtime_dir) < 0)
                return log_oom();
        r = notify_new(&m->notify, m->event, notify_path, manager_state_notify_fd(m),
                       manager_find_pid, m);
        if (r < 0)
                log_warning("Running without a NOTIFY_SOCKET: Type=notify services cannot "
                            "report readiness.");

        manager_setup_cgroups(m);
        /* Before any service starts: the next berthd finds what this one started. */
        if (proc_state_new(&m->proc_state, m->event, m->runtime_dir, manager_collect_processes,
                           m) < 0)
                log_warning("A berthd started after this one is killed will not find its "
                            "services' processes, ignoring");
        for (size_t i = 0; i < m->n_listeners; i++)
                if (m->listeners[i]->fd < 0 && listener_bind_error(m->listeners[i]))
                        (void) listener_arm_retry(m->listeners[i], m->event);
        m->fdstore_budget.max = fdstore_share();
        /* One context for every service: the loop, the notify socket and the cgroup root are
         * set now, and stay. */
        m->service_ctx = (ServiceContext) {
                .ops = &service_ops_default,
                .event = m->event,
                .notify_path = m->notify ? m->notify->path : NULL,
                .cgroup_root = m->cgroup_root,
                .fdstore_budget = &m->fdstore_budget,
                .on_state = manager_on_service_state,
                .on_process = manager_on_service_process,
                .userdata = m,
        };
        r = manager_setup_services(m);
        if (r < 0)
                return r;
        r = control_new(&m->control, m, control_path, manager_state_control_fd(m));
        if (r < 0)
                return r;

        /* Every socket watched (or its service started) before berthd says it is ready; after
         * a daemon-reexec, every service as it was. */
        for (size_t i = 0; i < m->n_services; i++)
                if (!manager_state_restore_service(m, m->services[i]))
                        (void) service_begin(m->services[i]);
        manager_state_restore_accepts(m);
        manager_state_foreach(m, "instance", manager_restore_instance);
        manager_state_done(m);
        /* Children that exited while berthd executed itself: their SIGCHLD may have come
         * before the new one watched for it. */
        if (m->generation > 0)
                (void) manager_on_sigchld(NULL, NULL, m);

        /* Loading and binding leave holes all over the heap (file texts, the bind plan), which
         * malloc keeps: give those pages back before the long idle. */
        (void) malloc_trim(0);

        size_t n_bound = 0;
        for (size_t i = 0; i < m->n_listeners; i++)
                n_bound += m->listeners[i]->fd >= 0;
        log_info("berthd is ready: %zu socket%s bound for %zu unit%s.", n_bound,
                 n_bound == 1 ? "" : "s", m->n_units, m->n_units == 1 ? "" : "s");
        r = sd_notifyf(0, "READY=1\nSTATUS=%zu sockets bound", n_bound);
        if (r < 0)
                log_warning_errno(r, "Failed to send READY=1 to $NOTIFY_SOCKET: %m, ignoring");

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        /* Every service stopped: nothing for a next berthd to find. */
        m->proc_state = proc_state_free(m->proc_state);
        manager_close_sockets(m);
        return m->exit_code;
}
