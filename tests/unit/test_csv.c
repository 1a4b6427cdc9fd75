/*
 * test_csv: the tcrun.csv module (host/lcsv.c), driven from Lua.
 *
 * Fixture files go into a mkdtemp directory (the global `dir` in Lua).
 * Each case is a Lua chunk that raises a got/want message on failure; a
 * case may have a second chunk, `check`, run after C has emptied the stack
 * and collected garbage twice, so handles dropped by `run` are surely gone.
 * Helpers for the chunks: stat_mode(path), list_dir(), rss_kib(), asan.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lcsv.h"
#include "luachunk.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test_csv.XXXXXX";

struct fixture {
	const char *name;
	const char *data;
};

static const struct fixture fixtures[] = {
	{"bom.csv", "\xef\xbb\xbfname,email\nann,a@x\n"},
	{"crlf.csv", "a,b\r\n1,2\r\n\r\n3,4\r\n"},
	{"cr.csv", "a,b\r1,2\r\r3,4\r"},
	{"quoted.csv", "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"multi\nline\",z\n"
	               "\"crlf\r\ninside\",w\nlast,row\n"},
	{"trim.csv", "\" a \", b ,c\n 1 ,\" 2 \",3\n"},
	{"ragged.csv", "a,b,c\n1,2,3\n4,5\n6,7,8\n"},
	{"utf8.csv", "name,email\nann,a@x\nbob,b\xff" "@x\ncid,c@x\n"},
	{"unterminated.csv", "a,b\n1,2\n3,\"open\n4,5\n"},
	{"stray.csv", "a,b\n1,x\"y\n2,\"q\"z\n3,4\n"},
	{"blank.csv", "\n\na,b\n\n  \n1,2\n\n3,4"},
	{"dup.csv", "a,b, a \n1,2,3\n"},
	{"emptyname.csv", "a,,c\n1,2,3\n"},
	{"empty.csv", ""},
	{"badhead.csv", "a,\"b\n1,2\n"},
};

struct test {
	const char *name;
	const char *run;
	const char *check;      /* optional, run after a full collection */
};

static const char prelude[] =
	"csv = require 'tcrun.csv'\n"
	"function P(name) return dir .. '/' .. name end\n"
	"local function show(v)\n"
	"  if type(v) ~= 'string' then return tostring(v) end\n"
	"  return (string.format('%q', v):gsub('\\n', 'n'))\n"
	"end\n"
	"function eq(got, want, what)\n"
	"  if got ~= want then\n"
	"    error(string.format('%s\\ngot:  %s\\nwant: %s', what or 'value',\n"
	"                        show(got), show(want)), 2)\n"
	"  end\n"
	"end\n"
	"function has(got, sub, what)\n"
	"  if type(got) ~= 'string' or not got:find(sub, 1, true) then\n"
	"    error(string.format('%s\\ngot:  %s\\nwant: ...%s...',\n"
	"                        what or 'message', show(got), show(sub)), 2)\n"
	"  end\n"
	"end\n"
	"function slurp(name)\n"
	"  local f = assert(io.open(P(name), 'rb'))\n"
	"  local s = f:read('a') f:close() return s\n"
	"end\n"
	"function spit(name, s)\n"
	"  local f = assert(io.open(P(name), 'wb')) f:write(s) f:close()\n"
	"end\n"
	/* every result of next() up to nil, as {a, b} pairs */
	"function rows_of(name)\n"
	"  local r, out = assert(csv.open(P(name))), {}\n"
	"  while true do\n"
	"    local a, b = r:next()\n"
	"    if a == nil then break end\n"
	"    out[#out + 1] = {a, b}\n"
	"  end\n"
	"  r:close() return out\n"
	"end\n"
	"function tmp_files()\n"
	"  local t = {}\n"
	"  for _, n in ipairs(list_dir()) do\n"
	"    if n:find('.tmp.', 1, true) then t[#t + 1] = n end\n"
	"  end\n"
	"  table.sort(t) return table.concat(t, ' ')\n"
	"end\n";

