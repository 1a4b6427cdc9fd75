#!/usr/bin/env python3
"""faults.t: every fault-injection flag has an observable effect:
--latency-ms, --fault-rate, --reset-rate, --rate-limit, --consistency-delay-ms."""
import http.client
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "lib"))
from sandbox import Sandbox, wait_for  # noqa: E402
from tap import Tap  # noqa: E402
from tc3client import ApiError, error_code as code  # noqa: E402

t = Tap(16)


with Sandbox("--latency-ms", "300") as sb:
    t0 = time.monotonic()
    sb.call("cam", "GetUserAppId")
    took = time.monotonic() - t0
    t.ok(took >= 0.3, "--latency-ms 300 delays an answer by at least 300 ms (%.3fs)" % took)

with Sandbox("--fault-rate", "1") as sb:
    t.eq(code(lambda: sb.call("cam", "AddUser", {"Name": "nobody"})), "InternalError",
         "--fault-rate 1 fails every call with InternalError")
    sb.flags = []
    sb.restart()
    t.eq(sb.call("cam", "ListUsers")["Data"], [], "... before it runs: the user was not created")

with Sandbox("--fault-rate", "0.5") as sb:
    c = sb.client()
    codes = [code(lambda: c.call("cam", "GetUserAppId")) for _ in range(60)]
    fails = codes.count("InternalError")
    t.ok(5 <= fails <= 55 and fails + codes.count("ok") == 60,
         "--fault-rate 0.5 fails some calls and not others (%d of 60 failed)" % fails)



def pattern(seed):
    """Which of 40 sequential calls fail under --fault-rate 0.5 --seed seed."""
    with Sandbox("--fault-rate", "0.5", "--seed", seed) as sb:
        c = sb.client()
        return "".join("x" if code(lambda: c.call("cam", "GetUserAppId")) == "InternalError" else "."
                       for _ in range(40))


first = pattern(42)
t.eq(pattern(42), first, "--seed 42 twice: the same calls fail (%s)" % first)
t.ok(pattern(43) != first, "another seed: another pattern")

with Sandbox("--reset-rate", "0.5") as sb:
    t.diag("fault seed %d" % sb.seed)
    resets = 0
    for i in range(40):
        try:
            sb.call("cam", "AddUser", {"Name": "r%02d" % i})
        except (ConnectionError, http.client.HTTPException, OSError):
            resets += 1
    t.ok(1 <= resets <= 39, "--reset-rate 0.5 resets some connections and not others (%d of 40)" % resets)
    sb.flags = []
    sb.restart()
    t.eq(len(sb.call("cam", "ListUsers")["Data"]), 40,
         "... after the call ran: all 40 users exist, answered or not")

with Sandbox("--rate-limit", "5", "--rate-limit", "GetUserAppId=1000") as sb:
    c = sb.client()
    t0 = time.monotonic()
    codes = [code(lambda: c.call("cam", "ListUsers")) for _ in range(20)]
    quick = time.monotonic() - t0 < 1.0
    t.ok(not quick or (codes.count("ok") == 5 and codes.count("RequestLimitExceeded") == 15),
         "--rate-limit 5: a burst of 20 ListUsers within a second gets 5 answers and 15 RequestLimitExceeded",
         codes)
    now = int(time.time())
    ev = c.call("cloudaudit", "LookUpEvents", {"StartTime": now - 60, "EndTime": now + 60, "MaxResults": 50,
                                               "LookupAttributes": [{"AttributeKey": "ApiErrorCode",
                                                                     "AttributeValue": "RequestLimitExceeded"}]})
    t.ok(not quick or ev["TotalCount"] == 15, "CloudAudit records the 15 limited calls (%d)" % ev["TotalCount"])
    t.ok(all(code(lambda: c.call("cam", "GetUserAppId")) == "ok" for _ in range(20)),
         "--rate-limit GetUserAppId=1000 sets that action's own limit")
    t.ok(wait_for(lambda: code(lambda: c.call("cam", "ListUsers")) == "ok", timeout=5),
         "the limit is per second: ListUsers is answered again a second later")

# 600 s of the sandbox's clock: the user stays hidden however slow the
# machine, and advance_clock ends the delay
with Sandbox("--consistency-delay-ms", "600000") as sb:
    sb.call("cam", "AddUser", {"Name": "eve"})
    t.eq(code(lambda: sb.call("cam", "GetUser", {"Name": "eve"})), "ResourceNotFound.UserNotExist",
         "--consistency-delay-ms 600000: GetUser does not see a user just created")
    t.ok([u["Name"] for u in sb.call("cam", "ListUsers")["Data"]] == ["eve"],
         "... while ListUsers does")
    t.eq(code(lambda: sb.call("cam", "AddUser", {"Name": "eve"})), "InvalidParameter.SubUserNameInUse",
         "a second AddUser during the delay is refused: the name is taken")
    sb.advance_clock(601)
    t.eq(code(lambda: sb.call("cam", "GetUser", {"Name": "eve"})), "ok",
         "GetUser sees the user once the delay has passed")
sys.exit(t.done())
