#!/usr/bin/env python3
"""rollout_support.t: what a staged policy rollout and time-boxed break-glass
grants rely on.

- CreatePolicy / CreatePolicyVersion / UpdatePolicy refuse documents naming a
  service or action the SDK lacks (InvalidParameter.ActionServiceNotExist /
  ActionNotExist), keep wildcards that match something, require version
  "2.0" and refuse an undocumented condition operator.
- Policy versions: ListPolicyVersions, GetPolicyVersion, SetDefaultPolicyVersion,
  DeletePolicyVersion (not the default), at most 5 versions, ids never reused.
- --policy-delay-ms: a new default version, attach, detach and group
  membership reach authorization only after the delay, while the reads show
  them at once; pending changes survive a restart.
- The control channel's AdvanceClock (sb.advance_clock): qcs:current_time
  date conditions, STS token expiry, asynchronous transitions, CloudAudit
  event times and the propagation delay all follow it, and it survives a
  restart."""
import json
import os
import sys
import time
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import CST, Sandbox, wait_for  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import error_code as code  # noqa: E402
from urllib.parse import quote  # noqa: E402

t = Tap(59)
DENIED = "AuthFailure.UnauthorizedOperation"


def doc(*statements, version="2.0"):
    return json.dumps({"version": version, "statement": list(statements)})


def allow(*actions, **extra):
    return dict({"effect": "allow", "action": list(actions), "resource": "*"}, **extra)


