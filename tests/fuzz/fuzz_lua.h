/*
 * fuzz_lua.h: one Lua state per fuzz process, with tcrun's C modules
 * preloaded, lua/ and tests/fuzz/ (the reference models, ref_*.lua) on
 * the path, and a stand-in for the tc table (the library modules need
 * only its pure functions), running tests/fuzz/<target>.lua, a chunk
 * that checks the target's properties on one input (the source tree is
 * where the binary was built: TCRUN_SRCDIR).  A raised error is a failed property:
 * it is printed and the process aborts.
 */
#ifndef TCRUN_FUZZ_LUA_H
#define TCRUN_FUZZ_LUA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "lcsv.h"
#include "ljson.h"

static const char fuzz_prelude[] =
	"package.path = SRCDIR .. '/lua/?.lua;' .. SRCDIR ..\n"
	"  '/tests/fuzz/?.lua;' .. package.path\n"
	"package.preload.tc = function() return {\n"
	"  secret_fields = function() return { 'Password' } end,\n"
	"  is_secret = function() return false end,\n"
	"  printable = function(s) return s end,\n"
	"  debug = function() end } end\n"
	"TMP = (os.getenv('TMPDIR') or '/tmp') .. '/tcrun-fuzz-' .. PID\n";

/* The state, with tests/fuzz/<name>.lua (a function of the input)
 * loaded on first use. */
static lua_State *fuzz_state(const char *name)
{
	static lua_State *L;

	if (L)
		return L;
	L = luaL_newstate();
	luaL_openlibs(L);
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, luaopen_tcrun_csv);
	lua_setfield(L, -2, "tcrun.csv");
	lua_pushcfunction(L, luaopen_tcrun_json);
	lua_setfield(L, -2, "tcrun.json");
	lua_pop(L, 1);
	lua_pushliteral(L, TCRUN_SRCDIR);
	lua_setglobal(L, "SRCDIR");
	lua_pushinteger(L, (lua_Integer)getpid());
	lua_setglobal(L, "PID");
	if (luaL_dostring(L, fuzz_prelude) != LUA_OK ||
	    luaL_loadfile(L, lua_pushfstring(L, "%s/tests/fuzz/%s.lua",
	                                     TCRUN_SRCDIR, name)) != LUA_OK) {
		fprintf(stderr, "%s: %s\n", name, lua_tostring(L, -1));
		abort();
	}
	lua_setglobal(L, "CHECK");
	return L;
}

/* Runs the property on data; aborts when it fails. */
static void fuzz_check(lua_State *L, const uint8_t *data, size_t size)
{
	lua_getglobal(L, "CHECK");
	lua_pushlstring(L, (const char *)data, size);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		fprintf(stderr, "property failed: %s\n", lua_tostring(L, -1));
		abort();
	}
	lua_settop(L, 0);
	lua_gc(L, LUA_GCCOLLECT);
}

/* The target: tests/fuzz/<name>.lua, a chunk taking the input, is the
 * property. */
#define FUZZ_LUA_TARGET(name)                                             \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);     \
	int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)      \
	{                                                                 \
		fuzz_check(fuzz_state(name), data, size);                 \
		return 0;                                                 \
	}

#endif
