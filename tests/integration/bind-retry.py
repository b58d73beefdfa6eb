"""A bind that failed because the port was held is tried again, 1 s after, doubling up to 30 s
(as after berthd was killed while its orphans still held the ports): berthd says so, lists the
socket as retrying in list-sockets and status, binds it once the holder is gone, logs its line,
and serves on it. Another unit runs all along."""
import json
import socket

import harness


class BindRetry(harness.TestCase):
    def test_bound_once_the_holder_goes(self):
        held, ok = harness.free_port(), harness.free_port()
        holder = socket.socket()
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", held))
        holder.listen()
        self.addCleanup(holder.close)
        svc = "[Service]\nExecStart=/bin/sh -c 'echo started; exec sleep 600'\n"
        self.units({"busy.socket": f"[Socket]\nListenStream=127.0.0.1:{held}\n",
                    "busy.service": svc,
                    "ok.socket": f"[Socket]\nListenStream=127.0.0.1:{ok}\n",
                    "ok.service": svc})
        b = self.berthd()
        b.wait_log(r"busy\.socket: .*127\.0\.0\.1:%d.*in use.*trying again in 1s" % held)
        b.wait_log(r"busy\.socket: .*in use.*trying again in 2s")  # a second try failed

        p = self.berthctl(b, "--json", "list-sockets")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {r["unit"]: r for r in json.loads(p.stdout)}
        self.assertEqual(rows["busy.socket"]["reach"], "retrying")
        self.assertEqual(rows["busy.socket"]["address"], "127.0.0.1:%d" % held)
        self.assertNotEqual(rows["ok.socket"]["reach"], "retrying")
        st = json.loads(self.berthctl(b, "--json", "status", "busy.socket").stdout)[0]
        self.assertEqual(st["state"], "retrying")
        self.assertIn("in use", st["status_text"])

        holder.close()
        b.wait_log(r"busy\.socket: listening on 127\.0\.0\.1:%d .*\(bound at try \d+\)"
                   % held, timeout=40)
        harness.connect("127.0.0.1", held).close()
        b.wait_log(r"busy\.service\[\d+\]: started")
        st = json.loads(self.berthctl(b, "--json", "status", "busy.socket").stdout)[0]
        self.assertEqual(st["state"], "listening")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
