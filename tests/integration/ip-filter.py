"""IPAddressAllow= and IPAddressDeny= in [Socket] (issue 12 item 3): a classic BPF filter on
the listening socket, locked with SO_LOCK_FILTER, so that it holds on a socket handed to a
long-running service, where berthd never sees a connection, and the service cannot remove it.
A denied client's SYN is dropped: its connect does not complete within its timeout. berthd runs
in a network namespace of its own so that its sockets can be dual-stack ([::]:PORT) and the
clients (run there with nsenter) can come from 127.0.0.1, 127.0.0.2, ::1 and IPv4-mapped
sources. The filter holds across a daemon-reload and a restart of the service (the socket is
kept); new rules bind the socket again."""
import json
import os
import subprocess
import sys

import harness

# The service: tries to remove the filter from the socket it was handed (fd 3) and says how
# that went, then greets every client with the address it sees.
SERVER = r"""
import errno, socket, sys
s = socket.socket(fileno=3)
try:
    s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_DETACH_FILTER", 27), 0)
    print("detach: allowed", flush=True)
except OSError as e:
    print("detach: %s" % errno.errorcode.get(e.errno, e.errno), flush=True)
while True:
    c, peer = s.accept()
    c.sendall(("hello %s\n" % peer[0]).encode())
    c.close()
"""

# The clients: one connection per "SOURCE,DESTINATION" argument, the source bound before the
# connect, each with a 1.5 s timeout. Prints {case: "hello ..." | "timeout" | "error: ..."}.
CLIENT = r"""
import json, socket, sys
port = int(sys.argv[1])
out = {}
for case in sys.argv[2:]:
    src, dst = case.split(",")
    family = socket.AF_INET6 if ":" in src else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((src, 0))
        s.settimeout(1.5)
        try:
            s.connect((dst, port))
            out[case] = s.makefile().readline().strip()
        except socket.timeout:
            out[case] = "timeout"
        except OSError as e:
            out[case] = "error: %s" % e
print(json.dumps(out))
"""

# Every source the tests try, with the address the listener is reached at from it.
V4_1, V4_2 = "127.0.0.1,127.0.0.1", "127.0.0.2,127.0.0.1"
MAPPED_1, MAPPED_2 = "::ffff:127.0.0.1,::ffff:127.0.0.1", "::ffff:127.0.0.2,::ffff:127.0.0.1"
V6 = "::1,::1"


