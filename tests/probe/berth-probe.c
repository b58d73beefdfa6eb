/* berth-probe: a service that reports what it was handed. Started by berthd (or by systemd, or
 * systemd-socket-activate), it records the process state a supervisor controls: ids, every
 * open fd and its flags, socket details, the LISTEN_* environment and what libsystemd makes of
 * it, the signal mask and dispositions, umask, cwd and credentials. It writes that as one JSON
 * object to $PROBE_OUT (through a temporary file and rename(), so a reader never sees half a
 * report), or to stdout when PROBE_OUT is unset.
 *
 * Then it stays up, so a supervisor sees a running service:
 *   PROBE_SERVE=1   answer HTTP on every passed listening stream socket, and a datagram on
 *                   every passed datagram socket, with "probe pid N fdname X"
 *   otherwise       pause until a signal ends it
 * Optional knobs for supervision tests:
 *   PROBE_NOTIFY=1  send READY=1 to $NOTIFY_SOCKET after the report is written
 *   PROBE_EXIT=N    exit with status N right after the report (and READY=1), instead of staying
 * "%p" in PROBE_OUT is replaced by the pid, so each start of a restarted service can keep its own
 * report.
 *
 * Besides RLIMIT_NOFILE (kept as "rlimit_nofile"), "rlimits" lists every resource limit, and
 * "directories" gives the owner and mode of each path in $RUNTIME_DIRECTORY, $STATE_DIRECTORY,
 * $CACHE_DIRECTORY, $LOGS_DIRECTORY and $CONFIGURATION_DIRECTORY (colon-separated, as systemd
 * sets them), so RuntimeDirectory= and friends can be compared too.
 *
 * State is captured before anything can change it: sd_listen_fds() sets FD_CLOEXEC on the fds it
 * accepts, so the fd flags are read first. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/macro.h"

#define PROBE_MAX_FDS 4096
#define PROBE_MAX_GROUPS 256
#define PROBE_MAX_DIRS 32

extern char **environ;

/* A sanitizer runtime installs SIGSEGV, SIGBUS and SIGFPE handlers before main(), which the report
 * would blame on the supervisor. meson builds the probe without sanitizers; should one be linked in
 * anyway, these hooks (read by the ASan and UBSan runtimes at start, unused otherwise) keep the
 * default dispositions. No leak check either: the probe ends by _exit() or by a signal. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__asan_default_options(void) {
        return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0:detect_leaks=0";
}
const char *__ubsan_default_options(void) {
        return "handle_segv=0:handle_sigbus=0:handle_sigfpe=0";
}

typedef struct ProbeFd {
        int fd;
        char target[PATH_MAX];
        int fd_flags;   /* F_GETFD, or -errno */
        int fl_flags;   /* F_GETFL, or -errno */
        bool is_socket;
        int family;
        int type;
        int listening;  /* SO_ACCEPTCONN: 1, 0, or -errno */
        char address[256];
} ProbeFd;

static void json_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

static const char *family_to_string(int family) {
        switch (family) {
        case AF_INET:
                return "AF_INET";
        case AF_INET6:
                return "AF_INET6";
        case AF_UNIX:
                return "AF_UNIX";
        case AF_NETLINK:
                return "AF_NETLINK";
        case AF_PACKET:
                return "AF_PACKET";
        default:
                return NULL;
        }
}

static const char *socktype_to_string(int type) {
        switch (type) {
        case SOCK_STREAM:
                return "SOCK_STREAM";
        case SOCK_DGRAM:
                return "SOCK_DGRAM";
        case SOCK_SEQPACKET:
                return "SOCK_SEQPACKET";
        case SOCK_RAW:
                return "SOCK_RAW";
        default:
                return NULL;
        }
}

/* Formats a socket address the way berth prints addresses: 127.0.0.1:80, [::1]:80,
 * [fe80::1%eth0]:80, /path, @abstract (a NUL inside an abstract name is written as '@'),
 * "" for an unnamed unix socket. */
