#!/usr/bin/env tcrun
-- What recipes write, held to issue 8's findings: the ledger is 0600,
-- never written through a planted symbolic link, synced, and raises when
-- it cannot record (so the act it records does not happen); password
-- files never replace one another, even with the same stamp; csv.create's
-- exclusive option; tc.appender; tc.mkdir refuses folders others control.
local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
local ledger = require "tcrun.ledger"
local onboarding = require "tcrun.onboarding"
local csv = require "tcrun.csv"

local tmp = os.tmpname()
os.remove(tmp)
assert(tc.mkdir(tmp))
local function mode(path)
  local p = io.popen("stat -c %a '" .. path .. "'")
  local m = p:read("l")
  p:close()
  return m
end
local function read(path)
  local f = io.open(path, "r")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

-- 1. The ledger.
local l = assert(ledger.open(tmp .. "/state.jsonl"))
l:append({ event = "password-set", username = "ann" })
t.is(mode(tmp .. "/state.jsonl"), "600", "the ledger is mode 0600")
t.like(read(tmp .. "/state.jsonl"), '^{"event":"password%-set","time":"[^"]+","username":"ann"}\n$',
       "one JSON line per event")
l:close()
t.is(ledger.open(tmp .. "/state.jsonl"):last("ann", { ["password-set"] = true }).event, "password-set",
     "read back by the next run")

local victim = tmp .. "/victim"
assert(io.open(victim, "w")):close()
os.execute(("ln -s '%s' '%s/planted.jsonl'"):format(victim, tmp))
local none, err = ledger.open(tmp .. "/planted.jsonl")
t.ok(none == nil and err:find("symbolic links", 1, true), "a planted symbolic link is refused", err)
t.is(read(victim), "", "and nothing reaches the file it points to")

local full = assert(ledger.open(tmp .. "/full.jsonl"))
full.file:close()
full.file = assert(tc.appender("/dev/full"))   -- a disk that is full
local ok, why = pcall(full.append, full, { event = "password-set", username = "ben" })
t.ok(not ok and why:find("ledger not written: /dev/full: No space left on device", 1, true),
     "an append that fails raises (a full disk)", why)
t.is(full:last("ben", { ["password-set"] = true }), nil, "and the event is not taken as recorded")

local dry = assert(ledger.open(tmp .. "/dry.jsonl", true))
dry:append({ event = "password-set", username = "cal" })
t.is(read(tmp .. "/dry.jsonl"), nil, "a dry run's ledger writes nothing")
t.ok(dry:last("cal", { ["password-set"] = true }), "but remembers for the run")

-- 2. Password files: a unique name each, never replacing another.
local function ctx(names)
  local c = { ledger = assert(ledger.open(tmp .. "/pw.jsonl")), passwords = {} }
  for _, n in ipairs(names) do
    c.passwords[#c.passwords + 1] = { username = n, uin = 1, password = n .. "-pw" }
  end
  return c
end
local function deliver(names)
  local c = ctx(names)
  local path = assert(onboarding.deliver_passwords(c, tmp, "20261203T000000Z"))
  c.ledger:close()   -- one run at a time holds the ledger
  return path
end
local first, second = deliver({ "ann" }), deliver({ "ben" })
t.ok(first ~= second, "two runs in the same second get two files", first .. " " .. second)
t.like(read(first), "ann%-pw", "the first run's passwords are still there")
t.like(read(second), "ben%-pw", "next to the second's")
t.is(mode(second), "600", "mode 0600")

local w = assert(csv.create(tmp .. "/x.csv", { "a" }, { exclusive = true }))
w:write({ a = "1" })
t.ok(w:close(), "exclusive: a new file is made")
w = assert(csv.create(tmp .. "/x.csv", { "a" }, { exclusive = true }))
w:write({ a = "2" })
local closed, cerr = w:close()
t.ok(not closed and cerr:find("File exists", 1, true), "exclusive: an existing file is not replaced", cerr)
t.is(read(tmp .. "/x.csv"), "a\n1\n", "and keeps its content")

-- 3. tc.appender, tc.mkdir.
local a = assert(tc.appender(tmp .. "/a.log"))
t.ok(a:write("one") and a:write("two"), "appender: writes lines")
t.ok(not pcall(a.write, a, "x\ny"), "appender: a line with a newline is refused")
a:close()
t.is(read(tmp .. "/a.log"), "one\ntwo\n", "appender: each line ends in a newline")
local held = assert(tc.appender(tmp .. "/held.log"))
local script = tmp .. "/second.lua"
local f = assert(io.open(script, "w"))
f:write(("local a, err = tc.appender(%q) print(a and 'opened' or err)"):format(tmp .. "/held.log"))
f:close()
local other = io.popen(("TCRUN_JOURNAL_DIR='%s' tcrun '%s' 2>&1"):format(tmp, script))
local says = other:read("a")
other:close()
local me = io.open("/proc/self/stat"):read("l"):match("^(%d+)")
t.like(says, "held%.log: in use by another run %(pid " .. me .. ": [^)]*files%.t%); wait for it to end",
       "appender: a second process cannot open a file one holds, and is told which holds it")
held:close()
t.ok(not pcall(a.write, a, "z"), "appender: closed means closed")
local made, merr = tc.mkdir(victim)
t.ok(not made and merr:find("Not a directory", 1, true), "mkdir: a file is not a folder", merr)
os.execute(("mkdir '%s/open' && chmod 0775 '%s/open'"):format(tmp, tmp))
made, merr = tc.mkdir(tmp .. "/open")
t.ok(not made and merr:find("others can write to it (mode 0775)", 1, true),
     "mkdir: a group-writable folder is refused", merr)

os.execute(("mkdir '%s/shared' && chmod 0777 '%s/shared'"):format(tmp, tmp))
made, merr = tc.mkdir(tmp .. "/shared/out")
t.ok(not made and merr:find("a folder above .* that others can write to %(mode 0777, not sticky%)"),
     "mkdir: a folder under one others can write to is refused (it could be swapped)", merr)
os.execute(("chmod 1777 '%s/shared'"):format(tmp))
t.ok(tc.mkdir(tmp .. "/shared/out"), "mkdir: under a sticky one (like /tmp) it is fine")

local ok, cerr = tc.mkdir(tmp .. "/shared/new/deeper", { check = true })
t.ok(ok and not io.open(tmp .. "/shared/new", "r"), "mkdir check: a folder it could make is fine, and not made",
     cerr)
os.execute(("chmod 0777 '%s/shared'"):format(tmp))
ok, cerr = tc.mkdir(tmp .. "/shared/new", { check = true })
t.ok(not ok and cerr:find("others can write to"), "mkdir check: under an unsafe folder, refused", cerr)
ok, cerr = tc.mkdir(victim .. "/out", { check = true })
t.ok(not ok and cerr:find("cannot make .*: Not a directory"), "mkdir check: under a file, refused", cerr)

os.execute("rm -rf '" .. tmp .. "'")
t.done()
