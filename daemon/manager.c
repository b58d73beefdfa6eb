/* manager: owns the event loop, the units, the plan and the bound sockets. Loading is
 * all-or-nothing per unit: a bad unit is reported and left out, and the others go on. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <systemd/sd-daemon.h>

#include "common/control-interface.h"
#include "common/log.h"
#include "daemon/control.h"
#include "daemon/listener.h"
#include "daemon/manager.h"
#include "daemon/notify-parse.h"
#include "daemon/unit-dir.h"

static void manager_gc_later(Manager *m);
static int manager_link_service(Manager *m, Service *svc, Unit *u);
static int manager_add_service(Manager *m, Unit *u, Service **ret);
static void manager_warn_accept(Manager *m);

static char **strv_copy(char *const *l) {
        size_t n = strv_length(l);
        char **c = calloc(n + 1, sizeof(char *));

        if (!c)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!(c[i] = strdup(l[i])))
                        return strv_free(c);
        return c;
}

static int strv_push(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **nl = realloc(*l, (n + 2) * sizeof(char *));

        if (!nl)
                return -ENOMEM;
        *l = nl;
        if (!(nl[n] = strdup(s)))
                return -ENOMEM;
        nl[n + 1] = NULL;
        return 0;
}

int manager_new(Manager **ret, char *const *unit_dirs, const char *runtime_dir, bool user_mode) {
        _cleanup_(manager_freep) Manager *m = calloc(1, sizeof *m);

        if (!m)
                return -ENOMEM;
        m->unit_dirs = strv_copy(unit_dirs);
        m->runtime_dir = strdup(runtime_dir);
        if (!m->unit_dirs || !m->runtime_dir)
                return -ENOMEM;
        m->user_mode = user_mode;
        *ret = TAKE_PTR(m);
        return 0;
}

static void manager_close_sockets(Manager *m) {
        for (size_t i = 0; i < m->n_sockets; i++)
                m->sockets[i].fd = safe_close(m->sockets[i].fd);
        free(m->sockets);
        m->sockets = NULL;
        m->n_sockets = 0;
}

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        sd_event_source_disable_unref(m->sigterm_source);
        sd_event_source_disable_unref(m->sigint_source);
        sd_event_source_disable_unref(m->sighup_source);
        sd_event_source_disable_unref(m->sigchld_source);
        sd_event_source_disable_unref(m->gc_source);
        control_free(m->control);
        /* Services borrow the socket fds and the units: they go first. */
        for (size_t i = 0; i < m->n_services; i++)
                service_free(m->services[i]);
        free(m->services);
        notify_free(m->notify);
        manager_close_sockets(m);
        for (size_t i = 0; i < m->n_retired; i++)
                safe_close(m->retired[i].fd);
        free(m->retired);
        unit_array_free(m->graveyard, m->n_graveyard);
        bind_plan_done(&m->plan);
        unit_array_free(m->units, m->n_units);
        strv_free(m->failed_units);
        strv_free(m->unit_dirs);
        free(m->runtime_dir);
        sd_event_unref(m->event);
        free(m);
        return NULL;
}

/* The diagnostic sink for the pure loaders: log, and count. */
static void manager_on_diag(int level, const char *file, unsigned line, const char *msg,
                            void *userdata) {
        Manager *m = userdata;

        if (level <= LOG_ERR)
                m->n_errors++;
        else if (level == LOG_WARNING)
                m->n_warnings++;
        if (file && line > 0)
                log_full_errno(level, 0, "%s:%u: %s", file, line, msg);
        else if (file)
                log_full_errno(level, 0, "%s: %s", file, msg);
        else
                log_full_errno(level, 0, "%s", msg);
}

void manager_set_units(Manager *m, Unit **units, size_t n) {
        unit_array_free(m->units, m->n_units);
        m->units = units;
        m->n_units = n;
        m->units_given = true;
}

bool manager_unit_failed(Manager *m, const char *name) {
        STRV_FOREACH(i, m->failed_units)
                if (streq(*i, name))
                        return true;
        return false;
}

static int unit_cmp(const void *key, const void *elem) {
        return strcmp(key, (*(Unit *const *) elem)->name);
}

static Unit *units_find(Unit **units, size_t n, const char *name) {
        Unit **u = n > 0 ? bsearch(name, units, n, sizeof(Unit *), unit_cmp) : NULL;
        return u ? *u : NULL;
}

static Unit *manager_find_unit(Manager *m, const char *name) {
        return units_find(m->units, m->n_units, name);
}

static bool strv_has(char **l, const char *s) {
        STRV_FOREACH(i, l)
                if (streq(*i, s))
                        return true;
        return false;
}

static int strv_push_unique(char ***l, const char *s) {
        return strv_has(*l, s) ? 0 : strv_push(l, s);
}

/* Checks a set of units as a whole, before anything is bound: every socket's service exists
 * (NAME.service, Service=, or NAME@.service for Accept=yes), every address resolves, and no
 * two sockets overlap. Fills *plan with the sockets of the units that passed and adds the names
 * of the others to *failed. Reports through diag. Returns 0 or -ENOMEM. */
