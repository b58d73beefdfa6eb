/* loadgen: a small HTTP/1.0 load generator for berth's integration tests and benchmarks.
 *
 * N workers share one epoll loop in one thread. Each worker repeats: non-blocking connect, send
 * one GET (or the bytes of --send, for other protocols), read until EOF, classify the attempt
 * exactly once, close. It owns nothing but its
 * sockets, the latency samples and the counters it prints at the end.
 *
 * It talks to loopback only: the target is parsed numerically (plus "localhost"), never
 * resolved, and anything outside 127.0.0.0/8 and ::1 is refused before a socket exists.
 *
 * Everything is bounded: no attempt starts after --duration, each attempt has its own
 * --timeout (so the run ends at most --timeout after --duration), and latency samples live in
 * an array that grows geometrically up to SAMPLES_MAX, beyond which reservoir sampling keeps
 * the percentiles unbiased. Only libc; builds on its own with -I. for common/macro.h. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"

#define CONCURRENCY_MAX 100000U
#define REQUESTS_MAX 1000000000000ULL
#define DURATION_MAX (7ULL * USEC_PER_DAY)
#define TIMEOUT_MAX USEC_PER_HOUR
#define PATH_MAX_LEN 2048U
#define EXPECT_MAX_LEN 1024U
#define SEND_MAX_LEN 4096U
#define GAPS_MAX 100000U
#define SAMPLES_INITIAL 4096U
#ifndef SAMPLES_MAX /* overridable to exercise the reservoir path */
#define SAMPLES_MAX 50000000U
#endif
#define READ_BUF_SIZE (64U * 1024U)
#define EVENTS_MAX 256
#define ERRNO_SLOTS 256
#define EXIT_USAGE 2

#define _fallthrough_ __attribute__((fallthrough))

typedef enum Outcome {
        OUTCOME_OK,
        OUTCOME_REFUSED,
        OUTCOME_RESET,
        OUTCOME_TIMEOUT,
        OUTCOME_SHORT,
        OUTCOME_OTHER,
        _OUTCOME_MAX,
        _OUTCOME_INVALID = -EINVAL,
} Outcome;

static const char *const outcome_table[_OUTCOME_MAX] = {
        [OUTCOME_OK] = "ok",
        [OUTCOME_REFUSED] = "refused",
        [OUTCOME_RESET] = "reset",
        [OUTCOME_TIMEOUT] = "timeout",
        [OUTCOME_SHORT] = "short",
        [OUTCOME_OTHER] = "other",
};

typedef enum ConnState {
        CONN_IDLE,
        CONN_CONNECTING,
        CONN_SENDING,
        CONN_READING,
        _CONN_STATE_MAX,
        _CONN_STATE_INVALID = -EINVAL,
} ConnState;

typedef struct Conn Conn;
struct Conn {
        int fd;
        ConnState state;
        usec_t start;
        size_t sent;
        /* The expected substring was seen; until then the last expect_len - 1 bytes are kept in
         * tail so a match split across two reads is still found. */
        bool matched;
        size_t tail_len;
        char *tail; /* borrowed from Loadgen.tails */
        /* In-flight queue. All attempts have the same timeout, so start order is deadline
         * order and the first entry is always the next to expire. */
        Conn *prev, *next;
};

typedef struct Config {
        struct sockaddr_storage addr;
        socklen_t addr_len;
        const char *target;
        unsigned concurrency;
        usec_t duration;
        usec_t timeout;
        uint64_t requests; /* 0: no limit */
        const char *path;
        const char *expect;
        bool json;
        bool no_request; /* send nothing: connect, read until EOF (inetd-style servers) */
        const char *send; /* --send: these bytes (with escapes) instead of the GET */
        usec_t gaps_over; /* --gaps-over-ms: list every gap between oks this long; 0: none */
} Config;

typedef struct Gap {
        usec_t end; /* CLOCK_MONOTONIC when the ok that ended it came */
        usec_t length;
} Gap;

typedef struct Loadgen {
        Config cfg;
        int epoll_fd;
        char *request;
        size_t request_len;
        size_t expect_len;
        char *buf; /* expect_len - 1 bytes of carried tail, then READ_BUF_SIZE */

        Conn *conns;
        char *tails;
        Conn **idle;
        size_t n_idle;
        Conn *first, *last;
        size_t n_in_flight;

        usec_t t_start, t_end, t_finish;
        usec_t last_ok, longest_gap, longest_gap_end, max_latency;
        uint64_t started;
        uint64_t counts[_OUTCOME_MAX];
        uint64_t other_errno[ERRNO_SLOTS]; /* the last slot counts errnos beyond the table */

        Gap *gaps; /* --gaps-over-ms: the first GAPS_MAX such gaps, in order */
        size_t n_gaps;

        uint32_t *samples; /* ok latencies in µs, saturated at UINT32_MAX */
        size_t n_samples, samples_allocated;
        bool samples_capped;
        uint64_t rng;
} Loadgen;

