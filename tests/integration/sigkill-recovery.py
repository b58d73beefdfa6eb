"""berthd killed outright (SIGKILL): its services are orphaned, not stopped, and hold their
ports. The next berthd on the same units and runtime directory finds them in RUNTIME/processes,
stops them (each one named in its log) before it binds, and then runs exactly one copy of each
service: counted in /proc by the environment berthd gives its services."""
import os
import re
import signal

import harness

PORT_WEB = 42210
PORT_HOLD = 42211


def read(path):
    """The text of a file, "" when there is none."""
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def copies(marker):
    """The pids of live processes whose environment holds marker (BERTH_TEST=...)."""
    want = marker.encode()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % name, "rb") as f:
                env = f.read().split(b"\0")
            with open("/proc/%s/stat" % name) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if want in env and state != "Z":
            found.append(int(name))
    return sorted(found)


class SigkillRecovery(harness.TestCase):
    def test_leftovers_stopped_before_bind(self):
        server = self.executable("BENCH_SERVER")
        tag = "sigkill-%d" % os.getpid()
        d = self.units({
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % PORT_WEB,
            "web.service": "[Service]\nExecStart=%s\nEnvironment=BERTH_TEST=%s-web\n"
                           "TimeoutStopSec=5\n" % (server, tag),
            "hold.socket": "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n" % PORT_HOLD,
            "hold@.service": "[Service]\nExecStart=/bin/cat\nStandardInput=socket\n"
                             "Environment=BERTH_TEST=%s-hold\n" % tag,
        })
        runtime = os.path.join(self.dir, "run")
        b1 = self.berthd(d, runtime_dir=runtime)
        self.assertIn(b" 200 OK", harness.http_get(PORT_WEB))
        b1.wait_log(r"web\.service: \S+ -> running")
        held = harness.connect("127.0.0.1", PORT_HOLD)
        self.addCleanup(held.close)
        held.sendall(b"ping\n")
        self.assertEqual(held.recv(16), b"ping\n")
        web = copies("BERTH_TEST=%s-web" % tag)
        hold = copies("BERTH_TEST=%s-hold" % tag)
        self.assertEqual(len(web), 1, web)
        self.assertEqual(len(hold), 1, hold)
        # Both are in the file (it is written a little after the start: wait for it).
        path = os.path.join(runtime, "processes")
        def written():
            text = read(path)
            return all(" %d " % p in text for p in web + hold)
        harness.wait_for(written, what="both processes in " + path)
        text = read(path)
        self.assertTrue(text.startswith("berth-processes 1\nberthd %d " % b1.proc.pid), text)

        b1.stop(signal.SIGKILL)
        # Orphaned, still running, still serving.
        self.assertEqual(copies("BERTH_TEST=%s-web" % tag), web)
        self.assertEqual(copies("BERTH_TEST=%s-hold" % tag), hold)
        self.addCleanup(lambda: [os.kill(p, signal.SIGKILL) for p in
                                 copies("BERTH_TEST=%s-" % tag)])

        b2 = self.berthd(d, runtime_dir=runtime)
        log = b2.log()
        self.assertRegex(log, r"Found web\.service's main process %d left by a berthd that died "
                              r"\(pid %d\); stopping it" % (web[0], b1.proc.pid))
        self.assertRegex(log, r"Found hold@\S+\.service's main process %d left by a berthd "
                              r"that died" % hold[0])
        self.assertRegex(log, r"Stopped 2 processes a berthd that died")
        # Stopped before the bind: the port was free, no retry.
        self.assertNotIn("Address already in use", log)
        self.assertLess(log.index("Stopped 2 processes"), log.index("web.socket: listening"))
        # The orphans are gone; the held connection with its instance.
        self.assertFalse(harness.pid_exists(web[0]) and copies("BERTH_TEST=%s-web" % tag) == web)
        self.assertEqual(copies("BERTH_TEST=%s-hold" % tag), [])
        self.assertEqual(held.recv(16), b"")

        # One copy serves: the new berthd's.
        self.assertIn(b" 200 OK", harness.http_get(PORT_WEB))
        m = b2.wait_log(r"web\.service: \S+ -> running \(pid (\d+)\)")
        self.assertEqual(copies("BERTH_TEST=%s-web" % tag), [int(m.group(1))])
        with harness.connect("127.0.0.1", PORT_HOLD) as c:
            c.sendall(b"pong\n")
            self.assertEqual(c.recv(16), b"pong\n")
            self.assertEqual(len(copies("BERTH_TEST=%s-hold" % tag)), 1)

        # A clean stop leaves nothing: no process, no file.
        self.assertEqual(b2.stop(), 0)
        self.assertEqual(copies("BERTH_TEST=%s-" % tag), [])
        self.assertFalse(os.path.exists(path))

    def test_live_predecessor_refused(self):
        """A berthd that still runs on the runtime directory is never touched: the second one
        refuses to start, before it binds anything."""
        d = self.units({"x.service": "[Service]\nExecStart=/bin/sleep 600\n"})
        runtime = os.path.join(self.dir, "run")
        b1 = self.berthd(d, runtime_dir=runtime)
        m = b1.wait_log(r"x\.service: \S+ -> running \(pid (\d+)\)")
        b2 = self.berthd(d, runtime_dir=runtime, wait_ready=False)
        self.assertEqual(b2.proc.wait(harness.DEFAULT_TIMEOUT), 1)
        b2.reader.join(5)
        self.assertRegex(b2.log(), r"Another berthd \(pid %d\) runs with the runtime directory"
                         % b1.proc.pid)
        self.assertTrue(harness.pid_exists(int(m.group(1))))
        self.assertEqual(b1.stop(), 0)

    def test_reused_pid_untouched(self):
        """A pid in the file that now names another process (its start time differs) is left
        alone."""
        d = self.units({"x.service": "[Service]\nExecStart=/bin/sleep 600\n"})
        runtime = os.path.join(self.dir, "run")
        os.makedirs(runtime)
        stranger = harness.subprocess.Popen(["/bin/sleep", "600"])
        self.addCleanup(lambda: (stranger.kill(), stranger.wait()))
        with open(os.path.join(runtime, "processes"), "w") as f:
            f.write("berth-processes 1\nberthd 4194000 1\n"
                    "process x.service %d 1 main - -\n" % stranger.pid)
        b = self.berthd(d, runtime_dir=runtime)
        self.assertNotIn("Found x.service", b.log())
        self.assertIsNone(stranger.poll())
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
