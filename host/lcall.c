/*
 * lcall.c: tc.call (see lcall.h): sign, send, retry, decode, journal.
 *
 * tc.call is a pair, the entry function and its continuation tc_call_k.
 * The entry checks arguments, encodes the body and yields; the loop in
 * sched.c resumes the task when its rate-limit slot comes, when the
 * response arrives, or when a retry's backoff ends.  The state of one call
 * lives in a userdata kept on the calling coroutine's stack, so its memory
 * and its transfer are freed by the collector if the task dies.
 *
 * Does not: open the runtime (ltc.c), schedule (sched.c), or move bytes
 * (http.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <openssl/rand.h>

#include "creds.h"
#include "http.h"
#include "journal.h"
#include "json.h"
#include "lcall.h"
#include "ljson.h"
#include "lsecret.h"
#include "msg.h"
#include "ratelimit.h"
#include "runtime.h"
#include "sched.h"
#include "tc3.h"

#define ERROR_TYPE   "tcrun.error"
#define CALL_TYPE    "tcrun.call"

/* API versions of the services the recipes use (fact sheet §1.1); global
 * services take no X-TC-Region unless a call names one. */
static const struct { const char *service, *version; int global; } apis[] = {
	{ "cam", "2019-01-16", 1 },
	{ "sts", "2018-08-13", 0 },
	{ "tcb", "2018-06-08", 0 },
	{ "lighthouse", "2020-03-24", 0 },
	{ "tat", "2020-10-28", 0 },
	{ "billing", "2018-07-09", 1 },
	{ "tag", "2018-08-13", 1 },
	{ "cloudaudit", "2019-03-19", 0 },
	{ "organization", "2021-03-31", 1 },
	{ "cvm", "2017-03-12", 0 },
};
#define NAPIS (sizeof apis / sizeof apis[0])

enum phase { P_RATE, P_HTTP, P_BACKOFF };

struct call {
	struct runtime *rt;
	struct task *task;
	struct http_xfer *xfer;
	enum phase phase;
	char service[32];
	char action[96];
	char version[16];
	char region[64];
	char where[200];            /* the recipe's "file:line:" */
	char *body;
	size_t body_len;
	char *journal_params;       /* redacted params, writes only */
	struct json_value *doc;     /* the parsed response, while in use */
	int is_write;
	int idempotent;             /* safe to send again after a lost answer */
	int attempt, retries;
	double timeout;
	struct creds own;           /* opts.credential */
	int use_own;
};

/* ---- errors ---------------------------------------------------------- */

/* tostring(err): "[where ]service.Action: Code: message (RequestId id)" */
static int error_tostring(lua_State *L)
{
	static const char *const keys[] = {
		"where", "service", "action", "code", "message", "request_id"
	};
	const char *f[6];
	luaL_Buffer b;

	for (int i = 0; i < 6; i++) {
		lua_getfield(L, 1, keys[i]);
		f[i] = lua_tostring(L, -1);
	}
	luaL_buffinit(L, &b);
	if (f[0] && *f[0])
		luaL_addstring(&b, f[0]);   /* luaL_where's "file:line: " */
	if (f[1] && f[2]) {
		luaL_addstring(&b, f[1]);
		luaL_addchar(&b, '.');
		luaL_addstring(&b, f[2]);
		luaL_addstring(&b, ": ");
	}
	luaL_addstring(&b, f[3] ? f[3] : "Error");
	if (f[4] && *f[4]) {
		luaL_addstring(&b, ": ");
		luaL_addstring(&b, f[4]);
	}
	if (f[5] && *f[5]) {
		luaL_addstring(&b, " (RequestId ");
		luaL_addstring(&b, f[5]);
		luaL_addchar(&b, ')');
	}
	luaL_pushresult(&b);
	return 1;
}