static volatile sig_atomic_t got_signal = 0;

static void on_signal(int sig) {
        got_signal = sig;
}

static usec_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000U;
}

static const char *errno_name(int error) {
#ifdef __GLIBC__
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32)
        const char *n = strerrorname_np(error);
        if (n)
                return n;
#endif
#endif
        return "?";
}

/* xorshift64: only used to pick reservoir slots, so quality beyond uniformity is irrelevant. */
static uint64_t rng_next(uint64_t *state) {
        uint64_t x = *state;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return *state = x;
}

/* Parses a decimal number of seconds (fractions allowed) into µs within [min, max]. Returns 0,
 * -EINVAL on syntax, or -ERANGE. */
static int parse_seconds(const char *s, usec_t min, usec_t max, usec_t *ret) {
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
                return -EINVAL;
        if (v * (double) USEC_PER_SEC < (double) min || v * (double) USEC_PER_SEC > (double) max)
                return -ERANGE;
        *ret = (usec_t) (v * (double) USEC_PER_SEC + 0.5);
        return 0;
}

/* Parses a plain decimal integer (digits only) within [min, max]. */
static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret) {
        char *end;
        unsigned long long v;

        if (*s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (errno != 0 || *end != '\0')
                return -EINVAL;
        if (v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

static bool sockaddr_is_loopback(const struct sockaddr_storage *ss) {
        if (ss->ss_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) ss;
                return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        }
        if (ss->ss_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) ss;
                return IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        }
        return false;
}

/* Parses HOST:PORT where HOST is a numeric IPv4 or IPv6 address (IPv6 optionally in brackets)
 * or "localhost" (127.0.0.1). Nothing is resolved. Returns 0, -EINVAL on syntax, or -EPERM when
 * the address is not loopback. */
static int parse_target(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
        struct sockaddr_storage ss = {};
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon, *h;
        uint64_t port;
        size_t l;
        socklen_t len;
        int r;

        colon = strrchr(s, ':');
        if (!colon)
                return -EINVAL;
        r = parse_u64(colon + 1, 1, 65535, &port);
        if (r < 0)
                return -EINVAL;
        l = (size_t) (colon - s);
        if (l == 0 || l >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, l);
        host[l] = '\0';

        h = host;
        if (host[0] == '[') {
                if (l < 3 || host[l - 1] != ']')
                        return -EINVAL;
                host[l - 1] = '\0';
                h = host + 1;
        } else if (streq(host, "localhost"))
                h = "127.0.0.1";

        if (h == host + 1 || strchr(h, ':')) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
                if (inet_pton(AF_INET6, h, &in6->sin6_addr) != 1)
                        return -EINVAL;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) port);
                len = sizeof(*in6);
        } else {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;
                if (inet_pton(AF_INET, h, &in->sin_addr) != 1)
                        return -EINVAL;
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t) port);
                len = sizeof(*in);
        }
        if (!sockaddr_is_loopback(&ss))
                return -EPERM;

        *ret = ss;
        *ret_len = len;
        return 0;
}

static bool path_is_valid(const char *p) {
        if (p[0] != '/' || strlen(p) > PATH_MAX_LEN)
                return false;
        for (; *p; p++)
                if ((unsigned char) *p <= 0x20 || (unsigned char) *p >= 0x7f)
                        return false;
        return true;
}

/* Decodes --send's escapes (\r, \n, \t, \\, \xHH) into out, which has room for strlen(s)
 * bytes (decoding never grows), or only checks when out is NULL. Returns the decoded length,
 * or -EINVAL on an unknown or cut escape. */
static ssize_t unescape(const char *s, char *out) {
        size_t n = 0;

        for (; *s; s++) {
                char c = *s;

                if (c == '\\') {
                        s++;
                        switch (*s) {
                        case 'r':
                                c = '\r';
                                break;
                        case 'n':
                                c = '\n';
                                break;
                        case 't':
                                c = '\t';
                                break;
                        case '\\':
                                c = '\\';
                                break;
                        case 'x':
                                if (!isxdigit((unsigned char) s[1]) ||
                                    !isxdigit((unsigned char) s[2]))
                                        return -EINVAL;
                                c = (char) strtol((char[]) { s[1], s[2], '\0' }, NULL, 16);
                                s += 2;
                                break;
                        default:
                                return -EINVAL;
                        }
                }
                if (out)
                        out[n] = c;
                n++;
        }
        return (ssize_t) n;
}

