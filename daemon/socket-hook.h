/* socket-hook: the commands of a socket unit's ExecStartPre=, ExecStartPost=, ExecStopPre=
 * and ExecStopPost=, run one after the other, each waited for within the unit's TimeoutSec=
 * (systemd.socket(5)). berthd runs them in line, as it binds or closes the unit's sockets:
 * they are short checks and set-up steps (Debian's sssd units guard their sockets with one).
 * A command that fails, or runs out of time (it is killed), fails the step unless its "-"
 * prefix says to ignore that. Output goes to berthd's own standard output and error. */
#pragma once

#include <stddef.h>

#include "daemon/unit-file.h"

/* Runs cmds (n of them) of the socket unit u for key ("ExecStartPre"). Returns 0, or a
 * negative errno with why in err: which command, and how it failed. */
int socket_hook_run(const Unit *u, const char *key, const ExecCommand *cmds, size_t n,
                    char *err, size_t errlen);
