#!/usr/bin/env python3
"""crosscheck.t: the sandbox's CAM enforcement (tcsb/policy.py, offline and
through real signed calls) and tcrun's offline evaluator (tcrun.cam_eval)
must decide random (user, action, resource) triples the same way.

Policies are drawn from a vocabulary: actions with and without wildcards
across cam/tcb/lighthouse/sts (and the name/ prefix), resources with an
empty or explicit service, region and account, uin/ and other forms,
${uin} and ${owner_uin}, deny statements, and conditions with every
operator, qualifier and _if_exist.  Each triple is decided
  (a) by policy.py as ctx.py calls it (_decide on the user's statements),
  (b) by the Lua evaluator, one tcrun run over a JSON file of all triples,
and a few hundred of them also (c) by a live sandbox: a sub-user holding
those policies calls the action on a missing resource, so
AuthFailure.UnauthorizedOperation means denied and success or
ResourceNotFound... means allowed (policies naming an action the SDK lacks,
which CreatePolicy refuses, are redrawn for (c)).  CROSSCHECK_SEED=N
replays a run."""
import json
import os
import random
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "lib")]
from sandbox import Sandbox  # noqa: E402
from tc3client import ApiError  # noqa: E402
from tctest import Tap, tcrun  # noqa: E402
from tcsb import policy, util  # noqa: E402

N_OFFLINE = int(os.environ.get("CROSSCHECK_N") or 2400)
N_LIVE_USERS = 60
LIVE_PER_USER = 6
SEED = int(os.environ.get("CROSSCHECK_SEED") or random.randrange(1 << 31))
rng = random.Random(SEED)

O = 100000000001          # the sandbox's owner UIN
OTHER = 100010000001      # another account
SUBS = [100000100002, 100000100003, 100000100004]
REGIONS = ["ap-shanghai", "ap-guangzhou"]

ACTION_PATTERNS = [
    "*", "cam:*", "cam:List*", "cam:ListUsers", "name/cam:ListUsers", "cam:ListAttached*",
    "cam:ListAttachedUserPolicies", "cam:Get*", "cam:list*", "CAM:ListUsers",
    "tcb:*", "tcb:Modify*", "tcb:ModifyEnv", "name/tcb:ModifyEnv", "tcb:Describe*", "tcb:DescribeEnvs",
    "tcb:*Env", "tcb:DestroyEnv", "tcb:modifyenv", "*:Describe*", "*:List*", "*:*",
    "lighthouse:*", "lighthouse:St*Instances", "lighthouse:StopInstances", "lighthouse:Describe*",
    "sts:AssumeRole", "name/sts:AssumeRole", "sts:*", "sts:Get*", "cvm:*", "tat:*", "tat:RunCommand",
    "permid/tcb:1",
]


def resource_patterns(uin):
    s = "%d" % O
    return [
        "*",
        "qcs::tcb:ap-shanghai:uin/%s:env/*" % s, "qcs::tcb::uin/%s:env/*" % s,
        "qcs::tcb:ap-shanghai::env/*", "qcs::tcb:::env/e-1", "qcs:::ap-shanghai:uin/%s:env/*" % s,
        "qcs::tcb:ap-guangzhou:uin/%s:env/*" % s, "qcs::tcb:*:uin/%s:env/e-*" % s,
        "qcs::tcb:ap-shanghai:uin/%d:env/*" % OTHER, "qcs::tcb:ap-shanghai:uin/%s:*" % s,
        "qcs::tcb:ap-shanghai:uin/*:env/e-1", "qcs::*:*:uin/%s:*" % s, "qcs::tcb:::env/${uin}",
        "qcs::lighthouse:ap-guangzhou:uin/%s:instance/*" % s, "qcs::lighthouse:::instance/*",
        "qcs::lighthouse::uin/%s:instance/lhins-zz*" % s, "qcs:::::instance/*",
        "qcs::lighthouse:ap-shanghai::instance/lhins-zzzz0001",
        "qcs::cam::uin/%s:uin/${uin}" % s, "qcs::cam:::uin/${uin}", "qcs::cam:::uin/*",
        "qcs::cam::uin/%s:uin/%d" % (s, uin), "qcs::cam::uin/%s:uin/1000001*" % s,
        "qcs::cam::uin/%s:uin/${owner_uin}" % s, "qcs::cam::uin/${owner_uin}:uin/*",
        "qcs::cam::uin/%s:roleName/*" % s, "qcs::cam:::roleName/r-*", "qcs::cam:::roleName/admin",
        "qcs::cam::uin/%d:roleName/*" % OTHER, "qcs::cam::uin/*:roleName/admin",
        "qcs::::roleName/*", "qcs::cam::uin/%s:*" % s, "qcs::cam::*:*",
        "qcs:*", "qcs::cam::uin/%s" % s,
    ]


