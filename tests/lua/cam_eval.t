#!/usr/bin/env tcrun
-- cam_eval.lua: the offline CAM evaluator, rule by rule (actions, the six
-- resource segments, every condition operator, qualifiers, _if_exist,
-- variables, deny wins, list questions, parse errors).
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local ev = require "tcrun.cam_eval"

local O, ME = "100000000001", "100000100002"
local ENV = "qcs::tcb:ap-shanghai:uin/" .. O .. ":env/e-1"

local function pol(stmts, name)
  local doc = assert(ev.parse({ version = "2.0", statement = stmts }))
  return { doc = doc, id = name or "p", name = name or "p", via = "user" }
end

local function decide(stmts, action, resource, context)
  local d = ev.evaluate({ pol(stmts) }, { action = action, resource = resource, owner_uin = O, uin = ME,
                                           context = context or {} })
  return d
end

-- 1. Actions
local A = {
  { "*", "cam:ListUsers", true }, { "cam:*", "cam:ListUsers", true }, { "cam:List*", "cam:ListUsers", true },
  { "cam:List*", "cam:GetUser", false }, { "cam:ListUsers", "cam:ListUsers", true },
  { "name/cam:ListUsers", "cam:ListUsers", true }, { "cam:listusers", "cam:ListUsers", false },
  { "*:Describe*", "tcb:DescribeEnvs", true }, { "*:Describe*", "tcb:ModifyEnv", false },
  { "tcb:*Env", "tcb:ModifyEnv", true }, { "tcb:*Env", "tcb:DescribeEnvs", false },
  { "lighthouse:St*Instances", "lighthouse:StopInstances", true }, { "cam:*", "tcb:ModifyEnv", false },
  { "permid/tcb:1", "tcb:ModifyEnv", false },
}
for _, c in ipairs(A) do
  t.is(ev.action_matches(c[1], c[2]), c[3], ("action %s vs %s"):format(c[1], c[2]))
end

-- 2. Resources (owner O, caller ME)
local V = { uin = ME, owner_uin = O }
local R = {
  { "*", ENV, true, "* matches every resource" },
  { "*", "*", true, "* matches the operation-level *" },
  { "qcs::tcb:ap-shanghai:uin/" .. O .. ":env/*", "*", false, "a narrow resource never matches *" },
  { "qcs::tcb:ap-shanghai:uin/" .. O .. ":env/e-1", ENV, true, "exact" },
  { "qcs::tcb:ap-shanghai:uin/" .. O .. ":env/e-2", ENV, false, "other id" },
  { "qcs::tcb::uin/" .. O .. ":env/*", ENV, true, "empty region: every region" },
  { "qcs::tcb:ap-guangzhou:uin/" .. O .. ":env/*", ENV, false, "other region" },
  { "qcs::tcb:ap-shanghai::env/*", ENV, true, "empty account: the owner's account" },
  { "qcs::tcb:ap-shanghai::env/*", "qcs::tcb:ap-shanghai:uin/100010000001:env/e-1", false,
    "empty account: not another account" },
  { "qcs:::ap-shanghai:uin/" .. O .. ":env/*", ENV, true, "empty service: every service" },
  { "qcs:::::env/e-1", ENV, true, "empty service, region and account" },
  { "qcs::lighthouse:ap-shanghai:uin/" .. O .. ":env/*", ENV, false, "other service" },
  { "qcs::tcb:*:uin/" .. O .. ":env/e-*", ENV, true, "wildcards in several segments" },
  { "qcs::tcb:ap-shanghai:uin/*:env/e-1", ENV, true, "wildcard account" },
  { "qcs::tcb:ap-shanghai:uin/100010000001:env/*", ENV, false, "explicit other account" },
  { "qcs::cam::uin/" .. O .. ":uin/${uin}", "qcs::cam::uin/" .. O .. ":uin/" .. ME, true, "${uin}" },
  { "qcs::cam::uin/" .. O .. ":uin/${uin}", "qcs::cam::uin/" .. O .. ":uin/100000100003", false,
    "${uin} is only the caller" },
  { "qcs::cam:::uin/${owner_uin}", "qcs::cam::uin/" .. O .. ":uin/" .. O, true, "${owner_uin}" },
  { "qcs::cam::uin/" .. O .. ":uin/1000001*", "qcs::cam::uin/" .. O .. ":uin/" .. ME, true, "uin/ prefix wildcard" },
  { "qcs::cam::uin/" .. O .. ":roleName/*", "qcs::cam::uin/" .. O .. ":uin/" .. ME, false, "roleName/ is not uin/" },
  { "qcs::cam::uin/" .. O .. ":*", "qcs::cam::uin/" .. O .. ":roleName/a:b", true, "a resource with a colon" },
}
for _, c in ipairs(R) do
  t.is(ev.resource_matches(c[1], c[2], O, V), c[3], "resource: " .. c[4])
