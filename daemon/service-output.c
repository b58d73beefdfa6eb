/* service-output: the output of a service's processes. Each process gets a pipe for its stdout
 * and stderr; berthd reads it line by line into its own log as "unit[pid]: line" and keeps
 * the last SERVICE_LOG_LINES lines per service for `berthctl status` and `logs`. A stream
 * lives until every holder of the write end has closed it: the process, and anything it left
 * behind. */
#include <fcntl.h>
#include <unistd.h>

#include "common/log.h"
#include "daemon/service.h"

/* At most this many pipes per service still held open by its processes. */
#define SERVICE_STREAMS_MAX 256

/* While LogRateLimit*= holds a service's lines back, berthd reads each of its pipes at most
 * this fast; a process that writes faster waits on its writes, as it would on a slow
 * journald. So a flood costs berthd a bounded share of a CPU, and the lines it keeps for
 * `berthctl logs` stay the latest. */
#define OUTPUT_HELD_BYTES_PER_SEC (4U << 20)

struct OutputStream {
        Service *service; /* borrowed: the owner */
        pid_t pid;        /* the process whose lines these are */
        int fd;
        sd_event_source *source;
        char buf[SERVICE_LINE_MAX];
        size_t len;
        RateLimit read_limit;          /* bytes, while the service's lines are held back */
        sd_event_source *resume_source; /* timer: read again after a rest */
        OutputStream *next;
};

/* Says how many lines LogRateLimit*= kept out of the log, if any. */
static void service_log_suppressed(Service *s, unsigned n) {
        const ServiceProcess *sp = service_config_process(&s->unit->service);

        if (n > 0)
                log_warning("%s: %u line%s of its output were not logged (LogRateLimitBurst=%u "
                            "within LogRateLimitIntervalSec=%llus); `berthctl logs` has the last "
                            "%d", s->unit->name, n, n == 1 ? "" : "s", sp->log_rate_limit_burst,
                            (unsigned long long) (sp->log_rate_limit_interval_usec /
                                                  USEC_PER_SEC),
                            SERVICE_LOG_LINES);
}

/* Writes a line to berthd's log unless LogRateLimit*= holds it back. A flood costs the lines
 * of one burst, one line when the limit is hit, and one summary. */
static void service_log_write(Service *s, pid_t pid, const char *line, size_t len) {
        const ServiceProcess *sp = service_config_process(&s->unit->service);
        RateLimit *limit = &s->run->log->limit;
        unsigned suppressed;

        limit->interval = sp->log_rate_limit_interval_usec;
        limit->burst = sp->log_rate_limit_burst;
        if (ratelimit_below(limit, s->ctx->ops->now(s, CLOCK_MONOTONIC), &suppressed)) {
                service_log_suppressed(s, suppressed);
                log_info("%s[%d]: %.*s", s->unit->name, (int) pid, (int) len, line);
        } else if (limit->suppressed == 1)
                log_warning("%s: more than %u lines of output within %llus "
                            "(LogRateLimitBurst=, LogRateLimitIntervalSec=): not logging more "
                            "until the interval ends", s->unit->name, sp->log_rate_limit_burst,
                            (unsigned long long) (sp->log_rate_limit_interval_usec /
                                                  USEC_PER_SEC));
}

/* Room for one more kept line: the log made, or grown (doubling) while it has not wrapped
 * (its head is 0 then). Returns false on OOM. */
static bool service_log_reserve(Service *s) {
        ServiceLog *log = s->run->log;
        unsigned n;

        if (log && (log->n < log->n_alloc || log->n_alloc == SERVICE_LOG_LINES))
                return true;
        n = log ? MIN(log->n_alloc * 2, (unsigned) SERVICE_LOG_LINES) : 4;
        log = realloc(log, sizeof *log + n * sizeof log->lines[0]);
        if (!log)
                return false;
        if (!s->run->log)
                *log = (ServiceLog) {};
        log->n_alloc = n;
        s->run->log = log;
        return true;
}