class IPFilter(harness.TestCase):
    def setUp(self):
        super().setUp()
        if not harness.is_root():
            self.skipTest("needs root for a network namespace")
        self.server = os.path.join(self.dir, "server.py")
        self.client = os.path.join(self.dir, "client.py")
        with open(self.server, "w") as f:
            f.write(SERVER)
        with open(self.client, "w") as f:
            f.write(CLIENT)

    def service(self):
        return "[Service]\nExecStart=%s %s\n" % (sys.executable, self.server)

    def clients(self, b, port, *cases):
        """Runs the clients in berthd's network namespace: returns {case: outcome}."""
        p = subprocess.run(["nsenter", "-t", str(b.proc.pid), "-n", sys.executable,
                            self.client, str(port), *cases], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def assert_served(self, b, port, served, dropped):
        """Each case of served gets its greeting (the service sees the source as given, an
        IPv4 one as IPv4-mapped on a dual-stack socket); each of dropped times out."""
        got = self.clients(b, port, *served, *dropped)
        for case in served:
            src = case.split(",")[0]
            seen = src if ":" in src else "::ffff:" + src
            self.assertEqual(got[case], "hello " + seen, "%s should be served: %r" % (case, got))
        for case in dropped:
            self.assertEqual(got[case], "timeout", "%s should be dropped: %r" % (case, got))

    def test_long_running_service(self):
        port, port6 = harness.free_port(), harness.free_port()
        d = self.units({
            # dual-stack [::]:port in the namespace
            "web.socket": "[Socket]\nListenStream=%d\nIPAddressDeny=any\n"
                          "IPAddressAllow=127.0.0.2 bogus\n" % port,
            "web.service": self.service(),
            "six.socket": "[Socket]\nListenStream=%d\nIPAddressDeny=::1/128\n" % port6,
            "six.service": self.service(),
        })
        r = harness.run_check(d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout + r.stderr,
                         r"web\.socket:4: .*Invalid prefix in IPAddressAllow=: 'bogus'")
        self.assertIn("IPAddressAllow=127.0.0.2/32, IPAddressDeny=0.0.0.0/0 ::/0, a locked "
                      "socket filter drops what they deny", r.stdout)
        self.assertIn("IPAddressDeny=::1/128, a locked socket filter", r.stdout)

        b = self.berthd_in_netns(d)
        b.wait_log(r"listening on \[::\]:%d " % port)
        self.assert_served(b, port, [V4_2, MAPPED_2], [V4_1, MAPPED_1, V6])
        # The service could not remove the filter from the socket it was handed.
        m = b.wait_log(r"web\.service\[(\d+)\]: detach: (\S+)")
        self.assertEqual(m.group(2), "EPERM")
        pid = int(m.group(1))
        self.assert_served(b, port6, [V4_1, V4_2, MAPPED_1], [V6])
        self.assertEqual(b.wait_log(r"six\.service\[\d+\]: detach: (\S+)").group(1), "EPERM")

        # berthctl shows that the sockets are filtered, and the rules.
        p = self.berthctl(b, "list-sockets", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {s["unit"]: s for s in json.loads(p.stdout)}
        self.assertEqual(rows["web.socket"]["filter"], "ip")
        self.assertEqual(rows["six.socket"]["filter"], "ip")
        p = self.berthctl(b, "status", "web.socket", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        st = json.loads(p.stdout)[0]
        self.assertEqual(st["ip_address_allow"], ["127.0.0.2/32"])
        self.assertEqual(st["ip_address_deny"], ["0.0.0.0/0", "::/0"])
        p = self.berthctl(b, "status", "web.socket")
        self.assertRegex(p.stdout, r"IP allow: 127\.0\.0\.2/32\n")
        self.assertRegex(p.stdout, r"IP deny: 0\.0\.0\.0/0\n +::/0\n")

        # A daemon-reload keeps the socket, and with it the filter; the service serves on.
        p = self.berthctl(b, "daemon-reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        b.wait_log(r"daemon-reload: done")
        self.assert_served(b, port, [V4_2], [V4_1, V6])
        self.assertEqual(b.count_log(r"web\.socket: listening on"), 1)
        self.assertEqual(b.count_log(r"web\.service\[\d+\]: detach:"), 1)
        self.assertTrue(harness.pid_alive(pid))

        # A restart hands the same socket, filter and all, to a new process.
        p = self.berthctl(b, "restart", "web.service")
        self.assertEqual(p.returncode, 0, p.stderr)
        b.wait_log_count(r"web\.service\[\d+\]: detach: EPERM", 2)
        self.assert_served(b, port, [V4_2, MAPPED_2], [V4_1, V6])
        self.assertEqual(b.count_log(r"web\.socket: listening on"), 1)

        # New rules cannot go on a locked filter: the socket is bound again with them, once no
        # process holds the old one (the kernel keeps a socket while a service has it).
        p = self.berthctl(b, "stop", "web.service")
        self.assertEqual(p.returncode, 0, p.stderr)
        b.wait_log(r"web\.service: \S+ -> dead")
        self.units({"web.socket": "[Socket]\nListenStream=%d\nIPAddressDeny=any\n"
                                  "IPAddressAllow=::1\n" % port})
        p = self.berthctl(b, "daemon-reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        b.wait_log_count(r"daemon-reload: done", 2)
        self.assertEqual(b.count_log(r"web\.socket: listening on"), 2)
        self.assert_served(b, port, [V6], [V4_1, V4_2, MAPPED_2])
        self.assertEqual(b.stop(), 0)

    def test_unfiltered_and_unix(self):
        """No rules: no filter, every source served. Rules on a unix socket: no filter (not an
        IP socket), said by --check."""
        port = harness.free_port()
        sock = os.path.join(self.dir, "u.sock")
        d = self.units({
            "open.socket": "[Socket]\nListenStream=%d\n" % port,
            "open.service": self.service(),
            "u.socket": "[Socket]\nListenStream=%s\nIPAddressDeny=any\n" % sock,
            "u.service": self.service(),
        })
        r = harness.run_check(d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("IPAddressAllow=/IPAddressDeny= do not apply (not an IP socket)", r.stdout)
        b = self.berthd_in_netns(d)
        b.wait_log(r"listening on \[::\]:%d " % port)
        self.assert_served(b, port, [V4_1, V4_2, MAPPED_1, V6], [])
        self.assertEqual(b.wait_log(r"open\.service\[\d+\]: detach: (\S+)").group(1), "ENOENT")
        p = self.berthctl(b, "list-sockets", "--json")
        rows = {s["unit"]: s for s in json.loads(p.stdout)}
        self.assertEqual(rows["u.socket"]["filter"], "")
        self.assertEqual(b.stop(), 0)

    def test_accept_yes(self):
        """The same rules on an Accept=yes socket: a denied client never reaches accept(), so
        no instance starts for it; an allowed one gets an instance (inetd style), which sees
        its address in $REMOTE_ADDR (IPv4-mapped printed as IPv4)."""
        port = harness.free_port()
        d = self.units({
            "greet.socket": "[Socket]\nListenStream=%d\nAccept=yes\nIPAddressDeny=any\n"
                            "IPAddressAllow=127.0.0.2\n" % port,
            "greet@.service": "[Service]\nStandardInput=socket\n"
                              "ExecStart=/bin/sh -c 'echo hello $REMOTE_ADDR'\n",
        })
        b = self.berthd_in_netns(d)
        b.wait_log(r"listening on \[::\]:%d " % port)
        got = self.clients(b, port, V4_2, MAPPED_2, V4_1, MAPPED_1, V6)
        self.assertEqual(got[V4_2], "hello 127.0.0.2", got)
        self.assertEqual(got[MAPPED_2], "hello 127.0.0.2", got)
        for case in (V4_1, MAPPED_1, V6):
            self.assertEqual(got[case], "timeout", "%s should be dropped: %r" % (case, got))
        # two instances, both for 127.0.0.2; none for a denied source
        self.assertEqual(b.count_log(r"greet@\d+-[^ ]*-127\.0\.0\.2:\d+\.service: \S+ -> "
                                     r"running"), 2)
        self.assertEqual(b.count_log(r"greet@\d+-[^ ]*-(127\.0\.0\.1|::1):\d+\.service"), 0)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
