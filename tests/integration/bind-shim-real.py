"""BindShim=yes with real programs from Debian (issue 15's acceptance): nginx (nginx-light),
redis-server, memcached and `python3 -m http.server`, each unmodified, binding its own
127.0.0.1:P under berth in a private network namespace. For each: the first request is
answered through berth's socket, the only listening TCP socket on P in the namespace being
the one berthd holds (the program's own bind() was redirected); then 10 `berthctl restart`
while 4 closed-loop clients (a new connection per request, inside the namespace) run: no
request refused or timed out, and at most one reset per restart (the connection the stopped
process held), none for nginx, which drains on KillSignal=SIGQUIT. redis starts on demand: no
redis-server process exists before the first connection, which is answered."""
import json
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

RESTARTS = 10
CLIENTS = 4

# Runs inside the namespace (nsenter). "once": one request, prints the reply. "load": CLIENTS
# closed-loop threads until stdin says "stop" (or CLIENT_LIMIT seconds pass); "count" on
# stdin prints the ok count so far; at the end one JSON line of counts.
CLIENT = r'''
import json, socket, sys, threading, time
kind, port = sys.argv[1], int(sys.argv[2])
REQ = {"http": b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n", "redis": b"PING\r\n",
       "memcached": b"version\r\n"}[kind]
def complete(data):
    # redis and memcached answer one line; an HTTP/1.0 reply ends at EOF.
    return kind != "http" and data.endswith(b"\r\n")
def good(data):
    if kind == "redis":
        return data == b"+PONG\r\n"
    if kind == "memcached":
        return data.startswith(b"VERSION ")
    return data.startswith(b"HTTP/1.") and data.split(b" ", 2)[1] == b"200"
def one(timeout=10.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(REQ)
        data = b""
        while len(data) < 1 << 20 and not complete(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data
    finally:
        s.close()
if sys.argv[3] == "once":
    sys.stdout.write(repr(one()))
    sys.exit(0)
counts = {"ok": 0, "refused": 0, "timeout": 0, "reset": 0, "other": 0}
errors = []
lock = threading.Lock()
stop = threading.Event()
def client():
    while not stop.is_set():
        start = time.monotonic()
        try:
            data = one()
            k = "ok" if good(data) else "reset"  # EOF before a whole reply: a held one
            if k != "ok":
                e = "unanswered: %r" % data[:60]
        except ConnectionRefusedError as ex:
            k, e = "refused", repr(ex)
        except socket.timeout as ex:
            k, e = "timeout", repr(ex)
        except (ConnectionResetError, BrokenPipeError) as ex:
            k, e = "reset", repr(ex)
        except OSError as ex:
            k, e = "other", repr(ex)
        with lock:
            counts[k] += 1
            if k != "ok":
                errors.append((k, start, time.monotonic(), e))
threads = [threading.Thread(target=client) for _ in range(int(sys.argv[4]))]
for t in threads:
    t.start()
deadline = time.monotonic() + float(sys.argv[5])
for line in sys.stdin:
    if line.strip() == "count":
        with lock:
            print(counts["ok"], flush=True)
    else:
        break
stop.set()
for t in threads:
    t.join(30)
counts["errors"] = errors
counts["alive"] = sum(t.is_alive() for t in threads)
print(json.dumps(counts), flush=True)
'''

NGINX_CONF = """
pid %(dir)s/nginx.pid;
user root;
worker_processes 2;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %(dir)s/body;
    proxy_temp_path %(dir)s/proxy;
    fastcgi_temp_path %(dir)s/fastcgi;
    uwsgi_temp_path %(dir)s/uwsgi;
    scgi_temp_path %(dir)s/scgi;
    server {
        listen 127.0.0.1:%(port)d;
        location / { return 200 "ok\\n"; }
    }
}
"""


def in_netns(pid, comm):
    """The live processes named comm in pid's network namespace."""
    ns = os.readlink("/proc/%d/ns/net" % pid)
    found = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % p) as f:
                name = f.read().strip()
            if name != comm or os.readlink("/proc/%s/ns/net" % p) != ns:
                continue
            if harness.pid_alive(int(p)):
                found.append(int(p))
        except OSError:
            continue
    return found


