/* control: berthd's control interface (SPEC §6), D-Bus through sd-bus, peer to peer on
 * RUNTIME/control. Implements common/control-interface.h. Owns the listening socket and one
 * sd-bus server connection per client; borrows the manager. */
#pragma once

typedef struct Manager Manager;
typedef struct Control Control;

/* Creates the control socket at path (mode 0666: authorization is per call), replacing a stale
 * socket left by a berthd that is gone, and accepts clients on m->event, which must exist.
 * Logs every failure. Returns 0, -EADDRINUSE when another berthd listens on path, -EEXIST when
 * path is not a socket, or another negative errno. fd >= 0: the socket, already listening at
 * path (a daemon-reexec's), taken. */
int control_new(Control **ret, Manager *m, const char *path, int fd);
/* Its listening socket (a daemon-reexec keeps it). */
int control_fd(const Control *c);
/* Writes out every answer still queued (before a daemon-reexec's exec). */
void control_flush(Control *c);
/* A method built a large reply (a listing of thousands of units or sockets): once every answer
 * is written out, and so freed, the heap's free pages go back to the system (malloc_trim()),
 * or the reply's pages would stay in berthd's RSS until something else trims. */
void control_trim_after_reply(Control *c);

/* Disconnects every client without waiting for them, closes the socket and removes its path
 * (when it is still ours). Accepts NULL; returns NULL. */
Control *control_free(Control *c);
static inline void control_freep(Control **c) {
        *c = control_free(*c);
}
