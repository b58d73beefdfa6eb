"""The pidfds berthd holds for a service's processes cross a daemon-reexec (issue 14, item 4):
after it, berthd holds the same pidfds (same fd numbers, same processes, as
/proc/PID/fdinfo says), none more, and a stop still reaches the processes through them."""
import os

import harness


def pidfds(pid):
    """{fd: the pid it refers to} of the pidfds process pid holds."""
    out = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) != "anon_inode:[pidfd]":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                out[int(fd)] = int([l.split()[1] for l in f if l.startswith("Pid:")][0])
        except (OSError, IndexError):
            pass
    return out


class PidfdReexec(harness.TestCase):
    def test_pidfds_cross_reexec(self):
        self.units({
            "two.service": "[Service]\nExecStart=/bin/sleep 1000\n",
            "one.service": "[Service]\nExecStart=/bin/sleep 1001\n",
        })
        b = self.berthd()
        main1 = int(b.wait_log(r"two\.service: \S+ -> running \(pid (\d+)\)").group(1))
        main2 = int(b.wait_log(r"one\.service: \S+ -> running \(pid (\d+)\)").group(1))
        before = harness.wait_for(lambda: (lambda h: h if len(h) == 2 else None)(
            pidfds(b.proc.pid)), what="a pidfd for each running service")
        self.assertEqual(sorted(before.values()), sorted([main1, main2]))

        for i in range(2):
            r = self.berthctl(b, "daemon-reexec")
            self.assertEqual(r.returncode, 0, r.stderr)
            b.wait_log_count(r"daemon-reexec: state read", i + 1)
            self.assertEqual(pidfds(b.proc.pid), before)
        self.assertEqual(b.count_log(r"pidfd.*skipped|no longer used"), 0)

        r = self.berthctl(b, "stop", "two", "one")
        self.assertEqual(r.returncode, 0, r.stderr)
        b.wait_log(r"two\.service: main process %d was killed by SIGTERM" % main1)
        b.wait_log(r"one\.service: main process %d was killed by SIGTERM" % main2)
        harness.wait_for(lambda: not pidfds(b.proc.pid), what="the pidfds to be closed")
        self.assertEqual(b.count_log(r"holds no pidfd"), 0)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
