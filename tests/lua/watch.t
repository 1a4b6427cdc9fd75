#!/usr/bin/env tcrun
-- watch.lua without the cloud: waiters on one kind share describe calls
-- (at most `max` ids each), an answer is never older than the question,
-- a failed read reaches every waiter of its round, done may raise for
-- its own waiter alone, and a waiter times out.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local watch = require "tcrun.watch"

-- A fake kind: item id becomes ready at round ready[id]; describe records
-- the ids of every call and the round it served.
local function fake(max, ready)
  local calls, round = {}, 0
  local w = watch.new { every = 0.01, cap = 0.05, max = max, what = "thing",
    describe = function(ids)
      round = round + 1
      calls[#calls + 1] = table.concat(ids, ",")
      local out = {}
      for _, id in ipairs(ids) do
        out[id] = { id = id, round = round, ready = round >= (ready[id] or 1) }
      end
      return out
    end }
  return w, calls
end

local function ready_item(item) return item and item.ready and item or nil end

-- 1. Five waiters, one call a round.
local w, calls = fake(100, { a = 1, b = 1, c = 2, d = 3, e = 3 })
local got = {}
tc.each({ "a", "b", "c", "d", "e" }, function(id)
  got[id] = w:wait(id, ready_item, 10, "thing " .. id).round
end, { parallel = 5 })
t.is(#calls, 3, "three rounds for five waiters ready by round 3")
t.is(calls[1], "a,b,c,d,e", "the first round asks about all five in one call")
t.is(calls[3], "d,e", "a waiter that got its answer leaves the rounds")
t.ok(got.a == 1 and got.c == 2 and got.e == 3, "each gets the round it became ready in")

-- 2. At most max ids a call.
w, calls = fake(2, {})
tc.each({ "a", "b", "c", "d", "e" }, function(id) w:wait(id, ready_item, 10) end, { parallel = 5 })
t.is(table.concat(calls, " "), "a,b c,d e", "five ids, two at most a call: three calls")

-- 3. A waiter that joins while a round is being read waits for the next.
local round, seen_round = 0, nil
w = watch.new { every = 0.01, cap = 0.01, max = 100,
  describe = function(ids)
    round = round + 1
    tc.sleep(0.5)
    local out = {}
    for _, id in ipairs(ids) do out[id] = { round = round } end
    return out
  end }
tc.each({ "first", "late" }, function(id)
  if id == "late" then tc.sleep(0.25) end
  local r = w:wait(id, function(item) return item and item.round end, 10)
  if id == "late" then seen_round = r end
end, { parallel = 2 })
t.is(seen_round, 2, "joined during round 1's read: answered by round 2")

-- 4. A failed read reaches every waiter of its round.
w = watch.new { every = 0.01, cap = 0.01, max = 100,
  describe = function() error({ code = "InternalError", message = "boom" }) end }
local _, failures = tc.each({ "a", "b", "c" }, function(id) w:wait(id, ready_item, 10) end,
                            { parallel = 3, quiet = true })
t.is(#failures, 3, "all three waiters fail")
t.is(failures[3] and type(failures[3].error) == "table" and failures[3].error.code,
     "InternalError", "with the read's own error")

-- 4b. A read that fails once or twice is tried again; the waiters never
-- see it.
local fails = 2
w = watch.new { every = 0.01, cap = 0.01, max = 100,
  describe = function(ids)
    if fails > 0 then fails = fails - 1; error("flaky", 0) end
    local out = {}
    for _, id in ipairs(ids) do out[id] = { ready = true } end
    return out
  end }
_, failures = tc.each({ "a", "b" }, function(id) w:wait(id, ready_item, 10) end,
                      { parallel = 2, quiet = true })
t.ok(#failures == 0 and fails == 0, "two failed reads, tried again: no waiter fails")

-- 5. done raising stops its own waiter only.
w = fake(100, { a = 1, b = 2 })
_, failures = tc.each({ "a", "b" }, function(id)
  w:wait(id, function(item)
    if id == "a" then error("a went wrong", 0) end
    return ready_item(item)
  end, 10)
end, { parallel = 2, quiet = true })
t.is(#failures, 1, "one waiter fails")
t.is(failures[1] and failures[1].error, "a went wrong", "the one whose done raised")

-- 6. Timeout, and backoff while nothing changes: the pause before each
-- round grows by half up to the cap, and starts again from `every` when
-- a waiter joins.
local pauses = {}
w = watch.new { every = 0.01, cap = 0.05, max = 100,
  describe = function(ids)
    pauses[#pauses + 1] = w.pause
    return {}
  end }
local t0 = tc.clock()
t.raises(function() w:wait("z", ready_item, 1, "server z to run") end,
         "timed out after 1 s waiting for server z to run", "a waiter times out")
t.ok(tc.clock() - t0 >= 1, "not before its timeout", "%.3f s", tc.clock() - t0)
t.ok(pauses[1] == 0.01 and pauses[2] == 0.015 and math.abs(pauses[3] - 0.0225) < 1e-9
     and pauses[#pauses] == 0.05, "rounds back off while nothing changes, up to the cap",
     "%s ... %s", table.concat(pauses, " ", 1, math.min(4, #pauses)), tostring(pauses[#pauses]))
pauses = {}
tc.each({ "y", "x" }, function(id)
  if id == "x" then tc.sleep(0.3) end
  pcall(w.wait, w, id, function(item) return id == "x" and true or nil end, 1)
end, { parallel = 2 })
local reset = false
for i = 2, #pauses do reset = reset or (pauses[i] == 0.01 and pauses[i - 1] > 0.01) end
t.ok(reset, "a waiter joining brings the pause back to `every`")
local left = 0
for _ in pairs(w.want) do left = left + 1 end
t.is(left, 0, "no id left in the rounds")

t.done()
