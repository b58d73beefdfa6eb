/* berthctl: the control client of berthd (SPEC §6). It talks D-Bus to berthd peer to peer on
 * RUNTIME/control, with no bus daemon, the way systemctl talks to PID 1 on its private socket
 * (common/control-interface.h is the contract). This file owns the options and the verbs that
 * act (start, stop, reload, cat, logs, fds, check); status.c owns the verbs that show, bus.c
 * the connection, the calls and the error reporting both use. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include <systemd/sd-bus.h>

#include "config.h"

#include "client/bus.h"
#include "client/output.h"
#include "client/status.h"
#include "common/control-interface.h"
#include "common/log.h"
#include "common/strv.h"
#include "common/time-util.h"
#include "common/parse-util.h"

/* Where meson installs berthd (-DBERTHD_INSTALL_PATH), for `check`. */
#ifdef BERTHD_INSTALL_PATH
#define BERTHD_INSTALL_PATH_OR_EMPTY BERTHD_INSTALL_PATH
#else
#define BERTHD_INSTALL_PATH_OR_EMPTY ""
#endif
#define FDS_MAX 4096           /* fds a socket unit may hand over to `fds` */
#define UNIT_FILES_MAX 4096    /* files in one GetUnitFiles reply */
#define FOLLOW_INTERVAL_NSEC (200 * 1000 * 1000L)
#define WAIT_READY_DEFAULT_SEC 60U /* --wait-ready without a number */

typedef struct BerthctlArgs {
        const char *runtime_dir; /* --runtime-dir, or the default of the mode */
        bool user;
        bool json;
        bool no_color;
        bool plain;       /* --plain / --no-legend: no header, no footer */
        bool follow;      /* logs -f */
        unsigned lines;   /* -n: log lines for status and logs */
        bool lines_set;
        const char *binary; /* daemon-reexec --binary */
        bool quiet;       /* -q: is-active prints nothing */
        unsigned wait_ready_sec; /* --wait-ready[=SEC]: 0 when not given */
} BerthctlArgs;

static BerthctlArgs opts = { .lines = 10 };

static void help(void) {
        printf("Usage: berthctl [OPTIONS] COMMAND [ARG...]\n"
               "\n"
               "Controls berthd, the socket-activation supervisor.\n"
               "\n"
               "Units:\n"
               "  status [UNIT...]         state, pid, uptime, sockets and last log lines of\n"
               "                           each UNIT; without UNIT, an overview of every unit\n"
               "  list-units               every unit and its state\n"
               "  list-sockets             every socket, like ss -ltn, with its unit\n"
               "  is-active UNIT...        print whether each UNIT is active; exit 0 when\n"
               "                           all are (a readiness probe)\n"
               "  start UNIT...            start a service (for a socket: its service)\n"
               "  stop UNIT...             stop a service; its sockets stay bound\n"
               "  restart UNIT...          restart a service; its sockets stay bound\n"
               "  reload UNIT...           ExecReload=, or ReloadSignal= to the service; waits\n"
               "                           for it (Type=notify-reload: for READY=1)\n"
               "  cat UNIT...              the unit file and its drop-ins, in order\n"
               "  logs [-f] [-n N] UNIT    the last lines a service printed\n"
               "  fds SOCKET -- CMD [ARG...]\n"
               "                           run CMD with SOCKET's fds (LISTEN_FDS protocol)\n"
               "\n"
               "berthd:\n"
               "  daemon-reload            re-read every unit file\n"
               "  daemon-reexec [--binary PATH]\n"
               "                           execute berthd again (or PATH), keeping every\n"
               "                           socket, service and fd store\n"
               "  check [DIR]              validate unit files offline (berthd --check)\n"
               "\n"
               "Options:\n"
               "      --runtime-dir DIR    berthd's runtime directory (default: $%s,\n"
               "                           else %s, or with --user\n"
               "                           $XDG_RUNTIME_DIR/berth)\n"
               "      --user               talk to the user's berthd\n"
               "      --json               JSON output for status, list-units, list-sockets\n"
               "      --no-color           no colour (neither when NO_COLOR is set, nor when\n"
               "                           stdout is not a terminal)\n"
               "      --plain, --no-legend tables without header and footer\n"
               "  -n, --lines N            log lines to show (status: 10; logs: all kept)\n"
               "  -f, --follow             logs: keep printing new lines until interrupted\n"
               "      --wait-ready[=SEC]   status, is-active: wait up to SEC seconds (%u) for\n"
               "                           berthd to answer and for each UNIT to be active\n"
               "  -q, --quiet              is-active: print nothing, only exit\n"
               "  -h, --help               show this help\n"
               "      --version            show the version\n"
               "\n"
               "Exit status: 0 on success; 1 on failure; 3 when status or is-active finds an\n"
               "inactive unit; 4 when a unit does not exist.\n",
               BERTH_RUNTIME_DIR_ENV, BERTH_SYSTEM_RUNTIME_DIR, WAIT_READY_DEFAULT_SEC);
}

