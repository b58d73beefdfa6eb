/* spawn: start and exec one process with the LISTEN_FDS layout (SPEC §4 "Handoff"), its
 * credentials and its environment. It knows nothing of units: it takes argv, envp, named fds
 * and credentials, and returns a pid. It does not log: failures come back as a negative errno
 * and a one-line message for the caller to log. It does not wait for or reap the child once
 * exec succeeded; the caller's child watch does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* AddressSanitizer keeps per-thread stack state (the bounds of the stack, its shadow) that a
 * child running on a stack it never saw breaks: tried, every _exit() of a failing child warns
 * "ASan is ignoring requested __asan_handle_no_return ... False positive error reports may
 * follow", and the reused stack keeps the shadow poison of frames that never returned. So the
 * sanitized build forks; only it does. Elsewhere spawn uses clone(CLONE_VM | CLONE_VFORK)
 * (see spawn.c), so that its cost does not grow with our memory. */
#if defined(__SANITIZE_ADDRESS__)
#  define SPAWN_USE_FORK 1
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer)
#    define SPAWN_USE_FORK 1
#  endif
#endif
#ifndef SPAWN_USE_FORK
#  define SPAWN_USE_FORK 0
#endif

/* Caps: fds passed to one process (each costs two fds in the child while it is being set
 * up), and the longest fd name (systemd's FDNAME_MAX). */
#define SPAWN_FDS_MAX 4096U
#define SPAWN_FDNAME_MAX 255U
/* Room for any message spawn_process() writes. */
#define SPAWN_ERROR_MAX 1024
/* The PATH bare names are looked up in when envp has none (systemd's default). */
#define SPAWN_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

typedef struct SpawnParams {
        /* The executable: an absolute path, or a bare name looked up (in the parent, before the
         * credentials change) in envp's PATH, or SPAWN_DEFAULT_PATH. */
        const char *path;
        char *const *argv;        /* non-empty; argv[0] is passed as is */
        /* The base environment, or NULL for none. LISTEN_FDS, LISTEN_FDNAMES, LISTEN_PID and
         * LISTEN_PIDFDID in it are always dropped; when n_fds > 0, spawn sets LISTEN_FDS=n,
         * LISTEN_FDNAMES (when fd_names is given) and LISTEN_PID (the child's pid, written in
         * the child after fork). */
        char *const *envp;
        const int *fds;           /* borrowed; placed at 3..3+n_fds-1 in this order */
        char *const *fd_names;    /* n_fds names (printable ASCII, no ':'), or NULL */
        size_t n_fds;
        /* Keep O_NONBLOCK on the passed fds; otherwise it is cleared. O_NONBLOCK belongs to
         * the open file description, which the caller shares: clearing it in the child clears
         * it for the caller's copy too, as under systemd. */
        bool non_blocking;
        /* Leave O_NONBLOCK as it is on the passed fds, whatever non_blocking says: for a
         * process that shares them with another one still running (Handover=overlap), where
         * changing the shared flag would change it under the running process too. */
        bool keep_file_status;
        int stdin_fd, stdout_fd, stderr_fd; /* borrowed; -1 = /dev/null */
        /* Names or numeric ids; NULL = keep. A user also sets its primary group (unless group
         * is given) and its groups from the group database; a numeric user with no passwd
         * entry gets the group of the same number. supplementary_groups are added to those.
         * Run unprivileged, a user of our own uid with no supplementary_groups is a no-op. */
        const char *user, *group;
        char *const *supplementary_groups;
        /* Absolute, or "~" for the home of user (or of our own user); NULL = keep. Entered
         * after the credentials change. With working_directory_optional a missing directory
         * (ENOENT), or a "~" with no home, is not an error and the process starts in /, as
         * systemd's do (never in berthd's own directory). */
        const char *working_directory;
        bool working_directory_optional;
        mode_t umask;             /* always applied: zero-initialized params give 0000 */
        bool set_limit_nofile;
        uint64_t limit_nofile_soft, limit_nofile_hard; /* UINT64_MAX = infinity */
        bool no_new_privileges;
        bool ignore_sigpipe;      /* IgnoreSIGPIPE=: SIGPIPE ignored, as systemd's default */
        /* The directory of a cgroup (v2) the child starts in, or NULL. The kernel puts it
         * there as it creates it (clone3() with CLONE_INTO_CGROUP) where it can; otherwise
         * the child moves itself in first thing, through the cgroup's cgroup.procs. */
        const char *cgroup;
        const char *log_name;     /* first word of every message, e.g. the unit; NULL = path */
} SpawnParams;

