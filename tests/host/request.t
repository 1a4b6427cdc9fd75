#!/usr/bin/env python3
"""Black box: what a loopback server receives from tc.call, and what the
script gets back."""
import hashlib
import hmac
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import FAKE, Capture, Tap, script, tcrun  # noqa: E402

t = Tap()


def verify(req):
    """Recomputes TC3-HMAC-SHA256 from what was received (independent of
    tcrun's signer) and compares it with the Authorization header."""
    h = req["headers"]
    auth = h["authorization"]
    parts = dict(p.split("=", 1) for p in auth.split(" ", 1)[1].split(", "))
    sid, date, service, _ = parts["Credential"].split("/")
    signed = parts["SignedHeaders"].split(";")
    canon_headers = "".join("%s:%s\n" % (n, h[n].strip().lower()) for n in signed)
    body = req["body"].encode()
    creq = "\n".join(["POST", "/", "", canon_headers, ";".join(signed),
                      hashlib.sha256(body).hexdigest()])
    ts = h["x-tc-timestamp"]
    sts = "\n".join(["TC3-HMAC-SHA256", ts, "%s/%s/tc3_request" % (date, service),
                     hashlib.sha256(creq.encode()).hexdigest()])

    def mac(k, m):
        return hmac.new(k, m.encode(), hashlib.sha256).digest()
    k = mac(mac(mac(("TC3" + FAKE["TENCENTCLOUD_SECRET_KEY"]).encode(), date),
                service), "tc3_request")
    want = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    return sid == FAKE["TENCENTCLOUD_SECRET_ID"] and parts["Signature"] == want, service


s = script(r'''
local json = require "tcrun.json"
local r = tc.call("cam", "AddUserToGroup",
  { Info = { { GroupId = 12, Uin = 1234567890123456789 } }, Name = "李雷",
    Empty = "", List = json.array() })
assert(math.type(r.Echo.Info[1].Uin) == "integer", "integer came back a float")
print("uin", r.Echo.Info[1].Uin, r.RequestId)
local d = tc.call("tcb", "DescribeEnvs", {})
print("region", d.RequestId)
tc.call("lighthouse", "DescribeInstances", { Limit = 1 }, { region = "ap-shanghai" })
''')
with Capture() as cap:
    before = int(time.time())
    r = tcrun(s, endpoint=cap.url, tap=t)
    after = int(time.time())
    t.eq(r.rc, 0, "script runs against the loopback server")
    t.like(r.out, "uin\t1234567890123456789\tcapture-1", "19-digit UIN comes back exact, as an integer")
    reqs = cap.requests()
    t.eq(len(reqs), 3, "three requests received")
    cam, tcb, lh = reqs + [None] * (3 - len(reqs)) if len(reqs) < 3 else reqs
    h = cam["headers"]
    t.eq(h.get("host"), "cam.tencentcloudapi.com", "Host is the real API host, not the endpoint")
    t.eq(h.get("x-tc-action"), "AddUserToGroup", "X-TC-Action")
    t.eq(h.get("x-tc-version"), "2019-01-16", "X-TC-Version is CAM's")
    t.ok("x-tc-region" not in h, "no X-TC-Region for CAM (a global service)")
    t.ok(before <= int(h.get("x-tc-timestamp", 0)) <= after, "X-TC-Timestamp is now")
    t.ok("x-tc-token" not in h, "no X-TC-Token without a session token")
    t.eq(h.get("content-type"), "application/json", "Content-Type")
    t.eq(json.loads(cam["body"]), {"Info": [{"GroupId": 12, "Uin": 1234567890123456789}],
                                    "Name": "李雷", "Empty": "", "List": []},
         "body equals the params")
    t.like(cam["body"], '"Uin":1234567890123456789', "UIN sent as a bare integer")
    good, service = verify(cam)
    t.ok(good and service == "cam", "signature verifies over content-type;host and the body")
    t.eq(tcb["headers"].get("x-tc-region"), "ap-guangzhou", "X-TC-Region defaults to ap-guangzhou")
    t.eq(tcb["headers"].get("x-tc-version"), "2018-06-08", "X-TC-Version is TCB's")
    t.eq(tcb["body"], "{}", "no params: body {}")
    t.eq(lh["headers"].get("x-tc-region"), "ap-shanghai", "opts.region wins")
    t.eq(lh["headers"].get("host"), "lighthouse.tencentcloudapi.com", "Host for Lighthouse")

    r = tcrun("--region", "ap-beijing", s, endpoint=cap.url,
              env={"TENCENTCLOUD_SESSION_TOKEN": "tok-123"}, tap=t)
    reqs = cap.requests()[3:]
    t.eq(reqs[0]["headers"].get("x-tc-token"), "tok-123", "X-TC-Token carries the session token")
    t.eq(reqs[1]["headers"].get("x-tc-region"), "ap-beijing", "--region sets the default region")
    r = tcrun(s, endpoint=cap.url, env={"TENCENTCLOUD_SESSION_TOKEN": None,
                                         "TENCENTCLOUD_TOKEN": "tccli-tok"})
    t.eq(cap.requests()[6]["headers"].get("x-tc-token"), "tccli-tok",
         "TENCENTCLOUD_TOKEN (tccli's name) works too")
t.done()
