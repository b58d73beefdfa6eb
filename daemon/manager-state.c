/* manager-state: daemon-reexec (SPEC §6). berthd writes its state (state.h) into a memfd,
 * clears FD_CLOEXEC on every fd it must keep, and execve()s itself (the binary at the path it
 * was started from, or another one) with --deserialize=FD. The new berthd reads its units from
 * the files, as a daemon-reload would, then takes back what the state names: each socket whose
 * unit and address are still there, the notify and control sockets, and each service's
 * processes, timers, counters, STATUS=, log lines, fd store and output pipes. Nothing is bound
 * again, nothing restarts, and connections wait in the kernel's queues meanwhile.
 *
 * Before anything is written, the new binary is run once with --state-version: a binary that
 * is missing, cannot run, exits at once or cannot read this state leaves the running berthd in
 * charge, unchanged, and the caller is told why. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/control-interface.h"
#include "common/log.h"
#include "common/macro.h"
#include "common/strv.h"
#include "daemon/control.h"
#include "daemon/manager.h"
#include "daemon/manager-state.h"
#include "daemon/proc-state.h"
#include "daemon/state.h"

#include <systemd/sd-event.h>

extern char **environ;

struct ManagerState {
        StateDoc doc;
        const StateSection *manager;
        StrMap listeners;  /* "unit\nname" -> its section */
        char **listener_keys;
        StrMap services;   /* unit name -> its section */
        int *named;        /* every fd the state names, sorted out once taken (-1) */
        size_t n_named;
        bool salvage;      /* no state: named holds every fd berthd was given */
};

/* ---- writing ---- */

static int keep(Manager *m, int fd) {
        return state_fds_add(&m->reexec_keep, &m->n_reexec_keep, fd);
}

static char *listener_key(const char *unit, const char *name) {
        char *k = NULL;

        return asprintf(&k, "%s\n%s", unit, name) < 0 ? NULL : k;
}

static int serialize_listener(Manager *m, FILE *f, const Listener *l) {
        char name[BIND_SPEC_NAME_MAX];

        if (l->fd < 0)
                return 0;
        state_write_section(f, "listener", l->spec.unit->name);
        state_write_str(f, "name", bind_spec_name(&l->spec, name, sizeof name));
        state_writef(f, "fd", "%d", l->fd);
        if (l->limits) {
                state_writef(f, "trigger", "%llu %u",
                             (unsigned long long) l->limits->trigger_window_start,
                             l->limits->trigger_count);
                state_writef(f, "poll", "%llu %u",
                             (unsigned long long) l->limits->poll_window_start,
                             l->limits->poll_count);
        }
        return keep(m, l->fd);
}

static int manager_serialize(Manager *m, FILE *f) {
        int r = 0;

        state_write_header(f);
        state_write_section(f, "manager", NULL);
        state_writef(f, "generation", "%u", m->generation + 1);
        state_writef(f, "n-reloads", "%u", m->n_reloads);
        if (m->notify) {
                state_writef(f, "notify-fd", "%d", m->notify->fd);
                r = keep(m, m->notify->fd);
        }
        if (r >= 0 && m->control) {
                state_writef(f, "control-fd", "%d", control_fd(m->control));
                r = keep(m, control_fd(m->control));
        }
        for (size_t i = 0; i < m->n_listeners && r >= 0; i++)
                r = serialize_listener(m, f, m->listeners[i]);
        for (size_t i = 0; i < m->n_accepts && r >= 0; i++) {
                const AcceptSocket *a = m->accepts[i];

                state_write_section(f, "accept", a->name);
                state_writef(f, "accepted", "%u", a->n_accepted);
                state_writef(f, "refused", "%u", a->n_refused);
        }
        for (size_t i = 0; i < m->n_services && r >= 0; i++) {
                Service *s = m->services[i];

                if (!service_own_unit(s)) {
                        r = service_serialize(s, f, "service", &m->reexec_keep,
                                              &m->n_reexec_keep);
                        continue;
                }
                /* An Accept=yes instance: its connection goes with it; once over, nothing. */
                if (!service_accept(s) || service_connection_fd(s) < 0)
                        continue;
                r = service_serialize(s, f, "instance", &m->reexec_keep, &m->n_reexec_keep);
                state_write_str(f, "socket", service_accept(s)->name);
                state_writef(f, "connection-fd", "%d", service_connection_fd(s));
                if (r >= 0)
                        r = keep(m, service_connection_fd(s));
        }
        state_write_end(f);
        return r;
}