def iso(ts):
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- 1. action existence and document checks --------------------------------
with Sandbox() as sb:
    n = [0]

    def create(document):
        n[0] += 1
        return code(lambda: sb.call("cam", "CreatePolicy", {"PolicyName": "p%d" % n[0],
                                                            "PolicyDocument": document}))
    t.eq(create(doc(allow("cam:ListUsers", "cam:NoSuchAction"))), "InvalidParameter.ActionNotExist",
         "CreatePolicy: an action the service lacks gets InvalidParameter.ActionNotExist")
    t.eq(create(doc(allow("nosuchsvc:DescribeThings"))), "InvalidParameter.ActionServiceNotExist",
         "CreatePolicy: an unknown service gets InvalidParameter.ActionServiceNotExist")
    t.eq(create(doc(allow("tcb:modifyenv"))), "InvalidParameter.ActionNotExist",
         "CreatePolicy: action names are case-sensitive (tcb:modifyenv is not tcb:ModifyEnv)")
    t.eq(create(doc(allow("cam:Zzz*"))), "InvalidParameter.ActionNotExist",
         "CreatePolicy: a wildcard matching no action of the service is refused")
    t.eq(create(doc(allow("nosuch*:Describe*"))), "InvalidParameter.ActionServiceNotExist",
         "CreatePolicy: a service wildcard matching no service is refused")
    t.eq([create(doc(allow(a))) for a in ("*", "cam:*", "cam:List*", "*:Describe*", "t*:Run*",
                                            "name/cam:ListUsers", "cvm:RunInstances")],
         ["ok"] * 7, "wildcards that match something, the name/ prefix and other SDK services pass")
    t.eq(create(doc(allow("cam:ListUsers"), version="1.0")), "InvalidParameter.VersionError",
         "CreatePolicy: version other than \"2.0\" gets InvalidParameter.VersionError")
    t.eq(create(json.dumps({"statement": [allow("cam:ListUsers")]})), "InvalidParameter.VersionError",
         "CreatePolicy: a missing version gets InvalidParameter.VersionError")
    t.eq(create(doc(allow("cam:ListUsers", condition={"string_sounds_like": {"qcs:ip": "x"}}))),
         "InvalidParameter.ConditionTypeError",
         "CreatePolicy: an undocumented condition operator gets InvalidParameter.ConditionTypeError")
    documented = ["string_equal", "string_not_like", "numeric_less_than", "date_less_than",
                  "date_not_greater_than", "ip_equal", "ip_not_equal", "bool_equal",
                  "binary_equal", "null_equal", "for_any_value:string_like",
                  "for_all_value:string_equal", "string_equal_if_exist", "date_greater_than_if_exist"]
    got = {op: create(doc(allow("cam:ListUsers", condition={op: {"qcs:ip": "true"}})))
           for op in documented}
    t.eq({op: c for op, c in got.items() if c != "ok"}, {},
         "CreatePolicy accepts every documented operator, qualifier and _if_exist")
    base = doc(allow("cam:ListUsers"))
    pid = sb.call("cam", "CreatePolicy", {"PolicyName": "rollout", "PolicyDocument": base})["PolicyId"]
    t.eq(code(lambda: sb.call("cam", "CreatePolicyVersion", {
        "PolicyId": pid, "PolicyDocument": doc(allow("lighthouse:NoSuchThing")), "SetAsDefault": True})),
        "InvalidParameter.ActionNotExist", "CreatePolicyVersion refuses an unknown action too")
    t.eq(code(lambda: sb.call("cam", "UpdatePolicy", {
        "PolicyId": pid, "PolicyDocument": doc(allow("nosuchsvc:Get"))})),
        "InvalidParameter.ActionServiceNotExist", "UpdatePolicy refuses an unknown service too")
    t.eq(sb.call("cam", "GetPolicy", {"PolicyId": pid})["PolicyDocument"], base,
         "... and the refused documents changed nothing")

    # -- 2. versions --------------------------------------------------------
    def versions():
        return [(v["VersionId"], v["IsDefaultVersion"])
                for v in sb.call("cam", "ListPolicyVersions", {"PolicyId": pid})["Versions"]]
    t.eq(versions(), [(1, 1)], "a new policy has version 1, the default")
    docs = {1: base}
    for k in range(2, 6):
        docs[k] = doc(allow("cam:ListUsers", "cam:GetUser") if k % 2 else allow("cam:ListGroups"))
        v = sb.call("cam", "CreatePolicyVersion", {"PolicyId": pid, "PolicyDocument": docs[k],
                                                   "SetAsDefault": False})["VersionId"]
        assert v == k, v
    t.eq(versions(), [(1, 1), (2, 0), (3, 0), (4, 0), (5, 0)],
         "CreatePolicyVersion SetAsDefault=false adds versions 2..5 and keeps 1 the default")
    pv = sb.call("cam", "GetPolicyVersion", {"PolicyId": pid, "VersionId": 3})["PolicyVersion"]
    t.ok(pv["Document"] == docs[3] and pv["IsDefaultVersion"] == 0 and pv["VersionId"] == 3
         and len(pv["CreateDate"]) == 19, "GetPolicyVersion: Document, IsDefaultVersion, CreateDate", pv)
    t.eq(code(lambda: sb.call("cam", "CreatePolicyVersion", {
        "PolicyId": pid, "PolicyDocument": base, "SetAsDefault": True})),
        "FailedOperation.PolicyVersionFull", "a sixth version gets FailedOperation.PolicyVersionFull")
    t.eq(code(lambda: sb.call("cam", "DeletePolicyVersion", {"PolicyId": pid, "VersionId": [1]})),
         "FailedOperation.PolicyVersionAlreadyDefault",
         "DeletePolicyVersion of the default version gets FailedOperation.PolicyVersionAlreadyDefault")
    t.eq(code(lambda: sb.call("cam", "DeletePolicyVersion", {"PolicyId": pid, "VersionId": [2, 1]})),
         "FailedOperation.PolicyVersionAlreadyDefault", "... also inside a list of versions")
    t.eq(len(versions()), 5, "... and a refused DeletePolicyVersion deletes nothing")
    t.eq(code(lambda: sb.call("cam", "DeletePolicyVersion", {"PolicyId": pid, "VersionId": [2, 9]})),
         "InvalidParameter.PolicyVersionNotExists",
         "DeletePolicyVersion of a missing version gets InvalidParameter.PolicyVersionNotExists")
    sb.call("cam", "DeletePolicyVersion", {"PolicyId": pid, "VersionId": [2, 3]})
    t.eq(versions(), [(1, 1), (4, 0), (5, 0)], "DeletePolicyVersion takes a list of VersionIds")
    t.eq(code(lambda: sb.call("cam", "GetPolicyVersion", {"PolicyId": pid, "VersionId": 2})),
         "InvalidParameter.PolicyVersionNotExists", "GetPolicyVersion of a deleted version is refused")
    v6 = sb.call("cam", "CreatePolicyVersion", {"PolicyId": pid, "PolicyDocument": docs[3],
                                                "SetAsDefault": True})["VersionId"]
    t.eq((v6, versions()), (6, [(1, 0), (4, 0), (5, 0), (6, 1)]),
         "version ids are never reused; SetAsDefault=true makes the new one the default")
    t.eq(sb.call("cam", "GetPolicy", {"PolicyId": pid})["PolicyDocument"], docs[3],
         "GetPolicy shows the default version's document")
    sb.call("cam", "SetDefaultPolicyVersion", {"PolicyId": pid, "VersionId": 4})
    t.eq((versions()[1], sb.call("cam", "GetPolicy", {"PolicyId": pid})["PolicyDocument"]),
         ((4, 1), docs[4]), "SetDefaultPolicyVersion switches the default (and GetPolicy)")
    t.eq(code(lambda: sb.call("cam", "SetDefaultPolicyVersion", {"PolicyId": pid, "VersionId": 4})),
         "FailedOperation.PolicyVersionAlreadyDefault",
         "SetDefaultPolicyVersion of the default gets FailedOperation.PolicyVersionAlreadyDefault")
    t.eq(code(lambda: sb.call("cam", "SetDefaultPolicyVersion", {"PolicyId": pid, "VersionId": 3})),
         "InvalidParameter.PolicyVersionNotExists",
         "SetDefaultPolicyVersion of a deleted version gets InvalidParameter.PolicyVersionNotExists")

