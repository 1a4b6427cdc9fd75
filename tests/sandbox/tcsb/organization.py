"""Organization 2021-03-31: one organization whose management (hub) account
is the sandbox's top-level account, member accounts as worlds of their own,
departments (nodes), member access identity 1, and service control
policies (SCPs).

State: data["org"] (the organization) and data["members"][str(uin)] (each
member account's world, shaped like store.fresh()).  The k-th member (1-based,
creation order) gets UIN 100000000001 + k * 10000000.
  org = {OrgId, HostUin, NickName, created, RootNodeId,
         nodes:       {str(NodeId): {NodeId, Name, ParentNodeId, Remark, created, updated}},
         members:     {str(uin): {MemberUin, Name, AccountName, NodeId, Remark, PolicyType,
                                  PermissionIds, PayUin, IsAllowQuit, MemberType, created,
                                  updated, role_ready_at, role_done}},
         policies:    {str(PolicyId): custom SCP {PolicyId, PolicyName, Description, Content,
                                                  Type, created, updated}},
         attachments: {"NODE:<id>" | "MEMBER:<uin>": {str(PolicyId): attach time}},
         policy_types: {"SERVICE_CONTROL_POLICY": 0|1, "TAG_POLICY": 0|1},
         seq: {node, policy}}
Member and department tags live in the Tag store under
qcs::organization::uin/HUB:member/UIN and ...:node/NODEID.

Member access: a created member gets, --async-delay-ms after creation
(settle(), run before every call), the CAM role OrganizationAccessControlRole
with AdministratorAccess, trusting qcs::cam::uin/HUB:root, SessionDuration
43200.  Before that DescribeOrganizationMemberAuthIdentities lists nothing
for the member and AssumeRole answers ResourceNotFound.RoleNotFound; if the
role is deleted later, the identity shows Status 2 (needs reconfiguring).

SCPs (org_scp.py): once enabled, new departments and members get the
system policy FullQcloudAccess attached as they are created.

Every action here is operation-level (checked against "*").  Only the
management account may use them; a member account may call
DescribeOrganization (IsManager false) and gets
InvalidParameter.OrganizationMemberNotManager for the rest; an account in no
organization gets ResourceNotFound.OrganizationNotExist.
"""
import hashlib
import hmac
import json
import re

from . import util
from .cam_keys import ensure_root_key
from .errors import ApiError
from .registry import action
from .store import HUB_UIN, MEMBER_STEP, fresh

ACCESS_ROLE = "OrganizationAccessControlRole"
ACCESS_ROLE_DURATION = 43200
ACCESS_IDENTITY_ALIAS = "管理员"
ADMIN_POLICY = "1"  # AdministratorAccess (presets.py)
SCP, TAG_POLICY = "SERVICE_CONTROL_POLICY", "TAG_POLICY"
MAX_MEMBERS, MAX_DEPTH, MAX_NODES = 100, 5, 1000
ORG_ID, ROOT_NODE_ID, APPID = 4500001, 100001, 1300000001
MEMBER_NAME_RE = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff+@&._\[\]\-:,]{1,25}$")
NODE_NAME_RE = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff+@&._\[\]\-:,]{1,40}$")
PERMISSIONS = {1: "View bills", 2: "View balance", 3: "Fund transfer", 4: "Consolidated bill",
               5: "Invoice", 6: "Inherit discount", 7: "Pay on behalf", 8: "Cost analysis",
               9: "Budget management", 10: "Credit limit"}


# -- helpers shared with the start-up code and ctx.py --------------------

def member_root_key(hub_secret_key, uin):
    """A member's root key pair: a sandbox-only convenience, derived from the
    hub's root secret so only a holder of that key can compute it."""
    sid = ("AKIDtcsbMEMBER%d" % uin).ljust(36, "0")
    skey = hmac.new(hub_secret_key.encode(), b"tcsandbox member root key %d" % uin,
                    hashlib.sha256).hexdigest()[:32]
    return sid, skey


def ensure_org(hub, now):
    org = hub.get("org")
    if org is None:
        org = hub["org"] = {
            "OrgId": ORG_ID, "HostUin": hub["owner_uin"], "NickName": "tcsandbox",
            "created": now, "RootNodeId": ROOT_NODE_ID,
            "nodes": {str(ROOT_NODE_ID): {"NodeId": ROOT_NODE_ID, "Name": "root",
                                          "ParentNodeId": 0, "Remark": "", "created": now,
                                          "updated": now}},
            "members": {}, "policies": {}, "attachments": {},
            "policy_types": {SCP: 0, TAG_POLICY: 0},
            "seq": {"node": ROOT_NODE_ID, "policy": 10000}}
        hub.setdefault("members", {})
    return org


