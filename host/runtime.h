/*
 * runtime.h: the state the tc bindings share, one per Lua state: HTTP,
 * rate limits, credentials, endpoint, journal.  Created by ltc_open as a
 * userdata anchored in the registry, and passed to every tc function as
 * upvalue 1.  Lua never sees its fields: the secret key lives here.
 */
#ifndef TCRUN_RUNTIME_H
#define TCRUN_RUNTIME_H

#include <lua.h>

#include "creds.h"

#define RUNTIME_TYPE "tcrun.runtime"

struct runtime {
	struct http *http;
	struct ratelimit *rl;
	struct creds creds;
	int creds_ok;
	char creds_err[640];
	char region[64];
	int have_endpoint;
	char ep_scheme[8];
	char ep_host[256];          /* as in a URL: "127.0.0.1", "[::1]" */
	int ep_port;
	int dry_run, retries;
	double timeout;
	struct journal *journal;
	int journal_failed;
	char *journal_want;         /* --journal, or NULL for the default */
	char *script;
};

/* The runtime of a tc function (upvalue 1). */
static inline struct runtime *runtime_of(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

#endif
