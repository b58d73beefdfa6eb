/* service-state: a service's runtime state across a daemon-reexec (state.h's format). What is
 * written is what the state machine needs to carry on: its state and processes, counters,
 * timer deadlines (CLOCK_MONOTONIC, which an exec does not reset), STATUS=, the kept log lines,
 * the fd store and the output pipes of its processes. The unit is the new berthd's own, read
 * from the files as a daemon-reload would. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/macro.h"
#include "common/string-table.h"
#include "common/strv.h"
#include "daemon/service-internal.h"
#include "daemon/service-pids.h"
#include "daemon/state.h"

typedef enum FieldType { F_INT, F_UINT, F_U64, F_BOOL } FieldType;

/* The plain fields of a run, written and read by this table alone. */
static const struct {
        const char *key;
        size_t offset;
        FieldType type;
} service_fields[] = {
#define FIELD(k, m, t) { k, offsetof(ServiceRun, m), t }
        FIELD("main-pid", main_pid, F_INT),
        FIELD("control-pid", control_pid, F_INT),
        FIELD("pgid", pgid, F_INT),
        FIELD("old-main-pid", old_main_pid, F_INT),
        FIELD("old-pgid", old_pgid, F_INT),
        FIELD("failed-pid", failed_pid, F_INT),
        FIELD("failed-pgid", failed_pgid, F_INT),
        FIELD("last-exit-code", last_exit_code, F_INT),
        FIELD("last-exit-status", last_exit_status, F_INT),
        FIELD("control-index", control_index, F_UINT),
        FIELD("exec-index", exec_index, F_UINT),
        FIELD("reload-index", reload_index, F_UINT),
        FIELD("n-restarts", n_restarts, F_UINT),
        FIELD("limits-told", limits_told, F_BOOL),
        FIELD("stop-post-ran", stop_post_ran, F_BOOL),
        FIELD("main-exited", main_exited, F_BOOL),
        FIELD("reload-notified", reload_notified, F_BOOL),
        FIELD("reload-begin", reload_begin_usec, F_U64),
        FIELD("active-since", active_since, F_U64),
        FIELD("since-realtime", since_realtime, F_U64),
        FIELD("backoff-level", backoff_level, F_UINT),
        FIELD("status-errno", status_errno, F_INT),
        FIELD("watchdog-usec", watchdog_usec, F_U64),
        FIELD("log-seq", log_seq, F_U64),
#undef FIELD
};

static const char *const timer_keys[_SERVICE_TIMER_MAX] = {
        [SERVICE_TIMER_STATE] = "timer-state",
        [SERVICE_TIMER_WATCHDOG] = "timer-watchdog",
};

typedef struct WriteCtx {
        FILE *f;
        int **keep;
        size_t *n_keep;
        int r;
} WriteCtx;

static void write_log_line(const ServiceLogLine *l, void *userdata) {
        WriteCtx *w = userdata;
        char *v = NULL;

        if (asprintf(&v, "%llu %d %s", (unsigned long long) l->seq, (int) l->pid, l->line) < 0) {
                w->r = -ENOMEM;
                return;
        }
        state_write_str(w->f, "log", v);
        free(v);
}

static void write_output(int fd, pid_t pid, const char *pending, size_t len, void *userdata) {
        WriteCtx *w = userdata;
        char head[64];
        int n = snprintf(head, sizeof head, "%d %d ", fd, (int) pid);
        _cleanup_free_ char *v = malloc((size_t) n + len);

        if (!v || state_fds_add(w->keep, w->n_keep, fd) < 0) {
                w->r = -ENOMEM;
                return;
        }
        memcpy(v, head, (size_t) n);
        memcpy(v + n, pending, len);
        state_write_mem(w->f, "output", v, (size_t) n + len);
}

