"""Type=forking (systemd.service(5)): the service is started once its first process exits
with success, having left its daemon; the main process is then the pid in PIDFile= (checked to
be one of the service's), or with GuessMainPID= the one process of the service left. The
daemon gets the sockets, berthd follows it (it is berthd's as a child subreaper), a stop stops
it, and its death is seen. Debian's gpsd, iscsid and spice-vdagentd are forking services."""
import os
import signal

import harness

SERVER = r"""
import os, socket, sys
s = socket.socket(fileno=3)
while True:
    c, _ = s.accept()
    c.sendall(b"forked %d\n" % os.getpid())
    c.close()
"""


class Forking(harness.TestCase):
    def test_forking(self):
        port = harness.free_port()
        pidfile = os.path.join(self.dir, "web.pid")
        server = os.path.join(self.dir, "server.py")
        with open(server, "w") as f:
            f.write(SERVER)
        d = self.units({
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % port,
            "web.service": "[Service]\nType=forking\nPIDFile=%s\n"
                           "ExecStart=/bin/sh -c '/usr/bin/python3 %s & echo $! > %s'\n"
                           % (pidfile, server, pidfile),
            "guess.service": "[Service]\nType=forking\n"
                             "ExecStart=/bin/sh -c '/bin/sleep 600 &'\n",
            "bad.service": "[Service]\nType=forking\nExecStart=/bin/sh -c 'exit 3'\n",
            "lost.service": "[Service]\nType=forking\nPIDFile=%s/none.pid\n"
                            "ExecStart=/bin/true\n" % self.dir,
        })
        p = harness.run_check(d)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

        b = self.berthd(d)
        # guessed: the one process left
        m = b.wait_log(r"guess\.service: the main process is now pid (\d+) \(the one process "
                       r"of it left\)")
        guess = int(m.group(1))
        # the same pid, once the shell's child has exec'd sleep

        def cmdline():
            with open("/proc/%d/cmdline" % guess, "rb") as f:
                return f.read().startswith(b"/bin/sleep\x00600\x00")
        harness.wait_for(cmdline, what="the guessed main process to be sleep")
        b.wait_log(r"guess\.service: start -> running")
        b.wait_log(r"bad\.service: main process \d+ exited with status 3")
        b.wait_log(r"lost\.service: its first process exited, but its main process is "
                   r"unknown: PIDFile=%s/none\.pid holds no pid" % self.dir)

        # socket-activated: the daemon serves on the socket it inherited
        with harness.connect("127.0.0.1", port) as c:
            c.settimeout(harness.DEFAULT_TIMEOUT)
            line = c.recv(64)
        main = int(b.wait_log(r"web\.service: the main process is now pid (\d+) \(from "
                              r"PIDFile=").group(1))
        self.assertEqual(line, b"forked %d\n" % main)
        with open(pidfile) as f:
            self.assertEqual(int(f.read()), main)

        # its death is seen; a stop stops the other
        os.kill(main, signal.SIGKILL)
        b.wait_log(r"web\.service: main process %d was killed by SIGKILL" % main)
        r = self.berthctl(b, "stop", "guess")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"guess\.service: \S+ -> dead")
        harness.wait_for(lambda: not harness.pid_alive(guess), what="the guessed daemon to go")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
