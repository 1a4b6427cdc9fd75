/*
 * sched.h: every unit of Lua work runs as a coroutine ("task") that tcrun
 * resumes from one loop, so tc.call can yield while its request is in
 * flight and plain sequential Lua still runs many rows at once.
 *
 * A C function that must wait registers how to cancel the wait
 * (sched_wait or sched_sleep), then returns lua_yieldk(L, 0, ctx, k).  The
 * loop resumes the task when sched_wake is called (an HTTP completion) or
 * its timer is due.  Resumption happens in exactly one place (step()).
 * Does not: know about HTTP or Tencent Cloud.
 */
#ifndef TCRUN_SCHED_H
#define TCRUN_SCHED_H

#include <lua.h>

struct http;
struct task;

/* Called when a task finishes.  ok: the function returned, its results
 * are on co's stack (nres values); else the error value is on co's stack
 * and traceback is the text of the message with a traceback of co.  The
 * callback may use co's stack freely; the task is freed afterwards. */
typedef void sched_done_fn(lua_State *co, int ok, int nres,
                           const char *traceback, void *ud);

/* Set by SIGINT (through sched_interrupt, async-signal-safe): the running
 * coroutine, if any, stops at its next instruction count hook, and the
 * loop abandons every task at the next safe point. */
void sched_interrupt(void);
int sched_interrupted(void);

/* Monotonic milliseconds. */
double sched_now_ms(void);

/* The task that runs on thread L, or NULL when L is not one of ours (the
 * caller should then raise: tcrun cannot resume a foreign coroutine). */
struct task *sched_current(lua_State *L);

/* Replaces coroutine.resume and coroutine.close with versions that refuse
 * a thread tcrun runs as a task (only the loop may resume it). */
void sched_guard_coroutines(lua_State *L);

/* Starts fn (at stack index fn_idx of L) with the nargs values on top of
 * L's stack, which are popped, as a new task; done is called when it ends.
 * The task first runs on the next turn of the loop.  May raise (memory). */
struct task *sched_spawn(lua_State *L, int fn_idx, int nargs,
                         sched_done_fn *done, void *ud);

/* Marks t as waiting until sched_wake(t). */
void sched_wait(struct task *t);
/* Makes a waiting task runnable again. */
void sched_wake(struct task *t);
/* Marks t as waiting until ms from now. */
void sched_sleep(struct task *t, double ms);

/* The ud of t's abandon hook when that hook is fn, else NULL: a call made
 * inside another call's wait finds the outer one to abandon it too. */
void *sched_abandon_data(struct task *t, void (*fn)(void *));

/* fn(ud) is called if t is abandoned (interrupt) before it finishes or the
 * hook is cleared (fn NULL), whether t is then waiting, sleeping or ready:
 * it frees what t holds outside Lua and records what it leaves undone. */
void sched_on_abandon(struct task *t, void (*fn)(void *), void *ud);

/* Runs fn (at fn_idx, with nargs arguments on top) as the main task and
 * drives the loop until it ends.  Returns 0 and leaves the main task's
 * results on L's stack (their count in *nres); or returns 1 with the error
 * value and then its text (message and traceback) pushed; or 2 when
 * interrupted. */
int sched_run(lua_State *L, struct http *h, int fn_idx, int nargs,
              int *nres);

#endif