int service_serialize(Service *s, FILE *f, const char *kind, int **keep, size_t *n_keep) {
        WriteCtx w = { .f = f, .keep = keep, .n_keep = n_keep };

        state_write_section(f, kind, s->unit->name);
        state_write_str(f, "state", service_state_to_string(s->state));
        state_write_str(f, "result", service_result_to_string(s->result));
        state_write_str(f, "intent", service_intent_to_string(s->intent));
        state_writef(f, "condition-failed", "%d", s->condition_failed);
        /* A service that never started has nothing of a run to carry. */
        for (size_t i = 0; service_has_run(s) && i < ELEMENTSOF(service_fields); i++) {
                const void *p = (const uint8_t *) s->run + service_fields[i].offset;

                switch (service_fields[i].type) {
                case F_INT:
                        state_writef(f, service_fields[i].key, "%d", *(const int *) p);
                        break;
                case F_UINT:
                        state_writef(f, service_fields[i].key, "%u", *(const unsigned *) p);
                        break;
                case F_U64:
                        state_writef(f, service_fields[i].key, "%llu",
                                     (unsigned long long) *(const uint64_t *) p);
                        break;
                case F_BOOL:
                        state_writef(f, service_fields[i].key, "%d", *(const bool *) p);
                        break;
                }
        }
        if (s->run->cgroup)
                state_write_str(f, "cgroup", s->run->cgroup);
        if (s->run->invocation_id[0])
                state_write_str(f, "invocation-id", s->run->invocation_id);
        if (s->run->status_text)
                state_write_str(f, "status-text", s->run->status_text);
        for (ServiceTimer t = 0; t < _SERVICE_TIMER_MAX; t++)
                if (service_timer_due(s, t) != USEC_INFINITY)
                        state_writef(f, timer_keys[t], "%llu",
                                     (unsigned long long) service_timer_due(s, t));
        /* The start-limit ring, oldest first. */
        for (unsigned i = 0; s->run->start_times && i < s->run->n_start_times; i++)
                state_writef(f, "start-time", "%llu", (unsigned long long)
                             s->run->start_times[(s->run->start_times_head + i) %
                                            MAX(unit_extra(s->unit)->start_limit_burst, 1u)]);
        (void) service_log_foreach(s, 0, 0, write_log_line, &w);
        for (size_t i = 0; i < s->run->n_fd_store && w.r >= 0; i++) {
                StoredFd *sf = s->run->fd_store[i];
                char *v = NULL;

                if (asprintf(&v, "%d %d %s", sf->fd, sf->poll_source != NULL, sf->name) < 0 ||
                    state_fds_add(keep, n_keep, sf->fd) < 0)
                        w.r = -ENOMEM;
                else
                        state_write_str(f, "fdstore", v);
                free(v);
        }
        if (w.r >= 0)
                service_output_foreach(s, write_output, &w);
        {
                const char *name;
                uid_t uid;
                gid_t gid;
                int lock_fd;

                if (w.r >= 0 && service_dynamic_user_get(s, &name, &uid, &gid, &lock_fd)) {
                        char *v = NULL;

                        if (asprintf(&v, "%d %u %u %s", lock_fd, (unsigned) uid, (unsigned) gid,
                                     name) < 0 || (lock_fd >= 0 && state_fds_add(keep, n_keep, lock_fd) < 0))
                                w.r = -ENOMEM;
                        else
                                state_write_str(f, "dynamic-user", v);
                        free(v);
                }
        }
        /* The pidfds of its processes, so that the new berthd holds the very same ones. */
        for (size_t i = 0; s->run->pidfds && i < SERVICE_PIDFDS_MAX && w.r >= 0; i++)
                if (s->run->pidfds[i].pid > 0 && s->run->pidfds[i].fd >= 0) {
                        if (state_fds_add(keep, n_keep, s->run->pidfds[i].fd) < 0)
                                w.r = -ENOMEM;
                        else
                                state_writef(f, "pidfd", "%d %d", s->run->pidfds[i].fd,
                                             (int) s->run->pidfds[i].pid);
                }
        return w.r;
}

/* ---- reading ---- */

/* A field of a run: read into a scratch value first, so that a service that never started (a
 * state from a berthd that wrote every field) gets a run only for a value that is not the idle
 * one. */
