/* Tests for daemon/spawn.c with real child processes and no mocks. The child is this very
 * binary, re-executed as "--probe OUTFILE ARGS...": it writes what it sees (open fds and their
 * flags and socket names, LISTEN_* variables, signal mask and dispositions, session, umask,
 * cwd, RLIMIT_NOFILE, credentials, no_new_privs, argv) as "key=value" lines, and the tests
 * compare those lines. These pin the kernel contract of SPEC §4: fds at 3..n with FD_CLOEXEC
 * cleared, nothing else inherited. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/env-util.h"
#include "common/macro.h"
#include "daemon/cgroup.h"
#include "daemon/spawn.h"

extern char **environ;

/* Our own executable, resolved once: "/proc/self/exe" cannot be used by a child that changed
 * its user (it is no longer dumpable, so its /proc entries belong to root). */
static char self_exe[PATH_MAX];

#define STRV(...) ((char *const *) (const char *const[]) { __VA_ARGS__, NULL })

/* ---- The probe (runs in the child) ---- */

typedef struct Out {
        char buf[32768];
        size_t n;
} Out;

_printf_(2, 3) static void out_printf(Out *o, const char *fmt, ...) {
        va_list ap;
        int k;

        if (o->n >= sizeof o->buf)
                return;
        va_start(ap, fmt);
        k = vsnprintf(o->buf + o->n, sizeof o->buf - o->n, fmt, ap);
        va_end(ap);
        if (k > 0)
                o->n = MIN(o->n + (size_t) k, sizeof o->buf);
}

static int cmp_int(const void *a, const void *b) {
        return *(const int *) a - *(const int *) b;
}

static int cmp_gid(const void *a, const void *b) {
        gid_t x = *(const gid_t *) a, y = *(const gid_t *) b;
        return x < y ? -1 : x > y;
}

static void probe_sockname(Out *o, int fd) {
        struct sockaddr_un sa = {};
        socklen_t len = sizeof sa;

        if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
                out_printf(o, "-");
        else if (sa.sun_family != AF_UNIX || len <= offsetof(struct sockaddr_un, sun_path) + 1 ||
                 sa.sun_path[0] != '\0')
                out_printf(o, "?");
        else
                out_printf(o, "@%.*s", (int) (len - offsetof(struct sockaddr_un, sun_path) - 1),
                           sa.sun_path + 1);
}

static void probe_status_line(Out *o, const char *key, const char *field) {
        char line[256];
        FILE *f = fopen("/proc/self/status", "re");

        out_printf(o, "%s=", key);
        if (f) {
                while (fgets(line, sizeof line, f))
                        if (startswith(line, field)) {
                                const char *v = line + strlen(field);

                                v += strspn(v, " \t");
                                out_printf(o, "%.*s", (int) strcspn(v, "\n"), v);
                                break;
                        }
                fclose(f);
        }
        out_printf(o, "\n");
}

static const char *disposition(int sig) {
        struct sigaction sa;

        if (sigaction(sig, NULL, &sa) < 0)
                return "error";
        if (sa.sa_handler == SIG_DFL)
                return "dfl";
        if (sa.sa_handler == SIG_IGN)
                return "ign";
        return "handler";
}

static int probe_main(const char *outfile, int argc, char **argv) {
        static Out o;
        int fds[512];
        size_t n_fds = 0;
        DIR *d;
        struct dirent *de;
        const char *e;
        int listen_vars = 0;
        sigset_t mask;
        char cwd[PATH_MAX];
        struct rlimit rl;
        uid_t ru, eu, su;
        gid_t rg, eg, sg, groups[256];
        int n_groups, fd;
        mode_t m;

        /* The fd list first, before anything here opens one. */
        d = opendir("/proc/self/fd");
        if (!d)
                return 2;
        while ((de = readdir(d)) && n_fds < ELEMENTSOF(fds))
                if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d))
                        fds[n_fds++] = atoi(de->d_name);
        closedir(d);
        qsort(fds, n_fds, sizeof(int), cmp_int);

        out_printf(&o, "\nfds=");
        for (size_t i = 0; i < n_fds; i++)
                out_printf(&o, "%s%d", i ? "," : "", fds[i]);
        out_printf(&o, "\n");
        for (size_t i = 0; i < n_fds; i++) {
                char path[64], link[PATH_MAX] = "";
                ssize_t k;

                snprintf(path, sizeof path, "/proc/self/fd/%d", fds[i]);
                k = readlink(path, link, sizeof link - 1);

                out_printf(&o, "fd%d=cloexec:%d,nonblock:%d,name:", fds[i],
                           !!(fcntl(fds[i], F_GETFD) & FD_CLOEXEC),
                           !!(fcntl(fds[i], F_GETFL) & O_NONBLOCK));
                probe_sockname(&o, fds[i]);
                out_printf(&o, "\nlink%d=%s\n", fds[i], k > 0 ? link : "?");
        }

        out_printf(&o, "pid=%d\n", (int) getpid());
        out_printf(&o, "sid_is_pid=%d\n", getsid(0) == getpid());
        out_printf(&o, "pgid_is_pid=%d\n", getpgid(0) == getpid());
        e = getenv("LISTEN_PID");
        out_printf(&o, "listen_pid=%s\n", e ?: "(unset)");
        out_printf(&o, "listen_pid_is_pid=%d\n", e && atoi(e) == getpid());
        out_printf(&o, "listen_fds=%s\n", getenv("LISTEN_FDS") ?: "(unset)");
        out_printf(&o, "listen_fdnames=%s\n", getenv("LISTEN_FDNAMES") ?: "(unset)");
        for (char **env = environ; *env; env++)
                if (startswith(*env, "LISTEN_"))
                        listen_vars++;
        out_printf(&o, "listen_vars=%d\n", listen_vars);
        out_printf(&o, "env_var=%s\n", getenv("BERTH_PROBE_VAR") ?: "(unset)");

        out_printf(&o, "blocked=");
        if (sigprocmask(SIG_BLOCK, NULL, &mask) == 0)
                for (int sig = 1; sig < _NSIG; sig++)
                        if (sigismember(&mask, sig) == 1)
                                out_printf(&o, "%d,", sig);
        out_printf(&o, "\n");
        probe_status_line(&o, "sigblk", "SigBlk:");
        probe_status_line(&o, "sigign", "SigIgn:");
        out_printf(&o, "SIGINT=%s\nSIGPIPE=%s\nSIGTERM=%s\nSIGCHLD=%s\nSIGHUP=%s\n",
                   disposition(SIGINT), disposition(SIGPIPE), disposition(SIGTERM),
                   disposition(SIGCHLD), disposition(SIGHUP));

        m = umask(0);
        umask(m);
        out_printf(&o, "umask=%04o\n", (unsigned) m);
        out_printf(&o, "cwd=%s\n", getcwd(cwd, sizeof cwd) ?: "?");
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
                out_printf(&o, "nofile=%llu:%llu\n", (unsigned long long) rl.rlim_cur,
                           (unsigned long long) rl.rlim_max);
        if (getresuid(&ru, &eu, &su) == 0)
                out_printf(&o, "uid=%u,%u,%u\n", (unsigned) ru, (unsigned) eu, (unsigned) su);
        if (getresgid(&rg, &eg, &sg) == 0)
                out_printf(&o, "gid=%u,%u,%u\n", (unsigned) rg, (unsigned) eg, (unsigned) sg);
        n_groups = getgroups(ELEMENTSOF(groups), groups);
        out_printf(&o, "groups=");
        if (n_groups > 0) {
                qsort(groups, (size_t) n_groups, sizeof(gid_t), cmp_gid);
                for (int i = 0; i < n_groups; i++)
                        out_printf(&o, "%s%u", i ? "," : "", (unsigned) groups[i]);
        }
        out_printf(&o, "\n");
        out_printf(&o, "nnp=%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        {
                cpu_set_t cpus;

                out_printf(&o, "cpus=");
                if (sched_getaffinity(0, sizeof cpus, &cpus) == 0)
                        for (int c = 0, first = 1; c < CPU_SETSIZE; c++)
                                if (CPU_ISSET(c, &cpus)) {
                                        out_printf(&o, "%s%d", first ? "" : ",", c);
                                        first = 0;
                                }
                out_printf(&o, "\n");
        }
        {
                _cleanup_fclose_ FILE *f = fopen("/proc/self/cgroup", "re");
                char line[PATH_MAX];

                /* The cgroup2 line, "0::/path". */
                while (f && fgets(line, sizeof line, f))
                        if (startswith(line, "0::"))
                                out_printf(&o, "cgroup=%.*s\n", (int) strcspn(line + 3, "\n"),
                                           line + 3);
        }
        out_printf(&o, "argv=");
        for (int i = 0; i < argc; i++)
                out_printf(&o, "%s%s", i ? "|" : "", argv[i]);
        out_printf(&o, "\n");

        fd = open(outfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return 3;
        if (write(fd, o.buf, o.n) != (ssize_t) o.n) {
                close(fd);
                return 4;
        }
        close(fd);
        return 0;
}

