/* Tests for daemon/listener.c: the kernel contracts berth relies on, binding with every option,
 * dual-stack behaviour in private network namespaces, the holder named on EADDRINUSE, unix
 * socket paths, FIFOs, special files, message queues and netlink sockets, Symlinks= and
 * RemoveOnStop=, the one log line, and fd hygiene. Units and specs are built by hand: no parser.
 * The holder lookup and the accept queue themselves are tested in test-sock-diag.c. */

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <linux/netlink.h>
#include <mqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/address.h"
#include "common/macro.h"
#include "daemon/bind-plan.h"
#include "daemon/listener.h"
#include "daemon/unit-file.h"
#include "tests/unit/test-socket.h"

/* One hand-built socket unit with one listen entry and its BindSpec. Not movable: the spec
 * points into it. */
typedef struct TestSocket {
        char name[64];
        Unit unit;
        SocketOptions options; /* the unit's */
        SocketLimits limits;   /* the unit's: all 0, no limit */
        SocketListen listen;
        SockAddr unix_addr; /* the listen address's, for a unix one */
        BindSpec spec;
} TestSocket;

static void ts_init(TestSocket *t, int family, int socktype) {
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "t.socket");
        t->unit.name = t->name;
        t->unit.type = UNIT_SOCKET;
        t->options = socket_options_defaults;
        t->unit.socket.options = &t->options;
        t->unit.socket.limits = &t->limits;
        t->unit.socket.backlog = -1;
        t->unit.socket.bind_ipv6_only = BIND_IPV6_ONLY_BOTH;
        t->unit.socket.listens = &t->listen;
        t->unit.socket.n_listens = 1;
        t->listen.type = socktype == SOCK_STREAM ? LISTEN_STREAM
                         : socktype == SOCK_DGRAM ? LISTEN_DATAGRAM
                                                  : LISTEN_SEQPACKET;
        t->spec.unit = &t->unit;
        t->spec.listen = &t->listen;
        t->spec.family = family;
        t->spec.socktype = socktype;
        t->spec.v6only = -1;
}

static void ts_inet(TestSocket *t, const char *ip, uint16_t port, int socktype, int v6only) {
        SockAddr a = make_inet(ip, port);

        ts_init(t, a.sa.sa_family, socktype);
        ck_assert(sockaddr_to_small(&t->spec.addr, &a));
        t->spec.v6only = a.sa.sa_family == AF_INET6 ? v6only : -1;
        t->listen.address.kind = ADDRESS_IP;
        t->listen.address.port = port;
        ck_assert(sockaddr_to_small(&t->listen.address.sockaddr, &a));
}

static void ts_unix(TestSocket *t, const char *path, int socktype) {
        SockAddr a = make_unix(path);

        ts_init(t, AF_UNIX, socktype);
        t->spec.addr.sa.sa_family = AF_UNIX; /* the address is the listen entry's */
        t->listen.address.kind = path[0] == '@' ? ADDRESS_UNIX_ABSTRACT : ADDRESS_UNIX_PATH;
        t->unix_addr = a;
        t->listen.address.unix_addr = &t->unix_addr;
}

/* An entry without an address: a FIFO, special file or message queue (path), by hand. */
static void ts_node(TestSocket *t, ListenType type, const char *path) {
        ts_init(t, AF_UNSPEC, 0);
        t->listen.type = type;
        t->listen.path = (char *) path; /* the spec's (bind_spec_path()) */
}

static void ts_netlink(TestSocket *t, int family, unsigned groups) {
        ts_init(t, AF_NETLINK, SOCK_RAW);
        t->listen.type = LISTEN_NETLINK;
        t->listen.netlink.family = family;
        t->listen.netlink.group = groups;
        t->spec.protocol = family;
        t->spec.addr.nl = (struct sockaddr_nl) { .nl_family = AF_NETLINK, .nl_groups = groups };
        t->spec.addr.len = sizeof(struct sockaddr_nl);
}

/* Whether fd (borrowed) has data to read within timeout_ms. */
static bool readable(int fd, int timeout_ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

static int get_opt(int fd, int level, int name) {
        int v = -1;
        socklen_t l = sizeof v;

        if (getsockopt(fd, level, name, &v, &l) < 0)
                return -errno;
        return v;
}

/* Connects (blocking) to ip:port; returns the fd or a negative errno. */
static int connect_to(const char *ip, uint16_t port, int socktype) {
        SockAddr a = make_inet(ip, port);
        int fd, r;

        fd = socket(a.sa.sa_family, socktype | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        r = connect(fd, &a.sa, a.len) < 0 ? -errno : 0;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/* Waits for and accepts one connection on a (non-blocking) listener. */
static int accept_one(int lfd) {
        struct pollfd p = { .fd = lfd, .events = POLLIN };
        int c;

        if (poll(&p, 1, 2000) <= 0)
                return -ETIMEDOUT;
        c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return -errno;
        close(c);
        return 0;
}

/* Connects to ip:port and checks that lfd accepts it. 0 on success, else a negative errno. */
static int connect_and_accept(int lfd, const char *ip, uint16_t port) {
        int c = connect_to(ip, port, SOCK_STREAM), r;

        if (c < 0)
                return c;
        r = accept_one(lfd);
        close(c);
        return r;
}

static int count_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int n = 0;

        ck_assert_ptr_nonnull(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1; /* the directory's own fd */
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) ftw;
        if (flag == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

static void rm_rf(const char *path) {
        nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char tmpdir[128];

static void tmpdir_setup(void) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/berth-test-listener.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmpdir_teardown(void) {
        rm_rf(tmpdir);
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");

        ck_assert_ptr_nonnull(f);
        fputs(text, f);
        fclose(f);
}

static bool file_has(const char *path, const char *text) {
        char buf[256] = "";
        FILE *f = fopen(path, "re");
        size_t n;

        if (!f)
                return false;
        n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        return streq(buf, text);
}

static int write_sysctl(const char *path, const char *value) {
        int fd = open(path, O_WRONLY | O_CLOEXEC), r = 0;

        if (fd < 0)
                return -errno;
        if (write(fd, value, strlen(value)) < 0)
                r = -errno;
        close(fd);
        return r;
}

static bool need_root(void) {
        if (geteuid() == 0)
                return true;
        printf("SKIP: needs root for a network namespace\n");
        return false;
}

/* ---- (a) kernel contracts ---- */

START_TEST(test_v6only_before_and_after_bind) {
        if (!have_ipv6()) {
                printf("SKIP: no IPv6\n");
                return;
        }
        for (int v = 0; v <= 1; v++) {
                SockAddr a = make_inet("::", 0);
                int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v, sizeof v), 0);
                ck_assert_int_eq(get_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY), v);
                ck_assert_int_eq(bind(fd, &a.sa, a.len), 0);
                ck_assert_int_eq(get_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY), v);
                /* Once bound, the kernel refuses to change it: berth must set it before. */
                int other = !v;
                ck_assert_int_lt(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &other, sizeof other),
                                 0);
                ck_assert_int_eq(errno, EINVAL);
                close(fd);

                /* And listener_bind sets what the spec says, whatever the sysctl. */
                TestSocket t;
                ListenerInfo info;
                char err[LISTENER_ERROR_MAX];

                ts_inet(&t, "::", 0, SOCK_STREAM, v);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                ck_assert_int_eq(get_opt(fd, IPPROTO_IPV6, IPV6_V6ONLY), v);
                ck_assert_int_eq(listener_read_back(fd, &info), 0);
                ck_assert_int_eq(info.v6only, v);
                ck_assert_int_eq(info.family, AF_INET6);
                close(fd);
        }
}
END_TEST

START_TEST(test_reuseaddr_time_wait) {
        TestSocket t;
        char err[LISTENER_ERROR_MAX], buf[16];
        int lfd, fd, c, conn;
        uint16_t port;
        struct pollfd p;

        /* The kernel skips TIME_WAIT when its table is full, as it may be while load tests
         * run beside this one; the table is per network namespace, so take a fresh one. */
        if (geteuid() == 0)
                ck_assert_int_eq(enter_netns(), 0);
        else
                printf("NOTE: not root: TIME_WAIT shares the host's table\n");

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        ck_assert_msg(listener_bind(&t.spec, &lfd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(get_opt(lfd, SOL_SOCKET, SO_REUSEADDR), 1);
        port = port_of(lfd);
        ck_assert_uint_ne(port, 0);

        /* The server closes first, so its side of the connection ends in TIME_WAIT. */
        c = connect_to("127.0.0.1", port, SOCK_STREAM);
        ck_assert_int_ge(c, 0);
        p = (struct pollfd) { .fd = lfd, .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, 2000), 1);
        conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        ck_assert_int_ge(conn, 0);
        close(conn);
        p = (struct pollfd) { .fd = c, .events = POLLIN };
        ck_assert_int_eq(poll(&p, 1, 2000), 1);
        ck_assert_int_eq(read(c, buf, sizeof buf), 0);
        close(c);
        close(lfd);

        /* Without SO_REUSEADDR the port is still taken (this is what berth avoids)... */
        SockAddr a = make_inet("127.0.0.1", port);
        int plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;
        for (int i = 0; i < 100; i++) {
                r = bind(plain, &a.sa, a.len) < 0 ? -errno : 0;
                if (r == -EADDRINUSE)
                        break;
                /* Bound already: the TIME_WAIT was not there yet; try a fresh socket. */
                close(plain);
                plain = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                usleep(10000);
        }
        close(plain);
        ck_assert_int_eq(r, -EADDRINUSE);

        /* ...while listener_bind rebinds it at once. */
        ts_inet(&t, "127.0.0.1", port, SOCK_STREAM, -1);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(port_of(fd), port);
        close(fd);
}
END_TEST

START_TEST(test_cloexec_nonblock) {
        char path[256], abstract[64], err[LISTENER_ERROR_MAX];
        TestSocket t[4];
        int fd;

        snprintf(path, sizeof path, "%s/fl.sock", tmpdir);
        snprintf(abstract, sizeof abstract, "@berth-test-fl-%d", (int) getpid());
        ts_inet(&t[0], "127.0.0.1", 0, SOCK_STREAM, -1);
        ts_inet(&t[1], "127.0.0.1", 0, SOCK_DGRAM, -1);
        ts_unix(&t[2], path, SOCK_STREAM);
        ts_unix(&t[3], abstract, SOCK_DGRAM);
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                ck_assert_msg(listener_bind(&t[i].spec, &fd, err, sizeof err) == 0, "%s", err);
                ck_assert_str_eq(err, "");
                ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
                ck_assert(fcntl(fd, F_GETFL) & O_NONBLOCK);
                close(fd);
        }
}
END_TEST