static int read_plain(Service *s, const char *key, const char *v) {
        for (size_t i = 0; i < ELEMENTSOF(service_fields); i++) {
                size_t off = service_fields[i].offset, size;
                union {
                        int i;
                        unsigned u;
                        uint64_t u64;
                        bool b;
                } x;
                int r = -EINVAL;

                if (!streq(key, service_fields[i].key))
                        continue;
                switch (service_fields[i].type) {
                case F_INT:
                        r = state_value_int(v, &x.i);
                        size = sizeof x.i;
                        break;
                case F_UINT:
                        r = state_value_uint(v, &x.u);
                        size = sizeof x.u;
                        break;
                case F_U64:
                        r = state_value_u64(v, &x.u64);
                        size = sizeof x.u64;
                        break;
                case F_BOOL:
                        r = state_value_bool(v, &x.b);
                        size = sizeof x.b;
                        break;
                }
                if (r < 0)
                        return r;
                if (!service_has_run(s) &&
                    memcmp((const uint8_t *) &service_run_idle + off, &x, size) == 0)
                        return 0;
                r = service_run_make(s);
                if (r < 0)
                        return r;
                memcpy((uint8_t *) s->run + off, &x, size);
                return 0;
        }
        return -ENOENT;
}

static int read_start_time(Service *s, const char *v) {
        uint64_t t;

        if (state_value_u64(v, &t) < 0)
                return -EINVAL;
        /* A smaller StartLimitBurst= now: the newest ones stay. */
        return service_start_times_add(s, t);
}

static int read_fd_field(const char *v, int *ret_fd, const char **ret_rest,
                         bool (*take_fd)(int fd, void *userdata), void *userdata) {
        char word[16];
        int fd;

        if (state_value_split(v, word, sizeof word, ret_rest) < 0 ||
            state_value_int(word, &fd) < 0 || fd < 3 || !take_fd(fd, userdata))
                return -EBADF;
        *ret_fd = fd;
        return 0;
}

static int read_field(Service *s, const StateField *fl,
                      bool (*take_fd)(int fd, void *userdata), void *userdata) {
        const char *k = fl->key, *v = fl->value, *rest;
        char word[32];
        int r, fd;

        r = read_plain(s, k, v);
        if (r != -ENOENT)
                return r;
        if (STR_IN_SET(k, "cgroup", "invocation-id", "status-text", "start-time", "log",
                       "fdstore", "output", "dynamic-user", "pidfd")) {
                r = service_run_make(s);
                if (r < 0)
                        return r;
        }
        if (streq(k, "state")) {
                ServiceState st = service_state_from_string(v);
                if (st < 0)
                        return -EINVAL;
                s->state = st;
        } else if (streq(k, "result")) {
                ServiceResult res = service_result_from_string(v);
                if (res < 0)
                        return -EINVAL;
                s->result = res;
        } else if (streq(k, "intent")) {
                ServiceIntent i = service_intent_from_string(v);
                if (i < 0)
                        return -EINVAL;
                s->intent = i;
        } else if (streq(k, "condition-failed"))
                return state_value_bool(v, &s->condition_failed);
        else if (streq(k, "cgroup")) {
                char *c = strdup(v);
                if (!c)
                        return -ENOMEM;
                free(s->run->cgroup);
                s->run->cgroup = c;
        } else if (streq(k, "invocation-id")) {
                if (strlen(v) >= sizeof s->run->invocation_id)
                        return -EINVAL;
                strcpy(s->run->invocation_id, v);
        } else if (streq(k, "status-text")) {
                char *c = strdup(v);
                if (!c)
                        return -ENOMEM;
                free(s->run->status_text);
                s->run->status_text = c;
        } else if (streq(k, timer_keys[SERVICE_TIMER_STATE]) ||
                   streq(k, timer_keys[SERVICE_TIMER_WATCHDOG])) {
                ServiceTimers *timers = service_timers(s);

                if (!timers)
                        return -ENOMEM;
                return state_value_u64(v, &timers->due[streq(k, timer_keys[SERVICE_TIMER_STATE])
                                                               ? SERVICE_TIMER_STATE
                                                               : SERVICE_TIMER_WATCHDOG]);
        }
        else if (streq(k, "start-time"))
                return read_start_time(s, v);
        else if (streq(k, "log")) {
                uint64_t seq;
                int pid;
                const char *line;

                if (state_value_split(v, word, sizeof word, &rest) < 0 ||
                    state_value_u64(word, &seq) < 0 ||
                    state_value_split(rest, word, sizeof word, &line) < 0 ||
                    state_value_int(word, &pid) < 0)
                        return -EINVAL;
                service_log_restore(s, seq, pid, line);
        } else if (streq(k, "fdstore")) {
                bool poll;

                r = read_fd_field(v, &fd, &rest, take_fd, userdata);
                if (r < 0)
                        return r;
                if (state_value_split(rest, word, sizeof word, &rest) < 0 ||
                    state_value_bool(word, &poll) < 0) {
                        safe_close(fd);
                        return -EINVAL;
                }
                service_fdstore_add(s, &fd, 1, rest, poll);
        } else if (streq(k, "output")) {
                int pid;

                r = read_fd_field(v, &fd, &rest, take_fd, userdata);
                if (r < 0)
                        return r;
                r = state_value_split(rest, word, sizeof word, &rest) < 0 ||
                    state_value_int(word, &pid) < 0 ? -EINVAL :
                    service_output_adopt(s, fd, pid, rest, strlen(rest));
                if (r < 0)
                        safe_close(fd);
                return r;
        } else if (streq(k, "dynamic-user")) {
                unsigned uid, gid;
                const char *name;

                /* "LOCKFD UID GID NAME"; the lock fd is -1 for a user that exists. Services
                 * that share a uid name the same lock: the first takes it. */
                if (state_value_split(v, word, sizeof word, &rest) < 0 ||
                    state_value_int(word, &fd) < 0 || sscanf(rest, "%u %u", &uid, &gid) != 2 ||
                    !(name = strchr(rest, ' ')) || !(name = strchr(name + 1, ' ')) || !name[1])
                        return -EINVAL;
                if (service_dynamic_user_share(s, name + 1, (uid_t) uid))
                        return 0;
                if (fd >= 0 && (fd < 3 || !take_fd(fd, userdata)))
                        return -EBADF;
                r = service_dynamic_user_adopt(s, name + 1, (uid_t) uid, (gid_t) gid, fd);
                if (r < 0)
                        safe_close(fd);
                return r;
        } else if (streq(k, "pidfd")) {
                PidRef ref = { .fd = -1 };

                r = read_fd_field(v, &fd, &rest, take_fd, userdata);
                if (r < 0)
                        return r;
                if (state_value_int(rest, &ref.pid) < 0 || ref.pid <= 0) {
                        safe_close(fd);
                        return -EINVAL;
                }
                ref.fd = fd;
                return service_pids_add(s, &ref); /* consumes it */
        } else
                return -ENOENT;
        return 0;
}