/* ---- Helpers (run in the test) ---- */

static void tmpdir_make(char *dir, size_t size) {
        snprintf(dir, size, "/tmp/test-spawn-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(dir));
        /* Children running as another user write their report here. */
        ck_assert_int_eq(chmod(dir, 0777), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void tmpdir_remove(const char *dir) {
        (void) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *read_text(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        char *buf;
        ssize_t n;

        if (fd < 0)
                return NULL;
        buf = calloc(1, 65536);
        ck_assert_ptr_nonnull(buf);
        n = read(fd, buf, 65535);
        ck_assert_int_ge(n, 0);
        return buf;
}

static bool report_has(const char *report, const char *line) {
        _cleanup_free_ char *needle = NULL;

        ck_assert_int_ge(asprintf(&needle, "\n%s\n", line), 0);
        return strstr(report, needle) != NULL;
}

#define ASSERT_REPORT(r, ...)                                                                      \
        do {                                                                                       \
                char *_line_ = NULL;                                                               \
                ck_assert_int_ge(asprintf(&_line_, __VA_ARGS__), 0);                               \
                ck_assert_msg(report_has(r, _line_), "expected \"%s\" in the probe's report:%s",  \
                              _line_, r);                                                          \
                free(_line_);                                                                      \
        } while (0)

/* A listening, non-blocking, CLOEXEC unix socket bound to the abstract name "@name". */
static int make_socket(const char *name) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(name);
        int fd;

        ck_assert_uint_lt(len, sizeof sa.sun_path - 1);
        memcpy(sa.sun_path + 1, name, len);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, (struct sockaddr *) &sa,
                              (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + len)), 0);
        ck_assert_int_eq(listen(fd, 4), 0);
        return fd;
}

static void socket_name(char *buf, size_t size, const char *tag, size_t i) {
        snprintf(buf, size, "berth-test-%d-%s-%zu", (int) getpid(), tag, i);
}

/* Our environment (which carries ASAN_OPTIONS and the like) plus extra. */
static char **probe_env(char *const *extra) {
        char **env = NULL;

        ck_assert_int_eq(env_merge(environ, extra, &env), 0);
        return env;
}

static int wait_exit_status(pid_t pid) {
        int status;

        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status), "child died of signal %d", WTERMSIG(status));
        return WEXITSTATUS(status);
}

/* Runs the probe with p (path and argv are set here; extra_arg is appended to argv when not
 * NULL), waits for it, and returns its report (caller frees) and pid. */
static char *run_probe(SpawnParams *p, const char *dir, const char *extra_arg, pid_t *ret_pid) {
        char outfile[PATH_MAX], err[SPAWN_ERROR_MAX];
        const char *argv[] = { self_exe, "--probe", outfile, extra_arg, NULL };
        pid_t pid;
        int r;

        snprintf(outfile, sizeof outfile, "%s/probe.out", dir);
        (void) unlink(outfile);
        p->path = self_exe;
        p->argv = (char *const *) argv;
        r = spawn_process(p, &pid, err, sizeof err);
        ck_assert_msg(r == 0, "spawn_process: %d %s", r, err);
        ck_assert_int_eq(wait_exit_status(pid), 0);
        if (ret_pid)
                *ret_pid = pid;
        return read_text(outfile);
}

static void on_sigint(int sig) {
}

static int count_open_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory's own fd */
}

/* Whether uid/gid may execute our binary and write to dir: checked in a child that takes
 * that identity. */
static bool identity_can_run_probe(uid_t uid, gid_t gid, const char *dir) {
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
                    setresuid(uid, uid, uid) < 0)
                        _exit(1);
                _exit(access(self_exe, X_OK) == 0 && access(dir, W_OK | X_OK) == 0 ? 0 : 1);
        }
        return wait_exit_status(pid) == 0;
}

/* ---- Tests ---- */