/* Returns 1 to go on, 0 to exit successfully (--help), or a negative errno. */
static int parse_args(int argc, char **argv) {
        enum {
                ARG_RUNTIME_DIR = 0x100,
                ARG_USER,
                ARG_JSON,
                ARG_NO_COLOR,
                ARG_PLAIN,
                ARG_VERSION,
                ARG_BINARY,
                ARG_WAIT_READY,
        };
        static const struct option options[] = {
                { "runtime-dir", required_argument, NULL, ARG_RUNTIME_DIR },
                { "user", no_argument, NULL, ARG_USER },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-color", no_argument, NULL, ARG_NO_COLOR },
                { "no-colour", no_argument, NULL, ARG_NO_COLOR },
                { "plain", no_argument, NULL, ARG_PLAIN },
                { "no-legend", no_argument, NULL, ARG_PLAIN },
                { "lines", required_argument, NULL, 'n' },
                { "follow", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "binary", required_argument, NULL, ARG_BINARY },
                { "wait-ready", optional_argument, NULL, ARG_WAIT_READY },
                { "quiet", no_argument, NULL, 'q' },
                {},
        };
        int c;

        /* Options may come before or after the verb, as with systemctl. */
        while ((c = getopt_long(argc, argv, "hn:fq", options, NULL)) >= 0)
                switch (c) {
                case ARG_RUNTIME_DIR:
                        opts.runtime_dir = optarg;
                        break;
                case ARG_USER:
                        opts.user = true;
                        break;
                case ARG_JSON:
                        opts.json = true;
                        break;
                case ARG_NO_COLOR:
                        opts.no_color = true;
                        break;
                case ARG_PLAIN:
                        opts.plain = true;
                        break;
                case 'n':
                        if (parse_unsigned(optarg, &opts.lines) < 0) {
                                log_error("Invalid number of lines '%s': give a number such as "
                                          "-n 50.", optarg);
                                return -EINVAL;
                        }
                        opts.lines_set = true;
                        break;
                case 'f':
                        opts.follow = true;
                        break;
                case ARG_BINARY:
                        opts.binary = optarg;
                        break;
                case ARG_WAIT_READY:
                        opts.wait_ready_sec = WAIT_READY_DEFAULT_SEC;
                        if (optarg && (parse_unsigned(optarg, &opts.wait_ready_sec) < 0 ||
                                       opts.wait_ready_sec == 0)) {
                                log_error("Invalid --wait-ready '%s': give seconds, such as "
                                          "--wait-ready=30.", optarg);
                                return -EINVAL;
                        }
                        break;
                case 'q':
                        opts.quiet = true;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("berthctl %s\n", BERTH_VERSION);
                        return 0;
                case '?':
                        log_error("Try 'berthctl --help'.");
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        return 1;
}

/* Where berthd's control socket is: --runtime-dir, else $BERTH_RUNTIME_DIR, else --user's
 * $XDG_RUNTIME_DIR/berth, else /run/berth. Returns 0 with the malloc'ed path in *ret and, when
 * ret_origin is given, what chose it (static text) in *ret_origin; or a negative errno after
 * logging. */
static int runtime_control_path_full(char **ret, const char **ret_origin) {
        const char *env = getenv(BERTH_RUNTIME_DIR_ENV), *xdg = getenv("XDG_RUNTIME_DIR");
        const char *origin;
        int k;

        if (opts.runtime_dir) {
                origin = "from --runtime-dir";
                k = asprintf(ret, "%s/%s", opts.runtime_dir, BERTH_CONTROL_SOCKET);
        } else if (env && env[0]) {
                origin = "from $" BERTH_RUNTIME_DIR_ENV;
                k = asprintf(ret, "%s/%s", env, BERTH_CONTROL_SOCKET);
        } else if (!opts.user) {
                origin = "the system berthd's default";
                k = asprintf(ret, "%s/%s", BERTH_SYSTEM_RUNTIME_DIR, BERTH_CONTROL_SOCKET);
        } else if (xdg && xdg[0] == '/') {
                origin = "--user: $XDG_RUNTIME_DIR/berth";
                k = asprintf(ret, "%s/berth/%s", xdg, BERTH_CONTROL_SOCKET);
        } else {
                log_error("--user needs $XDG_RUNTIME_DIR; or give --runtime-dir DIR.");
                return -EINVAL;
        }
        if (k < 0) {
                *ret = NULL;
                return log_oom();
        }
        if (ret_origin)
                *ret_origin = origin;
        return 0;
}

static int runtime_control_path(char **ret) {
        return runtime_control_path_full(ret, NULL);
}

/* A new connection to berthd at control, once it answers Ping (with its generation), tried
 * until deadline: while berthd executes itself (daemon-reexec) nobody answers for a moment. */
static int reconnect(const char *control, usec_t deadline, sd_bus **ret, unsigned *ret_gen) {
        int r = -ETIMEDOUT;

        while (time_now(CLOCK_MONOTONIC) < deadline) {
                _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                struct timespec ts = { .tv_nsec = 20 * 1000 * 1000L };

                r = bus_connect_quiet(control, &bus);
                if (r >= 0)
                        r = bus_call(bus, "Ping", BERTHCTL_ACTION_TIMEOUT_USEC, &error, &reply,
                                     NULL);
                if (r >= 0)
                        r = sd_bus_message_read(reply, "u", ret_gen);
                if (r >= 0) {
                        if (ret)
                                *ret = TAKE_PTR(bus);
                        return 0;
                }
                (void) nanosleep(&ts, NULL); /* a connect refused or cut: poll again */
        }
        return r;
}

/* The connection broke while berthd carried out verb on name: a daemon-reexec closes every
 * client's. The action goes on in the new berthd: wait for the unit to settle, and say how. */
static int action_after_disconnect(const char *verb, const char *name) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *control = NULL;
        usec_t deadline = time_now(CLOCK_MONOTONIC) + BERTHCTL_ACTION_TIMEOUT_USEC;
        unsigned gen;
        int r;

        r = runtime_control_path(&control);
        if (r < 0)
                return r;
        r = reconnect(control, time_now(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC, &bus, &gen);
        if (r < 0)
                return log_error_errno(r, "Failed to %s %s: berthd went away", verb, name);
        while (time_now(CLOCK_MONOTONIC) < deadline) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_(unit_properties_done) UnitProperties p = {};
                struct timespec ts = { .tv_nsec = 20 * 1000 * 1000L };
                const char *state;

                r = bus_call(bus, "GetUnit", BERTHCTL_QUERY_TIMEOUT_USEC, &error, &reply, "s",
                             name);
                if (r < 0)
                        return bus_report_error("Failed to get unit", name, &error, r);
                r = unit_properties_read(reply, &p);
                if (r < 0)
                        return log_error_errno(r, "Failed to parse berthd's reply to GetUnit: "
                                               "%m");
                state = unit_prop_str(&p, "State");
                if (STR_IN_SET(state, "failed", "backoff")) {
                        log_error("Failed to %s %s: it is %s (berthd re-executed itself "
                                  "meanwhile)", verb, name, state);
                        return -EIO;
                }
                if (streq(state, streq(verb, "stop") ? "dead" : "running") ||
                    (streq(state, "dead") && !streq(verb, "stop") &&
                     streq(unit_prop_str(&p, "Result"), "success")))
                        return BERTHCTL_EXIT_SUCCESS;
                (void) nanosleep(&ts, NULL);
        }
        log_error("Failed to %s %s: it did not settle in time", verb, name);
        return -ETIMEDOUT;
}

