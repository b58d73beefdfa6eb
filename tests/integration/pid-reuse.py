"""A pid berthd named is reused by a stranger: berthd never signals the stranger (issue 14,
"processes by pidfd").

berthd runs as PID 1 of a new PID namespace whose pid_max is made small (per namespace since
Linux 6.14; the test skips, saying so, where it cannot be written), so that pids wrap in a few
hundred forks. The service's first process P forks C and says MAINPID=C; then C exits and P
reaps it, so berthd never sees C go. A hunter in the namespace forks until a child gets C's
number (bounded): that stranger makes itself a session and group leader and writes down every
signal it gets.

- test_main_pid_reused: `berthctl restart` (KillMode=mixed: KillSignal= and SIGCONT to the main
  process, SIGKILL to its group): the stranger that has C's number gets nothing.
- test_group_leader_reused: `berthctl stop` (KillMode=control-group): SIGTERM goes to P's group;
  P dies and berthd reaps it; a stranger gets P's number and so leads a group with P's number
  while berthd still waits for C, and then sends SIGKILL to P's group after TimeoutStopSec=:
  it must not reach the stranger.
- test_stranger_exit_not_main: the stranger with C's number exits, and berthd (the namespace's
  init, so its parent once the hunter is gone) reaps it: that is not taken for the service's
  main process exiting.
- test_stranger_notify_not_main: the stranger with C's number sends STATUS= to the notify
  socket (NotifyAccess=all): it is not taken for the main process.
- test_pid_fallback_hazard: with BERTH_PIDFD=0 (the fallback for kernels without pidfds) the
  first case does signal the stranger: what the pidfds prevent, shown to be within the test's
  reach."""
import os
import re
import signal
import subprocess
import sys
import time

import harness

# The smallest pid_max is 301. Pids below 300 are handed out once: after pid_max the kernel
# starts again at 300. So the namespace burns its first 300 before berthd starts, and the
# services' pids come from 300..PID_MAX-1, which a hunter goes round in about 100 forks.
PID_MAX = 400
HUNT_FORKS = 5000

SERVICE = r"""import os, signal, socket, sys
d = sys.argv[1]
c = os.fork()
if c == 0:
    fd = os.open(os.path.join(d, "release"), os.O_RDONLY)
    os.read(fd, 1)
    os._exit(0)
def publish(name, text):
    with open(os.path.join(d, name + ".tmp"), "w") as f:
        f.write(text)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))
publish("pids", "%d %d\n" % (os.getpid(), c))
publish("notify", os.environ["NOTIFY_SOCKET"])
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"MAINPID=%d\nREADY=1" % c, addr)
os.waitpid(c, 0)
publish("reaped", "%d\n" % c)
fd = os.open(os.path.join(d, "again"), os.O_RDONLY)
os.read(fd, 1)
s.sendto(b"STATUS=from the first process", addr)
while True:
    signal.pause()
"""

# Run in the namespace (nsenter): forks until a child gets pid argv[1]; that child leads a
# session of its own, records each signal it gets in argv[2], sends argv[6] to the notify
# socket argv[5] when given, and says its pid outside the namespace in argv[3]. The hunter
# then exits (the stranger is left to the namespace's init).
HUNTER = r"""import os, signal, sys
target, record, ready, tries = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
for _ in range(tries):
    pid = os.fork()
    if pid == 0:
        if os.getpid() != target:
            os._exit(0)
        os.setsid()
        def on_signal(sig, frame):
            with open(record, "a") as f:
                f.write("%d\n" % sig)
        for sig in range(1, signal.NSIG):
            if sig not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
                try:
                    signal.signal(sig, on_signal)
                except (OSError, ValueError):
                    pass
        if len(sys.argv) > 6:
            import socket
            addr = sys.argv[5]
            if addr.startswith("@"):
                addr = "\0" + addr[1:]
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.sendto(sys.argv[6].encode(), addr)
        with open("/proc/self/status") as f:
            outer = [l.split()[1] for l in f if l.startswith("NSpid:")][0]
        with open(ready + ".tmp", "w") as f:
            f.write(outer + "\n")
        os.rename(ready + ".tmp", ready)
        while True:
            signal.pause()
    if pid == target:
        sys.exit(0)
    os.waitpid(pid, 0)
sys.exit(3)
"""


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return None


