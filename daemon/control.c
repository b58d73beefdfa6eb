/* control: the D-Bus interface of common/control-interface.h, served peer to peer on
 * RUNTIME/control the way PID 1 serves /run/systemd/private: one sd-bus server connection per
 * accepted client, no bus daemon. Owns the listening socket and the clients; borrows the
 * manager. Every call is answered before its handler returns, so nothing here keeps a pointer
 * into the manager between calls, and a daemon-reload cannot leave one dangling.
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
 * message. It also bounds what a client sends, but only at its own limit of 128 MiB per
 * message, which it buffers whole before any handler can look at it. */
#include <fcntl.h>
#include <inttypes.h>
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
#include "common/parse-util.h"
#include "daemon/control.h"
#include "daemon/listener.h"
#include "daemon/manager.h"

#define CONTROL_CLIENTS_RESERVED 8     /* slots only root and berthd's uid may take */
#define CONTROL_CLIENTS_PER_UID_MAX 16 /* connections of one unprivileged uid */
#define CONTROL_AUTH_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define CONTROL_ACCEPT_RETRY_USEC (100 * USEC_PER_MSEC)
#define CONTROL_ACCEPT_BATCH 16        /* accept() calls per wakeup */
#define CONTROL_WQUEUE_MAX 8           /* replies a client may leave unread */
#define CONTROL_DRAIN_MAX 1024         /* messages a client may send along with "BEGIN" */
#define CONTROL_REFUSAL_LOG_USEC USEC_PER_SEC
#define CONTROL_ERROR_MAX 1024         /* the manager's one-line messages */
#define CONTROL_FDS_MAX 253            /* SCM_MAX_FD: fds one sendmsg() may carry */
#define CONTROL_REPLY_MAX (BERTH_CONTROL_MESSAGE_MAX - 64 * 1024) /* room for the framing */

/* One ListUnits entry: name, type, load state, state, main pid, since, restarts, last exit,
 * description. control-interface.h's signature line reads "ssssuttus", which does not match
 * its own field list (restarts is a count, last exit a string); this follows the fields. */
#define LIST_UNITS_ENTRY "ssssutuss"

typedef struct ControlClient ControlClient;
typedef struct ControlPending ControlPending;

struct Control {
        Manager *manager; /* borrowed */
        char *path;
        dev_t dev;        /* the socket inode we created, to remove only our own */
        ino_t ino;
        int fd;
        sd_id128_t server_id;

        sd_event_source *accept_source; /* io on fd */
        sd_event_source *retry_source;  /* timer: accept again after EMFILE and friends */
        sd_event_source *reap_source;   /* defer: frees dead clients outside sd-bus */
        sd_event_source *post_source;   /* post: while clients authenticate, see below */
        bool accept_paused;

        ControlClient *clients[BERTH_CONTROL_CLIENTS_MAX];
        size_t n_clients;
        uint64_t n_accepted; /* numbers the clients in debug messages */

        usec_t refusal_logged; /* CLOCK_MONOTONIC of the last refusal logged */
        unsigned n_refusals_unlogged;

        ControlPending *pending; /* RestartUnit calls waiting for their outcome */
};

struct ControlClient {
        Control *control; /* borrowed */
        sd_bus *bus;      /* owns the connection's fd */
        sd_event_source *timer_source; /* the authentication deadline */
        struct ucred ucred;            /* the peer, at connect() */
        uint64_t number;
        bool running; /* authenticated, and what it sent with "BEGIN" processed */
        bool dead;
};

/* A RestartUnit call waiting for the outcome that manager_unit_restart_async() reports. The
 * service always reports (ready, failed, or removed, also when berthd exits), so this lives
 * until then, even when its client or the whole Control is gone first: it then only frees
 * itself. At most one per service (the manager refuses a second). */
struct ControlPending {
        Control *control;      /* NULL once the Control is freed */
        ControlClient *client; /* NULL once the client is gone */
        sd_bus_message *call;  /* to answer; NULL once the client is gone */
        ControlPending *prev, *next; /* in control->pending while control is set */
};

