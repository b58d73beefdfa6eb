/* control-methods: the org.berth.Manager1 methods (common/control-interface.h) and the bits
 * of the D-Bus driver interface that busctl expects. Each method reads its arguments (with
 * bounds), checks the caller's privilege where it changes state or hands out fds, asks the
 * manager, and answers before it returns, except RestartUnit, which is answered when the
 * restart is over. The transport is control-bus.c. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <systemd/sd-bus.h>

#include "common/control-interface.h"
#include "common/log.h"
#include "common/parse-util.h"
#include "daemon/control-bus.h"
#include "daemon/control.h"
#include "common/socket-util.h"
#include "common/user-util.h"
#include "daemon/listener.h"
#include "daemon/sock-diag.h"
#include "daemon/manager.h"
#include "daemon/manager-state.h"

/* ---- helpers for the methods ---- */

/* Rows from which a listing (list-units, list-sockets) is large: about 100 KiB of reply. */
#define LISTING_TRIM_ROWS 1000

/* A copy of s with every byte that is not part of a valid UTF-8 character replaced by U+FFFD,
 * or NULL on OOM. */
static char *utf8_make_valid(const char *s) {
        char *copy = malloc(strlen(s) * 3 + 1), *q = copy;
        const unsigned char *p = (const unsigned char *) s;

        if (!copy)
                return NULL;
        while (*p) {
                size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
                                                                   (*p & 0xf8) == 0xf0 ? 4 : 0;
                char one[5] = {};
                size_t k = 0;

                /* Copy one character when it is whole and valid on its own. */
                while (k < n && p[k] && (k == 0 || (p[k] & 0xc0) == 0x80)) {
                        one[k] = (char) p[k];
                        k++;
                }
                if (n > 0 && k == n && utf8_is_valid(one)) {
                        memcpy(q, one, n);
                        q += n;
                        p += n;
                } else {
                        memcpy(q, "\xef\xbf\xbd", 3);
                        q += 3;
                        p++;
                }
        }
        *q = '\0';
        return copy;
}

/* Appends s as a D-Bus string, which must be UTF-8: service output, unix paths and files may
 * hold anything. NULL appends "". */
static int append_string(sd_bus_message *reply, const char *s) {
        _cleanup_free_ char *copy = NULL;

        s = strempty(s);
        if (utf8_is_valid(s))
                return sd_bus_message_append_basic(reply, 's', s);
        copy = utf8_make_valid(s);
        if (!copy)
                return -ENOMEM;
        return sd_bus_message_append_basic(reply, 's', copy);
}

