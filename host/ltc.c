/*
 * ltc.c: the tc module (see ltc.h): its table, the runtime it shares
 * (runtime.h), and the small functions.  tc.call lives in lcall.c, tc.each
 * and tc.sleep in leach.c, tc.password in lsecret.c.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "creds.h"
#include "fsutil.h"
#include "http.h"
#include "journal.h"
#include "lcall.h"
#include "leach.h"
#include "lsecret.h"
#include "ltc.h"
#include "msg.h"
#include "ratelimit.h"
#include "runtime.h"

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
	if (warn)
		msg_warn("%s", lua_tostring(L, -1));
	else
		msg_info("%s", lua_tostring(L, -1));
	return 0;
}

/* tc.log(...): one "tcrun: ..." line on stderr, silenced by -q */
static int tc_log(lua_State *L)
{
	return log_at(L, 0);
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

/* tc.isatty([fd]) -> whether fd (default 2, stderr) is a terminal */
static int tc_isatty(lua_State *L)
{
	lua_pushboolean(L, isatty((int)luaL_optinteger(L, 1, 2)));
	return 1;
}

/* tc.mkdir(path) -> true, or nil, msg: creates path and its parents
 * with mode 0700 (output folders may hold initial passwords) */
static int tc_mkdir(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	if (fs_mkdirs(path) != 0)
		return luaL_fileresult(L, 0, path);
	lua_pushboolean(L, 1);
	return 1;
}

static int runtime_gc(lua_State *L)
{
	struct runtime *rt = lua_touserdata(L, 1);

	http_free(rt->http);
	rt->http = NULL;
	ratelimit_free(rt->rl);
	rt->rl = NULL;
	creds_clear(&rt->creds);
	journal_close(rt->journal);
	rt->journal = NULL;
	free(rt->journal_want);
	rt->journal_want = NULL;
	free(rt->script);
	rt->script = NULL;
	return 0;
}

/* Whether host (as in a URL) is a loopback address: 127.0.0.0/8, [::1]
 * or localhost.  Parsed, not matched as text: "127.evil.example" is not. */
static int is_loopback(const char *host)
{
	unsigned char a[16];
	char v6[64];
	size_t n = strlen(host);

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (n > 2 && n < sizeof v6 && host[0] == '[' && host[n - 1] == ']') {
		memcpy(v6, host + 1, n - 2);
		v6[n - 2] = '\0';
		return inet_pton(AF_INET6, v6, a) == 1 &&
		       memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
	}
	return 0;
}

/* Splits "scheme://host[:port][/]" into rt; 0 or -1 with a reason. */
static int parse_endpoint(struct runtime *rt, const char *url, int allow,
                          char *err, size_t errlen)
{
	const char *host, *end, *colon;
	size_t hlen;

	if (strncmp(url, "http://", 7) == 0) {
		strcpy(rt->ep_scheme, "http");
		rt->ep_port = 80;
	} else if (strncmp(url, "https://", 8) == 0) {
		strcpy(rt->ep_scheme, "https");
		rt->ep_port = 443;
	} else {
		snprintf(err, errlen, "bad endpoint '%s': expected "
		         "http://HOST:PORT or https://HOST[:PORT]", url);
		return -1;
	}
	host = strstr(url, "://") + 3;
	end = host + strcspn(host, "/?#");
	if (*end && strcmp(end, "/") != 0) {
		snprintf(err, errlen, "bad endpoint '%s': a path is not "
		         "allowed", url);
		return -1;
	}
	colon = host[0] == '[' ? memchr(host, ']', (size_t)(end - host)) : host;
	colon = colon ? memchr(colon, ':', (size_t)(end - colon)) : NULL;
	hlen = (size_t)((colon ? colon : end) - host);
	if (hlen == 0 || hlen >= sizeof rt->ep_host) {
		snprintf(err, errlen, "bad endpoint '%s': no host", url);
		return -1;
	}
	memcpy(rt->ep_host, host, hlen);
	rt->ep_host[hlen] = '\0';
	if (colon) {
		char *stop;
		long port = strtol(colon + 1, &stop, 10);

		if (stop != end || port <= 0 || port > 65535) {
			snprintf(err, errlen, "bad endpoint '%s': bad port",
			         url);
			return -1;
		}
		rt->ep_port = (int)port;
	}
	if (strcmp(rt->ep_scheme, "http") == 0 && !allow &&
	    !is_loopback(rt->ep_host)) {
		snprintf(err, errlen, "refusing plain http to '%s': requests "
		         "would cross the network unencrypted (use https, a "
		         "loopback address, or --allow-http)", rt->ep_host);
		return -1;
	}
	rt->have_endpoint = 1;
	return 0;
}

static const luaL_Reg funcs[] = {
	{ "call", lcall_call },
	{ "each", leach_each },
	{ "sleep", leach_sleep },
	{ "password", lsecret_password },
	{ "is_write", lcall_is_write },
	{ "rate_limit", tc_rate_limit },
	{ "log", tc_log },
	{ "warn", tc_warn },
	{ "journal_path", tc_journal_path },
	{ "isatty", tc_isatty },
	{ "mkdir", tc_mkdir },
	{ NULL, NULL }
};

int ltc_open(lua_State *L, const struct tc_config *cfg, char *err,
             size_t errlen)
{
	struct runtime *rt = lua_newuserdatauv(L, sizeof *rt, 0);
	const char *region;

	memset(rt, 0, sizeof *rt);
	lua_newtable(L);
	lua_pushcfunction(L, runtime_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_setfield(L, LUA_REGISTRYINDEX, RUNTIME_TYPE);
	lcall_init(L);
	leach_init(L);

	leach_config(cfg->parallel);
	rt->dry_run = cfg->dry_run;
	rt->retries = cfg->retries;
	rt->timeout = cfg->timeout;
	rt->script = strdup(cfg->script);
	rt->journal_want = cfg->journal ? strdup(cfg->journal) : NULL;
	rt->http = http_new(cfg->parallel);
	rt->rl = ratelimit_new(cfg->rate_limit);
	if (!rt->script || !rt->http || !rt->rl ||
	    (cfg->journal && !rt->journal_want)) {
		snprintf(err, errlen, "cannot start: out of memory, or "
		         "libcurl failed to initialise");
		return -1;
	}
	if (cfg->endpoint && *cfg->endpoint &&
	    parse_endpoint(rt, cfg->endpoint, cfg->allow_http, err,
	                   errlen) != 0)
		return -1;
	rt->creds_ok = creds_load(&rt->creds, cfg->profile, rt->creds_err,
	                          sizeof rt->creds_err) == 0;
	/* The secret now lives in rt->creds only: os.getenv and the
	 * script's child processes must not find it. */
	unsetenv("TENCENTCLOUD_SECRET_KEY");
	unsetenv("TENCENTCLOUD_SESSION_TOKEN");
	unsetenv("TENCENTCLOUD_TOKEN");
	region = cfg->region;
	if (!region || !*region)
		region = getenv("TENCENTCLOUD_REGION");
	if ((!region || !*region) && rt->creds_ok)
		region = rt->creds.region;
	if (!region || !*region)
		region = "ap-guangzhou";
	if (strlen(region) >= sizeof rt->region ||
	    strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	    strlen(region)) {
		snprintf(err, errlen, "bad region '%.64s' (lowercase letters, "
		         "digits and '-' expected)", region);
		return -1;
	}
	snprintf(rt->region, sizeof rt->region, "%s", region);

	luaL_newlibtable(L, funcs);
	lua_pushlightuserdata(L, rt);
	luaL_setfuncs(L, funcs, 1);
	lua_pushboolean(L, rt->dry_run);
	lua_setfield(L, -2, "dry_run");
	lua_pushstring(L, rt->region);
	lua_setfield(L, -2, "region");
	lua_pushinteger(L, cfg->parallel);
	lua_setfield(L, -2, "parallel");
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
	struct runtime *rt;

	lua_getfield(L, LUA_REGISTRYINDEX, RUNTIME_TYPE);
	rt = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return rt ? rt->http : NULL;
}
