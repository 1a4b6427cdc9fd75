/*
 * fuzz_csv: the CSV reader and writer (tcrun.csv).
 *  1. The reader, on any bytes, ends, and gives rows or "path:LINE: ..."
 *     problems, never anything else.
 *  2. Round trip: the input split at 0x00 into rows and at 0x01 into
 *     fields, written by the writer and read back by the reader, reads
 *     back the same, but for the ' the writer puts before a formula; the
 *     writer may refuse a field (invalid UTF-8), never mangle it.
 */
#include "fuzz_lua.h"

static const char check[] =
	"local data = ...\n"
	"local csv = require 'tcrun.csv'\n"
	"local raw, out = TMP .. '-raw.csv', TMP .. '-out.csv'\n"
	"local f = assert(io.open(raw, 'wb')) f:write(data) f:close()\n"
	"local r = csv.open(raw)\n"
	"if r then\n"
	"  local n = 0\n"
	"  while true do\n"
	"    local row, line = r:next()\n"
	"    if row == nil then break end\n"
	"    if row == false then\n"
	"      assert(line:sub(1, #raw + 1) == raw .. ':' and line:find('^%d+: ', #raw + 2),\n"
	"             'a problem is path:LINE: ' .. line)\n"
	"    else assert(type(row) == 'table' and math.type(line) == 'integer') end\n"
	"    n = n + 1\n"
	"    assert(n <= #data + 1, 'the reader ends')\n"
	"  end\n"
	"  r:close()\n"
	"end\n"
	"-- 2. round trip\n"
	"local rows, width = {}, 1\n"
	"for rec in (data .. '\\0'):gmatch('(.-)%z') do\n"
	"  local fields = {}\n"
	"  for v in (rec .. '\\1'):gmatch('(.-)\\1') do fields[#fields + 1] = v end\n"
	"  if #fields > 8 then fields = { table.unpack(fields, 1, 8) } end\n"
	"  width = math.max(width, #fields)\n"
	"  rows[#rows + 1] = fields\n"
	"  if #rows == 64 then break end\n"
	"end\n"
	"local cols = {}\n"
	"for i = 1, width do cols[i] = 'c' .. i end\n"
	"local w = assert(csv.create(out, cols))\n"
	"local written = {}\n"
	"for _, fields in ipairs(rows) do\n"
	"  local row = {}\n"
	"  for i = 1, width do row['c' .. i] = fields[i] end\n"
	"  if pcall(w.write, w, row) then written[#written + 1] = row end\n"
	"end\n"
	"assert(w:close())\n"
	"local back = assert(csv.open(out))\n"
	"for k, row in ipairs(written) do\n"
	"  local got, line = back:next()\n"
	"  assert(got, ('row %d lost: %s'):format(k, tostring(line)))\n"
	"  for i = 1, width do\n"
	"    local v = row['c' .. i] or ''\n"
	"    if v:find('^[=+%-@\\t\\r]') then v = \"'\" .. v end\n"
	"    assert(got['c' .. i] == v, ('row %d col %d: wrote %q, read %q'):format(k, i, v, got['c' .. i]))\n"
	"  end\n"
	"end\n"
	"assert(back:next() == nil, 'no extra row')\n"
	"back:close()\n"
	"os.remove(raw) os.remove(out)\n";

FUZZ_LUA_TARGET("fuzz_csv", check)
