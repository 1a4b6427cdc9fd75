#!/usr/bin/env python3
"""cost_report.lua: a roster onboarded, the sandbox clock moved through the
month, and the report's totals equal the sandbox's bill to the cent; the
per-employee, per-unit, per-environment and per-cost-centre figures equal
sums computed here from the bill's own lines; unattributed and leavers'
spend is reported; a formula in a tag reaches the CSV neutralised; the
page shows the CSV's totals; a bill not ready is exit 3."""
import csv
import json
import os
import re
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from decimal import Decimal, ROUND_HALF_UP

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from account import tcrun_env  # noqa: E402
from browser import chromium, dump_dom  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-cost-")
ROSTER = os.path.join(SRC, "samples", "roster.csv")
CST = timezone(timedelta(hours=8))
CENT = Decimal("0.01")

with open(ROSTER, encoding="utf-8") as f:
    lines = f.read().splitlines()
review_roster = os.path.join(tmp, "roster.csv")      # david.chen has left
with open(review_roster, "w", encoding="utf-8") as f:
    f.write("\n".join(l for l in lines if not l.startswith("david.chen,")) + "\n")
people = {r["username"]: r for r in csv.DictReader(open(review_roster, encoding="utf-8"))}

with Sandbox("--async-delay-ms", "100") as sb:
    env = tcrun_env(sb, os.path.join(tmp, "journal"))

    def run(*a):
        return tcrun("--endpoint", sb.url, *a, env=env, tap=t, secrets=[sb.secret_key], timeout=300)

    def china_month():
        return datetime.fromtimestamp(sb.now(), CST).strftime("%Y-%m")

    # The month of the report, read before anything is created: every
    # resource must start in it (or "every resource is new against the month
    # before" fails), and tcrun must see it as the running month, by the real
    # clock (the sandbox's cannot help: tcrun does not read it).
    month = china_month()
    t.eq(run("onboard.lua", ROSTER, "--out", os.path.join(tmp, "on")).rc, 0, "onboarding")
    # Environments on two resources; a server of nobody's with a formula
    # for an owner (a leaver then, by the roster).
    envs = sb.call("tcb", "DescribeEnvs", {}, region="ap-shanghai")["EnvList"]
    alice_env = [e["EnvId"] for e in envs if {"Key": "owner", "Value": "alice.wang"} in e.get("Tags", [])][0]
    sb.call("tag", "TagResources", {"ResourceList": ["qcs::tcb:ap-shanghai:uin/%d:env/%s" % (sb.owner_uin, alice_env)],
                                    "Tags": [{"TagKey": "environment", "TagValue": "dev"}]})
    stray = sb.call("lighthouse", "CreateInstances", {
        "BundleId": "bundle_starter_mc_med2_02", "BlueprintId": "lhbp-a1ubu224", "InstanceCount": 1,
        "InstanceName": "stray", "InstanceChargePrepaid": {"Period": 1, "RenewFlag": "NOTIFY_AND_MANUAL_RENEW"},
        "Tags": [{"Key": "environment", "Value": "prod"}]}, region="ap-guangzhou")["InstanceIdSet"][0]
    bad = sb.call("lighthouse", "CreateInstances", {
        "BundleId": "bundle_starter_mc_med2_02", "BlueprintId": "lhbp-a1ubu224", "InstanceCount": 1,
        "InstanceName": "odd", "InstanceChargePrepaid": {"Period": 1, "RenewFlag": "NOTIFY_AND_MANUAL_RENEW"},
        "Tags": [{"Key": "owner", "Value": "=SUM(A1:A9)"}]}, region="ap-guangzhou")["InstanceIdSet"][0]

    r = run("cost_report.lua", "--month", month, "--allocation-tags", "--out", os.path.join(tmp, "early"))
    if china_month() != month:
        t.diag("the China-time month changed from %s to %s during onboarding and the first report "
               "(the run passed a month's end): the rest would test a split month" % (month, china_month()))
        t.skip("the China-time month changed mid-test (%s -> %s)" % (month, china_month()))
        t.done()
    t.like(r.err, "cost-allocation tags", "--allocation-tags makes tcrun's tags cost-allocation tags")
    t.like(r.err, "is not over yet (China time): these are figures to date",
           "a month not over is said to be figures to date")
    keys = {x["TagKey"] for x in sb.call("billing", "DescribeTagList", {"Offset": 0, "Limit": 1000})["Data"]
            if x["Status"] == 1}
    t.ok({"owner", "owner-uin", "business-unit", "cost-center", "environment"} <= keys, "all five", keys)

    # Through the month: the bill closes.
    now = datetime.fromtimestamp(sb.now(), CST)
    nxt = (now.replace(day=1) + timedelta(days=32)).replace(day=1, hour=1)
    sb.advance_clock(int(nxt.timestamp() - sb.now()))
    sb.set_bill_not_ready(month, True)
    out = os.path.join(tmp, "out")
    r = run("cost_report.lua", "--month", month, "--roster", review_roster, "--out", out)
    t.eq(r.rc, 3, "a bill Billing has not finished: exit 3")
    t.like(r.err, "has not finished the bill of %s" % month, "saying so")
    t.ok(not os.path.exists(os.path.join(out, "cost-%s.json" % month)), "and no partial report")
    sb.set_bill_not_ready(month, False)
    r = run("cost_report.lua", "--month", month, "--roster", review_roster, "--out", out)
    t.ok(r.rc == 0, "the report of the closed month", r.err[-1000:])
    with open(os.path.join(out, "cost-%s.json" % month)) as f:
        doc = json.load(f)

    # The bill, read here: lines and total.
    bill_lines, off = [], 0
    while True:
        p = sb.call("billing", "DescribeBillResourceSummary",
                    {"Month": month, "Offset": off, "Limit": 1000, "NeedRecordNum": 1})
        bill_lines += p["ResourceSummarySet"]
        off += len(p["ResourceSummarySet"])
        if off >= p["Total"] or not p["ResourceSummarySet"]:
            break
    last = (nxt - timedelta(days=1)).strftime("%Y-%m-%d")
    total = Decimal(sb.call("billing", "DescribeBillSummaryByProduct", {
        "BeginTime": month + "-01 00:00:00", "EndTime": last + " 23:59:59"})["SummaryTotal"]["RealTotalCost"])
    t.eq(doc["bill_total"], str(total.quantize(CENT, ROUND_HALF_UP)), "the bill's total, as Billing says it")
    t.eq(doc["total"], doc["bill_total"], "the report's total equals the bill's to the cent")
    t.ok(Decimal(doc["total"]) > 0, "and is not nothing (%s CNY)" % doc["total"])

    def expected(key_of):
        sums = {}
        for x in bill_lines:
            tags = {g["TagKey"]: g["TagValue"] for g in x.get("Tags") or []}
            k = key_of(tags)
            if k is not None:
                sums[k] = sums.get(k, Decimal(0)) + Decimal(x["RealTotalCost"])
        return {k: str(v.quantize(CENT, ROUND_HALF_UP)) for k, v in sums.items()}

    got = lambda g: {x["key"]: x["amount"] for x in doc["groups"][g]}  # noqa: E731
    t.eq(got("employee"), expected(lambda tg: tg.get("owner")), "per employee, exactly")
    t.eq(got("environment"), expected(lambda tg: tg.get("environment") or "(none)"), "per environment, exactly")
    unit = lambda tg: (people[tg["owner"]]["business_unit"] if tg.get("owner") in people  # noqa: E731
                       else tg.get("business-unit") or "(none)")
    t.eq(got("business_unit"), expected(unit), "per business unit, exactly")
    cc = lambda tg: (people[tg["owner"]]["cost_center"] if tg.get("owner") in people  # noqa: E731
                     else tg.get("cost-center") or "(none)")
    t.eq(got("cost_center"), expected(cc), "per cost centre, exactly")
    t.eq([x["resource"] for x in doc["unattributed"]], [stray], "the server of nobody's is unattributed, by id")
    t.eq(sorted(x["key"] for x in doc["leavers"]), sorted(["david.chen", "=SUM(A1:A9)"]),
         "a leaver's spend is attributed to them and marked")
    t.eq(sorted(x["key"] for x in doc["groups"]["employee"] if x["leaver"]), sorted(["david.chen", "=SUM(A1:A9)"]),
         "and marked so in the employee group")
    t.eq(str(Decimal(doc["attributed"]) + Decimal(doc["unattributed_total"])), doc["total"],
         "attributed + unattributed = total")
    r2 = run("cost_report.lua", "--month", "2999-01", "--out", os.path.join(tmp, "future"))
    t.eq(r2.rc, 2, "a month that has not begun: exit 2")
    r2 = run("cost_report.lua", "--month", month, "--compare", month, "--out", os.path.join(tmp, "same"))
    t.eq(r2.rc, 2, "--compare must be an earlier month")
    n = sum(1 for p in people.values() if p["workspace"] == "yes")
    t.eq((doc["model"]["employees_with_workspace"], doc["model"]["model_total"]),
         (n, str((Decimal("19.90") * (1 + n)).quantize(CENT))), "the seed's model: 19.90 x (1 + N)")

    before = (datetime.strptime(month + "-01", "%Y-%m-%d") - timedelta(days=1)).strftime("%Y-%m")
    r = run("cost_report.lua", "--month", month, "--compare", before, "--roster", review_roster,
            "--out", os.path.join(tmp, "cmp"))
    t.eq(r.rc, 0, "--compare with the month before")
    with open(os.path.join(tmp, "cmp", "cost-%s.json" % month)) as f:
        cmp = json.load(f)
    t.eq(sorted(x["resource"] for x in cmp["changes"]["new"]), sorted(x["ResourceId"] for x in bill_lines),
         "every resource of the month is new against the month before")
    t.ok(all(x["from"] == "0.00" and x["delta"] == "+" + x["to"] for x in cmp["changes"]["groups"]),
         "and each group's change is its whole amount")
    with open(os.path.join(out, "cost-%s.csv" % month), newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    t.ok(any(x["key"] == "'=SUM(A1:A9)" for x in rows) and not any(x["key"] == "=SUM(A1:A9)" for x in rows),
         "a formula in a tag reaches the CSV as text")
    csv_total = [x["amount"] for x in rows if x["section"] == "total" and x["key"] == "report"][0]
    page_path = os.path.join(out, "cost-%s.html" % month)
    # What the browser shows (its DOM once loaded), not the file's text.
    page = dump_dom(page_path) if chromium() else ""
    t.ok("<html" in page, "the page renders in headless Chromium")
    shown = re.search(r'id="total"[^>]*data-amount="([^"]+)"', page) or re.search(
        r'data-amount="([^"]+)"[^>]*id="total"', page)
    t.eq(shown and shown.group(1), csv_total, "the page shows the CSV's total")
    t.ok(all('data-amount="%s"' % x["amount"] in page for x in rows if x["section"] == "group"),
         "and every group amount of the CSV")
t.done()
