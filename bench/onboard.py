#!/usr/bin/env python3
"""A company's first day against the sandbox (issue 14), on this machine.

Generates a roster of N employees, all with a workspace, in business units
platform and research: 40% developers (every one in dev, so N = 1000 puts
400 people in dev-developer, four of CAM's 100-member groups), 30%
viewers, 20% operators and 10% admins, over one to four environments.
Starts the sandbox with the published rate limits (20 calls/s per action;
5/s for CreateInstances, CreateAccessKey and ListAttachedUserAllPolicies),
--latency-ms 20 and --async-delay-ms 500, state in memory, and runs
against it, with
`tcrun --parallel 64`:

  onboard.lua ROSTER           every employee from nothing
  verify_isolation.lua ROSTER  every employee's key tried on everyone's things
  offboard.lua ROSTER          every employee's access revoked

For each it prints the wall time, the API calls (counted from CloudAudit,
throttled and failed ones included) per employee, and the rate-limit bound:
the largest, over the actions called, of the calls not throttled / the
rate they may go at (the lower of the sandbox's published limit and
tcrun's own, from host/ratelimit.c).  After onboarding it checks CAM's group limits: at most
100 members a group, 10 groups a user, 300 groups.

    python3 bench/onboard.py [--employees N] [--parallel N] [--phases onboard,verify,offboard]

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

ENVS = ["dev", "test", "staging", "prod"]
UNITS = [("platform", "CC-PLAT-100"), ("research", "CC-RES-300")]
PUBLISHED = {"CreateInstances": 5, "CreateAccessKey": 5, "ListAttachedUserAllPolicies": 5}
DEFAULT_LIMIT = 20


def role_and_envs(i):
    """Employee i's role and environments (40/30/20/10 % by role)."""
    k = i % 10
    if k < 4:
        return "developer", ["dev"] + (["test"] if i % 3 == 0 else [])
    if k < 7:
        return "viewer", [ENVS[i % 4]] + (["prod"] if i % 4 != 3 and i % 5 == 0 else [])
    if k < 9:
        return "operator", ["staging", "prod"] if i % 2 else ["test"]
    return "admin", ENVS[:]


def roster(path, n):
    with open(path, "w", encoding="utf-8") as f:
        f.write("username,display_name,email,phone,business_unit,role,environments,"
                "cost_center,workspace\n")
        for i in range(1, n + 1):
            unit, cc = UNITS[i % 2]
            role, envs = role_and_envs(i)
            f.write("emp%04d,Employee %d,emp%04d@example.com,+86 139 %04d %04d,%s,%s,%s,%s,yes\n"
                    % (i, i, i, i // 10000, i % 10000, unit, role, ";".join(envs), cc))


def client_limits():
    """{"service.Action": calls per second} from host/ratelimit.c known[]."""
    with open(os.path.join(SRC, "host", "ratelimit.c"), encoding="utf-8") as f:
        text = f.read()
    table = text[text.index("known[]"):]
    table = table[:table.index("};")]
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r'\{\s*"([\w.]+)",\s*([\d.]+)\s*\}', table)}


def rate(name, client):
    """The rate service.Action may go at: the lower of both limits."""
    published = PUBLISHED.get(name.split(".", 1)[1], DEFAULT_LIMIT)
    return min(published, client.get(name, published))


def group_limits(sb):
    """(largest group, most groups of one user, groups in all), read through CAM."""
    groups = account.cam_pages(sb, "ListGroups", {}, "GroupInfo")
    members = [account.cam_pages(sb, "ListUsersForGroup", {"GroupId": g["GroupId"]}, "UserInfo")
               for g in groups]
    per_user = collections.Counter(u["Uin"] for m in members for u in m)
    return (max([len(m) for m in members] or [0]), max(per_user.values() or [0]), len(groups))


