"""Ad-hoc mode: berthd -l ADDR [-l ...] [--fdname N] [-E VAR=VAL] -- CMD holds the ports and
supervises CMD with Restart=on-failure."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SERVER = r"""
import os, socket, sys
print("env", os.environ["LISTEN_FDS"], os.environ["LISTEN_FDNAMES"], os.environ["GREETING"],
      sys.argv[1], flush=True)
s = socket.socket(fileno=3)
c, _ = s.accept()
c.sendall(os.environ["GREETING"].encode())
c.close()
sys.exit(1)   # a failure: Restart=on-failure brings it back
"""


class AdHoc(harness.TestCase):
    def test_adhoc(self):
        p = harness.free_port()
        b = harness.Berthd(None, extra_args=[
            "-l", f"127.0.0.1:{p}", "-l", f"[::1]:{p}", "--fdname", "web",
            "-E", "GREETING=hi $there", "--", "/usr/bin/python3", "-c", SERVER, "$HOME"])
        self.addCleanup(b.close)
        b.wait_log(r"Ad-hoc mode: running '/usr/bin/python3' as python3\.service")
        b.wait_log(r"python3\.service\[\d+\]: env 2 web:web hi \$there \$HOME$")
        for _ in range(2):
            c = harness.connect("127.0.0.1", p)
            self.assertEqual(c.recv(100), b"hi $there")
            c.close()
        b.wait_log(r"python3\.service: restarting \(restart 1, Restart=on-failure\)")
        self.assertEqual(b.stop(), 0)

    def test_accept_is_refused_clearly(self):
        r = subprocess.run([harness.BERTHD, "-l", "127.0.0.1:1", "--accept", "--", "/bin/true"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--accept", r.stderr)
        self.assertIn("not implemented", r.stderr)

    def test_bad_address_is_refused(self):
        r = subprocess.run([harness.BERTHD, "-l", "::1:8080", "--", "/bin/true"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("[::1]:8080", r.stderr)


if __name__ == "__main__":
    harness.main()
