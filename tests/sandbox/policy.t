#!/usr/bin/env python3
"""policy.t: CAM policy enforcement for sub-user and STS keys: wildcards,
six-segment resources (empty service, region and account segments),
explicit deny, resource-tag and time conditions,
group policies, preset policies, list filtering, STS sessions."""
import json
import os
import sys
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "lib")]
from sandbox import Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import ApiError, call, error_code  # noqa: E402
from tcsb import policy  # noqa: E402

DENIED = "AuthFailure.UnauthorizedOperation"
OK = "(success)"


def doc(*stmts):
    return json.dumps({"version": "2.0", "statement": list(stmts)})


# Pure evaluation cases: (name, statements, action, resource, tags, expected)
R1 = "qcs::tcb:ap-shanghai:uin/1:env/a-1"
CASES = [
    ("exact action and resource", [{"effect": "allow", "action": "tcb:ModifyEnv", "resource": R1}],
     "tcb:ModifyEnv", R1, {}, True),
    ("action wildcard", [{"effect": "allow", "action": "tcb:Modify*", "resource": R1}],
     "tcb:ModifyEnv", R1, {}, True),
    ("other action", [{"effect": "allow", "action": "tcb:Describe*", "resource": R1}],
     "tcb:ModifyEnv", R1, {}, False),
    ("resource wildcard", [{"effect": "allow", "action": "*", "resource": "qcs::tcb:ap-shanghai:uin/1:env/*"}],
     "tcb:ModifyEnv", R1, {}, True),
    ("empty region in policy matches any region", [{"effect": "allow", "action": "*", "resource": "qcs::tcb::uin/1:env/a-1"}],
     "tcb:ModifyEnv", R1, {}, True),
    ("other account", [{"effect": "allow", "action": "*", "resource": "qcs::tcb:ap-shanghai:uin/2:env/*"}],
     "tcb:ModifyEnv", R1, {}, False),
    # The CAM resource doc: an empty account segment is the policy owner's
    # account (uin/1 here), an empty service segment every service.
    ("empty account in policy: the owner's account", [{"effect": "allow", "action": "*",
                                                       "resource": "qcs::tcb:ap-shanghai::env/*"}],
     "tcb:ModifyEnv", R1, {}, True),
    ("empty account in policy: not another account", [{"effect": "allow", "action": "*",
                                                       "resource": "qcs::tcb:ap-shanghai::env/*"}],
     "tcb:ModifyEnv", "qcs::tcb:ap-shanghai:uin/2:env/a-1", {}, False),
    ("empty service in policy: every service", [{"effect": "allow", "action": "*",
                                                 "resource": "qcs:::ap-shanghai:uin/1:*"}],
     "lighthouse:StopInstances", "qcs::lighthouse:ap-shanghai:uin/1:instance/lhins-1", {}, True),
    ("empty service, region and account", [{"effect": "allow", "action": "*", "resource": "qcs:::::env/a-1"}],
     "tcb:ModifyEnv", R1, {}, True),
    ("empty service, other resource path", [{"effect": "allow", "action": "*", "resource": "qcs:::::env/a-2"}],
     "tcb:ModifyEnv", R1, {}, False),
    ("explicit deny wins", [{"effect": "allow", "action": "*", "resource": "*"},
                            {"effect": "deny", "action": "tcb:ModifyEnv", "resource": R1}],
     "tcb:ModifyEnv", R1, {}, False),
    ("operation-level needs resource *", [{"effect": "allow", "action": "*", "resource": "qcs::tcb:ap-shanghai:uin/1:env/*"}],
     "tcb:CreateEnv", "*", {}, False),
    ("string_equal on resource_tag", [{"effect": "allow", "action": "*", "resource": "*",
                                       "condition": {"string_equal": {"qcs:resource_tag": ["owner&ann"]}}}],
     "tcb:ModifyEnv", R1, {"owner": "ann"}, True),
    ("string_equal on resource_tag, other value", [{"effect": "allow", "action": "*", "resource": "*",
                                                    "condition": {"string_equal": {"qcs:resource_tag": ["owner&ann"]}}}],
     "tcb:ModifyEnv", R1, {"owner": "ben"}, False),
    ("for_any_value:string_equal", [{"effect": "allow", "action": "*", "resource": "*",
                                     "condition": {"for_any_value:string_equal": {"qcs:resource_tag": ["x&1", "team&a"]}}}],
     "tcb:ModifyEnv", R1, {"team": "a", "owner": "z"}, True),
    ("date_not_greater_than in the past", [{"effect": "allow", "action": "*", "resource": "*",
                                            "condition": {"date_not_greater_than": {"qcs:current_time": "2001-01-01T00:00:00Z"}}}],
     "tcb:ModifyEnv", R1, {}, False),
    ("date_not_less_than in the past", [{"effect": "allow", "action": "*", "resource": "*",
                                         "condition": {"date_not_less_than": {"qcs:current_time": "2001-01-01T00:00:00Z"}}}],
     "tcb:ModifyEnv", R1, {}, True),
]