static int append_strv(sd_bus_message *reply, char *const *l) {
        int r = sd_bus_message_open_container(reply, 'a', "s");

        for (size_t i = 0; r >= 0 && l && l[i]; i++)
                r = append_string(reply, l[i]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* One a{sv} entry. */
static int append_entry_string(sd_bus_message *reply, const char *key, const char *value) {
        int r = sd_bus_message_open_container(reply, 'e', "sv");

        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "s");
        if (r >= 0)
                r = append_string(reply, value);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_entry_strv(sd_bus_message *reply, const char *key, char *const *value) {
        int r = sd_bus_message_open_container(reply, 'e', "sv");

        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = append_strv(reply, value);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* An IPAddressAllow=/IPAddressDeny= list as "as" of canonical prefixes ("127.0.0.0/8"). */
static int append_entry_prefixes(sd_bus_message *reply, const char *key, const IPPrefixList *l) {
        _cleanup_free_ char *text = NULL;
        _cleanup_free_ char **v = NULL;
        size_t n = l ? l->n : 0;

        text = malloc(n * IP_PREFIX_FORMAT_MAX + 1);
        v = calloc(n + 1, sizeof(char *));
        if (!text || !v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = (char *) ip_prefix_format(&l->items[i], text + i * IP_PREFIX_FORMAT_MAX,
                                                 IP_PREFIX_FORMAT_MAX);
        return append_entry_strv(reply, key, v);
}

static int append_entry_u32(sd_bus_message *reply, const char *key, uint32_t value) {
        return sd_bus_message_append(reply, "{sv}", key, "u", value);
}

static int append_entry_u64(sd_bus_message *reply, const char *key, uint64_t value) {
        return sd_bus_message_append(reply, "{sv}", key, "t", value);
}

/* Checks a unit name argument: at most UNIT_NAME_MAX bytes. */
static int check_name(const char *name, sd_bus_error *error) {
        size_t len = strlen(name);

        if (len > UNIT_NAME_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "unit name too long (%zu "
                                         "bytes, at most %d)", len, UNIT_NAME_MAX);
        return 0;
}

static int no_such_unit(const char *name, sd_bus_error *error) {
        return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_UNIT, "no unit named '%s'", name);
}

/* Methods that change state or hand out fds: root or berthd's own uid. Logs a refusal. */
static int check_privileged(ControlClient *cl, sd_bus_message *msg, const char *verb,
                            const char *name, sd_bus_error *error) {
        char quoted[MESSAGE_QUOTE_SIZE(UNIT_NAME_MAX)];
        uid_t self = geteuid();

        if (control_uid_is_privileged(cl->ucred.uid))
                return 0;
        log_warning("Refused %s(%s%s%s) from uid %u (pid %d): permission denied, it needs root%s.",
                    sd_bus_message_get_member(msg), name ? "'" : "",
                    name ? message_quote(name, UNIT_NAME_MAX, quoted, sizeof quoted) : "",
                    name ? "'" : "", (unsigned) cl->ucred.uid, (int) cl->ucred.pid,
                    self == 0 ? "" : " or berthd's uid");
        if (self == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "permission denied: %s needs root", verb);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "permission denied: %s needs root or uid %u", verb,
                                 (unsigned) self);
}

/* The unit-name argument of a method: read, checked, and (with verb) the caller allowed to do
 * verb. Returns 0, or a negative errno / a filled error. */
static int read_unit_name(sd_bus_message *msg, ControlClient *cl, const char *verb,
                          const char **ret, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = check_name(name, error);
        if (r < 0)
                return r;
        if (verb) {
                r = check_privileged(cl, msg, verb, name, error);
                if (r < 0)
                        return r;
        }
        *ret = name;
        return 0;
}

/* What ListUnits and GetUnit say about one unit. */
typedef struct UnitView {
        const char *name;
        const Unit *unit;       /* NULL: the unit failed to load and is known by name only */
        const Service *service; /* a service unit's runtime, or NULL */
        bool failed;
        const char *type, *load_state, *state, *result;
        char last_exit[64];
} UnitView;

/* A socket unit's state from its listeners: retrying (one waits to bind; *ret_why says why),
 * stalled (a connection waits past AcceptStallSec=), listening, or failed (none bound). */
static const char *socket_unit_state(Manager *m, const Unit *u, const char **ret_why) {
        bool bound = false, stalled = false;
        const char *why = NULL;

        for (size_t i = 0; i < m->n_listeners; i++) {
                const Listener *l = m->listeners[i];
                if (l->spec.unit != u)
                        continue;
                why = why ?: listener_bind_error(l);
                stalled = stalled || l->stalled;
                bound = bound || l->fd >= 0;
        }
        if (ret_why)
                *ret_why = strempty(why);
        return why ? "retrying" : stalled ? "stalled" : bound ? "listening" : "failed";
}

static void format_last_exit(const Service *s, char *buf, size_t len) {
        const char *sig;

        buf[0] = '\0';
        if (!s)
                return;
        switch (s->run->last_exit_code) {
        case CLD_EXITED:
                snprintf(buf, len, "exited %d", s->run->last_exit_status);
                break;
        case CLD_KILLED:
        case CLD_DUMPED:
                sig = signal_to_string(s->run->last_exit_status);
                if (sig)
                        snprintf(buf, len, "%s %s",
                                 s->run->last_exit_code == CLD_KILLED ? "killed" : "dumped", sig);
                else
                        snprintf(buf, len, "%s signal %d",
                                 s->run->last_exit_code == CLD_KILLED ? "killed" : "dumped",
                                 s->run->last_exit_status);
                break;
        default:
                break; /* never exited */
        }
}

/* The Accept=yes socket whose instances the template service t makes, or NULL. */
static const AcceptSocket *template_accept(Manager *m, const Unit *t) {
        for (size_t i = 0; t && t->is_template && t->type == UNIT_SERVICE && i < m->n_accepts;
             i++) {
                const Unit *su = manager_get_unit(m, m->accepts[i]->name);
                _cleanup_free_ char *svc = su ? unit_socket_service_name(su) : NULL;
                if (svc && streq(svc, t->name))
                        return m->accepts[i];
        }
        return NULL;
}

/* Fills *ret for the unit called name. Returns false when there is no such unit. */
static bool unit_view(Manager *m, const char *name, UnitView *ret) {
        UnitView v = { .name = name };
        const AcceptSocket *a;

        v.unit = manager_get_unit(m, name);
        v.failed = manager_unit_failed(m, name);
        if (!v.unit && !v.failed) {
                /* A live Accept=yes instance: not among the units, with a unit of its own. */
                Service *s = manager_find_service(m, name);
                if (!s || !service_own_unit(s))
                        return false;
                v.unit = service_own_unit(s);
        }

        if (v.unit)
                v.type = v.unit->type == UNIT_SOCKET ? "socket" : "service";
        else
                v.type = endswith(name, ".socket") ? "socket" : "service";
        v.load_state = v.failed ? "failed" : v.unit->is_template ? "template" : "loaded";
        if (streq(v.type, "service") && !v.failed)
                v.service = manager_find_service(m, name);

        if (v.service) {
                v.state = service_state_to_string(v.service->state);
                v.result = service_result_to_string(v.service->result);
        } else if (v.failed) {
                v.state = "failed";
                v.result = "resources";
        } else if (v.unit->is_template) {
                /* Nothing of its own: its instances are units. Those of an Accept=yes socket
                 * are counted here, not listed one by one. */
                a = template_accept(m, v.unit);
                v.state = a && a->n_connections > 0 ? "running" : "dead";
                v.result = "success";
                if (a)
                        snprintf(v.last_exit, sizeof v.last_exit, "%u instance%s",
                                 a->n_connections, a->n_connections == 1 ? "" : "s");
        } else if (v.unit->type == UNIT_SOCKET) {
                v.state = socket_unit_state(m, v.unit, NULL);
                v.result = "success";
        } else {
                v.state = "dead";
                v.result = "success";
        }
        v.state = strna(v.state);
        v.result = strna(v.result);
        if (v.service)
                format_last_exit(v.service, v.last_exit, sizeof v.last_exit);
        *ret = v;
        return true;
}

/* The canonical addresses a unit listens on: a socket unit's own, or a service's sockets. */
static int append_listen(sd_bus_message *reply, Manager *m, const UnitView *v) {
        char buf[BIND_SPEC_NAME_MAX];
        int r = sd_bus_message_open_container(reply, 'a', "s");

        if (v->unit && v->unit->type == UNIT_SOCKET)
                for (size_t i = 0; r >= 0 && i < m->n_listeners; i++) {
                        const Listener *l = m->listeners[i];

                        if (l->spec.unit == v->unit && l->fd >= 0)
                                r = append_string(reply, listener_name(l, buf, sizeof buf));
                }
        else if (v->service)
                for (size_t i = 0; r >= 0 && i < v->service->n_listeners; i++)
                        r = append_string(reply, listener_name(v->service->listeners[i], buf,
                                                                  sizeof buf));
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* ---- methods ---- */

static int append_unit_entry(sd_bus_message *reply, const UnitView *v) {
        const Service *s = v->service;
        int r = sd_bus_message_open_container(reply, 'r', LIST_UNITS_ENTRY);

        if (r >= 0)
                r = append_string(reply, v->name);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sssutu", v->type, v->load_state, v->state,
                                          (uint32_t) (s ? s->run->main_pid : 0),
                                          (uint64_t) (s ? s->run->since_realtime : 0),
                                          (uint32_t) (s ? s->run->n_restarts : 0));
        if (r >= 0)
                r = append_string(reply, v->last_exit);
        if (r >= 0)
                r = append_string(reply, v->unit ? v->unit->description : "");
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* Sends a listing built with result r (a negative errno fails the call); one of n rows or more
 * is large enough that its pages go back to the system once it is written. */
static int reply_send_listing(ControlClient *cl, sd_bus_message *reply, int r, size_t n) {
        if (r < 0)
                return r;
        r = sd_bus_message_send(reply);
        if (r >= 0 && n >= LISTING_TRIM_ROWS)
                control_trim_after_reply(cl->control);
        return r;
}

static int control_method_list_units(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        UnitView v;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(" LIST_UNITS_ENTRY ")");
        /* The loaded units, then those that failed to load and are known by name only. */
        for (size_t i = 0; r >= 0 && i < m->n_units; i++)
                if (unit_view(m, m->units[i]->name, &v))
                        r = append_unit_entry(reply, &v);
        for (size_t i = 0; r >= 0 && i < m->failures.n; i++) {
                const char *name = m->failures.items[i].name;
                if (!manager_get_unit(m, name) && unit_view(m, name, &v))
                        r = append_unit_entry(reply, &v);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return reply_send_listing(cl, reply, r, m->n_units);
}

static int control_method_get_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *socket_service = NULL;
        const char *name;
        const Service *s;
        const char *socket_why = "";
        char accept_text[128];
        UnitView v;
        int r;

        r = read_unit_name(msg, NULL, NULL, &name, error);
        if (r < 0)
                return r;
        if (!unit_view(m, name, &v))
                return no_such_unit(name, error);
        if (v.unit && v.unit->type == UNIT_SOCKET) {
                socket_service = unit_socket_service_name(v.unit);
                if (!socket_service)
                        return -ENOMEM;
                (void) socket_unit_state(m, v.unit, &socket_why);
                /* Accept=yes: its connections, as systemctl status shows them. */
                for (size_t i = 0; !socket_why[0] && i < m->n_accepts; i++)
                        if (streq(m->accepts[i]->name, v.unit->name)) {
                                const AcceptSocket *a = m->accepts[i];
                                snprintf(accept_text, sizeof accept_text,
                                         "Accepted: %u; Connected: %u; Refused: %u",
                                         a->n_accepted, a->n_connections, a->n_refused);
                                socket_why = accept_text;
                        }
        }
        s = v.service;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = append_entry_string(reply, "Name", v.name);
        if (r >= 0)
                r = append_entry_string(reply, "Type", v.type);
        if (r >= 0)
                r = append_entry_string(reply, "LoadState", v.load_state);
        if (r >= 0)
                r = append_entry_string(reply, "State", v.state);
        if (r >= 0)
                r = append_entry_string(reply, "Result", v.result);
        if (r >= 0)
                r = append_entry_u32(reply, "MainPID", (uint32_t) (s ? s->run->main_pid : 0));
        if (r >= 0)
                r = append_entry_u32(reply, "ControlPID", (uint32_t) (s ? s->run->control_pid : 0));
        if (r >= 0)
                r = append_entry_u64(reply, "Since", s ? s->run->since_realtime : 0);
        if (r >= 0)
                r = append_entry_u32(reply, "Restarts", s ? s->run->n_restarts : 0);
        if (r >= 0)
                r = append_entry_string(reply, "LastExit", v.last_exit);
        if (r >= 0)
                r = append_entry_string(reply, "Description", v.unit ? v.unit->description : "");
        if (r >= 0)
                r = append_entry_string(reply, "FragmentPath", v.unit ? unit_path(v.unit) : "");
        if (r >= 0)
                r = append_entry_strv(reply, "DropInPaths",
                                      v.unit ? unit_extra(v.unit)->dropins : NULL);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', "Listen");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = append_listen(reply, m, &v);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = append_entry_string(reply, "Service", socket_service);
        if (r >= 0)
                r = append_entry_string(reply, "StatusText", s ? s->run->status_text : socket_why);
        if (r >= 0)
                r = append_entry_u32(reply, "OldMainPID",
                                     (uint32_t) (s ? s->run->old_main_pid : 0));
        if (r >= 0) {
                /* The fd store, by name, in the order the next start passes them. */
                _cleanup_free_ char **names = NULL;
                size_t n = s ? s->run->n_fd_store : 0;
                names = calloc(n + 1, sizeof(char *));
                if (!names)
                        r = -ENOMEM;
                for (size_t i = 0; i < n && r >= 0; i++)
                        names[i] = s->run->fd_store[i]->name;
                if (r >= 0)
                        r = append_entry_strv(reply, "StoredFds", names);
        }
        if (r >= 0) {
                const SocketOptions *sc = v.unit && v.unit->type == UNIT_SOCKET
                                                  ? socket_config_options(&v.unit->socket)
                                                  : NULL;
                r = append_entry_prefixes(reply, "IPAddressAllow",
                                          sc ? &sc->ip_address_allow : NULL);
                if (r >= 0)
                        r = append_entry_prefixes(reply, "IPAddressDeny",
                                                  sc ? &sc->ip_address_deny : NULL);
        }
        if (r >= 0)
                r = append_entry_string(reply, "LoadError",
                                        strempty(manager_unit_load_error(m, v.name)));
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

static const char *stack_name(int family, int v6only) {
        switch (family) {
        case AF_INET6:
                return v6only > 0 ? "ipv6-only" : "dual-stack";
        case AF_INET:
                return "ipv4";
        case AF_UNIX:
                return "unix";
        case AF_UNSPEC:  /* a FIFO, special file or message queue */
        case AF_NETLINK:
                return "none";
        default:
                return "unknown";
        }
}

static int control_method_list_sockets(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        /* Every TCP listener's queue in one go (else one call per socket, below). */
        _cleanup_(tcp_queues_freep) TcpQueues *queues = NULL;
        (void) tcp_queues_dump(&queues);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(" LIST_SOCKETS_ENTRY ")");
        for (size_t i = 0; r >= 0 && i < m->n_listeners; i++) {
                const Listener *l = m->listeners[i];
                _cleanup_free_ char *svc = NULL;
                const Service *s;
                ListenerInfo info = {
                        .family = l->spec.family,
                        .socktype = l->spec.socktype,
                        .v6only = l->spec.v6only,
                        .backlog = -1,
                        .reach = REACH_LOCAL,
                };
                unsigned queued = 0, backlog = 0;
                bool addressed = bind_spec_has_address(&l->spec), read_back = false;
                char addr[BIND_SPEC_NAME_MAX];

                if (l->fd < 0 && !listener_bind_error(l))
                        continue;
                (void) bind_spec_addr(&l->spec, &info.addr);
                /* The address, stack and reach were read back at the bind and cannot change;
                 * the queue and the backlog (a service may listen() again) are asked now, in
                 * one call for TCP. A socket that waits to bind is listed with reach
                 * "retrying". What has no address (a FIFO, a netlink socket, ...) has no queue
                 * to ask about. */
                if (l->fd >= 0 && addressed)
                        read_back = listener_info(l, &info) >= 0;
                bool dumped = queues && info.socktype == SOCK_STREAM && read_back &&
                              socket_family_is_inet(info.family) &&
                              tcp_queues_find(queues, &info.addr, &queued, &backlog) >= 0;
                if (l->fd >= 0 && addressed && info.socktype != SOCK_DGRAM && !dumped &&
                    sock_diag_queue_of(l->fd, info.family, info.socktype, &queued,
                                       &backlog) < 0) {
                        queued = 0;
                        backlog = info.backlog > 0 ? (unsigned) info.backlog : 0;
                }
                svc = unit_socket_service_name(l->spec.unit);
                if (!svc)
                        return -ENOMEM;
                s = manager_find_service(m, svc);

                r = sd_bus_message_open_container(reply, 'r', LIST_SOCKETS_ENTRY);
                if (r >= 0)
                        r = append_string(reply, l->spec.unit->name);
                if (r >= 0)
                        r = append_string(reply, addressed ?
                                                  sockaddr_format(&info.addr, addr, sizeof addr) :
                                                  bind_spec_name(&l->spec, addr, sizeof addr));
                const char *proto = socket_protocol_to_string(bind_spec_protocol(&l->spec));
                const char *reach = l->fd < 0 ? "retrying" :
                                    !addressed ? reach_to_string(REACH_LOCAL) :
                                    read_back  ? reach_to_string(info.reach) :
                                                 NULL;
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sssuu", proto ?: "unknown",
                                                  stack_name(info.family, info.v6only),
                                                  reach ?: "unknown", (uint32_t) backlog,
                                                  (uint32_t) queued);
                if (r >= 0)
                        r = append_string(reply, svc);
                if (r >= 0)
                        r = append_string(reply, l->stalled ? "not-accepting" :
                                          s ? service_state_to_string(s->state) :
                                          manager_unit_failed(m, svc) ? "failed" : "dead");
                if (r >= 0)
                        r = append_string(reply, l->filter_insns > 0 ? "ip" : "");
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return reply_send_listing(cl, reply, r, m->n_listeners);
}

/* Sets error from a manager action's result: -ENOENT is NoSuchUnit, anything else Failed,
 * with the manager's message. */
static int action_error(int r, const char *err, sd_bus_error *error) {
        if (r == -ENOENT)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_UNIT, "%s",
                                         err[0] ? err : "no such unit");
        return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "%s", err[0] ? err : strerror(-r));
}

typedef int (*UnitActionFunc)(Manager *m, const char *name, char *err, size_t errlen);

/* StartUnit, StopUnit: answered once the action is under way. */
static int control_unit_action(sd_bus_message *msg, ControlClient *cl, const char *verb,
                               UnitActionFunc action, sd_bus_error *error) {
        char err[CONTROL_ERROR_MAX] = "";
        const char *name;
        int r;

        r = read_unit_name(msg, cl, verb, &name, error);
        if (r < 0)
                return r;
        r = action(cl->control->manager, name, err, sizeof err);
        if (r < 0)
                return action_error(r, err, error);
        return sd_bus_reply_method_return(msg, NULL);
}

static int control_method_start_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return control_unit_action(msg, userdata, "start", manager_unit_start, error);
}

static int control_method_stop_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return control_unit_action(msg, userdata, "stop", manager_unit_stop, error);
}