static const struct test tests[] = {
	{"reader skips a UTF-8 BOM",
	 "local r = assert(csv.open(P'bom.csv'))\n"
	 "eq(r:header()[1], 'name', 'first column')\n"
	 "local row, line = r:next()\n"
	 "eq(row.name, 'ann') eq(row.email, 'a@x') eq(line, 2, 'line')\n"
	 "eq(r:next(), nil, 'end of file')\n"
	 "eq(r:next(), nil, 'still end of file')\n", NULL},

	{"reader handles CRLF",
	 "local t = rows_of'crlf.csv'\n"
	 "eq(#t, 2, 'records')\n"
	 "eq(t[1][1].b, '2', 'last field has no CR') eq(t[1][2], 2, 'line')\n"
	 "eq(t[2][1].a, '3') eq(t[2][2], 4, 'line after a blank CRLF line')\n"
	 "t = rows_of'cr.csv'\n"
	 "eq(#t, 2, 'CR-only records')\n"
	 "eq(t[1][1].b, '2') eq(t[1][2], 2, 'CR-only line')\n"
	 "eq(t[2][1].a, '3') eq(t[2][2], 4, 'CR-only line after blank')\n",
	 NULL},

	{"reader handles quoted comma, quote, newline and their lines",
	 "local t = rows_of'quoted.csv'\n"
	 "eq(#t, 4, 'records')\n"
	 "eq(t[1][1].a, 'x,y') eq(t[1][1].b, 'say \"hi\"') eq(t[1][2], 2)\n"
	 "eq(t[2][1].a, 'multi\\nline') eq(t[2][1].b, 'z') eq(t[2][2], 3)\n"
	 "eq(t[3][1].a, 'crlf\\r\\ninside') eq(t[3][2], 5, 'line')\n"
	 "eq(t[4][1].a, 'last') eq(t[4][2], 7, 'line after multi-line')\n",
	 NULL},

	{"reader trims header names and unquoted fields, not quoted ones",
	 "local r = assert(csv.open(P'trim.csv'))\n"
	 "local h = r:header()\n"
	 "eq(table.concat(h, '|'), 'a|b|c', 'header')\n"
	 "local row = r:next()\n"
	 "eq(row.a, '1', 'unquoted') eq(row.b, ' 2 ', 'quoted') r:close()\n",
	 NULL},

	{"reader reports a ragged row with file:line and continues",
	 "local t = rows_of'ragged.csv'\n"
	 "eq(#t, 3, 'results')\n"
	 "eq(t[1][2], 2, 'first line')\n"
	 "eq(t[2][1], false, 'bad record')\n"
	 "eq(t[2][2], P'ragged.csv' .. ':3: expected 3 fields, got 2')\n"
	 "eq(t[3][1].c, '8', 'next record') eq(t[3][2], 4, 'next line')\n",
	 NULL},

	{"reader reports invalid UTF-8 with field and column",
	 "local t = rows_of'utf8.csv'\n"
	 "eq(#t, 3, 'results') eq(t[2][1], false, 'bad record')\n"
	 "eq(t[2][2], P'utf8.csv' .. ':3: invalid UTF-8 in field 2 (email)')\n"
	 "eq(t[3][1].name, 'cid') eq(t[3][2], 4)\n", NULL},

	{"reader reports an unterminated quoted field at its line",
	 "local t = rows_of'unterminated.csv'\n"
	 "eq(#t, 2, 'results') eq(t[1][2], 2)\n"
	 "eq(t[2][1], false)\n"
	 "eq(t[2][2], P'unterminated.csv' ..\n"
	 "   ':3: unterminated quoted field')\n",
	 NULL},

	{"reader reports stray quotes and continues on the next line",
	 "local t = rows_of'stray.csv'\n"
	 "eq(#t, 3, 'results')\n"
	 "eq(t[1][2], P'stray.csv' .. ':2: quote in unquoted field')\n"
	 "eq(t[2][2], P'stray.csv' .. "
	 "':3: unexpected character after closing quote')\n"
	 "eq(t[3][1].a, '3') eq(t[3][2], 4)\n", NULL},

	{"reader skips blank lines; last line without newline",
	 "local t = rows_of'blank.csv'\n"
	 "eq(#t, 2, 'records')\n"
	 "eq(t[1][1].a, '1') eq(t[1][2], 6, 'line')\n"
	 "eq(t[2][1].b, '4') eq(t[2][2], 8, 'line')\n", NULL},

	{"reader rejects bad headers and missing files",
	 "local r, e = csv.open(P'dup.csv')\n"
	 "eq(r, nil) eq(e, P'dup.csv' .. \":1: duplicate column name 'a'\")\n"
	 "r, e = csv.open(P'emptyname.csv')\n"
	 "eq(r, nil) eq(e, P'emptyname.csv' .. ':1: empty column name "
	 "in field 2')\n"
	 "r, e = csv.open(P'badhead.csv')\n"
	 "eq(r, nil) eq(e, P'badhead.csv' .. ':1: unterminated quoted field')\n"
	 "r, e = csv.open(P'empty.csv')\n"
	 "eq(r, nil) eq(e, P'empty.csv' .. ':1: missing header')\n"
	 "r, e = csv.open(P'nope.csv')\n"
	 "eq(r, nil) eq(e, P'nope.csv' .. ': No such file or directory')\n",
	 NULL},

	{"rows() iterates, raises file:line, reader continues",
	 "local r = assert(csv.open(P'crlf.csv'))\n"
	 "local n = 0\n"
	 "for row, line in r:rows() do n = n + 1 eq(line, n * 2) end\n"
	 "eq(n, 2, 'rows') r:close()\n"
	 "r = assert(csv.open(P'ragged.csv'))\n"
	 "local ok, err = pcall(function() for _ in r:rows() do end end)\n"
	 "eq(ok, false)\n"
	 "eq(err, P'ragged.csv' .. ':3: expected 3 fields, got 2',\n"
	 "   'error without position prefix')\n"
	 "local row, line = r:next()\n"
	 "eq(line, 4, 'line after the raise') r:close()\n",
	 NULL},

	{"closed reader raises; <close> closes",
	 "local r = assert(csv.open(P'crlf.csv'))\n"
	 "local it = r:rows()\n"
	 "eq(tostring(r), 'csv reader (' .. P'crlf.csv' .. ')')\n"
	 "eq(r:close(), true)\n"
	 "eq(tostring(r), 'csv reader (closed)')\n"
	 "for i, f in ipairs{r.next, r.header, r.rows, r.close, it} do\n"
	 "  local ok, err = pcall(f, r)\n"
	 "  eq(ok, false, 'call ' .. i)\n"
	 "  has(err, 'attempt to use a closed csv reader')\n"
	 "end\n"
	 "do local r2 <close> = assert(csv.open(P'crlf.csv')) r = r2 end\n"
	 "eq(tostring(r), 'csv reader (closed)', 'after <close>')\n", NULL},

	{"header() returns a copy",
	 "local r = assert(csv.open(P'crlf.csv'))\n"
	 "local h = r:header() h[1] = 'zzz'\n"
	 "eq(r:header()[1], 'a') eq(r:next().a, '1') r:close()\n", NULL},

	{"writer writes 19-digit integers exactly, floats, booleans",
	 "local w = assert(csv.create(P'ints.csv', {'uin', 'f', 'b'}))\n"
	 "assert(w:write{100000000001, 0.1, true})\n"
	 "assert(w:write{uin = math.maxinteger, f = 1/3, b = false})\n"
	 "assert(w:write{uin = math.mininteger, f = 2^63})\n"
	 "assert(w:write{uin = 1234567890123456789, f = 1.0})\n"
	 "eq(w:close(), true)\n"
	 "eq(slurp'ints.csv', 'uin,f,b\\n100000000001,0.1,true\\n'\n"
	 "   .. '9223372036854775807,0.3333333333333333,false\\n'\n"
	 "   .. '-9223372036854775808,9.223372036854776e+18,\\n'\n"
	 "   .. '1234567890123456789,1,\\n')\n", NULL},

	{"writer to reader round trip of awkward values",
	 "local vals = {'a,b', 'say \"hi\"', '\"', '\"\"', 'two\\nlines',\n"
	 "  'cr\\r\\nlf', 'lone\\rcr', '  leading', 'trailing ', 'tab\\t',\n"
	 "  ' ', '', ',', 'h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 "
	 "\xe4\xb8\xad\xe6\x96\x87', 'plain'}\n"
	 "local w = assert(csv.create(P'rt.csv', {'k', 'v, \"v\"', 'n'}))\n"
	 "for i, v in ipairs(vals) do\n"
	 "  assert(w:write{k = i, ['v, \"v\"'] = v, n = 1.5})\n"
	 "end\n"
	 "assert(w:close())\n"
	 "local r = assert(csv.open(P'rt.csv'))\n"
	 "eq(r:header()[2], 'v, \"v\"', 'quoted header')\n"
	 "local line = 2\n"
	 "for i, v in ipairs(vals) do\n"
	 "  local row, l = r:next()\n"
	 "  eq(row['v, \"v\"'], v, 'value ' .. i)\n"
	 "  eq(row.k, tostring(i)) eq(row.n, '1.5') eq(l, line, 'line ' .. i)\n"
	 "  local _, k = v:gsub('\\r\\n', '\\n'):gsub('[\\r\\n]', '')\n"
	 "  line = line + 1 + k\n"
	 "end\n"
	 "eq(r:next(), nil, 'end') r:close()\n", NULL},

	{"writer guards formulas: = + - @ tab CR first get a leading '",
	 "local vals = {'=2+5', '@A1', '-1', '+8613800000001', '\\tx', '\\rx',\n"
	 "  '=HYPERLINK(\"http://x\",\"y\")', 'a=b', ''}\n"
	 "local w = assert(csv.create(P'f.csv', {'v', 'n'}))\n"
	 "for _, v in ipairs(vals) do assert(w:write{v = v, n = -5}) end\n"
	 "assert(w:close())\n"
	 "local r = assert(csv.open(P'f.csv'))\n"
	 "for i, v in ipairs(vals) do\n"
	 "  local row = r:next()\n"
	 "  local want = v:find('^[=+%-@\\t\\r]') and (\"'\" .. v) or v\n"
	 "  eq(row.v, want, 'value ' .. i) eq(row.n, '-5', 'a number is a number')\n"
	 "end\n"
	 "r:close()\n", NULL},

	{"writer: a lone empty field and a leading U+FEFF read back",
	 "local w = assert(csv.create(P'one.csv', {'\\239\\187\\191id'}))\n"
	 "assert(w:write{['\\239\\187\\191id'] = ''})\n"
	 "assert(w:write{})\n"
	 "assert(w:write{['\\239\\187\\191id'] = 'x'})\n"
	 "assert(w:close())\n"
	 "local r = assert(csv.open(P'one.csv'))\n"
	 "eq(r:header()[1], '\\239\\187\\191id', 'the header keeps its U+FEFF')\n"
	 "local a, b, c = r:next(), r:next(), r:next()\n"
	 "eq(a and a['\\239\\187\\191id'], '', 'an empty field is a row, not a blank line')\n"
	 "eq(b and b['\\239\\187\\191id'], '', 'so is a missing one')\n"
	 "eq(c and c['\\239\\187\\191id'], 'x', 'and the next row follows')\n"
	 "r:close()\n", NULL},

	{"writer honours mode 0600 from the first byte; default 0644",
	 "local w = assert(csv.create(P'secret.csv', {'user', 'password'},\n"
	 "                            {mode = '0600'}))\n"
	 "local tmp = tmp_files()\n"
	 "has(tmp, 'secret.csv.tmp.', 'temporary file')\n"
	 "eq(stat_mode(P(tmp)), 384, 'temporary file mode (0600)')\n"
	 "eq(stat_mode(P'secret.csv'), nil, 'path before close')\n"
	 "assert(w:write{user = 'ann', password = 'x'})\n"
	 "eq(w:close(), true)\n"
	 "eq(stat_mode(P'secret.csv'), 384, 'mode (0600)')\n"
	 "eq(tmp_files(), '', 'temporary files')\n"
	 "w = assert(csv.create(P'mode2.csv', {'a'}, {mode = 416})) w:close()\n"
	 "eq(stat_mode(P'mode2.csv'), 416, 'integer mode (0640)')\n"
	 "w = assert(csv.create(P'public.csv', {'a'})) w:close()\n"
	 "eq(stat_mode(P'public.csv'), 420, 'default (0644, umask 022)')\n",
	 NULL},

	{"writer checks arguments and options",
	 "local ok, err = pcall(csv.create, P'x.csv', {'a'}, {mdoe = '0600'})\n"
	 "eq(ok, false) has(err, \"bad option 'mdoe'\")\n"
	 "ok, err = pcall(csv.create, P'x.csv', {'a'}, {mode = 600})\n"
	 "eq(ok, false) has(err, \"option 'mode' must be 0..0777\")\n"
	 "ok, err = pcall(csv.create, P'x.csv', {'a', 'a'})\n"
	 "eq(ok, false) has(err, \"duplicate column 'a'\")\n"
	 "ok, err = pcall(csv.create, P'x.csv', {})\n"
	 "eq(ok, false) has(err, 'columns')\n"
	 "local w, e = csv.create(P'nodir/x.csv', {'a'})\n"
	 "eq(w, nil) eq(e, P'nodir/x.csv' .. ': No such file or directory')\n"
	 "eq(stat_mode(P'x.csv'), nil, 'x.csv') eq(tmp_files(), '')\n", NULL},

	{"writer rejects bad rows without writing half of them",
	 "local w = assert(csv.create(P'chk.csv', {'a', 'b'}))\n"
	 "local ok, err = pcall(w.write, w, {a = 1, x = 2})\n"
	 "eq(ok, false) has(err, \"unknown column 'x'\")\n"
	 "ok, err = pcall(w.write, w, {1, 2, 3}) has(err, 'row index 3')\n"
	 "ok, err = pcall(w.write, w, {1, b = 2}) has(err, 'mixes')\n"
	 "ok, err = pcall(w.write, w, {a = 1, b = {}})\n"
	 "has(err, \"bad value for column 'b' (table)\")\n"
	 "ok, err = pcall(w.write, w, {'bad\\xff'}) has(err, 'invalid UTF-8')\n"
	 "eq(w:write{b = 'only b'}, true) eq(w:write{'x'}, true)\n"
	 "eq(w:write{}, true)\n"
	 "eq(tostring(w):sub(1, 12), 'csv writer (')\n"
	 "eq(w:close(), true) eq(tostring(w), 'csv writer (closed)')\n"
	 "ok, err = pcall(w.write, w, {})\n"
	 "has(err, 'attempt to use a closed csv writer')\n"
	 "ok, err = pcall(w.close, w)\n"
	 "has(err, 'attempt to use a closed csv writer')\n"
	 "eq(slurp'chk.csv', 'a,b\\n,only b\\nx,\\n,\\n')\n", NULL},

	{"writer dropped without close removes its temporary file",
	 "spit('keep.csv', 'old\\n')\n"
	 "local w = assert(csv.create(P'keep.csv', {'a'}))\n"
	 "assert(w:write{'new'})\n"
	 "has(tmp_files(), 'keep.csv.tmp.', 'temporary file while writing')\n",
	 "eq(slurp'keep.csv', 'old\\n', 'path after __gc')\n"
	 "eq(tmp_files(), '', 'temporary files after __gc')\n"},

	{"writer __close with an error discards, without one commits",
	 "local ok, err = pcall(function()\n"
	 "  local w <close> = assert(csv.create(P'keep.csv', {'a'}))\n"
	 "  assert(w:write{'new'})\n"
	 "  error('boom')\n"
	 "end)\n"
	 "eq(ok, false) has(err, 'boom')\n"
	 "eq(slurp'keep.csv', 'old\\n', 'path after __close with error')\n"
	 "eq(tmp_files(), '', 'temporary files after __close with error')\n"
	 "do\n"
	 "  local w <close> = assert(csv.create(P'keep.csv', {'a'}))\n"
	 "  assert(w:write{'new'})\n"
	 "end\n"
	 "eq(slurp'keep.csv', 'a\\nnew\\n', 'path after normal __close')\n"
	 "eq(tmp_files(), '', 'temporary files')\n", NULL},

	{"line numbers stay right across 64 KiB chunk boundaries",
	 "local parts, want, line = {'id,v\\n'}, {}, 2\n"
	 "for i = 1, 8000 do\n"
	 "  if i % 13 == 0 then parts[#parts + 1] = '\\n' line = line + 1 end\n"
	 "  local v, nl = 'v' .. i, 0\n"
	 "  if i % 7 == 0 then v, nl = 'multi\\nline ' .. i, 1 end\n"
	 "  local eol = i % 5 == 0 and '\\r\\n' or '\\n'\n"
	 "  if i == 3001 then\n"
	 "    parts[#parts + 1] = i .. eol want[#want + 1] = {false, line}\n"
	 "  elseif i == 6001 then\n"
	 "    parts[#parts + 1] = i .. ',x\"y' .. eol\n"
	 "    want[#want + 1] = {false, line}\n"
	 "  else\n"
	 "    parts[#parts + 1] = i .. ',\"' .. v .. '\"' .. eol\n"
	 "    want[#want + 1] = {v, line}\n"
	 "  end\n"
	 "  line = line + 1 + nl\n"
	 "end\n"
	 "local data = table.concat(parts)\n"
	 "assert(#data > 65536 * 1.5, 'file spans chunks')\n"
	 "spit('chunks.csv', data)\n"
	 "local t = rows_of'chunks.csv'\n"
	 "eq(#t, #want, 'results')\n"
	 "for k = 1, #want do\n"
	 "  if want[k][1] == false then\n"
	 "    eq(t[k][1], false, 'bad record ' .. k)\n"
	 "    has(t[k][2], ':' .. want[k][2] .. ': ', 'line of record ' .. k)\n"
	 "  else\n"
	 "    eq(t[k][2], want[k][2], 'line of record ' .. k)\n"
	 "    eq(t[k][1].v, want[k][1], 'value of record ' .. k)\n"
	 "  end\n"
	 "end\n", NULL},

	{"fields and bad lines longer than a chunk",
	 "local big, big2 = ('x'):rep(100000), ('ab\\ncd,'):rep(30000)\n"
	 "spit('long.csv', 'a,b\\n1,x\"' .. big .. '\\n\"' .. big2\n"
	 "     .. '\",2\\n3,4\\n')\n"
	 "local t = rows_of'long.csv'\n"
	 "eq(#t, 3, 'results')\n"
	 "eq(t[1][2], P'long.csv' .. ':2: quote in unquoted field')\n"
	 "eq(#t[2][1].a, #big2, 'long field') eq(t[2][1].a == big2, true)\n"
	 "eq(t[2][2], 3, 'line')\n"
	 "eq(t[3][1].a, '3') eq(t[3][2], 30004, 'line after 30000 newlines')\n",
	 NULL},

	{"next(t) fills t: the same results as next() for every file",
	 "for _, name in ipairs{'bom.csv', 'crlf.csv', 'cr.csv', 'quoted.csv',\n"
	 "    'trim.csv', 'ragged.csv', 'utf8.csv', 'unterminated.csv',\n"
	 "    'stray.csv', 'blank.csv', 'long.csv', 'chunks.csv'} do\n"
	 "  local want = rows_of(name)\n"
	 "  local r, t = assert(csv.open(P(name))), {mine = 'kept'}\n"
	 "  local cols = r:header()\n"
	 "  for k = 1, #want do\n"
	 "    local a, b = r:next(t)\n"
	 "    local what = name .. ' result ' .. k\n"
	 "    eq(b, want[k][2], what .. ': line or message')\n"
	 "    if want[k][1] == false then\n"
	 "      eq(a, false, what)\n"
	 "    else\n"
	 "      eq(a, t, what .. ': t itself')\n"
	 "      for _, c in ipairs(cols) do eq(t[c], want[k][1][c], what .. ': ' .. c) end\n"
	 "      eq(t.mine, 'kept', what .. ': other keys left alone')\n"
	 "    end\n"
	 "  end\n"
	 "  eq(r:next(t), nil, name .. ': end') r:close()\n"
	 "end\n"
	 "local r = assert(csv.open(P'crlf.csv'))\n"
	 "local ok, err = pcall(r.next, r, 'x')\n"
	 "eq(ok, false) has(err, 'table expected, got string')\n"
	 "eq(r:next(nil).a, '1', 'nil: a new table') r:close()\n", NULL},

	{"100,000 rows stream with flat memory",
	 "local cols = {'uin', 'name', 'email', 'phone', 'dept', 'role',\n"
	 "              'group', 'policy', 'note'}\n"
	 "local w = assert(csv.create(P'big.csv', cols))\n"
	 "for i = 1, 100000 do\n"
	 "  w:write{100000000000 + i, 'user' .. i, 'user' .. i .. '@x.com',\n"
	 "          '+86 138' .. i, 'dept' .. i % 17, 'dev', 'g' .. i % 5,\n"
	 "          'QcloudCVMReadOnlyAccess', i % 3 == 0 and 'a, b' or ''}\n"
	 "end\n"
	 "assert(w:close())\n"
	 "local r = assert(csv.open(P'big.csv'))\n"
	 "local n, last, c1, m1 = 0, 0\n"
	 "for row, line in r:rows() do\n"
	 "  n, last = n + 1, line\n"
	 "  if n == 10000 then\n"
	 "    collectgarbage() collectgarbage()\n"
	 "    c1, m1 = collectgarbage('count'), rss_kib()\n"
	 "  end\n"
	 "  if n == 99999 then eq(row.uin, '100000099999') eq(row.note, 'a, b')"
	 " end\n"
	 "end\n"
	 "collectgarbage() collectgarbage()\n"
	 "local c2, m2 = collectgarbage('count'), rss_kib()\n"
	 "r:close()\n"
	 "eq(n, 100000, 'rows') eq(last, 100001, 'last line')\n"
	 "print(string.format('# lua heap %+.0f KiB, rss %s KiB, 10k..100k',\n"
	 "  c2 - c1, m1 and m2 - m1 or '?'))\n"
	 "assert(c2 - c1 < 2048, 'lua heap grew')\n"
	 "assert(asan or not m1 or m2 - m1 < 2048, 'rss grew')\n", NULL},
};

