-- rollout.lua: the steps of policy_rollout.lua: which policies a stage
-- holds, their intents, lint, the plan (a semantic diff against the live
-- default version), the write, verification (offline with cam_eval,
-- live with a probe identity holding exactly the policy) and rollback.
--
-- A stage is an environment (dev, test, staging, prod).  Its targets are
-- the role policies rendered from policies/role-<role>.json for it: in one
-- account the group policies tcrun-<env>-<role> (onboarding makes them
-- when a roster needs them), with one account per environment the
-- policies tcrun-role-<role> of that environment's account
-- (setup_accounts.lua makes them).  A target whose policy does not exist
-- yet is reported and left to the recipe that makes it.
local tc = require "tc"
local api = require "tcrun.api"
local ev = require "tcrun.cam_eval"
local json = require "tcrun.json"
local lint = require "tcrun.lint"
local policy = require "tcrun.policy"
local review = require "tcrun.review"
local roster = require "tcrun.roster"

local M = {}

M.STAGES = { "dev", "test", "staging", "prod", "workspaces" }
-- workspaces: every employee's personal policy (tcrun-ws-<name>), after
-- prod and like it only with --approve; checked offline (a live probe
-- would have to act on a real workspace).

---------------------------------------------------------------------------
-- Intents: policies/role-<role>.intents