/* A RestartUnit or ReloadUnit is over: answers the call. */
static void control_on_done(Service *s, int error, const char *message, void *userdata) {
        ControlPending *p = userdata;
        int r = 0;

        if (p->call) {
                if (error >= 0)
                        r = sd_bus_reply_method_return(p->call, NULL);
                else
                        r = sd_bus_reply_method_errorf(
                                p->call, BERTH_ERROR_FAILED, "%s",
                                message && utf8_is_valid(message) ? message : strerror(-error));
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a %s call: %m, ignoring",
                                        sd_bus_message_get_member(p->call));
        }
        control_pending_free(p);
}

typedef int (*UnitAsyncFunc)(Manager *m, const char *name, ServiceRestartDone done,
                             void *userdata, char *err, size_t errlen);

/* RestartUnit, ReloadUnit: answered once the action is over, so that `berthctl restart`
 * reports how it went (the new process ready, or failed: with Handover=overlap the old one
 * then serves on), and `berthctl reload` returns once the service says it reloaded. */
static int control_unit_action_async(sd_bus_message *msg, ControlClient *cl, const char *verb,
                                     UnitAsyncFunc action, sd_bus_error *error) {
        char err[CONTROL_ERROR_MAX] = "";
        ControlPending *p;
        const char *name;
        int r;

        r = read_unit_name(msg, cl, verb, &name, error);
        if (r < 0)
                return r;
        p = control_pending_new(cl, msg);
        if (!p)
                return -ENOMEM;
        r = action(cl->control->manager, name, control_on_done, p, err, sizeof err);
        if (r < 0) {
                /* done() is not called on an error: p is still ours. */
                control_pending_free(p);
                return action_error(r, err, error);
        }
        /* p belongs to the service now, and may be gone already: done() may have run. */
        return 1;
}

