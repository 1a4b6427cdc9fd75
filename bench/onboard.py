#!/usr/bin/env python3
"""Onboarding 200 employees against the sandbox (issue 4), on this machine.

Generates a roster of 200 employees (mixed roles and environments, all with
a workspace, business units platform and research), starts the sandbox
with --latency-ms 20 and a short --async-delay-ms, runs
`tcrun --parallel 32 onboard.lua` against it, and prints the wall time
next to the rate-limit bound: the largest, over the actions called, of
(calls of that action / tcrun's client-side limit for it), with calls
counted from CloudAudit and limits read from host/ratelimit.c.

    python3 bench/onboard.py [--employees N] [--parallel N]

Prints a table; asserts nothing.
"""
import argparse
import collections
import os
import re
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SRC, "tests", "lib"))
from sandbox import Sandbox  # noqa: E402
import account  # noqa: E402

ROLES = ["viewer", "developer", "operator", "admin"]
ENVS = ["dev", "test", "staging", "prod"]
UNITS = [("platform", "CC-PLAT-100"), ("research", "CC-RES-300")]


def roster(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write("username,display_name,email,phone,business_unit,role,environments,"
                "cost_center,workspace\n")
        for i in range(1, n + 1):
            unit, cc = UNITS[i % 2]
            role = ROLES[i % 4]
            envs = ";".join(ENVS[j] for j in range(4) if (i >> j) & 1 or j == i % 4)
            f.write("emp%03d,Employee %d,emp%03d@example.com,+86 139 %04d %04d,%s,%s,%s,%s,yes\n"
                    % (i, i, i, i // 10000, i % 10000, unit, role, envs, cc))


def client_limits(default):
    """{"service.Action": calls per second} from host/ratelimit.c known[]."""
    with open(os.path.join(SRC, "host", "ratelimit.c"), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("known[]"):]
    table = table[:table.index("};")]
    return collections.defaultdict(lambda: default, {
        m.group(1): float(m.group(2))
        for m in re.finditer(r'\{\s*"([\w.]+)",\s*([\d.]+)\s*\}', table)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--employees", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=32)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--async-delay-ms", type=int, default=500)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tcrun-bench-onboard-")
    path = os.path.join(tmp, "roster.csv")
    roster(path, a.employees)
    limits = client_limits(20.0)
    with Sandbox("--latency-ms", a.latency_ms, "--async-delay-ms", a.async_delay_ms) as sb:
        t0 = time.time()
        r = account.onboard(sb, path, os.path.join(tmp, "out"), "--parallel", str(a.parallel),
                            timeout=3600)
        wall = time.time() - t0
        calls = collections.Counter(
            e["name"] for e in account.events(sb, writes_only=False, start=t0 - 1,
                                              end=time.time() + 1)
            if e["name"] != "cloudaudit.LookUpEvents")
        writes = len(account.events(sb, start=t0 - 1, end=time.time() + 1))
    status = (r.out.splitlines() or ["(no summary)"])[0]

    rows = sorted(((n / limits[k], k, n, limits[k]) for k, n in calls.items()), reverse=True)
    print("onboard.lua: %d employees, --parallel %d, sandbox --latency-ms %d --async-delay-ms %d"
          % (a.employees, a.parallel, a.latency_ms, a.async_delay_ms))
    print("exit status %d: %s" % (r.rc, status))
    print()
    print("%-36s %7s %9s %10s" % ("action", "calls", "limit/s", "calls/lim"))
    for bound, k, n, lim in rows[:10]:
        print("%-36s %7d %9g %9.1fs" % (k, n, lim, bound))
    print("%-36s %7d" % ("(all actions)", sum(calls.values())))
    print("%-36s %7d" % ("(writes)", writes))
    print()
    print("wall time           %6.1f s" % wall)
    print("rate-limit bound    %6.1f s  (%s: %d calls at %g/s)"
          % (rows[0][0], rows[0][1], rows[0][2], rows[0][3]))
    print("wall / bound        %6.2f" % (wall / rows[0][0]))
    if r.rc != 0:
        print("\nstderr (last lines):\n" + "\n".join(r.err.splitlines()[-10:]))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
