/* plan-print: what `berthd --check` prints (SPEC §1): every socket unit with the sockets it
 * will bind and how, which service each feeds, what starts when, and a summary line. Pure:
 * it reads the loaded units, the plan and the failures, and writes to a FILE. */
#include <stdio.h>
#include <sys/socket.h>

#include "common/strv.h"
#include "daemon/plan-print.h"

/* The options that apply to spec, as written in its unit. */
static void describe_options(const BindSpec *spec, char *buf, size_t len) {
        const SocketConfig *c = &spec->unit->socket;
        const SocketOptions *o = socket_config_options(c);
        bool sock = bind_spec_has_address(spec), inet = socket_family_is_inet(spec->family);
        /* What RemoveOnStop= removes: a unix socket file, a FIFO, a message queue. */
        bool node = (spec->family == AF_UNIX &&
                     spec->listen->address.unix_addr->un.sun_path[0] != '\0') ||
                    IN_SET(spec->listen->type, LISTEN_FIFO, LISTEN_MQUEUE);
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

        if (sock && spec->socktype != SOCK_DGRAM) {
                OPT(c->backlog >= 0, "Backlog=%d", c->backlog);
                OPT(c->backlog < 0, "Backlog=somaxconn");
        }
        OPT(c->accept, "Accept=yes");
        OPT(inet && o->reuse_port, "ReusePort=yes");
        OPT(inet && o->free_bind, "FreeBind=yes");
        OPT(inet && o->transparent, "Transparent=yes");
        OPT(inet && o->no_delay, "NoDelay=yes");
        OPT(inet && o->keep_alive, "KeepAlive=yes");
        OPT(inet && o->defer_accept_usec > 0, "DeferAcceptSec=%llus",
            (unsigned long long) (o->defer_accept_usec / USEC_PER_SEC));
        OPT(bind_spec_is_socket(spec) && o->receive_buffer > 0, "ReceiveBuffer=%llu",
            (unsigned long long) o->receive_buffer);
        OPT(bind_spec_is_socket(spec) && o->send_buffer > 0, "SendBuffer=%llu",
            (unsigned long long) o->send_buffer);
        OPT(inet && o->bind_to_device, "BindToDevice=%s", o->bind_to_device);
        OPT(o->pass_credentials && (spec->family == AF_UNIX || spec->family == AF_NETLINK),
            "PassCredentials=yes");
        if (socket_config_has_ip_filter(c)) {
                char allow[1024], deny[1024];

                OPT(inet && o->ip_address_allow.n > 0, "IPAddressAllow=%s",
                    ip_prefix_list_format(&o->ip_address_allow, allow, sizeof allow));
                OPT(inet && o->ip_address_deny.n > 0, "IPAddressDeny=%s",
                    ip_prefix_list_format(&o->ip_address_deny, deny, sizeof deny));
                OPT(inet, "a locked socket filter drops what they deny");
                OPT(!inet, "IPAddressAllow=/IPAddressDeny= do not apply (not an IP socket)");
        }
        OPT(c->non_blocking, "NonBlocking=yes");
        OPT(node && o->remove_on_stop, "RemoveOnStop=yes");
        if (o->symlinks && unit_socket_symlink_target(spec->unit) == spec->listen)
                STRV_FOREACH(l, o->symlinks)
                        OPT(true, "symlink %s", *l);
#undef OPT
}

static const Unit *spec_unit(const void *specs, size_t i) {
        return ((const BindSpec *) specs)[i].unit;
}

