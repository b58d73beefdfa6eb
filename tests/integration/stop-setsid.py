"""`berthctl stop` stops every process of a service, also one that left its session and
process group with setsid() (and so escapes a kill of the process group): with cgroups, the
service's cgroup is killed; without (BERTH_CGROUPS=0, or no writable cgroup2), the processes
that carry the run's INVOCATION_ID= are. Checked from /proc: nothing of the service is left."""
import os
import re

import harness

# The escaped process says its own pid once it is in a session of its own (setsid(1) forks
# first when it leads a process group).
SCRIPT = """setsid sh -c 'echo escaped $$; exec sleep 1000' &
exec sleep 1000
"""


def processes_with(marker):
    """Pids whose command line holds marker (sleep's argument is the same for all)."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if f.read().split(") ")[-1].startswith("Z"):
                        continue
                with open("/proc/%s/environ" % d, "rb") as f:
                    if marker.encode() in f.read():
                        pids.append(int(d))
            except OSError:
                pass
    return pids


class StopSetsid(harness.TestCase):
    def run_case(self, env, cgroups):
        if not harness.is_root():
            self.skipTest("needs root to read other processes' environments")
        script = os.path.join(self.dir, "esc.sh")
        with open(script, "w") as f:
            f.write(SCRIPT)
        self.units({"esc.service": f"[Service]\nExecStart=/bin/sh {script}\nTimeoutStopSec=5\n"})
        b = self.berthd(env=env)
        if cgroups and b.count_log(r"No cgroups for the services"):
            self.skipTest("no writable cgroup2 here: " + b.wait_log(r"No cgroups.*").group(0))
        escaped = int(b.wait_log(r"esc\.service\[\d+\]: escaped (\d+)").group(1))
        main = int(b.wait_log(r"esc\.service: dead -> running \(pid (\d+)\)").group(1))
        self.assertTrue(harness.pid_alive(escaped))
        with open("/proc/%d/environ" % main, "rb") as f:
            env = f.read()
        m = re.search(rb"INVOCATION_ID=([0-9a-f]{32})", env)
        self.assertIsNotNone(m, env)
        inv = m.group(1).decode()
        # It says its pid and then execs sleep: while the exec replaces its memory its
        # environment reads empty, so wait for it to read again.
        harness.wait_for(lambda: escaped in processes_with("INVOCATION_ID=" + inv),
                         what="the escaped process's environment to carry the run's id")
        self.assertNotEqual(os.getsid(escaped), os.getsid(main))

        p = self.berthctl(b, "stop", "esc")
        self.assertEqual(p.returncode, 0, p.stderr)
        b.wait_log(r"esc\.service: stop-sigterm -> dead")
        harness.wait_for(lambda: not harness.pid_alive(escaped),
                         what="the process that called setsid() to be gone")
        self.assertEqual(processes_with("INVOCATION_ID=" + inv), [])
        self.assertEqual(b.stop(), 0)

    def test_with_cgroups(self):
        self.run_case(None, True)

    def test_without_cgroups(self):
        self.run_case({"BERTH_CGROUPS": "0"}, False)


if __name__ == "__main__":
    harness.main()