/* Pushes a structured error for call c. */
static void push_error(lua_State *L, const struct call *c, const char *code,
                       const char *message, const char *request_id)
{
	lua_createtable(L, 0, 8);
	lua_pushstring(L, code);
	lua_setfield(L, -2, "code");
	lua_pushstring(L, message ? message : "");
	lua_setfield(L, -2, "message");
	lua_pushstring(L, request_id ? request_id : "");
	lua_setfield(L, -2, "request_id");
	lua_pushstring(L, c->service);
	lua_setfield(L, -2, "service");
	lua_pushstring(L, c->action);
	lua_setfield(L, -2, "action");
	lua_pushstring(L, c->where);
	lua_setfield(L, -2, "where");
	lua_pushinteger(L, c->attempt);
	lua_setfield(L, -2, "attempts");
	luaL_setmetatable(L, ERROR_TYPE);
}

int lcall_error_status(lua_State *L)
{
	const char *code;
	int status = 3;

	if (lua_type(L, -1) != LUA_TTABLE || !lua_getmetatable(L, -1))
		return status;
	luaL_getmetatable(L, ERROR_TYPE);
	if (lua_rawequal(L, -1, -2)) {
		lua_getfield(L, -3, "code");
		code = lua_tostring(L, -1);
		if (code && (strcmp(code, "ClientError.NoCredentials") == 0 ||
		             strcmp(code, "ClientError.DryRun") == 0 ||
		             strcmp(code, "ClientError.Journal") == 0))
			status = 2;
		lua_pop(L, 1);
	}
	lua_pop(L, 2);
	return status;
}

/* ---- journal --------------------------------------------------------- */

static int journal_ready(struct runtime *rt)
{
	char path[4096], err[4200];

	if (rt->journal)
		return 1;
	if (rt->journal_failed)
		return 0;
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
		return 0;
	}
	msg_info("journal: %s", journal_path(rt->journal));
	return 1;
}

static void put_field(struct json_buf *b, const char *name, const char *v)
{
	json_put_raw(b, ",\"", 2);
	json_put_raw(b, name, strlen(name));
	json_put_raw(b, "\":", 2);
	json_put_string(b, v ? v : "", v ? strlen(v) : 0);
}

/* One JSON line for a finished (or abandoned) write call: time, service,
 * action, region, params (secrets redacted), request_id, outcome ("ok",
 * "error" with code and message, "interrupted"), attempts. */
static void journal_call(struct call *c, const char *outcome,
                         const char *code, const char *message,
                         const char *request_id)
{
	struct json_buf b = { 0 };
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;

	/* Only writes that were sent: a call refused before (dry run, no
	 * credentials) changed nothing. */
	if (!c->is_write || c->attempt == 0 || !journal_ready(c->rt))
		return;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_put_raw(&b, "{\"time\":", 8);
	json_put_string(&b, stamp, strlen(stamp));
	put_field(&b, "service", c->service);
	put_field(&b, "action", c->action);
	put_field(&b, "region", c->region);
	json_put_raw(&b, ",\"params\":", 10);
	json_put_raw(&b, c->journal_params, strlen(c->journal_params));
	put_field(&b, "request_id", request_id);
	put_field(&b, "outcome", outcome);
	if (code) {
		put_field(&b, "code", code);
		put_field(&b, "message", message);
	}
	json_put_raw(&b, ",\"attempts\":", 12);
	json_put_int(&b, c->attempt);
	json_put_raw(&b, "}", 1);
	if (b.oom || journal_append(c->rt->journal, b.str, b.len) != 0)
		msg_error("journal: %s: cannot append",
		          journal_path(c->rt->journal));
	json_buf_free(&b);
}

/* ---- tc.call ---------------------------------------------------------- */

static int call_gc(lua_State *L)
{
	struct call *c = luaL_checkudata(L, 1, CALL_TYPE);

	http_xfer_free(c->xfer);
	c->xfer = NULL;
	free(c->body);
	c->body = NULL;
	free(c->journal_params);
	c->journal_params = NULL;
	json_free(c->doc);
	c->doc = NULL;
	creds_clear(&c->own);
	return 0;
}

