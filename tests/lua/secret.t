#!/usr/bin/env tcrun
-- Secrets stay opaque in Lua; the CSV writer is their sanctioned sink.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local json = require "tcrun.json"
local csv = require "tcrun.csv"

local p = tc.password()
t.is(tostring(p), "<secret>", "tostring shows no secret")
t.is(getmetatable(p), "secret", "metatable is protected")
t.ok(p == p and p ~= tc.password(), "secrets compare by value")
t.raises(function() json.encode({ Password = p }) end, "cannot encode a secret here",
         "json.encode refuses secrets")
t.raises(function() return p .. "x" end, "attempt to concatenate", "no concatenation")
t.is(tostring(tc.password(12)), "<secret>", "length option")
t.raises(function() tc.password(4) end, "length must be 8 to 64", "too short refused")

local dir = os.tmpname()
os.remove(dir)
local path = dir .. ".csv"
local w = assert(csv.create(path, { "username", "password" }, { mode = "0600" }))
local pws = {}
for i = 1, 500 do
  pws[i] = tc.password(16)
  w:write({ username = "u" .. i, password = pws[i] })
end
assert(w:close())
local good, formula = 0, 0
for row in assert(csv.open(path)):rows() do
  local s = row.password
  if #s == 16 and s:find("%u") and s:find("%l") and s:find("%d") and s:find("[^%w]") then
    good = good + 1
  end
  if s:find("^[=+%-@']") then formula = formula + 1 end
end
t.is(good, 500, "written passwords have 16 chars with upper, lower, digit, symbol")
t.is(formula, 0, "none starts like a spreadsheet formula (about 1 in 10 did), none was altered")
local mode = io.popen("stat -c %a " .. path):read("l")
t.is(mode, "600", "password file has mode 0600")
os.remove(path)
t.done()