static int manager_check_units(Manager *m, Unit **units, size_t n, BindPlan *plan,
                               char ***failed, UnitDiagFunc diag, void *userdata) {
        _cleanup_strv_free_ char **conflicts = NULL;
        int r;

        for (size_t i = 0; i < n; i++) {
                Unit *u = units[i];
                _cleanup_free_ char *svc = NULL;
                char msg[2 * UNIT_NAME_MAX + 256];

                if (u->type != UNIT_SOCKET)
                        continue;
                svc = unit_socket_service_name(u);
                if (!svc)
                        return -ENOMEM;
                if (units_find(units, n, svc))
                        continue;
                snprintf(msg, sizeof msg,
                         "%s: its service %s does not exist (expected %s in a unit directory%s); "
                         "%s is not loaded",
                         u->name, svc, svc,
                         u->socket.accept ? ", a template for Accept=yes" : ", or set Service=",
                         u->name);
                if (diag)
                        diag(LOG_ERR, u->path, 0, msg, userdata);
                if (strv_push_unique(failed, u->name) < 0)
                        return -ENOMEM;
        }

        for (size_t i = 0; i < n; i++) {
                Unit *u = units[i];

                if (u->type != UNIT_SOCKET || strv_has(*failed, u->name))
                        continue;
                r = bind_plan_add_unit(plan, u, &m->host, diag, userdata);
                if (r < 0)
                        return r;
                if (r == UNIT_FILE_E_INVALID && strv_push_unique(failed, u->name) < 0)
                        return -ENOMEM;
        }

        r = bind_plan_check_overlap(plan, diag, userdata, &conflicts);
        if (r < 0)
                return r;
        STRV_FOREACH(c, conflicts) {
                bind_plan_remove_unit(plan, *c);
                if (strv_push_unique(failed, *c) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int manager_load(Manager *m) {
        size_t n_failed = 0;
        int r;

        listener_probe_host(&m->host);

        if (!m->units_given) {
                r = unit_dir_load(m->unit_dirs, manager_on_diag, m, &m->units, &m->n_units,
                                  &n_failed);
                if (r < 0)
                        return log_error_errno(r, "Failed to load units: %m");
        }

        r = manager_check_units(m, m->units, m->n_units, &m->plan, &m->failed_units,
                                manager_on_diag, m);
        if (r < 0)
                return log_error_errno(r, "Failed to check the units: %m");

        if (n_failed > 0)
                log_warning("%zu unit%s failed to load; the other %zu loaded", n_failed,
                            n_failed == 1 ? "" : "s", m->n_units);
        return 0;
}

static void describe_options(const SocketConfig *c, int socktype, char *buf, size_t len) {
        size_t n = 0;
        buf[0] = 0;

#define OPT(cond, ...)                                                                             \
        do {                                                                                       \
                if ((cond) && n < len) {                                                           \
                        int k = snprintf(buf + n, len - n, "%s", n ? ", " : "");                   \
                        n += k > 0 ? (size_t) k : 0;                                               \
                        if (n < len) {                                                             \
                                k = snprintf(buf + n, len - n, __VA_ARGS__);                       \
                                n += k > 0 ? (size_t) k : 0;                                       \
                        }                                                                          \
                }                                                                                  \
        } while (0)

        if (socktype != SOCK_DGRAM) {
                OPT(c->backlog >= 0, "Backlog=%d", c->backlog);
                OPT(c->backlog < 0, "Backlog=somaxconn");
        }
        OPT(c->accept, "Accept=yes");
        OPT(c->reuse_port, "ReusePort=yes");
        OPT(c->free_bind, "FreeBind=yes");
        OPT(c->transparent, "Transparent=yes");
        OPT(c->no_delay, "NoDelay=yes");
        OPT(c->keep_alive, "KeepAlive=yes");
        OPT(c->defer_accept_usec > 0, "DeferAcceptSec=%llus",
            (unsigned long long) (c->defer_accept_usec / USEC_PER_SEC));
        OPT(c->receive_buffer > 0, "ReceiveBuffer=%llu", (unsigned long long) c->receive_buffer);
        OPT(c->send_buffer > 0, "SendBuffer=%llu", (unsigned long long) c->send_buffer);
        OPT(c->bind_to_device, "BindToDevice=%s", c->bind_to_device);
        OPT(c->pass_credentials, "PassCredentials=yes");
        OPT(c->non_blocking, "NonBlocking=yes");
#undef OPT
}

void manager_print_plan(Manager *m, FILE *f) {
        size_t n_sockets = 0, n_services = 0, n_socket_units = 0;

        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                bool failed = manager_unit_failed(m, u->name);

                if (u->type == UNIT_SERVICE) {
                        n_services++;
                        continue;
                }
                n_socket_units++;
                _cleanup_free_ char *svc = unit_socket_service_name(u);
                _cleanup_free_ char *fdname = unit_socket_fdname(u);
                fprintf(f, "%s -> %s (fd name \"%s\")%s\n", u->name, strna(svc), strna(fdname),
                        failed ? "  [FAILED: not loaded, see above]" : "");
                if (failed)
                        continue;
                for (size_t k = 0; k < m->plan.n_specs; k++) {
                        const BindSpec *s = &m->plan.specs[k];
                        char d[ADDRESS_FORMAT_MAX + 128], opts[512];

                        if (s->unit != u)
                                continue;
                        n_sockets++;
                        describe_options(&u->socket, s->socktype, opts, sizeof opts);
                        fprintf(f, "  %s=%s (%s:%u)\n    bind %s%s%s\n",
                                listen_type_to_string(s->listen->type), s->listen->text,
                                strempty(s->listen->origin.file), s->listen->origin.line,
                                bind_spec_describe(s, d, sizeof d), opts[0] ? "; " : "", opts);
                }
        }
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                bool activated = false;

                if (u->type != UNIT_SERVICE)
                        continue;
                for (size_t k = 0; k < m->n_units && !activated; k++) {
                        _cleanup_free_ char *svc = NULL;
                        if (m->units[k]->type != UNIT_SOCKET)
                                continue;
                        svc = unit_socket_service_name(m->units[k]);
                        activated = svc && streq(svc, u->name);
                }
                fprintf(f, "%s: %s\n", u->name,
                        u->is_template ? "template, one instance per connection" :
                        activated ? (u->wanted_by ? "socket-activated, started at berthd start "
                                                    "([Install] WantedBy=)" :
                                                    "socket-activated, started on the first "
                                                    "connection") :
                                    "no socket, started at berthd start");
        }
        fprintf(f, "%s: %zu unit%s (%zu socket, %zu service), %zu socket%s to bind, %u error%s, "
                   "%u warning%s\n",
                m->n_errors > 0 ? "FAILED" : "OK", m->n_units, m->n_units == 1 ? "" : "s",
                n_socket_units, n_services, n_sockets, n_sockets == 1 ? "" : "s", m->n_errors,
                m->n_errors == 1 ? "" : "s", m->n_warnings, m->n_warnings == 1 ? "" : "s");
}

/* Logs the dual-stack decision that BindIPv6Only=default took from the sysctl. */
static void manager_log_sysctl_choice(Manager *m, const BindSpec *s) {
        char a[ADDRESS_FORMAT_MAX];

        if (!s->v6only_from_sysctl)
                return;
        sockaddr_format(&s->addr, a, sizeof a);
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

int manager_bind(Manager *m) {
        unsigned failed = 0;

        manager_close_sockets(m);
        m->sockets = calloc(m->plan.n_specs ?: 1, sizeof *m->sockets);
        if (!m->sockets)
                return log_oom();

        for (size_t i = 0; i < m->plan.n_specs; i++) {
                const BindSpec *s = &m->plan.specs[i];
                char err[LISTENER_ERROR_MAX] = "";
                int fd, r;

                if (manager_unit_failed(m, s->unit->name))
                        continue;
                manager_log_sysctl_choice(m, s);
                r = listener_bind(s, &fd, err, sizeof err);
                if (r < 0) {
                        log_error("%s:%u: %s: %s; %s is not started, the other units go on",
                                  strempty(s->listen->origin.file), s->listen->origin.line,
                                  s->unit->name, err, s->unit->name);
                        failed++;
                        if (strv_push(&m->failed_units, s->unit->name) < 0)
                                return log_oom();
                        /* Close what this unit already bound. */
                        for (size_t k = 0; k < m->n_sockets; k++)
                                if (m->sockets[k].spec.unit == s->unit)
                                        m->sockets[k].fd = safe_close(m->sockets[k].fd);
                        continue;
                }
                if (err[0])
                        log_warning("%s: %s", s->unit->name, err);
                m->sockets[m->n_sockets++] = (ManagerSocket) { .spec = *s, .fd = fd };
        }

        /* Compact away the sockets of units that failed midway, then log what is bound. */
        size_t k = 0;
        for (size_t i = 0; i < m->n_sockets; i++)
                if (m->sockets[i].fd >= 0)
                        m->sockets[k++] = m->sockets[i];
        m->n_sockets = k;

        for (size_t i = 0; i < m->n_sockets; i++) {
                ListenerInfo info;
                char line[ADDRESS_FORMAT_MAX + 512];
                int r = listener_read_back(m->sockets[i].fd, &info);

                if (r < 0) {
                        log_warning_errno(r, "%s: cannot read back the bound socket: %m",
                                          m->sockets[i].spec.unit->name);
                        continue;
                }
                log_info("%s", listener_describe(m->sockets[i].spec.unit->name, &info, line,
                                                 sizeof line));
        }
        return failed;
}

Service *manager_find_service(Manager *m, const char *name) {
        for (size_t i = 0; i < m->n_services; i++)
                if (streq(m->services[i]->unit->name, name))
                        return m->services[i];
        return NULL;
}

Unit *manager_get_unit(Manager *m, const char *name) {
        return manager_find_unit(m, name);
}

Service *manager_resolve_service(Manager *m, const char *name) {
        Unit *u = manager_find_unit(m, name);
        _cleanup_free_ char *svc = NULL;

        if (!u || u->type == UNIT_SERVICE)
                return manager_find_service(m, name);
        svc = unit_socket_service_name(u);
        return svc ? manager_find_service(m, svc) : NULL;
}

typedef enum UnitAction { ACTION_START, ACTION_STOP, ACTION_RESTART, ACTION_RELOAD } UnitAction;

static int manager_unit_action(Manager *m, const char *name, UnitAction a, char *err,
                               size_t errlen) {
        static const char *const verbs[] = { "start", "stop", "restart", "reload" };
        Service *s = manager_resolve_service(m, name);
        int r;

        if (!s) {
                Unit *u = manager_find_unit(m, name);
                if (u && u->is_template)
                        snprintf(err, errlen, "%s is a template: it runs one instance per "
                                 "connection and cannot be %sed by name", name, verbs[a]);
                else if (manager_unit_failed(m, name) || (u && manager_unit_failed(m, u->name)))
                        snprintf(err, errlen, "%s failed to load; see berthd's log", name);
                else
                        snprintf(err, errlen, "no unit named '%s'", name);
                return u ? -EINVAL : -ENOENT;
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
                         service_state_to_string(s->state), strerror(-r));
        return r;
}

/* ---- daemon-reload ---- */

static bool service_uses_fd(const Service *s, int fd) {
        for (size_t i = 0; i < s->n_fds; i++)
                if (s->fds[i] == fd)
                        return true;
        return false;
}

static bool unit_in_use(Manager *m, const Unit *u) {
        for (size_t i = 0; i < m->n_services; i++)
                if (m->services[i]->unit == u || m->services[i]->next_unit == u)
                        return true;
        for (size_t i = 0; i < m->n_sockets; i++)
                if (m->sockets[i].spec.unit == u)
                        return true;
        for (size_t i = 0; i < m->n_retired; i++)
                if (m->retired[i].spec.unit == u)
                        return true;
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i] == u)
                        return true;
        return false;
}

