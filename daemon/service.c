/* service: the supervision state machine (see service.h). Every transition goes through
 * service_set_state(), which logs it and decides, per state, whether the sockets are watched
 * and whether the manager may exit. Events are: start (operator, boot, a client on a socket,
 * a restart timer), stop (operator, berthd's SIGTERM), a child exiting, and a timer. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include "common/env-util.h"
#include "common/log.h"
#include "common/parse-util.h"
#include "daemon/manager.h"
#include "daemon/notify-parse.h"
#include "daemon/service.h"
#include "daemon/spawn.h"

#define ENV_FILE_MAX (1U << 20)
#define SERVICE_BACKOFF_BASE_USEC (1 * USEC_PER_SEC)

static const char *const state_names[_SERVICE_STATE_MAX] = {
        [SERVICE_DEAD] = "dead",
        [SERVICE_START_PRE] = "start-pre",
        [SERVICE_START] = "start",
        [SERVICE_RUNNING] = "running",
        [SERVICE_STOP] = "stop",
        [SERVICE_STOP_SIGTERM] = "stop-sigterm",
        [SERVICE_STOP_SIGKILL] = "stop-sigkill",
        [SERVICE_AUTO_RESTART] = "auto-restart",
        [SERVICE_BACKOFF] = "backoff",
        [SERVICE_FAILED] = "failed",
};

const char *service_state_to_string(ServiceState st) {
        return st >= 0 && st < _SERVICE_STATE_MAX ? state_names[st] : NULL;
}

static const char *const result_names[_SERVICE_RESULT_MAX] = {
        [SERVICE_SUCCESS] = "success",
        [SERVICE_FAILURE_EXIT_CODE] = "exit-code",
        [SERVICE_FAILURE_SIGNAL] = "signal",
        [SERVICE_FAILURE_CORE_DUMP] = "core-dump",
        [SERVICE_FAILURE_TIMEOUT] = "timeout",
        [SERVICE_FAILURE_RESOURCES] = "resources",
        [SERVICE_FAILURE_PROTOCOL] = "protocol",
        [SERVICE_FAILURE_WATCHDOG] = "watchdog",
};

const char *service_result_to_string(ServiceResult r) {
        return r >= 0 && r < _SERVICE_RESULT_MAX ? result_names[r] : NULL;
}

static usec_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static const char *sname(const Service *s) {
        return s->unit->name;
}

static void service_enter_dead(Service *s, ServiceResult r);
static int service_spawn_main(Service *s);
static void service_run_next_control(Service *s);
static void service_enter_signal(Service *s, ServiceState st, ServiceResult r);
static int service_spawn_reload(Service *s);
static int service_apply_next_unit(Service *s);
static int service_on_socket(sd_event_source *es, int fd, uint32_t revents, void *userdata);
static void service_enter_running(Service *s);
static void service_handover_failed(Service *s, const char *why);
static void service_report_restart(Service *s, int error, const char *message);

/* ---- the transition ---- */

static int service_watch(Service *s, bool on) {
        for (size_t i = 0; i < s->n_fds; i++)
                if (s->watch_sources[i]) {
                        int r = sd_event_source_set_enabled(s->watch_sources[i],
                                                            on ? SD_EVENT_ON : SD_EVENT_OFF);
                        if (r < 0)
                                return log_error_errno(r, "%s: cannot %s its sockets: %m",
                                                       sname(s), on ? "watch" : "unwatch");
                }
        return 0;
}

static void service_set_state(Service *s, ServiceState st) {
        ServiceState old = s->state;
        bool watch = false;

        s->state = st;
        switch (st) {
        case SERVICE_DEAD:
        case SERVICE_FAILED:
                /* Waiting for a client: that is the whole point of holding the socket. */
                watch = s->socket_activated && !s->manager->exiting && !s->removed;
                break;
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_RUNNING:
        case SERVICE_STOP:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
                /* Running, or about to: connections wait in the kernel's backlog. */
                watch = false;
                break;
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                assert_not_reached();
        }
        (void) service_watch(s, watch);

        if (old != st) {
                pid_t pid = s->main_pid ?: s->control_pid;
                if (pid > 0)
                        log_info("%s: %s -> %s (pid %d)", sname(s), state_names[old],
                                 state_names[st], (int) pid);
                else if (st == SERVICE_FAILED || (st == SERVICE_DEAD && s->result != SERVICE_SUCCESS))
                        log_info("%s: %s -> %s (result: %s)", sname(s), state_names[old],
                                 state_names[st], result_names[s->result]);
                else
                        log_info("%s: %s -> %s", sname(s), state_names[old], state_names[st]);
        }
        manager_on_service_state(s->manager, s);
}

bool service_is_active(const Service *s) {
        return s->main_pid > 0 || s->control_pid > 0 || s->old_main_pid > 0;
}

/* ---- timers ---- */

static int service_on_timer(sd_event_source *es, uint64_t usec, void *userdata);

static int service_arm_timer(Service *s, usec_t usec) {
        int r;

        if (usec == USEC_INFINITY) {
                if (s->timer_source)
                        (void) sd_event_source_set_enabled(s->timer_source, SD_EVENT_OFF);
                return 0;
        }
        if (!s->timer_source) {
                r = sd_event_add_time_relative(s->manager->event, &s->timer_source,
                                               CLOCK_MONOTONIC, usec, 10 * USEC_PER_MSEC,
                                               service_on_timer, s);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot arm a timer: %m", sname(s));
                return 0;
        }
        r = sd_event_source_set_time_relative(s->timer_source, usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(s->timer_source, SD_EVENT_ONESHOT);
        if (r < 0)
                return log_error_errno(r, "%s: cannot arm a timer: %m", sname(s));
        return 0;
}

static void service_disarm_timer(Service *s) {
        (void) service_arm_timer(s, USEC_INFINITY);
}

/* ---- output ---- */

static void service_log_line(Service *s, pid_t pid, const char *line, size_t len) {
        char *copy = strndup(line, len);
        ServiceLogLine *slot;

        log_info("%s[%d]: %.*s", sname(s), (int) pid, (int) len, line);
        if (!copy)
                return;
        if (s->n_log_lines < SERVICE_LOG_LINES)
                slot = &s->log_lines[(s->log_head + s->n_log_lines++) % SERVICE_LOG_LINES];
        else {
                slot = &s->log_lines[s->log_head];
                free(slot->line);
                s->log_head = (s->log_head + 1) % SERVICE_LOG_LINES;
        }
        *slot = (ServiceLogLine) { .seq = ++s->log_seq, .pid = pid, .line = copy };
}

uint64_t service_log_foreach(const Service *s, uint64_t after, unsigned max,
                             void (*fn)(const ServiceLogLine *l, void *userdata), void *userdata) {
        size_t first = 0;
        unsigned n = 0;

        /* With max, the newest max lines after `after`. */
        if (max > 0) {
                size_t newer = 0;
                for (size_t i = 0; i < s->n_log_lines; i++)
                        if (s->log_lines[(s->log_head + i) % SERVICE_LOG_LINES].seq > after)
                                newer++;
                if (newer > max)
                        after = s->log_lines[(s->log_head + s->n_log_lines - max - 1) %
                                             SERVICE_LOG_LINES].seq;
        }
        for (size_t i = first; i < s->n_log_lines; i++) {
                const ServiceLogLine *l = &s->log_lines[(s->log_head + i) % SERVICE_LOG_LINES];
                if (l->seq <= after)
                        continue;
                fn(l, userdata);
                n++;
        }
        return s->log_seq;
}

/* Logs the complete lines in the stream's buffer; with all, the rest too. A line longer than
 * the buffer is logged in pieces, never dropped. */
static void output_flush(OutputStream *o, bool all) {
        size_t start = 0;

        for (size_t i = 0; i < o->len; i++)
                if (o->buf[i] == '\n') {
                        service_log_line(o->service, o->pid, o->buf + start, i - start);
                        start = i + 1;
                }
        if ((all || start == 0) && o->len > start &&
            (all || o->len - start == sizeof o->buf)) {
                service_log_line(o->service, o->pid, o->buf + start, o->len - start);
                start = o->len;
        }
        memmove(o->buf, o->buf + start, o->len - start);
        o->len -= start;
}

static void output_free(OutputStream *o) {
        Service *s = o->service;

        output_flush(o, true);
        for (OutputStream **p = &s->streams; *p; p = &(*p)->next)
                if (*p == o) {
                        *p = o->next;
                        break;
                }
        s->n_streams--;
        sd_event_source_disable_unref(o->source);
        safe_close(o->fd);
        free(o);
}

static int service_on_output(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        OutputStream *o = userdata;

        /* Bounded: at most 16 reads per wakeup, so one chatty process cannot starve others. */
        for (int i = 0; i < 16; i++) {
                ssize_t n = read(fd, o->buf + o->len, sizeof o->buf - o->len);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0)
                        log_warning_errno(errno, "%s: cannot read the output of pid %d: %m, "
                                          "ignoring",
                                          sname(o->service), (int) o->pid);
                if (n <= 0) {
                        /* Every writer is gone (or the pipe broke): the stream ends. */
                        output_free(o);
                        return 0;
                }
                o->len += n;
                output_flush(o, false);
        }
        return 0;
}

