/* Tests for daemon/sock-diag.c against the running kernel: the holder of an inet or unix
 * address (another process, this one, one whose pid is hidden from us, none), the accept queue
 * of TCP and unix listeners, and the file a bound unix socket lives at. */

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/address.h"
#include "common/macro.h"
#include "daemon/sock-diag.h"
#include "tests/unit/test-socket.h"
#include "tests/unit/test-util.h"

static char tmpdir[128];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void tmpdir_setup(void) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/berth-test-sock-diag.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmpdir_teardown(void) {
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A socket of socktype bound to a (and listening, for stream and seqpacket); the fd. */
static int bind_socket(const SockAddr *a, int socktype, int backlog) {
        int fd = socket(a->sa.sa_family, socktype | SOCK_CLOEXEC, 0);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(bind(fd, &a->sa, a->len), 0);
        if (socktype != SOCK_DGRAM)
                ck_assert_int_eq(listen(fd, backlog), 0);
        return fd;
}

/* A client connection to a, made (and left waiting in the accept queue) before it returns. */
static int connect_to(const SockAddr *a, int socktype) {
        int fd = socket(a->sa.sa_family, socktype | SOCK_CLOEXEC, 0);

        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(connect(fd, &a->sa, a->len), 0);
        return fd;
}

/* Waits until the listener has a connection to accept. */
static void wait_queued(int lfd) {
        struct pollfd p = { .fd = lfd, .events = POLLIN };

        ck_assert_int_eq(poll(&p, 1, 5000), 1);
}

/* ---- the holder ---- */

START_TEST(test_holder_inet) {
        char buf[512], want[64], where[64];
        uint16_t port;
        pid_t pid;

        pid = spawn_holder("0.0.0.0", SOCK_STREAM, -1, &port);
        snprintf(want, sizeof want, "pid %d (", (int) pid);
        snprintf(where, sizeof where, "listening on 0.0.0.0:%u", port);

        /* Asked about 127.0.0.1:P, the holder of 0.0.0.0:P is found; asked about 0.0.0.0:P
         * too. */
        SockAddr a = make_inet("127.0.0.1", port);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), 0);
        ck_assert_msg(strstr(buf, want) == buf, "%s", buf);
        ck_assert_msg(strstr(buf, where) != NULL, "%s", buf);
        a = make_inet("0.0.0.0", port);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), 0);
        ck_assert_msg(strstr(buf, want) == buf, "%s", buf);

        /* Nothing on UDP on that port. */
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_DGRAM, buf, sizeof buf), -ESRCH);
        ck_assert_str_eq(buf, "");
        reap(pid);
}
END_TEST

START_TEST(test_holder_dual_stack) {
        char buf[512], want[64], where[96];
        uint16_t port;
        pid_t pid;

        if (!have_ipv6()) {
                printf("SKIP: no IPv6\n");
                return;
        }
        /* A dual-stack [::]:P holds IPv4 too. */
        pid = spawn_holder("::", SOCK_STREAM, 0, &port);
        snprintf(want, sizeof want, "pid %d (", (int) pid);
        snprintf(where, sizeof where, "listening on [::]:%u (dual-stack: takes IPv4 too)", port);
        SockAddr a = make_inet("127.0.0.1", port);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), 0);
        ck_assert_msg(strstr(buf, want) == buf, "%s", buf);
        ck_assert_msg(strstr(buf, where) != NULL, "%s", buf);
        reap(pid);

        /* A v6-only [::]:P does not hold 127.0.0.1:P, but does hold [::1]:P. */
        pid = spawn_holder("::", SOCK_STREAM, 1, &port);
        a = make_inet("127.0.0.1", port);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), -ESRCH);
        a = make_inet("::1", port);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), 0);
        snprintf(where, sizeof where, "listening on [::]:%u", port);
        ck_assert_msg(strstr(buf, where) != NULL, "%s", buf);
        ck_assert_msg(strstr(buf, "dual-stack") == NULL, "%s", buf);
        reap(pid);
}
END_TEST