/* ---- the new binary, tried first ---- */

/* Runs binary --state-version: it must print "berth-state N" with N at least ours, at once.
 * Returns 0, or a negative errno with why in err. */
static int probe_binary(const char *binary, char *err, size_t errlen) {
        char *argv[] = { (char *) binary, (char *) "--state-version", NULL };
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        sigset_t none;
        char out[128] = "";
        size_t len = 0;
        int p[2], status = 0, r;
        pid_t pid;
        struct stat st;
        unsigned v = 0;

        if (stat(binary, &st) < 0 || !S_ISREG(st.st_mode) || access(binary, X_OK) < 0) {
                r = errno ? -errno : -EACCES;
                snprintf(err, errlen, "cannot execute '%s': %s", binary,
                         S_ISREG(st.st_mode) || r != -EACCES ? strerror(-r) : "not a file");
                return r;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        sigemptyset(&none);
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
        posix_spawnattr_init(&attr);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
        r = posix_spawn(&pid, binary, &fa, &attr, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&attr);
        close(p[1]);
        if (r != 0) {
                close(p[0]);
                snprintf(err, errlen, "cannot execute '%s': %s", binary, strerror(r));
                return -r;
        }
        /* Bounded: 5 s for the whole answer. */
        for (int i = 0; i < 50 && len < sizeof out - 1; i++) {
                struct pollfd pfd = { .fd = p[0], .events = POLLIN };
                ssize_t n;

                if (poll(&pfd, 1, 100) == 0)
                        continue;
                n = read(p[0], out + len, sizeof out - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        close(p[0]);
        out[len] = '\0';
        (void) kill(pid, SIGKILL);
        (void) waitpid(pid, &status, 0);
        if (sscanf(out, STATE_MAGIC " %u", &v) != 1) {
                snprintf(err, errlen, "'%s --state-version' did not answer as berthd does "
                         "(it said '%.40s'): not re-executing", binary, strtok(out, "\n") ?: "");
                return -ENOEXEC;
        }
        if (v < STATE_VERSION) {
                snprintf(err, errlen, "'%s' reads berth states up to version %u, and this "
                         "berthd writes version %u: not re-executing", binary, v, STATE_VERSION);
                return -EPROTONOSUPPORT;
        }
        return 0;
}

static void reexec_reset(Manager *m) {
        m->reexec_memfd = safe_close(m->reexec_memfd);
        free(m->reexec_keep);
        m->reexec_keep = NULL;
        m->n_reexec_keep = 0;
        free(m->reexec_binary);
        m->reexec_binary = NULL;
}

int manager_reexec_prepare(Manager *m, const char *binary, char *err, size_t errlen) {
        int r;

        if (!m->self_exe || !m->self_argv) {
                snprintf(err, errlen, "berthd does not know the path it was started from");
                return -ENOENT;
        }
        if (m->reexec_binary) {
                snprintf(err, errlen, "a daemon-reexec is already under way");
                return -EBUSY;
        }
        binary = binary && *binary ? binary : m->self_exe;
        r = probe_binary(binary, err, errlen);
        if (r < 0)
                return r;
        m->reexec_binary = strdup(binary);
        return m->reexec_binary ? 0 : -ENOMEM;
}

/* The state, written into a memfd at the last moment: no event may change it after. */
static int write_state(Manager *m) {
        _cleanup_free_ char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);
        int r;

        if (!f)
                return -ENOMEM;
        r = manager_serialize(m, f);
        if (fclose(f) != 0 && r >= 0)
                r = -errno;
        if (r >= 0) {
                m->reexec_memfd = memfd_create("berth-state", MFD_CLOEXEC);
                if (m->reexec_memfd < 0)
                        r = -errno;
        }
        for (size_t done = 0; r >= 0 && done < size;) {
                ssize_t n = write(m->reexec_memfd, text + done, size - done);
                if (n < 0) {
                        r = -errno;
                        break;
                }
                done += (size_t) n;
        }
        if (r >= 0 && lseek(m->reexec_memfd, 0, SEEK_SET) < 0)
                r = -errno;
        if (r >= 0)
                log_info("daemon-reexec: state written (%zu bytes, %zu fds kept).", size,
                         m->n_reexec_keep);
        return r;
}

static void set_cloexec(int fd, bool on) {
        int flags = fcntl(fd, F_GETFD);

        if (flags >= 0)
                (void) fcntl(fd, F_SETFD, on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC);
}

int manager_reexec_now(Manager *m) {
        _cleanup_strv_free_ char **argv = NULL;
        bool options = true;
        size_t n = 0;
        int r, self = -1;

        if (!m->reexec_binary)
                return -EINVAL;
        /* The list of processes is written a moment after a change: write it now, so that a
         * berthd that cannot read the state still finds a service started just before. */
        if (m->proc_state)
                (void) proc_state_flush(m->proc_state);
        r = write_state(m);
        if (r < 0) {
                log_error_errno(r, "daemon-reexec: cannot write berthd's state: %m; berthd goes "
                                "on as it was");
                reexec_reset(m);
                return r;
        }
        /* This very binary (even if its path was replaced since), for the new one to go back
         * to if it cannot read the state. */
        self = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
        if (self < 0 || keep(m, self) < 0) {
                r = self < 0 ? -errno : -ENOMEM;
                safe_close(self);
                log_error_errno(r, "daemon-reexec: cannot open berthd's own binary: %m; berthd "
                                "goes on as it was");
                reexec_reset(m);
                return r;
        }
        argv = calloc(strv_length(m->self_argv) + 3, sizeof(char *));
        if (!argv) {
                reexec_reset(m);
                return log_oom();
        }
        /* Its arguments again, --deserialize first (ad-hoc mode's command follows "--"). */
        STRV_FOREACH(a, m->self_argv) {
                if (n == 1 && (asprintf(&argv[n++], "--deserialize=%d", m->reexec_memfd) < 0 ||
                               asprintf(&argv[n++], "--reexec-fallback=%d", self) < 0))
                        goto oom;
                if (options && (startswith(*a, "--deserialize=") ||
                                startswith(*a, "--reexec-fallback=") ||
                                streq(*a, "--reexec-failed")))
                        continue;
                if (streq(*a, "--"))
                        options = false;
                argv[n] = strdup(*a);
                if (!argv[n++])
                        goto oom;
        }
        if (n == 1 && (asprintf(&argv[n++], "--deserialize=%d", m->reexec_memfd) < 0 ||
                       asprintf(&argv[n++], "--reexec-fallback=%d", self) < 0))
                goto oom;

        for (size_t i = 0; i < m->n_reexec_keep; i++)
                set_cloexec(m->reexec_keep[i], false);
        set_cloexec(m->reexec_memfd, false);
        if (m->control)
                control_flush(m->control);
        log_info("daemon-reexec: executing %s.", m->reexec_binary);
        execve(m->reexec_binary, argv, environ);
        r = -errno;
        /* Still here: the running berthd stays in charge, as it was. */
        for (size_t i = 0; i < m->n_reexec_keep; i++)
                set_cloexec(m->reexec_keep[i], true);
        log_error_errno(r, "daemon-reexec: cannot execute '%s': %m; berthd goes on as it was",
                        m->reexec_binary);
        safe_close(self);
        reexec_reset(m);
        return r;
oom:
        safe_close(self);
        reexec_reset(m);
        return log_oom();
}

static int on_reexec(sd_event_source *es, void *userdata) {
        Manager *m = userdata;

        m->reexec_source = sd_event_source_disable_unref(m->reexec_source);
        (void) manager_reexec_now(m);
        return 0;
}

int manager_reexec_async(Manager *m, const char *binary, char *err, size_t errlen) {
        int r = manager_reexec_prepare(m, binary, err, errlen);

        if (r < 0)
                return r;
        /* After the answer to the caller went out, and after the events already due. */
        r = sd_event_add_defer(m->event, &m->reexec_source, on_reexec, m);
        if (r >= 0)
                r = sd_event_source_set_priority(m->reexec_source, SD_EVENT_PRIORITY_IDLE);
        if (r < 0) {
                m->reexec_source = sd_event_source_disable_unref(m->reexec_source);
                reexec_reset(m);
                snprintf(err, errlen, "cannot schedule the exec: %s", strerror(-r));
        }
        return r;
}

int manager_set_self(Manager *m, char **argv) {
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);

        m->self_argv = strv_copy(argv);
        if (!m->self_argv)
                return -ENOMEM;
        if (n <= 0)
                return 0; /* no /proc: daemon-reexec says so when asked */
        buf[n] = '\0';
        /* Replaced since it started (a package upgrade): the path is what counts. */
        if (endswith(buf, " (deleted)"))
                buf[n - strlen(" (deleted)")] = '\0';
        m->self_exe = strdup(buf);
        return m->self_exe ? 0 : -ENOMEM;
}

/* ---- reading ---- */

static void manager_state_free(ManagerState *st) {
        if (!st)
                return;
        strmap_done(&st->listeners);
        strmap_done(&st->services);
        strv_free(st->listener_keys);
        free(st->named);
        state_doc_done(&st->doc);
        free(st);
}

static int name_fd(ManagerState *st, const char *v) {
        char word[16];
        const char *rest;
        int fd;

        if (state_value_split(v, word, sizeof word, &rest) < 0 || state_value_int(word, &fd) < 0 ||
            fd < 3 || fcntl(fd, F_GETFD) < 0)
                return 0; /* not an fd it has: said when the field is read */
        return state_fds_add(&st->named, &st->n_named, fd);
}

/* Whether fd is one the state names and nobody took yet: then it is taken. */
static bool take_fd(int fd, void *userdata) {
        ManagerState *st = userdata;

        bool found = false;

        /* Every mention of it: a state that names one fd twice gives it once. */
        for (size_t i = 0; i < st->n_named; i++)
                if (st->named[i] == fd) {
                        st->named[i] = -1;
                        found = true;
                }
        if (found)
                set_cloexec(fd, true);
        return found;
}

static int index_state(ManagerState *st) {
        static const char *const fd_keys[] = { "fd", "notify-fd", "control-fd", "fdstore",
                                               "output", "connection-fd", "dynamic-user",
                                               "pidfd" };
        int r = 0;

        for (size_t i = 0; i < st->doc.n_sections && r >= 0; i++) {
                const StateSection *sec = &st->doc.sections[i];

                for (size_t j = 0; j < sec->n_fields && r >= 0; j++)
                        for (size_t k = 0; k < ELEMENTSOF(fd_keys); k++)
                                if (streq(sec->fields[j].key, fd_keys[k]))
                                        r = name_fd(st, sec->fields[j].value);
                if (streq(sec->kind, "manager"))
                        st->manager = sec;
                else if (streq(sec->kind, "service"))
                        r = strmap_contains(&st->services, sec->name) ? 0 :
                            strmap_put(&st->services, sec->name, (void *) sec);
                else if (streq(sec->kind, "listener")) {
                        const char *name = state_get(sec, "name");
                        char *key = name ? listener_key(sec->name, name) : NULL;

                        if (!key)
                                r = name ? -ENOMEM : 0;
                        else if (strv_consume(&st->listener_keys, key) < 0)
                                r = -ENOMEM;
                        else if (!strmap_contains(&st->listeners, key))
                                r = strmap_put(&st->listeners, key, (void *) sec);
                } else if (!streq(sec->kind, "instance") && !streq(sec->kind, "accept"))
                        log_warning("daemon-reexec: state line %u: unknown section '%s', "
                                    "skipped", sec->line, sec->kind);
        }
        return r;
}

int manager_state_load(Manager *m, int fd) {
        _cleanup_free_ char *text = NULL;
        ManagerState *st;
        char err[256];
        size_t len = 0, room = 0;
        int r;

        /* For the tests of what follows: a berthd that cannot read the state. */
        if (getenv("BERTH_STATE_REFUSE"))
                return log_error_errno(EPROTONOSUPPORT, "daemon-reexec: BERTH_STATE_REFUSE is "
                                       "set: refusing the state, as a berthd that cannot read "
                                       "it would");
        for (;;) {
                ssize_t n;

                if (len == room) {
                        char *t;

                        room = room ? room * 2 : 65536;
                        if (room > STATE_SIZE_MAX + 1 || !(t = realloc(text, room)))
                                return log_error_errno(room > STATE_SIZE_MAX ? EFBIG : ENOMEM,
                                                       "daemon-reexec: cannot read the state: "
                                                       "%m");
                        text = t;
                }
                n = pread(fd, text + len, room - len, (off_t) len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return log_error_errno(errno, "daemon-reexec: cannot read the state: %m");
                if (n == 0)
                        break;
                len += (size_t) n;
        }

        st = calloc(1, sizeof *st);
        if (!st)
                return log_oom();
        r = state_parse(text, len, &st->doc, err, sizeof err);
        if (r < 0) {
                manager_state_free(st);
                return log_error_errno(r, "daemon-reexec: the state cannot be read: %s", err);
        }
        r = index_state(st);
        if (r < 0) {
                manager_state_free(st);
                return log_oom();
        }
        if (st->manager) {
                const char *v = state_get(st->manager, "generation");
                if (v)
                        (void) state_value_uint(v, &m->generation);
                v = state_get(st->manager, "n-reloads");
                if (v)
                        (void) state_value_uint(v, &m->n_reloads);
        }
        m->reexec_state = st;
        log_info("daemon-reexec: state read (version %u, %zu sockets, %zu services).",
                 st->doc.version, st->listeners.n, st->services.n);
        return 0;
}

/* The state could not be read: back to the binary that wrote it, which can. Returns only when
 * that failed. */
static void reexec_fallback(Manager *m, int fallback_fd) {
        _cleanup_strv_free_ char **argv = NULL;
        size_t n = 0;

        argv = calloc(strv_length(m->self_argv) + 2, sizeof(char *));
        if (!argv) {
                log_oom();
                return;
        }
        STRV_FOREACH(a, m->self_argv) {
                if (n == 1 && !(argv[n++] = strdup("--reexec-failed")))
                        return;
                if (!startswith(*a, "--reexec-fallback=") && !(argv[n++] = strdup(*a)))
                        return;
        }
        /* BERTH_STATE_REFUSE=all: the previous binary refuses too (tests of the salvage). */
        if (!streq_ptr(getenv("BERTH_STATE_REFUSE"), "all"))
                (void) unsetenv("BERTH_STATE_REFUSE");
        log_warning("daemon-reexec: executing the previous binary again, with the state.");
        fexecve(fallback_fd, argv, environ);
        log_error_errno(errno, "daemon-reexec: cannot execute the previous binary: %m");
}

/* Every open fd from 3 up (this process's), into *fds of *n. Returns 0 or a negative errno. */
static int fds_open(int **fds, size_t *n) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int r = 0;

        if (!d)
                return -errno;
        while (r >= 0 && (de = readdir(d))) {
                int fd;

                if (state_value_int(de->d_name, &fd) >= 0 && fd >= 3 && fd != dirfd(d))
                        r = state_fds_add(fds, n, fd);
        }
        closedir(d);
        return r;
}

/* Neither this binary nor the one before can take the state: every fd berthd was given stays,
 * and the sockets are found by their addresses; the services start afresh. */
static void salvage(Manager *m, int state_fd, int fallback_fd) {
        ManagerState *st = calloc(1, sizeof *st);
        _cleanup_free_ int *fds = NULL;
        size_t n = 0;

        if (!st || fds_open(&fds, &n) < 0) {
                free(st);
                log_oom();
                return;
        }
        st->salvage = true;
        for (size_t i = 0; i < n; i++)
                if (fds[i] != state_fd && fds[i] != fallback_fd &&
                    state_fds_add(&st->named, &st->n_named, fds[i]) < 0)
                        break;
        m->reexec_state = st;
        m->reexec_salvage = true;
        log_warning("daemon-reexec: the state is lost: keeping the %zu fds berthd was given, its "
                    "sockets found by address; its services are stopped and start afresh",
                    st->n_named);
}

void manager_state_take_over(Manager *m, int state_fd, int fallback_fd, bool failed) {
        int r = manager_state_load(m, state_fd);

        if (r < 0 && fallback_fd >= 0)
                reexec_fallback(m, fallback_fd);
        if (r < 0)
                salvage(m, state_fd, fallback_fd);
        else if (failed && m->generation > 0) {
                /* The generation the caller waits for is not reached: it learns so. */
                m->generation--;
                log_error("daemon-reexec: the new binary could not take the state over; this "
                          "berthd goes on as it was.");
        }
        safe_close(state_fd);
        safe_close(fallback_fd);
}

/* Salvage: the fd of a socket of family and type bound at addr (len bytes), or -1. */
static int find_socket(ManagerState *st, int family, int socktype, const void *addr,
                       socklen_t len) {
        for (size_t i = 0; i < st->n_named; i++) {
                SockAddr sa = { .len = sizeof sa.raw };
                int fd = st->named[i], v = 0;
                socklen_t vl = sizeof v;

                if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &vl) < 0 || v != family ||
                    getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) < 0 || v != socktype ||
                    getsockname(fd, &sa.sa, &sa.len) < 0 || sa.len != len ||
                    memcmp(&sa.raw, addr, len) != 0)
                        continue;
                (void) take_fd(fd, st);
                return fd;
        }
        return -1;
}

