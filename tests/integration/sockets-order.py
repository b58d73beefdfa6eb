"""The order of a service's sockets in LISTEN_FDS (issue 11, item 15c). systemd 252 collects
them over the service's TriggeredBy= dependencies (service_collect_fds() in
src/core/service.c), a hashmap: across socket units its order is not defined; within one, the
sockets come in the order of its Listen lines (socket_collect_fds() in src/core/socket.c).
berth's order is the one berth.service(5) documents: the socket units that name the service
(by name or Service=), in the order of their names, then those of Sockets= in its order, each
in the order of its Listen lines; a socket unit named twice counts once, at its first place."""
import json
import os

import harness


class SocketsOrder(harness.TestCase):
    def test_order(self):
        probe = self.executable("BERTH_PROBE")
        out = os.path.join(self.dir, "probe.json")
        ports = {name: harness.free_port() for name in ("a1", "a2", "b", "z", "c")}
        self.units({
            # named by its name; two Listen lines, the higher port first
            "app.socket": "[Socket]\nListenStream=127.0.0.1:%d\nListenStream=127.0.0.1:%d\n"
                          % (ports["a2"], ports["a1"]),
            # names it with Service=
            "b-app.socket": "[Socket]\nListenStream=127.0.0.1:%d\nService=app.service\n"
                            % ports["b"],
            "c.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % ports["c"],
            "z.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % ports["z"],
            # (their own services, never started here)
            "c.service": "[Service]\nExecStart=/bin/true\n",
            "z.service": "[Service]\nExecStart=/bin/true\n",
            # Sockets= not in name order, and b-app.socket again
            "app.service": "[Service]\nExecStart=%s\nEnvironment=PROBE_OUT=%s\n"
                           "Sockets=z.socket b-app.socket c.socket\n" % (probe, out),
        })
        b = self.berthd()
        s = harness.connect("127.0.0.1", ports["b"])
        self.addCleanup(s.close)
        harness.wait_for(lambda: os.path.exists(out), what="the probe's report")
        with open(out) as f:
            report = json.load(f)
        got = [fd["socket"]["address"] for fd in report["fds"]
               if fd["fd"] >= 3 and fd["socket"]]
        want = ["127.0.0.1:%d" % ports[n] for n in ("a2", "a1", "b", "z", "c")]
        self.assertEqual(got, want, report["fds"])
        self.assertEqual(report["LISTEN_FDS"], "5")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
