/* control-bus: the transport of berthd's control interface (common/control-interface.h),
 * served peer to peer on RUNTIME/control the way PID 1 serves /run/systemd/private: one sd-bus
 * server connection per accepted client, no bus daemon. Owns the listening socket, the
 * clients and the calls waiting for an outcome; the methods are in control-methods.c. Every
 * call is answered before its handler returns, or through a ControlPending, so nothing here
 * keeps a pointer into the manager between calls, and a daemon-reload cannot leave one
 * dangling.
 *
 * Authorization uses the peer's SO_PEERCRED, read once at accept(): the uid that connected,
 * which a client can neither forge in a message nor change by exec'ing something else after
 * connecting (a pid looked up in /proc at call time could be).
 *
 * Clients are never freed inside an sd-bus callback: a client that goes (disconnect, protocol
 * error, timeout, unread replies) is marked dead, and a defer source frees it on the next
 * loop iteration, outside sd-bus.
 *
 * Caps on what clients control: BERTH_CONTROL_CLIENTS_MAX connections, of which unprivileged
 * peers may hold all but CONTROL_CLIENTS_RESERVED (root can always get in) and one
 * unprivileged uid at most CONTROL_CLIENTS_PER_UID_MAX; CONTROL_AUTH_TIMEOUT_USEC to
 * authenticate; CONTROL_WQUEUE_MAX unread replies; unit names of UNIT_NAME_MAX bytes; replies
 * of BERTH_CONTROL_MESSAGE_MAX. sd-bus drops a connection that sends garbage or a malformed
 * message, but bounds what a client sends only at its own limit of 128 MiB per message, which
 * it buffers whole before any handler can look at it. So sd-bus never reads a client's socket:
 * berthd reads it, passes the bytes through the gate (control-gate.h), which drops a
 * connection whose message claims more than BERTH_CONTROL_MESSAGE_MAX, and writes what passed
 * into a socket pair that sd-bus reads. Replies go straight to the client. */
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "common/control-interface.h"
#include "common/log.h"
#include "common/ratelimit.h"
#include "common/time-util.h"
#include "daemon/control-bus.h"
#include "daemon/control.h"
#include "daemon/manager.h"

bool control_uid_is_privileged(uid_t uid) {
        return uid == 0 || uid == geteuid();
}

/* Logs what a client made berthd do to it (refused, dropped), at most
 * CONTROL_REFUSAL_LOG_BURST lines per CONTROL_REFUSAL_LOG_USEC, so a client that connects in
 * a loop cannot flood the log. what is a sentence without its full stop. */
static void control_log_limited(Control *c, const char *what) {
        unsigned suppressed = 0;

        if (!ratelimit_below(&c->refusal_log, time_now(CLOCK_MONOTONIC), &suppressed))
                return;
        if (suppressed > 0)
                log_warning("%u more control connections were refused or dropped and not "
                            "logged.", suppressed);
        log_warning("%s.", what);
}

static void control_log_refusal(Control *c, const struct ucred *uc, const char *why) {
        char what[512];

        snprintf(what, sizeof what, "Refused a control connection from uid %u (pid %d): %s",
                 (unsigned) uc->uid, (int) uc->pid, why);
        control_log_limited(c, what);
}

/* ---- pending calls ---- */

ControlPending *control_pending_new(ControlClient *cl, sd_bus_message *call) {
        ControlPending *p = calloc(1, sizeof *p);
        Control *c = cl->control;

        if (!p)
                return NULL;
        *p = (ControlPending) { .control = c, .client = cl, .call = sd_bus_message_ref(call),
                                .next = c->pending };
        if (c->pending)
                c->pending->prev = p;
        c->pending = p;
        return p;
}

ControlPending *control_pending_free(ControlPending *p) {
        if (!p)
                return NULL;
        if (p->control) {
                if (p->prev)
                        p->prev->next = p->next;
                else
                        p->control->pending = p->next;
                if (p->next)
                        p->next->prev = p->prev;
        }
        sd_bus_message_unref(p->call);
        free(p);
        return NULL;
}

