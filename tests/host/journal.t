#!/usr/bin/env python3
"""The write journal: one JSON line per write call, secrets redacted,
flushed as it goes (an interrupted run leaves an exact record); --dry-run
sends no write at all."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import FAKE, TCRUN, Capture, Tap, script, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-journal-")
jpath = os.path.join(tmp, "run.jsonl")
s = script(r'''
tc.call("cam", "ListUsers")
tc.call("cam", "AddUser", { Name = "alice", Password = tc.password(), ConsoleLogin = 1 })
tc.call("cam", "UpdateUser", { Name = "alice", Password = "plain-text-pw-0" },
        { note = "ticket SEC-9:\nwhy" })
local ok, e = pcall(function() return tc.call("cam", "DeleteUser", { Name = "bob" }) end)
print(tc.journal_path())
''')


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f]


with Capture(fail="ResourceNotFound.UserNotExist:0") as cap:
    r = tcrun("--journal", jpath, s, endpoint=cap.url, tap=t, files=[jpath],
              secrets=[FAKE["TENCENTCLOUD_SECRET_KEY"], "plain-text-pw-0"])
    t.eq(r.rc, 0, "script with writes runs")
    j = lines(jpath)
    t.eq([(e["service"], e["action"]) for e in j],
         [("cam", "AddUser"), ("cam", "UpdateUser"), ("cam", "DeleteUser")],
         "every write call, and no read, is journaled in order")
    t.eq(j[0]["params"], {"Name": "alice", "Password": "***", "ConsoleLogin": 1},
         "a generated password is redacted")
    t.eq(j[1]["params"]["Password"], "***", "a plain password string is redacted too")
    t.eq((j[1].get("note"), "note" in j[0]), ("ticket SEC-9: why", False),
         "opts.note goes into the write's line, on one line; no note, no field")
    t.ok(all(e["request_id"].startswith("capture-") and e["outcome"] == "ok" for e in j),
         "request id and outcome recorded")
    t.ok(all(set(e) >= {"time", "service", "action", "region", "params", "attempts"} for e in j),
         "time, service, action, region, params, attempts recorded")
    t.eq(oct(os.stat(jpath).st_mode & 0o777), "0o600", "journal file has mode 0600")
    body = [q["body"] for q in cap.requests() if q["headers"]["x-tc-action"] == "AddUser"][0]
    t.ok('"Password":"' in body and '"***"' not in body, "the real password goes in the request body")

one = script('pcall(function() tc.call("cam", "AddUser", { Name = "x" }) end)')
with Capture(fail="FailedOperation.Nope:9") as cap:
    jd = os.path.join(tmp, "default")
    r = tcrun(one, endpoint=cap.url, env={"TCRUN_JOURNAL_DIR": jd})
    files = os.listdir(jd) if os.path.isdir(jd) else []
    t.eq(len(files), 1, "without --journal, a default journal is created at the first write")
    t.like(r.err, "journal: " + jd, "and its path is printed")
    t.ok(files and files[0].startswith("tcrun-t-") and files[0].endswith(".jsonl"),
         "named after the script", files)
    j = lines(os.path.join(jd, files[0])) if files else []
    t.eq([e.get("code") for e in j], ["FailedOperation.Nope"], "a failed write is journaled with its code")

reads = script('tc.call("cam", "ListUsers") tc.call("tcb", "DescribeEnvs")')
with Capture() as cap:
    jd = os.path.join(tmp, "reads")
    r = tcrun(reads, endpoint=cap.url, env={"TCRUN_JOURNAL_DIR": jd})
    t.ok(not os.path.exists(jd), "a run with only reads makes no journal")

dry = script(r'''
print(tc.dry_run)
tc.call("cam", "ListUsers")
local ok, e = pcall(function() return tc.call("cam", "AddUser", { Name = "x" }) end)
print(e.code)
tc.call("cam", "DeleteUser", { Name = "x" })
''')
with Capture() as cap:
    r = tcrun("--dry-run", dry, endpoint=cap.url, env={"TCRUN_JOURNAL_DIR": tmp + "/dry"})
    t.eq(r.out, "true\nClientError.DryRun\n", "under --dry-run a write raises ClientError.DryRun")
    t.eq([q["headers"]["x-tc-action"] for q in cap.requests()], ["ListUsers"],
         "--dry-run sends reads and no write")
    t.eq(r.rc, 2, "an unhandled write under --dry-run exits 2")

# Interrupted mid-flight: 6 writes in flight when SIGINT arrives.
many = script(r'''
local rows = {}
for i = 1, 6 do rows[i] = i end
tc.each(rows, function(i) tc.call("cam", "AddUser", { Name = "u" .. i }) end)
''')
with Capture(latency_ms=5000) as cap:
    jpath = os.path.join(tmp, "interrupted.jsonl")
    env = dict(os.environ, **FAKE)
    p = subprocess.Popen([TCRUN, "--endpoint", cap.url, "--journal", jpath, many],
                         env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while len(cap.requests()) < 6 and time.time() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    t.eq(p.returncode, 130, "SIGINT: exit 130")
    t.like(err, "tcrun: interrupted", "says it was interrupted")
    j = lines(jpath) if os.path.exists(jpath) else []
    t.eq(sorted(e["params"]["Name"] for e in j), ["u%d" % i for i in range(1, 7)],
         "every write in flight is in the journal")
    t.ok(j and all(e["outcome"] == "interrupted" for e in j),
         "with outcome 'interrupted' (sent, result unknown)")
# A write that got no answer and waits to be sent again when SIGINT comes:
# journaled as interrupted (it may have happened).
one_write = script('tc.call("cam", "AddUser", { Name = "late" })')
# The retry is slow to answer, so one that goes out before the signal
# (this process stalled past the 0.25 s backoff) is in flight, also
# interrupted.
with Capture(reset=1, latency_ms=5000) as cap:
    jpath = os.path.join(tmp, "backoff.jsonl")
    p = subprocess.Popen([TCRUN, "--endpoint", cap.url, "--journal", jpath, one_write],
                         env=dict(os.environ, **FAKE), stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    # The first attempt's connection is reset; the retry waits at least
    # 0.25 s, well after this sees the request.
    while len(cap.requests()) < 1 and time.time() < deadline:
        time.sleep(0.02)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=10)
    j = lines(jpath) if os.path.exists(jpath) else []
    t.eq((p.returncode, [(e["action"], e["outcome"]) for e in j]),
         (130, [("AddUser", "interrupted")]),
         "a write lost and waiting for its retry is journaled as interrupted")

# No journal, no write.
with Capture() as cap:
    r = tcrun("--journal", "/nonexistent/dir/j.jsonl", one_write, endpoint=cap.url)
    t.eq(r.rc, 2, "an unwritable --journal: exit 2, at the start")
    t.like(r.err, "--journal /nonexistent/dir/j.jsonl: No such file or directory", "naming it")
    t.eq(cap.requests(), [], "and nothing was sent")
    r = tcrun(one_write, endpoint=cap.url, env={"TCRUN_JOURNAL_DIR": "/proc/nope"})
    t.eq(r.rc, 2, "a default journal that cannot be made: exit 2")
    t.like(r.err, "ClientError.Journal", "says no write is sent without a journal")
    t.eq(cap.requests(), [], "and the write was not sent")

# SIGINT while the script computes (no call in flight) still stops it.
busy = script('io.stdout:write("busy\\n") io.stdout:flush() while true do end')
p = subprocess.Popen([TCRUN, busy], env=dict(os.environ, **FAKE), stdout=subprocess.PIPE,
                     stderr=subprocess.PIPE, text=True)
p.stdout.readline()
p.send_signal(signal.SIGINT)
try:
    out, err = p.communicate(timeout=10)
    t.eq(p.returncode, 130, "SIGINT stops a busy script: exit 130")
except subprocess.TimeoutExpired:
    p.kill()
    t.ok(False, "SIGINT stops a busy script: exit 130", "still running after 10 s")
t.done()
