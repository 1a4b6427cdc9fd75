#!/usr/bin/env python3
"""cam_errors.t: the CAM error codes and limits the sandbox takes from the
SDK's error lists (tencentcloud-sdk-go cam/v20190116 errors.go and the
per-action lists in client.go) and the action docs.

Key actions on a user that does not exist (InvalidParameter.UserNotExist),
on another user's key (OperationDenied.UinNotMatch) and on no key
(ResourceNotFound.SecretNotExist); every role action on a missing role
(InvalidParameter.RoleNotExist), as CloudAudit records it; a bad group
name (InvalidParameter.ParamError); DeleteUser Force=1 and cam:DeleteApiKey
(UnauthorizedOperation.DeleteApiKey); and the three group limits exactly
at their edges: 300 groups (InvalidParameter.GroupFull), 100 users per
group (InvalidParameter.GroupUserFull), 10 groups per user
(InvalidParameter.UserGroupFull)."""
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
t = Tap(51)


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

    # -- group names -------------------------------------------------------------
    t.eq(code(lambda: cam("CreateGroup", {"GroupName": "bad name"})), "InvalidParameter.ParamError",
         "CreateGroup with a space in the name: InvalidParameter.ParamError")
    t.eq(code(lambda: cam("CreateGroup", {"GroupName": "g" * 65})), "InvalidParameter.ParamError",
         "CreateGroup with a 65-character name: InvalidParameter.ParamError")
    g = cam("CreateGroup", {"GroupName": "g" * 64})["GroupId"]
    t.eq(code(lambda: cam("UpdateGroup", {"GroupId": g, "GroupName": "bad/name"})), "InvalidParameter.ParamError",
         "UpdateGroup to a bad name: InvalidParameter.ParamError")
    cam("DeleteGroup", {"GroupId": g})

    # -- DeleteUser Force=1 needs cam:DeleteApiKey --------------------------------
    dora = cam("AddUser", {"Name": "dora", "UseApi": 1})
    as_dora = lambda a, p: sb.call("cam", a, p, dora["SecretId"], dora["SecretKey"])  # noqa: E731
    carl = cam("AddUser", {"Name": "carl", "UseApi": 1})
    erin = cam("AddUser", {"Name": "erin"})
    only_delete = cam("CreatePolicy", {"PolicyName": "del-users", "PolicyDocument": doc(
        {"effect": "allow", "action": "cam:DeleteUser", "resource": "*"})})["PolicyId"]
    cam("AttachUserPolicy", {"PolicyId": only_delete, "AttachUin": dora["Uin"]})
    t.eq(code(lambda: as_dora("DeleteUser", {"Name": "carl"})), "OperationDenied.HaveKeys",
         "DeleteUser of a user with a key, no Force: OperationDenied.HaveKeys")
    t.eq(code(lambda: as_dora("DeleteUser", {"Name": "carl", "Force": 1})), "UnauthorizedOperation.DeleteApiKey",
         "Force=1 with cam:DeleteUser but not cam:DeleteApiKey: UnauthorizedOperation.DeleteApiKey")
    t.ok(code(lambda: cam("GetUser", {"Name": "carl"})) == OK
         and len(cam("ListAccessKeys", {"TargetUin": carl["Uin"]})["AccessKeys"]) == 1,
         "... and neither the user nor the key is deleted")
    t.eq(code(lambda: as_dora("DeleteUser", {"Name": "erin", "Force": 1})), OK,
         "Force=1 on a user without keys needs only cam:DeleteUser")
    keys_pol = cam("CreatePolicy", {"PolicyName": "del-keys", "PolicyDocument": doc(
        {"effect": "allow", "action": "cam:DeleteApiKey", "resource": "*"})})
    t.ok("PolicyId" in keys_pol, "CreatePolicy accepts the documented action cam:DeleteApiKey")
    t.eq(code(lambda: cam("CreatePolicy", {"PolicyName": "x", "PolicyDocument": doc(
        {"effect": "allow", "action": "cam:DeleteApiKeys", "resource": "*"})})),
         "InvalidParameter.ActionNotExist", "... and still refuses a CAM action nobody documents")
    cam("AttachUserPolicy", {"PolicyId": keys_pol["PolicyId"], "AttachUin": dora["Uin"]})
    cam("DetachUserPolicy", {"PolicyId": only_delete, "DetachUin": dora["Uin"]})
    t.eq(code(lambda: as_dora("DeleteUser", {"Name": "carl", "Force": 1})), DENIED,
         "cam:DeleteApiKey without cam:DeleteUser: AuthFailure.UnauthorizedOperation")
    cam("AttachUserPolicy", {"PolicyId": only_delete, "AttachUin": dora["Uin"]})
    t.eq(code(lambda: as_dora("DeleteUser", {"Name": "carl", "Force": 1})), OK,
         "with cam:DeleteUser and cam:DeleteApiKey, Force=1 deletes")
    t.ok(code(lambda: cam("GetUser", {"Name": "carl"})) == "ResourceNotFound.UserNotExist"
         and code(lambda: sb.call("cam", "GetUserAppId", {}, carl["SecretId"], carl["SecretKey"]))
         == "AuthFailure.SecretIdNotFound",
         "... the user and its key are gone")
    deny_keys = cam("CreatePolicy", {"PolicyName": "no-del-keys", "PolicyDocument": doc(
        {"effect": "deny", "action": "cam:DeleteApiKey", "resource": "*"})})["PolicyId"]
    cam("AttachUserPolicy", {"PolicyId": deny_keys, "AttachUin": dora["Uin"]})
    t.eq(code(lambda: as_dora("DeleteUser", {"Name": "ann", "Force": 1})), "UnauthorizedOperation.DeleteApiKey",
         "an explicit deny of cam:DeleteApiKey refuses Force=1")
    t.eq(code(lambda: cam("DeleteUser", {"Name": "ann", "Force": 1})), OK, "the root key may always use Force=1")

