/* The service state machine as a (state x event) table, s6-supervise style. Each row loads a
 * real unit with the real parser, drives a real Service through ServiceOps that only record
 * what they are asked to do (no process is spawned, no timer runs, the clock is ours), brings
 * it to a state with a setup sequence of events, applies one event, and checks the state it
 * lands in and exactly what it did on the way. */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "common/log.h"
#include "common/macro.h"
#include "daemon/notify-parse.h"
#include "daemon/service-internal.h"
#include "daemon/service.h"
#include "daemon/unit-file.h"
#include "tests/unit/test-util.h"

/* ---- the recording ops ---- */

typedef struct Fake {
        char log[4096];
        size_t len;
        pid_t next_pid;
        usec_t now;
        bool fail_spawn; /* the next spawn fails */
        int watching;    /* what the service last asked for; services begin unwatched */
        usec_t timer[_SERVICE_TIMER_MAX];
        pid_t pgid_answer; /* what pgid_of() says */
} Fake;

static Fake fake;

_printf_(1, 2) static void record(const char *fmt, ...) {
        va_list ap;

        if (fake.len > 0 && fake.len + 2 < sizeof fake.log) {
                memcpy(fake.log + fake.len, "; ", 2);
                fake.len += 2;
        }
        va_start(ap, fmt);
        int k = vsnprintf(fake.log + fake.len, sizeof fake.log - fake.len, fmt, ap);
        va_end(ap);
        if (k > 0)
                fake.len = MIN(fake.len + (size_t) k, sizeof fake.log - 1);
}

static int fake_spawn(Service *s, const ExecCommand *cmd, bool main, char *const *extra_env,
                      pid_t *ret_pid) {
        const char *base = strrchr(cmd->path, '/');

        if (fake.fail_spawn) {
                fake.fail_spawn = false;
                record("spawn %s failed", base ? base + 1 : cmd->path);
                return -ENOEXEC;
        }
        *ret_pid = fake.next_pid++;
        record("spawn %s %d", base ? base + 1 : cmd->path, (int) *ret_pid);
        return 0;
}

static void fake_kill(Service *s, pid_t pid, int sig) {
        record("kill %d %s", (int) pid, sigabbrev_np(sig));
}

static void fake_kill_all(Service *s, int sig) {
        record("killall %s", sigabbrev_np(sig));
}

static void fake_arm_timer(Service *s, ServiceTimer t, usec_t usec) {
        const char *name = t == SERVICE_TIMER_STATE ? "timer" : "watchdog";

        if (usec == USEC_INFINITY) {
                if (fake.timer[t] != USEC_INFINITY)
                        record("%s off", name);
        } else
                record("%s %llums", name, (unsigned long long) (usec / USEC_PER_MSEC));
        fake.timer[t] = usec;
}

static usec_t fake_now(Service *s, clockid_t clock) {
        return fake.now;
}

static void fake_watch(Service *s, bool on) {
        if (fake.watching != (int) on)
                record("watch %s", on ? "on" : "off");
        fake.watching = on;
}

static pid_t fake_pgid_of(Service *s, pid_t pid) {
        return fake.pgid_answer;
}

static const ServiceOps fake_ops = {
        .spawn = fake_spawn,
        .kill = fake_kill,
        .kill_all = fake_kill_all,
        .arm_timer = fake_arm_timer,
        .now = fake_now,
        .watch = fake_watch,
        .pgid_of = fake_pgid_of,
};

static void fake_reset(void) {
        fake = (Fake) { .next_pid = 100, .now = 1000 * USEC_PER_SEC, .watching = 0 };
        for (size_t i = 0; i < _SERVICE_TIMER_MAX; i++)
                fake.timer[i] = USEC_INFINITY;
}

static void on_restart_done(Service *s, int error, const char *message, void *userdata) {
        record("report %s", error == 0 ? "ready" : "failed");
}

static void on_reload_done(Service *s, int error, const char *message, void *userdata) {
        record("report %s", error == 0 ? "reloaded" : "reload failed");
}

/* ---- the units ---- */

typedef enum Kind {
        SIMPLE,   /* Type=simple, Restart=no */
        NOTIFY,   /* Type=notify */
        ONESHOT,  /* two ExecStart= */
        PRE,      /* ExecStartPre= then simple */
        STOPCMD,  /* ExecStop= */
        ALWAYS,   /* Restart=always, start limit 2 in 10s */
        OVERLAP,  /* Type=notify, Handover=overlap */
        OVERLAP_S, /* Type=simple, Handover=overlap */
        WATCHDOG, /* Type=notify, WatchdogSec=2 */
        SOCKET,   /* socket-activated simple, start limit 2 in 10s */
        RELOADCMD, /* ExecReload= */
        HOOKS,    /* ExecCondition=, ExecStartPre=, ExecStartPost=, ExecStopPost= */
        NRELOAD,  /* Type=notify-reload */
        NRELOADCMD, /* Type=notify-reload with ExecReload= */
        EXITS,    /* Restart=on-failure and the exit status keys */
        FORCE,    /* Restart=no, RestartForceExitStatus= */
        DASH,     /* ExecStart=-..., Restart=on-failure */
        _KIND_MAX,
} Kind;

