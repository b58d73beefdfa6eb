"""KillSignal= that the service does not handle (issue 11, item 15d). A process that dies of
its KillSignal= during a stop that was asked for (berthctl stop) is a clean stop in berth: state
dead, result success, no restart, whatever Restart= says. systemd 252 records it as failed
(Result: signal), unless SuccessExitStatus= names the signal: its is_clean_exit()
(src/shared/exit-status.c) knows only SIGHUP, SIGINT, SIGTERM and SIGPIPE, and
service_sigchld_event() (src/core/service.c) keeps that result through the stop; berth differs
on purpose, as berth.service(5) says. The same signal outside a stop is a failure, as in
systemd: state failed, result signal, and Restart=on-failure restarts."""
import os
import re
import signal

import harness


class KillSignal(harness.TestCase):
    def test_kill_signal_stop_is_clean(self):
        self.units({"usr1.service": """
            [Service]
            ExecStart=/bin/sh -c 'echo up; exec sleep 600'
            KillSignal=SIGUSR1
            Restart=always
            RestartSec=0
            """})
        b = self.berthd()
        m = b.wait_log(r"usr1\.service: \S+ -> running \(pid (\d+)\)")
        pid = int(m.group(1))
        r = self.berthctl(b, "stop", "usr1")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"usr1\.service: main process %d was killed by SIGUSR1" % pid)
        b.wait_log(r"usr1\.service: stop-sigterm -> dead$")
        self.assertEqual(b.count_log(r"usr1\.service: .*-> (failed|auto-restart)"), 0)
        self.assertEqual(b.count_log(r"usr1\.service: .*result: signal"), 0)
        st = self.berthctl(b, "status", "usr1")
        self.assertNotIn("failed", st.stdout)
        # started once: the stop restarted nothing
        self.assertEqual(b.count_log(r"usr1\.service: \S+ -> running \(pid \d+\)"), 1)
        self.assertEqual(b.stop(), 0)

    def test_same_signal_outside_a_stop_fails(self):
        self.units({"usr1.service": """
            [Service]
            ExecStart=/bin/sh -c 'echo up; exec sleep 600'
            KillSignal=SIGUSR1
            Restart=on-failure
            RestartSec=0
            """})
        b = self.berthd()
        m = b.wait_log(r"usr1\.service: \S+ -> running \(pid (\d+)\)")
        os.kill(int(m.group(1)), signal.SIGUSR1)
        b.wait_log(r"usr1\.service: running -> \S+ \(result: signal\)|"
                   r"usr1\.service: running -> (failed|auto-restart)")
        b.wait_log_count(r"usr1\.service: \S+ -> running \(pid \d+\)", 2)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
