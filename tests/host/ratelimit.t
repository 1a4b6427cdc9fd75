#!/usr/bin/env python3
"""The client-side rate limiter spaces calls of one action evenly."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import Capture, Tap, script, tcrun  # noqa: E402

t = Tap()
s = script(r'''
local service, action, n, override = arg[1], arg[2], tonumber(arg[3]), tonumber(arg[4])
if override then tc.rate_limit(service, action, override) end
local rows = {}
for i = 1, n do rows[i] = i end
local ok = tc.each(rows, function() tc.call(service, action, {}) end, { parallel = n })
assert(ok == n)
''')


def span(*args):
    """Seconds between the first and the last request the server saw."""
    with Capture() as cap:
        r = tcrun(*args, endpoint=cap.url)
        times = sorted(q["time"] for q in cap.requests())
        return r.rc, times[-1] - times[0] if times else 0, len(times)


# Calls go 1.02 s apart in all (a 2% margin); the threshold leaves room
# for the capture server's threads stamping late, and an unlimited burst
# spans milliseconds.
rc, sp, n = span(s, "cam", "GetUser", "21")
t.ok(rc == 0 and n == 21 and sp >= 0.85, "default 20/s: 21 calls span at least 1 s",
     "rc %d, %d calls in %.3f s" % (rc, n, sp))
rc, sp, n = span(s, "billing", "DescribeBillResourceSummary", "6")
t.ok(rc == 0 and sp >= 0.85, "billing resource summary keeps its 5/s: 6 calls span at least 1 s",
     "%.3f s" % sp)
rc, sp, n = span(s, "cam", "GetUser", "3", "2")
t.ok(rc == 0 and sp >= 0.85, "tc.rate_limit override 2/s: 3 calls span at least 1 s", "%.3f s" % sp)
rc, sp, n = span("--rate-limit", "10", s, "cam", "GetUser", "11")
t.ok(rc == 0 and sp >= 0.85, "--rate-limit 10: 11 calls span at least 1 s", "%.3f s" % sp)
rc, sp, n = span("--rate-limit", "0", s, "cam", "GetUser", "40")
t.ok(rc == 0 and n == 40, "--rate-limit 0: no limit, all calls made", "%d calls" % n)
t.done()
