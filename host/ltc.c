/*
 * ltc.c: the tc module (see ltc.h): its table around the runtime it
 * shares (runtime.c), and the small functions.  tc.call lives in lcall.c,
 * its errors in lerror.c, tc.each, tc.sleep and tc.event in leach.c, tc.password in
 * lsecret.c.
 */
#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fsutil.h"
#include "journal.h"
#include "laccount.h"
#include "lappend.h"
#include "lcall.h"
#include "leach.h"
#include "lerror.h"
#include "lsecret.h"
#include "ltc.h"
#include "msg.h"
#include "printable.h"
#include "ratelimit.h"
#include "runtime.h"
#include "sched.h"

/* tc.rate_limit(service, action, n): calls/s for one action (0 = none) */
static int tc_rate_limit(lua_State *L)
{
	struct runtime *rt = runtime_of(L);
	const char *service = luaL_checkstring(L, 1);
	const char *action = luaL_checkstring(L, 2);
	lua_Number n = luaL_checknumber(L, 3);

	luaL_argcheck(L, n >= 0, 3, "must be >= 0");
	if (ratelimit_set(rt->rl, service, action, n) != 0)
		return luaL_error(L, "out of memory");
	return 0;
}

/* Joins the arguments with spaces and prints them as a warning (warn 1),
 * a debug line (2) or an info line (0). */
static int log_at(lua_State *L, int warn)
{
	int n = lua_gettop(L);
	luaL_Buffer b;

	luaL_buffinit(L, &b);
	for (int i = 1; i <= n; i++) {
		if (i > 1)
			luaL_addchar(&b, ' ');
		luaL_tolstring(L, i, NULL);
		luaL_addvalue(&b);
	}
	luaL_pushresult(&b);
	if (warn == 1)
		msg_warn("%s", lua_tostring(L, -1));
	else if (warn == 2)
		msg_debug("%s", lua_tostring(L, -1));
	else
		msg_info("%s", lua_tostring(L, -1));
	return 0;
}

/* tc.log(...): one "tcrun: ..." line on stderr, silenced by -q */
static int tc_log(lua_State *L)
{
	return log_at(L, 0);
}

/* tc.debug(...): one "tcrun: debug: ..." line on stderr, with -v only */
static int tc_debug(lua_State *L)
{
	return msg_verbosity >= 2 ? log_at(L, 2) : 0;
}

/* tc.warn(...): one "tcrun: warning: ..." line on stderr, always */
static int tc_warn(lua_State *L)
{
	return log_at(L, 1);
}

/* tc.journal_path() -> the write journal's path, or nil before the first
 * write when --journal named none */
static int tc_journal_path(lua_State *L)
{
	struct runtime *rt = runtime_of(L);

	if (rt->journal)
		lua_pushstring(L, journal_path(rt->journal));
	else if (rt->journal_want)
		lua_pushstring(L, rt->journal_want);
	else
		lua_pushnil(L);
	return 1;
}

static int dir_gc(lua_State *L)
{
	DIR **d = lua_touserdata(L, 1);

	if (*d)
		closedir(*d);
	*d = NULL;
	return 0;
}

/* tc.dir(path) -> the names in folder path (not . and ..), sorted; or
 * nil, msg.  The open folder is held by a userdata, so a memory error
 * while listing closes it too. */
static int tc_dir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	DIR **d = lua_newuserdatauv(L, sizeof *d, 0);
	struct dirent *de;
	int n = 0;

	*d = NULL;
	if (luaL_newmetatable(L, "tcrun.dir")) {
		lua_pushcfunction(L, dir_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_setmetatable(L, -2);
	if (!(*d = opendir(path)))
		return luaL_fileresult(L, 0, path);
	lua_newtable(L);
	while ((de = readdir(*d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			lua_pushstring(L, de->d_name);
			lua_rawseti(L, -2, ++n);
		}
	closedir(*d);
	*d = NULL;
	lua_getglobal(L, "table");
	lua_getfield(L, -1, "sort");
	lua_pushvalue(L, -3);
	lua_call(L, 1, 0);
	lua_pop(L, 1);
	return 1;
}

/* tc.realpath(path) -> the absolute path without links, or nil, msg */
static int tc_realpath(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	char *real = realpath(path, NULL);

	if (!real)
		return luaL_fileresult(L, 0, path);
	lua_pushstring(L, real);
	free(real);
	return 1;
}

/* tc.isatty([fd]) -> whether fd (default 2, stderr) is a terminal */
static int tc_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_optinteger(L, 1, 2)));
	return 1;
}

/* tc.clock() -> seconds on a monotonic clock, to the microsecond: for
 * deadlines and durations, which os.time() (whole seconds, and it may be
 * set back) cuts short by up to a second */
static int tc_clock(lua_State *L)
{
	lua_pushnumber(L, sched_now_ms() / 1e3);
	return 1;
}

/* tc.on_interrupt(line | nil): what an interrupted run says after
 * "interrupted" (what the recipe leaves undone), or nothing */
#define INTERRUPT_NOTE "tcrun.interrupt_note"

static int tc_on_interrupt(lua_State *L)
{
	if (!lua_isnoneornil(L, 1))
		luaL_checkstring(L, 1);
	lua_settop(L, 1);
	lua_setfield(L, LUA_REGISTRYINDEX, INTERRUPT_NOTE);
	return 0;
}

const char *ltc_interrupt_note(lua_State *L)
{
	const char *s;

	lua_getfield(L, LUA_REGISTRYINDEX, INTERRUPT_NOTE);
	s = lua_tostring(L, -1);   /* the registry keeps it */
	lua_pop(L, 1);
	return s;
}