def _access_role(hub_uin, at):
    trust = json.dumps({"version": "2.0", "statement": [
        {"action": "name/sts:AssumeRole", "effect": "allow",
         "principal": {"qcs": ["qcs::cam::uin/%d:root" % hub_uin]}}]})
    return {"RoleName": ACCESS_ROLE, "PolicyDocument": trust,
            "Description": "Organization member access identity (IdentityId 1)",
            "created": at, "updated": at, "ConsoleLogin": 1,
            "SessionDuration": ACCESS_ROLE_DURATION, "policies": {ADMIN_POLICY: at}}


def settle(hub, now):
    """Create the access role of members whose delay is over; True if any."""
    org = hub.get("org")
    if not org:
        return False
    changed = False
    for m in org["members"].values():
        if not m["role_done"] and m["role_ready_at"] <= now:
            world = hub["members"][str(m["MemberUin"])]
            if not any(r["RoleName"] == ACCESS_ROLE for r in world["roles"].values()):
                rid = str(util.next_seq(world, "role"))
                world["roles"][rid] = dict(_access_role(hub["owner_uin"], m["role_ready_at"]),
                                           RoleId=rid)
            m["role_done"] = changed = True
    return changed


def attach_full_access(org, target, now):
    if org["policy_types"].get(SCP):
        org["attachments"].setdefault(target, {}).setdefault("1", now)


def create_member(hub, root_secret_key, name, node_id, now, ready_at, account_name=None,
                  remark="", permission_ids=(1, 2), pay_uin="", tags=None):
    org = ensure_org(hub, now)
    k = len(hub["members"]) + 1
    uin = HUB_UIN + k * MEMBER_STEP
    while str(uin) in hub["members"]:
        k += 1
        uin = HUB_UIN + k * MEMBER_STEP
    world = fresh(uin)
    world["appid"] = APPID + k
    ensure_root_key(world, *member_root_key(root_secret_key, uin))
    hub["members"][str(uin)] = world
    org["members"][str(uin)] = {
        "MemberUin": uin, "Name": name, "AccountName": account_name or name, "NodeId": node_id,
        "Remark": remark, "PolicyType": "Financial", "PermissionIds": sorted(set(permission_ids)),
        "PayUin": pay_uin, "IsAllowQuit": "Denied", "MemberType": "Create", "created": now,
        "updated": now, "role_ready_at": ready_at, "role_done": False}
    attach_full_access(org, "MEMBER:%d" % uin, now)
    if tags:
        hub["tags"][member_res(hub, uin)] = dict(tags)
    return uin


def preset_members(hub, names, root_secret_key, now):
    """--members: accounts the Organization created a day ago, ready now;
    nothing when the loaded state has member accounts already."""
    if hub.get("members"):
        return
    org = ensure_org(hub, now - 86400)
    for name in names:
        check_member_name(name)
        create_member(hub, root_secret_key, name, org["RootNodeId"], now - 86400, now - 86400)
    settle(hub, now)


def member_res(hub, uin):
    return "qcs::organization::uin/%d:member/%d" % (hub["owner_uin"], uin)


def node_res(hub, node_id):
    return "qcs::organization::uin/%d:node/%d" % (hub["owner_uin"], node_id)


# -- checks ---------------------------------------------------------------

def _org(ctx, manager=True):
    """The organization, for a call from its management account."""
    org = ctx.hub.get("org")
    if ctx.is_hub:
        if org is None:
            raise ApiError("ResourceNotFound.OrganizationNotExist",
                           "the account is not in an organization")
        return org
    if org is None or str(ctx.owner) not in org["members"]:
        raise ApiError("ResourceNotFound.OrganizationNotExist",
                       "the account is not in an organization")
    if manager:
        raise ApiError("InvalidParameter.OrganizationMemberNotManager",
                       "only the organization's management account may do this")
    return org


def check_member_name(name, what="Name"):
    if not MEMBER_NAME_RE.match(name or ""):
        raise ApiError("InvalidParameter.ParamError",
                       "%s %r: 1-25 letters, digits, CJK characters or +@&._[]-:," % (what, name))


def _limit(p, lo=1, hi=50):
    if not lo <= p["Limit"] <= hi or p["Offset"] < 0:
        raise ApiError("InvalidParameter.ParamError",
                       "Limit must be within %d..%d and Offset >= 0" % (lo, hi))
    return p["Offset"], p["Limit"]


