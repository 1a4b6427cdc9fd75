"""TCB (CloudBase): CreateEnv, DescribeEnvs, ModifyEnv, DestroyEnv,
DescribeEnvLimit, DescribeBaasPackageList.

Lifecycle: CreateEnv delivers asynchronously (Status UNAVAILABLE for
--async-delay-ms, then NORMAL).  The first DestroyEnv isolates the
environment (Status UNAVAILABLE, Recycle "1"; deleted for good after 15
days); DestroyEnv with IsForce=true deletes at once, isolated or not.
The first DestroyEnv of an environment counts against the deletion caps that
DescribeEnvLimit reports (--tcb-limits); past a cap, DestroyEnv answers
LimitExceeded.  Environments are regional (X-TC-Region, default ap-shanghai)
and are checked against qcs::tcb:REGION:uin/OWNER:env/ENVID; DescribeEnvs
lists only those the caller may see.
"""
import re
from datetime import datetime

from . import billing, util
from .errors import ApiError
from .registry import action

ISOLATION = 15 * 86400
ALIAS_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
RESOURCES = {"flexdb", "storage", "function", "postgresql"}
PACKAGES = {  # PackageName -> (title, CNY per month)
    "baas_personal": ("个人版", 19.9),
    "baas_basic": ("基础版", 59.0),
    "baas_standard": ("标准版", 199.0),
    "baas_pro": ("专业版", 599.0),
}


def env_res(ctx, env):
    return ctx.res("tcb", env["region"], "env/%s" % env["EnvId"])


def tick(ctx):
    """Apply the passage of time: isolated environments past 15 days go."""
    d = ctx.data
    for eid in [e for e, v in d["envs"].items()
                if v.get("isolated_at") and ctx.now - v["isolated_at"] >= ISOLATION]:
        _delete(ctx, d["envs"][eid])


def _delete(ctx, env):
    res = env_res(ctx, env)
    billing.stop(ctx.data, env["EnvId"], ctx.now, ctx.data["tags"].get(res, {}))
    ctx.data["tags"].pop(res, None)
    del ctx.data["envs"][env["EnvId"]]


def status(ctx, env):
    if env.get("isolated_at") or ctx.now < env["ready_at"]:
        return "UNAVAILABLE"
    return "NORMAL"


def check_alias(alias, maxlen):
    if not alias or len(alias) > maxlen or not ALIAS_RE.match(alias):
        raise ApiError("InvalidParameter",
                       "Alias %r: lowercase letters, digits and single inner '-', at most %d "
                       "characters" % (alias, maxlen))


def env_info(ctx, e):
    tags = ctx.data["tags"].get(env_res(ctx, e), {})
    eid, region = e["EnvId"], e["region"]
    bucket = "%s-%d" % (eid, ctx.appid)
    return {
        "EnvId": eid, "Source": "qcloud", "Alias": e["Alias"],
        "CreateTime": util.cst(e["created"]), "UpdateTime": util.cst(e["updated"]),
        "Status": status(ctx, e),
        "Databases": [{"InstanceId": "tnt-%s" % eid[-6:], "Status": "RUNNING",
                       "Region": region, "UpdateTime": util.cst(e["created"])}]
        if "flexdb" in e["Resources"] else [],
        "Storages": [{"Region": region, "Bucket": bucket, "CdnDomain": "%s.tcb.qcloud.la" % bucket,
                      "AppId": str(ctx.appid)}] if "storage" in e["Resources"] else [],
        "Functions": [{"Namespace": eid, "Region": region}] if "function" in e["Resources"] else [],
        "PackageId": e["PackageId"], "PackageName": PACKAGES[e["PackageId"]][0],
        "LogServices": [], "StaticStorages": [], "IsAutoDegrade": False,
        "EnvChannel": "qcloud", "PayMode": "prepayment", "IsDefault": False, "Region": region,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        "CustomLogServices": [], "EnvType": "baas", "IsDauPackage": False,
        "PackageType": "baas", "ArchitectureType": "",
        "Recycle": "1" if e.get("isolated_at") else "",
    }


def _get(ctx, eid):
    """The environment, authorized; ResourceNotFound when absent."""
    tick(ctx)
    e = ctx.data["envs"].get(eid)
    ctx.authorize(ctx.res("tcb", e["region"] if e else ctx.region, "env/%s" % eid))
    if e is None:
        raise ApiError("ResourceNotFound", "The environment %s does not exist" % eid)
    ctx.touch("tcb:env", eid)
    return e


