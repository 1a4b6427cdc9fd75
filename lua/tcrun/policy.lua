-- policy.lua: CAM policy documents from the templates in policies/.
-- A template is JSON with {{name}} placeholders, each inside a JSON
-- string.  render() fills them, refuses unknown or missing ones, checks
-- the result is valid JSON within CAM's 6144-character limit, and returns
-- it compact with sorted keys, so two renders of the same inputs are
-- byte-identical.
--
-- A value can only ever be text inside its string: it is JSON-escaped
-- (so `"]},{"effect":"allow"...` stays a string), and it must have its
-- placeholder's shape (SHAPES: an id has no `*`, `:` or `/`, so it cannot
-- widen a resource).  A planned id of a dry run (plan.lua) is shown by its
-- name.
local tc = require "tc"
local api = require "tcrun.api"
local json = require "tcrun.json"
local plan = require "tcrun.plan"

local M = {}


-- The placeholders templates may use, and the shape of their values.
M.SHAPES = {
  environment = function(v) return v:find("^%l+$") end,
  owner_uin = function(v) return v:find("^%d+$") end,
  env_region = api.is_region,
  server_region = api.is_region,
  env_id = function(v) return v:find("^[%w][%w%-]*$") end,
  instance_id = function(v) return v:find("^[%w][%w%-]*$") end,
  account_uin = function(v) return v:find("^%d+$") end,
  hub_uin = function(v) return v:find("^%d+$") end,
  role = function(v) return v:find("^%l+$") end,
  ["until"] = function(v) return v:find("^%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%dZ$") end,
}

-- The template file called name: the configuration folder's policies/
-- first (an admin's own version of a template), then the shipped ones.
function M.path(name)
  if tc.config_dir then
    local mine = tc.config_dir .. "/policies/" .. name
    local f = io.open(mine, "r")
    if f then f:close(); return mine end
  end
  return tc.home .. "/policies/" .. name
end

-- The document, or nil and "path: why".
function M.render(path, vars)
  tc.debug("policy template: " .. path)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local template = f:read("a")
  f:close()
  local bad
  local text = template:gsub("{{([%w_]+)}}", function(name)
    local v, shape = vars[name], M.SHAPES[name]
    if bad then return "" end
    if not shape then
      bad = ("unknown placeholder {{%s}}"):format(name)
    elseif v == nil then
      bad = ("no value for {{%s}}"):format(name)
    elseif plan.is_planned(v) then
      return json.encode(tostring(v)):sub(2, -2)
    elseif not shape(tostring(v)) then
      bad = ("value %s for {{%s}} does not have its shape"):format(("%q"):format(tostring(v)), name)
    else
      return json.encode(tostring(v)):sub(2, -2)
    end
    return ""
  end)
  if bad then return nil, ("%s: %s"):format(path, bad) end
  -- The template must be JSON before it is filled, so that every
  -- placeholder stands inside a string as plain text: after "\u" a value
  -- of digits would finish the escape (a fuzzer's find).
  local _, terr = json.decode(template)
  if terr then return nil, ("%s: %s"):format(path, terr) end
  local doc, jerr = json.decode(text)
  if not doc then return nil, path .. ": " .. jerr end
  local ok, out = pcall(json.encode, doc)
  if not ok then return nil, ("%s: %s"):format(path, out) end   -- e.g. 1e999
  if #out > 6144 then
    return nil, ("%s: %d characters, over CAM's 6144"):format(path, #out)
  end
  return out
end

-- Whether two policy documents (JSON text) say the same thing.
function M.same(a, b)
  local da, db = json.decode(a or ""), json.decode(b or "")
  return da ~= nil and db ~= nil and json.encode(da) == json.encode(db)
end

return M
