"""CloudAudit: LookUpEvents over every call made to the sandbox.

Every call is an event, whatever its outcome: failed signatures, rate-limited
and injected failures included, and LookUpEvents itself.  Newest first.
ErrorCode is 0 for success and 1 for any error; the error's code string is in
CloudAuditEvent.errorCode (and matches the ApiErrorCode attribute).
CloudAuditEvent (a JSON string) also carries userIdentity {type, principalId,
accountId, secretId, userName}, actionType (Read/Write), resources.
Attributes: RequestId, EventName, ActionType (Read/Write), PrincipalId,
Username, ResourceId, ResourceName, ResourceType, AccessKeyId, ApiErrorCode,
SourceIPAddress, EventSource; different keys AND, equal keys OR.
StartTime..EndTime (unix seconds, inclusive) may span at most 7 days.
Operation-level (resource "*").
Each account sees only its own events: those of calls signed with its keys
(and, for the management account, calls whose key was unknown), plus the
cross-account AssumeRole calls that assumed one of its roles.
"""
import json

from .errors import ApiError
from .registry import action

ATTRS = {
    "RequestId": lambda e: [e["request_id"]],
    "EventName": lambda e: [e["EventName"]],
    "ActionType": lambda e: ["Write" if e["write"] else "Read"],
    "PrincipalId": lambda e: [str(e["uin"])] if e["uin"] is not None else [],
    "Username": lambda e: [e["username"]],
    "ResourceId": lambda e: [r[1] for r in e["resources"]],
    "ResourceName": lambda e: [r[1] for r in e["resources"]],
    "ResourceType": lambda e: [r[0] for r in e["resources"]],
    "AccessKeyId": lambda e: [e["secret_id"]],
    "ApiErrorCode": lambda e: [e["error"]] if e["error"] else [],
    "SourceIPAddress": lambda e: [e["ip"]],
    "EventSource": lambda e: ["%s.tencentcloudapi.com" % e["service"]],
}


def event(e, owner):
    names = [r[1] for r in e["resources"]]
    detail = {
        "eventVersion": 2, "eventType": "ApiCall", "eventTime": int(e["time"]),
        "eventName": e["EventName"], "eventSource": "%s.tencentcloudapi.com" % e["service"],
        "eventRegion": e["region"], "requestID": e["request_id"],
        "sourceIPAddress": e["ip"], "actionType": "Write" if e["write"] else "Read",
        "userIdentity": {"type": e["kind"], "principalId": str(e["uin"] or ""),
                         "accountId": str(owner), "secretId": e["secret_id"],
                         "userName": e["username"]},
        "errorCode": e["error"] or 0, "errorMessage": e["message"],
        "resources": [{"type": t, "name": n} for t, n in e["resources"]],
    }
    return {
        "EventId": e["request_id"], "Username": e["username"], "EventTime": str(int(e["time"])),
        "CloudAuditEvent": json.dumps(detail, ensure_ascii=False), "ResourceTypeCn": "",
        "ErrorCode": 1 if e["error"] else 0, "EventName": e["EventName"],
        "SecretId": e["secret_id"], "EventSource": detail["eventSource"],
        "RequestID": e["request_id"], "ResourceRegion": e["region"], "AccountID": owner,
        "SourceIPAddress": e["ip"], "EventNameCn": "",
        "Resources": {"ResourceType": e["resources"][0][0] if e["resources"] else "",
                      "ResourceName": ",".join(names)},
        "EventRegion": e["region"], "Location": "",
    }


def belongs(e, owner, hub):
    acct = e.get("account") or hub
    return acct == owner or owner in e.get("also", ())


@action("cloudaudit")
def LookUpEvents(ctx):
    p = ctx.p
    start, end = p["StartTime"], p["EndTime"]
    if end < start:
        raise ApiError("InvalidParameterValue.Time", "StartTime is after EndTime")
    if end - start > 7 * 86400:
        raise ApiError("LimitExceeded.OverTime", "one query may span at most 7 days")
    limit = p.get("MaxResults", 10)
    if not 1 <= limit <= 50:
        raise ApiError("InvalidParameterValue.MaxResult", "MaxResults must be within 1..50")
    if p.get("Mode", "standard") not in ("standard", "quick"):
        raise ApiError("InvalidParameterValue", "Mode must be standard or quick")
    wanted = {}
    for a in p.get("LookupAttributes") or []:
        if a["AttributeKey"] not in ATTRS:
            raise ApiError("InvalidParameterValue.attributeKey",
                           "unknown AttributeKey %r" % a["AttributeKey"])
        if a.get("AttributeValue"):
            wanted.setdefault(a["AttributeKey"], set()).add(a["AttributeValue"])
    audit = ctx.store.audit
    hub = ctx.hub["owner_uin"]
    token = p.get("NextToken") or str(len(audit) - 1)
    if not token.lstrip("-").isdigit():
        raise ApiError("InvalidParameterValue", "bad NextToken")
    # The token is an absolute position in the event log, so events that
    # arrive while a client pages do not shift the pages.
    matches = [i for i in range(min(int(token), len(audit) - 1), -1, -1)
               if start <= int(audit[i]["time"]) <= end and belongs(audit[i], ctx.owner, hub)
               and all(set(ATTRS[k](audit[i])) & vals for k, vals in wanted.items())]
    page, rest = matches[:limit], matches[limit:]
    return {"NextToken": str(rest[0]) if rest else "",
            "Events": [event(audit[i], ctx.owner) for i in page], "ListOver": not rest,
            "TotalCount": len(matches)}
