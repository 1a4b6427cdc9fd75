#!/usr/bin/env python3
"""accounts.t: one sandbox, several root accounts (hub and spokes).

Members from --members and from CreateOrganizationMember (the access role
arrives after --async-delay-ms), separate worlds, cross-account AssumeRole
(both sides must agree; sts:external_id), GetCallerIdentity in each account,
SCPs binding members and never the hub, the Organization's error codes,
operation-level CAM/tag actions checked against "*", CloudAudit and rate
limits per account, and persistence of members and org across a restart.
"""
import json
import os
import sys
import time
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "lib")]
from sandbox import Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import ApiError  # noqa: E402

DENIED = "AuthFailure.UnauthorizedOperation"
OK = "(success)"
ROLE = "OrganizationAccessControlRole"
t = Tap()


def err(f):
    try:
        f()
        return OK
    except ApiError as e:
        return e.code


def doc(*stmts):
    return json.dumps({"version": "2.0", "statement": list(stmts)})


def arn(uin, name=ROLE):
    return "qcs::cam::uin/%d:roleName/%s" % (uin, name)


def sub_user(sb, name, *stmts, account=None):
    """A sub-user (with a key) allowed `stmts`, in the hub or a member."""
    u = sb.call("cam", "AddUser", {"Name": name, "UseApi": 1, "ConsoleLogin": 0}, account=account)
    if stmts:
        p = sb.call("cam", "CreatePolicy", {"PolicyName": "p-" + name, "PolicyDocument": doc(*stmts)},
                    account=account)
        sb.call("cam", "AttachUserPolicy", {"PolicyId": p["PolicyId"], "AttachUin": u["Uin"]},
                account=account)
    return u


def assume(sb, role_arn, sid, skey, **extra):
    p = dict({"RoleArn": role_arn, "RoleSessionName": "t-session"}, **extra)
    return sb.call("sts", "AssumeRole", p, sid, skey)["Credentials"]


def as_creds(sb, c):
    return lambda svc, a, p=None, **kw: sb.call(svc, a, p, c["TmpSecretId"], c["TmpSecretKey"],
                                                token=c["Token"], **kw)


ORG = lambda sb, a, p=None, **kw: sb.call("organization", a, p, **kw)  # noqa: E731

