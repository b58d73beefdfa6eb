"""Watchdog: a service that stops pinging within WatchdogSec= is restarted, and its socket
refuses nothing meanwhile."""
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVICE = r"""
import os, select, socket, sys, time
from systemd import daemon
usec = int(os.environ["WATCHDOG_USEC"])
run = int(open(os.environ["COUNT"]).read()) if os.path.exists(os.environ["COUNT"]) else 0
open(os.environ["COUNT"], "w").write(str(run + 1))
daemon.notify("READY=1")
print("run", run + 1, "watchdog", usec, flush=True)
s = socket.socket(fileno=3)
pings = 0
while True:
    r, _, _ = select.select([s], [], [], usec / 4e6)
    if r:
        c, _ = s.accept()
        c.recv(1024)
        c.sendall(b"HTTP/1.0 200 OK\r\n\r\nok\n")
        c.close()
    # the first run hangs after a while: it neither pings nor serves any more (what it had
    # accepted it finished), so clients wait in the backlog for the next run
    if run == 0 and pings >= 4:
        print("hanging", flush=True)
        time.sleep(3600)
    daemon.notify("WATCHDOG=1")
    pings += 1
"""


class Watchdog(harness.TestCase):
    def test_missed_ping_restarts(self):
        p = harness.free_port()
        script = os.path.join(self.dir, "svc.py")
        with open(script, "w") as f:
            f.write(SERVICE)
        self.units({
            "wd.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "wd.service": f"""
                [Service]
                Type=notify
                ExecStart=/usr/bin/python3 {script}
                WatchdogSec=1
                Restart=on-failure
                RestartSec=0
                Environment=COUNT={os.path.join(self.dir, "count")}
                [Install]
                WantedBy=multi-user.target
                """,
        })
        b = self.berthd()
        b.wait_log(r"wd\.service\[\d+\]: run 1 watchdog 1000000")
        # clients keep coming while the watchdog fires and the service restarts
        failures, done = [], threading.Event()

        def client():
            n = 0
            while not done.is_set() and n < 100000:
                n += 1
                try:
                    c = harness.connect("127.0.0.1", p, timeout=10)
                    c.sendall(b"GET / HTTP/1.0\r\n\r\n")
                    if b"200 OK" not in c.recv(1024):
                        failures.append("short")
                    c.close()
                except OSError as e:
                    failures.append(repr(e))
        t = threading.Thread(target=client)
        t.start()
        try:
            b.wait_log(r"wd\.service\[\d+\]: hanging")
            b.wait_log(r"wd\.service: watchdog timeout: no WATCHDOG=1 within 1000ms")
            b.wait_log(r"wd\.service\[\d+\]: run 2 watchdog")
        finally:
            done.set()
            t.join(30)
        self.assertEqual(failures, [])
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
