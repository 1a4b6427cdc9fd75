#!/usr/bin/env python3
"""The lifecycle's edges: resources someone else tagged "owner", a new hire
with a leaver's username, an offboarded user on an onboarding roster, a
demotion, what a business unit offers, stray verification keys, servers in
the isolation check, and a misspelt leaver."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import account  # noqa: E402
from account import envs, instances, tags  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-edges-")
HEAD = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace\n"


def roster(name, *rows):
    path = os.path.join(tmp, name + ".csv")
    with open(path, "w") as f:
        f.write(HEAD + "".join(r + "\n" for r in rows))
    return path


GINA = "gina.wu,Gina Wu,gina.wu@example.com,,platform,admin,dev;test,CC-1,yes"
HAL = "hal.ma,Hal Ma,hal.ma@example.com,,platform,developer,dev,CC-1,yes"

with Sandbox("--async-delay-ms", "100") as sb:
    def run(*a):
        return tcrun("--endpoint", sb.url, *a, env=account.tcrun_env(sb, os.path.join(tmp, "j")))

    # A team server someone tagged owner=gina.wu, made outside tcrun.
    team = sb.call("lighthouse", "CreateInstances", {
        "BundleId": "bundle_starter_mc_med2_02", "BlueprintId": "lhbp-a1ubu224",
        "InstanceChargePrepaid": {"Period": 1}, "InstanceName": "team-build-box",
        "Tags": [{"Key": "owner", "Value": "gina.wu"}]}, region="ap-guangzhou")["InstanceIdSet"][0]
    r = run("onboard.lua", roster("two", GINA, HAL), "--out", os.path.join(tmp, "on"))
    t.eq(r.rc, 0, "onboarding gina and hal succeeds")
    gina_servers = [i for i in instances(sb, "ap-guangzhou") if tags(i).get("owner") == "gina.wu"]
    t.eq(len(gina_servers), 2, "gina got her own server; the team server was not taken over")
    team_now = [i for i in gina_servers if i["InstanceId"] == team][0]
    t.eq(tags(team_now), {"owner": "gina.wu"}, "the team server's tags are untouched")
    doc = sb.call("cam", "GetPolicy", {"PolicyId": account.cam_pages(
        sb, "ListPolicies", {"Scope": "Local", "Keyword": "tcrun-ws-gina.wu"}, "List")[0]["PolicyId"]})
    t.ok(team not in doc["PolicyDocument"], "gina's policy does not grant the team server")

    # A demotion: gina from admin on dev;test to viewer on dev.
    demoted = GINA.replace("admin,dev;test", "viewer,dev")
    r = run("onboard.lua", roster("demoted", demoted, HAL), "--out", os.path.join(tmp, "on"))
    uin = sb.call("cam", "GetUser", {"Name": "gina.wu"})["Uin"]
    groups = sorted(g["GroupName"] for g in account.cam_pages(
        sb, "ListGroupsForUser", {"SubUin": uin}, "GroupInfo"))
    t.eq((r.rc, groups), (0, ["dev-viewer"]), "a demotion leaves the old role groups")

    # A business unit offers only some roles (a unit of the admin's own,
    # in the configuration folder).
    conf = os.path.join(tmp, "conf")
    os.makedirs(os.path.join(conf, "bu"))
    with open(os.path.join(conf, "bu", "interns.lua"), "w") as f:
        f.write('return { roles = { "viewer" }, environments = { "dev", "test" } }\n')
    bad = roster("interns", "ivy.he,Ivy He,ivy.he@example.com,,interns,admin,dev;prod,CC-9,no")
    n = account.write_count(sb)
    r = run("--config", conf, "onboard.lua", bad, "--out", os.path.join(tmp, "on"))
    t.eq(r.rc, 2, "a role or environment the unit does not offer: exit 2")
    t.like(r.err, "%s:2: role 'admin' is not one business unit 'interns' offers" % bad,
           "the role is named with file:line")
    t.like(r.err, "%s:2: environment 'prod' is not one business unit 'interns' offers" % bad,
           "so is the environment")
    t.eq(account.write_count(sb), n, "and nothing was written")

    # Offboarding gina leaves the team server alone; a misspelt name warns.
    leavers = os.path.join(tmp, "leavers.csv")
    with open(leavers, "w") as f:
        f.write("username\ngina.wu\ngnia.wu\n")
    r = run("offboard.lua", leavers, "--delete-user", "--out", os.path.join(tmp, "off"))
    t.eq(r.rc, 0, "offboarding gina (and a typo) exits 0")
    t.like(r.err, "gnia.wu: no such user and no workspace", "the misspelt leaver is warned about")
    states = {i["InstanceId"]: i["InstanceState"] for i in instances(sb, "ap-guangzhou")}
    t.eq(states[team], "RUNNING", "the team server someone tagged owner=gina.wu still runs")
    old = [i for i in instances(sb, "ap-guangzhou")
           if tags(i).get("owner") == "gina.wu" and i["InstanceId"] != team]
    t.ok([i["InstanceState"] for i in old] in (["STOPPING"], ["STOPPED"]),
         "gina's own server is stopped and kept", old)

    # A new hire with the same username gets a workspace of her own.
    r = run("onboard.lua", roster("rehire", GINA), "--out", os.path.join(tmp, "on2"))
    t.eq(r.rc, 0, "a new gina.wu is onboarded")
    new_uin = sb.call("cam", "GetUser", {"Name": "gina.wu"})["Uin"]
    mine = [e for e in envs(sb, "ap-shanghai") if tags(e).get("owner-uin") == str(new_uin)]
    olds = [e for e in envs(sb, "ap-shanghai") if tags(e).get("owner-uin") == str(uin)]
    t.ok(len(mine) == 1 and len(olds) == 1 and mine[0]["EnvId"] != olds[0]["EnvId"],
         "she gets a new environment; the leaver's retained one is not hers", (mine, olds))
    t.eq(tags(olds[0]).get("offboarded") is not None, True, "the old one stays tagged offboarded")

    # An offboarded user still on an onboarding roster is not half-restored.
    with open(leavers, "w") as f:
        f.write("username\nhal.ma\n")
    run("offboard.lua", leavers, "--out", os.path.join(tmp, "off"))
    n = account.write_count(sb)
    r = run("onboard.lua", roster("again", HAL), "--out", os.path.join(tmp, "on"))
    t.eq(r.rc, 1, "onboarding an offboarded user fails for them")
    t.like(r.out, "hal.ma has console login disabled (offboarded?)", "and says why")
    t.eq(account.write_count(sb), n, "without a single write")

    # verify_isolation: an offboarded employee still on the roster is
    # listed as offboarded, not failed, and gets no temporary key.
    r = run("verify_isolation.lua", roster("again", HAL), "--out", os.path.join(tmp, "v"))
    t.eq(r.rc, 0, "verify_isolation with an offboarded employee: exit 0")
    t.like(r.out, "result         offboarded 1", "listed as offboarded")
    t.eq(account.write_count(sb), n, "and no key was made for them (no write)")

    # verify_isolation: a key left by an interrupted run is cleaned up, and
    # broad Lighthouse access is caught too.
    ws = roster("ws", GINA)
    gina = sb.call("cam", "GetUser", {"Name": "gina.wu"})["Uin"]
    sb.call("cam", "CreateAccessKey", {"TargetUin": gina, "Description": "tcrun-verify-isolation"})
    sb.call("cam", "CreateAccessKey", {"TargetUin": gina, "Description": "tcrun-verify-isolation"})
    r = run("verify_isolation.lua", ws, "--out", os.path.join(tmp, "v"))
    keys = sb.call("cam", "ListAccessKeys", {"TargetUin": gina})["AccessKeys"]
    t.eq((r.rc, keys), (0, []), "two stray keys from earlier runs: cleaned up, the check passes")
    full = account.cam_pages(sb, "ListPolicies", {"Scope": "QCS", "Keyword": "QcloudLighthouseFullAccess"},
                             "List")[0]["PolicyId"]
    sb.call("cam", "AttachUserPolicy", {"PolicyId": full, "AttachUin": gina})
    r = run("verify_isolation.lua", ws, "--out", os.path.join(tmp, "v"))
    t.eq(r.rc, 1, "Lighthouse full access on gina: the check fails")
    t.like(r.out, "FAILED gina.wu at servers_listed: DescribeInstances listed", "naming her and what she could see")
t.done()
