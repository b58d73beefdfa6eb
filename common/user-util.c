/* See user-util.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/user-util.h"

/* A numeric id, as systemd accepts them: decimal digits only, not (uid_t) -1. */
bool parse_user_id(const char *s, uint32_t *ret) {
        unsigned long long v = 0;

        if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
                return false;
        for (const char *c = s; *c; c++)
                v = v * 10 + (unsigned long long) (*c - '0');
        if (v >= UINT32_MAX)
                return false;
        *ret = (uint32_t) v;
        return true;
}

/* getpwnam_r()/getpwuid_r() with a buffer that grows on ERANGE. name == NULL looks up uid.
 * Returns 1 and the entry (strings in *ret_buf, owned by the caller), 0 when there is none,
 * or a negative errno. */
int user_lookup(const char *name, uid_t uid, struct passwd *ret, char **ret_buf) {
        long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
        size_t size = hint > 0 ? (size_t) hint : 4096;

        for (;;) {
                _cleanup_free_ char *buf = malloc(size);
                struct passwd *found = NULL;
                int r;

                if (!buf)
                        return -ENOMEM;
                r = name ? getpwnam_r(name, ret, buf, size, &found)
                         : getpwuid_r(uid, ret, buf, size, &found);
                if (r == ERANGE && size < 1024 * 1024) {
                        size *= 2;
                        continue;
                }
                if (r != 0 && r != ENOENT && r != ESRCH)
                        return -r;
                if (!found)
                        return 0;
                *ret_buf = TAKE_PTR(buf);
                return 1;
        }
}

/* See user-util.h. */
int group_lookup(const char *name, gid_t gid, struct group *ret, char **ret_buf) {
        long hint = sysconf(_SC_GETGR_R_SIZE_MAX);
        size_t size = hint > 0 ? (size_t) hint : 4096;

        for (;;) {
                _cleanup_free_ char *buf = malloc(size);
                struct group *found = NULL;
                int r;

                if (!buf)
                        return -ENOMEM;
                r = name ? getgrnam_r(name, ret, buf, size, &found)
                         : getgrgid_r(gid, ret, buf, size, &found);
                if (r == ERANGE && size < 16 * 1024 * 1024) {
                        size *= 2;
                        continue;
                }
                if (r != 0 && r != ENOENT && r != ESRCH)
                        return -r;
                if (!found)
                        return 0;
                *ret_buf = TAKE_PTR(buf);
                return 1;
        }
}

/* A group name or number to a gid. Returns 0, -ESRCH for an unknown name, or a negative
 * errno from the lookup. */
int group_resolve(const char *name, gid_t *ret) {
        _cleanup_free_ char *buf = NULL;
        struct group gr;
        uint32_t id;
        int r;

        if (parse_user_id(name, &id)) {
                *ret = (gid_t) id;
                return 0;
        }
        r = group_lookup(name, 0, &gr, &buf);
        if (r < 0)
                return r;
        if (r == 0)
                return -ESRCH;
        *ret = gr.gr_gid;
        return 0;
}

int user_resolve(const char *name, uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_free_ char *buf = NULL;
        struct passwd pw;
        uint32_t id = 0;
        bool numeric = parse_user_id(name, &id);
        int r;

        r = user_lookup(numeric ? NULL : name, (uid_t) id, &pw, &buf);
        if (r < 0)
                return r;
        if (r == 0) {
                if (!numeric)
                        return -ESRCH;
                *ret_uid = (uid_t) id;
                *ret_gid = (gid_t) id;
                return 0;
        }
        *ret_uid = pw.pw_uid;
        *ret_gid = pw.pw_gid;
        return 0;
}

static bool is_nologin_shell(const char *shell) {
        static const char *const nologin[] = { "/bin/nologin", "/sbin/nologin",
                                               "/usr/bin/nologin", "/usr/sbin/nologin",
                                               "/bin/false", "/usr/bin/false",
                                               "/bin/true", "/usr/bin/true" };

        for (size_t i = 0; i < sizeof nologin / sizeof nologin[0]; i++)
                if (strcmp(shell, nologin[i]) == 0)
                        return true;
        return false;
}

void user_clean_home_shell(const struct passwd *pw, const char **ret_home,
                           const char **ret_shell) {
        const char *home = pw->pw_dir, *shell = pw->pw_shell;

        if (pw->pw_uid == 0) {
                *ret_home = "/root";
                *ret_shell = access("/bin/bash", X_OK) == 0 ? "/bin/bash" : "/bin/sh";
                return;
        }
        if (pw->pw_uid == 65534) {
                *ret_home = *ret_shell = NULL;
                return;
        }
        *ret_home = home && home[0] == '/' && home[strspn(home, "/")] != '\0' ? home : NULL;
        *ret_shell = shell && shell[0] == '/' && !is_nologin_shell(shell) ? shell : NULL;
}
