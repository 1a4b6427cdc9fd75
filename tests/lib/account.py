"""What a sandbox account holds, for the onboarding tests (standard library).

    sys.path.insert(0, os.path.join(SRCDIR, "tests", "lib"))
    from account import read, snapshot, write_count, write_events, onboard
    n = write_count(sb)                  # CloudAudit: write events so far
    r = onboard(sb, roster, out)         # runs tcrun onboard.lua against sb
    s = snapshot(sb)                     # the account, ids normalised

Every read is signed with the sandbox's root key and retried on the errors
a sandbox started with --fault-rate/--reset-rate/--rate-limit injects, so the
same helpers serve the fault tests.  The member_* helpers read a member
account's saved world from the state file (sb.world(uin)), so they need no
key of the member.  snapshot() replaces generated ids
(environment and instance ids, sub-user UINs, the owner UIN) with names
derived from the owner tag or user name, so snapshots of two accounts
onboarded from the same roster compare equal.
"""
import base64
import http.client
import json
import os
import subprocess
import tempfile
import time

import tc3client
from tctest import TCRUN, empty_config, leaked, tcrun

REGIONS = ("ap-shanghai", "ap-guangzhou", "ap-beijing")
TRANSIENT = ("InternalError", "RequestLimitExceeded", "ServiceUnavailable")


def read(sb, service, action, params=None, region=None, tries=20):
    """A root-key read, retried on injected failures and lost answers."""
    for i in range(tries):
        try:
            return sb.call(service, action, params or {}, region=region)
        except tc3client.ApiError as e:
            if not e.code.startswith(TRANSIENT) or i == tries - 1:
                raise
        except (OSError, http.client.HTTPException):
            if i == tries - 1:
                raise
        time.sleep(0.05)


def cam_pages(sb, action, params, field):
    out, page = [], 1
    while True:
        r = read(sb, "cam", action, dict(params, Page=page, Rp=200))
        items = r.get(field) or []
        out += items
        if len(items) < 200:
            return out
        page += 1


def _audit(sb, params):
    now = int(time.time())
    p = {"StartTime": now - 86400, "EndTime": now + 3600, "MaxResults": 50}
    p.update(params)
    return read(sb, "cloudaudit", "LookUpEvents", p, region="ap-guangzhou")


WRITES = [{"AttributeKey": "ActionType", "AttributeValue": "Write"}]


def write_count(sb):
    """How many write events CloudAudit holds (failed calls included)."""
    return _audit(sb, {"MaxResults": 1, "LookupAttributes": WRITES})["TotalCount"]


def events(sb, writes_only=True, start=None, end=None):
    """CloudAudit events, oldest first: dicts with name ("cam.AddUser"),
    time, request_id, error (0 or 1), code (the error's code, "" for
    none), region."""
    params = {"LookupAttributes": WRITES} if writes_only else {}
    if start is not None:
        params["StartTime"], params["EndTime"] = int(start), int(end)
    out, token = [], None
    while True:
        p = dict(params, NextToken=token) if token else params
        r = _audit(sb, p)
        for e in r["Events"]:
            detail = json.loads(e.get("CloudAuditEvent") or "{}")
            out.append({"name": "%s.%s" % (e["EventSource"].split(".")[0], e["EventName"]),
                        "time": int(e["EventTime"]), "request_id": e["RequestID"],
                        "error": e["ErrorCode"], "region": e["EventRegion"],
                        "code": detail.get("apiErrorCode") or ""})
        token = r.get("NextToken")
        if r.get("ListOver") or not token:
            break
    out.reverse()
    return out


def state_dir(sb):
    """tcrun's state folder for runs against sb: one per sandbox (every
    sandbox has the same owner UIN, so sharing one would share the
    account's ledger between tests)."""
    return os.path.join(sb.dir, "tcrun-state")


def ledger_path(sb):
    """The onboarding ledger of sb's account (undelivered passwords)."""
    return os.path.join(state_dir(sb), "accounts", str(sb.owner_uin), "onboard.jsonl")


def tcrun_env(sb, journal_dir=None):
    """Environment overrides for tctest.tcrun: the sandbox's root key, its
    state folder and a journal folder of the test's own."""
    return {"TENCENTCLOUD_SECRET_ID": sb.secret_id, "TENCENTCLOUD_SECRET_KEY": sb.secret_key,
            "TCRUN_JOURNAL_DIR": journal_dir or tempfile.mkdtemp(prefix="tcrun-j-"),
            "TCRUN_STATE_DIR": state_dir(sb)}


def reports(out, prefix="onboard-"):
    """The report CSVs a recipe wrote in out, oldest first."""
    return sorted(os.path.join(out, f) for f in os.listdir(out)
                  if f.startswith(prefix) and f.endswith(".csv") and f[len(prefix)].isdigit())