class PidReuse(harness.TestCase):
    def setUp(self):
        super().setUp()
        if not harness.is_root():
            self.skipTest("needs root for a PID namespace (unshare --pid)")
        probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c",
                                "echo %d > /proc/sys/kernel/pid_max" % PID_MAX],
                               capture_output=True, text=True, timeout=30)
        if probe.returncode != 0:
            self.skipTest("cannot set kernel.pid_max inside a new PID namespace (per "
                          "namespace since Linux 6.14): %s" % probe.stderr.strip())

    def start(self, kill_mode, timeout_stop, env=None, extra=""):
        state = os.path.join(self.dir, "state")
        os.mkdir(state)
        os.mkfifo(os.path.join(state, "release"))
        os.mkfifo(os.path.join(state, "again"))
        script = os.path.join(self.dir, "svc.py")
        with open(script, "w") as f:
            f.write(SERVICE)
        self.units({"reuse.service": (
            "[Service]\nType=notify\nExecStart=%s %s %s\nKillMode=%s\nTimeoutStopSec=%s\n%s"
            % (sys.executable, script, state, kill_mode, timeout_stop, extra))})
        # berthd as PID 1 of a namespace with a small pid_max; the namespace (and all in it)
        # goes with it.
        wrapper = os.path.join(self.dir, "berthd-pidns")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec unshare --pid --fork --mount-proc --kill-child -- "
                    "/bin/sh -c 'echo %d > /proc/sys/kernel/pid_max && "
                    "i=0; while [ $i -lt 300 ]; do (:) & i=$((i+1)); done; wait; "
                    "exec \"$@\"' sh %s \"$@\"\n" % (PID_MAX, harness.BERTHD))
        os.chmod(wrapper, 0o755)
        real, harness.BERTHD = harness.BERTHD, wrapper
        try:
            b = self.berthd(env=env)
        finally:
            harness.BERTHD = real
        return b, state

    def ns_init(self, b):
        """berthd's pid outside the namespace: unshare's child."""
        def child():
            try:
                with open("/proc/%d/task/%d/children" % (b.proc.pid, b.proc.pid)) as f:
                    kids = f.read().split()
            except OSError:
                return None
            return int(kids[0]) if kids else None
        return harness.wait_for(child, what="unshare's child (berthd)")

    def hunt(self, b, target, name, notify=()):
        """A stranger in the namespace with pid target (that sends notify: (socket, message));
        returns (its pid outside, record)."""
        record = os.path.join(self.dir, name + ".signals")
        ready = os.path.join(self.dir, name + ".ready")
        hunter = os.path.join(self.dir, "hunter.py")
        with open(hunter, "w") as f:
            f.write(HUNTER)
        # Its output to a file: the stranger keeps what it inherited open.
        with open(os.path.join(self.dir, name + ".hunter"), "w+") as out:
            p = subprocess.run(["nsenter", "--target", str(self.ns_init(b)), "--pid", "--",
                                sys.executable, hunter, str(target), record, ready,
                                str(HUNT_FORKS), *notify], stdin=subprocess.DEVNULL, stdout=out,
                               stderr=out, timeout=60)
            out.seek(0)
            self.assertEqual(p.returncode, 0, "no process got pid %d in %d forks: %s" % (
                target, HUNT_FORKS, out.read()))
        outer = int(harness.wait_for(lambda: read(ready), what="the stranger to be ready"))
        self.addCleanup(lambda: harness.pid_alive(outer) and os.kill(outer, signal.SIGKILL))
        return outer, record

    def pidfds(self, b):
        """How many pidfds berthd holds."""
        fds = "/proc/%d/fd" % self.ns_init(b)
        n = 0
        for fd in os.listdir(fds):
            try:
                n += os.readlink(os.path.join(fds, fd)) == "anon_inode:[pidfd]"
            except OSError:
                pass
        return n

    def stop(self, b):
        """Stops berthd and returns its exit code: unshare ignores SIGTERM while it waits, so
        berthd, PID 1 of the namespace, gets it directly."""
        os.kill(self.ns_init(b), signal.SIGTERM)
        return b.stop()

    def orphan_main(self, b, state):
        """Waits for MAINPID=C, then lets C exit and P reap it. Returns (P, C), in the
        namespace."""
        c = int(b.wait_log(r"reuse\.service: MAINPID=(\d+): the main process is now").group(1))
        p, c2 = map(int, harness.wait_for(lambda: read(os.path.join(state, "pids")),
                                          what="the service's pids").split())
        self.assertEqual(c, c2)
        fifo = os.open(os.path.join(state, "release"), os.O_RDWR)
        try:
            os.write(fifo, b"x")
            harness.wait_for(lambda: read(os.path.join(state, "reaped")),
                             what="C to exit and be reaped by P")
        finally:
            os.close(fifo)
        return p, c

    def test_main_pid_reused(self):
        b, state = self.start("mixed", "500ms")
        _, c = self.orphan_main(b, state)
        stranger, record = self.hunt(b, c, "main")

        started = time.monotonic()
        r = self.berthctl(b, "restart", "reuse")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log_count(r"reuse\.service: \S+ -> running", 2)
        self.assertLess(time.monotonic() - started, 20)
        self.assertTrue(harness.pid_alive(stranger), "the stranger with pid %d is gone" % c)
        self.assertIsNone(read(record), "the stranger with the main process's old pid %d got "
                          "signals: %r" % (c, read(record)))
        self.assertEqual(b.count_log(r"holds no pidfd"), 0)
        self.assertEqual(self.pidfds(b), 2)  # the new run's: P and its MAINPID=
        self.assertEqual(self.stop(b), 0)

    def test_group_leader_reused(self):
        # The hunt must end before TimeoutStopSec=; on a loaded machine it has taken over 3 s.
        b, state = self.start("control-group", "12s")
        p, c = self.orphan_main(b, state)

        stop = subprocess.Popen([self.executable("BERTHCTL"), "--runtime-dir", b.runtime_dir,
                                 "stop", "reuse"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(harness.end_process, stop)
        # P dies of SIGTERM and berthd reaps it: its number is free, and a stranger takes it
        # (and leads a group of that number) while berthd waits for C until TimeoutStopSec=.
        stranger, record = self.hunt(b, p, "group")
        self.assertEqual(b.count_log(r"reuse\.service: stop-sigterm -> stop-sigkill"), 0,
                         "the hunt took longer than TimeoutStopSec=: inconclusive")
        out, err = stop.communicate(timeout=30)
        self.assertEqual(stop.returncode, 0, err)
        b.wait_log(r"reuse\.service: stop-sigterm -> stop-sigkill")
        b.wait_log(r"reuse\.service: stop-sigkill -> (dead|failed)")
        self.assertTrue(harness.pid_alive(stranger), "the stranger with pid %d is gone" % p)
        self.assertIsNone(read(record), "the stranger with the old group leader's pid %d got "
                          "signals: %r" % (p, read(record)))
        # A service that runs nothing holds no pidfd.
        self.assertEqual(self.pidfds(b), 0)
        self.assertEqual(self.stop(b), 0)

    def test_stranger_exit_not_main(self):
        b, state = self.start("mixed", "500ms")
        _, c = self.orphan_main(b, state)
        stranger, _ = self.hunt(b, c, "exit")
        # The hunter is gone: berthd, the namespace's init, is the stranger's parent now, and
        # reaps it. That is not the service's main process exiting.
        os.kill(stranger, signal.SIGKILL)
        harness.wait_for(lambda: not harness.pid_exists(stranger),
                         what="berthd to reap the stranger")
        self.assertEqual(b.count_log(r"reuse\.service: main process"), 0)
        self.assertEqual(b.count_log(r"reuse\.service: running ->"), 0)
        r = self.berthctl(b, "status", "reuse")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"running")
        self.assertEqual(self.stop(b), 0)

    def test_stranger_notify_not_main(self):
        b, state = self.start("mixed", "500ms", extra="NotifyAccess=all\n")
        _, c = self.orphan_main(b, state)
        sock = read(os.path.join(state, "notify"))
        # The stranger with C's number notifies: it is not the main process, nor of the
        # service's process group, and so not the service's at all.
        self.hunt(b, c, "notify", (sock, "STOPPING=1\nSTATUS=from a stranger"))
        fifo = os.open(os.path.join(state, "again"), os.O_RDWR)
        try:
            os.write(fifo, b"x")
            # Datagrams are read in order: once the first process's STATUS= shows, the
            # stranger's was read before it.
            status = harness.wait_for(lambda: (lambda r: r.stdout if "from the first process"
                                               in r.stdout else None)(
                self.berthctl(b, "status", "reuse")), what="STATUS= from the first process")
        finally:
            os.close(fifo)
        self.assertNotIn("from a stranger", status)
        self.assertEqual(b.count_log(r"STOPPING=1 from pid"), 0)
        self.assertEqual(self.stop(b), 0)

    def test_pid_fallback_hazard(self):
        b, state = self.start("mixed", "500ms", env={"BERTH_PIDFD": "0"})
        b.wait_log(r"tracked by pid, not by pidfd \(BERTH_PIDFD=0\)")
        _, c = self.orphan_main(b, state)
        stranger, record = self.hunt(b, c, "fallback")
        r = self.berthctl(b, "restart", "reuse")
        self.assertEqual(r.returncode, 0, r.stderr)
        got = harness.wait_for(lambda: read(record), what="the stranger to be signalled")
        self.assertIn(str(int(signal.SIGTERM)), got.split())
        self.assertEqual(self.stop(b), 0)


if __name__ == "__main__":
    harness.main()
