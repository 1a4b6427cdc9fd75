/*
 * leach.c: tc.each, tc.sleep and tc.event (see leach.h).
 *
 * tc.each runs fn(row, i) for every row of a sequence, each in its own
 * task, at most `parallel` at once, and waits for all of them.  A row that
 * raises does not stop the others: its error is collected and returned.
 * The state of one tc.each is a userdata on the caller's stack (kept
 * there across the yield), with one slot per row in flight; rows, fn and
 * the failures table are anchored by registry references.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "leach.h"
#include "msg.h"
#include "sched.h"

#define EACH_TYPE "tcrun.each"
#define EVENT_TYPE "tcrun.event"

static int default_parallel = 8;

void leach_config(int parallel)
{
	if (parallel > 0)
		default_parallel = parallel;
}

struct each;

struct slot {
	struct each *e;
	lua_Integer row;        /* 0 when free */
};

struct each {
	lua_State *L;           /* the main thread, for spawning */
	struct task *parent;
	lua_Integer n, next, active, nok, nfail;
	int quiet;
	int rows_ref, fn_ref, fail_ref;
	int nslots;
	struct slot slots[];
};

static int each_gc(lua_State *L)
{
	struct each *e = luaL_checkudata(L, 1, EACH_TYPE);

	luaL_unref(L, LUA_REGISTRYINDEX, e->rows_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, e->fn_ref);
	luaL_unref(L, LUA_REGISTRYINDEX, e->fail_ref);
	e->rows_ref = e->fn_ref = e->fail_ref = LUA_NOREF;
	return 0;
}

static void row_done(lua_State *co, int ok, int nres, const char *tb,
                     void *ud);

/* Starts the next row as a task in a free slot.  May raise (memory). */
static void spawn_row(struct each *e)
{
	lua_State *L = e->L;
	struct slot *s = e->slots;

	while (s->row)
		s++;
	s->row = ++e->next;
	e->active++;
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->fn_ref);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->rows_ref);
	lua_rawgeti(L, -1, s->row);
	lua_remove(L, -2);
	lua_pushinteger(L, s->row);
	sched_spawn(L, -3, 2, row_done, s);
	lua_pop(L, 1);   /* fn */
}

/* A row's task ended: record a failure, start the next row, and wake the
 * caller of tc.each after the last one.  Runs inside the loop; when !ok
 * the error value is on top of co. */
static void row_done(lua_State *co, int ok, int nres, const char *tb,
                     void *ud)
{
	struct slot *s = ud;
	struct each *e = s->e;

	(void)nres;
	if (ok) {
		e->nok++;
	} else {
		const char *cut = strstr(tb, "\nstack traceback:");

		if (!e->quiet && msg_verbosity < 2)
			msg_warn("row %lld failed: %.*s", (long long)s->row,
			         cut ? (int)(cut - tb) : (int)strlen(tb), tb);
		else if (!e->quiet)
			msg_block("warning: row %lld failed: %s",
			          (long long)s->row, tb);
		luaL_checkstack(co, 6, "recording a failed row");
		lua_rawgeti(co, LUA_REGISTRYINDEX, e->fail_ref);
		lua_createtable(co, 0, 4);
		lua_pushinteger(co, s->row);
		lua_setfield(co, -2, "index");
		lua_rawgeti(co, LUA_REGISTRYINDEX, e->rows_ref);
		lua_rawgeti(co, -1, s->row);
		lua_setfield(co, -3, "row");
		lua_pop(co, 1);
		lua_pushvalue(co, -3);
		lua_setfield(co, -2, "error");
		lua_pushstring(co, tb);
		lua_setfield(co, -2, "traceback");
		lua_rawseti(co, -2, ++e->nfail);
		lua_pop(co, 1);
	}
	s->row = 0;
	e->active--;
	while (e->active < e->nslots && e->next < e->n && !sched_interrupted())
		spawn_row(e);
	if (e->active == 0)
		sched_wake(e->parent);
}

static int each_k(lua_State *L, int status, lua_KContext ctx)
{
	struct each *e = (struct each *)ctx;

	(void)status;
	lua_pushinteger(L, e->nok);
	lua_rawgeti(L, LUA_REGISTRYINDEX, e->fail_ref);
	return 2;
}

/* tc.each(rows, fn [, {parallel = n, quiet = bool}]) -> nok, failures.
 * Calls fn(row, i) for each row of the sequence rows, up to parallel rows
 * at once, and returns how many returned normally and a list of
 * {index, row, error, traceback} for those that raised.  Must run in a
 * tcrun task (the main chunk or a row). */
