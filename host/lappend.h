/*
 * lappend.h: tc.appender(path), an append-only, synced file of lines for a
 * recipe's own records (see lappend.c).
 */
#ifndef TCRUN_LAPPEND_H
#define TCRUN_LAPPEND_H

#include <lua.h>

void lappend_init(lua_State *L);     /* the metatable, once per state */
int lappend_open(lua_State *L);      /* tc.appender */

#endif
