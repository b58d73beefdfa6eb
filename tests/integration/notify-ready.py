"""Type=notify: READY=1 from libsystemd's sd_notify() (the C probe) and from python3-systemd
gates readiness; a service that exits before READY=1 fails with result protocol; a never-ready
one is stopped after TimeoutStartSec=."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PY_NOTIFY = r"""
import os, socket, sys, time
from systemd import daemon
print("booting", flush=True)
sys.stdin.close()
daemon.notify("STATUS=warming up")
os.read(os.open(os.environ["GATE"], os.O_RDONLY), 1)
daemon.notify("READY=1\nSTATUS=serving")
print("notified", flush=True)
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.recv(1024)
    c.sendall(b"HTTP/1.0 200 OK\r\n\r\nready\n")
    c.close()
"""


class NotifyReady(harness.TestCase):
    def test_probe_sd_notify_gates_readiness(self):
        probe = os.environ.get("BERTH_PROBE")
        self.assertTrue(probe, "BERTH_PROBE is not set")
        out = os.path.join(self.dir, "probe.json")
        self.units({"probe.service": f"""
            [Service]
            Type=notify
            ExecStart={probe}
            Environment=PROBE_OUT={out} PROBE_NOTIFY=1
            """})
        b = self.berthd()
        b.wait_log(r"probe\.service: READY=1 from pid \d+")
        b.wait_log(r"probe\.service: start -> running")
        self.assertEqual(b.stop(), 0)

    def test_python_systemd_ready_and_status(self):
        p = harness.free_port()
        gate = os.path.join(self.dir, "gate")
        os.mkfifo(gate)
        script = os.path.join(self.dir, "svc.py")
        with open(script, "w") as f:
            f.write(PY_NOTIFY)
        self.units({
            "py.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "py.service": f"""
                [Unit]
                [Service]
                Type=notify
                ExecStart=/usr/bin/python3 {script}
                Environment=GATE={gate}
                [Install]
                WantedBy=multi-user.target
                """,
        })
        b = self.berthd()
        b.wait_log(r"py\.service\[\d+\]: booting")
        # Not ready yet: it is still in the start state.
        self.assertEqual(b.count_log(r"py\.service: start -> running"), 0)
        with open(gate, "w") as g:
            g.write("x")
        b.wait_log(r"py\.service: READY=1 from pid \d+")
        b.wait_log(r"py\.service: start -> running")
        ctl = os.environ.get("BERTHCTL")
        if ctl:
            import subprocess
            st = subprocess.run([ctl, "--runtime-dir", b.runtime_dir, "status", "py.service"],
                                capture_output=True, text=True, timeout=30)
            self.assertEqual(st.returncode, 0, st.stderr)
            self.assertRegex(st.stdout, r'(?m)^ *Status: "serving"$')
        c = harness.connect("127.0.0.1", p)
        c.sendall(b"GET / HTTP/1.0\r\n\r\n")
        self.assertIn(b"ready", c.recv(1024))
        c.close()
        self.assertEqual(b.stop(), 0)

    def test_exit_before_ready_is_a_protocol_failure(self):
        self.units({"early.service": """
            [Service]
            Type=notify
            ExecStart=/bin/true
            """})
        b = self.berthd()
        b.wait_log(r"early\.service: .* -> failed \(result: protocol\)|early\.service: "
                   r"stop-sigterm -> failed")
        self.assertEqual(b.stop(), 0)

    def test_never_ready_times_out(self):
        self.units({"slow.service": """
            [Service]
            Type=notify
            ExecStart=/bin/sleep 1000
            TimeoutStartSec=1
            """})
        b = self.berthd()
        b.wait_log(r"slow\.service: start timed out after TimeoutStartSec=")
        b.wait_log(r"slow\.service: .*-> failed")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