START_TEST(test_layout_and_reset) {
        char dir[64], names[3][64], stdout_path[PATH_MAX];
        int fds[3], leak_null, leak_pipe[2], leak_dup, out_fd;
        char *const fd_names[] = { (char *) "alpha", (char *) "beta", (char *) "gamma" };
        struct sigaction sa = { .sa_handler = on_sigint };
        sigset_t block;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *report = NULL;
        pid_t pid;

        tmpdir_make(dir, sizeof dir);
        for (size_t i = 0; i < 3; i++) {
                socket_name(names[i], sizeof names[i], "layout", i);
                fds[i] = make_socket(names[i]);
        }

        /* Fds the child must not see: some without CLOEXEC, one far up. */
        leak_null = open("/dev/null", O_RDONLY);
        ck_assert_int_ge(leak_null, 0);
        ck_assert_int_eq(pipe(leak_pipe), 0);
        leak_dup = fcntl(fds[0], F_DUPFD, 200);
        ck_assert_int_ge(leak_dup, 200);

        /* Signal state the child must not inherit. */
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGCHLD);
        sigaddset(&block, SIGHUP);
        ck_assert_int_eq(sigprocmask(SIG_BLOCK, &block, NULL), 0);
        ck_assert_int_eq(sigaction(SIGINT, &sa, NULL), 0);
        ck_assert(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
        /* libc's own signals, ignored as dpkg-buildpackage's chain once left them: libc's
         * sigaction() cannot reset those. */
        for (int sig = 32; sig <= 33 && sig < SIGRTMIN; sig++)
                ck_assert_int_eq(spawn_signal_set_raw(sig, SIG_IGN), 0);

        snprintf(stdout_path, sizeof stdout_path, "%s/stdout", dir);
        out_fd = open(stdout_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(out_fd, 0);

        env = probe_env(STRV("LISTEN_FDS=99", "LISTEN_PID=1", "LISTEN_FDNAMES=bogus",
                             "LISTEN_PIDFDID=7", "BERTH_PROBE_VAR=hello world"));
        SpawnParams p = {
                .envp = env,
                .fds = fds,
                .fd_names = fd_names,
                .n_fds = 3,
                .stdin_fd = -1,
                .stdout_fd = out_fd,
                .stderr_fd = -1,
                .working_directory = dir,
                .umask = 0027,
                .set_limit_nofile = true,
                .limit_nofile_soft = 256,
                .limit_nofile_hard = 512,
                .no_new_privileges = true,
                .log_name = "probe.service",
        };
        report = run_probe(&p, dir, "an arg with spaces", &pid);
        ck_assert_ptr_nonnull(report);

        /* Exactly 0, 1, 2 and the passed fds, in order, CLOEXEC and O_NONBLOCK cleared. */
        ASSERT_REPORT(report, "fds=0,1,2,3,4,5");
        for (size_t i = 0; i < 3; i++)
                ASSERT_REPORT(report, "fd%zu=cloexec:0,nonblock:0,name:@%s", 3 + i, names[i]);
        ASSERT_REPORT(report, "link0=/dev/null");
        ASSERT_REPORT(report, "link1=%s", stdout_path);
        ASSERT_REPORT(report, "link2=/dev/null");
        for (int i = 0; i < 3; i++)
                ASSERT_REPORT(report, "fd%d=cloexec:0,nonblock:0,name:-", i);

        /* The LISTEN_FDS protocol, inherited values replaced. */
        ASSERT_REPORT(report, "pid=%d", (int) pid);
        ASSERT_REPORT(report, "listen_pid=%d", (int) pid);
        ASSERT_REPORT(report, "listen_pid_is_pid=1");
        ASSERT_REPORT(report, "listen_fds=3");
        ASSERT_REPORT(report, "listen_fdnames=alpha:beta:gamma");
        ASSERT_REPORT(report, "listen_vars=3");
        ASSERT_REPORT(report, "env_var=hello world");

        /* Signals: nothing blocked, nothing ignored, no handler. */
        ASSERT_REPORT(report, "blocked=");
        ASSERT_REPORT(report, "sigblk=0000000000000000");
        ASSERT_REPORT(report, "sigign=0000000000000000");
        ASSERT_REPORT(report, "SIGINT=dfl");
        ASSERT_REPORT(report, "SIGPIPE=dfl");
        ASSERT_REPORT(report, "SIGTERM=dfl");
        ASSERT_REPORT(report, "SIGCHLD=dfl");
        ASSERT_REPORT(report, "SIGHUP=dfl");

        ASSERT_REPORT(report, "sid_is_pid=1");
        ASSERT_REPORT(report, "pgid_is_pid=1");
        ASSERT_REPORT(report, "umask=0027");
        ASSERT_REPORT(report, "cwd=%s", dir);
        ASSERT_REPORT(report, "nofile=256:512");
        ASSERT_REPORT(report, "nnp=1");
        ASSERT_REPORT(report, "argv=%s|--probe|%s/probe.out|an arg with spaces", self_exe, dir);

        /* O_NONBLOCK lives in the open file description the child shares with us: clearing it
         * there cleared it here too. Callers must not rely on it afterwards. */
        ck_assert_int_eq(fcntl(fds[0], F_GETFL) & O_NONBLOCK, 0);

        for (size_t i = 0; i < 3; i++)
                safe_close(fds[i]);
        safe_close(leak_null);
        safe_close(leak_pipe[0]);
        safe_close(leak_pipe[1]);
        safe_close(leak_dup);
        safe_close(out_fd);
        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_non_blocking_kept) {
        char dir[64], name[64];
        int fd;
        _cleanup_free_ char *report = NULL;

        tmpdir_make(dir, sizeof dir);
        socket_name(name, sizeof name, "nonblock", 0);
        fd = make_socket(name);

        SpawnParams p = {
                .envp = environ,
                .fds = &fd,
                .n_fds = 1,
                .non_blocking = true,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
        };
        report = run_probe(&p, dir, NULL, NULL);
        ck_assert_ptr_nonnull(report);
        ASSERT_REPORT(report, "fds=0,1,2,3");
        ASSERT_REPORT(report, "fd3=cloexec:0,nonblock:1,name:@%s", name);
        /* Without names, no LISTEN_FDNAMES at all (sd_listen_fds_with_names() says "unknown"). */
        ASSERT_REPORT(report, "listen_fds=1");
        ASSERT_REPORT(report, "listen_fdnames=(unset)");
        ASSERT_REPORT(report, "listen_vars=2");
        /* umask is always applied. */
        ASSERT_REPORT(report, "umask=0000");
        ASSERT_REPORT(report, "nnp=0");

        safe_close(fd);
        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_no_fds_drops_listen_env) {
        char dir[64];
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *report = NULL;

        tmpdir_make(dir, sizeof dir);
        env = probe_env(STRV("LISTEN_FDS=2", "LISTEN_PID=1", "LISTEN_FDNAMES=a:b",
                             "LISTEN_PORT=8080"));
        SpawnParams p = {
                .envp = env,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
        };
        report = run_probe(&p, dir, NULL, NULL);
        ck_assert_ptr_nonnull(report);
        ASSERT_REPORT(report, "fds=0,1,2");
        ASSERT_REPORT(report, "listen_fds=(unset)");
        ASSERT_REPORT(report, "listen_pid=(unset)");
        /* Only the protocol's variables go; others that merely start alike stay. */
        ASSERT_REPORT(report, "listen_vars=1");

        tmpdir_remove(dir);
}
END_TEST

/* In a helper process of the test's: spawns the probe with fds at 3.. (and stdin_fd) and
 * exits with its status: 91 when spawn_process() fails (its message on stderr). */
_noreturn_ static void probe_and_exit(const char *outfile, const int *fds, size_t n,
                                      int stdin_fd) {
        const char *argv[] = { self_exe, "--probe", outfile, NULL };
        char err[SPAWN_ERROR_MAX];
        pid_t pid;
        int status;
        SpawnParams p = {
                .path = self_exe,
                .argv = (char *const *) argv,
                .envp = environ,
                .fds = fds,
                .n_fds = n,
                .stdin_fd = stdin_fd,
                .stdout_fd = -1,
                .stderr_fd = -1,
        };

        if (spawn_process(&p, &pid, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                _exit(91);
        }
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
                _exit(92);
        _exit(WEXITSTATUS(status));
}

/* The source fds already sit inside the target range 3..8, in the wrong order, and so do
 * /dev/null, the error pipe and the stdin source. Done in a process of our own whose fds we
 * control: check keeps fds of its own open in the test. */
START_TEST(test_swapped_order) {
        char dir[64], names[6][64], outfile[PATH_MAX];
        _cleanup_free_ char *report = NULL;
        pid_t helper;

        tmpdir_make(dir, sizeof dir);
        for (size_t i = 0; i < 6; i++)
                socket_name(names[i], sizeof names[i], "swap", i);
        snprintf(outfile, sizeof outfile, "%s/probe.out", dir);

        helper = fork();
        ck_assert_int_ge(helper, 0);
        if (helper == 0) {
                /* Where socket i starts out; 6, 7 and 8 stay free for /dev/null and the
                 * error pipe that spawn_process() opens. */
                static const int where[6] = { 5, 3, 4, 100, 101, 102 };
                int high[6], fds[6];

                for (size_t i = 0; i < 6; i++)
                        high[i] = fcntl(make_socket(names[i]), F_DUPFD_CLOEXEC, 200);
                for (int fd = 3; fd < 200; fd++)
                        (void) close(fd);
                for (size_t i = 0; i < 6; i++) {
                        if (dup3(high[i], where[i], O_CLOEXEC) != where[i])
                                _exit(90);
                        fds[i] = where[i];
                }
                for (int fd = 200; fd < 1024; fd++)
                        (void) close(fd);

                probe_and_exit(outfile, fds, 6, 4); /* stdin: socket 2, itself moving to 5 */
        }
        ck_assert_int_eq(wait_exit_status(helper), 0);

        report = read_text(outfile);
        ck_assert_ptr_nonnull(report);
        ASSERT_REPORT(report, "fds=0,1,2,3,4,5,6,7,8");
        for (size_t i = 0; i < 6; i++)
                ASSERT_REPORT(report, "fd%zu=cloexec:0,nonblock:0,name:@%s", 3 + i, names[i]);
        ASSERT_REPORT(report, "fd0=cloexec:0,nonblock:0,name:@%s", names[2]);
        ASSERT_REPORT(report, "link1=/dev/null");
        ASSERT_REPORT(report, "listen_fds=6");

        tmpdir_remove(dir);
}
END_TEST

/* More fds than half the fd limit: placing them needs at most one free fd, not a copy of
 * each (a service with a big fd store must not need twice its fds). */
START_TEST(test_many_fds_low_limit) {
        enum { N = 40 };
        char dir[64], names[N][64], outfile[PATH_MAX];
        _cleanup_free_ char *report = NULL;
        pid_t helper;

        tmpdir_make(dir, sizeof dir);
        for (size_t i = 0; i < N; i++)
                socket_name(names[i], sizeof names[i], "many", i);
        snprintf(outfile, sizeof outfile, "%s/probe.out", dir);

        helper = fork();
        ck_assert_int_ge(helper, 0);
        if (helper == 0) {
                struct rlimit rl = { .rlim_cur = 64, .rlim_max = 64 };
                int fds[N];

                for (int fd = 3; fd < 1024; fd++)
                        (void) close(fd);
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        _exit(89);
                /* In reverse order, so that most of them move. */
                for (size_t i = 0; i < N; i++) {
                        fds[N - 1 - i] = make_socket(names[N - 1 - i]);
                        if (fds[N - 1 - i] < 0)
                                _exit(90);
                }
                probe_and_exit(outfile, fds, N, -1);
        }
        ck_assert_int_eq(wait_exit_status(helper), 0);

        report = read_text(outfile);
        ck_assert_ptr_nonnull(report);
        ASSERT_REPORT(report, "listen_fds=%d", N);
        for (size_t i = 0; i < N; i++)
                ASSERT_REPORT(report, "fd%zu=cloexec:0,nonblock:0,name:@%s", 3 + i, names[i]);
        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_user_nobody) {
        char dir[64];
        struct passwd *pw;
        struct group *gr;
        gid_t expect[256];
        int n = ELEMENTSOF(expect);
        char groups[2048] = "";
        size_t len = 0;
        _cleanup_free_ char *report = NULL;

        if (geteuid() != 0) {
                fprintf(stderr, "test_user_nobody: skipped, needs root\n");
                return;
        }
        pw = getpwnam("nobody");
        gr = getgrnam("users");
        if (!pw || !gr) {
                fprintf(stderr, "test_user_nobody: skipped, no user 'nobody' or group 'users'\n");
                return;
        }
        tmpdir_make(dir, sizeof dir);
        if (!identity_can_run_probe(pw->pw_uid, pw->pw_gid, dir)) {
                fprintf(stderr, "test_user_nobody: skipped, 'nobody' cannot execute %s\n",
                        self_exe);
                tmpdir_remove(dir);
                return;
        }

        ck_assert_int_ge(getgrouplist("nobody", pw->pw_gid, expect, &n), 0);
        expect[n++] = gr->gr_gid;
        qsort(expect, (size_t) n, sizeof(gid_t), cmp_gid);
        for (int i = 0; i < n; i++)
                if (i == 0 || expect[i] != expect[i - 1])
                        len += (size_t) snprintf(groups + len, sizeof groups - len, "%s%u",
                                                 len ? "," : "", (unsigned) expect[i]);

        SpawnParams p = {
                .envp = environ,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
                .user = "nobody",
                .supplementary_groups = STRV("users"),
                .working_directory = dir,
        };
        report = run_probe(&p, dir, NULL, NULL);
        ck_assert_ptr_nonnull(report);
        ASSERT_REPORT(report, "uid=%u,%u,%u", (unsigned) pw->pw_uid, (unsigned) pw->pw_uid,
                      (unsigned) pw->pw_uid);
        ASSERT_REPORT(report, "gid=%u,%u,%u", (unsigned) pw->pw_gid, (unsigned) pw->pw_gid,
                      (unsigned) pw->pw_gid);
        ASSERT_REPORT(report, "groups=%s", groups);
        ASSERT_REPORT(report, "cwd=%s", dir);

        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_numeric_user_and_group) {
        char dir[64];
        _cleanup_free_ char *report = NULL;

        if (geteuid() != 0) {
                fprintf(stderr, "test_numeric_user_and_group: skipped, needs root\n");
                return;
        }
        tmpdir_make(dir, sizeof dir);
        if (getpwuid(4242) || !identity_can_run_probe(4242, 4243, dir)) {
                fprintf(stderr, "test_numeric_user_and_group: skipped, uid 4242 exists or "
                                "cannot execute %s\n", self_exe);
                tmpdir_remove(dir);
                return;
        }

        /* A uid without a passwd entry: its groups are the one given, nothing of root's. */
        SpawnParams p = {
                .envp = environ,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
                .user = "4242",
                .group = "4243",
        };
        report = run_probe(&p, dir, NULL, NULL);
        ck_assert_ptr_nonnull(report);
        ASSERT_REPORT(report, "uid=4242,4242,4242");
        ASSERT_REPORT(report, "gid=4243,4243,4243");
        ASSERT_REPORT(report, "groups=4243");
        free(report);

        /* Without a group: the group of the same number. */
        p.group = NULL;
        report = run_probe(&p, dir, NULL, NULL);
        ck_assert_ptr_nonnull(report);
        ASSERT_REPORT(report, "gid=4242,4242,4242");
        ASSERT_REPORT(report, "groups=4242");

        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_home_directory) {
        char dir[64];
        struct passwd *pw = getpwuid(geteuid());
        struct stat st;
        _cleanup_free_ char *report = NULL;

        if (!pw || stat(pw->pw_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, "test_home_directory: skipped, no home directory\n");
                return;
        }
        tmpdir_make(dir, sizeof dir);
        SpawnParams p = {
                .envp = environ,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
                .working_directory = "~",
        };
        report = run_probe(&p, dir, NULL, NULL);
        ck_assert_ptr_nonnull(report);
        ASSERT_REPORT(report, "cwd=%s", pw->pw_dir);
        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_working_directory_optional) {
        char dir[64], cwd[PATH_MAX];
        _cleanup_free_ char *report = NULL;
        char err[SPAWN_ERROR_MAX];
        pid_t pid;

        tmpdir_make(dir, sizeof dir);
        ck_assert_ptr_nonnull(getcwd(cwd, sizeof cwd));
        SpawnParams p = {
                .envp = environ,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
                .working_directory = "/nonexistent/berth-test",
                .working_directory_optional = true,
        };
        report = run_probe(&p, dir, NULL, NULL);
        ck_assert_ptr_nonnull(report);
        /* In /, as systemd's manager would leave it, not in our own directory. */
        ck_assert_str_ne(cwd, "/");
        ASSERT_REPORT(report, "cwd=/");

        p.working_directory_optional = false;
        p.path = "/bin/true";
        p.argv = STRV("true");
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -ENOENT);
        ck_assert_str_eq(err, "/bin/true: cannot change to working directory "
                              "'/nonexistent/berth-test': No such file or directory");

        p.working_directory = "relative/dir";
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "'relative/dir' is not absolute"));
        tmpdir_remove(dir);
}
END_TEST

