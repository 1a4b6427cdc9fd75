#!/usr/bin/env python3
"""One employee's failure does not stop the others.  The configuration
folder (--config) declares bu/broken.lua, whose Lighthouse bundle the
sandbox marks SOLD_OUT: that employee fails at the server step, the others
complete, the summary names the failure and the exit status is 1.  A
business unit without a file of its own is refused before any write; an
empty file declares it with the defaults.  A unit file that does not load
stops the run before any write."""
import csv
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tctest import SRC, Tap  # noqa: E402
from sandbox import Sandbox  # noqa: E402
import account  # noqa: E402
from account import events, onboard, read, tags, write_count  # noqa: E402

HEADER = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace\n"
ROSTER = HEADER + (
    "alice.wang,Alice,alice.wang@example.com,+86 138 0000 0001,platform,admin,dev,CC-1,yes\n"
    "gina.wu,Gina,gina.wu@example.com,+86 138 0000 0007,broken,developer,dev,CC-2,yes\n"
    "hank.xu,Hank,hank.xu@example.com,+86 138 0000 0008,marketing,viewer,dev,CC-3,yes\n")

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-fail-")
conf = os.path.join(tmp, "conf")
units = os.path.join(conf, "bu")
os.makedirs(units)
with open(os.path.join(units, "broken.lua"), "w") as f:
    f.write('-- Test only: a bundle the sandbox reports as sold out.\n'
            'return { bundle_id = "bundle_starter_mc_small1_01" }\n')
roster = os.path.join(tmp, "roster.csv")
with open(roster, "w", encoding="utf-8") as f:
    f.write(ROSTER)
out = os.path.join(tmp, "out")

with Sandbox("--async-delay-ms", "100") as sb:
    # marketing has no unit file: a typo would otherwise get the defaults.
    w0 = write_count(sb)
    r = onboard(sb, roster, out, "--config", conf, tap=t)
    t.eq(r.rc, 2, "a business unit with no file: exit 2")
    t.like(r.err, "%s:4: business unit 'marketing' is not declared (no marketing.lua in %s or "
           % (roster, units), "named with file:line and where it was looked for")
    t.like(r.err, "; declared: broken, platform, research)", "and which units there are")
    t.eq(write_count(sb) - w0, 0, "and no write call")
    t.ok(not os.path.exists(out), "and no output folder")
    with open(os.path.join(units, "marketing.lua"), "w") as f:
        f.write("return {}\n")

    r = onboard(sb, roster, out, "--config", conf, tap=t)
    t.eq(r.rc, 1, "exit status 1 when one employee failed")
    t.like(r.out, "3 employee(s), 2 ok, 1 failed", "the screen summary counts the failure")
    t.like(r.out, "FAILED gina.wu at server", "and names the employee and the step")
    with open(account.reports(out)[-1], newline="", encoding="utf-8") as f:
        summary = {x["username"]: x for x in csv.DictReader(f)}
    g = summary.get("gina.wu", {})
    t.eq((g.get("user"), g.get("groups"), g.get("environment"), g.get("server"), g.get("policy"),
          g.get("assistant")), ("created", "created", "created", "failed", "", ""),
         "summary: gina.wu failed at server, after user, groups and environment")
    t.like(g.get("error"), "ResourcesSoldOut.BundleSoldOut", "summary: the error says why")
    for n in ("alice.wang", "hank.xu"):
        x = summary.get(n, {})
        t.eq(([x.get(c) for c in ("user", "groups", "environment", "server", "policy", "assistant")],
              x.get("error")), (["created"] * 6, ""), "summary: %s completed" % n)

    # What the sandbox holds.
    insts = {reg: account.instances(sb, reg) for reg in ("ap-guangzhou", "ap-beijing")}
    owners = sorted((reg, tags(i)["owner"], i["InstanceState"]) for reg in insts for i in insts[reg])
    t.eq(owners, [("ap-guangzhou", "alice.wang", "RUNNING"), ("ap-guangzhou", "hank.xu", "RUNNING")],
         "servers for alice.wang and hank.xu only, RUNNING")
    hank = [i for i in insts["ap-guangzhou"] if tags(i).get("owner") == "hank.xu"]
    hank_uin = str(sb.call("cam", "GetUser", {"Name": "hank.xu"})["Uin"])
    t.eq([(i["BundleId"], i["BlueprintId"], tags(i)) for i in hank],
         [("bundle_starter_mc_med2_02", "lhbp-a1ubu224",
           {"owner": "hank.xu", "owner-uin": hank_uin, "managed-by": "tcrun",
            "business-unit": "marketing", "cost-center": "CC-3"})],
         "a unit declared by an empty file (marketing) gets the defaults, and its own name as tag")
    envs = sorted(tags(e)["owner"] for e in account.envs(sb, "ap-shanghai"))
    t.eq(envs, ["alice.wang", "gina.wu", "hank.xu"], "environments: gina.wu's was made before the failure")
    users = {u["Name"]: u["Uin"] for u in read(sb, "cam", "ListUsers")["Data"]}
    att = {n: [a["PolicyName"] for a in account.cam_pages(sb, "ListAttachedUserPolicies",
                                                          {"TargetUin": uin}, "List")]
           for n, uin in users.items()}
    t.eq(att, {"alice.wang": ["tcrun-ws-alice.wang"], "gina.wu": [], "hank.xu": ["tcrun-ws-hank.xu"]},
         "personal policies for the two who completed, none for gina.wu")
    pw, files = account.password_files(out)
    t.eq(sorted(pw), ["alice.wang", "gina.wu", "hank.xu"],
         "every created user's password is delivered, the failed employee's too")

    # Again: the two who completed make no write; gina.wu's server fails again.
    w0 = write_count(sb)
    r = onboard(sb, roster, out, "--config", conf, tap=t)
    new = events(sb)[w0:]
    t.eq(r.rc, 1, "second run: still exit status 1")
    t.eq([(e["name"], e["error"]) for e in new], [("lighthouse.CreateInstances", 1)],
         "second run: the only write is gina.wu's CreateInstances, refused again")

    # A business-unit file that does not load: refused before any write.
    with open(os.path.join(units, "broken.lua"), "w") as f:
        f.write("return { bundle_id = \n")
    w0 = write_count(sb)
    r = onboard(sb, roster, os.path.join(tmp, "out2"), "--config", conf)
    t.ok(r.rc == 2 and "broken.lua" in r.err, "a unit file that does not load: exit 2, named",
         "rc %d\n%s" % (r.rc, r.err))
    t.eq(write_count(sb) - w0, 0, "and no write call")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