TAG_VALUES = ["env&prod", "env&dev", "team&a", "team&b", "env&*", "ENV&PROD", "*&a", "owner&${uin}",
              "team&*", "owner&${owner_uin}"]
VALUES = {
    "qcs:resource_tag": TAG_VALUES,
    "qcs:request_tag": TAG_VALUES,
    "qcs:ip": ["127.0.0.0/8", "127.0.0.1", "10.0.0.0/8", "10.1.2.3/32", "192.168.0.0/16", "::1/128",
               "2001:db8::/32", "0.0.0.0/0", "10.1.2.0/24"],
    "qcs:current_time": ["2001-01-01T00:00:00Z", "2099-12-31T23:59:59Z", "2020-06-01 12:00:00",
                         "2030-01-01T00:00:00+08:00", "2026-06-01T00:00:00Z", "2026-06-01",
                         "2026-06-01T08:00:00+08:00"],
    "qcs:num": ["5", "10", "3.5", 7, "-2", "abc", 12],
    "qcs:flag": ["true", "false", True, False, "TRUE"],
    "qcs:create_uin": ["${uin}", "${owner_uin}", "%d" % SUBS[0], "1000001*", "${uin}*"],
    "qcs:bin": ["aGVsbG8=", "d29ybGQ="],
    "qcs:nokey": ["x", "1", "true"],
}
FAMILY = {
    "string": ["qcs:resource_tag", "qcs:request_tag", "qcs:create_uin", "qcs:flag"],
    "numeric": ["qcs:num"], "date": ["qcs:current_time"], "bool": ["qcs:flag"],
    "binary": ["qcs:bin"], "ip": ["qcs:ip"],
}
OPS = sorted(policy.OPERATORS)


def family(op):
    return op.split("_")[0]


def gen_condition():
    cond = {}
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        op = rng.choice(OPS)
        name = op
        if op != "null_equal" and rng.random() < 0.3:
            name += "_if_exist"
        r = rng.random()
        if r < 0.2:
            name = "for_any_value:" + name
        elif r < 0.4:
            name = "for_all_value:" + name
        body = {}
        for _ in range(rng.choice([1, 1, 2])):
            if op == "null_equal" or rng.random() < 0.1:
                key = rng.choice(sorted(VALUES))
            else:
                key = rng.choice(FAMILY[family(op)])
            if op == "null_equal":
                vals = [rng.choice(["true", "false", True, False])]
            else:
                vals = rng.sample(VALUES[key], min(len(VALUES[key]), rng.choice([1, 1, 2, 3])))
            body[key] = vals[0] if len(vals) == 1 and rng.random() < 0.5 else vals
        cond[name] = body
    return cond


def gen_statement(uin):
    st = {"effect": "deny" if rng.random() < 0.25 else "allow"}
    acts = rng.sample(ACTION_PATTERNS, rng.choice([1, 1, 2, 3]))
    st["action"] = acts[0] if len(acts) == 1 and rng.random() < 0.5 else acts
    res = ["*"] if rng.random() < 0.3 else rng.sample(resource_patterns(uin), rng.choice([1, 1, 2, 3]))
    st["resource"] = res[0] if len(res) == 1 and rng.random() < 0.5 else res
    if rng.random() < 0.45:
        st["condition"] = gen_condition()
    return st


def gen_policies(uin):
    return [json.dumps({"version": "2.0", "statement": [gen_statement(uin) for _ in range(rng.choice([1, 2, 3]))]})
            for _ in range(rng.choice([1, 1, 2, 3]))]


