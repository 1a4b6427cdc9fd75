#!/usr/bin/env python3
"""cam_errors.t: the CAM error codes and limits the sandbox takes from the
SDK's error lists (tencentcloud-sdk-go cam/v20190116 errors.go and the
per-action lists in client.go) and the action docs.

Key actions on a user that does not exist (InvalidParameter.UserNotExist),
on another user's key (OperationDenied.UinNotMatch) and on no key
(ResourceNotFound.SecretNotExist); every role action on a missing role
(InvalidParameter.RoleNotExist), as CloudAudit records it."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import error_code  # noqa: E402

OK = "(success)"
DENIED = "AuthFailure.UnauthorizedOperation"
t = Tap(19)


def code(f):
    return error_code(f, OK)


def doc(*stmts):
    return json.dumps({"version": "2.0", "statement": list(stmts)})


with Sandbox(state=False) as sb:
    cam = lambda a, p=None, **kw: sb.call("cam", a, p, **kw)  # noqa: E731
    GHOST = 100000999999  # no user of the account

    # -- key actions on a user that does not exist ------------------------------
    for a, p in (("ListAccessKeys", {}), ("CreateAccessKey", {}),
                 ("UpdateAccessKey", {"AccessKeyId": "AKIDnone", "Status": "Inactive"}),
                 ("DeleteAccessKey", {"AccessKeyId": "AKIDnone"})):
        t.eq(code(lambda: cam(a, dict(p, TargetUin=GHOST))), "InvalidParameter.UserNotExist",
             "%s with the TargetUin of no user: InvalidParameter.UserNotExist" % a)

    # -- another user's key -----------------------------------------------------
    ann = cam("AddUser", {"Name": "ann", "UseApi": 1})
    bob = cam("AddUser", {"Name": "bob", "UseApi": 1})

    def bob_keys():
        return {k["AccessKeyId"]: k["Status"] for k in
                cam("ListAccessKeys", {"TargetUin": bob["Uin"]})["AccessKeys"]}
    t.eq(code(lambda: cam("DeleteAccessKey", {"AccessKeyId": bob["SecretId"], "TargetUin": ann["Uin"]})),
         "OperationDenied.UinNotMatch", "DeleteAccessKey of bob's key with ann's TargetUin: OperationDenied.UinNotMatch")
    t.eq(code(lambda: cam("UpdateAccessKey", {"AccessKeyId": bob["SecretId"], "TargetUin": ann["Uin"],
                                              "Status": "Inactive"})),
         "OperationDenied.UinNotMatch", "UpdateAccessKey of bob's key with ann's TargetUin: OperationDenied.UinNotMatch")
    t.eq(code(lambda: cam("DeleteAccessKey", {"AccessKeyId": bob["SecretId"]})), "OperationDenied.UinNotMatch",
         "DeleteAccessKey of bob's key without TargetUin (the root's keys): OperationDenied.UinNotMatch")
    t.eq(bob_keys(), {bob["SecretId"]: "Active"}, "... and bob's key is still there and Active")
    t.eq(code(lambda: cam("DeleteAccessKey", {"AccessKeyId": "AKIDnosuchkey", "TargetUin": ann["Uin"]})),
         "ResourceNotFound.SecretNotExist", "a key the account does not have: ResourceNotFound.SecretNotExist")
    t.eq(code(lambda: cam("DeleteAccessKey", {"AccessKeyId": bob["SecretId"], "TargetUin": bob["Uin"]})), OK,
         "bob's key with bob's TargetUin is deleted")

    # -- role actions on a missing role ----------------------------------------
    NR = "InvalidParameter.RoleNotExist"
    trust = doc({"effect": "allow", "action": "name/sts:AssumeRole",
                 "principal": {"qcs": ["qcs::cam::uin/%d:root" % sb.owner_uin]}})
    for a, p in (("GetRole", {"RoleName": "nope"}), ("GetRole", {"RoleId": "4611686018427387999"}),
                 ("DeleteRole", {"RoleName": "nope"}),
                 ("UpdateAssumeRolePolicy", {"RoleName": "nope", "PolicyDocument": trust}),
                 ("UpdateRoleSessionDuration", {"RoleName": "nope", "SessionDuration": 3600}),
                 ("AttachRolePolicy", {"PolicyName": "ReadOnlyAccess", "AttachRoleName": "nope"}),
                 ("DetachRolePolicy", {"PolicyName": "ReadOnlyAccess", "DetachRoleName": "nope"}),
                 ("ListAttachedRolePolicies", {"RoleName": "nope", "Page": 1, "Rp": 20})):
        by = "RoleId" if "RoleId" in p else "name"
        t.eq(code(lambda: cam(a, p)), NR, "%s of a missing role (by %s): %s" % (a, by, NR))

    def events(code_):
        return sb.call("cloudaudit", "LookUpEvents", {
            "StartTime": int(sb.now()) - 600, "EndTime": int(sb.now()) + 600, "MaxResults": 50,
            "LookupAttributes": [{"AttributeKey": "ApiErrorCode", "AttributeValue": code_}]})["Events"]
    t.ok(len(events(NR)) == 8 and not events("ResourceNotFound.RoleNotExist"),
         "CloudAudit records the real code (ApiErrorCode %s), never ResourceNotFound.RoleNotExist" % NR)

sys.exit(t.done())