/* A pipe for the stdout and stderr of the process about to be spawned. Returns the write end
 * (the caller passes it to the child and closes it) and the stream, or a negative errno. */
#define SERVICE_STREAMS_MAX 256

static int service_new_output(Service *s, OutputStream **ret_stream) {
        _cleanup_free_ OutputStream *o = NULL;
        int p[2], r;

        if (s->n_streams >= SERVICE_STREAMS_MAX)
                return log_error_errno(EMFILE, "%s: %u output pipes are still held open by its "
                                       "processes; not starting another",
                                       sname(s), s->n_streams);
        o = calloc(1, sizeof *o);
        if (!o)
                return log_oom();
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                return log_error_errno(errno, "%s: cannot create an output pipe: %m", sname(s));
        /* The child's end must block: many programs do not expect EAGAIN on stdout. */
        if (fcntl(p[1], F_SETFL, 0) < 0) {
                r = -errno;
                safe_close(p[0]);
                safe_close(p[1]);
                return log_error_errno(r, "%s: cannot set up an output pipe: %m", sname(s));
        }
        r = sd_event_add_io(s->manager->event, &o->source, p[0], EPOLLIN, service_on_output, o);
        if (r < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return log_error_errno(r, "%s: cannot watch an output pipe: %m", sname(s));
        }
        /* Output is read before child exits are handled, so the last lines come first. */
        (void) sd_event_source_set_priority(o->source, SD_EVENT_PRIORITY_IMPORTANT);
        o->service = s;
        o->fd = p[0];
        o->next = s->streams;
        s->streams = o;
        s->n_streams++;
        *ret_stream = TAKE_PTR(o);
        return p[1];
}

/* ---- spawning ---- */

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

/* The environment a process of this service gets: PATH, LANG and TZ from berthd, then
 * Environment=, then EnvironmentFile= (which wins, as in systemd), then extra. */
static int service_build_env(Service *s, char *const *extra, char ***ret) {
        static const char *const passed[] = { "PATH", "LANG", "TZ" };
        const ServiceConfig *c = &s->unit->service;
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
        if (c->environment) {
                char **merged = NULL;
                r = env_merge(env, c->environment, &merged);
                if (r < 0)
                        return r;
                strv_free(env);
                env = merged;
        }
        for (size_t i = 0; i < c->n_environment_files; i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_strv_free_ char **fenv = NULL;
                char **merged = NULL, err[512];

                r = read_file(c->environment_files[i].path, &text);
                if (r < 0) {
                        if (c->environment_files[i].optional && r == -ENOENT)
                                continue;
                        return log_error_errno(r, "%s: cannot read EnvironmentFile='%s': %m",
                                               sname(s), c->environment_files[i].path);
                }
                r = env_file_parse(text, c->environment_files[i].path, &fenv, err, sizeof err);
                if (r < 0) {
                        log_error("%s: %s", sname(s), err);
                        return r;
                }
                r = env_merge(env, fenv, &merged);
                if (r < 0)
                        return r;
                strv_free(env);
                env = merged;
        }
        if (extra) {
                char **merged = NULL;
                r = env_merge(env, extra, &merged);
                if (r < 0)
                        return r;
                strv_free(env);
                env = merged;
        }
        *ret = TAKE_PTR(env);
        return 0;
}

/* Spawns one command of this service. with_fds: the main process gets the sockets. */
static int service_spawn(Service *s, const ExecCommand *cmd, bool with_fds, char *const *extra_env,
                         pid_t *ret_pid) {
        const ServiceConfig *c = &s->unit->service;
        _cleanup_strv_free_ char **env = NULL, **argv = NULL;
        _cleanup_free_ int *fds = NULL;
        _cleanup_free_ char **names = NULL;
        char err[SPAWN_ERROR_MAX], notify[sizeof(struct sockaddr_un) + 32], wd[64];
        char *more[4] = {};
        size_t n_more = 0, n_fds = 0;
        int out = -1, r;

        /* Every process may notify (NotifyAccess= decides what counts); the main process
         * learns its watchdog interval. */
        if (s->manager->notify) {
                snprintf(notify, sizeof notify, "NOTIFY_SOCKET=%s", s->manager->notify->path);
                more[n_more++] = notify;
        }
        if (with_fds && s->watchdog_usec > 0) {
                snprintf(wd, sizeof wd, "WATCHDOG_USEC=%llu",
                         (unsigned long long) s->watchdog_usec);
                more[n_more++] = wd;
        }
        for (char *const *e = extra_env; e && *e && n_more < ELEMENTSOF(more) - 1; e++)
                more[n_more++] = *e;
        r = service_build_env(s, more, &env);
        if (r < 0)
                return r;

        /* The main process gets its sockets, then the fd store, names and all. */
        if (with_fds) {
                fds = calloc(s->n_fds + s->n_fd_store + 1, sizeof(int));
                names = calloc(s->n_fds + s->n_fd_store + 1, sizeof(char *));
                if (!fds || !names)
                        return -ENOMEM;
                for (size_t i = 0; i < s->n_fds; i++) {
                        fds[n_fds] = s->fds[i];
                        names[n_fds++] = s->fd_names[i];
                }
                for (size_t i = 0; i < s->n_fd_store; i++) {
                        fds[n_fds] = s->fd_store[i]->fd;
                        names[n_fds++] = s->fd_store[i]->name;
                }
        }
        r = exec_expand(cmd->argv, env, &argv);
        if (r < 0)
                return log_error_errno(r, "%s: cannot expand the command line of %s:%u: %m",
                                       sname(s), strempty(cmd->origin.file), cmd->origin.line);
        OutputStream *stream = NULL;
        if (c->std_output == STD_OUTPUT_LOG || c->std_error == STD_OUTPUT_LOG) {
                out = service_new_output(s, &stream);
                if (out < 0)
                        return out;
        }

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
                .keep_file_status = with_fds && s->old_main_pid > 0,
                .stdin_fd = -1,
                .stdout_fd = c->std_output == STD_OUTPUT_LOG ? out :
                             c->std_output == STD_OUTPUT_INHERIT ? STDOUT_FILENO : -1,
                .stderr_fd = c->std_error == STD_OUTPUT_LOG ? out :
                             c->std_error == STD_OUTPUT_INHERIT ? STDERR_FILENO : -1,
                .user = c->user,
                .group = c->group,
                .supplementary_groups = c->supplementary_groups,
                .working_directory = c->working_directory,
                .working_directory_optional = c->working_directory_optional,
                .umask = c->umask,
                .set_limit_nofile = c->limit_nofile_set,
                .limit_nofile_soft = c->limit_nofile_soft,
                .limit_nofile_hard = c->limit_nofile_hard,
                .no_new_privileges = c->no_new_privileges,
                .log_name = sname(s),
        };
        r = spawn_process(&p, ret_pid, err, sizeof err);
        /* Only the child (and what it starts) holds the write end now: EOF ends the stream. */
        out = safe_close(out);
        if (r < 0) {
                if (stream)
                        output_free(stream);
                log_error("%s:%u: %s", strempty(cmd->origin.file), cmd->origin.line, err);
                return r;
        }
        if (stream)
                stream->pid = *ret_pid;
        return 0;
}

