/* unit-load: the shared state of one unit's load (see unit-load.h): diagnostics that count
 * the unit's errors, and the defaults a unit starts from and an empty assignment restores.
 * Pure: no logging; everything goes to the caller's UnitDiagFunc. */
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/macro.h"
#include "daemon/unit-file.h"
#include "daemon/unit-load.h"

/* ---- messages ---- */

void unit_diagf(UnitDiagFunc diag, void *userdata, int level, const char *file, unsigned line,
                const char *fmt, ...) {
        char buf[1024], *msg = buf, *heap = NULL;
        va_list ap;
        int n;

        if (!diag)
                return;
        va_start(ap, fmt);
        n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (n >= (int) sizeof buf) {
                va_start(ap, fmt);
                if (vasprintf(&heap, fmt, ap) >= 0)
                        msg = heap;
                else
                        heap = NULL;
                va_end(ap);
        }
        diag(level, file, line, msg, userdata);
        free(heap);
}

void load_report(LoadContext *c, int level, const char *file, unsigned line, const char *fmt,
                 ...) {
        char buf[1536];
        va_list ap;

        if (level <= LOG_ERR)
                c->n_errors++;
        if (!c->diag)
                return;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        c->diag(level, file, line, buf, c->userdata);
}

void load_invalid(LoadContext *c, unsigned line, const char *key, const char *value,
                  const char *expected) {
        char q[QUOTE_SIZE];

        report(c, LOG_ERR, line, "Invalid value for %s=: '%s' (expected %s)", key,
               cut(value, q), expected);
}

/* ---- defaults ---- */

const UnitExtra unit_extra_defaults = {
        .start_limit_interval_usec = 10 * USEC_PER_SEC,
        .start_limit_burst = 5,
};

const SocketLimits socket_limits_defaults = {
        .max_connections = 64,
        .trigger_limit_burst = 20,
        .poll_limit_burst = 150,
        .trigger_limit_interval_usec = 2 * USEC_PER_SEC,
        .poll_limit_interval_usec = 2 * USEC_PER_SEC,
        .accept_stall_usec = 10 * USEC_PER_SEC,
};

const SocketOptions socket_options_defaults = {
        .socket_mode = 0666,
        .directory_mode = 0755,
};
const SocketHooks socket_hooks_none = {
        .timeout_usec = 90 * USEC_PER_SEC,
};
const ServiceHooks service_hooks_none = {};
const ServiceExitStatus service_exit_status_none = {};
const CGroupLimits cgroup_limits_none = {};
const ServiceProcess service_process_defaults = {
        .umask = 0022,
        .limit_nofile_soft = UINT64_MAX,
        .limit_nofile_hard = UINT64_MAX,
        /* journald's defaults, which systemd's units inherit. */
        .log_rate_limit_interval_usec = 30 * USEC_PER_SEC,
        .log_rate_limit_burst = 10000,
};

const ServiceExtra service_extra_defaults = {
        .kill_signal = SIGTERM,
        .kill_mode = KILL_CONTROL_GROUP,
        .reload_signal = SIGHUP,
        .handover = HANDOVER_STOP_FIRST,
        .notify_access = NOTIFY_ACCESS_NONE,
        .std_input = STD_INPUT_NULL,
        .guess_main_pid = true,
        .ignore_sigpipe = true,
};

/* The groups: where the Unit points to each, its size and what it starts as. */
static const struct {
        size_t pointer;
        size_t size;
        const void *defaults;
} unit_groups[_UNIT_GROUP_MAX] = {
        [UNIT_GROUP_UNIT_EXTRA] = { offsetof(Unit, extra), sizeof(UnitExtra),
                                    &unit_extra_defaults },
        [UNIT_GROUP_SOCKET_OPTIONS] = { offsetof(Unit, socket.options),
                                        sizeof(SocketOptions), &socket_options_defaults },
        [UNIT_GROUP_SOCKET_LIMITS] = { offsetof(Unit, socket.limits), sizeof(SocketLimits),
                                       &socket_limits_defaults },
        [UNIT_GROUP_SOCKET_HOOKS] = { offsetof(Unit, socket.hooks), sizeof(SocketHooks),
                                      &socket_hooks_none },
        [UNIT_GROUP_SERVICE_HOOKS] = { offsetof(Unit, service.hooks),
                                       sizeof(ServiceHooks), &service_hooks_none },
        [UNIT_GROUP_EXIT_STATUS] = { offsetof(Unit, service.exit_status),
                                     sizeof(ServiceExitStatus), &service_exit_status_none },
        [UNIT_GROUP_LIMITS] = { offsetof(Unit, service.limits),
                                sizeof(CGroupLimits), &cgroup_limits_none },
        [UNIT_GROUP_DIRS] = { offsetof(Unit, service.dirs), sizeof(ExecDirs),
                              &exec_dirs_none },
        [UNIT_GROUP_SERVICE_EXTRA] = { offsetof(Unit, service.extra), sizeof(ServiceExtra),
                                       &service_extra_defaults },
        [UNIT_GROUP_SERVICE_PROCESS] = { offsetof(Unit, service.process), sizeof(ServiceProcess),
                                         &service_process_defaults },
};

void *field(LoadContext *c, UnitGroup g, size_t offset) {
        void **group;

        if (g == UNIT_GROUP_NONE)
                return (uint8_t *) c->u + offset;
        /* The group is the unit's, or of the unit's type: then its keys sit in its type's
         * section only. */
        group = (void **) ((uint8_t *) c->u + unit_groups[g].pointer);
        if (!*group) {
                *group = malloc(unit_groups[g].size);
                if (!*group)
                        return NULL;
                memcpy(*group, unit_groups[g].defaults, unit_groups[g].size);
        }
        return (uint8_t *) *group + offset;
}

static void socket_config_defaults(SocketConfig *s) {
        s->bind_ipv6_only = BIND_IPV6_ONLY_BOTH;
        s->backlog = -1;
}

static void service_config_defaults(ServiceConfig *s) {
        s->type = SERVICE_SIMPLE;
        s->restart = SERVICE_RESTART_NO;
        s->restart_usec = 100 * USEC_PER_MSEC;
        s->timeout_start_usec = 90 * USEC_PER_SEC;
        s->timeout_stop_usec = 90 * USEC_PER_SEC;
        s->std_output = STD_OUTPUT_LOG;
        s->std_error = STD_OUTPUT_LOG;
}

void unit_defaults(Unit *u) {
        if (u->type == UNIT_SOCKET)
                socket_config_defaults(&u->socket);
        else
                service_config_defaults(&u->service);
}

/* An empty assignment sets a scalar back to its default. */
void load_reset_default(LoadContext *c, const ConfigItem *it) {
        Unit d = { .type = c->u->type };
        void *f = field(c, it->group, it->offset);
        const void *def;

        if (!f)
                return; /* not reached: the group is there (see unit-load.h) */
        if (it->group == UNIT_GROUP_NONE) {
                unit_defaults(&d);
                def = (const uint8_t *) &d + it->offset;
        } else
                def = (const uint8_t *) unit_groups[it->group].defaults + it->offset;
        memcpy(f, def, it->size);
}
