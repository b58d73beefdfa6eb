/* exec-dirs: RuntimeDirectory=, StateDirectory=, CacheDirectory=, LogsDirectory= and
 * ConfigurationDirectory= (systemd.exec(5)): the names a unit gives, checked as systemd 252
 * checks them; the root each kind goes under, in system and in user mode; the full paths and
 * the $RUNTIME_DIRECTORY-style variables they make; and whether the runtime ones go when a run
 * ends (RuntimeDirectoryPreserve=). Also DynamicUser='s pure half: the user name a unit gets and
 * the uid candidates it tries. Pure: no I/O, no logging; the environment is read through a
 * function the caller gives. service-exec.c creates and removes the directories. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef enum ExecDirType {
        EXEC_DIR_RUNTIME,
        EXEC_DIR_STATE,
        EXEC_DIR_CACHE,
        EXEC_DIR_LOGS,
        EXEC_DIR_CONFIGURATION,
        _EXEC_DIR_TYPE_MAX,
        _EXEC_DIR_TYPE_INVALID = -EINVAL,
} ExecDirType;

typedef enum ExecPreserve {
        EXEC_PRESERVE_NO,      /* removed whenever a run ends, restarts too (systemd's default) */
        EXEC_PRESERVE_YES,     /* never removed */
        EXEC_PRESERVE_RESTART, /* kept across a restart, removed on a stop */
        _EXEC_PRESERVE_MAX,
        _EXEC_PRESERVE_INVALID = -EINVAL,
} ExecPreserve;

/* Caps: directories of one kind per unit; the longest name. */
#define EXEC_DIRS_MAX 256U
#define EXEC_DIR_NAME_MAX 4095U

typedef struct ExecDirs {
        char **names[_EXEC_DIR_TYPE_MAX];  /* relative, simplified ("sshd", "a/b"), in order,
                                            * without repeats; NULL-terminated or NULL */
        mode_t mode[_EXEC_DIR_TYPE_MAX];   /* *DirectoryMode=, default 0755 */
        ExecPreserve runtime_preserve;     /* RuntimeDirectoryPreserve=, default no */
} ExecDirs;

/* "RuntimeDirectory" ... "ConfigurationDirectory", and back (the key without "Mode"). */
const char *exec_dir_type_to_string(ExecDirType t);
ExecDirType exec_dir_type_from_string(const char *key);
/* "RUNTIME_DIRECTORY" ... "CONFIGURATION_DIRECTORY". */
const char *exec_dir_env_name(ExecDirType t);

/* no, yes (and the other booleans), restart. */
const char *exec_preserve_to_string(ExecPreserve p);
ExecPreserve exec_preserve_from_string(const char *s);

/* No directories, every mode 0755, RuntimeDirectoryPreserve=no. */
extern const ExecDirs exec_dirs_none;
void exec_dirs_defaults(ExecDirs *d);
void exec_dirs_done(ExecDirs *d);
bool exec_dirs_any(const ExecDirs *d);

/* One word of a *Directory= value, as systemd reads it: a relative path without "." or ".."
 * components, not under "private/" (DynamicUser='s), printable, at most EXEC_DIR_NAME_MAX bytes;
 * "//" and a trailing "/" are simplified away. Returns 0 and the simplified name in *ret
 * (malloc'ed), -EINVAL with what is wrong in *ret_why (a static string), or -ENOMEM. A word
 * "NAME:LINK" (systemd's symlink form) is -EOPNOTSUPP. */
int exec_dir_name_parse(const char *word, char **ret, const char **ret_why);

/* Appends name (consumed) to kind t, unless it is there already (then it is freed). Returns 0,
 * -E2BIG past EXEC_DIRS_MAX, or -ENOMEM. */
int exec_dirs_add(ExecDirs *d, ExecDirType t, char *name);
/* An empty assignment: kind t has no directories any more. */
void exec_dirs_clear(ExecDirs *d, ExecDirType t);

/* Looks up an environment variable (getenv, or a table in tests). */
typedef const char *(*ExecDirGetenv)(const char *name);

/* The directory kind t goes under. System mode: /run, /var/lib, /var/cache, /var/log, /etc.
 * User mode, as systemd 252's user manager: $XDG_RUNTIME_DIR; $XDG_CONFIG_HOME (~/.config)
 * for state; $XDG_CACHE_HOME (~/.cache); $XDG_CONFIG_HOME/log; $XDG_CONFIG_HOME. A variable
 * counts only when absolute. Returns 0 and *ret (malloc'ed), -ENXIO when user mode lacks what
 * it needs ($XDG_RUNTIME_DIR, or $HOME for a default), or -ENOMEM. */
int exec_dir_root(ExecDirType t, bool user_mode, ExecDirGetenv get, char **ret);

/* The full path of name under root ("/run" + "sshd"). NULL on OOM. */
char *exec_dir_path(const char *root, const char *name);

/* "RUNTIME_DIRECTORY=/run/a:/run/b" for kind t's names under root; *ret = NULL when t has
 * none. Returns 0 or -ENOMEM. */
int exec_dirs_env(const ExecDirs *d, ExecDirType t, const char *root, char **ret);

/* Whether the runtime directories go now that a run ended; restarting: another run follows
 * at once (Restart=, or an operator's restart). */
bool exec_dirs_remove_runtime(ExecPreserve p, bool restarting);

/* ---- DynamicUser= ---- */

/* systemd's range of dynamic uids and gids. */
#define DYNAMIC_UID_MIN 61184U
#define DYNAMIC_UID_MAX 65519U

/* The user name a DynamicUser= service gets without User=: its unit name's prefix
 * ("web" for web.service and web@1.service) when that is a valid user name, else "_du"
 * and 16 hex digits of a hash of it, as systemd does. NULL on OOM. */
char *dynamic_user_name_from_unit(const char *unit);
/* A valid user or group name: [A-Za-z_][A-Za-z0-9_-]*, at most 31 bytes (useradd's rules,
 * which systemd's relaxed check accepts). */
bool dynamic_user_name_is_valid(const char *s);
/* The uid to try first for name (a hash of it, in the range, stable across runs), or for
 * attempt > 0 the next to try (seed: any number; the caller passes random bits). */
uid_t dynamic_uid_candidate(const char *name, unsigned attempt, unsigned long seed);
