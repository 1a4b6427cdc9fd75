#!/usr/bin/env python3
"""Onboarding against a sandbox that fails 10% of calls with InternalError,
resets the connection after 5% of calls have run (the change is made, the
answer lost) and throttles every action at 20 calls/s: after at most two
runs the account equals a clean run's, with no duplicates, and every
password delivered is the user's current one."""
import hashlib
import os
import shutil
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tctest import SRC, Tap  # noqa: E402
from sandbox import Sandbox  # noqa: E402
import account  # noqa: E402
from account import onboard, snapshot  # noqa: E402

ROSTER = os.path.join(SRC, "samples", "roster.csv")
FAULTS = ("--fault-rate", "0.1", "--reset-rate", "0.05", "--rate-limit", "20")
tmp = tempfile.mkdtemp(prefix="tcrun-faults-")
t = Tap()


def clean(res):
    with Sandbox("--async-delay-ms", "200") as sb:
        r = onboard(sb, ROSTER, os.path.join(tmp, "clean"))
        res.update(rc=r.rc, snap=snapshot(sb))


base = {}
th = threading.Thread(target=clean, args=(base,))
th.start()
with Sandbox("--async-delay-ms", "200", *FAULTS) as sb:
    t.diag("fault seed %d (replay: TCSANDBOX_SEED=%d prove %s)" % (sb.seed, sb.seed, __file__))
    out = os.path.join(tmp, "out")
    runs = []
    for i in range(2):
        r = onboard(sb, ROSTER, out)
        runs.append(r)
        if r.rc == 0:
            break
    for i, r in enumerate(runs):
        t.diag("run %d: exit %d; %s" % (i + 1, r.rc, (r.out.splitlines() or [""])[0]))
        for line in r.err.splitlines():
            if "FAILED" in line or "reset by peer" in line:
                t.diag("  " + line[:300])
    snap = snapshot(sb)
    pw, files = account.password_files(out)
    hashes = account.password_hashes(sb)
th.join()

t.eq(base.get("rc"), 0, "the clean run exits 0")
t.eq(runs[-1].rc, 0, "with faults, run %d of at most 2 exits 0" % len(runs))
t.eq(snap["duplicates"], [], "no duplicate user, group, policy, environment or server")
d = account.diff(base.get("snap"), snap)
t.ok(not d, "the account equals the clean run's", "\n".join(d))
current = sorted(u for u, v in pw.items() if hashlib.sha256(v[-1].encode()).hexdigest() == hashes.get(u))
t.eq(current, sorted(snap["users"]), "every user's last delivered password is their current one")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