void plan_print(FILE *f, Unit **units, size_t n_units, const BindPlan *plan,
                const UnitFailures *failures, unsigned n_errors, unsigned n_warnings) {
        size_t n_sockets = 0, n_services = 0, n_socket_units = 0;
        _cleanup_(unit_index_done) UnitIndex index = {};
        _cleanup_(unit_items_done) UnitItems specs = {};

        if (unit_index_build(&index, units, n_units) < 0 ||
            unit_items_build(&specs, plan->specs, plan->n_specs, spec_unit) < 0) {
                fprintf(f, "out of memory\n");
                return;
        }

        for (size_t i = 0; i < n_units; i++) {
                Unit *u = units[i];
                bool failed = unit_failures_find(failures, u->name) != NULL;

                if (u->type == UNIT_SERVICE) {
                        n_services++;
                        continue;
                }
                n_socket_units++;
                _cleanup_free_ char *svc = unit_socket_service_name(u);
                _cleanup_free_ char *fdname = unit_socket_fdname(u);
                if (u->is_template && !failed) {
                        fprintf(f, "%s: template%s; `berthctl start %.*sINSTANCE.socket` makes "
                                "an instance, which binds its own addresses\n", u->name,
                                u->socket.accept ? " with Accept=yes (per-connection "
                                                   "instances are not run yet)" : "",
                                (int) (strchr(u->name, '@') - u->name + 1), u->name);
                        continue;
                }
                fprintf(f, "%s -> %s (fd name \"%s\")%s\n", u->name, strna(svc), strna(fdname),
                        failed ? "  [FAILED: not loaded, see above]" : "");
                if (failed)
                        continue;
                char why[1024];
                if (unit_conditions_test(u, why, sizeof why) == 0) {
                        fprintf(f, "  skipped, not bound: %s\n", why);
                        continue;
                }
                UNIT_ITEMS_FOREACH(k, &specs, u) {
                        const BindSpec *s = &plan->specs[k];
                        char d[BIND_SPEC_DESCRIBE_MAX], opts[4096];

                        n_sockets++;
                        describe_options(s, opts, sizeof opts);
                        fprintf(f, "  %s=%s (%s:%u)\n    %s %s%s%s\n",
                                listen_type_to_string(s->listen->type), LISTEN_TEXT(s->listen),
                                strempty(s->listen->origin.file), s->listen->origin.line,
                                bind_spec_is_socket(s) ? "bind" : "open",
                                bind_spec_describe(s, d, sizeof d), opts[0] ? "; " : "", opts);
                }
        }
        for (size_t i = 0; i < n_units; i++) {
                Unit *u = units[i];
                const UnitFailure *socket_failed;
                const Unit *socket_unit;
                bool activated;

                if (u->type != UNIT_SERVICE)
                        continue;
                activated = unit_socket_activated(u->name, &index, failures,
                                                  &socket_unit, &socket_failed);
                char why[1024];
                if (!u->is_template &&
                    unit_conditions_test(u, why, sizeof why) == 0) {
                        fprintf(f, "%s: skipped, not started: %s\n", u->name, why);
                        continue;
                }
                if (socket_failed) {
                        fprintf(f, "%s: not started: its socket unit %s failed to load (%s)\n",
                                u->name, socket_failed->name,
                                socket_failed->message ?: "see above");
                        continue;
                }
                fprintf(f, "%s: %s\n", u->name,
                        u->is_template ? (socket_unit && socket_unit->socket.accept ?
                                          "template, one instance per connection" :
                                          "template, one instance per instance of its socket, or "
                                          "`berthctl start` NAME@INSTANCE.service") :
                        activated ? (u->wanted_by ? "socket-activated, started at berthd start "
                                                    "([Install] WantedBy=)" :
                                                    "socket-activated, started on the first "
                                                    "connection") :
                                    "no socket, started at berthd start");
        }
        fprintf(f, "%s: %zu unit%s (%zu socket, %zu service), %zu socket%s to bind, %u error%s, "
                   "%u warning%s\n",
                n_errors > 0 ? "FAILED" : "OK", n_units, n_units == 1 ? "" : "s",
                n_socket_units, n_services, n_sockets, n_sockets == 1 ? "" : "s", n_errors,
                n_errors == 1 ? "" : "s", n_warnings, n_warnings == 1 ? "" : "s");
}

