"""CAM policies and their versions: CreatePolicy, GetPolicy, ListPolicies,
UpdatePolicy, DeletePolicy, CreatePolicyVersion, SetDefaultPolicyVersion,
DeletePolicyVersion, ListPolicyVersions, GetPolicyVersion,
ListEntitiesForPolicy.

Custom policies keep at most 5 versions; version ids are never reused; the
default version cannot be deleted; presets (Type 2) cannot be changed.
A document must name existing services and actions (policy.check_actions,
the SDK's catalogue in actions.json).  With --policy-delay-ms, a change of
the default document reaches authorization late (propagation.py); the reads
here show it at once.
Operation-level (resource "*").  Policy tags live in the Tag store under
qcs::cam::uin/OWNER:policy/ID.
"""
from . import policy, presets, propagation, util
from .errors import ApiError
from .registry import action

MAX_POLICIES, MAX_VERSIONS = 1500, 5


def policy_res(ctx, pid):
    return ctx.res("cam", "", "policy/%s" % pid)


def get_custom(ctx, pid, code="ResourceNotFound.PolicyIdNotFound"):
    if presets.is_preset(pid):
        raise ApiError("InvalidParameter.PolicyIdError",
                       "the preset policy %s cannot be changed" % pid)
    p = ctx.data["policies"].get(str(pid))
    if p is None:
        raise ApiError(code, "the policy %s does not exist" % pid)
    ctx.touch("cam:policy", p["PolicyName"])
    return p


def get_any(ctx, pid, code="ResourceNotFound.PolicyIdNotFound"):
    p = presets.get(ctx.data, pid)
    if p is None:
        raise ApiError(code, "the policy %s does not exist" % pid)
    return p


def tags_of(ctx, pid):
    return [{"Key": k, "Value": v}
            for k, v in sorted(ctx.data["tags"].get(policy_res(ctx, pid), {}).items())]


def entities(data, pid):
    """[(RelatedType, id, name, uin, attach time)] for one policy."""
    pid, out = str(pid), []
    for u in data["users"].values():
        if pid in u["policies"]:
            out.append((1, str(u["Uin"]), u["Name"], u["Uin"], u["policies"][pid]))
    for g in data["groups"].values():
        if pid in g["policies"]:
            out.append((2, str(g["GroupId"]), g["GroupName"], 0, g["policies"][pid]))
    for r in data["roles"].values():
        if pid in r["policies"]:
            out.append((3, r["RoleId"], r["RoleName"], 0, r["policies"][pid]))
    return out


def check_document(text):
    """A CAM policy document: the syntax (policy.parse_document: version
    "2.0", statement, effect, action, resource, condition operators) and
    then that every action names an existing service and action."""
    policy.check_actions(policy.parse_document(text))


def check_description(desc):
    if len(desc.encode()) > 300:
        raise ApiError("InvalidParameter.DescriptionLengthOverlimit",
                       "the description is longer than 300 bytes")


@action("cam")
def CreatePolicy(ctx):
    d, p = ctx.data, ctx.p
    name = p["PolicyName"]
    util.check_name(name, "policy name", "InvalidParameter.PolicyNameError", 128)
    check_description(p.get("Description", ""))
    check_document(p["PolicyDocument"])
    if any(x["PolicyName"] == name for x in d["policies"].values()) or \
            any(x["PolicyName"] == name for x in presets.PRESETS.values()):
        raise ApiError("FailedOperation.PolicyNameInUse", "the policy name %s is in use" % name)
    if len(d["policies"]) >= MAX_POLICIES:
        raise ApiError("FailedOperation.PolicyFull", "at most %d custom policies" % MAX_POLICIES)
    pid = util.next_seq(d, "policy")
    d["policies"][str(pid)] = {
        "PolicyId": pid, "PolicyName": name, "Description": p.get("Description", ""),
        "created": ctx.now, "updated": ctx.now, "default": 1, "next_version": 2,
        "versions": {"1": {"VersionId": 1, "Document": p["PolicyDocument"], "created": ctx.now}}}
    if p.get("Tags"):
        d["tags"][policy_res(ctx, pid)] = {t["Key"]: t["Value"] for t in p["Tags"]}
    ctx.touch("cam:policy", name)
    return {"PolicyId": pid}