/* start, stop, restart, reload: each unit in turn; the first failure's exit code is ours. */
static int unit_action(sd_bus *bus, const char *member, const char *verb, char **args, size_t n) {
        int ret = BERTHCTL_EXIT_SUCCESS;

        if (n == 0) {
                log_error("Usage: berthctl %s UNIT...", verb);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *name = NULL, *what = NULL;
                int r;

                if (unit_name_has_suffix(args[i]))
                        name = strdup(args[i]);
                else {
                        r = unit_resolve(bus, args[i], &name, NULL);
                        if (r != 0) {
                                ret = ret ?: r;
                                continue;
                        }
                }
                if (!name)
                        return log_oom();

                r = bus_call(bus, member, BERTHCTL_ACTION_TIMEOUT_USEC, &error, NULL, "s", name);
                if (r < 0 && bus_error_is_disconnect(&error, r)) {
                        r = action_after_disconnect(verb, name);
                        ret = ret ?: r;
                        continue;
                }
                if (r < 0) {
                        if (asprintf(&what, "Failed to %s %s", verb, name) < 0)
                                return log_oom();
                        r = bus_report_error(what, name, &error, r);
                        ret = ret ?: r;
                }
        }
        return ret;
}

static int verb_start(sd_bus *bus, char **args, size_t n) {
        return unit_action(bus, "StartUnit", "start", args, n);
}

