#!/usr/bin/env tcrun
-- lint.lua: every check of a CAM policy, passing and failing, the action
-- catalogue against the installed Node SDK, and the shipped templates
-- rendered for each environment (the prod wildcard rule refuses the
-- non-admin role templates, which allow "*" resources under a tag condition).
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local lint = require "tcrun.lint"
local policy = require "tcrun.policy"
local actions = require "tcrun.actions"
local json = require "tcrun.json"

local home = os.getenv("TCRUN_SRCDIR")

local function doc(stmts) return json.encode({ version = "2.0", statement = stmts }) end
local function stmt(fields)
  local s = { effect = "allow", action = { "tcb:DescribeEnvs" }, resource = { "*" } }
  for k, v in pairs(fields or {}) do
    if v == false then s[k] = nil else s[k] = v end
  end
  return s
end
local function check(text, opts) return table.concat(lint.check(text, opts), "\n") end
local function is(text, opts, want, name) return t.is(check(text, opts), want, name) end
local function fine(text, opts, name) return is(text, opts, "", name) end

---------------------------------------------------------------------------
-- 1. The catalogue: generated from the installed SDK, and still what it says.

local sdk = home .. "/tests/node_modules/tencentcloud-sdk-nodejs/package.json"
local f = io.open(sdk, "r")
if f and os.execute("command -v node >/dev/null 2>&1") then
  f:close()
  local tmp = os.tmpname()
  local ok = os.execute(("cd '%s' && node tests/tools/gen_actions.js > '%s'"):format(home, tmp))
  local a, b = io.open(tmp, "r"), io.open(home .. "/lua/tcrun/actions.lua", "r")
  local fresh, committed = a and a:read("a"), b and b:read("a")
  if a then a:close() end
  if b then b:close() end
  os.remove(tmp)
  t.ok(ok and fresh ~= nil and fresh == committed,
       "lua/tcrun/actions.lua matches the installed Node SDK",
       "regenerate: node tests/tools/gen_actions.js > lua/tcrun/actions.lua")
else
  if f then f:close() end
  t.ok(true, "# SKIP no Node SDK in tests/node_modules (make test installs it)")
end

local nserv, nact, sorted = 0, 0, true
for svc, list in pairs(actions) do
  nserv, nact = nserv + 1, nact + #list
  for i = 2, #list do
    if not (list[i - 1] < list[i]) then sorted = svc end
  end
end
t.ok(sorted == true, "every service's actions are sorted and unique", sorted)
t.ok(nserv > 200 and nact > 10000, ("the catalogue has every service (%d, %d actions)"):format(nserv, nact))
for _, a in ipairs({ "cam:ListUsers", "cam:CreatePolicyVersion", "sts:AssumeRole", "tcb:DescribeEnvs",
                     "lighthouse:TerminateInstances", "tat:RunCommand", "tag:TagResources",
                     "cloudaudit:StopLogging", "organization:QuitOrganization" }) do
  local svc, act = a:match("^(.-):(.*)$")
  t.ok(lint.known_action(svc, act), "catalogue has " .. a)
end
t.ok(not lint.known_action("cam", "RemoveUserFromGroups"), "catalogue lacks cam:RemoveUserFromGroups (fact sheet §6.1)")
t.ok(lint.known_action("cam", "DeleteApiKey") and check(doc({ stmt({ action = { "cam:DeleteApiKey" } }) })) == "",
     "cam:DeleteApiKey (DeleteUser Force=1 checks it; no API method) is known")

---------------------------------------------------------------------------
-- 2. The document: JSON, version, statement, element names, size.

fine(doc({ stmt() }), nil, "a small valid policy has no problems")
fine(doc({ stmt() }), {}, "opts may be empty")
is("{", nil, "policy: not valid JSON: json: line 1, column 2: unexpected end of input", "not JSON")
is("[]", nil, "policy: is a list, not a JSON object", "a list is not a policy")
is('"x"', nil, "policy: is a string, not a JSON object", "a string is not a policy")
is('{"statement":[{"effect":"allow","action":"tcb:DescribeEnvs","resource":"*"}]}', nil,
   'version: is missing (it must be "2.0")', "version is required")
