-- spokes.lua: the steps of setup_accounts.lua, one function each, with
-- the contract of recipe.lua (a word and what was made).  Each reads
-- first and writes only what is missing or different: a second run writes
-- nothing.
--
-- ctx (read_org): plan, accounts (accounts.lua), home, and, with an
-- Organization, org (DescribeOrganization), nodes (by name, under the
-- root), guardrail (the SCP's id, once ensure_guardrails ran).
local tc = require "tc"
local api = require "tcrun.api"
local accounts = require "tcrun.accounts"
local json = require "tcrun.json"
local onboarding = require "tcrun.onboarding"
local plan = require "tcrun.plan"
local policy = require "tcrun.policy"
local roster = require "tcrun.roster"

local M = {}

local planned = plan.planned

-- Rp/Page lists of the Organization's policies (List, TotalNum).
local function policy_pages(action, params)
  local out, page = {}, 1
  repeat
    local p = { Rp = 200, Page = page }
    for k, v in pairs(params or {}) do p[k] = v end
    local r = tc.call("organization", action, p)
    for _, x in ipairs(r.List or {}) do out[#out + 1] = x end
    page = page + 1
  until #(r.List or {}) == 0 or #out >= (r.TotalNum or 0)
  return out
end

function M.read_org(run)
  local ctx = { plan = run.plan, accounts = run.accounts, home = tc.home, nodes = {} }
  if run.accounts.cfg.organization then
    ctx.org = tc.call("organization", "DescribeOrganization")
    for _, n in ipairs(api.org_pages("DescribeOrganizationNodes")) do
      if n.ParentNodeId == ctx.org.RootNodeId then ctx.nodes[n.Name] = n end
    end
  end
  return ctx
end

local function tags(env)
  return { { TagKey = "environment", TagValue = env }, { TagKey = "managed-by", TagValue = api.MANAGED } }
end

-- Whether the Organization has deployed tcrun's role in member uin.
local function deployed(ctx, uin)
  for _, i in ipairs(api.org_pages("DescribeOrganizationMemberAuthIdentities",
                                   { MemberUin = tonumber(uin) })) do
    if i.IdentityRoleName == ctx.accounts.cfg.role and i.Status == 1 then return true end
  end
  return false
end

-- Waits until tcrun's role in s is deployed (a created member takes a
-- while).  A dry run does not wait: it marks s pending, and the spoke's
-- writes are planned as for a new account.
local function wait_deployed(ctx, s)
  if ctx.accounts.cfg.role ~= accounts.DEFAULT_ROLE or deployed(ctx, s.uin) then return end
  if ctx.plan.dry_run then
    s.pending = true
    return
  end
  api.wait("the member access role in " .. s.env, function()
    if deployed(ctx, s.uin) then return true end
  end, 1800, 15)
end

-- The member account of spoke s: made by the Organization when missing
-- (in the environment's node), then waited for until tcrun's role there
-- is deployed.  { uin }.
function M.member(ctx, s)
  if not ctx.org then return "not managed", { uin = s.uin } end
  if s.member then
    wait_deployed(ctx, s)
    return s.pending and "deploying" or "exists", { uin = s.uin }
  end
  local node = M.node(ctx, s.env)
  local r = onboarding.create(ctx, s.env, "organization", "CreateOrganizationMember",
    { Name = s.name, AccountName = s.name, PolicyType = "Financial", PermissionIds = { 1, 2 },
      NodeId = node, Tags = tags(s.env),
      Remark = "tcrun: the " .. s.env .. " environment" }, nil,
    function()
      local _, by_name = accounts.members()
      local m = by_name[s.name]
      return m and { Uin = m.MemberUin }
    end)
  -- Made in its node, with its tags: nothing to move or tag after.
  s.member = { NodeId = node, tags = { environment = s.env, ["managed-by"] = api.MANAGED } }
  if not r then
    s.uin, s.pending = planned("account " .. s.env), true
    return "planned", { uin = s.uin }
  end
  s.uin = tostring(r.Uin)
  s.member.MemberUin = r.Uin
  wait_deployed(ctx, s)
  return "created", { uin = s.uin }
end

-- The id of node name under the root, made when missing.
function M.node(ctx, name)
  local n = ctx.nodes[name]
  if n then return n.NodeId end
  local r = ctx.plan:write("(organization)", "organization", "AddOrganizationNode",
    { ParentNodeId = ctx.org.RootNodeId, Name = name, Remark = "tcrun: the " .. name .. " environment" },
    { idempotent = false })
  ctx.nodes[name] = { NodeId = r and r.NodeId or planned("node " .. name), Name = name, made = true }
  return ctx.nodes[name].NodeId
end

-- The member sits in its environment's node.
function M.place(ctx, s)
  if not ctx.org then return nil end
  local node = M.node(ctx, s.env)
  if s.member and s.member.NodeId == node then
    return ctx.nodes[s.env].made and ctx.plan:outcome("created") or "exists"
  end
  ctx.plan:write(s.env, "organization", "MoveOrganizationNodeMembers",
    { NodeId = node, MemberUin = { tonumber(s.uin) or s.uin } },
    { note = ("account %s into node %s"):format(tostring(s.uin), s.env) })
  return ctx.plan:outcome("moved")
end

-- The member carries environment=<env> and managed-by=tcrun (the guard
-- of accounts.lua reads the first).  The Organization API cannot tag an
-- existing member; the Tag API can, by the member's resource name.
function M.tag(ctx, s)
  if not ctx.org then return nil end
  local have = s.member and s.member.tags or {}
  local missing = {}
  for _, t in ipairs(tags(s.env)) do
    if have[t.TagKey] ~= t.TagValue then missing[#missing + 1] = t end
  end
  if #missing == 0 then return "exists" end
  ctx.plan:write(s.env, "tag", "TagResources",
    { ResourceList = { ("qcs::organization::uin/%s:member/%s"):format(ctx.accounts.cfg.hub, tostring(s.uin)) },
      Tags = missing })
  return ctx.plan:outcome("tagged")
end

-- Guardrails: service control policies on, and policies/guardrails.json
-- as the SCP tcrun_guardrails, attached to every environment's node.
-- Once, before the spokes.
function M.guardrails(ctx)
  if not ctx.org or not ctx.accounts.cfg.guardrails then return end
  local who = "(organization)"
  local org = ctx.org.OrgId
  local on = tc.call("organization", "DescribePolicyConfig", { OrganizationId = org, Type = 0 })
  if on.Status ~= 1 then
    ctx.plan:write(who, "organization", "EnablePolicyType",
      { OrganizationId = org, PolicyType = "SERVICE_CONTROL_POLICY" })
  end
  local doc = assert(policy.render(policy.path("guardrails.json"), {}))
  local name, id = "tcrun_guardrails", nil
  for _, p in ipairs(policy_pages("ListPolicies", { PolicyType = "SERVICE_CONTROL_POLICY" })) do
    if p.PolicyName == name then id = p.PolicyId end
  end
  if not id then
    local r = onboarding.create(ctx, who, "organization", "CreatePolicy",
      { Name = name, Content = doc, Type = "SERVICE_CONTROL_POLICY",
        Description = "tcrun: members keep the Organization, CloudAudit and its access role" }, nil,
      function() return nil end)
    id = r and r.PolicyId or planned("guardrail policy")
  else
    local cur = tc.call("organization", "DescribePolicy", { PolicyId = id, PolicyType = "SERVICE_CONTROL_POLICY" })
    if not policy.same(cur.PolicyDocument, doc) then
      ctx.plan:write(who, "organization", "UpdatePolicy",
        { PolicyId = id, Content = doc, Type = "SERVICE_CONTROL_POLICY" })
    end
  end
  for _, env in ipairs(roster.ENVIRONMENTS) do
    if ctx.accounts.spokes[env] then
      local node = M.node(ctx, env)
      local attached = false
      if not plan.is_planned(node) and not plan.is_planned(id) then
        for _, p in ipairs(policy_pages("ListPoliciesForTarget", { TargetId = node,
                                                                   PolicyType = "SERVICE_CONTROL_POLICY" })) do
          if p.StrategyId == id then attached = true end
        end
      end
      if not attached then
        ctx.plan:write(who, "organization", "AttachPolicy",
          { TargetId = node, TargetType = "NODE", PolicyId = id, Type = "SERVICE_CONTROL_POLICY" },
          { note = "guardrails on node " .. env })
      end
    end
  end
end

-- Enters the spoke: tcrun's role assumed and the account checked.
function M.enter(ctx, s)
  if s.pending then return "planned" end
  ctx.accounts:enter(s)
  return "checked"
end

-- The principals a trust policy admits, for a note: "a, b" or "nobody".
local function principals(doc)
  local d = json.decode(doc or "")
  local out = {}
  for _, st in ipairs(type(d) == "table" and d.statement or {}) do
    local q = type(st.principal) == "table" and st.principal.qcs or {}
    for _, p in ipairs(type(q) == "table" and q or { q }) do out[#out + 1] = tostring(p) end
  end
  return #out > 0 and table.concat(out, ", ") or "nobody"
end

-- In the spoke, for every role: the policy tcrun-role-<role> rendered
-- from policies/role-<role>.json, and the role tcrun-<role> trusting the
-- hub, with exactly that policy (others attached by hand are detached), a
-- short maximum session and console login.  A dry run for an account not
-- there yet plans them all, named by the account it would make.
function M.roles(ctx, s)
  local o = s.pending and { in_account = ("%s (%s)"):format(s.env, tostring(s.uin)) }
            or { account = s.account }
  local cfg = ctx.accounts.cfg
  local pctx = { plan = ctx.plan, policies = s.pending and {} or api.policies_by_name(o) }
  local trust = assert(policy.render(policy.path("trust-hub.json"), { hub_uin = cfg.hub }))
  local words = {}
  for _, role in ipairs(roster.ROLES) do
    local name = accounts.role_name(role)
    local doc = assert(policy.render(policy.path("role-" .. role .. ".json"), { environment = s.env }))
    local pid, word = onboarding.ensure_policy(pctx, s.env, "tcrun-role-" .. role, doc,
                                               ("tcrun: %s in %s"):format(role, s.env), o)
    local info
    if not s.pending then
      local ok, got = pcall(tc.call, "cam", "GetRole", { RoleName = name }, o)
      if not ok and not api.is_code(got, "InvalidParameter.RoleNotExist") then error(got, 0) end
      info = ok and got.RoleInfo
    end
    local function changed(w) if word ~= "created" then word = ctx.plan:outcome(w) end end
    if not info then
      ctx.plan:write(s.env, "cam", "CreateRole",
        { RoleName = name, PolicyDocument = trust, ConsoleLogin = 1,
          SessionDuration = cfg.role_session_seconds,
          Description = ("tcrun: %s in %s, assumed from the hub %s"):format(role, s.env, cfg.hub) }, o)
      word = ctx.plan:outcome("created")
    else
      if not policy.same(info.PolicyDocument, trust) then
        ctx.plan:write(s.env, "cam", "UpdateAssumeRolePolicy", { RoleName = name, PolicyDocument = trust },
          { account = s.account, note = ("%s's trust policy admitted %s"):format(name, principals(info.PolicyDocument)) })
        changed("repaired")
      end
      if info.SessionDuration ~= cfg.role_session_seconds then
        ctx.plan:write(s.env, "cam", "UpdateRoleSessionDuration",
          { RoleName = name, SessionDuration = cfg.role_session_seconds },
          { account = s.account, note = ("%s's maximum session was %s s"):format(name, tostring(info.SessionDuration)) })
        changed("repaired")
      end
    end
    local attached = false
    if info then
      for _, p in ipairs(api.cam_pages("ListAttachedRolePolicies", { RoleName = name }, "List", 100, o)) do
        if p.PolicyId == pid then
          attached = true
        else
          ctx.plan:write(s.env, "cam", "DetachRolePolicy", { PolicyId = p.PolicyId, DetachRoleName = name },
            { account = s.account, note = ("%s on %s is not tcrun's"):format(tostring(p.PolicyName), name) })
          changed("repaired")
        end
      end
    end
    if not attached then
      ctx.plan:write(s.env, "cam", "AttachRolePolicy", { PolicyId = pid, AttachRoleName = name }, o)
      if info then changed("repaired") end
    end
    words[word] = true
  end
  for _, w in ipairs({ "planned", "created", "repaired", "updated" }) do
    if words[w] then return w end
  end
  return "exists"
end

return M
