/* spawn: clone/exec with the LISTEN_FDS layout and credentials. See spawn.h.
 *
 * The work is split so that the child, between clone() and execve(), only makes system calls:
 * spawn_prepare() resolves everything that may allocate or consult NSS (users, groups,
 * supplementary gids, the home directory, the PATH lookup, the final envp and
 * LISTEN_FDNAMES) into a SpawnPlan in the parent; spawn_child() then applies it. The only
 * things the child writes into the plan are its own pid, into the preallocated LISTEN_PID and
 * SYSTEMD_EXEC_PID slots, its fd bookkeeping (fd_src, fd_keep), that it ran (child_ran), and
 * that it gave us our CPU affinity back (parent_unpinned).
 * A child that fails writes {step, errno} into a CLOEXEC pipe and _exit()s; EOF on that pipe
 * means execve() succeeded.
 *
 * The child is started with clone(CLONE_VM | CLONE_VFORK), as glibc's posix_spawn() does: it
 * runs in our memory, on a stack of its own, while we are suspended until it called execve()
 * or _exit(). fork() would copy our page tables and then make every page we write
 * copy-on-write, a cost that grows with our heap (1,000 sockets, big fd stores); this one does
 * not. Sharing memory is what makes the rules above strict:
 *   - no malloc, no stdio, nothing that takes a libc lock: the lock may be held by us, frozen;
 *   - no writes to our variables but through the plan prepared for it (its own locals live on
 *     its own stack);
 *   - errno: without CLONE_SETTLS the child uses our thread's TLS, so its errno is ours. We are
 *     suspended and read errno only from clone()'s own return, so that is harmless;
 *   - signals: all are blocked around clone() so that no handler of ours runs on the child's
 *     stack in our memory; the child resets every disposition before unblocking (its
 *     disposition table is its own: no CLONE_SIGHAND);
 *   - credentials change through raw system calls: glibc's setgroups()/setresuid() wrappers
 *     broadcast to every thread of a threaded process (nptl "setxid"), and in the child those
 *     would be ours;
 *   - the pid comes from the getpid system call, never from a libc cache.
 * Under AddressSanitizer the child is forked instead (see SPAWN_USE_FORK).
 *
 * A child with a cgroup is created in it by the kernel where it can (clone3() with
 * CLONE_INTO_CGROUP, on x86-64): moving a running process, by writing cgroup.procs, takes the
 * cgroup core's write lock on every thread group, which waits for an RCU grace period, and the
 * child would sleep on the way to execve() (up to milliseconds on a busy machine, on the path
 * of every on-demand start). Where clone3() is missing or refuses the cgroup, the child moves
 * itself in, as before: the same result, and the same error when that fails. So does a child
 * the kernel killed at birth, before it ran: since Linux 6.14 (and the stable kernels that
 * took the change), a process created in a cgroup that was ever killed through cgroup.kill is
 * killed at once (cgroup_css_set_fork() compares the kill count of the parent's cgroup with
 * the target's), which is why the caller gives each run a new cgroup where it can.
 *
 * An isolated start also runs its child on our CPU (see spawn_pin_here()). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/env-util.h"
#include "common/macro.h"
#include "common/errbuf.h"
#include "common/time-util.h"
#include "common/user-util.h"
#include "daemon/pidref.h"
#include "daemon/spawn.h"

/* What the child was doing when it failed. */
typedef enum SpawnStep {
        SPAWN_STEP_AFFINITY,
        SPAWN_STEP_SIGNALS,
        SPAWN_STEP_SESSION,
        SPAWN_STEP_CGROUP,
        SPAWN_STEP_FDS,
        SPAWN_STEP_CLOSE,
        SPAWN_STEP_RLIMIT,
        SPAWN_STEP_GROUPS,
        SPAWN_STEP_GID,
        SPAWN_STEP_UID,
        SPAWN_STEP_CHDIR,
        SPAWN_STEP_NO_NEW_PRIVS,
        SPAWN_STEP_EXEC,
        _SPAWN_STEP_MAX,
        _SPAWN_STEP_INVALID = -EINVAL,
} SpawnStep;

/* The message a failed child sends through the error pipe. */
typedef struct SpawnFailure {
        int step;
        int error;
} SpawnFailure;

#define LISTEN_PID_PREFIX "LISTEN_PID="
#define EXEC_PID_PREFIX "SYSTEMD_EXEC_PID="
#define LISTEN_PID_DIGITS 20

/* Everything the child needs, computed in the parent. */
typedef struct SpawnPlan {
        char *exec_path;          /* resolved executable */
        char **envp;              /* final environment; entries borrowed from p->envp or
                                   * owned below */
        char *listen_fds, *listen_fdnames, *listen_pid; /* owned; listen_pid has room for
                                                         * LISTEN_PID_DIGITS digits */
        char *exec_pid;           /* owned: SYSTEMD_EXEC_PID=, filled in by the child */
        int *fd_keep;             /* n_fds + 5 ints: the fds the child keeps, sorted there */
        int *fd_src;              /* 3 + n_fds ints: the source of each target fd */

        bool change_gid, change_uid, set_groups;
        uid_t uid;
        gid_t gid;
        gid_t *gids;
        size_t n_gids;
        char *user_name;          /* the passwd name, for getgrouplist() and messages */
        char *home;               /* working directory "~", resolved */
        const char *cwd;          /* borrowed from p or home */

        /* When a stdio fd is -1: stdin reads /dev/null (opened read-only, as systemd does),
         * stdout and stderr write it. */
        int devnull_in, devnull_out;
        int error_pipe[2];

        char *cgroup_procs;       /* owned: p->cgroup's cgroup.procs, or NULL */
        int cgroup_fd;            /* p->cgroup, for CLONE_INTO_CGROUP; -1 when it did not open */
        bool in_cgroup;           /* the child was created in its cgroup: it does not move */
        bool child_ran;           /* set by the child first thing */

        /* spawn_pin_here(): our CPU affinity, which the child gives back to itself and to us
         * (setting parent_unpinned) when pinned is set. */
        bool pinned, parent_unpinned;
        cpu_set_t affinity;
} SpawnPlan;

static void spawn_plan_done(SpawnPlan *plan) {
        free(plan->exec_path);
        free(plan->envp);
        free(plan->listen_fds);
        free(plan->listen_fdnames);
        free(plan->listen_pid);
        free(plan->exec_pid);
        free(plan->fd_keep);
        free(plan->fd_src);
        free(plan->gids);
        free(plan->user_name);
        free(plan->home);
        free(plan->cgroup_procs);
        plan->cgroup_fd = safe_close(plan->cgroup_fd);
        plan->devnull_in = safe_close(plan->devnull_in);
        plan->devnull_out = safe_close(plan->devnull_out);
        plan->error_pipe[0] = safe_close(plan->error_pipe[0]);
        plan->error_pipe[1] = safe_close(plan->error_pipe[1]);
}

