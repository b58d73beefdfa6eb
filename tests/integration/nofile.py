"""berthd raises its own soft RLIMIT_NOFILE to the hard limit (room for every socket and fd
store, as systemd does for itself), and a service without LimitNOFILE= gets systemd's default
(fallback_rlimit_nofile() in systemd's src/core/main.c): a soft limit of at most 1024, so that
select() users keep working, and the hard limit raised to 524288 where berthd may raise it
(CAP_SYS_RESOURCE), never past fs.nr_open. berthd runs here with 2048:4096. See limits.py for
LimitNOFILE= values."""
import os
import re
import resource

import harness


def nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        m = re.search(r"^Max open files\s+(\d+)\s+(\d+)", f.read(), re.M)
    return int(m.group(1)), int(m.group(2))


class NoFile(harness.TestCase):
    def test_berthd_raises_services_keep(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 4096 and not harness.is_root():
            self.skipTest("needs a hard RLIMIT_NOFILE of at least 4096, or root")
        # Children of this test (berthd) inherit these. Lowering the hard limit cannot be
        # undone without CAP_SYS_RESOURCE: this file runs this one test, in its own process.
        resource.setrlimit(resource.RLIMIT_NOFILE, (2048, 4096))
        self.units({
            "plain.service": "[Service]\nExecStart=/bin/sh -c 'echo limits $(ulimit -Sn) "
                             "$(ulimit -Hn); exec sleep 600'\n",
            "own.service": "[Service]\nExecStart=/bin/sh -c 'echo limits $(ulimit -Sn) "
                           "$(ulimit -Hn); exec sleep 600'\nLimitNOFILE=2000\n",
        })
        b = self.berthd()
        self.assertEqual(nofile(b.proc.pid), (4096, 4096))
        with open("/proc/sys/fs/nr_open") as f:
            hard = min(int(f.read()), 524288) if harness.has_cap_sys_resource() else 4096
        b.wait_log(r"plain\.service\[\d+\]: limits 1024 %d$" % hard)
        b.wait_log(r"own\.service\[\d+\]: limits 2000 2000$")
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
