"""Type=notify-reload (systemd 253's service.c; sd_notify(3)): `berthctl reload` sends
ReloadSignal= and waits for RELOADING=1, stamped with a MONOTONIC_USEC= no earlier than the
reload's start, then READY=1, within TimeoutStartSec=. A service that does not answer, or
answers with a stamp from before the reload, fails the reload, and runs on (as in systemd)."""
import os

import harness

# On ReloadSignal= (SIGUSR1 here): "good" answers properly, "stale" with an old stamp,
# "deaf" ignores it.
SERVICE = r"""
import os, signal, sys, time
from systemd import daemon
mode = sys.argv[1]
def on_reload(*_):
    if mode == "good":
        daemon.notify("RELOADING=1\nMONOTONIC_USEC=%d" % (time.monotonic_ns() // 1000))
        daemon.notify("READY=1")
    elif mode == "stale":
        daemon.notify("RELOADING=1\nMONOTONIC_USEC=1")
        daemon.notify("READY=1")
signal.signal(signal.SIGUSR1, on_reload)
daemon.notify("READY=1")
while True:
    signal.pause()
"""


class NotifyReload(harness.TestCase):
    def test_reload_answers(self):
        prog = os.path.join(self.dir, "svc.py")
        with open(prog, "w") as f:
            f.write(SERVICE)
        unit = ("[Service]\nType=notify-reload\nReloadSignal=SIGUSR1\nTimeoutStartSec=1\n"
                "ExecStart=/usr/bin/python3 %s %%s\n" % prog)
        d = self.units({"%s.service" % m: unit % m for m in ("good", "stale", "deaf")},
                       subdir="u")
        b = self.berthd(d)
        pids = {}
        for m in ("good", "stale", "deaf"):
            pids[m] = int(b.wait_log(r"%s\.service: READY=1 from pid (\d+)" % m).group(1))

        r = self.berthctl(b, "reload", "good.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"good\.service: reloading with SIGUSR1 to pid %d" % pids["good"])
        b.wait_log(r"good\.service: reloaded \(READY=1 from pid %d\)" % pids["good"])

        r = self.berthctl(b, "reload", "stale.service")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no RELOADING=1 within TimeoutStartSec=", r.stderr)
        b.wait_log(r"stale\.service: RELOADING=1 from pid %d without a MONOTONIC_USEC= since "
                   r"the reload began, ignoring" % pids["stale"])

        r = self.berthctl(b, "reload", "deaf.service")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("deaf.service: no RELOADING=1 within TimeoutStartSec=", r.stderr)
        b.wait_log(r"deaf\.service: reload -> running \(pid %d\)" % pids["deaf"])

        # Both serve on, and reload again as they did.
        for m in ("stale", "deaf"):
            self.assertTrue(harness.pid_alive(pids[m]), m)
            st = self.berthctl(b, "status", "%s.service" % m)
            self.assertRegex(st.stdout, r"(?m)^ *Active: active \(running\)", st.stdout)
        r = self.berthctl(b, "reload", "good.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        # berthctl has its answer; the log line may still be on its way to the harness.
        b.wait_log_count(r"good\.service: reloaded \(READY=1", 2)
        self.assertEqual(b.count_log(r"good\.service: reloaded \(READY=1"), 2)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
