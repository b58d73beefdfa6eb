"""Self-test for bench/loadgen: every outcome class against a server that produces it, on
loopback only. LOADGEN names the binary. Servers are started here and waited for by the line
they print (never a sleep); loadgen's --json line is the result under test."""

import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LOADGEN = os.environ.get("LOADGEN", "")
PYTHON = sys.executable or "/usr/bin/python3"
WAIT = 10.0

JSON_KEYS = {"ok", "refused", "reset", "timeout", "short", "other", "total", "p50_ms", "p99_ms",
             "max_ms", "longest_gap_ms", "longest_gap_end_monotonic_s", "duration_s",
             "rps"}
OUTCOMES = ("ok", "refused", "reset", "timeout", "short", "other")

# A tiny server with one misbehaviour per mode. It binds port 0 on the given loopback address
# and prints "ready PORT" once it listens.
#   close: reads the request, closes without a reply       -> short
#   error: reads the request, replies 500                   -> short (or ok with --expect)
#   hang:  accepts and never replies nor closes             -> timeout
#   split: "200 OK" arrives in two writes 20 ms apart       -> ok
#   greet: writes a line at once, reads until EOF, prints "got N" (bytes it was sent), closes
#          (an inetd-style service)                         -> ok with --no-request
TINY_SERVER = r'''
import os, socket, sys, threading, time
mode, host = sys.argv[1], sys.argv[2]
ls = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
ls.bind((host, 0))
ls.listen(128)
print("ready", ls.getsockname()[1], flush=True)
held = []

def greet(c):
    c.sendall(b"hello from greet\n")
    c.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        chunk = c.recv(4096)
        if not chunk:
            break
        got += len(chunk)
    os.write(1, b"got %d\n" % got)  # one write: the threads' lines must not interleave

def serve(c):
    try:
        if mode == "greet":
            return greet(c)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        if mode == "error":
            c.sendall(b"HTTP/1.0 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
        elif mode == "split":
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            c.sendall(b"HTTP/1.0 200 ")
            time.sleep(0.02)
            c.sendall(b"OK\r\nContent-Type: text/plain\r\n\r\nhello\n")
    except OSError:
        pass
    c.close()

while True:
    c, _ = ls.accept()
    if mode == "hang":
        held.append(c)
    else:
        threading.Thread(target=serve, args=(c,), daemon=True).start()
'''


