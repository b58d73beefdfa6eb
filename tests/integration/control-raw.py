"""The control socket (SPEC §6, common/control-interface.h) against hostile and careless
clients: garbage, oversized and truncated input, clients that vanish mid-call or never read,
more clients than the cap, and fd exhaustion. After each, the interface still answers and
berthd has not crashed. Also: busctl can inspect it, and an unprivileged caller may query but
not act (and nothing changes when it tries).

A small raw D-Bus client is built in (no python3-dbus): the test runs itself as `nobody`
through runuser for the unprivileged checks."""
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

CLIENTS_MAX = 64     # BERTH_CONTROL_CLIENTS_MAX
PER_UID_MAX = 4      # CONTROL_CLIENTS_PER_UID_MAX in daemon/control-bus.h
AUTH_TIMEOUT = 10.0  # CONTROL_AUTH_TIMEOUT_USEC
IDLE_TIMEOUT = 20.0  # CONTROL_IDLE_TIMEOUT_USEC
# The interpreter for the clients run as nobody: meson's, not one under /root.
CHILD_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
METHODS = ["ListUnits", "GetUnit", "ListSockets", "StartUnit", "StopUnit", "RestartUnit",
           "ReloadUnit", "Reload", "GetUnitFiles", "GetLogs", "GetSocketFds"]


# ---- a raw D-Bus client: just enough marshalling for method calls with s, t, u arguments ----

class Writer:
    def __init__(self):
        self.b = bytearray()

    def align(self, n):
        self.b += b"\0" * ((-len(self.b)) % n)

    def byte(self, v):
        self.b.append(v)

    def u32(self, v):
        self.align(4)
        self.b += struct.pack("<I", v)

    def u64(self, v):
        self.align(8)
        self.b += struct.pack("<Q", v)

    def string(self, s):
        self.u32(len(s))
        self.b += s + b"\0"

    def signature(self, s):
        self.byte(len(s))
        self.b += s + b"\0"


def method_call(serial, member, sig=b"", args=(), path=b"/org/berth/Manager",
                interface=b"org.berth.Manager1", destination=None):
    body = Writer()
    for t, v in zip(sig.decode(), args):
        if t == "s":
            body.string(v.encode() if isinstance(v, str) else v)
        elif t == "t":
            body.u64(v)
        elif t == "u":
            body.u32(v)
        else:
            raise ValueError(t)
    # Header fields start at offset 16, which is 8-aligned: relative alignment is absolute.
    fields = Writer()

    def field(code, t, value):
        fields.align(8)
        fields.byte(code)
        fields.signature(t)
        if t == b"g":
            fields.signature(value)
        else:
            fields.string(value)

    field(1, b"o", path)
    field(2, b"s", interface)
    field(3, b"s", member.encode())
    if destination:
        field(6, b"s", destination)
    if sig:
        field(8, b"g", sig)
    head = struct.pack("<cBBBIII", b"l", 1, 0, 1, len(body.b), serial, len(fields.b))
    msg = head + bytes(fields.b)
    msg += b"\0" * ((-len(msg)) % 8)
    return msg + bytes(body.b)


def recv_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return bytes(data)


def read_message(sock):
    """Returns (type, error name or None, first string of the body or None)."""
    head = recv_exact(sock, 16)
    if head[0:1] != b"l":
        raise ValueError("big-endian reply")
    mtype = head[1]
    body_len, _, fields_len = struct.unpack("<III", head[4:16])
    rest = recv_exact(sock, fields_len + (-(16 + fields_len)) % 8 + body_len)
    fields, body = rest[:fields_len], rest[fields_len + (-(16 + fields_len)) % 8:]
    error_name, sig, i = None, b"", 0
    while i < len(fields):
        i += (-i) % 8
        code = fields[i]
        n = fields[i + 1]
        t = fields[i + 2:i + 2 + n]
        i += 3 + n
        if t in (b"s", b"o"):
            i += (-i) % 4
            ln = struct.unpack("<I", fields[i:i + 4])[0]
            value = fields[i + 4:i + 4 + ln]
            i += 5 + ln
        elif t == b"g":
            ln = fields[i]
            value = fields[i + 1:i + 1 + ln]
            i += 2 + ln
        elif t == b"u":
            i += (-i) % 4
            value = struct.unpack("<I", fields[i:i + 4])[0]
            i += 4
        else:
            raise ValueError("header field type %r" % t)
        if code == 4:
            error_name = value.decode()
        elif code == 8:
            sig = value
    first = None
    if sig[:1] == b"s":
        ln = struct.unpack("<I", body[0:4])[0]
        first = body[4:4 + ln].decode("utf-8", "replace")
    return mtype, error_name, first