/* ---- (b) dual-stack in private network namespaces ---- */

static int child_dual_stack_takes_ipv4(void *userdata) {
        TestSocket t;
        ListenerInfo info;
        HostInfo host;
        char err[LISTENER_ERROR_MAX];
        int fd;

        /* The sysctl says v6-only; the explicit IPV6_V6ONLY=0 must win. */
        CHILD_CHECK(write_sysctl("/proc/sys/net/ipv6/bindv6only", "1") == 0);
        listener_probe_host(&host);
        CHILD_CHECK(host.ipv6);
        CHILD_CHECK(host.bindv6only == 1);
        CHILD_CHECK(listener_sysctl_bindv6only() == 1);

        ts_inet(&t, "::", 8080, SOCK_STREAM, 0);
        if (listener_bind(&t.spec, &fd, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        CHILD_CHECK(listener_read_back(fd, &info) == 0);
        CHILD_CHECK(info.v6only == 0);
        CHILD_CHECK(info.reach == REACH_ALL);
        CHILD_CHECK(connect_and_accept(fd, "127.0.0.1", 8080) == 0);
        CHILD_CHECK(connect_and_accept(fd, "::1", 8080) == 0);
        close(fd);
        return 0;
}

static int child_v6only_refuses_ipv4(void *userdata) {
        TestSocket t;
        ListenerInfo info;
        char err[LISTENER_ERROR_MAX];
        int fd;

        /* The sysctl says dual-stack; the explicit IPV6_V6ONLY=1 must win. */
        CHILD_CHECK(write_sysctl("/proc/sys/net/ipv6/bindv6only", "0") == 0);
        CHILD_CHECK(listener_sysctl_bindv6only() == 0);

        ts_inet(&t, "::", 8080, SOCK_STREAM, 1);
        if (listener_bind(&t.spec, &fd, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        CHILD_CHECK(listener_read_back(fd, &info) == 0);
        CHILD_CHECK(info.v6only == 1);
        CHILD_CHECK(connect_to("127.0.0.1", 8080, SOCK_STREAM) == -ECONNREFUSED);
        CHILD_CHECK(connect_and_accept(fd, "::1", 8080) == 0);
        close(fd);
        return 0;
}

static int child_separate(void *userdata) {
        TestSocket t4, t6;
        char err[LISTENER_ERROR_MAX];
        int fd4, fd6;

        ts_inet(&t4, "0.0.0.0", 8080, SOCK_STREAM, -1);
        ts_inet(&t6, "::", 8080, SOCK_STREAM, 1);
        if (listener_bind(&t4.spec, &fd4, err, sizeof err) < 0 ||
            listener_bind(&t6.spec, &fd6, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                return 1;
        }
        CHILD_CHECK(connect_and_accept(fd4, "127.0.0.1", 8080) == 0);
        CHILD_CHECK(connect_and_accept(fd6, "::1", 8080) == 0);
        /* Nothing left over: each family went to its own socket. */
        struct pollfd p[2] = { { .fd = fd4, .events = POLLIN }, { .fd = fd6, .events = POLLIN } };
        CHILD_CHECK(poll(p, 2, 0) == 0);
        close(fd4);
        close(fd6);

        /* And a dual-stack [::] on top of 0.0.0.0 is what 'separate' avoids. */
        ts_inet(&t4, "0.0.0.0", 8081, SOCK_STREAM, -1);
        ts_inet(&t6, "::", 8081, SOCK_STREAM, 0);
        CHILD_CHECK(listener_bind(&t4.spec, &fd4, err, sizeof err) == 0);
        CHILD_CHECK(listener_bind(&t6.spec, &fd6, err, sizeof err) == -EADDRINUSE);
        CHILD_CHECK(strstr(err, "0.0.0.0:8081") != NULL);
        CHILD_CHECK(strstr(err, "Address already in use") != NULL);
        close(fd4);
        return 0;
}

START_TEST(test_netns_dual_stack) {
        if (!need_root())
                return;
        if (!have_ipv6()) {
                printf("SKIP: no IPv6\n");
                return;
        }
        ck_assert_int_eq(run_child(child_dual_stack_takes_ipv4, NULL, true, false), 0);
}
END_TEST

START_TEST(test_netns_v6only) {
        if (!need_root())
                return;
        if (!have_ipv6()) {
                printf("SKIP: no IPv6\n");
                return;
        }
        ck_assert_int_eq(run_child(child_v6only_refuses_ipv4, NULL, true, false), 0);
}
END_TEST

START_TEST(test_netns_separate) {
        if (!need_root())
                return;
        if (!have_ipv6()) {
                printf("SKIP: no IPv6\n");
                return;
        }
        ck_assert_int_eq(run_child(child_separate, NULL, true, false), 0);
}
END_TEST

/* ---- (c) EADDRINUSE and the holder ---- */

START_TEST(test_addr_in_use_names_holder) {
        char err[LISTENER_ERROR_MAX], want[64], where[64];
        TestSocket t;
        uint16_t port;
        pid_t pid;
        int fd = -1;

        pid = spawn_holder("0.0.0.0", SOCK_STREAM, -1, &port);
        snprintf(want, sizeof want, "pid %d (", (int) pid);
        snprintf(where, sizeof where, "listening on 0.0.0.0:%u", port);

        ts_inet(&t, "127.0.0.1", port, SOCK_STREAM, -1);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EADDRINUSE);
        ck_assert_int_eq(fd, -1);
        ck_assert_msg(strstr(err, "cannot bind TCP 127.0.0.1:") != NULL, "%s", err);
        ck_assert_msg(strstr(err, "Address already in use — held by ") != NULL, "%s", err);
        ck_assert_msg(strstr(err, want) != NULL, "%s", err);
        ck_assert_msg(strstr(err, where) != NULL, "%s", err);
        reap(pid);
}
END_TEST

START_TEST(test_addr_in_use_dual_stack_holder) {
        char err[LISTENER_ERROR_MAX], want[64], where[64];
        TestSocket t;
        uint16_t port;
        pid_t pid;
        int fd = -1;

        if (!have_ipv6()) {
                printf("SKIP: no IPv6\n");
                return;
        }
        /* A dual-stack [::]:P holds IPv4 too. */
        pid = spawn_holder("::", SOCK_STREAM, 0, &port);
        snprintf(want, sizeof want, "held by pid %d (", (int) pid);
        snprintf(where, sizeof where, "listening on [::]:%u (dual-stack", port);
        ts_inet(&t, "127.0.0.1", port, SOCK_STREAM, -1);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EADDRINUSE);
        ck_assert_msg(strstr(err, want) != NULL, "%s", err);
        ck_assert_msg(strstr(err, where) != NULL, "%s", err);
        reap(pid);

        /* A v6-only [::]:P does not: 127.0.0.1:P binds. */
        pid = spawn_holder("::", SOCK_STREAM, 1, &port);
        ts_inet(&t, "127.0.0.1", port, SOCK_STREAM, -1);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        close(fd);
        reap(pid);
}
END_TEST

START_TEST(test_addr_in_use_udp) {
        char err[LISTENER_ERROR_MAX], want[64], where[64];
        TestSocket t;
        uint16_t port;
        pid_t pid;
        int fd = -1;

        pid = spawn_holder("127.0.0.1", SOCK_DGRAM, -1, &port);
        snprintf(want, sizeof want, "held by pid %d (", (int) pid);
        snprintf(where, sizeof where, "bound to 127.0.0.1:%u", port);
        ts_inet(&t, "127.0.0.1", port, SOCK_DGRAM, -1);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EADDRINUSE);
        ck_assert_msg(strstr(err, "cannot bind UDP 127.0.0.1:") != NULL, "%s", err);
        ck_assert_msg(strstr(err, want) != NULL, "%s", err);
        ck_assert_msg(strstr(err, where) != NULL, "%s", err);
        reap(pid);
}
END_TEST

static int child_hidden_holder(void *userdata) {
        uint16_t port = *(const uint16_t *) userdata;
        char err[LISTENER_ERROR_MAX], where[64];
        TestSocket t;
        int fd = -1;

        /* Unprivileged, sock-diag sees the socket but not root's /proc/PID/fd. */
        snprintf(where, sizeof where, "listening on 0.0.0.0:%u", port);
        ts_inet(&t, "127.0.0.1", port, SOCK_STREAM, -1);
        CHILD_CHECK(listener_bind(&t.spec, &fd, err, sizeof err) == -EADDRINUSE);
        CHILD_CHECK(strstr(err, "held by a process of uid 0 whose pid is not visible to us") !=
                    NULL);
        CHILD_CHECK(strstr(err, where) != NULL);
        return 0;
}

START_TEST(test_addr_in_use_hidden_holder) {
        run_beside_hidden_holder(child_hidden_holder);
}
END_TEST

/* ---- (d) unix sockets ---- */

START_TEST(test_unix_stale_replaced) {
        char path[256], err[LISTENER_ERROR_MAX];
        SockAddr a;
        TestSocket t;
        struct stat st;
        int fd, s, c;

        snprintf(path, sizeof path, "%s/stale.sock", tmpdir);
        a = make_unix(path);
        s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(bind(s, &a.sa, a.len), 0);
        close(s); /* the file stays, nobody behind it */
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));

        ts_unix(&t, path, SOCK_STREAM);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(connect(c, &a.sa, a.len), 0);
        ck_assert_int_eq(accept_one(fd), 0);
        close(c);

        /* Live now: a second bind is refused and names us as the holder. */
        char want[64];
        int fd2 = -1;
        snprintf(want, sizeof want, "held by pid %d (", (int) getpid());
        ck_assert_int_eq(listener_bind(&t.spec, &fd2, err, sizeof err), -EADDRINUSE);
        ck_assert_msg(strstr(err, "is in use by another process") != NULL, "%s", err);
        ck_assert_msg(strstr(err, want) != NULL, "%s", err);
        ck_assert_int_eq(fd2, -1);
        close(fd);
}
END_TEST