/* Raises this process's soft RLIMIT_NOFILE to its hard limit, as systemd does for itself (a
 * supervisor holding every socket and fd store needs the room), and sets what a process
 * spawned without set_limit_nofile gets, from the limits we had before, as systemd's
 * DefaultLimitNOFILE= default (fallback_rlimit_nofile()): the soft limit at most 1024, so
 * that select() users keep working, and the hard one raised to 524288 (never lowered, never
 * past fs.nr_open) unless user_mode, which keeps it. Until it is called, spawned processes
 * keep our limits. Every limit is applied as systemd's setrlimit_closest(): one that is not
 * allowed (infinity, or above our hard limit without CAP_SYS_RESOURCE) is lowered to the
 * closest allowed, never an error. Returns 0 or a negative errno. */
int spawn_raise_limit_nofile(bool user_mode);

/* Starts (clone() or fork(), see SPAWN_USE_FORK) and executes p->path. In the child, in this
 * order: signal dispositions reset to SIG_DFL and the signal mask emptied; setsid(); moved into
 * p->cgroup, unless it was started there; stdio and the fds set up at 0..3+n_fds-1
 * (FD_CLOEXEC cleared, O_NONBLOCK cleared unless non_blocking) and every other fd closed;
 * LimitNOFILE=; supplementary groups, gid, uid; umask; working directory; NoNewPrivileges=;
 * execve(). Users, groups, the PATH lookup, the final environment and LISTEN_FDNAMES are all
 * resolved in the parent, so the child allocates nothing.
 * Returns 0 with the pid of the running process in *ret_pid once execve() succeeded (the
 * caller reaps it). Otherwise returns a negative errno and writes a message to err naming the
 * step, e.g. "web.service: cannot execute '/usr/bin/nope': No such file or directory" or
 * "web.service: unknown user 'bob'"; a child that failed has been reaped. Failures: -EINVAL
 * (bad params), -ESRCH (unknown user or group), -E2BIG (too many fds), the errno of the step
 * that failed in the child, or -ENOMEM. err may be NULL. Borrows every fd in p. */
int spawn_process(const SpawnParams *p, pid_t *ret_pid, char *err, size_t errlen);
/* The same, and on success a pidfd of the child in *ret_pidfd (owned by the caller, CLOEXEC;
 * from CLONE_PIDFD, or pidfd_open() where that is missing), or -1 where the kernel has no
 * pidfds (pidref.h). */
int spawn_process_pidfd(const SpawnParams *p, pid_t *ret_pid, int *ret_pidfd, char *err,
                        size_t errlen);

/* Looks name up as execvp() would, but in envp's PATH (or SPAWN_DEFAULT_PATH): a name with a
 * '/' is taken as is; otherwise the first regular file that access(X_OK) allows in an
 * absolute PATH entry wins. Returns 0 and the path in *ret_path (caller frees), -ENOENT when
 * nothing was found, -EACCES when only unusable candidates were found, or -ENOMEM. */
int spawn_find_executable(const char *name, char *const *envp, char **ret_path);

/* Sets the disposition of sig (SIG_DFL or SIG_IGN) with the kernel's rt_sigaction() itself:
 * libc's sigaction() refuses the signals it keeps for its own use (32 and 33 in glibc), yet an
 * ignored one passes through execve() like any other. Async-signal-safe. Returns 0 or -errno. */
int spawn_signal_set_raw(int sig, void (*handler)(int));
