/*
 * lcallopt.c: tc.call's options (see lcallopt.h).
 */
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "laccount.h"
#include "lcallopt.h"
#include "lsecret.h"
#include "runtime.h"
#include "services.h"

static char guard_key;

void lcallopt_push_guard(lua_State *L)
{
	lua_pushlightuserdata(L, (void *)&guard_key);
}

/* Rejects unknown keys of the options table at idx by name.  May raise. */
static void check_keys(lua_State *L, int idx)
{
	static const char *const known[] = {
		"region", "version", "timeout", "retries", "credential",
		"idempotent", "account", "note", NULL
	};

	lua_pushnil(L);
	while (lua_next(L, idx)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ?
		                lua_tostring(L, -2) : NULL;
		int found = lua_touserdata(L, -2) == &guard_key;

		for (int i = 0; k && known[i]; i++)
			found |= strcmp(k, known[i]) == 0;
		if (!found)
			luaL_error(L, "bad option '%s' to 'call'",
			           k ? k : luaL_typename(L, -2));
		lua_pop(L, 1);
	}
}

/* Copies string option key into dst; 1 when present.  May raise. */
static int opt_string(lua_State *L, int idx, const char *key, char *dst,
                      size_t cap)
{
	int present = lua_getfield(L, idx, key) != LUA_TNIL;
	const char *s;
	size_t len;

	if (present) {
		s = lua_tolstring(L, -1, &len);
		if (!s || len >= cap)
			luaL_error(L, "bad option '%s' to 'call' (a short "
			           "string expected)", key);
		memcpy(dst, s, len + 1);
	}
	lua_pop(L, 1);
	return present;
}

/* opts.credential = { id = "AKID...", key = <secret>, token = <secret> },
 * as returned by CreateAccessKey or sts.AssumeRole.  May raise. */
static void opt_credential(lua_State *L, int idx, struct call_opts *o)
{
	const char *id, *key, *token = NULL;
	size_t len;

	if (lua_getfield(L, idx, "credential") == LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	luaL_argexpected(L, lua_istable(L, -1), idx, "credential table");
	lua_getfield(L, -1, "id");
	lua_getfield(L, -2, "key");
	lua_getfield(L, -3, "token");
	id = lua_tostring(L, -3);
	key = lsecret_get(L, -2, &len);
	if (!lua_isnil(L, -1) && !(token = lsecret_get(L, -1, &len)))
		luaL_error(L, "bad option 'credential' to 'call' (token must "
		           "be a secret)");
	if (!id || !key)
		luaL_error(L, "bad option 'credential' to 'call' (needs id, "
		           "a string, and key, a secret from the API)");
	if (creds_set(&o->own, id, key, token, NULL) != 0)
		luaL_error(L, "out of memory");
	o->use_own = 1;
	lua_pop(L, 4);
}

void lcallopt_read(lua_State *L, int idx, const char *service,
                   const struct runtime *rt, struct call_opts *o)
{
	int global;
	const char *version = services_version(service, &global);

	check_keys(L, idx);
	o->idempotent = 1;
	o->retries = rt->retries;
	o->timeout = rt->timeout;
	if (!opt_string(L, idx, "version", o->version, sizeof o->version)) {
		if (!version)
			luaL_error(L, "no default API version for service "
			           "'%s': pass opts.version", service);
		strcpy(o->version, version);
	}
	if (!opt_string(L, idx, "region", o->region, sizeof o->region) &&
	    (!version || !global))
		strcpy(o->region, rt->region);
	if (lua_getfield(L, idx, "timeout") != LUA_TNIL) {
		o->timeout = lua_tonumber(L, -1);
		if (!lua_isnumber(L, -1) || !(o->timeout >= 0.001 &&
		                              o->timeout <= 3600))
			luaL_error(L, "bad option 'timeout' to 'call' (seconds "
			           "from 0.001 to 3600 expected)");
	}
	if (lua_getfield(L, idx, "retries") != LUA_TNIL) {
		lua_Integer r = lua_tointeger(L, -1);

		if (!lua_isinteger(L, -1) || r < 0 || r > 20)
			luaL_error(L, "bad option 'retries' to 'call' (a whole "
			           "number from 0 to 20 expected)");
		o->retries = (int)r;
	}
	if (lua_getfield(L, idx, "idempotent") != LUA_TNIL) {
		if (!lua_isboolean(L, -1))
			luaL_error(L, "bad option 'idempotent' to 'call' "
			           "(boolean expected)");
		o->idempotent = lua_toboolean(L, -1);
	}
	lua_pop(L, 3);
	/* Both go into headers: nothing but their own alphabets.  A global
	 * service's empty region stays empty. */
	if (*o->region && !services_region_ok(o->region))
		luaL_error(L, "bad region '%s' (lowercase letters, digits and "
		           "'-' expected)", o->region);
	if (!*o->version ||
	    strspn(o->version, "0123456789-") != strlen(o->version))
		luaL_error(L, "bad option 'version' to 'call' (like "
		           "\"2019-01-16\" expected)");
	opt_credential(L, idx, o);
	if (opt_string(L, idx, "note", o->note, sizeof o->note))
		for (char *p = o->note; *p; p++)
			if ((unsigned char)*p < 0x20)
				*p = ' ';
	if (lua_getfield(L, idx, "account") != LUA_TNIL) {
		if (!(o->account = laccount_test(L, -1)))
			luaL_error(L, "bad option 'account' to 'call' (an "
			           "account from tc.account expected)");
		if (o->use_own)
			luaL_error(L, "bad options to 'call' (account and "
			           "credential exclude each other)");
	}
	lua_pop(L, 1);
	lcallopt_push_guard(L);
	o->guard = lua_rawget(L, idx) != LUA_TNIL;
	lua_pop(L, 1);
}

void lcallopt_clear(struct call_opts *o)
{
	creds_clear(&o->own);
	o->use_own = 0;
}
