"""CAM policy attachments: Attach/DetachUserPolicy, Attach/DetachGroupPolicy,
ListAttachedUserPolicies, ListAttachedUserAllPolicies (direct and through
groups; PolicyId, StrategyType and CreateMode are strings there, as in the
real API), ListAttachedGroupPolicies.  At most 200 policies per user or group.
Attach/Detach (user or group) are operation-level, checked against "*"
(CAM lists them among the APIs without resource-level authorization); the
ListAttachedUser* reads are checked against qcs::cam::uin/OWNER:uin/SUBUIN.
"""
from . import presets, propagation, util
from .cam_groups import get_group
from .cam_policies import get_any
from .cam_users import by_uin, user_res
from .errors import ApiError
from .registry import action

MAX_ATTACH = 200


def _user(ctx, uin, check=True):
    if check:
        ctx.authorize(user_res(ctx, uin))
    u = by_uin(ctx.data, uin)
    ctx.touch("cam:user", u["Name"])
    return u


def _attach(ctx, kind, ident, holder, pid):
    get_any(ctx, pid)
    key = str(pid)
    if key in holder["policies"]:
        return {}
    if len(holder["policies"]) >= MAX_ATTACH:
        raise ApiError("InvalidParameter.AttachmentFull",
                       "at most %d policies may be attached" % MAX_ATTACH)
    holder["policies"][key] = ctx.now
    propagation.attached(ctx, kind, ident, key)
    return {}


def _detach(ctx, kind, ident, holder, pid):
    get_any(ctx, pid)
    if holder["policies"].pop(str(pid), None) is not None:
        propagation.detached(ctx, kind, ident, pid)
    return {}


@action("cam")
def AttachUserPolicy(ctx):
    u = _user(ctx, ctx.p["AttachUin"], False)
    return _attach(ctx, "user", u["Uin"], u, ctx.p["PolicyId"])


@action("cam")
def DetachUserPolicy(ctx):
    u = _user(ctx, ctx.p["DetachUin"], False)
    return _detach(ctx, "user", u["Uin"], u, ctx.p["PolicyId"])


@action("cam")
def AttachGroupPolicy(ctx):
    g = get_group(ctx.data, ctx.p["AttachGroupId"])
    return _attach(ctx, "group", g["GroupId"], g, ctx.p["PolicyId"])


@action("cam")
def DetachGroupPolicy(ctx):
    g = get_group(ctx.data, ctx.p["DetachGroupId"])
    return _detach(ctx, "group", g["GroupId"], g, ctx.p["PolicyId"])


def attach_info(ctx, pid, ts):
    x = presets.get(ctx.data, pid)
    preset = presets.is_preset(pid)
    return {"PolicyId": int(pid), "PolicyName": x["PolicyName"], "AddTime": util.cst(ts),
            "CreateMode": 1 if preset else 2, "PolicyType": "QCS" if preset else "User",
            "Remark": x["Description"], "OperateOwnerUin": str(ctx.owner),
            "OperateUin": str(ctx.owner), "OperateUinType": 1, "Deactived": 0,
            "DeactivedDetail": []}


def _sorted(holder):
    return sorted(holder["policies"].items(), key=lambda kv: int(kv[0]))


@action("cam", kind="res")
def ListAttachedUserPolicies(ctx):
    u = _user(ctx, ctx.p["TargetUin"])
    rows = [attach_info(ctx, pid, ts) for pid, ts in _sorted(u)]
    total, page = util.page_pr(rows, ctx.p)
    return {"TotalNum": total, "List": page}


@action("cam")
def ListAttachedGroupPolicies(ctx):
    g = get_group(ctx.data, ctx.p["TargetGroupId"])
    kw = ctx.p.get("Keyword", "").lower()
    rows = [attach_info(ctx, pid, ts) for pid, ts in _sorted(g)]
    rows = [r for r in rows if kw in r["PolicyName"].lower()]
    total, page = util.page_pr(rows, ctx.p)
    return {"TotalNum": total, "List": page}


@action("cam", kind="res")
def ListAttachedUserAllPolicies(ctx):
    p = ctx.p
    u = _user(ctx, p["TargetUin"])
    if p["AttachType"] not in (0, 1, 2):
        raise ApiError("InvalidParameter", "AttachType must be 0, 1 or 2")
    found = {}  # pid -> (add time, [groups])
    if p["AttachType"] in (0, 1):
        for pid, ts in _sorted(u):
            found.setdefault(pid, [ts, []])
    if p["AttachType"] in (0, 2):
        for g in sorted(ctx.data["groups"].values(), key=lambda g: g["GroupId"]):
            if str(u["Uin"]) in g["members"]:
                for pid, ts in _sorted(g):
                    found.setdefault(pid, [ts, []])[1].append(
                        {"GroupId": g["GroupId"], "GroupName": g["GroupName"]})
    st, kw = p.get("StrategyType"), p.get("Keyword", "").lower()
    rows = []
    for pid, (ts, groups) in sorted(found.items(), key=lambda kv: int(kv[0])):
        x = presets.get(ctx.data, pid)
        preset = presets.is_preset(pid)
        if st is not None and st != (2 if preset else 1):
            continue
        if kw not in x["PolicyName"].lower():
            continue
        rows.append({"PolicyId": str(pid), "PolicyName": x["PolicyName"],
                     "Description": x["Description"], "AddTime": util.cst(ts),
                     "StrategyType": "2" if preset else "1", "CreateMode": "1" if preset else "2",
                     "Groups": groups, "Deactived": 0, "DeactivedDetail": []})
    total, page = util.page_pr(rows, p)
    return {"PolicyList": page, "TotalNum": total}
