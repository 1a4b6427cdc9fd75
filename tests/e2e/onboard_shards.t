#!/usr/bin/env python3
"""Role groups past CAM's 100 members: onboarding 230 developers in dev
fills dev-developer and makes the shards dev-developer-2 and -3, each with
the role's policy and at most 100 members, every person in exactly one;
people already in a shard stay where they are.  The permission review
reads any one shard as the role and reports a second one as role drift,
which the next onboarding removes.  A roster that would take the account
past CAM's 300 groups is refused before any write."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tctest import Tap, tcrun  # noqa: E402
from sandbox import Sandbox  # noqa: E402
import account  # noqa: E402
from account import tcrun_env, write_count  # noqa: E402

HEADER = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace\n"
DEVS = 230
EARLY = 10   # already in dev-developer before the run

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-shards-")


def write_roster(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        for name, role, envs in rows:
            f.write("%s,%s,%s@example.com,,platform,%s,%s,CC-1,no\n" % (name, name, name, role, envs))


def run(sb, *a):
    return tcrun("--endpoint", sb.url, "--rate-limit", "0", "--parallel", "32", *a,
                 env=tcrun_env(sb), tap=t, secrets=[sb.secret_key], timeout=300)


def role_groups(sb):
    """{group name: (GroupId, set of member names)} of the dev-developer shards."""
    w = sb.world()
    names = {str(u["Uin"]): u["Name"] for u in w["users"].values()}
    return {g["GroupName"]: (g["GroupId"], {names[u] for u in g["members"] if u in names})
            for g in w["groups"].values() if g["GroupName"].startswith("dev-developer")}


def drift(out, kind="role-drift"):
    with open(os.path.join(out, "review.json")) as f:
        return [x for x in json.load(f)["findings"] if x["kind"] == kind]


devs = ["dev%03d" % i for i in range(1, DEVS + 1)]
roster = os.path.join(tmp, "roster.csv")
write_roster(roster, [(n, "developer", "dev;test" if i % 50 == 0 else "dev")
                      for i, n in enumerate(devs)] + [("vera", "viewer", "prod")])

with Sandbox("--async-delay-ms", "100") as sb:
    g = sb.call("cam", "CreateGroup", {"GroupName": "dev-developer"})["GroupId"]
    for n in devs[-EARLY:]:
        uin = sb.call("cam", "AddUser", {"Name": n, "ConsoleLogin": 1, "Password": "Ab1!xyzxyzxyz",
                                         "NeedResetPassword": 1})["Uin"]
        sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": g, "Uin": uin}]})

    # A dry run plans the shards and writes nothing.
    w0 = write_count(sb)
    r = run(sb, "--dry-run", "onboard.lua", roster, "--out", os.path.join(tmp, "plan"))
    t.eq(r.rc, 0, "dry run")
    t.ok('"GroupName":"dev-developer-2"' in r.out and '"GroupName":"dev-developer-3"' in r.out
         and '"GroupName":"dev-developer-4"' not in r.out,
         "it plans two more shards for 220 new places: 90 left in dev-developer, then 100 each")
    t.eq(write_count(sb), w0, "and writes nothing")

    r = run(sb, "onboard.lua", roster, "--out", os.path.join(tmp, "on"))
    t.eq(r.rc, 0, "onboarding 231 people, 230 of them developers in dev")
    shards = role_groups(sb)
    t.eq(sorted(shards), ["dev-developer", "dev-developer-2", "dev-developer-3"],
         "three shards of dev-developer")
    t.ok(all(len(m) <= 100 for _, m in shards.values()),
         "none holds more than CAM's 100", {k: len(m) for k, (_, m) in shards.items()})
    where = {}
    for name, (_, members) in shards.items():
        for m in members:
            where.setdefault(m, []).append(name)
    t.eq(sorted(where), sorted(devs), "every developer is in a shard, nobody else")
    t.ok(all(len(v) == 1 for v in where.values()), "each in exactly one")
    t.ok(all(where[n] == ["dev-developer"] for n in devs[-EARLY:]),
         "those already in dev-developer stayed there")
    pid = next(p["PolicyId"] for p in account.cam_pages(sb, "ListPolicies", {"Scope": "Local"}, "List")
               if p["PolicyName"] == "tcrun-dev-developer")
    t.ok(all(any(p["PolicyId"] == pid for p in account.cam_pages(
        sb, "ListAttachedGroupPolicies", {"TargetGroupId": gid}, "List"))
        for gid, _ in shards.values()), "every shard carries policy tcrun-dev-developer")

    # The review: any one shard is the role.
    out = os.path.join(tmp, "review1")
    run(sb, "permission_review.lua", roster, "--out", out)
    t.eq(drift(out), [], "the review finds no role drift")
    t.eq(drift(out, "unmanaged-policy"), [],
         "and takes the role policy on every shard for tcrun's own")

    # A second shard of the same role is drift, and onboarding removes it.
    other = next(name for name, (_, m) in sorted(shards.items(), key=lambda kv: len(kv[1][1]))
                 if "dev001" not in m)
    sb.call("cam", "AddUserToGroup", {"Info": [{
        "GroupId": shards[other][0], "Uin": sb.call("cam", "GetUser", {"Name": "dev001"})["Uin"]}]})
    out = os.path.join(tmp, "review2")
    run(sb, "permission_review.lua", roster, "--out", out)
    found = drift(out)
    t.eq([f["principal"] for f in found], ["dev001"], "the review reports exactly that person")
    t.like(found[0]["detail"] if found else "", other, "naming the second shard")
    r = run(sb, "onboard.lua", roster, "--out", os.path.join(tmp, "on2"))
    t.eq(r.rc, 0, "onboarding again")
    shards = role_groups(sb)
    t.eq(sum(1 for _, m in shards.values() if "dev001" in m), 1, "dev001 is in one shard again")
    out = os.path.join(tmp, "review3")
    run(sb, "permission_review.lua", roster, "--out", out)
    t.eq(drift(out), [], "and the review is clean")
    w1 = write_count(sb)
    t.eq(run(sb, "onboard.lua", roster, "--out", os.path.join(tmp, "on3")).rc, 0, "a third run")
    t.eq(write_count(sb), w1, "writes nothing")

    # MFA is required of anyone in a shard of an admin or prod operator
    # group, and a hand-made group named like a shard is no role group.
    opx = sb.call("cam", "AddUser", {"Name": "opx", "ConsoleLogin": 1, "Password": "Op-pass-123!"})["Uin"]
    g2 = sb.call("cam", "CreateGroup", {"GroupName": "prod-operator-2",
                                        "Remark": "tcrun: operator on prod"})["GroupId"]
    sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": g2, "Uin": opx}]})
    hand = sb.call("cam", "CreateGroup", {"GroupName": "dev-viewer-7", "Remark": "the viewers' club"})
    sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": hand["GroupId"],
        "Uin": sb.call("cam", "GetUser", {"Name": "dev002"})["Uin"]}]})
    out = os.path.join(tmp, "review4")
    run(sb, "permission_review.lua", roster, "--out", out)
    t.eq([f["principal"] for f in drift(out, "no-mfa")], ["opx"],
         "the review wants MFA of someone in prod-operator-2")
    t.eq(drift(out), [], "and takes a hand-made dev-viewer-7 for no role group")
    r = run(sb, "--dry-run", "onboard.lua", roster)
    t.ok(r.rc == 0 and "dev-viewer-7" not in r.out, "onboarding leaves the hand-made group alone")

    # 300 groups: fill the account to 299, then a roster needing two more
    # shards of prod-viewer (99 places left in it) is refused whole.
    for i in range(299 - len(sb.world()["groups"])):
        sb.call("cam", "CreateGroup", {"GroupName": "team-%03d" % i})
    big = os.path.join(tmp, "big.csv")
    write_roster(big, [("pv%03d" % i, "viewer", "prod") for i in range(250)])
    w2 = write_count(sb)
    r = run(sb, "onboard.lua", big, "--out", os.path.join(tmp, "big"))
    t.eq(r.rc, 2, "a roster needing groups past CAM's 300: exit 2")
    t.like(r.err, "needs 2 more CAM groups", "saying how many it needs")
    t.like(r.err, "299 of CAM's 300", "and how many the account has")
    t.eq(write_count(sb), w2, "nothing written")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
