-- units.lua: business-unit settings.  A unit exists when a file declares
-- it: <dir>/<unit>.lua in one of the folders given (the admin's own
-- configuration folder first, then the shipped recipes/bu/), returning a
-- table that overrides the defaults of default.lua (tables merge key by
-- key, lists are replaced) and may add hooks.  A unit with no file is an
-- error, never the defaults: a misspelt unit must not send people to the
-- wrong regions.  A default.lua in an earlier folder overrides the
-- shipped defaults the same way.
--
-- Unit files are data, and untrusted: each runs in an environment of its
-- own with copies of string, table and math (so it cannot change the
-- functions the recipes use), no I/O, no require, no load, no access to
-- tc; and every setting is checked for its shape before any write, a
-- misspelt key included (SETTINGS below).  The values reach API calls,
-- policies and the server script, so each is held to the narrowest shape
-- that works.
--   local units = assert(units.open({ config .. "/bu", home .. "/recipes/bu" }))
--   local s, err = units:get("research")   -- settings, or nil and why
local tc = require "tc"
local debug = require "debug"
local api = require "tcrun.api"
local roster = require "tcrun.roster"

local M = {}
M.__index = M

-- Every setting, with its check: nil when v is fine, else why not.
local function pattern(p, max, what)
  return function(v)
    if type(v) ~= "string" or #v == 0 or #v > max or not v:find(p) then
      return "is not " .. what
    end
  end
end

local function integer(lo, hi)
  return function(v)
    if math.type(v) ~= "integer" or v < lo or v > hi then
      return ("is not a whole number from %d to %d"):format(lo, hi)
    end
  end
end

local function one_of(list)
  local ok = {}
  for _, x in ipairs(list) do ok[x] = true end
  return function(v)
    if not ok[v] then return "is not one of " .. table.concat(list, ", ") end
  end
end

-- A non-empty list of distinct items, each passing check.
local function list_of(check, what)
  return function(v)
    local n = 0
    if type(v) == "table" then for _ in pairs(v) do n = n + 1 end end
    if type(v) ~= "table" or #v == 0 or n ~= #v then return "is not a list of " .. what end
    local seen = {}
    for i, x in ipairs(v) do
      local why = check(x)
      if why then return ("item %d %s"):format(i, why) end
      if seen[x] then return ("repeats %s"):format(tostring(x)) end
      seen[x] = true
    end
  end
end

local sorted_keys = api.sorted_keys

-- Region names: ap-guangzhou, na-siliconvalley, ap-shanghai-fsi.
local REGION = function(v)
  if not api.is_region(v) then return "is not a region name like ap-guangzhou" end
end

-- Tags tcrun sets or reads itself; a unit cannot set them.
local OWN_TAGS = { owner = true, ["owner-uin"] = true, ["managed-by"] = true,
                   ["business-unit"] = true, ["cost-center"] = true, offboarded = true,
                   ["retain-until"] = true }

