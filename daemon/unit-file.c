/* unit-file: one unit's main file and drop-ins to a Unit (SPEC §1), with systemd's semantics:
 * the last assignment of a scalar key wins, list keys append and an empty assignment resets
 * them, unknown sections and keys are warnings, an invalid value is an error that fails the
 * unit after every other problem in it has been reported too.
 * This file owns the Unit (names, enum strings, construction and destruction) and the loader:
 * it reads the main file, then the drop-ins, through unit-lexer, hands each section header and
 * assignment to unit-keys (the key table, whose parsers are in unit-values and unit-exec), and
 * checks what a whole unit must have once every file is read. unit-load holds the state they
 * share. Pure: no logging; everything goes to the caller's UnitDiagFunc. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>

#include "common/macro.h"
#include "common/string-table.h"
#include "daemon/unit-exec.h"
#include "daemon/unit-file.h"
#include "daemon/unit-keys.h"
#include "daemon/unit-lexer.h"
#include "daemon/unit-load.h"

/* ---- enum tables ---- */

DEFINE_STRING_TABLE(unit_type, UnitType, [UNIT_SOCKET] = "socket", [UNIT_SERVICE] = "service")
DEFINE_STRING_TABLE(listen_type, ListenType,
             [LISTEN_STREAM] = "ListenStream",
             [LISTEN_DATAGRAM] = "ListenDatagram",
             [LISTEN_SEQPACKET] = "ListenSequentialPacket",
             [LISTEN_FIFO] = "ListenFIFO",
             [LISTEN_SPECIAL] = "ListenSpecial",
             [LISTEN_NETLINK] = "ListenNetlink",
             [LISTEN_MQUEUE] = "ListenMessageQueue")
DEFINE_STRING_TABLE(bind_ipv6_only, BindIPv6Only,
             [BIND_IPV6_ONLY_BOTH] = "both",
             [BIND_IPV6_ONLY_IPV6_ONLY] = "ipv6-only",
             [BIND_IPV6_ONLY_SEPARATE] = "separate",
             [BIND_IPV6_ONLY_DEFAULT] = "default")
DEFINE_STRING_TABLE_FROM_STRING(bind_ipv6_only, BindIPv6Only)
DEFINE_STRING_TABLE(service_type, ServiceType,
             [SERVICE_SIMPLE] = "simple",
             [SERVICE_EXEC] = "exec",
             [SERVICE_NOTIFY] = "notify",
             [SERVICE_FORKING] = "forking",
             [SERVICE_DBUS] = "dbus",
             [SERVICE_ONESHOT] = "oneshot",
             [SERVICE_NOTIFY_RELOAD] = "notify-reload")
DEFINE_STRING_TABLE_FROM_STRING(service_type, ServiceType)
DEFINE_STRING_TABLE(service_restart, ServiceRestart,
             [SERVICE_RESTART_NO] = "no",
             [SERVICE_RESTART_ON_SUCCESS] = "on-success",
             [SERVICE_RESTART_ON_FAILURE] = "on-failure",
             [SERVICE_RESTART_ON_ABNORMAL] = "on-abnormal",
             [SERVICE_RESTART_ON_ABORT] = "on-abort",
             [SERVICE_RESTART_ALWAYS] = "always")
DEFINE_STRING_TABLE_FROM_STRING(service_restart, ServiceRestart)
DEFINE_STRING_TABLE(kill_mode, KillMode,
             [KILL_CONTROL_GROUP] = "control-group",
             [KILL_MIXED] = "mixed",
             [KILL_PROCESS] = "process",
             [KILL_NONE] = "none")
DEFINE_STRING_TABLE_FROM_STRING(kill_mode, KillMode)
DEFINE_STRING_TABLE(notify_access, NotifyAccess,
             [NOTIFY_ACCESS_NONE] = "none",
             [NOTIFY_ACCESS_MAIN] = "main",
             [NOTIFY_ACCESS_EXEC] = "exec",
             [NOTIFY_ACCESS_ALL] = "all")
DEFINE_STRING_TABLE_FROM_STRING(notify_access, NotifyAccess)
DEFINE_STRING_TABLE(handover, Handover,
             [HANDOVER_STOP_FIRST] = "stop-first",
             [HANDOVER_OVERLAP] = "overlap")
DEFINE_STRING_TABLE_FROM_STRING(handover, Handover)

/* ---- names ---- */

