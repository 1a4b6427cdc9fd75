#!/usr/bin/env tcrun
-- tc.each and tc.sleep: rows as coroutines, failures collected, limits.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")

local rows = {}
for i = 1, 20 do rows[i] = { n = i } end
local seen, active, peak = {}, 0, 0
local nok, failures = tc.each(rows, function(row, i)
  active = active + 1
  peak = math.max(peak, active)
  tc.sleep(0.01)
  seen[i] = row.n
  active = active - 1
  if row.n % 7 == 0 then error("row " .. row.n .. " is bad") end
end, { parallel = 4, quiet = true })
t.is(nok, 18, "18 rows returned normally")
t.is(#failures, 2, "2 failures collected")
t.is(failures[1] and failures[1].index, 7, "failure names its index")
t.is(failures[1] and failures[1].row, rows[7], "failure carries its row")
t.like(failures[2] and failures[2].error, "row 14 is bad", "failure carries the error")
t.like(failures[2] and failures[2].traceback, "stack traceback", "and a traceback")
t.is(peak, 4, "at most parallel = 4 rows in flight, and 4 reached")
local all = true
for i = 1, 20 do all = all and seen[i] == i end
t.ok(all, "every row ran with its own index")

-- rows overlap: while one sleeps, the others run
local order = {}
tc.each({ 0.06, 0.01, 0.03 }, function(s, i)
  tc.sleep(s)
  order[#order + 1] = i
end, { parallel = 3 })
t.is(table.concat(order, ","), "2,3,1", "rows finish in the order their sleeps end")

-- nested tc.each inside a row
local inner_total = 0
nok, failures = tc.each({ 1, 2, 3 }, function(r)
  local n = tc.each({ 1, 2 }, function() inner_total = inner_total + r end)
  assert(n == 2)
end)
t.is(nok, 3, "nested tc.each works in rows")
t.is(inner_total, 12, "nested rows all ran")

t.is(select("#", tc.each({}, function() end)), 2, "empty rows: returns two values")

-- structured errors survive to the failures list
nok, failures = tc.each({ 1 }, function()
  error(setmetatable({ code = "X.Y" }, { __tostring = function() return "custom X.Y" end }))
end, { quiet = true })
t.is(failures[1].error.code, "X.Y", "error tables are kept as values")
t.like(failures[1].traceback, "custom X.Y", "traceback uses __tostring")

-- a row may not resume or close another row's coroutine (only the loop may)
local first
nok, failures = tc.each({ 1, 2 }, function(i)
  if i == 1 then first = coroutine.running(); tc.sleep(0.05); return end
  local ok1, e1 = pcall(coroutine.resume, first)
  local ok2, e2 = pcall(coroutine.close, first)
  assert(not ok1 and not ok2, "resume/close of a task was allowed")
  error(e1)
end, { quiet = true })
t.is(nok, 1, "the row that was meddled with finishes normally")
t.like(failures[1] and failures[1].error, "cannot resume or close a coroutine tcrun runs",
       "resuming another row's coroutine is refused")
local own = coroutine.create(function(x) return x * 2 end)
t.is(select(2, coroutine.resume(own, 21)), 42, "coroutines of the script's own still resume")

-- misuse
local co = coroutine.wrap(function() return pcall(tc.call, "cam", "ListUsers") end)
local ok, err = co()
t.ok(not ok and tostring(err):find("not in a coroutine of its own", 1, true),
     "tc.call in a foreign coroutine is refused", err)
nok, failures = tc.each({ 1 }, function() coroutine.yield() end, { quiet = true })
t.like(failures[1] and failures[1].error, "attempt to yield from a tcrun task",
       "coroutine.yield in a row fails clearly")
t.raises(function() tc.each({ 1 }, function() end, { paralel = 2 }) end,
         "bad option 'paralel'", "unknown tc.each option is named")
t.raises(function() table.sort({ 3, 2, 1 }, function(a, b) tc.sleep(0) return a < b end) end,
         "must run in the script's main chunk", "tc.sleep in a sort comparator is refused")
-- tc.event: waiters sleep until a signal wakes them all, once each
local ev = tc.event()
local woke, signalled = {}, nil
tc.each({ 1, 2, 3, "signal" }, function(x)
  if x == "signal" then
    tc.sleep(0.02)
    signalled = ev:signal()
    tc.sleep(0.02)
    t.is(ev:signal(), 0, "a second signal finds nobody waiting")
  else
    ev:wait()
    woke[#woke + 1] = x
  end
end, { parallel = 4 })
t.is(signalled, 3, "signal wakes the three waiters")
t.is(#woke, 3, "each woke exactly once")
local ev2, log = tc.event(), {}
tc.each({ "a", "b" }, function(x)
  if x == "a" then
    for _ = 1, 3 do ev2:wait(); log[#log + 1] = "a" end
  else
    for _ = 1, 3 do tc.sleep(0.01); log[#log + 1] = "s"; ev2:signal() end
  end
end, { parallel = 2 })
t.is(table.concat(log), "sasasa", "an event serves wait after wait")
t.raises(function() local co = coroutine.wrap(function() tc.event():wait() end) co() end,
         "event:wait must run", "waiting outside a task is refused")

-- tc.clock: monotonic seconds finer than os.time()'s whole seconds.
local c0 = tc.clock()
tc.sleep(0.05)
local c1 = tc.clock()
t.ok(c1 - c0 >= 0.05 and c1 - c0 < 5, "tc.clock measures a 0.05 s sleep", "%.6f", c1 - c0)
t.ok(c0 ~= math.floor(c0) or c1 ~= math.floor(c1), "tc.clock has fractions of a second")

t.raises(function() tc.call("cam", "ListUsers", {}, { retires = 3 }) end,
         "bad option 'retires' to 'call'", "a typo in tc.call options fails loudly")
t.raises(function() tc.call("CAM", "ListUsers") end, "service name", "bad service name")
t.raises(function() tc.call("cam", "list-users") end, "action name", "bad action name")
t.done()
