"""berthd as PID 1 in a new PID namespace (unshare --pid --fork): it starts services, reaps
orphans, and stops cleanly on SIGTERM; an orchestrator's probes (berthctl status --wait-ready,
berthctl is-active) get systemctl's exit codes from it. Skipped when not root."""
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class Pid1(harness.TestCase):
    def setUp(self):
        if not harness.is_root():
            self.skipTest("needs root for a PID namespace (unshare --pid)")
        super().setUp()

    def test_pid1(self):
        self.units({
            # Leaves an orphan that exits on its own: PID 1 must reap it.
            "orphans.service": """
                [Service]
                ExecStart=/bin/sh -c '(sh -c "sleep 0.2; echo orphan-done" &); echo ppid=$$PPID; exec sleep 1000'
                """,
        })
        env = dict(os.environ)
        proc = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--kill-child", harness.BERTHD, "--units", self.dir,
             "--runtime-dir", os.path.join(self.dir, "run")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        lines = []

        pending = [b""]

        def wait_line(pattern, timeout=harness.DEFAULT_TIMEOUT):
            """The next line matching pattern, read from the raw pipe (no buffer that select()
            cannot see), within timeout."""
            import re
            import select
            import time
            rx = re.compile(pattern)
            deadline = time.monotonic() + timeout
            fd = proc.stdout.fileno()
            while True:
                while b"\n" in pending[0]:
                    raw, pending[0] = pending[0].split(b"\n", 1)
                    line = raw.decode(errors="replace")
                    print("berthd|", line)
                    lines.append(line)
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or not select.select([fd], [], [], left)[0]:
                    self.fail(f"no line matching {pattern!r} within {timeout:.0f}s")
                chunk = os.read(fd, 65536)
                if not chunk:
                    self.fail(f"berthd ended before {pattern!r}")
                pending[0] += chunk

        wait_line(r"orphans\.service\[\d+\]: ppid=1$")  # the service's parent, berthd, is PID 1
        wait_line(r"orphans\.service\[\d+\]: orphan-done")
        berthd = self.child_of(proc.pid)

        def zombies():
            return [c for c in self.children(berthd) if not harness.pid_alive(c)]
        harness.wait_for(lambda: not zombies(), what="the orphan to be reaped")

        os.kill(berthd, signal.SIGTERM)
        wait_line(r"orphans\.service: stop-sigterm -> dead")
        self.assertEqual(proc.wait(20), 0)

    def test_readiness_probes(self):
        """What a container's probes run: `status --wait-ready` started before berthd waits
        for it and for the unit; `is-active` exits 0 (active), 3 (not) or 4 (no such unit)."""
        ctl = self.executable("BERTHCTL")
        run = os.path.join(self.dir, "run")
        self.units({
            "app.service": """
                [Service]
                ExecStart=/bin/sleep 1000
                """,
            # On demand: inactive until a client comes, while its socket is active.
            "web.socket": """
                [Socket]
                ListenStream=%s/web.sock
                """ % self.dir,
            "web.service": """
                [Service]
                ExecStart=/bin/sleep 1000
                """,
            # Never sends READY=1: activating, not active.
            "slow.service": """
                [Service]
                Type=notify
                ExecStart=/bin/sleep 1000
                """,
        })

        def berthctl(*args, timeout=60):
            return subprocess.run([ctl, "--runtime-dir", run, *args], capture_output=True,
                                  text=True, stdin=subprocess.DEVNULL, timeout=timeout)

        # No berthd anywhere yet: a bounded wait, then 1.
        self.assertEqual(berthctl("is-active", "--wait-ready=1", "app").returncode, 1)
        waiter = subprocess.Popen([ctl, "--runtime-dir", run, "status", "--wait-ready=60",
                                   "app.service"], stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: waiter.poll() is None and waiter.kill())

        with open(os.path.join(self.dir, "berthd.log"), "w") as log:
            proc = subprocess.Popen(
                ["unshare", "--pid", "--fork", "--kill-child", harness.BERTHD, "--units",
                 self.dir, "--runtime-dir", run], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        out, _ = waiter.communicate(timeout=60)
        self.assertEqual(waiter.returncode, 0, out)
        self.assertIn("active (running)", out)

        for args, code, printed in (
                (["app"], 0, "active\n"),
                (["web.socket"], 0, "active\n"),
                (["web"], 3, "inactive\n"),
                (["slow.service"], 3, "activating\n"),
                (["app", "web.socket", "web"], 3, "active\nactive\ninactive\n"),
                (["nosuch.service"], 4, ""),
                (["app", "nosuch"], 4, "active\n"),
                (["-q", "app"], 0, ""),
                (["--quiet", "web"], 3, ""),
                # The wait is bounded; then the state as it is.
                (["--wait-ready=1", "slow"], 3, "activating\n")):
            p = berthctl("is-active", *args)
            self.assertEqual((p.returncode, p.stdout), (code, printed), (args, p.stderr))
        self.assertEqual(berthctl("status", "slow").returncode, 3)
        self.assertEqual(berthctl("status", "--wait-ready", "app").returncode, 0)
        p = berthctl("start", "--wait-ready", "app")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--wait-ready is only for status and is-active", p.stderr)

        os.kill(self.child_of(proc.pid), signal.SIGTERM)
        self.assertEqual(proc.wait(30), 0)

    @staticmethod
    def children(pid):
        out = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(x) for x in f.read().split()]
        return out

    def child_of(self, pid):
        kids = harness.wait_for(lambda: self.children(pid), what="unshare's child")
        self.assertEqual(len(kids), 1)
        return kids[0]


if __name__ == "__main__":
    harness.main()