static void format_sockaddr(const struct sockaddr_storage *sa, socklen_t len, char *buf,
                            size_t size) {
        char host[INET6_ADDRSTRLEN], ifname[IF_NAMESIZE];

        switch (sa->ss_family) {
        case AF_INET: {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;

                inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                snprintf(buf, size, "%s:%u", host, ntohs(in->sin_port));
                return;
        }
        case AF_INET6: {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;

                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                if (in6->sin6_scope_id == 0)
                        snprintf(buf, size, "[%s]:%u", host, ntohs(in6->sin6_port));
                else if (if_indextoname(in6->sin6_scope_id, ifname))
                        snprintf(buf, size, "[%s%%%s]:%u", host, ifname, ntohs(in6->sin6_port));
                else
                        snprintf(buf, size, "[%s%%%u]:%u", host, in6->sin6_scope_id,
                                 ntohs(in6->sin6_port));
                return;
        }
        case AF_UNIX: {
                const struct sockaddr_un *un = (const struct sockaddr_un *) sa;
                size_t off = offsetof(struct sockaddr_un, sun_path), n, i;

                if (len <= off) {
                        snprintf(buf, size, "%s", "");
                        return;
                }
                n = MIN((size_t) len - off, sizeof un->sun_path);
                if (un->sun_path[0] != '\0') {
                        snprintf(buf, size, "%.*s", (int) strnlen(un->sun_path, n),
                                 un->sun_path);
                        return;
                }
                for (i = 0; i < n && i + 1 < size; i++)
                        buf[i] = i == 0 || un->sun_path[i] == '\0' ? '@' : un->sun_path[i];
                buf[i] = '\0';
                return;
        }
        default:
                snprintf(buf, size, "family %d", sa->ss_family);
        }
}

static void probe_fd(ProbeFd *p, int dirfd_proc) {
        char name[32];
        ssize_t n;
        struct stat st;
        socklen_t l;

        snprintf(name, sizeof name, "%d", p->fd);
        n = readlinkat(dirfd_proc, name, p->target, sizeof p->target - 1);
        p->target[n < 0 ? 0 : n] = '\0';

        p->fd_flags = fcntl(p->fd, F_GETFD);
        if (p->fd_flags < 0)
                p->fd_flags = -errno;
        p->fl_flags = fcntl(p->fd, F_GETFL);
        if (p->fl_flags < 0)
                p->fl_flags = -errno;

        if (fstat(p->fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                return;
        p->is_socket = true;

        l = sizeof p->family;
        if (getsockopt(p->fd, SOL_SOCKET, SO_DOMAIN, &p->family, &l) < 0)
                p->family = -errno;
        l = sizeof p->type;
        if (getsockopt(p->fd, SOL_SOCKET, SO_TYPE, &p->type, &l) < 0)
                p->type = -errno;
        l = sizeof p->listening;
        if (getsockopt(p->fd, SOL_SOCKET, SO_ACCEPTCONN, &p->listening, &l) < 0)
                p->listening = -errno;

        struct sockaddr_storage sa = {};
        l = sizeof sa;
        if (getsockname(p->fd, (struct sockaddr *) &sa, &l) < 0)
                snprintf(p->address, sizeof p->address, "error: %s", strerror(errno));
        else
                format_sockaddr(&sa, l, p->address, sizeof p->address);
}

/* Lists every open fd (except the one used to list them) in ascending order, at most max of
 * them (*ret_truncated says whether there were more). Returns the count, or -errno. */
static int collect_fds(ProbeFd *fds, size_t max, bool *ret_truncated) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        size_t n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char *end;
                long v;

                if (de->d_name[0] == '.')
                        continue;
                errno = 0;
                v = strtol(de->d_name, &end, 10);
                if (errno || *end || v < 0 || v > INT_MAX || v == dirfd(d))
                        continue;
                if (n >= max) {
                        *ret_truncated = true;
                        break;
                }
                fds[n++] = (ProbeFd) { .fd = (int) v, .family = -1, .type = -1, .listening = -1 };
        }
        /* readdir order is not guaranteed: sort ascending (insertion sort; a handful of fds) */
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && fds[j - 1].fd > fds[j].fd; j--) {
                        ProbeFd t = fds[j];
                        fds[j] = fds[j - 1];
                        fds[j - 1] = t;
                }
        for (size_t i = 0; i < n; i++)
                probe_fd(&fds[i], dirfd(d));
        closedir(d);
        return (int) n;
}

