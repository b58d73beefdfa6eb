"""One service's fd store cannot starve the others (SPEC §4 "Fd store"). berthd runs with
RLIMIT_NOFILE 1024:1024; hoard.service (FileDescriptorStoreMax=4096) tries to store 1,000
fds. The fd stores together keep at most half of berthd's limit: the rest are refused with
that reason, another service still starts on demand and serves, and the hoarding service
itself restarts with its 512 stored fds (placing them needs one spare fd, not 512)."""
import os
import resource
import signal

import harness

HOARD = r"""
import os, socket, sys, time
from systemd import daemon
if os.environ.get("LISTEN_FDS"):
    print("got", os.environ["LISTEN_FDS"], flush=True)
    time.sleep(1000)
    sys.exit(0)
fds = []
for _ in range(500):
    r, w = os.pipe()
    fds += [r, w]
for i in range(0, len(fds), 250):
    daemon.notify("FDSTORE=1\nFDNAME=p%d" % i, fds=fds[i:i + 250])
print("stored all", flush=True)
import time
time.sleep(1000)
"""


class FdStoreBudget(harness.TestCase):
    def test_a_hoarding_store_leaves_room(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 1024:
            self.skipTest("needs a hard RLIMIT_NOFILE of at least 1024")
        # berthd inherits these; this file runs this one test, in its own process.
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
        script = os.path.join(self.dir, "hoard.py")
        with open(script, "w") as f:
            f.write(HOARD)
        p = harness.free_port()
        self.units({
            "hoard.service": f"""
                [Service]
                Type=notify
                NotifyAccess=all
                ExecStart=/usr/bin/python3 {script}
                FileDescriptorStoreMax=4096
                TimeoutStartSec=1000
                Restart=always
                RestartSec=0
                """,
            "web.socket": f"[Socket]\nListenStream=127.0.0.1:{p}\n",
            "web.service": "[Service]\nExecStart=/bin/sh -c 'echo started; exec sleep 600'\n",
        })
        b = self.berthd()
        b.wait_log(r"hoard\.service\[\d+\]: stored all")
        b.wait_log(r"hoard\.service: FDSTORE=1, but the services' fd stores already hold 512 "
                   r"fds, the share of berthd's RLIMIT_NOFILE")
        self.assertEqual(b.count_log(r"hoard\.service: stored fd \d+ as "), 512)

        harness.connect("127.0.0.1", p).close()
        b.wait_log(r"web\.service\[\d+\]: started")
        main = int(b.wait_log(r"hoard\.service: dead -> start \(pid (\d+)\)").group(1))
        os.kill(main, signal.SIGKILL)
        b.wait_log(r"hoard\.service\[\d+\]: got 512$")
        self.assertEqual(b.count_log(r"Too many open files|cannot set up the file descriptors"),
                         0)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