/* Whether this process may raise its hard RLIMIT_NOFILE (CAP_SYS_RESOURCE): tried in a child. */
static bool can_raise_hard_nofile(void) {
        pid_t pid = fork();

        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                struct rlimit rl;

                if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_max == RLIM_INFINITY)
                        _exit(1);
                rl.rlim_max++;
                _exit(setrlimit(RLIMIT_NOFILE, &rl) == 0 ? 0 : 1);
        }
        return wait_exit_status(pid) == 0;
}

/* LimitNOFILE= and its default as systemd (issue 11, item 6): without the key, soft at most
 * 1024 and hard raised to 524288 (never past fs.nr_open) where allowed; a limit that is not
 * allowed is lowered to the closest one allowed, never EPERM. Runs from 256:512. */
START_TEST(test_limit_nofile_closest) {
        static const struct {
                bool set;
                uint64_t soft, hard;
        } rows[] = {
                { false, 0, 0 },
                { true, UINT64_MAX, UINT64_MAX },
                { true, 100000, 100000 },
                { true, 128, 4096 },
                { true, 300, 300 },
        };
        struct rlimit low = { .rlim_cur = 256, .rlim_max = 512 };
        unsigned long long nr_open = 0;
        char dir[64], expect[5][64];
        bool priv;
        FILE *f;

        f = fopen("/proc/sys/fs/nr_open", "re");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fscanf(f, "%llu", &nr_open), 1);
        fclose(f);
        /* check runs each test in a child of its own: lowering the limits here is undone. */
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
        priv = can_raise_hard_nofile();
        ck_assert_int_eq(spawn_raise_limit_nofile(false), 0);

        if (priv) {
                snprintf(expect[0], sizeof expect[0], "nofile=256:%llu", MIN(nr_open, 524288ULL));
                snprintf(expect[1], sizeof expect[1], "nofile=%llu:%llu", nr_open, nr_open);
                snprintf(expect[2], sizeof expect[2], "nofile=100000:100000");
                snprintf(expect[3], sizeof expect[3], "nofile=128:4096");
        } else {
                snprintf(expect[0], sizeof expect[0], "nofile=256:512");
                snprintf(expect[1], sizeof expect[1], "nofile=512:512");
                snprintf(expect[2], sizeof expect[2], "nofile=512:512");
                snprintf(expect[3], sizeof expect[3], "nofile=128:512");
        }
        snprintf(expect[4], sizeof expect[4], "nofile=300:300");

        tmpdir_make(dir, sizeof dir);
        for (size_t i = 0; i <= ELEMENTSOF(rows); i++) {
                _cleanup_free_ char *report = NULL;
                bool user_mode = i == ELEMENTSOF(rows);
                SpawnParams p = {
                        .envp = environ,
                        .stdin_fd = -1,
                        .stdout_fd = -1,
                        .stderr_fd = -1,
                        .set_limit_nofile = !user_mode && rows[i].set,
                        .limit_nofile_soft = user_mode ? 0 : rows[i].soft,
                        .limit_nofile_hard = user_mode ? 0 : rows[i].hard,
                };

                if (user_mode) {
                        /* The user manager keeps the hard limit it was started with. */
                        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
                        ck_assert_int_eq(spawn_raise_limit_nofile(true), 0);
                }
                report = run_probe(&p, dir, NULL, NULL);
                ck_assert_ptr_nonnull(report);
                ASSERT_REPORT(report, "%s", user_mode ? "nofile=256:512" : expect[i]);
        }
        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_errors) {
        char dir[64], path[PATH_MAX], path_var[PATH_MAX + 8], err[SPAWN_ERROR_MAX];
        int fd = -1;
        pid_t pid = 0;
        SpawnParams p = {
                .path = "/nonexistent/berth-nope",
                .argv = STRV("nope"),
                .envp = environ,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
                .log_name = "web.service",
        };

        tmpdir_make(dir, sizeof dir);

        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -ENOENT);
        ck_assert_str_eq(err, "web.service: cannot execute '/nonexistent/berth-nope': "
                              "No such file or directory");
        ck_assert_int_eq(pid, 0); /* set only on success */

        /* A file without x bits. */
        snprintf(path, sizeof path, "%s/not-executable", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ck_assert_int_ge(fd, 0);
        fd = safe_close(fd);
        p.path = path;
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EACCES);
        ck_assert_ptr_nonnull(strstr(err, "cannot execute '"));
        ck_assert_ptr_nonnull(strstr(err, "Permission denied"));

        p.path = "/bin/true";
        p.user = "berth-no-such-user";
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -ESRCH);
        ck_assert_str_eq(err, "web.service: unknown user 'berth-no-such-user'");

        p.user = NULL;
        p.group = "berth-no-such-group";
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -ESRCH);
        ck_assert_str_eq(err, "web.service: unknown group 'berth-no-such-group'");

        p.group = NULL;
        p.supplementary_groups = STRV("berth-no-such-group");
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -ESRCH);
        ck_assert_str_eq(err, "web.service: unknown supplementary group 'berth-no-such-group'");
        p.supplementary_groups = NULL;

        if (geteuid() != 0) {
                /* Unprivileged, another user is refused by the kernel, and said so. */
                p.user = "root";
                ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EPERM);
                ck_assert_ptr_nonnull(strstr(err, "user 'root'"));
                p.user = NULL;
        }

        p.path = "bin/true";
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "'bin/true'"));

        p.path = "berth-no-such-program";
        p.envp = STRV("PATH=/nonexistent:/bin");
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -ENOENT);
        ck_assert_str_eq(err, "web.service: cannot execute 'berth-no-such-program': not found "
                              "in PATH (/nonexistent:/bin)");
        p.path = "not-executable";
        snprintf(path_var, sizeof path_var, "PATH=%s", dir);
        p.envp = STRV(path_var);
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EACCES);
        ck_assert_ptr_nonnull(strstr(err, "cannot execute 'not-executable' from PATH"));
        p.envp = environ;

        p.path = "/bin/true";
        p.argv = STRV(NULL);
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EINVAL);
        p.argv = STRV("true");

        /* Bad fd names, and too many fds. */
        {
                int fds[2] = { 0, 0 };

                p.fds = fds;
                p.n_fds = 2;
                p.fd_names = STRV("ok", "a:b");
                ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EINVAL);
                ck_assert_ptr_nonnull(strstr(err, "'a:b'"));
                p.fd_names = STRV("ok", "");
                ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EINVAL);
                p.fd_names = NULL;
                p.n_fds = SPAWN_FDS_MAX + 1;
                ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -E2BIG);
                fds[1] = -1;
                p.n_fds = 2;
                ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EBADF);
                /* An fd that is not open is found by the child. */
                fds[1] = 999;
                ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EBADF);
                ck_assert_ptr_nonnull(strstr(err, "cannot set up the file descriptors"));
                p.fds = NULL;
                p.n_fds = 0;
        }

        /* A limit the kernel refuses (soft above hard). */
        p.set_limit_nofile = true;
        p.limit_nofile_soft = 64;
        p.limit_nofile_hard = 32;
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -EINVAL);
        ck_assert_str_eq(err, "web.service: cannot set LimitNOFILE=64:32: Invalid argument");

        /* err may be NULL. */
        p.set_limit_nofile = false;
        p.path = "/nonexistent/berth-nope";
        ck_assert_int_eq(spawn_process(&p, &pid, NULL, 0), -ENOENT);
        ck_assert_int_eq(pid, 0);

        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_path_lookup) {
        char dir[64], script[PATH_MAX], marker[PATH_MAX], path_var[PATH_MAX + 8];
        char err[SPAWN_ERROR_MAX];
        _cleanup_free_ char *found = NULL;
        _cleanup_free_ char *text = NULL;
        FILE *f;
        pid_t pid;
        int r;

        tmpdir_make(dir, sizeof dir);

        /* A bare name in the default PATH (envp without PATH). */
        ck_assert_int_eq(spawn_find_executable("sh", STRV("HOME=/"), &found), 0);
        ck_assert_ptr_nonnull(strstr(found, "/sh"));
        ck_assert_int_eq(access(found, X_OK), 0);
        free(found);
        found = NULL;

        /* Empty, relative and missing entries are skipped. */
        ck_assert_int_eq(spawn_find_executable("sh", STRV("PATH=::relative:/nonexistent:/bin"),
                                               &found), 0);
        ck_assert_str_eq(found, "/bin/sh");
        free(found);
        found = NULL;

        ck_assert_int_eq(spawn_find_executable("berth-none", STRV("PATH=/bin"), &found),
                         -ENOENT);
        ck_assert_int_eq(spawn_find_executable("tmp", STRV("PATH=/"), &found), -EACCES);
        ck_assert_int_eq(spawn_find_executable("/x/y", NULL, &found), 0);
        ck_assert_str_eq(found, "/x/y");
        free(found);
        found = NULL;

        /* A script of our own, found through envp's PATH, not ours. */
        snprintf(script, sizeof script, "%s/berth-hello", dir);
        snprintf(marker, sizeof marker, "%s/marker", dir);
        snprintf(path_var, sizeof path_var, "PATH=%s", dir);
        f = fopen(script, "we");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "#!/bin/sh\necho \"$0 $1 $HELLO\" > \"$1\"\nexit 7\n");
        ck_assert_int_eq(fclose(f), 0);
        ck_assert_int_eq(chmod(script, 0755), 0);

        SpawnParams p = {
                .path = "berth-hello",
                .argv = STRV("berth-hello", marker),
                .envp = STRV(path_var, "HELLO=world"),
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
        };
        r = spawn_process(&p, &pid, err, sizeof err);
        ck_assert_msg(r == 0, "%s", err);
        ck_assert_int_eq(wait_exit_status(pid), 7);
        text = read_text(marker);
        ck_assert_ptr_nonnull(text);
        {
                _cleanup_free_ char *expect = NULL;

                ck_assert_int_ge(asprintf(&expect, "%s %s world\n", script, marker), 0);
                ck_assert_str_eq(text, expect);
        }
        tmpdir_remove(dir);
}
END_TEST

