/*
 * sched.c: tasks, timers and the loop (see sched.h).
 *
 * One scheduler per process.  A task's coroutine is anchored in the
 * registry (ref) from spawn to finish, and the task pointer lives in the
 * thread's extra space, so sched_current() is one load.  Threads the
 * script creates itself inherit the main thread's extra space, which is
 * NULL: they are not tasks, and tc.call refuses to yield from them.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>

#include "http.h"
#include "sched.h"

enum { T_READY, T_RUNNING, T_WAITING, T_SLEEPING };

struct task {
	lua_State *co;
	int ref;                    /* registry reference anchoring co */
	int state;
	int nargs;                  /* values to pass at the next resume */
	sched_done_fn *done;
	void *ud;
	void (*abandon)(void *);    /* see sched_on_abandon */
	void *abandon_ud;
	double wake_at;             /* T_SLEEPING: when */
	struct task *next;          /* ready queue */
	struct task *prev_live, *next_live;
};

static struct {
	lua_State *L;               /* the main thread */
	struct http *http;
	struct task *ready, *ready_tail;
	struct task **heap;         /* sleeping tasks, earliest first */
	size_t heap_n, heap_cap;
	struct task *live;          /* every task not yet finished */
	lua_State *volatile running;  /* the coroutine step() is in, or NULL */
} S;

static volatile sig_atomic_t interrupted;

/* Count hook set on the running coroutine by an interrupt: stops pure
 * Lua loops too (the way lua.c's laction does). */
static void stop_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	luaL_error(L, "interrupted");
}

void sched_interrupt(void)
{
	lua_State *co = S.running;

	interrupted = 1;
	if (co)
		lua_sethook(co, stop_hook,
		            LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

int sched_interrupted(void)
{
	return interrupted;
}

double sched_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct task *sched_current(lua_State *L)
{
	return *(struct task **)lua_getextraspace(L);
}

static void enqueue(struct task *t)
{
	t->state = T_READY;
	t->next = NULL;
	if (S.ready_tail)
		S.ready_tail->next = t;
	else
		S.ready = t;
	S.ready_tail = t;
}

struct task *sched_spawn(lua_State *L, int fn_idx, int nargs,
                         sched_done_fn *done, void *ud)
{
	struct task *t;

	fn_idx = lua_absindex(L, fn_idx);
	if (!(t = calloc(1, sizeof *t)))
		luaL_error(L, "out of memory");
	t->co = lua_newthread(L);
	t->ref = luaL_ref(L, LUA_REGISTRYINDEX);
	if (!lua_checkstack(t->co, nargs + 1)) {
		luaL_unref(L, LUA_REGISTRYINDEX, t->ref);
		free(t);
		luaL_error(L, "too many arguments");
	}
	*(struct task **)lua_getextraspace(t->co) = t;
	lua_pushvalue(L, fn_idx);
	lua_xmove(L, t->co, 1);
	lua_xmove(L, t->co, nargs);
	t->nargs = nargs;
	t->done = done;
	t->ud = ud;
	t->next_live = S.live;
	if (S.live)
		S.live->prev_live = t;
	S.live = t;
	enqueue(t);
	return t;
}

void sched_wait(struct task *t)
{
	t->state = T_WAITING;
}

void sched_wake(struct task *t)
{
	enqueue(t);
}

void *sched_abandon_data(struct task *t, void (*fn)(void *))
{
	return t->abandon == fn ? t->abandon_ud : NULL;
}

void sched_on_abandon(struct task *t, void (*fn)(void *), void *ud)
{
	t->abandon = fn;
	t->abandon_ud = ud;
}

/* Binary heap on wake_at. */
static void heap_push(struct task *t)
{
	size_t i;

	if (S.heap_n == S.heap_cap) {
		size_t cap = S.heap_cap ? S.heap_cap * 2 : 64;
		struct task **h = realloc(S.heap, cap * sizeof *h);

		if (!h)
			abort();   /* a few bytes per sleeping task */
		S.heap = h;
		S.heap_cap = cap;
	}
	for (i = S.heap_n++; i > 0; i = (i - 1) / 2) {
		struct task *up = S.heap[(i - 1) / 2];

		if (up->wake_at <= t->wake_at)
			break;
		S.heap[i] = up;
	}
	S.heap[i] = t;
}

static struct task *heap_pop(void)
{
	struct task *top = S.heap[0], *last = S.heap[--S.heap_n];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= S.heap_n)
			break;
		if (c + 1 < S.heap_n && S.heap[c + 1]->wake_at < S.heap[c]->wake_at)
			c++;
		if (last->wake_at <= S.heap[c]->wake_at)
			break;
		S.heap[i] = S.heap[c];
		i = c;
	}
	if (S.heap_n)
		S.heap[i] = last;
	return top;
}

void sched_sleep(struct task *t, double ms)
{
	t->state = T_SLEEPING;
	t->wake_at = sched_now_ms() + (ms > 0 ? ms : 0);
	heap_push(t);
}

/* Unlinks and frees t; its coroutine becomes garbage. */
static void release(struct task *t)
{
	if (t->prev_live)
		t->prev_live->next_live = t->next_live;
	else
		S.live = t->next_live;
	if (t->next_live)
		t->next_live->prev_live = t->prev_live;
	*(struct task **)lua_getextraspace(t->co) = NULL;
	luaL_unref(S.L, LUA_REGISTRYINDEX, t->ref);
	free(t);
}

/* tostring of an error value, run protected on the main thread (a
 * __tostring metamethod may itself fail). */
static int tostring_k(lua_State *L)
{
	luaL_tolstring(L, 1, NULL);
	return 1;
}

