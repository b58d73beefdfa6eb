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
        return env_get(c->environment, "PATH") ?: getenv("PATH") ?: SPAWN_DEFAULT_PATH;
}

/* Why the program of cmd cannot be run, in why (empty when it can). An absolute path must be
 * an executable regular file; a bare name must be one in search_path. Returns 0, or -ENOMEM. */
static int exec_check_program(const ExecCommand *cmd, const char *search_path, char *why,
                              size_t why_size) {
        _cleanup_free_ char *env = NULL, *found = NULL;
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
        if (asprintf(&env, "PATH=%s", search_path) < 0)
                return -ENOMEM;
        r = spawn_find_executable(cmd->path, (char *[]) { env, NULL }, &found);
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

/* Checks the n commands of one key of u; adds the warnings logged to *warnings. Returns 0, or
 * -ENOMEM. */
static int exec_check_list(const Unit *u, const char *key, const ExecCommand *cmds, size_t n,
                           const char *search_path, unsigned *warnings) {
        for (size_t i = 0; i < n; i++) {
                const ExecCommand *cmd = &cmds[i];
                char why[512];
                int r;

                r = exec_check_program(cmd, search_path, why, sizeof why);
                if (r < 0)
                        return r;
                if (!why[0])
                        continue;
                if (cmd->ignore_failure) {
                        log_info("%s:%u: %s: %s; the '-' prefix makes %s skip it",
                                 strempty(cmd->origin.file), cmd->origin.line, key, why,
                                 u->name);
                        continue;
                }
                log_warning("%s:%u: %s: %s, so %s cannot start: give the program's absolute "
                            "path, or run berthd with its directory in PATH, ignoring",
                            strempty(cmd->origin.file), cmd->origin.line, key, why, u->name);
                (*warnings)++;
        }
        return 0;
}

/* A service's commands, in the order they run. */
static int exec_check_service(const Unit *u, unsigned *w) {
        const ServiceConfig *c = &u->service;
        const ServiceHooks *h = service_config_hooks(c);
        const char *p = exec_check_search_path(c);
        int r;

        r = exec_check_list(u, "ExecCondition=", h->exec_condition, h->n_exec_condition, p, w);
        if (r >= 0)
                r = exec_check_list(u, "ExecStartPre=", h->exec_start_pre, h->n_exec_start_pre,
                                    p, w);
        if (r >= 0)
                r = exec_check_list(u, "ExecStart=", c->exec_start, c->n_exec_start, p, w);
        if (r >= 0)
                r = exec_check_list(u, "ExecStartPost=", h->exec_start_post,
                                    h->n_exec_start_post, p, w);
        if (r >= 0)
                r = exec_check_list(u, "ExecReload=", h->exec_reload, h->n_exec_reload, p, w);
        if (r >= 0)
                r = exec_check_list(u, "ExecStop=", h->exec_stop, h->n_exec_stop, p, w);
        if (r >= 0)
                r = exec_check_list(u, "ExecStopPost=", h->exec_stop_post, h->n_exec_stop_post,
                                    p, w);
        return r;
}

/* A socket's hooks run with berthd's own environment (socket-hook.c). */
static int exec_check_socket(const Unit *u, unsigned *w) {
        const SocketHooks *h = socket_config_hooks(&u->socket);
        const char *p = getenv("PATH") ?: SPAWN_DEFAULT_PATH;
        int r;

        r = exec_check_list(u, "ExecStartPre=", h->exec_start_pre, h->n_exec_start_pre, p, w);
        if (r >= 0)
                r = exec_check_list(u, "ExecStartPost=", h->exec_start_post,
                                    h->n_exec_start_post, p, w);
        if (r >= 0)
                r = exec_check_list(u, "ExecStopPre=", h->exec_stop_pre, h->n_exec_stop_pre, p,
                                    w);
        if (r >= 0)
                r = exec_check_list(u, "ExecStopPost=", h->exec_stop_post, h->n_exec_stop_post,
                                    p, w);
        return r;
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