int leach_each(lua_State *L)
{
	struct task *parent = sched_current(L);
	lua_Integer n, parallel = default_parallel;
	int quiet = 0;
	struct each *e;

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	luaL_argexpected(L, lua_isnoneornil(L, 3) || lua_istable(L, 3), 3,
	                 "table");
	lua_settop(L, 3);
	if (!lua_isnil(L, 3)) {
		lua_pushnil(L);
		while (lua_next(L, 3)) {
			const char *k = lua_type(L, -2) == LUA_TSTRING ?
			                lua_tostring(L, -2) : "?";

			if (strcmp(k, "parallel") == 0) {
				parallel = lua_tointeger(L, -1);
				if (!lua_isinteger(L, -1) || parallel < 1 ||
				    parallel > 4096)
					return luaL_error(L, "bad option "
					    "'parallel' to 'each' (a whole "
					    "number from 1 to 4096 expected)");
			} else if (strcmp(k, "quiet") == 0) {
				quiet = lua_toboolean(L, -1);
			} else {
				return luaL_error(L, "bad option '%s' to "
				                  "'each'", k);
			}
			lua_pop(L, 1);
		}
	}
	if (!parent || !lua_isyieldable(L))
		return luaL_error(L, "tc.each must run in the script's main "
		                  "chunk or a tc.each row");
	n = luaL_len(L, 1);
	if (n < 0)
		n = 0;
	if (parallel > n)
		parallel = n > 0 ? n : 1;
	e = lua_newuserdatauv(L, sizeof *e + (size_t)parallel *
	                      sizeof e->slots[0], 0);
	memset(e, 0, sizeof *e);
	e->rows_ref = e->fn_ref = e->fail_ref = LUA_NOREF;
	luaL_setmetatable(L, EACH_TYPE);
	e->nslots = (int)parallel;
	for (int i = 0; i < e->nslots; i++)
		e->slots[i] = (struct slot){ e, 0 };
	lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
	e->L = lua_tothread(L, -1);
	lua_pop(L, 1);
	e->parent = parent;
	e->n = n;
	e->quiet = quiet;
	lua_pushvalue(L, 1);
	e->rows_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_pushvalue(L, 2);
	e->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lua_newtable(L);
	e->fail_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	if (n == 0)
		return each_k(L, LUA_OK, (lua_KContext)e);
	while (e->active < e->nslots && e->next < e->n)
		spawn_row(e);
	sched_wait(parent);
	return lua_yieldk(L, 0, (lua_KContext)e, each_k);
}

/*
 * tc.event(): a place tasks wait until another task signals it.  The
 * tasks waiting are kept in an array; a waiting task's stack holds the
 * event (it is the yielding call's first argument), so the event lives
 * as long as anyone waits on it.  Signal wakes every waiter and empties
 * the array, so a waiter is woken exactly once per wait.  There is no
 * timeout: whoever makes a task wait must make sure someone signals (a
 * task left waiting with nothing in flight is reported by the loop).
 */
struct event {
	struct task **waiting;
	size_t n, cap;
};

static int event_gc(lua_State *L)
{
	struct event *ev = luaL_checkudata(L, 1, EVENT_TYPE);

	free(ev->waiting);
	ev->waiting = NULL;
	ev->n = ev->cap = 0;
	return 0;
}

/* tc.event() -> an event with :wait() and :signal(). */
int leach_event(lua_State *L)
{
	struct event *ev = lua_newuserdatauv(L, sizeof *ev, 0);

	memset(ev, 0, sizeof *ev);
	luaL_setmetatable(L, EVENT_TYPE);
	return 1;
}

static int event_wait_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)L;
	(void)status;
	(void)ctx;
	return 0;
}

/* ev:wait(): waits until the next ev:signal(). */
static int event_wait(lua_State *L)
{
	struct event *ev = luaL_checkudata(L, 1, EVENT_TYPE);
	struct task *t = sched_current(L);

	if (!t || !lua_isyieldable(L))
		return luaL_error(L, "event:wait must run in the script's "
		                  "main chunk or a tc.each row");
	if (ev->n == ev->cap) {
		size_t cap = ev->cap ? ev->cap * 2 : 16;
		struct task **w = realloc(ev->waiting, cap * sizeof *w);

		if (!w)
			return luaL_error(L, "out of memory");
		ev->waiting = w;
		ev->cap = cap;
	}
	ev->waiting[ev->n++] = t;
	sched_wait(t);
	return lua_yieldk(L, 0, 0, event_wait_k);
}

/* ev:signal(): wakes every task waiting on ev; returns how many. */
static int event_signal(lua_State *L)
{
	struct event *ev = luaL_checkudata(L, 1, EVENT_TYPE);
	size_t n = ev->n;

	ev->n = 0;
	for (size_t i = 0; i < n; i++)
		sched_wake(ev->waiting[i]);
	lua_pushinteger(L, (lua_Integer)n);
	return 1;
}

void leach_init(lua_State *L)
{
	static const luaL_Reg event_methods[] = {
		{ "wait", event_wait },
		{ "signal", event_signal },
		{ NULL, NULL },
	};

	if (luaL_newmetatable(L, EACH_TYPE)) {
		lua_pushcfunction(L, each_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, EVENT_TYPE)) {
		lua_pushcfunction(L, event_gc);
		lua_setfield(L, -2, "__gc");
		luaL_newlib(L, event_methods);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx)
{
	(void)L;
	(void)status;
	(void)ctx;
	return 0;
}

/* tc.sleep(seconds): lets other rows run meanwhile */
int leach_sleep(lua_State *L)
{
	struct task *t = sched_current(L);
	lua_Number s = luaL_checknumber(L, 1);

	luaL_argcheck(L, s >= 0, 1, "must be >= 0");
	if (!t || !lua_isyieldable(L))
		return luaL_error(L, "tc.sleep must run in the script's main "
		                  "chunk or a tc.each row");
	sched_sleep(t, s * 1000);
	return lua_yieldk(L, 0, 0, sleep_k);
}