/* systemd's default hard RLIMIT_NOFILE for system services (HIGH_RLIMIT_NOFILE, the upper half
 * of DefaultLimitNOFILE=1024:524288), and the soft one (FD_SETSIZE: select() chokes above). */
#define NOFILE_DEFAULT_HARD 524288U
#define NOFILE_DEFAULT_SOFT 1024U

/* What a service gets without LimitNOFILE=, set by spawn_raise_limit_nofile(). */
static struct rlimit nofile_default;
static bool nofile_default_set;
/* fs.nr_open: the kernel refuses a larger RLIMIT_NOFILE, even to root. */
static rlim_t nofile_nr_open = 1024 * 1024;

static rlim_t read_nr_open(void) {
        unsigned long long v = 0;
        FILE *f = fopen("/proc/sys/fs/nr_open", "re");

        if (!f)
                return 1024 * 1024; /* the kernel's default */
        if (fscanf(f, "%llu", &v) != 1 || v == 0)
                v = 1024 * 1024;
        fclose(f);
        return (rlim_t) v;
}

int spawn_raise_limit_nofile(bool user_mode) {
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        nofile_nr_open = read_nr_open();

        /* As systemd's fallback_rlimit_nofile(): from the limits we were started with, the soft
         * one at most FD_SETSIZE; the system manager raises the hard one to 524288 (never
         * lowering it, never past fs.nr_open), the user manager keeps it. */
        nofile_default = (struct rlimit) {
                .rlim_cur = MIN(rl.rlim_cur, (rlim_t) NOFILE_DEFAULT_SOFT),
                .rlim_max = user_mode ? rl.rlim_max
                                      : MIN(nofile_nr_open,
                                            MAX(rl.rlim_max, (rlim_t) NOFILE_DEFAULT_HARD)),
        };
        nofile_default.rlim_cur = MIN(nofile_default.rlim_cur, nofile_default.rlim_max);
        nofile_default_set = true;

        if (rl.rlim_cur >= rl.rlim_max)
                return 0;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        return 0;
}

/* Sets RLIMIT_NOFILE to want or, when that is not allowed, as close to it as allowed, as
 * systemd's setrlimit_closest(): first capped by fs.nr_open (so infinity gives nr_open where
 * the hard limit may be raised), then by the hard limit we have. Never fails with EPERM for a
 * limit that is merely too high. System calls only. Returns 0 or a negative errno. */
static int setrlimit_nofile_closest(struct rlimit want) {
        struct rlimit highest;

        if (setrlimit(RLIMIT_NOFILE, &want) >= 0)
                return 0;
        if (errno != EPERM)
                return -errno;
        want.rlim_cur = MIN(want.rlim_cur, nofile_nr_open);
        want.rlim_max = MIN(want.rlim_max, nofile_nr_open);
        if (setrlimit(RLIMIT_NOFILE, &want) >= 0)
                return 0;
        if (errno != EPERM)
                return -errno;
        if (getrlimit(RLIMIT_NOFILE, &highest) < 0)
                return -errno;
        if (highest.rlim_max == RLIM_INFINITY)
                return -EPERM;
        want.rlim_cur = MIN(want.rlim_cur, highest.rlim_max);
        want.rlim_max = MIN(want.rlim_max, highest.rlim_max);
        if (setrlimit(RLIMIT_NOFILE, &want) < 0)
                return -errno;
        return 0;
}

/* ---- Parent side: resolving ---- */

static int add_gid(SpawnPlan *plan, size_t max, gid_t g) {
        for (size_t i = 0; i < plan->n_gids; i++)
                if (plan->gids[i] == g)
                        return 0;
        if (plan->n_gids >= max)
                return -E2BIG;
        plan->gids[plan->n_gids++] = g;
        return 0;
}

/* The kernel's NGROUPS_MAX, read once: glibc's sysconf() opens /proc for it on every call,
 * three system calls per spawn (Accept=yes spawns one process per connection). */
static size_t groups_max(void) {
        static size_t cached;

        if (cached == 0) {
                long n = sysconf(_SC_NGROUPS_MAX);

                cached = n > 0 ? (size_t) n : 65536;
        }
        return cached;
}

static int spawn_resolve_credentials(const SpawnParams *p, SpawnPlan *plan, const char *name,
                                     char *err, size_t errlen) {
        size_t max, room = 0;
        int r;

        if (p->user) {
                _cleanup_free_ char *buf = NULL;
                struct passwd pw;
                uint32_t id;
                bool numeric = parse_user_id(p->user, &id);

                r = user_lookup(numeric ? NULL : p->user, (uid_t) id, &pw, &buf);
                if (r < 0)
                        return errbuf_set(err, errlen, r, "%s: cannot look up user '%s': %m",
                                           name, p->user);
                if (r == 0 && !numeric)
                        return errbuf_set(err, errlen, -ESRCH, "%s: unknown user '%s'", name,
                                           p->user);
                plan->change_uid = plan->change_gid = true;
                if (r > 0) {
                        plan->uid = pw.pw_uid;
                        plan->gid = pw.pw_gid;
                        plan->user_name = strdup(pw.pw_name);
                        plan->home = strdup(pw.pw_dir ?: "");
                        if (!plan->user_name || !plan->home)
                                return -ENOMEM;
                } else {
                        /* A bare number: the group of the same number, never root's. */
                        plan->uid = (uid_t) id;
                        plan->gid = (gid_t) id;
                }
        }

        if (p->group) {
                r = group_resolve(p->group, &plan->gid);
                if (r == -ESRCH)
                        return errbuf_set(err, errlen, r, "%s: unknown group '%s'", name,
                                           p->group);
                if (r < 0)
                        return errbuf_set(err, errlen, r, "%s: cannot look up group '%s': %m",
                                           name, p->group);
                plan->change_gid = true;
        }

        /* Unprivileged, setgroups() always fails, even to the same list: only try when asked
         * for explicitly. As root, any change of identity replaces the groups we hold. Only
         * then are our uid and the kernel's limit read: a start that keeps our identity makes
         * no system call here. */
        plan->set_groups = p->supplementary_groups ||
                           ((plan->change_uid || plan->change_gid) && geteuid() == 0);
        if (!plan->set_groups)
                return 0;
        max = groups_max();

        /* Size the list first: the user's groups (getgrouplist() says how many when the
         * buffer is too small), the supplementary ones, the primary group. */
        if (plan->user_name) {
                gid_t one;
                int n = 1;

                (void) getgrouplist(plan->user_name, plan->gid, &one, &n);
                if ((size_t) n > max)
                        return errbuf_set(err, errlen, -E2BIG,
                                           "%s: user '%s' is in more than %zu groups", name,
                                           plan->user_name, max);
                room = (size_t) MAX(n, 1);
        }
        room += strv_length(p->supplementary_groups) + 1;
        plan->gids = calloc(room, sizeof(gid_t));
        if (!plan->gids)
                return -ENOMEM;

        if (plan->user_name) {
                int n = (int) MIN(room, max);

                /* Fails only when the group database grew since the call above. */
                if (getgrouplist(plan->user_name, plan->gid, plan->gids, &n) < 0)
                        return errbuf_set(err, errlen, -EAGAIN,
                                           "%s: the groups of user '%s' changed while they were "
                                           "read", name, plan->user_name);
                plan->n_gids = (size_t) n;
        } else if (plan->change_gid)
                plan->gids[plan->n_gids++] = plan->gid;

        for (size_t i = 0; p->supplementary_groups && p->supplementary_groups[i]; i++) {
                const char *g = p->supplementary_groups[i];
                gid_t gid;

                r = group_resolve(g, &gid);
                if (r == -ESRCH)
                        return errbuf_set(err, errlen, r, "%s: unknown supplementary group '%s'",
                                           name, g);
                if (r < 0)
                        return errbuf_set(err, errlen, r, "%s: cannot look up group '%s': %m",
                                           name, g);
                r = add_gid(plan, MIN(room, max), gid);
                if (r < 0)
                        return errbuf_set(err, errlen, r, "%s: more than %zu groups", name,
                                           max);
        }
        return 0;
}

