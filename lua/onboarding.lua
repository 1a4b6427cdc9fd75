-- onboarding.lua: the steps of onboard.lua, one function each.  Every step
-- reads first and writes only what is missing or different, so a second
-- run writes nothing and a run killed anywhere is finished by the next.
-- Writes go through ctx.plan (dry-run aware); a step returns a word for
-- the summary: "created", "updated", "exists", "planned" or "skipped".
--
-- ctx: plan, bu(name) -> settings, owner_uin, state (state.lua), home (tc.home),
-- passwords (list filled here), groups/policies/users/envs/instances (maps
-- read once by prefetch()).
local tc = require "tc"
local api = require "api"
local base64 = require "base64"
local json = require "tcrun.json"
local policy = require "policy"

local M = {}

-- Placeholder for ids of things a dry run would create.
local function planned(what) return "(new " .. what .. ")" end
local function is_planned(id) return type(id) == "string" and id:sub(1, 5) == "(new " end

-- Errors that may pass: throttled, failed inside the service, or the
-- answer lost on the way (then the call may have run).
local function transient(err)
  for _, code in ipairs({ "InternalError", "RequestLimitExceeded", "ServiceUnavailable",
                          "ClientError.NetworkError" }) do
    if api.is_code(err, code) then return true end
  end
  return false
end

-- A create without an idempotency token.  Sent again after a lost answer,
-- it would make a second one (CreateEnv, RunCommand) or fail with "name in
-- use" (AddUser, CreateGroup, CreatePolicy).  So the host retries only
-- throttled attempts (idempotent = false), and after a failure find() looks
-- for what the attempt may have made before trying again.  Returns the
-- Response (nil under dry-run), or find()'s answer and true.
local function create(ctx, who, service, action, params, opts, find)
  local o = { region = opts and opts.region, idempotent = false }
  for attempt = 1, 5 do
    local ok, r = pcall(ctx.plan.write, ctx.plan, who, service, action, params, o)
    if ok then return r end
    local found = find()
    if found then return found, true end
    if attempt == 5 or not transient(r) then error(r, 0) end
    tc.sleep(0.5 * 2 ^ (attempt - 1))
  end
end

-- Reads, once, everything the steps look things up in.
function M.prefetch(ctx, regions)
  ctx.owner_uin = api.owner_uin()
  ctx.users = api.users_by_name()
  ctx.groups = api.groups_by_name()
  ctx.policies = api.policies_by_name()
  ctx.envs, ctx.instances = {}, {}
  for region in pairs(regions.env) do ctx.envs[region] = api.managed_envs(region) end
  for region in pairs(regions.server) do
    ctx.instances[region] = api.managed_instances(region)
  end
end

