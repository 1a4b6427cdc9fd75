#!/usr/bin/env python3
"""onboard.lua against the sandbox, on samples/roster.csv: a dry run on the
empty account writes nothing and prints the plan; the real run leaves the
full state for every employee (read back from the sandbox); a second run
and a dry run after it write nothing (CloudAudit) and open no journal."""
import csv
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from tctest import SRC, Tap  # noqa: E402
from sandbox import Sandbox  # noqa: E402
import account  # noqa: E402
from account import onboard, read, tags, write_count  # noqa: E402

ROSTER = os.path.join(SRC, "samples", "roster.csv")
SERVER_REGION = {"platform": "ap-guangzhou", "research": "ap-beijing"}
BUNDLE = {"platform": ("bundle_starter_mc_med2_02", "lhbp-a1ubu224"),
          "research": ("bundle_gen_mc_large8_02", "lhbp-k1dock26")}
EXTRA_TAGS = {"platform": {}, "research": {"data-classification": "internal"}}

t = Tap()
with open(ROSTER, newline="", encoding="utf-8") as f:
    people = list(csv.DictReader(f))
tmp = tempfile.mkdtemp(prefix="tcrun-onboard-")
out = os.path.join(tmp, "out")

with Sandbox("--async-delay-ms", "200") as sb:
    # --- dry run on the empty account ---------------------------------
    w0 = write_count(sb)
    jdir = os.path.join(tmp, "journal-dry")
    r = onboard(sb, ROSTER, os.path.join(tmp, "dry"), "--dry-run", journal_dir=jdir, tap=t)
    t.eq(r.rc, 0, "dry run: exit status 0")
    t.eq(write_count(sb) - w0, 0, "dry run: CloudAudit shows no write call")
    t.ok(not os.path.exists(jdir) or not os.listdir(jdir), "dry run: no journal is opened")
    m = re.search(r"dry run: (\d+) write call\(s\) planned, none made", r.out)
    t.ok(m, "dry run: says how many writes it planned", r.out[-500:])
    planned = int(m.group(1)) if m else -1
    sections = re.findall(r"^(\S+):$", r.out, re.M)
    t.eq(sections, ["(groups)"] + [p["username"] for p in people],
         "dry run: the plan lists the groups, then each employee in roster order")
    alice = r.out.split("\nalice.wang:\n", 1)[-1]
    t.ok(alice.startswith("  1. cam.AddUser {"), "dry run: alice.wang's first write is cam.AddUser",
         alice[:300])
    order = re.findall(r"^  \d+\. (\S+) ", alice.split("\nbob.li:\n")[0], re.M)
    t.eq(order, ["cam.AddUser", "cam.AddUserToGroup", "cam.SetMfaFlag", "tcb.CreateEnv",
                 "lighthouse.CreateInstances", "cam.CreatePolicy", "cam.AttachUserPolicy",
                 "tat.RunCommand"], "dry run: alice.wang's writes in order (an admin: MFA required)")
    t.like(alice, "  # groups dev-admin, test-admin, staging-admin, prod-admin\n",
           "dry run: the plan names the groups an AddUserToGroup joins (the call has ids)")
    t.ok("planned" in r.err and ": done" not in r.err, "dry run: the progress says planned, not done",
         r.err[-300:])
    bob = r.out.split("\nbob.li:\n", 1)[-1].split("\ncarol.zhang:\n")[0]
    t.eq(re.findall(r"^  \d+\. (\S+) ", bob, re.M), ["cam.AddUser", "cam.AddUserToGroup", "cam.SetMfaFlag"],
         "dry run: bob.li (workspace=no, a prod operator) gets a user, groups and MFA only")
    carol = r.out.split("\ncarol.zhang:\n", 1)[-1].split("\ndavid.chen:\n")[0]
    t.ok("SetMfaFlag" not in carol, "dry run: a developer's MFA is left to them")
    pw = re.findall(r'"Password":"([^"]*)"', r.out)
    t.ok(len(pw) == len(people) and set(pw) == {"***"},
         "dry run: every AddUser shows Password as *** (no value printed)", pw)

    # --- the real run ----------------------------------------------------
    jdir = os.path.join(tmp, "journal-1")
    w0 = write_count(sb)
    started = time.time()
    r = onboard(sb, ROSTER, out, journal_dir=jdir, tap=t)
    t.diag("first run: %.1f s" % (time.time() - started))
    t.eq(r.rc, 0, "onboarding exits 0")
    if r.rc != 0:
        t.diag(r.err[-2000:])
    writes = write_count(sb) - w0
    t.eq(writes, planned, "the run makes the writes the dry run planned (%d)" % planned)
    t.like(r.out, "onboard: 6 employee(s), 6 ok, 0 failed", "the screen summary counts 6 ok")

    users = {u["Name"]: u for u in read(sb, "cam", "ListUsers")["Data"]}
    t.eq(sorted(users), sorted(p["username"] for p in people), "one sub-user per employee, no other")
    envs = account.envs(sb, "ap-shanghai")
    insts = {reg: account.instances(sb, reg) for reg in ("ap-guangzhou", "ap-beijing")}
    state = json.load(open(sb.state_path, encoding="utf-8"))
    need_reset = {u["Name"]: u["NeedResetPassword"] for u in state["users"].values()}
    all_env_ids = {e["EnvId"] for e in envs}
    all_inst_ids = {i["InstanceId"] for reg in insts for i in insts[reg]}
    found = {}

    for p in people:
        name, bu = p["username"], p["business_unit"]
        ws = p["workspace"] == "yes"
        u = users.get(name, {})
        phone = p["phone"].replace(" ", "")
        t.eq((u.get("ConsoleLogin"), u.get("Remark"), u.get("Email"), u.get("CountryCode"),
              u.get("PhoneNum"), need_reset.get(name)),
             (1, p["display_name"], p["email"], "86", phone[3:], 1),
             "%s: console login, remark, email, phone; password reset at first login" % name)
        groups = account.cam_pages(sb, "ListGroupsForUser", {"SubUin": u.get("Uin", 0)}, "GroupInfo")
        want_groups = sorted("%s-%s" % (env, p["role"]) for env in p["environments"].split(";"))
        t.eq(sorted(g["GroupName"] for g in groups), want_groups,
             "%s: member of exactly %s" % (name, ", ".join(want_groups)))
        mine = [e for e in envs if tags(e).get("owner") == name]
        mine_i = [(reg, i) for reg in insts for i in insts[reg] if tags(i).get("owner") == name]
        attached = account.cam_pages(sb, "ListAttachedUserPolicies", {"TargetUin": u.get("Uin", 0)},
                                     "List")
        if not ws:
            t.eq((len(mine), len(mine_i), [a["PolicyName"] for a in attached]), (0, 0, []),
                 "%s (workspace=no): no environment, no server, no personal policy" % name)
            continue
        want_tags = dict({"owner": name, "owner-uin": str(u.get("Uin")), "managed-by": "tcrun",
                          "business-unit": bu, "cost-center": p["cost_center"]},
                         **EXTRA_TAGS[bu])
        t.eq([(tags(e), e["Status"]) for e in mine], [(want_tags, "NORMAL")],
             "%s: exactly one CloudBase environment, NORMAL, tagged %s" % (name, sorted(want_tags)))
        t.eq([(reg, i["InstanceState"], (i["BundleId"], i["BlueprintId"]), tags(i))
              for reg, i in mine_i],
             [(SERVER_REGION[bu], "RUNNING", BUNDLE[bu], want_tags)],
             "%s: exactly one Lighthouse server, RUNNING in %s with the %s bundle, same tags"
             % (name, SERVER_REGION[bu], bu))
        if not (mine and mine_i):
            continue
        env_id, inst_id = mine[0]["EnvId"], mine_i[0][1]["InstanceId"]
        found[name] = (u["Uin"], env_id, inst_id)
        t.eq([a["PolicyName"] for a in attached], ["tcrun-ws-" + name],
             "%s: the personal policy tcrun-ws-%s is attached, nothing else" % (name, name))
        doc = read(sb, "cam", "GetPolicy",
                   {"PolicyId": attached[0]["PolicyId"]})["PolicyDocument"] if attached else ""
        others = (all_env_ids | all_inst_ids) - {env_id, inst_id}
        t.ok(env_id in doc and inst_id in doc and not [x for x in others if x in doc],
             "%s: the policy names their environment and server and no one else's" % name, doc)
        t.ok("qcs::lighthouse:%s:" % SERVER_REGION[bu] in doc and "qcs::tcb:ap-shanghai:" in doc,
             "%s: the policy's resources are in their regions" % name, doc)
        ts = account.tasks(sb, inst_id, SERVER_REGION[bu])
        ok_tasks = [x for x in ts if x["TaskStatus"] == "SUCCESS"]
        t.eq(len(ok_tasks), 1, "%s: one SUCCESS TAT task on their server" % name)
        script = account.content(ok_tasks[0]) if ok_tasks else ""
        t.ok(env_id in script and "ap-shanghai" in script
             and not [e for e in all_env_ids - {env_id} if e in script],
             "%s: the task's script configures their environment %s" % (name, env_id))

    # Role groups: one per environment-role in use, each with its policy.
    want = sorted({"%s-%s" % (env, p["role"]) for p in people for env in p["environments"].split(";")})
    groups = account.cam_pages(sb, "ListGroups", {}, "GroupInfo")
    t.eq(sorted(g["GroupName"] for g in groups), want, "the role groups the roster needs, no other")
    bad = []
    for g in groups:
        att = account.cam_pages(sb, "ListAttachedGroupPolicies", {"TargetGroupId": g["GroupId"]}, "List")
        names = [a["PolicyName"] for a in att]
        if names != ["tcrun-" + g["GroupName"]]:
            bad.append((g["GroupName"], names))
            continue
        doc = json.loads(read(sb, "cam", "GetPolicy", {"PolicyId": att[0]["PolicyId"]})["PolicyDocument"])
        env = g["GroupName"].split("-")[0]
        if "environment&" + env not in json.dumps(doc):
            bad.append((g["GroupName"], "document does not name environment " + env))
    t.eq(bad, [], "each role group has its role policy, rendered for its environment")

    # Passwords: a 0600 file, one row per employee, the sandbox's current
    # password; never in stdout, stderr, the journal, the summary or the state.
    pw, files = account.password_files(out)
    t.eq(len(files), 1, "one initial-password file")
    mode = stat.S_IMODE(os.stat(files[0]).st_mode) if files else None
    t.eq(oct(mode or 0), oct(0o600), "the password file has mode 0600")
    t.eq(sorted(pw), sorted(p["username"] for p in people), "it has one row per employee")
    with open(files[0], newline="", encoding="utf-8") if files else open(os.devnull) as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    t.eq(reader.fieldnames, ["username", "email", "uin", "password"],
         "its columns: username, email (to deliver by), uin, password")
    t.eq({r["username"]: r["email"] for r in rows}, {p["username"]: p["email"] for p in people},
         "each row has the employee's email")
    t.eq({x["username"]: int(x["uin"]) for x in rows}, {n: u["Uin"] for n, u in users.items()},
         "its uins are the sub-users'")
    hashes = account.password_hashes(sb)
    import hashlib
    t.ok(all(hashlib.sha256(v[0].encode()).hexdigest() == hashes[n] for n, v in pw.items()),
         "each password is the one the sandbox holds for that user")
    secrets = [v[0] for v in pw.values()]
    journal = [os.path.join(jdir, f) for f in os.listdir(jdir)] if os.path.isdir(jdir) else []
    t.eq(len(journal), 1, "the run wrote one journal")
    summary_path = (account.reports(out) or [os.path.join(out, "onboard-none.csv")])[-1]
    texts = [r.out, r.err, account.read_text(summary_path),
             account.read_text(account.ledger_path(sb))]
    texts += [account.read_text(j) for j in journal]
    t.eq(account.scan(texts, secrets), [],
         "no password in stdout, stderr, the journal, the summary or the state file")

    # The summary CSV.
    with open(summary_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        cols, summary = reader.fieldnames, {x["username"]: x for x in reader}
    t.eq(cols, ["username", "uin", "role_groups", "env_id", "instance_id", "user", "groups", "mfa",
                "environment", "server", "policy", "assistant", "error"], "summary CSV columns")
    want_rows, got_rows = {}, {}
    for p in people:
        n = p["username"]
        row = summary.get(n, {})
        got_rows[n] = [row.get(c) for c in cols[1:]]
        mfa = "turned on" if p["role"] == "admin" or (
            p["role"] == "operator" and "prod" in p["environments"].split(";")) else ""
        groups = ";".join(sorted("%s-%s" % (env, p["role"]) for env in p["environments"].split(";")))
        if p["workspace"] == "yes":
            uin, env_id, inst_id = found.get(n, ("?", "?", "?"))
            want_rows[n] = [str(uin), groups, env_id, inst_id, "created", "created", mfa] + \
                ["created"] * 4 + [""]
        else:
            want_rows[n] = [str(users[n]["Uin"]), groups, "", "", "created", "created", mfa,
                            "", "", "", "", ""]
    t.eq(got_rows, want_rows,
         "summary CSV: uin, role groups, env id, instance id and created for every step")

    # --- the second run: no write at all -------------------------------
    jdir2 = os.path.join(tmp, "journal-2")
    w0 = write_count(sb)
    r = onboard(sb, ROSTER, out, journal_dir=jdir2, tap=t)
    t.eq(r.rc, 0, "second run: exit status 0")
    t.eq(write_count(sb) - w0, 0, "second run: CloudAudit shows zero write calls")
    t.ok(not os.path.exists(jdir2) or not os.listdir(jdir2), "second run: no journal created")
    t.eq(len(account.password_files(out)[1]), 1, "second run: no new password file")
    t.like(r.out, "user         exists 6", "second run: every user exists")
    t.like(r.out, "assistant    exists 5", "second run: every assistant exists")

    # --- a dry run on the onboarded account plans nothing ----------------
    w0 = write_count(sb)
    r = onboard(sb, ROSTER, os.path.join(tmp, "dry2"), "--dry-run", tap=t)
    t.eq((r.rc, write_count(sb) - w0), (0, 0), "dry run after onboarding: exit 0, no write")
    t.like(r.out, "dry run: 0 write call(s) planned, none made", "and it plans none")
    n = len(people)
    t.like(r.out, "0 of %d employee(s) would change, %d as wanted already" % (n, n),
           "everyone as wanted already")
    t.like(r.err, "onboard [%d/%d] " % (n, n), "progress")
    t.ok(": planned" not in r.err and r.err.count(": as wanted") == n,
         "progress says 'as wanted', not 'planned', for rows with nothing to do")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