START_TEST(test_unix_regular_file_refused) {
        char path[256], err[LISTENER_ERROR_MAX], want[300];
        TestSocket t;
        int fd = -1;

        snprintf(path, sizeof path, "%s/file.sock", tmpdir);
        write_file(path, "keep me\n");
        ts_unix(&t, path, SOCK_STREAM);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
        snprintf(want, sizeof want, "'%s' exists and is not a socket", path);
        ck_assert_msg(strstr(err, want) != NULL, "%s", err);
        ck_assert_msg(strstr(err, "refusing to replace it") != NULL, "%s", err);
        ck_assert(file_has(path, "keep me\n"));
        ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(test_unix_symlink_refused) {
        char path[256], target[256], dangling[256], err[LISTENER_ERROR_MAX];
        TestSocket t;
        struct stat st;
        int fd = -1;

        snprintf(target, sizeof target, "%s/target", tmpdir);
        snprintf(path, sizeof path, "%s/link.sock", tmpdir);
        write_file(target, "target\n");
        ck_assert_int_eq(symlink(target, path), 0);
        ts_unix(&t, path, SOCK_STREAM);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
        ck_assert_msg(strstr(err, "exists and is not a socket (it is a symlink)") != NULL, "%s",
                      err);
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISLNK(st.st_mode));
        ck_assert(file_has(target, "target\n"));

        /* A dangling symlink: its target must not be created. */
        snprintf(dangling, sizeof dangling, "%s/nowhere", tmpdir);
        snprintf(path, sizeof path, "%s/dangling.sock", tmpdir);
        ck_assert_int_eq(symlink(dangling, path), 0);
        ts_unix(&t, path, SOCK_STREAM);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
        ck_assert_int_lt(lstat(dangling, &st), 0);
}
END_TEST

START_TEST(test_unix_parent_symlink_refused) {
        char real[256], link[256], path[300], inreal[300], err[LISTENER_ERROR_MAX];
        TestSocket t;
        struct stat st;
        int fd = -1;

        snprintf(real, sizeof real, "%s/real", tmpdir);
        snprintf(link, sizeof link, "%s/link", tmpdir);
        snprintf(path, sizeof path, "%s/x.sock", link);
        snprintf(inreal, sizeof inreal, "%s/x.sock", real);
        ck_assert_int_eq(mkdir(real, 0755), 0);
        ck_assert_int_eq(symlink(real, link), 0);
        ts_unix(&t, path, SOCK_STREAM);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -ELOOP);
        ck_assert_msg(strstr(err, "is a symlink, refusing") != NULL, "%s", err);
        ck_assert_int_lt(lstat(inreal, &st), 0);

        /* A symlink higher up (like /var/run -> /run) is followed. */
        snprintf(path, sizeof path, "%s/sub/x.sock", link);
        ts_unix(&t, path, SOCK_STREAM);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        snprintf(inreal, sizeof inreal, "%s/sub/x.sock", real);
        ck_assert_int_eq(lstat(inreal, &st), 0);
        ck_assert(S_ISSOCK(st.st_mode));
        close(fd);
}
END_TEST

START_TEST(test_unix_mode) {
        static const mode_t modes[] = { 0600, 0666, 0660 };
        char path[256], err[LISTENER_ERROR_MAX];
        TestSocket t;
        struct stat st;
        mode_t old = umask(0022);
        int fd;

        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                snprintf(path, sizeof path, "%s/mode-%zu.sock", tmpdir, i);
                ts_unix(&t, path, i == 2 ? SOCK_DGRAM : SOCK_STREAM);
                t.options.socket_mode = modes[i];
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                ck_assert_int_eq(lstat(path, &st), 0);
                ck_assert(S_ISSOCK(st.st_mode));
                ck_assert_int_eq(st.st_mode & 07777, modes[i]);
                ck_assert_int_eq(st.st_uid, geteuid());
                close(fd);
        }
        /* The process umask is left as it was. */
        ck_assert_int_eq(umask(old), 0022);
}
END_TEST

START_TEST(test_unix_directories) {
        char a[256], b[300], path[320], err[LISTENER_ERROR_MAX];
        TestSocket t;
        struct stat st;
        mode_t old = umask(0077);
        int fd;

        snprintf(a, sizeof a, "%s/a", tmpdir);
        snprintf(b, sizeof b, "%s/b", a);
        snprintf(path, sizeof path, "%s/x.sock", b);
        ts_unix(&t, path, SOCK_STREAM);
        t.options.directory_mode = 0751;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(lstat(a, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0751);
        ck_assert_int_eq(lstat(b, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0751);
        /* An existing directory keeps its mode. */
        ck_assert_int_eq(lstat(tmpdir, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0700);
        close(fd);
        umask(old);
}
END_TEST

START_TEST(test_unix_owner) {
        char path[300], err[LISTENER_ERROR_MAX], sub[256];
        TestSocket t;
        struct stat st;
        struct passwd *pw;
        int fd = -1;

        if (geteuid() != 0) {
                printf("SKIP: needs root to give a socket away\n");
                return;
        }
        pw = getpwnam("nobody");
        if (!pw) {
                printf("SKIP: no user 'nobody'\n");
                return;
        }
        snprintf(path, sizeof path, "%s/owned.sock", tmpdir);
        ts_unix(&t, path, SOCK_STREAM);
        t.options.socket_user = (char *) "nobody";
        t.options.socket_group = (char *) "12345";
        t.options.socket_mode = 0660;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert_int_eq(st.st_uid, pw->pw_uid);
        ck_assert_int_eq(st.st_gid, 12345);
        ck_assert_int_eq(st.st_mode & 07777, 0660);
        close(fd);

        /* An unknown user is named, and nothing is created. */
        snprintf(sub, sizeof sub, "%s/never", tmpdir);
        snprintf(path, sizeof path, "%s/x.sock", sub);
        ts_unix(&t, path, SOCK_STREAM);
        t.options.socket_user = (char *) "no-such-user-berth";
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -ESRCH);
        ck_assert_msg(strstr(err, "SocketUser=no-such-user-berth") != NULL, "%s", err);
        ck_assert_int_lt(lstat(sub, &st), 0);
        t.options.socket_user = NULL;
        t.options.socket_group = (char *) "no-such-group-berth";
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -ESRCH);
        ck_assert_msg(strstr(err, "SocketGroup=no-such-group-berth") != NULL, "%s", err);
}
END_TEST

START_TEST(test_unix_abstract) {
        char name[64], err[LISTENER_ERROR_MAX], want[64];
        TestSocket t;
        ListenerInfo info;
        int fd, fd2 = -1, c;

        snprintf(name, sizeof name, "@berth-test-abstract-%d", (int) getpid());
        ts_unix(&t, name, SOCK_STREAM);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(listener_read_back(fd, &info), 0);
        ck_assert_int_eq(info.family, AF_UNIX);
        ck_assert_int_eq(info.reach, REACH_LOCAL);
        ck_assert(sockaddr_equal(&info.addr, &t.unix_addr));
        c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_eq(connect(c, &t.unix_addr.sa, t.unix_addr.len), 0);
        ck_assert_int_eq(accept_one(fd), 0);
        close(c);

        snprintf(want, sizeof want, "held by pid %d (", (int) getpid());
        ck_assert_int_eq(listener_bind(&t.spec, &fd2, err, sizeof err), -EADDRINUSE);
        ck_assert_msg(strstr(err, want) != NULL, "%s", err);
        close(fd);
}
END_TEST

START_TEST(test_unix_seqpacket) {
        char path[256], err[LISTENER_ERROR_MAX];
        TestSocket t;
        ListenerInfo info;
        int fd = -1;

        snprintf(path, sizeof path, "%s/seq.sock", tmpdir);
        ts_unix(&t, path, SOCK_SEQPACKET);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(listener_read_back(fd, &info), 0);
        ck_assert_int_eq(info.socktype, SOCK_SEQPACKET);
        close(fd);
        fd = -1;

        ts_inet(&t, "127.0.0.1", 0, SOCK_SEQPACKET, -1);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EPROTONOSUPPORT);
        ck_assert_msg(strstr(err, "unix sockets only") != NULL, "%s", err);
}
END_TEST

