-- report.lua: what a run did, for people: a summary CSV (written
-- atomically) and a one-screen summary on stdout.
local csv = require "tcrun.csv"

local M = {}

-- Writes rows (tables) under columns to path; returns true or nil, err.
function M.csv(path, columns, rows)
  local w, err = csv.create(path, columns)
  if not w then return nil, err end
  for _, r in ipairs(rows) do
    local out = {}
    for _, c in ipairs(columns) do
      local v = r[c]
      if type(v) == "table" then v = table.concat(v, ";") end
      out[c] = v
    end
    w:write(out)
  end
  return w:close()
end

-- One screen: how many employees ended in each outcome of each step, then
-- the failures, one line each.
function M.screen(title, rows, steps, out)
  out = out or io.stdout
  local ok, failed = 0, {}
  for _, r in ipairs(rows) do
    if r.error then failed[#failed + 1] = r else ok = ok + 1 end
  end
  out:write(("%s: %d employee(s), %d ok, %d failed\n"):format(title, #rows, ok, #failed))
  for _, step in ipairs(steps) do
    local counts, keys = {}, {}
    for _, r in ipairs(rows) do
      local v = r[step]
      if v and v ~= "" then
        if not counts[v] then counts[v] = 0; keys[#keys + 1] = v end
        counts[v] = counts[v] + 1
      end
    end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = ("%s %d"):format(k, counts[k]) end
    out:write(("  %-12s %s\n"):format(step, #parts > 0 and table.concat(parts, ", ") or "-"))
  end
  for _, r in ipairs(failed) do
    out:write(("  FAILED %s%s: %s\n"):format(r.username,
      r.failed_step and (" at " .. r.failed_step) or "", (r.error:gsub("%s*\n%s*", " "))))
  end
end

return M