UnitType unit_name_to_type(const char *name) {
        const char *suffix, *at;
        UnitType t;
        size_t n, prefix;

        if (!name)
                return _UNIT_TYPE_INVALID;
        n = strlen(name);
        if (n == 0 || n > UNIT_NAME_MAX)
                return _UNIT_TYPE_INVALID;
        if ((suffix = endswith(name, ".socket")))
                t = UNIT_SOCKET;
        else if ((suffix = endswith(name, ".service")))
                t = UNIT_SERVICE;
        else
                return _UNIT_TYPE_INVALID;
        prefix = (size_t) (suffix - name);
        if (prefix == 0)
                return _UNIT_TYPE_INVALID;

        at = memchr(name, '@', prefix);
        if (at) {
                /* NAME@.TYPE (a template) or NAME@INSTANCE.TYPE. */
                if (at == name ||
                    memchr(at + 1, '@', (size_t) (suffix - at - 1)))
                        return _UNIT_TYPE_INVALID;
        }
        for (size_t i = 0; i < prefix; i++)
                if (name[i] != '@' && !strchr(UNIT_NAME_CHARS, name[i]))
                        return _UNIT_TYPE_INVALID;
        return t;
}

char *unit_socket_service_name(const Unit *u) {
        const char *service = socket_config_options(&u->socket)->service, *suffix;
        char *s;

        if (service)
                return strdup(service);
        suffix = endswith(u->name, ".socket");
        if (!suffix)
                return NULL;
        if (asprintf(&s, "%.*s%s", (int) (suffix - u->name), u->name,
                     u->socket.accept ? "@.service" : ".service") < 0)
                return NULL;
        return s;
}

bool exit_status_set_test(const ExitStatusSet *x, int code, int status) {
        if (code == CLD_EXITED)
                return status >= 0 && status <= 255 && (x->status[status / 64] >> (status % 64)) & 1;
        if (code == CLD_KILLED || code == CLD_DUMPED)
                return status >= 1 && status <= 64 && (x->signals >> (status - 1)) & 1;
        return false;
}

bool exit_status_set_is_empty(const ExitStatusSet *x) {
        return !(x->status[0] | x->status[1] | x->status[2] | x->status[3] | x->signals);
}

char *unit_socket_fdname(const Unit *u) {
        /* Without FileDescriptorName=, the socket unit's full name, as systemd passes it. */
        return strdup(socket_config_options(&u->socket)->fdname ?: u->name);
}

/* ---- construction and destruction ---- */

static void socket_options_free(SocketOptions *o) {
        if (!o)
                return;
        free(o->socket_user);
        free(o->socket_group);
        free(o->bind_to_device);
        free(o->service);
        free(o->fdname);
        strv_free(o->symlinks);
        ip_prefix_list_clear(&o->ip_address_allow);
        ip_prefix_list_clear(&o->ip_address_deny);
        free(o);
}

static void socket_config_free(SocketConfig *s) {
        socket_config_listens_free(s);
        if (s->hooks) {
                SocketHooks *h = s->hooks;

                exec_command_list_free(&h->exec_start_pre, &h->n_exec_start_pre);
                exec_command_list_free(&h->exec_start_post, &h->n_exec_start_post);
                exec_command_list_free(&h->exec_stop_pre, &h->n_exec_stop_pre);
                exec_command_list_free(&h->exec_stop_post, &h->n_exec_stop_post);
                free(h);
        }
        socket_options_free(s->options);
        free(s->limits);
}

static void service_hooks_free(ServiceHooks *h) {
        if (!h)
                return;
        exec_command_list_free(&h->exec_start_pre, &h->n_exec_start_pre);
        exec_command_list_free(&h->exec_reload, &h->n_exec_reload);
        exec_command_list_free(&h->exec_stop, &h->n_exec_stop);
        exec_command_list_free(&h->exec_condition, &h->n_exec_condition);
        exec_command_list_free(&h->exec_start_post, &h->n_exec_start_post);
        exec_command_list_free(&h->exec_stop_post, &h->n_exec_stop_post);
        free(h);
}

static void service_config_free(ServiceConfig *s) {
        exec_command_list_free(&s->exec_start, &s->n_exec_start);
        service_hooks_free(s->hooks);
        free(s->exit_status);
        free(s->limits);
        if (s->dirs)
                exec_dirs_done(s->dirs);
        free(s->dirs);
        if (s->process) {
                ServiceProcess *p = s->process;

                free(p->user);
                free(p->group);
                strv_free(p->supplementary_groups);
                free(p->working_directory);
                free(p->std_output_path);
                free(p->tty_path);
                free(p->pid_file);
                free(p->bus_name);
                free(p->std_error_path);
                service_process_environment_files_free(p);
                strv_free(p->environment);
                free(p);
        }
        if (s->extra)
                strv_free(s->extra->sockets);
        free(s->extra);
}

