"""The dual-stack policy never depends on net.ipv6.bindv6only, except for systemd's
BindIPv6Only=default, which follows it explicitly and says so. Runs in a private network
namespace (unshare -n) so the sysctl can change; skipped when not root."""
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

IN_NETNS = os.environ.get("BERTH_IN_NETNS") == "1"
PORT = 8080  # a private namespace: no other listener exists


def set_bindv6only(value):
    with open("/proc/sys/net/ipv6/bindv6only", "w") as f:
        f.write(str(value))


def refused(host, family):
    try:
        harness.connect(host, PORT, family).close()
    except ConnectionRefusedError:
        return True
    return False


class DualStack(harness.TestCase):
    def setUp(self):
        if not IN_NETNS:
            self.skipTest("needs root for a private network namespace (unshare -n)")
        super().setUp()

    def start(self, policy_line, sysctl):
        set_bindv6only(sysctl)
        d = self.units({"w.socket": f"[Socket]\nListenStream={PORT}\n{policy_line}\n",
                        "w.service": "[Service]\nExecStart=/bin/true\n"})
        return self.berthd(d)

    def test_both_takes_ipv4_despite_sysctl_1(self):
        b = self.start("BindIPv6Only=both", 1)
        harness.connect("127.0.0.1", PORT).close()
        harness.connect("::1", PORT, socket.AF_INET6).close()
        b.wait_log(r"\[::\]:8080 .*dual-stack")
        self.assertEqual(b.stop(), 0)

    def test_absent_key_means_both(self):
        b = self.start("", 1)
        harness.connect("127.0.0.1", PORT).close()
        self.assertEqual(b.stop(), 0)

    def test_ipv6_only_refuses_ipv4_despite_sysctl_0(self):
        b = self.start("BindIPv6Only=ipv6-only", 0)
        self.assertTrue(refused("127.0.0.1", socket.AF_INET))
        harness.connect("::1", PORT, socket.AF_INET6).close()
        b.wait_log(r"\[::\]:8080 .*IPv6 only")
        self.assertEqual(b.stop(), 0)

    def test_separate_gives_two_sockets(self):
        b = self.start("BindIPv6Only=separate", 0)
        listing = harness.ss("-ltn")
        self.assertIn("0.0.0.0:8080", listing)
        self.assertIn("[::]:8080", listing)
        harness.connect("127.0.0.1", PORT).close()
        harness.connect("::1", PORT, socket.AF_INET6).close()
        b.wait_log(r"w\.socket: listening on 0\.0\.0\.0:8080")
        b.wait_log(r"w\.socket: listening on \[::\]:8080 .*IPv6 only")
        self.assertEqual(b.stop(), 0)

    def test_default_follows_sysctl_1_and_warns(self):
        b = self.start("BindIPv6Only=default", 1)
        b.wait_log(r"BindIPv6Only=default follows net\.ipv6\.bindv6only=1: .*IPv6 only")
        self.assertTrue(refused("127.0.0.1", socket.AF_INET))
        self.assertEqual(b.stop(), 0)

    def test_default_follows_sysctl_0(self):
        b = self.start("BindIPv6Only=default", 0)
        b.wait_log(r"BindIPv6Only=default follows net\.ipv6\.bindv6only=0: .*dual-stack")
        harness.connect("127.0.0.1", PORT).close()
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    if not IN_NETNS and harness.is_root():
        # Re-run this file inside a new network namespace with loopback up.
        env = dict(os.environ, BERTH_IN_NETNS="1")
        r = subprocess.run(["unshare", "-n", "sh", "-c",
                            'ip link set lo up && exec "$0" "$@"', sys.executable,
                            os.path.abspath(__file__)], env=env)
        sys.exit(r.returncode)
    if not IN_NETNS:
        print("SKIP: needs root for a private network namespace (unshare -n)")
    harness.main()
