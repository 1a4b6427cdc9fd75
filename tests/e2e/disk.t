#!/usr/bin/env python3
"""A full disk (issue 8, item 3) loses neither the audit trail nor the
initial passwords, and a run that could not record what it did fails:
- the journal on a full disk (/dev/full): the first write is sent, its
  line cannot be appended, no further write is sent, exit 2;
- the ledger cannot grow (RLIMIT_FSIZE 0): no user is created, since the
  record that a password was set must be on disk first; the run fails,
  and a later run creates everyone and delivers every password;
- under umask 000 the ledger and the password file are still 0600 and
  --out 0700 (item 9)."""
import os
import resource
import shutil
import signal
import stat
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import account  # noqa: E402
from account import events, write_count  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

ROSTER = os.path.join(SRC, "samples", "roster.csv")
t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-disk-")


def no_growth():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def open_umask():
    os.umask(0)


with Sandbox("--async-delay-ms", "100") as sb:
    env = account.tcrun_env(sb, os.path.join(tmp, "j"))

    def run(*a, **kw):
        return tcrun("--endpoint", sb.url, *a, env=env, **kw)

    n = write_count(sb)
    # One write at a time (--parallel 1), so that "none after" is exact:
    # writes already in flight when a line fails were sent before it.
    r = run("--parallel", "1", "--journal", "/dev/full", "onboard.lua", ROSTER,
            "--out", os.path.join(tmp, "full"))
    t.eq(r.rc, 2, "journal on a full disk: exit 2")
    t.eq(write_count(sb) - n, 1, "one write was sent, and none after its line failed")
    t.like(r.err, "/dev/full: cannot append (No space left on device)", "the journal says why")
    t.like(r.err, "no further write is sent", "and that it stopped")

    n = len(events(sb))
    out = os.path.join(tmp, "out")
    r = run("--journal", "/dev/null", "onboard.lua", ROSTER, "--out", out, preexec_fn=no_growth)
    new = [e["name"] for e in events(sb)[n:]]
    t.ok(r.rc != 0, "a ledger that cannot grow: the run fails (exit %d)" % r.rc)
    t.eq(new.count("cam.AddUser"), 0, "and no user is created, so no password is set unrecorded")
    t.like(r.out + r.err, "ledger not written: ", "the failure names the ledger")

    r = run("-q", "onboard.lua", ROSTER, "--out", out, preexec_fn=open_umask)
    t.eq(r.rc, 0, "a later run, umask 000, completes")
    t.like(r.out, "initial passwords (reset at first login): %s/passwords-" % out,
           "-q (cron) still says where the passwords are")
    pw, files = account.password_files(out)
    t.eq(sorted(pw), sorted(u["Name"] for u in account.read(sb, "cam", "ListUsers")["Data"]),
         "and delivers every user's password")
    modes = {name: stat.S_IMODE(os.stat(os.path.join(out, name)).st_mode)
             for name in os.listdir(out) if name.startswith("passwords-")}
    modes["ledger"] = stat.S_IMODE(os.stat(account.ledger_path(sb)).st_mode)
    t.ok(len(modes) > 1 and set(modes.values()) == {0o600},
         "the ledger and password files are 0600 under umask 000", {k: oct(v) for k, v in modes.items()})
    t.eq(oct(stat.S_IMODE(os.stat(out).st_mode)), oct(0o700), "--out is 0700")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