/* ---- start ---- */

/* Records a start and says whether it is over StartLimitBurst= in StartLimitIntervalSec=. */
static bool service_start_limit_hit(Service *s, usec_t now) {
        unsigned burst = s->unit->start_limit_burst;
        usec_t interval = s->unit->start_limit_interval_usec;

        if (burst == 0 || interval == 0)
                return false;
        if (s->n_start_times == burst) {
                usec_t oldest = s->start_times[s->start_times_head];
                if (now - oldest < interval)
                        return true;
                s->start_times[s->start_times_head] = now;
                s->start_times_head = (s->start_times_head + 1) % burst;
                return false;
        }
        s->start_times[(s->start_times_head + s->n_start_times++) % burst] = now;
        return false;
}

static void service_enter_backoff(Service *s) {
        usec_t delay = SERVICE_BACKOFF_BASE_USEC;

        for (unsigned i = 0; i < s->backoff_level && delay < SERVICE_BACKOFF_CAP_USEC; i++)
                delay *= 2;
        delay = MIN(delay, SERVICE_BACKOFF_CAP_USEC);
        if (s->backoff_level < 32)
                s->backoff_level++;
        log_warning("%s: started %u times within %llus (StartLimitBurst=, "
                    "StartLimitIntervalSec=): backing off for %llu.%03llus; the socket stays "
                    "bound and connections wait",
                    sname(s), s->unit->start_limit_burst,
                    (unsigned long long) (s->unit->start_limit_interval_usec / USEC_PER_SEC),
                    (unsigned long long) (delay / USEC_PER_SEC),
                    (unsigned long long) (delay % USEC_PER_SEC / USEC_PER_MSEC));
        service_set_state(s, SERVICE_BACKOFF);
        (void) service_arm_timer(s, delay);
}

/* limited: automatic starts (a client, Restart=, boot) count against the start limit; an
 * operator's start or restart does not: the limit tames crash loops, not people. */
static int service_enter_start_full(Service *s, bool limited) {
        usec_t now = now_usec();

        if (service_apply_next_unit(s) < 0)
                return log_oom();
        const ServiceConfig *c = &s->unit->service;

        if (service_start_limit_hit(s, now) && limited) {
                s->restart_pending = true;
                service_enter_backoff(s);
                return 0;
        }
        s->stop_requested = false;
        s->result = SERVICE_SUCCESS;
        s->active_since = now;
        {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                s->since_realtime = (usec_t) ts.tv_sec * USEC_PER_SEC +
                                    (usec_t) ts.tv_nsec / 1000;
        }
        s->control_index = 0;
        s->exec_index = 0;
        if (c->n_exec_start_pre > 0) {
                service_set_state(s, SERVICE_START_PRE);
                service_run_next_control(s);
                return 0;
        }
        return service_spawn_main(s);
}

static int service_enter_start(Service *s) {
        return service_enter_start_full(s, true);
}

static int service_spawn_main(Service *s) {
        const ServiceConfig *c = &s->unit->service;
        pid_t pid;
        int r;

        if (s->exec_index >= c->n_exec_start) {
                service_enter_dead(s, SERVICE_SUCCESS);
                return 0;
        }
        s->watchdog_usec = c->watchdog_usec;
        r = service_spawn(s, &c->exec_start[s->exec_index], true, NULL, &pid);
        if (r < 0) {
                if (s->old_main_pid > 0)
                        service_handover_failed(s, "the new process could not be started");
                else
                        service_enter_dead(s, SERVICE_FAILURE_RESOURCES);
                return r;
        }
        s->main_pid = s->pgid = pid;
        if (c->type == SERVICE_ONESHOT || c->type == SERVICE_NOTIFY) {
                /* oneshot: until it exits; notify: until READY=1. */
                service_set_state(s, SERVICE_START);
                (void) service_arm_timer(s, c->timeout_start_usec);
        } else
                /* simple and exec: spawn returns once execve() succeeded. */
                service_enter_running(s);
        return 0;
}

/* ---- readiness, the watchdog, overlap handover ---- */

static int service_on_watchdog(sd_event_source *es, uint64_t usec, void *userdata);
static int service_on_old_timer(sd_event_source *es, uint64_t usec, void *userdata);

static void service_arm_source(Service *s, sd_event_source **src, usec_t usec,
                               sd_event_time_handler_t cb) {
        if (usec == 0 || usec == USEC_INFINITY) {
                if (*src)
                        (void) sd_event_source_set_enabled(*src, SD_EVENT_OFF);
                return;
        }
        if (!*src) {
                if (sd_event_add_time_relative(s->manager->event, src, CLOCK_MONOTONIC, usec,
                                               USEC_PER_MSEC, cb, s) < 0)
                        log_warning("%s: cannot arm a timer, ignoring", sname(s));
                return;
        }
        (void) sd_event_source_set_time_relative(*src, usec);
        (void) sd_event_source_set_enabled(*src, SD_EVENT_ONESHOT);
}

/* (Re)starts the watchdog: WATCHDOG=1 must come within watchdog_usec while running. */
static void service_arm_watchdog(Service *s) {
        service_arm_source(s, &s->watchdog_source,
                           s->state == SERVICE_RUNNING && s->main_pid > 0 ? s->watchdog_usec : 0,
                           service_on_watchdog);
}

