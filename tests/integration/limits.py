"""LimitNOFILE= as systemd 252 applies it (issue 11, item 6), seen by the probe. Without the key
a service gets systemd's default (fallback_rlimit_nofile() in src/core/main.c): soft
min(soft at start, 1024), hard max(hard at start, 524288) capped by fs.nr_open. A limit that is
not allowed is lowered to the closest allowed (setrlimit_closest() in src/basic/rlimit-util.c):
infinity gives fs.nr_open to a privileged berthd, and berthd's own hard limit to one without
CAP_SYS_RESOURCE; no start fails with EPERM. berthd runs here with 1024:4096."""
import json
import os
import resource
import shutil

import harness

START = (1024, 4096)
CASES = {  # unit -> LimitNOFILE= (None: no key)
    "nokey": None,
    "number": "2000",
    "infinity": "infinity",
    "above": "100000",
    "softhard": "512:8192",
}


def nr_open():
    with open("/proc/sys/fs/nr_open") as f:
        return int(f.read())


def restore_limits(limits):
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, limits)
    except (ValueError, OSError):
        pass  # lowered for good without CAP_SYS_RESOURCE: this file runs in its own process


class Limits(harness.TestCase):
    def setUp(self):
        super().setUp()
        before = resource.getrlimit(resource.RLIMIT_NOFILE)
        if before[1] != resource.RLIM_INFINITY and before[1] < START[1]:
            self.skipTest("needs a hard RLIMIT_NOFILE of at least %d" % START[1])
        # berthd inherits this process's limits.
        self.addCleanup(restore_limits, before)
        resource.setrlimit(resource.RLIMIT_NOFILE, START)

    def run_probes(self, wrapper=None):
        probe = self.executable("BERTH_PROBE")
        units = {}
        for name, value in CASES.items():
            units["%s.service" % name] = (
                "[Service]\nType=oneshot\nExecStart=%s\n"
                "Environment=PROBE_OUT=%s PROBE_EXIT=0\n%s" % (
                    probe, os.path.join(self.dir, name + ".json"),
                    "LimitNOFILE=%s\n" % value if value else ""))
        d = self.units(units, subdir="units")
        saved = harness.BERTHD
        if wrapper:
            harness.BERTHD = wrapper
        try:
            b = self.berthd(d)
        finally:
            harness.BERTHD = saved
        got = {}
        for name in CASES:
            b.wait_log(r"%s\.service: \S+ -> (dead|failed)" % name)
            path = os.path.join(self.dir, name + ".json")
            self.assertTrue(os.path.exists(path), "%s did not run; log:\n%s" % (name, b.log()))
            with open(path) as f:
                got[name] = tuple(json.load(f)["rlimit_nofile"])
        self.assertEqual(b.count_log(r"cannot set"), 0)
        self.assertEqual(b.stop(), 0)
        return got

    def test_privileged(self):
        if not harness.is_root() or not harness.has_cap_sys_resource():
            self.skipTest("needs root with CAP_SYS_RESOURCE")
        n = nr_open()
        self.assertEqual(self.run_probes(), {
            "nokey": (1024, min(n, 524288)),
            "number": (2000, 2000),
            "infinity": (n, n),
            "above": (100000, 100000),
            "softhard": (512, 8192),
        })

    def test_without_cap_sys_resource(self):
        """berthd without CAP_SYS_RESOURCE cannot raise a hard limit: the closest is its own."""
        wrapper = None
        if harness.has_cap_sys_resource():
            setpriv = shutil.which("setpriv")
            if not setpriv:
                self.skipTest("needs setpriv (util-linux) to drop CAP_SYS_RESOURCE")
            wrapper = os.path.join(self.dir, "berthd-nocap")
            with open(wrapper, "w") as f:
                f.write("#!/bin/sh\nexec %s --bounding-set=-sys_resource "
                        "--inh-caps=-sys_resource %s \"$@\"\n" % (setpriv, harness.BERTHD))
            os.chmod(wrapper, 0o755)
        self.assertEqual(self.run_probes(wrapper), {
            "nokey": (1024, 4096),
            "number": (2000, 2000),
            "infinity": (4096, 4096),
            "above": (4096, 4096),
            "softhard": (512, 4096),
        })


if __name__ == "__main__":
    harness.main()
