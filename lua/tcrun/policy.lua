-- policy.lua: CAM policy documents from the templates in policies/.
-- A template is JSON with {{name}} placeholders; render() fills them,
-- refuses unknown or missing ones, checks the result is valid JSON within
-- CAM's 6144-character limit, and returns it compact with sorted keys, so
-- two renders of the same inputs are byte-identical.
local json = require "tcrun.json"

local M = {}

function M.render(path, vars)
  local f, err = io.open(path, "r")
  if not f then return nil, err end
  local text = f:read("a")
  f:close()
  local missing
  text = text:gsub("{{([%w_]+)}}", function(name)
    local v = vars[name]
    if v == nil then missing = missing or name; return "" end
    return tostring(v)
  end)
  if missing then return nil, ("%s: no value for {{%s}}"):format(path, missing) end
  local doc, jerr = json.decode(text)
  if not doc then return nil, path .. ": " .. jerr end
  local out = json.encode(doc)
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