static void service_report_restart(Service *s, int error, const char *message) {
        void (*cb)(Service *, int, const char *, void *) = s->restart_done;

        if (!cb)
                return;
        s->restart_done = NULL;
        cb(s, error, message, s->restart_done_userdata);
}

static void service_kill_old(Service *s, int sig) {
        if (s->old_main_pid <= 0)
                return;
        if (s->unit->service.kill_mode == KILL_CONTROL_GROUP || sig == SIGKILL)
                (void) kill(-s->old_pgid, sig);
        else
                (void) kill(s->old_main_pid, sig);
        if (sig != SIGKILL)
                (void) kill(s->old_main_pid, SIGCONT);
}

/* The main process is ready. During an overlap handover the old one now drains. */
static void service_enter_running(Service *s) {
        const ServiceConfig *c = &s->unit->service;

        service_disarm_timer(s);
        service_set_state(s, SERVICE_RUNNING);
        service_arm_watchdog(s);
        if (s->old_main_pid > 0) {
                log_info("%s: handover: pid %d is ready; sending SIG%s to pid %d so it drains "
                         "(SIGKILL after %llums)",
                         sname(s), (int) s->main_pid, sigabbrev_np(c->kill_signal) ?: "?",
                         (int) s->old_main_pid,
                         (unsigned long long) (c->timeout_stop_usec / USEC_PER_MSEC));
                service_kill_old(s, c->kill_signal);
                service_arm_source(s, &s->old_timer_source, c->timeout_stop_usec,
                                   service_on_old_timer);
        }
        service_report_restart(s, 0, NULL);
}

/* Handover=overlap: the new process failed; it goes, and the old one serves on. */
static void service_handover_failed(Service *s, const char *why) {
        char msg[256];

        if (s->old_main_pid <= 0) {
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_PROTOCOL);
                return;
        }
        snprintf(msg, sizeof msg, "handover failed: %s; pid %d serves on", why,
                 (int) s->old_main_pid);
        log_warning("%s: %s", sname(s), msg);
        if (s->main_pid > 0 && s->pgid > 0)
                (void) kill(-s->pgid, SIGKILL); /* reaped later as a stray child */
        s->main_pid = s->old_main_pid;
        s->pgid = s->old_pgid;
        s->old_main_pid = s->old_pgid = 0;
        service_disarm_timer(s);
        service_set_state(s, SERVICE_RUNNING);
        service_arm_watchdog(s);
        service_report_restart(s, -EIO, msg);
}

static int service_start_overlap(Service *s) {
        int r;

        log_info("%s: handover (overlap): starting a new process while pid %d serves",
                 sname(s), (int) s->main_pid);
        r = service_apply_next_unit(s);
        if (r < 0)
                return r;
        s->old_main_pid = s->main_pid;
        s->old_pgid = s->pgid;
        s->main_pid = s->pgid = 0;
        s->result = SERVICE_SUCCESS;
        s->exec_index = 0;
        service_arm_source(s, &s->watchdog_source, 0, service_on_watchdog);
        return service_spawn_main(s);
}

static int service_on_old_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        Service *s = userdata;

        if (s->old_main_pid > 0) {
                log_warning("%s: the replaced process %d is still draining after "
                            "TimeoutStopSec=, sending SIGKILL",
                            sname(s), (int) s->old_main_pid);
                service_kill_old(s, SIGKILL);
        }
        return 0;
}

static int service_on_watchdog(sd_event_source *es, uint64_t usec, void *userdata) {
        Service *s = userdata;

        if (s->state != SERVICE_RUNNING || s->main_pid <= 0)
                return 0;
        log_warning("%s: watchdog timeout: no WATCHDOG=1 within %llums; sending SIGABRT to "
                    "pid %d",
                    sname(s), (unsigned long long) (s->watchdog_usec / USEC_PER_MSEC),
                    (int) s->main_pid);
        s->result = SERVICE_FAILURE_WATCHDOG;
        (void) kill(s->main_pid, SIGABRT);
        service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_WATCHDOG);
        return 0;
}

/* ---- the fd store ---- */

static StoredFd *stored_fd_free(StoredFd *f) {
        if (!f)
                return NULL;
        sd_event_source_disable_unref(f->poll_source);
        safe_close(f->fd);
        free(f->name);
        free(f);
        return NULL;
}

static void service_remove_stored(Service *s, size_t i) {
        stored_fd_free(s->fd_store[i]);
        memmove(s->fd_store + i, s->fd_store + i + 1,
                (s->n_fd_store - i - 1) * sizeof(StoredFd *));
        s->n_fd_store--;
}

static int stored_fd_on_event(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        StoredFd *f = userdata;
        Service *s = f->service;

        for (size_t i = 0; i < s->n_fd_store; i++)
                if (s->fd_store[i] == f) {
                        log_info("%s: stored fd '%s' hung up, dropping it", sname(s), f->name);
                        service_remove_stored(s, i);
                        break;
                }
        return 0;
}

void service_release_fd_store(Service *s) {
        if (s->n_fd_store > 0)
                log_info("%s: releasing %zu stored fd%s", sname(s), s->n_fd_store,
                         s->n_fd_store == 1 ? "" : "s");
        while (s->n_fd_store > 0)
                service_remove_stored(s, s->n_fd_store - 1);
        free(s->fd_store);
        s->fd_store = NULL;
}

/* Takes the fds (consumed in every case). */
static void service_store_fds(Service *s, int *fds, size_t n_fds, const char *name, bool poll) {
        unsigned max = s->unit->service.fd_store_max;
        size_t i = 0;

        for (; i < n_fds; i++) {
                StoredFd *f, **a;

                if (s->n_fd_store >= max) {
                        log_warning("%s: FDSTORE=1 with more fds than FileDescriptorStoreMax=%u "
                                    "allows; closing %zu of them",
                                    sname(s), max, n_fds - i);
                        break;
                }
                f = calloc(1, sizeof *f);
                a = realloc(s->fd_store, (s->n_fd_store + 1) * sizeof(StoredFd *));
                if (!f || !a) {
                        free(f);
                        if (a)
                                s->fd_store = a;
                        log_oom();
                        break;
                }
                s->fd_store = a;
                *f = (StoredFd) { .service = s, .fd = fds[i], .name = strdup(name) };
                if (!f->name) {
                        free(f);
                        log_oom();
                        break;
                }
                if (poll && sd_event_add_io(s->manager->event, &f->poll_source, f->fd,
                                            EPOLLHUP | EPOLLERR, stored_fd_on_event, f) < 0)
                        log_warning("%s: cannot watch stored fd '%s', keeping it unwatched",
                                    sname(s), name);
                s->fd_store[s->n_fd_store++] = f;
                log_info("%s: stored fd %d as '%s' (%zu of %u)", sname(s), f->fd, name,
                         s->n_fd_store, max);
        }
        for (; i < n_fds; i++)
                safe_close(fds[i]);
}

/* ---- notify ---- */

NotifyAccess service_notify_access(const Service *s) {
        const ServiceConfig *c = &s->unit->service;

        if (c->notify_access_set)
                return c->notify_access;
        /* A unit that asks for readiness, a watchdog or an fd store means to notify. */
        return c->type == SERVICE_NOTIFY || c->watchdog_usec > 0 || c->fd_store_max > 0 ?
                       NOTIFY_ACCESS_MAIN :
                       NOTIFY_ACCESS_NONE;
}