is('{"version":"1.0","statement":[{"effect":"allow","action":"tcb:DescribeEnvs","resource":"*"}]}', nil,
   'version: must be the string "2.0", not "1.0"', "only version 2.0")
is('{"version":2,"statement":[{"effect":"allow","action":"tcb:DescribeEnvs","resource":"*"}]}', nil,
   'version: must be the string "2.0", not 2', "version is a string")
is('{"version":"2.0"}', nil, "statement: is missing", "statement is required")
is('{"version":"2.0","statement":[]}', nil, "statement: is an empty list", "statement is not empty")
is('{"version":"2.0","statement":{"effect":"allow","action":"tcb:DescribeEnvs","resource":"*"}}', nil,
   "statement: is an object, not a list of statements", "statement is a list")
is('{"version":"2.0","statement":["x"]}', nil, "statement 1: is a string, not an object", "a statement is an object")
is('{"Version":"2.0","version":"2.0","statement":[{"effect":"allow","action":"tcb:DescribeEnvs","resource":"*"}],"id":1}',
   nil, 'policy: "Version" is not an element: element names are lowercase ("version")\n'
     .. 'policy: "id" is not an element of a policy (only version and statement)', "unknown top-level elements")
is(doc({ stmt({ resource = { "qcs::tcb:ap-shanghai:uin/{{owner_uin}}:env/e-1" } }) }), nil,
   'policy: unrendered placeholder {{owner_uin}}\nstatement 1: resource "qcs::tcb:ap-shanghai:uin/{{owner_uin}}:env/e-1" '
     .. "segment 5 (account) must be empty (the owner), uin/<uin> or uid/<appid>, not \"uin/{{owner_uin}}\"",
   "an unrendered template is refused")

-- 6144 characters of compact JSON pass, 6145 do not; characters, not bytes.
local function sized(n, fill)
  local base = doc({ stmt({ condition = { string_equal = { k = "" } } }) })
  local pad = n - utf8.len(base)
  return doc({ stmt({ condition = { string_equal = { k = (fill or "a"):rep(pad) } } }) })
end
t.is(utf8.len(sized(6144)), 6144, "the size probe is 6144 characters")
fine(sized(6144), nil, "6144 characters is within CAM's limit")
is(sized(6145), nil, "policy: 6145 characters (compact JSON), over CAM's 6144", "6145 characters is over")
fine(sized(6144, "é"), nil, "6144 characters of two-byte UTF-8 is within the limit")
local spaced = doc({ stmt() }):gsub(",", ",\n" .. (" "):rep(7000))
fine(spaced, nil, "whitespace does not count: the limit is on compact JSON")

---------------------------------------------------------------------------
-- 3. Statements: effect, action, resource, condition, unknown elements.

fine(doc({ stmt({ effect = "deny" }) }), nil, "effect deny")
is(doc({ stmt({ effect = "Allow" }) }), nil,
   'statement 1: effect must be "allow" or "deny" (lowercase), not "Allow"', "effect is lowercase")
is(doc({ stmt({ effect = false }) }), nil, "statement 1: effect is missing", "effect is required")
fine(doc({ stmt({ action = "tcb:DescribeEnvs", resource = "*" }) }), nil, "action and resource may be strings")
is(doc({ stmt({ action = false }) }), nil, "statement 1: action is missing", "action is required")
is(doc({ stmt({ action = json.array() }) }), nil, "statement 1: action is an empty list", "action is not empty")
is(doc({ stmt({ action = { "tcb:DescribeEnvs", 7 } }) }), nil,
   "statement 1: action has an item that is a number, not a string", "actions are strings")
is(doc({ stmt({ resource = false }) }), nil, "statement 1: resource is missing", "resource is required")
is(doc({ stmt({ resource = { a = 1 } }) }), nil,
   "statement 1: resource is an object, not a string or a list of strings", "resource is a string or list")
is(doc({ stmt(), stmt({ principal = { qcs = { "qcs::cam::uin/1:root" } }, sid = "x", Effect = "allow" }) }), nil,
   'statement 2: "Effect" is not an element: element names are lowercase ("effect")\n'
     .. "statement 2: principal is not allowed in a permission policy (only in a role's trust policy)\n"
     .. 'statement 2: "sid" is not an element of a statement', "unknown statement elements, and principal")