def onboard(sb, roster, out, *extra, journal_dir=None, recipe="onboard.lua", tap=None,
            secrets=None, timeout=300):
    """tcrun [extra...] onboard.lua ROSTER --out OUT against sb."""
    args = list(extra) + [recipe, roster, "--out", out]
    return tcrun(*args, endpoint=sb.url, env=tcrun_env(sb, journal_dir), tap=tap,
                 secrets=secrets or [sb.secret_key], timeout=timeout)


def spawn_onboard(sb, roster, out, *extra, journal_dir=None, log_dir=None):
    """Starts onboarding in the background; returns the Popen (stdout and
    stderr go to files in log_dir)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TENCENTCLOUD_", "TCCLI_", "TCRUN_ENDPOINT", "TCRUN_CONFIG",
                                "TCRUN_STATE_DIR"))}
    env.update(tcrun_env(sb, journal_dir))
    env["XDG_CONFIG_HOME"] = empty_config()
    log_dir = log_dir or tempfile.mkdtemp(prefix="tcrun-log-")
    argv = [TCRUN, "--endpoint", sb.url] + list(extra) + ["onboard.lua", roster, "--out", out]
    with open(os.path.join(log_dir, "stdout"), "w") as o, \
            open(os.path.join(log_dir, "stderr"), "w") as e:
        return subprocess.Popen(argv, stdout=o, stderr=e, env=env)


def tags(obj):
    return {t.get("Key", t.get("TagKey")): t.get("Value", t.get("TagValue"))
            for t in obj.get("Tags") or []}


def envs(sb, region):
    return read(sb, "tcb", "DescribeEnvs", {}, region=region).get("EnvList") or []


def instances(sb, region):
    out, offset = [], 0
    while True:
        r = read(sb, "lighthouse", "DescribeInstances", {"Offset": offset, "Limit": 100},
                 region=region)
        out += r.get("InstanceSet") or []
        offset += len(r.get("InstanceSet") or [])
        if offset >= r["TotalCount"] or not r.get("InstanceSet"):
            return out


def tasks(sb, instance_id, region):
    return read(sb, "tat", "DescribeInvocationTasks",
                {"Filters": [{"Name": "instance-id", "Values": [instance_id]}],
                 "HideOutput": True, "Limit": 100}, region=region).get("InvocationTaskSet") or []


def content(task):
    return base64.b64decode(task["CommandDocument"]["Content"]).decode("utf-8", "replace")


def script_id(text):
    """A short name for a (normalised) script: the environment it names and
    a hash of the whole."""
    import hashlib
    import re
    env = re.search(r"<env:[^>]*>", text)
    return "%s sha256:%s" % (env.group(0) if env else "no env",
                             hashlib.sha256(text.encode()).hexdigest()[:12])


def snapshot(sb, regions=REGIONS):
    """The account as comparable data, generated ids replaced by names."""
    ids = {str(sb.owner_uin): "<owner>"}
    users = read(sb, "cam", "ListUsers").get("Data") or []
    name_of = {}
    for u in users:
        name_of[u["Uin"]] = u["Name"]
        ids[str(u["Uin"])] = "<uin:%s>" % u["Name"]
    s = {"users": {}, "groups": {}, "policies": {}, "user_policies": {},
         "envs": {}, "instances": {}, "assistant": {}, "duplicates": []}
    for u in users:
        if u["Name"] in s["users"]:
            s["duplicates"].append("user " + u["Name"])
        s["users"][u["Name"]] = {k: u.get(k) for k in
                                 ("Remark", "Email", "PhoneNum", "CountryCode", "ConsoleLogin")}
    raw_envs, raw_insts = [], []
    for region in regions:
        for e in envs(sb, region):
            owner = tags(e).get("owner", "?")
            ids[e["EnvId"]] = "<env:%s>" % owner
            raw_envs.append((owner, region, e))
        for i in instances(sb, region):
            owner = tags(i).get("owner", "?")
            ids[i["InstanceId"]] = "<ins:%s>" % owner
            raw_insts.append((owner, region, i))

    def norm(text):
        # Longest first, so one id that contains another is replaced whole.
        for k in sorted(ids, key=len, reverse=True):
            text = text.replace(k, ids[k])
        return text

    def norm_tags(obj):
        # owner-uin holds a UIN, which differs between two accounts.
        return {k: ids.get(v, v) if k == "owner-uin" else v for k, v in tags(obj).items()}

    for owner, region, e in raw_envs:
        s["envs"].setdefault(owner, []).append(
            {"region": region, "status": e["Status"], "alias": e["Alias"],
             "package": e["PackageId"], "tags": norm_tags(e)})
    for owner, region, i in raw_insts:
        ts = tasks(sb, i["InstanceId"], region)
        s["instances"].setdefault(owner, []).append(
            {"region": region, "state": i["InstanceState"], "bundle": i["BundleId"],
             "blueprint": i["BlueprintId"], "name": i["InstanceName"], "tags": norm_tags(i)})
        s["assistant"].setdefault(owner, []).extend(
            sorted((t["TaskStatus"], t.get("CommandName", ""), script_id(norm(content(t))))
                   for t in ts))
    for kind in ("envs", "instances"):
        for owner, items in s[kind].items():
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))
            if len(items) > 1:
                s["duplicates"].append("%s of %s: %d" % (kind, owner, len(items)))
    for p in cam_pages(sb, "ListPolicies", {"Scope": "Local"}, "List"):
        if p["PolicyName"] in s["policies"]:
            s["duplicates"].append("policy " + p["PolicyName"])
        doc = read(sb, "cam", "GetPolicy", {"PolicyId": p["PolicyId"]})["PolicyDocument"]
        s["policies"][p["PolicyName"]] = json.loads(norm(doc))
    for g in cam_pages(sb, "ListGroups", {}, "GroupInfo"):
        if g["GroupName"] in s["groups"]:
            s["duplicates"].append("group " + g["GroupName"])
        members = cam_pages(sb, "ListUsersForGroup", {"GroupId": g["GroupId"]}, "UserInfo")
        attached = cam_pages(sb, "ListAttachedGroupPolicies", {"TargetGroupId": g["GroupId"]},
                             "List")
        s["groups"][g["GroupName"]] = {
            "members": sorted(name_of.get(m["Uin"], str(m["Uin"])) for m in members),
            "policies": sorted(a["PolicyName"] for a in attached)}
    for u in users:
        attached = cam_pages(sb, "ListAttachedUserPolicies", {"TargetUin": u["Uin"]}, "List")
        s["user_policies"][u["Name"]] = sorted(a["PolicyName"] for a in attached)
    return s


def diff(a, b, path=""):
    """Lines naming where two snapshots differ (at most 20)."""
    out = []
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b), key=str):
            if k not in a:
                out.append("%s/%s: only in the second" % (path, k))
            elif k not in b:
                out.append("%s/%s: only in the first" % (path, k))
            else:
                out += diff(a[k], b[k], "%s/%s" % (path, k))
    elif a != b:
        out.append("%s: %r != %r" % (path, a, b))
    return out[:20]


def password_files(out):
    """{username: [password, ...]} over every passwords-*.csv in out, and
    the list of files."""
    import csv
    files = sorted(os.path.join(out, f) for f in os.listdir(out)
                   if f.startswith("passwords-") and f.endswith(".csv"))
    got = {}
    for f in files:
        with open(f, newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                got.setdefault(row["username"], []).append(row["password"])
    return got, files


def password_hashes(sb):
    """{username: sha256 of the current password} from the sandbox's state file."""
    with open(sb.state_path, encoding="utf-8") as f:
        d = json.load(f)
    return {u["Name"]: u.get("password_sha256", "") for u in d["users"].values()}