static pid_t pgid_of(pid_t pid) {
        char path[64], buf[512];
        FILE *f;
        int pgid = -1;

        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        if (fgets(buf, sizeof buf, f)) {
                const char *p = strrchr(buf, ')');
                int ppid;
                char state;
                if (!p || sscanf(p + 1, " %c %d %d", &state, &ppid, &pgid) != 3)
                        pgid = -1;
        }
        fclose(f);
        return pgid;
}

bool service_owns_pid(const Service *s, pid_t pid, NotifyRole *ret_role) {
        pid_t g;

        if (pid <= 0)
                return false;
        if (pid == s->main_pid)
                return *ret_role = NOTIFY_ROLE_MAIN, true;
        if (pid == s->control_pid)
                return *ret_role = NOTIFY_ROLE_CONTROL, true;
        if (pid == s->old_main_pid)
                return *ret_role = NOTIFY_ROLE_OLD_MAIN, true;
        if (!service_is_active(s))
                return false;
        g = pgid_of(pid);
        if (g > 0 && (g == s->pgid || g == s->old_pgid || g == s->control_pid))
                return *ret_role = NOTIFY_ROLE_OTHER, true;
        return false;
}

void service_on_notify(Service *s, NotifyRole role, pid_t pid, const NotifyMessage *m, int *fds,
                       size_t n_fds) {
        bool old = role == NOTIFY_ROLE_OLD_MAIN;

        if (m->status) {
                char *t = strdup(m->status);
                if (t) {
                        free(s->status_text);
                        s->status_text = t;
                        log_debug("%s: STATUS=%s", sname(s), t);
                }
        }
        if (m->errno_value >= 0)
                s->status_errno = m->errno_value;
        if (m->mainpid > 0 && !old) {
                pid_t g = pgid_of(m->mainpid);
                if (g > 0 && g == s->pgid) {
                        log_info("%s: MAINPID=%d: the main process is now pid %d", sname(s),
                                 (int) m->mainpid, (int) m->mainpid);
                        s->main_pid = m->mainpid;
                } else
                        log_warning("%s: MAINPID=%d from pid %d is not a process of this "
                                    "service, ignoring",
                                    sname(s), (int) m->mainpid, (int) pid);
        }
        if (m->reloading)
                log_info("%s: reloading (RELOADING=1 from pid %d)", sname(s), (int) pid);
        if (m->stopping)
                log_info("%s: stopping (STOPPING=1 from pid %d)", sname(s), (int) pid);
        if (m->ready && !old) {
                if (s->state == SERVICE_START && s->unit->service.type == SERVICE_NOTIFY) {
                        log_info("%s: READY=1 from pid %d", sname(s), (int) pid);
                        service_enter_running(s);
                }
        }
        if (m->watchdog_usec != UINT64_MAX && !old) {
                s->watchdog_usec = m->watchdog_usec;
                service_arm_watchdog(s);
        }
        if (m->watchdog && !old)
                service_arm_watchdog(s);
        if (m->watchdog_trigger && !old && s->state == SERVICE_RUNNING)
                (void) service_on_watchdog(NULL, 0, s);
        if (m->extend_timeout_usec != UINT64_MAX && !old &&
            IN_SET(s->state, SERVICE_START_PRE, SERVICE_START, SERVICE_STOP,
                   SERVICE_STOP_SIGTERM)) {
                usec_t now = now_usec(), due = 0;
                if (s->timer_source && sd_event_source_get_time(s->timer_source, &due) >= 0 &&
                    due < now + m->extend_timeout_usec)
                        (void) service_arm_timer(s, m->extend_timeout_usec);
        }
        if (m->fdstoreremove && m->fdname)
                for (size_t i = s->n_fd_store; i > 0; i--)
                        if (streq(s->fd_store[i - 1]->name, m->fdname)) {
                                log_info("%s: FDSTOREREMOVE=1: dropping stored fd '%s'",
                                         sname(s), m->fdname);
                                service_remove_stored(s, i - 1);
                        }
        if (m->fdstore && n_fds > 0) {
                if (s->unit->service.fd_store_max == 0) {
                        log_warning("%s: FDSTORE=1 from pid %d, but FileDescriptorStoreMax=0; "
                                    "closing %zu fd%s",
                                    sname(s), (int) pid, n_fds, n_fds == 1 ? "" : "s");
                } else {
                        service_store_fds(s, fds, n_fds, m->fdname ?: "stored", m->fdpoll != 0);
                        return;
                }
        }
        /* Anything else that came with fds (BARRIER=1's pipe among them) is closed: that is
         * what a barrier waits for. */
        for (size_t i = 0; i < n_fds; i++)
                safe_close(fds[i]);
}


/* Runs the next ExecStartPre= (in START_PRE) or ExecStop= (in STOP), or moves on. */
static void service_run_next_control(Service *s) {
        const ServiceConfig *c = &s->unit->service;
        const ExecCommand *cmds = s->state == SERVICE_START_PRE ? c->exec_start_pre : c->exec_stop;
        size_t n = s->state == SERVICE_START_PRE ? c->n_exec_start_pre : c->n_exec_stop;
        char mainpid[32], *extra[] = { mainpid, NULL };
        pid_t pid;

        if (s->control_index >= n) {
                s->control_pid = 0;
                if (s->state == SERVICE_START_PRE)
                        (void) service_spawn_main(s);
                else
                        service_enter_signal(s, SERVICE_STOP_SIGTERM, s->result);
                return;
        }
        snprintf(mainpid, sizeof mainpid, "MAINPID=%d", (int) s->main_pid);
        if (service_spawn(s, &cmds[s->control_index], false, s->main_pid > 0 ? extra : NULL,
                          &pid) < 0) {
                if (cmds[s->control_index].ignore_failure) {
                        s->control_index++;
                        service_run_next_control(s);
                        return;
                }
                if (s->state == SERVICE_START_PRE)
                        service_enter_dead(s, SERVICE_FAILURE_RESOURCES);
                else
                        service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_RESOURCES);
                return;
        }
        s->control_pid = pid;
        (void) service_arm_timer(s, s->state == SERVICE_START_PRE ? c->timeout_start_usec :
                                                                    c->timeout_stop_usec);
}

