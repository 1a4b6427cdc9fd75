/*
 * lcsv.h: the tcrun.csv Lua module, a streaming CSV reader for rosters and
 * an atomic CSV writer for reports, over libcsv.  See lcsv.c for the API.
 */
#ifndef TCRUN_LCSV_H
#define TCRUN_LCSV_H

#include <lua.h>

/* Pushes the module table (luaL_newlib); for package.preload. */
int luaopen_tcrun_csv(lua_State *L);

#endif
