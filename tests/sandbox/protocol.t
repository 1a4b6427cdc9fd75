#!/usr/bin/env python3
"""protocol.t: the wire protocol: signature vectors, signed headers, Host with
and without port, the envelope, error codes, keep-alive, integer handling,
--help and the single stdout line."""
import http.client
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "lib")]
from sandbox import TCSANDBOX, Sandbox  # noqa: E402
from tap import Tap  # noqa: E402
import tc3client  # noqa: E402
from tcsb import auth  # noqa: E402

t = Tap(23)

# Fact sheet §1.4 vectors, through the sandbox's verifier.
body = b'{"Limit":1,"Offset":0}'
for name, headers, signed, want in [
    ("SDK style", {"content-type": "application/json", "host": "cvm.tencentcloudapi.com"},
     ["content-type", "host"], "6c03bf4260bcf376e2bca4612b754021d2033acf0e44a2b70d9097370f8b326b"),
    ("docs style", {"content-type": "application/json; charset=utf-8", "host": "cvm.tencentcloudapi.com",
                    "x-tc-action": "DescribeInstances"},
     ["content-type", "host", "x-tc-action"], "b59d35e4a764776f6aee66ac492c2b511e74117747cf7e76be0cd8e6b028b3aa"),
]:
    cr = auth.canonical_request(headers, signed, body)
    got = auth.signature("Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", "2019-02-25", "cvm", 1551113065, cr)
    t.eq(got, want, "signature vector, %s" % name)


