/* bench-server: the one tiny HTTP server every scenario of bench/restart-gap runs, so that only
 * the restart mechanism differs between them.
 *
 * It answers every request with "HTTP/1.0 200 OK" and closes. It serves on every stream socket
 * it is handed through LISTEN_FDS; without LISTEN_FDS it binds --bind 127.0.0.1:PORT itself
 * (SO_REUSEADDR), after the start delay, as a server that loads before it listens would.
 * --ready-delay-ms N (or $BENCH_READY_DELAY_MS) sleeps N ms before serving, to simulate a slow
 * start; then READY=1 goes to $NOTIFY_SOCKET if it is set. --ready-once FILE sends READY=1 only
 * from the process that creates FILE: a later start with the same FILE serves but never says it
 * is ready, as an overlap successor whose handover fails (tests/integration/handover-failed.py).
 * SIGTERM or SIGINT is graceful: it stops accepting (closes its listeners), finishes the
 * requests it has accepted, and exits 0.
 * Connections still in the kernel's queue stay there: with a held socket the next process
 * serves them; with a socket of its own they are reset when it closes, as in real life.
 *
 * One thread, one epoll loop, non-blocking everything. Bounded: at most CONN_MAX connections at
 * once (accepting pauses at the cap), requests are read into a fixed buffer, and a stop waits
 * at most DRAIN_TIMEOUT_MS for what is in flight. Loopback only: --bind takes 127.x.y.z. */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "common/macro.h"

#define LISTENERS_MAX 64
#define CONN_MAX 1024U
#define REQUEST_MAX 2048U
#define READY_DELAY_MAX_MS 600000U
#define DRAIN_TIMEOUT_MS 5000
#define EVENTS_MAX 64
#define ACCEPT_BURST 64

static const char RESPONSE[] =
        "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n"
        "Connection: close\r\n\r\nok\n";

typedef enum Kind {
        KIND_LISTENER,
        KIND_SIGNAL,
        KIND_CONN,
} Kind;

/* Every epoll registration points at one of these, so the loop knows what woke it. */
typedef struct Source {
        Kind kind;
        int fd;
} Source;

typedef struct Conn {
        Source source; /* first, so a Source * from epoll is the Conn * */
        bool writing;
        size_t len;     /* bytes of request read */
        size_t written; /* bytes of RESPONSE sent */
        struct Conn *prev, *next;
        char buf[REQUEST_MAX];
} Conn;

typedef struct Server {
        int epoll_fd;
        Source signal;
        Source listeners[LISTENERS_MAX];
        size_t n_listeners;
        Conn *conns; /* every open connection, so none outlives a bounded drain */
        unsigned n_conns;
        bool paused;   /* listeners out of epoll because n_conns hit CONN_MAX */
        bool stopping; /* SIGTERM seen: listeners closed, draining */
        uint64_t served;
} Server;

static uint64_t now_msec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000U + (uint64_t) ts.tv_nsec / 1000000U;
}

static int set_nonblock(int fd) {
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0)
                return -errno;
        if ((flags & O_NONBLOCK) == 0 && fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

static int epoll_add(Server *s, Source *src, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = src };

        return epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, src->fd, &ev) < 0 ? -errno : 0;
}

static void listeners_watch(Server *s, bool on) {
        for (size_t i = 0; i < s->n_listeners; i++) {
                if (on)
                        (void) epoll_add(s, &s->listeners[i], EPOLLIN);
                else
                        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, s->listeners[i].fd, NULL);
        }
}

/* Stops accepting for good. Our copy of a handed-over socket is closed; the supervisor keeps
 * its own, so the queue survives. A socket of our own closes, and its queue is reset. */
static void server_stop_accepting(Server *s) {
        if (s->stopping)
                return;
        s->stopping = true;
        if (!s->paused)
                listeners_watch(s, false);
        for (size_t i = 0; i < s->n_listeners; i++)
                s->listeners[i].fd = safe_close(s->listeners[i].fd);
        s->n_listeners = 0;
}