end
t.is(ev.resource_matches("qcs::tcb:ap-shanghai::env/*", ENV, nil), false, "empty account without an owner: no match")

-- 3. Deny wins; no allow is "none"; why names the statement
local P1 = pol({ { effect = "allow", action = "*", resource = "*" } }, "admin")
local P2 = pol({ { effect = "allow", action = "tcb:Describe*", resource = "*" },
                 { effect = "deny", action = "tcb:ModifyEnv", resource = ENV } }, "guard")
local req = { action = "tcb:ModifyEnv", resource = ENV, owner_uin = O, uin = ME }
local d, why = ev.evaluate({ P1, P2 }, req)
t.is(d, "deny", "an explicit deny beats an allow in another policy")
t.is(why and why.policy.name, "guard", "why: the denying policy")
t.is(why and why.statement, 2, "why: the denying statement (1-based)")
d, why = ev.evaluate({ P1 }, req)
t.is(d, "allow", "allow")
t.is(why and why.stmt.effect, "allow", "why.stmt is the statement")
d, why = ev.evaluate({ P2 }, { action = "cam:ListUsers", resource = "*", owner_uin = O })
t.is(d, "none", "nothing allows: none")
t.is(why, nil, "why is nil for none")
t.is(ev.evaluate({}, req), "none", "no policies: none")