def raw(sb, headers, body):
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    conn.request("POST", "/", body=body, headers=headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    return r.status, json.loads(data)["Response"], data


def signed(sb, service, action, params, host=None, sign_host=None, extra=None, region=None):
    headers, body = tc3client.request(service, action, params, sb.secret_id, sb.secret_key, region=region)
    if host:
        headers["Host"] = host
        headers["Authorization"] = tc3client.sign(sb.secret_id, sb.secret_key, service,
                                                  sign_host or host, body, int(headers["X-TC-Timestamp"]))
    headers.update(extra or {})
    return headers, body


def err(resp):
    return resp.get("Error", {}).get("Code", "(success)")


with Sandbox() as sb:
    h, b = signed(sb, "cam", "GetUserAppId", {}, host="cam.sandbox.test:%d" % sb.port,
                  sign_host="cam.sandbox.test")
    t.eq(err(raw(sb, h, b)[1]), "(success)", "Host with a port, signed without it (Node SDK style), is accepted")
    h, b = signed(sb, "cam", "GetUserAppId", {}, host="cam.sandbox.test:%d" % sb.port)
    t.eq(err(raw(sb, h, b)[1]), "(success)", "Host with a port, signed with it, is accepted")
    h, b = signed(sb, "cam", "GetUserAppId", {}, host="cam.tencentcloudapi.com")
    t.eq(err(raw(sb, h, b)[1]), "(success)", "Host cam.tencentcloudapi.com (the tcrun host's way) is accepted")

    ts = int(time.time())
    body = b"{}"
    canon = auth.canonical_request({"content-type": "application/json; charset=utf-8",
                                    "host": "cam.tencentcloudapi.com", "x-tc-action": "GetUserAppId"},
                                   ["content-type", "host", "x-tc-action"], body)
    date = time.strftime("%Y-%m-%d", time.gmtime(ts))
    sig = auth.signature(sb.secret_key, date, "cam", ts, canon)
    h = {"Host": "cam.tencentcloudapi.com", "Content-Type": "application/json; charset=utf-8",
         "X-TC-Action": "GetUserAppId", "X-TC-Version": "2019-01-16", "X-TC-Timestamp": str(ts),
         "Authorization": "TC3-HMAC-SHA256 Credential=%s/%s/cam/tc3_request, SignedHeaders="
                          "content-type;host;x-tc-action, Signature=%s" % (sb.secret_id, date, sig)}
    t.eq(err(raw(sb, h, body)[1]), "(success)", "signed headers content-type;host;x-tc-action are verified as listed")
    h2 = dict(h, Authorization=h["Authorization"].replace("content-type;host;x-tc-action", "content-type;x-tc-action"))
    t.eq(err(raw(sb, h2, body)[1]), "AuthFailure.InvalidAuthorization", "SignedHeaders without host is refused")
    h2 = dict(h, **{"X-TC-Action": "ListUsers"})
    t.eq(err(raw(sb, h2, body)[1]), "AuthFailure.SignatureFailure", "changing a signed header breaks the signature")
    h2 = dict(h, Authorization="TC3-HMAC-SHA256 garbage")
    t.eq(err(raw(sb, h2, body)[1]), "AuthFailure.InvalidAuthorization", "a malformed Authorization header is refused")

    h, b = signed(sb, "cam", "AddUser", {"Name": "zoe"})
    status, resp, _ = raw(sb, h, b.replace(b"zoe", b"zed"))
    t.eq(err(resp), "AuthFailure.SignatureFailure", "a body changed after signing breaks the signature")
    t.ok(status == 200 and set(resp) == {"Error", "RequestId"} and len(resp["RequestId"]) == 36,
         "errors come as HTTP 200 in the real envelope with a RequestId")

    h, b = signed(sb, "lighthouse", "DescribeBundles", {}, region="")
    h.pop("X-TC-Region", None)
    t.eq(err(raw(sb, h, b)[1]), "MissingParameter", "Lighthouse without X-TC-Region gets MissingParameter")
    h, b = signed(sb, "lighthouse", "DescribeBundles", {}, extra={"X-TC-Region": "mars-north-1"})
    t.eq(err(raw(sb, h, b)[1]), "UnsupportedRegion", "an unknown region gets UnsupportedRegion")
    h, b = signed(sb, "cam", "ListUsers", {}, extra={"X-TC-Version": "2017-01-01"})
    t.eq(err(raw(sb, h, b)[1]), "NoSuchVersion", "another API version gets NoSuchVersion")
    h, b = signed(sb, "cvm", "DescribeInstances", {}, extra={"X-TC-Version": "2017-03-12"})
    t.eq(err(raw(sb, h, b)[1]), "InvalidAction", "a service the sandbox does not serve gets InvalidAction")

    u = sb.call("cam", "AddUser", {"Name": "yan", "UseApi": 1})
    _s, _r, data = raw(sb, *signed(sb, "cam", "GetUser", {"Name": "yan"}))
    t.like(data.decode(), '"Uin":%d' % u["Uin"], "a 12-digit Uin is a bare JSON integer in the answer")
    p = sb.call("cam", "CreatePolicy", {"PolicyName": "p", "PolicyDocument": json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": "*", "resource": "*"}]})})
    _s, r, _d = raw(sb, *signed(sb, "cam", "AttachUserPolicy", {"PolicyId": str(p["PolicyId"]),
                                                               "AttachUin": str(u["Uin"])}))
    t.eq(err(r), "(success)", "integer fields sent as quoted strings are accepted")
    _s, r, _d = raw(sb, *signed(sb, "cam", "AttachUserPolicy", {"PolicyId": "12x", "AttachUin": u["Uin"]}))
    t.eq(err(r), "InvalidParameter", "a non-integer in an integer field gets InvalidParameter")

    sb.call("cam", "UpdateAccessKey", {"TargetUin": u["Uin"], "AccessKeyId": u["SecretId"], "Status": "Inactive"})
    try:
        sb.call("cam", "GetUserAppId", secret_id=u["SecretId"], secret_key=u["SecretKey"])
        code = "(success)"
    except tc3client.ApiError as e:
        code = e.code
    t.eq(code, "AuthFailure.SecretIdNotFound", "an Inactive key gets AuthFailure.SecretIdNotFound")

    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    socks = set()
    for _ in range(5):
        hh, bb = signed(sb, "cam", "ListUsers", {})
        conn.request("POST", "/", body=bb, headers=hh)
        r = conn.getresponse()
        r.read()
        socks.add(id(conn.sock))
    t.ok(len(socks) == 1 and r.getheader("Content-Length") and r.version == 11,
         "5 calls share one HTTP/1.1 keep-alive connection, answers carry Content-Length")
    conn.close()

help_text = subprocess.run([sys.executable, TCSANDBOX, "--help"], capture_output=True, text=True)
flags = ["--port", "--state", "--latency-ms", "--fault-rate", "--reset-rate", "--rate-limit",
         "--consistency-delay-ms", "--async-delay-ms", "--tcb-limits", "--members",
         "--organization"]
t.ok(help_text.returncode == 0 and all(f in help_text.stdout for f in flags),
     "--help exits 0 and documents every flag", help_text.stdout)
proc = subprocess.Popen([sys.executable, TCSANDBOX, "--port", "0"], stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True,
                        env=dict(os.environ, TENCENTCLOUD_SECRET_ID="", TENCENTCLOUD_SECRET_KEY=""))
first = proc.stdout.readline()
proc.terminate()
rest_out, err_text = proc.communicate(timeout=15)
t.ok(first.startswith("tcsandbox listening on http://127.0.0.1:") and rest_out == "",
     "stdout is exactly one line: %r" % first.strip())
t.ok(proc.returncode == 0 and "AKIDtcsandboxROOT" in err_text and "100000000001" in err_text,
     "without a key in the environment the default key and owner UIN are printed on stderr", err_text)
sys.exit(t.done())
