/* exec-check: --check's look for the programs of the units' commands (exec-check.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/env-util.h"
#include "common/log.h"
#include "common/macro.h"
#include "daemon/exec-check.h"
#include "daemon/spawn.h"

const char *exec_check_search_path(const ServiceConfig *c) {
        const char *path = env_get(service_config_process(c)->environment, "PATH");

        return path ?: getenv("PATH") ?: SPAWN_DEFAULT_PATH;
}

int exec_check_find(const char *name, const char *search_path, char **ret_path) {
        _cleanup_free_ char *env = NULL;

        if (asprintf(&env, "PATH=%s", search_path) < 0)
                return -ENOMEM;
        return spawn_find_executable(name, (char *[]) { env, NULL }, ret_path);
}

/* Why the program of cmd cannot be run, in why (empty when it can). An absolute path must be
 * an executable regular file; a bare name must be one in search_path. Returns 0, or -ENOMEM. */
static int exec_check_program(const ExecCommand *cmd, const char *search_path, char *why,
                              size_t why_size) {
        _cleanup_free_ char *found = NULL;
        struct stat st;
        int r;

        why[0] = '\0';
        if (cmd->path[0] == '/') {
                if (stat(cmd->path, &st) < 0)
                        snprintf(why, why_size, "'%s': %s", cmd->path, strerror(errno));
                else if (!S_ISREG(st.st_mode))
                        snprintf(why, why_size, "'%s' is not a regular file", cmd->path);
                else if (access(cmd->path, X_OK) < 0)
                        snprintf(why, why_size, "'%s' is not executable", cmd->path);
                return 0;
        }
        r = exec_check_find(cmd->path, search_path, &found);
        if (r == -ENOMEM)
                return r;
        if (r == -EACCES)
                snprintf(why, why_size, "'%s' in PATH (%s) is not an executable file", cmd->path,
                         search_path);
        else if (r < 0)
                snprintf(why, why_size, "'%s' is not found in PATH (%s)", cmd->path,
                         search_path);
        return 0;
}

/* One key's commands. */
typedef struct ExecList {
        const char *key;
        const ExecCommand *cmds;
        size_t n;
} ExecList;

/* Checks the commands of u's keys, in the order they run; adds the warnings logged to
 * *warnings. Returns 0, or -ENOMEM. */
static int exec_check_lists(const Unit *u, const ExecList *lists, size_t n_lists,
                            const char *search_path, unsigned *warnings) {
        for (size_t l = 0; l < n_lists; l++)
                for (size_t i = 0; i < lists[l].n; i++) {
                        const ExecCommand *cmd = &lists[l].cmds[i];
                        char why[512];
                        int r;

                        r = exec_check_program(cmd, search_path, why, sizeof why);
                        if (r < 0)
                                return r;
                        if (!why[0])
                                continue;
                        if (cmd->ignore_failure) {
                                log_info("%s:%u: %s: %s; the '-' prefix makes %s skip it",
                                         strempty(cmd->origin.file), cmd->origin.line,
                                         lists[l].key, why, u->name);
                                continue;
                        }
                        log_warning("%s:%u: %s: %s, so %s cannot start: give the program's "
                                    "absolute path, or run berthd with its directory in PATH, "
                                    "ignoring", strempty(cmd->origin.file), cmd->origin.line,
                                    lists[l].key, why, u->name);
                        (*warnings)++;
                }
        return 0;
}

static int exec_check_service(const Unit *u, unsigned *w) {
        const ServiceConfig *c = &u->service;
        const ServiceHooks *h = service_config_hooks(c);
        const ExecList lists[] = {
                { "ExecCondition=", h->exec_condition, h->n_exec_condition },
                { "ExecStartPre=", h->exec_start_pre, h->n_exec_start_pre },
                { "ExecStart=", c->exec_start, c->n_exec_start },
                { "ExecStartPost=", h->exec_start_post, h->n_exec_start_post },
                { "ExecReload=", h->exec_reload, h->n_exec_reload },
                { "ExecStop=", h->exec_stop, h->n_exec_stop },
                { "ExecStopPost=", h->exec_stop_post, h->n_exec_stop_post },
        };

        return exec_check_lists(u, lists, ELEMENTSOF(lists), exec_check_search_path(c), w);
}

/* A socket's hooks run with berthd's own environment (socket-hook.c). */
static int exec_check_socket(const Unit *u, unsigned *w) {
        const SocketHooks *h = socket_config_hooks(&u->socket);
        const ExecList lists[] = {
                { "ExecStartPre=", h->exec_start_pre, h->n_exec_start_pre },
                { "ExecStartPost=", h->exec_start_post, h->n_exec_start_post },
                { "ExecStopPre=", h->exec_stop_pre, h->n_exec_stop_pre },
                { "ExecStopPost=", h->exec_stop_post, h->n_exec_stop_post },
        };

        return exec_check_lists(u, lists, ELEMENTSOF(lists), getenv("PATH") ?: SPAWN_DEFAULT_PATH,
                                w);
}

unsigned exec_check_units(Unit *const *units, size_t n) {
        unsigned warnings = 0;

        for (size_t i = 0; i < n; i++) {
                int r = 0;

                if (units[i]->type == UNIT_SERVICE)
                        r = exec_check_service(units[i], &warnings);
                else if (units[i]->type == UNIT_SOCKET)
                        r = exec_check_socket(units[i], &warnings);
                if (r < 0) {
                        log_oom();
                        break;
                }
        }
        return warnings;
}