# -- 3. propagation delay (moved past with the clock) -----------------------
with Sandbox("--policy-delay-ms", "60000") as sb:
    a = sb.call("cam", "AddUser", {"Name": "alice", "UseApi": 1})
    as_a = dict(secret_id=a["SecretId"], secret_key=a["SecretKey"])

    def can(action, params=None):
        c = code(lambda: sb.call("cam", action, params or {}, **as_a))
        return c != DENIED

    pid = sb.call("cam", "CreatePolicy", {"PolicyName": "staged",
                                          "PolicyDocument": doc(allow("cam:ListUsers"))})["PolicyId"]
    sb.call("cam", "AttachUserPolicy", {"PolicyId": pid, "AttachUin": a["Uin"]})
    listed = [x["PolicyId"] for x in sb.call("cam", "ListAttachedUserPolicies",
                                             {"TargetUin": a["Uin"]})["List"]]
    t.ok(listed == [pid] and not can("ListUsers"),
         "attach: ListAttachedUserPolicies shows it at once, authorization not yet", (listed,))
    sb.advance_clock(61)
    t.ok(can("ListUsers"), "attach: allowed once the delay has passed")

    sb.call("cam", "CreatePolicyVersion", {"PolicyId": pid, "SetAsDefault": True,
                                           "PolicyDocument": doc(allow("cam:ListGroups"))})
    shown = json.loads(sb.call("cam", "GetPolicy", {"PolicyId": pid})["PolicyDocument"])
    t.ok(shown["statement"][0]["action"] == ["cam:ListGroups"]
         and [v["IsDefaultVersion"] for v in sb.call("cam", "ListPolicyVersions",
                                                      {"PolicyId": pid})["Versions"]] == [0, 1],
         "new default version: GetPolicy and ListPolicyVersions show it at once")
    t.ok(can("ListUsers") and not can("ListGroups"),
         "new default version: authorization still uses the previous one before the delay")
    sb.advance_clock(30)
    t.ok(can("ListUsers") and not can("ListGroups"), "... still at half the delay")
    sb.advance_clock(31)
    t.ok(not can("ListUsers") and can("ListGroups"), "... and the new one after the delay")

    sb.call("cam", "SetDefaultPolicyVersion", {"PolicyId": pid, "VersionId": 1})
    t.ok(can("ListGroups") and not can("ListUsers"), "SetDefaultPolicyVersion: not effective at once")
    sb.restart()
    t.ok(can("ListGroups") and not can("ListUsers"), "... a pending change survives a restart")
    sb.advance_clock(61)
    t.ok(can("ListUsers") and not can("ListGroups"), "... and takes effect after the delay")

    sb.call("cam", "DetachUserPolicy", {"PolicyId": pid, "DetachUin": a["Uin"]})
    t.ok(sb.call("cam", "ListAttachedUserPolicies", {"TargetUin": a["Uin"]})["List"] == []
         and can("ListUsers"), "detach: the read shows it at once, authorization still allows")
    sb.advance_clock(61)
    t.ok(not can("ListUsers"), "detach: refused after the delay")

    gid = sb.call("cam", "CreateGroup", {"GroupName": "breakglass"})["GroupId"]
    q = sb.call("cam", "CreatePolicy", {"PolicyName": "bg", "PolicyDocument":
                                        doc(allow("cam:ListPolicies"))})["PolicyId"]
    sb.call("cam", "AttachGroupPolicy", {"PolicyId": q, "AttachGroupId": gid})
    sb.advance_clock(61)
    sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": gid, "Uid": a["Uid"]}]})
    groups = sb.call("cam", "ListGroupsForUser", {"Uid": a["Uid"]})["GroupInfo"]
    t.ok(len(groups) == 1 and not can("ListPolicies"),
         "AddUserToGroup: ListGroupsForUser shows it at once, authorization not yet")
    sb.advance_clock(61)
    t.ok(can("ListPolicies"), "AddUserToGroup: the group's policies apply after the delay")
    sb.call("cam", "RemoveUserFromGroup", {"Info": [{"GroupId": gid, "Uid": a["Uid"]}]})
    t.ok(can("ListPolicies"), "RemoveUserFromGroup: still allowed before the delay")
    sb.advance_clock(61)
    t.ok(not can("ListPolicies"), "RemoveUserFromGroup: refused after the delay")

