"""The fd store: a service stores an accepted client connection with sd_pid_notify_with_fds()
(python3-systemd's notify(fds=...)), is restarted, gets the connection back by name in
LISTEN_FDNAMES, and goes on with the same TCP conversation: the client never reconnects. An
explicit stop releases the store."""
import os
import signal
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVICE = r"""
import os, socket, sys
from systemd import daemon
names = os.environ.get("LISTEN_FDNAMES", "").split(":")
fds = {name: 3 + i for i, name in enumerate(names)}
print("names", ":".join(names), flush=True)
if "conn" in fds:
    c = socket.socket(fileno=fds["conn"])
    c.sendall(b"resumed by %d\n" % os.getpid())
    line = c.recv(1024)
    c.sendall(b"echo " + line)
    print("resumed", flush=True)
else:
    s = socket.socket(fileno=fds["web.socket"])
    c, _ = s.accept()
    daemon.notify("FDSTORE=1\nFDNAME=conn", fds=[c.fileno()])
    c.sendall(b"hello from %d\n" % os.getpid())
    print("stored", flush=True)
import time
time.sleep(1000)
"""


class FdStore(harness.TestCase):
    def test_connection_survives_restart(self):
        p = harness.free_port()
        script = os.path.join(self.dir, "svc.py")
        with open(script, "w") as f:
            f.write(SERVICE)
        self.units({
            "web.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "web.service": f"""
                [Service]
                ExecStart=/usr/bin/python3 {script}
                FileDescriptorStoreMax=4
                Restart=always
                RestartSec=0
                """,
        })
        b = self.berthd()
        c = harness.connect("127.0.0.1", p, timeout=20)
        f = c.makefile("rb")
        first = f.readline()
        self.assertTrue(first.startswith(b"hello from "), first)
        b.wait_log(r"web\.service: stored fd \d+ as 'conn'")
        pid = int(b.wait_log(r"web\.service: dead -> running \(pid (\d+)\)").group(1))
        os.kill(pid, signal.SIGTERM)  # Restart=always brings it back, with the store
        second = f.readline()
        self.assertTrue(second.startswith(b"resumed by "), second)
        self.assertNotEqual(first.split()[-1], second.split()[-1], "a new process resumed it")
        b.wait_log(r"web\.service\[\d+\]: names web\.socket:conn")
        c.sendall(b"same conversation\n")
        self.assertEqual(f.readline(), b"echo same conversation\n")
        # berthctl status lists the store by name
        ctl = os.environ.get("BERTHCTL")
        if ctl:
            import subprocess
            st = subprocess.run([ctl, "--runtime-dir", b.runtime_dir, "status", "web.service"],
                                capture_output=True, text=True, timeout=30)
            self.assertRegex(st.stdout, r"(?m)^ *Stored fds: conn$")
            # an explicit stop releases it
            subprocess.run([ctl, "--runtime-dir", b.runtime_dir, "stop", "web.service"],
                           check=True, timeout=30)
            b.wait_log(r"web\.service: releasing 1 stored fd")
            # the client sees its connection end: berthd no longer holds it
            self.assertEqual(f.readline(), b"")
        c.close()
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