def scan(texts, secrets):
    return leaked("\n".join(texts), secrets)


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


# -- member accounts (hub and spokes), read from the saved state -------------

def member_roles(sb, uin):
    """{role name: {"RoleId", "PolicyDocument", "SessionDuration",
    "policies": [policy names]}} of account uin (the hub when None)."""
    w = sb.world(uin) or {}
    out = {}
    for r in w.get("roles", {}).values():
        out[r["RoleName"]] = {"RoleId": r["RoleId"], "PolicyDocument": r["PolicyDocument"],
                              "SessionDuration": r["SessionDuration"],
                              "policies": sorted(_policy_name(w, pid) for pid in r["policies"])}
    return out


def member_policies(sb, uin):
    """{policy name: default version's document} of account uin's custom policies."""
    w = sb.world(uin) or {}
    return {p["PolicyName"]: p["versions"][str(p["default"])]["Document"]
            for p in w.get("policies", {}).values()}


def member_users(sb, uin):
    """{user name: UIN} of account uin's sub-users."""
    w = sb.world(uin) or {}
    return {u["Name"]: u["Uin"] for u in w.get("users", {}).values()}


def _policy_name(world, pid):
    p = world.get("policies", {}).get(str(pid))
    if p:
        return p["PolicyName"]
    import sys
    sandbox_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sandbox")
    if sandbox_dir not in sys.path:
        sys.path.insert(0, sandbox_dir)
    from tcsb import presets  # the sandbox's preset policies, by id
    return presets.PRESETS.get(str(pid), {}).get("PolicyName", str(pid))