-- A trust policy: principal, no resource.
local trust = doc({ { effect = "allow", action = "name/sts:AssumeRole",
                      principal = { qcs = { "qcs::cam::uin/100000000003:root" } } } })
fine(trust, { trust = true }, "a trust policy has a principal and no resource")
is(trust, nil, "statement 1: principal is not allowed in a permission policy (only in a role's trust policy)\n"
     .. "statement 1: resource is missing", "a trust policy is not a permission policy")
is(doc({ stmt() }), { trust = true }, "statement 1: resource is not used in a trust policy\n"
     .. "statement 1: principal is missing (a trust policy names who may assume the role)",
   "a permission policy is not a trust policy")

---------------------------------------------------------------------------
-- 4. Resources: "*" or six segments, each one checked.

local good = {
  "*", "qcs::tcb:ap-shanghai:uin/100012345678:env/myenv-1a2b3c", "qcs::tcb:ap-shanghai:uin/100012345678:env/*",
  "qcs::lighthouse::uin/100012345678:instance/lhins-abcd1234", "qcs::cam::uin/100012345678:roleName/tcrun-viewer",
  "qcs::cam::uin/*:roleName/OrganizationAccessControlRole", "qcs::cam::uin/100012345678:uin/100012345679",
  "qcs::scf:ap-shanghai:uin/1:namespace/e-1/function/*", "qcs::::uin/1:env/*", "qcs::tcb:::env/e-1",
  "qcs::cos:ap-guangzhou:uid/1250000000:prefix//1250000000/bucket/*", "qcs::tcb:*:uin/1:env/*",
  "qcs::cam::uin/${owner_uin}:uin/${uin}",
}
for _, r in ipairs(good) do fine(doc({ stmt({ resource = { r } }) }), nil, "resource " .. r) end
local bad = {
  { "qcs::tcb:ap-shanghai:uin/1", 'has 5 segments, not "*" or the six of qcs:project:service:region:account:resource' },
  { "env/e-1", 'has 1 segment, not "*" or the six of qcs:project:service:region:account:resource' },
  { "arn::tcb:ap-shanghai:uin/1:env/e-1", 'segment 1 (qcs) must be "qcs", not "arn"' },
  { "qcs:0:tcb:ap-shanghai:uin/1:env/e-1", 'segment 2 (project) must be empty, not "0"' },
  { "qcs::TCB:ap-shanghai:uin/1:env/e-1", 'segment 3 (service) must be empty (every service) or a service name like tcb, not "TCB"' },
  { "qcs::tcbx:ap-shanghai:uin/1:env/e-1", 'segment 3 (service) must be empty (every service) or a known service, not "tcbx"' },
  { "qcs::tcb:shanghai:uin/1:env/e-1", 'segment 4 (region) must be empty (every region) or a region name like ap-guangzhou, not "shanghai"' },
  { "qcs::tcb:ap-shanghai:100012345678:env/e-1", 'segment 5 (account) must be empty (the owner), uin/<uin> or uid/<appid>, not "100012345678"' },
  { "qcs::tcb:ap-shanghai:uin/1:", 'segment 6 (resource) must be "*" or <type>/<id>, not ""' },
  { "qcs::tcb:ap-shanghai:uin/1:e-1", 'segment 6 (resource) must be "*" or <type>/<id>, not "e-1"' },
}
for _, c in ipairs(bad) do
  is(doc({ stmt({ resource = { "*", c[1] } }) }), nil, ("statement 1: resource %s %s"):format(json.encode(c[1]), c[2]),
     "resource " .. c[1])
end

---------------------------------------------------------------------------
-- 5. Conditions: the documented operators, qualifiers and _if_exist.

