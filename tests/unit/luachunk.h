/*
 * luachunk.h: for unit tests whose cases are Lua chunks.  run_chunk runs
 * one (named for its messages) and, when it raises, keeps the message in
 * chunk_failure and returns the Lua status.
 */
#ifndef TCRUN_TEST_LUACHUNK_H
#define TCRUN_TEST_LUACHUNK_H

#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

static char chunk_failure[4096];

static int run_chunk(lua_State *L, const char *name, const char *code)
{
	char chunkname[128];
	int rc;

	snprintf(chunkname, sizeof chunkname, "=%s", name);
	rc = luaL_loadbuffer(L, code, strlen(code), chunkname);
	if (rc == LUA_OK)
		rc = lua_pcall(L, 0, 0, 0);
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);

		snprintf(chunk_failure, sizeof chunk_failure, "%s",
		         msg ? msg : "?");
		lua_pop(L, 1);
	}
	return rc;
}

#endif