START_TEST(test_no_fd_leak) {
        char err[SPAWN_ERROR_MAX];
        char *const names[] = { (char *) "a", (char *) "b" };
        int fds[2], before, after;
        _cleanup_free_ char *true_path = NULL;

        ck_assert_int_eq(spawn_find_executable("true", NULL, &true_path), 0);
        for (size_t i = 0; i < 2; i++) {
                char name[64];

                socket_name(name, sizeof name, "leak", i);
                fds[i] = make_socket(name);
        }
        before = count_open_fds();

        for (int i = 0; i < 200; i++) {
                SpawnParams p = {
                        .path = true_path,
                        .argv = STRV("true"),
                        .envp = environ,
                        .fds = fds,
                        .fd_names = names,
                        .n_fds = 2,
                        .stdin_fd = -1,
                        .stdout_fd = i % 2 ? -1 : 1,
                        .stderr_fd = -1,
                };
                pid_t pid;
                int r;

                /* Every tenth one fails, in the parent or in the child. */
                if (i % 10 == 3)
                        p.path = "/nonexistent/berth-nope";
                else if (i % 10 == 6)
                        p.user = "berth-no-such-user";
                else if (i % 10 == 9)
                        p.working_directory = "/nonexistent";
                r = spawn_process(&p, &pid, err, sizeof err);
                if (i % 10 == 3 || i % 10 == 6 || i % 10 == 9) {
                        ck_assert_int_lt(r, 0);
                        continue;
                }
                ck_assert_msg(r == 0, "%s", err);
                ck_assert_int_eq(wait_exit_status(pid), 0);
        }

        after = count_open_fds();
        ck_assert_int_eq(before, after);
        safe_close(fds[0]);
        safe_close(fds[1]);
}
END_TEST

