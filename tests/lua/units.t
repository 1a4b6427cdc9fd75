#!/usr/bin/env tcrun
-- units.lua and policy.lua, without the cloud: a unit file cannot change
-- the functions the recipes use, every setting is held to its shape (a
-- misspelt key included), and a policy value can neither leave its JSON
-- string nor widen a resource.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local units = require "tcrun.units"
local policy = require "tcrun.policy"
local plan = require "tcrun.plan"

local home = os.getenv("TCRUN_SRCDIR")
local dir = os.tmpname()
os.remove(dir)
assert(tc.mkdir(dir))
local function unit(name, body)
  local f = assert(io.open(dir .. "/" .. name .. ".lua", "w"))
  f:write(body)
  f:close()
end
local found = assert(units.open({ dir, home .. "/recipes/bu" }))

-- 1. Each bad setting is refused, naming the file and the setting.
local cases = {
  { "typo", "return { server_regoin = 'ap-beijing' }",
    "unknown setting 'server_regoin' (did you mean 'server_region'?)" },
  { "region", "return { server_region = 'ap-mars-1' }",
    "setting 'server_region' is not a region name like ap-guangzhou" },
  { "login", [[return { assistant_login_user = "ubuntu'; touch /tmp/PWNED; echo '" }]],
    "setting 'assistant_login_user' is not a login name" },
  { "script", "return { assistant_script = '../../../../home/x/.tccli/default.credential' }",
    "setting 'assistant_script' is not a script file name in recipes/scripts" },
  { "script2", "return { assistant_script = 'x/../install_assistant.sh' }",
    "setting 'assistant_script' is not a script file name" },
  { "bundle", "return { bundle_id = 'a b' }", "setting 'bundle_id' is not a Lighthouse bundle id" },
  { "blueprint", "return { blueprint_id = 'ubuntu' }", "setting 'blueprint_id' is not a Lighthouse blueprint id" },
  { "renew", "return { renew_flag = 'YES' }", "setting 'renew_flag' is not one of" },
  { "envs", "return { environments = { 'dev', 'qa' } }", "setting 'environments' item 2 is not one of" },
  { "envs2", "return { environments = { 'dev', 'dev' } }", "setting 'environments' repeats dev" },
  { "roles", "return { roles = {} }", "setting 'roles' is not a list of roles" },
  { "tags", "return { tags = { ['managed-by'] = 'me' } }", "setting 'tags' sets \"managed-by\"" },
  { "tags2", "return { tags = { qcloud_x = 'y' } }", "setting 'tags' has a bad tag key" },
  { "days", "return { retain_days = -1 }", "setting 'retain_days' is not a whole number from 0 to 3650" },
  { "timeout", "return { assistant_timeout = 1.5 }", "setting 'assistant_timeout' is not a whole number" },
  { "hook", "return { hooks = { before_user = function() end } }", "has an unknown hook \"before_user\"" },
  { "hook2", "return { hooks = { after_user = 'x' } }", "has string as hook after_user, not a function" },
  { "io", "return { tags = { x = io.open('/etc/passwd'):read('a') } }", "attempt to index a nil value" },
}
for _, c in ipairs(cases) do
  unit(c[1], c[2])
  local s, err, why = found:get(c[1])
  t.ok(s == nil and why == "broken" and err:find(dir .. "/" .. c[1] .. ".lua:", 1, true)
       and err:find(c[3], 1, true), "refused: " .. c[3], err)
end

-- 2. A unit file's libraries are its own.
unit("hostile", [[
string.gsub = function() return '{"version":"2.0","statement":[{"effect":"allow","action":["*"],"resource":["*"]}]}' end
string.format = function() return "x" end
table.concat = function() return "x" end
return { hooks = { after_user = function() string.rep = function() return "" end end } }
]])
local s = found:get("hostile")
t.ok(s, "a unit that rewrites its string and table functions still loads")
s.hooks.after_user()
t.is(("a"):rep(3), "aaa", "but the recipes' string functions are untouched")
t.is(string.format("%d", 7), "7", "string.format too")
t.is(table.concat({ "a", "b" }, ","), "a,b", "and table.concat")
local doc = assert(policy.render(home .. "/policies/role-viewer.json", { environment = "dev" }))
t.ok(doc:find('"environment&dev"', 1, true) and not doc:find('"action":["*"]', 1, true),
     "a role policy renders as the template says")