static void signal_name(int sig, char *buf, size_t size) {
        const char *abbrev = sigabbrev_np(sig);

        if (abbrev)
                snprintf(buf, size, "SIG%s", abbrev);
        else if (sig >= SIGRTMIN && sig <= SIGRTMAX)
                snprintf(buf, size, "SIGRTMIN+%d", sig - SIGRTMIN);
        else
                snprintf(buf, size, "%d", sig);
}

static const struct {
        int resource;
        const char *name;
} probe_rlimits[] = {
        { RLIMIT_CPU, "CPU" },         { RLIMIT_FSIZE, "FSIZE" },
        { RLIMIT_DATA, "DATA" },       { RLIMIT_STACK, "STACK" },
        { RLIMIT_CORE, "CORE" },       { RLIMIT_RSS, "RSS" },
        { RLIMIT_NPROC, "NPROC" },     { RLIMIT_NOFILE, "NOFILE" },
        { RLIMIT_MEMLOCK, "MEMLOCK" }, { RLIMIT_AS, "AS" },
        { RLIMIT_LOCKS, "LOCKS" },     { RLIMIT_SIGPENDING, "SIGPENDING" },
        { RLIMIT_MSGQUEUE, "MSGQUEUE" }, { RLIMIT_NICE, "NICE" },
        { RLIMIT_RTPRIO, "RTPRIO" },   { RLIMIT_RTTIME, "RTTIME" },
};

static const char *const probe_dir_vars[] = {
        "RUNTIME_DIRECTORY", "STATE_DIRECTORY", "CACHE_DIRECTORY", "LOGS_DIRECTORY",
        "CONFIGURATION_DIRECTORY",
};

/* One path of a $*_DIRECTORY variable and what stat() said of it. */
typedef struct ProbeDir {
        const char *var;
        char path[PATH_MAX];
        int error;      /* 0, or the errno of stat() */
        struct stat st;
} ProbeDir;

/* The captured state: everything is read into this before the report is written. */
typedef struct Report {
        pid_t pid, ppid, pgid, sid;
        uid_t uid, euid;
        gid_t gid, egid;
        gid_t groups[PROBE_MAX_GROUPS];
        int n_groups;
        mode_t umask;
        char cwd[PATH_MAX];
        ProbeFd *fds;
        int n_fds;
        bool fds_truncated;
        sigset_t blocked;
        struct sigaction actions[_NSIG];
        bool action_ok[_NSIG];
        struct rlimit nofile;
        struct rlimit rlimits[ELEMENTSOF(probe_rlimits)];
        bool rlimit_ok[ELEMENTSOF(probe_rlimits)];
        ProbeDir dirs[PROBE_MAX_DIRS];
        int n_dirs;
        int no_new_privs;
        char *listen_pid, *listen_fds, *listen_fdnames; /* copies of the environment */
        int sd_n;
        char **sd_names;
} Report;

/* Splits each $*_DIRECTORY variable at ':' and stats every path, at most PROBE_MAX_DIRS. */
static void capture_dirs(Report *r) {
        for (size_t i = 0; i < ELEMENTSOF(probe_dir_vars); i++) {
                const char *v = getenv(probe_dir_vars[i]);

                while (v && *v && r->n_dirs < PROBE_MAX_DIRS) {
                        size_t len = strcspn(v, ":");
                        ProbeDir *d = &r->dirs[r->n_dirs++];

                        d->var = probe_dir_vars[i];
                        snprintf(d->path, sizeof d->path, "%.*s", (int) len, v);
                        d->error = stat(d->path, &d->st) < 0 ? errno : 0;
                        v += len;
                        if (*v == ':')
                                v++;
                }
        }
}

