#!/usr/bin/env python3
"""Validating a large roster (issue 14: 100,000 rows in at most 1.5 s and
64 MB RSS), on this machine.

Generates rosters of 10,000 and 100,000 employees with the columns of
samples/roster.csv (business units platform and research, all four roles,
one to four environments in any order, Chinese and quoted display names,
phone numbers with spaces), then measures, as an admin meets them:

- "last line bad": `tcrun onboard.lua ROSTER` on a roster whose last row
  has an unknown role.  Every row and its business unit is validated, the
  one problem is reported with its file:line, and tcrun exits 2 before
  any API call.
- "clean": `tcrun bench/validate.lua ROSTER`, recipe.start on the clean
  roster as onboard.lua calls it, so the run holds every row and its unit,
  then stops before any API call.

Each is run several times (default 7); the table shows the best wall time,
the CPU time (user + system) of that run and the lowest maximum RSS.  The
machine is shared, so the best run is the one least disturbed.

    python3 bench/roster.py [--rows N ...] [--runs N]

Needs /usr/bin/time (Debian: time).  Prints a table; asserts nothing.
"""
import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
TCRUN = os.path.join(SRC, "tcrun")

ROLES = ["viewer", "developer", "operator", "admin"]
ENVS = ["dev", "test", "staging", "prod"]
UNITS = [("platform", ["CC-PLAT-100", "CC-PLAT-200"]), ("research", ["CC-RES-300", "CC-RES-310"])]
FAMILY = [("wang", "王"), ("li", "李"), ("zhang", "张"), ("liu", "刘"), ("chen", "陈"),
          ("yang", "杨"), ("zhao", "赵"), ("huang", "黄"), ("zhou", "周"), ("wu", "吴")]
GIVEN = [("alice", "丽"), ("bob", "博"), ("carol", "卡"), ("david", "大卫"), ("emma", "思思"),
         ("frank", "峰"), ("grace", "慧"), ("henry", "恒"), ("ivy", "艺"), ("jack", "杰")]


def roster(path, n, bad_last=False):
    """Writes n valid employees; with bad_last, the last one's role is 'root'."""
    rnd = random.Random(n)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["username", "display_name", "email", "phone", "business_unit", "role",
                    "environments", "cost_center", "workspace"])
        for i in range(1, n + 1):
            (fam, fam_zh), (giv, giv_zh) = rnd.choice(FAMILY), rnd.choice(GIVEN)
            user = "%s.%s%d" % (giv, fam, i)
            display = rnd.choice(["%s%s (%s %s)" % (fam_zh, giv_zh, giv.title(), fam.title()),
                                  "%s%s" % (fam_zh, giv_zh),
                                  "%s, %s" % (fam.title(), giv.title())])
            unit, centres = rnd.choice(UNITS)
            envs = rnd.sample(ENVS, rnd.randint(1, 4))
            role = "root" if bad_last and i == n else rnd.choice(ROLES)
            w.writerow([user, display, user + "@example.com",
                        "+86 13%d %04d %04d" % (rnd.randint(0, 9), i // 10000, i % 10000),
                        unit, role, ";".join(envs), rnd.choice(centres),
                        "no" if rnd.random() < 0.1 else "yes"])


def run(argv, env):
    """(wall s, CPU s, max RSS MB, exit status, stderr's last line) of one run.

    RSS comes from /usr/bin/time: a child's own rusage would count the
    memory of the Python process it was forked from."""
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S %M"] + argv, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    lines = p.stderr.decode("utf-8", "replace").strip().splitlines()
    user, sys_, rss = lines.pop().split()
    lines = [l for l in lines if not l.startswith("Command exited with")]
    return (wall, float(user) + float(sys_), int(rss) / 1024, p.returncode,
            (lines or [""])[-1])


def best(argv, env, runs):
    results = [run(argv, env) for _ in range(runs)]
    wall = min(results, key=lambda r: r[0])
    return wall[0], wall[1], min(r[2] for r in results), wall[3], wall[4]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tcrun-bench-roster-")
    config = os.path.join(tmp, "config")
    os.mkdir(config)
    env = dict(os.environ, TCRUN_CONFIG=config, TCRUN_STATE_DIR=os.path.join(tmp, "state"))
    empty = best([TCRUN, os.path.join(HERE, "empty.lua")], env, a.runs)
    print("roster validation, best of %d runs (wall; CPU of that run; lowest max RSS)" % a.runs)
    print()
    print("%9s  %-15s %8s %8s %8s  %s" % ("rows", "case", "wall s", "CPU s", "RSS MB", "exit"))
    print("%9s  %-15s %8.3f %8.3f %8.1f  %d" % ("-", "empty script", *empty[:4]))
    said = []
    for n in a.rows:
        clean, bad = os.path.join(tmp, "clean-%d.csv" % n), os.path.join(tmp, "bad-%d.csv" % n)
        roster(clean, n)
        roster(bad, n, bad_last=True)
        for case, argv in (("last line bad", [TCRUN, "onboard.lua", bad]),
                           ("clean", [TCRUN, os.path.join(HERE, "validate.lua"), clean])):
            wall, cpu, rss, rc, last = best(argv, env, a.runs)
            print("%9s  %-15s %8.3f %8.3f %8.1f  %d" % ("{:,}".format(n), case, wall, cpu, rss, rc))
            if rc != 0:
                said.append(last.replace(tmp + "/", ""))
    if said:
        print()
        print("what the rosters with a bad last line said:")
        for s in said:
            print("  " + s)
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
