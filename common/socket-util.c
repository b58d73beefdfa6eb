/* socket-util: see socket-util.h. */
#include <errno.h>
#include <sys/socket.h>

#include "common/socket-util.h"

int getsockopt_int(int fd, int level, int name, int *ret) {
        int v = 0;
        socklen_t l = sizeof v;

        if (getsockopt(fd, level, name, &v, &l) < 0)
                return -errno;
        *ret = v;
        return 0;
}
