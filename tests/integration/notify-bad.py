"""Access and bad datagrams: with NotifyAccess=main a message from another process of the
service is ignored and logged; oversized, NUL-containing and credential-less datagrams are
dropped and logged; berthd stays responsive throughout."""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

# The main process waits; a child of it (same process group) claims readiness, which
# NotifyAccess=main must ignore. Then the main process itself says READY=1 once told.
# The child stays alive until the gate opens: berthd tells it is of the service by its
# process group, which a process that is gone (and reaped) no longer has.
SERVICE = r"""
import os, signal, sys, time
from systemd import daemon
pid = os.fork()
if pid == 0:
    daemon.notify("READY=1\nSTATUS=from the child")
    print("child notified", os.getpid(), flush=True)
    time.sleep(1000)
    os._exit(0)
os.read(os.open(os.environ["GATE"], os.O_RDONLY), 1)
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
daemon.notify("READY=1")
time.sleep(1000)
"""


class NotifyBad(harness.TestCase):
    def test_access_main(self):
        gate = os.path.join(self.dir, "gate")
        os.mkfifo(gate)
        script = os.path.join(self.dir, "svc.py")
        with open(script, "w") as f:
            f.write(SERVICE)
        self.units({"acc.service": f"""
            [Service]
            Type=notify
            NotifyAccess=main
            ExecStart=/usr/bin/python3 {script}
            Environment=GATE={gate}
            """})
        b = self.berthd()
        child = b.wait_log(r"acc\.service\[\d+\]: child notified (\d+)").group(1)
        b.wait_log(r"acc\.service: ignoring a notify message from pid %s, another process of "
                   r"the service: NotifyAccess=main does not allow it" % child)
        self.assertEqual(b.count_log(r"acc\.service: start -> running"), 0)
        with open(gate, "w") as g:
            g.write("x")
        b.wait_log(r"acc\.service: start -> running")
        self.assertEqual(b.stop(), 0)

    def test_bad_datagrams(self):
        self.units({"idle.service": "[Service]\nExecStart=/bin/sleep 1000\n"})
        b = self.berthd()
        path = os.path.join(b.runtime_dir, "notify")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.connect(path)
        s.send(b"READY=1\nSTATUS=" + b"x" * 5000)
        b.wait_log(r"notify: dropped a datagram from pid %d \(python3?\): \d+ bytes, more than "
                   r"the 4096 allowed" % os.getpid())
        s.send(b"READY=1\x00STATUS=evil")
        b.wait_log(r"notify: dropped a datagram from pid %d .*NUL" % os.getpid())
        s.send(b"READY=1\n")
        b.wait_log(r"notify: ignoring a message from pid %d, which belongs to no service"
                   % os.getpid())
        s.close()
        # berthd still answers: a notify-less check that the loop runs is a clean stop.
        self.assertEqual(b.stop(), 0)

    def test_credentialless_datagram(self):
        """A sender in a PID namespace berthd cannot see into arrives with pid 0."""
        if not harness.is_root():
            self.skipTest("needs root to run berthd in a PID namespace")
        self.units({"idle.service": "[Service]\nExecStart=/bin/sleep 1000\n"})
        run = os.path.join(self.dir, "run")
        os.makedirs(run)
        proc = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", harness.BERTHD,
                                 "--units", self.dir, "--runtime-dir", run],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def wait_line(pattern):
            import re
            for line in proc.stdout:
                print("berthd|", line.rstrip())
                if re.search(pattern, line):
                    return
            self.fail(f"no {pattern!r}")
        wait_line(r"berthd is ready")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.sendto(b"READY=1\n", os.path.join(run, "notify"))
        s.close()
        wait_line(r"notify: dropped a datagram without usable credentials")
        # still responsive: a clean stop
        kids = harness.wait_for(lambda: open(f"/proc/{proc.pid}/task/{proc.pid}/children")
                                .read().split(), what="berthd in its namespace")
        os.kill(int(kids[0]), 15)
        wait_line(r"idle\.service: stop-sigterm -> dead")
        self.assertEqual(proc.wait(20), 0)


if __name__ == "__main__":
    harness.main()
