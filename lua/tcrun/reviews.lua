-- reviews.lua: the steps of permission_review.lua: its options, reading
-- every account (iam.lua, CloudAudit, workspaces), judging (review.lua),
-- acceptances, the three outputs and the safe fixes.
local tc = require "tc"
local api = require "tcrun.api"
local csv = require "tcrun.csv"
local iam = require "tcrun.iam"
local json = require "tcrun.json"
local policy = require "tcrun.policy"
local review = require "tcrun.review"
local rolegroups = require "tcrun.rolegroups"
local roster = require "tcrun.roster"

local M = {}

function M.options(run)
  local o, d = run.opts, run.units.defaults
  local set = function(list)
    local s = {}
    for _, x in ipairs(list) do s[x] = true end
    return s
  end
  local opts = { now = run.now, since_days = o.since or 1, stale_days = o["stale-days"] or 90,
                 rotation_days = o["rotation-days"] or 180, burst = o.burst or 10,
                 service_users = set(d.service_users), administrators = set(d.administrators),
                 home = tc.home }
  if opts.since_days < 1 or opts.stale_days < 1 or opts.rotation_days < 1 or opts.burst < 1 then
    tc.config_error("permission review: --since, --stale-days, --rotation-days and --burst "
                    .. "must be at least 1")
  end
  opts.accepted = o.accept and M.read_accepted(o.accept, run.now) or {}
  -- tcrun's own: the probe identities of policy_rollout.lua
  -- (tcrun-probe-<role>) are not orphans (review.lua).
  -- tcrun's own sessions in the spokes ("<role>/<session>") make CAM
  -- changes there as setup_accounts.lua's: expected too.
  local own = run.accounts and (run.accounts.cfg.role .. "/")
  opts.is_admin = function(who)
    return opts.administrators[who] or (own ~= nil and who:sub(1, #own) == own)
  end
  return opts
end

-- The acceptances of FILE: id -> { owner, ticket, expires, until }.
-- Every row needs all four; a problem stops the run (exit 2), naming its
-- line.
function M.read_accepted(path, now)
  local r, err = csv.open(path)
  if not r then tc.config_error("--accept: " .. err) end
  local out, problems = {}, {}
  for row, line in r:rows() do
    local function bad(why) problems[#problems + 1] = ("%s:%d: %s"):format(path, line, why) end
    local missing = {}
    for _, k in ipairs({ "id", "owner", "ticket", "expires" }) do
      if not row[k] or row[k]:match("^%s*$") then missing[#missing + 1] = k end
    end
    local at = not (#missing > 0) and row.expires:find("^%d%d%d%d%-%d%d%-%d%d$")
               and iam.parse_time(row.expires .. "T00:00:00Z")
    if #missing > 0 then
      bad("an acceptance needs " .. table.concat(missing, ", "))
    elseif not at or os.date("!%Y-%m-%d", at) ~= row.expires then
      bad(("expires %q is not a date YYYY-MM-DD"):format(row.expires))
    elseif out[row.id] then
      bad("finding " .. row.id .. " is accepted twice")
    else
      -- Accepted through the whole of its expiry day (UTC).
      out[row.id] = { owner = row.owner, ticket = row.ticket, expires = row.expires, line = line,
                      ["until"] = iam.parse_time(row.expires .. "T23:59:59Z") }
      if at > now + 366 * 86400 then
        tc.warn(("%s:%d: %s is accepted until %s, more than a year away"):format(path, line,
                                                                                row.id, row.expires))
      end
    end
  end
  r:close()
  if #problems > 0 then tc.config_error(table.concat(problems, "; ")) end
  return out
end

-- tcrun's workspaces: CloudBase environments and Lighthouse servers, in
-- every region a unit uses, with their owners.
local WORKSPACE_KINDS = {
  { "CloudBase environment", "env_region", api.managed_envs, "EnvId" },
  { "Lighthouse server", "server_region", api.managed_instances, "InstanceId" },
}

-- CloudAudit of one account over the window: who was refused (ApiErrorCode
-- AuthFailure.UnauthorizedOperation) and who made CAM writes, by
-- principal (the event's Username: a sub-user's name, or "root").
local function lookup(o, start, stop, attribute, value, fn)
  local token
  repeat
    local r = tc.call("cloudaudit", "LookUpEvents", { StartTime = start, EndTime = stop, MaxResults = 50,
      NextToken = token, LookupAttributes = { { AttributeKey = attribute, AttributeValue = value } } }, o)
    for _, e in ipairs(r.Events or {}) do fn(e, json.decode(e.CloudAuditEvent or "") or {}) end
    token = r.NextToken
  until r.ListOver or not token or token == ""
end

local function who(e, detail)
  if e.Username and e.Username ~= "" then return e.Username end
  local id = type(detail.userIdentity) == "table" and detail.userIdentity.principalId
  return id and ("uin " .. tostring(id)) or "?"
end

local function audit(snap, acct, opts)
  local o = { account = acct }
  local start, stop = opts.now - opts.since_days * 86400, opts.now + 60
  local denied, writes = {}, {}
  local function add(t, name, e)
    t[name] = t[name] or { actions = {}, seen = {} }
    local l = t[name]
    local when = tonumber(e.EventTime)
    l[#l + 1] = { time = when and os.date("!%Y-%m-%dT%H:%M:%SZ", when) or tostring(e.EventTime),
                  action = e.EventName }
    if not l.seen[e.EventName] then l.seen[e.EventName] = true; l.actions[#l.actions + 1] = e.EventName end
  end
  lookup(o, start, stop, "ApiErrorCode", "AuthFailure.UnauthorizedOperation", function(e, d)
    add(denied, who(e, d), e)
  end)
  lookup(o, start, stop, "ActionType", "Write", function(e, d)
    if (e.EventSource or ""):find("^cam") and (e.ErrorCode or 0) == 0 then add(writes, who(e, d), e) end
  end)
  for _, t in ipairs({ denied, writes }) do
    for _, l in pairs(t) do
      l.seen = nil
      table.sort(l, function(a, b) return a.time < b.time end)
      table.sort(l.actions)
    end
  end
  return { snap = snap, denied = denied, cam_writes = writes }
end

-- Reads everything: the hub (the run's own account) and, with
-- accounts.lua, every spoke; workspaces; CloudAudit.
function M.read_world(run, opts)
  local want = {}
  for _, row in ipairs(run.rows) do want[row.employee.username] = row.employee end
  -- MFA is read only where it is required: admins and operators in prod,
  -- by the roster or by the groups they are really in.
  local function mfa(u)
    for _, g in ipairs(u.groups) do
      local base, env, role = rolegroups.parse(g)
      if base and (role == "admin" or (env == "prod" and role == "operator")) then
        u.mfa_why = "in group " .. g
        return true
      end
    end
    return want[u.Name] ~= nil and roster.needs_mfa(want[u.Name])
  end
  local world = { rows = run.rows, accounts = {}, audit = {}, workspaces = {}, now = opts.now }
  local hub_uin = run.accounts and run.accounts.cfg.hub or api.owner_uin()
  tc.log("permission review: reading account " .. hub_uin)
  world.hub = iam.read({ name = run.accounts and "hub" or "account", uin = hub_uin, mfa = mfa })
  world.accounts[1] = world.hub
  world.audit[1] = audit(world.hub, nil, opts)
  if run.accounts then
    world.spokes = {}
    for _, s in ipairs(run.accounts.order) do
      tc.log(("permission review: reading %s, account %s"):format(s.env, s.uin))
      local snap = iam.read({ name = s.env, uin = s.uin, account = s.account })
      world.spokes[s.env] = snap
      world.accounts[#world.accounts + 1] = snap
      world.audit[#world.audit + 1] = audit(snap, s.account, opts)
    end
  end
  for _, k in ipairs(WORKSPACE_KINDS) do
    local kind, key, read, id = table.unpack(k)
    for _, r in ipairs(run.units:regions(key)) do
      for uin, list in pairs(read(r)) do
        for _, x in ipairs(list) do
          local tags = api.tag_map(x.Tags)
          world.workspaces[#world.workspaces + 1] = { kind = kind, id = x[id], region = r,
            owner = tags.owner, owner_uin = uin, retain_until = tags["retain-until"],
            offboarded = tags.offboarded }
        end
      end
    end
  end
  table.sort(world.workspaces, function(a, b) return a.id < b.id end)
  return world
end

-- Whether policy p on user u is the workspace policy tcrun renders today.
local function rendered_user(world, opts)
  local ws = {}
  for _, w in ipairs(world.workspaces) do
    ws[tostring(w.owner_uin)] = ws[tostring(w.owner_uin)] or {}
    ws[tostring(w.owner_uin)][w.kind] = w
  end
  return function(snap, u, p)
    if p.PolicyName ~= "tcrun-ws-" .. u.Name or snap ~= world.hub then return false end
    local mine = ws[tostring(u.Uin)] or {}
    local env, server = mine["CloudBase environment"], mine["Lighthouse server"]
    if not env or not server then return false end
    local doc = policy.render(policy.path("workspace.json"), {
      owner_uin = snap.uin, env_region = env.region, env_id = env.id,
      server_region = server.region, instance_id = server.id })
    return doc and policy.same(p.text, doc)
  end
end

-- Whether policy p on group gname is the role policy tcrun renders today:
-- every shard of a role group carries the role group's (rolegroups.lua).
local function rendered_group(run, opts)
  return function(snap, gname, p)
    local g = snap.groups[gname]
    local base, env, role = rolegroups.parse(gname, g and g.Remark or "")
    if not base or p.PolicyName ~= "tcrun-" .. base then return false end
    local doc
    if run.accounts then
      local s = run.accounts.spokes[env]
      doc = s and policy.render(policy.path("assume-role.json"), { account_uin = s.uin, role = role })
    else
      doc = policy.render(policy.path("role-" .. role .. ".json"), { environment = env })
    end
    return doc and policy.same(p.text, doc)
  end
end

function M.judge(run, world, opts)
  opts.rendered_user = rendered_user(world, opts)
  opts.rendered_group = rendered_group(run, opts)
  local findings = review.findings(world, opts)
  local seen = {}
  for _, f in ipairs(findings) do seen[f.id] = true end
  for id, a in pairs(opts.accepted) do
    if not seen[id] then
      tc.warn(("%s:%d: %s matches no finding of this review (gone, or its facts changed)")
              :format(run.opts.accept, a.line, id))
    end
  end
  return review.apply_accepted(findings, opts.accepted, opts.now)
end

-- Writes path (mode 0600, like everything in an output folder) through a
-- temporary file and a rename: a reader never sees half a file.
local function write_file(path, text)
  local ok, err = tc.write_file(path, text)
  if not ok then error("cannot write " .. err, 0) end
end

M.COLUMNS = { "status", "severity", "kind", "account", "principal", "detail", "evidence", "id",
              "owner", "ticket", "expires" }

function M.document(run, world, active, held)
  local accounts = {}
  for _, a in ipairs(world.accounts) do accounts[#accounts + 1] = { name = a.name, uin = a.uin } end
  return { generated = os.date("!%Y-%m-%dT%H:%M:%SZ", run.now), tool = "tcrun " .. tc.version,
           roster = run.roster, accounts = json.array(accounts), window_days = run.opts.since or 1,
           summary = review.summary(active, held), findings = json.array(active),
           accepted = json.array(held) }
end

function M.write(run, world, opts, active, held)
  -- The review writes its reports under --dry-run too: it reads only.
  local doc = M.document(run, world, active, held)
  local out = run.opts.out
  local ok, err0 = tc.mkdir(out)
  if not ok then tc.config_error("--out: " .. err0) end
  write_file(out .. "/review.json", json.encode(doc) .. "\n")
  local w, err = csv.create(out .. "/review.csv.tmp", M.COLUMNS, { mode = "0600" })
  if not w then error(err, 0) end
  for status, list in pairs({ active = active, accepted = held }) do
    for _, f in ipairs(list) do
      local a = f.acceptance or {}
      assert(w:write({ status = f.fixed and "fixed" or status, severity = f.severity, kind = f.kind, account = f.account,
                       principal = tc.printable(f.principal), detail = tc.printable(f.detail),
                       evidence = json.encode(f.evidence), id = f.id, owner = a.owner,
                       ticket = a.ticket, expires = a.expires }))
    end
  end
  assert(w:close())
  assert(os.rename(out .. "/review.csv.tmp", out .. "/review.csv"))
  local html = require("tcrun.review_html").render(doc)
  write_file(out .. "/review.html", html)
end

-- The safe remediations of the active findings, through the plan; each
-- finding remedied (not under a dry run) is marked fixed = true.
function M.fix(run, world, active)
  local by_label = {}
  for _, a in ipairs(world.accounts) do by_label[("%s (%s)"):format(a.name, a.uin)] = a end
  local spoke_account = {}
  if run.accounts then
    for _, s in ipairs(run.accounts.order) do spoke_account[s.uin] = s.account end
  end
  for _, f in ipairs(active) do
    local snap = by_label[f.account]
    local o = { account = spoke_account[snap.uin] }
    local u = snap.users[f.principal]
    local acted = true
    if f.kind == "unused-key" and u then
      run.plan:write(f.principal, "cam", "UpdateAccessKey",
        { AccessKeyId = f.evidence.key, Status = "Inactive", TargetUin = u.Uin },
        { account = o.account, note = "finding " .. f.id })
    elseif f.kind == "orphan-user" and u then
      -- Console and API access off; the user and its keys are kept.
      if u.ConsoleLogin == 1 then
        run.plan:write(f.principal, "cam", "UpdateUser", { Name = f.principal, ConsoleLogin = 0 },
                       { account = o.account, note = "finding " .. f.id })
      end
      for _, k in ipairs(u.keys) do
        if k.Status == "Active" then
          run.plan:write(f.principal, "cam", "UpdateAccessKey",
            { AccessKeyId = k.AccessKeyId, Status = "Inactive", TargetUin = u.Uin },
            { account = o.account, note = "finding " .. f.id })
        end
      end
    elseif f.kind == "expired-break-glass" and u then
      local via = f.evidence.via or "user"
      local group = via:match("^group (.+)$")
      if group then
        run.plan:write(f.principal, "cam", "DetachGroupPolicy",
          { PolicyId = f.evidence.policy_id, DetachGroupId = snap.groups[group].GroupId },
          { account = o.account, note = "expired grant " .. f.evidence.policy .. " off group " .. group })
      else
        run.plan:write(f.principal, "cam", "DetachUserPolicy",
          { PolicyId = f.evidence.policy_id, DetachUin = u.Uin },
          { account = o.account, note = "expired grant " .. f.evidence.policy })
      end
    else
      acted = false
    end
    if acted and not run.plan.dry_run then f.fixed = true end
  end
end

-- A review that could not read everything: a setup problem (exit 2)
-- stays one; otherwise one line and exit 3, and the previous review in
-- --out is renamed *.previous so that nobody takes it for tonight's.
function M.failed(run, err)
  if type(err) == "table" and (err.code == "ClientError.Config" or err.code == "ClientError.WrongAccount"
                               or tostring(err.code):find("^AuthFailure")) then
    error(err, 0)
  end
  local moved = {}
  for _, name in ipairs({ "review.json", "review.csv", "review.html" }) do
    local path = run.opts.out .. "/" .. name
    if os.rename(path, path .. ".previous") then moved[#moved + 1] = name end
  end
  if type(err) == "table" then err.where = "" end
  io.stderr:write(("tcrun: permission review: a read failed, so there is no review: %s%s\n")
                  :format(tc.printable(tostring(err)), #moved > 0 and
                          ("; the last review is now " .. table.concat(moved, ", ") .. " .previous") or ""))
  return 3
end

-- The screen summary and the exit status: 0 no active finding, 1 some.
function M.finish(run, active, held)
  if run.plan.dry_run and run.opts.fix then run.plan:print() end
  if #active == 0 and tc.quiet then return 0 end
  local s = review.summary(active, held)
  io.stdout:write(("permission review: %d finding(s) (%d high, %d medium, %d low), %d accepted\n")
                  :format(s.total, s.by_severity.high or 0, s.by_severity.medium or 0,
                          s.by_severity.low or 0, s.accepted))
  for _, f in ipairs(active) do
    io.stdout:write(("  %-6s %-22s %s\n"):format(f.severity, f.kind, tc.printable(f.detail)))
  end
  io.stdout:write(("report: %s/review.html\n"):format(run.opts.out))
  return #active == 0 and 0 or 1
end

return M
