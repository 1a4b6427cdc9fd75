/*
 * lrowpack.c: tcrun.rowpack, a row of text values packed into one string
 * and back.  roster.lua keeps a roster's valid rows packed until it has
 * read the whole file: one string of about 190 bytes a row, where a table
 * of 9 columns costs about 460 bytes and each value another string.
 *
 *   rowpack.pack(line, values, n) -> string
 *     line (an integer) and the strings values[1..n]
 *   rowpack.unpack(s, names) -> line, row
 *     row a new table, made at its full size, row[names[j]] = value j
 *
 * The layout: the line as a native lua_Integer, then each value as a
 * native uint32_t length and its bytes.  A string that is not a packed row
 * of #names values raises "not a packed row".
 *
 * Does not: pack anything but text (the caller turns its other values
 * into text and back), or keep rows.
 */
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "lrowpack.h"

/* Pushes values[j] and returns it, with its length in len; raises
 * unless it is a string of at most UINT32_MAX bytes. */
static const char *value(lua_State *L, lua_Integer j, size_t *len)
{
	const char *s;

	if (lua_rawgeti(L, 2, j) != LUA_TSTRING)
		luaL_error(L, "value %I is %s, not a string", j,
		           luaL_typename(L, -1));
	s = lua_tolstring(L, -1, len);
	if (*len > UINT32_MAX)
		luaL_error(L, "value %I is too long", j);
	return s;
}

/* rowpack.pack(line, values, n) -> string */
static int rowpack_pack(lua_State *L)
{
	lua_Integer line = luaL_checkinteger(L, 1);
	lua_Integer j, n = luaL_checkinteger(L, 3);
	size_t len, total = sizeof line;
	luaL_Buffer b;
	char *p;

	luaL_checktype(L, 2, LUA_TTABLE);
	luaL_argcheck(L, n >= 0, 3, "negative count");
	/* The size first, then the bytes straight into the buffer. */
	for (j = 1; j <= n; j++) {
		value(L, j, &len);
		total += sizeof(uint32_t) + len;
		lua_pop(L, 1);
	}
	p = luaL_buffinitsize(L, &b, total);
	memcpy(p, &line, sizeof line);
	p += sizeof line;
	for (j = 1; j <= n; j++) {
		const char *s = value(L, j, &len);
		uint32_t len32 = (uint32_t)len;

		memcpy(p, &len32, sizeof len32);
		memcpy(p + sizeof len32, s, len);
		p += sizeof len32 + len;
		lua_pop(L, 1);
	}
	luaL_pushresultsize(&b, total);
	return 1;
}

/* rowpack.unpack(s, names) -> line, row */
static int rowpack_unpack(lua_State *L)
{
	size_t len, pos = sizeof(lua_Integer);
	const char *s = luaL_checklstring(L, 1, &len);
	lua_Integer line, j, n;

	luaL_checktype(L, 2, LUA_TTABLE);
	n = luaL_len(L, 2);
	if (len < pos || n < 0 || n > INT32_MAX)
		return luaL_error(L, "not a packed row");
	memcpy(&line, s, sizeof line);
	lua_pushinteger(L, line);
	lua_createtable(L, 0, (int)n);
	for (j = 1; j <= n; j++) {
		uint32_t vlen;

		if (len - pos < sizeof vlen)
			return luaL_error(L, "not a packed row");
		memcpy(&vlen, s + pos, sizeof vlen);
		pos += sizeof vlen;
		if (len - pos < vlen)
			return luaL_error(L, "not a packed row");
		lua_rawgeti(L, 2, j);
		lua_pushlstring(L, s + pos, vlen);
		lua_rawset(L, -3);
		pos += vlen;
	}
	if (pos != len)
		return luaL_error(L, "not a packed row");
	return 2;
}

int luaopen_tcrun_rowpack(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{"pack", rowpack_pack},
		{"unpack", rowpack_unpack},
		{NULL, NULL}
	};

	luaL_newlib(L, funcs);
	return 1;
}
