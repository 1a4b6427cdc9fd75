-- ledger.lua: a recipe's own memory across runs, as JSON lines appended to
-- a file, each synced to disk before append()
-- returns (tc.appender: mode 0600, never through a symbolic link), so a
-- run killed at any point can be finished by the next one.  Onboarding
-- records here which initial passwords were set, before it sets them, and
-- which were delivered.  An append that fails raises: the act it was to
-- record must not happen.  (Not the write journal: that is the host's
-- record of every write call.)
-- Under a dry run (opened with dry_run) the file is read if it exists and
-- events are kept in memory only, so the steps record the same way in
-- both modes.
-- Does not: lock the file (one run per output folder at a time).
local tc = require "tc"
local json = require "tcrun.json"

local M = {}
M.__index = M

-- The account's folder in the state folder (state_dir/accounts/<uin>),
-- made unless dry_run; nil, err when there is none or it cannot be.
local function account_dir(state_dir, owner_uin, dry_run)
  if not state_dir then return nil, "no state folder: set HOME or TCRUN_STATE_DIR" end
  local dir = ("%s/accounts/%s"):format(state_dir, owner_uin)
  if not dry_run then
    local ok, err = tc.mkdir(dir)
    if not ok then return nil, err end
  end
  return dir
end

-- The ledger of name for account owner_uin: one per account, in the state
-- folder (state_dir/accounts/<uin>/<name>.jsonl), so whatever folder a run
-- starts from it finds what the last one left undone; nil, err when it
-- cannot be opened (or is in use: one run at a time).  The events of an
-- older tcrun's ledger at legacy (in --out), if there is one, are read
-- first.
function M.for_account(state_dir, owner_uin, name, dry_run, legacy)
  local dir, err = account_dir(state_dir, owner_uin, dry_run)
  if not dir then return nil, err end
  local self
  self, err = M.open(dir .. "/" .. name .. ".jsonl", dry_run)
  if not self then return nil, err end
  local old = legacy and M.open(legacy, true)
  if old and #old.events > 0 then
    table.move(self.events, 1, #self.events, #old.events + 1, old.events)
    self.events = old.events
  end
  return self
end

-- One onboarding or offboarding of an account at a time, for the rest of
-- the run: both change the same users and servers (an offboarding started
-- during an onboarding stopped the servers it was installing on, and the
-- onboarding waited half an hour).  Ends the run (exit 2) when another
-- holds it, naming that run.  A dry run changes nothing and takes none.
function M.lock_account(state_dir, owner_uin, dry_run)
  if dry_run then return end
  local dir, err = account_dir(state_dir, owner_uin, false)
  if not dir then tc.config_error(err) end
  local ok
  ok, err = tc.lock(dir .. "/people.lock")
  if not ok and err:find("held by another run", 1, true) then
    tc.config_error(("another onboarding or offboarding of account %s is running (%s): wait for "
      .. "it to end"):format(owner_uin, err))
  elseif not ok then
    tc.config_error(err)
  end
end

-- Opens (creating) the ledger at path; nil, err when it cannot.
function M.open(path, dry_run)
  local self = setmetatable({ path = path, events = {} }, M)
  if not dry_run then
    local err
    self.file, err = tc.appender(path)
    if not self.file then return nil, err end
  end
  local f = io.open(path, "r")
  if f then
    for line in f:lines() do
      local e = json.decode(line)
      if type(e) == "table" then self.events[#self.events + 1] = e end
      -- A torn last line (killed mid-write) is skipped, not fatal.
    end
    f:close()
  end
  return self
end

-- Appends one event (a table), on disk first; raises when it cannot.
function M:append(event)
  event.time = os.date("!%Y-%m-%dT%H:%M:%SZ")
  if self.file then
    local ok, err = self.file:write(json.encode(event))
    if not ok then error("ledger not written: " .. err, 0) end
  end
  self.events[#self.events + 1] = event
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
