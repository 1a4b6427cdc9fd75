-- costs.lua: the steps of cost_report.lua: reading Billing (every page of
-- the resource-level bill of a month, in every account; the bill's own
-- total; readiness), cost-allocation tags, the outputs.
local tc = require "tc"
local api = require "tcrun.api"
local cost = require "tcrun.cost"
local csv = require "tcrun.csv"
local json = require "tcrun.json"
local money = require "tcrun.money"
local roster = require "tcrun.roster"

local M = {}

-- The tags tcrun puts on what it makes, by which cost is attributed.
M.TAGS = { "owner", "owner-uin", "business-unit", "cost-center", "environment" }

-- "not begun", "in progress" or "closed", by the China-time month of now.
function M.month_status(month, now)
  local cst = os.date("!%Y-%m", now + 8 * 3600)
  if month > cst then return "not begun" end
  if month == cst then return "in progress" end
  return "closed"
end

function M.valid_month(s)
  local y, m = tostring(s):match("^(%d%d%d%d)%-(%d%d)$")
  return y and tonumber(m) >= 1 and tonumber(m) <= 12
end

-- The roster's employees by username ({ business_unit, cost_center,
-- workspace }); problems stop the run (exit 2).
function M.read_roster(path)
  local rows, problems = roster.load(path, roster.ONBOARD)
  if not rows or #problems > 0 then
    io.stderr:write(roster.format_problems(problems or {}), "\n")
    tc.config_error("--roster " .. path .. ": not a valid roster")
  end
  local out = {}
  for _, row in ipairs(rows) do
    local e = row.employee
    out[e.username] = { business_unit = e.business_unit, cost_center = e.cost_center, workspace = e.workspace }
  end
  return out
end

function M.users_by_uin()
  local out = {}
  for name, u in pairs(api.users_by_name()) do out[tostring(u.Uin)] = name end
  return out
end

