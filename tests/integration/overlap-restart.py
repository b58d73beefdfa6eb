"""Zero-downtime restarts. 4 concurrent clients and 20 restarts of a service that takes 300 ms
to become ready, once with Handover=overlap and once with Handover=stop-first in the same run:
either way nothing is refused, reset, cut short or timed out, and overlap's longest time without
a reply is shorter than stop-first's, which waits for the 300 ms start. (How long each gap is,
and p99 during restarts against steady state, are measurements: bench/restart-gap.) A successor
that never sends READY=1 is killed after TimeoutStartSec= while the old process serves on, and
`berthctl restart` fails."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RESTARTS = 20
READY_DELAY_MS = 300
WRAPPER = """#!/bin/sh
# never-ready mode: the successor sleeps far past TimeoutStartSec=
if [ -e "$NEVER" ]; then exec "$SERVER" --ready-delay-ms 600000; fi
exec "$SERVER" --ready-delay-ms %d
""" % READY_DELAY_MS


class OverlapRestart(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.server = self.executable("BENCH_SERVER")
        self.ctl_path = self.executable("BERTHCTL")
        self.executable("LOADGEN")

    def start(self, name, handover):
        d = os.path.join(self.dir, name)
        p = harness.free_port()
        wrapper = os.path.join(self.dir, name + "-run")
        with open(wrapper, "w") as f:
            f.write(WRAPPER)
        os.chmod(wrapper, 0o755)
        never = os.path.join(self.dir, name + "-never")
        harness.write_units(d, {
            "web.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "web.service": f"""
                [Service]
                Type=notify
                ExecStart={wrapper}
                Environment=SERVER={self.server} NEVER={never}
                Handover={handover}
                TimeoutStartSec=3
                TimeoutStopSec=5
                [Install]
                WantedBy=multi-user.target
                """,
        })
        b = self.berthd(d)
        b.wait_log(r"web\.service: READY=1")
        return b, p, never

    def restarts_under_load(self, handover):
        """RESTARTS restarts under load, back to back; returns loadgen's result."""
        b, p, _ = self.start(handover, handover)
        load = self.load(p)
        for i in range(RESTARTS):
            r = self.berthctl(b, "restart", "web.service")
            self.assertEqual(r.returncode, 0, f"{handover} restart {i + 1}: {r.stdout}{r.stderr}")
        res = load.stop()
        print(f"{handover}: {res}")
        self.assertEqual(b.count_log(r"web\.service: READY=1"), RESTARTS + 1)
        self.assertEqual(b.stop(), 0)
        return res

    def test_overlap_and_stop_first(self):
        o = self.restarts_under_load("overlap")
        s = self.restarts_under_load("stop-first")
        for name, res in (("overlap", o), ("stop-first", s)):
            self.assertGreater(res["ok"], 0, f"{name}: {res}")
            for k in harness.LOAD_FAILURES:
                self.assertEqual(res[k], 0, f"{name} {k}: {res}")
        # Both hold the socket; only stop-first makes clients wait for the 300 ms start.
        self.assertLess(o["longest_gap_ms"], s["longest_gap_ms"], (o, s))

    def test_overlap_leaves_the_running_process_socket_mode(self):
        """O_NONBLOCK belongs to the socket every process shares: clearing it for the new
        process would make the running one's accept() block (and strand what it accepted)."""
        b, p, _ = self.start("mode", "overlap")
        old = int(b.wait_log(r"web\.service: start -> running \(pid (\d+)\)").group(1))

        def flags(pid):
            with open(f"/proc/{pid}/fdinfo/3") as f:
                return int(re.search(r"flags:\s+(\d+)", f.read()).group(1), 8)
        self.assertTrue(flags(old) & os.O_NONBLOCK, "bench-server makes its listener non-blocking")
        restart = subprocess.Popen([self.ctl_path, "--runtime-dir", b.runtime_dir, "restart",
                                    "web.service"])
        new = int(b.wait_log(r"web\.service: running -> handover \(pid (\d+)\)").group(1))
        self.assertTrue(flags(old) & os.O_NONBLOCK, "the running process keeps its mode")
        self.assertEqual(restart.wait(60), 0)
        b.wait_log(r"web\.service: replaced process %d exited with status 0" % old)
        self.assertTrue(harness.pid_alive(new))
        self.assertEqual(b.stop(), 0)

    def test_never_ready_successor(self):
        b, p, never = self.start("never", "overlap")
        old = int(b.wait_log(r"web\.service: start -> running \(pid (\d+)\)").group(1))
        run = self.load(p)
        open(never, "w").close()
        restart = subprocess.Popen([self.ctl_path, "--runtime-dir", b.runtime_dir, "restart",
                                    "web.service"], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        # While they overlap, status shows both processes.
        new = int(b.wait_log(r"web\.service: running -> handover \(pid (\d+)\)").group(1))
        st = self.berthctl(b, "status", "web.service")
        self.assertRegex(st.stdout, r"(?m)^ *Main PID: %d\b" % new)
        self.assertRegex(st.stdout, r"(?m)^ *Old PID: %d\b.*being replaced" % old)
        out, _ = restart.communicate(timeout=60)
        r = subprocess.CompletedProcess(restart.args, restart.returncode, out, "")
        self.assertNotEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("not ready within TimeoutStartSec=", r.stdout + r.stderr)
        b.wait_log(r"web\.service: handover failed: the new process was not ready within "
                   r"TimeoutStartSec=; pid %d serves on" % old)
        res = run.stop()
        self.assertGreater(res["ok"], 0)
        for k in harness.LOAD_FAILURES:
            self.assertEqual(res[k], 0, f"{k}: {res}")
        self.assertTrue(harness.pid_alive(old), "the old process serves on")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
