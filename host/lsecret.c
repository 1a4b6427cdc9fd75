/*
 * lsecret.c: opaque secrets (see lsecret.h).
 */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "lsecret.h"

struct secret {
	size_t len;
	char bytes[];   /* len bytes and a NUL */
};

static const char *const secret_keys[] = {
	"Password", "SecretKey", "SecretAccessKey", "TmpSecretKey", "Token",
	"PrivateKey", NULL
};

int lsecret_is_secret_key(const char *key)
{
	for (const char *const *k = secret_keys; *k; k++)
		if (strcmp(*k, key) == 0)
			return 1;
	return 0;
}

int lsecret_fields(lua_State *L)
{
	lua_newtable(L);
	for (int i = 0; secret_keys[i]; i++) {
		lua_pushstring(L, secret_keys[i]);
		lua_rawseti(L, -2, i + 1);
	}
	return 1;
}

/* __gc: wipes the bytes before the memory is reused. */
static int secret_gc(lua_State *L)
{
	struct secret *s = luaL_checkudata(L, 1, LSECRET_TYPE);

	OPENSSL_cleanse(s->bytes, s->len);
	return 0;
}

/* tostring(secret) -> "<secret>" */
static int secret_tostring(lua_State *L)
{
	lua_pushliteral(L, "<secret>");
	return 1;
}

/* secret == secret: equal bytes (so a recipe can compare, not read). */
static int secret_eq(lua_State *L)
{
	size_t la, lb;
	const char *a = lsecret_get(L, 1, &la), *b = lsecret_get(L, 2, &lb);

	lua_pushboolean(L, a && b && la == lb && CRYPTO_memcmp(a, b, la) == 0);
	return 1;
}

static const luaL_Reg metameths[] = {
	{ "__gc", secret_gc },
	{ "__tostring", secret_tostring },
	{ "__eq", secret_eq },
	{ NULL, NULL }
};

void lsecret_push(lua_State *L, const char *bytes, size_t len)
{
	struct secret *s = lua_newuserdatauv(L, sizeof *s + len + 1, 0);

	s->len = len;
	memcpy(s->bytes, bytes, len);
	s->bytes[len] = '\0';
	if (luaL_newmetatable(L, LSECRET_TYPE)) {
		luaL_setfuncs(L, metameths, 0);
		lua_pushliteral(L, "secret");
		lua_setfield(L, -2, "__metatable");   /* no getmetatable */
	}
	lua_setmetatable(L, -2);
}

const char *lsecret_get(lua_State *L, int idx, size_t *len)
{
	struct secret *s = luaL_testudata(L, idx, LSECRET_TYPE);

	if (!s)
		return NULL;
	*len = s->len;
	return s->bytes;
}

void lsecret_hide_fields(lua_State *L, int idx)
{
	idx = lua_absindex(L, idx);
	luaL_checkstack(L, 4, "nested too deep");
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		if (lua_type(L, -1) == LUA_TTABLE) {
			lsecret_hide_fields(L, -1);
		} else if (lua_type(L, -1) == LUA_TSTRING &&
		           lua_type(L, -2) == LUA_TSTRING &&
		           lsecret_is_secret_key(lua_tostring(L, -2))) {
			size_t len;
			const char *s = lua_tolstring(L, -1, &len);

			lsecret_push(L, s, len);
			lua_pushvalue(L, -3);
			lua_insert(L, -2);
			lua_rawset(L, idx);   /* same key: no new entry */
		}
		lua_pop(L, 1);
	}
}

int lsecret_password(lua_State *L)
{
	static const char *const classes[] = {
		"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz",
		"23456789", "!@#%^*_+-=."
	};
	lua_Integer n = luaL_optinteger(L, 1, 20);
	unsigned char rnd[128];
	char pw[128];

	luaL_argcheck(L, n >= 8 && n <= 64, 1, "length must be 8 to 64");
	if (RAND_bytes(rnd, (int)sizeof rnd) != 1)
		return luaL_error(L, "no randomness available");
	for (lua_Integer i = 0; i < n; i++) {
		/* The first four take one of each class; the rest any. */
		const char *set = classes[i < 4 ? i : rnd[64 + i] % 4];

		pw[i] = set[rnd[i] % strlen(set)];
	}
	/* Move the guaranteed four to random places. */
	for (lua_Integer i = 0; i < 4; i++) {
		size_t j = rnd[100 + i] % (size_t)n;
		char c = pw[i];

		pw[i] = pw[j];
		pw[j] = c;
	}
	/* Never a symbol first: a spreadsheet would take "=..." "+..."
	 * "-..." "@..." for a formula (the password file is a CSV). */
	for (lua_Integer i = 1; strchr(classes[3], pw[0]) && i < n; i++)
		if (!strchr(classes[3], pw[i])) {
			char c = pw[0];

			pw[0] = pw[i];
			pw[i] = c;
		}
	lsecret_push(L, pw, (size_t)n);
	OPENSSL_cleanse(pw, sizeof pw);
	OPENSSL_cleanse(rnd, sizeof rnd);
	return 1;
}
