"""Billing: DescribeBillResourceSummary, DescribeBillSummaryByTag,
DescribeBillSummaryByProduct.

Bills are derived from each resource's lifetime and a monthly price
(CloudBase personal environment 19.9 CNY, Lighthouse per bundle), prorated
by the second over the bill month in China Standard Time:
    cost(month) = price * seconds alive in month / seconds in month
A resource stops costing when it is isolated or deleted.  Money values are
decimal strings with 8 places.  Every tag key counts as a cost-allocation
key; a key no resource ever carried gets FailedOperation.TagKeyNotExist.
Data is always Ready (1).  Operation-level (resource "*").
"""
import calendar
import re
from datetime import datetime

from . import util
from .errors import ApiError
from .registry import action

BUSINESS = {  # code -> (name, product code, product name)
    "p_tcb": ("云开发CloudBase", "sp_tcb_baas", "云开发-环境"),
    "p_lighthouse": ("轻量应用服务器", "sp_lighthouse_instance", "轻量应用服务器-实例"),
}
REGION_NAMES = {"ap-guangzhou": ("华南地区（广州）", 1), "ap-shanghai": ("华东地区（上海）", 4),
                "ap-beijing": ("华北地区（北京）", 8), "ap-chengdu": ("西南地区（成都）", 16),
                "ap-hongkong": ("港澳台地区（中国香港）", 5), "ap-singapore": ("东南亚地区（新加坡）", 9)}


def start(data, rid, name, code, region, now, monthly, config, res):
    data["bills"][rid] = {"ResourceId": rid, "ResourceName": name, "BusinessCode": code,
                          "region": region, "start": now, "end": None, "monthly": monthly,
                          "config": config, "res": res, "tags": None}


def stop(data, rid, now, tags):
    b = data["bills"].get(rid)
    if b and b["end"] is None:
        b["end"], b["tags"] = now, dict(tags)


def month_bounds(month):
    y, m = int(month[:4]), int(month[5:7])
    start = datetime(y, m, 1, tzinfo=util.CST).timestamp()
    days = calendar.monthrange(y, m)[1]
    return start, start + days * 86400


def parse_month(s, name):
    m = re.match(r"^(\d{4})-(\d{2})(-\d{2}( \d{2}:\d{2}:\d{2})?)?$", s or "")
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ApiError("InvalidParameterValue", "%s %r is not YYYY-MM[-DD[ HH:MM:SS]]" % (name, s))
    return "%s-%s" % (m.group(1), m.group(2))


def span_month(ctx):
    begin = parse_month(ctx.p["BeginTime"], "BeginTime")
    if parse_month(ctx.p["EndTime"], "EndTime") != begin:
        raise ApiError("InvalidParameterValue", "BeginTime and EndTime must be in the same month")
    return begin


def tags_of(data, b):
    return b["tags"] if b["tags"] is not None else data["tags"].get(b["res"], {})


def rows_for(ctx, month):
    """[(bill record, cost, begin, end)] for resources alive in month."""
    lo, hi = month_bounds(month)
    out = []
    for b in sorted(ctx.data["bills"].values(), key=lambda b: (b["start"], b["ResourceId"])):
        end = b["end"] if b["end"] is not None else ctx.now
        a, z = max(lo, b["start"]), min(hi, end)
        if z <= a:
            continue
        out.append((b, b["monthly"] * (z - a) / (hi - lo), a, z))
    return out


def money(x):
    return "%.8f" % x


def ratio(part, whole):
    return "%.2f" % (100.0 * part / whole if whole else 0.0)