static const char *const unit_texts[_KIND_MAX] = {
        [SIMPLE] = "[Service]\nExecStart=/bin/main\nTimeoutStopSec=3\n",
        [NOTIFY] = "[Service]\nType=notify\nExecStart=/bin/main\nTimeoutStartSec=5\n"
                   "TimeoutStopSec=3\n",
        [ONESHOT] = "[Service]\nType=oneshot\nExecStart=/bin/a\nExecStart=/bin/b\n"
                    "TimeoutStartSec=5\nTimeoutStopSec=3\n",
        [PRE] = "[Service]\nExecStartPre=/bin/pre\nExecStart=/bin/main\nTimeoutStartSec=5\n"
                "TimeoutStopSec=3\n",
        [STOPCMD] = "[Service]\nExecStart=/bin/main\nExecStop=/bin/stop\nTimeoutStopSec=3\n",
        [ALWAYS] = "[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=10\n"
                   "[Service]\nExecStart=/bin/main\nRestart=always\nRestartSec=1\n"
                   "TimeoutStopSec=3\n",
        [OVERLAP] = "[Service]\nType=notify\nHandover=overlap\nExecStart=/bin/main\n"
                    "TimeoutStartSec=2\nTimeoutStopSec=4\n",
        [OVERLAP_S] = "[Service]\nHandover=overlap\nExecStart=/bin/main\nTimeoutStopSec=4\n",
        [WATCHDOG] = "[Service]\nType=notify\nExecStart=/bin/main\nWatchdogSec=2\n"
                     "TimeoutStartSec=5\nTimeoutStopSec=3\n",
        [SOCKET] = "[Unit]\nStartLimitBurst=2\nStartLimitIntervalSec=10\n"
                   "[Service]\nExecStart=/bin/main\nTimeoutStopSec=3\n",
        [RELOADCMD] = "[Service]\nExecStart=/bin/main\nExecReload=/bin/reload\n"
                      "TimeoutStopSec=3\n",
        [HOOKS] = "[Service]\nExecCondition=/bin/cond\nExecStartPre=/bin/pre\n"
                  "ExecStart=/bin/main\nExecStartPost=/bin/post\nExecStopPost=/bin/stoppost\n"
                  "TimeoutStartSec=5\nTimeoutStopSec=3\n",
        [NRELOAD] = "[Service]\nType=notify-reload\nExecStart=/bin/main\nTimeoutStartSec=5\n"
                    "TimeoutStopSec=3\nReloadSignal=SIGUSR2\n",
        [NRELOADCMD] = "[Service]\nType=notify-reload\nExecStart=/bin/main\n"
                       "ExecReload=/bin/reload\nTimeoutStartSec=5\nTimeoutStopSec=3\n",
        [EXITS] = "[Service]\nExecStart=/bin/main\nRestart=on-failure\nRestartSec=1\n"
                  "SuccessExitStatus=143 SIGUSR1\nRestartPreventExitStatus=3 SIGABRT\n"
                  "TimeoutStopSec=3\n",
        [DASH] = "[Service]\nExecStart=-/bin/main\nRestart=on-failure\nTimeoutStopSec=3\n",
        [FORCE] = "[Service]\nExecStart=/bin/main\nRestartSec=1\n"
                  "RestartForceExitStatus=0 SIGUSR2\nTimeoutStopSec=3\n",
};

static Unit *load_unit(Kind k) {
        const char *path = "/test/t.service";
        Unit *u = NULL;

        ck_assert_int_eq(unit_file_load_strings("t.service", &path, &unit_texts[k], 1, NULL, NULL,
                                                &u),
                         0);
        return u;
}

/* ---- events ---- */

static void child_exit(Service *s, pid_t pid, int code, int status) {
        siginfo_t si = {};

        /* si_pid and si_status live in a union: assign them, never initialize both. */
        si.si_code = code;
        si.si_pid = pid;
        si.si_status = status;
        ck_assert_msg(pid > 0, "no such process to exit");
        ck_assert(service_on_child(s, &si));
}

static void notify(Service *s, NotifyRole role, pid_t pid, const char *text) {
        NotifyMessage m;
        char err[256];

        ck_assert_int_ge(notify_parse(text, strlen(text), &m, err, sizeof err), 0);
        service_on_notify(s, role, pid, &m, NULL, 0);
        notify_message_done(&m);
}

