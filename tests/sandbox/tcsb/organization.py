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

SCPs: off until EnablePolicyType SERVICE_CONTROL_POLICY, which attaches the
system policy FullQcloudAccess (PolicyId 1, allow * on *) to every
department and member, and to every new one while enabled.  A call by any
identity of a member account (its root, sub-users, role sessions, the
OrganizationAccessControlRole session too) must then be allowed by the
policies attached to the member and to each department from its own up to
the root: each level must allow, deny wins (scp_sets).  The management
account is never bound by SCPs.

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

from . import policy, util
from .cam_keys import ensure_root_key
from .errors import ApiError
from .registry import action
from .store import HUB_UIN, MEMBER_STEP, fresh

ACCESS_ROLE = "OrganizationAccessControlRole"
ACCESS_ROLE_DURATION = 43200
ACCESS_IDENTITY_ALIAS = "管理员"
ADMIN_POLICY = "1"  # AdministratorAccess (presets.py)
SCP, TAG_POLICY = "SERVICE_CONTROL_POLICY", "TAG_POLICY"
FULL_ACCESS = {"PolicyId": 1, "PolicyName": "FullQcloudAccess",
               "Description": "System policy: full access to all services",
               "Content": json.dumps({"version": "2.0", "statement": [
                   {"effect": "allow", "action": ["*"], "resource": ["*"]}]}),
               "Type": SCP, "created": 1546272000, "updated": 1546272000}
MAX_MEMBERS, MAX_DEPTH, MAX_NODES, MAX_POLICIES, MAX_ATTACH = 100, 5, 1000, 1000, 5
ORG_ID, ROOT_NODE_ID, APPID = 4500001, 100001, 1300000001
MEMBER_NAME_RE = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff+@&._\[\]\-:,]{1,25}$")
NODE_NAME_RE = re.compile(r"^[A-Za-z0-9\u4e00-\u9fff+@&._\[\]\-:,]{1,40}$")
POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9_\u4e00-\u9fff]{1,128}$")
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


def _attach_full_access(org, target, now):
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
    _attach_full_access(org, "MEMBER:%d" % uin, now)
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


_parsed = {}


def _statements(org, pid):
    p = FULL_ACCESS if str(pid) == "1" else org["policies"].get(str(pid))
    if p is None:
        return []
    st = _parsed.get(p["Content"])
    if st is None:
        st = _parsed[p["Content"]] = policy.parse_document(p["Content"])
    return st


def scp_sets(hub, owner):
    """The statement sets (one per level: member, its department, ... root)
    that bind calls inside account `owner`; [] when no SCP applies."""
    org = hub.get("org")
    if not org or owner == hub["owner_uin"] or not org["policy_types"].get(SCP):
        return []
    m = org["members"].get(str(owner))
    if m is None:
        return []
    targets, node = ["MEMBER:%d" % owner], org["nodes"].get(str(m["NodeId"]))
    while node is not None:
        targets.append("NODE:%d" % node["NodeId"])
        node = org["nodes"].get(str(node["ParentNodeId"]))
    sets = []
    for t in targets:
        stmts = []
        for pid in org["attachments"].get(t, {}):
            stmts += _statements(org, pid)
        sets.append(stmts)
    return sets


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
    _attach_full_access(org, "NODE:%d" % nid, ctx.now)
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


# -- service control policies ---------------------------------------------

def _check_org_id(org, org_id):
    if org_id != org["OrgId"]:
        raise ApiError("ResourceNotFound.OrganizationNotExist",
                       "the organization %s does not exist" % org_id)


def _policy_type(value, default=SCP):
    t = value or default
    if t not in (SCP, TAG_POLICY):
        raise ApiError("InvalidParameter.ParamError",
                       "the policy type is SERVICE_CONTROL_POLICY or TAG_POLICY")
    if t == TAG_POLICY:
        raise ApiError("InvalidParameter.ParamError",
                       "tcsandbox models service control policies only, not TAG_POLICY")
    return t


