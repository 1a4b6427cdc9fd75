-- fuzz_json: the JSON reader and writer (host/json.c through tcrun.json)
-- on any bytes.
--  1. The reader agrees with a second one written from RFC 8259
--     (ref_json.lua): it accepts exactly what that accepts, and decodes
--     to the same value (integers stay integers, floats the same floats,
--     -0.0 included, strings the same bytes, duplicate keys the last).
--  2. What it refuses gets one line, "json: line L, column C: why", at a
--     place inside the input, at its end exactly when the why is
--     "unexpected end of input".
--  3. What it accepts encodes, unless it holds an infinite number, to
--     text that decodes to the same value (but for floats that are whole
--     numbers, written as JavaScript writes them) and encodes to the same
--     text again.
local data = ...
local json = require 'tcrun.json'
local ref = require 'ref_json'
local v, err = json.decode(data)
local want = ref.decode(data, json)
-- 1. the same answer as the reference
assert((v == nil) == (want == nil), v == nil
       and 'refused what RFC 8259 allows: ' .. tostring(err)
       or 'accepted what RFC 8259 refuses')
if v == nil then
  -- 2. one line, at a place in the input
  local l, c, why = tostring(err):match('^json: line (%d+), column (%d+): ([^\n]+)$')
  assert(l, 'a json error is one line with its place: ' .. tostring(err))
  local at, line = 0, 1
  while line < tonumber(l) do
    at = assert(data:find('\n', at + 1, true), 'the error line is in the input')
    line = line + 1
  end
  at = at + tonumber(c) - 1
  local nl = data:find('\n', at - (tonumber(c) - 1) + 1, true)
  assert(at <= #data and (not nl or at < nl), 'the error column is on its line: ' .. err)
  assert((at == #data) == (why == 'unexpected end of input'),
         'unexpected end of input exactly at the end: ' .. err)
  return
end
assert(ref.same(want, v), 'decoded differently from RFC 8259')
-- 3. round trip
local ok, text = pcall(json.encode, v)
if not ok then
  assert(ref.has_inf(v), 'a decoded value encodes: ' .. tostring(text))
  return
end
local again, err2 = json.decode(text)
assert(err2 == nil, 'encoded text decodes: ' .. text .. ': ' .. tostring(err2))
assert(ref.same(v, again, true), 'encoded text decodes to the same value: ' .. text)
assert(json.encode(again) == text, 'encode is stable: ' .. text)
