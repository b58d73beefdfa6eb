"""More sockets than berthd's RLIMIT_NOFILE allows, with a hard limit it cannot raise
(prlimit --nofile=256:256): berthd binds those that fit, keeping a reserve of fds for itself
(a quarter of the limit here, 64), and fails each other socket unit by name with EMFILE and
the limit named; then it runs with the others: READY=1, the control socket answers
(list-sockets lists exactly the bound ones, status names the reason of a failed one), a
bound socket activates its service (pipes and a child: fds from the reserve), and SIGTERM
stops it cleanly. Unix sockets in the test's directory: no port is taken."""
import json
import os
import shutil
import socket

import harness

LIMIT = 256
RESERVE = 64  # fd-reserve.h: FD_RESERVE_MAX, at most a quarter of the limit
SOCKETS = 320  # more than the limit itself

# berthd at start has stdin, stdout, stderr and a few of its own open while it binds.
OTHERS_MAX = 16


class FdExhaustion(harness.TestCase):
    def test_sockets_past_the_limit_fail_one_by_one(self):
        prlimit = shutil.which("prlimit")
        if not prlimit:
            self.skipTest("needs prlimit (util-linux)")
        sock_dir = os.path.join(self.dir, "s")
        os.mkdir(sock_dir)
        units = {}
        for i in range(SOCKETS):
            units["s%03d.socket" % i] = "[Socket]\nListenStream=%s/%03d.sock\n" % (sock_dir, i)
            units["s%03d.service" % i] = "[Service]\nExecStart=/bin/echo started %d\n" % i
        d = self.units(units)

        wrapper = os.path.join(self.dir, "berthd-limited")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec %s --nofile=%d:%d -- %s "$@"\n' % (
                prlimit, LIMIT, LIMIT, harness.BERTHD))
        os.chmod(wrapper, 0o755)
        real, harness.BERTHD = harness.BERTHD, wrapper
        try:
            b = self.berthd(d, timeout=60)
        finally:
            harness.BERTHD = real

        b.wait_log(r"berthd is ready")
        bound = b.count_log(r"^s\d{3}\.socket: listening on ")
        # Which step runs out (the directory, the socket, the check after bind) varies; the
        # reason and the limit are named every time.
        failed = b.count_log(r"^%s/s\d{3}\.socket:2: s\d{3}\.socket: .*: Too many open files "
                             r"\(EMFILE: berthd may open %d files, RLIMIT_NOFILE, and keeps %d "
                             r"of them for itself; raise its hard limit.*; s\d{3}\.socket is not "
                             r"started, the other units go on$" % (d, LIMIT, RESERVE))
        self.assertEqual(bound + failed, SOCKETS, b.log()[-3000:])
        self.assertGreater(failed, 0)
        self.assertGreaterEqual(bound, LIMIT - RESERVE - OTHERS_MAX)
        self.assertLess(bound, LIMIT - RESERVE)
        self.assertEqual(b.count_log(r"^%d sockets are not bound: berthd may open %d files "
                                     r"\(RLIMIT_NOFILE\) and keeps %d for itself"
                                     % (failed, LIMIT, RESERVE)), 1)
        self.assertEqual(b.count_log(r"^berthd is ready: %d sockets bound for %d units\.$"
                                     % (bound, 2 * SOCKETS)), 1)
        # What berthd makes for itself after binding found room.
        self.assertEqual(b.count_log(r"Failed to allocate the event loop|Failed to watch|"
                                     r"Running without a NOTIFY_SOCKET|Cannot accept control"), 0)

        # The control socket answers: exactly the bound sockets, and a failed unit's reason.
        p = self.berthctl(b, "--json", "list-sockets")
        self.assertEqual(p.returncode, 0, p.stderr)
        socks = json.loads(p.stdout)
        self.assertEqual(len(socks), bound)
        listed = sorted(s["unit"] for s in socks)
        self.assertEqual(len(set(listed)), bound)
        last = "s%03d.socket" % (SOCKETS - 1)
        self.assertNotIn(last, listed)
        p = self.berthctl(b, "--json", "status", last)
        st = json.loads(p.stdout)[0]
        self.assertEqual(st["state"], "failed")
        self.assertIn("EMFILE", st["load_error"])
        self.assertIn("RLIMIT_NOFILE", st["load_error"])

        # A bound socket still activates its service: spawning takes fds from the reserve.
        first = listed[0]
        n = int(first[1:4])
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
            c.settimeout(5)
            c.connect(os.path.join(sock_dir, "%03d.sock" % n))
            b.wait_log(r"^s%03d\.service\[\d+\]: started %d$" % (n, n))

        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
