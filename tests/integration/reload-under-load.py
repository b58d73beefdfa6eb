"""Issue 11's acceptance for service types under load: a Type=forking server (a small Python
daemon: it forks, writes PIDFile=, its first process exits) and a Type=notify-reload service (a
short Python program using python3-systemd's systemd.daemon.notify) each serve HTTP on the
socket berthd passes. Both are started by the first clients of a running load, reloaded and
restarted under it, and no request fails. `berthctl reload` of the notify-reload service
returns only once the service has said READY=1 after RELOADING=1: the generation it wrote
before READY=1 is there when the reload returns."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RELOADS = 5
RESTARTS = 5

# One server for both: HTTP/1.0 on fd 3 until SIGTERM, which stops it between requests (a
# request it accepted is always answered). SIGHUP is a reload: with --notify-reload it says
# RELOADING=1 (with MONOTONIC_USEC=), serves on while the reload takes 200 ms, writes the new
# generation to --gen, then says READY=1. With --fork it daemonizes first: the child writes
# --pidfile, and the first process exits once the file is there.
SERVER = r"""
import argparse, os, select, signal, socket, sys, time
from systemd import daemon

ap = argparse.ArgumentParser()
ap.add_argument("--fork", action="store_true")
ap.add_argument("--pidfile")
ap.add_argument("--notify-reload", action="store_true")
ap.add_argument("--gen")
a = ap.parse_args()

if a.fork:
    r, w = os.pipe()
    if os.fork() > 0:
        os.close(w)
        os.read(r, 1)        # the daemon wrote its pid file
        os._exit(0)
    os.close(r)
    os.setsid()
    with open(a.pidfile + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(a.pidfile + ".tmp", a.pidfile)
    os.write(w, b"x")
    os.close(w)

events = []
wr, ww = os.pipe()
os.set_blocking(ww, False)
signal.set_wakeup_fd(ww)
signal.signal(signal.SIGTERM, lambda *_: events.append("term"))
signal.signal(signal.SIGHUP, lambda *_: events.append("hup"))
gen = 0
reload_done_at = None
s = socket.socket(fileno=3)
s.setblocking(False)
if a.notify_reload:
    daemon.notify("READY=1")

def serve(c):
    c.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    c.close()

while True:
    while events:
        e = events.pop(0)
        if e == "term":
            sys.exit(0)
        gen += 1
        if a.notify_reload:
            daemon.notify("RELOADING=1\nMONOTONIC_USEC=%d" % (time.monotonic_ns() // 1000))
            reload_done_at = time.monotonic() + 0.2
    timeout = None if reload_done_at is None else max(0, reload_done_at - time.monotonic())
    ready, _, _ = select.select([s, wr], [], [], timeout)
    if wr in ready:
        os.read(wr, 64)
    if reload_done_at is not None and time.monotonic() >= reload_done_at:
        reload_done_at = None
        with open(a.gen + ".tmp", "w") as f:
            f.write("%d\n" % gen)
        os.rename(a.gen + ".tmp", a.gen)
        daemon.notify("READY=1")
    if s in ready:
        try:
            c, _ = s.accept()
        except BlockingIOError:
            continue
        serve(c)
"""


class ReloadUnderLoad(harness.TestCase):
    def test_forking_and_notify_reload(self):
        self.executable("LOADGEN")
        server = os.path.join(self.dir, "server.py")
        with open(server, "w") as f:
            f.write(SERVER)
        pidfile = os.path.join(self.dir, "fork.pid")
        gen = os.path.join(self.dir, "gen")
        fport, nport = harness.free_port(), harness.free_port()
        d = self.units({
            "fork.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % fport,
            "fork.service": "[Service]\nType=forking\nPIDFile=%s\n"
                            "ExecStart=/usr/bin/python3 %s --fork --pidfile %s\n"
                            "ExecReload=/bin/kill -HUP $MAINPID\nTimeoutStopSec=10\n"
                            % (pidfile, server, pidfile),
            "nr.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % nport,
            "nr.service": "[Service]\nType=notify-reload\nHandover=overlap\n"
                          "ExecStart=/usr/bin/python3 %s --notify-reload --gen %s\n"
                          "TimeoutStartSec=20\nTimeoutStopSec=10\n" % (server, gen),
        }, subdir="u")
        b = self.berthd(d)

        # Started by the load's first clients.
        loads = {"fork": self.load(fport), "nr": self.load(nport)}
        b.wait_log(r"fork\.service: the main process is now pid \d+ \(from PIDFile=")
        b.wait_log(r"nr\.service: READY=1 from pid \d+")

        for i in range(RELOADS):
            r = self.berthctl(b, "reload", "nr.service")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            # The reload returned after READY=1, which came after the generation was written.
            with open(gen) as f:
                self.assertEqual(int(f.read()), i + 1)
            r = self.berthctl(b, "reload", "fork.service")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(b.count_log(r"nr\.service: reloaded \(READY=1 from pid \d+\)"),
                         RELOADS)

        for i in range(RESTARTS):
            for name in ("fork", "nr"):
                r = self.berthctl(b, "restart", name + ".service")
                self.assertEqual(r.returncode, 0, "%s restart %d: %s" % (name, i + 1,
                                                                        r.stdout + r.stderr))
            # The new notify-reload process reloads as the first did, once the one it replaced
            # has drained (a reload during the overlap is refused: the service is busy).
            b.wait_log_count(r"nr\.service: draining -> running", i + 1)
            r = self.berthctl(b, "reload", "nr.service")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(gen) as f:
                self.assertEqual(int(f.read()), 1)

        for name, load in loads.items():
            res = load.stop()
            print("%s: %s" % (name, res))
            self.assertGreater(res["ok"], 0, "%s: %s" % (name, res))
            for k in harness.LOAD_FAILURES:
                self.assertEqual(res[k], 0, "%s %s: %s" % (name, k, res))
        self.assertEqual(b.count_log(r"fork\.service: the main process is now pid"),
                         RESTARTS + 1)
        self.assertEqual(b.count_log(r"nr\.service: READY=1 from pid"), RESTARTS + 1)
        self.assertEqual(b.count_log(r"\.service: \S+ -> failed"), 0)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
