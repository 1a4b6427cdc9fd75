/*
 * state.c: create the Lua state, preload our modules, build `arg`, run
 * the script as the main task, and turn the outcome into an exit code.
 *
 * Everything that touches Lua runs inside pmain, under one lua_pcall, so
 * no error reaches the panic handler (the shape of lua.c's main/pmain).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua-cjson.h>
#include <lua.h>
#include <lualib.h>

#include "lerror.h"
#include "lcsv.h"
#include "ljson.h"
#include "lrowpack.h"
#include "ltc.h"
#include "msg.h"
#include "paths.h"
#include "runtime.h"
#include "sched.h"
#include "state.h"

static void preload(lua_State *L, const char *name, lua_CFunction open)
{
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
	lua_pushcfunction(L, open);
	lua_setfield(L, -2, name);
	lua_pop(L, 1);
}

struct pmain_result {
	const struct run *run;
	int code;
};

/* Everything, protected.  Upvalue-free: the run arrives as a light
 * userdata argument; the exit code is written back through it. */
static int pmain(lua_State *L)
{
	struct pmain_result *pr = lua_touserdata(L, 1);
	const struct run *r = pr->run;
	const char *home = paths_home();
	char path[4096], err[1024], config[4096], state[4096];
	int have_config = paths_config(r->config, config, sizeof config) == 0;
	struct runtime *rt;
	int status, nres = 0, base;

	luaL_openlibs(L);
	sched_guard_coroutines(L);
	preload(L, "cjson", luaopen_cjson);
	preload(L, "tcrun.json", luaopen_tcrun_json);
	preload(L, "tcrun.csv", luaopen_tcrun_csv);
	preload(L, "tcrun.rowpack", luaopen_tcrun_rowpack);
	lua_getglobal(L, "package");
	lua_pushfstring(L, "%s/lua/?.lua;", home);
	lua_getfield(L, -2, "path");
	lua_concat(L, 2);
	lua_setfield(L, -2, "path");
	lua_pop(L, 1);

	if (paths_find_script(r->script, have_config ? config : NULL, path,
	                      sizeof path) != 0) {
		msg_error("%s: no such file, and no recipe of that name in "
		          "%s/recipes or %s/recipes (tcrun --list shows them)",
		          r->script, have_config ? config : "(no config)",
		          home);
		pr->code = EXIT_USAGE;
		return 0;
	}
	msg_debug("script: %s", path);
	if (ltc_open(L, &r->tc, err, sizeof err) != 0) {
		msg_error("%s", err);
		pr->code = EXIT_USAGE;
		return 0;
	}
	lua_getglobal(L, "tc");
	lua_pushstring(L, home);
	lua_setfield(L, -2, "home");
	if (have_config)
		lua_pushstring(L, config);
	else
		lua_pushnil(L);
	lua_setfield(L, -2, "config_dir");
	if (paths_state(state, sizeof state) == 0)
		lua_pushstring(L, state);
	else
		lua_pushnil(L);
	lua_setfield(L, -2, "state_dir");
	lua_pop(L, 1);

	/* arg: the script at 0, its arguments at 1..n (as lua.c builds it) */
	lua_createtable(L, r->argc, 1);
	lua_pushstring(L, path);
	lua_rawseti(L, -2, 0);
	for (int i = 0; i < r->argc; i++) {
		lua_pushstring(L, r->argv[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setglobal(L, "arg");

	if (luaL_loadfile(L, path) != LUA_OK) {
		msg_error("%s", lua_tostring(L, -1));
		pr->code = EXIT_RUNTIME;
		return 0;
	}
	base = lua_gettop(L);
	luaL_checkstack(L, r->argc + 3, "too many arguments to script");
	for (int i = 0; i < r->argc; i++)
		lua_pushstring(L, r->argv[i]);
	status = sched_run(L, ltc_http(L), base, r->argc, &nres);
	if (status == 2) {
		const char *note = ltc_interrupt_note(L);

		msg_error("interrupted: run the same command again to finish "
		          "the job (the recipes resume where they stopped)");
		if (note)
			msg_error("%s", note);
		pr->code = EXIT_INTERRUPT;
	} else if (status == 1) {
		/* A setup problem is one line (its traceback only with -v);
		 * a script's bug keeps its traceback. */
		lua_pushvalue(L, -2);                  /* err, text, err */
		pr->code = lerror_status(L);
		if (pr->code == EXIT_USAGE && msg_verbosity < 2) {
			/* Not where in the library it surfaced: what is
			 * wrong. */
			lua_pushliteral(L, "");
			lua_setfield(L, -2, "where");
			msg_error("%s", luaL_tolstring(L, -1, NULL));
			lua_pop(L, 4);
		} else {
			msg_block("%s", lua_tostring(L, -2));
			lua_pop(L, 3);
		}
	} else if (nres == 0 || lua_isnil(L, -nres) ||
	           (lua_isboolean(L, -nres) && lua_toboolean(L, -nres))) {
		pr->code = EXIT_OK;
	} else if (lua_isboolean(L, -nres)) {
		pr->code = EXIT_FAILURES;
	} else if (lua_isinteger(L, -nres) && lua_tointeger(L, -nres) >= 0 &&
	           lua_tointeger(L, -nres) <= 125) {
		pr->code = (int)lua_tointeger(L, -nres);
	} else {
		msg_error("%s returned %s; expected nothing, a boolean or an "
		          "exit code 0-125", path, luaL_typename(L, -nres));
		pr->code = EXIT_RUNTIME;
	}
	/* Writes refused for want of a journal, or one sent and not
	 * recorded: the run failed for its configuration. */
	rt = runtime_get(L);
	if (rt && rt->journal_failed &&
	    (pr->code == EXIT_OK || pr->code == EXIT_FAILURES)) {
		msg_error("journal: writes were refused or went unrecorded "
		          "(see above)");
		pr->code = EXIT_USAGE;
	}
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
	sched_interrupt();
}

int state_run(const struct run *r)
{
	struct pmain_result pr = { r, EXIT_RUNTIME };
	struct sigaction sa;
	lua_State *L = luaL_newstate();

	if (!L) {
		msg_error("cannot create the Lua state: out of memory");
		return EXIT_RUNTIME;
	}
	/* Threads copy the main thread's extra space: NULL there means "not
	 * a tcrun task" for every coroutine the script makes (sched.c). */
	*(void **)lua_getextraspace(L) = NULL;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESETHAND;   /* a second Ctrl-C stops at once */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	lua_pushcfunction(L, pmain);
	lua_pushlightuserdata(L, &pr);
	if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
		msg_error("%s", lua_tostring(L, -1));
		pr.code = EXIT_RUNTIME;
	}
	lua_close(L);
	return pr.code;
}
