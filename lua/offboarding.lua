-- offboarding.lua: the steps of offboard.lua, one function each.  Access
-- goes first (console login, access keys), then permissions (policies,
-- groups), then the workspace; the user is deleted last, and only on
-- request.  Every step reads first and writes only what is still there,
-- so a second run writes nothing.  A failed read raises: nothing is ever
-- taken as "not there" because a call failed.
-- Workspace resources are found by their owner tag through the Tag API,
-- in whatever region, so nothing of anyone else is touched.
local tc = require "tc"
local api = require "api"

local M = {}

local DAY = 86400

-- The leaver's resources, from the Tag API: { env = {id, region, resource,
-- tags}, server = {...} }.
function M.find_workspace(username)
  local found, token = {}, nil
  repeat
    local r = tc.call("tag", "GetResources", {
      TagFilters = { { TagKey = "owner", TagValue = { username } } },
      PaginationToken = token, MaxResults = 200 })
    for _, m in ipairs(r.ResourceTagMappingList or {}) do
      local service, region, kind, id = m.Resource:match("^qcs::(%w+):([%w-]*):uin/%d+:(%w+)/(.+)$")
      local slot = (service == "tcb" and kind == "env" and "env")
                or (service == "lighthouse" and kind == "instance" and "server")
      if slot then
        found[slot] = { id = id, region = region, resource = m.Resource,
                        tags = api.tag_map(m.Tags) }
      end
    end
    token = r.PaginationToken
  until token == nil or token == ""
  return found
end

-- Console login off and every access key inactive.
function M.access(ctx, e)
  local u = ctx.users[e.username]
  if not u then return "no user" end
  e.uin = u.Uin
  local result = "already revoked"
  if u.ConsoleLogin == 1 then
    ctx.plan:write(e.username, "cam", "UpdateUser", { Name = e.username, ConsoleLogin = 0 })
    result = "revoked"
  end
  local keys = tc.call("cam", "ListAccessKeys", { TargetUin = u.Uin }).AccessKeys or {}
  e.keys = keys
  for _, k in ipairs(keys) do
    if k.Status == "Active" then
      ctx.plan:write(e.username, "cam", "UpdateAccessKey",
        { AccessKeyId = k.AccessKeyId, Status = "Inactive", TargetUin = u.Uin })
      result = "revoked"
    end
  end
  return result
end