/* Frees what a reload left behind once nothing uses it: retired sockets whose services no
 * longer run, services whose units are gone and which stopped, and old units. Runs from a
 * deferred event, never inside a service's own callback. */
static void manager_gc(Manager *m) {
        size_t k = 0;

        for (size_t i = 0; i < m->n_retired; i++) {
                ManagerSocket *r = &m->retired[i];
                if (r->holder && service_is_active(r->holder)) {
                        m->retired[k++] = *r;
                        continue;
                }
                char a[ADDRESS_FORMAT_MAX];
                log_info("%s: closed %s, removed by daemon-reload", r->spec.unit->name,
                         sockaddr_format(&r->spec.addr, a, sizeof a));
                r->fd = safe_close(r->fd);
        }
        m->n_retired = k;

        k = 0;
        for (size_t i = 0; i < m->n_services; i++) {
                Service *svc = m->services[i];
                if (svc->removed && !service_is_active(svc) &&
                    IN_SET(svc->state, SERVICE_DEAD, SERVICE_FAILED)) {
                        log_info("%s: removed by daemon-reload", svc->unit->name);
                        service_free(svc);
                        continue;
                }
                m->services[k++] = svc;
        }
        m->n_services = k;

        k = 0;
        for (size_t i = 0; i < m->n_graveyard; i++) {
                if (unit_in_use(m, m->graveyard[i])) {
                        m->graveyard[k++] = m->graveyard[i];
                        continue;
                }
                unit_free(m->graveyard[i]);
        }
        m->n_graveyard = k;
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

typedef struct ReloadDiag {
        char **errors, **warnings;
        bool failed; /* out of memory while collecting */
} ReloadDiag;

static void reload_on_diag(int level, const char *file, unsigned line, const char *msg,
                           void *userdata) {
        ReloadDiag *d = userdata;
        char *text = NULL;
        int r;

        if (file && line > 0)
                r = asprintf(&text, "%s:%u: %s", file, line, msg);
        else if (file)
                r = asprintf(&text, "%s: %s", file, msg);
        else
                r = asprintf(&text, "%s", msg);
        if (r < 0) {
                d->failed = true;
                return;
        }
        log_full_errno(level, 0, "daemon-reload: %s", text);
        if (strv_push(level <= LOG_ERR ? &d->errors : &d->warnings, text) < 0)
                d->failed = true;
        free(text);
}

/* Two sockets are the same when the same unit asks for the same address, type and dual-stack
 * state with the same options: then the kernel socket is kept, fd and all. */
static bool socket_options_equal(const SocketConfig *a, const SocketConfig *b) {
        return a->backlog == b->backlog && a->reuse_port == b->reuse_port &&
               a->free_bind == b->free_bind && a->transparent == b->transparent &&
               a->no_delay == b->no_delay && a->keep_alive == b->keep_alive &&
               a->pass_credentials == b->pass_credentials &&
               a->keep_alive_time_usec == b->keep_alive_time_usec &&
               a->keep_alive_interval_usec == b->keep_alive_interval_usec &&
               a->keep_alive_probes == b->keep_alive_probes &&
               a->defer_accept_usec == b->defer_accept_usec &&
               a->receive_buffer == b->receive_buffer && a->send_buffer == b->send_buffer &&
               streq_ptr(a->bind_to_device, b->bind_to_device) &&
               streq_ptr(a->socket_user, b->socket_user) &&
               streq_ptr(a->socket_group, b->socket_group) && a->socket_mode == b->socket_mode &&
               a->directory_mode == b->directory_mode;
}

static bool socket_same(const ManagerSocket *old, const BindSpec *s) {
        return streq(old->spec.unit->name, s->unit->name) && old->spec.family == s->family &&
               old->spec.socktype == s->socktype && old->spec.v6only == s->v6only &&
               sockaddr_equal(&old->spec.addr, &s->addr) &&
               socket_options_equal(&old->spec.unit->socket, &s->unit->socket);
}

static int retire_or_close(Manager *m, ManagerSocket *old) {
        Service *holder = NULL;

        for (size_t i = 0; i < m->n_services && !holder; i++)
                if (service_is_active(m->services[i]) && service_uses_fd(m->services[i], old->fd))
                        holder = m->services[i];
        if (!holder) {
                char a[ADDRESS_FORMAT_MAX];
                log_info("%s: closed %s, removed or changed by daemon-reload",
                         old->spec.unit->name, sockaddr_format(&old->spec.addr, a, sizeof a));
                old->fd = safe_close(old->fd);
                return 0;
        }
        ManagerSocket *r = realloc(m->retired, (m->n_retired + 1) * sizeof(*r));
        if (!r)
                return -ENOMEM;
        m->retired = r;
        old->holder = holder;
        m->retired[m->n_retired++] = *old;
        old->fd = -1;
        return 0;
}

int manager_daemon_reload(Manager *m, char ***ret_errors, char ***ret_warnings) {
        ReloadDiag d = {};
        UnitFileList list = {};
        Unit **loaded = NULL, **eff = NULL;
        bool *from_new = NULL, *bound_new = NULL;
        size_t n_loaded = 0, n_bad = 0, n_eff = 0;
        BindPlan plan = {};
        char **failed = NULL;
        ManagerSocket *ns = NULL;
        size_t n_ns = 0;
        int r;

        if (m->units_given) {
                reload_on_diag(LOG_ERR, NULL, 0,
                               "ad-hoc mode has no unit files to reload; nothing changed", &d);
                r = UNIT_FILE_E_INVALID;
                goto finish;
        }
        log_info("daemon-reload: reading %s%s", m->unit_dirs[0],
                 m->unit_dirs[0] && m->unit_dirs[1] ? " and more" : "");
        listener_probe_host(&m->host);

        r = unit_dir_enumerate(m->unit_dirs, NULL, NULL, &list);
        if (r >= 0)
                r = unit_dir_load(m->unit_dirs, reload_on_diag, &d, &loaded, &n_loaded, &n_bad);
        if (r < 0)
                goto finish;

        /* The new set: each unit on disk in its new version, or, when that has an error, in
         * its old one (which keeps running). */
        eff = calloc(list.n_entries + 1, sizeof(Unit *));
        from_new = calloc(list.n_entries + 1, sizeof(bool));
        if (!eff || !from_new) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < list.n_entries; i++) {
                Unit *nu = units_find(loaded, n_loaded, list.entries[i].name);
                Unit *ou = manager_find_unit(m, list.entries[i].name);
                if (nu || ou) {
                        from_new[n_eff] = nu != NULL;
                        eff[n_eff++] = nu ?: ou;
                }
        }

        /* Check the whole set. A new version that fails a check gives way to its old one, and
         * the set is checked again: bounded, each round replaces at least one unit. */
        for (size_t round = 0; round <= n_eff; round++) {
                bool changed = false;

                bind_plan_done(&plan);
                failed = strv_free(failed);
                r = manager_check_units(m, eff, n_eff, &plan, &failed,
                                        round == 0 ? reload_on_diag : NULL, &d);
                if (r < 0)
                        goto finish;
                STRV_FOREACH(f, failed)
                        for (size_t i = 0; i < n_eff; i++)
                                if (from_new[i] && streq(eff[i]->name, *f) &&
                                    manager_find_unit(m, *f)) {
                                        eff[i] = manager_find_unit(m, *f);
                                        from_new[i] = false;
                                        changed = true;
                                }
                if (!changed)
                        break;
        }
        if (d.errors)
                log_warning("daemon-reload: units with errors keep their old configuration");

        /* Sockets: keep the same kernel socket when nothing about it changed; bind the rest,
         * the new before closing the old where the kernel allows. */
        ns = calloc(plan.n_specs ?: 1, sizeof(*ns));
        bound_new = calloc(plan.n_specs ?: 1, sizeof(bool));
        if (!ns || !bound_new) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t j = 0; j < plan.n_specs; j++) {
                ns[j] = (ManagerSocket) { .spec = plan.specs[j], .fd = -1 };
                for (size_t k = 0; k < m->n_sockets; k++)
                        if (m->sockets[k].fd >= 0 && socket_same(&m->sockets[k], &plan.specs[j])) {
                                ns[j].fd = TAKE_FD(m->sockets[k].fd);
                                break;
                        }
        }
        n_ns = plan.n_specs;
        for (size_t j = 0; j < n_ns; j++) {
                char err[LISTENER_ERROR_MAX] = "", a[ADDRESS_FORMAT_MAX];
                const BindSpec *sp = &ns[j].spec;
                int fd;

                if (ns[j].fd >= 0 || strv_has(failed, sp->unit->name))
                        continue;
                r = listener_bind(sp, &fd, err, sizeof err);
                if (r == -EADDRINUSE)
                        for (size_t k = 0; k < m->n_sockets; k++) {
                                ManagerSocket *o = &m->sockets[k];
                                if (o->fd < 0 || !streq(o->spec.unit->name, sp->unit->name) ||
                                    o->spec.socktype != sp->socktype ||
                                    !sockaddr_equal(&o->spec.addr, &sp->addr))
                                        continue;
                                /* Same address, new options: the kernel will not have both. */
                                log_info("daemon-reload: %s: the options of %s changed; closing "
                                         "the old socket to bind the new one",
                                         sp->unit->name,
                                         sockaddr_format(&sp->addr, a, sizeof a));
                                o->fd = safe_close(o->fd);
                                err[0] = 0;
                                r = listener_bind(sp, &fd, err, sizeof err);
                                break;
                        }
                if (r < 0) {
                        char *msg = NULL;
                        if (asprintf(&msg, "%s: %s; the unit is not loaded", sp->unit->name,
                                     err) < 0) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        reload_on_diag(LOG_ERR, sp->listen->origin.file, sp->listen->origin.line,
                                       msg, &d);
                        free(msg);
                        if (strv_push_unique(&failed, sp->unit->name) < 0) {
                                r = -ENOMEM;
                                goto finish;
                        }
                        continue;
                }
                if (err[0])
                        log_warning("%s: %s", sp->unit->name, err);
                ns[j].fd = fd;
                bound_new[j] = true;
        }
        /* A unit that failed to bind gives back what it was handed. */
        for (size_t j = 0; j < n_ns; j++)
                if (ns[j].fd >= 0 && strv_has(failed, ns[j].spec.unit->name)) {
                        if (bound_new[j])
                                ns[j].fd = safe_close(ns[j].fd);
                        else if (retire_or_close(m, &ns[j]) < 0) {
                                r = -ENOMEM;
                                goto finish;
                        }
                }

        /* What nobody took is retired: closed now, or when the service that has it stops. */
        for (size_t k = 0; k < m->n_sockets; k++)
                if (m->sockets[k].fd >= 0 && retire_or_close(m, &m->sockets[k]) < 0) {
                        r = -ENOMEM;
                        goto finish;
                }

        /* Swap in the new set. Old units stay in the graveyard while something uses them. */
        {
                Unit **g = realloc(m->graveyard, (m->n_graveyard + m->n_units + 1) *
                                                         sizeof(Unit *));
                if (!g) {
                        r = -ENOMEM;
                        goto finish;
                }
                m->graveyard = g;
        }
        for (size_t i = 0; i < m->n_units; i++) {
                bool kept = false;
                for (size_t j = 0; j < n_eff && !kept; j++)
                        kept = eff[j] == m->units[i];
                if (!kept)
                        m->graveyard[m->n_graveyard++] = m->units[i];
        }
        free(m->units);
        m->units = TAKE_PTR(eff);
        m->n_units = n_eff;
        for (size_t i = 0; i < n_loaded; i++) {
                bool used = false;
                for (size_t j = 0; j < m->n_units && !used; j++)
                        used = m->units[j] == loaded[i];
                if (!used)
                        unit_free(loaded[i]);
        }
        free(TAKE_PTR(loaded));
        n_loaded = 0;

        free(m->sockets);
        m->sockets = ns;
        m->n_sockets = 0;
        for (size_t j = 0; j < n_ns; j++)
                if (ns[j].fd >= 0)
                        m->sockets[m->n_sockets++] = ns[j];
        ns = NULL;
        bind_plan_done(&m->plan);
        m->plan = plan;
        plan = (BindPlan) {};
        strv_free(m->failed_units);
        m->failed_units = TAKE_PTR(failed);

        for (size_t j = 0; j < m->n_sockets; j++)
                if (bound_new[j]) {
                        ListenerInfo info;
                        char line[ADDRESS_FORMAT_MAX + 512];
                        if (listener_read_back(m->sockets[j].fd, &info) >= 0)
                                log_info("%s", listener_describe(m->sockets[j].spec.unit->name,
                                                                 &info, line, sizeof line));
                }

        /* Services: the same object keeps its process; its new unit applies at its next
         * start. New units get a service; services whose unit is gone stop and go. */
        for (size_t i = 0; i < m->n_services; i++) {
                Service *svc = m->services[i];
                Unit *u = manager_find_unit(m, svc->unit->name);
                service_clear_sockets(svc);
                if (!u || u->type != UNIT_SERVICE || manager_unit_failed(m, u->name)) {
                        if (!svc->removed)
                                log_info("%s: its unit is gone, stopping it", svc->unit->name);
                        svc->removed = true;
                        (void) service_stop(svc);
                        continue;
                }
                svc->removed = false;
                service_set_next_unit(svc, u);
                r = manager_link_service(m, svc, u);
                if (r >= 0)
                        r = service_begin_watch(svc);
                if (r < 0)
                        goto finish;
        }
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                Service *svc = NULL;

                if (u->type != UNIT_SERVICE || u->is_template || manager_unit_failed(m, u->name) ||
                    manager_find_service(m, u->name))
                        continue;
                r = manager_add_service(m, u, &svc);
                if (r >= 0)
                        r = manager_link_service(m, svc, u);
                if (r >= 0)
                        r = service_begin(svc);
                if (r < 0)
                        goto finish;
        }
        manager_warn_accept(m);
        manager_gc_later(m);
        m->n_reloads++;
        r = d.errors ? UNIT_FILE_E_INVALID : 0;
        log_info("daemon-reload: done, %zu unit%s, %zu socket%s%s", m->n_units,
                 m->n_units == 1 ? "" : "s", m->n_sockets, m->n_sockets == 1 ? "" : "s",
                 r ? "; some units kept their old configuration" : "");