# the delay in real time, without the clock: 6 s, so that the first call
# lands inside it even on a loaded machine
with Sandbox("--policy-delay-ms", "6000") as sb:
    a = sb.call("cam", "AddUser", {"Name": "alice", "UseApi": 1})
    pid = sb.call("cam", "CreatePolicy", {"PolicyName": "p", "PolicyDocument":
                                          doc(allow("cam:ListUsers"))})["PolicyId"]
    start = time.monotonic()
    sb.call("cam", "AttachUserPolicy", {"PolicyId": pid, "AttachUin": a["Uin"]})
    first = code(lambda: sb.call("cam", "ListUsers", {}, a["SecretId"], a["SecretKey"]))
    ok = wait_for(lambda: code(lambda: sb.call("cam", "ListUsers", {}, a["SecretId"],
                                               a["SecretKey"])) == "ok", timeout=30, interval=0.1)
    t.ok(first == DENIED and ok and time.monotonic() - start >= 5.9,
         "--policy-delay-ms 6000: refused at first, allowed after about 6 s of real time",
         (first, ok, time.monotonic() - start))

# -- 4. the clock ------------------------------------------------------------
with Sandbox("--async-delay-ms", "600000") as sb:
    b = sb.call("cam", "AddUser", {"Name": "bob", "UseApi": 1})
    as_b = dict(secret_id=b["SecretId"], secret_key=b["SecretKey"])
    now = time.time()
    window = {"date_greater_than": {"qcs:current_time": iso(now + 3600)},
              "date_less_than": {"qcs:current_time": iso(now + 2 * 3600)}}
    pid = sb.call("cam", "CreatePolicy", {"PolicyName": "breakglass", "PolicyDocument":
                                          doc(allow("cam:ListUsers", condition=window))})["PolicyId"]
    sb.call("cam", "AttachUserPolicy", {"PolicyId": pid, "AttachUin": b["Uin"]})
    lu = lambda: code(lambda: sb.call("cam", "ListUsers", {}, **as_b))  # noqa: E731
    t.eq(lu(), DENIED, "a grant from +1 h to +2 h: refused before its start")
    t.eq(sb.advance_clock(5400), 5400, "advance_clock(5400) answers the total offset")
    t.ok(abs(sb.now() - (time.time() + 5400)) < 2, "sb.now() is the real time plus the offset")
    t.eq(lu(), "ok", "... allowed inside the window (date conditions use the sandbox's clock)")
    sb.advance_clock(3600)
    t.eq(lu(), DENIED, "... refused once the clock passed the date_less_than end")
    sb.restart()
    t.ok(lu() == DENIED and sb.state()["clock_offset"] == 9000,
         "the clock offset survives a restart")
    t.eq(code(lambda: sb.advance_clock(-10)), "TcsandboxControl.BadRequest",
         "the clock does not move backwards")
    t.eq(code(lambda: sb.control("AdvanceClock", {"Seconds": 10}, secret_id=b["SecretId"],
                                 secret_key=b["SecretKey"])), "TcsandboxControl.AuthFailure",
         "only the hub's root key may move the clock")

    fed = sb.call("sts", "GetFederationToken", {"Name": "fed", "DurationSeconds": 7200, "Policy":
                                                quote(doc(allow("cam:GetUserAppId")))})
    cred = fed["Credentials"]
    as_f = lambda: code(lambda: sb.call("sts", "GetCallerIdentity", {}, cred["TmpSecretId"],  # noqa: E731
                                        cred["TmpSecretKey"], token=cred["Token"]))
    t.ok(as_f() == "ok" and abs(fed["ExpiredTime"] - (sb.now() + 7200)) < 5,
         "an STS token's ExpiredTime is on the sandbox's clock", fed["ExpiredTime"])
    sb.advance_clock(7201)
    t.eq(as_f(), "AuthFailure.TokenFailure", "... and it expires when the clock passes it")

    lh = lambda a, p=None: sb.call("lighthouse", a, p)  # noqa: E731
    iid = lh("CreateInstances", {"BundleId": "bundle_gen_mc_med4_02", "BlueprintId": "lhbp-a1ubu224",
                                 "InstanceChargePrepaid": {"Period": 1},
                                 "InstanceName": "clock"})["InstanceIdSet"][0]
    state = lambda: lh("DescribeInstances", {"InstanceIds": [iid]})["InstanceSet"][0]["InstanceState"]  # noqa: E731
    first = state()
    sb.advance_clock(601)
    t.eq((first, state()), ("PENDING", "RUNNING"),
         "an asynchronous transition (--async-delay-ms 600000) completes when the clock moves")

    snow = sb.now()
    ev = sb.call("cloudaudit", "LookUpEvents", {"StartTime": int(snow) - 60, "EndTime": int(snow) + 60,
                                                "MaxResults": 50})["Events"]
    names = [e["EventName"] for e in ev]
    t.ok("DescribeInstances" in names and "CreateInstances" not in names
         and all(abs(int(e["EventTime"]) - snow) < 60 for e in ev),
         "CloudAudit event times are on the sandbox's clock (the create was 601 s earlier)", names)

    # SetClock: forward to a given time (here the next 15th, 12:00 China time)
    before = sb.now()
    noon = sb.set_clock_china(hour=12, day=15)
    d = datetime.fromtimestamp(noon, CST)
    t.ok(noon > before and (d.day, d.hour, d.minute) == (15, 12, 0) and 0 <= sb.now() - noon < 60,
         "set_clock_china(hour=12, day=15) moves the clock to the next 15th, 12:00 China time",
         (before, d.isoformat(), sb.now()))
    exp = sb.call("sts", "GetFederationToken", {"Name": "fed2", "DurationSeconds": 7200, "Policy":
                                                quote(doc(allow("cam:GetUserAppId")))})["ExpiredTime"]
    t.ok(0 <= exp - (noon + 7200) < 60, "... and the API answers times from there (ExpiredTime)",
         exp - noon)
    t.eq(code(lambda: sb.set_clock(noon - 3600)), "TcsandboxControl.BadRequest",
         "SetClock to a time before the sandbox's now is refused (the clock only moves forward)")

sys.exit(t.done())
