"""CloudAudit: LookUpEvents over every call made to the sandbox.

Every call is an event, whatever its outcome: failed signatures, rate-limited
and injected failures included, and LookUpEvents itself.  Newest first (by
event time, then by arrival).  Tests add backdated events or events of a
given principal through the control channel (control.py AddAuditEvent).

Event fields (the SDK's Event model): Username is the caller's name (the
sub-user's name, "root" for an account's root key, the role or federation
name for STS keys), SecretId the signing key, AccountID the account,
ErrorCode 0 for success and 1 for any error (guessed; the SDK calls it the
authentication error code and types it as an integer, so it cannot carry a
code string).  The error's code string is in the CloudAuditEvent JSON:
errorCode and apiErrorCode (e.g. "AuthFailure.UnauthorizedOperation"), and
camErrorCode, which is the code only when authentication or authorization
refused the call (AuthFailure.*) and "" otherwise.  CloudAuditEvent also
carries userIdentity {type (root/user/role/federated), principalId (UIN),
accountId, secretId, userName}, actionType (Read/Write), sensitiveAction,
resources and tags.

Attributes (the SDK's documented set, nothing else; any other key:
InvalidParameterValue.attributeKey): RequestId, EventName, ActionType
(Read/Write), PrincipalId (UIN), ResourceId, ResourceName, AccessKeyId,
SensitiveAction ("true"/"false"), ApiErrorCode, CamErrorCode,
SourceIPAddress, Tags ("key" or "key&value").  Different keys AND, equal
keys OR.
StartTime..EndTime (unix seconds, inclusive) may span at most 7 days.
Operation-level (resource "*").
Each account sees only its own events: those of calls signed with its keys
(and, for the management account, calls whose key was unknown), plus the
cross-account AssumeRole calls that assumed one of its roles.
"""
import json
import re

from .errors import ApiError
from .registry import action

def sensitive(e):
    """CAM writes are sensitive unless the event says otherwise (guessed)."""
    s = e.get("sensitive")
    return bool(e["write"] and e.get("service") == "cam") if s is None else s


def cam_error(e):
    return e["error"] if e["error"].startswith("AuthFailure") else ""


def tag_values(e):
    out = []
    for k, v in (e.get("tags") or {}).items():
        out += [k, "%s&%s" % (k, v)]
    return out


def request_tags(params):
    """The request's tags ({key: value}) for the event, from a Tags field."""
    raw = params.get("Tags") if isinstance(params, dict) else None
    out = {}
    for t in raw if isinstance(raw, list) else []:
        if isinstance(t, dict):
            k = t.get("Key", t.get("TagKey"))
            if isinstance(k, str):
                out[k] = str(t.get("Value", t.get("TagValue", "")))
    return out


ATTRS = {
    "RequestId": lambda e: [e["request_id"]],
    "EventName": lambda e: [e["EventName"]],
    "ActionType": lambda e: ["Write" if e["write"] else "Read"],
    "PrincipalId": lambda e: [str(e["uin"])] if e["uin"] is not None else [],
    "ResourceId": lambda e: [r[1] for r in e["resources"]],
    "ResourceName": lambda e: [r[1] for r in e["resources"]],
    "AccessKeyId": lambda e: [e["secret_id"]],
    "SensitiveAction": lambda e: ["true", "1"] if sensitive(e) else ["false", "0"],
    "ApiErrorCode": lambda e: [e["error"]] if e["error"] else [],
    "CamErrorCode": lambda e: [cam_error(e)] if cam_error(e) else [],
    "SourceIPAddress": lambda e: [e["ip"]],
    "Tags": tag_values,
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
        "apiErrorCode": e["error"], "apiErrorMessage": e["message"],
        "camErrorCode": cam_error(e), "sensitiveAction": sensitive(e),
        "resources": [{"type": t, "name": n} for t, n in e["resources"]],
        "tags": [{"key": k, "value": v} for k, v in sorted((e.get("tags") or {}).items())],
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
            v = a["AttributeValue"]
            if a["AttributeKey"] == "SensitiveAction":
                v = v.lower()
            wanted.setdefault(a["AttributeKey"], set()).add(v)
    audit = ctx.store.audit
    hub = ctx.hub["owner_uin"]
    token = p.get("NextToken") or ""
    m = re.fullmatch(r"(\d+)\.(\d+)", token)
    if token and not m:
        raise ApiError("InvalidParameterValue", "bad NextToken")
    # Events come newest first, by (event time, position in the log).  The
    # token is the sort key of the next event, so events that arrive while a
    # client pages (they sort before it) do not shift the pages.
    below = (int(m.group(1)), int(m.group(2))) if m else None
    matches = sorted(((int(e["time"] * 1000), i) for i, e in enumerate(audit)
                      if start <= int(e["time"]) <= end and belongs(e, ctx.owner, hub)
                      and all(set(ATTRS[k](e)) & vals for k, vals in wanted.items())),
                     reverse=True)
    if below is not None:
        matches = [x for x in matches if x <= below]
    page, rest = matches[:limit], matches[limit:]
    return {"NextToken": "%d.%d" % rest[0] if rest else "",
            "Events": [event(audit[i], ctx.owner) for _, i in page], "ListOver": not rest,
            "TotalCount": len(matches)}
