-- bu.lua: business-unit settings.  recipes/bu/default.lua holds the
-- defaults; recipes/bu/<unit>.lua, when present, returns a table that
-- overrides them (tables merge key by key, lists are replaced) and may add
-- hooks.  Settings are data: a unit file returns a table, nothing else.
local M = {}

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

local function load_file(path)
  local chunk, err = loadfile(path, "t", sandbox())
  if not chunk then return nil, err end
  local ok, t = pcall(chunk)
  if not ok then return nil, path .. ": " .. tostring(t) end
  if type(t) ~= "table" then return nil, path .. ": must return a table" end
  return t
end

-- Settings for unit name from folder dir: a table, or nil, err.  Results
-- are cached per loader.
function M.loader(dir)
  local default, err = load_file(dir .. "/default.lua")
  if not default then return nil, err end
  local cache = {}
  return function(name)
    if cache[name] then return cache[name] end
    local path = dir .. "/" .. name .. ".lua"
    local f = io.open(path, "r")
    local settings = default
    if f then
      f:close()
      local over, e = load_file(path)
      if not over then return nil, e end
      settings = merge(default, over)
    end
    settings = merge(settings, { name = name })
    cache[name] = settings
    return settings
  end
end

return M