/* Keeps a line in the ring as line number seq, the oldest one making room once it is full. */
static void service_log_keep(Service *s, uint64_t seq, pid_t pid, const char *line, size_t len) {
        ServiceLog *log = s->run->log;
        ServiceLogLine *slot;
        char *copy = strndup(line, len);

        if (!copy)
                return;
        if (log->n < SERVICE_LOG_LINES)
                slot = &log->lines[(log->head + log->n++) % SERVICE_LOG_LINES];
        else {
                slot = &log->lines[log->head];
                free(slot->line);
                log->head = (log->head + 1) % SERVICE_LOG_LINES;
        }
        *slot = (ServiceLogLine) { .seq = seq, .pid = pid, .line = copy };
}

void service_log_line(Service *s, pid_t pid, const char *line, size_t len) {
        bool room = service_log_reserve(s);

        if (!s->run->log) {
                log_info("%s[%d]: %.*s", s->unit->name, (int) pid, (int) len, line);
                return;
        }
        service_log_write(s, pid, line, len);
        if (room)
                service_log_keep(s, ++s->run->log_seq, pid, line, len);
}

void service_log_restore(Service *s, uint64_t seq, pid_t pid, const char *line) {
        if (service_log_reserve(s))
                service_log_keep(s, seq, pid, line, strlen(line));
}

uint64_t service_log_foreach(const Service *s, uint64_t after, unsigned max,
                             void (*fn)(const ServiceLogLine *l, void *userdata), void *userdata) {
        const ServiceLog *log = s->run->log;

        if (!log)
                return s->run->log_seq;
        /* With max, the newest max lines after `after`. */
        if (max > 0) {
                unsigned newer = 0;
                for (unsigned i = 0; i < log->n; i++)
                        if (log->lines[(log->head + i) % SERVICE_LOG_LINES].seq > after)
                                newer++;
                if (newer > max)
                        after = log->lines[(log->head + log->n - max - 1) % SERVICE_LOG_LINES]
                                        .seq;
        }
        for (unsigned i = 0; i < log->n; i++) {
                const ServiceLogLine *l = &log->lines[(log->head + i) % SERVICE_LOG_LINES];
                if (l->seq > after)
                        fn(l, userdata);
        }
        return s->run->log_seq;
}