/* Applies one event, by name. */
static void apply(Service *s, const char *ev) {
        char err[256];

        if (streq(ev, "boot")) {
                s->start_at_boot = true;
                ck_assert_int_eq(service_begin(s), 0);
        } else if (streq(ev, "begin")) {
                ck_assert_int_eq(service_begin(s), 0);
        } else if (streq(ev, "trigger"))
                service_on_trigger(s, NULL);
        else if (streq(ev, "start"))
                (void) service_start(s);
        else if (streq(ev, "stop"))
                (void) service_stop(s);
        else if (streq(ev, "shutdown"))
                service_shutdown(s);
        else if (streq(ev, "restart")) {
                (void) service_set_restart_done(s, on_restart_done, NULL);
                if (service_restart(s) < 0)
                        (void) service_set_restart_done(s, NULL, NULL);
        } else if (streq(ev, "reload")) {
                (void) service_set_reload_done(s, on_reload_done, NULL);
                if (service_reload(s, err, sizeof err) < 0)
                        (void) service_set_reload_done(s, NULL, NULL);
        } else if (streq(ev, "exit-main-3"))
                child_exit(s, s->run->main_pid, CLD_EXITED, 3);
        else if (streq(ev, "exit-main-143"))
                child_exit(s, s->run->main_pid, CLD_EXITED, 143);
        else if (streq(ev, "usr1-main"))
                child_exit(s, s->run->main_pid, CLD_KILLED, SIGUSR1);
        else if (streq(ev, "usr2-main"))
                child_exit(s, s->run->main_pid, CLD_KILLED, SIGUSR2);
        else if (streq(ev, "abrt-main"))
                child_exit(s, s->run->main_pid, CLD_DUMPED, SIGABRT);
        else if (streq(ev, "exit-control-255"))
                child_exit(s, s->run->control_pid, CLD_EXITED, 255);
        else if (streq(ev, "reloading")) {
                char t[64];
                snprintf(t, sizeof t, "RELOADING=1\nMONOTONIC_USEC=%llu",
                         (unsigned long long) fake.now);
                notify(s, NOTIFY_ROLE_MAIN, s->run->main_pid, t);
        } else if (streq(ev, "reloading-stale"))
                notify(s, NOTIFY_ROLE_MAIN, s->run->main_pid, "RELOADING=1\nMONOTONIC_USEC=1");
        else if (streq(ev, "reloading-ready")) {
                char t[64];
                snprintf(t, sizeof t, "RELOADING=1\nREADY=1\nMONOTONIC_USEC=%llu",
                         (unsigned long long) fake.now);
                notify(s, NOTIFY_ROLE_MAIN, s->run->main_pid, t);
        }
        else if (streq(ev, "spawnfail"))
                fake.fail_spawn = true;
        else if (streq(ev, "later"))
                fake.now += 20 * USEC_PER_SEC; /* past the start-limit interval */
        else if (streq(ev, "exit-main-0"))
                child_exit(s, s->run->main_pid, CLD_EXITED, 0);
        else if (streq(ev, "exit-main-1"))
                child_exit(s, s->run->main_pid, CLD_EXITED, 1);
        else if (streq(ev, "kill-main"))
                child_exit(s, s->run->main_pid, CLD_KILLED, SIGKILL);
        else if (streq(ev, "term-main"))
                child_exit(s, s->run->main_pid, CLD_KILLED, SIGTERM);
        else if (streq(ev, "exit-old"))
                child_exit(s, s->run->old_main_pid, CLD_EXITED, 0);
        else if (streq(ev, "exit-failed"))
                child_exit(s, s->run->failed_pid, CLD_KILLED, SIGTERM);
        else if (streq(ev, "exit-control-0"))
                child_exit(s, s->run->control_pid, CLD_EXITED, 0);
        else if (streq(ev, "exit-control-1"))
                child_exit(s, s->run->control_pid, CLD_EXITED, 1);
        else if (streq(ev, "ready"))
                notify(s, NOTIFY_ROLE_MAIN, s->run->main_pid, "READY=1");
        else if (streq(ev, "ready-old"))
                notify(s, NOTIFY_ROLE_OLD_MAIN, s->run->old_main_pid, "READY=1");
        else if (streq(ev, "ready-failed"))
                notify(s, NOTIFY_ROLE_FAILED, s->run->failed_pid, "READY=1");
        else if (streq(ev, "ping"))
                notify(s, NOTIFY_ROLE_MAIN, s->run->main_pid, "WATCHDOG=1");
        else if (streq(ev, "extend"))
                notify(s, NOTIFY_ROLE_MAIN, s->run->main_pid, "EXTEND_TIMEOUT_USEC=30000000");
        else if (streq(ev, "timeout")) {
                fake.timer[SERVICE_TIMER_STATE] = USEC_INFINITY; /* a timer that fired is off */
                service_on_timer(s, SERVICE_TIMER_STATE);
        } else if (streq(ev, "watchdog")) {
                fake.timer[SERVICE_TIMER_WATCHDOG] = USEC_INFINITY;
                service_on_timer(s, SERVICE_TIMER_WATCHDOG);
        }
        else
                ck_abort_msg("unknown event '%s'", ev);
}

static void apply_all(Service *s, const char *events) {
        char buf[512], *save = NULL;

        snprintf(buf, sizeof buf, "%s", events);
        for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
                apply(s, t);
}

/* ---- the table ---- */

typedef struct Row {
        const char *name;
        Kind kind;
        bool socket;        /* socket-activated */
        const char *setup;  /* events that bring it to the state under test */
        ServiceState from;  /* checked after setup */
        const char *event;
        ServiceState to;
        const char *actions; /* exactly what the event did, in order */
} Row;

#define D SERVICE_DEAD
#define COND SERVICE_CONDITION
#define POST SERVICE_START_POST
#define RL SERVICE_RELOAD
#define SPOST SERVICE_STOP_POST
#define PRE_ SERVICE_START_PRE
#define ST SERVICE_START
#define RUN SERVICE_RUNNING
#define HO SERVICE_HANDOVER
#define DR SERVICE_DRAINING
#define AB SERVICE_HANDOVER_ABORT
#define SP SERVICE_STOP
#define TERM SERVICE_STOP_SIGTERM
#define KILL SERVICE_STOP_SIGKILL
#define AR SERVICE_AUTO_RESTART
#define BO SERVICE_BACKOFF
#define F SERVICE_FAILED

