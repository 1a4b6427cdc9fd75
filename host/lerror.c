/*
 * lerror.c: tc.call's structured errors (see lerror.h).
 */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lerror.h"

#define ERROR_TYPE "tcrun.error"

/* tostring(err): "[where]service.Action: Code: message (RequestId id)";
 * a ClientError.Config is "[where]message". */
static int error_tostring(lua_State *L)
{
	static const char *const keys[] = {
		"where", "service", "action", "code", "message", "request_id"
	};
	const char *f[6];
	luaL_Buffer b;

	for (int i = 0; i < 6; i++) {
		lua_getfield(L, 1, keys[i]);
		f[i] = lua_tostring(L, -1);
	}
	luaL_buffinit(L, &b);
	if (f[0] && *f[0])
		luaL_addstring(&b, f[0]);   /* luaL_where's "file:line: " */
	if (f[1] && *f[1] && f[2] && *f[2]) {
		luaL_addstring(&b, f[1]);
		luaL_addchar(&b, '.');
		luaL_addstring(&b, f[2]);
		luaL_addstring(&b, ": ");
	}
	/* A setup problem a script found (tc.config_error) is its message
	 * alone: the code says nothing to whoever reads it. */
	if (!f[3] || strcmp(f[3], "ClientError.Config") != 0 ||
	    !f[4] || !*f[4]) {
		luaL_addstring(&b, f[3] ? f[3] : "Error");
		if (f[4] && *f[4])
			luaL_addstring(&b, ": ");
	}
	if (f[4] && *f[4])
		luaL_addstring(&b, f[4]);
	if (f[5] && *f[5]) {
		luaL_addstring(&b, " (RequestId ");
		luaL_addstring(&b, f[5]);
		luaL_addchar(&b, ')');
	}
	luaL_pushresult(&b);
	return 1;
}

void lerror_init(lua_State *L)
{
	if (luaL_newmetatable(L, ERROR_TYPE)) {
		lua_pushcfunction(L, error_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
}

static void set_string(lua_State *L, const char *key, const char *v)
{
	lua_pushstring(L, v ? v : "");
	lua_setfield(L, -2, key);
}

void lerror_push(lua_State *L, const struct lerror *e)
{
	lua_createtable(L, 0, 8);
	set_string(L, "code", e->code);
	set_string(L, "message", e->message);
	set_string(L, "request_id", e->request_id);
	set_string(L, "service", e->service);
	set_string(L, "action", e->action);
	set_string(L, "where", e->where);
	lua_pushinteger(L, e->attempts);
	lua_setfield(L, -2, "attempts");
	lua_pushboolean(L, e->transient);
	lua_setfield(L, -2, "transient");
	luaL_setmetatable(L, ERROR_TYPE);
}

/* Whether the value at idx is one of our errors. */
static int is_error(lua_State *L, int idx)
{
	int yes;

	if (lua_type(L, idx) != LUA_TTABLE || !lua_getmetatable(L, idx))
		return 0;
	luaL_getmetatable(L, ERROR_TYPE);
	yes = lua_rawequal(L, -1, -2);
	lua_pop(L, 2);
	return yes;
}

int lerror_status(lua_State *L)
{
	/* Codes (and, ending in '.', families of codes) that mean the run
	 * was set up wrong: no or bad credentials, an endpoint that cannot
	 * be reached, a write under --dry-run, no journal, a region the
	 * service does not have (a business unit's typo), credentials of
	 * another account than the configuration says (laccount.h). */
	static const char *const config[] = {
		"ClientError.NoCredentials", "ClientError.DryRun",
		"ClientError.Journal", "ClientError.NetworkError.Connect",
		"ClientError.Config", "ClientError.WrongAccount",
		"AuthFailure.", "UnsupportedRegion", NULL
	};
	const char *code;
	int status = 3;

	if (!is_error(L, -1))
		return status;
	lua_getfield(L, -1, "code");
	code = lua_tostring(L, -1);
	for (int i = 0; code && config[i]; i++) {
		size_t n = strlen(config[i]);

		if (config[i][n - 1] == '.' ? strncmp(code, config[i], n) == 0
		                            : strcmp(code, config[i]) == 0)
			status = 2;
	}
	lua_pop(L, 1);
	return status;
}

int lerror_config(lua_State *L)
{
	struct lerror e = {
		.code = "ClientError.Config", .message = luaL_checkstring(L, 1),
	};

	lerror_push(L, &e);
	return lua_error(L);
}

int lerror_is_transient(lua_State *L)
{
	int yes = 0;

	luaL_checkany(L, 1);
	if (is_error(L, 1)) {
		lua_getfield(L, 1, "transient");
		yes = lua_toboolean(L, -1);
	}
	lua_pushboolean(L, yes);
	return 1;
}
