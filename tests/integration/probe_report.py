"""berth-probe's reports, shared by the tests that compare berth with systemd: finding the probe,
waiting for its report, running it under systemd-socket-activate, and reducing a report to flat
fields ("env.HOME", "rlimit.NOFILE", "fd.3", ...) that two reports can be compared on, with the
values that legitimately differ between two runs (pids, ports, invocation ids, socket paths)
replaced by what must hold of them. tests/compat/run imports this module too, so the differential
test and the container comparison read reports the same way."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import harness

SSA = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"

# Variables whose value differs from run to run: the field holds what must hold of the value.
INVOCATION_ID_RX = re.compile(r"^[0-9a-f]{32}$")


def probe_path():
    """build/tests/probe/berth-probe: from BERTH_PROBE (meson passes it), else next to the
    berthd under test, else in the source tree's build/."""
    candidates = [os.environ.get("BERTH_PROBE", "")]
    if harness.BERTHD:
        candidates.append(os.path.join(os.path.dirname(harness.BERTHD), "tests", "probe",
                                       "berth-probe"))
    candidates.append(os.path.join(harness.SOURCE_ROOT, "build", "tests", "probe",
                                   "berth-probe"))
    for c in candidates:
        if c and os.access(c, os.X_OK):
            return c
    return None


def wait_report(path, alive=None, describe=lambda: "", timeout=harness.DEFAULT_TIMEOUT):
    """Polls for the probe's report (it appears whole, by rename) and returns it parsed.
    alive() returning False ends the wait early; describe() adds context to a failure."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                return json.load(f)
        except FileNotFoundError:
            pass
        if alive is not None and not alive():
            raise AssertionError("the process that should start the probe is gone; no report "
                                 "at %s\n%s" % (path, describe()))
        if time.monotonic() > deadline:
            raise AssertionError("no probe report at %s within %.0fs\n%s" % (
                path, timeout, describe()))
        time.sleep(0.02)


class Ssa:
    """systemd-socket-activate running argv (the probe and its arguments) on listen addresses
    (host:port strings), with setenv ("NAME=value") and fdnames. It starts with an empty
    environment, so what the probe sees is what systemd-socket-activate itself sets. stop() ends
    it; describe() returns its log."""

    def __init__(self, argv, listen, setenv=(), fdnames=(), cwd="/"):
        self.log = tempfile.TemporaryFile(mode="w+")
        args = [SSA]
        for addr in listen:
            args += ["-l", addr]
        if fdnames:
            args.append("--fdname=" + ":".join(fdnames))
        for e in setenv:
            args += ["-E", e]
        self.proc = subprocess.Popen(args + list(argv), stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, env={}, cwd=cwd)

    @staticmethod
    def available():
        return os.access(SSA, os.X_OK)

    def alive(self):
        return self.proc.poll() is None

    def describe(self):
        self.log.seek(0)
        return "systemd-socket-activate log:\n" + self.log.read()

    def connect_once(self, port, timeout=harness.DEFAULT_TIMEOUT):
        """Connects to 127.0.0.1:port as soon as it listens (a refused connection means not
        yet), and closes at once: the probe serves one connection at a time and must not be
        left waiting on this one."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                harness.connect("127.0.0.1", port).close()
                return
            except ConnectionRefusedError:
                if not self.alive() or time.monotonic() > deadline:
                    raise AssertionError("systemd-socket-activate did not listen\n" +
                                         self.describe())
                time.sleep(0.02)

    def stop(self):
        harness.end_process(self.proc)
        self.log.close()


def _fd_kind(f, ports):
    s = f["socket"]
    if not s:
        return f["target"]
    addr = s["address"]
    for p in ports:
        addr = addr.replace(":%d" % p, ":PORT")
    return "%s %s %s%s" % (s["family"], s["type"], addr, " listening" if s["listening"] else "")


def _env_value(name, value, report):
    """What is compared of one variable: the value, or what must hold of it."""
    pid = str(report["pid"])
    if name in ("LISTEN_PID", "SYSTEMD_EXEC_PID", "MAINPID"):
        return "<the probe's pid>" if value == pid else value
    if name == "INVOCATION_ID":
        return "<32 hex digits>" if INVOCATION_ID_RX.match(value) else value
    if name in ("NOTIFY_SOCKET", "PROBE_OUT", "JOURNAL_STREAM"):
        # a path or a device:inode pair that belongs to one run
        return "<set>" if value else value
    return value


def fields(report, ports=()):
    """A report as flat {field: value}, value a string, for comparing two runs. ports: the
    ports of this run's sockets, written as PORT."""
    out = {}
    for k in ("uid", "euid", "gid", "egid"):
        out["id." + k] = str(report[k])
    out["id.groups"] = " ".join(str(g) for g in report["groups"]) or "(none)"
    out["cwd"] = report["cwd"]
    out["umask"] = report["umask"]
    for name, lim in sorted(report.get("rlimits", {"NOFILE": report["rlimit_nofile"]}).items()):
        out["rlimit." + name] = "null" if lim is None else "%s:%s" % tuple(lim)
    out["signals.blocked"] = " ".join(report["signals"]["blocked"]) or "(none)"
    out["signals.changed"] = " ".join("%s=%s" % kv for kv in
                                      sorted(report["signals"]["dispositions"].items())) \
        or "(none)"
    fds = report["fds"]
    out["fds"] = " ".join(str(f["fd"]) for f in fds)
    by_fd = {f["fd"]: f for f in fds}
    if 0 in by_fd:
        out["stdin"] = "%s %s" % (by_fd[0]["target"], by_fd[0]["accmode"])
    if 1 in by_fd and 2 in by_fd:
        out["stderr"] = "same as stdout" if by_fd[1]["target"] == by_fd[2]["target"] \
            else "not stdout"
    for f in fds:
        if f["fd"] >= 3:
            out["fd.%d" % f["fd"]] = "%s cloexec=%s nonblock=%s %s" % (
                _fd_kind(f, ports), f["cloexec"], f["nonblock"], f["accmode"])
    env = report["environ"]
    for name in sorted(env):
        out["env." + name] = _env_value(name, env[name], report)
    out["sd_listen_fds"] = "%s %s" % (report["sd_listen_fds"]["return"],
                                      ",".join(report["sd_listen_fds"]["names"] or []))
    for d in report.get("directories", []):
        out["dir.%s %s" % (d["var"], d["path"])] = d.get("error") or \
            "mode=%s uid=%s gid=%s" % (d["mode"], d["uid"], d["gid"])
    return out


def diff(ref, got, only=None, ignore=()):
    """[(field, ref value, got value)] where two fields() dicts differ; None stands for absent.
    only: compare these fields (or prefixes ending in '.') alone; ignore: skip these."""
    def chosen(k):
        if any(k == i or (i.endswith(".") and k.startswith(i)) for i in ignore):
            return False
        return only is None or any(k == o or (o.endswith(".") and k.startswith(o))
                                   for o in only)
    keys = sorted(k for k in set(ref) | set(got) if chosen(k))
    return [(k, ref.get(k), got.get(k)) for k in keys if ref.get(k) != got.get(k)]


def table(rows, headers=("case", "field", "systemd", "berth")):
    """rows of strings as an aligned text table (a column is at most 60 characters wide)."""
    rows = [tuple("(absent)" if c is None else str(c) for c in r) for r in rows]
    widths = [min(60, max([len(h)] + [len(r[i]) for r in rows])) for i, h in
              enumerate(headers)]
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])