Unit *unit_free(Unit *u) {
        if (!u)
                return NULL;

        if (!u->name_in_path)
                free(u->name);
        free(u->description);
        strv_free(u->wanted_by);
        if (u->extra) {
                strv_free(u->extra->dropins);
                condition_list_free(&u->extra->conditions, &u->extra->n_conditions);
                free(u->extra);
        }
        if (u->type == UNIT_SOCKET)
                socket_config_free(&u->socket);
        else
                service_config_free(&u->service);
        free(u);
        return NULL;
}

/* ---- loading ---- */

static int on_lexer_item(const char *section, const char *key, const char *value, unsigned line,
                         void *userdata) {
        LoadContext *c = userdata;

        if (!key)
                return unit_keys_section(c, section, line);
        return unit_keys_assign(c, key, value, line);
}

/* Relays the lexer's diagnostics, counting errors. */
static void on_lexer_diag(int level, const char *file, unsigned line, const char *msg,
                          void *userdata) {
        LoadContext *c = userdata;

        load_report(c, level, file, line, "%s", msg);
}

/* Reads one file into the unit. file is owned by the unit; exactly one of f and text. */
static int load_one(LoadContext *c, const char *file, FILE *f, const char *text) {
        int r;

        c->file = file;
        c->section = SECTION_NONE;
        r = unit_lexer_parse(file, f, text, on_lexer_item, on_lexer_diag, c);
        if (r < 0)
                return r;
        /* UNIT_FILE_E_INVALID: already counted through on_lexer_diag(). */
        return 0;
}

uint64_t unit_stamp_mix(uint64_t h, uint64_t part) {
        return h ^ (part + UINT64_C(0x9e3779b97f4a7c15) + (h << 6) + (h >> 2));
}

uint64_t unit_stamp_file(const struct stat *st, const struct timespec *now) {
        int64_t age_usec = ((int64_t) now->tv_sec - (int64_t) st->st_mtim.tv_sec) * 1000000 +
                           ((int64_t) now->tv_nsec - (int64_t) st->st_mtim.tv_nsec) / 1000;
        uint64_t h = UINT64_C(14695981039346656037);

        if (age_usec < (int64_t) UNIT_STAMP_RACY_USEC)
                return 0;
        h = unit_stamp_mix(h, (uint64_t) st->st_dev);
        h = unit_stamp_mix(h, (uint64_t) st->st_ino);
        h = unit_stamp_mix(h, (uint64_t) st->st_size);
        h = unit_stamp_mix(h, (uint64_t) st->st_mtim.tv_sec);
        h = unit_stamp_mix(h, (uint64_t) st->st_mtim.tv_nsec);
        h = unit_stamp_mix(h, (uint64_t) st->st_ctim.tv_sec);
        h = unit_stamp_mix(h, (uint64_t) st->st_ctim.tv_nsec);
        return h != 0 ? h : 1;
}

#define UNIT_FILE_SLURP_MAX (1 << 20)