START_TEST(test_holder_udp) {
        char buf[512], want[64], where[64];
        uint16_t port;
        pid_t pid;

        pid = spawn_holder("127.0.0.1", SOCK_DGRAM, -1, &port);
        snprintf(want, sizeof want, "pid %d (", (int) pid);
        snprintf(where, sizeof where, "bound to 127.0.0.1:%u", port);
        SockAddr a = make_inet("127.0.0.1", port);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_DGRAM, buf, sizeof buf), 0);
        ck_assert_msg(strstr(buf, want) == buf, "%s", buf);
        ck_assert_msg(strstr(buf, where) != NULL, "%s", buf);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), -ESRCH);
        reap(pid);
}
END_TEST

START_TEST(test_holder_unix_path) {
        char path[256], buf[512], want[64], where[300];
        _cleanup_close_ int fd = -1;
        SockAddr a;

        /* This process holds it: found by file identity, named by its /proc/PID/fd. */
        snprintf(path, sizeof path, "%s/held.sock", tmpdir);
        a = make_unix(path);
        fd = bind_socket(&a, SOCK_STREAM, 4);
        snprintf(want, sizeof want, "pid %d (", (int) getpid());
        snprintf(where, sizeof where, "listening on %s", path);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), 0);
        ck_assert_msg(strstr(buf, want) == buf, "%s", buf);
        ck_assert_msg(strstr(buf, where) != NULL, "%s", buf);

        /* Another socket type, or a path nobody bound: nobody. */
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_DGRAM, buf, sizeof buf), -ESRCH);
        snprintf(path, sizeof path, "%s/nobody.sock", tmpdir);
        a = make_unix(path);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), -ESRCH);
}
END_TEST

START_TEST(test_holder_unix_abstract) {
        char name[64], buf[512], want[64], where[96];
        _cleanup_close_ int fd = -1;
        SockAddr a;

        /* Through /proc/net/unix: unix_diag does not report abstract names by file. */
        snprintf(name, sizeof name, "@berth-test-sock-diag-%d", (int) getpid());
        a = make_unix(name);
        fd = bind_socket(&a, SOCK_DGRAM, 0);
        snprintf(want, sizeof want, "pid %d (", (int) getpid());
        snprintf(where, sizeof where, "bound to %s", name);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_DGRAM, buf, sizeof buf), 0);
        ck_assert_msg(strstr(buf, want) == buf, "%s", buf);
        ck_assert_msg(strstr(buf, where) != NULL, "%s", buf);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), -ESRCH);
}
END_TEST

static int child_hidden_holder(void *userdata) {
        uint16_t port = *(const uint16_t *) userdata;
        char buf[512], where[64];

        /* Unprivileged, we see the socket through sock_diag but not root's /proc/PID/fd. */
        snprintf(where, sizeof where, "listening on 0.0.0.0:%u", port);
        SockAddr a = make_inet("127.0.0.1", port);
        CHILD_CHECK(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf) == 0);
        CHILD_CHECK(strstr(buf, "a process of uid 0 whose pid is not visible to us") == buf);
        CHILD_CHECK(strstr(buf, where) != NULL);
        return 0;
}

START_TEST(test_holder_hidden) {
        run_beside_hidden_holder(child_hidden_holder);
}
END_TEST

START_TEST(test_holder_nothing) {
        char buf[256] = "x";
        uint16_t port;
        int fd;

        /* A port that was just free. */
        SockAddr a = make_inet("127.0.0.1", 0);
        fd = bind_socket(&a, SOCK_STREAM, 1);
        port = port_of(fd);
        close(fd);
        a = make_inet("127.0.0.1", port);
        ck_assert_int_eq(sock_diag_find_holder(&a, SOCK_STREAM, buf, sizeof buf), -ESRCH);
        ck_assert_str_eq(buf, "");

        /* Neither inet nor unix, or no address at all. */
        SockAddr unspec = {};
        ck_assert_int_eq(sock_diag_find_holder(&unspec, SOCK_STREAM, buf, sizeof buf),
                         -EAFNOSUPPORT);
        ck_assert_int_eq(sock_diag_find_holder(NULL, SOCK_STREAM, buf, sizeof buf), -EINVAL);
}
END_TEST

