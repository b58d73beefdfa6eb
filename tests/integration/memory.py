"""What berthd keeps per socket+service pair (SPEC §8: about a kilobyte). With 1,000 pairs of
unix sockets and on-demand services, its private anonymous memory (RssAnon) over that of 10
pairs stays within a budget per pair, and a daemon-reload that reads every unit again gives
back what the old units held. Skipped under AddressSanitizer, whose shadow memory and
quarantine say nothing of berthd's own."""
import os

import harness

PAIRS = 1000
SMALL = 10
# Bytes per pair. Today about 960 (a unix socket's address is kept on the heap: more than an
# inet pair's); it was 2,600 before the memory passes of issue 13, and 11,500 with a 200-line
# log ring and whole-size units, sockets and sd-event sources per pair. Room for the
# allocator, not for a regression.
BUDGET_PER_PAIR = 1500
# A reload parses every unit again while the old ones still stand; what it leaves behind must
# go back to the system once they are freed. Today it keeps about 0.1 of what the pairs hold
# (0.4 before listings gave their pages back); old units never freed keep 0.8 and more.
RELOAD_RESIDUE = 0.45
# What a listing of every socket leaves, against what the pairs hold: about 0.03 (the pages
# of the reply given back, control_trim_after_reply()); 0.18 when they are not.
LISTING_RESIDUE = 0.1
LOAD_TIMEOUT = 120


def sanitized(pid):
    """Whether berthd runs under AddressSanitizer: gcc loads libasan, clang links the runtime
    into the binary (then its name is in the executable)."""
    with open("/proc/%d/maps" % pid) as f:
        if "libasan" in f.read():
            return True
    with open("/proc/%d/exe" % pid, "rb") as f:
        return b"AddressSanitizer" in f.read()


class Memory(harness.TestCase):
    def pairs(self, n, subdir):
        d = os.path.join(self.dir, subdir)
        os.makedirs(d)
        for i in range(n):
            with open(os.path.join(d, "m%04d.socket" % i), "w") as f:
                f.write("[Socket]\nListenStream=%s/m%04d.sock\n" % (d, i))
            with open(os.path.join(d, "m%04d.service" % i), "w") as f:
                f.write("[Service]\nExecStart=/bin/true\n")
        return d

    def settled_rss(self, b):
        """RssAnon once berthd is idle: after a listing (whose reply berthd gives back once it
        is written) and one more control call, answered after whatever berthd does once the
        listing is out."""
        for verb in (("list-sockets",), ("is-active", "m0000.service")):
            p = self.berthctl(b, *verb)
            self.assertIn(p.returncode, (0, 3), p.stderr)  # is-active: 3 for inactive
        return harness.status_kib(b.proc.pid, "RssAnon")

    def test_per_pair_and_reload(self):
        small = self.berthd(self.pairs(SMALL, "small"), timeout=LOAD_TIMEOUT)
        if sanitized(small.proc.pid):
            self.skipTest("berthd runs under AddressSanitizer")
        small_kb = self.settled_rss(small)
        self.assertEqual(small.stop(), 0)

        b = self.berthd(self.pairs(PAIRS, "big"), timeout=LOAD_TIMEOUT)
        self.assertEqual(b.count_log(r"m\d{4}\.socket: listening on "), PAIRS)
        ready_kb = harness.status_kib(b.proc.pid, "RssAnon")
        big_kb = self.settled_rss(b)
        # The listing of 1,000 sockets (some 100 KiB of reply) is given back once written.
        self.assertLess(big_kb - ready_kb, (ready_kb - small_kb) * LISTING_RESIDUE,
                        "RssAnon %d kB after list-sockets, %d kB at READY=1" %
                        (big_kb, ready_kb))
        per_pair = (big_kb - small_kb) * 1024 / (PAIRS - SMALL)
        self.assertLess(per_pair, BUDGET_PER_PAIR,
                        "%.0f bytes per pair (RssAnon %d kB with %d pairs, %d kB with %d)" %
                        (per_pair, big_kb, PAIRS, small_kb, SMALL))

        p = self.berthctl(b, "daemon-reload", timeout=LOAD_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        after_kb = self.settled_rss(b)
        self.assertLess(after_kb - big_kb, (big_kb - small_kb) * RELOAD_RESIDUE,
                        "RssAnon %d kB after a daemon-reload, %d kB before, %d kB with %d pairs" %
                        (after_kb, big_kb, small_kb, SMALL))
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