def _tags(p, code="InvalidParameter.TagError"):
    tags = p.get("Tags") or []
    if len(tags) > 10:
        raise ApiError(code, "at most 10 tags")
    for t in tags:
        k = t["TagKey"]
        if not k or len(k) > 127 or len(t["TagValue"]) > 255:
            raise ApiError(code, "tag keys are 1-127 and values 0-255 characters")
        if k.lower().startswith(("qcloud:", "tencent:", "tencentcloud:", "project")):
            raise ApiError("InvalidParameter.ReservedTagKey", "tag key %r is reserved" % k)
    return {t["TagKey"]: t["TagValue"] for t in tags}


def _tag_list(tags):
    return [{"TagKey": k, "TagValue": v} for k, v in sorted(tags.items())]


def _node(org, node_id, code="ResourceNotFound.OrganizationNodeNotExist"):
    n = org["nodes"].get(str(node_id))
    if n is None:
        raise ApiError(code, "the department %s does not exist" % node_id)
    return n


def _member(org, uin):
    m = org["members"].get(str(uin))
    if m is None:
        raise ApiError("ResourceNotFound.OrganizationMemberNotExist",
                       "the member %s does not exist" % uin)
    return m


def _depth(org, node):
    d = 0
    while node["ParentNodeId"]:
        node = org["nodes"][str(node["ParentNodeId"])]
        d += 1
    return d


def _permissions(p, pay_uin):
    ids = p["PermissionIds"]
    if p["PolicyType"] != "Financial":
        raise ApiError("FailedOperation.OrganizationPolicyIllegal", "PolicyType must be Financial")
    if any(i not in PERMISSIONS for i in ids) or not {1, 2} <= set(ids):
        raise ApiError("FailedOperation.OrganizationPermissionIllegal",
                       "PermissionIds must include 1 and 2 and lie within 1..10")
    if 7 in ids and not pay_uin:
        raise ApiError("FailedOperation.PayUinIllegal", "permission 7 (pay on behalf) needs PayUin")
    return sorted(set(ids))


# -- organization and members ---------------------------------------------

@action("organization")
def CreateOrganization(ctx):
    org = ctx.hub.get("org")
    if not ctx.is_hub:  # every other account of the sandbox is a created member
        raise ApiError("UnsupportedOperation.CreateMemberNotAllowCreateOrganization",
                       "a created member may not create an organization")
    if org is not None:
        raise ApiError("FailedOperation.OrganizationExistAlready", "the organization exists")
    org = ensure_org(ctx.hub, ctx.now)
    return {"OrgId": org["OrgId"], "NickName": org["NickName"]}


@action("organization")
def DescribeOrganization(ctx):
    org = _org(ctx, manager=False)
    out = {"OrgId": org["OrgId"], "HostUin": org["HostUin"], "NickName": org["NickName"],
           "OrgType": 1, "IsManager": ctx.is_hub, "OrgPolicyType": "Financial",
           "OrgPolicyName": "Financial management", "RootNodeId": org["RootNodeId"],
           "CreateTime": util.cst(org["created"]), "PayUin": "", "PayName": "",
           "IsAssignManager": False, "IsAuthManager": ctx.is_hub, "OrgPermission": []}
    if not ctx.is_hub:
        m = org["members"][str(ctx.owner)]
        out.update(JoinTime=util.cst(m["created"]), IsAllowQuit=m["IsAllowQuit"],
                   OrgPermission=[{"Id": i, "Name": PERMISSIONS[i]} for i in m["PermissionIds"]])
    return out


def _member_info(ctx, org, m):
    node = org["nodes"].get(str(m["NodeId"]), {})
    tags = ctx.hub["tags"].get(member_res(ctx.hub, m["MemberUin"]), {})
    return {"MemberUin": m["MemberUin"], "Name": m["Name"], "MemberType": m["MemberType"],
            "OrgPolicyType": m["PolicyType"], "OrgPolicyName": "Financial management",
            "OrgPermission": [{"Id": i, "Name": PERMISSIONS[i]} for i in m["PermissionIds"]],
            "NodeId": m["NodeId"], "NodeName": node.get("Name", ""), "Remark": m["Remark"],
            "CreateTime": util.cst(m["created"]), "UpdateTime": util.cst(m["updated"]),
            "IsAllowQuit": m["IsAllowQuit"], "PayUin": m["PayUin"], "PayName": "",
            "OrgIdentity": [{"IdentityId": 1, "IdentityAliasName": ACCESS_IDENTITY_ALIAS}],
            "BindStatus": "Unbound", "PermissionStatus": "Confirmed", "Tags": _tag_list(tags),
            "NickName": m["Name"]}


