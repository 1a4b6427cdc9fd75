#!/usr/bin/env python3
"""onboard.lua refuses, before any write (exit 2), a roster the account has
no room for: more new sub-users than CAM's 1,000, or more new CloudBase
environments than DescribeEnvLimit leaves.  People already there count
as there; a roster that fits goes ahead."""
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tctest import Tap, tcrun  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from account import events, tcrun_env, write_count  # noqa: E402

HEADER = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace\n"

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-limits-")


def write_roster(name, people, workspace="no"):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        for n in people:
            f.write("%s,%s,%s@example.com,,platform,viewer,dev,CC-1,%s\n" % (n, n, n, workspace))
    return path


def one(name, role, envs, workspace="no"):
    """A roster of one person (name@example.com)."""
    path = os.path.join(tmp, "%s-%s-%s-%s.csv" % (name, role, envs.replace(";", "-"), workspace))
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "%s,%s,%s@example.com,,platform,%s,%s,CC-1,%s\n"
                % (name, name.title(), name, role, envs, workspace))
    return path


def clubs(sb, uin, n):
    """Puts uin in n groups of its own, club-0 ... club-(n-1)."""
    for i in range(n):
        gid = sb.call("cam", "CreateGroup", {"GroupName": "club-%d" % i})["GroupId"]
        sb.call("cam", "AddUserToGroup", {"Info": [{"GroupId": gid, "Uin": uin}]})


def groups_of(sb, uin):
    return sorted(g["GroupName"] for g in sb.call("cam", "ListGroupsForUser", {"SubUin": uin})["GroupInfo"])


def run(sb, *a):
    return tcrun("--endpoint", sb.url, "--rate-limit", "0", "--parallel", "16", *a,
                 env=tcrun_env(sb), tap=t, secrets=[sb.secret_key], timeout=300)


# CloudBase: at most 3 environments in this sandbox.
with Sandbox("--async-delay-ms", "100", "--tcb-limits", "3,4,100") as sb:
    four = write_roster("four.csv", ["ws%d" % i for i in range(4)], "yes")
    w0 = write_count(sb)
    r = run(sb, "onboard.lua", four, "--out", os.path.join(tmp, "four"))
    t.eq(r.rc, 2, "four new environments where three fit: exit 2")
    t.like(r.err, "needs 4 new CloudBase environments in ap-shanghai, but only 3 are left (0 of 3 used",
           "saying how many it needs and how many there are")
    t.eq(write_count(sb), w0, "nothing written")
    three = write_roster("three.csv", ["ws%d" % i for i in range(3)], "yes")
    t.eq(run(sb, "onboard.lua", three, "--out", os.path.join(tmp, "three")).rc, 0,
         "three fit, and are onboarded")
    t.eq(run(sb, "--dry-run", "onboard.lua", three).rc, 0,
         "onboarding them again needs no new environment")

# CAM: 1,000 sub-users; 995 are there (five of them on the roster).
with Sandbox() as sb:
    c = sb.client()
    for i in range(995):
        c.call("cam", "AddUser", {"Name": "old%03d" % i, "ConsoleLogin": 1, "Password": "Old-pass-123!"})
    people = ["old%03d" % i for i in range(5)] + ["new%d" % i for i in range(6)]
    w0 = write_count(sb)
    r = run(sb, "onboard.lua", write_roster("six.csv", people), "--out", os.path.join(tmp, "six"))
    t.eq(r.rc, 2, "six new sub-users where five fit: exit 2")
    t.like(r.err, "needs 6 new sub-users, but the account has 995 of CAM's 1000",
           "saying how many it needs and how many there are")
    t.like(r.err, "offboard.lua --delete-user", "and what frees room")
    t.eq(write_count(sb), w0, "nothing written")
    r = run(sb, "--dry-run", "onboard.lua", write_roster("five.csv", people[:10]))
    t.eq(r.rc, 0, "five new ones fit (the five already there count as there)")

# CAM's 10 groups per user: a developer in all four environments, in three
# groups of her own, becomes an operator; leaving the developer groups
# first, she never holds more than 7 + 4.
with Sandbox() as sb:
    all4 = "dev;test;staging;prod"
    t.eq(run(sb, "onboard.lua", one("amy", "developer", all4), "--out", os.path.join(tmp, "amy1")).rc, 0,
         "amy onboarded as a developer in four environments")
    uin = sb.call("cam", "GetUser", {"Name": "amy"})["Uin"]
    clubs(sb, uin, 3)
    r = run(sb, "onboard.lua", one("amy", "operator", all4), "--out", os.path.join(tmp, "amy2"))
    t.eq(r.rc, 0, "her change to operator goes through")
    t.eq(groups_of(sb, uin), ["club-0", "club-1", "club-2", "dev-operator", "prod-operator", "staging-operator",
                  "test-operator"], "she is in the operator groups and her own, no developer group")


# A viewer in dev with nine groups of her own is in CAM's 10; given test
# too she would be in 11.  Her row fails before any change to her groups.
with Sandbox() as sb:
    t.eq(run(sb, "onboard.lua", one("bea", "viewer", "dev"), "--out", os.path.join(tmp, "bea1")).rc, 0,
         "bea onboarded as a viewer in dev")
    uin = sb.call("cam", "GetUser", {"Name": "bea"})["Uin"]
    clubs(sb, uin, 9)
    w0 = write_count(sb)
    r = run(sb, "onboard.lua", one("bea", "viewer", "dev;test", "yes"), "--out", os.path.join(tmp, "bea2"))
    t.eq(r.rc, 1, "viewer in test too, past CAM's 10 groups: her row fails")
    t.like(r.err, "bea would be in 11 CAM groups, past CAM's limit of 10 per user: take them out of groups "
           "they no longer need (their groups besides tcrun's role groups: club-0, club-1, "
           "club-2, club-3, club-4, club-5, club-6, club-7, club-8)",
           "saying how many, and which of her groups are not tcrun's")
    t.ok("UserGroupFull" not in r.err, "before CAM has to refuse it")
    names = [e["name"] for e in events(sb)][w0:]
    mine = [n for n in names if n in ("cam.AddUserToGroup", "cam.RemoveUserFromGroup", "cam.UpdateUser",
                                      "tcb.CreateEnv", "lighthouse.CreateInstances")]
    t.eq(mine, [], "nothing was made or changed for her, no server or environment either "
         "(sent: %s)" % ", ".join(names))
    r = run(sb, "--dry-run", "onboard.lua", one("bea", "viewer", "dev;test", "yes"))
    t.like(r.out, "0 of 1 employee(s) would change, 1 failed", "a dry run says so too")
    t.ok("CreateInstances" not in r.out, "and plans no server for her")

    # At the edge: a developer in dev instead leaves one group and joins
    # one, staying at 10, and goes through.
    r = run(sb, "onboard.lua", one("bea", "developer", "dev"), "--out", os.path.join(tmp, "bea3"))
    t.eq(r.rc, 0, "a role change that stays at 10 groups goes through")
    t.eq(groups_of(sb, uin), ["club-%d" % i for i in range(9)] + ["dev-developer"], "she is in 10 groups")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
