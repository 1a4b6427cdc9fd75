#!/usr/bin/env python3
"""review_support.t: what the nightly permission review reads, and the
sandbox-only control channel that sets what the API cannot produce.

Served shapes and formats (ListUsers/ListAccessKeys CreateTime, GetUser
RecentlyLoginTime, GetSecurityLastUsed with its one-day lag and 10-id limit,
DescribeSafeAuthFlagColl), each control helper's effect seen through the
public API, the control channel's refusals, and CloudAudit: principals of
CAM writes and of authorization failures, the documented LookupAttributes
keys (others refused), backdated and injected events."""
import json
import os
import re
import sys
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
import tc3client  # noqa: E402
from tc3client import error_code as code  # noqa: E402

t = Tap(52)
CST = timezone(timedelta(hours=8))
CST_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
FLAGS = ["Phone", "Token", "Stoken", "Wechat", "Custom", "Mail", "U2FToken", "Passkey"]


def cst(ts):
    return datetime.fromtimestamp(ts, CST).strftime("%Y-%m-%d %H:%M:%S")


def day(ts):
    return datetime.fromtimestamp(ts, CST).strftime("%Y-%m-%d")


def day_start(ts):
    d = datetime.fromtimestamp(ts, CST)
    return int(datetime(d.year, d.month, d.day, tzinfo=CST).timestamp())


