"""Accept=yes (issue 12, items 1 and 2): every connection starts an instance of NAME@.service,
named as systemd names it (NAME@N-LOCAL:PORT-REMOTE:PORT.service), with the connection as fd 3
(LISTEN_FDS=1, LISTEN_FDNAMES=connection) or, inetd style, on stdin and stdout; REMOTE_ADDR
and REMOTE_PORT (IPv4-mapped as IPv4). MaxConnections= and MaxConnectionsPerSource= close the
connections over the limit at once; instances stop with berthd; list-units counts them on their
template's row; ListenDatagram= is refused."""
import json
import os
import re
import socket
import tempfile

import harness
from probe_report import probe_path, wait_report


def closed_by_server(s):
    """Whether the server closed s (EOF or reset), without waiting."""
    s.setblocking(False)
    try:
        return s.recv(1) == b""
    except (BlockingIOError, InterruptedError):
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
    finally:
        s.setblocking(True)


def client(host, port, family=socket.AF_INET, source=None):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    if source:
        s.bind((source, 0))
    s.connect((host, port))
    return s


class Accept(harness.TestCase):
    def three_waiting_instances(self, name, port, marker):
        """berthd with NAME.socket (Accept=yes on port) and three instances that wait for
        their client's EOF; returns berthd, the clients and the unit directory."""
        d = self.units({
            "%s.socket" % name: "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n" % port,
            "%s@.service" % name: "[Service]\nExecStart=/bin/sh -c 'cat >/dev/null; : %s'\n"
                                  "StandardInput=socket\n" % marker,
        })
        b = self.berthd(d)
        clients = [client("127.0.0.1", port) for _ in range(3)]
        self.addCleanup(lambda: [c.close() for c in clients])
        harness.wait_for(lambda: harness.processes_with(marker) == 3, what="3 instances")
        return b, clients, d

    def setUp(self):
        super().setUp()
        self.probe = probe_path()
        if not self.probe:
            self.fail("berth-probe is not built: set BERTH_PROBE, or build tests/probe")
        self.out = tempfile.mkdtemp(prefix="berth-accept-")

    def test_instances_fds_env_names(self):
        p4, p6, pd, pi = (harness.free_port(), harness.free_port(socket.AF_INET6),
                          harness.free_port(socket.AF_INET6), harness.free_port())
        svc = ("[Service]\nExecStart=%s --as %%i\n"
               "Environment=PROBE_OUT=%s/%%p-%%%%p.json PROBE_EXIT=0\n")
        units = {
            "v4.socket": "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n" % p4,
            "v6.socket": "[Socket]\nListenStream=[::1]:%d\nAccept=yes\n" % p6,
            "dual.socket": "[Socket]\nListenStream=[::]:%d\nBindIPv6Only=both\nAccept=yes\n"
                           % pd,
            "inetd.socket": "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n" % pi,
            "inetd@.service": (svc % (self.probe, self.out)) + "StandardInput=socket\n",
        }
        for n in ("v4", "v6", "dual"):
            units["%s@.service" % n] = svc % (self.probe, self.out)
        b = self.berthd(self.units(units))

        cases = [("v4", "127.0.0.1", p4, socket.AF_INET, "127.0.0.1"),
                 ("v6", "::1", p6, socket.AF_INET6, "::1"),
                 ("dual", "127.0.0.1", pd, socket.AF_INET, "127.0.0.1"),  # mapped
                 ("inetd", "127.0.0.1", pi, socket.AF_INET, "127.0.0.1")]
        for name, host, port, family, shown in cases:
            for nr in range(2):  # N counts the socket's connections from 0
                c = client(host, port, family)
                cport = c.getsockname()[1]
                inst = "%d-%s:%d-%s:%d" % (nr, shown, port, shown, cport)
                m = b.wait_log(r"%s@%s\.service: dead -> \S+ \(pid (\d+)\)"
                               % (name, re.escape(inst)))
                r = wait_report(os.path.join(self.out, "%s-%s.json" % (name, m.group(1))),
                                describe=b.log)
                c.close()
                self.assertEqual(r["argv"][1:], ["--as", inst])  # %i is the instance
                self.assertEqual([f["fd"] for f in r["fds"]], [0, 1, 2, 3], r["fds"])
                self.assertEqual(r["LISTEN_FDS"], "1")
                self.assertEqual(r["LISTEN_FDNAMES"], "connection")
                self.assertEqual(r["LISTEN_PID"], str(r["pid"]))
                self.assertEqual(r["environ"].get("REMOTE_ADDR"), shown)
                self.assertEqual(r["environ"].get("REMOTE_PORT"), str(cport))
                conn = r["fds"][3]["socket"]
                self.assertIsNotNone(conn)
                self.assertFalse(conn["listening"])
                self.assertFalse(r["fds"][3]["nonblock"])  # NonBlocking=no, as systemd
                sock_targets = {r["fds"][i]["target"] for i in (0, 1, 3)}
                if name == "inetd":
                    # stdin and stdout are the connection (stderr follows stdout)
                    self.assertEqual(len(sock_targets), 1, r["fds"])
                    self.assertTrue(r["fds"][0]["target"].startswith("socket:"))
                    self.assertEqual(r["fds"][2]["target"], r["fds"][0]["target"])
                else:
                    self.assertEqual(r["fds"][0]["target"], "/dev/null")
                    self.assertFalse(r["fds"][1]["target"].startswith("socket:"))
        self.assertEqual(b.stop(), 0)

    def test_max_connections(self):
        port = harness.free_port()
        marker = "berth-accept-max-%d" % port
        b = self.berthd(self.units({
            "held.socket": "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n"
                           "MaxConnections=5\n" % port,
            "held@.service": "[Service]\nExecStart=/bin/sh -c 'cat >/dev/null; : %s'\n"
                             "StandardInput=socket\n" % marker,
        }))
        clients = [client("127.0.0.1", port) for _ in range(20)]
        self.addCleanup(lambda: [c.close() for c in clients])
        most = 0

        def settled():
            nonlocal most
            n = harness.processes_with(marker)
            most = max(most, n)
            closed = sum(closed_by_server(c) for c in clients)
            return n == 5 and closed == 15

        harness.wait_for(settled, what="5 instances and 15 refused connections")
        self.assertLessEqual(most, 5)
        b.wait_log(r"held\.socket: refused the connection from 127\.0\.0\.1:\d+: "
                   r"5 connections already \(MaxConnections=5\)")
        # the slots free up: the held clients go, and a new client is served
        for c in clients:
            c.close()
        harness.wait_for(lambda: harness.processes_with(marker) == 0, what="the instances to end")
        # berthd frees a slot when it has reaped the instance, which may come after ps no
        # longer shows it: a client sooner would be refused
        b.wait_log_count(r"held@\d+-\S+\.service: running -> dead", 5)
        c = client("127.0.0.1", port)
        clients.append(c)
        harness.wait_for(lambda: harness.processes_with(marker) == 1, what="a new instance")
        self.assertEqual(b.stop(), 0)
        self.assertEqual(harness.processes_with(marker), 0, "instances stop with berthd")

    def test_list_units_grouping(self):
        port = harness.free_port()
        marker = "berth-accept-list-%d" % port
        b = self.berthd(self.units({
            "many.socket": "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n" % port,
            "many@.service": "[Service]\nExecStart=/bin/sh -c 'cat >/dev/null; : %s'\n"
                             "StandardInput=socket\n" % marker,
        }))
        clients = [client("127.0.0.1", port) for _ in range(12)]
        self.addCleanup(lambda: [c.close() for c in clients])
        harness.wait_for(lambda: harness.processes_with(marker) == 12, what="12 instances")
        p = self.berthctl(b, "list-units", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = json.loads(p.stdout)
        names = [r["name"] for r in rows]
        # the instances are counted on their template's row, not listed one by one
        self.assertEqual(sorted(names), ["many.socket", "many@.service"], names)
        t = [r for r in rows if r["name"] == "many@.service"][0]
        self.assertEqual((t["state"], t["last_exit"]), ("running", "12 instances"))
        p = self.berthctl(b, "status", "many.socket")
        self.assertIn("Accepted: 12; Connected: 12; Refused: 0", p.stdout)
        # one instance by its name
        m = b.wait_log(r"(many@0-\S+\.service): dead -> running \(pid (\d+)\)")
        p = self.berthctl(b, "status", m.group(1))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("Main PID: %s" % m.group(2), " ".join(p.stdout.split()))
        self.assertEqual(b.stop(), 0)

    def test_reload_keeps_instances_removal_stops_them(self):
        port = harness.free_port()
        marker = "berth-accept-reload-%d" % port
        b, clients, d = self.three_waiting_instances("r", port, marker)
        p = self.berthctl(b, "daemon-reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(harness.processes_with(marker), 3, "a daemon-reload keeps the instances")
        # the socket goes on accepting, and N goes on counting
        clients.append(client("127.0.0.1", port))
        b.wait_log(r"r@3-127\.0\.0\.1:%d-\S+\.service: dead -> running" % port)
        self.assertIn("Accepted: 4; Connected: 4; Refused: 0",
                      self.berthctl(b, "status", "r.socket").stdout)
        # the socket unit removed: its instances stop, and their clients see the end
        os.unlink(os.path.join(d, "r.socket"))
        p = self.berthctl(b, "daemon-reload")
        self.assertEqual(p.returncode, 0, p.stderr)
        harness.wait_for(lambda: harness.processes_with(marker) == 0, what="the instances to stop")
        for c in clients:
            self.assertEqual(c.recv(16), b"")
        self.assertEqual(b.stop(), 0)

    def test_stop_socket_stops_instances(self):
        """berthctl stop of an Accept=yes socket (or of its template) stops every live
        instance; the socket stays bound and the next connection gets a new instance."""
        port = harness.free_port()
        marker = "berth-accept-stop-%d" % port
        b, clients, _ = self.three_waiting_instances("t", port, marker)
        p = self.berthctl(b, "stop", "t.socket")
        self.assertEqual(p.returncode, 0, p.stderr)
        b.wait_log(r"t\.socket: stop requested: 3 instances told to stop")
        harness.wait_for(lambda: harness.processes_with(marker) == 0, what="the instances to stop")
        for c in clients:
            self.assertEqual(c.recv(16), b"")
        clients.append(client("127.0.0.1", port))
        harness.wait_for(lambda: harness.processes_with(marker) == 1, what="a new instance")
        p = self.berthctl(b, "stop", "t@.service")
        self.assertEqual(p.returncode, 0, p.stderr)
        harness.wait_for(lambda: harness.processes_with(marker) == 0, what="the instance to stop")
        self.assertEqual(b.stop(), 0)

    def test_max_connections_per_source(self):
        port = harness.free_port(socket.AF_INET6)
        marker = "berth-accept-src-%d" % port
        b = self.berthd(self.units({
            "src.socket": "[Socket]\nListenStream=[::]:%d\nBindIPv6Only=both\nAccept=yes\n"
                          "MaxConnectionsPerSource=2\n" % port,
            "src@.service": "[Service]\nExecStart=/bin/sh -c 'cat >/dev/null; : %s'\n"
                            "StandardInput=socket\n" % marker,
        }))
        groups = {
            "127.0.0.1": [client("127.0.0.1", port) for _ in range(4)],
            "127.0.0.2": [client("127.0.0.1", port, source="127.0.0.2") for _ in range(4)],
            "::1": [client("::1", port, socket.AF_INET6) for _ in range(4)],
        }
        every = [c for g in groups.values() for c in g]
        self.addCleanup(lambda: [c.close() for c in every])
        most = 0
        closed = {}

        def settled():
            nonlocal most
            n = harness.processes_with(marker)
            most = max(most, n)
            for src, g in groups.items():
                closed[src] = sum(closed_by_server(c) for c in g)
            return n == 6 and all(v == 2 for v in closed.values())

        harness.wait_for(settled, what="2 instances per source, the rest refused")
        self.assertLessEqual(most, 6)
        b.wait_log(r"src\.socket: refused the connection from \S+: 2 connections from there "
                   r"already \(MaxConnectionsPerSource=2\)")
        self.assertEqual(b.stop(), 0)
        self.assertEqual(harness.processes_with(marker), 0, "instances stop with berthd")

    def test_datagram_refused(self):
        port, ok = harness.free_port(socket.AF_INET, socket.SOCK_DGRAM), harness.free_port()
        d = self.units({
            "dg.socket": "[Socket]\nListenDatagram=127.0.0.1:%d\nAccept=yes\n" % port,
            "dg@.service": "[Service]\nExecStart=/bin/true\n",
            "ok.socket": "[Socket]\nListenStream=127.0.0.1:%d\nAccept=yes\n" % ok,
            "ok@.service": "[Service]\nExecStart=/bin/sh -c 'echo served'\n"
                           "StandardInput=socket\n",
        })
        b = self.berthd(d)
        b.wait_log(r"dg\.socket:2: Accept=yes needs stream or sequential packet sockets")
        c = client("127.0.0.1", ok)
        self.assertEqual(c.recv(64), b"served\n")
        c.close()
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