-- 4. Conditions: every operator, positive and negative cases
local CTX = {
  ["qcs:resource_tag"] = { owner = "ann", team = "a" },
  ["qcs:ip"] = "10.1.2.3",
  ["qcs:current_time"] = "2026-06-01T00:00:00Z",
  ["qcs:num"] = "5",
  ["qcs:flag"] = "true",
  ["qcs:bin"] = "aGVsbG8=",
  ["qcs:create_uin"] = ME,
}
local C = {
  { "string_equal", { string_equal = { ["qcs:resource_tag"] = "owner&ann" } }, true },
  { "string_equal other", { string_equal = { ["qcs:resource_tag"] = "owner&ben" } }, false },
  { "string_equal, one of several values", { string_equal = { ["qcs:resource_tag"] = { "x&1", "team&a" } } }, true },
  { "string_equal is case-sensitive", { string_equal = { ["qcs:resource_tag"] = "OWNER&ANN" } }, false },
  { "string_not_equal other", { string_not_equal = { ["qcs:resource_tag"] = "owner&ben" } }, true },
  { "string_not_equal same", { string_not_equal = { ["qcs:resource_tag"] = "owner&ann" } }, false },
  { "string_equal_ignore_case", { string_equal_ignore_case = { ["qcs:resource_tag"] = "OWNER&Ann" } }, true },
  { "string_not_equal_ignore_case", { string_not_equal_ignore_case = { ["qcs:resource_tag"] = "OWNER&ANN" } }, false },
  { "string_like", { string_like = { ["qcs:resource_tag"] = "owner&a*" } }, true },
  { "string_like no", { string_like = { ["qcs:resource_tag"] = "owner&b*" } }, false },
  { "string_not_like", { string_not_like = { ["qcs:resource_tag"] = "owner&a*" } }, false },
  { "string_not_like no match", { string_not_like = { ["qcs:resource_tag"] = "*&z*" } }, true },
  { "numeric_equal", { numeric_equal = { ["qcs:num"] = "5.0" } }, true },
  { "numeric_equal (JSON number)", { numeric_equal = { ["qcs:num"] = 5 } }, true },
  { "numeric_not_equal", { numeric_not_equal = { ["qcs:num"] = "5" } }, false },
  { "numeric_less_than", { numeric_less_than = { ["qcs:num"] = "10" } }, true },
  { "numeric_less_than no", { numeric_less_than = { ["qcs:num"] = "5" } }, false },
  { "numeric_less_than_equal", { numeric_less_than_equal = { ["qcs:num"] = "5" } }, true },
  { "numeric_greater_than", { numeric_greater_than = { ["qcs:num"] = "4.5" } }, true },
  { "numeric_greater_than_equal", { numeric_greater_than_equal = { ["qcs:num"] = "6" } }, false },
  { "numeric on a non-number", { numeric_equal = { ["qcs:flag"] = "1" } }, false },
  { "date_equal", { date_equal = { ["qcs:current_time"] = "2026-06-01T08:00:00+08:00" } }, true },
  { "date_not_equal", { date_not_equal = { ["qcs:current_time"] = "2026-06-01 00:00:00" } }, false },
  { "date_less_than", { date_less_than = { ["qcs:current_time"] = "2099-01-01T00:00:00Z" } }, true },
  { "date_less_than_equal", { date_less_than_equal = { ["qcs:current_time"] = "2026-06-01" } }, true },
  { "date_greater_than", { date_greater_than = { ["qcs:current_time"] = "2026-06-01T00:00:00Z" } }, false },
  { "date_greater_than_equal", { date_greater_than_equal = { ["qcs:current_time"] = "2001-01-01T00:00:00Z" } }, true },
  { "time window", { date_greater_than = { ["qcs:current_time"] = "2026-01-01T00:00:00Z" },
                     date_less_than = { ["qcs:current_time"] = "2026-03-31T23:59:59Z" } }, false },
  { "date on a non-date", { date_less_than = { ["qcs:num"] = "2099-01-01" } }, false },
  { "bool_equal", { bool_equal = { ["qcs:flag"] = true } }, true },
  { "bool_equal false", { bool_equal = { ["qcs:flag"] = "false" } }, false },
  { "binary_equal", { binary_equal = { ["qcs:bin"] = "aGVsbG8=" } }, true },
  { "ip_equal CIDR", { ip_equal = { ["qcs:ip"] = "10.0.0.0/8" } }, true },
  { "ip_equal outside", { ip_equal = { ["qcs:ip"] = "192.168.0.0/16" } }, false },
  { "ip_equal one address", { ip_equal = { ["qcs:ip"] = "10.1.2.3" } }, true },
  { "ip_equal one of several", { ip_equal = { ["qcs:ip"] = { "192.168.0.0/16", "10.1.2.0/24" } } }, true },
  { "ip_not_equal inside", { ip_not_equal = { ["qcs:ip"] = "10.0.0.0/8" } }, false },
  { "ip_not_equal outside", { ip_not_equal = { ["qcs:ip"] = "192.168.0.0/16" } }, true },
  { "null_equal true on an absent key", { null_equal = { ["qcs:request_tag"] = "true" } }, true },
  { "null_equal true on a present key", { null_equal = { ["qcs:ip"] = true } }, false },
  { "null_equal false on a present key", { null_equal = { ["qcs:ip"] = "false" } }, true },
  -- missing keys and _if_exist
  { "absent key fails", { string_equal = { ["qcs:request_tag"] = "env&dev" } }, false },
  { "absent key fails a negated operator too", { string_not_equal = { ["qcs:request_tag"] = "env&dev" } }, false },
  { "_if_exist on an absent key holds", { string_equal_if_exist = { ["qcs:request_tag"] = "env&dev" } }, true },
  { "_if_exist on a present key tests it", { string_equal_if_exist = { ["qcs:resource_tag"] = "env&dev" } }, false },
  { "ip_not_equal_if_exist present", { ip_not_equal_if_exist = { ["qcs:ip"] = "10.0.0.0/8" } }, false },
  { "numeric_less_than_if_exist absent", { numeric_less_than_if_exist = { ["qcs:nothing"] = "1" } }, true },
  -- qualifiers on the two tags owner&ann, team&a
  { "for_any_value: one listed", { ["for_any_value:string_equal"] = { ["qcs:resource_tag"] = "owner&ann" } }, true },
  { "for_all_value: not every tag listed", { ["for_all_value:string_equal"] = { ["qcs:resource_tag"] = "owner&ann" } }, false },
  { "for_all_value: every tag listed",
    { ["for_all_value:string_equal"] = { ["qcs:resource_tag"] = { "owner&ann", "team&a", "x&1" } } }, true },
  { "for_any_value:string_not_equal: some tag differs",
    { ["for_any_value:string_not_equal"] = { ["qcs:resource_tag"] = "owner&ann" } }, true },
  { "for_all_value:string_not_equal: one listed",
    { ["for_all_value:string_not_equal"] = { ["qcs:resource_tag"] = "owner&ann" } }, false },
  { "plain string_not_equal: one of the tags listed",
    { string_not_equal = { ["qcs:resource_tag"] = "owner&ann" } }, false },
  { "for_any_value:string_like_if_exist absent",
    { ["for_any_value:string_like_if_exist"] = { ["qcs:request_tag"] = "env&*" } }, true },
  { "for_all_value on an absent key fails", { ["for_all_value:string_equal"] = { ["qcs:request_tag"] = "a&b" } }, false },
  -- AND of keys and operators
  { "two keys in one operator: both must hold",
    { string_equal = { ["qcs:resource_tag"] = "owner&ann", ["qcs:create_uin"] = "nobody" } }, false },
  { "two operators: both must hold",
    { string_equal = { ["qcs:resource_tag"] = "owner&ann" }, ip_equal = { ["qcs:ip"] = "10.0.0.0/8" } }, true },
  -- variables in condition values
  { "${uin} in a condition value", { string_equal = { ["qcs:create_uin"] = "${uin}" } }, true },
  { "${owner_uin} in a condition value", { string_equal = { ["qcs:create_uin"] = "${owner_uin}" } }, false },
}
for _, c in ipairs(C) do
  t.is(decide({ { effect = "allow", action = "*", resource = "*", condition = c[2] } }, "tcb:ModifyEnv", ENV, CTX),
       c[3] and "allow" or "none", "condition: " .. c[1])