static int verb_stop(sd_bus *bus, char **args, size_t n) {
        return unit_action(bus, "StopUnit", "stop", args, n);
}

static int verb_restart(sd_bus *bus, char **args, size_t n) {
        return unit_action(bus, "RestartUnit", "restart", args, n);
}

static int verb_reload(sd_bus *bus, char **args, size_t n) {
        return unit_action(bus, "ReloadUnit", "reload", args, n);
}

static int verb_daemon_reload(sd_bus *bus, char **args, size_t n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = bus_call(bus, "Reload", BERTHCTL_ACTION_TIMEOUT_USEC, &error, &reply, NULL);
        if (r < 0) {
                if (sd_bus_error_has_name(&error, BERTH_ERROR_RELOAD_FAILED)) {
                        /* The message lists every "file:line: message". */
                        log_error("daemon-reload failed; the units with errors keep their old "
                                  "configuration:\n%s", strna(error.message));
                        return -EINVAL;
                }
                return bus_report_error("Failed to reload berthd", NULL, &error, r);
        }

        r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "s");
        for (size_t i = 0; r >= 0 && i < BUS_STRV_MAX; i++) {
                const char *w;

                r = sd_bus_message_read(reply, "s", &w);
                if (r <= 0)
                        break;
                log_warning("%s", w);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to parse berthd's reply to Reload: %m");
        return BERTHCTL_EXIT_SUCCESS;
}

static int verb_cat(sd_bus *bus, char **args, size_t n) {
        bool first = true;
        int ret = BERTHCTL_EXIT_SUCCESS;

        if (n == 0) {
                log_error("Usage: berthctl cat UNIT...");
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *name = NULL;
                int r;

                r = unit_resolve(bus, args[i], &name, NULL);
                if (r != 0) {
                        ret = ret ?: r;
                        continue;
                }
                r = bus_call(bus, "GetUnitFiles", BERTHCTL_QUERY_TIMEOUT_USEC, &error, &reply,
                             "s", name);
                if (r < 0) {
                        r = bus_report_error("Failed to get the unit files", name, &error, r);
                        ret = ret ?: r;
                        continue;
                }
                r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "(ss)");
                for (size_t k = 0; r >= 0 && k < UNIT_FILES_MAX; k++) {
                        const char *path, *content;
                        size_t l;

                        r = sd_bus_message_read(reply, "(ss)", &path, &content);
                        if (r <= 0)
                                break;
                        if (!first)
                                putchar('\n');
                        first = false;
                        printf("%s# %s%s\n", ansi(ANSI_HIGHLIGHT), path, ansi(ANSI_NORMAL));
                        fputs(content, stdout);
                        l = strlen(content);
                        if (l > 0 && content[l - 1] != '\n')
                                putchar('\n');
                }
                if (r < 0) {
                        log_error_errno(r, "Failed to parse berthd's reply to GetUnitFiles: %m");
                        ret = ret ?: r;
                }
        }
        return ret;
}

static void print_log_entry(const LogEntry *e, void *userdata) {
        printf("%s[%" PRIu32 "]: %s\n", (const char *) userdata, e->pid, e->line);
}

static void ignore_log_entry(const LogEntry *e, void *userdata) {
}

/* The connection broke, or berthd answered with an error: either way `logs -f` ends. */
static int follow_error(const char *name, const sd_bus_error *error, int r) {
        if (bus_error_is_disconnect(error, r)) {
                log_error("berthd went away.");
                return r;
        }
        return bus_report_error("Failed to get the logs", name, error, r);
}

