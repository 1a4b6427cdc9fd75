-- accounts.lua: one account per environment ("hub and spokes").
--
-- The configuration is accounts.lua in the configuration folder (tcrun
-- --config DIR, else ~/.config/tcrun); without it tcrun works in the one
-- account of its credentials, as always.  With it:
--   the hub, tcrun's own account, holds the people: their CAM sub-users,
--     the groups "<env>-<role>" and their workspaces;
--   each environment has an account of its own (a spoke), where
--     setup_accounts.lua keeps a role "tcrun-<role>" per role, trusting
--     the hub, with the permissions of policies/role-<role>.json;
--   a group "<env>-<role>" in the hub allows exactly sts:AssumeRole on
--     tcrun-<role> in <env>'s account (policies/assume-role.json);
--   tcrun itself reaches a spoke through a role there (by default
--     OrganizationAccessControlRole, which Tencent Cloud Organization
--     makes in the accounts it creates), with short-lived credentials the
--     host keeps (tc.account).
--
-- The guard (open): before a recipe writes anything, every account must
-- be the one the configuration says.  The hub's credentials, and each
-- spoke's assumed role, must answer GetCallerIdentity with the configured
-- UIN (the host checks that at the first call in each account); and when
-- the accounts are members of an Organization, each configured UIN must be
-- the member of its configured name and not tagged for another
-- environment.  Any mismatch stops the run (exit 2) naming both UINs.
--
--   local accounts = require "tcrun.accounts"
--   local acc = accounts.open()        -- nil in single-account mode
--   acc.hub, acc.spokes[env] = { env, uin, name, account, member }
local tc = require "tc"
local api = require "tcrun.api"
local roster = require "tcrun.roster"
local units = require "tcrun.units"

local M = {}
M.__index = M

M.FILE = "accounts.lua"
M.DEFAULT_ROLE = "OrganizationAccessControlRole"

local function digits(v) return type(v) == "string" and v:find("^%d+$") and #v >= 5 and #v <= 20 end

-- Organization member names: at most 25 letters, digits, CJK and +@&._[]-:,
local function member_name(v)
  return type(v) == "string" and #v > 0 and #v <= 75 and not v:find("[%c\"'\\/%s<>%%]")
end

local function whole(lo, hi)
  return function(v) return math.type(v) == "integer" and v >= lo and v <= hi end
end