-- The intents of a role for a stage: { why, checks = { { can (bool),
-- action, resource ("*" or six segments), tags ({ "k&v" } or nil), list
-- (bool), line, text } } }, or nil and "path:line: why".
function M.intents(role, env, account, vars)
  local path = policy.path((role == "workspace" and "%s.intents" or "role-%s.intents"):format(role))
  vars = vars or {}
  vars.environment, vars.account = env, account
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local out, n = { checks = {} }, 0
  for raw in f:lines() do
    n = n + 1
    local line = raw:gsub("%s+$", "")
    local text = line:gsub("%${([%w_]+)}", function(k) return vars[k] and tostring(vars[k]) end)
    if line:find("^%s*#") or line:find("^%s*$") then
      -- comment
    elseif text:find("^why:") then
      out.why = text:match("^why:%s*(.-)%s*$")
    else
      local word, rest = text:match("^(can)%s+(.+)$")
      if not word then word, rest = text:match("^(cannot)%s+(.+)$") end
      local c = word and { can = word == "can", line = n, text = text }
      if c and rest:find("^list%s") then
        c.list, c.action = true, rest:match("^list%s+(%S+)$")
        c.resource = "*"
      elseif c then
        local action, resource, tags = rest:match("^(%S+)%s+on%s+(%S+)%s+tagged%s+(%S+=%S*)$")
        if not action then action, resource = rest:match("^(%S+)%s+on%s+(%S+)$") end
        c.action, c.resource = action, resource
        if tags then c.tags = { (tags:gsub("=", "&", 1)) } end
      end
      if not c or not c.action or not c.action:find("^[%w_-]+:[%w*]+$") then
        f:close()
        return nil, ("%s:%d: not an intent (why: ..., can/cannot ACTION on RESOURCE [tagged K=V], "
                     .. "can/cannot list ACTION): %s"):format(path, n, line)
      end
      out.checks[#out.checks + 1] = c
    end
  end
  f:close()
  if not out.why then return nil, path .. ": no 'why:' line (what the role exists for)" end
  local cans, cannots = 0, 0
  for _, c in ipairs(out.checks) do
    local svc, act = c.action:match("^([^:]+):(.+)$")
    if lint.count_matches(svc, act) == 0 then
      return nil, ("%s:%d: %s is no action of the official SDK"):format(path, c.line, c.action)
    end
    if c.can then cans = cans + 1 else cannots = cannots + 1 end
  end
  if cans == 0 or cannots == 0 then
    return nil, path .. ": needs at least one 'can' and one 'cannot' intent"
  end
  out.path = path
  tc.debug("intents: " .. path)
  return out
end

---------------------------------------------------------------------------
-- Targets

-- The stage's targets: { role, name (policy name), doc (rendered),
-- hash, account (tc.account or nil), owner (UIN), label, intents }.
function M.targets(run, env, only)
  local out, problems = {}, {}
  local spoke = run.accounts and run.accounts.spokes[env]
  if run.accounts and not spoke then return out, problems end
  local owner = spoke and spoke.uin or run.owner_uin
  for _, role in ipairs(roster.ROLES) do
    local name = spoke and ("tcrun-role-" .. role) or ("tcrun-%s-%s"):format(env, role)
    if not only or only == role or only == name then
      local tpl = policy.path(("role-%s.json"):format(role))
      local doc, err = policy.render(tpl, { environment = env })
      local t = { role = role, name = name, env = env, account = spoke and spoke.account,
                  owner = owner, label = ("%s in %s (%s)"):format(name, env, owner) }
      if not doc then
        problems[#problems + 1] = err
      else
        t.doc = doc
        t.hash = M.hash(doc)
        for _, p in ipairs(lint.check(doc, { environment = env, admin = role == "admin" })) do
          problems[#problems + 1] = ("%s (rendered for %s): %s"):format(tpl, env, p)
        end
        t.intents, err = M.intents(role, env, owner)
        if not t.intents then problems[#problems + 1] = err end
      end
      out[#out + 1] = t
    end
  end
  return out, problems
end

-- A content hash of a document (FNV-1a 64 bits over its compact form):
-- what the journal records of the template a version came from.
function M.hash(text)
  local h = 0xcbf29ce484222325
  for i = 1, #text do
    h = h ~ text:byte(i)
    h = h * 0x100000001b3
  end
  return ("%016x"):format(h)
end

-- The personal policies: one target per employee with a workspace (their
-- environment and server found by their owner-uin tags, in the regions
-- the business units use), rendered from policies/workspace.json.
function M.workspace_targets(run, only)
  local out, problems = {}, {}
  local owner = run.owner_uin
  local envs, servers = {}, {}
  for _, r in ipairs(run.units:regions("env_region")) do
    for uin, list in pairs(api.managed_envs(r)) do envs[uin] = { list[1], r } end
  end
  for _, r in ipairs(run.units:regions("server_region")) do
    for uin, list in pairs(api.managed_instances(r)) do servers[uin] = { list[1], r } end
  end
  local users = api.users_by_name()
  local names = {}
  for n in pairs(users) do names[#names + 1] = n end
  table.sort(names)
  for _, n in ipairs(names) do
    local u = users[n]
    local e, s = envs[tostring(u.Uin)], servers[tostring(u.Uin)]
    local name = "tcrun-ws-" .. n
    if e and s and (not only or only == "workspace" or only == name or only == n) then
      local vars = { owner_uin = owner, env_region = e[2], env_id = e[1].EnvId,
                     server_region = s[2], instance_id = s[1].InstanceId }
      local doc, err = policy.render(policy.path("workspace.json"), vars)
      local t = { role = "workspace", name = name, env = "workspaces", owner = owner, offline_only = true,
                  label = name }
      if not doc then
        problems[#problems + 1] = err
      else
        t.doc, t.hash = doc, M.hash(doc)
        for _, p in ipairs(lint.check(doc, {})) do
          problems[#problems + 1] = ("%s (rendered for %s): %s"):format(policy.path("workspace.json"), n, p)
        end
        t.intents, err = M.intents("workspace", "workspaces", owner,
                                   { env_region = e[2], env_id = e[1].EnvId, server_region = s[2],
                                     instance_id = s[1].InstanceId })
        if not t.intents then problems[#problems + 1] = err end
      end
      out[#out + 1] = t
    end
  end
  return out, problems
end

---------------------------------------------------------------------------
-- Reading the live policy

-- Fills t.policy_id, t.live (the default version's document), t.default
-- (its VersionId) and t.versions (sorted by VersionId); t.missing when
-- the policy does not exist.
function M.read(t)
  local o = t.account and { account = t.account } or nil
  local p = api.policies_by_name(o)[t.name]
  if not p then t.missing = true; return t end
  t.policy_id = p.PolicyId
  local versions = tc.call("cam", "ListPolicyVersions", { PolicyId = p.PolicyId }, o).Versions or {}
  table.sort(versions, function(a, b) return a.VersionId < b.VersionId end)
  t.versions = versions
  for _, v in ipairs(versions) do
    if v.IsDefaultVersion == 1 then t.default = v.VersionId end
  end
  t.live = tc.call("cam", "GetPolicy", { PolicyId = p.PolicyId }, o).PolicyDocument
  return t
end

---------------------------------------------------------------------------
-- The plan: a semantic diff

local function list(v) return type(v) == "table" and v or (v ~= nil and { v } or {}) end

-- A statement's identity apart from its actions (effect, resources,
-- condition) and its action set.
local function shape(st)
  local res = {}
  for _, r in ipairs(list(st.resource)) do res[#res + 1] = r end
  table.sort(res)
  local acts = {}
  for _, a in ipairs(list(st.action)) do acts[(a:gsub("^name/", ""))] = true end
  return ("%s %s%s"):format(st.effect, table.concat(res, ","),
                            st.condition and (" if " .. json.encode(st.condition)) or ""), acts
end

local function statements(text)
  local d = json.decode(text or "")
  local out = {}
  for _, st in ipairs(type(d) == "table" and list(d.statement) or {}) do
    local key, acts = shape(st)
    out[key] = out[key] or {}
    for a in pairs(acts) do out[key][a] = true end
  end
  return out
end

local keys = api.sorted_keys

-- The diff of live against want, as lines ("  + allow ... actions"), and
-- whether anything differs.  Statements are matched by effect, resources
-- and condition; their actions are compared as sets.
function M.diff(live, want)
  local a, b = statements(live), statements(want)
  local lines = {}
  local all = {}
  for k in pairs(a) do all[k] = true end
  for k in pairs(b) do all[k] = true end
  for _, k in ipairs(keys(all)) do
    local old, new = a[k], b[k]
    if not old then
      lines[#lines + 1] = ("    + %s: %s"):format(k, table.concat(keys(new), ", "))
    elseif not new then
      lines[#lines + 1] = ("    - %s: %s"):format(k, table.concat(keys(old), ", "))
    else
      local plus, minus = {}, {}
      for x in pairs(new) do if not old[x] then plus[#plus + 1] = x end end
      for x in pairs(old) do if not new[x] then minus[#minus + 1] = x end end
      table.sort(plus)
      table.sort(minus)
      if #plus + #minus > 0 then
        lines[#lines + 1] = ("    ~ %s:%s%s"):format(k,
          #plus > 0 and (" +" .. table.concat(plus, " +")) or "",
          #minus > 0 and (" -" .. table.concat(minus, " -")) or "")
      end
    end
  end
  return lines, #lines > 0
end

---------------------------------------------------------------------------
-- Writing

-- Makes want the default version of t's policy: room first (CAM keeps
-- five versions: the oldest that is not the default goes), then
-- CreatePolicyVersion with SetAsDefault.  The journal line names the
-- ticket and the template's hash.  Returns the new VersionId (nil under a
-- dry run).
function M.write(plan, t, ticket)
  local o = t.account and { account = t.account } or {}
  if #t.versions >= 5 then
    for _, v in ipairs(t.versions) do
      if v.IsDefaultVersion ~= 1 then
        plan:write(t.env, "cam", "DeletePolicyVersion", { PolicyId = t.policy_id, VersionId = { v.VersionId } },
                   { account = o.account, note = ("%s: room for the rollout (version %d, the oldest)")
                                                  :format(t.name, v.VersionId) })
        break
      end
    end
  end
  local template = t.role == "workspace" and "workspace.json" or ("role-" .. t.role .. ".json")
  local note = ("%s: template %s, hash %s, ticket %s"):format(t.name, template,
                                                             t.hash, ticket or "none")
  local r = plan:write(t.env, "cam", "CreatePolicyVersion",
                       { PolicyId = t.policy_id, PolicyDocument = t.doc, SetAsDefault = true },
                       { account = o.account, note = note })
  return r and r.VersionId
end

-- Makes version the default again (rollback).
function M.restore(plan, t, version, why)
  local o = t.account and { account = t.account } or {}
  plan:write(t.env, "cam", "SetDefaultPolicyVersion", { PolicyId = t.policy_id, VersionId = version },
             { account = o.account, note = ("%s: back to version %d (%s)"):format(t.name, version, why) })
end

---------------------------------------------------------------------------
-- Verification

-- Offline: the intents against doc, with tcrun's CAM evaluator.  Returns
-- the first intent that fails, or nil.
function M.verify_offline(t, doc)
  local entries = { { doc = doc, id = t.policy_id, name = t.name, via = "policy" } }
  for _, c in ipairs(t.intents.checks) do
    local allowed
    if c.list then
      allowed = ev.allows_any(entries, c.action, { owner_uin = t.owner, context = {} })
    else
      allowed = ev.evaluate(entries, review.could({ action = c.action, resource = c.resource,
        owner_uin = t.owner, uin = "1", context = { ["qcs:resource_tag"] = c.tags or {} } })) == "allow"
    end
    if allowed ~= c.can then return c, "offline" end
  end
  return nil
end

-- Live probes: a call per action that changes nothing whatever the
-- answer: on a resource id that does not exist (CAM checks authorization
-- before the service looks the resource up, so a refusal says "denied"
-- and any other error "allowed"), or a read.
M.PROBES = {
  ["lighthouse:DescribeInstances"] = { "lighthouse", "DescribeInstances", { Limit = 1 }, "ap-guangzhou" },
  ["tcb:DescribeEnvs"] = { "tcb", "DescribeEnvs", {}, "ap-shanghai" },
  ["cam:ListUsers"] = { "cam", "ListUsers", {} },
  ["cam:AttachUserPolicy"] = { "cam", "AttachUserPolicy", { PolicyId = 1, AttachUin = 1 } },
  ["tcb:ModifyEnv"] = { "tcb", "ModifyEnv", { EnvId = "tcrun-intent-probe", Alias = "probe" }, "ap-shanghai" },
  ["tcb:DestroyEnv"] = { "tcb", "DestroyEnv", { EnvId = "tcrun-intent-probe" }, "ap-shanghai" },
  ["lighthouse:StopInstances"] = { "lighthouse", "StopInstances", { InstanceIds = { "lhins-tcrunprb" } },
                                   "ap-guangzhou" },
  ["lighthouse:TerminateInstances"] = { "lighthouse", "TerminateInstances",
                                        { InstanceIds = { "lhins-tcrunprb" } }, "ap-guangzhou" },
}

local function denied(err)
  return api.is_code(err, "AuthFailure.UnauthorizedOperation") or api.is_code(err, "UnauthorizedOperation")
end

-- The intents a live probe can decide: untagged ones with a probe.
function M.live_checks(t)
  local out = {}
  if t.offline_only then return out end
  for _, c in ipairs(t.intents.checks) do
    if not c.tags and M.PROBES[c.action] then out[#out + 1] = c end
  end
  return out
end

-- One live probe under opts (a credential or an account): true when CAM
-- let the call past authorization.
local function probe(c, opts)
  local p = M.PROBES[c.action]
  local o = { retries = 1 }
  for k, v in pairs(opts) do o[k] = v end
  o.region = p[4]
  local ok, err = pcall(tc.call, p[1], p[2], p[3], o)
  if ok then return true end
  if denied(err) then return false end
  if api.is_code(err, "AuthFailure") then error(err, 0) end
  return true
end

-- Live: the intents a probe can decide, under opts, once CAM has had
-- time to apply the change (the caller waits).  A "can" gets two more
-- tries a second apart (a new key may lag); a "cannot" is asked once: a
-- retry until it holds would prove nothing.  The first that fails, or nil.
function M.verify_live(t, opts)
  for _, c in ipairs(M.live_checks(t)) do
    local got = probe(c, opts)
    for _ = 1, c.can and 2 or 0 do
      if got then break end
      tc.sleep(1)
      got = probe(c, opts)
    end
    if got ~= c.can then return c, "live" end
  end
  return nil
end

-- The latest version before the default that passes the lint and meets
-- today's intents offline (a version that once failed them is skipped),
-- or nil.
function M.previous_good(t)
  local o = t.account and { account = t.account } or nil
  for i = #t.versions, 1, -1 do
    local v = t.versions[i]
    if v.VersionId < t.default then
      local doc = tc.call("cam", "GetPolicyVersion", { PolicyId = t.policy_id, VersionId = v.VersionId },
                          o).PolicyVersion.Document
      if #lint.check(doc, { environment = t.env, admin = t.role == "admin" }) == 0
         and not M.verify_offline(t, doc) then
        return v.VersionId
      end
    end
  end
end

return M