static int spawn_resolve_directory(const SpawnParams *p, SpawnPlan *plan, const char *name,
                                   char *err, size_t errlen) {
        const char *wd = p->working_directory;

        if (!wd)
                return 0;
        if (!streq(wd, "~")) {
                if (wd[0] != '/')
                        return errbuf_set(err, errlen, -EINVAL,
                                           "%s: working directory '%s' is not absolute", name,
                                           wd);
                plan->cwd = wd;
                return 0;
        }

        if (!p->user) {
                _cleanup_free_ char *buf = NULL;
                struct passwd pw;
                int r;

                r = user_lookup(NULL, geteuid(), &pw, &buf);
                if (r < 0)
                        return errbuf_set(err, errlen, r, "%s: cannot look up our own user: %m",
                                           name);
                if (r > 0) {
                        plan->home = strdup(pw.pw_dir ?: "");
                        if (!plan->home)
                                return -ENOMEM;
                }
        }
        if (plan->home && plan->home[0] == '/')
                plan->cwd = plan->home;
        else if (p->working_directory_optional)
                plan->cwd = "/"; /* no home, and that may be: as a missing directory */
        else
                return errbuf_set(err, errlen, -ENOENT,
                                   "%s: working directory '~': user '%s' has no home directory",
                                   name, p->user ?: "(self)");
        return 0;
}

static bool fd_name_is_valid(const char *s) {
        size_t n = 0;

        for (; s[n]; n++)
                if (s[n] < ' ' || s[n] > '~' || s[n] == ':')
                        return false;
        return n > 0 && n <= SPAWN_FDNAME_MAX;
}

/* The variables spawn sets itself: never passed through from p->envp. */
static bool is_spawn_variable(const char *e) {
        return startswith(e, "LISTEN_FDS=") || startswith(e, "LISTEN_FDNAMES=") ||
               startswith(e, "LISTEN_PID=") || startswith(e, "LISTEN_PIDFDID=") ||
               startswith(e, EXEC_PID_PREFIX);
}

static int spawn_build_environment(const SpawnParams *p, SpawnPlan *plan, const char *name,
                                   char *err, size_t errlen) {
        size_t n = 0, n_in = strv_length(p->envp);

        plan->envp = calloc(n_in + 5, sizeof(char *));
        if (!plan->envp)
                return -ENOMEM;
        for (size_t i = 0; i < n_in; i++)
                if (!is_spawn_variable(p->envp[i]))
                        plan->envp[n++] = p->envp[i];

        /* Every process learns its own pid as $SYSTEMD_EXEC_PID, as systemd sets it (execute.c,
         * build_environment()): filled in by the child. */
        plan->exec_pid = calloc(1, strlen(EXEC_PID_PREFIX) + LISTEN_PID_DIGITS + 1);
        if (!plan->exec_pid)
                return -ENOMEM;
        strcpy(plan->exec_pid, EXEC_PID_PREFIX);
        plan->envp[n++] = plan->exec_pid;

        if (p->n_fds == 0)
                return 0;

        if (asprintf(&plan->listen_fds, "LISTEN_FDS=%zu", p->n_fds) < 0) {
                plan->listen_fds = NULL;
                return -ENOMEM;
        }
        plan->envp[n++] = plan->listen_fds;

        if (p->fd_names) {
                size_t len = strlen("LISTEN_FDNAMES=") + 1;
                char *q;

                for (size_t i = 0; i < p->n_fds; i++) {
                        if (!p->fd_names[i] || !fd_name_is_valid(p->fd_names[i]))
                                return errbuf_set(err, errlen, -EINVAL,
                                                   "%s: invalid file descriptor name '%s'", name,
                                                   strna(p->fd_names[i]));
                        len += strlen(p->fd_names[i]) + 1;
                }
                plan->listen_fdnames = q = malloc(len);
                if (!q)
                        return -ENOMEM;
                q = stpcpy(q, "LISTEN_FDNAMES=");
                for (size_t i = 0; i < p->n_fds; i++) {
                        if (i > 0)
                                *q++ = ':';
                        q = stpcpy(q, p->fd_names[i]);
                }
                plan->envp[n++] = plan->listen_fdnames;
        }

        plan->listen_pid = calloc(1, strlen(LISTEN_PID_PREFIX) + LISTEN_PID_DIGITS + 1);
        if (!plan->listen_pid)
                return -ENOMEM;
        strcpy(plan->listen_pid, LISTEN_PID_PREFIX);
        plan->envp[n++] = plan->listen_pid;
        return 0;
}