local TOP = {
  hub = { digits, "the hub's account UIN (digits, as a string)" },
  role = { function(v) return type(v) == "string" and v:find("^[%w_+=,.@-]+$") and #v <= 128 end,
           "a CAM role name" },
  external_id = { function(v) return type(v) == "string" and v:find("^[%w_+=,.@:/-]+$") and #v >= 2
                                     and #v <= 128 end, "an external id (2-128 of letters, digits, _+=,.@:/-)" },
  session_seconds = { whole(900, 43200), "seconds from 900 to 43200" },
  role_session_seconds = { whole(900, 43200), "seconds from 900 to 43200" },
  organization = { function(v) return type(v) == "boolean" end, "true or false" },
  guardrails = { function(v) return type(v) == "boolean" end, "true or false" },
  environments = { function(v) return type(v) == "table" end, "a table of environments" },
}

local SPOKE = {
  uin = { digits, "an account UIN (digits, as a string)" },
  name = { member_name, "an Organization member name (at most 25 characters)" },
}

-- Every problem of the table t against schema, as "key why" strings.
local function check(t, schema, where, problems)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = tostring(k) end
  table.sort(keys)
  for _, k in ipairs(keys) do
    local rule = schema[k]
    if not rule then
      local near = units.nearest(k, schema)
      problems[#problems + 1] = ("%sunknown setting '%s'%s"):format(where, k,
        near and (" (did you mean '" .. near .. "'?)") or "")
    elseif not rule[1](t[k]) then
      problems[#problems + 1] = ("%s'%s' is not %s"):format(where, k, rule[2])
    end
  end
end

-- The configuration at path, checked and with its defaults, or nil and
-- "path: why" (every problem named).
function M.read(path)
  local t, err = units.load_data(path)
  if not t then return nil, err end
  local problems = {}
  check(t, TOP, "", problems)
  if t.hub == nil then problems[#problems + 1] = "'hub' is missing (the UIN of tcrun's own account)" end
  local envs = type(t.environments) == "table" and t.environments or {}
  local known = {}
  for _, e in ipairs(roster.ENVIRONMENTS) do known[e] = true end
  local names, uins, n = {}, {}, 0
  for env, s in pairs(envs) do
    n = n + 1
    local where = ("environment '%s': "):format(tostring(env))
    if not known[env] then
      problems[#problems + 1] = where .. "not one of " .. table.concat(roster.ENVIRONMENTS, ", ")
    elseif type(s) ~= "table" then
      problems[#problems + 1] = where .. "is not a table { uin = ..., name = ... }"
    else
      check(s, SPOKE, where, problems)
      if s.uin == nil and (s.name == nil or t.organization == false) then
        problems[#problems + 1] = where .. "needs 'uin'" ..
          (t.organization == false and "" or " or the 'name' of its Organization member")
      end
      if s.uin and s.uin == t.hub then
        problems[#problems + 1] = ("'hub' and environment '%s' are both account %s: the hub "
          .. "(tcrun's own account, holding the people) and each environment are accounts of "
          .. "their own"):format(env, s.uin)
      end
      for key, seen in pairs({ uin = uins, name = names }) do
        local v = s[key]
        if v ~= nil then
          if seen[v] then
            problems[#problems + 1] = ("%s%s %s is also environment '%s''s"):format(where, key, v, seen[v])
          end
          seen[v] = env
        end
      end
    end
  end
  if n == 0 then problems[#problems + 1] = "'environments' names no environment" end
  if #problems > 0 then
    table.sort(problems)
    return nil, path .. ": " .. table.concat(problems, "; ")
  end
  t.role = t.role or M.DEFAULT_ROLE
  t.session_seconds = t.session_seconds or 3600
  t.role_session_seconds = t.role_session_seconds or 3600
  if t.organization == nil then t.organization = true end
  if t.guardrails == nil then t.guardrails = t.organization end
  t.path = path
  return t
end

-- The configuration file, or nil when there is none (single-account mode).
function M.path()
  if not tc.config_dir then return nil end
  local path = tc.config_dir .. "/" .. M.FILE
  local f = io.open(path, "r")
  if not f then return nil end
  f:close()
  return path
end

-- Every member of the Organization, by UIN and by name.
local function members()
  local by_uin, by_name = {}, {}
  for _, m in ipairs(api.org_pages("DescribeOrganizationMembers")) do
    m.tags = api.tag_map(m.Tags)
    by_uin[tostring(m.MemberUin)], by_name[m.Name] = m, m
  end
  return by_uin, by_name
end

M.members = members

local function mismatch(cfg, msg)
  tc.config_error(("%s: %s; fix it before running anything (nothing was written)"):format(cfg.path, msg))
end

-- The hub must manage an Organization.
local function check_organization(cfg)
  local ok, org = pcall(tc.call, "organization", "DescribeOrganization")
  if not ok then
    if api.is_code(org, "ResourceNotFound.OrganizationNotExist") then
      mismatch(cfg, ("the hub, account %s, is in no Organization: create one (Tencent Cloud "
                     .. "Organization console), or set organization = false"):format(cfg.hub))
    end
    error(org, 0)
  end
  if not org.IsManager then
    mismatch(cfg, ("the hub, account %s, is a member of Organization %s, not its management "
                   .. "account (%s)"):format(cfg.hub, tostring(org.OrgId), tostring(org.HostUin)))
  end
  return org
end

local function label(m)
  return ("account %s ('%s')"):format(tostring(m.MemberUin), m.Name)
end

-- The members tagged with each environment, by environment.
local function by_environment(by_uin)
  local tagged = {}
  for _, m in pairs(by_uin) do
    local env = m.tags.environment
    if env then
      tagged[env] = tagged[env] or {}
      table.insert(tagged[env], m)
    end
  end
  for _, list in pairs(tagged) do
    table.sort(list, function(a, b) return a.MemberUin < b.MemberUin end)
  end
  return tagged
end

-- Checks what the Organization says against the configuration and fills
-- in the UIN of spokes named only by member name.  missing_ok: spokes not
-- yet made are left without a uin (setup_accounts.lua makes them).
local function check_members(cfg, spokes, missing_ok)
  local by_uin, by_name = members()
  local tagged = by_environment(by_uin)
  for _, s in ipairs(spokes) do
    local list = tagged[s.env] or {}
    if #list > 1 then
      local names = {}
      for _, m in ipairs(list) do names[#names + 1] = label(m) end
      mismatch(cfg, ("%d members are tagged environment=%s in the Organization: %s; untag the "
                     .. "ones that are not %s"):format(#list, s.env, table.concat(names, ", "), s.env))
    end
    local named = s.name and by_name[s.name]
    local pinned = s.uin and by_uin[s.uin]
    if s.uin and named and tostring(named.MemberUin) ~= s.uin then
      mismatch(cfg, ("%s is account %s, but the Organization's member '%s' is account %s")
                      :format(s.env, s.uin, s.name, tostring(named.MemberUin)))
    end
    if pinned and s.name and not named then
      mismatch(cfg, ("%s is account %s and member '%s', but the Organization calls account %s '%s'")
                      :format(s.env, s.uin, s.name, s.uin, pinned.Name))
    end
    s.uin = s.uin or (named and tostring(named.MemberUin))
    local m = s.uin and by_uin[s.uin]
    if s.uin and not m then
      mismatch(cfg, ("%s is account %s, which is not a member of the hub's Organization")
                      :format(s.env, s.uin))
    end
    local own = list[1]
    if m and m.tags.environment and m.tags.environment ~= s.env then
      mismatch(cfg, ("%s is account %s, but that account is tagged environment=%s in the "
                     .. "Organization%s"):format(s.env, s.uin, m.tags.environment,
                     own and (" and " .. s.env .. " is " .. label(own)) or ""))
    end
    if own and tostring(own.MemberUin) ~= s.uin then
      -- A misspelt name must not make a second account for s.env.
      mismatch(cfg, ("%s is %s, but %s is tagged environment=%s in the Organization")
                      :format(s.env, s.uin and ("account " .. s.uin)
                                or ("member '" .. s.name .. "', which does not exist"),
                              label(own), s.env))
    end
    s.member = m
    if not s.uin and not missing_ok then
      mismatch(cfg, ("%s: the Organization has no member '%s' yet (run setup_accounts.lua)")
                      :format(s.env, s.name))
    end
  end
end

-- The account object of spoke s (made once).
local function spoke_account(cfg, s)
  s.account = s.account or tc.account { name = s.env, uin = s.uin, role = cfg.role,
                                        duration = cfg.session_seconds,
                                        external_id = cfg.external_id }
  return s.account
end

-- The accounts of the configuration, guarded; nil in single-account mode.
-- Raises (tc.config_error, exit 2) on any mismatch, before any write.
-- opts.setup: spokes the Organization has not made yet are allowed (no
-- uin), and no spoke is entered yet.
function M.open(opts)
  opts = opts or {}
  local path = M.path()
  if not path then return nil end
  local cfg, err = M.read(path)
  if not cfg then tc.config_error(err) end
  local self = setmetatable({ cfg = cfg, spokes = {}, order = {} }, M)
  -- Every call without an account of its own goes to the hub, guarded.
  self.hub = tc.account { name = "hub", uin = cfg.hub }
  tc.default_account(self.hub)
  for _, env in ipairs(roster.ENVIRONMENTS) do
    local s = cfg.environments[env]
    if s then
      local spoke = { env = env, uin = s.uin, name = s.name }
      self.spokes[env] = spoke
      self.order[#self.order + 1] = spoke
    end
  end
  -- The hub first: a wrong hub must not even be asked about its members.
  local ok, e = pcall(api.owner_uin)
  if not ok then
    if type(e) == "table" and e.code == "ClientError.WrongAccount" then tc.config_error(e.message) end
    error(e, 0)
  end
  if cfg.organization then
    self.org = check_organization(cfg)
    check_members(cfg, self.order, opts.setup)
  end
  -- setup_accounts.lua enters each spoke itself, once it is ready.
  if not opts.setup then
    for _, s in ipairs(self.order) do self:enter(s) end
  end
  return self
end

-- Enters spoke s: assumes tcrun's role there and checks the account
-- (GetCallerIdentity, by the host).  A wrong account raises with exit 2.
function M:enter(s)
  local acct = spoke_account(self.cfg, s)
  local ok, e = pcall(tc.call, "sts", "GetCallerIdentity", {}, { account = acct })
  if not ok then
    if type(e) == "table" and e.code == "ClientError.WrongAccount" then tc.config_error(e.message) end
    error(e, 0)
  end
  return acct
end

-- The spokes the employee e's roster line grants: a list of
-- { spoke, role } for each environment e works in that has an account.
function M:grants(e)
  local out = {}
  for _, env in ipairs(e.environments) do
    local s = self.spokes[env]
    if s then out[#out + 1] = { spoke = s, role = e.role } end
  end
  return out
end

-- The role name people assume in a spoke.
function M.role_name(role)
  return "tcrun-" .. role
end

-- The longest maximum session among the roles people assume
-- (tcrun-<role> in every spoke), in seconds, as the spokes say, and the
-- role that has it ("dev:tcrun-admin"): a bound on how long a session
-- issued before offboarding can last (CAM has no call to end one).
function M:longest_session()
  local most, where = 0, nil
  for _, s in ipairs(self.order) do
    for _, role in ipairs(roster.ROLES) do
      local ok, r = pcall(tc.call, "cam", "GetRole", { RoleName = M.role_name(role) },
                          { account = s.account })
      if not ok and not api.is_code(r, "InvalidParameter.RoleNotExist") then error(r, 0) end
      local d = ok and r.RoleInfo and r.RoleInfo.SessionDuration or 0
      if d > most then most, where = d, s.env .. ":" .. M.role_name(role) end
    end
  end
  return most, where
end

-- Where this run writes, for the screen: "hub 100..., dev 200..., ...".
function M:describe()
  local parts = { "hub " .. self.cfg.hub }
  for _, s in ipairs(self.order) do parts[#parts + 1] = ("%s %s"):format(s.env, s.uin or "(not made)") end
  return table.concat(parts, ", ")
end

return M
