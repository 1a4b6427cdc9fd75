"""Billing: bills by resource, product and tag, consumption by resource and
tag, and cost-allocation tags.

    DescribeBillResourceSummary, DescribeBillSummaryByProduct,
    DescribeBillSummaryByTag, DescribeCostSummaryByResource,
    DescribeCostSummaryByTag, CreateAllocationTag, DeleteAllocationTag,
    DescribeTagList

Bills are derived from each resource's lifetime and a monthly price
(CloudBase environment by package, Lighthouse per bundle), prorated by the
second over the bill month in China Standard Time, on the sandbox's clock:
    line(resource, month) = round_half_up(price * seconds alive in month
                                          / seconds in month, 0.01)
Each resource line is rounded to the cent first; every total (by product, by
tag, the summary totals, Total of DescribeCostSummaryByResource) is the exact
sum of the rounded lines, so lines always add up to the totals.  Money values
are decimal strings with 8 places ("12.34000000").  A resource stops costing
when it is isolated or deleted.  The running month holds the spend up to now;
a month that has not begun has no lines (empty lists, totals 0).

OperateUin is the identity that created the resource (root or sub-user UIN;
a role session's RoleId; a federation token's issuing sub-user, else the
root); OwnerUin and PayerUin are the account.

Cost-allocation tags (CreateAllocationTag/DeleteAllocationTag, listed by
DescribeTagList): only allocation keys appear in bills.  The documented rule
is "tag information shows in bills from the month the key was set; bills
generated before do not change"; the sandbox reads it as: a key counts for a
month when it is an allocation key at the month's close (for the running
month: now).  A key that does not count shows nowhere in that month's lines,
and DescribeBillSummaryByTag puts all that month's spend under TagValue "".
A key that never was an allocation key: FailedOperation.TagKeyNotExist.

Ready=0: the control channel's SetBillNotReady marks a month; the summaries
(ByProduct, ByTag, CostSummaryByResource/ByTag) then answer Ready 0 with no
data, and DescribeBillResourceSummary (which has no Ready field)
FailedOperation.SummaryDataNotReady.  Operation-level (resource "*").
"""
import calendar
import json
import re
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

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
CENT = Decimal("0.01")
ZERO = Decimal(0)
MAX_ALLOCATION_KEYS = 15  # "分账标签最多只可设置15个" (Billing docs, 555/32276)
ACTION_TYPE = "包年包月新购"


def operator(ctx):
    """OperateUin of a resource ctx's caller creates."""
    c = ctx.caller
    if c.kind == "role":
        return str(c.tmp.get("role_id", c.uin))
    if c.kind == "federated":
        return str(c.tmp.get("sub_uin") or c.uin)
    return str(c.uin)


def start(data, rid, name, code, region, now, monthly, config, res, operate=None):
    data["bills"][rid] = {"ResourceId": rid, "ResourceName": name, "BusinessCode": code,
                          "region": region, "start": now, "end": None, "monthly": monthly,
                          "config": config, "res": res, "tags": None,
                          "operate": operate or str(data["owner_uin"])}


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


# -- cost-allocation keys ------------------------------------------------

def alloc_state(data):
    """{key: [[set_time, unset_time or None], ...]} (kept in the state)."""
    return data.setdefault("alloc_tags", {})


def alloc_active(spans, t):
    return any(s <= t and (u is None or t < u) for s, u in spans)


def alloc_keys(data, month, now):
    """The keys that count in month's bill: allocation keys at its close."""
    _lo, hi = month_bounds(month)
    t = min(hi - 0.001, now)
    return {k for k, spans in alloc_state(data).items() if alloc_active(spans, t)}


def known_keys(data):
    keys = set()
    for tags in data["tags"].values():
        keys.update(tags)
    for b in data["bills"].values():
        keys.update(b["tags"] or {})
    return keys


# -- lines ----------------------------------------------------------------

def not_ready(data, month):
    return month in data.get("bill_not_ready", [])


