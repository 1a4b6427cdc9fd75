/*
 * lcall.h: tc.call, the signed Tencent Cloud API call.  Its options are
 * lcallopt.h, the errors it raises lerror.h.
 *
 *   tc.call(service, action [, params [, opts]]) -> Response
 *   tc.is_write(action) -> boolean
 */
#ifndef TCRUN_LCALL_H
#define TCRUN_LCALL_H

#include <lua.h>

/* Registers the metatables of calls and their errors (once per state). */
void lcall_init(lua_State *L);

int lcall_call(lua_State *L);       /* tc.call (upvalue 1: the runtime) */
int lcall_is_write(lua_State *L);   /* tc.is_write */

#endif