static const char *str_member(const struct json_value *o, const char *k)
{
	const struct json_value *m = json_get(o, k);

	return m && m->type == JSON_STRING ? m->u.str.s : NULL;
}

/* The task was abandoned (interrupt) before the call ended.  A write whose
 * answer had already come is journaled as it came; one sent without an
 * answer yet, or waiting to be sent again, as "interrupted": it may or may
 * not have happened.  One never sent is not journaled (attempt 0). */
static void call_abandon(void *ud)
{
	struct call *c = ud;
	struct json_value *doc = NULL;
	const struct json_value *resp = NULL, *error;
	size_t len;

	if (c->xfer && http_finished(c->xfer) &&
	    http_outcome(c->xfer) == HTTP_DONE && http_status(c->xfer) == 200) {
		const char *body = http_body(c->xfer, &len);

		doc = json_parse(body, len, NULL, 0);
		resp = doc ? json_get(doc, "Response") : NULL;
	}
	if (resp && (error = json_get(resp, "Error")))
		journal_call(c, "error", str_member(error, "Code"),
		             str_member(error, "Message"),
		             str_member(resp, "RequestId"));
	else if (resp)
		journal_call(c, "ok", NULL, NULL, str_member(resp, "RequestId"));
	else
		journal_call(c, "interrupted", NULL, NULL, NULL);
	json_free(doc);
	http_xfer_free(c->xfer);
	c->xfer = NULL;
}

static void call_done(struct http_xfer *x, void *ud)
{
	struct call *c = ud;

	(void)x;
	sched_wake(c->task);
}

static int tc_call_k(lua_State *L, int status, lua_KContext ctx);

static int yield_call(lua_State *L, struct call *c)
{
	return lua_yieldk(L, 0, (lua_KContext)c, tc_call_k);
}

/* Raises the structured error (after journaling a write). */
static int fail(lua_State *L, struct call *c, const char *code,
                const char *message, const char *request_id)
{
	journal_call(c, "error", code, message, request_id);
	http_xfer_free(c->xfer);
	c->xfer = NULL;
	sched_on_abandon(c->task, NULL, NULL);
	push_error(L, c, code, message, request_id);
	return lua_error(L);
}

