-- iam.lua: one account's CAM picture, read once, for the permission
-- review and "who can": its users (login, keys and when each was last
-- used, MFA), groups and their members, every policy attached to a user,
-- group or role (its default document, read once per policy rather than
-- once per holder), and its roles with their trust policies.
--
--   local snap = iam.read({ name = "hub", uin = "1000...", account = acct,
--                           mfa_for = function(user) ... end })
--
-- Every read raises on failure: a review must never take a failed read
-- for "no access".  opts.account: the tc.account to read through (nil:
-- the default account).
local tc = require "tc"
local api = require "tcrun.api"
local json = require "tcrun.json"
local progress = require "tcrun.progress"

local M = {}

-- "2026-12-03 10:00:00" (CAM: China time, UTC+8), "2026-12-03" or ISO
-- 8601 with Z, as unix seconds; nil for anything else (empty: never).
local function days_from_civil(y, m, d)
  y = m <= 2 and y - 1 or y
  local era = (y >= 0 and y or y - 399) // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

function M.parse_time(s)
  if type(s) ~= "string" then return nil end
  local y, mo, d, h, mi, se = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)[ T](%d%d):(%d%d):(%d%d)")
  local offset = 8 * 3600            -- CAM's "YYYY-MM-DD hh:mm:ss" is China time
  if y and s:find("Z$") then offset = 0 end
  if y and s:find("[+-]%d%d:?%d%d$") then
    local sign, oh, om = s:match("([+-])(%d%d):?(%d%d)$")
    offset = (sign == "-" and -1 or 1) * (tonumber(oh) * 3600 + tonumber(om) * 60)
  end
  if not y then
    y, mo, d = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
    if not y then return nil end
    h, mi, se = 0, 0, 0
  end
  local t = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
            + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
  return t - offset
end

-- Every item of a CAM list whose page is Page/Rp (api.cam_pages), in the
-- account of opts.
local function pages(action, params, field, opts)
  return api.cam_pages(action, params, field, 100, opts)
end

-- The default version's document of policy id, parsed (json), or the text
-- when it does not parse (a finding names it).
local function policy_doc(id, opts)
  local r = tc.call("cam", "GetPolicy", { PolicyId = id }, opts)
  local doc = json.decode(r.PolicyDocument or "")
  return { PolicyId = id, PolicyName = r.PolicyName, type = r.Type == 2 and "preset" or "custom",
           text = r.PolicyDocument, doc = doc, description = r.Description }
end

-- list cut into lists of at most n.
local function chunks(list, n)
  local out = {}
  for i = 1, #list, n do out[#out + 1] = table.move(list, i, math.min(i + n - 1, #list), 1, {}) end
  return out
end

-- Runs fn(item) for each item, tc.parallel at a time; raises the first
-- failure (a review that could not read something must not report).
local each = api.all

-- fn(item), counted on bar whether it returns or raises: a bar left short
-- would leave a terminal's line open for the error.
local function counted(bar, fn)
  return function(item)
    local ok, err = pcall(fn, item)
    bar:step(item, ok)
    if not ok then error(err, 0) end
  end
end

