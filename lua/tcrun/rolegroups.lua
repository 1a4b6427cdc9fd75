-- rolegroups.lua: the CAM groups that give people their role in an
-- environment.  CAM holds at most 100 users in a group, 10 groups per user
-- and 300 groups per account, so a role group "<environment>-<role>" is
-- one or more shards: "dev-developer" holds the first 100 members,
-- "dev-developer-2" the next 100, and so on.  Every shard carries the
-- same policy (tcrun-<environment>-<role>), so membership of any one of
-- them is the role; a person belongs in exactly one.  A person is in at
-- most one shard per environment, 4 of CAM's 10 groups per user.
-- Does not: read or write the account (onboarding.lua does).
local roster = require "tcrun.roster"

local M = {}

M.PER_GROUP, M.PER_USER, M.PER_ACCOUNT = 100, 10, 300

local ENV, ROLE = {}, {}
for _, v in ipairs(roster.ENVIRONMENTS) do ENV[v] = true end
for _, v in ipairs(roster.ROLES) do ROLE[v] = true end

-- The role group of role in env: "<env>-<role>".
function M.base(env, role)
  return env .. "-" .. role
end

-- The name of shard n (from 1) of role group base.
function M.shard(base, n)
  return n == 1 and base or ("%s-%d"):format(base, n)
end

-- What a group is: its role group, environment, role and shard number;
-- nil for a group that is no role group's shard.  remark, the group's
-- (ListGroups), when given: a numbered shard is one only when tcrun made
-- it ("tcrun: ..."), so a hand-made group named like one is never taken.
function M.parse(name, remark)
  local env, role, n = name:match("^(%l+)%-(%l+)%-([1-9]%d?%d?)$")
  if not env then
    env, role = name:match("^(%l+)%-(%l+)$")
    n = env and "1"
  elseif n == "1" then
    return nil   -- the first shard has no number
  end
  if not (env and ENV[env] and ROLE[role]) then return nil end
  if n ~= "1" and remark ~= nil and not tostring(remark):find("^tcrun:") then return nil end
  return M.base(env, role), env, role, tonumber(n)
end

-- The role groups a roster employee belongs in, in environment order.
function M.wanted(e)
  local out = {}
  for _, env in ipairs(e.environments) do out[#out + 1] = M.base(env, e.role) end
  return out
end

return M
