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

#define UNIT_DIRS_MAX 64

typedef struct Args {
        char *unit_dirs[UNIT_DIRS_MAX + 1];
        size_t n_unit_dirs;
        const char *runtime_dir;
        bool user;
        bool check;
} Args;

static void help(void) {
        printf("Usage: berthd [OPTIONS]\n"
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
               "  -v, --verbose      log debug messages\n"
               "  -h, --help         show this help\n"
               "      --version      show the version\n",
               "/" BERTH_SYSTEM_UNIT_DIR);
}

static int parse_args(int argc, char **argv, Args *a) {
        enum { ARG_UNITS = 0x100, ARG_RUNTIME_DIR, ARG_USER, ARG_CHECK, ARG_VERSION };
        static const struct option options[] = {
                { "units", required_argument, NULL, ARG_UNITS },
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "user", no_argument, NULL, ARG_USER },
                { "check", no_argument, NULL, ARG_CHECK },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "hv", options, NULL)) >= 0)
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

        r = manager_new(&m, a.unit_dirs, a.runtime_dir ?: def_runtime, a.user);
        if (r < 0) {
                log_oom();
                return EXIT_FAILURE;
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
