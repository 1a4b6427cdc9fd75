"""Small helpers shared by the service modules: times, ids, paging, names."""
import random
import re
import string
import time
from datetime import datetime, timedelta, timezone

from .errors import ApiError

CST = timezone(timedelta(hours=8))  # China Standard Time: CAM, TCB, billing
_rng = random.SystemRandom()


def cst(ts):
    """'2024-05-01 12:00:00' in China Standard Time (CAM, TCB)."""
    return datetime.fromtimestamp(ts, CST).strftime("%Y-%m-%d %H:%M:%S")


def iso(ts):
    """'2024-05-01T04:00:00Z' (Lighthouse, TAT, STS)."""
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def rand(n, alphabet=string.ascii_lowercase + string.digits):
    return "".join(_rng.choice(alphabet) for _ in range(n))


def secret_id():
    return "AKID" + rand(32, string.ascii_letters + string.digits)


def secret_key():
    return rand(32, string.ascii_letters + string.digits)


def next_seq(data, name, step=1):
    data["seq"][name] += step
    return data["seq"][name]


def page_pr(items, p, default_rp=20, max_rp=200):
    """CAM Page/Rp paging: returns (total, slice)."""
    page = p.get("Page", 1) or 1
    rp = p.get("Rp", default_rp) or default_rp
    if page < 1 or rp < 1 or rp > max_rp:
        raise ApiError("InvalidParameter.ParamError",
                       "Page must be >= 1 and Rp within 1..%d" % max_rp)
    return len(items), items[(page - 1) * rp: page * rp]


def page_ol(items, p, default_limit=20, max_limit=100):
    """Offset/Limit paging: returns (total, slice)."""
    off = p.get("Offset", 0) or 0
    lim = p.get("Limit", default_limit)
    if lim is None:
        lim = default_limit
    if off < 0 or lim < 0 or lim > max_limit:
        raise ApiError("InvalidParameterValue",
                       "Offset must be >= 0 and Limit within 0..%d" % max_limit)
    return len(items), items[off: off + lim]




def check_name(value, what, code, maxlen=64, chars=r"A-Za-z0-9+=,.@_-"):
    if not re.fullmatch(r"[%s]{1,%d}" % (chars, maxlen), value or ""):
        raise ApiError(code, "%s %r must be 1-%d characters from %s"
                       % (what, value, maxlen, chars))


def now():
    return time.time()
