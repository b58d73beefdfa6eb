/* accept: per-connection services (Accept=yes, SPEC §5). The pure part names each instance as
 * systemd 252 does (instance_from_socket(): "N-LOCAL:PORT-REMOTE:PORT", IPv4-mapped addresses
 * printed as IPv4, "N-PID-UID" for a unix peer), writes REMOTE_ADDR= and REMOTE_PORT=, and keys
 * a peer for MaxConnectionsPerSource= (its address; its uid for unix). The runtime part, an
 * AcceptSocket per Accept=yes socket unit, accepts on the unit's listeners in bounded batches
 * (the listener's watch wakes it, so TriggerLimit*= applies as for any socket), closes a
 * connection over MaxConnections= or MaxConnectionsPerSource= at once with a rate-limited log
 * line, pauses a listener for a moment on EMFILE/ENFILE instead of spinning, and hands every
 * other connection to the caller, which starts its instance. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <systemd/sd-event.h>

#include "common/address.h"
#include "common/ratelimit.h"
#include "daemon/listener.h"
#include "daemon/unit-file.h"

#define ACCEPT_BATCH 64 /* connections accepted per wakeup, at most */
/* fds berthd must have free before it accepts: the connection, its output pipe, and what
 * spawning the instance opens for a moment (/dev/null twice, the error pipe, cgroup.procs). */
#define ACCEPT_FD_HEADROOM 8
#define ACCEPT_PAUSE_USEC (250 * USEC_PER_MSEC) /* after EMFILE, ENFILE, ENOBUFS or ENOMEM */
/* "4294967295-" and two "[IPv6]:65535" parts, or "N-PID-UID", with room to spare. */
#define ACCEPT_INSTANCE_MAX 160
#define ACCEPT_REMOTE_ADDR_MAX (sizeof("REMOTE_ADDR=") + 46)
#define ACCEPT_REMOTE_PORT_MAX (sizeof("REMOTE_PORT=") + 6)

/* Both ends of an accepted connection. */
typedef struct AcceptPeer {
        SockAddr local, remote;
        bool have_cred;    /* unix: SO_PEERCRED was read */
        struct ucred cred;
} AcceptPeer;

/* The instance name of connection number nr (the socket's count of accepted connections,
 * from 0). Returns 0, or -EAFNOSUPPORT for a family systemd does not name. */
int accept_instance_name(unsigned nr, const AcceptPeer *p, char *buf, size_t len);

/* "REMOTE_ADDR=..." and "REMOTE_PORT=..." of an inet peer (mapped IPv4 as IPv4). Returns
 * the number of strings written: 2, or 0 for any other family (both then ""). */
int accept_remote_env(const AcceptPeer *p, char addr[static ACCEPT_REMOTE_ADDR_MAX],
                      char port[static ACCEPT_REMOTE_PORT_MAX]);

/* What MaxConnectionsPerSource= counts by: the peer's IP address (mapped IPv4 as IPv4), or
 * its uid on a unix socket. */
typedef struct AcceptSourceKey {
        int family; /* AF_INET, AF_INET6, or AF_UNIX for a uid */
        uint8_t addr[16];
        uint32_t uid;
} AcceptSourceKey;

/* Returns false when p has no source to count (a unix peer without credentials). */
bool accept_source_key(const AcceptPeer *p, AcceptSourceKey *ret);
bool accept_source_key_equal(const AcceptSourceKey *a, const AcceptSourceKey *b);

/* ---- runtime ---- */

typedef struct AcceptSocket AcceptSocket;

/* Starts the instance for a connection: takes fd (closes it on failure). Returns 0 when an
 * instance now owns it, else a negative errno (logged by the callee). */
typedef int (*AcceptSpawnFunc)(AcceptSocket *a, int fd, const AcceptPeer *peer,
                               const char *instance, void *userdata);

typedef struct AcceptSource {
        AcceptSourceKey key;
        unsigned n;
} AcceptSource;

struct AcceptSocket {
        char *name;             /* the socket unit's name; owned */
        const SocketConfig *cfg; /* the unit's [Socket], borrowed; updated by daemon-reload */
        unsigned n_accepted;    /* the N of the next instance name */
        unsigned n_connections; /* live instances */
        unsigned n_refused;     /* connections closed over a limit, since berthd started */
        AcceptSource *sources;  /* live instances per source */
        size_t n_sources;
        RateLimit refuse_limit; /* the log lines about refused connections */
        RateLimit pause_limit;  /* the log lines about EMFILE pauses */
        AcceptSpawnFunc spawn;
        void *userdata;
};

int accept_socket_new(AcceptSocket **ret, const char *name, const SocketConfig *cfg,
                      AcceptSpawnFunc spawn, void *userdata);
AcceptSocket *accept_socket_free(AcceptSocket *a);

/* A listener's watch woke (its owner is a): accepts a batch, then watches again (or after a
 * pause). For listener_set_owner(). */
void accept_on_trigger(Listener *l, void *owner);

/* daemon-reexec: a connection (fd, borrowed) the berthd before had accepted, counted again;
 * its peer read back from the socket. */
void accept_connection_adopt(AcceptSocket *a, int fd, AcceptPeer *ret);
/* The instance of the connection from peer is over: its slot is free again. */
void accept_connection_done(AcceptSocket *a, const AcceptPeer *peer);