static int find_unix(ManagerState *st, int socktype, const char *path) {
        struct sockaddr_un un = { .sun_family = AF_UNIX };
        size_t n = strlen(path);

        if (n >= sizeof un.sun_path)
                return -1;
        memcpy(un.sun_path, path, n);
        return find_socket(st, AF_UNIX, socktype, &un,
                           (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1));
}

static int manager_fd(ManagerState *st, const char *key) {
        const char *v = st && st->manager ? state_get(st->manager, key) : NULL;
        int fd;

        if (!v || state_value_int(v, &fd) < 0 || !take_fd(fd, st))
                return -1;
        return fd;
}

static int salvage_unix(Manager *m, const char *name, int socktype) {
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", m->runtime_dir, name) < 0)
                return -1;
        return find_unix(m->reexec_state, socktype, path);
}

int manager_state_notify_fd(Manager *m) {
        if (m->reexec_state && m->reexec_state->salvage)
                return salvage_unix(m, "notify", SOCK_DGRAM);
        return manager_fd(m->reexec_state, "notify-fd");
}

int manager_state_control_fd(Manager *m) {
        if (m->reexec_state && m->reexec_state->salvage)
                return salvage_unix(m, BERTH_CONTROL_SOCKET, SOCK_STREAM);
        return manager_fd(m->reexec_state, "control-fd");
}

