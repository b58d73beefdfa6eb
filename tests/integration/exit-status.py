"""SuccessExitStatus=, RestartPreventExitStatus= and RestartForceExitStatus= (systemd.service(5),
systemd 252's is_clean_exit() and service_shall_restart()): a Java service that exits 143
with SuccessExitStatus=143 ended cleanly (dead, not failed, and Restart=on-failure does not
restart it); a listed signal is clean too; a status in RestartPreventExitStatus= is never
restarted, one in RestartForceExitStatus= always is, even with Restart=no; a word that is
neither a status nor a signal is skipped with a warning naming file:line. The "-" prefix of
ExecStart= makes any end of the main process clean."""
import os

import harness

# Counts its runs in a file; the first ends with status 0, the next with 5.
COUNTED = ("/bin/sh -c 'n=$(cat %s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %s; "
           "test $n -ge 2 && exit 5; exit 0'")


class ExitStatus(harness.TestCase):
    def test_exit_statuses(self):
        runs = os.path.join(self.dir, "runs")
        d = self.units({
            "java.service": "[Service]\nExecStart=/bin/sh -c 'exit 143'\nRestart=on-failure\n"
                            "RestartSec=0\nSuccessExitStatus=143 NOTASTATUS\n",
            "usr1.service": "[Service]\nExecStart=/bin/sh -c 'kill -USR1 $$$$'\n"
                            "Restart=on-failure\nRestartSec=0\nSuccessExitStatus=SIGUSR1\n",
            "dash.service": "[Service]\nExecStart=-/bin/sh -c 'exit 7'\nRestart=on-failure\n"
                            "RestartSec=0\n",
            "prevent.service": "[Service]\nExecStart=/bin/sh -c 'exit 3'\nRestart=always\n"
                               "RestartSec=0\nRestartPreventExitStatus=3\n",
            "force.service": "[Service]\nExecStart=%s\nRestartSec=0\n"
                             "RestartForceExitStatus=0\n" % (COUNTED % (runs, runs)),
            # The control: without the keys, 143 is a failure that Restart= acts on; it is
            # restarted once, then the start limit holds it.
            "plain.service": "[Unit]\nStartLimitBurst=2\n[Service]\n"
                             "ExecStart=/bin/sh -c 'exit 143'\nRestart=on-failure\n"
                             "RestartSec=0\n",
        })
        b = self.berthd(d)
        b.wait_log(r"java\.service:5: Invalid word in SuccessExitStatus=: 'NOTASTATUS'.*"
                   r"ignoring")
        b.wait_log(r"java\.service: main process \d+ exited with status 143")
        b.wait_log(r"java\.service: running -> dead$")
        b.wait_log(r"usr1\.service: main process \d+ was killed by SIGUSR1")
        b.wait_log(r"usr1\.service: running -> dead$")
        b.wait_log(r"dash\.service: main process \d+ exited with status 7")
        b.wait_log(r"dash\.service: running -> dead$")
        b.wait_log(r"prevent\.service: not restarted: its exit is in RestartPreventExitStatus=")
        b.wait_log(r"prevent\.service: running -> failed \(result: exit-code\)")
        b.wait_log(r"force\.service: restarted whatever Restart= says: its exit is in "
                   r"RestartForceExitStatus=")
        b.wait_log(r"force\.service: main process \d+ exited with status 5")
        b.wait_log(r"force\.service: running -> failed \(result: exit-code\)")
        b.wait_log(r"plain\.service: restarting \(restart 1")
        b.wait_log(r"plain\.service: .*backing off")

        # Restarts: none for the clean ones and the prevented one; one forced.
        for name in ("java", "usr1", "dash", "prevent"):
            self.assertEqual(b.count_log(r"%s\.service: restarting" % name), 0, name)
            self.assertEqual(b.count_log(r"%s\.service: main process" % name), 1, name)
        self.assertEqual(b.count_log(r"force\.service: restarting"), 1)
        with open(runs) as f:
            self.assertEqual(f.read().strip(), "2")
        st = self.berthctl(b, "status", "java.service")
        self.assertRegex(st.stdout, r"(?m)^ *Active: inactive \(dead\)", st.stdout)
        self.assertEqual(b.stop(), 0)


if __name__ == "__main__":
    harness.main()
