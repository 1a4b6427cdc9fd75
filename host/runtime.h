/*
 * runtime.h: the state the tc bindings share, one per Lua state: HTTP,
 * rate limits, credentials, endpoint, journal.  runtime_new builds it
 * from the command line's settings as a userdata anchored in the
 * registry; ltc.c passes it to every tc function as upvalue 1.  Lua never
 * sees its fields: the secret key lives here.
 */
#ifndef TCRUN_RUNTIME_H
#define TCRUN_RUNTIME_H

#include <stddef.h>

#include <lua.h>

#include "creds.h"
#include "endpoint.h"

/* The run's settings, from the command line. */
struct tc_config {
	const char *profile;        /* NULL: TCCLI_PROFILE, env, default */
	const char *region;         /* NULL: from the credentials' source */
	const char *endpoint;       /* NULL: https://<service>.tencentcloudapi.com */
	int allow_http;             /* plain http to a non-loopback endpoint */
	int dry_run;
	int parallel;               /* rows in flight in tc.each */
	double rate_limit;          /* calls/s per action; 0 = none */
	int retries;                /* per call, after the first attempt */
	double timeout;             /* seconds per attempt */
	const char *journal;        /* NULL: a default file on first write */
	const char *script;         /* names the default journal */
};

struct account;

struct runtime {
	struct http *http;
	struct ratelimit *rl;
	struct creds creds;
	int creds_ok;
	char creds_err[640];
	char region[64];
	int have_endpoint;
	struct endpoint ep;
	int dry_run, retries;
	double timeout;
	struct journal *journal;    /* NULL until the first write */
	int journal_failed;         /* could not open or append: no more writes */
	char *journal_want;         /* --journal, or NULL for the default */
	char *script;
	struct account *default_account;   /* tc.default_account, or NULL */
};

/* Builds the runtime from cfg (loads credentials, resolves the region,
 * parses the endpoint) and pushes it.  Returns it, or NULL with a
 * one-line reason in err (nothing pushed).  May raise (memory). */
struct runtime *runtime_new(lua_State *L, const struct tc_config *cfg,
                            char *err, size_t errlen);

/* The runtime of L, or NULL before runtime_new. */
struct runtime *runtime_get(lua_State *L);

/* The runtime of a tc function (upvalue 1). */
static inline struct runtime *runtime_of(lua_State *L)
{
	return lua_touserdata(L, lua_upvalueindex(1));
}

/* The journal, opened (and its folders made) at the first write: the
 * --journal file, or journal_default_path's.  NULL when it could not be
 * opened or a line could not be appended (journal_failed); that is said
 * once on stderr, every later write is refused, and the run ends with
 * exit status 2. */
struct journal *runtime_journal(struct runtime *rt);

#endif