/* The child runs in our memory (clone(CLONE_VM)), so spawning leaves our pages ours: writing
 * them afterwards takes no copy-on-write fault, which fork() would cost for every page. */
START_TEST(test_no_copy_on_write) {
        const size_t size = 64U * 1024U * 1024U;
        long page = sysconf(_SC_PAGESIZE);
        size_t n_pages = size / (size_t) page;
        char err[SPAWN_ERROR_MAX];
        struct rusage before, after;
        long faults;
        char *mem;
        pid_t pid;
        int r;

        if (SPAWN_USE_FORK)
                return; /* the sanitized build forks on purpose: see spawn.h */

        mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        ck_assert(mem != MAP_FAILED);
        /* Small pages, so that a fault is a page, whatever the THP setting. */
        (void) madvise(mem, size, MADV_NOHUGEPAGE);
        memset(mem, 1, size);

        SpawnParams p = {
                .path = "/bin/true",
                .argv = STRV("true"),
                .envp = environ,
                .stdin_fd = -1,
                .stdout_fd = -1,
                .stderr_fd = -1,
        };
        r = spawn_process(&p, &pid, err, sizeof err);
        ck_assert_msg(r == 0, "%s", err);
        ck_assert_int_eq(wait_exit_status(pid), 0);

        ck_assert_int_eq(getrusage(RUSAGE_SELF, &before), 0);
        for (size_t i = 0; i < n_pages; i++)
                mem[i * (size_t) page] = 2;
        ck_assert_int_eq(getrusage(RUSAGE_SELF, &after), 0);
        faults = after.ru_minflt - before.ru_minflt;
        ck_assert_msg(faults < (long) n_pages / 4,
                      "%ld faults writing %zu pages after a spawn: they were copied on write",
                      faults, n_pages);
        ck_assert_int_eq(munmap(mem, size), 0);
}
END_TEST