@action("organization")
def DescribeOrganizationMembers(ctx):
    p, org = ctx.p, _org(ctx)
    off, lim = _limit(p)
    want = {t["TagKey"]: t["TagValue"] for t in p.get("Tags") or []}
    key = p.get("SearchKey", "")
    rows = []
    for m in sorted(org["members"].values(), key=lambda m: (m["created"], m["MemberUin"])):
        if key and key not in m["Name"] and key not in str(m["MemberUin"]):
            continue
        if p.get("NodeId") is not None and m["NodeId"] != p["NodeId"]:
            continue
        if p.get("NodeName") and org["nodes"][str(m["NodeId"])]["Name"] != p["NodeName"]:
            continue
        tags = ctx.hub["tags"].get(member_res(ctx.hub, m["MemberUin"]), {})
        if any(tags.get(k) != v for k, v in want.items()):
            continue
        rows.append(_member_info(ctx, org, m))
    return {"Items": rows[off: off + lim], "Total": len(rows)}


@action("organization")
def CreateOrganizationMember(ctx):
    p, org = ctx.p, _org(ctx)
    check_member_name(p["Name"])
    check_member_name(p["AccountName"], "AccountName")
    ids = _permissions(p, p.get("PayUin"))
    if p.get("PayUin") and p["PayUin"] != str(ctx.owner) and p["PayUin"] not in org["members"]:
        raise ApiError("FailedOperation.PayUinIllegal", "PayUin is not in the organization")
    _node(org, p["NodeId"])
    if p.get("AuthRelationId") is not None:
        raise ApiError("ResourceNotFound.OrganizationAuthRelationNotExist",
                       "the sandbox has no other verified entities")
    for i in p.get("IdentityRoleID") or []:
        if i != 1:
            raise ApiError("ResourceNotFound.OrganizationIdentityNotExist",
                           "identity %d does not exist (the sandbox has identity 1 only)" % i)
    tags = _tags(p)
    if any(m["Name"] == p["Name"] for m in org["members"].values()):
        raise ApiError("FailedOperation.OrganizationMemberNameUsed",
                       "the member name %s is in use" % p["Name"])
    if len(org["members"]) >= MAX_MEMBERS:
        raise ApiError("LimitExceeded.OrganizationMemberOverLimit",
                       "an organization holds at most %d members" % MAX_MEMBERS)
    uin = create_member(ctx.hub, ctx.cfg.root_secret_key, p["Name"], p["NodeId"], ctx.now,
                        ctx.now + ctx.cfg.async_delay, p["AccountName"], p.get("Remark", ""),
                        ids, p.get("PayUin", ""), tags)
    ctx.touch("organization:member", str(uin))
    return {"Uin": uin}


@action("organization")
def UpdateOrganizationMember(ctx):
    p, org = ctx.p, _org(ctx)
    m = _member(org, p["MemberUin"])
    ctx.touch("organization:member", str(m["MemberUin"]))
    if "Name" in p:
        check_member_name(p["Name"])
        if any(o["Name"] == p["Name"] and o is not m for o in org["members"].values()):
            raise ApiError("FailedOperation.OrganizationMemberNameUsed",
                           "the member name %s is in use" % p["Name"])
    if ("PolicyType" in p) != ("PermissionIds" in p):
        raise ApiError("InvalidParameter.ParamError", "PolicyType and PermissionIds go together")
    ids = _permissions(p, p.get("PayUin", m["PayUin"])) if "PolicyType" in p else None
    if "IsAllowQuit" in p and p["IsAllowQuit"] not in ("Allow", "Denied"):
        raise ApiError("InvalidParameter.ParamError", "IsAllowQuit is Allow or Denied")
    if "Name" in p:
        m["Name"] = p["Name"]
    if "Remark" in p:
        m["Remark"] = p["Remark"]
    if ids is not None:
        m["PermissionIds"] = ids
    if "IsAllowQuit" in p:
        m["IsAllowQuit"] = p["IsAllowQuit"]
    if "PayUin" in p:
        m["PayUin"] = p["PayUin"]
    m["updated"] = ctx.now
    return {}


