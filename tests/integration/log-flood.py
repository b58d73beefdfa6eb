"""Log floods cost berthd a burst of lines and a summary, not a line each (SPEC §4 "Output";
LogRateLimitIntervalSec= and LogRateLimitBurst= as in systemd). A service that writes 20,000
lines with LogRateLimitBurst=100 gets 100 lines in berthd's log, one line when the limit is
hit and one count of what was held back, while `berthctl logs` still has its last lines.
5,000 notify datagrams from a process of no service cost a few hundred lines at most."""
import os
import re
import socket
import sys

import harness

LINES = 20000
BURST = 100


class LogFlood(harness.TestCase):
    def test_service_output(self):
        self.units({"flood.service": f"""
            [Service]
            ExecStart=/bin/sh -c 'seq 1 {LINES} | sed "s/^/line /"'
            LogRateLimitIntervalSec=600
            LogRateLimitBurst={BURST}
            """})
        b = self.berthd()
        b.wait_log(r"flood\.service: %d lines of its output were not logged" % (LINES - BURST))
        self.assertEqual(b.count_log(r"flood\.service\[\d+\]: line \d+$"), BURST)
        self.assertEqual(b.count_log(r"flood\.service: more than %d lines of output" % BURST), 1)
        p = self.berthctl(b, "logs", "flood")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("line %d" % LINES, p.stdout)
        self.assertEqual(b.stop(), 0)

    def test_notify_flood(self):
        self.units({"quiet.service": "[Service]\nExecStart=/bin/sleep 600\n"})
        b = self.berthd()
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(s.close)
        path = os.path.join(b.runtime_dir, "notify")
        sent = 0
        for _ in range(5000):
            try:
                s.sendto(b"READY=1", path)
                sent += 1
            except BlockingIOError:
                pass
        self.assertGreater(sent, 0)
        b.wait_log(r"notify: more than \d+ warnings within \d+s: not logging more")
        # The limit is 100 per 10 s; the flood takes far less, but a slow machine may see it
        # cross one interval: still a few hundred lines, never one per datagram.
        ignored = b.count_log(r"notify: ignoring a message from pid %d" % os.getpid())
        self.assertGreaterEqual(ignored, 100)
        self.assertLess(ignored, 500)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