@action("tcb")
def CreateEnv(ctx):
    p, d = ctx.p, ctx.data
    tick(ctx)
    check_alias(p["Alias"], 20)
    if p["PackageId"] not in PACKAGES:
        raise ApiError("InvalidParameter", "PackageId %r is not a package DescribeBaasPackageList "
                       "offers" % p["PackageId"])
    res = p["Resources"]
    if not res or not set(res) <= RESOURCES:
        raise ApiError("InvalidParameter", "Resources must be a non-empty subset of %s"
                       % ", ".join(sorted(RESOURCES)))
    if p.get("Period", 1) not in list(range(1, 13)) + [24]:
        raise ApiError("InvalidParameter", "Period must be 1-12 or 24 months")
    if p.get("RenewFlag", "NOTIFY_AND_MANUAL_RENEW") not in ("NOTIFY_AND_AUTO_RENEW",
                                                             "NOTIFY_AND_MANUAL_RENEW"):
        raise ApiError("InvalidParameter", "RenewFlag is not a known value")
    if p.get("EnableOverrun", "FALSE") not in ("TRUE", "FALSE"):
        raise ApiError("InvalidParameter", "EnableOverrun must be TRUE or FALSE")
    if len(d["envs"]) >= ctx.cfg.tcb_max_envs:
        raise ApiError("LimitExceeded", "the account already has %d environments"
                       % ctx.cfg.tcb_max_envs)
    tags = {t["Key"]: t["Value"] for t in p.get("Tags") or []}
    eid = "%s-%s" % (p["Alias"], util.rand(6))
    e = {"EnvId": eid, "Alias": p["Alias"], "PackageId": p["PackageId"], "region": ctx.region,
         "Resources": sorted(set(res)), "created": ctx.now, "updated": ctx.now,
         "ready_at": ctx.now + ctx.cfg.async_delay, "isolated_at": None,
         "CustomQps": 0}
    d["envs"][eid] = e
    res_str = env_res(ctx, e)
    if tags:
        d["tags"][res_str] = tags
    billing.start(d, eid, p["Alias"], "p_tcb", ctx.region, ctx.now,
                 PACKAGES[p["PackageId"]][1], p["PackageId"], res_str, billing.operator(ctx))
    ctx.touch("tcb:env", eid)
    return {"EnvId": eid}


@action("tcb", kind="list")
def DescribeEnvs(ctx):
    tick(ctx)
    p = ctx.p
    if p.get("EnvId"):
        e = ctx.data["envs"].get(p["EnvId"])
        ctx.authorize(ctx.res("tcb", e["region"] if e else ctx.region, "env/%s" % p["EnvId"]))
        envs = [e] if e and e["region"] == ctx.region else []
    else:
        envs = [e for e in sorted(ctx.data["envs"].values(), key=lambda e: (e["created"], e["EnvId"]))
                if e["region"] == ctx.region and ctx.allowed(env_res(ctx, e))]
    if p.get("Limit") is not None or p.get("Offset"):
        total, envs = util.page_ol(envs, p, default_limit=len(envs) or 1, max_limit=1000)
    else:
        total = len(envs)
    return {"EnvList": [env_info(ctx, e) for e in envs], "Total": total}


@action("tcb", kind="res")
def ModifyEnv(ctx):
    e = _get(ctx, ctx.p["EnvId"])
    if "Alias" in ctx.p:
        check_alias(ctx.p["Alias"], 32)
        e["Alias"] = ctx.p["Alias"]
    if "CustomQps" in ctx.p:
        e["CustomQps"] = ctx.p["CustomQps"]
    e["updated"] = ctx.now
    return {}


def deletes(ctx):
    month = datetime.fromtimestamp(ctx.now, util.CST).strftime("%Y-%m")
    total = ctx.data["env_deletes"]
    monthly = [t for t in total
               if datetime.fromtimestamp(t, util.CST).strftime("%Y-%m") == month]
    return len(monthly), len(total)


@action("tcb", kind="res")
def DestroyEnv(ctx):
    e = _get(ctx, ctx.p["EnvId"])
    force = ctx.p.get("IsForce", False)
    if e.get("isolated_at"):
        if not force:
            raise ApiError("FailedOperation", "the environment %s is already isolated; pass "
                           "IsForce=true to delete it now" % e["EnvId"])
        _delete(ctx, e)
        return {}
    if ctx.now < e["ready_at"]:
        raise ApiError("ResourceInUse", "the environment %s is still being created" % e["EnvId"])
    monthly, total = deletes(ctx)
    if monthly >= ctx.cfg.tcb_max_del_month or total >= ctx.cfg.tcb_max_del_total:
        raise ApiError("LimitExceeded",
                       "environment deletions are capped at %d a month and %d in total; used %d "
                       "this month and %d in total" % (ctx.cfg.tcb_max_del_month,
                                                       ctx.cfg.tcb_max_del_total, monthly, total))
    ctx.data["env_deletes"].append(ctx.now)
    if force:
        _delete(ctx, e)
    else:
        e["isolated_at"] = ctx.now
        e["updated"] = ctx.now
        billing.stop(ctx.data, e["EnvId"], ctx.now, ctx.data["tags"].get(env_res(ctx, e), {}))
    return {}


@action("tcb")
def DescribeEnvLimit(ctx):
    tick(ctx)
    monthly, total = deletes(ctx)
    cfg = ctx.cfg
    return {"MaxEnvNum": cfg.tcb_max_envs, "CurrentEnvNum": len(ctx.data["envs"]),
            "MaxFreeEnvNum": 1, "CurrentFreeEnvNum": 0,
            "MaxDeleteTotal": cfg.tcb_max_del_total, "CurrentDeleteTotal": total,
            "MaxDeleteMonthly": cfg.tcb_max_del_month, "CurrentDeleteMonthly": monthly,
            "MaxFreeTrialNum": 1, "CurrentFreeTrialNum": 0,
            "ChangePayTotal": 0, "CurrentChangePayTotal": 0,
            "ChangePayMonthly": 0, "CurrentChangePayMonthly": 0}


@action("tcb")
def DescribeBaasPackageList(ctx):
    name = ctx.p.get("PackageName")
    rows = []
    for pid, (title, price) in PACKAGES.items():
        if name and name != pid:
            continue
        rows.append({"PackageName": pid, "PackageTitle": title, "GroupName": "baas",
                     "GroupTitle": "云开发", "BillTags": "", "ResourceLimit": "{}",
                     "AdvanceLimit": "{}", "IsExternal": False,
                     "PackageDescription": "%.2f CNY per month (sandbox price)" % price})
    return {"PackageList": rows}