/* Its client is gone: nobody to answer. The call's message holds the bus: let it go too. */
static void control_pending_forget_client(ControlPending *p) {
        p->client = NULL;
        p->call = sd_bus_message_unref(p->call);
}

/* ---- clients ---- */

static ControlClient *control_client_free(ControlClient *cl) {
        if (!cl)
                return NULL;
        for (ControlPending *p = cl->control->pending; p; p = p->next)
                if (p->client == cl)
                        control_pending_forget_client(p);
        sd_event_source_disable_unref(cl->timer_source);
        sd_event_source_disable_unref(cl->in_source);
        sd_event_source_disable_unref(cl->out_source);
        /* Closed, never flushed: a client that does not read must not block berthd. */
        sd_bus_close_unref(cl->bus);
        safe_close(cl->fd);
        safe_close(cl->gate_fd);
        free(cl->groups);
        free(cl);
        return NULL;
}

/* Marks a client for freeing on the next loop iteration; safe inside its sd-bus callbacks. */
static void control_client_kill(ControlClient *cl) {
        if (cl->dead)
                return;
        cl->dead = true;
        (void) sd_event_source_set_enabled(cl->control->reap_source, SD_EVENT_ONESHOT);
}

/* Restarts the idle timeout of an authenticated client. */
static void control_client_touch(ControlClient *cl) {
        int r = sd_event_source_set_time_relative(cl->timer_source, CONTROL_IDLE_TIMEOUT_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(cl->timer_source, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "Control client %" PRIu64 ": cannot arm its idle timeout: "
                                "%m, ignoring", cl->number);
}

static int control_on_reap(sd_event_source *s, void *userdata) {
        Control *c = userdata;

        for (size_t i = 0; i < c->n_clients;) {
                ControlClient *cl = c->clients[i];

                if (!cl->dead) {
                        i++;
                        continue;
                }
                log_debug("Control client %" PRIu64 " (uid %u, pid %d) is gone.", cl->number,
                          (unsigned) cl->ucred.uid, (int) cl->ucred.pid);
                c->clients[i] = c->clients[--c->n_clients];
                control_client_free(cl);
        }
        return 0;
}

/* Whether no live client has an answer still queued: sd-bus frees one once it is written. */
static bool control_replies_written(const Control *c) {
        for (size_t i = 0; i < c->n_clients; i++) {
                const ControlClient *cl = c->clients[i];
                uint64_t n = 0;

                if (!cl->dead && cl->bus && sd_bus_get_n_queued_write(cl->bus, &n) >= 0 && n > 0)
                        return false;
        }
        return true;
}

/* sd-bus (252) reads a client's first messages together with its last authentication line,
 * "BEGIN", keeps them buffered, and looks at them only at the next wakeup of the connection: a
 * client that sends one call and waits for the reply (libdbus's dbus-send does) would wait
 * forever. So, after every dispatch while some client authenticates, process what a client
 * that has just authenticated already sent. And once a large reply is written out (and so
 * freed), give the heap's free pages back (control_trim_after_reply()). */
static int control_on_post(sd_event_source *s, void *userdata) {
        Control *c = userdata;
        size_t n_authenticating = 0;

        for (size_t i = 0; i < c->n_clients; i++) {
                ControlClient *cl = c->clients[i];
                unsigned n = 0;
                int r = 0;

                if (cl->dead || cl->running)
                        continue;
                if (sd_bus_is_ready(cl->bus) <= 0) {
                        n_authenticating++;
                        continue;
                }
                cl->running = true;
                control_client_touch(cl); /* from the auth deadline to the idle timeout */
                /* Method handlers may mark clients dead, never free or add one: the array
                 * stays as it is. */
                while (!cl->dead && n++ < CONTROL_DRAIN_MAX) {
                        r = sd_bus_process(cl->bus, NULL);
                        if (r <= 0)
                                break;
                }
                if (r < 0)
                        log_debug_errno(r, "Control client %" PRIu64 " sent a bad message: %m, "
                                        "disconnecting it", cl->number);
                if (r != 0)
                        control_client_kill(cl);
        }
        if (c->trim_wanted && control_replies_written(c)) {
                c->trim_wanted = false;
                (void) malloc_trim(0);
        }
        if (n_authenticating == 0 && !c->trim_wanted)
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

void control_trim_after_reply(Control *c) {
        c->trim_wanted = true;
        (void) sd_event_source_set_enabled(c->post_source, SD_EVENT_ON);
}

/* Whether a call of the client's still waits for its answer (RestartUnit). */
static bool control_client_waits(const ControlClient *cl) {
        for (ControlPending *p = cl->control->pending; p; p = p->next)
                if (p->client == cl)
                        return true;
        return false;
}

static int control_client_on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ControlClient *cl = userdata;

        if (cl->running) {
                if (control_client_waits(cl)) {
                        control_client_touch(cl);
                        return 0;
                }
                log_info("Control client %" PRIu64 " (uid %u, pid %d) sent nothing for %llus, "
                         "disconnecting it.", cl->number, (unsigned) cl->ucred.uid,
                         (int) cl->ucred.pid,
                         (unsigned long long) (CONTROL_IDLE_TIMEOUT_USEC / USEC_PER_SEC));
                control_client_kill(cl);
                return 0;
        }
        if (sd_bus_is_ready(cl->bus) > 0)
                return 0;
        log_warning("Control client %" PRIu64 " (uid %u, pid %d) did not authenticate within "
                    "%llus, disconnecting it.", cl->number, (unsigned) cl->ucred.uid,
                    (int) cl->ucred.pid,
                    (unsigned long long) (CONTROL_AUTH_TIMEOUT_USEC / USEC_PER_SEC));
        control_client_kill(cl);
        return 0;
}

/* Sees every message a client sends, and the Disconnected that sd-bus makes up when the
 * connection ends (hang-up, or a protocol error: garbage, a bad or oversized message). */
static int control_client_on_message(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        uint64_t queued = 0;

        if (sd_bus_message_is_signal(msg, "org.freedesktop.DBus.Local", "Disconnected")) {
                control_client_kill(cl);
                return 1;
        }
        if (cl->dead)
                return 1; /* going: answer nothing more */
        if (cl->running)
                control_client_touch(cl);
        if (sd_bus_get_n_queued_write(cl->bus, &queued) >= 0 && queued > CONTROL_WQUEUE_MAX) {
                log_warning("Control client %" PRIu64 " (uid %u, pid %d) leaves its replies "
                            "unread (%" PRIu64 " queued), disconnecting it.", cl->number,
                            (unsigned) cl->ucred.uid, (int) cl->ucred.pid, queued);
                control_client_kill(cl);
                return 1;
        }
        return 0;
}

/* The peer's supplementary groups, read once like its uid: a client cannot change them after
 * it connected. At most NGROUPS_MAX (65536) of them. */
static int control_client_read_groups(ControlClient *cl, int fd) {
        socklen_t len = 0;
        gid_t *g;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, NULL, &len) < 0 && errno != ERANGE)
                return -errno;
        if (len == 0)
                return 0;
        if (len > 65536 * sizeof(gid_t))
                return -E2BIG;
        g = malloc(len);
        if (!g)
                return -ENOMEM;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) < 0) {
                free(g);
                return -errno;
        }
        cl->groups = g;
        cl->n_groups = len / sizeof(gid_t);
        return 0;
}

