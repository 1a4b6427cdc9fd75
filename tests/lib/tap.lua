-- tap.lua: the Test Anything Protocol for Lua tests run under tcrun.
--   local t = dofile(os.getenv("TCRUN_SRCDIR") .. "/tests/lib/tap.lua")
--   t.plan(3); t.ok(x, "name"); t.is(got, want, "name"); t.like(s, pat, "name")
--   t.done()  -- exits non-zero when a test failed or the plan was not met
local M = {}

local planned, count, failed = nil, 0, 0

local function show(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v) .. " (" .. (math.type(v) or type(v)) .. ")"
end

function M.plan(n)
  planned = n
  print("1.." .. n)
end

function M.ok(cond, name, diag)
  count = count + 1
  if cond then
    print(("ok %d - %s"):format(count, name))
  else
    failed = failed + 1
    print(("not ok %d - %s"):format(count, name))
    if diag then print("#   " .. tostring(diag):gsub("\n", "\n#   ")) end
  end
  return cond
end

-- Equal in value and, for numbers, in subtype: 1 and 1.0 differ here.
function M.is(got, want, name)
  local same = got == want and math.type(got) == math.type(want)
  return M.ok(same, name, "got:  " .. show(got) .. "\nwant: " .. show(want))
end

function M.like(got, pattern, name)
  local s = tostring(got)
  return M.ok(s:find(pattern) ~= nil, name,
              "got:  " .. show(got) .. "\nwant match: " .. pattern)
end

-- Runs f, expecting an error whose text contains the plain string needle.
function M.raises(f, needle, name)
  local okk, err = pcall(f)
  local msg = tostring(err)
  return M.ok(not okk and msg:find(needle, 1, true) ~= nil, name,
              okk and "no error raised" or "error: " .. msg)
end

function M.diag(msg) print("# " .. tostring(msg):gsub("\n", "\n# ")) end

function M.done()
  if planned == nil then print("1.." .. count) end
  if planned and planned ~= count then
    M.diag(("planned %d tests, ran %d"):format(planned, count))
    os.exit(1)
  end
  os.exit(failed == 0 and 0 or 1)
end

return M
