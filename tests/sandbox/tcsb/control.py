"""The sandbox-only control channel: set what the public API cannot produce.

    POST /tcsandbox/control      (any other path is the API: POST /)
    X-TC-Action: SetLastLogin | SetKeyLastUsed | SetCreated | SetMfa | AddAuditEvent
                 | AdvanceClock | SetClock | SetBillNotReady
    Authorization: TC3-HMAC-SHA256 with the credential scope's service
                   "tcsandbox", signed with the hub's root key (the key the
                   sandbox was started with), X-TC-Timestamp within 5 minutes.
    body: a JSON object (the operation's fields, below)

The answer uses the API's envelope: {"Response": {...fields, "RequestId"}} or
{"Response": {"Error": {"Code", "Message"}, "RequestId"}}, and every control
error code starts with "TcsandboxControl." so it cannot be taken for an API
error.  A control call is not an API call: it is not recorded by CloudAudit,
does not count as a use of the root key, and is not rate limited or faulted.
Nothing else can reach these operations: the API path never routes to them,
and any key other than the hub's root key (member roots, sub-users, STS) is
refused.  The change is saved before the answer, like an API write.

Operations (times are unix seconds of the sandbox's clock, which runs
AdvanceClock's offset ahead of the real one; an account is found by the id):
  SetLastLogin   {Uin, Time, Ip?}       a sub-user's last console login
                                        (GetUser RecentlyLoginTime/IP,
                                        DescribeSubAccounts LastLoginTime/Ip);
                                        Time 0 clears it
  SetKeyLastUsed {SecretId, Time}       a permanent key's last use, as if it
                                        had signed a call then (Time 0: never)
  SetCreated     {Kind: "user"|"key", Id, Time}
                                        a user's (Id = UIN) or key's (Id =
                                        SecretId) creation time
  SetMfa         {Uin, LoginFlag?, ActionFlag?}
                                        a sub-user's DescribeSafeAuthFlagColl
                                        flags; each flag object replaces the
                                        stored one (fields Phone, Token, Stoken,
                                        Wechat, Custom, Mail, U2FToken, Passkey:
                                        0/1; missing fields are 0)
  AdvanceClock   {Seconds}              moves the sandbox's clock forward
                                        (Seconds >= 0; the offset adds up and
                                        is kept in the state); answers Offset
                                        (total seconds ahead) and Now
  SetClock       {Time}                 moves the sandbox's clock forward to
                                        Time (not before its current time:
                                        the clock only moves forward); answers
                                        Offset and Now, like AdvanceClock
  SetBillNotReady {Month, NotReady, Account?}
                                        Billing of Month ("YYYY-MM") in Account
                                        (default the hub) is not ready (true)
                                        or ready again (false): the summaries
                                        answer Ready 0, DescribeBillResource-
                                        Summary FailedOperation.SummaryData-
                                        NotReady
  AddAuditEvent  {Account?, EventName, Service?, Uin?, Username?, SecretId?,
                  ErrorCode?, ErrorMessage?, Time?, Write?, Sensitive?,
                  Resources?: [[type, name], ...], Region?, Ip?, Tags?: {k: v}}
                                        a CloudAudit event in Account (default
                                        the hub) as if that principal had made
                                        the call at Time (default now)
"""
import json
import time
import uuid

from . import auth
from .cam_users import MFA_FIELDS
from .errors import ApiError

PATH = "/tcsandbox/control"
SERVICE = "tcsandbox"


class ControlError(ApiError):
    def __init__(self, what, message):
        super().__init__("TcsandboxControl." + what, message)


def handle(srv, raw_headers, body, ip):
    """Run one control call; return (result dict | ApiError, request id)."""
    rid = str(uuid.uuid4())
    store, cfg = srv.store, srv.cfg
    real = time.time()
    now = real + store.clock_offset()
    headers = {k.lower(): v for k, v in raw_headers.items()}
    try:
        try:
            signed = auth.parse(headers, real)
        except ApiError as e:
            raise ControlError("AuthFailure", e.message)
        if signed.service != SERVICE:
            raise ControlError("AuthFailure", "sign control calls with the service %r" % SERVICE)
        if signed.secret_id != cfg.root_secret_id:
            raise ControlError("AuthFailure", "only the hub's root key may use the control channel")
        try:
            auth.verify(signed, cfg.root_secret_key, headers, body)
        except ApiError as e:
            raise ControlError("AuthFailure", e.message)
        try:
            doc = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (ValueError, UnicodeDecodeError):
            raise ControlError("BadRequest", "the body is not valid JSON")
        if not isinstance(doc, dict):
            raise ControlError("BadRequest", "the body must be a JSON object")
        op = OPS.get(headers.get("x-tc-action", ""))
        if op is None:
            raise ControlError("UnknownOperation", "X-TC-Action must be one of %s"
                               % ", ".join(sorted(OPS)))
        with store.lock:
            result = op(store, doc, now, ip)
            gen = store.mark_dirty()
        store.wait_saved(gen)
        return result, rid
    except ApiError as e:
        return e, rid


def _num(doc, name, required=True, default=None):
    v = doc.get(name)
    if v is None:
        if required:
            raise ControlError("BadRequest", "%s is required" % name)
        return default
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ControlError("BadRequest", "%s must be a number" % name)
    return v


def _str(doc, name, default=""):
    v = doc.get(name, default)
    if v is None:
        v = default
    if not isinstance(v, str):
        raise ControlError("BadRequest", "%s must be a string" % name)
    return v


def _user(store, uin):
    for w in store.worlds():
        u = w["users"].get(str(int(uin)))
        if u is not None:
            return u
    raise ControlError("NotFound", "no sub-user with UIN %s in any account" % uin)


