/* fd-reserve: room under RLIMIT_NOFILE kept for berthd itself while the units' sockets are
 * bound at start. Everything berthd needs to run (the event loop, its signal and timer fds,
 * the notify and control sockets, control clients, the pipes of the services it starts) is
 * made after the sockets are bound; with more sockets than the limit allows, the sockets past
 * it fail one by one (EMFILE, each named) and berthd still has this room to run with the
 * others. The soft limit is lowered by the reserve during the binding and raised back after,
 * so nothing is held open for it. Process-wide state, as the limit is; no logging. */
#pragma once

#include <stddef.h>

/* fds kept for berthd: its own dozen, BERTH_CONTROL_CLIENTS_MAX (64) control clients, and the
 * pipes of services starting. At most a quarter of the limit. */
#define FD_RESERVE_MAX 128U

/* Lowers the soft RLIMIT_NOFILE by the reserve until fd_reserve_end(). Returns 0, or a
 * negative errno (nothing changed). */
int fd_reserve_begin(void);
/* Raises the soft limit back to what it was before fd_reserve_begin() (a no-op without one).
 * Returns how many failures fd_reserve_explain() explained meanwhile. */
unsigned fd_reserve_end(void);

/* For a failure with EMFILE or ENFILE (error is a negative errno), appends to err (a message
 * of errlen bytes at most) which limit was reached, and how to raise it. Other errors leave
 * err as it is. */
void fd_reserve_explain(int error, char *err, size_t errlen);

/* The soft RLIMIT_NOFILE berthd runs with outside fd_reserve_begin() ... fd_reserve_end(), and
 * the reserve taken off it during the binding (0 outside). */
unsigned long long fd_reserve_limit(void);
unsigned fd_reserve_size(void);
