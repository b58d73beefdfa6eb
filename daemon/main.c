/* berthd: main() -> run(): arguments, signals, then the manager. Everything else lives in the
 * library, the ad-hoc units included (adhoc.h). */
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "config.h"

#include "common/control-interface.h"
#include "common/log.h"
#include "common/parse-util.h"
#include "common/strv.h"
#include "daemon/adhoc.h"
#include "daemon/bind-shim.h"
#include "daemon/exec-check.h"
#include "daemon/fd-reserve.h"
#include "daemon/manager.h"
#include "daemon/manager-state.h"
#include "daemon/state.h"
#include "daemon/specifier.h"
#include "daemon/spawn.h"

#define UNIT_DIRS_MAX 64
#define ADHOC_LISTEN_MAX 64
#define ADHOC_ENV_MAX 256

typedef struct Args {
        char *unit_dirs[UNIT_DIRS_MAX + 1];
        size_t n_unit_dirs;
        const char *runtime_dir;
        bool user;
        bool check;
        /* Ad-hoc mode: -l ADDR... -- CMD ARGS */
        const char *listen[ADHOC_LISTEN_MAX];
        size_t n_listen;
        const char *setenv[ADHOC_ENV_MAX];
        size_t n_setenv;
        const char *fdname;
        bool accept, inetd;
        int socktype;
        char **command;
        int deserialize_fd; /* daemon-reexec: the state's memfd; -1 */
        int fallback_fd;    /* and the binary that wrote it, to go back to; -1 */
        bool reexec_failed; /* that binary, back: the new one could not take the state */
} Args;

static void help(void) {
        printf("Usage: berthd [OPTIONS]\n"
               "       berthd -l ADDR [-l ADDR...] [--fdname NAME] [-E VAR=VALUE]...\n"
               "              [--accept [--inetd]] [--datagram|--seqpacket] -- CMD [ARG...]\n"
               "\n"
               "Binds the sockets that unit files declare, with an explicit IPv4/IPv6 policy,\n"
               "and holds them for the services they activate.\n"
               "\n"
               "  --units DIR        read units from DIR (repeatable; first wins)\n"
               "                     default: %s, or with --user\n"
               "                     $XDG_CONFIG_HOME/berth/units\n"
               "  --runtime-dir DIR  state directory (default $BERTH_RUNTIME_DIR, else\n"
               "                     /run/berth, or with --user $XDG_RUNTIME_DIR/berth)\n"
               "  --user             run as an unprivileged user's supervisor\n"
               "  --check            validate the units, print what would be bound, and exit\n"
               "                     non-zero on any error (binds nothing)\n"
               "  -l, --listen ADDR  ad-hoc mode: hold ADDR (any berth address) and run CMD on\n"
               "                     it, restarted on failure; the unit is named after CMD\n"
               "      --fdname NAME  ad-hoc mode: the name in LISTEN_FDNAMES\n"
               "  -a, --accept       ad-hoc mode: one instance of CMD per connection\n"
               "      --inetd        ad-hoc mode, with --accept: the connection on stdin/stdout\n"
               "      --datagram     ad-hoc mode: datagram sockets (ListenDatagram=)\n"
               "      --seqpacket    ad-hoc mode: sequential packet sockets\n"
               "  -E, --setenv VAR=VALUE  ad-hoc mode: set VAR for CMD\n"
               "  -v, --verbose      log debug messages\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n",
               "/" BERTH_SYSTEM_UNIT_DIR);
}

