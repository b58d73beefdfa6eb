"""A daemon-reload of thousands of unchanged units touches nothing and lets berthd serve while
it runs (SPEC §8, issue 13): 5,000 units (2,500 socket+service pairs on unix sockets) plus one
socket-activated HTTP service on loopback. berthd is frozen (SIGSTOP) while a client connects
to that service and SIGHUP asks for a reload, then thawed: both wait for it at once. berthd
begins the reload first, reads the units in steps, and between them starts the service, which
answers: its start comes between "daemon-reload: reading" and "daemon-reload: done". No unit
is read again (their files are a minute old, and unchanged), and no fd is closed or opened
for a socket."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PAIRS = 2500
WANT_FDS = 2 * PAIRS + 256  # the sockets and what berthd needs besides


def socket_inodes(pid):
    """The socket inodes among pid's open fds."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except FileNotFoundError:
            continue
        m = re.fullmatch(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(int(m.group(1)))
    return inodes


def process_state(pid):
    """The state letter of /proc/PID/stat: R, S, T (stopped) ..."""
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


class ReloadMany(harness.TestCase):
    def test_no_change_reload_serves_meanwhile(self):
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < WANT_FDS:
            self.skipTest("the hard fd limit (%d) is below the %d fds this test needs"
                          % (hard, WANT_FDS))
        server = self.executable("BENCH_SERVER")
        port = harness.free_port()
        sock_dir = os.path.join(self.dir, "sock")
        os.mkdir(sock_dir)
        units = {
            "answer.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            "answer.service": "[Service]\nExecStart=%s\n" % server,
        }
        for i in range(PAIRS):
            units["p%04d.socket" % i] = "[Socket]\nListenStream=%s/p%04d.sock\n" % (sock_dir, i)
            units["p%04d.service" % i] = "[Service]\nExecStart=/bin/true\n"
        self.units(units)
        # Files last written a minute ago: their times can be trusted (not "racy").
        old = time.time() - 60
        for name in units:
            os.utime(os.path.join(self.dir, name), (old, old))

        b = self.berthd(timeout=120)
        before = socket_inodes(b.proc.pid)
        self.assertGreaterEqual(len(before), PAIRS + 1)

        # Frozen, berthd cannot tell which came first: the kernel completes the connection
        # (berthd's socket listens) and queues the signal.
        os.kill(b.proc.pid, signal.SIGSTOP)
        try:
            # kill() returns before the process stops: wait until it has.
            harness.wait_for(lambda: process_state(b.proc.pid) == "T", what="berthd to stop")
            client = harness.connect("127.0.0.1", port, timeout=60)
            self.addCleanup(client.close)
            client.sendall(b"GET / HTTP/1.0\r\n\r\n")
            os.kill(b.proc.pid, signal.SIGHUP)
        finally:
            os.kill(b.proc.pid, signal.SIGCONT)
        reply = b""
        for _ in range(64):  # bounded: the reply is one short HTTP response
            chunk = client.recv(4096)
            if not chunk:
                break
            reply += chunk
        self.assertTrue(reply.startswith(b"HTTP/1.0 200"), reply)
        done = b.wait_log(r"daemon-reload: done, (\d+) units \((\d+) read again", timeout=120)
        self.assertEqual(int(done.group(1)), 2 * PAIRS + 2)
        self.assertEqual(int(done.group(2)), 0, "unchanged units are not read again")

        lines = b.log().splitlines()

        def first(pattern):
            rx = re.compile(pattern)
            for i, line in enumerate(lines):
                if rx.search(line):
                    return i
            self.fail("no line matches %r" % pattern)

        reading = first(r"daemon-reload: reading")
        started = first(r"answer\.service: dead -> running")
        finished = first(r"daemon-reload: done")
        self.assertLess(reading, started, "the reload began first")
        self.assertLess(started, finished, "the service started while the reload ran")

        after = socket_inodes(b.proc.pid)
        self.assertTrue(before <= after, "no socket was closed: %d missing"
                        % len(before - after))
        self.assertEqual(b.stop(), 0)

    def test_reloads_asked_together_are_all_answered(self):
        """Reloads asked for while one runs are done once after it, and each caller hears."""
        import subprocess
        self.units({"a.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % harness.free_port(),
                    "a.service": "[Service]\nExecStart=/bin/true\n"})
        b = self.berthd()
        procs = [subprocess.Popen([self.executable("BERTHCTL"), "--runtime-dir", b.runtime_dir,
                                   "daemon-reload"], stdin=subprocess.DEVNULL,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(5)]
        for p in procs:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, err)
        n = b.count_log(r"daemon-reload: done")
        self.assertGreaterEqual(n, 1)
        self.assertLessEqual(n, 5)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
