#!/usr/bin/env tcrun
-- progress.lua's estimate of the time left: at the pace so far, once a
-- tenth is done or half a minute has gone; nothing before or at the end.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local progress = require "tcrun.progress"

local p = progress.new(1000, "onboard")
p.started = 1000
t.is(p:left(1010), "", "nothing done yet: no estimate")
p.done = 50
t.is(p:left(1020), "", "5% done after 20 s: too early to say")
t.is(p:left(1030), ", about 10 min left", "5% done after 30 s: 950 more at that pace")
p.done = 500
t.is(p:left(1100), ", about 2 min left", "half done after 100 s: 100 s more, in minutes")
p.done = 900
t.is(p:left(1180), ", about 20 s left", "under 90 s: in seconds")
p.done = 1000
t.is(p:left(1200), "", "all done: no estimate")

p.done, p.started = 500, tc.clock()
t.is(p:left(), "", "half done at once: too early to say")

-- Sparse, off a terminal: a line each tenth, without names.
local logged, log = {}, tc.log
tc.log = function(s) logged[#logged + 1] = s end
local q = progress.new(250, "reading users", "read", true)
q.tty = false
for i = 1, 250 do q:step("u" .. i, true) end
t.is(#logged, 10, "250 items: ten lines", table.concat(logged, " | "))
t.is(logged[1], "reading users [25/250]", "the first when a tenth is done")
t.is(logged[10], "reading users [250/250]", "the last at the end")
logged = {}
q = progress.new(25, "reading users", "read", true)
q.tty = false
for i = 1, 25 do q:step("u" .. i, true) end
tc.log = log
t.is(table.concat(logged, " | "), "reading users [25/25]", "under a hundred: the end only")
t.done()
