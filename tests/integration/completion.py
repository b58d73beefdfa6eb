"""Shell completion for berthctl (completion/): bash, zsh and fish. Each file loads in its
shell (bash and fish run it; zsh -n parses it), and offers exactly the commands of
`berthctl --help`. bash and fish also complete the unit names of a running berthd, reached
with the --runtime-dir of the command line, and fds only its sockets. zsh and fish are
skipped when they are not installed (./dev.sh test installs them)."""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

SOURCE = os.environ.get("BERTH_SOURCE_ROOT") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPLETION = os.path.join(SOURCE, "completion")
PORT = 22030
TIMEOUT = 30


# Types a line and TAB into an interactive zsh (on a pty, through zsh/zpty) with the completion
# in its fpath, and reads until the screen shows $3 (or the test's timeout ends it).
ZSH_DRIVER = r"""
zmodload zsh/zpty
zpty z 'zsh -f -i'
zpty -w z "fpath=($1 \$fpath); autoload -U compinit; compinit -u -D; PS1='%% '; LISTMAX=1000"
zpty -w -n z "$2"$'\t'
zpty -r z out "*$3*" && print -r -- "$out"
zpty -d z
"""


class Completion(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.berthctl = self.executable("BERTHCTL")
        # berthctl as the completions call it: by name, in PATH.
        self.env = dict(os.environ, PATH=os.path.dirname(self.berthctl) + ":" +
                        os.environ.get("PATH", "/usr/bin:/bin"))
        self.env.pop("BERTH_RUNTIME_DIR", None)

    def help_commands(self):
        """The commands `berthctl --help` lists, under "Units:" and "berthd:"."""
        out = subprocess.run([self.berthctl, "--help"], capture_output=True, text=True,
                             check=True, timeout=TIMEOUT).stdout
        body = out.split("\nUnits:\n", 1)[1].split("\nOptions:\n", 1)[0]
        commands = set(re.findall(r"(?m)^  ([a-z][a-z-]*)\b", body))
        self.assertIn("list-sockets", commands)
        self.assertIn("daemon-reexec", commands)
        return commands

    def bash_complete(self, *words):
        """What bash offers for the last of words (COMPREPLY of _berthctl)."""
        script = ('source %s/berthctl\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\n_berthctl\n'
                  'printf "%%s\\n" "${COMPREPLY[@]}"\n' % (
                      COMPLETION, " ".join("'%s'" % w for w in words), len(words) - 1))
        p = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                           timeout=TIMEOUT, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        return set(p.stdout.split())

    def fish_complete(self, line):
        """What fish offers for line (complete -C), without the descriptions."""
        p = subprocess.run(["fish", "--no-config", "-c",
                            "source %s/berthctl.fish; complete -C %s" % (
                                COMPLETION, "'" + line + "'")],
                           capture_output=True, text=True, timeout=TIMEOUT, env=self.env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        return {x.split("\t")[0] for x in p.stdout.splitlines()}

    def need(self, shell):
        if not shutil.which(shell):
            self.skipTest("%s is not installed (apt-get install %s)" % (shell, shell))

    def test_bash_commands(self):
        self.assertEqual(self.bash_complete("berthctl", ""), self.help_commands())

    def test_zsh_commands(self):
        self.need("zsh")
        path = os.path.join(COMPLETION, "_berthctl")
        p = subprocess.run(["zsh", "-n", path], capture_output=True, text=True,
                           timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(path) as f:
            text = f.read()
        self.assertTrue(text.startswith("#compdef berthctl\n"))
        block = re.search(r"verbs=\(\n(.*?)\n\s*\)", text, re.S).group(1)
        verbs = set(re.findall(r"(?m)^\s*'([a-z-]+):", block))
        self.assertEqual(verbs, self.help_commands())
        # Every command that takes a unit is handled after the verb.
        for verb in ("status", "start", "stop", "restart", "reload", "cat", "logs", "fds",
                     "check"):
            self.assertRegex(text, r"(?m)^\s*(\S+\|)*%s(\|\S+)*\)" % re.escape(verb))

    def zsh_complete(self, line, expect):
        """Runs ZSH_DRIVER: asserts the screen shows expect after line and TAB."""
        driver = os.path.join(self.dir, "driver.zsh")
        with open(driver, "w") as f:
            f.write(ZSH_DRIVER)
        p = subprocess.run(["zsh", "-f", driver, COMPLETION, line, expect],
                           capture_output=True, text=True, timeout=TIMEOUT, env=self.env)
        self.assertEqual(p.returncode, 0, "zsh showed no %r after %r:\n%s%s" % (
            expect, line, p.stdout, p.stderr))
        return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|[\x07\x08\r]", "", p.stdout)

    def test_zsh_completes(self):
        self.need("zsh")
        out = self.zsh_complete("berthctl ", "stop a service; its sockets stay bound")
        for verb in self.help_commands():
            self.assertRegex(out, r"(?m)^%s +-- " % re.escape(verb))

    def test_fish_commands(self):
        self.need("fish")
        path = os.path.join(COMPLETION, "berthctl.fish")
        p = subprocess.run(["fish", "--no-config", "-n", path], capture_output=True,
                           text=True, timeout=TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.fish_complete("berthctl "), self.help_commands())
        # After an option and its argument, still the commands; after a verb, none.
        self.assertEqual(self.fish_complete("berthctl --runtime-dir /nonexistent "),
                         self.help_commands())
        self.assertEqual(self.fish_complete("berthctl list-units "), set())
        self.assertTrue({"--runtime-dir", "--user", "--json", "--plain"} <=
                        self.fish_complete("berthctl --"))

    def test_unit_names(self):
        self.units({
            "web.socket": "[Socket]\nListenStream=127.0.0.1:%d\n" % PORT,
            "web.service": "[Service]\nExecStart=/bin/sleep 1000\n",
            "plain.service": "[Service]\nExecStart=/bin/sleep 1000\n",
        })
        b = self.berthd()
        rt = b.runtime_dir
        units = {"web.socket", "web.service", "plain.service"}
        self.assertEqual(self.bash_complete("berthctl", "--runtime-dir", rt, "status", ""),
                         units)
        self.assertEqual(self.bash_complete("berthctl", "--runtime-dir", rt, "fds", ""),
                         {"web.socket", "--"})
        if shutil.which("zsh"):
            # web.service and web.socket: their common prefix; fds: the socket alone.
            self.zsh_complete("berthctl --runtime-dir %s status " % rt, "web.s")
            self.zsh_complete("berthctl --runtime-dir %s fds " % rt, "web.socket")
        if shutil.which("fish"):
            self.assertEqual(self.fish_complete("berthctl --runtime-dir %s restart " % rt),
                             units)
            self.assertEqual(self.fish_complete("berthctl --runtime-dir %s fds " % rt),
                             {"web.socket"})
        # No berthd there: nothing, and no error.
        self.assertEqual(self.bash_complete("berthctl", "--runtime-dir", self.dir, "stop", ""),
                         set())
        if shutil.which("fish"):
            self.assertEqual(self.fish_complete("berthctl --runtime-dir %s stop " % self.dir),
                             set())


if __name__ == "__main__":
    harness.main()