int spawn_find_executable(const char *name, char *const *envp, char **ret_path) {
        const char *path, *p;
        int r = -ENOENT;

        if (!name || !*name)
                return -EINVAL;

        if (strchr(name, '/')) {
                char *copy = strdup(name);

                if (!copy)
                        return -ENOMEM;
                *ret_path = copy;
                return 0;
        }

        path = env_get(envp, "PATH") ?: SPAWN_DEFAULT_PATH;
        for (p = path; *p;) {
                size_t len = strcspn(p, ":");
                _cleanup_free_ char *candidate = NULL;
                struct stat st;

                /* Empty and relative entries would search the current directory: skip. */
                if (p[0] == '/') {
                        if (asprintf(&candidate, "%.*s/%s", (int) len, p, name) < 0) {
                                candidate = NULL;
                                return -ENOMEM;
                        }
                        /* Only a file that exists but cannot be used makes EACCES, not a
                         * directory of PATH that we may not search. */
                        if (stat(candidate, &st) == 0) {
                                if (S_ISREG(st.st_mode) && access(candidate, X_OK) == 0) {
                                        *ret_path = TAKE_PTR(candidate);
                                        return 0;
                                }
                                r = -EACCES;
                        }
                }
                p += len;
                if (*p == ':')
                        p++;
        }
        return r;
}

/* ---- Child side: system calls only ---- */

/* The 32-bit-id variants where an architecture has both (i386, arm): the plain ones take
 * 16-bit ids there. */
#ifdef SYS_setgroups32
#  define SYS_SETGROUPS SYS_setgroups32
#  define SYS_SETRESGID SYS_setresgid32
#  define SYS_SETRESUID SYS_setresuid32
#else
#  define SYS_SETGROUPS SYS_setgroups
#  define SYS_SETRESGID SYS_setresgid
#  define SYS_SETRESUID SYS_setresuid
#endif

_noreturn_ static void child_fail(int fd, SpawnStep step, int error) {
        SpawnFailure f = { .step = step, .error = error };
        ssize_t k;

        k = write(fd, &f, sizeof f);
        (void) k;
        _exit(127);
}

/* Closes every fd >= from except keep, through /proc/self/fd or, without /proc, one by one
 * up to RLIMIT_NOFILE. Only system calls: the dirent buffer is on the stack. */
static int close_all_fds_slow(int from, int keep) {
        struct rlimit rl;
        int dfd;

        dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                char buf[4096] __attribute__((aligned(8)));
                ssize_t n;

                while ((n = getdents64(dfd, buf, sizeof buf)) > 0)
                        for (ssize_t off = 0; off < n;) {
                                struct dirent64 *de = (struct dirent64 *) (void *) (buf + off);
                                long fd = 0;
                                bool numeric = de->d_name[0] != '\0';

                                off += de->d_reclen;
                                for (const char *c = de->d_name; *c && numeric; c++) {
                                        numeric = *c >= '0' && *c <= '9' && fd < INT_MAX / 10;
                                        fd = fd * 10 + (*c - '0');
                                }
                                if (numeric && fd >= from && fd != keep && fd != dfd)
                                        (void) close((int) fd);
                        }
                (void) close(dfd);
                return n < 0 ? -errno : 0;
        }

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        for (rlim_t fd = (rlim_t) from; fd < rl.rlim_cur && fd <= INT_MAX; fd++)
                if ((int) fd != keep)
                        (void) close((int) fd);
        return 0;
}

static int close_all_fds(int from, int keep) {
#ifdef SYS_close_range
        /* keep >= from: close [from, keep) and (keep, ~0]. */
        long r = 0;

        if (keep > from)
                r = syscall(SYS_close_range, (unsigned) from, (unsigned) keep - 1, 0U);
        if (r == 0)
                r = syscall(SYS_close_range, (unsigned) keep + 1, ~0U, 0U);
        if (r == 0)
                return 0;
        /* ENOSYS before Linux 5.9; EPERM from seccomp filters that do not know the call. */
        if (errno != ENOSYS && errno != EPERM)
                return -errno;
#endif
        return close_all_fds_slow(from, keep);
}

/* Writes pid in decimal at s, NUL-terminated. s has room for LISTEN_PID_DIGITS + 1 bytes. */
static void format_pid(char *s, pid_t pid) {
        char tmp[LISTEN_PID_DIGITS];
        unsigned long long v = (unsigned long long) pid;
        size_t n = 0;

        do {
                tmp[n++] = (char) ('0' + v % 10);
                v /= 10;
        } while (v > 0 && n < sizeof tmp);
        while (n > 0)
                *s++ = tmp[--n];
        *s = '\0';
}

static rlim_t to_rlim(uint64_t v) {
        return v == UINT64_MAX ? RLIM_INFINITY : (rlim_t) v;
}

/* Closes every fd from 3 up that is not in keep (n sorted, distinct values). System calls
 * only. */
static void close_all_but(const int *keep, size_t n) {
        int from = 3;

        for (size_t i = 0; i <= n; i++) {
                int to = i < n ? keep[i] - 1 : INT_MAX;

                if (i < n && keep[i] < 3)
                        continue;
                if (to >= from) {
#ifdef SYS_close_range
                        if (syscall(SYS_close_range, (unsigned) from, (unsigned) to, 0U) == 0) {
                                from = i < n ? keep[i] + 1 : from;
                                continue;
                        }
#endif
                        /* Without close_range(): one by one, up to the soft limit. */
                        struct rlimit rl;
                        rlim_t last = getrlimit(RLIMIT_NOFILE, &rl) >= 0 ? rl.rlim_cur : 65536;
                        for (rlim_t fd = (rlim_t) from; fd <= (rlim_t) to && fd < last; fd++)
                                (void) close((int) fd);
                }
                if (i < n)
                        from = keep[i] + 1;
        }
}

static bool fd_is_source(const int *src, size_t n_targets, size_t from, int fd) {
        for (size_t u = from; u < n_targets; u++)
                if (src[u] == fd)
                        return true;
        return false;
}

/* Puts the stdio sources at 0, 1, 2 and p->fds at 3.., in place, and returns where the error
 * pipe is now. First every fd the child does not need is closed, so that the one spare fd the
 * shuffle may need is there; then each target is filled in order, moving an fd that still
 * serves as a source (or is the error pipe) out of the way first. System calls only. */
