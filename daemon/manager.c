/* manager: owns the event loop, the units, the plan and the bound sockets. Loading is
 * all-or-nothing per unit: a bad unit is reported and left out, and the others go on. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "daemon/listener.h"
#include "daemon/manager.h"
#include "daemon/unit-dir.h"

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
        /* Services borrow the socket fds: they go first. */
        for (size_t i = 0; i < m->n_services; i++)
                service_free(m->services[i]);
        free(m->services);
        manager_close_sockets(m);
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

static Unit *manager_find_unit(Manager *m, const char *name) {
        Unit **u = bsearch(name, m->units, m->n_units, sizeof(Unit *), unit_cmp);
        return u ? *u : NULL;
}

/* Drops a unit that failed after it was loaded: it stays in m->units (for status), but is
 * listed as failed and gets no sockets. */
static int manager_fail_unit(Manager *m, const char *name) {
        if (manager_unit_failed(m, name))
                return 0;
        bind_plan_remove_unit(&m->plan, name);
        return strv_push(&m->failed_units, name);
}

/* A socket's service must exist, as systemd requires: NAME.service, Service=, or NAME@.service
 * for Accept=yes. */
static int manager_link_sockets(Manager *m) {
        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                _cleanup_free_ char *svc = NULL;

                if (u->type != UNIT_SOCKET)
                        continue;
                svc = unit_socket_service_name(u);
                if (!svc)
                        return log_oom();
                if (manager_find_unit(m, svc))
                        continue;
                char msg[2 * UNIT_NAME_MAX + 256];
                snprintf(msg, sizeof msg,
                         "%s: its service %s does not exist (expected %s in a unit directory%s); "
                         "%s is not loaded",
                         u->name, svc, svc,
                         u->socket.accept ? ", a template for Accept=yes" : ", or set Service=",
                         u->name);
                manager_on_diag(LOG_ERR, u->path, 0, msg, m);
                if (manager_fail_unit(m, u->name) < 0)
                        return log_oom();
        }
        return 0;
}

int manager_load(Manager *m) {
        size_t n_failed = 0;
        _cleanup_strv_free_ char **conflicts = NULL;
        int r;

        listener_probe_host(&m->host);

        if (!m->units_given) {
                r = unit_dir_load(m->unit_dirs, manager_on_diag, m, &m->units, &m->n_units,
                                  &n_failed);
                if (r < 0)
                        return log_error_errno(r, "Failed to load units: %m");
        }

        r = manager_link_sockets(m);
        if (r < 0)
                return r;

        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];

                if (u->type != UNIT_SOCKET || manager_unit_failed(m, u->name))
                        continue;
                r = bind_plan_add_unit(&m->plan, u, &m->host, manager_on_diag, m);
                if (r < 0)
                        return log_error_errno(r, "Failed to plan sockets: %m");
                if (r == UNIT_FILE_E_INVALID && strv_push(&m->failed_units, u->name) < 0)
                        return log_oom();
        }

        r = bind_plan_check_overlap(&m->plan, manager_on_diag, m, &conflicts);
        if (r < 0)
                return log_error_errno(r, "Failed to check sockets for overlap: %m");
        STRV_FOREACH(c, conflicts)
                if (manager_fail_unit(m, *c) < 0)
                        return log_oom();

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

int manager_daemon_reload(Manager *m, char ***ret_errors, char ***ret_warnings) {
        return -EOPNOTSUPP; /* implemented in the next commit */
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

int manager_unit_reload(Manager *m, const char *name, char *err, size_t errlen) {
        return manager_unit_action(m, name, ACTION_RELOAD, err, errlen);
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

void manager_on_service_state(Manager *m, Service *s) {
        if (m->exiting && m->event && manager_all_inactive(m))
                (void) sd_event_exit(m->event, m->exit_code);
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

/* Creates the runtime service of every loaded service unit and gives it its sockets: those
 * of the socket units that activate it, in unit order, then those named by Sockets=. */
static int manager_setup_services(Manager *m) {
        m->services = calloc(m->n_units ?: 1, sizeof(Service *));
        if (!m->services)
                return log_oom();

        for (size_t i = 0; i < m->n_units; i++) {
                Unit *u = m->units[i];
                Service *svc;
                int r;

                if (u->type != UNIT_SERVICE || u->is_template || manager_unit_failed(m, u->name))
                        continue;
                r = service_new(&svc, m, u);
                if (r < 0)
                        return log_oom();
                m->services[m->n_services++] = svc;

                for (size_t k = 0; k < m->n_units; k++) {
                        Unit *su = m->units[k];
                        _cleanup_free_ char *target = NULL;

                        if (su->type != UNIT_SOCKET || manager_unit_failed(m, su->name))
                                continue;
                        target = unit_socket_service_name(su);
                        if (!target)
                                return log_oom();
                        if (!streq(target, u->name))
                                continue;
                        svc->socket_activated = true;
                        r = manager_give_sockets(m, svc, su);
                        if (r < 0)
                                return r;
                }
                STRV_FOREACH(name, u->service.sockets) {
                        Unit *su = manager_find_unit(m, *name);
                        if (!su || su->type != UNIT_SOCKET) {
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
        }

        for (size_t i = 0; i < m->n_units; i++)
                if (m->units[i]->type == UNIT_SOCKET && m->units[i]->socket.accept &&
                    !manager_unit_failed(m, m->units[i]->name))
                        log_warning("%s: Accept=yes: per-connection instances are not "
                                    "implemented yet; the socket is held, but nothing serves it",
                                    m->units[i]->name);
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
        log_warning("Received SIGHUP: daemon-reload is not implemented yet, ignoring.");
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

        r = manager_setup_services(m);
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
