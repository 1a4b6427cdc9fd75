"""Lighthouse: CreateInstances, DescribeInstances, StartInstances,
StopInstances, IsolateInstances, TerminateInstances, DescribeBundles,
DescribeBlueprints.

Every change is asynchronous and takes --async-delay-ms: CreateInstances
PENDING -> RUNNING, StopInstances STOPPING -> STOPPED, StartInstances
STARTING -> RUNNING, IsolateInstances (from RUNNING or STOPPED) -> SHUTDOWN,
TerminateInstances (only from SHUTDOWN, else
UnsupportedOperation.InvalidInstanceState) TERMINATING -> gone.  While an
operation runs, LatestOperationState is OPERATING and a second operation gets
UnsupportedOperation.LatestOperationUnfinished.  Instances are regional
(X-TC-Region) and checked against
qcs::lighthouse:REGION:uin/OWNER:instance/lhins-...; CreateInstances is
operation-level; DescribeInstances lists only what the caller may see.
"""
import base64
import binascii
import re

from . import billing, lighthouse_catalog as cat, util
from .errors import ApiError
from .registry import action

ID_RE = re.compile(r"^lhins-[a-z0-9]{8}$")
PERIODS = set(range(1, 13)) | {24, 36, 48, 60}
TRANSIENT = {"CreateInstances": "PENDING", "StopInstances": "STOPPING",
             "StartInstances": "STARTING", "TerminateInstances": "TERMINATING"}


def inst_res(ctx, inst):
    return ctx.res("lighthouse", inst["region"], "instance/%s" % inst["InstanceId"])


def tick(ctx):
    for iid in list(ctx.data["instances"]):
        i = ctx.data["instances"][iid]
        op = i.get("op")
        if op and op["state"] == "OPERATING" and ctx.now >= op["done_at"]:
            op["state"] = "SUCCESS"
            i["state"] = op["target"]
            if op["target"] == "SHUTDOWN":
                i["isolated_at"] = op["done_at"]
            if op["target"] == "TERMINATED":
                ctx.data["tags"].pop(inst_res(ctx, i), None)
                del ctx.data["instances"][iid]


def state_of(i):
    op = i.get("op")
    if op and op["state"] == "OPERATING" and op["name"] in TRANSIENT:
        return TRANSIENT[op["name"]]
    return i["state"]


def instance_info(ctx, i):
    b, bp = cat.BUNDLES[i["BundleId"]], cat.BLUEPRINTS[i["BlueprintId"]]
    op = i.get("op") or {}
    tags = ctx.data["tags"].get(inst_res(ctx, i), {})
    return {
        "InstanceId": i["InstanceId"], "BundleId": i["BundleId"], "BlueprintId": i["BlueprintId"],
        "CPU": b["CPU"], "Memory": b["Memory"], "InstanceName": i["InstanceName"],
        "InstanceChargeType": "PREPAID",
        "SystemDisk": {"DiskType": b["SystemDiskType"], "DiskSize": b["SystemDiskSize"],
                       "DiskId": "lhdisk-%s" % i["InstanceId"][6:]},
        "PrivateAddresses": [i["private_ip"]], "PublicAddresses": [i["public_ip"]],
        "InternetAccessible": {"InternetChargeType": "FLOW_PACKAGE",
                               "InternetMaxBandwidthOut": b["InternetMaxBandwidthOut"],
                               "PublicIpAssigned": True},
        "RenewFlag": i["RenewFlag"], "LoginSettings": {"KeyIds": i["KeyIds"]},
        "InstanceState": state_of(i), "Uuid": i["Uuid"],
        "LatestOperation": op.get("name", ""), "LatestOperationState": op.get("state", ""),
        "LatestOperationRequestId": op.get("request_id", ""),
        "LatestOperationStartedTime": util.iso(op["started"]) if op else "",
        "IsolatedTime": util.iso(i["isolated_at"]) if i.get("isolated_at") else "",
        "CreatedTime": util.iso(i["created"]), "ExpiredTime": util.iso(i["expires"]),
        "PlatformType": bp["PlatformType"], "Platform": bp["Platform"], "OsName": bp["OsName"],
        "Zone": i["Zone"], "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
        "InstanceRestrictState": "NORMAL", "PublicIpv6Addresses": [],
        "InitInvocationId": i.get("init_invocation", ""),
    }