@action("billing")
def DescribeBillResourceSummary(ctx):
    p = ctx.p
    month = parse_month(p["Month"], "Month")
    if not 1 <= p["Limit"] <= 1000 or p["Offset"] < 0:
        raise ApiError("InvalidParameterValue", "Limit must be within 1..1000 and Offset >= 0")
    owner = str(ctx.owner)
    rows = []
    for b, cost, a, z in rows_for(ctx, month):
        tags = tags_of(ctx.data, b)
        if p.get("ResourceId") and p["ResourceId"] != b["ResourceId"]:
            continue
        if p.get("BusinessCode") and p["BusinessCode"] != b["BusinessCode"]:
            continue
        if p.get("PayMode") and p["PayMode"] != "prePay":
            continue
        if p.get("TagKey"):
            if p.get("TagValue"):
                if tags.get(p["TagKey"]) != p["TagValue"]:
                    continue
            elif "TagValue" in p and p["TagKey"] in tags:
                continue  # an empty TagValue selects resources without the key
        name, pcode, pname = BUSINESS[b["BusinessCode"]]
        rname, rid = REGION_NAMES.get(b["region"], (b["region"], 0))
        c = money(cost)
        rows.append({
            "BusinessCodeName": name, "ProductCodeName": pname, "PayModeName": "包年包月",
            "ProjectName": "默认项目", "RegionName": rname, "ZoneName": "",
            "ResourceId": b["ResourceId"], "ResourceName": b["ResourceName"],
            "ActionTypeName": "包年包月新购", "OrderId": "", "PayTime": util.cst(b["start"]),
            "FeeBeginTime": util.cst(a), "FeeEndTime": util.cst(z), "ConfigDesc": b["config"],
            "ExtendField1": "", "ExtendField2": "", "ExtendField3": "", "ExtendField4": "",
            "ExtendField5": "", "TotalCost": c, "Discount": "1", "ReduceType": "",
            "RealTotalCost": c, "VoucherPayAmount": money(0), "CashPayAmount": c,
            "IncentivePayAmount": money(0), "TransferPayAmount": money(0),
            "Tags": [{"TagKey": k, "TagValue": v} for k, v in sorted(tags.items())],
            "PayerUin": owner, "OwnerUin": owner, "OperateUin": owner,
            "BusinessCode": b["BusinessCode"], "ProductCode": pcode, "RegionId": rid,
            "InstanceType": "", "BillMonth": month})
    out = {"ResourceSummarySet": rows[p["Offset"]: p["Offset"] + p["Limit"]]}
    if p.get("NeedRecordNum") == 1:
        out["Total"] = len(rows)
    return out


def _summary(cost, total):
    c = money(cost)
    return {"RealTotalCostRatio": ratio(cost, total), "RealTotalCost": c, "CashPayAmount": c,
            "IncentivePayAmount": money(0), "VoucherPayAmount": money(0),
            "TransferPayAmount": money(0), "TotalCost": c}


@action("billing")
def DescribeBillSummaryByTag(ctx):
    month = span_month(ctx)
    key = ctx.p["TagKey"]
    seen = any(key in tags for tags in ctx.data["tags"].values()) or \
        any(key in (b["tags"] or {}) for b in ctx.data["bills"].values())
    if not seen:
        raise ApiError("FailedOperation.TagKeyNotExist", "the tag key %s does not exist" % key)
    by_value = {}
    for b, cost, _a, _z in rows_for(ctx, month):
        v = tags_of(ctx.data, b).get(key, "")
        by_value[v] = by_value.get(v, 0.0) + cost
    if ctx.p.get("TagValue"):
        by_value = {k: v for k, v in by_value.items() if k == ctx.p["TagValue"]}
    total = sum(by_value.values())
    rows = [dict(_summary(c, total), TagValue=v) for v, c in sorted(by_value.items())]
    return {"Ready": 1, "SummaryOverview": rows,
            "SummaryTotal": {"RealTotalCost": money(total), "TotalCost": money(total)}}


@action("billing")
def DescribeBillSummaryByProduct(ctx):
    month = span_month(ctx)
    by_code = {}
    if ctx.p.get("PayType", "consume") == "consume":
        for b, cost, _a, _z in rows_for(ctx, month):
            by_code[b["BusinessCode"]] = by_code.get(b["BusinessCode"], 0.0) + cost
    total = sum(by_code.values())
    rows = [dict(_summary(c, total), BusinessCode=code, BusinessCodeName=BUSINESS[code][0],
                 BillMonth=month) for code, c in sorted(by_code.items())]
    t = money(total)
    return {"Ready": 1, "SummaryOverview": rows,
            "SummaryTotal": {"RealTotalCost": t, "VoucherPayAmount": money(0),
                             "IncentivePayAmount": money(0), "CashPayAmount": t,
                             "TransferPayAmount": money(0), "TotalCost": t}}
