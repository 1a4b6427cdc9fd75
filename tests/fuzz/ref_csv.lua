-- ref_csv.lua: what tcrun.csv's reader gives for a file without a quote
-- character, for fuzz_csv to hold host/lcsvread.c (over libcsv) against.
-- Written from lcsv.h's and lcsvread.c's promises: a UTF-8 BOM is
-- skipped; LF, CRLF and a lone CR each end a line; a line of only spaces
-- and tabs is no record; every other line is one record, split at commas,
-- each field trimmed of spaces and tabs.  The first record is the header
-- (names not empty, valid UTF-8, not repeated, at most 10000); every
-- later record needs as many fields, each valid UTF-8.
--
-- ref_csv.read(data) -> { err = "LINE: why" }
--                     | { header = {...}, records = { {line = n, row = {...}}
--                                                  | {line = n, bad = "why"}, ... } }
local M = {}

-- Names in messages go through lua_pushfstring's %s, which stops at a
-- NUL byte.
local function upto_nul(s)
  return (s:match('^[^%z]*'))
end

local function trim(s)
  return (s:gsub('^[ \t]+', ''):gsub('[ \t]+$', ''))
end

-- The lines of data, each { text, number }, and the number of the line
-- after the last.
local function lines(data)
  local out, pos, n = {}, 1, 1
  while pos <= #data do
    local at = data:find('[\r\n]', pos)
    if not at then
      out[#out + 1] = { data:sub(pos), n }
      break
    end
    out[#out + 1] = { data:sub(pos, at - 1), n }
    n = n + 1
    if data:sub(at, at + 1) == '\r\n' then at = at + 1 end
    pos = at + 1
  end
  return out, n
end

function M.read(data)
  assert(not data:find('"', 1, true), 'ref_csv reads files without quotes')
  if data:sub(1, 3) == '\239\187\191' then data = data:sub(4) end
  local all, last = lines(data)
  local header, records = nil, {}
  for _, l in ipairs(all) do
    local text, n = l[1], l[2]
    if text:find('[^ \t]') then
      local fields = {}
      for f in (text .. ','):gmatch('([^,]*),') do
        fields[#fields + 1] = trim(f)
      end
      if not header then
        if #fields > 10000 then
          return { err = ('%d: too many columns (%d)'):format(n, #fields) }
        end
        local seen = {}
        for i, name in ipairs(fields) do
          if name == '' then
            return { err = ('%d: empty column name in field %d'):format(n, i) }
          elseif not utf8.len(name) then
            return { err = ('%d: invalid UTF-8 in column name %d'):format(n, i) }
          elseif seen[name] then
            return { err = ("%d: duplicate column name '%s'"):format(n, upto_nul(name)) }
          end
          seen[name] = true
        end
        header = fields
      elseif #fields ~= #header then
        records[#records + 1] = { line = n, bad = ('expected %d fields, got %d')
                                                  :format(#header, #fields) }
      else
        local row, bad = {}, nil
        for i, v in ipairs(fields) do
          if not bad and not utf8.len(v) then
            bad = ('invalid UTF-8 in field %d (%s)'):format(i, upto_nul(header[i]))
          end
          row[header[i]] = v
        end
        records[#records + 1] = bad and { line = n, bad = bad }
                                     or { line = n, row = row }
      end
    end
  end
  if not header then return { err = ('%d: missing header'):format(last) } end
  return { header = header, records = records }
end

return M
