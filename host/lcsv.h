/*
 * lcsv.h: the tcrun.csv Lua module, a streaming CSV reader for rosters
 * (lcsvread.c) and an atomic CSV writer for reports (lcsvwrite.c).
 *
 *   csv.open(path) -> reader | nil, "path: reason"
 *     reader:header(), reader:next([t]), reader:rows(), reader:close()
 *   csv.create(path, columns [, {mode = "0600"}]) -> writer | nil, msg
 *     writer:write(row), writer:close()
 */
#ifndef TCRUN_LCSV_H
#define TCRUN_LCSV_H

#include <lauxlib.h>
#include <lua.h>

#define LCSV_READER_MT "tcrun.csv.reader"
#define LCSV_WRITER_MT "tcrun.csv.writer"

/* Pushes the module table (luaL_newlib); for package.preload. */
int luaopen_tcrun_csv(lua_State *L);

/* The module's parts, for lcsv.c. */
int lcsv_open(lua_State *L);            /* csv.open */
int lcsv_create(lua_State *L);          /* csv.create */
void lcsv_reader_init(lua_State *L);    /* registers the metatables */
void lcsv_writer_init(lua_State *L);

/* Registers metatable name with metameth and an __index table of meth. */
void lcsv_createmeta(lua_State *L, const char *name,
                     const luaL_Reg *metameth, const luaL_Reg *meth);

#endif