int manager_state_listener_fd(Manager *m, Listener *l) {
        ManagerState *st = m->reexec_state;
        char name[BIND_SPEC_NAME_MAX];
        _cleanup_free_ char *key = NULL;
        const StateSection *sec;
        const char *v;
        int fd;

        if (!st)
                return -1;
        if (st->salvage) {
                SockAddr sa;

                return !bind_spec_addr(&l->spec, &sa) ? -1 :
                       find_socket(st, l->spec.family, l->spec.socktype, sa.raw, sa.len);
        }
        key = listener_key(l->spec.unit->name, bind_spec_name(&l->spec, name, sizeof name));
        sec = key ? strmap_get(&st->listeners, key) : NULL;
        v = sec ? state_get(sec, "fd") : NULL;
        if (!v || state_value_int(v, &fd) < 0 || !take_fd(fd, st))
                return -1;
        v = state_get(sec, "trigger");
        if (v && listener_limits(l))
                (void) sscanf(v, "%" SCNu64 " %u", &l->limits->trigger_window_start,
                              &l->limits->trigger_count);
        v = state_get(sec, "poll");
        if (v && listener_limits(l))
                (void) sscanf(v, "%" SCNu64 " %u", &l->limits->poll_window_start,
                              &l->limits->poll_count);
        return fd;
}