static int verb_logs(sd_bus *bus, char **args, size_t n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *unit_reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *name = NULL, *service = NULL;
        UnitProperties props = {};
        uint64_t next = 0;
        sigset_t mask;
        int r;

        if (n != 1) {
                log_error("Usage: berthctl logs [-f] [-n N] UNIT");
                return -EINVAL;
        }
        r = unit_resolve(bus, args[0], &name, &unit_reply);
        if (r != 0)
                return r;
        /* A socket unit's logs are its service's output. */
        r = unit_properties_read(unit_reply, &props);
        if (r < 0)
                return log_error_errno(r, "Failed to parse berthd's reply to GetUnit: %m");
        if (streq(unit_prop_str(&props, "Type"), "socket") && unit_prop_str(&props, "Service")[0])
                service = strdup(unit_prop_str(&props, "Service"));
        else
                service = strdup(name);
        unit_properties_done(&props);
        if (!service)
                return log_oom();

        /* With -f, SIGINT and SIGTERM end the loop below, from the start: they stay pending
         * while we call berthd and are taken by sigtimedwait(), which is also the 200 ms pause
         * between polls. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        if (opts.follow && sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");

        /* GetLogs' max 0 means all: -n 0 asks for one line, to learn where to follow from,
         * and prints none. */
        r = logs_fetch(bus, service, 0, opts.lines_set ? MAX(opts.lines, 1U) : 0, &error, &next,
                       opts.lines_set && opts.lines == 0 ? ignore_log_entry : print_log_entry,
                       service);
        if (r < 0)
                return bus_report_error("Failed to get the logs", service, &error, r);
        fflush(stdout);
        if (!opts.follow)
                return BERTHCTL_EXIT_SUCCESS;

        /* Unbounded on purpose, as tail -f: it ends with a signal or with berthd. */
        for (;;) {
                struct timespec ts = { .tv_nsec = FOLLOW_INTERVAL_NSEC };
                uint64_t after = next;

                if (sigtimedwait(&mask, NULL, &ts) > 0)
                        return BERTHCTL_EXIT_SUCCESS;
                sd_bus_error_free(&error);
                r = logs_fetch(bus, service, after, 0, &error, &next, print_log_entry, service);
                if (r < 0)
                        return follow_error(service, &error, r);
                /* A smaller number: the service was created anew (a reload); its lines are all
                 * new to us, so the next poll starts from its oldest. */
                if (next < after)
                        next = 0;
                if (fflush(stdout) != 0 || ferror(stdout))
                        return BERTHCTL_EXIT_SUCCESS;
        }
}

/* berthd answers first (it tried the binary and wrote its state), then executes: the
 * connection closes, and the new berthd answers Ping with the generation it was told. */
static int verb_daemon_reexec(sd_bus *bus, char **args, size_t n) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *control = NULL, *binary = NULL;
        unsigned want, got = 0;
        usec_t deadline;
        int r;

        if (opts.binary) {
                binary = realpath(opts.binary, NULL);
                if (!binary)
                        return log_error_errno(errno, "Cannot use --binary '%s': %m",
                                               opts.binary);
        }
        r = bus_call(bus, "Reexecute", BERTHCTL_ACTION_TIMEOUT_USEC, &error, &reply, "s",
                     strempty(binary));
        if (r < 0)
                return bus_report_error("daemon-reexec failed", NULL, &error, r);
        r = sd_bus_message_read(reply, "u", &want);
        if (r < 0)
                return log_error_errno(r, "Failed to parse berthd's reply to Reexecute: %m");
        r = runtime_control_path(&control);
        if (r < 0)
                return r;
        /* The old connection ends with the exec; then the new berthd answers. Bounded. */
        deadline = time_now(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        while (time_now(CLOCK_MONOTONIC) < deadline) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r == 0)
                        (void) sd_bus_wait(bus, 100 * USEC_PER_MSEC);
        }
        r = reconnect(control, deadline, NULL, &got);
        if (r < 0)
                return log_error_errno(r, "berthd did not answer within 30 s of its "
                                       "daemon-reexec: %m; see its log");
        if (got < want) {
                log_error("berthd answers, but as it was before (generation %u, not %u): the "
                          "new binary could not take its state over; see berthd's log", got,
                          want);
                return -EPROTO;
        }
        return BERTHCTL_EXIT_SUCCESS;
}

