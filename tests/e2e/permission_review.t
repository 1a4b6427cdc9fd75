#!/usr/bin/env python3
"""permission_review.lua: every kind of finding planted into the sandbox is
named, with exit 1; a clean onboarding gives exit 0 and no finding; accepted findings are listed apart and come back
when their acceptance expires; --fix makes only the safe remediations;
a failed read is exit 3, never "no access"; two runs never overlap."""
import csv
import fcntl
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from account import events, state_dir, tcrun_env  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-review-")
ROSTER = os.path.join(SRC, "samples", "roster.csv")
DAY = 86400
now = int(time.time())

with open(ROSTER, encoding="utf-8") as f:
    lines = f.read().splitlines()
# The review's roster: david.chen has left (not on it), nina.new has
# joined (not onboarded yet).
review_roster = os.path.join(tmp, "roster.csv")
with open(review_roster, "w", encoding="utf-8") as f:
    f.write("\n".join([l for l in lines if not l.startswith("david.chen,")] + [
        "nina.new,Nina New,nina.new@example.com,,platform,developer,dev,CC-PLAT-200,no"]) + "\n")


def run(sb, *a, env=None):
    return tcrun("--endpoint", sb.url, *a, env=env or tcrun_env(sb), tap=t,
                 secrets=[sb.secret_key], timeout=300)


def findings(out):
    with open(os.path.join(out, "review.json")) as f:
        return json.load(f)


def uin_of(sb, name):
    return sb.call("cam", "GetUser", {"Name": name})["Uin"]


# 1. A clean onboarding (admins and prod operators with MFA required):
# no finding, exit 0, quiet with -q.
with Sandbox("--async-delay-ms", "100") as sb:
    t.eq(run(sb, "onboard.lua", ROSTER, "--out", os.path.join(tmp, "on0")).rc, 0, "clean onboarding")
    out = os.path.join(tmp, "clean")
    r = run(sb, "permission_review.lua", ROSTER, "--out", out)
    t.eq(r.rc, 0, "a clean onboarding: exit 0")
    doc = findings(out)
    t.eq(doc["findings"], [], "and no finding")
    t.like(r.out, "0 finding(s)", "the summary says so")
    r = run(sb, "-q", "permission_review.lua", ROSTER, "--out", out)
    t.eq((r.rc, r.out, r.err), (0, "", ""), "-q: silent on success")
    t.ok(all(os.path.exists(os.path.join(out, n)) for n in ("review.json", "review.csv", "review.html")),
         "review.json, review.csv and review.html written")