def cost_of(b, a, z, lo, hi):
    """The line's amount: price * seconds / month seconds, half up to cents."""
    exact = Decimal(repr(float(b["monthly"]))) * Decimal(repr(float(z - a))) / Decimal(repr(float(hi - lo)))
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def lines(ctx, month):
    """[(bill record, Decimal cost, begin, end, {allocation tags})] for the
    resources alive in month, in creation order."""
    lo, hi = month_bounds(month)
    keys = alloc_keys(ctx.data, month, ctx.now)
    out = []
    for b in sorted(ctx.data["bills"].values(), key=lambda b: (b["start"], b["ResourceId"])):
        end = b["end"] if b["end"] is not None else ctx.now
        a, z = max(lo, b["start"]), min(hi, end)
        if z <= a:
            continue
        tags = {k: v for k, v in tags_of(ctx.data, b).items() if k in keys}
        out.append((b, cost_of(b, a, z, lo, hi), a, z, tags))
    return out


def fee_end(z, month):
    """A line running to the month's end ends at its last second (23:59:59)."""
    return util.cst(min(z, month_bounds(month)[1] - 1))


def money(x):
    return "%.8f" % Decimal(x).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(part, whole):
    if not whole:
        return "0.00"
    return "%.2f" % (Decimal(100) * part / whole).quantize(CENT, rounding=ROUND_HALF_UP)


def tag_match(tags, p):
    """TagKey/TagValue filter: an empty TagValue selects lines without the key."""
    if not p.get("TagKey"):
        return True
    if p.get("TagValue"):
        return tags.get(p["TagKey"]) == p["TagValue"]
    if "TagValue" in p:
        return p["TagKey"] not in tags
    return p["TagKey"] in tags