/* Where berthd is: next to our own executable (a build tree, or both installed in one
 * directory), else in PATH, else where meson installs it, else /usr/sbin. */
static int find_berthd(char *buf, size_t buflen) {
        const char *path = getenv("PATH");
        char self[PATH_MAX];
        ssize_t l;

        l = readlink("/proc/self/exe", self, sizeof self - 1);
        if (l > 0) {
                char *slash;

                self[l] = 0;
                slash = strrchr(self, '/');
                if (slash) {
                        *slash = 0;
                        if (snprintf(buf, buflen, "%s/berthd", self) < (int) buflen &&
                            access(buf, X_OK) == 0)
                                return 0;
                }
        }
        /* Each PATH entry once; the loop ends with the string. */
        for (const char *p = path; p && *p;) {
                const char *colon = strchrnul(p, ':');
                size_t dl = (size_t) (colon - p);

                if (dl > 0 && p[0] == '/' &&
                    snprintf(buf, buflen, "%.*s/berthd", (int) dl, p) < (int) buflen &&
                    access(buf, X_OK) == 0)
                        return 0;
                p = *colon ? colon + 1 : colon;
        }
        if (BERTHD_INSTALL_PATH_OR_EMPTY[0] &&
            snprintf(buf, buflen, "%s", BERTHD_INSTALL_PATH_OR_EMPTY) < (int) buflen &&
            access(buf, X_OK) == 0)
                return 0;
        snprintf(buf, buflen, "/usr/sbin/berthd");
        return access(buf, X_OK) == 0 ? 0 : -ENOENT;
}

/* The units directory of the mode, as berthd finds it. Returns a malloc'ed path or NULL. */
static char *default_unit_dir(void) {
        const char *config = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        char *d = NULL;

        if (!opts.user)
                return strdup("/" BERTH_SYSTEM_UNIT_DIR);
        if (config && config[0] == '/') {
                if (asprintf(&d, "%s/berth/units", config) < 0)
                        return NULL;
        } else if (home && home[0] == '/') {
                if (asprintf(&d, "%s/.config/berth/units", home) < 0)
                        return NULL;
        } else
                log_error("--user needs $XDG_CONFIG_HOME or $HOME to find the units; or give "
                          "check DIR.");
        return d;
}

static int verb_check(char **args, size_t n) {
        _cleanup_free_ char *dir = NULL;
        char berthd[PATH_MAX];

        if (n > 1) {
                log_error("Usage: berthctl check [DIR]");
                return -EINVAL;
        }
        dir = n == 1 ? strdup(args[0]) : default_unit_dir();
        if (!dir)
                return -ENOMEM;
        if (find_berthd(berthd, sizeof berthd) < 0) {
                log_error("Cannot find berthd: it is neither next to berthctl, nor in $PATH, "
                          "nor at %s%s/usr/sbin/berthd.", BERTHD_INSTALL_PATH_OR_EMPTY,
                          BERTHD_INSTALL_PATH_OR_EMPTY[0] ? " or " : "");
                return -ENOENT;
        }
        fflush(stdout);
        execv(berthd, (char *[]) { berthd, (char *) "--check", (char *) "--units", dir, NULL });
        return log_error_errno(errno, "Failed to execute %s: %m", berthd);
}

/* Reads GetSocketFds' reply into fds (at most FDS_MAX; they belong to the reply) and
 * LISTEN_FDNAMES (one name per fd; default_name for any the reply does not name). */