@action("organization")
def DescribeOrganizationMemberAuthIdentities(ctx):
    p, org = ctx.p, _org(ctx)
    off, lim = _limit(p)
    if p.get("MemberUin") is None and p.get("IdentityId") is None:
        raise ApiError("InvalidParameter.ParamError", "MemberUin or IdentityId is required")
    members = sorted(org["members"].values(), key=lambda m: (m["created"], m["MemberUin"]))
    if p.get("MemberUin") is not None:
        members = [_member(org, p["MemberUin"])]
    rows = []
    if p.get("IdentityId") in (None, 1):
        for m in members:
            if not m["role_done"]:
                continue
            world = ctx.hub["members"][str(m["MemberUin"])]
            role = next((r for r in world["roles"].values() if r["RoleName"] == ACCESS_ROLE), None)
            rows.append({"IdentityId": 1, "IdentityRoleName": ACCESS_ROLE,
                         "IdentityRoleAliasName": ACCESS_IDENTITY_ALIAS,
                         "Description": "preset administrator identity",
                         "CreateTime": util.cst(m["role_ready_at"]),
                         "UpdateTime": util.cst(role["updated"] if role else m["role_ready_at"]),
                         "IdentityType": 1, "Status": 1 if role else 2,
                         "MemberUin": m["MemberUin"], "MemberName": m["Name"]})
    return {"Items": rows[off: off + lim], "Total": len(rows)}


# -- departments ------------------------------------------------------------

def _node_info(ctx, n):
    tags = ctx.hub["tags"].get(node_res(ctx.hub, n["NodeId"]), {})
    return {"NodeId": n["NodeId"], "Name": n["Name"], "ParentNodeId": n["ParentNodeId"],
            "Remark": n["Remark"], "CreateTime": util.cst(n["created"]),
            "UpdateTime": util.cst(n["updated"]), "Tags": _tag_list(tags)}


@action("organization")
def DescribeOrganizationNodes(ctx):
    p, org = ctx.p, _org(ctx)
    off, lim = _limit(p)
    want = {t["TagKey"]: t["TagValue"] for t in p.get("Tags") or []}
    rows = []
    for n in sorted(org["nodes"].values(), key=lambda n: n["NodeId"]):
        tags = ctx.hub["tags"].get(node_res(ctx.hub, n["NodeId"]), {})
        if all(tags.get(k) == v for k, v in want.items()):
            rows.append(_node_info(ctx, n))
    return {"Items": rows[off: off + lim], "Total": len(rows)}


@action("organization")
def AddOrganizationNode(ctx):
    p, org = ctx.p, _org(ctx)
    parent = _node(org, p["ParentNodeId"])
    if not NODE_NAME_RE.match(p["Name"]):
        raise ApiError("InvalidParameter.ParamError",
                       "Name %r: 1-40 letters, digits, CJK characters or +@&._[]-:," % p["Name"])
    tags = _tags(p)
    if any(n["ParentNodeId"] == parent["NodeId"] and n["Name"] == p["Name"]
           for n in org["nodes"].values()):
        raise ApiError("FailedOperation.OrganizationNodeNameUsed",
                       "the department %s exists under %d" % (p["Name"], parent["NodeId"]))
    if _depth(org, parent) + 1 > MAX_DEPTH:
        raise ApiError("LimitExceeded.NodeDepthExceedLimit",
                       "departments nest at most %d levels below the root" % MAX_DEPTH)
    if len(org["nodes"]) >= MAX_NODES:
        raise ApiError("LimitExceeded.NodeExceedLimit", "at most %d departments" % MAX_NODES)
    org["seq"]["node"] += 1
    nid = org["seq"]["node"]
    org["nodes"][str(nid)] = {"NodeId": nid, "Name": p["Name"], "ParentNodeId": parent["NodeId"],
                              "Remark": p.get("Remark", ""), "created": ctx.now,
                              "updated": ctx.now}
    if tags:
        ctx.hub["tags"][node_res(ctx.hub, nid)] = tags
    attach_full_access(org, "NODE:%d" % nid, ctx.now)
    ctx.touch("organization:node", str(nid))
    return {"NodeId": nid}


@action("organization")
def MoveOrganizationNodeMembers(ctx):
    p, org = ctx.p, _org(ctx)
    node = _node(org, p["NodeId"])
    missing = [u for u in p["MemberUin"] if str(u) not in org["members"]]
    if missing or not p["MemberUin"]:
        raise ApiError("FailedOperation.SomeUinsNotInOrganization",
                       "not members of the organization: %s" % missing)
    for u in p["MemberUin"]:
        m = org["members"][str(u)]
        m["NodeId"], m["updated"] = node["NodeId"], ctx.now
        ctx.touch("organization:member", str(u))
    return {}
