"""Ad-hoc mode: berthd -l ADDR [-l ...] [--fdname N] [-E VAR=VAL] -- CMD holds the ports and
supervises CMD with Restart=on-failure; --accept, --inetd, --datagram and --seqpacket as
systemd-socket-activate has them."""
import os
import socket
import subprocess
import sys
import tempfile

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

    def test_accept_inetd(self):
        # as systemd-socket-activate --accept --inetd: an instance per connection, the
        # connection on stdin and stdout, REMOTE_ADDR and REMOTE_PORT set
        p = harness.free_port()
        b = harness.Berthd(None, extra_args=[
            "-l", f"127.0.0.1:{p}", "--accept", "--inetd", "--", "/bin/sh", "-c",
            "read l; echo $l $REMOTE_ADDR $REMOTE_PORT $LISTEN_FDS $LISTEN_FDNAMES"])
        self.addCleanup(b.close)
        b.wait_log(r"Ad-hoc mode: running '/bin/sh' as sh@\.service on sh\.socket")
        for nr in range(3):
            c = harness.connect("127.0.0.1", p)
            c.sendall(b"hello\n")
            port = c.getsockname()[1]
            self.assertEqual(c.recv(200), b"hello 127.0.0.1 %d 1 connection\n" % port)
            c.close()
            b.wait_log(r"sh@%d-127\.0\.0\.1:%d-127\.0\.0\.1:%d\.service: running -> dead"
                       % (nr, p, port))
        self.assertEqual(b.stop(), 0)

    def test_accept_fd3_seqpacket_datagram(self):
        d = tempfile.mkdtemp(prefix="berth-adhoc-")
        path = os.path.join(d, "sp.sock")
        # --accept --seqpacket: the connection as fd 3
        b = harness.Berthd(None, extra_args=[
            "-l", path, "--accept", "--seqpacket", "--", "/usr/bin/python3", "-c",
            "import socket; s = socket.socket(fileno=3); s.send(b'%d' % s.type)"])
        self.addCleanup(b.close)
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as c:
            c.settimeout(10)
            c.connect(path)
            self.assertEqual(c.recv(10), b"%d" % socket.SOCK_SEQPACKET)
        # the peer's pid and uid name the instance
        b.wait_log(r"python3@0-\d+-%d\.service: running -> dead" % os.getuid())
        self.assertEqual(b.stop(), 0)
        # --datagram: the datagram socket handed to CMD as fd 3
        q = harness.free_port(socket.AF_INET, socket.SOCK_DGRAM)
        b = harness.Berthd(None, extra_args=[
            "-l", f"127.0.0.1:{q}", "--datagram", "--", "/usr/bin/python3", "-c",
            "import socket; s = socket.socket(fileno=3); m, a = s.recvfrom(10); "
            "s.sendto(b'%d' % s.type, a)"])
        self.addCleanup(b.close)
        b.wait_log(r"python3\.service: \S+ -> running")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
            c.settimeout(10)
            c.sendto(b"x", ("127.0.0.1", q))
            self.assertEqual(c.recv(10), b"%d" % socket.SOCK_DGRAM)
        self.assertEqual(b.stop(), 0)

    def test_bad_combinations_are_refused(self):
        for args, why in ((["--datagram", "--accept"], "cannot be combined"),
                          (["--inetd"], "--inetd needs --accept"),
                          (["--datagram", "--seqpacket"], "cannot be combined")):
            r = subprocess.run([harness.BERTHD, "-l", "127.0.0.1:1", *args, "--", "/bin/true"],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(why, r.stderr, args)

    def test_bad_address_is_refused(self):
        r = subprocess.run([harness.BERTHD, "-l", "::1:8080", "--", "/bin/true"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("[::1]:8080", r.stderr)


if __name__ == "__main__":
    harness.main()