static bool mask_is(const sigset_t *set, const int *sigs, size_t n) {
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                bool want = false;

                for (size_t i = 0; i < n; i++)
                        want = want || sigs[i] == sig;
                if (!!sigismember(set, sig) != want)
                        return false;
        }
        return true;
}

/* Signals are blocked around the start of the child and the child resets its dispositions:
 * none of that may stay with us, whether the child exec'd or failed. */
START_TEST(test_parent_signal_state_kept) {
        const int blocked[] = { SIGTERM, SIGHUP };
        struct sigaction sa = { .sa_handler = on_sigint }, now;
        char err[SPAWN_ERROR_MAX];
        sigset_t set;
        pid_t pid;

        sigemptyset(&set);
        for (size_t i = 0; i < ELEMENTSOF(blocked); i++)
                sigaddset(&set, blocked[i]);
        ck_assert_int_eq(sigprocmask(SIG_SETMASK, &set, NULL), 0);
        ck_assert_int_eq(sigaction(SIGINT, &sa, NULL), 0);
        ck_assert(signal(SIGUSR1, SIG_IGN) != SIG_ERR);

        for (int i = 0; i < 2; i++) {
                SpawnParams p = {
                        .path = i == 0 ? "/bin/true" : "/nonexistent/berth-nope",
                        .argv = STRV("true"),
                        .envp = environ,
                        .stdin_fd = -1,
                        .stdout_fd = -1,
                        .stderr_fd = -1,
                        .log_name = "web.service",
                };
                int r = spawn_process(&p, &pid, err, sizeof err);

                if (i == 0) {
                        ck_assert_msg(r == 0, "%s", err);
                        ck_assert_int_eq(wait_exit_status(pid), 0);
                } else {
                        /* The failing step and its errno still come back. */
                        ck_assert_int_eq(r, -ENOENT);
                        ck_assert_str_eq(err, "web.service: cannot execute "
                                              "'/nonexistent/berth-nope': No such file or "
                                              "directory");
                }

                ck_assert_int_eq(sigprocmask(SIG_SETMASK, NULL, &set), 0);
                ck_assert(mask_is(&set, blocked, ELEMENTSOF(blocked)));
                ck_assert_int_eq(sigaction(SIGINT, NULL, &now), 0);
                ck_assert(now.sa_handler == on_sigint);
                ck_assert_int_eq(sigaction(SIGUSR1, NULL, &now), 0);
                ck_assert(now.sa_handler == SIG_IGN);
        }
}
END_TEST

/* The cgroup a process starts in: created there by the kernel (clone3() with
 * CLONE_INTO_CGROUP) or moved there, it is in it by the time it runs its program; also in a
 * cgroup that was killed through cgroup.kill before, where the kernel kills a process created
 * in it at birth (see spawn.c), and spawn moves a new one in instead. A cgroup that is not
 * there fails the start, naming its cgroup.procs. */
