/*
 * lcall.c: tc.call (see lcall.h): the life of one call, from its
 * arguments to its answer: wait for the rate-limit slot, sign, send, wait,
 * retry, decode, journal, return or raise.
 *
 * tc.call is a pair, the entry function and its continuation tc_call_k.
 * The entry checks arguments, encodes the body and yields; the loop in
 * sched.c resumes the task when its rate-limit slot comes, when the
 * response arrives, or when a retry's backoff ends.  The state of one call
 * lives in a userdata kept on the calling coroutine's stack, so its memory
 * and its transfer are freed by the collector if the task dies.
 *
 * A call in an account (opts.account, else tc.default_account) first
 * passes the account's gate (laccount.h): the task that finds the role's
 * credentials missing or near their end makes two calls of its own,
 * sts.AssumeRole and, the first time, sts.GetCallerIdentity (the guard),
 * through tc.call itself; other tasks wait at the gate meanwhile.
 *
 * Does not: read options (lcallopt.c), know services (services.c), decide
 * what is retried (retry.c), shape errors (lerror.c) or journal lines
 * (journal.c), schedule (sched.c), or move bytes (http.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <time.h>

#include <lauxlib.h>
#include <lua.h>
#include <openssl/rand.h>

#include "http.h"
#include "journal.h"
#include "json.h"
#include "laccount.h"
#include "lcall.h"
#include "lcallopt.h"
#include "lerror.h"
#include "ljson.h"
#include "lsecret.h"
#include "msg.h"
#include "ratelimit.h"
#include "retry.h"
#include "runtime.h"
#include "sched.h"
#include "services.h"
#include "tc3.h"

#define CALL_TYPE "tcrun.call"

enum phase { P_RATE, P_HTTP, P_BACKOFF, P_ACCOUNT, P_ASSUME, P_GUARD };

struct call {
	struct runtime *rt;
	struct task *task;
	struct http_xfer *xfer;
	enum phase phase;
	char service[32];
	char action[96];
	char where[200];            /* the recipe's "file:line:" */
	struct call_opts o;
	struct account *acct;       /* where the call goes, or NULL */
	unsigned gen;               /* acct's credentials it was signed with */
	unsigned wait_round;        /* the refresh it waits for (P_ACCOUNT) */
	int token_retry;            /* sent again once after TokenFailure */
	double slot_ms;             /* the rate-limit slot it was sent in */
	struct call *outer;         /* the call whose gate made this one */
	char *body;
	size_t body_len;
	char *journal_params;       /* redacted params, writes only */
	struct json_value *doc;     /* the parsed response, while in use */
	int is_write;
	int attempt;
};

static int call_gc(lua_State *L)
{
	struct call *c = luaL_checkudata(L, 1, CALL_TYPE);

	http_xfer_free(c->xfer);
	c->xfer = NULL;
	if (c->body)
		explicit_bzero(c->body, c->body_len);   /* secrets revealed */
	free(c->body);
	c->body = NULL;
	free(c->journal_params);
	c->journal_params = NULL;
	json_free(c->doc);
	c->doc = NULL;
	lcallopt_clear(&c->o);
	return 0;
}

/* Journals a write that was sent (one refused before, under a dry run or
 * without credentials, changed nothing). */
