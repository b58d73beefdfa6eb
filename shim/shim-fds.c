/* shim-fds: the inherited sockets and the inherit flag, read once (shim-fds.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shim/shim-fds.h"

static ShimFd fds[SHIM_FDS_MAX];
static size_t n_fds;
static bool inherit, is_main;

int shim_env_ulong(const char *name, unsigned long max, unsigned long *ret) {
        const char *v = getenv(name);
        char *end;
        unsigned long l;

        if (!v || !*v)
                return -ENOENT;
        errno = 0;
        l = strtoul(v, &end, 10);
        if (errno || *end || v[0] == '-' || l > max)
                return -EINVAL;
        *ret = l;
        return 0;
}

__attribute__((constructor(SHIM_FDS_CONSTRUCTOR_PRIORITY))) static void shim_fds_init(void) {
        const char *flag = getenv("BERTH_BIND_SHIM");
        unsigned long pid, n;

        inherit = flag && strcmp(flag, "inherit") == 0;
        is_main = shim_env_ulong("LISTEN_PID", 0x7fffffff, &pid) == 0 &&
                  pid == (unsigned long) getpid();
        if (!is_main || shim_env_ulong("LISTEN_FDS", 0x7fffffff, &n) < 0)
                return;
        for (unsigned long fd = 3; fd < 3 + n && n_fds < SHIM_FDS_MAX; fd++) {
                struct stat st;

                if (fstat((int) fd, &st) == 0 && S_ISSOCK(st.st_mode))
                        fds[n_fds++] = (ShimFd) { .fd = (int) fd, .dev = st.st_dev,
                                                  .ino = st.st_ino };
        }
}

bool shim_is_main(void) {
        return is_main;
}

size_t shim_fds_count(void) {
        return n_fds;
}

const ShimFd *shim_fds_get(size_t i) {
        return i < n_fds ? &fds[i] : NULL;
}

int shim_fd_index(int fd) {
        struct stat st;

        if (n_fds == 0 || fd < 0 || fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                return -1;
        for (size_t i = 0; i < n_fds; i++)
                if (fds[i].dev == st.st_dev && fds[i].ino == st.st_ino)
                        return (int) i;
        return -1;
}

bool shim_inherit(void) {
        return inherit;
}
