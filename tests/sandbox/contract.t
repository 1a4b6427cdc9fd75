#!/usr/bin/env python3
"""contract.t: the sandbox invents no action, request field or response field.

Reads the official Node SDK's *_models.d.ts and *_client.js afresh and checks
  1. every action the sandbox serves is in the SDK client and models;
  2. every request field the sandbox accepts (tcsb/sdkspec.json, which the
     sandbox validates requests against, nested structures included) exists
     in the SDK with the same type;
  3. a scenario that calls every served action successfully gets answers
     whose every field, recursively through nested structures, exists in the
     SDK's <Action>Response (with a matching JSON type);
  4. tcsb/actions.json, the catalogue CreatePolicy checks policy actions
     against, is exactly the SDK's services and client methods.
"""
import base64
import json
import os
import sys
import time
from datetime import datetime
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "lib")]
from tcsb import registry, sdkmodels  # noqa: E402
from sandbox import CST, Sandbox, wait_for  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import ApiError  # noqa: E402

served = registry.served()
t = Tap(2 * len(served) + 3)
sdk = {s: sdkmodels.load_service(sdkmodels.DEFAULT_SDK, s, v) for s, (v, _a) in served.items()}

# 1 and 2: static checks.
with open(os.path.join(HERE, "tcsb", "sdkspec.json"), encoding="utf-8") as f:
    spec = json.load(f)
for service, (version, actions) in sorted(served.items()):
    types, client_actions = sdk[service]
    missing = [a for a in actions if a not in client_actions or a + "Request" not in types]
    t.ok(not missing, "%s %s: every served action is in the SDK (%d actions)"
         % (service, version, len(actions)), "not in the SDK: %s" % missing)
    bad = []
    sspec = spec.get(service, {})
    if sspec.get("version") != version:
        bad.append("sdkspec.json version %r != %r" % (sspec.get("version"), version))
    for a in actions:
        if a + "Request" not in sspec.get("types", {}):
            bad.append("%sRequest missing from sdkspec.json" % a)
    for name, fields in sspec.get("types", {}).items():
        for field, (ftype, _req) in fields.items():
            real = types.get(name, {}).get(field)
            if real is None:
                bad.append("%s.%s is not in the SDK" % (name, field))
            elif real[0] != ftype:
                bad.append("%s.%s is %s in the SDK, %s here" % (name, field, real[0], ftype))
    t.ok(not bad, "%s: every request field the sandbox accepts is in the SDK" % service,
         "\n".join(bad[:20]))

with open(os.path.join(HERE, "tcsb", "actions.json"), encoding="utf-8") as f:
    catalogue = json.load(f)
fresh = sdkmodels.build_actions(sdkmodels.DEFAULT_SDK)
diff = sorted(set(fresh) ^ set(catalogue)) + sorted(
    s for s in set(fresh) & set(catalogue) if fresh[s] != catalogue[s])
t.ok(not diff and len(fresh) > 100,
     "actions.json lists every SDK service and client method (%d services)" % len(fresh),
     "differs for %s; run python3 tests/sandbox/tcsb/sdkmodels.py --write" % diff[:10])


# 3: answers of a scenario covering every action.
def check(types, name, obj, path, out):
    fields = types.get(name)
    if fields is None:
        out.append("%s: no interface %s in the SDK" % (path, name))
        return
    for k, v in obj.items():
        if k not in fields:
            out.append("%s%s is not in %s" % (path, k, name))
        elif v is not None:
            check_value(types, fields[k][0], v, path + k, out)


def check_value(types, ftype, v, path, out):
    if ftype.startswith("[]"):
        if not isinstance(v, list):
            out.append("%s: SDK says array" % path)
        else:
            for i, x in enumerate(v):
                check_value(types, ftype[2:], x, "%s[%d]" % (path, i), out)
    elif ftype in types:
        if isinstance(v, dict):
            check(types, ftype, v, path + ".", out)
        else:
            out.append("%s: SDK says %s" % (path, ftype))
    elif ftype == "string" and not isinstance(v, str) or \
            ftype == "number" and (isinstance(v, bool) or not isinstance(v, (int, float))) or \
            ftype == "boolean" and not isinstance(v, bool):
        out.append("%s: SDK says %s, got %r" % (path, ftype, v))


seen, problems, failures = set(), [], []


def run(sb, service, action, params=None, region=None, **kw):
    try:
        r = sb.call(service, action, params or {}, region=region, **kw)
    except ApiError as e:
        failures.append("%s.%s: %s %s" % (service, action, e.code, e.message))
        return None
    seen.add((service, action))
    types = sdk[service][0]
    r.pop("RequestId", None)
    check(types, action + "Response", r, "%s.%s: " % (service, action), problems)
    return r


