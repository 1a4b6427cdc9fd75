-- ledger.lua: a recipe's own memory across runs, as JSON lines appended to
-- a file in its output folder and flushed line by line, so a run killed at
-- any point can be finished by the next one.  Onboarding records here which
-- initial passwords were set and which were delivered.  (Not the write
-- journal: that is the host's record of every write call.)
-- Under a dry run (opened with dry_run) the file is read if it exists and
-- events are kept in memory only, so the steps record the same way in
-- both modes.
-- Does not: lock the file (one run per output folder at a time).
local json = require "tcrun.json"

local M = {}
M.__index = M

-- Opens (creating) the ledger at path; nil, err when it cannot.
function M.open(path, dry_run)
  local events = {}
  local f = io.open(path, "r")
  if f then
    for line in f:lines() do
      local e = json.decode(line)
      if type(e) == "table" then events[#events + 1] = e end
      -- A torn last line (killed mid-write) is skipped, not fatal.
    end
    f:close()
  end
  local self = setmetatable({ path = path, events = events }, M)
  if dry_run then return self end
  local out, err = io.open(path, "a")
  if not out then return nil, err end
  self.file = out
  return self
end

-- Appends one event (a table) and flushes it.
function M:append(event)
  event.time = os.date("!%Y-%m-%dT%H:%M:%SZ")
  self.events[#self.events + 1] = event
  if self.file then
    self.file:write(json.encode(event), "\n")
    self.file:flush()
  end
end

-- The last event about name of one of the given kinds, or nil.
function M:last(name, kinds)
  for i = #self.events, 1, -1 do
    local e = self.events[i]
    if e.username == name and kinds[e.event] then return e end
  end
end

function M:close()
  if self.file then self.file:close() end
end

return M
