#!/usr/bin/env python3
"""policy_rollout.lua: a changed role template goes through dev, test,
staging and prod (prod only with --approve), each version journaled with
its ticket and the template's hash, each stage's intents verified; a
template that breaks an intent stops at the first stage, rolled back, and
the later stages are untouched; a full set of five versions still takes a
rollout; --rollback restores the previous default; a dry run writes
nothing."""
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from account import events, tcrun_env  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-rollout-")
ROSTER = os.path.join(SRC, "samples", "roster.csv")
ENVS = ["dev", "test", "staging", "prod"]


def config(name, role, change):
    """A configuration folder whose policies/role-<role>.json is the
    shipped one changed by change(doc)."""
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "policies"), exist_ok=True)
    with open(os.path.join(SRC, "policies", "role-%s.json" % role)) as f:
        doc = json.load(f)
    change(doc)
    with open(os.path.join(d, "policies", "role-%s.json" % role), "w") as f:
        json.dump(doc, f, indent=2)
    return d


def add_action(action, i=0):
    def change(doc):
        doc["statement"][i]["action"].append(action)
    return change


with Sandbox("--async-delay-ms", "100") as sb:
    env = tcrun_env(sb, os.path.join(tmp, "journal"))

    def run(*a):
        if "policy_rollout.lua" in a:
            a = a + ("--settle", "1")
        return tcrun("--endpoint", sb.url, *a, env=env, tap=t, secrets=[sb.secret_key], timeout=300)

    def policy(name):
        p = [x for x in sb.call("cam", "ListPolicies", {"Scope": "Local", "Keyword": name, "Rp": 200})["List"]
             if x["PolicyName"] == name][0]
        versions = sb.call("cam", "ListPolicyVersions", {"PolicyId": p["PolicyId"]})["Versions"]
        doc = json.loads(sb.call("cam", "GetPolicy", {"PolicyId": p["PolicyId"]})["PolicyDocument"])
        default = [v["VersionId"] for v in versions if v["IsDefaultVersion"] == 1][0]
        return {"id": p["PolicyId"], "versions": sorted(v["VersionId"] for v in versions),
                "default": default, "doc": doc}

    def writes():
        return [e for e in events(sb) if e["name"] != "sts.AssumeRole"]

    t.eq(run("onboard.lua", ROSTER, "--out", os.path.join(tmp, "on")).rc, 0, "onboarding")
    admin = {e: policy("tcrun-%s-admin" % e) for e in ENVS}

    # A dry run: the plan per stage, no write.
    changed = config("admin1", "admin", add_action("tcb:DescribeEnvLimit"))
    w0 = len(writes())
    r = run("--config", changed, "--dry-run", "policy_rollout.lua", "--approve", "CHG-1")
    t.eq(r.rc, 0, "dry run")
    t.eq(len(writes()), w0, "a dry run writes nothing")
    t.like(r.out, "tcrun-dev-admin: update", "the plan names the policy to update")
    t.like(r.out, "+tcb:DescribeEnvLimit", "and the action it gains, as a set difference")
    t.like(r.out, "tcrun-dev-viewer: no change", "and says what does not change")

    # Prod refused without a ticket: the other stages are rolled out.
    r = run("--config", changed, "policy_rollout.lua")
    t.eq(r.rc, 1, "without --approve: exit 1")
    t.like(r.out, "stage prod: needs --approve TICKET; it would do:", "saying what prod would get")
    for e in ("dev", "test", "staging"):
        t.ok("tcb:DescribeEnvLimit" in json.dumps(policy("tcrun-%s-admin" % e)["doc"]),
             "%s has the change" % e)
    t.eq(policy("tcrun-prod-admin")["versions"], admin["prod"]["versions"], "prod is untouched")

    # All four stages with --approve.
    j0 = set(os.listdir(os.path.join(tmp, "journal")))
    r = run("--config", changed, "policy_rollout.lua", "--approve", "CHG-1")
    t.ok(r.rc == 0, "with --approve CHG-1: exit 0", r.out[-1500:] + r.err[-800:])
    t.ok("tcb:DescribeEnvLimit" in json.dumps(policy("tcrun-prod-admin")["doc"]), "prod has the change")
    t.like(r.out, "tcrun-prod-admin: 5 intent(s) hold", "prod's intents verified")
    lines = []
    for name in set(os.listdir(os.path.join(tmp, "journal"))) - j0:
        with open(os.path.join(tmp, "journal", name)) as f:
            lines += [json.loads(x) for x in f]
    made = [x for x in lines if x["action"] == "CreatePolicyVersion"]
    t.eq(len(made), 1, "one new version in this run (prod's)")
    t.ok(made and re.search(r"hash [0-9a-f]{16}, ticket CHG-1", made[0].get("note", "")),
         "its journal line records the template's hash and the ticket", made)

    t.like(r.out, "stage workspaces:", "then the personal policies")
    t.like(r.out, "tcrun-ws-alice.wang: no change", "each re-rendered and compared")

    # A changed workspace template reaches everyone's personal policy.
    ws = config("ws", "admin", lambda doc: None)
    with open(os.path.join(SRC, "policies", "workspace.json")) as f:
        wdoc = json.load(f)
    wdoc["statement"][2]["action"].append("lighthouse:ResetInstance")
    with open(os.path.join(ws, "policies", "workspace.json"), "w") as f:
        json.dump(wdoc, f)
    r = run("--config", ws, "policy_rollout.lua", "--stage", "workspaces", "--approve", "CHG-W")
    t.ok(r.rc == 0, "--stage workspaces", r.out[-1000:] + r.err[-500:])
    t.like(r.out, "+lighthouse:ResetInstance", "the plan shows the new deny")
    t.like(r.out, "tcrun-ws-emma.liu: 7 intent(s) hold (offline; none can be checked live)",
           "each changed one checked against its intents")
    t.ok("lighthouse:ResetInstance" in json.dumps(policy("tcrun-ws-emma.liu")["doc"]),
         "every personal policy has it")
    t.ok("tcrun-ws-bob.li" not in r.out, "someone without a workspace has none")

    # A template that breaks an intent offline: nothing written at all.
    before = {e: policy("tcrun-%s-developer" % e) for e in ("dev", "test")}
    w0 = len(writes())
    broken = config("broken", "developer", add_action("tcb:DestroyEnv", 1))
    r = run("--config", broken, "policy_rollout.lua", "--approve", "CHG-2")
    t.eq(r.rc, 2, "a template that breaks an intent offline: exit 2")
    t.like(r.err, 'tcrun-dev-developer for dev breaks its intent "cannot tcb:DestroyEnv',
           "naming the policy, the stage and the intent")
    t.eq(len(writes()), w0, "before any write")

    # One that only the live check can catch (a grant that starts
    # tomorrow, and the sandbox's clock is two days ahead): stops at dev,
    # rolled back; test untouched.
    import datetime
    tomorrow = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    bomb = config("bomb", "developer", lambda doc: doc["statement"].append({
        "effect": "allow", "action": ["cam:ListUsers"], "resource": ["*"],
        "condition": {"date_greater_than": {"qcs:current_time": tomorrow}}}))
    sb.advance_clock(2 * 86400)
    r = run("--config", bomb, "policy_rollout.lua", "--approve", "CHG-2")
    t.eq(r.rc, 1, "a live intent failure: exit 1")
    t.like(r.out, 'FAILED dev: tcrun-dev-developer breaks the intent "cannot cam:ListUsers on *" (live',
           "naming the stage, the policy and the intent")
    after = {e: policy("tcrun-%s-developer" % e) for e in ("dev", "test")}
    t.eq(after["dev"]["doc"], before["dev"]["doc"], "dev is rolled back to its previous default")
    t.ok(after["dev"]["default"] == before["dev"]["default"], "(the same version id)")
    t.eq(after["test"]["versions"], before["test"]["versions"], "test is untouched")
    r = run("--dry-run", "policy_rollout.lua", "--rollback", "--stage", "dev", "--only", "developer")
    t.like(r.out, "no earlier version meets the intents", "a rollback never picks the failed version")

    # Five versions full: the next rollout still succeeds.
    more = ["tcb:DescribeEnvLimit", "tcb:DescribeQuotaData", "tcb:DescribeEnvPlans",
            "tcb:DescribeBillingInfo", "tcb:DescribeDatabaseACL"]
    for i in range(5):
        c = config("many%d" % i, "viewer", lambda doc, i=i: doc["statement"][0]["action"].extend(more[:i + 1]))
        r = run("--config", c, "policy_rollout.lua", "--stage", "dev")
        t.ok(r.rc == 0, "rollout %d of dev's viewer policy" % (i + 1), r.out[-800:] + r.err[-500:])
    v = policy("tcrun-dev-viewer")
    t.eq(len(v["versions"]), 5, "CAM keeps five versions")
    t.ok(more[-1] in json.dumps(v["doc"]), "the fifth change is the default")

    # --rollback restores the previous default.
    prev = [x for x in v["versions"] if x < v["default"]][-1]
    r = run("policy_rollout.lua", "--rollback", "--stage", "dev", "--only", "viewer")
    t.eq(r.rc, 0, "--rollback --stage dev --only viewer")
    r = run("policy_rollout.lua", "--rollback", "--stage", "prod")
    t.eq(r.rc, 1, "a rollback of prod needs --approve too")
    w = policy("tcrun-dev-viewer")
    t.eq(w["default"], prev, "the previous version is the default again")
    t.ok(more[-1] not in json.dumps(w["doc"]), "without the last change")
