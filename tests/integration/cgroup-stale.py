"""berthd's cgroup is berth-NS-PID under its own cgroup, NS being the inode of its pid
namespace. At start it removes the empty ones a berthd of its own namespace left (its PID gone),
and never one of another namespace, whose PID means nothing here: a berthd that is PID 1 of a
container must not remove the host's berthds' cgroups, nor they its. And when its cgroups are
removed all the same (an empty cgroup can always be removed), the next start makes them
again."""
import os
import re

import harness


def cgroup_of(b, test):
    """berthd's cgroup, from its log line at start (a skip when it has none)."""
    m = b.wait_log(r"in its own cgroup under (\S+)\.$|No cgroups for the services")
    if not m.group(1):
        test.skipTest("no cgroup2 hierarchy berthd can write: " + m.group(0))
    return m.group(1)


def dead_pid():
    """A pid no process has now: the highest plausible, checked."""
    for pid in range(4194000, 4194300):
        if not harness.pid_exists(pid):
            return pid
    raise RuntimeError("no free pid found")


class CgroupStale(harness.TestCase):
    def test_stale_of_own_namespace_only(self):
        if not harness.is_root():
            self.skipTest("needs root for a writable cgroup2 hierarchy")
        d = self.units({"x.service": "[Service]\nExecStart=/bin/sleep 600\n"})
        b = self.berthd(d)
        mine = cgroup_of(b, self)
        ns = os.stat("/proc/self/ns/pid").st_ino
        self.assertEqual(os.path.basename(mine), "berth-%d-%d" % (ns, b.proc.pid))
        self.assertEqual(b.stop(), 0)
        root = os.path.dirname(mine)
        pid = dead_pid()
        own = os.path.join(root, "berth-%d-%d" % (ns, pid))
        other = os.path.join(root, "berth-%d-%d" % (ns + 1, pid))
        for path in (own, other):
            os.mkdir(path)
            os.mkdir(os.path.join(path, "svc.service"))
        self.addCleanup(lambda: [os.rmdir(p) for p in (os.path.join(other, "svc.service"),
                                                         other) if os.path.isdir(p)])
        b = self.berthd(d)
        b.wait_log(r"in its own cgroup under ")
        self.assertFalse(os.path.exists(own), "the stale cgroup of this namespace stays")
        self.assertTrue(os.path.isdir(other), "another namespace's cgroup was removed")
        self.assertEqual(b.stop(), 0)

    def test_removed_cgroup_made_again(self):
        if not harness.is_root():
            self.skipTest("needs root for a writable cgroup2 hierarchy")
        d = self.units({"x.service": "[Service]\nExecStart=/bin/sleep 600\n"})
        b = self.berthd(d)
        mine = cgroup_of(b, self)
        b.wait_log(r"x\.service: \S+ -> running")
        self.assertEqual(self.berthctl(b, "stop", "x").returncode, 0)
        b.wait_log(r"x\.service: \S+ -> dead")
        os.rmdir(os.path.join(mine, "x.service"))
        os.rmdir(mine)
        self.assertEqual(self.berthctl(b, "start", "x").returncode, 0)
        b.wait_log(r"x\.service: its cgroup \S+ is gone; making it again")
        b.wait_log_count(r"x\.service: \S+ -> running", 2)
        pid = int(re.findall(r"x\.service: \S+ -> running \(pid (\d+)\)", b.log())[-1])
        with open("/proc/%d/cgroup" % pid) as f:
            self.assertIn(os.path.basename(mine) + "/x.service", f.read())
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