-- Every policy detached and every group left.
function M.permissions(ctx, e)
  if not e.uin then return "no user" end
  local result = "already removed"
  for _, p in ipairs(api.cam_pages("ListAttachedUserPolicies", { TargetUin = e.uin }, "List")) do
    ctx.plan:write(e.username, "cam", "DetachUserPolicy", { PolicyId = p.PolicyId, DetachUin = e.uin })
    result = "removed"
  end
  local info = {}
  for _, g in ipairs(api.cam_pages("ListGroupsForUser", { SubUin = e.uin }, "GroupInfo")) do
    info[#info + 1] = { GroupId = g.GroupId, Uin = e.uin }
  end
  if #info > 0 then
    ctx.plan:write(e.username, "cam", "RemoveUserFromGroup", { Info = info })
    result = "removed"
  end
  return result
end

local function tag_retained(ctx, e, res, today, until_)
  if res.tags.offboarded then return false end   -- keep the first dates
  ctx.plan:write(e.username, "tag", "TagResources", { ResourceList = { res.resource },
    Tags = { { TagKey = "offboarded", TagValue = today },
             { TagKey = "retain-until", TagValue = until_ } } })
  return true
end

-- Isolates, then terminates, a server (Lighthouse only terminates a
-- SHUTDOWN instance) and waits until it is gone.
local function destroy_server(ctx, e, res)
  local where = { region = res.region }
  local ids = { InstanceIds = { res.id } }
  -- The instance's state once no operation runs on it ("gone" if none).
  local function settled(want)
    return function()
      local i = api.instance(res.id, res.region)
      if not i then return "gone" end
      if i.LatestOperationState ~= "OPERATING" and (want == nil or i.InstanceState == want) then
        return i.InstanceState
      end
    end
  end
  local state = api.wait("server " .. res.id .. " to settle", settled(nil), 1800, 2)
  if state == "gone" then return "gone" end
  if tc.dry_run then
    if state ~= "SHUTDOWN" then ctx.plan:write(e.username, "lighthouse", "IsolateInstances", ids, where) end
    ctx.plan:write(e.username, "lighthouse", "TerminateInstances", ids, where)
    return "planned"
  end
  if state ~= "SHUTDOWN" then
    ctx.plan:write(e.username, "lighthouse", "IsolateInstances", ids, where)
    api.wait("server " .. res.id .. " to shut down", settled("SHUTDOWN"), 1800, 2)
  end
  ctx.plan:write(e.username, "lighthouse", "TerminateInstances", ids, where)
  api.wait("server " .. res.id .. " to be terminated", function()
    return api.instance(res.id, res.region) == nil or nil
  end, 1800, 2)
  return "terminated"
end

-- Destroys an environment at once, within the account's deletion quota.
local function destroy_env(ctx, e, res)
  local env = api.env(res.id, res.region)
  if not env then return "gone" end
  if ctx.delete_budget <= 0 then
    error(("environment %s not destroyed: the account's CloudBase deletion quota is used up "
           .. "(DescribeEnvLimit); it is kept and tagged"):format(res.id), 0)
  end
  ctx.delete_budget = ctx.delete_budget - 1
  ctx.plan:write(e.username, "tcb", "DestroyEnv", { EnvId = res.id, IsForce = true },
                 { region = res.region })
  return tc.dry_run and "planned" or "destroyed"
end

-- The server and the environment: stopped and tagged for retention, or
-- destroyed (opts.destroy, or opts.purge_expired past their retain-until).
function M.workspace(ctx, e, opts)
  local ws = M.find_workspace(e.username)
  e.env_id = ws.env and ws.env.id
  e.instance_id = ws.server and ws.server.id
  local today = os.date("!%Y-%m-%d", ctx.now)
  local until_ = os.date("!%Y-%m-%d", ctx.now + opts.retain_days * DAY)
  local function expired(res)
    local d = res.tags["retain-until"]
    return d ~= nil and d < today
  end
  local server, env = "none", "none"
  if ws.server then
    if opts.destroy or (opts.purge_expired and expired(ws.server)) then
      server = destroy_server(ctx, e, ws.server)
    else
      local inst = api.instance(ws.server.id, ws.server.region)
      server = "retained"
      if inst and inst.InstanceState == "RUNNING" then
        ctx.plan:write(e.username, "lighthouse", "StopInstances",
                       { InstanceIds = { ws.server.id } }, { region = ws.server.region })
        server = "stopped"
      end
      if inst and tag_retained(ctx, e, ws.server, today, until_) and server == "retained" then
        server = "tagged"
      end
    end
  end
  if ws.env then
    if opts.destroy or (opts.purge_expired and expired(ws.env)) then
      local ok, r = pcall(destroy_env, ctx, e, ws.env)
      if not ok then
        tag_retained(ctx, e, ws.env, today, until_)
        error(r, 0)
      end
      env = r
    else
      env = tag_retained(ctx, e, ws.env, today, until_) and "tagged" or "retained"
    end
  end
  return server, env
end

-- Deletes the sub-user: access keys first (CAM refuses a user who still
-- has keys), then the personal policy, then the user.
function M.delete_user(ctx, e)
  if not e.uin then return "no user" end
  for _, k in ipairs(e.keys or {}) do
    ctx.plan:write(e.username, "cam", "DeleteAccessKey",
                   { AccessKeyId = k.AccessKeyId, TargetUin = e.uin })
  end
  local p = ctx.policies["tcrun-ws-" .. e.username]
  if p then
    ctx.plan:write(e.username, "cam", "DeletePolicy", { PolicyId = { p.PolicyId } })
  end
  ctx.plan:write(e.username, "cam", "DeleteUser", { Name = e.username })
  return tc.dry_run and "planned" or "deleted"
end

return M
