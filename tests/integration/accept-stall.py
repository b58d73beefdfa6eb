"""A running service that leaves a connection in its accept queue past AcceptStallSec= (it is
stuck, or does not accept on that socket) is told in the log, and shown in list-sockets
(not-accepting) and in the socket unit's status (stalled); once the queue is served or empty
it is said again. berthd wakes once for the first waiting connection, not per connection."""
import json
import socket

import harness


class AcceptStall(harness.TestCase):
    def test_a_service_that_never_accepts(self):
        p, q = harness.free_port(), harness.free_port()
        # sleep never accepts; the other service is a control that does.
        self.units({
            "stuck.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\nAcceptStallSec=1\n",
            "stuck.service": "[Service]\nExecStart=/bin/sh -c 'echo up; exec sleep 600'\n",
            "idle.socket": f"[Socket]\nListenStream=127.0.0.1:{q}\nAcceptStallSec=1\n",
            "idle.service": "[Service]\nExecStart=/bin/sh -c 'echo up; exec sleep 600'\n"
                            "[Install]\nWantedBy=multi-user.target\n",
        })
        b = self.berthd()
        c = harness.connect("127.0.0.1", p)  # starts stuck.service, which never accepts
        self.addCleanup(c.close)
        b.wait_log(r"stuck\.service\[\d+\]: up")
        b.wait_log(r"idle\.service\[\d+\]: up")
        b.wait_log(r"stuck\.socket: a connection to 127\.0\.0\.1:%d has waited 1s and its "
                   r"service has not accepted it" % p)

        rows = {r["unit"]: r for r in json.loads(self.berthctl(b, "--json", "list-sockets")
                                                    .stdout)}
        self.assertEqual(rows["stuck.socket"]["service_state"], "not-accepting")
        self.assertGreaterEqual(rows["stuck.socket"]["queued"], 1)
        self.assertEqual(rows["idle.socket"]["service_state"], "running")
        st = json.loads(self.berthctl(b, "--json", "status", "stuck.socket").stdout)[0]
        self.assertEqual(st["state"], "stalled")
        # A running service with an empty queue is never told.
        self.assertEqual(b.count_log(r"idle\.socket: a connection"), 0)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
