/*
 * lappend.c: tc.appender, an append-only file of lines for a recipe's own
 * records (its ledger), over journal.c: created with mode 0600 whatever
 * the umask, never through a symbolic link, each line written whole and
 * synced before write() returns, so a record a recipe relies on (an
 * initial password was set) is on disk before the act it records.
 *
 *   tc.appender(path) -> appender | nil, "path: reason"
 *   appender:write(line) -> true | nil, "path: reason"
 *   appender:close()
 */
#include <errno.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "fsutil.h"
#include "journal.h"
#include "lappend.h"

#define APPENDER_TYPE "tcrun.appender"

struct appender {
	struct journal *j;      /* NULL once closed */
};

/* tc.appender(path) -> appender | nil, "path: reason" */
int lappend_open(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	struct appender *a = lua_newuserdatauv(L, sizeof *a, 0);
	char err[4200], who[256];

	a->j = NULL;
	luaL_setmetatable(L, APPENDER_TYPE);
	if (!(a->j = journal_open(path, 0, err, sizeof err))) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	if (journal_lock(a->j) != 0) {
		int e = errno;

		journal_close(a->j);
		a->j = NULL;
		lua_pushnil(L);
		if (e != EWOULDBLOCK) {
			lua_pushfstring(L, "%s: cannot lock: %s", path,
			                strerror(e));
		} else {
			fs_lock_holder(path, who, sizeof who);
			lua_pushfstring(L, "%s: in use by another run%s; wait "
			                "for it to end", path, who);
		}
		return 2;
	}
	return 1;
}

/* appender:write(line) -> true | nil, "path: reason"; a line must not
 * hold a newline (it would be two records) */
static int appender_write(lua_State *L)
{
	struct appender *a = luaL_checkudata(L, 1, APPENDER_TYPE);
	size_t len;
	const char *line = luaL_checklstring(L, 2, &len);

	if (!a->j)
		return luaL_error(L, "attempt to use a closed appender");
	luaL_argcheck(L, !memchr(line, '\n', len), 2, "a line has no newline");
	if (journal_append(a->j, line, len) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", journal_path(a->j),
		                strerror(errno ? errno : EIO));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* appender:close(), __gc, __close: idempotent */
static int appender_close(lua_State *L)
{
	struct appender *a = luaL_checkudata(L, 1, APPENDER_TYPE);

	journal_close(a->j);
	a->j = NULL;
	return 0;
}

void lappend_init(lua_State *L)
{
	static const luaL_Reg meth[] = {
		{ "write", appender_write },
		{ "close", appender_close },
		{ NULL, NULL }
	};

	if (luaL_newmetatable(L, APPENDER_TYPE)) {
		lua_pushcfunction(L, appender_close);
		lua_setfield(L, -2, "__gc");
		lua_pushcfunction(L, appender_close);
		lua_setfield(L, -2, "__close");
		luaL_newlib(L, meth);
		lua_setfield(L, -2, "__index");
	}
	lua_pop(L, 1);
}