/* ---- the accept queue ---- */

START_TEST(test_queue_tcp) {
        _cleanup_close_ int fd = -1, c = -1;
        unsigned waiting = 99, backlog = 0;

        SockAddr a = make_inet("127.0.0.1", 0);
        fd = bind_socket(&a, SOCK_STREAM, 7);
        ck_assert_int_eq(sock_diag_queue(fd, &waiting, &backlog), 0);
        ck_assert_uint_eq(waiting, 0);
        ck_assert_uint_eq(backlog, 7);

        a = make_inet("127.0.0.1", port_of(fd));
        c = connect_to(&a, SOCK_STREAM);
        wait_queued(fd);
        ck_assert_int_eq(sock_diag_queue(fd, &waiting, NULL), 0);
        ck_assert_uint_eq(waiting, 1);
}
END_TEST

/* Every listener's queue from one dump, by address: the same numbers as the socket's own. */
START_TEST(test_queues_dump) {
        _cleanup_(tcp_queues_freep) TcpQueues *q = NULL;
        _cleanup_close_ int fd = -1, six = -1, c = -1, r1 = -1, r2 = -1;
        unsigned waiting = 99, backlog = 0;
        int one = 1;

        SockAddr a = make_inet("127.0.0.1", 0);
        fd = bind_socket(&a, SOCK_STREAM, 7);
        a = make_inet("127.0.0.1", port_of(fd));
        c = connect_to(&a, SOCK_STREAM);
        wait_queued(fd);
        SockAddr a6 = make_inet("::1", 0);
        six = bind_socket(&a6, SOCK_STREAM, 9);
        a6 = make_inet("::1", port_of(six));
        /* Two listeners on one address (SO_REUSEPORT): the dump cannot tell them apart. */
        SockAddr ra = make_inet("127.0.0.1", port_of(six));
        r1 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        r2 = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(setsockopt(r1, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), 0);
        ck_assert_int_eq(setsockopt(r2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one), 0);
        ck_assert_int_eq(bind(r1, &ra.sa, ra.len), 0);
        ck_assert_int_eq(bind(r2, &ra.sa, ra.len), 0);
        ck_assert_int_eq(listen(r1, 3), 0);
        ck_assert_int_eq(listen(r2, 3), 0);

        ck_assert_int_eq(tcp_queues_dump(&q), 0);
        ck_assert_int_eq(tcp_queues_find(q, &a, &waiting, &backlog), 0);
        ck_assert_uint_eq(waiting, 1);
        ck_assert_uint_eq(backlog, 7);
        ck_assert_int_eq(tcp_queues_find(q, &a6, &waiting, &backlog), 0);
        ck_assert_uint_eq(waiting, 0);
        ck_assert_uint_eq(backlog, 9);
        ck_assert_int_eq(tcp_queues_find(q, &ra, &waiting, &backlog), -ENOTUNIQ);
        SockAddr none = make_inet("127.0.0.2", port_of(fd));
        ck_assert_int_eq(tcp_queues_find(q, &none, &waiting, &backlog), -ENOENT);
}
END_TEST