# Conditions, each on an allow-all statement: (name, condition, context,
# expected).  The context overrides resource_tags {owner: ann, team: a},
# no request tags, ip 10.1.2.3.  Pairs: one that holds, one that does not,
# so an operator that ignored its negation or qualifier fails one of them.
COND_CASES = [
    ("string_not_equal, other value", {"string_not_equal": {"qcs:resource_tag": ["owner&ben"]}}, {}, True),
    ("string_not_equal, same value", {"string_not_equal": {"qcs:resource_tag": ["owner&ann"]}}, {}, False),
    ("string_not_equal_ignore_case, same but for case",
     {"string_not_equal_ignore_case": {"qcs:resource_tag": ["OWNER&ANN"]}}, {}, False),
    ("string_not_equal_ignore_case, other value",
     {"string_not_equal_ignore_case": {"qcs:resource_tag": ["OWNER&BEN"]}}, {}, True),
    ("string_equal_ignore_case", {"string_equal_ignore_case": {"qcs:resource_tag": ["OWNER&Ann"]}}, {}, True),
    ("string_equal_ignore_case, other value",
     {"string_equal_ignore_case": {"qcs:resource_tag": ["OWNER&Ben"]}}, {}, False),
    ("string_like matches", {"string_like": {"qcs:resource_tag": ["owner&a*"]}}, {}, True),
    ("string_like, no match", {"string_like": {"qcs:resource_tag": ["owner&b*"]}}, {}, False),
    ("string_not_like, matching", {"string_not_like": {"qcs:resource_tag": ["owner&a*"]}}, {}, False),
    ("string_not_like, not matching", {"string_not_like": {"qcs:resource_tag": ["owner&b*"]}}, {}, True),
    ("for_all_value: every tag listed", {"for_all_value:string_equal": {
        "qcs:resource_tag": ["owner&ann", "team&a", "x&1"]}}, {}, True),
    ("for_all_value: one tag not listed", {"for_all_value:string_equal": {
        "qcs:resource_tag": ["owner&ann"]}}, {}, False),
    ("for_any_value: one tag listed", {"for_any_value:string_equal": {
        "qcs:resource_tag": ["owner&ann"]}}, {}, True),
    ("for_any_value:string_not_equal: some tag differs", {"for_any_value:string_not_equal": {
        "qcs:resource_tag": ["owner&ann"]}}, {}, True),
    ("for_any_value:string_not_equal: no tag differs", {"for_any_value:string_not_equal": {
        "qcs:resource_tag": ["owner&ann", "team&a"]}}, {}, False),
    ("for_all_value:string_not_equal: none listed", {"for_all_value:string_not_equal": {
        "qcs:resource_tag": ["owner&ben", "team&b"]}}, {}, True),
    ("for_all_value:string_not_equal: one listed", {"for_all_value:string_not_equal": {
        "qcs:resource_tag": ["owner&ann"]}}, {}, False),
    ("_if_exist: the key is absent", {"string_equal_if_exist": {"qcs:request_tag": ["env&dev"]}}, {}, True),
    ("_if_exist: the key is there and differs", {"string_equal_if_exist": {"qcs:request_tag": ["env&dev"]}},
     {"request_tags": {"env": "prod"}}, False),
    ("_if_exist: the key is there and matches", {"string_equal_if_exist": {"qcs:request_tag": ["env&dev"]}},
     {"request_tags": {"env": "dev"}}, True),
    ("no _if_exist: an absent key fails", {"string_equal": {"qcs:request_tag": ["env&dev"]}}, {}, False),
    ("string_not_equal_if_exist: absent", {"string_not_equal_if_exist": {"qcs:request_tag": ["env&prod"]}},
     {}, True),
    ("string_not_equal_if_exist: there, the refused value",
     {"string_not_equal_if_exist": {"qcs:request_tag": ["env&prod"]}}, {"request_tags": {"env": "prod"}}, False),
    ("ip_equal inside the CIDR", {"ip_equal": {"qcs:ip": ["10.0.0.0/8"]}}, {}, True),
    ("ip_equal outside the CIDR", {"ip_equal": {"qcs:ip": ["192.168.0.0/16"]}}, {}, False),
    ("ip_equal, one of several CIDRs", {"ip_equal": {"qcs:ip": ["192.168.0.0/16", "10.1.2.3/32"]}}, {}, True),
    ("ip_not_equal inside the CIDR", {"ip_not_equal": {"qcs:ip": ["10.0.0.0/8"]}}, {}, False),
    ("ip_not_equal outside the CIDR", {"ip_not_equal": {"qcs:ip": ["192.168.0.0/16"]}}, {}, True),
    ("ip_equal, IPv6 caller", {"ip_equal": {"qcs:ip": ["2001:db8::/32"]}}, {"ip": "2001:db8::7"}, True),
    ("date_not_equal, another time", {"date_not_equal": {"qcs:current_time": "2001-01-01T00:00:00Z"}}, {}, True),
    ("date_not_equal, the same time", {"date_not_equal": {"qcs:current_time": "2026-06-01T00:00:00Z"}}, {},
     False),
    ("null_equal true, absent key", {"null_equal": {"qcs:request_tag": ["true"]}}, {}, True),
    ("null_equal true, present key", {"null_equal": {"qcs:request_tag": ["true"]}},
     {"request_tags": {"env": "dev"}}, False),
    ("two operators: both must hold", {"string_equal": {"qcs:resource_tag": ["owner&ann"]},
                                       "ip_equal": {"qcs:ip": ["192.168.0.0/16"]}}, {}, False),
]

