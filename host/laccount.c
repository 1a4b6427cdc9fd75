/*
 * laccount.c: account objects and their gate (see laccount.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "laccount.h"
#include "lsecret.h"
#include "runtime.h"
#include "sched.h"

#define ACCOUNT_TYPE "tcrun.account"
#define ANCHORS "tcrun.accounts"

/* Whether s (len) is 1..max characters, each alphanumeric or in extra. */
static int word(const char *s, size_t len, size_t min, size_t max,
                const char *extra)
{
	if (len < min || len > max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || (ch && strchr(extra, ch))))
			return 0;
	}
	return 1;
}

/* Reads the string field key of the table at 1 into dst when present and
 * it passes word(); raises naming the field otherwise.  1 when present. */
static int field(lua_State *L, const char *key, char *dst, size_t cap,
                 size_t min, const char *extra, const char *what)
{
	size_t len = 0;
	const char *s;
	int t = lua_getfield(L, 1, key);

	if (t == LUA_TNIL) {
		lua_pop(L, 1);
		return 0;
	}
	s = t == LUA_TSTRING || t == LUA_TNUMBER ? lua_tolstring(L, -1, &len)
	                                         : NULL;
	if (!s || !word(s, len, min, cap - 1, extra))
		luaL_error(L, "bad field '%s' to 'account' (%s expected)", key,
		           what);
	memcpy(dst, s, len + 1);
	lua_pop(L, 1);
	return 1;
}

static void check_keys(lua_State *L)
{
	static const char *const known[] = {
		"name", "uin", "role", "duration", "external_id", "session",
		NULL
	};

	lua_pushnil(L);
	while (lua_next(L, 1)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ?
		                lua_tostring(L, -2) : NULL;
		int found = 0;

		for (int i = 0; k && known[i]; i++)
			found |= strcmp(k, known[i]) == 0;
		if (!found)
			luaL_error(L, "bad field '%s' to 'account'",
			           k ? k : luaL_typename(L, -2));
		lua_pop(L, 1);
	}
}

static struct account *check(lua_State *L, int idx)
{
	return luaL_checkudata(L, idx, ACCOUNT_TYPE);
}

struct account *laccount_test(lua_State *L, int idx)
{
	return luaL_testudata(L, idx, ACCOUNT_TYPE);
}

void laccount_push(lua_State *L, const struct account *a)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, ANCHORS);
	lua_rawgetp(L, -1, a);
	lua_remove(L, -2);
}

int laccount_new(lua_State *L)
{
	struct account *a;

	luaL_checktype(L, 1, LUA_TTABLE);
	lua_settop(L, 1);
	check_keys(L);
	a = lua_newuserdatauv(L, sizeof *a, 0);
	memset(a, 0, sizeof *a);
	luaL_setmetatable(L, ACCOUNT_TYPE);   /* 1 = table, 2 = account */
	if (!field(L, "name", a->name, sizeof a->name, 1, "_-",
	           "a name of letters, digits, '_' and '-'"))
		luaL_error(L, "bad field 'name' to 'account' (required)");
	if (!field(L, "uin", a->uin, sizeof a->uin, 5, "",
	           "an account UIN, digits"))
		luaL_error(L, "bad field 'uin' to 'account' (required)");
	if (strspn(a->uin, "0123456789") != strlen(a->uin))
		luaL_error(L, "bad field 'uin' to 'account' (an account UIN, "
		           "digits expected)");
	field(L, "role", a->role, sizeof a->role, 1, "_+=,.@-",
	      "a CAM role name");
	field(L, "external_id", a->external_id, sizeof a->external_id, 2,
	      "_+=,.@:/-", "an external id of letters, digits and _+=,.@:/-");
	if (!field(L, "session", a->session, sizeof a->session, 2, "_+=,.@-",
	           "a session name of 2 to 64 letters, digits and _+=,.@-"))
		snprintf(a->session, sizeof a->session, "tcrun-%s", a->name);
	a->duration = 3600;
	if (lua_getfield(L, 1, "duration") != LUA_TNIL) {
		lua_Integer d = lua_tointeger(L, -1);

		if (!lua_isinteger(L, -1) || d < 1 || d > 43200)
			luaL_error(L, "bad field 'duration' to 'account' (seconds "
			           "from 1 to 43200 expected)");
		a->duration = (int)d;
	}
	lua_pop(L, 1);
	if (!a->role[0] && (a->external_id[0] || a->duration != 3600))
		luaL_error(L, "bad field to 'account' (external_id and "
		           "duration go with a role)");
	/* Anchored for the run: calls and the default point at it. */
	luaL_getsubtable(L, LUA_REGISTRYINDEX, ANCHORS);
	lua_pushvalue(L, 2);
	lua_rawsetp(L, -2, a);
	lua_pop(L, 1);
	lua_settop(L, 2);
	return 1;
}

