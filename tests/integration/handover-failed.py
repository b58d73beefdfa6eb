"""A failed overlap handover costs clients nothing. web.service (Handover=overlap, Type=notify,
TimeoutStartSec=1) runs bench-server --ready-once: the first process sends READY=1; every
successor accepts connections and serves them but never sends READY=1, and on SIGTERM stops
accepting, finishes what it accepted and exits. Under 2 clients of load, 20 overlap restarts in
a row each fail after TimeoutStartSec=; after each one the old process is still the main process
and serves, and the clients saw nothing refused, reset, cut short or timed out (SPEC §4: the
new process is stopped and the old one serves on)."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RESTARTS = 20
CLIENTS = 2
TIMEOUT_STOP_SEC = 5
SUCCESSOR = r"web\.service: running -> handover \(pid (\d+)\)"
FAILED = (r"web\.service: handover failed: the new process was not ready within "
          r"TimeoutStartSec=; pid %d serves on")


class HandoverFailed(harness.TestCase):
    def test_20_failed_handovers_under_load(self):
        server = self.executable("BENCH_SERVER")
        self.executable("BERTHCTL")
        self.executable("LOADGEN")
        p = harness.free_port()
        units = self.units({
            "web.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "web.service": f"""
                [Service]
                Type=notify
                ExecStart={server} --ready-once {os.path.join(self.dir, "ready")}
                Handover=overlap
                TimeoutStartSec=1
                TimeoutStopSec={TIMEOUT_STOP_SEC}
                [Install]
                WantedBy=multi-user.target
                """,
        }, subdir="units")
        b = self.berthd(units)
        old = int(b.wait_log(r"web\.service: start -> running \(pid (\d+)\)").group(1))

        lost = []  # (restart, its failure counts) for every restart in which a client lost out
        for i in range(1, RESTARTS + 1):
            # One loadgen run per restart, from before the restart until the successor is
            # gone, so a lost connection is told against the restart that lost it.
            load = self.load(p, concurrency=CLIENTS)
            r = self.berthctl(b, "restart", "web.service")
            self.assertNotEqual(r.returncode, 0, f"restart {i}: {r.stdout}{r.stderr}")
            self.assertIn("not ready within TimeoutStartSec=", r.stdout + r.stderr)
            b.wait_log_count(FAILED % old, i)
            new = int(re.findall(SUCCESSOR, b.log())[i - 1])
            self.assertNotEqual(new, old)
            harness.wait_for(lambda: not harness.pid_alive(new),
                             timeout=TIMEOUT_STOP_SEC + harness.DEFAULT_TIMEOUT,
                             what=f"restart {i}: the failed successor {new} to exit")
            st = self.berthctl(b, "status", "web.service")
            self.assertRegex(st.stdout, r"(?m)^ *Main PID: %d\b" % old, f"restart {i}")
            self.assertNotIn("Old PID", st.stdout, f"restart {i}")
            self.assertTrue(harness.pid_alive(old), f"restart {i}: pid {old} serves on")
            self.assertIn(b" 200 OK", harness.http_get(p), f"restart {i}: pid {old} serves")
            res = load.stop()
            print(f"restart {i}: successor {new}: {res}")
            self.assertGreater(res["ok"], 0, f"restart {i}: the load ran: {res}")
            if any(res[k] for k in harness.LOAD_FAILURES):
                lost.append((i, {k: res[k] for k in harness.LOAD_FAILURES if res[k]}))

        self.assertFalse(lost, "%d of %d failed handovers lost connections: %s" % (
            len(lost), RESTARTS, "; ".join(f"restart {i}: {d}" for i, d in lost)))
        self.assertEqual(b.count_log(r"web\.service: READY=1"), 1)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
