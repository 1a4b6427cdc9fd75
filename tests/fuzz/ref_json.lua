-- ref_json.lua: a second JSON reader, for fuzz_json to hold host/json.c
-- against.  Written from RFC 8259 and json.h's promises, not from json.c:
-- strict grammar (no trailing commas, leading zeros, NaN, single quotes),
-- only space, tab, LF and CR as whitespace, no control characters in
-- strings, UTF-8 checked, \u escapes with surrogate pairs (a lone
-- surrogate is an error), containers nested at most 512 deep, and
-- numbers read by Lua's tonumber: an integer literal that fits 64 bits is
-- an integer, anything else a float.  Values are shaped as tcrun.json
-- shapes them: null is json.null, arrays carry json.array's metatable,
-- duplicate keys keep the last value.
--
-- ref_json.decode(s, json) -> value | nil
-- ref_json.same(a, b, loose) -> whether a and b are the same value; with
--   loose, a float that is a whole number may have become an integer that
--   converts back to it (json.encode writes 1.0 and -0.0 as JavaScript
--   does: 1 and 0)
-- ref_json.has_inf(v) -> whether v holds an infinite float
local M = {}

local MAX_DEPTH = 512
local ESC = { ['"'] = '"', ['\\'] = '\\', ['/'] = '/', b = '\b', f = '\f',
              n = '\n', r = '\r', t = '\t' }
local FAIL = {}   -- raised to give up; caught in decode

local function fail() error(FAIL, 0) end

function M.decode(s, json)
  local pos = 1
  local value

  local function ws()
    pos = s:find('[^ \t\n\r]', pos) or #s + 1
  end

  local function hex4(at)
    local h = s:match('^%x%x%x%x', at)
    return h and tonumber(h, 16)
  end

  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local c = s:byte(pos)
      if not c or c < 0x20 then fail() end
      if c == 34 then   -- "
        pos = pos + 1
        return table.concat(out)
      elseif c == 92 then   -- backslash
        local e = s:sub(pos + 1, pos + 1)
        if ESC[e] then
          out[#out + 1] = ESC[e]
          pos = pos + 2
        elseif e == 'u' then
          local cp = hex4(pos + 2) or fail()
          pos = pos + 6
          if cp >= 0xDC00 and cp <= 0xDFFF then fail() end
          if cp >= 0xD800 and cp <= 0xDBFF then
            if s:sub(pos, pos + 1) ~= '\\u' then fail() end
            local lo = hex4(pos + 2) or fail()
            if lo < 0xDC00 or lo > 0xDFFF then fail() end
            cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
            pos = pos + 6
          end
          out[#out + 1] = utf8.char(cp)
        else
          fail()
        end
      else
        -- a run of plain bytes: up to a quote, a backslash or a control
        local stop = pos
        while true do
          local b = s:byte(stop)
          if not b or b == 34 or b == 92 or b < 0x20 then break end
          stop = stop + 1
        end
        local run = s:sub(pos, stop - 1)
        if not utf8.len(run) then fail() end   -- strict: no surrogates
        out[#out + 1] = run
        pos = stop
      end
    end
  end

  local function number()
    local i = pos
    local real = false
    if s:sub(i, i) == '-' then i = i + 1 end
    local int = s:match('^%d+', i) or fail()
    if #int > 1 and int:sub(1, 1) == '0' then fail() end
    i = i + #int
    if s:sub(i, i) == '.' then
      local frac = s:match('^%d+', i + 1) or fail()
      i = i + 1 + #frac
      real = true
    end
    if s:find('^[eE]', i) then
      i = i + 1
      if s:find('^[+-]', i) then i = i + 1 end
      local exp = s:match('^%d+', i) or fail()
      i = i + #exp
      real = true
    end
    local text = s:sub(pos, i - 1)
    pos = i
    local v = tonumber(text)   -- a float whenever there is a '.' or 'e'
    assert(not real or math.type(v) == 'float')
    return v
  end

  function value(depth)
    ws()
    local c = s:sub(pos, pos)
    if c == '{' or c == '[' then
      if depth > MAX_DEPTH then fail() end
      local close = c == '{' and '}' or ']'
      local t = c == '[' and json.array() or {}
      pos = pos + 1
      ws()
      if s:sub(pos, pos) == close then
        pos = pos + 1
        return t
      end
      while true do
        if c == '{' then
          ws()
          if s:sub(pos, pos) ~= '"' then fail() end
          local k = str()
          ws()
          if s:sub(pos, pos) ~= ':' then fail() end
          pos = pos + 1
          t[k] = value(depth + 1)
        else
          t[#t + 1] = value(depth + 1)
        end
        ws()
        local d = s:sub(pos, pos)
        pos = pos + 1
        if d == close then return t end
        if d ~= ',' then fail() end
      end
    elseif c == '"' then
      return str()
    elseif c == '-' or c:find('^%d') then
      return number()
    end
    for word, v in pairs({ ['true'] = true, ['false'] = false,
                           null = json.null }) do
      if s:sub(pos, pos + #word - 1) == word then
        pos = pos + #word
        return v
      end
    end
    fail()
  end

  local ok, v = pcall(function()
    local v = value(1)
    ws()
    if pos <= #s then fail() end
    return v
  end)
  if ok then return v end
  if v ~= FAIL then error(v, 0) end
  return nil
end

function M.same(a, b, loose)
  if type(a) ~= type(b) then return false end
  if type(a) == 'number' then
    if math.type(a) == math.type(b) then
      return a == b and (a ~= 0 or math.type(a) == 'integer' or 1 / a == 1 / b)
    end
    -- a whole float written as digits reads back as the integer those
    -- digits say, which is that float again once converted (above 2^53
    -- the digits may not be its exact value: 6666666666666661000 for
    -- 6666666666666660864.0, as JavaScript writes it)
    return loose and math.type(a) == 'float' and a == math.floor(a) and
           b + 0.0 == a
  end
  if type(a) ~= 'table' then return a == b end
  if getmetatable(a) ~= getmetatable(b) then return false end
  for k, v in pairs(a) do
    if b[k] == nil or not M.same(v, b[k], loose) then return false end
  end
  for k in pairs(b) do
    if a[k] == nil then return false end
  end
  return true
end

function M.has_inf(v)
  if type(v) == 'number' then return v == math.huge or v == -math.huge end
  if type(v) ~= 'table' then return false end
  for _, x in pairs(v) do
    if M.has_inf(x) then return true end
  end
  return false
end

return M
