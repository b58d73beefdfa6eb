/* manager-state: daemon-reexec, berthd's side (manager-state.c says how it goes). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct Manager Manager;
typedef struct Listener Listener;
typedef struct Service Service;
typedef struct ManagerState ManagerState;

/* Before the exec: tries binary (NULL: the path berthd was started from) with
 * --state-version. Returns 0, or a negative errno with why in err: then nothing changed. */
int manager_reexec_prepare(Manager *m, const char *binary, char *err, size_t errlen);
/* The exec itself (after manager_reexec_prepare()): writes the whole state into a memfd and
 * executes. Returns only when that failed: then berthd goes on as it was, with a negative
 * errno (logged). */
int manager_reexec_now(Manager *m);

/* Prepares, then executes from an idle event (so that the caller's answer goes out first).
 * Returns 0, or a negative errno with why in err. */
int manager_reexec_async(Manager *m, const char *binary, char *err, size_t errlen);
/* What a daemon-reexec executes and passes again: the path berthd was started from (read now,
 * so that an upgraded package's binary is the one executed) and argv. Returns 0 or -ENOMEM. */
int manager_set_self(Manager *m, char **argv);

/* After the exec, in the new berthd, before anything else opens an fd: reads the state from
 * state_fd. When it cannot, executes the binary that wrote it (fallback_fd, >= 0) again with
 * the same state; if that fails too, salvages: keeps every fd it was given, finds the sockets
 * among them by address, and stops the services' processes so that they start afresh. failed:
 * this is that previous binary, back: the caller of daemon-reexec is told (the generation
 * stays). Closes both fds. */
void manager_state_take_over(Manager *m, int state_fd, int fallback_fd, bool failed);
/* Reads the state from fd (not closed). Returns 0 or a negative errno (logged). */
int manager_state_load(Manager *m, int fd);
/* The fd of the socket the state has for l's unit and address, taken (with its trigger
 * counters), or -1. */
int manager_state_listener_fd(Manager *m, Listener *l);
int manager_state_notify_fd(Manager *m);
int manager_state_control_fd(Manager *m);
/* Puts s back into the state the state has for its unit: true, or false when it has none. */
bool manager_state_restore_service(Manager *m, Service *s);
/* The counters of every Accept=yes socket. */
void manager_state_restore_accepts(Manager *m);
/* Calls fn for each section of kind ("instance": the Accept=yes instances). */
struct StateSection;
void manager_state_foreach(Manager *m, const char *kind,
                          void (*fn)(Manager *m, const struct StateSection *sec));
/* An instance's service (its socket and connection, the caller's fields, aside). */
int manager_state_deserialize_service(Manager *m, Service *s, const struct StateSection *sec);
/* Whether fd is one the state names and nobody took yet: then the caller has it. */
bool manager_state_take_fd(Manager *m, int fd);
/* Closes what nobody took, and forgets the state. */
void manager_state_done(Manager *m);
