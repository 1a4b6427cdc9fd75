#!/usr/bin/env python3
"""break_glass.lua: a grant lets the employee do the emergency action
until its end and not after, with the clock moved and nobody revoking;
it is recorded (description, tags, journal), bounded, listed, revocable,
and the permission review reports it once expired."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from account import events, tcrun_env  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402
import tc3client  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-bg-")
ROSTER = os.path.join(SRC, "samples", "roster.csv")

with Sandbox("--async-delay-ms", "100") as sb:
    env = tcrun_env(sb, os.path.join(tmp, "journal"))

    def run(*a):
        return tcrun("--endpoint", sb.url, *a, env=env, tap=t, secrets=[sb.secret_key], timeout=300)

    t.eq(run("onboard.lua", ROSTER, "--out", os.path.join(tmp, "on")).rc, 0, "onboarding")
    carol = sb.call("cam", "GetUser", {"Name": "carol.zhang"})["Uin"]
    key = sb.call("cam", "CreateAccessKey", {"TargetUin": carol})["AccessKey"]
    c = sb.client(key["AccessKeyId"], key["SecretAccessKey"])
    alice_server = [i for i in sb.call("lighthouse", "DescribeInstances", {"Limit": 100}, region="ap-guangzhou")
                    ["InstanceSet"] if {"Key": "owner", "Value": "alice.wang"} in i.get("Tags", [])][0]

    def reboot():
        try:
            c.call("lighthouse", "StopInstances", {"InstanceIds": [alice_server["InstanceId"]]},
                   region="ap-guangzhou")
            return "allowed"
        except tc3client.ApiError as e:
            return "denied" if "UnauthorizedOperation" in e.code else "allowed (%s)" % e.code

    # The emergency is in prod: a server tagged environment=prod.
    sb.call("tag", "TagResources", {"ResourceList": ["qcs::lighthouse:ap-guangzhou:uin/%d:instance/%s"
                                                     % (sb.owner_uin, alice_server["InstanceId"])],
                                    "Tags": [{"TagKey": "environment", "TagValue": "prod"}]})
    t.eq(reboot(), "denied", "before: carol may not stop the prod server")
    r = run("break_glass.lua", "grant", "carol.zhang", "--hours", "2", "--reason", "short")
    t.eq(r.rc, 2, "a grant without a real reason and a ticket is refused")
    r = run("break_glass.lua", "grant", "carol.zhang", "--hours", "24", "--reason", "database is down",
            "--ticket", "INC-7")
    t.eq(r.rc, 2, "longer than break_glass_max_hours (8) is refused")
    w0 = len(events(sb))
    r = run("--dry-run", "break_glass.lua", "grant", "carol.zhang", "--hours", "2", "--reason",
            "database is down", "--ticket", "INC-7")
    t.eq((r.rc, len(events(sb))), (0, w0), "a dry run plans and writes nothing")
    r = run("break_glass.lua", "grant", "carol.zhang", "--hours", "2", "--reason", "database is down",
            "--ticket", "INC-7")
    t.eq(r.rc, 0, "grant for 2 hours")
    t.eq(reboot(), "allowed", "during the grant: the emergency action is allowed")
    frank_server = [i for i in sb.call("lighthouse", "DescribeInstances", {"Limit": 100}, region="ap-beijing")
                    ["InstanceSet"] if {"Key": "owner", "Value": "frank.zhao"} in i.get("Tags", [])][0]
    try:
        c.call("lighthouse", "StopInstances", {"InstanceIds": [frank_server["InstanceId"]]}, region="ap-beijing")
        other = "allowed"
    except tc3client.ApiError as e:
        other = e.code
    t.like(other, "UnauthorizedOperation", "but only on prod's resources")
    pol = [p for p in sb.call("cam", "ListPolicies", {"Scope": "Local", "Keyword": "tcrun-bg-", "Rp": 200})["List"]][0]
    t.like(pol.get("Description", ""), "ticket INC-7: database is down", "the policy records ticket and reason")
    journal = []
    for n in os.listdir(os.path.join(tmp, "journal")):
        with open(os.path.join(tmp, "journal", n)) as f:
            journal += [json.loads(x) for x in f]
    t.ok(any(j["action"] == "CreatePolicy" and "INC-7" in j.get("note", "") for j in journal),
         "so does the journal")
    r = run("break_glass.lua", "list")
    t.like(r.out, "active   %s" % pol["PolicyName"], "list shows it active")
    t.like(r.out, "held by carol.zhang", "and who holds it")

    sb.advance_clock(3 * 3600)
    t.eq(reboot(), "denied", "after its end, with nobody revoking: refused")
    # tcrun judges ends by its own clock, which the sandbox's does not move:
    # a grant that ended in 2020, still attached to emma.
    emma = sb.call("cam", "GetUser", {"Name": "emma.liu"})["Uin"]
    old = sb.call("cam", "CreatePolicy", {"PolicyName": "tcrun-bg-emma.liu-20200101T000000Z",
        "PolicyDocument": json.dumps({"version": "2.0", "statement": [{
            "effect": "allow", "action": ["lighthouse:StopInstances"], "resource": ["qcs::lighthouse:::instance/*"],
            "condition": {"date_less_than": {"qcs:current_time": "2020-01-01T02:00:00Z"}}}]})})["PolicyId"]
    sb.call("cam", "AttachUserPolicy", {"PolicyId": old, "AttachUin": emma})
    r = run("break_glass.lua", "list")
    t.like(r.out, "expired  tcrun-bg-emma.liu-20200101T000000Z  until 2020-01-01T02:00:00Z  held by emma.liu",
           "list shows an expired grant, and who still holds it")
    r = run("permission_review.lua", ROSTER, "--out", os.path.join(tmp, "rv"))
    with open(os.path.join(tmp, "rv", "review.json")) as f:
        kinds = {(x["kind"], x["principal"]) for x in json.load(f)["findings"]}
    t.ok(("expired-break-glass", "emma.liu") in kinds, "the review reports the expired grant still attached")
    r = run("break_glass.lua", "revoke", "carol.zhang", "--ticket", "INC-7", "--reason", "incident closed")
    t.eq(r.rc, 0, "revoke")
    att = sb.call("cam", "ListAttachedUserPolicies", {"TargetUin": carol, "Page": 1, "Rp": 100})["List"]
    t.ok(not any(p["PolicyName"].startswith("tcrun-bg-") for p in att), "the grant is detached")
    r = run("break_glass.lua", "lisst")
    t.eq(r.rc, 2, "an unknown command: exit 2 with the usage")
t.done()