/* Pushes onto the main thread "message\ntraceback" for the error value on
 * top of co (left in place). */
static void traceback(lua_State *co)
{
	lua_State *L = S.L;
	const char *msg;

	lua_pushcfunction(L, tostring_k);
	lua_pushvalue(co, -1);
	lua_xmove(co, L, 1);
	if (lua_pcall(L, 1, 1, 0) != LUA_OK || !(msg = lua_tostring(L, -1))) {
		lua_pop(L, 1);
		lua_pushliteral(L, "(error object is not a string)");
		msg = lua_tostring(L, -1);
	}
	luaL_traceback(L, co, msg, 0);
	lua_remove(L, -2);
}

/* Resumes t: the one place a task runs.  Afterwards the task is either
 * waiting (registered by the C function it yielded from) or finished. */
static void step(struct task *t)
{
	lua_State *co = t->co;
	int nres = 0, status, nargs = t->nargs;

	t->state = T_RUNNING;
	t->nargs = 0;
	S.running = co;
	if (interrupted)   /* the signal came just before: stop at once */
		sched_interrupt();
	status = lua_resume(co, S.L, nargs, &nres);
	S.running = NULL;
	if (status == LUA_YIELD && t->state != T_RUNNING) {
		lua_pop(co, nres);
		return;
	}
	if (status == LUA_YIELD) {
		/* coroutine.yield from code tcrun runs: nobody could
		 * resume it, so it fails here with a clear message. */
		lua_pop(co, nres);
		lua_pushliteral(co, "attempt to yield from a tcrun task "
		                "(coroutine.yield outside a coroutine of "
		                "your own)");
		status = LUA_ERRRUN;
	}
	if (status == LUA_OK) {
		t->done(co, 1, nres, NULL, t->ud);
	} else {
		int at;

		traceback(co);
		at = lua_gettop(S.L);
		t->done(co, 0, 0, lua_tostring(S.L, at), t->ud);
		lua_remove(S.L, at);   /* done may have pushed results */
		lua_resetthread(co);   /* closes pending to-be-closed vars */
	}
	release(t);
}

struct main_result {
	int finished, ok, nres;
};

/* The main task's results go to the main thread's stack. */
static void main_done(lua_State *co, int ok, int nres, const char *tb,
                      void *ud)
{
	struct main_result *r = ud;

	r->finished = 1;
	r->ok = ok;
	if (ok) {
		/* Only the first result decides the exit status. */
		if (nres > 1)
			lua_pop(co, nres - 1);
		r->nres = nres > 0 ? 1 : 0;
		lua_xmove(co, S.L, r->nres);
	} else {
		lua_xmove(co, S.L, 1);
		lua_pushstring(S.L, tb);
	}
}

/* Abandons every task still alive, whatever it waits for: its abandon
 * hook frees transfers and journals what is left undone; coroutines are
 * left to the collector. */
static void abandon_all(void)
{
	while (S.live) {
		struct task *t = S.live;

		if (t->abandon)
			t->abandon(t->abandon_ud);
		lua_resetthread(t->co);
		release(t);
	}
	S.ready = S.ready_tail = NULL;
	S.heap_n = 0;
}

/* coroutine.resume and coroutine.close, refusing tcrun's tasks.
 * Upvalue 1: the original function. */
static int guarded(lua_State *L)
{
	lua_State *co = lua_tothread(L, 1);

	if (co && *(struct task **)lua_getextraspace(co))
		return luaL_error(L, "cannot resume or close a coroutine tcrun "
		                  "runs (a tc.each row or the main chunk)");
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_insert(L, 1);
	lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
	return lua_gettop(L);
}

void sched_guard_coroutines(lua_State *L)
{
	static const char *const names[] = { "resume", "close" };

	lua_getglobal(L, "coroutine");
	for (int i = 0; i < 2; i++) {
		lua_getfield(L, -1, names[i]);
		lua_pushcclosure(L, guarded, 1);
		lua_setfield(L, -2, names[i]);
	}
	lua_pop(L, 1);
}

int sched_run(lua_State *L, struct http *h, int fn_idx, int nargs,
              int *nres)
{
	struct main_result r = { 0, 0, 0 };
	int top;

	S.L = L;
	S.http = h;
	sched_spawn(L, fn_idx, nargs, main_done, &r);
	top = lua_gettop(L);
	while (!r.finished && !interrupted) {
		struct task *t = S.ready;
		double now, wait = 100;

		/* Tasks not stepped after an interrupt stay on the live list,
		 * where abandon_all finds them. */
		S.ready = S.ready_tail = NULL;
		while (t && !interrupted) {
			struct task *next = t->next;

			step(t);
			t = next;
		}
		if (r.finished)
			break;
		now = sched_now_ms();
		while (S.heap_n && S.heap[0]->wake_at <= now)
			enqueue(heap_pop());
		if (S.ready)
			wait = 0;
		else if (S.heap_n && S.heap[0]->wake_at - now < wait)
			wait = S.heap[0]->wake_at - now + 1;
		if (http_wait(h, (long)wait) == 0 && !S.ready && !S.heap_n &&
		    !interrupted) {
			/* Every task waits and nothing can wake one: a bug in
			 * a binding, reported rather than spinning forever. */
			abandon_all();
			lua_pushliteral(L, "internal error");
			lua_pushliteral(L, "internal error: every task waits "
			                "and nothing is in flight");
			return 1;
		}
	}
	if (interrupted) {
		abandon_all();
		lua_settop(L, top);   /* what the main task may have left */
		return 2;
	}
	abandon_all();
	*nres = r.nres;
	return r.ok ? 0 : 1;
}
