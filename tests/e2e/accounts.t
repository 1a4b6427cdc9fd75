#!/usr/bin/env python3
"""One account per environment, end to end: a hub and dev/test/staging/prod
spokes.  setup_accounts.lua makes the spoke roles (idempotent, dry-run);
onboarding puts people in hub groups that grant only sts:AssumeRole;
every employee can assume exactly the roles their roster line grants, and
each role does its work and no more (checked here with their own keys, and
by verify_isolation.lua); offboarding leaves them unable to assume
anything.  A configuration whose prod UIN is another account stops every
recipe before any write, naming both UINs."""
import csv
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from account import events, reports, state_dir  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402
import tc3client  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-accounts-")
ROSTER = os.path.join(SRC, "samples", "roster.csv")
ENVS = ["dev", "test", "staging", "prod"]
ROLES = ["viewer", "developer", "operator", "admin"]


def config(folder, hub, spokes):
    os.makedirs(folder, exist_ok=True)
    lines = ['return {', '  hub = "%s",' % hub, '  environments = {']
    for env, (uin, name) in spokes.items():
        lines.append('    %s = { uin = "%s", name = "%s" },' % (env, uin, name))
    lines += ['  },', '}', '']
    with open(os.path.join(folder, "accounts.lua"), "w") as f:
        f.write("\n".join(lines))
    return folder


def write_count(sb):
    """Write events in the hub's CloudAudit, AssumeRole aside (it lends
    credentials and changes nothing)."""
    return sum(1 for e in events(sb) if e["name"] != "sts.AssumeRole")


def writes_in(sb, account):
    """Write events in a member account's own CloudAudit (as its root)."""
    now = int(time.time())
    n, token = 0, None
    while True:
        p = {"StartTime": now - 86400, "EndTime": now + 3600, "MaxResults": 50,
             "LookupAttributes": [{"AttributeKey": "ActionType", "AttributeValue": "Write"}]}
        if token:
            p["NextToken"] = token
        r = sb.call("cloudaudit", "LookUpEvents", p, account=account, region="ap-guangzhou")
        n += sum(1 for e in r["Events"] if e["EventName"] != "AssumeRole")
        token = r.get("NextToken")
        if r.get("ListOver") or not token:
            return n


def attempt(c, *a, **kw):
    """The Response, or {"Error": code} for an API error."""
    try:
        return c.call(*a, **kw)
    except tc3client.ApiError as e:
        return {"Error": e.code}


