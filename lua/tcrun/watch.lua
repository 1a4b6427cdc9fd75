-- watch.lua: waiting on many resources of one kind with shared reads.
-- A thousand rows each polling DescribeInstances for their own server
-- would spend the action's rate limit on polls; here every row waiting on
-- a server of one region and account joins one watcher, and each round
-- one DescribeInstances call reports on up to 100 of them.
--
--   local w = watch.instances(region, account)   -- one per kind, region, account
--   local inst = w:wait(id, function(item) ... end, timeout, what)
--
-- wait() returns the first non-nil value of done(item), item being the
-- resource as the latest round described it (nil when that round did not
-- find it); done may raise to stop waiting.  A round runs only while
-- someone waits; whichever waiter finds no round under way runs the next
-- one, the others sleep on an event until it ends, so there is no poller
-- to start or stop.  Between rounds the watcher pauses `every` seconds,
-- longer (up to `cap`) while nothing joins or leaves.  A waiter only
-- reads rounds that began after it last looked, so an answer is never
-- older than the question.  Reads only: a watcher never sends a write.
-- Does not: decide what "done" means (the steps do) or dry-run (plan.lua).
local tc = require "tc"
local api = require "tcrun.api"

local M = {}
local Watch = {}
Watch.__index = Watch

-- spec: describe(ids) -> { [id] = item } for at most `max` ids; every and
-- cap, the pause between rounds (seconds); what, for messages.
function M.new(spec)
  return setmetatable({ spec = spec, want = {}, seen = {}, started = 0, finished = 0,
                        busy = false, event = tc.event(), pause = spec.every,
                        changed = false }, Watch)
end

-- Counts a waiter in (by = 1) or out (-1) of the rounds for id.
local function join(self, id, by)
  local n = (self.want[id] or 0) + by
  self.want[id] = n > 0 and n or nil
  self.changed = true
end

-- A round's reads, each tried this many times (after the host's own
-- retries) before every waiter of the round gets its error: one bad
-- answer should not fail a thousand rows.
local TRIES = 3

-- A read wants the state as it is: its round pauses only this long, to
-- gather the other rows' reads into the same calls.
local READ_PAUSE = 0.2