static int load_path(LoadContext *c, const char *file) {
        _cleanup_close_ int fd = -1;
        struct stat st;
        FILE *f;
        int r;

        fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = -errno;
                if (r == -ENOMEM)
                        return r;
                load_report(c, LOG_ERR, file, 0, "Failed to open unit file: %s", strerror(-r));
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                load_report(c, LOG_ERR, file, 0, "Not a regular file, refusing to read it");
                return 0;
        }
        uint64_t part = unit_stamp_file(&st, &c->now);
        if (part == 0)
                c->stamp_racy = true;
        else
                c->stamp = file == unit_path(c->u) ? part : unit_stamp_mix(c->stamp, part);
        /* An ordinary unit file is read in one go and lexed from memory: no stdio buffer, two
         * syscalls fewer per file, which counts with thousands of units. A big one (or one
         * with a NUL byte, which ends a line but not the file) goes through a FILE. */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (st.st_size >= 0 && st.st_size < UNIT_FILE_SLURP_MAX) {
                size_t cap = (size_t) st.st_size + 1;
                text = malloc(cap + 1);
                if (!text)
                        return -ENOMEM;
                for (;;) {
                        ssize_t k = read(fd, text + len, cap - len);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0) {
                                load_report(c, LOG_ERR, file, 0, "Failed to read unit file: %s",
                                            strerror(errno));
                                return 0;
                        }
                        if (k == 0)
                                break;
                        len += (size_t) k;
                        /* All of it: what was appended after this read is as if after it. */
                        if (len == (size_t) st.st_size)
                                break;
                        if (len == cap) { /* it grew since the fstat(): the stream does it */
                                free(TAKE_PTR(text));
                                break;
                        }
                }
        }
        if (text && !memchr(text, '\0', len)) {
                text[len] = '\0';
                r = load_one(c, file, NULL, text);
        } else {
                if (lseek(fd, 0, SEEK_SET) < 0)
                        return -errno;
                f = fdopen(fd, "r");
                if (!f)
                        return -errno;
                fd = -1; /* owned by f now */
                r = load_one(c, file, f, NULL);
                fclose(f);
        }
        if (r == -EIO) {
                load_report(c, LOG_ERR, file, 0, "Failed to read unit file");
                return 0;
        }
        return r;
}

/* A new unit named name, from the main file at path. The path is kept in the unit's own
 * allocation, after its type's configuration (unit_path()); the file is mostly named as the
 * unit: then the name is the path's, one allocation less again. */
static int unit_new(const char *name, UnitType type, const char *path, Unit **ret) {
        _cleanup_(unit_freep) Unit *u = NULL;
        size_t size = unit_size(type), len = strlen(path) + 1;
        const char *base;

        u = calloc(1, size + len);
        if (!u)
                return -ENOMEM;
        u->type = type;
        unit_defaults(u);
        memcpy((char *) u + size, path, len);
        base = strrchr(unit_path(u), '/');
        if (base && streq(base + 1, name)) {
                u->name = (char *) base + 1;
                u->name_in_path = true;
        } else {
                u->name = strdup(name);
                if (!u->name)
                        return -ENOMEM;
        }
        u->is_template = endswith(name, "@.service") || endswith(name, "@.socket");
        *ret = TAKE_PTR(u);
        return 0;
}

const char *socket_listen_text(const SocketListen *l, char *buf, size_t len) {
        if (l->text)
                return l->text;
        if (listen_type_has_address(l->type))
                return address_format(&l->address, buf, len);
        if (socket_listen_path(l))
                return l->path;
        snprintf(buf, len, "(none)"); /* a netlink entry always keeps its text */
        return buf;
}

/* The entry Symlinks= points to: the one unix socket path or FIFO of the unit, as systemd's
 * socket_find_symlink_target(). NULL when there is none, or more than one. */
const SocketListen *unit_socket_symlink_target(const Unit *u) {
        const SocketListen *found = NULL;

        for (size_t i = 0; i < u->socket.n_listens; i++) {
                const SocketListen *l = &u->socket.listens[i];

                if (l->type != LISTEN_FIFO && !(listen_type_has_address(l->type) &&
                                                l->address.kind == ADDRESS_UNIX_PATH))
                        continue;
                if (found)
                        return NULL;
                found = l;
        }
        return found;
}

static bool socket_has_listen(const SocketConfig *s, ListenType t) {
        for (size_t i = 0; i < s->n_listens; i++)
                if (s->listens[i].type == t)
                        return true;
        return false;
}

