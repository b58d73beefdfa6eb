/* exec-check: what `berthd --check` says about the programs of a unit's commands. Each
 * ExecStart= and other Exec*= of a service or a socket is resolved as spawn resolves it at
 * start (spawn_find_executable()), in the PATH that command will get, so a program that
 * cannot be found is a warning with its file and line before the first start fails. */
#pragma once

#include <stddef.h>

#include "daemon/unit-file.h"

/* The PATH a service's commands search for a bare name: Environment='s, else berthd's own,
 * else SPAWN_DEFAULT_PATH (as service_build_env() builds it; an EnvironmentFile= that sets
 * PATH is not read). Borrowed from c or the environment. */
const char *exec_check_search_path(const ServiceConfig *c);

/* Looks name up as spawn will, in search_path: spawn_find_executable()'s results. */
int exec_check_find(const char *name, const char *search_path, char **ret_path);

/* Checks the program of every command of every unit in units. Logs a warning for each that
 * cannot be found or run, naming file:line, the key and the PATH searched; a command with the
 * "-" prefix only gets an info line (as in systemd, a missing program is then skipped). Returns
 * the number of warnings. */
unsigned exec_check_units(Unit *const *units, size_t n);
