"""Debian 12's ssh.socket and ssh.service (openssh-server) as shipped (issue 11's acceptance):
the unit files are copied from /lib/systemd/system unchanged, and only a drop-in moves the
socket from port 22 to a loopback test port. berthd, and so sshd, run in a network namespace
of their own. ssh.service needs RuntimeDirectory=sshd (sshd -t in ExecStartPre= fails without
/run/sshd), EnvironmentFile=-/etc/default/ssh, Type=notify and the socket in LISTEN_FDS;
ssh-keyscan must get the host's keys through berth's socket. The test does not rely on
RestartPreventExitStatus=."""
import os
import shutil
import stat
import subprocess

import harness

UNITS = "/lib/systemd/system"


class SshSocket(harness.TestCase):
    def test_ssh_keyscan(self):
        if not harness.is_root():
            self.skipTest("needs root: a network namespace, and sshd")
        for path in ("/usr/sbin/sshd", "/usr/bin/ssh-keyscan", os.path.join(UNITS, "ssh.socket"),
                     os.path.join(UNITS, "ssh.service")):
            if not os.path.exists(path):
                self.skipTest("%s is missing (Debian packages openssh-server and "
                              "openssh-client)" % path)
        if os.path.exists("/run/sshd"):
            self.skipTest("/run/sshd exists: an sshd of the host's owns it, and ssh.service's "
                          "RuntimeDirectory= would remove it on stop")
        if not any(n.startswith("ssh_host_") and n.endswith("_key")
                   for n in os.listdir("/etc/ssh")):
            # openssh-server's postinst makes them; a host without them gets them here.
            subprocess.run(["ssh-keygen", "-A"], check=True, capture_output=True, timeout=120)
        port = harness.free_port()
        d = self.units({
            "ssh.socket.d/port.conf": "[Socket]\nListenStream=\nListenStream=127.0.0.1:%d\n"
                                      % port,
        })
        for n in ("ssh.socket", "ssh.service"):
            shutil.copy(os.path.join(UNITS, n), d)

        b = self.berthd_in_netns(d)
        b.wait_log(r"ssh\.socket: listening on 127\.0\.0\.1:%d" % port)

        def keyscan():
            return subprocess.run(["nsenter", "-t", str(b.proc.pid), "-n", "ssh-keyscan",
                                   "-T", "20", "-p", str(port), "127.0.0.1"],
                                  capture_output=True, text=True, timeout=60)

        p = keyscan()
        got = sorted(tuple(line.split()[1:3]) for line in p.stdout.splitlines()
                     if line and not line.startswith("#"))
        want = []
        for n in sorted(os.listdir("/etc/ssh")):
            if n.startswith("ssh_host_") and n.endswith("_key.pub"):
                with open(os.path.join("/etc/ssh", n)) as f:
                    want.append(tuple(f.read().split()[0:2]))
        self.assertTrue(got, "ssh-keyscan got no host key: %s\nlog:\n%s" % (p.stderr, b.log()))
        self.assertEqual(got, sorted(want))
        self.assertTrue(all(line.startswith("[127.0.0.1]:%d " % port)
                            for line in p.stdout.splitlines() if line and line[0] != "#"))

        # sshd -t ran first (it needs /run/sshd), then sshd itself, ready by READY=1, once.
        b.wait_log(r"ssh\.service: control process \d+ exited with status 0")
        pid = int(b.wait_log(r"ssh\.service: start -> running \(pid (\d+)\)").group(1))
        self.assertEqual(b.count_log(r"ssh\.service: \S+ -> start-pre"), 1)
        st = os.stat("/run/sshd")
        self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid), (0o755, 0))
        # A second client is served by the same sshd.
        self.assertTrue(keyscan().stdout.strip())
        self.assertEqual(b.count_log(r"ssh\.service: \S+ -> start-pre"), 1)
        self.assertTrue(harness.pid_alive(pid))

        r = self.berthctl(b, "stop", "ssh.service")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"ssh\.service: \S+ -> dead")
        self.assertFalse(os.path.exists("/run/sshd"))  # RuntimeDirectory= goes at stop
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
