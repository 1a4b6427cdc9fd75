#!/usr/bin/env python3
"""who_can.lua answers, offline, exactly who may do an action on a resource,
through which policy, in one account and across accounts through roles;
permission_review.lua reviews every environment's account too, naming
orphans there and prod write rights that come through an assumable role."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from account import state_dir, tcrun_env  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

t = Tap()


def same(got, want, name, diag):
    t.ok(got == want, name, "got:  %r\nwant: %r\n%s" % (got, want, diag))
tmp = tempfile.mkdtemp(prefix="tcrun-whocan-")
ROSTER = os.path.join(SRC, "samples", "roster.csv")
ENVS = ["dev", "test", "staging", "prod"]


def principals(out):
    """{principal: via} from who_can's lines."""
    got = {}
    for line in out.splitlines()[1:]:
        parts = line.split()
        if parts:
            got.setdefault(parts[0] if parts[0] != "role" else "role " + parts[1], line)
    return got


with Sandbox("--async-delay-ms", "100") as sb:
    env = tcrun_env(sb)

    def run(*a):
        return tcrun("--endpoint", sb.url, *a, env=env, tap=t, secrets=[sb.secret_key], timeout=300)

    t.eq(run("onboard.lua", ROSTER, "--out", os.path.join(tmp, "on")).rc, 0, "onboarding")
    alice = sb.call("cam", "GetUser", {"Name": "alice.wang"})["Uin"]
    envs = sb.call("tcb", "DescribeEnvs", {}, region="ap-shanghai")["EnvList"]
    mine = [e["EnvId"] for e in envs
            if {"Key": "owner", "Value": "alice.wang"} in e.get("Tags", [])][0]
    res = "qcs::tcb:ap-shanghai:uin/%d:env/%s" % (sb.owner_uin, mine)
    r = run("who_can.lua", "tcb:ModifyEnv", res)
    t.eq(r.rc, 0, "who_can runs")
    got = principals(r.out)
    same(sorted(got), ["alice.wang"], "only alice may change her own environment", r.out)
    t.like(r.out, "policy tcrun-ws-alice.wang statement", "through her workspace policy")

    probe = "qcs::lighthouse:ap-guangzhou:uin/%d:instance/lhins-probe" % sb.owner_uin
    r = run("who_can.lua", "lighthouse:StopInstances", probe, "--tag", "environment=prod")
    got = principals(r.out)
    same(sorted(got), ["alice.wang", "bob.li", "frank.zhao"],
         "a prod server can be stopped by the prod admin and the prod operators", r.out)
    t.like(got.get("bob.li", ""), "group prod-operator", "naming the group")
    r = run("who_can.lua", "lighthouse:StopInstances", probe, "--tag", "environment=dev")
    t.eq(sorted(principals(r.out)), ["alice.wang", "carol.zhang", "david.chen"],
         "a dev server: the dev admin and the dev developers")
    r = run("who_can.lua", "cam:ListUsers", "*")
    t.eq(sorted(principals(r.out)), [], "nobody but root may list CAM users")
    r = run("who_can.lua", "ListUsers", "*")
    t.eq(r.rc, 2, "an action without its service: exit 2")

with Sandbox("--async-delay-ms", "100", members=["acme-" + e for e in ENVS]) as sb:
    uin = {e: sb.members["acme-" + e] for e in ENVS}
    cfg = os.path.join(tmp, "cfg")
    os.makedirs(cfg, exist_ok=True)
    with open(os.path.join(cfg, "accounts.lua"), "w") as f:
        f.write("return { hub = \"%d\", environments = {\n%s\n} }\n" % (sb.owner_uin, "\n".join(
            '  %s = { uin = "%d", name = "acme-%s" },' % (e, uin[e], e) for e in ENVS)))
    env = dict(tcrun_env(sb), TENCENTCLOUD_REGION="ap-guangzhou")

    def run(*a):
        return tcrun("--endpoint", sb.url, "--config", cfg, *a, env=env, tap=t,
                     secrets=[sb.secret_key], timeout=300)

    t.eq(run("setup_accounts.lua", "--out", os.path.join(tmp, "setup")).rc, 0, "spokes set up")
    t.eq(run("onboard.lua", ROSTER, "--out", os.path.join(tmp, "on2")).rc, 0, "onboarded into the hub")
    probe = "qcs::lighthouse:ap-guangzhou:uin/%d:instance/lhins-probe" % uin["prod"]
    r = run("who_can.lua", "lighthouse:StopInstances", probe, "--tag", "environment=prod")
    got = principals(r.out)
    people = sorted(k for k in got if not k.startswith("role "))
    same(people, ["alice.wang", "bob.li", "frank.zhao"],
         "in prod's account: exactly the people who may assume a prod role that can", r.out)
    t.like(got.get("bob.li", ""), "assumes tcrun-operator (group prod-operator)",
           "through which role and which hub group")
    t.eq(sorted(k for k in got if k.startswith("role ")),
         ["role OrganizationAccessControlRole", "role tcrun-admin", "role tcrun-developer",
          "role tcrun-operator"], "and the roles themselves (developers may stop servers too)")
    dev_probe = probe.replace(str(uin["prod"]), str(uin["dev"]))
    r = run("who_can.lua", "lighthouse:StopInstances", dev_probe, "--tag", "environment=dev")
    t.eq(sorted(k for k in principals(r.out) if not k.startswith("role ")),
         ["alice.wang", "carol.zhang", "david.chen"], "in dev's account: the dev admin and developers")

    # The review covers every account.
    r = run("permission_review.lua", ROSTER, "--out", os.path.join(tmp, "rv"))
    same(r.rc, 0, "a clean multi-account onboarding: no finding", r.out)
    sb.call("cam", "AddUser", {"Name": "contractor", "ConsoleLogin": 0}, account=uin["prod"])
    carol = sb.call("cam", "GetUser", {"Name": "carol.zhang"})["Uin"]
    gid = [g["GroupId"] for g in sb.call("cam", "ListGroups", {"Page": 1, "Rp": 100})["GroupInfo"]
           if g["GroupName"] == "prod-operator"][0]
    sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": gid, "Uin": carol}]})
    r = run("permission_review.lua", ROSTER, "--out", os.path.join(tmp, "rv"))
    t.eq(r.rc, 1, "findings in multi-account mode")
    with open(os.path.join(tmp, "rv", "review.json")) as f:
        doc = json.load(f)
    by = {(f["kind"], f["principal"]): f for f in doc["findings"]}
    t.eq(by.get(("orphan-user", "contractor"), {}).get("account"), "prod (%d)" % uin["prod"],
         "a sub-user in prod's account is an orphan there")
    pw = by.get(("prod-write", "carol.zhang"), {})
    t.like(pw.get("evidence", {}).get("via", ""), "prod account, role tcrun-operator",
           "carol's prod write comes through the role she may now assume")
    t.eq(sorted(a["name"] for a in doc["accounts"]), sorted(["hub"] + ENVS), "every account reviewed")
t.done()
