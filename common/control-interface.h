/* The control interface between berthd and berthctl (SPEC §6): D-Bus through sd-bus, peer to
 * peer on RUNTIME/control, no bus daemon. `busctl --address=unix:path=RUNTIME/control` can
 * inspect it. Shared by daemon/control.c and client/. This header is the contract; berthd(8)
 * documents it for users.
 *
 * Object /org/berth/Manager, interface org.berth.Manager1. Unit names are full names
 * ("web.service", "web.socket"). Queries are open to every local user; methods marked (priv)
 * need uid 0 or berthd's own uid, checked per call from the peer's credentials.
 *
 *   ListUnits() -> a(ssssutuss)
 *       name, type ("socket"|"service"), load state ("loaded"|"failed"|"template"),
 *       state (a service's state name, e.g. "running", "dead", "failed", "auto-restart",
 *       "backoff"; a socket's "listening" or "failed"), main pid (0: none),
 *       active since (CLOCK_REALTIME usec, 0: never), restarts, last exit ("" or
 *       "exited 1", "killed SIGTERM", "dumped SIGSEGV"), description
 *   GetUnit(s name) -> a{sv}
 *       Name s, Type s, LoadState s, State s, Result s, MainPID u, ControlPID u,
 *       Since t (realtime usec), Restarts u, LastExit s, Description s, FragmentPath s,
 *       DropInPaths as, Listen as (canonical addresses of a socket, or of a service's
 *       sockets), Service s (a socket's service), StatusText s (STATUS=, may be ""),
 *       LoadError s (why it failed to load, may be ""), OldMainPID u (during a
 *       Handover=overlap: the process being replaced, else 0), StoredFds as (the fd store,
 *       by FDNAME=), IPAddressAllow as and IPAddressDeny as (a socket unit's rules, canonical
 *       prefixes such as "127.0.0.0/8"; empty for a service)
 *   ListSockets() -> a(sssssuusss)
 *       unit, address (canonical, read back with getsockname), protocol ("TCP", "UDP",
 *       "unix-stream", "unix-dgram", "unix-seqpacket"), stack ("dual-stack", "ipv6-only",
 *       "ipv4", "unix"; IPV6_V6ONLY read back), reach ("all interfaces", "loopback only",
 *       "one interface", "local"), backlog, queued (connections waiting in the accept queue),
 *       service, service state, filter ("ip": a locked IPAddressAllow=/IPAddressDeny= socket
 *       filter is attached, read back from the kernel; "": none). Fields are only ever added at
 *       the end: clients read rows by their signature.
 *   StartUnit(s) (priv), StopUnit(s) (priv), RestartUnit(s) (priv), ReloadUnit(s) (priv)
 *       A socket unit name acts on its service. Errors below.
 *   Reload() -> as (priv)                 daemon-reload; returns the warnings. On an error in
 *       any unit, fails with BERTH_ERROR_RELOAD_FAILED whose message lists every "file:line:
 *       message"; the units without errors are reloaded, the others keep their old config.
 *   GetUnitFiles(s name) -> a(ss)         (path, content) of the file and its drop-ins, in
 *       the order applied
 *   GetLogs(s name, t after, u max) -> (ta(tus))
 *       The last lines of a service's output with a sequence number greater than `after`
 *       (0: from the oldest kept), at most `max` (0: all kept): returns the next `after` to
 *       ask with, and (seq, pid, line) entries. `logs -f` polls with it.
 *   GetSocketFds(s socket_unit) -> (ahas) (priv)
 *       The bound fds of a socket unit and their LISTEN_FDNAMES names.
 *
 * Errors: BERTH_ERROR_NO_SUCH_UNIT (berthctl exits 4), SD_BUS_ERROR_ACCESS_DENIED ("permission
 * denied"; exits 1 or 4 as systemctl does not distinguish: berthctl exits 1), and
 * BERTH_ERROR_FAILED for anything else (exits 1). */
#pragma once

#define BERTH_CONTROL_SOCKET "control"
/* The runtime directory of system mode, and the variable that names another one for berthd
 * (as the default of --runtime-dir) and berthctl alike, so both find each other without
 * options (berthctl(1), ENVIRONMENT). */
#define BERTH_SYSTEM_RUNTIME_DIR "/run/berth"
#define BERTH_RUNTIME_DIR_ENV "BERTH_RUNTIME_DIR"
#define BERTH_OBJECT_PATH "/org/berth/Manager"
#define BERTH_INTERFACE "org.berth.Manager1"

#define BERTH_ERROR_NO_SUCH_UNIT "org.berth.Error.NoSuchUnit"
#define BERTH_ERROR_FAILED "org.berth.Error.Failed"
#define BERTH_ERROR_RELOAD_FAILED "org.berth.Error.ReloadFailed"

/* Caps: control clients at once, and the largest message berthd accepts. */
#define BERTH_CONTROL_CLIENTS_MAX 64
#define BERTH_CONTROL_MESSAGE_MAX (1U << 20)
