"""Organization service control policies (SCPs): DescribePolicyConfig,
EnablePolicyType, ListPolicies, DescribePolicy, CreatePolicy, UpdatePolicy, AttachPolicy,
DetachPolicy, ListPoliciesForTarget; and scp_sets(), which ctx.py uses.

SCPs are off until EnablePolicyType SERVICE_CONTROL_POLICY, which attaches
the system policy FullQcloudAccess (PolicyId 1, Type 2, allow * on *) to
every department and member (and organization.py to every new one while
enabled).  A call by any identity of a member account (its root, sub-users,
role sessions, federation tokens, the OrganizationAccessControlRole session
too) must then be allowed by the policies attached to the member and to each
department from its own up to the root: every level must allow, and a deny
anywhere wins.  The management account is never bound by SCPs.
Custom SCPs use the CAM policy syntax (policy.py checks Content); at most 5
policies per target; a target keeps at least one (detaching the last one is
FailedOperation.OrganizationDetachLastPolicyError).  TAG_POLICY is not
modelled (InvalidParameter.ParamError).  Management account only (see
organization._org).
"""
import json
import re

from . import policy, util
from .errors import ApiError
from .organization import SCP, TAG_POLICY, _org, attach_full_access
from .registry import action

FULL_ACCESS = {"PolicyId": 1, "PolicyName": "FullQcloudAccess",
               "Description": "System policy: full access to all services",
               "Content": json.dumps({"version": "2.0", "statement": [
                   {"effect": "allow", "action": ["*"], "resource": ["*"]}]}),
               "Type": SCP, "created": 1546272000, "updated": 1546272000}
MAX_POLICIES, MAX_ATTACH = 1000, 5
POLICY_NAME_RE = re.compile(r"^[A-Za-z0-9_\u4e00-\u9fff]{1,128}$")


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
        attach_full_access(org, "NODE:%d" % n["NodeId"], ctx.now)
    for m in org["members"].values():
        attach_full_access(org, "MEMBER:%d" % m["MemberUin"], ctx.now)
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
def DescribePolicy(ctx):
    p, org = ctx.p, _org(ctx)
    _policy_type(p.get("PolicyType"))
    x = _scp(org, p["PolicyId"])
    return {"PolicyId": x["PolicyId"], "PolicyName": x["PolicyName"],
            "Type": 2 if x is FULL_ACCESS else 1, "Description": x["Description"],
            "PolicyDocument": x["Content"], "AddTime": util.cst(x["created"]),
            "UpdateTime": util.cst(x["updated"])}


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