static usec_t now_monotonic(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static bool uid_is_privileged(uid_t uid) {
        return uid == 0 || uid == geteuid();
}

/* ---- pending calls ---- */

static ControlPending *control_pending_new(ControlClient *cl, sd_bus_message *call) {
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

static ControlPending *control_pending_free(ControlPending *p) {
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
        /* Closed, never flushed: a client that does not read must not block berthd. */
        sd_bus_close_unref(cl->bus);
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

/* sd-bus (252) reads a client's first messages together with its last authentication line,
 * "BEGIN", keeps them buffered, and looks at them only at the next wakeup of the connection: a
 * client that sends one call and waits for the reply (libdbus's dbus-send does) would wait
 * forever. So, after every dispatch while some client authenticates, process what a client
 * that has just authenticated already sent. */
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
                (void) sd_event_source_set_enabled(cl->timer_source, SD_EVENT_OFF);
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
        if (n_authenticating == 0)
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        return 0;
}

static int control_client_on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        ControlClient *cl = userdata;

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
        if (sd_bus_get_n_queued_write(cl->bus, &queued) >= 0 && queued > CONTROL_WQUEUE_MAX) {
                log_warning("Control client %" PRIu64 " (uid %u, pid %d) leaves its replies "
                            "unread (%" PRIu64 " queued), disconnecting it.", cl->number,
                            (unsigned) cl->ucred.uid, (int) cl->ucred.pid, queued);
                control_client_kill(cl);
                return 1;
        }
        return 0;
}

static const sd_bus_vtable control_vtable[], control_driver_vtable[];

/* Takes fd (consumed in every case). */
static int control_client_new(Control *c, int fd, const struct ucred *uc) {
        _cleanup_close_ int fd_close = fd;
        ControlClient *cl;
        char description[64];
        int r;

        cl = calloc(1, sizeof *cl);
        if (!cl)
                return log_oom();
        *cl = (ControlClient) { .control = c, .ucred = *uc, .number = ++c->n_accepted };
        c->clients[c->n_clients++] = cl;

        r = sd_bus_new(&cl->bus);
        if (r < 0)
                goto fail;
        r = sd_bus_set_fd(cl->bus, fd, fd);
        if (r < 0)
                goto fail;
        TAKE_FD(fd_close); /* the bus owns it now */
        snprintf(description, sizeof description, "control-client-%" PRIu64, cl->number);
        r = sd_bus_set_description(cl->bus, description);
        if (r >= 0)
                r = sd_bus_set_server(cl->bus, 1, c->server_id);
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
        if (uid_is_privileged(uc->uid))
                return NULL;
        for (size_t i = 0; i < c->n_clients; i++) {
                if (!uid_is_privileged(c->clients[i]->ucred.uid))
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

/* Logs a refused connection, at most once per CONTROL_REFUSAL_LOG_USEC, so a client that
 * connects in a loop cannot flood the log. */
static void control_log_refusal(Control *c, const struct ucred *uc, const char *why) {
        usec_t now = now_monotonic();

        if (c->refusal_logged != 0 && now - c->refusal_logged < CONTROL_REFUSAL_LOG_USEC) {
                c->n_refusals_unlogged++;
                return;
        }
        if (c->n_refusals_unlogged > 0)
                log_warning("Refused a control connection from uid %u (pid %d): %s (and %u more "
                            "refused since the last message).", (unsigned) uc->uid,
                            (int) uc->pid, why, c->n_refusals_unlogged);
        else
                log_warning("Refused a control connection from uid %u (pid %d): %s.",
                            (unsigned) uc->uid, (int) uc->pid, why);
        c->refusal_logged = now;
        c->n_refusals_unlogged = 0;
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
        Control *c = userdata;

        for (unsigned n = 0; n < CONTROL_ACCEPT_BATCH; n++) {
                _cleanup_close_ int cfd = -1;
                struct ucred uc = { .pid = 0, .uid = (uid_t) -1, .gid = (gid_t) -1 };
                socklen_t len = sizeof uc;
                char why[256];

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
                (void) control_client_new(c, TAKE_FD(cfd), &uc);
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

int control_new(Control **ret, Manager *m, const char *path) {
        _cleanup_(control_freep) Control *c = NULL;
        int r;

        c = calloc(1, sizeof *c);
        if (!c)
                return log_oom();
        c->manager = m;
        c->fd = -1;
        c->path = strdup(path);
        if (!c->path)
                return log_oom();
        /* The server's GUID in the authentication handshake: one per server, as D-Bus wants. */
        r = sd_id128_randomize(&c->server_id);
        if (r < 0)
                return log_error_errno(r, "Failed to make a control server id: %m");

        r = control_listen(c);
        if (r < 0)
                return r;

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

/* ---- helpers for the methods ---- */

/* A copy of s with every byte that is not part of a valid UTF-8 character replaced by U+FFFD,
 * or NULL on OOM. */
static char *utf8_make_valid(const char *s) {
        char *copy = malloc(strlen(s) * 3 + 1), *q = copy;
        const unsigned char *p = (const unsigned char *) s;

        if (!copy)
                return NULL;
        while (*p) {
                size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
                                                                   (*p & 0xf8) == 0xf0 ? 4 : 0;
                char one[5] = {};
                size_t k = 0;

                /* Copy one character when it is whole and valid on its own. */
                while (k < n && p[k] && (k == 0 || (p[k] & 0xc0) == 0x80)) {
                        one[k] = (char) p[k];
                        k++;
                }
                if (n > 0 && k == n && utf8_is_valid(one)) {
                        memcpy(q, one, n);
                        q += n;
                        p += n;
                } else {
                        memcpy(q, "\xef\xbf\xbd", 3);
                        q += 3;
                        p++;
                }
        }
        *q = '\0';
        return copy;
}

/* Appends s as a D-Bus string, which must be UTF-8: service output, unix paths and files may
 * hold anything. NULL appends "". */
static int append_string(sd_bus_message *reply, const char *s) {
        _cleanup_free_ char *copy = NULL;

        s = strempty(s);
        if (utf8_is_valid(s))
                return sd_bus_message_append_basic(reply, 's', s);
        copy = utf8_make_valid(s);
        if (!copy)
                return -ENOMEM;
        return sd_bus_message_append_basic(reply, 's', copy);
}

static int append_strv(sd_bus_message *reply, char *const *l) {
        int r = sd_bus_message_open_container(reply, 'a', "s");

        for (size_t i = 0; r >= 0 && l && l[i]; i++)
                r = append_string(reply, l[i]);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* One a{sv} entry. */
static int append_entry_string(sd_bus_message *reply, const char *key, const char *value) {
        int r = sd_bus_message_open_container(reply, 'e', "sv");

        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "s");
        if (r >= 0)
                r = append_string(reply, value);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_entry_strv(sd_bus_message *reply, const char *key, char *const *value) {
        int r = sd_bus_message_open_container(reply, 'e', "sv");

        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', key);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = append_strv(reply, value);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int append_entry_u32(sd_bus_message *reply, const char *key, uint32_t value) {
        return sd_bus_message_append(reply, "{sv}", key, "u", value);
}

static int append_entry_u64(sd_bus_message *reply, const char *key, uint64_t value) {
        return sd_bus_message_append(reply, "{sv}", key, "t", value);
}

/* Checks a unit name argument: at most UNIT_NAME_MAX bytes. */
static int check_name(const char *name, sd_bus_error *error) {
        size_t len = strlen(name);

        if (len > UNIT_NAME_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "unit name too long (%zu "
                                         "bytes, at most %d)", len, UNIT_NAME_MAX);
        return 0;
}

static int no_such_unit(const char *name, sd_bus_error *error) {
        return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_UNIT, "no unit named '%s'", name);
}

/* Methods that change state or hand out fds: root or berthd's own uid. Logs a refusal. */
static int check_privileged(ControlClient *cl, sd_bus_message *msg, const char *verb,
                            const char *name, sd_bus_error *error) {
        char quoted[MESSAGE_QUOTE_SIZE(UNIT_NAME_MAX)];
        uid_t self = geteuid();

        if (uid_is_privileged(cl->ucred.uid))
                return 0;
        log_warning("Refused %s(%s%s%s) from uid %u (pid %d): permission denied, it needs root%s.",
                    sd_bus_message_get_member(msg), name ? "'" : "",
                    name ? message_quote(name, UNIT_NAME_MAX, quoted, sizeof quoted) : "",
                    name ? "'" : "", (unsigned) cl->ucred.uid, (int) cl->ucred.pid,
                    self == 0 ? "" : " or berthd's uid");
        if (self == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "permission denied: %s needs root", verb);
        return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                 "permission denied: %s needs root or uid %u", verb,
                                 (unsigned) self);
}

/* The unit-name argument of a method: read, checked, and (with verb) the caller allowed to do
 * verb. Returns 0, or a negative errno / a filled error. */
static int read_unit_name(sd_bus_message *msg, ControlClient *cl, const char *verb,
                          const char **ret, sd_bus_error *error) {
        const char *name;
        int r;

        r = sd_bus_message_read(msg, "s", &name);
        if (r < 0)
                return r;
        r = check_name(name, error);
        if (r < 0)
                return r;
        if (verb) {
                r = check_privileged(cl, msg, verb, name, error);
                if (r < 0)
                        return r;
        }
        *ret = name;
        return 0;
}

/* What ListUnits and GetUnit say about one unit. */
typedef struct UnitView {
        const char *name;
        const Unit *unit;       /* NULL: the unit failed to load and is known by name only */
        const Service *service; /* a service unit's runtime, or NULL */
        bool failed;
        const char *type, *load_state, *state, *result;
        char last_exit[64];
} UnitView;

static bool socket_unit_bound(Manager *m, const Unit *u) {
        for (size_t i = 0; i < m->n_sockets; i++)
                if (m->sockets[i].spec.unit == u && m->sockets[i].fd >= 0)
                        return true;
        return false;
}

static void format_last_exit(const Service *s, char *buf, size_t len) {
        const char *sig;

        buf[0] = '\0';
        if (!s)
                return;
        switch (s->last_exit_code) {
        case CLD_EXITED:
                snprintf(buf, len, "exited %d", s->last_exit_status);
                break;
        case CLD_KILLED:
        case CLD_DUMPED:
                sig = signal_to_string(s->last_exit_status);
                if (sig)
                        snprintf(buf, len, "%s %s",
                                 s->last_exit_code == CLD_KILLED ? "killed" : "dumped", sig);
                else
                        snprintf(buf, len, "%s signal %d",
                                 s->last_exit_code == CLD_KILLED ? "killed" : "dumped",
                                 s->last_exit_status);
                break;
        default:
                break; /* never exited */
        }
}

/* Fills *ret for the unit called name. Returns false when there is no such unit. */
static bool unit_view(Manager *m, const char *name, UnitView *ret) {
        UnitView v = { .name = name };

        v.unit = manager_get_unit(m, name);
        v.failed = manager_unit_failed(m, name);
        if (!v.unit && !v.failed)
                return false;

        if (v.unit)
                v.type = v.unit->type == UNIT_SOCKET ? "socket" : "service";
        else
                v.type = endswith(name, ".socket") ? "socket" : "service";
        v.load_state = v.failed ? "failed" : v.unit->is_template ? "template" : "loaded";
        if (streq(v.type, "service") && !v.failed)
                v.service = manager_find_service(m, name);

        if (v.service) {
                v.state = service_state_to_string(v.service->state);
                v.result = service_result_to_string(v.service->result);
        } else if (v.failed) {
                v.state = "failed";
                v.result = "resources";
        } else if (v.unit->type == UNIT_SOCKET) {
                v.state = socket_unit_bound(m, v.unit) ? "listening" : "failed";
                v.result = "success";
        } else {
                v.state = "dead"; /* a template: instances are per connection */
                v.result = "success";
        }
        v.state = strna(v.state);
        v.result = strna(v.result);
        format_last_exit(v.service, v.last_exit, sizeof v.last_exit);
        *ret = v;
        return true;
}

/* The canonical address of a bound fd (borrowed), read back from the kernel. */
static const char *fd_address(int fd, const SockAddr *fallback, char *buf, size_t len) {
        ListenerInfo info;

        if (listener_read_back(fd, &info) >= 0)
                return sockaddr_format(&info.addr, buf, len);
        if (fallback)
                return sockaddr_format(fallback, buf, len);
        return "";
}

static const ManagerSocket *socket_of_fd(Manager *m, int fd) {
        for (size_t i = 0; i < m->n_sockets; i++)
                if (m->sockets[i].fd == fd)
                        return &m->sockets[i];
        return NULL;
}

/* The canonical addresses a unit listens on: a socket unit's own, or a service's sockets. */
static int append_listen(sd_bus_message *reply, Manager *m, const UnitView *v) {
        char buf[ADDRESS_FORMAT_MAX];
        int r = sd_bus_message_open_container(reply, 'a', "s");

        if (v->unit && v->unit->type == UNIT_SOCKET)
                for (size_t i = 0; r >= 0 && i < m->n_sockets; i++) {
                        const ManagerSocket *ms = &m->sockets[i];

                        if (ms->spec.unit != v->unit || ms->fd < 0)
                                continue;
                        r = append_string(reply, fd_address(ms->fd, &ms->spec.addr, buf,
                                                            sizeof buf));
                }
        else if (v->service)
                for (size_t i = 0; r >= 0 && i < v->service->n_fds; i++) {
                        const ManagerSocket *ms = socket_of_fd(m, v->service->fds[i]);

                        r = append_string(reply, fd_address(v->service->fds[i],
                                                            ms ? &ms->spec.addr : NULL, buf,
                                                            sizeof buf));
                }
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

/* ---- methods ---- */

static int append_unit_entry(sd_bus_message *reply, const UnitView *v) {
        const Service *s = v->service;
        int r = sd_bus_message_open_container(reply, 'r', LIST_UNITS_ENTRY);

        if (r >= 0)
                r = append_string(reply, v->name);
        if (r >= 0)
                r = sd_bus_message_append(reply, "sssutu", v->type, v->load_state, v->state,
                                          (uint32_t) (s ? s->main_pid : 0),
                                          (uint64_t) (s ? s->since_realtime : 0),
                                          (uint32_t) (s ? s->n_restarts : 0));
        if (r >= 0)
                r = append_string(reply, v->last_exit);
        if (r >= 0)
                r = append_string(reply, v->unit ? v->unit->description : "");
        return r < 0 ? r : sd_bus_message_close_container(reply);
}

static int control_method_list_units(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        UnitView v;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(" LIST_UNITS_ENTRY ")");
        /* The loaded units, then those that failed to load and are known by name only. */
        for (size_t i = 0; r >= 0 && i < m->n_units; i++)
                if (unit_view(m, m->units[i]->name, &v))
                        r = append_unit_entry(reply, &v);
        STRV_FOREACH(name, m->failed_units) {
                if (r < 0)
                        break;
                if (!manager_get_unit(m, *name) && unit_view(m, *name, &v))
                        r = append_unit_entry(reply, &v);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

static int control_method_get_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *socket_service = NULL;
        const char *name;
        const Service *s;
        UnitView v;
        int r;

        r = read_unit_name(msg, NULL, NULL, &name, error);
        if (r < 0)
                return r;
        if (!unit_view(m, name, &v))
                return no_such_unit(name, error);
        if (v.unit && v.unit->type == UNIT_SOCKET) {
                socket_service = unit_socket_service_name(v.unit);
                if (!socket_service)
                        return -ENOMEM;
        }
        s = v.service;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r >= 0)
                r = append_entry_string(reply, "Name", v.name);
        if (r >= 0)
                r = append_entry_string(reply, "Type", v.type);
        if (r >= 0)
                r = append_entry_string(reply, "LoadState", v.load_state);
        if (r >= 0)
                r = append_entry_string(reply, "State", v.state);
        if (r >= 0)
                r = append_entry_string(reply, "Result", v.result);
        if (r >= 0)
                r = append_entry_u32(reply, "MainPID", (uint32_t) (s ? s->main_pid : 0));
        if (r >= 0)
                r = append_entry_u32(reply, "ControlPID", (uint32_t) (s ? s->control_pid : 0));
        if (r >= 0)
                r = append_entry_u64(reply, "Since", s ? s->since_realtime : 0);
        if (r >= 0)
                r = append_entry_u32(reply, "Restarts", s ? s->n_restarts : 0);
        if (r >= 0)
                r = append_entry_string(reply, "LastExit", v.last_exit);
        if (r >= 0)
                r = append_entry_string(reply, "Description", v.unit ? v.unit->description : "");
        if (r >= 0)
                r = append_entry_string(reply, "FragmentPath", v.unit ? v.unit->path : "");
        if (r >= 0)
                r = append_entry_strv(reply, "DropInPaths", v.unit ? v.unit->dropins : NULL);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append_basic(reply, 's', "Listen");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = append_listen(reply, m, &v);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = append_entry_string(reply, "Service", socket_service);
        if (r >= 0)
                r = append_entry_string(reply, "StatusText", s ? s->status_text : "");
        if (r >= 0)
                r = append_entry_u32(reply, "OldMainPID", (uint32_t) (s ? s->old_main_pid : 0));
        if (r >= 0) {
                /* The fd store, by name, in the order the next start passes them. */
                _cleanup_free_ char **names = NULL;
                size_t n = s ? s->n_fd_store : 0;
                names = calloc(n + 1, sizeof(char *));
                if (!names)
                        r = -ENOMEM;
                for (size_t i = 0; i < n && r >= 0; i++)
                        names[i] = s->fd_store[i]->name;
                if (r >= 0)
                        r = append_entry_strv(reply, "StoredFds", names);
        }
        if (r >= 0)
                /* The manager logs why a unit failed but does not keep the reason. */
                r = append_entry_string(reply, "LoadError",
                                        v.failed ? "failed to load or to bind; see berthd's log"
                                                 : "");
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

static const char *protocol_name(int family, int socktype) {
        if (family == AF_UNIX)
                return socktype == SOCK_STREAM ? "unix-stream" :
                       socktype == SOCK_DGRAM  ? "unix-dgram" :
                       socktype == SOCK_SEQPACKET ? "unix-seqpacket" : "unix";
        return socktype == SOCK_STREAM ? "TCP" :
               socktype == SOCK_DGRAM  ? "UDP" :
               socktype == SOCK_SEQPACKET ? "SEQPACKET" : "unknown";
}

static const char *stack_name(int family, int v6only) {
        switch (family) {
        case AF_INET6:
                return v6only > 0 ? "ipv6-only" : "dual-stack";
        case AF_INET:
                return "ipv4";
        case AF_UNIX:
                return "unix";
        default:
                return "unknown";
        }
}

static const char *reach_name(int reach) {
        static const char *const names[] = {
                [LISTENER_REACH_ALL] = "all interfaces",
                [LISTENER_REACH_LOOPBACK] = "loopback only",
                [LISTENER_REACH_ONE] = "one interface",
                [LISTENER_REACH_LOCAL] = "local",
        };

        return reach >= 0 && (size_t) reach < ELEMENTSOF(names) && names[reach] ? names[reach] :
                                                                                 "unknown";
}

static int control_method_list_sockets(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sssssuuss)");
        for (size_t i = 0; r >= 0 && i < m->n_sockets; i++) {
                const ManagerSocket *ms = &m->sockets[i];
                _cleanup_free_ char *svc = NULL;
                const Service *s;
                ListenerInfo info = {
                        .addr = ms->spec.addr,
                        .family = ms->spec.family,
                        .socktype = ms->spec.socktype,
                        .v6only = ms->spec.v6only,
                        .backlog = -1,
                        .reach = LISTENER_REACH_LOCAL,
                };
                unsigned queued = 0, backlog = 0;
                char addr[ADDRESS_FORMAT_MAX];
                bool read_back;

                if (ms->fd < 0)
                        continue;
                read_back = listener_read_back(ms->fd, &info) >= 0;
                if (info.socktype != SOCK_DGRAM &&
                    listener_queue(ms->fd, &queued, &backlog) < 0) {
                        queued = 0;
                        backlog = info.backlog > 0 ? (unsigned) info.backlog : 0;
                }
                svc = unit_socket_service_name(ms->spec.unit);
                if (!svc)
                        return -ENOMEM;
                s = manager_find_service(m, svc);

                r = sd_bus_message_open_container(reply, 'r', "sssssuuss");
                if (r >= 0)
                        r = append_string(reply, ms->spec.unit->name);
                if (r >= 0)
                        r = append_string(reply, sockaddr_format(&info.addr, addr, sizeof addr));
                if (r >= 0)
                        r = sd_bus_message_append(reply, "sssuu",
                                                  protocol_name(info.family, info.socktype),
                                                  stack_name(info.family, info.v6only),
                                                  read_back ? reach_name((int) info.reach) :
                                                              "unknown",
                                                  (uint32_t) backlog, (uint32_t) queued);
                if (r >= 0)
                        r = append_string(reply, svc);
                if (r >= 0)
                        r = append_string(reply, s ? service_state_to_string(s->state) :
                                          manager_unit_failed(m, svc) ? "failed" : "dead");
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

/* Sets error from a manager action's result: -ENOENT is NoSuchUnit, anything else Failed,
 * with the manager's message. */
static int action_error(int r, const char *err, sd_bus_error *error) {
        if (r == -ENOENT)
                return sd_bus_error_setf(error, BERTH_ERROR_NO_SUCH_UNIT, "%s",
                                         err[0] ? err : "no such unit");
        return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "%s", err[0] ? err : strerror(-r));
}

typedef int (*UnitActionFunc)(Manager *m, const char *name, char *err, size_t errlen);

/* StartUnit, StopUnit, ReloadUnit: answered once the action is under way. */
static int control_unit_action(sd_bus_message *msg, ControlClient *cl, const char *verb,
                               UnitActionFunc action, sd_bus_error *error) {
        char err[CONTROL_ERROR_MAX] = "";
        const char *name;
        int r;

        r = read_unit_name(msg, cl, verb, &name, error);
        if (r < 0)
                return r;
        r = action(cl->control->manager, name, err, sizeof err);
        if (r < 0)
                return action_error(r, err, error);
        return sd_bus_reply_method_return(msg, NULL);
}

static int control_method_start_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return control_unit_action(msg, userdata, "start", manager_unit_start, error);
}

static int control_method_stop_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return control_unit_action(msg, userdata, "stop", manager_unit_stop, error);
}

static void control_on_restart_done(Service *s, int error, const char *message,
                                    void *userdata) {
        ControlPending *p = userdata;
        int r = 0;

        if (p->call) {
                if (error >= 0)
                        r = sd_bus_reply_method_return(p->call, NULL);
                else
                        r = sd_bus_reply_method_errorf(
                                p->call, BERTH_ERROR_FAILED, "%s",
                                message && utf8_is_valid(message) ? message : strerror(-error));
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a RestartUnit call: %m, ignoring");
        }
        control_pending_free(p);
}

/* RestartUnit: answered once the new process is ready, or has failed (with Handover=overlap
 * the old one then serves on), so that `berthctl restart` reports how it went. */
static int control_method_restart_unit(sd_bus_message *msg, void *userdata,
                                       sd_bus_error *error) {
        ControlClient *cl = userdata;
        char err[CONTROL_ERROR_MAX] = "";
        ControlPending *p;
        const char *name;
        int r;

        r = read_unit_name(msg, cl, "restart", &name, error);
        if (r < 0)
                return r;
        p = control_pending_new(cl, msg);
        if (!p)
                return -ENOMEM;
        r = manager_unit_restart_async(cl->control->manager, name, control_on_restart_done, p,
                                       err, sizeof err);
        if (r < 0) {
                /* done() is not called on an error: p is still ours. */
                control_pending_free(p);
                return action_error(r, err, error);
        }
        /* p belongs to the service now, and may be gone already: done() may have run. */
        return 1;
}

static int control_method_reload_unit(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return control_unit_action(msg, userdata, "reload", manager_unit_reload, error);
}

/* Joins lines with "\n" into one error message of at most CONTROL_REPLY_MAX bytes. */
static char *join_lines(char *const *lines) {
        size_t n = strv_length(lines), len = 0, i;
        char *s = malloc(CONTROL_REPLY_MAX + 64), *p = s;

        if (!s)
                return NULL;
        for (i = 0; i < n; i++) {
                size_t l = strlen(lines[i]);

                if (len + l + 1 > CONTROL_REPLY_MAX)
                        break;
                if (i > 0)
                        p[len++] = '\n';
                memcpy(p + len, lines[i], l);
                len += l;
        }
        if (i < n)
                len += (size_t) snprintf(p + len, 64, "%s... and %zu more", i > 0 ? "\n" : "",
                                         n - i);
        p[len] = '\0';
        return s;
}

static int control_method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        _cleanup_strv_free_ char **errors = NULL, **warnings = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        size_t size = 0;
        int r;

        r = check_privileged(cl, msg, "daemon-reload", NULL, error);
        if (r < 0)
                return r;
        log_info("daemon-reload requested by uid %u (pid %d).", (unsigned) cl->ucred.uid,
                 (int) cl->ucred.pid);
        r = manager_daemon_reload(cl->control->manager, &errors, &warnings);
        if (r < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "daemon-reload failed: %s",
                                         strerror(-r));
        if (r == UNIT_FILE_E_INVALID) {
                _cleanup_free_ char *joined = join_lines(errors);
                _cleanup_free_ char *text = joined ? utf8_make_valid(joined) : NULL;

                if (!text)
                        return -ENOMEM;
                return sd_bus_error_set(error, BERTH_ERROR_RELOAD_FAILED, text);
        }

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        STRV_FOREACH(w, warnings) {
                if (r < 0)
                        break;
                size += strlen(*w) + 8;
                if (size > CONTROL_REPLY_MAX) {
                        r = append_string(reply, "(more warnings in berthd's log)");
                        break;
                }
                r = append_string(reply, *w);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

/* Whether st grants the caller the bits asked for, by the owner, primary group or other class
 * (as the kernel picks the class; supplementary groups and ACLs are not known here, so they
 * never grant). */
static bool mode_grants(const struct stat *st, const struct ucred *uc, mode_t user_bit,
                        mode_t group_bit, mode_t other_bit) {
        if (st->st_uid == uc->uid)
                return st->st_mode & user_bit;
        if (st->st_gid == uc->gid)
                return st->st_mode & group_bit;
        return st->st_mode & other_bit;
}

/* Whether the caller could open path for reading itself: search permission on every
 * directory above it, read permission on the file (whose stat is given). */
static bool caller_may_read(const char *path, const struct stat *file_st,
                            const struct ucred *uc) {
        _cleanup_free_ char *dir = strdup(path);

        if (!dir)
                return false;
        if (!mode_grants(file_st, uc, S_IRUSR, S_IRGRP, S_IROTH))
                return false;
        for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
                struct stat st;

                *slash = '\0';
                if (stat(dir[0] ? dir : "/", &st) < 0 ||
                    !mode_grants(&st, uc, S_IXUSR, S_IXGRP, S_IXOTH))
                        return false;
        }
        return true;
}

/* Reads a unit file for a caller. Unit files may hold secrets in Environment=, so an
 * unprivileged caller gets only what it could read itself. Returns 0 with *ret (at most
 * budget bytes), or an error set in error. */
static int read_unit_file(ControlClient *cl, const char *path, size_t budget, char **ret,
                          sd_bus_error *error) {
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        const struct ucred *uc = &cl->ucred;
        size_t len = 0;
        struct stat st;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "cannot read '%s': %s", path,
                                         strerror(errno));
        if (!S_ISREG(st.st_mode))
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "'%s' is not a regular file",
                                         path);
        if (!uid_is_privileged(uc->uid) && !caller_may_read(path, &st, uc)) {
                log_warning("Refused GetUnitFiles() from uid %u (pid %d): '%s' is not readable "
                            "by that uid.", (unsigned) uc->uid, (int) uc->pid, path);
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "permission denied: '%s' is not readable by uid %u",
                                         path, (unsigned) uc->uid);
        }
        if ((uint64_t) st.st_size > budget)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED, "'%s' is too large to show "
                                         "(%llu bytes)", path, (unsigned long long) st.st_size);
        /* One byte more than allowed tells a file that grew since fstat(). */
        buf = malloc(budget + 2);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + len, budget + 1 - len);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                                 "cannot read '%s': %s", path, strerror(errno));
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > budget)
                        return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                                 "'%s' is too large to show", path);
        }
        buf[len] = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}

