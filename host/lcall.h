/*
 * lcall.h: tc.call, the signed Tencent Cloud API call, and its errors.
 *
 *   tc.call(service, action [, params [, opts]]) -> Response
 *   tc.is_write(action) -> boolean
 */
#ifndef TCRUN_LCALL_H
#define TCRUN_LCALL_H

#include <lua.h>

/* Registers the metatables of calls and errors (once per state). */
void lcall_init(lua_State *L);

int lcall_call(lua_State *L);       /* tc.call (upvalue 1: the runtime) */
int lcall_is_write(lua_State *L);   /* tc.is_write */

/* Exit status the host should use for the error value on top of L:
 * 2 for configuration errors (no credentials, a write under --dry-run,
 * no journal), else 3. */
int lcall_error_status(lua_State *L);

#endif
