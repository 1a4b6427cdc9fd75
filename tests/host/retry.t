#!/usr/bin/env python3
"""Retries with backoff for throttling, server errors and lost
connections; structured errors, raised once, for everything else."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tctest import Capture, Tap, script, tcrun  # noqa: E402

t = Tap()
call = script(r'''
local ok, r = pcall(function()
  return tc.call("cam", arg[1] or "GetUser", { Name = "alice" },
                 { timeout = tonumber(arg[2]), idempotent = arg[3] ~= "no" })
end)
if ok then print("ok", r.RequestId) return end
print("error", r.code, r.message, r.request_id, r.service, r.action, r.attempts,
      tostring(r.transient), tostring(tc.is_transient(r)))
print("tostring", tostring(r))
''')


def run(*args, **flags):
    with Capture(**flags) as cap:
        r = tcrun(*args, endpoint=cap.url)
        return r, len(cap.requests())


r, n = run(call, fail="RequestLimitExceeded:2")
t.eq((r.out.strip().split("\t")[:2], n), (["ok", "capture-3"], 3), "RequestLimitExceeded: retried until it succeeds")
t.ok("retry" not in r.err, "retries are quiet by default", r.err)
r, n = run("-v", call, fail="RequestLimitExceeded:2")
t.like(r.err, "RequestLimitExceeded; retry 1 of 4", "-v logs retries")
r, n = run(call, fail="RequestLimitExceeded.UinLimitExceeded:1")
t.eq(n, 2, "RequestLimitExceeded.* sub-codes are retried")
r, n = run(call, fail="InternalError.DbError:1")
t.eq(n, 2, "InternalError.* is retried")
r, n = run(call, status="503:1")
t.eq((r.out[:2], n), ("ok", 2), "HTTP 503 is retried")
r, n = run(call, reset="1")
t.eq((r.out[:2], n), ("ok", 2), "a reset connection is retried")

r, n = run(call, "AddUser", fail="FailedOperation.UserNameExist:5")
t.eq(n, 1, "other API errors are not retried")
fields = r.out.splitlines()[0].split("\t")
t.eq(fields, ["error", "FailedOperation.UserNameExist", "injected", "capture-1", "cam", "AddUser", "1",
              "false", "false"],
     "the error is a table: code, message, request_id, service, action, attempts, transient")
t.like(r.out, "tostring\t%s:3: cam.AddUser: FailedOperation.UserNameExist: injected (RequestId capture-1)"
       % call, "tostring reads well, with the recipe's position")

r, n = run(call, status="403:1")
t.eq(n, 1, "HTTP 403 is not retried")
t.like(r.out, "ClientError.HttpStatusCodeError\tHTTP status 403", "and says its status")

r, n = run("--retries", "1", call, fail="RequestLimitExceeded:5")
t.eq(n, 2, "--retries 1: two attempts in all")
t.like(r.out, "RequestLimitExceeded\tinjected\tcapture-2", "then the last error is raised")

r, n = run("--retries", "0", call, "GetUser", "1", latency_ms="3000")
t.like(r.out, "ClientError.NetworkError", "a timeout fails as a network error")
t.like(r.out, "timed out", "and says it timed out")

r, n = run(call, "CreateEnv", "30", "no", reset="1")
t.eq((n, r.out.split("\t")[1]), (1, "ClientError.NetworkError"),
     "idempotent = false: a lost answer is not sent again")
t.eq(r.out.splitlines()[0].split("\t")[-2:], ["true", "true"],
     "a lost answer is transient: the host's class, for recipes to decide")
r, n = run(call, "CreateEnv", "30", "no", fail="InternalError:1")
t.eq(n, 1, "idempotent = false: an InternalError is not sent again")
t.eq(r.out.splitlines()[0].split("\t")[-2:], ["true", "true"], "so is an InternalError")
r, n = run("--retries", "0", call, status="503:1")
t.eq(r.out.splitlines()[0].split("\t")[-2:], ["true", "true"], "and HTTP 503")
r, n = run("--retries", "0", call, fail="RequestLimitExceeded:1")
t.eq(r.out.splitlines()[0].split("\t")[-2:], ["true", "true"], "and throttling")
r, n = run("--retries", "0", call, status="403:1")
t.eq(r.out.splitlines()[0].split("\t")[-2:], ["false", "false"], "HTTP 403 is not transient")
r = tcrun(script('print(tc.is_transient("InternalError"), tc.is_transient({ code = "InternalError", '
                 'transient = true }), tc.is_transient(nil))'))
t.eq(r.out.split(), ["false", "false", "false"],
     "tc.is_transient: only tc.call's own errors count, not look-alikes")
r, n = run(call, "CreateEnv", "30", "no", fail="RequestLimitExceeded:1")
t.eq((n, r.out[:2]), (2, "ok"), "idempotent = false: a throttled call is still retried")

# More calls in flight than --parallel: none waits inside curl while its
# timeout runs.
six = script('local n = tc.each({1,2,3,4,5,6}, function() tc.call("cam", "GetUser") end,'
             ' { parallel = 6 }) assert(n == 6)')
# Three waves of 1 s answers take 3 s, more than one call's 2 s timeout,
# with 1 s to spare for each.
with Capture(latency_ms=1000) as cap:
    r = tcrun("--parallel", "2", "--timeout", "2", "--retries", "0", six, endpoint=cap.url)
    t.eq(r.rc, 0, "six calls in flight with --parallel 2 and --timeout 2 all succeed")

with Capture() as cap:
    r = tcrun(script('error(tc.call("cam", "GetUser") and "x")'), endpoint=cap.url)
    t.eq(r.rc, 3, "an error raised by the script: exit 3")
with Capture(fail="ResourceNotFound.UserNotExist:1") as cap:
    r = tcrun(script('tc.call("cam", "GetUser", {Name = "a"})'), endpoint=cap.url)
    t.eq(r.rc, 3, "an unhandled API error: exit 3")
    t.like(r.err.splitlines()[0], "cam.GetUser: ResourceNotFound.UserNotExist: injected (RequestId capture-1)",
           "an unhandled API error prints one line first")

# The field names the host treats as secrets reach Lua from the host.
r = tcrun(script('local f = tc.secret_fields(); f[1] = "x"; '
                 'print(table.concat(tc.secret_fields(), " ")); '
                 'print(tc.is_secret(tc.password()), tc.is_secret("<secret>"))'))
t.eq(r.out.splitlines()[0].split(), ["Password", "SecretKey", "SecretAccessKey", "TmpSecretKey",
                                      "Token", "PrivateKey"], "tc.secret_fields(): the host's list, a fresh copy each time")
t.eq(r.out.splitlines()[1].split(), ["true", "false"], "tc.is_secret tells a secret from its text")
t.done()