/* stat_mode(path) -> permission bits | nil */
static int l_stat_mode(lua_State *L)
{
	struct stat st;

	if (stat(luaL_checkstring(L, 1), &st) != 0)
		return 0;
	lua_pushinteger(L, st.st_mode & 07777);
	return 1;
}

/* list_dir() -> names in the fixture directory */
static int l_list_dir(lua_State *L)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int n = 0;

	lua_newtable(L);
	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			lua_pushstring(L, e->d_name);
			lua_rawseti(L, -2, ++n);
		}
	if (d)
		closedir(d);
	return 1;
}

/* rss_kib() -> VmRSS in KiB | nil */
static int l_rss_kib(lua_State *L)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "VmRSS: %ld", &kib) == 1)
			break;
	if (f)
		fclose(f);
	if (kib < 0)
		return 0;
	lua_pushinteger(L, kib);
	return 1;
}

static void diag(const char *msg)
{
	const char *nl;

	while (msg && *msg) {
		nl = strchr(msg, '\n');
		printf("# %.*s\n", nl ? (int)(nl - msg) : (int)strlen(msg),
		       msg);
		msg = nl ? nl + 1 : NULL;
	}
}


static void collect(lua_State *L)
{
	lua_settop(L, 0);
	lua_gc(L, LUA_GCCOLLECT);
	lua_gc(L, LUA_GCCOLLECT);
}