def phase(sb, name, recipe, path, out, n, parallel, client, extra=()):
    t0 = time.time()
    r = account.onboard(sb, path, out, "--parallel", str(parallel), *extra, recipe=recipe,
                        timeout=7200)
    wall = time.time() - t0
    evs = [e for e in account.events(sb, writes_only=False, start=t0 - 1, end=time.time() + 1)
           if e["name"] != "cloudaudit.LookUpEvents"]
    calls = collections.Counter(e["name"] for e in evs)
    throttled = collections.Counter(e["name"] for e in evs
                                    if e["code"].startswith("RequestLimitExceeded"))
    done = calls - throttled
    # The bound counts the calls the job needs: a throttled one is
    # tcrun's waste (a refusal verify_isolation asks for is not).
    rows = sorted(((done[k] / rate(k, client), k, c, rate(k, client)) for k, c in calls.items()),
                  reverse=True)
    total = sum(calls.values())
    print("%s: %d employees, --parallel %d" % (recipe, n, parallel))
    print("exit status %d: %s" % (r.rc, (r.out.splitlines() or ["(no summary)"])[0]))
    print("%-40s %7s %9s %8s %9s" % ("action", "calls", "throttled", "rate/s", "bound"))
    for bound, k, c, lim in rows[:8]:
        print("%-40s %7d %9d %8g %8.1fs" % (k, c, throttled[k], lim, bound))
    print("%-40s %7d %9d   (%.2f calls per employee)" % ("(all actions)", total,
                                                         sum(throttled.values()), total / n))
    print("wall %.1f s, bound %.1f s (%s), wall / bound %.2f"
          % (wall, rows[0][0], rows[0][1], wall / rows[0][0]))
    if r.rc != 0:
        print("stderr (last lines):\n" + "\n".join(r.err.splitlines()[-10:]))
    print()
    return {"name": name, "wall": wall, "bound": rows[0][0], "by": rows[0][1], "calls": total,
            "rc": r.rc}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--employees", type=int, default=200)
    ap.add_argument("--parallel", type=int, default=64)
    ap.add_argument("--latency-ms", type=int, default=20)
    ap.add_argument("--async-delay-ms", type=int, default=500)
    ap.add_argument("--phases", default="onboard,verify,offboard")
    a = ap.parse_args()
    phases = a.phases.split(",")

    tmp = tempfile.mkdtemp(prefix="tcrun-bench-onboard-")
    path = os.path.join(tmp, "roster.csv")
    roster(path, a.employees)
    client = client_limits()
    flags = ["--latency-ms", a.latency_ms, "--async-delay-ms", a.async_delay_ms,
             "--rate-limit", DEFAULT_LIMIT]
    for k, v in PUBLISHED.items():
        flags += ["--rate-limit", "%s=%d" % (k, v)]
    print("sandbox %s\n" % " ".join(str(f) for f in flags))
    results = []
    # In memory: saving the whole state after every write would stall the
    # sandbox's threads (and its rate-limit clock) by tens of ms at this size.
    with Sandbox(*flags, state=False) as sb:
        if "onboard" in phases:
            results.append(phase(sb, "onboard", "onboard.lua", path, os.path.join(tmp, "on"),
                                 a.employees, a.parallel, client))
            big, most, groups = group_limits(sb)
            print("CAM groups: %d in all (limit 300), largest %d members (limit 100), "
                  "at most %d groups a user (limit 10)\n" % (groups, big, most))
        if "verify" in phases:
            results.append(phase(sb, "verify_isolation", "verify_isolation.lua", path,
                                 os.path.join(tmp, "verify"), a.employees, a.parallel, client))
        if "offboard" in phases:
            results.append(phase(sb, "offboard", "offboard.lua", path, os.path.join(tmp, "off"),
                                 a.employees, a.parallel, client))
    print("%-18s %8s %8s %7s %9s %5s  %s" % ("recipe", "wall s", "bound s", "ratio", "calls/emp",
                                             "exit", "bound set by"))
    for r in results:
        print("%-18s %8.1f %8.1f %7.2f %9.2f %5d  %s" % (r["name"], r["wall"], r["bound"],
                                                       r["wall"] / r["bound"],
                                                       r["calls"] / a.employees, r["rc"], r["by"]))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