int laccount_default(lua_State *L)
{
	struct runtime *rt = runtime_of(L);
	struct account *a = lua_isnoneornil(L, 1) ? NULL : check(L, 1);

	luaL_argcheck(L, !a || !a->role[0], 1, "the default account must "
	              "be the credentials' own (an account without a role)");
	if (rt->default_account)
		laccount_push(L, rt->default_account);
	else
		lua_pushnil(L);
	if (a)
		rt->default_account = a;
	return 1;
}

static int account_index(lua_State *L)
{
	struct account *a = check(L, 1);
	const char *k = luaL_checkstring(L, 2);

	if (strcmp(k, "name") == 0)
		lua_pushstring(L, a->name);
	else if (strcmp(k, "uin") == 0)
		lua_pushstring(L, a->uin);
	else if (strcmp(k, "role") == 0 && a->role[0])
		lua_pushstring(L, a->role);
	else if (strcmp(k, "duration") == 0 && a->role[0])
		lua_pushinteger(L, a->duration);
	else if (strcmp(k, "expires") == 0 && a->expires)
		lua_pushinteger(L, (lua_Integer)a->expires);
	else if (strcmp(k, "assumed") == 0)
		lua_pushinteger(L, a->assumed);
	else if (strcmp(k, "checked") == 0)
		lua_pushboolean(L, a->checked);
	else
		lua_pushnil(L);
	return 1;
}

static int account_tostring(lua_State *L)
{
	struct account *a = check(L, 1);

	lua_pushfstring(L, "%s (%s)", a->name, a->uin);
	return 1;
}

static int account_gc(lua_State *L)
{
	struct account *a = check(L, 1);

	creds_clear(&a->creds);
	free(a->waiters);
	a->waiters = NULL;
	a->nwait = a->capwait = 0;
	return 0;
}

void laccount_init(lua_State *L)
{
	static const luaL_Reg meta[] = {
		{ "__index", account_index },
		{ "__tostring", account_tostring },
		{ "__gc", account_gc },
		{ NULL, NULL }
	};

	if (luaL_newmetatable(L, ACCOUNT_TYPE)) {
		luaL_setfuncs(L, meta, 0);
		lua_pushliteral(L, "account");
		lua_setfield(L, -2, "__metatable");
	}
	lua_pop(L, 1);
}

int account_has_role(const struct account *a)
{
	return a->role[0] != '\0';
}

int account_stale(const struct account *a, time_t now)
{
	if (!account_has_role(a))
		return 0;
	return !a->creds.secret_id || now >= a->expires - a->margin;
}

enum account_gate account_gate(struct account *a, struct task *t,
                               time_t now)
{
	if (a->fail_code[0])
		return GATE_FAILED;
	if (a->checked && !account_stale(a, now))
		return GATE_READY;
	if (!a->refresher) {
		a->refresher = t;
		a->round++;
		return GATE_REFRESH;
	}
	if (a->nwait == a->capwait) {
		size_t cap = a->capwait ? a->capwait * 2 : 16;
		struct task **w = realloc(a->waiters, cap * sizeof *w);

		if (!w) {
			snprintf(a->fail_code, sizeof a->fail_code,
			         "ClientError.NoMemory");
			snprintf(a->fail_msg, sizeof a->fail_msg, "out of memory");
			return GATE_FAILED;
		}
		a->waiters = w;
		a->capwait = cap;
	}
	a->waiters[a->nwait++] = t;
	return GATE_WAIT;
}