end

-- a conditional deny applies only when its condition holds
local guard = { { effect = "allow", action = "*", resource = "*" },
                { effect = "deny", action = "tcb:*", resource = "*",
                  condition = { ["for_any_value:string_equal"] = { ["qcs:resource_tag"] = "env&prod" } } } }
t.is(decide(guard, "tcb:DestroyEnv", ENV, { ["qcs:resource_tag"] = { "env&prod" } }), "deny",
     "a tag-conditioned deny on a prod resource (tags as a list)")
t.is(decide(guard, "tcb:DestroyEnv", ENV, { ["qcs:resource_tag"] = { env = "dev" } }), "allow",
     "... not on a dev one (tags as a map)")
t.is(decide(guard, "tcb:DestroyEnv", ENV, {}), "allow", "... nor on an untagged one")

-- IPv6
t.is(ev.ip_in("2001:db8::7", "2001:db8::/32"), true, "IPv6 in a network")
t.is(ev.ip_in("2001:db9::7", "2001:db8::/32"), false, "IPv6 outside")
t.is(ev.ip_in("10.1.2.3", "::/0"), false, "IPv4 is not in an IPv6 network")
t.is(ev.ip_in("::ffff:10.1.2.3", "::ffff:10.1.2.0/120"), true, "IPv4-mapped IPv6")

-- 5. List questions (allows_any)
local ok, _, dec = ev.allows_any({ pol({ { effect = "allow", action = "tcb:DescribeEnvs", resource = ENV } }) },
                                 "tcb:DescribeEnvs", { owner_uin = O })
t.is(ok, true, "allows_any: an allow on one resource lets the list run")
ok, _, dec = ev.allows_any({ pol({ { effect = "allow", action = "*", resource = "*" },
                                   { effect = "deny", action = "tcb:Describe*", resource = "*" } }) },
                           "tcb:DescribeEnvs", { owner_uin = O })
t.is(dec, "deny", "allows_any: an unconditional deny on * refuses")
ok, _, dec = ev.allows_any({ pol({ { effect = "allow", action = "*", resource = "*" },
                                   { effect = "deny", action = "tcb:Describe*", resource = ENV } }) },
                           "tcb:DescribeEnvs", { owner_uin = O })
t.is(dec, "allow", "allows_any: a narrow deny does not stop the list")
ok = ev.allows_any({ pol({ { effect = "allow", action = "cam:*", resource = "*" } }) }, "tcb:DescribeEnvs", {})
t.is(ok, false, "allows_any: no allow for the action")

-- 6. Parsing
local p = assert(ev.parse([[{"version":"2.0","statement":{"effect":"Allow","action":"name/cam:ListUsers",
  "resource":"*","principal":{"qcs":["qcs::cam::uin/1:root"]}}}]]))
t.is(#p.statement, 1, "parse: a single statement object becomes a list")
t.is(p.statement[1].effect, "allow", "parse: effect lowercased")
t.is(p.statement[1].action[1], "cam:ListUsers", "parse: name/ prefix dropped, action a list")
t.is(p.statement[1].resource[1], "*", "parse: resource a list")
local bad = {
  { '{"version":"1.0","statement":[]}', "version" },
  { '{"version":"2.0","statement":[]}', "non-empty" },
  { '{"version":"2.0","statement":[{"effect":"maybe","action":"*","resource":"*"}]}', "effect" },
  { '{"version":"2.0","statement":[{"effect":"allow","resource":"*"}]}', "action" },
  { '{"version":"2.0","statement":[{"effect":"allow","action":"*"}]}', "resource" },
  { '{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"string_eq":{"a":"b"}}}]}',
    "unknown condition operator" },
  { '{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"for_some_value:string_equal":{"a":"b"}}}]}',
    "qualifier" },
  { '{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":{"null_equal_if_exist":{"a":"true"}}}]}',
    "null_equal" },
  { 'not json', "JSON" },
}
for _, c in ipairs(bad) do
  local doc, err = ev.parse(c[1])
  t.ok(doc == nil and tostring(err):find(c[2], 1, true) ~= nil, "parse refuses: " .. c[2], err)
end
local empty = assert(ev.parse('{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*","condition":[]}]}'))
t.is(#empty.statement[1].conditions, 0, "parse: an empty condition list is no condition")
-- evaluate() accepts unparsed documents too
t.is((ev.evaluate({ { doc = '{"version":"2.0","statement":[{"effect":"allow","action":"*","resource":"*"}]}' } },
                  { action = "cam:ListUsers", resource = "*" })), "allow", "evaluate parses a text document")

t.done()