static int control_method_restart_unit(sd_bus_message *msg, void *userdata,
                                       sd_bus_error *error) {
        return control_unit_action_async(msg, userdata, "restart", manager_unit_restart_async,
                                         error);
}

static int control_method_reload_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return control_unit_action_async(msg, userdata, "reload", manager_unit_reload_async,
                                         error);
}

/* Joins lines with "\n" into one error message of at most CONTROL_REPLY_MAX bytes. */
static char *join_lines(char *const *lines) {
        size_t n = strv_length(lines), len = 0, i;
        char *s = malloc(CONTROL_REPLY_MAX + 64), *p = s;

        if (!s)
                return NULL;
        for (i = 0; i < n; i++) {
                size_t l = strlen(lines[i]);

                if (len + l + 1 > CONTROL_REPLY_MAX)
                        break;
                if (i > 0)
                        p[len++] = '\n';
                memcpy(p + len, lines[i], l);
                len += l;
        }
        if (i < n)
                len += (size_t) snprintf(p + len, 64, "%s... and %zu more", i > 0 ? "\n" : "",
                                         n - i);
        p[len] = '\0';
        return s;
}

/* The answer to a Reload call: the warnings, or the errors as one RELOAD_FAILED error. */
static int control_reload_reply(sd_bus_message *call, int r, char **errors, char **warnings) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        size_t size = 0;

        if (r < 0)
                return sd_bus_reply_method_errorf(call, BERTH_ERROR_FAILED,
                                                  "daemon-reload failed: %s", strerror(-r));
        if (r == UNIT_FILE_E_INVALID) {
                _cleanup_free_ char *joined = join_lines(errors);
                _cleanup_free_ char *text = joined ? utf8_make_valid(joined) : NULL;

                if (!text)
                        return -ENOMEM;
                return sd_bus_reply_method_errorf(call, BERTH_ERROR_RELOAD_FAILED, "%s", text);
        }

        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        STRV_FOREACH(w, warnings) {
                if (r < 0)
                        break;
                size += strlen(*w) + 8;
                if (size > CONTROL_REPLY_MAX) {
                        r = append_string(reply, "(more warnings in berthd's log)");
                        break;
                }
                r = append_string(reply, *w);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

static void control_on_reload_done(Manager *m, int r, char **errors, char **warnings,
                                   void *userdata) {
        ControlPending *p = userdata;

        if (p->call) {
                r = control_reload_reply(p->call, r, errors, warnings);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a Reload call: %m, ignoring");
        }
        control_pending_free(p);
}

/* Reload: answered once the reload is over; it runs in steps, so that berthd serves meanwhile. */
static int control_method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        ControlPending *p;
        int r;

        r = check_privileged(cl, msg, "daemon-reload", NULL, error);
        if (r < 0)
                return r;
        log_info("daemon-reload requested by uid %u (pid %d).", (unsigned) cl->ucred.uid,
                 (int) cl->ucred.pid);
        p = control_pending_new(cl, msg);
        if (!p)
                return -ENOMEM;
        r = manager_daemon_reload_async(cl->control->manager, control_on_reload_done, p);
        if (r < 0) {
                control_pending_free(p); /* done() is not called on an error */
                return r;
        }
        return 1;
}

