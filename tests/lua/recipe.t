#!/usr/bin/env tcrun
-- recipe.lua, the kit, without the cloud: start() refuses every problem
-- before any write with exit 2 (bad options, roster rows, undeclared
-- units, an --out it cannot make); each() records each step's word and
-- what it made, and the step a row failed at; finish() writes the report
-- from status, facts, error and roster columns in that order; the plan's
-- planned ids are values of their own.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local recipe = require "tcrun.recipe"
local plan = require "tcrun.plan"
local csv = require "tcrun.csv"

local HEADER = "username,display_name,email,phone,business_unit,role,environments,cost_center,workspace,uin\n"
local tmp = os.tmpname()
os.remove(tmp)
assert(tc.mkdir(tmp))

local function write(name, content)
  local path = tmp .. "/" .. name
  local f = assert(io.open(path, "w"))
  f:write(content)
  f:close()
  return path
end

-- Runs recipe.start with stderr captured: run, code, what it printed.
local function start(argv, spec)
  local real, said = io.stderr, {}
  io.stderr = { write = function(self, ...)
    for _, s in ipairs({ ... }) do said[#said + 1] = tostring(s) end
    return self
  end }
  local ok, run, code = pcall(recipe.start, argv, spec)
  io.stderr = real
  if not ok then error(run, 0) end
  return run, code, table.concat(said)
end

local SPEC = { name = "test", roster = "employees", out = tmp .. "/out", usage = "test ROSTER" }

-- 1. Problems, all at once, before anything is made.
local bad = write("bad.csv", HEADER ..
  "ann.lee,Ann,ann@example.com,,platform,admin,dev,CC1,yes,\n" ..
  "ben.wu,Ben,ben@example.com,,platfrom,viewer,dev,CC1,yes,\n" ..
  "cal.ma,Cal,cal@example.com,,platform,root,dev,CC1,yes,\n" ..
  "dee.su,Dee,dee@example.com,,default,viewer,dev,CC1,yes,\n")
local run, code, said = start({ bad, "--out", tmp .. "/never" }, SPEC)
t.is(run, nil, "a bad roster: no run")
t.is(code, 2, "exit code 2")
t.like(said, bad:gsub("%p", "%%%0") .. ":3: business unit 'platfrom' is not declared %(no platfrom%.lua in ",
       "an undeclared unit is a file:line problem")
t.like(said, ":4: unknown role 'root'", "next to the roster's own problems")
t.like(said, ":5: 'default' holds the defaults; it is not a business unit",
       "default is not a unit")
t.ok(said:find(":3:.*:4:.*:5:"), "in line order", said)
t.is(io.open(tmp .. "/never", "r"), nil, "and --out was not made")

-- A roster missing a column the unit check reads: the missing column, not
-- a unit problem per row (nor a traceback).
for _, col in ipairs({ "business_unit", "role", "environments" }) do
  local header = HEADER:gsub(col .. ",", "")
  local body = "ann.lee,Ann,ann@example.com,,platform,admin,dev,CC1,yes,\n"
  body = col == "business_unit" and body:gsub(",platform,", ",", 1)
         or col == "role" and body:gsub(",admin,", ",", 1) or body:gsub(",dev,", ",", 1)
  local missing = write("missing-" .. col .. ".csv", header .. body)
  run, code, said = start({ missing, "--out", tmp .. "/never" }, SPEC)
  t.is(code, 2, "no " .. col .. " column: exit 2")
  t.is(said, ("%s:1: missing required column '%s'\n"):format(missing, col), "and only that said")
end

run, code, said = start({ "--nope", bad }, SPEC)
t.is(code, 2, "an unknown option: exit 2")
t.like(said, "unknown option '%-%-nope'", "named")

local good = write("good.csv", HEADER ..
  "ann.lee,Ann,ann@example.com,,platform,admin,dev,CC1,yes,100000100004\n" ..
  "ben.wu,Ben,ben@example.com,,research,viewer,dev;test,CC2,no,999\n")
run, code, said = start({ good, "--out", "/proc/no/such/dir" }, SPEC)
t.is(code, 2, "an --out that cannot be made: exit 2 before any write")
t.like(said, "^tcrun: %-%-out: /proc/no/such/dir: [^\n]+\n$", "one line naming --out")
local file = write("afile", "x")
run, code, said = start({ good, "--out", file }, SPEC)
t.is(code, 2, "an --out that is a file: exit 2")
t.like(said, "afile: Not a directory", "says so")
run, code, said = start({ good, "--out", "/proc/self" }, SPEC)
t.is(code, 2, "an --out that is a symbolic link: exit 2")
t.like(said, "^tcrun: %-%-out: /proc/self: not a folder %(a symbolic link%?%)", "says so")
assert(tc.mkdir(tmp .. "/shared"))
os.execute("chmod 0777 '" .. tmp .. "/shared'")
run, code, said = start({ good, "--out", tmp .. "/shared" }, SPEC)
t.is(code, 2, "an --out others can write to: exit 2")
t.like(said, "shared: others can write to it %(mode 0777%): chmod go%-w it", "says so and what to do")

-- 2. A run: rows, units, steps.
run, code, said = start({ good, "--out", tmp .. "/out" }, SPEC)
t.ok(run, "a good roster starts", said)
t.is(#run.rows, 2, "two rows")
t.is(run.rows[2].unit.name, "research", "each row has its unit's settings")
t.is(run.rows[2].unit.server_region, "ap-beijing", "merged over the defaults")
t.is(run.rows[1].employee.uin, "100000100004", "an extra column stays in the employee")
t.ok(run.stamp:match("^%d+T%d+Z$"), "a UTC stamp for file names")

local seen = {}
local failed = run:each(function(e, unit, step)
  local user = step("user", function()
    return "created", e.username == "ann.lee" and { uin = #e.username } or {}
  end)
  seen[e.username] = user.uin
  step("groups", function(u)
    if e.username == "ben.wu" then error("ben \27[2J\r1 ok, 0 failed\194\133 cannot join", 0) end
    return "exists", { groups = u.uin }
  end, user)
  step("hook", function() end)
end)
t.is(#failed, 1, "each(): one row failed")
local ann, ben = run.rows[1], run.rows[2]
t.is(seen["ann.lee"], 7, "a step's made table comes back from step()")
t.is(ann.status.user .. "," .. ann.status.groups, "created,exists", "each step's word is recorded")
t.is(ann.status.hook, nil, "a step returning no word records none")
t.is(ann.facts.uin, 7, "what steps made is kept for the report")
t.is(ann.error, nil, "ann did not fail")
t.is(ben.failed_step, "groups", "ben failed at groups")
t.is(ben.status.groups, "failed", "that step's status says failed")
t.is(ben.error, "ben \\x1b[2J\\x0d1 ok, 0 failed\\u{0085} cannot join",
     "with the error, made terminal-safe (escape, carriage return, C1 control)")
t.is(ben.status.hook, nil, "and nothing after it ran")

local real = io.stdout
local screen = {}
io.stdout = { write = function(self, ...)
  for _, s in ipairs({ ... }) do screen[#screen + 1] = tostring(s) end
  return self
end }
local status = run:finish { report = "r.csv", columns = { "username", "uin", "user", "groups", "error" },
                            steps = { "user", "groups" } }
io.stdout = real
screen = table.concat(screen)
t.is(status, false, "finish(): false when a row failed")
local r = assert(csv.open(tmp .. "/out/r.csv"))
local a, b = r:next(), r:next()
r:close()
t.is(a.uin, "7", "report: a step's uin wins over the roster's uin column")
t.is(b.uin, "", "report: no uin found, none reported (not the roster's column)")
t.is(b.user, "created", "report: a step's word")
t.is(b.error, ben.error, "report: the error, terminal-safe")
t.like(screen, "test: 2 employee%(s%), 1 ok, 1 failed", "screen: the counts")
t.like(screen, "FAILED ben.wu at groups: ben \\x1b%[2J", "screen: the failure and its step, escaped")
t.ok(not screen:find("\27", 1, true) and not screen:find("\r", 1, true), "screen: no raw control character")

-- Failures alike share a line: eight rows throttled at the server, one
-- at groups with the same code, one with another code.
local report = require "tcrun.report"
local failing = {}
local function throttled(n, step, code, message)
  local row = { employee = { username = "u" .. n }, status = {}, facts = {} }
  failing[#failing + 1] = row
  run:each(function(e, unit, s)
    s(step, function()
      if not code then error(message:format(e.username), 0) end
      error(setmetatable({ code = code, service = "lighthouse", action = "CreateInstances",
                           message = message or "slow down", request_id = "req-" .. n },
                         { __tostring = function(x)
                             return x.code .. ": " .. x.message .. " (" .. x.request_id .. ")" end }))
    end)
  end, { row })
end
for n = 1, 8 do throttled(n, "server", "RequestLimitExceeded") end
throttled(9, "groups", "RequestLimitExceeded")
throttled(10, "server", "LimitExceeded.InstanceQuotaLimitExceeded")
throttled(11, "server", "RequestLimitExceeded", "another message")
throttled(12, "groups", nil, "%s would be in 11 CAM groups")
throttled(13, "groups", nil, "%s would be in 11 CAM groups")
local lines = {}
report.screen("t", failing, {}, { write = function(_, s) lines[#lines + 1] = s end })
lines = table.concat(lines)
t.like(lines, "FAILED u1 at server: RequestLimitExceeded: slow down %(req%-1%)\n"
  .. "  FAILED the same way, 7 more: u2, u3, u4, u5, u6 and 2 more\n", "alike failures share a line")
t.like(lines, "FAILED u9 at groups", "another step is another line")
t.like(lines, "FAILED u10 at server: [^\n]*InstanceQuotaLimitExceeded", "another code is another line")
t.like(lines, "FAILED u11 at server: [^\n]*another message", "another message is another line")
t.like(lines, "FAILED u12 at groups: u12 would be in 11 CAM groups\n"
  .. "  FAILED the same way, 1 more: u13\n", "texts alike but for the row's name share a line")
local _, nlines = lines:gsub("\n", "")
t.is(nlines, 8, "thirteen failures in seven lines after the count", lines)

-- Steps side by side (api.together) that both fail: the row's error
-- says both, whether the first is an API error or a string.
local api = require "tcrun.api"
local both = {}
for _, first in ipairs({ "table", "string" }) do
  local row = { employee = { username = "pair-" .. first }, status = {}, facts = {} }
  both[#both + 1] = row
  run:each(function(e, unit, s)
    api.together(function()
      s("environment", function()
        if first == "string" then error("env refused", 0) end
        error(setmetatable({ code = "LimitExceeded", message = "env refused" },
                           { __tostring = function(x) return x.code .. ": " .. x.message end }))
      end)
    end, function()
      s("server", function()
        tc.sleep(0.01)
        if first == "string" then error("server refused", 0) end
        error(setmetatable({ code = "X", message = "server refused", where = "lib.lua:1: " },
          { __tostring = function(x) return x.where .. x.code .. ": " .. x.message end }))
      end)
    end)
  end, { row })
end
t.is(both[1].error, "LimitExceeded: env refused; also: X: server refused",
     "together: an API error and the other's, without where it surfaced")
t.is(both[2].error, "env refused; also: server refused", "together: two strings")
t.is(both[1].failed_step, "environment, server", "both steps failed")

-- 3. Planned ids.
local p = plan.new(true)
local id = plan.planned("server")
t.is(tostring(id), "(new server)", "a planned id prints by name")
t.ok(plan.is_planned(id) and not plan.is_planned("(new server)"), "and is not a string that looks like one")
t.is(p:write("ann", "lighthouse", "StopInstances", { InstanceIds = { id } }), nil,
     "a dry run's write returns nil")
t.is(p:outcome("created"), "planned", "and its word is planned")
local out = {}
p:print({ "ann" }, { write = function(self, ...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end })
t.like(table.concat(out), 'lighthouse%.StopInstances {"InstanceIds":%["%(new server%)"%]}',
       "the plan shows the planned id")
p:write("(groups)", "cam", "CreateGroup", { GroupName = "dev-viewer" })
p:write("ann", "cam", "AddUserToGroup", { Info = {} })
p:write("ann", "cam", "CreateGroup", { GroupName = "x" })
out = {}
p:write("cid", "cam", "AddUser", { Name = "cid" })
local sink = { write = function(self, ...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end }
p:print({ "ann", "bob", "cid", "dee" }, sink, "employee", { cid = true, dee = true })
t.like(table.concat(out), "dry run: 5 write call%(s%) planned, none made\n"
  .. "  by action: cam%.AddUser 1, cam%.AddUserToGroup 1, cam%.CreateGroup 2, lighthouse%.StopInstances 1\n"
  .. "  1 of 4 employee%(s%) would change, 2 failed, 1 as wanted already\n$",
  "the plan ends with an overview: writes by action, rows that would change, failed or not")
p = plan.new(true)
p:write("ann", "lighthouse", "StopInstances", { InstanceIds = { id } })
t.is(plan.new(false):outcome("created"), "created", "a real run's word is its own")
out = {}
p:write("eve\27[2J", "cam", "AddUser", { Remark = "Eve \u{202E}gnp.exe\194\133" })
p:print({}, { write = function(self, ...) for _, s in ipairs({ ... }) do out[#out + 1] = s end end })
out = table.concat(out)
t.like(out, 'eve\\x1b%[2J:\n  1%. cam%.AddUser {"Remark":"Eve \\u{202E}gnp%.exe\\u{0085}"}',
       "the plan escapes bidi and C1 controls, and a hostile name")

os.execute("rm -rf '" .. tmp .. "'")
t.done()