START_TEST(test_queue_unix) {
        static const int types[] = { SOCK_STREAM, SOCK_SEQPACKET };

        for (size_t i = 0; i < ELEMENTSOF(types); i++) {
                _cleanup_close_ int fd = -1, c = -1;
                unsigned waiting = 99, backlog = 0;
                char path[256];

                snprintf(path, sizeof path, "%s/queue-%zu.sock", tmpdir, i);
                SockAddr a = make_unix(path);
                fd = bind_socket(&a, types[i], 5);
                ck_assert_int_eq(sock_diag_queue(fd, &waiting, &backlog), 0);
                ck_assert_uint_eq(waiting, 0);
                ck_assert_uint_eq(backlog, 5);

                c = connect_to(&a, types[i]);
                ck_assert_int_eq(sock_diag_queue(fd, &waiting, NULL), 0);
                ck_assert_uint_eq(waiting, 1);
        }
}
END_TEST

START_TEST(test_queue_not_a_listener) {
        char path[256];
        int fd;

        /* Bound but not listening. */
        SockAddr a = make_inet("127.0.0.1", 0);
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(bind(fd, &a.sa, a.len), 0);
        ck_assert_int_eq(sock_diag_queue(fd, NULL, NULL), -EINVAL);
        close(fd);

        snprintf(path, sizeof path, "%s/idle.sock", tmpdir);
        a = make_unix(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(bind(fd, &a.sa, a.len), 0);
        ck_assert_int_eq(sock_diag_queue(fd, NULL, NULL), -EINVAL);
        close(fd);

        /* Datagram sockets have no accept queue; a pipe is no socket. */
        a = make_inet("127.0.0.1", 0);
        fd = bind_socket(&a, SOCK_DGRAM, 0);
        ck_assert_int_eq(sock_diag_queue(fd, NULL, NULL), -EOPNOTSUPP);
        close(fd);
        snprintf(path, sizeof path, "%s/dgram.sock", tmpdir);
        a = make_unix(path);
        fd = bind_socket(&a, SOCK_DGRAM, 0);
        ck_assert_int_eq(sock_diag_queue(fd, NULL, NULL), -EOPNOTSUPP);
        close(fd);

        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        ck_assert_int_eq(sock_diag_queue(p[0], NULL, NULL), -ENOTSOCK);
        close(p[0]);
        close(p[1]);
}
END_TEST

/* ---- the file of a bound unix socket ---- */

START_TEST(test_unix_file) {
        _cleanup_close_ int fd = -1, abstract = -1;
        char path[256], name[64];
        struct stat st;
        dev_t dev = 0;
        ino_t ino = 0;

        snprintf(path, sizeof path, "%s/file.sock", tmpdir);
        SockAddr a = make_unix(path);
        fd = bind_socket(&a, SOCK_STREAM, 1);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(sock_diag_unix_file(fd, &dev, &ino), 0);
        ck_assert(dev == st.st_dev);
        ck_assert(ino == st.st_ino);

        /* An abstract name lives in no file. */
        snprintf(name, sizeof name, "@berth-test-sock-diag-file-%d", (int) getpid());
        a = make_unix(name);
        abstract = bind_socket(&a, SOCK_STREAM, 1);
        ck_assert_int_eq(sock_diag_unix_file(abstract, &dev, &ino), -EOPNOTSUPP);
}
END_TEST

static Suite *sock_diag_suite(void) {
        Suite *s = suite_create("sock-diag");
        TCase *tc;

        tc = tcase_create("holder");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_holder_inet);
        tcase_add_test(tc, test_holder_dual_stack);
        tcase_add_test(tc, test_holder_udp);
        tcase_add_test(tc, test_holder_unix_path);
        tcase_add_test(tc, test_holder_unix_abstract);
        tcase_add_test(tc, test_holder_hidden);
        tcase_add_test(tc, test_holder_nothing);
        suite_add_tcase(s, tc);

        tc = tcase_create("queue");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_add_test(tc, test_queue_tcp);
        tcase_add_test(tc, test_queues_dump);
        tcase_add_test(tc, test_queue_unix);
        tcase_add_test(tc, test_queue_not_a_listener);
        suite_add_tcase(s, tc);

        tc = tcase_create("unix-file");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_add_test(tc, test_unix_file);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        return test_run_suite(sock_diag_suite());
}
