"""STS: AssumeRole, GetFederationToken, GetCallerIdentity.

Temporary keys carry a session token (X-TC-Token) and an expiry; a missing or
wrong token, or an expired one, gets AuthFailure.TokenFailure.  A role
session may do what the role's policies allow, narrowed by the session
Policy; a federation token may do what its Policy allows, narrowed by the
issuing sub-user's own policies.  Policy parameters are URL-encoded JSON.
DurationSeconds may be as short as 1 second here (tests use that to see a
token expire); the maxima are the real ones.
AssumeRole is cross-account: the RoleArn's account (any account of the
sandbox: the hub or a member) holds the role.  Two sides must agree:
  - the caller's own account: the caller's policies (and, in a member
    account, its SCPs) must allow sts:AssumeRole on
    qcs::cam::uin/ROLEOWNER:roleName/NAME (a root is always allowed by its
    own side);
  - the role's trust policy: principal qcs::cam::uin/CALLEROWNER:root admits
    every identity of the caller's account, ...:uin/SUBUIN one sub-user;
    its conditions are evaluated, sts:external_id against the ExternalId
    the call passes (missing or different: refused).
The credentials belong to the role's account (kept in its world, so the
session runs there with the role's policies).  Role sessions and federation
tokens may not call AssumeRole.  A cross-account call is recorded in
CloudAudit in both accounts.
"""
import re
import string
from urllib.parse import unquote

from . import policy, util
from .cam_roles import trust_statements
from .errors import ApiError
from .registry import action

ARN_RE = re.compile(r"^qcs::cam::uin/(\d+):(roleName|role)/(.+)$")
SESSION_RE = re.compile(r"^[\w+=,.@-]{2,128}$")


def session_policy(text):
    if text is None:
        return None
    decoded = unquote(text)
    if len(decoded) > 2048:
        raise ApiError("InvalidParameter.PolicyTooLong", "the policy is longer than 2048 characters")
    try:
        return policy.parse_document(decoded)
    except ApiError as e:
        raise ApiError("InvalidParameter.StrategyFormatError", e.message)


def issue(ctx, kind, uin, name, duration, extra, world=None):
    d = ctx.data if world is None else world
    for k in [k for k, v in d["tmpkeys"].items() if v["expires"] < ctx.now - 86400]:
        del d["tmpkeys"][k]
    sid = util.secret_id()
    token = util.rand(160, string.ascii_letters + string.digits)
    expires = int(ctx.now) + duration
    d["tmpkeys"][sid] = dict(extra, secret=util.secret_key(), token=token, expires=expires,
                             kind=kind, uin=uin, name=name)
    return {"Credentials": {"Token": token, "TmpSecretId": sid,
                            "TmpSecretKey": d["tmpkeys"][sid]["secret"]},
            "ExpiredTime": expires, "Expiration": util.iso(expires)}


def _trusted(ctx, stmts):
    me = ["qcs::cam::uin/%d:root" % ctx.owner, "qcs::cam::uin/%d" % ctx.owner]
    if ctx.caller.kind == "user":
        me.append("qcs::cam::uin/%d:uin/%d" % (ctx.owner, ctx.caller.uin))
    else:
        me.append("qcs::cam::uin/%d:uin/%d" % (ctx.owner, ctx.owner))
    env = {"resource_tags": None, "request_tags": None, "current_time": util.iso(ctx.now),
           "ip": ctx.ip, "external_id": ctx.p.get("ExternalId")}
    allowed = False
    for s in stmts:
        if not policy.match_action(s["action"], "sts:AssumeRole"):
            continue
        qcs = (s.get("principal") or {}).get("qcs", [])
        qcs = qcs if isinstance(qcs, list) else [qcs]
        if not any(p in me for p in qcs):
            continue
        if s["condition"] and not policy.condition_holds(s["condition"], env):
            continue
        if s["effect"] == "deny":
            return False
        allowed = True
    return allowed


def _find(world, form, ident):
    for r in world["roles"].values():
        if (form == "role" and r["RoleId"] == ident) or (form == "roleName" and r["RoleName"] == ident):
            return r
    return None