static void capture(Report *r) {
        r->n_fds = collect_fds(r->fds, PROBE_MAX_FDS, &r->fds_truncated);

        r->pid = getpid();
        r->ppid = getppid();
        r->pgid = getpgid(0);
        r->sid = getsid(0);
        r->uid = getuid();
        r->euid = geteuid();
        r->gid = getgid();
        r->egid = getegid();
        r->n_groups = getgroups(PROBE_MAX_GROUPS, r->groups);
        r->umask = umask(0);
        umask(r->umask);
        if (!getcwd(r->cwd, sizeof r->cwd))
                snprintf(r->cwd, sizeof r->cwd, "error: %s", strerror(errno));

        sigprocmask(SIG_BLOCK, NULL, &r->blocked);
        for (int sig = 1; sig < _NSIG; sig++)
                r->action_ok[sig] = sigaction(sig, NULL, &r->actions[sig]) == 0;

        if (getrlimit(RLIMIT_NOFILE, &r->nofile) < 0)
                r->nofile = (struct rlimit) {};
        for (size_t i = 0; i < ELEMENTSOF(probe_rlimits); i++)
                r->rlimit_ok[i] = getrlimit(probe_rlimits[i].resource, &r->rlimits[i]) == 0;
        r->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        capture_dirs(r);

        r->listen_pid = getenv("LISTEN_PID") ? strdup(getenv("LISTEN_PID")) : NULL;
        r->listen_fds = getenv("LISTEN_FDS") ? strdup(getenv("LISTEN_FDS")) : NULL;
        r->listen_fdnames = getenv("LISTEN_FDNAMES") ? strdup(getenv("LISTEN_FDNAMES")) : NULL;

        /* last: this sets FD_CLOEXEC on the fds it accepts */
        r->sd_n = sd_listen_fds_with_names(0, &r->sd_names);
}