static Loadgen *loadgen_free(Loadgen *lg) {
        if (!lg)
                return NULL;
        if (lg->conns)
                for (unsigned i = 0; i < lg->cfg.concurrency; i++)
                        lg->conns[i].fd = safe_close(lg->conns[i].fd);
        lg->epoll_fd = safe_close(lg->epoll_fd);
        free(lg->request);
        free(lg->buf);
        free(lg->conns);
        free(lg->tails);
        free(lg->idle);
        free(lg->samples);
        free(lg->gaps);
        free(lg);
        return NULL;
}

static void loadgen_freep(Loadgen **lg) {
        *lg = loadgen_free(*lg);
}

/* Allocates everything the run needs up front, except latency samples, which grow. cfg is
 * copied; its strings are borrowed and must outlive the Loadgen. */
static int loadgen_new(Loadgen **ret, const Config *cfg) {
        _cleanup_(loadgen_freep) Loadgen *lg = NULL;
        int n;

        lg = calloc(1, sizeof(*lg));
        if (!lg)
                return -ENOMEM;
        lg->cfg = *cfg;
        lg->epoll_fd = -1;
        lg->expect_len = strlen(cfg->expect);

        if (cfg->send) {
                lg->request = malloc(strlen(cfg->send) + 1);
                if (!lg->request)
                        return -ENOMEM;
                n = (int) unescape(cfg->send, lg->request); /* checked by parse_argv() */
        } else {
                n = asprintf(&lg->request, "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", cfg->path);
                if (n < 0) {
                        lg->request = NULL;
                        return -ENOMEM;
                }
        }
        lg->request_len = cfg->no_request || n < 0 ? 0 : (size_t) n;

        /* conns first, with fds marked unset, so loadgen_free() never closes fd 0. */
        lg->conns = calloc(cfg->concurrency, sizeof(Conn));
        if (!lg->conns)
                return -ENOMEM;
        for (unsigned i = 0; i < cfg->concurrency; i++)
                lg->conns[i].fd = -1;

        lg->buf = malloc(lg->expect_len - 1 + READ_BUF_SIZE);
        lg->tails = malloc((size_t) cfg->concurrency * lg->expect_len);
        lg->idle = calloc(cfg->concurrency, sizeof(Conn *));
        lg->samples = malloc(SAMPLES_INITIAL * sizeof(uint32_t));
        if (cfg->gaps_over > 0) {
                lg->gaps = calloc(GAPS_MAX, sizeof(Gap));
                if (!lg->gaps)
                        return -ENOMEM;
        }
        if (!lg->buf || !lg->tails || !lg->idle || !lg->samples)
                return -ENOMEM;
        lg->samples_allocated = SAMPLES_INITIAL;

        for (unsigned i = 0; i < cfg->concurrency; i++) {
                lg->conns[i].tail = lg->tails + (size_t) i * lg->expect_len;
                lg->idle[lg->n_idle++] = &lg->conns[i];
        }

        lg->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (lg->epoll_fd < 0)
                return -errno;

        lg->rng = 0x9e3779b97f4a7c15ULL;
        *ret = TAKE_PTR(lg);
        return 0;
}

static void queue_append(Loadgen *lg, Conn *c) {
        c->next = NULL;
        c->prev = lg->last;
        if (lg->last)
                lg->last->next = c;
        else
                lg->first = c;
        lg->last = c;
        lg->n_in_flight++;
}

static void queue_remove(Loadgen *lg, Conn *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                lg->first = c->next;
        if (c->next)
                c->next->prev = c->prev;
        else
                lg->last = c->prev;
        c->prev = c->next = NULL;
        lg->n_in_flight--;
}