-- 2b. Settings are a copy, and unit code has an instruction budget.
unit("keeper", [[
local T = {}
return { tags = T, hooks = { after_user = function() T["owner-uin"] = "1"; T.owner = "x" end } }
]])
local kept = assert(found:get("keeper"))
kept.hooks.after_user()
t.is(next(kept.tags), nil, "a unit cannot change its settings after they were checked")
unit("spin", "while true do end")
local spun, serr = found:get("spin")
t.ok(spun == nil and serr:find("spin.lua ran more than 100000000 instructions", 1, true),
     "a unit file that never ends is stopped", serr)
unit("spinhook", "return { hooks = { after_user = function() while true do end end } }")
local onboarding = require "tcrun.onboarding"
local sh = assert(found:get("spinhook"))
local ok, herr = pcall(onboarding.hook, sh, "after_user", { username = "x" }, {})
t.ok(not ok and herr:find("spinhook.lua: hook after_user ran more than", 1, true),
     "and so is a hook", herr)

-- 3. Policy values: escaped, and held to their shapes.
local vars = { owner_uin = "100000000001", env_region = "ap-shanghai", env_id = "env-1",
               server_region = "ap-guangzhou", instance_id = "lhins-1" }
local ws = home .. "/policies/workspace.json"
t.ok(policy.render(ws, vars), "the workspace policy renders")
local function bad(name, v, want)
  local c = {}
  for k, x in pairs(vars) do c[k] = x end
  c[name] = v
  local out, err = policy.render(ws, c)
  t.ok(out == nil and err:find(want, 1, true), ("%s = %s is refused"):format(name, v), err)
end
bad("env_id", '"]},{"effect":"allow","action":["*"],"resource":["*"]},{"x":["', "does not have its shape")
bad("env_id", "*", "does not have its shape")
bad("instance_id", "lhins-1/../*", "does not have its shape")
bad("owner_uin", "1:root", "does not have its shape")
bad("env_region", "ap-shanghai:*", "does not have its shape")
bad("env_id", "caf\233", "does not have its shape")   -- not UTF-8: refused, not raised (a fuzzer's find)
t.ok(policy.render(ws, (function()
  local c = {}
  for k, x in pairs(vars) do c[k] = x end
  c.env_id = plan.planned("environment")
  return c
end)()):find("env/(new environment)", 1, true), "a dry run's planned id renders by its name")
local tpl = os.tmpname()
local f = assert(io.open(tpl, "w"))
f:write('{"version":"2.0","statement":[{"effect":"allow","action":["{{action}}"],"resource":["*"]}]}')
f:close()
local out, err = policy.render(tpl, { action = "*" })
t.ok(out == nil and err:find("unknown placeholder {{action}}", 1, true),
     "a template may use only the known placeholders", err)
-- A placeholder right after \u: a value of digits finished the escape and
-- rendered, where the document's text should have been the value's.
f = assert(io.open(tpl, "w"))
f:write('{"version":"2.0","statement":[{"effect":"allow","action":["cam:x"],'
        .. '"resource":["qcs::cam::uin/\\u{{owner_uin}}:x"]}]}')
f:close()
out, err = policy.render(tpl, { owner_uin = "100000000001" })
t.ok(out == nil and err:find(tpl .. ": json: line 1, column 95: invalid \\u escape", 1, true),
     "a placeholder must stand in a string as text, not finish an escape", err or out)
os.remove(tpl)

-- An undeclared unit is looked for once: every roster row naming it asks.
do
  local listed, real = 0, tc.dir
  tc.dir = function(...) listed = listed + 1 return real(...) end
  local _, first, why = found:get("platfrom")
  local before = listed
  local _, again = found:get("platfrom")
  tc.dir = real
  t.is(why, "undeclared", "a misspelt unit is undeclared")
  t.ok(before > 0 and listed == before, "asked again, the folders are not listed again", listed)
  t.is(again, first, "and the same message comes back")
end

os.execute("rm -rf '" .. dir .. "'")
t.done()
