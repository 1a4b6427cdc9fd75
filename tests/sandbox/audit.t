#!/usr/bin/env python3
"""audit.t: CloudAudit LookUpEvents records every call: who (UIN, key),
action, resource, time, success or error code; filters and paging."""
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import ApiError, error_code as code  # noqa: E402

t = Tap(13)


with Sandbox() as sb:
    start = int(time.time())
    u = sb.call("cam", "AddUser", {"Name": "ivy", "UseApi": 1})                     # write
    sb.call("cam", "CreateGroup", {"GroupName": "g1"})                               # write
    code(lambda: sb.call("cam", "CreateGroup", {"GroupName": "g1"}))                 # write, fails
    sb.call("cam", "ListUsers")                                                       # read
    code(lambda: sb.call("cam", "ListUsers", secret_id=u["SecretId"], secret_key=u["SecretKey"]))  # read, denied
    code(lambda: sb.call("cam", "ListUsers", secret_key="wrong" * 6 + "xx"))        # bad signature

    def look(attrs=None, limit=50, token=None):
        p = {"StartTime": start - 5, "EndTime": int(time.time()) + 5, "MaxResults": limit}
        if attrs:
            p["LookupAttributes"] = [{"AttributeKey": k, "AttributeValue": v} for k, v in attrs]
        if token:
            p["NextToken"] = token
        return sb.call("cloudaudit", "LookUpEvents", p)

    writes = look([("ActionType", "Write")])
    t.eq(sorted(e["EventName"] for e in writes["Events"]), ["AddUser", "CreateGroup", "CreateGroup"],
         "ActionType=Write returns the 3 write calls, the failed one included")
    failed = [e for e in writes["Events"] if e["ErrorCode"] != 0][0]
    detail = json.loads(failed["CloudAuditEvent"])
    t.eq(detail["errorCode"], "InvalidParameter.GroupNameInUse",
         "a failed call's error code is in CloudAuditEvent.errorCode")
    add = [e for e in writes["Events"] if e["EventName"] == "AddUser"][0]
    t.ok(add["Username"] == "root" and add["SecretId"] == sb.secret_id and add["AccountID"] == sb.owner_uin
         and add["EventSource"] == "cam.tencentcloudapi.com",
         "an event names the caller (root), its key, the account and the service")
    t.eq(add["Resources"]["ResourceName"], "ivy", "... and the resource it acted on")
    t.ok(abs(int(add["EventTime"]) - start) <= 5, "... and when (unix seconds)")
    reads = look([("ActionType", "Read")])
    t.eq(sorted(e["EventName"] for e in reads["Events"]), ["ListUsers"] * 3 + ["LookUpEvents"],
         "ActionType=Read returns the reads, the refused ones and the previous LookUpEvents")
    mine = look([("PrincipalId", str(u["Uin"]))])
    t.ok(len(mine["Events"]) == 1 and mine["Events"][0]["Username"] == "ivy"
         and json.loads(mine["Events"][0]["CloudAuditEvent"])["errorCode"] == "AuthFailure.UnauthorizedOperation",
         "PrincipalId finds the sub-user's refused call, with its name and error")
    t.eq(len(look([("AccessKeyId", u["SecretId"])])["Events"]), 1, "AccessKeyId filters by key")
    sig = look([("ApiErrorCode", "AuthFailure.SignatureFailure")])
    t.eq(len(sig["Events"]), 1, "a call with a bad signature is recorded too")

    names, token, pages = [], None, 0
    while True:
        r = look(limit=2, token=token)
        names += [e["EventId"] for e in r["Events"]]
        pages += 1
        if r["ListOver"]:
            break
        token = r["NextToken"]
    t.ok(len(names) == len(set(names)) == 11 and pages == 6,
         "NextToken pages once through the 11 events made before paging began (%d, %d pages of 2)" % (len(names), pages))
    t.eq(code(lambda: sb.call("cloudaudit", "LookUpEvents", {"StartTime": 0, "EndTime": 8 * 86400})),
         "LimitExceeded.OverTime", "a window over 7 days gets LimitExceeded.OverTime")
    t.eq(code(lambda: sb.call("cloudaudit", "LookUpEvents", {"StartTime": 10, "EndTime": 5})),
         "InvalidParameterValue.Time", "StartTime after EndTime gets InvalidParameterValue.Time")
    t.eq(code(lambda: look(limit=51)), "InvalidParameterValue.MaxResult", "MaxResults over 50 is refused")
sys.exit(t.done())
