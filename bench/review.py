#!/usr/bin/env python3
"""The nightly permission review of N employees (default 1,000) against the
sandbox at Tencent Cloud's published rate limits, on this machine.

Fills a sandbox directly (no onboarding: that is bench/onboard.py's job)
with N sub-users on a roster, their role groups (at most 100 members each,
CAM's limit), one access key each, and a few policies; starts it with
--rate-limit 20 (CAM's published 20 calls/s per action) and
--latency-ms 20; runs `tcrun --parallel 32 permission_review.lua`; prints
the wall time next to the rate-limit bound (the largest, over the actions
called, of calls / limit), the calls by action and the calls per employee.

    python3 bench/review.py [--employees N] [--parallel N]

Prints a table; asserts nothing.
"""
import argparse
import collections
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
sys.path.insert(0, HERE)
from sandbox import Sandbox  # noqa: E402
import account  # noqa: E402
from onboard import ENVS, UNITS, client_limits  # noqa: E402

ROLES = ["viewer", "developer", "operator", "admin"]
from tctest import tcrun  # noqa: E402


def roster(path, n):
    people = []
    with open(path, "w", encoding="utf-8") as f:
        f.write("username,display_name,email,phone,business_unit,role,environments,"
                "cost_center,workspace\n")
        for i in range(1, n + 1):
            unit, cc = UNITS[i % 2]
            role = ROLES[i % 4]
            envs = [ENVS[j] for j in range(4) if (i >> j) & 1 or j == i % 4]
            f.write("emp%04d,Employee %d,emp%04d@example.com,,%s,%s,%s,%s,no\n"
                    % (i, i, i, unit, role, ";".join(envs), cc))
            people.append(("emp%04d" % i, role, envs))
    return people


def fill(sb, people):
    """Sub-users, their role groups (shards of 100 members), a key each."""
    c = sb.client()
    groups, size = {}, collections.Counter()
    for name, role, envs in people:
        uin = c.call("cam", "AddUser", {"Name": name, "ConsoleLogin": 1,
                                        "Password": "Bench-pass-123"})["Uin"]
        info = []
        for env in envs:
            base = "%s-%s" % (env, role)
            shard = size[base] // 100 + 1
            g = base if shard == 1 else "%s-%d" % (base, shard)
            if g not in groups:
                groups[g] = c.call("cam", "CreateGroup", {"GroupName": g})["GroupId"]
            size[base] += 1
            info.append({"GroupId": groups[g], "Uin": uin})
        if info:
            c.call("cam", "AddUserToGroup", {"Info": info})
        c.call("cam", "CreateAccessKey", {"TargetUin": uin})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--employees", type=int, default=1000)
    ap.add_argument("--parallel", type=int, default=32)
    ap.add_argument("--latency-ms", type=int, default=20)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tcrun-bench-review-")
    path = os.path.join(tmp, "roster.csv")
    people = roster(path, a.employees)
    limits = collections.defaultdict(lambda: 20.0, client_limits())
    with Sandbox("--latency-ms", "0", "--async-delay-ms", "100") as sb:
        f0 = time.time()
        fill(sb, people)
        filled = time.time() - f0
        # The review at the published limits, with latency: restart the
        # sandbox with them (the state is kept).
        sb.stop()
        sb.flags = ["--latency-ms", str(a.latency_ms), "--rate-limit", "20", "--async-delay-ms", "100"]
        sb.start()
        t0 = time.time()
        r = tcrun("--endpoint", sb.url, "--parallel", str(a.parallel), "permission_review.lua", path,
                  "--out", os.path.join(tmp, "out"), env=account.tcrun_env(sb), timeout=3600)
        t1 = time.time()
        wall = t1 - t0
        calls = collections.Counter(
            e["name"] for e in account.events(sb, writes_only=False, start=t0, end=t1 + 1))
    status = [l for l in r.out.splitlines() if l.startswith("permission review:")]

    rows = sorted(((n / limits[k], k, n, limits[k]) for k, n in calls.items()), reverse=True)
    total = sum(calls.values())
    print("permission_review.lua: %d employees, --parallel %d, sandbox --latency-ms %d --rate-limit 20"
          % (a.employees, a.parallel, a.latency_ms))
    print("(sandbox filled in %.1f s)" % filled)
    print("exit status %d: %s" % (r.rc, status[0] if status else "(no summary)"))
    print()
    print("%-36s %7s %9s %10s" % ("action", "calls", "limit/s", "calls/lim"))
    for bound, k, n, lim in rows:
        print("%-36s %7d %9g %9.1fs" % (k, n, lim, bound))
    print("%-36s %7d  (%.2f per employee)" % ("(all actions)", total, total / a.employees))
    print()
    print("wall time           %6.1f s" % wall)
    print("rate-limit bound    %6.1f s  (%s: %d calls at %g/s)"
          % (rows[0][0], rows[0][1], rows[0][2], rows[0][3]))
    print("wall / bound        %6.2f" % (wall / rows[0][0]))
    if r.rc not in (0, 1):
        print("\nstderr (last lines):\n" + "\n".join(r.err.splitlines()[-10:]))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
