#!/usr/bin/env python3
"""README's exit-code table, row by row (issue 9, item 2): each case exits
with the status the table gives, and every setup problem is one line on
stderr with no traceback (the traceback comes with -v); a script's own
bug keeps its traceback."""
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import FAKE, SRC, TCRUN, Capture, Tap, script, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-exit-")
call = script('tc.call("cam", "ListUsers")')
write = script('tc.call("cam", "AddUser", { Name = "x" })')
roster = os.path.join(SRC, "samples", "roster.csv")
bad_roster = os.path.join(tmp, "bad.csv")
with open(bad_roster, "w") as f:
    f.write("username,display_name,email,phone,business_unit,role,environments,cost_center\n"
            "ann,Ann,ann@example.com,,platfrom,viewer,dev,CC1\n")
no_creds = {"TENCENTCLOUD_SECRET_ID": None, "TENCENTCLOUD_SECRET_KEY": None, "HOME": tmp}


def one_line(r):
    lines = r.err.splitlines()
    return len(lines) == 1 and lines[0].startswith("tcrun: ") and "traceback" not in r.err


def case(want, name, r, line=True):
    t.eq(r.rc, want, "exit %d: %s" % (want, name))
    if line:
        t.ok(one_line(r), "%s: one line, no traceback" % name, r.err)


case(0, "the script succeeded", tcrun(script("return true")), line=False)
case(0, "the script returned nothing", tcrun(script("local x = 1")), line=False)
case(1, "the script reported failures (returned false)", tcrun(script("return false")), line=False)

case(2, "bad option", tcrun("--parallel", "0", call), line=False)
case(2, "no script", tcrun(), line=False)
case(2, "a script that is not there", tcrun("nosuch.lua"))
case(2, "no credentials", tcrun(call, env=no_creds))
case(2, "a profile that is not there", tcrun("--profile", "nope", call, env=no_creds))
with Capture(fail="AuthFailure.SecretIdNotFound:9") as cap:
    r = tcrun("--retries", "0", call, endpoint=cap.url)
    case(2, "wrong credentials (AuthFailure)", r)
    t.like(r.err, "tcrun: cam.ListUsers: AuthFailure.SecretIdNotFound: injected", "naming the code")
case(2, "a bad endpoint", tcrun("--endpoint", "ftp://x", call))
case(2, "an unreachable endpoint", tcrun("--retries", "0", "--endpoint", "http://127.0.0.1:1", call))
case(2, "a bad region", tcrun("--region", "AP_X", call))
with Capture() as cap:
    r = tcrun("--journal", "/proc/nope/j.jsonl", write, endpoint=cap.url)
    case(2, "an unwritable journal, refused at the start", r)
    t.like(r.err, "tcrun: --journal /proc/nope/j.jsonl: No such file or directory", "naming --journal")
    t.eq(len(cap.requests()), 0, "an unwritable journal: nothing is sent")
case(2, "an invalid roster (an undeclared unit)", tcrun("onboard.lua", bad_roster), line=False)
r = tcrun("onboard.lua", roster, "--out", "/proc/nope/out")
case(2, "an unwritable --out", r)
t.like(r.err, "tcrun: --out: /proc/nope/out", "naming --out")
case(2, "tc.config_error", tcrun(script('tc.config_error("the state folder is gone")')))

r = tcrun(script("local x = nil\nreturn x.y"))
case(3, "a script error", r, line=False)
t.like(r.err, "stack traceback:", "a script error keeps its traceback")
with Capture(fail="ResourceNotFound.UserNotExist:1") as cap:
    case(3, "an unhandled API error", tcrun(call, endpoint=cap.url), line=False)
r = tcrun("-v", call, env=no_creds)
t.ok(r.rc == 2 and "stack traceback:" in r.err, "-v: a setup problem shows its traceback too", r.err)

# 130: interrupted, with what to do next.
env = {k: v for k, v in os.environ.items() if not k.startswith("TENCENTCLOUD_")}
env.update(FAKE, TCRUN_STATE_DIR=tmp, XDG_CONFIG_HOME=tmp)
p = subprocess.Popen([TCRUN, script('io.write("ready\\n") io.flush() tc.sleep(60)')],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
p.stdout.readline()
p.send_signal(signal.SIGINT)
out, err = p.communicate(timeout=30)
t.eq(p.returncode, 130, "exit 130: interrupted (SIGINT)")
t.like(err.decode(), "interrupted: run the same command again to finish the job", "saying what to do")
t.ok("tcrun: " not in err.decode().split("finish the job", 1)[-1], "and nothing more", err.decode())

# A recipe's note on what an interrupt leaves undone follows; nil clears it.
for text, want in (('tc.on_interrupt("the passwords \\27[2J were not sent")', "the passwords \\x1b[2J were not sent"),
                   ('tc.on_interrupt("x") tc.on_interrupt(nil)', None),
                   ('tc.on_interrupt("x") tc.on_interrupt()', None)):
    p = subprocess.Popen([TCRUN, script(text + ' io.write("ready\\n") io.flush() tc.sleep(60)')],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    p.stdout.readline()
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    lines = err.decode().splitlines()
    if want:
        t.eq((p.returncode, lines[-1]), (130, "tcrun: " + want),
             "tc.on_interrupt: its line follows, terminal-safe")
    else:
        t.eq((p.returncode, lines), (130, lines[:1]), "tc.on_interrupt(nil): no line")
t.done()
