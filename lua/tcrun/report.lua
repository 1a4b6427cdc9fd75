-- report.lua: what a run did, for people: a report CSV (written
-- atomically) and a one-screen summary on stdout, both from the kit's rows
-- (recipe.lua): a column is a step's word (row.status), else what a step
-- made (row.facts), else the row's error, else one of the roster's known
-- columns (row.employee).  An extra roster column never fills a report
-- column: a roster's "uin" is not the UIN tcrun found.  Text is made
-- terminal-safe (tc.printable) in both: what an API or a server answered
-- cannot drive the terminal of whoever reads them.
local tc = require "tc"
local csv = require "tcrun.csv"
local roster = require "tcrun.roster"

local M = {}

-- The value of column c for row.
function M.value(row, c)
  local v = row.status[c]
  if v == nil then v = row.facts[c] end
  if v == nil and c == "error" then v = row.error end
  if v == nil and roster.COLUMNS[c] then v = row.employee[c] end
  return v
end

-- Writes rows under columns to path (mode 0600, like everything in an
-- output folder); returns true or nil, err.
function M.csv(path, columns, rows)
  local w, err = csv.create(path, columns, { mode = "0600" })
  if not w then return nil, err end
  for _, r in ipairs(rows) do
    local out = {}
    for _, c in ipairs(columns) do
      local v = M.value(r, c)
      if type(v) == "table" then v = table.concat(v, ";") end
      if type(v) == "string" then v = tc.printable(v) end
      out[c] = v
    end
    local ok, werr = w:write(out)
    if not ok then return nil, werr end
  end
  return w:close()
end

-- Names, up to five, then how many more.
local function some(rows)
  local names = {}
  for i = 1, math.min(5, #rows) do names[i] = tc.printable(rows[i].employee.username) end
  return table.concat(names, ", ") .. (#rows > 5 and (" and %d more"):format(#rows - 5) or "")
end

-- One screen: how many rows ended in each outcome of each step, then the
-- failures: one line each, except that rows failing alike at the same
-- step (recipe.lua's error_kind) share one, naming the first and its
-- error, then the others.  noun: what a row is (default "employee").
function M.screen(title, rows, steps, out, noun)
  out = out or io.stdout
  local ok, failed = 0, {}
  for _, r in ipairs(rows) do
    if r.error then failed[#failed + 1] = r else ok = ok + 1 end
  end
  out:write(("%s: %d %s(s), %d ok, %d failed\n"):format(title, #rows, noun or "employee", ok, #failed))
  local width = 12
  for _, step in ipairs(steps) do width = math.max(width, #step) end
  for _, step in ipairs(steps) do
    local counts, keys = {}, {}
    for _, r in ipairs(rows) do
      local v = r.status[step]
      if v and v ~= "" then
        v = tc.printable(tostring(v))
        if not counts[v] then counts[v] = 0; keys[#keys + 1] = v end
        counts[v] = counts[v] + 1
      end
    end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = ("%s %d"):format(k, counts[k]) end
    out:write(("  %-" .. width .. "s %s\n"):format(step, #parts > 0 and table.concat(parts, ", ") or "-"))
  end
  local groups, by = {}, {}
  for _, r in ipairs(failed) do
    local key = (r.failed_step or "") .. "\0" .. (r.error_kind or r.error)
    if not by[key] then by[key] = {}; groups[#groups + 1] = by[key] end
    table.insert(by[key], r)
  end
  for _, g in ipairs(groups) do
    local r = g[1]
    out:write(("  FAILED %s%s: %s\n"):format(tc.printable(r.employee.username),
      r.failed_step and (" at " .. r.failed_step) or "", tc.printable(r.error)))
    if #g > 1 then
      out:write(("  FAILED the same way, %d more: %s\n"):format(#g - 1,
        some(table.move(g, 2, #g, 1, {}))))
    end
  end
end

return M