static const Row rows[] = {
        /* dead */
        { "boot starts a plain service", SIMPLE, false, "", D, "boot", RUN, "spawn main 100" },
        { "an on-demand service waits, watching", SIMPLE, true, "", D, "begin", D, "watch on" },
        { "a client starts it", SIMPLE, true, "begin", D, "trigger", RUN,
          "spawn main 100; watch off" },
        { "dead: stop is a no-op", SIMPLE, true, "begin", D, "stop", D, "" },
        { "dead: restart starts", SIMPLE, false, "", D, "restart", RUN,
          "spawn main 100; report ready" },
        { "dead: a spawn failure fails it", SIMPLE, false, "spawnfail", D, "start", F,
          "spawn main failed; killall KILL" },
        { "dead: a failed on-demand service watches again", SIMPLE, true, "begin spawnfail", D,
          "trigger", F, "spawn main failed; killall KILL" },
        { "dead: shutdown stops watching", SIMPLE, true, "begin", D, "shutdown", D,
          "watch off" },
        { "dead: reload refused", SIMPLE, false, "", D, "reload", D, "" },
        { "dead: a stray timer does nothing", SIMPLE, false, "", D, "timeout", D, "" },
        /* start-pre */
        { "ExecStartPre= runs first", PRE, false, "", D, "start", PRE_,
          "spawn pre 100; timer 5000ms" },
        { "start-pre: success spawns main", PRE, false, "start", PRE_, "exit-control-0", RUN,
          "spawn main 101; timer off" },
        { "start-pre: failure stops", PRE, false, "start", PRE_, "exit-control-1", F,
          "killall KILL; timer off" },
        { "start-pre: timeout", PRE, false, "start", PRE_, "timeout", TERM,
          "kill -100 TERM; killall TERM; timer 3000ms" },
        { "start-pre: stop", PRE, false, "start", PRE_, "stop", TERM,
          "kill -100 TERM; killall TERM; timer 3000ms" },
        { "start-pre: restart stops first", PRE, false, "start", PRE_, "restart", TERM,
          "kill -100 TERM; killall TERM; timer 3000ms" },
        /* start (notify, oneshot) */
        { "notify: start waits for READY=1", NOTIFY, false, "", D, "start", ST,
          "spawn main 100; timer 5000ms" },
        { "notify: READY=1 runs it", NOTIFY, false, "start", ST, "ready", RUN, "timer off" },
        { "notify: exit before READY=1 is a protocol failure", NOTIFY, false, "start", ST,
          "exit-main-0", F, "kill -100 KILL; killall KILL; timer off" },
        { "notify: start timeout", NOTIFY, false, "start", ST, "timeout", TERM,
          "kill -100 TERM; kill -100 CONT; killall TERM; timer 3000ms" },
        { "notify: EXTEND_TIMEOUT_USEC= extends", NOTIFY, false, "start", ST, "extend", ST,
          "timer 30000ms" },
        { "notify: stop while starting", NOTIFY, false, "start", ST, "stop", TERM,
          "kill -100 TERM; kill -100 CONT; killall TERM; timer 3000ms" },
        { "notify: operator start while starting is a no-op", NOTIFY, false, "start", ST,
          "start", ST, "" },
        { "oneshot: the next ExecStart=", ONESHOT, false, "start", ST, "exit-main-0", ST,
          "spawn b 101; timer 5000ms" },
        { "oneshot: all done; what it left is killed", ONESHOT, false, "start exit-main-0", ST,
          "exit-main-0", D, "timer off; kill -101 KILL; killall KILL" },
        { "oneshot: SIGTERM is no clean end for a command", ONESHOT, false, "start", ST,
          "term-main", F, "kill -100 KILL; killall KILL; timer off" },
        { "oneshot: a failure stops", ONESHOT, false, "start", ST, "exit-main-1", F,
          "kill -100 KILL; killall KILL; timer off" },
        /* running */
        { "running: exit 0 with Restart=no", SIMPLE, false, "start", RUN, "exit-main-0", D,
          "kill -100 KILL; killall KILL" },
        { "running: a crash fails it", SIMPLE, false, "start", RUN, "exit-main-1", F,
          "kill -100 KILL; killall KILL" },
        { "running: stop", SIMPLE, false, "start", RUN, "stop", TERM,
          "kill -100 TERM; kill -100 CONT; killall TERM; timer 3000ms" },
        { "running: ExecStop= first", STOPCMD, false, "start", RUN, "stop", SP,
          "spawn stop 101; timer 3000ms" },
        { "running: stop-first restart", SIMPLE, false, "start", RUN, "restart", TERM,
          "kill -100 TERM; kill -100 CONT; killall TERM; timer 3000ms" },
        { "running: operator start is a no-op", SIMPLE, false, "start", RUN, "start", RUN, "" },
        { "running: reload signals the main process", SIMPLE, false, "start", RUN, "reload",
          RUN, "kill 100 HUP; report reloaded" },
        { "running: ExecReload= as a control process", RELOADCMD, false, "start", RUN,
          "reload", RUN, "spawn reload 101; timer 90000ms" },
        { "running: ExecReload= past TimeoutStartSec= is killed, it runs on", RELOADCMD, false,
          "start reload", RUN, "timeout", RUN, "kill -101 KILL; report reload failed" },
        { "running: a crash with Restart=always waits RestartSec=", ALWAYS, false, "start", RUN,
          "exit-main-1", AR, "kill -100 KILL; killall KILL; timer 1000ms" },
        { "running: shutdown stops without restart", ALWAYS, false, "start", RUN, "shutdown",
          TERM, "kill -100 TERM; kill -100 CONT; killall TERM; timer 3000ms" },
        { "running: a trigger does nothing", SIMPLE, true, "begin trigger", RUN, "trigger", RUN,
          "" },
        /* watchdog */
        { "watchdog: READY=1 arms it", WATCHDOG, false, "start", ST, "ready", RUN,
          "timer off; watchdog 2000ms" },
        { "watchdog: WATCHDOG=1 re-arms it", WATCHDOG, false, "start ready", RUN, "ping", RUN,
          "watchdog 2000ms" },
        { "watchdog: a miss aborts it", WATCHDOG, false, "start ready", RUN, "watchdog", TERM,
          "kill 100 ABRT; kill -100 TERM; kill -100 CONT; killall TERM; timer 3000ms" },
        { "watchdog: the kill ends in failed", WATCHDOG, false, "start ready watchdog", TERM,
          "term-main", F, "kill -100 KILL; killall KILL; timer off" },
        /* stop */
        { "stop: ExecStop= done, then KillSignal=", STOPCMD, false, "start stop", SP,
          "exit-control-0", TERM, "kill -100 TERM; kill -100 CONT; killall TERM; timer 3000ms" },
        { "stop: ExecStop= timeout", STOPCMD, false, "start stop", SP, "timeout", TERM,
          "kill -101 TERM; kill -100 TERM; kill -100 CONT; killall TERM; timer 3000ms" },
        { "stop: main exits during ExecStop=", STOPCMD, false, "start stop", SP, "exit-main-0",
          SP, "" },
        { "stop-sigterm: exit ends it", SIMPLE, false, "start stop", TERM, "term-main", D,
          "kill -100 KILL; killall KILL; timer off" },
        { "stop-sigterm: timeout escalates", SIMPLE, false, "start stop", TERM, "timeout", KILL,
          "kill -100 KILL; killall KILL; timer 3000ms" },
        { "stop-sigkill: exit ends it", SIMPLE, false, "start stop timeout", KILL, "kill-main",
          D, "kill -100 KILL; killall KILL; timer off" },
        { "stop-sigkill: timeout abandons it", SIMPLE, false, "start stop timeout", KILL,
          "timeout", D, "" },
        { "stop-sigterm: start is refused", SIMPLE, false, "start stop", TERM, "start", TERM,
          "" },
        { "stop-sigterm: restart starts once stopped", SIMPLE, false, "start stop restart", TERM,
          "term-main", RUN, "kill -100 KILL; killall KILL; "
          "spawn main 101; timer off; report ready" },
        { "stop: a stopped on-demand service watches", SIMPLE, true, "begin trigger stop", TERM,
          "term-main", D, "kill -100 KILL; killall KILL; timer off; watch on" },
        /* auto-restart, start limit, back-off */
        { "auto-restart: RestartSec= ends in a start", ALWAYS, false, "start exit-main-1", AR,
          "timeout", RUN, "spawn main 101" },
        { "auto-restart: stop cancels it", ALWAYS, false, "start exit-main-1", AR, "stop", D,
          "timer off" },
        { "auto-restart: start now", ALWAYS, false, "start exit-main-1", AR, "start", RUN,
          "timer off; spawn main 101" },
        { "start limit: the third start backs off", ALWAYS, false,
          "start exit-main-1 timeout exit-main-1", AR, "timeout", BO, "timer 1000ms" },
        { "backoff: its end starts again", ALWAYS, false,
          "start exit-main-1 timeout exit-main-1 timeout", BO, "timeout", RUN,
          "spawn main 102" },
        { "backoff: stop cancels it", ALWAYS, false,
          "start exit-main-1 timeout exit-main-1 timeout", BO, "stop", D, "timer off" },
        { "backoff: the operator is not held back", ALWAYS, false,
          "start exit-main-1 timeout exit-main-1 timeout", BO, "start", RUN,
          "timer off; spawn main 102" },
        { "backoff: doubles while it crashes", ALWAYS, false,
          "start exit-main-1 timeout exit-main-1 timeout timeout exit-main-1 timeout "
          "exit-main-1", AR, "timeout", BO, "timer 2000ms" },
        { "start limit: a client is held back", SOCKET, true,
          "begin trigger exit-main-1 trigger exit-main-1", F, "trigger", BO,
          "watch off; timer 1000ms" },
        { "start limit: a long run resets the back-off", ALWAYS, false,
          "start exit-main-1 timeout exit-main-1 timeout timeout later", RUN, "exit-main-1", AR,
          "kill -102 KILL; killall KILL; timer 1000ms" },
        /* overlap handover */
        { "overlap: restart starts a successor", OVERLAP, false, "start ready", RUN, "restart",
          HO, "spawn main 101; timer 2000ms" },
        { "overlap: READY=1 drains the old one", OVERLAP, false, "start ready restart", HO,
          "ready", DR, "kill -100 TERM; kill 100 CONT; timer 4000ms; report ready" },
        { "overlap: the old one drained", OVERLAP, false, "start ready restart ready", DR,
          "exit-old", RUN, "kill -100 KILL; timer off" },
        { "overlap: the old one is killed after TimeoutStopSec=", OVERLAP, false,
          "start ready restart ready", DR, "timeout", DR, "kill -100 KILL" },
        { "overlap: READY=1 from the old one is ignored", OVERLAP, false, "start ready restart",
          HO, "ready-old", HO, "" },
        { "overlap: a successor that exits leaves the old one", OVERLAP, false,
          "start ready restart", HO, "exit-main-1", RUN,
          "kill -101 KILL; timer off; report failed" },
        { "overlap: a never-ready successor is stopped gracefully", OVERLAP, false,
          "start ready restart", HO, "timeout", AB,
          "kill -101 TERM; kill 101 CONT; timer 4000ms; report failed" },
        { "handover-abort: the failed successor is gone", OVERLAP, false,
          "start ready restart timeout", AB, "exit-failed", RUN, "kill -101 KILL; timer off" },
        { "handover-abort: SIGKILL after TimeoutStopSec=", OVERLAP, false,
          "start ready restart timeout", AB, "timeout", AB, "kill -101 KILL" },
        { "handover-abort: READY=1 from it changes nothing", OVERLAP, false,
          "start ready restart timeout", AB, "ready-failed", AB, "" },
        { "handover-abort: a restart waits for it", OVERLAP, false,
          "start ready restart timeout", AB, "restart", AB, "" },
        { "handover-abort: then the queued handover begins", OVERLAP, false,
          "start ready restart timeout restart", AB, "exit-failed", HO,
          "kill -101 KILL; timer off; spawn main 102; timer 2000ms" },
        { "handover-abort: the serving process dies", OVERLAP, false,
          "start ready restart timeout", AB, "exit-main-1", TERM,
          "kill -101 TERM; kill 101 CONT; kill -100 TERM; "
          "kill -100 CONT; killall TERM; timer 4000ms" },
        { "overlap: a restart while draining is queued", OVERLAP, false,
          "start ready restart ready", DR, "restart", DR, "" },
        { "overlap: the queued handover follows the drain", OVERLAP, false,
          "start ready restart ready restart", DR, "exit-old", HO,
          "kill -100 KILL; timer off; spawn main 102; timer 2000ms" },
        { "overlap: the old one exits first; an ordinary start", OVERLAP, false,
          "start ready restart", HO, "exit-old", ST, "kill -100 KILL" },
        { "overlap: stop during the handover stops both", OVERLAP, false, "start ready restart",
          HO, "stop", TERM,
          "kill -100 TERM; kill 100 CONT; kill -101 TERM; "
          "kill -101 CONT; killall TERM; timer 4000ms" },
        { "overlap: stop while draining stops both", OVERLAP, false,
          "start ready restart ready", DR, "stop", TERM,
          "kill -100 TERM; kill 100 CONT; kill -101 TERM; "
          "kill -101 CONT; killall TERM; timer 4000ms" },
        { "overlap: the stop ends once both are gone", OVERLAP, false,
          "start ready restart ready stop exit-old", TERM, "term-main", D,
          "kill -101 KILL; killall KILL; timer off" },
        { "overlap: a spawn failure keeps the old one", OVERLAP, false, "start ready spawnfail",
          RUN, "restart", RUN, "spawn main failed; report failed" },
        { "overlap, simple: ready once exec'ed", OVERLAP_S, false, "start", RUN, "restart", DR,
          "spawn main 101; kill -100 TERM; kill 100 CONT; timer 4000ms; report ready" },
        { "overlap: the successor crashes while the old one drains", OVERLAP, false,
          "start ready restart ready", DR, "exit-main-1", TERM,
          "kill -100 TERM; kill 100 CONT; kill -101 TERM; "
          "kill -101 CONT; killall TERM; timer 4000ms" },
        { "overlap: reload while draining reaches the new process", OVERLAP, false,
          "start ready restart ready", DR, "reload", DR, "kill 101 HUP; report reloaded" },
        /* ExecCondition=, ExecStartPost=, ExecStopPost= */
        { "condition: ExecCondition= runs first", HOOKS, false, "", D, "start", COND,
          "spawn cond 100; timer 5000ms" },
        { "condition: success goes on to ExecStartPre=", HOOKS, false, "start", COND,
          "exit-control-0", PRE_, "spawn pre 101; timer 5000ms" },
        { "condition: exit 1..254 skips, ExecStopPost= runs, not failed", HOOKS, false, "start",
          COND, "exit-control-1", SPOST, "killall KILL; spawn stoppost 101; timer 3000ms" },
        { "condition: the skip ends dead, its sockets unwatched", HOOKS, true,
          "begin trigger exit-control-1", SPOST, "exit-control-0", D,
          "killall KILL; timer off" },
        { "condition: exit 255 is a failure", HOOKS, false, "start", COND, "exit-control-255",
          SPOST, "killall KILL; spawn stoppost 101; timer 3000ms" },
        { "condition: the failure ends failed", HOOKS, false, "start exit-control-255", SPOST,
          "exit-control-0", F, "killall KILL; timer off" },
        { "condition: stop kills it", HOOKS, false, "start", COND, "stop", TERM,
          "kill -100 TERM; killall TERM; timer 3000ms" },
        { "condition: timeout", HOOKS, false, "start", COND, "timeout", TERM,
          "kill -100 TERM; killall TERM; timer 3000ms" },
        { "start-post: after the main process started", HOOKS, false,
          "start exit-control-0", PRE_, "exit-control-0", POST,
          "spawn main 102; timer off; spawn post 103; timer 5000ms" },
        { "start-post: its success is the start", HOOKS, false,
          "restart exit-control-0 exit-control-0", POST, "exit-control-0", RUN,
          "timer off; report ready" },
        { "start-post: its failure stops the main process", HOOKS, false,
          "start exit-control-0 exit-control-0", POST, "exit-control-1", TERM,
          "kill -102 TERM; kill -102 CONT; killall TERM; timer 3000ms" },
        { "start-post: the main process dies", HOOKS, false,
          "start exit-control-0 exit-control-0", POST, "exit-main-1", TERM,
          "kill -103 TERM; kill -102 TERM; kill -102 CONT; killall TERM; timer 3000ms" },
        { "start-post: a start is on its way", HOOKS, false,
          "start exit-control-0 exit-control-0", POST, "start", POST, "" },
        { "stop-post: after the stop", HOOKS, false,
          "start exit-control-0 exit-control-0 exit-control-0 stop", TERM, "term-main", SPOST,
          "kill -102 KILL; killall KILL; spawn stoppost 104; timer 3000ms" },
        { "stop-post: then dead", HOOKS, false,
          "start exit-control-0 exit-control-0 exit-control-0 stop term-main", SPOST,
          "exit-control-0", D, "kill -102 KILL; killall KILL; timer off" },
        { "stop-post: after a crash too, then failed", HOOKS, false,
          "start exit-control-0 exit-control-0 exit-control-0 exit-main-1", SPOST,
          "exit-control-0", F, "kill -102 KILL; killall KILL; timer off" },
        { "stop-post: a timeout kills it", HOOKS, false,
          "start exit-control-0 exit-control-0 exit-control-0 stop term-main", SPOST,
          "timeout", KILL, "kill -104 KILL; kill -102 KILL; killall KILL; timer 3000ms" },
        { "stop-post: start waits", HOOKS, false,
          "start exit-control-0 exit-control-0 exit-control-0 stop term-main", SPOST,
          "start", SPOST, "" },
        /* Type=notify-reload */
        { "notify-reload: READY=1 runs it", NRELOAD, false, "start", ST, "ready", RUN,
          "timer off" },
        { "notify-reload: reload sends ReloadSignal= and waits", NRELOAD, false, "start ready",
          RUN, "reload", RL, "kill 100 USR2; timer 5000ms" },
        { "notify-reload: RELOADING=1 then", NRELOAD, false, "start ready reload", RL,
          "reloading", RL, "" },
        { "notify-reload: READY=1 ends the reload", NRELOAD, false,
          "start ready reload reloading", RL, "ready", RUN, "timer off; report reloaded" },
        { "notify-reload: READY=1 alone is not the answer", NRELOAD, false,
          "start ready reload", RL, "ready", RL, "" },
        { "notify-reload: a RELOADING=1 from before the reload is not", NRELOAD, false,
          "start ready reload reloading-stale", RL, "ready", RL, "" },
        { "notify-reload: both at once", NRELOAD, false, "start ready reload", RL,
          "reloading-ready", RUN, "timer off; report reloaded" },
        { "notify-reload: timeout fails the reload, it serves on", NRELOAD, false,
          "start ready reload", RL, "timeout", RUN, "report reload failed" },
        { "notify-reload: a second reload is refused", NRELOAD, false, "start ready reload", RL,
          "reload", RL, "" },
        { "notify-reload: the main process dies", NRELOAD, false, "start ready reload", RL,
          "exit-main-1", F, "kill -100 KILL; killall KILL; timer off; report reload failed" },
        { "notify-reload: stop", NRELOAD, false, "start ready reload", RL, "stop", TERM,
          "kill -100 TERM; kill -100 CONT; killall TERM; report reload failed; timer 3000ms" },
        { "notify-reload: restart", NRELOAD, false, "start ready reload", RL, "restart", TERM,
          "kill -100 TERM; kill -100 CONT; killall TERM; report reload failed; timer 3000ms" },
        { "notify-reload: its own RELOADING=1 while running", NRELOAD, false, "start ready", RUN,
          "reloading", RL, "timer 5000ms" },
        { "notify-reload: ExecReload= first, then the signal", NRELOADCMD, false,
          "start ready reload", RUN, "exit-control-0", RL,
          "timer off; kill 100 HUP; timer 5000ms" },
        { "notify-reload: a failed ExecReload= fails the reload", NRELOADCMD, false,
          "start ready reload", RUN, "exit-control-1", RUN, "timer off; report reload failed" },
        { "ExecReload=: its end ends the reload", RELOADCMD, false, "start reload", RUN,
          "exit-control-0", RUN, "timer off; report reloaded" },
        /* exit statuses */
        { "SuccessExitStatus=: a listed status is clean", EXITS, false, "start", RUN,
          "exit-main-143", D, "kill -100 KILL; killall KILL" },
        { "SuccessExitStatus=: a listed signal is clean", EXITS, false, "start", RUN,
          "usr1-main", D, "kill -100 KILL; killall KILL" },
        { "SIGTERM is clean for a daemon", EXITS, false, "start", RUN, "term-main", D,
          "kill -100 KILL; killall KILL" },
        { "Restart=on-failure restarts another status", EXITS, false, "start", RUN,
          "exit-main-1", AR, "kill -100 KILL; killall KILL; timer 1000ms" },
        { "RestartPreventExitStatus=: no restart, failed", EXITS, false, "start", RUN,
          "exit-main-3", F, "kill -100 KILL; killall KILL" },
        { "RestartPreventExitStatus=: a listed signal, core dumped", EXITS, false, "start", RUN,
          "abrt-main", F, "kill -100 KILL; killall KILL" },
        { "RestartForceExitStatus=: restarts with Restart=no", FORCE, false, "start", RUN,
          "exit-main-0", AR, "kill -100 KILL; killall KILL; timer 1000ms" },
        { "RestartForceExitStatus=: a listed signal", FORCE, false, "start", RUN, "usr2-main",
          AR, "kill -100 KILL; killall KILL; timer 1000ms" },
        { "RestartForceExitStatus=: an operator stop still stops", FORCE, false, "start stop",
          TERM, "term-main", D, "kill -100 KILL; killall KILL; timer off" },
        { "ExecStart=-: a failure is ignored", DASH, false, "start", RUN, "exit-main-1", D,
          "kill -100 KILL; killall KILL" },
        { "RestartForceExitStatus=: not listed, Restart=no", FORCE, false, "start", RUN,
          "exit-main-1", F, "kill -100 KILL; killall KILL" },
};