/* ---- (e) options ---- */

START_TEST(test_options_tcp) {
        char err[LISTENER_ERROR_MAX];
        TestSocket t;
        ListenerInfo info;
        int fd;

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.options.reuse_port = true;
        t.options.no_delay = true;
        t.options.keep_alive = true;
        t.options.keep_alive_time_usec = 30 * USEC_PER_SEC;
        t.options.keep_alive_interval_usec = 10 * USEC_PER_SEC;
        t.options.keep_alive_probes = 4;
        t.options.defer_accept_usec = 5 * USEC_PER_SEC;
        t.unit.socket.backlog = 7;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_REUSEPORT), 1);
        ck_assert_int_ne(get_opt(fd, IPPROTO_TCP, TCP_NODELAY), 0);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
        ck_assert_int_eq(get_opt(fd, IPPROTO_TCP, TCP_KEEPIDLE), 30);
        ck_assert_int_eq(get_opt(fd, IPPROTO_TCP, TCP_KEEPINTVL), 10);
        ck_assert_int_eq(get_opt(fd, IPPROTO_TCP, TCP_KEEPCNT), 4);
        ck_assert_int_ge(get_opt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 5);
        ck_assert_int_eq(listener_read_back(fd, &info), 0);
        ck_assert_int_eq(info.backlog, 7);
        ck_assert_int_eq(info.protocol, IPPROTO_TCP);
        close(fd);

        /* Backlog unset: the kernel's somaxconn. */
        FILE *f = fopen("/proc/sys/net/core/somaxconn", "re");
        int somaxconn = 0;
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fscanf(f, "%d", &somaxconn), 1);
        fclose(f);
        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(listener_read_back(fd, &info), 0);
        ck_assert_int_eq(info.backlog, somaxconn);
        close(fd);
}
END_TEST

START_TEST(test_options_buffers) {
        char err[LISTENER_ERROR_MAX];
        TestSocket t;
        int fd;

        /* Above the usual net.core.rmem_max / wmem_max, so root needs the *FORCE options. */
        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.options.receive_buffer = 48 * 1024 * 1024;
        t.options.send_buffer = 40 * 1024 * 1024;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        if (geteuid() == 0) {
                ck_assert_int_ge(get_opt(fd, SOL_SOCKET, SO_RCVBUF), 48 * 1024 * 1024);
                ck_assert_int_ge(get_opt(fd, SOL_SOCKET, SO_SNDBUF), 40 * 1024 * 1024);
                ck_assert_str_eq(err, "");
        }
        close(fd);

        /* Small values are never capped. */
        ts_inet(&t, "127.0.0.1", 0, SOCK_DGRAM, -1);
        t.options.receive_buffer = 65536;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_ge(get_opt(fd, SOL_SOCKET, SO_RCVBUF), 65536);
        close(fd);

        /* Absurd values are refused with the option's name. */
        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.options.receive_buffer = UINT64_C(1) << 40;
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EINVAL);
        ck_assert_msg(strstr(err, "ReceiveBuffer=") != NULL, "%s", err);
}
END_TEST

static int child_buffer_capped(void *userdata) {
        char err[LISTENER_ERROR_MAX];
        TestSocket t;
        int fd;

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.options.receive_buffer = 64 * 1024 * 1024;
        CHILD_CHECK(listener_bind(&t.spec, &fd, err, sizeof err) == 0);
        /* Bound, with a warning that says why the size is smaller and what to do. */
        CHILD_CHECK(strstr(err, "ReceiveBuffer=67108864") != NULL);
        CHILD_CHECK(strstr(err, "net.core.rmem_max") != NULL);
        CHILD_CHECK(strstr(err, "CAP_NET_ADMIN") != NULL);
        close(fd);
        return 0;
}

START_TEST(test_options_buffer_capped_unprivileged) {
        FILE *f = fopen("/proc/sys/net/core/rmem_max", "re");
        long rmem_max = 0;

        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(fscanf(f, "%ld", &rmem_max), 1);
        fclose(f);
        if (geteuid() != 0 || rmem_max >= 64 * 1024 * 1024) {
                printf("SKIP: needs root (to drop it) and net.core.rmem_max below 64M\n");
                return;
        }
        ck_assert_int_eq(run_child(child_buffer_capped, NULL, false, true), 0);
}
END_TEST

START_TEST(test_options_unix_and_udp) {
        char path[256], err[LISTENER_ERROR_MAX];
        TestSocket t;
        ListenerInfo info;
        int fd;

        snprintf(path, sizeof path, "%s/cred.sock", tmpdir);
        ts_unix(&t, path, SOCK_STREAM);
        t.options.pass_credentials = true;
        t.options.no_delay = true;    /* not for unix: skipped */
        t.options.keep_alive = true;  /* not for unix: skipped */
        t.options.reuse_port = true;  /* not for unix: skipped */
        t.unit.socket.backlog = 5;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_PASSCRED), 1);
        ck_assert_int_eq(listener_read_back(fd, &info), 0);
        ck_assert_int_eq(info.backlog, 5);
        close(fd);

        ts_inet(&t, "127.0.0.1", 0, SOCK_DGRAM, -1);
        t.options.no_delay = true;         /* not for UDP: skipped */
        t.options.defer_accept_usec = 1;   /* not for UDP: skipped */
        t.options.pass_credentials = true; /* not for inet: skipped */
        t.options.reuse_port = true;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_REUSEPORT), 1);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_REUSEADDR), 0);
        ck_assert_int_eq(listener_read_back(fd, &info), 0);
        ck_assert_int_eq(info.backlog, -1);
        ck_assert_int_eq(info.protocol, IPPROTO_UDP);
        close(fd);
}
END_TEST

START_TEST(test_options_free_bind) {
        char err[LISTENER_ERROR_MAX];
        TestSocket t;
        ListenerInfo info;
        int fd = -1;

        /* TEST-NET-3: on no interface of this host. */
        ts_inet(&t, "203.0.113.7", 0, SOCK_STREAM, -1);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EADDRNOTAVAIL);
        ck_assert_msg(strstr(err, "cannot bind TCP 203.0.113.7:0") != NULL, "%s", err);
        ck_assert_msg(strstr(err, "FreeBind=yes") != NULL, "%s", err);

        t.options.free_bind = true;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(get_opt(fd, IPPROTO_IP, IP_FREEBIND), 1);
        ck_assert_int_eq(listener_read_back(fd, &info), 0);
        ck_assert_int_eq(info.reach, REACH_ONE);
        close(fd);

        if (have_ipv6()) {
                ts_inet(&t, "2001:db8::7", 0, SOCK_STREAM, 1);
                t.options.free_bind = true;
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                close(fd);
        }
}
END_TEST

static int child_transparent_eperm(void *userdata) {
        char err[LISTENER_ERROR_MAX];
        TestSocket t;
        int fd = -1;

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.options.transparent = true;
        CHILD_CHECK(listener_bind(&t.spec, &fd, err, sizeof err) == -EPERM);
        CHILD_CHECK(strstr(err, "Transparent=yes needs CAP_NET_ADMIN") != NULL);
        CHILD_CHECK(strstr(err, "127.0.0.1:0") != NULL);
        CHILD_CHECK(fd == -1);
        return 0;
}

START_TEST(test_options_transparent) {
        char err[LISTENER_ERROR_MAX];
        TestSocket t;
        int fd = -1, r;

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.options.transparent = true;
        r = listener_bind(&t.spec, &fd, err, sizeof err);
        if (r == 0) {
                ck_assert_int_eq(get_opt(fd, IPPROTO_IP, IP_TRANSPARENT), 1);
                close(fd);
        } else {
                ck_assert_int_eq(r, -EPERM);
                ck_assert_msg(strstr(err, "Transparent=yes needs CAP_NET_ADMIN") != NULL, "%s",
                              err);
        }
        if (geteuid() == 0)
                ck_assert_int_eq(run_child(child_transparent_eperm, NULL, false, true), 0);
        else
                ck_assert_int_eq(child_transparent_eperm(NULL), 0);
}
END_TEST

START_TEST(test_options_bind_to_device) {
        char err[LISTENER_ERROR_MAX], dev[IFNAMSIZ] = "";
        socklen_t l = sizeof dev;
        TestSocket t;
        int fd = -1, r;

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.options.bind_to_device = (char *) "nosuchif0";
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -ENODEV);
        ck_assert_msg(strstr(err, "no interface named 'nosuchif0'") != NULL, "%s", err);
        ck_assert_msg(strstr(err, "BindToDevice=") != NULL, "%s", err);

        t.options.bind_to_device = (char *) "averyveryverylongname";
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EINVAL);
        ck_assert_msg(strstr(err, "at most 15 characters") != NULL, "%s", err);

        t.options.bind_to_device = (char *) "lo";
        r = listener_bind(&t.spec, &fd, err, sizeof err);
        if (r == -EPERM) {
                ck_assert_msg(strstr(err, "CAP_NET_RAW") != NULL, "%s", err);
                return;
        }
        ck_assert_msg(r == 0, "%s", err);
        ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &l), 0);
        ck_assert_str_eq(dev, "lo");
        close(fd);
}
END_TEST

/* IPAddressAllow=/IPAddressDeny=: the filter is on the inet socket, locked, and read back; a
 * unix socket gets none. New rules make another socket (the filter cannot change), on inet
 * sockets only. */