static void write_report(FILE *f, const Report *r, char **argv) {
        char name[32];
        bool first;

        fprintf(f, "{\n  \"pid\": %d, \"ppid\": %d, \"pgid\": %d, \"sid\": %d,\n", (int) r->pid,
                (int) r->ppid, (int) r->pgid, (int) r->sid);
        fprintf(f, "  \"uid\": %u, \"euid\": %u, \"gid\": %u, \"egid\": %u,\n  \"groups\": [",
                r->uid, r->euid, r->gid, r->egid);
        for (int i = 0; i < r->n_groups; i++)
                fprintf(f, "%s%u", i ? ", " : "", r->groups[i]);
        fprintf(f, "],\n  \"umask\": \"%04o\",\n  \"cwd\": ", (unsigned) r->umask);
        json_string(f, r->cwd);
        fputs(",\n  \"argv\": [", f);
        for (int i = 0; argv[i]; i++) {
                fputs(i ? ", " : "", f);
                json_string(f, argv[i]);
        }
        fprintf(f, "],\n  \"rlimit_nofile\": [%llu, %llu],\n  \"no_new_privs\": %d,\n",
                (unsigned long long) r->nofile.rlim_cur, (unsigned long long) r->nofile.rlim_max,
                r->no_new_privs);

        fputs("  \"rlimits\": {", f);
        for (size_t i = 0; i < ELEMENTSOF(probe_rlimits); i++) {
                fprintf(f, "%s\"%s\": ", i ? ", " : "", probe_rlimits[i].name);
                /* RLIM_INFINITY as the string "infinity": a JSON number would be 2^64-1 */
                if (!r->rlimit_ok[i]) {
                        fputs("null", f);
                        continue;
                }
                fputc('[', f);
                for (int j = 0; j < 2; j++) {
                        rlim_t v = j ? r->rlimits[i].rlim_max : r->rlimits[i].rlim_cur;

                        if (v == RLIM_INFINITY)
                                fprintf(f, "%s\"infinity\"", j ? ", " : "");
                        else
                                fprintf(f, "%s%llu", j ? ", " : "", (unsigned long long) v);
                }
                fputc(']', f);
        }
        fputs("},\n  \"directories\": [", f);
        for (int i = 0; i < r->n_dirs; i++) {
                const ProbeDir *d = &r->dirs[i];

                fprintf(f, "%s\n    {\"var\": \"%s\", \"path\": ", i ? "," : "", d->var);
                json_string(f, d->path);
                if (d->error)
                        fprintf(f, ", \"error\": \"%s\"}", strerror(d->error));
                else
                        fprintf(f, ", \"mode\": \"%04o\", \"uid\": %u, \"gid\": %u, \"dir\": %s}",
                                (unsigned) (d->st.st_mode & 07777), d->st.st_uid, d->st.st_gid,
                                S_ISDIR(d->st.st_mode) ? "true" : "false");
        }
        fputs(r->n_dirs ? "\n  ],\n" : "],\n", f);

        fputs("  \"LISTEN_PID\": ", f);
        json_string(f, r->listen_pid);
        fputs(", \"LISTEN_FDS\": ", f);
        json_string(f, r->listen_fds);
        fputs(", \"LISTEN_FDNAMES\": ", f);
        json_string(f, r->listen_fdnames);
        fprintf(f, ",\n  \"sd_listen_fds\": {\"return\": %d, \"error\": ", r->sd_n);
        json_string(f, r->sd_n < 0 ? strerror(-r->sd_n) : NULL);
        fputs(", \"names\": ", f);
        if (r->sd_n > 0 && r->sd_names) {
                fputc('[', f);
                for (int i = 0; i < r->sd_n; i++) {
                        fputs(i ? ", " : "", f);
                        json_string(f, r->sd_names[i]);
                }
                fputc(']', f);
        } else
                fputs("null", f);
        fputs("},\n", f);

        fprintf(f, "  \"fds\": [");
        if (r->n_fds < 0)
                fprintf(f, "],\n  \"fds_error\": \"%s\",\n", strerror(-r->n_fds));
        for (int i = 0; i < r->n_fds; i++) {
                const ProbeFd *p = &r->fds[i];

                fprintf(f, "%s\n    {\"fd\": %d, \"target\": ", i ? "," : "", p->fd);
                json_string(f, p->target);
                fprintf(f, ", \"cloexec\": %s, \"nonblock\": %s",
                        p->fd_flags < 0 ? "null" : (p->fd_flags & FD_CLOEXEC) ? "true" : "false",
                        p->fl_flags < 0 ? "null" : (p->fl_flags & O_NONBLOCK) ? "true" : "false");
                fprintf(f, ", \"accmode\": \"%s\"",
                        p->fl_flags < 0 ? "?" :
                        (p->fl_flags & O_ACCMODE) == O_RDONLY ? "r" :
                        (p->fl_flags & O_ACCMODE) == O_WRONLY ? "w" : "rw");
                if (!p->is_socket) {
                        fputs(", \"socket\": null}", f);
                        continue;
                }
                fputs(", \"socket\": {\"family\": ", f);
                if (family_to_string(p->family))
                        json_string(f, family_to_string(p->family));
                else
                        fprintf(f, "%d", p->family);
                fputs(", \"type\": ", f);
                if (socktype_to_string(p->type))
                        json_string(f, socktype_to_string(p->type));
                else
                        fprintf(f, "%d", p->type);
                fputs(", \"address\": ", f);
                json_string(f, p->address);
                fprintf(f, ", \"listening\": %s}}",
                        p->listening < 0 ? "null" : p->listening ? "true" : "false");
        }
        if (r->n_fds >= 0)
                fprintf(f, "\n  ],\n  \"fds_truncated\": %s,\n",
                        r->fds_truncated ? "true" : "false");

        fputs("  \"signals\": {\"blocked\": [", f);
        first = true;
        for (int sig = 1; sig < _NSIG; sig++)
                if (sigismember(&r->blocked, sig) == 1) {
                        signal_name(sig, name, sizeof name);
                        fputs(first ? "" : ", ", f);
                        json_string(f, name);
                        first = false;
                }
        /* Only what differs from the default; SIGKILL and SIGSTOP cannot be changed. */
        fputs("], \"dispositions\": {", f);
        first = true;
        for (int sig = 1; sig < _NSIG; sig++) {
                const struct sigaction *sa = &r->actions[sig];

                if (!r->action_ok[sig] || sig == SIGKILL || sig == SIGSTOP)
                        continue;
                if (!(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_DFL)
                        continue;
                signal_name(sig, name, sizeof name);
                fputs(first ? "" : ", ", f);
                json_string(f, name);
                fputs(": ", f);
                json_string(f, !(sa->sa_flags & SA_SIGINFO) && sa->sa_handler == SIG_IGN ?
                                       "ignore" : "handler");
                first = false;
        }
        fputs("}},\n", f);

        fputs("  \"environ\": {", f);
        first = true;
        for (char **e = environ; e && *e; e++) {
                const char *eq = strchr(*e, '=');
                char key[256];

                if (!eq || (size_t) (eq - *e) >= sizeof key)
                        continue;
                snprintf(key, sizeof key, "%.*s", (int) (eq - *e), *e);
                fputs(first ? "\n    " : ",\n    ", f);
                json_string(f, key);
                fputs(": ", f);
                json_string(f, eq + 1);
                first = false;
        }
        fputs("\n  }\n}\n", f);
}

/* Replaces each "%p" in the template by the pid. Returns a new string, or NULL on OOM. */
static char *expand_out_path(const char *tmpl, pid_t pid) {
        size_t size = strlen(tmpl) * 8 + 32;
        char *out = malloc(size), *o = out;

        if (!out)
                return NULL;
        for (const char *s = tmpl; *s; s++) {
                if (s[0] == '%' && s[1] == 'p') {
                        o += sprintf(o, "%d", (int) pid);
                        s++;
                } else
                        *o++ = *s;
        }
        *o = '\0';
        return out;
}

/* Writes the report to path through "path.tmp.PID" and rename(), so it appears whole. The pid in
 * the temporary name keeps two probes that share PROBE_OUT (an overlap handover) apart. */
static int publish(const Report *r, char **argv, const char *path) {
        _cleanup_free_ char *tmp = NULL;
        FILE *f;
        int fd;

        if (asprintf(&tmp, "%s.tmp.%d", path, (int) r->pid) < 0)
                return -ENOMEM;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        f = fdopen(fd, "w");
        if (!f) {
                int e = -errno;
                close(fd);
                unlink(tmp);
                return e;
        }
        write_report(f, r, argv);
        if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) < 0) {
                int e = -errno;
                fclose(f);
                unlink(tmp);
                return e ?: -EIO;
        }
        if (fclose(f) != 0 || rename(tmp, path) < 0) {
                int e = -errno;
                unlink(tmp);
                return e;
        }
        return 0;
}

