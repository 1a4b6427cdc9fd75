"""CAM API keys: ListAccessKeys, CreateAccessKey, UpdateAccessKey,
DeleteAccessKey, GetSecurityLastUsed.

At most 2 keys per user (root included); SecretAccessKey is returned only by
CreateAccessKey.  An Inactive key is refused at authentication
(AuthFailure.SecretIdNotFound).  DeleteAccessKey does not require the key to
be Inactive first (unconfirmed for the real API).  Checked against
qcs::cam::uin/OWNER:uin/TARGETUIN.

Errors, from the SDK's lists for these four actions (tencentcloud-sdk-go
cam/v20190116 client.go): a TargetUin that is no user of the account
InvalidParameter.UserNotExist (authorization first, as for every
resource-level action); an AccessKeyId that exists but belongs to another
user than TargetUin (the caller when TargetUin is absent)
OperationDenied.UinNotMatch; an AccessKeyId the account does not have
ResourceNotFound.SecretNotExist; a sub-user acting on the root's keys
OperationDenied.SubUin.

Last use: every call signed with a permanent key records its time
(record_use).  GetSecurityLastUsed shows it with CAM's documented one-day
lag: a use is visible from the next China-time day on, so the answer is the
last use made before today (00:00 China time).  The key keeps two times for
that: LastUsed (the latest use) and LastUsedBefore (the latest use on a day
before LastUsed's day).  LastUsedDate is that use's date "YYYY-MM-DD" (China
time), LastSecretUsedDate the unix seconds of that date's 00:00 China time;
both are null for a key with no visible use (the SDK says either may be
null).  Unknown SecretIds are left out of the answer.  At most 10 ids per
call (the API's documented limit), else InvalidParameter.
"""
from datetime import datetime

from . import util
from .cam_users import by_uin, user_res
from .errors import ApiError
from .registry import action

MAX_KEYS = 2


def new_key(data, uin, description, now):
    k = {"AccessKeyId": util.secret_id(), "secret": util.secret_key(), "uin": uin,
         "Status": "Active", "created": now, "Description": description, "LastUsed": 0}
    data["keys"][k["AccessKeyId"]] = k
    return k


def _day(ts):
    return datetime.fromtimestamp(ts, util.CST).date()


def record_use(k, t, replace=False):
    """Note that key k signed a call at t (replace: forget earlier uses)."""
    last = k.get("LastUsed") or 0
    if replace:
        k["LastUsed"], k["LastUsedBefore"] = t, 0
        return
    if last and _day(t) > _day(last):
        k["LastUsedBefore"] = last
    if t >= last:
        k["LastUsed"] = t


def visible_use(k, now):
    """The last use GetSecurityLastUsed may show at now (one-day lag), or 0."""
    last = k.get("LastUsed") or 0
    if last and _day(last) < _day(now):
        return last
    before = k.get("LastUsedBefore") or 0
    return before if before and _day(before) < _day(now) else 0


def ensure_root_key(data, secret_id, secret_key):
    k = data["keys"].get(secret_id)
    if k is None:
        k = {"AccessKeyId": secret_id, "uin": data["owner_uin"], "created": 0,
             "Description": "root key of the sandbox", "LastUsed": 0}
        data["keys"][secret_id] = k
    k.update(secret=secret_key, Status="Active", uin=data["owner_uin"])


def _target(ctx):
    uin = ctx.p.get("TargetUin")
    if uin is None:
        uin = ctx.caller.uin
    if uin == ctx.owner:
        if ctx.caller.kind != "root":
            raise ApiError("OperationDenied.SubUin", "a sub-account may not manage the root's keys")
        ctx.authorize(user_res(ctx, uin))
        return uin
    ctx.authorize(user_res(ctx, uin))
    u = by_uin(ctx.data, uin, "InvalidParameter.UserNotExist")
    ctx.touch("cam:user", u["Name"])
    return uin


def _keys(ctx, uin):
    return sorted((k for k in ctx.data["keys"].values() if k["uin"] == uin),
                  key=lambda k: (k["created"], k["AccessKeyId"]))


def _find(ctx, uin):
    k = ctx.data["keys"].get(ctx.p["AccessKeyId"])
    if k is None:
        raise ApiError("ResourceNotFound.SecretNotExist",
                       "the key %s does not exist" % ctx.p["AccessKeyId"])
    if k["uin"] != uin:
        raise ApiError("OperationDenied.UinNotMatch",
                       "the key %s does not belong to the user %s" % (ctx.p["AccessKeyId"], uin))
    return k


@action("cam", kind="res")
def ListAccessKeys(ctx):
    uin = _target(ctx)
    return {"AccessKeys": [{"AccessKeyId": k["AccessKeyId"], "Status": k["Status"],
                            "CreateTime": util.cst(k["created"]),
                            "Description": k["Description"]} for k in _keys(ctx, uin)]}


@action("cam", kind="res")
def CreateAccessKey(ctx):
    uin = _target(ctx)
    desc = ctx.p.get("Description", "")
    if desc:
        util.check_name(desc, "description", "InvalidParameter", 1024, r"\w+=,.@:/-")
    if len(_keys(ctx, uin)) >= MAX_KEYS:
        raise ApiError("OperationDenied.AccessKeyOverLimit",
                       "the user already has %d API keys" % MAX_KEYS)
    k = new_key(ctx.data, uin, desc, ctx.now)
    return {"AccessKey": {"AccessKeyId": k["AccessKeyId"], "SecretAccessKey": k["secret"],
                          "Status": k["Status"], "CreateTime": util.cst(k["created"]),
                          "Description": desc}}


@action("cam", kind="res")
def UpdateAccessKey(ctx):
    uin = _target(ctx)
    k = _find(ctx, uin)
    if ctx.p["Status"] not in ("Active", "Inactive"):
        raise ApiError("InvalidParameter", "Status must be Active or Inactive")
    k["Status"] = ctx.p["Status"]
    return {}


@action("cam", kind="res")
def DeleteAccessKey(ctx):
    uin = _target(ctx)
    k = _find(ctx, uin)
    del ctx.data["keys"][k["AccessKeyId"]]
    return {}


@action("cam")
def GetSecurityLastUsed(ctx):
    ids = ctx.p["SecretIdList"]
    if not 1 <= len(ids) <= 10:
        raise ApiError("InvalidParameter", "SecretIdList takes 1 to 10 ids")
    rows = []
    for sid in ids:
        k = ctx.data["keys"].get(sid)
        if k is None:
            continue
        used = visible_use(k, ctx.now)
        if not used:
            rows.append({"SecretId": sid, "LastUsedDate": None, "LastSecretUsedDate": None})
            continue
        day = _day(used)
        start = datetime(day.year, day.month, day.day, tzinfo=util.CST)
        rows.append({"SecretId": sid, "LastUsedDate": day.strftime("%Y-%m-%d"),
                     "LastSecretUsedDate": int(start.timestamp())})
    return {"SecretIdLastUsedRows": rows}
