"""A tiny TC3-HMAC-SHA256 client for tests (standard library only).

    from tc3client import call, ApiError
    r = call(url, "cam", "GetUser", {"Name": "alice"}, sid, skey)
    r["Uin"]                       # the parsed Response (RequestId included)

It signs like the official SDKs: content-type and host, with the service's
real host name (cam.tencentcloudapi.com) as Host, while connecting to `url`
(e.g. http://127.0.0.1:PORT).  Big integers stay exact (Python ints).
An error Response raises ApiError(code, message, request_id).
Client(url, sid, skey) keeps one keep-alive connection per thread.
"""
import hashlib
import hmac
import http.client
import json
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit

VERSIONS = {
    "cam": "2019-01-16", "sts": "2018-08-13", "tcb": "2018-06-08",
    "lighthouse": "2020-03-24", "tat": "2020-10-28", "tag": "2018-08-13",
    "billing": "2018-07-09", "cloudaudit": "2019-03-19",
}
DEFAULT_REGION = {"sts": "ap-guangzhou", "lighthouse": "ap-guangzhou", "tat": "ap-guangzhou",
                  "cloudaudit": "ap-guangzhou", "tcb": "ap-shanghai"}


class ApiError(Exception):
    def __init__(self, code, message, request_id=""):
        super().__init__("%s: %s" % (code, message))
        self.code, self.message, self.request_id = code, message, request_id


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(secret_id, secret_key, service, host, body, timestamp,
         content_type="application/json"):
    """Return the Authorization header value for a POST / with body bytes."""
    date = datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")
    canonical = "POST\n/\n\ncontent-type:%s\nhost:%s\n\ncontent-type;host\n%s" % (
        content_type, host, hashlib.sha256(body).hexdigest())
    scope = "%s/%s/tc3_request" % (date, service)
    to_sign = "TC3-HMAC-SHA256\n%d\n%s\n%s" % (
        timestamp, scope, hashlib.sha256(canonical.encode()).hexdigest())
    k = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    return "TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host, Signature=%s" % (
        secret_id, scope, sig)


def request(service, action, params, secret_id, secret_key, token=None, region=None,
            version=None, timestamp=None, host=None):
    """(headers, body bytes) for one call."""
    body = json.dumps(params if params is not None else {}, separators=(",", ":")).encode()
    ts = int(time.time()) if timestamp is None else timestamp
    host = host or "%s.tencentcloudapi.com" % service
    headers = {
        "Host": host, "Content-Type": "application/json",
        "X-TC-Action": action, "X-TC-Version": version or VERSIONS.get(service, ""),
        "X-TC-Timestamp": str(ts),
        "Authorization": sign(secret_id, secret_key, service, host, body, ts),
    }
    region = region if region is not None else DEFAULT_REGION.get(service)
    if region:
        headers["X-TC-Region"] = region
    if token:
        headers["X-TC-Token"] = token
    return headers, body


def _parse(data):
    resp = json.loads(data)["Response"]
    if "Error" in resp:
        raise ApiError(resp["Error"]["Code"], resp["Error"]["Message"], resp.get("RequestId", ""))
    return resp


def call(url, service, action, params, secret_id, secret_key, token=None, region=None,
         version=None, timeout=30):
    """One call on a fresh connection; returns the parsed Response."""
    u = urlsplit(url)
    headers, body = request(service, action, params, secret_id, secret_key, token, region, version)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
    finally:
        conn.close()
    return _parse(data)


class Client:
    """Calls over a keep-alive connection (one per thread)."""

    def __init__(self, url, secret_id, secret_key, token=None, timeout=30):
        self.url, self.secret_id, self.secret_key, self.token = url, secret_id, secret_key, token
        self.timeout = timeout
        self._local = threading.local()

    def _conn(self):
        c = getattr(self._local, "conn", None)
        if c is None:
            u = urlsplit(self.url)
            c = self._local.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=self.timeout)
        return c

    def call(self, service, action, params=None, region=None):
        headers, body = request(service, action, params, self.secret_id, self.secret_key,
                                self.token, region)
        c = self._conn()
        try:
            c.request("POST", "/", body=body, headers=headers)
            data = c.getresponse().read()
        except (OSError, http.client.HTTPException):
            c.close()  # no retry: the call may have run; the next call reconnects
            self._local.conn = None
            raise
        return _parse(data)

    def close(self):
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None


def error_code(f, ok="ok"):
    """Runs f(); returns the API error code it raised, or `ok`."""
    try:
        f()
        return ok
    except ApiError as e:
        return e.code