def iso(t):
    return util.iso(t)


def gen_request(uin, live=False):
    """(action, resource or None for a list question, live call or None)."""
    acct = O if live or rng.random() < 0.8 else OTHER
    region = rng.choice(REGIONS)
    kind = rng.choice(["listusers", "attached", "modify", "destroy", "envs", "stop", "instances",
                       "assume", "fed", "getuser", "runcmd"] if not live else
                      ["listusers", "attached", "modify", "destroy", "envs", "stop", "instances", "assume"])
    eid = rng.choice(["e-1", "e-2", "x-9", str(uin)]) if not live else rng.choice(["e-1", "e-missing", str(uin)])
    iid = rng.choice(["lhins-zzzz0001", "lhins-abcd1234"])
    if kind == "listusers":
        return "cam:ListUsers", "*", ("cam", "ListUsers", {}, None)
    if kind == "fed":
        return "sts:GetFederationToken", "*", None
    if kind == "attached":
        t = rng.choice([uin, uin, 100000999999, O])
        return ("cam:ListAttachedUserPolicies", "qcs::cam::uin/%d:uin/%d" % (O if live else acct, t),
                ("cam", "ListAttachedUserPolicies", {"TargetUin": t}, None))
    if kind == "getuser":
        return "cam:GetUser", "qcs::cam::uin/%d:uin/*" % acct, None
    if kind in ("modify", "destroy"):
        a = "ModifyEnv" if kind == "modify" else "DestroyEnv"
        return ("tcb:" + a, "qcs::tcb:%s:uin/%d:env/%s" % (region, acct, eid),
                ("tcb", a, {"EnvId": eid}, region))
    if kind == "envs":
        return "tcb:DescribeEnvs", None, ("tcb", "DescribeEnvs", {}, region)
    if kind == "instances":
        return "lighthouse:DescribeInstances", None, ("lighthouse", "DescribeInstances", {}, region)
    if kind == "stop":
        return ("lighthouse:StopInstances", "qcs::lighthouse:%s:uin/%d:instance/%s" % (region, acct, iid),
                ("lighthouse", "StopInstances", {"InstanceIds": [iid]}, region))
    if kind == "runcmd":
        return "tat:RunCommand", "qcs::lighthouse:%s:uin/%d:instance/%s" % (region, acct, iid), None
    owner = rng.choice([O, OTHER])
    name = rng.choice(["admin", "r-1", "ops"])
    return ("sts:AssumeRole", "qcs::cam::uin/%d:roleName/%s" % (owner, name),
            ("sts", "AssumeRole", {"RoleArn": "qcs::cam::uin/%d:roleName/%s" % (owner, name),
                                   "RoleSessionName": "xc-session"}, "ap-guangzhou"))


def gen_request_for(docs, uin, live=False):
    """A request, most of the time one whose action some statement names,
    so that resources and conditions decide more often than actions."""
    stmts = [st for d in docs for st in policy.parse_document(d)]
    req = gen_request(uin, live)
    for _ in range(8):
        if rng.random() < 0.2 or any(policy.match_action(st["action"], req[0]) for st in stmts):
            break
        req = gen_request(uin, live)
    return req


def gen_context(uin, resource):
    tags = None
    if resource not in (None, "*"):
        tags = rng.choice([{}, {}, {"env": "prod"}, {"env": "dev", "team": "a"}, {"team": "b"},
                           {"owner": str(uin)}, {"env": "PROD", "owner": str(O)}])
    req = rng.choice([None, None, {"env": "prod"}, {"team": "a", "env": "dev"}])
    ctx = {}
    for key, choices in (("qcs:num", ["5", "10", ["3", "12"], 7, 3.5, None, "x"]),
                         ("qcs:flag", ["true", "false", True, None]),
                         ("qcs:create_uin", [str(uin), str(SUBS[0]), str(O), None]),
                         ("qcs:bin", ["aGVsbG8=", None])):
        v = rng.choice(choices)
        if v is not None:
            ctx[key] = v
    return {"resource_tags": tags, "request_tags": req,
            "current_time": rng.choice(["2026-06-01T00:00:00Z", "2026-12-03T10:00:00Z", "2001-01-01T00:00:00Z",
                                        "2099-12-31T23:59:59Z", "2026-06-01T00:00:01Z"]),
            "ip": rng.choice(["127.0.0.1", "10.1.2.3", "192.168.1.1", "::1", "2001:db8::7", "10.2.0.1"]),
            "context": ctx}


