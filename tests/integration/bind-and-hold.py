"""The real berthd binds what the units declare, says so one line per socket, sends READY=1,
holds the sockets, and exits 0 on SIGTERM."""
import os
import signal
import socket
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class BindAndHold(harness.TestCase):
    def test_sockets_are_bound_and_described(self):
        p1, p2, p3, p4 = (harness.free_port() for _ in range(4))
        udp = harness.free_port(socktype=socket.SOCK_DGRAM)
        path = os.path.join(self.dir, "sock", "app.sock")
        abstract = "berth-test-%d" % os.getpid()
        self.units({
            "v4.socket": f"[Socket]\nListenStream=127.0.0.1:{p1}\n",
            "v4.service": "[Service]\nExecStart=/bin/true\n",
            "v6.socket": f"[Socket]\nListenStream=[::1]:{p2}\n",
            "v6.service": "[Service]\nExecStart=/bin/true\n",
            "lo.socket": f"[Socket]\nListenStream=localhost:{p3}\nBacklog=17\n",
            "lo.service": "[Service]\nExecStart=/bin/true\n",
            "any.socket": f"[Socket]\nListenStream={p4}\n",
            "any.service": "[Service]\nExecStart=/bin/true\n",
            "dgram.socket": f"[Socket]\nListenDatagram=127.0.0.1:{udp}\n",
            "dgram.service": "[Service]\nExecStart=/bin/true\n",
            "unix.socket": f"[Socket]\nListenStream={path}\nSocketMode=0600\n"
                           f"ListenStream=@{abstract}\nDirectoryMode=0700\n",
            "unix.service": "[Service]\nExecStart=/bin/true\n",
            "zero.socket": "[Socket]\nListenStream=127.0.0.1:0\n",
            "zero.service": "[Service]\nExecStart=/bin/true\n",
        })
        b = self.berthd()
        tcp = harness.ss("-ltn")
        for needle in (f"127.0.0.1:{p1}", f"[::1]:{p2}", f"127.0.0.1:{p3}", f"[::1]:{p3}",
                       f"*:{p4}"):
            self.assertTrue(any(needle in l.split() for l in tcp.splitlines()),
                            f"{needle} not in ss -ltn:\n{tcp}")
        self.assertTrue(harness.ss_has(["-lun"], f"127.0.0.1:{udp}"))
        unix = harness.ss("-lx")
        self.assertIn(path, unix)
        self.assertIn("@" + abstract, unix)

        # one line per socket, with reach and hint, read back from the kernel
        b.wait_log(rf"v4\.socket: listening on 127\.0\.0\.1:{p1} .*loopback only, this "
                   rf"machine only — try: nc 127\.0\.0\.1 {p1}$")
        b.wait_log(rf"v6\.socket: listening on \[::1\]:{p2} .*loopback only")
        b.wait_log(rf"any\.socket: listening on \[::\]:{p4} .*dual-stack.*all interfaces, "
                   r"reachable from other machines")
        b.wait_log(rf"dgram\.socket: listening on 127\.0\.0\.1:{udp} \(UDP")
        m = b.wait_log(r"zero\.socket: listening on 127\.0\.0\.1:(\d+)")
        self.assertNotEqual(int(m.group(1)), 0, "port 0 must log the port the kernel chose")

        # unix socket: mode applied, directory created with DirectoryMode
        st = os.stat(path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode), 0o700)

        # held: a connection completes (the kernel queues it) while no service runs
        for host, port, fam in (("127.0.0.1", p1, socket.AF_INET), ("::1", p2, socket.AF_INET6),
                                ("127.0.0.1", p4, socket.AF_INET), ("::1", p4, socket.AF_INET6)):
            harness.connect(host, port, fam).close()

        self.assertEqual(b.stop(signal.SIGTERM), 0)
        self.assertFalse(harness.ss_has(["-ltn"], f"127.0.0.1:{p1}"))

    def test_sigint_exits_zero(self):
        p = harness.free_port()
        self.units({"x.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
                    "x.service": "[Service]\nExecStart=/bin/true\n"})
        b = self.berthd()
        self.assertEqual(b.stop(signal.SIGINT), 0)

    def test_stale_unix_socket_is_replaced_and_regular_file_refused(self):
        stale = os.path.join(self.dir, "stale.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(stale)
        s.close()  # leaves a stale socket file behind
        regular = os.path.join(self.dir, "regular.sock")
        with open(regular, "w") as f:
            f.write("precious")
        self.units({"st.socket": f"[Socket]\nListenStream={stale}\n",
                    "st.service": "[Service]\nExecStart=/bin/true\n",
                    "rg.socket": f"[Socket]\nListenStream={regular}\n",
                    "rg.service": "[Service]\nExecStart=/bin/true\n"})
        b = self.berthd()
        b.wait_log(r"st\.socket: listening on " + re.escape(stale))
        b.wait_log(r"rg\.socket.*not a socket")
        with open(regular) as f:
            self.assertEqual(f.read(), "precious")
        c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        c.connect(stale)
        c.close()
        self.assertEqual(b.stop(), 0)


import re  # noqa: E402

if __name__ == "__main__":
    harness.main()
