"""The LISTEN_FDS handoff (SPEC §4): a socket-activated service started by the first connection
gets exactly fds 0, 1, 2 and its sockets packed at 3.. in unit order, with FD_CLOEXEC cleared,
O_NONBLOCK cleared unless NonBlocking=yes, LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES that libsystemd
accepts, an empty signal mask, default dispositions and its own process group. berth-probe
reports what it was handed; the same probe under systemd-socket-activate is the reference for
everything both support."""
import os
import shutil
import socket
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

from probe_report import Ssa, probe_path, wait_report  # noqa: E402


def http_get(host, port, family):
    """A request on a fresh connection; returns the body (the probe answers
    "probe pid N fdname X")."""
    with harness.connect(host, port, family, timeout=10) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: probe\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    head, _, body = data.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.0 200 OK"), head
    return body.strip()


def passed(report):
    """The fds at 3 and above, as the probe saw them before libsystemd touched them."""
    return [f for f in report["fds"] if f["fd"] >= 3]


class Handoff(harness.TestCase):
    def start_berthd(self, **kw):
        """berthd, stopped with SIGTERM at cleanup even when the test fails, so it stops its
        services (the harness's close() kills berthd alone and would orphan them)."""
        b = self.berthd(**kw)
        self.addCleanup(b.stop)
        return b

    def setUp(self):
        super().setUp()
        self.probe = probe_path()
        if not self.probe:
            self.fail("berth-probe is not built: set BERTH_PROBE, or build tests/probe")
        self.out = tempfile.mkdtemp(prefix="berth-probe-")
        self.addCleanup(shutil.rmtree, self.out, True)

    def probe_service(self, name, extra=""):
        """A probe service unit that reports to OUT/NAME.json and serves its sockets."""
        report = os.path.join(self.out, name + ".json")
        return (f"[Service]\nExecStart={self.probe} --as {name}\n"
                f"Environment=PROBE_OUT={report} PROBE_SERVE=1\n{extra}"), report

    def assert_common_handoff(self, r, expected, names, nonblock, berthd_pid):
        """What every berthd handoff must look like. expected: [(family, type, address)] in
        the order the fds must arrive."""
        n = len(expected)
        self.assertEqual([f["fd"] for f in r["fds"]], list(range(3 + n)),
                         "the child must get exactly 0, 1, 2 and its %d sockets" % n)
        self.assertEqual(r["LISTEN_PID"], str(r["pid"]))
        self.assertEqual(r["LISTEN_FDS"], str(n))
        self.assertEqual(r["LISTEN_FDNAMES"], ":".join(names))
        self.assertEqual(r["sd_listen_fds"]["return"], n, r["sd_listen_fds"])
        self.assertEqual(r["sd_listen_fds"]["names"], names)
        got = [(f["socket"]["family"], f["socket"]["type"], f["socket"]["address"])
               for f in passed(r) if f["socket"]]
        self.assertEqual(got, expected, "sockets must arrive in unit order, then listen order")
        for f in passed(r):
            self.assertFalse(f["cloexec"], "fd %d: FD_CLOEXEC must be cleared" % f["fd"])
            self.assertEqual(f["nonblock"], nonblock,
                             "fd %d: O_NONBLOCK must be %s" % (f["fd"], "set" if nonblock
                                                                else "cleared"))
            if f["socket"]["type"] == "SOCK_STREAM":
                self.assertTrue(f["socket"]["listening"], "fd %d must be listening" % f["fd"])
        for f in r["fds"][:3]:
            self.assertFalse(f["socket"] and f["socket"]["listening"],
                             "fd %d: stdio must not be a listening socket" % f["fd"])
            self.assertFalse(f["cloexec"], "fd %d: stdio must survive exec" % f["fd"])
        self.assertEqual(r["signals"]["blocked"], [], "the signal mask must be empty")
        self.assertEqual(r["signals"]["dispositions"], {"SIGPIPE": "ignore"},
                         "every signal must have its default disposition but SIGPIPE, which "
                         "is ignored (IgnoreSIGPIPE=yes, systemd's default)")
        self.assertEqual(r["pgid"], r["pid"], "the service must lead its own process group")
        self.assertEqual(r["ppid"], berthd_pid, "the service must be berthd's child")

    def test_layout_names_flags(self):
        p = harness.free_port()
        q = harness.free_port(socktype=socket.SOCK_DGRAM)
        svc, report = self.probe_service("probe")
        self.units({
            "web.socket": f"""
                [Socket]
                ListenStream=127.0.0.1:{p}
                ListenStream=[::1]:{p}
                FileDescriptorName=web
                Service=probe.service
                """,
            # NonBlocking= is a [Service] key in systemd; berth also takes it here. It applies
            # to every fd the service gets, as in systemd.
            "extra.socket": f"""
                [Socket]
                Service=probe.service
                ListenDatagram=127.0.0.1:{q}
                NonBlocking=yes
                """,
            "probe.service": svc,
        })
        b = self.start_berthd()
        self.assertFalse(os.path.exists(report), "the probe must not start before a client")
        # the connection that starts the service is the first one it answers
        trigger = harness.connect("127.0.0.1", p)
        self.addCleanup(trigger.close)
        r = wait_report(report, alive=lambda: b.proc.poll() is None, describe=b.log)

        # unit order: extra.socket sorts before web.socket
        self.assert_common_handoff(
            r,
            [("AF_INET", "SOCK_DGRAM", f"127.0.0.1:{q}"),
             ("AF_INET", "SOCK_STREAM", f"127.0.0.1:{p}"),
             ("AF_INET6", "SOCK_STREAM", f"[::1]:{p}")],
            ["extra.socket", "web", "web"], nonblock=True, berthd_pid=b.proc.pid)
        self.assertEqual(r["argv"][1:], ["--as", "probe"])
        self.assertEqual(r["environ"].get("PROBE_SERVE"), "1")

        # and the service really serves those sockets, the trigger connection first
        trigger.sendall(b"GET / HTTP/1.0\r\n\r\n")
        trigger.settimeout(10)
        self.assertIn(f"probe pid {r['pid']} fdname web", trigger.recv(4096).decode())
        self.assertEqual(http_get("::1", p, socket.AF_INET6), f"probe pid {r['pid']} fdname web")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.settimeout(10)
            u.sendto(b"ping", ("127.0.0.1", q))
            self.assertEqual(u.recv(256).decode().strip(), f"probe pid {r['pid']} fdname extra.socket")
        self.assertEqual(b.stop(), 0)

    def test_blocking_unless_nonblocking(self):
        p1, p2 = harness.free_port(), harness.free_port()
        plain, plain_report = self.probe_service("plain")
        nb, nb_report = self.probe_service("nb", "NonBlocking=yes\n")
        self.units({
            "plain.socket": f"[Socket]\nListenStream=127.0.0.1:{p1}\n",
            "plain.service": plain,
            "nb.socket": f"[Socket]\nListenStream=[::1]:{p2}\n",
            "nb.service": nb,
        })
        b = self.start_berthd()
        harness.connect("127.0.0.1", p1).close()
        harness.connect("::1", p2, socket.AF_INET6).close()
        r = wait_report(plain_report, alive=lambda: b.proc.poll() is None, describe=b.log)
        self.assert_common_handoff(r, [("AF_INET", "SOCK_STREAM", f"127.0.0.1:{p1}")],
                                   ["plain.socket"], nonblock=False, berthd_pid=b.proc.pid)
        r = wait_report(nb_report, alive=lambda: b.proc.poll() is None, describe=b.log)
        self.assert_common_handoff(r, [("AF_INET6", "SOCK_STREAM", f"[::1]:{p2}")],
                                   ["nb.socket"], nonblock=True, berthd_pid=b.proc.pid)
        self.assertEqual(b.stop(), 0)

    def run_under_ssa(self, port, report):
        """The reference: the same probe under systemd-socket-activate, started by a client."""
        if not Ssa.available():
            self.skipTest("systemd-socket-activate is not installed (Debian: systemd)")
        ssa = Ssa([self.probe, "--as", "ssa"], [f"127.0.0.1:{port}", f"[::1]:{port}"],
                  setenv=[f"PROBE_OUT={report}", "PROBE_SERVE=1"], fdnames=["web", "web"])
        self.addCleanup(ssa.stop)
        ssa.connect_once(port)
        r = wait_report(report, alive=ssa.alive, describe=ssa.describe)
        self.assertEqual(http_get("::1", port, socket.AF_INET6),
                         f"probe pid {r['pid']} fdname web")
        ssa.stop()
        return r

    def test_agrees_with_systemd_socket_activate(self):
        """berthd and systemd-socket-activate, handed the same sockets, must hand them on
        the same way, for every field both of them define."""
        p, p2 = harness.free_port(), harness.free_port()
        svc, report = self.probe_service("probe")
        self.units({
            "web.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\nListenStream=[::1]:{p}\n"
                          "FileDescriptorName=web\nService=probe.service\n",
            "probe.service": svc,
        })
        ref = self.run_under_ssa(p2, os.path.join(self.out, "ssa.json"))

        b = self.start_berthd()
        harness.connect("127.0.0.1", p).close()
        got = wait_report(report, alive=lambda: b.proc.poll() is None, describe=b.log)
        self.assertEqual(http_get("127.0.0.1", p, socket.AF_INET),
                         f"probe pid {got['pid']} fdname web")
        self.assertEqual(b.stop(), 0)

        def shape(r, port):
            fds = [dict(fd=f["fd"], cloexec=f["cloexec"], nonblock=f["nonblock"],
                        socket=f["socket"] and dict(f["socket"], address=f["socket"]["address"]
                                                    .replace(":%d" % port, ":PORT")))
                   for f in passed(r)]
            return dict(
                fd_numbers=[f["fd"] for f in r["fds"]],
                passed=fds,
                listen_pid_is_pid=r["LISTEN_PID"] == str(r["pid"]),
                listen_fds=r["LISTEN_FDS"],
                listen_fdnames=r["LISTEN_FDNAMES"],
                sd_listen_fds=r["sd_listen_fds"],
                # Not compared: the signal state. systemd-socket-activate passes on what it
                # inherited (under nohup, SIGHUP ignored); berth resets it, by contract, and
                # assert_common_handoff() checks that below.
            )
        self.maxDiff = None
        self.assertEqual(shape(got, p), shape(ref, p2))
        self.assert_common_handoff(got, [("AF_INET", "SOCK_STREAM", f"127.0.0.1:{p}"),
                                         ("AF_INET6", "SOCK_STREAM", f"[::1]:{p}")],
                                   ["web", "web"], nonblock=False, berthd_pid=b.proc.pid)


if __name__ == "__main__":
    harness.main()
