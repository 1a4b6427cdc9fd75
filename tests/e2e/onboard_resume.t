#!/usr/bin/env python3
"""A run killed (SIGKILL) mid-way and run again ends with the same account
as an uninterrupted run: the same users, groups, memberships, policies
(documents with ids normalised), attachments, environments, servers and
TAT tasks, no duplicates, and every initial password delivered exactly
once (a password set by the killed run is re-issued by the next one).

The kill comes after N write events have shown up in CloudAudit: early (in
the role groups), in the middle (users, environments, servers), late
(policies, TAT) and after the last write (while it waits for the TAT
tasks).  Each case runs on its own sandbox, all at once, next to a clean
run on another."""
import hashlib
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tctest import SRC, Tap  # noqa: E402
from sandbox import Sandbox, wait_for  # noqa: E402
import account  # noqa: E402
from account import events, onboard, snapshot, spawn_onboard, write_count  # noqa: E402

ROSTER = os.path.join(SRC, "samples", "roster.csv")
FLAGS = ("--async-delay-ms", "200")
tmp = tempfile.mkdtemp(prefix="tcrun-resume-")


def state_events(sb):
    path = account.ledger_path(sb)
    evs = []
    for line in account.read_text(path).splitlines():
        try:
            evs.append(json.loads(line))
        except ValueError:
            pass
    return evs


def settled_write_count(sb, quiet=0.5, timeout=15):
    """write_count once it has stayed the same for `quiet` seconds (at most
    `timeout`): a write the killed run had already sent may still be handled
    after the kill, and must be in the snapshot taken before the rerun."""
    deadline = time.monotonic() + timeout
    last, since = write_count(sb), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        n = write_count(sb)
        if n != last:
            last, since = n, time.monotonic()
        elif time.monotonic() - since >= quiet:
            break
    return last


def clean(res):
    with Sandbox(*FLAGS) as sb:
        out = os.path.join(tmp, "clean")
        r = onboard(sb, ROSTER, out)
        res.update(rc=r.rc, err=r.err, snap=snapshot(sb), writes=write_count(sb))


def killed(n, res):
    with Sandbox(*FLAGS) as sb:
        out = os.path.join(tmp, "killed-%d" % n)
        logs = os.path.join(tmp, "log-%d" % n)
        os.mkdir(logs)
        p = spawn_onboard(sb, ROSTER, out, log_dir=logs)
        reached = wait_for(lambda: p.poll() is not None or write_count(sb) >= n,
                           timeout=60, interval=0.005)
        p.kill()
        res["rc1"] = p.wait()
        res["reached"] = bool(reached)
        res["before"] = settled_write_count(sb)   # writes in flight at the kill included
        before_state = state_events(sb)
        res["users_before"] = {u["Name"] for u in account.read(sb, "cam", "ListUsers")["Data"]}
        # Run again from another folder: what was set and not delivered is
        # the account's to remember, not the folder's.
        elsewhere = out + "-elsewhere"
        r = onboard(sb, ROSTER, elsewhere)
        res.update(rc2=r.rc, err=r.err, out=r.out, snap=snapshot(sb),
                   rerun=[e["name"] for e in events(sb)[res["before"]:]],
                   state=state_events(sb), before_state=before_state,
                   passwords=account.password_files(elsewhere), hashes=account.password_hashes(sb))


t = Tap()
people = [l.split(",")[0] for l in account.read_text(ROSTER).splitlines()[1:] if l]

# How many writes a whole run makes: the dry run's count.
with Sandbox(*FLAGS) as sb:
    r = onboard(sb, ROSTER, os.path.join(tmp, "dry"), "--dry-run")
    total = int(re.search(r"(\d+) write call\(s\) planned", r.out).group(1))
t.diag("a whole run makes %d writes" % total)

cases = {"early": 5, "middle": total // 2, "late": total - 8, "after the last write": total}
results = {name: {} for name in cases}
base = {}
threads = [threading.Thread(target=clean, args=(base,))]
threads += [threading.Thread(target=killed, args=(n, results[name])) for name, n in cases.items()]
started = time.monotonic()
for th in threads:
    th.start()
for th in threads:
    th.join()
t.diag("all runs: %.1f s" % (time.monotonic() - started))

t.eq((base.get("rc"), base.get("writes")), (0, total), "clean run: exit 0, %d writes" % total)
if base.get("rc") != 0:
    t.diag(base.get("err", "")[-2000:])
t.eq(base.get("snap", {}).get("duplicates"), [], "clean run: no duplicates")

for name, n in cases.items():
    res = results[name]
    if "rc2" not in res:
        t.ok(False, "%s: the case ran" % name, res)
        continue
    t.ok(res["reached"] and res["rc1"] == -9 and res["before"] <= total,
         "%s: killed after %d of %d writes (asked for %d)" % (name, res["before"], total, n),
         "reached %s rc %s" % (res["reached"], res["rc1"]))
    t.eq(res["rc2"], 0, "%s: the second run exits 0" % name)
    if res["rc2"] != 0:
        t.diag(res["err"][-2000:])
    t.eq(res["snap"]["duplicates"], [], "%s: no duplicate user, group, policy, env or server" % name)
    d = account.diff(base.get("snap"), res["snap"])
    t.ok(not d, "%s: the account equals the clean run's" % name, "\n".join(d))

    # Passwords: the killed run delivered none; the next one, run with
    # another --out, delivers every employee's exactly once, and it is the
    # password the sandbox holds.
    pw, files = res["passwords"]
    t.eq(sorted((u, len(v)) for u, v in pw.items()), sorted((u, 1) for u in people),
         "%s: every employee's password delivered exactly once, by a run from another folder" % name)
    t.ok(all(hashlib.sha256(v[0].encode()).hexdigest() == res["hashes"].get(u)
             for u, v in pw.items()),
         "%s: each delivered password is the user's current one" % name)
    set_before = {e["username"] for e in res["before_state"] if e["event"] == "password-set"}
    delivered = [e["username"] for e in res["before_state"] if e["event"] == "password-delivered"]
    made = set_before & res["users_before"]
    t.eq((delivered, res["rerun"].count("cam.UpdateUser"), res["rerun"].count("cam.AddUser")),
         ([], len(made), len(people) - len(res["users_before"])),
         "%s: the killed run delivered none; the next resets the %d it had set and adds the rest"
         % (name, len(made)))
    if name == "after the last write":
        t.eq(res["rerun"], ["cam.UpdateUser"] * len(people),
             "%s: the second run's only writes are the password resets" % name)
        t.like(res["out"], "new password %d" % len(people),
               "%s: and its summary says so (not just 'updated')" % name)

# Interrupted (SIGINT) once a password is set: the message says the
# passwords were not delivered and that running again sets new ones.
with Sandbox("--async-delay-ms", "2000") as sb:
    logs = os.path.join(tmp, "log-int")
    os.mkdir(logs)
    p = spawn_onboard(sb, ROSTER, os.path.join(tmp, "int"), log_dir=logs)
    wait_for(lambda: p.poll() is not None
             or any(e["event"] == "password-set" for e in state_events(sb)),
             timeout=60, interval=0.01)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=60)
    err = account.read_text(os.path.join(logs, "stderr"))
    t.eq(rc, 130, "onboarding interrupted once a password is set: exit 130")
    t.like(err, "initial passwords are written when the run ends: those set so far were not "
           "delivered, and running again sets new ones", "saying the passwords were not delivered")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
