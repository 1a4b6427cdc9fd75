/*
 * leach.h: tc.each, tc.sleep and tc.event, the tc functions that only
 * schedule.
 *
 *   tc.each(rows, fn [, opts]) -> nok, failures
 *   tc.sleep(seconds)
 *   tc.event() -> ev;  ev:wait() waits until ev:signal() wakes every waiter
 */
#ifndef TCRUN_LEACH_H
#define TCRUN_LEACH_H

#include <lua.h>

/* Registers tc.each's metatable (once per state). */
void leach_init(lua_State *L);

/* Rows in flight when tc.each's opts name none (--parallel). */
void leach_config(int parallel);

int leach_each(lua_State *L);
int leach_sleep(lua_State *L);
int leach_event(lua_State *L);

#endif