START_TEST(test_options_ip_filter) {
        char err[LISTENER_ERROR_MAX], path[PATH_MAX];
        _cleanup_(listener_freep) Listener *l = NULL, *u = NULL;
        IPPrefixList allow = {}, deny = {}, other = {};
        TestSocket t, t2, x, x2;
        int fd = -1;

        ck_assert_int_eq(ip_prefix_list_parse(&allow, "127.0.0.2", NULL, NULL), 0);
        ck_assert_int_eq(ip_prefix_list_parse(&deny, "any", NULL, NULL), 0);
        ck_assert_int_eq(ip_prefix_list_parse(&other, "::1", NULL, NULL), 0);

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.options.ip_address_allow = allow;
        t.options.ip_address_deny = deny;
        ck_assert_int_eq(listener_new(&l, &t.spec), 0);
        ck_assert_msg(listener_open(l, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_gt(l->filter_insns, 0);
        ck_assert_int_eq(listener_read_filter(l->fd), (int) l->filter_insns);
        ck_assert_int_eq(setsockopt(l->fd, SOL_SOCKET, SO_DETACH_FILTER, &(int) { 0 },
                                    sizeof(int)), -1);
        ck_assert_int_eq(errno, EPERM);

        ts_inet(&t2, "127.0.0.1", 0, SOCK_STREAM, -1);
        t2.options.ip_address_allow = allow;
        t2.options.ip_address_deny = deny;
        ck_assert(listener_same(l, &t2.spec));
        t2.options.ip_address_allow = other;
        ck_assert(!listener_same(l, &t2.spec));

        snprintf(path, sizeof path, "%s/f.sock", tmpdir);
        ts_unix(&x, path, SOCK_STREAM);
        x.options.ip_address_deny = deny;
        ck_assert_int_eq(listener_new(&u, &x.spec), 0);
        ck_assert_msg(listener_open(u, err, sizeof err) == 0, "%s", err);
        ck_assert_uint_eq(u->filter_insns, 0);
        ts_unix(&x2, path, SOCK_STREAM);
        ck_assert(listener_same(u, &x2.spec));

        /* Without rules, no filter. */
        ts_inet(&t2, "127.0.0.1", 0, SOCK_STREAM, -1);
        ck_assert_msg(listener_bind(&t2.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(listener_read_filter(fd), 0);
        close(fd);

        ip_prefix_list_clear(&allow);
        ip_prefix_list_clear(&deny);
        ip_prefix_list_clear(&other);
}
END_TEST

/* ---- (f) the log line ---- */

static void describe_fd(int fd, char *buf, size_t buflen) {
        ListenerInfo info;

        ck_assert_int_eq(listener_read_back(fd, &info), 0);
        listener_describe("web.socket", &info, buf, buflen);
}

START_TEST(test_describe) {
        char err[LISTENER_ERROR_MAX], line[ADDRESS_FORMAT_MAX + 512];
        char want[ADDRESS_FORMAT_MAX + 512];
        char path[256];
        TestSocket t;
        uint16_t port;
        int fd;

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        port = port_of(fd);
        ck_assert_uint_ne(port, 0); /* port 0: the kernel's pick is shown */
        describe_fd(fd, line, sizeof line);
        snprintf(want, sizeof want,
                 "web.socket: listening on 127.0.0.1:%u (TCP, IPv4) — loopback only, this "
                 "machine only — try: nc 127.0.0.1 %u",
                 port, port);
        ck_assert_str_eq(line, want);
        close(fd);

        /* A port that usually speaks HTTP gets a curl hint: the first of them free here. */
        static const uint16_t http_ports[] = { 8008, 8888, 9000, 591, 4443, 8088 };
        for (size_t i = 0; i < ELEMENTSOF(http_ports); i++) {
                ts_inet(&t, "127.0.0.1", http_ports[i], SOCK_STREAM, -1);
                if (listener_bind(&t.spec, &fd, err, sizeof err) < 0)
                        continue;
                describe_fd(fd, line, sizeof line);
                snprintf(want, sizeof want,
                         "web.socket: listening on 127.0.0.1:%u (TCP, IPv4) — loopback only, "
                         "this machine only — try: curl http://127.0.0.1:%u/",
                         http_ports[i], http_ports[i]);
                ck_assert_str_eq(line, want);
                close(fd);
                break;
        }

        ts_inet(&t, "0.0.0.0", 0, SOCK_DGRAM, -1);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        port = port_of(fd);
        describe_fd(fd, line, sizeof line);
        snprintf(want, sizeof want,
                 "web.socket: listening on 0.0.0.0:%u (UDP, IPv4) — all interfaces, reachable "
                 "from other machines — try: nc -u 127.0.0.1 %u",
                 port, port);
        ck_assert_str_eq(line, want);
        close(fd);

        if (have_ipv6()) {
                ts_inet(&t, "::", 0, SOCK_STREAM, 0);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                port = port_of(fd);
                describe_fd(fd, line, sizeof line);
                snprintf(want, sizeof want,
                         "web.socket: listening on [::]:%u (TCP, dual-stack: takes IPv4 and IPv6, "
                         "IPV6_V6ONLY=0) — all interfaces, reachable from other machines — try: "
                         "nc 127.0.0.1 %u",
                         port, port);
                ck_assert_str_eq(line, want);
                close(fd);

                ts_inet(&t, "::", 0, SOCK_STREAM, 1);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                port = port_of(fd);
                describe_fd(fd, line, sizeof line);
                snprintf(want, sizeof want,
                         "web.socket: listening on [::]:%u (TCP, IPv6 only, IPV6_V6ONLY=1) — all "
                         "interfaces, reachable from other machines — try: nc ::1 %u",
                         port, port);
                ck_assert_str_eq(line, want);
                close(fd);

                ts_inet(&t, "::1", 0, SOCK_STREAM, 1);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                port = port_of(fd);
                describe_fd(fd, line, sizeof line);
                snprintf(want, sizeof want,
                         "web.socket: listening on [::1]:%u (TCP, IPv6, IPV6_V6ONLY=1) — loopback "
                         "only, this machine only — try: nc ::1 %u",
                         port, port);
                ck_assert_str_eq(line, want);
                close(fd);

                ts_inet(&t, "::1", 0, SOCK_DGRAM, 1);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                port = port_of(fd);
                describe_fd(fd, line, sizeof line);
                snprintf(want, sizeof want,
                         "web.socket: listening on [::1]:%u (UDP, IPv6, IPV6_V6ONLY=1) — loopback "
                         "only, this machine only — try: nc -u ::1 %u",
                         port, port);
                ck_assert_str_eq(line, want);
                close(fd);
        }

        snprintf(path, sizeof path, "%s/web.sock", tmpdir);
        ts_unix(&t, path, SOCK_STREAM);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        describe_fd(fd, line, sizeof line);
        snprintf(want, sizeof want,
                 "web.socket: listening on %s (unix stream) — this machine only, by path — try: "
                 "nc -U %s",
                 path, path);
        ck_assert_str_eq(line, want);
        close(fd);
}
END_TEST

START_TEST(test_describe_by_hand) {
        char line[ADDRESS_FORMAT_MAX + 512];
        ListenerInfo info = {
                .addr = make_inet("192.0.2.10", 443),
                .family = AF_INET,
                .socktype = SOCK_STREAM,
                .protocol = IPPROTO_TCP,
                .v6only = -1,
                .backlog = -1,
                .reach = REACH_ONE,
        };

        listener_describe("tls.socket", &info, line, sizeof line);
        ck_assert_str_eq(line, "tls.socket: listening on 192.0.2.10:443 (TCP, IPv4) — one "
                               "interface — try: curl -k https://192.0.2.10:443/");

        /* A path with a space is quoted in the hint; a tiny buffer is cut, not overrun. */
        info = (ListenerInfo) {
                .addr = make_unix("/run/my app.sock"),
                .family = AF_UNIX,
                .socktype = SOCK_DGRAM,
                .v6only = -1,
                .backlog = -1,
                .reach = REACH_LOCAL,
        };
        listener_describe("a.socket", &info, line, sizeof line);
        ck_assert_str_eq(line, "a.socket: listening on /run/my app.sock (unix datagram) — this "
                               "machine only, by path — try: nc -uU '/run/my app.sock'");
        char tiny[8];
        ck_assert_ptr_eq(listener_describe("a.socket", &info, tiny, sizeof tiny), tiny);
        ck_assert_uint_eq(strlen(tiny), 7);
}
END_TEST

START_TEST(test_read_back_reach) {
        static const struct {
                const char *ip;
                int v6only;
                int reach;
        } table[] = {
                { "127.0.0.1", -1, REACH_LOOPBACK },
                { "127.0.0.2", -1, REACH_LOOPBACK },
                { "0.0.0.0", -1, REACH_ALL },
                { "::", 0, REACH_ALL },
                { "::1", 1, REACH_LOOPBACK },
                { "::ffff:127.0.0.1", 0, REACH_LOOPBACK },
        };
        char err[LISTENER_ERROR_MAX];

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                TestSocket t;
                ListenerInfo info;
                int fd;

                if (strchr(table[i].ip, ':') && !have_ipv6())
                        continue;
                ts_inet(&t, table[i].ip, 0, SOCK_STREAM, table[i].v6only);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s: %s",
                              table[i].ip, err);
                ck_assert_int_eq(listener_read_back(fd, &info), 0);
                ck_assert_msg((int) info.reach == table[i].reach, "%s: reach %d", table[i].ip,
                              (int) info.reach);
                ck_assert_uint_ne(port_of(fd), 0);
                close(fd);
        }
}
END_TEST

/* ---- what is kept of the read-back ---- */

static void assert_info_kept(const TestSocket *t) {
        char err[LISTENER_ERROR_MAX], a[ADDRESS_FORMAT_MAX], b[ADDRESS_FORMAT_MAX];
        _cleanup_(listener_freep) Listener *l = NULL;
        ListenerInfo kept, now;

        ck_assert_int_eq(listener_new(&l, &t->spec), 0);
        ck_assert_int_eq(listener_info(l, &kept), -ENOTCONN);
        ck_assert_int_eq(listener_open(l, err, sizeof err), 0);
        ck_assert(l->have_info);
        ck_assert_int_eq(listener_info(l, &kept), 0);
        /* As a read-back at the bind: the family, type and protocol the socket was made
         * with (protocol 0: the default), the rest from the kernel. */
        ck_assert_int_eq(listener_read_back_of(l->fd, t->spec.family, t->spec.socktype,
                                               t->spec.protocol, &now),
                         0);
        ck_assert_msg(sockaddr_equal(&kept.addr, &now.addr), "%s != %s",
                      sockaddr_format(&kept.addr, a, sizeof a),
                      sockaddr_format(&now.addr, b, sizeof b));
        ck_assert_uint_eq(kept.addr.len, now.addr.len);
        ck_assert_int_eq(kept.family, now.family);
        ck_assert_int_eq(kept.socktype, now.socktype);
        ck_assert_int_eq(kept.protocol, now.protocol);
        ck_assert_int_eq(kept.v6only, now.v6only);
        ck_assert_int_eq(kept.backlog, now.backlog);
        ck_assert_int_eq(kept.reach, now.reach);
        ck_assert_str_eq(listener_name(l, a, sizeof a), sockaddr_format(&now.addr, b, sizeof b));
}

/* A listener keeps a few bytes of what the kernel said at the bind, and says the same as a
 * read-back now: the port the kernel picked for port 0, the stack, the backlog. */
START_TEST(test_info_kept) {
        char path[256];
        TestSocket t;

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        t.unit.socket.backlog = 17;
        assert_info_kept(&t);
        ts_inet(&t, "127.0.0.1", 0, SOCK_DGRAM, -1);
        assert_info_kept(&t);
        snprintf(path, sizeof path, "%s/kept.sock", tmpdir);
        ts_unix(&t, path, SOCK_STREAM);
        assert_info_kept(&t);
}
END_TEST

/* ---- the watch ---- */

typedef struct Triggers {
        unsigned n;
        Listener *last;
        Listener *to_free; /* freed by the next trigger */
        bool rewatch;      /* watched again at once, its client left waiting */
} Triggers;

static void on_trigger_record(Listener *l, void *userdata) {
        Triggers *t = userdata;

        t->n++;
        t->last = l;
        t->to_free = listener_free(t->to_free);
        if (t->rewatch)
                ck_assert_int_eq(listener_set_watch(l, true), 0);
}

/* Turns the loop until t saw n triggers, at most 100 times 20 ms. */
static void run_until(sd_event *e, const Triggers *t, unsigned n) {
        for (unsigned i = 0; i < 100 && t->n < n; i++)
                ck_assert_int_ge(sd_event_run(e, 20 * USEC_PER_MSEC), 0);
}

static uint16_t listener_port(const Listener *l) {
        ck_assert_int_ge(l->fd, 0);
        return port_of(l->fd);
}

/* Listeners share one epoll watch of their event loop: a waiting client triggers its own
 * listener once, which is then no longer watched; a trigger may free another listener that
 * is ready too; PollLimitBurst= pauses a listener that keeps waking. */
START_TEST(test_watch) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        char err[LISTENER_ERROR_MAX];
        TestSocket a, b;
        Listener *la = NULL, *lb = NULL;
        Triggers ta = {}, tb = {};
        int c1, c2;

        ck_assert_int_ge(sd_event_new(&e), 0);
        ts_inet(&a, "127.0.0.1", 0, SOCK_STREAM, -1);
        ts_inet(&b, "127.0.0.1", 0, SOCK_STREAM, -1);
        ck_assert_int_eq(listener_new(&la, &a.spec), 0);
        ck_assert_int_eq(listener_new(&lb, &b.spec), 0);
        ck_assert_int_eq(listener_open(la, err, sizeof err), 0);
        ck_assert_int_eq(listener_open(lb, err, sizeof err), 0);
        listener_set_owner(la, e, on_trigger_record, &ta);
        listener_set_owner(lb, e, on_trigger_record, &tb);
        ck_assert_int_eq(listener_set_watch(la, true), 0);
        ck_assert_int_eq(listener_set_watch(lb, true), 0);
        ck_assert_int_eq(la->watch, LISTENER_WATCHING);
        /* The limit windows come with the first event (issue 13: 10,000 idle sockets). */
        ck_assert_ptr_null(la->limits);

        c1 = connect_to("127.0.0.1", listener_port(la), SOCK_STREAM);
        ck_assert_int_ge(c1, 0);
        run_until(e, &ta, 1);
        ck_assert_uint_eq(ta.n, 1);
        ck_assert_ptr_eq(ta.last, la);
        ck_assert_uint_eq(tb.n, 0);
        ck_assert_ptr_nonnull(la->limits);
        ck_assert_ptr_null(lb->limits);
        ck_assert_int_eq(la->watch, LISTENER_IDLE);
        ck_assert_int_eq(lb->watch, LISTENER_WATCHING);
        /* Its client still waits, but it is not watched: nothing more. */
        ck_assert_int_ge(sd_event_run(e, 50 * USEC_PER_MSEC), 0);
        ck_assert_uint_eq(ta.n, 1);

        /* Both ready; whichever comes first, b's trigger frees a and nothing touches it
         * after. */
        ck_assert_int_eq(listener_set_watch(la, true), 0);
        tb.to_free = la;
        c2 = connect_to("127.0.0.1", listener_port(lb), SOCK_STREAM);
        ck_assert_int_ge(c2, 0);
        run_until(e, &tb, 1);
        ck_assert_uint_eq(tb.n, 1);
        ck_assert_ptr_null(tb.to_free);
        ck_assert_uint_le(ta.n, 2);
        for (unsigned i = 0; i < 5; i++)
                ck_assert_int_ge(sd_event_run(e, 10 * USEC_PER_MSEC), 0);
        ck_assert_uint_le(ta.n, 2);

        /* Woken at once again and again (its client never accepted): two wake-ups, then a
         * pause for the rest of PollLimitIntervalSec=. */
        b.limits.poll_limit_interval_usec = 10 * USEC_PER_SEC;
        b.limits.poll_limit_burst = 2;
        tb.rewatch = true;
        ck_assert_int_eq(listener_set_watch(lb, true), 0);
        run_until(e, &tb, 3);
        for (unsigned i = 0; i < 5; i++)
                ck_assert_int_ge(sd_event_run(e, 10 * USEC_PER_MSEC), 0);
        ck_assert_uint_eq(tb.n, 3);
        ck_assert_int_eq(lb->watch, LISTENER_PAUSED);

        listener_free(lb);
        close(c1);
        close(c2);
}
END_TEST

/* ---- (g) fds ---- */

START_TEST(test_no_fd_leaks) {
        char err[LISTENER_ERROR_MAX], path[256], file[256], abstract[64];
        TestSocket t;
        uint16_t port;
        int before, after, held, fd, r;

        snprintf(path, sizeof path, "%s/leak/x.sock", tmpdir);
        snprintf(file, sizeof file, "%s/leak-file", tmpdir);
        snprintf(abstract, sizeof abstract, "@berth-test-leak-%d", (int) getpid());
        write_file(file, "x");

        ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
        ck_assert_msg(listener_bind(&t.spec, &held, err, sizeof err) == 0, "%s", err);
        port = port_of(held);

        before = count_fds();
        for (int i = 0; i < 100; i++) {
                ListenerInfo info;

                /* Success, read back, close. */
                ts_inet(&t, "127.0.0.1", 0, i % 2 ? SOCK_DGRAM : SOCK_STREAM, -1);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                ck_assert_int_eq(listener_read_back(fd, &info), 0);
                close(fd);

                /* EADDRINUSE, with the holder lookup (netlink, /proc). */
                ts_inet(&t, "127.0.0.1", port, SOCK_STREAM, -1);
                ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EADDRINUSE);

                /* Option failure after the socket exists. */
                ts_inet(&t, "127.0.0.1", 0, SOCK_STREAM, -1);
                t.options.bind_to_device = (char *) "nosuchif0";
                ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -ENODEV);

                /* Unix: created, stale-replaced on the next round, then refused on a file. */
                ts_unix(&t, path, SOCK_STREAM);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                ck_assert_int_eq(listener_read_back(fd, &info), 0);
                close(fd);
                ts_unix(&t, file, SOCK_STREAM);
                ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);

                /* Abstract, and its in-use failure. */
                ts_unix(&t, abstract, SOCK_STREAM);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                int fd2;
                r = listener_bind(&t.spec, &fd2, err, sizeof err);
                ck_assert_int_eq(r, -EADDRINUSE);
                close(fd);
        }
        after = count_fds();
        ck_assert_int_eq(before, after);
        close(held);
}
END_TEST

