"""Stopping: a service that ignores SIGTERM is killed after TimeoutStopSec=; a grandchild that
a service double-forks is reaped by berthd (a child subreaper) and is killed when its service
stops."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Stop(harness.TestCase):
    def test_sigterm_ignored_then_sigkill(self):
        self.units({"stubborn.service": """
            [Service]
            ExecStart=/bin/sh -c 'trap "" TERM; echo trapped; while :; do sleep 0.2; done'
            TimeoutStopSec=1
            """})
        b = self.berthd()
        m = b.wait_log(r"stubborn\.service\[(\d+)\]: trapped")
        pid = int(m.group(1))
        b.proc.terminate()
        b.wait_log(r"stubborn\.service: still running 1000ms after SIGTERM \(TimeoutStopSec=\), "
                   r"sending SIGKILL")
        b.wait_log(r"stubborn\.service: main process %d was killed by SIGKILL" % pid)
        self.assertEqual(b.stop(), 0)
        self.assertFalse(harness.pid_exists(pid))

    def test_double_forked_grandchild(self):
        first = os.path.join(self.dir, "first.pid")
        second = os.path.join(self.dir, "second.pid")
        # The subshell starts a sleep in the background and exits at once: the sleep is an
        # orphan, re-parented to berthd.
        self.units({"forker.service": f"""
            [Service]
            ExecStart=/bin/sh -c '(sleep 1000 & echo $$! > {first}); (sleep 1001 & echo $$! > {second}); echo forked; exec sleep 2000'
            """})
        b = self.berthd()
        b.wait_log(r"forker\.service\[\d+\]: forked")
        g1 = int(harness.wait_for(lambda: open(first).read().strip(), what="first.pid"))
        g2 = int(harness.wait_for(lambda: open(second).read().strip(), what="second.pid"))
        self.assertEqual(self.ppid(g1), b.proc.pid, "the orphan is re-parented to berthd")

        # An orphan that dies is reaped: it does not stay a zombie.
        os.kill(g1, 9)
        harness.wait_for(lambda: not harness.pid_exists(g1), what="the orphan to be reaped")

        # The other one goes with its service.
        self.assertTrue(harness.pid_alive(g2))
        self.assertEqual(b.stop(), 0)
        harness.wait_for(lambda: not harness.pid_exists(g2), what="the grandchild to be killed")

    @staticmethod
    def ppid(pid):
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])


if __name__ == "__main__":
    harness.main()