static int write_fixtures(void)
{
	char path[256];
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, fixtures[i].name);
		if (!(f = fopen(path, "wb")))
			return -1;
		fputs(fixtures[i].data, f);
		if (fclose(f) != 0)
			return -1;
	}
	return 0;
}

static void remove_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	char path[512];

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(tmpdir);
}

int main(void)
{
	lua_State *L;
	size_t i;
	int asan = 0;

#ifdef __SANITIZE_ADDRESS__
	asan = 1;
#endif
	setvbuf(stdout, NULL, _IONBF, 0);
	umask(022);
	if (!mkdtemp(tmpdir) || write_fixtures() != 0) {
		perror("test_csv: fixtures");
		return 1;
	}
	L = luaL_newstate();
	luaL_openlibs(L);
	luaL_requiref(L, "tcrun.csv", luaopen_tcrun_csv, 0);
	lua_pop(L, 1);
	lua_pushstring(L, tmpdir);
	lua_setglobal(L, "dir");
	lua_pushboolean(L, asan);
	lua_setglobal(L, "asan");
	lua_register(L, "stat_mode", l_stat_mode);
	lua_register(L, "list_dir", l_list_dir);
	lua_register(L, "rss_kib", l_rss_kib);
	if (run_chunk(L, "prelude", prelude) != LUA_OK) {
		diag(chunk_failure);
		lua_close(L);
		remove_tmpdir();
		return 1;
	}
	for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		const struct test *t = &tests[i];
		int rc = run_chunk(L, t->name, t->run);

		collect(L);
		if (rc == LUA_OK && t->check)
			rc = run_chunk(L, t->name, t->check);
		collect(L);
		if (!ok(rc == LUA_OK, "%s", t->name))
			diag(chunk_failure);
	}
	lua_close(L);
	remove_tmpdir();
	return tap_done();
}