# CAM takes a while to apply a change: verification waits for it rather
# than failing on (or passing with) the old state.
with Sandbox("--async-delay-ms", "100", "--policy-delay-ms", "3000") as sb:
    env = tcrun_env(sb)
    t.eq(tcrun("--endpoint", sb.url, "onboard.lua", ROSTER, "--out", os.path.join(tmp, "on-d"),
               env=env).rc, 0, "onboarding with a 3 s policy delay")
    c = config("delayed", "viewer", add_action("tcb:DescribeEnvLimit"))
    r = tcrun("--endpoint", sb.url, "--config", c, "policy_rollout.lua", "--stage", "dev", "--settle", "4",
              env=env, timeout=300)
    t.ok(r.rc == 0, "a rollout whose probe waits for the change to apply", r.out[-1000:] + r.err[-500:])
    t.like(r.out, "tcrun-dev-viewer: 6 intent(s) hold (4 checked live)", "and its live checks hold")

# One account per environment: each stage is an environment's account,
# checked live through the role itself.
with Sandbox("--async-delay-ms", "100", members=["acme-" + e for e in ENVS]) as sb:
    uin = {e: sb.members["acme-" + e] for e in ENVS}
    cfg = config("multi", "admin", add_action("tcb:DescribeEnvLimit"))
    with open(os.path.join(cfg, "accounts.lua"), "w") as f:
        f.write("return { hub = \"%d\", environments = {\n%s\n} }\n" % (sb.owner_uin, "\n".join(
            '  %s = { uin = "%d", name = "acme-%s" },' % (e, uin[e], e) for e in ENVS)))
    plain = os.path.join(tmp, "multi-plain")
    os.makedirs(plain, exist_ok=True)
    shutil.copy(os.path.join(cfg, "accounts.lua"), plain)
    env = dict(tcrun_env(sb), TENCENTCLOUD_REGION="ap-guangzhou")

    def run(*a):
        return tcrun("--endpoint", sb.url, *a, env=env, tap=t, secrets=[sb.secret_key], timeout=300)

    t.eq(run("--config", plain, "setup_accounts.lua", "--out", os.path.join(tmp, "setup")).rc, 0,
         "spokes set up")
    r = run("--config", cfg, "policy_rollout.lua", "--approve", "CHG-9", "--only", "admin", "--settle", "0")
    t.ok(r.rc == 0, "the admin template through four accounts", r.out[-1500:] + r.err[-800:])
    for e in ENVS:
        t.like(r.out, "stage %s (account %d):" % (e, uin[e]), "stage %s is %s's account" % (e, e))
        pol = [p for p in sb.call("cam", "ListPolicies", {"Scope": "Local", "Keyword": "tcrun-role-admin",
                                                           "Rp": 200}, account=uin[e])["List"]][0]
        doc = sb.call("cam", "GetPolicy", {"PolicyId": pol["PolicyId"]}, account=uin[e])["PolicyDocument"]
        t.ok("tcb:DescribeEnvLimit" in doc, "%s's tcrun-role-admin has the change" % e)
    t.like(r.out, "tcrun-role-admin: 5 intent(s) hold (2 checked live)", "verified live through the role")
t.done()
