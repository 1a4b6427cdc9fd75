#!/usr/bin/env python3
"""Bad input gets one clear line and a non-zero exit, never a crash."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import Capture, Tap, script, tcrun  # noqa: E402

t = Tap()


def first_line(r):
    return (r.err.splitlines() or [""])[0]


r = tcrun("--bogus", "x.lua")
t.eq(r.rc, 2, "unknown option: exit 2")
t.eq(first_line(r), "tcrun: unknown option '--bogus'", "unknown option is named")
t.like(r.err, "try 'tcrun --help'", "and points to --help")

r = tcrun("--profile", "work", "-zq", "x.lua")
t.eq((r.rc, first_line(r)), (2, "tcrun: unknown option '-z'"),
     "an unknown short option in a cluster is named by its letter, not by the argument before it")

r = tcrun()
t.eq((r.rc, first_line(r)), (2, "tcrun: no script given"), "missing script")

r = tcrun("--parallel", "0", "x.lua")
t.eq(r.rc, 2, "--parallel 0 refused")
t.like(first_line(r), "--parallel: expected a number from 1 to 1024, got '0'", "with the reason")

for bad in (" 7", "+7", "7 ", "-7", "0x7"):
    r = tcrun("--parallel", bad, "x.lua")
    t.eq((r.rc, first_line(r)), (2, "tcrun: --parallel: expected a number from 1 to 1024, got '%s'" % bad),
         "--parallel %r refused: digits only" % bad)

r = tcrun("--dry-run=1", "x.lua")
t.eq((r.rc, first_line(r)), (2, "tcrun: option '--dry-run' takes no value"),
     "a value given to an option that takes none is named as such")

r = tcrun("no-such-recipe.lua")
t.eq(r.rc, 2, "script not found: exit 2")
t.like(first_line(r), "no-such-recipe.lua: no such file, and no recipe of that name",
       "script not found is said")

bad = script("local x = = 1\n")
r = tcrun(bad)
t.eq(r.rc, 3, "syntax error: exit 3")
t.like(first_line(r), "tcrun: %s:1: unexpected symbol near '='" % bad, "syntax error with file:line")

boom = script("local function f() error('it broke') end\nf()\n")
r = tcrun(boom)
t.eq(r.rc, 3, "runtime error: exit 3")
t.like(first_line(r), "%s:1: it broke" % boom, "message first")
t.like(r.err, "stack traceback:", "then a traceback")

rows = script('local csv = require "tcrun.csv"\n'
              'for row in assert(csv.open(arg[1])):rows() do end\n')
fd = os.path.join(os.path.dirname(bad), "tcrun-bad-roster.csv")
with open(fd, "w") as f:
    f.write("username,email\nalice,a@x\nbob\n")
r = tcrun(rows, fd)
t.eq(r.rc, 3, "malformed CSV: non-zero exit")
t.like(first_line(r), "%s:3: expected 2 fields, got 1" % fd, "malformed CSV: file:line message")

call = script('tc.call("cam", "ListUsers")\n')
r = tcrun(call, env={"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None,
                     "HOME": "/nonexistent"})
t.eq(r.rc, 2, "missing credentials: exit 2")
t.like(first_line(r), "ClientError.NoCredentials: no credentials: set TENCENTCLOUD_SECRET_ID",
       "missing credentials says what was looked for")
t.like(first_line(r), "/nonexistent/.tccli/default.credential", "including the profile file")

r = tcrun("--profile", "work", call, env={"HOME": "/nonexistent"})
t.eq(r.rc, 2, "missing profile: exit 2")
t.like(first_line(r), "/nonexistent/.tccli/work.credential", "missing profile names its file")

r = tcrun("--retries", "0", "--endpoint", "http://127.0.0.1:1", call)
t.eq(r.rc, 2, "unreachable endpoint: a setup problem, exit 2")
t.like(first_line(r), "tcrun: cam.ListUsers: ClientError.NetworkError.Connect: cannot reach the API "
       "(check --endpoint, the network or the proxy)", "unreachable endpoint: one line saying what to check")

r = tcrun("--endpoint", "http://10.1.2.3:8080", call)
t.eq(r.rc, 2, "plain http off loopback: exit 2")
t.like(first_line(r), "refusing plain http to '10.1.2.3'", "plain http off loopback refused")

r = tcrun("--endpoint", "http://127.evil.example:80", call)
t.eq(r.rc, 2, "a host name that merely starts with 127. is not loopback")
r = tcrun("--region", "ap-x\r\nX-Evil: 1", call, endpoint="http://127.0.0.1:1")
t.eq(r.rc, 2, "a region with a line break is refused: exit 2")
t.like(first_line(r), "tcrun: bad region 'ap-x", "and named as a bad region")
r = tcrun(script('tc.call("tcb", "DescribeEnvs", {}, {region = "ap-x\\r\\nX: 1"})'),
          endpoint="http://127.0.0.1:1")
t.like(first_line(r), "bad region", "opts.region is checked too")

many = script("assert(#arg == 3000 and select('#', ...) == 3000)\n"
              "local t = {true}\nfor i = 2, 5000 do t[i] = i end\nreturn table.unpack(t)\n")
r = tcrun(many, *[str(i) for i in range(3000)])
t.eq((r.rc, r.err), (0, ""), "3,000 script arguments and 5,000 results")

r = tcrun("--endpoint", "ftp://x", call)
t.eq((r.rc, first_line(r)[:28]), (2, "tcrun: bad endpoint 'ftp://x"), "bad endpoint scheme")

r = tcrun("--help")
t.eq(r.rc, 0, "--help exits 0")
for word in ("--profile", "--endpoint", "--dry-run", "--parallel", "--rate-limit",
             "--journal", "exit codes:", "130"):
    t.like(r.out, word, "--help mentions %s" % word)
r = tcrun("--version")
t.ok(r.rc == 0 and r.out.startswith("tcrun "), "--version")

r = tcrun(script("return false\n"))
t.eq(r.rc, 1, "a script returning false exits 1")
r = tcrun(script("return 7\n"))
t.eq(r.rc, 7, "a script returning 7 exits 7")
r = tcrun(script("print(...)\nprint(arg[0] ~= nil, #arg)\n"), "a", "b")
t.eq(r.out, "a\tb\ntrue\t2\n", "arguments reach the script as ... and arg")

# profile files: tccli's JSON, with a group-readable file warned about
home = os.path.join(os.path.dirname(bad), "tcrun-home-%d" % os.getpid())
os.makedirs(os.path.join(home, ".tccli"), exist_ok=True)
with open(os.path.join(home, ".tccli", "work.credential"), "w") as f:
    f.write('{"secretId": "AKIDprofile", "secretKey": "profile-secret-never-printed"}')
os.chmod(os.path.join(home, ".tccli", "work.credential"), 0o644)
with open(os.path.join(home, ".tccli", "work.configure"), "w") as f:
    f.write('{"_sys_param": {"region": "ap-chengdu"}}')
with Capture() as cap:
    r = tcrun("--profile", "work", script('tc.call("tcb", "DescribeEnvs")\nprint(tc.region)\n'),
              endpoint=cap.url, env={"HOME": home, "TENCENTCLOUD_SECRET_ID": None,
                                      "TENCENTCLOUD_SECRET_KEY": None},
              tap=t, secrets=["profile-secret-never-printed"])
    t.eq(r.rc, 0, "profile credentials work")
    t.eq(r.out, "ap-chengdu\n", "the profile's region is the default")
    t.like(r.err, "is readable by group or others", "a group-readable credential file is warned about")
    auth = cap.requests()[0]["headers"]["authorization"]
    t.like(auth, "Credential=AKIDprofile/", "signed with the profile's key")
t.done()