def scenario(sb):
    O = sb.owner_uin
    c = lambda a, p=None, **kw: run(sb, "cam", a, p, **kw)  # noqa: E731
    u = c("AddUser", {"Name": "carol", "ConsoleLogin": 1, "UseApi": 1, "Email": "c@example.com"})
    # Sandbox-only control channel: fill what the API cannot set, so the
    # answers below carry every field with a value.
    sb.set_last_login(u["Uin"], time.time() - 3600, ip="203.0.113.9")
    sb.set_key_last_used(u["SecretId"], time.time() - 3 * 86400)
    sb.set_mfa(u["Uin"], phone=1, action={"Stoken": 1})
    c("GetUser", {"Name": "carol"})
    c("SetMfaFlag", {"OpUin": u["Uin"], "LoginFlag": {"Stoken": 1}, "ActionFlag": {"Stoken": 1}})
    c("DescribeSafeAuthFlagColl", {"SubUin": u["Uin"]})
    c("UpdateUser", {"Name": "carol", "Remark": "contract"})
    c("ListUsers")
    c("DescribeSubAccounts", {"FilterSubAccountUin": [u["Uin"]]})
    c("GetUserAppId")
    c("GetAccountSummary")
    g = c("CreateGroup", {"GroupName": "contract-group"})
    c("UpdateGroup", {"GroupId": g["GroupId"], "Remark": "r"})
    c("AddUserToGroup", {"Info": [{"GroupId": g["GroupId"], "Uin": u["Uin"]}]})
    c("GetGroup", {"GroupId": g["GroupId"]})
    c("ListGroups", {"Page": 1, "Rp": 20})
    c("ListGroupsForUser", {"SubUin": u["Uin"]})
    c("ListUsersForGroup", {"GroupId": g["GroupId"]})
    doc = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": ["tcb:*"], "resource": ["*"]}]})
    p = c("CreatePolicy", {"PolicyName": "contract-policy", "PolicyDocument": doc,
                           "Tags": [{"Key": "k", "Value": "v"}]})
    pid = p["PolicyId"]
    c("GetPolicy", {"PolicyId": pid})
    c("ListPolicies", {"Scope": "All", "Rp": 200})
    c("UpdatePolicy", {"PolicyId": pid, "Description": "d"})
    v = c("CreatePolicyVersion", {"PolicyId": pid, "PolicyDocument": doc, "SetAsDefault": False})
    c("SetDefaultPolicyVersion", {"PolicyId": pid, "VersionId": v["VersionId"]})
    c("ListPolicyVersions", {"PolicyId": pid})
    c("GetPolicyVersion", {"PolicyId": pid, "VersionId": v["VersionId"]})
    c("DeletePolicyVersion", {"PolicyId": pid, "VersionId": [1]})
    c("AttachUserPolicy", {"PolicyId": pid, "AttachUin": u["Uin"]})
    c("AttachGroupPolicy", {"PolicyId": 2, "AttachGroupId": g["GroupId"]})
    c("ListEntitiesForPolicy", {"PolicyId": pid})
    c("ListAttachedUserPolicies", {"TargetUin": u["Uin"]})
    c("ListAttachedUserAllPolicies", {"TargetUin": u["Uin"], "Rp": 20, "Page": 1, "AttachType": 0})
    c("ListAttachedGroupPolicies", {"TargetGroupId": g["GroupId"]})
    c("ListAccessKeys", {"TargetUin": u["Uin"]})
    k = c("CreateAccessKey", {"TargetUin": u["Uin"]})["AccessKey"]
    c("UpdateAccessKey", {"TargetUin": u["Uin"], "AccessKeyId": k["AccessKeyId"], "Status": "Inactive"})
    c("GetSecurityLastUsed", {"SecretIdList": [u["SecretId"], k["AccessKeyId"]]})
    c("DeleteAccessKey", {"TargetUin": u["Uin"], "AccessKeyId": k["AccessKeyId"]})
    trust = json.dumps({"version": "2.0", "statement": [{"effect": "allow", "action": "name/sts:AssumeRole",
                                                         "principal": {"qcs": ["qcs::cam::uin/%d:root" % O]}}]})
    role = c("CreateRole", {"RoleName": "contract-role", "PolicyDocument": trust,
                            "Tags": [{"Key": "team", "Value": "a"}]})
    c("GetRole", {"RoleId": role["RoleId"]})
    c("DescribeRoleList", {"Page": 1, "Rp": 20})
    c("UpdateAssumeRolePolicy", {"RoleName": "contract-role", "PolicyDocument": trust})
    c("UpdateRoleSessionDuration", {"RoleId": int(role["RoleId"]), "SessionDuration": 7200})
    c("AttachRolePolicy", {"PolicyId": pid, "AttachRoleName": "contract-role"})
    c("ListAttachedRolePolicies", {"Page": 1, "Rp": 20, "RoleName": "contract-role"})
    s = lambda a, p=None: run(sb, "sts", a, p)  # noqa: E731
    s("AssumeRole", {"RoleArn": "qcs::cam::uin/%d:roleName/contract-role" % O, "RoleSessionName": "s1",
                     "Policy": quote(doc)})
    s("GetFederationToken", {"Name": "fed", "Policy": quote(doc)})
    s("GetCallerIdentity")

    b = lambda a, p=None: run(sb, "tcb", a, p, region="ap-shanghai")  # noqa: E731
    e = b("CreateEnv", {"Alias": "contract", "PackageId": "baas_personal",
                        "Resources": ["flexdb", "storage", "function"], "Tags": [{"Key": "owner", "Value": "carol"}]})
    b("DescribeEnvs")
    b("DescribeEnvLimit")
    b("DescribeBaasPackageList")
    wait_for(lambda: sb.call("tcb", "DescribeEnvs", {"EnvId": e["EnvId"]}, region="ap-shanghai")
             ["EnvList"][0]["Status"] == "NORMAL")
    b("ModifyEnv", {"EnvId": e["EnvId"], "Alias": "contract2"})

    lh = lambda a, p=None: run(sb, "lighthouse", a, p)  # noqa: E731
    lh("DescribeBundles")
    lh("DescribeBlueprints")
    ins = lh("CreateInstances", {"BundleId": "bundle_gen_mc_med4_02", "BlueprintId": "lhbp-a1ubu224",
                                 "InstanceChargePrepaid": {"Period": 1}, "Tags": [{"Key": "owner", "Value": "carol"}],
                                 "InitCommand": {"Content": base64.b64encode(b"true").decode()}})
    iid = ins["InstanceIdSet"][0]
    state = lambda: sb.call("lighthouse", "DescribeInstances", {"InstanceIds": [iid]})["InstanceSet"][0]  # noqa: E731
    wait_for(lambda: state()["InstanceState"] == "RUNNING")
    lh("DescribeInstances")
    tat = lambda a, p=None: run(sb, "tat", a, p)  # noqa: E731
    wait_for(lambda: sb.call("tat", "DescribeAutomationAgentStatus", {"InstanceIds": [iid]})
             ["AutomationAgentSet"][0]["AgentStatus"] == "Online")
    tat("DescribeAutomationAgentStatus", {"InstanceIds": [iid]})
    inv = tat("RunCommand", {"Content": base64.b64encode(b"echo hi").decode(), "InstanceIds": [iid]})
    wait_for(lambda: sb.call("tat", "DescribeInvocations", {"InvocationIds": [inv["InvocationId"]]})
             ["InvocationSet"][0]["InvocationStatus"] == "SUCCESS")
    tat("DescribeInvocations")
    tat("DescribeInvocationTasks", {"HideOutput": False})

    res = "qcs::lighthouse:ap-guangzhou:uin/%d:instance/%s" % (O, iid)
    tg = lambda a, p=None: run(sb, "tag", a, p)  # noqa: E731
    tg("TagResources", {"ResourceList": [res], "Tags": [{"TagKey": "cost-center", "TagValue": "cc1"}]})
    tg("GetResources", {"TagFilters": [{"TagKey": "owner", "TagValue": ["carol"]}]})
    tg("UnTagResources", {"ResourceList": [res], "TagKeys": ["cost-center"]})

    # bills are by China-time month (on the sandbox's clock); the local month
    # differs for up to 8 hours at a month's end and would read an empty month
    month = datetime.fromtimestamp(sb.now(), CST).strftime("%Y-%m")
    bl = lambda a, p=None: run(sb, "billing", a, p)  # noqa: E731
    bl("CreateAllocationTag", {"TagKey": ["owner"]})
    bl("DescribeTagList", {"Offset": 0, "Limit": 100})
    bl("DescribeBillResourceSummary", {"Offset": 0, "Limit": 100, "Month": month, "NeedRecordNum": 1})
    bl("DescribeBillSummaryByTag", {"BeginTime": month, "EndTime": month, "TagKey": "owner"})
    bl("DescribeBillSummaryByProduct", {"BeginTime": month, "EndTime": month})
    bl("DescribeCostSummaryByResource", {"BeginTime": month, "EndTime": month, "Offset": 0, "Limit": 100,
                                         "NeedRecordNum": 1, "NeedConditionValue": 1,
                                         "Conditions": {"OrderByCost": "desc"}})
    bl("DescribeCostSummaryByTag", {"BeginTime": month, "EndTime": month, "TagKey": "owner"})
    bl("DeleteAllocationTag", {"TagKey": ["owner"]})

    lh("StopInstances", {"InstanceIds": [iid]})
    wait_for(lambda: state()["InstanceState"] == "STOPPED")
    lh("StartInstances", {"InstanceIds": [iid]})
    wait_for(lambda: state()["InstanceState"] == "RUNNING")
    lh("IsolateInstances", {"InstanceIds": [iid]})
    wait_for(lambda: state()["InstanceState"] == "SHUTDOWN")
    lh("TerminateInstances", {"InstanceIds": [iid]})
    b("DestroyEnv", {"EnvId": e["EnvId"]})

    now = int(time.time())
    run(sb, "cloudaudit", "LookUpEvents", {"StartTime": now - 3600, "EndTime": now + 60, "MaxResults": 50})

    org = lambda a, p=None: run(sb, "organization", a, p)  # noqa: E731
    o = org("CreateOrganization")
    org("DescribeOrganization")
    root = sb.call("organization", "DescribeOrganization")["RootNodeId"]
    n = org("AddOrganizationNode", {"ParentNodeId": root, "Name": "prod",
                                    "Tags": [{"TagKey": "env", "TagValue": "prod"}]})
    org("DescribeOrganizationNodes", {"Offset": 0, "Limit": 50})
    m = org("CreateOrganizationMember", {"Name": "prod", "AccountName": "prod", "PolicyType": "Financial",
                                         "PermissionIds": [1, 2], "NodeId": root,
                                         "Tags": [{"TagKey": "env", "TagValue": "prod"}]})
    org("MoveOrganizationNodeMembers", {"NodeId": n["NodeId"], "MemberUin": [m["Uin"]]})
    org("UpdateOrganizationMember", {"MemberUin": m["Uin"], "Remark": "contract", "IsAllowQuit": "Denied"})
    org("DescribeOrganizationMembers", {"Offset": 0, "Limit": 50})
    wait_for(lambda: sb.call("organization", "DescribeOrganizationMemberAuthIdentities",
                             {"Offset": 0, "Limit": 50, "MemberUin": m["Uin"]})["Items"])
    org("DescribeOrganizationMemberAuthIdentities", {"Offset": 0, "Limit": 50, "MemberUin": m["Uin"]})
    org("DescribePolicyConfig", {"OrganizationId": o["OrgId"]})
    org("EnablePolicyType", {"OrganizationId": o["OrgId"], "PolicyType": "SERVICE_CONTROL_POLICY"})
    scp = org("CreatePolicy", {"Name": "no_audit_off", "Type": "SERVICE_CONTROL_POLICY", "Content": json.dumps(
        {"version": "2.0", "statement": [{"effect": "deny", "action": ["cloudaudit:StopLogging"], "resource": ["*"]}]})})
    org("UpdatePolicy", {"PolicyId": scp["PolicyId"], "Description": "guardrail"})
    org("DescribePolicy", {"PolicyId": scp["PolicyId"]})
    org("ListPolicies", {"Scope": "All"})
    org("AttachPolicy", {"TargetId": n["NodeId"], "TargetType": "NODE", "PolicyId": scp["PolicyId"]})
    org("ListPoliciesForTarget", {"TargetId": n["NodeId"]})
    org("DetachPolicy", {"TargetId": n["NodeId"], "TargetType": "NODE", "PolicyId": scp["PolicyId"]})

    c("DetachRolePolicy", {"PolicyId": pid, "DetachRoleName": "contract-role"})
    c("DeleteRole", {"RoleName": "contract-role"})
    c("DetachUserPolicy", {"PolicyId": pid, "DetachUin": u["Uin"]})
    c("DetachGroupPolicy", {"PolicyId": 2, "DetachGroupId": g["GroupId"]})
    c("DeletePolicy", {"PolicyId": [pid]})
    c("RemoveUserFromGroup", {"Info": [{"GroupId": g["GroupId"], "Uin": u["Uin"]}]})
    c("DeleteGroup", {"GroupId": g["GroupId"]})
    c("DeleteUser", {"Name": "carol", "Force": 1})


with Sandbox("--async-delay-ms", "50") as sb:
    try:
        scenario(sb)
    except Exception as ex:  # a step returned nothing: reported below through `failures`
        failures.append("scenario stopped: %r" % ex)
    t.ok(not problems, "every answer's fields, nested ones too, are in the SDK's Response models",
         "\n".join(problems[:30] + failures[:10]))
    everything = {(s, a) for s, (_v, acts) in served.items() for a in acts}
    t.ok(seen == everything, "the scenario got a successful answer from all %d served actions"
         % len(everything), "never answered: %s\n%s" % (sorted(everything - seen), "\n".join(failures[:20])))
sys.exit(t.done())