with Sandbox("--async-delay-ms", "600000", "--rate-limit", "GetUserAppId=2",
             members=["dev", "test", "staging", "prod"]) as sb:
    H = sb.owner_uin
    M = sb.members
    t.eq(M, {"dev": 100010000001, "test": 100020000001, "staging": 100030000001,
             "prod": 100040000001}, "--members: the k-th member gets 100000000001 + k*10000000")
    org = sb.org()
    t.eq(sorted(m["Name"] for m in org["members"].values()), ["dev", "prod", "staging", "test"],
         "the Organization holds the four members")
    dev = sb.world(M["dev"])
    roles = {r["RoleName"]: r for r in dev["roles"].values()}
    t.ok(ROLE in roles and "1" in roles[ROLE]["policies"],
         "--members: dev has OrganizationAccessControlRole with AdministratorAccess at once")
    t.like(roles[ROLE]["PolicyDocument"], "qcs::cam::uin/%d:root" % H, "... trusting the hub's root")
    t.eq(roles[ROLE]["SessionDuration"], 43200, "... SessionDuration 43200")

    # -- GetCallerIdentity and isolation of worlds ------------------------------
    t.eq(sb.call("sts", "GetCallerIdentity")["AccountId"], str(H), "hub root: AccountId is the hub")
    t.eq(sb.call("sts", "GetCallerIdentity", account=M["dev"])["AccountId"], str(M["dev"]),
         "dev root: AccountId is dev")
    sub_user(sb, "hub-ann")
    du = sub_user(sb, "dev-ann", account=M["dev"])
    t.eq([u["Name"] for u in sb.call("cam", "ListUsers")["Data"]], ["hub-ann"],
         "the hub's key sees only the hub's users")
    t.eq([u["Name"] for u in sb.call("cam", "ListUsers", account=M["dev"])["Data"]], ["dev-ann"],
         "dev's key sees only dev's users")
    t.ok(str(du["Uin"]).startswith("1000101"), "dev's sub-user UINs come from dev's own range",
         du["Uin"])
    ids = [str(u["Uin"]) for w in (sb.world(), sb.world(M["dev"])) for u in w["users"].values()]
    t.eq(len(ids), len(set(ids)), "sub-user UINs of two worlds never collide")
    t.eq(err(lambda: sb.call("cam", "GetUser", {"Name": "dev-ann"})), "ResourceNotFound.UserNotExist",
         "the hub cannot GetUser a member's user")
    appid = sb.call("cam", "GetUserAppId", account=M["dev"])
    t.eq(appid["OwnerUin"], str(M["dev"]), "GetUserAppId in dev: OwnerUin is dev")

    # -- cross-account AssumeRole -------------------------------------------------
    c = assume(sb, arn(M["dev"]), sb.secret_id, sb.secret_key)
    dev_admin = as_creds(sb, c)
    ident = dev_admin("sts", "GetCallerIdentity")
    t.eq((ident["AccountId"], ident["Type"]), (str(M["dev"]), "AssumedRole"),
         "hub root assumes dev's access role: AccountId is dev")
    t.eq([u["Name"] for u in dev_admin("cam", "ListUsers")["Data"]], ["dev-ann"],
         "the role session sees only dev's users")
    t.ok(c["TmpSecretId"] in sb.world(M["dev"])["tmpkeys"]
         and c["TmpSecretId"] not in sb.world()["tmpkeys"], "the credentials are kept in dev's world")
    t.eq(err(lambda: dev_admin("sts", "AssumeRole", {"RoleArn": arn(M["test"]),
                                                     "RoleSessionName": "again"})),
         "UnauthorizedOperation", "a role session may not assume another role")
    t.eq(err(lambda: dev_admin("cam", "AddUser", {"Name": "made-by-hub", "UseApi": 0})), OK,
         "AdministratorAccess: the session may write in dev")

    plain = sub_user(sb, "plain", {"effect": "allow", "action": ["cam:*"], "resource": ["*"]})
    t.eq(err(lambda: assume(sb, arn(M["dev"]), plain["SecretId"], plain["SecretKey"])), DENIED,
         "a hub sub-user without an sts:AssumeRole grant is refused by its own account")
    ops = sub_user(sb, "ops", {"effect": "allow", "action": ["sts:AssumeRole"],
                               "resource": ["qcs::cam::uin/*:roleName/%s" % ROLE,
                                            "qcs::cam::uin/*:roleName/deployer"]})
    t.eq(err(lambda: assume(sb, arn(M["test"]), ops["SecretId"], ops["SecretKey"])), OK,
         "a hub sub-user with sts:AssumeRole on the role assumes it (root principal admits it)")
    t.eq(err(lambda: assume(sb, arn(M["test"]), du["SecretId"], du["SecretKey"])), DENIED,
         "a dev sub-user without a grant is refused")
    t.eq(err(lambda: assume(sb, arn(M["test"]), *sb.member_key(M["dev"]))), "UnauthorizedOperation",
         "dev's root is not in the principal of test's role (trust mismatch)")
    t.eq(err(lambda: assume(sb, arn(100990000001), sb.secret_id, sb.secret_key)),
         "ResourceNotFound.RoleNotFound", "an unknown account: ResourceNotFound.RoleNotFound")
    t.eq(err(lambda: assume(sb, arn(M["dev"], "nope"), sb.secret_id, sb.secret_key)),
         "ResourceNotFound.RoleNotFound", "an unknown role in a member: ResourceNotFound.RoleNotFound")

    # a role in prod that trusts one hub sub-user and needs an external id
    trust = doc({"effect": "allow", "action": "name/sts:AssumeRole",
                 "principal": {"qcs": ["qcs::cam::uin/%d:uin/%d" % (H, ops["Uin"])]},
                 "condition": {"string_equal": {"sts:external_id": "ext-42"}}})
    sb.call("cam", "CreateRole", {"RoleName": "deployer", "PolicyDocument": trust}, account=M["prod"])
    sb.call("cam", "AttachRolePolicy", {"PolicyId": 2, "AttachRoleName": "deployer"}, account=M["prod"])
    k = (ops["SecretId"], ops["SecretKey"])
    t.eq(err(lambda: assume(sb, arn(M["prod"], "deployer"), *k)), "UnauthorizedOperation",
         "ExternalId missing: refused")
    t.eq(err(lambda: assume(sb, arn(M["prod"], "deployer"), *k, ExternalId="ext-41")),
         "UnauthorizedOperation", "ExternalId wrong: refused")
    c2 = assume(sb, arn(M["prod"], "deployer"), *k, ExternalId="ext-42")
    t.eq(as_creds(sb, c2)("sts", "GetCallerIdentity")["AccountId"], str(M["prod"]),
         "ExternalId right: admitted, the session is in prod")
    ops2 = sub_user(sb, "ops2", {"effect": "allow", "action": ["sts:AssumeRole"], "resource": ["*"]})
    t.eq(err(lambda: assume(sb, arn(M["prod"], "deployer"), ops2["SecretId"], ops2["SecretKey"],
                            ExternalId="ext-42")), "UnauthorizedOperation",
         "another hub sub-user is not the trusted principal")
    rid = sb.call("cam", "GetRole", {"RoleName": "deployer"}, account=M["prod"])["RoleInfo"]["RoleId"]
    t.eq(err(lambda: sb.call("sts", "AssumeRole", {"RoleArn": "qcs::cam::uin/%d:role/%s" % (M["prod"], rid),
                                                   "RoleSessionName": "by-id", "ExternalId": "ext-42"}, *k)),
         OK, "RoleArn by role id works across accounts")
    sb.call("cam", "UpdateRoleSessionDuration", {"RoleName": "deployer", "SessionDuration": 3600},
            account=M["prod"])
    t.eq(err(lambda: assume(sb, arn(M["prod"], "deployer"), *k, ExternalId="ext-42",
                            DurationSeconds=7200)), "InvalidParameter.OverTimeError",
         "UpdateRoleSessionDuration in a member caps the session")

    # -- CloudAudit per account ------------------------------------------------
    now = int(time.time())
    q = {"StartTime": now - 600, "EndTime": now + 600, "MaxResults": 50,
         "LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "AddUser"}]}
    hub_ev = sb.call("cloudaudit", "LookUpEvents", q, region="ap-guangzhou")["Events"]
    dev_ev = sb.call("cloudaudit", "LookUpEvents", q, region="ap-guangzhou", account=M["dev"])["Events"]
    t.eq(sorted({e["AccountID"] for e in hub_ev}), [H], "the hub's CloudAudit has only hub events")
    t.eq(len(dev_ev), 2, "dev's CloudAudit has dev's two AddUser calls (root and the role session)")
    q["LookupAttributes"] = [{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}]
    prod_ev = sb.call("cloudaudit", "LookUpEvents", q, region="ap-guangzhou", account=M["prod"])["Events"]
    t.ok(len(prod_ev) >= 2, "a cross-account AssumeRole is recorded in the role's account too",
         len(prod_ev))

    # -- rate limits per account ----------------------------------------------
    codes = [err(lambda: sb.call("cam", "GetUserAppId")) for _ in range(3)]
    t.eq(codes[-1], "RequestLimitExceeded", "the hub exhausts its GetUserAppId limit")
    t.eq(err(lambda: sb.call("cam", "GetUserAppId", account=M["test"])), OK,
         "... while test's own limit is untouched")

    # -- CreateOrganizationMember and async readiness ---------------------------
    d = ORG(sb, "DescribeOrganization")
    t.eq((d["IsManager"], d["HostUin"]), (True, H), "DescribeOrganization: the hub manages it")
    root = d["RootNodeId"]
    new = dict(Name="sandbox1", AccountName="sandbox1", PolicyType="Financial",
               PermissionIds=[1, 2], NodeId=root, Tags=[{"TagKey": "env", "TagValue": "sbx"}])
    uin = ORG(sb, "CreateOrganizationMember", new)["Uin"]
    t.eq(uin, 100050000001, "CreateOrganizationMember: the fifth member's UIN")
    ids = lambda: ORG(sb, "DescribeOrganizationMemberAuthIdentities",  # noqa: E731
                      {"Offset": 0, "Limit": 10, "MemberUin": uin})["Items"]
    early = ids()
    t.eq(early, [], "before the delay no access identity is listed")
    t.eq(err(lambda: assume(sb, arn(uin), sb.secret_id, sb.secret_key)), "ResourceNotFound.RoleNotFound",
         "before the delay AssumeRole gets ResourceNotFound.RoleNotFound")
    sb.advance_clock(601)
    got = ids()
    t.eq([(i["IdentityId"], i["IdentityRoleName"], i["Status"]) for i in got or []],
         [(1, ROLE, 1)], "after the delay identity 1 is configured (Status 1)")
    t.eq(err(lambda: assume(sb, arn(uin), sb.secret_id, sb.secret_key)), OK, "... and AssumeRole works")
    mem = ORG(sb, "DescribeOrganizationMembers", {"Offset": 0, "Limit": 50, "SearchKey": "sandbox1"})
    t.eq([(i["MemberUin"], i["MemberType"], i["NodeId"], i["Tags"]) for i in mem["Items"]],
         [(uin, "Create", root, [{"TagKey": "env", "TagValue": "sbx"}])],
         "DescribeOrganizationMembers shows it with type, node and tags")
    t.eq(ORG(sb, "DescribeOrganizationMembers", {"Offset": 0, "Limit": 50,
                                                 "Tags": [{"TagKey": "env", "TagValue": "sbx"}]})["Total"],
         1, "... the Tags filter finds it")
    res = "qcs::organization:ap-guangzhou:uin/%d:member/%d" % (H, uin)
    r = sb.call("tag", "TagResources", {"ResourceList": [res], "Tags": [{"TagKey": "cost", "TagValue": "cc7"}]})
    t.eq(r["FailedResources"], [], "TagResources tags an existing member")
    mem = ORG(sb, "DescribeOrganizationMembers", {"Offset": 0, "Limit": 50, "SearchKey": str(uin)})
    t.eq(mem["Items"][0]["Tags"], [{"TagKey": "cost", "TagValue": "cc7"},
                                   {"TagKey": "env", "TagValue": "sbx"}], "... and the member shows it")

    # -- Organization error codes --------------------------------------------------
    t.eq(err(lambda: ORG(sb, "CreateOrganizationMember", new)), "FailedOperation.OrganizationMemberNameUsed",
         "a duplicate member name")
    t.eq(err(lambda: ORG(sb, "CreateOrganizationMember", dict(new, Name="x", PermissionIds=[1]))),
         "FailedOperation.OrganizationPermissionIllegal", "PermissionIds without 2")
    t.eq(err(lambda: ORG(sb, "CreateOrganizationMember", dict(new, Name="bad name!"))),
         "InvalidParameter.ParamError", "a member name with illegal characters")
    t.eq(err(lambda: ORG(sb, "CreateOrganizationMember", dict(new, Name="n" * 26))),
         "InvalidParameter.ParamError", "a member name longer than 25")
    t.eq(err(lambda: ORG(sb, "CreateOrganizationMember", dict(new, Name="y", NodeId=999))),
         "ResourceNotFound.OrganizationNodeNotExist", "an unknown NodeId")
    t.eq(err(lambda: ORG(sb, "CreateOrganizationMember", {k2: v for k2, v in new.items() if k2 != "AccountName"})),
         "MissingParameter", "AccountName is required (SDK)")
    t.eq(err(lambda: ORG(sb, "DescribeOrganizationMembers", {"Offset": 0, "Limit": 51})),
         "InvalidParameter.ParamError", "Limit above 50")
    t.eq(err(lambda: ORG(sb, "CreateOrganizationMember", dict(new, Name="z"), account=M["dev"])),
         "InvalidParameter.OrganizationMemberNotManager", "a member may not create members")
    t.eq(ORG(sb, "DescribeOrganization", account=M["dev"])["IsManager"], False,
         "a member's DescribeOrganization says IsManager false")
    t.eq(err(lambda: ORG(sb, "CreateOrganization")), "FailedOperation.OrganizationExistAlready",
         "CreateOrganization twice")
    n1 = ORG(sb, "AddOrganizationNode", {"ParentNodeId": root, "Name": "workloads"})["NodeId"]
    t.eq(err(lambda: ORG(sb, "AddOrganizationNode", {"ParentNodeId": root, "Name": "workloads"})),
         "FailedOperation.OrganizationNodeNameUsed", "a duplicate department name under one parent")
    parent = n1
    for level in range(2, 6):
        parent = ORG(sb, "AddOrganizationNode", {"ParentNodeId": parent, "Name": "l%d" % level})["NodeId"]
    t.eq(err(lambda: ORG(sb, "AddOrganizationNode", {"ParentNodeId": parent, "Name": "l6"})),
         "LimitExceeded.NodeDepthExceedLimit", "a sixth level below the root")
    t.eq(err(lambda: ORG(sb, "AddOrganizationNode", {"ParentNodeId": root, "Name": "x" * 41})),
         "InvalidParameter.ParamError", "a department name longer than 40")
    t.eq(err(lambda: ORG(sb, "MoveOrganizationNodeMembers", {"NodeId": n1, "MemberUin": [123]})),
         "FailedOperation.SomeUinsNotInOrganization", "moving an account outside the organization")
    ORG(sb, "MoveOrganizationNodeMembers", {"NodeId": n1, "MemberUin": [M["prod"], M["staging"]]})
    ORG(sb, "UpdateOrganizationMember", {"MemberUin": M["staging"], "Name": "stage", "Remark": "r",
                                         "IsAllowQuit": "Allow"})
    st = ORG(sb, "DescribeOrganizationMembers", {"Offset": 0, "Limit": 50, "NodeId": n1})["Items"]
    t.eq(sorted((i["Name"], i["IsAllowQuit"]) for i in st), [("prod", "Denied"), ("stage", "Allow")],
         "MoveOrganizationNodeMembers and UpdateOrganizationMember")

    # -- SCPs -----------------------------------------------------------------------
    oid = d["OrgId"]
    content = doc({"effect": "deny", "action": ["cam:AddUser", "cam:DeleteRole"], "resource": ["*"]})
    scp = {"Name": "guardrail", "Content": content, "Type": "SERVICE_CONTROL_POLICY"}
    t.eq(err(lambda: ORG(sb, "AttachPolicy", {"TargetId": n1, "TargetType": "NODE", "PolicyId": 1})),
         "FailedOperation.OrganizationPolicyIsNotEnabled", "AttachPolicy before SCPs are enabled")
    t.eq(ORG(sb, "DescribePolicyConfig", {"OrganizationId": oid})["Status"], 0, "SCPs are off by default")
    ORG(sb, "EnablePolicyType", {"OrganizationId": oid, "PolicyType": "SERVICE_CONTROL_POLICY"})
    t.eq(ORG(sb, "DescribePolicyConfig", {"OrganizationId": oid})["Status"], 1, "EnablePolicyType turns them on")
    lst = ORG(sb, "ListPoliciesForTarget", {"TargetId": M["dev"]})["List"]
    t.eq([(x["StrategyId"], x["StrategyName"], x["Type"]) for x in lst], [(1, "FullQcloudAccess", 2)],
         "FullQcloudAccess is bound to every member")
    t.eq(err(lambda: ORG(sb, "CreatePolicy", dict(scp, Content='{"version":"2.0"}'))),
         "InvalidParameter.StatementError", "CreatePolicy checks the CAM syntax")
    pid = ORG(sb, "CreatePolicy", scp)["PolicyId"]
    t.eq(err(lambda: ORG(sb, "CreatePolicy", scp)), "FailedOperation.PolicyNameInUse", "a duplicate policy name")
    t.eq(err(lambda: ORG(sb, "UpdatePolicy", {"PolicyId": 1, "Description": "x"})),
         "InvalidParameter.PolicyTypeError", "the system policy cannot be edited")
    ORG(sb, "AttachPolicy", {"TargetId": n1, "TargetType": "NODE", "PolicyId": pid})
    t.eq(err(lambda: sb.call("cam", "AddUser", {"Name": "x1", "UseApi": 0}, account=M["prod"])), DENIED,
         "a deny SCP on prod's department refuses prod's root")
    t.eq(err(lambda: sb.call("cam", "AddUser", {"Name": "x2", "UseApi": 0}, account=M["dev"])), OK,
         "dev (root department) is not bound by it")
    cp = assume(sb, arn(M["prod"]), sb.secret_id, sb.secret_key)
    t.eq(err(lambda: as_creds(sb, cp)("cam", "DeleteRole", {"RoleName": "deployer"})), DENIED,
         "the OrganizationAccessControlRole session in prod is bound too")
    t.eq(err(lambda: as_creds(sb, cp)("cam", "ListUsers")), OK, "... for what the SCP does not deny")
    t.eq(err(lambda: sb.call("cam", "AddUser", {"Name": "hub-x", "UseApi": 0})), OK,
         "the management account is never bound by SCPs")
    ORG(sb, "AttachPolicy", {"TargetId": M["dev"], "TargetType": "MEMBER", "PolicyId": pid})
    t.eq(err(lambda: sb.call("cam", "AddUser", {"Name": "x3", "UseApi": 0}, account=M["dev"])), DENIED,
         "an SCP attached to the member itself binds it")
    ORG(sb, "DetachPolicy", {"TargetId": M["dev"], "TargetType": "MEMBER", "PolicyId": pid})
    t.eq(err(lambda: ORG(sb, "DetachPolicy", {"TargetId": M["dev"], "TargetType": "MEMBER", "PolicyId": 1})),
         "FailedOperation.OrganizationDetachLastPolicyError", "the last policy of a target stays")
    ORG(sb, "UpdatePolicy", {"PolicyId": pid, "Content": doc(
        {"effect": "deny", "action": ["cam:DeleteRole"], "resource": ["*"]})})
    t.eq(err(lambda: sb.call("cam", "AddUser", {"Name": "x4", "UseApi": 0}, account=M["prod"])), OK,
         "UpdatePolicy takes effect at once")
    t.eq(ORG(sb, "ListPolicies", {"Scope": "Local"})["List"][0]["AttachedTimes"], 1,
         "ListPolicies counts attachments")

    # -- operation-level CAM and tag actions -----------------------------------
    U = sb.call("cam", "AddUser", {"Name": "target", "UseApi": 0})["Uin"]
    narrow = sub_user(sb, "narrow", {"effect": "allow", "action": [
        "cam:AttachUserPolicy", "cam:DetachUserPolicy", "cam:AttachGroupPolicy", "cam:CreatePolicyVersion",
        "tag:TagResources", "tag:UnTagResources"], "resource": ["qcs::cam::uin/%d:uin/%d" % (H, U)]})
    wide = sub_user(sb, "wide", {"effect": "allow", "action": [
        "cam:AttachUserPolicy", "cam:DetachUserPolicy", "tag:TagResources"], "resource": ["*"]})
    nk, wk = (narrow["SecretId"], narrow["SecretKey"]), (wide["SecretId"], wide["SecretKey"])
    att = {"PolicyId": 2, "AttachUin": U}
    t.eq(err(lambda: sb.call("cam", "AttachUserPolicy", att, *nk)), DENIED,
         "AttachUserPolicy is not granted by a policy naming the user")
    t.eq(err(lambda: sb.call("cam", "AttachUserPolicy", att, *wk)), OK, "... but by resource *")
    t.eq(err(lambda: sb.call("cam", "DetachUserPolicy", {"PolicyId": 2, "DetachUin": U}, *nk)), DENIED,
         "DetachUserPolicy likewise")
    ures = "qcs::cam::uin/%d:uin/%d" % (H, U)
    tg = {"ResourceList": [ures], "Tags": [{"TagKey": "k", "TagValue": "v"}]}
    t.eq(err(lambda: sb.call("tag", "TagResources", tg, *nk)), DENIED,
         "TagResources is not granted by a policy naming the resource")
    t.eq(err(lambda: sb.call("tag", "TagResources", tg, *wk)), OK, "... but by resource *")

    # -- persistence ------------------------------------------------------------------
    before = (sb.org(), {n: sb.world(u)["roles"] for n, u in M.items()})
    sb.restart()
    t.eq((sb.org(), {n: sb.world(u)["roles"] for n, u in M.items()}), before,
         "members, their roles and the org survive a restart")
    t.eq(sb.members, M, "sb.members after a restart")
    t.eq(err(lambda: sb.call("cam", "AddUser", {"Name": "x5", "UseApi": 0}, account=M["staging"])), OK,
         "a member's root key works after the restart")
    t.eq(err(lambda: as_creds(sb, c2)("sts", "GetCallerIdentity")), OK,
         "a cross-account session survives the restart")
    t.eq(ORG(sb, "DescribePolicyConfig", {"OrganizationId": oid})["Status"], 1, "SCPs stay enabled")
    t.eq(err(lambda: as_creds(sb, cp)("cam", "DeleteRole", {"RoleName": "deployer"})), DENIED,
         "... and still bind prod")
sys.exit(t.done())
