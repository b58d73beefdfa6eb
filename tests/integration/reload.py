"""daemon-reload (here through SIGHUP; berthctl's path is tested in berthctl.py): unchanged
sockets keep the same kernel socket, new units are bound, removed ones closed once their
service stops, changed addresses rebound; a broken edit keeps the old socket; 20 reloads under
load refuse nothing."""
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER = r"""
import os, socket, sys
print("serving", flush=True)
s = socket.socket(fileno=3)
n = 0
while True:
    c, _ = s.accept()
    c.recv(4096)
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
    c.close()
    n += 1
    if n % 100 == 0:
        print("served", n, flush=True)
"""


def inode(port):
    """The inode of the TCP listener on 127.0.0.1:port, from ss -ltne."""
    for line in harness.ss("-ltne", f"sport = :{port}").splitlines():
        m = re.search(r"ino:(\d+)", line)
        if m and f"127.0.0.1:{port}" in line.split():
            return int(m.group(1))
    return None


class Reload(harness.TestCase):
    def reload(self, b, ctl=False):
        """SIGHUP, or with ctl `berthctl daemon-reload` (which waits for the result)."""
        n = b.count_log(r"daemon-reload: done")
        if ctl:
            r = subprocess.run([os.environ["BERTHCTL"], "--runtime-dir", b.runtime_dir,
                                "daemon-reload"], capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stderr)
        else:
            b.proc.send_signal(signal.SIGHUP)
        b.wait_log_count(r"daemon-reload: done", n + 1)

    def test_reload_semantics(self):
        keep, old, new, added = (harness.free_port() for _ in range(4))
        script = os.path.join(self.dir, "..", os.path.basename(self.dir) + "-server.py")
        with open(script, "w") as f:
            f.write(SERVER)
        self.addCleanup(os.unlink, script)
        svc = f"[Service]\nExecStart=/usr/bin/python3 {script}\n"
        self.units({
            "keep.socket": f"[Socket]\nListenStream=127.0.0.1:{keep}\n", "keep.service": svc,
            "move.socket": f"[Socket]\nListenStream=127.0.0.1:{old}\n", "move.service": svc,
            "gone.socket": f"[Socket]\nListenStream=127.0.0.1:{added}\n", "gone.service": svc,
        })
        b = self.berthd()
        ino_keep = inode(keep)
        self.assertIsNotNone(ino_keep)
        # gone.service runs, so its socket stays until it stops
        harness.connect("127.0.0.1", added).close()
        b.wait_log(r"gone\.service\[\d+\]: serving")
        running = int(b.wait_log(r"gone\.service: dead -> running \(pid (\d+)\)").group(1))

        os.unlink(os.path.join(self.dir, "gone.socket"))
        os.unlink(os.path.join(self.dir, "gone.service"))
        self.units({"move.socket": f"[Socket]\nListenStream=127.0.0.1:{new}\n",
                    "new.socket": f"[Socket]\nListenStream=[::1]:{keep}\n",
                    "new.service": svc})
        self.reload(b)
        self.assertEqual(inode(keep), ino_keep, "an unchanged socket keeps its kernel socket")
        self.assertTrue(harness.ss_has(["-ltn"], f"127.0.0.1:{new}"), "a changed address is "
                        "rebound")
        self.assertFalse(harness.ss_has(["-ltn"], f"127.0.0.1:{old}"), "the old one is closed")
        self.assertTrue(harness.ss_has(["-ltn"], f"[::1]:{keep}"), "a new unit is bound")
        # removed: its service is stopped, then its socket closed
        harness.wait_for(lambda: not harness.pid_alive(running), what="gone.service to stop")
        harness.wait_for(lambda: not harness.ss_has(["-ltn"], f"127.0.0.1:{added}"),
                         what="the removed socket to close")
        b.wait_log(r"gone\.service: removed by daemon-reload")

        # A broken edit: the error names file:line; the old socket stays, same inode.
        self.units({"keep.socket": f"[Socket]\nListenStream=127.0.0.1:{keep}\nBacklog=lots\n"})
        self.reload(b)
        b.wait_log(re.escape(os.path.join(self.dir, "keep.socket")) + r":3: .*Backlog")
        self.assertEqual(inode(keep), ino_keep)
        c = harness.connect("127.0.0.1", keep)
        c.sendall(b"GET / HTTP/1.0\r\n\r\n")
        self.assertIn(b"200 OK", c.recv(4096))
        c.close()
        self.assertEqual(b.stop(), 0)

    def test_20_reloads_under_load(self):
        loadgen = os.environ.get("LOADGEN")
        self.assertTrue(loadgen, "LOADGEN is not set")
        p = harness.free_port()
        script = os.path.join(self.dir, "..", os.path.basename(self.dir) + "-server.py")
        with open(script, "w") as f:
            f.write(SERVER)
        self.addCleanup(os.unlink, script)
        self.units({"web.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
                    "web.service": f"[Service]\nExecStart=/usr/bin/python3 {script}\n"})
        b = self.berthd()
        ino = inode(p)
        load = subprocess.Popen([loadgen, "--connect", f"127.0.0.1:{p}", "--concurrency", "4",
                                 "--duration", "60", "--timeout", "10", "--json"],
                                stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: load.poll() is None and load.kill())
        b.wait_log(r"web\.service\[\d+\]: serving")
        for i in range(20):
            # one reload per 100 requests served, so the reloads spread over the load
            b.wait_log_count(r"web\.service\[\d+\]: served", i + 1)
            with open(os.path.join(self.dir, "web.service"), "w") as f:
                f.write(f"[Service]\nExecStart=/usr/bin/python3 {script}\n"
                        f"Environment=ROUND={i}\n")
            # half through berthctl, half through SIGHUP: the same reload
            self.reload(b, ctl=bool(os.environ.get("BERTHCTL")) and i % 2 == 0)
        load.send_signal(signal.SIGINT)
        out, _ = load.communicate(timeout=30)
        res = json.loads(out.strip().splitlines()[-1])
        print("loadgen:", res)
        self.assertGreater(res["ok"], 0)
        for k in ("refused", "reset", "timeout", "short", "other"):
            self.assertEqual(res[k], 0, f"{k}: {res}")
        self.assertEqual(inode(p), ino)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
