#!/usr/bin/env python3
"""tc.account: a role's credentials are assumed once and again before they
end, by one task while the others wait; no temporary secret reaches any
output; the wrong-account guard stops every call in an account whose
credentials answer another UIN, naming both, before anything is sent;
the journal and the dry-run plan name the account of every write."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from account import events, tcrun_env  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import Tap, script, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-accounts-")
TRUST = json.dumps({"version": "2.0", "statement": [{
    "effect": "allow", "action": ["name/sts:AssumeRole"],
    "principal": {"qcs": ["qcs::cam::uin/100000000001:root"]}}]})

with Sandbox("--async-delay-ms", "50") as sb:
    sb.call("cam", "CreateRole", {"RoleName": "runner", "PolicyDocument": TRUST,
                                  "SessionDuration": 600})
    pid = sb.call("cam", "ListPolicies", {"Scope": "QCS", "Keyword": "AdministratorAccess"})
    admin = [p for p in pid["List"] if p["PolicyName"] == "AdministratorAccess"][0]["PolicyId"]
    sb.call("cam", "AttachRolePolicy", {"PolicyId": admin, "AttachRoleName": "runner"})
    env = dict(tcrun_env(sb, os.path.join(tmp, "journal")), TENCENTCLOUD_REGION="ap-guangzhou")

    def run(text, *flags):
        return tcrun("--endpoint", sb.url, "-v", *flags, script(text), env=env)

    # 1. A run longer than the credentials' life: 12 rows, each calling
    # every 0.5 s for 4 s, under credentials that last 3 s (2 s would leave
    # a late first answer too little life to be taken).
    t0 = len(events(sb, writes_only=False))
    r = run(r'''
local acct = tc.account{ name = "self", uin = "100000000001", role = "runner", duration = 3 }
local calls, t0 = 0, os.time()
local rows = {}
for i = 1, 12 do rows[i] = i end
tc.each(rows, function()
  for k = 1, 8 do
    local who = tc.call("sts", "GetCallerIdentity", {}, { account = acct })
    assert(who.Type == "AssumedRole" and who.AccountId == "100000000001", who.Type)
    calls = calls + 1
    tc.sleep(0.5)
  end
end)
print("calls", calls, "assumed", acct.assumed, "checked", acct.checked, "seconds", os.time() - t0)
print(acct, acct.role, acct.duration)
for _, k in ipairs({ "key", "secret", "token", "creds" }) do assert(acct[k] == nil, k) end
''')
    t.ok(r.rc == 0, "a run longer than the role's credentials ends well", r.err[-800:])
    t.like(r.out, "calls\t96\t", "every call of every row succeeded")
    fields = dict(zip(r.out.split()[::2], r.out.split()[1::2]))
    assumed = int(fields.get("assumed", "0"))
    seconds = int(fields.get("seconds", "0"))
    # Credentials of 3 s are renewed in their last second: at most one
    # AssumeRole per second of the run, not one per row.
    t.ok(2 <= assumed <= seconds + 1, "the role was assumed again before its end, by one task at a "
         "time (%d AssumeRole for 96 calls in 12 rows over %d s of 3 s credentials)"
         % (assumed, seconds))
    evs = [e for e in events(sb, writes_only=False)[t0:] if e["name"] == "sts.AssumeRole"]
    t.eq(len(evs), assumed, "CloudAudit shows exactly those AssumeRole calls")
    t.like(r.out, "self (100000000001)\trunner\t3", "an account prints as name (uin)")
    with open(sb.state_path) as f:
        tmpkeys = json.load(f)["tmpkeys"]
    secrets = [v["secret"] for v in tmpkeys.values()] + [v["token"] for v in tmpkeys.values()]
    texts = r.out + r.err
    for d, _, files in os.walk(tmp):
        for name in files:
            with open(os.path.join(d, name), errors="replace") as f:
                texts += f.read()
    t.ok(secrets and not any(s in texts for s in secrets),
         "no temporary secret key or token in the output (-v) or the journal (%d checked)"
         % len(secrets))

    # 2. The guard: the credentials answer 100000000001, the configuration
    # says otherwise.  Nothing is sent there, reads or writes.
    w0 = len(events(sb))
    r = run(r'''
local prod = tc.account{ name = "prod", uin = "100000000009" }
local ok, e = pcall(tc.call, "cam", "AddUser", { Name = "nobody" }, { account = prod })
print(ok, e.code)
tc.call("cam", "ListUsers", {}, { account = prod })
''')
    t.eq(r.rc, 2, "a call in the wrong account ends the run with exit status 2")
    t.like(r.out, "false\tClientError.WrongAccount", "the write fails with ClientError.WrongAccount")
    t.like(r.err, "belong to account 100000000001, but the configuration says prod is account "
           "100000000009", "the message names both UINs")
    t.eq(len(events(sb)), w0, "no write reached the sandbox")

    r = run(r'''
local acct = tc.account{ name = "elsewhere", uin = "100000000009", role = "runner" }
tc.call("cam", "ListUsers", {}, { account = acct })
''')
    t.eq(r.rc, 3, "a role in an account that does not have it: the AssumeRole error")
    t.like(r.err, "account elsewhere (100000000009): ", "said of the account")

    # 3. The journal and the dry-run plan name the account.
    r = run(r'''
tc.default_account(tc.account{ name = "hub", uin = "100000000001" })
local acct = tc.account{ name = "self", uin = "100000000001", role = "runner", duration = 600 }
tc.call("cam", "CreateGroup", { GroupName = "g-default" })
tc.call("cam", "CreateGroup", { GroupName = "g-role" }, { account = acct })
print(tc.journal_path())
''')
    t.eq(r.rc, 0, "writes in two accounts")
    with open(r.out.strip().splitlines()[-1]) as f:
        j = [json.loads(line) for line in f]
    t.eq([(e["params"]["GroupName"], e.get("account"), e.get("account_name")) for e in j],
         [("g-default", "100000000001", "hub"), ("g-role", "100000000001", "self")],
         "each journal line names the account of its write")

    plan = r'''
local plan = require("tcrun.plan").new(tc.dry_run)
local acct = tc.account{ name = "self", uin = "100000000001", role = "runner", duration = 600 }
tc.call("cam", "ListGroups", {}, { account = acct })
plan:write("x", "cam", "CreateGroup", { GroupName = "g" }, { account = acct })
plan:print()
'''
    r = run(plan, "--dry-run")
    t.eq(r.rc, 0, "a dry run may assume a role to read")
    t.like(r.out, 'cam.CreateGroup {"GroupName":"g"} in account self (100000000001)',
           "the plan names the account of the write")

    r = run('tc.call("cam", "ListUsers", {}, { account = {} })')
    t.like(r.err, "bad option 'account' to 'call'", "opts.account must be an account")
    r = run('tc.account{ name = "x", uin = "12a45" }')
    t.like(r.err, "bad field 'uin' to 'account'", "a UIN is digits")
    r = run('tc.account{ name = "x", uin = "12345", role = "r", duration = 0 }')
    t.like(r.err, "bad field 'duration' to 'account'", "duration is 1..43200 seconds")
    r = run('tc.default_account(tc.account{ name = "x", uin = "12345", role = "r" })')
    t.like(r.err, "the default account must be the credentials' own", "a role is never the default")
t.done()
