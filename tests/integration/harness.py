"""Harness for berth's integration tests: starts the real berthd from a temporary unit
directory, waits for READY=1 on a NOTIFY_SOCKET that the test owns (never a sleep), reads its
log line by line, and drives it with real sockets on loopback only."""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BERTHD = os.environ.get("BERTHD", "")
SOURCE_ROOT = os.environ.get("BERTH_SOURCE_ROOT", os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))

DEFAULT_TIMEOUT = 20.0

# loadgen's outcomes other than ok: each is a connection a client lost.
LOAD_FAILURES = ("refused", "reset", "timeout", "short", "other")


def is_root():
    return os.geteuid() == 0


def has_cap_sys_resource():
    """Whether this process (and so a berthd it starts) may raise a hard rlimit."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) & (1 << 24))
    return False


def free_port(family=socket.AF_INET, socktype=socket.SOCK_STREAM):
    """A port that is free on loopback in both families right now."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socktype) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET6, socktype) as s6:
                s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                s6.bind(("::1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port found in 100 tries")


def write_units(directory, units):
    """units: {"name.socket": "text"}; text is dedented."""
    import textwrap
    os.makedirs(directory, exist_ok=True)
    for name, text in units.items():
        path = os.path.join(directory, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text).lstrip("\n"))


def run_check(unit_dir, timeout=DEFAULT_TIMEOUT):
    """berthd --check; returns CompletedProcess with text stdout/stderr."""
    return subprocess.run([BERTHD, "--check", "--units", unit_dir], capture_output=True,
                          text=True, timeout=timeout)