finish:
        if (d.failed && r >= 0)
                r = -ENOMEM;
        if (ns)
                for (size_t j = 0; j < n_ns; j++)
                        if (bound_new && bound_new[j])
                                safe_close(ns[j].fd);
        free(ns);
        free(bound_new);
        free(eff);
        free(from_new);
        if (loaded)
                unit_array_free(loaded, n_loaded);
        unit_file_list_done(&list);
        bind_plan_done(&plan);
        strv_free(failed);
        if (r >= 0) {
                *ret_errors = d.errors ?: calloc(1, sizeof(char *));
                *ret_warnings = d.warnings ?: calloc(1, sizeof(char *));
                if (!*ret_errors || !*ret_warnings) {
                        strv_free(*ret_errors);
                        strv_free(*ret_warnings);
                        return -ENOMEM;
                }
        } else {
                strv_free(d.errors);
                strv_free(d.warnings);
        }
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

int manager_unit_restart_async(Manager *m, const char *name,
                               void (*done)(Service *s, int error, const char *message,
                                            void *userdata),
                               void *userdata, char *err, size_t errlen) {
        Service *s = manager_resolve_service(m, name);
        int r;

        if (s && s->restart_done) {
                snprintf(err, errlen, "%s: a restart is already in progress", s->unit->name);
                return -EBUSY;
        }
        if (s) {
                s->restart_done = done;
                s->restart_done_userdata = userdata;
        }
        r = manager_unit_action(m, name, ACTION_RESTART, err, errlen);
        if (r < 0 && s) {
                s->restart_done = NULL;
                s->restart_done_userdata = NULL;
        }
        return r;
}