static int arrange_fds(const SpawnParams *p, SpawnPlan *plan, int errfd) {
        size_t n_targets = 3 + p->n_fds, n_keep = 0;
        int stdio[3] = { p->stdin_fd, p->stdout_fd, p->stderr_fd };
        int *src = plan->fd_src, *keep = plan->fd_keep;

        for (size_t t = 0; t < n_targets; t++)
                src[t] = t >= 3 ? p->fds[t - 3] :
                         stdio[t] >= 0 ? stdio[t] :
                         t == 0 ? plan->devnull_in : plan->devnull_out;

        /* The fds to keep, sorted (insertion: no allocation here) and distinct. */
        keep[n_keep++] = errfd;
        for (size_t t = 0; t < n_targets; t++)
                keep[n_keep++] = src[t];
        for (size_t i = 1; i < n_keep; i++)
                for (size_t j = i; j > 0 && keep[j - 1] > keep[j]; j--) {
                        int x = keep[j];
                        keep[j] = keep[j - 1];
                        keep[j - 1] = x;
                }
        {
                size_t k = 0;
                for (size_t i = 0; i < n_keep; i++)
                        if (k == 0 || keep[k - 1] != keep[i])
                                keep[k++] = keep[i];
                n_keep = k;
        }
        close_all_but(keep, n_keep);

        for (size_t t = 0; t < n_targets; t++) {
                int fd = (int) t, from = src[t];

                if (from == fd)
                        continue;
                /* Slot t holds what a later target (or the error pipe) still needs: move it. */
                if (fd == errfd || fd_is_source(src, n_targets, t + 1, fd)) {
                        /* Any free slot above t will do, one freed below the targets too:
                         * if it is a later target's, it moves again when that comes. */
                        int moved = fcntl(fd, F_DUPFD_CLOEXEC, fd + 1);

                        if (moved < 0)
                                child_fail(errfd, SPAWN_STEP_FDS, errno);
                        for (size_t u = t + 1; u < n_targets; u++)
                                if (src[u] == fd)
                                        src[u] = moved;
                        if (errfd == fd)
                                errfd = moved;
                }
                if (dup2(from, fd) < 0)
                        child_fail(errfd, SPAWN_STEP_FDS, errno);
                /* A source that nothing later needs goes now, so each move above reuses the
                 * one spare fd: above the targets it is freed, inside them its slot is filled
                 * later anyway. */
                if (from != errfd && from != plan->devnull_in && from != plan->devnull_out &&
                    !fd_is_source(src, n_targets, t + 1, from))
                        (void) close(from);
        }
        /* A moved copy that landed on its own target is still CLOEXEC: stdio must not be
         * (the passed fds are cleared by the caller). */
        for (int fd = 0; fd < 3; fd++)
                if (fcntl(fd, F_SETFD, 0) < 0)
                        child_fail(errfd, SPAWN_STEP_FDS, errno);
        return errfd;
}

int spawn_signal_set_raw(int sig, void (*handler)(int)) {
        /* The kernel's struct sigaction of the common layout (x86, arm64 and most others):
         * SIG_DFL and SIG_IGN need no restorer, and an empty mask is 0 in any byte order. */
        struct {
                void (*handler)(int);
                unsigned long flags;
                void (*restorer)(void);
                uint64_t mask;
        } k = { .handler = handler };

        if (syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof k.mask) < 0)
                return -errno;
        return 0;
}

_noreturn_ static void spawn_child(const SpawnParams *p, SpawnPlan *plan) {
        struct sigaction sa = { .sa_handler = SIG_DFL };
        int errfd = plan->error_pipe[1];
        int first_free = 3 + (int) p->n_fds;
        sigset_t ss;

        plan->child_ran = true;
        if (plan->pinned) {
                /* Our affinity back, first ours, then our parent's, so that it runs wherever
                 * it may once we have exec'd (see spawn_pin_here()). */
                if (syscall(SYS_sched_setaffinity, 0, sizeof plan->affinity, &plan->affinity) < 0)
                        child_fail(errfd, SPAWN_STEP_AFFINITY, errno);
                plan->parent_unpinned = syscall(SYS_sched_setaffinity, syscall(SYS_getppid),
                                                sizeof plan->affinity, &plan->affinity) >= 0;
        }

        /* Dispositions first, while the inherited mask still blocks, so no handler of ours
         * can run in the child. libc refuses its own signals: berthd never set them, but one
         * ignored by whoever started berthd would reach the service, so those go to the
         * kernel directly. */
        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, &sa, NULL) < 0 &&
                    errno == EINVAL)
                        (void) spawn_signal_set_raw(sig, SIG_DFL);
        if (p->ignore_sigpipe) {
                struct sigaction ign = { .sa_handler = SIG_IGN };
                (void) sigaction(SIGPIPE, &ign, NULL);
        }
        if (sigemptyset(&ss) < 0 || sigprocmask(SIG_SETMASK, &ss, NULL) < 0)
                child_fail(errfd, SPAWN_STEP_SIGNALS, errno);

        if (setsid() < 0)
                child_fail(errfd, SPAWN_STEP_SESSION, errno);

        /* Into the service's cgroup before anything can fork, unless the kernel created the
         * child there: "0" is the writer itself. */
        if (plan->cgroup_procs && !plan->in_cgroup) {
                int fd = open(plan->cgroup_procs, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

                if (fd < 0 || write(fd, "0", 1) != 1)
                        child_fail(errfd, SPAWN_STEP_CGROUP, errno);
                (void) close(fd);
        }

        /* The fd layout: 0, 1, 2 and the passed fds at 3.., everything else closed. Done in
         * place, so that it needs at most one free fd however many are passed (a service
         * with a big fd store must not need twice its fds). */
        errfd = arrange_fds(p, plan, errfd);
        for (size_t i = 0; i < p->n_fds; i++) {
                int fd = 3 + (int) i, flags;

                /* dup2() clears FD_CLOEXEC; an fd already in place keeps what it had. */
                if (fcntl(fd, F_SETFD, 0) < 0)
                        child_fail(errfd, SPAWN_STEP_FDS, errno);
                if (!p->non_blocking && !p->keep_file_status) {
                        flags = fcntl(fd, F_GETFL);
                        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                                child_fail(errfd, SPAWN_STEP_FDS, errno);
                }
        }

        /* Everything else goes; the error pipe (CLOEXEC) stays until execve(). */
        {
                int r = close_all_fds(first_free, errfd);

                if (r < 0)
                        child_fail(errfd, SPAWN_STEP_CLOSE, -r);
        }

        /* Before dropping privileges: raising the hard limit needs CAP_SYS_RESOURCE. */
        if (p->set_limit_nofile || nofile_default_set) {
                struct rlimit rl = nofile_default;
                int r;

                if (p->set_limit_nofile)
                        rl = (struct rlimit) {
                                .rlim_cur = to_rlim(p->limit_nofile_soft),
                                .rlim_max = to_rlim(p->limit_nofile_hard),
                        };
                r = setrlimit_nofile_closest(rl);
                if (r < 0)
                        child_fail(errfd, SPAWN_STEP_RLIMIT, -r);
        }

        if (plan->set_groups && syscall(SYS_SETGROUPS, plan->n_gids, plan->gids) < 0)
                child_fail(errfd, SPAWN_STEP_GROUPS, errno);
        if (plan->change_gid && syscall(SYS_SETRESGID, plan->gid, plan->gid, plan->gid) < 0)
                child_fail(errfd, SPAWN_STEP_GID, errno);
        if (plan->change_uid && syscall(SYS_SETRESUID, plan->uid, plan->uid, plan->uid) < 0)
                child_fail(errfd, SPAWN_STEP_UID, errno);

        (void) umask(p->umask & 0777);

        /* After the credentials change, so the directory is checked against the new user. A
         * missing optional one leaves the process in /, as systemd's manager, never in
         * berthd's own working directory. */
        if (plan->cwd && chdir(plan->cwd) < 0) {
                if (!(p->working_directory_optional && errno == ENOENT))
                        child_fail(errfd, SPAWN_STEP_CHDIR, errno);
                if (chdir("/") < 0)
                        child_fail(errfd, SPAWN_STEP_CHDIR, errno);
        }

        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                child_fail(errfd, SPAWN_STEP_NO_NEW_PRIVS, errno);

        {
                pid_t self = (pid_t) syscall(SYS_getpid);

                if (plan->listen_pid)
                        format_pid(plan->listen_pid + strlen(LISTEN_PID_PREFIX), self);
                format_pid(plan->exec_pid + strlen(EXEC_PID_PREFIX), self);
        }

        execve(plan->exec_path, p->argv, plan->envp);
        child_fail(errfd, SPAWN_STEP_EXEC, errno);
}

