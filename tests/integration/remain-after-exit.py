"""RemainAfterExit=yes (systemd.service(5)): a oneshot that ran its commands, or a service whose
main process exited cleanly, stays running, without a main process, until it is stopped; the
stop runs ExecStop= and ends what the process left behind. Without it, the service is dead;
with a failing exit it fails, as before. And as in systemd, a service that started runs its
ExecStop= also when its main process ended on its own, without $MAINPID."""
import os

import harness


class RemainAfterExit(harness.TestCase):
    def state(self, b, name):
        r = self.berthctl(b, "status", name)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_remain(self):
        left = os.path.join(self.dir, "left.pid")
        d = self.units({
            "once.service": "[Service]\nType=oneshot\nRemainAfterExit=yes\n"
                            "ExecStart=/bin/sh -c 'echo once-ran'\n"
                            "ExecStop=/bin/sh -c 'echo once-stopping'\n",
            # leaves a process behind, then exits cleanly
            "simple.service": "[Service]\nRemainAfterExit=yes\n"
                              "ExecStart=/bin/sh -c 'sleep 600 & echo $! > %s; exit 0'\n" % left,
            "bad.service": "[Service]\nRemainAfterExit=yes\nExecStart=/bin/sh -c 'exit 3'\n",
            "plain.service": "[Service]\nType=oneshot\nExecStart=/bin/true\n",
            "crash.service": "[Service]\nExecStart=/bin/sh -c 'exit 3'\n"
                             "ExecStop=/bin/sh -c 'echo crash-stop mainpid=[$MAINPID]'\n",
        })
        b = self.berthd(d)
        b.wait_log(r"once\.service: start-post -> running|once\.service: \S+ -> running")
        b.wait_log(r"simple\.service: the main process exited; the service remains active")
        b.wait_log(r"bad\.service: \S+ -> failed")
        b.wait_log(r"plain\.service: \S+ -> dead")
        b.wait_log(r"crash\.service\[\d+\]: crash-stop mainpid=\[\]$")
        b.wait_log(r"crash\.service: \S+ -> failed")
        # a round trip through berthd's loop: every exit above has been handled
        self.assertIn("running", self.state(b, "once.service"))
        self.assertIn("running", self.state(b, "simple.service"))
        self.assertEqual(b.count_log(r"(once|simple)\.service: \S+ -> (dead|failed)"), 0)
        with open(left) as f:
            pid = int(f.read())
        self.assertTrue(harness.pid_alive(pid))
        r = self.berthctl(b, "stop", "once.service", "simple.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"once\.service\[\d+\]: once-stopping")
        b.wait_log(r"once\.service: \S+ -> dead")
        b.wait_log(r"simple\.service: \S+ -> dead")
        harness.wait_for(lambda: not harness.pid_alive(pid), what="the leftover process to end")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