static int control_method_get_unit_files(sd_bus_message *msg, void *userdata,
                                         sd_bus_error *error) {
        ControlClient *cl = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        size_t budget = CONTROL_REPLY_MAX;
        const char *name;
        Unit *u;
        int r;

        r = read_unit_name(msg, NULL, NULL, &name, error);
        if (r < 0)
                return r;
        u = manager_get_unit(cl->control->manager, name);
        if (!u)
                return no_such_unit(name, error);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        /* An ad-hoc unit has no file: its path is "(command line)". */
        for (size_t i = 0; r >= 0 && i <= strv_length(u->dropins); i++) {
                const char *path = i == 0 ? u->path : u->dropins[i - 1];
                _cleanup_free_ char *text = NULL;

                if (!path_is_absolute(path))
                        continue;
                r = read_unit_file(cl, path, budget, &text, error);
                if (r < 0)
                        return r;
                budget -= MIN(budget, strlen(text) + strlen(path) + 16);
                r = sd_bus_message_open_container(reply, 'r', "ss");
                if (r >= 0)
                        r = append_string(reply, path);
                if (r >= 0)
                        r = append_string(reply, text);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

typedef struct LogsContext {
        sd_bus_message *reply;
        int r;
} LogsContext;

static void append_log_line(const ServiceLogLine *l, void *userdata) {
        LogsContext *ctx = userdata;
        int r = ctx->r;

        if (r < 0)
                return;
        r = sd_bus_message_open_container(ctx->reply, 'r', "tus");
        if (r >= 0)
                r = sd_bus_message_append(ctx->reply, "tu", l->seq, (uint32_t) l->pid);
        if (r >= 0)
                r = append_string(ctx->reply, l->line);
        if (r >= 0)
                r = sd_bus_message_close_container(ctx->reply);
        ctx->r = r;
}

static int control_method_get_logs(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *name;
        uint64_t after, next;
        uint32_t max;
        Service *s;
        int r;

        r = sd_bus_message_read(msg, "stu", &name, &after, &max);
        if (r < 0)
                return r;
        r = check_name(name, error);
        if (r < 0)
                return r;
        if (!manager_get_unit(m, name) && !manager_unit_failed(m, name))
                return no_such_unit(name, error);
        /* A socket unit's logs are its service's. A unit without a process (a template, or
         * one that failed to load) has none. SERVICE_LOG_LINES lines of SERVICE_LINE_MAX
         * bytes fit in BERTH_CONTROL_MESSAGE_MAX. */
        s = manager_resolve_service(m, name);

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        if (s) {
                LogsContext ctx = { .reply = reply };

                /* The next `after` goes first on the wire: it is the newest seq, which
                 * service_log_foreach() returns too. */
                next = s->log_seq;
                r = sd_bus_message_append(reply, "t", next);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "(tus)");
                if (r >= 0) {
                        ctx.r = 0;
                        (void) service_log_foreach(s, after, max, append_log_line, &ctx);
                        r = ctx.r;
                }
        } else {
                r = sd_bus_message_append(reply, "t", after);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'a', "(tus)");
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_send(reply);
}

static int control_method_get_socket_fds(sd_bus_message *msg, void *userdata,
                                         sd_bus_error *error) {
        ControlClient *cl = userdata;
        Manager *m = cl->control->manager;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *fdname = NULL;
        const char *name;
        size_t n = 0;
        Unit *u;
        int r;

        r = read_unit_name(msg, cl, "fds", &name, error);
        if (r < 0)
                return r;
        u = manager_get_unit(m, name);
        if (!u)
                return manager_unit_failed(m, name) ?
                               sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                                 "%s failed to load; see berthd's log", name) :
                               no_such_unit(name, error);
        if (u->type != UNIT_SOCKET)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                         "%s is not a socket unit; name its .socket", name);
        if (sd_bus_can_send(sd_bus_message_get_bus(msg), SD_BUS_TYPE_UNIX_FD) <= 0)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                         "this connection cannot carry file descriptors");
        for (size_t i = 0; i < m->n_sockets; i++)
                if (m->sockets[i].spec.unit == u && m->sockets[i].fd >= 0)
                        n++;
        if (n == 0)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                         "%s has no bound sockets%s", name,
                                         manager_unit_failed(m, name) ? "; it failed to bind, "
                                                                        "see berthd's log" : "");
        if (n > CONTROL_FDS_MAX)
                return sd_bus_error_setf(error, BERTH_ERROR_FAILED,
                                         "%s has %zu sockets, more than one message can carry "
                                         "(%d)", name, n, CONTROL_FDS_MAX);
        fdname = unit_socket_fdname(u);
        if (!fdname)
                return -ENOMEM;

        r = sd_bus_message_new_method_return(msg, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "h");
        for (size_t i = 0; r >= 0 && i < m->n_sockets; i++)
                if (m->sockets[i].spec.unit == u && m->sockets[i].fd >= 0)
                        /* sd-bus sends a duplicate; ours stays. */
                        r = sd_bus_message_append_basic(reply, 'h', &m->sockets[i].fd);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "s");
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = append_string(reply, fdname);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        log_info("Handed the %zu socket%s of %s to uid %u (pid %d).", n, n == 1 ? "" : "s",
                 u->name, (unsigned) cl->ucred.uid, (int) cl->ucred.pid);
        return sd_bus_message_send(reply);
}