int manager_unit_reload(Manager *m, const char *name, char *err, size_t errlen) {
        return manager_unit_action(m, name, ACTION_RELOAD, err, errlen);
}

void manager_dispatch_notify(Manager *m, pid_t pid, const NotifyMessage *msg, int *fds,
                             size_t n_fds) {
        static const char *const roles[_NOTIFY_ROLE_MAX] = {
                [NOTIFY_ROLE_MAIN] = "the main process",
                [NOTIFY_ROLE_CONTROL] = "a control process",
                [NOTIFY_ROLE_OLD_MAIN] = "the process being replaced",
                [NOTIFY_ROLE_OTHER] = "another process of the service",
        };
        Service *s = NULL;
        NotifyRole role = NOTIFY_ROLE_OTHER;

        for (size_t i = 0; i < m->n_services && !s; i++)
                if (service_owns_pid(m->services[i], pid, &role))
                        s = m->services[i];
        if (!s)
                log_warning("notify: ignoring a message from pid %d, which belongs to no service",
                            (int) pid);
        else {
                NotifyAccess access = service_notify_access(s);
                bool ok = access == NOTIFY_ACCESS_ALL ||
                          (access == NOTIFY_ACCESS_EXEC && role != NOTIFY_ROLE_OTHER) ||
                          (access == NOTIFY_ACCESS_MAIN &&
                           IN_SET(role, NOTIFY_ROLE_MAIN, NOTIFY_ROLE_OLD_MAIN));
                if (ok) {
                        service_on_notify(s, role, pid, msg, fds, n_fds);
                        return;
                }
                log_warning("%s: ignoring a notify message from pid %d, %s: NotifyAccess=%s "
                            "does not allow it%s",
                            s->unit->name, (int) pid, roles[role],
                            notify_access_to_string(access),
                            access == NOTIFY_ACCESS_NONE ? " (set NotifyAccess=main in the unit)"
                                                         : "");
        }
        if (m->notify)
                m->notify->n_dropped++;
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
}