-- The account's picture.  opts: name, uin, account (tc.account or nil),
-- mfa (function(user) -> whether to read its MFA settings), keys_used
-- (true: read when each active key was last used).
function M.read(opts)
  local o = opts.account and { account = opts.account } or nil
  local snap = { name = opts.name, uin = opts.uin, users = {}, groups = {}, policies = {},
                 roles = {}, order = {} }
  local policy_ids = {}
  local function want(id) policy_ids[id] = true end

  for _, u in ipairs(tc.call("cam", "ListUsers", {}, o).Data or {}) do
    snap.users[u.Name] = { Uin = u.Uin, Name = u.Name, ConsoleLogin = u.ConsoleLogin,
                           created = M.parse_time(u.CreateTime), CreateTime = u.CreateTime,
                           groups = {}, policies = {}, keys = {} }
    snap.order[#snap.order + 1] = u.Name
  end
  table.sort(snap.order)
  local by_uin = {}
  for _, u in pairs(snap.users) do by_uin[u.Uin] = u end

  -- Groups: members and policies, per group (fewer calls than per user).
  local groups = pages("ListGroups", {}, "GroupInfo", o)
  each(groups, function(g)
    local entry = { GroupId = g.GroupId, GroupName = g.GroupName, Remark = g.Remark or "",
                    members = {}, policies = {} }
    for _, m in ipairs(pages("ListUsersForGroup", { GroupId = g.GroupId }, "UserInfo", o)) do
      entry.members[#entry.members + 1] = m.Name
    end
    for _, p in ipairs(pages("ListAttachedGroupPolicies", { TargetGroupId = g.GroupId }, "List", o)) do
      entry.policies[#entry.policies + 1] = p.PolicyId
      want(p.PolicyId)
    end
    snap.groups[g.GroupName] = entry
  end)
  for name, g in pairs(snap.groups) do
    table.sort(g.members)
    for _, m in ipairs(g.members) do
      local u = snap.users[m]
      if u then u.groups[#u.groups + 1] = name end
    end
  end
  -- Sorted, so a report reads the same from night to night.
  for _, u in pairs(snap.users) do table.sort(u.groups) end

  -- Per user: the last login, direct policies, keys, and MFA when asked
  -- (opts.policies_only: the policies alone, for "who can").  The slow
  -- part of a big account (two calls a user): its progress is shown.
  local label = ("reading %s (%s)"):format(opts.name or "account", opts.uin or "?")
  local bar = progress.new(#snap.order, label .. ": users", "read", true)
  each(snap.order, counted(bar, function(name)
    local u = snap.users[name]
    for _, p in ipairs(pages("ListAttachedUserPolicies", { TargetUin = u.Uin }, "List", o)) do
      u.policies[#u.policies + 1] = p.PolicyId
      want(p.PolicyId)
    end
    if opts.policies_only then return end
    for _, k in ipairs(tc.call("cam", "ListAccessKeys", { TargetUin = u.Uin }, o).AccessKeys or {}) do
      u.keys[#u.keys + 1] = { AccessKeyId = k.AccessKeyId, Status = k.Status,
                              CreateTime = k.CreateTime, created = M.parse_time(k.CreateTime) }
    end
    if opts.mfa and opts.mfa(u) then
      local f = tc.call("cam", "DescribeSafeAuthFlagColl", { SubUin = u.Uin }, o).LoginFlag or {}
      u.mfa = false
      for _, k in ipairs({ "Phone", "Token", "Stoken", "Wechat", "Custom", "Mail", "U2FToken", "Passkey" }) do
        if f[k] == 1 then u.mfa = true end
      end
    end
  end))

  -- Last console logins, fifty users at a time (DescribeSubAccounts),
  -- rather than a GetUser each.
  if not opts.policies_only then
    local uins = {}
    for _, name in ipairs(snap.order) do uins[#uins + 1] = snap.users[name].Uin end
    each(chunks(uins, 50), function(batch)
      local r = tc.call("cam", "DescribeSubAccounts", { FilterSubAccountUin = batch }, o)
      for _, x in ipairs(r.SubAccounts or {}) do
        local u = by_uin[x.Uin]
        if u and type(x.LastLoginTime) == "string" and x.LastLoginTime ~= "" then
          u.RecentlyLoginTime = x.LastLoginTime
          u.last_login = M.parse_time(x.LastLoginTime)
        end
      end
    end)
  end

  -- When each active key was last used, ten at a time.
  local ids, key_of = {}, {}
  for _, u in pairs(snap.users) do
    for _, k in ipairs(u.keys) do
      if k.Status == "Active" then ids[#ids + 1] = k.AccessKeyId; key_of[k.AccessKeyId] = k end
    end
  end
  table.sort(ids)
  each(chunks(ids, 10), function(batch)
    local r = tc.call("cam", "GetSecurityLastUsed", { SecretIdList = batch }, o)
    for _, x in ipairs(r.SecretIdLastUsedRows or {}) do
      local k = key_of[x.SecretId]
      -- null: no use visible yet (never, or only today: CAM lags a day).
      if k and type(x.LastUsedDate) == "string" and x.LastUsedDate ~= "" then
        k.LastUsedDate = x.LastUsedDate
        k.last_used = M.parse_time(x.LastUsedDate)
      end
    end
  end)

  -- Roles and their policies.
  for _, r in ipairs(pages("DescribeRoleList", {}, "List", o)) do
    local role = { RoleId = r.RoleId, RoleName = r.RoleName, SessionDuration = r.SessionDuration,
                   trust = json.decode(r.PolicyDocument or ""), policies = {} }
    snap.roles[r.RoleName] = role
  end
  local role_names = {}
  for n in pairs(snap.roles) do role_names[#role_names + 1] = n end
  table.sort(role_names)
  each(role_names, function(n)
    for _, p in ipairs(pages("ListAttachedRolePolicies", { RoleName = n }, "List", o)) do
      local role = snap.roles[n]
      role.policies[#role.policies + 1] = p.PolicyId
      want(p.PolicyId)
    end
  end)

  -- Each policy once.
  local list = {}
  for id in pairs(policy_ids) do list[#list + 1] = id end
  table.sort(list)
  bar = progress.new(#list, label .. ": policies", "read", true)
  each(list, counted(bar, function(id) snap.policies[id] = policy_doc(id, o) end))
  snap.by_uin = by_uin
  return snap
end

-- The policies that reach user u in snap: { id, policy, via } for each,
-- direct ones first, then each group's.
function M.user_policies(snap, u)
  local out = {}
  for _, id in ipairs(u.policies) do out[#out + 1] = { id = id, policy = snap.policies[id], via = "user" } end
  for _, g in ipairs(u.groups) do
    for _, id in ipairs(snap.groups[g].policies) do
      out[#out + 1] = { id = id, policy = snap.policies[id], via = "group " .. g }
    end
  end
  return out
end

return M