/* Signs and submits one attempt, then waits for the response. */
static int send_call(lua_State *L, struct call *c)
{
	struct runtime *rt = c->rt;
	const struct creds *cr = c->use_own ? &c->own : &rt->creds;
	char host[160], url[400], connect_to[600], auth[TC3_AUTH_MAX];
	char h_action[128], h_version[64], h_ts[64], h_region[96];
	char h_auth[TC3_AUTH_MAX + 32], *h_token = NULL;
	const char *headers[10];
	struct tc3_request req;
	struct http_request hr;
	int n = 0;

	snprintf(host, sizeof host, "%s.tencentcloudapi.com", c->service);
	req = (struct tc3_request){
		.secret_id = cr->secret_id, .secret_key = cr->secret_key,
		.service = c->service, .host = host,
		.content_type = "application/json",
		.body = c->body, .body_len = c->body_len,
		.timestamp = (int64_t)time(NULL),
	};
	if (tc3_sign(&req, auth) != 0)
		return fail(L, c, "ClientError.Signature", "cannot sign: the "
		            "secret id is missing or too long", NULL);
	if (rt->have_endpoint) {
		/* Connect to the endpoint, sign and send Host as production:
		 * the same request the real API would see. */
		snprintf(url, sizeof url, "%s://%s/", rt->ep_scheme, host);
		snprintf(connect_to, sizeof connect_to, "%s:%d:%s:%d", host,
		         strcmp(rt->ep_scheme, "https") == 0 ? 443 : 80,
		         rt->ep_host, rt->ep_port);
	} else {
		snprintf(url, sizeof url, "https://%s/", host);
	}
	snprintf(h_action, sizeof h_action, "X-TC-Action: %s", c->action);
	snprintf(h_version, sizeof h_version, "X-TC-Version: %s", c->version);
	snprintf(h_ts, sizeof h_ts, "X-TC-Timestamp: %lld",
	         (long long)req.timestamp);
	snprintf(h_auth, sizeof h_auth, "Authorization: %s", auth);
	headers[n++] = "Content-Type: application/json";
	headers[n++] = h_action;
	headers[n++] = h_version;
	headers[n++] = h_ts;
	if (c->region[0]) {
		snprintf(h_region, sizeof h_region, "X-TC-Region: %s",
		         c->region);
		headers[n++] = h_region;
	}
	if (cr->token) {
		size_t len = strlen(cr->token) + 16;

		if (!(h_token = malloc(len)))
			return fail(L, c, "ClientError.NetworkError",
			            "out of memory", NULL);
		snprintf(h_token, len, "X-TC-Token: %s", cr->token);
		headers[n++] = h_token;
	}
	headers[n++] = "X-TC-RequestClient: tcrun/" TCRUN_VERSION;
	headers[n++] = h_auth;
	headers[n] = NULL;
	hr = (struct http_request){
		.url = url, .connect_to = rt->have_endpoint ? connect_to : NULL,
		.headers = headers, .body = c->body, .body_len = c->body_len,
		.timeout_ms = (long)(c->timeout * 1000),
		.fresh = !c->idempotent,
	};
	c->xfer = http_submit(rt->http, &hr, call_done, c);
	free(h_token);
	if (!c->xfer)
		return fail(L, c, "ClientError.NetworkError",
		            http_start_error(), NULL);
	c->attempt++;
	msg_debug("%s.%s: attempt %d", c->service, c->action, c->attempt);
	c->phase = P_HTTP;
	sched_wait(c->task);
	return yield_call(L, c);
}

/* Waits for the action's rate-limit slot, then sends. */
static int proceed(lua_State *L, struct call *c)
{
	double wait = ratelimit_reserve(c->rt->rl, c->service, c->action,
	                                sched_now_ms());

	if (wait >= 1) {
		c->phase = P_RATE;
		sched_sleep(c->task, wait);
		return yield_call(L, c);
	}
	return send_call(L, c);
}

/* Whether an API error code is worth another attempt.  A throttled call
 * was refused before it ran, so it is retried even when the call is not
 * idempotent; a server error may have half-happened, so only then. */
static int retryable(const struct call *c, const char *code)
{
	if (strncmp(code, "RequestLimitExceeded", 20) == 0)
		return 1;
	return c->idempotent && (strncmp(code, "InternalError", 13) == 0 ||
	                         strcmp(code, "ServiceUnavailable") == 0);
}

/* Sleeps a jittered exponential backoff, then tries again: 0.5 s, 1 s,
 * 2 s, ... (at most 20 s), each scaled by a random 50-100 %. */
static int backoff(lua_State *L, struct call *c, const char *why)
{
	double ms = 500;
	unsigned char r = 0;

	for (int i = 1; i < c->attempt && ms < 20000; i++)
		ms *= 2;
	if (ms > 20000)
		ms = 20000;
	RAND_bytes(&r, 1);
	ms *= 0.5 + r / 510.0;
	msg_info("%s.%s: %s; retry %d of %d in %.1f s", c->service, c->action,
	         why, c->attempt, c->retries, ms / 1000);
	http_xfer_free(c->xfer);
	c->xfer = NULL;
	c->phase = P_BACKOFF;
	sched_sleep(c->task, ms);
	return yield_call(L, c);
}

/* The response has arrived: decode it, retry, raise, or return it.  The
 * parsed document hangs on the call (c->doc), so raising frees it. */
