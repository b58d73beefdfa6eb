"""The resource keys of systemd.resource-control(5) (TasksMax=, MemoryMax=, MemoryHigh=,
CPUQuota=, CPUWeight=, IOWeight=) reach the service's cgroup where its controller is
available; where it is not (the development and CI machines bind memory, pids, cpu and io to
cgroup v1), berthd says so once per key, names why, and runs the service all the same. Either
way, each key is checked: its file in the service's cgroup holds the value, or the log says
why it does not."""
import os
import re

import harness

KEYS = {
    # key: (value in the unit, file, what the file must hold)
    "TasksMax": ("77", "pids.max", "77"),
    "MemoryMax": ("64M", "memory.max", str(64 << 20)),
    "MemoryHigh": ("infinity", "memory.high", "max"),
    "CPUQuota": ("50%", "cpu.max", "50000 100000"),
    "CPUWeight": ("42", "cpu.weight", "42"),
    "IOWeight": ("300", "io.weight", "default 300"),
}


class ResourceLimits(harness.TestCase):
    def test_applied_or_told(self):
        if not harness.is_root():
            self.skipTest("needs root for a writable cgroup2 hierarchy")
        keys = "".join("%s=%s\n" % (k, v[0]) for k, v in KEYS.items())
        self.units({"lim.service": "[Service]\nExecStart=/bin/sleep 1000\n" + keys +
                    "[Install]\nWantedBy=multi-user.target\n"})
        b = self.berthd()
        if b.count_log(r"No cgroups for the services"):
            self.skipTest("no writable cgroup2 here: " + b.wait_log(r"No cgroups.*").group(0))
        root = b.wait_log(r"Each service runs in its own cgroup under (\S+)\.").group(1)
        b.wait_log(r"lim\.service: dead -> running")
        cgroup = os.path.join(root, "lim.service")
        applied = told = 0
        for key, (_, name, want) in KEYS.items():
            path = os.path.join(cgroup, name)
            if b.count_log(r"lim\.service: %s= is not applied: " % key):
                self.assertEqual(b.count_log(r"lim\.service: %s= is not applied: the \w+ "
                                             r"controller is not available in \S+ "
                                             r"\(cgroup\.controllers|cannot" % key), 1)
                told += 1
                continue
            with open(path) as f:
                got = f.read().strip()
            if name == "io.weight":
                got = got.splitlines()[0]
            self.assertEqual(got, want, key)
            applied += 1
        self.assertEqual(applied + told, len(KEYS))
        print("resource-limits: %d keys applied, %d told not applied" % (applied, told))

        # A restart applies them again (a new cgroup) and says nothing more.
        p = self.berthctl(b, "restart", "lim")
        self.assertEqual(p.returncode, 0, p.stderr)
        b.wait_log_count(r"lim\.service: \w+ -> running", 2)
        self.assertEqual(b.count_log(r"is not applied"), told)
        self.assertEqual(b.stop(), 0)

    def test_invalid_values(self):
        self.units({"bad.service": "[Service]\nExecStart=/bin/true\nCPUQuota=0%\n",
                    "bad2.service": "[Service]\nExecStart=/bin/true\nMemoryMax=101%\n"})
        out = harness.run_check(self.dir)
        self.assertIn("bad.service:3: Invalid value for CPUQuota=: '0%' (expected a percentage "
                      "above 0", out.stdout + out.stderr)
        self.assertIn("bad2.service:3: Invalid value for MemoryMax=: '101%' (expected bytes",
                      out.stdout + out.stderr)


if __name__ == "__main__":
    harness.main()
