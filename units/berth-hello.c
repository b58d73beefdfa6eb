/* berth-hello: the example HTTP service. It binds nothing: it takes its listening sockets from
 * berthd (or systemd) through sd_listen_fds_with_names(), and answers every request with a
 * greeting that says which socket it came in on. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#define MAX_FDS 64

static void serve(int listen_fd, const char *name) {
        char req[4096], body[256], resp[512];
        int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
        ssize_t n;
        int len;

        if (c < 0)
                return;
        /* One read is enough for a request line from curl; we do not parse it. */
        n = recv(c, req, sizeof req, 0);
        if (n > 0) {
                len = snprintf(body, sizeof body, "hello from berth: socket '%s', pid %d\n",
                               name, (int) getpid());
                len = snprintf(resp, sizeof resp,
                               "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                               "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
                               len, body);
                (void) !write(c, resp, len);
        }
        close(c);
}

int main(void) {
        char **names = NULL;
        struct pollfd pfd[MAX_FDS];
        int n = sd_listen_fds_with_names(1, &names);

        if (n <= 0) {
                fprintf(stderr, "berth-hello: no sockets passed (LISTEN_FDS): run me from berthd "
                                "or systemd-socket-activate\n");
                return EXIT_FAILURE;
        }
        if (n > MAX_FDS)
                n = MAX_FDS;
        for (int i = 0; i < n; i++)
                pfd[i] = (struct pollfd) { .fd = SD_LISTEN_FDS_START + i, .events = POLLIN };
        fprintf(stderr, "berth-hello: serving on %d socket%s\n", n, n == 1 ? "" : "s");
        for (;;) {
                if (poll(pfd, n, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("berth-hello: poll");
                        return EXIT_FAILURE;
                }
                for (int i = 0; i < n; i++)
                        if (pfd[i].revents & POLLIN)
                                serve(pfd[i].fd, names && names[i] ? names[i] : "unknown");
        }
}
