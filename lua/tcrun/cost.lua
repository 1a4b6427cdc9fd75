-- cost.lua: a month's bill lines attributed, exactly (money.lua), to
-- employees, business units, environments, cost centres and accounts,
-- next to the seed's cost model (19.90 CNY a month per CloudBase personal
-- environment: the management one plus one per employee with a workspace).
--
--   local report = cost.attribute(lines, { roster = by_username (or nil),
--     users = uin -> username, month = "2026-11" })
-- lines: { resource, product, region, account (label), amount (10^-8
-- yuan), tags (key -> value) } each.  Nothing is dropped: a line with no
-- owner is listed as unattributed, by resource; spend of an owner not on
-- the roster is attributed to them and marked as a leaver's.
local money = require "tcrun.money"

local M = {}

M.MODEL_PRICE = "19.90"     -- CNY per CloudBase personal environment and month

local NONE = "(none)"

local function sorted_groups(map)
  local out = {}
  for k, v in pairs(map) do out[#out + 1] = { key = k, units = v } end
  table.sort(out, function(a, b)
    if a.units ~= b.units then return a.units > b.units end
    return a.key < b.key
  end)
  return out
end

-- Who a line belongs to: the owner tag, else the name of the owner-uin
-- tag's user; nil when neither.
local function owner_of(line, users)
  local t = line.tags or {}
  if t.owner and t.owner ~= "" then return t.owner end
  local uin = t["owner-uin"]
  if uin and users[tostring(uin)] then return users[tostring(uin)] end
  return nil
end

function M.attribute(lines, opts)
  local roster, users = opts.roster, opts.users or {}
  local by = { employee = {}, business_unit = {}, environment = {}, cost_center = {}, account = {} }
  local total, unattributed, leavers, ws = 0, {}, {}, {}
  local unattributed_units, units_of = 0, {}
  local resources = {}
  for _, l in ipairs(lines) do
    total = total + l.amount
    resources[l.resource] = (resources[l.resource] or 0) + l.amount
    local t = l.tags or {}
    local who = owner_of(l, users)
    local e = who and roster and roster[who]
    local function add(group, key)
      by[group][key] = (by[group][key] or 0) + l.amount
    end
    add("account", l.account)
    add("environment", t.environment and t.environment ~= "" and t.environment or NONE)
    add("business_unit", (e and e.business_unit) or (t["business-unit"] ~= "" and t["business-unit"]) or NONE)
    add("cost_center", (e and e.cost_center) or (t["cost-center"] ~= "" and t["cost-center"]) or NONE)
    if who then
      add("employee", who)
      if t["business-unit"] and t["business-unit"] ~= "" then units_of[who] = units_of[who] or t["business-unit"] end
      if roster and not roster[who] then leavers[who] = (leavers[who] or 0) + l.amount end
      -- The model's side: CloudBase environments of people on the roster
      -- with a workspace (a leaver's is a leaver's, listed apart).
      if l.product == "tcb" and (not roster or (roster[who] and roster[who].workspace)) then
        ws[who] = (ws[who] or 0) + l.amount
      end
    else
      unattributed_units = unattributed_units + l.amount
      unattributed[#unattributed + 1] = { resource = l.resource, product = l.product, region = l.region,
        units = l.amount, why = (t["owner-uin"] and "its owner-uin tag names no known user")
          or (opts.owner_unallocated and "owner is not a cost-allocation tag this month: Billing shows no owner")
          or "no owner tag" }
    end
  end
  table.sort(unattributed, function(a, b)
    if a.units ~= b.units then return a.units > b.units end
    return a.resource < b.resource
  end)
  local report = { total_units = total, groups = {}, unattributed = unattributed, resources = resources,
                   unattributed_units = unattributed_units, units_of = units_of }
  for g, map in pairs(by) do report.groups[g] = sorted_groups(map) end
  report.leavers = sorted_groups(leavers)
  -- The seed's model: 19.90 x (1 + N), N the employees with a workspace.
  local n, per = 0, {}
  for _, who in ipairs((function()
    local keys = {}
    for k in pairs(ws) do keys[#keys + 1] = k end
    table.sort(keys)
    return keys
  end)()) do
    n = n + 1
    per[#per + 1] = { key = who, units = ws[who] }
  end
  if roster then
    n = 0
    for _, e in pairs(roster) do if e.workspace then n = n + 1 end end
  end
  local price = money.parse(M.MODEL_PRICE)
  local actual_ws = 0
  for _, v in pairs(ws) do actual_ws = actual_ws + v end
  report.model = { price = M.MODEL_PRICE, employees_with_workspace = n,
                   model_units = price * (1 + n), actual_workspace_units = actual_ws, per_employee = per }
  return report
end

-- The changes from prev to cur (two attribute() results): per group, and
-- resources new or vanished.
function M.compare(cur, prev)
  local out = { groups = {}, new = {}, vanished = {} }
  for _, g in ipairs({ "business_unit", "environment", "cost_center", "account", "employee" }) do
    local before, keys = {}, {}
    for _, x in ipairs(prev.groups[g] or {}) do before[x.key] = x.units; keys[x.key] = true end
    local now = {}
    for _, x in ipairs(cur.groups[g] or {}) do now[x.key] = x.units; keys[x.key] = true end
    local list = {}
    for k in pairs(keys) do list[#list + 1] = k end
    table.sort(list)
    for _, k in ipairs(list) do
      local a, b = before[k] or 0, now[k] or 0
      if a ~= b then
        out.groups[#out.groups + 1] = { group = g, key = k, from_units = a, to_units = b }
      end
    end
  end
  local function diff(a, b, into)
    local keys = {}
    for r in pairs(a) do if not b[r] then keys[#keys + 1] = r end end
    table.sort(keys)
    for _, r in ipairs(keys) do into[#into + 1] = { resource = r, units = a[r] } end
  end
  diff(cur.resources, prev.resources, out.new)
  diff(prev.resources, cur.resources, out.vanished)
  return out
end

return M
