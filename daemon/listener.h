/* listener: berth's sockets (SPEC §3). listener_bind() (listener-bind.c) creates and binds one
 * socket per BindSpec with every option of its unit (or opens the FIFO, special file, message
 * queue or netlink socket the spec names); on EADDRINUSE it names the holder, found by
 * sock-diag; errors come back as text for the caller to log with the unit's name. An inet or
 * unix socket is read back from the kernel and described in one log line. A Listener is the
 * runtime object the manager owns for each bound socket: services borrow it for the handoff,
 * it watches its fd on the event loop while its service waits for a client (on-demand start,
 * TriggerLimit*= and PollLimit*=), and with RemoveOnStop=yes it removes what it made in the
 * file system when it goes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include <systemd/sd-event.h>

#include "common/address.h"
#include "common/socket-util.h"
#include "daemon/bind-plan.h"
#include "daemon/sock-diag.h"

#define LISTENER_ERROR_MAX 1024

/* Reads what the host offers: whether AF_INET6 sockets work, and net.ipv6.bindv6only. */
void listener_probe_host(HostInfo *ret);

/* net.ipv6.bindv6only of the caller's network namespace: 0 or 1, or a negative errno when it
 * cannot be read (no IPv6, no /proc). */
int listener_sysctl_bindv6only(void);

/* Creates a CLOEXEC, non-blocking socket for spec, applies every option from the spec's unit
 * (IPV6_V6ONLY explicitly for AF_INET6, SO_REUSEADDR for inet stream, ReusePort=, FreeBind=,
 * Transparent=, NoDelay=, KeepAlive*, DeferAcceptSec=, ReceiveBuffer=, SendBuffer=,
 * BindToDevice=, PassCredentials=), binds and, for stream and seqpacket, listens with Backlog=.
 * Unix paths: parent directories created with DirectoryMode=, symlinks never followed, an
 * existing path removed only when it is a stale socket (connect() gets ECONNREFUSED), owner
 * (SocketUser=/SocketGroup=) and mode (SocketMode=) applied without a race.
 * Other entries: a FIFO is made the same way (an existing FIFO of berthd's or SocketUser='s is
 * reused, anything else refused) and opened read-write; a special file (a character device or
 * a file, never a symlink) opened read-only, or read-write with Writable=yes; a message queue
 * made with SocketMode= and the MessageQueue*= sizes and opened read-only; a netlink socket
 * bound to its groups, with ReceiveBuffer=, SendBuffer= and PassCredentials=. The unit's
 * Symlinks= are made once the unix path or FIFO they point to exists; a failure there is a
 * warning.
 * Returns 0 and the new fd in *ret_fd (owned by the caller), or a negative errno with a
 * one-line message in err: which step failed and why; for an option that needs a privilege,
 * which option and which capability; for EADDRINUSE, the holder from sock_diag_find_holder()
 * when it can be found ("... — held by pid 1234 (nginx), listening on 0.0.0.0:8080").
 * On success err is either empty or holds one non-fatal warning for the caller to log (for
 * example a ReceiveBuffer= the kernel capped at net.core.rmem_max without CAP_NET_ADMIN).
 * Unix paths are bound under a temporary umask(0777): call it from one thread only. */
int listener_bind(const BindSpec *spec, int *ret_fd, char *err, size_t errlen);

/* Information read back from a bound inet or unix socket (borrowed fd). */
typedef struct ListenerInfo {
        SockAddr addr;   /* getsockname() */
        int family, socktype, protocol;
        int v6only;      /* IPV6_V6ONLY read back, -1 if not AF_INET6 */
        int backlog;     /* the listen() backlog the kernel applies; -1 unknown */
        Reach reach;
} ListenerInfo;

/* Fills *ret from the kernel (borrowed fd). backlog is the listen() backlog the kernel applied
 * (TCP and unix stream/seqpacket listeners), else -1. Returns 0 or a negative errno. */
int listener_read_back(int fd, ListenerInfo *ret);
/* The same for a socket the caller made, so knows the family, type and protocol of (the
 * protocol as given to socket(): 0 for the family's default). */
int listener_read_back_of(int fd, int family, int socktype, int protocol, ListenerInfo *ret);

/* The one log line for a bound socket:
 * "web.socket: listening on [::]:8080 (TCP, dual-stack: takes IPv4 and IPv6, IPV6_V6ONLY=0) —
 *  all interfaces, reachable from other machines — try: curl http://127.0.0.1:8080/"
 * The protocol part reads "(TCP, IPv4)", "(TCP, IPv6 only, IPV6_V6ONLY=1)", "(UDP, ...)",
 * "(unix stream)" (socket_protocol_describe()), the reach part is reach_describe(); the hint
 * is curl for TCP, nc -u for UDP, nc -U / socat for unix.
 * Returns buf. */