/* ---- (e) FIFOs, special files, message queues, netlink, Symlinks=, RemoveOnStop= ---- */

START_TEST(test_fifo) {
        char dir[256], path[300], err[LISTENER_ERROR_MAX];
        TestSocket t;
        struct stat st, again;
        mode_t old = umask(0022);
        int fd, fd2, w;

        snprintf(dir, sizeof dir, "%s/a/b", tmpdir);
        snprintf(path, sizeof path, "%s/x.fifo", dir);
        ts_node(&t, LISTEN_FIFO, path);
        t.options.socket_mode = 0620;
        t.options.directory_mode = 0750;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_str_eq(err, "");
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISFIFO(st.st_mode));
        ck_assert_int_eq(st.st_mode & 07777, 0620); /* exactly, whatever the umask */
        ck_assert_int_eq(st.st_uid, geteuid());
        ck_assert_int_eq(lstat(dir, &again), 0);
        ck_assert_int_eq(again.st_mode & 07777, 0750);

        /* Read-write (it never sees end-of-file), non-blocking, close-on-exec. */
        ck_assert_int_eq(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR | O_NONBLOCK);
        ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        ck_assert(!readable(fd, 0));
        w = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        ck_assert_int_ge(w, 0);
        ck_assert_int_eq(write(w, "x", 1), 1);
        ck_assert(readable(fd, 2000));
        close(w);

        /* An existing FIFO of ours is reused, and gets SocketMode= again. */
        ck_assert_int_eq(chmod(path, 0600), 0);
        ck_assert_msg(listener_bind(&t.spec, &fd2, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(lstat(path, &again), 0);
        ck_assert_int_eq(again.st_ino, st.st_ino);
        ck_assert_int_eq(again.st_mode & 07777, 0620);
        close(fd2);
        close(fd);
        umask(old);
}
END_TEST

START_TEST(test_fifo_refuses_other_files) {
        char path[256], target[256], err[LISTENER_ERROR_MAX];
        TestSocket t;
        struct stat st;
        int fd = -1;

        snprintf(path, sizeof path, "%s/file", tmpdir);
        write_file(path, "keep me\n");
        ts_node(&t, LISTEN_FIFO, path);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
        ck_assert_msg(strstr(err, "exists and is not a FIFO (it is a regular file), refusing to "
                                  "replace it"), "%s", err);
        ck_assert(file_has(path, "keep me\n"));

        /* A symlink, even to a FIFO, is not followed. */
        snprintf(target, sizeof target, "%s/real.fifo", tmpdir);
        ck_assert_int_eq(mkfifo(target, 0600), 0);
        snprintf(path, sizeof path, "%s/link.fifo", tmpdir);
        ck_assert_int_eq(symlink(target, path), 0);
        ts_node(&t, LISTEN_FIFO, path);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
        ck_assert_msg(strstr(err, "(it is a symlink)"), "%s", err);
        ck_assert_int_eq(lstat(path, &st), 0);
        ck_assert(S_ISLNK(st.st_mode));

        /* Another user's FIFO is not taken over. */
        if (geteuid() == 0 && getpwnam("nobody")) {
                snprintf(path, sizeof path, "%s/theirs.fifo", tmpdir);
                ck_assert_int_eq(mkfifo(path, 0666), 0);
                ck_assert_int_eq(chown(path, getpwnam("nobody")->pw_uid, (gid_t) -1), 0);
                ts_node(&t, LISTEN_FIFO, path);
                ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EPERM);
                ck_assert_msg(strstr(err, "neither berthd's nor SocketUser=, refusing"), "%s",
                              err);
                /* Unless it is SocketUser='s, as after a restart. */
                t.options.socket_user = (char *) "nobody";
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                ck_assert_int_eq(lstat(path, &st), 0);
                ck_assert_int_eq(st.st_uid, getpwnam("nobody")->pw_uid);
                close(fd);
        }
}
END_TEST

