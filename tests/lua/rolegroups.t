#!/usr/bin/env tcrun
-- rolegroups.lua: role group names and their shards.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local rg = require "tcrun.rolegroups"

t.is(rg.shard("dev-developer", 1), "dev-developer", "the first shard has no number")
t.is(rg.shard("dev-developer", 4), "dev-developer-4", "the others do")
local base, env, role, n = rg.parse("dev-developer-4")
t.ok(base == "dev-developer" and env == "dev" and role == "developer" and n == 4,
     "a shard name parses to its role group, environment, role and number")
base, env, role, n = rg.parse("prod-admin")
t.ok(base == "prod-admin" and env == "prod" and role == "admin" and n == 1, "so does the first")
for _, name in ipairs({ "dev-developer-1", "dev-developer-0", "dev-developer-04", "dev-wizard",
                        "qa-developer", "dev-developer-x", "Dev-developer", "dev-developer-1000",
                        "admins", "" }) do
  t.is(rg.parse(name), nil, ("%q is no role group shard"):format(name))
end
t.is(rg.parse("dev-viewer-7", "the viewers' club"), nil, "a numbered shard someone else made is none")
t.is(rg.parse("dev-viewer-7", "tcrun: viewer on dev"), "dev-viewer", "one tcrun made is")
t.is(rg.parse("dev-viewer", "the viewers' club"), "dev-viewer", "the first goes by its name alone")
t.is(table.concat(rg.wanted({ role = "operator", environments = { "staging", "prod" } }), " "),
     "staging-operator prod-operator", "an employee's role groups, in environment order")
t.ok(rg.PER_GROUP == 100 and rg.PER_USER == 10 and rg.PER_ACCOUNT == 300, "CAM's limits")
t.done()