def check_filters(filters, allowed):
    if len(filters) > 10:
        raise ApiError("InvalidParameterValue.FiltersElementsExceeded", "at most 10 filters")
    for f in filters:
        if f["Name"] not in allowed and not (f["Name"].startswith("tag:") and "tag:" in allowed):
            raise ApiError("InvalidParameter.InvalidFilter", "unknown filter %r" % f["Name"])
        if len(f["Values"]) > 100:
            raise ApiError("InvalidParameterValue.FilterValueLimitExceeded", "at most 100 values")


def filtered(rows, filters, fields):
    """fields: filter name -> function(row) -> list of values it has."""
    for f in filters:
        name = f["Name"]
        get = fields.get(name) or (lambda r, k=name[4:]: [v for kk, v in r["_tags"].items() if kk == k])
        rows = [r for r in rows if set(get(r)) & set(f["Values"])]
    return rows


def _targets(ctx, limit=100):
    ids = ctx.p["InstanceIds"]
    if not 1 <= len(ids) <= limit:
        raise ApiError("InvalidParameterValue", "InstanceIds takes 1 to %d ids" % limit)
    tick(ctx)
    out = []
    for iid in ids:
        if not ID_RE.match(iid):
            raise ApiError("InvalidParameterValue.InstanceIdMalformed", "malformed id %r" % iid)
        i = ctx.data["instances"].get(iid)
        ctx.authorize(ctx.res("lighthouse", i["region"] if i else ctx.region, "instance/%s" % iid))
        if i is None or i["region"] != ctx.region:
            raise ApiError("ResourceNotFound.InstanceIdNotFound", "the instance %s does not exist" % iid)
        ctx.touch("lighthouse:instance", iid)
        if i.get("op") and i["op"]["state"] == "OPERATING":
            raise ApiError("UnsupportedOperation.LatestOperationUnfinished",
                           "the latest operation on %s has not finished" % iid)
        out.append(i)
    return out


def _start_op(ctx, insts, name, allowed_from, target):
    for i in insts:
        if i["state"] not in allowed_from:
            raise ApiError("UnsupportedOperation.InvalidInstanceState",
                           "%s cannot run on %s in state %s" % (name, i["InstanceId"], i["state"]))
    for i in insts:
        i["op"] = {"name": name, "state": "OPERATING", "started": ctx.now,
                   "done_at": ctx.now + ctx.cfg.async_delay, "target": target,
                   "request_id": ctx.request_id}
    return {}