/* tc.write_file(path, text) -> true, or nil, msg: writes text to path
 * with mode 0600 through a temporary file renamed onto it once complete
 * and synced (fs_atomic): a reader never sees half a file */
static int tc_write_file(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	size_t len;
	const char *text = luaL_checklstring(L, 2, &len);
	struct fs_atomic f;
	int rc;

	if (fs_atomic_open(&f, path, 0600) != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(errno));
		return 2;
	}
	if (fwrite(text, 1, len, f.fp) != len) {
		rc = errno ? errno : EIO;
		fs_atomic_free(&f);
	} else {
		rc = fs_atomic_commit(&f, 0);
		fs_atomic_free(&f);
	}
	if (rc != 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(rc));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* tc.lock(path) -> true, or nil, msg: takes an exclusive lock on the
 * file at path (made 0600 when missing, never through a symbolic link)
 * for the rest of the run, so two runs of one job never interleave;
 * refused at once, not waited for, when another process holds it */
static int tc_lock(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0) {
		lua_pushnil(L);
		lua_pushfstring(L, "%s: %s", path, strerror(errno));
		return 2;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		char who[256];

		close(fd);
		lua_pushnil(L);
		if (e != EWOULDBLOCK) {
			lua_pushfstring(L, "%s: %s", path, strerror(e));
		} else {
			fs_lock_holder(path, who, sizeof who);
			lua_pushfstring(L, "%s: held by another run%s", path, who);
		}
		return 2;
	}
	/* Kept open (and locked) until the process ends. */
	lua_pushboolean(L, 1);
	return 1;
}

/* tc.mkdir(path [, {check = true}]) -> true, or nil, msg: creates path
 * and its parents with mode 0700, and checks that it is a folder of the
 * user's own that nobody else can write to, under folders nobody else
 * can swap (output folders may hold initial passwords); with check, only
 * whether that would succeed, making nothing */
static int tc_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);
	int check = 0;
	char err[4200];

	if (!lua_isnoneornil(L, 2)) {
		luaL_checktype(L, 2, LUA_TTABLE);
		lua_getfield(L, 2, "check");
		check = lua_toboolean(L, -1);
		lua_pop(L, 1);
	}
	if ((check ? fs_private_dir_check(path, err, sizeof err) :
	             fs_private_dir(path, err, sizeof err)) != 0) {
		lua_pushnil(L);
		lua_pushstring(L, err);
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* tc.printable(s) -> s as one line safe for a terminal or a log: control
 * and invisible characters escaped (printable.h) */
static int tc_printable(lua_State *L)
{
	size_t len, cap;
	const char *s = luaL_checklstring(L, 1, &len);
	luaL_Buffer b;
	char *out;

	cap = len * 8 + 1;
	out = luaL_buffinitsize(L, &b, cap);
	luaL_pushresultsize(&b, printable(s, len, out, cap, 0));
	return 1;
}

/* tc.is_secret(v) -> whether v is an opaque secret (lsecret.h) */
static int tc_is_secret(lua_State *L)
{
	size_t len;

	luaL_checkany(L, 1);
	lua_pushboolean(L, lsecret_get(L, 1, &len) != NULL);
	return 1;
}

static const luaL_Reg funcs[] = {
	{ "call", lcall_call },
	{ "each", leach_each },
	{ "sleep", leach_sleep },
	{ "event", leach_event },
	{ "password", lsecret_password },
	{ "is_write", lcall_is_write },
	{ "is_transient", lerror_is_transient },
	{ "config_error", lerror_config },
	{ "is_secret", tc_is_secret },
	{ "printable", tc_printable },
	{ "secret_fields", lsecret_fields },
	{ "rate_limit", tc_rate_limit },
	{ "log", tc_log },
	{ "warn", tc_warn },
	{ "debug", tc_debug },
	{ "journal_path", tc_journal_path },
	{ "isatty", tc_isatty },
	{ "clock", tc_clock },
	{ "on_interrupt", tc_on_interrupt },
	{ "mkdir", tc_mkdir },
	{ "dir", tc_dir },
	{ "realpath", tc_realpath },
	{ "appender", lappend_open },
	{ "account", laccount_new },
	{ "lock", tc_lock },
	{ "write_file", tc_write_file },
	{ "default_account", laccount_default },
	{ NULL, NULL }
};

int ltc_open(lua_State *L, const struct tc_config *cfg, char *err,
             size_t errlen)
{
	struct runtime *rt = runtime_new(L, cfg, err, errlen);

	if (!rt)
		return -1;
	lcall_init(L);
	leach_init(L);
	lappend_init(L);
	laccount_init(L);
	luaL_newlibtable(L, funcs);
	lua_insert(L, -2);
	luaL_setfuncs(L, funcs, 1);         /* the runtime as upvalue 1 */
	lua_pushboolean(L, rt->dry_run);
	lua_setfield(L, -2, "dry_run");
	lua_pushstring(L, rt->region);
	lua_setfield(L, -2, "region");
	lua_pushinteger(L, cfg->parallel);
	lua_setfield(L, -2, "parallel");
	lua_pushboolean(L, msg_verbosity >= 2);
	lua_setfield(L, -2, "verbose");
	lua_pushboolean(L, msg_verbosity <= 0);
	lua_setfield(L, -2, "quiet");
	lua_pushliteral(L, TCRUN_VERSION);
	lua_setfield(L, -2, "version");
	luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
	lua_pushvalue(L, -2);
	lua_setfield(L, -2, "tc");
	lua_pop(L, 1);
	lua_setglobal(L, "tc");
	return 0;
}

struct http *ltc_http(lua_State *L)
{
	struct runtime *rt = runtime_get(L);

	return rt ? rt->http : NULL;
}