class Lines:
    """Reads lines from a pipe with a deadline, without blocking past it."""

    def __init__(self, stream):
        self.fd = stream.fileno()
        self.buf = b""

    def wait(self, predicate, timeout=WAIT, count=1):
        """Returns the count-th line for which predicate is true; fails after timeout."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                text = line.decode(errors="replace")
                if predicate(text):
                    seen += 1
                    if seen >= count:
                        return text
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("expected line not seen within %.0fs" % timeout)
            r, _, _ = select.select([self.fd], [], [], remaining)
            if r:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    raise AssertionError("pipe closed before the expected line")
                self.buf += chunk


def ipv6_loopback_works():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class LoadgenSelftest(unittest.TestCase):
    def setUp(self):
        if not LOADGEN or not os.access(LOADGEN, os.X_OK):
            self.fail("LOADGEN is not set to an executable loadgen")

    def spawn(self, args, **kw):
        p = subprocess.Popen(args, stdin=subprocess.DEVNULL, **kw)

        def stop():
            if p.poll() is None:
                p.kill()
            p.wait()
            for s in (p.stdout, p.stderr):
                if s:
                    s.close()
        self.addCleanup(stop)
        return p

    def http_server(self, host="127.0.0.1"):
        """python3 -m http.server on a free port; returns (process, port, stderr Lines)."""
        port = harness.free_port()
        www = tempfile.mkdtemp(prefix="loadgen-www-")
        self.addCleanup(os.rmdir, www)
        p = self.spawn([PYTHON, "-u", "-m", "http.server", "--bind", host, "--directory", www,
                        str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        Lines(p.stdout).wait(lambda line: line.startswith("Serving HTTP"))
        return p, port, Lines(p.stderr)

    def tiny_server(self, mode, host="127.0.0.1", ret_lines=False):
        p = self.spawn([PYTHON, "-c", TINY_SERVER, mode, host], stdout=subprocess.PIPE)
        lines = Lines(p.stdout)
        port = int(lines.wait(lambda text: text.startswith("ready ")).split()[1])
        return (port, lines) if ret_lines else port

    def loadgen(self, *args, timeout=30):
        """Runs loadgen --json; returns (exit code, parsed result, stderr)."""
        r = subprocess.run([LOADGEN, *args, "--json"], capture_output=True, text=True,
                           timeout=timeout)
        sys.stderr.write(r.stderr)
        return r.returncode, self.parse(r.stdout), r.stderr

    def parse(self, stdout):
        lines = stdout.splitlines()
        self.assertEqual(len(lines), 1, "stdout should be one JSON line: %r" % stdout)
        res = json.loads(lines[0])
        self.assertEqual(set(res), JSON_KEYS)
        self.assertEqual(res["total"], sum(res[k] for k in OUTCOMES))
        return res

    def assertOnly(self, res, outcome, n=None):
        """Every attempt had this outcome (n of them, if given)."""
        self.assertGreater(res[outcome], 0, res)
        self.assertEqual(res[outcome], res["total"], res)
        if n is not None:
            self.assertEqual(res["total"], n, res)

    def test_http_server_all_ok(self):
        _, port, _ = self.http_server()
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--concurrency", "4",
                                  "--requests", "200", "--duration", "15")
        self.assertEqual(rc, 0, res)
        self.assertOnly(res, "ok", 200)
        self.assertLessEqual(0, res["p50_ms"])
        self.assertLessEqual(res["p50_ms"], res["p99_ms"])
        self.assertLessEqual(res["p99_ms"], res["max_ms"])
        self.assertGreater(res["longest_gap_ms"], 0)
        self.assertLess(res["longest_gap_ms"], res["duration_s"] * 1000 + 1)
        self.assertGreater(res["rps"], 0)

    def test_http_server_ipv6_and_localhost(self):
        if not ipv6_loopback_works():
            self.skipTest("no IPv6 loopback")
        _, port, _ = self.http_server("::1")
        for target in ("[::1]:%d" % port, "::1:%d" % port):
            rc, res, _ = self.loadgen("--connect", target, "--requests", "20")
            self.assertEqual(rc, 0, res)
            self.assertOnly(res, "ok", 20)
        # localhost is 127.0.0.1, where nothing listens on this port
        rc, res, _ = self.loadgen("--connect", "localhost:%d" % port, "--requests", "5")
        self.assertEqual(rc, 1)
        self.assertOnly(res, "refused", 5)

    def test_kill_server_mid_run_counts_refused(self):
        server, port, log = self.http_server()
        lg = self.spawn([LOADGEN, "--connect", "127.0.0.1:%d" % port, "--duration", "2",
                         "--timeout", "1", "--json"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The server logs each request; once 20 were served, kill it under load.
        log.wait(lambda line: '"GET / HTTP/1.0"' in line, count=20)
        server.send_signal(signal.SIGKILL)
        server.wait()
        out, err = lg.communicate(timeout=15)
        sys.stderr.write(err)
        res = self.parse(out)
        self.assertEqual(lg.returncode, 1, res)
        self.assertGreater(res["ok"], 0, res)
        self.assertGreater(res["refused"], 0, res)
        self.assertEqual(res["timeout"], 0, res)
        self.assertEqual(res["other"], 0, res)

    def test_closed_port_is_refused(self):
        port = harness.free_port()
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--duration", "0.2")
        self.assertEqual(rc, 1)
        self.assertOnly(res, "refused")
        self.assertIsNone(res["p50_ms"])
        self.assertGreaterEqual(res["longest_gap_ms"], 200)

    def test_accept_and_close_is_short(self):
        port = self.tiny_server("close")
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--requests", "20")
        self.assertEqual(rc, 1)
        self.assertOnly(res, "short", 20)

    def test_unexpected_reply_is_short_unless_expected(self):
        port = self.tiny_server("error")
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--requests", "20")
        self.assertEqual(rc, 1)
        self.assertOnly(res, "short", 20)
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--requests", "20",
                                  "--expect", "500 Internal")
        self.assertEqual(rc, 0, res)
        self.assertOnly(res, "ok", 20)

    def test_expected_string_split_across_reads(self):
        port = self.tiny_server("split")
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--requests", "8",
                                  "--concurrency", "2")
        self.assertEqual(rc, 0, res)
        self.assertOnly(res, "ok", 8)
        self.assertGreaterEqual(res["p50_ms"], 15)

    def test_gaps_over_lists_every_long_gap(self):
        # One worker, each reply takes at least 20 ms: every gap between two oks (and the one
        # from the start to the first) is listed, in order, and the longest is among them.
        port = self.tiny_server("split")
        r = subprocess.run([LOADGEN, "--connect", "127.0.0.1:%d" % port, "--requests", "5",
                            "--concurrency", "1", "--json", "--gaps-over-ms", "10"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        res = json.loads(r.stdout)
        self.assertEqual(set(res), JSON_KEYS | {"gaps"})
        self.assertEqual(len(res["gaps"]), 5, res)
        ends = [end for end, _ in res["gaps"]]
        self.assertEqual(ends, sorted(ends))
        self.assertTrue(all(ms >= 10 for _, ms in res["gaps"]), res)
        self.assertIn(res["longest_gap_end_monotonic_s"], ends)
        self.assertEqual(max(ms for _, ms in res["gaps"]), res["longest_gap_ms"])

    def test_no_request_reads_what_the_server_says(self):
        port, lines = self.tiny_server("greet", ret_lines=True)
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--requests", "20",
                                  "--concurrency", "4", "--no-request", "--expect",
                                  "hello from greet")
        self.assertEqual(rc, 0, res)
        self.assertOnly(res, "ok", 20)
        # The server was sent nothing, on every connection.
        sizes = [lines.wait(lambda text: text.startswith("got ")) for _ in range(20)]
        self.assertEqual(sizes, ["got 0"] * 20)

    def test_send_replaces_the_request(self):
        port, lines = self.tiny_server("greet", ret_lines=True)
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--requests", "6",
                                  "--concurrency", "2", "--send", r"PING\r\n\x51UIT\r\n",
                                  "--expect", "hello from greet")
        self.assertEqual(rc, 0, res)
        self.assertOnly(res, "ok", 6)
        # "PING\r\nQUIT\r\n", the escapes decoded: 12 bytes on every connection.
        sizes = [lines.wait(lambda text: text.startswith("got ")) for _ in range(6)]
        self.assertEqual(sizes, ["got 12"] * 6)

    def test_never_replying_is_timeout(self):
        port = self.tiny_server("hang")
        rc, res, _ = self.loadgen("--connect", "127.0.0.1:%d" % port, "--concurrency", "2",
                                  "--duration", "0.5", "--timeout", "0.3")
        self.assertEqual(rc, 1)
        self.assertOnly(res, "timeout")
        # --duration is a hard limit, told by a count: each attempt lasts its whole 0.3 s
        # timeout, so each worker starts one at 0 s and another at 0.3 s at the most, never one
        # at 0.6 s. (How long the run took is no assertion: a loaded machine stretches it.)
        self.assertGreaterEqual(res["total"], 2, res)
        self.assertLessEqual(res["total"], 4, res)
        self.assertGreaterEqual(res["duration_s"], 0.5, res)

    def test_refuses_non_loopback_and_bad_usage(self):
        for target in ("192.0.2.1:80", "10.0.0.1:80", "0.0.0.0:80", "[2001:db8::1]:80",
                       "[::]:80", "::ffff:192.0.2.1:80"):
            r = subprocess.run([LOADGEN, "--connect", target, "--json"], capture_output=True,
                               text=True, timeout=10)
            self.assertEqual(r.returncode, 2, target)
            self.assertEqual(r.stdout, "", target)
            self.assertIn("non-loopback", r.stderr, target)
        for args in ([], ["--connect", "example.com:80"], ["--connect", "127.0.0.1"],
                     ["--connect", "127.0.0.1:70000"], ["--connect", "127.0.0.1:80", "-x"],
                     ["--connect", "127.0.0.1:80", "--duration", "0"],
                     ["--connect", "127.0.0.1:80", "--concurrency", "0"],
                     ["--connect", "127.0.0.1:80", "--path", "no-slash"],
                     ["--connect", "127.0.0.1:80", "--expect", ""],
                     ["--connect", "127.0.0.1:80", "--send", ""],
                     ["--connect", "127.0.0.1:80", "--send", r"a\q"],
                     ["--connect", "127.0.0.1:80", "--send", r"a\x4"],
                     ["--connect", "127.0.0.1:80", "--send", "a", "--no-request"],
                     ["--connect", "127.0.0.1:80", "--send", "a", "--path", "/x"],
                     ["--connect", "127.0.0.1:80", "--gaps-over-ms", "0"]):
            r = subprocess.run([LOADGEN, *args], capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, "", args)


if __name__ == "__main__":
    harness.main()