static void journal_call(struct call *c, const char *outcome,
                         const char *code, const char *message,
                         const char *request_id)
{
	struct journal *j;
	struct journal_entry e = {
		.time = time(NULL), .service = c->service,
		.action = c->action, .region = c->o.region,
		.account = c->acct ? c->acct->uin : NULL,
		.account_name = c->acct ? c->acct->name : NULL,
		.note = c->o.note[0] ? c->o.note : NULL,
		.params = c->journal_params, .request_id = request_id,
		.outcome = outcome, .code = code, .message = message,
		.attempts = c->attempt,
	};

	if (!c->is_write || c->attempt == 0 || !(j = runtime_journal(c->rt)))
		return;
	if (journal_record(j, &e) != 0) {
		/* A write the journal lacks is one too many: no more. */
		msg_error("journal: %s: cannot append (%s): %s.%s was sent "
		          "but not recorded; no further write is sent",
		          journal_path(j), strerror(errno ? errno : EIO),
		          c->service, c->action);
		c->rt->journal_failed = 1;
	}
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

	if (c->acct && c->phase == P_ACCOUNT)
		account_unwait(c->acct, c->task);
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
	/* A gate's call: the call waiting on it is abandoned too (a write
	 * it sent before is journaled as interrupted). */
	if (c->outer)
		call_abandon(c->outer);
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

/* Raises the structured error (after journaling a write); klass says
 * whether it may pass with time (err.transient). */
static int fail(lua_State *L, struct call *c, enum retry_class klass,
                const char *code, const char *message,
                const char *request_id)
{
	struct lerror e = {
		.code = code, .message = message, .request_id = request_id,
		.service = c->service, .action = c->action, .where = c->where,
		.attempts = c->attempt, .transient = klass != RETRY_NO,
	};

	journal_call(c, "error", code, message, request_id);
	http_xfer_free(c->xfer);
	c->xfer = NULL;
	sched_on_abandon(c->task, NULL, NULL);
	lerror_push(L, &e);
	return lua_error(L);
}

/* Signs and submits one attempt, then waits for the response. */
static int send_call(lua_State *L, struct call *c)
{
	struct runtime *rt = c->rt;
	const struct creds *cr = c->o.use_own ? &c->o.own :
	                         c->acct && account_has_role(c->acct) ?
	                         &c->acct->creds : &rt->creds;
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
	if (c->acct)
		c->gen = c->acct->gen;
	if (tc3_sign(&req, auth) != 0)
		return fail(L, c, RETRY_NO, "ClientError.Signature", "cannot "
		            "sign: the secret id is missing or too long", NULL);
	if (rt->have_endpoint) {
		/* Connect to the endpoint, sign and send Host as production:
		 * the same request the real API would see. */
		snprintf(url, sizeof url, "%s://%s/", rt->ep.scheme, host);
		snprintf(connect_to, sizeof connect_to, "%s:%d:%s:%d", host,
		         strcmp(rt->ep.scheme, "https") == 0 ? 443 : 80,
		         rt->ep.host, rt->ep.port);
	} else {
		snprintf(url, sizeof url, "https://%s/", host);
	}
	snprintf(h_action, sizeof h_action, "X-TC-Action: %s", c->action);
	snprintf(h_version, sizeof h_version, "X-TC-Version: %s",
	         c->o.version);
	snprintf(h_ts, sizeof h_ts, "X-TC-Timestamp: %lld",
	         (long long)req.timestamp);
	snprintf(h_auth, sizeof h_auth, "Authorization: %s", auth);
	headers[n++] = "Content-Type: application/json";
	headers[n++] = h_action;
	headers[n++] = h_version;
	headers[n++] = h_ts;
	if (c->o.region[0]) {
		snprintf(h_region, sizeof h_region, "X-TC-Region: %s",
		         c->o.region);
		headers[n++] = h_region;
	}
	if (cr->token) {
		size_t len = strlen(cr->token) + 16;

		if (!(h_token = malloc(len)))
			return fail(L, c, RETRY_NO, "ClientError.NetworkError",
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
		.timeout_ms = (long)(c->o.timeout * 1000),
		.fresh = !c->o.idempotent,
	};
	c->xfer = http_submit(rt->http, &hr, call_done, c);
	if (h_token)
		explicit_bzero(h_token, strlen(h_token));
	free(h_token);
	if (!c->xfer)
		return fail(L, c, RETRY_NO, "ClientError.NetworkError",
		            http_start_error(), NULL);
	c->attempt++;
	msg_debug("%s.%s: attempt %d", c->service, c->action, c->attempt);
	c->phase = P_HTTP;
	sched_wait(c->task);
	return yield_call(L, c);
}

static int refresh(lua_State *L, struct call *c);
static int rate_then_send(lua_State *L, struct call *c);

/* Passes the account's gate, then rate_then_send.  Only the gate's own
 * calls, made by the task refreshing the account, skip it. */
static int proceed(lua_State *L, struct call *c)
{
	struct account *a = c->acct;

	if (!a || (c->o.guard && a->refresher == c->task))
		return rate_then_send(L, c);
	if (c->phase == P_ACCOUNT && account_round_failed(a, c->wait_round))
		/* The refresh it waited for failed: so does it, without
		 * trying again itself (the next call will). */
		return fail(L, c, a->err_transient ? RETRY_UNCERTAIN : RETRY_NO,
		            a->err_code, a->err_msg, NULL);
	switch (account_gate(a, c->task, time(NULL))) {
	case GATE_WAIT:
		c->phase = P_ACCOUNT;
		c->wait_round = a->round;
		sched_wait(c->task);
		return yield_call(L, c);
	case GATE_REFRESH:
		return refresh(L, c);
	case GATE_FAILED:
		return fail(L, c, RETRY_NO, a->fail_code, a->fail_msg, NULL);
	case GATE_READY:
		break;
	}
	return rate_then_send(L, c);
}

/* Waits for the action's rate-limit slot, then sends. */
static int rate_then_send(lua_State *L, struct call *c)
{
	double now = sched_now_ms();
	double wait = ratelimit_reserve(c->rt->rl, c->service, c->action, now);

	c->slot_ms = now + wait;

	if (wait >= 1) {
		c->phase = P_RATE;
		sched_sleep(c->task, wait);
		return yield_call(L, c);
	}
	return send_call(L, c);
}

/* Sleeps a jittered exponential backoff, then tries again. */
static int backoff(lua_State *L, struct call *c, const char *why)
{
	unsigned char r = 0;
	double ms;

	RAND_bytes(&r, 1);
	ms = retry_backoff_ms(c->attempt, r);
	msg_debug("%s.%s: %s; retry %d of %d in %.1f s", c->service,
	          c->action, why, c->attempt, c->o.retries, ms / 1000);
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
	enum retry_class klass;
	char why[300];
	size_t len;
	long status;
	int can_retry = c->attempt <= c->o.retries && !sched_interrupted();

	if (http_outcome(x) != HTTP_DONE) {
		/* No answer: it may or may not have run.  One that never
		 * reached the server says so by its code (a wrong endpoint,
		 * no network: the run's setup). */
		int connect = http_outcome(x) == HTTP_CONNECT;

		snprintf(why, sizeof why, "%s%s", connect ? "cannot reach the "
		         "API (check --endpoint, the network or the proxy): " :
		         "", http_error(x));
		if (can_retry && retry_allowed(RETRY_UNCERTAIN, c->o.idempotent))
			return backoff(L, c, why);
		return fail(L, c, RETRY_UNCERTAIN, connect ?
		            "ClientError.NetworkError.Connect" :
		            "ClientError.NetworkError", why, NULL);
	}
	status = http_status(x);
	if (status != 200) {
		klass = retry_class_of_status(status);
		snprintf(why, sizeof why, "HTTP status %ld", status);
		if (can_retry && retry_allowed(klass, c->o.idempotent))
			return backoff(L, c, why);
		return fail(L, c, klass, "ClientError.HttpStatusCodeError",
		            why, NULL);
	}
	body = http_body(x, &len);
	json_free(c->doc);
	c->doc = json_parse(body, len, why, sizeof why);
	http_xfer_free(c->xfer);
	c->xfer = NULL;
	resp = c->doc ? json_get(c->doc, "Response") : NULL;
	if (!resp || resp->type != JSON_OBJECT)
		return fail(L, c, RETRY_NO, "ClientError.ParseJsonError",
		            c->doc ? "no Response object" : why, NULL);
	rid = str_member(resp, "RequestId");
	error = json_get(resp, "Error");
	if (error && (code = str_member(error, "Code"))) {
		/* The role's session ended early (or the clock is off): the
		 * call was refused before it ran, so it goes again, once,
		 * with credentials assumed anew. */
		if (c->acct && account_has_role(c->acct) && !c->o.guard &&
		    !c->token_retry && !sched_interrupted() &&
		    strcmp(code, "AuthFailure.TokenFailure") == 0) {
			c->token_retry = 1;
			account_expire(c->acct, c->gen);
			json_free(c->doc);
			c->doc = NULL;
			return proceed(L, c);
		}
		klass = retry_class_of_code(code);
		ratelimit_answered(c->rt->rl, c->service, c->action,
		                   klass == RETRY_THROTTLED, c->slot_ms);
		if (can_retry && retry_allowed(klass, c->o.idempotent)) {
			snprintf(why, sizeof why, "%s", code);
			return backoff(L, c, why);
		}
		return fail(L, c, klass, code, str_member(error, "Message"),
		            rid);
	}
	ratelimit_answered(c->rt->rl, c->service, c->action, 0, c->slot_ms);
	journal_call(c, "ok", NULL, NULL, rid);
	sched_on_abandon(c->task, NULL, NULL);
	ljson_push_hiding(L, resp);
	json_free(c->doc);
	c->doc = NULL;
	return 1;
}

/* The account gate's own calls: tc.call(service, action, params, opts)
 * through lua_pcallk, so they rate-limit, retry and raise like any call,
 * and the gate learns how they ended in refresh_k. */
static int refresh_k(lua_State *L, int status, lua_KContext ctx);

static int gate_call(lua_State *L, struct call *c, enum phase phase,
                     const char *action)
{
	struct account *a = c->acct;

	c->phase = phase;
	lua_pushvalue(L, lua_upvalueindex(1));
	lua_pushcclosure(L, lcall_call, 1);
	lua_pushliteral(L, "sts");
	lua_pushstring(L, action);
	lua_newtable(L);
	/* No region: sts takes the run's, which is never empty. */
	lua_createtable(L, 0, 2);
	if (phase == P_ASSUME) {
		/* Signed with the run's credentials (the default account). */
		lua_pushfstring(L, "qcs::cam::uin/%s:roleName/%s", a->uin,
		                a->role);
		lua_setfield(L, -3, "RoleArn");
		lua_pushstring(L, a->session);
		lua_setfield(L, -3, "RoleSessionName");
		lua_pushinteger(L, a->duration);
		lua_setfield(L, -3, "DurationSeconds");
		if (a->external_id[0]) {
			lua_pushstring(L, a->external_id);
			lua_setfield(L, -3, "ExternalId");
		}
	} else {
		/* Under the account's credentials, past its gate. */
		laccount_push(L, a);
		lua_setfield(L, -2, "account");
		lcallopt_push_guard(L);
		lua_pushboolean(L, 1);
		lua_rawset(L, -3);
	}
	return refresh_k(L, lua_pcallk(L, 4, 1, 0, (lua_KContext)c, refresh_k),
	                 (lua_KContext)c);
}

/* This task found the account's credentials missing, near their end or
 * not yet checked: assume the role when it has one, then check. */
static int refresh(lua_State *L, struct call *c)
{
	if (account_stale(c->acct, time(NULL)))
		return gate_call(L, c, P_ASSUME, "AssumeRole");
	return gate_call(L, c, P_GUARD, "GetCallerIdentity");
}

static int refresh_k(lua_State *L, int status, lua_KContext ctx)
{
	struct call *c = (struct call *)ctx;
	struct account *a = c->acct;
	char err[200];

	/* The inner call's hooks were its own: this call's again. */
	sched_on_abandon(c->task, call_abandon, c);
	if (status != LUA_OK && status != LUA_YIELD) {
		/* Its error, said of the account and at the recipe's line,
		 * is this call's, and that of every call that waited for this
		 * refresh; the next call in the account tries again.  A write
		 * this call sent before (then refused: TokenFailure) is
		 * journaled with it. */
		const char *code = NULL, *msg;
		int transient = 0;

		if (lua_istable(L, -1)) {
			lua_getfield(L, -1, "message");
			lua_pushfstring(L, "account %s (%s): %s", a->name, a->uin,
			                luaL_optstring(L, -1, ""));
			lua_setfield(L, -3, "message");
			lua_pop(L, 1);
			lua_pushstring(L, c->where);
			lua_setfield(L, -2, "where");
			lua_getfield(L, -1, "transient");
			transient = lua_toboolean(L, -1);
			lua_pop(L, 1);
			lua_getfield(L, -1, "code");
			code = lua_tostring(L, -1);
			lua_getfield(L, -2, "message");
			msg = lua_tostring(L, -1);
			account_fail_round(a, code, msg, transient);
			journal_call(c, "error", code, msg, NULL);
			lua_pop(L, 2);
		} else {
			msg = lua_tostring(L, -1);
			account_fail_round(a, "ClientError.AssumeRole", msg, 0);
			journal_call(c, "error", "ClientError.AssumeRole", msg, NULL);
		}
		sched_on_abandon(c->task, NULL, NULL);
		return lua_error(L);
	}
	if (c->phase == P_ASSUME) {
		int rc = account_store(L, a, -1, err, sizeof err);

		lua_pop(L, 1);
		if (rc != 0) {
			account_fail_round(a, "ClientError.AssumeRole", err, 0);
			return fail(L, c, RETRY_NO, "ClientError.AssumeRole", err,
			            NULL);
		}
		if (!a->checked)
			return gate_call(L, c, P_GUARD, "GetCallerIdentity");
	} else {
		lua_getfield(L, -1, "AccountId");
		account_verify(a, lua_tostring(L, -1));
		lua_pop(L, 2);
	}
	account_done(a);
	if (a->fail_code[0])
		return fail(L, c, RETRY_NO, a->fail_code, a->fail_msg, NULL);
	/* Fresh and checked: this call goes now, whatever the clock says
	 * (one AssumeRole per call at most). */
	return rate_then_send(L, c);
}

static int tc_call_k(lua_State *L, int status, lua_KContext ctx)
{
	struct call *c = (struct call *)ctx;

	(void)status;
	switch (c->phase) {
	case P_RATE:
		return send_call(L, c);
	case P_BACKOFF:
	case P_ACCOUNT:
		return proceed(L, c);
	default:
		return finish(L, c);
	}
}

/* tc.is_write(action) -> boolean: whether tcrun treats it as a write */
int lcall_is_write(lua_State *L)
{
	lua_pushboolean(L, services_is_write(luaL_checkstring(L, 1)));
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

/* tc.call(service, action [, params [, opts]]) -> Response table.
 * Raises a structured error (lerror.h) for an API error or a failure
 * after the retries; raises usage errors with the recipe's position. */
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
	c->is_write = services_is_write(action);
	luaL_where(L, 1);
	snprintf(c->where, sizeof c->where, "%s", lua_tostring(L, -1));
	lua_pop(L, 1);
	lcallopt_read(L, 4, service, rt, &c->o);
	c->acct = c->o.account ? c->o.account :
	          c->o.use_own ? NULL : rt->default_account;
	if (!c->o.use_own && !(c->acct && account_has_role(c->acct)) &&
	    !rt->creds_ok)
		return fail(L, c, RETRY_NO, "ClientError.NoCredentials",
		            rt->creds_err, NULL);
	if (rt->dry_run && c->is_write)
		return fail(L, c, RETRY_NO, "ClientError.DryRun", "dry run: a "
		            "write call reached tc.call (recipes must plan, "
		            "not call, under --dry-run)", NULL);
	if (c->is_write && !runtime_journal(rt))
		return fail(L, c, RETRY_NO, "ClientError.Journal", "no write "
		            "is sent without a journal to record it", NULL);

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
	c->outer = sched_abandon_data(task, call_abandon);
	sched_on_abandon(task, call_abandon, c);
	return proceed(L, c);
}

void lcall_init(lua_State *L)
{
	lerror_init(L);
	if (luaL_newmetatable(L, CALL_TYPE)) {
		lua_pushcfunction(L, call_gc);
		lua_setfield(L, -2, "__gc");
	}
	lua_pop(L, 1);
}