bool control_client_in_group(const ControlClient *cl, gid_t gid) {
        if (cl->ucred.gid == gid)
                return true;
        for (size_t i = 0; i < cl->n_groups; i++)
                if (cl->groups[i] == gid)
                        return true;
        return false;
}

/* ---- the gate: a client's bytes, checked, to sd-bus ---- */

static void control_client_drop(ControlClient *cl, const char *why) {
        char what[512];

        snprintf(what, sizeof what, "Dropped control client %" PRIu64 " (uid %u, pid %d): %s",
                 cl->number, (unsigned) cl->ucred.uid, (int) cl->ucred.pid, why);
        control_log_limited(cl->control, what);
        control_client_kill(cl);
}

/* Writes what passed the gate to sd-bus's end. 1: all written; 0: the rest waits for
 * gate_fd to be writable; <0: an error. After the client's end of stream, once everything is
 * written, sd-bus gets the end of stream too. */
static int control_gate_flush(ControlClient *cl) {
        while (cl->buffer_start < cl->buffer_end) {
                ssize_t n = send(cl->gate_fd, cl->buffer + cl->buffer_start,
                                 cl->buffer_end - cl->buffer_start, MSG_DONTWAIT | MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return 0;
                        return -errno;
                }
                cl->buffer_start += (size_t) n;
        }
        cl->buffer_start = cl->buffer_end = 0;
        if (cl->eof)
                (void) shutdown(cl->gate_fd, SHUT_WR);
        return 1;
}

