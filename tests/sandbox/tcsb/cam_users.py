"""CAM sub-users: AddUser, GetUser, UpdateUser, DeleteUser, ListUsers,
DescribeSubAccounts, GetUserAppId, GetAccountSummary, DescribeSafeAuthFlagColl.

Times are China time "YYYY-MM-DD hh:mm:ss" (util.cst).  The sandbox has no
console, so a user's last login (GetUser RecentlyLoginTime/RecentlyLoginIP,
DescribeSubAccounts LastLoginTime/LastLoginIp) and its MFA flags
(DescribeSafeAuthFlagColl) are set only through the control channel
(control.py); a user who never logged in has "" for both (guessed).

Users are addressed by Name in Get/Update/DeleteUser and by Uin elsewhere,
as in the real API.  --consistency-delay-ms hides a new user from GetUser.
Resource for user-level checks: qcs::cam::uin/OWNER:uin/SUBUIN.
"""
import hashlib
import re
import string

from . import util
from .errors import ApiError
from .registry import action

MAX_USERS = 1000
# LoginActionFlag's fields, in the SDK's order (DescribeSafeAuthFlagColl).
MFA_FIELDS = ("Phone", "Token", "Stoken", "Wechat", "Custom", "Mail", "U2FToken", "Passkey")
OFFSITE_FIELDS = ("VerifyFlag", "NotifyPhone", "NotifyEmail", "NotifyWechat", "Tips")
SPECIAL = set(string.punctuation)


def user_res(ctx, uin):
    return ctx.res("cam", "", "uin/%s" % uin)


def by_name(data, name):
    for u in data["users"].values():
        if u["Name"] == name:
            return u
    return None


def by_uin(data, uin, code="ResourceNotFound.UserNotExist"):
    u = data["users"].get(str(uin))
    if u is None:
        raise ApiError(code, "the sub-user with uin %s does not exist" % uin)
    return u


def by_uid(data, uid):
    for u in data["users"].values():
        if u["Uid"] == uid:
            return u
    return None


def target_by_name(ctx):
    """The user named by Name, authorized; raises UserNotExist."""
    name = ctx.p["Name"]
    u = by_name(ctx.data, name)
    ctx.authorize(user_res(ctx, u["Uin"] if u else "*"))
    if u is None:
        raise ApiError("ResourceNotFound.UserNotExist", "the sub-user %s does not exist" % name)
    ctx.touch("cam:user", name)
    return u


def check_password(pw):
    ok = (len(pw) >= 8 and re.search(r"[a-z]", pw) and re.search(r"[A-Z]", pw)
          and re.search(r"\d", pw) and any(c in SPECIAL for c in pw))
    if not ok:
        raise ApiError("InvalidParameter.PasswordViolatedRules",
                       "the password must have at least 8 characters with upper and lower case "
                       "letters, a digit and a special character")


def gen_password():
    while True:
        pw = util.rand(32, string.ascii_letters + string.digits + "!@#$%^&*")
        try:
            check_password(pw)
            return pw
        except ApiError:
            pass


def flag(ctx, name):
    v = ctx.p.get(name)
    if v is not None and v not in (0, 1):
        raise ApiError("InvalidParameter", "%s must be 0 or 1" % name)
    return v


def info(u):
    return {k: u[k] for k in ("Uin", "Name", "Uid", "Remark", "ConsoleLogin",
                              "PhoneNum", "CountryCode", "Email")}


@action("cam")
def AddUser(ctx):
    d, p = ctx.data, ctx.p
    name = p["Name"]
    util.check_name(name, "user name", "InvalidParameter.UserNameIllegal")
    if by_name(d, name):
        raise ApiError("InvalidParameter.SubUserNameInUse", "the sub-user name %s is in use" % name)
    if len(d["users"]) >= MAX_USERS:
        raise ApiError("InvalidParameter.SubUserFull", "at most %d sub-users" % MAX_USERS)
    console = flag(ctx, "ConsoleLogin") or 0
    use_api = flag(ctx, "UseApi") or 0
    need_reset = flag(ctx, "NeedResetPassword") or 0
    password, generated = p.get("Password") or "", False
    if password:
        check_password(password)
    elif console:
        password, generated = gen_password(), True
    uin = util.next_seq(d, "uin")
    u = {"Uin": uin, "Uid": util.next_seq(d, "uid"), "Name": name,
         "Remark": p.get("Remark", ""), "ConsoleLogin": console,
         "PhoneNum": p.get("PhoneNum", ""), "CountryCode": p.get("CountryCode", ""),
         "Email": p.get("Email", ""), "NeedResetPassword": need_reset,
         "password_sha256": hashlib.sha256(password.encode()).hexdigest() if password else "",
         "created": ctx.now, "visible_at": ctx.now + ctx.cfg.consistency_delay,
         "policies": {}}
    d["users"][str(uin)] = u
    ctx.touch("cam:user", name)
    out = {"Uin": uin, "Name": name, "Uid": u["Uid"]}
    if generated:
        out["Password"] = password
    if use_api:
        from .cam_keys import new_key
        k = new_key(d, uin, "", ctx.now)
        out["SecretId"], out["SecretKey"] = k["AccessKeyId"], k["secret"]
    return out


@action("cam", kind="res")
def GetUser(ctx):
    u = target_by_name(ctx)
    if ctx.now < u.get("visible_at", 0):
        raise ApiError("ResourceNotFound.UserNotExist",
                       "the sub-user %s does not exist" % u["Name"])
    return dict(info(u), **last_login(u, "RecentlyLoginTime", "RecentlyLoginIP"))


