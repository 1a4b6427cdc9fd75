-- isolation.lua: the checks of verify_isolation.lua, one function each,
-- with the contract of recipe.lua: a check returns "pass" (or why it did
-- not apply) and raises, naming what it saw, when the employee can see or
-- touch what is not theirs.  Every check is signed with the employee's own
-- temporary access key (new_key), which delete_key removes.
--
-- ctx (read_account): users, and ws, each employee's workspace as the
-- account shows it: { username, uin, env, server, env_region,
-- server_region } by username, plus order (the same, in roster order).
local tc = require "tc"
local api = require "tcrun.api"
local roster = require "tcrun.roster"

local M = {}

-- The note on every temporary key, so a run can find what an interrupted
-- one left behind.
local KEY_NOTE = "tcrun-verify-isolation"

-- The rows whose employee has a workspace.
function M.with_workspace(rows)
  local out = {}
  for _, row in ipairs(rows) do
    if row.employee.workspace then out[#out + 1] = row end
  end
  return out
end

-- Reads, once, who has a workspace and where.
function M.read_account(run)
  local ctx = { users = api.users_by_name(), ws = {}, order = {} }
  local envs, servers = {}, {}
  for _, row in ipairs(M.with_workspace(run.rows)) do
    local e, unit = row.employee, row.unit
    local u = ctx.users[e.username]
    envs[unit.env_region] = envs[unit.env_region] or api.managed_envs(unit.env_region)
    servers[unit.server_region] = servers[unit.server_region]
      or api.managed_instances(unit.server_region)
    local ws = { username = e.username, uin = u and u.Uin,
                 env_region = unit.env_region, server_region = unit.server_region,
                 -- Console login off: offboarded, not to be checked.
                 offboarded = u and u.ConsoleLogin == 0 or nil }
    if u then
      ws.env = api.only(envs[unit.env_region][tostring(u.Uin)], "environments of " .. e.username)
      ws.server = api.only(servers[unit.server_region][tostring(u.Uin)],
                           "servers of " .. e.username)
    end
    ctx.ws[e.username] = ws
    ctx.order[#ctx.order + 1] = ws
  end
  -- With accounts per environment, everyone's roles are checked too.
  for _, row in ipairs(run.accounts and run.rows or {}) do
    local e = row.employee
    local u = ctx.users[e.username]
    if not ctx.ws[e.username] then
      ctx.ws[e.username] = { username = e.username, uin = u and u.Uin,
                             offboarded = u and u.ConsoleLogin == 0 or nil }
    end
  end
  return ctx
end

-- The employee's workspace: finds { uin, env_id } (for the report) and
-- the rest of ws; raises when there is no user or no environment.  An
-- offboarded employee (console login off) is "offboarded": no key is
-- made for them and nothing is checked.
function M.workspace(ctx, e)
  local ws = ctx.ws[e.username]
  if ws.offboarded then return "offboarded", ws end
  if not ws.uin then error("no CAM sub-user " .. e.username, 0) end
  if not e.workspace then return "none", ws end
  if not ws.env then error("no CloudBase environment made by tcrun for " .. e.username, 0) end
  ws.env_id = ws.env.EnvId
  return nil, ws
end

-- Someone else's environment in the same region (the next one after ws in
-- roster order), or nil.
function M.neighbour(ctx, ws)
  local n, at = #ctx.order, 0
  for i, o in ipairs(ctx.order) do if o == ws then at = i end end
  for k = 1, n - 1 do
    local o = ctx.order[(at + k - 1) % n + 1]
    if o.env and o.env_region == ws.env_region then return o.env end
  end
end

-- Deactivates, then deletes, a key (the console's order).
local function delete(id, uin)
  tc.call("cam", "UpdateAccessKey", { AccessKeyId = id, Status = "Inactive", TargetUin = uin })
  tc.call("cam", "DeleteAccessKey", { AccessKeyId = id, TargetUin = uin })
end

-- Keys an interrupted run left behind (CAM allows two per user).
local function delete_strays(uin)
  for _, k in ipairs(tc.call("cam", "ListAccessKeys", { TargetUin = uin }).AccessKeys or {}) do
    if k.Description == KEY_NOTE then delete(k.AccessKeyId, uin) end
  end
end

-- A new temporary key for the sub-user, after deleting strays: { uin,
-- id, credential } (credential for tc.call's opts).  Not a step's made
-- table: the secret stays out of the row.  Never sent twice: a key whose
-- answer was lost would be one we cannot use or see the secret of; such a
-- stray is deleted, then the call fails.
function M.new_key(uin)
  delete_strays(uin)
  local made, r = pcall(tc.call, "cam", "CreateAccessKey",
    { TargetUin = uin, Description = KEY_NOTE }, { idempotent = false })
  if not made then
    delete_strays(uin)
    error(r, 0)
  end
  return { uin = uin, id = r.AccessKey.AccessKeyId,
           credential = { id = r.AccessKey.AccessKeyId, key = r.AccessKey.SecretAccessKey } }
end

function M.delete_key(key)
  delete(key.id, key.uin)
end

local function ids(list, field)
  local out = {}
  for _, x in ipairs(list) do out[#out + 1] = x[field] end
  return table.concat(out, ", ")
end

-- (1) DescribeEnvs lists exactly their own environment.  A new key may
-- take a moment to be known everywhere.
function M.own_listed(key, ws)
  local listed = api.wait("the temporary key of " .. ws.username, function()
    local ok, r = pcall(tc.call, "tcb", "DescribeEnvs", {},
                        { region = ws.env_region, credential = key.credential })
    if ok then return r.EnvList or {} end
    if not api.is_code(r, "AuthFailure.SecretIdNotFound") then error(r, 0) end
  end, 60)
  if #listed ~= 1 or listed[1].EnvId ~= ws.env.EnvId then
    error(("DescribeEnvs listed %d environment(s) [%s], expected only %s")
          :format(#listed, ids(listed, "EnvId"), ws.env.EnvId), 0)
  end
  return "pass"
end

local function is_denied(err)
  return api.is_code(err, "UnauthorizedOperation")
      or api.is_code(err, "AuthFailure.UnauthorizedOperation")
end

-- (2) ModifyEnv on someone else's environment is refused.  It sends that
-- environment's own alias: a no-op even if it were (wrongly) allowed.
function M.other_refused(key, ws, other)
  if not other then return "no other environment" end
  local ok, err = pcall(tc.call, "tcb", "ModifyEnv", { EnvId = other.EnvId, Alias = other.Alias },
                        { region = ws.env_region, credential = key.credential, retries = 0 })
  if ok then error(("ModifyEnv on %s (not theirs) was allowed"):format(other.EnvId), 0) end
  if not is_denied(err) then error(err, 0) end
  return "pass"
end

-- (3) The same action on their own environment succeeds.
function M.own_allowed(key, ws)
  tc.call("tcb", "ModifyEnv", { EnvId = ws.env.EnvId, Alias = ws.env.Alias },
          { region = ws.env_region, credential = key.credential })
  return "pass"
end

-- (5) With one account per environment: signed with their own key, the
-- employee can assume exactly the roles their roster line grants
-- (tcrun-<role> in the account of each of their environments) and none
-- of the others; under each role they can, it does the role's work
-- (lighthouse:DescribeInstances, which every role template grants) and
-- nothing of CAM's (cam:ListUsers is refused).  Returns "pass" and
-- { roles = "dev:developer;..." } (what they could assume).
function M.roles(accts, key, e)
  -- A new key may take a moment to be known everywhere.
  api.wait("the temporary key of " .. e.username, function()
    local ok, r = pcall(tc.call, "sts", "GetCallerIdentity", {},
                        { credential = key.credential })
    if ok then return true end
    if not api.is_code(r, "AuthFailure.SecretIdNotFound") then error(r, 0) end
  end, 60)
  local want = {}
  for _, g in ipairs(accts:grants(e)) do want[g.spoke.env .. ":" .. g.role] = true end
  local got, wrong = {}, {}
  for _, s in ipairs(accts.order) do
    for _, role in ipairs(roster.ROLES) do
      local name = s.env .. ":" .. role
      local ok, r = pcall(tc.call, "sts", "AssumeRole",
        { RoleArn = ("qcs::cam::uin/%s:roleName/%s"):format(s.uin, accts.role_name(role)),
          RoleSessionName = "tcrun-verify", DurationSeconds = 900 },
        { credential = key.credential, retries = 1 })
      if ok then
        got[#got + 1] = name
        if not want[name] then
          wrong[#wrong + 1] = "could assume " .. name
        else
          local cred = { id = r.Credentials.TmpSecretId, key = r.Credentials.TmpSecretKey,
                         token = r.Credentials.Token }
          local works, werr = pcall(tc.call, "lighthouse", "DescribeInstances", { Limit = 1 },
                                    { credential = cred })
          if not works then wrong[#wrong + 1] = ("%s cannot do its work: %s"):format(name, tostring(werr)) end
          local more, merr = pcall(tc.call, "cam", "ListUsers", {}, { credential = cred, retries = 0 })
          if more then
            wrong[#wrong + 1] = name .. " can list CAM users"
          elseif not is_denied(merr) then
            error(merr, 0)
          end
        end
      elseif want[name] then
        wrong[#wrong + 1] = ("cannot assume %s (%s%s)"):format(name, tostring(r.code or r),
          api.is_code(r, "ResourceNotFound") and ": run setup_accounts.lua" or "")
      elseif not is_denied(r) then
        error(r, 0)
      end
    end
  end
  if #wrong > 0 then
    error(("%s (could assume: %s)"):format(table.concat(wrong, "; "),
                                          #got > 0 and table.concat(got, ", ") or "nothing"), 0)
  end
  return "pass", { roles = table.concat(got, ";") }
end

-- (4) DescribeInstances lists exactly their own server.
function M.servers_listed(key, ws)
  local seen = tc.call("lighthouse", "DescribeInstances", { Limit = 100 },
                       { region = ws.server_region, credential = key.credential }).InstanceSet or {}
  local mine = ws.server and ws.server.InstanceId
  if #seen ~= (mine and 1 or 0) or (mine and seen[1].InstanceId ~= mine) then
    error(("DescribeInstances listed %d server(s) [%s], expected only %s")
          :format(#seen, ids(seen, "InstanceId"), mine or "none"), 0)
  end
  return "pass"
end

return M
