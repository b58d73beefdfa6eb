"""berthd --check: validates offline, prints the plan, exits non-zero on any error."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class CheckPlan(harness.TestCase):
    def test_plan_of_good_units(self):
        d = self.units({
            "web.socket": """
                [Socket]
                ListenStream=127.0.0.1:18080
                ListenStream=[::1]:18080
                FileDescriptorName=http
                """,
            "web.service": "[Service]\nExecStart=/bin/true\n",
            "dns.socket": """
                [Socket]
                ListenDatagram=*:15353
                BindIPv6Only=separate
                """,
            "dns.service": "[Service]\nExecStart=/bin/true\n",
            "plain.service": "[Service]\nExecStart=/bin/sleep 1000\n",
        })
        r = harness.run_check(d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = r.stdout
        self.assertIn('web.socket -> web.service (fd name "http")', out)
        self.assertIn("TCP 127.0.0.1:18080, IPv4", out)
        self.assertIn("TCP [::1]:18080, IPv6 (IPV6_V6ONLY=1)", out)
        # separate: two sockets for one wildcard
        self.assertIn("UDP 0.0.0.0:15353, IPv4", out)
        self.assertIn("UDP [::]:15353, IPv6 only (IPV6_V6ONLY=1)", out)
        self.assertIn(f"web.socket:2)", out.replace(d + "/", ""))
        self.assertIn("plain.service: no socket, started at berthd start", out)
        self.assertIn("web.service: socket-activated, started on the first connection", out)
        self.assertRegex(out, r"OK: 5 units .* 4 sockets to bind, 0 errors")
        # --check binds nothing
        self.assertFalse(harness.ss_has(["-ltn"], "127.0.0.1:18080"))

    def test_default_is_dual_stack(self):
        d = self.units({
            "w.socket": "[Socket]\nListenStream=18081\n",
            "w.service": "[Service]\nExecStart=/bin/true\n",
        })
        r = harness.run_check(d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("TCP [::]:18081, dual-stack: IPv4 and IPv6 (IPV6_V6ONLY=0)", r.stdout)

    def test_errors_fail_and_name_file_line(self):
        d = self.units({
            "a.socket": "[Socket]\nListenStream=127.0.0.1:18082\n",
            "a.service": "[Service]\nExecStart=/bin/true\n",
            "b.socket": "[Socket]\nFrobnicate=yes\nListenStream=::1:8080\n",
            "b.service": "[Service]\nExecStart=/bin/true\n",
            "c.socket": "[Socket]\nListenStream=127.0.0.1:18083\n",
            "c.service": "[Service]\nExecStart=/bin/true\n",
        })
        r = harness.run_check(d)
        self.assertNotEqual(r.returncode, 0)
        err = r.stderr
        b = os.path.join(d, "b.socket")
        # unknown key: a warning with file:line, ignored
        self.assertRegex(err, re.escape(b) + r":2: .*Frobnicate")
        # bad address: an error with file:line and the right spelling
        self.assertRegex(err, re.escape(b) + r":3: .*\[::1\]:8080")
        # the neighbours are still planned
        self.assertIn("TCP 127.0.0.1:18082", r.stdout)
        self.assertIn("TCP 127.0.0.1:18083", r.stdout)
        self.assertRegex(r.stdout, r"FAILED: .* [1-9][0-9]* errors?")

    def test_service_of_a_failed_socket_waits(self):
        """A socket unit that fails to load (here: an invalid Backlog=)
        leaves its service waiting, not started at berthd's start; the plan says why, and so
        does berthd, which indeed does not start it."""
        d = self.units({"net.socket": "[Socket]\nListenStream=127.0.0.1:%d\nBacklog=lots\n"
                                      % harness.free_port(),
                        "net.service": "[Service]\nExecStart=/bin/sleep 100\n",
                        "other.service": "[Service]\nExecStart=/bin/sleep 100\n"})
        p = harness.run_check(d)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("net.service: not started: its socket unit net.socket failed to load (",
                      p.stdout)
        self.assertNotIn("net.service: no socket, started at berthd start", p.stdout)
        b = self.berthd(d)
        b.wait_log(r"net\.service: not started: its socket unit net\.socket failed to load")
        b.wait_log(r"other\.service: dead -> running")
        self.assertEqual(b.stop(), 0)
        self.assertEqual(b.count_log(r"net\.service: dead ->"), 0)

    def test_messages(self):
        """Issue 10 item 10: a socket whose service failed to load says so (not "does not
        exist"); no message names its unit twice; `--units .` names files without "./"."""
        d = self.units({"a.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % harness.free_port(),
                        "a.service": "[Service]\nExecStart=/bin/echo %q\n"})
        p = subprocess.run([harness.BERTHD, "--check", "--units", "."], cwd=d,
                           capture_output=True, text=True, timeout=harness.DEFAULT_TIMEOUT)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 1, out)
        self.assertIn("%s/a.socket: its service a.service failed to load (its error is above), "
                      "so a.socket is not loaded either" % os.path.realpath(d), out)
        self.assertIn("%s/a.service:2: Invalid command line in ExecStart=" % os.path.realpath(d),
                      out)
        self.assertNotIn("does not exist", out)
        self.assertNotIn("a.socket: a.socket:", out)
        self.assertNotIn("/./", out)

    def test_missing_service(self):
        d = self.units({"lonely.socket": "[Socket]\nListenStream=127.0.0.1:18084\n"})
        r = harness.run_check(d)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("its service lonely.service does not exist", r.stderr)

    def test_help_and_version(self):
        import subprocess
        r = subprocess.run([harness.BERTHD, "--help"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--check", r.stdout)
        r = subprocess.run([harness.BERTHD, "--version"], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^berthd \d+\.\d+")
        r = subprocess.run([harness.BERTHD, "--no-such-option"], capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)


import re  # noqa: E402

if __name__ == "__main__":
    harness.main()
