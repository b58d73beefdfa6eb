"""Accept=yes when berthd runs out of fds (issue 12, item 2): it pauses accepting for a moment
instead of spinning on a listening socket it cannot accept from (its CPU time over a window,
read from /proc, stays under 5%), the waiting clients stay queued, and once fds free up it
serves again by itself."""
import resource
import socket
import time

import harness

WINDOW = 2.0  # seconds of CPU time measured while exhausted


class AcceptEmfile(harness.TestCase):
    def test_pause_and_recover(self):
        if not harness.is_root():
            self.skipTest("needs root to lower berthd's RLIMIT_NOFILE with prlimit")
        port = harness.free_port()
        marker = "berth-emfile-%d" % port
        b = self.berthd(self.units({
            "tight.socket": "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n"
                            "MaxConnections=1000\nBacklog=128\n" % port,
            "tight@.service": "[Service]\nExecStart=/bin/sh -c 'read l; echo got $l; "
                              "cat >/dev/null; : %s'\nStandardInput=socket\n" % marker,
        }))
        # Room for a few instances, then none.
        limit = b.fd_count() + 12
        resource.prlimit(b.proc.pid, resource.RLIMIT_NOFILE, (limit, limit))
        clients = []
        self.addCleanup(lambda: [c.close() for c in clients])
        for _ in range(40):
            c = socket.create_connection(("127.0.0.1", port), timeout=10)
            clients.append(c)
        b.wait_log(r"tight\.socket: cannot accept connections: Too many open files; "
                   r"pausing for \d+ms")
        started = harness.processes_with(marker)
        self.assertGreater(started, 0)
        self.assertLess(started, 40)
        c0, t0 = b.cpu_seconds(), time.monotonic()
        time.sleep(WINDOW)  # the measurement window, not a wait for an event
        c1, t1 = b.cpu_seconds(), time.monotonic()
        cpu = (c1 - c0) / (t1 - t0)
        print("berthd CPU while out of fds: %.1f%% (%d instances held)" % (cpu * 100, started))
        self.assertLess(cpu, 0.05)
        self.assertEqual(harness.processes_with(marker), started,
                         "no instance starts while out of fds")
        # fds free up: the held clients go, and the queued ones are served by themselves
        for c in clients[:started]:
            c.close()
        queued = clients[started:]
        # As many at once as were held (each running instance costs berthd its connection
        # and the pidfd of its process), at most 5.
        for c in queued[:min(5, started)]:
            c.sendall(b"hi\n")
            self.assertEqual(c.recv(64), b"got hi\n")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
