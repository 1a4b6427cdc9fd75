#!/usr/bin/env python3
"""tcb_billing.t: TCB environment statuses, alias rules, DescribeEnvLimit and
the deletion caps; bills prorated from resource lifetimes."""
import os
import sys
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import CST, Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import error_code as code  # noqa: E402

t = Tap(25)


# Delivery takes 600 s of the sandbox's clock (UNAVAILABLE holds however slow
# the machine; advance_clock ends it), and the deletion caps and bills are per
# China-time month: the clock starts at the 3rd, 12:00 China time, and the
# environments live 10 days, all inside one month.
with Sandbox("--async-delay-ms", "600000", "--tcb-limits", "4,2,3") as sb:
    tcb = lambda a, p=None: sb.call("tcb", a, p, region="ap-shanghai")  # noqa: E731
    limit = tcb("DescribeEnvLimit")
    t.ok((limit["MaxEnvNum"], limit["MaxDeleteMonthly"], limit["MaxDeleteTotal"],
          limit["CurrentEnvNum"], limit["CurrentDeleteMonthly"]) == (4, 2, 3, 0, 0),
         "DescribeEnvLimit reports the --tcb-limits caps", limit)
    for alias in ("Upper", "a--b", "-lead", "trail-", "x" * 21, "under_score"):
        t.eq(code(lambda: tcb("CreateEnv", {"Alias": alias, "PackageId": "baas_personal",
                                            "Resources": ["flexdb"]})), "InvalidParameter",
             "alias %r is refused" % alias)
    t.eq(code(lambda: tcb("CreateEnv", {"Alias": "ok", "PackageId": "baas_nope", "Resources": ["flexdb"]})),
         "InvalidParameter", "an unknown PackageId is refused")
    t.eq(tcb("DescribeEnvLimit")["CurrentEnvNum"], 0, "refused creations leave no environment")
    sb.set_clock_china(hour=12, day=3)
    born = sb.now()
    ids = [tcb("CreateEnv", {"Alias": "e%d" % i, "PackageId": "baas_personal", "Resources": ["flexdb", "storage"],
                             "Tags": [{"Key": "cost-center", "Value": "cc%d" % (i % 2)}]})["EnvId"]
           for i in range(4)]
    status = lambda e: tcb("DescribeEnvs", {"EnvId": e})["EnvList"][0]["Status"]  # noqa: E731
    t.eq(status(ids[0]), "UNAVAILABLE", "a new environment is UNAVAILABLE while it is delivered")
    t.eq(code(lambda: tcb("CreateEnv", {"Alias": "e9", "PackageId": "baas_personal", "Resources": ["flexdb"]})),
         "LimitExceeded", "a 5th environment exceeds MaxEnvNum 4")
    born_by = sb.now()
    sb.advance_clock(601)
    t.ok(all(status(e) == "NORMAL" for e in ids), "... then NORMAL")

    sb.advance_clock(10 * 86400)
    died = sb.now()
    tcb("DestroyEnv", {"EnvId": ids[0]})
    died_by = sb.now()
    env0 = tcb("DescribeEnvs", {"EnvId": ids[0]})["EnvList"][0]
    t.ok(env0["Status"] == "UNAVAILABLE" and env0["Recycle"] == "1",
         "DestroyEnv isolates the environment first (UNAVAILABLE, Recycle 1)")
    t.eq(code(lambda: tcb("DestroyEnv", {"EnvId": ids[0]})), "FailedOperation",
         "destroying an isolated environment again needs IsForce")
    tcb("DestroyEnv", {"EnvId": ids[0], "IsForce": True})
    t.eq(tcb("DescribeEnvs", {"EnvId": ids[0]})["EnvList"], [], "IsForce deletes the isolated environment")
    lim = tcb("DescribeEnvLimit")
    t.ok(lim["CurrentDeleteMonthly"] == 1 and lim["CurrentDeleteTotal"] == 1 and lim["CurrentEnvNum"] == 3,
         "an environment's deletion counts once", lim)
    tcb("DestroyEnv", {"EnvId": ids[1], "IsForce": True})
    t.eq(code(lambda: tcb("DestroyEnv", {"EnvId": ids[2]})), "LimitExceeded",
         "a 3rd deletion this month exceeds MaxDeleteMonthly 2")
    t.eq(len(tcb("DescribeEnvs")["EnvList"]), 2, "... and the environment is still there")
    t.eq(code(lambda: tcb("ModifyEnv", {"EnvId": ids[2], "Alias": "renamed-env-with-32-characters-x"})), "ok",
         "ModifyEnv accepts an alias of up to 32 characters")

    month = datetime.fromtimestamp(sb.now(), CST).strftime("%Y-%m")
    sb.call("billing", "CreateAllocationTag", {"TagKey": ["cost-center"]})  # bills show allocation keys only
    rows = sb.call("billing", "DescribeBillResourceSummary", {"Offset": 0, "Limit": 100, "Month": month,
                                                             "NeedRecordNum": 1})
    t.eq(rows["Total"], 4, "DescribeBillResourceSummary lists the 4 environments of this month")
    r0 = [r for r in rows["ResourceSummarySet"] if r["ResourceId"] == ids[0]][0]
    begin = datetime.strptime(r0["FeeBeginTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).timestamp()
    end = datetime.strptime(r0["FeeEndTime"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST).timestamp()
    y, m = int(month[:4]), int(month[5:])
    nxt = datetime(y + m // 12, m % 12 + 1, 1, tzinfo=CST).timestamp()
    secs = nxt - datetime(y, m, 1, tzinfo=CST).timestamp()
    t.ok(int(born) <= begin <= born_by and int(died) <= end <= died_by,
         "its bill line runs from CreateEnv to the isolating DestroyEnv (10 days)",
         (r0["FeeBeginTime"], r0["FeeEndTime"]))
    # FeeBeginTime/FeeEndTime are whole seconds: the exact lifetime is within
    # 1 s of end - begin; the line is 19.9 * lifetime / month, half up to cents
    cents = [(Decimal("19.9") * Decimal(end - begin + d) / Decimal(secs)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP) for d in (-1, 1)]
    got = Decimal(r0["RealTotalCost"])
    t.ok(cents[0] <= got <= cents[1],
         "a personal environment costs 19.9 CNY a month, prorated to its 10 days, to the cent (%s CNY)"
         % r0["RealTotalCost"], (str(got), [str(c) for c in cents]))
    t.eq([x["TagKey"] + "=" + x["TagValue"] for x in r0["Tags"]], ["cost-center=cc0"],
         "the bill carries the resource's tags, kept after deletion")
    by_tag = sb.call("billing", "DescribeBillSummaryByTag", {"BeginTime": month, "EndTime": month,
                                                            "TagKey": "cost-center"})
    total = sum(float(r["RealTotalCost"]) for r in rows["ResourceSummarySet"])
    t.ok(sorted(x["TagValue"] for x in by_tag["SummaryOverview"]) == ["cc0", "cc1"] and
         abs(float(by_tag["SummaryTotal"]["RealTotalCost"]) - total) < 1e-6,
         "DescribeBillSummaryByTag splits the same total by tag value")
    t.eq(code(lambda: sb.call("billing", "DescribeBillSummaryByTag", {"BeginTime": month, "EndTime": month,
                                                                     "TagKey": "never-used"})),
         "FailedOperation.TagKeyNotExist", "an unknown tag key gets FailedOperation.TagKeyNotExist")
sys.exit(t.done())