@action("organization")
def DescribePolicyConfig(ctx):
    p, org = ctx.p, _org(ctx)
    _check_org_id(org, p["OrganizationId"])
    t = {0: SCP, 1: TAG_POLICY}.get(p.get("Type", 0))
    if t is None:
        raise ApiError("InvalidParameter.ParamError", "Type is 0 (SCP) or 1 (tag policy)")
    return {"Status": org["policy_types"].get(t, 0), "Type": t}


@action("organization")
def EnablePolicyType(ctx):
    p, org = ctx.p, _org(ctx)
    _check_org_id(org, p["OrganizationId"])
    t = _policy_type(p["PolicyType"])
    if org["policy_types"].get(t):
        raise ApiError("FailedOperation.OrganizationPolicyIsNotDisabled",
                       "%s is already enabled" % t)
    org["policy_types"][t] = 1
    for n in org["nodes"].values():
        _attach_full_access(org, "NODE:%d" % n["NodeId"], ctx.now)
    for m in org["members"].values():
        _attach_full_access(org, "MEMBER:%d" % m["MemberUin"], ctx.now)
    return {}


def _scp(org, pid):
    if str(pid) == "1":
        return FULL_ACCESS
    x = org["policies"].get(str(pid))
    if x is None:
        raise ApiError("ResourceNotFound.PolicyNotExist", "the policy %s does not exist" % pid)
    return x


def _check_policy_fields(org, name=None, content=None, desc=None, me=None):
    if name is not None:
        if not POLICY_NAME_RE.match(name):
            raise ApiError("InvalidParameter.PolicyNameError",
                           "Name: 1-128 letters, digits, CJK characters or _")
        if name == FULL_ACCESS["PolicyName"] or any(
                x["PolicyName"] == name and x is not me for x in org["policies"].values()):
            raise ApiError("FailedOperation.PolicyNameInUse", "the policy name %s is in use" % name)
    if content is not None:
        policy.parse_document(content)
    if desc is not None and len(desc.encode()) > 300:
        raise ApiError("InvalidParameter.DescriptionLengthOverlimit",
                       "the description is longer than 300 bytes")


def _attached_times(org, pid):
    return sum(1 for a in org["attachments"].values() if str(pid) in a)


@action("organization")
def ListPolicies(ctx):
    p, org = ctx.p, _org(ctx)
    _policy_type(p.get("PolicyType"))
    scope, kw = p.get("Scope", "All") or "All", (p.get("Keyword") or "").lower()
    if scope not in ("All", "QCS", "Local"):
        raise ApiError("InvalidParameter.ParamError", "Scope is All, QCS or Local")
    pool = ([FULL_ACCESS] if scope in ("All", "QCS") else []) + \
        (sorted(org["policies"].values(), key=lambda x: x["PolicyId"]) if scope != "QCS" else [])
    rows = [{"PolicyId": x["PolicyId"], "PolicyName": x["PolicyName"],
             "Type": 2 if x is FULL_ACCESS else 1, "Description": x["Description"],
             "AddTime": util.cst(x["created"]), "UpdateTime": util.cst(x["updated"]),
             "AttachedTimes": _attached_times(org, x["PolicyId"])}
            for x in pool if kw in x["PolicyName"].lower()]
    total, page = util.page_pr(rows, p)
    return {"TotalNum": total, "List": page}


@action("organization")
def CreatePolicy(ctx):
    p, org = ctx.p, _org(ctx)
    t = _policy_type(p["Type"])
    _check_policy_fields(org, p["Name"], p["Content"], p.get("Description", ""))
    if len(org["policies"]) >= MAX_POLICIES:
        raise ApiError("FailedOperation.PolicyFull", "at most %d policies" % MAX_POLICIES)
    org["seq"]["policy"] += 1
    pid = org["seq"]["policy"]
    org["policies"][str(pid)] = {"PolicyId": pid, "PolicyName": p["Name"],
                                 "Description": p.get("Description", ""), "Content": p["Content"],
                                 "Type": t, "created": ctx.now, "updated": ctx.now}
    ctx.touch("organization:policy", p["Name"])
    return {"PolicyId": pid}


