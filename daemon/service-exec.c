/* service-exec: the real ServiceOps (service_ops_default). It turns a service's unit into a
 * process (environment, sockets and fd store in LISTEN_FDS order, output pipe, credentials)
 * through spawn, signals processes through their pidfds (service-pids.c), runs the service's
 * timers on sd-event, reads the clocks and watches the service's sockets through its
 * Listeners. The state machine in service.c knows none of this. */
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "config.h"
#include "common/env-util.h"
#include "common/log.h"
#include "common/strv.h"
#include "common/user-util.h"
#include "common/time-util.h"
#include "daemon/bind-shim.h"
#include "daemon/cgroup.h"
#include "daemon/exec-dirs.h"
#include "daemon/notify.h"
#include "daemon/service-internal.h"
#include "daemon/service.h"
#include "daemon/service-pids.h"
#include "daemon/specifier.h"
#include "daemon/spawn.h"

#define ENV_FILE_MAX (1U << 20)

static int read_file(const char *path, char **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;
        struct stat st;

        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if (st.st_size > ENV_FILE_MAX)
                return -EFBIG;
        buf = malloc(st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        while (n < (size_t) st.st_size) {
                ssize_t k = read(fd, buf + n, st.st_size - n);
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                n += k;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* *env = *env merged with more (more wins). */
static int env_merge_into(char ***env, char *const *more) {
        char **merged = NULL;
        int r = env_merge(*env, more, &merged);

        if (r < 0)
                return r;
        strv_free(*env);
        *env = merged;
        return 0;
}

static void exec_env_file_warn(const char *msg, void *userdata) {
        Service *s = userdata;

        log_warning("%s: %s", s->unit->name, msg);
}

/* The environment a process of this service gets: PATH, LANG and TZ from berthd, User='s
 * variables, base, then Environment=, then EnvironmentFile= (which wins, as in systemd), then
 * extra. */
static int service_build_env(Service *s, char *const *base, char *const *extra, char ***ret) {
        static const char *const passed[] = { "PATH", "LANG", "TZ" };
        const ServiceConfig *c = &s->unit->service;
        const ServiceProcess *sp = service_config_process(c);
        _cleanup_strv_free_ char **env = calloc(ELEMENTSOF(passed) + 1, sizeof(char *));
        size_t n = 0;
        int r;

        if (!env)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(passed); i++) {
                const char *v = getenv(passed[i]);
                if (!v && streq(passed[i], "PATH"))
                        v = SPAWN_DEFAULT_PATH;
                if (v && asprintf(&env[n++], "%s=%s", passed[i], v) < 0)
                        return -ENOMEM;
        }
        /* User=: $USER, $LOGNAME, $HOME and $SHELL of that user, as systemd sets them (before
         * Environment=, which may override them): no home or shell that means none. */
        if (sp->user) {
                _cleanup_free_ char *buf = NULL;
                struct passwd pw;
                uint32_t id;

                r = parse_user_id(sp->user, &id) ? user_lookup(NULL, id, &pw, &buf)
                                                 : user_lookup(sp->user, 0, &pw, &buf);
                if (r > 0) {
                        char *vars[] = { NULL, NULL, NULL, NULL, NULL };
                        const char *home, *shell;
                        size_t k = 2;
                        bool ok;

                        user_clean_home_shell(&pw, &home, &shell);
                        ok = asprintf(&vars[0], "USER=%s", pw.pw_name) >= 0 &&
                             asprintf(&vars[1], "LOGNAME=%s", pw.pw_name) >= 0 &&
                             (!home || asprintf(&vars[k++], "HOME=%s", home) >= 0) &&
                             (!shell || asprintf(&vars[k++], "SHELL=%s", shell) >= 0);
                        r = ok ? env_merge_into(&env, vars) : -ENOMEM;
                        for (size_t i = 0; i < 4; i++)
                                free(vars[i]);
                        if (r < 0)
                                return r;
                }
        }
        if (base && (r = env_merge_into(&env, base)) < 0)
                return r;
        if (sp->environment && (r = env_merge_into(&env, sp->environment)) < 0)
                return r;
        for (size_t i = 0; i < sp->n_environment_files; i++) {
                const EnvironmentFile *ef = &sp->environment_files[i];
                _cleanup_free_ char *text = NULL;
                _cleanup_strv_free_ char **fenv = NULL;
                char err[ENV_ERROR_MAX] = "out of memory";

                r = read_file(ef->path, &text);
                if (r < 0 && ef->optional) {
                        /* "-": as systemd, a file that cannot be loaded is skipped. */
                        if (r != -ENOENT)
                                log_warning_errno(r, "%s: cannot read EnvironmentFile=-%s: %m, "
                                                  "ignoring", s->unit->name, ef->path);
                        continue;
                }
                if (r < 0)
                        return log_error_errno(r, "%s: cannot read EnvironmentFile='%s': %m",
                                               s->unit->name, ef->path);
                r = env_file_parse(text, ef->path, exec_env_file_warn, s, &fenv, err,
                                   sizeof err);
                if (r < 0 && ef->optional) {
                        log_warning("%s: %s, ignoring EnvironmentFile=-%s", s->unit->name,
                                    err, ef->path);
                        continue;
                }
                if (r < 0) {
                        log_error("%s: %s", s->unit->name, err);
                        return r;
                }
                if ((r = env_merge_into(&env, fenv)) < 0)
                        return r;
        }
        if (extra && (r = env_merge_into(&env, extra)) < 0)
                return r;
        *ret = TAKE_PTR(env);
        return 0;
}

/* The main process's fds: its sockets in unit order, then the fd store, names and all. */
static int service_collect_fds(Service *s, int **ret_fds, char ***ret_names, size_t *ret_n) {
        size_t n = 0, max = s->n_listeners + s->run->n_fd_store;
        _cleanup_free_ int *fds = calloc(max + 1, sizeof(int));
        _cleanup_free_ char **names = calloc(max + 1, sizeof(char *));

        if (!fds || !names)
                return -ENOMEM;
        /* An Accept=yes instance gets its connection alone, as systemd passes it. */
        if (service_connection_fd(s) >= 0) {
                fds[n] = service_connection_fd(s);
                names[n++] = (char *) "connection";
        }
        for (size_t i = 0; service_connection_fd(s) < 0 && i < s->n_listeners; i++) {
                if (s->listeners[i]->fd < 0)
                        continue; /* not bound yet (retrying): the next start gets it */
                fds[n] = s->listeners[i]->fd;
                names[n++] = (char *) listener_fdname(s->listeners[i]);
        }
        for (size_t i = 0; i < s->run->n_fd_store; i++) {
                fds[n] = s->run->fd_store[i]->fd;
                names[n++] = s->run->fd_store[i]->name;
        }
        *ret_fds = TAKE_PTR(fds);
        *ret_names = TAKE_PTR(names);
        *ret_n = n;
        return 0;
}

/* BindShim= and ReadyOn=accept: libberth-bind.so first in the main process's LD_PRELOAD,
 * and what it is there for (BERTH_BIND_SHIM=1, or =inherit to keep the library in what the
 * program executes; BERTH_READY_ON=accept). Without the library a BindShim= service starts
 * with its own binds; a ReadyOn= one would never be ready, so it is not started. Returns 0 or
 * a negative errno (logged). */
static int exec_add_shim(Service *s, char ***env) {
        const ServiceExtra *c = service_extra(s);
        _cleanup_free_ char *lib = NULL, *preload = NULL;
        char *more[4] = {}, **merged = NULL;
        size_t n = 0;
        int r = bind_shim_library(&lib);

        if (r == -ENOENT && c->ready_on_accept)
                return log_error_errno(ENOENT, "%s: ReadyOn=accept needs libberth-bind.so, "
                                       "found neither next to berthd nor at '%s'; not "
                                       "starting it", s->unit->name, BERTH_BIND_SHIM_PATH);
        if (r == -ENOENT) {
                log_warning("%s: BindShim=yes, but libberth-bind.so is neither next to berthd "
                            "nor at '%s', ignoring", s->unit->name, BERTH_BIND_SHIM_PATH);
                return 0;
        }
        if (r < 0)
                return r;
        preload = bind_shim_preload_entry(*env, lib);
        if (!preload)
                return -ENOMEM;
        more[n++] = preload;
        if (c->bind_shim)
                more[n++] = (char *) (c->bind_shim_inherit ? "BERTH_BIND_SHIM=inherit" :
                                                             "BERTH_BIND_SHIM=1");
        if (c->ready_on_accept)
                more[n++] = (char *) "BERTH_READY_ON=accept";
        r = env_merge(*env, more, &merged);
        if (r < 0)
                return r;
        strv_free(*env);
        *env = merged;
        return 0;
}

static void exec_report_limit(void *userdata, const CGroupWrite *w, const char *why) {
        Service *s = userdata;

        if (!s->run->limits_told)
                log_warning("%s: %s= is not applied: %s.", s->unit->name, w->key, why);
}

/* The resource keys, written into the service's cgroup before each start (a daemon-reload may
 * have changed them); what cannot be applied is said at the first start. */
static void exec_apply_limits(Service *s) {
        const CGroupLimits *l = service_config_limits(&s->unit->service);
        CGroupWrite w[CGROUP_WRITES_MAX];
        size_t n;

        if (!cgroup_limits_any(l))
                return;
        if (!s->run->cgroup) {
                if (!s->run->limits_told)
                        log_warning("%s: its resource keys (TasksMax=, MemoryMax=, ...) are not "
                                    "applied: it has no cgroup.", s->unit->name);
                s->run->limits_told = true;
                return;
        }
        n = cgroup_limits_writes(l, cgroup_memory_total(), cgroup_tasks_total(), w);
        if (cgroup_apply_limits(s->ctx->cgroup_root, s->run->cgroup, w, n, exec_report_limit,
                                s) < 0)
                log_oom();
        s->run->limits_told = true;
}

/* A DynamicUser= uid in use, shared by the services that ask for the same user name (as in systemd). */
struct DynamicUser {
        char *name;
        uid_t uid;
        gid_t gid;
        int lock_fd;       /* -1: an existing user, used as is */
        unsigned n_ref;
        struct DynamicUser *next;
};

/* ---- RuntimeDirectory= and its siblings ---- */

/* Bounds of the walks below: a tree deeper than this is left as it is (and said). */
#define DIR_DEPTH_MAX 128

static const char *exec_getenv(const char *name) {
        return getenv(name);
}

typedef struct TreeOp {
        /* Called for each entry, before its children (pre) or after them (post). */
        int (*pre)(int at, const char *name, const struct stat *st, const struct TreeOp *op);
        int (*post)(int at, const char *name, const struct stat *st, const struct TreeOp *op);
        uid_t uid;
        gid_t gid;
        mode_t mask;
} TreeOp;

/* Walks name in at and, when it is a directory, everything below it, never following a
 * symlink, at most DIR_DEPTH_MAX levels deep. */
static int tree_walk(int at, const char *name, const TreeOp *op, unsigned depth) {
        struct stat st;
        DIR *d;
        int fd, r;

        if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        r = op->pre ? op->pre(at, name, &st, op) : 0;
        if (r < 0)
                return r;
        if (!S_ISDIR(st.st_mode))
                return op->post ? op->post(at, name, &st, op) : 0;
        if (depth >= DIR_DEPTH_MAX)
                return -ELOOP;
        fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        for (struct dirent *e; (e = readdir(d));) {
                if (streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                r = tree_walk(dirfd(d), e->d_name, op, depth + 1);
                if (r < 0)
                        break;
        }
        closedir(d);
        return r >= 0 && op->post ? op->post(at, name, &st, op) : r;
}

/* chown, and chmod to drop what mask does not allow, as systemd's path_chown_recursive(). */
static int tree_chown_one(int at, const char *name, const struct stat *st, const TreeOp *op) {
        if (fchownat(at, name, op->uid, op->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!S_ISLNK(st->st_mode) && (st->st_mode & 07777 & ~op->mask) &&
            fchmodat(at, name, st->st_mode & 07777 & op->mask, 0) < 0)
                return -errno;
        return 0;
}

static int tree_remove_one(int at, const char *name, const struct stat *st, const TreeOp *op) {
        if (unlinkat(at, name, S_ISDIR(st->st_mode) ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* mkdir -p of path's parents, mode 0755 (they stay berthd's). */
static int mkdir_parents(const char *path) {
        _cleanup_free_ char *p = strdup(path);

        if (!p)
                return -ENOMEM;
        for (char *slash = strchr(p + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -errno;
                *slash = '/';
        }
        return 0;
}

/* One directory of kind t, as systemd's setup_exec_directory() makes it: parents 0755, the
 * directory itself with its mode, and (system mode, but never the configuration directory)
 * owned by uid:gid with everything in it when its owner is not that already. */
static int exec_make_dir(Service *s, ExecDirType t, const char *path, bool chown_it, uid_t uid,
                         gid_t gid) {
        mode_t mode = service_config_dirs(&s->unit->service)->mode[t];
        mode_t mask = service_config_process(&s->unit->service)->dynamic_user ? 01777 : 07777;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        r = mkdir_parents(path);
        if (r < 0)
                return r;
        if (mkdir(path, mode) < 0) {
                if (errno != EEXIST)
                        return -errno;
                if (t == EXEC_DIR_CONFIGURATION) {
                        /* Not the service's to write: its owner and mode are left alone. */
                        if (stat(path, &st) < 0)
                                return -errno;
                        if ((st.st_mode ^ mode) & 07777)
                                log_warning("%s: %s '%s' already exists with mode %04o, not "
                                            "%s=%04o, ignoring", s->unit->name,
                                            exec_dir_type_to_string(t), path,
                                            (unsigned) (st.st_mode & 07777),
                                            "ConfigurationDirectoryMode", (unsigned) mode);
                        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
                }
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* mkdir() took the umask off; the mode is what the unit says. */
        if ((st.st_mode & 07777) != mode && fchmod(fd, mode) < 0)
                return -errno;
        if (!chown_it || t == EXEC_DIR_CONFIGURATION || (st.st_uid == uid && st.st_gid == gid))
                return 0;
        return tree_walk(fd, ".", &(TreeOp) { .pre = tree_chown_one, .uid = uid, .gid = gid,
                                              .mask = mask }, 0);
}

/* Who the service's directories belong to: its DynamicUser= uid, User= (and Group=), else
 * berthd's own user. Returns 0, or a negative errno (logged). */
static int exec_dirs_owner(Service *s, uid_t *ret_uid, gid_t *ret_gid) {
        const ServiceConfig *c = &s->unit->service;
        const ServiceProcess *sp = service_config_process(c);
        int r;

        *ret_uid = geteuid();
        *ret_gid = getegid();
        if (s->run->dynamic_user && s->run->dynamic_user->lock_fd >= 0) {
                *ret_uid = s->run->dynamic_user->uid;
                *ret_gid = s->run->dynamic_user->gid;
                return 0;
        }
        if (sp->user) {
                r = user_resolve(sp->user, ret_uid, ret_gid);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot look up User='%s' for its "
                                               "directories: %s", s->unit->name, sp->user,
                                               r == -ESRCH ? "no such user" : "%m");
        }
        if (sp->group) {
                r = group_resolve(sp->group, ret_gid);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot look up Group='%s' for its "
                                               "directories: %s", s->unit->name, sp->group,
                                               r == -ESRCH ? "no such group" : "%m");
        }
        return 0;
}

/* Creates the service's directories (before each of its processes, as systemd does) and
 * appends $RUNTIME_DIRECTORY and friends to *env. Returns 0, or a negative errno (logged). */
static int exec_setup_dirs(Service *s, char ***env) {
        const ExecDirs *d = service_config_dirs(&s->unit->service);
        bool user_mode = specifier_get_env()->user_mode;
        uid_t uid;
        gid_t gid;
        int r;

        if (!exec_dirs_any(d))
                return 0;
        r = exec_dirs_owner(s, &uid, &gid);
        if (r < 0)
                return r;
        for (ExecDirType t = 0; t < _EXEC_DIR_TYPE_MAX; t++) {
                _cleanup_free_ char *root = NULL, *var = NULL;

                if (!d->names[t] || !d->names[t][0])
                        continue;
                r = exec_dir_root(t, user_mode, exec_getenv, &root);
                if (r == -ENXIO)
                        return log_error_errno(r, "%s: no place for its %s=: %s is not set",
                                               s->unit->name, exec_dir_type_to_string(t),
                                               t == EXEC_DIR_RUNTIME ? "$XDG_RUNTIME_DIR"
                                                                     : "$HOME");
                if (r < 0)
                        return r;
                STRV_FOREACH(n, d->names[t]) {
                        _cleanup_free_ char *path = exec_dir_path(root, *n);

                        if (!path)
                                return -ENOMEM;
                        /* An unprivileged manager cannot give files away, as in systemd. */
                        r = exec_make_dir(s, t, path, !user_mode && geteuid() == 0, uid, gid);
                        if (r < 0)
                                return log_error_errno(r, "%s: cannot set up %s '%s': %m",
                                                       s->unit->name,
                                                       exec_dir_type_to_string(t), path);
                }
                r = exec_dirs_env(d, t, root, &var);
                if (r < 0)
                        return r;
                r = strv_consume(env, TAKE_PTR(var));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The run is over: RuntimeDirectory= goes, unless RuntimeDirectoryPreserve= keeps it. */
static void exec_remove_runtime_dirs(Service *s, bool restarting) {
        const ExecDirs *d = service_config_dirs(&s->unit->service);
        _cleanup_free_ char *root = NULL;

        if (!d->names[EXEC_DIR_RUNTIME] || !exec_dirs_remove_runtime(d->runtime_preserve,
                                                                     restarting))
                return;
        if (exec_dir_root(EXEC_DIR_RUNTIME, specifier_get_env()->user_mode, exec_getenv,
                          &root) < 0)
                return;
        STRV_FOREACH(n, d->names[EXEC_DIR_RUNTIME]) {
                _cleanup_free_ char *path = exec_dir_path(root, *n);
                int r;

                if (!path) {
                        log_oom();
                        return;
                }
                r = tree_walk(AT_FDCWD, path, &(TreeOp) { .post = tree_remove_one }, 0);
                if (r < 0)
                        log_warning_errno(r, "%s: cannot remove RuntimeDirectory= '%s': %m, "
                                          "ignoring", s->unit->name, path);
        }
}

/* ---- DynamicUser= ---- */

/* Where the uids berthd hands out are locked, one file per uid (flock()ed while in use, and
 * holding the user's name): the same for every berthd on the host, so two never hand out the
 * same uid. systemd's own are in /run/systemd/dynamic-uid/, and visible through getpwuid()
 * where nss-systemd is set up, which the check below consults. */
#define DYNAMIC_UID_DIR "/run/berth/dynamic-uid"
#define DYNAMIC_UID_TRIES 64

static struct DynamicUser *dynamic_users;

static void dynamic_user_unref(struct DynamicUser *u) {
        char path[sizeof DYNAMIC_UID_DIR + 16];

        if (!u || --u->n_ref > 0)
                return;
        for (struct DynamicUser **p = &dynamic_users; *p; p = &(*p)->next)
                if (*p == u) {
                        *p = u->next;
                        break;
                }
        if (u->lock_fd >= 0) {
                /* Unlinked while still locked: a berthd that opened it just before sees a
                 * file with no link once it has the lock, and tries again. */
                snprintf(path, sizeof path, DYNAMIC_UID_DIR "/%u", (unsigned) u->uid);
                (void) unlink(path);
                log_info("DynamicUser=: uid %u of '%s' released", (unsigned) u->uid, u->name);
                safe_close(u->lock_fd);
        }
        free(u->name);
        free(u);
}

bool service_dynamic_user_get(const Service *s, const char **ret_name, uid_t *ret_uid,
                              gid_t *ret_gid, int *ret_lock_fd) {
        const struct DynamicUser *u = s->run->dynamic_user;

        if (!u)
                return false;
        *ret_name = u->name;
        *ret_uid = u->uid;
        *ret_gid = u->gid;
        *ret_lock_fd = u->lock_fd;
        return true;
}

bool service_dynamic_user_share(Service *s, const char *name, uid_t uid) {
        for (struct DynamicUser *u = dynamic_users; u; u = u->next)
                if (streq(u->name, name) && u->uid == uid) {
                        u->n_ref++;
                        s->run->dynamic_user = u;
                        return true;
                }
        return false;
}

int service_dynamic_user_adopt(Service *s, const char *name, uid_t uid, gid_t gid,
                               int lock_fd) {
        struct DynamicUser *u = calloc(1, sizeof *u);

        if (!u || !(u->name = strdup(name))) {
                free(u);
                return -ENOMEM;
        }
        u->uid = uid;
        u->gid = gid;
        u->lock_fd = lock_fd;
        u->n_ref = 1;
        u->next = dynamic_users;
        dynamic_users = u;
        s->run->dynamic_user = u;
        return 0;
}

/* Locks uid for name. Returns the lock fd, -EBUSY when the uid is taken (locked by someone,
 * or in the user or group database), or another negative errno. */
static int dynamic_uid_try(uid_t uid, const char *name) {
        char path[sizeof DYNAMIC_UID_DIR + 16], *buf = NULL;
        _cleanup_close_ int fd = -1;
        struct passwd pw;
        struct group gr;
        struct stat st;
        int r;

        snprintf(path, sizeof path, DYNAMIC_UID_DIR "/%u", (unsigned) uid);
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_nlink == 0)
                return -EBUSY; /* released and unlinked under us: try another */
        r = user_lookup(NULL, uid, &pw, &buf);
        free(buf);
        buf = NULL;
        if (r == 0) {
                r = group_lookup(NULL, (gid_t) uid, &gr, &buf);
                free(buf);
        }
        if (r != 0) {
                (void) unlink(path);
                return r < 0 ? r : -EBUSY;
        }
        if (ftruncate(fd, 0) < 0 || dprintf(fd, "%s\n", name) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* The uid (and gid of the same number) of a DynamicUser= service for this run: a hash of its
 * user name first, so it keeps its uid while that is free, then others of the range; or the
 * user of that name when one exists, as systemd does. Never root by accident: any failure
 * fails the start. Returns 0 or a negative errno (logged). */
static int exec_dynamic_user_acquire(Service *s) {
        const ServiceConfig *c = &s->unit->service;
        const ServiceProcess *sp = service_config_process(c);
        _cleanup_free_ char *name = NULL, *buf = NULL;
        _cleanup_free_ struct DynamicUser *u = NULL;
        unsigned long seed;
        struct passwd pw;
        int r, fd = -EBUSY;

        if (!sp->dynamic_user || s->run->dynamic_user)
                return 0;
        if (specifier_get_env()->user_mode || geteuid() != 0)
                return log_error_errno(-EPERM, "%s: DynamicUser=yes needs berthd in system mode, "
                                       "as root, to switch to a uid of its own; it is not "
                                       "started (it would otherwise run as berthd's user)",
                                       s->unit->name);
        name = sp->user ? strdup(sp->user) : dynamic_user_name_from_unit(s->unit->name);
        if (!name)
                return -ENOMEM;
        for (struct DynamicUser *i = dynamic_users; i; i = i->next)
                if (streq(i->name, name)) {
                        i->n_ref++;
                        s->run->dynamic_user = i;
                        return 0;
                }
        u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        u->lock_fd = -1;
        u->n_ref = 1;
        r = sp->user ? user_lookup(sp->user, 0, &pw, &buf) : 0;
        if (r < 0) {
                return log_error_errno(r, "%s: DynamicUser=yes: cannot look up user '%s': %m; "
                                       "it is not started", s->unit->name, sp->user);
        }
        if (r > 0) {
                log_info("%s: DynamicUser=yes: user '%s' exists, so it is used as is, as "
                         "systemd does", s->unit->name, sp->user);
                u->uid = pw.pw_uid;
                u->gid = pw.pw_gid;
        } else {
                /* systemd keeps a dynamic user's state, cache and logs under
                 * /var/lib/private/ and friends (mode 0700), which only the service's own
                 * mount namespace opens again: without one the service could not reach
                 * them, and a uid handed out again later would own the files. */
                const ExecDirs *d = service_config_dirs(c);

                if (d->names[EXEC_DIR_STATE] || d->names[EXEC_DIR_CACHE] ||
                    d->names[EXEC_DIR_LOGS]) {
                        return log_error_errno(-EOPNOTSUPP, "%s:%u: %s: DynamicUser=yes with "
                                               "StateDirectory=, CacheDirectory= or "
                                               "LogsDirectory= is not supported by berth (it "
                                               "sets up no mount namespace to keep them "
                                               "private); it is not started. Give it a User= "
                                               "that exists, or drop the directory",
                                               strempty(sp->dynamic_user_origin.file),
                                               sp->dynamic_user_origin.line, s->unit->name);
                }
                if (!dynamic_user_name_is_valid(name)) {
                        return log_error_errno(-EINVAL, "%s: DynamicUser=yes: '%s' is not a "
                                               "valid user name", s->unit->name, name);
                }
                if (mkdir("/run/berth", 0755) < 0 && errno != EEXIST)
                        fd = -errno;
                else if (mkdir(DYNAMIC_UID_DIR, 0755) < 0 && errno != EEXIST)
                        fd = -errno;
                seed = (unsigned long) time_now(CLOCK_MONOTONIC) ^ (unsigned long) getpid();
                for (unsigned i = 0; i < DYNAMIC_UID_TRIES && fd == -EBUSY; i++) {
                        u->uid = dynamic_uid_candidate(name, i, seed);
                        fd = dynamic_uid_try(u->uid, name);
                }
                if (fd < 0) {
                        return log_error_errno(fd, "%s: DynamicUser=yes: no free uid in %u-%u "
                                               "for '%s' (%s): it is not started",
                                               s->unit->name, DYNAMIC_UID_MIN, DYNAMIC_UID_MAX,
                                               name, fd == -EBUSY ? "all tried are taken" : "%m");
                }
                u->gid = (gid_t) u->uid;
                u->lock_fd = fd;
                log_info("%s: DynamicUser=yes: runs as uid %u and gid %u ('%s')", s->unit->name,
                         (unsigned) u->uid, (unsigned) u->gid, name);
        }
        u->name = TAKE_PTR(name);
        u->next = dynamic_users;
        dynamic_users = s->run->dynamic_user = TAKE_PTR(u);
        return 0;
}

static void exec_run_over(Service *s, bool restarting) {
        exec_remove_runtime_dirs(s, restarting);
        dynamic_user_unref(s->run->dynamic_user);
        s->run->dynamic_user = NULL;
}

/* The run's INVOCATION_ID= (new at each start), and the service's cgroup, made on first use.
 * Without a cgroup the service runs all the same: its processes are found by the id. */
static int exec_prepare_run(Service *s) {
        sd_id128_t id;
        int r;

        if (!s->run->invocation_id[0]) {
                r = sd_id128_randomize(&id);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot make an INVOCATION_ID: %m",
                                               s->unit->name);
                sd_id128_to_string(id, s->run->invocation_id);
        }
        if (s->ctx->cgroup_root && !s->run->cgroup) {
                r = cgroup_create(s->ctx->cgroup_root, s->unit->name, &s->run->cgroup);
                if (r < 0)
                        log_warning_errno(r, "%s: cannot create its cgroup under %s: %m; its "
                                          "processes are found by INVOCATION_ID= instead",
                                          s->unit->name, s->ctx->cgroup_root);
        } else if (s->run->cgroup) {
                /* A new cgroup for each run that finds the last one empty: spawn creates the
                 * process in it, which the kernel may refuse in a cgroup that was ever killed
                 * through cgroup.kill, as the end of each run kills it (see spawn.c). One that
                 * still holds processes is used as it is. */
                r = cgroup_remove(s->run->cgroup);
                if (r == -ENOENT)
                        /* Someone removed it (rmdir of an empty cgroup always works). */
                        log_warning("%s: its cgroup %s is gone; making it again", s->unit->name,
                                    s->run->cgroup);
                if (r >= 0 || r == -ENOENT) {
                        r = cgroup_recreate(s->ctx->cgroup_root, s->run->cgroup);
                        if (r < 0)
                                log_warning_errno(r, "%s: cannot make %s again: %m",
                                                  s->unit->name, s->run->cgroup);
                }
        }
        exec_apply_limits(s);
        return 0;
}

/* The file of StandardOutput=file:/append:/truncate:/tty (or StandardError=), opened by
 * berthd (as systemd's manager does, with its privileges) for the child to write, in *ret_fd
 * (-1 when kind is no file). Returns 0, or a negative errno (logged). */
static int exec_open_output(Service *s, StdOutput kind, const char *path, int *ret_fd) {
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY;

        *ret_fd = -1;
        switch (kind) {
        case STD_OUTPUT_TTY:
                /* A terminal is written, never made the controlling one (O_NOCTTY). */
                path = service_config_process(&s->unit->service)->tty_path ?: "/dev/console";
                flags = O_WRONLY | O_CLOEXEC | O_NOCTTY;
                break;
        case STD_OUTPUT_FILE:
                break;
        case STD_OUTPUT_APPEND:
                flags |= O_APPEND;
                break;
        case STD_OUTPUT_TRUNCATE:
                flags |= O_TRUNC;
                break;
        case STD_OUTPUT_LOG:
        case STD_OUTPUT_INHERIT:
        case STD_OUTPUT_NULL:
        case STD_OUTPUT_SOCKET:
        case _STD_OUTPUT_MAX:
        case _STD_OUTPUT_INVALID:
        default:
                return 0;
        }
        *ret_fd = open(path, flags, 0666);
        if (*ret_fd < 0)
                return log_error_errno(errno, "%s: cannot open '%s' for its output: %m",
                                       s->unit->name, path);
        return 0;
}

static int exec_spawn(Service *s, const ExecCommand *cmd, bool main, char *const *extra_env,
                      pid_t *ret_pid) {
        const ServiceConfig *c = &s->unit->service;
        const ServiceProcess *sp = service_config_process(c);
        _cleanup_strv_free_ char **env = NULL, **argv = NULL, **base = NULL;
        _cleanup_free_ int *fds = NULL;
        _cleanup_free_ char **names = NULL;
        char err[SPAWN_ERROR_MAX], notify[sizeof(struct sockaddr_un) + 32], wd[64], inv[64];
        char remote_addr[ACCEPT_REMOTE_ADDR_MAX] = "", remote_port[ACCEPT_REMOTE_PORT_MAX] = "";
        char dyn_uid[16], dyn_gid[16];
        char *more[10] = {};
        size_t n_more = 0, n_fds = 0;
        OutputStream *stream = NULL;
        _cleanup_close_ int out_file = -1, err_file = -1;
        int out = -1, pidfd = -1, r, stdin_fd, stdout_fd, stderr_fd;
        bool privileged = cmd->full_privileges || cmd->no_setuid;

        r = exec_prepare_run(s);
        if (r < 0)
                return r;
        snprintf(inv, sizeof inv, "INVOCATION_ID=%s", s->run->invocation_id);
        more[n_more++] = inv;

        /* $NOTIFY_SOCKET only for a process NotifyAccess= lets notify, as systemd passes it
         * (service.c, service_exec_needs_notify_socket()): none for none, the main process for
         * main, control processes too for exec and all. The main process learns its watchdog
         * interval. */
        if (s->ctx->notify_path &&
            notify_access_allows(service_notify_access(s),
                                 main ? NOTIFY_ROLE_MAIN : NOTIFY_ROLE_CONTROL)) {
                snprintf(notify, sizeof notify, "NOTIFY_SOCKET=%s", s->ctx->notify_path);
                more[n_more++] = notify;
        }
        if (main && s->run->watchdog_usec > 0) {
                snprintf(wd, sizeof wd, "WATCHDOG_USEC=%llu",
                         (unsigned long long) s->run->watchdog_usec);
                more[n_more++] = wd;
        }
        if (s->instance && s->instance->peer)
                (void) accept_remote_env(s->instance->peer, remote_addr, remote_port);
        if (remote_addr[0])
                more[n_more++] = remote_addr;
        if (remote_port[0])
                more[n_more++] = remote_port;
        for (char *const *e = extra_env; e && *e && n_more < ELEMENTSOF(more) - 1; e++)
                more[n_more++] = *e;
        /* DynamicUser= first: its uid owns the directories. */
        r = exec_dynamic_user_acquire(s);
        if (r < 0)
                return r;
        if (s->run->dynamic_user && s->run->dynamic_user->lock_fd >= 0) {
                snprintf(dyn_uid, sizeof dyn_uid, "%u", (unsigned) s->run->dynamic_user->uid);
                snprintf(dyn_gid, sizeof dyn_gid, "%u", (unsigned) s->run->dynamic_user->gid);
                char *user = NULL, *logname = NULL;
                if (asprintf(&user, "USER=%s", s->run->dynamic_user->name) < 0 ||
                    strv_consume(&base, user) < 0 ||
                    asprintf(&logname, "LOGNAME=%s", s->run->dynamic_user->name) < 0 ||
                    strv_consume(&base, logname) < 0)
                        return -ENOMEM;
        }
        r = exec_setup_dirs(s, &base);
        if (r < 0)
                return r;
        r = service_build_env(s, base, more, &env);
        if (r < 0)
                return r;
        if (main && (r = service_collect_fds(s, &fds, &names, &n_fds)) < 0)
                return r;
        if (main && (service_extra(s)->bind_shim || service_extra(s)->ready_on_accept) &&
            (r = exec_add_shim(s, &env)) < 0)
                return r;
        /* ":": the words as written, $VAR and all. */
        if (cmd->no_env_expand) {
                argv = strv_copy(cmd->argv);
                r = argv ? 0 : -ENOMEM;
        } else
                r = exec_expand(cmd->argv, env, &argv);
        if (r < 0)
                return log_error_errno(r, "%s: cannot expand the command line of %s:%u: %m",
                                       s->unit->name, strempty(cmd->origin.file),
                                       cmd->origin.line);
        r = exec_open_output(s, c->std_output, sp->std_output_path, &out_file);
        if (r < 0)
                return r;
        /* Both to the same file: one open file, as systemd shares it. */
        if (c->std_error == c->std_output && streq_ptr(sp->std_error_path, sp->std_output_path) &&
            out_file >= 0)
                err_file = fcntl(out_file, F_DUPFD_CLOEXEC, 3);
        else
                r = exec_open_output(s, c->std_error, sp->std_error_path, &err_file);
        if (r < 0)
                return r;
        if (c->std_output == STD_OUTPUT_LOG || c->std_error == STD_OUTPUT_LOG) {
                out = service_output_new(s, &stream);
                if (out < 0)
                        return out;
        }
        /* StandardInput=socket and StandardOutput=socket: an instance's connection. */
        stdin_fd = service_extra(s)->std_input == STD_INPUT_SOCKET ? service_connection_fd(s) : -1;
        stdout_fd = c->std_output == STD_OUTPUT_LOG ? out :
                    c->std_output == STD_OUTPUT_SOCKET ? service_connection_fd(s) :
                    c->std_output == STD_OUTPUT_INHERIT ?
                    (stdin_fd >= 0 ? stdin_fd : STDOUT_FILENO) : out_file;
        /* StandardError=inherit is "the same as standard output", as in systemd. */
        stderr_fd = c->std_error == STD_OUTPUT_LOG ? out :
                    c->std_error == STD_OUTPUT_SOCKET ? service_connection_fd(s) :
                    c->std_error == STD_OUTPUT_INHERIT ? stdout_fd : err_file;
        /* A DynamicUser= uid allocated for this run (not one that exists). */
        bool dyn = s->run->dynamic_user && s->run->dynamic_user->lock_fd >= 0;

        SpawnParams p = {
                .path = cmd->path,
                .argv = argv,
                .envp = env,
                .fds = fds,
                .fd_names = names,
                .n_fds = n_fds,
                .non_blocking = s->non_blocking,
                /* During an overlap the old process still serves on these sockets, in the
                 * mode it set: flipping O_NONBLOCK (shared by every copy) under it would make
                 * its accept() block, and strand what it has accepted. */
                .keep_file_status = main && s->run->old_main_pid > 0,
                .stdin_fd = stdin_fd,
                .stdout_fd = stdout_fd,
                .stderr_fd = stderr_fd,
                /* "+" and "!": berthd's own credentials, as systemd's manager has them (with
                 * DynamicUser=, the user is allocated all the same, and not switched to). */
                .user = privileged ? NULL : dyn ? dyn_uid : sp->user,
                .group = privileged ? NULL : dyn ? dyn_gid : sp->group,
                .supplementary_groups = privileged ? NULL : sp->supplementary_groups,
                /* Without WorkingDirectory=, / (the user's home with --user, which need not
                 * exist: then /), as in systemd, never berthd's own. */
                .working_directory = sp->working_directory ?:
                                     (specifier_get_env()->user_mode ? "~" : "/"),
                .working_directory_optional = sp->working_directory_optional ||
                                              (!sp->working_directory &&
                                               specifier_get_env()->user_mode),
                .umask = sp->umask,
                .set_limit_nofile = sp->limit_nofile_set,
                .limit_nofile_soft = sp->limit_nofile_soft,
                .limit_nofile_hard = sp->limit_nofile_hard,
                /* "+" skips the sandboxing too; "!" only the credentials. */
                .no_new_privileges = sp->no_new_privileges && !cmd->full_privileges,
                .ignore_sigpipe = service_extra(s)->ignore_sigpipe,
                .cgroup = s->run->cgroup,
                .log_name = s->unit->name,
        };
        r = spawn_process_pidfd(&p, ret_pid, &pidfd, err, sizeof err);
        /* Only the child (and what it starts) holds the write end now: EOF ends the stream. */
        out = safe_close(out);
        if (r < 0) {
                if (stream)
                        service_output_free(stream);
                log_error("%s:%u: %s", strempty(cmd->origin.file), cmd->origin.line, err);
                return r;
        }
        PidRef ref = { .pid = *ret_pid, .fd = pidfd };
        r = service_pids_add(s, &ref);
        if (r < 0)
                log_warning_errno(r, "%s: cannot keep the pidfd of pid %d: %m; berthd will not "
                                  "signal it", s->unit->name, (int) *ret_pid);
        if (stream)
                service_output_set_pid(stream, *ret_pid);
        if (s->ctx->on_process)
                s->ctx->on_process(s, s->ctx->userdata);
        return 0;
}

static void exec_kill_all(Service *s, int sig) {
        int r;

        if (s->run->cgroup)
                r = cgroup_kill(s->run->cgroup, sig);
        else if (s->run->invocation_id[0])
                r = invocation_kill(s->run->invocation_id, sig);
        else
                return;
        if (r < 0)
                log_warning_errno(r, "%s: cannot signal every process of the service: %m, "
                                  "ignoring", s->unit->name);
}

static const char *const timer_names[_SERVICE_TIMER_MAX] = {
        [SERVICE_TIMER_STATE] = "state timeout",
        [SERVICE_TIMER_WATCHDOG] = "watchdog",
};

static int exec_on_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        Service *s = userdata;

        for (ServiceTimer t = 0; s->run->timers && t < _SERVICE_TIMER_MAX; t++)
                if (s->run->timers->sources[t] == es) {
                        s->run->timers->due[t] = USEC_INFINITY;
                        service_on_timer(s, t);
                        break;
                }
        return 0;
}

static void exec_arm_timer(Service *s, ServiceTimer t, usec_t usec) {
        sd_event_source **src;
        int r;

        if (!s->run->timers)
                return; /* never armed: nothing to disarm (service_arm() makes them) */
        src = &s->run->timers->sources[t];

        if (usec == USEC_INFINITY) {
                if (*src)
                        (void) sd_event_source_set_enabled(*src, SD_EVENT_OFF);
                return;
        }
        if (!*src)
                r = sd_event_add_time_relative(s->ctx->event, src, CLOCK_MONOTONIC, usec,
                                               USEC_PER_MSEC, exec_on_timer, s);
        else {
                r = sd_event_source_set_time_relative(*src, usec);
                if (r >= 0)
                        r = sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                log_error_errno(r, "%s: cannot arm its %s timer (%llums): %m; it will not fire",
                                s->unit->name, timer_names[t],
                                (unsigned long long) (usec / USEC_PER_MSEC));
}

static usec_t exec_now(Service *s, clockid_t clock) {
        return time_now(clock);
}

static void exec_watch(Service *s, bool on) {
        bool serving = !on && service_is_serving(s);

        for (size_t i = 0; i < s->n_listeners; i++)
                if (s->listeners[i]->owner == s) {
                        (void) listener_set_watch(s->listeners[i], on);
                        listener_set_serving(s->listeners[i], serving);
                }
}

/* Type=forking's main process: PIDFile= (a process of the service's, alive), or with
 * GuessMainPID= the one process of the service left. */
static pid_t exec_forking_main_pid(Service *s, char *why, size_t whylen) {
        const ServiceConfig *c = &s->unit->service;
        const ServiceProcess *sp = service_config_process(c);
        pid_t pids[256];
        int n, r;

        if (sp->pid_file) {
                _cleanup_fclose_ FILE *f = fopen(sp->pid_file, "re");
                int pid = 0;

                if (!f || fscanf(f, "%d", &pid) != 1 || pid <= 1) {
                        snprintf(why, whylen, "PIDFile=%s holds no pid%s%s", sp->pid_file,
                                 f ? "" : ": ", f ? "" : strerror(errno));
                        return -ENOENT;
                }
                /* Only a process of this service: a stale file may name anybody. Held by its
                 * pidfd from before that check. */
                r = service_pids_adopt_member(s, pid);
                if (r < 0) {
                        snprintf(why, whylen, "PIDFile=%s names pid %d, which is not a process "
                                 "of this service", sp->pid_file, pid);
                        return r == -ESRCH ? r : -ENOENT;
                }
                snprintf(why, whylen, "from PIDFile=%s", sp->pid_file);
                return pid;
        }
        if (!service_extra(s)->guess_main_pid) {
                snprintf(why, whylen, "no PIDFile=, and GuessMainPID=no");
                return -ENOENT;
        }
        n = s->run->cgroup ? cgroup_pids(s->run->cgroup, pids, ELEMENTSOF(pids))
                      : invocation_pids(s->run->invocation_id, pids, ELEMENTSOF(pids));
        if (n == 1 && (r = service_pids_adopt_member(s, pids[0])) >= 0) {
                snprintf(why, whylen, "the one process of it left");
                return pids[0];
        }
        if (n == 1) {
                snprintf(why, whylen, "the one process of it left, pid %d, is gone: %s",
                         (int) pids[0], strerror(-r));
                return -ESRCH;
        }
        if (n <= 0)
                snprintf(why, whylen, "no process of it is left");
        else
                snprintf(why, whylen, "%d processes of it are left, and no PIDFile= says which "
                         "is the main one", n);
        return -ENOENT;
}

/* ---- Type=dbus: BusName= on the system bus ---- */

/* One connection for every Type=dbus service, made on first use; NULL (and said once) when
 * no system bus is reachable. */
static sd_bus *system_bus;
static bool system_bus_tried;

void service_exec_shutdown(void) {
        system_bus = sd_bus_flush_close_unref(system_bus);
        system_bus_tried = false;
}

static sd_bus *exec_system_bus(Service *s) {
        sd_bus *bus = NULL;
        int r;

        if (system_bus_tried)
                return system_bus;
        system_bus_tried = true;
        r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, s->ctx->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                log_warning_errno(r, "No system bus reachable (%m): Type=dbus services are "
                                  "treated as Type=simple.");
                bus = sd_bus_flush_close_unref(bus);
        }
        system_bus = bus;
        return bus;
}

typedef struct BusWatch {
        sd_bus_slot *match, *call;
} BusWatch;

static int exec_on_name_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Service *s = userdata;
        const char *name, *old, *new;

        if (sd_bus_message_read(m, "sss", &name, &old, &new) >= 0 && new[0])
                service_on_bus_name(s);
        return 0;
}

static int exec_on_get_owner(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        if (!sd_bus_message_is_method_error(m, NULL))
                service_on_bus_name(userdata);
        return 0;
}

static int exec_watch_bus_name(Service *s, bool on) {
        const char *name = service_config_process(&s->unit->service)->bus_name;
        BusWatch *w = s->run->bus_name_slot;
        _cleanup_free_ char *match = NULL;
        sd_bus *bus;
        int r;

        if (w) {
                sd_bus_slot_unref(w->match);
                sd_bus_slot_unref(w->call);
                free(w);
                s->run->bus_name_slot = NULL;
        }
        if (!on || !name)
                return 0;
        bus = exec_system_bus(s);
        if (!bus)
                return 0;
        w = calloc(1, sizeof *w);
        if (!w || asprintf(&match, "type='signal',sender='org.freedesktop.DBus',"
                           "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
                           "arg0='%s'", name) < 0) {
                free(w);
                return -ENOMEM;
        }
        s->run->bus_name_slot = w;
        /* The match first, then the owner now: a name taken in between is seen either way. */
        r = sd_bus_add_match_async(bus, &w->match, match, exec_on_name_owner, NULL, s);
        if (r >= 0)
                r = sd_bus_call_method_async(bus, &w->call, "org.freedesktop.DBus",
                                             "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                             "GetNameOwner", exec_on_get_owner, s, "s", name);
        if (r < 0) {
                (void) exec_watch_bus_name(s, false);
                return r;
        }
        return 1;
}

static void exec_done(Service *s) {
        ServiceTimers *timers = s->run->timers;

        if (!service_has_run(s))
                return;
        for (ServiceTimer t = 0; timers && t < _SERVICE_TIMER_MAX; t++)
                timers->sources[t] = sd_event_source_disable_unref(timers->sources[t]);
        (void) exec_watch_bus_name(s, false);
        service_pids_clear(s);
        dynamic_user_unref(s->run->dynamic_user);
        s->run->dynamic_user = NULL;
        if (s->run->cgroup)
                (void) cgroup_remove(s->run->cgroup); /* when empty; the next start reuses it */
        free(s->run->cgroup);
        s->run->cgroup = NULL;
}

const ServiceOps service_ops_default = {
        .spawn = exec_spawn,
        .kill = service_pids_kill,
        .track = service_pids_track,
        .release = service_pids_release,
        .is_current = service_pids_is_current,
        .kill_all = exec_kill_all,
        .arm_timer = exec_arm_timer,
        .now = exec_now,
        .watch = exec_watch,
        .pgid_of = service_pids_pgid_of,
        .forking_main_pid = exec_forking_main_pid,
        .watch_bus_name = exec_watch_bus_name,
        .run_over = exec_run_over,
        .done = exec_done,
};
