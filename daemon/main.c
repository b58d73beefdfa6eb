/* berthd: arguments, signals, and the run. Everything else lives in the library. */
#include <getopt.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"

#include "common/log.h"
#include "daemon/manager.h"
#include "daemon/unit-dir.h"

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
        bool accept;
        char **command;
} Args;

static void help(void) {
        printf("Usage: berthd [OPTIONS]\n"
               "       berthd -l ADDR [-l ADDR...] [--fdname NAME] [-E VAR=VALUE]... -- CMD [ARG...]\n"
               "\n"
               "Binds the sockets that unit files declare, with an explicit IPv4/IPv6 policy,\n"
               "and holds them for the services they activate.\n"
               "\n"
               "  --units DIR        read units from DIR (repeatable; first wins)\n"
               "                     default: %s, or with --user\n"
               "                     $XDG_CONFIG_HOME/berth/units\n"
               "  --runtime-dir DIR  state directory (default /run/berth, or with --user\n"
               "                     $XDG_RUNTIME_DIR/berth)\n"
               "  --user             run as an unprivileged user's supervisor\n"
               "  --check            validate the units, print what would be bound, and exit\n"
               "                     non-zero on any error (binds nothing)\n"
               "  -l, --listen ADDR  ad-hoc mode: hold ADDR (any berth address) and run CMD on\n"
               "                     it, restarted on failure; the unit is named after CMD\n"
               "      --fdname NAME  ad-hoc mode: the name in LISTEN_FDNAMES\n"
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
                ARG_ACCEPT,
        };
        static const struct option options[] = {
                { "units", required_argument, NULL, ARG_UNITS },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "user", no_argument, NULL, ARG_USER },
                { "check", no_argument, NULL, ARG_CHECK },
                { "listen", required_argument, NULL, 'l' },
                { "setenv", required_argument, NULL, 'E' },
                { "fdname", required_argument, NULL, ARG_FDNAME },
                { "accept", no_argument, NULL, ARG_ACCEPT },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        /* "+": stop at the first non-option, so CMD's own options stay CMD's. */
        while ((c = getopt_long(argc, argv, "+hvl:E:", options, NULL)) >= 0)
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
                case ARG_ACCEPT:
                        a->accept = true;
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
                case '?':
                        log_error("Try 'berthd --help'.");
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (a->n_listen > 0 || a->n_setenv > 0 || a->fdname || a->accept) {
                if (optind >= argc) {
                        log_error("Ad-hoc mode needs a command: berthd -l ADDR -- CMD [ARG...]");
                        return -EINVAL;
                }
                if (a->n_listen == 0) {
                        log_error("Ad-hoc mode needs at least one -l ADDR.");
                        return -EINVAL;
                }
                if (a->accept) {
                        log_error("--accept (one instance per connection) is not implemented "
                                  "yet; run without it to pass the listening socket to CMD.");
                        return -EOPNOTSUPP;
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

/* The defaults of SPEC's "Names": system mode, or --user's XDG directories. */
static int default_dirs(Args *a, char **ret_units, char **ret_runtime) {
        if (!a->user) {
                *ret_units = strdup("/" BERTH_SYSTEM_UNIT_DIR);
                *ret_runtime = strdup("/run/berth");
                return *ret_units && *ret_runtime ? 0 : log_oom();
        }
        const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        const char *runtime = getenv("XDG_RUNTIME_DIR");
        int k;

        if (config && config[0] == '/')
                k = asprintf(ret_units, "%s/berth/units", config);
        else if (home && home[0] == '/')
                k = asprintf(ret_units, "%s/.config/berth/units", home);
        else {
                log_error("--user needs $XDG_CONFIG_HOME or $HOME to find the units; "
                          "or give --units DIR.");
                return -EINVAL;
        }
        if (k < 0) {
                *ret_units = NULL;
                return log_oom();
        }
        if (!runtime || runtime[0] != '/') {
                log_error("--user needs $XDG_RUNTIME_DIR; or give --runtime-dir DIR.");
                return -EINVAL;
        }
        if (asprintf(ret_runtime, "%s/berth", runtime) < 0) {
                *ret_runtime = NULL;
                return log_oom();
        }
        return 0;
}

/* Writes s as one double-quoted word of systemd's syntax. In ExecStart= a '$' is doubled, so
 * the command runs exactly as typed. */
static void put_quoted(FILE *f, const char *s, bool exec_line) {
        fputc('"', f);
        for (; *s; s++)
                switch (*s) {
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '$':
                        fputs(exec_line ? "$$" : "$", f);
                        break;
                default:
                        fputc(*s, f);
                }
        fputc('"', f);
}

static void adhoc_diag(int level, const char *file, unsigned line, const char *msg, void *ud) {
        log_full_errno(level, 0, "berthd: %s", msg);
        if (level <= LOG_ERR)
                (*(unsigned *) ud)++;
}

/* Ad-hoc mode: the units a user would have written, made from the command line and loaded
 * through the same reader, so every check applies. The unit is named after CMD. */
static int adhoc_units(const Args *a, Unit ***ret, size_t *ret_n) {
        _cleanup_free_ char *base = NULL, *sock_text = NULL, *svc_text = NULL;
        _cleanup_free_ char *sock_name = NULL, *svc_name = NULL;
        const char *b = strrchr(a->command[0], '/');
        size_t len = 0;
        unsigned errors = 0;
        FILE *f;
        int r;

        base = strndup(b ? b + 1 : a->command[0], 200);
        if (!base)
                return log_oom();
        for (char *p = base; *p; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", *p))
                        *p = '_';
        if (!base[0] || asprintf(&sock_name, "%s.socket", base) < 0 ||
            asprintf(&svc_name, "%s.service", base) < 0)
                return log_oom();

        f = open_memstream(&sock_text, &len);
        if (!f)
                return log_oom();
        fputs("[Socket]\n", f);
        for (size_t i = 0; i < a->n_listen; i++)
                fprintf(f, "ListenStream=%s\n", a->listen[i]);
        if (a->fdname)
                fprintf(f, "FileDescriptorName=%s\n", a->fdname);
        if (fclose(f) != 0)
                return log_oom();

        f = open_memstream(&svc_text, &len);
        if (!f)
                return log_oom();
        fputs("[Service]\nRestart=on-failure\nExecStart=", f);
        for (char **arg = a->command; *arg; arg++) {
                if (arg != a->command)
                        fputc(' ', f);
                put_quoted(f, *arg, true);
        }
        fputc('\n', f);
        for (size_t i = 0; i < a->n_setenv; i++) {
                fputs("Environment=", f);
                put_quoted(f, a->setenv[i], false);
                fputc('\n', f);
        }
        /* Held and started at once, like einhorn or systemd-socket-activate's child. */
        fputs("[Install]\nWantedBy=multi-user.target\n", f);
        if (fclose(f) != 0)
                return log_oom();

        _cleanup_free_ Unit **units = calloc(2, sizeof(Unit *));
        const char *path[] = { "(command line)" };
        if (!units)
                return log_oom();
        /* Sorted by name: NAME.service < NAME.socket. */
        r = unit_file_load_strings(svc_name, path, (const char *const[]) { svc_text }, 1,
                                   adhoc_diag, &errors, &units[0]);
        if (r == 0)
                r = unit_file_load_strings(sock_name, path, (const char *const[]) { sock_text },
                                           1, adhoc_diag, &errors, &units[1]);
        if (r != 0) {
                size_t loaded = units[0] ? 1 : 0;
                unit_array_free(TAKE_PTR(units), loaded);
                return r < 0 ? log_oom() : -EINVAL;
        }
        log_info("Ad-hoc mode: running '%s' as %s on %s.", a->command[0], svc_name, sock_name);
        *ret = TAKE_PTR(units);
        *ret_n = 2;
        return 0;
}

/* path made absolute against the working directory (not resolved: no symlinks followed,
 * nothing need exist). Returns a malloc'ed string or NULL. */
static char *absolute_path(const char *path) {
        _cleanup_free_ char *cwd = NULL;
        char *r = NULL;

        if (path[0] == '/')
                return strdup(path);
        cwd = getcwd(NULL, 0);
        if (!cwd || asprintf(&r, "%s/%s", cwd, startswith(path, "./") ?: path) < 0)
                return NULL;
        return r;
}

int main(int argc, char **argv) {
        _cleanup_(manager_freep) Manager *m = NULL;
        _cleanup_free_ char *def_units = NULL, *def_runtime = NULL;
        Args a = {};
        sigset_t mask;
        int r;

        log_open();
        r = parse_args(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

        /* Before any event source exists: signals are handled only through sd-event. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                log_error_errno(errno, "Failed to block signals: %m");
                return EXIT_FAILURE;
        }

        /* Orphans of our services are ours to reap; as PID 1 they are anyway. */
        if (!a.check && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                log_warning_errno(errno, "Failed to become a child subreaper: %m, ignoring");

        r = default_dirs(&a, &def_units, &def_runtime);
        if (r < 0)
                return EXIT_FAILURE;
        if (a.n_unit_dirs == 0)
                a.unit_dirs[a.n_unit_dirs++] = def_units;
        a.unit_dirs[a.n_unit_dirs] = NULL;

        /* A missing directory is skipped, but when none exists a check has nothing to check
         * and a daemon nothing to do: say so. */
        if (!a.command) {
                bool any = false;
                struct stat st;
                for (size_t i = 0; i < a.n_unit_dirs && !any; i++)
                        any = stat(a.unit_dirs[i], &st) == 0 && S_ISDIR(st.st_mode);
                if (!any && a.check) {
                        log_error("No unit directory to check: '%s'%s does not exist.",
                                  a.unit_dirs[0], a.n_unit_dirs > 1 ? " (and the others)" : "");
                        return EXIT_FAILURE;
                }
                if (!any)
                        log_warning("No unit directory: '%s'%s does not exist; running with no "
                                    "units.",
                                    a.unit_dirs[0], a.n_unit_dirs > 1 ? " (and the others)" : "");
        }

        /* Services see these paths ($NOTIFY_SOCKET) from their own working directory: make
         * them absolute. Unit directories too, so messages name files the same way. */
        _cleanup_free_ char *abs_runtime = absolute_path(a.runtime_dir ?: def_runtime);
        char *abs_dirs[UNIT_DIRS_MAX + 1] = {};
        if (!abs_runtime)
                return log_oom(), EXIT_FAILURE;
        for (size_t i = 0; i < a.n_unit_dirs; i++)
                if (!(abs_dirs[i] = absolute_path(a.unit_dirs[i]))) {
                        for (size_t k = 0; k < i; k++)
                                free(abs_dirs[k]);
                        return log_oom(), EXIT_FAILURE;
                }
        r = manager_new(&m, abs_dirs, abs_runtime, a.user);
        for (size_t i = 0; i < a.n_unit_dirs; i++)
                free(abs_dirs[i]);
        if (r < 0) {
                log_oom();
                return EXIT_FAILURE;
        }
        if (a.command) {
                Unit **units = NULL;
                size_t n = 0;

                r = adhoc_units(&a, &units, &n);
                if (r < 0)
                        return EXIT_FAILURE;
                manager_set_units(m, units, n);
        }
        r = manager_load(m);
        if (r < 0)
                return EXIT_FAILURE;

        if (a.check) {
                manager_print_plan(m, stdout);
                return m->n_errors > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        }

        if (mkdir(m->runtime_dir, 0755) < 0 && errno != EEXIST)
                log_warning_errno(errno, "Failed to create the runtime directory '%s': %m, "
                                  "ignoring", m->runtime_dir);

        r = manager_bind(m);
        if (r < 0)
                return EXIT_FAILURE;
        r = manager_run(m);
        return r < 0 ? EXIT_FAILURE : r;
}