int service_deserialize(Service *s, const StateSection *sec, const char *const *own_keys,
                        bool (*take_fd)(int fd, void *userdata), void *userdata) {
        usec_t now = service_now(s);

        for (size_t i = 0; i < sec->n_fields; i++) {
                const StateField *fl = &sec->fields[i];
                int r;

                if (own_keys && strv_contains((char *const *) own_keys, fl->key))
                        continue;
                r = read_field(s, fl, take_fd, userdata);

                if (r == -ENOMEM)
                        return log_oom();
                if (r == -ENOENT)
                        log_warning("daemon-reexec: state line %u: %s: unknown field '%s', "
                                    "skipped", fl->line, service_name(s), fl->key);
                else if (r < 0)
                        log_warning("daemon-reexec: state line %u: %s: bad %s '%s', skipped",
                                    fl->line, service_name(s), fl->key, fl->value);
        }
        /* A state from a berthd that held no pidfds: the processes it named are held now. Its
         * children are still ours and unreaped (an exec keeps them), so their numbers are
         * still theirs. Not the group leaders: one reaped before may have left its number to
         * anybody; their groups are signalled member by member (service-pids.c). Then
         * whatever is no longer named goes. */
        if (s->ctx->ops->track) {
                const pid_t named[] = { s->run->main_pid, s->run->control_pid, s->run->old_main_pid,
                                        s->run->failed_pid };

                for (size_t i = 0; i < ELEMENTSOF(named); i++)
                        if (named[i] > 0 && !service_pids_find(s, named[i]))
                                (void) s->ctx->ops->track(s, named[i]);
        }
        service_release_pids(s);
        /* Carry on: the timers with what is left of them, the watch as the state wants it. */
        for (ServiceTimer t = 0; t < _SERVICE_TIMER_MAX; t++) {
                usec_t due = service_timer_due(s, t);

                if (due != USEC_INFINITY)
                        s->ctx->ops->arm_timer(s, t, due > now ? due - now : 0);
        }
        service_update_watch(s);
        if (s->ctx->on_state)
                s->ctx->on_state(s, s->ctx->userdata);
        return 0;
}