def lua_context(env):
    c = dict(env.get("context") or {})
    if env.get("resource_tags") is not None:
        c["qcs:resource_tag"] = env["resource_tags"]
    if env.get("request_tags") is not None:
        c["qcs:request_tag"] = env["request_tags"]
    c["qcs:current_time"] = env["current_time"]
    c["qcs:ip"] = env["ip"]
    return c


def sandbox_decide(docs, action, resource, env, uin):
    stmts = []
    for d in docs:
        stmts += policy.parse_document(d)
    e = dict(env, owner_uin=O, uin=uin)
    return policy._decide(stmts, action, resource, e)


RUNNER = r'''
local ev = require "tcrun.cam_eval"
local json = require "tcrun.json"
local f = assert(io.open(os.getenv("XC_CASES"), "r"))
local cases = json.decode(f:read("a"))
f:close()
local docs = {}
local out = {}
for i, c in ipairs(cases) do
  local pols = {}
  for k, text in ipairs(c.policies) do
    local d = docs[text]
    if not d then
      local err
      d, err = ev.parse(text)
      if not d then error("case " .. i .. ": " .. tostring(err)) end
      docs[text] = d
    end
    pols[k] = { doc = d, id = k, name = "p" .. k, via = "user" }
  end
  local req = { action = c.action, resource = c.resource, owner_uin = c.owner_uin, uin = c.uin,
                context = c.context }
  local decision, why
  if c.list then
    local _
    _, why, decision = ev.allows_any(pols, c.action, req)
  else
    decision, why = ev.evaluate(pols, req)
  end
  local tag = decision
  if why then tag = tag .. " " .. why.policy.id .. "." .. why.statement end
  out[#out + 1] = tag
end
local o = assert(io.open(os.getenv("XC_OUT"), "w"))
o:write(table.concat(out, "\n"), "\n")
o:close()
'''


def run_lua(cases, tmp):
    path = os.path.join(tmp, "cases.json")
    outp = os.path.join(tmp, "out.txt")
    with open(path, "w") as f:
        json.dump(cases, f)
    script = os.path.join(tmp, "runner.lua")
    with open(script, "w") as f:
        f.write(RUNNER)
    r = tcrun(script, env={"XC_CASES": path, "XC_OUT": outp}, timeout=300)
    if r.rc != 0:
        return None, r.err + r.out
    with open(outp) as f:
        return [line.split(" ")[0] for line in f.read().splitlines()], None


def existing_actions(doc):
    """CreatePolicy refuses a document naming an action the SDK lacks
    (tcb:modifyenv, CAM:ListUsers, permid/...); the offline part keeps them."""
    try:
        policy.check_actions(policy.parse_document(doc))
        return True
    except policy.ApiError:
        return False


def live_outcome(fn):
    try:
        fn()
        return "allow", "(success)"
    except ApiError as e:
        if e.code == "AuthFailure.UnauthorizedOperation":
            return "deny", e.code
        if e.code.startswith("ResourceNotFound"):
            return "allow", e.code
        return "error", e.code