bool manager_state_restore_service(Manager *m, Service *s) {
        ManagerState *st = m->reexec_state;
        const StateSection *sec = st ? strmap_get(&st->services, s->unit->name) : NULL;

        if (!sec)
                return false;
        (void) service_deserialize(s, sec, NULL, take_fd, st);
        return true;
}

int manager_state_deserialize_service(Manager *m, Service *s, const StateSection *sec) {
        static const char *const own[] = { "socket", "connection-fd", NULL };

        return service_deserialize(s, sec, own, take_fd, m->reexec_state);
}

bool manager_state_take_fd(Manager *m, int fd) {
        return m->reexec_state && take_fd(fd, m->reexec_state);
}

void manager_state_foreach(Manager *m, const char *kind,
                          void (*fn)(Manager *m, const StateSection *sec)) {
        ManagerState *st = m->reexec_state;

        for (size_t i = 0; st && i < st->doc.n_sections; i++)
                if (streq(st->doc.sections[i].kind, kind))
                        fn(m, &st->doc.sections[i]);
}

static void restore_accept(Manager *m, const StateSection *sec) {
        AcceptSocket *a = strmap_get(&m->accepts_by_name, sec->name);
        const char *v;

        if (!a)
                return;
        if ((v = state_get(sec, "accepted")))
                (void) state_value_uint(v, &a->n_accepted);
        if ((v = state_get(sec, "refused")))
                (void) state_value_uint(v, &a->n_refused);
}

