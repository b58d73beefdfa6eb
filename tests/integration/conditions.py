"""Condition*= and Assert*= (systemd.unit(5)): a socket unit whose condition fails is
skipped, not bound, and the plan and the log say which condition; a service whose condition
fails is not started, on a client or at berthd's start, its sockets stay bound, and it starts
once `berthctl start` finds the condition met; '|' and '!' work; an assertion that fails is
an error."""
import os

import harness


class Conditions(harness.TestCase):
    def test_socket_and_service(self):
        flag = os.path.join(self.dir, "ready.flag")
        skip_port, port = harness.free_port(), harness.free_port()
        d = self.units({
            "skipped.socket": "[Unit]\nConditionPathExists=/berth/no/such/path\n"
                              "[Socket]\nListenStream=127.0.0.1:%d\n" % skip_port,
            "skipped.service": "[Service]\nExecStart=/bin/sleep 600\n",
            "gated.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            "gated.service": "[Unit]\nConditionPathExists=%s\n"
                             "ConditionPathExists=|!/berth/no/such/path\n"
                             "ConditionPathExists=|/berth/no/such/other\n"
                             "[Service]\nExecStart=/bin/sh -c 'echo gated up; exec sleep 600'\n"
                             % flag,
            "asserted.service": "[Unit]\nAssertPathIsDirectory=/berth/no/such/dir\n"
                                "[Service]\nExecStart=/bin/sleep 600\n",
        })
        p = harness.run_check(d)
        self.assertIn("skipped.socket -> skipped.service", p.stdout)
        self.assertIn("  skipped, not bound: ConditionPathExists=/berth/no/such/path is not met "
                      "(no such file)", p.stdout)
        self.assertNotIn("127.0.0.1:%d" % skip_port, p.stdout)

        b = self.berthd(d)
        b.wait_log(r"skipped\.socket: skipped, not bound: ConditionPathExists=/berth/no/such/"
                   r"path is not met \(no such file\)")
        b.wait_log(r"asserted\.service: cannot start: AssertPathIsDirectory=/berth/no/such/dir "
                   r"is not met")
        self.assertFalse(harness.ss_has(["-ltn"], "127.0.0.1:%d" % skip_port))

        # A client triggers gated, whose condition fails: not started, socket still bound.
        c = harness.connect("127.0.0.1", port)
        b.wait_log(r"gated\.service: skipped, not started: ConditionPathExists=%s is not met"
                   % flag)
        self.assertTrue(harness.ss_has(["-ltn"], "127.0.0.1:%d" % port))
        self.assertEqual(b.count_log(r"gated\.service: dead -> "), 0)
        # Met now: an explicit start runs it (the '|' pair holds through its '!' one).
        open(flag, "w").close()
        r = self.berthctl(b, "start", "gated")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"gated\.service\[\d+\]: gated up")
        c.close()
        self.assertEqual(b.count_log(r"gated\.service: skipped"), 1)
        self.assertEqual(b.count_log(r"asserted\.service: dead -> "), 0)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