@action("lighthouse")
def CreateInstances(ctx):
    p, d = ctx.p, ctx.data
    tick(ctx)
    b = cat.BUNDLES.get(p["BundleId"])
    if b is None:
        raise ApiError("InvalidParameter.BundleIdNotFound", "no bundle %r" % p["BundleId"])
    bp = cat.BLUEPRINTS.get(p["BlueprintId"])
    if bp is None:
        raise ApiError("ResourceNotFound.BlueprintIdNotFound", "no blueprint %r" % p["BlueprintId"])
    if b["BundleSalesState"] != "AVAILABLE":
        raise ApiError("ResourcesSoldOut.BundleSoldOut", "the bundle %s is sold out" % b["BundleId"])
    if bp["PlatformType"] == "WINDOWS" and not b["SupportWindowsPlatform"]:
        raise ApiError("InvalidParameterValue.BundleAndBlueprintNotMatch",
                       "the bundle %s does not support Windows" % b["BundleId"])
    charge = p["InstanceChargePrepaid"]
    if charge["Period"] not in PERIODS:
        raise ApiError("InvalidParameterValue", "Period must be 1-12, 24, 36, 48 or 60")
    renew = charge.get("RenewFlag", "NOTIFY_AND_MANUAL_RENEW")
    if renew not in ("NOTIFY_AND_AUTO_RENEW", "NOTIFY_AND_MANUAL_RENEW",
                     "DISABLE_NOTIFY_AND_MANUAL_RENEW"):
        raise ApiError("InvalidParameterValue", "RenewFlag %r is not a known value" % renew)
    count = p.get("InstanceCount", 1)
    if not 1 <= count <= 30:
        raise ApiError("InvalidParameterValue", "InstanceCount must be within 1..30")
    zones = p.get("Zones") or ["%s-3" % ctx.region]
    for z in zones:
        if not re.match(r"^%s-\d+$" % re.escape(ctx.region), z):
            raise ApiError("InvalidParameterValue.InvalidZone", "zone %r is not in %s" % (z, ctx.region))
    name = p.get("InstanceName") or "%s-%s" % (bp["DisplayTitle"].replace(" ", ""), util.rand(4))
    if len(name) > 60:
        raise ApiError("InvalidParameterValue", "InstanceName is longer than 60 characters")
    login = p.get("LoginConfiguration") or {}
    if login.get("Password") and bp["PlatformType"] == "LINUX_UNIX":
        raise ApiError("UnsupportedOperation.InstanceLinuxUnixCreatingNotSupportPassword",
                       "Linux instances cannot be created with a password")
    tags = p.get("Tags") or []
    if len(tags) > 10:
        raise ApiError("InvalidParameterValue", "at most 10 tags")
    token = p.get("ClientToken")
    if token is not None and len(token) > 64:
        raise ApiError("InvalidParameterValue", "ClientToken is longer than 64 characters")
    init = p.get("InitCommand")
    if init:
        try:
            base64.b64decode(init["Content"], validate=True)
        except (binascii.Error, ValueError):
            raise ApiError("InvalidParameterValue", "InitCommand.Content is not base64")
    if p.get("DryRun"):
        raise ApiError("DryRunOperation", "the request would have succeeded (DryRun)")
    # A token is the region's: the same token in another region is another
    # request (guessed; tests/sandbox/README.md).
    token_key = token and "%s/%s" % (ctx.region, token)
    if token_key and token_key in d["client_tokens"]:
        return {"InstanceIdSet": list(d["client_tokens"][token_key])}
    ids = []
    for n in range(count):
        iid = "lhins-" + util.rand(8)
        seq = len(d["bills"]) + n + 2
        i = {"InstanceId": iid, "InstanceName": name, "BundleId": b["BundleId"],
             "BlueprintId": bp["BlueprintId"], "region": ctx.region, "Zone": zones[n % len(zones)],
             "created": ctx.now, "expires": ctx.now + charge["Period"] * 30 * 86400,
             "RenewFlag": renew, "state": "PENDING", "KeyIds": login.get("KeyIds", []),
             "private_ip": "10.%d.%d.%d" % (seq // 65536 % 256, seq // 256 % 256, seq % 256),
             "public_ip": "203.0.%d.%d" % (seq // 256 % 256, seq % 256),
             "Uuid": "%s-%s-%s-%s-%s" % (util.rand(8), util.rand(4), util.rand(4), util.rand(4),
                                         util.rand(12)),
             "isolated_at": None}
        _start_op(ctx, [i], "CreateInstances", ("PENDING",), "RUNNING")
        d["instances"][iid] = i
        res = inst_res(ctx, i)
        if tags:
            d["tags"][res] = {t["Key"]: t["Value"] for t in tags}
        billing.start(d, iid, name, "p_lighthouse", ctx.region, ctx.now, cat.price(b["BundleId"]),
                      b["BundleId"], res, billing.operator(ctx))
        if init:
            from .tat import start_invocation
            i["init_invocation"] = start_invocation(
                ctx, [i], init["Content"], "SHELL", init.get("Timeout", 60),
                init.get("WorkingDirectory", "/root"), init.get("Username", "root"), "",
                i["op"]["done_at"], "INIT")
        ids.append(iid)
        ctx.touch("lighthouse:instance", iid)
    if token_key:
        d["client_tokens"][token_key] = ids
    return {"InstanceIdSet": ids}


INSTANCE_FILTERS = {
    "instance-id": lambda r: [r["InstanceId"]],
    "instance-name": lambda r: [r["InstanceName"]],
    "instance-state": lambda r: [r["InstanceState"]],
    "zone": lambda r: [r["Zone"]],
    "bundle-id": lambda r: [r["BundleId"]],
    "blueprint-id": lambda r: [r["BlueprintId"]],
    "private-ip-address": lambda r: r["PrivateAddresses"],
    "public-ip-address": lambda r: r["PublicAddresses"],
    "tag-key": lambda r: list(r["_tags"]),
    "tag-value": lambda r: list(r["_tags"].values()),
    "tag:": None,
}


@action("lighthouse", kind="list")
def DescribeInstances(ctx):
    p = ctx.p
    tick(ctx)
    ids, filters = p.get("InstanceIds"), p.get("Filters") or []
    if ids and filters:
        raise ApiError("InvalidParameter.ParameterConflict", "InstanceIds and Filters are exclusive")
    if ids and len(ids) > 100:
        raise ApiError("InvalidParameterValue", "at most 100 InstanceIds")
    check_filters(filters, INSTANCE_FILTERS)
    rows = []
    for i in sorted(ctx.data["instances"].values(), key=lambda i: (i["created"], i["InstanceId"])):
        if i["region"] != ctx.region or (ids and i["InstanceId"] not in ids):
            continue
        res = inst_res(ctx, i)
        if ids:
            ctx.authorize(res)
        elif not ctx.allowed(res):
            continue
        r = instance_info(ctx, i)
        r["_tags"] = ctx.data["tags"].get(res, {})
        rows.append(r)
    rows = filtered(rows, filters, INSTANCE_FILTERS)
    if p.get("OrderField") == "EXPIRED_TIME":
        rows.sort(key=lambda r: r["ExpiredTime"], reverse=p.get("Order") == "DESC")
    for r in rows:
        del r["_tags"]
    total, page = util.page_ol(rows, p)
    return {"TotalCount": total, "InstanceSet": page}


@action("lighthouse", kind="res")
def StopInstances(ctx):
    if ctx.p.get("StopType", "SOFT_FIRST") not in ("SOFT", "HARD", "SOFT_FIRST"):
        raise ApiError("InvalidParameterValue", "StopType must be SOFT, HARD or SOFT_FIRST")
    return _start_op(ctx, _targets(ctx), "StopInstances", ("RUNNING",), "STOPPED")


@action("lighthouse", kind="res")
def StartInstances(ctx):
    return _start_op(ctx, _targets(ctx), "StartInstances", ("STOPPED",), "RUNNING")


@action("lighthouse", kind="res")
def IsolateInstances(ctx):
    insts = _targets(ctx, 20)
    out = _start_op(ctx, insts, "IsolateInstances", ("RUNNING", "STOPPED"), "SHUTDOWN")
    for i in insts:
        billing.stop(ctx.data, i["InstanceId"], ctx.now, ctx.data["tags"].get(inst_res(ctx, i), {}))
    return out


@action("lighthouse", kind="res")
def TerminateInstances(ctx):
    return _start_op(ctx, _targets(ctx), "TerminateInstances", ("SHUTDOWN",), "TERMINATED")


def _catalog(ctx, items, ids_field, filters_spec):
    p = ctx.p
    ids, filters = p.get(ids_field), p.get("Filters") or []
    if ids and filters:
        raise ApiError("InvalidParameter.ParameterConflict", "%s and Filters are exclusive" % ids_field)
    check_filters(filters, filters_spec)
    rows = [dict(x, _tags={}) for x in items if not ids or x[ids_field[:-1]] in ids]
    rows = filtered(rows, filters, filters_spec)
    for r in rows:
        del r["_tags"]
    return util.page_ol(rows, p)


@action("lighthouse")
def DescribeBundles(ctx):
    total, page = _catalog(ctx, cat.BUNDLES.values(), "BundleIds", {
        "bundle-id": lambda r: [r["BundleId"]],
        "support-platform-type": lambda r: ["LINUX_UNIX"] + (["WINDOWS"] if r["SupportWindowsPlatform"] else []),
        "bundle-type": lambda r: [r["BundleType"]],
        "bundle-state": lambda r: [r["BundleSalesState"]]})
    return {"BundleSet": page, "TotalCount": total}


@action("lighthouse")
def DescribeBlueprints(ctx):
    total, page = _catalog(ctx, cat.BLUEPRINTS.values(), "BlueprintIds", {
        "blueprint-id": lambda r: [r["BlueprintId"]],
        "blueprint-type": lambda r: [r["BlueprintType"]],
        "platform-type": lambda r: [r["PlatformType"]],
        "blueprint-name": lambda r: [r["BlueprintName"]],
        "blueprint-state": lambda r: [r["BlueprintState"]]})
    return {"TotalCount": total, "BlueprintSet": page}
