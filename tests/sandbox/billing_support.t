#!/usr/bin/env python3
"""billing_support.t: what a cost report reads from Billing.

Moves the sandbox's clock through whole months and checks: resource lines
with their allocation tags, rounded to the cent, that add up exactly to
DescribeBillSummaryByProduct / ByTag and DescribeCostSummaryByResource's
Total; OperateUin = the creator (sub-user or root), OwnerUin = PayerUin =
the account; cost-allocation keys counted from the month they were set
(CreateAllocationTag, DeleteAllocationTag, DescribeTagList); Ready 0 /
FailedOperation.SummaryDataNotReady from sb.set_bill_not_ready; a month that
has not begun; paging limits; persistence across a restart."""
import os
import re
import sys
from datetime import datetime, timedelta, timezone
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import error_code as code  # noqa: E402

CST = timezone(timedelta(hours=8))
t = Tap()
AMOUNT = re.compile(r"^\d+\.\d{2}000000$")


def month_start(ts, ahead=0):
    d = datetime.fromtimestamp(ts, CST)
    y, m = d.year, d.month + ahead
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    return datetime(y, m, 1, tzinfo=CST).timestamp(), "%04d-%02d" % (y, m)


with Sandbox("--async-delay-ms", "100") as sb:
    def goto(ts):
        sb.advance_clock(max(0, ts - sb.now()))

    bl = lambda a, p: sb.call("billing", a, p)  # noqa: E731
    # Start one hour into the next month (M1), so the test owns whole months.
    m1_lo, M1 = month_start(sb.now(), 1)
    m2_lo, M2 = month_start(m1_lo, 1)
    m3_lo, M3 = month_start(m1_lo, 2)
    _m4, M4 = month_start(m1_lo, 3)
    goto(m1_lo + 3600)

    alice = sb.call("cam", "AddUser", {"Name": "alice"})
    sb.call("cam", "AttachUserPolicy", {"PolicyId": 1, "AttachUin": alice["Uin"]})
    key = sb.call("cam", "CreateAccessKey", {"TargetUin": alice["Uin"]})["AccessKey"]
    as_alice = {"secret_id": key["AccessKeyId"], "secret_key": key["SecretAccessKey"]}
    tags = lambda **kw: [{"Key": k.replace("_", "-"), "Value": v} for k, v in kw.items()]  # noqa: E731
    env = sb.call("tcb", "CreateEnv", {
        "Alias": "alice-dev", "PackageId": "baas_personal", "Resources": ["flexdb"],
        "Tags": tags(owner="alice", owner_uin=str(alice["Uin"]), business_unit="bu-a",
                     environment="dev", cost_center="cc-1")}, **as_alice)["EnvId"]
    lh = lambda tg: sb.call("lighthouse", "CreateInstances", {  # noqa: E731
        "BundleId": "bundle_gen_mc_med4_02", "BlueprintId": "lhbp-a1ubu224",
        "InstanceChargePrepaid": {"Period": 1}, "Tags": tg}, region="ap-guangzhou")["InstanceIdSet"][0]
    ins1 = lh(tags(owner="root", business_unit="bu-b", environment="prod", cost_center="cc-2"))
    ins2 = lh([])
    envs = [sb.call("tcb", "CreateEnv", {"Alias": "bulk%d" % i, "PackageId": "baas_basic",
                                         "Resources": ["flexdb"],
                                         "Tags": tags(business_unit="bu-%d" % (i % 3))})["EnvId"]
            for i in range(5)]

    # -- allocation keys: owner from M1, business-unit from M2 -------------------
    t.eq(code(lambda: bl("CreateAllocationTag", {"TagKey": ["no-such-key"]})),
         "FailedOperation.TagKeyNotExist", "CreateAllocationTag of a key no resource carries is refused")
    bl("CreateAllocationTag", {"TagKey": ["owner", "owner-uin", "environment", "cost-center"]})
    listed = bl("DescribeTagList", {"Offset": 0, "Limit": 1000, "Status": 1})
    t.eq(sorted(x["TagKey"] for x in listed["Data"]), ["cost-center", "environment", "owner", "owner-uin"],
         "DescribeTagList Status 1 lists the allocation keys")
    t.ok(all(x["Status"] == 1 and x["UpdateTime"].startswith(M1) for x in listed["Data"]),
         "... with Status 1 and the time they were set (UpdateTime)", listed)
    plain = bl("DescribeTagList", {"Offset": 0, "Limit": 1000, "Status": 0})["Data"]
    t.eq([(x["TagKey"], x["Status"], "UpdateTime" in x) for x in plain], [("business-unit", 0, False)],
         "an ordinary tag key is listed with Status 0 and no UpdateTime")
    t.eq(code(lambda: bl("DescribeTagList", {"Offset": 0, "Limit": 1001})), "InvalidParameterValue",
         "DescribeTagList Limit is at most 1000")

    goto(m2_lo + 5 * 86400)
    bl("CreateAllocationTag", {"TagKey": ["business-unit"]})
    sb.call("lighthouse", "IsolateInstances", {"InstanceIds": [ins2]}, region="ap-guangzhou")
    iso_at = sb.now()
    goto(m3_lo + 3600)   # M1 and M2 are complete
    bl("DeleteAllocationTag", {"TagKey": ["owner"]})
    t.eq(code(lambda: bl("DeleteAllocationTag", {"TagKey": ["owner"]})), "FailedOperation.TagKeyNotExist",
         "DeleteAllocationTag of a key that is not an allocation key is refused")

    def resource_lines(month, limit=1000, **kw):
        rows, off = [], 0
        while True:
            page = bl("DescribeBillResourceSummary", dict({"Offset": off, "Limit": limit, "Month": month,
                                                          "NeedRecordNum": 1}, **kw))
            rows += page["ResourceSummarySet"]
            off += limit
            if off >= page["Total"]:
                return rows, page["Total"]

    def dsum(xs):
        return sum((Decimal(x) for x in xs), Decimal(0))

    for month in (M1, M2):
        rows, total = resource_lines(month)
        t.eq((total, len(rows)), (8, 8), "%s: 8 resource lines" % month)
        t.ok(all(AMOUNT.match(r[f]) for r in rows for f in ("RealTotalCost", "TotalCost", "CashPayAmount")),
             "%s: amounts are whole cents written with 8 decimals" % month, [r["RealTotalCost"] for r in rows])
        lsum = dsum(r["RealTotalCost"] for r in rows)
        prod = bl("DescribeBillSummaryByProduct", {"BeginTime": month, "EndTime": month})
        t.eq((prod["Ready"], Decimal(prod["SummaryTotal"]["RealTotalCost"]),
              dsum(x["RealTotalCost"] for x in prod["SummaryOverview"])), (1, lsum, lsum),
             "%s: DescribeBillSummaryByProduct's total and products equal the sum of the lines (%s)"
             % (month, lsum))
        for key in ("business-unit", "cost-center", "environment", "owner-uin"):
            bt = bl("DescribeBillSummaryByTag", {"BeginTime": month, "EndTime": month, "TagKey": key})
            t.eq((Decimal(bt["SummaryTotal"]["RealTotalCost"]), dsum(x["RealTotalCost"] for x in bt["SummaryOverview"])),
                 (lsum, lsum), "%s: by tag %s, values and total equal the sum of the lines" % (month, key))
            per_value = {}
            for r in rows:
                v = {x["TagKey"]: x["TagValue"] for x in r["Tags"]}.get(key, "")
                per_value[v] = per_value.get(v, Decimal(0)) + Decimal(r["RealTotalCost"])
            t.eq({x["TagValue"]: Decimal(x["RealTotalCost"]) for x in bt["SummaryOverview"]}, per_value,
                 "%s: each %s value is the sum of its lines' RealTotalCost" % (month, key))
        cs = bl("DescribeCostSummaryByResource", {"BeginTime": month, "EndTime": month, "Offset": 0,
                                                  "Limit": 100, "NeedRecordNum": 1})
        t.eq((cs["Ready"], cs["RecordNum"], Decimal(cs["Total"]["RealTotalCost"]),
              dsum(x["RealTotalCost"] for x in cs["Data"])), (1, 8, lsum, lsum),
             "%s: DescribeCostSummaryByResource lists the same lines and total" % month)

    m1, _ = resource_lines(M1)
    m2, _ = resource_lines(M2)
    by = lambda rows: {r["ResourceId"]: r for r in rows}  # noqa: E731
    m1, m2 = by(m1), by(m2)
    tagmap = lambda r: {x["TagKey"]: x["TagValue"] for x in r["Tags"]}  # noqa: E731
    t.eq(tagmap(m1[env]), {"owner": "alice", "owner-uin": str(alice["Uin"]), "environment": "dev",
                           "cost-center": "cc-1"},
         "M1: a line carries the allocation keys of M1 only (business-unit was set in M2)")
    t.eq(tagmap(m2[env]), {"owner": "alice", "owner-uin": str(alice["Uin"]), "environment": "dev",
                           "cost-center": "cc-1", "business-unit": "bu-a"},
         "M2: business-unit counts from its month; owner still counts (deleted after M2 closed)")
    bu1 = bl("DescribeBillSummaryByTag", {"BeginTime": M1, "EndTime": M1, "TagKey": "business-unit"})
    t.eq([x["TagValue"] for x in bu1["SummaryOverview"]], [""],
         "M1: by business-unit, all spend is untagged (\"\") before the key became an allocation key")
    bu2 = bl("DescribeBillSummaryByTag", {"BeginTime": M2, "EndTime": M2, "TagKey": "business-unit"})
    t.eq(sorted(x["TagValue"] for x in bu2["SummaryOverview"]), ["", "bu-0", "bu-1", "bu-2", "bu-a", "bu-b"],
         "M2: by business-unit, each value and \"\" for the untagged")
    t.eq(code(lambda: bl("DescribeBillSummaryByTag", {"BeginTime": M2, "EndTime": M2, "TagKey": "ghost"})),
         "FailedOperation.TagKeyNotExist", "a key that never was an allocation key: TagKeyNotExist")
    t.eq(code(lambda: bl("DescribeBillSummaryByTag", {"BeginTime": M2, "EndTime": M2, "TagKey": "foo"})),
         "FailedOperation.TagKeyNotExist", "... whatever its name")
    m3 = by(resource_lines(M3)[0])
    t.ok("owner" not in tagmap(m3[env]) and "business-unit" in tagmap(m3[env]),
         "M3 (running): the deleted key owner no longer counts", m3[env]["Tags"])

    t.eq(m2[env]["RealTotalCost"], "19.90000000",
         "a personal environment alive all of M2 costs exactly its monthly price")
    t.eq(m2[ins1]["RealTotalCost"], "90.00000000", "... a 2C4G instance 90")
    secs = datetime.fromtimestamp(m3_lo, CST) - datetime.fromtimestamp(m2_lo, CST)
    want = (Decimal(90) * Decimal(repr(iso_at - m2_lo)) / Decimal(secs.total_seconds())).quantize(Decimal("0.01"))
    t.ok(abs(Decimal(m2[ins2]["RealTotalCost"]) - want) <= Decimal("0.01"),
         "an instance isolated on day 6 costs its share of the month, to the cent (%s)"
         % m2[ins2]["RealTotalCost"])
    t.eq(m1[ins2]["FeeEndTime"][:7], M1, "FeeBeginTime/FeeEndTime stay inside the bill month")

    t.eq((m1[env]["OperateUin"], m1[env]["OwnerUin"], m1[env]["PayerUin"]),
         (str(alice["Uin"]), str(sb.owner_uin), str(sb.owner_uin)),
         "OperateUin is the sub-user who called CreateEnv; OwnerUin and PayerUin the account")
    t.eq(m1[ins1]["OperateUin"], str(sb.owner_uin), "... and the root for the root's CreateInstances")
    cs = bl("DescribeCostSummaryByResource", {"BeginTime": M1, "EndTime": M1, "Offset": 0, "Limit": 100,
                                              "TagKey": "owner", "TagValue": "alice"})
    t.eq([(x["ResourceId"], x["OperateUin"]) for x in cs["Data"]], [(env, str(alice["Uin"]))],
         "DescribeCostSummaryByResource filters by allocation tag and shows OperateUin")
    t.eq(cs["Data"][0]["Tags"], '[{"TagKey":"cost-center","TagValue":"cc-1"},{"TagKey":"environment",'
         '"TagValue":"dev"},{"TagKey":"owner","TagValue":"alice"},{"TagKey":"owner-uin","TagValue":"%d"}]'
         % alice["Uin"], "... its Tags string is a JSON array of TagKey/TagValue")

    # -- paging -------------------------------------------------------------
    small, n = resource_lines(M2, limit=3)
    t.eq(sorted(r["ResourceId"] for r in small), sorted(m2), "pages of 3 return every line once")
    for lim in (0, 1001):
        t.eq(code(lambda: bl("DescribeBillResourceSummary", {"Offset": 0, "Limit": lim, "Month": M2})),
             "InvalidParameterValue", "DescribeBillResourceSummary Limit %d is refused (1..1000)" % lim)
    t.eq(code(lambda: bl("DescribeCostSummaryByResource", {"BeginTime": M2, "EndTime": M2, "Offset": 0,
                                                           "Limit": 101})),
         "InvalidParameterValue", "DescribeCostSummaryByResource Limit is at most 100")
    t.ok("Total" not in bl("DescribeBillResourceSummary", {"Offset": 0, "Limit": 10, "Month": M2}),
         "Total only with NeedRecordNum 1")
    t.eq(code(lambda: bl("DescribeBillSummaryByProduct", {"BeginTime": M1, "EndTime": M2})),
         "InvalidParameterValue", "BeginTime and EndTime must be one month")

    # -- a month not begun, Ready=0 ---------------------------------------------
    fut = bl("DescribeBillSummaryByProduct", {"BeginTime": M4, "EndTime": M4})
    t.eq((fut["Ready"], fut["SummaryOverview"], fut["SummaryTotal"]["RealTotalCost"]), (1, [], "0.00000000"),
         "a month that has not begun: Ready 1, no products, total 0")
    t.eq(resource_lines(M4)[1], 0, "... and no resource lines")

    sb.set_bill_not_ready(M2, True)
    t.eq(code(lambda: bl("DescribeBillResourceSummary", {"Offset": 0, "Limit": 10, "Month": M2})),
         "FailedOperation.SummaryDataNotReady", "not ready: DescribeBillResourceSummary gets SummaryDataNotReady")
    nr = [bl("DescribeBillSummaryByProduct", {"BeginTime": M2, "EndTime": M2}),
          bl("DescribeBillSummaryByTag", {"BeginTime": M2, "EndTime": M2, "TagKey": "cost-center"}),
          bl("DescribeCostSummaryByTag", {"BeginTime": M2, "EndTime": M2, "TagKey": "cost-center"}),
          bl("DescribeCostSummaryByResource", {"BeginTime": M2, "EndTime": M2, "Offset": 0, "Limit": 10})]
    t.eq([(x["Ready"], x.get("SummaryOverview", x.get("Data"))) for x in nr], [(0, [])] * 4,
         "not ready: the summaries answer Ready 0 with no data")
    t.eq(bl("DescribeBillSummaryByProduct", {"BeginTime": M1, "EndTime": M1})["Ready"], 1,
         "... only for that month")
    sb.restart()
    t.eq(bl("DescribeBillSummaryByProduct", {"BeginTime": M2, "EndTime": M2})["Ready"], 0,
         "the flag survives a restart")
    sb.set_bill_not_ready(M2, False)
    again = bl("DescribeBillSummaryByProduct", {"BeginTime": M2, "EndTime": M2})
    t.eq((again["Ready"], Decimal(again["SummaryTotal"]["RealTotalCost"])),
         (1, dsum(r["RealTotalCost"] for r in m2.values())), "ready again: the same complete bill")
    t.eq(code(lambda: sb.control("SetBillNotReady", {"Month": "2026-13", "NotReady": True})),
         "TcsandboxControl.BadRequest", "SetBillNotReady checks the month")
sys.exit(t.done())
