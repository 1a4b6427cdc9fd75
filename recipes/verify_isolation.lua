-- verify_isolation.lua ROSTER [--out DIR]
-- Proves each employee's workspace is theirs alone.  For everyone with a
-- workspace it creates a temporary access key for the sub-user and, signed
-- with it, checks that (1) DescribeEnvs lists exactly their own CloudBase
-- environment, (2) an action on another employee's environment is refused
-- with an authorization error, (3) the same action on their own succeeds,
-- (4) DescribeInstances lists exactly their own Lighthouse server.
-- The temporary key is deleted even when a check fails.  Exit status 0
-- only when every employee passes; the report names who does not.
local tc = require "tc"
local api = require "api"
local args = require "args"
local bu = require "bu"
local progress = require "progress"
local report = require "report"
local roster = require "roster"

local spec = { "roster", out = { value = true, default = "tcrun-out/verify", metavar = "DIR",
                                  help = "folder for the report" } }
local opts, pos = args.cli(arg, spec, "tcrun verify_isolation.lua ROSTER [--out DIR]")
if not opts then return pos end
if tc.dry_run then
  io.stderr:write("tcrun: verify_isolation.lua creates temporary access keys; "
                  .. "it has no dry run\n")
  return 2
end

local rows, problems = roster.load(pos[1], roster.ONBOARD)
if not rows or #problems > 0 then
  io.stderr:write(roster.format_problems(problems), "\n")
  return 2
end
local settings_for = assert(bu.loader(arg[0]:match("^(.*)/") .. "/bu"))

-- Who has a workspace, and where: read once.
local users = api.users_by_name()
local envs, servers, checked = {}, {}, {}
for _, e in ipairs(rows) do
  local u = users[e.username]
  if e.workspace then
    local s = assert(settings_for(e.business_unit))
    envs[s.env_region] = envs[s.env_region] or api.managed_envs(s.env_region)
    servers[s.server_region] = servers[s.server_region] or api.managed_instances(s.server_region)
    e.region, e.server_region = s.env_region, s.server_region
    e.env = u and api.only(envs[s.env_region][tostring(u.Uin)], "environments of " .. e.username)
    e.server = u and api.only(servers[s.server_region][tostring(u.Uin)], "servers of " .. e.username)
    checked[#checked + 1] = e
  end
end

local function is_denied(err)
  return api.is_code(err, "UnauthorizedOperation") or api.is_code(err, "AuthFailure.UnauthorizedOperation")
end

-- The three checks for one employee, signed with their temporary key.
local function check(e, other, cred)
  local opts_own = { region = e.region, credential = cred }
  -- A new key may take a moment to be known everywhere.
  local listed = api.wait("the temporary key of " .. e.username, function()
    local ok, r = pcall(tc.call, "tcb", "DescribeEnvs", {}, opts_own)
    if ok then return r.EnvList or {} end
    if not api.is_code(r, "AuthFailure.SecretIdNotFound") then error(r, 0) end
  end, 60)
  if #listed ~= 1 or listed[1].EnvId ~= e.env.EnvId then
    local ids = {}
    for _, x in ipairs(listed) do ids[#ids + 1] = x.EnvId end
    error(("DescribeEnvs listed %d environment(s) [%s], expected only %s")
          :format(#listed, table.concat(ids, ", "), e.env.EnvId), 0)
  end
  e.own_listed = "pass"
  if other then
    -- The other's own alias: a no-op even if it were (wrongly) allowed.
    local ok, err = pcall(tc.call, "tcb", "ModifyEnv", { EnvId = other.EnvId, Alias = other.Alias },
                          { region = e.region, credential = cred, retries = 0 })
    if ok then error(("ModifyEnv on %s (not theirs) was allowed"):format(other.EnvId), 0) end
    if not is_denied(err) then error(err, 0) end
    e.other_refused = "pass"
  else
    e.other_refused = "no other environment"
  end
  tc.call("tcb", "ModifyEnv", { EnvId = e.env.EnvId, Alias = e.env.Alias }, opts_own)
  e.own_allowed = "pass"
  -- Servers too: they list exactly their own.
  local seen = tc.call("lighthouse", "DescribeInstances", { Limit = 100 },
                       { region = e.server_region, credential = cred }).InstanceSet or {}
  local mine = e.server and e.server.InstanceId
  if #seen ~= (mine and 1 or 0) or (mine and seen[1].InstanceId ~= mine) then
    local ids = {}
    for _, x in ipairs(seen) do ids[#ids + 1] = x.InstanceId end
    error(("DescribeInstances listed %d server(s) [%s], expected only %s")
          :format(#seen, table.concat(ids, ", "), mine or "none"), 0)
  end
  e.servers_listed = "pass"
end

local KEY_NOTE = "tcrun-verify-isolation"

-- Deactivates, then deletes, a temporary key (the console's order).
local function delete_key(id, uin)
  tc.call("cam", "UpdateAccessKey", { AccessKeyId = id, Status = "Inactive", TargetUin = uin })
  tc.call("cam", "DeleteAccessKey", { AccessKeyId = id, TargetUin = uin })
end

local bar = progress.new(#checked, "verify")
local _, failures = tc.each(checked, function(e, i)
  local u = users[e.username]
  if not u then error("no CAM sub-user " .. e.username, 0) end
  if not e.env then error("no CloudBase environment made by tcrun for " .. e.username, 0) end
  e.uin, e.env_id = u.Uin, e.env.EnvId
  -- Someone else's environment in the same region, if any.
  local other
  for k = 1, #checked - 1 do
    local o = checked[(i + k - 1) % #checked + 1]
    if o.env and o.region == e.region then other = o.env; break end
  end
  -- Keys an interrupted run left behind go first (CAM allows two keys).
  local function delete_strays()
    for _, k in ipairs(tc.call("cam", "ListAccessKeys", { TargetUin = u.Uin }).AccessKeys or {}) do
      if k.Description == KEY_NOTE then delete_key(k.AccessKeyId, u.Uin) end
    end
  end
  delete_strays()
  -- Not sent twice: a key whose answer was lost would be one we cannot
  -- use or see the secret of.  Such a stray is deleted, then we fail.
  local made, r = pcall(tc.call, "cam", "CreateAccessKey",
    { TargetUin = u.Uin, Description = KEY_NOTE }, { idempotent = false })
  if not made then
    delete_strays()
    error(r, 0)
  end
  local key = r.AccessKey
  local ok, err = pcall(check, e, other,
                        { id = key.AccessKeyId, key = key.SecretAccessKey })
  delete_key(key.AccessKeyId, u.Uin)
  if not ok then error(err, 0) end
  e.result = "pass"
  bar:step(e.username, true)
end, { quiet = true })
for _, f in ipairs(failures) do
  f.row.result, f.row.error = "FAIL", tostring(f.error)
  bar:step(f.row.username, false, f.row.error)
end

assert(tc.mkdir(opts.out))
local path = ("%s/isolation-%s.csv"):format(opts.out, os.date("!%Y%m%dT%H%M%SZ"))
assert(report.csv(path, { "username", "uin", "env_id", "own_listed", "other_refused",
                          "own_allowed", "servers_listed", "result", "error" }, checked))
tc.log("report: " .. path)
report.screen("verify isolation", checked,
              { "own_listed", "other_refused", "own_allowed", "servers_listed", "result" })
return #failures == 0