static void conn_free(Server *s, Conn *c) {
        c->source.fd = safe_close(c->source.fd); /* also leaves epoll */
        if (c->prev)
                c->prev->next = c->next;
        else
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        free(c);
        s->n_conns--;
        if (s->paused && !s->stopping && s->n_conns < CONN_MAX) {
                s->paused = false;
                listeners_watch(s, true);
        }
}

/* Sends what is left of the response; frees c when it is done or the peer is gone. */
static void conn_write(Server *s, Conn *c) {
        while (c->written < sizeof(RESPONSE) - 1) {
                ssize_t n = send(c->source.fd, RESPONSE + c->written,
                                 sizeof(RESPONSE) - 1 - c->written, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN) {
                        if (!c->writing) {
                                struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
                                c->writing = true;
                                if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, c->source.fd, &ev) < 0)
                                        break;
                        }
                        return;
                }
                if (n <= 0)
                        break;
                c->written += (size_t) n;
        }
        if (c->written == sizeof(RESPONSE) - 1)
                s->served++;
        conn_free(s, c);
}

/* Reads until the end of the request head (or EOF, or a full buffer), then answers. */
static void conn_read(Server *s, Conn *c) {
        for (;;) {
                ssize_t n = recv(c->source.fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        conn_free(s, c);
                        return;
                }
                c->len += (size_t) n;
                c->buf[c->len] = '\0';
                if (n == 0 || strstr(c->buf, "\r\n\r\n") || strstr(c->buf, "\n\n") ||
                    c->len == sizeof(c->buf) - 1)
                        break;
        }
        conn_write(s, c);
}

static void listener_accept(Server *s, Source *l) {
        /* Another process may share this socket (an overlap handover), and the supervisor
         * clears O_NONBLOCK on it for each process it starts: set it again before accepting,
         * so that losing a race for a connection returns EAGAIN instead of blocking. */
        (void) set_nonblock(l->fd);

        for (unsigned i = 0; i < ACCEPT_BURST; i++) {
                if (s->n_conns >= CONN_MAX) {
                        s->paused = true;
                        listeners_watch(s, false);
                        return;
                }
                int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        if (errno != EAGAIN)
                                fprintf(stderr, "bench-server: accept: %m\n");
                        return;
                }
                Conn *c = calloc(1, sizeof(Conn));
                if (!c) {
                        safe_close(fd);
                        return;
                }
                c->source = (Source) { .kind = KIND_CONN, .fd = fd };
                c->next = s->conns;
                if (s->conns)
                        s->conns->prev = c;
                s->conns = c;
                s->n_conns++;
                if (epoll_add(s, &c->source, EPOLLIN) < 0) {
                        conn_free(s, c);
                        continue;
                }
                /* The request is usually there already: answer without another wakeup. */
                conn_read(s, c);
        }
}

static void signal_read(Server *s) {
        struct signalfd_siginfo si;

        while (read(s->signal.fd, &si, sizeof(si)) == (ssize_t) sizeof(si))
                if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                        server_stop_accepting(s);
}

/* Sleeps ms milliseconds unless a stop signal arrives first. Returns true if it did. */
static bool delay_or_stop(Server *s, unsigned ms) {
        uint64_t end = now_msec() + ms;

        for (;;) {
                uint64_t now = now_msec();
                struct epoll_event ev;
                if (now >= end)
                        return false;
                int n = epoll_wait(s->epoll_fd, &ev, 1, (int) MIN(end - now, (uint64_t) INT32_MAX));
                if (n > 0) {
                        signal_read(s);
                        if (s->stopping)
                                return true;
                }
        }
}

/* Parses 127.x.y.z:PORT. Loopback only: this server exists for benchmarks on this machine. */
static int parse_bind(const char *arg, struct sockaddr_in *ret) {
        char host[INET_ADDRSTRLEN];
        const char *colon = strrchr(arg, ':');
        char *end;
        unsigned long port;
        struct sockaddr_in sa = { .sin_family = AF_INET };

        if (!colon || (size_t) (colon - arg) >= sizeof(host))
                return -EINVAL;
        memcpy(host, arg, (size_t) (colon - arg));
        host[colon - arg] = '\0';
        errno = 0;
        port = strtoul(colon + 1, &end, 10);
        if (errno != 0 || end == colon + 1 || *end != '\0' || port > 65535)
                return -EINVAL;
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
                return -EINVAL;
        if ((ntohl(sa.sin_addr.s_addr) >> 24) != 127)
                return -EPERM;
        sa.sin_port = htons((uint16_t) port);
        *ret = sa;
        return 0;
}

