/* unit-keys: the sections and keys of a unit and what each key does (see unit-keys.c). The
 * loader (unit-file) hands it every section header and assignment the lexer reads. Internal to
 * the unit-file modules. */
#pragma once

#include "daemon/unit-file.h"
#include "daemon/unit-load.h"

/* Starts section name (without brackets) at line of the file being read: sets c->section, or
 * SECTION_IGNORED after a warning for a section that is unknown or not for the unit's type.
 * Returns 0. */
int unit_keys_section(LoadContext *c, const char *name, unsigned line);

/* Applies key=value at line to the unit, in the current section: runs the key's parser, or
 * warns about a key berth does not implement or does not know. Returns 0, also when the value
 * was invalid (reported and counted in c), or a negative errno on allocation failure. */
int unit_keys_assign(LoadContext *c, const char *key, const char *value, unsigned line);
/* After the last file of a unit: says once what was gathered across its files (the
 * sandboxing keys berth does not apply). */
void unit_keys_finish(LoadContext *c);

/* Free the lists of ListenStream= and the other listen keys, and of EnvironmentFile=, leaving
 * them empty. */
void socket_config_listens_free(SocketConfig *s);
void service_process_environment_files_free(ServiceProcess *s);
