/*
 * ljson.c: the tcrun.json module, JSON for recipes without losing the
 * digits of 19-digit UINs (lua-cjson 2.1.0 reads every number as a double).
 *
 * Does: decode through json.c into Lua values (integers stay integers,
 * null is json.null, arrays carry a shared metatable so [] stays []);
 * encode Lua values as compact JSON with object keys sorted bytewise, so
 * journals and tests see one spelling of each value.
 *
 * Does not: pretty-print, call __tojson-style metamethods, keep key order
 * from the input, or encode sparse tables, NaN, infinity, functions,
 * userdata (other than json.null) or invalid UTF-8; those raise.  Cycles
 * are caught by the depth limit (JSON_MAX_DEPTH).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "json.h"
#include "ljson.h"
#include "lsecret.h"
#include "utf8.h"

#if LUA_MAXINTEGER < INT64_MAX
#error "tcrun.json needs 64-bit Lua integers"
#endif

/* Box for json.encode's output, so an error raised while it is on the
 * stack still frees it. */
#define BUF_MT "tcrun.json.buf"

static void push_array_mt(lua_State *L)
{
	luaL_newmetatable(L, LJSON_ARRAY_MT);   /* creates it once */
}

static void push(lua_State *L, const struct json_value *v, int hide);

void ljson_push(lua_State *L, const struct json_value *v)
{
	push(L, v, 0);
}

void ljson_push_hiding(lua_State *L, const struct json_value *v)
{
	push(L, v, 1);
}