@action("cam")
def GetPolicy(ctx):
    pid = ctx.p["PolicyId"]
    x = get_any(ctx, pid)
    preset = presets.is_preset(pid)
    t = presets.PRESET_TIME
    return {"PolicyName": x["PolicyName"], "Description": x["Description"],
            "Type": 2 if preset else 1,
            "AddTime": t if preset else util.cst(x["created"]),
            "UpdateTime": t if preset else util.cst(x["updated"]),
            "PolicyDocument": presets.document(ctx.data, pid), "PresetAlias": "",
            "IsServiceLinkedRolePolicy": 0, "Tags": tags_of(ctx, pid)}


def strategy_info(ctx, x):
    pid = x["PolicyId"]
    preset = presets.is_preset(pid)
    n = len(entities(ctx.data, pid))
    return {"PolicyId": pid, "PolicyName": x["PolicyName"],
            "AddTime": presets.PRESET_TIME if preset else util.cst(x["created"]),
            "UpdateTime": presets.PRESET_TIME if preset else util.cst(x["updated"]),
            "Type": 2 if preset else 1, "Description": x["Description"],
            "CreateMode": 1 if preset else 2, "Attachments": n,
            "ServiceType": x.get("ServiceType", ""), "IsAttached": 1 if n else 0,
            "Deactived": 0, "DeactivedDetail": [], "IsServiceLinkedPolicy": 0,
            "AttachEntityCount": n, "AttachEntityBoundaryCount": 0,
            "Tags": tags_of(ctx, pid)}


@action("cam")
def ListPolicies(ctx):
    scope = ctx.p.get("Scope", "All")
    if scope not in ("All", "QCS", "Local"):
        raise ApiError("InvalidParameter.ScopeError", "Scope must be All, QCS or Local")
    kw = ctx.p.get("Keyword", "").lower()
    pool = []
    if scope in ("All", "QCS"):
        pool += list(presets.PRESETS.values())
    if scope in ("All", "Local"):
        pool += sorted(ctx.data["policies"].values(), key=lambda x: x["PolicyId"])
    rows = [strategy_info(ctx, x) for x in pool if kw in x["PolicyName"].lower()]
    page = ctx.p.get("Page", 1) or 1
    if page > 200:
        raise ApiError("InvalidParameter.ParamError", "Page must be within 1..200")
    total, rows = util.page_pr(rows, ctx.p)
    types = sorted({r["ServiceType"] for r in rows if r["ServiceType"]})
    return {"TotalNum": total, "List": rows, "ServiceTypeList": types}


@action("cam")
def UpdatePolicy(ctx):
    p = ctx.p
    if p.get("PolicyId") is not None:
        x = get_custom(ctx, p["PolicyId"])
    elif p.get("PolicyName"):
        x = next((v for v in ctx.data["policies"].values()
                  if v["PolicyName"] == p["PolicyName"]), None)
        if x is None:
            raise ApiError("ResourceNotFound.PolicyIdNotFound",
                           "the policy %s does not exist" % p["PolicyName"])
    else:
        raise ApiError("MissingParameter", "UpdatePolicy needs PolicyId or PolicyName")
    if "Description" in p:
        check_description(p["Description"])
    if p.get("PolicyDocument"):
        check_document(p["PolicyDocument"])
        v = x["versions"][str(x["default"])]
        if v["Document"] != p["PolicyDocument"]:
            propagation.doc_changed(ctx, x["PolicyId"], v["Document"])
            v["Document"] = p["PolicyDocument"]
    if "Description" in p:
        x["Description"] = p["Description"]
    x["updated"] = ctx.now
    return {"PolicyId": x["PolicyId"]}


