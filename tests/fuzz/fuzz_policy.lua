-- fuzz_policy: policy.render (lua/tcrun/policy.lua) with any template and
-- any values.  The input is the template, 0x00, then the values of
-- environment, owner_uin, env_region, env_id, server_region and
-- instance_id, split at 0x01.  Whenever render returns a document:
--  - it is JSON within CAM's 6144 characters;
--  - its structure (types, object sizes, array lengths) is exactly that of
--    the same template rendered with plain values: a value can only ever
--    be text inside its string, never a new statement, action or resource;
--  - every placeholder in the template is known, has a value, and the
--    value has its placeholder's shape (policy.SHAPES);
--  - the template itself is JSON: every placeholder stands inside a
--    string as text (not, say, after "\u", where digits would finish the
--    escape).
-- Whenever the template is JSON itself (so every placeholder is inside a
-- string) and has all it needs, render returns exactly that JSON with each
-- {{name}} replaced by the value's own characters, unless the result is
-- over 6144 characters or holds an infinite number: the values are
-- escaped right, whatever they hold.  (Not checked when an escape such as
-- \u007b makes a placeholder the text does not have, or two keys become
-- one.)  When it refuses, it says "path: why".
local data = ...
local policy = require 'tcrun.policy'
local json = require 'tcrun.json'
local tpl, rest = data:match('^(.-)%z(.*)$')
if not tpl then tpl, rest = data, '' end
local names = { 'environment', 'owner_uin', 'env_region', 'env_id',
                'server_region', 'instance_id' }
local plain = { environment = 'dev', owner_uin = '1', env_region = 'ap-x',
                env_id = 'e', server_region = 'ap-y', instance_id = 'i' }
local vars, i = {}, 0
for v in (rest .. '\1'):gmatch('(.-)\1') do
  i = i + 1
  if names[i] then vars[names[i]] = v end
end
for _, n in ipairs(names) do if vars[n] == nil then vars[n] = plain[n] end end
local path = TMP .. '-policy.json'
local f = assert(io.open(path, 'wb')) f:write(tpl) f:close()
local function shape(v)
  local t = type(v)
  if t ~= 'table' then return t == 'string' and 's' or tostring(math.type(v) or t) end
  local parts = {}
  for k, x in pairs(v) do parts[#parts + 1] = (math.type(k) and (k .. '=') or '') .. shape(x) end
  table.sort(parts)
  return '{' .. table.concat(parts, ',') .. '}'
end
local PH = '{{([%w_]+)}}'
-- The placeholders in the text, and whether each is known, has a value
-- and the value its shape.
local used, good = {}, true
for name in tpl:gmatch(PH) do
  used[#used + 1] = name
  local shaped = policy.SHAPES[name]
  good = good and shaped ~= nil and vars[name] ~= nil and shaped(vars[name]) and true
end
local doc, err = policy.render(path, vars)
if doc then
  assert(#doc <= 6144, 'within 6144 characters')
  local got = assert(json.decode(doc), 'a document is JSON')
  assert(good, 'rendered with a placeholder unknown, missing or out of shape')
  assert(json.decode(tpl), 'rendered a template that is not JSON itself')
  local base = policy.render(path, plain)
  assert(base, 'rendered with fuzz values but not with plain ones')
  assert(shape(got) == shape(json.decode(base)),
         'a value changed the structure: ' .. doc)
else
  assert(type(err) == 'string' and err:sub(1, #path + 2) == path .. ': ',
         'a refusal is path: why: ' .. tostring(err))
end
-- The template as JSON, its strings filled in here: what render must give.
local raw = good and json.decode(tpl)
local clash = false   -- two keys became one: which one stays is render's
local function fill(v, found)
  if type(v) == 'string' then
    for name in v:gmatch(PH) do found[#found + 1] = name end
    return (v:gsub(PH, vars))
  elseif type(v) ~= 'table' then
    return v
  end
  local t = setmetatable({}, getmetatable(v))
  for k, x in pairs(v) do
    local key = fill(k, found)
    clash = clash or t[key] ~= nil
    t[key] = fill(x, found)
  end
  return t
end
if raw ~= nil then
  local found = {}
  local want = fill(raw, found)
  table.sort(found)
  table.sort(used)
  -- an escape such as \u007b can make a placeholder the text does not have
  if not clash and table.concat(found, ',') == table.concat(used, ',') then
    local ok, text = pcall(json.encode, want)
    if ok and #text <= 6144 then
      assert(doc == text, ('rendered %s, expected %s (%s)'):format(
             tostring(doc), text, tostring(err)))
    end
  end
end
os.remove(path)