static void push(lua_State *L, const struct json_value *v, int hide)
{
	size_t i;

	luaL_checkstack(L, 3, "json: nesting too deep");
	switch (v->type) {
	case JSON_NULL:
		lua_pushlightuserdata(L, NULL);
		break;
	case JSON_FALSE:
	case JSON_TRUE:
		lua_pushboolean(L, v->type == JSON_TRUE);
		break;
	case JSON_INT:
		lua_pushinteger(L, (lua_Integer)v->u.i);
		break;
	case JSON_REAL:
		lua_pushnumber(L, (lua_Number)v->u.d);
		break;
	case JSON_STRING:
		lua_pushlstring(L, v->u.str.s, v->u.str.len);
		break;
	case JSON_ARRAY:
		lua_createtable(L, v->u.c.n < 1u << 30 ? (int)v->u.c.n : 0, 0);
		push_array_mt(L);
		lua_setmetatable(L, -2);
		for (i = 0; i < v->u.c.n; i++) {
			push(L, &v->u.c.items[i], hide);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
		break;
	case JSON_OBJECT:
		lua_createtable(L, 0, v->u.c.n < 1u << 30 ? (int)v->u.c.n : 0);
		for (i = 0; i < v->u.c.n; i++) {
			const struct json_value *x = &v->u.c.items[i];

			lua_pushlstring(L, v->u.c.keys[i], v->u.c.keylens[i]);
			if (hide && x->type == JSON_STRING &&
			    lsecret_is_secret_key(v->u.c.keys[i]))
				lsecret_push(L, x->u.str.s, x->u.str.len);
			else
				push(L, x, hide);
			lua_rawset(L, -3);
		}
		break;
	}
}

/* Encoder state.  keys is one scratch stack shared by all nesting levels:
 * each object pushes its string keys, sorts its own slice and pops it.
 * The pointers stay valid because each table is on the Lua stack. */
struct enc {
	lua_State *L;
	struct json_buf *out;
	int mt;                         /* stack index of the array mt or nil */
	struct key { const char *s; size_t len; } *keys;
	size_t nkeys, capkeys;
	char *err;
	size_t errlen;
	int flags;                      /* LJSON_REVEAL/REDACT_SECRETS */
};

static int efail(struct enc *e, const char *msg)
{
	if (e->errlen)
		snprintf(e->err, e->errlen, "%s", msg);
	return -1;
}

static int put(struct enc *e, const char *s, size_t len)
{
	return json_put_raw(e->out, s, len) ? efail(e, "out of memory") : 0;
}

static int keycmp(const void *a, const void *b)
{
	const struct key *x = a, *y = b;
	int c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int encode_value(struct enc *e, int idx, int depth);

/* The table at idx (absolute).  Raises only on memory errors. */
static int encode_table(struct enc *e, int idx, int depth)
{
	lua_State *L = e->L;
	size_t base = e->nkeys, nstr = 0, nint = 0, i;
	lua_Integer max = 0;
	int marked = 0, other = 0;

	if (depth > JSON_MAX_DEPTH)
		return efail(e, "tables nested deeper than 512 (a cycle?)");
	luaL_checkstack(L, 4, NULL);
	if (lua_getmetatable(L, idx)) {
		marked = lua_rawequal(L, -1, e->mt);
		lua_pop(L, 1);
	}
	lua_pushnil(L);
	while (lua_next(L, idx)) {
		lua_pop(L, 1);
		if (lua_type(L, -1) == LUA_TSTRING) {
			struct key k;

			k.s = lua_tolstring(L, -1, &k.len);
			if (e->nkeys == e->capkeys) {
				size_t cap = e->capkeys ? e->capkeys * 2 : 32;
				struct key *n;

				n = realloc(e->keys, cap * sizeof *n);
				if (!n) {
					lua_pop(L, 1);
					return efail(e, "out of memory");
				}
				e->keys = n;
				e->capkeys = cap;
			}
			e->keys[e->nkeys++] = k;
			nstr++;
		} else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
			nint++;
			if (lua_tointeger(L, -1) > max)
				max = lua_tointeger(L, -1);
		} else {
			other = 1;
		}
	}
	if (other || (nstr && (nint || marked)))
		return efail(e, "table keys must be all strings or 1..n");
	if (nint && (lua_Integer)nint != max)
		return efail(e, "array has holes (keys are not 1..n)");
	if (nint || marked) {
		if (put(e, "[", 1))
			return -1;
		for (i = 1; i <= nint; i++) {
			if (i > 1 && put(e, ",", 1))
				return -1;
			lua_rawgeti(L, idx, (lua_Integer)i);
			if (encode_value(e, lua_gettop(L), depth + 1))
				return -1;
			lua_pop(L, 1);
		}
		return put(e, "]", 1);
	}
	if (nstr > 1)
		qsort(e->keys + base, nstr, sizeof *e->keys, keycmp);
	if (put(e, "{", 1))
		return -1;
	for (i = 0; i < nstr; i++) {
		struct key k = e->keys[base + i];   /* keys may move below */

		if (i > 0 && put(e, ",", 1))
			return -1;
		if (!utf8_valid(k.s, k.len))
			return efail(e, "invalid UTF-8 in a key");
		if (json_put_string(e->out, k.s, k.len) || put(e, ":", 1))
			return efail(e, "out of memory");
		if ((e->flags & LJSON_REDACT_SECRETS) &&
		    lsecret_is_secret_key(k.s)) {
			if (put(e, "\"***\"", 5))
				return -1;
			continue;
		}
		lua_pushlstring(L, k.s, k.len);
		lua_rawget(L, idx);
		if (encode_value(e, lua_gettop(L), depth + 1))
			return -1;
		lua_pop(L, 1);
	}
	e->nkeys = base;
	return put(e, "}", 1);
}

/* The value at idx (absolute).  Raises only on memory errors. */
static int encode_value(struct enc *e, int idx, int depth)
{
	lua_State *L = e->L;
	const char *s;
	size_t len;
	char msg[64];
	int rc;

	switch (lua_type(L, idx)) {
	case LUA_TNIL:
		return put(e, "null", 4);
	case LUA_TBOOLEAN:
		return lua_toboolean(L, idx) ? put(e, "true", 4)
		                             : put(e, "false", 5);
	case LUA_TNUMBER:
		if (lua_isinteger(L, idx))
			rc = json_put_int(e->out, lua_tointeger(L, idx));
		else
			rc = json_put_real(e->out, lua_tonumber(L, idx));
		if (rc && !e->out->oom)
			return efail(e, "cannot encode NaN or inf");
		return rc ? efail(e, "out of memory") : 0;
	case LUA_TSTRING:
		s = lua_tolstring(L, idx, &len);
		if (!utf8_valid(s, len))
			return efail(e, "invalid UTF-8 in a string");
		if (json_put_string(e->out, s, len))
			return efail(e, "out of memory");
		return 0;
	case LUA_TTABLE:
		return encode_table(e, idx, depth);
	case LUA_TLIGHTUSERDATA:
		if (lua_touserdata(L, idx) == NULL)
			return put(e, "null", 4);
		break;
	case LUA_TUSERDATA:
		s = lsecret_get(L, idx, &len);
		if (s && (e->flags & LJSON_REDACT_SECRETS))
			return put(e, "\"***\"", 5);
		if (s && (e->flags & LJSON_REVEAL_SECRETS))
			return json_put_string(e->out, s, len) ?
			       efail(e, "out of memory") : 0;
		if (s)
			return efail(e, "cannot encode a secret here");
		break;
	default:
		break;
	}
	snprintf(msg, sizeof msg, "cannot encode a %s", luaL_typename(L, idx));
	return efail(e, msg);
}

/* Protected part of ljson_encode: 1 = struct enc, 2 = the value.
 * Returns a boolean: whether encoding succeeded. */
static int encode_p(lua_State *L)
{
	struct enc *e = lua_touserdata(L, 1);

	luaL_getmetatable(L, LJSON_ARRAY_MT);
	e->mt = lua_gettop(L);
	lua_pushboolean(L, encode_value(e, 2, 1) == 0);
	return 1;
}

int ljson_encode(lua_State *L, int idx, struct json_buf *out,
                 char *err, size_t errlen)
{
	return ljson_encode_opts(L, idx, out, 0, err, errlen);
}

int ljson_encode_opts(lua_State *L, int idx, struct json_buf *out,
                      int flags, char *err, size_t errlen)
{
	struct enc e;
	int rc;

	memset(&e, 0, sizeof e);
	e.flags = flags;
	e.L = L;
	e.out = out;
	e.err = err;
	e.errlen = errlen;
	if (errlen)
		err[0] = '\0';
	idx = lua_absindex(L, idx);
	if (!lua_checkstack(L, 3))
		return efail(&e, "Lua stack overflow");
	lua_pushcfunction(L, encode_p);
	lua_pushlightuserdata(L, &e);
	lua_pushvalue(L, idx);
	rc = lua_pcall(L, 2, 1, 0);
	free(e.keys);
	if (rc != LUA_OK) {
		const char *msg = lua_tostring(L, -1);

		efail(&e, msg ? msg : "error while encoding");
		lua_pop(L, 1);
		return -1;
	}
	rc = lua_toboolean(L, -1) ? 0 : -1;
	lua_pop(L, 1);
	return rc;
}

/* Protected part of json.decode: 1 = the json_value tree. */
static int decode_p(lua_State *L)
{
	ljson_push(L, lua_touserdata(L, 1));
	return 1;
}

/* json.decode(s) -> value | nil, "json: line L, column C: why" */
static int json_decode(lua_State *L)
{
	size_t len;
	const char *s = luaL_checklstring(L, 1, &len);
	char err[160];
	struct json_value *v = json_parse(s, len, err, sizeof err);
	int rc;

	if (!v) {
		luaL_pushfail(L);
		lua_pushfstring(L, "json: %s", err);
		return 2;
	}
	/* ljson_push raises only on memory errors; v must be freed anyway. */
	lua_pushcfunction(L, decode_p);
	lua_pushlightuserdata(L, v);
	rc = lua_pcall(L, 1, 1, 0);
	json_free(v);
	if (rc != LUA_OK)
		return lua_error(L);
	return 1;
}

/* __gc of json.encode's output box; json_buf_free is idempotent */
static int buf_gc(lua_State *L)
{
	json_buf_free(luaL_checkudata(L, 1, BUF_MT));
	return 0;
}

/* json.encode(v) -> string; raises "json: why" for what JSON cannot hold */
static int json_encode(lua_State *L)
{
	struct json_buf *b;
	char err[160];

	luaL_checkany(L, 1);
	lua_settop(L, 1);
	b = lua_newuserdatauv(L, sizeof *b, 0);
	memset(b, 0, sizeof *b);
	luaL_setmetatable(L, BUF_MT);
	if (ljson_encode(L, 1, b, err, sizeof err) != 0) {
		json_buf_free(b);
		return luaL_error(L, "json: %s", err);
	}
	lua_pushlstring(L, b->str ? b->str : "", b->len);
	json_buf_free(b);
	return 1;
}

/* json.array([t]) -> t (or a new table), marked to encode as an array */
static int json_array(lua_State *L)
{
	if (lua_isnoneornil(L, 1)) {
		lua_settop(L, 0);
		lua_newtable(L);
	} else {
		luaL_checktype(L, 1, LUA_TTABLE);
		lua_settop(L, 1);
	}
	push_array_mt(L);
	lua_setmetatable(L, 1);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "decode", json_decode },
	{ "encode", json_encode },
	{ "array", json_array },
	{ "null", NULL },
	{ NULL, NULL }
};

int luaopen_tcrun_json(lua_State *L)
{
	push_array_mt(L);
	lua_pop(L, 1);
	if (luaL_newmetatable(L, BUF_MT)) {
		lua_pushcfunction(L, buf_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	luaL_newlib(L, funcs);
	lua_pushlightuserdata(L, NULL);    /* the same value as cjson.null */
	lua_setfield(L, -2, "null");
	return 1;
}