/* Reexecute: tries the binary, answers, then writes the state and executes (manager-state.c).
 * The answer is the generation the new berthd will have: the caller waits for it (Ping). */
static int control_method_reexecute(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        const char *binary;
        char err[512];
        int r;

        r = sd_bus_message_read(msg, "s", &binary);
        if (r < 0)
                return r;
        r = check_privileged(cl, msg, "daemon-reexec", NULL, error);
        if (r < 0)
                return r;
        log_info("daemon-reexec requested by uid %u (pid %d)%s%s.", (unsigned) cl->ucred.uid,
                 (int) cl->ucred.pid, *binary ? ": " : "", binary);
        r = manager_reexec_async(m, binary, err, sizeof err);
        if (r < 0) {
                log_error("daemon-reexec: %s; berthd goes on as it was.", err);
                return sd_bus_reply_method_errorf(msg, BERTH_ERROR_FAILED, "%s", err);
        }
        return sd_bus_reply_method_return(msg, "u", m->generation + 1);
}

/* Ping: the generation of the berthd that answers (daemon-reexecs behind it). */
static int control_method_ping(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;

        return sd_bus_reply_method_return(msg, "u", cl->control->manager->generation);
}

/* Whether st grants the caller the bits asked for, by the owner, primary group or other class
 * (as the kernel picks the class; supplementary groups and ACLs are not known here, so they
 * never grant). */
