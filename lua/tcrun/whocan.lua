-- whocan.lua: "who can do ACTION on RESOURCE", offline, from the accounts'
-- CAM pictures (iam.lua) and the CAM evaluator (cam_eval.lua): every
-- principal whose policies allow it, and through what.
--   users of the resource's account (their own and their groups' policies),
--   its roles (what a session of each may do), and, when the resource is
--   in an environment's account, the hub's users who may assume one of
--   those roles.
local ev = require "tcrun.cam_eval"
local iam = require "tcrun.iam"
local review = require "tcrun.review"

local M = {}

-- The UIN a six-segment resource names ("qcs::cam::uin/123:..."), or nil.
function M.resource_account(resource)
  return resource:match("^qcs:[^:]*:[^:]*:[^:]*:uin/(%d+):")
end

local function entries_of(snap, ids, via)
  return review.eval_list(review.entries(snap, ids, via))
end

local function user_entries(snap, u)
  return review.eval_list(iam.user_policies(snap, u))
end

-- Every principal allowed: { account, principal, kind ("user", "role",
-- "user through role"), via, policy, statement } sorted by principal.
-- world: hub and spokes (env -> snap) as permission_review reads them.
function M.answer(world, action, resource, context)
  local owner = M.resource_account(resource)
  local target = world.hub
  for _, s in pairs(world.spokes or {}) do
    if s.uin == owner then target = s end
  end
  local out = {}
  local function ask(snap, principal, kind, entries, prefix)
    local ctx = {}
    for k, v in pairs(context or {}) do ctx[k] = v end
    local decision, why = ev.evaluate(entries, review.could({ action = action, resource = resource,
      owner_uin = snap.uin, uin = principal.uin, context = ctx }))
    if decision == "allow" then
      local cond = why.policy.doc and why.policy.doc.statement and why.policy.doc.statement[why.statement]
      cond = cond and cond.condition
      out[#out + 1] = { account = ("%s (%s)"):format(snap.name, snap.uin), principal = principal.name,
                        kind = kind, via = (prefix or "") .. why.policy.via,
                        policy = why.policy.name, statement = why.statement,
                        condition = cond and next(cond) and require("tcrun.json").encode(cond) or nil }
    end
  end
  for _, name in ipairs(target.order) do
    local u = target.users[name]
    ask(target, { name = name, uin = tostring(u.Uin) }, "user", user_entries(target, u))
  end
  local roles = {}
  for n in pairs(target.roles) do roles[#roles + 1] = n end
  table.sort(roles)
  for _, n in ipairs(roles) do
    local role = target.roles[n]
    ask(target, { name = "role " .. n, uin = nil }, "role", entries_of(target, role.policies, "role " .. n))
  end
  if target ~= world.hub then
    for _, name in ipairs(world.hub.order) do
      local u = world.hub.users[name]
      for _, a in ipairs(review.assumable(world.hub, u, target)) do
        ask(target, { name = name, uin = tostring(u.Uin) }, "user through role",
            entries_of(target, a.role.policies, "role " .. a.role.RoleName),
            ("assumes %s (%s), "):format(a.role.RoleName, a.why.policy.via))
      end
    end
  end
  table.sort(out, function(a, b)
    if a.principal ~= b.principal then return a.principal < b.principal end
    return a.via < b.via
  end)
  return out
end

return M