@action("organization")
def UpdatePolicy(ctx):
    p, org = ctx.p, _org(ctx)
    _policy_type(p.get("Type"))
    x = _scp(org, p["PolicyId"])
    if x is FULL_ACCESS:
        raise ApiError("InvalidParameter.PolicyTypeError", "only custom policies can be edited")
    _check_policy_fields(org, p.get("Name"), p.get("Content"), p.get("Description"), x)
    for field, key in (("Name", "PolicyName"), ("Content", "Content"),
                       ("Description", "Description")):
        if field in p:
            x[key] = p[field]
    x["updated"] = ctx.now
    ctx.touch("organization:policy", x["PolicyName"])
    return {}


def _target(org, target_id, target_type=None):
    """("MEMBER"|"NODE", record) for a target id."""
    if target_type not in (None, "NODE", "MEMBER"):
        raise ApiError("InvalidParameter.ParamError", "TargetType is NODE or MEMBER")
    if target_type in (None, "MEMBER") and str(target_id) in org["members"]:
        return "MEMBER", org["members"][str(target_id)]
    if target_type in (None, "NODE") and str(target_id) in org["nodes"]:
        return "NODE", org["nodes"][str(target_id)]
    if target_type == "NODE":
        raise ApiError("ResourceNotFound.OrganizationNodeNotExist",
                       "the department %s does not exist" % target_id)
    raise ApiError("ResourceNotFound.OrganizationMemberNotExist",
                   "the member %s does not exist" % target_id)


def _enabled(org):
    if not org["policy_types"].get(SCP):
        raise ApiError("FailedOperation.OrganizationPolicyIsNotEnabled",
                       "service control policies are not enabled")


@action("organization")
def AttachPolicy(ctx):
    p, org = ctx.p, _org(ctx)
    _policy_type(p.get("Type"))
    _enabled(org)
    kind, _rec = _target(org, p["TargetId"], p["TargetType"])
    x = _scp(org, p["PolicyId"])
    att = org["attachments"].setdefault("%s:%d" % (kind, p["TargetId"]), {})
    if str(x["PolicyId"]) not in att and len(att) >= MAX_ATTACH:
        raise ApiError("InvalidParameter.AttachmentFull",
                       "at most %d policies per target" % MAX_ATTACH)
    att.setdefault(str(x["PolicyId"]), ctx.now)
    ctx.touch("organization:policy", x["PolicyName"])
    return {}


@action("organization")
def DetachPolicy(ctx):
    p, org = ctx.p, _org(ctx)
    _policy_type(p.get("Type"))
    _enabled(org)
    kind, _rec = _target(org, p["TargetId"], p["TargetType"])
    x = _scp(org, p["PolicyId"])
    att = org["attachments"].get("%s:%d" % (kind, p["TargetId"]), {})
    if str(x["PolicyId"]) not in att:
        raise ApiError("FailedOperation.OrganizationDetachPolicyError",
                       "the policy is not attached to the target")
    if len(att) == 1:
        raise ApiError("FailedOperation.OrganizationDetachLastPolicyError",
                       "a target keeps at least one policy")
    del att[str(x["PolicyId"])]
    ctx.touch("organization:policy", x["PolicyName"])
    return {}


@action("organization")
def ListPoliciesForTarget(ctx):
    p, org = ctx.p, _org(ctx)
    _policy_type(p.get("PolicyType"))
    kind, rec = _target(org, p["TargetId"])
    kw = (p.get("Keyword") or "").lower()
    rows = []
    att = org["attachments"].get("%s:%d" % (kind, p["TargetId"]), {})
    for pid, ts in sorted(att.items(), key=lambda kv: int(kv[0])):
        x = _scp(org, pid)
        if kw not in x["PolicyName"].lower():
            continue
        rows.append({"StrategyId": x["PolicyId"], "StrategyName": x["PolicyName"],
                     "Remark": x["Description"], "Uin": p["TargetId"],
                     "Type": 1 if kind == "NODE" else 2, "AddTime": util.cst(x["created"]),
                     "UpdateTime": util.cst(x["updated"]), "Name": rec["Name"],
                     "AttachTime": util.cst(ts)})
    total, page = util.page_pr(rows, p)
    return {"TotalNum": total, "List": page}
