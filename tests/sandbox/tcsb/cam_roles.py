"""CAM roles (for STS AssumeRole): CreateRole, GetRole, DeleteRole,
DescribeRoleList, UpdateAssumeRolePolicy, UpdateRoleSessionDuration,
AttachRolePolicy, DetachRolePolicy, ListAttachedRolePolicies.

RoleId is a string (19 digits, as in the real API).  The trust policy needs a
principal; sts.AssumeRole checks the caller against it.  Role tags live in
the Tag store under qcs::cam::uin/OWNER:roleName/NAME.  Operation-level.

A role that does not exist: InvalidParameter.RoleNotExist, the code the
SDK lists for GetRole, DeleteRole, UpdateAssumeRolePolicy,
UpdateRoleSessionDuration, AttachRolePolicy and DetachRolePolicy
(tencentcloud-sdk-go cam/v20190116 client.go; CAM has no
ResourceNotFound.RoleNotExist).  ListAttachedRolePolicies lists only
InternalError.SystemError and InvalidParameter.ParamError; it answers
InvalidParameter.RoleNotExist too (guessed).
"""
from . import policy, propagation, util
from .cam_policies import get_any
from .cam_attach import attach_info
from .errors import ApiError
from .registry import action

MAX_ROLES = 1000


def role_res(ctx, name):
    return ctx.res("cam", "", "roleName/%s" % name)


def find_role(ctx, role_id=None, name=None):
    for r in ctx.data["roles"].values():
        if (role_id and r["RoleId"] == role_id) or (name and r["RoleName"] == name):
            ctx.touch("cam:role", r["RoleName"])
            return r
    if not role_id and not name:
        raise ApiError("MissingParameter", "RoleId or RoleName is required")
    raise ApiError("InvalidParameter.RoleNotExist", "the role %s does not exist" % (role_id or name))


def trust_statements(text):
    stmts = policy.parse_document(text, allow_principal=True)
    if not any("principal" in s for s in stmts):
        raise ApiError("InvalidParameter.PrincipalError", "a trust policy needs a principal")
    return stmts


def role_info(ctx, r):
    tags = ctx.data["tags"].get(role_res(ctx, r["RoleName"]), {})
    return {"RoleId": r["RoleId"], "RoleName": r["RoleName"],
            "PolicyDocument": r["PolicyDocument"], "Description": r["Description"],
            "AddTime": util.cst(r["created"]), "UpdateTime": util.cst(r["updated"]),
            "ConsoleLogin": r["ConsoleLogin"], "RoleType": "user",
            "SessionDuration": r["SessionDuration"],
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
            "RoleArn": "qcs::cam::uin/%d:roleName/%s" % (ctx.owner, r["RoleName"])}


@action("cam")
def CreateRole(ctx):
    p, d = ctx.p, ctx.data
    name = p["RoleName"]
    util.check_name(name, "role name", "InvalidParameter.RoleNameError", 128, r"\w+=,.@-")
    trust_statements(p["PolicyDocument"])
    if any(r["RoleName"] == name for r in d["roles"].values()):
        raise ApiError("InvalidParameter.RoleNameInUse", "the role name %s is in use" % name)
    if len(d["roles"]) >= MAX_ROLES:
        raise ApiError("InvalidParameter.RoleFull", "at most %d roles" % MAX_ROLES)
    duration = p.get("SessionDuration", 43200) or 43200
    if not 0 <= duration <= 43200:
        raise ApiError("InvalidParameter", "SessionDuration must be within 0..43200")
    rid = str(util.next_seq(d, "role"))
    d["roles"][rid] = {"RoleId": rid, "RoleName": name, "PolicyDocument": p["PolicyDocument"],
                       "Description": p.get("Description", ""), "created": ctx.now,
                       "updated": ctx.now, "ConsoleLogin": p.get("ConsoleLogin", 0),
                       "SessionDuration": duration, "policies": {}}
    if p.get("Tags"):
        d["tags"][role_res(ctx, name)] = {t["Key"]: t["Value"] for t in p["Tags"]}
    ctx.touch("cam:role", name)
    return {"RoleId": rid}