class Berthd:
    """A running berthd. Use as a context manager; stop() sends SIGTERM and returns the exit
    code. The log is collected by a thread; wait_log() waits for a line that matches."""

    def __init__(self, unit_dir, runtime_dir=None, extra_args=(), env=None, wait_ready=True,
                 timeout=DEFAULT_TIMEOUT, runtime_dir_option=True):
        self.unit_dir = unit_dir
        self.tmp = tempfile.mkdtemp(prefix="berth-it-")
        self.runtime_dir = runtime_dir or os.path.join(self.tmp, "run")
        self.lines = []
        self.cond = threading.Condition()
        self.notify_path = os.path.join(self.tmp, "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify_messages = []
        e = dict(os.environ)
        e["NOTIFY_SOCKET"] = self.notify_path
        if env:
            e.update(env)
        # runtime_dir_option=False: berthd finds its runtime directory itself (the test says
        # where through the environment), and self.runtime_dir is where it should be.
        args = [BERTHD] + (["--units", unit_dir] if unit_dir else []) + (
            ["--runtime-dir", self.runtime_dir] if runtime_dir_option else []) + list(extra_args)
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=e, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.returncode = None
        if wait_ready:
            self.wait_ready(timeout)

    def _read(self):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            sys.stderr.write("berthd| " + line + "\n")
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_ready(self, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError("berthd did not send READY=1 within %.0fs; log:\n%s" % (
                    timeout, self.log()))
            if self.proc.poll() is not None:
                self.reader.join(5)
                raise AssertionError("berthd exited with %d before READY=1; log:\n%s" % (
                    self.proc.returncode, self.log()))
            r, _, _ = select.select([self.notify], [], [], min(remaining, 0.2))
            if r:
                msg = self.notify.recv(4096).decode()
                self.notify_messages.append(msg)
                if "READY=1" in msg.split("\n"):
                    # berthd logs its ready line just before it sends READY=1, but the thread
                    # that reads its output may still be behind: wait until it has read that
                    # far, so that counting the lines of the start-up sees all of them.
                    self.wait_log(r"berthd is ready: ", max(deadline - time.monotonic(), 1))
                    return

    def log(self):
        with self.cond:
            return "\n".join(self.lines)

    def wait_log(self, pattern, timeout=DEFAULT_TIMEOUT):
        """Waits for a log line matching the regex; returns the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        seen = 0
        with self.cond:
            while True:
                for line in self.lines[seen:]:
                    m = rx.search(line)
                    if m:
                        return m
                seen = len(self.lines)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("no log line matching %r within %.0fs; log:\n%s" % (
                        pattern, timeout, "\n".join(self.lines)))
                if self.proc.poll() is not None and not self.reader.is_alive():
                    raise AssertionError("berthd exited (%s) before logging %r; log:\n%s" % (
                        self.proc.returncode, pattern, "\n".join(self.lines)))
                self.cond.wait(min(remaining, 0.5))

    def count_log(self, pattern):
        rx = re.compile(pattern)
        with self.cond:
            return sum(1 for line in self.lines if rx.search(line))

    def wait_log_count(self, pattern, count, timeout=DEFAULT_TIMEOUT):
        """Waits until `count` log lines match the regex."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                n = sum(1 for line in self.lines if rx.search(line))
                if n >= count:
                    return n
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError("only %d of %d log lines matching %r within %.0fs; "
                                         "log tail:\n%s" % (n, count, pattern, timeout,
                                                            "\n".join(self.lines[-40:])))
                if self.proc.poll() is not None and not self.reader.is_alive():
                    raise AssertionError("berthd exited (%s) while waiting for %r" % (
                        self.proc.returncode, pattern))
                self.cond.wait(min(remaining, 0.5))

    def fd_count(self):
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def cpu_seconds(self):
        """User plus system CPU time berthd has used so far."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self, sig=signal.SIGTERM, timeout=DEFAULT_TIMEOUT):
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(sig)
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("berthd did not exit within %.0fs of signal %d" % (
                    timeout, sig))
            self.reader.join(5)
        return self.returncode

    def close(self):
        """Stops berthd the clean way (so its services go too), then the hard way."""
        try:
            end_process(self.proc)
            self.reader.join(5)
        finally:
            if self.proc.stdout:
                self.proc.stdout.close()
            self.notify.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def end_process(proc, timeout=10):
    """SIGTERM, then SIGKILL after timeout seconds; reaps it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def processes_with(marker):
    """The live (not zombie) processes whose command line holds marker, counted from /proc;
    a child of such a process is not counted (a shell's fork before it execs a command has
    the shell's command line), so the count is that of instances, however they fork."""
    parents = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if marker.encode() in cmd and fields[0] != "Z":
            parents[pid] = fields[1]
    return sum(1 for ppid in parents.values() if ppid not in parents)


def socket_inodes(pid):
    """The inodes of the sockets among pid's open fds."""
    out = set()
    d = "/proc/%d/fd" % pid
    for fd in os.listdir(d):
        try:
            t = os.readlink(os.path.join(d, fd))
        except OSError:
            continue
        if t.startswith("socket:["):
            out.add(int(t[8:-1]))
    return out


def listening_tcp_inodes(port, pid=None):
    """Inodes of the listening TCP sockets (both families) on port, in the network namespace
    of pid (of this process when None)."""
    inodes = []
    for name in ("tcp", "tcp6"):
        with open("/proc/%s/net/%s" % (pid or "self", name)) as f:
            for line in f.readlines()[1:]:
                w = line.split()
                if w[3] == "0A" and int(w[1].rsplit(":", 1)[1], 16) == port:
                    inodes.append(int(w[9]))
    return inodes


def ss(*args):
    """Runs ss with the given arguments; returns stdout."""
    return subprocess.run(["ss", "-H", *args], capture_output=True, text=True, check=True,
                          timeout=10).stdout


def ss_has(args, needle):
    return any(needle in line.split() for line in ss(*args).splitlines())


def wait_for(predicate, timeout=DEFAULT_TIMEOUT, what="a condition", interval=0.02):
    """Polls predicate() until it is true; the poll interval is short and the whole wait is
    bounded. For state that has no event to wait on (a file appearing, a process going)."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def status_kib(pid, key):
    """A size from /proc/PID/status in KiB: key "VmRSS", "RssAnon", ..."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError("pid %d has no %s (exited?)" % (pid, key))


def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        # ProcessLookupError: reaped between the open and the read.
        return False
    return state != "Z"


def pid_exists(pid):
    return os.path.exists("/proc/%d" % pid)


def connect(host, port, family=socket.AF_INET, timeout=5.0):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect((host, port))
    except Exception:
        s.close()
        raise
    return s


def http_get(port, host="127.0.0.1", timeout=5.0):
    """One HTTP/1.0 GET / on a new connection; returns the whole reply (bytes)."""
    with connect(host, port, timeout=timeout) as s:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = b""
        for _ in range(64):  # bounded: a reply longer than 256 KiB is not ours
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        return reply


class Load:
    """bench/loadgen: `concurrency` clients on 127.0.0.1:port, one request per connection, as
    fast as they can, until stop(). duration only bounds a run that is never stopped."""

    def __init__(self, loadgen, port, concurrency=4, duration=600, timeout=10):
        self.proc = subprocess.Popen([loadgen, "--connect", "127.0.0.1:%d" % port,
                                      "--concurrency", str(concurrency), "--duration",
                                      str(duration), "--timeout", str(timeout), "--json"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True)

    def stop(self, timeout=60):
        """Stops new attempts (SIGINT), lets the ones in flight finish, and returns loadgen's
        result: a dict with the ok count, each of LOAD_FAILURES, latencies and the gap."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=timeout)
        return json.loads(out.strip().splitlines()[-1])

    def kill(self):
        """For cleanup: ends a run that was not stopped."""
        if self.proc.returncode is None:
            self.proc.kill()
            self.proc.communicate()


class TestCase(unittest.TestCase):
    def setUp(self):
        if not BERTHD or not os.access(BERTHD, os.X_OK):
            self.fail("BERTHD is not set to an executable berthd")
        self.dir = tempfile.mkdtemp(prefix="berth-units-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def units(self, units, subdir=""):
        d = os.path.join(self.dir, subdir) if subdir else self.dir
        write_units(d, units)
        return d

    def berthd(self, unit_dir=None, **kw):
        b = Berthd(unit_dir or self.dir, **kw)
        self.addCleanup(b.close)
        return b

    def berthd_in_netns(self, unit_dir=None, **kw):
        """berthd (and so its services) in a network namespace of their own, loopback up: for
        real daemons that bind fixed ports too. b.proc.pid is berthd's pid in it, for
        `nsenter -t PID -n` clients. Needs root."""
        global BERTHD
        wrapper = os.path.join(self.dir, "berthd-netns")
        with open(wrapper, "w") as f:
            f.write('#!/bin/sh\nexec unshare -n -- /bin/sh -c \'ip link set lo up && exec "$@"\' '
                    'sh %s "$@"\n' % BERTHD)
        os.chmod(wrapper, 0o755)
        real, BERTHD = BERTHD, wrapper
        try:
            return self.berthd(unit_dir, **kw)
        finally:
            BERTHD = real

    def executable(self, var):
        """The program that environment variable var names (meson sets BERTHCTL, LOADGEN,
        BENCH_SERVER and BERTH_PROBE); skips the test, saying which, when it is missing."""
        path = os.environ.get(var, "")
        if not path or not os.access(path, os.X_OK):
            self.skipTest("%s does not name an executable (%r): build with ninja -C build and "
                          "run through meson test" % (var, path))
        return path

    def load(self, port, concurrency=4, **kw):
        """Starts bench/loadgen (LOADGEN) on port; it is killed at cleanup if still running."""
        load = Load(self.executable("LOADGEN"), port, concurrency, **kw)
        self.addCleanup(load.kill)
        return load

    def berthctl_for_others(self):
        """A directory other users can reach (mode 0755, removed at cleanup) holding a copy of
        BERTHCTL: returns (directory, the copy). Put berthd's runtime directory in it to run
        berthctl as another user."""
        top = tempfile.mkdtemp(prefix="berthctl-others-")
        self.addCleanup(shutil.rmtree, top, True)
        os.chmod(top, 0o755)
        exe = os.path.join(top, "berthctl")
        shutil.copy(self.executable("BERTHCTL"), exe)
        os.chmod(exe, 0o755)
        return top, exe

    def berthctl(self, b, *args, timeout=60):
        """Runs BERTHCTL against berthd b; returns the CompletedProcess (text)."""
        return subprocess.run([self.executable("BERTHCTL"), "--runtime-dir", b.runtime_dir,
                               *args], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout)


def main():
    """Runs the module's tests. Exits 77 (meson's skip) when every test was skipped."""
    prog = unittest.main(exit=False, verbosity=2)
    res = prog.result
    if not res.wasSuccessful():
        sys.exit(1)
    if res.testsRun > 0 and len(res.skipped) == res.testsRun:
        sys.exit(77)
    sys.exit(0)
