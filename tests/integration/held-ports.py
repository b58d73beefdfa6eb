"""Held ports: under load (4 concurrent clients on loopback), a service is sent SIGTERM from
outside 8 times and restarted by Restart=always. No connection is refused, reset or timed out,
and every connection waiting in the backlog is served: berthd holds the socket throughout."""
import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# A well-behaved server: SIGTERM is taken between requests (never in the middle of one), so
# what it accepted it answers; what it did not accept stays in the kernel's queue.
SERVER = r"""
import os, select, signal, socket, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
s = socket.socket(fileno=3)
s.setblocking(False)
served = 0
while True:
    if signal.SIGTERM in signal.sigpending():
        sys.exit(0)
    r, _, _ = select.select([s], [], [], 0.05)
    if not r:
        continue
    try:
        c, _ = s.accept()
    except BlockingIOError:
        continue
    c.setblocking(True)
    c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    c.close()
    served += 1
    if served == 1500:
        print("served 1500", flush=True)
"""

KILLS = 8


class HeldPorts(harness.TestCase):
    def test_sigterm_restarts_under_load(self):
        loadgen = os.environ.get("LOADGEN")
        self.assertTrue(loadgen and os.access(loadgen, os.X_OK), "LOADGEN is not set")
        p = harness.free_port()
        script = os.path.join(self.dir, "server.py")
        with open(script, "w") as f:
            f.write(SERVER)
        self.units({
            "held.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "held.service": f"""
                [Unit]
                StartLimitBurst=50
                [Service]
                ExecStart=/usr/bin/python3 {script}
                Restart=always
                """,
        })
        b = self.berthd()
        load = subprocess.Popen([loadgen, "--connect", f"127.0.0.1:{p}", "--concurrency", "4",
                                 "--duration", "60", "--timeout", "10", "--json"],
                                stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: load.poll() is None and load.kill())
        for i in range(KILLS):
            m = harness.wait_for(
                lambda: b.count_log(r"held\.service\[\d+\]: served 1500") > i and
                re.findall(r"held\.service\[(\d+)\]: served 1500", b.log())[i],
                timeout=30, what=f"run {i + 1} to serve 1500 requests")
            os.kill(int(m), signal.SIGTERM)
        b.wait_log_count(r"held\.service\[\d+\]: served 1500", KILLS + 1, timeout=30)
        load.send_signal(signal.SIGINT)  # stop new attempts; in-flight ones finish
        out, _ = load.communicate(timeout=30)
        res = json.loads(out.strip().splitlines()[-1])
        print("loadgen:", res)
        self.assertEqual(b.count_log(r"held\.service: restarting"), KILLS)
        self.assertGreater(res["ok"], 1500 * (KILLS + 1) - 1)
        for k in ("refused", "reset", "timeout", "short", "other"):
            self.assertEqual(res[k], 0, f"{k}: {res}")
        self.assertEqual(b.stop(), 0)


import re  # noqa: E402

if __name__ == "__main__":
    harness.main()