-- The accounts a report covers: the hub (or the one account) and, with
-- accounts.lua, every environment's account.
local function accounts(run)
  local list = { { label = ("%s (%s)"):format(run.accounts and "hub" or "account",
                                              run.accounts and run.accounts.cfg.hub or api.owner_uin()) } }
  for _, s in ipairs(run.accounts and run.accounts.order or {}) do
    list[#list + 1] = { label = ("%s (%s)"):format(s.env, s.uin), opts = { account = s.account } }
  end
  return list
end

local PRODUCTS = { p_tcb = "tcb", p_lighthouse = "lighthouse" }

-- Billing not ready for the month: raised as { not_ready = message }, for
-- the recipe to say and end with exit 3, never a partial report.
local function not_ready(month, label)
  error({ not_ready = ("Billing has not finished the bill of %s for %s yet (Ready=0); try again "
                       .. "later (a first bill can take hours)"):format(month, label) }, 0)
end

-- Every line of the month in every account: { lines, bill_units (the
-- bills' own totals), accounts }.
function M.read_month(run, month)
  local out = { lines = {}, bill_units = 0, accounts = {} }
  local y, m = month:match("^(%d+)%-(%d+)$")
  local days = os.date("*t", os.time({ year = tonumber(y), month = tonumber(m) + 1, day = 0 })).day
  for _, a in ipairs(accounts(run)) do
    out.accounts[#out.accounts + 1] = a.label
    local ok, s = pcall(tc.call, "billing", "DescribeBillSummaryByProduct",
      { BeginTime = month .. "-01 00:00:00", EndTime = ("%s-%02d 23:59:59"):format(month, days) }, a.opts)
    if not ok then
      if api.is_code(s, "FailedOperation.SummaryDataNotReady") then not_ready(month, a.label) end
      error(s, 0)
    end
    if s.Ready == 0 then not_ready(month, a.label) end
    local total = money.parse(s.SummaryTotal and s.SummaryTotal.RealTotalCost or "0")
    if not total then error("the bill's total is not an amount", 0) end
    out.bill_units = out.bill_units + total
    local offset = 0
    repeat
      local r = tc.call("billing", "DescribeBillResourceSummary",
                        { Month = month, Offset = offset, Limit = 1000, NeedRecordNum = 1 }, a.opts)
      local set = r.ResourceSummarySet or {}
      for _, x in ipairs(set) do
        local amount, why = money.parse(x.RealTotalCost or "0")
        if not amount then error(("bill line %s: %s"):format(tostring(x.ResourceId), why), 0) end
        local tags = {}
        for _, tg in ipairs(x.Tags or {}) do tags[tg.TagKey] = tg.TagValue end
        out.lines[#out.lines + 1] = { resource = x.ResourceId, product = PRODUCTS[x.BusinessCode] or x.BusinessCode,
          region = x.RegionName, account = a.label, amount = amount, tags = tags, operate_uin = x.OperateUin }
      end
      offset = offset + #set
    until #set == 0 or offset >= (r.Total or 0)
  end
  return out
end

-- Which of tcrun's tags are cost-allocation tags; with make, the missing
-- ones are made so (a write; under --dry-run, planned).
function M.allocation_tags(run, make)
  local r = tc.call("billing", "DescribeTagList", { Offset = 0, Limit = 1000 })
  local have = {}
  for _, t in ipairs(r.Data or {}) do
    if t.Status == 1 and t.TagKey then have[t.TagKey] = true end
  end
  local missing = {}
  for _, k in ipairs(M.TAGS) do if not have[k] then missing[#missing + 1] = k end end
  run.allocation_missing = missing
  if #missing == 0 then return end
  if make then
    -- One key at a time: Billing refuses a key no resource carries yet.
    local made, left = {}, {}
    for _, k in ipairs(missing) do
      local ok, err = pcall(run.plan.write, run.plan, "(billing)", "billing", "CreateAllocationTag",
                            { TagKey = { k } }, { note = "cost-allocation tag " .. k })
      if ok then
        made[#made + 1] = k
      elseif api.is_code(err, "FailedOperation.TagKeyNotExist") then
        left[#left + 1] = k
        tc.warn(("%s: no resource carries this tag yet, so Billing cannot make it a cost-allocation tag")
                :format(k))
      else
        error(err, 0)
      end
    end
    if #made > 0 then
      tc.warn(("%s %s: Billing counts %s from this month on; months already closed stay as they were")
              :format(table.concat(made, ", "), #made == 1
                        and (run.plan.dry_run and "would become a cost-allocation tag" or "is now a cost-allocation tag")
                        or (run.plan.dry_run and "would become cost-allocation tags" or "are now cost-allocation tags"),
                      #made == 1 and "it" or "them"))
    end
    run.allocation_missing = run.plan.dry_run and missing or left
  else
    tc.warn(("%s %s: spend cannot be grouped by %s in Tencent Cloud's own reports "
             .. "(cost_report.lua --allocation-tags makes them so, from then on)")
            :format(table.concat(missing, ", "), #missing == 1 and "is not a cost-allocation tag"
                    or "are not cost-allocation tags", #missing == 1 and "it" or "them"))
  end
end

local function fmt(units) return money.format(units) end

local function groups_doc(report, before, roster)
  local out = {}
  for g, list in pairs(report.groups) do
    local prev = {}
    for _, x in ipairs(before and before.groups[g] or {}) do prev[x.key] = x.units end
    local items = {}
    for _, x in ipairs(list) do
      local item = { key = x.key, amount = fmt(x.units), compare = before and fmt(prev[x.key] or 0) or nil }
      if g == "employee" then
        item.leaver = roster ~= nil and roster[x.key] == nil
        item.business_unit = roster and roster[x.key] and roster[x.key].business_unit
                             or report.units_of[x.key] or "(none)"
      end
      items[#items + 1] = item
    end
    out[g] = json.array(items)
  end
  return out
end

-- The report as a document (cost.json, the page's data).
function M.document(run, report, month, before)
  local m = report.model
  local per = {}
  for _, x in ipairs(m.per_employee) do per[#per + 1] = { key = x.key, actual = fmt(x.units), model = m.price } end
  local leavers = {}
  for _, x in ipairs(report.leavers) do leavers[#leavers + 1] = { key = x.key, amount = fmt(x.units) } end
  local un = {}
  for _, x in ipairs(report.unattributed) do
    un[#un + 1] = { resource = x.resource, product = x.product, region = x.region, amount = fmt(x.units), why = x.why }
  end
  local accs = {}
  for _, a in ipairs(month.accounts) do accs[#accs + 1] = { name = a:match("^(%S+)"), uin = a:match("%((%d+)%)") } end
  local doc = {
    month = run.opts.month, compare = run.opts.compare, generated = os.date("!%Y-%m-%dT%H:%M:%SZ", run.now),
    tool = "tcrun " .. tc.version, currency = "CNY", accounts = json.array(accs),
    total = fmt(report.total_units), bill_total = fmt(month.bill_units),
    groups = groups_doc(report, before, run.roster_map), unattributed = json.array(un),
    leavers = json.array(leavers),
    month_status = run.month_status, attributed = fmt(report.total_units - report.unattributed_units),
    unattributed_total = fmt(report.unattributed_units),
    model = { price = m.price, employees_with_workspace = m.employees_with_workspace,
              model_total = fmt(m.model_units), actual_workspace_total = fmt(m.actual_workspace_units),
              per_employee = json.array(per) },
    allocation_tags = { missing = json.array(run.allocation_missing or {}),
                        note = "Billing applies a tag only from when it became a cost-allocation tag" },
  }
  if before then
    local c = cost.compare(report, before)
    local gs, new, gone = {}, {}, {}
    for _, x in ipairs(c.groups) do
      gs[#gs + 1] = { group = x.group, key = x.key, from = fmt(x.from_units), to = fmt(x.to_units),
                      delta = money.delta(x.from_units, x.to_units) }
    end
    for _, x in ipairs(c.new) do new[#new + 1] = { resource = x.resource, amount = fmt(x.units) } end
    for _, x in ipairs(c.vanished) do gone[#gone + 1] = { resource = x.resource, amount = fmt(x.units) } end
    doc.changes = { groups = json.array(gs), new = json.array(new), vanished = json.array(gone) }
  end
  return doc
end

M.CSV = { "section", "group", "key", "amount", "compare", "change", "note" }

-- A signed amount ("-58.07", "+214.74") goes to the CSV as a number, so
-- that a spreadsheet sums it (as text it would be guarded against formula
-- injection); an amount within 10^10 with two decimals prints back the
-- same.  Unsigned amounts stay the exact strings.
local function num(s)
  if type(s) == "string" and s:find("^[+-]%d+%.%d%d$") then return tonumber(s) end
  return s
end

-- cost-<month>.json, .csv and .html in --out (0600, atomic).  false when
-- the report's total does not reconcile with the bill's.
function M.write(run, doc)
  local out, base = run.opts.out, "cost-" .. doc.month
  local ok, err = tc.mkdir(out)
  if not ok then tc.config_error("--out: " .. err) end
  assert(tc.write_file(out .. "/" .. base .. ".json", json.encode(doc) .. "\n"))
  local w = assert(csv.create(out .. "/" .. base .. ".csv", M.CSV, { mode = "0600" }))
  local function row(t) assert(w:write(t)) end
  row({ section = "total", key = "report", amount = doc.total, note = doc.month_status })
  row({ section = "total", key = "bill", amount = doc.bill_total })
  row({ section = "total", key = "attributed", amount = doc.attributed })
  row({ section = "total", key = "unattributed", amount = doc.unattributed_total })
  for _, g in ipairs({ "account", "business_unit", "environment", "cost_center", "employee" }) do
    for _, x in ipairs(doc.groups[g] or {}) do
      row({ section = "group", group = g, key = x.key, amount = x.amount, compare = x.compare })
    end
  end
  for _, x in ipairs(doc.leavers) do row({ section = "leaver", group = "employee", key = x.key, amount = x.amount }) end
  for _, x in ipairs(doc.unattributed) do
    row({ section = "unattributed", group = x.product, key = x.resource, amount = x.amount, note = x.why })
  end
  row({ section = "model", key = "model total", amount = doc.model.model_total,
        note = ("%s x (1 + %d)"):format(doc.model.price, doc.model.employees_with_workspace) })
  row({ section = "model", key = "actual workspaces", amount = doc.model.actual_workspace_total })
  for _, x in ipairs(doc.changes and doc.changes.groups or {}) do
    row({ section = "change", group = x.group, key = x.key, amount = x.to, compare = x.from, change = num(x.delta) })
  end
  for _, k in ipairs({ "new", "vanished" }) do
    for _, x in ipairs(doc.changes and doc.changes[k] or {}) do
      row({ section = k, group = "resource", key = x.resource, amount = x.amount })
    end
  end
  assert(w:close())
  assert(tc.write_file(out .. "/" .. base .. ".html", require("tcrun.cost_html").render(doc)))
  tc.log(("report: %s/%s.{json,csv,html}"):format(out, base))
  if doc.total ~= doc.bill_total then
    io.stderr:write(("tcrun: cost report: the lines sum to %s but the bill says %s: not reconciled\n")
                    :format(doc.total, doc.bill_total))
    return false
  end
  return true
end

function M.screen(doc)
  io.stdout:write(("cost %s%s: %s CNY (bill %s)%s\n"):format(doc.month,
    doc.month_status == "closed" and "" or " (in progress: to date)", doc.total, doc.bill_total,
    doc.total == doc.bill_total and "" or "  NOT RECONCILED"))
  io.stdout:write(("  attributed %s + unattributed %s = %s\n"):format(doc.attributed, doc.unattributed_total,
                                                                     doc.total))
  for _, g in ipairs({ "business_unit", "environment" }) do
    for _, x in ipairs(doc.groups[g] or {}) do
      io.stdout:write(("  %-14s %-20s %12s\n"):format(g, tc.printable(x.key), x.amount))
    end
  end
  io.stdout:write(("  model: %s x (1 + %d) = %s; actual workspaces %s\n"):format(doc.model.price,
    doc.model.employees_with_workspace, doc.model.model_total, doc.model.actual_workspace_total))
  if #doc.unattributed > 0 then
    io.stdout:write(("  unattributed: %d resource(s)\n"):format(#doc.unattributed))
  end
  if #doc.leavers > 0 then io.stdout:write(("  leavers: %d\n"):format(#doc.leavers)) end
end

return M