/* Reads the client while the buffer is empty, or waits for sd-bus to take what it holds. */
static void control_gate_arm(ControlClient *cl, bool flushed) {
        int r = sd_event_source_set_enabled(cl->in_source,
                                            flushed && !cl->eof ? SD_EVENT_ON : SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_source_set_enabled(cl->out_source,
                                                flushed ? SD_EVENT_OFF : SD_EVENT_ON);
        if (r < 0) {
                log_warning_errno(r, "Control client %" PRIu64 ": cannot watch its connection: "
                                  "%m, disconnecting it", cl->number);
                control_client_kill(cl);
        }
}

static void control_gate_pass(ControlClient *cl) {
        int r = control_gate_flush(cl);

        if (r < 0) {
                log_debug_errno(r, "Control client %" PRIu64 ": cannot pass its bytes on: %m, "
                                "disconnecting it", cl->number);
                control_client_kill(cl);
                return;
        }
        control_gate_arm(cl, r > 0);
}

/* Closes the fds a client sent along: no call takes one. sd-bus, missing them, refuses the
 * message that announced them. */
static void close_passed_fds(struct msghdr *mh) {
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < n; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                        safe_close(fd);
                }
        }
}

static int control_client_on_readable(sd_event_source *s, int fd, uint32_t revents,
                                      void *userdata) {
        ControlClient *cl = userdata;
        union {
                struct cmsghdr align;
                uint8_t buf[CMSG_SPACE(sizeof(int) * CONTROL_FDS_MAX)];
        } control;
        struct iovec iov = { .iov_base = cl->buffer, .iov_len = sizeof cl->buffer };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                             .msg_controllen = sizeof control };
        char why[256];
        ssize_t n;
        int r;

        if (cl->dead)
                return 0;
        n = recvmsg(cl->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return 0;
                log_debug_errno(errno, "Control client %" PRIu64 ": cannot read: %m, "
                                "disconnecting it", cl->number);
                control_client_kill(cl);
                return 0;
        }
        close_passed_fds(&mh);
        if (n == 0)
                cl->eof = true; /* hung up: sd-bus sees the end after what passed */
        else {
                r = control_gate_feed(&cl->gate, cl->buffer, (size_t) n, why, sizeof why);
                if (r < 0) {
                        control_client_drop(cl, why);
                        return 0;
                }
                cl->buffer_start = 0;
                cl->buffer_end = (size_t) n;
        }
        control_gate_pass(cl);
        return 0;
}

static int control_client_on_writable(sd_event_source *s, int fd, uint32_t revents,
                                      void *userdata) {
        ControlClient *cl = userdata;

        if (!cl->dead)
                control_gate_pass(cl);
        return 0;
}

/* The fds a client needs besides its own: the gate's socket pair, and a spare that becomes
 * the duplicate of the client's fd sd-bus writes to. Made before accept(), so that running
 * out of fds leaves the client waiting in the queue instead of accepting it only to drop it. */
typedef struct ControlFds {
        int pair[2]; /* [0]: the gate writes; [1]: sd-bus reads */
        int spare;
} ControlFds;