-- Tag keys: letters, digits, space and + - = . _ : / @, at most 127, not
-- qcloud/tencent/project-prefixed (the Tag API's rules); values at most
-- 255 of the same.
local function tags(v)
  if type(v) ~= "table" then return "is not a table of tags" end
  for _, k in ipairs(sorted_keys(v)) do
    local x = v[k]
    if type(k) ~= "string" or #k > 127 or not k:find("^[%w %+%-=%._:/@]+$")
       or k:lower():find("^qcloud") or k:lower():find("^tencent") or k:lower():find("^project") then
      return ("has a bad tag key %q"):format(tostring(k))
    end
    if OWN_TAGS[k] then return ("sets %q, a tag tcrun sets itself"):format(k) end
    if type(x) ~= "string" or #x > 255 or not x:find("^[%w %+%-=%._:/@]*$") then
      return ("has a bad value for tag %q"):format(k)
    end
  end
end

M.check_tags = tags

-- A list (maybe empty) of distinct CAM user names, or "root".
local function user_names(v)
  if type(v) ~= "table" then return "is not a list of user names" end
  local n, seen = 0, {}
  for _ in pairs(v) do n = n + 1 end
  if n ~= #v then return "is not a list of user names" end
  for i, x in ipairs(v) do
    if type(x) ~= "string" or not x:find("^[%w+=,.@_-]+$") or #x > 64 then
      return ("item %d is not a user name"):format(i)
    end
    if seen[x] then return "repeats " .. x end
    seen[x] = true
  end
end

local HOOKS = { after_user = true, after_workspace = true }
local function hooks(v)
  if type(v) ~= "table" then return "is not a table of hooks" end
  for _, k in ipairs(sorted_keys(v)) do
    local f = v[k]
    if not HOOKS[k] then return ("has an unknown hook %q (after_user, after_workspace)"):format(tostring(k)) end
    if type(f) ~= "function" then return ("has %s as hook %s, not a function"):format(type(f), k) end
  end
end

M.SETTINGS = {
  env_region = REGION,
  server_region = REGION,
  env_package = pattern("^[%w_%-]+$", 64, "a CloudBase package id"),
  env_resources = list_of(one_of({ "flexdb", "storage", "function", "postgresql" }),
                          "CloudBase resources"),
  bundle_id = pattern("^[%w_%-]+$", 64, "a Lighthouse bundle id"),
  blueprint_id = pattern("^lhbp%-%w+$", 64, "a Lighthouse blueprint id (lhbp-...)"),
  server_period_months = integer(1, 60),
  renew_flag = one_of({ "NOTIFY_AND_AUTO_RENEW", "NOTIFY_AND_MANUAL_RENEW" }),
  -- A file name in recipes/scripts/, nothing else.
  assistant_script = pattern("^[%w_][%w_%-]*%.sh$", 64, "a script file name in recipes/scripts (x.sh)"),
  assistant_timeout = integer(60, 86400),
  assistant_login_user = pattern("^[a-z_][a-z0-9_%-]*$", 32, "a login name ([a-z_][a-z0-9_-]*)"),
  environments = list_of(one_of(roster.ENVIRONMENTS), "environments"),
  roles = list_of(one_of(roster.ROLES), "roles"),
  tags = tags,
  country_code = pattern("^%d+$", 4, "a country calling code (digits)"),
  retain_days = integer(0, 3650),
  service_users = user_names,
  break_glass_max_hours = integer(1, 72),
  administrators = user_names,
  hooks = hooks,
}

-- The key of known (a table) nearest to name (a likely typo), or nil.
function M.nearest(name, known)
  local best, dist = nil, 3
  for k in pairs(known) do
    -- Levenshtein distance, small strings only.
    local prev = {}
    for j = 0, #k do prev[j] = j end
    for i = 1, #name do
      local cur = { [0] = i }
      for j = 1, #k do
        local cost = name:byte(i) == k:byte(j) and 0 or 1
        cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      end
      prev = cur
    end
    if prev[#k] < dist then best, dist = k, prev[#k] end
  end
  return best
end

-- nil when the table t a file returned holds only known settings, else
-- why, every unknown key named.
local function unknown_keys(t)
  local bad = {}
  for _, k in ipairs(sorted_keys(t)) do
    k = tostring(k)
    if not M.SETTINGS[k] then
      local near = M.nearest(k, M.SETTINGS)
      bad[#bad + 1] = ("unknown setting '%s'%s"):format(k, near and (" (did you mean '" .. near .. "'?)") or "")
    end
  end
  if #bad > 0 then return table.concat(bad, "; ") end
end

-- nil when settings s are complete and well-shaped, else why, every bad
-- setting named.
local function check(s)
  local bad = {}
  for _, k in ipairs(sorted_keys(M.SETTINGS)) do
    local why = s[k] == nil and "is missing" or M.SETTINGS[k](s[k])
    if why then bad[#bad + 1] = ("setting '%s' %s"):format(k, why) end
  end
  if #bad > 0 then return table.concat(bad, "; ") end
end

local function merge(base, over)
  local out = {}
  for k, v in pairs(base) do out[k] = v end
  for k, v in pairs(over) do
    if type(v) == "table" and type(out[k]) == "table" and #v == 0 and next(v) ~= nil then
      out[k] = merge(out[k], v)
    else
      out[k] = v
    end
  end
  return out
end

local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end

-- A copy of v that shares no table with it (functions stay shared).
local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local c = {}
  for k, x in pairs(v) do c[k] = deep_copy(x) end
  return c
end
M.deep_copy = deep_copy

-- Unit code gets this many Lua instructions per call (a file's body, a
-- hook): an endless loop fails its row instead of hanging the run.
M.INSTRUCTIONS = 100000000

-- fn(...) with an instruction budget; what fn returns, or raises
-- "<what> ran more than N instructions (an endless loop?)".
function M.call_limited(what, fn, ...)
  local limit = M.INSTRUCTIONS
  debug.sethook(function()
    debug.sethook()
    error(("%s ran more than %d instructions (an endless loop?)"):format(what, limit), 2)
  end, "", limit)
  local res = table.pack(pcall(fn, ...))
  debug.sethook()
  if not res[1] then error(res[2], 0) end
  return table.unpack(res, 2, res.n)
end

-- What a unit file may use: copies of the pure libraries (never the
-- recipes' own), error and assert to fail a row from a hook, and log.
local function sandbox()
  return { string = copy(string), table = copy(table), math = copy(math), utf8 = copy(utf8),
           pairs = pairs, ipairs = ipairs, next = next, select = select,
           tostring = tostring, tonumber = tonumber, type = type,
           error = error, assert = assert, pcall = pcall,
           os = { date = os.date, time = os.time },
           log = function(...) tc.log(...) end, print = function(...) tc.log(...) end }
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- The table a settings file returns, run like a unit file (its own
-- environment, an instruction budget); or nil and "path: why".
function M.load_data(path)
  local chunk, err = loadfile(path, "t", sandbox())
  if not chunk then return nil, err end
  local ok, t = pcall(M.call_limited, path, chunk)
  if not ok then
    t = tostring(t)
    return nil, t:sub(1, #path) == path and t or (path .. ": " .. t)
  end
  if type(t) ~= "table" then return nil, path .. ": must return a table" end
  return t
end

-- The table a unit file returns, its keys checked; or nil and "path: why".
local function load_file(path)
  tc.debug("business unit file: " .. path)
  local t, err = M.load_data(path)
  if not t then return nil, err end
  local why = unknown_keys(t)
  if why then return nil, path .. ": " .. why end
  return t
end

-- The first of dirs holding name.lua, as a path; nil when none does.
local function find(dirs, name)
  for _, dir in ipairs(dirs) do
    local path = dir .. "/" .. name .. ".lua"
    if exists(path) then return path end
  end
end

-- Units found in dirs (a list of folders, searched in order): an object,
-- or nil and why (no default.lua anywhere, or one that does not load or
-- check).
function M.open(dirs)
  local defaults, last
  for i = #dirs, 1, -1 do
    local path = dirs[i] .. "/default.lua"
    if exists(path) then
      local t, err = load_file(path)
      if not t then return nil, err end
      defaults, last = defaults and merge(defaults, t) or t, path
    end
  end
  if not defaults then
    return nil, ("no default.lua in %s"):format(table.concat(dirs, " or "))
  end
  defaults = deep_copy(defaults)
  local why = check(defaults)
  if why then return nil, last .. ": " .. why end
  return setmetatable({ dirs = dirs, defaults = defaults, cache = {}, undeclared = {} }, M)
end

-- The values of a region setting (env_region, server_region) across the
-- defaults and every declared unit, sorted: where tcrun's workspaces can be.
function M:regions(key)
  local set = { [self.defaults[key]] = true }
  for _, name in ipairs(self:declared()) do
    local s = self:get(name)
    if s then set[s[key]] = true end
  end
  local out = {}
  for r in pairs(set) do out[#out + 1] = r end
  table.sort(out)
  return out
end

-- The names of the declared units, sorted.
function M:declared()
  local seen, out = {}, {}
  for _, dir in ipairs(self.dirs) do
    for _, f in ipairs(tc.dir(dir) or {}) do
      local name = f:match("^([a-z0-9_-]+)%.lua$")
      if name and name ~= "default" and not seen[name] then
        seen[name] = true
        out[#out + 1] = name
      end
    end
  end
  table.sort(out)
  return out
end

-- The settings of unit name (a table with name and hooks), or nil, a
-- message, and "undeclared" or "broken".  Cached, and so is a unit that
-- is not declared (every roster row naming it asks: a misspelt unit down a
-- column of 50,000 rows listed the folders 50,000 times).
function M:get(name)
  local hit = self.cache[name]
  if hit then return hit end
  if self.undeclared[name] then return nil, self.undeclared[name], "undeclared" end
  if name == "default" then
    return nil, "'default' holds the defaults; it is not a business unit", "undeclared"
  end
  local path = find(self.dirs, name)
  if not path then
    local known = self:declared()
    self.undeclared[name] = ("business unit '%s' is not declared (no %s.lua in %s; declared: %s)")
      :format(name, name, table.concat(self.dirs, " or "),
              #known > 0 and table.concat(known, ", ") or "none")
    return nil, self.undeclared[name], "undeclared"
  end
  local over, err = load_file(path)
  if not over then return nil, err, "broken" end
  -- A copy: what the unit's own code still holds cannot change it later.
  local settings = deep_copy(merge(self.defaults, over))
  local why = check(settings)
  if why then return nil, path .. ": " .. why, "broken" end
  settings.name, settings.path = name, path
  self.cache[name] = settings
  return settings
end

return M