-- A CloudBase alias from a username: lowercase letters, digits and single
-- inner dashes, at most 20 characters (TCB's rule).
function M.alias(username)
  local a = username:lower():gsub("[^a-z0-9]+", "-"):gsub("^-+", ""):sub(1, 20)
  a = a:gsub("-+$", "")
  return a ~= "" and a or "ws"
end

-- The tags of everything made for e: whose it is (owner for people,
-- owner-uin and managed-by for tcrun, see api.lua), who pays, and the
-- unit's extra tags.
local function tags_of(e, settings)
  local t = { { Key = "owner", Value = e.username },
              { Key = "owner-uin", Value = tostring(e.uin) },
              { Key = "managed-by", Value = api.MANAGED },
              { Key = "business-unit", Value = e.business_unit },
              { Key = "cost-center", Value = e.cost_center } }
  local extra = {}
  for k in pairs(settings.tags or {}) do extra[#extra + 1] = k end
  table.sort(extra)
  for _, k in ipairs(extra) do t[#t + 1] = { Key = k, Value = settings.tags[k] } end
  return t
end

-- Makes sure policy `name` exists with document `doc`; returns its id.
local function ensure_policy(ctx, who, name, doc, description)
  local p = ctx.policies[name]
  if not p then
    local r = create(ctx, who, "cam", "CreatePolicy",
      { PolicyName = name, PolicyDocument = doc, Description = description }, nil,
      function() return api.policies_by_name()[name] end)
    if not r then return planned("policy"), "planned" end
    ctx.policies[name] = { PolicyId = r.PolicyId, PolicyName = name }
    return r.PolicyId, "created"
  end
  local current = tc.call("cam", "GetPolicy", { PolicyId = p.PolicyId }).PolicyDocument
  if policy.same(current, doc) then return p.PolicyId, "exists" end
  -- A policy keeps 5 versions: drop the oldest non-default ones first.
  local versions = tc.call("cam", "ListPolicyVersions", { PolicyId = p.PolicyId }).Versions or {}
  table.sort(versions, function(a, b) return a.VersionId < b.VersionId end)
  local spare = #versions - 4
  for _, v in ipairs(versions) do
    if spare <= 0 then break end
    if v.IsDefaultVersion ~= 1 then
      ctx.plan:write(who, "cam", "DeletePolicyVersion",
        { PolicyId = p.PolicyId, VersionId = { v.VersionId } })
      spare = spare - 1
    end
  end
  ctx.plan:write(who, "cam", "CreatePolicyVersion",
    { PolicyId = p.PolicyId, PolicyDocument = doc, SetAsDefault = true })
  return p.PolicyId, "updated"
end

-- Role groups: "<environment>-<role>" with the rendered role policy
-- attached.  Runs once, before the employees, for the groups they need.
function M.groups(ctx, names)
  local who = "(groups)"
  for _, name in ipairs(names) do
    local env, role = name:match("^(%w+)%-(%w+)$")
    local doc = assert(policy.render(ctx.home .. "/policies/role-" .. role .. ".json",
                                     { environment = env }))
    local pid = ensure_policy(ctx, who, "tcrun-" .. name, doc,
                              ("tcrun role %s on %s"):format(role, env))
    local g = ctx.groups[name]
    if not g then
      local r = create(ctx, who, "cam", "CreateGroup",
        { GroupName = name, Remark = ("tcrun: %s on %s"):format(role, env) }, nil,
        function() return api.groups_by_name()[name] end)
      g = { GroupId = r and r.GroupId or planned("group"), GroupName = name }
      ctx.groups[name] = g
    end
    local attached = {}
    if not is_planned(g.GroupId) then
      for _, p in ipairs(api.cam_pages("ListAttachedGroupPolicies",
                                       { TargetGroupId = g.GroupId }, "List")) do
        attached[p.PolicyId] = true
      end
    end
    if not attached[pid] then
      ctx.plan:write(who, "cam", "AttachGroupPolicy", { PolicyId = pid, AttachGroupId = g.GroupId })
    end
  end
end

local function phone(e, settings)
  local p = e.phone or ""
  if p == "" then return nil end
  local cc = settings.country_code
  if p:sub(1, 1) == "+" then
    if p:sub(2, #cc + 1) == cc then return p:sub(#cc + 2), cc end
    -- Another country: its code's length is not knowable here, so the
    -- number goes whole, without a CountryCode.
    return p:sub(2), nil
  end
  return p, cc
end

-- The CAM sub-user, with console login and an initial password that must
-- be reset at first login.  The password goes only to ctx.passwords (for
-- the 0600 file); state.lua remembers it was set until it is delivered.
function M.user(ctx, e, settings)
  local u = ctx.users[e.username]
  local num, cc = phone(e, settings)
  local want = { Remark = e.display_name, Email = e.email, PhoneNum = num, CountryCode = cc }
  if not u then
    local pw = tc.password()
    if not tc.dry_run then ctx.state:append({ event = "password-set", username = e.username }) end
    local r, found = create(ctx, e.username, "cam", "AddUser", {
      Name = e.username, Remark = want.Remark, ConsoleLogin = 1, UseApi = 0,
      Password = pw, NeedResetPassword = 1, Email = want.Email,
      PhoneNum = want.PhoneNum, CountryCode = want.CountryCode }, nil,
      function() return api.users_by_name()[e.username] end)
    if not r then e.uin = planned("user"); return "planned" end
    if found then
      -- Made by a failed attempt, or by someone else: make sure of the password.
      ctx.plan:write(e.username, "cam", "UpdateUser",
        { Name = e.username, Password = pw, NeedResetPassword = 1, ConsoleLogin = 1 })
    end
    e.uin = r.Uin
    ctx.passwords[#ctx.passwords + 1] = { username = e.username, uin = r.Uin, password = pw }
    return "created"
  end
  e.uin = u.Uin
  if u.ConsoleLogin == 0 then
    -- Offboarded (console off, keys inactive): adding groups and policies
    -- back would half-restore them.  A return is a decision for a human.
    error(("%s has console login disabled (offboarded?): not restored; "
           .. "re-enable the user by hand, or delete them to onboard afresh")
          :format(e.username), 0)
  end
  local result = "exists"
  local change, differs = { Name = e.username }, false
  for _, k in ipairs({ "Remark", "Email", "PhoneNum" }) do
    if want[k] and u[k] ~= want[k] then change[k], differs = want[k], true end
  end
  if differs then
    change.CountryCode = want.CountryCode
    ctx.plan:write(e.username, "cam", "UpdateUser", change)
    result = "updated"
  end
  -- Set by a run that did not get to deliver it: set a new one.
  local last = ctx.state:last(e.username, { ["password-set"] = true, ["password-delivered"] = true })
  if last and last.event == "password-set" then
    local pw = tc.password()
    if not tc.dry_run then ctx.state:append({ event = "password-set", username = e.username }) end
    if ctx.plan:write(e.username, "cam", "UpdateUser",
         { Name = e.username, Password = pw, NeedResetPassword = 1, ConsoleLogin = 1 }) then
      ctx.passwords[#ctx.passwords + 1] = { username = e.username, uin = u.Uin, password = pw }
    end
    result = "updated"
  end
  return result
end

-- Membership of exactly the "<environment>-<role>" groups the roster
-- gives: missing ones are joined, and role groups of the unit's
-- environments and roles that the roster no longer gives are left (a
-- demotion takes access away).  Other groups are not tcrun's business.
function M.membership(ctx, e, settings)
  local want, have = {}, {}
  for _, env in ipairs(e.environments) do want[env .. "-" .. e.role] = true end
  local managed = {}
  for _, env in ipairs(settings.environments) do
    for _, role in ipairs(settings.roles) do managed[env .. "-" .. role] = true end
  end
  if not is_planned(e.uin) then
    for _, g in ipairs(api.cam_pages("ListGroupsForUser", { SubUin = e.uin }, "GroupInfo")) do
      have[g.GroupName] = g.GroupId
    end
  end
  local add, remove = {}, {}
  for _, env in ipairs(e.environments) do
    local name = env .. "-" .. e.role
    if not have[name] then add[#add + 1] = { GroupId = ctx.groups[name].GroupId, Uin = e.uin } end
  end
  for name, id in pairs(have) do
    if managed[name] and not want[name] then remove[#remove + 1] = { GroupId = id, Uin = e.uin } end
  end
  table.sort(remove, function(a, b) return a.GroupId < b.GroupId end)
  if #add > 0 then ctx.plan:write(e.username, "cam", "AddUserToGroup", { Info = add }) end
  if #remove > 0 then ctx.plan:write(e.username, "cam", "RemoveUserFromGroup", { Info = remove }) end
  if #add + #remove == 0 then return "exists" end
  if tc.dry_run then return "planned" end
  return (#remove > 0 or next(have) ~= nil) and "updated" or "created"
end

-- Adds tags missing on a resource (six-segment name).
local function ensure_resource_tags(ctx, who, resource, have, want)
  local missing = {}
  for _, t in ipairs(want) do
    if have[t.Key] ~= t.Value then missing[#missing + 1] = { TagKey = t.Key, TagValue = t.Value } end
  end
  if #missing > 0 then
    ctx.plan:write(who, "tag", "TagResources", { ResourceList = { resource }, Tags = missing })
  end
  return #missing > 0
end

-- The employee's own CloudBase environment, tagged, waited on until NORMAL.
function M.environment(ctx, e, settings)
  local region = settings.env_region
  local uin = tostring(e.uin)
  local env = api.only(ctx.envs[region][uin], "environments of " .. e.username)
  local tags = tags_of(e, settings)
  local r
  if not env then
    r = create(ctx, e.username, "tcb", "CreateEnv", {
      Alias = M.alias(e.username), PackageId = settings.env_package,
      Resources = json.array(settings.env_resources), RenewFlag = settings.renew_flag,
      Tags = tags }, { region = region },
      function() return api.only(api.managed_envs(region)[uin], "environments") end)
    if not r then e.env_id = planned("environment"); return "planned" end
    e.env_id = r.EnvId
    env = { EnvId = r.EnvId, Status = "UNAVAILABLE" }
  else
    e.env_id = env.EnvId
  end
  local result = r and "created" or "exists"
  if not r and ensure_resource_tags(ctx, e.username,
      api.resource("tcb", region, ctx.owner_uin, "env", env.EnvId), api.tag_map(env.Tags), tags) then
    result = "updated"
  end
  if env.Status ~= "NORMAL" then
    api.wait("environment " .. env.EnvId, function()
      local now = api.env(env.EnvId, region)
      return now and now.Status == "NORMAL" or nil
    end, 1800, 2)
  end
  return result
end

-- The employee's Lighthouse server, tagged, waited on until RUNNING.
function M.server(ctx, e, settings)
  local region = settings.server_region
  local inst = api.only(ctx.instances[region][tostring(e.uin)], "servers of " .. e.username)
  local tags = tags_of(e, settings)
  local result = "exists"
  if not inst then
    local r = ctx.plan:write(e.username, "lighthouse", "CreateInstances", {
      BundleId = settings.bundle_id, BlueprintId = settings.blueprint_id,
      InstanceChargePrepaid = { Period = settings.server_period_months,
                                RenewFlag = settings.renew_flag },
      InstanceName = ("ws-" .. e.username):sub(1, 60), InstanceCount = 1,
      -- One server per person, ever: the UIN is never reused.
      ClientToken = "tcrun-ws-" .. tostring(e.uin),
      Tags = tags }, { region = region })
    if not r then e.instance_id = planned("server"); return "planned" end
    e.instance_id = r.InstanceIdSet[1]
    result = "created"
  else
    e.instance_id = inst.InstanceId
    if ensure_resource_tags(ctx, e.username, api.resource("lighthouse", region, ctx.owner_uin,
        "instance", inst.InstanceId), api.tag_map(inst.Tags), tags) then
      result = "updated"
    end
    if inst.InstanceState == "STOPPED" then
      ctx.plan:write(e.username, "lighthouse", "StartInstances",
        { InstanceIds = { inst.InstanceId } }, { region = region })
      result = "updated"
    elseif inst.InstanceState == "SHUTDOWN" then
      error(("server %s is isolated (SHUTDOWN): offboarded earlier; "
             .. "restore or terminate it first"):format(inst.InstanceId), 0)
    end
  end
  if tc.dry_run then return result end
  api.wait("server " .. e.instance_id .. " to run", function()
    local now = api.instance(e.instance_id, region)
    if now and now.InstanceState == "LAUNCH_FAILED" then
      error("server " .. e.instance_id .. " failed to launch", 0)
    end
    return now and now.InstanceState == "RUNNING"
       and now.LatestOperationState ~= "OPERATING" or nil
  end, 1800, 2)
  return result
end

-- The personal policy: their environment and server, nothing of anyone
-- else's; attached to them.
function M.workspace_policy(ctx, e, settings)
  local doc = assert(policy.render(ctx.home .. "/policies/workspace.json", {
    owner_uin = ctx.owner_uin, env_region = settings.env_region, env_id = e.env_id,
    server_region = settings.server_region, instance_id = e.instance_id }))
  local pid, result = ensure_policy(ctx, e.username, "tcrun-ws-" .. e.username, doc,
                                    "tcrun workspace of " .. e.username)
  local attached = {}
  if not is_planned(e.uin) then
    for _, p in ipairs(api.cam_pages("ListAttachedUserPolicies", { TargetUin = e.uin }, "List")) do
      attached[p.PolicyId] = true
    end
  end
  if not attached[pid] then
    ctx.plan:write(e.username, "cam", "AttachUserPolicy", { PolicyId = pid, AttachUin = e.uin })
    if result == "exists" then result = "updated" end
  end
  return result
end

-- The assistant, installed through TAT and waited on until it succeeds.  A
-- task that already ran the same script on this server counts as done.
function M.assistant(ctx, e, settings)
  local region = settings.server_region
  local f = assert(io.open(ctx.home .. "/recipes/scripts/" .. settings.assistant_script, "r"))
  local script = f:read("a")
  f:close()
  script = script:gsub("__TCB_ENV_ID__", e.env_id):gsub("__TCB_REGION__", settings.env_region)
                 :gsub("__OWNER__", e.username)
                 :gsub("__LOGIN_USER__", settings.assistant_login_user)
  local content = base64.encode(script)
  if is_planned(e.instance_id) then
    ctx.plan:write(e.username, "tat", "RunCommand", { InstanceIds = { e.instance_id },
      CommandName = "tcrun-install-assistant", Content = "(base64 of "
      .. settings.assistant_script .. ")" }, { region = region })
    return "planned"
  end
  -- A task that ran, or runs, this script here: (invocation id, status).
  local function earlier()
    local tasks = api.offset_pages("tat", "DescribeInvocationTasks",
      { Filters = { { Name = "instance-id", Values = { e.instance_id } } }, HideOutput = true },
      "InvocationTaskSet", "TotalCount", 100, { region = region })
    local running
    for _, t in ipairs(tasks) do
      local doc = t.CommandDocument or {}
      if doc.Content == content then
        if t.TaskStatus == "SUCCESS" then return t.InvocationId, "SUCCESS" end
        if t.TaskStatus == "RUNNING" or t.TaskStatus == "PENDING"
           or t.TaskStatus == "DELIVERING" then running = t.InvocationId end
      end
    end
    return running, running and "RUNNING"
  end
  local invocation, status = earlier()
  if status == "SUCCESS" then return "exists" end
  if not invocation then
    -- A new server's TAT agent comes online a while after RUNNING; until
    -- then RunCommand is refused (and nothing ran), so wait for it.
    local r = api.wait("the TAT agent on " .. e.instance_id, function()
      local ok, r = pcall(create, ctx, e.username, "tat", "RunCommand", {
        Content = content, InstanceIds = { e.instance_id }, CommandType = "SHELL",
        CommandName = "tcrun-install-assistant", Timeout = settings.assistant_timeout,
        Description = "AI assistant for " .. e.username }, { region = region },
        function()
          local id = earlier()
          return id and { InvocationId = id }
        end)
      if ok then return r or false end
      if not api.is_code(r, "ResourceUnavailable.AgentStatusNotOnline") then error(r, 0) end
    end, 600, 10)
    if not r then return "planned" end
    invocation = r.InvocationId
  end
  local final = api.wait("assistant install " .. invocation, function()
    local r = tc.call("tat", "DescribeInvocationTasks", {
      Filters = { { Name = "invocation-id", Values = { invocation } } }, HideOutput = false },
      { region = region })
    local t = (r.InvocationTaskSet or {})[1]
    if t and not ({ PENDING = 1, DELIVERING = 1, DELIVER_DELAYED = 1, RUNNING = 1,
                    CANCELLING = 1 })[t.TaskStatus] then return t end
  end, settings.assistant_timeout + 120, 3)
  if final.TaskStatus ~= "SUCCESS" then
    local out = final.TaskResult and final.TaskResult.Output
    out = out and base64.decode(out) or ""
    error(("assistant install %s on %s: %s%s"):format(invocation, e.instance_id,
          final.TaskStatus, out ~= "" and (": " .. out:gsub("%s+$", ""):sub(-200)) or ""), 0)
  end
  return "created"
end

-- Tags on the employee's environment and server (for business-unit hooks).
function M.ensure_tags(ctx, e, settings, tags)
  local want = {}
  for k, v in pairs(tags) do want[#want + 1] = { Key = k, Value = v } end
  table.sort(want, function(a, b) return a.Key < b.Key end)
  if is_planned(e.env_id) or is_planned(e.instance_id) then
    ctx.plan:write(e.username, "tag", "TagResources", { ResourceList = { "(new resources)" },
                   Tags = want })
    return
  end
  local env = api.env(e.env_id, settings.env_region)
  local inst = api.instance(e.instance_id, settings.server_region)
  ensure_resource_tags(ctx, e.username, api.resource("tcb", settings.env_region, ctx.owner_uin,
    "env", e.env_id), api.tag_map(env and env.Tags), want)
  ensure_resource_tags(ctx, e.username, api.resource("lighthouse", settings.server_region,
    ctx.owner_uin, "instance", e.instance_id), api.tag_map(inst and inst.Tags), want)
end

return M