const char *listener_describe(const char *unit, const ListenerInfo *info, char *buf,
                              size_t buflen);

/* ---- the runtime socket object ---- */

#define LISTENER_STALL_MAX 64 /* waiting connections compared per AcceptStallSec= check */

typedef struct Listener Listener;
typedef struct ListenerStall ListenerStall;

/* TriggerLimit*=, PollLimit*= and AcceptStallSec=: the window of each limit (CLOCK_MONOTONIC
 * of its first event) and its count, the timer that ends a pause, and the watch for connections
 * left waiting. Made when the socket first wakes berthd or its service first serves with
 * AcceptStallSec=: one that never did carries none. */
typedef struct ListenerLimits {
        usec_t trigger_window_start, poll_window_start;
        unsigned trigger_count, poll_count;
        sd_event_source *pause_source; /* ends a trigger-limit or poll-limit pause */
        ListenerStall *stall; /* while serving with AcceptStallSec=; else NULL */
} ListenerLimits;

/* A bind that failed for a reason that may pass (the port is held, the address is not there
 * yet) is tried again, 1 s after, then doubling up to 30 s. Made at the first failure, freed
 * once the socket binds. */
typedef struct ListenerRetry {
        sd_event_source *source;
        char *error;  /* why the last bind failed */
        uint16_t n;   /* failed retries (saturates) */
} ListenerRetry;

/* A client is waiting on l: start the service that owns it. */
typedef void (*ListenerTriggerFunc)(Listener *l, void *userdata);

typedef enum ListenerWatch {
        LISTENER_IDLE,     /* its service runs, or it has none: connections wait in the queue */
        LISTENER_WATCHING, /* the first readable event starts its service */
        LISTENER_PAUSED,   /* over TriggerLimitBurst=: not watched until the interval ends */
        _LISTENER_WATCH_MAX,
        _LISTENER_WATCH_INVALID = -EINVAL,
} ListenerWatch;

/* One bound socket, owned by the manager. Services borrow it: the fd for the handoff, the
 * watch for on-demand starts. Per-connection accepting and socket filters belong here. */
struct Listener {
        BindSpec spec;      /* borrows spec.unit and spec.listen from the unit that asked */
        int fd;             /* owned; -1 until bound or adopted */
        /* What the kernel made of the bind of an inet or unix socket, read back once bound:
         * the port (the one asked for, or the one it picked for port 0), IPV6_V6ONLY and the
         * backlog of the listen(). The rest of what it says is the spec's: listener_info(). */
        int info_backlog;
        uint16_t info_port;
        /* The socket filter (IPAddressAllow=, IPAddressDeny=) the kernel reports on fd after
         * the bind, in instructions (at most BPF_MAXINSNS, 4096); 0: none. Locked: it stays as
         * long as the fd. */
        uint16_t filter_insns;
        int8_t info_v6only;
        uint8_t watch;      /* a ListenerWatch */
        bool have_info;
        bool unpollable;    /* epoll refused its fd (a regular file): it cannot be watched */

        /* On-demand activation: the owner is the service its socket unit activates. */
        bool want_watch;    /* what the owner asked for; a pause defers it */
        bool joined;        /* counted by its event loop's epoll watch (listener.c) */
        bool in_epoll;      /* its fd is in that watch: while WATCHING */
        bool serving, stalled; /* AcceptStallSec= (below) */
        sd_event *event;    /* borrowed */
        ListenerTriggerFunc on_trigger;
        void *owner;
        /* AcceptStallSec= (in limits): while its service serves, a connection that waits in
         * the queue for that long without being accepted is told. A one-shot watch (on a
         * duplicate of fd) wakes at the first waiting connection, then a timer compares the
         * waiting ones. */
        ListenerLimits *limits; /* made at its first event; NULL before */
        ListenerRetry *retry;   /* while a bind fails; NULL while bound */
};

/* Why the last bind of l failed; NULL while it is bound (or was never tried). */
static inline const char *listener_bind_error(const Listener *l) {
        return l->retry ? l->retry->error : NULL;
}

#define LISTENER_RETRY_BASE_USEC (1 * USEC_PER_SEC)
#define LISTENER_RETRY_CAP_USEC (30 * USEC_PER_SEC)

