/* spawn-reply: the per-connection service of bench/spawn-rate. It writes one line and exits,
 * so that what is measured is the spawner: accept, start a process, hand it the connection,
 * reap it. inetd style (the connection on stdout) or, with LISTEN_FDS set, the connection at
 * fd 3. Only a system call or two: no stdio, nothing read. */
#include <stdlib.h>
#include <unistd.h>

#define REPLY "spawn-rate reply\n"

int main(void) {
        int fd = getenv("LISTEN_FDS") ? 3 : 1;
        ssize_t n = write(fd, REPLY, sizeof REPLY - 1);

        return n == (ssize_t) (sizeof REPLY - 1) ? EXIT_SUCCESS : EXIT_FAILURE;
}