#define CONTROL_FDS_NULL ((ControlFds) { .pair = { -1, -1 }, .spare = -1 })

static void control_fds_close(ControlFds *f) {
        safe_close(f->pair[0]);
        safe_close(f->pair[1]);
        safe_close(f->spare);
        *f = CONTROL_FDS_NULL;
}

static int control_fds_reserve(ControlFds *f, int listen_fd) {
        int size = CONTROL_GATE_PAIR_BUFFER;

        if (f->pair[0] < 0 &&
            socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, f->pair) < 0) {
                f->pair[0] = f->pair[1] = -1;
                return -errno;
        }
        /* What waits in the pair is bounded too, if only in kernel memory. */
        (void) setsockopt(f->pair[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        if (f->spare < 0) {
                f->spare = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3);
                if (f->spare < 0)
                        return -errno;
        }
        return 0;
}

/* Sets up the gate of a new client from the reserved fds (consumed): returns sd-bus's input
 * and output fds. */
static int control_gate_open(ControlClient *cl, sd_event *e, ControlFds *f, int *ret_bus_in,
                             int *ret_bus_out) {
        int r;

        /* The spare becomes the duplicate in place: no new fd is needed. */
        if (dup3(cl->fd, f->spare, O_CLOEXEC) < 0) {
                r = -errno;
                control_fds_close(f);
                return r;
        }
        cl->gate_fd = TAKE_FD(f->pair[0]);
        *ret_bus_in = TAKE_FD(f->pair[1]);
        *ret_bus_out = TAKE_FD(f->spare);
        control_gate_init(&cl->gate, BERTH_CONTROL_MESSAGE_MAX);
        r = sd_event_add_io(e, &cl->in_source, cl->fd, EPOLLIN, control_client_on_readable, cl);
        if (r >= 0)
                r = sd_event_add_io(e, &cl->out_source, cl->gate_fd, EPOLLOUT,
                                    control_client_on_writable, cl);
        if (r >= 0)
                r = sd_event_source_set_enabled(cl->out_source, SD_EVENT_OFF);
        return r;
}

/* Takes fd and the reserved fds (consumed in every case). */
static int control_client_new(Control *c, int fd, ControlFds *fds, const struct ucred *uc) {
        _cleanup_close_ int bus_in = -1, bus_out = -1;
        ControlClient *cl;
        char description[64];
        int r;

        cl = calloc(1, sizeof *cl);
        if (!cl) {
                safe_close(fd);
                control_fds_close(fds);
                return log_oom();
        }
        *cl = (ControlClient) { .control = c, .ucred = *uc, .number = ++c->n_accepted,
                                .fd = fd, .gate_fd = -1 };
        c->clients[c->n_clients++] = cl;
        r = control_client_read_groups(cl, fd);
        if (r < 0)
                /* Without them the client is only refused what a group would grant. */
                log_debug_errno(r, "Failed to read the groups of control client %" PRIu64
                                ": %m, ignoring", cl->number);

        r = control_gate_open(cl, c->manager->event, fds, &bus_in, &bus_out);
        if (r < 0)
                goto fail;
        r = sd_bus_new(&cl->bus);
        if (r < 0)
                goto fail;
        r = sd_bus_set_fd(cl->bus, bus_in, bus_out);
        if (r < 0)
                goto fail;
        TAKE_FD(bus_in); /* the bus owns them now */
        TAKE_FD(bus_out);
        snprintf(description, sizeof description, "control-client-%" PRIu64, cl->number);
        r = sd_bus_set_description(cl->bus, description);
        if (r >= 0)
                r = sd_bus_set_server(cl->bus, 1, c->server_id);
        if (r >= 0)
                /* sd-bus reads the gate's socket pair, whose peer is berthd itself, so it
                 * cannot check the uid a client names in EXTERNAL: the uid that counts is the
                 * one read at accept(). */
                r = sd_bus_set_anonymous(cl->bus, 1);
        if (r >= 0)
                r = sd_bus_negotiate_fds(cl->bus, 1); /* GetSocketFds */
        if (r >= 0)
                /* At exit sd-bus would flush, blocking on a client that does not read. */
                r = sd_bus_set_close_on_exit(cl->bus, 0);
        if (r >= 0)
                r = sd_bus_add_filter(cl->bus, NULL, control_client_on_message, cl);
        if (r >= 0)
                r = sd_bus_add_object_vtable(cl->bus, NULL, BERTH_OBJECT_PATH, BERTH_INTERFACE,
                                             control_vtable, cl);
        if (r >= 0)
                r = sd_bus_add_object_vtable(cl->bus, NULL, "/org/freedesktop/DBus",
                                             "org.freedesktop.DBus", control_driver_vtable, cl);
        if (r >= 0)
                r = sd_bus_start(cl->bus);
        if (r >= 0)
                r = sd_bus_attach_event(cl->bus, c->manager->event, SD_EVENT_PRIORITY_NORMAL);
        if (r >= 0)
                r = sd_event_add_time_relative(c->manager->event, &cl->timer_source,
                                               CLOCK_MONOTONIC, CONTROL_AUTH_TIMEOUT_USEC, 0,
                                               control_client_on_timeout, cl);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->post_source, SD_EVENT_ON);
        if (r < 0)
                goto fail;
        log_debug("Control client %" PRIu64 " connected (uid %u, pid %d).", cl->number,
                  (unsigned) uc->uid, (int) uc->pid);
        return 0;