static bool mode_grants(const struct stat *st, const struct ucred *uc, mode_t user_bit,
                        mode_t group_bit, mode_t other_bit) {
        if (st->st_uid == uc->uid)
                return st->st_mode & user_bit;
        if (st->st_gid == uc->gid)
                return st->st_mode & group_bit;
        return st->st_mode & other_bit;
}

/* Whether the caller could open path for reading itself: search permission on every
 * directory above it, read permission on the file (whose stat is given). */
static bool caller_may_read(const char *path, const struct stat *file_st,
                            const struct ucred *uc) {
        _cleanup_free_ char *dir = strdup(path);

        if (!dir)
                return false;
        if (!mode_grants(file_st, uc, S_IRUSR, S_IRGRP, S_IROTH))
                return false;
        for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
                struct stat st;

                *slash = '\0';
                if (stat(dir[0] ? dir : "/", &st) < 0 ||
                    !mode_grants(&st, uc, S_IXUSR, S_IXGRP, S_IXOTH))
                        return false;
        }
        return true;
}

/* Reads a unit file for a caller. Unit files may hold secrets in Environment=, so an
 * unprivileged caller gets only what it could read itself. Returns 0 with *ret (at most
 * budget bytes), or an error set in error. */
static int read_unit_file(ControlClient *cl, const char *path, size_t budget, char **ret,
                          sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        const struct ucred *uc = &cl->ucred;
        size_t len = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "cannot read '%s': %s", path,
                                         strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "'%s' is not a regular file",
                                         path);
        if (!control_uid_is_privileged(uc->uid) && !caller_may_read(path, &st, uc)) {
                log_warning("Refused GetUnitFiles() from uid %u (pid %d): '%s' is not readable "
                            "by that uid.", (unsigned) uc->uid, (int) uc->pid, path);
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "permission denied: '%s' is not readable by uid %u",
                                         path, (unsigned) uc->uid);
        }
        if ((uint64_t) st.st_size > budget)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "'%s' is too large to show "
                                         "(%llu bytes)", path, (unsigned long long) st.st_size);
        /* One byte more than allowed tells a file that grew since fstat(). */
        buf = malloc(budget + 2);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + len, budget + 1 - len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                                 "cannot read '%s': %s", path, strerror(errno));
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > budget)
                        return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                                 "'%s' is too large to show", path);
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int control_method_get_unit_files(sd_bus_message *msg, void *userdata,
                                         sd_bus_error *error) {
        ControlClient *cl = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        size_t budget = CONTROL_REPLY_MAX;
        const char *name;
        Unit *u;
        int r;

        r = read_unit_name(msg, NULL, NULL, &name, error);
        if (r < 0)
                return r;
        u = manager_get_unit(cl->control->manager, name);
        if (!u)
                return no_such_unit(name, error);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        /* An ad-hoc unit has no file: its path is "(command line)". */
        for (size_t i = 0; r >= 0 && i <= strv_length(unit_extra(u)->dropins); i++) {
                const char *path = i == 0 ? unit_path(u) : unit_extra(u)->dropins[i - 1];
                _cleanup_free_ char *text = NULL;

                if (!path_is_absolute(path))
                        continue;
                r = read_unit_file(cl, path, budget, &text, error);
                if (r < 0)
                        return r;
                budget -= MIN(budget, strlen(text) + strlen(path) + 16);
                r = sd_bus_message_open_container(reply, 'r', "ss");
                if (r >= 0)
                        r = append_string(reply, path);
                if (r >= 0)
                        r = append_string(reply, text);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

typedef struct LogsContext {
        sd_bus_message *reply;
        int r;
} LogsContext;

static void append_log_line(const ServiceLogLine *l, void *userdata) {
        LogsContext *ctx = userdata;
        int r = ctx->r;

        if (r < 0)
                return;
        r = sd_bus_message_open_container(ctx->reply, 'r', "tus");
        if (r >= 0)
                r = sd_bus_message_append(ctx->reply, "tu", l->seq, (uint32_t) l->pid);
        if (r >= 0)
                r = append_string(ctx->reply, l->line);
        if (r >= 0)
                r = sd_bus_message_close_container(ctx->reply);
        ctx->r = r;
}

/* Who may read a service's output, as the journal decides: root, berthd's own uid, the user
 * the service runs as (User=), and members of group adm. A service's output may hold secrets. */
static bool caller_may_read_output(const ControlClient *cl, const Unit *u) {
        const char *user;
        uid_t uid;
        gid_t gid;

        if (control_uid_is_privileged(cl->ucred.uid))
                return true;
        user = service_config_process(&u->service)->user;
        if (user && user_resolve(user, &uid, &gid) >= 0 && uid == cl->ucred.uid)
                return true;
        return group_resolve("adm", &gid) >= 0 && control_client_in_group(cl, gid);
}

static int control_method_get_logs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        uint64_t after, next;
        uint32_t max;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "stu", &name, &after, &max);
        if (r < 0)
                return r;
        r = check_name(name, error);
        if (r < 0)
                return r;
        if (!manager_get_unit(m, name) && !manager_unit_failed(m, name))
                return no_such_unit(name, error);
        /* A socket unit's logs are its service's. A unit without a process (a template, or
         * one that failed to load) has none. SERVICE_LOG_LINES lines of SERVICE_LINE_MAX
         * bytes fit in BERTH_CONTROL_MESSAGE_MAX. */
        s = manager_resolve_service(m, name);
        if (s && !caller_may_read_output(cl, s->unit)) {
                char quoted[MESSAGE_QUOTE_SIZE(UNIT_NAME_MAX)];
                log_warning("Refused GetLogs('%s') from uid %u (pid %d): the output of %s is for "
                            "root, berthd's uid, its User= and group adm.",
                            message_quote(name, UNIT_NAME_MAX, quoted, sizeof quoted),
                            (unsigned) cl->ucred.uid, (int) cl->ucred.pid, s->unit->name);
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "permission denied: the output of %s is shown to root, "
                                         "berthd's uid, the unit's User= and group adm",
                                         s->unit->name);
        }

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        if (s) {
                LogsContext ctx = { .reply = reply };

                /* The next `after` goes first on the wire: it is the newest seq, which
                 * service_log_foreach() returns too. */
                next = s->run->log_seq;
                r = sd_bus_message_append(reply, "t", next);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "(tus)");
                if (r >= 0) {
                        ctx.r = 0;
                        (void) service_log_foreach(s, after, max, append_log_line, &ctx);
                        r = ctx.r;
                }
        } else {
                r = sd_bus_message_append(reply, "t", after);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "(tus)");
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