static void record_ok(Loadgen *lg, usec_t latency, usec_t now) {
        uint32_t v = latency > UINT32_MAX ? UINT32_MAX : (uint32_t) latency;

        if (lg->gaps && now - lg->last_ok >= lg->cfg.gaps_over && lg->n_gaps < GAPS_MAX)
                lg->gaps[lg->n_gaps++] = (Gap) { .end = now, .length = now - lg->last_ok };
        if (now - lg->last_ok > lg->longest_gap) {
                lg->longest_gap = now - lg->last_ok;
                lg->longest_gap_end = now;
        }
        lg->last_ok = now;
        if (latency > lg->max_latency)
                lg->max_latency = latency;

        if (lg->n_samples == lg->samples_allocated && !lg->samples_capped) {
                size_t n = MIN((size_t) SAMPLES_MAX, lg->samples_allocated * 2);
                uint32_t *p = n > lg->samples_allocated ?
                        realloc(lg->samples, n * sizeof(uint32_t)) : NULL;
                if (p) {
                        lg->samples = p;
                        lg->samples_allocated = n;
                } else
                        /* At the cap, or out of memory: keep what we have and sample from
                         * now on. */
                        lg->samples_capped = true;
        }
        if (lg->n_samples < lg->samples_allocated) {
                lg->samples[lg->n_samples++] = v;
                return;
        }
        /* Reservoir sampling: the counter already includes this ok. */
        uint64_t j = rng_next(&lg->rng) % lg->counts[OUTCOME_OK];
        if (j < lg->n_samples)
                lg->samples[j] = v;
}

/* Ends an attempt: closes its socket (which also removes it from epoll), counts it exactly
 * once and puts the worker back on the idle list. */
static void conn_done(Loadgen *lg, Conn *c, Outcome o) {
        usec_t now = now_usec();

        queue_remove(lg, c);
        c->fd = safe_close(c->fd);
        c->state = CONN_IDLE;
        lg->counts[o]++;
        if (o == OUTCOME_OK)
                record_ok(lg, now - c->start, now);
        lg->idle[lg->n_idle++] = c;
}

/* Ends an attempt that failed with error in stage. Anything that is not refused or reset is
 * "other"; the first occurrence of each such errno is printed. */
static void conn_fail(Loadgen *lg, Conn *c, const char *stage, int error) {
        Outcome o;

        switch (error) {
        case ECONNREFUSED:
                o = OUTCOME_REFUSED;
                break;
        case ECONNRESET:
        case EPIPE:
                o = OUTCOME_RESET;
                break;
        default:
                o = OUTCOME_OTHER;
                size_t slot = error > 0 && error < ERRNO_SLOTS - 1 ? (size_t) error :
                                                                     ERRNO_SLOTS - 1;
                if (lg->other_errno[slot]++ == 0)
                        fprintf(stderr, "loadgen: %s: %s (%s)\n", stage, strerror(error),
                                errno_name(error));
                break;
        }
        conn_done(lg, c, o);
}

/* Feeds n freshly read bytes, which sit in lg->buf right after the carried tail. */
static void conn_feed(Loadgen *lg, Conn *c, size_t n) {
        size_t total = c->tail_len + n, keep;

        if (c->matched)
                return;
        if (memmem(lg->buf, total, lg->cfg.expect, lg->expect_len)) {
                c->matched = true;
                return;
        }
        keep = MIN(total, lg->expect_len - 1);
        memcpy(c->tail, lg->buf + total - keep, keep);
        c->tail_len = keep;
}

/* Advances an attempt as far as it goes without blocking. The socket is edge-triggered, so
 * every stage runs until EAGAIN. */
static void conn_drive(Loadgen *lg, Conn *c, uint32_t events) {
        switch (c->state) {
        case CONN_IDLE:
        case _CONN_STATE_MAX:
        case _CONN_STATE_INVALID:
                return;

        case CONN_CONNECTING: {
                int error = 0;
                socklen_t len = sizeof(error);

                if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                        return conn_fail(lg, c, "getsockopt", errno);
                if (error != 0)
                        return conn_fail(lg, c, "connect", error);
                /* Anything but writability without an error: still connecting. An error
                 * condition without SO_ERROR falls through and shows up in send(). */
                if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                        return;
                c->state = CONN_SENDING;
        }
                _fallthrough_;
        case CONN_SENDING:
                while (c->sent < lg->request_len) {
                        ssize_t n = send(c->fd, lg->request + c->sent, lg->request_len - c->sent,
                                         MSG_NOSIGNAL);
                        if (n < 0) {
                                if (errno == EAGAIN)
                                        return;
                                if (errno == EINTR)
                                        continue;
                                return conn_fail(lg, c, "send", errno);
                        }
                        c->sent += (size_t) n;
                }
                c->state = CONN_READING;
                _fallthrough_;
        case CONN_READING:
                for (;;) {
                        ssize_t n;

                        if (!c->matched)
                                memcpy(lg->buf, c->tail, c->tail_len);
                        else
                                c->tail_len = 0;
                        n = recv(c->fd, lg->buf + c->tail_len, READ_BUF_SIZE, 0);
                        if (n < 0) {
                                if (errno == EAGAIN)
                                        return;
                                if (errno == EINTR)
                                        continue;
                                return conn_fail(lg, c, "recv", errno);
                        }
                        if (n == 0)
                                return conn_done(lg, c, c->matched ? OUTCOME_OK : OUTCOME_SHORT);
                        conn_feed(lg, c, (size_t) n);
                }
        }
}

