/*
 * test_rowpack: the tcrun.rowpack module (host/lrowpack.c), driven from
 * Lua, built plain and under ASan/UBSan like every unit test: values come
 * back exactly, under their names, in a table of their own; what is not a
 * packed row, or not text, is refused with a message.
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lrowpack.h"
#include "luachunk.h"
#include "tap.h"

struct test {
	const char *name;
	const char *run;
};

static const char prelude[] =
	"rowpack = require 'tcrun.rowpack'\n"
	"function eq(got, want, what)\n"
	"  if got ~= want then\n"
	"    error(string.format('%s\\ngot:  %q\\nwant: %q', what or 'value',\n"
	"                        tostring(got), tostring(want)), 2)\n"
	"  end\n"
	"end\n"
	"function fails(want, f, ...)\n"
	"  local ok, err = pcall(f, ...)\n"
	"  eq(ok, false, 'raised')\n"
	"  if not tostring(err):find(want, 1, true) then\n"
	"    error('message ' .. tostring(err) .. ' lacks ' .. want, 2)\n"
	"  end\n"
	"end\n";

static const struct test tests[] = {
	{"values come back exactly, under their names",
	 "local names = {'a', 'b', 'c', 'd', 'e'}\n"
	 "local big = ('x\\0y'):rep(40000)\n"
	 "local vals = {'', 'nul\\0inside', big, '\\u{738B}\\u{4E3D}, \"q\"\\n', 'e'}\n"
	 "for _, line in ipairs{2, 0, -1, math.maxinteger, math.mininteger} do\n"
	 "  local s = rowpack.pack(line, vals, 5)\n"
	 "  local l, row = rowpack.unpack(s, names)\n"
	 "  eq(l, line, 'line') eq(math.type(l), 'integer', 'an integer')\n"
	 "  for j, n in ipairs(names) do eq(row[n], vals[j], n) end\n"
	 "  local keys = 0\n"
	 "  for _ in pairs(row) do keys = keys + 1 end\n"
	 "  eq(keys, 5, 'nothing else in the row')\n"
	 "end\n"},

	{"each unpack makes a new table; n counts the values packed",
	 "local s = rowpack.pack(7, {'x', 'y', 'not packed'}, 2)\n"
	 "local _, r1 = rowpack.unpack(s, {'p', 'q'})\n"
	 "local _, r2 = rowpack.unpack(s, {'p', 'q'})\n"
	 "eq(r1 ~= r2, true, 'two tables') r1.p = 'changed' eq(r2.p, 'x')\n"
	 "local l, r = rowpack.unpack(rowpack.pack(3, {}, 0), {})\n"
	 "eq(l, 3) eq(next(r), nil, 'no values, empty row')\n"},

	{"pack refuses what is not text",
	 "fails('value 2 is number, not a string', rowpack.pack, 1, {'a', 5}, 2)\n"
	 "fails('value 2 is nil, not a string', rowpack.pack, 1, {'a'}, 2)\n"
	 "fails('value 1 is table, not a string', rowpack.pack, 1, {{}}, 1)\n"
	 "fails('negative count', rowpack.pack, 1, {}, -1)\n"
	 "fails('number has no integer representation', rowpack.pack, 1.5, {}, 0)\n"
	 "fails('table expected', rowpack.pack, 1, 'a', 1)\n"},

	{"unpack refuses what is not a packed row of #names values",
	 "local s = rowpack.pack(9, {'ab', 'cd'}, 2)\n"
	 "fails('not a packed row', rowpack.unpack, s, {'a'})\n"
	 "fails('not a packed row', rowpack.unpack, s, {'a', 'b', 'c'})\n"
	 "fails('not a packed row', rowpack.unpack, s .. 'x', {'a', 'b'})\n"
	 "for cut = 0, #s - 1 do\n"
	 "  fails('not a packed row', rowpack.unpack, s:sub(1, cut), {'a', 'b'})\n"
	 "end\n"
	 "fails('not a packed row', rowpack.unpack, s:sub(1, 8) .. '\\255\\255\\255\\255', {'a'})\n"
	 "fails('table expected', rowpack.unpack, s, 'a')\n"},
};


int main(void)
{
	lua_State *L = luaL_newstate();
	size_t i;

	setvbuf(stdout, NULL, _IONBF, 0);
	luaL_openlibs(L);
	luaL_requiref(L, "tcrun.rowpack", luaopen_tcrun_rowpack, 0);
	lua_pop(L, 1);
	if (run_chunk(L, "prelude", prelude) != LUA_OK) {
		printf("# %s\n", chunk_failure);
		lua_close(L);
		return 1;
	}
	for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
		if (!ok(run_chunk(L, tests[i].name, tests[i].run) == LUA_OK, "%s",
		        tests[i].name))
			printf("# %s\n", chunk_failure);
		lua_settop(L, 0);
		lua_gc(L, LUA_GCCOLLECT);
	}
	lua_close(L);
	return tap_done();
}
