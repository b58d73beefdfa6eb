"""A port held by another process: berthd names that process (pid, command, address), fails
that unit alone, and the other units run."""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

HOLDER = """
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen()
print("ready", flush=True)
sys.stdin.read()
"""


class AddrInUse(harness.TestCase):
    def test_holder_is_named(self):
        p = harness.free_port()
        ok = harness.free_port()
        holder = subprocess.Popen(["/usr/bin/python3", "-c", HOLDER, str(p)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(holder.wait)
        self.addCleanup(holder.stdin.close)
        self.assertEqual(holder.stdout.readline().strip(), "ready")
        self.units({
            "busy.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "busy.service": "[Service]\nExecStart=/bin/true\n",
            "fine.socket": f"[Socket]\nListenStream=127.0.0.1:{ok}\n",
            "fine.service": "[Service]\nExecStart=/bin/true\n",
        })
        b = self.berthd()
        b.wait_log(rf"busy\.socket.*127\.0\.0\.1:{p}.*[Aa]ddress already in use.*pid "
                   rf"{holder.pid} \(python3\).*0\.0\.0\.0:{p}")
        self.assertTrue(harness.ss_has(["-ltn"], f"127.0.0.1:{ok}"))
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