fail:
        log_warning_errno(r, "Failed to set up control client %" PRIu64 " (uid %u, pid %d): %m, "
                          "disconnecting it", cl->number, (unsigned) uc->uid, (int) uc->pid);
        control_client_kill(cl);
        return r;
}

/* ---- accepting ---- */

/* A reason to refuse a new client, or NULL. */
static const char *control_refusal(Control *c, const struct ucred *uc, char *buf, size_t len) {
        size_t n_unprivileged = 0, n_uid = 0;

        if (c->n_clients >= BERTH_CONTROL_CLIENTS_MAX) {
                snprintf(buf, len, "%d control clients are connected, at most %d",
                         BERTH_CONTROL_CLIENTS_MAX, BERTH_CONTROL_CLIENTS_MAX);
                return buf;
        }
        if (control_uid_is_privileged(uc->uid))
                return NULL;
        for (size_t i = 0; i < c->n_clients; i++) {
                if (!control_uid_is_privileged(c->clients[i]->ucred.uid))
                        n_unprivileged++;
                if (c->clients[i]->ucred.uid == uc->uid)
                        n_uid++;
        }
        if (n_uid >= CONTROL_CLIENTS_PER_UID_MAX) {
                snprintf(buf, len, "uid %u has %zu control connections, at most %d",
                         (unsigned) uc->uid, n_uid, CONTROL_CLIENTS_PER_UID_MAX);
                return buf;
        }
        if (n_unprivileged >= BERTH_CONTROL_CLIENTS_MAX - CONTROL_CLIENTS_RESERVED) {
                snprintf(buf, len, "unprivileged users hold %zu control connections, at most "
                         "%d; the rest are kept for root", n_unprivileged,
                         BERTH_CONTROL_CLIENTS_MAX - CONTROL_CLIENTS_RESERVED);
                return buf;
        }
        return NULL;
}

/* Out of fds or memory: stop accepting for a moment instead of spinning on a listening socket
 * that stays readable, as OpenBSD's httpd does. */