static int parse_args(int argc, char **argv, Args *a) {
        enum {
                ARG_UNITS = 0x100,
                ARG_RUNTIME_DIR,
                ARG_USER,
                ARG_CHECK,
                ARG_VERSION,
                ARG_FDNAME,
                ARG_INETD,
                ARG_DATAGRAM,
                ARG_SEQPACKET,
                ARG_DESERIALIZE,
                ARG_REEXEC_FALLBACK,
                ARG_REEXEC_FAILED,
                ARG_STATE_VERSION,
        };
        static const struct option options[] = {
                { "units", required_argument, NULL, ARG_UNITS },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "user", no_argument, NULL, ARG_USER },
                { "check", no_argument, NULL, ARG_CHECK },
                { "listen", required_argument, NULL, 'l' },
                { "setenv", required_argument, NULL, 'E' },
                { "fdname", required_argument, NULL, ARG_FDNAME },
                { "accept", no_argument, NULL, 'a' },
                { "inetd", no_argument, NULL, ARG_INETD },
                { "datagram", no_argument, NULL, ARG_DATAGRAM },
                { "seqpacket", no_argument, NULL, ARG_SEQPACKET },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "deserialize", required_argument, NULL, ARG_DESERIALIZE },
                { "state-version", no_argument, NULL, ARG_STATE_VERSION },
                { "reexec-fallback", required_argument, NULL, ARG_REEXEC_FALLBACK },
                { "reexec-failed", no_argument, NULL, ARG_REEXEC_FAILED },
                {},
        };
        unsigned fd;
        int c;

        /* "+": stop at the first non-option, so CMD's own options stay CMD's. */
        while ((c = getopt_long(argc, argv, "+hval:E:", options, NULL)) >= 0)
                switch (c) {
                case ARG_UNITS:
                        if (a->n_unit_dirs >= UNIT_DIRS_MAX) {
                                log_error("Too many --units directories (at most %d).",
                                          UNIT_DIRS_MAX);
                                return -E2BIG;
                        }
                        a->unit_dirs[a->n_unit_dirs++] = optarg;
                        break;
                case ARG_RUNTIME_DIR:
                        a->runtime_dir = optarg;
                        break;
                case ARG_USER:
                        a->user = true;
                        break;
                case ARG_CHECK:
                        a->check = true;
                        break;
                case 'l':
                        if (a->n_listen >= ADHOC_LISTEN_MAX) {
                                log_error("Too many -l addresses (at most %d).", ADHOC_LISTEN_MAX);
                                return -E2BIG;
                        }
                        a->listen[a->n_listen++] = optarg;
                        break;
                case 'E':
                        if (a->n_setenv >= ADHOC_ENV_MAX) {
                                log_error("Too many -E variables (at most %d).", ADHOC_ENV_MAX);
                                return -E2BIG;
                        }
                        a->setenv[a->n_setenv++] = optarg;
                        break;
                case ARG_FDNAME:
                        a->fdname = optarg;
                        break;
                case 'a':
                        a->accept = true;
                        break;
                case ARG_INETD:
                        a->inetd = true;
                        break;
                case ARG_DATAGRAM:
                case ARG_SEQPACKET:
                        if (a->socktype != 0) {
                                log_error("--datagram and --seqpacket cannot be combined.");
                                return -EINVAL;
                        }
                        a->socktype = c == ARG_DATAGRAM ? SOCK_DGRAM : SOCK_SEQPACKET;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("berthd %s\n", BERTH_VERSION);
                        return 0;
                case ARG_STATE_VERSION:
                        /* daemon-reexec asks before it executes this binary. */
                        printf(STATE_MAGIC " %u\n", STATE_VERSION);
                        return 0;
                case ARG_DESERIALIZE:
                case ARG_REEXEC_FALLBACK:
                        if (parse_unsigned(optarg, &fd) < 0 || fd < 3 || fd > INT_MAX) {
                                log_error("--%s needs an fd number, not '%s'.",
                                          c == ARG_DESERIALIZE ? "deserialize" :
                                          "reexec-fallback", optarg);
                                return -EINVAL;
                        }
                        *(c == ARG_DESERIALIZE ? &a->deserialize_fd : &a->fallback_fd) = (int) fd;
                        break;
                case ARG_REEXEC_FAILED:
                        a->reexec_failed = true;
                        break;
                case '?':
                        log_error("Try 'berthd --help'.");
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (a->n_listen > 0 || a->n_setenv > 0 || a->fdname || a->accept || a->inetd ||
            a->socktype != 0) {
                if (optind >= argc) {
                        log_error("Ad-hoc mode needs a command: berthd -l ADDR -- CMD [ARG...]");
                        return -EINVAL;
                }
                if (a->n_listen == 0) {
                        log_error("Ad-hoc mode needs at least one -l ADDR.");
                        return -EINVAL;
                }
                if (a->accept && a->socktype == SOCK_DGRAM) {
                        log_error("Datagram sockets do not accept connections: --datagram and "
                                  "--accept cannot be combined.");
                        return -EINVAL;
                }
                if (a->inetd && !a->accept) {
                        log_error("--inetd needs --accept: berth passes the connection of an "
                                  "instance on stdin and stdout, never a listening socket.");
                        return -EINVAL;
                }
                if (a->n_unit_dirs > 0) {
                        log_error("Ad-hoc mode (-l) and --units cannot be combined.");
                        return -EINVAL;
                }
                a->command = argv + optind;
                return 1;
        }
        if (optind < argc) {
                log_error("Unexpected argument '%s'. Try 'berthd --help'.", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

/* The defaults of SPEC's "Names": system mode, or --user's XDG directories. The runtime
 * directory is $BERTH_RUNTIME_DIR when that is set (berthctl reads it too), else the mode's.
 * Returns 0 with both malloc'ed, or a negative errno after logging. */
static int default_dirs(Args *a, char **ret_units, char **ret_runtime) {
        const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        const char *runtime = getenv("XDG_RUNTIME_DIR"), *env = getenv(BERTH_RUNTIME_DIR_ENV);
        _cleanup_free_ char *units = NULL, *run = NULL;
        int k = 0;

        if (!a->user)
                units = strdup("/" BERTH_SYSTEM_UNIT_DIR);
        else if (config && config[0] == '/')
                k = asprintf(&units, "%s/berth/units", config);
        else if (home && home[0] == '/')
                k = asprintf(&units, "%s/.config/berth/units", home);
        else {
                log_error("--user needs $XDG_CONFIG_HOME or $HOME to find the units; "
                          "or give --units DIR.");
                return -EINVAL;
        }
        if (k < 0 || !units)
                return log_oom();

        if (env && env[0])
                run = strdup(env);
        else if (!a->user)
                run = strdup(BERTH_SYSTEM_RUNTIME_DIR);
        else if (runtime && runtime[0] == '/')
                k = asprintf(&run, "%s/berth", runtime);
        else {
                log_error("--user needs $XDG_RUNTIME_DIR; or give --runtime-dir DIR.");
                return -EINVAL;
        }
        if (k < 0 || !run)
                return log_oom();
        *ret_units = TAKE_PTR(units);
        *ret_runtime = TAKE_PTR(run);
        return 0;
}

static void adhoc_diag(int level, const char *file, unsigned line, const char *msg, void *ud) {
        log_full_errno(level, 0, "berthd: %s", msg);
}

/* Ad-hoc mode: the units a user would have written, made from the command line (adhoc.h) and
 * handed to the manager. Returns 0, or a negative errno after logging. */
static int adhoc_setup(Manager *m, const Args *a) {
        const AdhocArgs args = {
                .listen = a->listen,
                .n_listen = a->n_listen,
                .setenv = a->setenv,
                .n_setenv = a->n_setenv,
                .fdname = a->fdname,
                .accept = a->accept,
                .inetd = a->inetd,
                .socktype = a->socktype,
                .command = a->command,
        };
        _cleanup_free_ char *svc_name = NULL, *svc_text = NULL;
        Unit **units = NULL;
        size_t n = 0;
        int r;

        r = adhoc_units(&args, adhoc_diag, NULL, &units, &n);
        if (r == UNIT_FILE_E_INVALID)
                return -EINVAL; /* reported through adhoc_diag() */
        if (r == -EINVAL)
                return log_error_errno(r, "Cannot name the ad-hoc units after '%s': give CMD as "
                                       "a file name or a path to one.", a->command[0]);
        if (r < 0)
                return log_error_errno(r, "Failed to make the ad-hoc units: %m");
        size_t svc = units[0]->type == UNIT_SERVICE ? 0 : 1;
        log_info("Ad-hoc mode: running '%s' as %s on %s.", a->command[0], units[svc]->name,
                 units[1 - svc]->name);
        manager_set_units(m, units, n);
        /* An instance per connection is made from the template's text. */
        if (a->accept && (adhoc_service_name(&args, &svc_name) < 0 ||
                          adhoc_service_text(&args, &svc_text) < 0 ||
                          manager_set_template_text(m, svc_name, svc_text) < 0))
                return log_oom();
        return 0;
}

/* Drops "." components and repeated or trailing slashes in place ("/a/./b/." -> "/a/b"), so
 * that messages name files as a user would ("--units ." gives "/cwd/x.socket"). */
static void path_drop_dots(char *p) {
        char *w = p;

        for (const char *r = p; *r;) {
                if (r[0] == '/' && (r[1] == '/' || (r[1] == '.' && (r[2] == '/' || !r[2])))) {
                        r += r[1] == '/' ? 1 : 2;
                        continue;
                }
                *w++ = *r++;
        }
        if (w > p + 1 && w[-1] == '/')
                w--;
        if (w == p)
                *w++ = '/';
        *w = 0;
}

/* path made absolute against the working directory (not resolved: no symlinks followed,
 * nothing need exist). Returns 0 and the malloc'ed path in *ret, or a negative errno after
 * logging. */
static int absolute_path(const char *path, char **ret) {
        _cleanup_free_ char *cwd = NULL;
        char *p;

        if (path[0] == '/')
                p = strdup(path);
        else {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return log_error_errno(errno, "Failed to get the current directory: "
                                               "%m");
                if (asprintf(&p, "%s/%s", cwd, path) < 0)
                        p = NULL;
        }
        if (!p)
                return log_oom();
        path_drop_dots(p);
        *ret = p;
        return 0;
}

/* Services see these paths ($NOTIFY_SOCKET) from their own working directory: make them
 * absolute. Unit directories too, so messages name files the same way. Returns 0 with the
 * directories in *ret_dirs (a strv) and the runtime directory in *ret_runtime, or a negative
 * errno after logging. */
static int absolute_dirs(char *const *dirs, size_t n_dirs, const char *runtime,
                         char ***ret_dirs, char **ret_runtime) {
        _cleanup_strv_free_ char **abs_dirs = NULL;
        _cleanup_free_ char *abs_runtime = NULL;
        int r;

        r = absolute_path(runtime, &abs_runtime);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_dirs; i++) {
                char *p;

                r = absolute_path(dirs[i], &p);
                if (r < 0)
                        return r;
                if (strv_consume(&abs_dirs, p) < 0)
                        return log_oom();
        }
        *ret_dirs = TAKE_PTR(abs_dirs);
        *ret_runtime = TAKE_PTR(abs_runtime);
        return 0;
}

/* A missing directory is skipped, but when none exists a check has nothing to check and a
 * daemon nothing to do: say so. Returns 0, or -ENOENT after logging for --check. */
static int check_unit_dirs(const Args *a) {
        struct stat st;

        for (size_t i = 0; i < a->n_unit_dirs; i++)
                if (stat(a->unit_dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
                        return 0;
        if (a->check) {
                log_error("No unit directory to check: '%s'%s does not exist.", a->unit_dirs[0],
                          a->n_unit_dirs > 1 ? " (and the others)" : "");
                return -ENOENT;
        }
        log_warning("No unit directory: '%s'%s does not exist; running with no units.",
                    a->unit_dirs[0], a->n_unit_dirs > 1 ? " (and the others)" : "");
        return 0;
}

/* Before any event source exists: signals are handled only through sd-event. */
static int block_signals(void) {
        sigset_t mask;

        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        return 0;
}

/* Binds the units' sockets with room kept under RLIMIT_NOFILE for what berthd makes after
 * (fd-reserve.h): out of fds, the sockets past the limit fail one by one and berthd runs with
 * the others. Returns manager_bind()'s result. */
static int bind_with_reserve(Manager *m) {
        unsigned long long limit;
        unsigned reserve, n_emfile;
        int r;

        r = fd_reserve_begin();
        if (r < 0)
                log_warning_errno(r, "Failed to keep file descriptors for berthd while binding: "
                                  "%m, ignoring");
        limit = fd_reserve_limit();
        reserve = fd_reserve_size();
        r = manager_bind(m);
        n_emfile = fd_reserve_end();
        if (n_emfile > 0)
                log_error("%u socket%s not bound: berthd may open %llu files (RLIMIT_NOFILE) and "
                          "keeps %u for itself; the other units go on. Raise berthd's hard "
                          "limit (LimitNOFILE= of berthd.service) to bind them all.", n_emfile,
                          n_emfile == 1 ? " is" : "s are", limit, reserve);
        return r;
}

/* Arguments, signals, then the manager. Returns the exit status (>= 0), or a negative errno
 * after logging (exit 1). */
static int run(int argc, char **argv) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *def_units = NULL, *def_runtime = NULL, *runtime = NULL;
        _cleanup_strv_free_ char **dirs = NULL;
        Args a = { .deserialize_fd = -1, .fallback_fd = -1 };
        int r;

        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return r;

        r = block_signals();
        if (r < 0)
                return r;

        /* Room for every socket and fd store; services get systemd's default limits. */
        r = spawn_raise_limit_nofile(a.user);
        if (r < 0)
                log_warning_errno(r, "Failed to raise RLIMIT_NOFILE to its hard limit: %m, "
                                  "ignoring");

        /* Orphans of our services are ours to reap; as PID 1 they are anyway. */
        if (!a.check && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                log_warning_errno(errno, "Failed to become a child subreaper: %m, ignoring");

        r = default_dirs(&a, &def_units, &def_runtime);
        if (r < 0)
                return r;
        /* %t, %S, ... in the units: the system's directories, or the user's with --user. */
        static SpecifierEnv spec_env;
        spec_env.user_mode = a.user;
        specifier_set_env(&spec_env);
        if (a.n_unit_dirs == 0)
                a.unit_dirs[a.n_unit_dirs++] = def_units;
        a.unit_dirs[a.n_unit_dirs] = NULL;
        if (!a.command) {
                r = check_unit_dirs(&a);
                if (r < 0)
                        return r;
        }

        r = absolute_dirs(a.unit_dirs, a.n_unit_dirs, a.runtime_dir ?: def_runtime, &dirs,
                          &runtime);
        if (r < 0)
                return r;
        r = manager_new(&m, dirs, runtime, a.user);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the manager: %m");
        r = manager_set_self(m, argv);
        if (r < 0)
                return log_oom();
        /* After a daemon-reexec: the state, read before anything opens an fd. Without it,
         * berthd starts afresh (and binds what it can). */
        if (a.deserialize_fd >= 0)
                manager_state_take_over(m, a.deserialize_fd, a.fallback_fd, a.reexec_failed);
        if (a.command) {
                r = adhoc_setup(m, &a);
                if (r < 0)
                        return r;
        }
        r = manager_load(m);
        if (r < 0)
                return r;

        if (a.check) {
                m->n_warnings += exec_check_units(m->units, m->n_units);
                bind_shim_check_units(m->units, m->n_units);
                manager_print_plan(m, stdout);
                return m->n_errors > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }

        if (mkdir(m->runtime_dir, 0755) < 0 && errno != EEXIST)
                log_warning_errno(errno, "Failed to create the runtime directory '%s': %m, "
                                  "ignoring", m->runtime_dir);

        /* A berthd killed outright left its services running on the ports: they go first. */
        r = manager_stop_leftovers(m);
        if (r < 0)
                return r;
        r = bind_with_reserve(m);
        if (r < 0)
                return r;
        return manager_run(m);
}

int main(int argc, char **argv) {
        int r;

        log_open();
        r = run(argc, argv);
        return r < 0 ? EXIT_FAILURE : r;
}