static void on_term(int sig) {
        _exit(0);
}

static void answer_stream(int listen_fd, const char *name) {
        char req[8192], body[256], resp[512];
        size_t have = 0;
        int c, len;
        struct timeval tv = { .tv_sec = 5 };

        c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return;
        (void) setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        /* Read the whole request head, so closing never resets the connection over unread data. */
        while (have < sizeof req - 1) {
                ssize_t n = recv(c, req + have, sizeof req - 1 - have, 0);
                if (n <= 0)
                        break;
                have += n;
                req[have] = '\0';
                if (strstr(req, "\r\n\r\n") || strstr(req, "\n\n"))
                        break;
        }
        len = snprintf(body, sizeof body, "probe pid %d fdname %s\n", (int) getpid(), name);
        len = snprintf(resp, sizeof resp,
                       "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                       "Connection: close\r\n\r\n%s", len, body);
        (void) !write(c, resp, len);
        (void) shutdown(c, SHUT_WR);
        close(c);
}

static void answer_datagram(int fd, const char *name) {
        char buf[2048], reply[256];
        struct sockaddr_storage sa;
        socklen_t l = sizeof sa;
        ssize_t n;
        int len;

        n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *) &sa, &l);
        if (n < 0 || l == 0)
                return;
        len = snprintf(reply, sizeof reply, "probe pid %d fdname %s\n", (int) getpid(), name);
        (void) sendto(fd, reply, len, MSG_DONTWAIT, (struct sockaddr *) &sa, l);
}