static int control_method_get_socket_fds(sd_bus_message *msg, void *userdata,
                                         sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *fdname = NULL;
        const char *name;
        size_t n = 0;
        Unit *u;
        int r;

        r = read_unit_name(msg, cl, "fds", &name, error);
        if (r < 0)
                return r;
        u = manager_get_unit(m, name);
        if (!u)
                return manager_unit_failed(m, name) ?
                               sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                                 "%s failed to load: %s", name,
                                                 manager_unit_load_error(m, name)) :
                               no_such_unit(name, error);
        if (u->type != UNIT_SOCKET)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                         "%s is not a socket unit; name its .socket", name);
        if (sd_bus_can_send(sd_bus_message_get_bus(msg), SD_BUS_TYPE_UNIX_FD) <= 0)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                         "this connection cannot carry file descriptors");
        for (size_t i = 0; i < m->n_listeners; i++)
                if (m->listeners[i]->spec.unit == u && m->listeners[i]->fd >= 0)
                        n++;
        if (n == 0)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                         "%s has no bound sockets%s%s", name,
                                         manager_unit_failed(m, name) ? ": " : "",
                                         strempty(manager_unit_load_error(m, name)));
        if (n > CONTROL_FDS_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                         "%s has %zu sockets, more than one message can carry "
                                         "(%d)", name, n, CONTROL_FDS_MAX);
        fdname = unit_socket_fdname(u);
        if (!fdname)
                return -ENOMEM;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "h");
        for (size_t i = 0; r >= 0 && i < m->n_listeners; i++)
                if (m->listeners[i]->spec.unit == u && m->listeners[i]->fd >= 0)
                        /* sd-bus sends a duplicate; ours stays. */
                        r = sd_bus_message_append_basic(reply, 'h', &m->listeners[i]->fd);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_string(reply, fdname);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        log_info("Handed the %zu socket%s of %s to uid %u (pid %d).", n, n == 1 ? "" : "s",
                 u->name, (unsigned) cl->ucred.uid, (int) cl->ucred.pid);
        return sd_bus_message_send(reply);
}

