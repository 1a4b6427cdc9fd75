-- units.lua: business-unit settings.  A unit exists when a file declares
-- it: <dir>/<unit>.lua in one of the folders given (the admin's own
-- configuration folder first, then the shipped recipes/bu/), returning a
-- table that overrides the defaults of default.lua (tables merge key by
-- key, lists are replaced) and may add hooks.  A unit with no file is an
-- error, never the defaults: a misspelt unit must not send people to the
-- wrong regions.  A default.lua in an earlier folder overrides the
-- shipped defaults the same way.  Unit files run without I/O functions.
--   local units = assert(units.open({ config .. "/bu", home .. "/recipes/bu" }))
--   local s, err = units:get("research")   -- settings, or nil and why
-- Does not: check the settings' values (the recipes' steps use them).
local M = {}
M.__index = M

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

-- What a unit file may use: data and pure helpers, no I/O.
local function sandbox()
  return { string = string, table = table, math = math, pairs = pairs,
           ipairs = ipairs, tostring = tostring, tonumber = tonumber,
           type = type, os = { date = os.date, time = os.time } }
end

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- The table a unit file returns, or nil and "path: why".
local function load_file(path)
  local chunk, err = loadfile(path, "t", sandbox())
  if not chunk then return nil, err end
  local ok, t = pcall(chunk)
  if not ok then return nil, path .. ": " .. tostring(t) end
  if type(t) ~= "table" then return nil, path .. ": must return a table" end
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
-- or nil and why (no default.lua anywhere, or one that does not load).
function M.open(dirs)
  local defaults
  for i = #dirs, 1, -1 do
    local path = dirs[i] .. "/default.lua"
    if exists(path) then
      local t, err = load_file(path)
      if not t then return nil, err end
      defaults = defaults and merge(defaults, t) or t
    end
  end
  if not defaults then
    return nil, ("no default.lua in %s"):format(table.concat(dirs, " or "))
  end
  return setmetatable({ dirs = dirs, defaults = defaults, cache = {} }, M)
end

-- The settings of unit name (a table with name and hooks), or nil, a
-- message, and "undeclared" or "broken".  Cached.
function M:get(name)
  local hit = self.cache[name]
  if hit then return hit end
  if name == "default" then
    return nil, "'default' holds the defaults; it is not a business unit", "undeclared"
  end
  local path = find(self.dirs, name)
  if not path then
    return nil, ("business unit '%s' is not declared (no %s.lua in %s)")
      :format(name, name, table.concat(self.dirs, " or ")), "undeclared"
  end
  local over, err = load_file(path)
  if not over then return nil, err, "broken" end
  local settings = merge(merge(self.defaults, over), { name = name })
  settings.hooks = settings.hooks or {}
  self.cache[name] = settings
  return settings
end

return M
