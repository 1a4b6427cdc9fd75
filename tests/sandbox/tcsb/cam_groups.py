"""CAM user groups: CreateGroup, GetGroup, ListGroups, UpdateGroup,
DeleteGroup, AddUserToGroup, RemoveUserFromGroup, ListGroupsForUser,
ListUsersForGroup.  All operation-level (resource "*").

Limits (the fact sheet's CAM use limits) and their codes (the SDK's errors
and the actions' lists, tencentcloud-sdk-go cam/v20190116):
  - 300 groups per account: the 301st CreateGroup gets
    InvalidParameter.GroupFull (用户组数量达到上限);
  - 100 users per group: AddUserToGroup of a 101st user gets
    InvalidParameter.GroupUserFull (用户组中的子用户数量达到上限);
  - 10 groups per user: AddUserToGroup into an 11th group gets
    InvalidParameter.UserGroupFull (子用户加入的用户组数量达到上限).
Adding a user already in the group counts nothing and succeeds.  When
both of the last two hold, GroupUserFull is answered (the order is
guessed).  AddUserToGroup resolves every Info item first (an unknown
group or user changes nothing), then adds them in order: items before
the one over a limit stay added (guessed; a client that copes with this
copes with an all-or-nothing CAM too).
A group name that breaks the rules (1-64 characters from letters, digits
and +=,.@_-, guessed) gets InvalidParameter.ParamError, the only
parameter code in CreateGroup's and UpdateGroup's lists (CAM has no
InvalidParameter.GroupNameError).
"""
from . import propagation, util
from .cam_users import by_uid, by_uin
from .errors import ApiError
from .registry import action

MAX_GROUPS, MAX_MEMBERS, MAX_GROUPS_PER_USER = 300, 100, 10


def get_group(data, gid, code="ResourceNotFound.GroupNotExist"):
    g = data["groups"].get(str(gid))
    if g is None:
        raise ApiError(code, "the user group %s does not exist" % gid)
    return g


def group_info(g):
    return {"GroupId": g["GroupId"], "GroupName": g["GroupName"],
            "CreateTime": util.cst(g["created"]), "Remark": g["Remark"]}


def member_info(u, since):
    return {"Uid": u["Uid"], "Uin": u["Uin"], "Name": u["Name"], "PhoneNum": u["PhoneNum"],
            "CountryCode": u["CountryCode"], "PhoneFlag": 0, "Email": u["Email"],
            "EmailFlag": 0, "UserType": 2, "CreateTime": util.cst(since),
            "IsReceiverOwner": 0, "Remark": u["Remark"]}


def members(data, g):
    return [member_info(data["users"][uin], ts) for uin, ts in
            sorted(g["members"].items(), key=lambda kv: int(kv[0])) if uin in data["users"]]


def check_group_name(name):
    util.check_name(name, "group name", "InvalidParameter.ParamError", 64,
                    r"\w+=,.@-")


@action("cam")
def CreateGroup(ctx):
    d, name = ctx.data, ctx.p["GroupName"]
    check_group_name(name)
    if any(g["GroupName"] == name for g in d["groups"].values()):
        raise ApiError("InvalidParameter.GroupNameInUse", "the group name %s is in use" % name)
    if len(d["groups"]) >= MAX_GROUPS:
        raise ApiError("InvalidParameter.GroupFull", "at most %d user groups" % MAX_GROUPS)
    gid = util.next_seq(d, "group")
    d["groups"][str(gid)] = {"GroupId": gid, "GroupName": name, "Remark": ctx.p.get("Remark", ""),
                             "created": ctx.now, "members": {}, "policies": {}}
    ctx.touch("cam:group", name)
    return {"GroupId": gid}


@action("cam")
def GetGroup(ctx):
    g = get_group(ctx.data, ctx.p["GroupId"])
    rows = members(ctx.data, g)
    return dict(group_info(g), GroupNum=len(rows), UserInfo=rows)