# -- the group limits, exactly at their edges ---------------------------------
with Sandbox(state=False) as sb:
    cam = lambda a, p=None: sb.call("cam", a, p)  # noqa: E731
    gids = [cam("CreateGroup", {"GroupName": "g%03d" % i})["GroupId"] for i in range(300)]
    t.eq(cam("GetAccountSummary")["Group"], 300, "300 groups are created")
    t.eq(code(lambda: cam("CreateGroup", {"GroupName": "g300"})), "InvalidParameter.GroupFull",
         "the 301st CreateGroup: InvalidParameter.GroupFull")
    t.eq(cam("ListGroups", {"Keyword": "g300"})["TotalNum"], 0, "... and makes no group")
    cam("DeleteGroup", {"GroupId": gids.pop()})
    t.eq(code(lambda: cam("CreateGroup", {"GroupName": "g300"})), OK, "after deleting one, one more fits")

    users = [cam("AddUser", {"Name": "u%03d" % i})["Uin"] for i in range(102)]
    full = gids[0]
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": full, "Uin": u} for u in users[:100]]})), OK,
         "100 users join one group in one call")
    t.eq(cam("GetGroup", {"GroupId": full})["GroupNum"], 100, "... GetGroup counts 100")
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": full, "Uin": users[100]}]})),
         "InvalidParameter.GroupUserFull", "the 101st user: InvalidParameter.GroupUserFull")
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": full, "Uin": users[5]}]})), OK,
         "adding a member again to the full group succeeds (nothing to add)")
    t.eq(cam("ListUsersForGroup", {"GroupId": full, "Rp": 200})["TotalNum"], 100, "... still 100 members")

    busy = users[101]
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": gid, "Uin": busy} for gid in gids[1:11]]})),
         OK, "one user joins 10 groups")
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": gids[11], "Uin": busy}]})),
         "InvalidParameter.UserGroupFull", "an 11th group: InvalidParameter.UserGroupFull")
    t.eq(cam("ListGroupsForUser", {"SubUin": busy})["TotalNum"], 10, "... ListGroupsForUser shows 10")
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": full, "Uin": busy}]})),
         "InvalidParameter.GroupUserFull", "a user in 10 groups into a full group: GroupUserFull is answered")

    # A batch: items before the one over a limit stay added (guessed).
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": gids[12], "Uin": users[100]},
                                                      {"GroupId": full, "Uin": users[100]}]})),
         "InvalidParameter.GroupUserFull", "a batch whose second item is over the limit is refused")
    t.eq(cam("GetGroup", {"GroupId": gids[12]})["GroupNum"], 1, "... and its first item stays added")

    cam("RemoveUserFromGroup", {"Info": [{"GroupId": full, "Uin": users[0]}]})
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": full, "Uin": users[100]}]})), OK,
         "after one member leaves, the 101st user fits")
    cam("RemoveUserFromGroup", {"Info": [{"GroupId": gids[1], "Uin": busy}]})
    t.eq(code(lambda: cam("AddUserToGroup", {"Info": [{"GroupId": gids[11], "Uin": busy}]})), OK,
         "after leaving one group, the user may join another")
    cam("DeleteUser", {"Name": "u001"})
    t.eq(cam("GetGroup", {"GroupId": full})["GroupNum"], 99, "a deleted user leaves its groups, freeing a place")
sys.exit(t.done())