def last_login(u, time_field, ip_field):
    t = u.get("last_login") or 0
    return {time_field: util.cst(t) if t else "",
            ip_field: (u.get("last_login_ip") or "") if t else ""}


@action("cam", kind="res")
def UpdateUser(ctx):
    u = target_by_name(ctx)
    p = ctx.p
    console = flag(ctx, "ConsoleLogin")
    reset = flag(ctx, "NeedResetPassword")
    if p.get("Password"):
        check_password(p["Password"])
        u["password_sha256"] = hashlib.sha256(p["Password"].encode()).hexdigest()
    if console is not None:
        u["ConsoleLogin"] = console
    if reset is not None:
        u["NeedResetPassword"] = reset
    for k in ("Remark", "PhoneNum", "CountryCode", "Email"):
        if k in p:
            u[k] = p[k]
    return {}


@action("cam", kind="res")
def DeleteUser(ctx):
    u = target_by_name(ctx)
    d = ctx.data
    keys = [k for k, v in d["keys"].items() if v["uin"] == u["Uin"]]
    if keys and not ctx.p.get("Force"):
        raise ApiError("OperationDenied.HaveKeys",
                       "the sub-user %s still has %d API keys; delete them first or use Force=1"
                       % (u["Name"], len(keys)))
    # Force=1 deletes the keys first, which needs cam:DeleteApiKey (the
    # DeleteUser doc); without it nothing is deleted.  Checked against the
    # user's resource, like cam:DeleteUser (guessed).
    if keys and not ctx.allowed(user_res(ctx, u["Uin"]), "cam:DeleteApiKey"):
        raise ApiError("UnauthorizedOperation.DeleteApiKey",
                       "deleting the API keys of %s needs cam:DeleteApiKey" % u["Name"])
    for k in keys:
        del d["keys"][k]
    for k in [k for k, v in d["tmpkeys"].items() if v.get("sub_uin") == u["Uin"]]:
        del d["tmpkeys"][k]
    for g in d["groups"].values():
        g["members"].pop(str(u["Uin"]), None)
    d["tags"].pop(user_res(ctx, u["Uin"]), None)
    del d["users"][str(u["Uin"])]
    return {}


@action("cam")
def ListUsers(ctx):
    rows = []
    for u in sorted(ctx.data["users"].values(), key=lambda x: x["Uin"]):
        rows.append(dict(info(u), CreateTime=util.cst(u["created"]), NickName=""))
    return {"Data": rows}


@action("cam")
def DescribeSubAccounts(ctx):
    uins = ctx.p["FilterSubAccountUin"]
    if not 1 <= len(uins) <= 50:
        raise ApiError("InvalidParameter", "FilterSubAccountUin takes 1 to 50 UINs")
    rows = []
    for uin in uins:
        u = ctx.data["users"].get(str(uin))
        if u:
            rows.append({"Uin": u["Uin"], "Name": u["Name"], "Uid": u["Uid"],
                         "Remark": u["Remark"], "CreateTime": util.cst(u["created"]),
                         "UserType": 2, **last_login(u, "LastLoginTime", "LastLoginIp")})
    return {"SubAccounts": rows}


@action("cam", kind="free")
def GetUserAppId(ctx):
    return {"Uin": str(ctx.caller.uin), "OwnerUin": str(ctx.owner), "AppId": ctx.appid}


@action("cam")
def GetAccountSummary(ctx):
    d = ctx.data
    members = sum(len(g["members"]) for g in d["groups"].values())
    return {"Policies": len(d["policies"]), "Roles": len(d["roles"]), "Idps": 0,
            "User": len(d["users"]), "Group": len(d["groups"]), "Member": members,
            "IdentityProviders": 0}


@action("cam", kind="res")
def DescribeSafeAuthFlagColl(ctx):
    uin = ctx.p["SubUin"]
    ctx.authorize(user_res(ctx, uin))
    u = by_uin(ctx.data, uin)
    ctx.touch("cam:user", u["Name"])
    mfa = u.get("mfa") or {}
    flags = {k: {f: int((mfa.get(k) or {}).get(f, 0)) for f in MFA_FIELDS}
             for k in ("LoginFlag", "ActionFlag")}
    return dict(flags, OffsiteFlag={f: 0 for f in OFFSITE_FIELDS}, PromptTrust=0)


# SetMfaFlag takes LoginActionMfaFlag: Phone, Stoken and Wechat only.
SETTABLE_MFA = ("Phone", "Stoken", "Wechat")


@action("cam", kind="res")
def SetMfaFlag(ctx):
    """Sets what a sub-user's console login (LoginFlag) and sensitive
    operations (ActionFlag) require; DescribeSafeAuthFlagColl then shows
    it.  A flag left out keeps its value (guess)."""
    uin = ctx.p.get("OpUin")
    if uin is None:
        raise ApiError("InvalidParameter", "OpUin is required")
    ctx.authorize(user_res(ctx, uin))
    u = by_uin(ctx.data, uin)
    ctx.touch("cam:user", u["Name"])
    mfa = u.setdefault("mfa", {})
    for k in ("LoginFlag", "ActionFlag"):
        given = ctx.p.get(k)
        if isinstance(given, dict):
            flags = mfa.setdefault(k, {})
            for f in SETTABLE_MFA:
                if f in given:
                    if given[f] not in (0, 1):
                        raise ApiError("InvalidParameter", "%s.%s must be 0 or 1" % (k, f))
                    flags[f] = int(given[f])
    return {}