static int finish(lua_State *L, struct call *c)
{
	struct http_xfer *x = c->xfer;
	const struct json_value *resp, *error;
	const char *body, *code, *rid;
	char why[300];
	size_t len;
	long status;
	int can_retry = c->attempt <= c->retries && !sched_interrupted();

	if (http_outcome(x) != HTTP_DONE) {
		snprintf(why, sizeof why, "%s", http_error(x));
		if (can_retry && c->idempotent)
			return backoff(L, c, why);
		return fail(L, c, "ClientError.NetworkError", why, NULL);
	}
	status = http_status(x);
	if (status != 200) {
		snprintf(why, sizeof why, "HTTP status %ld", status);
		if (status >= 500 && can_retry && c->idempotent)
			return backoff(L, c, why);
		return fail(L, c, "ClientError.HttpStatusCodeError", why, NULL);
	}
	body = http_body(x, &len);
	json_free(c->doc);
	c->doc = json_parse(body, len, why, sizeof why);
	http_xfer_free(c->xfer);
	c->xfer = NULL;
	resp = c->doc ? json_get(c->doc, "Response") : NULL;
	if (!resp || resp->type != JSON_OBJECT)
		return fail(L, c, "ClientError.ParseJsonError",
		            c->doc ? "no Response object" : why, NULL);
	rid = str_member(resp, "RequestId");
	error = json_get(resp, "Error");
	if (error && (code = str_member(error, "Code"))) {
		if (retryable(c, code) && can_retry) {
			snprintf(why, sizeof why, "%s", code);
			return backoff(L, c, why);
		}
		return fail(L, c, code, str_member(error, "Message"), rid);
	}
	journal_call(c, "ok", NULL, NULL, rid);
	sched_on_abandon(c->task, NULL, NULL);
	ljson_push(L, resp);
	json_free(c->doc);
	c->doc = NULL;
	lsecret_hide_fields(L, -1);
	return 1;
}

static int tc_call_k(lua_State *L, int status, lua_KContext ctx)
{
	struct call *c = (struct call *)ctx;

	(void)status;
	switch (c->phase) {
	case P_RATE:
		return send_call(L, c);
	case P_BACKOFF:
		return proceed(L, c);
	default:
		return finish(L, c);
	}
}

static int is_write(const char *action)
{
	static const char *const reads[] = {
		"Describe", "List", "Get", "LookUp", "Query", "Check",
		"Inquire", "Search", NULL
	};

	for (const char *const *p = reads; *p; p++)
		if (strncmp(action, *p, strlen(*p)) == 0)
			return 0;
	return 1;
}

/* tc.is_write(action) -> boolean: whether tcrun treats it as a write */
int lcall_is_write(lua_State *L)
{
	lua_pushboolean(L, is_write(luaL_checkstring(L, 1)));
	return 1;
}

static int valid_name(const char *s, size_t len, size_t max, int upper)
{
	if (len == 0 || len >= max)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      (upper && ch >= 'A' && ch <= 'Z')))
			return 0;
	}
	return 1;
}

/* Copies string option key of opts (index 4) into dst; 1 when present.
 * May raise. */
static int opt_string(lua_State *L, const char *key, char *dst, size_t cap)
{
	int present = lua_getfield(L, 4, key) != LUA_TNIL;
	const char *s;
	size_t len;

	if (present) {
		s = lua_tolstring(L, -1, &len);
		if (!s || len >= cap)
			luaL_error(L, "bad option '%s' to 'call' (a short "
			           "string expected)", key);
		memcpy(dst, s, len + 1);
	}
	lua_pop(L, 1);
	return present;
}

/* opts.credential = { id = "AKID...", key = <secret>, token = <secret> },
 * as returned by CreateAccessKey or sts.AssumeRole.  May raise. */
