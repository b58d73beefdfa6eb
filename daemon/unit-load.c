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

void unit_defaults(Unit *u) {
        u->start_limit_interval_usec = 10 * USEC_PER_SEC;
        u->start_limit_burst = 5;

        u->socket.bind_ipv6_only = BIND_IPV6_ONLY_BOTH;
        u->socket.backlog = -1;
        u->socket.socket_mode = 0666;
        u->socket.directory_mode = 0755;
        u->socket.max_connections = 64;
        u->socket.trigger_limit_interval_usec = 2 * USEC_PER_SEC;
        u->socket.trigger_limit_burst = 20;
        u->socket.poll_limit_interval_usec = 2 * USEC_PER_SEC;
        u->socket.poll_limit_burst = 150;
        u->socket.accept_stall_usec = 10 * USEC_PER_SEC;
        u->socket.timeout_usec = 90 * USEC_PER_SEC;

        u->service.type = SERVICE_SIMPLE;
        u->service.restart = SERVICE_RESTART_NO;
        u->service.restart_usec = 100 * USEC_PER_MSEC;
        u->service.timeout_start_usec = 90 * USEC_PER_SEC;
        u->service.timeout_stop_usec = 90 * USEC_PER_SEC;
        u->service.kill_signal = SIGTERM;
        u->service.kill_mode = KILL_CONTROL_GROUP;
        u->service.reload_signal = SIGHUP;
        u->service.umask = 0022;
        u->service.guess_main_pid = true;
        u->service.ignore_sigpipe = true;
        exec_dirs_defaults(&u->service.dirs);
        u->service.limit_nofile_soft = UINT64_MAX;
        u->service.limit_nofile_hard = UINT64_MAX;
        u->service.notify_access = NOTIFY_ACCESS_NONE;
        u->service.std_input = STD_INPUT_NULL;
        u->service.std_output = STD_OUTPUT_LOG;
        u->service.std_error = STD_OUTPUT_LOG;
        u->service.handover = HANDOVER_STOP_FIRST;
        /* journald's defaults, which systemd's units inherit. */
        u->service.log_rate_limit_interval_usec = 30 * USEC_PER_SEC;
        u->service.log_rate_limit_burst = 10000;
}

/* An empty assignment sets a scalar back to its default. */
void load_reset_default(LoadContext *c, const ConfigItem *it) {
        Unit d = {};

        unit_defaults(&d);
        memcpy(field(c, it->offset), (uint8_t *) &d + it->offset, it->size);
}
