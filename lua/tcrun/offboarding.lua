-- offboarding.lua: the steps of offboard.lua, one function each.  Access
-- goes first (console login, access keys), then permissions (policies,
-- groups), then the workspace; the user is deleted last, and only on
-- request.  Every step reads first and writes only what is still there,
-- so a second run writes nothing.  A failed read raises: nothing is ever
-- taken as "not there" because a call failed.
-- The contract is onboarding.lua's (recipe.lua): a step returns a word for
-- the summary and a table of what it found; writes go through ctx.plan,
-- which alone knows about dry runs.  ctx: plan, now, users, policies,
-- delete_budget (CloudBase deletions left, shared by all rows).
-- Workspace resources are found through the Tag API, in whatever region,
-- by the tags tcrun put on them (managed-by, owner, owner-uin; see
-- api.lua), so nothing of anyone else is touched: not a resource someone
-- merely tagged "owner", nor one of an earlier employee of the same name.
local tc = require "tc"
local api = require "tcrun.api"
local ledger = require "tcrun.ledger"
local watch = require "tcrun.watch"

local M = {}

local DAY = 86400

-- The leaver's workspace resources, from the Tag API: { env = {...},
-- server = {...} }, lists of {id, region, resource, tags}.  With the
-- user's UIN known, only resources made for that UIN count; without it
-- (the user was deleted), they must all be one person's.
local function tagged_workspace(e, uin)
  local found, token, uins = { env = {}, server = {} }, nil, {}
  repeat
    local r = tc.call("tag", "GetResources", {
      TagFilters = { { TagKey = "managed-by", TagValue = { api.MANAGED } },
                     { TagKey = "owner", TagValue = { e.username } } },
      PaginationToken = token, MaxResults = 200 })
    for _, m in ipairs(r.ResourceTagMappingList or {}) do
      local service, region, kind, id = m.Resource:match("^qcs::(%w+):([%w-]*):uin/%d+:(%w+)/(.+)$")
      local slot = (service == "tcb" and kind == "env" and "env")
                or (service == "lighthouse" and kind == "instance" and "server")
      local tags = api.tag_map(m.Tags)
      local owner = tags["owner-uin"]
      if slot and owner and (uin == nil or owner == tostring(uin)) then
        uins[owner] = true
        table.insert(found[slot], { id = id, region = region, resource = m.Resource, tags = tags })
      end
    end
    token = r.PaginationToken
  until token == nil or token == ""
  local owners = {}
  for u in pairs(uins) do owners[#owners + 1] = u end
  if #owners > 1 then
    table.sort(owners)
    error(("workspaces of more than one former %s (owner-uin %s): decide by hand")
          :format(e.username, table.concat(owners, ", ")), 0)
  end
  return found
end

-- Reads, once, what the steps look things up in: ctx.  The deletion quota
-- (DescribeEnvLimit) is read only when something may be destroyed.
function M.read_account(run, destroying)
  ledger.lock_account(tc.state_dir, api.owner_uin(), run.plan.dry_run)
  local ctx = { plan = run.plan, now = run.now, users = api.users_by_name(),
                policies = api.policies_by_name(), delete_budget = 0 }
  if destroying then
    local limit = tc.call("tcb", "DescribeEnvLimit")
    local function left(max, used)
      -- A limit the API leaves out is unknown: destroy nothing on a guess.
      return (max and used) and max - used or 0
    end
    ctx.delete_budget = math.min(left(limit.MaxDeleteMonthly, limit.CurrentDeleteMonthly),
                                 left(limit.MaxDeleteTotal, limit.CurrentDeleteTotal))
    tc.log(("CloudBase deletions left this month: %d"):format(ctx.delete_budget))
  end
  return ctx
end

-- Console login off and every access key inactive.  Finds { uin, keys }
-- (nothing when there is no such user).
function M.access(ctx, e)
  local u = ctx.users[e.username]
  if not u then
    -- ALICE.WANG for alice.wang would otherwise revoke nothing, exit 0.
    for name in pairs(ctx.users) do
      if name:lower() == e.username:lower() then
        error(("no user %s, but there is %s: user names must match exactly"):format(e.username, name), 0)
      end
    end
    return "no user", {}
  end
  local result = "already revoked"
  if u.ConsoleLogin == 1 then
    ctx.plan:write(e.username, "cam", "UpdateUser", { Name = e.username, ConsoleLogin = 0 })
    result = ctx.plan:outcome("revoked")
  end
  local keys = tc.call("cam", "ListAccessKeys", { TargetUin = u.Uin }).AccessKeys or {}
  for _, k in ipairs(keys) do
    if k.Status == "Active" then
      ctx.plan:write(e.username, "cam", "UpdateAccessKey",
        { AccessKeyId = k.AccessKeyId, Status = "Inactive", TargetUin = u.Uin })
      result = ctx.plan:outcome("revoked")
    end
  end
  return result, { uin = u.Uin, keys = keys }
end

-- Every policy detached and every group left.
function M.permissions(ctx, e, user)
  if not user.uin then return "no user" end
  local result = "already removed"
  for _, p in ipairs(api.cam_pages("ListAttachedUserPolicies", { TargetUin = user.uin }, "List")) do
    ctx.plan:write(e.username, "cam", "DetachUserPolicy", { PolicyId = p.PolicyId, DetachUin = user.uin })
    result = ctx.plan:outcome("removed")
  end
  local info, names = {}, {}
  for _, g in ipairs(api.cam_pages("ListGroupsForUser", { SubUin = user.uin }, "GroupInfo")) do
    info[#info + 1] = { GroupId = g.GroupId, Uin = user.uin }
    names[#names + 1] = g.GroupName
  end
  if #info > 0 then
    -- The plan names the groups; the call has only their ids.
    ctx.plan:write(e.username, "cam", "RemoveUserFromGroup", { Info = info },
                   { note = "groups " .. table.concat(names, ", ") })
    result = ctx.plan:outcome("removed")
  end
  return result
end

-- The leaver's workspace, found by tcrun's tags in any region: finds
-- { workspace, env_id, instance_id } (ids ";"-joined for the report).  A
-- leaver with no user and no workspace is warned about.
function M.find_workspace(ctx, e, user)
  local ws = tagged_workspace(e, user.uin)
  local function ids(list)
    local l = {}
    for _, r in ipairs(list) do l[#l + 1] = r.id end
    return table.concat(l, ";")
  end
  if not user.uin and #ws.server + #ws.env == 0 then
    tc.warn(("%s: no such user and no workspace: nothing to offboard (deleted already, or a typo?)")
            :format(e.username))
    return "none", { workspace = ws }
  end
  return nil, { workspace = ws, env_id = ids(ws.env), instance_id = ids(ws.server) }
end

-- Isolates, then terminates, a server (Lighthouse only terminates a
-- SHUTDOWN instance) and waits until it is gone.
local function destroy_server(ctx, e, res)
  local where = { region = res.region }
  local ids = { InstanceIds = { res.id } }
  local state = watch.settle(ctx.plan, res.id, res.region)
  if state == "TERMINATED" then return "gone" end
  local w = watch.instances(res.region)
  -- Waits follow a write's answer: a dry run plans both without them.
  if state ~= "SHUTDOWN"
     and ctx.plan:write(e.username, "lighthouse", "IsolateInstances", ids, where) then
    w:wait(res.id, function(i)
      return i and i.InstanceState == "SHUTDOWN" and i.LatestOperationState ~= "OPERATING" or nil
    end, 1800, "server " .. res.id .. " to shut down")
  end
  if not ctx.plan:write(e.username, "lighthouse", "TerminateInstances", ids, where) then
    return "planned"
  end
  w:wait(res.id, function(i) return i == nil or nil end, 1800,
         "server " .. res.id .. " to be terminated")
  return "terminated"
end

-- Destroys an environment at once, within the account's deletion quota.
-- One that cannot be destroyed (no quota left, or the call failed) is
-- kept and tagged, and the step fails saying so.
local function destroy_env(ctx, e, res)
  local env = api.env(res.id, res.region)
  if not env then return "gone" end
  local ok, err = pcall(function()
    if ctx.delete_budget <= 0 then
      error(("environment %s not destroyed: the account's CloudBase deletion quota is used up "
             .. "(DescribeEnvLimit); it is kept and tagged"):format(res.id), 0)
    end
    ctx.delete_budget = ctx.delete_budget - 1
    ctx.plan:write(e.username, "tcb", "DestroyEnv", { EnvId = res.id, IsForce = true },
                   { region = res.region })
  end)
  if not ok then
    res.kept = true   -- environments() tags it, with whatever else was kept
    error(err, 0)
  end
  return ctx.plan:outcome("destroyed")
end

-- Stops a retained server once it has settled (a server still being
-- created would otherwise come up and stay up).
local function stop_server(ctx, e, res)
  local state = watch.settle(ctx.plan, res.id, res.region)
  if state == "TERMINATED" then return "gone" end
  if state == "STOPPED" or state == "SHUTDOWN" then return "retained" end
  ctx.plan:write(e.username, "lighthouse", "StopInstances",
                 { InstanceIds = { res.id } }, { region = res.region })
  return ctx.plan:outcome("stopped")
end

-- Tags resources (six-segment names) offboarded=<today> and
-- retain-until=<today + retain_days>, ten a call (the Tag API's most);
-- raises naming any the Tag API could not tag.
local function tag_retained(ctx, e, resources, opts)
  local tags = { { TagKey = "offboarded", TagValue = os.date("!%Y-%m-%d", ctx.now) },
                 { TagKey = "retain-until",
                   TagValue = os.date("!%Y-%m-%d", ctx.now + opts.retain_days * DAY) } }
  for i = 1, #resources, 10 do
    local r = ctx.plan:write(e.username, "tag", "TagResources",
      { ResourceList = table.move(resources, i, math.min(i + 9, #resources), 1, {}), Tags = tags })
    local failed = r and r.FailedResources or {}
    if #failed > 0 then
      local why = {}
      for _, f in ipairs(failed) do why[#why + 1] = ("%s (%s)"):format(f.Resource, f.Code) end
      error("not tagged for retention: " .. table.concat(why, ", "), 0)
    end
  end
end

-- Whether res goes: opts.destroy, or opts.purge_expired past its
-- retain-until; otherwise it is kept, marked res.kept for retention_tags().
local function destroying(ctx, opts, res)
  local d = res.tags["retain-until"]
  return opts.destroy or (opts.purge_expired and d ~= nil and d < os.date("!%Y-%m-%d", ctx.now))
end

local function keep_server(ctx, e, res)
  local result = stop_server(ctx, e, res)
  res.kept = result ~= "gone"
  return result
end

local function keep_env(_, _, res)
  res.kept = true
  return "retained"
end

-- Each resource of list, destroyed or kept as its retention says; the
-- word of the last one ("none" for none).
local function settle(ctx, e, list, opts, destroy, keep)
  local result = "none"
  for _, res in ipairs(list) do
    if destroying(ctx, opts, res) then
      result = destroy(ctx, e, res)
    else
      result = keep(ctx, e, res)
    end
  end
  return result
end

-- Each server: stopped and tagged for retention, or destroyed.
function M.servers(ctx, e, ws, opts)
  return settle(ctx, e, ws.server, opts, destroy_server, keep_server)
end

-- Each environment: kept, or destroyed.  When one cannot be destroyed,
-- what this run kept is tagged for retention before the row fails (the
-- retention step will not run), and both errors are said.
function M.environments(ctx, e, ws, opts)
  local ok, word = pcall(settle, ctx, e, ws.env, opts, destroy_env, keep_env)
  if ok then return word end
  local tagged, terr = pcall(M.retention_tags, ctx, e, ws, opts)
  if not tagged then error(tostring(word) .. "; and " .. tostring(terr), 0) end
  error(word, 0)
end

-- What the server and environment steps kept, tagged for retention in
-- one call (a resource tagged by an earlier run keeps its dates).
function M.retention_tags(ctx, e, ws, opts)
  local list = {}
  for _, kind in ipairs({ "server", "env" }) do
    for _, res in ipairs(ws[kind]) do
      if res.kept and not res.tags.offboarded then list[#list + 1] = res.resource end
    end
  end
  if #list == 0 then return nil end
  tag_retained(ctx, e, list, opts)
  return ctx.plan:outcome("tagged")
end

-- Deletes the sub-user: access keys first (CAM refuses a user who still
-- has keys), then the personal policy, then the user.
function M.delete_user(ctx, e, user)
  if not user.uin then return "no user" end
  for _, k in ipairs(user.keys) do
    ctx.plan:write(e.username, "cam", "DeleteAccessKey",
                   { AccessKeyId = k.AccessKeyId, TargetUin = user.uin })
  end
  local p = ctx.policies["tcrun-ws-" .. e.username]
  if p then
    ctx.plan:write(e.username, "cam", "DeletePolicy", { PolicyId = { p.PolicyId } })
  end
  ctx.plan:write(e.username, "cam", "DeleteUser", { Name = e.username })
  return ctx.plan:outcome("deleted")
end

return M