void service_log_done(Service *s) {
        while (s->run->streams)
                service_output_free(s->run->streams);
        if (!s->run->log)
                return;
        for (unsigned i = 0; i < s->run->log->n; i++)
                free(s->run->log->lines[(s->run->log->head + i) % SERVICE_LOG_LINES].line);
        free(s->run->log);
        s->run->log = NULL;
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

void service_output_free(OutputStream *o) {
        Service *s = o->service;

        output_flush(o, true);
        /* The stream ended: say now what the limit held back, not at some later line. */
        if (s->run->log)
                service_log_suppressed(s, ratelimit_take_suppressed(&s->run->log->limit));
        for (OutputStream **p = &s->run->streams; *p; p = &(*p)->next)
                if (*p == o) {
                        *p = o->next;
                        break;
                }
        s->run->n_streams--;
        sd_event_source_disable_unref(o->source);
        sd_event_source_disable_unref(o->resume_source);
        safe_close(o->fd);
        free(o);
}

void service_output_set_pid(OutputStream *o, pid_t pid) {
        o->pid = pid;
}

static int output_on_resume(sd_event_source *es, uint64_t usec, void *userdata) {
        OutputStream *o = userdata;
        int r = sd_event_source_set_enabled(o->source, SD_EVENT_ON);

        if (r < 0)
                log_error_errno(r, "%s: cannot watch the output of pid %d again: %m",
                                o->service->unit->name, (int) o->pid);
        return 0;
}

/* Whether the stream may read n more bytes now; if not, it rests until it may. */
static bool output_may_read(OutputStream *o, size_t n) {
        Service *s = o->service;
        usec_t now = s->ctx->ops->now(s, CLOCK_MONOTONIC);
        unsigned unused;
        int r;

        if (!s->run->log || !ratelimit_exhausted(&s->run->log->limit, now) ||
            ratelimit_below_n(&o->read_limit, now, (unsigned) n, &unused))
                return true;
        if (!o->resume_source) {
                r = sd_event_add_time(s->ctx->event, &o->resume_source, CLOCK_MONOTONIC, 0, 0,
                                      output_on_resume, o);
                if (r < 0)
                        return true; /* without the timer, read on rather than stop */
        }
        r = sd_event_source_set_time(o->resume_source, ratelimit_end(&o->read_limit));
        if (r >= 0)
                r = sd_event_source_set_enabled(o->resume_source, SD_EVENT_ONESHOT);
        if (r >= 0)
                r = sd_event_source_set_enabled(o->source, SD_EVENT_OFF);
        return r < 0;
}

static int output_on_event(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        OutputStream *o = userdata;

        /* Bounded: at most 16 reads per wakeup, so one chatty process cannot starve others. */
        for (int i = 0; i < 16; i++) {
                ssize_t n;

                if (!output_may_read(o, sizeof o->buf - o->len))
                        return 0;
                n = read(fd, o->buf + o->len, sizeof o->buf - o->len);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (n < 0)
                        log_warning_errno(errno, "%s: cannot read the output of pid %d: %m, "
                                          "ignoring",
                                          o->service->unit->name, (int) o->pid);
                if (n <= 0) {
                        /* Every writer is gone (or the pipe broke): the stream ends. */
                        service_output_free(o);
                        return 0;
                }
                o->len += n;
                output_flush(o, false);
        }
        return 0;
}

/* A stream reading fd (a pipe's read end, non-blocking, owned) for s. Returns 0 or a negative
 * errno (logged; fd is then not closed). */
static int output_stream_add(Service *s, int fd, OutputStream **ret_stream) {
        _cleanup_free_ OutputStream *o = calloc(1, sizeof *o);
        int r;

        if (!o)
                return log_oom();
        r = sd_event_add_io(s->ctx->event, &o->source, fd, EPOLLIN, output_on_event, o);
        if (r < 0)
                return log_error_errno(r, "%s: cannot watch an output pipe: %m", s->unit->name);
        /* Output is read before child exits are handled, so the last lines come first. */
        (void) sd_event_source_set_priority(o->source, SD_EVENT_PRIORITY_IMPORTANT);
        o->service = s;
        o->fd = fd;
        o->read_limit = (RateLimit) { .interval = USEC_PER_SEC,
                                      .burst = OUTPUT_HELD_BYTES_PER_SEC };
        o->next = s->run->streams;
        s->run->streams = o;
        s->run->n_streams++;
        *ret_stream = TAKE_PTR(o);
        return 0;
}

int service_output_new(Service *s, OutputStream **ret_stream) {
        const char *name = s->unit->name;
        int p[2], r;

        if (s->run->n_streams >= SERVICE_STREAMS_MAX)
                return log_error_errno(EMFILE, "%s: %u output pipes are still held open by its "
                                       "processes; not starting another",
                                       name, s->run->n_streams);
        if (!s->ctx->event)
                return log_error_errno(EINVAL, "%s: no event loop to read output with", name);
        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                return log_error_errno(errno, "%s: cannot create an output pipe: %m", name);
        /* The child's end must block: many programs do not expect EAGAIN on stdout. */
        if (fcntl(p[1], F_SETFL, 0) < 0) {
                r = -errno;
                safe_close(p[0]);
                safe_close(p[1]);
                return log_error_errno(r, "%s: cannot set up an output pipe: %m", name);
        }
        r = output_stream_add(s, p[0], ret_stream);
        if (r < 0) {
                safe_close(p[0]);
                safe_close(p[1]);
                return r;
        }
        return p[1];
}

int service_output_adopt(Service *s, int fd, pid_t pid, const char *pending, size_t len) {
        OutputStream *o;
        int r;

        if (!s->ctx->event || len > sizeof o->buf)
                return -EINVAL;
        r = output_stream_add(s, fd, &o);
        if (r < 0)
                return r;
        o->pid = pid;
        memcpy(o->buf, pending, len);
        o->len = len;
        return 0;
}

void service_output_foreach(Service *s, void (*fn)(int fd, pid_t pid, const char *pending,
                                                   size_t len, void *userdata),
                            void *userdata) {
        for (OutputStream *o = s->run->streams; o; o = o->next)
                fn(o->fd, o->pid, o->buf, o->len, userdata);
}