static int fds_read_reply(sd_bus_message *reply, const char *name, const char *default_name,
                          int *fds, size_t *ret_n_fds, char **ret_names) {
        _cleanup_free_ char *names = NULL;
        const char *contents = NULL;
        size_t n_fds = 0, n_names = 0, names_len = 0;
        bool in_struct = false;
        char type;
        FILE *f;
        int r;

        /* The reply is "ahas"; a berthd that wraps it in one struct is understood too. */
        r = sd_bus_message_peek_type(reply, &type, &contents);
        if (r > 0 && type == SD_BUS_TYPE_STRUCT) {
                r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_STRUCT, contents);
                in_struct = true;
        }
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "h");
        while (r >= 0 && n_fds < FDS_MAX) {
                int fd;

                r = sd_bus_message_read(reply, "h", &fd);
                if (r <= 0)
                        break;
                fds[n_fds++] = fd;
        }
        if (r > 0) {
                log_error("%s has more than %d fds.", name, FDS_MAX);
                return -E2BIG;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);

        f = open_memstream(&names, &names_len);
        if (!f)
                return log_oom();
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, SD_BUS_TYPE_ARRAY, "s");
        while (r >= 0 && n_names < FDS_MAX) {
                const char *s;

                r = sd_bus_message_read(reply, "s", &s);
                if (r <= 0)
                        break;
                /* LISTEN_FDNAMES has one name per fd. */
                if (n_names < n_fds)
                        fprintf(f, "%s%s", n_names > 0 ? ":" : "", s);
                n_names++;
        }
        for (size_t i = n_names; i < n_fds; i++)
                fprintf(f, "%s%s", i > 0 ? ":" : "", default_name);
        if (fclose(f) != 0)
                return log_oom();
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r >= 0 && in_struct)
                r = sd_bus_message_exit_container(reply);
        if (r < 0)
                return log_error_errno(r, "Failed to parse berthd's reply to GetSocketFds: %m");
        if (n_fds == 0) {
                log_error("%s has no bound sockets.", name);
                return -ENOENT;
        }
        *ret_n_fds = n_fds;
        *ret_names = TAKE_PTR(names);
        return 0;
}

/* Moves fds (owned, CLOEXEC) to 3.., sets LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID, and
 * execs cmd. Returns only on failure. */
static int fds_exec(int *fds, size_t n_fds, const char *names, char **cmd) {
        char num[32];

        for (size_t i = 0; i < n_fds; i++) {
                /* dup2() leaves FD_CLOEXEC clear on the new fd: CMD inherits it. */
                if (dup2(fds[i], (int) (3 + i)) < 0)
                        return log_error_errno(errno, "Failed to move a socket fd to %zu: %m",
                                               3 + i);
                fds[i] = safe_close(fds[i]);
        }
        /* CMD gets 0, 1, 2 and its sockets, nothing else we may have inherited. Best effort:
         * a kernel without close_range() keeps the old behaviour. */
        (void) close_range((unsigned) (3 + n_fds), ~0U, CLOSE_RANGE_CLOEXEC);

        snprintf(num, sizeof num, "%zu", n_fds);
        if (setenv("LISTEN_FDS", num, 1) < 0 || setenv("LISTEN_FDNAMES", names, 1) < 0)
                return log_oom();
        snprintf(num, sizeof num, "%d", (int) getpid());
        if (setenv("LISTEN_PID", num, 1) < 0)
                return log_oom();

        fflush(stdout);
        execvp(cmd[0], cmd);
        log_error_errno(errno, "berthctl: failed to execute '%s': %m", cmd[0]);
        return 127;
}

/* fds SOCKET -- CMD: the socket's fds at 3.., LISTEN_FDS, LISTEN_FDNAMES and LISTEN_PID, then
 * exec CMD in this process, so LISTEN_PID is our pid and stays right across exec. The bus is
 * closed first (*busp is consumed). */
static int verb_fds(sd_bus **busp, char **args, size_t n, char **cmd) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *name = NULL, *names = NULL, *default_name = NULL;
        _cleanup_free_ int *fds = NULL;
        size_t n_fds = 0;
        int r;

        if (n != 1 || !cmd || !cmd[0]) {
                log_error("Usage: berthctl fds SOCKET -- CMD [ARG...]");
                return -EINVAL;
        }
        if (unit_name_has_suffix(args[0]))
                name = strdup(args[0]);
        else if (asprintf(&name, "%s.socket", args[0]) < 0)
                name = NULL;
        fds = calloc(FDS_MAX, sizeof(int));
        if (!name || !fds)
                return log_oom();
        default_name = strndup(name, strlen(name) - (endswith(name, ".socket") ? 7 : 0));
        if (!default_name)
                return log_oom();

        r = bus_call(*busp, "GetSocketFds", BERTHCTL_QUERY_TIMEOUT_USEC, &error, &reply, "s",
                     name);
        if (r < 0) {
                _cleanup_free_ char *what = NULL;
                if (asprintf(&what, "Failed to get the fds of %s", name) < 0)
                        return log_oom();
                return bus_report_error(what, name, &error, r);
        }
        r = fds_read_reply(reply, name, default_name, fds, &n_fds, &names);
        if (r < 0)
                return r;

        /* The fds belong to the reply: each goes above 3+n first, so that moving them down
         * never lands on one not yet moved. */
        for (size_t i = 0; i < n_fds; i++) {
                fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, (int) (3 + n_fds));
                if (fds[i] < 0) {
                        r = -errno;
                        for (size_t k = 0; k < i; k++)
                                safe_close(fds[k]);
                        return log_error_errno(r, "Failed to duplicate a socket fd: %m");
                }
        }
        reply = sd_bus_message_unref(reply);
        *busp = sd_bus_flush_close_unref(*busp);
        return fds_exec(fds, n_fds, names, cmd);
}

