#!/usr/bin/env python3
"""verify_isolation.lua: passes on a clean onboarding, fails naming the
employee once a broad policy is attached to one of them, and never leaves
its temporary keys behind."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-verify-")
ROSTER = os.path.join(SRC, "samples", "roster.csv")
WITH_WS = ["alice.wang", "carol.zhang", "david.chen", "emma.liu", "frank.zhao"]

with Sandbox("--async-delay-ms", "100") as sb:
    env = {"TENCENTCLOUD_SECRET_ID": sb.secret_id, "TENCENTCLOUD_SECRET_KEY": sb.secret_key,
           "TCRUN_JOURNAL_DIR": os.path.join(tmp, "journal")}

    def run(*a):
        return tcrun("--endpoint", sb.url, *a, env=env, tap=t, secrets=[sb.secret_key])

    def keys_left():
        n = 0
        for name in WITH_WS + ["bob.li"]:
            u = sb.call("cam", "GetUser", {"Name": name})
            n += len(sb.call("cam", "ListAccessKeys", {"TargetUin": u["Uin"]})["AccessKeys"])
        return n

    t.eq(run("onboard.lua", ROSTER, "--out", os.path.join(tmp, "on")).rc, 0, "onboarded")
    r = run("verify_isolation.lua", ROSTER, "--out", os.path.join(tmp, "v"))
    t.eq(r.rc, 0, "a clean onboarding passes")
    t.like(r.out, "verify isolation: 5 employee(s), 5 ok, 0 failed", "all five workspaces checked")
    reports = sorted(os.listdir(os.path.join(tmp, "v")))
    with open(os.path.join(tmp, "v", reports[-1])) as f:
        rows = f.read().splitlines()
    t.eq(len(rows), 6, "report: a header and one row per employee with a workspace")
    t.ok(all(r.endswith(",pass,pass,pass,pass,") for r in rows[1:]), "every check passed", rows)
    t.eq(keys_left(), 0, "no temporary key is left")

    # A broad policy on one employee breaks their isolation.
    alice = sb.call("cam", "GetUser", {"Name": "alice.wang"})
    full = sb.call("cam", "ListPolicies", {"Scope": "QCS", "Keyword": "QcloudTCBFullAccess"})["List"]
    sb.call("cam", "AttachUserPolicy", {"PolicyId": full[0]["PolicyId"], "AttachUin": alice["Uin"]})
    r = run("verify_isolation.lua", ROSTER, "--out", os.path.join(tmp, "v"))
    t.eq(r.rc, 1, "after a broad policy on alice: exit 1")
    t.like(r.out, "4 ok, 1 failed", "exactly one employee fails")
    t.like(r.out, "FAILED alice.wang at own_listed: DescribeEnvs listed 5 environment(s)",
           "the failure names alice and what she could see")
    t.eq(keys_left(), 0, "the temporary key is deleted even when a check fails")

    r = run("--dry-run", "verify_isolation.lua", ROSTER)
    t.eq(r.rc, 2, "verify_isolation refuses --dry-run (it must create keys)")
t.done()