/* ---- Parent side: putting it together ---- */

static void format_limit(char *buf, size_t size, uint64_t v) {
        if (v == UINT64_MAX)
                snprintf(buf, size, "infinity");
        else
                snprintf(buf, size, "%" PRIu64, v);
}

static int spawn_failure_message(const SpawnParams *p, const SpawnPlan *plan, const char *name,
                                 SpawnStep step, int r, char *err, size_t errlen) {
        char soft[32], hard[32];

        switch (step) {
        case SPAWN_STEP_AFFINITY:
                return errbuf_set(err, errlen, r, "%s: cannot set its CPU affinity back: %m",
                                  name);
        case SPAWN_STEP_SIGNALS:
                return errbuf_set(err, errlen, r, "%s: cannot reset the signal mask: %m", name);
        case SPAWN_STEP_SESSION:
                return errbuf_set(err, errlen, r, "%s: cannot start a new session: %m", name);
        case SPAWN_STEP_CGROUP:
                return errbuf_set(err, errlen, r, "%s: cannot join its cgroup (%s): %m", name,
                                  plan->cgroup_procs);
        case SPAWN_STEP_FDS:
                return errbuf_set(err, errlen, r,
                                   "%s: cannot set up the file descriptors (0..%zu): %m", name,
                                   2 + p->n_fds);
        case SPAWN_STEP_CLOSE:
                return errbuf_set(err, errlen, r,
                                   "%s: cannot close inherited file descriptors: %m", name);
        case SPAWN_STEP_RLIMIT:
                if (!p->set_limit_nofile)
                        return errbuf_set(err, errlen, r, "%s: cannot set the default file "
                                          "limit (%llu:%llu): %m", name,
                                          (unsigned long long) nofile_default.rlim_cur,
                                          (unsigned long long) nofile_default.rlim_max);
                format_limit(soft, sizeof soft, p->limit_nofile_soft);
                format_limit(hard, sizeof hard, p->limit_nofile_hard);
                return errbuf_set(err, errlen, r, "%s: cannot set LimitNOFILE=%s:%s: %m", name,
                                   soft, hard);
        case SPAWN_STEP_GROUPS:
                return errbuf_set(err, errlen, r,
                                   "%s: cannot set the supplementary groups%s%s%s: %m", name,
                                   p->user ? " of user '" : "", strempty(p->user),
                                   p->user ? "'" : "");
        case SPAWN_STEP_GID:
                if (p->group)
                        return errbuf_set(err, errlen, r, "%s: cannot change to group '%s': %m",
                                           name, p->group);
                return errbuf_set(err, errlen, r,
                                   "%s: cannot change to group %u of user '%s': %m", name,
                                   (unsigned) plan->gid, strna(p->user));
        case SPAWN_STEP_UID:
                return errbuf_set(err, errlen, r, "%s: cannot change to user '%s': %m", name,
                                   strna(p->user));
        case SPAWN_STEP_CHDIR:
                return errbuf_set(err, errlen, r,
                                   "%s: cannot change to working directory '%s': %m", name,
                                   strna(plan->cwd));
        case SPAWN_STEP_NO_NEW_PRIVS:
                return errbuf_set(err, errlen, r, "%s: cannot set NoNewPrivileges=yes: %m",
                                   name);
        case SPAWN_STEP_EXEC:
                return errbuf_set(err, errlen, r, "%s: cannot execute '%s': %m", name,
                                   plan->exec_path);
        case _SPAWN_STEP_MAX:
        case _SPAWN_STEP_INVALID:
                break;
        }
        return errbuf_set(err, errlen, r, "%s: cannot start '%s': %m", name, plan->exec_path);
}