@action("cam")
def GetRole(ctx):
    r = find_role(ctx, ctx.p.get("RoleId"), ctx.p.get("RoleName"))
    return {"RoleInfo": role_info(ctx, r)}


@action("cam")
def DeleteRole(ctx):
    r = find_role(ctx, ctx.p.get("RoleId"), ctx.p.get("RoleName"))
    ctx.data["tags"].pop(role_res(ctx, r["RoleName"]), None)
    del ctx.data["roles"][r["RoleId"]]
    for k in [k for k, v in ctx.data["tmpkeys"].items() if v.get("role_id") == r["RoleId"]]:
        del ctx.data["tmpkeys"][k]
    return {}


@action("cam")
def UpdateAssumeRolePolicy(ctx):
    r = find_role(ctx, ctx.p.get("RoleId"), ctx.p.get("RoleName"))
    trust_statements(ctx.p["PolicyDocument"])
    r["PolicyDocument"], r["updated"] = ctx.p["PolicyDocument"], ctx.now
    return {}


@action("cam")
def UpdateRoleSessionDuration(ctx):
    rid = ctx.p.get("RoleId")  # a number in this action's SDK model
    r = find_role(ctx, str(rid) if rid is not None else None, ctx.p.get("RoleName"))
    duration = ctx.p["SessionDuration"]
    if not 0 <= duration <= 43200:
        raise ApiError("InvalidParameter", "SessionDuration must be within 0..43200")
    r["SessionDuration"], r["updated"] = duration or 43200, ctx.now
    return {}


@action("cam")
def DescribeRoleList(ctx):
    rows = [role_info(ctx, r) for r in sorted(ctx.data["roles"].values(), key=lambda r: r["created"])]
    total, page = util.page_pr(rows, ctx.p)
    return {"List": page, "TotalNum": total}


def _policy_id(ctx):
    p = ctx.p
    if p.get("PolicyId") is not None:
        get_any(ctx, p["PolicyId"], "InvalidParameter.PolicyIdNotExist")
        return str(p["PolicyId"])
    if p.get("PolicyName"):
        from . import presets
        for pool in (ctx.data["policies"].values(), presets.PRESETS.values()):
            for x in pool:
                if x["PolicyName"] == p["PolicyName"]:
                    return str(x["PolicyId"])
        raise ApiError("InvalidParameter.PolicyIdNotExist",
                       "the policy %s does not exist" % p["PolicyName"])
    raise ApiError("MissingParameter", "PolicyId or PolicyName is required")


@action("cam")
def AttachRolePolicy(ctx):
    pid = _policy_id(ctx)
    r = find_role(ctx, ctx.p.get("AttachRoleId"), ctx.p.get("AttachRoleName"))
    if pid not in r["policies"] and len(r["policies"]) >= 200:
        raise ApiError("InvalidParameter.AttachmentFull", "at most 200 policies per role")
    if pid not in r["policies"]:
        r["policies"][pid] = ctx.now
        propagation.attached(ctx, "role", r["RoleId"], pid)
    return {}


@action("cam")
def DetachRolePolicy(ctx):
    pid = _policy_id(ctx)
    r = find_role(ctx, ctx.p.get("DetachRoleId"), ctx.p.get("DetachRoleName"))
    if r["policies"].pop(pid, None) is not None:
        propagation.detached(ctx, "role", r["RoleId"], pid)
    return {}


@action("cam")
def ListAttachedRolePolicies(ctx):
    r = find_role(ctx, ctx.p.get("RoleId"), ctx.p.get("RoleName"))
    ptype, kw = ctx.p.get("PolicyType"), ctx.p.get("Keyword", "").lower()
    rows = []
    for pid, ts in sorted(r["policies"].items(), key=lambda kv: int(kv[0])):
        a = attach_info(ctx, pid, ts)
        if (ptype and a["PolicyType"] != ptype) or kw not in a["PolicyName"].lower():
            continue
        rows.append({k: a[k] for k in ("PolicyId", "PolicyName", "AddTime", "PolicyType",
                                       "CreateMode", "Deactived", "DeactivedDetail")}
                    | {"Description": a["Remark"]})
    total, page = util.page_pr(rows, ctx.p)
    return {"List": page, "TotalNum": total}