def _key(store, sid):
    for w in store.worlds():
        k = w["keys"].get(sid)
        if k is not None:
            return k
    raise ControlError("NotFound", "no permanent key %s in any account" % sid)


def set_last_login(store, doc, now, ip):
    u = _user(store, _num(doc, "Uin"))
    t = _num(doc, "Time")
    u["last_login"] = t
    u["last_login_ip"] = _str(doc, "Ip") if t else ""
    return {}


def set_key_last_used(store, doc, now, ip):
    from .cam_keys import record_use
    k = _key(store, _str(doc, "SecretId"))
    t = _num(doc, "Time")
    if t:
        record_use(k, t, replace=True)
    else:
        k["LastUsed"] = k["LastUsedBefore"] = 0
    return {}


def set_created(store, doc, now, ip):
    kind = _str(doc, "Kind")
    t = _num(doc, "Time")
    if kind == "user":
        _user(store, _num(doc, "Id"))["created"] = t
    elif kind == "key":
        _key(store, _str(doc, "Id"))["created"] = t
    else:
        raise ControlError("BadRequest", "Kind must be user or key")
    return {}


def _flags(v, name):
    if not isinstance(v, dict):
        raise ControlError("BadRequest", "%s must be an object" % name)
    bad = set(v) - set(MFA_FIELDS)
    if bad:
        raise ControlError("BadRequest", "%s has unknown fields %s (known: %s)"
                           % (name, sorted(bad), ", ".join(MFA_FIELDS)))
    out = {}
    for f in MFA_FIELDS:
        x = v.get(f, 0)
        if x not in (0, 1) or isinstance(x, bool):
            raise ControlError("BadRequest", "%s.%s must be 0 or 1" % (name, f))
        out[f] = x
    return out


def set_mfa(store, doc, now, ip):
    u = _user(store, _num(doc, "Uin"))
    mfa = u.setdefault("mfa", {})
    for name in ("LoginFlag", "ActionFlag"):
        if doc.get(name) is not None:
            mfa[name] = _flags(doc[name], name)
    return {}


def add_audit_event(store, doc, now, ip):
    hub = store.data["owner_uin"]
    account = int(_num(doc, "Account", required=False, default=hub))
    world = store.world(account)
    if world is None:
        raise ControlError("NotFound", "no account %s" % account)
    name = _str(doc, "EventName")
    if not name:
        raise ControlError("BadRequest", "EventName is required")
    uin = _num(doc, "Uin", required=False)
    uin = int(uin) if uin is not None else account
    username = _str(doc, "Username")
    if not username:
        u = world["users"].get(str(uin))
        username = "root" if uin == account else (u["Name"] if u else str(uin))
    res = []
    for r in doc.get("Resources") or []:
        if isinstance(r, dict):
            r = [r.get("type", ""), r.get("name", "")]
        if not (isinstance(r, list) and len(r) == 2 and all(isinstance(x, str) for x in r)):
            raise ControlError("BadRequest", "Resources items are [type, name] pairs")
        res.append(tuple(r))
    tags = doc.get("Tags") or {}
    if not isinstance(tags, dict):
        raise ControlError("BadRequest", "Tags must be an object")
    write = doc.get("Write", True)
    ev = {"time": _num(doc, "Time", required=False, default=now), "EventName": name,
          "service": _str(doc, "Service", "cam"), "region": _str(doc, "Region", "ap-guangzhou"),
          "ip": _str(doc, "Ip", "127.0.0.1"), "request_id": str(uuid.uuid4()),
          "secret_id": _str(doc, "SecretId"), "uin": uin, "username": username,
          "kind": "root" if uin == account else "user", "account": account,
          "write": bool(write), "error": _str(doc, "ErrorCode"),
          "message": _str(doc, "ErrorMessage"), "resources": res,
          "tags": {str(k): str(v) for k, v in tags.items()}, "injected": True}
    if doc.get("Sensitive") is not None:
        ev["sensitive"] = bool(doc["Sensitive"])
    store.add_event(ev)
    return {"EventId": ev["request_id"]}


def advance_clock(store, doc, now, ip):
    secs = _num(doc, "Seconds")
    if secs < 0:
        raise ControlError("BadRequest", "the clock only moves forward (Seconds >= 0)")
    store.data["clock_offset"] = store.clock_offset() + secs
    return {"Offset": store.data["clock_offset"], "Now": now + secs}


def set_clock(store, doc, now, ip):
    when = _num(doc, "Time")
    if when < now:
        raise ControlError("BadRequest", "the clock only moves forward (Time %s is before "
                           "the sandbox's now %.3f)" % (when, now))
    return advance_clock(store, {"Seconds": when - now}, now, ip)


def set_bill_not_ready(store, doc, now, ip):
    import re
    account = int(_num(doc, "Account", required=False, default=store.data["owner_uin"]))
    world = store.world(account)
    if world is None:
        raise ControlError("NotFound", "no account %s" % account)
    month = _str(doc, "Month")
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ControlError("BadRequest", "Month must be YYYY-MM")
    flag = doc.get("NotReady")
    if not isinstance(flag, bool):
        raise ControlError("BadRequest", "NotReady must be true or false")
    months = set(world.get("bill_not_ready", []))
    if flag:
        months.add(month)
    else:
        months.discard(month)
    world["bill_not_ready"] = sorted(months)
    return {}


OPS = {"AdvanceClock": advance_clock, "SetClock": set_clock, "SetBillNotReady": set_bill_not_ready, "SetLastLogin": set_last_login, "SetKeyLastUsed": set_key_last_used,
       "SetCreated": set_created, "SetMfa": set_mfa, "AddAuditEvent": add_audit_event}
