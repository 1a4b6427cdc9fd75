-- fuzz_csv: the CSV reader and writer (tcrun.csv) on any bytes.
--  1. The reader ends, and gives a header and rows, or "path:LINE: ..."
--     problems, never anything else: the header's names are not empty,
--     trimmed, valid UTF-8 and not repeated; every row has exactly the
--     header's names as keys and valid UTF-8 strings as values; records
--     come on strictly increasing lines within the file.
--  2. On a file without a quote character, the reader gives exactly what
--     a second reader (ref_csv.lua, lines split at commas) gives: the
--     same header or refusal, the same rows, problems and line numbers.
--  3. Round trip: the input split at 0x00 into rows and at 0x01 into
--     fields, written by the writer and read back by the reader, reads
--     back the same, but for the ' the writer puts before a formula; the
--     writer may refuse a field (invalid UTF-8), never mangle it.
local data = ...
local csv = require 'tcrun.csv'
local raw, out = TMP .. '-raw.csv', TMP .. '-out.csv'
local f = assert(io.open(raw, 'wb')) f:write(data) f:close()
local function problem(msg)
  assert(type(msg) == 'string' and msg:sub(1, #raw + 1) == raw .. ':',
         'a problem is path:LINE: ' .. tostring(msg))
  local line, why = msg:match('^(%d+): (.*)$', #raw + 2)
  assert(line, 'a problem is path:LINE: ' .. msg)
  return math.tointeger(line), why
end
-- lines of the file: LF, CRLF and a lone CR each end one
local _, crlf = data:gsub('\r\n', '')
local _, cr = data:gsub('\r', '')
local _, lf = data:gsub('\n', '')
local nlines = cr + lf - crlf + 1
-- 1. what the reader gives
local got = {}
local r, err = csv.open(raw)
if r then
  local header, seen = r:header(), {}
  assert(#header >= 1, 'a header has a name')
  for _, name in ipairs(header) do
    assert(name ~= '' and not name:find('^[ \t]') and not name:find('[ \t]$')
           and utf8.len(name) and not seen[name], 'a good column name: ' .. name)
    seen[name] = true
  end
  got.header = header
  got.records = {}
  local last = 0
  while true do
    local row, line = r:next()
    if row == nil then break end
    local rec = {}
    if row == false then
      rec.line, rec.bad = problem(line)
    else
      assert(type(row) == 'table' and math.type(line) == 'integer', 'row, line')
      local n = 0
      for k, v in pairs(row) do
        n = n + 1
        assert(seen[k] and type(v) == 'string' and utf8.len(v),
               'a row has the header\'s names and UTF-8 strings')
      end
      assert(n == #header, 'a row has every column')
      rec.line, rec.row = line, row
    end
    assert(rec.line > last and rec.line <= nlines,
           ('records on increasing lines of the file: %d after %d, of %d')
           :format(rec.line, last, nlines))
    last = rec.line
    got.records[#got.records + 1] = rec
  end
  r:close()
else
  local line, why = problem(err)
  assert(line >= 1 and line <= nlines, 'the refusal is on a line of the file')
  got.err = line .. ': ' .. why
end
-- 2. the same as the reference, for a file without quotes
if not data:find('"', 1, true) then
  local want = require('ref_csv').read(data)
  if want.err or got.err then
    assert(want.err == got.err, ('refused as %s, expected %s'):format(
           tostring(got.err), tostring(want.err)))
  else
    assert(table.concat(got.header, ',') == table.concat(want.header, ',')
           and #got.header == #want.header, 'the header as expected')
    for i = 1, math.max(#got.records, #want.records) do
      local g, w = got.records[i], want.records[i]
      assert(g and w and g.line == w.line and g.bad == w.bad,
             ('record %d: got line %s %s, expected line %s %s'):format(i,
             g and g.line, g and g.bad or 'row', w and w.line, w and w.bad or 'row'))
      for _, name in ipairs(w.row and want.header or {}) do
        assert(w.row[name] == g.row[name], ('record %d, %s: got %q, expected %q')
               :format(i, name, g.row[name], w.row[name]))
      end
    end
  end
end
-- 3. round trip
local rows, width = {}, 1
for rec in (data .. '\0'):gmatch('(.-)%z') do
  local fields = {}
  for v in (rec .. '\1'):gmatch('(.-)\1') do fields[#fields + 1] = v end
  if #fields > 8 then fields = { table.unpack(fields, 1, 8) } end
  width = math.max(width, #fields)
  rows[#rows + 1] = fields
  if #rows == 64 then break end
end
local cols = {}
for i = 1, width do cols[i] = 'c' .. i end
local w = assert(csv.create(out, cols))
local written = {}
for _, fields in ipairs(rows) do
  local row = {}
  for i = 1, width do row['c' .. i] = fields[i] end
  if pcall(w.write, w, row) then written[#written + 1] = row end
end
assert(w:close())
local back = assert(csv.open(out))
for k, row in ipairs(written) do
  local got, line = back:next()
  assert(got, ('row %d lost: %s'):format(k, tostring(line)))
  for i = 1, width do
    local v = row['c' .. i] or ''
    if v:find('^[=+%-@\t\r]') then v = "'" .. v end
    assert(got['c' .. i] == v, ('row %d col %d: wrote %q, read %q'):format(k, i, v, got['c' .. i]))
  end
end
assert(back:next() == nil, 'no extra row')
back:close()
os.remove(raw) os.remove(out)