START_TEST(test_special) {
        char path[256], fifo[256], link[256], err[LISTENER_ERROR_MAX];
        TestSocket t;
        int fd = -1;

        snprintf(path, sizeof path, "%s/special", tmpdir);
        write_file(path, "data\n");
        ts_node(&t, LISTEN_SPECIAL, path);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY | O_NONBLOCK);
        ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
        t.options.writable = true;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
        ck_assert(file_has(path, "data\n")); /* opened, never truncated */
        close(fd);

        /* A character device. */
        ts_node(&t, LISTEN_SPECIAL, "/dev/null");
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        close(fd);

        /* Nothing is created; FIFOs, directories and symlinks are refused, as by systemd. */
        fd = -1;
        snprintf(path, sizeof path, "%s/missing", tmpdir);
        ts_node(&t, LISTEN_SPECIAL, path);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -ENOENT);
        ck_assert_msg(strstr(err, "does not exist (ListenSpecial= opens a file, it creates none)"),
                      "%s", err);
        ck_assert_int_eq(access(path, F_OK), -1);
        snprintf(fifo, sizeof fifo, "%s/a.fifo", tmpdir);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ts_node(&t, LISTEN_SPECIAL, fifo);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
        ck_assert_msg(strstr(err, "is a FIFO: ListenSpecial= opens character devices and files"),
                      "%s", err);
        ck_assert_msg(strstr(err, "(a FIFO wants ListenFIFO=)"), "%s", err);
        ts_node(&t, LISTEN_SPECIAL, tmpdir);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
        ck_assert_msg(strstr(err, "is a directory"), "%s", err);
        snprintf(link, sizeof link, "%s/null-link", tmpdir);
        ck_assert_int_eq(symlink("/dev/null", link), 0);
        ts_node(&t, LISTEN_SPECIAL, link);
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -ELOOP);
        ck_assert_msg(strstr(err, "is a symlink, refusing to follow it"), "%s", err);
        ck_assert_int_eq(fd, -1);
}
END_TEST

START_TEST(test_mqueue) {
        char name[64], err[LISTENER_ERROR_MAX];
        struct mq_attr attr;
        TestSocket t;
        struct stat st;
        int fd, fd2, w;

        snprintf(name, sizeof name, "/berth-test-%d", (int) getpid());
        (void) mq_unlink(name);
        ts_node(&t, LISTEN_MQUEUE, name);
        t.options.socket_mode = 0640;
        t.options.mq_max_messages = 4;
        t.options.mq_message_size = 64;
        if (listener_bind(&t.spec, &fd, err, sizeof err) == -ENOSYS) {
                printf("SKIP: no POSIX message queues: %s\n", err);
                return;
        }
        ck_assert_msg(fd >= 0, "%s", err);
        ck_assert_int_eq(fstat(fd, &st), 0);
        ck_assert_int_eq(st.st_mode & 0777, 0640);
        ck_assert_int_eq(mq_getattr(fd, &attr), 0);
        ck_assert_int_eq(attr.mq_maxmsg, 4);
        ck_assert_int_eq(attr.mq_msgsize, 64);
        /* Read-only, as systemd opens it: the service receives. */
        ck_assert_int_eq(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDONLY | O_NONBLOCK);
        ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);

        w = mq_open(name, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(w, 0);
        ck_assert(!readable(fd, 0));
        ck_assert_int_eq(mq_send(w, "hi", 2, 0), 0);
        ck_assert(readable(fd, 2000));
        close(w);

        /* An existing queue is reused, with its own sizes. */
        t.options.mq_max_messages = 2;
        ck_assert_msg(listener_bind(&t.spec, &fd2, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(mq_getattr(fd2, &attr), 0);
        ck_assert_int_eq(attr.mq_maxmsg, 4);
        ck_assert_int_eq(attr.mq_curmsgs, 1);
        close(fd2);
        close(fd);
        ck_assert_int_eq(mq_unlink(name), 0);

        /* Sizes beyond what the kernel takes, even from root: said, with the sysctls. */
        t.options.mq_max_messages = 1;
        t.options.mq_message_size = 1U << 30;
        fd = -1;
        ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EINVAL);
        ck_assert_msg(strstr(err, "MessageQueueMessageSize=1073741824"), "%s", err);
        ck_assert_msg(strstr(err, "fs.mqueue.msgsize_max"), "%s", err);
        ck_assert_int_eq(fd, -1);
        ck_assert_int_eq(mq_unlink(name), -1);
}
END_TEST

START_TEST(test_netlink) {
        char err[LISTENER_ERROR_MAX];
        struct sockaddr_nl nl;
        socklen_t len = sizeof nl;
        TestSocket t;
        int fd = -1;

        ts_netlink(&t, NETLINK_ROUTE, 0);
        t.options.receive_buffer = 1 << 16;
        t.options.pass_credentials = true;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_DOMAIN), AF_NETLINK);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_TYPE), SOCK_RAW);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_PROTOCOL), NETLINK_ROUTE);
        ck_assert_int_ge(get_opt(fd, SOL_SOCKET, SO_RCVBUF), 1 << 16);
        ck_assert_int_eq(get_opt(fd, SOL_SOCKET, SO_PASSCRED), 1);
        ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
        ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);

        /* The group is bound: the kernel's uevents, as systemd-udevd-kernel.socket asks. */
        ts_netlink(&t, NETLINK_KOBJECT_UEVENT, 1);
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_int_eq(getsockname(fd, (struct sockaddr *) &nl, &len), 0);
        ck_assert_uint_eq(nl.nl_groups, 1);
        close(fd);

        /* A family the kernel does not have. */
        fd = -1;
        ts_netlink(&t, 31, 0);
        ck_assert_int_lt(listener_bind(&t.spec, &fd, err, sizeof err), 0);
        ck_assert_msg(strstr(err, "cannot create netlink socket 31"), "%s", err);
        ck_assert_int_eq(fd, -1);
}
END_TEST

static bool link_to(const char *link, const char *target) {
        char buf[PATH_MAX];
        ssize_t n = readlink(link, buf, sizeof buf - 1);

        if (n < 0)
                return false;
        buf[n] = '\0';
        return streq(buf, target);
}