const SocketConfig *manager_socket_config_of_fd(Manager *m, int fd) {
        for (size_t i = 0; i < m->n_sockets; i++)
                if (m->sockets[i].fd == fd)
                        return &m->sockets[i].spec.unit->socket;
        return NULL;
}

static bool manager_all_inactive(Manager *m) {
        for (size_t i = 0; i < m->n_services; i++)
                if (service_is_active(m->services[i]) ||
                    !IN_SET(m->services[i]->state, SERVICE_DEAD, SERVICE_FAILED))
                        return false;
        return true;
}

static void manager_gc_later(Manager *m);

void manager_on_service_state(Manager *m, Service *s) {
        if (m->exiting && m->event && manager_all_inactive(m))
                (void) sd_event_exit(m->event, m->exit_code);
        else if (s && !service_is_active(s) && (m->n_retired > 0 || m->n_graveyard > 0 ||
                                                s->removed))
                manager_gc_later(m);
}

/* Adds the fds of one socket unit to a service, in listen order. */
static int manager_give_sockets(Manager *m, Service *svc, const Unit *socket_unit) {
        _cleanup_free_ char *fdname = unit_socket_fdname(socket_unit);

        if (!fdname)
                return log_oom();
        for (size_t k = 0; k < m->n_sockets; k++) {
                const ManagerSocket *ms = &m->sockets[k];
                bool dup = false;

                if (ms->spec.unit != socket_unit)
                        continue;
                for (size_t j = 0; j < svc->n_fds && !dup; j++)
                        dup = svc->fds[j] == ms->fd;
                if (dup)
                        continue;
                if (service_add_socket(svc, ms->fd, fdname, socket_unit->socket.non_blocking) < 0)
                        return log_oom();
        }
        return 0;
}