t = Tap()
t.diag("seed %d (CROSSCHECK_SEED=%d replays it)" % (SEED, SEED))
tmp = tempfile.mkdtemp(prefix="crosscheck-")
try:
    # (a) offline: the sandbox's own evaluation.
    cases, meta = [], []
    bad_docs = 0
    while len(cases) < N_OFFLINE:
        uin = rng.choice(SUBS)
        docs = gen_policies(uin)
        try:
            for d in docs:
                policy.parse_document(d)
        except Exception as e:  # noqa: BLE001 - the generator must only make valid documents
            bad_docs += 1
            t.diag("generated document refused: %s: %s" % (e, docs))
            continue
        for _ in range(rng.choice([1, 2, 3, 4])):
            action, resource, _live = gen_request_for(docs, uin)
            env = gen_context(uin, resource)
            want = sandbox_decide(docs, action, resource, env, uin)
            cases.append({"policies": docs, "action": action, "resource": resource or "*",
                          "list": resource is None, "owner_uin": str(O), "uin": str(uin),
                          "context": lua_context(env)})
            meta.append(("offline", want, None))
    t.eq(bad_docs, 0, "every generated policy document passes the sandbox's parse_document")

    # (c) live: sub-users holding random policies call actions on missing resources.
    live = 0
    with Sandbox("--async-delay-ms", "50") as sb:
        assert sb.owner_uin == O
        for n in range(N_LIVE_USERS):
            u = sb.call("cam", "AddUser", {"Name": "xc-%d" % n, "UseApi": 1})
            uin = u["Uin"]
            docs = gen_policies(uin)
            while not all(existing_actions(d) for d in docs):
                docs = gen_policies(uin)  # CreatePolicy would refuse it (ActionNotExist)
            for k, d in enumerate(docs):
                pid = sb.call("cam", "CreatePolicy", {"PolicyName": "xc-%d-%d" % (n, k),
                                                      "PolicyDocument": d})["PolicyId"]
                sb.call("cam", "AttachUserPolicy", {"PolicyId": pid, "AttachUin": uin})
            for _ in range(LIVE_PER_USER):
                action, resource, (svc, act, params, region) = gen_request_for(docs, uin, live=True)
                now = iso(time.time())
                got, code = live_outcome(lambda: sb.call(svc, act, params, u["SecretId"], u["SecretKey"],
                                                         region=region))
                env = {"resource_tags": None if resource in (None, "*") else {}, "request_tags": None,
                       "current_time": now, "ip": "127.0.0.1", "context": {}}
                offline = sandbox_decide(docs, action, resource, env, uin)
                offline = "allow" if offline == "allow" else "deny"
                cases.append({"policies": docs, "action": action, "resource": resource or "*",
                              "list": resource is None, "owner_uin": str(O), "uin": str(uin),
                              "context": lua_context(env)})
                meta.append(("live", got, (code, offline, svc, act, params)))
                live += 1

    # (b) the Lua evaluator over every triple.
    lua, err = run_lua(cases, tmp)
    t.ok(lua is not None and len(lua) == len(cases), "tcrun decided every triple", err)
    lua = lua or []
    disagree = []
    live_disagree = []
    for i, (case, (where, want, extra)) in enumerate(zip(cases, meta)):
        got = lua[i] if i < len(lua) else "?"
        if where == "offline":
            if got != want:
                disagree.append((case, want, got))
        else:
            code, offline, svc, act, params = extra
            lua_bool = "allow" if got == "allow" else "deny"
            if want != lua_bool or want != offline:
                live_disagree.append((case, want, code, offline, got, act, params))
    n_off = sum(1 for m in meta if m[0] == "offline")
    hist = {}
    for where, want, _ in meta:
        hist[(where, want)] = hist.get((where, want), 0) + 1
    t.diag("decisions: " + ", ".join("%s %s: %d" % (w, d, n) for (w, d), n in sorted(hist.items())))
    t.diag("compared %d triples: %d offline (sandbox policy.py vs Lua), %d also live (signed calls)"
           % (len(cases), n_off, live))
    t.ok(len(cases) >= 2000, "at least 2000 triples compared (%d)" % len(cases))
    t.ok(live >= 300, "at least 300 triples went through live calls (%d)" % live)
    for case, want, got in disagree[:5]:
        t.diag("offline disagreement: sandbox %s, Lua %s\n%s" % (want, got, json.dumps(case, indent=1)))
    t.eq(len(disagree), 0, "0 offline disagreements between policy.py and tcrun.cam_eval (%d compared)" % n_off)
    for case, want, code, offline, got, act, params in live_disagree[:5]:
        t.diag("live disagreement: %s %s -> %s (%s); policy.py offline %s; Lua %s\n%s"
               % (act, params, want, code, offline, got, json.dumps(case, indent=1)))
    t.eq(len(live_disagree), 0, "0 live disagreements (call vs policy.py vs Lua; %d compared)" % live)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