static int spawn_prepare(const SpawnParams *p, SpawnPlan *plan, const char *name, char *err,
                         size_t errlen) {
        int r;

        if (!p->path || !p->path[0])
                return errbuf_set(err, errlen, -EINVAL, "%s: no executable given", name);
        if (!p->argv || !p->argv[0])
                return errbuf_set(err, errlen, -EINVAL, "%s: empty command line for '%s'", name,
                                   p->path);
        if (p->n_fds > SPAWN_FDS_MAX)
                return errbuf_set(err, errlen, -E2BIG,
                                   "%s: %zu file descriptors to pass, at most %u are allowed",
                                   name, p->n_fds, SPAWN_FDS_MAX);
        if (p->n_fds > 0 && !p->fds)
                return errbuf_set(err, errlen, -EINVAL, "%s: no file descriptors given", name);
        for (size_t i = 0; i < p->n_fds; i++)
                if (p->fds[i] < 0)
                        return errbuf_set(err, errlen, -EBADF,
                                           "%s: file descriptor #%zu to pass is invalid", name, i);

        if (strchr(p->path, '/') && p->path[0] != '/')
                return errbuf_set(err, errlen, -EINVAL,
                                   "%s: executable path '%s' is neither absolute nor a bare name",
                                   name, p->path);
        r = spawn_find_executable(p->path, p->envp, &plan->exec_path);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return errbuf_set(err, errlen, r, "%s: cannot execute '%s': not found in PATH "
                                   "(%s)", name, p->path,
                                   env_get(p->envp, "PATH") ?: SPAWN_DEFAULT_PATH);
        if (r < 0)
                return errbuf_set(err, errlen, r, "%s: cannot execute '%s' from PATH (%s): %m",
                                   name, p->path,
                                   env_get(p->envp, "PATH") ?: SPAWN_DEFAULT_PATH);

        r = spawn_resolve_credentials(p, plan, name, err, errlen);
        if (r < 0)
                return r;
        r = spawn_resolve_directory(p, plan, name, err, errlen);
        if (r < 0)
                return r;
        r = spawn_build_environment(p, plan, name, err, errlen);
        if (r < 0)
                return r;

        plan->fd_keep = calloc(p->n_fds + 5, sizeof(int));
        plan->fd_src = calloc(p->n_fds + 3, sizeof(int));
        if (!plan->fd_keep || !plan->fd_src)
                return -ENOMEM;

        if (p->stdin_fd < 0)
                plan->devnull_in = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (p->stdout_fd < 0 || p->stderr_fd < 0)
                plan->devnull_out = open("/dev/null", O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if ((p->stdin_fd < 0 && plan->devnull_in < 0) ||
            ((p->stdout_fd < 0 || p->stderr_fd < 0) && plan->devnull_out < 0))
                return errbuf_set(err, errlen, -errno, "%s: cannot open /dev/null: %m", name);

        if (pipe2(plan->error_pipe, O_CLOEXEC) < 0)
                return errbuf_set(err, errlen, -errno, "%s: cannot create a pipe: %m", name);

        if (p->cgroup) {
                if (asprintf(&plan->cgroup_procs, "%s/cgroup.procs", p->cgroup) < 0) {
                        plan->cgroup_procs = NULL;
                        return -ENOMEM;
                }
                /* When it does not open, the child's own move says why. */
                plan->cgroup_fd = open(p->cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        return 0;
}

#if SPAWN_USE_FORK

static int spawn_start_child(const SpawnParams *p, SpawnPlan *plan, pid_t *ret_pid,
                             int *ret_pidfd) {
        pid_t pid = fork();

        if (pid < 0)
                return -errno;
        if (pid == 0)
                spawn_child(p, plan);
        *ret_pid = pid;
        if (ret_pidfd)
                *ret_pidfd = -1; /* spawn_process_pidfd() opens it: the child is unreaped */
        return 0;
}

#else

/* The child's stack: mapped on first use and kept, with a guard page below it. spawn is only
 * called from the event loop's thread, and the stack is free again once clone() returned (the
 * child has then exec'd or exited), so one is enough. */
#define SPAWN_STACK_SIZE (128U * 1024U)
static void *child_stack;
static size_t child_stack_guard;

static int child_stack_get(void **ret_top) {
        if (!child_stack) {
                long page = sysconf(_SC_PAGESIZE);
                size_t guard = page > 0 ? (size_t) page : 4096U;
                void *m = mmap(NULL, guard + SPAWN_STACK_SIZE, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

                if (m == MAP_FAILED)
                        return -errno;
                if (mprotect(m, guard, PROT_NONE) < 0) {
                        int r = -errno;

                        (void) munmap(m, guard + SPAWN_STACK_SIZE);
                        return r;
                }
                child_stack = m;
                child_stack_guard = guard;
        }
        /* Stacks grow down on every architecture Linux runs this on but hppa. */
        *ret_top = (char *) child_stack + child_stack_guard + SPAWN_STACK_SIZE;
        return 0;
}

typedef struct SpawnChildArgs {
        const SpawnParams *p;
        SpawnPlan *plan;
} SpawnChildArgs;

static int spawn_child_main(void *userdata) {
        SpawnChildArgs *a = userdata;

        spawn_child(a->p, a->plan);
}

#if defined(__x86_64__) && defined(SYS_clone3)
#  define SPAWN_HAVE_CLONE3 1

#ifndef CLONE_INTO_CGROUP
#  define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args of <linux/sched.h> up to its cgroup field (CLONE_ARGS_SIZE_VER2): that
 * header and <sched.h> define the CLONE_* flags both. */
typedef struct SpawnCloneArgs {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
        uint64_t set_tid, set_tid_size, cgroup;
} SpawnCloneArgs;

/* clone3(), with the child on its own stack calling fn(arg) and exiting with what it returns.
 * Neither glibc (before 2.39) nor C can do it: a child that shares our memory cannot return
 * through syscall(), whose frame is on our stack, not on its. The system call keeps every
 * register but rax, rcx and r11, so the child finds fn and arg where we put them. Returns the
 * pid, or a negative errno. */
static long clone3_call(SpawnCloneArgs *ca, int (*fn)(void *), void *arg) {
        register long rax __asm__("rax") = SYS_clone3;
        register int (*r12)(void *) __asm__("r12") = fn;
        register void *r13 __asm__("r13") = arg;

        __asm__ volatile("syscall\n\t"
                         "test %%rax, %%rax\n\t"
                         "jnz 1f\n\t"
                         /* The child: no frame above this one, fn(arg), _exit(its value). */
                         "xor %%ebp, %%ebp\n\t"
                         "mov %%r13, %%rdi\n\t"
                         "call *%%r12\n\t"
                         "mov %%eax, %%edi\n\t"
                         "mov %[exit], %%eax\n\t"
                         "syscall\n\t"
                         "hlt\n"
                         "1:\n\t"
                         : "+r"(rax)
                         : "D"(ca), "S"(sizeof *ca), "r"(r12), "r"(r13), [exit] "i"(SYS_exit)
                         : "rcx", "r11", "memory", "cc");
        return rax;
}

/* Unset once clone3() turned out to be missing (ENOSYS, before Linux 5.3 or under a seccomp
 * filter that hides it) or to predate CLONE_INTO_CGROUP (E2BIG, before 5.7). */
static bool clone3_usable = true;

/* The child, created in plan->cgroup_fd's cgroup. Returns its pid, or a negative errno (then
 * no child is left). */
static pid_t spawn_clone_into_cgroup(SpawnPlan *plan, SpawnChildArgs *args, int *pidfd) {
        SpawnCloneArgs ca = {
                .flags = CLONE_VM | CLONE_VFORK | CLONE_INTO_CGROUP |
                         (pidfd ? (uint64_t) CLONE_PIDFD : 0),
                .pidfd = (uint64_t) (uintptr_t) pidfd,
                .exit_signal = SIGCHLD,
                .stack = (uint64_t) (uintptr_t) ((char *) child_stack + child_stack_guard),
                .stack_size = SPAWN_STACK_SIZE,
                .cgroup = (uint64_t) plan->cgroup_fd,
        };
        long pid;

        /* Read by the child: set before it exists, cleared if it never did. */
        plan->in_cgroup = true;
        plan->child_ran = false;
        pid = clone3_call(&ca, spawn_child_main, args);
        if (pid > 0 && !plan->child_ran) {
                /* Killed at birth (see the top of this file): we are resumed once it is gone. */
                while (waitpid((pid_t) pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                pid = -ECHILD;
                if (pidfd)
                        *pidfd = safe_close(*pidfd);
        }
        if (pid < 0) {
                plan->in_cgroup = false;
                if (IN_SET(pid, -ENOSYS, -E2BIG))
                        clone3_usable = false;
        }
        return (pid_t) pid;
}
#else
#  define SPAWN_HAVE_CLONE3 0
#endif

/* Starts this close after the last one are a burst. */
#define SPAWN_BURST_USEC (10 * USEC_PER_MSEC)

/* An isolated start runs its child on our CPU. The scheduler gives a new process the idlest
 * CPU, and on an idle machine that CPU is asleep: waking it (an interrupt to another CPU, a
 * deep idle state to leave, a virtual CPU for the host to run) costs more than the child's whole
 * way to execve(), while ours is about to be free, since we wait there until that execve()
 * (CLONE_VFORK). So we pin ourselves to it around the clone, and the child, first thing, gives
 * itself and us our affinity back. A burst of starts is left to the scheduler, which spreads it
 * over the CPUs: pinned, each child would start behind the one before. Returns whether we are
 * pinned (then plan->affinity holds our affinity). */
static bool spawn_pin_here(SpawnPlan *plan) {
        static usec_t last;
        usec_t now = time_now(CLOCK_MONOTONIC);
        bool isolated = last == 0 || now - last >= SPAWN_BURST_USEC;
        cpu_set_t here;
        int cpu;

        last = now;
        if (!isolated)
                return false;
        cpu = sched_getcpu();
        if (cpu < 0 || cpu >= CPU_SETSIZE ||
            sched_getaffinity(0, sizeof plan->affinity, &plan->affinity) < 0 ||
            CPU_COUNT(&plan->affinity) < 2 || !CPU_ISSET(cpu, &plan->affinity))
                return false;
        CPU_ZERO(&here);
        CPU_SET(cpu, &here);
        return sched_setaffinity(0, sizeof here, &here) >= 0;
}

static int spawn_start_child(const SpawnParams *p, SpawnPlan *plan, pid_t *ret_pid,
                             int *ret_pidfd) {
        SpawnChildArgs args = { .p = p, .plan = plan };
        /* The kernel puts the child's pidfd (CLOEXEC) here as it creates it: there is no
         * moment when the child exists and we hold only its number. */
        int pidfd = -1, *want_pidfd = ret_pidfd && pidref_supported() ? &pidfd : NULL;
        sigset_t all, saved;
        void *stack = NULL;
        pid_t pid = -1;
        int r;

        r = child_stack_get(&stack);
        if (r < 0)
                return r;

        plan->pinned = spawn_pin_here(plan);
        plan->parent_unpinned = false;

        /* No handler of ours may run in the child before it reset the dispositions: it would
         * run in our memory. glibc's posix_spawn() blocks its internal signals too; we have no
         * threads, so none of those can come. */
        if (sigfillset(&all) < 0 || sigprocmask(SIG_SETMASK, &all, &saved) < 0)
                return -errno;
#if SPAWN_HAVE_CLONE3
        /* Whatever clone3() refuses, the child then moves itself and says what failed. */
        if (plan->cgroup_fd >= 0 && clone3_usable)
                pid = spawn_clone_into_cgroup(plan, &args, want_pidfd);
#endif
        if (pid < 0)
                pid = clone(spawn_child_main, stack,
                            CLONE_VM | CLONE_VFORK | SIGCHLD | (want_pidfd ? CLONE_PIDFD : 0),
                            &args, want_pidfd);
        r = pid < 0 ? -errno : 0;
        (void) sigprocmask(SIG_SETMASK, &saved, NULL);
        /* No child gave it back (none ran, or it could not). */
        if (plan->pinned && !plan->parent_unpinned)
                (void) sched_setaffinity(0, sizeof plan->affinity, &plan->affinity);
        if (r < 0)
                return r;
        *ret_pid = pid;
        if (ret_pidfd)
                *ret_pidfd = pidfd;
        return 0;
}

#endif

int spawn_process_pidfd(const SpawnParams *p, pid_t *ret_pid, int *ret_pidfd, char *err,
                        size_t errlen) {
        _cleanup_(spawn_plan_done) SpawnPlan plan = {
                .devnull_in = -1,
                .devnull_out = -1,
                .error_pipe = { -1, -1 },
                .cgroup_fd = -1,
        };
        const char *name = p->log_name ?: strna(p->path);
        _cleanup_close_ int pidfd = -1;
        SpawnFailure f;
        ssize_t n;
        pid_t pid = 0;
        int r;

        if (err && errlen > 0)
                err[0] = '\0';

        r = spawn_prepare(p, &plan, name, err, errlen);
        if (r == -ENOMEM)
                return errbuf_set(err, errlen, r, "%s: out of memory", name);
        if (r < 0)
                return r;

        r = spawn_start_child(p, &plan, &pid, ret_pidfd ? &pidfd : NULL);
        if (r < 0)
                return errbuf_set(err, errlen, r, "%s: cannot start a process: %m", name);

        plan.error_pipe[1] = safe_close(plan.error_pipe[1]);

        do
                n = read(plan.error_pipe[0], &f, sizeof f);
        while (n < 0 && errno == EINTR);

        if (n == 0) {
                /* A kernel too old for CLONE_PIDFD leaves it unset: the child is ours and not
                 * reaped yet, so its number is still its own. */
                if (ret_pidfd && pidfd < 0 && pidref_supported()) {
                        PidRef ref;
                        if (pidref_open(&ref, pid) >= 0)
                                pidfd = ref.fd;
                }
                *ret_pid = pid;
                if (ret_pidfd)
                        *ret_pidfd = TAKE_FD(pidfd);
                return 0;
        }

        /* The child failed (or we cannot tell): it exits, reap it so it does not linger. */
        r = n < 0 ? -errno : -EIO;
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (n < 0)
                return errbuf_set(err, errlen, r, "%s: cannot read the result of exec: %m",
                                   name);
        if (n != (ssize_t) sizeof f || f.step < 0 || f.step >= _SPAWN_STEP_MAX || f.error <= 0)
                return errbuf_set(err, errlen, r, "%s: malformed report from the child", name);
        return spawn_failure_message(p, &plan, name, (SpawnStep) f.step, -f.error, err, errlen);
}

int spawn_process(const SpawnParams *p, pid_t *ret_pid, char *err, size_t errlen) {
        return spawn_process_pidfd(p, ret_pid, NULL, err, errlen);
}
