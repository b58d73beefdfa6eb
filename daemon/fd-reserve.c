/* fd-reserve: see fd-reserve.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "common/macro.h"
#include "daemon/fd-reserve.h"

static struct rlimit saved;  /* the limit before fd_reserve_begin() */
static unsigned reserve;     /* taken off saved.rlim_cur; 0: not lowered */
static unsigned n_explained; /* EMFILE failures explained while lowered */

int fd_reserve_begin(void) {
        struct rlimit rl;

        if (reserve > 0)
                return 0;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        if (rl.rlim_cur == RLIM_INFINITY)
                return 0;
        saved = rl;
        n_explained = 0;
        rl.rlim_cur -= MIN((rlim_t) FD_RESERVE_MAX, rl.rlim_cur / 4);
        if (rl.rlim_cur == saved.rlim_cur)
                return 0;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                return -errno;
        reserve = (unsigned) (saved.rlim_cur - rl.rlim_cur);
        return 0;
}

unsigned fd_reserve_end(void) {
        unsigned n = n_explained;

        if (reserve == 0)
                return 0;
        /* Raising the soft limit back up to a hard limit we kept is always allowed. */
        (void) setrlimit(RLIMIT_NOFILE, &saved);
        reserve = 0;
        n_explained = 0;
        return n;
}

unsigned long long fd_reserve_limit(void) {
        struct rlimit rl;

        if (reserve > 0)
                return (unsigned long long) saved.rlim_cur;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return 0;
        return (unsigned long long) rl.rlim_cur;
}

unsigned fd_reserve_size(void) {
        return reserve;
}

void fd_reserve_explain(int error, char *err, size_t errlen) {
        size_t n = err ? strnlen(err, errlen) : errlen;

        if (error == -EMFILE && reserve > 0)
                n_explained++;
        if (n + 1 >= errlen)
                return;
        if (error == -ENFILE) {
                snprintf(err + n, errlen - n, " (ENFILE: the system's limit on open files, "
                         "fs.file-max, is reached)");
                return;
        }
        if (error != -EMFILE)
                return;
        if (reserve > 0)
                snprintf(err + n, errlen - n, " (EMFILE: berthd may open %llu files, "
                         "RLIMIT_NOFILE, and keeps %u of them for itself; raise its hard "
                         "limit, LimitNOFILE= of berthd.service)",
                         (unsigned long long) saved.rlim_cur, reserve);
        else
                snprintf(err + n, errlen - n, " (EMFILE: berthd may open %llu files, "
                         "RLIMIT_NOFILE; raise its hard limit, LimitNOFILE= of "
                         "berthd.service)", fd_reserve_limit());
}
