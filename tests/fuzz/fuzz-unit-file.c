/* Fuzzes the unit-file reader (lexer on libinih, every key parser, drop-in layering and the
 * whole-unit checks). Input: the first byte picks the unit name ('0' web.socket, '1'
 * web.service, '2' echo@.service: the byte modulo 3); the rest is the main file, then up to
 * three drop-ins, separated by lines that are exactly "----". Whatever loads must satisfy the
 * invariants a caller relies on; every diagnostic must be a proper message; nothing may leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "common/macro.h"
#include "daemon/unit-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Past UNIT_VALUE_MAX, so the long-line error is reachable, but bounded. */
#define FUZZ_INPUT_MAX ((size_t) UNIT_VALUE_MAX * 2 + 4096)
#define FUZZ_TEXTS_MAX 4

static const char *const names[] = { "web.socket", "web.service", "echo@.service" };
static const char *const paths[FUZZ_TEXTS_MAX] = {
        "/fuzz/main", "/fuzz/10-a.conf", "/fuzz/20-b.conf", "/fuzz/30-c.conf",
};

static void check_diag(int level, const char *file, unsigned line, const char *msg,
                       void *userdata) {
        if (level != LOG_ERR && level != LOG_WARNING && level != LOG_DEBUG)
                abort();
        if (!msg || msg[0] == '\0')
                abort();
        /* One line, no control characters: user text in it is escaped. */
        for (const char *p = msg; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f) {
                        fprintf(stderr, "control character 0x%02x at %zu of the diagnostic "
                                "for %s:%u\n", (unsigned) (unsigned char) *p, (size_t) (p - msg),
                                strna(file), line);
                        fprintf(stderr, "%s\n", msg);
                        abort();
                }
        if (file) {
                bool known = false;
                for (size_t i = 0; i < FUZZ_TEXTS_MAX; i++)
                        known = known || streq(file, paths[i]);
                if (!known) {
                        fprintf(stderr, "diagnostic names an unknown file '%s': %s\n", file, msg);
                        abort();
                }
        }
}

static void check_origin(const UnitOrigin *o) {
        if (!o->file || o->line == 0)
                abort();
}

static void check_exec(const ExecCommand *c, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (!c[i].path || c[i].path[0] == '\0' || !c[i].argv || !c[i].argv[0])
                        abort();
                if (c[i].path[0] != '/' && strchr(c[i].path, '/'))
                        abort();
                check_origin(&c[i].origin);
        }
}

static void check_unit(const Unit *u) {
        if (u->type == UNIT_SOCKET) {
                _cleanup_free_ char *svc = unit_socket_service_name(u);
                _cleanup_free_ char *fdname = unit_socket_fdname(u);

                if (u->socket.n_listens == 0 || u->socket.n_listens > UNIT_LISTEN_MAX)
                        abort();
                for (size_t i = 0; i < u->socket.n_listens; i++) {
                        const SocketListen *l = &u->socket.listens[i];

                        if (!LISTEN_TEXT(l) || !listen_type_to_string(l->type))
                                abort();
                        /* FIFO, special file, message queue: a path or name; else none. */
                        const char *path = socket_listen_path(l);

                        if ((l->type == LISTEN_FIFO || l->type == LISTEN_SPECIAL ||
                             l->type == LISTEN_MQUEUE) != (path != NULL))
                                abort();
                        if (path && (path[0] != '/' || strstr(path, "//")))
                                abort();
                        if (l->type == LISTEN_MQUEUE && strchr(path + 1, '/'))
                                abort();
                        if (l->type == LISTEN_NETLINK &&
                            (l->netlink.family < 0 || l->netlink.family >= 32))
                                abort();
                        check_origin(&l->origin);
                }
                STRV_FOREACH(link, socket_config_options(&u->socket)->symlinks)
                        if ((*link)[0] != '/')
                                abort();
                if (socket_config_options(&u->socket)->symlinks && !unit_socket_symlink_target(u))
                        abort();
                if (socket_config_limits(&u->socket)->max_connections == 0 ||
                    u->socket.backlog < -1)
                        abort();
                if (!svc || !fdname || unit_name_to_type(svc) != UNIT_SERVICE)
                        abort();
                if (u->socket.accept && socket_config_options(&u->socket)->service)
                        abort();
        } else {
                const ServiceConfig *s = &u->service;
                const ServiceHooks *h = service_config_hooks(s);

                if (s->n_exec_start == 0 || (s->n_exec_start > 1 && s->type != SERVICE_ONESHOT))
                        abort();
                check_exec(s->exec_start, s->n_exec_start);
                check_exec(h->exec_start_pre, h->n_exec_start_pre);
                check_exec(h->exec_reload, h->n_exec_reload);
                check_exec(h->exec_stop, h->n_exec_stop);
                if (!service_type_to_string(s->type) || !service_restart_to_string(s->restart) ||
                    !kill_mode_to_string(service_config_extra(s)->kill_mode) ||
                    !handover_to_string(service_config_extra(s)->handover) ||
                    !notify_access_to_string(service_config_extra(s)->notify_access))
                        abort();
                STRV_FOREACH(e, service_config_process(s)->environment)
                        if (!strchr(*e, '='))
                                abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *buf = NULL;
        const char *texts[FUZZ_TEXTS_MAX];
        size_t n = 1;
        Unit *u = NULL;
        char *p;
        int r;

        if (size < 1 || size > FUZZ_INPUT_MAX)
                return 0;
        buf = malloc(size);
        if (!buf)
                return 0;
        memcpy(buf, data + 1, size - 1);
        buf[size - 1] = '\0';

        /* Split at "----" lines; a NUL byte simply ends that text early. */
        texts[0] = buf;
        for (p = buf; n < FUZZ_TEXTS_MAX && (p = strstr(p, "----"));) {
                bool line_start = p == buf || p[-1] == '\n';
                bool line_end = p[4] == '\n' || p[4] == '\0';
                if (line_start && line_end) {
                        char *next = p[4] == '\n' ? p + 5 : p + 4;
                        *p = '\0';
                        texts[n++] = next;
                        p = next;
                } else
                        p += 4;
        }

        r = unit_file_load_strings(names[data[0] % 3], paths, texts, n, check_diag, NULL, &u);
        if (r < 0 && r != -ENOMEM)
                abort();
        if (r == 0) {
                if (!u)
                        abort();
                check_unit(u);
                u = unit_free(u);
        } else if (u)
                abort();
        return 0;
}
