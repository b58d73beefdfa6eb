"""berthd as PID 1 in a new PID namespace (unshare --pid --fork): it starts services, reaps
orphans, and stops cleanly on SIGTERM. Skipped when not root."""
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