@action("billing")
def DescribeBillResourceSummary(ctx):
    p = ctx.p
    month = parse_month(p["Month"], "Month")
    if not 1 <= p["Limit"] <= 1000 or p["Offset"] < 0:
        raise ApiError("InvalidParameterValue", "Limit must be within 1..1000 and Offset >= 0")
    if not_ready(ctx.data, month):
        raise ApiError("FailedOperation.SummaryDataNotReady",
                       "the summary of %s is being built, please try again later" % month)
    owner = str(ctx.owner)
    rows = []
    for b, cost, a, z, tags in lines(ctx, month):
        if p.get("ResourceId") and p["ResourceId"] != b["ResourceId"]:
            continue
        if p.get("BusinessCode") and p["BusinessCode"] != b["BusinessCode"]:
            continue
        if p.get("PayMode") and p["PayMode"] != "prePay":
            continue
        if p.get("ActionType") and p["ActionType"] != ACTION_TYPE:
            continue
        if p.get("PayerUin") and p["PayerUin"] != owner:
            continue
        if not tag_match(tags, p):
            continue
        name, pcode, pname = BUSINESS[b["BusinessCode"]]
        rname, rid = REGION_NAMES.get(b["region"], (b["region"], 0))
        c = money(cost)
        rows.append({
            "BusinessCodeName": name, "ProductCodeName": pname, "PayModeName": "包年包月",
            "ProjectName": "默认项目", "RegionName": rname, "ZoneName": "",
            "ResourceId": b["ResourceId"], "ResourceName": b["ResourceName"],
            "ActionTypeName": ACTION_TYPE, "OrderId": "", "PayTime": util.cst(b["start"]),
            "FeeBeginTime": util.cst(a), "FeeEndTime": fee_end(z, month), "ConfigDesc": b["config"],
            "ExtendField1": "", "ExtendField2": "", "ExtendField3": "", "ExtendField4": "",
            "ExtendField5": "", "TotalCost": c, "Discount": "1", "ReduceType": "",
            "RealTotalCost": c, "VoucherPayAmount": money(0), "CashPayAmount": c,
            "IncentivePayAmount": money(0), "TransferPayAmount": money(0),
            "Tags": [{"TagKey": k, "TagValue": v} for k, v in sorted(tags.items())],
            "PayerUin": owner, "OwnerUin": owner, "OperateUin": b.get("operate", owner),
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


def _by_tag(ctx, value_filter=True):
    month = span_month(ctx)
    key = ctx.p["TagKey"]
    if key not in alloc_state(ctx.data):
        raise ApiError("FailedOperation.TagKeyNotExist",
                       "the cost allocation tag key %s does not exist" % key)
    if not_ready(ctx.data, month):
        return {"Ready": 0, "SummaryOverview": [], "SummaryTotal": None}
    by_value = {}
    for _b, cost, _a, _z, tags in lines(ctx, month):
        v = tags.get(key, "")
        by_value[v] = by_value.get(v, ZERO) + cost
    if value_filter and ctx.p.get("TagValue"):
        by_value = {k: v for k, v in by_value.items() if k == ctx.p["TagValue"]}
    total = sum(by_value.values(), ZERO)
    rows = [dict(_summary(c, total), TagValue=v) for v, c in sorted(by_value.items())]
    return {"Ready": 1, "SummaryOverview": rows,
            "SummaryTotal": {"RealTotalCost": money(total), "TotalCost": money(total)}}


@action("billing")
def DescribeBillSummaryByTag(ctx):
    return _by_tag(ctx)


@action("billing")
def DescribeCostSummaryByTag(ctx):
    return _by_tag(ctx, value_filter=False)  # the SDK's request has no TagValue


@action("billing")
def DescribeBillSummaryByProduct(ctx):
    month = span_month(ctx)
    if not_ready(ctx.data, month):
        return {"Ready": 0, "SummaryOverview": [], "SummaryTotal": None}
    by_code = {}
    if ctx.p.get("PayType", "consume") == "consume":
        for b, cost, _a, _z, _t in lines(ctx, month):
            by_code[b["BusinessCode"]] = by_code.get(b["BusinessCode"], ZERO) + cost
    total = sum(by_code.values(), ZERO)
    rows = [dict(_summary(c, total), BusinessCode=code, BusinessCodeName=BUSINESS[code][0],
                 BillMonth=month) for code, c in sorted(by_code.items())]
    t = money(total)
    return {"Ready": 1, "SummaryOverview": rows,
            "SummaryTotal": {"RealTotalCost": t, "VoucherPayAmount": money(0),
                             "IncentivePayAmount": money(0), "CashPayAmount": t,
                             "TransferPayAmount": money(0), "TotalCost": t}}


@action("billing")
def DescribeCostSummaryByResource(ctx):
    p = ctx.p
    month = span_month(ctx)
    if not 1 <= p["Limit"] <= 100 or p["Offset"] < 0:
        raise ApiError("InvalidParameterValue", "Limit must be within 1..100 and Offset >= 0")
    if p.get("TagKey") and p["TagKey"] not in alloc_state(ctx.data):
        raise ApiError("FailedOperation.TagKeyNotExist",
                       "the cost allocation tag key %s does not exist" % p["TagKey"])
    if not_ready(ctx.data, month):
        return {"Ready": 0, "Total": None, "Data": [], "RecordNum": None}
    cond = p.get("Conditions") or {}
    owner = str(ctx.owner)
    rows, total = [], ZERO
    business, regions = {}, {}
    for b, cost, a, z, tags in lines(ctx, month):
        name, pcode, pname = BUSINESS[b["BusinessCode"]]
        rname, rid = REGION_NAMES.get(b["region"], (b["region"], 0))
        kw = cond.get("ResourceKeyword")
        if kw and kw not in b["ResourceId"] and kw not in b["ResourceName"]:
            continue
        if cond.get("RegionIds") and rid not in cond["RegionIds"]:
            continue
        if cond.get("ProjectIds") and 0 not in cond["ProjectIds"]:
            continue
        if cond.get("PayModes") and "prePay" not in cond["PayModes"]:
            continue
        if cond.get("BusinessCodes") and b["BusinessCode"] not in cond["BusinessCodes"]:
            continue
        if cond.get("HideFreeCost") == 1 and cost == 0:
            continue
        if p.get("PayerUin") and p["PayerUin"] != owner:
            continue
        if not tag_match(tags, p):
            continue
        business[b["BusinessCode"]] = name
        regions[str(rid)] = rname
        total += cost
        days = max(1, -(-int(z - a) // 86400))
        c = money(cost)
        rows.append((cost, {
            "ResourceId": b["ResourceId"], "ResourceName": b["ResourceName"],
            "RealTotalCost": c, "CashPayAmount": c, "ProjectId": "0", "ProjectName": "默认项目",
            "RegionId": str(rid), "RegionName": rname, "PayMode": "prePay", "PayModeName": "包年包月",
            "BusinessCode": b["BusinessCode"], "BusinessCodeName": name,
            "ConsumptionTypeName": "包年包月", "RealCost": c,
            "FeeBeginTime": util.cst(a), "FeeEndTime": fee_end(z, month), "DayDiff": str(days),
            "DailyTotalCost": money(cost / days), "OrderId": "",
            "VoucherPayAmount": money(0), "IncentivePayAmount": money(0),
            "TransferPayAmount": money(0), "PayerUin": owner, "OwnerUin": owner,
            "OperateUin": b.get("operate", owner), "ProductCode": pcode, "ProductCodeName": pname,
            "RegionType": "1", "RegionTypeName": "中国大陆" if rid not in (5, 9) else "境外",
            "Extend1": "", "Extend2": "", "Extend3": "", "Extend4": "", "Extend5": "",
            "InstanceType": "", "InstanceTypeName": "", "PayTime": util.cst(b["start"]),
            "ZoneName": "", "ComponentConfig": b["config"],
            "Tags": json.dumps([{"TagKey": k, "TagValue": v} for k, v in sorted(tags.items())],
                               ensure_ascii=False, separators=(",", ":")),
            "LeftRealTotalCost": money(0)}))
    order = cond.get("OrderByCost")
    if order in ("asc", "desc"):
        rows.sort(key=lambda r: r[0], reverse=order == "desc")
    page = [r for _c, r in rows[p["Offset"]: p["Offset"] + p["Limit"]]]
    out = {"Ready": 1, "Total": {"RealTotalCost": money(total)}, "Data": page}
    if p.get("NeedRecordNum") == 1:
        out["RecordNum"] = len(rows)
    if p.get("NeedConditionValue") == 1:
        out["ConditionValue"] = {
            "Business": [{"BusinessCode": k, "BusinessCodeName": v} for k, v in sorted(business.items())],
            "Project": [{"ProjectId": "0", "ProjectName": "默认项目"}] if rows else [],
            "Region": [{"RegionId": k, "RegionName": v} for k, v in sorted(regions.items())],
            "PayMode": [{"PayMode": "prePay", "PayModeName": "包年包月"}] if rows else []}
    return out


# -- cost-allocation tag actions ------------------------------------------------

@action("billing")
def CreateAllocationTag(ctx):
    keys = list(dict.fromkeys(ctx.p["TagKey"]))
    if not keys:
        raise ApiError("InvalidParameterValue", "TagKey must name at least one tag key")
    known = known_keys(ctx.data)
    for k in keys:
        if k not in known:
            raise ApiError("FailedOperation.TagKeyNotExist", "no resource carries the tag key %s" % k)
    state = alloc_state(ctx.data)
    active = {k for k, spans in state.items() if alloc_active(spans, ctx.now)}
    new = [k for k in keys if k not in active]
    if len(active) + len(new) > MAX_ALLOCATION_KEYS:
        raise ApiError("InvalidParameterValue", "at most %d cost allocation tag keys; %d are set"
                       % (MAX_ALLOCATION_KEYS, len(active)))
    for k in new:
        state.setdefault(k, []).append([ctx.now, None])
    return {}


@action("billing")
def DeleteAllocationTag(ctx):
    keys = list(dict.fromkeys(ctx.p["TagKey"]))
    state = alloc_state(ctx.data)
    for k in keys:
        if not alloc_active(state.get(k, []), ctx.now):
            raise ApiError("FailedOperation.TagKeyNotExist", "%s is not a cost allocation tag key" % k)
    for k in keys:
        state[k][-1][1] = ctx.now
    return {}


@action("billing")
def DescribeTagList(ctx):
    p = ctx.p
    if not 1 <= p["Limit"] <= 1000 or p["Offset"] < 0:
        raise ApiError("InvalidParameterValue", "Limit must be within 1..1000 and Offset >= 0")
    state = alloc_state(ctx.data)
    rows = []
    for k in sorted(known_keys(ctx.data) | set(state), reverse=p.get("OrderType") == "desc"):
        spans = state.get(k, [])
        status = 1 if alloc_active(spans, ctx.now) else 0
        if p.get("TagKey") and p["TagKey"] not in k:
            continue
        if p.get("Status") is not None and p["Status"] != status:
            continue
        row = {"TagKey": k, "Status": status}
        if status:
            row["UpdateTime"] = util.cst(spans[-1][0])
        rows.append(row)
    return {"RecordNum": len(rows), "Data": rows[p["Offset"]: p["Offset"] + p["Limit"]]}
