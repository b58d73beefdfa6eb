/* bind-shim: berthd's side of BindShim=yes (berth.service(5)): where libberth-bind.so is, the
 * LD_PRELOAD a service's main process gets, and the --check warning for programs the shim
 * cannot reach (static or setuid binaries). The library itself is shim/bind.c. */
#pragma once

#include <stddef.h>

#include "daemon/unit-file.h"

/* The library's path: next to berthd's own binary (a build tree), else the installed one.
 * Returns 0 and a copy in *ret_path, or -ENOENT when neither exists. */
int bind_shim_library(char **ret_path);

/* "LD_PRELOAD=..." with lib first, then what env has (what the unit set). Returns it
 * malloc'ed, or NULL on OOM. */
char *bind_shim_preload_entry(char *const *env, const char *lib);

/* Whether the executable at path is out of the shim's reach: returns 1 with why set ("is
 * statically linked", "is setuid"), 0 when it is not (a script included), or a negative errno
 * when it cannot be read. */
int bind_shim_check_binary(const char *path, char *why, size_t why_size);

/* --check: warns for every service with BindShim=yes whose ExecStart= binary the shim cannot
 * reach. Logs. */
void bind_shim_check_units(Unit *const *units, size_t n);