@action("cam")
def DeletePolicy(ctx):
    ids = ctx.p["PolicyId"]
    if not ids:
        raise ApiError("MissingParameter", "PolicyId needs at least one id")
    found = [get_custom(ctx, pid) for pid in ids]
    d = ctx.data
    for x in found:
        key = str(x["PolicyId"])
        for holder in list(d["users"].values()) + list(d["groups"].values()) + list(d["roles"].values()):
            holder["policies"].pop(key, None)
        d["tags"].pop(policy_res(ctx, key), None)
        d["policies"].pop(key, None)
    return {}


@action("cam")
def CreatePolicyVersion(ctx):
    x = get_custom(ctx, ctx.p["PolicyId"], "InvalidParameter.PolicyIdNotExist")
    check_document(ctx.p["PolicyDocument"])
    if len(x["versions"]) >= MAX_VERSIONS:
        raise ApiError("FailedOperation.PolicyVersionFull",
                       "the policy already has %d versions; delete one first" % MAX_VERSIONS)
    vid = x["next_version"]
    x["next_version"] += 1
    x["versions"][str(vid)] = {"VersionId": vid, "Document": ctx.p["PolicyDocument"],
                               "created": ctx.now}
    if ctx.p["SetAsDefault"]:
        propagation.doc_changed(ctx, x["PolicyId"], x["versions"][str(x["default"])]["Document"])
        x["default"] = vid
    x["updated"] = ctx.now
    return {"VersionId": vid}


def _version(x, vid):
    v = x["versions"].get(str(vid))
    if v is None:
        raise ApiError("InvalidParameter.PolicyVersionNotExists",
                       "the policy %s has no version %s" % (x["PolicyId"], vid))
    return v


@action("cam")
def SetDefaultPolicyVersion(ctx):
    x = get_custom(ctx, ctx.p["PolicyId"])
    v = _version(x, ctx.p["VersionId"])
    if x["default"] == v["VersionId"]:
        raise ApiError("FailedOperation.PolicyVersionAlreadyDefault",
                       "version %d is already the default" % v["VersionId"])
    propagation.doc_changed(ctx, x["PolicyId"], x["versions"][str(x["default"])]["Document"])
    x["default"] = v["VersionId"]
    x["updated"] = ctx.now
    return {}


@action("cam")
def DeletePolicyVersion(ctx):
    x = get_custom(ctx, ctx.p["PolicyId"])
    vs = [_version(x, vid) for vid in ctx.p["VersionId"]]
    if any(v["VersionId"] == x["default"] for v in vs):
        raise ApiError("FailedOperation.PolicyVersionAlreadyDefault",
                       "the default version cannot be deleted")
    for v in vs:
        x["versions"].pop(str(v["VersionId"]), None)
    return {}


def version_item(x, v):
    return {"VersionId": v["VersionId"], "CreateDate": util.cst(v["created"]),
            "IsDefaultVersion": 1 if v["VersionId"] == x["default"] else 0}


@action("cam")
def ListPolicyVersions(ctx):
    x = get_custom(ctx, ctx.p["PolicyId"])
    return {"Versions": [version_item(x, v) for v in
                         sorted(x["versions"].values(), key=lambda v: v["VersionId"])]}


@action("cam")
def GetPolicyVersion(ctx):
    x = get_custom(ctx, ctx.p["PolicyId"])
    v = _version(x, ctx.p["VersionId"])
    return {"PolicyVersion": dict(version_item(x, v), Document=v["Document"])}


@action("cam")
def ListEntitiesForPolicy(ctx):
    get_any(ctx, ctx.p["PolicyId"])
    f = ctx.p.get("EntityFilter", "All")
    want = {"All": (1, 2, 3), "User": (1,), "Group": (2,), "Role": (3,)}.get(f)
    if want is None:
        raise ApiError("InvalidParameter", "EntityFilter must be All, User, Group or Role")
    rows = [{"Id": i, "Name": n, "Uin": uin, "RelatedType": t, "AttachmentTime": util.cst(ts)}
            for t, i, n, uin, ts in entities(ctx.data, ctx.p["PolicyId"]) if t in want]
    total, page = util.page_pr(rows, ctx.p)
    return {"TotalNum": total, "List": page}
