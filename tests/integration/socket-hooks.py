"""ExecStartPre=, ExecStartPost=, ExecStopPre= and ExecStopPost= in [Socket]
(systemd.socket(5)): the first runs before the unit's sockets are bound, the second after, the
others around their closing at berthd's stop, in that order; a command that fails leaves the
unit unbound and failed, saying which command, unless its "-" prefix ignores the failure; one
that outlives TimeoutSec= is killed. Debian's sssd responders guard their sockets this way."""
import os

import harness


class SocketHooks(harness.TestCase):
    def test_order_and_failures(self):
        log = os.path.join(self.dir, "hooks.log")
        port, bad, ignored, slow = (harness.free_port() for _ in range(4))

        def hook(word, check=""):
            return "/bin/sh -c 'echo %s%s >> %s'" % (word, check, log)

        # ExecStartPost= sees the socket bound; ExecStartPre= does not.
        probe = " $(ss -ltnH src 127.0.0.1:%d | wc -l)" % port
        d = self.units({
            "good.socket": "[Socket]\nListenStream=127.0.0.1:%d\n"
                           "ExecStartPre=%s\nExecStartPost=%s\n"
                           "ExecStopPre=%s\nExecStopPost=%s\n"
                           % (port, hook("pre", probe), hook("post", probe),
                              hook("stop-pre", probe), hook("stop-post", probe)),
            "good.service": "[Service]\nExecStart=/bin/sleep 600\n",
            "bad.socket": "[Socket]\nListenStream=127.0.0.1:%d\nExecStartPre=/bin/false\n" % bad,
            "bad.service": "[Service]\nExecStart=/bin/sleep 600\n",
            "ignored.socket": "[Socket]\nListenStream=127.0.0.1:%d\nExecStartPre=-/bin/false\n"
                              % ignored,
            "ignored.service": "[Service]\nExecStart=/bin/sleep 600\n",
            "slow.socket": "[Socket]\nListenStream=127.0.0.1:%d\nTimeoutSec=1\n"
                           "ExecStartPre=/bin/sleep 600\n" % slow,
            "slow.service": "[Service]\nExecStart=/bin/sleep 600\n",
        })
        b = self.berthd(d)
        b.wait_log(r"bad\.socket: ExecStartPre=/bin/false exited with status 1; its sockets "
                   r"are not bound")
        b.wait_log(r"slow\.socket: ExecStartPre=/bin/sleep did not finish within TimeoutSec= "
                   r"and was killed")
        self.assertTrue(harness.ss_has(["-ltn"], "127.0.0.1:%d" % port))
        self.assertTrue(harness.ss_has(["-ltn"], "127.0.0.1:%d" % ignored))
        self.assertFalse(harness.ss_has(["-ltn"], "127.0.0.1:%d" % bad))
        self.assertFalse(harness.ss_has(["-ltn"], "127.0.0.1:%d" % slow))
        r = self.berthctl(b, "status", "bad.socket")
        self.assertIn("ExecStartPre=/bin/false exited with status 1", r.stdout + r.stderr)
        with open(log) as f:
            self.assertEqual(f.read().split(), ["pre", "0", "post", "1"])

        # A reload that adds a unit with hooks runs them; one that removes a unit runs its
        # stop hooks; a failing ExecStartPre= of an added unit leaves it unbound.
        later, later_bad = harness.free_port(), harness.free_port()
        added = os.path.join(self.dir, "added.log")
        self.units({
            "later.socket": "[Socket]\nListenStream=127.0.0.1:%d\n"
                            "ExecStartPre=/bin/sh -c 'echo added-pre >> %s'\n"
                            "ExecStartPost=/bin/sh -c 'echo added-post >> %s'\n"
                            % (later, added, added),
            "later.service": "[Service]\nExecStart=/bin/sleep 600\n",
            "laterbad.socket": "[Socket]\nListenStream=127.0.0.1:%d\n"
                               "ExecStartPre=/bin/sh -c 'exit 3'\n" % later_bad,
            "laterbad.service": "[Service]\nExecStart=/bin/sleep 600\n",
        })
        os.unlink(os.path.join(d, "good.socket"))
        os.unlink(os.path.join(d, "good.service"))
        r = self.berthctl(b, "daemon-reload")
        self.assertNotEqual(r.returncode, 0)  # laterbad's hook failed: an error is told
        self.assertIn("laterbad.socket: ExecStartPre=/bin/sh exited with status 3",
                      r.stdout + r.stderr)
        with open(added) as f:
            self.assertEqual(f.read().split(), ["added-pre", "added-post"])
        self.assertTrue(harness.ss_has(["-ltn"], "127.0.0.1:%d" % later))
        self.assertFalse(harness.ss_has(["-ltn"], "127.0.0.1:%d" % later_bad))
        self.assertFalse(harness.ss_has(["-ltn"], "127.0.0.1:%d" % port))
        with open(log) as f:
            self.assertEqual(f.read().split(),
                             ["pre", "0", "post", "1", "stop-pre", "1", "stop-post", "0"])
        os.unlink(log)
        self.assertFalse(os.path.exists(log))  # good.socket is gone: no hook at exit


if __name__ == "__main__":
    harness.main()