int service_start(Service *s) {
        switch (s->state) {
        case SERVICE_DEAD:
        case SERVICE_FAILED:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
                service_disarm_timer(s);
                return service_enter_start_full(s, false);
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_RUNNING:
                return 0; /* already on its way */
        case SERVICE_STOP:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
                return -EBUSY;
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
        return -EINVAL;
}

/* ---- stop ---- */

static void service_kill(Service *s, int sig, bool whole_group) {
        KillMode mode = s->unit->service.kill_mode;

        if (mode == KILL_NONE && sig != SIGKILL)
                return;
        service_kill_old(s, sig);
        if (s->control_pid > 0)
                (void) kill(-s->control_pid, sig);
        if (whole_group && s->pgid > 0 && (mode == KILL_CONTROL_GROUP || sig == SIGKILL) &&
            mode != KILL_PROCESS)
                (void) kill(-s->pgid, sig);
        else if (s->main_pid > 0)
                (void) kill(s->main_pid, sig);
        if (sig != SIGKILL && sig != SIGCONT) {
                if (s->pgid > 0 && mode == KILL_CONTROL_GROUP)
                        (void) kill(-s->pgid, SIGCONT);
                else if (s->main_pid > 0)
                        (void) kill(s->main_pid, SIGCONT);
        }
}

static void service_enter_signal(Service *s, ServiceState st, ServiceResult r) {
        const ServiceConfig *c = &s->unit->service;

        if (s->result == SERVICE_SUCCESS)
                s->result = r;
        if (!service_is_active(s)) {
                /* Nothing left but maybe stray members of its process group. */
                if (s->pgid > 0 && c->kill_mode != KILL_NONE)
                        (void) kill(-s->pgid, SIGKILL);
                service_enter_dead(s, s->result);
                return;
        }
        if (st == SERVICE_STOP_SIGTERM)
                service_kill(s, c->kill_signal, true);
        else
                service_kill(s, SIGKILL, true);
        service_set_state(s, st);
        (void) service_arm_timer(s, c->timeout_stop_usec);
}

static void service_enter_stop(Service *s, ServiceResult r) {
        const ServiceConfig *c = &s->unit->service;

        if (s->result == SERVICE_SUCCESS)
                s->result = r;
        if (c->n_exec_stop > 0 && s->main_pid > 0) {
                s->control_index = 0;
                service_set_state(s, SERVICE_STOP);
                service_run_next_control(s);
                return;
        }
        service_enter_signal(s, SERVICE_STOP_SIGTERM, s->result);
}

int service_stop(Service *s) {
        s->stop_requested = true;
        s->restart_pending = false;
        s->overlap_queued = false;
        switch (s->state) {
        case SERVICE_DEAD:
        case SERVICE_FAILED:
                service_set_state(s, s->state); /* re-decide the watch */
                return 0;
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
                service_disarm_timer(s);
                service_set_state(s, SERVICE_DEAD);
                return 0;
        case SERVICE_START_PRE:
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_SUCCESS);
                return 0;
        case SERVICE_START:
        case SERVICE_RUNNING:
                service_enter_stop(s, SERVICE_SUCCESS);
                return 0;
        case SERVICE_STOP:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
                return 0;
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
        return -EINVAL;
}

int service_restart(Service *s) {
        const Unit *u = s->next_unit ?: s->unit;

        if (u->service.handover == HANDOVER_OVERLAP && s->state == SERVICE_RUNNING &&
            s->main_pid > 0 && u->service.type != SERVICE_ONESHOT) {
                if (s->old_main_pid > 0) {
                        /* The last one still drains: this handover follows once it is gone. */
                        log_info("%s: handover queued until pid %d has drained", sname(s),
                                 (int) s->old_main_pid);
                        s->overlap_queued = true;
                        return 0;
                }
                return service_start_overlap(s);
        }
        switch (s->state) {
        case SERVICE_START_PRE:
        case SERVICE_START:
        case SERVICE_RUNNING:
        case SERVICE_STOP:
        case SERVICE_STOP_SIGTERM:
        case SERVICE_STOP_SIGKILL:
                s->restart_after_stop = true;
                return service_stop(s) < 0 ? -EINVAL : 0;
        case SERVICE_DEAD:
        case SERVICE_FAILED:
        case SERVICE_AUTO_RESTART:
        case SERVICE_BACKOFF:
                return service_start(s);
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
        return -EINVAL;
}

static int service_spawn_reload(Service *s) {
        const ServiceConfig *c = &s->unit->service;
        char mainpid[32], *extra[] = { mainpid, NULL };
        pid_t pid;
        int r;

        snprintf(mainpid, sizeof mainpid, "MAINPID=%d", (int) s->main_pid);
        r = service_spawn(s, &c->exec_reload[s->reload_index], false, extra, &pid);
        if (r < 0)
                return r;
        s->control_pid = pid;
        return 0;
}

int service_reload(Service *s, char *err, size_t errlen) {
        const ServiceConfig *c = &s->unit->service;

        if (s->state != SERVICE_RUNNING || s->main_pid <= 0) {
                snprintf(err, errlen, "%s is not running (%s)", sname(s), state_names[s->state]);
                return -ENOTCONN;
        }
        if (s->control_pid > 0) {
                snprintf(err, errlen, "%s: a control process (pid %d) is still running",
                         sname(s), (int) s->control_pid);
                return -EBUSY;
        }
        if (c->n_exec_reload > 0) {
                s->reload_index = 0;
                log_info("%s: reloading with ExecReload=", sname(s));
                int r = service_spawn_reload(s);
                if (r < 0)
                        snprintf(err, errlen, "%s: ExecReload= could not be started", sname(s));
                return r;
        }
        log_info("%s: reloading with SIG%s to pid %d", sname(s),
                 sigabbrev_np(c->reload_signal) ?: "?", (int) s->main_pid);
        if (kill(s->main_pid, c->reload_signal) < 0) {
                snprintf(err, errlen, "%s: cannot send its reload signal: %s", sname(s),
                         strerror(errno));
                return -errno;
        }
        return 0;
}

/* ---- the end of a run: dead, failed, or a restart ---- */

static bool service_should_restart(Service *s, ServiceResult r) {
        if (s->stop_requested || s->manager->exiting)
                return false;
        switch (s->unit->service.restart) {
        case SERVICE_RESTART_NO:
                return false;
        case SERVICE_RESTART_ON_SUCCESS:
                return r == SERVICE_SUCCESS;
        case SERVICE_RESTART_ON_FAILURE:
                return r != SERVICE_SUCCESS;
        case SERVICE_RESTART_ON_ABNORMAL:
                return r == SERVICE_FAILURE_SIGNAL || r == SERVICE_FAILURE_CORE_DUMP ||
                       r == SERVICE_FAILURE_TIMEOUT || r == SERVICE_FAILURE_WATCHDOG;
        case SERVICE_RESTART_ON_ABORT:
                return r == SERVICE_FAILURE_SIGNAL || r == SERVICE_FAILURE_CORE_DUMP;
        case SERVICE_RESTART_ALWAYS:
                return true;
        case _SERVICE_RESTART_MAX:
        case _SERVICE_RESTART_INVALID:
                break;
        }
        return false;
}

static void service_enter_dead(Service *s, ServiceResult r) {
        if (s->result == SERVICE_SUCCESS)
                s->result = r;
        s->main_pid = s->control_pid = 0;
        s->old_main_pid = s->old_pgid = 0;
        service_arm_source(s, &s->watchdog_source, 0, service_on_watchdog);

        /* A run that lasted a whole start-limit interval proves the service works again. */
        if (s->active_since > 0 &&
            now_usec() - s->active_since >= s->unit->start_limit_interval_usec)
                s->backoff_level = 0;

        if (s->restart_after_stop && !s->manager->exiting) {
                s->restart_after_stop = false;
                s->stop_requested = false;
                s->result = SERVICE_SUCCESS;
                service_set_state(s, SERVICE_DEAD);
                (void) service_enter_start_full(s, false);
                return;
        }
        if (service_should_restart(s, s->result)) {
                s->restart_pending = true;
                service_set_state(s, SERVICE_AUTO_RESTART);
                (void) service_arm_timer(s, s->unit->service.restart_usec);
                return;
        }
        s->restart_pending = false;
        service_disarm_timer(s);
        if (s->restart_done) {
                char msg[128];
                snprintf(msg, sizeof msg, "%s did not start: %s", sname(s),
                         result_names[s->result]);
                service_report_restart(s, -EIO, msg);
        }
        /* An explicit stop releases the fd store; restarts and crashes keep it. */
        if (s->stop_requested && !s->manager->exiting)
                service_release_fd_store(s);
        service_set_state(s, s->result == SERVICE_SUCCESS || s->stop_requested ? SERVICE_DEAD :
                                                                                SERVICE_FAILED);
}

static ServiceResult result_of(const siginfo_t *si) {
        switch (si->si_code) {
        case CLD_EXITED:
                return si->si_status == 0 ? SERVICE_SUCCESS : SERVICE_FAILURE_EXIT_CODE;
        case CLD_KILLED:
                /* systemd's clean signals: a service stopped with them exited cleanly. */
                if (IN_SET(si->si_status, SIGHUP, SIGINT, SIGTERM, SIGPIPE))
                        return SERVICE_SUCCESS;
                return SERVICE_FAILURE_SIGNAL;
        case CLD_DUMPED:
                return SERVICE_FAILURE_CORE_DUMP;
        default:
                return SERVICE_FAILURE_SIGNAL;
        }
}

static void log_exit(Service *s, const char *what, const siginfo_t *si) {
        if (si->si_code == CLD_EXITED)
                log_full_errno(si->si_status == 0 ? LOG_INFO : LOG_WARNING, 0,
                               "%s: %s process %d exited with status %d", sname(s), what,
                               (int) si->si_pid, si->si_status);
        else
                log_warning("%s: %s process %d was killed by SIG%s%s", sname(s), what,
                            (int) si->si_pid, sigabbrev_np(si->si_status) ?: "?",
                            si->si_code == CLD_DUMPED ? " (core dumped)" : "");
}

bool service_on_child(Service *s, const siginfo_t *si) {
        const ServiceConfig *c = &s->unit->service;
        ServiceResult r = result_of(si);

        if (si->si_pid == s->main_pid) {
                log_exit(s, "main", si);
                s->main_pid = 0;
                s->last_exit_code = si->si_code;
                s->last_exit_status = si->si_status;
                switch (s->state) {
                case SERVICE_START:
                        if (c->type == SERVICE_ONESHOT) {
                                /* the next ExecStart=, or done */
                                if (r == SERVICE_SUCCESS) {
                                        s->exec_index++;
                                        (void) service_spawn_main(s);
                                } else
                                        service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                        } else if (s->old_main_pid > 0)
                                service_handover_failed(s, "the new process exited before "
                                                           "READY=1");
                        else
                                service_enter_signal(s, SERVICE_STOP_SIGTERM,
                                                     r == SERVICE_SUCCESS ?
                                                             SERVICE_FAILURE_PROTOCOL : r);
                        break;
                case SERVICE_RUNNING:
                        /* Stray members of its group go with it. */
                        service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                        break;
                case SERVICE_STOP:
                        break; /* ExecStop= still runs; it ends the stop */
                case SERVICE_STOP_SIGTERM:
                case SERVICE_STOP_SIGKILL:
                        if (s->result == SERVICE_SUCCESS && !s->stop_requested)
                                s->result = r;
                        service_enter_signal(s, s->state, s->result);
                        break;
                case SERVICE_DEAD:
                case SERVICE_START_PRE:
                case SERVICE_AUTO_RESTART:
                case SERVICE_BACKOFF:
                case SERVICE_FAILED:
                case _SERVICE_STATE_MAX:
                case _SERVICE_STATE_INVALID:
                        break;
                }
                return true;
        }
        if (si->si_pid == s->old_main_pid) {
                log_exit(s, "replaced", si);
                if (s->unit->service.kill_mode != KILL_NONE && s->old_pgid > 0)
                        (void) kill(-s->old_pgid, SIGKILL); /* its strays go with it */
                s->old_main_pid = s->old_pgid = 0;
                if (s->old_timer_source)
                        (void) sd_event_source_set_enabled(s->old_timer_source, SD_EVENT_OFF);
                if (IN_SET(s->state, SERVICE_STOP_SIGTERM, SERVICE_STOP_SIGKILL))
                        service_enter_signal(s, s->state, s->result);
                else if (s->overlap_queued && s->state == SERVICE_RUNNING && s->main_pid > 0) {
                        s->overlap_queued = false;
                        (void) service_start_overlap(s);
                }
                return true;
        }
        if (si->si_pid == s->control_pid) {
                const ExecCommand *cmd = s->state == SERVICE_START_PRE ?
                                                 &c->exec_start_pre[s->control_index] :
                                         s->state == SERVICE_STOP ? &c->exec_stop[s->control_index] :
                                                                    NULL;
                log_exit(s, "control", si);
                s->control_pid = 0;
                switch (s->state) {
                case SERVICE_START_PRE:
                        if (r != SERVICE_SUCCESS && !(cmd && cmd->ignore_failure)) {
                                service_enter_signal(s, SERVICE_STOP_SIGTERM, r);
                                break;
                        }
                        s->control_index++;
                        service_run_next_control(s);
                        break;
                case SERVICE_STOP:
                        s->control_index++;
                        service_run_next_control(s);
                        break;
                case SERVICE_STOP_SIGTERM:
                case SERVICE_STOP_SIGKILL:
                        service_enter_signal(s, s->state, s->result);
                        break;
                case SERVICE_RUNNING:
                        /* ExecReload= finished; the next one may run. */
                        if (s->reload_index + 1 < c->n_exec_reload && r == SERVICE_SUCCESS) {
                                s->reload_index++;
                                (void) service_spawn_reload(s);
                        }
                        break;
                case SERVICE_DEAD:
                case SERVICE_START:
                case SERVICE_AUTO_RESTART:
                case SERVICE_BACKOFF:
                case SERVICE_FAILED:
                case _SERVICE_STATE_MAX:
                case _SERVICE_STATE_INVALID:
                        break;
                }
                return true;
        }
        return false;
}

static int service_on_timer(sd_event_source *es, uint64_t usec, void *userdata) {
        Service *s = userdata;
        const ServiceConfig *c = &s->unit->service;

        switch (s->state) {
        case SERVICE_START_PRE:
        case SERVICE_START:
                if (s->old_main_pid > 0) {
                        service_handover_failed(s, "the new process was not ready within "
                                                   "TimeoutStartSec=");
                        break;
                }
                log_warning("%s: start timed out after TimeoutStartSec=, stopping", sname(s));
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_STOP:
                log_warning("%s: ExecStop= timed out, sending KillSignal=", sname(s));
                service_enter_signal(s, SERVICE_STOP_SIGTERM, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_STOP_SIGTERM:
                log_warning("%s: still running %llums after SIG%s (TimeoutStopSec=), sending "
                            "SIGKILL",
                            sname(s), (unsigned long long) (c->timeout_stop_usec / USEC_PER_MSEC),
                            sigabbrev_np(c->kill_signal) ?: "?");
                service_enter_signal(s, SERVICE_STOP_SIGKILL, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_STOP_SIGKILL:
                log_error("%s: still running after SIGKILL (uninterruptible?), abandoning it",
                          sname(s));
                s->main_pid = s->control_pid = 0;
                service_enter_dead(s, SERVICE_FAILURE_TIMEOUT);
                break;
        case SERVICE_AUTO_RESTART:
                s->n_restarts++;
                log_info("%s: restarting (restart %u, Restart=%s)", sname(s), s->n_restarts,
                         service_restart_to_string(c->restart));
                (void) service_enter_start(s);
                break;
        case SERVICE_BACKOFF:
                if (s->restart_pending || s->start_at_boot) {
                        /* The back-off ended: the start it held back goes ahead, unlimited
                         * this once (the limit is what delayed it). */
                        s->n_start_times = 0;
                        s->active_since = 0;
                        (void) service_enter_start(s);
                } else
                        service_set_state(s, SERVICE_DEAD);
                break;
        case SERVICE_DEAD:
        case SERVICE_FAILED:
                /* The trigger limit's pause ended: watch again. */
                s->trigger_count = 0;
                service_set_state(s, s->state);
                break;
        case SERVICE_RUNNING:
        case _SERVICE_STATE_MAX:
        case _SERVICE_STATE_INVALID:
                break;
        }
        return 0;
}

/* ---- on-demand activation ---- */

static int service_on_socket(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Service *s = userdata;
        const SocketConfig *sc = manager_socket_config_of_fd(s->manager, fd);
        usec_t now = now_usec();
        usec_t interval = sc ? sc->trigger_limit_interval_usec : 2 * USEC_PER_SEC;
        unsigned burst = sc ? sc->trigger_limit_burst : 20;

        if (now - s->trigger_window_start >= interval) {
                s->trigger_window_start = now;
                s->trigger_count = 0;
        }
        if (burst > 0 && ++s->trigger_count > burst) {
                usec_t left = interval - (now - s->trigger_window_start);
                log_warning("%s: triggered %u times within %llums (TriggerLimitBurst=, "
                            "TriggerLimitIntervalSec=): pausing for %llums; connections wait",
                            sname(s), burst, (unsigned long long) (interval / USEC_PER_MSEC),
                            (unsigned long long) (left / USEC_PER_MSEC));
                (void) service_watch(s, false);
                (void) service_arm_timer(s, left);
                return 0;
        }
        log_info("%s: a client is waiting on fd %d, starting", sname(s), fd);
        (void) service_watch(s, false);
        (void) service_enter_start(s);
        return 0;
}

/* ---- lifetime ---- */

int service_new(Service **ret, Manager *m, Unit *u) {
        _cleanup_(service_freep) Service *s = calloc(1, sizeof *s);

        if (!s)
                return -ENOMEM;
        s->manager = m;
        s->unit = u;
        s->state = SERVICE_DEAD;
        s->status_errno = -1;
        if (u->start_limit_burst > 0) {
                s->start_times = calloc(u->start_limit_burst, sizeof(usec_t));
                if (!s->start_times)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

Service *service_free(Service *s) {
        if (!s)
                return NULL;
        service_report_restart(s, -ECANCELED, "the service was removed");
        service_clear_sockets(s);
        service_release_fd_store(s);
        sd_event_source_disable_unref(s->watchdog_source);
        sd_event_source_disable_unref(s->old_timer_source);
        free(s->status_text);
        sd_event_source_disable_unref(s->timer_source);
        while (s->streams)
                output_free(s->streams);
        for (size_t i = 0; i < s->n_log_lines; i++)
                free(s->log_lines[(s->log_head + i) % SERVICE_LOG_LINES].line);
        free(s->start_times);
        free(s);
        return NULL;
}

int service_add_socket(Service *s, int fd, const char *name, bool non_blocking) {
        int *fds = realloc(s->fds, (s->n_fds + 1) * sizeof(int));
        if (!fds)
                return -ENOMEM;
        s->fds = fds;
        char **names = realloc(s->fd_names, (s->n_fds + 2) * sizeof(char *));
        if (!names)
                return -ENOMEM;
        s->fd_names = names;
        sd_event_source **w = realloc(s->watch_sources, (s->n_fds + 1) * sizeof(*w));
        if (!w)
                return -ENOMEM;
        s->watch_sources = w;
        names[s->n_fds] = strdup(name);
        if (!names[s->n_fds])
                return -ENOMEM;
        names[s->n_fds + 1] = NULL;
        w[s->n_fds] = NULL;
        fds[s->n_fds++] = fd;
        s->non_blocking = s->non_blocking || non_blocking;
        return 0;
}

void service_clear_sockets(Service *s) {
        for (size_t i = 0; i < s->n_fds; i++) {
                s->watch_sources[i] = sd_event_source_disable_unref(s->watch_sources[i]);
                free(s->fd_names[i]);
        }
        free(s->watch_sources);
        free(s->fd_names);
        free(s->fds);
        s->watch_sources = NULL;
        s->fd_names = NULL;
        s->fds = NULL;
        s->n_fds = 0;
        s->non_blocking = false;
}

int service_begin_watch(Service *s) {
        const SocketConfig *sc;
        int r;

        for (size_t i = 0; i < s->n_fds && s->socket_activated; i++) {
                if (s->watch_sources[i])
                        continue;
                r = sd_event_add_io(s->manager->event, &s->watch_sources[i], s->fds[i], EPOLLIN,
                                    service_on_socket, s);
                if (r < 0)
                        return log_error_errno(r, "%s: cannot watch fd %d: %m", sname(s),
                                               s->fds[i]);
                (void) sd_event_source_set_enabled(s->watch_sources[i], SD_EVENT_OFF);
                sc = manager_socket_config_of_fd(s->manager, s->fds[i]);
                if (sc && sc->poll_limit_interval_usec > 0 && sc->poll_limit_burst > 0)
                        (void) sd_event_source_set_ratelimit(s->watch_sources[i],
                                                             sc->poll_limit_interval_usec,
                                                             sc->poll_limit_burst);
        }
        /* Re-decide the watch for the current state, without a transition. */
        if (IN_SET(s->state, SERVICE_DEAD, SERVICE_FAILED))
                (void) service_watch(s, s->socket_activated && !s->manager->exiting &&
                                                !s->removed);
        return 0;
}

static int service_apply_next_unit(Service *s) {
        Unit *u = s->next_unit;

        if (!u)
                return 0;
        if (u->start_limit_burst != s->unit->start_limit_burst) {
                usec_t *t = calloc(u->start_limit_burst ?: 1, sizeof(usec_t));
                if (!t)
                        return -ENOMEM;
                free(s->start_times);
                s->start_times = t;
                s->n_start_times = s->start_times_head = 0;
        }
        log_info("%s: now running with its reloaded unit", u->name);
        s->unit = u;
        s->next_unit = NULL;
        return 0;
}

void service_set_next_unit(Service *s, Unit *u) {
        if (u == s->unit)
                return;
        s->next_unit = u;
        if (!service_is_active(s) && IN_SET(s->state, SERVICE_DEAD, SERVICE_FAILED))
                (void) service_apply_next_unit(s);
}

int service_begin(Service *s) {
        int r = service_begin_watch(s);
        if (r < 0)
                return r;
        if (s->start_at_boot)
                return service_enter_start(s);
        service_set_state(s, SERVICE_DEAD);
        return 0;
}
