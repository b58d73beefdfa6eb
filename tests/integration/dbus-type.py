"""Type=dbus with BusName= (systemd.service(5)): with a system bus, the service is started once
its name has an owner there, not before; without one, it is treated as Type=simple, and
berthd says so once. The bus here is a private dbus-daemon, which berthd reaches through
DBUS_SYSTEM_BUS_ADDRESS; the service is a small raw D-Bus client (control-raw.py's) that takes
the name when the test lets it. Debian's avahi-daemon is a Type=dbus service."""
import os
import shutil
import subprocess

import harness

HERE = os.path.dirname(os.path.abspath(__file__))

SERVICE = r"""
import importlib.util, os, sys, time
spec = importlib.util.spec_from_file_location("raw", os.path.join(%(here)r, "control-raw.py"))
raw = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw)
BUS = dict(path=b"/org/freedesktop/DBus", interface=b"org.freedesktop.DBus",
           destination=b"org.freedesktop.DBus")
s = raw.connect(%(bus)r)
assert raw.authenticate(s)
s.sendall(raw.method_call(1, "Hello", **BUS))
raw.read_message(s)
print("connected", flush=True)
open(%(gate)r).read()
s.sendall(raw.method_call(2, "RequestName", b"su", ["org.berth.Test", 0], **BUS))
print("name requested", flush=True)
time.sleep(600)
"""


class DbusType(harness.TestCase):
    def test_without_a_bus(self):
        d = self.units({"bus.service": "[Service]\nType=dbus\nBusName=org.berth.Test\n"
                                       "ExecStart=/bin/sleep 600\n"})
        b = self.berthd(d, env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=%s/none" % self.dir})
        b.wait_log(r"No system bus reachable \(.*\): Type=dbus services are treated as "
                   r"Type=simple\.")
        b.wait_log(r"bus\.service: dead -> running")
        self.assertEqual(b.stop(), 0)

    def test_waits_for_the_name(self):
        if not shutil.which("dbus-daemon"):
            self.skipTest("dbus-daemon is not installed (Debian package dbus-daemon)")
        bus = os.path.join(self.dir, "bus")
        daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                   "--address=unix:path=%s" % bus, "--print-address=1"],
                                  stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        self.addCleanup(daemon.stdout.close)
        self.addCleanup(daemon.wait, 10)
        self.addCleanup(daemon.terminate)
        self.assertTrue(daemon.stdout.readline().startswith("unix:path="))
        gate = os.path.join(self.dir, "gate")
        os.mkfifo(gate)
        script = os.path.join(self.dir, "service.py")
        with open(script, "w") as f:
            f.write(SERVICE % {"here": HERE, "bus": bus, "gate": gate})
        d = self.units({"test.service": "[Service]\nType=dbus\nBusName=org.berth.Test\n"
                                        "ExecStart=/usr/bin/python3 %s\n" % script})
        b = self.berthd(d, env={"DBUS_SYSTEM_BUS_ADDRESS": "unix:path=%s" % bus})
        b.wait_log(r"test\.service\[\d+\]: connected")
        r = self.berthctl(b, "status", "test")
        self.assertIn("start", r.stdout, r.stdout)
        self.assertEqual(b.count_log(r"test\.service: start -> running"), 0)
        with open(gate, "w") as f:
            f.write("go\n")
        b.wait_log(r"test\.service: org\.berth\.Test appeared on the system bus")
        b.wait_log(r"test\.service: start -> running")
        self.assertEqual(b.count_log(r"No system bus reachable"), 0)
        self.assertEqual(b.stop(), 0)

    def test_bus_name_needed(self):
        d = self.units({"x.service": "[Service]\nType=dbus\nExecStart=/bin/true\n"})
        p = harness.run_check(d)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("Type=dbus needs BusName=", p.stdout + p.stderr)


if __name__ == "__main__":
    harness.main()