@action("cam")
def ListGroups(ctx):
    kw = ctx.p.get("Keyword", "")
    rows = [group_info(g) for g in sorted(ctx.data["groups"].values(), key=lambda g: g["GroupId"])
            if kw.lower() in g["GroupName"].lower()]
    total, page = util.page_pr(rows, ctx.p)
    return {"TotalNum": total, "GroupInfo": page}


@action("cam")
def UpdateGroup(ctx):
    g = get_group(ctx.data, ctx.p["GroupId"])
    name = ctx.p.get("GroupName")
    if name and name != g["GroupName"]:
        check_group_name(name)
        if any(o["GroupName"] == name for o in ctx.data["groups"].values()):
            raise ApiError("InvalidParameter.GroupNameInUse", "the group name %s is in use" % name)
        g["GroupName"] = name
    if "Remark" in ctx.p:
        g["Remark"] = ctx.p["Remark"]
    ctx.touch("cam:group", g["GroupName"])
    return {}


@action("cam")
def DeleteGroup(ctx):
    g = get_group(ctx.data, ctx.p["GroupId"])
    del ctx.data["groups"][str(g["GroupId"])]
    ctx.touch("cam:group", g["GroupName"])
    return {}


def _pairs(ctx):
    """Resolve Info[] to (group, user) pairs, checking everything first."""
    out = []
    for item in ctx.p["Info"]:
        g = get_group(ctx.data, item["GroupId"], "InvalidParameter.GroupNotExist")
        if item.get("Uin") is not None:
            u = by_uin(ctx.data, item["Uin"])
        elif item.get("Uid") is not None:
            u = by_uid(ctx.data, item["Uid"])
            if u is None:
                raise ApiError("ResourceNotFound.UserNotExist",
                               "the sub-user with uid %s does not exist" % item["Uid"])
        else:
            raise ApiError("InvalidParameter.UserUinAndUinNotAllNull",
                           "each Info item needs Uid or Uin")
        out.append((g, u))
        ctx.touch("cam:group", g["GroupName"])
    return out


@action("cam")
def AddUserToGroup(ctx):
    pairs = _pairs(ctx)
    for g, u in pairs:
        key = str(u["Uin"])
        if key in g["members"]:
            continue
        if len(g["members"]) >= MAX_MEMBERS:
            raise ApiError("InvalidParameter.GroupUserFull",
                           "the group %s already has %d users" % (g["GroupName"], MAX_MEMBERS))
        joined = sum(1 for o in ctx.data["groups"].values() if key in o["members"])
        if joined >= MAX_GROUPS_PER_USER:
            raise ApiError("InvalidParameter.UserGroupFull",
                           "the user %s is already in %d groups" % (u["Name"], MAX_GROUPS_PER_USER))
        g["members"][key] = ctx.now
        propagation.joined(ctx, g["GroupId"], key)
    return {}


@action("cam")
def RemoveUserFromGroup(ctx):
    for g, u in _pairs(ctx):
        if g["members"].pop(str(u["Uin"]), None) is not None:
            propagation.left(ctx, g["GroupId"], u["Uin"])
    return {}


@action("cam")
def ListGroupsForUser(ctx):
    p = ctx.p
    if p.get("SubUin") is not None:
        u = by_uin(ctx.data, p["SubUin"])
    elif p.get("Uid") is not None:
        u = by_uid(ctx.data, p["Uid"])
        if u is None:
            raise ApiError("ResourceNotFound.UserNotExist", "the sub-user does not exist")
    else:
        raise ApiError("MissingParameter", "ListGroupsForUser needs Uid or SubUin")
    rows = [group_info(g) for g in sorted(ctx.data["groups"].values(), key=lambda g: g["GroupId"])
            if str(u["Uin"]) in g["members"]]
    total, page = util.page_pr(rows, p)
    return {"TotalNum": total, "GroupInfo": page}


@action("cam")
def ListUsersForGroup(ctx):
    g = get_group(ctx.data, ctx.p["GroupId"])
    total, page = util.page_pr(members(ctx.data, g), ctx.p)
    return {"TotalNum": total, "UserInfo": page}
