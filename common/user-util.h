/* Users and groups: names or numeric ids to uids and gids, as systemd accepts them. Used by
 * spawn (User=, Group=, SupplementaryGroups=) and listener (SocketUser=, SocketGroup=). No
 * logging. */
#pragma once

#include <grp.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* A numeric id: decimal digits only, at most 10, below (uint32_t) -1. */
bool parse_user_id(const char *s, uint32_t *ret);

/* getpwnam_r() (or getpwuid_r() when name is NULL) with a buffer that grows on ERANGE.
 * Returns 1 and the entry (its strings in *ret_buf, which the caller frees), 0 when there is
 * none, or a negative errno. */
int user_lookup(const char *name, uid_t uid, struct passwd *ret, char **ret_buf);
/* The same for groups. */
int group_lookup(const char *name, gid_t gid, struct group *ret, char **ret_buf);

/* A group name or number to a gid. Returns 0, -ESRCH for an unknown name, or a negative
 * errno from the lookup. */
int group_resolve(const char *name, gid_t *ret);
/* A user name or number to a uid, and its primary group in *ret_gid (for a number with no
 * passwd entry: the same number). Returns 0, -ESRCH for an unknown name, or a negative errno. */
int user_resolve(const char *name, uid_t *ret_uid, gid_t *ret_gid);

/* The $HOME and $SHELL a service running as pw gets, by systemd 252's USER_CREDS_CLEAN rules
 * (src/basic/user-util.c, get_user_creds() and synthesize_user_creds()): root has /root and
 * /bin/bash (/bin/sh without it); nobody (65534) has neither; anyone else has no home that is
 * empty, "/" or relative, and no shell that is empty, relative or a nologin shell. NULL for
 * "not set". */
void user_clean_home_shell(const struct passwd *pw, const char **ret_home,
                           const char **ret_shell);
