/*
 * lrowpack.h: the tcrun.rowpack Lua module, a row of text values packed
 * into one string and back (see lrowpack.c).
 *
 *   rowpack.pack(line, values, n) -> string
 *   rowpack.unpack(s, names) -> line, row
 */
#ifndef TCRUN_LROWPACK_H
#define TCRUN_LROWPACK_H

#include <lua.h>

/* require "tcrun.rowpack": pack, unpack. */
int luaopen_tcrun_rowpack(lua_State *L);

#endif