/* Gives a service its sockets from m->sockets, by unit u: those of the socket units that
 * activate it, in unit order, then those named by Sockets=. A service that a socket unit
 * names is socket-activated even when that socket failed: it waits, and is not started at
 * boot without its socket. */
static int manager_link_service(Manager *m, Service *svc, Unit *u) {
        int r;

        svc->socket_activated = false;
        for (size_t k = 0; k < m->n_units; k++) {
                Unit *su = m->units[k];
                _cleanup_free_ char *target = NULL;

                if (su->type != UNIT_SOCKET)
                        continue;
                target = unit_socket_service_name(su);
                if (!target)
                        return log_oom();
                if (!streq(target, u->name))
                        continue;
                svc->socket_activated = true;
                if (manager_unit_failed(m, su->name))
                        continue;
                r = manager_give_sockets(m, svc, su);
                if (r < 0)
                        return r;
        }
        STRV_FOREACH(name, u->service.sockets) {
                Unit *su = manager_find_unit(m, *name);
                if (!su || su->type != UNIT_SOCKET || manager_unit_failed(m, su->name)) {
                        log_warning("%s: Sockets=%s names no loaded socket unit, ignoring",
                                    u->name, *name);
                        continue;
                }
                r = manager_give_sockets(m, svc, su);
                if (r < 0)
                        return r;
        }
        if (u->service.non_blocking_set)
                svc->non_blocking = u->service.non_blocking;
        svc->start_at_boot = !svc->socket_activated || u->wanted_by;
        return 0;
}