@action("sts", kind="res")
def AssumeRole(ctx):
    p = ctx.p
    m = ARN_RE.match(p["RoleArn"])
    if not m:
        raise ApiError("InvalidParameter.ParamError", "RoleArn %r is malformed" % p["RoleArn"])
    if not SESSION_RE.match(p["RoleSessionName"]):
        raise ApiError("InvalidParameter.ParamError",
                       "RoleSessionName must be 2-128 characters from [\\w+=,.@-]")
    owner, form, ident = m.groups()
    owner = int(owner)
    world = ctx.store.world(owner)
    r = _find(world, form, ident) if world is not None else None
    if r is None:
        ctx.authorize("qcs::cam::uin/%d:roleName/%s" % (owner, ident if form == "roleName" else "*"))
        raise ApiError("ResourceNotFound.RoleNotFound", "the role %s does not exist" % p["RoleArn"])
    ctx.touch("cam:role", r["RoleName"])
    ctx.authorize("qcs::cam::uin/%d:roleName/%s" % (owner, r["RoleName"]))
    if ctx.caller.kind not in ("root", "user") or not _trusted(ctx, trust_statements(r["PolicyDocument"])):
        raise ApiError("UnauthorizedOperation",
                       "the role's trust policy does not allow this caller to assume it")
    duration = p.get("DurationSeconds", 7200)
    if duration < 1 or duration > min(43200, r["SessionDuration"] or 43200):
        raise ApiError("InvalidParameter.OverTimeError",
                       "DurationSeconds must be within 1..%d" % min(43200, r["SessionDuration"] or 43200))
    if len(p.get("Tags") or []) > 50:
        raise ApiError("InvalidParameter", "at most 50 session tags")
    extra = {"role_id": r["RoleId"], "session": p["RoleSessionName"],
             "policy": session_policy(p.get("Policy")),
             "src_account": ctx.owner, "src_uin": ctx.caller.uin}
    if owner != ctx.owner:
        ctx.audit_also.append(owner)
    return issue(ctx, "role", owner, "%s/%s" % (r["RoleName"], p["RoleSessionName"]),
                 duration, extra, world)


@action("sts", write=True)  # issues credentials: saved before the answer
def GetFederationToken(ctx):
    p = ctx.p
    if not re.match(r"^[\w+=,.@-]{2,32}$", p["Name"]):
        raise ApiError("InvalidParameter.ParamError", "Name must be 2-32 characters")
    if ctx.caller.kind not in ("root", "user"):
        raise ApiError("UnauthorizedOperation", "temporary credentials cannot issue federation tokens")
    limit = 7200 if ctx.caller.kind == "root" else 129600
    duration = p.get("DurationSeconds", 1800)
    if duration < 1 or duration > limit:
        raise ApiError("InvalidParameter.OverTimeError", "DurationSeconds must be within 1..%d" % limit)
    extra = {"policy": session_policy(p["Policy"])}
    if ctx.caller.kind == "user":
        extra["sub_uin"] = ctx.caller.uin
    return issue(ctx, "federated", ctx.caller.uin, p["Name"], duration, extra)


@action("sts", kind="free")
def GetCallerIdentity(ctx):
    c, owner = ctx.caller, ctx.owner
    if c.kind == "root":
        arn, typ, principal = "qcs::cam::uin/%d:uin/%d" % (owner, owner), "RootAccount", owner
    elif c.kind == "user":
        arn, typ, principal = "qcs::cam::uin/%d:uin/%d" % (owner, c.uin), "CAMUser", c.uin
    elif c.kind == "role":
        arn = "qcs::sts:%d:assumed-role/%s/%s" % (owner, c.tmp["role_id"], c.tmp["session"])
        typ, principal = "AssumedRole", c.tmp["role_id"]
    else:
        arn = "qcs::sts:%d:federated-user/%d/%s" % (owner, c.uin, c.name)
        typ, principal = "FederatedUser", c.uin
    return {"Arn": arn, "AccountId": str(owner), "UserId": str(principal),
            "PrincipalId": str(principal), "Type": typ}
