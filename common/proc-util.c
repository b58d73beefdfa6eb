/* proc-util: see proc-util.h. Both readers take the first line of a small file with one read():
 * /proc files of this kind are generated whole on the first read. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/macro.h"
#include "common/proc-util.h"

/* Reads the first line of path into buf (size > 1 bytes), without its newline. */
static int read_first_line(const char *path, char *buf, size_t size) {
        _cleanup_close_ int fd = -1;
        ssize_t n;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, size - 1);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return 0;
}

int proc_read_comm(pid_t pid, char *buf, size_t size) {
        char path[64], comm[PROC_COMM_MAX + 1];
        int r;

        if (!buf || size == 0)
                return -EINVAL;
        buf[0] = '\0';
        if (pid <= 0)
                return -EINVAL;

        snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
        r = read_first_line(path, comm, sizeof comm);
        if (r < 0)
                return r;
        snprintf(buf, size, "%s", comm);
        return 0;
}

int proc_read_int(const char *path, int *ret) {
        char buf[64], *end;
        long v;
        int r;

        r = read_first_line(path, buf, sizeof buf);
        if (r < 0)
                return r;
        errno = 0;
        v = strtol(buf, &end, 10);
        if (errno != 0 || end == buf || *end != '\0' || v < INT_MIN || v > INT_MAX)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int proc_parse_starttime(const char *stat, unsigned long long *ret) {
        const char *p = stat ? strrchr(stat, ')') : NULL;
        unsigned long long v;
        char *end;

        if (!p)
                return -EINVAL;
        p++;
        /* After the ')': field 3 (the state) is the first; the start time is field 22. */
        for (unsigned field = 3; field < 22; field++) {
                p += strspn(p, " ");
                if (*p == '\0')
                        return -EINVAL;
                p += strcspn(p, " ");
        }
        p += strspn(p, " ");
        if (*p < '0' || *p > '9')
                return -EINVAL;
        errno = 0;
        v = strtoull(p, &end, 10);
        if (errno != 0 || (*end != ' ' && *end != '\0' && *end != '\n'))
                return -EINVAL;
        *ret = v;
        return 0;
}

int proc_read_starttime(pid_t pid, unsigned long long *ret) {
        char path[64], buf[1024];
        int r;

        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        r = read_first_line(path, buf, sizeof buf);
        if (r < 0)
                return r;
        return proc_parse_starttime(buf, ret);
}