class BindShimReal(harness.TestCase):
    def setUp(self):
        super().setUp()
        if not harness.is_root():
            self.skipTest("needs root: a network namespace of its own for each program")
        if not shutil.which("nsenter") or not shutil.which("unshare"):
            self.skipTest("nsenter and unshare (util-linux) are needed")
        self.client = os.path.join(self.dir, "client.py")
        with open(self.client, "w") as f:
            f.write(CLIENT)

    def need(self, path, package):
        if not os.access(path, os.X_OK):
            self.skipTest("%s is not installed (Debian package %s)" % (path, package))

    def nsclient(self, b, kind, port, *args):
        return ["nsenter", "-t", str(b.proc.pid), "-n", sys.executable, self.client, kind,
                str(port), *args]

    def once(self, b, kind, port):
        p = subprocess.run(self.nsclient(b, kind, port, "once"), capture_output=True,
                           text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def run_program(self, name, kind, port, exec_start, service_extra="", on_demand=None):
        """berthd in a netns of its own with name.socket on 127.0.0.1:port and name.service
        (BindShim=yes); checks the first answer, the listening socket and the restarts under
        load. Returns the load's counts."""
        d = self.units({
            name + ".socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            name + ".service": "[Service]\nType=simple\nBindShim=yes\nWorkingDirectory=%s\n"
                               "%sExecStart=%s\n" % (self.dir, service_extra, exec_start),
        }, subdir="units-" + name)
        b = self.berthd_in_netns(d)
        b.wait_log(r"%s\.socket: listening on 127\.0\.0\.1:%d" % (name, port))
        if on_demand:
            self.assertEqual(in_netns(b.proc.pid, on_demand), [],
                             "%s runs before the first connection" % on_demand)
            self.assertEqual(b.count_log(r"%s\.service: dead -> " % name), 0)
        reply = self.once(b, kind, port)
        expect = {"http": "b'HTTP/1.", "redis": "b'+PONG\\r\\n'",
                  "memcached": "b'VERSION "}[kind]
        self.assertTrue(reply.startswith(expect), reply)
        if kind == "http":
            self.assertIn(" 200 ", reply)
        if on_demand:
            self.assertEqual(len(in_netns(b.proc.pid, on_demand)), 1)
        self.assertEqual(b.count_log(r"%s\.service: dead -> (start|running)" % name), 1)
        # Only berth's socket listens on the port, and the program's bind() was redirected
        # (the log would name an address berth does not hold otherwise).
        inodes = harness.listening_tcp_inodes(port, b.proc.pid)
        self.assertEqual(len(inodes), 1, "port %d: %r" % (port, inodes))
        self.assertIn(inodes[0], harness.socket_inodes(b.proc.pid), "not berthd's socket")
        self.assertEqual(b.count_log(r"which berth does not hold"), 0)

        load = subprocess.Popen(self.nsclient(b, kind, port, "load", str(CLIENTS), "150"),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(harness.end_process, load)

        def ok_count():
            load.stdin.write("count\n")
            load.stdin.flush()
            return int(load.stdout.readline())

        harness.wait_for(lambda: ok_count() > 0, what="%s: a reply under load" % name)
        windows = []  # CLOCK_MONOTONIC is the same in the client's process
        for i in range(RESTARTS):
            t0 = time.monotonic()
            r = self.berthctl(b, "restart", name + ".service")
            windows.append((t0, time.monotonic()))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            before = ok_count()
            # The new process serves before the next restart.
            harness.wait_for(lambda: ok_count() > before, interval=0.05,
                             what="%s: a reply after restart %d" % (name, i + 1))
        load.stdin.write("stop\n")
        load.stdin.flush()
        out, _ = load.communicate(timeout=60)
        res = json.loads(out.strip().splitlines()[-1])
        # A reset is a connection the stopped process held: it began before a restart had
        # ended and failed after it began. Each client has one connection at a time, so a
        # restart costs at most CLIENTS of them (redis and memcached accept every pending
        # connection at once, http.server serves each in a thread of its own).
        per_restart = [0] * RESTARTS
        for kind_, start, end, e in res["errors"]:
            if kind_ != "reset":
                continue
            held = [i for i, (t0, t1) in enumerate(windows) if start < t1 and end > t0]
            self.assertTrue(held, "a reset outside every restart: %r" % e)
            # The restart that cut it is the last one to begin before it failed: a
            # connection queued during one restart may be held until the next one.
            per_restart[held[-1]] += 1
        print("%s: ok %d refused %d timeout %d reset %d (per restart %s) other %d; %s" % (
            name, res["ok"], res["refused"], res["timeout"], res["reset"], per_restart,
            res["other"], [e for e in res["errors"] if e[0] != "reset"]), file=sys.stderr)
        self.assertLessEqual(max(per_restart), CLIENTS, per_restart)
        self.assertEqual(res["alive"], 0, res)
        inodes = harness.listening_tcp_inodes(port, b.proc.pid)
        self.assertEqual(len(inodes), 1, "port %d after the restarts: %r" % (port, inodes))
        self.assertIn(inodes[0], harness.socket_inodes(b.proc.pid))
        self.assertEqual(b.count_log(r"which berth does not hold"), 0)
        self.assertEqual(b.stop(), 0)
        self.assertGreater(res["ok"], RESTARTS, res)
        self.assertEqual(res["refused"], 0, res)
        self.assertEqual(res["timeout"], 0, res)
        self.assertEqual(res["other"], 0, res)
        return res

    def test_nginx(self):
        self.need("/usr/sbin/nginx", "nginx-light")
        port = harness.free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"dir": self.dir, "port": port})
        res = self.run_program(
            "nginx", "http", port,
            "/usr/sbin/nginx -p %s -c %s -g 'daemon off; master_process on; error_log stderr;'"
            % (self.dir, conf), service_extra="KillSignal=SIGQUIT\n")
        # It drains on SIGQUIT: not one connection lost.
        self.assertEqual(res["reset"], 0, res)

    def test_redis(self):
        self.need("/usr/bin/redis-server", "redis-server")
        port = harness.free_port()
        self.run_program(
            "redis", "redis", port,
            "/usr/bin/redis-server --port %d --bind 127.0.0.1 --save '' --appendonly no "
            "--daemonize no" % port, on_demand="redis-server")

    def test_memcached(self):
        self.need("/usr/bin/memcached", "memcached")
        port = harness.free_port()
        # -u: memcached refuses to run as root without it; it binds first, then drops to it.
        self.run_program("memcached", "memcached", port,
                               "/usr/bin/memcached -l 127.0.0.1 -p %d -U 0 -u nobody" % port)

    def test_http_server(self):
        port = harness.free_port()
        self.run_program("httpserver", "http", port,
                               "%s -m http.server --bind 127.0.0.1 %d" % (sys.executable, port))


if __name__ == "__main__":
    harness.main()
