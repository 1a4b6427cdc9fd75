/*
 * runtime.c: the state the tc bindings share (see runtime.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "http.h"
#include "journal.h"
#include "leach.h"
#include "msg.h"
#include "ratelimit.h"
#include "runtime.h"
#include "services.h"

#define RUNTIME_KEY "tcrun.runtime"

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

struct runtime *runtime_new(lua_State *L, const struct tc_config *cfg,
                            char *err, size_t errlen)
{
	struct runtime *rt = lua_newuserdatauv(L, sizeof *rt, 0);
	const char *region;

	memset(rt, 0, sizeof *rt);
	lua_newtable(L);
	lua_pushcfunction(L, runtime_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_pushvalue(L, -1);
	lua_setfield(L, LUA_REGISTRYINDEX, RUNTIME_KEY);

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
		snprintf(err, errlen, "cannot start: out of memory");
		goto fail;
	}
	if (cfg->journal && journal_check(cfg->journal, err, errlen) != 0)
		goto fail;
	if (cfg->endpoint && *cfg->endpoint) {
		if (endpoint_parse(cfg->endpoint, cfg->allow_http, &rt->ep,
		                   err, errlen) != 0)
			goto fail;
		rt->have_endpoint = 1;
	}
	rt->creds_ok = creds_load(&rt->creds, cfg->profile, rt->creds_err,
	                          sizeof rt->creds_err) == 0;
	/* The secret now lives in rt->creds only. */
	creds_wipe_env();
	region = cfg->region;
	if (!region || !*region)
		region = getenv("TENCENTCLOUD_REGION");
	if ((!region || !*region) && rt->creds_ok)
		region = rt->creds.region;
	if (!region || !*region)
		region = "ap-guangzhou";
	if (!services_region_ok(region)) {
		snprintf(err, errlen, "bad region '%.64s' (lowercase letters, "
		         "digits and '-' expected)", region);
		goto fail;
	}
	snprintf(rt->region, sizeof rt->region, "%s", region);
	return rt;
fail:
	lua_pop(L, 1);   /* the registry keeps it for the collector */
	return NULL;
}

struct runtime *runtime_get(lua_State *L)
{
	struct runtime *rt;

	lua_getfield(L, LUA_REGISTRYINDEX, RUNTIME_KEY);
	rt = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return rt;
}

struct journal *runtime_journal(struct runtime *rt)
{
	char path[4096], err[4200];

	if (rt->journal_failed)
		return NULL;
	if (rt->journal)
		return rt->journal;
	if (rt->journal_want)
		rt->journal = journal_open(rt->journal_want, 0, err, sizeof err);
	else if (journal_default_path(rt->script, path, sizeof path) == 0)
		rt->journal = journal_open(path, 1, err, sizeof err);
	else
		snprintf(err, sizeof err, "no folder for the journal: set "
		         "HOME or TCRUN_JOURNAL_DIR, or pass --journal FILE");
	if (!rt->journal) {
		rt->journal_failed = 1;
		msg_error("journal: %s", err);
		return NULL;
	}
	msg_info("journal: %s", journal_path(rt->journal));
	return rt->journal;
}