with Sandbox(members=["dev"]) as sb:
    dev = sb.members["dev"]
    # "today" and the one-day lag are China-time days of the sandbox's clock:
    # start at 12:00 China time so that no run crosses a day's end
    now = int(sb.set_clock_china(hour=12))
    bob = sb.call("cam", "AddUser", {"Name": "bob", "ConsoleLogin": 1, "UseApi": 1})
    amy = sb.call("cam", "AddUser", {"Name": "amy", "UseApi": 1})
    as_bob = dict(secret_id=bob["SecretId"], secret_key=bob["SecretKey"])

    # -- creation times ---------------------------------------------------
    users = {u["Name"]: u for u in sb.call("cam", "ListUsers")["Data"]}
    t.ok(CST_RE.match(users["bob"]["CreateTime"])
         and abs(datetime.strptime(users["bob"]["CreateTime"] + " +0800", "%Y-%m-%d %H:%M:%S %z")
                 .timestamp() - now) <= 60,
         "ListUsers CreateTime is China time 'YYYY-MM-DD hh:mm:ss' of the creation")
    old = now - 400 * 86400
    sb.set_created("user", bob["Uin"], old)
    users = {u["Name"]: u for u in sb.call("cam", "ListUsers")["Data"]}
    t.eq(users["bob"]["CreateTime"], cst(old), "set_created('user') moves ListUsers CreateTime")
    t.eq(sb.call("cam", "DescribeSubAccounts", {"FilterSubAccountUin": [bob["Uin"]]})
         ["SubAccounts"][0]["CreateTime"], cst(old), "... and DescribeSubAccounts CreateTime")
    sb.set_created("key", bob["SecretId"], old + 86400)
    keys = sb.call("cam", "ListAccessKeys", {"TargetUin": bob["Uin"]})["AccessKeys"]
    t.ok(len(keys) == 1 and keys[0]["CreateTime"] == cst(old + 86400) and keys[0]["Status"] == "Active",
         "set_created('key') moves ListAccessKeys CreateTime (China time), Status Active")

    # -- last console login -----------------------------------------------
    g = sb.call("cam", "GetUser", {"Name": "bob"})
    t.ok(g["RecentlyLoginTime"] == "" and g["RecentlyLoginIP"] == "",
         "GetUser of a user who never logged in: RecentlyLoginTime and RecentlyLoginIP are ''")
    login = now - 10 * 86400 - 123
    sb.set_last_login(bob["Uin"], login, ip="198.51.100.7")
    g = sb.call("cam", "GetUser", {"Name": "bob"})
    t.ok(g["RecentlyLoginTime"] == cst(login) and g["RecentlyLoginIP"] == "198.51.100.7",
         "set_last_login shows in GetUser RecentlyLoginTime (China time) and RecentlyLoginIP")
    sa = sb.call("cam", "DescribeSubAccounts", {"FilterSubAccountUin": [bob["Uin"]]})["SubAccounts"][0]
    t.ok(sa["LastLoginTime"] == cst(login) and sa["LastLoginIp"] == "198.51.100.7",
         "... and in DescribeSubAccounts LastLoginTime/LastLoginIp")
    sb.set_last_login(bob["Uin"], 0)
    t.eq(sb.call("cam", "GetUser", {"Name": "bob"})["RecentlyLoginTime"], "", "when=0 clears it")
    sb.set_last_login(bob["Uin"], login, ip="198.51.100.7")

    # -- key last use: one-day lag ------------------------------------------
    fresh = sb.call("cam", "CreateAccessKey", {"TargetUin": amy["Uin"]})["AccessKey"]["AccessKeyId"]

    def last_used(*ids):
        r = sb.call("cam", "GetSecurityLastUsed", {"SecretIdList": list(ids)})["SecretIdLastUsedRows"]
        return {x["SecretId"]: (x["LastUsedDate"], x["LastSecretUsedDate"]) for x in r}

    t.eq(last_used(fresh)[fresh], (None, None), "a never-used key: LastUsedDate and LastSecretUsedDate null")
    sb.call("cam", "GetUserAppId", secret_id=amy["SecretId"], secret_key=amy["SecretKey"])
    t.eq(last_used(amy["SecretId"])[amy["SecretId"]], (None, None),
         "a key used only today is not shown yet (one-day lag)")
    used = now - 3 * 86400
    sb.set_key_last_used(amy["SecretId"], used)
    t.eq(last_used(amy["SecretId"])[amy["SecretId"]], (day(used), day_start(used)),
         "set_key_last_used 3 days ago: LastUsedDate 'YYYY-MM-DD' (China), LastSecretUsedDate its 00:00 in unix s")
    sb.call("cam", "GetUserAppId", secret_id=amy["SecretId"], secret_key=amy["SecretKey"])
    t.eq(last_used(amy["SecretId"])[amy["SecretId"]][0], day(used),
         "using the key today still shows the earlier day (today's use lags)")
    sb.set_key_last_used(amy["SecretId"], now)
    t.eq(last_used(amy["SecretId"])[amy["SecretId"]], (None, None),
         "set_key_last_used(now) forgets earlier uses, and today's use is not shown yet")
    t.eq(sorted(last_used(fresh, "AKIDnosuchkey0000000000000000000000")), [fresh],
         "an unknown SecretId is left out of SecretIdLastUsedRows")
    t.eq(code(lambda: sb.call("cam", "GetSecurityLastUsed", {"SecretIdList": ["AKID%d" % i for i in range(11)]})),
         "InvalidParameter", "more than 10 SecretIds in one call: InvalidParameter")

    # -- MFA flags ------------------------------------------------------------
    f = sb.call("cam", "DescribeSafeAuthFlagColl", {"SubUin": bob["Uin"]})
    t.ok(sorted(f["LoginFlag"]) == sorted(FLAGS) and sorted(f["ActionFlag"]) == sorted(FLAGS)
         and not any(f["LoginFlag"].values()) and not any(f["ActionFlag"].values())
         and set(f["OffsiteFlag"]) == {"VerifyFlag", "NotifyPhone", "NotifyEmail", "NotifyWechat", "Tips"}
         and f["PromptTrust"] == 0,
         "DescribeSafeAuthFlagColl: LoginFlag/ActionFlag with all 8 SDK flags, 0 by default; OffsiteFlag, PromptTrust")
    sb.set_mfa(bob["Uin"], stoken=1, action={"Phone": 1})
    f = sb.call("cam", "DescribeSafeAuthFlagColl", {"SubUin": bob["Uin"]})
    t.ok(f["LoginFlag"]["Stoken"] == 1 and sum(f["LoginFlag"].values()) == 1
         and f["ActionFlag"]["Phone"] == 1 and sum(f["ActionFlag"].values()) == 1,
         "set_mfa(stoken=1, action={Phone: 1}) shows as LoginFlag.Stoken and ActionFlag.Phone")
    sb.set_mfa(bob["Uin"], u2f_token=1)
    f = sb.call("cam", "DescribeSafeAuthFlagColl", {"SubUin": bob["Uin"]})
    t.ok(f["LoginFlag"]["U2FToken"] == 1 and f["LoginFlag"]["Stoken"] == 0 and f["ActionFlag"]["Phone"] == 1,
         "set_mfa replaces LoginFlag, and leaves ActionFlag alone without action=")
    t.eq(code(lambda: sb.call("cam", "DescribeSafeAuthFlagColl", {"SubUin": 100000999999})),
         "ResourceNotFound.UserNotExist", "DescribeSafeAuthFlagColl of an unknown UIN: ResourceNotFound.UserNotExist")
    t.eq(code(lambda: sb.call("cam", "DescribeSafeAuthFlagColl", {"SubUin": amy["Uin"]}, **as_bob)),
         "AuthFailure.UnauthorizedOperation", "a sub-user without a grant is refused")

    # -- the control channel is root-only and is not the API ------------------
    setc = {"Kind": "user", "Id": bob["Uin"], "Time": 1}
    t.eq(code(lambda: sb.control("SetCreated", setc, **as_bob)),
         "TcsandboxControl.AuthFailure", "a sub-user's key is refused by the control channel")
    mid, mkey = sb.member_key(dev)
    t.eq(code(lambda: sb.control("SetCreated", setc, secret_id=mid, secret_key=mkey)),
         "TcsandboxControl.AuthFailure", "a member account's root key is refused too")
    t.eq(code(lambda: sb.control("SetCreated", setc, secret_key="x" * 32)),
         "TcsandboxControl.AuthFailure", "a wrong signature is refused")
    t.eq(code(lambda: sb.call("cam", "SetCreated", setc)),
         "InvalidAction", "POST / (the API) does not know the control operations")
    t.eq(code(lambda: sb.control("SetMfa", {"Uin": bob["Uin"], "LoginFlag": {"Sms": 1}})),
         "TcsandboxControl.BadRequest", "a flag outside LoginActionFlag is refused")
    t.eq(code(lambda: sb.control("Reboot")), "TcsandboxControl.UnknownOperation", "an unknown operation is refused")
    t.eq({u["Name"]: u["CreateTime"] for u in sb.call("cam", "ListUsers")["Data"]}["bob"], cst(old),
         "refused control calls changed nothing")

    # -- CloudAudit: who wrote, who was denied ---------------------------------
    sb.call("cam", "AttachUserPolicy", {"PolicyId": 1, "AttachUin": bob["Uin"]})   # bob: admin
    sb.call("cam", "CreateGroup", {"GroupName": "ops"}, **as_bob)                  # a CAM write by bob
    sb.call("cam", "DetachUserPolicy", {"PolicyId": 1, "DetachUin": bob["Uin"]})
    code(lambda: sb.call("cam", "CreateGroup", {"GroupName": "ops2"}, **as_bob))    # now denied
    sb.call("cam", "CreateRole", {"RoleName": "r1", "PolicyDocument": json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": "name/sts:AssumeRole",
                                          "principal": {"qcs": ["qcs::cam::uin/%d:root" % sb.owner_uin]}}]}),
        "Tags": [{"Key": "team", "Value": "a"}]})
    back = now - 3 * 86400
    injected = sb.add_audit_event(event_name="DeleteUser", uin=amy["Uin"], when=back,
                                  error_code="AuthFailure.UnauthorizedOperation",
                                  resources=[("cam:user", "bob")], secret_id=amy["SecretId"])
    sb.add_audit_event(account=dev, event_name="AddUser", when=back, resources=[("cam:user", "x")])

    def look(attrs=(), s=None, e=None, limit=50, account=None, token=None):
        p = {"StartTime": s if s is not None else now - 4 * 86400, "EndTime": e or int(sb.now()) + 5,
             "MaxResults": limit,
             "LookupAttributes": [{"AttributeKey": k, "AttributeValue": v} for k, v in attrs]}
        if token:
            p["NextToken"] = token
        return sb.call("cloudaudit", "LookUpEvents", p, account=account)

    w = look([("ActionType", "Write"), ("PrincipalId", str(bob["Uin"]))])["Events"]
    ok = [x for x in w if x["ErrorCode"] == 0]
    t.ok(len(ok) == 1 and ok[0]["EventName"] == "CreateGroup" and ok[0]["Username"] == "bob"
         and ok[0]["SecretId"] == bob["SecretId"] and ok[0]["EventSource"] == "cam.tencentcloudapi.com",
         "a CAM write names its principal: Username (sub-user name), SecretId, PrincipalId filter")
    ui = json.loads(ok[0]["CloudAuditEvent"])["userIdentity"]
    t.ok(ui["principalId"] == str(bob["Uin"]) and ui["userName"] == "bob" and ui["type"] == "user"
         and ui["secretId"] == bob["SecretId"] and ui["accountId"] == str(sb.owner_uin),
         "CloudAuditEvent.userIdentity: principalId (UIN), userName, type, secretId, accountId")
    denied = look([("ApiErrorCode", "AuthFailure.UnauthorizedOperation")])["Events"]
    t.eq(sorted((x["EventName"], x["Username"]) for x in denied),
         [("CreateGroup", "bob"), ("DeleteUser", "amy"), ("DescribeSafeAuthFlagColl", "bob")],
         "ApiErrorCode=AuthFailure.UnauthorizedOperation finds every denial, injected ones included, with Username")
    d = json.loads([x for x in denied if x["EventName"] == "CreateGroup"][0]["CloudAuditEvent"])
    t.ok(d["errorCode"] == d["apiErrorCode"] == d["camErrorCode"] == "AuthFailure.UnauthorizedOperation"
         and d["actionType"] == "Write",
         "a denial's CloudAuditEvent: errorCode, apiErrorCode and camErrorCode carry the real code")
    t.eq(len(look([("CamErrorCode", "AuthFailure.UnauthorizedOperation")])["Events"]), 3,
         "CamErrorCode filters authorization failures too")
    t.ok(all(x["ErrorCode"] == 1 for x in denied), "Event.ErrorCode is 1 for an error (it is an integer)")
    dup = [x for x in look([("EventName", "CreateGroup")])["Events"]]
    t.ok(len(dup) == 2 and {json.loads(x["CloudAuditEvent"])["camErrorCode"] for x in dup}
         == {"", "AuthFailure.UnauthorizedOperation"},
         "camErrorCode is '' for a successful call")

    # backdated and injected events
    inj = [x for x in look([("RequestId", injected)])["Events"]]
    t.ok(len(inj) == 1 and inj[0]["EventTime"] == str(back) and inj[0]["Username"] == "amy"
         and inj[0]["AccountID"] == sb.owner_uin and inj[0]["SecretId"] == amy["SecretId"]
         and inj[0]["Resources"]["ResourceName"] == "bob",
         "add_audit_event: backdated EventTime, Username from the UIN, key, account, resources")
    everything = look()["Events"]
    times = [int(x["EventTime"]) for x in everything]
    t.ok(times == sorted(times, reverse=True) and everything[-1]["EventId"] == injected,
         "events come newest first by event time: the backdated event is last")
    t.eq(len(look([("RequestId", injected)], s=now - 86400)["Events"]), 0,
         "a window after the backdated time leaves it out")
    t.eq([x["EventName"] for x in look([("ResourceName", "x")], account=dev)["Events"]], ["AddUser"],
         "add_audit_event(account=member) is in that member's log")
    t.eq(len(look([("ResourceName", "x")])["Events"]), 0, "... and not in the hub's")

    # documented attribute keys only (the SDK's LookupAttribute.AttributeKey)
    documented = ("RequestId", "EventName", "ActionType", "PrincipalId", "ResourceId", "ResourceName",
                  "AccessKeyId", "SensitiveAction", "ApiErrorCode", "CamErrorCode", "SourceIPAddress", "Tags")
    t.eq([k for k in documented if code(lambda: look([(k, "x")])) != "ok"], [],
         "every documented AttributeKey is accepted (%d keys)" % len(documented))
    for k in ("Username", "ResourceType", "EventSource", "ReadOnly"):
        t.eq(code(lambda: look([(k, "x")])), "InvalidParameterValue.attributeKey",
             "AttributeKey %s (not in the SDK's documented set) is refused" % k)
    sens = look([("SensitiveAction", "true")])["Events"]
    t.ok(sens and all(json.loads(x["CloudAuditEvent"])["sensitiveAction"] and
                      json.loads(x["CloudAuditEvent"])["actionType"] == "Write" for x in sens)
         and "ListUsers" not in {x["EventName"] for x in sens},
         "SensitiveAction=true returns CAM writes only")
    t.eq([x["EventName"] for x in look([("Tags", "team&a")])["Events"]], ["CreateRole"],
         "Tags=key&value finds the call that carried that tag")
    t.eq([x["EventName"] for x in look([("Tags", "team")])["Events"]], ["CreateRole"], "Tags=key too")
    t.eq(len(look([("AccessKeyId", bob["SecretId"]), ("SourceIPAddress", "127.0.0.1")])["Events"]), 3,
         "AccessKeyId and SourceIPAddress combine (bob's 3 API calls)")

    ids, token = [], None
    while True:
        r = look(limit=3, token=token)
        ids += [x["EventId"] for x in r["Events"]]
        if r["ListOver"]:
            break
        token = r["NextToken"]
    t.ok(len(ids) == len(set(ids)) and ids[-1] == injected and len(ids) >= len(everything),
         "NextToken pages through once, newest first, the backdated event last (%d events)" % len(ids))
    t.eq(len(look([("EventName", "SetLastLogin"), ("EventName", "SetKeyLastUsed"),
                   ("EventName", "SetMfa"), ("EventName", "AddAuditEvent")])["Events"]),
         0, "control calls are not CloudAudit events (only the refused API call POST / SetCreated is)")

    sb.restart()
    t.ok(sb.call("cam", "GetUser", {"Name": "bob"})["RecentlyLoginTime"] == cst(login)
         and last_used(amy["SecretId"])[amy["SecretId"]] == (None, None)
         and sb.call("cam", "DescribeSafeAuthFlagColl", {"SubUin": bob["Uin"]})["LoginFlag"]["U2FToken"] == 1,
         "control settings survive a restart")
    t.eq([x["EventId"] for x in look([("RequestId", injected)])["Events"]], [injected],
         "an injected event survives a restart")

sys.exit(t.done())