static void control_pause_accept(Control *c, int error) {
        int r;

        if (!c->accept_paused)
                log_warning_errno(error, "Cannot accept control connections: %m; retrying every "
                                  "%llums.",
                                  (unsigned long long) (CONTROL_ACCEPT_RETRY_USEC / USEC_PER_MSEC));
        c->accept_paused = true;
        r = sd_event_source_set_enabled(c->accept_source, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_source_set_time_relative(c->retry_source, CONTROL_ACCEPT_RETRY_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->retry_source, SD_EVENT_ONESHOT);
        if (r < 0) {
                /* Without the timer, keep accepting rather than stop for good. */
                log_warning_errno(r, "Failed to arm the accept retry timer: %m, ignoring");
                (void) sd_event_source_set_enabled(c->accept_source, SD_EVENT_ON);
        }
}

static int control_on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        Control *c = userdata;

        (void) sd_event_source_set_enabled(c->accept_source, SD_EVENT_ON);
        return 0;
}

static int control_on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        _cleanup_(control_fds_close) ControlFds fds = CONTROL_FDS_NULL;
        Control *c = userdata;

        for (unsigned n = 0; n < CONTROL_ACCEPT_BATCH; n++) {
                _cleanup_close_ int cfd = -1;
                struct ucred uc = { .pid = 0, .uid = (uid_t) -1, .gid = (gid_t) -1 };
                socklen_t len = sizeof uc;
                char why[256];
                int r;

                r = control_fds_reserve(&fds, c->fd);
                if (r < 0) {
                        control_pause_accept(c, -r);
                        return 0;
                }
                cfd = accept4(c->fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (cfd < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        if (errno == ECONNABORTED)
                                continue; /* that one is gone; the queue may hold more */
                        /* EMFILE, ENFILE, ENOBUFS, ENOMEM, or anything else: pause rather
                         * than spin. */
                        control_pause_accept(c, errno);
                        return 0;
                }
                if (c->accept_paused) {
                        log_info("Accepting control connections again.");
                        c->accept_paused = false;
                }
                if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
                        log_debug_errno(errno, "Failed to read a control client's credentials: "
                                        "%m, disconnecting it");
                        continue;
                }
                if (control_refusal(c, &uc, why, sizeof why)) {
                        control_log_refusal(c, &uc, why);
                        continue;
                }
                (void) control_client_new(c, TAKE_FD(cfd), &fds, &uc);
        }
        return 0;
}

/* Creates, binds and listens on the socket at c->path. */
static int control_listen(Control *c) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(c->path);
        struct stat st;

        if (len >= sizeof sa.sun_path)
                return log_error_errno(ENAMETOOLONG, "Control socket path '%s' is too long "
                                       "(%zu bytes, at most %zu)", c->path, len,
                                       sizeof sa.sun_path - 1);
        memcpy(sa.sun_path, c->path, len);

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0)
                return log_error_errno(errno, "Failed to create the control socket: %m");

        /* A socket left by a berthd that is gone is replaced; a live one, or anything that is
         * not a socket, is left alone. */
        if (lstat(c->path, &st) >= 0) {
                _cleanup_close_ int probe = -1;

                if (!S_ISSOCK(st.st_mode))
                        return log_error_errno(EEXIST, "'%s' exists and is not a socket; remove "
                                               "it or choose another --runtime-dir", c->path);
                /* Non-blocking: a live berthd with a full accept queue must not stall us. */
                probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (probe < 0)
                        return log_error_errno(errno, "Failed to create a socket: %m");
                if (connect(probe, (struct sockaddr *) &sa,
                            offsetof(struct sockaddr_un, sun_path) + len + 1) >= 0 ||
                    errno == EAGAIN)
                        return log_error_errno(EADDRINUSE, "Another berthd is listening on '%s'; "
                                               "stop it or choose another --runtime-dir",
                                               c->path);
                if (errno != ECONNREFUSED && errno != ENOENT)
                        return log_error_errno(errno, "Cannot tell whether '%s' is in use: %m",
                                               c->path);
                if (unlink(c->path) < 0 && errno != ENOENT)
                        return log_error_errno(errno, "Failed to remove the stale control socket "
                                               "'%s': %m", c->path);
                log_debug("Removed the stale control socket '%s'.", c->path);
        } else if (errno != ENOENT)
                return log_error_errno(errno, "Failed to check '%s': %m", c->path);

        if (bind(c->fd, (struct sockaddr *) &sa, offsetof(struct sockaddr_un, sun_path) + len + 1) <
            0)
                return log_error_errno(errno, "Failed to bind the control socket '%s': %m",
                                       c->path);
        /* Everyone may connect: what a caller may do is checked per call. */
        if (chmod(c->path, 0666) < 0)
                return log_error_errno(errno, "Failed to make '%s' mode 0666: %m", c->path);
        if (lstat(c->path, &st) < 0)
                return log_error_errno(errno, "Failed to check '%s': %m", c->path);
        c->dev = st.st_dev;
        c->ino = st.st_ino;
        if (listen(c->fd, SOMAXCONN) < 0)
                return log_error_errno(errno, "Failed to listen on '%s': %m", c->path);
        return 0;
}

