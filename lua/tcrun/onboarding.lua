-- onboarding.lua: the steps of onboard.lua, one function each.  Every step
-- reads first and writes only what is missing or different, so a second
-- run writes nothing and a run killed anywhere is finished by the next.
--
-- The contract (recipe.lua): a step takes (ctx, employee, unit, what the
-- earlier steps made...) and returns a word for the summary ("created",
-- "updated", "exists", "planned") and a table of what it made:
--   user         -> { uin, fresh }
--   environment  -> { env_id, env_region }
--   server       -> { instance_id, server_region, fresh }
-- (fresh: made by this run, so it has nothing yet and need not be read).
-- It never writes into the employee.  Writes go through ctx.plan, which
-- alone knows about dry runs: under one, a write returns nil and what it
-- would have made is a planned id (plan.planned).
--
-- ctx (read_account): plan, ledger, home (tc.home), passwords (filled by
-- user, written by deliver_passwords), and the account read once: owner_uin,
-- users, groups, policies, envs and instances (per region, by owner UIN);
-- after groups(), roles and member_of (who is in which role group shard).
local tc = require "tc"
local api = require "tcrun.api"
local base64 = require "tcrun.base64"
local csv = require "tcrun.csv"
local json = require "tcrun.json"
local ledger = require "tcrun.ledger"
local plan = require "tcrun.plan"
local policy = require "tcrun.policy"
local rolegroups = require "tcrun.rolegroups"
local roster = require "tcrun.roster"
local units = require "tcrun.units"
local watch = require "tcrun.watch"

local M = {}

local planned, is_planned = plan.planned, plan.is_planned

-- A create without an idempotency token.  Sent again after a lost answer,
-- it would make a second one (CreateEnv, RunCommand) or fail with "name in
-- use" (AddUser, CreateGroup, CreatePolicy).  So the host retries only
-- throttled attempts (idempotent = false), and after a failure that may
-- pass (tc.is_transient) find() looks for what the attempt may have made
-- before trying again.  Returns the Response (nil under a dry run), or
-- find()'s answer and true.
local function create(ctx, who, service, action, params, opts, find)
  local o = { region = opts and opts.region, account = opts and opts.account,
              in_account = opts and opts.in_account, idempotent = false }
  for attempt = 1, 5 do
    local ok, r = pcall(ctx.plan.write, ctx.plan, who, service, action, params, o)
    if ok then return r end
    local found = find()
    if found then return found, true end
    if attempt == 5 or not tc.is_transient(r) then error(r, 0) end
    tc.sleep(0.5 * 2 ^ (attempt - 1))
  end
end

-- Reads, once, everything the steps look things up in: ctx.  The ledger
-- of undelivered passwords is the account's, in the state folder.
function M.read_account(run)
  local ctx = { plan = run.plan, home = tc.home, passwords = {}, accounts = run.accounts,
                owner_uin = api.owner_uin(), users = api.users_by_name(),
                groups = api.groups_by_name(), policies = api.policies_by_name(),
                envs = {}, instances = {} }
  ledger.lock_account(tc.state_dir, ctx.owner_uin, run.plan.dry_run)
  local err
  ctx.ledger, err = ledger.for_account(tc.state_dir, ctx.owner_uin, "onboard", run.plan.dry_run,
                                       run.opts.out .. "/onboard-state.jsonl")
  if not ctx.ledger then tc.config_error("record of undelivered passwords: " .. err) end
  for _, row in ipairs(run.rows) do
    local unit = row.unit
    if row.employee.workspace then
      ctx.envs[unit.env_region] = ctx.envs[unit.env_region] or api.managed_envs(unit.env_region)
      ctx.instances[unit.server_region] = ctx.instances[unit.server_region]
        or api.managed_instances(unit.server_region)
    end
  end
  return ctx
end

-- CAM's sub-users per account (its use limits).
M.MAX_USERS = 1000

