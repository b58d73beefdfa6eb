"""ReadyOn=accept (issue 15, part 4): a program that never sends READY=1 is ready when it first
waits for a connection on berth's socket. The library berthd preloads says READY=1 then, once,
whichever way the program waits (accept(), poll(), epoll_wait(), select()). So a Type=simple
service with a slow start-up is running only once it accepts, and a Handover=overlap restart
keeps the old process serving until the new one really waits for clients: under load, no
request fails, and each handover ends after the new process's "accepting" line."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RESTARTS = 3

# Takes a second to start, says so, then serves HTTP on fd 3, waiting the way argv[1] says.
# SIGTERM is graceful: the request in hand is answered, then it exits.
SERVER = r"""
import os, selectors, signal, socket, sys, time
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
time.sleep(1.0)
s = socket.socket(fileno=3)
mode = sys.argv[1]
# Before it first waits: so this file exists before the library can say READY=1.
open(os.path.join(sys.argv[2], "accepting-%d" % os.getpid()), "w").close()
def serve():
    c, _ = s.accept()
    c.setblocking(True)
    c.settimeout(5)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    c.close()
if mode == "accept":
    # A blocking accept(): the handler leaves it (no load runs against this mode).
    def leave(*_):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, leave)
    while True:
        serve()
sel = {"poll": selectors.PollSelector, "epoll": selectors.EpollSelector,
       "select": selectors.SelectSelector}[mode]()
sel.register(s, selectors.EVENT_READ)
s.setblocking(False)
while not stop:
    for _ in sel.select(0.2):
        try:
            serve()
        except BlockingIOError:
            pass
"""


class ReadyOnAccept(harness.TestCase):
    def server(self):
        path = os.path.join(self.dir, "server.py")
        with open(path, "w") as f:
            f.write(SERVER)
        return path

    def test_ready_when_it_waits(self):
        server = self.server()
        units, ports = {}, {}
        for mode in ("accept", "poll", "epoll", "select"):
            ports[mode] = harness.free_port()
            units[mode + ".socket"] = "[Socket]\nListenStream=127.0.0.1:%d\n" % ports[mode]
            units[mode + ".service"] = ("[Service]\nReadyOn=accept\n"
                                        "ExecStart=/usr/bin/python3 %s %s %s\n"
                                        % (server, mode, self.dir))
        b = self.berthd(self.units(units, subdir="u"))
        for mode, port in ports.items():
            self.assertEqual(harness.http_get(port, timeout=20)[:12], b"HTTP/1.0 200")
            pid = int(b.wait_log(r"%s\.service: dead -> start \(pid (\d+)\)" % mode).group(1))
            b.wait_log(r"%s\.service: start -> running \(pid %d\)" % (mode, pid))
            # Running only once it waited for clients (its file is there by then), by the
            # library's READY=1.
            self.assertTrue(os.path.exists(os.path.join(self.dir, "accepting-%d" % pid)))
            log = b.log()
            self.assertLess(log.index("%s.service: READY=1 from pid %d" % (mode, pid)),
                            log.index("%s.service: start -> running (pid %d)" % (mode, pid)))
        self.assertEqual(b.count_log(r"READY=1 from pid"), len(ports))
        self.assertEqual(b.stop(), 0)

    def test_overlap_restart_without_gap(self):
        server = self.server()
        port = harness.free_port()
        d = self.units({
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            "web.service": "[Service]\nReadyOn=accept\nHandover=overlap\nTimeoutStartSec=30\n"
                           "ExecStart=/usr/bin/python3 %s epoll %s\n" % (server, self.dir),
        }, subdir="u")
        b = self.berthd(d)
        load = self.load(port)
        b.wait_log(r"web\.service: start -> running")
        draining = r"web\.service: handover -> draining \(pid (\d+)\)"
        checked = []
        for i in range(RESTARTS):
            r = self.berthctl(b, "restart", "web.service")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            b.wait_log_count(draining, i + 1)
            # The handover ended once the new process waited for clients (its file is there
            # by then), by its READY=1.
            new = int(re.findall(draining, b.log())[i])
            self.assertTrue(os.path.exists(os.path.join(self.dir, "accepting-%d" % new)))
            checked.append(new)
            b.wait_log_count(r"web\.service: draining -> running", i + 1)
        res = load.stop()
        print("load: %s" % res)
        self.assertGreater(res["ok"], 0, res)
        for k in harness.LOAD_FAILURES:
            self.assertEqual(res[k], 0, "%s: %s" % (k, res))
        self.assertEqual(len(set(checked)), RESTARTS)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
