-- review.lua: the findings of permission_review.lua, from the accounts'
-- CAM pictures (iam.lua) joined with the roster (the truth of who should
-- have what).  Each finding: id (stable from run to run), kind, severity,
-- account ("hub (1000...)"), principal (sub-user, group or role), detail
-- (one line) and evidence (policy id and statement, key id, dates).
--
--   local f = review.findings(world, opts)
-- world: { accounts = { snap, ... } (hub first; iam.read's), hub = snap,
--          rows (the roster's), workspaces = { envs, instances } (by
--          owner tag), audit = { events } , spokes (accounts.lua's) }
-- opts: now, stale_days, rotation_days, service_users (set), home,
--       is_admin (principal -> whether its CAM changes are expected),
--       burst (denials that make a burst)
local tc = require "tc"
local api = require "tcrun.api"
local ev = require "tcrun.cam_eval"
local iam = require "tcrun.iam"
local json = require "tcrun.json"
local policy = require "tcrun.policy"
local rolegroups = require "tcrun.rolegroups"

local M = {}

M.SEVERITY = {
  ["full-access"] = "high", ["offboarded-with-access"] = "high", ["prod-write"] = "high",
  ["no-mfa"] = "high", ["expired-break-glass"] = "high", ["denied-burst"] = "high",
  ["outside-change"] = "high",
  ["orphan-user"] = "medium", ["role-drift"] = "medium", ["unmanaged-policy"] = "medium",
  ["unused-key"] = "medium", ["orphan-workspace"] = "medium", ["stale-login"] = "medium",
  ["missing-user"] = "low", ["old-key"] = "low",
}
M.KINDS = {}
for k in pairs(M.SEVERITY) do M.KINDS[#M.KINDS + 1] = k end
table.sort(M.KINDS)
local RANK = { high = 1, medium = 2, low = 3 }

local function label(snap) return ("%s (%s)"):format(snap.name, snap.uin) end

-- A list for the evidence: a JSON array even when empty.
local function arr(t) return json.array(t or {}) end

-- A short digest of facts (FNV-1a, 32 bits, hex): part of the id of a
-- finding whose facts can grow.
local function digest(...)
  local h = 2166136261
  for _, part in ipairs({ ... }) do
    local s = type(part) == "table" and table.concat(part, ",") or tostring(part)
    for i = 1, #s do h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff end
    h = ((h ~ 59) * 16777619) & 0xffffffff
  end
  return ("%08x"):format(h)
end

-- Actions a prod write is probed with, on a resource of prod (tagged
-- environment=prod), one per service the role templates touch.
M.PROD_WRITES = {
  { "tcb:ModifyEnv", "tcb", "env" }, { "tcb:DestroyEnv", "tcb", "env" },
  { "lighthouse:StopInstances", "lighthouse", "instance" },
  { "lighthouse:TerminateInstances", "lighthouse", "instance" },
  { "tat:RunCommand", "tat", "command" }, { "cvm:TerminateInstances", "cvm", "instance" },
  { "cam:AttachUserPolicy", "cam", "uin" },
}

-- The action a statement grants wholesale, when it allows everything
-- ("*": then cam:AttachUserPolicy stands for it) or all of one service
-- ("svc:*": svc:TcrunReviewProbe) on every resource, and no condition on
-- the resources' tags narrows it (a condition on the time or the caller's
-- IP does not make an administrator less of one); else nil.
local function broad(stmt)
  if stmt.effect ~= "allow" then return nil end
  for op, keys in pairs(stmt.condition or {}) do
    if type(keys) == "table" and keys["qcs:resource_tag"] then return nil end
  end
  local any_res = false
  for _, r in ipairs(stmt.resource or {}) do if r == "*" then any_res = true end end
  if not any_res then return nil end
  for _, a in ipairs(stmt.action or {}) do
    local bare = a:gsub("^name/", "")
    if bare == "*" then return "cam:AttachUserPolicy" end
    local svc = bare:match("^([%w_-]+):%*$")
    if svc then return svc .. ":TcrunReviewProbe" end
  end
  return nil
end

-- A request that asks "could this ever be allowed?": now, the resource's
-- tags as given (none: it has none), and anything the review cannot know
-- (the caller's IP, say) taken as possibly matching.
local KNOWN = { ["qcs:resource_tag"] = true, ["qcs:request_tag"] = true, ["qcs:current_time"] = true }

local function could(request, now)
  request.possible, request.known = true, KNOWN
  request.context = request.context or {}
  request.context["qcs:current_time"] = os.date("!%Y-%m-%dT%H:%M:%SZ", now or os.time())
  return request
end
M.could = could

-- The end of a time-boxed grant: when every allow statement of the
-- policy ends by a date condition on qcs:current_time, the latest end;
-- else nil.
local function grant_end(doc)
  local last
  for _, s in ipairs(doc.statement or {}) do
    if s.effect == "allow" then
      local ends
      for op, keys in pairs(s.condition or {}) do
        local bare = op:gsub("^for_%w+_value:", ""):gsub("_if_exist$", "")
        if bare == "date_less_than" or bare == "date_less_than_equal" then
          local v = keys["qcs:current_time"]
          v = type(v) == "table" and v[1] or v
          ends = iam.parse_time(v)
        end
      end
      if not ends then return nil end
      last = math.max(last or ends, ends)
    end
  end
  return last
end
M.grant_end = grant_end

-- The parsed documents of entries (iam.user_policies), for cam_eval.
local function eval_list(entries)
  local out = {}
  for _, e in ipairs(entries) do
    local p = e.policy
    local doc = p and ev.parse(p.doc or p.text)
    if doc then out[#out + 1] = { doc = doc, id = e.id, name = p.PolicyName, via = e.via } end
  end
  return out
end
M.eval_list = eval_list

-- The entries (for eval_list) of the policies ids of snap, all via via.
function M.entries(snap, ids, via)
  local out = {}
  for _, id in ipairs(ids) do out[#out + 1] = { id = id, policy = snap.policies[id], via = via } end
  return out
end

-- The roles user u (in the hub) may assume in spoke, with their policies:
-- the hub's policies allow sts:AssumeRole on the role and its trust
-- admits the hub.  { role, why } each.
local function assumable(hub, u, spoke)
  local mine = eval_list(iam.user_policies(hub, u))
  local out = {}
  for name, role in pairs(spoke.roles) do
    local arn = ("qcs::cam::uin/%s:roleName/%s"):format(spoke.uin, name)
    local decision, why = ev.evaluate(mine, could({ action = "sts:AssumeRole", resource = arn,
                                                    owner_uin = hub.uin, uin = tostring(u.Uin) }, hub.now))
    local trusted = false
    for _, s in ipairs(role.trust and role.trust.statement or {}) do
      local q = type(s.principal) == "table" and s.principal.qcs or {}
      for _, p in ipairs(type(q) == "table" and q or { q }) do
        if p == ("qcs::cam::uin/%s:root"):format(hub.uin)
           or p == ("qcs::cam::uin/%s:uin/%s"):format(hub.uin, tostring(u.Uin)) then
          trusted = s.effect == "allow" or trusted
        end
      end
    end
    if decision == "allow" and trusted then out[#out + 1] = { role = role, why = why } end
  end
  table.sort(out, function(a, b) return a.role.RoleName < b.role.RoleName end)
  return out
end
M.assumable = assumable

-- What the roster gives each username: { e (employee), groups (set) }.
local function expected(rows)
  local out = {}
  for _, row in ipairs(rows) do
    local e, groups = row.employee, {}
    for _, base in ipairs(rolegroups.wanted(e)) do groups[base] = true end
    out[e.username] = { e = e, groups = groups, unit = row.unit }
  end
  return out
end

local sorted = api.sorted_keys

-- The role group shards u is in, sorted.
local function role_groups_of(u)
  local out = {}
  for _, g in ipairs(u.groups) do
    if rolegroups.parse(g) then out[#out + 1] = g end
  end
  table.sort(out)
  return out
end

function M.findings(world, opts)
  local out = {}
  local now = opts.now
  local stale = opts.stale_days * 86400
  -- key: what tells this finding from others of its kind and principal;
  -- for findings whose facts may grow (the actions of a burst, the groups
  -- left), a digest of those facts, so that an acceptance covers exactly
  -- what was accepted and a new fact is a new finding.
  local function add(kind, snap, principal, detail, evidence, key)
    local id = ("%s/%s/%s%s"):format(kind, snap.uin, principal, key and ("/" .. key) or "")
    out[#out + 1] = { id = id, kind = kind, severity = M.SEVERITY[kind], account = label(snap),
                      principal = principal, detail = detail, evidence = evidence or {} }
  end
  local want = expected(world.rows)
  local hub = world.hub

  for _, snap in ipairs(world.accounts) do
    local is_hub = snap == hub
    for _, name in ipairs(snap.order) do
      local u = snap.users[name]
      local person = want[name]
      local entries = iam.user_policies(snap, u)
      local evaluable = eval_list(entries)
      local active = {}
      for _, k in ipairs(u.keys) do if k.Status == "Active" then active[#active + 1] = k.AccessKeyId end end

      if not person and not opts.service_users[name] and not name:find("^tcrun%-probe%-") then
        add("orphan-user", snap, name, ("sub-user %s is not on the roster%s"):format(name,
            is_hub and "" or " (people belong in the hub)"),
            { uin = tostring(u.Uin), created = u.CreateTime, console_login = u.ConsoleLogin,
              groups = arr(u.groups), active_keys = arr(active) })
      end

      -- Offboarded: console login off, yet some access left.
      if u.ConsoleLogin == 0 then
        local left = {}
        if #u.groups > 0 then left[#left + 1] = "groups " .. table.concat(u.groups, ", ") end
        local pnames = {}
        for _, id in ipairs(u.policies) do
          pnames[#pnames + 1] = snap.policies[id] and snap.policies[id].PolicyName or tostring(id)
        end
        table.sort(pnames)
        if #pnames > 0 then left[#left + 1] = "policies " .. table.concat(pnames, ", ") end
        if #active > 0 then left[#left + 1] = "active keys " .. table.concat(active, ", ") end
        if #left > 0 then
          add("offboarded-with-access", snap, name,
              ("%s has console login off but still has %s"):format(name, table.concat(left, "; ")),
              { uin = tostring(u.Uin), groups = arr(u.groups), policies = arr(pnames),
                active_keys = arr(active) }, digest(u.groups, pnames, active))
        end
      end

      -- Role groups against the roster: one shard of each role group the
      -- roster gives (rolegroups.lua), and no other role group.
      if person and is_hub then
        local have, extra, missing, shards = {}, {}, {}, {}
        for _, g in ipairs(u.groups) do
          local grp = snap.groups[g]
          local base, _, _, n = rolegroups.parse(g, grp and grp.Remark or "")
          if base then shards[#shards + 1] = { g = g, base = base, n = n } end
        end
        -- The lowest shard of a role group is the one kept (as onboarding
        -- keeps it); any other is extra.
        table.sort(shards, function(a, b) return a.base < b.base or (a.base == b.base and a.n < b.n) end)
        for _, s in ipairs(shards) do
          if have[s.base] or not person.groups[s.base] then
            extra[#extra + 1] = s.g
          else
            have[s.base] = s.g
          end
        end
        for g in pairs(person.groups) do if not have[g] then missing[#missing + 1] = g end end
        table.sort(extra)
        table.sort(missing)
        if #extra + #missing > 0 then
          add("role-drift", snap, name,
              ("%s is in %s; the roster (%s in %s) gives %s"):format(name,
                (next(have) or #extra > 0) and table.concat(role_groups_of(u), ", ")
                  or "no role group",
                person.e.role, table.concat(person.e.environments, ";"),
                table.concat(sorted(person.groups), ", ")),
              { extra = arr(extra), missing = arr(missing) }, digest(extra, missing))
        end
      end

      -- Policies: broad ones, time-boxed ones past their end, custom
      -- ones tcrun did not render.
      for _, e in ipairs(entries) do
        local p = e.policy
        local pname = p and p.PolicyName or tostring(e.id)
        if p and p.type == "preset" and (pname == "AdministratorAccess"
                                         or pname:find("^Qcloud.*FullAccess$")) then
          add("full-access", snap, name, ("%s has %s (%s)"):format(name, pname, e.via),
              { policy_id = e.id, policy = pname, via = e.via }, tostring(e.id))
        elseif p and type(p.doc) == "table" then
          for i, s in ipairs(p.doc.statement or {}) do
            local probe = broad(s)
            -- Wholesale, and not undone by a deny elsewhere.
            if probe and ev.evaluate(evaluable, could({ action = probe, resource = "*",
                                     owner_uin = snap.uin, uin = tostring(u.Uin) }, now)) == "allow" then
              add("full-access", snap, name,
                  ("%s: statement %d of %s allows %s on *%s (%s)"):format(name, i, pname,
                    table.concat(s.action, ","), s.condition and ", under a condition" or "", e.via),
                  { policy_id = e.id, policy = pname, statement = i, via = e.via,
                    condition = s.condition and json.encode(s.condition) or nil }, e.id .. "/" .. i)
            end
          end
          local ends = grant_end(p.doc)
          if ends and ends < now then
            add("expired-break-glass", snap, name,
                ("%s still has %s, a grant that ended %s (%s)"):format(name, pname,
                  os.date("!%Y-%m-%dT%H:%M:%SZ", ends), e.via),
                { policy_id = e.id, policy = pname, ended = os.date("!%Y-%m-%dT%H:%M:%SZ", ends),
                  via = e.via }, tostring(e.id))
          end
        end
        if p and p.type == "custom" and e.via == "user" then
          local ok = opts.rendered_user and opts.rendered_user(snap, u, p)
          if not ok then
            add("unmanaged-policy", snap, name,
                ("%s has the custom policy %s, which tcrun did not render%s"):format(name, pname,
                  pname == "tcrun-ws-" .. name and " as it is (its default version differs from "
                  .. "today's render of policies/workspace.json)" or ""),
                { policy_id = e.id, policy = pname }, tostring(e.id))
          end
        end
      end

      -- Prod write rights for a viewer or developer.
      if person and is_hub and (person.e.role == "viewer" or person.e.role == "developer") then
        local hits = M.prod_writes(world, snap, u)
        if #hits > 0 then
          local actions = {}
          for _, h in ipairs(hits) do actions[#actions + 1] = h.action end
          add("prod-write", snap, name,
              ("%s (roster: %s) can %s in prod (%s)"):format(name, person.e.role, hits[1].action,
                hits[1].via),
              { actions = arr(actions), policy = hits[1].policy, statement = hits[1].statement,
                via = hits[1].via }, digest(actions, hits[1].via))
        end
      end

      -- MFA for admins and prod operators with console login.
      if u.mfa == false and u.ConsoleLogin == 1 then
        add("no-mfa", snap, name, ("%s (%s) logs in to the console without MFA"):format(name,
            u.mfa_why or (person and (person.e.role .. " in " .. table.concat(person.e.environments, ";")))
            or "?"), { uin = tostring(u.Uin) })
      end

      -- Logins and keys.
      if u.ConsoleLogin == 1 then
        local last = u.last_login or u.created
        if last and now - last > stale then
          add("stale-login", snap, name, ("%s has not logged in since %s"):format(name,
              u.last_login and u.RecentlyLoginTime or ("creation, " .. tostring(u.CreateTime))),
              { last_login = u.RecentlyLoginTime or "never", created = u.CreateTime })
        end
      end
      for _, k in ipairs(u.keys) do
        if k.Status == "Active" then
          local age = k.created and now - k.created
          if age and age > stale and (not k.last_used or now - k.last_used > stale) then
            add("unused-key", snap, name, ("key %s of %s unused since %s"):format(k.AccessKeyId, name,
                k.last_used and k.LastUsedDate or ("its creation, " .. tostring(k.CreateTime))),
                { key = k.AccessKeyId, created = k.CreateTime, last_used = k.LastUsedDate or "never" },
                k.AccessKeyId)
          end
          if age and age > opts.rotation_days * 86400 then
            add("old-key", snap, name, ("key %s of %s is %d days old"):format(k.AccessKeyId, name,
                age // 86400), { key = k.AccessKeyId, created = k.CreateTime }, k.AccessKeyId)
          end
        end
      end
    end

    -- Group policies tcrun did not render.
    for gname, g in pairs(snap.groups) do
      for _, id in ipairs(g.policies) do
        local p = snap.policies[id]
        if p and p.type == "custom" and not (opts.rendered_group and opts.rendered_group(snap, gname, p)) then
          add("unmanaged-policy", snap, "group " .. gname,
              ("group %s has the custom policy %s, which tcrun did not render as it is"):format(gname,
                p.PolicyName), { policy_id = id, policy = p.PolicyName, members = arr(g.members) },
              tostring(id))
        end
      end
    end
  end

  -- On the roster, no sub-user.
  for _, row in ipairs(world.rows) do
    local e = row.employee
    if not hub.users[e.username] then
      add("missing-user", hub, e.username, ("%s is on the roster (line %d) but has no sub-user")
          :format(e.username, row.line), { line = row.line })
    end
  end

  -- Workspaces of people not on the roster, but for those offboarding
  -- keeps on purpose until their retain-until date.
  local today = os.date("!%Y-%m-%d", now)
  for _, ws in ipairs(world.workspaces or {}) do
    local kept = ws.offboarded and ws.retain_until and ws.retain_until:find("^%d%d%d%d%-%d%d%-%d%d$")
                 and ws.retain_until >= today
    if not want[ws.owner] and not kept then
      add("orphan-workspace", hub, ws.owner or ("uin " .. tostring(ws.owner_uin)),
          ("%s %s (%s) belongs to %s, who is not on the roster%s"):format(ws.kind, ws.id, ws.region,
            ws.owner or ("uin " .. tostring(ws.owner_uin)),
            ws.retain_until and (", and was to be kept only until " .. ws.retain_until) or ""),
          { resource = ws.id, region = ws.region, owner_uin = ws.owner_uin }, ws.id)
    end
  end

  -- CloudAudit: bursts of denials, and CAM changes by others.
  for _, a in ipairs(world.audit or {}) do
    local snap = a.snap
    for who, list in pairs(a.denied) do
      -- The rollout's probes are refused on purpose.
      if #list >= opts.burst and not who:find("^tcrun%-probe%-") then
        add("denied-burst", snap, who, ("%s was refused %d times in %d day(s) (%s)"):format(who, #list,
            opts.since_days, table.concat(list.actions, ", ")), { count = #list, first = list[1].time,
            last = list[#list].time, actions = arr(list.actions) }, digest(list.actions))
      end
    end
    for who, list in pairs(a.cam_writes) do
      if not opts.is_admin(who) then
        add("outside-change", snap, who, ("%s made %d CAM change(s) (%s), and is not one of the "
            .. "administrators"):format(who, #list, table.concat(list.actions, ", ")),
            { count = #list, first = list[1].time, last = list[#list].time, actions = arr(list.actions) },
            digest(list.actions))
      end
    end
  end

  table.sort(out, function(a, b)
    if RANK[a.severity] ~= RANK[b.severity] then return RANK[a.severity] < RANK[b.severity] end
    if a.kind ~= b.kind then return a.kind < b.kind end
    return a.id < b.id
  end)
  -- Ids are unique: a second finding of the same id is dropped.
  local seen, uniq = {}, {}
  for _, f in ipairs(out) do
    if not seen[f.id] then seen[f.id] = true; uniq[#uniq + 1] = f end
  end
  return uniq
end

-- The prod write probes user u (of hub snap) passes, directly or through
-- a role it may assume in prod's account: { action, policy, statement,
-- via } each.
function M.prod_writes(world, snap, u)
  local hits = {}
  local function probe(policies, owner, via_prefix)
    for _, w in ipairs(M.PROD_WRITES) do
      local res = ("qcs::%s:ap-guangzhou:uin/%s:%s/tcrun-probe"):format(w[2], owner, w[3])
      local decision, why = ev.evaluate(policies, could({ action = w[1], resource = res, owner_uin = owner,
        uin = tostring(u.Uin), context = { ["qcs:resource_tag"] = { "environment&prod" } } }, world.now))
      if decision == "allow" then
        hits[#hits + 1] = { action = w[1], policy = why.policy.name, statement = why.statement,
                            via = via_prefix .. why.policy.via }
      end
    end
  end
  local prod = world.spokes and world.spokes.prod
  if prod then
    for _, a in ipairs(assumable(snap, u, prod)) do
      probe(eval_list(M.entries(prod, a.role.policies, "role " .. a.role.RoleName)), prod.uin,
            "prod account, ")
    end
  else
    probe(eval_list(iam.user_policies(snap, u)), snap.uin, "")
  end
  return hits
end

-- Splits findings by the acceptances (id -> { owner, ticket, expires,
-- until (unix) }): active ones, and accepted ones with their acceptance.
-- An expired acceptance no longer holds: the finding is active, and says
-- so in its evidence.
function M.apply_accepted(findings, accepted, now)
  local active, held = {}, {}
  for _, f in ipairs(findings) do
    local a = accepted[f.id]
    if a and a["until"] >= now then
      f.acceptance = { owner = a.owner, ticket = a.ticket, expires = a.expires }
      held[#held + 1] = f
    else
      if a then
        f.evidence.acceptance_expired = a.expires .. " (" .. a.ticket .. ")"
        f.detail = ("%s (its acceptance, %s, expired %s)"):format(f.detail, a.ticket, a.expires)
      end
      active[#active + 1] = f
    end
  end
  return active, held
end

-- Counts by severity, kind and account.
function M.summary(active, held)
  local s = { total = #active, accepted = #held, by_severity = {}, by_kind = {}, by_account = {} }
  for _, f in ipairs(active) do
    s.by_severity[f.severity] = (s.by_severity[f.severity] or 0) + 1
    s.by_kind[f.kind] = (s.by_kind[f.kind] or 0) + 1
    s.by_account[f.account] = (s.by_account[f.account] or 0) + 1
  end
  return s
end

return M
