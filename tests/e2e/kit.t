#!/usr/bin/env python3
"""What the recipe kit (lua/tcrun/recipe.lua) promises every recipe:
recipes run from any folder, by name or by a relative path; business-unit
files are found under tc.home (and the configuration folder) wherever that
is; a unit's hooks run, with the roster's extra columns, on a copy of the
employee; and no roster column can stand in for what the steps find (an
offboarding list with a `uin` column must not offboard that UIN's owner)."""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import account  # noqa: E402
from account import tags, write_count  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

HEAD = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace,lab,uin\n"
DAVID = "david.chen,David,david.chen@example.com,,research,developer,dev,CC-R,yes,genomics,\n"
CAROL = "carol.zhang,Carol,carol.zhang@example.com,,platform,developer,dev,CC-P,yes,,1\n"

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-kit-")
roster = os.path.join(tmp, "roster.csv")
with open(roster, "w") as f:
    f.write(HEAD + DAVID + CAROL)

with Sandbox("--async-delay-ms", "100") as sb:
    env = account.tcrun_env(sb, os.path.join(tmp, "j"))

    def run(*a, cwd=None):
        return tcrun("--endpoint", sb.url, *a, env=env, cwd=cwd)

    # From inside recipes/, the recipe named as a file of that folder.
    r = run("onboard.lua", roster, "--out", os.path.join(tmp, "on"), cwd=os.path.join(SRC, "recipes"))
    t.eq(r.rc, 0, "onboard.lua run from inside recipes/ succeeds", )
    if r.rc != 0:
        t.diag(r.err[-1500:])
    t.like(r.out, "onboard: 2 employee(s), 2 ok, 0 failed", "and onboards both employees")

    uins = {u["Name"]: u["Uin"] for u in account.read(sb, "cam", "ListUsers")["Data"]}
    owned = {}
    for region in ("ap-shanghai",):
        for e in account.envs(sb, region):
            owned.setdefault(tags(e)["owner"], []).append(tags(e))
    for region in ("ap-guangzhou", "ap-beijing"):
        for i in account.instances(sb, region):
            owned.setdefault(tags(i)["owner"], []).append(tags(i))
    t.eq([x.get("lab") for x in owned.get("david.chen", [])], ["genomics", "genomics"],
         "research.lua's after_workspace hook tags david's environment and server with his lab")
    t.eq([x.get("lab") for x in owned.get("carol.zhang", [])], [None, None],
         "platform has no hook: carol's resources carry no lab tag")
    t.eq([x["owner-uin"] for x in owned.get("carol.zhang", [])], [str(uins.get("carol.zhang"))] * 2,
         "carol's resources carry her real UIN, not the roster's `uin` column")

    # From another folder, by a relative path; the unit files are still found.
    rel = os.path.relpath(os.path.join(SRC, "recipes", "verify_isolation.lua"), tmp)
    r = run(rel, roster, "--out", os.path.join(tmp, "v"), cwd=tmp)
    t.eq(r.rc, 0, "verify_isolation.lua by a relative path (%s) from another folder passes" % rel)

    # A `uin` column in a leavers list is roster data, not the UIN to offboard.
    carol = uins["carol.zhang"]
    before = sorted(g["GroupName"] for g in account.cam_pages(
        sb, "ListGroupsForUser", {"SubUin": carol}, "GroupInfo"))
    leavers = os.path.join(tmp, "leavers.csv")
    with open(leavers, "w") as f:
        f.write("username,uin\nnobody.here,%d\n" % carol)
    n = write_count(sb)
    r = run("offboard.lua", leavers, "--out", os.path.join(tmp, "off"))
    t.eq((r.rc, write_count(sb) - n), (0, 0), "offboarding nobody.here with carol's UIN in a column writes nothing")
    t.like(r.err, "nobody.here: no such user and no workspace", "and says nobody.here was not found")
    after = sorted(g["GroupName"] for g in account.cam_pages(
        sb, "ListGroupsForUser", {"SubUin": carol}, "GroupInfo"))
    t.eq((before, after), (["dev-developer"], ["dev-developer"]), "carol keeps her groups")
    pols = [p["PolicyName"] for p in account.cam_pages(sb, "ListAttachedUserPolicies",
                                                        {"TargetUin": carol}, "List")]
    t.eq(pols, ["tcrun-ws-carol.zhang"], "and her workspace policy")
    with open(leavers, "w") as f:
        f.write("username\nCAROL.ZHANG\n")
    n = write_count(sb)
    r = run("offboard.lua", leavers, "--out", os.path.join(tmp, "off"))
    t.eq((r.rc, write_count(sb) - n), (1, 0), "a leaver named in other case: the row fails, nothing written")
    t.like(r.out, "no user CAROL.ZHANG, but there is carol.zhang: user names must match exactly",
           "naming the user it meant")

    # Hooks get a copy of the employee, and ensure_tags before the
    # workspace exists fails the row with a clear message.
    conf = os.path.join(tmp, "conf")
    os.makedirs(os.path.join(conf, "bu"))
    with open(os.path.join(conf, "bu", "meddler.lua"), "w") as f:
        f.write('return { hooks = { after_user = function(e, w)\n'
                '  table.insert(e.environments, "test")\n'
                '  e.username = "mallory"; e.role = "admin"; e.environments = { "prod" }\n'
                'end } }\n')
    with open(os.path.join(conf, "bu", "early.lua"), "w") as f:
        f.write('return { hooks = { after_user = function(e, w) w.ensure_tags({ x = "y" }) end } }\n')
    with open(os.path.join(conf, "bu", "picky.lua"), "w") as f:
        f.write('return { hooks = { after_user = function(e, w)\n'
                '  log("picky looked at", e.username)\n'
                '  if e.role == "viewer" then error("no viewers in picky", 0) end\n'
                'end } }\n')
    hooks = os.path.join(tmp, "hooks.csv")
    with open(hooks, "w") as f:
        f.write(HEAD + "mia.ho,Mia,mia.ho@example.com,,meddler,viewer,dev,CC-M,no,,\n"
                "eli.ng,Eli,eli.ng@example.com,,early,viewer,dev,CC-E,yes,,\n"
                "pia.lu,Pia,pia.lu@example.com,,picky,viewer,dev,CC-P,no,,\n")
    r = run("--config", conf, "onboard.lua", hooks, "--out", os.path.join(tmp, "hooks"))
    mia = account.read(sb, "cam", "GetUser", {"Name": "mia.ho"})
    groups = sorted(g["GroupName"] for g in account.cam_pages(
        sb, "ListGroupsForUser", {"SubUin": mia["Uin"]}, "GroupInfo"))
    t.eq(groups, ["dev-viewer"], "a hook that rewrites its employee, or changes its lists in place, "
         "changes nothing the steps use")
    t.eq(r.rc, 1, "ensure_tags in after_user: the row fails (exit 1)")
    t.like(r.out, "FAILED eli.ng at user:", "at the user step")
    t.like(r.out, "early.lua:1: ensure_tags: eli.ng has no workspace yet (call it from after_workspace)",
           "naming the unit file and what to do instead")
    t.like(r.out, "FAILED pia.lu at user: no viewers in picky", "a hook fails its row with error()")
    t.like(r.err, "tcrun: picky looked at pia.lu", "and says things with log()")

    # A unit moved to another region: the next run makes the server there
    # (the old one stays until offboarded), and does not hang on the old
    # one's ClientToken.
    with open(os.path.join(conf, "bu", "platform.lua"), "w") as f:
        f.write('return { server_region = "ap-shanghai" }\n')
    carol_only = os.path.join(tmp, "carol.csv")
    with open(carol_only, "w") as f:
        f.write(HEAD + CAROL)
    r = tcrun("--endpoint", sb.url, "--config", conf, "onboard.lua", carol_only, "--out",
              os.path.join(tmp, "moved"), env=env, timeout=120)
    t.eq(r.rc, 0, "a unit moved to another region: onboarding completes")
    moved = [i["InstanceId"] for i in account.instances(sb, "ap-shanghai")
             if tags(i).get("owner") == "carol.zhang"]
    t.eq(len(moved), 1, "with carol's new server in the new region")

    # A dry run does not wait for a server in passing: one stopping (for a
    # minute, in a sandbox restarted slow) is taken as stopped, and its
    # start is planned.
    david = [i for i in account.instances(sb, "ap-beijing") if tags(i).get("owner") == "david.chen"][0]
    sb.flags = ["--async-delay-ms", "60000"]
    sb.restart()
    sb.call("lighthouse", "StopInstances", {"InstanceIds": [david["InstanceId"]]}, region="ap-beijing")
    try:
        r = tcrun("--endpoint", sb.url, "--dry-run", "onboard.lua", roster, env=env, timeout=20)
    except subprocess.TimeoutExpired:
        r = None
    t.ok(r is not None and r.rc == 0, "a dry run with a server stopping exits 0 without waiting for it")
    t.like(r and r.out, 'lighthouse.StartInstances {"InstanceIds":["%s"]}' % david["InstanceId"],
           "and plans starting it")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