/* The socket checks that need every file read. */
static int socket_verify(LoadContext *c) {
        Unit *u = c->u;
        SocketConfig *s = &u->socket;
        const SocketOptions *o = socket_config_options(s);

        if (s->n_listens == 0 && !u->is_template)
                load_report(c, LOG_ERR, unit_path(u), 0,
                            "Socket unit has no Listen setting (ListenStream=, ListenDatagram=, "
                            "ListenSequentialPacket=, ListenFIFO=, ListenSpecial=, "
                            "ListenNetlink= or ListenMessageQueue=)");
        if (s->accept && o->service)
                load_report(c, LOG_ERR, c->service_origin.file, c->service_origin.line,
                            "Service= cannot be used with Accept=yes: each connection "
                            "starts an instance of the template NAME@.service");
        for (size_t i = 0; s->accept && i < s->n_listens; i++) {
                const SocketListen *l = &s->listens[i];
                char q[QUOTE_SIZE];

                if (l->type == LISTEN_STREAM || l->type == LISTEN_SEQPACKET)
                        continue;
                load_report(c, LOG_ERR, l->origin.file, l->origin.line,
                            "Accept=yes needs stream or sequential packet sockets, but "
                            "%s=%s cannot accept connections",
                            listen_type_to_string(l->type), cut(LISTEN_TEXT(l), q));
                break;
        }
        /* A template's entries may be read in its instances only (specifiers). */
        if (o->symlinks && !u->is_template && !unit_socket_symlink_target(u))
                load_report(c, LOG_ERR, c->symlinks_origin.file, c->symlinks_origin.line,
                            "Symlinks= needs exactly one unix socket path or FIFO to link to "
                            "(such as ListenStream=/run/app.sock or ListenFIFO=/run/app.fifo), "
                            "and this unit has none or more than one");
        if (o->writable && !u->is_template && !socket_has_listen(s, LISTEN_SPECIAL))
                load_report(c, LOG_WARNING, c->writable_origin.file, c->writable_origin.line,
                            "Writable= applies to ListenSpecial= only, and this unit has none, "
                            "ignoring");
        if ((o->mq_max_messages > 0) != (o->mq_message_size > 0))
                load_report(c, LOG_WARNING, c->mq_origin.file, c->mq_origin.line,
                            "MessageQueueMaxMessages= and MessageQueueMessageSize= take effect "
                            "only together (as in systemd): the kernel's defaults apply to "
                            "both, ignoring");
        else if (o->mq_max_messages > 0 && !u->is_template &&
                 !socket_has_listen(s, LISTEN_MQUEUE))
                load_report(c, LOG_WARNING, c->mq_origin.file, c->mq_origin.line,
                            "MessageQueueMaxMessages= and MessageQueueMessageSize= apply to "
                            "ListenMessageQueue= only, and this unit has none, ignoring");
        if (!c->trigger_limit_burst_set && s->accept) {
                SocketLimits *l = field(c, UNIT_GROUP_SOCKET_LIMITS, 0);

                if (!l)
                        return -ENOMEM;
                l->trigger_limit_burst = 200;
        }
        return 0;
}

/* The checks of a service unit that need every file read. */
static void service_verify(LoadContext *c) {
        Unit *u = c->u;
        ServiceConfig *s = &u->service;

        /* ReadyOn= and StandardInput= are in the group, made when either is set. */
        ServiceExtra *x = s->extra;

        /* As systemd's service_fix_stdio(): with StandardInput=socket, output left
         * as it is (inherit) goes to the same socket. */
        if (x && x->std_input == STD_INPUT_SOCKET && !c->std_output_set)
                s->std_output = STD_OUTPUT_SOCKET;
        if (x && x->std_input == STD_INPUT_SOCKET && !c->std_error_set &&
            s->std_output == STD_OUTPUT_SOCKET)
                s->std_error = STD_OUTPUT_SOCKET;
        /* ReadyOn=accept: started at the READY=1 the preloaded library sends, which may
         * come from a worker process. */
        if (x && x->ready_on_accept && (s->type == SERVICE_SIMPLE || s->type == SERVICE_EXEC))
                s->type = SERVICE_NOTIFY;
        else if (x && x->ready_on_accept && !service_type_is_notify(s->type)) {
                load_report(c, LOG_WARNING, unit_path(u), 0,
                            "ReadyOn=accept applies to Type=simple, exec, notify and "
                            "notify-reload services, not Type=%s; ignoring",
                            service_type_to_string(s->type));
                x->ready_on_accept = false;
        }
        if (x && x->ready_on_accept && !x->notify_access_set) {
                x->notify_access = NOTIFY_ACCESS_ALL;
                x->notify_access_set = true;
        }
        if (s->n_exec_start == 0)
                load_report(c, LOG_ERR, unit_path(u), 0, "Service has no ExecStart= setting");
        else if (s->n_exec_start > 1 && s->type != SERVICE_ONESHOT)
                load_report(c, LOG_ERR, s->exec_start[1].origin.file,
                            s->exec_start[1].origin.line,
                            "More than one ExecStart= command, which only Type=oneshot "
                            "services may have (an empty ExecStart= resets the list)");
        if (s->type == SERVICE_DBUS && !service_config_process(s)->bus_name)
                load_report(c, LOG_ERR, unit_path(u), 0,
                            "Type=dbus needs BusName=: the name whose appearance on the "
                            "system bus means the service is ready");
        if (s->type == SERVICE_ONESHOT &&
            (s->restart == SERVICE_RESTART_ALWAYS ||
             s->restart == SERVICE_RESTART_ON_SUCCESS))
                load_report(c, LOG_ERR, unit_path(u), 0,
                            "Restart=%s is not allowed for Type=oneshot services",
                            service_restart_to_string(s->restart));
}