-- Refuses (exit 2, before any write) a roster the account has no room
-- for: more new sub-users than CAM's 1,000 allow, or more new CloudBase
-- environments than the region's DescribeEnvLimit leaves (a limit the
-- API leaves out is not guessed at).  New people without their new
-- environment would otherwise fail by the hundred, their servers made.
function M.limits(ctx, rows)
  local users, new_users, envs = 0, 0, {}
  for _ in pairs(ctx.users) do users = users + 1 end
  for _, row in ipairs(rows) do
    local e, u = row.employee, ctx.users[row.employee.username]
    if not u then new_users = new_users + 1 end
    local region = e.workspace and row.unit.env_region
    if region and not (u and ctx.envs[region][tostring(u.Uin)]) then
      envs[region] = (envs[region] or 0) + 1
    end
  end
  local problems = {}
  if users + new_users > M.MAX_USERS then
    problems[#problems + 1] = ("the roster needs %d new sub-users, but the account has %d of CAM's "
      .. "%d: delete the users of people who left (offboard.lua --delete-user), or onboard part of "
      .. "the roster"):format(new_users, users, M.MAX_USERS)
  end
  for _, region in ipairs(api.sorted_keys(envs)) do
    local l = tc.call("tcb", "DescribeEnvLimit", {}, { region = region })
    if l.MaxEnvNum and l.CurrentEnvNum and l.CurrentEnvNum + envs[region] > l.MaxEnvNum then
      problems[#problems + 1] = ("the roster needs %d new CloudBase environments in %s, but only "
        .. "%d are left (%d of %d used, DescribeEnvLimit): destroy retained workspaces "
        .. "(offboard.lua --purge-expired or --destroy), or onboard part of the roster")
        :format(envs[region], region, math.max(0, l.MaxEnvNum - l.CurrentEnvNum), l.CurrentEnvNum,
                l.MaxEnvNum)
    end
  end
  if #problems > 0 then tc.config_error(table.concat(problems, "; ")) end
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
local function tags_of(e, unit, uin)
  local t = { { Key = "owner", Value = e.username },
              { Key = "owner-uin", Value = tostring(uin) },
              { Key = "managed-by", Value = api.MANAGED },
              { Key = "business-unit", Value = e.business_unit },
              { Key = "cost-center", Value = e.cost_center } }
  local seen, extra = {}, {}
  for _, x in ipairs(t) do seen[x.Key] = true end
  for k in pairs(unit.tags or {}) do extra[#extra + 1] = k end
  table.sort(extra)
  for _, k in ipairs(extra) do
    -- units.lua refuses these; a second owner tag must never go out.
    assert(not seen[k], "tag " .. k .. " set twice")
    t[#t + 1] = { Key = k, Value = unit.tags[k] }
  end
  return t
end

-- Raises unless the resource tcrun found by its owner-uin tag also names
-- e as its owner: a mismatch is someone's doing, for a human to sort out.
local function check_owner(e, what, id, tags)
  local owner = api.tag_map(tags).owner
  if owner ~= e.username then
    error(("%s %s is tcrun's for %s's UIN but tagged owner=%s: not taken; "
           .. "fix its tags by hand"):format(what, id, e.username, tostring(owner)), 0)
  end
end

-- Makes sure policy `name` exists with document `doc`: its id, and
-- "created", "updated" or "exists".  ctx.policies: the account's custom
-- policies by name (api.policies_by_name); opts: tc.call's (an account).
local function ensure_policy(ctx, who, name, doc, description, opts)
  local p = ctx.policies[name]
  if not p then
    local r = create(ctx, who, "cam", "CreatePolicy",
      { PolicyName = name, PolicyDocument = doc, Description = description }, opts,
      function() return api.policies_by_name(opts)[name] end)
    if not r then return planned("policy " .. name), "planned" end
    ctx.policies[name] = { PolicyId = r.PolicyId, PolicyName = name }
    return r.PolicyId, "created"
  end
  local current = tc.call("cam", "GetPolicy", { PolicyId = p.PolicyId }, opts).PolicyDocument
  if policy.same(current, doc) then return p.PolicyId, "exists" end
  -- A policy keeps 5 versions: drop the oldest non-default ones first.
  local versions = tc.call("cam", "ListPolicyVersions", { PolicyId = p.PolicyId }, opts).Versions or {}
  table.sort(versions, function(a, b) return a.VersionId < b.VersionId end)
  local spare = #versions - 4
  for _, v in ipairs(versions) do
    if spare <= 0 then break end
    if v.IsDefaultVersion ~= 1 then
      ctx.plan:write(who, "cam", "DeletePolicyVersion",
        { PolicyId = p.PolicyId, VersionId = { v.VersionId } }, opts)
      spare = spare - 1
    end
  end
  ctx.plan:write(who, "cam", "CreatePolicyVersion",
    { PolicyId = p.PolicyId, PolicyDocument = doc, SetAsDefault = true }, opts)
  return p.PolicyId, ctx.plan:outcome("updated")
end
M.ensure_policy = ensure_policy
M.create = create

-- The ids of the policies attached through a CAM list action, as a set;
-- nothing for a planned owner.
local function attached(action, params)
  local set = {}
  for _, v in pairs(params) do
    if is_planned(v) then return set end
  end
  for _, p in ipairs(api.cam_pages(action, params, "List")) do set[p.PolicyId] = true end
  return set
end

-- The policy of group "<env>-<role>": with one account per environment,
-- only sts:AssumeRole on tcrun-<role> in env's account (the role there
-- holds the permissions); in one account, the role's permissions on the
-- resources tagged environment=<env>.
local function group_policy(ctx, env, role)
  if ctx.accounts then
    return assert(policy.render(policy.path("assume-role.json"),
                                { account_uin = ctx.accounts.spokes[env].uin, role = role }))
  end
  return assert(policy.render(policy.path("role-" .. role .. ".json"), { environment = env }))
end

-- The numbers of r's shards, in order.
local function numbers(r)
  local out = {}
  for n in pairs(r.shards) do out[#out + 1] = n end
  table.sort(out)
  return out
end

-- The role group base's entry in ctx.roles: its shards by number, each
-- { GroupId, GroupName, count } (count: members, as read or placed).
local function role_of(ctx, base)
  local r = ctx.roles[base]
  if not r then
    r = { shards = {} }
    ctx.roles[base] = r
  end
  return r
end

-- Reads who is in every role group shard of the account (rolegroups.lua):
-- ctx.roles, and ctx.member_of, username -> the shards they are in.
local function read_roles(ctx)
  ctx.roles, ctx.member_of = {}, {}
  local shards = {}
  for name, g in pairs(ctx.groups) do
    local base, _, _, n = rolegroups.parse(name, g.Remark or "")
    if base then shards[#shards + 1] = { base = base, n = n, group = g } end
  end
  api.all(shards, function(x)
    x.users = api.cam_pages("ListUsersForGroup", { GroupId = x.group.GroupId }, "UserInfo")
  end)
  for _, x in ipairs(shards) do
    role_of(ctx, x.base).shards[x.n] = { GroupId = x.group.GroupId, GroupName = x.group.GroupName,
                                         count = #x.users }
    for _, u in ipairs(x.users) do
      local m = ctx.member_of[u.Name] or {}
      ctx.member_of[u.Name] = m
      m[#m + 1] = { base = x.base, n = x.n, GroupId = x.group.GroupId, GroupName = x.group.GroupName }
    end
  end
  for _, m in pairs(ctx.member_of) do
    table.sort(m, function(a, b) return a.base < b.base or (a.base == b.base and a.n < b.n) end)
  end
end

-- The numbers of the shards base needs made so that `places` more people
-- fit: the lowest numbers not taken.
local function new_shards(r, places)
  local free = 0
  for _, s in pairs(r.shards) do free = free + math.max(0, rolegroups.PER_GROUP - s.count) end
  local out, n = {}, 1
  for _ = 1, math.ceil(math.max(0, places - free) / rolegroups.PER_GROUP) do
    while r.shards[n] do n = n + 1 end
    out[#out + 1] = n
    n = n + 1
  end
  return out
end

-- Role groups: for every role group the rows need, its policy, and shards
-- enough for everyone not yet in one, each with the policy attached.
-- Runs once, before the employees; refuses (exit 2, nothing written) a
-- roster that would take the account past CAM's 300 groups.
function M.groups(ctx, rows)
  local who = "(groups)"
  read_roles(ctx)
  local places, bases = {}, {}
  for _, row in ipairs(rows) do
    local e = row.employee
    local has = {}
    for _, m in ipairs(ctx.member_of[e.username] or {}) do has[m.base] = true end
    for _, base in ipairs(rolegroups.wanted(e)) do
      if not places[base] then places[base] = 0; bases[#bases + 1] = base end
      if not has[base] then places[base] = places[base] + 1 end
    end
  end
  table.sort(bases)
  local make, total, count = {}, 0, 0
  for _, base in ipairs(bases) do
    make[base] = new_shards(role_of(ctx, base), places[base])
    total = total + #make[base]
  end
  for _ in pairs(ctx.groups) do count = count + 1 end
  if count + total > rolegroups.PER_ACCOUNT then
    tc.config_error(("the roster needs %d more CAM groups (role groups of %d people each), but "
      .. "the account has %d of CAM's %d: delete unused groups, or onboard part of the roster")
      :format(total, rolegroups.PER_GROUP, count, rolegroups.PER_ACCOUNT))
  end
  api.all(bases, function(base)
    local env, role = base:match("^(%l+)%-(%l+)$")
    local pname = "tcrun-" .. base
    local pid = ensure_policy(ctx, who, pname, group_policy(ctx, env, role),
                              ("tcrun role %s on %s"):format(role, env))
    local r = ctx.roles[base]
    for _, n in ipairs(make[base]) do
      local name = rolegroups.shard(base, n)
      local res, found = create(ctx, who, "cam", "CreateGroup",
        { GroupName = name, Remark = ("tcrun: %s on %s"):format(role, env) }, nil,
        function() return api.groups_by_name()[name] end)
      r.shards[n] = { GroupId = res and res.GroupId or planned("group " .. name), GroupName = name,
                      count = 0, fresh = not found }
      ctx.groups[name] = r.shards[n]
    end
    for _, n in ipairs(numbers(r)) do
      local g = r.shards[n]
      if g.fresh or not attached("ListAttachedGroupPolicies", { TargetGroupId = g.GroupId })[pid] then
        ctx.plan:write(who, "cam", "AttachGroupPolicy", { PolicyId = pid, AttachGroupId = g.GroupId },
                       { note = ("policy %s to group %s"):format(pname, g.GroupName) })
      end
    end
  end)
end

-- A place for one more member in role group base: the first shard with
-- room, counted at once (no call in between, so two rows never take the
-- last place twice).
local function place(ctx, base)
  local r = ctx.roles[base]
  local ns = numbers(r)
  for _, n in ipairs(ns) do
    local s = r.shards[n]
    if s.count < rolegroups.PER_GROUP then
      s.count = s.count + 1
      return s
    end
  end
  error(("role group %s is full (%d shards of %d)"):format(base, #ns, rolegroups.PER_GROUP), 0)
end

local function phone(e, unit)
  local p = e.phone or ""
  if p == "" then return nil end
  local cc = unit.country_code
  if p:sub(1, 1) == "+" then
    if p:sub(2, #cc + 1) == cc then return p:sub(#cc + 2), cc end
    -- Another country: its code's length is not knowable here, so the
    -- number goes whole, without a CountryCode.
    return p:sub(2), nil
  end
  return p, cc
end

-- Records in the ledger that e's password is about to be set (before it
-- is): until it is delivered, the next run sets a new one.  An interrupted
-- run says so; the note comes first, since an interrupt stops the script
-- between any two of its steps.
local function password_set(ctx, e)
  if not ctx.plan.dry_run then
    tc.on_interrupt("initial passwords are written when the run ends: those set so far were not "
      .. "delivered, and running again sets new ones")
  end
  ctx.ledger:append({ event = "password-set", username = e.username })
end

-- Sets a new initial password on an existing user (reset at first login):
-- the ledger says it was set before it is, and ctx.passwords delivers it.
local function reset_password(ctx, e, uin)
  local pw = tc.password()
  password_set(ctx, e)
  if ctx.plan:write(e.username, "cam", "UpdateUser",
       { Name = e.username, Password = pw, NeedResetPassword = 1, ConsoleLogin = 1 }) then
    ctx.passwords[#ctx.passwords + 1] = { username = e.username, email = e.email, uin = uin,
                                          password = pw }
  end
end

-- The CAM sub-user, with console login and an initial password that must
-- be reset at first login.  The password goes only to ctx.passwords (for
-- the 0600 file); the ledger remembers it was set until it is delivered.
function M.user(ctx, e, unit)
  local u = ctx.users[e.username]
  local num, cc = phone(e, unit)
  local want = { Remark = e.display_name, Email = e.email, PhoneNum = num, CountryCode = cc }
  if not u then
    local pw = tc.password()
    password_set(ctx, e)
    local r, found = create(ctx, e.username, "cam", "AddUser", {
      Name = e.username, Remark = want.Remark, ConsoleLogin = 1, UseApi = 0,
      Password = pw, NeedResetPassword = 1, Email = want.Email,
      PhoneNum = want.PhoneNum, CountryCode = want.CountryCode }, nil,
      function() return api.users_by_name()[e.username] end)
    if not r then return "planned", { uin = planned("user") } end
    if found then
      -- Made by a failed attempt, or by someone else: make sure of the
      -- password.
      reset_password(ctx, e, r.Uin)
    else
      ctx.passwords[#ctx.passwords + 1] = { username = e.username, email = e.email, uin = r.Uin,
                                            password = pw }
    end
    return "created", { uin = r.Uin, fresh = not found }
  end
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
    result = ctx.plan:outcome("updated")
  end
  -- Set by a run that did not get to deliver it: set a new one.  The
  -- summary says so, not just "updated".
  local last = ctx.ledger:last(e.username, { ["password-set"] = true, ["password-delivered"] = true })
  if last and last.event == "password-set" then
    reset_password(ctx, e, u.Uin)
    result = ctx.plan:outcome(differs and "updated + new password" or "new password")
  end
  return result, { uin = u.Uin }
end

-- Admins and prod operators log in with MFA (roster.needs_mfa): their
-- console login asks for a virtual MFA code (SetMfaFlag's Stoken), whose
-- device they bind at their first login.  A login already protected by
-- any method is left as it is; nobody else is touched.
local MFA_METHODS = { "Phone", "Token", "Stoken", "Wechat", "Custom", "Mail", "U2FToken", "Passkey" }

function M.mfa(ctx, e, user)
  if not roster.needs_mfa(e) then return nil end
  if not (is_planned(user.uin) or user.fresh) then
    local f = tc.call("cam", "DescribeSafeAuthFlagColl", { SubUin = user.uin }).LoginFlag or {}
    for _, k in ipairs(MFA_METHODS) do
      if f[k] == 1 then return "exists" end
    end
  end
  ctx.plan:write(e.username, "cam", "SetMfaFlag",
    { OpUin = user.uin, LoginFlag = { Stoken = 1 }, ActionFlag = { Stoken = 1 } },
    { note = "console login and sensitive operations ask for a virtual MFA code" })
  return ctx.plan:outcome("turned on")
end

-- The role group changes of e (fresh: a user made by this run, in no
-- group): have, the shard kept of each role group (base -> membership);
-- leave, the memberships to leave (role groups of the unit's environments
-- and roles the roster no longer gives, and any second shard); joins, the
-- role groups to join.
local function membership_plan(ctx, e, unit, fresh)
  local managed, want = {}, {}
  for _, env in ipairs(unit.environments) do
    for _, role in ipairs(unit.roles) do managed[rolegroups.base(env, role)] = true end
  end
  for _, base in ipairs(rolegroups.wanted(e)) do want[base] = true end
  local have, leave = {}, {}
  for _, m in ipairs(not fresh and ctx.member_of[e.username] or {}) do
    if have[m.base] or not want[m.base] then
      if managed[m.base] then leave[#leave + 1] = m end
    else
      have[m.base] = m
    end
  end
  local joins = {}
  for _, base in ipairs(rolegroups.wanted(e)) do
    if not have[base] then joins[#joins + 1] = base end
  end
  return have, leave, joins
end

-- CAM's 10 groups per user, for someone already there who joins a role
-- group: nil when they fit, else why not, naming the groups that are not
-- tcrun's role groups (those are the admin's to trim).  One read.
local function room_problem(ctx, e, unit, uin)
  local have, leave, joins = membership_plan(ctx, e, unit, false)
  if #joins == 0 then return nil end
  local skip, kept, others = {}, 0, {}
  for _, m in ipairs(leave) do skip[m.GroupId] = "leave" end
  for _, m in pairs(have) do skip[m.GroupId] = "keep" end
  for _, g in ipairs(api.cam_pages("ListGroupsForUser", { SubUin = uin }, "GroupInfo")) do
    if skip[g.GroupId] == "keep" then kept = kept + 1
    elseif not skip[g.GroupId] then others[#others + 1] = g.GroupName end
  end
  local total = kept + #others + #joins
  if total <= rolegroups.PER_USER then return nil end
  table.sort(others)
  return ("%s would be in %d CAM groups, past CAM's limit of %d per user: take them out of "
    .. "groups they no longer need (their groups besides tcrun's role groups: %s)")
    :format(e.username, total, rolegroups.PER_USER, table.concat(others, ", "))
end

-- Before the employees: everyone already there whom the roster gives a
-- new role group is checked against CAM's 10 groups per user, so that
-- one who cannot fit fails (check_room) before anything is made for them,
-- a server included; else they would leave their old role groups, be
-- refused the new ones, and keep no access at all.
function M.rooms(ctx, rows)
  ctx.no_room = {}
  api.all(rows, function(row)
    local u = ctx.users[row.employee.username]
    if u and u.ConsoleLogin ~= 0 then
      ctx.no_room[row.employee.username] = room_problem(ctx, row.employee, row.unit, u.Uin)
    end
  end)
end

-- The row's first step: fails the employee whom rooms() found no room for.
function M.check_room(ctx, e)
  if ctx.no_room and ctx.no_room[e.username] then error(ctx.no_room[e.username], 0) end
end

-- Membership of exactly the role groups the roster gives, one shard each
-- (rolegroups.lua): a missing one is joined in the first shard with room;
-- role groups of the unit's environments and roles that the roster no
-- longer gives are left (a demotion takes access away), and so is any
-- second shard of one role group.  Who is where was read once, before the
-- employees (groups()); CAM's 10 groups per user checked (rooms()).
-- Other groups are not tcrun's business.
function M.membership(ctx, e, unit, user)
  local have, leave, joins = membership_plan(ctx, e, unit, user.fresh)
  local add, added, remove, removed = {}, {}, {}, {}
  for _, base in ipairs(joins) do
    local s = place(ctx, base)
    add[#add + 1] = { GroupId = s.GroupId, Uin = user.uin }
    added[#added + 1] = s.GroupName
  end
  for _, m in ipairs(leave) do
    remove[#remove + 1] = { GroupId = m.GroupId, Uin = user.uin }
    removed[#removed + 1] = m.GroupName
  end
  -- Leave first: a change of role in four environments would otherwise
  -- hold eight role groups for a moment, past CAM's 10 with a few others.
  -- The plan names the groups; the call has only their ids.
  if #remove > 0 then
    ctx.plan:write(e.username, "cam", "RemoveUserFromGroup", { Info = remove },
                   { note = "groups " .. table.concat(removed, ", ") })
  end
  if #add > 0 then
    ctx.plan:write(e.username, "cam", "AddUserToGroup", { Info = add },
                   { note = "groups " .. table.concat(added, ", ") })
  end
  -- For the report: the shards they are in now, by role group.
  local now = {}
  for _, m in pairs(have) do now[#now + 1] = m.GroupName end
  for _, name in ipairs(added) do now[#now + 1] = name end
  table.sort(now)
  local made = { role_groups = table.concat(now, ";") }
  if #add + #remove == 0 then return "exists", made end
  return ctx.plan:outcome((#remove > 0 or next(have) ~= nil) and "updated" or "created"), made
end

-- Adds tags missing on a resource (six-segment name); whether it wrote.
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
function M.environment(ctx, e, unit, user)
  local region = unit.env_region
  local uin = tostring(user.uin)
  local env = api.only(ctx.envs[region][uin], "environments of " .. e.username)
  local tags = tags_of(e, unit, user.uin)
  local result = "exists"
  if not env then
    local r = create(ctx, e.username, "tcb", "CreateEnv", {
      Alias = M.alias(e.username), PackageId = unit.env_package,
      Resources = json.array(unit.env_resources), RenewFlag = unit.renew_flag,
      Tags = tags }, { region = region },
      function() return api.only(api.managed_envs(region)[uin], "environments") end)
    if not r then return "planned", { env_id = planned("environment"), env_region = region } end
    env = { EnvId = r.EnvId, Status = "UNAVAILABLE" }
    result = "created"
  else
    check_owner(e, "environment", env.EnvId, env.Tags)
    if ensure_resource_tags(ctx, e.username, api.resource("tcb", region, ctx.owner_uin, "env",
                                                           env.EnvId), api.tag_map(env.Tags), tags) then
      result = ctx.plan:outcome("updated")
    end
  end
  if env.Status ~= "NORMAL" then
    ctx.plan:watch(watch.envs(region), env.EnvId, function(now)
      return now and now.Status == "NORMAL" or nil
    end, 1800, "environment " .. env.EnvId)
  end
  return result, { env_id = env.EnvId, env_region = region }
end

-- The employee's Lighthouse server, tagged, waited on until RUNNING.
function M.server(ctx, e, unit, user)
  local region = unit.server_region
  local inst = api.only(ctx.instances[region][tostring(user.uin)], "servers of " .. e.username)
  local tags = tags_of(e, unit, user.uin)
  local result = "exists"
  local id, fresh
  if not inst then
    local r = ctx.plan:write(e.username, "lighthouse", "CreateInstances", {
      BundleId = unit.bundle_id, BlueprintId = unit.blueprint_id,
      InstanceChargePrepaid = { Period = unit.server_period_months,
                                RenewFlag = unit.renew_flag },
      InstanceName = ("ws-" .. e.username):sub(1, 60), InstanceCount = 1,
      -- One server per person and region, ever: the UIN is never reused
      -- (the region in it: a unit that moved makes a new one, never
      -- gets back the old one's id from another region).
      ClientToken = ("tcrun-ws-%s-%s"):format(tostring(user.uin), region),
      Tags = tags }, { region = region })
    if not r then return "planned", { instance_id = planned("server"), server_region = region } end
    id, result, fresh = r.InstanceIdSet[1], "created", true
  else
    id = inst.InstanceId
    check_owner(e, "server", id, inst.Tags)
    local state = watch.settle(ctx.plan, id, region, inst)
    if state == "SHUTDOWN" then
      error(("server %s is isolated (SHUTDOWN): offboarded earlier; "
             .. "restore or terminate it first"):format(id), 0)
    elseif state == "TERMINATED" then
      error(("server %s is being terminated (offboarded earlier); run again once it is gone")
            :format(id), 0)
    end
    if ensure_resource_tags(ctx, e.username, api.resource("lighthouse", region, ctx.owner_uin,
        "instance", id), api.tag_map(inst.Tags), tags) then
      result = ctx.plan:outcome("updated")
    end
    if state == "STOPPED" then
      ctx.plan:write(e.username, "lighthouse", "StartInstances",
        { InstanceIds = { id } }, { region = region })
      result = ctx.plan:outcome("updated")
    end
  end
  local asked = tc.clock()
  ctx.plan:watch(watch.instances(region), id, function(now)
    if now and now.InstanceState == "LAUNCH_FAILED" then
      error("server " .. id .. " failed to launch", 0)
    end
    -- A new server shows within moments; one that never does is not in
    -- this region at all.
    if not now and tc.clock() - asked > 120 then
      error(("server %s is not in %s"):format(id, region), 0)
    end
    return now and now.InstanceState == "RUNNING"
       and now.LatestOperationState ~= "OPERATING" or nil
  end, 1800, "server " .. id .. " to run")
  return result, { instance_id = id, server_region = region, fresh = fresh }
end

-- The personal policy: their environment and server, nothing of anyone
-- else's; attached to them.
function M.workspace_policy(ctx, e, unit, user, env, server)
  local doc = assert(policy.render(policy.path("workspace.json"), {
    owner_uin = ctx.owner_uin, env_region = env.env_region, env_id = env.env_id,
    server_region = server.server_region, instance_id = server.instance_id }))
  local pid, result = ensure_policy(ctx, e.username, "tcrun-ws-" .. e.username, doc,
                                    "tcrun workspace of " .. e.username)
  -- A policy or a user made just now is attached to nothing.
  if result == "created" or user.fresh
     or not attached("ListAttachedUserPolicies", { TargetUin = user.uin })[pid] then
    ctx.plan:write(e.username, "cam", "AttachUserPolicy", { PolicyId = pid, AttachUin = user.uin })
    if result == "exists" then result = ctx.plan:outcome("updated") end
  end
  return result
end

-- s as one shell word, single-quoted.
local function sh_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- The assistant's installer for e, with their values filled in, each
-- shell-quoted, as the base64 TAT sends.  The script comes from
-- recipes/scripts/ only (units.lua holds the name to a plain file name).
local function assistant_content(ctx, e, unit, env)
  local f = assert(io.open(ctx.home .. "/recipes/scripts/" .. unit.assistant_script, "r"))
  local script = f:read("a")
  f:close()
  local values = { __TCB_ENV_ID__ = env.env_id, __TCB_REGION__ = env.env_region,
                   __OWNER__ = e.username, __LOGIN_USER__ = unit.assistant_login_user }
  script = script:gsub("__[%u_]+__", function(name)
    if values[name] ~= nil then return sh_quote(values[name]) end
  end)
  return base64.encode(script)
end

-- A task that ran, or runs, content on the server: its invocation id and
-- "SUCCESS" or "RUNNING"; nil for none.
local function earlier_task(server, content)
  local tasks = api.offset_pages("tat", "DescribeInvocationTasks",
    { Filters = { { Name = "instance-id", Values = { server.instance_id } } }, HideOutput = true },
    "InvocationTaskSet", "TotalCount", 100, { region = server.server_region })
  local running
  for _, t in ipairs(tasks) do
    local doc = t.CommandDocument or {}
    if doc.Content == content then
      if t.TaskStatus == "SUCCESS" then return t.InvocationId, "SUCCESS" end
      if ({ PENDING = 1, DELIVERING = 1, RUNNING = 1 })[t.TaskStatus] then
        running = t.InvocationId
      end
    end
  end
  return running, running and "RUNNING"
end

-- Runs content through TAT (RunCommand); the invocation id, nil under a dry
-- run.  A new server's TAT agent comes online a while after RUNNING; until
-- then RunCommand is refused (and nothing ran), so it waits for the agent,
-- watched with everyone else's, and tries again should it still be refused.
local function start_task(ctx, e, unit, server, content)
  ctx.plan:watch(watch.agents(server.server_region), server.instance_id, function(a)
    -- Not listed: no agent at all, which RunCommand says better.
    return not a or a.AgentStatus == "Online" or nil
  end, 600, "the TAT agent on " .. server.instance_id)
  local r = api.wait("the TAT agent on " .. server.instance_id, function()
    local ok, r = pcall(create, ctx, e.username, "tat", "RunCommand", {
      Content = content, InstanceIds = { server.instance_id }, CommandType = "SHELL",
      CommandName = "tcrun-install-assistant", Timeout = unit.assistant_timeout,
      Description = "AI assistant for " .. e.username }, { region = server.server_region },
      function()
        local id = earlier_task(server, content)
        return id and { InvocationId = id }
      end)
    if ok then return r or false end
    if not api.is_code(r, "ResourceUnavailable.AgentStatusNotOnline") then error(r, 0) end
  end, 600, 10)
  return r and r.InvocationId
end

-- Task states on the way to an end.
local UNDER_WAY = { PENDING = 1, DELIVERING = 1, DELIVER_DELAYED = 1, RUNNING = 1, CANCELLING = 1 }

-- Waits for the invocation (one task) to end, watched with everyone
-- else's; raises unless it succeeded, with the end of its output.
local function await_task(unit, server, invocation)
  local status = watch.invocations(server.server_region):wait(invocation, function(inv)
    local t = inv and (inv.InvocationTaskBasicInfoSet or {})[1]
    if t and not UNDER_WAY[t.TaskStatus] then return t.TaskStatus end
  end, unit.assistant_timeout + 120, "assistant install " .. invocation)
  if status ~= "SUCCESS" then
    local r = tc.call("tat", "DescribeInvocationTasks", {
      Filters = { { Name = "invocation-id", Values = { invocation } } }, HideOutput = false },
      { region = server.server_region })
    local final = (r.InvocationTaskSet or {})[1] or { TaskStatus = status }
    local out = final.TaskResult and final.TaskResult.Output
    out = out and base64.decode(out) or ""
    error(("assistant install %s on %s: %s%s"):format(invocation, server.instance_id,
          final.TaskStatus, out ~= "" and (": " .. out:gsub("%s+$", ""):sub(-200)) or ""), 0)
  end
end

-- The assistant, installed through TAT and waited on until it succeeds.  A
-- task that already ran the same script on this server counts as done.
function M.assistant(ctx, e, unit, env, server)
  if is_planned(server.instance_id) then
    ctx.plan:write(e.username, "tat", "RunCommand", { InstanceIds = { server.instance_id },
      CommandName = "tcrun-install-assistant",
      Content = "(base64 of " .. unit.assistant_script .. ")" }, { region = server.server_region })
    return "planned"
  end
  local content = assistant_content(ctx, e, unit, env)
  -- A server made just now has run nothing.
  local invocation, status
  if not server.fresh then invocation, status = earlier_task(server, content) end
  if status == "SUCCESS" then return "exists" end
  if not invocation then
    invocation = start_task(ctx, e, unit, server, content)
    if not invocation then return "planned" end
  end
  await_task(unit, server, invocation)
  return "created"
end

-- What a business unit's hooks may do for one employee:
-- workspace.ensure_tags(tags) tags their environment and server.
function M.workspace_api(ctx, e, unit, env, server)
  return {
    ensure_tags = function(tags)
      if not (env and server) then
        error("ensure_tags: " .. e.username .. " has no workspace yet (call it from after_workspace)", 2)
      end
      -- The same rules as a unit's own tags: never owner, owner-uin,
      -- managed-by and the other tags tcrun decides by.
      local why = units.check_tags(tags)
      if why then error("ensure_tags: " .. why, 2) end
      local want = {}
      for k, v in pairs(tags) do want[#want + 1] = { Key = k, Value = v } end
      table.sort(want, function(a, b) return a.Key < b.Key end)
      if is_planned(env.env_id) or is_planned(server.instance_id) then
        ctx.plan:write(e.username, "tag", "TagResources",
                       { ResourceList = { env.env_id, server.instance_id }, Tags = want })
        return
      end
      local live_env = api.env(env.env_id, env.env_region)
      local live_server = api.instance(server.instance_id, server.server_region)
      ensure_resource_tags(ctx, e.username, api.resource("tcb", env.env_region, ctx.owner_uin,
        "env", env.env_id), api.tag_map(live_env and live_env.Tags), want)
      ensure_resource_tags(ctx, e.username, api.resource("lighthouse", server.server_region,
        ctx.owner_uin, "instance", server.instance_id),
        api.tag_map(live_server and live_server.Tags), want)
    end,
  }
end

-- Calls the unit's hook `name`, if it has one, with a copy of the
-- employee, lists included (so a hook cannot change what the steps read),
-- and workspace, within an instruction budget (units.lua).
function M.hook(unit, name, e, workspace)
  local fn = unit.hooks[name]
  if fn then
    units.call_limited(("%s: hook %s"):format(unit.path or unit.name, name), fn, units.deep_copy(e),
                       workspace)
  end
end

-- Writes the initial passwords set by this run to a new 0600 file in out
-- (never to a log, the journal or the screen), named by stamp and never
-- replacing another run's, then records in the ledger that they arrived.
-- Returns the file's path (nil when there were none), or nil and why:
-- then the ledger still says they were set, and the next run sets new
-- ones.
function M.deliver_passwords(ctx, out, stamp)
  if #ctx.passwords == 0 then return nil end
  table.sort(ctx.passwords, function(a, b) return a.username < b.username end)
  local path, err
  for n = 1, 100 do
    path = ("%s/passwords-%s%s.csv"):format(out, stamp, n > 1 and ("-" .. n) or "")
    local w
    w, err = csv.create(path, { "username", "email", "uin", "password" },
                        { mode = "0600", exclusive = true })
    for _, p in ipairs(ctx.passwords) do
      if not w then break end
      local ok, werr = w:write(p)
      if not ok then err = werr; w = nil end
    end
    local ok
    if w then ok, err = w:close() end
    if ok then break end
    if not (err or ""):find("File exists", 1, true) then
      return nil, ("initial passwords not delivered (%s); the next run sets new ones"):format(err)
    end
    path = nil
  end
  if not path then return nil, "initial passwords not delivered: " .. err end
  local where = tc.realpath(path) or path   -- whatever folder the run was in
  for _, p in ipairs(ctx.passwords) do
    ctx.ledger:append({ event = "password-delivered", username = p.username, file = where })
  end
  tc.on_interrupt(nil)   -- delivered: an interrupt from here on loses none
  return path
end

return M