void manager_state_restore_accepts(Manager *m) {
        manager_state_foreach(m, "accept", restore_accept);
}

/* Closes every fd from 3 up that is not close-on-exec. Returns how many. */
static unsigned close_inherited(void) {
        _cleanup_free_ int *fds = NULL;
        size_t n = 0;
        unsigned closed = 0;

        (void) fds_open(&fds, &n);
        for (size_t i = 0; i < n; i++) {
                int flags = fcntl(fds[i], F_GETFD);

                if (flags >= 0 && !(flags & FD_CLOEXEC)) {
                        close(fds[i]);
                        closed++;
                }
        }
        return closed;
}

void manager_state_done(Manager *m) {
        ManagerState *st = m->reexec_state;
        unsigned n = 0;

        if (!st)
                return;
        /* What no unit took any more (a socket whose unit or address changed in the files). */
        for (size_t i = 0; i < st->n_named; i++)
                if (st->named[i] >= 0 && fcntl(st->named[i], F_GETFD) >= 0) {
                        close(st->named[i]);
                        n++;
                }
        /* And what the state does not name in a way this berthd knows (a newer berthd's
         * fields): every fd berthd keeps is close-on-exec, what it took back too, so an fd
         * without the flag now came across the exec and nobody took it. */
        n += close_inherited();
        if (n > 0)
                log_info("daemon-reexec: %u fd%s of the state no longer used: closed.", n,
                         n == 1 ? "" : "s");
        manager_state_free(st);
        m->reexec_state = NULL;
}