t = Tap(len(CASES) + len(COND_CASES) + 14)
for name, stmts, act, res, tags, want in CASES:
    parsed = policy.parse_document(doc(*stmts))
    env = {"resource_tags": tags, "request_tags": None, "current_time": "2026-06-01T00:00:00Z", "ip": "127.0.0.1",
           "owner_uin": 1}
    t.eq(policy.evaluate([parsed], act, res, env), want, "evaluate: " + name)
for name, cond, ctx, want in COND_CASES:
    parsed = policy.parse_document(doc({"effect": "allow", "action": "*", "resource": "*", "condition": cond}))
    env = {"resource_tags": {"owner": "ann", "team": "a"}, "request_tags": None,
           "current_time": "2026-06-01T00:00:00Z", "ip": "10.1.2.3"}
    env.update(ctx)
    t.eq(policy.evaluate([parsed], "tcb:ModifyEnv", R1, env), want, "condition: " + name)


def code(f):
    return error_code(f, OK)


with Sandbox("--async-delay-ms", "50") as sb:
    O = sb.owner_uin
    u = sb.call("cam", "AddUser", {"Name": "pat", "UseApi": 1})
    sid, skey = u["SecretId"], u["SecretKey"]
    as_pat = lambda svc, a, p=None, **kw: sb.call(svc, a, p, sid, skey, **kw)  # noqa: E731
    t.eq(code(lambda: as_pat("cam", "ListUsers")), DENIED, "a sub-user with no policy is refused")
    t.eq(code(lambda: as_pat("cam", "GetUserAppId")), OK, "GetUserAppId needs no permission")

    g = sb.call("cam", "CreateGroup", {"GroupName": "readers"})
    sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": g["GroupId"], "Uid": u["Uid"]}]})
    ro = sb.call("cam", "ListPolicies", {"Scope": "QCS", "Keyword": "ReadOnlyAccess"})["List"]
    ro_id = [p for p in ro if p["PolicyName"] == "ReadOnlyAccess"][0]["PolicyId"]
    sb.call("cam", "AttachGroupPolicy", {"PolicyId": ro_id, "AttachGroupId": g["GroupId"]})
    t.eq(code(lambda: as_pat("cam", "ListUsers")), OK, "the preset ReadOnlyAccess through a group allows ListUsers")
    t.eq(code(lambda: as_pat("cam", "AddUser", {"Name": "x"})), DENIED, "... but not AddUser")

    deny = sb.call("cam", "CreatePolicy", {"PolicyName": "no-list", "PolicyDocument": doc(
        {"effect": "deny", "action": "cam:ListUsers", "resource": "*"})})
    sb.call("cam", "AttachUserPolicy", {"PolicyId": deny["PolicyId"], "AttachUin": u["Uin"]})
    t.eq(code(lambda: as_pat("cam", "ListUsers")), DENIED, "an explicit deny beats the group's allow")

    lh = sb.call("lighthouse", "CreateInstances", {"BundleId": "bundle_gen_mc_med4_02", "BlueprintId": "lhbp-a1ubu224",
                                                   "InstanceChargePrepaid": {"Period": 1}})["InstanceIdSet"][0]
    t.eq(as_pat("lighthouse", "DescribeInstances")["TotalCount"], 1,
         "ReadOnlyAccess lets pat list Lighthouse instances")
    t.eq(code(lambda: as_pat("lighthouse", "StopInstances", {"InstanceIds": [lh]})), DENIED,
         "... but not stop one")

    envs = [sb.call("tcb", "CreateEnv", {"Alias": a, "PackageId": "baas_personal", "Resources": ["flexdb"],
                                         "Tags": [{"Key": "team", "Value": a}]}, region="ap-shanghai")["EnvId"]
            for a in ("red", "blue")]
    sb.call("cam", "RemoveUserFromGroup", {"Info": [{"GroupId": g["GroupId"], "Uin": u["Uin"]}]})
    tagged = sb.call("cam", "CreatePolicy", {"PolicyName": "team-red", "PolicyDocument": doc(
        {"effect": "allow", "action": "tcb:*", "resource": "*",
         "condition": {"string_equal": {"qcs:resource_tag": ["team&red"]}}})})
    sb.call("cam", "AttachUserPolicy", {"PolicyId": tagged["PolicyId"], "AttachUin": u["Uin"]})
    listed = as_pat("tcb", "DescribeEnvs", region="ap-shanghai")["EnvList"]
    t.eq([e["EnvId"] for e in listed], envs[:1], "DescribeEnvs lists only environments whose tag matches the condition")
    sb.call("cam", "DetachUserPolicy", {"PolicyId": tagged["PolicyId"], "DetachUin": u["Uin"]})
    for name, res in (("an empty account segment (the owner's)", "qcs::tcb:ap-shanghai::env/*"),
                      ("an empty service segment (every service)", "qcs:::ap-shanghai:uin/%d:env/*" % O)):
        pid = sb.call("cam", "CreatePolicy", {"PolicyName": "blank-%d" % len(res), "PolicyDocument": doc(
            {"effect": "allow", "action": "tcb:DescribeEnvs", "resource": res})})["PolicyId"]
        sb.call("cam", "AttachUserPolicy", {"PolicyId": pid, "AttachUin": u["Uin"]})
        listed = as_pat("tcb", "DescribeEnvs", region="ap-shanghai")["EnvList"]
        t.eq(sorted(e["EnvId"] for e in listed), sorted(envs), "a live policy with %s covers the account's environments"
             % name)
        sb.call("cam", "DetachUserPolicy", {"PolicyId": pid, "DetachUin": u["Uin"]})

    trust = doc({"effect": "allow", "action": "name/sts:AssumeRole",
                 "principal": {"qcs": ["qcs::cam::uin/%d:root" % O]}})
    sb.call("cam", "CreateRole", {"RoleName": "tcb-admin", "PolicyDocument": trust})
    sb.call("cam", "AttachRolePolicy", {"PolicyName": "QcloudTCBFullAccess", "AttachRoleName": "tcb-admin"})
    arn = "qcs::cam::uin/%d:roleName/tcb-admin" % O
    cred = sb.call("sts", "AssumeRole", {"RoleArn": arn, "RoleSessionName": "t1"})["Credentials"]
    tmp = lambda svc, a, p=None, **kw: call(sb.url, svc, a, p or {}, cred["TmpSecretId"], cred["TmpSecretKey"],  # noqa: E731
                                            token=cred["Token"], **kw)
    t.eq(len(tmp("tcb", "DescribeEnvs", region="ap-shanghai")["EnvList"]), 2, "a role session may do what the role allows")
    t.eq(code(lambda: tmp("cam", "ListUsers")), DENIED, "... and nothing else")
    narrow = quote(doc({"effect": "allow", "action": "tcb:DescribeEnvs",
                        "resource": "qcs::tcb:ap-shanghai:uin/%d:env/%s" % (O, envs[1])}))
    cred = sb.call("sts", "AssumeRole", {"RoleArn": arn, "RoleSessionName": "t2", "Policy": narrow})["Credentials"]
    t.eq([e["EnvId"] for e in tmp("tcb", "DescribeEnvs", region="ap-shanghai")["EnvList"]], envs[1:],
         "a session policy narrows the role to one environment")
    t.eq(code(lambda: sb.call("sts", "AssumeRole", {"RoleArn": arn, "RoleSessionName": "t3"}, sid, skey)), DENIED,
         "a sub-user without sts:AssumeRole on the role cannot assume it")
sys.exit(t.done())
