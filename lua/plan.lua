-- plan.lua: the one door for write calls.  A run either makes a write
-- (tc.call) or, under --dry-run, records it for the plan and returns nil, so
-- recipe steps are written once for both.  Also prints the plan.
-- Does not: decide what to write (the steps do), or retry (the host does).
local tc = require "tc"
local json = require "tcrun.json"

local M = {}
M.__index = M

function M.new(dry_run)
  return setmetatable({ dry_run = dry_run, writes = {}, count = 0 }, M)
end

-- Makes the write call and returns its Response, or records it under
-- dry-run and returns nil.  who groups writes in the printed plan.
function M:write(who, service, action, params, opts)
  if self.dry_run then
    local list = self.writes[who]
    if not list then list = {}; self.writes[who] = list end
    list[#list + 1] = { service = service, action = action, params = params,
                        region = opts and opts.region }
    self.count = self.count + 1
    return nil
  end
  return tc.call(service, action, params, opts)
end

-- A copy of v fit to print: secrets and values under secret keys as "***",
-- long strings (policy documents, scripts) cut short.
local secret_keys = { Password = true, SecretKey = true, SecretAccessKey = true,
                      TmpSecretKey = true, Token = true, PrivateKey = true }
local function printable(v, key)
  if secret_keys[key] or tostring(v) == "<secret>" then return "***" end
  if type(v) == "string" and #v > 80 then
    return v:sub(1, (utf8.offset(v, 49) or 49) - 1) .. ("... (%d bytes)"):format(#v)
  end
  if type(v) ~= "table" then return v end
  local c = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do c[k] = printable(x, k) end
  return c
end

function M.describe(w)
  return ("%s.%s %s%s"):format(w.service, w.action, json.encode(printable(w.params)),
                              w.region and (" (" .. w.region .. ")") or "")
end

-- Prints the planned writes of each name in order, to out (default stdout).
function M:print(order, out)
  out = out or io.stdout
  for _, who in ipairs(order) do
    local list = self.writes[who]
    if list then
      out:write(who, ":\n")
      for i, w in ipairs(list) do out:write(("  %d. %s\n"):format(i, M.describe(w))) end
    end
  end
  out:write(("dry run: %d write call(s) planned, none made\n"):format(self.count))
end

return M
