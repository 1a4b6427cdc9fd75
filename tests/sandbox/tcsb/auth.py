"""TC3-HMAC-SHA256 verification and the caller behind a SecretId.

The service is the credential scope's service (any Host header is accepted).
The signature is recomputed over exactly the headers SignedHeaders lists,
which must include content-type and host; values are lowercased and trimmed.
When the Host header carries a port, a signature over the host name without
the port is accepted too (the Node SDK signs that way).
"""
import hashlib
import hmac
import re
from datetime import datetime, timezone

from .errors import ApiError

AUTH_RE = re.compile(
    r"^TC3-HMAC-SHA256 Credential=([^/\s]+)/(\d{4}-\d{2}-\d{2})/([a-z0-9-]+)/tc3_request,"
    r"\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$")
MAX_SKEW = 300


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(secret_key, date, service, timestamp, canonical_request):
    string_to_sign = "\n".join([
        "TC3-HMAC-SHA256", str(timestamp), "%s/%s/tc3_request" % (date, service),
        hashlib.sha256(canonical_request.encode()).hexdigest()])
    k = _hmac(("TC3" + secret_key).encode(), date)
    k = _hmac(k, service)
    k = _hmac(k, "tc3_request")
    return hmac.new(k, string_to_sign.encode(), hashlib.sha256).hexdigest()


def canonical_request(headers, signed, body, host_override=None):
    lines = []
    for name in signed:
        v = host_override if (name == "host" and host_override is not None) else headers.get(name, "")
        lines.append("%s:%s\n" % (name, v.strip().lower()))
    return "\n".join([
        "POST", "/", "", "".join(lines), ";".join(signed),
        hashlib.sha256(body).hexdigest()])


class Signed:
    """What the Authorization header claims."""

    def __init__(self, secret_id, date, service, signed_headers, sig, timestamp):
        self.secret_id, self.date, self.service = secret_id, date, service
        self.signed_headers, self.sig, self.timestamp = signed_headers, sig, timestamp


def parse(headers, now):
    """Check the Authorization header's shape and the timestamp."""
    auth = headers.get("authorization")
    if not auth:
        raise ApiError("AuthFailure.InvalidAuthorization", "the Authorization header is missing")
    m = AUTH_RE.match(auth.strip())
    if not m:
        raise ApiError("AuthFailure.InvalidAuthorization",
                       "Authorization header is not TC3-HMAC-SHA256 Credential=..., "
                       "SignedHeaders=..., Signature=...")
    sid, date, service, signed, sig = m.groups()
    signed = signed.split(";")
    if "content-type" not in signed or "host" not in signed or signed != sorted(signed):
        raise ApiError("AuthFailure.InvalidAuthorization",
                       "SignedHeaders must be sorted and include content-type and host")
    ts = headers.get("x-tc-timestamp", "")
    if not ts.strip().isdigit():
        raise ApiError("MissingParameter", "The request is missing a required parameter `Timestamp`")
    ts = int(ts)
    if abs(now - ts) > MAX_SKEW:
        raise ApiError("AuthFailure.SignatureExpire",
                       "Signature expired: timestamp %d is more than 5 minutes from server time %d"
                       % (ts, int(now)))
    if datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d") != date:
        raise ApiError("AuthFailure.SignatureFailure",
                       "the credential scope date %s is not the UTC date of X-TC-Timestamp" % date)
    return Signed(sid, date, service, signed, sig, ts)


def verify(signed, secret_key, headers, body):
    host = headers.get("host", "")
    candidates = [None]
    if ":" in host and not host.startswith("["):
        candidates.append(host.rsplit(":", 1)[0])
    for override in candidates:
        cr = canonical_request(headers, signed.signed_headers, body, override)
        want = signature(secret_key, signed.date, signed.service, signed.timestamp, cr)
        if hmac.compare_digest(want, signed.sig):
            return
    raise ApiError("AuthFailure.SignatureFailure",
                   "The provided credentials could not be validated. "
                   "Please check your signature is correct.")
