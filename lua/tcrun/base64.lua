-- base64.lua: RFC 4648 base64 with the standard alphabet and padding.
-- base64.encode(s) -> string; base64.decode(s) -> string, or nil and a
-- message for bad input (wrong length, a character outside the alphabet,
-- misplaced padding, non-zero bits in the padding).
-- Does not: accept whitespace or line breaks, the URL-safe alphabet, or
-- unpadded input.
local byte, char, sub, fmt = string.byte, string.char, string.sub, string.format
local concat = table.concat

local M = {}

local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

-- pair[n] encodes 12 bits as two characters; value[b] decodes one byte.
local pair, value = {}, {}
for i = 0, 63 do value[byte(ALPHABET, i + 1)] = i end
for i = 0, 4095 do
  pair[i] = sub(ALPHABET, (i >> 6) + 1, (i >> 6) + 1) .. sub(ALPHABET, (i & 63) + 1, (i & 63) + 1)
end

function M.encode(s)
  local out, n, len = {}, 0, #s
  local full = len - len % 3
  for i = 1, full, 3 do
    local a, b, c = byte(s, i, i + 2)
    local v = a << 16 | b << 8 | c
    n = n + 1
    out[n] = pair[v >> 12] .. pair[v & 4095]
  end
  local rest = len - full
  if rest == 1 then
    local v = byte(s, len) << 16
    out[n + 1] = pair[v >> 12] .. "=="
  elseif rest == 2 then
    local a, b = byte(s, len - 1, len)
    local v = a << 16 | b << 8
    out[n + 1] = pair[v >> 12] .. sub(ALPHABET, (v >> 6 & 63) + 1, (v >> 6 & 63) + 1) .. "="
  end
  return concat(out)
end

function M.decode(s)
  local len = #s
  if len % 4 ~= 0 then
    return nil, fmt("invalid base64: length %d is not a multiple of 4", len)
  end
  local pad = s:match("=*$")
  local bad = s:find("[^A-Za-z0-9+/]", 1)
  if #pad > 2 or (bad and bad <= len - #pad) then
    bad = bad or len - #pad + 1
    local c = sub(s, bad, bad)
    if c == "=" then return nil, fmt("invalid base64: misplaced '=' at position %d", bad) end
    return nil, fmt("invalid base64: character %q at position %d", c, bad)
  end
  local out, n = {}, 0
  local body = len - (#pad > 0 and 4 or 0)
  for i = 1, body, 4 do
    local a, b, c, d = byte(s, i, i + 3)
    local v = value[a] << 18 | value[b] << 12 | value[c] << 6 | value[d]
    n = n + 1
    out[n] = char(v >> 16, v >> 8 & 255, v & 255)
  end
  if #pad > 0 then
    local a, b, c = byte(s, len - 3, len - 1)
    local v = value[a] << 18 | value[b] << 12 | (#pad == 1 and value[c] << 6 or 0)
    if (#pad == 2 and v & 0xffff ~= 0) or (#pad == 1 and v & 0xff ~= 0) then
      return nil, "invalid base64: non-zero bits in the padding"
    end
    out[n + 1] = #pad == 2 and char(v >> 16) or char(v >> 16, v >> 8 & 255)
  end
  return concat(out)
end

return M