START_TEST(test_symlinks) {
        char path[256], l1[256], l2[256], l3[256], sock[256], err[LISTENER_ERROR_MAX];
        char *links[4] = { l1, l2, l3, NULL };
        TestSocket t;
        int fd;

        snprintf(path, sizeof path, "%s/x.fifo", tmpdir);
        snprintf(l1, sizeof l1, "%s/new/dir/link1", tmpdir);   /* parents made */
        snprintf(l2, sizeof l2, "%s/stale-link", tmpdir);      /* points elsewhere: replaced */
        snprintf(l3, sizeof l3, "%s/a-file", tmpdir);          /* not a link: left alone */
        ck_assert_int_eq(symlink("/nowhere", l2), 0);
        write_file(l3, "mine\n");
        ts_node(&t, LISTEN_FIFO, path);
        t.options.symlinks = links;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert(link_to(l1, path));
        ck_assert(link_to(l2, path));
        ck_assert(file_has(l3, "mine\n"));
        /* The one that failed is a warning, saying what berth does. */
        ck_assert_msg(strstr(err, "exists and is not a symlink (it is a regular file)"), "%s",
                      err);
        ck_assert_msg(strstr(err, ", ignoring"), "%s", err);
        close(fd);

        /* Again: the links are there already, nothing to say about them. */
        links[2] = NULL;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert_str_eq(err, "");
        close(fd);

        /* To a unix socket path too. */
        snprintf(sock, sizeof sock, "%s/x.sock", tmpdir);
        ts_unix(&t, sock, SOCK_DGRAM);
        t.options.symlinks = links;
        ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
        ck_assert(link_to(l1, sock));
        ck_assert(link_to(l2, sock));
        close(fd);
}
END_TEST

/* A listener of t, bound. */
static Listener *bound(TestSocket *t) {
        char err[LISTENER_ERROR_MAX];
        Listener *l = NULL;

        ck_assert_int_eq(listener_new(&l, &t->spec), 0);
        ck_assert_msg(listener_open(l, err, sizeof err) == 0, "%s", err);
        return l;
}

START_TEST(test_remove_on_stop) {
        char fifo[256], sock[256], link[256], other[256], name[64];
        char *links[] = { link, NULL };
        TestSocket a, b, u, q;
        Listener *la, *lb, *lu, *lq;

        snprintf(fifo, sizeof fifo, "%s/x.fifo", tmpdir);
        snprintf(sock, sizeof sock, "%s/x.sock", tmpdir);
        snprintf(link, sizeof link, "%s/link", tmpdir);
        snprintf(other, sizeof other, "%s/other", tmpdir);
        snprintf(name, sizeof name, "/berth-test-rm-%d", (int) getpid());

        /* Without RemoveOnStop=yes, nothing goes. */
        ts_node(&a, LISTEN_FIFO, fifo);
        a.options.symlinks = links;
        la = bound(&a);
        listener_remove_nodes(la, NULL, 0);
        ck_assert_int_eq(access(fifo, F_OK), 0);
        ck_assert(link_to(link, fifo));

        /* A listener that stays and has the same FIFO keeps it, and the link. */
        a.options.remove_on_stop = true;
        ts_node(&b, LISTEN_FIFO, fifo);
        b.options.symlinks = links;
        lb = bound(&b);
        listener_remove_nodes(la, &lb, 1);
        ck_assert_int_eq(access(fifo, F_OK), 0);
        ck_assert(link_to(link, fifo));

        /* Alone, it removes both. */
        listener_remove_nodes(la, NULL, 0);
        ck_assert_int_eq(access(fifo, F_OK), -1);
        ck_assert_int_eq(access(link, F_OK), -1);
        listener_free(lb);

        /* A FIFO made anew at the path since is not ours, nor a link someone pointed away. */
        listener_free(la);
        la = bound(&a);
        ck_assert_int_eq(unlink(fifo), 0);
        ck_assert_int_eq(mkfifo(fifo, 0600), 0);
        ck_assert_int_eq(unlink(link), 0);
        ck_assert_int_eq(symlink(other, link), 0);
        listener_remove_nodes(la, NULL, 0);
        ck_assert_int_eq(access(fifo, F_OK), 0);
        ck_assert(link_to(link, other));
        listener_free(la);

        /* A unix socket file, and a message queue. */
        ts_unix(&u, sock, SOCK_STREAM);
        u.options.remove_on_stop = true;
        lu = bound(&u);
        listener_remove_nodes(lu, NULL, 0);
        ck_assert_int_eq(access(sock, F_OK), -1);
        listener_free(lu);
        (void) mq_unlink(name);
        ts_node(&q, LISTEN_MQUEUE, name);
        q.options.socket_mode = 0600;
        q.options.remove_on_stop = true;
        lq = bound(&q);
        listener_remove_nodes(lq, NULL, 0);
        ck_assert_int_eq(mq_open(name, O_RDONLY | O_CLOEXEC), -1);
        ck_assert_int_eq(errno, ENOENT);
        listener_free(lq);
}
END_TEST

START_TEST(test_listen_types_no_fd_leaks) {
        char err[LISTENER_ERROR_MAX], fifo[256], file[256], name[64];
        TestSocket t;
        int before, fd;

        snprintf(fifo, sizeof fifo, "%s/leak.fifo", tmpdir);
        snprintf(file, sizeof file, "%s/leak-file", tmpdir);
        snprintf(name, sizeof name, "/berth-test-leak-%d", (int) getpid());
        write_file(file, "x");
        before = count_fds();
        for (int i = 0; i < 50; i++) {
                ts_node(&t, LISTEN_FIFO, fifo);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                close(fd);
                ts_node(&t, LISTEN_FIFO, file);
                ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
                ts_node(&t, LISTEN_SPECIAL, fifo);
                ck_assert_int_eq(listener_bind(&t.spec, &fd, err, sizeof err), -EEXIST);
                ts_node(&t, LISTEN_MQUEUE, name);
                t.options.socket_mode = 0600;
                if (listener_bind(&t.spec, &fd, err, sizeof err) == 0)
                        close(fd);
                ts_netlink(&t, NETLINK_ROUTE, 0);
                ck_assert_msg(listener_bind(&t.spec, &fd, err, sizeof err) == 0, "%s", err);
                close(fd);
                ts_netlink(&t, 31, 0);
                ck_assert_int_lt(listener_bind(&t.spec, &fd, err, sizeof err), 0);
        }
        (void) mq_unlink(name);
        ck_assert_int_eq(count_fds(), before);
}
END_TEST

static Suite *listener_suite(void) {
        Suite *s = suite_create("listener");
        TCase *tc;

        tc = tcase_create("kernel-contract");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_v6only_before_and_after_bind);
        tcase_add_test(tc, test_reuseaddr_time_wait);
        tcase_add_test(tc, test_cloexec_nonblock);
        suite_add_tcase(s, tc);

        tc = tcase_create("netns");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_netns_dual_stack);
        tcase_add_test(tc, test_netns_v6only);
        tcase_add_test(tc, test_netns_separate);
        suite_add_tcase(s, tc);

        tc = tcase_create("addr-in-use");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_addr_in_use_names_holder);
        tcase_add_test(tc, test_addr_in_use_dual_stack_holder);
        tcase_add_test(tc, test_addr_in_use_udp);
        tcase_add_test(tc, test_addr_in_use_hidden_holder);
        suite_add_tcase(s, tc);

        tc = tcase_create("unix");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_unix_stale_replaced);
        tcase_add_test(tc, test_unix_regular_file_refused);
        tcase_add_test(tc, test_unix_symlink_refused);
        tcase_add_test(tc, test_unix_parent_symlink_refused);
        tcase_add_test(tc, test_unix_mode);
        tcase_add_test(tc, test_unix_directories);
        tcase_add_test(tc, test_unix_owner);
        tcase_add_test(tc, test_unix_abstract);
        tcase_add_test(tc, test_unix_seqpacket);
        suite_add_tcase(s, tc);

        tc = tcase_create("listen-types");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_fifo);
        tcase_add_test(tc, test_fifo_refuses_other_files);
        tcase_add_test(tc, test_special);
        tcase_add_test(tc, test_mqueue);
        tcase_add_test(tc, test_netlink);
        tcase_add_test(tc, test_symlinks);
        tcase_add_test(tc, test_remove_on_stop);
        tcase_add_test(tc, test_listen_types_no_fd_leaks);
        suite_add_tcase(s, tc);

        tc = tcase_create("options");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_options_tcp);
        tcase_add_test(tc, test_options_buffers);
        tcase_add_test(tc, test_options_buffer_capped_unprivileged);
        tcase_add_test(tc, test_options_unix_and_udp);
        tcase_add_test(tc, test_options_free_bind);
        tcase_add_test(tc, test_options_transparent);
        tcase_add_test(tc, test_options_bind_to_device);
        tcase_add_test(tc, test_options_ip_filter);
        suite_add_tcase(s, tc);

        tc = tcase_create("describe");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_describe);
        tcase_add_test(tc, test_describe_by_hand);
        tcase_add_test(tc, test_read_back_reach);
        suite_add_tcase(s, tc);

        tc = tcase_create("watch");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_add_test(tc, test_info_kept);
        tcase_add_test(tc, test_watch);
        suite_add_tcase(s, tc);

        tc = tcase_create("fds");
        tcase_add_checked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_no_fd_leaks);
        suite_add_tcase(s, tc);

        return s;
}

int main(void) {
        SRunner *sr = srunner_create(listener_suite());
        int failed;

        srunner_run_all(sr, CK_NORMAL);
        failed = srunner_ntests_failed(sr);
        srunner_free(sr);
        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