static int manager_add_service(Manager *m, Unit *u, Service **ret) {
        Service **a, *svc;
        int r;

        a = realloc(m->services, (m->n_services + 1) * sizeof(Service *));
        if (!a)
                return log_oom();
        m->services = a;
        r = service_new(&svc, m, u);
        if (r < 0)
                return log_oom();
        m->services[m->n_services++] = svc;
        *ret = svc;
        return 0;
}

static void manager_warn_accept(Manager *m) {
        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->type == UNIT_SOCKET && m->units[i]->socket.accept &&
                    !manager_unit_failed(m, m->units[i]->name))
                        log_warning("%s: Accept=yes: per-connection instances are not "
                                    "implemented yet; the socket is held, but nothing serves it",
                                    m->units[i]->name);
}

/* Creates the runtime service of every loaded service unit and gives it its sockets. */
static int manager_setup_services(Manager *m) {
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                Service *svc = NULL;
                int r;

                if (u->type != UNIT_SERVICE || u->is_template || manager_unit_failed(m, u->name))
                        continue;
                r = manager_add_service(m, u, &svc);
                if (r < 0)
                        return r;
                r = manager_link_service(m, svc, u);
                if (r < 0)
                        return r;
        }
        manager_warn_accept(m);
        return 0;
}

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
                (void) service_stop(m->services[i]);
        manager_on_service_state(m, NULL);
        return 0;
}

static int manager_on_reload_signal(sd_event_source *s, const struct signalfd_siginfo *si,
                                    void *userdata) {
        Manager *m = userdata;
        _cleanup_strv_free_ char **errors = NULL, **warnings = NULL;
        int r;

        log_info("Received SIGHUP: daemon-reload.");
        r = manager_daemon_reload(m, &errors, &warnings);
        if (r < 0)
                log_error_errno(r, "daemon-reload failed: %m; the old configuration stays");
        else if (r > 0)
                log_warning("daemon-reload: %zu error%s; those units keep their old "
                            "configuration", strv_length(errors),
                            strv_length(errors) == 1 ? "" : "s");
        return 0;
}

/* Reaps every child that exited: our services' processes, and as a subreaper every orphan
 * below them. Bounded per wakeup; SIGCHLD comes again for the rest. */
static int manager_on_sigchld(sd_event_source *es, const struct signalfd_siginfo *ssi,
                              void *userdata) {
        Manager *m = userdata;

        for (unsigned n = 0; n < 4096; n++) {
                siginfo_t si = {};
                bool owned = false;

                if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0) {
                        if (errno != ECHILD)
                                log_warning_errno(errno, "waitid() failed: %m, ignoring");
                        break;
                }
                if (si.si_pid == 0)
                        break;
                for (size_t i = 0; i < m->n_services && !owned; i++)
                        owned = service_on_child(m->services[i], &si);
                if (!owned)
                        log_debug("Reaped orphan process %d.", (int) si.si_pid);
        }
        return 0;
}

int manager_run(Manager *m) {
        int r;

        r = sd_event_default(&m->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
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

        {
                _cleanup_free_ char *path = NULL;
                if (asprintf(&path, "%s/notify", m->runtime_dir) < 0)
                        return log_oom();
                r = notify_new(&m->notify, m, path);
                if (r < 0)
                        log_warning("Running without a NOTIFY_SOCKET: Type=notify services "
                                    "cannot report readiness.");
        }

        r = manager_setup_services(m);
        if (r < 0)
                return r;
        _cleanup_free_ char *control_path = NULL;
        if (asprintf(&control_path, "%s/" BERTH_CONTROL_SOCKET, m->runtime_dir) < 0)
                return log_oom();
        r = control_new(&m->control, m, control_path);
        if (r < 0)
                return r;

        log_info("berthd is ready: %zu socket%s bound for %zu unit%s.", m->n_sockets,
                 m->n_sockets == 1 ? "" : "s", m->n_units, m->n_units == 1 ? "" : "s");
        r = sd_notifyf(0, "READY=1\nSTATUS=%zu sockets bound", m->n_sockets);
        if (r < 0)
                log_warning_errno(r, "Failed to send READY=1 to $NOTIFY_SOCKET: %m, ignoring");

        for (size_t i = 0; i < m->n_services; i++)
                (void) service_begin(m->services[i]);

        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return m->exit_code;
}
