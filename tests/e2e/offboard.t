#!/usr/bin/env python3
"""offboard.lua against the sandbox: access revoked first, workspaces kept
and tagged or destroyed per flag, the deletion quota respected, the user
deleted on request, a second run writes nothing, and nobody else is
touched."""
import datetime
import fcntl
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from sandbox import Sandbox, wait_for  # noqa: E402
from tctest import SRC, Tap, empty_config, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-off-")
ROSTER = os.path.join(SRC, "samples", "roster.csv")


def leavers(*names):
    path = os.path.join(tmp, "leavers-%s.csv" % "-".join(names))
    with open(path, "w") as f:
        f.write("username\n" + "".join(n + "\n" for n in names))
    return path


T0 = None   # the sandbox's time at the start (set below, after its clock moves)


def all_writes(sb):
    """Every write event CloudAudit recorded, newest first (event times are
    on the sandbox's clock)."""
    out, token = [], None
    while True:
        p = {"StartTime": T0, "EndTime": int(sb.now()) + 1, "MaxResults": 50,
             "LookupAttributes": [{"AttributeKey": "ActionType", "AttributeValue": "Write"}]}
        if token:
            p["NextToken"] = token
        r = sb.call("cloudaudit", "LookUpEvents", p, region="ap-guangzhou")
        out += [e["EventName"] for e in r.get("Events", [])]
        if r.get("ListOver", True):
            return out
        token = r["NextToken"]


class Writes:
    """The writes made between two points: w = Writes(sb); ...; w.new()."""

    def __init__(self, sb):
        self.sb, self.before = sb, len(all_writes(sb))

    def new(self):
        now = all_writes(self.sb)
        return list(reversed(now[:len(now) - self.before]))


def utc_day():
    return datetime.datetime.now(datetime.timezone.utc).date()


def stamped(tags, days, retain=30):
    """tags carry offboarded=D and retain-until=D+retain for one D of days:
    tcrun stamps the UTC date of its start, which is the date before the run
    or, when the run passed midnight UTC, the date after it."""
    return any(("offboarded", d.isoformat()) in tags and
               ("retain-until", (d + datetime.timedelta(days=retain)).isoformat()) in tags
               for d in days)


def user_view(sb, name):
    """What CAM and the Tag API say about one employee, ids left out."""
    try:
        u = sb.call("cam", "GetUser", {"Name": name})
    except Exception:
        return None
    groups = sb.call("cam", "ListGroupsForUser", {"SubUin": u["Uin"], "Rp": 100})["GroupInfo"]
    pols = sb.call("cam", "ListAttachedUserPolicies", {"TargetUin": u["Uin"], "Rp": 100})["List"]
    keys = sb.call("cam", "ListAccessKeys", {"TargetUin": u["Uin"]})["AccessKeys"]
    res = sb.call("tag", "GetResources", {"TagFilters": [{"TagKey": "owner", "TagValue": [name]}]})
    return {"console": u.get("ConsoleLogin"), "groups": sorted(g["GroupName"] for g in groups),
            "policies": sorted(p["PolicyName"] for p in pols),
            "keys": sorted(k["Status"] for k in keys),
            "resources": sorted((m["Resource"].split(":")[2],
                                 sorted((x["TagKey"], x["TagValue"]) for x in m["Tags"]))
                                for m in res["ResourceTagMappingList"])}


def instance(sb, name):
    for region in ("ap-guangzhou", "ap-beijing"):
        r = sb.call("lighthouse", "DescribeInstances",
                    {"Filters": [{"Name": "tag:owner", "Values": [name]}]}, region=region)
        if r["InstanceSet"]:
            return r["InstanceSet"][0]
    return None


def env(sb, name):
    r = sb.call("tcb", "DescribeEnvs", {}, region="ap-shanghai")
    for e in r["EnvList"]:
        if {"Key": "owner", "Value": name} in e.get("Tags", []):
            return e
    return None


