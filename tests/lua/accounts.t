#!/usr/bin/env tcrun
-- accounts.lua (the configuration of one account per environment), without
-- the cloud: every problem is named, with the file, before anything runs;
-- defaults are filled in; group and trust policies render to exactly the
-- one role in the one account.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local accounts = require "tcrun.accounts"
local policy = require "tcrun.policy"
local json = require "tcrun.json"

local home = os.getenv("TCRUN_SRCDIR")
local path = os.tmpname()
local function read(body)
  local f = assert(io.open(path, "w"))
  f:write(body)
  f:close()
  return accounts.read(path)
end

local ok = [[return { hub = "100000000001", environments = {
  dev = { uin = "100010000001", name = "acme-dev" }, prod = { name = "acme-prod" } } }]]
local cfg = assert(read(ok))
t.is(cfg.role, "OrganizationAccessControlRole", "default role: the Organization's")
t.is(cfg.session_seconds, 3600, "default session: an hour")
t.is(cfg.role_session_seconds, 3600, "people's sessions: an hour")
t.ok(cfg.organization and cfg.guardrails, "Organization and guardrails on by default")

local cases = {
  { "return { environments = { dev = { uin = '100010000001' } } }", "'hub' is missing" },
  { "return { hub = 100000000001, environments = { dev = { uin = '1000100001' } } }",
    "'hub' is not the hub's account UIN" },
  { "return { hub = '100000000001', enviroments = {} }",
    "unknown setting 'enviroments' (did you mean 'environments'?)" },
  { "return { hub = '100000000001', environments = { qa = { uin = '100010000001' } } }",
    "environment 'qa': not one of dev, test, staging, prod" },
  { "return { hub = '100000000001', environments = { dev = { uin = '100010000001' }, "
    .. "prod = { uin = '100010000001' } } }", "is also environment" },
  { "return { hub = '100000000001', environments = { dev = { uin = '100000000001' } } }",
    "'hub' and environment 'dev' are both account 100000000001" },
  { "return { hub = '100000000001', organization = false, environments = { dev = { name = 'x' } } }",
    "environment 'dev': needs 'uin'" },
  { "return { hub = '100000000001', environments = { dev = { uin = '1x' } } }",
    "environment 'dev': 'uin' is not an account UIN" },
  { "return { hub = '100000000001', session_seconds = 10, environments = { dev = { uin = '100010000001' } } }",
    "'session_seconds' is not seconds from 900 to 43200" },
  { "return { hub = '100000000001', environments = {} }", "'environments' names no environment" },
  { "os.exit(1)", "attempt to call a nil value (field 'exit')" },
  { "while true do end", "instructions (an endless loop?)" },
}
for _, c in ipairs(cases) do
  local got, err = read(c[1])
  t.ok(not got and err:find(path, 1, true) == 1 and err:find(c[2], 1, true), c[2], err)
end
local _, err = read("return { hub = 'x', environments = { qa = 1, dev = { uin = 'y' } } }")
t.ok(err:find("'hub' is not", 1, true) and err:find("'qa'", 1, true) and err:find("'uin' is not", 1, true),
     "every problem at once", err)

-- The hub's group policy: sts:AssumeRole on one role in one account.
local doc = json.decode(assert(policy.render(home .. "/policies/assume-role.json",
                                             { account_uin = "100040000001", role = "operator" })))
t.is(json.encode(doc.statement), json.encode({ { effect = "allow", action = { "sts:AssumeRole" },
     resource = { "qcs::cam::uin/100040000001:roleName/tcrun-operator" } } }),
     "a group may assume exactly tcrun-<role> in its account")
t.ok(not policy.render(home .. "/policies/assume-role.json", { account_uin = "*", role = "operator" }),
     "a UIN cannot widen the resource")
t.ok(not policy.render(home .. "/policies/assume-role.json", { account_uin = "1", role = "*" }),
     "nor a role")
local trust = json.decode(assert(policy.render(home .. "/policies/trust-hub.json", { hub_uin = "100000000001" })))
t.is(json.encode(trust.statement[1].principal), json.encode({ qcs = { "qcs::cam::uin/100000000001:root" } }),
     "a spoke role trusts the hub account only")
t.ok(policy.render(home .. "/policies/guardrails.json", {}), "the guardrail SCP renders")
os.remove(path)
t.done()