/* A fresh service of kind k with the fake ops (their log cleared), and its unit in *ret_u. */
static Service *new_service(Kind k, const ServiceContext *ctx, Unit **ret_u) {
        Service *s = NULL;

        fake_reset();
        *ret_u = load_unit(k);
        ck_assert_int_eq(service_new(&s, ctx, *ret_u), 0);
        return s;
}

START_TEST(test_transition) {
        const Row *row = &rows[_i];
        const ServiceContext ctx = { .ops = &fake_ops };
        _cleanup_(service_freep) Service *s = NULL;
        Unit *u;

        s = new_service(row->kind, &ctx, &u);
        s->socket_activated = row->socket;
        apply_all(s, row->setup);
        ck_assert_msg(s->state == row->from, "%s: setup '%s' ends in %s, not %s", row->name,
                      row->setup, service_state_to_string(s->state),
                      service_state_to_string(row->from));

        fake.len = 0;
        fake.log[0] = 0;
        apply(s, row->event);
        ck_assert_msg(s->state == row->to, "%s: %s + %s -> %s, not %s", row->name,
                      service_state_to_string(row->from), row->event,
                      service_state_to_string(s->state), service_state_to_string(row->to));
        ck_assert_msg(streq(fake.log, row->actions), "%s: %s + %s did\n  '%s'\nnot\n  '%s'",
                      row->name, service_state_to_string(row->from), row->event, fake.log,
                      row->actions);

        /* Nothing was spawned for real. */
        errno = 0;
        ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
        ck_assert_int_eq(errno, ECHILD);
        s = service_free(s);
        unit_free(u);
}
END_TEST