/* busctl (and any other libdbus or sd-bus client that expects a bus) opens with Hello() to
 * the bus driver and waits for a unique name. A direct connection has no driver; answer it as
 * one would, so that `busctl --address=unix:path=RUNTIME/control` works. */
static int control_method_hello(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        char unique[32];

        snprintf(unique, sizeof unique, ":1.%" PRIu64, cl->number);
        return sd_bus_reply_method_return(msg, "s", unique);
}

/* `busctl --address=... tree` (no name given) first asks the driver for every name. There is
 * one peer here: answer with the interface's name, which any destination reaches anyway. */
static int control_method_list_names(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(msg, "as", 2, "org.freedesktop.DBus",
                                          BERTH_INTERFACE);
}

static int control_method_list_activatable_names(sd_bus_message *msg, void *userdata,
                                                 sd_bus_error *error) {
        return sd_bus_reply_method_return(msg, "as", 0);
}

const sd_bus_vtable control_driver_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Hello", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", unique_name),
                                control_method_hello, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListNames", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", names),
                                control_method_list_names, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListActivatableNames", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("as", names),
                                control_method_list_activatable_names,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* Every method is open at the sd-bus level (SD_BUS_VTABLE_UNPRIVILEGED: sd-bus's own check
 * wants CAP_SYS_ADMIN); check_privileged() decides per call. */
const sd_bus_vtable control_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListUnits", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(" LIST_UNITS_ENTRY ")", units),
                                control_method_list_units, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUnit", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a{sv}", properties), control_method_get_unit,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSockets", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(" LIST_SOCKETS_ENTRY ")", sockets),
                                control_method_list_sockets, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartUnit", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                control_method_start_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopUnit", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                control_method_stop_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestartUnit", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                control_method_restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReloadUnit", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                control_method_reload_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", warnings),
                                control_method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reexecute", SD_BUS_ARGS("s", binary),
                                SD_BUS_RESULT("u", generation), control_method_reexecute,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Ping", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", generation),
                                control_method_ping, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUnitFiles", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a(ss)", files), control_method_get_unit_files,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetLogs", SD_BUS_ARGS("s", name, "t", after, "u", max),
                                SD_BUS_RESULT("t", next, "a(tus)", lines),
                                control_method_get_logs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetSocketFds", SD_BUS_ARGS("s", socket_unit),
                                SD_BUS_RESULT("ah", fds, "as", names),
                                control_method_get_socket_fds, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
