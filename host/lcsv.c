/*
 * lcsv.c: the tcrun.csv module (see lcsv.h): its table and the metatables
 * of its two objects.  The reader is lcsvread.c, the writer lcsvwrite.c.
 */
#include <lauxlib.h>
#include <lua.h>

#include "lcsv.h"

void lcsv_createmeta(lua_State *L, const char *name,
                     const luaL_Reg *metameth, const luaL_Reg *meth)
{
	luaL_newmetatable(L, name);
	luaL_setfuncs(L, metameth, 0);
	lua_newtable(L);
	luaL_setfuncs(L, meth, 0);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
}

int luaopen_tcrun_csv(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"open", lcsv_open},
		{"create", lcsv_create},
		{NULL, NULL}
	};

	lcsv_reader_init(L);
	lcsv_writer_init(L);
	luaL_newlib(L, funcs);
	return 1;
}