static int parse_ms(const char *arg, unsigned *ret) {
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(arg, &end, 10);
        if (errno != 0 || end == arg || *end != '\0' || v > READY_DELAY_MAX_MS)
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

static int bind_own(Server *s, const struct sockaddr_in *sa) {
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;

        if (fd < 0)
                return -errno;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
                return -errno;
        if (bind(fd, (const struct sockaddr *) sa, sizeof(*sa)) < 0)
                return -errno;
        if (listen(fd, SOMAXCONN) < 0)
                return -errno;
        s->listeners[s->n_listeners++] = (Source) { .kind = KIND_LISTENER, .fd = TAKE_FD(fd) };
        return 0;
}

/* --ready-once: 1 if this process creates path (it sends READY=1), 0 if an earlier process did
 * (it never does), or a negative errno. */
static int ready_once(const char *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        safe_close(fd);
        return 1;
}

/* Takes every LISTEN_FDS stream listener. Returns how many, or a negative errno. */
static int take_listen_fds(Server *s) {
        int n = sd_listen_fds(true);

        if (n < 0)
                return n;
        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
                if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
                        fprintf(stderr, "bench-server: fd %d is not a listening stream socket, "
                                "ignoring\n", fd);
                        continue;
                }
                if (s->n_listeners == LISTENERS_MAX) {
                        fprintf(stderr, "bench-server: more than %d sockets, ignoring fd %d\n",
                                LISTENERS_MAX, fd);
                        continue;
                }
                (void) fcntl(fd, F_SETFD, FD_CLOEXEC);
                (void) set_nonblock(fd);
                s->listeners[s->n_listeners++] = (Source) { .kind = KIND_LISTENER, .fd = fd };
        }
        return (int) s->n_listeners;
}