/* Every state is reached by some row, and every row's start state is what its setup says. */
START_TEST(test_every_state_covered) {
        bool seen[_SERVICE_STATE_MAX] = {};

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                seen[rows[i].from] = true;
                seen[rows[i].to] = true;
        }
        for (ServiceState st = 0; st < _SERVICE_STATE_MAX; st++)
                ck_assert_msg(seen[st], "no row covers %s", service_state_to_string(st));
        ck_assert_uint_ge(ELEMENTSOF(rows), 60);
}
END_TEST

/* A restart's caller always hears once, and a notify message from the process being replaced
 * never moves the machine: both hold across a whole overlap cycle. */
START_TEST(test_restart_reports_once) {
        const ServiceContext ctx = { .ops = &fake_ops };
        _cleanup_(service_freep) Service *s = NULL;
        Unit *u;

        s = new_service(OVERLAP, &ctx, &u);
        apply_all(s, "start ready restart ready-old timeout exit-failed restart ready exit-old");
        ck_assert_int_eq(s->state, SERVICE_RUNNING);
        ck_assert_str_eq(fake.log + strlen(fake.log) - strlen("kill -100 KILL; timer off"),
                         "kill -100 KILL; timer off");
        /* one "report failed" (the never-ready successor), then one "report ready" */
        ck_assert_ptr_nonnull(strstr(fake.log, "report failed"));
        ck_assert_ptr_null(strstr(strstr(fake.log, "report failed") + 1, "report failed"));
        ck_assert_ptr_nonnull(strstr(fake.log, "report ready"));
        ck_assert_ptr_null(strstr(strstr(fake.log, "report ready") + 1, "report ready"));
        s = service_free(s);
        unit_free(u);
}
END_TEST