static void opt_credential(lua_State *L, struct call *c)
{
	const char *id, *key, *token = NULL;
	size_t len;

	if (lua_getfield(L, 4, "credential") == LUA_TNIL) {
		lua_pop(L, 1);
		return;
	}
	luaL_argexpected(L, lua_istable(L, -1), 4, "credential table");
	lua_getfield(L, -1, "id");
	lua_getfield(L, -2, "key");
	lua_getfield(L, -3, "token");
	id = lua_tostring(L, -3);
	key = lsecret_get(L, -2, &len);
	if (!lua_isnil(L, -1) && !(token = lsecret_get(L, -1, &len)))
		luaL_error(L, "bad option 'credential' to 'call' (token must "
		           "be a secret)");
	if (!id || !key)
		luaL_error(L, "bad option 'credential' to 'call' (needs id, "
		           "a string, and key, a secret from the API)");
	if (creds_set(&c->own, id, key, token, NULL) != 0)
		luaL_error(L, "out of memory");
	c->use_own = 1;
	lua_pop(L, 4);
}

/* Rejects unknown keys of opts (index 4) by name.  May raise. */
static void check_opts(lua_State *L)
{
	static const char *const known[] = {
		"region", "version", "timeout", "retries", "credential",
		"idempotent", NULL
	};

	lua_pushnil(L);
	while (lua_next(L, 4)) {
		const char *k = lua_type(L, -2) == LUA_TSTRING ?
		                lua_tostring(L, -2) : NULL;
		int found = 0;

		for (int i = 0; k && known[i]; i++)
			found |= strcmp(k, known[i]) == 0;
		if (!found)
			luaL_error(L, "bad option '%s' to 'call'",
			           k ? k : luaL_typename(L, -2));
		lua_pop(L, 1);
	}
}

/* Whether s has only characters from set. */
static int token_ok(const char *s, const char *set)
{
	return strspn(s, set) == strlen(s);
}

/* Reads opts (index 4) into c.  May raise. */
static void apply_opts(lua_State *L, struct call *c)
{
	size_t i;

	for (i = 0; i < NAPIS; i++)
		if (strcmp(apis[i].service, c->service) == 0)
			break;
	if (!opt_string(L, "version", c->version, sizeof c->version)) {
		if (i == NAPIS)
			luaL_error(L, "no default API version for service "
			           "'%s': pass opts.version", c->service);
		strcpy(c->version, apis[i].version);
	}
	if (!opt_string(L, "region", c->region, sizeof c->region) &&
	    (i == NAPIS || !apis[i].global))
		strcpy(c->region, c->rt->region);
	if (lua_getfield(L, 4, "timeout") != LUA_TNIL) {
		c->timeout = lua_tonumber(L, -1);
		if (!lua_isnumber(L, -1) || !(c->timeout >= 0.001 &&
		                              c->timeout <= 3600))
			luaL_error(L, "bad option 'timeout' to 'call' (seconds "
			           "from 0.001 to 3600 expected)");
	}
	if (lua_getfield(L, 4, "retries") != LUA_TNIL) {
		lua_Integer r = lua_tointeger(L, -1);

		if (!lua_isinteger(L, -1) || r < 0 || r > 20)
			luaL_error(L, "bad option 'retries' to 'call' (a whole "
			           "number from 0 to 20 expected)");
		c->retries = (int)r;
	}
	if (lua_getfield(L, 4, "idempotent") != LUA_TNIL) {
		if (!lua_isboolean(L, -1))
			luaL_error(L, "bad option 'idempotent' to 'call' "
			           "(boolean expected)");
		c->idempotent = lua_toboolean(L, -1);
	}
	lua_pop(L, 3);
	/* Both go into headers: nothing but their own alphabets. */
	if (!token_ok(c->region, "abcdefghijklmnopqrstuvwxyz0123456789-"))
		luaL_error(L, "bad region '%s' (lowercase letters, digits and "
		           "'-' expected)", c->region);
	if (!*c->version || !token_ok(c->version, "0123456789-"))
		luaL_error(L, "bad option 'version' to 'call' (like "
		           "\"2019-01-16\" expected)");
	opt_credential(L, c);
}