int control_new(Control **ret, Manager *m, const char *path, int fd) {
        _cleanup_(control_freep) Control *c = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return log_oom();
        c->manager = m;
        c->fd = -1;
        c->refusal_log = (RateLimit) { .interval = CONTROL_REFUSAL_LOG_USEC,
                                       .burst = CONTROL_REFUSAL_LOG_BURST };
        c->path = strdup(path);
        if (!c->path)
                return log_oom();
        /* The server's GUID in the authentication handshake: one per server, as D-Bus wants. */
        r = sd_id128_randomize(&c->server_id);
        if (r < 0)
                return log_error_errno(r, "Failed to make a control server id: %m");

        if (fd >= 0) {
                struct stat st;

                c->fd = fd; /* a daemon-reexec's: still listening at path, ours to remove */
                if (lstat(c->path, &st) >= 0) {
                        c->dev = st.st_dev;
                        c->ino = st.st_ino;
                }
        } else {
                r = control_listen(c);
                if (r < 0)
                        return r;
        }

        r = sd_event_add_io(m->event, &c->accept_source, c->fd, EPOLLIN, control_on_accept, c);
        if (r >= 0)
                r = sd_event_add_time_relative(m->event, &c->retry_source, CLOCK_MONOTONIC,
                                               CONTROL_ACCEPT_RETRY_USEC, 0, control_on_retry, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->retry_source, SD_EVENT_OFF);
        if (r >= 0)
                r = sd_event_add_defer(m->event, &c->reap_source, control_on_reap, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->reap_source, SD_EVENT_OFF);
        if (r >= 0)
                /* Dead clients go before anything else runs. */
                r = sd_event_source_set_priority(c->reap_source, SD_EVENT_PRIORITY_IMPORTANT);
        if (r >= 0)
                r = sd_event_add_post(m->event, &c->post_source, control_on_post, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->post_source, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the control socket: %m");

        log_debug("Control interface on '%s'.", c->path);
        *ret = TAKE_PTR(c);
        return 0;
}

int control_fd(const Control *c) {
        return c->fd;
}

void control_flush(Control *c) {
        for (size_t i = 0; i < c->n_clients; i++)
                if (c->clients[i] && c->clients[i]->bus)
                        (void) sd_bus_flush(c->clients[i]->bus);
}

Control *control_free(Control *c) {
        struct stat st;

        if (!c)
                return NULL;
        sd_event_source_disable_unref(c->accept_source);
        sd_event_source_disable_unref(c->retry_source);
        sd_event_source_disable_unref(c->reap_source);
        sd_event_source_disable_unref(c->post_source);
        /* Calls still waiting stay with their services, which report later: orphan them. */
        for (ControlPending *p = c->pending, *next; p; p = next) {
                next = p->next;
                control_pending_forget_client(p);
                *p = (ControlPending) {};
        }
        c->pending = NULL;
        for (size_t i = 0; i < c->n_clients; i++)
                control_client_free(c->clients[i]);
        /* Remove the path only while it is still the socket we bound. */
        if (c->fd >= 0 && c->path && lstat(c->path, &st) >= 0 && st.st_dev == c->dev &&
            st.st_ino == c->ino)
                (void) unlink(c->path);
        safe_close(c->fd);
        free(c->path);
        free(c);
        return NULL;
}