static void help(void) {
        printf("Usage: bench-server [--bind 127.0.0.1:PORT] [--ready-delay-ms N] "
               "[--ready-once FILE]\n"
               "Answers HTTP/1.0 200 OK on every LISTEN_FDS stream socket, or binds --bind.\n"
               "  --bind ADDR:PORT      bind this loopback address when LISTEN_FDS is not set\n"
               "  --ready-delay-ms N    wait N ms before serving and READY=1 (default\n"
               "                        $BENCH_READY_DELAY_MS, else 0)\n"
               "  --ready-once FILE     send READY=1 only if this process creates FILE; a later\n"
               "                        start serves without ever sending it\n"
               "  --no-notify           never send READY=1, as a program that does not know\n"
               "                        sd_notify (ReadyOn=accept says it for it)\n"
               "SIGTERM/SIGINT: stop accepting, finish accepted requests, exit 0.\n");
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "bind", required_argument, NULL, 'b' },
                { "ready-delay-ms", required_argument, NULL, 'd' },
                { "ready-once", required_argument, NULL, 'o' },
                { "no-notify", no_argument, NULL, 'n' },
                {}
        };
        Server s = { .epoll_fd = -1, .signal = { .kind = KIND_SIGNAL, .fd = -1 } };
        struct sockaddr_in bind_addr;
        bool have_bind = false;
        unsigned delay_ms = 0;
        const char *env_delay = getenv("BENCH_READY_DELAY_MS");
        const char *ready_file = NULL;
        bool notify = true;
        sigset_t mask;
        uint64_t deadline = 0;
        int c, r;

        if (env_delay && parse_ms(env_delay, &delay_ms) < 0) {
                fprintf(stderr, "bench-server: invalid $BENCH_READY_DELAY_MS '%s'\n", env_delay);
                return 2;
        }
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'b':
                        r = parse_bind(optarg, &bind_addr);
                        if (r < 0) {
                                fprintf(stderr, "bench-server: invalid --bind '%s': expected "
                                        "127.x.y.z:PORT%s\n", optarg,
                                        r == -EPERM ? " (loopback only)" : "");
                                return 2;
                        }
                        have_bind = true;
                        break;
                case 'd':
                        if (parse_ms(optarg, &delay_ms) < 0) {
                                fprintf(stderr, "bench-server: invalid --ready-delay-ms '%s' "
                                        "(0..%u)\n", optarg, READY_DELAY_MAX_MS);
                                return 2;
                        }
                        break;
                case 'o':
                        ready_file = optarg;
                        break;
                case 'n':
                        notify = false;
                        break;
                default:
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "bench-server: unexpected argument '%s'\n", argv[optind]);
                return 2;
        }

        /* Signals arrive through a signalfd only, from before anything can block. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) {
                fprintf(stderr, "bench-server: sigprocmask: %m\n");
                return 1;
        }
        s.signal.fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
        s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (s.signal.fd < 0 || s.epoll_fd < 0 || epoll_add(&s, &s.signal, EPOLLIN) < 0) {
                fprintf(stderr, "bench-server: setup: %m\n");
                return 1;
        }

        r = take_listen_fds(&s);
        if (r < 0) {
                fprintf(stderr, "bench-server: LISTEN_FDS: %s\n", strerror(-r));
                return 1;
        }
        if (r == 0 && !have_bind) {
                fprintf(stderr, "bench-server: no LISTEN_FDS stream socket and no --bind\n");
                return 2;
        }

        if (delay_or_stop(&s, delay_ms))
                return 0;
        if (s.n_listeners == 0) {
                r = bind_own(&s, &bind_addr);
                if (r < 0) {
                        fprintf(stderr, "bench-server: cannot bind --bind: %s\n", strerror(-r));
                        return 1;
                }
        }
        listeners_watch(&s, true);
        r = ready_file ? ready_once(ready_file) : 1;
        if (r < 0) {
                fprintf(stderr, "bench-server: cannot create --ready-once '%s': %s\n",
                        ready_file, strerror(-r));
                return 1;
        }
        if (r == 0)
                fprintf(stderr, "bench-server: serving, never ready ('%s' exists)\n", ready_file);
        else if (notify) {
                r = sd_notify(false, "READY=1");
                if (r < 0)
                        fprintf(stderr, "bench-server: sd_notify: %s, ignoring\n", strerror(-r));
        }

        for (;;) {
                struct epoll_event events[EVENTS_MAX];
                int timeout = -1, n;

                if (s.stopping) {
                        uint64_t now = now_msec();
                        if (deadline == 0)
                                deadline = now + DRAIN_TIMEOUT_MS;
                        if (s.n_conns == 0)
                                break;
                        if (now >= deadline) {
                                fprintf(stderr, "bench-server: %u requests unfinished after "
                                        "%d ms, exiting\n", s.n_conns, DRAIN_TIMEOUT_MS);
                                break;
                        }
                        timeout = (int) (deadline - now);
                }
                n = epoll_wait(s.epoll_fd, events, EVENTS_MAX, timeout);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "bench-server: epoll_wait: %m\n");
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        Source *src = events[i].data.ptr;
                        switch (src->kind) {
                        case KIND_LISTENER:
                                if (!s.stopping)
                                        listener_accept(&s, src);
                                break;
                        case KIND_SIGNAL:
                                signal_read(&s);
                                break;
                        case KIND_CONN: {
                                Conn *conn = (Conn *) src;
                                if (conn->writing)
                                        conn_write(&s, conn);
                                else
                                        conn_read(&s, conn);
                                break;
                        }
                        }
                }
        }
        /* Stopping with requests still unfinished exits anyway; the drain above is bounded. */
        while (s.conns)
                conn_free(&s, s.conns);
        fprintf(stderr, "bench-server: stopped after %" PRIu64 " requests\n", s.served);
        return 0;
}
