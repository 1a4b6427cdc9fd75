-- cost_report.lua --month YYYY-MM [--roster ROSTER] [--out DIR] [--compare YYYY-MM]
--                 [--allocation-tags]
-- Spend of a month per employee, business unit, environment, cost centre
-- and account, from Billing's resource-level bill with its tags, summed
-- exactly (no floats) and reconciled with the bill's own total; next to
-- the seed's model (19.90 CNY x (1 + N) for the N employees with a
-- workspace); with --compare, the change per group and the resources new
-- or gone.  Writes DIR/cost-YYYY-MM.json, .csv (cells a spreadsheet could
-- take for a formula are made text) and .html (SVG charts, no external
-- asset).  Data Billing has not finished is exit 3, never a partial
-- report.  --allocation-tags makes owner, owner-uin, business-unit,
-- cost-center and environment cost-allocation tags (a write, journaled;
-- Billing applies them only from then on).
local tc = require "tc"
local api = require "tcrun.api"
local cost = require "tcrun.cost"
local costs = require "tcrun.costs"
local recipe = require "tcrun.recipe"

local run, code = recipe.start(arg, {
  name = "cost report", out = "tcrun-out/cost",
  usage = "tcrun [--dry-run] cost_report.lua --month YYYY-MM [--roster ROSTER] [--out DIR] "
          .. "[--compare YYYY-MM] [--allocation-tags]",
  options = {
    month = { value = true, metavar = "YYYY-MM", help = "the bill month (required)" },
    roster = { value = true, metavar = "ROSTER", help = "who is an employee (others' spend is a leaver's)" },
    compare = { value = true, metavar = "YYYY-MM", help = "an earlier month to compare with" },
    ["allocation-tags"] = { help = "make tcrun's tags cost-allocation tags (a write)" } } })
if not run then return code end
local o = run.opts
for _, k in ipairs({ "month", "compare" }) do
  if o[k] and not costs.valid_month(o[k]) then tc.config_error(("--%s %s: not a month YYYY-MM"):format(k, o[k])) end
end
if not o.month then tc.config_error("cost_report.lua: --month YYYY-MM is required") end
if o.compare and o.compare >= o.month then
  tc.config_error(("--compare %s: not a month before %s"):format(o.compare, o.month))
end
-- Months are China Standard Time's (Billing's).  One that has not begun
-- has no bill; one not yet over is reported as figures to date.
run.month_status = costs.month_status(o.month, os.time())
if run.month_status == "not begun" then
  tc.config_error(("--month %s has not begun (China time): there is no bill yet"):format(o.month))
end
local roster = o.roster and costs.read_roster(o.roster) or nil
run.roster_map = roster

-- 1. Cost-allocation tags: checked, and made when asked.
costs.allocation_tags(run, o["allocation-tags"])

-- 2. The month (and the one to compare with), every account, exactly;
--    a bill Billing has not finished is exit 3, never a partial report.
local read, month, prev = pcall(function()
  return costs.read_month(run, o.month), o.compare and costs.read_month(run, o.compare)
end)
if not read then
  if type(month) == "table" and month.not_ready then
    io.stderr:write("tcrun: cost report: ", month.not_ready, "\n")
    return 3
  end
  error(month, 0)
end
local users = costs.users_by_uin()
local unallocated = false
for _, k in ipairs(run.allocation_missing or {}) do unallocated = unallocated or k == "owner" end
local report = cost.attribute(month.lines, { roster = roster, users = users, month = o.month,
                                             owner_unallocated = unallocated })
local before = prev and cost.attribute(prev.lines, { roster = roster, users = users, month = o.compare,
                                                     owner_unallocated = unallocated })
if run.month_status ~= "closed" then
  tc.warn(("%s is not over yet (China time): these are figures to date, not the month's bill")
          :format(o.month))
end

-- 3. Outputs.
local doc = costs.document(run, report, month, before)
local ok = costs.write(run, doc)
costs.screen(doc)
return ok