-- One round: pause (shorter for a read),
-- then describe every id wanted now, max at a time.  Whatever happens,
-- the round ends and the waiters are woken.
local function round(self)
  self.busy = true
  local ok, err = pcall(function()
    if self.changed then self.pause = self.spec.every
    else self.pause = math.min(self.pause * 1.5, self.spec.cap) end
    self.changed = false
    tc.sleep(self.hurry and math.min(self.pause, READ_PAUSE) or self.pause)
    self.hurry = false
    self.started = self.started + 1
    local ids = api.sorted_keys(self.want)
    local seen = {}
    for i = 1, #ids, self.spec.max do
      local chunk = table.move(ids, i, math.min(i + self.spec.max - 1, #ids), 1, {})
      local found
      for try = 1, TRIES do
        local good, r = pcall(self.spec.describe, chunk)
        if good then found = r; break end
        if try == TRIES then error(r, 0) end
        tc.sleep(self.pause * try)
      end
      for id, item in pairs(found) do seen[id] = item end
    end
    self.seen = seen
  end)
  self.err = not ok and err or nil
  self.finished = self.started
  self.busy = false
  self.event:signal()
end

-- Waits until done(item) gives a value, and returns it; raises after
-- timeout seconds ("timed out ... waiting for <what>"), when done raises,
-- or when a round's read fails (every waiter of that round gets its error).
function Watch:wait(id, done, timeout, what)
  local deadline = tc.clock() + timeout
  local since = self.started   -- rounds begun before we asked are stale
  join(self, id, 1)
  local ok, v = pcall(function()
    while true do
      if not self.busy then round(self) else self.event:wait() end
      if self.finished > since then
        since = self.finished
        if self.err then error(self.err, 0) end
        local r = done(self.seen[id])
        if r ~= nil then return r end
      end
      if tc.clock() >= deadline then
        error(("timed out after %d s waiting for %s"):format(timeout, what or tostring(id)), 0)
      end
    end
  end)
  join(self, id, -1)
  if not ok then error(v, 0) end
  return v
end

-- The resource as a round that began after the question describes it
-- (nil: not found), for a read shared with everyone else's.
function Watch:read(id, timeout, what)
  self.hurry = true
  return self:wait(id, function(item) return { item } end, timeout or 600, what)[1]
end

-- The watchers of a run, one per kind, region and account (nil: the
-- default account), made on first use.
local watchers, DEFAULT = {}, {}

local function watcher(kind, region, account, spec)
  local by_account = watchers[account or DEFAULT] or {}
  watchers[account or DEFAULT] = by_account
  local key = kind .. " " .. region
  if not by_account[key] then by_account[key] = M.new(spec) end
  return by_account[key]
end

local function opts_of(region, account)
  return { region = region, account = account }
end

-- A kind whose Describe action takes up to 100 ids (ids_field) and lists
-- what it found under list_field, each named by id_field.
local function by_ids(kind, service, action, ids_field, list_field, id_field)
  return function(region, account)
    return watcher(kind, region, account, { every = 1, cap = 10, max = 100,
      describe = function(ids)
        local r = tc.call(service, action, { [ids_field] = ids, Limit = #ids },
                          opts_of(region, account))
        local out = {}
        for _, x in ipairs(r[list_field] or {}) do out[x[id_field]] = x end
        return out
      end })
  end
end

-- Lighthouse instances.
M.instances = by_ids("instances", "lighthouse", "DescribeInstances", "InstanceIds", "InstanceSet",
                     "InstanceId")

-- TAT agents of instances (AgentStatus "Online" or "Offline").
M.agents = by_ids("agents", "tat", "DescribeAutomationAgentStatus", "InstanceIds",
                  "AutomationAgentSet", "InstanceId")

-- TAT invocations, each saying how every task of it went
-- (InvocationTaskBasicInfoSet).
M.invocations = by_ids("invocations", "tat", "DescribeInvocations", "InvocationIds",
                       "InvocationSet", "InvocationId")

-- CloudBase environments: DescribeEnvs takes one EnvId, or none for every
-- environment of the region, 100 a page.  Whichever takes fewer calls.
function M.envs(region, account)
  local w
  w = watcher("envs", region, account, { every = 1, cap = 10, max = 1000,
    describe = function(ids)
      local o, out = opts_of(region, account), {}
      local want = {}
      for _, id in ipairs(ids) do want[id] = true end
      if #ids <= (w.pages or 1) then
        for _, id in ipairs(ids) do
          for _, e in ipairs(tc.call("tcb", "DescribeEnvs", { EnvId = id }, o).EnvList or {}) do
            if e.EnvId == id then out[id] = e end
          end
        end
        return out
      end
      local all = api.offset_pages("tcb", "DescribeEnvs", {}, "EnvList", "Total", 100, o)
      w.pages = math.max(1, math.ceil(#all / 100))
      for _, e in ipairs(all) do
        if want[e.EnvId] then out[e.EnvId] = e end
      end
      return out
    end })
  return w
end

-- Lighthouse: where an instance in a passing state is heading (api.heading),
-- and whether it has settled (no operation running, no passing state).
local function settled(i)
  return i.LatestOperationState ~= "OPERATING" and api.heading(i.InstanceState) == i.InstanceState
end

-- The state a Lighthouse instance settles in: at once when inst, the
-- instance as last read (nil: read it now), has settled; else after
-- waiting through plan (plan.lua), so that a dry run takes where it is
-- heading instead.  "TERMINATED" once it is gone.  Reads and waits are
-- shared with every other row (instances()).
function M.settle(plan, id, region, inst, account)
  local w = M.instances(region, account)
  inst = inst or w:read(id, 600, "server " .. id)
  if not inst then return "TERMINATED" end
  if settled(inst) then return inst.InstanceState end
  return plan:watch(w, id, function(i)
    if not i then return "TERMINATED" end
    if settled(i) then return i.InstanceState end
  end, 1800, "server " .. id .. " to settle") or api.heading(inst.InstanceState)
end

return M