/* tc.call(service, action [, params [, opts]]) -> Response table.
 * Raises a structured error (code, message, request_id, service, action,
 * where) for an API error or a failure after the retries; raises usage
 * errors with the recipe's position. */
int lcall_call(lua_State *L)
{
	struct runtime *rt = runtime_of(L);
	size_t slen, alen;
	const char *service = luaL_checklstring(L, 1, &slen);
	const char *action = luaL_checklstring(L, 2, &alen);
	struct task *task = sched_current(L);
	struct json_buf body = { 0 }, jp = { 0 };
	struct call *c;
	char err[256];

	luaL_argcheck(L, valid_name(service, slen, 32, 0), 1,
	              "service name like \"cam\" expected");
	luaL_argcheck(L, valid_name(action, alen, 96, 1), 2,
	              "action name like \"AddUser\" expected");
	luaL_argexpected(L, lua_isnoneornil(L, 3) || lua_istable(L, 3), 3,
	                 "table");
	luaL_argexpected(L, lua_isnoneornil(L, 4) || lua_istable(L, 4), 4,
	                 "table");
	lua_settop(L, 4);
	for (int i = 3; i <= 4; i++)
		if (lua_isnil(L, i)) {
			lua_newtable(L);
			lua_replace(L, i);
		}
	check_opts(L);
	if (!task)
		return luaL_error(L, "tc.call must run in the script's main "
		                  "chunk or a tc.each row, not in a coroutine "
		                  "of its own");
	if (!lua_isyieldable(L))
		return luaL_error(L, "tc.call cannot run here: Lua cannot "
		                  "yield across this C call (a table.sort "
		                  "comparator, a string.gsub callback, a "
		                  "metamethod)");

	c = lua_newuserdatauv(L, sizeof *c, 0);   /* index 5 until done */
	memset(c, 0, sizeof *c);
	luaL_setmetatable(L, CALL_TYPE);
	c->rt = rt;
	c->task = task;
	memcpy(c->service, service, slen + 1);
	memcpy(c->action, action, alen + 1);
	c->is_write = is_write(action);
	c->idempotent = 1;
	c->retries = rt->retries;
	c->timeout = rt->timeout;
	luaL_where(L, 1);
	snprintf(c->where, sizeof c->where, "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
	apply_opts(L, c);
	if (!c->use_own && !rt->creds_ok)
		return fail(L, c, "ClientError.NoCredentials", rt->creds_err,
		            NULL);
	if (rt->dry_run && c->is_write)
		return fail(L, c, "ClientError.DryRun", "dry run: a write "
		            "call reached tc.call (recipes must plan, not "
		            "call, under --dry-run)", NULL);
	if (c->is_write && !journal_ready(rt))
		return fail(L, c, "ClientError.Journal", "no write is sent "
		            "without a journal to record it", NULL);

	if (ljson_encode_opts(L, 3, &body, LJSON_REVEAL_SECRETS, err,
	                      sizeof err) != 0) {
		json_buf_free(&body);
		return luaL_error(L, "bad argument #3 to 'call' (%s)", err);
	}
	c->body = body.str;
	c->body_len = body.len;
	if (c->is_write) {
		if (ljson_encode_opts(L, 3, &jp, LJSON_REDACT_SECRETS, err,
		                      sizeof err) != 0) {
			json_buf_free(&jp);
			return luaL_error(L, "bad argument #3 to 'call' (%s)",
			                  err);
		}
		c->journal_params = jp.str;
	}
	sched_on_abandon(task, call_abandon, c);
	return proceed(L, c);
}

void lcall_init(lua_State *L)
{
	if (luaL_newmetatable(L, ERROR_TYPE)) {
		lua_pushcfunction(L, error_tostring);
		lua_setfield(L, -2, "__tostring");
	}
	lua_pop(L, 1);
	if (luaL_newmetatable(L, CALL_TYPE)) {
		lua_pushcfunction(L, call_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
}