void account_done(struct account *a)
{
	a->refresher = NULL;
	for (size_t i = 0; i < a->nwait; i++)
		sched_wake(a->waiters[i]);
	a->nwait = 0;
}

void account_fail_round(struct account *a, const char *code,
                        const char *message, int transient)
{
	a->failed_round = a->round;
	snprintf(a->err_code, sizeof a->err_code, "%s", code ? code : "Error");
	snprintf(a->err_msg, sizeof a->err_msg, "%s", message ? message : "");
	a->err_transient = transient;
	account_done(a);
}

int account_round_failed(const struct account *a, unsigned round)
{
	return round != 0 && a->failed_round == round;
}

void account_unwait(struct account *a, struct task *t)
{
	if (a->refresher == t)
		a->refresher = NULL;
	for (size_t i = 0; i < a->nwait; i++)
		if (a->waiters[i] == t) {
			a->waiters[i] = a->waiters[--a->nwait];
			return;
		}
}

int account_store(lua_State *L, struct account *a, int idx, char *err,
                  size_t errlen)
{
	const char *id, *key, *token;
	size_t klen, tlen;
	lua_Integer expires;
	int ok;

	idx = lua_absindex(L, idx);
	if (lua_getfield(L, idx, "Credentials") != LUA_TTABLE) {
		lua_pop(L, 1);
		snprintf(err, errlen, "the AssumeRole answer has no Credentials");
		return -1;
	}
	lua_getfield(L, -1, "TmpSecretId");
	lua_getfield(L, -2, "TmpSecretKey");
	lua_getfield(L, -3, "Token");
	lua_getfield(L, idx, "ExpiredTime");
	id = lua_type(L, -4) == LUA_TSTRING ? lua_tostring(L, -4) : NULL;
	key = lsecret_get(L, -3, &klen);
	token = lsecret_get(L, -2, &tlen);
	expires = lua_tointeger(L, -1);
	ok = id && key && token && expires > 0;
	if (ok && (time_t)expires <= time(NULL)) {
		lua_pop(L, 5);
		snprintf(err, errlen, "the credentials AssumeRole gave end at %lld, "
		         "already past by this machine's clock (%lld): is its "
		         "clock right?", (long long)expires,
		         (long long)time(NULL));
		return -1;
	}
	if (ok && creds_set(&a->creds, id, key, token, NULL) != 0)
		ok = 0;
	lua_pop(L, 5);
	if (!ok) {
		snprintf(err, errlen, "the AssumeRole answer lacks TmpSecretId, "
		         "TmpSecretKey, Token or ExpiredTime");
		return -1;
	}
	a->expires = (time_t)expires;
	/* Renewed a fifth of the life granted (not asked) before its end. */
	a->margin = (a->expires - time(NULL)) / 5;
	if (a->margin > 300)
		a->margin = 300;
	a->gen++;
	a->assumed++;
	return 0;
}

int account_verify(struct account *a, const char *id)
{
	if (id && strcmp(id, a->uin) == 0) {
		a->checked = 1;
		return 1;
	}
	snprintf(a->fail_code, sizeof a->fail_code, "ClientError.WrongAccount");
	snprintf(a->fail_msg, sizeof a->fail_msg, "account %s: the credentials "
	         "tcrun has there belong to account %s, but the configuration "
	         "says %s is account %s; nothing is sent to it", a->name,
	         id ? id : "(unknown)", a->name, a->uin);
	return 0;
}

void account_expire(struct account *a, unsigned gen)
{
	if (a->gen == gen)
		a->expires = 0;
}
