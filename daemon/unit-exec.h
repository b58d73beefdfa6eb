/* unit-exec: command lines (ExecStart=, ExecStartPre=, ExecReload=, ExecStop=) to ExecCommand
 * lists (see unit-exec.c). Internal to the unit-file modules. */
#pragma once

#include <stddef.h>

#include "daemon/unit-file.h"
#include "daemon/unit-load.h"

/* Frees the n commands of *list and their strings; leaves *list NULL and *n 0. */
void exec_command_list_free(ExecCommand **list, size_t *n);

/* ParseFunc (unit-load.h) for a command-line key: data is the ExecCommand * list field, and
 * ConfigItem.arg the offset in Unit of its size_t count. Appends the command, with its origin;
 * an empty value empties the list. Returns 0, also when the value was invalid (reported), or a
 * negative errno on allocation failure. */
int exec_command_parse(LoadContext *c, const ConfigItem *it, const char *value, unsigned line,
                       void *data);
