-- state.lua: a recipe's own memory across runs, as JSON lines appended to a
-- file in its output folder and flushed line by line, so a run killed at
-- any point can be finished by the next one.  Onboarding records here which
-- initial passwords were set and which were delivered.
-- Does not: lock the file (one run per output folder at a time).
local json = require "tcrun.json"

local M = {}
M.__index = M

-- Opens (creating) the state file at path; nil, err when it cannot.  With
-- readonly (a dry run) the file is read if it exists and never written.
function M.open(path, readonly)
  local events = {}
  local f = io.open(path, "r")
  if f then
    local n = 0
    for line in f:lines() do
      n = n + 1
      local e = json.decode(line)
      if type(e) == "table" then events[#events + 1] = e end
      -- A torn last line (killed mid-write) is skipped, not fatal.
    end
    f:close()
  end
  if readonly then return setmetatable({ path = path, events = events }, M) end
  local out, err = io.open(path, "a")
  if not out then return nil, err end
  return setmetatable({ path = path, events = events, file = out }, M)
end

-- Appends one event (a table) and flushes it.
function M:append(event)
  assert(self.file, "state: opened read-only")
  event.time = os.date("!%Y-%m-%dT%H:%M:%SZ")
  self.events[#self.events + 1] = event
  self.file:write(json.encode(event), "\n")
  self.file:flush()
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