t.ok(#lint.OPERATORS == 23, "23 documented operators", #lint.OPERATORS)
for _, op in ipairs(lint.OPERATORS) do
  fine(doc({ stmt({ condition = { [op] = { ["qcs:ip"] = "10.0.0.0/8" } } }) }), nil, "operator " .. op)
end
for _, op in ipairs({ "for_any_value:string_equal", "for_all_value:string_like", "string_equal_if_exist",
                      "for_any_value:string_not_equal_if_exist", "ip_equal_if_exist" }) do
  fine(doc({ stmt({ condition = { [op] = { ["qcs:resource_tag"] = { "environment&dev", "team&a" } } } }) }), nil,
       "operator " .. op)
end
fine(doc({ stmt({ condition = { date_greater_than = { ["qcs:current_time"] = "2026-01-01T00:00:00Z" },
                                date_less_than = { ["qcs:current_time"] = "2026-03-31T23:59:59Z" } } }) }),
     nil, "a time window (two operators)")
local badcond = {
  { { string_equals = { k = "v" } }, 'condition "string_equals" is not a documented operator' },
  { { StringEquals = { k = "v" } }, 'condition "StringEquals" is not a documented operator' },
  { { date_not_less_than = { k = "v" } }, 'condition "date_not_less_than" is not a documented operator' },
  { { ["for_some_value:string_equal"] = { k = "v" } },
    'condition "for_some_value:string_equal" has a qualifier other than for_any_value: or for_all_value:' },
  { { null_equal_if_exist = { k = "true" } }, 'condition "null_equal_if_exist" takes no _if_exist suffix' },
  { { string_equal = "v" }, 'condition "string_equal" must map condition keys to values, not a string' },
  { { string_equal = { k = json.array() } }, 'condition "string_equal" "k" has no values' },
  { { string_equal = { k = { { a = 1 } } } },
    'condition "string_equal" "k": a value is an object, not a string, number or boolean' },
}
for _, c in ipairs(badcond) do
  is(doc({ stmt({ condition = c[1] }) }), nil, "statement 1: " .. c[2], c[2])
end
is(doc({ stmt({ condition = { "x" } }) }), nil, "statement 1: condition is a list, not an object of operators",
   "condition is an object")

---------------------------------------------------------------------------
-- 6. Actions: in the catalogue, wildcards that match, the name/ prefix.

for _, a in ipairs({ "*", "cam:ListUsers", "name/cam:ListUsers", "cam:List*", "cam:*", "*:Describe*",
                     "tcb:*Env", "lighthouse:St*Instances", "name/sts:AssumeRole", "cloudaudit:StopLogging" }) do
  fine(doc({ stmt({ action = { a } }) }), nil, "action " .. a)
end
local badact = {
  { "cam:listusers", 'is not an action of cam (names are case-sensitive: "cam:ListUsers")' },
  { "cam:RemoveUserFromGroups", "is not an action of cam" },
  { "cam:Nope*", "matches no action in the catalogue" },
  { "*:Nope*", "matches no action in the catalogue" },
  { "camx:ListUsers", 'names the unknown service "camx"' },
  { "ListUsers", 'is not "service:Action" (or "*")' },
  { "cam:", 'is not "service:Action" (or "*")' },
  { "cam:List Users", 'has "List Users", which is not an action name' },
  { "permid/tcb:1", "is a feature set (permid/), which the action catalogue cannot check" },
}
for _, c in ipairs(badact) do
  is(doc({ stmt({ action = { "tcb:DescribeEnvs", c[1] } }) }), nil,
     ("statement 1: action %s %s"):format(json.encode(c[1]), c[2]), "action " .. c[1])
end

---------------------------------------------------------------------------
-- 7. The prod rule: no "*", "service:*" or "*" resource allowed in a
-- non-admin prod policy; deny statements and admins may.

local PROD = { environment = "prod" }
local wide = doc({ stmt({ action = { "*", "tcb:*", "name/lighthouse:*", "cam:List*" }, resource = { "*" } }) })
is(wide, PROD, table.concat({
  'statement 1: action "*" allows the wildcard "*" in a non-admin prod policy',
  'statement 1: action "tcb:*" allows the wildcard "service:*" in a non-admin prod policy',
  'statement 1: action "name/lighthouse:*" allows the wildcard "service:*" in a non-admin prod policy',
  'statement 1: resource "*" allows the wildcard "*" in a non-admin prod policy' }, "\n"),
  "prod refuses allowed wildcards")
fine(wide, { environment = "prod", admin = true }, "an admin's prod policy may use wildcards")
fine(wide, { environment = "staging" }, "a staging policy may use wildcards")
fine(wide, nil, "a policy of no environment may use wildcards")
fine(doc({ stmt({ effect = "deny", action = { "*", "tcb:*" }, resource = "*" }) }), PROD,
     "a prod deny may use wildcards")
fine(doc({ stmt({ action = { "tcb:Describe*" }, resource = { "qcs::tcb:ap-shanghai:uin/1:env/*" } }) }), PROD,
     "a prod allow with a partial wildcard and a scoped resource is fine")
is(doc({ stmt({ action = { "tcb:ModifyEnv" }, resource = "qcs:::::*" }) }), PROD,
   'statement 1: resource "qcs:::::*" allows the wildcard "*" in a non-admin prod policy',
   "a resource of empty segments is the wildcard too")
is(doc({ stmt({ action = { "cam:AttachUser*" }, resource = "qcs::cam::uin/1:uin/2" }) }), PROD,
   'statement 1: action "cam:AttachUser*" allows a wildcard on CAM in a non-admin prod policy',
   "a wildcard on CAM actions is refused in prod")
fine(doc({ stmt({ action = { "tcb:DescribeEnvs", "lighthouse:Describe*" }, resource = "*" }) }), PROD,
     "a prod allow that only reads may name the resource \"*\" (CAM lists against * alone)")
is(doc({ stmt({ action = { "tcb:ModifyEnv" },
                condition = { ["for_any_value:string_equal"] = { ["qcs:resource_tag"] = { "environment&prod" } } } }) }),
   PROD, 'statement 1: resource "*" allows the wildcard "*" in a non-admin prod policy'
     .. " (a condition does not make it narrower here)", "a tag condition does not excuse a \"*\" resource")

---------------------------------------------------------------------------
-- 8. The shipped templates, rendered by policy.lua.

-- The templates are the policy owners' to change, so the test holds them to
-- the linter rather than to their present text: no problems outside prod or
-- for the admin; in prod, a non-admin template may be refused only by the
-- wildcard rule, and which ones are is printed as a diagnostic.
local ENVS = { "dev", "test", "staging", "prod" }
local refused = {}
for _, role in ipairs({ "viewer", "developer", "operator", "admin" }) do
  for _, env in ipairs(ENVS) do
    local text = assert(policy.render(home .. "/policies/role-" .. role .. ".json", { environment = env }))
    local problems = lint.check(text, { environment = env, admin = role == "admin" })
    if env ~= "prod" or role == "admin" then
      t.is(table.concat(problems, "\n"), "", ("role-%s for %s: no problems"):format(role, env))
    else
      local other = {}
      for _, p in ipairs(problems) do
        if not p:find("in a non-admin prod policy", 1, true) then other[#other + 1] = p end
      end
      t.is(table.concat(other, "\n"), "", ("role-%s for prod: no problems but the wildcard rule's"):format(role))
      if #problems > 0 then
        refused[#refused + 1] = "role-" .. role
        t.diag(("role-%s for prod is refused:\n%s"):format(role, table.concat(problems, "\n")))
      end
    end
  end
end
t.diag("the prod wildcard rule refuses: " .. (#refused > 0 and table.concat(refused, ", ") or "none"))
local admin_prod = assert(policy.render(home .. "/policies/role-admin.json", { environment = "prod" }))
t.like(check(admin_prod, PROD), "in a non%-admin prod policy", "role-admin would be refused in prod if it were not an admin's")

local vars = { owner_uin = "100000000001", env_region = "ap-shanghai", env_id = "e-1",
               server_region = "ap-guangzhou", instance_id = "lhins-1", account_uin = "100000000002",
               hub_uin = "100000000003", role = "viewer" }
for _, name in ipairs({ "workspace", "guardrails", "assume-role" }) do
  fine(assert(policy.render(home .. "/policies/" .. name .. ".json", vars)), nil, name .. ".json: no problems")
end
fine(assert(policy.render(home .. "/policies/guardrails.json", vars)), PROD, "guardrails.json (deny only) passes in prod")
fine(assert(policy.render(home .. "/policies/trust-hub.json", vars)), { trust = true },
     "trust-hub.json: no problems as a trust policy")

t.done()
