"""Debian's own Accept=yes units, as shipped (issue 12 acceptance): micro-httpd (an HTTP server
started per connection, inetd style: StandardInput=socket, its output to the same socket) and
gophernicus (a gopher server, inetd style, run as its own user), each moved to a loopback test
port by a drop-in, serve 1,000 connections each with no failure."""
import concurrent.futures
import os
import shutil
import socket

import harness

SYSTEM = "/lib/systemd/system"
N = 1000
WORKERS = 8


def exchange(port, request, timeout=10.0):
    """One connection: send request, read until the server closes. Returns the reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        reply = b""
        for _ in range(256):  # bounded: 1 MiB is more than either server answers
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        return reply


class AcceptDebian(harness.TestCase):
    def shipped(self, package, units):
        paths = [os.path.join(SYSTEM, u) for u in units]
        if not all(os.path.exists(p) for p in paths):
            if harness.is_root():
                self.fail("%s is not installed: ./dev.sh test installs it" % package)
            self.skipTest("%s is not installed (Debian package %s)" % (units[0], package))
        return paths

    def serve(self, port, request, ok):
        """N connections, WORKERS at a time; returns the replies that ok() refuses."""
        bad = []
        with concurrent.futures.ThreadPoolExecutor(WORKERS) as pool:
            futures = [pool.submit(exchange, port, request) for _ in range(N)]
            for f in futures:
                try:
                    reply = f.result(timeout=120)
                except Exception as e:  # noqa: BLE001 -- a failure to count, whatever it is
                    bad.append(repr(e))
                    continue
                if not ok(reply):
                    bad.append(reply[:200])
        return bad

    def test_shipped_units(self):
        d = self.units({})
        mh = self.shipped("micro-httpd", ["micro-httpd.socket", "micro-httpd@.service"])
        go = self.shipped("gophernicus", ["gophernicus.socket", "gophernicus@.service"])
        for p in mh + go:
            shutil.copy(p, d)
        ports = {"micro-httpd": harness.free_port(), "gophernicus": harness.free_port()}
        for name, port in ports.items():
            os.makedirs(os.path.join(d, name + ".socket.d"))
            with open(os.path.join(d, name + ".socket.d", "port.conf"), "w") as f:
                f.write("[Socket]\nListenStream=\nListenStream=127.0.0.1:%d\n" % port)
        b = self.berthd(d)

        bad = self.serve(ports["micro-httpd"], b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n",
                         lambda r: r.startswith(b"HTTP/1.0 200 ") and r.endswith(b"</html>\n"))
        self.assertEqual(bad, [], "micro-httpd: %d of %d failed" % (len(bad), N))
        bad = self.serve(ports["gophernicus"], b"\r\n", lambda r: r.endswith(b".\r\n"))
        self.assertEqual(bad, [], "gophernicus: %d of %d failed" % (len(bad), N))
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