static void on_done_ignore(Service *s, int error, const char *message, void *userdata) {
}

/* A service that never ran carries none of the parts made on first use: its timers, the callers
 * waiting on it, an Accept=yes instance's part, its log, its start-limit ring (what 10,000 idle
 * services cost, issue 13). Each comes with its first use. */
START_TEST(test_parts_made_on_use) {
        const ServiceContext ctx = { .ops = &fake_ops };
        _cleanup_(service_freep) Service *s = NULL;
        Unit *u;

        s = new_service(SOCKET, &ctx, &u);
        s->socket_activated = true;
        apply_all(s, "begin stop");
        ck_assert_int_eq(s->state, SERVICE_DEAD);
        ck_assert_ptr_null(s->run->timers);
        ck_assert_ptr_null(s->run->waiters);
        ck_assert_ptr_null(s->instance);
        ck_assert(!service_has_run(s)); /* no run: its processes, output, start limit */
        ck_assert_ptr_eq(s->run, &service_run_idle);
        ck_assert_ptr_null(s->run->log);
        ck_assert_ptr_null(s->run->start_times);
        ck_assert_int_eq(service_connection_fd(s), -1);
        ck_assert_ptr_null(service_own_unit(s));
        ck_assert_ptr_null(service_accept(s));
        /* Disarming what was never armed makes nothing. */
        ck_assert_uint_eq(service_timer_due(s, SERVICE_TIMER_STATE), USEC_INFINITY);
        ck_assert_ptr_null(s->run->timers);

        ck_assert_int_eq(service_set_restart_done(s, NULL, NULL), 0);
        ck_assert_ptr_null(s->run->waiters);
        ck_assert_int_eq(service_set_restart_done(s, on_done_ignore, NULL), 0);
        ck_assert_ptr_nonnull(s->run->waiters);
        ck_assert_int_eq(service_set_restart_done(s, on_done_ignore, NULL), -EBUSY);
        ck_assert_int_eq(service_set_restart_done(s, NULL, NULL), 0);

        apply_all(s, "trigger");
        ck_assert(service_has_run(s));
        ck_assert_ptr_nonnull(s->run->start_times);
        ck_assert_uint_eq(s->run->n_start_times, 1);
        apply_all(s, "stop");
        ck_assert_int_eq(s->state, SERVICE_STOP_SIGTERM);
        ck_assert_ptr_nonnull(s->run->timers); /* TimeoutStopSec= is armed */
        ck_assert_uint_ne(service_timer_due(s, SERVICE_TIMER_STATE), USEC_INFINITY);
        s = service_free(s);
        unit_free(u);
}
END_TEST

