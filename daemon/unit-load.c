/* unit-load: the shared state of one unit's load (see unit-load.h): diagnostics that count
 * the unit's errors, and the defaults a unit starts from and an empty assignment restores.
 * Pure: no logging; everything goes to the caller's UnitDiagFunc. */
#include <signal.h>
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

static void socket_config_defaults(SocketConfig *s) {
        s->bind_ipv6_only = BIND_IPV6_ONLY_BOTH;
        s->backlog = -1;
        s->socket_mode = 0666;
        s->directory_mode = 0755;
        s->max_connections = 64;
        s->trigger_limit_interval_usec = 2 * USEC_PER_SEC;
        s->trigger_limit_burst = 20;
        s->poll_limit_interval_usec = 2 * USEC_PER_SEC;
        s->poll_limit_burst = 150;
        s->accept_stall_usec = 10 * USEC_PER_SEC;
        s->timeout_usec = 90 * USEC_PER_SEC;
}

static void service_config_defaults(ServiceConfig *s) {
        s->type = SERVICE_SIMPLE;
        s->restart = SERVICE_RESTART_NO;
        s->restart_usec = 100 * USEC_PER_MSEC;
        s->timeout_start_usec = 90 * USEC_PER_SEC;
        s->timeout_stop_usec = 90 * USEC_PER_SEC;
        s->kill_signal = SIGTERM;
        s->kill_mode = KILL_CONTROL_GROUP;
        s->reload_signal = SIGHUP;
        s->umask = 0022;
        s->guess_main_pid = true;
        s->ignore_sigpipe = true;
        exec_dirs_defaults(&s->dirs);
        s->limit_nofile_soft = UINT64_MAX;
        s->limit_nofile_hard = UINT64_MAX;
        s->notify_access = NOTIFY_ACCESS_NONE;
        s->std_input = STD_INPUT_NULL;
        s->std_output = STD_OUTPUT_LOG;
        s->std_error = STD_OUTPUT_LOG;
        s->handover = HANDOVER_STOP_FIRST;
        /* journald's defaults, which systemd's units inherit. */
        s->log_rate_limit_interval_usec = 30 * USEC_PER_SEC;
        s->log_rate_limit_burst = 10000;
}

void unit_defaults(Unit *u) {
        u->start_limit_interval_usec = 10 * USEC_PER_SEC;
        u->start_limit_burst = 5;
        if (u->type == UNIT_SOCKET)
                socket_config_defaults(&u->socket);
        else
                service_config_defaults(&u->service);
}

/* An empty assignment sets a scalar back to its default. */
void load_reset_default(LoadContext *c, const ConfigItem *it) {
        Unit d = { .type = c->u->type };

        unit_defaults(&d);
        memcpy(field(c, it->offset), (uint8_t *) &d + it->offset, it->size);
}