/* Serves the passed sockets until a signal ends the process. Borrows the fds. */
static int serve(const Report *r) {
        struct pollfd pfd[64];
        const char *names[64];
        int types[64];
        int n = 0;

        for (int i = 0; r->sd_n > 0 && i < r->sd_n && n < (int) ELEMENTSOF(pfd); i++) {
                int fd = SD_LISTEN_FDS_START + i, type = 0, acc = 0;
                socklen_t l = sizeof type;

                if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0)
                        continue;
                l = sizeof acc;
                if (type == SOCK_STREAM &&
                    (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &l) < 0 || !acc))
                        continue;
                if (type != SOCK_STREAM && type != SOCK_DGRAM)
                        continue;
                pfd[n] = (struct pollfd) { .fd = fd, .events = POLLIN };
                names[n] = r->sd_names && r->sd_names[i] ? r->sd_names[i] : "unknown";
                types[n] = type;
                n++;
        }
        if (n == 0) {
                fprintf(stderr, "berth-probe: PROBE_SERVE=1 but no stream or datagram socket was "
                                "passed, pausing\n");
                for (;;)
                        pause();
        }
        fprintf(stderr, "berth-probe: pid %d serving on %d socket%s\n", (int) r->pid, n,
                n == 1 ? "" : "s");
        for (;;) {
                if (poll(pfd, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "berth-probe: poll: %m\n");
                        return EXIT_FAILURE;
                }
                for (int i = 0; i < n; i++) {
                        if (!(pfd[i].revents & POLLIN))
                                continue;
                        if (types[i] == SOCK_STREAM)
                                answer_stream(pfd[i].fd, names[i]);
                        else
                                answer_datagram(pfd[i].fd, names[i]);
                }
        }
}

int main(int argc, char **argv) {
        static ProbeFd fds[PROBE_MAX_FDS];
        Report r = { .fds = fds };
        const char *out = getenv("PROBE_OUT"), *e;
        struct sigaction sa = { .sa_handler = on_term };
        int k;

        capture(&r);

        if (out && *out) {
                _cleanup_free_ char *path = expand_out_path(out, r.pid);

                k = path ? publish(&r, argv, path) : -ENOMEM;
                if (k < 0) {
                        fprintf(stderr, "berth-probe: cannot write report to '%s': %s\n", out,
                                strerror(-k));
                        return EXIT_FAILURE;
                }
        } else {
                write_report(stdout, &r, argv);
                fflush(stdout);
        }

        e = getenv("PROBE_NOTIFY");
        if (e && streq(e, "1"))
                (void) sd_notify(0, "READY=1");

        e = getenv("PROBE_EXIT");
        if (e && *e)
                return atoi(e);

        /* The report is out: from here on, a clean stop is a clean exit. */
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGINT, &sa, NULL);

        e = getenv("PROBE_SERVE");
        if (e && streq(e, "1"))
                return serve(&r);
        for (;;)
                pause();
}