/* Checks that need every file read: what a whole unit must have. Returns 0 or -ENOMEM. */
static int unit_verify(LoadContext *c) {
        if (c->u->type == UNIT_SOCKET)
                return socket_verify(c);
        service_verify(c);
        return 0;
}

/* Shared by both loaders: texts is NULL to read the files at the paths. */
static int unit_load(const char *name, const char *const *paths, const char *const *texts,
                     size_t n, UnitDiagFunc diag, void *userdata, Unit **ret) {
        _cleanup_(unit_freep) Unit *u = NULL;
        LoadContext c = {
                .diag = diag,
                .userdata = userdata,
        };
        UnitType type;
        int r;

        (void) clock_gettime(CLOCK_REALTIME, &c.now);
        type = unit_name_to_type(name);
        if (type < 0) {
                char q[QUOTE_SIZE];
                load_report(&c, LOG_ERR, n > 0 ? paths[0] : NULL, 0,
                            "Invalid unit name '%s': expected NAME.socket, NAME.service or "
                            "NAME@.service", cut(strna(name), q));
                return UNIT_FILE_E_INVALID;
        }
        if (n == 0 || !paths[0]) {
                load_report(&c, LOG_ERR, NULL, 0, "Unit %s has no unit file", name);
                return UNIT_FILE_E_INVALID;
        }
        if (n - 1 > UNIT_LIST_MAX) {
                load_report(&c, LOG_ERR, paths[0], 0, "Too many drop-ins (more than %u)",
                            UNIT_LIST_MAX);
                return UNIT_FILE_E_INVALID;
        }

        r = unit_new(name, type, paths[0], &u);
        if (r < 0)
                return r;
        c.u = u;
        if (n > 1) {
                UnitExtra *x = field(&c, UNIT_GROUP_UNIT_EXTRA, 0);

                if (!x)
                        return -ENOMEM;
                x->dropins = calloc(n, sizeof(char *));
                if (!x->dropins)
                        return -ENOMEM;
                for (size_t i = 1; i < n; i++) {
                        x->dropins[i - 1] = strdup(paths[i] ?: "");
                        if (!x->dropins[i - 1])
                                return -ENOMEM;
                }
        }

        for (size_t i = 0; i < n; i++) {
                const char *file = i == 0 ? unit_path(u) : unit_extra(u)->dropins[i - 1];
                if (texts)
                        r = load_one(&c, file, NULL, texts[i] ?: "");
                else
                        r = load_path(&c, file);
                if (r < 0)
                        return r;
        }

        unit_keys_finish(&c);
        r = unit_verify(&c);
        if (r < 0)
                return r;
        if (c.n_errors > 0)
                return UNIT_FILE_E_INVALID;
        /* Read from files, none of them racy: a reload may keep it while they stay so. */
        u->files_stamp = !texts && !c.stamp_racy ? (c.stamp != 0 ? c.stamp : 1) : 0;
        *ret = TAKE_PTR(u);
        return 0;
}

int unit_file_load(const char *name, const char *path, char *const *dropins, UnitDiagFunc diag,
                   void *userdata, Unit **ret) {
        _cleanup_free_ const char **paths = NULL;
        size_t n = strv_length(dropins);

        if (n > UNIT_LIST_MAX)
                n = UNIT_LIST_MAX + 1; /* unit_load() refuses it */
        paths = calloc(n + 1, sizeof(char *));
        if (!paths)
                return -ENOMEM;
        paths[0] = path;
        for (size_t i = 0; i < n; i++)
                paths[i + 1] = dropins[i];
        return unit_load(name, paths, NULL, path ? n + 1 : 0, diag, userdata, ret);
}

int unit_file_load_strings(const char *name, const char *const *paths, const char *const *texts,
                           size_t n_texts, UnitDiagFunc diag, void *userdata, Unit **ret) {
        _cleanup_free_ const char **p = NULL;

        if (!texts)
                n_texts = 0;
        p = calloc(n_texts + 1, sizeof(char *));
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < n_texts; i++)
                p[i] = paths && paths[i] ? paths[i] : name;
        return unit_load(name, p, texts, n_texts, diag, userdata, ret);
}
