/* control-bus: what the control transport (control-bus.c) shares with the methods
 * (control-methods.c): the Control and its clients, the calls waiting for an outcome, and the
 * caps. Only the control files include this. */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "common/control-interface.h"
#include "common/macro.h"
#include "common/ratelimit.h"
#include "daemon/control-gate.h"

typedef struct Manager Manager;
typedef struct Control Control;

#define CONTROL_CLIENTS_RESERVED 8     /* slots only root and berthd's uid may take */
#define CONTROL_CLIENTS_PER_UID_MAX 4  /* connections of one unprivileged uid */
#define CONTROL_AUTH_TIMEOUT_USEC (10 * USEC_PER_SEC)
/* An authenticated client that sends nothing for this long (and waits for no reply) is
 * disconnected, so that idle connections cannot hold every slot. */
#define CONTROL_IDLE_TIMEOUT_USEC (20 * USEC_PER_SEC)
#define CONTROL_ACCEPT_RETRY_USEC (100 * USEC_PER_MSEC)
#define CONTROL_ACCEPT_BATCH 16        /* accept() calls per wakeup */
#define CONTROL_WQUEUE_MAX 8           /* replies a client may leave unread */
#define CONTROL_DRAIN_MAX 1024         /* messages a client may send along with "BEGIN" */
#define CONTROL_REFUSAL_LOG_USEC (10 * USEC_PER_SEC)
#define CONTROL_REFUSAL_LOG_BURST 20   /* refused or dropped clients logged per interval */
#define CONTROL_ERROR_MAX 1024         /* the manager's one-line messages */
#define CONTROL_FDS_MAX 253            /* SCM_MAX_FD: fds one sendmsg() may carry */
#define CONTROL_GATE_BUFFER (16 * 1024) /* bytes read from a client at a time */
#define CONTROL_GATE_PAIR_BUFFER (256 * 1024) /* SO_SNDBUF of the gate's end of the pair */
#define CONTROL_REPLY_MAX (BERTH_CONTROL_MESSAGE_MAX - 64 * 1024) /* room for the framing */

/* One ListUnits entry: name, type, load state, state, main pid, since, restarts, last exit,
 * description. control-interface.h's signature line reads "ssssuttus", which does not match
 * its own field list (restarts is a count, last exit a string); this follows the fields. */
#define LIST_UNITS_ENTRY "ssssutuss"
/* One ListSockets entry: unit, address, protocol, stack, reach, backlog, queued, service,
 * service state, filter. */
#define LIST_SOCKETS_ENTRY "sssssuusss"

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
        bool trim_wanted;               /* control_trim_after_reply(): on post, once written */

        ControlClient *clients[BERTH_CONTROL_CLIENTS_MAX];
        size_t n_clients;
        uint64_t n_accepted; /* numbers the clients in debug messages */

        RateLimit refusal_log;

        ControlPending *pending; /* RestartUnit calls waiting for their outcome */
};

struct ControlClient {
        Control *control; /* borrowed */
        /* The client's bytes come in on fd, pass the gate, and go out on gate_fd to sd-bus,
         * which reads the other end of that socket pair and writes its replies straight to
         * the client (a duplicate of fd). */
        sd_bus *bus;      /* owns its ends: the pair's other end and the duplicate */
        int fd;
        int gate_fd;
        sd_event_source *in_source;  /* io: fd readable */
        sd_event_source *out_source; /* io: gate_fd writable, while buffer holds bytes */
        ControlGate gate;
        uint8_t buffer[CONTROL_GATE_BUFFER]; /* passed the gate, not yet written to gate_fd */
        size_t buffer_start, buffer_end;
        sd_event_source *timer_source; /* the authentication deadline */
        struct ucred ucred;            /* the peer, at connect() */
        gid_t *groups;                 /* its supplementary groups (SO_PEERGROUPS), at connect() */
        size_t n_groups;
        uint64_t number;
        bool running; /* authenticated, and what it sent with "BEGIN" processed */
        bool dead;
        bool eof; /* the client hung up; sd-bus is told once the buffer is written */
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

/* The object and driver interfaces every client gets (control-methods.c). */
extern const sd_bus_vtable control_vtable[], control_driver_vtable[];

/* root or berthd's own uid: may change state and get fds. */
bool control_uid_is_privileged(uid_t uid);
/* Whether the peer had gid as its primary or a supplementary group when it connected. */
bool control_client_in_group(const ControlClient *cl, gid_t gid);

/* A call that is answered later (RestartUnit): linked into cl's Control until freed. */
ControlPending *control_pending_new(ControlClient *cl, sd_bus_message *call);
ControlPending *control_pending_free(ControlPending *p);
