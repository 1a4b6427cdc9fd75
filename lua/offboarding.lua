-- offboarding.lua: the steps of offboard.lua, one function each.  Access
-- goes first (console login, access keys), then permissions (policies,
-- groups), then the workspace; the user is deleted last, and only on
-- request.  Every step reads first and writes only what is still there,
-- so a second run writes nothing.  A failed read raises: nothing is ever
-- taken as "not there" because a call failed.
-- Workspace resources are found through the Tag API, in whatever region,
-- by the tags tcrun put on them (managed-by, owner, owner-uin; see
-- api.lua), so nothing of anyone else is touched: not a resource someone
-- merely tagged "owner", nor one of an earlier employee of the same name.
local tc = require "tc"
local api = require "api"

local M = {}

local DAY = 86400

-- The leaver's workspace resources, from the Tag API: { env = {...},
-- server = {...} }, lists of {id, region, resource, tags}.  With the
-- user's UIN known, only resources made for that UIN count; without it
-- (the user was deleted), they must all be one person's.
function M.find_workspace(e)
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
      local uin = tags["owner-uin"]
      if slot and uin and (e.uin == nil or uin == tostring(e.uin)) then
        uins[uin] = true
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

-- Stops a retained server once no operation runs on it (a server still
-- being created would otherwise come up and stay up).
local function stop_server(ctx, e, res)
  local inst = api.wait("server " .. res.id .. " to settle", function()
    local i = api.instance(res.id, res.region)
    if not i then return false end
    if i.LatestOperationState ~= "OPERATING" and i.InstanceState ~= "PENDING" then return i end
  end, 1800, 5)
  if not inst then return "gone" end
  if inst.InstanceState == "STOPPED" or inst.InstanceState == "SHUTDOWN" then return "retained" end
  ctx.plan:write(e.username, "lighthouse", "StopInstances",
                 { InstanceIds = { res.id } }, { region = res.region })
  return "stopped"
end

-- Each server, then each environment: stopped and tagged for retention,
-- or destroyed (opts.destroy, or opts.purge_expired past retain-until).
-- Results go to e.server and e.environment as each is done, so a failure
-- later still reports what happened before it.
function M.workspace(ctx, e, opts)
  local ws = M.find_workspace(e)
  local today = os.date("!%Y-%m-%d", ctx.now)
  local until_ = os.date("!%Y-%m-%d", ctx.now + opts.retain_days * DAY)
  local function destroying(res)
    local d = res.tags["retain-until"]
    return opts.destroy or (opts.purge_expired and d ~= nil and d < today)
  end
  local function ids(list)
    local l = {}
    for _, r in ipairs(list) do l[#l + 1] = r.id end
    return table.concat(l, ";")
  end
  e.env_id, e.instance_id = ids(ws.env), ids(ws.server)
  e.server = #ws.server == 0 and "none" or nil
  e.environment = #ws.env == 0 and "none" or nil
  for _, res in ipairs(ws.server) do
    if destroying(res) then
      e.server = destroy_server(ctx, e, res)
    else
      e.server = stop_server(ctx, e, res)
      if e.server ~= "gone" and tag_retained(ctx, e, res, today, until_) and e.server == "retained" then
        e.server = "tagged"
      end
    end
  end
  for _, res in ipairs(ws.env) do
    if destroying(res) then
      local ok, r = pcall(destroy_env, ctx, e, res)
      if not ok then
        tag_retained(ctx, e, res, today, until_)
        e.environment = "kept"
        error(r, 0)
      end
      e.environment = r
    else
      e.environment = tag_retained(ctx, e, res, today, until_) and "tagged" or "retained"
    end
  end
  if not e.uin and #ws.server + #ws.env == 0 then
    tc.warn(("%s: no such user and no workspace: nothing to offboard (a typo?)"):format(e.username))
    e.access = "not found"
  end
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