with Sandbox("--async-delay-ms", "100", "--tcb-limits", "1000,2,100") as sb:
    # The TCB deletion quota (2) is per China-time month of the sandbox's
    # clock: start on the 15th, 12:00 China time, so that no run of this test
    # crosses a month's end.  tcrun's dates (offboarded, retain-until, its
    # review's "today") come from the real clock, which this does not move.
    sb.set_clock_china(hour=12, day=15)
    T0 = int(sb.now()) - 1
    env_vars = {"TENCENTCLOUD_SECRET_ID": sb.secret_id, "TENCENTCLOUD_SECRET_KEY": sb.secret_key,
                "TCRUN_JOURNAL_DIR": os.path.join(tmp, "journal")}

    def run(*a, **kw):
        return tcrun("--endpoint", sb.url, *a, env=dict(env_vars, **kw.pop("env", {})),
                     tap=t, secrets=[sb.secret_key], **kw)

    r = run("onboard.lua", ROSTER, "--out", os.path.join(tmp, "on"))
    t.eq(r.rc, 0, "onboarding the sample roster succeeds")
    carol = sb.call("cam", "GetUser", {"Name": "carol.zhang"})
    sb.call("cam", "CreateAccessKey", {"TargetUin": carol["Uin"]})
    others = ["alice.wang", "bob.li", "david.chen", "frank.zhao"]
    before = {n: user_view(sb, n) for n in others}

    w = Writes(sb)
    days = {utc_day()}
    r = run("--parallel", "1", "offboard.lua", leavers("carol.zhang", "emma.liu"),
            "--out", os.path.join(tmp, "off"))
    days.add(utc_day())
    t.eq(r.rc, 0, "offboarding two leavers succeeds")
    block = ["UpdateUser", "UpdateAccessKey", "DetachUserPolicy", "RemoveUserFromGroup",
             "StopInstances", "TagResources"]
    t.eq(w.new(), block + [a for a in block if a != "UpdateAccessKey"],
         "per leaver: access, then permissions, then the workspace, its server and "
         "environment tagged in one call (CloudAudit order)")
    for name in ("carol.zhang", "emma.liu"):
        v = user_view(sb, name)
        t.eq((v["console"], v["groups"], v["policies"]), (0, [], []),
             "%s: console login off, no groups, no policies" % name)
        t.ok(all(k == "Inactive" for k in v["keys"]), "%s: every access key inactive" % name, v["keys"])
        inst = wait_for(lambda: (lambda i: i if i and i["InstanceState"] == "STOPPED" else None)(
            instance(sb, name)), timeout=10)
        t.ok(inst, "%s: server stopped" % name)
        for kind, tags in v["resources"]:
            t.ok(stamped(tags, days),
                 "%s: %s kept, tagged offboarded=<run's UTC date> retain-until=<30 days later>"
                 % (name, kind), (sorted(days), tags))
    t.eq(len(carol_keys := user_view(sb, "carol.zhang")["keys"]), 1, "carol's key still exists (inactive)")
    t.eq({n: user_view(sb, n) for n in others}, before, "nobody else was touched")
    w = Writes(sb)
    r = run("offboard.lua", leavers("carol.zhang", "emma.liu"), "--out", os.path.join(tmp, "off"))
    t.eq((r.rc, w.new()), (0, []), "a second run makes no write (CloudAudit)")

    # The nightly review: a workspace kept until its retain-until date is
    # no orphan; one kept past it is.
    stayed = os.path.join(tmp, "stayed.csv")
    with open(ROSTER, encoding="utf-8") as f, open(stayed, "w", encoding="utf-8") as g:
        g.writelines(l for l in f if not l.startswith(("carol.zhang,", "emma.liu,")))

    def orphans(out):
        run("permission_review.lua", stayed, "--out", out)
        with open(os.path.join(out, "review.json")) as f:
            return [x for x in json.load(f)["findings"] if x["kind"] == "orphan-workspace"]
    t.eq(orphans(os.path.join(tmp, "rev1")), [],
         "the review: the leavers' retained workspaces are no orphans")
    ce = env(sb, "carol.zhang")
    sb.call("tag", "TagResources", {
        "ResourceList": ["qcs::tcb:ap-shanghai:uin/%d:env/%s" % (sb.owner_uin, ce["EnvId"])],
        "Tags": [{"TagKey": "retain-until", "TagValue": "2020-01-01"}]})
    found = orphans(os.path.join(tmp, "rev2"))
    t.eq([(x["principal"], x["evidence"]["resource"]) for x in found], [("carol.zhang", ce["EnvId"])],
         "one kept past its date is")
    t.like(found[0]["detail"] if found else "", "was to be kept only until 2020-01-01", "saying so")

    w = Writes(sb)
    r = run("--dry-run", "offboard.lua", leavers("frank.zhao"), "--destroy", "--delete-user")
    t.eq((r.rc, w.new()), (0, []), "--dry-run makes no write")
    t.like(r.out, "frank.zhao:\n  1. cam.UpdateUser", "--dry-run prints the writes in order, access first")
    t.like(r.out, "lighthouse.IsolateInstances", "--dry-run plans isolation before termination")
    t.ok(any("cam.RemoveUserFromGroup" in l and "# groups " in l and "test-operator" in l
             for l in r.out.splitlines()), "and names the groups it leaves", r.out)
    summary = r.out.split("offboard (dry run):", 1)[-1]
    t.ok("  access       planned 1" in summary and "  server       planned 1" in summary
         and "revoked" not in summary and "terminated" not in summary,
         "--dry-run's summary says planned, not done", summary)
    t.eq(user_view(sb, "frank.zhao"), before["frank.zhao"], "--dry-run changed nothing")

    r = run("offboard.lua", leavers("carol.zhang"), "--destroy", "--delete-user",
            "--out", os.path.join(tmp, "off"))
    t.eq(r.rc, 0, "--destroy --delete-user succeeds")
    t.eq((instance(sb, "carol.zhang"), env(sb, "carol.zhang")), (None, None),
         "--destroy: server terminated (isolated first), environment destroyed")
    t.eq(user_view(sb, "carol.zhang"), None, "--delete-user: the user is gone (keys deleted first)")
    pols = sb.call("cam", "ListPolicies", {"Scope": "Local", "Keyword": "tcrun-ws-carol.zhang"})["List"]
    t.eq(pols, [], "--delete-user: the personal policy is gone")

    # emma's workspace expires; --purge-expired destroys it (2nd deletion).
    e = env(sb, "emma.liu")
    i = instance(sb, "emma.liu")
    res = ["qcs::tcb:ap-shanghai:uin/%d:env/%s" % (sb.owner_uin, e["EnvId"]),
           "qcs::lighthouse:ap-beijing:uin/%d:instance/%s" % (sb.owner_uin, i["InstanceId"])]
    r = run("offboard.lua", leavers("emma.liu"), "--purge-expired", "--out", os.path.join(tmp, "off"))
    t.ok(r.rc == 0 and env(sb, "emma.liu") and instance(sb, "emma.liu"),
         "--purge-expired keeps a workspace before its retain-until date")
    sb.call("tag", "TagResources", {"ResourceList": res,
                                    "Tags": [{"TagKey": "retain-until", "TagValue": "2020-01-01"}]})
    r = run("offboard.lua", leavers("emma.liu"), "--purge-expired", "--out", os.path.join(tmp, "off"))
    t.eq((r.rc, instance(sb, "emma.liu"), env(sb, "emma.liu")), (0, None, None),
         "--purge-expired destroys a workspace past its date")
    t.ok(user_view(sb, "emma.liu") is not None, "without --delete-user the user stays")

    # The monthly quota (2) is used up: david's environment is kept and said.
    days = {utc_day()}
    r = run("offboard.lua", leavers("david.chen"), "--destroy", "--out", os.path.join(tmp, "off"))
    days.add(utc_day())
    t.eq(r.rc, 1, "quota used up: exit 1")
    t.like(r.out, "deletion quota is used up", "the summary says the environment was not destroyed")
    t.ok(env(sb, "david.chen") is not None and instance(sb, "david.chen") is None,
         "the environment is kept; the server (no quota) is terminated")
    tags = dict((x["Key"], x["Value"]) for x in env(sb, "david.chen")["Tags"])
    t.ok(tags.get("offboarded") in {d.isoformat() for d in days},
         "the kept environment is tagged offboarded=<run's UTC date>", (sorted(days), tags))
    t.eq(user_view(sb, "alice.wang"), before["alice.wang"], "alice, never on a list, is untouched")

    bad = os.path.join(tmp, "bad.csv")
    with open(bad, "w") as f:
        f.write("username\nok.user\nbad user\n")
    w = Writes(sb)
    r = run("offboard.lua", bad)
    t.eq(r.rc, 2, "a bad leavers file: exit 2")
    t.like(r.err, "%s:3: invalid character ' ' in username" % bad, "with file:line")
    t.eq(w.new(), [], "and no write")

    # One onboarding or offboarding of an account at a time (here another
    # process holds the account's lock); a dry run needs none.
    lock_dir = os.path.join(empty_config(), "state", "accounts", str(sb.owner_uin))
    os.makedirs(lock_dir, exist_ok=True)
    with open(os.path.join(lock_dir, "people.lock"), "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX | fcntl.LOCK_NB)
        w = Writes(sb)
        for recipe in ("offboard.lua", "onboard.lua"):
            r = run(recipe, leavers("carol.zhang") if recipe == "offboard.lua" else ROSTER,
                    "--out", os.path.join(tmp, "locked"))
            t.eq(r.rc, 2, "%s while another run holds the account: exit 2" % recipe)
            t.like(r.err, "another onboarding or offboarding of account %d is running (" % sb.owner_uin,
                   "%s says so" % recipe)
            t.like(r.err, "held by another run (pid %d: " % os.getpid(), "%s names the other run" % recipe)
        t.eq(w.new(), [], "and neither wrote")
        r = run("--dry-run", "offboard.lua", leavers("carol.zhang"))
        t.eq(r.rc, 0, "a dry run goes ahead")
t.done()