def roster_grants():
    with open(ROSTER, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return {r["username"]: {(env, r["role"]) for env in r["environments"].split(";")} for r in rows}


with Sandbox("--async-delay-ms", "100", members=["acme-" + e for e in ENVS]) as sb:
    uin = {e: sb.members["acme-" + e] for e in ENVS}
    good = config(os.path.join(tmp, "good"), sb.owner_uin,
                  {e: (uin[e], "acme-" + e) for e in ENVS})
    env = {"TENCENTCLOUD_SECRET_ID": sb.secret_id, "TENCENTCLOUD_SECRET_KEY": sb.secret_key,
           "TENCENTCLOUD_REGION": "ap-guangzhou",
           "TCRUN_JOURNAL_DIR": os.path.join(tmp, "journal"), "TCRUN_STATE_DIR": state_dir(sb)}

    outputs = []

    def run(cfg, *a):
        r = tcrun("--endpoint", sb.url, "--config", cfg, *a, env=env, tap=t,
                  secrets=[sb.secret_key], timeout=300)
        outputs.append(r.out + r.err)
        return r

    # 1. Spokes: a dry run plans, names each account, and writes nothing.
    w0 = write_count(sb)
    r = run(good, "--dry-run", "setup_accounts.lua")
    t.eq(r.rc, 0, "setup_accounts.lua --dry-run")
    t.like(r.out, "cam.CreateRole", "the plan creates the spoke roles")
    t.like(r.out, "in account prod (%d)" % uin["prod"], "and names the account of each write")
    t.eq(write_count(sb), w0, "a dry run writes nothing in the hub")
    t.ok(not any(r2["RoleName"].startswith("tcrun-")
                 for u in uin.values() for r2 in sb.world(u)["roles"].values()),
         "nor in any spoke")

    r = run(good, "setup_accounts.lua", "--out", os.path.join(tmp, "setup"))
    t.eq(r.rc, 0, "setup_accounts.lua sets up every spoke")
    items = sb.call("organization", "DescribeOrganizationMembers", {"Offset": 0, "Limit": 50})["Items"]
    tagged = {m["Name"]: {x["TagKey"]: x["TagValue"] for x in m.get("Tags") or []} for m in items}
    t.eq({n: tg.get("environment") for n, tg in tagged.items()}, {"acme-" + e: e for e in ENVS},
         "members made earlier are tagged with their environment")
    nodes = {n["NodeId"]: n["Name"] for n in sb.call("organization", "DescribeOrganizationNodes",
                                                      {"Offset": 0, "Limit": 50})["Items"]}
    t.eq({m["Name"]: nodes.get(m["NodeId"]) for m in items}, {"acme-" + e: e for e in ENVS},
         "each in its environment's node")
    for e in ENVS:
        roles = {x["RoleName"]: x for x in sb.world(uin[e])["roles"].values()}
        t.ok(all("tcrun-" + role in roles for role in ROLES),
             "%s: a role tcrun-<role> per role" % e, sorted(roles))
        trust = json.loads(roles.get("tcrun-developer", {}).get("PolicyDocument", "{}"))
        t.eq(trust.get("statement", [{}])[0].get("principal"),
             {"qcs": ["qcs::cam::uin/%d:root" % sb.owner_uin]}, "%s: trusting the hub only" % e)
    snapshot = json.dumps([sb.world(u) and sorted(sb.world(u)["roles"]) for u in uin.values()])
    w1 = write_count(sb)
    r = run(good, "setup_accounts.lua", "--out", os.path.join(tmp, "setup"))
    t.ok(r.rc == 0, "setup_accounts.lua again", r.err[-2000:] + r.out[-2000:])
    t.ok(not any(w in r.out for w in ("created", "updated", "tagged", "moved")),
         "a second run changes nothing", r.out)
    t.eq(write_count(sb), w1, "and writes nothing in the hub")
    t.eq(json.dumps([sorted(sb.world(u)["roles"]) for u in uin.values()]), snapshot,
         "nor in the spokes")

    # A policy attached by hand to a tcrun role is taken off again.
    dev_admin = [p for p in sb.call("cam", "ListPolicies", {"Scope": "QCS", "Keyword": "AdministratorAccess"},
                                    account=uin["dev"])["List"] if p["PolicyName"] == "AdministratorAccess"][0]
    sb.call("cam", "AttachRolePolicy", {"PolicyId": dev_admin["PolicyId"], "AttachRoleName": "tcrun-viewer"},
            account=uin["dev"])
    r = run(good, "-v", "--dry-run", "setup_accounts.lua")
    t.like(r.out, "# AdministratorAccess on tcrun-viewer is not tcrun's",
           "the plan says which policy is not tcrun's")
    r = run(good, "setup_accounts.lua", "--out", os.path.join(tmp, "setup"))
    t.like(r.out, "roles        exists 3, repaired 1", "the repair is counted")
    t.eq(sorted(x["RoleName"] for x in sb.world(uin["dev"])["roles"].values()
                if x["RoleName"].startswith("tcrun-")
                and dev_admin["PolicyId"] in map(int, x["policies"])),
         [], "and AdministratorAccess is no longer on any tcrun role in dev")

    # A misspelt name must not make a second account for dev.
    typo = config(os.path.join(tmp, "typo"), sb.owner_uin,
                  {e: (uin[e], "acme-" + e) for e in ENVS})
    with open(os.path.join(typo, "accounts.lua")) as f:
        text = f.read().replace('dev = { uin = "%d", name = "acme-dev" }' % uin["dev"],
                                'dev = { name = "acme-devv" }')
    with open(os.path.join(typo, "accounts.lua"), "w") as f:
        f.write(text)
    r = run(typo, "setup_accounts.lua", "--out", os.path.join(tmp, "wrong-out"))
    t.eq(r.rc, 2, "a misspelt member name: exit 2")
    t.like(r.err, "account %d ('acme-dev') is tagged environment=dev" % uin["dev"],
           "naming the member that is dev's")
    t.eq(len(sb.member_uins()), 4, "and no second account is made")

    # 2. People: onboarding into the hub.
    r = run(good, "onboard.lua", ROSTER, "--out", os.path.join(tmp, "on"))
    t.eq(r.rc, 0, "onboarding in multi-account mode")
    groups = {g["GroupName"]: g for g in sb.world()["groups"].values()}
    found = sb.call("cam", "ListPolicies", {"Scope": "Local", "Keyword": "tcrun-prod-operator"})["List"]
    doc = json.loads(sb.call("cam", "GetPolicy", {"PolicyId": found[0]["PolicyId"]})["PolicyDocument"])
    t.eq(doc["statement"], [{"effect": "allow", "action": ["sts:AssumeRole"],
                             "resource": ["qcs::cam::uin/%d:roleName/tcrun-operator" % uin["prod"]]}],
         "group prod-operator may only assume tcrun-operator in prod's account")
    t.ok("prod-operator" in groups, "the hub has the group")

    # 3. Each employee, with a key of their own: exactly the roles their
    # line grants, and each does its work and no more.
    grants = roster_grants()
    keys = {}
    for name in grants:
        u = sb.call("cam", "GetUser", {"Name": name})
        k = sb.call("cam", "CreateAccessKey", {"TargetUin": u["Uin"]})["AccessKey"]
        keys[name] = (u["Uin"], k)
    bad = []
    for name, want in grants.items():
        _, k = keys[name]
        c = sb.client(k["AccessKeyId"], k["SecretAccessKey"])
        for e in ENVS:
            for role in ROLES:
                arn = "qcs::cam::uin/%d:roleName/tcrun-%s" % (uin[e], role)
                resp = attempt(c, "sts", "AssumeRole", {"RoleArn": arn, "RoleSessionName": "t-" + role,
                                                        "DurationSeconds": 900}, region="ap-guangzhou")
                got = "Error" not in resp
                if got != ((e, role) in want):
                    bad.append("%s %s:%s %s" % (name, e, role, "allowed" if got else resp["Error"]))
                if got:
                    cr = resp["Credentials"]
                    rc = sb.client(cr["TmpSecretId"], cr["TmpSecretKey"], cr["Token"])
                    who = attempt(rc, "sts", "GetCallerIdentity", {}, region="ap-guangzhou")
                    if who.get("AccountId") != str(uin[e]):
                        bad.append("%s %s:%s session in %s" % (name, e, role, who.get("AccountId")))
                    work = attempt(rc, "lighthouse", "DescribeInstances", {"Limit": 1},
                                   region="ap-guangzhou")
                    more = attempt(rc, "cam", "ListUsers", {})
                    if "Error" in work:
                        bad.append("%s %s:%s cannot work: %s" % (name, e, role, work["Error"]))
                    if "Error" not in more:
                        bad.append("%s %s:%s can list CAM users" % (name, e, role))
    t.eq(bad, [], "every employee assumes exactly the roles of their roster line "
         "(%d people x %d roles x %d accounts), each doing its work and no more"
         % (len(grants), len(ROLES), len(ENVS)))
    for name, (u, k) in keys.items():
        sb.call("cam", "DeleteAccessKey", {"TargetUin": u, "AccessKeyId": k["AccessKeyId"]})

    r = run(good, "verify_isolation.lua", ROSTER, "--out", os.path.join(tmp, "verify"))
    t.eq(r.rc, 0, "verify_isolation.lua passes in multi-account mode")
    rows = list(csv.DictReader(open(reports(os.path.join(tmp, "verify"), "isolation-")[-1])))
    t.eq({x["username"]: set(tuple(g.split(":")) for g in x["roles"].split(";") if g) for x in rows},
         grants, "its report lists, per employee, exactly the roles the roster grants")

    # 4. Offboarding: no role can be assumed any more.
    leavers = os.path.join(tmp, "leavers.csv")
    with open(leavers, "w") as f:
        f.write("username\nbob.li\n")
    r = run(good, "offboard.lua", leavers, "--out", os.path.join(tmp, "off"))
    t.eq(r.rc, 0, "offboarding bob")
    t.like(r.err + r.out, "role sessions issued before this run stay valid until they end: at most 60 "
           "minutes", "and says how long issued role sessions last")
    bob = sb.call("cam", "GetUser", {"Name": "bob.li"})
    k = sb.call("cam", "CreateAccessKey", {"TargetUin": bob["Uin"]})["AccessKey"]
    c = sb.client(k["AccessKeyId"], k["SecretAccessKey"])
    refused = []
    for e in ENVS:
        for role in ROLES:
            resp = attempt(c, "sts", "AssumeRole", {
                "RoleArn": "qcs::cam::uin/%d:roleName/tcrun-%s" % (uin[e], role),
                "RoleSessionName": "after"}, region="ap-guangzhou")
            refused.append("Error" in resp)
    t.ok(all(refused), "even with a new key, bob can assume no role in any account")

    # 5. The wrong account: prod's UIN pointed at staging's account.
    wrong = config(os.path.join(tmp, "wrong"), sb.owner_uin,
                   dict({e: (uin[e], "acme-" + e) for e in ENVS},
                        prod=(uin["staging"], "acme-prod")))
    with open(os.path.join(wrong, "accounts.lua")) as f:
        text = f.read().replace('staging = { uin = "%d", name = "acme-staging" },' % uin["staging"],
                                'staging = { name = "acme-staging" },')
    with open(os.path.join(wrong, "accounts.lua"), "w") as f:
        f.write(text)
    w0 = write_count(sb)
    roles0 = json.dumps([sorted(sb.world(u)["roles"]) for u in uin.values()])
    for recipe, extra in [("setup_accounts.lua", []), ("onboard.lua", [ROSTER]),
                          ("offboard.lua", [leavers]), ("verify_isolation.lua", [ROSTER])]:
        r = run(wrong, recipe, *extra, "--out", os.path.join(tmp, "wrong-out"))
        t.eq(r.rc, 2, "%s with prod pointed at another account: exit 2" % recipe)
        t.ok(str(uin["staging"]) in r.err and str(uin["prod"]) in r.err,
             "%s: the message names both UINs" % recipe, r.err)
    t.eq(write_count(sb), w0, "none of them wrote anything in the hub")
    t.eq(json.dumps([sorted(sb.world(u)["roles"]) for u in uin.values()]), roles0,
         "nor in any spoke")

    # No temporary key of any session (tcrun's own in the spokes, the
    # employees' in verify_isolation) in any output, report or journal.
    secrets = []
    for u in [None] + list(uin.values()):
        for k in (sb.world(u) or {}).get("tmpkeys", {}).values():
            secrets += [k["secret"], k["token"]]
    texts = list(outputs)
    for d, _, files in os.walk(tmp):
        for name in files:
            with open(os.path.join(d, name), errors="replace") as f:
                texts.append(f.read())
    t.ok(len(secrets) > 20 and not any(x in text for x in secrets for text in texts),
         "no temporary secret key or token anywhere (%d checked in %d texts)"
         % (len(secrets), len(texts)))

    # The hub itself: credentials of another account than configured.
    other = config(os.path.join(tmp, "other-hub"), 100000000002,
                   {e: (uin[e], "acme-" + e) for e in ENVS})
    r = run(other, "onboard.lua", ROSTER, "--out", os.path.join(tmp, "wrong-out"))
    t.eq(r.rc, 2, "credentials of another hub than configured: exit 2")
    t.like(r.err, "belong to account %d, but the configuration says hub is account 100000000002"
           % sb.owner_uin, "naming both UINs")
# A new Organization: the dry run plans what the real run does, in the
# accounts the real run makes; a hub in no Organization is a setup error.
with Sandbox("--async-delay-ms", "100", "--organization") as sb:
    names = config(os.path.join(tmp, "names"), sb.owner_uin, {})
    with open(os.path.join(names, "accounts.lua"), "w") as f:
        f.write('return { hub = "%d", environments = { dev = { name = "acme-dev" }, '
                'prod = { name = "acme-prod" } } }\n' % sb.owner_uin)
    env = {"TENCENTCLOUD_SECRET_ID": sb.secret_id, "TENCENTCLOUD_SECRET_KEY": sb.secret_key,
           "TENCENTCLOUD_REGION": "ap-guangzhou",
           "TCRUN_JOURNAL_DIR": os.path.join(tmp, "journal2"), "TCRUN_STATE_DIR": state_dir(sb)}
    r = tcrun("--endpoint", sb.url, "--config", names, "-v", "--dry-run", "setup_accounts.lua",
              env=env, tap=t, secrets=[sb.secret_key])
    t.eq(r.rc, 0, "dry run of a first setup")
    t.like(r.out, '"PolicyDocument":"{\\"statement\\":[{\\"action\\":[\\"name/sts:AssumeRole\\"],'
           '\\"effect\\":\\"allow\\",\\"principal\\":{\\"qcs\\":[\\"qcs::cam::uin/%d:root\\"]}}]'
           % sb.owner_uin, "-v shows a trust policy whole: whom it admits")
    planned = int(r.out.split("dry run: ")[1].split()[0])
    t.like(r.out, "cam.CreateRole", "it plans the roles in accounts not made yet")
    t.like(r.out, "in account prod ((new account prod))", "naming the account it would make")
    r = tcrun("--endpoint", sb.url, "--config", names, "setup_accounts.lua", "--out",
              os.path.join(tmp, "names-out"), env=env, tap=t, secrets=[sb.secret_key], timeout=300)
    t.eq(r.rc, 0, "the real first setup creates both members and sets them up")
    made = write_count(sb) + sum(writes_in(sb, u) for u in sb.member_uins().values())
    t.eq(made, planned, "the real run made exactly the %d writes the dry run planned" % planned)

with Sandbox() as sb:
    env = {"TENCENTCLOUD_SECRET_ID": sb.secret_id, "TENCENTCLOUD_SECRET_KEY": sb.secret_key,
           "TCRUN_STATE_DIR": state_dir(sb)}
    r = tcrun("--endpoint", sb.url, "--config", os.path.join(tmp, "names"), "onboard.lua", ROSTER,
              env=env, tap=t, secrets=[sb.secret_key])
    t.eq(r.rc, 2, "a hub in no Organization: exit 2")
    t.like(r.err, "is in no Organization: create one", "saying what to do")
    t.ok("Traceback" not in r.err and "stack traceback" not in r.err and len(r.err.strip().splitlines()) == 1,
         "in one line", r.err)
t.done()