/* Starts one attempt for an idle worker. It may end synchronously (e.g. refused), in which case
 * the worker is back on the idle list when this returns. */
static void conn_start(Loadgen *lg, Conn *c) {
        const Config *cfg = &lg->cfg;
        struct epoll_event ev = {
                .events = EPOLLIN | EPOLLOUT | EPOLLET,
                .data.ptr = c,
        };
        bool in_progress = false;

        c->start = now_usec();
        c->sent = 0;
        c->matched = false;
        c->tail_len = 0;
        c->state = CONN_CONNECTING;
        lg->started++;
        queue_append(lg, c);

        c->fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return conn_fail(lg, c, "socket", errno);

        /* Connect before registering: an unconnected TCP socket polls as EPOLLHUP. */
        if (connect(c->fd, (const struct sockaddr *) &cfg->addr, cfg->addr_len) < 0) {
                if (errno != EINPROGRESS)
                        return conn_fail(lg, c, "connect", errno);
                in_progress = true;
        }
        if (epoll_ctl(lg->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
                return conn_fail(lg, c, "epoll_ctl", errno);
        if (!in_progress) {
                c->state = CONN_SENDING;
                conn_drive(lg, c, 0);
        }
}

static bool loadgen_stopping(const Loadgen *lg, usec_t now) {
        return got_signal != 0 || now >= lg->t_end ||
                (lg->cfg.requests > 0 && lg->started >= lg->cfg.requests);
}

/* Runs until the duration or request count is reached and every attempt has ended. Returns 0
 * or a negative errno if the event loop itself failed. */
static int loadgen_run(Loadgen *lg, const sigset_t *run_mask) {
        struct epoll_event events[EVENTS_MAX];

        lg->t_start = now_usec();
        lg->t_end = lg->t_start + lg->cfg.duration;
        lg->last_ok = lg->t_start;

        for (;;) {
                usec_t now = now_usec();
                bool stopping = loadgen_stopping(lg, now);
                int timeout_ms = 0, n;

                if (!stopping) {
                        /* Each idle worker gets one attempt per iteration, so attempts that
                         * fail at once cannot starve the loop; workers that become idle
                         * again wait for the next iteration. */
                        size_t k = lg->n_idle, i;
                        for (i = 0; i < k && !loadgen_stopping(lg, now); i++)
                                conn_start(lg, lg->idle[i]);
                        memmove(lg->idle, lg->idle + i, (lg->n_idle - i) * sizeof(Conn *));
                        lg->n_idle -= i;
                        now = now_usec();
                        stopping = loadgen_stopping(lg, now);
                }
                if (lg->n_in_flight == 0 && stopping)
                        break;

                if ((lg->n_idle > 0 && !stopping) || !lg->first)
                        timeout_ms = 0;
                else {
                        usec_t deadline = lg->first->start + lg->cfg.timeout;
                        /* Round up so we never wake just before the deadline and spin. */
                        timeout_ms = deadline <= now ? 0 :
                                (int) MIN((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC,
                                          (usec_t) INT32_MAX);
                }

                n = epoll_pwait(lg->epoll_fd, events, EVENTS_MAX, timeout_ms, run_mask);
                if (n < 0) {
                        if (errno != EINTR)
                                return -errno;
                        n = 0;
                }
                for (int i = 0; i < n; i++)
                        conn_drive(lg, events[i].data.ptr, events[i].events);

                now = now_usec();
                while (lg->first && lg->first->start + lg->cfg.timeout <= now)
                        conn_done(lg, lg->first, OUTCOME_TIMEOUT);
        }

        lg->t_finish = now_usec();
        return 0;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return (x > y) - (x < y);
}

/* Nearest-rank percentile of the sorted samples, in µs. n must be > 0. */
static uint32_t percentile(const uint32_t *sorted, size_t n, unsigned pct) {
        size_t rank = (size_t) (((uint64_t) n * pct + 99) / 100);
        return sorted[rank > 0 ? rank - 1 : 0];
}

/* Formats µs as milliseconds, or none when there is no value. */
static const char *fmt_ms(char *buf, size_t size, usec_t v, bool valid, const char *none) {
        if (!valid)
                snprintf(buf, size, "%s", none);
        else
                snprintf(buf, size, "%.3f", (double) v / (double) USEC_PER_MSEC);
        return buf;
}

static void loadgen_report(Loadgen *lg) {
        const uint64_t *c = lg->counts;
        uint64_t total = 0;
        usec_t p50 = 0, p99 = 0, elapsed = lg->t_finish - lg->t_start;
        usec_t gap = lg->longest_gap, gap_end = lg->longest_gap_end;
        bool have_ok = lg->n_samples > 0;
        double secs = (double) elapsed / (double) USEC_PER_SEC;
        double rps = secs > 0 ? (double) c[OUTCOME_OK] / secs : 0;
        char b50[32], b99[32], bmax[32], bgap[32];
        FILE *human = lg->cfg.json ? stderr : stdout;

        for (int i = 0; i < _OUTCOME_MAX; i++)
                total += c[i];
        if (have_ok) {
                qsort(lg->samples, lg->n_samples, sizeof(uint32_t), cmp_u32);
                p50 = percentile(lg->samples, lg->n_samples, 50);
                p99 = percentile(lg->samples, lg->n_samples, 99);
        } else {
                /* Without any ok the whole run is one gap. */
                gap = elapsed;
                gap_end = lg->t_finish;
        }

        fprintf(human, "loadgen: %s, concurrency %u, %.3f s, %" PRIu64 " attempts, %.1f ok/s\n",
                lg->cfg.target, lg->cfg.concurrency, secs, total, rps);
        fprintf(human, "  ");
        for (int i = 0; i < _OUTCOME_MAX; i++)
                fprintf(human, "%s%s %" PRIu64, i > 0 ? "  " : "", outcome_table[i], c[i]);
        fprintf(human, "\n");
        fprintf(human, "  latency ms: p50 %s  p99 %s%s  max %s  longest gap between oks %s ms\n",
                fmt_ms(b50, sizeof(b50), p50, have_ok, "-"),
                fmt_ms(b99, sizeof(b99), p99, have_ok, "-"),
                lg->samples_capped ? " (sampled)" : "",
                fmt_ms(bmax, sizeof(bmax), lg->max_latency, have_ok, "-"),
                fmt_ms(bgap, sizeof(bgap), gap, true, "-"));
        if (c[OUTCOME_OTHER] > 0) {
                fprintf(human, "  other:");
                for (int e = 1; e < ERRNO_SLOTS; e++)
                        if (lg->other_errno[e] > 0) {
                                if (e == ERRNO_SLOTS - 1)
                                        fprintf(human, " errno>=%d", e);
                                else
                                        fprintf(human, " %s", errno_name(e));
                                fprintf(human, " x%" PRIu64, lg->other_errno[e]);
                        }
                fprintf(human, "\n");
        }

        if (lg->cfg.json) {
                printf("{\"ok\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"reset\":%" PRIu64
                       ",\"timeout\":%" PRIu64 ",\"short\":%" PRIu64 ",\"other\":%" PRIu64
                       ",\"total\":%" PRIu64 ",\"p50_ms\":%s,\"p99_ms\":%s,\"max_ms\":%s"
                       ",\"longest_gap_ms\":%s,\"longest_gap_end_monotonic_s\":%.6f"
                       ",\"duration_s\":%.6f,\"rps\":%.3f",
                       c[OUTCOME_OK], c[OUTCOME_REFUSED], c[OUTCOME_RESET], c[OUTCOME_TIMEOUT],
                       c[OUTCOME_SHORT], c[OUTCOME_OTHER], total,
                       fmt_ms(b50, sizeof(b50), p50, have_ok, "null"),
                       fmt_ms(b99, sizeof(b99), p99, have_ok, "null"),
                       fmt_ms(bmax, sizeof(bmax), lg->max_latency, have_ok, "null"),
                       fmt_ms(bgap, sizeof(bgap), gap, true, "null"),
                       (double) gap_end / (double) USEC_PER_SEC, secs, rps);
        }
        if (lg->cfg.json && lg->gaps) {
                /* [end (CLOCK_MONOTONIC, s), length (ms)] */
                printf(",\"gaps\":[");
                for (size_t i = 0; i < lg->n_gaps; i++)
                        printf("%s[%.6f,%.3f]", i > 0 ? "," : "",
                               (double) lg->gaps[i].end / (double) USEC_PER_SEC,
                               (double) lg->gaps[i].length / (double) USEC_PER_MSEC);
                printf("]");
        }
        if (lg->cfg.json)
                printf("}\n");
        fflush(stdout);
}

static bool loadgen_all_ok(const Loadgen *lg) {
        uint64_t total = 0;

        for (int i = 0; i < _OUTCOME_MAX; i++)
                total += lg->counts[i];
        return total > 0 && total == lg->counts[OUTCOME_OK];
}

static void help(FILE *f) {
        fprintf(f,
                "Usage: loadgen --connect HOST:PORT [OPTIONS]\n"
                "HTTP/1.0 load generator for loopback targets (127.0.0.0/8, ::1, localhost).\n"
                "\n"
                "  --connect HOST:PORT   127.0.0.1:80, [::1]:80, ::1:80 or localhost:80\n"
                "  --concurrency N       parallel workers (default 4)\n"
                "  --duration SEC        start no attempt after SEC seconds (default 5)\n"
                "  --requests N          start no more than N attempts in total\n"
                "  --timeout SEC         per-attempt limit, connect to EOF (default 5)\n"
                "  --path PATH           request path (default /)\n"
                "  --expect STRING       an ok reply contains STRING (default \"200 OK\")\n"
                "  --json                one JSON line on stdout; the summary goes to stderr\n"
                "  --gaps-over-ms N      with --json: list every gap between two oks of N ms\n"
                "                        or more (\"gaps\": [[end, ms], ...], end in seconds of\n"
                "                        CLOCK_MONOTONIC; the first 100000)\n"
                "  --no-request          send nothing: connect, read until EOF, close (for\n"
                "                        servers that write a reply and exit, inetd style)\n"
                "  --send STRING         send STRING instead of a GET, then read until EOF\n"
                "                        (escapes \\r \\n \\t \\\\ \\xHH; e.g. for redis:\n"
                "                        --send 'PING\\r\\nQUIT\\r\\n' --expect +PONG)\n"
                "\n"
                "Exit status: 0 if every attempt was ok, 1 otherwise, 2 on usage errors.\n");
}

/* Raises the soft fd limit if the workers need more. */
static int ensure_fd_limit(unsigned concurrency) {
        struct rlimit rl;
        rlim_t need = (rlim_t) concurrency + 32;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
                if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need)
                        return -EMFILE;
                rl.rlim_cur = need;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                        return -errno;
        }
        return 0;
}

static int parse_argv(int argc, char *argv[], Config *cfg) {
        enum {
                ARG_CONNECT = 0x100,
                ARG_CONCURRENCY,
                ARG_DURATION,
                ARG_REQUESTS,
                ARG_TIMEOUT,
                ARG_PATH,
                ARG_EXPECT,
                ARG_JSON,
                ARG_NO_REQUEST,
                ARG_SEND,
                ARG_GAPS_OVER_MS,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "connect", required_argument, NULL, ARG_CONNECT },
                { "concurrency", required_argument, NULL, ARG_CONCURRENCY },
                { "duration", required_argument, NULL, ARG_DURATION },
                { "requests", required_argument, NULL, ARG_REQUESTS },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "path", required_argument, NULL, ARG_PATH },
                { "expect", required_argument, NULL, ARG_EXPECT },
                { "json", no_argument, NULL, ARG_JSON },
                { "no-request", no_argument, NULL, ARG_NO_REQUEST },
                { "send", required_argument, NULL, ARG_SEND },
                { "gaps-over-ms", required_argument, NULL, ARG_GAPS_OVER_MS },
                {}
        };
        bool path_set = false;
        uint64_t u;
        int c, r;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help(stdout);
                        return 0;
                case ARG_CONNECT:
                        r = parse_target(optarg, &cfg->addr, &cfg->addr_len);
                        if (r == -EPERM) {
                                fprintf(stderr, "loadgen: refusing non-loopback target '%s': "
                                        "only 127.0.0.0/8 and ::1 are allowed\n", optarg);
                                return -EPERM;
                        }
                        if (r < 0) {
                                fprintf(stderr, "loadgen: invalid --connect '%s': expected "
                                        "HOST:PORT with HOST 127.x.y.z, ::1, [::1] or "
                                        "localhost\n", optarg);
                                return r;
                        }
                        cfg->target = optarg;
                        break;
                case ARG_CONCURRENCY:
                        if (parse_u64(optarg, 1, CONCURRENCY_MAX, &u) < 0) {
                                fprintf(stderr, "loadgen: invalid --concurrency '%s' (1..%u)\n",
                                        optarg, CONCURRENCY_MAX);
                                return -EINVAL;
                        }
                        cfg->concurrency = (unsigned) u;
                        break;
                case ARG_DURATION:
                        if (parse_seconds(optarg, 1, DURATION_MAX, &cfg->duration) < 0) {
                                fprintf(stderr, "loadgen: invalid --duration '%s' "
                                        "(seconds, > 0, at most a week)\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_REQUESTS:
                        if (parse_u64(optarg, 1, REQUESTS_MAX, &cfg->requests) < 0) {
                                fprintf(stderr, "loadgen: invalid --requests '%s'\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_TIMEOUT:
                        if (parse_seconds(optarg, 1, TIMEOUT_MAX, &cfg->timeout) < 0) {
                                fprintf(stderr, "loadgen: invalid --timeout '%s' "
                                        "(seconds, > 0, at most an hour)\n", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_PATH:
                        if (!path_is_valid(optarg)) {
                                fprintf(stderr, "loadgen: invalid --path '%s': must start with "
                                        "'/' and contain only printable non-space ASCII\n",
                                        optarg);
                                return -EINVAL;
                        }
                        cfg->path = optarg;
                        path_set = true;
                        break;
                case ARG_EXPECT:
                        if (optarg[0] == '\0' || strlen(optarg) > EXPECT_MAX_LEN) {
                                fprintf(stderr, "loadgen: --expect must be 1..%u bytes\n",
                                        EXPECT_MAX_LEN);
                                return -EINVAL;
                        }
                        cfg->expect = optarg;
                        break;
                case ARG_NO_REQUEST:
                        cfg->no_request = true;
                        break;
                case ARG_SEND: {
                        ssize_t n = unescape(optarg, NULL);

                        if (n <= 0 || (size_t) n > SEND_MAX_LEN) {
                                fprintf(stderr, "loadgen: invalid --send '%s': 1..%u bytes, "
                                        "escapes \\r \\n \\t \\\\ \\xHH\n", optarg,
                                        SEND_MAX_LEN);
                                return -EINVAL;
                        }
                        cfg->send = optarg;
                        break;
                }
                case ARG_GAPS_OVER_MS:
                        if (parse_u64(optarg, 1, 3600000, &u) < 0) {
                                fprintf(stderr, "loadgen: invalid --gaps-over-ms '%s' "
                                        "(1..3600000)\n", optarg);
                                return -EINVAL;
                        }
                        cfg->gaps_over = u * USEC_PER_MSEC;
                        break;
                case ARG_JSON:
                        cfg->json = true;
                        break;
                default:
                        return -EINVAL;
                }

        if (optind < argc) {
                fprintf(stderr, "loadgen: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        if (!cfg->target) {
                fprintf(stderr, "loadgen: --connect HOST:PORT is required\n");
                return -EINVAL;
        }
        if (cfg->send && (cfg->no_request || path_set)) {
                fprintf(stderr, "loadgen: --send replaces the GET: it goes with neither "
                        "--no-request nor --path\n");
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(loadgen_freep) Loadgen *lg = NULL;
        Config cfg = {
                .concurrency = 4,
                .duration = 5 * USEC_PER_SEC,
                .timeout = 5 * USEC_PER_SEC,
                .path = "/",
                .expect = "200 OK",
        };
        struct sigaction sa = { .sa_handler = on_signal };
        sigset_t block, run_mask;
        int r;

        r = parse_argv(argc, argv, &cfg);
        if (r <= 0) {
                if (r < 0)
                        fprintf(stderr, "Try 'loadgen --help'.\n");
                return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
        }

        r = ensure_fd_limit(cfg.concurrency);
        if (r < 0) {
                fprintf(stderr, "loadgen: cannot raise the fd limit for %u workers: %s\n",
                        cfg.concurrency, strerror(-r));
                return EXIT_USAGE;
        }

        /* SIGINT/SIGTERM stop new attempts; in-flight ones finish and the summary is printed.
         * They are blocked except inside epoll_pwait(), so none is lost between checks. The
         * handler resets itself, so a second signal kills. */
        sa.sa_flags = SA_RESETHAND;
        sigemptyset(&sa.sa_mask);
        sigemptyset(&block);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &block, &run_mask) < 0 ||
            sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) {
                fprintf(stderr, "loadgen: cannot set up signals: %m\n");
                return EXIT_FAILURE;
        }
        sigdelset(&run_mask, SIGINT);
        sigdelset(&run_mask, SIGTERM);
        (void) signal(SIGPIPE, SIG_IGN);

        r = loadgen_new(&lg, &cfg);
        if (r < 0) {
                fprintf(stderr, "loadgen: setup failed: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        r = loadgen_run(lg, &run_mask);
        if (r < 0) {
                fprintf(stderr, "loadgen: event loop failed: %s\n", strerror(-r));
                return EXIT_FAILURE;
        }

        loadgen_report(lg);
        return loadgen_all_ok(lg) ? EXIT_SUCCESS : EXIT_FAILURE;
}