# 2. Every kind planted.
with Sandbox("--async-delay-ms", "100") as sb:
    t.eq(run(sb, "onboard.lua", ROSTER, "--out", os.path.join(tmp, "on")).rc, 0, "onboarding")
    sb.set_mfa(uin_of(sb, "alice.wang"))                        # no-mfa: alice turned it off
    ghost = sb.call("cam", "AddUser", {"Name": "ghost", "ConsoleLogin": 1,
                                       "Password": "Gh0st-pass-123"})["Uin"]   # orphan-user
    admin = [p for p in sb.call("cam", "ListPolicies", {"Scope": "QCS", "Keyword": "AdministratorAccess"})
             ["List"] if p["PolicyName"] == "AdministratorAccess"][0]["PolicyId"]
    sb.call("cam", "AttachUserPolicy", {"PolicyId": admin, "AttachUin": ghost})   # full-access
    groups = {g["GroupName"]: g["GroupId"] for g in sb.call("cam", "ListGroups", {"Page": 1, "Rp": 100})
              ["GroupInfo"]}
    carol, emma, frank, bob = (uin_of(sb, n) for n in ("carol.zhang", "emma.liu", "frank.zhao", "bob.li"))
    sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": groups["prod-operator"], "Uin": carol}]})
    sb.call("cam", "UpdateUser", {"Name": "david.chen", "ConsoleLogin": 0})  # offboarded, groups left
    hand = sb.call("cam", "CreatePolicy", {"PolicyName": "handmade", "PolicyDocument": json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": ["tcb:DescribeEnvs"],
                                          "resource": ["*"]}]})})["PolicyId"]
    sb.call("cam", "AttachUserPolicy", {"PolicyId": hand, "AttachUin": frank})   # unmanaged-policy
    glass = sb.call("cam", "CreatePolicy", {"PolicyName": "break-glass-emma", "PolicyDocument": json.dumps(
        {"version": "2.0", "statement": [{"effect": "allow", "action": ["lighthouse:RebootInstances"],
                                          "resource": ["*"], "condition": {"date_less_than": {
                                              "qcs:current_time": "2026-01-01T00:00:00Z"}}}]})})["PolicyId"]
    sb.call("cam", "AttachUserPolicy", {"PolicyId": glass, "AttachUin": emma})   # expired-break-glass
    sb.set_last_login(bob, now - 200 * DAY)                       # stale-login
    k_emma = sb.call("cam", "CreateAccessKey", {"TargetUin": emma})["AccessKey"]["AccessKeyId"]
    sb.set_created("key", k_emma, now - 120 * DAY)                # unused-key (never used)
    k_frank = sb.call("cam", "CreateAccessKey", {"TargetUin": frank})["AccessKey"]["AccessKeyId"]
    sb.set_created("key", k_frank, now - 200 * DAY)               # old-key (used yesterday)
    sb.set_key_last_used(k_frank, now - 2 * DAY)
    k_fresh = sb.call("cam", "CreateAccessKey", {"TargetUin": carol})["AccessKey"]["AccessKeyId"]
    for _ in range(12):                                           # denied-burst
        sb.add_audit_event(event_name="DescribeInstances", service="lighthouse", username="emma.liu",
                           uin=emma, error_code="AuthFailure.UnauthorizedOperation", write=False)
    sb.add_audit_event(event_name="AttachUserPolicy", service="cam", username="frank.zhao", uin=frank,
                       write=True)                                # outside-change

    def attach(uin, name, statements):
        pid = sb.call("cam", "CreatePolicy", {"PolicyName": name, "PolicyDocument": json.dumps(
            {"version": "2.0", "statement": statements})})["PolicyId"]
        sb.call("cam", "AttachUserPolicy", {"PolicyId": pid, "AttachUin": uin})
    # A time-boxed grant still running gives emma (a viewer) prod writes;
    # a wildcard behind an IP condition makes bob an administrator; a deny
    # that cancels an allow gives frank nothing.
    attach(emma, "lh-until-2099", [{"effect": "allow", "action": ["lighthouse:*"], "resource": ["*"],
                                    "condition": {"date_less_than": {"qcs:current_time": "2099-01-01T00:00:00Z"}}}])
    attach(bob, "wild-anyip", [{"effect": "allow", "action": ["*"], "resource": ["*"],
                                "condition": {"ip_not_equal": {"qcs:ip": "192.0.2.1/32"}}}])
    attach(frank, "lh-allow-deny", [{"effect": "allow", "action": ["lighthouse:*"], "resource": ["*"]},
                                    {"effect": "deny", "action": ["lighthouse:*"], "resource": ["*"]}])
    k_ghost = sb.call("cam", "CreateAccessKey", {"TargetUin": ghost})["AccessKey"]["AccessKeyId"]

    out = os.path.join(tmp, "all")
    r = run(sb, "permission_review.lua", review_roster, "--out", out)
    t.eq(r.rc, 1, "findings: exit 1")
    doc = findings(out)
    got = {}
    for f in doc["findings"]:
        got.setdefault(f["kind"], set()).add(f["principal"])
    want = {
        "orphan-user": {"ghost", "david.chen"}, "missing-user": {"nina.new"},
        "role-drift": {"carol.zhang"}, "offboarded-with-access": {"david.chen"},
        "unmanaged-policy": {"frank.zhao", "emma.liu", "bob.li"}, "full-access": {"ghost", "bob.li", "emma.liu"},
        "prod-write": {"carol.zhang", "emma.liu"}, "no-mfa": {"alice.wang", "carol.zhang"},
        "stale-login": {"bob.li"},
        "unused-key": {"emma.liu"}, "old-key": {"frank.zhao"}, "expired-break-glass": {"emma.liu"},
        "orphan-workspace": {"david.chen"}, "denied-burst": {"emma.liu"},
        "outside-change": {"frank.zhao"}}
    for kind, who in sorted(want.items()):
        t.ok(who <= got.get(kind, set()), "%s: %s" % (kind, ", ".join(sorted(who))),
             "got %s" % sorted(got.get(kind, set())))
    t.eq(sorted(set(got) - set(want)), [], "no kind that was not planted")
    t.ok("carol.zhang" not in got.get("unused-key", set()), "a fresh key is never unused")
    t.ok("frank.zhao" not in got.get("full-access", set()), "an allow a deny cancels is no full access")
    t.like([f["detail"] for f in doc["findings"] if f["kind"] == "no-mfa" and f["principal"] == "carol.zhang"][0],
           "in group prod-operator", "MFA is asked of whoever is really in an admin or prod-operator group")
    t.eq(oct(os.stat(os.path.join(out, "review.json")).st_mode & 0o777), "0o600", "review.json is 0600")
    t.ok(all(f["id"] and f["severity"] in ("high", "medium", "low") and f["account"] and f["detail"]
             and isinstance(f["evidence"], dict) for f in doc["findings"]),
         "every finding has an id, severity, account, detail and evidence")
    ids = [f["id"] for f in doc["findings"]]
    t.eq(len(ids), len(set(ids)), "ids are unique")
    t.eq(doc["summary"]["total"], len(doc["findings"]), "the summary counts them")
    with open(os.path.join(out, "review.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    t.eq(sorted(r_["id"] for r_ in rows), sorted(ids), "review.csv lists the same findings")
    with open(os.path.join(out, "review.html"), encoding="utf-8") as f:
        page = f.read()
    t.ok(all(i in page for i in ids) and "http://" not in page and "https://" not in page,
         "review.html lists every finding and loads nothing from elsewhere")
    r2 = run(sb, "permission_review.lua", review_roster, "--out", os.path.join(tmp, "again"))
    t.eq([f["id"] for f in findings(os.path.join(tmp, "again"))["findings"]], ids,
         "ids are stable from run to run")

    # Acceptances: listed apart until they expire; refused without owner,
    # ticket or expiry.
    ghost_id = [f["id"] for f in doc["findings"] if f["kind"] == "orphan-user" and f["principal"] == "ghost"][0]
    bob_id = [f["id"] for f in doc["findings"] if f["kind"] == "stale-login"][0]
    acc = os.path.join(tmp, "accept.csv")
    with open(acc, "w") as f:
        f.write("id,owner,ticket,expires\n%s,sec@example.com,SEC-1,2099-12-31\n"
                "%s,sec@example.com,SEC-2,2020-01-31\n" % (ghost_id, bob_id))
    out2 = os.path.join(tmp, "accepted")
    r = run(sb, "permission_review.lua", review_roster, "--out", out2, "--accept", acc)
    d2 = findings(out2)
    t.eq([f["id"] for f in d2["accepted"]], [ghost_id], "an accepted finding is listed apart")
    t.ok(ghost_id not in [f["id"] for f in d2["findings"]], "and not among the findings")
    back = [f for f in d2["findings"] if f["id"] == bob_id]
    t.ok(back and "acceptance_expired" in back[0]["evidence"], "an expired acceptance: the finding is back")
    t.like(back[0]["detail"] if back else "", "(its acceptance, SEC-2, expired 2020-01-31)",
           "and says so in its detail")
    with open(acc, "w") as f:
        f.write("id,owner,ticket,expires\n%s,,SEC-1,2099-12-31\n" % ghost_id)
    r = run(sb, "permission_review.lua", review_roster, "--out", out2, "--accept", acc)
    t.eq(r.rc, 2, "an acceptance without an owner is refused: exit 2")
    t.like(r.err, "accept.csv:2: an acceptance needs owner", "naming its line")
    with open(acc, "w") as f:
        f.write("id,owner,ticket,expires\n%s,sec@example.com,SEC-1,2027-02-30\n" % ghost_id)
    r = run(sb, "permission_review.lua", review_roster, "--out", out2, "--accept", acc)
    t.eq(r.rc, 2, "an expiry that is no calendar date (2027-02-30) is refused")

    # An acceptance covers the facts it was given for: a new kind of CAM
    # change by frank is a new finding.
    frank_id = [f["id"] for f in doc["findings"] if f["kind"] == "outside-change"][0]
    with open(acc, "w") as f:
        f.write("id,owner,ticket,expires\n%s,sec@example.com,SEC-3,2099-12-31\n" % frank_id)
    sb.add_audit_event(event_name="CreateAccessKey", service="cam", username="frank.zhao", uin=frank,
                       write=True)
    r = run(sb, "permission_review.lua", review_roster, "--out", out2, "--accept", acc)
    d3 = findings(out2)
    t.ok(any(f["kind"] == "outside-change" and f["principal"] == "frank.zhao" for f in d3["findings"]),
         "a new kind of change by frank is a finding again, despite the acceptance")
    t.like(r.err, "matches no finding of this review", "and the stale acceptance is pointed out")

    # --fix: only the safe remediations, planned under --dry-run.
    w0 = len(events(sb))
    r = run(sb, "--dry-run", "permission_review.lua", review_roster, "--out", out2, "--fix")
    t.eq(len(events(sb)), w0, "--fix --dry-run writes nothing")
    t.like(r.out, 'cam.UpdateAccessKey {"AccessKeyId":"%s","Status":"Inactive"' % k_emma,
           "it plans to deactivate the unused key")
    t.like(r.out, 'cam.UpdateUser {"ConsoleLogin":0,"Name":"ghost"}', "and the orphan's login off")
    t.like(r.out, "cam.DetachUserPolicy", "and the expired grant off")
    r = run(sb, "permission_review.lua", review_roster, "--out", out2, "--fix")
    names = [e["name"] for e in events(sb)[w0:]]
    t.eq(sorted(set(names)), ["cam.DetachUserPolicy", "cam.UpdateAccessKey", "cam.UpdateUser"],
         "--fix made only those kinds of writes (never a delete)")
    keys = {k["AccessKeyId"]: k["Status"] for k in sb.call("cam", "ListAccessKeys", {"TargetUin": emma})["AccessKeys"]}
    t.eq(keys.get(k_emma), "Inactive", "the unused key is off")
    t.eq(sb.call("cam", "GetUser", {"Name": "ghost"})["ConsoleLogin"], 0, "the orphan cannot log in")
    gkeys = {k["AccessKeyId"]: k["Status"] for k in sb.call("cam", "ListAccessKeys", {"TargetUin": ghost})["AccessKeys"]}
    t.eq(gkeys.get(k_ghost), "Inactive", "nor use its key (kept, inactive)")
    with open(os.path.join(out2, "review.csv"), newline="") as f:
        st = {r_["id"]: r_["status"] for r_ in csv.DictReader(f)}
    t.eq(st.get(ghost_id), "fixed", "the report of the --fix run marks what it fixed")

    # Two runs never overlap.
    os.makedirs(state_dir(sb), exist_ok=True)
    with open(os.path.join(state_dir(sb), "permission_review.lock"), "a") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX | fcntl.LOCK_NB)
        r = run(sb, "permission_review.lua", review_roster, "--out", out2)
        t.eq(r.rc, 2, "while another run holds the lock: exit 2")
        t.like(r.err, "held by another run (pid %d: " % os.getpid(), "saying so, and which")

# Nearly every call fails: an empty account is read in a few calls, and
# at 0.3 about one run in twenty-five met no fault at all.
with Sandbox("--async-delay-ms", "100", "--fault-rate", "0.9") as sb:
    t.diag("fault seed %s" % sb.seed)
    out = os.path.join(tmp, "faulty")
    os.makedirs(out, mode=0o700, exist_ok=True)
    with open(os.path.join(out, "review.json"), "w") as f:
        f.write("{}\n")
    r = run(sb, "--retries", "0", "permission_review.lua", ROSTER, "--out", out)
    t.eq(r.rc, 3, "a read that fails: exit 3")
    t.ok(not os.path.exists(os.path.join(out, "review.json"))
         and os.path.exists(os.path.join(out, "review.json.previous")),
         "and no review is there: the last one is renamed .previous")
    t.ok("traceback" not in r.err and len(r.err.strip().splitlines()) <= 2 and "a read failed" in r.err,
         "said in one line", r.err)
t.done()