START_TEST(test_cgroup) {
        _cleanup_free_ char *root = NULL, *cg = NULL, *kill_file = NULL, *missing = NULL;
        char dir[64], why[256], err[SPAWN_ERROR_MAX];
        const char *argv[] = { "/bin/true", NULL };
        const char *base, *line;
        pid_t pid = 0;
        size_t len;
        int fd;

        if (cgroup_setup(&root, why, sizeof why) < 0) {
                fprintf(stderr, "test_cgroup: skipped, no cgroup to use: %s\n", why);
                return;
        }
        ck_assert_int_eq(cgroup_create(root, "svc", &cg), 0);
        /* The end of the path /proc/PID/cgroup shows (it starts at the cgroup2 mount). */
        base = strstr(cg, "/berth-");
        ck_assert_ptr_nonnull(base);
        tmpdir_make(dir, sizeof dir);

        for (int killed = 0; killed <= 1; killed++) {
                SpawnParams p = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                                  .cgroup = cg };
                _cleanup_free_ char *report = NULL;

                if (killed) {
                        ck_assert_int_ge(asprintf(&kill_file, "%s/cgroup.kill", cg), 0);
                        fd = open(kill_file, O_WRONLY | O_CLOEXEC);
                        if (fd < 0) {
                                fprintf(stderr, "test_cgroup: no cgroup.kill (before Linux "
                                        "5.14), the killed case is skipped\n");
                                break;
                        }
                        ck_assert_int_eq(write(fd, "1", 1), 1);
                        close(fd);
                }
                report = run_probe(&p, dir, NULL, NULL);
                ck_assert_ptr_nonnull(report);
                line = strstr(report, "\ncgroup=");
                ck_assert_msg(line, "no cgroup in the probe's report:%s", report);
                line += strlen("\ncgroup=");
                len = strcspn(line, "\n");
                ck_assert_msg(len >= strlen(base) &&
                              strncmp(line + len - strlen(base), base, strlen(base)) == 0,
                              "the probe ran in %.*s, not in ...%s", (int) len, line, base);
        }

        ck_assert_int_ge(asprintf(&missing, "%s/nope", root), 0);
        SpawnParams p = { .path = "/bin/true", .argv = (char *const *) argv, .stdin_fd = -1,
                          .stdout_fd = -1, .stderr_fd = -1, .cgroup = missing };
        ck_assert_int_eq(spawn_process(&p, &pid, err, sizeof err), -ENOENT);
        ck_assert_msg(strstr(err, "cannot join its cgroup (") && strstr(err, "/nope/cgroup.procs)"),
                      "%s", err);

        ck_assert_int_eq(cgroup_remove(cg), 0);
        ck_assert_int_eq(cgroup_remove(root), 0);
        tmpdir_remove(dir);
}
END_TEST

static void cpus_format(const cpu_set_t *cpus, char *buf, size_t size) {
        size_t n = 0;

        buf[0] = '\0';
        for (int c = 0; c < CPU_SETSIZE && n < size; c++)
                if (CPU_ISSET(c, cpus))
                        n += (size_t) snprintf(buf + n, size - n, "%s%d", n ? "," : "", c);
}

/* A start alone runs its child on our CPU, pinning us there for the clone: the child and we
 * end with the affinity we had, in a start alone, in a burst, and when we may use one CPU only
 * (nothing to pin then). */
START_TEST(test_cpu_affinity) {
        cpu_set_t all, now, one;
        char dir[64], want[4096], got[4096];

        ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; c++)
                if (CPU_ISSET(c, &all)) {
                        CPU_SET(c, &one);
                        break;
                }
        tmpdir_make(dir, sizeof dir);

        for (int i = 0; i < 4; i++) {
                const cpu_set_t *mine = i < 3 ? &all : &one;
                SpawnParams p = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1 };
                _cleanup_free_ char *report = NULL;

                /* 0: alone (a first start), 1 and 2: a burst, 3: one CPU. */
                ck_assert_int_eq(sched_setaffinity(0, sizeof *mine, mine), 0);
                report = run_probe(&p, dir, NULL, NULL);
                ck_assert_ptr_nonnull(report);
                cpus_format(mine, want, sizeof want);
                ASSERT_REPORT(report, "cpus=%s", want);
                ck_assert_int_eq(sched_getaffinity(0, sizeof now, &now), 0);
                cpus_format(&now, got, sizeof got);
                ck_assert_str_eq(got, want);
        }
        tmpdir_remove(dir);
}
END_TEST

static Suite *spawn_suite(void) {
        Suite *s = suite_create("spawn");
        TCase *tc;

        tc = tcase_create("layout");
        tcase_add_test(tc, test_layout_and_reset);
        tcase_add_test(tc, test_non_blocking_kept);
        tcase_add_test(tc, test_no_fds_drops_listen_env);
        tcase_add_test(tc, test_swapped_order);
        tcase_add_test(tc, test_many_fds_low_limit);
        suite_add_tcase(s, tc);

        tc = tcase_create("credentials");
        tcase_add_test(tc, test_user_nobody);
        tcase_add_test(tc, test_numeric_user_and_group);
        tcase_add_test(tc, test_home_directory);
        tcase_add_test(tc, test_working_directory_optional);
        suite_add_tcase(s, tc);

        tc = tcase_create("errors");
        tcase_add_test(tc, test_errors);
        tcase_add_test(tc, test_limit_nofile_closest);
        tcase_add_test(tc, test_path_lookup);
        suite_add_tcase(s, tc);

        tc = tcase_create("leaks");
        tcase_add_test(tc, test_no_fd_leak);
        tcase_add_test(tc, test_no_copy_on_write);
        tcase_add_test(tc, test_parent_signal_state_kept);
        tcase_set_timeout(tc, 120);
        suite_add_tcase(s, tc);

        tc = tcase_create("cgroup");
        tcase_add_test(tc, test_cgroup);
        suite_add_tcase(s, tc);

        tc = tcase_create("affinity");
        tcase_add_test(tc, test_cpu_affinity);
        suite_add_tcase(s, tc);

        return s;
}

int main(int argc, char **argv) {
        SRunner *sr;
        ssize_t n;
        int failures;

        if (argc >= 3 && streq(argv[1], "--probe"))
                return probe_main(argv[2], argc, argv);

        n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
        if (n <= 0) {
                perror("readlink /proc/self/exe");
                return EXIT_FAILURE;
        }
        self_exe[n] = '\0';

        sr = srunner_create(spawn_suite());
        srunner_run_all(sr, CK_NORMAL);
        failures = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
