/* notify: the NOTIFY_SOCKET receiver (SPEC §4 "Readiness"). berthd owns one AF_UNIX datagram
 * socket at RUNTIME/notify with SO_PASSCRED; every service gets its path in $NOTIFY_SOCKET.
 * Each datagram is checked (size, NUL bytes, credentials), parsed by the pure notify-parse
 * module, attributed to a service by the sender's pid and NotifyAccess=, and handed to it.
 * Bad datagrams are dropped with a log line naming the peer; nothing else is affected. */
#pragma once

#include <systemd/sd-event.h>

typedef struct Manager Manager;

typedef struct Notify {
        Manager *manager; /* borrowed */
        int fd;
        char *path;
        sd_event_source *io_source;
        unsigned long n_dropped; /* bad datagrams, for tests and status */
} Notify;

/* Creates the socket at path (a stale socket there is replaced) and watches it on m's event
 * loop. Returns 0 or a negative errno (logged). */
int notify_new(Notify **ret, Manager *m, const char *path);
Notify *notify_free(Notify *n);
static inline void notify_freep(Notify **n) {
        *n = notify_free(*n);
}