def authenticate(sock):
    """EXTERNAL authentication; returns True on OK, False when the server closed."""
    try:
        sock.sendall(b"\0AUTH EXTERNAL %s\r\n" % str(os.geteuid()).encode().hex().encode())
        line = b""
        while not line.endswith(b"\r\n"):
            chunk = sock.recv(256)
            if not chunk:
                return False
            line += chunk
        if not line.startswith(b"OK "):
            raise AssertionError("authentication answered %r" % line)
        sock.sendall(b"BEGIN\r\n")
        return True
    except (ConnectionResetError, BrokenPipeError):
        return False


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def raw_call(path, member, sig=b"", args=()):
    with connect(path) as s:
        if not authenticate(s):
            raise AssertionError("the server closed the connection during authentication")
        s.sendall(method_call(1, member, sig, args))
        mtype, error_name, first = read_message(s)
    return {"type": {2: "return", 3: "error"}.get(mtype, str(mtype)), "error": error_name,
            "message": first}


def closed_by_peer(sock, timeout=harness.DEFAULT_TIMEOUT):
    """Waits until the server closes the connection; True if it did within timeout."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


# Modes for running this file as another user (runuser -u nobody -- python3 THIS ...).
def child_main(argv):
    if argv[1] == "--raw-call":
        path, member, sig = argv[2], argv[3], argv[4].encode()
        args = [int(a) if t in "tu" else a for t, a in zip(argv[4], argv[5:])]
        print(json.dumps(raw_call(path, member, sig, args)), flush=True)
        return 0
    if argv[1] == "--hold":
        # Opens N connections, authenticates each, reports how many the server kept, and
        # holds them until stdin closes.
        path, n = argv[2], int(argv[3])
        socks = [connect(path) for _ in range(n)]
        kept = [s for s in socks if authenticate(s)]
        print(json.dumps({"kept": len(kept), "refused": n - len(kept)}), flush=True)
        sys.stdin.read()
        return 0
    raise SystemExit("unknown mode " + argv[1])


class ControlRaw(harness.TestCase):
    def setUp(self):
        super().setUp()
        # The runtime directory must be reachable by nobody: harness's temporary directories
        # are 0700.
        self.rt = tempfile.mkdtemp(prefix="berth-control-")
        os.chmod(self.rt, 0o755)
        self.addCleanup(shutil.rmtree, self.rt, True)
        os.chmod(self.dir, 0o755)
        self.port = harness.free_port()
        self.units({
            "idle.service": """
                [Unit]
                Description=Sleeps
                [Service]
                ExecStart=/bin/sh -c 'echo started; exec sleep 1000'
                """,
            "pinned.socket": f"""
                [Socket]
                ListenStream=127.0.0.1:{self.port}
                """,
            "pinned.service": """
                [Service]
                ExecStart=/bin/sleep 1000
                """,
        })
        self.b = self.berthd(runtime_dir=os.path.join(self.rt, "run"))
        self.path = os.path.join(self.rt, "run", "control")
        self.address = "--address=unix:path=" + self.path

    def busctl(self, *args, user=None, check=True):
        cmd = ["busctl", self.address, *args]
        if user:
            cmd = ["runuser", "-u", user, "--"] + cmd
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        if check and p.returncode != 0:
            raise AssertionError("%s failed (%d): %s" % (cmd, p.returncode, p.stderr))
        return p

    def call(self, method, *args, user=None, check=True):
        return self.busctl("call", "org.berth.Manager1", "/org/berth/Manager",
                           "org.berth.Manager1", method, *args, user=user, check=check)

    def as_user(self, user, *argv, **kw):
        return subprocess.run(["runuser", "-u", user, "--", CHILD_PYTHON,
                               os.path.abspath(__file__), *argv], capture_output=True,
                              text=True, timeout=30, **kw)

    def raw_call_as(self, user, member, sig="", *args):
        p = self.as_user(user, "--raw-call", self.path, member, sig, *map(str, args))
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def assert_alive(self):
        """berthd runs and answers ListUnits."""
        self.assertIsNone(self.b.proc.poll(), "berthd exited")
        out = self.call("ListUnits").stdout
        self.assertIn('"idle.service"', out)
        self.assertEqual(self.b.count_log(r"AddressSanitizer|runtime error|Assertion"), 0)

    def settled_fd_count(self):
        """berthd's fd count once its services have started (their output pipes open)."""
        self.idle_pid()
        return self.b.fd_count()

    def idle_pid(self):
        m = self.b.wait_log(r"idle\.service\[(\d+)\]: started")
        return int(m.group(1))

    def main_pid(self, unit):
        out = self.call("GetUnit", "s", unit).stdout
        words = out.split()
        return int(words[words.index('"MainPID"') + 2])

    # ---- busctl sees it ----

    def test_busctl_tree_and_introspect(self):
        tree = self.busctl("tree", "org.berth.Manager1").stdout
        self.assertIn("/org/berth/Manager", tree)
        # plain `tree`, as the issue names it: busctl first lists the names
        plain = self.busctl("tree")
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertIn("Service org.berth.Manager1:", plain.stdout)
        self.assertIn("/org/berth/Manager", plain.stdout)
        intro = self.busctl("introspect", "org.berth.Manager1", "/org/berth/Manager").stdout
        for m in METHODS:
            self.assertIn("." + m + " ", intro)
        self.assertIn("org.berth.Manager1", intro)

    def test_queries(self):
        pid = self.idle_pid()
        out = self.call("ListUnits").stdout
        self.assertTrue(out.startswith("a(ssssutuss) 3 "), out)
        self.assertIn('"idle.service" "service" "loaded" "running" %d ' % pid, out)
        self.assertIn('"pinned.socket" "socket" "loaded" "listening" 0 0 0 "" ""', out)
        out = self.call("GetUnit", "s", "idle.service").stdout
        self.assertIn('"MainPID" u %d' % pid, out)
        self.assertIn('"Description" s "Sleeps"', out)
        out = self.call("GetUnit", "s", "pinned.socket").stdout
        self.assertIn('"Listen" as 1 "127.0.0.1:%d"' % self.port, out)
        self.assertIn('"Service" s "pinned.service"', out)
        out = self.call("ListSockets").stdout
        self.assertIn('"pinned.socket" "127.0.0.1:%d" "TCP" "ipv4" "loopback only"' % self.port,
                      out)
        out = self.call("GetLogs", "stu", "idle.service", "0", "0").stdout
        self.assertRegex(out, r'^ta\(tus\) 1 1 1 %d "started"' % pid)
        out = self.call("GetUnitFiles", "s", "idle.service").stdout
        self.assertIn(os.path.join(self.dir, "idle.service"), out)
        self.assertIn("Description=Sleeps", out)
        p = self.call("GetUnit", "s", "nope.service", check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("no unit named 'nope.service'", p.stderr)
        r = raw_call(self.path, "GetUnit", b"s", ["nope.service"])
        self.assertEqual(r["error"], "org.berth.Error.NoSuchUnit")
        r = raw_call(self.path, "GetUnit", b"s", ["x" * 300 + ".service"])
        self.assertEqual(r["error"], "org.berth.Error.Failed")
        self.assertIn("too long", r["message"])
        # Fds come over SCM_RIGHTS; busctl shows their number.
        out = self.call("GetSocketFds", "s", "pinned.socket").stdout
        self.assertRegex(out, r'^ahas 1 \d+ 1 "pinned.socket"')

    # ---- hostile and careless clients ----

    def test_garbage(self):
        for junk in [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                     b"\0garbage that is no command\r\n" * 4,
                     b"\0AUTH EXTERNAL zz\r\n",
                     bytes(range(256)) * 4]:
            with connect(self.path) as s:
                try:
                    s.sendall(junk)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                # The server may answer ERROR lines first; it must not hang on to us forever,
                # but an unfinished authentication is only dropped at its deadline, so just
                # close from our side here.
            self.assert_alive()

    def test_oversized_raw(self):
        # 2 MiB of bytes before authentication: the authentication buffer is small.
        with connect(self.path) as s:
            try:
                s.sendall(b"\0" + os.urandom(2 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertTrue(closed_by_peer(s))
        # An authentication line that never ends.
        with connect(self.path) as s:
            try:
                s.sendall(b"\0AUTH EXTERNAL " + b"41" * (1 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertTrue(closed_by_peer(s))
        self.assert_alive()

    def test_header_claims_huge_body(self):
        # After a good authentication, a header whose body is 4 GiB: beyond any limit.
        with connect(self.path) as s:
            self.assertTrue(authenticate(s))
            s.sendall(struct.pack("<cBBBIII", b"l", 1, 0, 1, 0xfffffff0, 1, 0))
            self.assertTrue(closed_by_peer(s))
        # A header that claims 100 MiB, then as much of it as berthd takes: it drops the
        # connection at the header, before sd-bus buffers any of the body, so the client
        # gets no further than what the kernel's socket buffers hold.
        before = self.settled_fd_count()
        with connect(self.path) as s:
            self.assertTrue(authenticate(s))
            msg = method_call(1, "GetUnit", b"s", ["idle.service"])
            head = bytearray(msg[:16])
            struct.pack_into("<I", head, 4, 100 << 20)
            s.sendall(bytes(head) + msg[16:])
            sent, chunk = 0, b"\0" * (64 << 10)
            s.settimeout(10)
            try:
                while sent < (100 << 20):
                    sent += s.send(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertLess(sent, 16 << 20)
        self.b.wait_log(r"Dropped control client \d+ \(uid 0, pid \d+\): message 1 claims "
                        r"104857\d+ bytes, at most 1048576")
        self.assert_alive()
        harness.wait_for(lambda: self.b.fd_count() <= before, what="the client's fd to close")
        # A message of exactly 1 MiB passes and gets its answer (an error: no such unit);
        # one byte more is dropped.
        n = (1 << 20) - len(method_call(1, "GetUnit", b"s", [""]))
        with connect(self.path) as s:
            self.assertTrue(authenticate(s))
            msg = method_call(1, "GetUnit", b"s", ["x" * n])
            self.assertEqual(len(msg), 1 << 20)
            s.sendall(msg)
            mtype, _, _ = read_message(s)
            self.assertEqual(mtype, 3)
        with connect(self.path) as s:
            self.assertTrue(authenticate(s))
            try:
                s.sendall(method_call(1, "GetUnit", b"s", ["x" * (n + 1)]))
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.assertTrue(closed_by_peer(s))
        self.b.wait_log(r"message 1 claims 1048577 bytes, at most 1048576")
        # A body that contradicts its signature: a string longer than the body.
        with connect(self.path) as s:
            self.assertTrue(authenticate(s))
            msg = bytearray(method_call(1, "GetUnit", b"s", ["idle.service"]))
            struct.pack_into("<I", msg, len(msg) - len("idle.service") - 5, 1000)
            s.sendall(bytes(msg))
            # sd-bus checks the body when the handler reads it: an error reply, or the end.
            try:
                mtype, error_name, _ = read_message(s)
                self.assertEqual(mtype, 3)
            except (EOFError, ConnectionResetError):
                pass
        self.assert_alive()

    def test_truncated_and_vanishing_clients(self):
        before = self.settled_fd_count()
        msg = method_call(1, "ListUnits")
        # Half a message, then gone.
        with connect(self.path) as s:
            self.assertTrue(authenticate(s))
            s.sendall(msg[:len(msg) // 2])
        # Gone in the middle of the authentication.
        with connect(self.path) as s:
            s.sendall(b"\0AUTH EXTERNAL 30")
        with connect(self.path) as s:
            s.sendall(b"\0AUTH EXTERNAL %s\r\n" % str(os.geteuid()).encode().hex().encode())
        # Gone in the middle of a call: the reply has no one to go to.
        for member in ["ListUnits", "GetLogs"]:
            with connect(self.path) as s:
                self.assertTrue(authenticate(s))
                if member == "GetLogs":
                    s.sendall(method_call(1, member, b"stu", ["idle.service", 0, 0]))
                else:
                    s.sendall(method_call(1, member))
        # Many calls in one write, along with BEGIN, then gone before any reply is read.
        with connect(self.path) as s:
            auth = b"\0AUTH EXTERNAL %s\r\n" % str(os.geteuid()).encode().hex().encode()
            s.sendall(auth)
            s.recv(256)
            s.sendall(b"BEGIN\r\n" + b"".join(method_call(i, "ListUnits") for i in
                                               range(1, 50)))
        self.assert_alive()
        harness.wait_for(lambda: self.b.fd_count() <= before, what="every client fd to close")

    def test_call_sent_with_begin_is_answered(self):
        # libdbus sends its first call right behind BEGIN; both arrive in one read.
        with connect(self.path) as s:
            auth = b"\0AUTH EXTERNAL %s\r\n" % str(os.geteuid()).encode().hex().encode()
            s.sendall(auth)
            self.assertTrue(s.recv(256).startswith(b"OK "))
            s.sendall(b"BEGIN\r\n" + method_call(1, "GetUnit", b"s", ["nope.service"]))
            mtype, error_name, message = read_message(s)
        self.assertEqual(error_name, "org.berth.Error.NoSuchUnit")

    def test_unread_replies(self):
        # Replies of up to 800 KiB that the client never reads: once the socket buffer is
        # full, the replies queue in berthd, and past the cap the client is dropped.
        script = os.path.join(self.dir, "chatty.sh")
        with open(script, "w") as f:
            f.write('i=0; while [ $i -lt 200 ]; do printf "%04000d\\n" $i; i=$((i+1)); done\n'
                    'echo done; exec sleep 1000\n')
        self.units({"chatty.service": f"""
            [Service]
            ExecStart=/bin/sh {script}
            """})
        b = self.berthd(runtime_dir=os.path.join(self.rt, "run2"))
        b.wait_log(r"chatty\.service\[\d+\]: done")
        path = os.path.join(self.rt, "run2", "control")
        with connect(path) as s:
            self.assertTrue(authenticate(s))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            try:
                for i in range(1, 200):
                    s.sendall(method_call(i, "GetLogs", b"stu", ["chatty.service", 0, 0]))
            except (BrokenPipeError, ConnectionResetError):
                pass
            b.wait_log(r"Control client \d+ \(uid 0, pid \d+\) leaves its replies unread")
        self.assertIsNone(b.proc.poll())
        r = raw_call(path, "GetLogs", b"stu", ["chatty.service", 0, 1])
        self.assertEqual(r["type"], "return")

    def test_client_cap(self):
        # 100 clients at once: the first 64 are kept, the others closed at once and logged.
        socks = [connect(self.path) for _ in range(100)]
        try:
            kept = [s for s in socks if authenticate(s)]
            self.assertEqual(len(kept), CLIENTS_MAX)
            self.b.wait_log(r"Refused a control connection from uid 0 \(pid \d+\): 64 control "
                            r"clients are connected, at most 64")
            p = self.call("ListUnits", check=False)
            self.assertNotEqual(p.returncode, 0, "a 65th client got in")
        finally:
            for s in socks:
                s.close()
        harness.wait_for(lambda: self.call("ListUnits", check=False).returncode == 0,
                         what="the slots to free up")
        self.assert_alive()

    def test_unprivileged_cap(self):
        if not harness.is_root():
            self.skipTest("needs root to run a client as nobody")
        p = subprocess.Popen(["runuser", "-u", "nobody", "--", CHILD_PYTHON,
                              os.path.abspath(__file__), "--hold", self.path,
                              str(PER_UID_MAX + 4)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            result = json.loads(p.stdout.readline())
            self.assertEqual(result, {"kept": PER_UID_MAX, "refused": 4})
            self.b.wait_log(r"Refused a control connection from uid 65534 \(pid \d+\): uid "
                            r"65534 has %d control connections, at most %d"
                            % (PER_UID_MAX, PER_UID_MAX))
            # Root still gets in while nobody holds its share.
            self.assert_alive()
        finally:
            p.stdin.close()
            p.wait(20)
            p.stdout.close()

    def test_authentication_deadline(self):
        start = time.monotonic()
        with connect(self.path) as s:
            self.assertTrue(closed_by_peer(s, timeout=AUTH_TIMEOUT + 10))
        self.assertGreaterEqual(time.monotonic() - start, AUTH_TIMEOUT - 1)
        self.b.wait_log(r"Control client \d+ \(uid 0, pid \d+\) did not authenticate within "
                        r"10s, disconnecting it")
        self.assert_alive()

    def test_idle_deadline(self):
        """An authenticated client that sends nothing goes, so idle connections cannot hold
        the slots; one that keeps asking stays."""
        start = time.monotonic()
        with connect(self.path) as idle, connect(self.path) as busy:
            self.assertTrue(authenticate(idle))
            self.assertTrue(authenticate(busy))
            for i in range(1, 6):
                busy.sendall(method_call(i, "ListUnits"))
                self.assertFalse(closed_by_peer(idle, timeout=IDLE_TIMEOUT / 5 - 1))
            self.assertTrue(closed_by_peer(idle, timeout=IDLE_TIMEOUT))
            self.assertGreaterEqual(time.monotonic() - start, IDLE_TIMEOUT - 1)
            self.assertFalse(closed_by_peer(busy, timeout=0.1))
        self.b.wait_log(r"Control client \d+ \(uid 0, pid \d+\) sent nothing for 20s, "
                        r"disconnecting it")
        self.assert_alive()

    def test_out_of_fds(self):
        pid = self.b.proc.pid
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        n = self.b.fd_count()
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (n + 2, hard))
        socks = []
        try:
            socks = [connect(self.path) for _ in range(10)]
            self.b.wait_log(r"Cannot accept control connections: Too many open files; "
                            r"retrying every 100ms")
            # Paused, not spinning: well under a tenth of a CPU while the queue waits.
            cpu = self.b.cpu_seconds()
            time.sleep(1.0)
            self.assertLess(self.b.cpu_seconds() - cpu, 0.1)
            self.assertEqual(self.b.count_log(r"Cannot accept control connections"), 1)
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        # The waiting clients get in once fds are free again.
        for s in socks:
            self.assertTrue(authenticate(s))
        self.b.wait_log(r"Accepting control connections again")
        for s in socks:
            s.close()
        self.assert_alive()

    def test_exit_with_clients_connected(self):
        # SIGTERM with clients in every state: mid-authentication, idle, and one whose
        # replies fill its socket. berthd neither waits for them nor leaks them.
        idle = connect(self.path)
        idle.sendall(b"\0AUTH EXTERNAL 30")
        ready = connect(self.path)
        self.assertTrue(authenticate(ready))
        # GetUnitFiles reads the file at call time: make each reply 900 KiB, and send a few
        # more calls than the socket buffer (8 MiB) holds, fewer than drop the client.
        with open(os.path.join(self.dir, "idle.service"), "a") as f:
            f.write(("# " + "x" * 1021 + "\n") * 900)
        full = connect(self.path)
        self.assertTrue(authenticate(full))
        for i in range(1, 15):
            full.sendall(method_call(i, "GetUnitFiles", b"s", ["idle.service"]))
        self.assert_alive()
        self.assertEqual(self.b.count_log(r"leaves its replies unread"), 0)
        try:
            self.assertEqual(self.b.stop(timeout=10), 0)
        finally:
            for s in (idle, ready, full):
                s.close()
        self.assertEqual(self.b.count_log(r"Sanitizer|runtime error"), 0, self.b.log())

    def slow_service(self, rundir):
        """A berthd with slow.service, whose stop takes TimeoutStopSec=1: a restart of it
        waits a second for its outcome."""
        self.units({"slow.service": """
            [Service]
            ExecStart=/bin/sh -c 'trap "" TERM; echo up; while :; do sleep 0.2; done'
            TimeoutStopSec=1
            """})
        b = self.berthd(runtime_dir=os.path.join(self.rt, rundir))
        pid = int(b.wait_log(r"slow\.service\[(\d+)\]: up").group(1))
        return b, os.path.join(self.rt, rundir, "control"), pid

    def test_restart_answers_when_done(self):
        b, path, pid = self.slow_service("run2")
        start = time.monotonic()
        r = raw_call(path, "RestartUnit", b"s", ["slow.service"])
        self.assertEqual(r["type"], "return", r)
        self.assertGreaterEqual(time.monotonic() - start, 0.9, "answered before the restart")
        # Type=simple: ready once spawned; the old process is gone by then.
        self.assertFalse(harness.pid_alive(pid))
        b.wait_log_count(r"slow\.service\[\d+\]: up", 2)

    def test_restart_outlives_its_client(self):
        # The client goes while its restart is under way; the answer has no one to go to.
        b, path, pid = self.slow_service("run2")
        with connect(path) as s:
            self.assertTrue(authenticate(s))
            s.sendall(method_call(1, "RestartUnit", b"s", ["slow.service"]))
            b.wait_log(r"slow\.service: restart requested")
        b.wait_log_count(r"slow\.service\[\d+\]: up", 2)
        r = raw_call(path, "ListUnits")
        self.assertEqual(r["type"], "return")
        # And berthd exits while another restart waits, its client still connected.
        s = connect(path)
        self.addCleanup(s.close)
        self.assertTrue(authenticate(s))
        s.sendall(method_call(1, "RestartUnit", b"s", ["slow.service"]))
        b.wait_log_count(r"slow\.service: restart requested", 2)
        self.assertEqual(b.stop(), 0)
        self.assertEqual(b.count_log(r"Sanitizer|runtime error"), 0, b.log())

    # ---- authorization ----

    def test_unprivileged_caller(self):
        if not harness.is_root():
            self.skipTest("needs root to run a client as nobody")
        pid = self.idle_pid()
        # Queries are open to everyone.
        out = self.call("ListUnits", user="nobody").stdout
        self.assertIn('"idle.service"', out)
        out = self.call("GetUnit", "s", "idle.service", user="nobody").stdout
        self.assertIn('"MainPID" u %d' % pid, out)
        self.call("ListSockets", user="nobody")
        # A service's output is not (tests/integration/logs-access.py).
        r = self.raw_call_as("nobody", "GetLogs", "stu", "idle.service", 0, 0)
        self.assertEqual(r["error"], "org.freedesktop.DBus.Error.AccessDenied", r)

        # Actions are not, and each refusal is logged with the caller.
        for member, sig, args, verb in [("StopUnit", "s", ["idle.service"], "stop"),
                                        ("RestartUnit", "s", ["idle.service"], "restart"),
                                        ("StartUnit", "s", ["idle.service"], "start"),
                                        ("ReloadUnit", "s", ["idle.service"], "reload"),
                                        ("Reload", "", [], "daemon-reload"),
                                        ("GetSocketFds", "s", ["pinned.socket"], "fds")]:
            r = self.raw_call_as("nobody", member, sig, *args)
            self.assertEqual(r["error"], "org.freedesktop.DBus.Error.AccessDenied", r)
            self.assertEqual(r["message"], "permission denied: %s needs root" % verb)
            self.b.wait_log(r"Refused %s\(.*\) from uid 65534 \(pid \d+\): permission denied"
                            % member)
            p = self.call(member, *([sig] + args if sig else []), user="nobody", check=False)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("Access denied", p.stderr)

        # Nothing changed.
        self.assertEqual(self.main_pid("idle.service"), pid)
        self.assertTrue(harness.pid_alive(pid))
        self.assertEqual(self.b.count_log(r"idle\.service: .*requested"), 0)
        self.assertEqual(self.b.count_log(r"daemon-reload"), 0)

        # Unit files: only what nobody could read itself.
        r = self.raw_call_as("nobody", "GetUnitFiles", "s", "idle.service")
        self.assertEqual(r["type"], "return", r)
        os.chmod(os.path.join(self.dir, "idle.service"), 0o600)
        r = self.raw_call_as("nobody", "GetUnitFiles", "s", "idle.service")
        self.assertEqual(r["error"], "org.freedesktop.DBus.Error.AccessDenied", r)
        self.assertIn("is not readable by uid 65534", r["message"])
        os.chmod(os.path.join(self.dir, "idle.service"), 0o644)
        os.chmod(self.dir, 0o700)
        r = self.raw_call_as("nobody", "GetUnitFiles", "s", "idle.service")
        self.assertEqual(r["error"], "org.freedesktop.DBus.Error.AccessDenied", r)

        # Root may.
        self.call("RestartUnit", "s", "idle.service")
        self.b.wait_log(r"idle\.service: restart requested")
        self.assert_alive()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("--raw-call", "--hold"):
        sys.exit(child_main(sys.argv))
    harness.main()
