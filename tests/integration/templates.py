"""Templates and instances (systemd.unit(5)): NAME@.socket and NAME@.service show in the plan
as templates and bind nothing; `berthctl start NAME@INST.socket` makes the instance from the
template, with %i and the template's drop-ins, binds it and keeps it across daemon-reload;
its service instance starts on the first connection. An instance file of its own wins over
the template. Starting the template itself is refused, saying what to do."""
import os

import harness

SOCKET = """[Socket]
ListenStream=127.0.0.1:%i
FileDescriptorName=%p-%i
"""
SERVICE = """[Service]
ExecStart=/bin/sh -c 'echo "instance %i ($GREETING) fds $LISTEN_FDNAMES"; exec sleep 600'
"""


class Templates(harness.TestCase):
    def test_template_instances(self):
        port, own = harness.free_port(), harness.free_port()
        d = self.units({
            "web@.socket": SOCKET,
            "web@.service": SERVICE,
            "web@.service.d/greeting.conf": "[Service]\nEnvironment=GREETING=hello\n",
            # an instance with a file of its own: used as is, not made from the template
            "web@own.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % own,
        })
        p = harness.run_check(d)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("web@.socket: template; `berthctl start web@INSTANCE.socket` makes an "
                      "instance", p.stdout)
        self.assertIn("web@.service: template", p.stdout)
        self.assertIn("bind TCP 127.0.0.1:%d" % own, p.stdout)
        self.assertIn("1 socket to bind", p.stdout)

        b = self.berthd(d)
        r = self.berthctl(b, "start", "web@.socket")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("web@.socket is a template: start an instance of it", r.stderr)

        r = self.berthctl(b, "start", "web@%d.socket" % port)
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"web@%d\.socket: made from web@\.socket" % port)
        b.wait_log(r"web@%d\.socket: listening on 127\.0\.0\.1:%d" % (port, port))
        self.assertEqual(b.count_log(r"web@%d\.service: dead ->" % port), 0)
        harness.connect("127.0.0.1", port).close()
        b.wait_log(r"web@%d\.service\[\d+\]: instance %d \(hello\) fds web-%d$"
                   % (port, port, port))

        # It stays across a daemon-reload, with its socket kept.
        r = self.berthctl(b, "daemon-reload")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.berthctl(b, "list-units")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"web@%d\.socket\s+loaded" % port)
        self.assertRegex(r.stdout, r"web@%d\.service\s+loaded\s+active" % port)
        self.assertRegex(r.stdout, r"web@\.socket\s+template")
        harness.connect("127.0.0.1", port).close()
        self.assertEqual(b.count_log(r"web@%d\.service: dead -> running" % port), 1)

        # The instance with a file of its own.
        harness.connect("127.0.0.1", own).close()
        b.wait_log(r"web@own\.service\[\d+\]: instance own \(hello\) fds web@own\.socket$")
        self.assertEqual(b.stop(), 0)

    def test_unknown_template(self):
        b = self.berthd(self.units({"x.service": "[Service]\nExecStart=/bin/sleep 600\n"}))
        r = self.berthctl(b, "start", "nothere@1.socket")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nothere@1.socket could not be found", r.stderr)


if __name__ == "__main__":
    harness.main()