/* The kept output: nothing allocated before the first line; then the last SERVICE_LOG_LINES
 * lines, oldest first, with their sequence numbers, as the ring grows and wraps. */
typedef struct Seen {
        uint64_t seq[SERVICE_LOG_LINES + 1];
        size_t n;
} Seen;

static void on_log_line(const ServiceLogLine *l, void *userdata) {
        Seen *seen = userdata;
        char want[32];

        ck_assert_uint_lt(seen->n, ELEMENTSOF(seen->seq));
        snprintf(want, sizeof want, "line %llu", (unsigned long long) l->seq);
        ck_assert_str_eq(l->line, want);
        ck_assert_int_eq(l->pid, 7);
        seen->seq[seen->n++] = l->seq;
}

static void check_lines(Service *s, uint64_t after, unsigned max, uint64_t first, size_t n) {
        Seen seen = {};

        ck_assert_uint_eq(service_log_foreach(s, after, max, on_log_line, &seen), s->run->log_seq);
        ck_assert_uint_eq(seen.n, n);
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(seen.seq[i], first + i);
}

START_TEST(test_log_ring) {
        const ServiceContext ctx = { .ops = &fake_ops };
        _cleanup_(service_freep) Service *s = NULL;
        int level = log_get_max_level();
        char line[32];
        Unit *u;

        log_set_max_level(LOG_WARNING);
        s = new_service(SIMPLE, &ctx, &u);
        ck_assert_ptr_null(s->run->log);
        check_lines(s, 0, 0, 1, 0);
        ck_assert_int_eq(service_run_make(s), 0); /* lines come from its processes */
        for (unsigned i = 1; i <= 2 * SERVICE_LOG_LINES + 50; i++) {
                int k = snprintf(line, sizeof line, "line %u", i);

                service_log_line(s, 7, line, (size_t) k);
                if (i == 3) {
                        check_lines(s, 0, 0, 1, 3);
                        check_lines(s, 1, 0, 2, 2);
                        check_lines(s, 0, 1, 3, 1);
                }
                if (i == SERVICE_LOG_LINES)
                        check_lines(s, 0, 0, 1, SERVICE_LOG_LINES);
        }
        check_lines(s, 0, 0, SERVICE_LOG_LINES + 51, SERVICE_LOG_LINES);
        check_lines(s, 0, 5, 2 * SERVICE_LOG_LINES + 46, 5);
        check_lines(s, 2 * SERVICE_LOG_LINES + 40, 0, 2 * SERVICE_LOG_LINES + 41, 10);
        check_lines(s, 2 * SERVICE_LOG_LINES + 50, 0, 1, 0);
        log_set_max_level(level);
        s = service_free(s);
        unit_free(u);
}
END_TEST

static Suite *suite(void) {
        Suite *s = suite_create("service");
        TCase *tc = tcase_create("table");

        tcase_add_loop_test(tc, test_transition, 0, ELEMENTSOF(rows));
        tcase_add_test(tc, test_every_state_covered);
        tcase_add_test(tc, test_restart_reports_once);
        tcase_add_test(tc, test_parts_made_on_use);
        tcase_add_test(tc, test_log_ring);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return test_run_suite(suite());
}