/* A new, unbound listener for spec (copied; its unit is borrowed), named in LISTEN_FDNAMES as
 * its unit says (FileDescriptorName=, or the unit's name). Returns 0 or -ENOMEM. */
int listener_new(Listener **ret, const BindSpec *spec);
/* Makes l the listener of spec (a new version of its unit after a daemon-reload; the same
 * socket): spec and so fd name. Returns 0. */
int listener_set_spec(Listener *l, const BindSpec *spec);
/* Its name in LISTEN_FDNAMES: its unit's FileDescriptorName=, else the unit's name. Borrowed
 * from the unit. */
const char *listener_fdname(const Listener *l);
Listener *listener_free(Listener *l);
/* The unit of listeners[i] in an array of Listener * (a UnitOfFunc, unit-index.h). */
const Unit *listener_array_unit(const void *listeners, size_t i);
static inline void listener_freep(Listener **l) {
        *l = listener_free(*l);
}

/* Binds l (listener_bind()) and reads it back. Returns 0, or a negative errno with the reason
 * in err; on success err may hold warnings to log. */
int listener_open(Listener *l, char *err, size_t errlen);
/* Takes fd, a socket bound as l's spec says (by the berthd before a daemon-reexec), and reads
 * it back as listener_open() does. */
void listener_adopt(Listener *l, int fd);
/* The length in instructions of the classic BPF filter attached to fd (borrowed), read back
 * with SO_GET_FILTER: 0 when there is none. Returns it or a negative errno. */
int listener_read_filter(int fd);
/* The log line for a bound listener (listener_describe(), or bind_spec_describe() for what has
 * no address to read back: "dm.socket: listening on FIFO /run/dm (mode 0600)"). */
const char *listener_describe_bound(const Listener *l, char *buf, size_t buflen);
/* What the kernel says of l's socket (bound, inet or unix), as listener_read_back() would,
 * from what was read back once bound. Returns 0, -ENOTCONN when it is not bound or has no
 * address, or a negative errno. */
int listener_info(const Listener *l, ListenerInfo *ret);
/* What l is bound to, in one word: the address the kernel reports (asked now), else
 * bind_spec_name(). At least BIND_SPEC_NAME_MAX bytes hold any. Returns buf. */
const char *listener_name(const Listener *l, char *buf, size_t buflen);

/* Whether l, bound as it is, is what spec asks for: same unit, address (or path, name, netlink
 * family and group), type, dual-stack state and options. Then a daemon-reload keeps the kernel
 * socket. */
bool listener_same(const Listener *l, const BindSpec *spec);

/* RemoveOnStop=yes, when l (bound) goes because berthd stops or a daemon-reload drops it, as
 * systemd does when a socket unit stops: removes its unix socket file or FIFO (only while it is
 * still the one l has), its message queue, and the unit's Symlinks= that still point to it.
 * What a listener of live (the ones that stay; may be NULL) also has is kept. Logs what it
 * removes. */
void listener_remove_nodes(const Listener *l, Listener *const *live, size_t n_live);

/* Whether a bind of spec that failed with error (a negative errno) is worth trying again: an
 * inet or unix address that is held, or not there yet. */
bool listener_bind_error_is_transient(const BindSpec *spec, int error);
/* Keeps err as why l is not bound. Returns 0 or -ENOMEM. */
int listener_set_bind_error(Listener *l, const char *err);
/* l, whose bind failed (listener_set_bind_error()), tries again on event, with back-off, until
 * it binds (then it logs its line and watches as its owner wants). Returns 0 or a negative
 * errno (logged). */
int listener_arm_retry(Listener *l, sd_event *event);

/* Its service serves now (watch for connections it leaves waiting), or no longer does. */
void listener_set_serving(Listener *l, bool serving);

/* Makes owner (a service) the one a readable event starts, on event. */
void listener_set_owner(Listener *l, sd_event *event, ListenerTriggerFunc f, void *owner);
/* The owner wants its socket watched (a client starts it), or not. Returns 0 or a negative
 * errno (logged). */
int listener_set_watch(Listener *l, bool on);

/* Not watched for usec, then watched again (as its owner wants): a TriggerLimitBurst= pause,
 * or an accept that ran out of fds. Returns 0 or a negative errno (nothing changed). */
int listener_pause(Listener *l, usec_t usec);
/* Its trigger and poll limit windows, made on first use; NULL on OOM. */
ListenerLimits *listener_limits(Listener *l);

const char *listener_watch_to_string(ListenerWatch w);
