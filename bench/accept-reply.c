/* activation-reply: the on-demand service of bench/activation. It accepts one connection on
 * the listening socket it was handed (fd 3 with LISTEN_FDS, as berthd and
 * systemd-socket-activate pass it; fd 0 otherwise, as inetd's "wait" services get it), writes
 * one line on it at once and exits, so that what is measured is the supervisor's start of a
 * process: connect() to the first byte. Static, no stdio, nothing read. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define REPLY "activation reply\n"

int main(void) {
        int fd = accept4(getenv("LISTEN_FDS") ? 3 : 0, NULL, NULL, SOCK_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return EXIT_FAILURE;
        n = write(fd, REPLY, sizeof REPLY - 1);
        return n == (ssize_t) (sizeof REPLY - 1) ? EXIT_SUCCESS : EXIT_FAILURE;
}