/* busctl (and any other libdbus or sd-bus client that expects a bus) opens with Hello() to
 * the bus driver and waits for a unique name. A direct connection has no driver; answer it as
 * one would, so that `busctl --address=unix:path=RUNTIME/control` works. */
static int control_method_hello(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        ControlClient *cl = userdata;
        char unique[32];

        snprintf(unique, sizeof unique, ":1.%" PRIu64, cl->number);
        return sd_bus_reply_method_return(msg, "s", unique);
}

/* `busctl --address=... tree` (no name given) first asks the driver for every name. There is
 * one peer here: answer with the interface's name, which any destination reaches anyway. */
static int control_method_list_names(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        return sd_bus_reply_method_return(msg, "as", 2, "org.freedesktop.DBus",
                                          BERTH_INTERFACE);
}

static int control_method_list_activatable_names(sd_bus_message *msg, void *userdata,
                                                 sd_bus_error *error) {
        return sd_bus_reply_method_return(msg, "as", 0);
}

static const sd_bus_vtable control_driver_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Hello", SD_BUS_NO_ARGS, SD_BUS_RESULT("s", unique_name),
                                control_method_hello, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListNames", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", names),
                                control_method_list_names, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListActivatableNames", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("as", names),
                                control_method_list_activatable_names,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* Every method is open at the sd-bus level (SD_BUS_VTABLE_UNPRIVILEGED: sd-bus's own check
 * wants CAP_SYS_ADMIN); check_privileged() decides per call. */
static const sd_bus_vtable control_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("ListUnits", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(" LIST_UNITS_ENTRY ")", units),
                                control_method_list_units, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUnit", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a{sv}", properties), control_method_get_unit,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListSockets", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a(sssssuuss)", sockets),
                                control_method_list_sockets, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartUnit", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                control_method_start_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopUnit", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                control_method_stop_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RestartUnit", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                control_method_restart_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ReloadUnit", SD_BUS_ARGS("s", name), SD_BUS_NO_RESULT,
                                control_method_reload_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Reload", SD_BUS_NO_ARGS, SD_BUS_RESULT("as", warnings),
                                control_method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetUnitFiles", SD_BUS_ARGS("s", name),
                                SD_BUS_RESULT("a(ss)", files), control_method_get_unit_files,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetLogs", SD_BUS_ARGS("s", name, "t", after, "u", max),
                                SD_BUS_RESULT("t", next, "a(tus)", lines),
                                control_method_get_logs, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetSocketFds", SD_BUS_ARGS("s", socket_unit),
                                SD_BUS_RESULT("ah", fds, "as", names),
                                control_method_get_socket_fds, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