/* A verb acts (fn) or shows (show, with the options status.c reads). */
typedef struct Verb {
        const char *name;
        int (*fn)(sd_bus *bus, char **args, size_t n);
        int (*show)(sd_bus *bus, const StatusOptions *o, char **args, size_t n);
} Verb;

static const Verb verbs[] = {
        { "status", .show = verb_status },
        { "list-units", .show = verb_list_units },
        { "list-sockets", .show = verb_list_sockets },
        { "is-active", .show = verb_is_active },
        { "start", verb_start },
        { "stop", verb_stop },
        { "restart", verb_restart },
        { "reload", verb_reload },
        { "daemon-reload", verb_daemon_reload },
        { "daemon-reexec", verb_daemon_reexec },
        { "cat", verb_cat },
        { "logs", verb_logs },
};


/* Runs the verb: returns its exit code (>= 0), or a negative errno after logging. */
static int run(int argc, char **argv) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_free_ char *control = NULL;
        const Verb *verb = NULL;
        const char *verb_name, *origin;
        char **args, **cmd = NULL;
        usec_t wait_until = 0;
        int end = argc, r;
        size_t n;

        /* Everything after "--" is CMD's (fds), never ours: cut it off before getopt. */
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--")) {
                        end = i;
                        cmd = argv + i + 1;
                        break;
                }
        r = parse_args(end, argv);
        if (r <= 0)
                return r;
        output_init(opts.no_color || opts.json);

        /* As systemctl: no verb lists the units. */
        verb_name = optind < end ? argv[optind] : "list-units";
        args = argv + MIN(optind + 1, end);
        n = (size_t) (end - MIN(optind + 1, end));

        if (cmd && !streq(verb_name, "fds")) {
                log_error("'--' is only for fds: berthctl fds SOCKET -- CMD [ARG...]");
                return -EINVAL;
        }
        if (opts.follow && !streq(verb_name, "logs")) {
                log_error("-f/--follow is only for logs.");
                return -EINVAL;
        }
        if (opts.wait_ready_sec > 0 && !STR_IN_SET(verb_name, "status", "is-active")) {
                log_error("--wait-ready is only for status and is-active.");
                return -EINVAL;
        }
        if (streq(verb_name, "check"))
                return verb_check(args, n);
        if (!streq(verb_name, "fds")) {
                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        if (streq(verbs[i].name, verb_name))
                                verb = &verbs[i];
                if (!verb) {
                        log_error("Unknown command verb '%s'. Try 'berthctl --help'.", verb_name);
                        return -EINVAL;
                }
        }

        r = runtime_control_path_full(&control, &origin);
        if (r < 0)
                return r;
        if (opts.wait_ready_sec > 0) {
                /* berthd answers once every socket is bound (its READY=1): until then, and
                 * before its control socket exists, ask again. */
                unsigned gen;

                wait_until = time_now(CLOCK_MONOTONIC) + opts.wait_ready_sec * USEC_PER_SEC;
                r = reconnect(control, wait_until, &bus, &gen);
                if (r < 0) {
                        log_error("berthd did not answer at %s (%s) within %u s.", control,
                                  origin, opts.wait_ready_sec);
                        return r;
                }
        } else {
                r = bus_connect(control, origin, &bus);
                if (r < 0)
                        return r;
        }

        if (!verb)
                return verb_fds(&bus, args, n, cmd);
        if (verb->show)
                return verb->show(bus,
                                  &(const StatusOptions) {
                                          .json = opts.json,
                                          .plain = opts.plain,
                                          .lines = opts.lines,
                                          .quiet = opts.quiet,
                                          .wait_until = wait_until,
                                  },
                                  args, n);
        return verb->fn(bus, args, n);
}

int main(int argc, char **argv) {
        int r;

        log_open();
        r = run(argc, argv);
        return r < 0 ? BERTHCTL_EXIT_FAILURE : r;
}
