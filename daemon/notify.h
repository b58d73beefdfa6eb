/* notify: the NOTIFY_SOCKET receiver (SPEC §4 "Readiness"). berthd owns one AF_UNIX datagram
 * socket at RUNTIME/notify with SO_PASSCRED; every service gets its path in $NOTIFY_SOCKET.
 * Each datagram is checked (size, NUL bytes, credentials), parsed by the pure notify-parse
 * module, attributed to a service by the sender's pid and NotifyAccess=, and handed to it.
 * Bad datagrams are dropped with a log line naming the peer; nothing else is affected.
 * notify finds services through the function it is given; it does not know the manager. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "common/ratelimit.h"
#include "daemon/service.h"

struct NotifyMessage;

/* The service pid belongs to, and its role there, or NULL. */
typedef Service *(*NotifyFindFunc)(pid_t pid, NotifyRole *ret_role, void *userdata);

typedef struct Notify {
        int fd;
        char *path;
        sd_event_source *io_source;
        NotifyFindFunc find;
        void *userdata;
        unsigned long n_dropped; /* bad or refused datagrams, for tests and status */
        RateLimit warn_limit;    /* on the warnings about them */
        RateLimit drop_limit;    /* on reading them: past it, the socket rests */
        RateLimit rest_log_limit; /* on saying so */
        sd_event_source *resume_source; /* timer: read again after a rest */
} Notify;

/* Creates the socket at path (a stale socket there is replaced), or takes fd (>= 0: bound
 * there already, by the berthd before a daemon-reexec), and watches it on event. Returns 0 or
 * a negative errno (logged). */
int notify_new(Notify **ret, sd_event *event, const char *path, int fd, NotifyFindFunc find,
               void *userdata);
Notify *notify_free(Notify *n);
static inline void notify_freep(Notify **n) {
        *n = notify_free(*n);
}

/* Whether NotifyAccess=access lets a sender in this role notify: all lets anyone of the
 * service; exec its main and control processes (and the one being replaced, or a failed
 * successor); main only the main process (and the one being replaced, which was main). */
bool notify_access_allows(NotifyAccess access, NotifyRole role);

/* Attributes one parsed message from pid and hands it to its service, or drops it with a log
 * line. Consumes fds. n may have no socket (tests). */
void notify_dispatch(Notify *n, pid_t pid, const struct NotifyMessage *msg, int *fds,
                     size_t n_fds);
